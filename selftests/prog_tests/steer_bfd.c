// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * steer_bfd.c - BFD kernel assist in the steering program: a steady
 * control packet of a known session from its peer, with TTL 255, stamps
 * the backend and is consumed; every other BFD packet goes to user space
 * untouched; and a backend whose stamps stop is dead to the data path.
 */
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "test_progs.h"
#include "testlib.h"

#define LOCAL_DISC	0x1001
#define PEER		"198.18.0.11"

/* An Up control packet from the peer: flags Up (3 << 6), mult 3, len 24,
 * my disc 0x2002, your disc LOCAL_DISC, 10 ms timers. */
static void ctl_packet(__u8 *ctl, __u8 flags)
{
	static const __u8 base[24] = {
		0x20, 0xc0, 3, 24, 0, 0, 0x20, 0x02, 0, 0, 0x10, 0x01,
		0, 0, 0x27, 0x10, 0, 0, 0x27, 0x10, 0, 0, 0, 0,
	};

	memcpy(ctl, base, 24);
	ctl[1] = flags;
}

static __u32 build(__u8 *pkt, const char *src, __u8 ttl, __u8 flags)
{
	struct pkt_spec s = { .family = 4, .src = src, .dst = "198.18.0.2",
			      .proto = IPPROTO_UDP, .sport = 49152,
			      .dport = 3784, .payload = 24 };
	__u32 len = pkt_build(&s, pkt);

	ctl_packet(pkt + 14 + 20 + 8, flags);
	pkt[14 + 8] = ttl;	/* checksums do not matter to the program */
	return len;
}

void test_steer_bfd(void)
{
	struct steer_fx fx;
	struct xh_bfd_sess sess = { .family = XH_FAM_V4, .backend = 1 };
	struct xh_backend bk;
	__u8 pkt[PKT_MAX], out[PKT_MAX + 256];
	__u32 len, olen, ret, disc = LOCAL_DISC, one = 1;
	__u64 t0, c0;

	if (!ASSERT_OK(fx_open(&fx, 0, 0), "fx_open"))
		return;
	ASSERT_OK(fx_add_service(&fx, 1, "198.18.100.1", 80, IPPROTO_TCP,
				 XH_FWD_L2, NULL, 0), "service");
	/* heartbeat: 30 ms detection */
	ASSERT_OK(fx_add_backend(&fx, 1, 1, PEER, 0, 1, XH_BK_UP, 0, 30000000),
		  "backend");
	ASSERT_OK(fx_rebuild(&fx, 1, 251, NULL), "rebuild");
	inet_pton(AF_INET, PEER, sess.peer);
	ctl_packet(sess.expect, 0xc0);
	ASSERT_OK(bpf_map_update_elem(fx.m.bfd, &disc, &sess, 0), "session");

	if (test__start_subtest("steady_consumed_and_stamped")) {
		fx_set_backend(&fx, 1, XH_BK_UP, 1);	/* ancient stamp */
		t0 = xh_now_ns();
		c0 = fx_ctr(&fx, XH_CTR_DROP_BFD);
		len = build(pkt, PEER, 255, 0xc0);
		ASSERT_OK(fx_run(&fx, pkt, len, NULL, NULL, &ret), "run");
		ASSERT_EQ(ret, XDP_DROP, "steady packet consumed");
		ASSERT_EQ(fx_ctr(&fx, XH_CTR_DROP_BFD), c0 + 1, "counted");
		bpf_map_lookup_elem(fx.m.backends, &one, &bk);
		ASSERT_GE(bk.last_seen_ns, t0, "backend stamped");
		ASSERT_LE(bk.last_seen_ns, xh_now_ns(), "stamp is now");
		bpf_map_lookup_elem(fx.m.bfd, &disc, &sess);
		ASSERT_EQ(sess.rx_kernel, 1, "session rx counter");
	}
	if (test__start_subtest("changes_go_to_user_space")) {
		static const struct {
			const char *what, *src;
			__u8 ttl, flags;
			int byte, val;	/* a control byte to change, -1 none */
		} cases[] = {
			{ "poll", PEER, 255, 0xc0 | 0x20, -1, 0 },
			{ "final", PEER, 255, 0xc0 | 0x10, -1, 0 },
			{ "state down", PEER, 255, 0x40, -1, 0 },
			{ "ttl 254", PEER, 254, 0xc0, -1, 0 },
			{ "other source", "198.18.0.99", 255, 0xc0, -1, 0 },
			{ "diag", PEER, 255, 0xc0, 0, 0x21 },
			{ "detect mult", PEER, 255, 0xc0, 2, 5 },
			{ "new tx interval", PEER, 255, 0xc0, 14, 0x28 },
			{ "unknown session", PEER, 255, 0xc0, 11, 0x02 },
			{ "your disc 0", PEER, 255, 0xc0, 10, 0 },
		};
		unsigned int i;

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			c0 = fx_ctr(&fx, XH_CTR_PASS_BFD);
			len = build(pkt, cases[i].src, cases[i].ttl, cases[i].flags);
			if (cases[i].byte >= 0)
				pkt[42 + cases[i].byte] = cases[i].val;
			if (cases[i].byte == 10)
				pkt[42 + 11] = 0;
			ASSERT_OK(fx_run(&fx, pkt, len, out, &olen, &ret), "run");
			ASSERT_EQ(ret, XDP_PASS, cases[i].what);
			ASSERT_MEMEQ(out, pkt, len, cases[i].what);
			ASSERT_EQ(fx_ctr(&fx, XH_CTR_PASS_BFD), c0 + 1,
				  cases[i].what);
		}
	}
	if (test__start_subtest("stale_stamp_stops_traffic")) {
		struct pkt_spec s = { .family = 4, .src = "192.0.2.1",
				      .dst = "198.18.100.1",
				      .proto = IPPROTO_TCP, .sport = 1,
				      .dport = 80, .tcp_flags = 0x02 };

		len = build(pkt, PEER, 255, 0xc0);
		fx_run(&fx, pkt, len, NULL, NULL, &ret);	/* fresh stamp */
		ASSERT_EQ(fx_send(&fx, &s, &ret), 1, "live: forwarded");
		usleep(40000);			/* > 30 ms detection */
		s.sport = 2;
		fx_send(&fx, &s, &ret);
		ASSERT_EQ(ret, XDP_DROP, "stale: no backend, no user space");
		fx_run(&fx, pkt, len, NULL, NULL, &ret);	/* heartbeat again */
		ASSERT_EQ(fx_send(&fx, &s, &ret), 1, "stamped again: forwarded");
	}
	fx_close(&fx);
}
