/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * checkpoint.h - a replica of the state mirror saved to a file, and read
 * back on start: the records, the stream and the position they reflect
 * (xh_mir_rx_position()), so a restarted receiver resumes from there, or
 * a node that restarts alone keeps its state.
 *
 * Written aside (a temporary file in the same directory), fsynced, renamed
 * over the old one and the directory fsynced: at every moment the name
 * holds a complete checkpoint, the old or the new. Read back, it is
 * checked whole (lengths, end marker, CRC-32 over every byte) before the
 * first record is handed over, so a damaged file changes nothing: the
 * caller falls back to a resync.
 *
 * File layout (big-endian, records as in include/xh_mirror.h):
 *   struct xh_ckpt_hdr | record ... | struct xh_ckpt_trailer
 *   record: op PUT (1) | klen (1) | vlen (2) | key | value
 */
#ifndef XH_USER_CHECKPOINT_H
#define XH_USER_CHECKPOINT_H

#include <stddef.h>
#include <linux/types.h>

#include "mirror.h"

#define XH_CKPT_MAGIC		0x5848434b	/* "XHCK" */
#define XH_CKPT_END_MAGIC	0x58484345	/* "XHCE" */
#define XH_CKPT_VERSION		1

struct xh_ckpt_hdr {
	__be32 magic;		/* XH_CKPT_MAGIC */
	__be16 version;		/* XH_CKPT_VERSION */
	__be16 hdr_len;		/* sizeof(struct xh_ckpt_hdr): records start
				 * there (room for a later version to grow) */
	__be32 stream;		/* the mirror stream it is a replica of */
	__be32 pad;		/* zero */
	__be64 epoch;		/* the sender epoch it reflects */
	__be64 seq;		/* every record below this seq is in it */
	__be64 created_ns;	/* CLOCK_REALTIME when written, for display */
};
_Static_assert(sizeof(struct xh_ckpt_hdr) == 40, "xh_ckpt_hdr layout");

struct xh_ckpt_trailer {
	__be64 records;		/* records between header and trailer */
	__be64 bytes;		/* header and records: where this starts */
	__be32 magic;		/* XH_CKPT_END_MAGIC: a file cut short has
				 * none where it ends */
	__be32 crc;		/* zlib crc32 of every byte before this field */
};
_Static_assert(sizeof(struct xh_ckpt_trailer) == 24, "xh_ckpt_trailer layout");

struct xh_ckpt_info {
	__u32 stream;
	__u64 epoch;
	__u64 seq;
	__u64 records;		/* load: how many; write: ignored */
	__u64 created_ns;	/* load: when written; write: 0 = now */
};

struct xh_ckpt_writer;

/* Start DIR/NAME: a temporary file beside it. 0 or -errno (pr_warn says
 * which file and why). NAME is a plain file name. */
int xh_ckpt_begin(const char *dir, const char *name,
		  const struct xh_ckpt_info *info, struct xh_ckpt_writer **out);
/* One record: key 1..XH_MIR_KEY_MAX bytes, value up to XH_MIR_VAL_MAX.
 * 0, -EINVAL, or the write error (the writer then only aborts). */
int xh_ckpt_add(struct xh_ckpt_writer *w, const void *key, unsigned int klen,
		const void *val, unsigned int vlen);
/* Trailer, fsync, rename over DIR/NAME, fsync DIR; frees w. 0 or -errno
 * (the old checkpoint, if any, then stays). */
int xh_ckpt_commit(struct xh_ckpt_writer *w);
/* Drop the temporary file; frees w. */
void xh_ckpt_abort(struct xh_ckpt_writer *w);

/* The whole checkpoint from an iterator of the replica, with the same
 * contract as the mirror's snapshot callback (restart on the first call,
 * then up to max records a call, 0 at the end). */
int xh_ckpt_write(const char *dir, const char *name,
		  const struct xh_ckpt_info *info, xh_mir_snap_fn iter,
		  void *arg);

/* Called for each record of a checkpoint being restored; 0 or -errno
 * (which stops the restore and is returned). */
typedef int (*xh_ckpt_rec_fn)(void *arg, const void *key, unsigned int klen,
			      const void *val, unsigned int vlen);

/*
 * Restore DIR/NAME: check it whole, fill info, then hand each record to
 * fn (NULL: check only). 0; -ENOENT when there is none; -EBADMSG when it
 * is damaged or truncated, with why saying how (e.g. "truncated: ...",
 * "checksum mismatch: ..."), and then fn was never called; another -errno
 * for a read error or fn's error. why (may be NULL) gets a message for
 * every error.
 */
int xh_ckpt_load(const char *dir, const char *name, struct xh_ckpt_info *info,
		 xh_ckpt_rec_fn fn, void *arg, char *why, size_t why_len);

#endif /* XH_USER_CHECKPOINT_H */
