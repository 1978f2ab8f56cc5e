// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kv_counter.c - a complete libxdpha application: a UDP service on a VIP
 * that counts the requests of each client, with the counters mirrored to
 * the standby member, so that after a takeover the new active continues
 * every client's count where the old one left it.
 *
 *   xdpha-kv-counter serve --dev b0 --local 198.18.0.11 --peer 198.18.0.12
 *                          --vip 198.18.100.1 [--port 7000] [--name b1]
 *                          [--checkpoint DIR] [--stamp FILE]
 *   xdpha-kv-counter ask --dst 198.18.100.1 [--port 7000]
 *                        [--clients N] [--rounds R] [--stats]
 *
 * A request is a client id (text); the answer is "ID COUNT NAME", COUNT
 * being how many requests of ID the service has seen, NAME the member that
 * answered. The request "stats" is answered with the member's figures as
 * JSON. Only the active member answers (its member program lets the VIP's
 * traffic through only there, and the service checks too).
 *
 * `ask` is its client: R rounds over the ids c0..cN-1, one request each,
 * printing one JSON line: answers, and for each id the count of the last
 * answer ("counts"), and which members answered.
 *
 * Build (installed): cc kv_counter.c $(pkg-config --cflags --libs xdpha)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <xdpha.h>

/* The record of a client: the key is its id, the value this. */
struct session {
	uint64_t count;		/* requests answered */
	uint64_t last_ms;	/* CLOCK_REALTIME of the last one */
};

struct opts {
	const char *dev, *local, *peer, *vip, *dst, *name, *ckpt, *stamp;
	unsigned int port, clients, rounds;
	bool stats;
};

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* A UDP socket on VIP:port. The VIP may not be on the interface yet (the
 * member controller adds it): bind regardless. */
