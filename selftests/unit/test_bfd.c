// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_bfd.c - cmocka tests of the BFD session core (user/bfd.c) and the
 * wire format and steady predicate of include/xh_bfd.h.
 *
 * Two sessions are wired back to back: a packet built by one is fed to the
 * other, with time advanced by hand, so every RFC 5880 rule is checked on
 * real packets rather than on hand-set session fields.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bfd.h"

#define MS	1000000ULL	/* ns */
#define DISC_A	0x0a0a0a0aU
#define DISC_B	0x0b0b0b0bU

/* Fast timers as the failover use wants them: 10 ms, mult 3. */
static const struct xh_bfd_cfg fast = {
	.desired_min_tx_us = 10000,
	.required_min_rx_us = 10000,
	.detect_mult = 3,
};

static void mk(struct xh_bfd_session *s, __u32 disc,
	       const struct xh_bfd_cfg *cfg)
{
	assert_int_equal(xh_bfd_init(s, disc, cfg, 0), 0);
}

/* Send one packet from -> to; returns xh_bfd_rx()'s result. */
static int xfer(const struct xh_bfd_session *from, struct xh_bfd_session *to,
		bool final, __u64 now, struct xh_bfd_event *ev)
{
	__u8 buf[64];

	assert_int_equal(xh_bfd_build(from, buf, sizeof(buf), final),
			 XH_BFD_CTL_LEN);
	return xh_bfd_rx(to, buf, XH_BFD_CTL_LEN, XH_BFD_TTL, now, ev);
}

/* Three-way handshake, then both poll sequences (leaving slow start)
 * answered, so both sessions are Up with the configured timers in force. */
static void bring_up(struct xh_bfd_session *a, struct xh_bfd_session *b,
		     __u64 *now)
{
	assert_int_equal(xfer(a, b, false, *now, NULL), 0);
	assert_int_equal(xfer(b, a, false, *now, NULL), 0);
	assert_int_equal(xfer(a, b, false, *now, NULL), 0);
	assert_int_equal(a->state, XH_BFD_UP);
	assert_int_equal(b->state, XH_BFD_UP);
	/* Each side polls; each answers the other's Poll with a Final. */
	*now += MS;
	assert_int_equal(xfer(a, b, false, *now, NULL), 0);
	assert_int_equal(xfer(b, a, true, *now, NULL), 0);
	assert_int_equal(xfer(b, a, false, *now, NULL), 0);
	assert_int_equal(xfer(a, b, true, *now, NULL), 0);
	assert_false(a->poll);
	assert_false(b->poll);
}

static void ctl_of(const struct xh_bfd_session *s, struct xh_bfd_ctl *c,
		   bool final)
{
	assert_int_equal(xh_bfd_build(s, c, sizeof(*c), final), XH_BFD_CTL_LEN);
}

