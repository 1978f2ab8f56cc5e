// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * mirror.c - the replication engine of the state mirror (mirror.h): the
 * sender's window, retransmission and snapshots, the receiver's in-order
 * apply, reorder buffer, acks and resync requests, and the frame checks
 * both share. Pure: time comes in, frames go out through a callback.
 *
 * Reliability is selective repeat: cumulative acks with SACK blocks of
 * what the receiver holds out of order, loss detected by time as in RACK
 * (RFC 8985) with a D-SACK-like bit widening the reordering allowance,
 * and a per-frame retransmission timeout (RFC 6298) for the rest.
 *
 * Memory is taken once in xh_mir_new(): the sender packs records straight
 * into the frame buffers of its window ring (a put is a bounds check and
 * two memcpy), the receiver hands apply pointers into the frames it was
 * given, so nothing is allocated or copied per record on the way.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "log.h"
#include "mirror.h"

#define HDR_LEN		sizeof(struct xh_mir_hdr)
#define REC_HDR_LEN	sizeof(struct xh_mir_rec_hdr)
#define TX_BATCH	64	/* frames per xmit call */
#define CTL_BUFS	8	/* control frames built per xmit call */
#define SACK_LEN	sizeof(struct xh_mir_sack)
#define CTL_LEN		(HDR_LEN + XH_MIR_SACK_MAX * SACK_LEN + \
			 XH_MIR_HMAC_LEN)
#define SNAP_BATCH	256	/* records asked of the snapshot callback */
#define NEVER		UINT64_MAX

#define DEF_WINDOW	1024
#define DEF_REORDER	1024	/* as the window: a loss stalls no more */
#define DEF_APPLY_BATCH	1024
#define DEF_ACK_FRAMES	16
#define DEF_ACK_DELAY	100000ULL		/* 100 us */
#define DEF_FLUSH	50000ULL		/* 50 us */
#define DEF_RTO_INIT	20000000ULL		/* 20 ms */
#define DEF_RTO_MIN	2000000ULL		/* 2 ms */
#define DEF_RTO_MAX	1000000000ULL		/* 1 s */
#define DEF_HELLO	100000000ULL		/* 100 ms */
#define DEF_PEER_TMO	3000000000ULL		/* 3 s */

/* A frame of the sender's window. */
struct wframe {
	__u64 seq;		/* its first record */
	__u64 end;		/* seq after its last record */
	__u64 born_ns;		/* its first record was queued: lag */
	__u64 tx_ns;		/* last handed to xmit; 0: never */
	__u32 len;
	__u16 nrec;
	__u16 tx_count;		/* transmissions: RTT sampled only at 1 */
	__u32 sack_gen;		/* the receiver holds it, if this is the
				 * latest ack's generation */
	__u8 *buf;
};

/* A frame the receiver holds out of order. */
struct oframe {
	__u64 seq;
	__u64 end;
	__u32 len;
	__u32 pad;
	__u8 *buf;
};

/* What a failed apply rolls the receiver back to. */
struct rx_pos {
	__u64 expected;
	__u64 peer_epoch;
	enum xh_mir_state state;
};

struct xh_mirror {
	struct xh_mir_cfg cfg;		/* defaults filled in; key not kept */
	EVP_MAC_CTX *mac;		/* keyed once; re-inited per frame */
	__u32 mac_len;			/* 0 or XH_MIR_HMAC_LEN */
	enum xh_mir_state state;
	struct xh_mir_stats st;

	/* Control frames and retransmissions for the next xmit call; new
	 * data frames are taken from the window behind them. */
	struct iovec txq[TX_BATCH];
	unsigned int ntxq;
	__u8 ctl[CTL_BUFS][CTL_LEN];
	unsigned int nctl;

	/* sender: slots [tail, snd) sent, [snd, head) closed and not yet
	 * sent, head the open frame when open; counters run freely */
	struct wframe *win;
	__u32 wmask;
	__u32 tail, snd, head;
	bool open;
	__u64 next_seq;			/* seq of the next record */
	__u64 una;			/* cumulative ack: oldest seq we hold */
	__u64 ack_seq;			/* below it: applied (xh_mir_ack_seq) */
	__u64 rx_epoch;			/* the receiver's epoch, as last heard */
	__u64 served_req;		/* its SYNC_REQ our snapshot answers */
	bool snap_iter;			/* the source is being iterated */
	bool snap_restart;		/* next callback starts over */
	__u64 snap_end;			/* seq of SNAP_END once queued */
	__u64 srtt, rttvar, rto;
	__u32 sack_gen;			/* of the latest ack */
	__u64 sack_hi;			/* its highest block end; 0: none */
	/* RACK: the latest transmission known delivered, its frame's end
	 * and round trip; the allowance for reordering in srtt/4 steps */
	__u64 rack_ts, rack_end, rack_rtt;
	__u64 reo_due;			/* a loss may be declared then */
	unsigned int reo_steps;
	__u64 reo_fr;			/* fast_retransmits at the last step */
	__u64 rtx_due;			/* no retransmission due before */
	__u64 progress_ns;		/* the window last moved */
	__u64 blocked_ns;		/* the transport refused data; 0: no */
	__u64 hello_due;
	struct xh_mir_rec *snap_recs;

	/* receiver */
	__u64 peer_epoch;		/* the sender's epoch we follow */
	__u64 expected;			/* next seq to apply */
	__u64 req;			/* our current SYNC_REQ number */
	__u64 sync_sent_ns;		/* last SYNC_REQ; 0: none yet */
	__u64 sync_due;
	/* Out-of-order slots: held ones indexed by seq in ord, free ones
	 * in freel, and drained ones (their records in the pending batch
	 * point into them) in drain until the batch is applied. */
	struct oframe *oo;
	unsigned int noo;
	__u32 *ord, *freel, *drain;
	unsigned int nord, nfree, ndrain;
	struct xh_mir_rec *recs;	/* the pending apply batch */
	unsigned int nrecs, recs_cap;
	struct rx_pos batch;		/* where the pending batch started */
	bool batch_failed;		/* drop the rest of this input burst */
	bool end_pending;		/* SNAP_END is in the pending batch */
	bool ack_now;
	bool dup_seen;			/* since the last ack: XH_MIR_F_DUP */
	unsigned int unacked;		/* frames applied since the last ack */
	__u64 ack_due;			/* delayed ack; 0: none */

	__u8 *bufs;			/* every frame buffer, one block */
};

static const char *const drop_names[XH_MIR_DROP_MAX] = {
	[XH_MIR_DROP_SHORT]	= "short",
	[XH_MIR_DROP_MAGIC]	= "magic",
	[XH_MIR_DROP_VERSION]	= "version",
	[XH_MIR_DROP_LENGTH]	= "length",
	[XH_MIR_DROP_TYPE]	= "type",
	[XH_MIR_DROP_PEER]	= "peer",
	[XH_MIR_DROP_STREAM]	= "stream",
	[XH_MIR_DROP_AUTH]	= "auth",
	[XH_MIR_DROP_HMAC]	= "hmac",
	[XH_MIR_DROP_MALFORMED]	= "malformed",
	[XH_MIR_DROP_STALE]	= "stale",
	[XH_MIR_DROP_DUP]	= "dup",
	[XH_MIR_DROP_OOO_FULL]	= "ooo_full",
	[XH_MIR_DROP_UNSYNCED]	= "unsynced",
	[XH_MIR_DROP_BAD_ACK]	= "bad_ack",
	[XH_MIR_DROP_APPLY]	= "apply",
};

