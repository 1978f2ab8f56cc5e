// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xh_xport_test.c - xh-xport-test, drives the mirror transports
 * (user/xport.h) for selftests/net/xsk_transport.sh and
 * bench/xport_rate.sh:
 *
 *   echo    send every payload received back to the peer
 *   ping    N numbered payloads, windowed; every echoed byte checked
 *   sink    count what arrives (a rate benchmark's receiver)
 *   blast   send as fast as the transport takes it (its sender)
 *   probe   is an AF_XDP socket registered for a queue in xm_xsks?
 *
 * Reports are JSON (written by hand: only numbers and fixed strings).
 * Exit status: 0 ok, 1 failure (ping: any payload lost, corrupt or
 * duplicated), 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "log.h"
#include "svc.h"
#include "xport.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

#define MAX_BATCH	1024
#define HDR		8	/* seq (u32), size (u32) at the payload's start */

struct opts {
	const char *cmd, *mode, *dev, *json, *ready;
	struct xh_xport_cfg c;
	bool have_local, have_peer;
	unsigned long count;
	unsigned int size;	/* 0: mixed sizes */
	unsigned int window, timeout_ms, cpu;
	double duration;
	bool pin;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xh-xport-test CMD --mode xsk|xsk-copy|udp --dev DEV --local ADDR --peer ADDR [options]\n"
		"  CMD: echo, ping, sink, blast; or: probe --dev DEV [--queue Q]\n"
		"  --queue Q          queue (default 0)\n"
		"  --port P           local UDP port (default 7868); --peer-port P\n"
		"  --batch N          frames per syscall (default 64)\n"
		"  --rx-csum          AF_XDP: verify UDP checksums on receive\n"
		"  --count N          ping: payloads to send; echo: exit after N\n"
		"  --size N           payload size (ping: default mixed, blast: 64)\n"
		"  --window W         ping: most payloads in flight (default 64)\n"
		"  --timeout-ms T     ping: give up after T ms without progress (2000)\n"
		"  --duration S       sink, blast: seconds (default 3)\n"
		"  --cpu N            pin to CPU N\n"
		"  --ready FILE       written once the transport is open\n"
		"  --json FILE        the report (default stdout)\n"
		"  -v                 diagnostics\n");
}

static int open_xport(const struct opts *o, struct xh_xport **x)
{
	struct xh_xport_cfg c = o->c;

	c.ifname = o->dev;
	if (!strcmp(o->mode, "udp"))
		return xh_xport_open_udp(&c, x);
	if (!strcmp(o->mode, "xsk-copy"))
		c.flags |= XH_XPORT_F_COPY;
	return xh_xport_open_xsk(&c, x);
}

/* "ready" into path (not empty: the tests wait for a non-empty file). */
static void touch(const char *path)
{
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "w");
	if (f) {
		fputs("ready\n", f);
		fclose(f);
	}
}

static FILE *report_open(const struct opts *o)
{
	FILE *f = o->json && strcmp(o->json, "-") ? fopen(o->json, "w") : stdout;

	if (!f)
		perror(o->json);
	return f;
}

static void report_close(FILE *f)
{
	if (f && f != stdout)
		fclose(f);
	else if (f)
		fflush(f);
}

static void stats_json(FILE *f, struct xh_xport *x)
{
	struct xh_xport_stats st;
	int i;

	xh_xport_stats(x, &st);
	fprintf(f,
		"\"mode\": \"%s\", \"stats\": {\"tx_frames\": %llu, \"tx_bytes\": %llu, "
		"\"rx_frames\": %llu, \"rx_bytes\": %llu, \"tx_full\": %llu, "
		"\"tx_kicks\": %llu, \"tx_kick_drops\": %llu, \"tx_errors\": %llu, "
		"\"k_rx_dropped\": %llu, \"k_rx_ring_full\": %llu, \"k_fill_empty\": %llu, "
		"\"k_rx_invalid\": %llu, \"k_tx_invalid\": %llu, \"rx_drop\": {",
		xh_xport_mode(x), st.tx_frames, st.tx_bytes, st.rx_frames,
		st.rx_bytes, st.tx_full, st.tx_kicks, st.tx_kick_drops,
		st.tx_errors, st.k_rx_dropped, st.k_rx_ring_full,
		st.k_fill_empty, st.k_rx_invalid, st.k_tx_invalid);
	for (i = 0; i < XH_XPORT_DROP_MAX; i++)
		fprintf(f, "%s\"%s\": %llu", i ? ", " : "",
			xh_xport_drop_name(i), st.rx_drop[i]);
	fprintf(f, "}}");
}

