// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * probe.bpf.c - does this kernel load freplace programs? libxdp's
 * multi-program dispatcher needs them; where they are refused, xdpha's own
 * chain slot is how another program is put behind it. The loader loads
 * xh_probe_target, then tries xh_probe_ext against its global function.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

__noinline int xh_probe_fn(struct xdp_md *ctx)
{
	return ctx->ingress_ifindex ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int xh_probe_target(struct xdp_md *ctx)
{
	return xh_probe_fn(ctx);
}

SEC("freplace/xh_probe_fn")
int xh_probe_ext(struct xdp_md *ctx)
{
	return XDP_PASS;
}
