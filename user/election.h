/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * election.h - who owns a group of VIPs: the decision of one member, from
 * what it knows of itself and of its peers. Pure (no clock, no I/O), so
 * every rule is unit-tested (selftests/unit/test_election.c).
 *
 * Rules, as in VRRP but with BFD for liveness:
 *  - a peer counts only while its BFD session is Up and we have heard its
 *    advert since (priority, claim, eligibility);
 *  - order: higher priority wins, then the higher address;
 *  - nobody claims: the best eligible member claims (after the startup
 *    wait, so that a member that boots does not grab a group a peer it
 *    has not heard yet owns);
 *  - someone claims: a better member claims over it only with preemption
 *    and once its hold-down is over; the claimant it beats yields;
 *  - two claim (a healed partition, or a preemption): the lesser yields
 *    at once;
 *  - with an arbiter (a cluster manager), the member decides nothing:
 *    only promote and demote change ownership, and the data path never
 *    takes over by itself.
 */
#ifndef XH_ELECTION_H
#define XH_ELECTION_H

#include <stdbool.h>
#include <linux/types.h>

#define XE_MAX_PEERS	8

struct xe_peer {
	__be32 addr[4];		/* its address (xh_abi.h layout) */
	bool up;		/* BFD session Up */
	bool heard;		/* an advert arrived since the session came Up */
	__u8 priority;		/* from its advert */
	bool claims;		/* its advert claims the group */
	bool eligible;		/* its advert: not demoted */
};

struct xe_input {
	__be32 addr[4];		/* ours */
	__u8 priority;
	bool owns;		/* our gate is open (YES, or TAKEN by the kernel) */
	bool eligible;		/* not demoted */
	bool arbiter;
	bool preempt;
	bool startup_done;	/* startup wait over */
	bool held_down;		/* within hold-down: may not preempt yet */
	const struct xe_peer *peers;
	unsigned int n_peers;
};

enum xe_action {
	XE_KEEP = 0,		/* nothing to change */
	XE_CLAIM,		/* open our gate, announce, advertise */
	XE_YIELD,		/* close our gate */
};

struct xe_decision {
	enum xe_action action;
	int owner;		/* peer index of the claimant we follow, -1 */
	bool next_in_line;	/* the data path may take over from owner */
	const char *why;	/* for events and logs */
};

/* true if member (pa, aa) wins over (pb, ab). */
bool xe_better(__u8 pa, const __be32 aa[4], __u8 pb, const __be32 ab[4]);

void xe_decide(const struct xe_input *in, struct xe_decision *out);

#endif
