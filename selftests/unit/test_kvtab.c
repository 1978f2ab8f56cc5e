// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_kvtab.c - cmocka tests of libxdpha's record table
 * (user/lib/kvtab.c): put, get, delete against a reference through
 * growth and backward-shift deletion, values replaced in place or moved
 * to another size class, the resync's walk surviving every change, and
 * mark and sweep.
 *
 * The table is private to the shared library, not part of the core
 * archive the unit tests link, so it is compiled in here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/kvtab.c"

#define NKEYS	20000

/* Key i: 4..64 bytes, the first four i itself (so keys are unique),
 * then bytes derived from i. */
static int key_of(unsigned int i, char *k)
{
	unsigned int len = 4 + i % 61, b;

	memcpy(k, &i, 4);
	for (b = 4; b < len; b++)
		k[b] = (char)(i * 7 + b * 13);
	return len;
}

static unsigned int val_len(unsigned int i, unsigned int round)
{
	return (i * 31 + round * 97) % 200;
}

static void val_of(unsigned int i, unsigned int round, unsigned char *v)
{
	unsigned int b, n = val_len(i, round);

	for (b = 0; b < n; b++)
		v[b] = (unsigned char)(i + round * 3 + b);
}

static void check_rec(struct kvtab *t, unsigned int i, unsigned int round,
		      bool present)
{
	unsigned char v[256];
	struct kv_rec *r;
	char k[64];
	int klen = key_of(i, k);

	r = kv_get(t, k, klen);
	if (!present) {
		assert_null(r);
		return;
	}
	assert_non_null(r);
	val_of(i, round, v);
	assert_int_equal(r->vlen, val_len(i, round));
	if (r->vlen)
		assert_memory_equal(kv_val(r), v, r->vlen);
}

/* Random puts and deletes against a reference of (present, round). */
static void test_reference(void **state)
{
	static signed char ref[NKEYS];	/* -1 absent, else the round */
	unsigned char v[256];
	struct kvtab t;
	unsigned int n, i, count = 0;
	char k[64];

	(void)state;
	assert_int_equal(kv_init(&t, 0), 0);
	memset(ref, -1, sizeof(ref));
	srand(7);
	for (n = 0; n < 200000; n++) {
		int klen;

		i = rand() % NKEYS;
		klen = key_of(i, k);
		if (rand() % 4 == 0) {
			int err = kv_del(&t, k, klen);

			assert_int_equal(err, ref[i] < 0 ? -ENOENT : 0);
			if (ref[i] >= 0)
				count--;
			ref[i] = -1;
		} else {
			unsigned int round = rand() % 100;

			val_of(i, round, v);
			assert_int_equal(kv_put(&t, k, klen, v,
						val_len(i, round)), 0);
			if (ref[i] < 0)
				count++;
			ref[i] = round;
		}
		assert_int_equal(t.count, count);
	}
	for (i = 0; i < NKEYS; i++)
		check_rec(&t, i, ref[i] < 0 ? 0 : ref[i], ref[i] >= 0);
	/* the walk sees each record once */
	n = 0;
	for (struct kv_rec *r = kv_first(&t); r; r = kv_next(&t, r))
		n++;
	assert_int_equal(n, count);
	kv_fini(&t);
}

/* A same-class value is written in place; another class moves the
 * record and keeps its place on the list. */
