/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bfd.h - BFD session core: RFC 5880 asynchronous mode, single hop over UDP
 * (RFC 5881). Pure logic: no sockets, no clocks, no allocation. Every time
 * is passed in as ns of CLOCK_MONOTONIC (the clock bpf_ktime_get_ns() reads,
 * so the data path's last-seen stamps can be fed in unchanged).
 *
 * Not implemented, by choice: authentication (packets with A are dropped),
 * echo mode (we advertise Required Min Echo RX 0), local demand mode. The
 * peer's demand mode is honoured.
 *
 * Driving a session:
 *   - xh_bfd_rx() for every datagram that reaches user space; when it
 *     reports need_final, send xh_bfd_build(final = true) at once.
 *   - xh_bfd_touch() with the data path's last-seen stamp, for the steady
 *     packets it consumed, before each xh_bfd_check_timeout().
 *   - transmit xh_bfd_build(final = false) every
 *     xh_bfd_jitter_ns(xh_bfd_tx_interval_ns(), ...); 0 means don't.
 *   - check_timeout at xh_bfd_detect_deadline_ns().
 *   - after every call, refresh the data path's steady image
 *     (xh_bfd_steady_image()) if it differs, and rearm both timers if
 *     ev->timers_changed or ev->state_changed.
 */
#ifndef XH_USER_BFD_H
#define XH_USER_BFD_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "xh_bfd.h"

#define XH_BFD_SLOW_TX_US	1000000	/* RFC 5880 §6.8.3: >= 1 s when not Up */

struct xh_bfd_cfg {
	__u32 desired_min_tx_us;	/* once Up; > 0 */
	__u32 required_min_rx_us;	/* > 0 */
	__u32 slow_tx_us;		/* floor of Desired Min TX when not Up;
					 * 0 = XH_BFD_SLOW_TX_US. Lower only
					 * in tests: the RFC requires 1 s */
	__u8 detect_mult;		/* > 0 */
	bool passive;			/* don't send before the peer does */
};

/*
 * One session. Fields named after RFC 5880 §6.8.1 hold those variables;
 * read them freely, change them only through the functions below.
 */
struct xh_bfd_session {
	__u8 state;			/* bfd.SessionState */
	__u8 remote_state;		/* bfd.RemoteSessionState */
	__u8 local_diag;		/* bfd.LocalDiag */
	__u8 detect_mult;		/* bfd.DetectMult */
	__u8 remote_detect_mult;	/* 0 until a packet was accepted */
	__u8 remote_diag;		/* peer's Diag, as last accepted */
	__u8 remote_flags;		/* peer's state << 6 | C | D, as last
					 * accepted (P, F dropped) */
	bool remote_demand;		/* bfd.RemoteDemandMode */
	bool passive;
	bool poll;			/* we are sending a Poll Sequence */
	__u8 hold_diag;			/* != 0: a local fault holds the session
					 * Down with this diagnostic (the
					 * service behind it failed its check) */
	bool detect_running;		/* last_rx_ns is meaningful */
	__u32 local_disc;		/* bfd.LocalDiscr */
	__u32 remote_disc;		/* bfd.RemoteDiscr */
	/* bfd.DesiredMinTxInterval and bfd.RequiredMinRxInterval: the values
	 * we advertise. Frozen while a poll sequence runs, because a Final
	 * does not say which Poll it answers. */
	__u32 desired_min_tx_us;
	__u32 required_min_rx_us;
	/* The values our timing uses. They differ from the advertised ones
	 * only during a poll sequence, where §6.8.3 holds back an increase of
	 * Desired Min TX and a decrease of Required Min RX until the Final. */
	__u32 eff_min_tx_us;
	__u32 eff_min_rx_us;
	__u32 remote_min_rx_us;		/* bfd.RemoteMinRxInterval */
	__u32 remote_min_tx_us;		/* peer's Desired Min TX */
	__u32 remote_min_echo_rx_us;
	/* Configured values, which the advertised ones follow. */
	__u32 cfg_min_tx_us;
	__u32 cfg_min_rx_us;
	__u32 slow_tx_us;
	__u64 last_rx_ns;		/* last packet accepted or stamped */
	__u64 changed_ns;		/* last state change, for display */
};

/* Why xh_bfd_rx() refused a packet; indexes counters. */
enum xh_bfd_rx_reason {
	XH_BFD_RX_OK = 0,
	XH_BFD_RX_SHORT,	/* datagram < 24 bytes (-EBADMSG) */
	XH_BFD_RX_VERSION,	/* version != 1 (-EBADMSG) */
	XH_BFD_RX_LENGTH,	/* Length < 24 or > datagram (-EBADMSG) */
	XH_BFD_RX_MULT,		/* Detect Mult 0 (-EBADMSG) */
	XH_BFD_RX_MULTIPOINT,	/* M set (-EBADMSG) */
	XH_BFD_RX_MY_DISC,	/* My Discriminator 0 (-EBADMSG) */
	XH_BFD_RX_YOUR_DISC,	/* Your Discriminator not ours (-ENOENT) */
	XH_BFD_RX_NO_DISC,	/* Your Discriminator 0 while Init/Up (-EINVAL) */
	XH_BFD_RX_AUTH,		/* A set, no authentication (-EOPNOTSUPP) */
	XH_BFD_RX_TTL,		/* TTL/hop limit != 255 (-EPERM) */
	XH_BFD_RX_ADMIN_DOWN,	/* we are AdminDown: peer variables learnt,
				 * state machine skipped (-ENETDOWN) */
	XH_BFD_RX_REASON_MAX,
};

/* What a call changed; zeroed by every call that takes it. */
struct xh_bfd_event {
	bool state_changed;
	__u8 old_state;
	__u8 new_state;
	__u8 diag;			/* local_diag after the change */
	bool need_final;		/* peer polled: send build(final) now */
	bool poll_done;			/* our poll sequence ended */
	bool timers_changed;		/* tx interval or detection time
					 * differs: rearm */
	__u8 reason;			/* enum xh_bfd_rx_reason (rx only) */
};

/* Returns 0, or -EINVAL for local_disc 0 or a zero cfg field. */
int xh_bfd_init(struct xh_bfd_session *s, __u32 local_disc,
		const struct xh_bfd_cfg *cfg, __u64 now);

/*
 * RFC 5880 §6.8.6 reception of one UDP payload of len bytes, received with
 * the given TTL (or IPv6 hop limit). Returns 0 if accepted, else -errno and
 * ev->reason as listed in enum xh_bfd_rx_reason; a refused packet changes
 * nothing, except in AdminDown, where §6.8.6 learns the peer's variables
 * before discarding. ev may be NULL.
 */
int xh_bfd_rx(struct xh_bfd_session *s, const void *pkt, size_t len, __u8 ttl,
	      __u64 now, struct xh_bfd_event *ev);

/* Feed a last-seen stamp taken by the data path for a consumed steady
 * packet: it restarts the detection time as an accepted packet would. */
void xh_bfd_touch(struct xh_bfd_session *s, __u64 seen);

/* Write our next control packet into buf; F if final (answering a Poll),
 * else P while our poll sequence runs. Returns 24, or -ENOSPC. */
int xh_bfd_build(const struct xh_bfd_session *s, void *buf, size_t len,
		 bool final);

/* Periodic transmit interval (§6.8.2, §6.8.7) before jitter, or 0 if no
 * periodic packets may be sent now: passive and peer not heard, peer asked
 * for Required Min RX 0, or peer in demand mode with both sides Up. */
__u64 xh_bfd_tx_interval_ns(const struct xh_bfd_session *s);

/* §6.8.7 jitter: rnd (uniform 32 bits) maps to 75 % .. <100 % of interval,
 * or 75 % .. 90 % when detect_mult is 1. */
__u64 xh_bfd_jitter_ns(__u64 interval_ns, __u8 detect_mult, __u32 rnd);

/* §6.8.4: peer's Detect Mult x max(our Required Min RX, its Desired Min
 * TX). 0 until a packet was accepted. */
__u64 xh_bfd_detect_time_ns(const struct xh_bfd_session *s);

/* When check_timeout must run next, or 0 if the detection timer is off. */
__u64 xh_bfd_detect_deadline_ns(const struct xh_bfd_session *s);

/* Detection time expiry (§6.8.4): at now >= deadline, forget the peer's
 * discriminator and go Down with diag 1 from Init or Up. Returns 1 if it
 * expired, else 0. */
int xh_bfd_check_timeout(struct xh_bfd_session *s, __u64 now,
			 struct xh_bfd_event *ev);

/* §6.8.16: enter AdminDown (diag 7) or leave it for Down. */
void xh_bfd_set_admin_down(struct xh_bfd_session *s, bool down, __u64 now,
			   struct xh_bfd_event *ev);

/* New configured intervals. While Up they are announced by a poll sequence
 * (start it now by sending a packet, if you like); otherwise they apply at
 * once. Returns 0 or -EINVAL for a zero interval. */
/* Hold the session Down with diag while a local fault lasts (diag 0 ends
 * it; the handshake then brings the session back Up). An Up session goes
 * Down at once, so the peer learns of the fault from our next packet. */
void xh_bfd_set_fault(struct xh_bfd_session *s, __u8 diag, __u64 now,
		      struct xh_bfd_event *ev);

/* Take over a session a previous controller ran: Up with the peer whose
 * steady packet is img (as the data path still matches it), last heard at
 * last_rx. The peer sees no change as long as we keep local_disc. */
void xh_bfd_adopt(struct xh_bfd_session *s, const struct xh_bfd_ctl *img,
		  __u64 last_rx, __u64 now);

int xh_bfd_set_timers(struct xh_bfd_session *s, __u32 desired_min_tx_us,
		      __u32 required_min_rx_us, struct xh_bfd_event *ev);

/*
 * The steady image: the exact 24 bytes a packet from the peer must have for
 * xh_bfd_rx() to change nothing but last_rx_ns. Only while Up; otherwise
 * img is zeroed (no packet matches: My Discriminator 0 is invalid) and the
 * result is false. Built from the session, i.e. the last accepted packet
 * with P and F cleared:
 *   vers_diag   1 << 5 | remote_diag
 *   flags       remote_flags (remote_state << 6 | C | D; P F A M clear)
 *   detect_mult remote_detect_mult     length      24
 *   my_disc     remote_disc            your_disc   local_disc
 *   desired_min_tx remote_min_tx_us    required_min_rx remote_min_rx_us
 *   required_min_echo_rx remote_min_echo_rx_us      (all big-endian)
 * The data path must also require TTL 255 and the session's peer address,
 * which xh_bfd_rx() cannot see.
 */
bool xh_bfd_steady_image(const struct xh_bfd_session *s,
			 struct xh_bfd_ctl *img);

/* c equals the steady image, byte for byte. */
bool xh_bfd_steady(const struct xh_bfd_ctl *c,
		   const struct xh_bfd_session *s);

const char *xh_bfd_state_name(unsigned int state);
const char *xh_bfd_diag_name(unsigned int diag);
const char *xh_bfd_rx_reason_name(unsigned int reason);

#endif /* XH_USER_BFD_H */
