/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * mirror.h - the replication engine of the state mirror: one end of one
 * stream (a sender or a receiver), speaking include/xh_mirror.h. Pure
 * logic: no sockets, no clocks, no allocation after xh_mir_new(). Every
 * time is passed in as ns of one monotonic clock; the caller owns the
 * transport (user/xport.h), the source and the replica.
 *
 * Wiring, for either role:
 *   - cfg.xmit(arg, frames, n) hands frames to the transport: return how
 *     many were taken (fewer when the ring is full: the engine keeps the
 *     rest of its data frames and offers them again later, or at the next
 *     xh_mir_flush()). A frame's bytes are valid during the call only.
 *   - every datagram received on the stream goes to xh_mir_input() (or a
 *     burst of them to xh_mir_input_batch(), which applies them in one
 *     batch and acknowledges once);
 *   - xh_mir_timer(now) at xh_mir_next_timer() or later (early is fine).
 *
 * Sender: xh_mir_put()/xh_mir_del() each change *after* it was made to
 * the source (that order makes snapshots consistent, see README "Mirror
 * protocol"), xh_mir_flush() after a burst; -EAGAIN from put is
 * backpressure (the window is full): retry after input or timer.
 * cfg.snap iterates the source when the receiver asks for a resync.
 * xh_mir_acked() says whether a record's seq (xh_mir_last_seq() after its
 * put) is applied at the receiver.
 *
 * Receiver: cfg.apply gets records in sequence order, in batches; they are
 * acknowledged only once it returned 0. Between SNAP_BEGIN and SNAP_END
 * records rebuild the replica from nothing: keep the old replica until
 * SNAP_END and switch then (or mark and sweep), so that a sender dying
 * in the middle of a snapshot leaves the last complete state behind.
 */
#ifndef XH_USER_MIRROR_H
#define XH_USER_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>
#include <linux/types.h>

#include "xh_mirror.h"

enum xh_mir_role {
	XH_MIR_SENDER = 1,
	XH_MIR_RECEIVER = 2,
};

/* Where a stream stands, seen from either end. */
enum xh_mir_state {
	/* Sender: no receiver in sync; records are counted, not sent (the
	 * next snapshot carries them). Receiver: waiting for the snapshot
	 * it requested. */
	XH_MIR_S_UNSYNCED = 0,
	XH_MIR_S_SNAP,		/* a snapshot is in flight */
	XH_MIR_S_SYNCED,	/* records flow one by one */
};

/* One record, as the apply and snapshot callbacks see it. */
struct xh_mir_rec {
	__u64 seq;		/* apply: its sequence number; snap: ignored */
	const void *key;	/* klen bytes (NULL for markers) */
	const void *val;	/* vlen bytes */
	__u16 vlen;
	__u8 klen;
	__u8 op;		/* enum xh_mir_op */
};

/* Hand n frames to the transport; return how many it took, or -errno. */
typedef int (*xh_mir_xmit_fn)(void *arg, const struct iovec *frames,
			      unsigned int n);
/* Apply n records, in order; 0 or -errno (then none counts as applied
 * and all come again: PUT and DEL must be idempotent, and SNAP_BEGIN
 * must restart a snapshot already begun). */
typedef int (*xh_mir_apply_fn)(void *arg, const struct xh_mir_rec *recs,
			       unsigned int n);
/* Fill up to max records (op PUT) of the source, continuing where the
 * previous call stopped, or from the start when restart is set. Returns
 * how many (0: the source is exhausted) or -errno (the snapshot is
 * abandoned; the receiver asks again). Pointers must stay valid until
 * the next call. */
typedef int (*xh_mir_snap_fn)(void *arg, bool restart,
			      struct xh_mir_rec *recs, unsigned int max);
/* Optional: the cumulative ack moved (xh_mir_ack_seq() is now ack_seq). */
typedef void (*xh_mir_acked_fn)(void *arg, __u64 ack_seq, __u64 now);

