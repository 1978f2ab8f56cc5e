// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xport_xsk.c - the mirror transport over an AF_XDP socket (libxdp's xsk
 * API), registered by hand in the member program's XSKMAP: libxdp must
 * not load a program of its own (its dispatcher needs freplace, which
 * some kernels refuse, and the member program owns the hook anyway).
 *
 * UMEM: 2 x ring_size chunks. The first half is the receive pool: it all
 * starts on the fill ring, and a chunk returns there at the next recv()
 * after the caller saw its payload. The second half is the transmit pool:
 * each chunk carries the Ethernet/IP/UDP headers from open on (written
 * once: the kernel never writes into a TX chunk), so sending a payload
 * writes the payload and three length fields and finishes a checksum
 * from a precomputed partial sum. A TX chunk is free again when its
 * address comes back on the completion ring.
 *
 * Copy mode (veth, and any driver without AF_XDP zero-copy) transmits
 * only inside sendto(): send() kicks until the kernel took the whole TX
 * ring, raising the per-call budget (XDP_MAX_TX_SKB_BUDGET, 6.17+) from 32
 * to the ring size where the kernel allows it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_xdp.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>
#include "log.h"
#include "neigh.h"
#include "svc.h"
#include "xh_abi.h"
#include "xport_impl.h"

#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET	9
#endif

#define VLAN_HLEN	4
#define IP4_OFF		ETH_HLEN
#define UDP4_OFF	(ETH_HLEN + 20)
#define UDP6_OFF	(ETH_HLEN + 40)

struct xsk {
	struct xh_xport xp;
	struct xsk_umem *umem;
	struct xsk_socket *sk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	void *area;
	size_t area_len;
	__u64 chunk_mask;
	__u64 *tx_free;		/* free TX chunks (a stack) */
	__u32 n_tx_free;
	__u64 *held;		/* RX chunks the caller may still read */
	__u32 n_held;
	int map_fd;
	bool map_owned, registered, zc;
	unsigned int hdr_len;	/* Ethernet + IP + UDP */
	__u64 csum_base;	/* IPv4: header sum without tot_len;
				 * IPv6: pseudo header and ports, no length */
};

static struct xsk *xsk_of(struct xh_xport *x)
{
	return (struct xsk *)x;
}

/* Ones' complement sum of memory as 16-bit words in memory order, loaded
 * natively: byte order drops out, so the result is stored as is. */
static __u64 csum_add(__u64 sum, const void *p, size_t len)
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