static void test_in_place(void **state)
{
	unsigned char v[1024] = { 1 };
	struct kv_rec *r, *r2;
	struct kvtab t;

	(void)state;
	assert_int_equal(kv_init(&t, 0), 0);
	assert_int_equal(kv_put(&t, "a", 1, v, 10), 0);
	assert_int_equal(kv_put(&t, "b", 1, v, 10), 0);
	assert_int_equal(kv_put(&t, "c", 1, v, 10), 0);
	r = kv_get(&t, "b", 1);
	assert_true(kv_fits(r, 12));
	assert_int_equal(kv_put(&t, "b", 1, v, 12), 0);
	assert_ptr_equal(kv_get(&t, "b", 1), r);
	assert_false(kv_fits(r, 1000));
	assert_int_equal(kv_put(&t, "b", 1, v, 1000), 0);
	r2 = kv_get(&t, "b", 1);
	assert_int_equal(r2->vlen, 1000);
	/* order a, b, c kept */
	r = kv_first(&t);
	assert_memory_equal(kv_key(r), "a", 1);
	assert_memory_equal(kv_key(kv_next(&t, r)), "b", 1);
	assert_int_equal(t.count, 3);
	/* a freed record is reused by its class */
	r = kv_get(&t, "c", 1);
	assert_int_equal(kv_del(&t, "c", 1), 0);
	assert_int_equal(kv_put(&t, "d", 1, v, 10), 0);
	assert_ptr_equal(kv_get(&t, "d", 1), r);
	kv_fini(&t);
}

/* The cursor (the resync's walk) sees every record that is there from
 * its start to its end, whatever changes in between: deletes (of the
 * record under it too), replacements in other classes, growth. */
static void test_cursor(void **state)
{
	static unsigned char seen[NKEYS];
	unsigned char v[1024] = { 0 };
	struct kv_rec *r;
	struct kvtab t;
	unsigned int i, step = 0;
	char k[64];

	(void)state;
	assert_int_equal(kv_init(&t, 0), 0);
	for (i = 0; i < NKEYS / 2; i++)
		kv_put(&t, k, key_of(i, k), v, 8);
	memset(seen, 0, sizeof(seen));
	kv_cursor_reset(&t);
	while ((r = kv_cursor_next(&t))) {
		unsigned int j;

		memcpy(&j, kv_key(r), 4);	/* key_of() starts with i */
		assert_true(j < NKEYS);
		seen[j] = 1;
		step++;
		/* between two steps: delete the next record, replace one
		 * in another class, add new keys (forcing growth) */
		if (t.cursor != &t.head && step % 3 == 0) {
			struct kv_rec *nx = t.cursor;

			if (nx->klen && (nx->data[0] & 1)) {
				char kk[64];

				memcpy(kk, kv_key(nx), nx->klen);
				kv_del(&t, kk, nx->klen);
			}
		}
		i = rand() % (NKEYS / 2);
		kv_put(&t, k, key_of(i, k), v, (step % 2) ? 8 : 500);
		if (step < NKEYS / 2)
			kv_put(&t, k, key_of(NKEYS / 2 + step, k), v, 8);
		if (step > 4 * NKEYS)
			fail_msg("the walk does not end");
	}
	/* every key of the first half still there at the end was seen */
	for (i = 0; i < NKEYS / 2; i++)
		if (kv_get(&t, k, key_of(i, k)))
			assert_int_equal(seen[i], 1);
	kv_fini(&t);
}

/* Mark and sweep: records put after the mark stay, the others go. */
static void test_sweep(void **state)
{
	unsigned char v[64] = { 0 };
	struct kvtab t;
	unsigned int i;
	char k[64];

	(void)state;
	assert_int_equal(kv_init(&t, 0), 0);
	for (i = 0; i < 1000; i++)
		kv_put(&t, k, key_of(i, k), v, 16);
	t.gen++;
	for (i = 0; i < 1000; i += 2)
		kv_put(&t, k, key_of(i, k), v, 16);
	kv_put(&t, k, key_of(5000, k), v, 16);
	assert_int_equal(kv_sweep(&t), 500);
	assert_int_equal(t.count, 501);
	for (i = 0; i < 1000; i++)
		assert_int_equal(!!kv_get(&t, k, key_of(i, k)), i % 2 == 0);
	assert_non_null(kv_get(&t, k, key_of(5000, k)));
	kv_clear(&t);
	assert_int_equal(t.count, 0);
	assert_null(kv_first(&t));
	assert_null(kv_get(&t, k, key_of(0, k)));
	kv_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_cursor),
		cmocka_unit_test(test_sweep),
	};

	return cmocka_run_group_tests_name("kvtab", tests, NULL, NULL);
}
