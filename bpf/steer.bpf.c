// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * steer.bpf.c - the steering node's XDP program.
 *
 * Reads top to bottom as a packet's path: parse, find the VIP's service,
 * find or choose a live backend, record the flow, forward by MAC rewrite or
 * IP-in-IP. Everything it needs is in maps (steer_maps.h); nothing waits for
 * user space. Helpers return 0 or a negative xh_ctr_id; only this file turns
 * reasons into verdicts, and every verdict is counted once.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xh_abi.h"
#include "xm_abi.h"
#include "xh_hash.h"
#include "parse.h"
#include "encap.h"
#include "steer_maps.h"
#include "lb.h"
#include "bfd.h"
#include "stats.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#ifndef XH_BUILD_ID
#define XH_BUILD_ID	1
#endif
/* Which build this is, for bpftool and for the upgrade test. */
const volatile __u32 xh_build_id = XH_BUILD_ID;

static __always_inline void xh_count(__u32 id, __u32 bytes)
{
	xh_ctr_add(&xh_stats, id, bytes);
}

/* Every packet xdpha does not steer ends here: counted, then offered to
 * the program in the chain slot, if any, else to the stack. */
static __always_inline int xh_pass(struct xdp_md *ctx, __u32 reason,
				   __u32 bytes)
{
	xh_count(reason, bytes);
	bpf_tail_call(ctx, &xh_chain, 0);
	return XDP_PASS;
}

static __always_inline int xh_drop(__u32 reason, __u32 bytes)
{
	xh_count(reason, bytes);
	return XDP_DROP;
}

/* Has this packet shown that its flow is established? For TCP, anything
 * but a bare SYN; for the rest, a second packet (the caller knows). */
static __always_inline bool xh_tcp_established(const struct xh_pkt *pkt)
{
	return pkt->key.proto == IPPROTO_TCP &&
	       (pkt->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN;
}

/* Last-used stamps only feed idle timeouts of seconds: the coarse clock
 * will do. */
static __always_inline __u64 xh_coarse(struct xh_clock *c)
{
	if (!c->coarse)
		c->coarse = bpf_ktime_get_coarse_ns();
	return c->coarse;
}

static __always_inline void xh_flow_touch(struct xh_flow *f,
					  struct xh_clock *c)
{
	__u64 now = xh_coarse(c);

	if (now - f->last_used_ns > XH_FLOW_TOUCH_NS)
		f->last_used_ns = now;
}

/* A confirmed flow got a backend: tell the flow mirror. */
static __always_inline void xh_flow_report(const struct xh_flow_key *key,
					   __u32 backend, __u32 svc_id)
{
	struct xh_flow_ev ev = {
		.key = *key, .backend = backend, .svc_id = svc_id,
		.op = XH_FLOW_PUT,
	};

	if (bpf_ringbuf_output(&xh_flow_ev, &ev, sizeof(ev), 0))
		xh_count(XH_CTR_FLOW_EV_LOST, 0);
}

/* Choose a backend for a flow that has none (f == NULL) or whose backend
 * died (f != NULL, rewritten in place). Records new flows. */
static __always_inline struct xh_backend *
xh_flow_choose(const struct xh_service *svc, struct xh_pkt *pkt,
	       struct xh_flow *f, struct xh_clock *now, __u32 *id_out)
{
	struct xh_backend *bk;
	struct xh_flow nf = {};
	bool fallback = false;
	__u32 hash = xh_flow_hash(&pkt->key), id;

	bk = xh_choose(svc, hash, now, &id, &fallback);
	if (!bk)
		return NULL;
	*id_out = id;
	if (f || fallback)
		xh_count(XH_CTR_FALLBACK, 0);
	if (f) {
		/* The flow's backend died: rewrite the entry in place so the
		 * flow stays on its new backend from now on. */
		f->backend = id;
		xh_flow_touch(f, now);
		return bk;
	}
	xh_count(XH_CTR_FLOW_NEW, 0);
	nf.backend = id;
	nf.svc_id = svc->id;
	nf.last_used_ns = xh_coarse(now);
	/* A TCP packet other than a bare SYN is an established flow picked
	 * up mid-stream (after a takeover): confirm it at once. */
	if (!xh_tcp_established(pkt)) {
		bpf_map_update_elem(&xh_flown_v1, &pkt->key, &nf, BPF_ANY);
	} else if (!bpf_map_update_elem(&xh_flows_v1, &pkt->key, &nf,
					BPF_ANY)) {
		xh_flow_report(&pkt->key, id, svc->id);
	}
	return bk;
}

/* A packet of a VIP that has no confirmed flow: an unconfirmed flow, or a
 * new one. */
static __always_inline struct xh_backend *
xh_flow_slow(const struct xh_service *svc, struct xh_pkt *pkt,
	     struct xh_clock *now, __u32 *id_out)
{
	struct xh_backend *bk;
	struct xh_flow *f, nf = {};

	f = bpf_map_lookup_elem(&xh_flown_v1, &pkt->key);
	if (!f || f->svc_id != svc->id)
		return xh_flow_choose(svc, pkt, NULL, now, id_out);
	bk = xh_bk_get(f->backend, svc->id, now, false);
	if (!bk)
		return xh_flow_choose(svc, pkt, f, now, id_out);
	*id_out = f->backend;
	/* Seen again: established, unless a retransmitted bare SYN. */
	if (pkt->key.proto == IPPROTO_TCP && !xh_tcp_established(pkt)) {
		xh_flow_touch(f, now);
		return bk;
	}
	nf.backend = f->backend;
	nf.svc_id = svc->id;
	nf.last_used_ns = xh_coarse(now);
	if (!bpf_map_update_elem(&xh_flows_v1, &pkt->key, &nf, BPF_ANY)) {
		bpf_map_delete_elem(&xh_flown_v1, &pkt->key);
		xh_count(XH_CTR_FLOW_CONFIRM, 0);
		xh_flow_report(&pkt->key, nf.backend, svc->id);
	}
	return bk;
}

/* Send the rewritten frame out of the backend's device. */
static __always_inline int xh_xmit(struct xdp_md *ctx,
				   const struct xh_backend *bk, __u32 bytes)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct xh_iface *ifc;
	__u32 ifindex = bk->ifindex;
	__u8 src[ETH_ALEN];

	if ((void *)(eth + 1) > data_end)
		return xh_drop(XH_CTR_DROP_ENCAP, bytes);
	if (!ifindex || ifindex == ctx->ingress_ifindex) {
		/* Out of the device it came in by: our MAC is the one the
		 * sender addressed. */
		__builtin_memcpy(src, eth->h_dest, ETH_ALEN);
		xh_set_macs(eth, bk->mac, src);
		xh_count(XH_CTR_TX, bytes);
		return XDP_TX;
	}
	ifc = bpf_map_lookup_elem(&xh_ifaces_v1, &ifindex);
	if (!ifc)
		return xh_drop(XH_CTR_DROP_NO_TXPORT, bytes);
	xh_set_macs(eth, bk->mac, ifc->mac);
	if (bpf_redirect_map(&xh_tx_ports, ifindex, 0) != XDP_REDIRECT)
		return xh_drop(XH_CTR_DROP_NO_TXPORT, bytes);
	xh_count(XH_CTR_REDIRECT, bytes);
	return XDP_REDIRECT;
}

