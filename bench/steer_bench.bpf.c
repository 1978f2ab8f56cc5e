// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * steer_bench.bpf.c - the harness of bench/steer_bench: a wrapper that puts
 * the original frame back before every repetition of BPF_PROG_TEST_RUN and
 * tail-calls the program under test, and the empty XDP_TX program that is
 * the baseline. Without the restore, repetition 2 onwards would run on the
 * frame repetition 1 rewrote (an encapsulated frame takes the pass path).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define XB_MAX_PKT	128

const volatile __u32 xb_len = 64;	/* frame length, <= XB_MAX_PKT */
const volatile __u32 xb_vary = 0;	/* 1: a new source per repetition */

struct xb_frame {
	__u8 data[XB_MAX_PKT];
};

/* The original frame. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xb_frame);
} xb_orig SEC(".maps");

/* Slot 0: the program under test. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xb_target SEC(".maps");

__u32 xb_seq;

SEC("xdp")
int xb_wrap(struct xdp_md *ctx)
{
	__u32 zero = 0, len = xb_len & (XB_MAX_PKT - 1), seq;
	struct xb_frame *f;
	void *data, *data_end;
	int cur;

	cur = ctx->data_end - ctx->data;
	if (cur != (int)len && bpf_xdp_adjust_head(ctx, cur - (int)len))
		return XDP_ABORTED;
	f = bpf_map_lookup_elem(&xb_orig, &zero);
	if (!f || len < 40)
		return XDP_ABORTED;
	if (bpf_xdp_store_bytes(ctx, 0, f->data, len))
		return XDP_ABORTED;
	if (xb_vary) {
		/* IPv4/TCP frame: low 16 bits of the source address and the
		 * source port take a sequence number: 2^32 distinct flows. */
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		if (data + 36 > data_end)
			return XDP_ABORTED;
		seq = ++xb_seq;
		((__u8 *)data)[28] = seq >> 24;
		((__u8 *)data)[29] = seq >> 16;
		((__u8 *)data)[34] = seq >> 8;
		((__u8 *)data)[35] = seq;
	}
	bpf_tail_call(ctx, &xb_target, 0);
	return XDP_ABORTED;
}

SEC("xdp")
int xb_empty_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}