struct xh_mir_cfg {
	enum xh_mir_role role;
	__u32 self_id;		/* our peer id, sent in every frame; != 0 */
	__u32 peer_id;		/* the one peer we accept frames from; != 0 */
	__u32 stream;		/* stream id, both ends the same */
	__u64 epoch;		/* our incarnation, != 0 and larger than any
				 * before it (e.g. CLOCK_REALTIME at start):
				 * frames of a smaller one are stale */
	__u32 frame_len;	/* largest frame (UDP payload): 0 = default
				 * XH_MIR_FRAME_DEFAULT; XH_MIR_FRAME_MIN ..
				 * XH_MIR_FRAME_MAX */
	__u32 window;		/* sender: frames in flight, a power of 2;
				 * 0 = 1024 */
	__u32 reorder;		/* receiver: out-of-order frames held; 0 = 64 */
	__u32 apply_batch;	/* receiver: most records per apply; 0 = 1024 */
	__u32 ack_frames;	/* receiver: ack at once after this many
				 * frames; 0 = 16 */
	__u64 ack_delay_ns;	/* receiver: else ack at most this late;
				 * 0 = 100 us */
	__u64 flush_ns;		/* sender: a partial frame leaves at most this
				 * late (xh_mir_flush() sends it at once);
				 * 0 = 50 us */
	__u64 rto_init_ns;	/* retransmission timeout before any RTT
				 * sample; 0 = 20 ms */
	__u64 rto_min_ns;	/* 0 = 2 ms */
	__u64 rto_max_ns;	/* bound of the backoff; 0 = 1 s */
	__u64 hello_ns;		/* sender: HELLO when nothing was sent for
				 * this long; receiver: SYNC_REQ repeated at
				 * this interval; 0 = 100 ms */
	__u64 peer_timeout_ns;	/* sender: no ack progress for this long with
				 * records in flight: the receiver is gone,
				 * drop the window (a resync follows when it
				 * returns); 0 = 3 s */
	const void *key;	/* shared HMAC key, or NULL: no HMAC */
	unsigned int key_len;	/* 1..XH_MIR_KEY_LEN_MAX */
	/* Receiver: the position a restored checkpoint reflects (from
	 * xh_mir_rx_position() when it was taken); 0: start empty and ask
	 * for a snapshot. The sender tells whether it can catch up from
	 * there; if not, a snapshot follows. */
	__u64 resume_epoch;
	__u64 resume_seq;
	xh_mir_xmit_fn xmit;	/* required */
	xh_mir_apply_fn apply;	/* receiver: required */
	xh_mir_snap_fn snap;	/* sender: NULL = an empty source */
	xh_mir_acked_fn acked;	/* sender: optional */
	void *arg;		/* passed to every callback */
};

/* Why a received frame was dropped; indexes xh_mir_stats.drop. */
enum xh_mir_drop {
	XH_MIR_DROP_SHORT = 0,	/* shorter than the header */
	XH_MIR_DROP_MAGIC,	/* not a mirror frame */
	XH_MIR_DROP_VERSION,	/* another protocol version */
	XH_MIR_DROP_LENGTH,	/* header length != datagram length */
	XH_MIR_DROP_TYPE,	/* unknown type, or not one for our role */
	XH_MIR_DROP_PEER,	/* from a peer id not configured */
	XH_MIR_DROP_STREAM,	/* for another stream */
	XH_MIR_DROP_AUTH,	/* HMAC flag where none is configured, or
				 * no HMAC where one is */
	XH_MIR_DROP_HMAC,	/* HMAC does not verify */
	XH_MIR_DROP_MALFORMED,	/* records past the end, limits, markers */
	XH_MIR_DROP_STALE,	/* an epoch older than the one we follow */
	XH_MIR_DROP_DUP,	/* every record already applied (re-acked) */
	XH_MIR_DROP_OOO_FULL,	/* out of order, no room to hold it */
	XH_MIR_DROP_UNSYNCED,	/* data while waiting for our snapshot */
	XH_MIR_DROP_BAD_ACK,	/* acks what was never sent */
	XH_MIR_DROP_APPLY,	/* after an apply failure in the same batch */
	XH_MIR_DROP_MAX,
};

