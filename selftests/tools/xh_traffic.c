// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xh_traffic.c - xh-traffic, the traffic of the end-to-end tests.
 *
 * The tests in selftests/net run a client in one namespace that talks to a
 * virtual IP, and backends in others that hold the VIP on their loopback
 * and answer from it (direct server return). They kill backends and read
 * what the client saw from its JSON report:
 *
 *   udp-echo    UDP responder: replies from the address the request was
 *               sent to and stamps its id into the payload
 *   udp-client  paced UDP flows: loss, outage windows, responder switches
 *   tcp-server  line protocol, "PING <seq>\n" -> "PONG <seq> <id>\n"
 *   tcp-client  many long-lived connections: which broke, when and why
 *
 * Each command is an entry of cmds[] with its own options; main() only
 * dispatches. Exit status: 0 ok, 1 runtime error, 2 usage error. Each
 * process is one epoll loop that also reads its signals from a signalfd,
 * except that udp-client paces its sends from a thread of its own, so
 * receiving never delays a send and sending never delays a receive
 * timestamp.
 *
 * The tool only talks to the addresses it is given. JSON is output only and
 * written by hand: every string is escaped, bytes outside printable ASCII
 * as \u00XX, so even a garbled responder id yields valid JSON.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define pr_err(fmt, ...)	fprintf(stderr, "xh-traffic: " fmt "\n", ##__VA_ARGS__)
#define pr_info(fmt, ...)	fprintf(stderr, fmt "\n", ##__VA_ARGS__)

#define NSEC_PER_SEC	1000000000ULL
#define NSEC_PER_MSEC	1000000ULL
#define PROGRESS_NS	(100 * NSEC_PER_MSEC)	/* --progress-file period */

#define EXIT_USAGE	2

/*
 * The UDP payload. The client fills everything but id; the responder writes
 * its id and sends the datagram back unchanged otherwise. Integers are big
 * endian. A client may send more bytes (--size); they are echoed as is.
 */
#define XH_MAGIC	0x58485431U	/* "XHT1" */
#define XH_ID_LEN	32		/* id and its NUL */

struct xh_udp_msg {
	uint32_t magic;
	uint32_t flow;		/* flow index of the client */
	uint64_t seq;		/* per-flow sequence number from 0 */
	uint64_t send_ns;	/* CLOCK_MONOTONIC of the client at send */
	char id[XH_ID_LEN];	/* responder id, NUL padded */
};
_Static_assert(sizeof(struct xh_udp_msg) == 56, "UDP payload layout");

#define UDP_BUF		9216	/* largest datagram handled, jumbo frame */

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static uint64_t unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / NSEC_PER_MSEC;
}

static double ns_ms(uint64_t ns)
{
	return ns / 1e6;
}

/* epoll timeout until @deadline, rounded up so that a wake-up is never
 * early and the loop never spins on a timer that is not yet due. */
static int timeout_ms(uint64_t now, uint64_t deadline)
{
	uint64_t ms;

	if (deadline <= now)
		return 0;
	ms = (deadline - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
	return ms > 1000 ? 1000 : (int)ms;
}

static const char *errname(int err)
{
	const char *s = strerrorname_np(err);

	return s ? s : "EUNKNOWN";
}

static const char *signame(int sig)
{
	static char buf[16];
	const char *s = sigabbrev_np(sig);

	snprintf(buf, sizeof(buf), "SIG%s", s ? s : "?");
	return buf;
}

static int parse_uint(const char *s, unsigned long long min,
		      unsigned long long max, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A duration in seconds, fractions allowed: "2", "0.5". */
static int parse_sec(const char *s, uint64_t *ns)
{
	double v;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v <= 0 || v > 1e7)
		return -EINVAL;
	*ns = (uint64_t)llround(v * 1e9);
	return *ns ? 0 : -EINVAL;
}

/* Ids travel in a space separated line protocol: printable, no blanks. */
static int id_set(char dst[XH_ID_LEN], const char *src)
{
	size_t i, n = strlen(src);

	if (!n || n >= XH_ID_LEN)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if ((unsigned char)src[i] <= ' ' || (unsigned char)src[i] >= 0x7f)
			return -EINVAL;
	memset(dst, 0, XH_ID_LEN);
	memcpy(dst, src, n);
	return 0;
}

static void id_default(char dst[XH_ID_LEN])
{
	char host[256] = "";

	if (gethostname(host, sizeof(host) - 1) || id_set(dst, host)) {
		host[XH_ID_LEN - 1] = '\0';
		if (id_set(dst, host))
			id_set(dst, "unknown");
	}
}

/* A table of ids seen (responders, backends, error reasons), so that the
 * hot paths count into arrays. Past XH_MAX_IDS - 1 distinct names, the
 * rest share one "(other)" slot. */
#define XH_MAX_IDS	128

struct idtab {
	unsigned int n;
	bool full;
	char name[XH_MAX_IDS][XH_ID_LEN];
};

static unsigned int id_intern(struct idtab *t, const char *id)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->name[i], id))
			return i;
	if (t->full)
		return t->n - 1;
	if (t->n == XH_MAX_IDS - 1) {
		t->full = true;
		id = "(other)";
	}
	snprintf(t->name[t->n], XH_ID_LEN, "%s", id);
	return t->n++;
}

/* Raise RLIMIT_NOFILE to the hard limit, and the hard limit to @need when
 * we may (root). Returns the soft limit in force afterwards. */
static uint64_t nofile_raise(uint64_t need)
{
	struct rlimit rl, want;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 1024;
	if (rl.rlim_max != RLIM_INFINITY && need > rl.rlim_max) {
		want.rlim_cur = want.rlim_max = need;
		if (!setrlimit(RLIMIT_NOFILE, &want))
			return need;
	}
	want = rl;
	want.rlim_cur = rl.rlim_max;
	if (!setrlimit(RLIMIT_NOFILE, &want))
		return want.rlim_cur;
	return rl.rlim_cur;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len) {
		w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += w;
		len -= w;
	}
	return 0;
}