static void test_wire(void **state)
{
	static const __u8 want[XH_BFD_CTL_LEN] = {
		0x20, 0x40, 0x03, 0x18,		/* v1 diag 0, Down, mult 3, 24 */
		0x0a, 0x0a, 0x0a, 0x0a,		/* my disc */
		0x00, 0x00, 0x00, 0x00,		/* your disc */
		0x00, 0x0f, 0x42, 0x40,		/* 1 s: slow start */
		0x00, 0x00, 0x27, 0x10,		/* 10 ms */
		0x00, 0x00, 0x00, 0x00,		/* no echo */
	};
	struct xh_bfd_session a, b;
	struct xh_bfd_ctl c;
	__u8 buf[XH_BFD_CTL_LEN + 8];

	(void)state;
	mk(&a, DISC_A, &fast);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(xh_bfd_build(&a, buf, 23, false), -ENOSPC);
	assert_int_equal(buf[0], 0xee);
	assert_int_equal(xh_bfd_build(&a, buf, sizeof(buf), false),
			 XH_BFD_CTL_LEN);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[XH_BFD_CTL_LEN], 0xee);

	/* Decode helpers on every field of a hand-made packet. */
	memset(&c, 0, sizeof(c));
	c.vers_diag = XH_BFD_VERS_DIAG(XH_BFD_VERSION,
				       XH_BFD_DIAG_REV_CONCAT_DOWN);
	c.flags = XH_BFD_FLAGS(XH_BFD_INIT, XH_BFD_F_POLL | XH_BFD_F_DEMAND);
	assert_int_equal(c.vers_diag, 0x28);
	assert_int_equal(c.flags, 0xa2);
	assert_int_equal(xh_bfd_ctl_version(&c), 1);
	assert_int_equal(xh_bfd_ctl_diag(&c), 8);
	assert_int_equal(xh_bfd_ctl_state(&c), XH_BFD_INIT);
	assert_true(xh_bfd_ctl_flag(&c, XH_BFD_F_POLL));
	assert_true(xh_bfd_ctl_flag(&c, XH_BFD_F_DEMAND));
	assert_false(xh_bfd_ctl_flag(&c, XH_BFD_F_FINAL));
	assert_false(xh_bfd_ctl_flag(&c, XH_BFD_F_CPI));
	assert_false(xh_bfd_ctl_flag(&c, XH_BFD_F_AUTH));
	assert_false(xh_bfd_ctl_flag(&c, XH_BFD_F_MULTI));

	/* Round trip: what a puts on the wire is what b learns. */
	mk(&b, DISC_B, &fast);
	assert_int_equal(xh_bfd_rx(&b, buf, XH_BFD_CTL_LEN, 255, 5, NULL), 0);
	assert_int_equal(b.remote_disc, DISC_A);
	assert_int_equal(b.remote_state, XH_BFD_DOWN);
	assert_int_equal(b.remote_detect_mult, 3);
	assert_int_equal(b.remote_min_tx_us, 1000000);
	assert_int_equal(b.remote_min_rx_us, 10000);
	assert_int_equal(b.remote_min_echo_rx_us, 0);
	assert_false(b.remote_demand);
	/* and b's answer names a: Init, your disc = a's */
	ctl_of(&b, &c, false);
	assert_int_equal(xh_bfd_ctl_state(&c), XH_BFD_INIT);
	assert_int_equal(ntohl(c.my_disc), DISC_B);
	assert_int_equal(ntohl(c.your_disc), DISC_A);

	assert_string_equal(xh_bfd_state_name(XH_BFD_UP), "up");
	assert_string_equal(xh_bfd_state_name(4), "unknown");
	assert_string_equal(xh_bfd_diag_name(XH_BFD_DIAG_NEIGHBOR_DOWN),
			    "neighbor-down");
	assert_string_equal(xh_bfd_diag_name(9), "unknown");
	assert_string_equal(xh_bfd_rx_reason_name(XH_BFD_RX_TTL), "ttl");
}

/* One validation case: a change to a valid Down packet from b to a and
 * what a must say about it. */
struct bad_case {
	const char *name;
	size_t len;		/* datagram length */
	__u8 ttl;
	bool init_first;	/* take a to Init first */
	int field;		/* which byte/word to set, see apply() */
	__u32 value;
	int err;
	int reason;
};

enum { F_NONE, F_VERS_DIAG, F_FLAGS, F_MULT, F_LENGTH, F_MY, F_YOUR };

static void apply(struct xh_bfd_ctl *c, int field, __u32 v)
{
	switch (field) {
	case F_VERS_DIAG:
		c->vers_diag = v;
		break;
	case F_FLAGS:
		c->flags = v;
		break;
	case F_MULT:
		c->detect_mult = v;
		break;
	case F_LENGTH:
		c->length = v;
		break;
	case F_MY:
		c->my_disc = htonl(v);
		break;
	case F_YOUR:
		c->your_disc = htonl(v);
		break;
	}
}

