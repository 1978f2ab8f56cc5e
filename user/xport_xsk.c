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
 * from a precomputed partial sum (xport_frame.c). A TX chunk is free
 * again when its address comes back on the completion ring.
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
#include <linux/if_xdp.h>
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
	struct xh_frame fr;
};

static struct xsk *xsk_of(struct xh_xport *x)
{
	return (struct xsk *)x;
}

static bool mac_zero(const __u8 mac[6])
{
	static const __u8 zero[6];

	return !memcmp(mac, zero, 6);
}

/* ---- transmit ---- */

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
			d->len = xh_frame_build(&k->fr,
						(__u8 *)k->area + d->addr,
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
		r = xh_frame_parse(&k->fr,
				   xsk_umem__get_data(k->area, d->addr),
				   d->len, &m[got]);
		if (r < 0) {
			x->st.rx_drop[XH_FRAME_REASON(r)]++;
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

		xh_frame_template(&k->fr, (__u8 *)k->area + addr);
		k->tx_free[k->n_tx_free++] = addr;
	}
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
	xh_frame_init(&k->fr, c);
	if (k->xp.max_payload > c->frame_size - k->fr.hdr_len)
		k->xp.max_payload = c->frame_size - k->fr.hdr_len;

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
