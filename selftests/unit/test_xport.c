// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_xport.c - cmocka tests of the AF_XDP transport's frames
 * (user/xport_frame.c) and of the transports' configuration checks
 * (user/xport.c).
 *
 * Checksums are checked against a byte-wise RFC 1071 reference written
 * here, not against the code under test. Frames are built by the
 * transmit path and parsed by the receive path of a second transport
 * whose addresses are the mirror image (round trip, every byte); every
 * truncation and a table of malformed frames must be dropped for the
 * expected reason, and nothing malformed is ever delivered.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "xm_abi.h"
#include "xport_impl.h"

#define FRAME_MAX	2048
#define ETH		14

static const __u8 mac_a[6] = { 0x02, 0, 0x5e, 0x10, 0, 0x01 };
static const __u8 mac_b[6] = { 0x02, 0, 0x5e, 0x10, 0, 0x02 };

/* RFC 1071, byte pairs in network order: the reference. */
static __u16 ref_sum(const __u8 *p, size_t len, __u32 sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* UDP checksum of a frame by the reference: 0xffff when it verifies. */
static __u16 ref_udp_verify(const __u8 *f, int v6)
{
	const __u8 *ip = f + ETH, *udp = ip + (v6 ? 40 : (ip[0] & 0xf) * 4);
	__u16 ulen = (udp[4] << 8) | udp[5];
	__u32 sum = 17 + ulen;

	sum = ref_sum(v6 ? ip + 8 : ip + 12, v6 ? 32 : 8, sum);
	return ref_sum(udp, ulen, sum);
}

/* The two ends: a sends to b. */
static void cfg_pair(struct xh_xport_cfg *a, struct xh_xport_cfg *b, int v6)
{
	memset(a, 0, sizeof(*a));
	a->family = v6 ? XH_FAM_V6 : XH_FAM_V4;
	if (v6) {
		inet_pton(AF_INET6, "fd00:7868:0:1::1", a->local);
		inet_pton(AF_INET6, "fd00:7868:0:1::2", a->peer);
	} else {
		inet_pton(AF_INET, "198.18.0.1", a->local);
		inet_pton(AF_INET, "198.18.0.2", a->peer);
	}
	a->port = XM_MIRROR_PORT;
	a->peer_port = XM_MIRROR_PORT;
	memcpy(a->local_mac, mac_a, 6);
	memcpy(a->peer_mac, mac_b, 6);
	*b = *a;
	memcpy(b->local, a->peer, 16);
	memcpy(b->peer, a->local, 16);
	memcpy(b->local_mac, mac_b, 6);
	memcpy(b->peer_mac, mac_a, 6);
	b->flags = XH_XPORT_F_RX_CSUM;
}

static void pattern(__u8 *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (__u8)(seed * 31 + i * 7 + (i >> 8));
}

/* A frame from a to b with len payload bytes; returns its length. */
static __u32 build(const struct xh_xport_cfg *a, __u8 *f, size_t len,
		   unsigned int seed)
{
	__u8 payload[FRAME_MAX];
	struct iovec v = { payload, len };
	struct xh_frame fr;

	pattern(payload, len, seed);
	xh_frame_init(&fr, a);
	memset(f, 0xee, FRAME_MAX);
	xh_frame_template(&fr, f);
	return xh_frame_build(&fr, f, &v);
}

static int parse(const struct xh_xport_cfg *b, const __u8 *f, __u32 len,
		 struct xh_xport_msg *m)
{
	struct xh_frame fr;

	xh_frame_init(&fr, b);
	return xh_frame_parse(&fr, f, len, m);
}

/* Fix the IPv4 header checksum after a mutation. */
static void ip4_recsum(__u8 *f)
{
	__u8 *ip = f + ETH;
	__u16 c;

	ip[10] = ip[11] = 0;
	c = ~ref_sum(ip, (ip[0] & 0xf) * 4, 0);
	ip[10] = c >> 8;
	ip[11] = c & 0xff;
}

static void test_csum_matches_reference(void **state)
{
	__u8 buf[300];
	size_t off, len;
	__u16 ours, ref;

	(void)state;
	pattern(buf, sizeof(buf), 3);
	buf[17] = 0xff;
	buf[18] = 0xff;
	for (off = 0; off < 8; off++) {
		for (len = 0; len < 280; len++) {
			ours = xh_csum_fold(xh_csum_add(0, buf + off, len));
			ref = ref_sum(buf + off, len, 0);
			/* ours is in memory order: as bytes, it is ref */
			assert_int_equal(ntohs(ours), ref);
		}
	}
	/* a long run of 0xff words: the 64-bit sum must not lose carries */
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(xh_csum_fold(xh_csum_add(0, buf, sizeof(buf))),
			 0xffff);
}

static void test_build_v4(void **state)
{
	struct xh_xport_cfg a, b;
	__u8 f[FRAME_MAX];
	size_t len;
	__u32 n;

	(void)state;
	cfg_pair(&a, &b, 0);
	for (len = 0; len <= 1472; len += len < 70 ? 1 : 97) {
		n = build(&a, f, len, len);
		assert_int_equal(n, ETH + 20 + 8 + len);
		assert_memory_equal(f, mac_b, 6);
		assert_memory_equal(f + 6, mac_a, 6);
		assert_int_equal((f[12] << 8) | f[13], 0x0800);
		assert_int_equal(f[ETH], 0x45);
		assert_int_equal((f[ETH + 2] << 8) | f[ETH + 3], 28 + len);
		assert_int_equal(f[ETH + 6], 0x40);	/* DF */
		assert_int_equal(f[ETH + 8], 64);
		assert_int_equal(f[ETH + 9], 17);
		assert_int_equal(ref_sum(f + ETH, 20, 0), 0xffff);
		assert_memory_equal(f + ETH + 12, a.local, 4);
		assert_memory_equal(f + ETH + 16, a.peer, 4);
		assert_int_equal((f[34] << 8) | f[35], a.port);
		assert_int_equal((f[36] << 8) | f[37], a.peer_port);
		assert_int_equal((f[38] << 8) | f[39], 8 + len);
		assert_int_equal(f[40] | f[41], 0);	/* no UDP checksum */
	}
}

static void test_build_v6(void **state)
{
	struct xh_xport_cfg a, b;
	__u8 f[FRAME_MAX];
	size_t len;

	(void)state;
	cfg_pair(&a, &b, 1);
	for (len = 0; len <= 1452; len += len < 70 ? 1 : 89) {
		assert_int_equal(build(&a, f, len, len), ETH + 48 + len);
		assert_int_equal((f[12] << 8) | f[13], 0x86dd);
		assert_int_equal(f[ETH] >> 4, 6);
		assert_int_equal((f[ETH + 4] << 8) | f[ETH + 5], 8 + len);
		assert_int_equal(f[ETH + 6], 17);
		assert_int_equal(f[ETH + 7], 64);
		assert_int_equal((f[58] << 8) | f[59], 8 + len);
		assert_true(f[60] | f[61]);	/* mandatory, never 0 */
		assert_int_equal(ref_udp_verify(f, 1), 0xffff);
	}
}

/* What b receives is what a sent, byte for byte, from a's address. */
static void roundtrip(int v6)
{
	struct xh_xport_cfg a, b;
	struct xh_xport_msg m;
	__u8 f[FRAME_MAX], want[FRAME_MAX];
	size_t len, max = v6 ? 1452 : 1472;
	__u32 n;

	cfg_pair(&a, &b, v6);
	for (len = 0; len <= max; len += len < 70 ? 1 : 61) {
		n = build(&a, f, len, len + 1);
		memset(&m, 0, sizeof(m));
		assert_int_equal(parse(&b, f, n, &m), 0);
		assert_int_equal(m.len, len);
		pattern(want, len, len + 1);
		assert_memory_equal(m.data, want, len);
		assert_ptr_equal(m.data, f + n - len);
		assert_int_equal(m.family, a.family);
		assert_int_equal(m.port, a.port);
		assert_memory_equal(m.addr, a.local, v6 ? 16 : 4);
		/* Ethernet padding after the datagram changes nothing */
		assert_int_equal(parse(&b, f, n + 20, &m), 0);
		assert_int_equal(m.len, len);
	}
}

static void test_roundtrip_v4(void **state)
{
	(void)state;
	roundtrip(0);
}

static void test_roundtrip_v6(void **state)
{
	(void)state;
	roundtrip(1);
}

/* Every prefix of a frame is dropped as short, never delivered. */
static void test_truncated(void **state)
{
	struct xh_xport_cfg a, b;
	struct xh_xport_msg m;
	__u8 f[FRAME_MAX];
	__u32 n, len;
	int v6;

	(void)state;
	for (v6 = 0; v6 < 2; v6++) {
		cfg_pair(&a, &b, v6);
		n = build(&a, f, 100, 9);
		for (len = 0; len < n; len++)
			assert_int_equal(parse(&b, f, len, &m),
					 XH_FRAME_DROP(XH_XPORT_DROP_SHORT));
	}
}

struct bad_case {
	const char *desc;
	int v6;
	void (*mutate)(__u8 *f);
	int want;	/* 0 or XH_FRAME_DROP(XH_XPORT_DROP_...) */
	__u32 flags_clear;
};

static void m_version(__u8 *f) { f[ETH] = 0x55; ip4_recsum(f); }
static void m_ihl(__u8 *f) { f[ETH] = 0x44; ip4_recsum(f); }
static void m_ipsum(__u8 *f) { f[ETH + 11] ^= 1; }
static void m_totlen(__u8 *f) { f[ETH + 2] = 0; f[ETH + 3] = 27; ip4_recsum(f); }
static void m_mf(__u8 *f) { f[ETH + 6] |= 0x20; ip4_recsum(f); }
static void m_offset(__u8 *f) { f[ETH + 7] = 1; ip4_recsum(f); }
static void m_tcp(__u8 *f) { f[ETH + 9] = 6; ip4_recsum(f); }
static void m_dst4(__u8 *f) { f[ETH + 19]++; ip4_recsum(f); }
static void m_port4(__u8 *f) { f[37]++; }
static void m_ulen_small(__u8 *f) { f[38] = 0; f[39] = 7; }
static void m_ulen_big(__u8 *f) { f[39]++; }
static void m_arp(__u8 *f) { f[12] = 0x08; f[13] = 0x06; }
static void m_as_v6(__u8 *f) { f[12] = 0x86; f[13] = 0xdd; }
static void m_as_v4(__u8 *f) { f[12] = 0x08; f[13] = 0x00; }
static void m_udpsum4(__u8 *f) { f[40] = 0x12; f[41] = 0x34; }
static void m_v6_version(__u8 *f) { f[ETH] = 0x40; }
static void m_v6_hbh(__u8 *f) { f[ETH + 6] = 0; }
static void m_v6_dst(__u8 *f) { f[ETH + 39]++; }
static void m_v6_port(__u8 *f) { f[57]++; }
static void m_v6_zero(__u8 *f) { f[60] = 0; f[61] = 0; }
static void m_v6_sum(__u8 *f) { f[61] ^= 0x40; }
static void m_v6_payload(__u8 *f) { f[70] ^= 1; }

/* IPv4 with 4 bytes of options: still ours. */
static void m_options(__u8 *f)
{
	__u8 tmp[FRAME_MAX];
	__u16 tot = ((f[ETH + 2] << 8) | f[ETH + 3]) + 4;

	memcpy(tmp, f + ETH + 20, tot - 24);
	memset(f + ETH + 20, 1, 4);	/* four NOPs */
	memcpy(f + ETH + 24, tmp, tot - 24);
	f[ETH] = 0x46;
	f[ETH + 2] = tot >> 8;
	f[ETH + 3] = tot & 0xff;
	ip4_recsum(f);
}

/* An 802.1Q tag: still ours. */
static void m_vlan(__u8 *f)
{
	__u8 tmp[FRAME_MAX];

	memcpy(tmp, f + 12, 200);
	f[12] = 0x81;
	f[13] = 0x00;
	f[14] = 0x00;
	f[15] = 0x07;
	memcpy(f + 16, tmp, 200);
}

static const struct bad_case cases[] = {
	{ "ipv4 version 5", 0, m_version, XH_FRAME_DROP(XH_XPORT_DROP_IP_HDR), 0 },
	{ "ipv4 ihl 4", 0, m_ihl, XH_FRAME_DROP(XH_XPORT_DROP_IP_HDR), 0 },
	{ "ipv4 header checksum", 0, m_ipsum, XH_FRAME_DROP(XH_XPORT_DROP_IP_HDR), 0 },
	{ "ipv4 total length < headers", 0, m_totlen, XH_FRAME_DROP(XH_XPORT_DROP_IP_HDR), 0 },
	{ "ipv4 MF", 0, m_mf, XH_FRAME_DROP(XH_XPORT_DROP_FRAG), 0 },
	{ "ipv4 fragment offset", 0, m_offset, XH_FRAME_DROP(XH_XPORT_DROP_FRAG), 0 },
	{ "ipv4 tcp", 0, m_tcp, XH_FRAME_DROP(XH_XPORT_DROP_NOT_UDP), 0 },
	{ "ipv4 other destination", 0, m_dst4, XH_FRAME_DROP(XH_XPORT_DROP_DST), 0 },
	{ "ipv4 other port", 0, m_port4, XH_FRAME_DROP(XH_XPORT_DROP_PORT), 0 },
	{ "ipv4 udp length 7", 0, m_ulen_small, XH_FRAME_DROP(XH_XPORT_DROP_UDP_HDR), 0 },
	{ "ipv4 udp length past ip", 0, m_ulen_big, XH_FRAME_DROP(XH_XPORT_DROP_UDP_HDR), 0 },
	{ "arp", 0, m_arp, XH_FRAME_DROP(XH_XPORT_DROP_NOT_IP), 0 },
	{ "ipv6 ethertype on a v4 transport", 0, m_as_v6, XH_FRAME_DROP(XH_XPORT_DROP_FAMILY), 0 },
	{ "ipv4 bad udp checksum", 0, m_udpsum4, XH_FRAME_DROP(XH_XPORT_DROP_CSUM), 0 },
	{ "ipv4 bad udp checksum, not verified", 0, m_udpsum4, 0,
	  XH_XPORT_F_RX_CSUM },
	{ "ipv4 options", 0, m_options, 0, 0 },
	{ "ipv4 vlan tag", 0, m_vlan, 0, 0 },
	{ "ipv6 version 4", 1, m_v6_version, XH_FRAME_DROP(XH_XPORT_DROP_IP_HDR), 0 },
	{ "ipv6 hop-by-hop header", 1, m_v6_hbh, XH_FRAME_DROP(XH_XPORT_DROP_NOT_UDP), 0 },
	{ "ipv6 other destination", 1, m_v6_dst, XH_FRAME_DROP(XH_XPORT_DROP_DST), 0 },
	{ "ipv6 other port", 1, m_v6_port, XH_FRAME_DROP(XH_XPORT_DROP_PORT), 0 },
	{ "ipv6 zero udp checksum", 1, m_v6_zero, XH_FRAME_DROP(XH_XPORT_DROP_UDP_HDR), 0 },
	{ "ipv6 zero udp checksum, not verified", 1, m_v6_zero,
	  XH_FRAME_DROP(XH_XPORT_DROP_UDP_HDR), XH_XPORT_F_RX_CSUM },
	{ "ipv6 bad udp checksum", 1, m_v6_sum, XH_FRAME_DROP(XH_XPORT_DROP_CSUM), 0 },
	{ "ipv6 payload bit flipped", 1, m_v6_payload, XH_FRAME_DROP(XH_XPORT_DROP_CSUM), 0 },
	{ "ipv6 vlan tag", 1, m_vlan, 0, 0 },
	{ "ipv4 ethertype on a v6 transport", 1, m_as_v4, XH_FRAME_DROP(XH_XPORT_DROP_FAMILY), 0 },
	{ "arp on a v6 transport", 1, m_arp, XH_FRAME_DROP(XH_XPORT_DROP_NOT_IP), 0 },
};

static void test_malformed(void **state)
{
	struct xh_xport_cfg a, b;
	struct xh_xport_msg m;
	__u8 f[FRAME_MAX];
	size_t i;
	__u32 n;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];

		cfg_pair(&a, &b, c->v6);
		b.flags &= ~c->flags_clear;
		n = build(&a, f, 100, (unsigned int)i);
		c->mutate(f);
		r = parse(&b, f, n + 4, &m);	/* +4: room for a tag */
		if (r != c->want)
			fail_msg("%s: got %d (%s), want %d", c->desc, r,
				 r < 0 ? xh_xport_drop_name(XH_FRAME_REASON(r)) :
					 "ok",
				 c->want);
		if (!r)
			assert_int_equal(m.len, 100);
	}
}