static void test_validation(void **state)
{
	const __u8 down = XH_BFD_DOWN << 6;
	const struct bad_case cases[] = {
		{ "valid", 24, 255, false, F_NONE, 0, 0, XH_BFD_RX_OK },
		{ "valid in Init", 24, 255, true, F_YOUR, DISC_A, 0,
		  XH_BFD_RX_OK },
		{ "short", 23, 255, false, F_NONE, 0, -EBADMSG,
		  XH_BFD_RX_SHORT },
		{ "version 0", 24, 255, false, F_VERS_DIAG, 0x00, -EBADMSG,
		  XH_BFD_RX_VERSION },
		{ "version 2", 24, 255, false, F_VERS_DIAG, 0x40, -EBADMSG,
		  XH_BFD_RX_VERSION },
		{ "length 23", 24, 255, false, F_LENGTH, 23, -EBADMSG,
		  XH_BFD_RX_LENGTH },
		{ "length > datagram", 24, 255, false, F_LENGTH, 25, -EBADMSG,
		  XH_BFD_RX_LENGTH },
		{ "detect mult 0", 24, 255, false, F_MULT, 0, -EBADMSG,
		  XH_BFD_RX_MULT },
		{ "multipoint", 24, 255, false, F_FLAGS, down | XH_BFD_F_MULTI,
		  -EBADMSG, XH_BFD_RX_MULTIPOINT },
		{ "my disc 0", 24, 255, false, F_MY, 0, -EBADMSG,
		  XH_BFD_RX_MY_DISC },
		{ "your disc not ours", 24, 255, false, F_YOUR, DISC_A + 1,
		  -ENOENT, XH_BFD_RX_YOUR_DISC },
		{ "your disc 0 in Init", 24, 255, true, F_YOUR, 0, -EINVAL,
		  XH_BFD_RX_NO_DISC },
		{ "auth", 24, 255, false, F_FLAGS, down | XH_BFD_F_AUTH,
		  -EOPNOTSUPP, XH_BFD_RX_AUTH },
		{ "ttl 254", 24, 254, false, F_NONE, 0, -EPERM,
		  XH_BFD_RX_TTL },
	};
	struct xh_bfd_session a, b, before;
	struct xh_bfd_event ev;
	struct xh_bfd_ctl c;
	unsigned int i;

	(void)state;
	mk(&b, DISC_B, &fast);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *t = &cases[i];
		__u8 buf[32];
		int err;

		mk(&a, DISC_A, &fast);
		if (t->init_first) {
			assert_int_equal(xfer(&b, &a, false, 0, NULL), 0);
			assert_int_equal(a.state, XH_BFD_INIT);
		}
		ctl_of(&b, &c, false);
		apply(&c, t->field, t->value);
		memset(buf, 0, sizeof(buf));
		memcpy(buf, &c, sizeof(c));
		memcpy(&before, &a, sizeof(a));
		err = xh_bfd_rx(&a, buf, t->len, t->ttl, 7, &ev);
		if (err != t->err || ev.reason != t->reason)
			print_message("case '%s': %d reason %u\n", t->name,
				      err, ev.reason);
		assert_int_equal(err, t->err);
		assert_int_equal(ev.reason, t->reason);
		if (err) {
			assert_memory_equal(&a, &before, sizeof(a));
			assert_false(ev.state_changed);
		} else {
			assert_int_equal(a.remote_disc, DISC_B);
		}
	}
}

static void test_handshake(void **state)
{
	struct xh_bfd_session a, b;
	struct xh_bfd_event ev;
	__u64 now = 100 * MS;

	(void)state;
	mk(&a, DISC_A, &fast);
	mk(&b, DISC_B, &fast);

	/* a: Down, your 0 -> b goes Init and learns a */
	assert_int_equal(xfer(&a, &b, false, now, &ev), 0);
	assert_true(ev.state_changed);
	assert_int_equal(ev.old_state, XH_BFD_DOWN);
	assert_int_equal(ev.new_state, XH_BFD_INIT);
	assert_int_equal(b.state, XH_BFD_INIT);
	assert_int_equal(b.remote_disc, DISC_A);
	assert_int_equal(a.remote_disc, 0);

	/* b: Init -> a goes Up directly */
	now += 10 * MS;
	assert_int_equal(xfer(&b, &a, false, now, &ev), 0);
	assert_true(ev.state_changed);
	assert_int_equal(ev.old_state, XH_BFD_DOWN);
	assert_int_equal(ev.new_state, XH_BFD_UP);
	assert_int_equal(ev.diag, XH_BFD_DIAG_NONE);
	assert_int_equal(a.remote_disc, DISC_B);
	assert_int_equal(a.state, XH_BFD_UP);
	assert_int_equal(a.changed_ns, now);

	/* a: Up -> b goes Up */
	assert_int_equal(xfer(&a, &b, false, now, &ev), 0);
	assert_true(ev.state_changed);
	assert_int_equal(ev.old_state, XH_BFD_INIT);
	assert_int_equal(ev.new_state, XH_BFD_UP);
	assert_int_equal(b.state, XH_BFD_UP);

	/* Steady Up both ways changes nothing. */
	assert_int_equal(xfer(&a, &b, false, now, &ev), 0);
	assert_false(ev.state_changed);
	assert_int_equal(xfer(&b, &a, false, now, &ev), 0);
	assert_false(ev.state_changed);
	assert_int_equal(a.remote_state, XH_BFD_UP);
	assert_int_equal(b.remote_state, XH_BFD_UP);

	/* Down + peer Up stays Down (§6.8.6: only Down/Init count). */
	mk(&a, DISC_A, &fast);
	assert_int_equal(xfer(&b, &a, false, now, &ev), 0);
	assert_false(ev.state_changed);
	assert_int_equal(a.state, XH_BFD_DOWN);
}

