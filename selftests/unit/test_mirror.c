// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_mirror.c - cmocka tests of the replication engine (user/mirror.c)
 * and its wire format (include/xh_mirror.h).
 *
 * A sender and a receiver engine are wired back to back through two
 * simulated links (latency, seeded loss, duplication), with time advanced
 * by hand. The sender mirrors a model source of NKEYS keys whose every
 * write is logged with its sequence number; the receiver applies into a
 * model replica (built aside during a snapshot and switched at its end).
 * The central check: whenever the receiver is synced at position X, its
 * replica is exactly the source as it was after the writes below X, and
 * X is at least the sender's cumulative ack. That says both "every record
 * acknowledged is in the replica" and "nothing never written is".
 * Frames are also built by hand, so the format is checked byte by byte
 * apart from the engine that writes it.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "mirror.h"

#define US		1000ULL
#define MS		1000000ULL
#define T0		(1000 * MS)	/* time starts here, not at 0 */
#define NKEYS		1024
#define VLEN		64
#define QCAP		8192		/* frames in flight on one link */
#define FRAME		XH_MIR_FRAME_DEFAULT
#define ID_S		11		/* the sender's peer id */
#define ID_R		22		/* the receiver's */
#define STREAM		5

/* ---- the model source, and what it wrote ----------------------------- */

struct wr {
	__u64 seq;
	__u32 key;
	__u32 del;
	__u64 ver;
};

struct model {
	bool present[NKEYS];
	__u64 ver[NKEYS];
	__u8 val[NKEYS][VLEN];
	__u32 keys[NKEYS];		/* key bytes of each index */
	/* the state when this sender epoch began, and every write since */
	bool init_present[NKEYS];
	__u64 init_ver[NKEYS];
	struct wr *log;
	size_t nlog, cap;
	__u64 next_ver;
	unsigned int cursor;		/* snapshot iteration */
	unsigned int snap_calls;
	bool snap_fail;			/* next snapshot call fails */
};

/* A value names its key and version and fills the rest from them, so a
 * value that was never written, or was torn, cannot pass for one. */
static void val_gen(__u8 *v, __u32 key, __u64 ver)
{
	unsigned int i;

	memcpy(v, &ver, 8);
	memcpy(v + 8, &key, 4);
	for (i = 12; i < VLEN; i++)
		v[i] = (__u8)(ver * 31 + key * 7 + i);
}

static bool val_ok(const __u8 *v, unsigned int len, __u32 key, __u64 *ver)
{
	__u8 want[VLEN];

	if (len != VLEN)
		return false;
	memcpy(ver, v, 8);
	val_gen(want, key, *ver);
	return !memcmp(v, want, VLEN);
}

static void model_init(struct model *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < NKEYS; i++)
		s->keys[i] = htonl(i);
	s->next_ver = 1;
	s->cap = 1 << 16;
	s->log = malloc(s->cap * sizeof(*s->log));
	assert_non_null(s->log);
}

/* A new sender epoch: the log restarts from the current state. */
static void model_epoch(struct model *s)
{
	memcpy(s->init_present, s->present, sizeof(s->present));
	memcpy(s->init_ver, s->ver, sizeof(s->ver));
	s->nlog = 0;
}

static void model_log(struct model *s, __u64 seq, __u32 key, bool del,
		      __u64 ver)
{
	if (s->nlog == s->cap) {
		s->cap *= 2;
		s->log = realloc(s->log, s->cap * sizeof(*s->log));
		assert_non_null(s->log);
	}
	s->log[s->nlog++] = (struct wr){ seq, key, del, ver };
}

/* The source as it was once every write below seq was made. */
static void model_at(const struct model *s, __u64 seq, bool *present,
		     __u64 *ver)
{
	size_t i;

	memcpy(present, s->init_present, sizeof(s->init_present));
	memcpy(ver, s->init_ver, sizeof(s->init_ver));
	for (i = 0; i < s->nlog && s->log[i].seq < seq; i++) {
		present[s->log[i].key] = !s->log[i].del;
		ver[s->log[i].key] = s->log[i].ver;
	}
}

/* ---- the model replica ------------------------------------------------ */

struct replica {
	bool present[NKEYS];
	__u64 ver[NKEYS];
	bool sh_present[NKEYS];		/* built during a snapshot */
	__u64 sh_ver[NKEYS];
	bool in_snap;
	__u64 last_seq;			/* of the last record applied */
	unsigned long applied, calls, max_batch;
	unsigned int snaps_begun, snaps_done;
	int fail;			/* fail this many apply calls */
	unsigned long bad;		/* records that made no sense */
};

/* ---- links: latency, seeded loss and duplication --------------------- */

struct pkt {
	__u64 at;
	__u64 id;
	size_t len;
	__u8 buf[FRAME];
};

struct link {
	struct pkt *q;
	unsigned int n;
	__u64 ids;
	__u32 rnd;
	unsigned int loss_pm;		/* per mille dropped */
	unsigned int dup_pm;		/* per mille sent twice */
	__u64 lat_min, lat_max;
	bool down;			/* drop everything */
	__u64 *now;
	unsigned long sent, lost;
	unsigned int max_take;		/* xmit takes at most this many, 0: all */
};

