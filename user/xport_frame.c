// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xport_frame.c - the frames of the AF_XDP transport: the header template
 * every TX chunk carries, the per-frame lengths and checksums, and the
 * parser that decides whether a received frame is a UDP datagram for us.
 * Pure functions over memory (no socket), so unit tests reach them.
 *
 * Checksums are summed over memory as 16-bit words in memory order, each
 * loaded natively: byte order drops out of a ones' complement sum, so the
 * folded result is stored as it is, and a field taken from a header
 * (a length already in network order) is added as it is.
 */
#include <stdbool.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include "xh_abi.h"
#include "xport_impl.h"

#define VLAN_HLEN	4
#define IP4_OFF		ETH_HLEN
#define UDP4_OFF	(ETH_HLEN + 20)
#define UDP6_OFF	(ETH_HLEN + 40)

__u64 xh_csum_add(__u64 sum, const void *p, size_t len)
{
	const __u8 *b = p;
	__u64 w8;
	__u32 w4;
	__u16 w2 = 0;

	for (; len >= 8; b += 8, len -= 8) {
		memcpy(&w8, b, 8);
		sum += (w8 & 0xffffffff) + (w8 >> 32);
	}
	if (len >= 4) {
		memcpy(&w4, b, 4);
		sum += w4;
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w2, b, 2);
		sum += w2;
		b += 2;
		len -= 2;
	}
	if (len) {
		w2 = 0;
		memcpy(&w2, b, 1);
		sum += w2;
	}
	return sum;
}