static void test_remote_admin_down(void **state)
{
	struct xh_bfd_session a, b, c;
	struct xh_bfd_event ev;
	__u64 now = 0;

	(void)state;
	mk(&a, DISC_A, &fast);
	mk(&b, DISC_B, &fast);
	bring_up(&a, &b, &now);

	xh_bfd_set_admin_down(&b, true, now, &ev);
	assert_true(ev.state_changed);
	assert_int_equal(b.state, XH_BFD_ADMIN_DOWN);
	assert_int_equal(b.local_diag, XH_BFD_DIAG_ADMIN_DOWN);
	assert_int_equal(xh_bfd_detect_deadline_ns(&b), 0);

	assert_int_equal(xfer(&b, &a, false, now, &ev), 0);
	assert_true(ev.state_changed);
	assert_int_equal(ev.old_state, XH_BFD_UP);
	assert_int_equal(ev.new_state, XH_BFD_DOWN);
	assert_int_equal(ev.diag, XH_BFD_DIAG_NEIGHBOR_DOWN);
	assert_int_equal(a.state, XH_BFD_DOWN);
	assert_int_equal(a.local_diag, XH_BFD_DIAG_NEIGHBOR_DOWN);
	assert_int_equal(a.desired_min_tx_us, XH_BFD_SLOW_TX_US);

	/* Already Down: a second AdminDown packet changes nothing. */
	assert_int_equal(xfer(&b, &a, false, now, &ev), 0);
	assert_false(ev.state_changed);

	/* Locally AdminDown: packets are refused after learning the peer. */
	assert_int_equal(xfer(&a, &b, false, now, &ev), -ENETDOWN);
	assert_int_equal(ev.reason, XH_BFD_RX_ADMIN_DOWN);
	assert_int_equal(b.state, XH_BFD_ADMIN_DOWN);
	xh_bfd_set_admin_down(&b, false, now, &ev);
	assert_true(ev.state_changed);
	assert_int_equal(b.state, XH_BFD_DOWN);

	/* Init also goes Down on the peer's AdminDown, diag 3. */
	mk(&b, DISC_B, &fast);
	mk(&c, 0x0c, &fast);
	assert_int_equal(xfer(&b, &c, false, now, NULL), 0);
	assert_int_equal(c.state, XH_BFD_INIT);
	assert_int_equal(xfer(&c, &b, false, now, NULL), 0);
	xh_bfd_set_admin_down(&b, true, now, NULL);
	assert_int_equal(xfer(&b, &c, false, now, &ev), 0);
	assert_int_equal(c.state, XH_BFD_DOWN);
	assert_int_equal(ev.diag, XH_BFD_DIAG_NEIGHBOR_DOWN);
}

