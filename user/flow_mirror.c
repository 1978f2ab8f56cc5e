// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flow_mirror.c - the flow table mirror of a steering node; see
 * flow_mirror.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flow_mirror.h"
#include "mirror_link.h"
#include "xh_hash.h"
#include "svc.h"
#include "log.h"

#define SNAP_BATCH	256

struct xh_flow_mirror {
	struct xh_mlink *l;
	struct ring_buffer *rb;
	int rb_map, xsks;
	struct xh_steer_maps m;		/* the controller's fds, not ours */
	__u64 now;			/* for the ring buffer callback */
	__u64 reported, sent, window_full, applied, unknown, snap_rows;
	/* snapshot walk over xh_flows_v1 */
	struct xh_flow_key snap_next;
	bool snap_started, snap_done;
	struct xh_flow_key skeys[SNAP_BATCH];
	struct xh_flow_rec svals[SNAP_BATCH];
	char peer[INET6_ADDRSTRLEN];
};

static __u32 id_of(const __be32 a[4], __u8 family)
{
	__u32 id = XH_HASH_SEED;
	int i;

	if (family == XH_FAM_V4)
		return ntohl(a[0]) ?: 1;
	for (i = 0; i < 4; i++)
		id = xh_mix_word(id, a[i]);
	return xh_fmix32(id) ?: 1;
}

/* Our backend id for (flow's service, address); 0 if none. */
static __u32 backend_local(struct xh_flow_mirror *fm,
			   const struct xh_flow_key *k,
			   const struct xh_flow_rec *r, __u32 *svc_out)
{
	struct xh_vip_key vk = { .proto = k->proto, .family = k->family,
				 .port = k->dport };
	struct xh_svc_backends sb;
	struct xh_vip v;
	unsigned int i;

	memcpy(vk.addr, k->dst, 16);
	if (bpf_map_lookup_elem(fm->m.vips, &vk, &v)) {
		vk.port = 0;
		if (bpf_map_lookup_elem(fm->m.vips, &vk, &v))
			return 0;
	}
	if (bpf_map_lookup_elem(fm->m.svc_bk, &v.svc_id, &sb))
		return 0;
	for (i = 0; i < sb.count && i < XH_MAX_SVC_BACKENDS; i++) {
		struct xh_backend b;

		if (bpf_map_lookup_elem(fm->m.backends, &sb.ids[i], &b))
			continue;
		if (b.family == r->family && !memcmp(b.addr, r->backend, 16)) {
			*svc_out = v.svc_id;
			return sb.ids[i];
		}
	}
	return 0;
}

/* The peer's flows, into our confirmed table. */
static int apply(void *arg, const struct xh_mir_rec *recs, unsigned int n)
{
	struct xh_flow_mirror *fm = arg;
	struct xh_flow_key keys[64];
	struct xh_flow vals[64];
	__u32 cnt = 0, i;
	__u64 now = fm->now;

	for (i = 0; i < n; i++) {
		const struct xh_mir_rec *r = &recs[i];
		__u32 id, svc = 0;

		if (r->klen != sizeof(struct xh_flow_key))
			continue;
		if (r->op != XH_MIR_OP_PUT) {
			bpf_map_delete_elem(fm->m.flows, r->key);
			continue;
		}
		if (r->vlen != sizeof(struct xh_flow_rec))
			continue;
		id = backend_local(fm, r->key, r->val, &svc);
		if (!id) {
			fm->unknown++;	/* a service or backend we lack */
			continue;
		}
		memcpy(&keys[cnt], r->key, sizeof(keys[0]));
		vals[cnt].backend = id;
		vals[cnt].svc_id = svc;
		vals[cnt].last_used_ns = now;
		if (++cnt == 64 || i == n - 1) {
			__u32 c = cnt;

			if (bpf_map_update_batch(fm->m.flows, keys, vals, &c,
						 NULL)) {
				/* one by one then (an old kernel, or one
				 * bad entry) */
				for (c = 0; c < cnt; c++)
					bpf_map_update_elem(fm->m.flows,
							    &keys[c], &vals[c],
							    BPF_ANY);
			}
			fm->applied += cnt;
			cnt = 0;
		}
	}
	if (cnt) {
		__u32 c;

		for (c = 0; c < cnt; c++)
			bpf_map_update_elem(fm->m.flows, &keys[c], &vals[c],
					    BPF_ANY);
		fm->applied += cnt;
	}
	return 0;
}

