// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * announce.c - gratuitous ARP and unsolicited NA; see announce.h.
 *
 * The ARP form is a request with sender = target = the address (RFC 5227
 * "ARP Announcement"): Linux updates an existing entry from it even within
 * locktime, as it does for a gratuitous reply. The NA goes to all-nodes
 * with Override set and Solicited clear (RFC 4861 7.2.6), so a neighbour
 * with a REACHABLE entry for the address switches it to our MAC (STALE)
 * and keeps sending.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "announce.h"
#include "xh_abi.h"

int xh_announce_open(int ifindex)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = 0,	/* send only: receive nothing */
		.sll_ifindex = ifindex,
	};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static __u32 csum_add(__u32 sum, const void *p, size_t len)
{
	const __u8 *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (len & 1)
		sum += b[len - 1] << 8;
	return sum;
}

static int build_arp(__u8 *f, const __u8 mac[6], const __be32 addr[4])
{
	__u8 *a = f + 14;

	memset(f, 0xff, 6);			/* broadcast */
	memcpy(f + 6, mac, 6);
	f[12] = 0x08, f[13] = 0x06;		/* ETH_P_ARP */
	a[0] = 0, a[1] = 1;			/* hrd ether */
	a[2] = 0x08, a[3] = 0x00;		/* pro IPv4 */
	a[4] = 6, a[5] = 4;
	a[6] = 0, a[7] = 1;			/* request */
	memcpy(a + 8, mac, 6);			/* sha */
	memcpy(a + 14, &addr[0], 4);		/* spa = the address */
	memset(a + 18, 0, 6);			/* tha */
	memcpy(a + 24, &addr[0], 4);		/* tpa = the address */
	memset(a + 28, 0, 18);			/* pad to 60 bytes */
	return 60;
}

static int build_na(__u8 *f, const __u8 mac[6], const __be32 addr[4])
{
	static const __u8 all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	__u8 *ip = f + 14, *icmp = ip + 40;
	const __u16 plen = 32;		/* NA 24 + target lladdr option 8 */
	__u32 sum;
	__u16 c;

	f[0] = 0x33, f[1] = 0x33, f[2] = 0, f[3] = 0, f[4] = 0, f[5] = 1;
	memcpy(f + 6, mac, 6);
	f[12] = 0x86, f[13] = 0xdd;
	memset(ip, 0, 40);
	ip[0] = 0x60;
	ip[4] = plen >> 8, ip[5] = plen & 0xff;
	ip[6] = IPPROTO_ICMPV6;
	ip[7] = 255;				/* hop limit, RFC 4861 */
	memcpy(ip + 8, addr, 16);		/* from the address itself */
	memcpy(ip + 24, all_nodes, 16);
	memset(icmp, 0, plen);
	icmp[0] = 136;				/* neighbour advertisement */
	icmp[4] = 0x20;				/* Override; not Solicited */
	memcpy(icmp + 8, addr, 16);		/* target */
	icmp[24] = 2, icmp[25] = 1;		/* target lladdr, 8 bytes */
	memcpy(icmp + 26, mac, 6);
	/* pseudo-header: src, dst, length, next header */
	sum = csum_add(0, ip + 8, 32);
	sum += plen + IPPROTO_ICMPV6;
	sum = csum_add(sum, icmp, plen);
	c = csum_fold(sum);
	icmp[2] = c >> 8, icmp[3] = c & 0xff;
	return 14 + 40 + plen;
}

int xh_announce(int fd, int ifindex, const __u8 mac[6], const __be32 addr[4],
		__u8 family)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
		.sll_halen = 6,
	};
	__u8 f[128];
	int len;

	if (family == XH_FAM_V4) {
		len = build_arp(f, mac, addr);
		to.sll_protocol = htons(ETH_P_ARP);
	} else if (family == XH_FAM_V6) {
		len = build_na(f, mac, addr);
		to.sll_protocol = htons(ETH_P_IPV6);
	} else {
		return -EAFNOSUPPORT;
	}
	memcpy(to.sll_addr, f, 6);
	if (sendto(fd, f, len, 0, (struct sockaddr *)&to, sizeof(to)) != len)
		return -errno;
	return 0;
}