static void test_detect_timeout(void **state)
{
	struct xh_bfd_session a, b;
	struct xh_bfd_event ev;
	__u64 now = 1000 * MS, last, dt;

	(void)state;
	mk(&a, DISC_A, &fast);
	mk(&b, DISC_B, &fast);
	/* No packet yet: no detection timer. */
	assert_int_equal(xh_bfd_detect_deadline_ns(&a), 0);
	assert_int_equal(xh_bfd_check_timeout(&a, now, &ev), 0);

	bring_up(&a, &b, &now);
	now += 5 * MS;
	assert_int_equal(xfer(&b, &a, false, now, NULL), 0);
	last = now;
	dt = xh_bfd_detect_time_ns(&a);
	assert_int_equal(dt, 30 * MS);	/* 3 x max(10 ms, 10 ms) */
	assert_int_equal(xh_bfd_detect_deadline_ns(&a), last + dt);

	assert_int_equal(xh_bfd_check_timeout(&a, last + dt - 1, &ev), 0);
	assert_false(ev.state_changed);
	assert_int_equal(a.state, XH_BFD_UP);

	/* A stamp from the data path moves the deadline like a packet. */
	xh_bfd_touch(&a, last + 20 * MS);
	xh_bfd_touch(&a, last + 10 * MS);	/* older: ignored */
	last += 20 * MS;
	assert_int_equal(xh_bfd_detect_deadline_ns(&a), last + dt);
	assert_int_equal(xh_bfd_check_timeout(&a, last + dt - 1, &ev), 0);
	assert_int_equal(a.state, XH_BFD_UP);

	assert_int_equal(xh_bfd_check_timeout(&a, last + dt, &ev), 1);
	assert_true(ev.state_changed);
	assert_int_equal(ev.old_state, XH_BFD_UP);
	assert_int_equal(ev.new_state, XH_BFD_DOWN);
	assert_int_equal(ev.diag, XH_BFD_DIAG_DETECT_EXPIRED);
	assert_int_equal(a.local_diag, XH_BFD_DIAG_DETECT_EXPIRED);
	assert_int_equal(a.remote_disc, 0);
	assert_true(ev.timers_changed);		/* back to slow start */
	/* Fires once. */
	assert_int_equal(xh_bfd_check_timeout(&a, last + 2 * dt, &ev), 0);

	/* The peer still says Up: a stays Down until a new handshake. */
	now = last + dt + MS;
	assert_int_equal(xfer(&b, &a, false, now, &ev), 0);
	assert_int_equal(a.state, XH_BFD_DOWN);
}

static void test_timers(void **state)
{
	const struct xh_bfd_cfg ca = {
		.desired_min_tx_us = 10000, .required_min_rx_us = 20000,
		.detect_mult = 3,
	};
	const struct xh_bfd_cfg cb = {
		.desired_min_tx_us = 50000, .required_min_rx_us = 30000,
		.detect_mult = 5,
	};
	struct xh_bfd_cfg cc = ca;
	struct xh_bfd_session a, b, c;
	struct xh_bfd_ctl p;
	__u64 now = 0;

	(void)state;
	assert_int_equal(xh_bfd_init(&a, 0, &ca, 0), -EINVAL);
	cc.detect_mult = 0;
	assert_int_equal(xh_bfd_init(&a, 1, &cc, 0), -EINVAL);

	mk(&a, DISC_A, &ca);
	mk(&b, DISC_B, &cb);
	/* Slow start: 1 s while not Up, whatever is configured. */
	assert_int_equal(xh_bfd_tx_interval_ns(&a), 1000 * MS);
	assert_int_equal(xh_bfd_detect_time_ns(&a), 0);
	assert_int_equal(xfer(&a, &b, false, now, NULL), 0);
	assert_int_equal(xh_bfd_tx_interval_ns(&b), 1000 * MS);
	/* b knows a's 1 s tx: detect = 3 x max(30 ms, 1 s) */
	assert_int_equal(xh_bfd_detect_time_ns(&b), 3000 * MS);

	mk(&b, DISC_B, &cb);	/* bring_up() starts from Down */
	bring_up(&a, &b, &now);
	/* tx = max(own Desired Min TX, peer's Required Min RX) */
	assert_int_equal(xh_bfd_tx_interval_ns(&a), 30 * MS);
	assert_int_equal(xh_bfd_tx_interval_ns(&b), 50 * MS);
	/* detect = peer mult x max(own Required Min RX, peer Desired Min TX) */
	assert_int_equal(xh_bfd_detect_time_ns(&a), 5 * 50 * MS);
	assert_int_equal(xh_bfd_detect_time_ns(&b), 3 * 30 * MS);

	/* The slow-start floor is a cfg field, for tests with ms timers. */
	cc = ca;
	cc.slow_tx_us = 2000;
	mk(&c, 3, &cc);
	assert_int_equal(xh_bfd_tx_interval_ns(&c), 10 * MS);
	ctl_of(&c, &p, false);
	assert_int_equal(ntohl(p.desired_min_tx), 10000);

	/* 1 ms works end to end. */
	cc = fast;
	cc.desired_min_tx_us = cc.required_min_rx_us = 1000;
	mk(&a, DISC_A, &cc);
	mk(&b, DISC_B, &cc);
	bring_up(&a, &b, &now);
	assert_int_equal(xh_bfd_tx_interval_ns(&a), 1 * MS);
	assert_int_equal(xh_bfd_detect_time_ns(&a), 3 * MS);

	/* Passive: silent until the peer is heard. */
	cc = fast;
	cc.passive = true;
	mk(&c, 3, &cc);
	assert_int_equal(xh_bfd_tx_interval_ns(&c), 0);
	assert_int_equal(xfer(&a, &c, false, now, NULL), -ENOENT);
	mk(&a, DISC_A, &fast);
	assert_int_equal(xfer(&a, &c, false, now, NULL), 0);
	assert_int_equal(xh_bfd_tx_interval_ns(&c), 1000 * MS);

	/* Peer's Required Min RX 0: no periodic packets to it. */
	ctl_of(&a, &p, false);
	p.your_disc = htonl(3);
	p.required_min_rx = 0;
	assert_int_equal(xh_bfd_rx(&c, &p, sizeof(p), 255, now, NULL), 0);
	assert_int_equal(xh_bfd_tx_interval_ns(&c), 0);
}

