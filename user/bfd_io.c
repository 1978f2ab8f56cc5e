// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bfd_io.c - BFD sockets and the transmit thread; see bfd_io.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "bfd_io.h"
#include "tables.h"
#include "log.h"
#include "xh_abi.h"

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void to_sockaddr(const __be32 addr[4], __u8 family, __u16 port,
			struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == XH_FAM_V6) {
		struct sockaddr_in6 *s6 = (void *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, addr, 16);
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (void *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr.s_addr = addr[0];
		*len = sizeof(*s4);
	}
}

static int rx_socket(int af)
{
	struct sockaddr_storage ss;
	__be32 any[4] = {};
	socklen_t len;
	int fd, one = 1;

	fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (af == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
	} else {
		setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	}
	to_sockaddr(any, af == AF_INET6 ? XH_FAM_V6 : XH_FAM_V4, XH_BFD_PORT,
		    &ss, &len);
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void *tx_main(void *arg);

int xh_bfd_io_init(struct xh_bfd_io *io, int rt_prio)
{
	pthread_condattr_t ca;
	pthread_attr_t ta;
	struct sched_param sp = { .sched_priority = rt_prio };
	int err;

	memset(io, 0, sizeof(*io));
	io->rx4 = rx_socket(AF_INET);
	if (io->rx4 < 0) {
		err = io->rx4;
		pr_warn("bfd: cannot listen on UDP %d: %s\n", XH_BFD_PORT,
			strerror(-err));
		return err;
	}
	io->rx6 = rx_socket(AF_INET6);
	if (io->rx6 < 0)
		pr_info("bfd: no IPv6 socket: %s\n", strerror(-io->rx6));
	getrandom(&io->next_disc, sizeof(io->next_disc), 0);
	io->next_disc = (io->next_disc & 0x7fffff00) | 1;
	pthread_mutex_init(&io->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&io->wake, &ca);
	pthread_condattr_destroy(&ca);

	pthread_attr_init(&ta);
	if (rt_prio > 0) {
		pthread_attr_setinheritsched(&ta, PTHREAD_EXPLICIT_SCHED);
		pthread_attr_setschedpolicy(&ta, SCHED_FIFO);
		pthread_attr_setschedparam(&ta, &sp);
	}
	err = pthread_create(&io->tx, &ta, tx_main, io);
	if (err && rt_prio > 0) {
		pr_info("bfd: no real-time priority for the transmit thread "
			"(%s); running it at normal priority\n", strerror(err));
		pthread_attr_setinheritsched(&ta, PTHREAD_INHERIT_SCHED);
		err = pthread_create(&io->tx, &ta, tx_main, io);
	} else if (!err) {
		io->rt = rt_prio > 0;
	}
	pthread_attr_destroy(&ta);
	if (err) {
		pr_warn("bfd: cannot start the transmit thread: %s\n",
			strerror(err));
		close(io->rx4);
		if (io->rx6 >= 0)
			close(io->rx6);
		return -err;
	}
	io->started = true;
	return 0;
}

void xh_bfd_io_fini(struct xh_bfd_io *io)
{
	int i;

	if (io->started) {
		pthread_mutex_lock(&io->lock);
		io->stop = true;
		pthread_cond_signal(&io->wake);
		pthread_mutex_unlock(&io->lock);
		pthread_join(io->tx, NULL);
	}
	for (i = 0; i < XH_BFD_IO_MAX; i++)
		if (io->peers[i].used)
			close(io->peers[i].tx_fd);
	if (io->rx4 >= 0)
		close(io->rx4);
	if (io->rx6 >= 0)
		close(io->rx6);
	memset(io, 0, sizeof(*io));
	io->rx4 = io->rx6 = -1;
}

/* A socket bound to local and a source port in 49152..65535, TTL 255,
 * connected to the peer's port 3784 (RFC 5881 §4). */
static int tx_socket(const __be32 addr[4], __u8 family, const __be32 local[4])
{
	struct sockaddr_storage ss;
	socklen_t len;
	int af = family == XH_FAM_V6 ? AF_INET6 : AF_INET, fd, ttl = 255, i;
	__u32 r;

	fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (af == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl));
	else
		setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	/* Control packets first in the queue when the link is busy. */
	i = 6;
	setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &i, sizeof(i));
	for (i = 0; i < 64; i++) {
		getrandom(&r, sizeof(r), 0);
		to_sockaddr(local, family, XH_BFD_SRC_PORT_MIN +
			    r % (XH_BFD_SRC_PORT_MAX - XH_BFD_SRC_PORT_MIN + 1),
			    &ss, &len);
		if (!bind(fd, (struct sockaddr *)&ss, len))
			break;
		if (errno != EADDRINUSE)
			break;
	}
	to_sockaddr(addr, family, XH_BFD_PORT, &ss, &len);
	if (i == 64 || connect(fd, (struct sockaddr *)&ss, len)) {
		int err = -errno;

		close(fd);
		return err ?: -EADDRINUSE;
	}
	return fd;
}

