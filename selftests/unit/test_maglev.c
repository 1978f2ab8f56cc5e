// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_maglev.c - cmocka tests of the Maglev table builder (user/maglev.c).
 *
 * Properties checked: argument validation, full population, balance,
 * weights, bounded disruption on removal and addition, independence of
 * input order, and one golden table computed by hand so that an accidental
 * change of the algorithm or of its hashes is caught.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "maglev.h"

#define M		65537	/* XH_MAGLEV_DEFAULT */
#define MAX_N		1001

/* Buffers shared by the tests, owned by the group fixture so that a
 * failing test (cmocka longjmps out of it) leaks nothing. */
struct fixture {
	struct maglev_backend bk[MAX_N];
	struct maglev_backend tmp[MAX_N];
	__u32 a[M];
	__u32 b[M];
	__u32 cnt[MAX_N + 1];
};

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	free(*state);
	return 0;
}

/* A backend key as the controller would make it: address in bytes 0..15,
 * family in byte 16. Index i gives 10.(i>>16).(i>>8).(i) for even i and
 * fd00::i for odd i; salt goes into byte 17. */
static void mk_key(__u8 key[20], unsigned int i, __u8 salt)
{
	memset(key, 0, 20);
	if (i % 2 == 0) {
		key[0] = 10;
		key[1] = i >> 16;
		key[2] = i >> 8;
		key[3] = i;
		key[16] = 4;
	} else {
		key[0] = 0xfd;
		key[13] = i >> 16;
		key[14] = i >> 8;
		key[15] = i;
		key[16] = 6;
	}
	key[17] = salt;
}

/* Backends with ids 1..n, weight w, keys from mk_key(). */
static void mk_backends(struct maglev_backend *bk, unsigned int n, __u32 w)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		bk[i].id = i + 1;
		bk[i].weight = w;
		mk_key(bk[i].key, i, 0);
	}
}

static int key_cmp(const void *a, const void *b)
{
	const struct maglev_backend *x = a, *y = b;

	return memcmp(x->key, y->key, sizeof(x->key));
}

