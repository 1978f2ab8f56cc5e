/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xh_abi.h - the map ABI between the XDP programs and user space.
 *
 * This is the only definition of every map key and value. Both halves
 * include it: BPF objects after vmlinux.h, user space after <linux/types.h>.
 * Rules: fixed-width types, explicit padding, no bitfields, no pointers,
 * a size assertion on every struct. A layout change bumps the _vN suffix of
 * the map that carries it, so an upgraded program never reads an old layout.
 *
 * Addresses: an IPv4 address is stored in word 0 of a __be32[4] and the
 * other three words are zero; an IPv6 address fills all four. Addresses and
 * ports are in network byte order, everything else in host order.
 */
#ifndef XH_ABI_H
#define XH_ABI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define XH_ABI_VERSION		1

/* Sizes of the maps; user space may shrink the flow tables before load. */
#define XH_MAX_SERVICES		256	/* service ids 1..255, 0 = none */
#define XH_MAX_BACKENDS		4096	/* backend ids 1..4095, 0 = none */
#define XH_MAX_SVC_BACKENDS	256	/* backends of one service */
#define XH_MAX_IFACES		64	/* egress devices for redirect */
#define XH_FLOWS_DEFAULT	262144	/* confirmed flows (xh_flows_v1) */
#define XH_FLOWS_NEW_DEFAULT	65536	/* unconfirmed flows (xh_flown_v1) */
#define XH_CTR_SLOTS		64	/* xh_stats entries: room to add */

/* Maglev table sizes: prime, default as in the paper. */
#define XH_MAGLEV_DEFAULT	65537
#define XH_MAGLEV_MAX		1048573	/* largest prime below 2^20 */

/* A flow whose Maglev entry is dead tries this many rehashes in the same
 * table (weights stay honoured) before the tier walk. */
#define XH_REHASH_TRIES		4

/* Address families as stored in keys (not AF_*: stable across libcs). */
enum xh_family {
	XH_FAM_NONE = 0,
	XH_FAM_V4 = 4,
	XH_FAM_V6 = 6,
};

/* How a service forwards a packet to the chosen backend. */
enum xh_fwd {
	XH_FWD_L2 = 0,		/* rewrite MACs, same L2 segment (DSR) */
	XH_FWD_IPIP = 1,	/* IPv4-in-IPv4 / IPv6-in-IPv6 to the backend */
};

/* Redundancy model of a service, as configured. Active-standby is one
 * backend per tier; active-active puts backends in a tier together. */
enum xh_svc_mode {
	XH_SVC_ACTIVE_ACTIVE = 0,
	XH_SVC_ACTIVE_STANDBY = 1,
};

/* Administrative state of a backend. */
enum xh_bk_state {
	XH_BK_FREE = 0,		/* unused slot */
	XH_BK_UP = 1,		/* takes new and existing flows */
	XH_BK_DRAIN = 2,	/* keeps existing flows, takes no new ones */
	XH_BK_DOWN = 3,		/* takes nothing */
};

/* struct xh_vip.flags */
#define XH_VIP_F_FRAG_ONLY	0x01	/* wildcard entry used only to steer
					 * packets without ports (fragments,
					 * IPv6 extension headers) of the
					 * service owning the address */

/* Key of xh_vips_v1. port 0 is the wildcard: it matches every port of the
 * address and protocol, and it is the only key fragments (and IPv6 packets
 * with extension headers, and ICMP) are looked up with, since they carry no
 * port. */
struct xh_vip_key {
	__be32 addr[4];		/* VIP address */
	__be16 port;		/* L4 destination port, 0 = any */
	__u8 proto;		/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
	__u8 family;		/* enum xh_family */
};
_Static_assert(sizeof(struct xh_vip_key) == 20, "xh_vip_key layout");

/* Value of xh_vips_v1: which service a VIP key belongs to. */
struct xh_vip {
	__u32 svc_id;		/* index of xh_services_v1 */
	__u8 flags;		/* XH_VIP_F_* */
	__u8 pad[3];
};
_Static_assert(sizeof(struct xh_vip) == 8, "xh_vip layout");

/* Value of xh_services_v1, indexed by service id. Written once when the
 * service is created (a change of these fields is a new service), so the
 * data path never reads a half-written entry. */