/* Replace @path in one step, so a test polling it never reads half a file. */
static int write_file_atomic(const char *path, const char *buf, size_t len)
{
	char tmp[PATH_MAX];
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	err = write_all(fd, buf, len);
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* "-" is stdout, anything else a file replaced atomically. */
static int output_write(const char *path, const char *buf, size_t len)
{
	int err;

	if (strcmp(path, "-")) {
		err = write_file_atomic(path, buf, len);
		if (err)
			pr_err("cannot write %s: %s", path, strerror(-err));
		return err;
	}
	if (fwrite(buf, 1, len, stdout) != len || fflush(stdout)) {
		err = -(errno ? errno : EIO);
		pr_err("cannot write the report to stdout: %s", strerror(-err));
		return err;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Addresses                                                           */
/* ------------------------------------------------------------------ */

struct xaddr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* A numeric IPv4 or IPv6 address, "[v6]" and "fe80::1%eth0" accepted. */
static int addr_parse(const char *str, uint16_t port, struct xaddr *a)
{
	struct addrinfo hints = {
		.ai_flags = AI_NUMERICHOST,
		.ai_socktype = SOCK_DGRAM,
	};
	struct addrinfo *res;
	char host[128];
	size_t n = strlen(str);

	if (n >= 2 && str[0] == '[' && str[n - 1] == ']') {
		str++;
		n -= 2;
	}
	if (!n || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, str, n);
	host[n] = '\0';
	if (getaddrinfo(host, NULL, &hints, &res))
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
	return 0;
}

static void addr_wildcard(int family, uint16_t port, struct xaddr *a)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;

	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		a->len = sizeof(*s4);
	} else {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		a->len = sizeof(*s6);
	}
}

/* "192.0.2.1:80" or "[2001:db8::1]:80" */
static void addr_str(const struct xaddr *a, char *buf, size_t len)
{
	char host[NI_MAXHOST] = "?", serv[NI_MAXSERV] = "?";

	getnameinfo((const struct sockaddr *)&a->ss, a->len, host, sizeof(host),
		    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(buf, len, a->ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
		 host, serv);
}

/* Same family, address and port; the scope and flow label do not matter. */
static bool addr_same(const struct sockaddr_storage *x, const struct xaddr *y)
{
	const struct sockaddr_in *a4 = (const void *)x, *b4 = (const void *)&y->ss;
	const struct sockaddr_in6 *a6 = (const void *)x, *b6 = (const void *)&y->ss;

	if (x->ss_family != y->ss.ss_family)
		return false;
	if (x->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	       !memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr));
}

static int sock_bufs(int fd, int bytes)
{
	/* FORCE works for root and goes past rmem_max; else take what we get */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
	return 0;
}

/* One bound socket; a TCP one also listens. */
static int sock_listen(int type, const struct xaddr *a)
{
	int fd, err, one = 1;

	fd = socket(a->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* the wildcard pair must not collide on the port; v4 goes to v4 */
	if (a->ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
		goto fail;
	if (type == SOCK_STREAM &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		goto fail;
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len))
		goto fail;
	if (type == SOCK_STREAM && listen(fd, 4096))
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

/*
 * The server sockets: one on --bind, else one per family on the wildcard.
 * A family the namespace lacks (IPv6 disabled) is skipped quietly.
 */
static int listen_open(int type, const char *bind_str, uint16_t port,
		       int fds[2], unsigned int *nfds)
{
	const char *proto = type == SOCK_STREAM ? "tcp" : "udp";
	static const int fams[2] = { AF_INET, AF_INET6 };
	char buf[INET6_ADDRSTRLEN + 16];
	struct xaddr a;
	unsigned int i;
	int fd, err = 0;

	*nfds = 0;
	if (bind_str) {
		if (addr_parse(bind_str, port, &a)) {
			pr_err("invalid --bind '%s': expected an IPv4 or IPv6 address",
			       bind_str);
			return -EINVAL;
		}
		fd = sock_listen(type, &a);
		if (fd < 0) {
			addr_str(&a, buf, sizeof(buf));
			pr_err("cannot bind %s %s: %s%s", proto, buf, strerror(-fd),
			       fd == -EADDRNOTAVAIL ?
			       " (is the address configured in this namespace?)" : "");
			return fd;
		}
		fds[(*nfds)++] = fd;
		return 0;
	}
	for (i = 0; i < 2; i++) {
		addr_wildcard(fams[i], port, &a);
		fd = sock_listen(type, &a);
		if (fd >= 0) {
			fds[(*nfds)++] = fd;
			continue;
		}
		if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL) {
			if (!err)
				err = fd;
			continue;
		}
		err = fd;
		addr_str(&a, buf, sizeof(buf));
		pr_err("cannot bind %s %s: %s%s", proto, buf, strerror(-fd),
		       fd == -EADDRINUSE ? " (another server on this port?)" : "");
		goto fail;
	}
	if (*nfds)
		return 0;
	pr_err("cannot bind %s port %u in any address family: %s", proto, port,
	       strerror(-err));
fail:
	for (i = 0; i < *nfds; i++)
		close(fds[i]);
	*nfds = 0;
	return err ? err : -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Signals                                                             */
/* ------------------------------------------------------------------ */

/* Block the stop signals (threads created later inherit the mask) and
 * return a signalfd for the epoll loop. */
static int signals_open(void)
{
	sigset_t set;
	int fd, err;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	err = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (err) {
		pr_err("cannot block signals: %s", strerror(err));
		return -err;
	}
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("signalfd: %s", strerror(-err));
		return err;
	}
	return fd;
}

/* The next pending signal, 0 if none. */
static int signal_next(int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

static int epoll_add(int epfd, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* ------------------------------------------------------------------ */
/* JSON writer                                                         */
/* ------------------------------------------------------------------ */

/*
 * Two spaces of indent per level; a container opened "inline" keeps itself
 * and everything inside on one line, which keeps lists of small records
 * (outages, switches) readable.
 */
#define JW_MAX_DEPTH	8

struct jw {
	FILE *f;
	int depth;
	int inl;	/* depth of the outermost one-line container, 0: none */
	bool first[JW_MAX_DEPTH + 1];
};

static void jw_quote(FILE *f, const char *s)
{
	unsigned char c;

	fputc('"', f);
	for (; (c = *s); s++) {
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static bool jw_inline(const struct jw *w)
{
	return w->inl && w->depth >= w->inl;
}

static void jw_key(struct jw *w, const char *key)
{
	bool first;

	if (w->depth) {
		first = w->first[w->depth];
		w->first[w->depth] = false;
		if (!first)
			fputc(',', w->f);
		if (jw_inline(w)) {
			if (!first)
				fputc(' ', w->f);
		} else {
			fprintf(w->f, "\n%*s", 2 * w->depth, "");
		}
	}
	if (key) {
		jw_quote(w->f, key);
		fputs(": ", w->f);
	}
}

static void jw_open(struct jw *w, const char *key, char c, bool inl)
{
	jw_key(w, key);
	fputc(c, w->f);
	if (w->depth < JW_MAX_DEPTH)
		w->depth++;
	w->first[w->depth] = true;
	if (inl && !w->inl)
		w->inl = w->depth;
}

static void jw_close(struct jw *w, char c)
{
	bool empty = w->first[w->depth], inl = jw_inline(w);

	if (w->inl == w->depth)
		w->inl = 0;
	w->depth--;
	if (!empty && !inl)
		fprintf(w->f, "\n%*s", 2 * w->depth, "");
	fputc(c, w->f);
	if (!w->depth)
		fputc('\n', w->f);
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	fprintf(w->f, "%" PRIu64, v);
}

static void jw_ms(struct jw *w, const char *key, double ms)
{
	jw_key(w, key);
	fprintf(w->f, "%.3f", ms);
}

static void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	if (s)
		jw_quote(w->f, s);
	else
		fputs("null", w->f);
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	fputs(v ? "true" : "false", w->f);
}

/* {name: count} over an idtab, entries with a zero count left out. */
static void jw_counts(struct jw *w, const char *key, const struct idtab *t,
		      const uint64_t *cnt)
{
	unsigned int i;

	jw_open(w, key, '{', true);
	for (i = 0; i < t->n; i++)
		if (cnt[i])
			jw_u64(w, t->name[i], cnt[i]);
	jw_close(w, '}');
}

/* ------------------------------------------------------------------ */
/* udp-echo                                                            */
/* ------------------------------------------------------------------ */

#define ECHO_BATCH	64

union ctlbuf {
	struct cmsghdr h;
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		 CMSG_SPACE(sizeof(struct in_pktinfo))];
};

struct echo {
	char id[XH_ID_LEN];
	uint64_t rx, tx, tx_err, rx_err, trunc;
	struct mmsghdr rx_msg[ECHO_BATCH], tx_msg[ECHO_BATCH];
	struct iovec rx_iov[ECHO_BATCH], tx_iov[ECHO_BATCH];
	struct sockaddr_storage peer[ECHO_BATCH];
	union ctlbuf rx_ctl[ECHO_BATCH], tx_ctl[ECHO_BATCH];
	char buf[ECHO_BATCH][UDP_BUF];
};

/*
 * The control message that makes the reply leave from the address the
 * request was sent to, whatever address the socket is bound to: that is
 * the VIP under direct server return, and a reply from any other address
 * would not match the client's flow.
 */
static size_t echo_reply_ctl(struct msghdr *rx, union ctlbuf *out)
{
	struct cmsghdr *c, *o = &out->h;

	memset(out, 0, sizeof(*out));
	for (c = CMSG_FIRSTHDR(rx); c; c = CMSG_NXTHDR(rx, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo in, pi = {};

			/* spec_dst is the header destination for unicast and
			 * the interface address for broadcast/multicast */
			memcpy(&in, CMSG_DATA(c), sizeof(in));
			pi.ipi_spec_dst = in.ipi_spec_dst;
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo in, pi = {};
			bool mc;

			memcpy(&in, CMSG_DATA(c), sizeof(in));
			mc = IN6_IS_ADDR_MULTICAST(&in.ipi6_addr);
			if (!mc)
				pi.ipi6_addr = in.ipi6_addr;
			/* pin the interface only where the address needs it;
			 * a VIP reply follows the routing table */
			if (mc || IN6_IS_ADDR_LINKLOCAL(&in.ipi6_addr))
				pi.ipi6_ifindex = in.ipi6_ifindex;
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
	}
	return 0;
}

static void echo_stamp(const struct echo *e, char *buf, size_t len)
{
	uint32_t magic;

	if (len < sizeof(struct xh_udp_msg))
		return;
	memcpy(&magic, buf + offsetof(struct xh_udp_msg, magic), sizeof(magic));
	if (be32toh(magic) != XH_MAGIC)
		return;
	memcpy(buf + offsetof(struct xh_udp_msg, id), e->id, XH_ID_LEN);
}

/* Receive and answer in batches until the socket is empty, but give the
 * other socket a turn after a few batches. */
static void echo_drain(struct echo *e, int fd)
{
	struct msghdr *h, *t;
	size_t ctl;
	int i, n, m, r, off, round;

	for (round = 0; round < 8; round++) {
		for (i = 0; i < ECHO_BATCH; i++) {
			h = &e->rx_msg[i].msg_hdr;
			e->rx_iov[i].iov_base = e->buf[i];
			e->rx_iov[i].iov_len = UDP_BUF;
			h->msg_name = &e->peer[i];
			h->msg_namelen = sizeof(e->peer[i]);
			h->msg_iov = &e->rx_iov[i];
			h->msg_iovlen = 1;
			h->msg_control = e->rx_ctl[i].buf;
			h->msg_controllen = sizeof(e->rx_ctl[i].buf);
			h->msg_flags = 0;
		}
		n = recvmmsg(fd, e->rx_msg, ECHO_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				e->rx_err++;
			return;
		}
		for (i = 0, m = 0; i < n; i++) {
			h = &e->rx_msg[i].msg_hdr;
			e->rx++;
			if (h->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
				e->trunc++;
				continue;
			}
			echo_stamp(e, e->buf[i], e->rx_msg[i].msg_len);
			t = &e->tx_msg[m].msg_hdr;
			memset(t, 0, sizeof(*t));
			e->tx_iov[m].iov_base = e->buf[i];
			e->tx_iov[m].iov_len = e->rx_msg[i].msg_len;
			t->msg_name = &e->peer[i];
			t->msg_namelen = h->msg_namelen;
			t->msg_iov = &e->tx_iov[m];
			t->msg_iovlen = 1;
			ctl = echo_reply_ctl(h, &e->tx_ctl[m]);
			if (ctl) {
				t->msg_control = e->tx_ctl[m].buf;
				t->msg_controllen = ctl;
			}
			m++;
		}
		/* a datagram the kernel refuses is dropped, not retried */
		for (off = 0; off < m;) {
			r = sendmmsg(fd, e->tx_msg + off, m - off,
				     MSG_DONTWAIT | MSG_NOSIGNAL);
			if (r <= 0) {
				if (r < 0 && errno == EINTR)
					continue;
				e->tx_err++;
				off++;
				continue;
			}
			e->tx += r;
			off += r;
		}
		if (n < ECHO_BATCH)
			return;
	}
}

static void echo_stats(const struct echo *e)
{
	pr_info("udp-echo %s: received %" PRIu64 ", sent %" PRIu64
		", send errors %" PRIu64 ", truncated %" PRIu64, e->id, e->rx,
		e->tx, e->tx_err, e->trunc);
}

static int echo_run(struct echo *e, const char *bind_str, uint16_t port)
{
	struct epoll_event evs[8];
	int fds[2], epfd = -1, sfd = -1, one = 1, err, n, i, sig;
	unsigned int nfds = 0, k;
	bool stop = false;

	err = listen_open(SOCK_DGRAM, bind_str, port, fds, &nfds);
	if (err)
		return err;
	for (k = 0; k < nfds; k++) {
		sock_bufs(fds[k], 4 << 20);
		/* both options are per family; the other one just fails */
		setsockopt(fds[k], IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		setsockopt(fds[k], IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	}
	sfd = signals_open();
	if (sfd < 0) {
		err = sfd;
		goto out;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0 || epoll_add(epfd, sfd, EPOLLIN, sfd)) {
		err = -errno;
		pr_err("epoll: %s", strerror(-err));
		goto out;
	}
	for (k = 0; k < nfds; k++) {
		err = epoll_add(epfd, fds[k], EPOLLIN, fds[k]);
		if (err) {
			pr_err("epoll: %s", strerror(-err));
			goto out;
		}
	}
	while (!stop) {
		n = epoll_wait(epfd, evs, 8, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			pr_err("epoll_wait: %s", strerror(-err));
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.u64 != (uint64_t)sfd) {
				echo_drain(e, (int)evs[i].data.u64);
				continue;
			}
			while ((sig = signal_next(sfd))) {
				if (sig == SIGUSR1)
					echo_stats(e);
				else
					stop = true;
			}
		}
	}
	echo_stats(e);
	err = 0;
out:
	if (epfd >= 0)
		close(epfd);
	if (sfd >= 0)
		close(sfd);
	for (k = 0; k < nfds; k++)
		close(fds[k]);
	return err;
}

static const char udp_echo_usage[] =
	"Usage: xh-traffic udp-echo --port P [--bind ADDR] [--id NAME]\n"
	"\n"
	"UDP echo responder until SIGTERM/SIGINT (SIGUSR1 prints counters).\n"
	"Each reply leaves from the address the request was sent to (the VIP),\n"
	"also when bound to the wildcard, and carries NAME in its id field.\n"
	"\n"
	"  --port P      UDP port\n"
	"  --bind ADDR   listen on ADDR only (default: 0.0.0.0 and ::)\n"
	"  --id NAME     responder id, 1-31 printable characters, no blanks\n"
	"                (default: the host name)\n";

static int cmd_udp_echo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "id", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *bind_str = NULL;
	unsigned long long port = 0;
	struct echo *e;
	int c, err;

	e = calloc(1, sizeof(*e));
	if (!e) {
		pr_err("out of memory");
		return 1;
	}
	id_default(e->id);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_uint(optarg, 1, 65535, &port)) {
				pr_err("invalid --port '%s' (1-65535)", optarg);
				goto usage;
			}
			break;
		case 'b':
			bind_str = optarg;
			break;
		case 'i':
			if (id_set(e->id, optarg)) {
				pr_err("invalid --id '%s': 1-31 printable characters, no blanks",
				       optarg);
				goto usage;
			}
			break;
		case 'h':
			fputs(udp_echo_usage, stdout);
			free(e);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s'", argv[optind]);
		goto usage;
	}
	if (!port) {
		pr_err("--port is required");
		goto usage;
	}
	err = echo_run(e, bind_str, port);
	free(e);
	return err ? 1 : 0;
usage:
	fputs(udp_echo_usage, stderr);
	free(e);
	return EXIT_USAGE;
}

/* ------------------------------------------------------------------ */
/* udp-client                                                          */
/* ------------------------------------------------------------------ */

#define UC_MAX_FLOWS	1024
#define UC_MAX_RATE	1000000
#define UC_BATCH	32
#define UC_BURST	64			/* sends of a flow before the next flow */
#define UC_MAX_LAG	NSEC_PER_SEC		/* further behind: skip, do not burst */
#define UC_LINGER	(200 * NSEC_PER_MSEC)	/* wait for late echoes */
#define UC_MAX_OUTAGES	1000			/* stored per flow; all are counted */
#define UC_MAX_SWITCHES	1000

struct uc_opts {
	struct xaddr dst;
	unsigned int flows, rate, size;
	uint64_t duration_ns;	/* 0: until a signal */
	uint64_t outage_ns;	/* 0: three send intervals */
	const char *json, *progress;
};

/* An echo gap; the seqs [seq_lo, seq_hi) were sent into it. */
struct uc_outage {
	uint64_t start_ns, end_ns;
	uint64_t seq_lo, seq_hi;
	bool open;		/* still no echo when sending stopped */
};

struct uc_switch {
	uint64_t at_ns;
	unsigned int from, to;
};

struct uc_flow {
	int fd;
	unsigned int idx;
	uint16_t sport;
	uint64_t start_ns;		/* first deadline, staggered per flow */
	/* sender thread */
	uint64_t slot;			/* deadlines passed, sent or skipped */
	uint64_t next_ns;
	uint64_t send_errors, skipped;
	_Atomic uint64_t sent;		/* bumped before the send it counts */
	/* main thread */
	uint64_t *seen;			/* bitmap of echoed seqs */
	uint64_t seen_words;
	uint64_t echoed, dups, reordered, stray;
	uint64_t seq_top;		/* one past the highest seq echoed */
	uint64_t seq_top_stop;		/* seq_top when sending stopped */
	uint64_t last_rx_ns;		/* last echo while sending, or start */
	uint64_t last_echo_ns;		/* last echo at all, 0: none */
	uint64_t max_gap_ns;
	uint64_t rtt_sum_ns, rtt_max_ns;
	int last_id;
	uint64_t by_id[XH_MAX_IDS];
	struct uc_outage *out;
	unsigned int nout, out_cap, nout_total;
	struct uc_switch *sw;
	unsigned int nsw, sw_cap, nsw_total;
};

struct uc {
	struct uc_opts o;
	struct uc_flow *flows;
	struct idtab ids;
	uint64_t t0, t0_unix_ms, interval_ns, outage_ns, end_ns, stop_ns;
	atomic_bool stop;
	int stop_sig;
	int epfd, sfd;
	bool progress_warned;
	struct mmsghdr msg[UC_BATCH];
	struct iovec iov[UC_BATCH];
	struct sockaddr_storage from[UC_BATCH];
	char buf[UC_BATCH][UDP_BUF];
};

static uint64_t uc_deadline(const struct uc *u, const struct uc_flow *f)
{
	return f->start_ns + f->slot * NSEC_PER_SEC / u->o.rate;
}

static void uc_send(struct uc *u, struct uc_flow *f, char *buf)
{
	uint64_t seq = atomic_load_explicit(&f->sent, memory_order_relaxed);
	struct xh_udp_msg m = {
		.magic = htobe32(XH_MAGIC),
		.flow = htobe32(f->idx),
		.seq = htobe64(seq),
	};
	ssize_t r;

	/* publish first: on loopback the echo can beat the return of sendto */
	atomic_store_explicit(&f->sent, seq + 1, memory_order_release);
	m.send_ns = htobe64(now_ns());
	memcpy(buf, &m, offsetof(struct xh_udp_msg, id));
	do {
		r = sendto(f->fd, buf, u->o.size, MSG_DONTWAIT | MSG_NOSIGNAL,
			   (const struct sockaddr *)&u->o.dst.ss, u->o.dst.len);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		f->send_errors++;
}

/*
 * The sender: every flow has absolute deadlines start + k / rate. Sleep to
 * the earliest one, send what is due, and when behind send the backlog in
 * bursts; a flow more than UC_MAX_LAG behind (the process was stopped)
 * skips the missed deadlines rather than flooding.
 */
static void *uc_sender(void *arg)
{
	struct uc *u = arg;
	struct uc_flow *f;
	uint64_t now, next, lag;
	struct timespec ts;
	unsigned int i, burst;
	char *buf;

	buf = calloc(1, UDP_BUF);
	if (!buf)
		return NULL;
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	while (!atomic_load(&u->stop)) {
		now = now_ns();
		next = UINT64_MAX;
		for (i = 0; i < u->o.flows; i++) {
			f = &u->flows[i];
			for (burst = 0; burst < UC_BURST && f->next_ns <= now &&
			     f->next_ns < u->end_ns; burst++) {
				if (atomic_load_explicit(&u->stop, memory_order_relaxed))
					goto out;
				uc_send(u, f, buf);
				f->slot++;
				f->next_ns = uc_deadline(u, f);
			}
			if (f->next_ns + UC_MAX_LAG < now) {
				lag = (now - f->next_ns) * u->o.rate / NSEC_PER_SEC;
				f->skipped += lag;
				f->slot += lag;
				f->next_ns = uc_deadline(u, f);
			}
			if (f->next_ns < next)
				next = f->next_ns;
		}
		if (next >= u->end_ns)
			break;
		if (next <= now)
			continue;
		/* short sleeps at most, so a stop is seen within 10 ms */
		if (next > now + 10 * NSEC_PER_MSEC)
			next = now + 10 * NSEC_PER_MSEC;
		ts.tv_sec = next / NSEC_PER_SEC;
		ts.tv_nsec = next % NSEC_PER_SEC;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
out:
	free(buf);
	return NULL;
}

/* Make room for element @n of an array that grows by doubling from 16. */
static int grow(void **p, unsigned int *cap, unsigned int n, size_t elem)
{
	unsigned int ncap;
	void *np;

	if (n < *cap)
		return 0;
	ncap = *cap ? 2 * *cap : 16;
	np = realloc(*p, (size_t)ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static int uc_outage_add(struct uc_flow *f, uint64_t start, uint64_t end,
			 uint64_t seq_lo, uint64_t seq_hi, bool open)
{
	struct uc_outage *o;

	f->nout_total++;
	if (f->nout >= UC_MAX_OUTAGES)
		return 0;
	if (grow((void **)&f->out, &f->out_cap, f->nout, sizeof(*f->out)))
		return -ENOMEM;
	o = &f->out[f->nout++];
	o->start_ns = start;
	o->end_ns = end;
	o->seq_lo = seq_lo;
	o->seq_hi = seq_hi > seq_lo ? seq_hi : seq_lo;
	o->open = open;
	return 0;
}

static int uc_seen_mark(struct uc_flow *f, uint64_t seq, bool *dup)
{
	uint64_t words = f->seen_words ? f->seen_words : 1024, *p;

	while (words * 64 <= seq)
		words *= 2;
	if (words != f->seen_words) {
		p = realloc(f->seen, words * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + f->seen_words, 0, (words - f->seen_words) * sizeof(*p));
		f->seen = p;
		f->seen_words = words;
	}
	*dup = f->seen[seq / 64] & (1ULL << (seq % 64));
	f->seen[seq / 64] |= 1ULL << (seq % 64);
	return 0;
}

static bool uc_seen(const struct uc_flow *f, uint64_t seq)
{
	if (seq / 64 >= f->seen_words)
		return false;
	return f->seen[seq / 64] & (1ULL << (seq % 64));
}

/* One valid echo arrived at @now; @sending: gaps are measured. */
static int uc_echo(struct uc *u, struct uc_flow *f, const struct xh_udp_msg *m,
		   uint64_t now, bool sending)
{
	uint64_t seq = be64toh(m->seq), sent_ns = be64toh(m->send_ns), gap;
	char id[XH_ID_LEN];
	unsigned int idx;
	struct uc_switch *s;
	bool dup;
	int err;

	err = uc_seen_mark(f, seq, &dup);
	if (err)
		return err;
	if (dup) {
		f->dups++;
		return 0;
	}
	f->echoed++;
	f->last_echo_ns = now;
	if (sent_ns <= now) {
		f->rtt_sum_ns += now - sent_ns;
		if (now - sent_ns > f->rtt_max_ns)
			f->rtt_max_ns = now - sent_ns;
	}
	if (seq < f->seq_top)
		f->reordered++;

	memcpy(id, m->id, XH_ID_LEN);
	id[XH_ID_LEN - 1] = '\0';
	if (f->last_id >= 0 && !strcmp(u->ids.name[f->last_id], id))
		idx = f->last_id;
	else
		idx = id_intern(&u->ids, id);
	f->by_id[idx]++;
	if (f->last_id >= 0 && idx != (unsigned int)f->last_id) {
		f->nsw_total++;
		if (f->nsw < UC_MAX_SWITCHES) {
			if (grow((void **)&f->sw, &f->sw_cap, f->nsw, sizeof(*f->sw)))
				return -ENOMEM;
			s = &f->sw[f->nsw++];
			s->at_ns = now;
			s->from = f->last_id;
			s->to = idx;
		}
	}
	f->last_id = idx;

	if (sending) {
		gap = now > f->last_rx_ns ? now - f->last_rx_ns : 0;
		if (gap > f->max_gap_ns)
			f->max_gap_ns = gap;
		if (gap > u->outage_ns) {
			err = uc_outage_add(f, f->last_rx_ns, now, f->seq_top, seq,
					    false);
			if (err)
				return err;
		}
		f->last_rx_ns = now;
	}
	if (seq >= f->seq_top)
		f->seq_top = seq + 1;
	return 0;
}

static int uc_rx(struct uc *u, struct uc_flow *f, bool sending)
{
	struct xh_udp_msg m;
	struct msghdr *h;
	uint64_t now;
	int i, n, round, err;

	for (round = 0; round < 8; round++) {
		for (i = 0; i < UC_BATCH; i++) {
			h = &u->msg[i].msg_hdr;
			memset(h, 0, sizeof(*h));
			u->iov[i].iov_base = u->buf[i];
			u->iov[i].iov_len = UDP_BUF;
			h->msg_name = &u->from[i];
			h->msg_namelen = sizeof(u->from[i]);
			h->msg_iov = &u->iov[i];
			h->msg_iovlen = 1;
		}
		n = recvmmsg(f->fd, u->msg, UC_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return 0;
		now = now_ns();
		for (i = 0; i < n; i++) {
			if (u->msg[i].msg_len < sizeof(m) ||
			    (u->msg[i].msg_hdr.msg_flags & MSG_TRUNC) ||
			    !addr_same(&u->from[i], &u->o.dst)) {
				f->stray++;
				continue;
			}
			memcpy(&m, u->buf[i], sizeof(m));
			if (be32toh(m.magic) != XH_MAGIC ||
			    be32toh(m.flow) != f->idx ||
			    be64toh(m.seq) >= atomic_load_explicit(&f->sent,
								   memory_order_acquire)) {
				f->stray++;
				continue;
			}
			err = uc_echo(u, f, &m, now, sending);
			if (err) {
				pr_err("out of memory for the echo record");
				return err;
			}
		}
		if (n < UC_BATCH)
			return 0;
	}
	return 0;
}

static void uc_progress(struct uc *u)
{
	uint64_t sent = 0, echoed = 0, last = 0;
	char buf[256], last_str[32] = "null";
	unsigned int i;
	int n, err;

	for (i = 0; i < u->o.flows; i++) {
		sent += atomic_load(&u->flows[i].sent);
		echoed += u->flows[i].echoed;
		if (u->flows[i].last_echo_ns > last)
			last = u->flows[i].last_echo_ns;
	}
	if (last)
		snprintf(last_str, sizeof(last_str), "%.3f", ns_ms(last - u->t0));
	n = snprintf(buf, sizeof(buf),
		     "{\"sent\": %" PRIu64 ", \"echoed\": %" PRIu64
		     ", \"last_echo_ms\": %s, \"elapsed_ms\": %.3f}\n",
		     sent, echoed, last_str, ns_ms(now_ns() - u->t0));
	err = write_file_atomic(u->o.progress, buf, n);
	if (err && !u->progress_warned) {
		pr_err("cannot write %s: %s", u->o.progress, strerror(-err));
		u->progress_warned = true;
	}
}

static uint64_t uc_unechoed(const struct uc_flow *f, uint64_t lo, uint64_t hi)
{
	uint64_t n = 0;

	for (; lo < hi; lo++)
		n += !uc_seen(f, lo);
	return n;
}

static void uc_report_flow(struct uc *u, struct jw *w, struct uc_flow *f)
{
	uint64_t sent = atomic_load(&f->sent);
	const struct uc_outage *o;
	unsigned int i;

	jw_open(w, NULL, '{', false);
	jw_u64(w, "flow", f->idx);
	jw_u64(w, "src_port", f->sport);
	jw_u64(w, "sent", sent);
	jw_u64(w, "echoed", f->echoed);
	jw_u64(w, "lost", sent - f->echoed);
	jw_u64(w, "duplicates", f->dups);
	jw_u64(w, "reordered", f->reordered);
	jw_u64(w, "send_errors", f->send_errors);
	jw_u64(w, "skipped", f->skipped);
	jw_u64(w, "stray", f->stray);
	jw_ms(w, "max_gap_ms", ns_ms(f->max_gap_ns));
	jw_ms(w, "rtt_avg_ms", f->echoed ? ns_ms(f->rtt_sum_ns / f->echoed) : 0);
	jw_ms(w, "rtt_max_ms", ns_ms(f->rtt_max_ns));
	jw_u64(w, "outage_count", f->nout_total);
	jw_open(w, "outages", '[', false);
	for (i = 0; i < f->nout; i++) {
		o = &f->out[i];
		jw_open(w, NULL, '{', true);
		jw_ms(w, "start_ms", ns_ms(o->start_ns - u->t0));
		jw_ms(w, "end_ms", ns_ms(o->end_ns - u->t0));
		jw_ms(w, "duration_ms", ns_ms(o->end_ns - o->start_ns));
		jw_u64(w, "lost", uc_unechoed(f, o->seq_lo, o->seq_hi));
		jw_bool(w, "open", o->open);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_counts(w, "responders", &u->ids, f->by_id);
	jw_u64(w, "switch_count", f->nsw_total);
	jw_open(w, "switches", '[', false);
	for (i = 0; i < f->nsw; i++) {
		jw_open(w, NULL, '{', true);
		jw_ms(w, "at_ms", ns_ms(f->sw[i].at_ns - u->t0));
		jw_str(w, "from", u->ids.name[f->sw[i].from]);
		jw_str(w, "to", u->ids.name[f->sw[i].to]);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

static int uc_report(struct uc *u)
{
	uint64_t sent = 0, echoed = 0, dups = 0, reord = 0, gap = 0, outages = 0;
	uint64_t by_id[XH_MAX_IDS] = {};
	struct jw w = {};
	struct uc_flow *f;
	char target[INET6_ADDRSTRLEN + 16], *buf = NULL;
	size_t len = 0;
	unsigned int i, k;
	int err = 0;

	for (i = 0; i < u->o.flows; i++) {
		f = &u->flows[i];
		sent += atomic_load(&f->sent);
		echoed += f->echoed;
		dups += f->dups;
		reord += f->reordered;
		outages += f->nout_total;
		if (f->max_gap_ns > gap)
			gap = f->max_gap_ns;
		for (k = 0; k < u->ids.n; k++)
			by_id[k] += f->by_id[k];
	}
	addr_str(&u->o.dst, target, sizeof(target));
	pr_info("udp-client %s: %u flows, sent %" PRIu64 ", echoed %" PRIu64
		", lost %" PRIu64 ", duplicates %" PRIu64 ", reordered %" PRIu64
		", max gap %.1f ms, outages %" PRIu64, target, u->o.flows, sent,
		echoed, sent - echoed, dups, reord, ns_ms(gap), outages);
	if (!u->o.json)
		return 0;

	w.f = open_memstream(&buf, &len);
	if (!w.f) {
		pr_err("out of memory for the report");
		return -ENOMEM;
	}
	jw_open(&w, NULL, '{', false);
	jw_str(&w, "target", target);
	jw_u64(&w, "start_unix_ms", u->t0_unix_ms);
	jw_u64(&w, "flow_count", u->o.flows);
	jw_u64(&w, "rate_pps", u->o.rate);
	jw_u64(&w, "size", u->o.size);
	jw_ms(&w, "interval_ms", ns_ms(u->interval_ns));
	jw_ms(&w, "outage_threshold_ms", ns_ms(u->outage_ns));
	jw_ms(&w, "duration_ms", ns_ms(u->stop_ns - u->t0));
	jw_str(&w, "stop", u->stop_sig ? signame(u->stop_sig) : "duration");
	jw_u64(&w, "sent", sent);
	jw_u64(&w, "echoed", echoed);
	jw_u64(&w, "lost", sent - echoed);
	jw_u64(&w, "duplicates", dups);
	jw_u64(&w, "reordered", reord);
	jw_ms(&w, "max_gap_ms", ns_ms(gap));
	jw_u64(&w, "outage_count", outages);
	jw_counts(&w, "responders", &u->ids, by_id);
	jw_open(&w, "flows", '[', false);
	for (i = 0; i < u->o.flows; i++)
		uc_report_flow(u, &w, &u->flows[i]);
	jw_close(&w, ']');
	jw_close(&w, '}');
	if (fclose(w.f)) {
		err = -ENOMEM;
		pr_err("out of memory for the report");
		goto out;
	}
	err = output_write(u->o.json, buf, len);
out:
	free(buf);
	return err;
}

static int uc_open_flows(struct uc *u)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct xaddr any;
	struct uc_flow *f;
	unsigned int i;
	int err;

	addr_wildcard(u->o.dst.ss.ss_family, 0, &any);
	for (i = 0; i < u->o.flows; i++) {
		f = &u->flows[i];
		f->idx = i;
		f->last_id = -1;
		/* unconnected: an ICMP error can then never fail a send */
		f->fd = socket(u->o.dst.ss.ss_family,
			       SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (f->fd < 0) {
			err = -errno;
			pr_err("socket for flow %u: %s%s", i, strerror(-err),
			       err == -EMFILE ? " (try fewer --flows)" : "");
			return err;
		}
		sock_bufs(f->fd, 1 << 20);
		sl = sizeof(ss);
		if (bind(f->fd, (struct sockaddr *)&any.ss, any.len) ||
		    getsockname(f->fd, (struct sockaddr *)&ss, &sl)) {
			err = -errno;
			pr_err("bind flow %u: %s", i, strerror(-err));
			return err;
		}
		f->sport = ntohs(ss.ss_family == AF_INET ?
				 ((struct sockaddr_in *)&ss)->sin_port :
				 ((struct sockaddr_in6 *)&ss)->sin6_port);
		err = epoll_add(u->epfd, f->fd, EPOLLIN, i);
		if (err) {
			pr_err("epoll: %s", strerror(-err));
			return err;
		}
	}
	return 0;
}

static int uc_run(struct uc *u)
{
	struct epoll_event evs[64];
	uint64_t now, next_prog, deadline, linger_end;
	struct uc_flow *f;
	pthread_t thr;
	bool started = false, sending = true;
	unsigned int i;
	int n, k, sig, err;

	u->epfd = u->sfd = -1;
	for (i = 0; i < u->o.flows; i++)
		u->flows[i].fd = -1;
	nofile_raise(u->o.flows + 64);
	u->sfd = signals_open();
	if (u->sfd < 0) {
		err = u->sfd;
		goto out;
	}
	u->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (u->epfd < 0 || epoll_add(u->epfd, u->sfd, EPOLLIN, UINT32_MAX)) {
		err = -errno;
		pr_err("epoll: %s", strerror(-err));
		goto out;
	}
	err = uc_open_flows(u);
	if (err)
		goto out;

	u->interval_ns = NSEC_PER_SEC / u->o.rate;
	u->outage_ns = u->o.outage_ns ? u->o.outage_ns : 3 * u->interval_ns;
	u->t0 = now_ns();
	u->t0_unix_ms = unix_ms();
	u->end_ns = u->o.duration_ns ? u->t0 + u->o.duration_ns : UINT64_MAX;
	for (i = 0; i < u->o.flows; i++) {
		f = &u->flows[i];
		/* spread the flows over one interval */
		f->start_ns = u->t0 + (uint64_t)i * u->interval_ns / u->o.flows;
		f->next_ns = f->start_ns;
		f->last_rx_ns = f->start_ns;
	}
	err = pthread_create(&thr, NULL, uc_sender, u);
	if (err) {
		err = -err;
		pr_err("cannot start the sender thread: %s", strerror(-err));
		goto out;
	}
	started = true;

	next_prog = u->t0;
	linger_end = UINT64_MAX;
	for (;;) {
		now = now_ns();
		if (sending && (now >= u->end_ns || u->stop_sig)) {
			/* stop sending, then listen UC_LINGER for late echoes */
			u->stop_ns = now;
			atomic_store(&u->stop, true);
			pthread_join(thr, NULL);
			started = false;
			sending = false;
			for (i = 0; i < u->o.flows; i++)
				u->flows[i].seq_top_stop = u->flows[i].seq_top;
			linger_end = now + UC_LINGER;
		}
		if (now >= linger_end)
			break;
		if (u->o.progress && now >= next_prog) {
			uc_progress(u);
			next_prog = now + PROGRESS_NS;
		}
		deadline = sending ? u->end_ns : linger_end;
		if (u->o.progress && next_prog < deadline)
			deadline = next_prog;
		n = epoll_wait(u->epfd, evs, 64, timeout_ms(now, deadline));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			pr_err("epoll_wait: %s", strerror(-err));
			goto out;
		}
		for (k = 0; k < n; k++) {
			if (evs[k].data.u64 == UINT32_MAX) {
				while ((sig = signal_next(u->sfd)))
					if (!u->stop_sig)
						u->stop_sig = sig;
				continue;
			}
			err = uc_rx(u, &u->flows[evs[k].data.u64], sending);
			if (err)
				goto out;
		}
	}

	/* the gap from the last echo to the end of sending counts too */
	for (i = 0; i < u->o.flows; i++) {
		f = &u->flows[i];
		if (u->stop_ns <= f->last_rx_ns)
			continue;
		if (u->stop_ns - f->last_rx_ns > f->max_gap_ns)
			f->max_gap_ns = u->stop_ns - f->last_rx_ns;
		if (u->stop_ns - f->last_rx_ns > u->outage_ns) {
			err = uc_outage_add(f, f->last_rx_ns, u->stop_ns,
					    f->seq_top_stop, atomic_load(&f->sent),
					    true);
			if (err)
				goto out;
		}
	}
	if (u->o.progress)
		uc_progress(u);
	err = uc_report(u);
out:
	if (started) {
		atomic_store(&u->stop, true);
		pthread_join(thr, NULL);
	}
	for (i = 0; i < u->o.flows; i++) {
		f = &u->flows[i];
		if (f->fd >= 0)
			close(f->fd);
		free(f->seen);
		free(f->out);
		free(f->sw);
	}
	if (u->epfd >= 0)
		close(u->epfd);
	if (u->sfd >= 0)
		close(u->sfd);
	return err;
}

static const char udp_client_usage[] =
	"Usage: xh-traffic udp-client --dst ADDR --port P [--flows N] [--rate PPS]\n"
	"                  [--duration SEC] [--size BYTES] [--outage-ms MS]\n"
	"                  [--json FILE|-] [--progress-file FILE]\n"
	"\n"
	"N UDP flows (own socket and source port each) send numbered datagrams to\n"
	"ADDR:P, paced against absolute deadlines, and collect the echoes. Stops\n"
	"after --duration or on SIGTERM/SIGINT/SIGUSR1, waits 200 ms for late\n"
	"echoes and writes the report, also when stopped by a signal.\n"
	"\n"
	"  --dst ADDR            target (VIP), IPv4 or IPv6\n"
	"  --port P              target UDP port\n"
	"  --flows N             number of flows, 1-1024 (default 1)\n"
	"  --rate PPS            datagrams per second per flow (default 1000)\n"
	"  --duration SEC        run time, fractions allowed (default: until signal)\n"
	"  --size BYTES          datagram payload size, 56-9216 (default 56)\n"
	"  --outage-ms MS        echo gap that counts as an outage\n"
	"                        (default: 3 send intervals)\n"
	"  --json FILE|-         write the JSON report to FILE or stdout\n"
	"  --progress-file FILE  rewrite FILE every 100 ms with\n"
	"                        {\"sent\", \"echoed\", \"last_echo_ms\", \"elapsed_ms\"}\n";

static int cmd_udp_client(int argc, char **argv)
{
	enum { O_DST = 256, O_PORT, O_FLOWS, O_RATE, O_DUR, O_SIZE, O_OUTAGE,
	       O_JSON, O_PROG };
	static const struct option opts[] = {
		{ "dst", required_argument, NULL, O_DST },
		{ "port", required_argument, NULL, O_PORT },
		{ "flows", required_argument, NULL, O_FLOWS },
		{ "rate", required_argument, NULL, O_RATE },
		{ "duration", required_argument, NULL, O_DUR },
		{ "size", required_argument, NULL, O_SIZE },
		{ "outage-ms", required_argument, NULL, O_OUTAGE },
		{ "json", required_argument, NULL, O_JSON },
		{ "progress-file", required_argument, NULL, O_PROG },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *dst = NULL, *what = NULL;
	unsigned long long port = 0, v;
	struct uc *u;
	int c, err;

	u = calloc(1, sizeof(*u));
	if (!u) {
		pr_err("out of memory");
		return 1;
	}
	u->o.flows = 1;
	u->o.rate = 1000;
	u->o.size = sizeof(struct xh_udp_msg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_DST:
			dst = optarg;
			break;
		case O_PORT:
			if (parse_uint(optarg, 1, 65535, &port))
				what = "--port (1-65535)";
			break;
		case O_FLOWS:
			if (parse_uint(optarg, 1, UC_MAX_FLOWS, &v))
				what = "--flows (1-1024)";
			u->o.flows = v;
			break;
		case O_RATE:
			if (parse_uint(optarg, 1, UC_MAX_RATE, &v))
				what = "--rate (1-1000000)";
			u->o.rate = v;
			break;
		case O_DUR:
			if (parse_sec(optarg, &u->o.duration_ns))
				what = "--duration (seconds > 0)";
			break;
		case O_SIZE:
			if (parse_uint(optarg, sizeof(struct xh_udp_msg), UDP_BUF, &v))
				what = "--size (56-9216)";
			u->o.size = v;
			break;
		case O_OUTAGE:
			if (parse_uint(optarg, 1, 3600000, &v))
				what = "--outage-ms (1-3600000)";
			u->o.outage_ns = v * NSEC_PER_MSEC;
			break;
		case O_JSON:
			u->o.json = optarg;
			break;
		case O_PROG:
			u->o.progress = optarg;
			break;
		case 'h':
			fputs(udp_client_usage, stdout);
			free(u);
			return 0;
		default:
			goto usage;
		}
		if (what) {
			pr_err("invalid %s: '%s'", what, optarg);
			goto usage;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s'", argv[optind]);
		goto usage;
	}
	if (!dst || !port) {
		pr_err("--dst and --port are required");
		goto usage;
	}
	if (addr_parse(dst, port, &u->o.dst)) {
		pr_err("invalid --dst '%s': expected an IPv4 or IPv6 address", dst);
		goto usage;
	}
	u->flows = calloc(u->o.flows, sizeof(*u->flows));
	if (!u->flows) {
		pr_err("out of memory");
		free(u);
		return 1;
	}
	err = uc_run(u);
	free(u->flows);
	free(u);
	return err ? 1 : 0;
usage:
	fputs(udp_client_usage, stderr);
	free(u);
	return EXIT_USAGE;
}

/* ------------------------------------------------------------------ */
/* tcp-server                                                          */
/* ------------------------------------------------------------------ */

#define TS_IN		256
#define TS_OUT		2048
#define TS_REPLY_MAX	(5 + 20 + 1 + XH_ID_LEN + 1)	/* "PONG seq id\n" */
#define TS_SEQ_MAX	20				/* digits of a u64 */

enum { EV_SIGNAL, EV_LISTEN, EV_CONN };

/* What an epoll event points at; first member of everything registered. */
struct ev_src {
	int kind;
	int fd;
};

struct ts_conn {
	struct ev_src src;
	uint32_t events;		/* as registered with epoll */
	unsigned int inlen, outlen;
	char in[TS_IN];
	char out[TS_OUT];
};

struct ts {
	char id[XH_ID_LEN];
	int epfd, spare_fd;
	struct ev_src sig, lis[2];
	unsigned int nlis;
	struct ts_conn **conns;		/* by fd */
	unsigned int conns_cap;
	uint64_t accepted, active, pings, bad_lines, shed;
};

static void ts_close(struct ts *s, struct ts_conn *c)
{
	s->conns[c->src.fd] = NULL;
	close(c->src.fd);
	free(c);
	s->active--;
}

static bool is_digits(const char *p, size_t n)
{
	size_t i;

	if (!n)
		return false;
	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* Answer complete lines while the reply buffer has room for one more.
 * Returns -EPROTO for a line longer than the buffer. */
static int ts_lines(struct ts *s, struct ts_conn *c)
{
	char *nl;
	size_t len, used;

	while (TS_OUT - c->outlen >= TS_REPLY_MAX &&
	       (nl = memchr(c->in, '\n', c->inlen))) {
		len = nl - c->in;
		used = len + 1;
		if (len && c->in[len - 1] == '\r')
			len--;
		if (len > 5 && !memcmp(c->in, "PING ", 5) &&
		    len - 5 <= TS_SEQ_MAX && is_digits(c->in + 5, len - 5)) {
			c->outlen += snprintf(c->out + c->outlen, TS_OUT - c->outlen,
					      "PONG %.*s %s\n", (int)(len - 5),
					      c->in + 5, s->id);
			s->pings++;
		} else if (len) {
			memcpy(c->out + c->outlen, "ERR\n", 4);
			c->outlen += 4;
			s->bad_lines++;
		}
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
	}
	if (c->inlen == TS_IN && !memchr(c->in, '\n', c->inlen))
		return -EPROTO;
	return 0;
}

static int ts_flush(struct ts_conn *c)
{
	ssize_t w;

	while (c->outlen) {
		w = send(c->src.fd, c->out, c->outlen, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		memmove(c->out, c->out + w, c->outlen - w);
		c->outlen -= w;
	}
	return 0;
}

/* Read while the reply buffer has room; write while there is output.
 * A slow reader thus stops its own input instead of growing our buffers. */
static int ts_update(struct ts *s, struct ts_conn *c)
{
	struct epoll_event ev = { .data.ptr = c };

	ev.events = (TS_OUT - c->outlen >= TS_REPLY_MAX ? EPOLLIN : 0) |
		    (c->outlen ? EPOLLOUT : 0);
	if (ev.events == c->events)
		return 0;
	c->events = ev.events;
	return epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->src.fd, &ev) ? -errno : 0;
}

static void ts_conn_event(struct ts *s, struct ts_conn *c, uint32_t ev)
{
	ssize_t r;
	int err = 0;

	if (ev & (EPOLLERR | EPOLLHUP)) {
		ts_close(s, c);
		return;
	}
	if ((ev & EPOLLIN) && c->inlen < TS_IN) {
		r = recv(c->src.fd, c->in + c->inlen, TS_IN - c->inlen, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			ts_close(s, c);
			return;
		}
		if (r > 0)
			c->inlen += r;
	}
	/* lines left over from a stall are answered once output drains */
	err = ts_lines(s, c);
	if (!err)
		err = ts_flush(c);
	if (!err)
		err = ts_lines(s, c);
	if (!err)
		err = ts_flush(c);
	if (!err)
		err = ts_update(s, c);
	if (err)
		ts_close(s, c);
}

/* Out of descriptors: accept with the spare and drop, so the listener does
 * not stay readable and spin the loop. */
static void ts_shed(struct ts *s, int lfd)
{
	int fd;

	if (!s->shed++)
		pr_err("tcp-server: out of file descriptors at %" PRIu64
		       " connections; dropping new ones (raise ulimit -Hn)",
		       s->active);
	if (s->spare_fd >= 0) {
		close(s->spare_fd);
		fd = accept(lfd, NULL, NULL);
		if (fd >= 0)
			close(fd);
	}
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static int ts_accept(struct ts *s, int lfd)
{
	struct ts_conn *c, **nc;
	unsigned int i, cap;
	int fd, one = 1;

	for (i = 0; i < 256; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				ts_shed(s, lfd);
				return 0;
			}
			if (errno != EAGAIN)
				pr_err("accept: %s", strerror(errno));
			return 0;
		}
		if ((unsigned int)fd >= s->conns_cap) {
			cap = s->conns_cap ? s->conns_cap : 1024;
			while (cap <= (unsigned int)fd)
				cap *= 2;
			nc = realloc(s->conns, cap * sizeof(*nc));
			if (!nc)
				goto nomem;
			memset(nc + s->conns_cap, 0, (cap - s->conns_cap) * sizeof(*nc));
			s->conns = nc;
			s->conns_cap = cap;
		}
		c = calloc(1, sizeof(*c));
		if (!c)
			goto nomem;
		c->src.kind = EV_CONN;
		c->src.fd = fd;
		c->events = EPOLLIN;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (epoll_add(s->epfd, fd, EPOLLIN, (uintptr_t)c)) {
			pr_err("epoll: %s", strerror(errno));
			free(c);
			close(fd);
			continue;
		}
		s->conns[fd] = c;
		s->accepted++;
		s->active++;
	}
	return 0;
nomem:
	close(fd);
	pr_err("out of memory at %" PRIu64 " connections", s->active);
	return -ENOMEM;
}

static void ts_stats(const struct ts *s)
{
	pr_info("tcp-server %s: accepted %" PRIu64 ", open %" PRIu64
		", pings %" PRIu64 ", bad lines %" PRIu64, s->id, s->accepted,
		s->active, s->pings, s->bad_lines);
}

static int ts_run(struct ts *s, const char *bind_str, uint16_t port)
{
	struct epoll_event evs[256];
	struct ev_src *src;
	int fds[2], sfd = -1, err, n, i, sig;
	unsigned int k;
	bool stop = false;

	s->epfd = -1;
	nofile_raise(0);
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	err = listen_open(SOCK_STREAM, bind_str, port, fds, &s->nlis);
	if (err)
		goto out;
	for (k = 0; k < s->nlis; k++) {
		s->lis[k].kind = EV_LISTEN;
		s->lis[k].fd = fds[k];
	}
	sfd = signals_open();
	if (sfd < 0) {
		err = sfd;
		goto out;
	}
	s->sig.kind = EV_SIGNAL;
	s->sig.fd = sfd;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0 || epoll_add(s->epfd, sfd, EPOLLIN, (uintptr_t)&s->sig)) {
		err = -errno;
		pr_err("epoll: %s", strerror(-err));
		goto out;
	}
	for (k = 0; k < s->nlis; k++) {
		err = epoll_add(s->epfd, fds[k], EPOLLIN, (uintptr_t)&s->lis[k]);
		if (err) {
			pr_err("epoll: %s", strerror(-err));
			goto out;
		}
	}
	while (!stop) {
		n = epoll_wait(s->epfd, evs, 256, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			pr_err("epoll_wait: %s", strerror(-err));
			goto out;
		}
		for (i = 0; i < n; i++) {
			src = evs[i].data.ptr;
			switch (src->kind) {
			case EV_CONN:
				ts_conn_event(s, (struct ts_conn *)src, evs[i].events);
				break;
			case EV_LISTEN:
				err = ts_accept(s, src->fd);
				if (err)
					goto out;
				break;
			case EV_SIGNAL:
				while ((sig = signal_next(sfd))) {
					if (sig == SIGUSR1)
						ts_stats(s);
					else
						stop = true;
				}
				break;
			}
		}
	}
	ts_stats(s);
	err = 0;
out:
	for (k = 0; k < s->conns_cap; k++)
		if (s->conns[k])
			ts_close(s, s->conns[k]);
	free(s->conns);
	for (k = 0; k < s->nlis; k++)
		close(s->lis[k].fd);
	if (s->epfd >= 0)
		close(s->epfd);
	if (sfd >= 0)
		close(sfd);
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	return err;
}

static const char tcp_server_usage[] =
	"Usage: xh-traffic tcp-server --port P [--bind ADDR] [--id NAME]\n"
	"\n"
	"TCP server until SIGTERM/SIGINT (SIGUSR1 prints counters). Answers each\n"
	"line \"PING <seq>\" with \"PONG <seq> <id>\", anything else with \"ERR\".\n"
	"Raises RLIMIT_NOFILE to the hard limit.\n"
	"\n"
	"  --port P      TCP port\n"
	"  --bind ADDR   listen on ADDR only (default: 0.0.0.0 and ::)\n"
	"  --id NAME     server id, 1-31 printable characters, no blanks\n"
	"                (default: the host name)\n";

static int cmd_tcp_server(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "id", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *bind_str = NULL;
	unsigned long long port = 0;
	struct ts s = {};
	int c;

	id_default(s.id);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_uint(optarg, 1, 65535, &port)) {
				pr_err("invalid --port '%s' (1-65535)", optarg);
				goto usage;
			}
			break;
		case 'b':
			bind_str = optarg;
			break;
		case 'i':
			if (id_set(s.id, optarg)) {
				pr_err("invalid --id '%s': 1-31 printable characters, no blanks",
				       optarg);
				goto usage;
			}
			break;
		case 'h':
			fputs(tcp_server_usage, stdout);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s'", argv[optind]);
		goto usage;
	}
	if (!port) {
		pr_err("--port is required");
		goto usage;
	}
	return ts_run(&s, bind_str, port) ? 1 : 0;
usage:
	fputs(tcp_server_usage, stderr);
	return EXIT_USAGE;
}

/* ------------------------------------------------------------------ */
/* tcp-client                                                          */
/* ------------------------------------------------------------------ */

#define TC_MAX_CONNS	200000
#define TC_IN		256
#define TC_OUT		128
#define TC_RING_MAX	256	/* pings in flight per connection */
#define TC_MAX_BROKEN	100	/* entries of broken_list */
#define TC_HPOS_NONE	UINT_MAX

enum { TC_IDLE, TC_CONNECTING, TC_OPEN, TC_BROKEN, TC_FAILED };

struct tc_opts {
	struct xaddr dst;
	unsigned int conns, connect_rate;
	uint64_t interval_ns, timeout_ns, duration_ns;
	const char *json, *progress;
};

struct tc_conn {
	int fd;
	int state;
	int backend;		/* id of the first PONG, -1: none yet */
	unsigned int idx;
	unsigned int hpos;	/* slot in the timer heap */
	bool want_out;		/* EPOLLOUT registered */
	uint64_t key;		/* when the timer is due */
	uint64_t next_ping;
	uint64_t seq_sent;	/* next seq to send */
	uint64_t seq_acked;	/* next seq to be answered */
	uint64_t *ring;		/* send time of the seqs in flight */
	unsigned int inlen, outlen;
	char in[TC_IN];
	char out[TC_OUT];
};

struct tc_broken {
	uint64_t at_ns;
	unsigned int conn;
	int backend;
	char reason[32];
};

struct tc {
	struct tc_opts o;
	struct tc_conn *conns;
	struct tc_conn **heap;		/* min-heap on key: one timer per conn */
	unsigned int hn, ring_cap;
	struct idtab ids, reasons;
	uint64_t by_backend[XH_MAX_IDS], broken_by_backend[XH_MAX_IDS];
	uint64_t open_errors[XH_MAX_IDS];
	struct tc_broken blist[TC_MAX_BROKEN];
	unsigned int nblist;
	uint64_t t0, t0_unix_ms, stop_ns;
	uint64_t opened, failed, broken, pongs, rtt_sum_ns, rtt_max_ns;
	uint64_t ping_skips;
	int epfd, sfd, stop_sig;
	bool progress_warned;
};

static void heap_swap(struct tc *t, unsigned int i, unsigned int j)
{
	struct tc_conn *x = t->heap[i];

	t->heap[i] = t->heap[j];
	t->heap[j] = x;
	t->heap[i]->hpos = i;
	t->heap[j]->hpos = j;
}

static void heap_up(struct tc *t, unsigned int i)
{
	while (i && t->heap[i]->key < t->heap[(i - 1) / 2]->key) {
		heap_swap(t, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct tc *t, unsigned int i)
{
	unsigned int l, m;

	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < t->hn && t->heap[l]->key < t->heap[m]->key)
			m = l;
		if (l + 1 < t->hn && t->heap[l + 1]->key < t->heap[m]->key)
			m = l + 1;
		if (m == i)
			return;
		heap_swap(t, i, m);
		i = m;
	}
}

static void heap_set(struct tc *t, struct tc_conn *c, uint64_t key)
{
	c->key = key;
	if (c->hpos == TC_HPOS_NONE) {
		c->hpos = t->hn;
		t->heap[t->hn++] = c;
	}
	heap_up(t, c->hpos);
	heap_down(t, c->hpos);
}

static void heap_del(struct tc *t, struct tc_conn *c)
{
	unsigned int i = c->hpos;
	struct tc_conn *moved;

	if (i == TC_HPOS_NONE)
		return;
	c->hpos = TC_HPOS_NONE;
	if (i == --t->hn)
		return;
	moved = t->heap[t->hn];
	t->heap[i] = moved;
	moved->hpos = i;
	heap_up(t, i);
	heap_down(t, moved->hpos);
}

static void tc_close(struct tc *t, struct tc_conn *c, int state)
{
	heap_del(t, c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->ring);
	c->ring = NULL;
	c->state = state;
}

static void tc_fail(struct tc *t, struct tc_conn *c, const char *reason)
{
	tc_close(t, c, TC_FAILED);
	t->failed++;
	t->open_errors[id_intern(&t->reasons, reason)]++;
}

/* @reason: reset, eof, timeout, protocol or error:EXXX */
static void tc_break(struct tc *t, struct tc_conn *c, const char *reason,
		     uint64_t now)
{
	struct tc_broken *b;

	tc_close(t, c, TC_BROKEN);
	t->broken++;
	if (c->backend >= 0)
		t->broken_by_backend[c->backend]++;
	if (t->nblist < TC_MAX_BROKEN) {
		b = &t->blist[t->nblist++];
		b->at_ns = now;
		b->conn = c->idx;
		b->backend = c->backend;
		snprintf(b->reason, sizeof(b->reason), "%s", reason);
	}
}

static void tc_break_errno(struct tc *t, struct tc_conn *c, int err,
			   uint64_t now)
{
	char reason[32];

	if (err == ECONNRESET || err == EPIPE) {
		tc_break(t, c, "reset", now);
		return;
	}
	snprintf(reason, sizeof(reason), "error:%s", errname(err));
	tc_break(t, c, reason, now);
}

static uint64_t tc_key(const struct tc *t, const struct tc_conn *c)
{
	uint64_t due;

	if (c->seq_sent == c->seq_acked)
		return c->next_ping;
	due = c->ring[c->seq_acked % t->ring_cap] + t->o.timeout_ns;
	return due < c->next_ping ? due : c->next_ping;
}

static int tc_want_out(struct tc *t, struct tc_conn *c, bool on)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (on ? EPOLLOUT : 0),
		.data.ptr = c,
	};

	if (c->want_out == on)
		return 0;
	c->want_out = on;
	return epoll_ctl(t->epfd, EPOLL_CTL_MOD, c->fd, &ev) ? -errno : 0;
}

/* Returns -1 when the connection broke (it is closed then). */
static int tc_flush(struct tc *t, struct tc_conn *c, uint64_t now)
{
	ssize_t w;
	int err;

	while (c->outlen) {
		w = send(c->fd, c->out, c->outlen, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			tc_break_errno(t, c, errno, now);
			return -1;
		}
		memmove(c->out, c->out + w, c->outlen - w);
		c->outlen -= w;
	}
	err = tc_want_out(t, c, c->outlen != 0);
	if (err) {
		tc_break_errno(t, c, -err, now);
		return -1;
	}
	return 0;
}

static int tc_ping(struct tc *t, struct tc_conn *c, uint64_t now)
{
	char line[32];
	int n;

	n = snprintf(line, sizeof(line), "PING %" PRIu64 "\n", c->seq_sent);
	/* a full ring or buffer means the peer is that far behind; the
	 * oldest ping times out before it matters */
	if (c->seq_sent - c->seq_acked >= t->ring_cap ||
	    c->outlen + n > TC_OUT) {
		t->ping_skips++;
		return 0;
	}
	memcpy(c->out + c->outlen, line, n);
	c->outlen += n;
	c->ring[c->seq_sent % t->ring_cap] = now;
	c->seq_sent++;
	return tc_flush(t, c, now);
}

static void tc_connect(struct tc *t, struct tc_conn *c, uint64_t now)
{
	int one = 1, err;

	c->fd = socket(t->o.dst.ss.ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		tc_fail(t, c, errname(errno));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)&t->o.dst.ss, t->o.dst.len) &&
	    errno != EINPROGRESS) {
		tc_fail(t, c, errname(errno));
		return;
	}
	/* also after an immediate success: EPOLLOUT fires right away */
	err = epoll_add(t->epfd, c->fd, EPOLLOUT, (uintptr_t)c);
	if (err) {
		tc_fail(t, c, errname(-err));
		return;
	}
	c->state = TC_CONNECTING;
	heap_set(t, c, now + t->o.timeout_ns);
}

static void tc_established(struct tc *t, struct tc_conn *c, uint64_t now)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	uint64_t phase, iv = t->o.interval_ns;

	c->ring = calloc(t->ring_cap, sizeof(*c->ring));
	if (!c->ring) {
		tc_fail(t, c, "ENOMEM");
		return;
	}
	if (epoll_ctl(t->epfd, EPOLL_CTL_MOD, c->fd, &ev)) {
		tc_fail(t, c, errname(errno));
		return;
	}
	c->state = TC_OPEN;
	t->opened++;
	/* connection i pings at phase i/N of the interval, whenever it
	 * opened, so the load is even however fast they connect */
	phase = t->t0 + (uint64_t)c->idx * iv / t->o.conns;
	c->next_ping = phase >= now ? phase :
		       phase + ((now - phase) / iv + 1) * iv;
	heap_set(t, c, tc_key(t, c));
}

/* "PONG <seq> <id>"; the seq must be the oldest in flight. */
static int tc_pong(struct tc *t, struct tc_conn *c, char *line, uint64_t now)
{
	unsigned long long seq;
	uint64_t rtt;
	char *p, *end;
	unsigned int idx;

	if (strncmp(line, "PONG ", 5) || line[5] < '0' || line[5] > '9')
		return -EPROTO;
	errno = 0;
	seq = strtoull(line + 5, &end, 10);
	if (errno || (*end && *end != ' '))
		return -EPROTO;
	if (seq != c->seq_acked || c->seq_acked == c->seq_sent)
		return -EPROTO;
	p = *end ? end + 1 : end;
	if (strlen(p) >= XH_ID_LEN)
		p[XH_ID_LEN - 1] = '\0';

	rtt = now - c->ring[seq % t->ring_cap];
	c->seq_acked++;
	t->pongs++;
	t->rtt_sum_ns += rtt;
	if (rtt > t->rtt_max_ns)
		t->rtt_max_ns = rtt;
	if (c->backend < 0) {
		idx = id_intern(&t->ids, p);
		c->backend = idx;
		t->by_backend[idx]++;
	}
	return 0;
}

/* Returns -1 when the connection broke. */
static int tc_read(struct tc *t, struct tc_conn *c, uint64_t now)
{
	ssize_t r;
	size_t used;
	char *nl;
	int i;

	for (i = 0; i < 4; i++) {
		r = recv(c->fd, c->in + c->inlen, TC_IN - c->inlen, MSG_DONTWAIT);
		if (r == 0) {
			tc_break(t, c, "eof", now);
			return -1;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			tc_break_errno(t, c, errno, now);
			return -1;
		}
		c->inlen += r;
		while ((nl = memchr(c->in, '\n', c->inlen))) {
			*nl = '\0';
			if (nl > c->in && nl[-1] == '\r')
				nl[-1] = '\0';
			if (tc_pong(t, c, c->in, now)) {
				tc_break(t, c, "protocol", now);
				return -1;
			}
			used = nl + 1 - c->in;
			memmove(c->in, c->in + used, c->inlen - used);
			c->inlen -= used;
		}
		if (c->inlen == TC_IN) {
			tc_break(t, c, "protocol", now);
			return -1;
		}
	}
	return 0;
}

static void tc_event(struct tc *t, struct tc_conn *c, uint32_t ev, uint64_t now)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (c->state == TC_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len))
			err = errno;
		if (!err && (ev & (EPOLLERR | EPOLLHUP)))
			err = ECONNREFUSED;
		if (err)
			tc_fail(t, c, errname(err));
		else
			tc_established(t, c, now);
		return;
	}
	if (c->state != TC_OPEN)
		return;
	if ((ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) && tc_read(t, c, now))
		return;
	if (ev & EPOLLOUT)
		tc_flush(t, c, now);
}