static __u16 csum_fold(__u64 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

static bool mac_zero(const __u8 mac[6])
{
	static const __u8 zero[6];

	return !memcmp(mac, zero, 6);
}

/* ---- transmit ---- */

/* The headers every TX chunk carries; only lengths and checksums vary. */
static void hdr_template(struct xsk *k, __u8 *f)
{
	const struct xh_xport_cfg *c = &k->xp.c;
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

static void csum_base_init(struct xsk *k)
{
	const struct xh_xport_cfg *c = &k->xp.c;
	__u8 f[ETH_HLEN + 40 + 8];

	hdr_template(k, f);
	if (c->family == XH_FAM_V4) {
		k->csum_base = csum_add(0, f + IP4_OFF, 20);
	} else {
		/* pseudo header: addresses, next header; then the ports */
		k->csum_base = csum_add(0, f + IP4_OFF + 8, 32) +
			       htons(IPPROTO_UDP) + htons(c->port) +
			       htons(c->peer_port);
	}
}

/* Write payload v into the TX chunk at f; returns the frame length. */
static __u32 frame_build(const struct xsk *k, __u8 *f, const struct iovec *v)
{
	__u16 ulen = 8 + v->iov_len;

	if (k->xp.c.family == XH_FAM_V4) {
		struct iphdr *ip = (struct iphdr *)(f + IP4_OFF);
		struct udphdr *udp = (struct udphdr *)(f + UDP4_OFF);

		ip->tot_len = htons(20 + ulen);
		ip->check = ~csum_fold(k->csum_base + ip->tot_len);
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
		sum = ~csum_fold(csum_add(k->csum_base + 2 * (__u32)udp->len,
					  v->iov_base, v->iov_len));
		udp->check = sum ? sum : 0xffff;
	}
	return k->hdr_len + v->iov_len;
}

static __u32 tx_pending(const struct xsk *k)
{
	return k->tx.cached_prod - __atomic_load_n(k->tx.consumer,
						   __ATOMIC_ACQUIRE);
}

static void reclaim(struct xsk *k)
{
	__u32 idx, n, i;

	n = xsk_ring_cons__peek(&k->comp, k->xp.c.ring_size, &idx);
	for (i = 0; i < n; i++)
		k->tx_free[k->n_tx_free++] =
			*xsk_ring_cons__comp_addr(&k->comp, idx + i) &
			k->chunk_mask;
	if (n)
		xsk_ring_cons__release(&k->comp, n);
}

/* Make the kernel take the TX ring. Zero-copy: a wakeup when the driver
 * asks for one. Copy mode: sendto() transmits, at most a budget per
 * call; call again while it makes progress. */
static void kick(struct xsk *k)
{
	__u32 cons, stalls = 0;

	if (!xsk_ring_prod__needs_wakeup(&k->tx))
		return;
	while (stalls < 4) {
		cons = __atomic_load_n(k->tx.consumer, __ATOMIC_ACQUIRE);
		k->xp.st.tx_kicks++;
		if (sendto(k->xp.fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0) {
			switch (errno) {
			case EBUSY:	/* the driver dropped a frame */
				k->xp.st.tx_kick_drops++;
				break;
			case EAGAIN:	/* budget spent, or completion ring full */
				reclaim(k);
				break;
			case ENOBUFS:
			case EINTR:
				break;
			default:
				k->xp.st.tx_errors++;
				return;
			}
		}
		if (k->zc || !tx_pending(k))
			return;
		if (__atomic_load_n(k->tx.consumer, __ATOMIC_ACQUIRE) == cons)
			stalls++;
	}
}

static int xsk_send(struct xh_xport *x, const struct iovec *v, unsigned int n)
{
	struct xsk *k = xsk_of(x);
	unsigned int fit = xh_xport_fit(x, v, n), want, i;
	__u64 bytes = 0;
	__u32 idx;

	if (n && !fit)
		return -EMSGSIZE;
	if (k->n_tx_free < fit)
		reclaim(k);
	want = fit < k->n_tx_free ? fit : k->n_tx_free;
	want = xsk_prod_nb_free(&k->tx, want) < want ?
		       xsk_prod_nb_free(&k->tx, want) : want;
	if (want && xsk_ring_prod__reserve(&k->tx, want, &idx) == want) {
		for (i = 0; i < want; i++) {
			struct xdp_desc *d = xsk_ring_prod__tx_desc(&k->tx,
								   idx + i);

			d->addr = k->tx_free[--k->n_tx_free];
			d->len = frame_build(k, (__u8 *)k->area + d->addr,
					     &v[i]);
			d->options = 0;
			bytes += v[i].iov_len;
		}
		xsk_ring_prod__submit(&k->tx, want);
		x->st.tx_frames += want;
		x->st.tx_bytes += bytes;
	} else {
		want = 0;
	}
	x->st.tx_full += fit - want;
	if (tx_pending(k))
		kick(k);
	return want;
}

/* ---- receive ---- */

/* Return the chunks the caller has seen to the fill ring. The ring has
 * room for the whole receive pool, so this never fails. */
static void refill(struct xsk *k)
{
	__u32 idx, i;

	if (!k->n_held ||
	    xsk_ring_prod__reserve(&k->fill, k->n_held, &idx) != k->n_held)
		return;
	for (i = 0; i < k->n_held; i++)
		*xsk_ring_prod__fill_addr(&k->fill, idx + i) = k->held[i];
	xsk_ring_prod__submit(&k->fill, k->n_held);
	k->n_held = 0;
}

static int udp_take(const struct xsk *k, const __u8 *udp, __u32 room,
		    struct xh_xport_msg *m)
{
	__u16 ulen, dport;

	memcpy(&ulen, udp + 4, 2);
	ulen = ntohs(ulen);
	if (ulen < 8 || ulen > room)
		return -XH_XPORT_DROP_UDP_HDR;
	memcpy(&dport, udp + 2, 2);
	if (ntohs(dport) != k->xp.c.port)
		return -XH_XPORT_DROP_PORT;
	memcpy(&m->port, udp, 2);
	m->port = ntohs(m->port);
	m->data = udp + 8;
	m->len = ulen - 8;
	return ulen;
}

/* Is this a UDP datagram to our address and port? -reason if not. */
static int frame_parse(const struct xsk *k, const __u8 *p, __u32 len,
		       struct xh_xport_msg *m)
{
	const struct xh_xport_cfg *c = &k->xp.c;
	__u32 off = ETH_HLEN;
	__u16 proto, ck;
	int ulen;

	if (len < ETH_HLEN)
		return -XH_XPORT_DROP_SHORT;
	memcpy(&proto, p + 12, 2);
	if (proto == htons(ETH_P_8021Q)) {
		if (len < ETH_HLEN + VLAN_HLEN)
			return -XH_XPORT_DROP_SHORT;
		memcpy(&proto, p + 16, 2);
		off += VLAN_HLEN;
	}
	if (proto == htons(ETH_P_IP)) {
		const __u8 *ip = p + off;
		__u16 tot, frag;
		__u32 ihl;

		if (c->family != XH_FAM_V4)
			return -XH_XPORT_DROP_FAMILY;
		if (len < off + 20)
			return -XH_XPORT_DROP_SHORT;
		ihl = (ip[0] & 0xf) * 4;
		if (ip[0] >> 4 != 4 || ihl < 20)
			return -XH_XPORT_DROP_IP_HDR;
		memcpy(&tot, ip + 2, 2);
		tot = ntohs(tot);
		if (tot < ihl + 8)
			return -XH_XPORT_DROP_IP_HDR;
		if (len < off + tot)
			return -XH_XPORT_DROP_SHORT;
		if (csum_fold(csum_add(0, ip, ihl)) != 0xffff)
			return -XH_XPORT_DROP_IP_HDR;
		memcpy(&frag, ip + 6, 2);
		if (frag & htons(0x3fff))	/* MF or an offset */
			return -XH_XPORT_DROP_FRAG;
		if (ip[9] != IPPROTO_UDP)
			return -XH_XPORT_DROP_NOT_UDP;
		if (memcmp(ip + 16, c->local, 4))
			return -XH_XPORT_DROP_DST;
		ulen = udp_take(k, ip + ihl, tot - ihl, m);
		if (ulen < 0)
			return ulen;
		memcpy(&ck, ip + ihl + 6, 2);
		if ((c->flags & XH_XPORT_F_RX_CSUM) && ck &&
		    csum_fold(csum_add(csum_add(htons(IPPROTO_UDP) +
						htons(ulen), ip + 12, 8),
				       ip + ihl, ulen)) != 0xffff)
			return -XH_XPORT_DROP_CSUM;
		m->family = XH_FAM_V4;
		memset(m->addr, 0, sizeof(m->addr));
		memcpy(m->addr, ip + 12, 4);
		return 0;
	}
	if (proto == htons(ETH_P_IPV6)) {
		const __u8 *ip6 = p + off;
		__u16 plen;

		if (c->family != XH_FAM_V6)
			return -XH_XPORT_DROP_FAMILY;
		if (len < off + 40 + 8)
			return -XH_XPORT_DROP_SHORT;
		if (ip6[0] >> 4 != 6)
			return -XH_XPORT_DROP_IP_HDR;
		memcpy(&plen, ip6 + 4, 2);
		plen = ntohs(plen);
		if (len < off + 40 + plen)
			return -XH_XPORT_DROP_SHORT;
		if (ip6[6] != IPPROTO_UDP)
			return -XH_XPORT_DROP_NOT_UDP;
		if (memcmp(ip6 + 24, c->local, 16))
			return -XH_XPORT_DROP_DST;
		ulen = udp_take(k, ip6 + 40, plen, m);
		if (ulen < 0)
			return ulen;
		memcpy(&ck, ip6 + 40 + 6, 2);
		if (!ck)	/* mandatory on IPv6 */
			return -XH_XPORT_DROP_UDP_HDR;
		if ((c->flags & XH_XPORT_F_RX_CSUM) &&
		    csum_fold(csum_add(csum_add(htons(IPPROTO_UDP) +
						htons(ulen), ip6 + 8, 32),
				       ip6 + 40, ulen)) != 0xffff)
			return -XH_XPORT_DROP_CSUM;
		m->family = XH_FAM_V6;
		memcpy(m->addr, ip6 + 8, 16);
		return 0;
	}
	return -XH_XPORT_DROP_NOT_IP;
}

static int xsk_recv(struct xh_xport *x, struct xh_xport_msg *m,
		    unsigned int max)
{
	struct xsk *k = xsk_of(x);
	unsigned int n, i, got = 0;
	__u32 idx;
	int r;

	refill(k);
	if (tx_pending(k))
		kick(k);
	if (max > x->c.batch)
		max = x->c.batch;
	n = xsk_ring_cons__peek(&k->rx, max, &idx);
	if (!n) {
		if (k->zc && xsk_ring_prod__needs_wakeup(&k->fill))
			recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		return 0;
	}
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&k->rx,
								  idx + i);

		k->held[k->n_held++] = d->addr & k->chunk_mask;
		r = frame_parse(k, xsk_umem__get_data(k->area, d->addr),
				d->len, &m[got]);
		if (r < 0) {
			x->st.rx_drop[-r]++;
			continue;
		}
		x->st.rx_bytes += m[got].len;
		got++;
	}
	xsk_ring_cons__release(&k->rx, n);
	x->st.rx_frames += got;
	return got;
}

/* ---- open, close ---- */

static void xsk_kstats(struct xh_xport *x, struct xh_xport_stats *st)
{
	struct xdp_statistics xs = {};
	socklen_t len = sizeof(xs);

	if (getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, &xs, &len))
		return;
	st->k_rx_dropped = xs.rx_dropped;
	st->k_rx_invalid = xs.rx_invalid_descs;
	st->k_tx_invalid = xs.tx_invalid_descs;
	if (len >= sizeof(xs)) {
		st->k_rx_ring_full = xs.rx_ring_full;
		st->k_fill_empty = xs.rx_fill_ring_empty_descs;
	}
}

