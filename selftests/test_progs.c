// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_progs.c - runner for the tests in prog_tests/.
 *
 * Owns: the test table (built from the generated tests.h), -t filtering,
 * the per-test log, result lines and the summary, the -c counts file and
 * the environment every test runs in (root, a private network namespace
 * with lo up, no memlock limit).
 *
 * Output, as in the kernel's bpf selftests:
 *	#N/M name/sub:OK|FAIL|SKIP	as each subtest ends
 *	#N name:OK|FAIL|SKIP		as each test ends
 *	Summary: X/Y PASSED, Z SKIPPED, W FAILED
 * X counts tests that passed, Y subtests that passed, Z skipped results
 * (subtests, and tests without subtests) and W tests that failed.
 *
 * The log: while a test runs, fds 1 and 2 point at one memfd, so printf(),
 * libbpf's messages and the children of sys_cmd() all land in it in order.
 * A subtest's part of the log is shown when that subtest fails; the rest
 * (setup and teardown around subtests) when the test fails. -v shows all.
 */
#define _GNU_SOURCE
#include <execinfo.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test_progs.h"

struct prog_test {
	const char *name;
	void (*fn)(void);
};

#define DEFINE_TEST(t) void test_##t(void);
#include "tests.h"
#undef DEFINE_TEST

static const struct prog_test prog_tests[] = {
#define DEFINE_TEST(t) { .name = #t, .fn = test_##t },
#include "tests.h"
#undef DEFINE_TEST
};

#define NR_TESTS (sizeof(prog_tests) / sizeof(prog_tests[0]))

/* A byte range of the log file. */
struct log_seg {
	off_t start;
	off_t end;
};

/* State of the running test; reset before each test. */
struct test_state {
	int num;			/* 1-based index in prog_tests[] */
	const char *name;
	bool failed;			/* failure outside any subtest */
	bool skipped;			/* test__skip() outside any subtest */

	int sub_seen;			/* test__start_subtest() calls */
	int sub_run;			/* ... that passed the filter */
	int sub_ok;
	int sub_skip;
	int sub_fail;

	bool sub_active;
	int sub_num;			/* M of the active subtest */
	char *sub_name;
	bool sub_failed;
	bool sub_skipped;
	off_t sub_start;		/* its log starts here */

	/* Log outside subtests: closed segments plus the open one. */
	struct log_seg *segs;
	int nr_segs;
	off_t seg_start;
};

/* Leaf results, as written to the -c file. */
struct counts {
	int passed;
	int failed;
	int skipped;
};

static struct {
	int verbosity;			/* -v: 1, -vv: 2 */
	char **filters;			/* -t patterns */
	int nr_filters;
	const char *counts_file;	/* -c */

	FILE *out;			/* the runner's own stdout */
	int saved_out;			/* fds 1 and 2 outside tests */
	int saved_err;
	int log_fd;			/* memfd behind fds 1 and 2 in a test */

	struct test_state *cur;		/* the running test, or NULL */
	pid_t pid;			/* the runner, not a test's child */
	bool expect_fail;		/* test__expect_fail() is on */
	int expected_fails;

	int tests_ok;			/* Summary: X */
	int subs_ok;			/* Summary: Y */
	int tests_fail;			/* Summary: W */
	struct counts leaves;		/* Summary: Z, and the -c file */
} env = {
	.saved_out = -1,
	.saved_err = -1,
	.log_fd = -1,
};

/* ---- filters ----------------------------------------------------------- */

/* A pattern with '*' is a glob over the whole name, else a substring. */
static bool name_matches(const char *pat, size_t pat_len, const char *name)
{
	char buf[256];

	if (pat_len >= sizeof(buf))
		pat_len = sizeof(buf) - 1;
	memcpy(buf, pat, pat_len);
	buf[pat_len] = '\0';
	if (strchr(buf, '*'))
		return fnmatch(buf, name, 0) == 0;
	return strstr(name, buf) != NULL;
}

/*
 * "test" selects a test with all its subtests, "test/sub" a test with only
 * the matching subtests. @sub is NULL when asking about the test itself.
 */
