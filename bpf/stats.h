/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * stats.h - adding to a per-CPU counter (struct xh_ctr), for every XDP
 * program of xdpha. Inlined with the map known, so the verifier inlines
 * the per-CPU array lookup too.
 */
#ifndef XH_STATS_H
#define XH_STATS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "xh_abi.h"

static __always_inline void xh_ctr_add(void *map, __u32 id, __u32 bytes)
{
	struct xh_ctr *c = bpf_map_lookup_elem(map, &id);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

#endif /* XH_STATS_H */
