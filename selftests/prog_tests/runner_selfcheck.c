// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * runner_selfcheck.c - tests of test_progs itself: that every ASSERT_*()
 * passes what it should and catches what it should, that sys_cmd()
 * reports exit statuses, and that tests run in a private netns with lo up.
 * Run with -v to see what each failing check prints.
 */
#include <limits.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "test_progs.h"

static void check_int_compare(void)
{
	unsigned int big = 0xffffffffu;
	long long minus_one = -1;
	unsigned char byte = 200;

	ASSERT_EQ(minus_one, -1, "same signed value");
	ASSERT_EQ(byte, 200, "uchar vs int");
	/* By value, not by C's conversions: -1 < 0u and -1 != 0xffffffff. */
	ASSERT_NEQ(minus_one, big, "-1 vs 0xffffffff");
	ASSERT_LT(minus_one, 0u, "-1 < 0u");
	ASSERT_GT(ULLONG_MAX, LLONG_MAX, "ULLONG_MAX > LLONG_MAX");
	ASSERT_LE(LLONG_MIN, minus_one, "LLONG_MIN <= -1");
	ASSERT_GE(big, big, "x >= x");

	test__expect_fail();
	ASSERT_EQ(1, 2, "1 == 2");
	ASSERT_LT(0u, minus_one, "0u < -1");
	ASSERT_GE(minus_one, big, "-1 >= 0xffffffff");
	ASSERT_NEQ(big, 0xffffffffULL, "x != x");
	ASSERT_EQ(test__expect_fail_end(), 4, "caught bad comparisons");
}

static void check_ok_err(void)
{
	int fd = STDOUT_FILENO;

	ASSERT_OK(0, "zero");
	ASSERT_ERR(-EINVAL, "negative");
	ASSERT_OK_FD(fd, "fd");

	test__expect_fail();
	errno = ENOENT;
	ASSERT_OK(-ENOENT, "error");
	ASSERT_OK(1, "positive");
	ASSERT_ERR(0, "zero is no error");
	ASSERT_OK_FD(-1, "bad fd");
	ASSERT_EQ(test__expect_fail_end(), 4, "caught bad results");
}

static void check_ptr(void)
{
	int x = 1;

	ASSERT_OK_PTR(&x, "valid");
	ASSERT_NULL(NULL, "NULL");

	test__expect_fail();
	errno = ENOMEM;
	ASSERT_OK_PTR(NULL, "NULL is not ok");
	ASSERT_OK_PTR((void *)(long)-EINVAL, "libbpf error pointer");
	ASSERT_NULL(&x, "not NULL");
	ASSERT_EQ(test__expect_fail_end(), 3, "caught bad pointers");
}

static void check_bool_str(void)
{
	char buf[8], *p = buf;

	snprintf(buf, sizeof(buf), "xh_%d", 1);
	ASSERT_TRUE(1, "true");
	ASSERT_FALSE(0, "false");
	ASSERT_STREQ(buf, "xh_1", "equal strings");

	test__expect_fail();
	ASSERT_TRUE(0, "false is not true");
	ASSERT_FALSE(p, "a pointer is not false");
	ASSERT_STREQ(buf, "xh_2", "differing strings");
	ASSERT_STREQ(NULL, "xh_1", "NULL string");
	ASSERT_EQ(test__expect_fail_end(), 4, "caught bad bools and strings");
}

static void check_memeq(void)
{
	unsigned char a[64], b[64];
	size_t i;

	for (i = 0; i < sizeof(a); i++)
		a[i] = b[i] = i * 7;
	ASSERT_MEMEQ(a, b, sizeof(a), "equal buffers");
	ASSERT_MEMEQ(a, b, 0, "empty buffers");

	b[37] ^= 0x10;
	b[63] = 0;
	/* Differences after the first one do not hide it. */
	ASSERT_MEMEQ(a, b, 37, "equal prefix");
	test__expect_fail();
	ASSERT_MEMEQ(a, b, sizeof(a), "one differing byte");
	ASSERT_MEMEQ(a, b, 38, "difference in the last byte");
	ASSERT_EQ(test__expect_fail_end(), 2, "caught differing buffers");
}

static void check_sys_cmd(void)
{
	ASSERT_EQ(sys_cmd("true"), 0, "true");
	ASSERT_EQ(sys_cmd("exit %d", 3), 3, "exit status");
	ASSERT_EQ(sys_cmd("echo to the test log; echo and stderr >&2"), 0,
		  "output");
}

static void check_netns(void)
{
	struct ifreq ifr = {};
	char self[64] = "", parent[64] = "", path[64];
	ssize_t n;
	int fd;

	/* Our parent stays in the namespace test_progs left with unshare(). */
	n = readlink("/proc/self/ns/net", self, sizeof(self) - 1);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)getppid());
	if (ASSERT_GT(n, 0, "readlink self") &&
	    readlink(path, parent, sizeof(parent) - 1) > 0)
		ASSERT_TRUE(strcmp(self, parent), "private netns");

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!ASSERT_OK_FD(fd, "socket"))
		return;
	strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
	if (ASSERT_OK(ioctl(fd, SIOCGIFFLAGS, &ifr), "SIOCGIFFLAGS"))
		ASSERT_TRUE(ifr.ifr_flags & IFF_UP, "lo is up");
	close(fd);
}

void test_runner_selfcheck(void)
{
	if (test__start_subtest("int_compare"))
		check_int_compare();
	if (test__start_subtest("ok_err"))
		check_ok_err();
	if (test__start_subtest("ptr"))
		check_ptr();
	if (test__start_subtest("bool_str"))
		check_bool_str();
	if (test__start_subtest("memeq"))
		check_memeq();
	if (test__start_subtest("sys_cmd"))
		check_sys_cmd();
	if (test__start_subtest("netns"))
		check_netns();
}