static bool is_selected(const char *test, const char *sub)
{
	int i;

	if (!env.nr_filters)
		return true;
	for (i = 0; i < env.nr_filters; i++) {
		const char *pat = env.filters[i];
		const char *slash = strchr(pat, '/');

		if (!slash) {
			if (name_matches(pat, strlen(pat), test))
				return true;
			continue;
		}
		if (!name_matches(pat, slash - pat, test))
			continue;
		if (!sub || name_matches(slash + 1, strlen(slash + 1), sub))
			return true;
	}
	return false;
}

static int add_filters(const char *arg)
{
	char *copy, *tok, *save = NULL;

	copy = strdup(arg);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char **f;

		if (tok[0] == '/' || strlen(tok) >= 256) {
			free(copy);
			return -EINVAL;
		}
		f = realloc(env.filters, (env.nr_filters + 1) * sizeof(*f));
		if (!f || !(f[env.nr_filters] = strdup(tok))) {
			env.filters = f ? f : env.filters;
			free(copy);
			return -ENOMEM;
		}
		env.filters = f;
		env.nr_filters++;
	}
	free(copy);
	return 0;
}

/* ---- the log ----------------------------------------------------------- */

/* Where the next byte of log output will go. */
static off_t log_pos(void)
{
	struct stat st;

	fflush(stdout);
	fflush(stderr);
	if (fstat(env.log_fd, &st))
		return 0;
	return st.st_size;
}

static void log_reset(void)
{
	fflush(stdout);
	fflush(stderr);
	if (ftruncate(env.log_fd, 0) || lseek(env.log_fd, 0, SEEK_SET))
		fprintf(env.out, "test_progs: cannot reset log: %s\n",
			strerror(errno));
}

/*
 * Copy [start, end) of the log to fd @to. Only read(), write() and friends,
 * so the crash handler can use it too. Returns the last byte copied.
 */
static char log_copy(int to, off_t start, off_t end)
{
	char buf[4096], last = '\n';

	while (start < end) {
		size_t want = end - start < (off_t)sizeof(buf) ?
			      (size_t)(end - start) : sizeof(buf);
		ssize_t n = pread(env.log_fd, buf, want, start);
		ssize_t off = 0;

		if (n <= 0)
			break;
		while (off < n) {
			ssize_t w = write(to, buf + off, n - off);

			if (w <= 0)
				return '\n';
			off += w;
		}
		last = buf[n - 1];
		start += n;
	}
	return last;
}

static void log_dump(off_t start, off_t end)
{
	fflush(env.out);
	if (log_copy(fileno(env.out), start, end) != '\n')
		fputc('\n', env.out);
}

/* End the open segment of the log outside subtests. */
static void seg_close(struct test_state *t, off_t now)
{
	struct log_seg *s;

	if (now <= t->seg_start)
		return;
	s = realloc(t->segs, (t->nr_segs + 1) * sizeof(*s));
	if (!s)
		return;
	t->segs = s;
	s[t->nr_segs].start = t->seg_start;
	s[t->nr_segs].end = now;
	t->nr_segs++;
	t->seg_start = now;
}

/* Point fds 1 and 2 at the log while a test runs, and back after. */
static void redirect_to_log(bool on)
{
	fflush(stdout);
	fflush(stderr);
	if (on) {
		dup2(env.log_fd, STDOUT_FILENO);
		dup2(env.log_fd, STDERR_FILENO);
	} else {
		dup2(env.saved_out, STDOUT_FILENO);
		dup2(env.saved_err, STDERR_FILENO);
	}
}

