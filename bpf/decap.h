/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * decap.h - undo the steering node's IP-in-IP (encap.h) on the member.
 *
 * IPv4-in-IPv4 (protocol 4) and IPv6-in-IPv6 (next header 41) whose outer
 * source is in the decap map: the outer header is cut out in place, the
 * L2 header (with its one 802.1Q tag) moved up to meet the inner one, so
 * the rest of the program sees the packet as the client sent it. The
 * ethertype stays, which is why mixed families are not ours.
 *
 * Everything else is left untouched for the rest of the program to judge
 * as an ordinary packet: 4in6 and 6in4, an outer IPv4 header with options
 * or fragmented, an outer IPv6 header followed by extension headers, an
 * outer header that runs past the frame, and an inner packet that is not
 * whole inside the outer one.
 */
#ifndef XM_DECAP_H
#define XM_DECAP_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xm_abi.h"
#include "parse.h"

/* What xm_decap() did; negative: an xm_ctr_id drop reason. */
enum xm_decap_res {
	XM_DECAP_NONE = 0,	/* not a tunnel we end: untouched */
	XM_DECAP_DONE = 1,	/* decapsulated: ctx holds the inner packet */
	XM_DECAP_SPOOF = 2,	/* a tunnel from a stranger: untouched */
};

/* Copy the L2 header (l2_len bytes: 14, or 18 with a tag) from the front
 * to data + hdr, where the outer IP header ends. hdr (20 or 40) is longer
 * than any L2 header, so source and destination do not overlap. */
static __always_inline int xm_l2_down(void *data, void *data_end, __u32 hdr,
				      __u32 l2_len)
{
	if (l2_len == sizeof(struct ethhdr) + sizeof(struct xh_vlan_hdr)) {
		if (data + hdr + 18 > data_end)
			return -XM_CTR_DROP_DECAP;
		__builtin_memcpy(data + hdr, data, 18);
	} else {
		if (data + hdr + 14 > data_end)
			return -XM_CTR_DROP_DECAP;
		__builtin_memcpy(data + hdr, data, 14);
	}
	return 0;
}

/* Decapsulate ctx's frame in place if it is a tunnel from one of srcs
 * (a hash map of struct xm_decap_key). Returns enum xm_decap_res, or
 * -XM_CTR_DROP_DECAP when the frame was already rewritten and the head
 * could not be moved: it is garbage then, the caller drops it. */
static __always_inline int xm_decap(struct xdp_md *ctx, void *srcs)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct xm_decap_key key = {};
	__u32 l2 = sizeof(*eth), hdr;
	__be16 proto;

	if ((void *)(eth + 1) > data_end)
		return XM_DECAP_NONE;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct xh_vlan_hdr *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > data_end)
			return XM_DECAP_NONE;
		proto = vh->proto;
		l2 += sizeof(*vh);
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *outer = data + l2, *inner = (void *)(outer + 1);
		__u32 tot;

		if ((void *)(inner + 1) > data_end)
			return XM_DECAP_NONE;
		if (outer->version != 4 || outer->ihl != 5 ||
		    outer->protocol != IPPROTO_IPIP ||
		    (outer->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
			return XM_DECAP_NONE;
		tot = bpf_ntohs(outer->tot_len);
		if (tot < 2 * sizeof(*outer) || (void *)outer + tot > data_end)
			return XM_DECAP_NONE;
		/* The inner packet must be whole inside the outer one. */
		if (inner->version != 4 ||
		    bpf_ntohs(inner->tot_len) > tot - sizeof(*outer))
			return XM_DECAP_NONE;
		key.family = XH_FAM_V4;
		key.addr[0] = outer->saddr;
		hdr = sizeof(*outer);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *outer = data + l2, *inner = (void *)(outer + 1);
		__u32 tot;

		if ((void *)(inner + 1) > data_end)
			return XM_DECAP_NONE;
		if (outer->version != 6 || outer->nexthdr != IPPROTO_IPV6)
			return XM_DECAP_NONE;
		tot = sizeof(*outer) + bpf_ntohs(outer->payload_len);
		if (tot < 2 * sizeof(*outer) || (void *)outer + tot > data_end)
			return XM_DECAP_NONE;
		if (inner->version != 6 ||
		    sizeof(*inner) + bpf_ntohs(inner->payload_len) >
		    tot - sizeof(*outer))
			return XM_DECAP_NONE;
		key.family = XH_FAM_V6;
		__builtin_memcpy(key.addr, &outer->saddr, 16);
		hdr = sizeof(*outer);
	} else {
		return XM_DECAP_NONE;
	}

	if (!bpf_map_lookup_elem(srcs, &key))
		return XM_DECAP_SPOOF;
	/* Constant offsets for the verifier: one copy per header size. */
	if (hdr == sizeof(struct iphdr)) {
		if (xm_l2_down(data, data_end, sizeof(struct iphdr), l2))
			return XM_DECAP_NONE;
	} else {
		if (xm_l2_down(data, data_end, sizeof(struct ipv6hdr), l2))
			return XM_DECAP_NONE;
	}
	if (bpf_xdp_adjust_head(ctx, (int)hdr))
		return -XM_CTR_DROP_DECAP;
	return XM_DECAP_DONE;
}

#endif /* XM_DECAP_H */