/* Wait up to ms for fd to become readable (or writable). */
static void wait_fd(struct xh_xport *x, short ev, int ms)
{
	struct pollfd p = { .fd = xh_xport_fd(x), .events = ev };

	poll(&p, 1, ms);
}

/* Send all n, waiting for room; false if the transport stays full. */
static bool send_all(struct xh_xport *x, const struct iovec *v, unsigned int n)
{
	unsigned int done = 0, idle = 0;
	int r;

	while (done < n && idle < 1000 && !stop) {
		r = xh_xport_send(x, v + done, n - done);
		if (r < 0) {
			fprintf(stderr, "send: %s\n", strerror(-r));
			return false;
		}
		done += r;
		if (!r) {
			idle++;
			wait_fd(x, POLLOUT, 1);
		}
	}
	return done == n;
}

static int cmd_echo(const struct opts *o, struct xh_xport *x)
{
	struct xh_xport_msg m[MAX_BATCH];
	struct iovec v[MAX_BATCH];
	unsigned long echoed = 0, failed = 0;
	int n, i;
	FILE *f;

	touch(o->ready);
	while (!stop && (!o->count || echoed < o->count)) {
		n = xh_xport_recv(x, m, MAX_BATCH);
		if (n < 0) {
			fprintf(stderr, "recv: %s\n", strerror(-n));
			break;
		}
		if (!n) {
			wait_fd(x, POLLIN, 100);
			continue;
		}
		for (i = 0; i < n; i++) {
			v[i].iov_base = (void *)m[i].data;
			v[i].iov_len = m[i].len;
		}
		if (send_all(x, v, n))
			echoed += n;
		else
			failed += n;
	}
	f = report_open(o);
	if (!f)
		return 1;
	fprintf(f, "{\"echoed\": %lu, \"failed\": %lu, ", echoed, failed);
	stats_json(f, x);
	fprintf(f, "}\n");
	report_close(f);
	return 0;
}

static const unsigned int mixed[] = { HDR, HDR + 1, 63, 64, 65, 511, 1000 };
#define N_MIXED	(sizeof(mixed) / sizeof(mixed[0]))

/* Payload size of seq: fixed, or cycling through edge sizes and the
 * largest two. */
static unsigned int size_of(const struct opts *o, unsigned int max,
			    unsigned long seq)
{
	unsigned int k = seq % (N_MIXED + 2);

	if (o->size)
		return o->size;
	return k < N_MIXED ? mixed[k] : max - (k - N_MIXED);
}

static __u8 pattern(unsigned long seq, unsigned int i)
{
	return (__u8)(seq * 7 + i * 13 + (seq >> 8));
}

static void payload_fill(__u8 *p, unsigned long seq, unsigned int len)
{
	__u32 s = seq, l = len;
	unsigned int i;

	memcpy(p, &s, 4);
	memcpy(p + 4, &l, 4);
	for (i = HDR; i < len; i++)
		p[i] = pattern(seq, i);
}

/* 0 if m is the intact echo of a payload we sent; its seq in *seq. */
static int payload_check(const struct opts *o, unsigned int max,
			 const struct xh_xport_msg *m, unsigned long sent,
			 unsigned long *seq)
{
	const __u8 *p = m->data;
	__u32 s, l;
	unsigned int i;

	if (m->len < HDR)
		return -1;
	memcpy(&s, p, 4);
	memcpy(&l, p + 4, 4);
	if (s >= sent || l != m->len || l != size_of(o, max, s))
		return -1;
	for (i = HDR; i < l; i++)
		if (p[i] != pattern(s, i))
			return -1;
	*seq = s;
	return 0;
}

