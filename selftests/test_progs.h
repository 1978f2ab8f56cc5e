/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_progs.h - the API between the test runner (test_progs.c) and the
 * tests in prog_tests/.
 *
 * A test is a function `void test_<name>(void)` in prog_tests/<area>.c;
 * gen_tests_h.sh finds it, the runner calls it. Inside, a test may split
 * itself into subtests:
 *
 *	if (test__start_subtest("ipv4"))
 *		run_ipv4();
 *
 * and checks results with the ASSERT_*() macros, which log a line and mark
 * the current subtest (or the test, outside a subtest) failed when the
 * check does not hold. Each evaluates to true on success:
 *
 *	if (!ASSERT_OK(err, "prog_run"))
 *		goto out;
 *
 * Everything a test writes to stdout or stderr (including libbpf's
 * messages and the output of sys_cmd()) goes to a per-test log that is
 * shown only when the test fails, or always with -v.
 *
 * The runner gives all tests one private network namespace with `lo` up;
 * anything a test creates in it must still be removed by the test, so the
 * next test starts clean.
 */
#ifndef XH_TEST_PROGS_H
#define XH_TEST_PROGS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/*
 * Close the previous subtest and start one called @name. Returns false
 * when -t filters it out; the test then skips that part.
 */
bool test__start_subtest(const char *name);

/* Mark the current subtest, or the test, skipped or failed. */
void test__skip(void);
void test__fail(void);

/* True with -v: a test may print extra detail. */
bool test__verbose(void);

/*
 * Run a shell command built from @fmt with system(); its output goes to
 * the test log. Returns the exit status, 128 + signal if it was killed,
 * or -errno if it could not be run.
 */
int sys_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * For testing the ASSERT_*() macros themselves (runner_selfcheck.c): until
 * test__expect_fail_end(), a failing check is logged as "FAIL (expected)"
 * and counted instead of failing the test. Returns that count.
 */
void test__expect_fail(void);
int test__expect_fail_end(void);

/* Internals of the ASSERT_*() macros below; not for direct use. */
enum test__cmp_op {
	TEST__EQ,
	TEST__NE,
	TEST__LT,
	TEST__LE,
	TEST__GT,
	TEST__GE,
};

bool test__assert_int(const char *file, int line, const char *name,
		      const char *macro, const char *expr_a, const char *expr_b,
		      enum test__cmp_op op,
		      unsigned long long a, bool a_signed,
		      unsigned long long b, bool b_signed);
bool test__assert_ok(const char *file, int line, const char *name,
		     const char *expr, unsigned long long v, bool is_signed,
		     int err);
bool test__assert_err(const char *file, int line, const char *name,
		      const char *expr, unsigned long long v, bool is_signed);
bool test__assert_ok_fd(const char *file, int line, const char *name,
			const char *expr, unsigned long long v, bool is_signed,
			int err);
bool test__assert_bool(const char *file, int line, const char *name,
		       const char *macro, const char *expr, bool ok);
bool test__assert_ok_ptr(const char *file, int line, const char *name,
			 const char *expr, const void *p, long perr, int err);
bool test__assert_null(const char *file, int line, const char *name,
		       const char *expr, const void *p);
bool test__assert_streq(const char *file, int line, const char *name,
			const char *expr_a, const char *expr_b,
			const char *a, const char *b);
bool test__assert_memeq(const char *file, int line, const char *name,
			const char *expr_a, const char *expr_b,
			const void *a, const void *b, size_t len);

/*
 * Integers of any width and signedness are compared by value: each side
 * is carried as its sign-extended 64-bit pattern plus whether its type is
 * signed, so -1 never equals 0xffffffffu and no sign-compare or type-limits
 * warning fires at the call site.
 */
#define __test_is_signed(v)	((typeof(v))-1 < (typeof(v))1)

#define __TEST_CMP(op, macro, a, b, sa, sb, name) ({			\
	typeof(a) ___a = (a);						\
	typeof(b) ___b = (b);						\
	test__assert_int(__FILE__, __LINE__, (name), (macro), (sa), (sb), \
			 (op), (unsigned long long)___a,		\
			 __test_is_signed(___a),			\
			 (unsigned long long)___b,			\
			 __test_is_signed(___b));			\
})

#define ASSERT_EQ(a, b, name)						\
	__TEST_CMP(TEST__EQ, "ASSERT_EQ", a, b, #a, #b, name)
#define ASSERT_NEQ(a, b, name)						\
	__TEST_CMP(TEST__NE, "ASSERT_NEQ", a, b, #a, #b, name)
#define ASSERT_LT(a, b, name)						\
	__TEST_CMP(TEST__LT, "ASSERT_LT", a, b, #a, #b, name)
#define ASSERT_LE(a, b, name)						\
	__TEST_CMP(TEST__LE, "ASSERT_LE", a, b, #a, #b, name)
#define ASSERT_GT(a, b, name)						\
	__TEST_CMP(TEST__GT, "ASSERT_GT", a, b, #a, #b, name)
#define ASSERT_GE(a, b, name)						\
	__TEST_CMP(TEST__GE, "ASSERT_GE", a, b, #a, #b, name)

/* res == 0; on failure also shows errno, as libbpf calls set it. */
#define ASSERT_OK(res, name) ({						\
	typeof(res) ___r = (res);					\
	int ___e = errno;						\
	test__assert_ok(__FILE__, __LINE__, (name), #res,		\
			(unsigned long long)___r, __test_is_signed(___r), \
			___e);						\
})

/* res < 0 */
#define ASSERT_ERR(res, name) ({					\
	typeof(res) ___r = (res);					\
	test__assert_err(__FILE__, __LINE__, (name), #res,		\
			 (unsigned long long)___r, __test_is_signed(___r)); \
})

/* fd >= 0, e.g. bpf_map__fd() or bpf_program__fd() */
#define ASSERT_OK_FD(fd, name) ({					\
	typeof(fd) ___r = (fd);						\
	int ___e = errno;						\
	test__assert_ok_fd(__FILE__, __LINE__, (name), #fd,		\
			   (unsigned long long)___r,			\
			   __test_is_signed(___r), ___e);		\
})

#define ASSERT_TRUE(x, name)						\
	test__assert_bool(__FILE__, __LINE__, (name), "ASSERT_TRUE", #x, \
			  !!(x))
#define ASSERT_FALSE(x, name)						\
	test__assert_bool(__FILE__, __LINE__, (name), "ASSERT_FALSE", #x, \
			  !(x))

/* Not NULL and not a libbpf error pointer. */
#define ASSERT_OK_PTR(ptr, name) ({					\
	const void *___p = (ptr);					\
	int ___e = errno;						\
	long ___pe = libbpf_get_error(___p);				\
	test__assert_ok_ptr(__FILE__, __LINE__, (name), #ptr, ___p,	\
			    ___pe, ___e);				\
})

#define ASSERT_NULL(ptr, name)						\
	test__assert_null(__FILE__, __LINE__, (name), #ptr, (ptr))

#define ASSERT_STREQ(a, b, name)					\
	test__assert_streq(__FILE__, __LINE__, (name), #a, #b, (a), (b))

/* On a mismatch, logs the first differing offset and a hex dump of both. */
#define ASSERT_MEMEQ(a, b, len, name)					\
	test__assert_memeq(__FILE__, __LINE__, (name), #a, #b, (a), (b), \
			   (len))

#endif /* XH_TEST_PROGS_H */
