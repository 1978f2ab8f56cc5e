// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * election.c - the ownership decision of one member (see election.h).
 */
#include <string.h>
#include <arpa/inet.h>
#include "election.h"

bool xe_better(__u8 pa, const __be32 aa[4], __u8 pb, const __be32 ab[4])
{
	int i;

	if (pa != pb)
		return pa > pb;
	/* Addresses compare as numbers: word by word in host order. */
	for (i = 0; i < 4; i++)
		if (aa[i] != ab[i])
			return ntohl(aa[i]) > ntohl(ab[i]);
	return false;
}

static bool counts(const struct xe_peer *p)
{
	return p->up && p->heard;
}

/* The best peer that claims, or -1. */
static int best_claimant(const struct xe_input *in)
{
	int best = -1;
	unsigned int i;

	for (i = 0; i < in->n_peers; i++) {
		const struct xe_peer *p = &in->peers[i];

		if (!counts(p) || !p->claims)
			continue;
		if (best < 0 || xe_better(p->priority, p->addr,
					  in->peers[best].priority,
					  in->peers[best].addr))
			best = i;
	}
	return best;
}

/* Is there an eligible peer, other than skip, that beats us? */
static bool beaten(const struct xe_input *in, int skip)
{
	unsigned int i;

	for (i = 0; i < in->n_peers; i++) {
		const struct xe_peer *p = &in->peers[i];

		if ((int)i == skip || !counts(p) || !p->eligible)
			continue;
		if (xe_better(p->priority, p->addr, in->priority, in->addr))
			return true;
	}
	return false;
}

static bool unheard(const struct xe_input *in)
{
	unsigned int i;

	for (i = 0; i < in->n_peers; i++)
		if (in->peers[i].up && !in->peers[i].heard)
			return true;
	return false;
}

void xe_decide(const struct xe_input *in, struct xe_decision *out)
{
	int owner = best_claimant(in);
	const struct xe_peer *o = owner >= 0 ? &in->peers[owner] : NULL;

	memset(out, 0, sizeof(*out));
	out->owner = owner;
	out->why = "";
	if (in->arbiter) {
		out->why = "arbiter decides";
		return;
	}
	if (in->owns) {
		if (!in->eligible) {
			out->action = XE_YIELD;
			out->why = "demoted";
		} else if (o && xe_better(o->priority, o->addr, in->priority,
					  in->addr)) {
			out->action = XE_YIELD;
			out->why = "a better member claims the group";
		} else {
			out->why = "owner";
		}
		return;
	}
	if (!in->eligible) {
		out->why = "demoted";
		return;
	}
	if (o) {
		if (in->preempt && !in->held_down &&
		    xe_better(in->priority, in->addr, o->priority, o->addr)) {
			out->action = XE_CLAIM;
			out->why = "preempt";
			return;
		}
		/* Standby: the data path takes over from the owner only if
		 * no other live member outranks us. */
		out->next_in_line = !beaten(in, owner);
		out->why = "standby";
		return;
	}
	if (unheard(in)) {
		out->why = "waiting for a peer's advert";
		return;
	}
	if (!in->startup_done) {
		out->why = "startup";
		return;
	}
	if (beaten(in, -1)) {
		out->why = "a better member will claim";
		return;
	}
	out->action = XE_CLAIM;
	out->why = "no live owner";
}