static void test_poll_final(void **state)
{
	struct xh_bfd_session a, b;
	struct xh_bfd_event ev;
	struct xh_bfd_ctl p;
	__u64 now = 0;

	(void)state;
	mk(&a, DISC_A, &fast);
	mk(&b, DISC_B, &fast);

	/* Going Up leaves slow start, which itself is a poll sequence. */
	assert_int_equal(xfer(&a, &b, false, now, NULL), 0);
	assert_int_equal(xfer(&b, &a, false, now, &ev), 0);
	assert_int_equal(a.state, XH_BFD_UP);
	assert_true(a.poll);
	assert_true(ev.timers_changed);
	ctl_of(&a, &p, false);
	assert_true(xh_bfd_ctl_flag(&p, XH_BFD_F_POLL));
	assert_int_equal(ntohl(p.desired_min_tx), 10000);
	/* A decrease of Desired Min TX applies at once. */
	assert_int_equal(xh_bfd_tx_interval_ns(&a), 10 * MS);
	assert_int_equal(xfer(&a, &b, false, now, NULL), 0);
	assert_int_equal(b.state, XH_BFD_UP);
	bring_up(&a, &b, &now);

	/* Slower tx, faster rx: both must wait for the Final. */
	assert_int_equal(xh_bfd_set_timers(&a, 0, 1, &ev), -EINVAL);
	assert_int_equal(xh_bfd_set_timers(&a, 100000, 5000, &ev), 0);
	assert_false(ev.timers_changed);
	assert_true(a.poll);
	assert_int_equal(xh_bfd_tx_interval_ns(&a), 10 * MS);
	assert_int_equal(xh_bfd_detect_time_ns(&a), 30 * MS);
	ctl_of(&a, &p, false);
	assert_true(xh_bfd_ctl_flag(&p, XH_BFD_F_POLL));
	assert_false(xh_bfd_ctl_flag(&p, XH_BFD_F_FINAL));
	assert_int_equal(ntohl(p.desired_min_tx), 100000);
	assert_int_equal(ntohl(p.required_min_rx), 5000);

	/* b gets the Poll: must answer with F, learns a's new timers. */
	assert_int_equal(xfer(&a, &b, false, now, &ev), 0);
	assert_true(ev.need_final);
	assert_true(ev.timers_changed);
	assert_int_equal(xh_bfd_detect_time_ns(&b), 3 * 100 * MS);
	ctl_of(&b, &p, true);
	assert_true(xh_bfd_ctl_flag(&p, XH_BFD_F_FINAL));
	assert_false(xh_bfd_ctl_flag(&p, XH_BFD_F_POLL));

	/* b's periodic packet, no F: a's poll goes on. */
	assert_int_equal(xfer(&b, &a, false, now, &ev), 0);
	assert_false(ev.poll_done);
	assert_true(a.poll);

	/* Changes during a poll are held for the next one. */
	assert_int_equal(xh_bfd_set_timers(&a, 200000, 5000, &ev), 0);
	ctl_of(&a, &p, false);
	assert_int_equal(ntohl(p.desired_min_tx), 100000);

	/* F: old values go, the held change starts a new sequence. */
	assert_int_equal(xfer(&b, &a, true, now, &ev), 0);
	assert_true(ev.poll_done);
	assert_true(ev.timers_changed);
	assert_int_equal(xh_bfd_tx_interval_ns(&a), 100 * MS);
	assert_int_equal(xh_bfd_detect_time_ns(&a), 3 * 10 * MS);
	assert_true(a.poll);
	ctl_of(&a, &p, false);
	assert_true(xh_bfd_ctl_flag(&p, XH_BFD_F_POLL));
	assert_int_equal(ntohl(p.desired_min_tx), 200000);

	assert_int_equal(xfer(&b, &a, true, now, &ev), 0);
	assert_true(ev.poll_done);
	assert_false(a.poll);
	assert_int_equal(xh_bfd_tx_interval_ns(&a), 200 * MS);
	ctl_of(&a, &p, false);
	assert_false(xh_bfd_ctl_flag(&p, XH_BFD_F_POLL));

	/* A Final with no poll running is ignored. */
	assert_int_equal(xfer(&b, &a, true, now, &ev), 0);
	assert_false(ev.poll_done);

	/* Larger Required Min RX applies at once; smaller tx likewise. */
	assert_int_equal(xh_bfd_set_timers(&a, 10000, 40000, &ev), 0);
	assert_true(ev.timers_changed);
	assert_int_equal(xh_bfd_tx_interval_ns(&a), 10 * MS);
	assert_int_equal(xh_bfd_detect_time_ns(&a), 3 * 40 * MS);
	assert_int_equal(xfer(&b, &a, true, now, &ev), 0);
	assert_true(ev.poll_done);

	/* Smaller Required Min RX waits for the Final. */
	assert_int_equal(xh_bfd_set_timers(&a, 10000, 20000, &ev), 0);
	assert_false(ev.timers_changed);
	assert_int_equal(xh_bfd_detect_time_ns(&a), 3 * 40 * MS);
	assert_int_equal(xfer(&b, &a, true, now, &ev), 0);
	assert_true(ev.timers_changed);
	assert_int_equal(xh_bfd_detect_time_ns(&a), 3 * 20 * MS);

	/* Not Up: new values apply at once, no poll. */
	xh_bfd_set_admin_down(&a, true, now, NULL);
	assert_int_equal(xh_bfd_set_timers(&a, 20000, 20000, &ev), 0);
	assert_false(a.poll);
	assert_int_equal(a.required_min_rx_us, 20000);
	assert_int_equal(a.eff_min_rx_us, 20000);
	assert_int_equal(a.desired_min_tx_us, XH_BFD_SLOW_TX_US);
}

