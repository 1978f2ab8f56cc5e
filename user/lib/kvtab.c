// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kvtab.c - libxdpha's record table; see kvtab.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "kvtab.h"

#define ARENA_BYTES	(256 * 1024)
#define ARENA_HDR	16		/* the link to the previous arena */
#define CLASS_SHIFT	4
#define MIN_SLOTS	1024

_Static_assert(sizeof(struct kv_rec) == 32, "kv_rec header");
_Static_assert((sizeof(struct kv_rec) + 64 + 1024 + 15) >> CLASS_SHIFT <
	       KV_CLASSES, "a largest record has a class");

static uint64_t mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* A keyed multiply-mix hash over 8-byte words (keys are at most 64 bytes):
 * a few ns per key, and a peer cannot aim keys at one chain. */
static uint64_t hash(uint64_t seed, const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL), v;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&v, p, 8);
		h = mix(h ^ v, 0xbf58476d1ce4e5b9ULL);
	}
	if (len) {
		v = 0;
		memcpy(&v, p, len);
		h = mix(h ^ v, 0x94d049bb133111ebULL);
	}
	return mix(h ^ (h >> 29), 0x9e3779b97f4a7c15ULL);
}

static unsigned int class_of(size_t klen, size_t vlen)
{
	return (sizeof(struct kv_rec) + klen + vlen + (1 << CLASS_SHIFT) - 1) >>
	       CLASS_SHIFT;
}

static struct kv_rec *rec_alloc(struct kvtab *t, unsigned int cls)
{
	size_t sz = (size_t)cls << CLASS_SHIFT;
	struct kv_rec *r = t->free[cls];
	void *a;

	if (r) {
		t->free[cls] = r->next;
		return r;
	}
	if ((size_t)(t->bump_end - t->bump) < sz) {
		a = malloc(ARENA_BYTES);
		if (!a)
			return NULL;
		*(void **)a = t->arenas;
		t->arenas = a;
		t->bump = (unsigned char *)a + ARENA_HDR;
		t->bump_end = (unsigned char *)a + ARENA_BYTES;
		t->bytes += ARENA_BYTES;
	}
	r = (struct kv_rec *)t->bump;
	t->bump += sz;
	return r;
}

static void rec_free(struct kvtab *t, struct kv_rec *r)
{
	r->next = t->free[r->cls];
	t->free[r->cls] = r;
}

static void list_add_tail(struct kvtab *t, struct kv_rec *r)
{
	r->next = &t->head;
	r->prev = t->head.prev;
	t->head.prev->next = r;
	t->head.prev = r;
}

static void list_del(struct kvtab *t, struct kv_rec *r)
{
	if (t->cursor == r)
		t->cursor = r->next;
	r->prev->next = r->next;
	r->next->prev = r->prev;
}

/* r takes old's place on the list (and under the cursor: its walk has not
 * seen old, so it must see r). */
static void list_replace(struct kvtab *t, struct kv_rec *old, struct kv_rec *r)
{
	r->next = old->next;
	r->prev = old->prev;
	r->prev->next = r;
	r->next->prev = r;
	if (t->cursor == old)
		t->cursor = r;
}

