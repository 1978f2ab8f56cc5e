// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * maglev.c - the Maglev lookup table builder.
 *
 * Each backend has a preference list over the m slots, the permutation
 * (offset + j * skip) % m with offset and skip taken from two hashes of its
 * key. Backends take turns claiming the first unclaimed slot of their list
 * until the table is full.
 *
 * Weights: backend i claims its k-th slot (k = 1, 2, ...) in round
 * ceil(k * max_weight / weight_i), so the heaviest backends claim one slot
 * per round and the others proportionally fewer. Within a round the
 * backends go in key order. A min-heap keyed on (round, position) yields
 * the turns in that order in O(log n) each, so a build costs
 * O(m log n) heap work plus the walks along the permutations, and a skewed
 * weight set costs no more than an even one. With equal weights this is
 * exactly the round-robin of the paper.
 *
 * Order independence: the backends are sorted by (key, id, weight) first;
 * everything after depends only on that order.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xh_hash.h"
#include "maglev.h"

/* Seeds of the two key hashes; changing either changes every table. */
#define MAGLEV_SEED_OFFSET	0x6d676c6fU	/* "mglo" */
#define MAGLEV_SEED_SKIP	0x6d676c73U	/* "mgls" */

struct maglev_state {
	__u64 due;	/* round in which the next slot is claimed */
	__u32 placed;	/* slots claimed so far */
	__u32 weight;
	__u32 id;
	__u32 pos;	/* current slot of the permutation walk */
	__u32 skip;	/* step of the permutation, 1..m-1 */
};

bool maglev_is_prime(__u32 m)
{
	__u32 d;

	if (m < 2)
		return false;
	if (m % 2 == 0)
		return m == 2;
	for (d = 3; (__u64)d * d <= m; d += 2)
		if (m % d == 0)
			return false;
	return true;
}

/* The key as five little-endian words, so every host hashes it alike. */
static __u32 maglev_key_hash(const __u8 key[20], __u32 seed)
{
	__u32 h = seed, w;
	int i;

	for (i = 0; i < 5; i++) {
		memcpy(&w, key + 4 * i, sizeof(w));
		h = xh_mix_word(h, le32toh(w));
	}
	return xh_fmix32(h);
}

static int maglev_cmp(const void *a, const void *b)
{
	const struct maglev_backend *x = a, *y = b;
	int r = memcmp(x->key, y->key, sizeof(x->key));

	if (r)
		return r;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	if (x->weight != y->weight)
		return x->weight < y->weight ? -1 : 1;
	return 0;
}

/* Heap order: earlier round first, then key order (the index). */
static bool maglev_before(const struct maglev_state *st, __u32 a, __u32 b)
{
	if (st[a].due != st[b].due)
		return st[a].due < st[b].due;
	return a < b;
}

static void maglev_sift_down(const struct maglev_state *st, __u32 *heap,
			     unsigned int n, unsigned int i)
{
	__u32 top = heap[i];
	unsigned int c;

	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && maglev_before(st, heap[c + 1], heap[c]))
			c++;
		if (!maglev_before(st, heap[c], top))
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = top;
}

/* Round of the k-th claim: ceil(k * max_w / w). k <= m < 2^32 and
 * max_w < 2^32, so the product fits in 64 bits. */
static __u64 maglev_due(__u32 k, __u32 w, __u32 max_w)
{
	return ((__u64)k * max_w + w - 1) / w;
}

int maglev_build(const struct maglev_backend *bk, unsigned int n, __u32 m,
		 __u32 *table)
{
	struct maglev_backend *sorted = NULL;
	struct maglev_state *st = NULL;
	__u32 *heap = NULL;
	__u32 max_w = 0, filled = 0, i;
	int err = 0;

	if (!table || !maglev_is_prime(m) || n > m || (n && !bk))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!bk[i].id || !bk[i].weight)
			return -EINVAL;
		if (bk[i].weight > max_w)
			max_w = bk[i].weight;
	}
	if (!n) {
		memset(table, 0, (size_t)m * sizeof(*table));
		return 0;
	}

	sorted = calloc(n, sizeof(*sorted));
	st = calloc(n, sizeof(*st));
	heap = calloc(n, sizeof(*heap));
	if (!sorted || !st || !heap) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(sorted, bk, (size_t)n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), maglev_cmp);

	for (i = 0; i < n; i++) {
		st[i].id = sorted[i].id;
		st[i].weight = sorted[i].weight;
		st[i].pos = maglev_key_hash(sorted[i].key, MAGLEV_SEED_OFFSET) %
			    m;
		st[i].skip = maglev_key_hash(sorted[i].key, MAGLEV_SEED_SKIP) %
			     (m - 1) + 1;
		st[i].due = maglev_due(1, st[i].weight, max_w);
		heap[i] = i;
	}
	for (i = n / 2; i-- > 0;)
		maglev_sift_down(st, heap, n, i);

	/* 0 marks a free slot: ids are never 0. */
	memset(table, 0, (size_t)m * sizeof(*table));
	while (filled < m) {
		struct maglev_state *s = &st[heap[0]];

		/* Terminates: the walk is a permutation of all m slots and
		 * at least one is free. */
		while (table[s->pos]) {
			/* s->pos + s->skip may not fit in 32 bits */
			if (s->pos >= m - s->skip)
				s->pos -= m - s->skip;
			else
				s->pos += s->skip;
		}
		table[s->pos] = s->id;
		filled++;
		s->placed++;
		s->due = maglev_due(s->placed + 1, s->weight, max_w);
		maglev_sift_down(st, heap, n, 0);
	}
out:
	free(heap);
	free(st);
	free(sorted);
	return err;
}
