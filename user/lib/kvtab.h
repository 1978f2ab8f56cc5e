/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kvtab.h - libxdpha's record table: a hash table of (key, value) records
 * in the application's memory, private to the library.
 *
 * Open addressing with linear probing over (hash, record) slots, deletion
 * by backward shift (no tombstones), doubled at 3/4 load. Records are one
 * block each (header, key, value) taken from size classes of 16 bytes:
 * a freed record goes to its class's free list and the next record of that
 * class reuses it, and classes are fed from 256 KiB arenas, so a put or an
 * apply costs no malloc once the table has reached its size.
 *
 * Records are also on one list in insertion order: the iteration order,
 * which rehashing never changes. A cursor on it (the resync's) survives
 * any change to the table: deleting or replacing the record under it
 * moves it on or over, and a record added during the walk comes at the
 * end, so a walk sees every record that was there from its start to its
 * end at least once.
 */
#ifndef XDPHA_KVTAB_H
#define XDPHA_KVTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kv_rec {
	struct kv_rec *next, *prev;	/* iteration list */
	uint64_t hash;
	uint32_t gen;			/* mark of the last resync that saw it */
	uint16_t vlen;
	uint8_t klen;
	uint8_t cls;			/* size class */
	unsigned char data[];		/* key, then value */
};

static inline const void *kv_key(const struct kv_rec *r)
{
	return r->data;
}

static inline const void *kv_val(const struct kv_rec *r)
{
	return r->data + r->klen;
}

struct kv_slot {
	uint64_t hash;
	struct kv_rec *r;		/* NULL: empty */
};

#define KV_CLASSES	72		/* 16-byte classes up to 1152 bytes */

struct kvtab {
	struct kv_slot *slots;
	uint32_t mask;			/* slots - 1 */
	uint32_t count;
	uint64_t seed;
	uint32_t gen;			/* given to records put from now on */
	struct kv_rec head;		/* list sentinel */
	struct kv_rec *cursor;		/* a walk's next record (&head: end) */
	struct kv_rec *free[KV_CLASSES];
	void *arenas;			/* chain of arenas, freed at the end */
	unsigned char *bump, *bump_end;	/* the current arena's free part */
	size_t bytes;			/* arena bytes taken */
};

int kv_init(struct kvtab *t, uint32_t hint);
void kv_fini(struct kvtab *t);

/* A record for key and value, not yet in the table: NULL without memory.
 * Link it with kv_link() or give it back with kv_drop(). */
struct kv_rec *kv_new(struct kvtab *t, const void *key, uint8_t klen,
		      const void *val, uint16_t vlen);
void kv_drop(struct kvtab *t, struct kv_rec *r);
/* Put r in the table, replacing (and freeing) a record of the same key.
 * -ENOMEM when the table must grow and cannot (r is then not linked). */
int kv_link(struct kvtab *t, struct kv_rec *r);
/* kv_new + kv_link; a value of the same size class is overwritten in
 * place. */
int kv_put(struct kvtab *t, const void *key, uint8_t klen, const void *val,
	   uint16_t vlen);
struct kv_rec *kv_get(const struct kvtab *t, const void *key, uint8_t klen);
/* Does a value of vlen bytes fit r in place? Then kv_set() writes it. */
bool kv_fits(const struct kv_rec *r, uint16_t vlen);
void kv_set(struct kvtab *t, struct kv_rec *r, const void *val,
	    uint16_t vlen);
/* Start loading the slot of key into the cache: for a batch, a few keys
 * ahead of the one being put. */
void kv_prefetch(const struct kvtab *t, const void *key, uint8_t klen);
/* 0, or -ENOENT. */
int kv_del(struct kvtab *t, const void *key, uint8_t klen);
/* Remove every record whose gen differs from the table's: the end of a
 * mark and sweep. Returns how many went. */
uint32_t kv_sweep(struct kvtab *t);
void kv_clear(struct kvtab *t);

static inline struct kv_rec *kv_first(const struct kvtab *t)
{
	return t->head.next == &t->head ? NULL : t->head.next;
}

static inline struct kv_rec *kv_next(const struct kvtab *t,
				     const struct kv_rec *r)
{
	return r->next == &t->head ? NULL : r->next;
}

/* The walk with a cursor: restart it, take the next record (NULL: end). */
static inline void kv_cursor_reset(struct kvtab *t)
{
	t->cursor = t->head.next;
}

static inline struct kv_rec *kv_cursor_next(struct kvtab *t)
{
	struct kv_rec *r = t->cursor;

	if (r == &t->head)
		return NULL;
	t->cursor = r->next;
	return r;
}

#endif