SEC("xdp")
int xdpha_steer(struct xdp_md *ctx)
{
	struct xh_pkt pkt = {};
	struct xh_service *svc = NULL;
	struct xh_backend *bk = NULL;
	struct xh_flow *f;
	__u32 bytes, bk_id = 0;
	struct xh_clock now = {};
	int err;

	err = xh_parse(ctx, &pkt);
	bytes = pkt.pkt_len;
	if (err)
		return xh_pass(ctx, -err, bytes);
	if (pkt.no_ports)
		xh_count(XH_CTR_FRAG, 0);
	if (pkt.key.dport == bpf_htons(XH_BFD_PORT) &&
	    pkt.key.proto == IPPROTO_UDP) {
		if (xh_bfd_rx(ctx, &pkt, &xh_bfd_v1, &xh_backends_v1))
			return xh_drop(XH_CTR_DROP_BFD, bytes);
		return xh_pass(ctx, XH_CTR_PASS_BFD, bytes);
	}
	/* The flow mirror's frames go to its AF_XDP socket, if one is
	 * bound to this queue; else to the stack (a UDP socket). */
	if (pkt.key.dport == bpf_htons(XM_MIRROR_PORT) &&
	    pkt.key.proto == IPPROTO_UDP &&
	    bpf_redirect_map(&xh_xsks, ctx->rx_queue_index, XDP_PASS) ==
	    XDP_REDIRECT) {
		xh_count(XH_CTR_MIRROR_RX, 0);
		xh_count(XH_CTR_REDIRECT, bytes);
		return XDP_REDIRECT;
	}

	/* Fast path: a confirmed flow carries its service and backend. */
	f = bpf_map_lookup_elem(&xh_flows_v1, &pkt.key);
	if (f) {
		svc = bpf_map_lookup_elem(&xh_services_v1, &f->svc_id);
		if (svc && svc->id && svc->id == f->svc_id) {
			bk_id = f->backend;
			bk = xh_bk_get(bk_id, svc->id, &now, false);
			if (bk) {
				xh_flow_touch(f, &now);
			} else {
				bk = xh_flow_choose(svc, &pkt, f, &now, &bk_id);
				if (bk)
					xh_flow_report(&pkt.key, bk_id, svc->id);
			}
		} else {
			svc = NULL;	/* service gone: look up afresh */
		}
	}
	if (!svc) {
		svc = xh_vip_lookup(&pkt);
		if (!svc)
			return xh_pass(ctx, XH_CTR_PASS_NOT_VIP, bytes);
		bk = xh_flow_slow(svc, &pkt, &now, &bk_id);
	}
	if (!bk)
		return xh_drop(XH_CTR_DROP_NO_BACKEND, bytes);
	if (bk->family != pkt.key.family)
		return xh_drop(XH_CTR_DROP_FAMILY, bytes);

	if (svc->fwd == XH_FWD_IPIP) {
		__u32 hdr = pkt.key.family == XH_FAM_V4 ?
			    sizeof(struct iphdr) : sizeof(struct ipv6hdr);
		__u32 mtu = 0;

		if (bpf_check_mtu(ctx, bk->ifindex, &mtu, hdr, 0))
			return xh_pass(ctx, XH_CTR_PASS_MTU, bytes);
		if (pkt.key.family == XH_FAM_V4)
			err = xh_encap_v4(ctx, &pkt, svc, bk);
		else
			err = xh_encap_v6(ctx, &pkt, svc, bk,
					  xh_flow_hash(&pkt.key));
		if (err)
			return xh_drop(-err, bytes);
	}

	err = xh_xmit(ctx, bk, bytes);
	if (err == XDP_TX || err == XDP_REDIRECT) {
		xh_ctr_add(&xh_svc_stats, svc->id, bytes);
		xh_ctr_add(&xh_bk_stats, bk_id, bytes);
	}
	return err;
}
