// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xport_udp.c - the mirror transport over a plain UDP socket: bound to
 * the local address and port on the member interface, sendmmsg() and
 * recvmmsg() in batches. The baseline the AF_XDP transport is measured
 * against, and the fallback where AF_XDP is not available.
 *
 * The socket is connected to the peer: the kernel then keeps the route
 * instead of looking it up per datagram (about 18 % more frames per
 * second here), and drops datagrams from anyone else, uncounted here.
 * XH_XPORT_F_UDP_ANY leaves it unconnected, so recv() sees every sender
 * as with AF_XDP. A connected socket learns of ICMP errors (the peer's
 * port closed): each costs one send or recv call, counted in tx_errors.
 * Don't fragment: a payload over the MTU's room is refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>
#include "log.h"
#include "svc.h"
#include "xh_abi.h"
#include "xport_impl.h"

#define SOCK_BUF	(4 << 20)

union xh_sa {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

struct udpx {
	struct xh_xport xp;
	struct mmsghdr *shdr, *rhdr;
	struct iovec *riov;
	union xh_sa peer, *rsa;
	__u8 *rbuf;
	unsigned int rbuf_len;	/* per datagram */
};

static struct udpx *udp_of(struct xh_xport *x)
{
	return (struct udpx *)x;
}

static socklen_t sa_set(union xh_sa *s, const __be32 addr[4], __u8 family,
			__u16 port)
{
	memset(s, 0, sizeof(*s));
	if (family == XH_FAM_V6) {
		s->v6.sin6_family = AF_INET6;
		s->v6.sin6_port = htons(port);
		memcpy(&s->v6.sin6_addr, addr, 16);
		return sizeof(s->v6);
	}
	s->v4.sin_family = AF_INET;
	s->v4.sin_port = htons(port);
	s->v4.sin_addr.s_addr = addr[0];
	return sizeof(s->v4);
}

static int udp_send(struct xh_xport *x, const struct iovec *v, unsigned int n)
{
	struct udpx *u = udp_of(x);
	unsigned int fit = xh_xport_fit(x, v, n), done = 0, k, i;
	int r, refused = 0;

	if (n && !fit)
		return -EMSGSIZE;
	while (done < fit) {
		k = fit - done < x->c.batch ? fit - done : x->c.batch;
		for (i = 0; i < k; i++)
			u->shdr[i].msg_hdr.msg_iov = (struct iovec *)&v[done + i];
		x->st.tx_kicks++;
		r = sendmmsg(x->fd, u->shdr, k, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNREFUSED && !refused++) {
				x->st.tx_errors++;	/* reported once */
				continue;
			}
			if (errno == EAGAIN || errno == ENOBUFS)
				break;
			x->st.tx_errors++;
			if (!done)
				return -errno;
			break;
		}
		for (i = 0; i < (unsigned int)r; i++)
			x->st.tx_bytes += v[done + i].iov_len;
		x->st.tx_frames += r;
		done += r;
		if ((unsigned int)r < k)
			break;
	}
	x->st.tx_full += fit - done;
	return done;
}

static int udp_recv(struct xh_xport *x, struct xh_xport_msg *m,
		    unsigned int max)
{
	struct udpx *u = udp_of(x);
	unsigned int i, got = 0;
	int r;

	if (max > x->c.batch)
		max = x->c.batch;
	for (i = 0; i < max; i++)
		u->rhdr[i].msg_hdr.msg_namelen = sizeof(u->rsa[i]);
	r = recvmmsg(x->fd, u->rhdr, max, MSG_DONTWAIT, NULL);
	if (r < 0 && errno == ECONNREFUSED) {
		x->st.tx_errors++;
		r = recvmmsg(x->fd, u->rhdr, max, MSG_DONTWAIT, NULL);
	}
	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	for (i = 0; i < (unsigned int)r; i++) {
		const union xh_sa *s = &u->rsa[i];
		struct xh_xport_msg *o = &m[got];

		if (u->rhdr[i].msg_hdr.msg_flags & MSG_TRUNC) {
			x->st.rx_drop[XH_XPORT_DROP_LONG]++;
			continue;
		}
		o->data = u->riov[i].iov_base;
		o->len = u->rhdr[i].msg_len;
		memset(o->addr, 0, sizeof(o->addr));
		if (s->sa.sa_family == AF_INET6) {
			o->family = XH_FAM_V6;
			o->port = ntohs(s->v6.sin6_port);
			memcpy(o->addr, &s->v6.sin6_addr, 16);
		} else {
			o->family = XH_FAM_V4;
			o->port = ntohs(s->v4.sin_port);
			o->addr[0] = s->v4.sin_addr.s_addr;
		}
		x->st.rx_bytes += o->len;
		got++;
	}
	x->st.rx_frames += got;
	return got;
}