static int rec_of(struct xh_flow_mirror *fm, const struct xh_flow *f,
		  struct xh_flow_rec *r)
{
	struct xh_backend b;

	if (bpf_map_lookup_elem(fm->m.backends, &f->backend, &b))
		return -ENOENT;
	memset(r, 0, sizeof(*r));
	memcpy(r->backend, b.addr, 16);
	r->family = b.family;
	return 0;
}

/* Our confirmed flows, for the peer's resync. */
static int snap(void *arg, bool restart, struct xh_mir_rec *recs,
		unsigned int max)
{
	struct xh_flow_mirror *fm = arg;
	struct xh_flow_key k;
	struct xh_flow f;
	unsigned int n = 0;

	if (restart) {
		fm->snap_started = false;
		fm->snap_done = false;
	}
	if (max > SNAP_BATCH)
		max = SNAP_BATCH;
	while (n < max && !fm->snap_done) {
		if (bpf_map_get_next_key(fm->m.flows, fm->snap_started ?
					 &fm->snap_next : NULL, &k)) {
			fm->snap_done = true;
			break;
		}
		fm->snap_started = true;
		fm->snap_next = k;
		if (bpf_map_lookup_elem(fm->m.flows, &k, &f) ||
		    rec_of(fm, &f, &fm->svals[n]))
			continue;
		fm->skeys[n] = k;
		recs[n].key = &fm->skeys[n];
		recs[n].klen = sizeof(k);
		recs[n].val = &fm->svals[n];
		recs[n].vlen = sizeof(fm->svals[n]);
		recs[n].op = XH_MIR_OP_PUT;
		n++;
	}
	fm->snap_rows += n;
	return n;
}

static int on_flow_ev(void *ctx, void *data, size_t len)
{
	struct xh_flow_mirror *fm = ctx;
	const struct xh_flow_ev *ev = data;
	struct xh_flow f = {};
	struct xh_flow_rec r;
	int err;

	if (len < sizeof(*ev))
		return 0;
	fm->reported++;
	f.backend = ev->backend;
	if (rec_of(fm, &f, &r))
		return 0;
	if (ev->op == XH_FLOW_DEL)
		err = xh_mir_del(fm->l->tx, &ev->key, sizeof(ev->key), fm->now);
	else
		err = xh_mir_put(fm->l->tx, &ev->key, sizeof(ev->key), &r,
				 sizeof(r), fm->now);
	if (err == -EAGAIN)
		fm->window_full++;	/* the peer lags: its resync fixes it */
	else if (!err)
		fm->sent++;
	return 0;
}

