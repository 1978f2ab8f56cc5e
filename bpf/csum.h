/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * csum.h - Internet checksums the XDP programs compute themselves.
 *
 * Only the outer IPv4 header of an encapsulation needs one: the steering
 * program never rewrites a field that an inner checksum covers.
 */
#ifndef XH_CSUM_H
#define XH_CSUM_H

#include "vmlinux.h"

static __always_inline __u16 xh_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Checksum of an IPv4 header without options whose check field is 0. */
static __always_inline __u16 xh_ipv4_csum(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*iph) / 2); i++)
		sum += w[i];
	return xh_csum_fold(sum);
}

#endif /* XH_CSUM_H */