static int cmd_ping(const struct opts *o, struct xh_xport *x)
{
	unsigned int max = xh_xport_max_payload(x), w = o->window, k, i;
	unsigned long sent = 0, ok = 0, bad = 0, dup = 0, seq;
	struct xh_xport_msg m[MAX_BATCH];
	struct iovec v[MAX_BATCH];
	double t0 = now_s(), last = t0;
	__u8 *seen, *buf;
	int n, rc;
	FILE *f;

	if (w > MAX_BATCH)
		w = MAX_BATCH;
	if (o->size && (o->size < HDR || o->size > max)) {
		fprintf(stderr, "--size %u: %u to %u\n", o->size, HDR, max);
		return 2;
	}
	seen = calloc(o->count, 1);
	buf = malloc((size_t)w * max);
	if (!seen || !buf)
		return 1;
	while (!stop && ok + bad < o->count) {
		/* top the window up */
		k = 0;
		while (sent + k < o->count && sent + k - ok - bad < w && k < w) {
			v[k].iov_base = buf + (size_t)k * max;
			v[k].iov_len = size_of(o, max, sent + k);
			payload_fill(v[k].iov_base, sent + k, v[k].iov_len);
			k++;
		}
		if (k) {
			n = xh_xport_send(x, v, k);
			if (n < 0) {
				fprintf(stderr, "send: %s\n", strerror(-n));
				break;
			}
			sent += n;
		}
		n = xh_xport_recv(x, m, MAX_BATCH);
		if (n < 0) {
			fprintf(stderr, "recv: %s\n", strerror(-n));
			break;
		}
		for (i = 0; i < (unsigned int)n; i++) {
			if (payload_check(o, max, &m[i], sent, &seq)) {
				bad++;
			} else if (seen[seq]) {
				dup++;
			} else {
				seen[seq] = 1;
				ok++;
			}
		}
		if (n) {
			last = now_s();
		} else {
			if ((now_s() - last) * 1000 > o->timeout_ms)
				break;
			wait_fd(x, POLLIN, 1);
		}
	}
	rc = ok == o->count && !bad && !dup ? 0 : 1;
	f = report_open(o);
	if (f) {
		fprintf(f,
			"{\"count\": %lu, \"sent\": %lu, \"ok\": %lu, \"bad\": %lu, "
			"\"dup\": %lu, \"lost\": %lu, \"max_payload\": %u, "
			"\"seconds\": %.3f, ",
			o->count, sent, ok, bad, dup, sent - ok, max,
			now_s() - t0);
		stats_json(f, x);
		fprintf(f, "}\n");
		report_close(f);
	}
	free(seen);
	free(buf);
	return f ? rc : 1;
}

/* Count what arrives: from the first frame for --duration, or until
 * nothing came for a second. Busy-polls, as does blast. */
static int cmd_sink(const struct opts *o, struct xh_xport *x)
{
	struct xh_xport_msg m[MAX_BATCH];
	unsigned long frames = 0, bytes = 0;
	double t0 = 0, t1 = 0, t;
	int n, i;
	FILE *f;

	touch(o->ready);
	while (!stop) {
		n = xh_xport_recv(x, m, MAX_BATCH);
		if (n < 0) {
			fprintf(stderr, "recv: %s\n", strerror(-n));
			return 1;
		}
		t = now_s();
		if (n > 0) {
			if (!frames)
				t0 = t;
			t1 = t;
			frames += n;
			for (i = 0; i < n; i++)
				bytes += m[i].len;
		}
		if (frames && (t - t0 > o->duration || t - t1 > 1.0))
			break;
		if (!frames && !n)
			wait_fd(x, POLLIN, 10);
	}
	f = report_open(o);
	if (!f)
		return 1;
	fprintf(f,
		"{\"frames\": %lu, \"bytes\": %lu, \"seconds\": %.6f, "
		"\"frames_per_s\": %.0f, ",
		frames, bytes, t1 - t0,
		t1 > t0 ? (frames - 1) / (t1 - t0) : 0.0);
	stats_json(f, x);
	fprintf(f, "}\n");
	report_close(f);
	return 0;
}

