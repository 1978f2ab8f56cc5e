/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * neigh.h - MAC addresses from the kernel's neighbour table (libnl-route),
 * and of local devices.
 */
#ifndef XH_NEIGH_H
#define XH_NEIGH_H

#include <linux/types.h>

/* The MAC of addr on ifindex. If the table has no valid entry, provoke
 * resolution (one UDP datagram to the discard port, sent out of ifindex)
 * and wait up to timeout_ms. -EHOSTUNREACH if it stays unresolved. */
int xh_neigh_resolve(int ifindex, const __be32 addr[4], __u8 family,
		     int timeout_ms, __u8 mac[6]);

/* The MAC of a local device. */
int xh_dev_mac(int ifindex, __u8 mac[6]);

/* Put addr (/32 or /128, IPv6 without DAD) on ifindex unless it is there:
 * 1 if added, 0 if present, -errno. */
int xh_addr_ensure(int ifindex, const __be32 addr[4], __u8 family);

#endif