static int vip_socket(const char *vip, unsigned int port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1;

	if (inet_pton(AF_INET, vip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, vip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		len = sizeof(*s6);
	} else {
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one));
	else
		setsockopt(fd, SOL_IPV6, IPV6_FREEBIND, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

struct server {
	struct xdpha *h;
	const char *name;
	int fd;
	uint64_t answered, ignored;
};

static void on_role(void *arg, bool active)
{
	struct server *s = arg;

	/* What a takeover carries over: every record the old active had
	 * mirrored is here already. */
	fprintf(stderr, "%s: %s, %zu sessions in the table\n", s->name,
		active ? "active" : "standby", xdpha_count(s->h));
}

static int answer_stats(struct server *s, char *out, size_t sz)
{
	struct xdpha_stats st;

	xdpha_stats(s->h, &st);
	return snprintf(out, sz,
		"{\"name\":\"%s\",\"active\":%s,\"records\":%" PRIu64
		",\"transport\":\"%s\",\"sent\":%" PRIu64 ",\"acked\":%" PRIu64
		",\"applied\":%" PRIu64 ",\"resyncs\":%" PRIu64
		",\"lag_us\":%" PRIu64 ",\"answered\":%" PRIu64 "}",
		s->name, xdpha_is_active(s->h) ? "true" : "false", st.records,
		st.transport, st.sent, st.acked, st.applied, st.resyncs,
		st.lag_us, s->answered);
}

/* One request: count it in the client's session and answer. */
static void handle(struct server *s, const char *id, size_t idlen,
		   const struct sockaddr *from, socklen_t fromlen)
{
	struct session ses = { 0 };
	size_t vlen = sizeof(ses);
	char out[512];
	int n, err, tries;

	if (!xdpha_is_active(s->h)) {
		s->ignored++;	/* the standby keeps quiet */
		return;
	}
	if (idlen == 5 && !memcmp(id, "stats", 5)) {
		n = answer_stats(s, out, sizeof(out));
		sendto(s->fd, out, n, 0, from, fromlen);
		return;
	}
	if (!idlen || idlen > XDPHA_KEY_MAX)
		return;
	xdpha_get(s->h, id, idlen, &ses, &vlen);
	ses.count++;
	ses.last_ms = wall_ms();
	/* -EAGAIN: the mirror's window is full; let it drain a little */
	for (tries = 0; (err = xdpha_put(s->h, id, idlen, &ses,
					 sizeof(ses))) == -EAGAIN &&
	     tries < 100; tries++)
		xdpha_process(s->h, 1);
	if (err) {
		fprintf(stderr, "%s: put: %s\n", s->name, strerror(-err));
		return;
	}
	n = snprintf(out, sizeof(out), "%.*s %" PRIu64 " %s", (int)idlen, id,
		     ses.count, s->name);
	sendto(s->fd, out, n, 0, from, fromlen);
	s->answered++;
}

static int serve(const struct opts *o)
{
	struct xdpha_opts xo = {
		.sz = sizeof(xo), .ifname = o->dev, .local = o->local,
		.peer = o->peer, .vip = o->vip, .stream = 7000,
		.checkpoint_dir = o->ckpt, .stamp_file = o->stamp,
	};
	struct server s = { .name = o->name };
	char err[256], buf[256];
	struct sockaddr_storage from;
	socklen_t fromlen;
	struct pollfd p[2];
	ssize_t len;
	int i;

	s.h = xdpha_open(&xo, err, sizeof(err));
	if (!s.h) {
		fprintf(stderr, "%s: libxdpha: %s\n", o->name, err);
		return 1;
	}
	if (err[0])	/* a checkpoint refused: we resync instead */
		fprintf(stderr, "%s: %s\n", o->name, err);
	s.fd = vip_socket(o->vip, o->port);
	if (s.fd < 0) {
		fprintf(stderr, "%s: UDP socket on %s port %u: %s\n", o->name,
			o->vip, o->port, strerror(-s.fd));
		xdpha_close(s.h);
		return 1;
	}
	xdpha_on_role(s.h, on_role, &s);
	fprintf(stderr, "%s: serving %s port %u, %s, %zu sessions\n", o->name,
		o->vip, o->port, xdpha_is_active(s.h) ? "active" : "standby",
		xdpha_count(s.h));
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	p[0] = (struct pollfd){ .fd = s.fd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = xdpha_fd(s.h), .events = POLLIN };
	while (!stop) {
		poll(p, 2, xdpha_timeout_ms(s.h));
		for (i = 0; i < 64; i++) {
			fromlen = sizeof(from);
			len = recvfrom(s.fd, buf, sizeof(buf), 0,
				       (struct sockaddr *)&from, &fromlen);
			if (len < 0)
				break;
			handle(&s, buf, len, (struct sockaddr *)&from, fromlen);
		}
		/* sends what the puts above queued, takes the peer's */
		xdpha_process(s.h, 0);
	}
	fprintf(stderr, "%s: stopping with %zu sessions\n", o->name,
		xdpha_count(s.h));
	close(s.fd);
	xdpha_close(s.h);
	return 0;
}

/* ---- the client --------------------------------------------------------- */

static int ask(const struct opts *o)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	unsigned int c, r, answers = 0, lost = 0;
	uint64_t *counts;
	char req[64], buf[512], names[256] = "";
	struct pollfd p;
	int fd, n;

	if (inet_pton(AF_INET, o->dst, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(o->port);
	} else if (inet_pton(AF_INET6, o->dst, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(o->port);
	} else {
		fprintf(stderr, "ask: bad --dst %s\n", o->dst);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sizeof(ss))) {
		perror("ask: socket");
		return 1;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (o->stats) {
		if (send(fd, "stats", 5, 0) < 0 || poll(&p, 1, 1000) != 1 ||
		    (n = recv(fd, buf, sizeof(buf) - 1, 0)) <= 0) {
			fprintf(stderr, "ask: no answer from %s\n", o->dst);
			return 1;
		}
		buf[n] = 0;
		printf("%s\n", buf);
		return 0;
	}
	counts = calloc(o->clients, sizeof(*counts));
	if (!counts)
		return 1;
	/* one request at a time, each answered (or lost after 500 ms) */
	for (r = 0; r < o->rounds; r++) {
		for (c = 0; c < o->clients; c++) {
			char id[64], who[64];
			uint64_t cnt;

			n = snprintf(req, sizeof(req), "c%u", c);
			send(fd, req, n, 0);
			if (poll(&p, 1, 500) != 1 ||
			    (n = recv(fd, buf, sizeof(buf) - 1, 0)) <= 0) {
				lost++;
				continue;
			}
			buf[n] = 0;
			if (sscanf(buf, "%63s %" SCNu64 " %63s", id, &cnt,
				   who) != 3 || strcmp(id, req))
				continue;
			counts[c] = cnt;
			answers++;
			if (!strstr(names, who) &&
			    strlen(names) + strlen(who) + 4 < sizeof(names))
				snprintf(names + strlen(names),
					 sizeof(names) - strlen(names),
					 "%s\"%s\"", names[0] ? "," : "", who);
		}
	}
	printf("{\"answers\":%u,\"lost\":%u,\"members\":[%s],\"counts\":[",
	       answers, lost, names);
	for (c = 0; c < o->clients; c++)
		printf("%s%" PRIu64, c ? "," : "", counts[c]);
	printf("]}\n");
	free(counts);
	close(fd);
	return lost ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: xdpha-kv-counter serve --dev DEV --local ADDR --peer ADDR --vip VIP\n"
"                              [--port 7000] [--name NAME]\n"
"                              [--checkpoint DIR] [--stamp FILE]\n"
"       xdpha-kv-counter ask --dst VIP [--port 7000] [--clients N]\n"
"                            [--rounds R] [--stats]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "local", required_argument, NULL, 'l' },
		{ "peer", required_argument, NULL, 'p' },
		{ "vip", required_argument, NULL, 'v' },
		{ "dst", required_argument, NULL, 't' },
		{ "port", required_argument, NULL, 'P' },
		{ "name", required_argument, NULL, 'n' },
		{ "checkpoint", required_argument, NULL, 'c' },
		{ "stamp", required_argument, NULL, 's' },
		{ "clients", required_argument, NULL, 'C' },
		{ "rounds", required_argument, NULL, 'R' },
		{ "stats", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct opts o = { .port = 7000, .name = "kv-counter", .clients = 10,
			  .rounds = 1 };
	const char *cmd;
	int c;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o.dev = optarg; break;
		case 'l': o.local = optarg; break;
		case 'p': o.peer = optarg; break;
		case 'v': o.vip = optarg; break;
		case 't': o.dst = optarg; break;
		case 'P': o.port = strtoul(optarg, NULL, 0); break;
		case 'n': o.name = optarg; break;
		case 'c': o.ckpt = optarg; break;
		case 's': o.stamp = optarg; break;
		case 'C': o.clients = strtoul(optarg, NULL, 0); break;
		case 'R': o.rounds = strtoul(optarg, NULL, 0); break;
		case 'S': o.stats = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!strcmp(cmd, "serve") && o.dev && o.local && o.peer && o.vip)
		return serve(&o);
	if (!strcmp(cmd, "ask") && o.dst && o.clients)
		return ask(&o);
	usage(stderr);
	return 2;
}
