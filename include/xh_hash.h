/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xh_hash.h - the flow hash, shared by the data path and user space.
 *
 * One definition compiled into both halves, so that user space (tests, the
 * Maglev predictor, a second steering node) computes exactly the index the
 * XDP program uses. Murmur3-style word mixing: cheap in BPF (no loops over
 * bytes, no tables) and well spread over the Maglev table. The seed is
 * fixed: two steering nodes must agree on every flow's backend.
 */
#ifndef XH_HASH_H
#define XH_HASH_H

#include "xh_abi.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define XH_HASH_SEED	0x7864ba5aU	/* "xdha" */
#define XH_GOLDEN	0x9e3779b9U

static __always_inline __u32 xh_rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

/* Murmur3 finaliser: full avalanche of a 32-bit value. */
static __always_inline __u32 xh_fmix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	h ^= h >> 16;
	return h;
}

static __always_inline __u32 xh_mix_word(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51U;
	k = xh_rol32(k, 15);
	k *= 0x1b873593U;
	h ^= k;
	h = xh_rol32(h, 13);
	return h * 5 + 0xe6546b64U;
}

/* Hash of a flow key. IPv4 keys have src/dst words 1..3 zero; they are
 * skipped, which makes the IPv4 hash cheaper and changes nothing else. */
static __always_inline __u32 xh_flow_hash(const struct xh_flow_key *k)
{
	__u32 h = XH_HASH_SEED;

	h = xh_mix_word(h, k->src[0]);
	h = xh_mix_word(h, k->dst[0]);
	if (k->family == XH_FAM_V6) {
		h = xh_mix_word(h, k->src[1]);
		h = xh_mix_word(h, k->src[2]);
		h = xh_mix_word(h, k->src[3]);
		h = xh_mix_word(h, k->dst[1]);
		h = xh_mix_word(h, k->dst[2]);
		h = xh_mix_word(h, k->dst[3]);
	}
	h = xh_mix_word(h, ((__u32)k->sport << 16) | k->dport);
	h = xh_mix_word(h, ((__u32)k->family << 8) | k->proto);
	return xh_fmix32(h);
}

/* The i-th rehash of a flow hash (i >= 1), for the dead-entry retries. */
static __always_inline __u32 xh_rehash(__u32 h, __u32 i)
{
	return xh_fmix32(h + i * XH_GOLDEN);
}

/* Rendezvous score of a backend for a flow: the tier walk picks the live
 * backend of the best tier with the highest score. */
static __always_inline __u32 xh_hrw_score(__u32 h, __u32 backend_id)
{
	return xh_fmix32(xh_mix_word(h, backend_id));
}

#endif /* XH_HASH_H */