struct xh_bfd_peer *xh_bfd_io_add(struct xh_bfd_io *io, const __be32 addr[4],
				  __u8 family, const __be32 local[4],
				  const struct xh_bfd_cfg *cfg, void *user)
{
	struct xh_bfd_peer *p = NULL;
	char a[INET6_ADDRSTRLEN];
	int i, fd;

	for (i = 0; i < XH_BFD_IO_MAX; i++)
		if (!io->peers[i].used) {
			p = &io->peers[i];
			break;
		}
	inet_ntop(family == XH_FAM_V6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	if (!p) {
		pr_warn("bfd: no room for a session with %s\n", a);
		return NULL;
	}
	fd = tx_socket(addr, family, local);
	if (fd < 0) {
		pr_warn("bfd: socket for %s: %s\n", a, strerror(-fd));
		return NULL;
	}
	pthread_mutex_lock(&io->lock);
	memset(p, 0, sizeof(*p));
	memcpy(p->addr, addr, 16);
	memcpy(p->local, local, 16);
	p->family = family;
	p->tx_fd = fd;
	p->user = user;
	if (xh_bfd_init(&p->s, io->next_disc++, cfg, now_ns())) {
		pthread_mutex_unlock(&io->lock);
		close(fd);
		return NULL;
	}
	p->used = true;
	pthread_mutex_unlock(&io->lock);
	xh_bfd_io_publish(io, p);
	return p;
}

void xh_bfd_io_del(struct xh_bfd_io *io, struct xh_bfd_peer *p)
{
	pthread_mutex_lock(&io->lock);
	p->used = false;
	p->interval_ns = 0;
	close(p->tx_fd);
	pthread_mutex_unlock(&io->lock);
}

void xh_bfd_io_publish(struct xh_bfd_io *io, struct xh_bfd_peer *p)
{
	__u8 pkt[XH_BFD_CTL_LEN];
	__u64 iv = xh_bfd_tx_interval_ns(&p->s), now = now_ns();

	xh_bfd_build(&p->s, pkt, sizeof(pkt), false);
	pthread_mutex_lock(&io->lock);
	memcpy(p->pkt, pkt, sizeof(pkt));
	/* A faster rate takes effect now, not after the old interval. */
	if (iv && (!p->interval_ns || iv < p->interval_ns ||
		   p->next_tx_ns > now + iv))
		p->next_tx_ns = now;
	p->interval_ns = iv;
	p->mult = p->s.detect_mult;
	pthread_cond_signal(&io->wake);
	pthread_mutex_unlock(&io->lock);
}

int xh_bfd_io_send_now(struct xh_bfd_io *io, struct xh_bfd_peer *p,
		       bool final)
{
	__u8 pkt[XH_BFD_CTL_LEN];
	int n = xh_bfd_build(&p->s, pkt, sizeof(pkt), final);

	(void)io;
	if (n < 0)
		return n;
	return send(p->tx_fd, pkt, n, MSG_DONTWAIT) < 0 ? -errno : 0;
}

static void *tx_main(void *arg)
{
	struct xh_bfd_io *io = arg;
	struct timespec ts;
	__u64 now, next, late;
	__u32 rnd;
	int i;

	pthread_mutex_lock(&io->lock);
	while (!io->stop) {
		now = now_ns();
		next = now + 1000000000ULL;
		for (i = 0; i < XH_BFD_IO_MAX; i++) {
			struct xh_bfd_peer *p = &io->peers[i];

			if (!p->used || !p->interval_ns)
				continue;
			if (p->next_tx_ns <= now) {
				late = now - p->next_tx_ns;
				if (p->tx_count && late > p->interval_ns / 4)
					p->tx_late++;
				if (p->tx_count && late > p->tx_max_late_ns)
					p->tx_max_late_ns = late;
				send(p->tx_fd, p->pkt, sizeof(p->pkt), MSG_DONTWAIT);
				p->tx_count++;
				getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK);
				/* The next deadline counts from the last one,
				 * not from now: lateness does not accumulate.
				 * After a long stall, start afresh. */
				p->next_tx_ns += xh_bfd_jitter_ns(p->interval_ns,
								  p->mult, rnd);
				if (p->next_tx_ns < now)
					p->next_tx_ns = now + xh_bfd_jitter_ns(
						p->interval_ns, p->mult, rnd);
			}
			if (p->next_tx_ns < next)
				next = p->next_tx_ns;
		}
		ts.tv_sec = next / 1000000000ULL;
		ts.tv_nsec = next % 1000000000ULL;
		pthread_cond_timedwait(&io->wake, &io->lock, &ts);
	}
	pthread_mutex_unlock(&io->lock);
	return NULL;
}