struct xh_service {
	__u32 id;		/* 1..XH_MAX_SERVICES-1, 0 = unused slot; index
				 * of xh_maglev_v1, xh_svc_bk_v1, xh_svc_stats */
	__u32 table_size;	/* Maglev table size M (prime) */
	__u8 fwd;		/* enum xh_fwd */
	__u8 family;		/* enum xh_family of the VIP */
	__u8 mode;		/* enum xh_svc_mode: how user space assigns
				 * tiers; the data path knows only tiers */
	__u8 pad;
	__be32 encap_src[4];	/* outer source address for XH_FWD_IPIP */
};
_Static_assert(sizeof(struct xh_service) == 28, "xh_service layout");

/* Value of xh_backends_v1, indexed by backend id. */
struct xh_backend {
	__be32 addr[4];		/* backend address (outer dst for IP-in-IP) */
	__u8 mac[6];		/* next-hop MAC: the backend's, or its gateway's */
	__u8 family;		/* enum xh_family */
	__u8 state;		/* enum xh_bk_state */
	__u32 ifindex;		/* egress device; 0 = the ingress device */
	__u32 svc_id;		/* owning service */
	__u16 weight;		/* Maglev weight, 1..65535 */
	__u8 tier;		/* priority tier, 0 is best; a lower tier
				 * (higher number) takes traffic only when
				 * no backend of a better tier is live */
	__u8 pad;
	__u32 pad2;
	__u64 last_seen_ns;	/* CLOCK_MONOTONIC of the last heartbeat;
				 * written by the data path (BFD stamping) */
	__u64 detect_ns;	/* detection time: the backend is dead when
				 * now - last_seen_ns > detect_ns;
				 * 0 = no heartbeat, state alone decides */
};
_Static_assert(sizeof(struct xh_backend) == 56, "xh_backend layout");

/* Value of xh_svc_bk_v1, keyed by service id: the service's backends sorted
 * by (tier, id). It is what the data path walks when the Maglev choice is
 * dead. A hash map, so an update replaces the list in one step. */
struct xh_svc_backends {
	__u32 count;		/* valid entries in ids[] */
	__u32 pad;
	__u32 ids[XH_MAX_SVC_BACKENDS];
};
_Static_assert(sizeof(struct xh_svc_backends) == 8 + 4 * XH_MAX_SVC_BACKENDS,
	       "xh_svc_backends layout");

/* Key of the flow tables. A packet without ports (fragment, ICMP, IPv6 with
 * extension headers) has sport = dport = 0, so all its datagram's pieces
 * hash alike. */
struct xh_flow_key {
	__be32 src[4];
	__be32 dst[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;		/* enum xh_family */
	__u16 pad;
};
_Static_assert(sizeof(struct xh_flow_key) == 40, "xh_flow_key layout");

/* Value of the flow tables. A confirmed flow is forwarded from its entry
 * alone (no VIP lookup), so the entry names its service; the service slot
 * and the backend must still agree, or the flow is looked up afresh. */
struct xh_flow {
	__u32 backend;		/* backend id */
	__u32 svc_id;		/* service id */
	__u64 last_used_ns;	/* CLOCK_MONOTONIC_COARSE of the last packet,
				 * refreshed at most every XH_FLOW_TOUCH_NS */
};
_Static_assert(sizeof(struct xh_flow) == 16, "xh_flow layout");

#define XH_FLOW_TOUCH_NS	(1000ULL * 1000 * 1000)

/* Record of the ring buffer xh_flow_ev: a confirmed flow got (or changed)
 * its backend, for the flow mirror (a standby steering node keeps every
 * established flow on its backend). Idle flows age out of each node's LRU
 * on their own; user space reports the deletions it makes itself. */
enum xh_flow_op { XH_FLOW_PUT = 1, XH_FLOW_DEL = 2 };

struct xh_flow_ev {
	struct xh_flow_key key;
	__u32 backend;
	__u32 svc_id;
	__u8 op;		/* enum xh_flow_op */
	__u8 pad[7];
};
_Static_assert(sizeof(struct xh_flow_ev) == 56, "xh_flow_ev layout");

/* Value of xh_ifaces_v1, keyed by ifindex: what a redirect needs to know of
 * an egress device. */
struct xh_iface {
	__u8 mac[6];		/* source MAC of frames sent out of it */
	__u16 pad;
};
_Static_assert(sizeof(struct xh_iface) == 8, "xh_iface layout");

/* Value of xh_bfd_v1, keyed by our local discriminator (the Your
 * Discriminator of the peer's packets): a BFD session the data path may
 * answer for. A packet from peer whose 24-byte control section equals
 * expect[] is steady state: it stamps the backend's last_seen_ns and is
 * consumed. Anything else (a state change, Poll, Final, new timers, another
 * source) goes to user space. User space writes expect[] from the last
 * packet it accepted, with Poll and Final cleared, once the session is Up. */
struct xh_bfd_sess {
	__u8 expect[24];	/* the steady control section, as on the wire */
	__be32 peer[4];		/* the peer's address */
	__u8 family;		/* enum xh_family */
	__u8 pad[3];
	__u32 backend;		/* backend id stamped (0: stamp none) */
	__u64 rx_kernel;	/* steady packets consumed by the data path */
	__u64 rx_last_ns;	/* CLOCK_MONOTONIC of the last one */
};
_Static_assert(sizeof(struct xh_bfd_sess) == 64, "xh_bfd_sess layout");

#define XH_MAX_BFD		1024	/* BFD sessions per device */

/* One counter; the maps holding it are per-CPU, user space sums. */
struct xh_ctr {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct xh_ctr) == 16, "xh_ctr layout");

