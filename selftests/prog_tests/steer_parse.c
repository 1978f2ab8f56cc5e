// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * steer_parse.c - what the steering program accepts as a packet: truncation
 * at every header boundary, VLAN, IPv4 options, fragments, IPv6 extension
 * headers, non-IP and non-VIP traffic. Whatever is not steered must leave
 * byte-identical with XDP_PASS and be counted under its reason.
 */
#include <string.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/bpf.h>
#include "test_progs.h"
#include "testlib.h"

#define VIP4	"10.0.0.100"
#define VIP6	"fd00::100"
#define FRAG4	"10.0.0.101"	/* UDP wildcard service: fragments */
#define FRAG6	"fd00::101"

static int setup(struct steer_fx *fx)
{
	int err;

	err = fx_open(fx, 1024, 1024);
	if (!ASSERT_OK(err, "fx_open"))
		return err;
	err = fx_add_service(fx, 1, VIP4, 80, IPPROTO_TCP, XH_FWD_L2, NULL, 0);
	err = err ?: fx_add_service(fx, 2, VIP6, 80, IPPROTO_TCP, XH_FWD_L2, NULL, 0);
	err = err ?: fx_add_service(fx, 3, FRAG4, 0, IPPROTO_UDP, XH_FWD_L2, NULL, 0);
	err = err ?: fx_add_service(fx, 4, FRAG6, 0, IPPROTO_UDP, XH_FWD_L2, NULL, 0);
	err = err ?: fx_add_service(fx, 5, VIP4, 53, IPPROTO_UDP, XH_FWD_L2, NULL, 0);
	err = err ?: fx_add_service(fx, 6, VIP6, 0, IPPROTO_ICMPV6, XH_FWD_L2, NULL, 0);
	err = err ?: fx_add_service(fx, 7, VIP4, 0, IPPROTO_ICMP, XH_FWD_L2, NULL, 0);
	err = err ?: fx_add_backend(fx, 11, 1, "10.1.0.1", 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(fx, 12, 1, "10.1.0.2", 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(fx, 21, 2, "fd01::1", 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(fx, 31, 3, "10.1.0.31", 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(fx, 32, 3, "10.1.0.32", 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(fx, 33, 3, "10.1.0.33", 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(fx, 41, 4, "fd01::41", 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(fx, 42, 4, "fd01::42", 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(fx, 51, 5, "10.1.0.51", 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(fx, 61, 6, "fd01::61", 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(fx, 71, 7, "10.1.0.71", 0, 1, XH_BK_UP, 0, 0);
	for (__u32 s = 1; !err && s <= 7; s++)
		err = fx_rebuild(fx, s, XH_MAGLEV_DEFAULT, NULL);
	ASSERT_OK(err, "setup services");
	return err;
}

/* Run a frame that must be passed untouched, counted under ctr. */
static bool expect_pass(struct steer_fx *fx, const __u8 *in, __u32 len,
			__u32 ctr, const char *what)
{
	__u8 out[PKT_MAX + 256];
	__u32 olen = 0, ret = 0;
	__u64 before = fx_ctr(fx, ctr);
	bool ok = true;

	if (!ASSERT_OK(fx_run(fx, in, len, out, &olen, &ret), what))
		return false;
	ok &= ASSERT_EQ(ret, XDP_PASS, what);
	ok &= ASSERT_EQ(olen, len, what);
	ok &= ASSERT_MEMEQ(out, in, len, what);
	ok &= ASSERT_EQ(fx_ctr(fx, ctr), before + 1, what);
	return ok;
}

static void truncation(struct steer_fx *fx)
{
	struct pkt_spec specs[] = {
		{ .family = 4, .src = "192.0.2.1", .dst = VIP4, .proto = IPPROTO_TCP,
		  .sport = 1000, .dport = 80, .tcp_flags = 0x02 },
		{ .family = 4, .src = "192.0.2.1", .dst = VIP4, .proto = IPPROTO_UDP,
		  .sport = 1000, .dport = 53, .payload = 4 },
		{ .family = 4, .src = "192.0.2.1", .dst = VIP4, .proto = IPPROTO_TCP,
		  .sport = 1000, .dport = 80, .tcp_flags = 0x10, .vlan = 7,
		  .ip_opts = 8 },
		{ .family = 6, .src = "2001:db8::1", .dst = VIP6, .proto = IPPROTO_TCP,
		  .sport = 1000, .dport = 80, .tcp_flags = 0x02 },
		{ .family = 6, .src = "2001:db8::1", .dst = FRAG6, .proto = IPPROTO_UDP,
		  .sport = 1000, .dport = 53, .v6_hbh = true, .v6_frag = true },
		{ .family = 4, .src = "192.0.2.1", .dst = VIP4, .proto = IPPROTO_ICMP },
	};
	__u8 pkt[PKT_MAX];
	__u32 i, len, cut, bad = 0, ret;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		len = pkt_build(&specs[i], pkt);
		/* The whole frame is steered ... */
		fx_send(fx, &specs[i], &ret);
		if (!ASSERT_EQ(ret, XDP_TX, "whole frame steered"))
			bad++;
		/* ... and every cut short of it is passed as truncated. The
		 * kernel refuses frames shorter than an Ethernet header. */
		for (cut = ETH_HLEN; cut < len; cut++)
			if (!expect_pass(fx, pkt, cut, XH_CTR_PASS_TRUNC,
					 "truncated"))
				bad++;
	}
	ASSERT_EQ(bad, 0, "every truncation passed untouched");
}

static void vlan(struct steer_fx *fx)
{
	struct pkt_spec s = { .family = 4, .src = "192.0.2.1", .dst = VIP4,
			      .proto = IPPROTO_TCP, .sport = 4000, .dport = 80,
			      .tcp_flags = 0x02, .vlan = 100 };
	__u8 in[PKT_MAX], out[PKT_MAX + 256];
	__u32 len = pkt_build(&s, in), olen, ret;

	if (!ASSERT_OK(fx_run(fx, in, len, out, &olen, &ret), "run"))
		return;
	ASSERT_EQ(ret, XDP_TX, "vlan tagged VIP packet forwarded");
	ASSERT_EQ(olen, len, "same length");
	/* Tag kept as is, everything after the MACs untouched */
	ASSERT_MEMEQ(out + 12, in + 12, len - 12, "tag and payload kept");

	/* QinQ: a second tag is not IP to us */
	in[16] = 0x81;
	in[17] = 0x00;
	expect_pass(fx, in, len, XH_CTR_PASS_NOT_IP, "double tag");
	/* 802.1ad outer tag is not 802.1Q */
	len = pkt_build(&s, in);
	in[12] = 0x88;
	in[13] = 0xa8;
	expect_pass(fx, in, len, XH_CTR_PASS_NOT_IP, "802.1ad");
}

static void ipv4_options(struct steer_fx *fx)
{
	struct pkt_spec s = { .family = 4, .src = "192.0.2.1", .dst = VIP4,
			      .proto = IPPROTO_TCP, .sport = 4001, .dport = 80,
			      .tcp_flags = 0x02 };
	__u8 in[PKT_MAX];
	__u32 len, ret, id0, id;
	int opts;

	id0 = fx_send(fx, &s, &ret);
	ASSERT_NEQ(id0, 0, "no options forwarded");
	for (opts = 4; opts <= 40; opts += 4) {
		s.ip_opts = opts;
		id = fx_send(fx, &s, &ret);
		/* options change neither the flow nor its backend */
		if (!ASSERT_EQ(id, id0, "options: same backend"))
			break;
	}
	s.ip_opts = 0;
	len = pkt_build(&s, in);
	in[14] = 0x44;		/* IHL 4 */
	expect_pass(fx, in, len, XH_CTR_PASS_MALFORMED, "ihl < 5");
	in[14] = 0x55;		/* version 5 */
	expect_pass(fx, in, len, XH_CTR_PASS_MALFORMED, "version 5");
	len = pkt_build(&s, in);
	in[16] = 0;
	in[17] = 16;		/* tot_len below the header */
	expect_pass(fx, in, len, XH_CTR_PASS_MALFORMED, "tot_len < ihl");
	len = pkt_build(&s, in);
	in[14] = 0x4f;		/* IHL 15: options run into the TCP header,
				 * 60 > tot_len 40 */
	expect_pass(fx, in, len, XH_CTR_PASS_MALFORMED, "ihl beyond tot_len");
	len = pkt_build(&s, in);
	in[14 + 20 + 12] = 4 << 4;	/* TCP data offset 4 */
	expect_pass(fx, in, len, XH_CTR_PASS_MALFORMED, "tcp doff < 5");
}

static void fragments(struct steer_fx *fx)
{
	struct pkt_spec first = { .family = 4, .src = "192.0.2.7", .dst = FRAG4,
				  .proto = IPPROTO_UDP, .sport = 5000,
				  .dport = 5060, .frag_off = 0x2000,
				  .payload = 64 };
	struct pkt_spec later = first;
	__u32 ret, a, b, frag0 = fx_ctr(fx, XH_CTR_FRAG);
	__u32 seen[64] = {}, i, hits = 0;

	later.frag_off = 9;	/* offset 72, last fragment */
	later.no_l4 = true;
	a = fx_send(fx, &first, &ret);
	ASSERT_EQ(ret, XDP_TX, "first fragment steered");
	b = fx_send(fx, &later, &ret);
	ASSERT_EQ(ret, XDP_TX, "later fragment steered");
	ASSERT_NEQ(a, 0, "first fragment has a backend");
	ASSERT_EQ(a, b, "fragments of one datagram on one backend");
	ASSERT_EQ(fx_ctr(fx, XH_CTR_FRAG), frag0 + 2, "fragments counted");

	/* Different sources spread: the key is the addresses, not nothing */
	for (i = 0; i < 64; i++) {
		char src[32];
		__u32 id;

		snprintf(src, sizeof(src), "192.0.2.%u", 10 + i);
		later.src = src;
		id = fx_send(fx, &later, &ret);
		if (id >= 31 && id <= 33 && !seen[id - 31]++)
			hits++;
	}
	ASSERT_EQ(hits, 3, "fragments spread over the three backends");

	/* A fragment to a VIP with only a port service has no service */
	first.dst = VIP4;
	first.dport = 53;
	{
		__u8 in[PKT_MAX];
		__u32 len = pkt_build(&first, in);

		expect_pass(fx, in, len, XH_CTR_PASS_NOT_VIP,
			    "fragment without wildcard service");
	}
}

static void ipv6_ext(struct steer_fx *fx)
{
	struct pkt_spec s = { .family = 6, .src = "2001:db8::9", .dst = FRAG6,
			      .proto = IPPROTO_UDP, .sport = 7000, .dport = 9,
			      .payload = 16 };
	struct pkt_spec f = s;
	__u8 in[PKT_MAX];
	__u32 ret, a, b, c, len;

	a = fx_send(fx, &s, &ret);
	ASSERT_EQ(ret, XDP_TX, "v6 udp without extension");
	ASSERT_NEQ(a, 0, "has backend");
	f.v6_frag = true;
	f.v6_frag_off = 1;	/* M flag: first fragment */
	b = fx_send(fx, &f, &ret);
	ASSERT_EQ(ret, XDP_TX, "v6 fragment header steered");
	f.v6_hbh = true;
	f.v6_frag_off = 0x0010;	/* offset 2, last */
	f.no_l4 = true;
	c = fx_send(fx, &f, &ret);
	ASSERT_EQ(ret, XDP_TX, "v6 hop-by-hop + fragment steered");
	ASSERT_EQ(b, c, "both fragments on one backend");

	/* extension header to a VIP with only a port service */
	f.dst = VIP6;
	f.proto = IPPROTO_TCP;
	f.no_l4 = false;
	len = pkt_build(&f, in);
	expect_pass(fx, in, len, XH_CTR_PASS_NOT_VIP,
		    "v6 ext header without wildcard service");
	/* unknown upper protocol behind extension headers */
	len = pkt_build(&f, in);
	in[14 + 40 + 8] = 132;	/* SCTP in the fragment header */
	expect_pass(fx, in, len, XH_CTR_PASS_PROTO, "sctp behind ext");
	/* version field wrong */
	len = pkt_build(&s, in);
	in[14] = 0x40;
	expect_pass(fx, in, len, XH_CTR_PASS_MALFORMED, "v6 version 4");
}

static void non_ip(struct steer_fx *fx)
{
	static const __u16 types[] = { 0x0806, 0x88cc, 0x8137, 0x88e5, 0x0000,
				       0xffff };
	__u8 in[64];
	__u32 i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memset(in, 0x5a, sizeof(in));
		memcpy(in, mac_steer, 6);
		memcpy(in + 6, mac_client, 6);
		in[12] = types[i] >> 8;
		in[13] = types[i] & 0xff;
		expect_pass(fx, in, sizeof(in), XH_CTR_PASS_NOT_IP, "non-IP");
	}
}

static void non_vip(struct steer_fx *fx)
{
	struct pkt_spec cases[] = {
		/* other address */
		{ .family = 4, .src = "192.0.2.1", .dst = "10.0.0.99",
		  .proto = IPPROTO_TCP, .sport = 1, .dport = 80, .tcp_flags = 2 },
		/* VIP, other port */
		{ .family = 4, .src = "192.0.2.1", .dst = VIP4,
		  .proto = IPPROTO_TCP, .sport = 1, .dport = 81, .tcp_flags = 2 },
		/* VIP, port of the TCP service but UDP */
		{ .family = 4, .src = "192.0.2.1", .dst = VIP4,
		  .proto = IPPROTO_UDP, .sport = 1, .dport = 80 },
		{ .family = 6, .src = "2001:db8::1", .dst = "fd00::99",
		  .proto = IPPROTO_TCP, .sport = 1, .dport = 80, .tcp_flags = 2 },
		{ .family = 6, .src = "2001:db8::1", .dst = VIP6,
		  .proto = IPPROTO_UDP, .sport = 1, .dport = 80 },
		{ .family = 6, .src = "2001:db8::1", .dst = "fd00::99",
		  .proto = IPPROTO_ICMPV6 },
		/* a port service's address is not a wildcard for ICMP */
		{ .family = 4, .src = "192.0.2.1", .dst = FRAG4,
		  .proto = IPPROTO_ICMP },
	};
	__u8 in[PKT_MAX];
	__u32 i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = pkt_build(&cases[i], in);
		expect_pass(fx, in, len, XH_CTR_PASS_NOT_VIP, "non-VIP");
	}
	/* a protocol we do not steer, to a VIP address */
	len = pkt_build(&cases[1], in);
	in[14 + 9] = 132;
	expect_pass(fx, in, len, XH_CTR_PASS_PROTO, "sctp to VIP");
}

static void icmp(struct steer_fx *fx)
{
	struct pkt_spec s4 = { .family = 4, .src = "192.0.2.1", .dst = VIP4,
			       .proto = IPPROTO_ICMP, .sport = 77 };
	struct pkt_spec s6 = { .family = 6, .src = "2001:db8::1", .dst = VIP6,
			       .proto = IPPROTO_ICMPV6, .sport = 77 };
	__u32 ret;

	ASSERT_EQ(fx_send(fx, &s4, &ret), 71, "icmp to VIP on its service");
	ASSERT_EQ(fx_send(fx, &s6, &ret), 61, "icmpv6 to VIP on its service");
}

static void padding(struct steer_fx *fx)
{
	struct pkt_spec s = { .family = 4, .src = "192.0.2.1", .dst = VIP4,
			      .proto = IPPROTO_UDP, .sport = 9, .dport = 53 };
	__u8 in[PKT_MAX], out[PKT_MAX + 256];
	__u32 len = pkt_build(&s, in), olen, ret;

	ASSERT_LT(len, 60, "short frame");
	/* Ethernet pads to 60: bytes past tot_len are not a length error */
	if (!ASSERT_OK(fx_run(fx, in, 60, out, &olen, &ret), "run"))
		return;
	ASSERT_EQ(ret, XDP_TX, "padded frame steered");
	ASSERT_EQ(olen, 60, "padding kept");
}

void test_steer_parse(void)
{
	struct steer_fx fx;

	if (setup(&fx))
		goto out;
	if (test__start_subtest("truncated_every_boundary"))
		truncation(&fx);
	if (test__start_subtest("vlan"))
		vlan(&fx);
	if (test__start_subtest("ipv4_options_and_malformed"))
		ipv4_options(&fx);
	if (test__start_subtest("ipv4_fragments"))
		fragments(&fx);
	if (test__start_subtest("ipv6_extension_headers"))
		ipv6_ext(&fx);
	if (test__start_subtest("non_ip_ethertypes"))
		non_ip(&fx);
	if (test__start_subtest("non_vip_passed_identical"))
		non_vip(&fx);
	if (test__start_subtest("icmp"))
		icmp(&fx);
	if (test__start_subtest("ethernet_padding"))
		padding(&fx);
out:
	fx_close(&fx);
}