static void tc_timer(struct tc *t, struct tc_conn *c, uint64_t now)
{
	uint64_t iv = t->o.interval_ns;

	switch (c->state) {
	case TC_IDLE:
		tc_connect(t, c, now);
		return;
	case TC_CONNECTING:
		tc_fail(t, c, "timeout");
		return;
	case TC_OPEN:
		if (c->seq_sent != c->seq_acked &&
		    c->ring[c->seq_acked % t->ring_cap] + t->o.timeout_ns <= now) {
			tc_break(t, c, "timeout", now);
			return;
		}
		if (c->next_ping <= now) {
			if (tc_ping(t, c, now))
				return;
			/* missed slots are skipped, not sent in a burst */
			c->next_ping += ((now - c->next_ping) / iv + 1) * iv;
		}
		heap_set(t, c, tc_key(t, c));
		return;
	default:
		heap_del(t, c);
	}
}

static uint64_t tc_alive(const struct tc *t)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < t->o.conns; i++)
		n += t->conns[i].state == TC_OPEN;
	return n;
}

static void tc_progress(struct tc *t, uint64_t now)
{
	char buf[256];
	int n, err;

	n = snprintf(buf, sizeof(buf),
		     "{\"opened\": %" PRIu64 ", \"alive\": %" PRIu64
		     ", \"broken\": %" PRIu64 ", \"pongs\": %" PRIu64
		     ", \"failed_to_open\": %" PRIu64 ", \"elapsed_ms\": %.3f}\n",
		     t->opened, tc_alive(t), t->broken, t->pongs, t->failed,
		     ns_ms(now - t->t0));
	err = write_file_atomic(t->o.progress, buf, n);
	if (err && !t->progress_warned) {
		pr_err("cannot write %s: %s", t->o.progress, strerror(-err));
		t->progress_warned = true;
	}
}

