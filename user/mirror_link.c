// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * mirror_link.c - transport plus sender and receiver engines for one peer;
 * see mirror_link.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "mirror_link.h"
#include "log.h"

#define RX_BATCH	64

static int link_xmit(void *arg, const struct iovec *frames, unsigned int n)
{
	struct xh_mlink *l = arg;
	int sent = xh_xport_send(l->x, frames, n);

	if (sent < (int)n)
		l->tx_short += n - (sent > 0 ? sent : 0);
	return sent;
}

static int link_apply(void *arg, const struct xh_mir_rec *recs,
		      unsigned int n)
{
	struct xh_mlink *l = arg;

	return l->apply(l->arg, recs, n);
}

static int link_snap(void *arg, bool restart, struct xh_mir_rec *recs,
		     unsigned int max)
{
	struct xh_mlink *l = arg;

	return l->snap ? l->snap(l->arg, restart, recs, max) : 0;
}

static void link_acked(void *arg, __u64 ack_seq, __u64 now)
{
	struct xh_mlink *l = arg;

	if (l->acked)
		l->acked(l->arg, ack_seq, now);
}

static __u64 realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int xh_mlink_open(const struct xh_mlink_cfg *c, __u64 now,
		  struct xh_mlink **out)
{
	struct xh_mir_cfg mc = {
		.self_id = c->self_id, .peer_id = c->peer_id,
		.epoch = c->epoch ?: realtime_ns(),
		.key = c->key, .key_len = c->key_len,
		.window = c->window,
		.xmit = link_xmit,
	};
	struct xh_xport_cfg xc = c->x;
	struct xh_mlink *l;
	int err;

	if (!c->self_id || !c->peer_id || c->self_id == c->peer_id ||
	    !c->apply) {
		pr_warn("mirror: node ids must differ and not be 0, and an "
			"apply callback is required\n");
		return -EINVAL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->tx_stream = c->stream * 2 + (c->self_id < c->peer_id ? 0 : 1);
	l->rx_stream = c->stream * 2 + (c->self_id < c->peer_id ? 1 : 0);
	xc.xsks_map_fd = c->xsks_map_fd;
	if (c->xport == XH_MLINK_UDP) {
		err = xh_xport_open_udp(&xc, &l->x);
	} else {
		err = xh_xport_open_xsk(&xc, &l->x);
		if (err && c->xport == XH_MLINK_AUTO) {
			pr_warn("mirror: AF_XDP on %s: %s; using a UDP socket\n",
				xc.ifname, strerror(-err));
			err = xh_xport_open_udp(&xc, &l->x);
		}
	}
	if (err)
		goto fail;
	l->apply = c->apply;
	l->snap = c->snap;
	l->acked = c->acked;
	l->arg = c->arg;
	mc.arg = l;
	mc.role = XH_MIR_SENDER;
	mc.stream = l->tx_stream;
	mc.snap = link_snap;
	mc.acked = link_acked;
	err = xh_mir_new(&mc, now, &l->tx);
	if (err)
		goto fail;
	mc.role = XH_MIR_RECEIVER;
	mc.stream = l->rx_stream;
	mc.snap = NULL;
	mc.acked = NULL;
	mc.apply = link_apply;
	mc.resume_epoch = c->resume_epoch;
	mc.resume_seq = c->resume_seq;
	err = xh_mir_new(&mc, now, &l->rx);
	if (err)
		goto fail;
	l->rx_cfg = mc;
	l->rx_cfg.resume_epoch = l->rx_cfg.resume_seq = 0;
	if (c->key) {
		memcpy(l->key, c->key, c->key_len);
		l->rx_cfg.key = l->key;
	}
	*out = l;
	return 0;
fail:
	xh_mlink_close(l);
	return err;
}

void xh_mlink_close(struct xh_mlink *l)
{
	if (!l)
		return;
	xh_mir_free(l->tx);
	xh_mir_free(l->rx);
	if (l->x)
		xh_xport_close(l->x);
	free(l);
}

int xh_mlink_fd(const struct xh_mlink *l)
{
	return xh_xport_fd(l->x);
}

const char *xh_mlink_mode(const struct xh_mlink *l)
{
	return xh_xport_mode(l->x);
}

int xh_mlink_poll(struct xh_mlink *l, __u64 now)
{
	struct xh_xport_msg msgs[RX_BATCH];
	struct iovec to_rx[RX_BATCH];
	int n, i, total = 0;

	do {
		unsigned int nrx = 0;

		n = xh_xport_recv(l->x, msgs, RX_BATCH);
		if (n < 0)
			return n;
		for (i = 0; i < n; i++) {
			__u32 stream;
			bool to_sender;

			if (xh_mir_peek(msgs[i].data, msgs[i].len, &stream,
					&to_sender)) {
				l->frames_other++;
				continue;
			}
			if (to_sender && stream == l->tx_stream) {
				xh_mir_input(l->tx, msgs[i].data, msgs[i].len,
					     now);
			} else if (!to_sender && stream == l->rx_stream) {
				to_rx[nrx].iov_base = (void *)msgs[i].data;
				to_rx[nrx].iov_len = msgs[i].len;
				nrx++;
			} else {
				l->frames_other++;
			}
		}
		/* the payloads stay valid until the next recv() */
		if (nrx)
			xh_mir_input_batch(l->rx, to_rx, nrx, now);
		total += n;
	} while (n == RX_BATCH);
	xh_mir_timer(l->tx, now);
	xh_mir_timer(l->rx, now);
	return total;
}

int xh_mlink_rx_restart(struct xh_mlink *l, __u64 now)
{
	struct xh_mir_cfg mc = l->rx_cfg;
	struct xh_mirror *rx;
	int err;

	/* larger than any epoch before it, even with the clock stepped back */
	mc.epoch = realtime_ns();
	if (mc.epoch <= l->rx_cfg.epoch)
		mc.epoch = l->rx_cfg.epoch + 1;
	err = xh_mir_new(&mc, now, &rx);
	if (err)
		return err;
	xh_mir_free(l->rx);
	l->rx = rx;
	l->rx_cfg.epoch = mc.epoch;
	return 0;
}

__u64 xh_mlink_next(const struct xh_mlink *l)
{
	__u64 a = xh_mir_next_timer(l->tx), b = xh_mir_next_timer(l->rx);

	return a < b ? a : b;
}
