// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_svc.c - what the command line accepts as a service, address, MAC
 * and state, and how it prints them back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include "svc.h"

static void roundtrip(const char *in, const char *out)
{
	struct xh_svc_spec s;
	char buf[96];

	assert_int_equal(xh_svc_parse(in, &s), 0);
	xh_svc_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, out);
}

static void test_svc_parse_ok(void **state)
{
	struct xh_svc_spec s;

	(void)state;
	roundtrip("10.0.0.1:80/tcp", "10.0.0.1:80/tcp");
	roundtrip("10.0.0.1:0/udp", "10.0.0.1:0/udp");
	roundtrip("[fd00::1]:53/udp", "[fd00::1]:53/udp");
	roundtrip("10.0.0.1/icmp", "10.0.0.1/icmp");
	roundtrip("fd00::1/icmpv6", "fd00::1/icmpv6");
	roundtrip("10.0.0.1/tcp", "10.0.0.1:0/tcp");
	/* without brackets every colon belongs to the IPv6 address */
	roundtrip("fd00::1:53/udp", "[fd00::1:53]:0/udp");
	assert_int_equal(xh_svc_parse("198.18.0.9:65535/tcp", &s), 0);
	assert_int_equal(s.port, 65535);
	assert_int_equal(s.proto, IPPROTO_TCP);
	assert_int_equal(s.family, XH_FAM_V4);
	assert_int_equal(s.addr[0], htonl(0xc6120009));
	assert_int_equal(s.addr[1] | s.addr[2] | s.addr[3], 0);
}

static void test_svc_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "10.0.0.1", "10.0.0.1:80", "10.0.0.1:80/sctp",
		"10.0.0.1:65536/tcp", "10.0.0.1:-1/tcp", "10.0.0.1:x/tcp",
		"10.0.0.1:/tcp", "10.0.0.256:80/tcp",
		"[fd00::1/udp", "[fd00::1]x/udp", "10.0.0.1:8/icmp",
		"fd00::1/icmp", "10.0.0.1/icmpv6", "[10.0.0.1]:80/tcp:",
	};
	struct xh_svc_spec s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (xh_svc_parse(bad[i], &s) == 0)
			fail_msg("accepted bad service '%s'", bad[i]);
}

static void test_mac_parse(void **state)
{
	__u8 mac[6];
	static const __u8 want[6] = { 0x02, 0xbb, 0, 0x10, 0xfe, 0xff };

	(void)state;
	assert_int_equal(xh_mac_parse("02:bb:00:10:fe:ff", mac), 0);
	assert_memory_equal(mac, want, 6);
	assert_int_not_equal(xh_mac_parse("02:bb:00:10:fe", mac), 0);
	assert_int_not_equal(xh_mac_parse("02:bb:00:10:fe:ff:00", mac), 0);
	assert_int_not_equal(xh_mac_parse("02:bb:00:10:fe:1ff", mac), 0);
	assert_int_not_equal(xh_mac_parse("zz:bb:00:10:fe:ff", mac), 0);
}

static void test_state_and_addr(void **state)
{
	__be32 a[4];
	__u8 st, fam;
	char buf[64];

	(void)state;
	assert_int_equal(xh_state_parse("drain", &st), 0);
	assert_int_equal(st, XH_BK_DRAIN);
	assert_int_equal(xh_state_parse("down", &st), 0);
	assert_int_equal(st, XH_BK_DOWN);
	assert_int_not_equal(xh_state_parse("free", &st), 0);
	assert_int_not_equal(xh_state_parse("UP", &st), 0);
	assert_string_equal(xh_state_name(XH_BK_UP), "up");
	assert_int_equal(xh_addr_parse("fd00::7", a, &fam), 0);
	assert_int_equal(fam, XH_FAM_V6);
	xh_addr_format(a, fam, buf, sizeof(buf));
	assert_string_equal(buf, "fd00::7");
	assert_int_not_equal(xh_addr_parse("fd00::7::1", a, &fam), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_svc_parse_ok),
		cmocka_unit_test(test_svc_parse_bad),
		cmocka_unit_test(test_mac_parse),
		cmocka_unit_test(test_state_and_addr),
	};

	return cmocka_run_group_tests_name("svc", tests, NULL, NULL);
}