static int tc_report(struct tc *t)
{
	uint64_t alive_by_backend[XH_MAX_IDS] = {}, alive = 0, pending = 0;
	char target[INET6_ADDRSTRLEN + 16], *buf = NULL;
	struct tc_conn *c;
	struct jw w = {};
	size_t len = 0;
	unsigned int i;
	int err;

	for (i = 0; i < t->o.conns; i++) {
		c = &t->conns[i];
		if (c->state == TC_OPEN) {
			alive++;
			if (c->backend >= 0)
				alive_by_backend[c->backend]++;
		} else if (c->state == TC_IDLE || c->state == TC_CONNECTING) {
			pending++;
		}
	}
	addr_str(&t->o.dst, target, sizeof(target));
	pr_info("tcp-client %s: opened %" PRIu64 ", failed to open %" PRIu64
		", broken %" PRIu64 ", alive %" PRIu64 ", pongs %" PRIu64
		", max rtt %.1f ms", target, t->opened, t->failed, t->broken,
		alive, t->pongs, ns_ms(t->rtt_max_ns));
	if (!t->o.json)
		return 0;

	w.f = open_memstream(&buf, &len);
	if (!w.f) {
		pr_err("out of memory for the report");
		return -ENOMEM;
	}
	jw_open(&w, NULL, '{', false);
	jw_str(&w, "target", target);
	jw_u64(&w, "start_unix_ms", t->t0_unix_ms);
	jw_u64(&w, "conns", t->o.conns);
	jw_ms(&w, "interval_ms", ns_ms(t->o.interval_ns));
	jw_ms(&w, "timeout_ms", ns_ms(t->o.timeout_ns));
	jw_u64(&w, "connect_rate", t->o.connect_rate);
	jw_ms(&w, "duration_ms", ns_ms(t->stop_ns - t->t0));
	jw_str(&w, "stop", t->stop_sig ? signame(t->stop_sig) : "duration");
	jw_u64(&w, "opened", t->opened);
	jw_u64(&w, "failed_to_open", t->failed);
	jw_u64(&w, "pending", pending);
	jw_u64(&w, "broken", t->broken);
	jw_u64(&w, "alive", alive);
	jw_u64(&w, "pongs", t->pongs);
	jw_u64(&w, "ping_skips", t->ping_skips);
	jw_ms(&w, "max_rtt_ms", ns_ms(t->rtt_max_ns));
	jw_ms(&w, "avg_rtt_ms", t->pongs ? ns_ms(t->rtt_sum_ns / t->pongs) : 0);
	jw_counts(&w, "backends", &t->ids, t->by_backend);
	jw_counts(&w, "backends_alive", &t->ids, alive_by_backend);
	jw_counts(&w, "backends_broken", &t->ids, t->broken_by_backend);
	jw_counts(&w, "open_errors", &t->reasons, t->open_errors);
	jw_open(&w, "broken_list", '[', false);
	for (i = 0; i < t->nblist; i++) {
		jw_open(&w, NULL, '{', true);
		jw_ms(&w, "at_ms", ns_ms(t->blist[i].at_ns - t->t0));
		jw_u64(&w, "conn", t->blist[i].conn);
		jw_str(&w, "backend", t->blist[i].backend >= 0 ?
		       t->ids.name[t->blist[i].backend] : NULL);
		jw_str(&w, "reason", t->blist[i].reason);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');
	if (fclose(w.f)) {
		err = -ENOMEM;
		pr_err("out of memory for the report");
		goto out;
	}
	err = output_write(t->o.json, buf, len);
out:
	free(buf);
	return err;
}

static int tc_run(struct tc *t)
{
	struct epoll_event evs[512];
	uint64_t now, end, next_prog, deadline, have;
	struct tc_conn *c;
	unsigned int i;
	int n, k, sig, err;

	t->epfd = -1;
	t->sfd = -1;
	have = nofile_raise((uint64_t)t->o.conns + 64);
	if (have < (uint64_t)t->o.conns + 16) {
		pr_err("%u connections need %u file descriptors, the limit is %" PRIu64
		       "; raise it (ulimit -Hn, or run as root)",
		       t->o.conns, t->o.conns + 16, have);
		return -EMFILE;
	}
	/* enough pings in flight to reach the timeout, plus slack */
	have = t->o.timeout_ns / t->o.interval_ns + 4;
	t->ring_cap = have > TC_RING_MAX ? TC_RING_MAX : have;
	t->conns = calloc(t->o.conns, sizeof(*t->conns));
	t->heap = calloc(t->o.conns, sizeof(*t->heap));
	if (!t->conns || !t->heap) {
		err = -ENOMEM;
		pr_err("out of memory for %u connections", t->o.conns);
		goto out;
	}
	t->sfd = signals_open();
	if (t->sfd < 0) {
		err = t->sfd;
		goto out;
	}
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0 || epoll_add(t->epfd, t->sfd, EPOLLIN, 0)) {
		err = -errno;
		pr_err("epoll: %s", strerror(-err));
		goto out;
	}

	t->t0 = now_ns();
	t->t0_unix_ms = unix_ms();
	for (i = 0; i < t->o.conns; i++) {
		c = &t->conns[i];
		c->idx = i;
		c->fd = -1;
		c->backend = -1;
		c->hpos = TC_HPOS_NONE;
		heap_set(t, c, t->t0 + (uint64_t)i * NSEC_PER_SEC / t->o.connect_rate);
	}
	end = t->o.duration_ns ? t->t0 + t->o.duration_ns : UINT64_MAX;
	next_prog = t->t0;
	for (;;) {
		now = now_ns();
		while (t->hn && t->heap[0]->key <= now)
			tc_timer(t, t->heap[0], now);
		if (t->o.progress && now >= next_prog) {
			tc_progress(t, now);
			next_prog = now + PROGRESS_NS;
		}
		if (now >= end || t->stop_sig)
			break;
		deadline = end;
		if (t->hn && t->heap[0]->key < deadline)
			deadline = t->heap[0]->key;
		if (t->o.progress && next_prog < deadline)
			deadline = next_prog;
		n = epoll_wait(t->epfd, evs, 512, timeout_ms(now, deadline));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			pr_err("epoll_wait: %s", strerror(-err));
			goto out;
		}
		now = now_ns();
		for (k = 0; k < n; k++) {
			if (!evs[k].data.ptr) {
				while ((sig = signal_next(t->sfd)))
					if (!t->stop_sig)
						t->stop_sig = sig;
				continue;
			}
			tc_event(t, evs[k].data.ptr, evs[k].events, now);
		}
	}
	t->stop_ns = now;
	if (t->o.progress)
		tc_progress(t, now);
	err = tc_report(t);
