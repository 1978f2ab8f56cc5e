/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xm_abi.h - the map ABI of the member program (bpf/member.bpf.c), the
 * XDP program on a VNFC's NIC: the VIP gate, ARP/ND gate, takeover in the
 * kernel, decapsulation, BFD stamping of peers, and the mirror's AF_XDP
 * redirect. Same rules as xh_abi.h (fixed-width types, explicit padding,
 * a _vN suffix on a layout change); counters reuse struct xh_ctr.
 */
#ifndef XM_ABI_H
#define XM_ABI_H

#include "xh_abi.h"

#define XM_MAX_VIPS		64
#define XM_MAX_GROUPS		16	/* VIP groups (one election each) */
#define XM_MAX_DECAP_SRCS	16	/* steering nodes we decapsulate for */
#define XM_MAX_QUEUES		64	/* XSKMAP slots, by rx queue */

/* Frames of the state mirror (issue: state mirroring) are UDP to this
 * port; the member program redirects them to the AF_XDP socket of their
 * rx queue. Reserved now so the layout does not move later. */
#define XM_MIRROR_PORT		7868

/* Key of xm_vips_v1: a VIP this member may serve. */
struct xm_vip_key {
	__be32 addr[4];
	__u8 family;		/* enum xh_family */
	__u8 pad[3];
};
_Static_assert(sizeof(struct xm_vip_key) == 20, "xm_vip_key layout");

/* Value of xm_vips_v1. */
struct xm_vip {
	__u32 group;		/* index of xm_groups_v1 */
	__u32 pad;
};
_Static_assert(sizeof(struct xm_vip) == 8, "xm_vip layout");

/* Ownership states of a group (xm_group.state). */
enum xm_own {
	XM_OWN_NO = 0,		/* standby: VIP traffic and ARP/ND dropped */
	XM_OWN_YES = 1,		/* active: the gate is open */
	XM_OWN_TAKEN = 2,	/* the data path took over by itself (the
				 * owner's stamps went stale); the controller
				 * confirms, announces, and sets YES */
};

/* Value of xm_groups_v1, indexed by group: who owns the group's VIPs. */
struct xm_group {
	__u8 state;		/* enum xm_own */
	__u8 next_in_line;	/* 1: take over by ourselves when the owner's
				 * stamp is older than owner_detect_ns */
	__u8 pad[2];
	__u32 owner_disc;	/* BFD discriminator of our session with the
				 * current owner (0: unknown) */
	__u64 owner_seen_ns;	/* CLOCK_MONOTONIC of the owner's last steady
				 * heartbeat, stamped by the data path */
	__u64 owner_detect_ns;	/* the owner is dead past this age */
	__u64 taken_ns;		/* when the data path took over (TAKEN) */
};
_Static_assert(sizeof(struct xm_group) == 32, "xm_group layout");

/* Value of xm_bfd_v1 (keyed by our discriminator, as xh_bfd_v1): a peer
 * member's session. A steady packet stamps owner_seen_ns of group when
 * the peer is that group's owner (owner_disc matches). */
struct xm_bfd_sess {
	__u8 expect[24];	/* steady control section */
	__be32 peer[4];
	__u8 family;
	__u8 pad[3];
	__u32 group;		/* the group this peer competes in */
	__u64 rx_kernel;
	__u64 rx_last_ns;
};
_Static_assert(sizeof(struct xm_bfd_sess) == 64, "xm_bfd_sess layout");
/* The data path matches both session kinds with one function (bpf/bfd.h):
 * everything but backend/group must sit where xh_bfd_sess has it. */
_Static_assert(__builtin_offsetof(struct xm_bfd_sess, peer) ==
	       __builtin_offsetof(struct xh_bfd_sess, peer) &&
	       __builtin_offsetof(struct xm_bfd_sess, family) ==
	       __builtin_offsetof(struct xh_bfd_sess, family) &&
	       __builtin_offsetof(struct xm_bfd_sess, rx_kernel) ==
	       __builtin_offsetof(struct xh_bfd_sess, rx_kernel) &&
	       __builtin_offsetof(struct xm_bfd_sess, rx_last_ns) ==
	       __builtin_offsetof(struct xh_bfd_sess, rx_last_ns),
	       "xm_bfd_sess must match xh_bfd_sess but for group");

