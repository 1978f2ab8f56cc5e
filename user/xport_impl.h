/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xport_impl.h - what the two transports (xport_xsk.c, xport_udp.c) share
 * with the common part (xport.c). Not part of the API.
 */
#ifndef XH_XPORT_IMPL_H
#define XH_XPORT_IMPL_H

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

/* Check c, fill defaults into x->c, look up the device. */
int xh_xport_init(struct xh_xport *x, const struct xh_xport_cfg *c);
/* The first of n payloads that is too large (n if none); -EMSGSIZE is
 * for the caller to return when that is the first. */
unsigned int xh_xport_fit(const struct xh_xport *x, const struct iovec *v,
			  unsigned int n);

#endif