static void xsk_close(struct xh_xport *x)
{
	struct xsk *k = xsk_of(x);
	__u32 q = x->c.queue;

	if (k->registered && bpf_map_delete_elem(k->map_fd, &q) &&
	    errno != ENOENT)
		pr_warn("mirror transport: cannot remove queue %u of %s from xm_xsks: %s\n",
			q, x->ifname, strerror(errno));
	if (k->sk)
		xsk_socket__delete(k->sk);
	if (k->umem)
		xsk_umem__delete(k->umem);
	if (k->area)
		munmap(k->area, k->area_len);
	if (k->map_owned)
		close(k->map_fd);
	free(k->tx_free);
	free(k->held);
	free(k);
}

static const struct xh_xport_ops xsk_ops = {
	.send = xsk_send,
	.recv = xsk_recv,
	.kstats = xsk_kstats,
	.close = xsk_close,
};

/* A UMEM and a socket bound in one mode; undone on failure, so the next
 * mode starts clean. */
static int xsk_bind(struct xsk *k, __u16 mode)
{
	const struct xh_xport_cfg *c = &k->xp.c;
	struct xsk_umem_config uc = {
		.fill_size = c->ring_size,
		.comp_size = c->ring_size,
		.frame_size = c->frame_size,
		.frame_headroom = 0,
	};
	struct xsk_socket_config sc = {
		.rx_size = c->ring_size,
		.tx_size = c->ring_size,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = mode | XDP_USE_NEED_WAKEUP,
	};
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int err, tries;

	err = xsk_umem__create(&k->umem, k->area, k->area_len, &k->fill,
			       &k->comp, &uc);
	if (err)
		return err;
	/* a socket closed just before may still hold the queue: the kernel
	 * releases its buffer pool from a work queue */
	for (tries = 0; tries < 100; tries++) {
		err = xsk_socket__create(&k->sk, k->xp.ifname, c->queue,
					 k->umem, &k->rx, &k->tx, &sc);
		if (err != -EBUSY)
			break;
		nanosleep(&ts, NULL);
	}
	if (err) {
		k->sk = NULL;
		xsk_umem__delete(k->umem);
		k->umem = NULL;
	}
	return err;
}

