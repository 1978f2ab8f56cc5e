// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * member.c - the member program on a VNFC's NIC: decapsulation of the
 * steering node's IP-in-IP (byte for byte back to the client's packet, and
 * only from known sources), the VIP and ARP/ND gates by group ownership,
 * takeover in the data path when the owner's stamp goes stale, BFD stamping
 * of the owner, mirror frames, and the chain slot. Every case checks the
 * verdict, every output byte, and that exactly one verdict counter moved.
 */
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "test_progs.h"
#include "testlib.h"
#include "member_fx.h"
#include "xh_pass_count.skel.h"

#define VIP4	"10.0.0.100"
#define VIP6	"fd00::100"
#define VIP_T	"10.0.0.200"	/* group G_T: the takeover cases */
#define VIP_BAD	"10.0.0.201"	/* names a group past the array */
#define OTHER4	"10.0.0.99"	/* not a VIP */
#define OTHER6	"fd00::99"
#define STEER4	"10.9.9.9"	/* known outer sources */
#define STEER6	"fd09::9"
#define SELF4	"10.1.0.1"	/* the member's own address */
#define SELF6	"fd01::1"
#define CLIENT4	"192.0.2.1"
#define CLIENT6	"2001:db8::1"
#define G_VIP	1
#define G_T	3
#define PEER_OWNER	"198.18.0.11"
#define PEER_OTHER	"198.18.0.12"
#define DISC_OWNER	0x1001
#define DISC_OTHER	0x1002
#define DETECT_NS	30000000ULL	/* 30 ms */

static const char *const ctr_names[] = XM_CTR_NAMES;

/*
 * Run a frame and check: the verdict; for XDP_PASS the output, which is
 * want (want_len bytes) or else the input untouched; and that among the
 * verdict counters exactly ctr moved, by one.
 */
static bool expect(struct member_fx *fx, const __u8 *in, __u32 len,
		   __u32 verdict, __u32 ctr, const __u8 *want, __u32 want_len,
		   const char *what)
{
	__u64 before[XM_CTR_MAX], after[XM_CTR_MAX];
	__u8 out[PKT_MAX + 256];
	__u32 olen = 0, ret = ~0U, i;
	char msg[160], moved[256] = "", want_moved[64];
	bool ok = true;

	mfx_ctrs(fx, before);
	if (!ASSERT_OK(mfx_run(fx, in, len, out, &olen, &ret), what))
		return false;
	snprintf(msg, sizeof(msg), "%s: verdict", what);
	ok &= ASSERT_EQ(ret, verdict, msg);
	if (verdict == XDP_PASS) {
		if (!want) {
			want = in;
			want_len = len;
		}
		snprintf(msg, sizeof(msg), "%s: length", what);
		ok &= ASSERT_EQ(olen, want_len, msg);
		snprintf(msg, sizeof(msg), "%s: bytes", what);
		ok &= ASSERT_MEMEQ(out, want, olen < want_len ? olen : want_len,
				   msg);
	}
	mfx_ctrs(fx, after);
	/* One line naming every verdict counter that moved, and by how much. */
	for (i = 0; i < XM_CTR_MAX; i++) {
		size_t n = strlen(moved);

		if (mfx_is_verdict(i) && after[i] != before[i])
			snprintf(moved + n, sizeof(moved) - n, " %s%+lld",
				 ctr_names[i],
				 (long long)(after[i] - before[i]));
	}
	snprintf(msg, sizeof(msg), "%s: counted once", what);
	snprintf(want_moved, sizeof(want_moved), " %s+1", ctr_names[ctr]);
	ok &= ASSERT_STREQ(moved, want_moved, msg);
	return ok;
}

/* A TCP, UDP or ICMP packet from a client to dst. */
static __u32 build(__u8 *buf, int family, const char *dst, __u8 proto,
		   int vlan)
{
	struct pkt_spec s = {
		.family = family, .dst = dst, .proto = proto, .vlan = vlan,
		.src = family == 4 ? CLIENT4 : CLIENT6,
		.sport = 40000, .dport = 443, .tcp_flags = 0x10,
		.payload = 77, .tos = 0xb8, .df = family == 4,
	};

	return pkt_build(&s, buf);
}

static int setup(struct member_fx *fx)
{
	struct xm_group g = { .state = XM_OWN_NO };
	int err;

	err = mfx_open(fx);
	if (!ASSERT_OK(err, "mfx_open"))
		return err;
	err = mfx_add_vip(fx, VIP4, G_VIP);
	err = err ?: mfx_add_vip(fx, VIP6, G_VIP);
	err = err ?: mfx_add_vip(fx, VIP_T, G_T);
	err = err ?: mfx_add_vip(fx, VIP_BAD, XM_MAX_GROUPS + 3);
	err = err ?: mfx_add_decap(fx, STEER4);
	err = err ?: mfx_add_decap(fx, STEER6);
	err = err ?: mfx_set_group(fx, G_VIP, &g);
	err = err ?: mfx_set_group(fx, G_T, &g);
	ASSERT_OK(err, "setup maps");
	return err;
}

/* --- decapsulation --- */

