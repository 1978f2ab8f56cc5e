// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * steer_lb.c - backend choice in the data path: the kernel's choice equals
 * the user-space Maglev prediction, flows stick, dead backends (stale stamp,
 * down) get nothing, drain keeps old flows only, tiers fail over without
 * user space, a SYN flood evicts no established flow, counters add up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "steer.skel.h"
#include "test_progs.h"
#include "testlib.h"
#include "xh_hash.h"

#define VIP4	"10.0.0.100"
#define M	XH_MAGLEV_DEFAULT
#define SMALL_M	4099

static __u32 rng_state = 0x12345678;

static __u32 rnd(void)
{
	/* xorshift32: reproducible runs */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* A random TCP flow to VIP4:80; src text lives in buf. */
static void rand_flow(struct pkt_spec *s, char *buf, __u8 flags)
{
	__u32 a = rnd();

	snprintf(buf, 32, "198.%u.%u.%u", 18 + (a >> 24) % 2, (a >> 16) & 0xff,
		 (a >> 8) & 0xff);
	memset(s, 0, sizeof(*s));
	s->family = 4;
	s->src = buf;
	s->dst = VIP4;
	s->proto = IPPROTO_TCP;
	s->sport = 1024 + rnd() % 60000;
	s->dport = 80;
	s->tcp_flags = flags;
}

static __u32 predict(const struct pkt_spec *s, const __u32 *tab, __u32 m)
{
	struct xh_flow_key k;

	pkt_flow_key(s, &k);
	return tab[xh_flow_hash(&k) % m];
}

static __u32 flow_hash(const struct pkt_spec *s)
{
	struct xh_flow_key k;

	pkt_flow_key(s, &k);
	return xh_flow_hash(&k);
}

static int base_setup(struct steer_fx *fx, __u32 flows, __u32 flown)
{
	int err = fx_open(fx, flows, flown);

	if (!ASSERT_OK(err, "fx_open"))
		return err;
	err = fx_add_service(fx, 1, VIP4, 80, IPPROTO_TCP, XH_FWD_L2, NULL, 0);
	err = err ?: fx_add_backend(fx, 1, 1, "10.1.0.1", 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(fx, 2, 1, "10.1.0.2", 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(fx, 3, 1, "10.1.0.3", 0, 2, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(fx, 4, 1, "10.1.0.4", 0, 3, XH_BK_UP, 0, 0);
	ASSERT_OK(err, "base setup");
	return err;
}

static void maglev_prediction(void)
{
	struct steer_fx fx;
	struct pkt_spec s;
	char src[32];
	__u32 *tab = calloc(M, sizeof(*tab)), i, ret, got, miss = 0;
	__u32 per[5] = {};

	if (!ASSERT_OK_PTR(tab, "calloc") || base_setup(&fx, 0, 0))
		goto out;
	if (!ASSERT_OK(fx_rebuild(&fx, 1, M, tab), "rebuild"))
		goto out;
	for (i = 0; i < 10000; i++) {
		rand_flow(&s, src, 0x02);
		got = fx_send(&fx, &s, &ret);
		if (got != predict(&s, tab, M) || ret != XDP_TX)
			miss++;
		if (got < 5)
			per[got]++;
	}
	ASSERT_EQ(miss, 0, "kernel choice == Maglev prediction, 10000 flows");
	/* weights 1:1:2:3 of 10000: expect ~1429, 1429, 2857, 4286 */
	ASSERT_GT(per[1], 1200, "backend 1 share");
	ASSERT_GT(per[3], 2500, "backend 3 share (weight 2)");
	ASSERT_GT(per[4], 3900, "backend 4 share (weight 3)");
	ASSERT_GT(per[4], per[3], "weight 3 > weight 2");
out:
	free(tab);
	fx_close(&fx);
}

static void stickiness(void)
{
	struct steer_fx fx;
	struct pkt_spec s[500];
	char src[500][32];
	__u32 *tab = calloc(M, sizeof(*tab)), before[500], i, ret, moved = 0;
	__u32 on5 = 0, miss = 0;

	if (!ASSERT_OK_PTR(tab, "calloc") || base_setup(&fx, 0, 0))
		goto out;
	ASSERT_OK(fx_rebuild(&fx, 1, M, tab), "rebuild");
	for (i = 0; i < 500; i++) {
		rand_flow(&s[i], src[i], 0x10);	/* ACK: established */
		before[i] = fx_send(&fx, &s[i], &ret);
	}
	/* A new backend changes the table under the flows ... */
	ASSERT_OK(fx_add_backend(&fx, 5, 1, "10.1.0.5", 0, 3, XH_BK_UP, 0, 0),
		  "add backend");
	ASSERT_OK(fx_rebuild(&fx, 1, M, tab), "rebuild");
	for (i = 0; i < 500; i++) {
		if (fx_send(&fx, &s[i], &ret) != before[i])
			moved++;
		if (predict(&s[i], tab, M) == 5)
			on5++;
	}
	/* ... but no established flow moves. */
	ASSERT_EQ(moved, 0, "established flows stay on their backend");
	ASSERT_GT(on5, 50, "the new table would have moved some");
	for (i = 0; i < 500; i++) {
		struct pkt_spec n;
		char nsrc[32];

		rand_flow(&n, nsrc, 0x02);
		if (fx_send(&fx, &n, &ret) != predict(&n, tab, M))
			miss++;
	}
	ASSERT_EQ(miss, 0, "new flows follow the new table");
out:
	free(tab);
	fx_close(&fx);
}

static void stale_stamp(void)
{
	struct steer_fx fx;
	struct pkt_spec s[2000];
	char src[2000][32];
	__u32 *tab = calloc(M, sizeof(*tab)), fb[2000], i, ret, got;
	__u32 to2 = 0, hashed2 = 0, wrong = 0, unstable = 0, back = 0;

	if (!ASSERT_OK_PTR(tab, "calloc") || base_setup(&fx, 0, 0))
		goto out;
	/* backend 2 has a heartbeat: 100 ms detection */
	ASSERT_OK(fx_add_backend(&fx, 2, 1, "10.1.0.2", 0, 1, XH_BK_UP, 0,
				 100000000ULL), "backend 2 with heartbeat");
	ASSERT_OK(fx_rebuild(&fx, 1, M, tab), "rebuild");
	/* its stamp goes stale: no user space acts, no table rebuild */
	ASSERT_OK(fx_set_backend(&fx, 2, XH_BK_UP, xh_now_ns() - 1000000000ULL),
		  "stale stamp");
	for (i = 0; i < 2000; i++) {
		rand_flow(&s[i], src[i], 0x02);
		got = fx_send(&fx, &s[i], &ret);
		fb[i] = got;
		if (got == 2)
			to2++;
		if (predict(&s[i], tab, M) == 2) {
			hashed2++;
			if (got != model_choose(&fx, 1, tab, M, flow_hash(&s[i])))
				wrong++;
		}
		if (fx_send(&fx, &s[i], &ret) != got)
			unstable++;
	}
	ASSERT_EQ(to2, 0, "stale backend receives nothing");
	ASSERT_GT(hashed2, 100, "its table share was real");
	ASSERT_EQ(wrong, 0, "fallback follows the documented rule");
	ASSERT_EQ(unstable, 0, "same flow, same fallback");

	/* fresh stamp: new flows hashed to 2 go to 2 again; flows already
	 * moved stay where they went */
	ASSERT_OK(fx_set_backend(&fx, 2, XH_BK_UP, xh_now_ns()), "fresh stamp");
	for (i = 0; i < 2000; i++) {
		if (fx_send(&fx, &s[i], &ret) != fb[i])
			unstable++;
	}
	ASSERT_EQ(unstable, 0, "moved flows stay after recovery");
	for (i = 0; i < 500; i++) {
		struct pkt_spec n;
		char nsrc[32];

		rand_flow(&n, nsrc, 0x02);
		got = fx_send(&fx, &n, &ret);
		if (got != predict(&n, tab, M))
			wrong++;
		back += got == 2;
	}
	ASSERT_EQ(wrong, 0, "recovered backend takes its own entries");
	ASSERT_GT(back, 20, "recovered backend takes new flows");
out:
	free(tab);
	fx_close(&fx);
}

static void down_and_drain(void)
{
	struct steer_fx fx;
	struct pkt_spec s[1000];
	char src[1000][32];
	__u32 *tab = calloc(M, sizeof(*tab)), first[1000], i, ret, got;
	__u32 on3 = 0, kept = 0, new3 = 0, moved_other = 0, still3 = 0;
	__u64 fb0;

	if (!ASSERT_OK_PTR(tab, "calloc") || base_setup(&fx, 0, 0))
		goto out;
	ASSERT_OK(fx_rebuild(&fx, 1, M, tab), "rebuild");
	for (i = 0; i < 1000; i++) {
		rand_flow(&s[i], src[i], 0x10);
		first[i] = fx_send(&fx, &s[i], &ret);
		on3 += first[i] == 3;
	}
	ASSERT_GT(on3, 100, "backend 3 has flows");

	ASSERT_OK(fx_set_backend(&fx, 3, XH_BK_DRAIN, xh_now_ns()), "drain");
	for (i = 0; i < 1000; i++)
		if (first[i] == 3 && fx_send(&fx, &s[i], &ret) == 3)
			kept++;
	ASSERT_EQ(kept, on3, "drain: existing flows stay");
	for (i = 0; i < 1000; i++) {
		struct pkt_spec n;
		char nsrc[32];

		rand_flow(&n, nsrc, 0x02);
		new3 += fx_send(&fx, &n, &ret) == 3;
	}
	ASSERT_EQ(new3, 0, "drain: no new flow");

	fb0 = fx_ctr(&fx, XH_CTR_FALLBACK);
	ASSERT_OK(fx_set_backend(&fx, 3, XH_BK_DOWN, xh_now_ns()), "down");
	for (i = 0; i < 1000; i++) {
		got = fx_send(&fx, &s[i], &ret);
		if (first[i] == 3)
			still3 += got == 3 || got == 0;
		else
			moved_other += got != first[i];
	}
	ASSERT_EQ(still3, 0, "down: its flows move to live backends");
	ASSERT_EQ(moved_other, 0, "down: other flows untouched");
	ASSERT_EQ(fx_ctr(&fx, XH_CTR_FALLBACK) - fb0, on3, "fallbacks counted");
out:
	free(tab);
	fx_close(&fx);
}

static void tiers(void)
{
	struct steer_fx fx;
	struct pkt_spec s;
	char src[32];
	__u32 *tab = calloc(SMALL_M, sizeof(*tab)), i, ret, got;
	__u32 per[40] = {};
	__u64 stale = xh_now_ns() - 1000000000ULL, det = 50000000ULL;
	int err;

	if (!ASSERT_OK_PTR(tab, "calloc"))
		goto out;
	err = fx_open(&fx, 0, 0);
	err = err ?: fx_add_service(&fx, 2, VIP4, 80, IPPROTO_TCP, XH_FWD_L2, NULL, 0);
	/* active/standby pairs as tiers: 21,22 first; 23,24 second */
	err = err ?: fx_add_backend(&fx, 21, 2, "10.2.0.21", 0, 1, XH_BK_UP, 0, det);
	err = err ?: fx_add_backend(&fx, 22, 2, "10.2.0.22", 0, 1, XH_BK_UP, 0, det);
	err = err ?: fx_add_backend(&fx, 23, 2, "10.2.0.23", 1, 1, XH_BK_UP, 0, det);
	err = err ?: fx_add_backend(&fx, 24, 2, "10.2.0.24", 1, 1, XH_BK_UP, 0, det);
	err = err ?: fx_rebuild(&fx, 2, SMALL_M, tab);
	if (!ASSERT_OK(err, "setup"))
		goto out;
	for (i = 0; i < 1000; i++) {
		rand_flow(&s, src, 0x02);
		got = fx_send(&fx, &s, &ret);
		per[got < 40 ? got : 0]++;
	}
	ASSERT_EQ(per[21] + per[22], 1000, "best tier takes all");
	ASSERT_GT(per[21], 300, "spread over tier 0");
	ASSERT_GT(per[22], 300, "spread over tier 0");

	/* tier 0 dies by stamps alone: tier 1 takes over, in the kernel */
	memset(per, 0, sizeof(per));
	fx_set_backend(&fx, 21, XH_BK_UP, stale);
	fx_set_backend(&fx, 22, XH_BK_UP, stale);
	for (i = 0; i < 1000; i++) {
		rand_flow(&s, src, 0x02);
		got = fx_send(&fx, &s, &ret);
		per[got < 40 ? got : 0]++;
	}
	ASSERT_EQ(per[23] + per[24], 1000, "lower tier takes over");
	ASSERT_GT(per[23], 300, "spread over tier 1");
	ASSERT_GT(per[24], 300, "spread over tier 1");

	/* one of tier 0 comes back: it takes every new flow again */
	memset(per, 0, sizeof(per));
	fx_set_backend(&fx, 21, XH_BK_UP, xh_now_ns());
	for (i = 0; i < 1000; i++) {
		rand_flow(&s, src, 0x02);
		got = fx_send(&fx, &s, &ret);
		per[got < 40 ? got : 0]++;
	}
	ASSERT_EQ(per[21], 1000, "better tier back: takes new flows");

	/* N+M: three in tier 0, two in tier 1: one failure stays in tier 0 */
	memset(per, 0, sizeof(per));
	fx_add_backend(&fx, 25, 2, "10.2.0.25", 0, 1, XH_BK_UP, 0, det);
	fx_set_backend(&fx, 22, XH_BK_UP, xh_now_ns());
	fx_rebuild(&fx, 2, SMALL_M, tab);
	fx_set_backend(&fx, 21, XH_BK_UP, stale);
	for (i = 0; i < 1000; i++) {
		rand_flow(&s, src, 0x02);
		got = fx_send(&fx, &s, &ret);
		per[got < 40 ? got : 0]++;
	}
	ASSERT_EQ(per[22] + per[25], 1000, "N+M: survivors of tier 0 only");
	ASSERT_GT(per[22], 300, "survivor 22 shares");
	ASSERT_GT(per[25], 300, "survivor 25 shares");
out:
	free(tab);
	fx_close(&fx);
}

static void syn_flood(void)
{
	struct steer_fx fx;
	struct pkt_spec s[200], f;
	struct xh_flow_key k;
	struct xh_flow v;
	char src[200][32], fsrc[32], first_src[32];
	struct pkt_spec first_flood;
	__u32 *tab = calloc(M, sizeof(*tab)), before[200], i, ret;
	__u32 present = 0, moved = 0;

	/* small tables: 512 confirmed, 512 unconfirmed; 20000 SYNs */
	if (!ASSERT_OK_PTR(tab, "calloc") || base_setup(&fx, 512, 512))
		goto out;
	ASSERT_OK(fx_rebuild(&fx, 1, M, tab), "rebuild");
	for (i = 0; i < 200; i++) {
		rand_flow(&s[i], src[i], 0x02);	/* SYN ... */
		fx_send(&fx, &s[i], &ret);
		s[i].tcp_flags = 0x10;		/* ... then ACK */
		before[i] = fx_send(&fx, &s[i], &ret);
	}
	rand_flow(&first_flood, first_src, 0x02);
	fx_send(&fx, &first_flood, &ret);
	for (i = 0; i < 20000; i++) {
		rand_flow(&f, fsrc, 0x02);
		fx_send(&fx, &f, &ret);
	}
	/* the flood did fill the unconfirmed table ... */
	pkt_flow_key(&first_flood, &k);
	ASSERT_ERR(bpf_map_lookup_elem(fx.m.flown, &k, &v),
		   "early flood flow evicted from the unconfirmed table");
	/* ... and not one established flow was evicted */
	for (i = 0; i < 200; i++) {
		pkt_flow_key(&s[i], &k);
		if (!bpf_map_lookup_elem(fx.m.flows, &k, &v) &&
		    v.backend == before[i])
			present++;
	}
	ASSERT_EQ(present, 200, "established flows survive the flood");
	/* and they keep their backend after a table change */
	fx_add_backend(&fx, 5, 1, "10.1.0.5", 0, 4, XH_BK_UP, 0, 0);
	fx_rebuild(&fx, 1, M, tab);
	for (i = 0; i < 200; i++)
		moved += fx_send(&fx, &s[i], &ret) != before[i];
	ASSERT_EQ(moved, 0, "and stay on their backend");
out:
	free(tab);
	fx_close(&fx);
}

static void udp_confirm(void)
{
	struct steer_fx fx;
	struct pkt_spec s = { .family = 4, .src = "192.0.2.50", .dst = VIP4,
			      .proto = IPPROTO_UDP, .sport = 4444, .dport = 80 };
	struct xh_flow_key k;
	struct xh_flow v;
	__u32 ret, a, b;
	__u64 c0;

	if (base_setup(&fx, 0, 0))
		goto out;
	ASSERT_OK(fx_add_service(&fx, 1, VIP4, 80, IPPROTO_UDP, XH_FWD_L2, NULL,
				 0), "udp service");
	ASSERT_OK(fx_rebuild(&fx, 1, SMALL_M, NULL), "rebuild");
	pkt_flow_key(&s, &k);
	c0 = fx_ctr(&fx, XH_CTR_FLOW_CONFIRM);
	a = fx_send(&fx, &s, &ret);
	ASSERT_OK(bpf_map_lookup_elem(fx.m.flown, &k, &v), "first: unconfirmed");
	ASSERT_ERR(bpf_map_lookup_elem(fx.m.flows, &k, &v), "first: not confirmed");
	b = fx_send(&fx, &s, &ret);
	ASSERT_EQ(a, b, "same backend");
	ASSERT_OK(bpf_map_lookup_elem(fx.m.flows, &k, &v), "second: confirmed");
	ASSERT_EQ(v.backend, a, "confirmed on its backend");
	ASSERT_ERR(bpf_map_lookup_elem(fx.m.flown, &k, &v), "moved, not copied");
	ASSERT_EQ(fx_ctr(&fx, XH_CTR_FLOW_CONFIRM), c0 + 1, "confirm counted");
	/* a retransmitted SYN does not confirm a TCP flow */
	s.proto = IPPROTO_TCP;
	s.tcp_flags = 0x02;
	pkt_flow_key(&s, &k);
	fx_send(&fx, &s, &ret);
	fx_send(&fx, &s, &ret);
	ASSERT_ERR(bpf_map_lookup_elem(fx.m.flows, &k, &v), "SYN x2: unconfirmed");
out:
	fx_close(&fx);
}

/* Ring buffer consumer: collect the flow events. */
struct ev_sink {
	struct xh_flow_ev ev[8];
	int n;
};

static int ev_collect(void *ctx, void *data, size_t len)
{
	struct ev_sink *k = ctx;

	if (len == sizeof(struct xh_flow_ev) && k->n < 8)
		memcpy(&k->ev[k->n], data, len);
	k->n++;
	return 0;
}

/* Confirmed flows, and only they, reach the flow mirror's ring buffer:
 * on confirmation, mid-stream pickup and a move off a dead backend. */
static void flow_events(void)
{
	struct steer_fx fx;
	struct pkt_spec s = { .family = 4, .src = "192.0.2.51", .dst = VIP4,
			      .proto = IPPROTO_TCP, .sport = 5555, .dport = 80,
			      .tcp_flags = 0x02 };
	struct ring_buffer *rb = NULL;
	struct ev_sink sink = {};
	struct xh_flow_key k;
	__u32 ret, a, b;

	if (base_setup(&fx, 0, 0))
		goto out;
	ASSERT_OK(fx_rebuild(&fx, 1, SMALL_M, NULL), "rebuild");
	rb = ring_buffer__new(bpf_map__fd(fx.skel->maps.xh_flow_ev), ev_collect,
			      &sink, NULL);
	if (!ASSERT_OK_PTR(rb, "ring_buffer__new"))
		goto out;
	pkt_flow_key(&s, &k);
	a = fx_send(&fx, &s, &ret);		/* SYN: unconfirmed */
	ring_buffer__consume(rb);
	ASSERT_EQ(sink.n, 0, "SYN: no event");
	s.tcp_flags = 0x10;			/* ACK: confirmed */
	fx_send(&fx, &s, &ret);
	fx_send(&fx, &s, &ret);			/* established: no event */
	ring_buffer__consume(rb);
	if (!ASSERT_EQ(sink.n, 1, "confirm: one event"))
		goto out;
	ASSERT_EQ(sink.ev[0].op, XH_FLOW_PUT, "put");
	ASSERT_EQ(sink.ev[0].backend, a, "its backend");
	ASSERT_EQ(sink.ev[0].svc_id, 1, "its service");
	ASSERT_OK(memcmp(&sink.ev[0].key, &k, sizeof(k)), "its key");
	/* its backend goes down: the flow moves, the mirror hears it */
	ASSERT_OK(fx_set_backend(&fx, a, XH_BK_DOWN, 0), "down");
	b = fx_send(&fx, &s, &ret);
	ring_buffer__consume(rb);
	ASSERT_NEQ(a, b, "moved");
	if (ASSERT_EQ(sink.n, 2, "move: one event"))
		ASSERT_EQ(sink.ev[1].backend, b, "the new backend");
	/* a mid-stream pickup is confirmed at once, and reported */
	s.sport = 5556;
	fx_send(&fx, &s, &ret);
	ring_buffer__consume(rb);
	ASSERT_EQ(sink.n, 3, "mid-stream: one event");
out:
	ring_buffer__free(rb);
	fx_close(&fx);
}

static void no_backend(void)
{
	struct steer_fx fx;
	struct pkt_spec s;
	char src[32];
	__u32 ret, i;
	__u64 d0;

	if (base_setup(&fx, 0, 0))
		goto out;
	ASSERT_OK(fx_rebuild(&fx, 1, SMALL_M, NULL), "rebuild");
	for (i = 1; i <= 4; i++)
		fx_set_backend(&fx, i, XH_BK_DOWN, xh_now_ns());
	d0 = fx_ctr(&fx, XH_CTR_DROP_NO_BACKEND);
	rand_flow(&s, src, 0x02);
	ASSERT_EQ(fx_send(&fx, &s, &ret), 0, "nothing chosen");
	ASSERT_EQ(ret, XDP_DROP, "dropped");
	ASSERT_EQ(fx_ctr(&fx, XH_CTR_DROP_NO_BACKEND), d0 + 1, "counted");
out:
	fx_close(&fx);
}

static void counters(void)
{
	struct steer_fx fx;
	struct pkt_spec s;
	struct xh_ctr c;
	char src[32];
	__u8 in[PKT_MAX];
	__u32 ret, i, got, len, seen[5] = {}, vip_bytes = 0, sum = 0;

	if (base_setup(&fx, 0, 0))
		goto out;
	ASSERT_OK(fx_rebuild(&fx, 1, SMALL_M, NULL), "rebuild");
	for (i = 0; i < 40; i++) {		/* 40 to the VIP */
		rand_flow(&s, src, 0x02);
		s.payload = i;
		vip_bytes += pkt_build(&s, in);
		got = fx_send(&fx, &s, &ret);
		if (got < 5)
			seen[got]++;
	}
	for (i = 0; i < 7; i++) {		/* 7 to another port */
		rand_flow(&s, src, 0x02);
		s.dport = 81;
		fx_send(&fx, &s, &ret);
	}
	memset(in, 0, 64);
	in[12] = 0x08;
	in[13] = 0x06;
	for (i = 0; i < 3; i++)			/* 3 ARP */
		fx_run(&fx, in, 60, NULL, NULL, &ret);
	rand_flow(&s, src, 0x02);
	len = pkt_build(&s, in);
	for (i = 0; i < 2; i++)			/* 2 truncated */
		fx_run(&fx, in, len - 1, NULL, NULL, &ret);

	ASSERT_EQ(fx_ctr(&fx, XH_CTR_RX), 52, "rx");
	ASSERT_EQ(fx_ctr(&fx, XH_CTR_TX), 40, "tx");
	ASSERT_EQ(fx_ctr(&fx, XH_CTR_PASS_NOT_VIP), 7, "pass_not_vip");
	ASSERT_EQ(fx_ctr(&fx, XH_CTR_PASS_NOT_IP), 3, "pass_not_ip");
	ASSERT_EQ(fx_ctr(&fx, XH_CTR_PASS_TRUNC), 2, "pass_trunc");
	ASSERT_EQ(fx_ctr(&fx, XH_CTR_FLOW_NEW), 40, "flow_new");
	ASSERT_EQ(fx_ctr(&fx, XH_CTR_DROP_NO_BACKEND), 0, "no drops");
	ASSERT_OK(xh_ctr_read(fx.m.svc_stats, 1, &c), "svc stats");
	ASSERT_EQ(c.packets, 40, "service packets");
	ASSERT_EQ(c.bytes, vip_bytes, "service bytes");
	for (i = 1; i <= 4; i++) {
		ASSERT_OK(xh_ctr_read(fx.m.bk_stats, i, &c), "bk stats");
		if (!ASSERT_EQ(c.packets, seen[i], "backend packets"))
			break;
		sum += c.bytes;
	}
	ASSERT_EQ(sum, vip_bytes, "backend bytes add up");
out:
	fx_close(&fx);
}

static void deterministic(void)
{
	struct steer_fx a, b;
	struct pkt_spec s;
	char src[32];
	__u32 *tab = calloc(SMALL_M, sizeof(*tab)), i, ra, rb, differ = 0;

	if (!ASSERT_OK_PTR(tab, "calloc") || base_setup(&a, 0, 0))
		goto out;
	if (base_setup(&b, 0, 0))
		goto out_a;
	/* two steering nodes, same config, same dead backend */
	fx_rebuild(&a, 1, SMALL_M, tab);
	fx_rebuild(&b, 1, SMALL_M, NULL);
	fx_set_backend(&a, 4, XH_BK_DOWN, xh_now_ns());
	fx_set_backend(&b, 4, XH_BK_DOWN, xh_now_ns());
	for (i = 0; i < 1000; i++) {
		rand_flow(&s, src, 0x02);
		if (fx_send(&a, &s, &ra) != fx_send(&b, &s, &rb))
			differ++;
	}
	ASSERT_EQ(differ, 0, "two instances choose alike");
	fx_close(&b);
out_a:
	fx_close(&a);
out:
	free(tab);
}

void test_steer_lb(void)
{
	if (test__start_subtest("maglev_prediction_10000_flows"))
		maglev_prediction();
	if (test__start_subtest("flow_stickiness"))
		stickiness();
	if (test__start_subtest("stale_stamp_gets_nothing"))
		stale_stamp();
	if (test__start_subtest("down_and_drain"))
		down_and_drain();
	if (test__start_subtest("priority_tiers"))
		tiers();
	if (test__start_subtest("syn_flood_keeps_established"))
		syn_flood();
	if (test__start_subtest("udp_confirm_on_second_packet"))
		udp_confirm();
	if (test__start_subtest("flow_events_for_the_mirror"))
		flow_events();
	if (test__start_subtest("no_live_backend_dropped"))
		no_backend();
	if (test__start_subtest("counters_match"))
		counters();
	if (test__start_subtest("two_instances_agree"))
		deterministic();
}
