/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xdpha.h - libxdpha: the state of a VNFC application, mirrored to its
 * standby, so that a takeover keeps it.
 *
 * The application keeps its session records here (put, get, delete,
 * iterate: a key-value table in its own memory). The library mirrors every
 * change to the peer member over the mirror transport (AF_XDP on the
 * member NIC, redirected by the member program; a UDP socket where AF_XDP
 * cannot run), with sequence numbers, acknowledgements, retransmission and
 * a full resync when a peer (re)joins, and applies the peer's changes to
 * the same table. Who is active is the member program's gate: the group
 * that serves the configured VIP (xm_groups_v1). Optional: a liveness
 * stamp file for the member's health check, and periodic checkpoints to a
 * directory, restored at open.
 *
 * Single-threaded: call every function from one thread; drive I/O with
 * xdpha_fd() in your poll loop and xdpha_process(), or xdpha_process()
 * with a timeout alone.
 *
 * The active member's table is the source, the standby's its copy: the
 * peer's changes are applied only while we are standby, and a resync
 * (when either end starts) rebuilds the copy whole, removing what the
 * active no longer has. So write only while active. Without a VIP there
 * is no gate: both ends apply each other's changes and a resync merges;
 * give each key one writer then.
 *
 * One handle per member NIC: its AF_XDP socket takes the NIC queue's slot
 * in the member program's xm_xsks (the UDP transport binds UDP 7868).
 *
 * Functions return 0 or a negative errno unless said otherwise.
 */
#ifndef XDPHA_H
#define XDPHA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XDPHA_KEY_MAX		64	/* bytes of a key */
#define XDPHA_VAL_MAX		1024	/* bytes of a value */

enum xdpha_transport {
	XDPHA_XPORT_AUTO = 0,	/* AF_XDP, else UDP */
	XDPHA_XPORT_AFXDP,
	XDPHA_XPORT_UDP,
};

struct xdpha_opts {
	size_t sz;			/* sizeof(struct xdpha_opts) */
	const char *ifname;		/* the member NIC */
	const char *local;		/* our address on it (IPv4 or IPv6) */
	const char *peer;		/* the other member's address */
	const char *vip;		/* a VIP of our group: who is active;
					 * NULL: no gate, always active */
	uint32_t stream;		/* application stream, same on both */
	uint32_t node_id;		/* 0: derived from local */
	uint32_t peer_id;		/* 0: derived from peer */
	const void *auth_key;		/* HMAC key, NULL: none */
	size_t auth_key_len;
	enum xdpha_transport transport;
	const char *checkpoint_dir;	/* NULL: no checkpoints */
	uint32_t checkpoint_ms;		/* 0: 1000 */
	const char *stamp_file;		/* NULL: no liveness stamp */
};

struct xdpha;

/* Open: table (restored from a checkpoint if there is a good one; a bad
 * one is refused with the reason in err and the table starts empty, to be
 * filled by a resync), transport, engines. NULL on failure with the
 * reason in err (and errno set); on success err is empty unless a
 * checkpoint was refused. XDPHA_LOG=info|debug in the environment adds
 * diagnostics on stderr (warnings always go there). */
struct xdpha *xdpha_open(const struct xdpha_opts *opts, char *err,
			 size_t errlen);
void xdpha_close(struct xdpha *h);

/* The table. put and del are mirrored; they return -EAGAIN when the
 * mirror window is full (call xdpha_process() and retry). */
int xdpha_put(struct xdpha *h, const void *key, size_t klen,
	      const void *val, size_t vlen);
int xdpha_del(struct xdpha *h, const void *key, size_t klen);
/* Copy the value into buf (up to *vlen bytes); *vlen gets its length.
 * -ENOENT if absent. */
int xdpha_get(struct xdpha *h, const void *key, size_t klen, void *buf,
	      size_t *vlen);
size_t xdpha_count(const struct xdpha *h);
/* cb for each record, in no order; a non-zero return stops the walk and
 * is returned. Do not change the table from cb. */
int xdpha_foreach(struct xdpha *h,
		  int (*cb)(void *arg, const void *key, size_t klen,
			    const void *val, size_t vlen),
		  void *arg);

/* A sequence number per change: xdpha_last_seq() after a put names it;
 * xdpha_acked(seq) says whether the peer has applied it. */
uint64_t xdpha_last_seq(const struct xdpha *h);
bool xdpha_acked(const struct xdpha *h, uint64_t seq);
/* Wait (driving I/O) until every change so far is applied at the peer:
 * 0, or -ETIMEDOUT. */
int xdpha_sync(struct xdpha *h, int timeout_ms);

/* I/O: poll xdpha_fd() for input; call xdpha_process() when it is
 * readable or xdpha_timeout_ms() has passed. process first sends what the
 * puts and dels since the last call queued (so put a burst, then
 * process), then waits up to timeout_ms (0: not at all) for input,
 * handles it and the timers, and writes a due checkpoint and liveness
 * stamp. */
int xdpha_fd(const struct xdpha *h);
int xdpha_timeout_ms(const struct xdpha *h);
int xdpha_process(struct xdpha *h, int timeout_ms);

/* Are we the active member (our gate open for the VIP's group)? */
bool xdpha_is_active(struct xdpha *h);
/* cb(arg, active) when that changes (checked in xdpha_process). */
void xdpha_on_role(struct xdpha *h, void (*cb)(void *arg, bool active),
		   void *arg);

/* Refresh the liveness stamp now (xdpha_process does it too). */
int xdpha_alive(struct xdpha *h);
/* Write a checkpoint now (process writes one every checkpoint_ms when
 * the table changed). A standby's checkpoint also records how far it
 * followed the active, so that restarted alone it may catch up from there
 * instead of a full resync. -ENOTCONN without checkpoint_dir. */
int xdpha_checkpoint(struct xdpha *h);

struct xdpha_stats {
	uint64_t records;		/* in the table */
	uint64_t sent;			/* our puts and dels */
	uint64_t acked;			/* records the peer applied */
	uint64_t retransmitted;		/* frames sent again */
	uint64_t applied;		/* the peer's records applied here */
	uint64_t resyncs;		/* full resyncs received */
	uint64_t lag_us;		/* age of the oldest unacked change */
	uint64_t checkpoints, checkpoint_errors;
	char transport[24];		/* "afxdp-copy", "udp", ... */
};
int xdpha_stats(struct xdpha *h, struct xdpha_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* XDPHA_H */
