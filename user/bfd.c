// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bfd.c - BFD session core (RFC 5880 asynchronous mode, RFC 5881 single
 * hop): validation, state machine, timer negotiation and poll sequences of
 * one session. Pure: the caller owns sockets, clocks and timers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "bfd.h"

#define NSEC_PER_USEC	1000ULL

/* Bits of the peer's flags byte that stay in the session: state, C, D. */
#define REMOTE_FLAGS_KEEP	(0xc0 | XH_BFD_F_CPI | XH_BFD_F_DEMAND)

static const int rx_errno[XH_BFD_RX_REASON_MAX] = {
	[XH_BFD_RX_OK]		= 0,
	[XH_BFD_RX_SHORT]	= -EBADMSG,
	[XH_BFD_RX_VERSION]	= -EBADMSG,
	[XH_BFD_RX_LENGTH]	= -EBADMSG,
	[XH_BFD_RX_MULT]	= -EBADMSG,
	[XH_BFD_RX_MULTIPOINT]	= -EBADMSG,
	[XH_BFD_RX_MY_DISC]	= -EBADMSG,
	[XH_BFD_RX_YOUR_DISC]	= -ENOENT,
	[XH_BFD_RX_NO_DISC]	= -EINVAL,
	[XH_BFD_RX_AUTH]	= -EOPNOTSUPP,
	[XH_BFD_RX_TTL]		= -EPERM,
	[XH_BFD_RX_ADMIN_DOWN]	= -ENETDOWN,
};

static __u32 max_u32(__u32 a, __u32 b)
{
	return a > b ? a : b;
}

static __u32 min_u32(__u32 a, __u32 b)
{
	return a < b ? a : b;
}

/* Timing as the caller's timers see it, to report timers_changed. */
struct timing {
	__u64 tx;
	__u64 detect;
};

static void timing_get(const struct xh_bfd_session *s, struct timing *t)
{
	t->tx = xh_bfd_tx_interval_ns(s);
	t->detect = xh_bfd_detect_time_ns(s);
}

static void timing_cmp(const struct xh_bfd_session *s, const struct timing *t,
		       struct xh_bfd_event *ev)
{
	struct timing now;

	timing_get(s, &now);
	if (now.tx != t->tx || now.detect != t->detect)
		ev->timers_changed = true;
}

/* Outside Up there is no poll sequence to wait for (§6.8.3): configured
 * values apply at once, with Desired Min TX held at the slow-start floor. */
static void timers_not_up(struct xh_bfd_session *s)
{
	s->poll = false;
	s->desired_min_tx_us = max_u32(s->cfg_min_tx_us, s->slow_tx_us);
	s->required_min_rx_us = s->cfg_min_rx_us;
	s->eff_min_tx_us = s->desired_min_tx_us;
	s->eff_min_rx_us = s->required_min_rx_us;
}

/*
 * Up, no poll running: advertise the configured values under a Poll if they
 * differ from what the peer knows. Until the Final, time with whichever of
 * old and new is safe for the peer: the faster transmit rate (it may already
 * expect it) and the longer detection time (it may still send slowly).
 */
static void poll_start(struct xh_bfd_session *s)
{
	if (s->desired_min_tx_us == s->cfg_min_tx_us &&
	    s->required_min_rx_us == s->cfg_min_rx_us)
		return;
	s->desired_min_tx_us = s->cfg_min_tx_us;
	s->required_min_rx_us = s->cfg_min_rx_us;
	s->eff_min_tx_us = min_u32(s->eff_min_tx_us, s->desired_min_tx_us);
	s->eff_min_rx_us = max_u32(s->eff_min_rx_us, s->required_min_rx_us);
	s->poll = true;
}

/* The peer has acknowledged the advertised values: they take effect, and
 * a change made meanwhile gets its own poll sequence. */
static void poll_end(struct xh_bfd_session *s, struct xh_bfd_event *ev)
{
	s->poll = false;
	s->eff_min_tx_us = s->desired_min_tx_us;
	s->eff_min_rx_us = s->required_min_rx_us;
	ev->poll_done = true;
	poll_start(s);
}

