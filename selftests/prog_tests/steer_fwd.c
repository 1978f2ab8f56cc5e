// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * steer_fwd.c - forwarding output, byte by byte: L2 rewrite out of the
 * ingress device and through a devmap, IPv4-in-IPv4 and IPv6-in-IPv6 with
 * the outer header checked field by field (the IPv4 checksum by an
 * independent sum), VLAN kept, MTU overflow passed, family mismatch dropped.
 */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "test_progs.h"
#include "testlib.h"
#include "xh_hash.h"

#define VIP4	"10.0.0.100"
#define VIP6	"fd00::100"
#define SRC4	"10.9.9.9"	/* encap source */
#define SRC6	"fd09::9"

static void expect_l2(const __u8 *in, __u32 len, const __u8 *out, __u32 olen,
		      const __u8 *dmac, const __u8 *smac)
{
	ASSERT_EQ(olen, len, "length kept");
	ASSERT_MEMEQ(out, dmac, 6, "dst MAC = backend");
	ASSERT_MEMEQ(out + 6, smac, 6, "src MAC = our NIC");
	ASSERT_MEMEQ(out + 12, in + 12, len - 12, "rest untouched");
}

static void l2_tx(struct steer_fx *fx, int family)
{
	struct pkt_spec s = { .family = family, .proto = IPPROTO_TCP,
			      .src = family == 4 ? "192.0.2.1" : "2001:db8::1",
			      .dst = family == 4 ? VIP4 : VIP6,
			      .sport = 33000, .dport = 80, .tcp_flags = 0x02,
			      .payload = 10 };
	__u8 in[PKT_MAX], out[PKT_MAX + 256], dmac[6];
	__u32 len = pkt_build(&s, in), olen, ret;

	if (!ASSERT_OK(fx_run(fx, in, len, out, &olen, &ret), "run"))
		return;
	ASSERT_EQ(ret, XDP_TX, "XDP_TX");
	mac_of_backend(family == 4 ? 1 : 2, dmac);
	expect_l2(in, len, out, olen, dmac, mac_steer);
}

static void l2_redirect(struct steer_fx *fx)
{
	struct pkt_spec s = { .family = 4, .proto = IPPROTO_UDP,
			      .src = "192.0.2.1", .dst = "10.0.0.102",
			      .sport = 1, .dport = 2 };
	struct xh_iface ifc = { .mac = { 0x02, 0x77, 0, 0, 0, 0x07 } };
	__u8 in[PKT_MAX], out[PKT_MAX + 256], dmac[6];
	__u32 len = pkt_build(&s, in), olen, ret, ifindex;
	__u64 drops = fx_ctr(fx, XH_CTR_DROP_NO_TXPORT);

	if (!ASSERT_OK(sys_cmd("ip link add xhr0 type veth peer name xhr1"),
		       "veth"))
		return;
	ifindex = if_nametoindex("xhr0");
	if (!ASSERT_NEQ(ifindex, 0, "ifindex"))
		goto out;
	ASSERT_OK(fx_add_service(fx, 3, "10.0.0.102", 2, IPPROTO_UDP,
				 XH_FWD_L2, NULL, 0), "service");
	ASSERT_OK(fx_add_backend(fx, 3, 3, "10.1.0.3", 0, 1, XH_BK_UP, ifindex,
				 0), "backend");
	ASSERT_OK(fx_rebuild(fx, 3, 251, NULL), "rebuild");

	/* Not yet in xh_ifaces/xh_tx_ports: counted drop, never a TX out of
	 * the wrong device. */
	ASSERT_OK(fx_run(fx, in, len, out, &olen, &ret), "run");
	ASSERT_EQ(ret, XDP_DROP, "no tx port: drop");
	ASSERT_EQ(fx_ctr(fx, XH_CTR_DROP_NO_TXPORT), drops + 1, "counted");

	ASSERT_OK(bpf_map_update_elem(fx->m.ifaces, &ifindex, &ifc, 0), "ifc");
	ASSERT_OK(bpf_map_update_elem(fx->m.tx_ports, &ifindex, &ifindex, 0),
		  "devmap");
	ASSERT_OK(fx_run(fx, in, len, out, &olen, &ret), "run");
	ASSERT_EQ(ret, XDP_REDIRECT, "XDP_REDIRECT");
	mac_of_backend(3, dmac);
	expect_l2(in, len, out, olen, dmac, ifc.mac);
out:
	sys_cmd("ip link del xhr0");
}

