// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_election.c - cmocka tests of the ownership decision (user/election.c):
 * ordering, startup, failover, preemption with hold-down, a healed
 * partition, demotion, the arbiter, and who is next in line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "election.h"

static void addr4(__be32 a[4], const char *s)
{
	memset(a, 0, 16);
	assert_int_equal(inet_pton(AF_INET, s, a), 1);
}

static void peer(struct xe_peer *p, const char *a, __u8 prio, bool claims)
{
	memset(p, 0, sizeof(*p));
	addr4(p->addr, a);
	p->up = p->heard = p->eligible = true;
	p->priority = prio;
	p->claims = claims;
}

/* Self is 198.18.0.11, priority prio, eligible, preempting, started. */
static void self(struct xe_input *in, __u8 prio, struct xe_peer *peers,
		 unsigned int n)
{
	memset(in, 0, sizeof(*in));
	addr4(in->addr, "198.18.0.11");
	in->priority = prio;
	in->eligible = in->preempt = in->startup_done = true;
	in->peers = peers;
	in->n_peers = n;
}

static void test_order(void **st)
{
	__be32 a[4], b[4];

	(void)st;
	addr4(a, "198.18.0.11");
	addr4(b, "198.18.0.9");
	assert_true(xe_better(200, b, 100, a));
	assert_false(xe_better(100, a, 200, b));
	/* equal priority: the higher address, compared as a number (.11
	 * beats .9 although "9" > "1" as text) */
	assert_true(xe_better(100, a, 100, b));
	assert_false(xe_better(100, b, 100, a));
	assert_false(xe_better(100, a, 100, a));
}

static void test_startup(void **st)
{
	struct xe_peer p[1];
	struct xe_input in;
	struct xe_decision d;

	(void)st;
	/* nobody heard yet, startup wait not over: wait */
	peer(&p[0], "198.18.0.12", 100, false);
	p[0].up = p[0].heard = false;
	self(&in, 200, p, 1);
	in.startup_done = false;
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_KEEP);
	/* wait over, still alone: claim */
	in.startup_done = true;
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_CLAIM);
	assert_int_equal(d.owner, -1);
	/* session Up but no advert yet: never claim blind */
	p[0].up = true;
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_KEEP);
	/* heard, lower priority, no claim: we claim even before the wait
	 * is over? No: the wait only ends early in the caller (every peer
	 * heard); the decision itself claims once told startup is done. */
	p[0].heard = true;
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_CLAIM);
	/* the peer is better: it will claim, we do not */
	p[0].priority = 250;
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_KEEP);
	assert_false(d.next_in_line);
}

static void test_failover(void **st)
{
	struct xe_peer p[2];
	struct xe_input in;
	struct xe_decision d;

	(void)st;
	peer(&p[0], "198.18.0.12", 250, true);	/* owner */
	peer(&p[1], "198.18.0.13", 50, false);
	self(&in, 100, p, 2);
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_KEEP);
	assert_int_equal(d.owner, 0);
	assert_true(d.next_in_line);
	/* the owner's session goes down: we are the best left */
	p[0].up = false;
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_CLAIM);
	/* the third member is next in line, not us, if it outranks us */
	p[0].up = true;
	p[1].priority = 150;
	xe_decide(&in, &d);
	assert_false(d.next_in_line);
	/* a demoted better member does not take the place */
	p[1].eligible = false;
	xe_decide(&in, &d);
	assert_true(d.next_in_line);
}

static void test_preempt(void **st)
{
	struct xe_peer p[1];
	struct xe_input in;
	struct xe_decision d;

	(void)st;
	peer(&p[0], "198.18.0.12", 100, true);	/* owns, lower */
	self(&in, 200, p, 1);
	in.held_down = true;
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_KEEP);
	assert_true(d.next_in_line);
	in.held_down = false;
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_CLAIM);
	/* without preemption, never */
	in.preempt = false;
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_KEEP);
	/* the old owner sees our claim and yields */
	self(&in, 100, p, 1);
	peer(&p[0], "198.18.0.12", 200, true);
	in.owns = true;
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_YIELD);
}

static void test_partition_heal(void **st)
{
	struct xe_peer p[1];
	struct xe_input in;
	struct xe_decision d;

	(void)st;
	/* both own; the lesser yields at once, preempt or not */
	peer(&p[0], "198.18.0.12", 100, true);
	self(&in, 100, p, 1);
	in.owns = true;
	in.preempt = false;
	xe_decide(&in, &d);
	/* equal priority, .12 > .11: we are the lesser */
	assert_int_equal(d.action, XE_YIELD);
	/* the peer, deciding with the same facts, keeps the group */
	{
		struct xe_peer q[1];

		peer(&q[0], "198.18.0.11", 100, true);
		self(&in, 100, q, 1);
		addr4(in.addr, "198.18.0.12");
		in.owns = true;
		xe_decide(&in, &d);
		assert_int_equal(d.action, XE_KEEP);
	}
}

static void test_partition_heal_lesser(void **st)
{
	struct xe_peer p[1];
	struct xe_input in;
	struct xe_decision d;

	(void)st;
	peer(&p[0], "198.18.0.9", 100, true);
	self(&in, 100, p, 1);
	in.owns = true;
	in.preempt = false;
	/* equal priority, .11 > .9: we stay, .9 yields */
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_KEEP);
	peer(&p[0], "198.18.0.12", 100, true);
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_YIELD);
	peer(&p[0], "198.18.0.12", 99, true);
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_KEEP);
}

static void test_demote_arbiter(void **st)
{
	struct xe_peer p[1];
	struct xe_input in;
	struct xe_decision d;

	(void)st;
	peer(&p[0], "198.18.0.12", 100, false);
	self(&in, 200, p, 1);
	in.owns = true;
	in.eligible = false;
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_YIELD);
	in.owns = false;
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_KEEP);
	/* the peer sees us not eligible: it claims although lower */
	{
		struct xe_peer q[1];
		struct xe_input in2;

		peer(&q[0], "198.18.0.11", 200, false);
		q[0].eligible = false;
		self(&in2, 100, q, 1);
		addr4(in2.addr, "198.18.0.12");
		xe_decide(&in2, &d);
		assert_int_equal(d.action, XE_CLAIM);
	}
	/* arbiter: nothing decided here, never next in line */
	self(&in, 200, p, 1);
	in.arbiter = true;
	p[0].up = false;
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_KEEP);
	assert_false(d.next_in_line);
	in.owns = true;
	p[0].up = true;
	p[0].claims = true;
	p[0].priority = 250;
	xe_decide(&in, &d);
	assert_int_equal(d.action, XE_KEEP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_startup),
		cmocka_unit_test(test_failover),
		cmocka_unit_test(test_preempt),
		cmocka_unit_test(test_partition_heal),
		cmocka_unit_test(test_partition_heal_lesser),
		cmocka_unit_test(test_demote_arbiter),
	};

	return cmocka_run_group_tests_name("election", tests, NULL, NULL);
}