out:
	if (t->conns) {
		for (i = 0; i < t->o.conns; i++) {
			if (t->conns[i].fd >= 0)
				close(t->conns[i].fd);
			free(t->conns[i].ring);
		}
	}
	free(t->conns);
	free(t->heap);
	if (t->epfd >= 0)
		close(t->epfd);
	if (t->sfd >= 0)
		close(t->sfd);
	return err;
}

static const char tcp_client_usage[] =
	"Usage: xh-traffic tcp-client --dst ADDR --port P [--conns N] [--interval MS]\n"
	"                  [--timeout MS] [--duration SEC] [--connect-rate PER_SEC]\n"
	"                  [--json FILE|-] [--progress-file FILE]\n"
	"\n"
	"Opens N long-lived connections to ADDR:P, paced at the connect rate; each\n"
	"sends \"PING <seq>\" every interval (staggered over the connections) and\n"
	"expects the PONG within the timeout. A connection is broken on RST, EOF,\n"
	"a socket error, a bad answer or a PONG later than the timeout; broken\n"
	"connections are not reopened. Stops after --duration or on\n"
	"SIGTERM/SIGINT/SIGUSR1 and writes the report, also when stopped by a\n"
	"signal.\n"
	"\n"
	"  --dst ADDR               target (VIP), IPv4 or IPv6\n"
	"  --port P                 target TCP port\n"
	"  --conns N                connections, 1-200000 (default 10)\n"
	"  --interval MS            ping interval per connection (default 100)\n"
	"  --timeout MS             PONG and connect timeout (default 2000)\n"
	"  --duration SEC           run time, fractions allowed (default: until signal)\n"
	"  --connect-rate PER_SEC   connection attempts per second (default 500)\n"
	"  --json FILE|-            write the JSON report to FILE or stdout\n"
	"  --progress-file FILE     rewrite FILE every 100 ms with {\"opened\", \"alive\",\n"
	"                           \"broken\", \"pongs\", \"failed_to_open\", \"elapsed_ms\"}\n";