static struct xh_bfd_peer *find_peer(struct xh_bfd_io *io, __u32 your_disc,
				     const __be32 src[4], __u8 family)
{
	int i;

	for (i = 0; i < XH_BFD_IO_MAX; i++) {
		struct xh_bfd_peer *p = &io->peers[i];

		if (!p->used || p->family != family ||
		    memcmp(p->addr, src, family == XH_FAM_V6 ? 16 : 4))
			continue;
		if (!your_disc || your_disc == p->s.local_disc)
			return p;
	}
	return NULL;
}

int xh_bfd_io_recv(struct xh_bfd_io *io, int fd, xh_bfd_rx_cb cb, void *arg)
{
	union {
		char buf[CMSG_SPACE(sizeof(int)) * 2];
		struct cmsghdr align;
	} ctl;
	struct sockaddr_storage from;
	struct xh_bfd_event ev;
	struct cmsghdr *c;
	struct msghdr mh;
	struct iovec iov;
	__u8 pkt[128];
	__be32 src[4];
	__u32 your;
	__u8 fam;
	int n = 0, ttl;
	ssize_t len;

	for (;;) {
		iov.iov_base = pkt;
		iov.iov_len = sizeof(pkt);
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &from;
		mh.msg_namelen = sizeof(from);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		len = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (len < 0)
			break;
		n++;
		ttl = -1;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
			    (c->cmsg_level == IPPROTO_IPV6 &&
			     c->cmsg_type == IPV6_HOPLIMIT))
				memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
		memset(src, 0, sizeof(src));
		if (from.ss_family == AF_INET6) {
			memcpy(src, &((struct sockaddr_in6 *)&from)->sin6_addr, 16);
			fam = XH_FAM_V6;
		} else {
			src[0] = ((struct sockaddr_in *)&from)->sin_addr.s_addr;
			fam = XH_FAM_V4;
		}
		if (len < XH_BFD_CTL_LEN) {
			io->rx_bad[XH_BFD_RX_SHORT]++;
			continue;
		}
		memcpy(&your, pkt + 8, 4);
		your = ntohl(your);
		struct xh_bfd_peer *p = find_peer(io, your, src, fam);

		if (!p) {
			io->rx_unknown++;
			continue;
		}
		if (xh_bfd_rx(&p->s, pkt, len, ttl < 0 ? 0 : ttl, now_ns(), &ev)) {
			if (ev.reason < XH_BFD_RX_REASON_MAX)
				io->rx_bad[ev.reason]++;
			if (ev.reason != XH_BFD_RX_ADMIN_DOWN)
				continue;
		}
		if (ev.need_final)
			xh_bfd_io_send_now(io, p, true);
		if (ev.state_changed || ev.timers_changed || ev.poll_done)
			xh_bfd_io_publish(io, p);
		/* A state change is news for the peer too: say it now rather
		 * than at the next (possibly 1 s slow-start) tick. */
		if (ev.state_changed)
			xh_bfd_io_send_now(io, p, false);
		if (cb)
			cb(io, p, &ev, arg);
	}
	return n;
}