static int cmd_blast(const struct opts *o, struct xh_xport *x)
{
	unsigned int b = o->c.batch ? o->c.batch : XH_XPORT_BATCH, len, i;
	unsigned long sent = 0, calls = 0;
	struct iovec v[MAX_BATCH];
	double t0, t;
	__u8 *buf;
	int n;
	FILE *f;

	len = o->size ? o->size : 64;
	if (len < HDR || len > xh_xport_max_payload(x) || b > MAX_BATCH) {
		fprintf(stderr, "--size %u: %u to %u\n", len, HDR,
			xh_xport_max_payload(x));
		return 2;
	}
	buf = calloc(b, len);
	if (!buf)
		return 1;
	for (i = 0; i < b; i++) {
		v[i].iov_base = buf + (size_t)i * len;
		v[i].iov_len = len;
		payload_fill(v[i].iov_base, i, len);
	}
	t0 = t = now_s();
	while (!stop && t - t0 < o->duration) {
		/* a sequence number in each, as a real sender writes them */
		for (i = 0; i < b; i++)
			memcpy(v[i].iov_base, &(__u32){ sent + i }, 4);
		n = xh_xport_send(x, v, b);
		if (n < 0) {
			fprintf(stderr, "send: %s\n", strerror(-n));
			free(buf);
			return 1;
		}
		sent += n;
		if (++calls % 16 == 0)
			t = now_s();
	}
	t = now_s();
	free(buf);
	f = report_open(o);
	if (!f)
		return 1;
	fprintf(f,
		"{\"sent\": %lu, \"size\": %u, \"seconds\": %.6f, "
		"\"frames_per_s\": %.0f, ",
		sent, len, t - t0, sent / (t - t0));
	stats_json(f, x);
	fprintf(f, "}\n");
	report_close(f);
	return 0;
}

/* Registered? Insert a throwaway AF_XDP socket with BPF_NOEXIST: EEXIST
 * means a socket holds the slot (the kernel does not let user space read
 * an XSKMAP, so bpftool cannot show it). An empty slot gets the probe for
 * an instant; it is deleted again at once. */
static int cmd_probe(const struct opts *o)
{
	__u32 q = o->c.queue;
	int map, fd, err;

	map = xh_xport_xsks_map(o->dev);
	if (map < 0)
		return 1;
	fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("AF_XDP socket");
		return 1;
	}
	err = bpf_map_update_elem(map, &q, &fd, BPF_NOEXIST) ? -errno : 0;
	if (!err)
		bpf_map_delete_elem(map, &q);
	close(fd);
	close(map);
	if (err && err != -EEXIST) {
		fprintf(stderr, "probe: %s\n", strerror(-err));
		return 1;
	}
	printf("%s\n", err ? "registered" : "empty");
	return 0;
}

enum { O_MODE = 256, O_DEV, O_LOCAL, O_PEER, O_QUEUE, O_PORT, O_PEER_PORT,
       O_BATCH, O_RX_CSUM, O_COUNT, O_SIZE, O_WINDOW, O_TIMEOUT,
       O_DURATION, O_CPU, O_READY, O_JSON };