static void decap_one(struct member_fx *fx, int inner, int outer, __u8 proto,
		      int vlan, const char *what)
{
	__u8 in[PKT_MAX], enc[PKT_MAX];
	__u32 l2 = vlan ? 18 : 14;
	__u32 len = build(in, inner, inner == 4 ? "10.0.0.50" : "fd00::50",
			  proto, vlan), elen;

	if (outer == 4)
		elen = mfx_encap4(in, len, l2, STEER4, SELF4, enc);
	else
		elen = mfx_encap6(in, len, l2, STEER6, SELF6, enc);
	expect(fx, enc, elen, XDP_PASS, XM_CTR_PASS_DECAP, in, len, what);
}

static void decap_v4(struct member_fx *fx)
{
	decap_one(fx, 4, 4, IPPROTO_TCP, 0, "4in4 tcp");
	decap_one(fx, 4, 4, IPPROTO_UDP, 0, "4in4 udp");
	decap_one(fx, 4, 4, IPPROTO_ICMP, 0, "4in4 icmp");
}

static void decap_v6(struct member_fx *fx)
{
	decap_one(fx, 6, 6, IPPROTO_TCP, 0, "6in6 tcp");
	decap_one(fx, 6, 6, IPPROTO_UDP, 0, "6in6 udp");
	decap_one(fx, 6, 6, IPPROTO_ICMPV6, 0, "6in6 icmpv6");
}

static void decap_vlan(struct member_fx *fx)
{
	decap_one(fx, 4, 4, IPPROTO_TCP, 42, "4in4 tagged");
	decap_one(fx, 6, 6, IPPROTO_UDP, 4094, "6in6 tagged");
}

/* What the real steering program sends comes back as the client's packet,
 * with the MACs the steering node wrote. */
