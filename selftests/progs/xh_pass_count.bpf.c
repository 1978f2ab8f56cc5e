// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xh_pass_count.bpf.c - test programs: a counting XDP_PASS (what the chain
 * slot test puts behind xdpha, and what a veth peer needs so XDP_TX and
 * redirects to it work) and a black hole (fault injection: a NIC that
 * drops everything).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Packets seen, read by tests with bpftool. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} xt_seen SEC(".maps");

/* First in the file: what `bpftool prog load` pins. */
SEC("xdp")
int xt_drop_all(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&xt_seen, &zero);

	if (n)
		(*n)++;
	return XDP_DROP;
}

SEC("xdp")
int xt_pass_count(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&xt_seen, &zero);

	if (n)
		(*n)++;
	return XDP_PASS;
}
