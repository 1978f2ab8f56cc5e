/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * steer_maps.h - the maps of the steering program.
 *
 * Every map is pinned by the loader under /sys/fs/bpf/xdpha/<ifname>/ with
 * these names; user space writes the desired state (services, backends,
 * tables), the program writes flows, stamps and counters. Types come from
 * include/xh_abi.h so bpftool prints named fields.
 */
#ifndef XH_STEER_MAPS_H
#define XH_STEER_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "xh_abi.h"

/* VIP (address, port, protocol) -> service id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * XH_MAX_SERVICES);
	__type(key, struct xh_vip_key);
	__type(value, struct xh_vip);
} xh_vips_v1 SEC(".maps");

/* Service id -> forwarding method, table size, encapsulation source. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XH_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct xh_service);
} xh_services_v1 SEC(".maps");

/* Backend id -> backend: address, MAC, state, tier, liveness stamp. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XH_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xh_backend);
} xh_backends_v1 SEC(".maps");

/* Service id -> its backends sorted by tier, for the dead-entry walk. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XH_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct xh_svc_backends);
} xh_svc_bk_v1 SEC(".maps");

/* One Maglev table: slot -> backend id. Tables of any prime size may be
 * swapped in (BPF_F_INNER_MAP); the template's size is only the default. */
struct xh_maglev_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(max_entries, XH_MAGLEV_DEFAULT);
	__type(key, __u32);
	__type(value, __u32);
};

/* Service id -> its Maglev table. User space builds a new table aside and
 * swaps it in with one update: a packet never sees half a table. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XH_MAX_SERVICES);
	__type(key, __u32);
	__array(values, struct xh_maglev_table);
} xh_maglev_v1 SEC(".maps");

/* Confirmed flows: ones that showed they are established. A flood of new
 * flows churns only xh_flown_v1 and never evicts these. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XH_FLOWS_DEFAULT);
	__type(key, struct xh_flow_key);
	__type(value, struct xh_flow);
} xh_flows_v1 SEC(".maps");

/* Unconfirmed flows: first packets (a TCP SYN, one UDP datagram). Under a
 * flood this table evicts on every insert; per-CPU LRU lists keep that
 * eviction local to the CPU instead of contending on one list. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, XH_FLOWS_NEW_DEFAULT);
	__type(key, struct xh_flow_key);
	__type(value, struct xh_flow);
} xh_flown_v1 SEC(".maps");

/* Egress ifindex -> source MAC, for redirects to another device. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XH_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct xh_iface);
} xh_ifaces_v1 SEC(".maps");

/* Egress devices for XDP_REDIRECT, keyed by ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, XH_MAX_IFACES);
	__type(key, __u32);
	__type(value, __u32);
} xh_tx_ports SEC(".maps");

/* enum xh_ctr_id -> counter; room left for counters added later. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XH_CTR_SLOTS);
	__type(key, __u32);
	__type(value, struct xh_ctr);
} xh_stats SEC(".maps");

/* Service id -> packets and bytes forwarded for it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XH_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct xh_ctr);
} xh_svc_stats SEC(".maps");

/* Backend id -> packets and bytes forwarded to it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XH_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xh_ctr);
} xh_bk_stats SEC(".maps");

/* Local discriminator -> BFD session the data path stamps for. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XH_MAX_BFD);
	__type(key, __u32);
	__type(value, struct xh_bfd_sess);
} xh_bfd_v1 SEC(".maps");

/* Confirmed flows that got or changed a backend (struct xh_flow_ev), for
 * the flow mirror. Written only on those events, never per packet. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} xh_flow_ev SEC(".maps");

/* Rx queue -> AF_XDP socket of the mirror (UDP to XM_MIRROR_PORT). */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xh_xsks SEC(".maps");

/* The chain slot: a program here sees every packet xdpha passes. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xh_chain SEC(".maps");

#endif /* XH_STEER_MAPS_H */