static void decap_steer_roundtrip(struct member_fx *fx)
{
	static const struct {
		int family, vlan;
		const char *vip;
		__u8 proto;
		__u16 port;
	} cases[] = {
		{ 4, 0, "10.0.0.104", IPPROTO_TCP, 443 },
		{ 4, 7, "10.0.0.104", IPPROTO_TCP, 443 },
		{ 6, 0, "fd00::104", IPPROTO_UDP, 53 },
		{ 6, 7, "fd00::104", IPPROTO_UDP, 53 },
	};
	struct steer_fx sfx;
	__u8 in[PKT_MAX], enc[PKT_MAX + 256], want[PKT_MAX];
	__u32 len, elen, ret, i;
	int err;

	err = fx_open(&sfx, 1024, 1024);
	if (!ASSERT_OK(err, "steer fx_open"))
		return;
	err = fx_add_service(&sfx, 4, "10.0.0.104", 443, IPPROTO_TCP,
			     XH_FWD_IPIP, STEER4, 0);
	err = err ?: fx_add_service(&sfx, 5, "fd00::104", 53, IPPROTO_UDP,
				    XH_FWD_IPIP, STEER6, 0);
	err = err ?: fx_add_backend(&sfx, 4, 4, SELF4, 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(&sfx, 5, 5, SELF6, 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_rebuild(&sfx, 4, 251, NULL);
	err = err ?: fx_rebuild(&sfx, 5, 251, NULL);
	if (!ASSERT_OK(err, "steer setup"))
		goto out;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pkt_spec s = {
			.family = cases[i].family, .dst = cases[i].vip,
			.src = cases[i].family == 4 ? CLIENT4 : CLIENT6,
			.proto = cases[i].proto, .sport = 1000 + i,
			.dport = cases[i].port, .tcp_flags = 0x02,
			.payload = 200, .tos = 0x28, .df = true,
			.vlan = cases[i].vlan,
		};

		len = pkt_build(&s, in);
		ASSERT_OK(fx_run(&sfx, in, len, enc, &elen, &ret), "steer run");
		if (!ASSERT_EQ(ret, XDP_TX, "steering node encapsulates") ||
		    !ASSERT_EQ(elen, len + (cases[i].family == 4 ? 20 : 40),
			       "encapsulated"))
			continue;
		memcpy(want, in, len);
		memcpy(want, enc, 12);	/* the steering node's MACs */
		expect(fx, enc, elen, XDP_PASS, XM_CTR_PASS_DECAP, want, len,
		       "steer output decapsulated");
	}
out:
	fx_close(&sfx);
}

/* The inner packet then goes through the gates like any other. */
static void decap_then_gate(struct member_fx *fx)
{
	__u8 in[PKT_MAX], enc[PKT_MAX];
	__u32 len, elen;

	len = build(in, 4, VIP4, IPPROTO_TCP, 0);
	elen = mfx_encap4(in, len, 14, STEER4, SELF4, enc);
	expect(fx, enc, elen, XDP_DROP, XM_CTR_DROP_VIP, NULL, 0,
	       "tunnelled VIP packet, standby: dropped");
	ASSERT_OK(mfx_set_state(fx, G_VIP, XM_OWN_YES), "owner");
	expect(fx, enc, elen, XDP_PASS, XM_CTR_PASS_DECAP, in, len,
	       "tunnelled VIP packet, owner: decapsulated");
	ASSERT_OK(mfx_set_state(fx, G_VIP, XM_OWN_NO), "standby");
}

static void decap_spoof(struct member_fx *fx)
{
	__u8 in[PKT_MAX], enc[PKT_MAX];
	__u32 len, elen;

	len = build(in, 4, "10.0.0.50", IPPROTO_TCP, 0);
	elen = mfx_encap4(in, len, 14, "10.66.6.6", SELF4, enc);
	expect(fx, enc, elen, XDP_PASS, XM_CTR_PASS_SPOOF, NULL, 0,
	       "4in4 from a stranger");
	/* a known source of the other family is still a stranger */
	elen = mfx_encap4(in, len, 14, "10.9.9.8", SELF4, enc);
	expect(fx, enc, elen, XDP_PASS, XM_CTR_PASS_SPOOF, NULL, 0,
	       "4in4 from a neighbour of the steering node");
	len = build(in, 6, "fd00::50", IPPROTO_UDP, 5);
	elen = mfx_encap6(in, len, 18, "fd66::6", SELF6, enc);
	expect(fx, enc, elen, XDP_PASS, XM_CTR_PASS_SPOOF, NULL, 0,
	       "6in6 from a stranger");
}

static void decap_mixed(struct member_fx *fx)
{
	__u8 in[PKT_MAX], enc[PKT_MAX];
	__u32 len, elen;

	len = build(in, 4, "10.0.0.50", IPPROTO_TCP, 0);
	elen = mfx_encap6(in, len, 14, STEER6, SELF6, enc);
	ASSERT_EQ(enc[14 + 6], IPPROTO_IPIP, "built 4in6");
	expect(fx, enc, elen, XDP_PASS, XM_CTR_PASS, NULL, 0, "4in6 untouched");
	len = build(in, 6, "fd00::50", IPPROTO_TCP, 0);
	elen = mfx_encap4(in, len, 14, STEER4, SELF4, enc);
	ASSERT_EQ(enc[14 + 9], IPPROTO_IPV6, "built 6in4");
	expect(fx, enc, elen, XDP_PASS, XM_CTR_PASS, NULL, 0, "6in4 untouched");
}

/* Cut at every header boundary and around it, and inner packets that do
 * not fit the outer one: never decapsulated, passed as they came. */
static void decap_truncated(struct member_fx *fx)
{
	/* test runs need a whole Ethernet header */
	static const __u32 cuts4[] = { 14, 20, 33, 34, 40, 53, 54, 73 };
	static const __u32 cuts6[] = { 14, 40, 53, 54, 93, 94, 120, 133, 134,
				       153 };
	__u8 in[PKT_MAX], enc[PKT_MAX];
	__u32 len, elen, i;
	char what[64];

	len = build(in, 4, "10.0.0.50", IPPROTO_TCP, 0);
	elen = mfx_encap4(in, len, 14, STEER4, SELF4, enc);
	for (i = 0; i < sizeof(cuts4) / sizeof(cuts4[0]); i++) {
		snprintf(what, sizeof(what), "4in4 cut to %u", cuts4[i]);
		expect(fx, enc, cuts4[i], XDP_PASS, XM_CTR_PASS, NULL, 0, what);
	}
	expect(fx, enc, elen - 1, XDP_PASS, XM_CTR_PASS, NULL, 0,
	       "4in4 one byte short");
	enc[14 + 20 + 3]++;		/* inner tot_len past the outer's */
	expect(fx, enc, elen, XDP_PASS, XM_CTR_PASS, NULL, 0,
	       "4in4 inner longer than outer");
	enc[14 + 20 + 3]--;
	enc[14 + 20] = 0x65;		/* inner version 6, protocol 4 */
	expect(fx, enc, elen, XDP_PASS, XM_CTR_PASS, NULL, 0,
	       "4in4 inner not IPv4");

	len = build(in, 6, "fd00::50", IPPROTO_TCP, 0);
	elen = mfx_encap6(in, len, 14, STEER6, SELF6, enc);
	for (i = 0; i < sizeof(cuts6) / sizeof(cuts6[0]); i++) {
		snprintf(what, sizeof(what), "6in6 cut to %u", cuts6[i]);
		expect(fx, enc, cuts6[i], XDP_PASS, XM_CTR_PASS, NULL, 0, what);
	}
	expect(fx, enc, elen - 1, XDP_PASS, XM_CTR_PASS, NULL, 0,
	       "6in6 one byte short");
	enc[14 + 40 + 5]++;		/* inner payload_len too long */
	expect(fx, enc, elen, XDP_PASS, XM_CTR_PASS, NULL, 0,
	       "6in6 inner longer than outer");
}

/* --- gates --- */

static void vip_gate(struct member_fx *fx)
{
	static const struct {
		int family;
		const char *dst;
		__u8 proto;
		__u16 frag_off;
		bool hbh;
		const char *what;
	} vips[] = {
		{ 4, VIP4, IPPROTO_TCP, 0, false, "v4 tcp" },
		{ 4, VIP4, IPPROTO_UDP, 0, false, "v4 udp" },
		{ 4, VIP4, IPPROTO_ICMP, 0, false, "v4 icmp" },
		{ 4, VIP4, 47, 0, false, "v4 gre (any L4)" },
		{ 4, VIP4, IPPROTO_UDP, 0x2000, false, "v4 first fragment" },
		{ 6, VIP6, IPPROTO_TCP, 0, false, "v6 tcp" },
		{ 6, VIP6, IPPROTO_ICMPV6, 0, false, "v6 icmpv6" },
		{ 6, VIP6, IPPROTO_UDP, 0, true, "v6 hop-by-hop" },
		{ 6, VIP6, 132, 0, false, "v6 sctp (any L4)" },
	};
	__u8 in[PKT_MAX];
	__u32 len, i;
	int round;

	for (round = 0; round < 3; round++) {
		__u8 state = round == 0 ? XM_OWN_NO :
			     round == 1 ? XM_OWN_YES : XM_OWN_TAKEN;

		ASSERT_OK(mfx_set_state(fx, G_VIP, state), "state");
		for (i = 0; i < sizeof(vips) / sizeof(vips[0]); i++) {
			struct pkt_spec s = {
				.family = vips[i].family, .dst = vips[i].dst,
				.src = vips[i].family == 4 ? CLIENT4 : CLIENT6,
				.proto = vips[i].proto, .sport = 1, .dport = 2,
				.frag_off = vips[i].frag_off,
				.v6_hbh = vips[i].hbh, .payload = 16,
			};
			char what[96];

			len = pkt_build(&s, in);
			snprintf(what, sizeof(what), "%s, state %u",
				 vips[i].what, state);
			if (state == XM_OWN_NO)
				expect(fx, in, len, XDP_DROP, XM_CTR_DROP_VIP,
				       NULL, 0, what);
			else
				expect(fx, in, len, XDP_PASS, XM_CTR_PASS_VIP,
				       NULL, 0, what);
		}
		/* a TCP header cut short still names its VIP */
		len = build(in, 4, VIP4, IPPROTO_TCP, 0);
		in[14 + 3] = 20 + 10;
		expect(fx, in, 14 + 30, state ? XDP_PASS : XDP_DROP,
		       state ? XM_CTR_PASS_VIP : XM_CTR_DROP_VIP, NULL, 0,
		       "v4 tcp header cut short");
		/* not VIPs: whatever the state */
		len = build(in, 4, OTHER4, IPPROTO_TCP, 0);
		expect(fx, in, len, XDP_PASS, XM_CTR_PASS, NULL, 0, "other v4");
		len = build(in, 6, OTHER6, IPPROTO_UDP, 9);
		expect(fx, in, len, XDP_PASS, XM_CTR_PASS, NULL, 0, "other v6");
		len = build(in, 4, CLIENT4, IPPROTO_TCP, 0);
		inet_pton(AF_INET, VIP4, in + 14 + 12);	/* VIP as src */
		expect(fx, in, len, XDP_PASS, XM_CTR_PASS, NULL, 0,
		       "VIP as source");
		len = build(in, 4, VIP4, IPPROTO_TCP, 0);
		in[12] = 0x88;			/* LLDP: not IP */
		in[13] = 0xcc;
		expect(fx, in, len, XDP_PASS, XM_CTR_PASS, NULL, 0, "not IP");
	}
	/* A VIP whose group is not in the array is nobody's: closed. */
	len = build(in, 4, VIP_BAD, IPPROTO_TCP, 0);
	expect(fx, in, len, XDP_DROP, XM_CTR_DROP_VIP, NULL, 0,
	       "VIP of a group out of range");
	ASSERT_OK(mfx_set_state(fx, G_VIP, XM_OWN_NO), "standby");
}

static void arp_nd_gate(struct member_fx *fx)
{
	__u8 in[PKT_MAX];
	__u32 len;
	int own;

	for (own = 0; own < 2; own++) {
		__u32 v = own ? XDP_PASS : XDP_DROP;
		__u32 c = own ? XM_CTR_PASS_ARP : XM_CTR_DROP_ARP;

		ASSERT_OK(mfx_set_state(fx, G_VIP,
					own ? XM_OWN_YES : XM_OWN_NO), "state");
		len = mfx_arp(in, 1, CLIENT4, VIP4, 0);
		ASSERT_EQ(len, 42, "ARP frame is 42 bytes");
		expect(fx, in, len, v, c, NULL, 0, "ARP request for the VIP");
		len = mfx_arp(in, 1, CLIENT4, VIP4, 100);
		expect(fx, in, len, v, c, NULL, 0, "tagged ARP request");
		len = mfx_arp(in, 2, CLIENT4, VIP4, 0);
		expect(fx, in, len, v, c, NULL, 0, "ARP reply to the VIP");
		len = mfx_arp(in, 1, VIP4, VIP4, 0);
		expect(fx, in, len, v, c, NULL, 0, "gratuitous ARP request");
		len = mfx_arp(in, 2, VIP4, VIP4, 0);
		expect(fx, in, len, v, c, NULL, 0, "gratuitous ARP reply");
		len = mfx_nd(in, 135, CLIENT6, "ff02::1:ff00:100", VIP6);
		expect(fx, in, len, v, c, NULL, 0, "NS for the VIP");
		len = mfx_nd(in, 135, CLIENT6, VIP6, VIP6);
		expect(fx, in, len, v, c, NULL, 0, "unicast NS for the VIP");
		len = mfx_nd(in, 136, VIP6, "ff02::1", VIP6);
		expect(fx, in, len, v, c, NULL, 0, "unsolicited NA of the VIP");

		/* not about a VIP: passed whatever the state */
		len = mfx_arp(in, 1, CLIENT4, OTHER4, 0);
		expect(fx, in, len, XDP_PASS, XM_CTR_PASS, NULL, 0,
		       "ARP request for another address");
		len = mfx_arp(in, 1, VIP4, OTHER4, 0);
		expect(fx, in, len, XDP_PASS, XM_CTR_PASS, NULL, 0,
		       "ARP request from the VIP for another address");
		len = mfx_nd(in, 135, CLIENT6, "ff02::1:ff00:99", OTHER6);
		expect(fx, in, len, XDP_PASS, XM_CTR_PASS, NULL, 0,
		       "NS for another address");
		len = mfx_nd(in, 128, CLIENT6, OTHER6, VIP6);
		expect(fx, in, len, XDP_PASS, XM_CTR_PASS, NULL, 0,
		       "echo carrying the VIP where NS has its target");
		len = mfx_nd(in, 133, CLIENT6, "ff02::2", VIP6);
		expect(fx, in, len, XDP_PASS, XM_CTR_PASS, NULL, 0,
		       "router solicitation is not ND for the VIP");
		len = mfx_arp(in, 1, CLIENT4, VIP4, 0);
		in[14 + 7] = 3;			/* RARP request */
		expect(fx, in, len, XDP_PASS, XM_CTR_PASS, NULL, 0,
		       "RARP op passed");
		len = mfx_arp(in, 1, CLIENT4, VIP4, 0);
		expect(fx, in, len - 1, XDP_PASS, XM_CTR_PASS, NULL, 0,
		       "ARP cut short passed");
	}
	ASSERT_OK(mfx_set_state(fx, G_VIP, XM_OWN_NO), "standby");
}

/* A controller that went silent past its max age: ARP/ND for the VIPs
 * we still hold is no longer answered (VIP traffic still is). */
static void arp_orphan(struct member_fx *fx)
{
	int fd = bpf_map__fd(fx->skel->maps.xm_ctl_v1);
	__u64 now = xh_now_ns();
	struct xm_ctl c = { .seen_ns = now, .max_age_ns = 1000000000ULL };
	__u8 in[PKT_MAX];
	__u32 len, zero = 0;

	ASSERT_OK(mfx_set_state(fx, G_VIP, XM_OWN_YES), "owner");
	ASSERT_OK(bpf_map_update_elem(fd, &zero, &c, BPF_ANY), "ctl fresh");
	len = mfx_arp(in, 1, CLIENT4, VIP4, 0);
	expect(fx, in, len, XDP_PASS, XM_CTR_PASS_ARP, NULL, 0,
	       "controller alive: ARP answered");
	c.seen_ns = now - 2000000000ULL;
	ASSERT_OK(bpf_map_update_elem(fd, &zero, &c, BPF_ANY), "ctl stale");
	expect(fx, in, len, XDP_DROP, XM_CTR_DROP_ORPHAN, NULL, 0,
	       "controller gone: ARP dropped");
	len = mfx_nd(in, 135, CLIENT6, "ff02::1:ff00:100", VIP6);
	expect(fx, in, len, XDP_DROP, XM_CTR_DROP_ORPHAN, NULL, 0,
	       "controller gone: NS dropped");
	len = mfx_arp(in, 1, CLIENT4, OTHER4, 0);
	expect(fx, in, len, XDP_PASS, XM_CTR_PASS, NULL, 0,
	       "controller gone: ARP for another address passed");
	/* taken over by the data path itself: announcing is the point */
	ASSERT_OK(mfx_set_state(fx, G_VIP, XM_OWN_TAKEN), "taken");
	len = mfx_arp(in, 1, CLIENT4, VIP4, 0);
	expect(fx, in, len, XDP_PASS, XM_CTR_PASS_ARP, NULL, 0,
	       "controller gone, group TAKEN by the data path: ARP answered");
	ASSERT_OK(mfx_set_state(fx, G_VIP, XM_OWN_YES), "owner");
	c.max_age_ns = 0;
	ASSERT_OK(bpf_map_update_elem(fd, &zero, &c, BPF_ANY), "no controller");
	len = mfx_arp(in, 1, CLIENT4, VIP4, 0);
	expect(fx, in, len, XDP_PASS, XM_CTR_PASS_ARP, NULL, 0,
	       "never a controller (max age 0): ARP answered");
	ASSERT_OK(mfx_set_state(fx, G_VIP, XM_OWN_NO), "standby");
}

/* --- takeover --- */

static int stale_group(struct member_fx *fx, __u8 next, __u64 detect,
		       __u64 seen)
{
	struct xm_group g = {
		.state = XM_OWN_NO, .next_in_line = next,
		.owner_disc = DISC_OWNER, .owner_detect_ns = detect,
		.owner_seen_ns = seen,
	};

	return mfx_set_group(fx, G_T, &g);
}

static void takeover(struct member_fx *fx)
{
	__u8 in[PKT_MAX];
	__u32 len = build(in, 4, VIP_T, IPPROTO_TCP, 0);
	__u64 t0 = xh_now_ns(), taken = mfx_ctr(fx, XM_CTR_TAKEOVER);
	struct xm_group g;

	ASSERT_OK(stale_group(fx, 1, DETECT_NS, t0 - 1000000000ULL), "group");
	expect(fx, in, len, XDP_PASS, XM_CTR_PASS_VIP, NULL, 0,
	       "stale owner, next in line: taken over, passed");
	g = mfx_group(fx, G_T);
	ASSERT_EQ(g.state, XM_OWN_TAKEN, "state TAKEN");
	ASSERT_EQ(g.next_in_line, 1, "next_in_line kept");
	ASSERT_EQ(g.owner_disc, DISC_OWNER, "owner_disc kept");
	ASSERT_GE(g.taken_ns, t0, "taken_ns set");
	ASSERT_LE(g.taken_ns, xh_now_ns(), "taken_ns is now");
	ASSERT_EQ(mfx_ctr(fx, XM_CTR_TAKEOVER), taken + 1, "takeover counted");
	t0 = g.taken_ns;
	expect(fx, in, len, XDP_PASS, XM_CTR_PASS_VIP, NULL, 0,
	       "after takeover: passed");
	ASSERT_EQ(mfx_ctr(fx, XM_CTR_TAKEOVER), taken + 1, "counted once");
	ASSERT_EQ(mfx_group(fx, G_T).taken_ns, t0, "taken_ns not moved");

	ASSERT_OK(stale_group(fx, 1, DETECT_NS, xh_now_ns()), "group");
	expect(fx, in, len, XDP_DROP, XM_CTR_DROP_VIP, NULL, 0,
	       "fresh owner: dropped");
	g = mfx_group(fx, G_T);
	ASSERT_EQ(g.state, XM_OWN_NO, "fresh: state stays NO");
	ASSERT_EQ(g.taken_ns, 0, "fresh: taken_ns untouched");

	ASSERT_OK(stale_group(fx, 0, DETECT_NS, 1), "group");
	expect(fx, in, len, XDP_DROP, XM_CTR_DROP_VIP, NULL, 0,
	       "stale owner, not next in line: dropped");
	ASSERT_EQ(mfx_group(fx, G_T).state, XM_OWN_NO, "not next: stays NO");

	ASSERT_OK(stale_group(fx, 1, 0, 1), "group");
	expect(fx, in, len, XDP_DROP, XM_CTR_DROP_VIP, NULL, 0,
	       "no detection time: dropped");
	ASSERT_EQ(mfx_group(fx, G_T).state, XM_OWN_NO, "no detect: stays NO");
	ASSERT_EQ(mfx_ctr(fx, XM_CTR_TAKEOVER), taken + 1, "no more takeovers");

	/* The ARP gate takes over by the same rule. */
	ASSERT_OK(stale_group(fx, 1, DETECT_NS, xh_now_ns() - DETECT_NS - 1000),
		  "group");
	len = mfx_arp(in, 1, CLIENT4, VIP_T, 0);
	expect(fx, in, len, XDP_PASS, XM_CTR_PASS_ARP, NULL, 0,
	       "ARP for a stale owner's VIP: taken over");
	ASSERT_EQ(mfx_group(fx, G_T).state, XM_OWN_TAKEN, "ARP: TAKEN");
	ASSERT_EQ(mfx_ctr(fx, XM_CTR_TAKEOVER), taken + 2, "ARP takeover");
	ASSERT_OK(stale_group(fx, 0, 0, 0), "reset");
}

/* --- BFD --- */

/* An Up control packet from peer for our session disc. */
static __u32 bfd_build(__u8 *pkt, const char *peer, __u32 disc, __u8 flags)
{
	struct pkt_spec s = { .family = 4, .src = peer, .dst = SELF4,
			      .proto = IPPROTO_UDP, .sport = 49152,
			      .dport = 3784, .payload = 24 };
	static const __u8 base[24] = {
		0x20, 0xc0, 3, 24, 0, 0, 0x20, 0x02, 0, 0, 0, 0,
		0, 0, 0x27, 0x10, 0, 0, 0x27, 0x10, 0, 0, 0, 0,
	};
	__u32 len = pkt_build(&s, pkt);
	__u8 *ctl = pkt + 14 + 20 + 8;

	memcpy(ctl, base, 24);
	ctl[1] = flags;
	ctl[8] = disc >> 24;
	ctl[9] = disc >> 16;
	ctl[10] = disc >> 8;
	ctl[11] = disc;
	pkt[14 + 8] = 255;	/* checksums do not matter to the program */
	return len;
}

static int bfd_session(struct member_fx *fx, __u32 disc, const char *peer)
{
	struct xm_bfd_sess s = { .family = XH_FAM_V4, .group = G_T };
	__u8 pkt[PKT_MAX];

	inet_pton(AF_INET, peer, s.peer);
	bfd_build(pkt, peer, disc, 0xc0);
	memcpy(s.expect, pkt + 14 + 20 + 8, 24);
	return bpf_map_update_elem(fx->bfd, &disc, &s, BPF_ANY) ? -errno : 0;
}

static void bfd_stamps_owner(struct member_fx *fx)
{
	struct xm_bfd_sess s;
	__u8 pkt[PKT_MAX], in[PKT_MAX];
	__u32 len, disc = DISC_OWNER, other = DISC_OTHER;
	__u64 t0;

	ASSERT_OK(bfd_session(fx, DISC_OWNER, PEER_OWNER), "owner session");
	ASSERT_OK(bfd_session(fx, DISC_OTHER, PEER_OTHER), "other session");
	ASSERT_OK(stale_group(fx, 0, DETECT_NS, 1), "group");

	t0 = xh_now_ns();
	len = bfd_build(pkt, PEER_OWNER, DISC_OWNER, 0xc0);
	expect(fx, pkt, len, XDP_DROP, XM_CTR_DROP_BFD, NULL, 0,
	       "steady from the owner: consumed");
	ASSERT_GE(mfx_group(fx, G_T).owner_seen_ns, t0, "owner stamped");
	ASSERT_LE(mfx_group(fx, G_T).owner_seen_ns, xh_now_ns(), "is now");
	bpf_map_lookup_elem(fx->bfd, &disc, &s);
	ASSERT_EQ(s.rx_kernel, 1, "session rx counter");
	ASSERT_GE(s.rx_last_ns, t0, "session stamped");

	ASSERT_OK(stale_group(fx, 0, DETECT_NS, 1), "group");
	len = bfd_build(pkt, PEER_OTHER, DISC_OTHER, 0xc0);
	expect(fx, pkt, len, XDP_DROP, XM_CTR_DROP_BFD, NULL, 0,
	       "steady from another member: consumed");
	ASSERT_EQ(mfx_group(fx, G_T).owner_seen_ns, 1, "owner not stamped");
	bpf_map_lookup_elem(fx->bfd, &other, &s);
	ASSERT_EQ(s.rx_kernel, 1, "other session stamped");

	len = bfd_build(pkt, PEER_OWNER, DISC_OWNER, 0xc0 | 0x20);
	expect(fx, pkt, len, XDP_PASS, XM_CTR_PASS_BFD, NULL, 0,
	       "poll from the owner: to user space");
	len = bfd_build(pkt, PEER_OWNER, DISC_OWNER, 0x40);
	expect(fx, pkt, len, XDP_PASS, XM_CTR_PASS_BFD, NULL, 0,
	       "owner going down: to user space");
	len = bfd_build(pkt, PEER_OTHER, DISC_OWNER, 0xc0);
	expect(fx, pkt, len, XDP_PASS, XM_CTR_PASS_BFD, NULL, 0,
	       "owner's session from another peer: to user space");
	len = bfd_build(pkt, PEER_OWNER, DISC_OWNER, 0xc0);
	pkt[14 + 8] = 254;
	expect(fx, pkt, len, XDP_PASS, XM_CTR_PASS_BFD, NULL, 0,
	       "ttl 254: to user space");
	ASSERT_EQ(mfx_group(fx, G_T).owner_seen_ns, 1, "none of them stamped");

	/* The stamp is what keeps a standby next in line from taking over
	 * (a longer detection time here: the check must not race the
	 * scheduler). */
	ASSERT_OK(stale_group(fx, 1, 10 * DETECT_NS, 1), "group");
	len = bfd_build(pkt, PEER_OWNER, DISC_OWNER, 0xc0);
	expect(fx, pkt, len, XDP_DROP, XM_CTR_DROP_BFD, NULL, 0, "heartbeat");
	len = build(in, 4, VIP_T, IPPROTO_TCP, 0);
	expect(fx, in, len, XDP_DROP, XM_CTR_DROP_VIP, NULL, 0,
	       "owner alive: standby keeps out");
	usleep(10 * DETECT_NS / 1000 + 10000);
	expect(fx, in, len, XDP_PASS, XM_CTR_PASS_VIP, NULL, 0,
	       "heartbeats stopped: taken over");
	ASSERT_EQ(mfx_group(fx, G_T).state, XM_OWN_TAKEN, "TAKEN");
	ASSERT_OK(stale_group(fx, 0, 0, 0), "reset");
}

/* --- mirror and chain --- */

static void mirror(struct member_fx *fx)
{
	struct pkt_spec s = { .family = 4, .src = "10.1.0.2", .dst = SELF4,
			      .proto = IPPROTO_UDP, .sport = XM_MIRROR_PORT,
			      .dport = XM_MIRROR_PORT, .payload = 64 };
	struct mfx_xsk x = { .fd = -1 };
	__u8 in[PKT_MAX], in6[PKT_MAX];
	__u32 len = pkt_build(&s, in), len6, ret = ~0U, zero = 0, ifindex;
	__u64 r0;

	expect(fx, in, len, XDP_PASS, XM_CTR_PASS, NULL, 0,
	       "mirror frame, no socket: passed");
	s.family = 6;
	s.src = "fd01::2";
	s.dst = SELF6;
	len6 = pkt_build(&s, in6);
	expect(fx, in6, len6, XDP_PASS, XM_CTR_PASS, NULL, 0,
	       "v6 mirror frame, no socket: passed");

	/* With a socket on the frame's queue: to it. */
	if (!ASSERT_OK(sys_cmd("ip link add xmx0 type veth peer name xmx1 && "
			       "ip link set xmx0 up && ip link set xmx1 up"),
		       "veth"))
		return;
	ifindex = if_nametoindex("xmx0");
	if (!ASSERT_NEQ(ifindex, 0, "ifindex") ||
	    !ASSERT_OK(mfx_xsk_open(&x, ifindex, 0), "AF_XDP socket") ||
	    !ASSERT_OK(bpf_map_update_elem(fx->xsks, &zero, &x.fd, 0),
		       "xsks[0]"))
		goto out;
	r0 = mfx_ctr(fx, XM_CTR_REDIRECT_XSK);
	ASSERT_OK(mfx_run_on(fx, ifindex, 0, in, len, &ret), "run");
	ASSERT_EQ(ret, XDP_REDIRECT, "mirror frame to its socket");
	ASSERT_OK(mfx_run_on(fx, ifindex, 0, in6, len6, &ret), "run");
	ASSERT_EQ(ret, XDP_REDIRECT, "v6 mirror frame to its socket");
	ASSERT_EQ(mfx_ctr(fx, XM_CTR_REDIRECT_XSK), r0 + 2, "counted");
	/* other UDP on the same queue is not the mirror's */
	s.dport = XM_MIRROR_PORT + 1;
	len6 = pkt_build(&s, in6);
	ASSERT_OK(mfx_run_on(fx, ifindex, 0, in6, len6, &ret), "run");
	ASSERT_EQ(ret, XDP_PASS, "other port: passed");
	bpf_map_delete_elem(fx->xsks, &zero);
out:
	mfx_xsk_close(&x);
	sys_cmd("ip link del xmx0");
}

/* A program in the chain slot sees what the member passes, not what it
 * drops, and its verdict is the final one. */
static void chain(struct member_fx *fx)
{
	struct xh_pass_count_bpf *pc;
	__u8 in[PKT_MAX];
	__u32 len, zero = 0, ret = ~0U;
	int fd;

	pc = xh_pass_count_bpf__open_and_load();
	if (!ASSERT_OK_PTR(pc, "load chain program"))
		return;
	fd = bpf_program__fd(pc->progs.xt_drop_all);
	if (!ASSERT_OK(bpf_map_update_elem(fx->chain, &zero, &fd, 0), "chain"))
		goto out;
	len = build(in, 4, OTHER4, IPPROTO_TCP, 0);
	expect(fx, in, len, XDP_DROP, XM_CTR_PASS, NULL, 0,
	       "passed, then dropped by the chained program");
	len = build(in, 4, VIP4, IPPROTO_TCP, 0);
	expect(fx, in, len, XDP_DROP, XM_CTR_DROP_VIP, NULL, 0,
	       "dropped by the gate");
	bpf_map_delete_elem(fx->chain, &zero);
	len = build(in, 4, OTHER4, IPPROTO_TCP, 0);
	ASSERT_OK(mfx_run(fx, in, len, NULL, NULL, &ret), "run");
	ASSERT_EQ(ret, XDP_PASS, "empty slot: passed");
	{
		int ncpu = libbpf_num_possible_cpus(), i;
		__u64 seen[ncpu > 0 ? ncpu : 1], sum = 0;

		ASSERT_OK(bpf_map_lookup_elem(bpf_map__fd(pc->maps.xt_seen),
					      &zero, seen), "seen");
		for (i = 0; i < ncpu; i++)
			sum += seen[i];
		ASSERT_EQ(sum, 1, "chained program saw the passed packet only");
	}
out:
	xh_pass_count_bpf__destroy(pc);
}

void test_member(void)
{
	struct member_fx fx = {};

	if (setup(&fx))
		goto out;
	if (test__start_subtest("decap_v4"))
		decap_v4(&fx);
	if (test__start_subtest("decap_v6"))
		decap_v6(&fx);
	if (test__start_subtest("decap_vlan"))
		decap_vlan(&fx);
	if (test__start_subtest("decap_steer_roundtrip"))
		decap_steer_roundtrip(&fx);
	if (test__start_subtest("decap_then_gate"))
		decap_then_gate(&fx);
	if (test__start_subtest("decap_spoof"))
		decap_spoof(&fx);
	if (test__start_subtest("decap_mixed_families"))
		decap_mixed(&fx);
	if (test__start_subtest("decap_truncated"))
		decap_truncated(&fx);
	if (test__start_subtest("vip_gate"))
		vip_gate(&fx);
	if (test__start_subtest("arp_nd_gate"))
		arp_nd_gate(&fx);
	if (test__start_subtest("arp_orphan"))
		arp_orphan(&fx);
	if (test__start_subtest("takeover"))
		takeover(&fx);
	if (test__start_subtest("bfd_stamps_owner"))
		bfd_stamps_owner(&fx);
	if (test__start_subtest("mirror"))
		mirror(&fx);
	if (test__start_subtest("chain"))
		chain(&fx);
out:
	mfx_close(&fx);
}