static void set_state(struct xh_bfd_session *s, __u8 state, __u8 diag,
		      __u64 now, struct xh_bfd_event *ev)
{
	if (state == s->state)
		return;
	if (!ev->state_changed)
		ev->old_state = s->state;
	ev->state_changed = true;
	ev->new_state = state;
	ev->diag = diag;
	s->state = state;
	s->local_diag = diag;
	s->changed_ns = now;

	if (state == XH_BFD_UP) {
		/* Leaving slow start changes Desired Min TX while Up. */
		poll_start(s);
	} else {
		timers_not_up(s);
	}
	if (state == XH_BFD_ADMIN_DOWN)
		s->detect_running = false;
}

int xh_bfd_init(struct xh_bfd_session *s, __u32 local_disc,
		const struct xh_bfd_cfg *cfg, __u64 now)
{
	if (!local_disc || !cfg->desired_min_tx_us ||
	    !cfg->required_min_rx_us || !cfg->detect_mult)
		return -EINVAL;

	memset(s, 0, sizeof(*s));
	s->state = XH_BFD_DOWN;
	s->remote_state = XH_BFD_DOWN;
	s->local_disc = local_disc;
	s->detect_mult = cfg->detect_mult;
	s->passive = cfg->passive;
	s->remote_min_rx_us = 1;	/* §6.8.1 */
	s->cfg_min_tx_us = cfg->desired_min_tx_us;
	s->cfg_min_rx_us = cfg->required_min_rx_us;
	s->slow_tx_us = cfg->slow_tx_us ? cfg->slow_tx_us : XH_BFD_SLOW_TX_US;
	s->changed_ns = now;
	timers_not_up(s);
	return 0;
}

/* §6.8.6 validation, plus the RFC 5881 §5 TTL check (we never
 * authenticate, so it always applies). */
static int rx_check(const struct xh_bfd_session *s, const struct xh_bfd_ctl *c,
		    size_t len, __u8 ttl)
{
	__u32 your_disc = ntohl(c->your_disc);

	if (xh_bfd_ctl_version(c) != XH_BFD_VERSION)
		return XH_BFD_RX_VERSION;
	if (c->length < XH_BFD_CTL_LEN || c->length > len)
		return XH_BFD_RX_LENGTH;
	if (!c->detect_mult)
		return XH_BFD_RX_MULT;
	if (c->flags & XH_BFD_F_MULTI)
		return XH_BFD_RX_MULTIPOINT;
	if (!c->my_disc)
		return XH_BFD_RX_MY_DISC;
	if (your_disc && your_disc != s->local_disc)
		return XH_BFD_RX_YOUR_DISC;
	if (!your_disc && s->state != XH_BFD_DOWN &&
	    s->state != XH_BFD_ADMIN_DOWN)
		return XH_BFD_RX_NO_DISC;
	if (c->flags & XH_BFD_F_AUTH)
		return XH_BFD_RX_AUTH;
	if (ttl != XH_BFD_TTL)
		return XH_BFD_RX_TTL;
	return XH_BFD_RX_OK;
}