static void check_jitter(__u64 i, __u8 mult)
{
	const __u32 rnds[] = { 0, 1, 0x7fffffff, 0x80000000, 0xfffeffff,
			       0xffffffff };
	__u64 r, lo = ~0ULL, hi = 0;
	__u32 x = 12345;
	unsigned int k;

	for (k = 0; k < 1000 + sizeof(rnds) / sizeof(rnds[0]); k++) {
		x = x * 1103515245 + 12345;
		r = xh_bfd_jitter_ns(i, mult, k < 6 ? rnds[k] : x);
		assert_true(4 * r >= 3 * i);
		if (mult == 1)
			assert_true(10 * r <= 9 * i);
		else
			assert_true(r < i);
		lo = r < lo ? r : lo;
		hi = r > hi ? r : hi;
	}
	/* The whole range is used, not a constant inside it. */
	assert_true(4 * lo <= 3 * i + 4);
	if (mult == 1)
		assert_true(100 * hi >= 89 * i);
	else
		assert_true(100 * hi >= 99 * i);
}

static void test_jitter(void **state)
{
	(void)state;
	check_jitter(1 * MS, 1);
	check_jitter(1 * MS, 3);
	check_jitter(1000 * MS, 1);
	check_jitter(1000 * MS, 255);
	check_jitter(0xffffffffULL * 1000, 1);
	check_jitter(0xffffffffULL * 1000, 2);
}