static const int drop_errno[XH_MIR_DROP_MAX] = {
	[XH_MIR_DROP_SHORT]	= -EBADMSG,
	[XH_MIR_DROP_MAGIC]	= -EBADMSG,
	[XH_MIR_DROP_VERSION]	= -EBADMSG,
	[XH_MIR_DROP_LENGTH]	= -EBADMSG,
	[XH_MIR_DROP_TYPE]	= -EPROTO,
	[XH_MIR_DROP_PEER]	= -EPERM,
	[XH_MIR_DROP_STREAM]	= -EPERM,
	[XH_MIR_DROP_AUTH]	= -EACCES,
	[XH_MIR_DROP_HMAC]	= -EACCES,
	[XH_MIR_DROP_MALFORMED]	= -EBADMSG,
	[XH_MIR_DROP_STALE]	= -ESTALE,
	[XH_MIR_DROP_DUP]	= -EALREADY,
	[XH_MIR_DROP_OOO_FULL]	= -ENOBUFS,
	[XH_MIR_DROP_UNSYNCED]	= -EAGAIN,
	[XH_MIR_DROP_BAD_ACK]	= -EINVAL,
	[XH_MIR_DROP_APPLY]	= -ECANCELED,
};

static const char *const state_names[] = {
	[XH_MIR_S_UNSYNCED]	= "unsynced",
	[XH_MIR_S_SNAP]		= "snapshot",
	[XH_MIR_S_SYNCED]	= "synced",
};

const char *xh_mir_drop_name(unsigned int reason)
{
	return reason < XH_MIR_DROP_MAX ? drop_names[reason] : "?";
}

const char *xh_mir_state_name(unsigned int state)
{
	return state <= XH_MIR_S_SYNCED ? state_names[state] : "?";
}

static __u64 min_u64(__u64 a, __u64 b)
{
	return a < b ? a : b;
}

static __u64 max_u64(__u64 a, __u64 b)
{
	return a > b ? a : b;
}

static int drop(struct xh_mirror *m, enum xh_mir_drop reason)
{
	m->st.drop[reason]++;
	return drop_errno[reason];
}

/* ---- frames: header, HMAC, transmit ---------------------------------- */

static void hdr_write(const struct xh_mirror *m, void *buf, __u8 type,
		      __u8 flags, __u32 len, __u16 nrec, __u64 ref_epoch,
		      __u64 seq, __u64 base)
{
	struct xh_mir_hdr h = {
		.magic = htonl(XH_MIR_MAGIC),
		.version = XH_MIR_VERSION,
		.type = type,
		.flags = flags | (m->mac_len ? XH_MIR_F_HMAC : 0),
		.len = htons(len),
		.nrec = htons(nrec),
		.stream = htonl(m->cfg.stream),
		.peer = htonl(m->cfg.self_id),
		.epoch = htobe64(m->cfg.epoch),
		.ref_epoch = htobe64(ref_epoch),
		.seq = htobe64(seq),
		.base = htobe64(base),
	};

	memcpy(buf, &h, sizeof(h));
}

static int mac_of(struct xh_mirror *m, const void *data, size_t len,
		  __u8 out[EVP_MAX_MD_SIZE])
{
	size_t outl = 0;

	/* init without a key restarts with the key set in xh_mir_new() */
	if (!EVP_MAC_init(m->mac, NULL, 0, NULL) ||
	    !EVP_MAC_update(m->mac, data, len) ||
	    !EVP_MAC_final(m->mac, out, &outl, EVP_MAX_MD_SIZE) ||
	    outl < XH_MIR_HMAC_LEN)
		return -EIO;
	return 0;
}

/* Append the trailer of a frame whose header already counts it. */
static void seal(struct xh_mirror *m, __u8 *buf, __u32 len)
{
	__u8 md[EVP_MAX_MD_SIZE];

	if (!m->mac_len)
		return;
	/* libcrypto failing on a keyed SHA-256 means no memory: an unsigned
	 * frame is dropped by the peer, counted there, retransmitted here */
	if (mac_of(m, buf, len - XH_MIR_HMAC_LEN, md))
		memset(md, 0, sizeof(md));
	memcpy(buf + len - XH_MIR_HMAC_LEN, md, XH_MIR_HMAC_LEN);
}

static struct wframe *wf(const struct xh_mirror *m, __u32 i)
{
	return &m->win[i & m->wmask];
}

/*
 * Hand the queued control frames and retransmissions, then the data frames
 * never sent, to the transport, TX_BATCH at a time. What it does not take
 * of the new data stays for later (blocked_ns); control frames not taken
 * are rebuilt by their timers, retransmissions retried at their timeout.
 */
static void tx_kick(struct xh_mirror *m, __u64 now)
{
	struct iovec iov[TX_BATCH];

	for (;;) {
		unsigned int n = m->ntxq, nq = m->ntxq, nnew = 0, i;
		int ret;

		memcpy(iov, m->txq, nq * sizeof(iov[0]));
		while (n < TX_BATCH && m->snd + nnew != m->head) {
			struct wframe *f = wf(m, m->snd + nnew);

			iov[n].iov_base = f->buf;
			iov[n].iov_len = f->len;
			n++;
			nnew++;
		}
		if (!n)
			return;
		ret = m->cfg.xmit(m->cfg.arg, iov, n);
		if (ret < 0)
			ret = 0;
		if ((unsigned int)ret > n)
			ret = n;
		m->ntxq = 0;
		m->nctl = 0;
		if (ret) {
			m->hello_due = now + m->cfg.hello_ns;
			/* the peer timeout runs from the first frame in flight */
			if (m->tail == m->snd && nnew)
				m->progress_ns = now;
		}
		for (i = nq; i < (unsigned int)ret; i++) {
			struct wframe *f = wf(m, m->snd);

			f->tx_ns = now;
			f->tx_count = 1;
			m->st.frames_sent++;
			m->st.bytes_sent += f->len;
			m->rtx_due = min_u64(m->rtx_due, now + m->rto);
			m->snd++;
		}
		if ((unsigned int)ret < n) {
			m->st.xmit_short += n - ret;
			m->blocked_ns = now ? now : 1;
			return;
		}
		m->blocked_ns = 0;
		if (m->snd == m->head)
			return;
	}
}

static void txq_add(struct xh_mirror *m, void *buf, __u32 len, __u64 now)
{
	if (m->ntxq == TX_BATCH)
		tx_kick(m, now);
	m->txq[m->ntxq].iov_base = buf;
	m->txq[m->ntxq].iov_len = len;
	m->ntxq++;
}

/* A control frame; ACK carries nsack blocks. */
static void ctl_send(struct xh_mirror *m, __u8 type, __u8 flags,
		     __u64 ref_epoch, __u64 seq, __u64 base,
		     const struct xh_mir_sack *sack, unsigned int nsack,
		     __u64 now)
{
	__u32 len = HDR_LEN + nsack * SACK_LEN + m->mac_len;
	__u8 *buf;

	if (m->nctl == CTL_BUFS || m->ntxq == TX_BATCH)
		tx_kick(m, now);
	buf = m->ctl[m->nctl++];
	hdr_write(m, buf, type, flags, len, nsack, ref_epoch, seq, base);
	if (nsack)
		memcpy(buf + HDR_LEN, sack, nsack * SACK_LEN);
	seal(m, buf, len);
	txq_add(m, buf, len, now);
}

/* ---- sender ----------------------------------------------------------- */

static __u32 win_used(const struct xh_mirror *m)
{
	return m->head - m->tail + m->open;
}

/* Oldest seq we can still send: what a receiver may expect at least. */
static __u64 tx_base(const struct xh_mirror *m)
{
	return m->una;
}