/* Ownership adverts between the members of a group (user space only):
 * UDP to this port, sent on every change of claim or eligibility and every
 * advert interval. They carry what BFD cannot (priority, claim); liveness
 * is BFD's alone. */
#define XM_ADVERT_PORT		7869
#define XM_ADVERT_MAGIC		0x58484144	/* "XHAD" */
#define XM_ADVERT_VERSION	1

enum xm_advert_flags {
	XM_ADV_CLAIM = 1,	/* the sender's gate is open for the group */
	XM_ADV_ELIGIBLE = 2,	/* the sender may own it (not demoted) */
	XM_ADV_ARBITER = 4,	/* the sender is driven by an arbiter */
};

struct xm_advert {
	__be32 magic;		/* XM_ADVERT_MAGIC */
	__u8 version;		/* XM_ADVERT_VERSION */
	__u8 group;		/* the group's id (1..255), not its index */
	__u8 priority;		/* 1..254 */
	__u8 flags;		/* enum xm_advert_flags */
	__be32 seq;		/* per sender and group, +1 per advert */
	__be32 pad;
};
_Static_assert(sizeof(struct xm_advert) == 16, "xm_advert layout");

/* Value of xm_ctl_v1 (one entry): the member controller's heartbeat into
 * the data path. While the controller has been silent longer than
 * max_age_ns (it crashed: the peers have declared us dead and taken the
 * VIPs), the gate stops answering ARP/ND for the VIPs it still holds
 * open, so that clients resolving them again are not pulled back to a
 * node nobody manages. VIP traffic itself still passes. A running
 * controller asks for a short age (a second); a stopping one for its
 * planned restart's grace. max_age_ns 0: no controller writes this (a
 * hand-driven member): no check. */
struct xm_ctl {
	__u64 seen_ns;		/* CLOCK_MONOTONIC, refreshed every tick */
	__u64 max_age_ns;	/* silence that means the controller is gone */
};
_Static_assert(sizeof(struct xm_ctl) == 16, "xm_ctl layout");

/* Key of xm_decap_v1: an outer source we decapsulate from. */
struct xm_decap_key {
	__be32 addr[4];
	__u8 family;
	__u8 pad[3];
};
_Static_assert(sizeof(struct xm_decap_key) == 20, "xm_decap_key layout");

/* Index of xm_stats (struct xh_ctr per CPU). */
enum xm_ctr_id {
	XM_CTR_RX = 0,		/* every packet (sum of the verdicts) */
	XM_CTR_PASS,		/* not ours to judge: passed untouched */
	XM_CTR_PASS_VIP,	/* VIP traffic, we own it */
	XM_CTR_PASS_ARP,	/* ARP/NS for a VIP we own */
	XM_CTR_PASS_DECAP,	/* decapsulated, passed */
	XM_CTR_PASS_SPOOF,	/* IP-in-IP from an unknown source: untouched */
	XM_CTR_PASS_BFD,	/* BFD for user space */
	XM_CTR_DROP_VIP,	/* VIP traffic while standby */
	XM_CTR_DROP_ARP,	/* ARP/NS for a VIP while standby */
	XM_CTR_DROP_BFD,	/* steady BFD: stamped, consumed */
	XM_CTR_DROP_DECAP,	/* decapsulation failed (adjust_head) */
	XM_CTR_REDIRECT_XSK,	/* mirror frame to its AF_XDP socket */
	XM_CTR_TAKEOVER,	/* event: the data path took a group over */
	XM_CTR_DROP_ORPHAN,	/* ARP/NS for a VIP we hold while our
				 * controller is gone (xm_ctl_v1) */
	XM_CTR_MAX,
};

#define XM_CTR_NAMES {							\
	"rx", "pass", "pass_vip", "pass_arp", "pass_decap",		\
	"pass_spoof", "pass_bfd", "drop_vip", "drop_arp", "drop_bfd",	\
	"drop_decap", "redirect_xsk", "takeover", "drop_arp_orphan",	\
}

#endif /* XM_ABI_H */