static __u32 xrand(__u32 *s)
{
	/* xorshift32: seeded, the same run every time */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void link_push(struct link *l, const void *buf, size_t len)
{
	struct pkt *p;
	__u64 lat = l->lat_min;

	assert_true(len <= FRAME);
	if (l->n == QCAP) {
		l->lost++;
		return;
	}
	if (l->lat_max > l->lat_min)
		lat += xrand(&l->rnd) % (l->lat_max - l->lat_min);
	p = &l->q[l->n++];
	p->at = *l->now + lat;
	p->id = l->ids++;
	p->len = len;
	memcpy(p->buf, buf, len);
}

static int xmit_cb(void *arg, const struct iovec *frames, unsigned int n)
{
	struct link *l = arg;
	unsigned int i;

	if (l->max_take && n > l->max_take)
		n = l->max_take;
	for (i = 0; i < n; i++) {
		l->sent++;
		if (l->down || xrand(&l->rnd) % 1000 < l->loss_pm) {
			l->lost++;
			continue;
		}
		link_push(l, frames[i].iov_base, frames[i].iov_len);
		if (xrand(&l->rnd) % 1000 < l->dup_pm)
			link_push(l, frames[i].iov_base, frames[i].iov_len);
	}
	return n;
}

static int pkt_cmp(const void *a, const void *b)
{
	const struct pkt *x = *(const struct pkt * const *)a;
	const struct pkt *y = *(const struct pkt * const *)b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->id < y->id ? -1 : 1;
}

/* Hand every frame due by now to m, in arrival order, as one burst. */
static void link_deliver(struct link *l, struct xh_mirror *m, __u64 now)
{
	static struct pkt *due[QCAP];
	static struct iovec iov[QCAP];
	static struct pkt tmp[256];
	unsigned int nd = 0, i, j, k;

	for (i = 0; i < l->n; i++)
		if (l->q[i].at <= now)
			due[nd++] = &l->q[i];
	if (!nd)
		return;
	qsort(due, nd, sizeof(due[0]), pkt_cmp);
	/* deliver in chunks (the receiver copies nothing it applies at
	 * once, so the frames must stay put during the call) */
	for (i = 0; i < nd; i += 256) {
		k = nd - i < 256 ? nd - i : 256;
		for (j = 0; j < k; j++) {
			tmp[j] = *due[i + j];
			iov[j].iov_base = tmp[j].buf;
			iov[j].iov_len = tmp[j].len;
		}
		for (j = 0; j < k; j++)
			due[i + j]->len = 0;	/* mark taken */
		xh_mir_input_batch(m, iov, k, now);
	}
	for (i = j = 0; i < l->n; i++)
		if (l->q[i].len)
			l->q[j++] = l->q[i];
	l->n = j;
}

/* ---- a sender and a receiver back to back ---------------------------- */

struct pair {
	struct model src;
	struct replica rep;
	struct link ab, ba;		/* sender -> receiver, and back */
	struct xh_mir_cfg scfg, rcfg;
	struct xh_mirror *s, *r;
	__u64 now;
	__u64 sepoch, repoch;
	unsigned long puts, eagain;
};

static struct pair *P;			/* for the callbacks' asserts */

static int snap_cb(void *arg, bool restart, struct xh_mir_rec *recs,
		   unsigned int max)
{
	struct model *s = arg;
	unsigned int n = 0;

	s->snap_calls++;
	if (s->snap_fail) {
		s->snap_fail = false;
		return -EIO;
	}
	if (restart)
		s->cursor = 0;
	/* a few records at a time, so that writes interleave with it */
	if (max > 7)
		max = 7;
	while (n < max && s->cursor < NKEYS) {
		unsigned int k = s->cursor++;

		if (!s->present[k])
			continue;
		recs[n].op = XH_MIR_OP_PUT;
		recs[n].key = &s->keys[k];
		recs[n].klen = 4;
		recs[n].val = s->val[k];
		recs[n].vlen = VLEN;
		n++;
	}
	return n;
}

static int apply_cb(void *arg, const struct xh_mir_rec *recs, unsigned int n)
{
	struct replica *r = arg;
	unsigned int i;

	if (r->fail) {
		r->fail--;
		return -ENOSPC;
	}
	r->calls++;
	if (n > r->max_batch)
		r->max_batch = n;
	for (i = 0; i < n; i++) {
		const struct xh_mir_rec *x = &recs[i];
		bool *pres = r->in_snap ? r->sh_present : r->present;
		__u64 *ver = r->in_snap ? r->sh_ver : r->ver;
		__u32 key;
		__u64 v;

		/* in order, no gap, no repeat (BEGIN may start anywhere) */
		if (x->op != XH_MIR_OP_SNAP_BEGIN && x->seq != r->last_seq + 1)
			r->bad++;
		r->last_seq = x->seq;
		r->applied++;
		switch (x->op) {
		case XH_MIR_OP_SNAP_BEGIN:
			r->in_snap = true;
			r->snaps_begun++;
			memset(r->sh_present, 0, sizeof(r->sh_present));
			break;
		case XH_MIR_OP_SNAP_END:
			if (!r->in_snap)
				r->bad++;
			r->in_snap = false;
			r->snaps_done++;
			memcpy(r->present, r->sh_present, sizeof(r->present));
			memcpy(r->ver, r->sh_ver, sizeof(r->ver));
			break;
		case XH_MIR_OP_PUT:
		case XH_MIR_OP_DEL:
			if (x->klen != 4) {
				r->bad++;
				break;
			}
			memcpy(&key, x->key, 4);
			key = ntohl(key);
			if (key >= NKEYS) {
				r->bad++;
				break;
			}
			if (x->op == XH_MIR_OP_DEL) {
				pres[key] = false;
				break;
			}
			if (!val_ok(x->val, x->vlen, key, &v)) {
				r->bad++;
				break;
			}
			pres[key] = true;
			ver[key] = v;
			break;
		default:
			r->bad++;
		}
	}
	return 0;
}

/* The callbacks share one argument, here the link xmit writes to: snap and
 * apply find the model through P. */
static int snap_route(void *arg, bool restart, struct xh_mir_rec *recs,
		      unsigned int max)
{
	(void)arg;
	return snap_cb(&P->src, restart, recs, max);
}

static int apply_route(void *arg, const struct xh_mir_rec *recs,
		       unsigned int n)
{
	(void)arg;
	return apply_cb(&P->rep, recs, n);
}

static void pair_cfg(struct pair *p)
{
	struct xh_mir_cfg c = {
		.stream = STREAM,
		.frame_len = FRAME,
		.window = 64,
		.rto_init_ns = 2 * MS,
		.rto_min_ns = 1 * MS,
		.rto_max_ns = 64 * MS,
		.hello_ns = 10 * MS,
		.peer_timeout_ns = 500 * MS,
	};

	p->scfg = c;
	p->scfg.role = XH_MIR_SENDER;
	p->scfg.self_id = ID_S;
	p->scfg.peer_id = ID_R;
	p->scfg.xmit = xmit_cb;
	p->scfg.arg = &p->ab;
	p->scfg.snap = snap_route;
	p->rcfg = c;
	p->rcfg.role = XH_MIR_RECEIVER;
	p->rcfg.self_id = ID_R;
	p->rcfg.peer_id = ID_S;
	p->rcfg.xmit = xmit_cb;
	p->rcfg.arg = &p->ba;
	p->rcfg.apply = apply_route;
}

static void start_sender(struct pair *p)
{
	p->sepoch++;
	p->scfg.epoch = p->sepoch;
	xh_mir_free(p->s);
	p->s = NULL;
	model_epoch(&p->src);
	assert_int_equal(xh_mir_new(&p->scfg, p->now, &p->s), 0);
}

static void start_receiver(struct pair *p, __u64 resume_epoch,
			   __u64 resume_seq)
{
	p->repoch++;
	p->rcfg.epoch = p->repoch;
	p->rcfg.resume_epoch = resume_epoch;
	p->rcfg.resume_seq = resume_seq;
	xh_mir_free(p->r);
	p->r = NULL;
	assert_int_equal(xh_mir_new(&p->rcfg, p->now, &p->r), 0);
}

static struct pair *pair_new(__u32 seed)
{
	struct pair *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	P = p;
	model_init(&p->src);
	p->now = T0;
	p->sepoch = 1000;
	p->repoch = 2000;
	p->ab.q = calloc(QCAP, sizeof(struct pkt));
	p->ba.q = calloc(QCAP, sizeof(struct pkt));
	assert_non_null(p->ab.q);
	assert_non_null(p->ba.q);
	p->ab.now = p->ba.now = &p->now;
	p->ab.rnd = seed;
	p->ba.rnd = seed * 2654435761U + 1;
	p->ab.lat_min = p->ba.lat_min = 20 * US;
	p->ab.lat_max = p->ba.lat_max = 20 * US;
	pair_cfg(p);
	start_sender(p);
	start_receiver(p, 0, 0);
	return p;
}

static void pair_free(struct pair *p)
{
	xh_mir_free(p->s);
	xh_mir_free(p->r);
	free(p->ab.q);
	free(p->ba.q);
	free(p->src.log);
	free(p);
	P = NULL;
}

/* One write to the source, then to the mirror; false on backpressure
 * (nothing written). */
static bool write_one(struct pair *p, __u32 k, bool del)
{
	struct model *s = &p->src;
	__u64 ver = s->next_ver;
	__u8 v[VLEN];
	bool was = s->present[k];
	__u64 old = s->ver[k];
	int err;

	/* the source changes first, the record follows (mirror.h) */
	s->present[k] = !del;
	if (!del) {
		memcpy(v, s->val[k], VLEN);
		s->ver[k] = ver;
		val_gen(s->val[k], k, ver);
		err = xh_mir_put(p->s, &s->keys[k], 4, s->val[k], VLEN,
				 p->now);
	} else {
		err = xh_mir_del(p->s, &s->keys[k], 4, p->now);
	}
	if (err == -EAGAIN) {
		/* backpressure: the write does not happen */
		s->present[k] = was;
		s->ver[k] = old;
		if (!del)
			memcpy(s->val[k], v, VLEN);
		p->eagain++;
		return false;
	}
	assert_int_equal(err, 0);
	s->next_ver++;
	p->puts++;
	model_log(s, xh_mir_last_seq(p->s), k, del, ver);
	return true;
}

/* Advance time by dt: deliver what arrived, run due timers. */
static void tick(struct pair *p, __u64 dt)
{
	p->now += dt;
	link_deliver(&p->ab, p->r, p->now);
	link_deliver(&p->ba, p->s, p->now);
	if (xh_mir_next_timer(p->s) <= p->now)
		xh_mir_timer(p->s, p->now);
	if (xh_mir_next_timer(p->r) <= p->now)
		xh_mir_timer(p->r, p->now);
}

/* The central invariant (see the top of the file). Returns whether the
 * receiver was synced, i.e. whether anything was checked. */
static bool check(struct pair *p)
{
	static bool present[NKEYS];
	static __u64 ver[NKEYS];
	__u64 epoch, x;
	unsigned int k;

	assert_int_equal(p->rep.bad, 0);
	if (xh_mir_rx_position(p->r, &epoch, &x))
		return false;
	if (epoch != p->scfg.epoch)
		return false;	/* still following a dead sender */
	model_at(&p->src, x, present, ver);
	for (k = 0; k < NKEYS; k++) {
		assert_int_equal(p->rep.present[k], present[k]);
		if (present[k])
			assert_int_equal(p->rep.ver[k], ver[k]);
	}
	assert_true(xh_mir_ack_seq(p->s) <= x);
	return true;
}

/* Run until the sender has everything acknowledged and the receiver is
 * synced with the source; fail after limit of simulated time. */
static void converge(struct pair *p, __u64 limit)
{
	__u64 until = p->now + limit;
	unsigned int k;

	xh_mir_flush(p->s, p->now);
	while (p->now < until) {
		tick(p, 50 * US);
		if (xh_mir_state(p->s) == XH_MIR_S_SYNCED &&
		    xh_mir_state(p->r) == XH_MIR_S_SYNCED &&
		    xh_mir_ack_seq(p->s) == xh_mir_last_seq(p->s) + 1)
			break;
	}
	assert_int_equal(xh_mir_state(p->s), XH_MIR_S_SYNCED);
	assert_int_equal(xh_mir_state(p->r), XH_MIR_S_SYNCED);
	assert_int_equal(xh_mir_ack_seq(p->s), xh_mir_last_seq(p->s) + 1);
	assert_true(check(p));
	for (k = 0; k < NKEYS; k++) {
		assert_int_equal(p->rep.present[k], p->src.present[k]);
		if (p->src.present[k])
			assert_int_equal(p->rep.ver[k], p->src.ver[k]);
	}
}

/* A random workload: bursts of writes (80 % puts) over time. */
static void workload(struct pair *p, unsigned long records, __u32 seed,
		     unsigned int check_every)
{
	__u32 rnd = seed;
	unsigned long done = 0, steps = 0;

	while (done < records) {
		unsigned int burst = 1 + xrand(&rnd) % 24, i;

		for (i = 0; i < burst && done < records; i++) {
			__u32 k = xrand(&rnd) % NKEYS;

			if (!write_one(p, k, xrand(&rnd) % 5 == 0))
				break;
			done++;
		}
		if (xrand(&rnd) % 4 == 0)
			xh_mir_flush(p->s, p->now);
		tick(p, 1 + xrand(&rnd) % (10 * US));
		if (check_every && ++steps % check_every == 0)
			check(p);
	}
}

/* ---- hand-made frames ------------------------------------------------- */

static size_t craft(void *buf, __u8 type, __u32 peer, __u32 stream,
		    __u64 epoch, __u64 ref, __u64 seq, __u64 base)
{
	struct xh_mir_hdr h = {
		.magic = htonl(XH_MIR_MAGIC),
		.version = XH_MIR_VERSION,
		.type = type,
		.len = htons(sizeof(h)),
		.stream = htonl(stream),
		.peer = htonl(peer),
		.epoch = htobe64(epoch),
		.ref_epoch = htobe64(ref),
		.seq = htobe64(seq),
		.base = htobe64(base),
	};

	memcpy(buf, &h, sizeof(h));
	return sizeof(h);
}

/* Append a record to a hand-made DATA frame and fix up len and nrec. */
static size_t craft_rec(__u8 *buf, size_t len, __u8 op, const void *key,
			__u8 klen, const void *val, __u16 vlen)
{
	struct xh_mir_hdr h;

	buf[len] = op;
	buf[len + 1] = klen;
	buf[len + 2] = vlen >> 8;
	buf[len + 3] = vlen & 0xff;
	memcpy(buf + len + 4, key, klen);
	memcpy(buf + len + 4 + klen, val, vlen);
	len += 4 + klen + vlen;
	memcpy(&h, buf, sizeof(h));
	h.len = htons(len);
	h.nrec = htons(ntohs(h.nrec) + 1);
	memcpy(buf, &h, sizeof(h));
	return len;
}

/* Frames an engine sent, captured instead of carried. */
struct cap {
	unsigned int n;
	size_t len[64];
	__u8 buf[64][FRAME];
};

static int cap_xmit(void *arg, const struct iovec *frames, unsigned int n)
{
	struct cap *c = arg;
	unsigned int i;

	for (i = 0; i < n; i++) {
		assert_true(c->n < 64);
		assert_true(frames[i].iov_len <= FRAME);
		c->len[c->n] = frames[i].iov_len;
		memcpy(c->buf[c->n++], frames[i].iov_base, frames[i].iov_len);
	}
	return n;
}

static __u64 be64_at(const __u8 *p)
{
	__u64 v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

/* ---- tests ------------------------------------------------------------ */

/* The layout on the wire, byte by byte, against hand-written bytes. */
static void test_wire(void **state)
{
	static const __u8 hdr_want[24] = {
		'X', 'H', 'M', 'R',		/* magic */
		1, XH_MIR_DATA, 0, 0,		/* version, type, flags, pad */
		0, 56 + 20 + 20, 0, 2,		/* len, nrec */
		0, 0, 0, STREAM,		/* stream */
		0, 0, 0, ID_S,			/* peer */
		0, 0, 0, 0,			/* pad2 */
	};
	static const __u8 begin_want[20] = {
		XH_MIR_OP_SNAP_BEGIN, 0, 0, 16,
		0, 0, 0, 0, 0, 0, 0, 7,		/* rx_epoch */
		0, 0, 0, 0, 0, 0, 0, 1,		/* req */
	};
	struct xh_mir_cfg c = {
		.role = XH_MIR_SENDER, .self_id = ID_S, .peer_id = ID_R,
		.stream = STREAM, .epoch = 0x0102030405060708ULL,
		.xmit = cap_xmit,
	};
	struct cap *cp = calloc(1, sizeof(*cp));
	struct xh_mirror *m;
	__u8 f[128];
	size_t len;

	(void)state;
	assert_non_null(cp);
	assert_int_equal(sizeof(struct xh_mir_hdr), 56);
	assert_int_equal(offsetof(struct xh_mir_hdr, epoch), 24);
	assert_int_equal(offsetof(struct xh_mir_hdr, base), 48);
	assert_int_equal(XH_MIR_FRAME_MIN, 56 + 4 + 64 + 1024 + 16);
	c.arg = cp;
	assert_int_equal(xh_mir_new(&c, T0, &m), 0);

	/* Before a receiver asks, nothing is sent but HELLO. */
	assert_int_equal(xh_mir_state(m), XH_MIR_S_UNSYNCED);
	assert_int_equal(xh_mir_put(m, "k", 1, "v", 1, T0), 0);
	assert_int_equal(xh_mir_last_seq(m), 1);
	xh_mir_timer(m, T0);
	assert_int_equal(cp->n, 1);
	assert_int_equal(cp->len[0], 56);
	assert_int_equal(cp->buf[0][5], XH_MIR_HELLO);
	assert_int_equal(be64_at(cp->buf[0] + 24), 0x0102030405060708ULL);
	assert_int_equal(be64_at(cp->buf[0] + 40), 2);	/* next seq */
	assert_int_equal(be64_at(cp->buf[0] + 48), 2);	/* holds nothing */

	/* A SYNC_REQ (receiver epoch 7, request 1): an empty snapshot,
	 * BEGIN at seq 2 and END at 3 in one frame. */
	cp->n = 0;
	len = craft(f, XH_MIR_SYNC_REQ, ID_R, STREAM, 7, 0, 1, 0);
	assert_int_equal(xh_mir_input(m, f, len, T0 + 1), 0);
	assert_int_equal(xh_mir_state(m), XH_MIR_S_SNAP);
	assert_int_equal(cp->n, 1);
	assert_int_equal(cp->len[0], 56 + 40);
	assert_memory_equal(cp->buf[0], hdr_want, sizeof(hdr_want));
	assert_int_equal(be64_at(cp->buf[0] + 24), 0x0102030405060708ULL);
	assert_int_equal(be64_at(cp->buf[0] + 32), 0);	/* ref_epoch */
	assert_int_equal(be64_at(cp->buf[0] + 40), 2);	/* first seq */
	assert_int_equal(be64_at(cp->buf[0] + 48), 2);	/* base */
	assert_memory_equal(cp->buf[0] + 56, begin_want, 20);
	assert_int_equal(cp->buf[0][76], XH_MIR_OP_SNAP_END);

	/* Its ack (cumulative 4) ends the snapshot: synced. */
	cp->n = 0;
	len = craft(f, XH_MIR_ACK, ID_R, STREAM, 7, c.epoch, 4, 0);
	assert_int_equal(xh_mir_input(m, f, len, T0 + 2), 0);
	assert_int_equal(xh_mir_state(m), XH_MIR_S_SYNCED);
	assert_int_equal(xh_mir_ack_seq(m), 4);
	assert_true(xh_mir_acked(m, 3));
	assert_false(xh_mir_acked(m, 4));

	/* A put and a delete, flushed: one frame, records packed. */
	assert_int_equal(xh_mir_put(m, "key", 3, "value", 5, T0 + 3), 0);
	assert_int_equal(xh_mir_del(m, "ab", 2, T0 + 3), 0);
	assert_int_equal(xh_mir_last_seq(m), 5);
	assert_int_equal(cp->n, 0);		/* waits for flush */
	xh_mir_flush(m, T0 + 3);
	assert_int_equal(cp->n, 1);
	assert_int_equal(cp->len[0], 56 + 4 + 3 + 5 + 4 + 2);
	assert_int_equal(be64_at(cp->buf[0] + 40), 4);
	assert_int_equal(be64_at(cp->buf[0] + 48), 4);
	assert_memory_equal(cp->buf[0] + 56, "\x01\x03\x00\x05keyvalue", 12);
	assert_memory_equal(cp->buf[0] + 68, "\x02\x02\x00\x00" "ab", 6);

	/* peek */
	{
		__u32 stream = 0;
		bool to_sender = true;

		assert_int_equal(xh_mir_peek(cp->buf[0], cp->len[0], &stream,
					     &to_sender), 0);
		assert_int_equal(stream, STREAM);
		assert_false(to_sender);
		assert_int_equal(xh_mir_peek(f, len, &stream, &to_sender), 0);
		assert_true(to_sender);
		assert_int_equal(xh_mir_peek(f, 10, &stream, &to_sender),
				 -EBADMSG);
	}
	/* bad arguments */
	assert_int_equal(xh_mir_put(m, "k", 0, "v", 1, T0), -EINVAL);
	assert_int_equal(xh_mir_put(m, f, XH_MIR_KEY_MAX + 1, "v", 1, T0),
			 -EINVAL);
	assert_int_equal(xh_mir_put(m, "k", 1, f, XH_MIR_VAL_MAX + 1, T0),
			 -EINVAL);
	xh_mir_free(m);
	c.epoch = 0;
	assert_int_equal(xh_mir_new(&c, T0, &m), -EINVAL);
	c.epoch = 1;
	c.window = 6;
	assert_int_equal(xh_mir_new(&c, T0, &m), -EINVAL);
	c.window = 0;
	c.frame_len = XH_MIR_FRAME_MIN - 1;
	assert_int_equal(xh_mir_new(&c, T0, &m), -EINVAL);
	free(cp);
}

/* Records fill frames up to the frame size; a full frame leaves at once
 * (in batches), a partial one after flush_ns. */
static void test_packing(void **state)
{
	struct pair *p = pair_new(1);
	struct xh_mir_stats st;
	__u64 t, sent;
	unsigned int i;

	(void)state;
	converge(p, 100 * MS);			/* initial (empty) snapshot */
	xh_mir_get_stats(p->s, p->now, &st);
	sent = st.frames_sent;
	/* 64-byte values, 4-byte keys: 72 bytes a record, 19 a frame */
	for (i = 0; i < 19 * 3; i++)
		assert_true(write_one(p, i, false));
	xh_mir_get_stats(p->s, p->now, &st);
	/* closed frames wait for a batch of 64 or the flush deadline */
	assert_int_equal(st.frames_sent, sent);
	assert_int_equal(p->ab.n, 0);
	t = xh_mir_next_timer(p->s);
	assert_true(t <= p->now + p->scfg.rto_init_ns);
	assert_true(t >= p->now);
	tick(p, 50 * US);			/* flush_ns default: 50 us */
	xh_mir_get_stats(p->s, p->now, &st);
	assert_int_equal(st.frames_sent, sent + 3);
	assert_int_equal(p->ab.n, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(p->ab.q[i].len, 56 + 19 * 72);
	converge(p, 100 * MS);
	assert_int_equal(p->rep.calls > 0, 1);
	pair_free(p);
}

/* A full window refuses puts with -EAGAIN; acks free it. */
static void test_window(void **state)
{
	struct pair *p = pair_new(2);
	struct xh_mir_stats st;
	unsigned int i, ok = 0;

	(void)state;
	p->scfg.window = 4;
	start_sender(p);
	converge(p, 100 * MS);
	p->ab.down = true;			/* nothing arrives */
	for (i = 0; i < 200; i++) {
		if (!write_one(p, i % NKEYS, false))
			break;
		ok++;
	}
	/* 4 frames of 19 records */
	assert_int_equal(ok, 4 * 19);
	assert_int_equal(xh_mir_put(p->s, &p->src.keys[0], 4, p->src.val[0],
				    VLEN, p->now), -EAGAIN);
	xh_mir_get_stats(p->s, p->now, &st);
	assert_int_equal(st.window_full, 2);
	assert_int_equal(st.inflight, 4 * 19);
	assert_true(st.lag_ns == 0);		/* no time passed yet */
	tick(p, 5 * MS);
	xh_mir_get_stats(p->s, p->now, &st);
	assert_int_equal(st.lag_ns, 5 * MS);
	assert_false(xh_mir_acked(p->s, xh_mir_last_seq(p->s)));
	p->ab.down = false;
	converge(p, 200 * MS);			/* retransmitted, acked */
	assert_true(xh_mir_acked(p->s, xh_mir_last_seq(p->s)));
	assert_true(write_one(p, 1, false));
	xh_mir_get_stats(p->s, p->now, &st);
	assert_int_equal(st.inflight, 1);
	pair_free(p);
}

/* Cumulative acks: a receiver that acks after ack_frames frames or
 * ack_delay, the sender's ack_seq, lag back to 0, the acked callback. */
static unsigned long acked_calls;
static __u64 acked_last;

static void acked_cb(void *arg, __u64 seq, __u64 now)
{
	(void)arg;
	(void)now;
	acked_calls++;
	acked_last = seq;
}

static void test_acks(void **state)
{
	struct pair *p = pair_new(3);
	struct xh_mir_stats st, rst;
	__u64 last;
	unsigned int i;

	(void)state;
	p->scfg.acked = acked_cb;
	start_sender(p);
	converge(p, 100 * MS);
	acked_calls = 0;
	for (i = 0; i < 19 * 40; i++)		/* 40 frames */
		assert_true(write_one(p, i % NKEYS, false));
	last = xh_mir_last_seq(p->s);
	xh_mir_flush(p->s, p->now);
	assert_int_equal(p->ab.n, 40);
	xh_mir_get_stats(p->r, p->now, &rst);
	tick(p, 20 * US);			/* all 40 arrive in one burst */
	xh_mir_get_stats(p->r, p->now, &st);
	assert_int_equal(st.acks, rst.acks + 1);	/* coalesced: one */
	assert_int_equal(st.applied - rst.applied, 19 * 40);
	/* one apply batch of 1024 records at most, 19 per frame */
	assert_true(p->rep.max_batch >= 19 * 40 / 2);
	tick(p, 20 * US);			/* the ack arrives */
	assert_int_equal(xh_mir_ack_seq(p->s), last + 1);
	assert_true(xh_mir_acked(p->s, last));
	assert_false(xh_mir_acked(p->s, last + 1));
	assert_false(xh_mir_acked(p->s, 0));
	assert_int_equal(acked_last, last + 1);
	assert_true(acked_calls >= 1);
	xh_mir_get_stats(p->s, p->now, &st);
	assert_int_equal(st.inflight, 0);
	assert_int_equal(st.lag_ns, 0);
	assert_int_equal(st.ack_seq, last + 1);
	assert_true(st.srtt_ns >= 40 * US);

	/* One frame alone is acked after ack_delay (100 us), not before. */
	xh_mir_get_stats(p->r, p->now, &rst);
	assert_true(write_one(p, 3, false));
	xh_mir_flush(p->s, p->now);
	tick(p, 20 * US);
	xh_mir_get_stats(p->r, p->now, &st);
	assert_int_equal(st.acks, rst.acks);
	assert_int_equal(xh_mir_next_timer(p->r), p->now + 100 * US);
	tick(p, 100 * US);
	xh_mir_get_stats(p->r, p->now, &st);
	assert_int_equal(st.acks, rst.acks + 1);
	check(p);
	pair_free(p);
}

/* A lost frame is sent again after the RTO; the RTO backs off while
 * nothing comes back, and resets once an ack does. */
static void test_retransmit(void **state)
{
	struct pair *p = pair_new(4);
	struct xh_mir_stats st;
	__u64 t0, due;

	(void)state;
	converge(p, 100 * MS);
	p->ab.down = true;
	assert_true(write_one(p, 1, false));
	xh_mir_flush(p->s, p->now);
	t0 = p->now;
	xh_mir_get_stats(p->s, p->now, &st);
	assert_int_equal(st.retransmits, 0);
	due = xh_mir_next_timer(p->s);
	assert_true(due <= t0 + st.rto_ns);
	/* just before the RTO: nothing */
	while (p->now + 10 * US < t0 + st.rto_ns)
		tick(p, 10 * US);
	xh_mir_get_stats(p->s, p->now, &st);
	assert_int_equal(st.retransmits, 0);
	tick(p, 20 * US);
	xh_mir_get_stats(p->s, p->now, &st);
	assert_int_equal(st.retransmits, 1);
	assert_int_equal(st.timeouts, 1);
	/* backed off: the next comes twice as late */
	t0 = p->now;
	for (;;) {
		xh_mir_get_stats(p->s, p->now, &st);
		if (st.retransmits >= 2)
			break;
		tick(p, 10 * US);
	}
	assert_true(p->now - t0 >= st.rto_ns / 2 - 20 * US);
	assert_true(st.rto_ns >= 2 * p->scfg.rto_min_ns);
	/* the link heals: the next retransmission is acked */
	p->ab.down = false;
	converge(p, 200 * MS);
	xh_mir_get_stats(p->s, p->now, &st);
	assert_true(st.rto_ns < 4 * p->scfg.rto_min_ns);
	assert_int_equal(p->rep.ver[1], p->src.ver[1]);
	pair_free(p);
}

/* Every frame twice: each applied once, the copies acked again. */
static void test_duplicates(void **state)
{
	struct pair *p = pair_new(5);
	struct xh_mir_stats st;

	(void)state;
	p->ab.dup_pm = 1000;
	p->ba.dup_pm = 1000;
	converge(p, 100 * MS);
	workload(p, 5000, 55, 50);
	converge(p, 500 * MS);
	xh_mir_get_stats(p->r, p->now, &st);
	assert_true(st.drop[XH_MIR_DROP_DUP] >= st.frames_rx - 2);
	assert_int_equal(p->rep.bad, 0);
	/* replaying a frame by hand: dropped, nothing applied */
	{
		unsigned long applied = p->rep.applied;

		assert_true(write_one(p, 9, false));
		xh_mir_flush(p->s, p->now);
		assert_true(p->ab.n >= 1);
		assert_int_equal(xh_mir_input(p->r, p->ab.q[0].buf,
					      p->ab.q[0].len, p->now), 0);
		assert_int_equal(xh_mir_input(p->r, p->ab.q[0].buf,
					      p->ab.q[0].len, p->now),
				 -EALREADY);
		assert_int_equal(p->rep.applied, applied + 1);
	}
	pair_free(p);
}

/* Frames out of order are held and applied in order in one go; the ack
 * names the hole and the sender fills it before its RTO. */
static void test_reorder(void **state)
{
	struct pair *p = pair_new(6);
	struct xh_mir_stats st, st0;
	struct pkt *q;
	unsigned int i, n;

	(void)state;
	converge(p, 100 * MS);
	for (i = 0; i < 19 * 5; i++)
		assert_true(write_one(p, i, false));
	xh_mir_flush(p->s, p->now);
	assert_int_equal(p->ab.n, 5);
	/* deliver frames 4, 3, 2, 1, then 0, by hand */
	q = p->ab.q;
	n = p->ab.n;
	xh_mir_get_stats(p->r, p->now, &st0);
	for (i = n; i-- > 1;) {
		assert_int_equal(xh_mir_input(p->r, q[i].buf, q[i].len,
					      p->now), 0);
		assert_int_equal(p->rep.applied, st0.applied);
	}
	xh_mir_get_stats(p->r, p->now, &st);
	assert_int_equal(st.ooo, 4);
	assert_int_equal(xh_mir_input(p->r, q[0].buf, q[0].len, p->now), 0);
	xh_mir_get_stats(p->r, p->now, &st);
	assert_int_equal(st.applied - st0.applied, 5 * 19);
	assert_int_equal(p->rep.bad, 0);
	p->ab.n = 0;
	check(p);

	/* Frame 0 of the next two lost: frame 1 arrives, the ack names the
	 * hole, the sender sends frame 0 again before any timeout. */
	converge(p, 100 * MS);
	for (i = 0; i < 19 * 2; i++)
		assert_true(write_one(p, i, false));
	xh_mir_flush(p->s, p->now);
	assert_int_equal(p->ab.n, 2);
	p->ab.q[0] = p->ab.q[1];
	p->ab.n = 1;
	xh_mir_get_stats(p->s, p->now, &st0);
	/* wait for a round trip to pass (srtt) before the hole shows */
	for (i = 0; i < 10; i++)
		tick(p, 20 * US);
	xh_mir_get_stats(p->s, p->now, &st);
	assert_int_equal(st.fast_retransmits - st0.fast_retransmits, 1);
	assert_int_equal(st.timeouts, st0.timeouts);
	converge(p, 100 * MS);
	pair_free(p);
}

/* 5 % of frames lost each way, random latency (so reordering too):
 * the invariant holds throughout, and everything converges. */
static void test_loss(void **state)
{
	struct pair *p = pair_new(7);
	struct xh_mir_stats ss, rs;

	(void)state;
	p->ab.loss_pm = p->ba.loss_pm = 50;
	p->ab.lat_min = p->ba.lat_min = 10 * US;
	p->ab.lat_max = p->ba.lat_max = 60 * US;
	p->scfg.window = 256;
	start_sender(p);
	workload(p, 200000, 77, 500);
	converge(p, 5000 * MS);
	xh_mir_get_stats(p->s, p->now, &ss);
	xh_mir_get_stats(p->r, p->now, &rs);
	print_message("loss 5%%: %lu records (%lu backpressure), %llu frames, %llu retransmitted (%llu fast, %llu timeouts, %llu arrived twice), %llu snapshots; lost %lu/%lu frames one way, %lu/%lu the other\n",
		      p->puts, p->eagain,
		      (unsigned long long)ss.frames_sent,
		      (unsigned long long)ss.retransmits,
		      (unsigned long long)ss.fast_retransmits,
		      (unsigned long long)ss.timeouts,
		      (unsigned long long)rs.drop[XH_MIR_DROP_DUP],
		      (unsigned long long)ss.snapshots,
		      p->ab.lost, p->ab.sent, p->ba.lost, p->ba.sent);
	assert_true(p->ab.lost > p->ab.sent / 40);	/* loss did happen */
	assert_true(p->ba.lost > p->ba.sent / 40);
	assert_true(ss.retransmits > 0);
	assert_true(rs.ooo > 0);
	assert_int_equal(ss.peer_lost, 0);
	assert_int_equal(p->puts, 200000);
	pair_free(p);
}

/* The receiver restarts with nothing: it asks, the sender sends a
 * snapshot while writes go on, and the replica ends equal to the source. */
static void test_receiver_restart(void **state)
{
	struct pair *p = pair_new(8);
	struct xh_mir_stats ss, rs;
	unsigned int begun;

	(void)state;
	converge(p, 100 * MS);
	workload(p, 20000, 88, 100);
	converge(p, 500 * MS);
	/* restart: a new engine and an empty replica */
	memset(&p->rep, 0, sizeof(p->rep));
	start_receiver(p, 0, 0);
	assert_int_equal(xh_mir_state(p->r), XH_MIR_S_UNSYNCED);
	begun = p->rep.snaps_begun;
	/* writes during the snapshot (the source yields 7 at a time) */
	workload(p, 3000, 89, 20);
	converge(p, 500 * MS);
	xh_mir_get_stats(p->s, p->now, &ss);
	xh_mir_get_stats(p->r, p->now, &rs);
	assert_int_equal(p->rep.snaps_begun, begun + 1);
	assert_int_equal(p->rep.snaps_done, 1);
	assert_int_equal(ss.snapshots, 2);	/* start, restart */
	assert_true(ss.snap_records > 500);
	assert_int_equal(rs.resyncs, 0);	/* the first request only */
	pair_free(p);
}

/* The sender restarts (a new epoch) with a different source: the
 * receiver keeps its old replica until the new snapshot ends, then holds
 * exactly the new source (keys the new source lacks are gone). */
static void test_sender_restart(void **state)
{
	struct pair *p = pair_new(9);
	struct xh_mir_stats rs;
	unsigned int k;
	bool had_old = false;

	(void)state;
	converge(p, 100 * MS);
	workload(p, 10000, 99, 100);
	converge(p, 500 * MS);
	/* the new incarnation's source: every third key dropped */
	for (k = 0; k < NKEYS; k += 3)
		p->src.present[k] = false;
	start_sender(p);
	/* until the new sender's snapshot completes, the old replica stands */
	for (k = 0; k < NKEYS; k += 3)
		had_old |= p->rep.present[k];
	assert_true(had_old);
	tick(p, 10 * US);
	workload(p, 2000, 100, 20);
	converge(p, 500 * MS);
	for (k = 0; k < NKEYS; k += 3)
		if (p->rep.present[k])
			assert_true(p->src.present[k]);
	xh_mir_get_stats(p->r, p->now, &rs);
	assert_int_equal(rs.resyncs, 1);	/* the new epoch */
	assert_int_equal(rs.peer_epoch, p->sepoch);
	/* frames of the dead incarnation are stale now */
	{
		__u8 f[128];
		size_t len = craft(f, XH_MIR_HELLO, ID_S, STREAM,
				   p->sepoch - 1, 0, 5, 5);

		assert_int_equal(xh_mir_input(p->r, f, len, p->now),
				 -ESTALE);
	}
	pair_free(p);
}

/* A receiver restored from a checkpoint at its last position resumes
 * without a snapshot when the sender still holds what follows; restored
 * from an older one, it resyncs. */
static void test_resume(void **state)
{
	struct pair *p = pair_new(10);
	struct replica saved;
	struct xh_mir_stats ss, ss0;
	__u64 epoch, seq;

	(void)state;
	converge(p, 100 * MS);
	workload(p, 5000, 101, 0);
	converge(p, 500 * MS);
	assert_int_equal(xh_mir_rx_position(p->r, &epoch, &seq), 0);
	assert_int_equal(epoch, p->sepoch);
	saved = p->rep;
	/* restart at the same position: no snapshot */
	xh_mir_get_stats(p->s, p->now, &ss0);
	start_receiver(p, epoch, seq);
	assert_int_equal(xh_mir_state(p->r), XH_MIR_S_SYNCED);
	workload(p, 2000, 102, 20);
	converge(p, 500 * MS);
	xh_mir_get_stats(p->s, p->now, &ss);
	assert_int_equal(ss.snapshots, ss0.snapshots);
	/* restart from the older checkpoint: the sender freed what
	 * follows it, so a snapshot */
	p->rep = saved;
	start_receiver(p, epoch, seq);
	workload(p, 500, 103, 20);
	converge(p, 500 * MS);
	xh_mir_get_stats(p->s, p->now, &ss);
	assert_int_equal(ss.snapshots, ss0.snapshots + 1);
	pair_free(p);
}

/* A snapshot whose source fails is abandoned; the receiver asks again
 * and the next one completes. */
static void test_snap_error(void **state)
{
	struct pair *p = pair_new(11);
	struct xh_mir_stats ss;

	(void)state;
	workload(p, 3000, 111, 0);
	converge(p, 100 * MS);
	memset(&p->rep, 0, sizeof(p->rep));
	p->src.snap_fail = true;
	start_receiver(p, 0, 0);
	converge(p, 1000 * MS);
	xh_mir_get_stats(p->s, p->now, &ss);
	assert_int_equal(ss.snap_errors, 1);
	assert_true(ss.snapshots >= 2);
	pair_free(p);
}

/* apply fails: nothing is acked, the records come again and are then
 * applied once, in order. */
static void test_apply_error(void **state)
{
	struct pair *p = pair_new(12);
	struct xh_mir_stats rs;
	__u64 last;

	(void)state;
	converge(p, 100 * MS);
	p->rep.fail = 1;
	assert_true(write_one(p, 4, false));
	last = xh_mir_last_seq(p->s);
	xh_mir_flush(p->s, p->now);
	tick(p, 20 * US);
	tick(p, 200 * US);
	assert_false(xh_mir_acked(p->s, last));
	assert_int_not_equal(p->rep.ver[4], p->src.ver[4]);
	converge(p, 100 * MS);
	xh_mir_get_stats(p->r, p->now, &rs);
	assert_int_equal(rs.apply_errors, 1);
	assert_int_equal(p->rep.ver[4], p->src.ver[4]);
	assert_true(xh_mir_acked(p->s, last));
	pair_free(p);
}

/* The receiver vanishes: after the peer timeout the sender stops holding
 * records (a dead standby must not stall the active); when it returns, a
 * snapshot brings it back. */
static void test_peer_lost(void **state)
{
	struct pair *p = pair_new(13);
	struct xh_mir_stats ss;
	unsigned int i;

	(void)state;
	converge(p, 100 * MS);
	p->ab.down = p->ba.down = true;
	for (i = 0; i < 50; i++)
		assert_true(write_one(p, i, false));
	xh_mir_flush(p->s, p->now);
	while (xh_mir_state(p->s) != XH_MIR_S_UNSYNCED &&
	       p->now < T0 + 2000 * MS)
		tick(p, 1 * MS);
	xh_mir_get_stats(p->s, p->now, &ss);
	assert_int_equal(ss.peer_lost, 1);
	assert_int_equal(xh_mir_state(p->s), XH_MIR_S_UNSYNCED);
	/* writes are accepted, not held */
	for (i = 0; i < 5000; i++)
		assert_true(write_one(p, i % NKEYS, i % 7 == 0));
	xh_mir_get_stats(p->s, p->now, &ss);
	assert_int_equal(ss.records_unsynced, 5000);
	assert_int_equal(ss.inflight, 0);
	p->ab.down = p->ba.down = false;
	converge(p, 1000 * MS);
	xh_mir_get_stats(p->s, p->now, &ss);
	assert_int_equal(ss.snapshots, 2);
	pair_free(p);
}

/* With a shared key: frames carry a trailer that is HMAC-SHA256 of the
 * rest, truncated; a wrong key, a flipped byte, a missing or unexpected
 * trailer are each dropped and counted. */
static void test_hmac(void **state)
{
	static const char key[] = "a shared secret";
	struct pair *p = pair_new(14);
	struct xh_mir_stats rs;
	__u8 md[EVP_MAX_MD_SIZE], f[FRAME];
	unsigned int mdlen = 0;
	struct pkt *q;
	size_t len;

	(void)state;
	p->scfg.key = key;
	p->scfg.key_len = sizeof(key) - 1;
	p->rcfg.key = key;
	p->rcfg.key_len = sizeof(key) - 1;
	start_sender(p);
	start_receiver(p, 0, 0);
	workload(p, 2000, 141, 20);
	converge(p, 200 * MS);

	/* the trailer, recomputed independently of the engine */
	assert_true(write_one(p, 1, false));
	xh_mir_flush(p->s, p->now);
	assert_int_equal(p->ab.n, 1);
	q = &p->ab.q[0];
	assert_int_equal(q->buf[6], XH_MIR_F_HMAC);
	assert_int_equal(q->len, 56 + 72 + 16);
	assert_non_null(HMAC(EVP_sha256(), key, sizeof(key) - 1, q->buf,
			     q->len - 16, md, &mdlen));
	assert_int_equal(mdlen, 32);
	assert_memory_equal(q->buf + q->len - 16, md, 16);

	/* a flipped byte anywhere: dropped as hmac (or earlier checks) */
	memcpy(f, q->buf, q->len);
	f[100] ^= 1;
	assert_int_equal(xh_mir_input(p->r, f, q->len, p->now), -EACCES);
	memcpy(f, q->buf, q->len);
	f[q->len - 1] ^= 0x80;
	assert_int_equal(xh_mir_input(p->r, f, q->len, p->now), -EACCES);
	xh_mir_get_stats(p->r, p->now, &rs);
	assert_int_equal(rs.drop[XH_MIR_DROP_HMAC], 2);
	/* no trailer where one is required */
	len = craft(f, XH_MIR_HELLO, ID_S, STREAM, p->sepoch, 0, 1, 1);
	assert_int_equal(xh_mir_input(p->r, f, len, p->now), -EACCES);
	xh_mir_get_stats(p->r, p->now, &rs);
	assert_int_equal(rs.drop[XH_MIR_DROP_AUTH], 1);
	/* the genuine frame still passes */
	assert_int_equal(xh_mir_input(p->r, q->buf, q->len, p->now), 0);
	p->ab.n = 0;

	/* a receiver with another key hears nothing from this sender */
	p->rcfg.key = "another key";
	p->rcfg.key_len = 11;
	start_receiver(p, 0, 0);
	for (int i = 0; i < 100; i++)
		tick(p, 1 * MS);
	xh_mir_get_stats(p->r, p->now, &rs);
	assert_true(rs.drop[XH_MIR_DROP_HMAC] > 0);
	assert_int_equal(rs.frames_rx, 0);
	assert_int_equal(xh_mir_state(p->r), XH_MIR_S_UNSYNCED);
	/* and a receiver without a key refuses signed frames */
	p->rcfg.key = NULL;
	p->rcfg.key_len = 0;
	start_receiver(p, 0, 0);
	for (int i = 0; i < 100; i++)
		tick(p, 1 * MS);
	xh_mir_get_stats(p->r, p->now, &rs);
	assert_true(rs.drop[XH_MIR_DROP_AUTH] > 0);
	assert_int_equal(rs.frames_rx, 0);
	pair_free(p);
}

/* Frames from a peer or for a stream not configured, and malformed ones:
 * dropped, counted by reason, nothing applied or changed. */
static void test_bad_frames(void **state)
{
	struct pair *p = pair_new(15);
	struct xh_mir_stats rs, ss;
	__u64 e, x, e2, x2;
	unsigned long applied;
	__u8 f[FRAME], val[VLEN];
	__u32 key = htonl(3);
	size_t len;

	(void)state;
	workload(p, 1000, 151, 0);
	converge(p, 200 * MS);
	assert_int_equal(xh_mir_rx_position(p->r, &e, &x), 0);
	applied = p->rep.applied;
	val_gen(val, 3, 999999);

	/* a DATA frame that would be in order, but from an unknown peer */
	len = craft(f, XH_MIR_DATA, ID_S + 1, STREAM, p->sepoch, 0, x, x);
	len = craft_rec(f, len, XH_MIR_OP_PUT, &key, 4, val, VLEN);
	assert_int_equal(xh_mir_input(p->r, f, len, p->now), -EPERM);
	/* for another stream */
	len = craft(f, XH_MIR_DATA, ID_S, STREAM + 1, p->sepoch, 0, x, x);
	len = craft_rec(f, len, XH_MIR_OP_PUT, &key, 4, val, VLEN);
	assert_int_equal(xh_mir_input(p->r, f, len, p->now), -EPERM);
	/* bad magic, version, length, type for the role */
	len = craft(f, XH_MIR_DATA, ID_S, STREAM, p->sepoch, 0, x, x);
	len = craft_rec(f, len, XH_MIR_OP_PUT, &key, 4, val, VLEN);
	f[0] ^= 0xff;
	assert_int_equal(xh_mir_input(p->r, f, len, p->now), -EBADMSG);
	f[0] ^= 0xff;
	f[4] = 2;
	assert_int_equal(xh_mir_input(p->r, f, len, p->now), -EBADMSG);
	f[4] = 1;
	assert_int_equal(xh_mir_input(p->r, f, len - 1, p->now), -EBADMSG);
	assert_int_equal(xh_mir_input(p->r, f, 55, p->now), -EBADMSG);
	f[5] = XH_MIR_ACK;
	assert_int_equal(xh_mir_input(p->r, f, len, p->now), -EPROTO);
	f[5] = 9;
	assert_int_equal(xh_mir_input(p->r, f, len, p->now), -EPROTO);
	f[5] = XH_MIR_DATA;
	/* records: a key too long, a value past the end, a bad op, nrec
	 * larger than what follows, bytes left over */
	f[57] = XH_MIR_KEY_MAX + 1;
	assert_int_equal(xh_mir_input(p->r, f, len, p->now), -EBADMSG);
	f[57] = 4;
	f[58] = 0xff;
	assert_int_equal(xh_mir_input(p->r, f, len, p->now), -EBADMSG);
	f[58] = 0;
	f[56] = 9;
	assert_int_equal(xh_mir_input(p->r, f, len, p->now), -EBADMSG);
	f[56] = XH_MIR_OP_PUT;
	f[11] = 2;				/* nrec 2 */
	assert_int_equal(xh_mir_input(p->r, f, len, p->now), -EBADMSG);
	f[11] = 1;
	f[9] = len + 1;				/* one stray byte */
	f[len] = 0;
	assert_int_equal(xh_mir_input(p->r, f, len + 1, p->now), -EBADMSG);
	f[9] = len;
	xh_mir_get_stats(p->r, p->now, &rs);
	assert_int_equal(rs.drop[XH_MIR_DROP_PEER], 1);
	assert_int_equal(rs.drop[XH_MIR_DROP_STREAM], 1);
	assert_int_equal(rs.drop[XH_MIR_DROP_MAGIC], 1);
	assert_int_equal(rs.drop[XH_MIR_DROP_VERSION], 1);
	assert_int_equal(rs.drop[XH_MIR_DROP_LENGTH], 1);
	assert_int_equal(rs.drop[XH_MIR_DROP_SHORT], 1);
	assert_int_equal(rs.drop[XH_MIR_DROP_TYPE], 2);
	assert_int_equal(rs.drop[XH_MIR_DROP_MALFORMED], 5);
	assert_int_equal(p->rep.applied, applied);
	assert_int_equal(xh_mir_rx_position(p->r, &e2, &x2), 0);
	assert_int_equal(x2, x);
	/* the same frame, well formed and from the sender: applied (the
	 * engine does not know the model; it checks the seq) */
	assert_int_equal(xh_mir_input(p->r, f, len, p->now), 0);
	assert_int_equal(p->rep.applied, applied + 1);
	assert_int_equal(p->rep.ver[3], 999999);

	/* the sender: acks from an unknown peer, of another epoch of ours,
	 * or of seqs never sent */
	len = craft(f, XH_MIR_ACK, ID_R + 1, STREAM, p->repoch, p->sepoch,
		    1, 0);
	assert_int_equal(xh_mir_input(p->s, f, len, p->now), -EPERM);
	len = craft(f, XH_MIR_ACK, ID_R, STREAM, p->repoch, p->sepoch - 1,
		    1, 0);
	assert_int_equal(xh_mir_input(p->s, f, len, p->now), -ESTALE);
	len = craft(f, XH_MIR_ACK, ID_R, STREAM, p->repoch, p->sepoch,
		    xh_mir_last_seq(p->s) + 100, 0);
	assert_int_equal(xh_mir_input(p->s, f, len, p->now), -EINVAL);
	len = craft(f, XH_MIR_DATA, ID_R, STREAM, p->repoch, 0, 1, 1);
	assert_int_equal(xh_mir_input(p->s, f, len, p->now), -EPROTO);
	xh_mir_get_stats(p->s, p->now, &ss);
	assert_int_equal(ss.drop[XH_MIR_DROP_PEER], 1);
	assert_int_equal(ss.drop[XH_MIR_DROP_STALE], 1);
	assert_int_equal(ss.drop[XH_MIR_DROP_BAD_ACK], 1);
	assert_int_equal(ss.drop[XH_MIR_DROP_TYPE], 1);
	assert_int_equal(ss.snapshots, 1);
	/* a SYNC_REQ from an unknown peer starts no snapshot */
	len = craft(f, XH_MIR_SYNC_REQ, ID_R + 1, STREAM, p->repoch + 1, 0,
		    1, 0);
	assert_int_equal(xh_mir_input(p->s, f, len, p->now), -EPERM);
	xh_mir_get_stats(p->s, p->now, &ss);
	assert_int_equal(ss.snapshots, 1);
	assert_string_equal(xh_mir_drop_name(XH_MIR_DROP_HMAC), "hmac");
	assert_string_equal(xh_mir_drop_name(XH_MIR_DROP_MAX), "?");
	assert_string_equal(xh_mir_state_name(XH_MIR_S_SNAP), "snapshot");
	pair_free(p);
}

/* A transport that takes only part of a batch: the rest goes later, in
 * order, with no retransmission needed. */
static void test_xmit_short(void **state)
{
	struct pair *p = pair_new(16);
	struct xh_mir_stats ss;

	(void)state;
	converge(p, 100 * MS);
	p->ab.max_take = 3;
	workload(p, 3000, 161, 20);
	converge(p, 500 * MS);
	xh_mir_get_stats(p->s, p->now, &ss);
	assert_true(ss.xmit_short > 0);
	assert_int_equal(ss.timeouts, 0);
	pair_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire),
		cmocka_unit_test(test_packing),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_acks),
		cmocka_unit_test(test_retransmit),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_receiver_restart),
		cmocka_unit_test(test_sender_restart),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_snap_error),
		cmocka_unit_test(test_apply_error),
		cmocka_unit_test(test_peer_lost),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_xmit_short),
	};

	return cmocka_run_group_tests_name("mirror", tests, NULL, NULL);
}