static int xsk_setup(struct xsk *k)
{
	struct xh_xport *x = &k->xp;
	const struct xh_xport_cfg *c = &x->c;
	__u32 ring = c->ring_size, i, idx;
	struct xdp_options opts = {};
	socklen_t len = sizeof(opts);
	unsigned int budget = ring;
	int err = -EOPNOTSUPP;

	k->area_len = (size_t)2 * ring * c->frame_size;
	k->area = mmap(NULL, k->area_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (k->area == MAP_FAILED) {
		k->area = NULL;
		return -errno;
	}
	k->chunk_mask = ~((__u64)c->frame_size - 1);
	k->tx_free = calloc(ring, sizeof(*k->tx_free));
	k->held = calloc(ring, sizeof(*k->held));
	if (!k->tx_free || !k->held)
		return -ENOMEM;

	if (!(c->flags & XH_XPORT_F_COPY)) {
		err = xsk_bind(k, XDP_ZEROCOPY);
		if (err)
			pr_info("mirror transport: %s queue %u: no AF_XDP zero-copy (%s), trying copy mode\n",
				x->ifname, c->queue, strerror(-err));
	}
	if (err && !(c->flags & XH_XPORT_F_ZEROCOPY))
		err = xsk_bind(k, XDP_COPY);
	if (err) {
		pr_warn("mirror transport: AF_XDP socket on %s queue %u: %s%s\n",
			x->ifname, c->queue, strerror(-err),
			err == -EBUSY ? " (another AF_XDP socket is bound there)" :
			err == -EINVAL ? " (no such queue?)" : "");
		return err;
	}
	x->fd = xsk_socket__fd(k->sk);
	k->zc = !getsockopt(x->fd, SOL_XDP, XDP_OPTIONS, &opts, &len) &&
		(opts.flags & XDP_OPTIONS_ZEROCOPY);
	x->mode = k->zc ? "afxdp-zerocopy" : "afxdp-copy";
	/* copy mode: more than 32 frames per sendto() where the kernel
	 * has the option (6.17+); without it we just kick more often */
	if (!k->zc)
		setsockopt(x->fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget,
			   sizeof(budget));

	/* the receive pool onto the fill ring, before any frame can come */
	if (xsk_ring_prod__reserve(&k->fill, ring, &idx) != ring)
		return -EIO;
	for (i = 0; i < ring; i++)
		*xsk_ring_prod__fill_addr(&k->fill, idx + i) =
			(__u64)i * c->frame_size;
	xsk_ring_prod__submit(&k->fill, ring);
	for (i = 0; i < ring; i++) {
		__u64 addr = (__u64)(ring + i) * c->frame_size;

		hdr_template(k, (__u8 *)k->area + addr);
		k->tx_free[k->n_tx_free++] = addr;
	}
	csum_base_init(k);
	return 0;
}

int xh_xport_open_xsk(const struct xh_xport_cfg *c, struct xh_xport **out)
{
	char buf[INET6_ADDRSTRLEN];
	struct xsk *k;
	__u32 q;
	int err, fd;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->xp.ops = &xsk_ops;
	k->map_fd = -1;
	err = xh_xport_init(&k->xp, c);
	if (err)
		goto fail;
	c = &k->xp.c;
	q = c->queue;
	k->hdr_len = c->family == XH_FAM_V4 ? UDP4_OFF + 8 : UDP6_OFF + 8;
	if (k->xp.max_payload > c->frame_size - k->hdr_len)
		k->xp.max_payload = c->frame_size - k->hdr_len;

	if (c->xsks_map_fd > 0) {
		k->map_fd = c->xsks_map_fd;
	} else {
		k->map_fd = xh_xport_xsks_map(k->xp.ifname);
		if (k->map_fd < 0) {
			err = k->map_fd;
			goto fail;
		}
		k->map_owned = true;
	}
	if (mac_zero(c->local_mac)) {
		err = xh_dev_mac(k->xp.ifindex, k->xp.c.local_mac);
		if (err) {
			pr_warn("mirror transport: MAC of %s: %s\n",
				k->xp.ifname, strerror(-err));
			goto fail;
		}
	}
	if (mac_zero(c->peer_mac)) {
		err = xh_neigh_resolve(k->xp.ifindex, c->peer, c->family,
				       c->neigh_timeout_ms, k->xp.c.peer_mac);
		if (err) {
			xh_addr_format(c->peer, c->family, buf, sizeof(buf));
			pr_warn("mirror transport: peer %s has no MAC in the neighbour table of %s (%s); is it on the link? Else pass its next hop's MAC\n",
				buf, k->xp.ifname, strerror(-err));
			goto fail;
		}
	}

	err = xsk_setup(k);
	if (err)
		goto fail;

	/* last: from here the member program redirects into the socket */
	fd = k->xp.fd;
	if (bpf_map_update_elem(k->map_fd, &q, &fd, BPF_NOEXIST)) {
		err = -errno;
		pr_warn("mirror transport: cannot register in xm_xsks of %s, queue %u: %s\n",
			k->xp.ifname, q,
			err == -EEXIST ? "another AF_XDP socket serves that queue (another mirror running?)" :
			err == -E2BIG ? "queue beyond the map" : strerror(-err));
		goto fail;
	}
	k->registered = true;
	pr_info("mirror transport: %s queue %u: %s\n", k->xp.ifname, q,
		k->xp.mode);
	*out = &k->xp;
	return 0;
fail:
	xsk_close(&k->xp);
	return err;
}