/* Check an IP-in-IP frame: L2 (+tag) then outer then the original packet. */
static void check_ipip4(const __u8 *in, __u32 len, const __u8 *out,
			__u32 olen, __u32 l2, const __u8 *inner_saved)
{
	const __u8 *o = out + l2;
	__u8 src[4], dst[4];

	inet_pton(AF_INET, SRC4, src);
	inet_pton(AF_INET, "10.1.0.1", dst);
	ASSERT_EQ(olen, len + 20, "grew by 20");
	ASSERT_MEMEQ(out + 12, in + 12, l2 - 12, "ethertype/tag kept");
	ASSERT_EQ(o[0], 0x45, "outer version/ihl");
	ASSERT_EQ(o[1], inner_saved[1], "outer tos = inner tos");
	ASSERT_EQ((o[2] << 8) | o[3], len - l2 + 20, "outer tot_len");
	ASSERT_EQ((o[6] << 8) | o[7], 0x4000, "DF copied from inner");
	ASSERT_EQ(o[8], 64, "outer ttl");
	ASSERT_EQ(o[9], IPPROTO_IPIP, "outer protocol 4");
	ASSERT_MEMEQ(o + 12, src, 4, "outer src from config");
	ASSERT_MEMEQ(o + 16, dst, 4, "outer dst = backend");
	ASSERT_TRUE(ipv4_csum_ok(o, 20), "outer checksum valid");
	ASSERT_NEQ((o[10] << 8) | o[11], 0, "checksum written");
	ASSERT_MEMEQ(o + 20, in + l2, len - l2, "inner packet untouched");
}

static void ipip4(struct steer_fx *fx, int vlan)
{
	struct pkt_spec s = { .family = 4, .proto = IPPROTO_TCP,
			      .src = "192.0.2.1", .dst = "10.0.0.104",
			      .sport = 999, .dport = 443, .tcp_flags = 0x02,
			      .payload = 100, .tos = 0xb8, .df = true,
			      .vlan = vlan };
	__u8 in[PKT_MAX], out[PKT_MAX + 256], dmac[6];
	__u32 len = pkt_build(&s, in), olen, ret, l2 = vlan ? 18 : 14;

	if (!ASSERT_OK(fx_run(fx, in, len, out, &olen, &ret), "run"))
		return;
	ASSERT_EQ(ret, XDP_TX, "XDP_TX");
	mac_of_backend(4, dmac);
	ASSERT_MEMEQ(out, dmac, 6, "dst MAC = backend next hop");
	ASSERT_MEMEQ(out + 6, mac_steer, 6, "src MAC");
	check_ipip4(in, len, out, olen, l2, in + l2);
}

static void ipip6(struct steer_fx *fx)
{
	struct pkt_spec s = { .family = 6, .proto = IPPROTO_UDP,
			      .src = "2001:db8::1", .dst = "fd00::104",
			      .sport = 5353, .dport = 53, .payload = 33,
			      .tos = 0x28 };
	struct xh_flow_key k;
	__u8 in[PKT_MAX], out[PKT_MAX + 256], dmac[6], src[16], dst[16];
	__u32 len = pkt_build(&s, in), olen, ret, w, label;
	const __u8 *o = out + 14;

	pkt_flow_key(&s, &k);
	label = xh_flow_hash(&k) & 0xfffff;
	inet_pton(AF_INET6, SRC6, src);
	inet_pton(AF_INET6, "fd01::5", dst);
	if (!ASSERT_OK(fx_run(fx, in, len, out, &olen, &ret), "run"))
		return;
	ASSERT_EQ(ret, XDP_TX, "XDP_TX");
	mac_of_backend(5, dmac);
	ASSERT_MEMEQ(out, dmac, 6, "dst MAC");
	ASSERT_EQ(olen, len + 40, "grew by 40");
	ASSERT_EQ((out[12] << 8) | out[13], 0x86dd, "ethertype");
	w = (o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3];
	ASSERT_EQ(w >> 28, 6, "outer version");
	ASSERT_EQ((w >> 20) & 0xff, 0x28, "traffic class copied");
	ASSERT_EQ(w & 0xfffff, label, "flow label = flow hash");
	ASSERT_EQ((o[4] << 8) | o[5], len - 14, "payload_len = inner");
	ASSERT_EQ(o[6], 41, "next header IPv6");
	ASSERT_EQ(o[7], 64, "hop limit");
	ASSERT_MEMEQ(o + 8, src, 16, "outer src");
	ASSERT_MEMEQ(o + 24, dst, 16, "outer dst");
	ASSERT_MEMEQ(o + 40, in + 14, len - 14, "inner untouched");
}