static int cmd_tcp_client(int argc, char **argv)
{
	enum { O_DST = 256, O_PORT, O_CONNS, O_IVL, O_TMO, O_DUR, O_RATE,
	       O_JSON, O_PROG };
	static const struct option opts[] = {
		{ "dst", required_argument, NULL, O_DST },
		{ "port", required_argument, NULL, O_PORT },
		{ "conns", required_argument, NULL, O_CONNS },
		{ "interval", required_argument, NULL, O_IVL },
		{ "timeout", required_argument, NULL, O_TMO },
		{ "duration", required_argument, NULL, O_DUR },
		{ "connect-rate", required_argument, NULL, O_RATE },
		{ "json", required_argument, NULL, O_JSON },
		{ "progress-file", required_argument, NULL, O_PROG },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *dst = NULL, *what = NULL;
	unsigned long long port = 0, v;
	struct tc *t;
	int c, err;

	t = calloc(1, sizeof(*t));
	if (!t) {
		pr_err("out of memory");
		return 1;
	}
	t->o.conns = 10;
	t->o.interval_ns = 100 * NSEC_PER_MSEC;
	t->o.timeout_ns = 2000 * NSEC_PER_MSEC;
	t->o.connect_rate = 500;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_DST:
			dst = optarg;
			break;
		case O_PORT:
			if (parse_uint(optarg, 1, 65535, &port))
				what = "--port (1-65535)";
			break;
		case O_CONNS:
			if (parse_uint(optarg, 1, TC_MAX_CONNS, &v))
				what = "--conns (1-200000)";
			t->o.conns = v;
			break;
		case O_IVL:
			if (parse_uint(optarg, 1, 3600000, &v))
				what = "--interval (1-3600000 ms)";
			t->o.interval_ns = v * NSEC_PER_MSEC;
			break;
		case O_TMO:
			if (parse_uint(optarg, 1, 3600000, &v))
				what = "--timeout (1-3600000 ms)";
			t->o.timeout_ns = v * NSEC_PER_MSEC;
			break;
		case O_DUR:
			if (parse_sec(optarg, &t->o.duration_ns))
				what = "--duration (seconds > 0)";
			break;
		case O_RATE:
			if (parse_uint(optarg, 1, 1000000, &v))
				what = "--connect-rate (1-1000000)";
			t->o.connect_rate = v;
			break;
		case O_JSON:
			t->o.json = optarg;
			break;
		case O_PROG:
			t->o.progress = optarg;
			break;
		case 'h':
			fputs(tcp_client_usage, stdout);
			free(t);
			return 0;
		default:
			goto usage;
		}
		if (what) {
			pr_err("invalid %s: '%s'", what, optarg);
			goto usage;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s'", argv[optind]);
		goto usage;
	}
	if (!dst || !port) {
		pr_err("--dst and --port are required");
		goto usage;
	}
	if (addr_parse(dst, port, &t->o.dst)) {
		pr_err("invalid --dst '%s': expected an IPv4 or IPv6 address", dst);
		goto usage;
	}
	err = tc_run(t);
	free(t);
	return err ? 1 : 0;
usage:
	fputs(tcp_client_usage, stderr);
	free(t);
	return EXIT_USAGE;
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

struct cmd {
	const char *name;
	const char *summary;
	const char *usage;
	int (*run)(int argc, char **argv);	/* returns the exit status */
};

static const struct cmd cmds[] = {
	{ "udp-echo", "UDP echo responder, replies from the VIP",
	  udp_echo_usage, cmd_udp_echo },
	{ "udp-client", "paced UDP flows; loss and outage report",
	  udp_client_usage, cmd_udp_client },
	{ "tcp-server", "TCP PING/PONG server for many connections",
	  tcp_server_usage, cmd_tcp_server },
	{ "tcp-client", "long-lived TCP connections; broken-connection report",
	  tcp_client_usage, cmd_tcp_client },
};

static void usage_main(FILE *f)
{
	unsigned int i;

	fputs("Usage: xh-traffic COMMAND [OPTIONS]\n"
	      "       xh-traffic help [COMMAND]\n"
	      "       xh-traffic COMMAND --help\n"
	      "\n"
	      "Traffic for the xdpha end-to-end tests. Commands:\n", f);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-12s %s\n", cmds[i].name, cmds[i].summary);
	fputs("\nExit status: 0 ok, 1 runtime error, 2 usage error.\n", f);
}

static const struct cmd *cmd_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct cmd *c;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage_main(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		if (argc < 3) {
			usage_main(stdout);
			return 0;
		}
		c = cmd_find(argv[2]);
		if (!c) {
			pr_err("unknown command '%s'", argv[2]);
			usage_main(stderr);
			return EXIT_USAGE;
		}
		fputs(c->usage, stdout);
		return 0;
	}
	c = cmd_find(argv[1]);
	if (!c) {
		pr_err("unknown command '%s'", argv[1]);
		usage_main(stderr);
		return EXIT_USAGE;
	}
	return c->run(argc - 1, argv + 1);
}
