// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * member.bpf.c - the XDP program on a VNFC's NIC.
 *
 * Reads top to bottom as a packet's path: end the steering node's tunnel,
 * consume steady BFD from peer members (stamping the owner's liveness),
 * hand mirror frames to AF_XDP, then the gates: ARP/ND and IP traffic for
 * a VIP pass only while this member owns the VIP's group. When the owner's
 * stamp goes stale and we are next in line, the data path takes the group
 * over by itself; the controller confirms later. Everything it needs is in
 * maps (member_maps.h).
 *
 * Every verdict is counted once in xm_stats (RX is left to user space, the
 * sum of the verdicts). A packet passed after decapsulation counts as
 * pass_decap, and one that looked like a tunnel from a stranger as
 * pass_spoof, whichever stage passed it; drops count their own reason.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xm_abi.h"
#include "xh_bfd.h"
#include "parse.h"
#include "bfd.h"
#include "stats.h"
#include "decap.h"
#include "member_maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_ARP		0x0806
#define ARPHRD_ETHER		1
#define ARPOP_REQUEST		1
#define ARPOP_REPLY		2
#define NDISC_NEIGHBOUR_SOLICIT	135
#define NDISC_NEIGHBOUR_ADVERT	136

/* Where enum xm_own sits in the first word of struct xm_group (state,
 * next_in_line, pad[2]): the takeover swaps that word as a whole. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define XM_STATE_SHIFT	0
#else
#define XM_STATE_SHIFT	24
#endif
_Static_assert(__builtin_offsetof(struct xm_group, state) == 0 &&
	       __builtin_offsetof(struct xm_group, owner_disc) == 4,
	       "xm_group: state in the first word, alone with next_in_line");

static __always_inline void xm_count(__u32 id, __u32 bytes)
{
	xh_ctr_add(&xm_stats, id, bytes);
}

/* Every packet the member lets through ends here: counted, then offered
 * to the program in the chain slot, if any, else to the stack. */
static __always_inline int xm_pass(struct xdp_md *ctx, __u32 reason,
				   __u32 bytes)
{
	xm_count(reason, bytes);
	bpf_tail_call(ctx, &xm_chain, 0);
	return XDP_PASS;
}

static __always_inline int xm_drop(__u32 reason, __u32 bytes)
{
	xm_count(reason, bytes);
	return XDP_DROP;
}

/* xh_parse() as a function of its own: inlined into this program, clang
 * recomputes data + l4_off after the bounds check on a copy of it, which
 * the verifier cannot follow. */
static __noinline int xm_parse(struct xdp_md *ctx, struct xh_pkt *pkt)
{
	return xh_parse(ctx, pkt);
}

/* A steady BFD packet from a peer member (the rule of bfd.h: TTL 255, one
 * of our sessions in Your Discriminator, from its peer, equal to the steady
 * image byte for byte). It stamps the session and, when the peer is the
 * owner of the session's group, the group's owner_seen_ns. Returns 1 if
 * stamped (the caller consumes it), 0 if it is for user space. */
static __always_inline int xm_bfd_rx(struct xdp_md *ctx, struct xh_pkt *pkt)
{
	struct xm_bfd_sess *s;
	struct xm_group *g;
	__u32 disc, gid;
	__u64 now;

	s = xh_bfd_match(ctx, pkt, &xm_bfd_v1, &disc);
	if (!s)
		return 0;
	now = xh_bfd_account((struct xh_bfd_sess *)s);
	gid = s->group;
	g = bpf_map_lookup_elem(&xm_groups_v1, &gid);
	/* Our session with the owner: the owner is alive. A session with
	 * another member of the group says nothing about the owner. */
	if (g && g->owner_disc == disc)
		g->owner_seen_ns = now;
	return 1;
}

/* Take group g over: NO -> TAKEN. The first word (state, next_in_line,
 * pad) is swapped whole, so of several CPUs racing here exactly one wins
 * and counts the takeover, and a controller that meanwhile cleared
 * next_in_line or set the state wins over us. A controller's whole-entry
 * update racing the swap may still overwrite TAKEN; that is benign, it is
 * the controller's decision to make, and it confirms or undoes ours.
 * Returns true if the group is ours now. */
static __always_inline bool xm_take_over(struct xm_group *g, __u64 now)
{
	__u32 *word = (__u32 *)g, cur, old, new, state;
	const __u32 mask = 0xffU << XM_STATE_SHIFT;

	cur = *(volatile __u32 *)word;
	old = (cur & ~mask) | ((__u32)XM_OWN_NO << XM_STATE_SHIFT);
	new = (cur & ~mask) | ((__u32)XM_OWN_TAKEN << XM_STATE_SHIFT);
	cur = __sync_val_compare_and_swap(word, old, new);
	if (cur == old) {
		g->taken_ns = now;
		xm_count(XM_CTR_TAKEOVER, 0);
		return true;
	}
	state = (cur & mask) >> XM_STATE_SHIFT;
	return state == XM_OWN_YES || state == XM_OWN_TAKEN;
}

/* Does this member serve the VIPs of group gid now? A standby that is
 * next in line and whose owner's stamp is older than owner_detect_ns takes
 * the group over here, without waiting for user space. */
static __always_inline bool xm_owns(__u32 gid)
{
	struct xm_group *g = bpf_map_lookup_elem(&xm_groups_v1, &gid);
	__u8 state;
	__u64 now;

	if (!g)
		return false;
	state = *(volatile __u8 *)&g->state;
	if (state == XM_OWN_YES || state == XM_OWN_TAKEN)
		return true;
	if (state != XM_OWN_NO || !g->next_in_line || !g->owner_detect_ns)
		return false;
	now = bpf_ktime_get_ns();
	if ((__s64)(now - g->owner_seen_ns) <= (__s64)g->owner_detect_ns)
		return false;
	return xm_take_over(g, now);
}

/* Is a controller managing this member (or none ever did)? ARP/ND is
 * answered for the VIPs we hold only then: see struct xm_ctl. */
static __always_inline bool xm_ctl_alive(void)
{
	__u32 zero = 0;
	struct xm_ctl *c = bpf_map_lookup_elem(&xm_ctl_v1, &zero);

	if (!c || !c->max_age_ns)
		return true;
	return bpf_ktime_get_ns() - c->seen_ns <= c->max_age_ns;
}

/* May we answer ARP/ND for the VIPs of group gid, which we own? Not when
 * a controller confirmed the ownership and has gone silent since (it
 * crashed); yes when the data path took the group over by itself (TAKEN:
 * the controller is stalled, and announcing is the point). */
static __always_inline bool xm_may_answer(__u32 gid)
{
	struct xm_group *g = bpf_map_lookup_elem(&xm_groups_v1, &gid);

	if (g && *(volatile __u8 *)&g->state == XM_OWN_TAKEN)
		return true;
	return xm_ctl_alive();
}

/* If key is a VIP: 1 and its group in *gid; else 0. */
static __always_inline int xm_vip_group(const struct xm_vip_key *key,
					__u32 *gid)
{
	struct xm_vip *v = bpf_map_lookup_elem(&xm_vips_v1, key);

	if (!v)
		return 0;
	*gid = v->group;
	return 1;
}

/* ARP request or reply (gratuitous ones included) for an IPv4 address:
 * 1 and the target protocol address in key, else 0. */
static __always_inline int xm_arp_target(struct xdp_md *ctx,
					 struct xm_vip_key *key)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct arphdr *arp = (void *)(eth + 1);
	__be16 proto;

	if ((void *)(eth + 1) > data_end)
		return 0;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct xh_vlan_hdr *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > data_end)
			return 0;
		proto = vh->proto;
		arp = (void *)(vh + 1);
	}
	if (proto != bpf_htons(ETH_P_ARP))
		return 0;
	/* 8 bytes fixed, sha 6, spa 4, tha 6, tpa 4 */
	if ((void *)arp + 28 > data_end)
		return 0;
	if (arp->ar_hrd != bpf_htons(ARPHRD_ETHER) ||
	    arp->ar_pro != bpf_htons(ETH_P_IP) ||
	    arp->ar_hln != ETH_ALEN || arp->ar_pln != 4 ||
	    (arp->ar_op != bpf_htons(ARPOP_REQUEST) &&
	     arp->ar_op != bpf_htons(ARPOP_REPLY)))
		return 0;
	key->family = XH_FAM_V4;
	__builtin_memcpy(key->addr, (void *)arp + 24, 4);
	return 1;
}