int xh_bfd_rx(struct xh_bfd_session *s, const void *pkt, size_t len, __u8 ttl,
	      __u64 now, struct xh_bfd_event *ev)
{
	struct xh_bfd_event scratch;
	struct xh_bfd_ctl c;
	struct timing before;
	__u8 rstate;
	int reason;

	if (!ev)
		ev = &scratch;
	memset(ev, 0, sizeof(*ev));
	timing_get(s, &before);

	if (len < XH_BFD_CTL_LEN) {
		reason = XH_BFD_RX_SHORT;
		goto out;
	}
	memcpy(&c, pkt, sizeof(c));	/* pkt may be unaligned */
	reason = rx_check(s, &c, len, ttl);
	if (reason)
		goto out;

	rstate = xh_bfd_ctl_state(&c);
	s->remote_disc = ntohl(c.my_disc);
	s->remote_state = rstate;
	s->remote_demand = xh_bfd_ctl_flag(&c, XH_BFD_F_DEMAND);
	s->remote_flags = c.flags & REMOTE_FLAGS_KEEP;
	s->remote_min_rx_us = ntohl(c.required_min_rx);
	s->remote_min_tx_us = ntohl(c.desired_min_tx);
	s->remote_min_echo_rx_us = ntohl(c.required_min_echo_rx);
	s->remote_detect_mult = c.detect_mult;
	s->remote_diag = xh_bfd_ctl_diag(&c);

	if (s->poll && xh_bfd_ctl_flag(&c, XH_BFD_F_FINAL))
		poll_end(s, ev);

	if (s->state == XH_BFD_ADMIN_DOWN) {
		reason = XH_BFD_RX_ADMIN_DOWN;
		goto out;
	}
	s->last_rx_ns = now;
	s->detect_running = true;

	if (s->hold_diag) {
		if (s->state != XH_BFD_DOWN)
			set_state(s, XH_BFD_DOWN, s->hold_diag, now, ev);
	} else if (rstate == XH_BFD_ADMIN_DOWN) {
		if (s->state != XH_BFD_DOWN)
			set_state(s, XH_BFD_DOWN, XH_BFD_DIAG_NEIGHBOR_DOWN,
				  now, ev);
	} else if (s->state == XH_BFD_DOWN) {
		if (rstate == XH_BFD_DOWN)
			set_state(s, XH_BFD_INIT, s->local_diag, now, ev);
		else if (rstate == XH_BFD_INIT)
			set_state(s, XH_BFD_UP, XH_BFD_DIAG_NONE, now, ev);
	} else if (s->state == XH_BFD_INIT) {
		if (rstate == XH_BFD_INIT || rstate == XH_BFD_UP)
			set_state(s, XH_BFD_UP, XH_BFD_DIAG_NONE, now, ev);
	} else if (rstate == XH_BFD_DOWN) {	/* we are Up */
		set_state(s, XH_BFD_DOWN, XH_BFD_DIAG_NEIGHBOR_DOWN, now, ev);
	}

	if (xh_bfd_ctl_flag(&c, XH_BFD_F_POLL))
		ev->need_final = true;
out:
	timing_cmp(s, &before, ev);
	ev->reason = reason;
	return rx_errno[reason];
}

void xh_bfd_touch(struct xh_bfd_session *s, __u64 seen)
{
	if (s->detect_running && seen > s->last_rx_ns)
		s->last_rx_ns = seen;
}

int xh_bfd_build(const struct xh_bfd_session *s, void *buf, size_t len,
		 bool final)
{
	struct xh_bfd_ctl c;
	__u8 bits = 0;

	if (len < XH_BFD_CTL_LEN)
		return -ENOSPC;
	/* §6.5: never P and F together; the next periodic packet resumes P. */
	if (final)
		bits = XH_BFD_F_FINAL;
	else if (s->poll)
		bits = XH_BFD_F_POLL;

	c.vers_diag = XH_BFD_VERS_DIAG(XH_BFD_VERSION, s->local_diag);
	c.flags = XH_BFD_FLAGS(s->state, bits);
	c.detect_mult = s->detect_mult;
	c.length = XH_BFD_CTL_LEN;
	c.my_disc = htonl(s->local_disc);
	c.your_disc = htonl(s->remote_disc);
	c.desired_min_tx = htonl(s->desired_min_tx_us);
	c.required_min_rx = htonl(s->required_min_rx_us);
	c.required_min_echo_rx = 0;	/* no echo function */
	memcpy(buf, &c, sizeof(c));
	return XH_BFD_CTL_LEN;
}

__u64 xh_bfd_tx_interval_ns(const struct xh_bfd_session *s)
{
	/* §6.1: a passive side waits until it knows whom to talk to. */
	if (s->passive && !s->remote_disc)
		return 0;
	/* §6.8.7: Required Min RX 0 means "send me nothing periodically". */
	if (!s->remote_min_rx_us)
		return 0;
	/* §6.6: the peer runs demand mode once both sides are Up. */
	if (s->remote_demand && s->state == XH_BFD_UP &&
	    s->remote_state == XH_BFD_UP)
		return 0;
	return max_u32(s->eff_min_tx_us, s->remote_min_rx_us) * NSEC_PER_USEC;
}

__u64 xh_bfd_jitter_ns(__u64 interval_ns, __u8 detect_mult, __u32 rnd)
{
	/* base rounds up so that the 75 % floor holds to the ns; 16 random
	 * bits are plenty and keep span * rnd within 64 bits for any interval
	 * a 32-bit µs field can express. */
	__u64 base = (interval_ns * 3 + 3) / 4;
	__u64 span = interval_ns / 4;

	if (detect_mult == 1)
		span = interval_ns * 15 / 100;
	return base + ((span * (rnd >> 16)) >> 16);
}