static void udp_kstats(struct xh_xport *x, struct xh_xport_stats *st)
{
	__u32 mem[SK_MEMINFO_VARS] = {};
	socklen_t len = sizeof(mem);

	if (!getsockopt(x->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) &&
	    len > SK_MEMINFO_DROPS * sizeof(__u32))
		st->k_rx_dropped = mem[SK_MEMINFO_DROPS];
}

static void udp_close(struct xh_xport *x)
{
	struct udpx *u = udp_of(x);

	if (x->fd >= 0)
		close(x->fd);
	free(u->shdr);
	free(u->rhdr);
	free(u->riov);
	free(u->rsa);
	free(u->rbuf);
	free(u);
}

static const struct xh_xport_ops udp_ops = {
	.send = udp_send,
	.recv = udp_recv,
	.kstats = udp_kstats,
	.close = udp_close,
};

/* Large buffers, as a tuned UDP baseline has: root may exceed rmem_max. */
static void sock_bufs(int fd)
{
	int v = SOCK_BUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

static int udp_socket(struct udpx *u)
{
	struct xh_xport *x = &u->xp;
	const struct xh_xport_cfg *c = &x->c;
	bool v6 = c->family == XH_FAM_V6;
	char buf[INET6_ADDRSTRLEN];
	int one = 1, pmtu, err;
	const char *what;
	union xh_sa sa;
	socklen_t len;

	what = "socket";
	x->fd = socket(v6 ? AF_INET6 : AF_INET,
		       SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->fd < 0)
		goto fail;
	what = "IPV6_V6ONLY";
	if (v6 && setsockopt(x->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			     sizeof(one)))
		goto fail;
	/* never fragment: the MTU's room is the largest payload */
	what = "path MTU discovery";
	pmtu = v6 ? IPV6_PMTUDISC_DO : IP_PMTUDISC_DO;
	if (setsockopt(x->fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
		       v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER, &pmtu,
		       sizeof(pmtu)))
		goto fail;
	what = "SO_BINDTODEVICE";
	if (setsockopt(x->fd, SOL_SOCKET, SO_BINDTODEVICE, x->ifname,
		       strlen(x->ifname)))
		goto fail;
	sock_bufs(x->fd);
	len = sa_set(&sa, c->local, c->family, c->port);
	what = "bind";
	if (bind(x->fd, &sa.sa, len))
		goto fail;
	if (!(c->flags & XH_XPORT_F_UDP_ANY)) {
		what = "connect";
		len = sa_set(&sa, c->peer, c->family, c->peer_port);
		if (connect(x->fd, &sa.sa, len))
			goto fail;
	}
	return 0;
fail:
	err = -errno;
	xh_addr_format(c->local, c->family, buf, sizeof(buf));
	pr_warn("mirror transport: UDP %s port %u on %s: %s: %s%s\n",
		buf, c->port, x->ifname, what, strerror(-err),
		err == -EADDRNOTAVAIL ? " (the address is not on the device)" :
		err == -EADDRINUSE ? " (another mirror running?)" : "");
	return err;
}

int xh_xport_open_udp(const struct xh_xport_cfg *c, struct xh_xport **out)
{
	unsigned int b, i;
	socklen_t plen;
	struct udpx *u;
	int err;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->xp.ops = &udp_ops;
	u->xp.mode = "udp";
	err = xh_xport_init(&u->xp, c);
	if (err)
		goto fail;
	b = u->xp.c.batch;
	/* one byte over the largest payload, so an oversize datagram shows
	 * as truncated */
	u->rbuf_len = (u->xp.max_payload + 64) & ~63U;
	u->shdr = calloc(b, sizeof(*u->shdr));
	u->rhdr = calloc(b, sizeof(*u->rhdr));
	u->riov = calloc(b, sizeof(*u->riov));
	u->rsa = calloc(b, sizeof(*u->rsa));
	u->rbuf = malloc((size_t)b * u->rbuf_len);
	if (!u->shdr || !u->rhdr || !u->riov || !u->rsa || !u->rbuf) {
		err = -ENOMEM;
		goto fail;
	}
	plen = sa_set(&u->peer, u->xp.c.peer, u->xp.c.family,
		      u->xp.c.peer_port);
	for (i = 0; i < b; i++) {
		if (u->xp.c.flags & XH_XPORT_F_UDP_ANY) {
			u->shdr[i].msg_hdr.msg_name = &u->peer;
			u->shdr[i].msg_hdr.msg_namelen = plen;
		}
		u->shdr[i].msg_hdr.msg_iovlen = 1;
		u->riov[i].iov_base = u->rbuf + (size_t)i * u->rbuf_len;
		u->riov[i].iov_len = u->rbuf_len;
		u->rhdr[i].msg_hdr.msg_iov = &u->riov[i];
		u->rhdr[i].msg_hdr.msg_iovlen = 1;
		u->rhdr[i].msg_hdr.msg_name = &u->rsa[i];
	}
	err = udp_socket(u);
	if (err)
		goto fail;
	*out = &u->xp;
	return 0;
fail:
	udp_close(&u->xp);
	return err;
}