static void mtu(struct steer_fx *fx)
{
	struct pkt_spec s = { .family = 4, .proto = IPPROTO_UDP,
			      .src = "192.0.2.1", .dst = "10.0.0.106",
			      .sport = 1, .dport = 2 };
	struct xh_iface ifc = { .mac = { 0x02, 0x77, 0, 0, 0, 0x08 } };
	__u8 in[PKT_MAX], out[PKT_MAX + 256];
	__u32 len, olen, ret, ifindex;
	__u64 mtu0 = fx_ctr(fx, XH_CTR_PASS_MTU);

	if (!ASSERT_OK(sys_cmd("ip link add xhm0 mtu 1400 type veth peer name xhm1"),
		       "veth"))
		return;
	ifindex = if_nametoindex("xhm0");
	ASSERT_OK(fx_add_service(fx, 6, "10.0.0.106", 2, IPPROTO_UDP,
				 XH_FWD_IPIP, SRC4, 0), "service");
	ASSERT_OK(fx_add_backend(fx, 6, 6, "10.1.0.6", 0, 1, XH_BK_UP, ifindex,
				 0), "backend");
	ASSERT_OK(fx_rebuild(fx, 6, 251, NULL), "rebuild");
	bpf_map_update_elem(fx->m.ifaces, &ifindex, &ifc, 0);
	bpf_map_update_elem(fx->m.tx_ports, &ifindex, &ifindex, 0);

	/* IP 1380 + 20 = 1400 fits ... */
	s.payload = 1380 - 28;
	len = pkt_build(&s, in);
	ASSERT_OK(fx_run(fx, in, len, out, &olen, &ret), "run");
	ASSERT_EQ(ret, XDP_REDIRECT, "fits the MTU: forwarded");
	ASSERT_EQ(olen, len + 20, "encapsulated");
	/* ... IP 1381 + 20 does not: to the stack, untouched, counted */
	s.payload++;
	len = pkt_build(&s, in);
	ASSERT_OK(fx_run(fx, in, len, out, &olen, &ret), "run");
	ASSERT_EQ(ret, XDP_PASS, "over the MTU: passed");
	ASSERT_EQ(olen, len, "not encapsulated");
	ASSERT_MEMEQ(out, in, len, "untouched");
	ASSERT_EQ(fx_ctr(fx, XH_CTR_PASS_MTU), mtu0 + 1, "counted");
	sys_cmd("ip link del xhm0");
}

static void family_mismatch(struct steer_fx *fx)
{
	struct pkt_spec s = { .family = 4, .proto = IPPROTO_UDP,
			      .src = "192.0.2.1", .dst = "10.0.0.107",
			      .sport = 1, .dport = 2 };
	__u8 in[PKT_MAX];
	__u32 len = pkt_build(&s, in), ret;
	__u64 d0 = fx_ctr(fx, XH_CTR_DROP_FAMILY);

	ASSERT_OK(fx_add_service(fx, 7, "10.0.0.107", 2, IPPROTO_UDP,
				 XH_FWD_IPIP, SRC4, 0), "service");
	ASSERT_OK(fx_add_backend(fx, 7, 7, "fd01::7", 0, 1, XH_BK_UP, 0, 0),
		  "backend");
	ASSERT_OK(fx_rebuild(fx, 7, 251, NULL), "rebuild");
	ASSERT_OK(fx_run(fx, in, len, NULL, NULL, &ret), "run");
	ASSERT_EQ(ret, XDP_DROP, "v4 packet, v6 backend: dropped");
	ASSERT_EQ(fx_ctr(fx, XH_CTR_DROP_FAMILY), d0 + 1, "counted");
}

void test_steer_fwd(void)
{
	struct steer_fx fx;
	int err;

	err = fx_open(&fx, 1024, 1024);
	if (!ASSERT_OK(err, "fx_open"))
		goto out;
	err = fx_add_service(&fx, 1, VIP4, 80, IPPROTO_TCP, XH_FWD_L2, NULL, 0);
	err = err ?: fx_add_service(&fx, 2, VIP6, 80, IPPROTO_TCP, XH_FWD_L2, NULL, 0);
	err = err ?: fx_add_service(&fx, 4, "10.0.0.104", 443, IPPROTO_TCP,
				    XH_FWD_IPIP, SRC4, 0);
	err = err ?: fx_add_service(&fx, 5, "fd00::104", 53, IPPROTO_UDP,
				    XH_FWD_IPIP, SRC6, 0);
	err = err ?: fx_add_backend(&fx, 1, 1, "10.1.0.1", 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(&fx, 2, 2, "fd01::2", 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(&fx, 4, 4, "10.1.0.1", 0, 1, XH_BK_UP, 0, 0);
	err = err ?: fx_add_backend(&fx, 5, 5, "fd01::5", 0, 1, XH_BK_UP, 0, 0);
	for (__u32 i = 1; !err && i <= 5; i++)
		if (i != 3)
			err = fx_rebuild(&fx, i, 251, NULL);
	if (!ASSERT_OK(err, "setup"))
		goto out;

	if (test__start_subtest("l2_tx_ipv4"))
		l2_tx(&fx, 4);
	if (test__start_subtest("l2_tx_ipv6"))
		l2_tx(&fx, 6);
	if (test__start_subtest("l2_redirect_devmap"))
		l2_redirect(&fx);
	if (test__start_subtest("ipip_v4"))
		ipip4(&fx, 0);
	if (test__start_subtest("ipip_v4_vlan"))
		ipip4(&fx, 42);
	if (test__start_subtest("ipip_v6"))
		ipip6(&fx);
	if (test__start_subtest("ipip_mtu_overflow_passed"))
		mtu(&fx);
	if (test__start_subtest("family_mismatch_dropped"))
		family_mismatch(&fx);
out:
	fx_close(&fx);
}
