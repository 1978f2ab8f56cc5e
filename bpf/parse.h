/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * parse.h - packet parsing for the xdpha XDP programs.
 *
 * Owns the rules for what a well-formed packet is. Parsing never writes to
 * the packet. Each function returns 0 or a negative xh_ctr_id naming why the
 * packet is not steered; the entry point turns that into a verdict.
 *
 * Rules (documented in the README, tested in prog_tests/parse.c):
 *  - Ethernet, then at most one 802.1Q tag; any other ethertype (ARP, QinQ
 *    outer 0x88a8, a second 0x8100) is not IP and passed.
 *  - IPv4: version 4, IHL >= 5, the header (options included) inside the
 *    frame and inside tot_len, tot_len inside the frame; else malformed or
 *    truncated, passed. A fragment (MF set or offset != 0) is keyed on
 *    addresses and protocol only, so every fragment of a datagram, the
 *    first included, hashes alike.
 *  - IPv6: the fixed header; extension headers (hop-by-hop, routing,
 *    fragment, destination options, AH; at most XH_V6_EXT_MAX) are walked
 *    only to learn the upper protocol, and the packet is keyed on addresses
 *    and protocol only.
 *  - TCP needs its 20 bytes and a data offset >= 5, UDP its 8 bytes; ICMP
 *    and ICMPv6 are keyed on addresses. Any other protocol is passed.
 */
#ifndef XH_PARSE_H
#define XH_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xh_abi.h"

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_P_8021Q	0x8100
#define ETH_ALEN	6
#define IP_MF		0x2000
#define IP_OFFSET	0x1FFF
#define IP_DF		0x4000
#define NEXTHDR_HOP	0
#define NEXTHDR_ROUTING	43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH	51
#define NEXTHDR_DEST	60
#define XH_V6_EXT_MAX	4
#ifndef IPPROTO_ICMPV6
#define IPPROTO_ICMPV6	58	/* not in the UAPI enum vmlinux.h carries */
#endif
#define TCP_FLAG_SYN	0x02
#define TCP_FLAG_ACK	0x10

/* What the parser learnt of a packet. Offsets are from ctx->data. */
struct xh_pkt {
	__u16 l3_off;		/* IP header */
	__u16 l4_off;		/* L4 header (0 when no ports) */
	__u16 ip_len;		/* IPv4 tot_len, IPv6 40 + payload_len */
	__u8 tcp_flags;		/* 0 unless TCP */
	__u8 no_ports;		/* fragment, extension headers or ICMP */
	__u32 pkt_len;		/* frame length, for the byte counters */
	struct xh_flow_key key;
};

struct xh_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

static __always_inline int xh_parse_l4(void *data, void *data_end,
				       struct xh_pkt *pkt)
{
	void *l4 = data + pkt->l4_off;

	switch (pkt->key.proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return -XH_CTR_PASS_TRUNC;
		if (th->doff < 5)
			return -XH_CTR_PASS_MALFORMED;
		pkt->key.sport = th->source;
		pkt->key.dport = th->dest;
		pkt->tcp_flags = ((__u8 *)th)[13];
		return 0;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return -XH_CTR_PASS_TRUNC;
		pkt->key.sport = uh->source;
		pkt->key.dport = uh->dest;
		return 0;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* Keyed on addresses: the echo id is not a port, and an
		 * error's flow lives in its quoted header. */
		if (l4 + 4 > data_end)
			return -XH_CTR_PASS_TRUNC;
		pkt->no_ports = 1;
		return 0;
	default:
		return -XH_CTR_PASS_PROTO;
	}
}

static __always_inline int xh_parse_v4(void *data, void *data_end,
				       struct xh_pkt *pkt)
{
	struct iphdr *iph = data + pkt->l3_off;
	__u32 ihl, tot;