struct xh_mir_stats {
	/* sender */
	__u64 records;		/* put and del calls accepted */
	__u64 records_unsynced;	/* of them, counted while unsynced (not
				 * sent: the next snapshot carries them) */
	__u64 acked;		/* records acknowledged (snapshots included) */
	__u64 frames_sent;	/* DATA frames, first transmissions */
	__u64 bytes_sent;	/* their bytes */
	__u64 retransmits;	/* DATA frames sent again */
	__u64 fast_retransmits;	/* of them, for a hole an ack reported */
	__u64 timeouts;		/* retransmission timer expiries */
	__u64 window_full;	/* puts refused with -EAGAIN */
	__u64 snapshots;	/* snapshots started */
	__u64 snap_records;	/* records they carried */
	__u64 snap_errors;	/* snapshot callback failures */
	__u64 peer_lost;	/* receiver gone: window dropped */
	__u64 hellos;
	/* receiver */
	__u64 frames_rx;	/* frames accepted */
	__u64 applied;		/* records applied */
	__u64 apply_calls;
	__u64 apply_errors;
	__u64 ooo;		/* frames held out of order */
	__u64 resyncs;		/* snapshots requested (start, new sender
				 * epoch, a gap the sender cannot fill) */
	__u64 acks;
	__u64 sync_reqs;	/* SYNC_REQ sent, repeats included */
	/* both */
	__u64 ctl_rx;		/* control frames accepted (ACK, SYNC_REQ,
				 * HELLO) */
	__u64 xmit_short;	/* frames the transport did not take */
	__u64 drop[XH_MIR_DROP_MAX];
	/* gauges, as of the now passed to xh_mir_get_stats() */
	__u64 lag_ns;		/* age of the oldest unacknowledged record */
	__u64 inflight;		/* records sent or queued, not acknowledged */
	__u64 srtt_ns;		/* smoothed round trip, 0 before a sample */
	__u64 rto_ns;		/* current retransmission timeout */
	__u64 next_seq;		/* sender: seq of the next record;
				 * receiver: seq expected next */
	__u64 ack_seq;		/* sender: xh_mir_ack_seq() */
	__u64 peer_epoch;	/* the other end's epoch as we know it */
	__u32 state;		/* enum xh_mir_state */
	__u32 pad;
};

struct xh_mirror;

/* Create an engine. 0, or -EINVAL with a pr_warn naming the bad setting,
 * or -ENOMEM. Nothing is sent before the first timer call. */
int xh_mir_new(const struct xh_mir_cfg *cfg, __u64 now,
	       struct xh_mirror **out);
void xh_mir_free(struct xh_mirror *m);

/* Sender: queue a record. 0; -EAGAIN when the window is full (counted
 * window_full; try again after acks arrive); -EINVAL for a receiver or a
 * key of 0 or > XH_MIR_KEY_MAX bytes or a value > XH_MIR_VAL_MAX. */
int xh_mir_put(struct xh_mirror *m, const void *key, unsigned int klen,
	       const void *val, unsigned int vlen, __u64 now);
int xh_mir_del(struct xh_mirror *m, const void *key, unsigned int klen,
	       __u64 now);
/* Sender: seq of the last record put or deleted (0: none yet). */
__u64 xh_mir_last_seq(const struct xh_mirror *m);
/* Sender: every seq below this is applied at the receiver. Held still
 * while a snapshot runs, then moved past its end. */
__u64 xh_mir_ack_seq(const struct xh_mirror *m);
/* Sender: seq (>= 1, of this epoch) is applied at the receiver. */
bool xh_mir_acked(const struct xh_mirror *m, __u64 seq);
/* Sender: send what is queued now instead of waiting for flush_ns. */
int xh_mir_flush(struct xh_mirror *m, __u64 now);

/* Either: one received datagram (the UDP payload). 0 if accepted, else
 * -errno (the reason counted in drop[]): -EBADMSG malformed, -EPERM
 * peer, stream or HMAC, -ESTALE old epoch, -EALREADY duplicate, ... */
int xh_mir_input(struct xh_mirror *m, const void *frame, size_t len,
		 __u64 now);
/* Several datagrams: applied in as few batches as the batch size allows,
 * acknowledged once. 0, or the apply callback's error (counted). */
int xh_mir_input_batch(struct xh_mirror *m, const struct iovec *frames,
		       unsigned int n, __u64 now);

/* Retransmissions, delayed acks and flushes, HELLO, SYNC_REQ repeats,
 * the peer timeout. Returns 0. */
int xh_mir_timer(struct xh_mirror *m, __u64 now);
/* When xh_mir_timer() has something to do next (absolute ns). */
__u64 xh_mir_next_timer(const struct xh_mirror *m);

enum xh_mir_state xh_mir_state(const struct xh_mirror *m);
/* Receiver: the position the replica reflects once every apply returned:
 * the sender's epoch and the next seq expected. -EAGAIN unless synced
 * (during a snapshot the replica is the old one: checkpoint later). */
int xh_mir_rx_position(const struct xh_mirror *m, __u64 *epoch, __u64 *seq);
void xh_mir_get_stats(const struct xh_mirror *m, __u64 now,
		      struct xh_mir_stats *st);

/* For a caller with several streams on one socket: the stream of a frame
 * and whether it is for the stream's sender (ACK, SYNC_REQ) or receiver.
 * 0 or -EBADMSG (not a mirror frame of our version). */
int xh_mir_peek(const void *frame, size_t len, __u32 *stream,
		bool *to_sender);

const char *xh_mir_drop_name(unsigned int reason);
const char *xh_mir_state_name(unsigned int state);

#endif /* XH_USER_MIRROR_H */