__u64 xh_bfd_detect_time_ns(const struct xh_bfd_session *s)
{
	return s->remote_detect_mult *
	       (__u64)max_u32(s->eff_min_rx_us, s->remote_min_tx_us) *
	       NSEC_PER_USEC;
}

__u64 xh_bfd_detect_deadline_ns(const struct xh_bfd_session *s)
{
	if (!s->detect_running || s->state == XH_BFD_ADMIN_DOWN)
		return 0;
	return s->last_rx_ns + xh_bfd_detect_time_ns(s);
}

int xh_bfd_check_timeout(struct xh_bfd_session *s, __u64 now,
			 struct xh_bfd_event *ev)
{
	struct xh_bfd_event scratch;
	struct timing before;
	__u64 deadline;

	if (!ev)
		ev = &scratch;
	memset(ev, 0, sizeof(*ev));
	deadline = xh_bfd_detect_deadline_ns(s);
	if (!deadline || now < deadline)
		return 0;

	timing_get(s, &before);
	/* §6.8.1: a silent peer's discriminator is forgotten, so that its
	 * next packet (Your Discriminator 0 after a restart) is accepted. */
	s->remote_disc = 0;
	s->detect_running = false;
	if (s->state == XH_BFD_INIT || s->state == XH_BFD_UP)
		set_state(s, XH_BFD_DOWN, XH_BFD_DIAG_DETECT_EXPIRED, now, ev);
	timing_cmp(s, &before, ev);
	return 1;
}

void xh_bfd_set_admin_down(struct xh_bfd_session *s, bool down, __u64 now,
			   struct xh_bfd_event *ev)
{
	struct xh_bfd_event scratch;
	struct timing before;

	if (!ev)
		ev = &scratch;
	memset(ev, 0, sizeof(*ev));
	timing_get(s, &before);
	if (down)
		set_state(s, XH_BFD_ADMIN_DOWN, XH_BFD_DIAG_ADMIN_DOWN, now,
			  ev);
	else if (s->state == XH_BFD_ADMIN_DOWN)
		set_state(s, XH_BFD_DOWN, XH_BFD_DIAG_NONE, now, ev);
	timing_cmp(s, &before, ev);
}

void xh_bfd_adopt(struct xh_bfd_session *s, const struct xh_bfd_ctl *img,
		  __u64 last_rx, __u64 now)
{
	s->remote_disc = ntohl(img->my_disc);
	s->remote_state = xh_bfd_ctl_state(img);
	s->remote_flags = img->flags & REMOTE_FLAGS_KEEP;
	s->remote_diag = xh_bfd_ctl_diag(img);
	s->remote_detect_mult = img->detect_mult;
	s->remote_min_rx_us = ntohl(img->required_min_rx);
	s->remote_min_tx_us = ntohl(img->desired_min_tx);
	s->remote_min_echo_rx_us = ntohl(img->required_min_echo_rx);
	s->remote_demand = xh_bfd_ctl_flag(img, XH_BFD_F_DEMAND);
	s->state = XH_BFD_UP;
	s->local_diag = XH_BFD_DIAG_NONE;
	/* Up: the configured timers apply, no slow start. */
	s->desired_min_tx_us = s->eff_min_tx_us = s->cfg_min_tx_us;
	s->required_min_rx_us = s->eff_min_rx_us = s->cfg_min_rx_us;
	s->last_rx_ns = last_rx;
	s->detect_running = true;
	s->changed_ns = now;
	/* The peer may still hold the timers the previous controller left
	 * it (a graceful stop slows them down): a Poll makes it take ours. */
	s->poll = true;
}

void xh_bfd_set_fault(struct xh_bfd_session *s, __u8 diag, __u64 now,
		      struct xh_bfd_event *ev)
{
	struct xh_bfd_event scratch;
	struct timing before;

	if (!ev)
		ev = &scratch;
	memset(ev, 0, sizeof(*ev));
	timing_get(s, &before);
	s->hold_diag = diag;
	if (diag && s->state != XH_BFD_DOWN && s->state != XH_BFD_ADMIN_DOWN)
		set_state(s, XH_BFD_DOWN, diag, now, ev);
	else if (!diag && s->state == XH_BFD_DOWN)
		s->local_diag = XH_BFD_DIAG_NONE;
	timing_cmp(s, &before, ev);
}