	if ((void *)(iph + 1) > data_end)
		return -XH_CTR_PASS_TRUNC;
	if (iph->version != 4 || iph->ihl < 5)
		return -XH_CTR_PASS_MALFORMED;
	ihl = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < ihl)
		return -XH_CTR_PASS_MALFORMED;
	if ((void *)iph + ihl > data_end || (void *)iph + tot > data_end)
		return -XH_CTR_PASS_TRUNC;

	pkt->ip_len = tot;
	pkt->key.family = XH_FAM_V4;
	pkt->key.proto = iph->protocol;
	pkt->key.src[0] = iph->saddr;
	pkt->key.dst[0] = iph->daddr;
	pkt->l4_off = pkt->l3_off + ihl;
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
		switch (iph->protocol) {
		case IPPROTO_TCP:
		case IPPROTO_UDP:
		case IPPROTO_ICMP:
			break;
		default:
			return -XH_CTR_PASS_PROTO;
		}
		pkt->no_ports = 1;
		pkt->l4_off = 0;
		return 0;
	}
	return xh_parse_l4(data, data_end, pkt);
}

static __always_inline bool xh_v6_is_ext(__u8 nh)
{
	return nh == NEXTHDR_HOP || nh == NEXTHDR_ROUTING ||
	       nh == NEXTHDR_FRAGMENT || nh == NEXTHDR_DEST ||
	       nh == NEXTHDR_AUTH;
}

static __always_inline int xh_parse_v6(void *data, void *data_end,
				       struct xh_pkt *pkt)
{
	struct ipv6hdr *ip6h = data + pkt->l3_off;
	__u32 off, i;
	__u8 nh;


	if ((void *)(ip6h + 1) > data_end)
		return -XH_CTR_PASS_TRUNC;
	if (ip6h->version != 6)
		return -XH_CTR_PASS_MALFORMED;
	pkt->ip_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
	if ((void *)ip6h + pkt->ip_len > data_end)
		return -XH_CTR_PASS_TRUNC;

	pkt->key.family = XH_FAM_V6;
	__builtin_memcpy(pkt->key.src, &ip6h->saddr, 16);
	__builtin_memcpy(pkt->key.dst, &ip6h->daddr, 16);
	nh = ip6h->nexthdr;
	off = pkt->l3_off + sizeof(*ip6h);

	for (i = 0; i < XH_V6_EXT_MAX; i++) {
		__u8 *eh;

		if (!xh_v6_is_ext(nh))
			break;
		pkt->no_ports = 1;
		if (off > 1024)
			return -XH_CTR_PASS_MALFORMED;
		eh = data + off;
		if ((void *)(eh + 8) > data_end)
			return -XH_CTR_PASS_TRUNC;
		if (nh == NEXTHDR_FRAGMENT)
			off += 8;
		else if (nh == NEXTHDR_AUTH)
			off += ((__u32)eh[1] + 2) * 4;
		else
			off += ((__u32)eh[1] + 1) * 8;
		nh = eh[0];
	}
	if (xh_v6_is_ext(nh))
		return -XH_CTR_PASS_PROTO;	/* too many to follow */

	pkt->key.proto = nh;
	if (pkt->no_ports) {
		switch (nh) {
		case IPPROTO_TCP:
		case IPPROTO_UDP:
		case IPPROTO_ICMPV6:
			return 0;
		default:
			return -XH_CTR_PASS_PROTO;
		}
	}
	pkt->l4_off = off;
	return xh_parse_l4(data, data_end, pkt);
}

/* Parse the frame of ctx into pkt. */
static __always_inline int xh_parse(struct xdp_md *ctx, struct xh_pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u16 proto;

	pkt->pkt_len = data_end - data;
	if ((void *)(eth + 1) > data_end)
		return -XH_CTR_PASS_TRUNC;
	proto = eth->h_proto;
	pkt->l3_off = sizeof(*eth);
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct xh_vlan_hdr *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > data_end)
			return -XH_CTR_PASS_TRUNC;
		proto = vh->proto;
		pkt->l3_off += sizeof(*vh);
	}
	if (proto == bpf_htons(ETH_P_IP))
		return xh_parse_v4(data, data_end, pkt);
	if (proto == bpf_htons(ETH_P_IPV6))
		return xh_parse_v6(data, data_end, pkt);
	return -XH_CTR_PASS_NOT_IP;
}

#endif /* XH_PARSE_H */