static int slots_alloc(struct kvtab *t, uint32_t n)
{
	t->slots = calloc(n, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->mask = n - 1;
	return 0;
}

int kv_init(struct kvtab *t, uint32_t hint)
{
	uint32_t n = MIN_SLOTS;

	memset(t, 0, sizeof(*t));
	while (n < (1U << 30) && (uint64_t)n * 3 / 4 < hint)
		n <<= 1;
	t->head.next = t->head.prev = &t->head;
	t->cursor = &t->head;
	t->gen = 1;
	if (getrandom(&t->seed, sizeof(t->seed), 0) != sizeof(t->seed))
		t->seed = (uintptr_t)t ^ 0x5851f42d4c957f2dULL;
	return slots_alloc(t, n);
}

void kv_fini(struct kvtab *t)
{
	void *a = t->arenas, *prev;

	while (a) {
		prev = *(void **)a;
		free(a);
		a = prev;
	}
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* The slot of key, or the empty slot where it would go. */
static uint32_t find(const struct kvtab *t, uint64_t h, const void *key,
		     uint8_t klen)
{
	uint32_t i = h & t->mask;

	for (;; i = (i + 1) & t->mask) {
		const struct kv_slot *s = &t->slots[i];

		if (!s->r || (s->hash == h && s->r->klen == klen &&
			      !memcmp(s->r->data, key, klen)))
			return i;
	}
}

static int grow(struct kvtab *t)
{
	struct kv_slot *old = t->slots;
	uint32_t n = t->mask + 1, i, j;

	if (n >= (1U << 31) || slots_alloc(t, n * 2)) {
		t->slots = old;
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (!old[i].r)
			continue;
		for (j = old[i].hash & t->mask; t->slots[j].r;
		     j = (j + 1) & t->mask)
			;
		t->slots[j] = old[i];
	}
	free(old);
	return 0;
}

/* Empty slot i, shifting back the records of its cluster that may move. */
static void slot_clear(struct kvtab *t, uint32_t i)
{
	uint32_t j = i, k;

	for (;;) {
		j = (j + 1) & t->mask;
		if (!t->slots[j].r)
			break;
		k = t->slots[j].hash & t->mask;
		/* stays if its home lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->slots[i] = t->slots[j];
		i = j;
	}
	t->slots[i].r = NULL;
}

struct kv_rec *kv_new(struct kvtab *t, const void *key, uint8_t klen,
		      const void *val, uint16_t vlen)
{
	unsigned int cls = class_of(klen, vlen);
	struct kv_rec *r;

	if (cls >= KV_CLASSES)
		return NULL;
	r = rec_alloc(t, cls);
	if (!r)
		return NULL;
	r->hash = hash(t->seed, key, klen);
	r->gen = t->gen;
	r->klen = klen;
	r->vlen = vlen;
	r->cls = cls;
	memcpy(r->data, key, klen);
	if (vlen)
		memcpy(r->data + klen, val, vlen);
	return r;
}

void kv_drop(struct kvtab *t, struct kv_rec *r)
{
	rec_free(t, r);
}

int kv_link(struct kvtab *t, struct kv_rec *r)
{
	uint32_t i = find(t, r->hash, r->data, r->klen);
	struct kv_rec *old = t->slots[i].r;

	if (old) {
		t->slots[i].r = r;
		list_replace(t, old, r);
		rec_free(t, old);
		return 0;
	}
	if ((uint64_t)(t->count + 1) * 4 > (uint64_t)(t->mask + 1) * 3) {
		if (grow(t))
			return -ENOMEM;
		i = find(t, r->hash, r->data, r->klen);
	}
	t->slots[i].hash = r->hash;
	t->slots[i].r = r;
	t->count++;
	list_add_tail(t, r);
	return 0;
}

bool kv_fits(const struct kv_rec *r, uint16_t vlen)
{
	return r->cls == class_of(r->klen, vlen);
}

void kv_set(struct kvtab *t, struct kv_rec *r, const void *val,
	    uint16_t vlen)
{
	if (vlen)
		memcpy(r->data + r->klen, val, vlen);
	r->vlen = vlen;
	r->gen = t->gen;
}

void kv_prefetch(const struct kvtab *t, const void *key, uint8_t klen)
{
	__builtin_prefetch(&t->slots[hash(t->seed, key, klen) & t->mask]);
}

int kv_put(struct kvtab *t, const void *key, uint8_t klen, const void *val,
	   uint16_t vlen)
{
	uint64_t h = hash(t->seed, key, klen);
	struct kv_rec *r = t->slots[find(t, h, key, klen)].r;
	int err;

	if (r && kv_fits(r, vlen)) {
		kv_set(t, r, val, vlen);
		return 0;
	}
	r = kv_new(t, key, klen, val, vlen);
	if (!r)
		return -ENOMEM;
	err = kv_link(t, r);
	if (err)
		rec_free(t, r);
	return err;
}

struct kv_rec *kv_get(const struct kvtab *t, const void *key, uint8_t klen)
{
	return t->slots[find(t, hash(t->seed, key, klen), key, klen)].r;
}

static void remove_at(struct kvtab *t, uint32_t i)
{
	struct kv_rec *r = t->slots[i].r;

	slot_clear(t, i);
	list_del(t, r);
	rec_free(t, r);
	t->count--;
}

int kv_del(struct kvtab *t, const void *key, uint8_t klen)
{
	uint32_t i = find(t, hash(t->seed, key, klen), key, klen);

	if (!t->slots[i].r)
		return -ENOENT;
	remove_at(t, i);
	return 0;
}

uint32_t kv_sweep(struct kvtab *t)
{
	struct kv_rec *r = t->head.next, *next;
	uint32_t n = 0;

	for (; r != &t->head; r = next) {
		next = r->next;
		if (r->gen == t->gen)
			continue;
		remove_at(t, find(t, r->hash, r->data, r->klen));
		n++;
	}
	return n;
}

void kv_clear(struct kvtab *t)
{
	struct kv_rec *r = t->head.next, *next;

	for (; r != &t->head; r = next) {
		next = r->next;
		rec_free(t, r);
	}
	memset(t->slots, 0, (size_t)(t->mask + 1) * sizeof(*t->slots));
	t->head.next = t->head.prev = &t->head;
	t->cursor = &t->head;
	t->count = 0;
}
