/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * maglev.h - the Maglev lookup table builder (pure, no BPF, no I/O).
 *
 * Builds the table of one service from the set of its backends, as in
 * Google's Maglev paper (NSDI '16), with weights. The table depends only
 * on the set of backends and on m, never on the order they are given in,
 * so two steering nodes with the same configuration build identical
 * tables and pick the same backend for a new flow.
 */
#ifndef XH_MAGLEV_H
#define XH_MAGLEV_H

#include <linux/types.h>
#include <stdbool.h>

struct maglev_backend {
	__u32 id;	/* value written into the table (a backend id, not 0) */
	__u32 weight;	/* >= 1; a backend gets entries in proportion to it */
	__u8 key[20];	/* stable identity (address + family + anything),
			 * hashed for offset/skip */
};

bool maglev_is_prime(__u32 m);

/*
 * Fill table[0..m-1] with ids of bk[]. m must be prime and >= n. n == 0
 * fills 0s. Returns 0, -EINVAL (m not prime, n > m, weight 0, id 0, NULL
 * table, NULL bk with n > 0), -ENOMEM. The table is not touched on error.
 * Backends are identified by key: two with the same key get the same
 * preference list and split it between them.
 *
 * With equal weights every backend gets floor(m/n) or ceil(m/n) entries.
 * With unequal weights a backend gets about m * weight / sum(weight)
 * entries; one whose share is below one entry may get none.
 */
int maglev_build(const struct maglev_backend *bk, unsigned int n, __u32 m,
		 __u32 *table);

#endif /* XH_MAGLEV_H */
