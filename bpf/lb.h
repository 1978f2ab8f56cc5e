/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lb.h - service lookup, backend liveness and backend choice.
 *
 * The rules of the data path, which must hold with no help from user space:
 *  - A backend is live for an existing flow when its state is up or drain,
 *    for a new flow only when it is up; and in both cases only while its
 *    heartbeat stamp is younger than its detection time (if it has one).
 *  - A flow table hit on a live backend keeps that backend.
 *  - Otherwise the service's Maglev table picks; a dead entry is retried
 *    XH_REHASH_TRIES times in the same table (weights stay honoured), then
 *    the live backends of the best live tier are ranked by rendezvous hash
 *    and the highest wins. Every step is a pure function of the flow and of
 *    the set of live backends: the same flow always gets the same fallback.
 */
#ifndef XH_LB_H
#define XH_LB_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "xh_abi.h"
#include "xh_hash.h"
#include "steer_maps.h"
#include "parse.h"

/* Find the service of a packet: exact (addr, port, proto) first, then the
 * port-0 wildcard; a packet without ports uses the wildcard only, and a
 * wildcard marked FRAG_ONLY serves only such packets. */
static __always_inline struct xh_service *xh_vip_lookup(struct xh_pkt *pkt)
{
	struct xh_vip_key vk = {};
	struct xh_service *svc;
	struct xh_vip *vip;

	__builtin_memcpy(vk.addr, pkt->key.dst, sizeof(vk.addr));
	vk.proto = pkt->key.proto;
	vk.family = pkt->key.family;
	vip = NULL;
	if (!pkt->no_ports) {
		vk.port = pkt->key.dport;
		vip = bpf_map_lookup_elem(&xh_vips_v1, &vk);
		vk.port = 0;
	}
	if (!vip) {
		vip = bpf_map_lookup_elem(&xh_vips_v1, &vk);
		if (vip && (vip->flags & XH_VIP_F_FRAG_ONLY) && !pkt->no_ports)
			return NULL;
	}
	if (!vip)
		return NULL;
	svc = bpf_map_lookup_elem(&xh_services_v1, &vip->svc_id);
	if (!svc || svc->id != vip->svc_id || !svc->id)
		return NULL;
	return svc;
}

/* The clocks of one packet, read at most once each, and only when a
 * backend with a heartbeat is checked: bpf_ktime_get_ns() is the dearest
 * helper on the fast path. 0 = not read yet. */
struct xh_clock {
	__u64 precise;
	__u64 coarse;
};

static __always_inline __u64 xh_now(struct xh_clock *c)
{
	if (!c->precise)
		c->precise = bpf_ktime_get_ns();
	return c->precise;
}

/* A detection time this long is judged on the coarse clock (a tick, 1-4
 * ms, behind the precise one, and several times cheaper): a stamp then
 * looks up to a tick younger, so a death is seen at most a tick late and
 * never early. Shorter detection times use the precise clock. */
#define XH_COARSE_DETECT_NS	(40ULL * 1000 * 1000)

static __always_inline __u64 xh_now_for(struct xh_clock *c, __u64 detect)
{
	if (detect < XH_COARSE_DETECT_NS)
		return xh_now(c);
	if (c->precise)
		return c->precise;
	if (!c->coarse)
		c->coarse = bpf_ktime_get_coarse_ns();
	return c->coarse;
}

static __always_inline bool xh_bk_live(const struct xh_backend *bk,
				       __u32 svc_id, struct xh_clock *now,
				       bool new_flow)
{
	__u64 seen, detect;

	if (bk->svc_id != svc_id)
		return false;
	if (bk->state != XH_BK_UP &&
	    (new_flow || bk->state != XH_BK_DRAIN))
		return false;
	detect = bk->detect_ns;
	if (!detect)
		return true;
	/* Signed: a stamp written on another CPU a moment after our clock
	 * read is in the future, and that is alive, not 2^64 ns old. */
	seen = *(volatile __u64 *)&bk->last_seen_ns;
	return (__s64)(xh_now_for(now, detect) - seen) <= (__s64)detect;
}

static __always_inline struct xh_backend *
xh_bk_get(__u32 id, __u32 svc_id, struct xh_clock *now, bool new_flow)
{
	struct xh_backend *bk;

	if (!id)
		return NULL;
	bk = bpf_map_lookup_elem(&xh_backends_v1, &id);
	if (!bk || !xh_bk_live(bk, svc_id, now, new_flow))
		return NULL;
	return bk;
}

struct xh_walk {
	const struct xh_svc_backends *list;
	struct xh_clock now;
	__u32 svc_id;
	__u32 hash;
	__u32 best_id;
	__u32 best_score;
	__u32 best_tier;
};

static long xh_walk_one(__u64 i, void *arg)
{
	struct xh_walk *w = arg;
	struct xh_backend *bk;
	__u32 id, score;

	if (i >= w->list->count || i >= XH_MAX_SVC_BACKENDS)
		return 1;
	id = w->list->ids[i];
	bk = xh_bk_get(id, w->svc_id, &w->now, true);
	if (!bk || bk->tier > w->best_tier)
		return 0;
	score = xh_hrw_score(w->hash, id);
	if (bk->tier < w->best_tier || score > w->best_score) {
		w->best_tier = bk->tier;
		w->best_score = score;
		w->best_id = id;
	}
	return 0;
}

/* The best live tier's rendezvous winner, or 0 when nothing is live. */
static __always_inline __u32 xh_tier_walk(__u32 svc_id, __u32 hash,
					   struct xh_clock *now)
{
	struct xh_walk w = {
		.now = *now, .svc_id = svc_id, .hash = hash,
		.best_tier = 256,
	};

	w.list = bpf_map_lookup_elem(&xh_svc_bk_v1, &svc_id);
	if (!w.list)
		return 0;
	bpf_loop(XH_MAX_SVC_BACKENDS, xh_walk_one, &w, 0);
	return w.best_id;
}

/* Choose a live backend for a flow without a (live) flow entry. Sets
 * *fallback when the first choice was dead. */
static __always_inline struct xh_backend *
xh_choose(const struct xh_service *svc, __u32 hash, struct xh_clock *now,
	  __u32 *id_out, bool *fallback)
{
	struct xh_backend *bk;
	__u32 svc_id = svc->id;
	__u32 m = svc->table_size;
	void *table;
	__u32 i, idx, *id;

	table = bpf_map_lookup_elem(&xh_maglev_v1, &svc_id);
	if (table && m) {
		for (i = 0; i <= XH_REHASH_TRIES; i++) {
			idx = (i ? xh_rehash(hash, i) : hash) % m;
			id = bpf_map_lookup_elem(table, &idx);
			if (!id)
				break;
			bk = xh_bk_get(*id, svc_id, now, true);
			if (bk) {
				*fallback = i > 0;
				*id_out = *id;
				return bk;
			}
		}
	}
	*fallback = true;
	*id_out = xh_tier_walk(svc_id, hash, now);
	return xh_bk_get(*id_out, svc_id, now, true);
}

#endif /* XH_LB_H */