/* Index of xh_stats: every outcome of the steering program. Each packet
 * counts in exactly one verdict counter (PASS_*, DROP_*, TX, REDIRECT); the
 * FLOW_* and FALLBACK counters are events beside them. RX is not written by
 * the data path (one counter less per packet): user space sums the
 * verdicts into it. */
enum xh_ctr_id {
	XH_CTR_RX = 0,		/* every packet seen (sum of the verdicts) */
	/* verdicts: pass */
	XH_CTR_PASS_NOT_IP,	/* ethertype not IPv4/IPv6 (ARP, LLDP, QinQ) */
	XH_CTR_PASS_NOT_VIP,	/* no service for dst/port/proto */
	XH_CTR_PASS_TRUNC,	/* a header runs past the end of the frame */
	XH_CTR_PASS_MALFORMED,	/* bad version, IHL, length or TCP offset */
	XH_CTR_PASS_PROTO,	/* L4 protocol we do not steer */
	XH_CTR_PASS_MTU,	/* encapsulated frame would exceed the MTU */
	XH_CTR_PASS_BFD,	/* BFD packet for user space (not steady) */
	/* verdicts: drop */
	XH_CTR_DROP_NO_BACKEND,	/* VIP packet, no live backend in any tier */
	XH_CTR_DROP_NO_TXPORT,	/* egress device not in xh_tx_ports/ifaces */
	XH_CTR_DROP_FAMILY,	/* backend family differs from the packet's */
	XH_CTR_DROP_ENCAP,	/* bpf_xdp_adjust_head refused */
	XH_CTR_DROP_BFD,	/* steady BFD packet: stamped, consumed */
	/* verdicts: forward */
	XH_CTR_TX,		/* sent back out of the ingress device */
	XH_CTR_REDIRECT,	/* redirected to another device */
	/* events */
	XH_CTR_FLOW_NEW,	/* new flow, chosen by Maglev */
	XH_CTR_FLOW_CONFIRM,	/* flow moved to the confirmed table */
	XH_CTR_FALLBACK,	/* chosen backend dead, next live one taken */
	XH_CTR_FRAG,		/* IPv4 fragment or IPv6 extension header */
	XH_CTR_FLOW_EV_LOST,	/* flow event not reported: ring buffer full
				 * (no flow mirror reads it, or it lags) */
	XH_CTR_MIRROR_RX,	/* mirror frame redirected to AF_XDP (counted
				 * as redirect too) */
	XH_CTR_MAX,
};

/* The verdict counters, the ones that sum to RX. */
#define XH_CTR_VERDICT_FIRST	XH_CTR_PASS_NOT_IP
#define XH_CTR_VERDICT_LAST	XH_CTR_REDIRECT

/* Names for user space, in enum order (bpftool shows indices). */
#define XH_CTR_NAMES {							\
	"rx", "pass_not_ip", "pass_not_vip", "pass_trunc",		\
	"pass_malformed", "pass_proto", "pass_mtu", "pass_bfd",		\
	"drop_no_backend", "drop_no_txport", "drop_family", "drop_encap", \
	"drop_bfd", "tx", "redirect",					\
	"flow_new", "flow_confirm", "fallback", "frag",			\
	"flow_ev_lost", "mirror_rx",					\
}

#endif /* XH_ABI_H */
