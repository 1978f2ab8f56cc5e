// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * steer_bench.c - ns per packet of the steering program through
 * BPF_PROG_TEST_RUN: a new TCP flow (SYN), an established flow, a non-VIP
 * packet, and the empty XDP_TX program as the baseline, all in one run and
 * through the same restoring wrapper (steer_bench.bpf.c). Each case is the
 * median of RUNS runs of REPEAT packets; the program's own counters must
 * show that every repetition returned the expected verdict.
 *
 * Prints a table on stderr and a JSON object of results on stdout:
 * {"name": {"value": v, "unit": "ns", "baseline": "...", "ratio": r}}.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xh_abi.h"
#include "tables.h"
#include "steer.skel.h"
#include "steer_bench.skel.h"

#define RUNS	5
#define REPEAT	1000000
#define FRAME	64

enum { C_SYN, C_EST, C_PASS, C_EMPTY, C_MAX };

static const char *const names[C_MAX] = {
	"steer_syn_ns", "steer_established_ns", "steer_pass_ns",
	"xdp_tx_empty_ns",
};

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

/* An IPv4/TCP frame, padded to FRAME bytes. */
static void frame(__u8 *f, const char *dst, __u8 flags)
{
	__u32 sum = 0;
	int i;

	memset(f, 0, FRAME);
	memcpy(f, "\x02\x5e\x00\x00\x00\x01\x02\xcc\x00\x00\x00\x01", 12);
	put16(f + 12, 0x0800);
	f[14] = 0x45;
	put16(f + 16, 40);
	f[22] = 64;
	f[23] = IPPROTO_TCP;
	inet_pton(AF_INET, "198.18.0.1", f + 26);
	inet_pton(AF_INET, dst, f + 30);
	for (i = 14; i < 34; i += 2)
		sum += (f[i] << 8) | f[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(f + 24, ~sum);
	put16(f + 34, 40000);
	put16(f + 36, 80);
	f[46] = 5 << 4;
	f[47] = flags;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static __u64 ctr(int fd, __u32 id)
{
	struct xh_ctr c = {};

	xh_ctr_read(fd, id, &c);
	return c.packets;
}

/* One case: load a wrapper with the frame, run RUNS x REPEAT, median. */
static int run_case(int c, struct steer_bpf *st, __u64 *median)
{
	struct steer_bench_bpf *wb;
	__u8 in[FRAME], out[FRAME + 64];
	__u64 ns[RUNS];
	__u32 zero = 0, expect_ctr, expect_ret;
	int err, i, target, stats = bpf_map__fd(st->maps.xh_stats);
	__u64 before;

	frame(in, c == C_PASS ? "10.0.0.99" : "10.0.0.100",
	      c == C_EST ? 0x10 : 0x02);
	wb = steer_bench_bpf__open();
	if (!wb)
		return -errno;
	wb->rodata->xb_len = FRAME;
	wb->rodata->xb_vary = c == C_SYN;
	err = steer_bench_bpf__load(wb);
	if (err)
		goto out;
	err = bpf_map_update_elem(bpf_map__fd(wb->maps.xb_orig), &zero, in, 0);
	if (err)
		goto out;
	target = c == C_EMPTY ? bpf_program__fd(wb->progs.xb_empty_tx) :
				bpf_program__fd(st->progs.xdpha_steer);
	err = bpf_map_update_elem(bpf_map__fd(wb->maps.xb_target), &zero,
				  &target, 0);
	if (err)
		goto out;
	if (c == C_EST) {
		/* make the flow established before timing it */
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in,
			    .data_size_in = FRAME, .repeat = 1);
		bpf_prog_test_run_opts(bpf_program__fd(st->progs.xdpha_steer), &o);
	}
	expect_ctr = c == C_PASS ? XH_CTR_PASS_NOT_VIP : XH_CTR_TX;
	expect_ret = c == C_PASS ? XDP_PASS : XDP_TX;
	for (i = 0; i < RUNS; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in,
			    .data_size_in = FRAME, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = REPEAT);

		before = ctr(stats, expect_ctr);
		err = bpf_prog_test_run_opts(bpf_program__fd(wb->progs.xb_wrap), &o);
		if (err) {
			err = -errno;
			goto out;
		}
		if (o.retval != expect_ret ||
		    (c != C_EMPTY && ctr(stats, expect_ctr) - before != REPEAT)) {
			fprintf(stderr, "%s: run %d: verdict %u, %llu of %d counted\n",
				names[c], i, o.retval,
				(unsigned long long)(ctr(stats, expect_ctr) - before),
				REPEAT);
			err = -EIO;
			goto out;
		}
		ns[i] = o.duration;
	}
	qsort(ns, RUNS, sizeof(ns[0]), cmp_u64);
	*median = ns[RUNS / 2];
out:
	steer_bench_bpf__destroy(wb);
	return err;
}