/* Configuration checks of xh_xport_init(), on lo (every namespace has
 * one). */
static void test_init(void **state)
{
	struct xh_xport_cfg a, b;
	struct xh_xport x;

	(void)state;
	cfg_pair(&a, &b, 0);
	a.port = 0;
	a.peer_port = 0;
	a.ifname = "lo";
	memset(&x, 0, sizeof(x));
	assert_int_equal(xh_xport_init(&x, &a), 0);
	assert_int_equal(x.c.port, XM_MIRROR_PORT);
	assert_int_equal(x.c.peer_port, XM_MIRROR_PORT);
	assert_int_equal(x.c.ring_size, XH_XPORT_RING_SIZE);
	assert_int_equal(x.c.frame_size, XH_XPORT_FRAME_SIZE);
	assert_int_equal(x.c.batch, XH_XPORT_BATCH);
	assert_int_equal(x.max_payload, x.mtu - 28);

	a.family = 5;
	assert_int_equal(xh_xport_init(&x, &a), -EINVAL);
	a.family = XH_FAM_V4;
	a.ring_size = 1000;
	assert_int_equal(xh_xport_init(&x, &a), -EINVAL);
	a.ring_size = 0;
	a.frame_size = 3000;
	assert_int_equal(xh_xport_init(&x, &a), -EINVAL);
	a.frame_size = 0;
	a.batch = 4096;
	assert_int_equal(xh_xport_init(&x, &a), -EINVAL);
	a.batch = 0;
	a.ifname = NULL;
	assert_int_equal(xh_xport_init(&x, &a), -EINVAL);
	a.ifname = "xhnodev0";
	assert_int_equal(xh_xport_init(&x, &a), -ENODEV);
}

static void test_fit(void **state)
{
	struct xh_xport x = { .max_payload = 100 };
	struct iovec v[3] = { { NULL, 100 }, { NULL, 101 }, { NULL, 1 } };

	(void)state;
	assert_int_equal(xh_xport_fit(&x, v, 3), 1);
	assert_int_equal(xh_xport_fit(&x, v + 1, 2), 0);
	assert_int_equal(xh_xport_fit(&x, v + 2, 1), 1);
	assert_int_equal(xh_xport_fit(&x, v, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_matches_reference),
		cmocka_unit_test(test_build_v4),
		cmocka_unit_test(test_build_v6),
		cmocka_unit_test(test_roundtrip_v4),
		cmocka_unit_test(test_roundtrip_v6),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