static int pin_open(const struct xh_dev *d, const char *name)
{
	char path[PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", d->dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		pr_warn("mirror: %s: %s (a program attached by an older "
			"xdpha? xdpha upgrade %s)\n", path, strerror(errno),
			d->ifname);
	return fd < 0 ? -errno : fd;
}

int xh_flow_mirror_open(const struct xh_cfg *cfg, const struct xh_dev *d,
			const struct xh_steer_maps *m,
			struct xh_flow_mirror **out)
{
	const struct xh_cfg_mirror *mc = &cfg->mirror;
	const struct xh_cfg_iface *ifc = xh_config_iface(cfg, mc->iface);
	struct xh_mlink_cfg lc = {
		.xport = mc->transport,
		.stream = mc->stream,
		.key = mc->key[0] ? mc->key : NULL,
		.key_len = strlen(mc->key),
		.apply = apply,
		.snap = snap,
	};
	struct xh_flow_mirror *fm;
	int err;

	if (!ifc)
		return -ENODEV;
	fm = calloc(1, sizeof(*fm));
	if (!fm)
		return -ENOMEM;
	fm->m = *m;
	fm->rb_map = fm->xsks = -1;
	fm->rb_map = pin_open(d, "xh_flow_ev");
	fm->xsks = pin_open(d, "xh_xsks");
	if (fm->rb_map < 0 || fm->xsks < 0) {
		err = fm->rb_map < 0 ? fm->rb_map : fm->xsks;
		goto fail;
	}
	fm->rb = ring_buffer__new(fm->rb_map, on_flow_ev, fm, NULL);
	if (!fm->rb) {
		err = -errno;
		goto fail;
	}
	lc.x.ifname = mc->iface;
	lc.x.family = mc->peer.family;
	memcpy(lc.x.peer, mc->peer.addr, 16);
	if (mc->peer.family == XH_FAM_V6)
		memcpy(lc.x.local, ifc->addr6, 16);
	else
		lc.x.local[0] = ifc->addr4;
	lc.xsks_map_fd = fm->xsks;
	lc.self_id = mc->node_id ?: id_of(lc.x.local, lc.x.family);
	lc.peer_id = mc->peer_id ?: id_of(lc.x.peer, lc.x.family);
	lc.arg = fm;
	xh_addr_format(mc->peer.addr, mc->peer.family, fm->peer,
		       sizeof(fm->peer));
	err = xh_mlink_open(&lc, xh_now_ns(), &fm->l);
	if (err)
		goto fail;
	pr_info("mirror: flow table mirrored with %s over %s (node %u, peer "
		"%u)\n", fm->peer, xh_mlink_mode(fm->l), lc.self_id,
		lc.peer_id);
	*out = fm;
	return 0;
fail:
	xh_flow_mirror_close(fm);
	return err;
}

void xh_flow_mirror_close(struct xh_flow_mirror *fm)
{
	if (!fm)
		return;
	xh_mlink_close(fm->l);
	ring_buffer__free(fm->rb);
	if (fm->rb_map >= 0)
		close(fm->rb_map);
	if (fm->xsks >= 0)
		close(fm->xsks);
	free(fm);
}

int xh_flow_mirror_fd(const struct xh_flow_mirror *fm)
{
	return xh_mlink_fd(fm->l);
}

int xh_flow_mirror_rb_fd(const struct xh_flow_mirror *fm)
{
	return ring_buffer__epoll_fd(fm->rb);
}

void xh_flow_mirror_poll(struct xh_flow_mirror *fm, __u64 now)
{
	fm->now = now;
	ring_buffer__consume(fm->rb);
	xh_mir_flush(fm->l->tx, now);
	xh_mlink_poll(fm->l, now);
}

struct json_object *xh_flow_mirror_json(struct xh_flow_mirror *fm, __u64 now)
{
	struct json_object *o = json_object_new_object();
	struct xh_mir_stats tx, rx;

	xh_mir_get_stats(fm->l->tx, now, &tx);
	xh_mir_get_stats(fm->l->rx, now, &rx);
	json_object_object_add(o, "peer", json_object_new_string(fm->peer));
	json_object_object_add(o, "transport",
			       json_object_new_string(xh_mlink_mode(fm->l)));
	json_object_object_add(o, "state", json_object_new_string(
		xh_mir_state_name(tx.state)));
	json_object_object_add(o, "flows_reported",
			       json_object_new_int64(fm->reported));
	json_object_object_add(o, "records_sent", json_object_new_int64(tx.records));
	json_object_object_add(o, "records_acked", json_object_new_int64(tx.acked));
	json_object_object_add(o, "retransmitted",
			       json_object_new_int64(tx.retransmits));
	json_object_object_add(o, "window_full",
			       json_object_new_int64(fm->window_full));
	json_object_object_add(o, "lag_ms", json_object_new_double(tx.lag_ns / 1e6));
	json_object_object_add(o, "snapshots", json_object_new_int64(tx.snapshots));
	json_object_object_add(o, "peer_state", json_object_new_string(
		xh_mir_state_name(rx.state)));
	json_object_object_add(o, "records_applied",
			       json_object_new_int64(fm->applied));
	json_object_object_add(o, "records_unknown_backend",
			       json_object_new_int64(fm->unknown));
	json_object_object_add(o, "resyncs", json_object_new_int64(rx.resyncs));
	return o;
}