static int libbpf_print_fn(enum libbpf_print_level level, const char *fmt,
			   va_list args)
{
	if (level == LIBBPF_DEBUG && env.verbosity < 2)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* ---- results ----------------------------------------------------------- */

static int write_counts(const struct counts *c)
{
	char line[96];
	int fd, len, ret = 0;

	if (!env.counts_file)
		return 0;
	/* No stdio: the crash handler writes the file too. */
	len = snprintf(line, sizeof(line), "passed=%d failed=%d skipped=%d\n",
		       c->passed, c->failed, c->skipped);
	fd = open(env.counts_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  0644);
	if (fd < 0)
		return -errno;
	if (write(fd, line, len) != len)
		ret = -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

static void print_summary(void)
{
	fprintf(env.out, "Summary: %d/%d PASSED, %d SKIPPED, %d FAILED\n",
		env.tests_ok, env.subs_ok, env.leaves.skipped,
		env.tests_fail);
	fflush(env.out);
}

/* Close the active subtest, if any: show its log if needed and its line. */
static void test__end_subtest(void)
{
	struct test_state *t = env.cur;
	const char *res;
	off_t now;

	if (!t || !t->sub_active)
		return;
	now = log_pos();
	if (t->sub_failed || env.verbosity)
		log_dump(t->sub_start, now);

	if (t->sub_failed) {
		res = "FAIL";
		t->sub_fail++;
	} else if (t->sub_skipped) {
		res = "SKIP";
		t->sub_skip++;
	} else {
		res = "OK";
		t->sub_ok++;
	}
	fprintf(env.out, "#%d/%d %s/%s:%s\n", t->num, t->sub_num, t->name,
		t->sub_name, res);
	fflush(env.out);

	free(t->sub_name);
	t->sub_name = NULL;
	t->sub_active = false;
	t->seg_start = now;
}

bool test__start_subtest(const char *name)
{
	struct test_state *t = env.cur;

	if (!t)
		return false;
	test__end_subtest();
	t->sub_seen++;

	if (!name || !*name) {
		printf("%s: test__start_subtest() needs a non-empty name\n",
		       t->name);
		t->failed = true;
		return false;
	}
	if (!is_selected(t->name, name))
		return false;

	t->sub_name = strdup(name);
	if (!t->sub_name) {
		printf("%s/%s: out of memory\n", t->name, name);
		t->failed = true;
		return false;
	}
	t->sub_start = log_pos();
	seg_close(t, t->sub_start);
	t->sub_active = true;
	t->sub_num = t->sub_seen;
	t->sub_failed = false;
	t->sub_skipped = false;
	t->sub_run++;
	return true;
}

void test__skip(void)
{
	struct test_state *t = env.cur;

	if (!t)
		return;
	if (t->sub_active)
		t->sub_skipped = true;
	else
		t->skipped = true;
}

void test__fail(void)
{
	struct test_state *t = env.cur;

	if (!t)
		return;
	if (t->sub_active)
		t->sub_failed = true;
	else
		t->failed = true;
}

bool test__verbose(void)
{
	return env.verbosity > 0;
}

int sys_cmd(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int ret, status;

	va_start(ap, fmt);
	ret = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (ret < 0)
		return -ENOMEM;

	printf("+ %s\n", cmd);
	fflush(stdout);
	fflush(stderr);
	status = system(cmd);
	if (status < 0)
		ret = -errno;
	else if (WIFEXITED(status))
		ret = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		ret = 128 + WTERMSIG(status);
	else
		ret = -EINVAL;
	if (ret)
		printf("+ exit status %d: %s\n", ret, cmd);
	free(cmd);
	return ret;
}

/* Returns whether the test reported a result (see 'hidden'). */
static bool run_test(int idx)
{
	struct test_state t = {
		.num = idx + 1,
		.name = prog_tests[idx].name,
	};
	bool failed, skipped, hidden;
	const char *res;
	off_t now;
	int i;

	log_reset();
	env.expect_fail = false;
	env.cur = &t;
	redirect_to_log(true);
	errno = 0;

	prog_tests[idx].fn();

	test__end_subtest();
	now = log_pos();
	seg_close(&t, now);
	redirect_to_log(false);

	failed = t.failed || t.sub_fail;
	skipped = !failed &&
		  (t.skipped || (t.sub_run && t.sub_skip == t.sub_run));
	/* Every subtest filtered out and nothing went wrong: say nothing. */
	hidden = t.sub_seen && !t.sub_run && !failed;

	if (!hidden && (failed || env.verbosity))
		for (i = 0; i < t.nr_segs; i++)
			log_dump(t.segs[i].start, t.segs[i].end);

	if (failed) {
		res = "FAIL";
		env.tests_fail++;
	} else if (skipped) {
		res = "SKIP";
	} else {
		res = "OK";
		if (!hidden)
			env.tests_ok++;
	}
	if (!hidden) {
		fprintf(env.out, "#%d %s:%s\n", t.num, t.name, res);
		fflush(env.out);
	}

	if (t.sub_run) {
		env.subs_ok += t.sub_ok;
		env.leaves.passed += t.sub_ok;
		env.leaves.skipped += t.sub_skip;
		env.leaves.failed += t.sub_fail + (t.failed ? 1 : 0);
	} else if (!hidden) {
		if (failed)
			env.leaves.failed++;
		else if (skipped)
			env.leaves.skipped++;
		else
			env.leaves.passed++;
	}

	env.cur = NULL;
	free(t.segs);
	return !hidden;
}

/* ---- assertions ------------------------------------------------------- */

/*
 * Every check leaves a line in the log; a failing one says what was
 * compared and what was found, and marks the (sub)test failed.
 */
static bool assert_pass(const char *file, int line, const char *name)
{
	printf("%s:%d: %s: PASS\n", file, line, name);
	return true;
}

static bool __attribute__((format(printf, 4, 5)))
assert_fail(const char *file, int line, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%s:%d: %s: FAIL%s: ", file, line, name,
	       env.expect_fail ? " (expected)" : "");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (env.expect_fail)
		env.expected_fails++;
	else
		test__fail();
	return false;
}

void test__expect_fail(void)
{
	env.expect_fail = true;
	env.expected_fails = 0;
}

int test__expect_fail_end(void)
{
	env.expect_fail = false;
	return env.expected_fails;
}

static const char *fmt_int(char *buf, size_t size, unsigned long long v,
			   bool neg)
{
	if (neg)
		snprintf(buf, size, "%lld", (long long)v);
	else if (v < 10)
		snprintf(buf, size, "%llu", v);
	else
		snprintf(buf, size, "%llu (0x%llx)", v, v);
	return buf;
}

/* strerror() of a -errno value, if it looks like one. */
static const char *err_str(long long v)
{
	return v < 0 && v > -4096 ? strerror(-v) : "not an errno";
}

bool test__assert_int(const char *file, int line, const char *name,
		      const char *macro, const char *expr_a, const char *expr_b,
		      enum test__cmp_op op,
		      unsigned long long a, bool a_signed,
		      unsigned long long b, bool b_signed)
{
	/* The relation that holds when the check fails. */
	static const char *const not_op[] = {
		[TEST__EQ] = "!=", [TEST__NE] = "==", [TEST__LT] = ">=",
		[TEST__LE] = ">", [TEST__GT] = "<=", [TEST__GE] = "<",
	};
	bool a_neg = a_signed && (long long)a < 0;
	bool b_neg = b_signed && (long long)b < 0;
	char sa[64], sb[64];
	bool ok;
	int c;

	/* Both negative: their two's complement patterns order correctly. */
	if (a_neg != b_neg)
		c = a_neg ? -1 : 1;
	else
		c = a < b ? -1 : a > b;

	switch (op) {
	case TEST__EQ:
		ok = c == 0;
		break;
	case TEST__NE:
		ok = c != 0;
		break;
	case TEST__LT:
		ok = c < 0;
		break;
	case TEST__LE:
		ok = c <= 0;
		break;
	case TEST__GT:
		ok = c > 0;
		break;
	case TEST__GE:
		ok = c >= 0;
		break;
	default:
		return assert_fail(file, line, name, "%s: bad operator %d",
				   macro, op);
	}
	if (ok)
		return assert_pass(file, line, name);
	return assert_fail(file, line, name,
			   "%s(%s, %s): actual %s %s expected %s",
			   macro, expr_a, expr_b,
			   fmt_int(sa, sizeof(sa), a, a_neg), not_op[op],
			   fmt_int(sb, sizeof(sb), b, b_neg));
}

bool test__assert_ok(const char *file, int line, const char *name,
		     const char *expr, unsigned long long v, bool is_signed,
		     int err)
{
	bool neg = is_signed && (long long)v < 0;
	char sv[64];

	if (!v)
		return assert_pass(file, line, name);
	if (neg)
		return assert_fail(file, line, name,
				   "ASSERT_OK(%s): unexpected error %lld (%s), errno %d (%s)",
				   expr, (long long)v, err_str(v), err,
				   strerror(err));
	return assert_fail(file, line, name,
			   "ASSERT_OK(%s): unexpected non-zero result %s",
			   expr, fmt_int(sv, sizeof(sv), v, neg));
}

bool test__assert_err(const char *file, int line, const char *name,
		      const char *expr, unsigned long long v, bool is_signed)
{
	bool neg = is_signed && (long long)v < 0;
	char sv[64];

	if (neg)
		return assert_pass(file, line, name);
	return assert_fail(file, line, name,
			   "ASSERT_ERR(%s): expected an error (< 0), got %s",
			   expr, fmt_int(sv, sizeof(sv), v, neg));
}

bool test__assert_ok_fd(const char *file, int line, const char *name,
			const char *expr, unsigned long long v, bool is_signed,
			int err)
{
	bool neg = is_signed && (long long)v < 0;

	if (!neg)
		return assert_pass(file, line, name);
	return assert_fail(file, line, name,
			   "ASSERT_OK_FD(%s): bad fd %lld, errno %d (%s)",
			   expr, (long long)v, err, strerror(err));
}

bool test__assert_bool(const char *file, int line, const char *name,
		       const char *macro, const char *expr, bool ok)
{
	if (ok)
		return assert_pass(file, line, name);
	return assert_fail(file, line, name, "%s(%s): it is %s", macro, expr,
			   strcmp(macro, "ASSERT_TRUE") ? "true" : "false");
}

bool test__assert_ok_ptr(const char *file, int line, const char *name,
			 const char *expr, const void *p, long perr, int err)
{
	if (p && !perr)
		return assert_pass(file, line, name);
	if (!p)
		return assert_fail(file, line, name,
				   "ASSERT_OK_PTR(%s): NULL, errno %d (%s)",
				   expr, err, strerror(err));
	return assert_fail(file, line, name,
			   "ASSERT_OK_PTR(%s): error pointer %ld (%s)",
			   expr, perr, err_str(perr));
}

bool test__assert_null(const char *file, int line, const char *name,
		       const char *expr, const void *p)
{
	if (!p)
		return assert_pass(file, line, name);
	return assert_fail(file, line, name,
			   "ASSERT_NULL(%s): expected NULL, got %p", expr, p);
}

bool test__assert_streq(const char *file, int line, const char *name,
			const char *expr_a, const char *expr_b,
			const char *a, const char *b)
{
	size_t i = 0;

	if (a == b || (a && b && !strcmp(a, b)))
		return assert_pass(file, line, name);
	if (a && b)
		while (a[i] == b[i])
			i++;
	return assert_fail(file, line, name,
			   "ASSERT_STREQ(%s, %s): actual %s%s%s != expected %s%s%s (first difference at index %zu)",
			   expr_a, expr_b,
			   a ? "\"" : "", a ? a : "NULL", a ? "\"" : "",
			   b ? "\"" : "", b ? b : "NULL", b ? "\"" : "", i);
}

/* One 16-byte line of a hex dump; 'mark' puts ^^ under differing bytes. */
static void hex_line(const char *label, const unsigned char *p,
		     const unsigned char *other, size_t off, size_t len,
		     bool mark)
{
	size_t i, end = off + 16 < len ? off + 16 : len;

	if (mark) {
		printf("  %4s %-9s", "", "");
		/* No trailing blanks after the last mark. */
		while (end > off && p[end - 1] == other[end - 1])
			end--;
	} else {
		printf("  %04zx %-9s", off, label);
	}
	for (i = off; i < end; i++) {
		if (i == off + 8)
			putchar(' ');
		if (mark)
			printf(" %s", p[i] != other[i] ? "^^" : "  ");
		else
			printf(" %02x", p[i]);
	}
	putchar('\n');
}

bool test__assert_memeq(const char *file, int line, const char *name,
			const char *expr_a, const char *expr_b,
			const void *a, const void *b, size_t len)
{
	const unsigned char *pa = a, *pb = b;
	size_t first, i, ndiff = 0, from, to, shown_end;
	bool ret;

	if (!a || !b)
		return assert_fail(file, line, name,
				   "ASSERT_MEMEQ(%s, %s, %zu): %s is NULL",
				   expr_a, expr_b, len,
				   a ? expr_b : expr_a);
	if (!memcmp(a, b, len))
		return assert_pass(file, line, name);

	for (first = 0; pa[first] == pb[first]; first++)
		;
	for (i = first; i < len; i++)
		ndiff += pa[i] != pb[i];
	ret = assert_fail(file, line, name,
			  "ASSERT_MEMEQ(%s, %s, %zu): %zu byte%s differ%s, the first at offset %zu (0x%zx)",
			  expr_a, expr_b, len, ndiff, ndiff == 1 ? "" : "s",
			  ndiff == 1 ? "s" : "", first, first);

	/* The line with the first difference and one line either side. */
	from = first / 16 * 16;
	from = from >= 16 ? from - 16 : 0;
	to = first / 16 * 16 + 32;
	shown_end = to < len ? to : len;
	for (i = from; i < shown_end; i += 16) {
		bool differs = memcmp(pa + i, pb + i,
				      (i + 16 < len ? i + 16 : len) - i);

		hex_line("actual", pa, pb, i, len, false);
		hex_line("expected", pb, pa, i, len, false);
		if (differs)
			hex_line("", pa, pb, i, len, true);
	}
	for (i = shown_end, ndiff = 0; i < len; i++)
		ndiff += pa[i] != pb[i];
	if (ndiff)
		printf("  ... and %zu more differing byte%s after offset 0x%zx\n",
		       ndiff, ndiff == 1 ? "" : "s", shown_end);
	return ret;
}

/* ---- crashes, signals and exit() inside a test ------------------------- */

static void write_str(int fd, const char *s)
{
	ssize_t ret = write(fd, s, strlen(s));

	(void)ret;
}

/*
 * A test died: show its whole log and a FAIL line, count it, and let the
 * signal (or exit) finish the process. Signal-safe calls only, bar
 * snprintf().
 */
static void abort_test(const char *why, bool trace)
{
	struct test_state *t = env.cur;
	struct counts c = env.leaves;
	int out = fileno(env.out);
	char line[512];
	struct stat st;

	env.cur = NULL;
	dup2(env.saved_out, STDOUT_FILENO);
	dup2(env.saved_err, STDERR_FILENO);
	if (!fstat(env.log_fd, &st) && log_copy(out, 0, st.st_size) != '\n')
		write_str(out, "\n");
	write_str(out, why);
	if (trace) {
		void *bt[32];
		int n = backtrace(bt, 32);

		backtrace_symbols_fd(bt, n, out);
	}
	if (t->sub_active) {
		snprintf(line, sizeof(line), "#%d/%d %s/%s:FAIL\n", t->num,
			 t->sub_num, t->name, t->sub_name);
		write_str(out, line);
	}
	snprintf(line, sizeof(line), "#%d %s:FAIL\n", t->num, t->name);
	write_str(out, line);
	c.failed++;
	write_counts(&c);
}

static void crash_handler(int sig)
{
	char why[128];

	if (env.cur && getpid() == env.pid) {
		snprintf(why, sizeof(why), "test_progs: caught signal %d (%s)\n",
			 sig, strsignal(sig));
		abort_test(why, sig != SIGINT && sig != SIGTERM);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void exit_handler(void)
{
	if (!env.cur || getpid() != env.pid)
		return;
	abort_test("test_progs: the test called exit()\n", false);
	_exit(1);
}

static void setup_crash_handlers(void)
{
	static const int sigs[] = {
		SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGINT, SIGTERM,
	};
	struct sigaction sa = {
		.sa_handler = crash_handler,
		.sa_flags = SA_ONSTACK | SA_RESETHAND,
	};
	static char altstack[64 * 1024];
	stack_t ss = {
		.ss_sp = altstack,
		.ss_size = sizeof(altstack),
	};
	void *bt[1];
	size_t i;

	env.pid = getpid();
	/* Load libgcc for backtrace() now, not inside a signal handler. */
	backtrace(bt, 1);
	sigaltstack(&ss, NULL);
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	atexit(exit_handler);
}

/* ---- environment ------------------------------------------------------- */

static int bring_lo_up(void)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		err = -errno;
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
out:
	close(fd);
	return err;
}

/*
 * The tests cannot run here. Under CI that is a failure (a runner that
 * silently lost its privileges must not look green); elsewhere a skip.
 */
static int cannot_run(const char *reason)
{
	const char *ci = getenv("CI");
	struct counts c = {};
	int err;

	if (ci && *ci) {
		fprintf(stderr,
			"test_progs: %s; CI=%s so this counts as a failure\n",
			reason, ci);
		c.failed = 1;
		env.tests_fail = 1;
	} else {
		fprintf(stderr,
			"test_progs: %s; skipping all tests (with CI set this would count as a failure)\n",
			reason);
		c.skipped = 1;
	}
	env.leaves = c;
	print_summary();
	err = write_counts(&c);
	if (err) {
		fprintf(stderr, "test_progs: cannot write %s: %s\n",
			env.counts_file, strerror(-err));
		return 1;
	}
	return c.failed ? 1 : 0;
}

/* Returns -1 when ready, else the exit status for main(). */
static int setup_env(void)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	char reason[256];
	int err;

	if (geteuid() != 0)
		return cannot_run("needs root (BPF_PROG_TEST_RUN, network namespaces)");

	if (unshare(CLONE_NEWNET)) {
		snprintf(reason, sizeof(reason),
			 "unshare(CLONE_NEWNET) failed: %s (needs CAP_SYS_ADMIN; a container may forbid it, try --privileged)",
			 strerror(errno));
		return cannot_run(reason);
	}
	err = bring_lo_up();
	if (err) {
		snprintf(reason, sizeof(reason),
			 "cannot bring lo up in the private netns: %s",
			 strerror(-err));
		return cannot_run(reason);
	}
	/*
	 * Only kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK (later
	 * ones use memcg), so without CAP_SYS_RESOURCE settle for the hard
	 * limit and say so only with -v.
	 */
	if (setrlimit(RLIMIT_MEMLOCK, &rl)) {
		err = errno;
		if (!getrlimit(RLIMIT_MEMLOCK, &rl)) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_MEMLOCK, &rl);
		}
		if (env.verbosity)
			fprintf(stderr, "test_progs: setrlimit(RLIMIT_MEMLOCK, infinity): %s; using the hard limit\n",
				strerror(err));
	}

	env.log_fd = memfd_create("test_progs_log", MFD_CLOEXEC);
	env.saved_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	env.saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (env.log_fd < 0 || env.saved_out < 0 || env.saved_err < 0) {
		fprintf(stderr, "test_progs: cannot set up the test log: %s\n",
			strerror(errno));
		return 1;
	}
	libbpf_set_print(libbpf_print_fn);
	setup_crash_handlers();
	return -1;
}