__u16 xh_csum_fold(__u64 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* The headers every TX chunk carries; only lengths and checksums vary. */
void xh_frame_template(const struct xh_frame *fr, __u8 *f)
{
	const struct xh_xport_cfg *c = fr->c;
	struct ethhdr *eth = (struct ethhdr *)f;
	struct udphdr *udp;

	memcpy(eth->h_dest, c->peer_mac, ETH_ALEN);
	memcpy(eth->h_source, c->local_mac, ETH_ALEN);
	if (c->family == XH_FAM_V4) {
		struct iphdr *ip = (struct iphdr *)(f + IP4_OFF);

		eth->h_proto = htons(ETH_P_IP);
		memset(ip, 0, sizeof(*ip));
		ip->version = 4;
		ip->ihl = 5;
		ip->frag_off = htons(0x4000);	/* DF */
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		memcpy(&ip->saddr, c->local, 4);
		memcpy(&ip->daddr, c->peer, 4);
		udp = (struct udphdr *)(f + UDP4_OFF);
	} else {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(f + IP4_OFF);

		eth->h_proto = htons(ETH_P_IPV6);
		memset(ip6, 0, sizeof(*ip6));
		ip6->version = 6;
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = 64;
		memcpy(&ip6->saddr, c->local, 16);
		memcpy(&ip6->daddr, c->peer, 16);
		udp = (struct udphdr *)(f + UDP6_OFF);
	}
	udp->source = htons(c->port);
	udp->dest = htons(c->peer_port);
	udp->len = 0;
	udp->check = 0;	/* IPv4: none (allowed); IPv6: set per frame */
}

void xh_frame_init(struct xh_frame *fr, const struct xh_xport_cfg *c)
{
	__u8 f[UDP6_OFF + 8];

	fr->c = c;
	fr->hdr_len = c->family == XH_FAM_V4 ? UDP4_OFF + 8 : UDP6_OFF + 8;
	xh_frame_template(fr, f);
	if (c->family == XH_FAM_V4) {
		fr->csum_base = xh_csum_add(0, f + IP4_OFF, 20);
	} else {
		/* pseudo header: addresses, next header; then the ports */
		fr->csum_base = xh_csum_add(0, f + IP4_OFF + 8, 32) +
				htons(IPPROTO_UDP) + htons(c->port) +
				htons(c->peer_port);
	}
}

__u32 xh_frame_build(const struct xh_frame *fr, __u8 *f, const struct iovec *v)
{
	__u16 ulen = 8 + v->iov_len;

	if (fr->c->family == XH_FAM_V4) {
		struct iphdr *ip = (struct iphdr *)(f + IP4_OFF);
		struct udphdr *udp = (struct udphdr *)(f + UDP4_OFF);

		ip->tot_len = htons(20 + ulen);
		ip->check = ~xh_csum_fold(fr->csum_base + ip->tot_len);
		udp->len = htons(ulen);
		memcpy(f + UDP4_OFF + 8, v->iov_base, v->iov_len);
	} else {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(f + IP4_OFF);
		struct udphdr *udp = (struct udphdr *)(f + UDP6_OFF);
		__u16 sum;

		ip6->payload_len = htons(ulen);
		udp->len = ip6->payload_len;
		memcpy(f + UDP6_OFF + 8, v->iov_base, v->iov_len);
		/* the length counts twice: pseudo header and UDP header */
		sum = ~xh_csum_fold(xh_csum_add(fr->csum_base +
						2 * (__u32)udp->len,
						v->iov_base, v->iov_len));
		udp->check = sum ? sum : 0xffff;
	}
	return fr->hdr_len + v->iov_len;
}

/* The UDP checksum over the pseudo header (addresses at addrs, then the
 * protocol and length) and the datagram, its checksum field included. */
static bool udp_csum_ok(const __u8 *addrs, size_t alen, const __u8 *udp,
			__u16 ulen)
{
	__u64 sum = htons(IPPROTO_UDP) + htons(ulen);

	sum = xh_csum_add(sum, addrs, alen);
	return xh_csum_fold(xh_csum_add(sum, udp, ulen)) == 0xffff;
}

static int udp_take(const struct xh_frame *fr, const __u8 *udp, __u32 room,
		    struct xh_xport_msg *m)
{
	__u16 ulen, dport;

	memcpy(&ulen, udp + 4, 2);
	ulen = ntohs(ulen);
	if (ulen < 8 || ulen > room)
		return XH_FRAME_DROP(XH_XPORT_DROP_UDP_HDR);
	memcpy(&dport, udp + 2, 2);
	if (ntohs(dport) != fr->c->port)
		return XH_FRAME_DROP(XH_XPORT_DROP_PORT);
	memcpy(&m->port, udp, 2);
	m->port = ntohs(m->port);
	m->data = udp + 8;
	m->len = ulen - 8;
	return ulen;
}

/* Is this a UDP datagram to our address and port? 0, or
 * XH_FRAME_DROP(why). */
int xh_frame_parse(const struct xh_frame *fr, const __u8 *p, __u32 len,
		   struct xh_xport_msg *m)
{
	const struct xh_xport_cfg *c = fr->c;
	__u32 off = ETH_HLEN;
	__u16 proto, ck;
	int ulen;

	if (len < ETH_HLEN)
		return XH_FRAME_DROP(XH_XPORT_DROP_SHORT);
	memcpy(&proto, p + 12, 2);
	if (proto == htons(ETH_P_8021Q)) {
		if (len < ETH_HLEN + VLAN_HLEN)
			return XH_FRAME_DROP(XH_XPORT_DROP_SHORT);
		memcpy(&proto, p + 16, 2);
		off += VLAN_HLEN;
	}
	if (proto == htons(ETH_P_IP)) {
		const __u8 *ip = p + off;
		__u16 tot, frag;
		__u32 ihl;

		if (c->family != XH_FAM_V4)
			return XH_FRAME_DROP(XH_XPORT_DROP_FAMILY);
		if (len < off + 20)
			return XH_FRAME_DROP(XH_XPORT_DROP_SHORT);
		ihl = (ip[0] & 0xf) * 4;
		if (ip[0] >> 4 != 4 || ihl < 20)
			return XH_FRAME_DROP(XH_XPORT_DROP_IP_HDR);
		memcpy(&tot, ip + 2, 2);
		tot = ntohs(tot);
		if (tot < ihl + 8)
			return XH_FRAME_DROP(XH_XPORT_DROP_IP_HDR);
		if (len < off + tot)
			return XH_FRAME_DROP(XH_XPORT_DROP_SHORT);
		if (xh_csum_fold(xh_csum_add(0, ip, ihl)) != 0xffff)
			return XH_FRAME_DROP(XH_XPORT_DROP_IP_HDR);
		memcpy(&frag, ip + 6, 2);
		if (frag & htons(0x3fff))	/* MF or an offset */
			return XH_FRAME_DROP(XH_XPORT_DROP_FRAG);
		if (ip[9] != IPPROTO_UDP)
			return XH_FRAME_DROP(XH_XPORT_DROP_NOT_UDP);
		if (memcmp(ip + 16, c->local, 4))
			return XH_FRAME_DROP(XH_XPORT_DROP_DST);
		ulen = udp_take(fr, ip + ihl, tot - ihl, m);
		if (ulen < 0)
			return ulen;
		memcpy(&ck, ip + ihl + 6, 2);
		if ((c->flags & XH_XPORT_F_RX_CSUM) && ck &&
		    !udp_csum_ok(ip + 12, 8, ip + ihl, ulen))
			return XH_FRAME_DROP(XH_XPORT_DROP_CSUM);
		m->family = XH_FAM_V4;
		memset(m->addr, 0, sizeof(m->addr));
		memcpy(m->addr, ip + 12, 4);
		return 0;
	}
	if (proto == htons(ETH_P_IPV6)) {
		const __u8 *ip6 = p + off;
		__u16 plen;

		if (c->family != XH_FAM_V6)
			return XH_FRAME_DROP(XH_XPORT_DROP_FAMILY);
		if (len < off + 40 + 8)
			return XH_FRAME_DROP(XH_XPORT_DROP_SHORT);
		if (ip6[0] >> 4 != 6)
			return XH_FRAME_DROP(XH_XPORT_DROP_IP_HDR);
		memcpy(&plen, ip6 + 4, 2);
		plen = ntohs(plen);
		if (len < off + 40 + plen)
			return XH_FRAME_DROP(XH_XPORT_DROP_SHORT);
		if (ip6[6] != IPPROTO_UDP)
			return XH_FRAME_DROP(XH_XPORT_DROP_NOT_UDP);
		if (memcmp(ip6 + 24, c->local, 16))
			return XH_FRAME_DROP(XH_XPORT_DROP_DST);
		ulen = udp_take(fr, ip6 + 40, plen, m);
		if (ulen < 0)
			return ulen;
		memcpy(&ck, ip6 + 40 + 6, 2);
		if (!ck)	/* mandatory on IPv6 */
			return XH_FRAME_DROP(XH_XPORT_DROP_UDP_HDR);
		if ((c->flags & XH_XPORT_F_RX_CSUM) &&
		    !udp_csum_ok(ip6 + 8, 32, ip6 + 40, ulen))
			return XH_FRAME_DROP(XH_XPORT_DROP_CSUM);
		m->family = XH_FAM_V6;
		memcpy(m->addr, ip6 + 8, 16);
		return 0;
	}
	return XH_FRAME_DROP(XH_XPORT_DROP_NOT_IP);
}