static void test_steady(void **state)
{
	struct xh_bfd_session a, b, before;
	struct xh_bfd_event ev;
	struct xh_bfd_ctl good, img, p;
	__u64 now = 0;
	unsigned int i;

	(void)state;
	mk(&a, DISC_A, &fast);
	mk(&b, DISC_B, &fast);
	ctl_of(&b, &good, false);
	assert_false(xh_bfd_steady(&good, &a));		/* a not Up */
	memset(&img, 0xee, sizeof(img));
	assert_false(xh_bfd_steady_image(&a, &img));
	assert_int_equal(img.my_disc, 0);
	bring_up(&a, &b, &now);
	ctl_of(&b, &good, false);

	assert_true(xh_bfd_steady(&good, &a));
	assert_true(xh_bfd_steady_image(&a, &img));
	assert_memory_equal(&img, &good, sizeof(img));

	/* Steady means rx changes nothing but the last-seen time. */
	memcpy(&before, &a, sizeof(a));
	now += MS;
	assert_int_equal(xh_bfd_rx(&a, &good, sizeof(good), 255, now, &ev), 0);
	assert_false(ev.state_changed || ev.need_final || ev.poll_done ||
		     ev.timers_changed);
	before.last_rx_ns = now;
	assert_memory_equal(&a, &before, sizeof(a));

	for (i = 0; i < 14; i++) {
		p = good;
		switch (i) {
		case 0: p.flags = XH_BFD_FLAGS(XH_BFD_INIT, 0); break;
		case 1: p.flags |= XH_BFD_F_POLL; break;
		case 2: p.flags |= XH_BFD_F_FINAL; break;
		case 3: p.flags |= XH_BFD_F_CPI; break;
		case 4: p.flags |= XH_BFD_F_DEMAND; break;
		case 5: p.detect_mult++; break;
		case 6: p.my_disc ^= htonl(1); break;
		case 7: p.your_disc ^= htonl(1); break;
		case 8: p.desired_min_tx = htonl(20000); break;
		case 9: p.required_min_rx = htonl(20000); break;
		case 10: p.required_min_echo_rx = htonl(1); break;
		case 11: p.vers_diag = XH_BFD_VERS_DIAG(2, 0); break;
		case 12: p.vers_diag = XH_BFD_VERS_DIAG(1, 5); break;
		case 13: p.length = 25; break;
		}
		if (xh_bfd_steady(&p, &a))
			print_message("change %u: still steady\n", i);
		assert_false(xh_bfd_steady(&p, &a));
	}

	/* After a change is accepted, the new value is the steady one. */
	p = good;
	p.desired_min_tx = htonl(20000);
	assert_int_equal(xh_bfd_rx(&a, &p, sizeof(p), 255, now, &ev), 0);
	assert_true(ev.timers_changed);
	assert_true(xh_bfd_steady(&p, &a));
	assert_false(xh_bfd_steady(&good, &a));
	/* Likewise for the peer's C bit and echo interval. */
	p.flags |= XH_BFD_F_CPI;
	p.required_min_echo_rx = htonl(50000);
	assert_false(xh_bfd_steady(&p, &a));
	assert_int_equal(xh_bfd_rx(&a, &p, sizeof(p), 255, now, &ev), 0);
	assert_true(xh_bfd_steady(&p, &a));
	/* A Poll is answered, then its image (P cleared) is steady. */
	p.flags |= XH_BFD_F_POLL;
	assert_false(xh_bfd_steady(&p, &a));
	assert_int_equal(xh_bfd_rx(&a, &p, sizeof(p), 255, now, &ev), 0);
	assert_true(ev.need_final);
	p.flags &= ~XH_BFD_F_POLL;
	assert_true(xh_bfd_steady(&p, &a));
	/* Down: nothing is steady. */
	xh_bfd_set_admin_down(&a, true, now, NULL);
	assert_false(xh_bfd_steady(&p, &a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_remote_admin_down),
		cmocka_unit_test(test_detect_timeout),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_poll_final),
		cmocka_unit_test(test_jitter),
		cmocka_unit_test(test_steady),
	};

	return cmocka_run_group_tests_name("bfd", tests, NULL, NULL);
}