/* --- kernel assist ---------------------------------------------------------- */

void xh_bfd_kernel_sync(struct xh_bfd_kernel *k, struct xh_bfd_peer *p)
{
	struct xh_bfd_sess ks = { .family = p->family, .backend = k->tag };
	struct xh_bfd_ctl img;
	__u32 disc = p->s.local_disc;

	if (!xh_bfd_steady_image(&p->s, &img)) {
		if (k->in_kernel)
			bpf_map_delete_elem(k->map_fd, &disc);
		k->in_kernel = false;
		return;
	}
	if (k->in_kernel && !memcmp(&img, &k->image, sizeof(img)))
		return;
	memcpy(ks.expect, &img, sizeof(img));
	memcpy(ks.peer, p->addr, 16);
	if (!bpf_map_update_elem(k->map_fd, &disc, &ks, BPF_ANY)) {
		k->in_kernel = true;
		k->image = img;
	}
}

void xh_bfd_kernel_touch(struct xh_bfd_kernel *k, struct xh_bfd_peer *p)
{
	struct xh_bfd_sess ks;
	__u32 disc = p->s.local_disc;

	if (k->in_kernel && !bpf_map_lookup_elem(k->map_fd, &disc, &ks))
		xh_bfd_touch(&p->s, ks.rx_last_ns);
}

int xh_bfd_kernel_adopt(struct xh_bfd_io *io, struct xh_bfd_kernel *k,
			struct xh_bfd_peer *p)
{
	__u32 key, next, *prev = NULL;
	struct xh_bfd_sess old;

	while (!bpf_map_get_next_key(k->map_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(k->map_fd, &key, &old) ||
		    old.family != p->family || memcmp(old.peer, p->addr, 16))
			continue;
		pthread_mutex_lock(&io->lock);
		p->s.local_disc = key;
		pthread_mutex_unlock(&io->lock);
		xh_bfd_adopt(&p->s, (struct xh_bfd_ctl *)old.expect,
			     old.rx_last_ns, xh_now_ns());
		k->in_kernel = true;
		memcpy(&k->image, old.expect, sizeof(k->image));
		xh_bfd_io_publish(io, p);
		return 0;
	}
	return -ENOENT;
}

int xh_bfd_io_slow_down(struct xh_bfd_io *io, __u32 grace_ms, __u32 rx_us,
			int *unconfirmed)
{
	struct xh_bfd_event ev;
	__u64 until = xh_now_ns() + 300000000ULL;
	int i, n = 0, pending;

	for (i = 0; i < XH_BFD_IO_MAX; i++) {
		struct xh_bfd_peer *p = &io->peers[i];

		if (!p->used || p->s.state != XH_BFD_UP)
			continue;
		xh_bfd_set_timers(&p->s, grace_ms * 1000, rx_us, &ev);
		xh_bfd_io_publish(io, p);
		xh_bfd_io_send_now(io, p, false);
		n++;
	}
	do {
		usleep(1000);
		xh_bfd_io_recv(io, io->rx4, NULL, NULL);
		if (io->rx6 >= 0)
			xh_bfd_io_recv(io, io->rx6, NULL, NULL);
		for (i = 0, pending = 0; i < XH_BFD_IO_MAX; i++)
			if (io->peers[i].used && io->peers[i].s.poll)
				pending++;
	} while (n && pending && xh_now_ns() < until);
	*unconfirmed = pending;
	return n;
}