static void open_frame(struct xh_mirror *m, __u64 now)
{
	struct wframe *f = wf(m, m->head);

	f->seq = m->next_seq;
	f->end = m->next_seq;
	f->born_ns = now;
	f->tx_ns = 0;
	f->tx_count = 0;
	f->sack_gen = m->sack_gen - 1;
	f->nrec = 0;
	f->len = HDR_LEN;
	m->open = true;
}

static void close_frame(struct xh_mirror *m, __u64 now)
{
	struct wframe *f = wf(m, m->head);

	f->len += m->mac_len;
	hdr_write(m, f->buf, XH_MIR_DATA, 0, f->len, f->nrec, 0, f->seq,
		  tx_base(m));
	seal(m, f->buf, f->len);
	m->open = false;
	m->head++;
	if (m->head - m->snd >= TX_BATCH && !m->blocked_ns)
		tx_kick(m, now);
}

/* Pack one record into the open frame, closing it and opening the next
 * as needed. -EAGAIN when that needs a slot the window does not have. */
static int append(struct xh_mirror *m, __u8 op, const void *key, __u8 klen,
		  const void *val, __u16 vlen, __u64 now)
{
	__u32 need = REC_HDR_LEN + klen + vlen;
	struct xh_mir_rec_hdr rh = { .op = op, .klen = klen,
				     .vlen = htons(vlen) };
	struct wframe *f;
	__u8 *p;

	if (m->open &&
	    wf(m, m->head)->len + need + m->mac_len > m->cfg.frame_len)
		close_frame(m, now);
	if (!m->open) {
		if (m->head - m->tail > m->wmask)
			return -EAGAIN;
		open_frame(m, now);
	}
	f = wf(m, m->head);
	p = f->buf + f->len;
	memcpy(p, &rh, sizeof(rh));
	if (klen)
		memcpy(p + REC_HDR_LEN, key, klen);
	if (vlen)
		memcpy(p + REC_HDR_LEN + klen, val, vlen);
	f->len += need;
	f->nrec++;
	f->end++;
	m->next_seq++;
	return 0;
}

static int append_marker(struct xh_mirror *m, __u8 op, __u64 now)
{
	struct xh_mir_snap s = {
		.rx_epoch = htobe64(m->rx_epoch),
		.req = htobe64(m->served_req),
	};

	return append(m, op, NULL, 0, &s, sizeof(s), now);
}

/* Forget every frame: the receiver is gone or a snapshot supersedes them
 * (it reads the source, which holds their effect already). */
static void win_drop(struct xh_mirror *m, __u64 now)
{
	/* queued retransmissions point into the slots about to be reused */
	if (m->ntxq)
		tx_kick(m, now);
	m->open = false;
	m->tail = m->snd = m->head;
	m->una = m->next_seq;
	m->rtx_due = NEVER;
	m->reo_due = NEVER;
	m->sack_hi = 0;
	m->blocked_ns = 0;
	m->snap_iter = false;
	m->snap_end = 0;
}

static void go_idle(struct xh_mirror *m, __u64 now)
{
	win_drop(m, now);
	m->state = XH_MIR_S_UNSYNCED;
}

/*
 * Pull records from the source while the window has room, always keeping
 * one slot for SNAP_END (each record needs at most one new frame). Called
 * whenever acks free room, until the iteration ends.
 */
static void snap_fill(struct xh_mirror *m, __u64 now)
{
	while (m->state == XH_MIR_S_SNAP && m->snap_iter) {
		__u32 avail = m->wmask + 1 - win_used(m);
		unsigned int max, i;
		int n;

		if (avail < 2)
			break;
		max = avail - 1 < SNAP_BATCH ? avail - 1 : SNAP_BATCH;
		n = m->cfg.snap ? m->cfg.snap(m->cfg.arg, m->snap_restart,
					      m->snap_recs, max) : 0;
		m->snap_restart = false;
		if (n < 0 || (unsigned int)n > max)
			goto fail;
		for (i = 0; i < (unsigned int)n; i++) {
			const struct xh_mir_rec *r = &m->snap_recs[i];

			if (r->op != XH_MIR_OP_PUT || !r->klen ||
			    r->klen > XH_MIR_KEY_MAX ||
			    r->vlen > XH_MIR_VAL_MAX)
				goto fail;
			if (append(m, XH_MIR_OP_PUT, r->key, r->klen, r->val,
				   r->vlen, now))
				goto fail;
		}
		m->st.snap_records += n;
		if (!n) {
			m->snap_end = m->next_seq;
			if (append_marker(m, XH_MIR_OP_SNAP_END, now))
				goto fail;
			m->snap_iter = false;
		}
	}
	/* a snapshot's frames go out as they fill, not after flush_ns */
	if (m->state == XH_MIR_S_SNAP && m->open)
		close_frame(m, now);
	return;
fail:
	m->st.snap_errors++;
	pr_debug("mirror %u: snapshot callback failed or returned a bad record; waiting for a new request\n",
		 m->cfg.stream);
	go_idle(m, now);
}

static void snap_start(struct xh_mirror *m, __u64 now)
{
	win_drop(m, now);
	m->state = XH_MIR_S_SNAP;
	m->st.snapshots++;
	m->snap_iter = true;
	m->snap_restart = true;
	/* the window is empty: BEGIN opens a frame of its own, where a
	 * receiver waiting for it looks (first record) */
	append_marker(m, XH_MIR_OP_SNAP_BEGIN, now);
	snap_fill(m, now);
}

int xh_mir_put(struct xh_mirror *m, const void *key, unsigned int klen,
	       const void *val, unsigned int vlen, __u64 now)
{
	int err;

	if (m->cfg.role != XH_MIR_SENDER || !klen || klen > XH_MIR_KEY_MAX ||
	    vlen > XH_MIR_VAL_MAX || !key || (vlen && !val))
		return -EINVAL;
	if (m->state == XH_MIR_S_UNSYNCED) {
		/* nobody to send to: the next snapshot carries it */
		m->next_seq++;
		m->una = m->next_seq;
		m->st.records++;
		m->st.records_unsynced++;
		return 0;
	}
	err = append(m, XH_MIR_OP_PUT, key, klen, val, vlen, now);
	if (err) {
		m->st.window_full++;
		return err;
	}
	m->st.records++;
	return 0;
}

int xh_mir_del(struct xh_mirror *m, const void *key, unsigned int klen,
	       __u64 now)
{
	int err;

	if (m->cfg.role != XH_MIR_SENDER || !klen || klen > XH_MIR_KEY_MAX ||
	    !key)
		return -EINVAL;
	if (m->state == XH_MIR_S_UNSYNCED) {
		m->next_seq++;
		m->una = m->next_seq;
		m->st.records++;
		m->st.records_unsynced++;
		return 0;
	}
	err = append(m, XH_MIR_OP_DEL, key, klen, NULL, 0, now);
	if (err) {
		m->st.window_full++;
		return err;
	}
	m->st.records++;
	return 0;
}

__u64 xh_mir_last_seq(const struct xh_mirror *m)
{
	return m->next_seq - 1;
}

__u64 xh_mir_ack_seq(const struct xh_mirror *m)
{
	return m->ack_seq;
}

bool xh_mir_acked(const struct xh_mirror *m, __u64 seq)
{
	return seq && seq < m->ack_seq;
}

int xh_mir_flush(struct xh_mirror *m, __u64 now)
{
	if (m->cfg.role == XH_MIR_SENDER && m->open)
		close_frame(m, now);
	tx_kick(m, now);
	return 0;
}

