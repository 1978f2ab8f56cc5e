/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bfd.h - kernel assist for BFD (RFC 5880/5881): recognise the control
 * packets of configured sessions, stamp the peer's backend, and consume
 * the steady-state ones, so that only changes reach user space.
 *
 * A packet is handled here only if it is UDP to port 3784 with TTL (hop
 * limit) 255, carries at least the 24-byte control section, names one of
 * our sessions in Your Discriminator, comes from that session's peer, and
 * equals the session's steady image byte for byte. Anything else is
 * returned to the caller to pass up the stack.
 */
#ifndef XH_BPF_BFD_H
#define XH_BPF_BFD_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xh_abi.h"
#include "parse.h"
#include "xh_bfd.h"

/* The session a steady control packet belongs to, or NULL when the packet
 * is for user space. sess_map holds struct xh_bfd_sess or a value with the
 * same layout up to rx_last_ns (struct xm_bfd_sess: asserted in xm_abi.h);
 * *disc gets the session's key. */
static __always_inline void *xh_bfd_match(struct xdp_md *ctx,
					  struct xh_pkt *pkt, void *sess_map,
					  __u32 *disc)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xh_bfd_sess *s;
	__u8 *ctl, ttl;
	__u32 i;

	if (pkt->l3_off > 18 || pkt->l4_off > 18 + 60)
		return NULL;
	if (pkt->key.family == XH_FAM_V4) {
		struct iphdr *iph = data + pkt->l3_off;

		if ((void *)(iph + 1) > data_end)
			return NULL;
		ttl = iph->ttl;
	} else {
		struct ipv6hdr *ip6h = data + pkt->l3_off;

		if ((void *)(ip6h + 1) > data_end)
			return NULL;
		ttl = ip6h->hop_limit;
	}
	if (ttl != XH_BFD_TTL)
		return NULL;
	ctl = data + pkt->l4_off + sizeof(struct udphdr);
	if ((void *)(ctl + XH_BFD_CTL_LEN) > data_end)
		return NULL;
	__builtin_memcpy(disc, ctl + 8, sizeof(*disc));
	*disc = bpf_ntohl(*disc);
	if (!*disc)
		return NULL;
	s = bpf_map_lookup_elem(sess_map, disc);
	if (!s || s->family != pkt->key.family ||
	    s->peer[0] != pkt->key.src[0] || s->peer[1] != pkt->key.src[1] ||
	    s->peer[2] != pkt->key.src[2] || s->peer[3] != pkt->key.src[3])
		return NULL;
	/* Byte for byte: any difference is news for user space. */
#pragma unroll
	for (i = 0; i < XH_BFD_CTL_LEN; i++)
		if (ctl[i] != s->expect[i])
			return NULL;
	return s;
}

/* Count a steady packet on its session; returns the stamp. */
static __always_inline __u64 xh_bfd_account(struct xh_bfd_sess *s)
{
	__u64 now = bpf_ktime_get_ns();

	s->rx_last_ns = now;
	__sync_fetch_and_add(&s->rx_kernel, 1);
	return now;
}

/* Steering side: a steady packet stamps its backend. Returns 1 if the
 * packet was steady (the caller drops it), 0 if it is for user space. */
static __always_inline int xh_bfd_rx(struct xdp_md *ctx, struct xh_pkt *pkt,
				     void *sess_map, void *backends)
{
	struct xh_bfd_sess *s;
	struct xh_backend *bk;
	__u32 disc, id;
	__u64 now;

	s = xh_bfd_match(ctx, pkt, sess_map, &disc);
	if (!s)
		return 0;
	now = xh_bfd_account(s);
	id = s->backend;
	if (id) {
		bk = bpf_map_lookup_elem(backends, &id);
		if (bk)
			bk->last_seen_ns = now;
	}
	return 1;
}

#endif /* XH_BPF_BFD_H */