/* ---- main -------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: test_progs [-v|-vv] [-t PATTERN[,PATTERN...]] [-c FILE] [-l] [-h]\n"
		"Runs the BPF tests in a private network namespace; needs root.\n"
		"  -t PATTERN  run only matching tests: \"name\" selects a test,\n"
		"              \"name/sub\" only its matching subtests; a pattern\n"
		"              is a substring, or a glob over the whole name if it\n"
		"              has '*'. Repeatable.\n"
		"  -l          list the tests (and exit)\n"
		"  -v          show every test's log, not only failed ones\n"
		"  -vv         also show libbpf's debug messages\n"
		"  -c FILE     write \"passed=P failed=F skipped=S\" (leaf results)\n"
		"  -h          show this help\n"
		"Exit status: 0 all passed or skipped, 1 a failure, 2 usage error\n"
		"or no test matched. Without root: skip, or fail if CI is set.\n");
}

int main(int argc, char **argv)
{
	bool list = false;
	size_t i;
	int opt, ret, err;

	/* Runner output on its own stream, so it never lands in a test log. */
	env.out = fdopen(dup(STDOUT_FILENO), "w");
	if (!env.out) {
		perror("test_progs: stdout");
		return 1;
	}
	setvbuf(env.out, NULL, _IOLBF, 0);
	/* Tests' lines reach the log promptly, even if one then crashes. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	while ((opt = getopt(argc, argv, "t:c:lvh")) != -1) {
		switch (opt) {
		case 't':
			ret = add_filters(optarg);
			if (ret) {
				fprintf(stderr, "test_progs: bad -t '%s': %s\n",
					optarg, strerror(-ret));
				return 2;
			}
			break;
		case 'c':
			env.counts_file = optarg;
			break;
		case 'l':
			list = true;
			break;
		case 'v':
			env.verbosity++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "test_progs: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}

	if (list) {
		for (i = 0; i < NR_TESTS; i++)
			if (is_selected(prog_tests[i].name, NULL))
				fprintf(env.out, "%s\n", prog_tests[i].name);
		return 0;
	}

	ret = setup_env();
	if (ret >= 0)
		return ret;

	ret = 0;
	for (i = 0; i < NR_TESTS; i++) {
		if (!is_selected(prog_tests[i].name, NULL))
			continue;
		if (run_test(i))
			ret++;
	}

	print_summary();
	err = write_counts(&env.leaves);
	if (err) {
		fprintf(stderr, "test_progs: cannot write %s: %s\n",
			env.counts_file, strerror(-err));
		return 1;
	}
	if (!ret) {
		fprintf(stderr, "test_progs: no test or subtest matches the -t filter; try -l\n");
		return 2;
	}
	return env.tests_fail || env.leaves.failed ? 1 : 0;
}