/* Neighbour solicitation or advertisement (an unsolicited NA is IPv6's
 * gratuitous ARP): 1 and its target address in key, else 0. */
static __always_inline int xm_nd_target(struct xdp_md *ctx,
					const struct xh_pkt *pkt,
					struct xm_vip_key *key)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *icmp;
	__u32 off = pkt->l4_off;

	/* l4_off is 0 after extension headers; ND carries none. */
	if (pkt->key.proto != IPPROTO_ICMPV6 || !off || off > 18 + 40)
		return 0;
	icmp = data + off;
	if ((void *)(icmp + 24) > data_end)
		return 0;
	if (icmp[0] != NDISC_NEIGHBOUR_SOLICIT &&
	    icmp[0] != NDISC_NEIGHBOUR_ADVERT)
		return 0;
	key->family = XH_FAM_V6;
	__builtin_memcpy(key->addr, icmp + 8, 16);
	return 1;
}

SEC("xdp")
int xdpha_member(struct xdp_md *ctx)
{
	struct xh_pkt pkt = {};
	struct xm_vip_key key = {};
	__u32 bytes = ctx->data_end - ctx->data, pass_as = 0, gid;
	int err;

	/* A passed packet that came through the tunnel, or looked like one
	 * from a stranger, counts as that, whatever gate let it through. */
	err = xm_decap(ctx, &xm_decap_v1);
	if (err < 0)
		return xm_drop(-err, bytes);
	if (err == XM_DECAP_DONE)
		pass_as = XM_CTR_PASS_DECAP;
	else if (err == XM_DECAP_SPOOF)
		pass_as = XM_CTR_PASS_SPOOF;

	err = xm_parse(ctx, &pkt);
	if (err == -XH_CTR_PASS_NOT_IP) {
		if (!xm_arp_target(ctx, &key) || !xm_vip_group(&key, &gid))
			return xm_pass(ctx, pass_as ?: XM_CTR_PASS, bytes);
		if (!xm_owns(gid))
			return xm_drop(XM_CTR_DROP_ARP, bytes);
		if (!xm_may_answer(gid))
			return xm_drop(XM_CTR_DROP_ORPHAN, bytes);
		return xm_pass(ctx, pass_as ?: XM_CTR_PASS_ARP, bytes);
	}

	if (!err && pkt.key.proto == IPPROTO_UDP) {
		if (pkt.key.dport == bpf_htons(XH_BFD_PORT)) {
			if (xm_bfd_rx(ctx, &pkt))
				return xm_drop(XM_CTR_DROP_BFD, bytes);
			return xm_pass(ctx, pass_as ?: XM_CTR_PASS_BFD, bytes);
		}
		if (pkt.key.dport == bpf_htons(XM_MIRROR_PORT)) {
			if (bpf_redirect_map(&xm_xsks, ctx->rx_queue_index,
					     XDP_PASS) == XDP_REDIRECT) {
				xm_count(XM_CTR_REDIRECT_XSK, bytes);
				return XDP_REDIRECT;
			}
			return xm_pass(ctx, pass_as ?: XM_CTR_PASS, bytes);
		}
	}

	/* No valid IP header: nothing to gate. A packet whose IP header is
	 * valid but whose L4 is not ours to parse (truncated, another
	 * protocol, a fragment) is still gated on its destination. */
	if (!pkt.key.family)
		return xm_pass(ctx, pass_as ?: XM_CTR_PASS, bytes);

	if (!err && xm_nd_target(ctx, &pkt, &key) &&
	    xm_vip_group(&key, &gid)) {
		if (!xm_owns(gid))
			return xm_drop(XM_CTR_DROP_ARP, bytes);
		if (!xm_may_answer(gid))
			return xm_drop(XM_CTR_DROP_ORPHAN, bytes);
		return xm_pass(ctx, pass_as ?: XM_CTR_PASS_ARP, bytes);
	}

	__builtin_memcpy(key.addr, pkt.key.dst, sizeof(key.addr));
	key.family = pkt.key.family;
	if (!xm_vip_group(&key, &gid))
		return xm_pass(ctx, pass_as ?: XM_CTR_PASS, bytes);
	if (!xm_owns(gid))
		return xm_drop(XM_CTR_DROP_VIP, bytes);
	return xm_pass(ctx, pass_as ?: XM_CTR_PASS_VIP, bytes);
}