static void retransmit(struct xh_mirror *m, struct wframe *f, __u64 now)
{
	txq_add(m, f->buf, f->len, now);
	f->tx_ns = now;
	if (f->tx_count < UINT16_MAX)
		f->tx_count++;
	m->st.retransmits++;
	m->rtx_due = min_u64(m->rtx_due, now + m->rto);
}

/* RFC 6298 §2, with the configured bounds. */
static void rtt_sample(struct xh_mirror *m, __u64 r)
{
	__u64 d;

	if (!m->srtt) {
		m->srtt = r;
		m->rttvar = r / 2;
	} else {
		d = m->srtt > r ? m->srtt - r : r - m->srtt;
		m->rttvar = (3 * m->rttvar + d) / 4;
		m->srtt = (7 * m->srtt + r) / 8;
	}
}

static void rto_reset(struct xh_mirror *m)
{
	__u64 rto = m->srtt ? m->srtt + 4 * m->rttvar : m->cfg.rto_init_ns;

	m->rto = min_u64(max_u64(rto, m->cfg.rto_min_ns), m->cfg.rto_max_ns);
}

static bool sacked(const struct xh_mirror *m, const struct wframe *f)
{
	return f->sack_gen == m->sack_gen;
}

/* A frame the receiver has, as of now, sent once (ambiguity otherwise:
 * RACK ignores retransmissions too): the latest such transmission. */
static void rack_update(struct xh_mirror *m, const struct wframe *f,
			__u64 now)
{
	if (f->tx_count != 1)
		return;
	if (f->tx_ns > m->rack_ts ||
	    (f->tx_ns == m->rack_ts && f->end > m->rack_end)) {
		m->rack_ts = f->tx_ns;
		m->rack_end = f->end;
		m->rack_rtt = now - f->tx_ns;
	}
}

/*
 * Loss detection by time (RACK, RFC 8985): a frame sent before one that
 * has since arrived is lost once it is late by more than a reordering
 * allowance beyond that one's round trip; send it again then rather than
 * at its timeout. Only frames below sack_hi (the highest seq the receiver
 * holds) can have been overtaken. A frame sent again carries a new time,
 * so it is not judged again until something sent after it arrives. The
 * allowance starts at a quarter of a round trip and widens a quarter
 * each time the receiver reports a duplicate after a fast retransmit.
 */
static void rack_detect(struct xh_mirror *m, __u64 now)
{
	__u64 rtt = m->srtt ? m->srtt : m->rto;
	__u64 reo = min_u64(rtt, rtt / 4 * m->reo_steps);
	__u32 i;

	m->reo_due = NEVER;
	for (i = m->tail; i != m->snd; i++) {
		struct wframe *f = wf(m, i);
		__u64 due;

		if (f->seq >= m->sack_hi)
			break;
		if (sacked(m, f))
			continue;
		if (f->tx_ns > m->rack_ts ||
		    (f->tx_ns == m->rack_ts && f->end > m->rack_end))
			continue;
		due = f->tx_ns + m->rack_rtt + reo;
		if (now < due) {
			m->reo_due = min_u64(m->reo_due, due);
			continue;
		}
		retransmit(m, f, now);
		m->st.fast_retransmits++;
	}
}

/* The receiver saw a frame twice: if we retransmitted one early since the
 * last widening, wait longer for reordering; narrow again slowly. */
static void rack_dup(struct xh_mirror *m, bool dup)
{
	if (dup && m->st.fast_retransmits != m->reo_fr) {
		if (m->reo_steps < 4)
			m->reo_steps++;
		m->reo_fr = m->st.fast_retransmits;
	} else if (m->st.fast_retransmits - m->reo_fr >= 64) {
		if (m->reo_steps > 1)
			m->reo_steps--;
		m->reo_fr = m->st.fast_retransmits;
	}
}