static const struct option longopts[] = {
	{ "mode", required_argument, NULL, O_MODE },
	{ "dev", required_argument, NULL, O_DEV },
	{ "local", required_argument, NULL, O_LOCAL },
	{ "peer", required_argument, NULL, O_PEER },
	{ "queue", required_argument, NULL, O_QUEUE },
	{ "port", required_argument, NULL, O_PORT },
	{ "peer-port", required_argument, NULL, O_PEER_PORT },
	{ "batch", required_argument, NULL, O_BATCH },
	{ "rx-csum", no_argument, NULL, O_RX_CSUM },
	{ "count", required_argument, NULL, O_COUNT },
	{ "size", required_argument, NULL, O_SIZE },
	{ "window", required_argument, NULL, O_WINDOW },
	{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "cpu", required_argument, NULL, O_CPU },
	{ "ready", required_argument, NULL, O_READY },
	{ "json", required_argument, NULL, O_JSON },
	{ "help", no_argument, NULL, 'h' },
	{}
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	__u8 fam;
	int c, verbose = 0;

	o->mode = "xsk";
	o->window = 64;
	o->timeout_ms = 2000;
	o->duration = 3;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case O_MODE:
			o->mode = optarg;
			break;
		case O_DEV:
			o->dev = optarg;
			break;
		case O_LOCAL:
		case O_PEER:
			if (xh_addr_parse(optarg, c == O_LOCAL ? o->c.local :
					  o->c.peer, &fam)) {
				fprintf(stderr, "bad address %s\n", optarg);
				return -1;
			}
			if (o->c.family && o->c.family != fam) {
				fprintf(stderr, "--local and --peer: one family\n");
				return -1;
			}
			o->c.family = fam;
			*(c == O_LOCAL ? &o->have_local : &o->have_peer) = true;
			break;
		case O_QUEUE:
			o->c.queue = strtoul(optarg, NULL, 0);
			break;
		case O_PORT:
			o->c.port = strtoul(optarg, NULL, 0);
			break;
		case O_PEER_PORT:
			o->c.peer_port = strtoul(optarg, NULL, 0);
			break;
		case O_BATCH:
			o->c.batch = strtoul(optarg, NULL, 0);
			break;
		case O_RX_CSUM:
			o->c.flags |= XH_XPORT_F_RX_CSUM;
			break;
		case O_COUNT:
			o->count = strtoul(optarg, NULL, 0);
			break;
		case O_SIZE:
			o->size = strtoul(optarg, NULL, 0);
			break;
		case O_WINDOW:
			o->window = strtoul(optarg, NULL, 0);
			break;
		case O_TIMEOUT:
			o->timeout_ms = strtoul(optarg, NULL, 0);
			break;
		case O_DURATION:
			o->duration = strtod(optarg, NULL);
			break;
		case O_CPU:
			o->cpu = strtoul(optarg, NULL, 0);
			o->pin = true;
			break;
		case O_READY:
			o->ready = optarg;
			break;
		case O_JSON:
			o->json = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	xh_log_init(verbose ? XH_LOG_INFO + verbose - 1 : XH_LOG_WARN);
	if (optind != argc - 1 || !o->dev)
		return -1;
	o->cmd = argv[optind];
	if (!strcmp(o->cmd, "probe"))
		return 0;
	if (strcmp(o->mode, "xsk") && strcmp(o->mode, "xsk-copy") &&
	    strcmp(o->mode, "udp")) {
		fprintf(stderr, "--mode: xsk, xsk-copy or udp\n");
		return -1;
	}
	if (!o->have_local || !o->have_peer) {
		fprintf(stderr, "--local and --peer are needed\n");
		return -1;
	}
	if (!strcmp(o->cmd, "ping") && (!o->count || !o->window)) {
		fprintf(stderr, "ping: --count N and a window\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {};
	struct xh_xport *x;
	int err, rc;

	if (parse_opts(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (o.pin) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			perror("sched_setaffinity");
	}
	if (!strcmp(o.cmd, "probe"))
		return cmd_probe(&o);
	err = open_xport(&o, &x);
	if (err) {
		fprintf(stderr, "xh-xport-test: open %s transport on %s: %s\n",
			o.mode, o.dev, strerror(-err));
		return 1;
	}
	fprintf(stderr, "xh-xport-test: %s on %s, %s\n", o.cmd, o.dev,
		xh_xport_mode(x));
	if (!strcmp(o.cmd, "echo"))
		rc = cmd_echo(&o, x);
	else if (!strcmp(o.cmd, "ping"))
		rc = cmd_ping(&o, x);
	else if (!strcmp(o.cmd, "sink"))
		rc = cmd_sink(&o, x);
	else if (!strcmp(o.cmd, "blast"))
		rc = cmd_blast(&o, x);
	else {
		usage(stderr);
		rc = 2;
	}
	xh_xport_close(x);
	return rc;
}
