/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * encap.h - forwarding rewrites: MAC rewrite and IP-in-IP encapsulation.
 *
 * The outer header goes between the L2 header (with its VLAN tag, if any)
 * and the original IP header. IPv4-in-IPv4 (protocol 4) and IPv6-in-IPv6
 * (next header 41); the member program decapsulates. The caller has checked
 * the MTU; these return 0 or a negative xh_ctr_id.
 */
#ifndef XH_ENCAP_H
#define XH_ENCAP_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xh_abi.h"
#include "parse.h"
#include "csum.h"

#define XH_ENCAP_TTL	64

/* Write dst and src MAC. l2 must have been bounds-checked for ETH_HLEN. */
static __always_inline void xh_set_macs(struct ethhdr *eth, const __u8 *dst,
					const __u8 *src)
{
	__builtin_memcpy(eth->h_source, src, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, dst, ETH_ALEN);
}

/* Move the L2 header (14 or 18 bytes) from the old front, now at data +
 * hdr, to the new front. */
static __always_inline int xh_move_l2(void *data, void *data_end, __u32 hdr,
				      __u32 l2_len)
{
	if (l2_len == sizeof(struct ethhdr) + sizeof(struct xh_vlan_hdr)) {
		if (data + hdr + 18 > data_end)
			return -XH_CTR_DROP_ENCAP;
		__builtin_memcpy(data, data + hdr, 18);
	} else {
		if (data + hdr + 14 > data_end)
			return -XH_CTR_DROP_ENCAP;
		__builtin_memcpy(data, data + hdr, 14);
	}
	return 0;
}

static __always_inline int xh_encap_v4(struct xdp_md *ctx, struct xh_pkt *pkt,
				       const struct xh_service *svc,
				       const struct xh_backend *bk)
{
	const __u32 hdr = sizeof(struct iphdr);
	struct iphdr *outer, *inner;
	void *data, *data_end;
	__u32 l2 = pkt->l3_off;

	if (bpf_xdp_adjust_head(ctx, -(int)hdr))
		return -XH_CTR_DROP_ENCAP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (xh_move_l2(data, data_end, hdr, l2))
		return -XH_CTR_DROP_ENCAP;
	if (l2 > 18)
		return -XH_CTR_DROP_ENCAP;
	outer = data + l2;
	inner = (void *)(outer + 1);
	if ((void *)(inner + 1) > data_end)
		return -XH_CTR_DROP_ENCAP;

	outer->version = 4;
	outer->ihl = 5;
	outer->tos = inner->tos;
	outer->tot_len = bpf_htons(pkt->ip_len + hdr);
	outer->id = 0;
	/* Keep the sender's DF: a PMTU probe must still fail on the way. */
	outer->frag_off = inner->frag_off & bpf_htons(IP_DF);
	outer->ttl = XH_ENCAP_TTL;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	outer->saddr = svc->encap_src[0];
	outer->daddr = bk->addr[0];
	outer->check = xh_ipv4_csum(outer);
	pkt->l3_off = l2;
	return 0;
}

static __always_inline int xh_encap_v6(struct xdp_md *ctx, struct xh_pkt *pkt,
				       const struct xh_service *svc,
				       const struct xh_backend *bk, __u32 hash)
{
	const __u32 hdr = sizeof(struct ipv6hdr);
	struct ipv6hdr *outer, *inner;
	void *data, *data_end;
	__u32 l2 = pkt->l3_off;

	if (bpf_xdp_adjust_head(ctx, -(int)hdr))
		return -XH_CTR_DROP_ENCAP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (xh_move_l2(data, data_end, hdr, l2))
		return -XH_CTR_DROP_ENCAP;
	if (l2 > 18)
		return -XH_CTR_DROP_ENCAP;
	outer = data + l2;
	inner = (void *)(outer + 1);
	if ((void *)(inner + 1) > data_end)
		return -XH_CTR_DROP_ENCAP;

	/* version 6, the inner traffic class, the flow hash as flow label
	 * so that ECMP on the way spreads flows, not packets. */
	*(__be32 *)outer = bpf_htonl((6U << 28) |
				     ((__u32)(inner->priority) << 24) |
				     ((__u32)(inner->flow_lbl[0] & 0xf0) << 16) |
				     (hash & 0xfffff));
	outer->payload_len = bpf_htons(pkt->ip_len);
	outer->nexthdr = IPPROTO_IPV6;
	outer->hop_limit = XH_ENCAP_TTL;
	__builtin_memcpy(&outer->saddr, svc->encap_src, 16);
	__builtin_memcpy(&outer->daddr, bk->addr, 16);
	pkt->l3_off = l2;
	return 0;
}

#endif /* XH_ENCAP_H */
