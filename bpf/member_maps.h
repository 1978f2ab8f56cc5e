/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * member_maps.h - the maps of the member program (member.bpf.c).
 *
 * Pinned by the loader under /sys/fs/bpf/xdpha/<ifname>/ with these names.
 * User space writes VIPs, groups (ownership), BFD sessions and decap
 * sources; the program writes stamps, takeovers and counters. Types come
 * from include/xm_abi.h so bpftool prints named fields.
 */
#ifndef XM_MEMBER_MAPS_H
#define XM_MEMBER_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "xm_abi.h"

/* VIP address -> the group whose election decides who serves it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XM_MAX_VIPS);
	__type(key, struct xm_vip_key);
	__type(value, struct xm_vip);
} xm_vips_v1 SEC(".maps");

/* Group -> ownership state and the owner's liveness stamp. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XM_MAX_GROUPS);
	__type(key, __u32);
	__type(value, struct xm_group);
} xm_groups_v1 SEC(".maps");

/* Local discriminator -> BFD session with a peer member. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XH_MAX_BFD);
	__type(key, __u32);
	__type(value, struct xm_bfd_sess);
} xm_bfd_v1 SEC(".maps");

/* Outer sources (steering nodes) whose IP-in-IP we decapsulate; value 1. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XM_MAX_DECAP_SRCS);
	__type(key, struct xm_decap_key);
	__type(value, __u32);
} xm_decap_v1 SEC(".maps");

/* rx queue -> AF_XDP socket of the state mirror. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XM_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xm_xsks SEC(".maps");

/* enum xm_ctr_id -> counter; room left for counters added later. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XH_CTR_SLOTS);
	__type(key, __u32);
	__type(value, struct xh_ctr);
} xm_stats SEC(".maps");

/* The member controller's heartbeat (struct xm_ctl, one entry). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xm_ctl);
} xm_ctl_v1 SEC(".maps");

/* The chain slot: a program here sees every packet the member passes. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xm_chain SEC(".maps");

#endif /* XM_MEMBER_MAPS_H */