/* First frame in flight whose records start at or after seq. */
static __u32 win_find(const struct xh_mirror *m, __u64 seq)
{
	__u32 lo = m->tail, hi = m->snd;

	while (lo != hi) {
		__u32 mid = lo + (hi - lo) / 2;

		if (wf(m, mid)->seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Mark what the SACK blocks of the latest ack cover; earlier marks lapse
 * (a new generation), so frames a receiver stopped holding are sent again.
 * Returns the end of the highest block, 0 if none; -1 if malformed.
 */
static __s64 sack_mark(struct xh_mirror *m, const __u8 *p, unsigned int n,
		       __u64 cum, __u64 sent_end, __u64 now)
{
	__u64 prev = cum, start, end, newest = 0;
	__u32 gen = m->sack_gen + 1;
	unsigned int b;
	__u32 i;

	for (b = 0; b < n; b++) {
		struct xh_mir_sack blk;

		memcpy(&blk, p + b * SACK_LEN, sizeof(blk));
		start = be64toh(blk.start);
		end = be64toh(blk.end);
		if (start <= prev || end <= start || end > sent_end)
			return -1;
		prev = end;
		for (i = win_find(m, start); i != m->snd; i++) {
			struct wframe *f = wf(m, i);

			if (f->end > end)
				break;
			/* newly arrived and sent once: an RTT sample */
			if (!sacked(m, f) && f->tx_count == 1)
				newest = max_u64(newest, f->tx_ns);
			if (!sacked(m, f))
				rack_update(m, f, now);
			f->sack_gen = gen;
		}
	}
	m->sack_gen = gen;
	if (newest)
		rtt_sample(m, now - newest);
	return n ? (__s64)prev : 0;
}

static void set_ack_seq(struct xh_mirror *m, __u64 seq, __u64 now)
{
	if (seq <= m->ack_seq)
		return;
	m->ack_seq = seq;
	if (m->cfg.acked)
		m->cfg.acked(m->cfg.arg, seq, now);
}

static int on_ack(struct xh_mirror *m, const struct xh_mir_hdr *h,
		  const __u8 *frame, __u64 now)
{
	__u64 epoch = be64toh(h->epoch), cum = be64toh(h->seq);
	__u64 sent_end, sample = 0;
	bool sampled = false;
	__s64 hi;

	/* an ack of an earlier incarnation of ours, or from one of the
	 * receiver's that has since restarted */
	if (be64toh(h->ref_epoch) != m->cfg.epoch || epoch < m->rx_epoch)
		return drop(m, XH_MIR_DROP_STALE);
	sent_end = m->tail == m->snd ? m->una : wf(m, m->snd - 1)->end;
	if (cum > sent_end || cum < 1)
		return drop(m, XH_MIR_DROP_BAD_ACK);
	m->rx_epoch = epoch;
	m->st.ctl_rx++;

	if (m->state == XH_MIR_S_UNSYNCED) {
		/* the receiver holds everything we ever counted (we lost
		 * it for a while but dropped no record): carry on */
		if (cum == m->next_seq && !win_used(m)) {
			m->state = XH_MIR_S_SYNCED;
			set_ack_seq(m, cum, now);
		}
		return 0;
	}
	if (cum > m->una) {
		/* no queued retransmission may point at a slot freed here */
		if (m->ntxq)
			tx_kick(m, now);
		while (m->tail != m->snd && wf(m, m->tail)->end <= cum) {
			struct wframe *f = wf(m, m->tail);

			/* Karn: a frame sent twice gives no sample; nor
			 * one held since an earlier ack (it waited for a
			 * hole, not for the path) */
			if (f->tx_count == 1 && !sacked(m, f)) {
				sample = now - f->tx_ns;
				sampled = true;
				rack_update(m, f, now);
			}
			m->tail++;
		}
		m->st.acked += cum - m->una;
		m->una = cum;
		m->progress_ns = now;
		if (sampled)
			rtt_sample(m, sample);
		rto_reset(m);
		if (m->tail == m->snd)
			m->rtx_due = NEVER;
		if (m->state == XH_MIR_S_SNAP && m->snap_end &&
		    cum > m->snap_end) {
			m->state = XH_MIR_S_SYNCED;
			pr_debug("mirror %u: snapshot acknowledged up to %llu\n",
				 m->cfg.stream, (unsigned long long)cum);
		}
		if (m->state == XH_MIR_S_SYNCED)
			set_ack_seq(m, cum, now);
	}
	/* an older ack, overtaken by a later one, tells old news */
	if (cum == m->una) {
		hi = sack_mark(m, frame + HDR_LEN, ntohs(h->nrec), cum,
			       sent_end, now);
		if (hi < 0) {
			m->st.drop[XH_MIR_DROP_BAD_ACK]++;
			hi = 0;
		}
		m->sack_hi = hi;
		rack_dup(m, h->flags & XH_MIR_F_DUP);
		rack_detect(m, now);
	}
	snap_fill(m, now);
	return 0;
}

static int on_sync_req(struct xh_mirror *m, const struct xh_mir_hdr *h,
		       __u64 now)
{
	__u64 epoch = be64toh(h->epoch), req = be64toh(h->seq);

	if (epoch < m->rx_epoch)
		return drop(m, XH_MIR_DROP_STALE);
	m->st.ctl_rx++;
	/* a repeat of the request our snapshot in flight answers */
	if (epoch == m->rx_epoch && req == m->served_req &&
	    m->state != XH_MIR_S_UNSYNCED)
		return 0;
	m->rx_epoch = epoch;
	m->served_req = req;
	pr_debug("mirror %u: receiver epoch %llu asks for a snapshot (request %llu)\n",
		 m->cfg.stream, (unsigned long long)epoch,
		 (unsigned long long)req);
	snap_start(m, now);
	return 0;
}

static void tx_timer(struct xh_mirror *m, __u64 now)
{
	__u32 i;

	if (m->open && now - wf(m, m->head)->born_ns >= m->cfg.flush_ns)
		close_frame(m, now);
	if (m->tail != m->snd &&
	    now - m->progress_ns >= m->cfg.peer_timeout_ns) {
		m->st.peer_lost++;
		pr_debug("mirror %u: no ack for %llu ms: receiver lost\n",
			 m->cfg.stream,
			 (unsigned long long)(now - m->progress_ns) / 1000000);
		go_idle(m, now);
	}
	if (m->tail != m->snd && now >= m->rtx_due) {
		bool fired = false;
		__u64 due = NEVER;

		/* frames the receiver holds wait for the hole below them */
		for (i = m->tail; i != m->snd; i++) {
			struct wframe *f = wf(m, i);

			if (!sacked(m, f) && now - f->tx_ns >= m->rto) {
				retransmit(m, f, now);
				fired = true;
			}
		}
		if (fired) {
			m->st.timeouts++;
			m->rto = min_u64(m->rto * 2, m->cfg.rto_max_ns);
		}
		for (i = m->tail; i != m->snd; i++)
			if (!sacked(m, wf(m, i)))
				due = min_u64(due, wf(m, i)->tx_ns + m->rto);
		m->rtx_due = due;
	}
	if (now >= m->reo_due)
		rack_detect(m, now);
	snap_fill(m, now);
	if (now >= m->hello_due) {
		ctl_send(m, XH_MIR_HELLO, 0, 0, m->next_seq, tx_base(m), NULL,
			 0, now);
		m->st.hellos++;
		m->hello_due = now + m->cfg.hello_ns;
	}
}

/* ---- receiver --------------------------------------------------------- */

static void sync_req(struct xh_mirror *m, __u64 now)
{
	ctl_send(m, XH_MIR_SYNC_REQ, 0, m->peer_epoch, m->req, 0, NULL, 0,
		 now);
	m->st.sync_reqs++;
	m->sync_sent_ns = now;
	m->sync_due = now + m->cfg.hello_ns;
}

/* Ask again when prompted by a frame, not more often than rto_min. */
static void sync_req_prompted(struct xh_mirror *m, __u64 now)
{
	if (!m->sync_sent_ns || now - m->sync_sent_ns >= m->cfg.rto_min_ns)
		sync_req(m, now);
}

static struct oframe *held(const struct xh_mirror *m, unsigned int i)
{
	return &m->oo[m->ord[i]];
}

static void oo_clear(struct xh_mirror *m)
{
	while (m->nord)
		m->freel[m->nfree++] = m->ord[--m->nord];
}

/* What we hold, as SACK blocks: contiguous frames merged, lowest first. */
static unsigned int sack_build(const struct xh_mirror *m,
			       struct xh_mir_sack *sack)
{
	unsigned int i, n = 0;
	__u64 start = 0, end = 0;

	for (i = 0; i < m->nord; i++) {
		const struct oframe *o = held(m, i);

		if (n && o->seq <= end) {
			end = max_u64(end, o->end);
			continue;
		}
		if (n) {
			sack[n - 1].start = htobe64(start);
			sack[n - 1].end = htobe64(end);
		}
		if (n == XH_MIR_SACK_MAX)
			return n;
		n++;
		start = o->seq;
		end = o->end;
	}
	if (n) {
		sack[n - 1].start = htobe64(start);
		sack[n - 1].end = htobe64(end);
	}
	return n;
}

static void send_ack(struct xh_mirror *m, __u64 now)
{
	struct xh_mir_sack sack[XH_MIR_SACK_MAX];
	unsigned int n = sack_build(m, sack);

	ctl_send(m, XH_MIR_ACK, m->dup_seen ? XH_MIR_F_DUP : 0,
		 m->peer_epoch, m->expected, m->nord ? held(m, 0)->seq : 0,
		 sack, n, now);
	m->dup_seen = false;
	m->st.acks++;
	m->unacked = 0;
	m->ack_due = 0;
	m->ack_now = false;
}

static void batch_mark(struct xh_mirror *m)
{
	m->batch.expected = m->expected;
	m->batch.peer_epoch = m->peer_epoch;
	m->batch.state = m->state;
}

/* Apply the pending batch. On failure everything in it is forgotten and
 * the position rolls back: the sender sends it all again. */
static int rx_apply(struct xh_mirror *m)
{
	int err = 0;

	if (m->nrecs) {
		m->st.apply_calls++;
		err = m->cfg.apply(m->cfg.arg, m->recs, m->nrecs);
	}
	/* the records pointing into drained slots are done with */
	while (m->ndrain)
		m->freel[m->nfree++] = m->drain[--m->ndrain];
	if (err) {
		m->st.apply_errors++;
		m->expected = m->batch.expected;
		m->peer_epoch = m->batch.peer_epoch;
		m->state = m->batch.state;
		m->nrecs = 0;
		m->end_pending = false;
		m->batch_failed = true;
		pr_debug("mirror %u: apply failed (%d); waiting for retransmission from %llu\n",
			 m->cfg.stream, err, (unsigned long long)m->expected);
		return err;
	}
	m->st.applied += m->nrecs;
	m->nrecs = 0;
	if (m->end_pending) {
		m->end_pending = false;
		m->state = XH_MIR_S_SYNCED;
		m->ack_now = true;
	}
	batch_mark(m);
	return 0;
}

/* Lose the thread: the sender restarted, or cannot fill our gap. What is
 * pending is valid up to here and is applied first. */
static void go_unsynced(struct xh_mirror *m, __u64 new_epoch, __u64 now)
{
	rx_apply(m);
	if (new_epoch > m->peer_epoch)
		m->peer_epoch = new_epoch;
	m->state = XH_MIR_S_UNSYNCED;
	m->req++;
	m->st.resyncs++;
	oo_clear(m);
	m->unacked = 0;
	m->ack_due = 0;
	m->ack_now = false;
	batch_mark(m);
	pr_debug("mirror %u: resync (request %llu), sender epoch %llu\n",
		 m->cfg.stream, (unsigned long long)m->req,
		 (unsigned long long)m->peer_epoch);
	sync_req(m, now);
}

/*
 * Check the records of a DATA frame and write them to out[0..nrec). The
 * records must fill the area exactly. -EBADMSG on any violation.
 */
static int parse_recs(const __u8 *p, size_t len, unsigned int nrec,
		      __u64 seq, struct xh_mir_rec *out)
{
	const __u8 *end = p + len;
	unsigned int i;

	for (i = 0; i < nrec; i++) {
		struct xh_mir_rec_hdr rh;
		__u16 vlen;

		if ((size_t)(end - p) < REC_HDR_LEN)
			return -EBADMSG;
		memcpy(&rh, p, sizeof(rh));
		vlen = ntohs(rh.vlen);
		switch (rh.op) {
		case XH_MIR_OP_PUT:
			if (!rh.klen || rh.klen > XH_MIR_KEY_MAX ||
			    vlen > XH_MIR_VAL_MAX)
				return -EBADMSG;
			break;
		case XH_MIR_OP_DEL:
			if (!rh.klen || rh.klen > XH_MIR_KEY_MAX || vlen)
				return -EBADMSG;
			break;
		case XH_MIR_OP_SNAP_BEGIN:
		case XH_MIR_OP_SNAP_END:
			if (rh.klen || vlen != sizeof(struct xh_mir_snap))
				return -EBADMSG;
			break;
		default:
			return -EBADMSG;
		}
		p += REC_HDR_LEN;
		if ((size_t)(end - p) < (size_t)rh.klen + vlen)
			return -EBADMSG;
		out[i].seq = seq + i;
		out[i].op = rh.op;
		out[i].klen = rh.klen;
		out[i].vlen = vlen;
		out[i].key = rh.klen ? p : NULL;
		out[i].val = p + rh.klen;
		p += rh.klen + vlen;
	}
	return p == end ? 0 : -EBADMSG;
}

/* Commit the parsed records from index skip to the pending batch (they
 * sit at recs[nrecs..]) and move the position to end. */
static void commit(struct xh_mirror *m, unsigned int nrec, unsigned int skip,
		   __u64 end)
{
	struct xh_mir_rec *r = m->recs + m->nrecs;
	unsigned int i, n = nrec - skip;

	if (skip)
		memmove(r, r + skip, n * sizeof(*r));
	for (i = 0; i < n; i++) {
		if (r[i].op == XH_MIR_OP_SNAP_END) {
			m->end_pending = true;
		} else if (r[i].op == XH_MIR_OP_SNAP_BEGIN) {
			m->end_pending = false;
			m->state = XH_MIR_S_SNAP;
		}
	}
	m->nrecs += n;
	m->expected = end;
	m->unacked++;
	m->st.frames_rx++;
}

/* Room for nrec more records in the pending batch. */
static int make_room(struct xh_mirror *m, unsigned int nrec)
{
	if (m->nrecs + nrec <= m->recs_cap)
		return 0;
	return rx_apply(m);
}

/* Frames held out of order that the position has reached: apply them.
 * ord is sorted by seq, so they are at its front. */
static void oo_drain(struct xh_mirror *m)
{
	unsigned int i;

	for (i = 0; i < m->nord; i++) {
		struct oframe *o = held(m, i);
		unsigned int nrec;

		if (o->seq > m->expected)
			break;
		if (o->end <= m->expected) {
			m->freel[m->nfree++] = m->ord[i];
			continue;
		}
		nrec = o->end - o->seq;
		if (make_room(m, nrec))
			break;
		/* checked when it was held */
		parse_recs(o->buf + HDR_LEN, o->len - HDR_LEN - m->mac_len,
			   nrec, o->seq, m->recs + m->nrecs);
		commit(m, nrec, m->expected - o->seq, o->end);
		m->drain[m->ndrain++] = m->ord[i];
		m->ack_now = true;	/* a hole filled: tell at once */
	}
	/* a failed apply forgot the slots drained before it: the sender
	 * sends their frames again */
	memmove(m->ord, m->ord + i, (m->nord - i) * sizeof(m->ord[0]));
	m->nord -= i;
}

/* Hold a frame that came early, in seq order (usually at the end). */
static int oo_hold(struct xh_mirror *m, const void *frame, size_t len,
		   __u64 seq, __u64 end)
{
	unsigned int lo = 0, hi = m->nord, slot;
	struct oframe *o;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (held(m, mid)->seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->nord && held(m, lo)->seq == seq) {
		m->dup_seen = true;
		return drop(m, XH_MIR_DROP_DUP);
	}
	if (!m->nfree)
		return drop(m, XH_MIR_DROP_OOO_FULL);
	slot = m->freel[--m->nfree];
	o = &m->oo[slot];
	memcpy(o->buf, frame, len);
	o->seq = seq;
	o->end = end;
	o->len = len;
	memmove(m->ord + lo + 1, m->ord + lo,
		(m->nord - lo) * sizeof(m->ord[0]));
	m->ord[lo] = slot;
	m->nord++;
	m->st.ooo++;
	return 0;
}

static int on_data(struct xh_mirror *m, const struct xh_mir_hdr *h,
		   const __u8 *frame, size_t len, __u64 now)
{
	__u64 epoch = be64toh(h->epoch), seq = be64toh(h->seq);
	__u64 base = be64toh(h->base);
	unsigned int nrec = ntohs(h->nrec);
	struct xh_mir_rec *r;
	__u64 end = seq + nrec;
	int err;

	if (m->batch_failed)
		return drop(m, XH_MIR_DROP_APPLY);
	if (!nrec || !seq || end < seq)
		return drop(m, XH_MIR_DROP_MALFORMED);
	err = make_room(m, nrec);
	if (err)
		return drop(m, XH_MIR_DROP_APPLY);
	r = m->recs + m->nrecs;
	if (parse_recs(frame + HDR_LEN, len - HDR_LEN - m->mac_len, nrec, seq,
		       r))
		return drop(m, XH_MIR_DROP_MALFORMED);

	if (m->state == XH_MIR_S_UNSYNCED) {
		struct xh_mir_snap s;

		if (r->op == XH_MIR_OP_SNAP_BEGIN && epoch >= m->peer_epoch) {
			memcpy(&s, r->val, sizeof(s));
			if (be64toh(s.rx_epoch) == m->cfg.epoch &&
			    be64toh(s.req) == m->req) {
				/* the snapshot we asked for */
				oo_clear(m);
				m->peer_epoch = epoch;
				m->state = XH_MIR_S_SNAP;
				commit(m, nrec, 0, end);
				return 0;
			}
		}
		sync_req_prompted(m, now);
		return drop(m, XH_MIR_DROP_UNSYNCED);
	}
	if (epoch < m->peer_epoch)
		return drop(m, XH_MIR_DROP_STALE);
	if (epoch > m->peer_epoch) {
		/* the sender restarted: its seqs mean nothing to us */
		go_unsynced(m, epoch, now);
		return drop(m, XH_MIR_DROP_UNSYNCED);
	}
	if (end <= m->expected) {
		m->ack_now = true;
		m->dup_seen = true;
		return drop(m, XH_MIR_DROP_DUP);
	}
	if (seq > m->expected) {
		if (base > m->expected) {
			/* the sender no longer holds what we miss */
			go_unsynced(m, 0, now);
			return drop(m, XH_MIR_DROP_UNSYNCED);
		}
		m->ack_now = true;
		return oo_hold(m, frame, len, seq, end);
	}
	commit(m, nrec, m->expected - seq, end);
	oo_drain(m);
	return 0;
}

static int on_hello(struct xh_mirror *m, const struct xh_mir_hdr *h,
		    __u64 now)
{
	__u64 epoch = be64toh(h->epoch), base = be64toh(h->base);

	if (m->state == XH_MIR_S_UNSYNCED) {
		m->st.ctl_rx++;
		sync_req_prompted(m, now);
		return 0;
	}
	if (epoch < m->peer_epoch)
		return drop(m, XH_MIR_DROP_STALE);
	m->st.ctl_rx++;
	if (epoch > m->peer_epoch)
		go_unsynced(m, epoch, now);
	else if (base > m->expected)
		go_unsynced(m, 0, now);
	else
		m->ack_now = true;	/* tells the sender we are here */
	return 0;
}

/* After a burst of input: apply what is pending, then ack as due. */
static int rx_finish(struct xh_mirror *m, __u64 now)
{
	int err = 0;

	if (m->cfg.role == XH_MIR_RECEIVER) {
		err = rx_apply(m);
		m->batch_failed = false;
		if (m->state != XH_MIR_S_UNSYNCED) {
			if (m->ack_now || m->unacked >= m->cfg.ack_frames)
				send_ack(m, now);
			else if (m->unacked && !m->ack_due)
				m->ack_due = now + m->cfg.ack_delay_ns;
		}
	}
	tx_kick(m, now);
	return err;
}

static void rx_timer(struct xh_mirror *m, __u64 now)
{
	if (m->ack_due && now >= m->ack_due && m->state != XH_MIR_S_UNSYNCED)
		send_ack(m, now);
	if (m->state == XH_MIR_S_UNSYNCED && now >= m->sync_due)
		sync_req(m, now);
}

/* ---- both -------------------------------------------------------------- */

/* Checks every frame passes, whatever its type: 0 or a drop reason + 1. */
static int check_frame(struct xh_mirror *m, const void *frame, size_t len,
		       struct xh_mir_hdr *h)
{
	__u8 md[EVP_MAX_MD_SIZE];

	if (len < HDR_LEN)
		return XH_MIR_DROP_SHORT + 1;
	memcpy(h, frame, sizeof(*h));
	if (ntohl(h->magic) != XH_MIR_MAGIC)
		return XH_MIR_DROP_MAGIC + 1;
	if (h->version != XH_MIR_VERSION)
		return XH_MIR_DROP_VERSION + 1;
	if (ntohs(h->len) != len)
		return XH_MIR_DROP_LENGTH + 1;
	if (m->cfg.role == XH_MIR_SENDER ?
	    h->type != XH_MIR_ACK && h->type != XH_MIR_SYNC_REQ :
	    h->type != XH_MIR_DATA && h->type != XH_MIR_HELLO)
		return XH_MIR_DROP_TYPE + 1;
	if (ntohl(h->peer) != m->cfg.peer_id)
		return XH_MIR_DROP_PEER + 1;
	if (ntohl(h->stream) != m->cfg.stream)
		return XH_MIR_DROP_STREAM + 1;
	if (h->flags & ~XH_MIR_F_ALL)
		return XH_MIR_DROP_MALFORMED + 1;
	if (!!(h->flags & XH_MIR_F_HMAC) != !!m->mac_len)
		return XH_MIR_DROP_AUTH + 1;
	if (m->mac_len) {
		if (len < HDR_LEN + XH_MIR_HMAC_LEN ||
		    mac_of(m, frame, len - XH_MIR_HMAC_LEN, md) ||
		    CRYPTO_memcmp(md, (const __u8 *)frame + len -
				  XH_MIR_HMAC_LEN, XH_MIR_HMAC_LEN))
			return XH_MIR_DROP_HMAC + 1;
	}
	if (h->type == XH_MIR_ACK ?
	    ntohs(h->nrec) > XH_MIR_SACK_MAX ||
	    len != HDR_LEN + ntohs(h->nrec) * SACK_LEN + m->mac_len :
	    h->type != XH_MIR_DATA && (h->nrec || len != HDR_LEN + m->mac_len))
		return XH_MIR_DROP_MALFORMED + 1;
	if (!be64toh(h->epoch))
		return XH_MIR_DROP_MALFORMED + 1;
	return 0;
}

static int rx_one(struct xh_mirror *m, const void *frame, size_t len,
		  __u64 now)
{
	struct xh_mir_hdr h;
	int bad = check_frame(m, frame, len, &h);

	if (bad)
		return drop(m, bad - 1);
	switch (h.type) {
	case XH_MIR_ACK:
		return on_ack(m, &h, frame, now);
	case XH_MIR_SYNC_REQ:
		return on_sync_req(m, &h, now);
	case XH_MIR_HELLO:
		return on_hello(m, &h, now);
	default:
		return on_data(m, &h, frame, len, now);
	}
}

int xh_mir_input(struct xh_mirror *m, const void *frame, size_t len,
		 __u64 now)
{
	int err = rx_one(m, frame, len, now);
	int aerr = rx_finish(m, now);

	return err ? err : aerr;
}

int xh_mir_input_batch(struct xh_mirror *m, const struct iovec *frames,
		       unsigned int n, __u64 now)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		rx_one(m, frames[i].iov_base, frames[i].iov_len, now);
	return rx_finish(m, now);
}

int xh_mir_timer(struct xh_mirror *m, __u64 now)
{
	if (m->cfg.role == XH_MIR_SENDER)
		tx_timer(m, now);
	else
		rx_timer(m, now);
	tx_kick(m, now);
	return 0;
}

__u64 xh_mir_next_timer(const struct xh_mirror *m)
{
	__u64 due = NEVER;

	if (m->cfg.role == XH_MIR_RECEIVER) {
		if (m->ack_due && m->state != XH_MIR_S_UNSYNCED)
			due = m->ack_due;
		if (m->state == XH_MIR_S_UNSYNCED)
			due = min_u64(due, m->sync_due);
		return due;
	}
	due = m->hello_due;
	if (m->open)
		due = min_u64(due, wf(m, m->head)->born_ns + m->cfg.flush_ns);
	if (m->snd != m->head)
		due = min_u64(due, m->blocked_ns ?
			      m->blocked_ns + m->cfg.flush_ns :
			      wf(m, m->snd)->born_ns + m->cfg.flush_ns);
	if (m->tail != m->snd) {
		due = min_u64(due, m->rtx_due);
		due = min_u64(due, m->reo_due);
		due = min_u64(due, m->progress_ns + m->cfg.peer_timeout_ns);
	}
	return due;
}

enum xh_mir_state xh_mir_state(const struct xh_mirror *m)
{
	return m->state;
}

int xh_mir_rx_position(const struct xh_mirror *m, __u64 *epoch, __u64 *seq)
{
	if (m->cfg.role != XH_MIR_RECEIVER || m->state != XH_MIR_S_SYNCED)
		return -EAGAIN;
	*epoch = m->peer_epoch;
	*seq = m->expected;
	return 0;
}

void xh_mir_get_stats(const struct xh_mirror *m, __u64 now,
		      struct xh_mir_stats *st)
{
	*st = m->st;
	st->state = m->state;
	st->srtt_ns = m->srtt;
	st->rto_ns = m->rto;
	if (m->cfg.role == XH_MIR_RECEIVER) {
		st->next_seq = m->expected;
		st->peer_epoch = m->peer_epoch;
		return;
	}
	st->next_seq = m->next_seq;
	st->ack_seq = m->ack_seq;
	st->peer_epoch = m->rx_epoch;
	st->inflight = m->next_seq - m->una;
	if (m->tail != m->head)
		st->lag_ns = now - wf(m, m->tail)->born_ns;
	else if (m->open)
		st->lag_ns = now - wf(m, m->head)->born_ns;
}

int xh_mir_peek(const void *frame, size_t len, __u32 *stream,
		bool *to_sender)
{
	struct xh_mir_hdr h;

	if (len < HDR_LEN)
		return -EBADMSG;
	memcpy(&h, frame, sizeof(h));
	if (ntohl(h.magic) != XH_MIR_MAGIC || h.version != XH_MIR_VERSION ||
	    !h.type || h.type >= XH_MIR_TYPE_MAX)
		return -EBADMSG;
	*stream = ntohl(h.stream);
	*to_sender = h.type == XH_MIR_ACK || h.type == XH_MIR_SYNC_REQ;
	return 0;
}

/* ---- setup ----------------------------------------------------------- */

static int mac_new(struct xh_mirror *m, const void *key, unsigned int len)
{
	OSSL_PARAM params[2];
	EVP_MAC *mac;
	int err = -ENOMEM;

	mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	if (!mac)
		goto out;
	m->mac = EVP_MAC_CTX_new(mac);
	if (!m->mac)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(m->mac, key, len, params)) {
		err = -EIO;
		goto out;
	}
	m->mac_len = XH_MIR_HMAC_LEN;
	err = 0;
out:
	EVP_MAC_free(mac);	/* the context holds its own reference */
	if (err)
		pr_warn("mirror: HMAC-SHA256 unavailable from libcrypto\n");
	return err;
}

static void cfg_defaults(struct xh_mir_cfg *c)
{
	if (!c->frame_len)
		c->frame_len = XH_MIR_FRAME_DEFAULT;
	if (!c->window)
		c->window = DEF_WINDOW;
	if (!c->reorder)
		c->reorder = DEF_REORDER;
	if (!c->apply_batch)
		c->apply_batch = DEF_APPLY_BATCH;
	if (!c->ack_frames)
		c->ack_frames = DEF_ACK_FRAMES;
	if (!c->ack_delay_ns)
		c->ack_delay_ns = DEF_ACK_DELAY;
	if (!c->flush_ns)
		c->flush_ns = DEF_FLUSH;
	if (!c->rto_min_ns)
		c->rto_min_ns = DEF_RTO_MIN;
	if (!c->rto_max_ns)
		c->rto_max_ns = max_u64(DEF_RTO_MAX, c->rto_min_ns);
	if (!c->rto_init_ns)
		c->rto_init_ns = min_u64(max_u64(DEF_RTO_INIT, c->rto_min_ns),
					 c->rto_max_ns);
	if (!c->hello_ns)
		c->hello_ns = DEF_HELLO;
	if (!c->peer_timeout_ns)
		c->peer_timeout_ns = DEF_PEER_TMO;
}

static int cfg_check(const struct xh_mir_cfg *c)
{
	const char *bad = NULL;

	if (c->role != XH_MIR_SENDER && c->role != XH_MIR_RECEIVER)
		bad = "role";
	else if (!c->self_id || !c->peer_id)
		bad = "peer ids (0 is reserved)";
	else if (!c->epoch)
		bad = "epoch (0 is reserved)";
	else if (c->frame_len < XH_MIR_FRAME_MIN ||
		 c->frame_len > XH_MIR_FRAME_MAX)
		bad = "frame length";
	else if (c->window < 2 || c->window > 65536 ||
		 (c->window & (c->window - 1)))
		bad = "window (a power of 2, 2..65536)";
	else if (c->reorder > 65536)
		bad = "reorder (at most 65536 frames)";
	else if (c->rto_min_ns > c->rto_init_ns ||
		 c->rto_init_ns > c->rto_max_ns)
		bad = "timeouts (rto_min <= rto_init <= rto_max)";
	else if (c->key && (!c->key_len || c->key_len > XH_MIR_KEY_LEN_MAX))
		bad = "HMAC key length (1..64 bytes)";
	else if (!c->xmit || (c->role == XH_MIR_RECEIVER && !c->apply))
		bad = "callbacks (xmit, and apply for a receiver)";
	else if (c->resume_epoch && !c->resume_seq)
		bad = "resume position (seq 0 with an epoch)";
	if (!bad)
		return 0;
	pr_warn("mirror stream %u: bad %s\n", c->stream, bad);
	return -EINVAL;
}

int xh_mir_new(const struct xh_mir_cfg *cfg, __u64 now,
	       struct xh_mirror **out)
{
	struct xh_mirror *m;
	size_t nbuf, i;
	int err;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	m->cfg.key = NULL;
	cfg_defaults(&m->cfg);
	err = cfg_check(&m->cfg);
	if (err)
		goto out;
	err = -ENOMEM;
	if (cfg->key && mac_new(m, cfg->key, cfg->key_len))
		goto out;

	m->next_seq = 1;
	m->una = 1;
	m->ack_seq = 1;
	m->rtx_due = NEVER;
	m->reo_due = NEVER;
	m->reo_steps = 1;
	m->rto = m->cfg.rto_init_ns;
	m->hello_due = now;
	m->sync_due = now;
	m->state = XH_MIR_S_UNSYNCED;

	if (m->cfg.role == XH_MIR_SENDER) {
		nbuf = m->cfg.window;
		m->wmask = m->cfg.window - 1;
		m->win = calloc(nbuf, sizeof(*m->win));
		m->snap_recs = calloc(SNAP_BATCH, sizeof(*m->snap_recs));
		if (!m->win || !m->snap_recs)
			goto out;
	} else {
		nbuf = m->cfg.reorder;
		m->noo = m->cfg.reorder;
		/* a frame's records must fit one batch */
		m->recs_cap = (m->cfg.frame_len - HDR_LEN) / (REC_HDR_LEN + 1);
		if (m->recs_cap < m->cfg.apply_batch)
			m->recs_cap = m->cfg.apply_batch;
		m->oo = calloc(nbuf, sizeof(*m->oo));
		m->ord = calloc(nbuf, sizeof(*m->ord));
		m->freel = calloc(nbuf, sizeof(*m->freel));
		m->drain = calloc(nbuf, sizeof(*m->drain));
		m->recs = calloc(m->recs_cap, sizeof(*m->recs));
		if (!m->oo || !m->ord || !m->freel || !m->drain || !m->recs)
			goto out;
		for (i = 0; i < nbuf; i++)
			m->freel[m->nfree++] = nbuf - 1 - i;
		m->req = 1;
		if (m->cfg.resume_epoch) {
			m->state = XH_MIR_S_SYNCED;
			m->peer_epoch = m->cfg.resume_epoch;
			m->expected = m->cfg.resume_seq;
		}
		batch_mark(m);
	}
	m->bufs = malloc(nbuf * m->cfg.frame_len);
	if (!m->bufs)
		goto out;
	for (i = 0; i < nbuf; i++) {
		if (m->win)
			m->win[i].buf = m->bufs + i * m->cfg.frame_len;
		else
			m->oo[i].buf = m->bufs + i * m->cfg.frame_len;
	}
	*out = m;
	return 0;
out:
	xh_mir_free(m);
	return err;
}

void xh_mir_free(struct xh_mirror *m)
{
	if (!m)
		return;
	EVP_MAC_CTX_free(m->mac);
	free(m->win);
	free(m->snap_recs);
	free(m->oo);
	free(m->ord);
	free(m->freel);
	free(m->drain);
	free(m->recs);
	free(m->bufs);
	free(m);
}
