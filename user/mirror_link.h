/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * mirror_link.h - one node's mirror with one peer: a transport (AF_XDP on
 * the NIC the member or steering program serves, UDP as the fallback and
 * the baseline) and two engines over it, a sender for our records and a
 * receiver for the peer's, told apart by stream id (xh_mir_peek). Both
 * users, the flow mirror of the steering controller and libxdpha, build
 * on this; neither speaks to a socket or a ring directly.
 *
 * Streams: each side sends on stream base*2 + (its id < the peer's ? 0 :
 * 1) and receives on the other, so the pair agrees without configuring
 * directions, and a takeover needs no role change: the new active's
 * records flow the other way on their own stream.
 */
#ifndef XH_MIRROR_LINK_H
#define XH_MIRROR_LINK_H

#include "mirror.h"
#include "xport.h"

enum xh_mlink_xport {
	XH_MLINK_AUTO = 0,	/* AF_XDP, else UDP (said in the log) */
	XH_MLINK_AFXDP,		/* AF_XDP or fail */
	XH_MLINK_UDP,		/* the plain socket */
};

struct xh_mlink_cfg {
	struct xh_xport_cfg x;		/* ifname, addresses, queue... */
	enum xh_mlink_xport xport;
	int xsks_map_fd;		/* AF_XDP: the XSKMAP to register in
					 * (steer: xh_xsks); <= 0: the member
					 * program's xm_xsks */
	__u32 self_id, peer_id;		/* node ids, different, != 0 */
	__u32 stream;			/* base stream id, the same on both */
	__u64 epoch;			/* 0: now (CLOCK_REALTIME ns) */
	const void *key;		/* HMAC key or NULL */
	unsigned int key_len;
	__u32 window;			/* 0: engine default */
	__u64 resume_epoch, resume_seq;	/* receiver: a restored checkpoint */
	xh_mir_apply_fn apply;		/* the peer's records */
	xh_mir_snap_fn snap;		/* ours, for the peer's resync */
	xh_mir_acked_fn acked;
	void *arg;
};

struct xh_mlink {
	struct xh_xport *x;
	struct xh_mirror *tx, *rx;	/* tx NULL-safe: always both */
	__u32 tx_stream, rx_stream;
	__u64 frames_other;		/* frames of neither stream */
	__u64 tx_short;			/* frames the transport refused */
	/* the caller's callbacks: the engines call ours with the link */
	xh_mir_apply_fn apply;
	xh_mir_snap_fn snap;
	xh_mir_acked_fn acked;
	void *arg;
	/* the receiver's settings, for xh_mlink_rx_restart() */
	struct xh_mir_cfg rx_cfg;
	__u8 key[XH_MIR_KEY_LEN_MAX];
};

int xh_mlink_open(const struct xh_mlink_cfg *c, __u64 now,
		  struct xh_mlink **out);
void xh_mlink_close(struct xh_mlink *l);
/* Pollable: the transport's fd. */
int xh_mlink_fd(const struct xh_mlink *l);
/* Receive everything pending, feed the engines, run due timers. Returns
 * frames received, or -errno of the transport. */
int xh_mlink_poll(struct xh_mlink *l, __u64 now);
/* When the engines next need xh_mlink_poll() without input. */
__u64 xh_mlink_next(const struct xh_mlink *l);
const char *xh_mlink_mode(const struct xh_mlink *l);
/* Start the receiver over as a new incarnation (a new epoch, nothing to
 * resume from): it asks the peer for a snapshot, as after a restart. For
 * a node whose replica may have diverged (it was active, and is not any
 * more). 0, or -errno with the old receiver kept. */
int xh_mlink_rx_restart(struct xh_mlink *l, __u64 now);

#endif
