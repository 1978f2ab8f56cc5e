/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xport_impl.h - what the two transports (xport_xsk.c, xport_udp.c) share
 * with the common part (xport.c). Not part of the API.
 */
#ifndef XH_XPORT_IMPL_H
#define XH_XPORT_IMPL_H

#include <stddef.h>
#include <net/if.h>
#include "xport.h"

struct xh_xport_ops {
	int (*send)(struct xh_xport *x, const struct iovec *v, unsigned int n);
	int (*recv)(struct xh_xport *x, struct xh_xport_msg *m,
		    unsigned int max);
	/* add the kernel's counters to st */
	void (*kstats)(struct xh_xport *x, struct xh_xport_stats *st);
	void (*close)(struct xh_xport *x);
};

/* Every transport starts with this. */
struct xh_xport {
	const struct xh_xport_ops *ops;
	const char *mode;
	int fd;
	struct xh_xport_cfg c;	/* defaults filled in; c.ifname -> ifname */
	char ifname[IF_NAMESIZE];
	int ifindex;
	unsigned int mtu;
	unsigned int max_payload;
	struct xh_xport_stats st;
};

/* The frames of the AF_XDP transport (xport_frame.c). */
struct xh_frame {
	const struct xh_xport_cfg *c;	/* addresses, MACs, ports, flags */
	unsigned int hdr_len;		/* Ethernet + IP + UDP */
	__u64 csum_base;	/* IPv4: header sum without tot_len; IPv6:
				 * pseudo header and ports, no length */
};

void xh_frame_init(struct xh_frame *fr, const struct xh_xport_cfg *c);
/* The headers every TX chunk carries; only lengths and checksums vary. */
void xh_frame_template(const struct xh_frame *fr, __u8 *f);
/* Payload v into the chunk at f (headers written by the template);
 * returns the frame's length. */
__u32 xh_frame_build(const struct xh_frame *fr, __u8 *f,
		     const struct iovec *v);
/* What xh_frame_parse() returns for a frame dropped for reason (never 0:
 * the first reason is 0). */
#define XH_FRAME_DROP(reason)	(-1 - (int)(reason))
#define XH_FRAME_REASON(ret)	(-1 - (ret))
/* 0 and m filled if p is a UDP datagram for us, else XH_FRAME_DROP(why). */
int xh_frame_parse(const struct xh_frame *fr, const __u8 *p, __u32 len,
		   struct xh_xport_msg *m);
/* Ones' complement sum of memory in memory order; fold to 16 bits. */
__u64 xh_csum_add(__u64 sum, const void *p, size_t len);
__u16 xh_csum_fold(__u64 sum);

/* Check c, fill defaults into x->c, look up the device. */
int xh_xport_init(struct xh_xport *x, const struct xh_xport_cfg *c);
/* The first of n payloads that is too large (n if none); -EMSGSIZE is
 * for the caller to return when that is the first. */
unsigned int xh_xport_fit(const struct xh_xport *x, const struct iovec *v,
			  unsigned int n);

#endif