int xh_bfd_set_timers(struct xh_bfd_session *s, __u32 desired_min_tx_us,
		      __u32 required_min_rx_us, struct xh_bfd_event *ev)
{
	struct xh_bfd_event scratch;
	struct timing before;

	if (!desired_min_tx_us || !required_min_rx_us)
		return -EINVAL;
	if (!ev)
		ev = &scratch;
	memset(ev, 0, sizeof(*ev));
	timing_get(s, &before);

	s->cfg_min_tx_us = desired_min_tx_us;
	s->cfg_min_rx_us = required_min_rx_us;
	if (s->state != XH_BFD_UP)
		timers_not_up(s);
	else if (!s->poll)
		poll_start(s);
	/* else: advertised values stay frozen; poll_end() starts the next */
	timing_cmp(s, &before, ev);
	return 0;
}

bool xh_bfd_steady_image(const struct xh_bfd_session *s,
			 struct xh_bfd_ctl *img)
{
	memset(img, 0, sizeof(*img));
	if (s->state != XH_BFD_UP)
		return false;
	img->vers_diag = XH_BFD_VERS_DIAG(XH_BFD_VERSION, s->remote_diag);
	img->flags = s->remote_flags;
	img->detect_mult = s->remote_detect_mult;
	img->length = XH_BFD_CTL_LEN;
	img->my_disc = htonl(s->remote_disc);
	img->your_disc = htonl(s->local_disc);
	img->desired_min_tx = htonl(s->remote_min_tx_us);
	img->required_min_rx = htonl(s->remote_min_rx_us);
	img->required_min_echo_rx = htonl(s->remote_min_echo_rx_us);
	return true;
}

bool xh_bfd_steady(const struct xh_bfd_ctl *c, const struct xh_bfd_session *s)
{
	struct xh_bfd_ctl img;

	return xh_bfd_steady_image(s, &img) && !memcmp(c, &img, sizeof(img));
}

const char *xh_bfd_state_name(unsigned int state)
{
	static const char *const names[] = {
		[XH_BFD_ADMIN_DOWN]	= "admin-down",
		[XH_BFD_DOWN]		= "down",
		[XH_BFD_INIT]		= "init",
		[XH_BFD_UP]		= "up",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] :
							  "unknown";
}

const char *xh_bfd_diag_name(unsigned int diag)
{
	static const char *const names[] = {
		[XH_BFD_DIAG_NONE]		= "none",
		[XH_BFD_DIAG_DETECT_EXPIRED]	= "detect-expired",
		[XH_BFD_DIAG_ECHO_FAILED]	= "echo-failed",
		[XH_BFD_DIAG_NEIGHBOR_DOWN]	= "neighbor-down",
		[XH_BFD_DIAG_FWD_RESET]		= "forwarding-reset",
		[XH_BFD_DIAG_PATH_DOWN]		= "path-down",
		[XH_BFD_DIAG_CONCAT_DOWN]	= "concat-path-down",
		[XH_BFD_DIAG_ADMIN_DOWN]	= "admin-down",
		[XH_BFD_DIAG_REV_CONCAT_DOWN]	= "rev-concat-path-down",
	};

	return diag < sizeof(names) / sizeof(names[0]) ? names[diag] :
							 "unknown";
}

const char *xh_bfd_rx_reason_name(unsigned int reason)
{
	static const char *const names[XH_BFD_RX_REASON_MAX] = {
		[XH_BFD_RX_OK]		= "ok",
		[XH_BFD_RX_SHORT]	= "short",
		[XH_BFD_RX_VERSION]	= "version",
		[XH_BFD_RX_LENGTH]	= "length",
		[XH_BFD_RX_MULT]	= "detect-mult",
		[XH_BFD_RX_MULTIPOINT]	= "multipoint",
		[XH_BFD_RX_MY_DISC]	= "my-disc",
		[XH_BFD_RX_YOUR_DISC]	= "your-disc",
		[XH_BFD_RX_NO_DISC]	= "no-your-disc",
		[XH_BFD_RX_AUTH]	= "auth",
		[XH_BFD_RX_TTL]		= "ttl",
		[XH_BFD_RX_ADMIN_DOWN]	= "admin-down",
	};

	return reason < XH_BFD_RX_REASON_MAX ? names[reason] : "unknown";
}