int main(void)
{
	struct xh_steer_maps m = {};
	struct steer_bpf *st;
	struct xh_vip_key vk = { .port = htons(80), .proto = IPPROTO_TCP,
				 .family = XH_FAM_V4 };
	struct xh_service svc = { .id = 1, .table_size = XH_MAGLEV_DEFAULT,
				  .fwd = XH_FWD_L2, .family = XH_FAM_V4 };
	struct xh_vip vip = { .svc_id = 1 };
	__u64 res[C_MAX];
	__u32 i;
	int err;

	st = steer_bpf__open_and_load();
	if (!st) {
		fprintf(stderr, "steer_bench: load steer.bpf.o: %s (root?)\n",
			strerror(errno));
		return 1;
	}
	m.vips = bpf_map__fd(st->maps.xh_vips_v1);
	m.services = bpf_map__fd(st->maps.xh_services_v1);
	m.backends = bpf_map__fd(st->maps.xh_backends_v1);
	m.svc_bk = bpf_map__fd(st->maps.xh_svc_bk_v1);
	m.maglev = bpf_map__fd(st->maps.xh_maglev_v1);
	inet_pton(AF_INET, "10.0.0.100", vk.addr);
	err = bpf_map_update_elem(m.services, &svc.id, &svc, 0);
	err = err ?: bpf_map_update_elem(m.vips, &vk, &vip, 0);
	for (i = 1; !err && i <= 4; i++) {
		struct xh_backend b = { .family = XH_FAM_V4, .state = XH_BK_UP,
					.svc_id = 1, .weight = 1,
					.mac = { 2, 0xbb, 0, 0, 0, i } };

		b.addr[0] = htonl(0x0a010000 + i);
		/* with a heartbeat, so the liveness test is in the path */
		b.detect_ns = 3600ULL * 1000000000ULL;
		b.last_seen_ns = xh_now_ns();
		err = bpf_map_update_elem(m.backends, &i, &b, 0);
	}
	err = err ?: xh_svc_rebuild(&m, 1, XH_MAGLEV_DEFAULT, NULL);
	if (err) {
		fprintf(stderr, "steer_bench: setup: %s\n", strerror(-err));
		goto out;
	}
	/* Interleave the cases so drift on a shared machine hits all alike. */
	for (i = 0; i < C_MAX; i++) {
		err = run_case(i, st, &res[i]);
		if (err) {
			fprintf(stderr, "steer_bench: %s: %s\n", names[i],
				strerror(-err));
			goto out;
		}
	}
	fprintf(stderr, "%-24s %10s %8s   (%d x %d packets, median)\n",
		"case", "ns/pkt", "ratio", RUNS, REPEAT);
	for (i = 0; i < C_MAX; i++)
		fprintf(stderr, "%-24s %10llu %8.2f\n", names[i],
			(unsigned long long)res[i],
			(double)res[i] / (double)(res[C_EMPTY] ? res[C_EMPTY] : 1));
	printf("{");
	for (i = 0; i < C_MAX; i++)
		printf("%s\"%s\": {\"value\": %llu, \"unit\": \"ns\", "
		       "\"baseline\": \"%s\", \"ratio\": %.3f}",
		       i ? ", " : "", names[i], (unsigned long long)res[i],
		       names[C_EMPTY],
		       (double)res[i] / (double)(res[C_EMPTY] ? res[C_EMPTY] : 1));
	printf("}\n");
out:
	steer_bpf__destroy(st);
	return err ? 1 : 0;
}