/* Entries per id (ids 1..n), asserting every entry is one of them. */
static void count_ids(const __u32 *t, __u32 *cnt, unsigned int n)
{
	__u32 i;

	memset(cnt, 0, (n + 1) * sizeof(*cnt));
	for (i = 0; i < M; i++) {
		/* assert_in_range() per entry would dominate the run time */
		if (t[i] < 1 || t[i] > n)
			fail_msg("entry %u = %u, not in 1..%u", i, t[i], n);
		cnt[t[i]]++;
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_is_prime(void **state)
{
	static const __u32 primes[] = {
		2, 3, 5, 7, 13, 251, 257, 65521, 65537, 1048573,
		2147483647U, 4294967291U,
	};
	static const __u32 composites[] = {
		0, 1, 4, 9, 15, 25, 49, 65535, 65536, 1048575, 1048576,
		65537U * 65521U, 4294967295U,
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(primes) / sizeof(primes[0]); i++)
		assert_true(maglev_is_prime(primes[i]));
	for (i = 0; i < sizeof(composites) / sizeof(composites[0]); i++)
		assert_false(maglev_is_prime(composites[i]));
}

static void test_build_rejects(void **state)
{
	struct fixture *f = *state;

	mk_backends(f->bk, 3, 1);
	f->a[0] = 0xdeadbeef;
	assert_int_equal(maglev_build(f->bk, 3, 65536, f->a), -EINVAL);
	assert_int_equal(maglev_build(f->bk, 3, 1, f->a), -EINVAL);
	assert_int_equal(maglev_build(f->bk, 3, 0, f->a), -EINVAL);
	assert_int_equal(maglev_build(f->bk, 3, 2, f->a), -EINVAL); /* n > m */
	assert_int_equal(maglev_build(NULL, 3, 7, f->a), -EINVAL);
	assert_int_equal(maglev_build(f->bk, 3, 7, NULL), -EINVAL);
	f->bk[1].weight = 0;
	assert_int_equal(maglev_build(f->bk, 3, 7, f->a), -EINVAL);
	f->bk[1].weight = 1;
	f->bk[2].id = 0;
	assert_int_equal(maglev_build(f->bk, 3, 7, f->a), -EINVAL);
	/* nothing written on error */
	assert_int_equal(f->a[0], 0xdeadbeef);

	/* the limits themselves are accepted */
	f->bk[2].id = 3;
	assert_int_equal(maglev_build(f->bk, 3, 3, f->a), 0);
	assert_int_equal(maglev_build(f->bk, 2, 2, f->a), 0);
	assert_int_equal(maglev_build(f->bk, 1, 2, f->a), 0);
	assert_int_equal(f->a[0], 1);
	assert_int_equal(f->a[1], 1);
}

static void test_build_empty(void **state)
{
	struct fixture *f = *state;
	__u32 i;

	memset(f->a, 0xff, sizeof(f->a));
	assert_int_equal(maglev_build(NULL, 0, M, f->a), 0);
	for (i = 0; i < M; i++)
		assert_int_equal(f->a[i], 0);
	/* m must still be prime */
	assert_int_equal(maglev_build(NULL, 0, 65536, f->a), -EINVAL);
}

/* N = 1..1000 at M = 65537: every entry valid, every backend present,
 * and (equal weights) every backend has floor or ceil of M/N entries. */
static void test_populated_all_n(void **state)
{
	struct fixture *f = *state;
	double t0 = now_s(), t1;
	unsigned int n, i;

	mk_backends(f->bk, 1000, 1);
	for (n = 1; n <= 1000; n++) {
		assert_int_equal(maglev_build(f->bk, n, M, f->a), 0);
		count_ids(f->a, f->cnt, n);
		for (i = 1; i <= n; i++) {
			assert_true(f->cnt[i] >= 1);
			assert_in_range(f->cnt[i], M / n, (M + n - 1) / n);
		}
	}
	t1 = now_s();
	print_message("    1000 builds M=%u N=1..1000: %.3f s\n", M, t1 - t0);
}

static void test_balance_equal(void **state)
{
	struct fixture *f = *state;
	unsigned int n, i;
	__u32 lo, hi;

	mk_backends(f->bk, 100, 7);
	for (n = 2; n <= 100; n++) {
		assert_int_equal(maglev_build(f->bk, n, M, f->a), 0);
		count_ids(f->a, f->cnt, n);
		lo = hi = f->cnt[1];
		for (i = 2; i <= n; i++) {
			lo = f->cnt[i] < lo ? f->cnt[i] : lo;
			hi = f->cnt[i] > hi ? f->cnt[i] : hi;
		}
		assert_true(lo > 0);
		assert_true(hi * 100 <= lo * 101);
	}
}

/* Each backend's share within rel_pct percent of weight / sum * M, or
 * within one entry for shares too small for a percentage to hold. */
static void check_shares(struct fixture *f, unsigned int n, double rel_pct)
{
	double sum = 0, want, tol, got;
	unsigned int i;

	for (i = 0; i < n; i++)
		sum += f->bk[i].weight;
	assert_int_equal(maglev_build(f->bk, n, M, f->a), 0);
	count_ids(f->a, f->cnt, n);
	for (i = 0; i < n; i++) {
		want = f->bk[i].weight / sum * M;
		tol = want * rel_pct / 100;
		tol = tol < 1 ? 1 : tol;
		got = f->cnt[f->bk[i].id];
		assert_true(got >= want - tol);
		assert_true(got <= want + tol);
	}
}

static void test_weights(void **state)
{
	struct fixture *f = *state;
	unsigned int i;

	mk_backends(f->bk, 4, 1);
	for (i = 0; i < 4; i++)
		f->bk[i].weight = i + 1;
	check_shares(f, 4, 1);

	/* weights scale-free: 10,20,30,40 gives the same table as 1,2,3,4 */
	memcpy(f->b, f->a, sizeof(f->a));
	for (i = 0; i < 4; i++)
		f->bk[i].weight = 10 * (i + 1);
	check_shares(f, 4, 1);
	assert_memory_equal(f->a, f->b, sizeof(f->a));

	/* 1:100 */
	mk_backends(f->bk, 2, 100);
	f->bk[0].weight = 1;
	check_shares(f, 2, 3);

	/* one heavy backend among many light ones, extreme weights: the
	 * light ones get about one entry each, or none */
	mk_backends(f->bk, 50, 1);
	f->bk[17].weight = 65535;
	check_shares(f, 50, 1);

	/* a mixed set */
	mk_backends(f->bk, 20, 1);
	for (i = 0; i < 20; i++)
		f->bk[i].weight = 1 + (i * 37) % 11;
	check_shares(f, 20, 1);
}

static const unsigned int disrupt_n[] = { 2, 3, 5, 10, 50, 100, 500 };

/* Remove the first, middle and last backend by key: entries on survivors
 * barely move, entries on the removed one all go to survivors. */
static void test_disruption_remove(void **state)
{
	struct fixture *f = *state;
	unsigned int k, r, n, i, j, gone;
	__u32 changed, worst = 0;

	for (k = 0; k < sizeof(disrupt_n) / sizeof(disrupt_n[0]); k++) {
		n = disrupt_n[k];
		mk_backends(f->bk, n, 1);
		qsort(f->bk, n, sizeof(f->bk[0]), key_cmp);
		assert_int_equal(maglev_build(f->bk, n, M, f->a), 0);
		for (r = 0; r < 3; r++) {
			gone = r == 0 ? 0 : r == 1 ? n / 2 : n - 1;
			for (i = 0, j = 0; i < n; i++)
				if (i != gone)
					f->tmp[j++] = f->bk[i];
			assert_int_equal(maglev_build(f->tmp, n - 1, M, f->b),
					 0);
			changed = 0;
			for (i = 0; i < M; i++) {
				assert_int_not_equal(f->b[i], 0);
				assert_int_not_equal(f->b[i], f->bk[gone].id);
				if (f->a[i] != f->bk[gone].id &&
				    f->a[i] != f->b[i])
					changed++;
			}
			assert_true(changed <= (1.0 / n + 0.01) * M);
			if (changed > worst)
				worst = changed;
		}
	}
	print_message("    removal: at most %u of %u survivor entries moved\n",
		      worst, M);
}

/* Add a backend: apart from the entries the new one takes, few move. */
static void test_disruption_add(void **state)
{
	struct fixture *f = *state;
	unsigned int k, n, i;
	__u32 changed, taken, worst = 0;

	for (k = 0; k < sizeof(disrupt_n) / sizeof(disrupt_n[0]); k++) {
		n = disrupt_n[k];
		mk_backends(f->bk, n + 1, 1);
		assert_int_equal(maglev_build(f->bk, n, M, f->a), 0);
		assert_int_equal(maglev_build(f->bk, n + 1, M, f->b), 0);
		changed = taken = 0;
		for (i = 0; i < M; i++) {
			if (f->b[i] == n + 1)
				taken++;
			else if (f->a[i] != f->b[i])
				changed++;
		}
		assert_in_range(taken, M / (n + 1), (M + n) / (n + 1));
		assert_true(changed <= (1.0 / (n + 1) + 0.01) * M);
		if (changed > worst)
			worst = changed;
	}
	print_message("    addition: at most %u of %u other entries moved\n",
		      worst, M);
}

static __u32 xorshift32(__u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_deterministic(void **state)
{
	struct fixture *f = *state;
	struct maglev_backend t;
	unsigned int n = 100, i, j, round;
	__u32 seed = 12345;

	mk_backends(f->bk, n, 1);
	for (i = 0; i < n; i++)
		f->bk[i].weight = 1 + i % 5;
	assert_int_equal(maglev_build(f->bk, n, M, f->a), 0);
	assert_int_equal(maglev_build(f->bk, n, M, f->b), 0);
	assert_memory_equal(f->a, f->b, sizeof(f->a));

	/* any input order gives the same table */
	memcpy(f->tmp, f->bk, n * sizeof(f->bk[0]));
	for (round = 0; round < 5; round++) {
		for (i = n - 1; i > 0; i--) {
			j = xorshift32(&seed) % (i + 1);
			t = f->tmp[i];
			f->tmp[i] = f->tmp[j];
			f->tmp[j] = t;
		}
		assert_int_equal(maglev_build(f->tmp, n, M, f->b), 0);
		assert_memory_equal(f->a, f->b, sizeof(f->a));
	}
	/* reversed, too */
	for (i = 0; i < n; i++)
		f->tmp[i] = f->bk[n - 1 - i];
	assert_int_equal(maglev_build(f->tmp, n, M, f->b), 0);
	assert_memory_equal(f->a, f->b, sizeof(f->a));

	/* a different key changes the table */
	memcpy(f->tmp, f->bk, n * sizeof(f->bk[0]));
	f->tmp[42].key[19] ^= 1;
	assert_int_equal(maglev_build(f->tmp, n, M, f->b), 0);
	assert_memory_not_equal(f->a, f->b, sizeof(f->a));
}

/*
 * Golden tables, computed by hand from the algorithm. Keys 10.0.0.1..3
 * (family 4), ids 1..3, key order = id order. Offsets and skips from the
 * key hashes (h1 % m, h2 % (m - 1) + 1), with h1, h2 =
 *   id 1: 1699123749, 804616234
 *   id 2: 1652453219, 2940177305
 *   id 3: 660318919, 1733695423
 * m = 7: preference lists
 *   id 1: 1 6 4 2 0 5 3   id 2: 4 3 2 1 0 6 5   id 3: 1 3 5 0 2 4 6
 * round 1: 1->1, 2->4, 3->3 (1 taken); round 2: 1->6, 2->2 (3 taken),
 * 3->5; round 3: 1->0 (4, 2 taken): [1 1 2 3 2 3 1].
 * m = 13: preference lists
 *   id 1: 11 9 7 5 3 1 12 10 8 6 4 2 0
 *   id 2: 1 7 0 6 12 5 11 4 10 3 9 2 8
 *   id 3: 0 8 3 11 6 1 9 4 12 7 2 10 5
 * With weights 1, 2, 3 (max 3) id 1 claims in rounds 3, 6, ...,
 * id 2 in rounds 2, 3, 5, 6, ... and id 3 in every round.
 */
static void test_golden(void **state)
{
	static const __u32 want7[7] = { 1, 1, 2, 3, 2, 3, 1 };
	static const __u32 want13[13] = {
		3, 2, 3, 3, 2, 1, 2, 2, 3, 1, 1, 1, 1,
	};
	static const __u32 want13w[13] = {
		3, 2, 3, 3, 2, 1, 3, 2, 3, 3, 3, 1, 2,
	};
	struct maglev_backend bk[3];
	__u32 t[13];
	unsigned int i;

	(void)state;
	memset(bk, 0, sizeof(bk));
	for (i = 0; i < 3; i++) {
		bk[i].id = i + 1;
		bk[i].weight = 1;
		bk[i].key[0] = 10;
		bk[i].key[3] = i + 1;
		bk[i].key[16] = 4;
	}
	assert_int_equal(maglev_build(bk, 3, 7, t), 0);
	assert_memory_equal(t, want7, sizeof(want7));
	assert_int_equal(maglev_build(bk, 3, 13, t), 0);
	assert_memory_equal(t, want13, sizeof(want13));
	for (i = 0; i < 3; i++)
		bk[i].weight = i + 1;
	assert_int_equal(maglev_build(bk, 3, 13, t), 0);
	assert_memory_equal(t, want13w, sizeof(want13w));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_prime),
		cmocka_unit_test(test_build_rejects),
		cmocka_unit_test(test_build_empty),
		cmocka_unit_test(test_populated_all_n),
		cmocka_unit_test(test_balance_equal),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_disruption_remove),
		cmocka_unit_test(test_disruption_add),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_golden),
	};

	return cmocka_run_group_tests_name("maglev", tests, group_setup,
					   group_teardown);
}
