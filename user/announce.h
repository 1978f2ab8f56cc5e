/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * announce.h - tell a segment that an address moved to us: a gratuitous
 * ARP (IPv4) or an unsolicited neighbour advertisement with the Override
 * flag (IPv6), sent on a packet socket so that no kernel address state
 * (DAD, the ownership of the VIP by another member) stands in the way.
 */
#ifndef XH_ANNOUNCE_H
#define XH_ANNOUNCE_H

#include <linux/types.h>

/* A packet socket bound to ifindex; -errno on failure. */
int xh_announce_open(int ifindex);
/* One announcement of addr (family enum xh_family) with our mac. */
int xh_announce(int fd, int ifindex, const __u8 mac[6], const __be32 addr[4],
		__u8 family);

#endif
