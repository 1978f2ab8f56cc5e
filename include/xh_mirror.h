/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xh_mirror.h - the wire format of the state mirror: the UDP payload of
 * datagrams to XM_MIRROR_PORT (include/xm_abi.h), whatever carries them
 * (AF_XDP or a UDP socket). The engine that speaks it is user/mirror.c;
 * the rules are in README.md, "Mirror protocol".
 *
 * Everything is big-endian on the wire. A frame is a fixed header, then
 * for DATA a packed run of records, then, when the HMAC flag is set, a
 * 16-byte trailer. No field is aligned beyond what its offset gives it:
 * readers copy fields out (records start at any byte).
 *
 *   DATA:   header (56) | record | record | ... | [HMAC-SHA256, 16 bytes]
 *   record: op (1) | klen (1) | vlen (2) | key (klen) | value (vlen)
 *   ACK:    header (56) | SACK block (16) x nrec | [HMAC]
 *   others: header (56) | [HMAC]
 *
 * A stream goes one way: its sender sends DATA and HELLO, its receiver
 * ACK and SYNC_REQ. The records of a DATA frame carry consecutive
 * sequence numbers from the header's seq; snapshot markers are records
 * too, so they are ordered, acknowledged and retransmitted as the data
 * around them.
 */
#ifndef XH_MIRROR_H
#define XH_MIRROR_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define XH_MIR_MAGIC		0x58484d52	/* "XHMR" */
#define XH_MIR_VERSION		1

/* Frame types (xh_mir_hdr.type). */
enum xh_mir_type {
	XH_MIR_DATA = 1,	/* sender -> receiver: records */
	XH_MIR_ACK = 2,		/* receiver -> sender: cumulative ack */
	XH_MIR_SYNC_REQ = 3,	/* receiver -> sender: send me a snapshot */
	XH_MIR_HELLO = 4,	/* sender -> receiver: I am (epoch), at seq */
	XH_MIR_TYPE_MAX,
};

/* xh_mir_hdr.flags */
#define XH_MIR_F_HMAC		0x01	/* a XH_MIR_HMAC_LEN trailer follows */
#define XH_MIR_F_DUP		0x02	/* ACK: a frame arrived twice since the
					 * last ack (RFC 2883's D-SACK, as a
					 * bit): a retransmission was needless,
					 * the sender waits longer for
					 * reordering before the next */
#define XH_MIR_F_ALL		(XH_MIR_F_HMAC | XH_MIR_F_DUP)

/* Record operations (xh_mir_rec_hdr.op). */
enum xh_mir_op {
	XH_MIR_OP_PUT = 1,	/* insert or replace key with value */
	XH_MIR_OP_DEL = 2,	/* delete key (vlen 0); absent is not an error */
	/* Snapshot markers: klen 0, value struct xh_mir_snap. Between them,
	 * the receiver builds its replica anew (see README); BEGIN is always
	 * the first record of its frame. */
	XH_MIR_OP_SNAP_BEGIN = 3,
	XH_MIR_OP_SNAP_END = 4,
	XH_MIR_OP_MAX,
};

/* Limits of one record; frames are sized so that one always fits. */
#define XH_MIR_KEY_MAX		64
#define XH_MIR_VAL_MAX		1024

#define XH_MIR_HMAC_LEN		16	/* HMAC-SHA256 truncated (RFC 2104 §5) */
#define XH_MIR_KEY_LEN_MAX	64	/* shared key bytes (SHA-256 block) */

/*
 * Frame header. seq and base mean, by type:
 *
 *   type      seq                              base
 *   DATA      seq of the first record          oldest seq the sender still
 *                                              holds (a receiver expecting
 *                                              less cannot catch up)
 *   HELLO     the sender's next seq            as DATA
 *   ACK       cumulative: every record below   lowest seq held out of order
 *             it is applied                    (0: none); [seq, base) is the
 *                                              first hole to fill
 *   SYNC_REQ  request number (per receiver     0
 *             epoch, from 1)
 *
 * ref_epoch is the other side's epoch the frame refers to: for ACK the
 * sender epoch acknowledged, for SYNC_REQ the sender epoch last in sync
 * (0: none); 0 in DATA and HELLO.
 */
struct xh_mir_hdr {
	__be32 magic;		/* XH_MIR_MAGIC */
	__u8 version;		/* XH_MIR_VERSION */
	__u8 type;		/* enum xh_mir_type */
	__u8 flags;		/* XH_MIR_F_* */
	__u8 pad;		/* zero */
	__be16 len;		/* frame bytes, header and trailer included:
				 * must equal the datagram's payload */
	__be16 nrec;		/* DATA: records that follow (> 0); ACK: SACK
				 * blocks that follow (<= XH_MIR_SACK_MAX);
				 * else 0 */
	__be32 stream;		/* stream id: one source mirrored one way */
	__be32 peer;		/* the sending node's configured peer id */
	__be32 pad2;		/* zero */
	__be64 epoch;		/* the sending side's incarnation: larger at
				 * every start; a new sender epoch restarts
				 * sequence numbers and forces a resync */
	__be64 ref_epoch;	/* see above */
	__be64 seq;		/* see above */
	__be64 base;		/* see above */
};
_Static_assert(sizeof(struct xh_mir_hdr) == 56, "xh_mir_hdr layout");

/* Record header; key and value follow without padding. */
struct xh_mir_rec_hdr {
	__u8 op;		/* enum xh_mir_op */
	__u8 klen;		/* key bytes, 1..XH_MIR_KEY_MAX (0: markers) */
	__be16 vlen;		/* value bytes, 0..XH_MIR_VAL_MAX */
};
_Static_assert(sizeof(struct xh_mir_rec_hdr) == 4, "xh_mir_rec_hdr layout");

/* After an ACK's header: a range of seqs the receiver holds beyond the
 * cumulative ack (out of order, not applied yet), lowest first, so the
 * sender retransmits only the holes between them. Not a promise: a
 * receiver may forget them (the next ack no longer lists them). */
struct xh_mir_sack {
	__be64 start;		/* first seq held */
	__be64 end;		/* seq after the last held */
};
_Static_assert(sizeof(struct xh_mir_sack) == 16, "xh_mir_sack layout");

#define XH_MIR_SACK_MAX		16

/* Value of a snapshot marker: which resync request it answers, so that a
 * receiver starts only the snapshot it asked for. */
struct xh_mir_snap {
	__be64 rx_epoch;	/* the requesting receiver's epoch */
	__be64 req;		/* its SYNC_REQ number */
};
_Static_assert(sizeof(struct xh_mir_snap) == 16, "xh_mir_snap layout");

#define XH_MIR_REC_MAX		(sizeof(struct xh_mir_rec_hdr) + \
				 XH_MIR_KEY_MAX + XH_MIR_VAL_MAX)
/* Smallest frame size to configure: one largest record, signed. */
#define XH_MIR_FRAME_MIN	(sizeof(struct xh_mir_hdr) + XH_MIR_REC_MAX + \
				 XH_MIR_HMAC_LEN)
/* Default: an Ethernet MTU of 1500 minus IPv6 (40) and UDP (8) headers,
 * so one size serves both families. */
#define XH_MIR_FRAME_DEFAULT	1452
#define XH_MIR_FRAME_MAX	9000	/* jumbo; len is 16 bits anyway */
_Static_assert(XH_MIR_FRAME_MIN <= XH_MIR_FRAME_DEFAULT,
	       "a largest record must fit a default frame");

#endif /* XH_MIRROR_H */
