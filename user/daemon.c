// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * daemon.c - `xdpha run`: the controller.
 *
 * One thread runs an epoll loop over a signalfd, a timerfd, the BFD
 * receive sockets and the control socket; BFD transmission has its own
 * real-time thread (bfd_io.c). The controller turns the configuration into
 * maps, speaks BFD with every backend, decides membership (hold-down,
 * drain, active-standby preemption) and reports every change as an event.
 * The data path never waits for it: a backend whose heartbeat stamps stop
 * is dead to the XDP program at its detection time; the controller then
 * reconciles (state down, tables rebuilt, event, hook).
 *
 * SIGHUP reloads the file (a bad file changes nothing); SIGTERM stops the
 * controller and leaves the data plane attached and pinned: a restarted
 * controller adopts programs, maps and BFD sessions without a flap.
 */
#define _GNU_SOURCE	/* accept4, struct ucred */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include "cli.h"
#include "config.h"
#include "bfd_io.h"
#include "events.h"
#include "svc.h"
#include "neigh.h"
#include "log.h"
#include "ctl.h"
#include "member_ctl.h"
#include "flow_mirror.h"

#define MAX_DEVS	8
#define MAX_BKS		1024
/* A stopping controller tells its peers to expect it only every this many
 * ms (a BFD poll sequence): their detection time becomes multiplier x
 * this, long enough for a restart that adopts the sessions. */
#define RESTART_GRACE_MS	3000

struct sess;

/* One backend of one service, as the controller tracks it. */
struct bk {
	bool used;
	int dev;			/* index of daemon.devs */
	__u32 svc_id, id;		/* map ids */
	char svc_name[96];
	char name[INET6_ADDRSTRLEN];
	__be32 addr[4];
	__u8 family;
	__u8 mode;			/* the service's enum xh_svc_mode */
	__u8 cfg_tier;			/* configured tier */
	__u8 admin;			/* XH_BK_UP/DRAIN/DOWN, operator's */
	__u8 written;			/* state last written to the map */
	__u8 tier_written;
	bool heartbeat;
	bool healthy;			/* session Up (or no heartbeat) */
	bool peer_drain;		/* the member said AdminDown */
	bool ever_up;			/* healthy at least once */
	bool standby_hold;		/* active-standby, no preempt: kept
					 * behind the current active */
	__u64 healthy_since;
	__u64 drain_since;
	char reason[96];		/* why it is down */
	struct sess *sess;
};

/* One BFD session per (device, backend address). */
struct sess {
	bool used;
	int dev;
	struct xh_bfd_peer *peer;
	struct xh_bfd_kernel k;		/* tag: the backend stamped */
};

struct devctx {
	struct xh_dev d;
	struct xh_steer_maps m;
	const struct xh_cfg_iface *cfg;
};

struct daemon {
	struct xh_cfg cfg;
	const char *cfg_path;
	struct devctx devs[MAX_DEVS];
	int n_devs;
	struct bk bks[MAX_BKS];
	struct sess sess[MAX_BKS];
	struct xh_bfd_io io;
	struct xh_events ev;
	struct xh_ctl_srv ctl;
	struct xh_flow_mirror *fm;	/* mirror { }, or NULL */
	int ep, sfd, tfd, lock_fd;
	__u64 tick_ns;
	bool stop;
	__u64 started_ns;
	__u64 rebuilds;
};

static struct daemon *D;

/* --- backends and their map state -------------------------------------- */

static struct devctx *dev_of(struct daemon *dm, const struct bk *b)
{
	return &dm->devs[b->dev];
}

/* Does another backend of b's service take new flows? */
static bool others_up(const struct daemon *dm, const struct bk *b)
{
	int i;

	for (i = 0; i < MAX_BKS; i++) {
		const struct bk *o = &dm->bks[i];

		if (o != b && o->used && o->dev == b->dev &&
		    o->svc_id == b->svc_id && o->written == XH_BK_UP)
			return true;
	}
	return false;
}

/* The state the data path should have for b. */
static __u8 effective(const struct daemon *dm, const struct bk *b, __u64 now)
{
	if (b->admin == XH_BK_DOWN)
		return XH_BK_DOWN;
	if (!b->healthy)
		return XH_BK_DOWN;
	/* Anti-flap: a backend that failed re-enters only after being Up
	 * for the hold-down time. Its first Up after start is immediate, and
	 * so is any Up while no other backend of the service takes traffic:
	 * holding the last hope down only lengthens a total outage. */
	if (b->written == XH_BK_DOWN && b->ever_up && b->reason[0] &&
	    now - b->healthy_since < (__u64)dm->cfg.hold_down_ms * 1000000ULL &&
	    others_up(dm, b))
		return XH_BK_DOWN;
	if (b->admin == XH_BK_DRAIN || b->peer_drain)
		return XH_BK_DRAIN;
	return XH_BK_UP;
}

/* The tier written for b: its configured one, or behind everyone while
 * an active-standby backend waits to preempt (or may not). */
static __u8 tier_of(const struct bk *b)
{
	if (b->mode == XH_SVC_ACTIVE_STANDBY && b->standby_hold)
		return b->cfg_tier + 128 > 255 ? 255 : b->cfg_tier + 128;
	return b->cfg_tier;
}

/* Write state and tier of b, rebuild its service. Returns 1 if changed. */
static int write_bk(struct daemon *dm, struct bk *b, __u8 state)
{
	struct devctx *dc = dev_of(dm, b);
	struct xh_backend e;
	__u8 tier = tier_of(b);

	if (state == b->written && tier == b->tier_written)
		return 0;
	if (xh_dev_lock(&dc->d))
		return 0;
	if (!bpf_map_lookup_elem(dc->m.backends, &b->id, &e) &&
	    e.svc_id == b->svc_id && e.state != XH_BK_FREE) {
		e.state = state;
		e.tier = tier;
		if (!bpf_map_update_elem(dc->m.backends, &b->id, &e, BPF_ANY)) {
			b->written = state;
			b->tier_written = tier;
			xh_service_rebuild(&dc->m, b->svc_id);
			dm->rebuilds++;
		}
	}
	xh_dev_unlock(&dc->d);
	return 1;
}

static const char *state_word(__u8 st)
{
	return xh_state_name(st);
}

/* The live member of an active-standby service: best tier written. */
static struct bk *active_of(struct daemon *dm, int dev, __u32 svc_id)
{
	struct bk *best = NULL;
	int i;

	for (i = 0; i < MAX_BKS; i++) {
		struct bk *b = &dm->bks[i];

		if (!b->used || b->dev != dev || b->svc_id != svc_id ||
		    b->written != XH_BK_UP)
			continue;
		if (!best || b->tier_written < best->tier_written)
			best = b;
	}
	return best;
}

/* Active-standby without preemption: when a backend comes back while
 * another is active, it waits behind; when the active fails, everyone
 * returns to the configured order. With preemption, it waits only the
 * preempt delay. */
static void standby_policy(struct daemon *dm, struct bk *b, __u64 now)
{
	struct bk *act;

	if (b->mode != XH_SVC_ACTIVE_STANDBY)
		return;
	act = active_of(dm, b->dev, b->svc_id);
	if (!act || act == b) {
		b->standby_hold = false;
		return;
	}
	if (act->cfg_tier < b->cfg_tier) {
		b->standby_hold = false;	/* it is a standby anyway */
		return;
	}
	if (!dm->cfg.preempt)
		b->standby_hold = true;
	else
		b->standby_hold = now - b->healthy_since <
				  (__u64)dm->cfg.preempt_delay_ms * 1000000ULL;
}

/* Bring b's map state in line with what the controller knows. */
static void reconcile(struct daemon *dm, struct bk *b, __u64 now)
{
	struct bk *before = NULL, *after;
	__u8 old = b->written, st;
	bool was_hold = b->standby_hold;

	if (b->mode == XH_SVC_ACTIVE_STANDBY)
		before = active_of(dm, b->dev, b->svc_id);
	if (b->healthy && b->written != XH_BK_UP)
		standby_policy(dm, b, now);
	else if (!b->healthy)
		b->standby_hold = false;
	st = effective(dm, b, now);
	if (!write_bk(dm, b, st) && was_hold == b->standby_hold)
		return;
	if (st != old) {
		if (st == XH_BK_UP)
			xh_event(&dm->ev, XH_EV_BACKEND_UP, b->svc_name, b->name,
				 "up", b->standby_hold ? "standby" : "healthy");
		else if (st == XH_BK_DRAIN)
			xh_event(&dm->ev, XH_EV_BACKEND_DRAIN, b->svc_name,
				 b->name, "drain", b->peer_drain ?
				 "member admin-down" : "operator");
		else
			xh_event(&dm->ev, XH_EV_BACKEND_DOWN, b->svc_name,
				 b->name, "down", b->admin == XH_BK_DOWN ?
				 "operator" : b->reason[0] ? b->reason :
				 "no heartbeat yet");
		if (st == XH_BK_DRAIN)
			b->drain_since = now;
	}
	if (b->mode != XH_SVC_ACTIVE_STANDBY)
		return;
	after = active_of(dm, b->dev, b->svc_id);
	if (after != before) {
		int i;

		xh_event(&dm->ev, XH_EV_ACTIVE, b->svc_name,
			 after ? after->name : "", after ? "active" : "none",
			 before ? before->name : "");
		/* The active failed: the others return to configured order,
		 * so the best of them takes over. */
		if (!after || (before && before->written != XH_BK_UP)) {
			for (i = 0; i < MAX_BKS; i++) {
				struct bk *o = &dm->bks[i];

				if (o->used && o->dev == b->dev &&
				    o->svc_id == b->svc_id && o->standby_hold) {
					o->standby_hold = false;
					write_bk(dm, o, o->written);
				}
			}
		}
	}
}

/* --- BFD ----------------------------------------------------------------- */

/* Set the stamped backend's detection time to the session's. */
static void stamp_setup(struct daemon *dm, struct sess *s, bool up)
{
	struct devctx *dc = &dm->devs[s->dev];
	struct xh_backend e;
	__u64 det = up ? xh_bfd_detect_time_ns(&s->peer->s) : 0;

	if (!s->k.tag ||
	    bpf_map_lookup_elem(dc->m.backends, &s->k.tag, &e))
		return;
	if (e.detect_ns == det)
		return;
	e.detect_ns = det;
	e.last_seen_ns = xh_now_ns();
	bpf_map_update_elem(dc->m.backends, &s->k.tag, &e, BPF_ANY);
}

static void sess_changed(struct daemon *dm, struct sess *s,
			 const struct xh_bfd_event *ev)
{
	struct xh_bfd_session *bs = &s->peer->s;
	__u64 now = xh_now_ns();
	char reason[96], addr[INET6_ADDRSTRLEN];
	bool up = bs->state == XH_BFD_UP;
	int i;

	xh_bfd_kernel_sync(&s->k, s->peer);
	if (ev->timers_changed || ev->state_changed)
		stamp_setup(dm, s, up);
	if (!ev->state_changed)
		return;
	xh_addr_format(s->peer->addr, s->peer->family, addr, sizeof(addr));
	if (up)
		snprintf(reason, sizeof(reason), "session up");
	else if (bs->remote_state == XH_BFD_ADMIN_DOWN)
		snprintf(reason, sizeof(reason), "member admin-down");
	else if (bs->local_diag == XH_BFD_DIAG_NEIGHBOR_DOWN)
		snprintf(reason, sizeof(reason), "member down: %s",
			 xh_bfd_diag_name(bs->remote_diag));
	else
		snprintf(reason, sizeof(reason), "%s",
			 xh_bfd_diag_name(bs->local_diag));
	/* Down <-> Init churn of a session that cannot come Up (a one-way
	 * failure) is one event, not one per interval. */
	if (up || ev->old_state == XH_BFD_UP ||
	    (bs->state == XH_BFD_DOWN && ev->old_state != XH_BFD_INIT))
		xh_event(&dm->ev, XH_EV_SESSION, "", addr,
			 xh_bfd_state_name(bs->state), reason);
	for (i = 0; i < MAX_BKS; i++) {
		struct bk *b = &dm->bks[i];

		if (!b->used || b->sess != s)
			continue;
		b->peer_drain = !up && bs->remote_state == XH_BFD_ADMIN_DOWN &&
				b->healthy;
		if (b->peer_drain) {
			/* Drained by the member: keep its flows. */
			reconcile(dm, b, now);
			continue;
		}
		if (up && !b->healthy) {
			b->healthy = true;
			b->healthy_since = now;
			if (b->ever_up && b->reason[0] &&
			    dm->cfg.hold_down_ms)
				xh_event(&dm->ev, XH_EV_BACKEND_HOLD,
					 b->svc_name, b->name, "hold",
					 "healthy, waiting out hold-down");
			b->ever_up = b->ever_up || !b->reason[0] ||
				     !dm->cfg.hold_down_ms;
		} else if (!up && b->healthy) {
			b->healthy = false;
			b->ever_up = true;
			snprintf(b->reason, sizeof(b->reason), "%s", reason);
		}
		reconcile(dm, b, now);
		if (up && b->written == XH_BK_UP)
			b->reason[0] = 0;
	}
}

static void on_bfd(struct xh_bfd_io *io, struct xh_bfd_peer *p,
		   const struct xh_bfd_event *ev, void *arg)
{
	struct daemon *dm = arg;

	(void)io;
	if (p->user)
		sess_changed(dm, p->user, ev);
}

static struct bfd_cfg_tmp {
	struct xh_bfd_cfg c;
} bfd_cfg(const struct xh_cfg *cfg)
{
	struct bfd_cfg_tmp t = { {
		.desired_min_tx_us = cfg->hb_interval_ms * 1000,
		.required_min_rx_us = cfg->hb_interval_ms * 1000,
		.slow_tx_us = cfg->slow_start_ms * 1000,
		.detect_mult = cfg->hb_mult,
	} };

	return t;
}

static struct sess *sess_get(struct daemon *dm, struct bk *b)
{
	struct devctx *dc = dev_of(dm, b);
	struct bfd_cfg_tmp bc = bfd_cfg(&dm->cfg);
	__be32 local[4] = {};
	struct sess *s = NULL;
	int i;

	for (i = 0; i < MAX_BKS; i++) {
		struct sess *o = &dm->sess[i];

		if (o->used && o->dev == b->dev && o->peer->family == b->family &&
		    !memcmp(o->peer->addr, b->addr, 16))
			return o;
		if (!o->used && !s)
			s = o;
	}
	if (!s)
		return NULL;
	if (b->family == XH_FAM_V6) {
		if (!dc->cfg->have_addr6) {
			pr_warn("%s: no address6 on %s for a BFD session\n",
				b->name, dc->d.ifname);
			return NULL;
		}
		memcpy(local, dc->cfg->addr6, 16);
	} else {
		local[0] = dc->cfg->addr4;
	}
	memset(s, 0, sizeof(*s));
	s->dev = b->dev;
	s->k.tag = b->id;
	s->peer = xh_bfd_io_add(&dm->io, b->addr, b->family, local, &bc.c, s);
	if (!s->peer)
		return NULL;
	s->used = true;
	/* Restarted controller: keep the discriminator the peer knows and
	 * the Up state the data path is still stamping. */
	s->k.map_fd = dc->m.bfd;
	if (!xh_bfd_kernel_adopt(&dm->io, &s->k, s->peer))
		pr_info("bfd: adopted the session with %s (disc %u)\n", b->name,
			s->peer->s.local_disc);
	return s;
}

/* --- configuration -> maps ------------------------------------------------ */

static int dev_index(struct daemon *dm, const char *name)
{
	int i;

	for (i = 0; i < dm->n_devs; i++)
		if (!strcmp(dm->devs[i].d.ifname, name))
			return i;
	return -1;
}

static int open_devs(struct daemon *dm)
{
	unsigned int i;
	int err;

	for (i = 0; i < dm->cfg.n_ifaces && i < MAX_DEVS; i++) {
		const struct xh_cfg_iface *ci = &dm->cfg.ifaces[i];
		struct devctx *dc;
		int k = dev_index(dm, ci->name);

		if (k >= 0) {
			dm->devs[k].cfg = ci;
			continue;
		}
		dc = &dm->devs[dm->n_devs];
		err = xh_dev_init(&dc->d, ci->name);
		if (err) {
			pr_warn("%s: %s\n", ci->name, err == -ENODEV ?
				"no such device" : strerror(-err));
			return err;
		}
		if (!xh_dev_attached(&dc->d)) {
			struct xh_attach_opts o = {
				.role = ci->role, .mode = ci->mode,
				.flows = ci->flows, .flows_new = ci->flows_new,
			};

			err = xh_dev_lock(&dc->d);
			err = err ?: xh_attach(&dc->d, &o);
			xh_dev_unlock(&dc->d);
			if (err)
				return err;
			pr_info("%s: attached\n", ci->name);
		} else {
			pr_info("%s: adopting the attached program and maps\n",
				ci->name);
		}
		err = xh_maps_open(&dc->d, &dc->m);
		if (err)
			return err;
		dc->cfg = ci;
		dm->n_devs++;
	}
	return 0;
}

static bool same_service(const struct xh_service *s,
			 const struct xh_cfg_service *c)
{
	return s->fwd == c->fwd && s->mode == c->mode &&
	       s->table_size == c->table_size &&
	       (c->fwd != XH_FWD_IPIP ||
		!memcmp(s->encap_src, c->encap_src, 16));
}

static struct bk *bk_find(struct daemon *dm, int dev, __u32 svc_id,
			  const __be32 addr[4])
{
	int i;

	for (i = 0; i < MAX_BKS; i++) {
		struct bk *b = &dm->bks[i];

		if (b->used && b->dev == dev && b->svc_id == svc_id &&
		    !memcmp(b->addr, addr, 16))
			return b;
	}
	return NULL;
}

static struct bk *bk_new(struct daemon *dm)
{
	int i;

	for (i = 0; i < MAX_BKS; i++)
		if (!dm->bks[i].used) {
			memset(&dm->bks[i], 0, sizeof(dm->bks[i]));
			dm->bks[i].used = true;
			return &dm->bks[i];
		}
	return NULL;
}

static void sess_put(struct daemon *dm, struct sess *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < MAX_BKS; i++)
		if (dm->bks[i].used && dm->bks[i].sess == s)
			return;
	if (s->k.in_kernel) {
		__u32 disc = s->peer->s.local_disc;

		bpf_map_delete_elem(s->k.map_fd, &disc);
	}
	xh_bfd_io_del(&dm->io, s->peer);
	s->used = false;
}

static void bk_drop(struct daemon *dm, struct bk *b)
{
	struct sess *s = b->sess;

	b->used = false;
	b->sess = NULL;
	sess_put(dm, s);
}

/* Track a backend of the maps: new ones start down until their session
 * comes Up, unless they are already up and stamped (a restart). */
static struct bk *bk_track(struct daemon *dm, int dev, __u32 svc_id,
			   const char *svc_name, __u8 mode, __u32 id,
			   const struct xh_backend *e, __u8 cfg_tier,
			   __u8 admin, bool heartbeat)
{
	struct bk *b = bk_find(dm, dev, svc_id, e->addr);

	if (!b) {
		b = bk_new(dm);
		if (!b)
			return NULL;
		b->dev = dev;
		b->svc_id = svc_id;
		memcpy(b->addr, e->addr, 16);
		b->family = e->family;
		b->written = e->state;
		b->tier_written = e->tier;
		/* Taking over from a running data plane: it is healthy if the
		 * data path still finds it live. */
		b->healthy = !heartbeat || xh_backend_live(e, xh_now_ns()) ||
			     e->state == XH_BK_DRAIN;
		b->ever_up = b->healthy;
		b->healthy_since = xh_now_ns();
	}
	b->id = id;
	b->mode = mode;
	b->cfg_tier = cfg_tier;
	b->admin = admin;
	b->heartbeat = heartbeat;
	snprintf(b->svc_name, sizeof(b->svc_name), "%s", svc_name);
	xh_addr_format(e->addr, e->family, b->name, sizeof(b->name));
	if (heartbeat && !b->sess)
		b->sess = sess_get(dm, b);
	if (!heartbeat && b->sess) {
		struct sess *s = b->sess;

		b->sess = NULL;
		sess_put(dm, s);
		b->healthy = true;
	}
	return b;
}

/* Make the maps of every device say what the configuration says. */
static int apply_config(struct daemon *dm)
{
	const struct xh_cfg *cfg = &dm->cfg;
	bool keep[MAX_BKS] = {};
	unsigned int i, j;
	int k, err = 0;

	for (i = 0; i < cfg->n_services; i++) {
		const struct xh_cfg_service *cs = &cfg->services[i];
		int dev = dev_index(dm, cs->iface);
		struct devctx *dc;
		struct xh_service cur;
		struct xh_svc_cfg sc = {
			.fwd = cs->fwd, .mode = cs->mode,
			.table_size = cs->table_size,
			.encap_family = cs->encap_family,
		};
		__u32 svc_id;

		if (dev < 0)
			continue;
		dc = &dm->devs[dev];
		memcpy(sc.encap_src, cs->encap_src, 16);
		if (xh_dev_lock(&dc->d))
			return -EIO;
		if (!xh_service_find(&dc->m, &cs->vip, &svc_id) &&
		    (bpf_map_lookup_elem(dc->m.services, &svc_id, &cur) ||
		     !same_service(&cur, cs))) {
			pr_info("service %s changed: recreated\n", cs->name);
			xh_service_del(&dc->m, &cs->vip);
		}
		if (xh_service_find(&dc->m, &cs->vip, &svc_id)) {
			err = xh_service_add(&dc->m, &cs->vip, &sc, &svc_id);
			if (err) {
				xh_dev_unlock(&dc->d);
				return err;
			}
		}
		for (j = 0; j < cs->n_backends; j++) {
			const struct xh_cfg_backend *cb = &cs->backends[j];
			struct xh_bk_cfg bc = {
				.family = cb->family, .have_mac = cb->have_mac,
				.weight = cb->weight, .tier = cb->tier,
				/* down until BFD says otherwise */
				.state = cb->heartbeat ? XH_BK_DOWN : cb->state,
			};
			struct xh_backend e;
			struct bk *b;
			__u32 id;
			int ifx = dc->d.ifindex;

			memcpy(bc.addr, cb->addr, 16);
			memcpy(bc.mac, cb->mac, 6);
			if (cb->via[0]) {
				ifx = if_nametoindex(cb->via);
				if (!ifx) {
					pr_warn("%s: via %s: no such device\n",
						cs->name, cb->via);
					continue;
				}
				bc.ifindex = ifx;
			}
			if (xh_backend_find(&dc->m, svc_id, cb->addr, cb->family,
					    &id)) {
				if (!bc.have_mac &&
				    xh_neigh_resolve(ifx, cb->addr, cb->family,
						     1000, bc.mac)) {
					pr_warn("%s: backend %s: MAC unresolvable; "
						"set mac in the file\n", cs->name,
						"?");
					continue;
				}
				if (bc.ifindex && bc.ifindex != (__u32)dc->d.ifindex) {
					struct xh_iface ifc = {};

					xh_dev_mac(bc.ifindex, ifc.mac);
					bpf_map_update_elem(dc->m.ifaces, &bc.ifindex, &ifc, 0);
					bpf_map_update_elem(dc->m.tx_ports, &bc.ifindex,
							    &bc.ifindex, 0);
				}
				if (xh_backend_add(&dc->m, svc_id, &bc, &id))
					continue;
			} else if (!bpf_map_lookup_elem(dc->m.backends, &id, &e)) {
				/* weight, tier, MAC from the file */
				bool ch = e.weight != cb->weight;

				e.weight = cb->weight;
				if (cb->have_mac) {
					ch |= memcmp(e.mac, cb->mac, 6) != 0;
					memcpy(e.mac, cb->mac, 6);
				}
				if (ch) {
					bpf_map_update_elem(dc->m.backends, &id, &e, 0);
					xh_service_rebuild(&dc->m, svc_id);
				}
			}
			if (bpf_map_lookup_elem(dc->m.backends, &id, &e))
				continue;
			b = bk_track(dm, dev, svc_id, cs->name, cs->mode, id, &e,
				     cb->tier, cb->state, cb->heartbeat);
			if (b)
				keep[b - dm->bks] = true;
		}
		/* Backends the file no longer names */
		for (k = 0; k < MAX_BKS; k++) {
			struct bk *b = &dm->bks[k];

			if (b->used && b->dev == dev && b->svc_id == svc_id &&
			    !keep[k]) {
				xh_backend_del(&dc->m, svc_id, b->id);
				bk_drop(dm, b);
			}
		}
		{
			struct xh_backend e;
			__u32 id;

			for (id = 1; id < XH_MAX_BACKENDS; id++) {
				struct bk *b;

				if (bpf_map_lookup_elem(dc->m.backends, &id, &e))
					break;
				if (e.state == XH_BK_FREE || e.svc_id != svc_id)
					continue;
				b = bk_find(dm, dev, svc_id, e.addr);
				if (!b || !keep[b - dm->bks])
					xh_backend_del(&dc->m, svc_id, id);
			}
		}
		xh_dev_unlock(&dc->d);
	}
	/* Services the file no longer names */
	for (k = 0; k < dm->n_devs; k++) {
		struct devctx *dc = &dm->devs[k];
		struct xh_svc_spec sp;
		__u32 id;

		for (id = 1; id < XH_MAX_SERVICES; id++) {
			bool named = false;

			if (xh_service_spec(&dc->m, id, &sp))
				continue;
			for (i = 0; i < cfg->n_services; i++)
				if (!memcmp(&cfg->services[i].vip, &sp, sizeof(sp)) &&
				    !strcmp(cfg->services[i].iface, dc->d.ifname))
					named = true;
			if (named)
				continue;
			if (xh_dev_lock(&dc->d))
				continue;
			xh_service_del(&dc->m, &sp);
			xh_dev_unlock(&dc->d);
			for (j = 0; j < MAX_BKS; j++)
				if (dm->bks[j].used && dm->bks[j].dev == k &&
				    dm->bks[j].svc_id == id)
					bk_drop(dm, &dm->bks[j]);
		}
	}
	for (k = 0; k < MAX_BKS; k++)
		if (dm->bks[k].used)
			reconcile(dm, &dm->bks[k], xh_now_ns());
	return err;
}

/* After an operator's verb: adopt what it changed in the maps. A state
 * different from what we wrote is the operator's admin state; backends
 * it added are tracked (with a session if given a detection time). */
static void resync(struct daemon *dm)
{
	bool seen[MAX_BKS] = {};
	int k, i;

	for (k = 0; k < dm->n_devs; k++) {
		struct devctx *dc = &dm->devs[k];
		struct xh_svc_spec sp;
		struct xh_service svc;
		struct xh_backend e;
		char name[96];
		__u32 id;

		for (id = 1; id < XH_MAX_BACKENDS; id++) {
			struct bk *b;

			if (bpf_map_lookup_elem(dc->m.backends, &id, &e))
				break;
			if (e.state == XH_BK_FREE ||
			    bpf_map_lookup_elem(dc->m.services, &e.svc_id, &svc) ||
			    xh_service_spec(&dc->m, e.svc_id, &sp))
				continue;
			b = bk_find(dm, k, e.svc_id, e.addr);
			if (b && b->id == id) {
				seen[b - dm->bks] = true;
				if (e.state != b->written) {
					b->admin = e.state;
					b->written = e.state;
					pr_info("%s %s: operator set %s\n",
						b->svc_name, b->name,
						state_word(e.state));
					reconcile(dm, b, xh_now_ns());
				}
				continue;
			}
			xh_svc_format(&sp, name, sizeof(name));
			b = bk_track(dm, k, e.svc_id, name, svc.mode, id, &e,
				     e.tier, e.state, e.detect_ns != 0);
			if (b) {
				seen[b - dm->bks] = true;
				pr_info("%s %s: added by the operator\n", name,
					b->name);
			}
		}
	}
	for (i = 0; i < MAX_BKS; i++)
		if (dm->bks[i].used && !seen[i]) {
			pr_info("%s %s: removed by the operator\n",
				dm->bks[i].svc_name, dm->bks[i].name);
			bk_drop(dm, &dm->bks[i]);
		}
}

/* --- the tick: detection, hold-down, drain timeout, hook ---------------- */

static void on_bfd(struct xh_bfd_io *io, struct xh_bfd_peer *p,
		   const struct xh_bfd_event *ev, void *arg);

static void tick(struct daemon *dm)
{
	__u64 now;
	struct xh_bfd_event ev;
	int i;

	/* What arrived while the loop was busy counts before the timers. */
	xh_bfd_io_recv(&dm->io, dm->io.rx4, on_bfd, dm);
	if (dm->io.rx6 >= 0)
		xh_bfd_io_recv(&dm->io, dm->io.rx6, on_bfd, dm);
	now = xh_now_ns();

	for (i = 0; i < MAX_BKS; i++) {
		struct sess *s = &dm->sess[i];

		if (!s->used)
			continue;
		/* Steady packets never reach us: the data path's stamp is
		 * the session's last reception. */
		xh_bfd_kernel_touch(&s->k, s->peer);
		if (xh_bfd_check_timeout(&s->peer->s, now, &ev) > 0) {
			xh_bfd_io_publish(&dm->io, s->peer);
			sess_changed(dm, s, &ev);
		}
	}
	for (i = 0; i < MAX_BKS; i++) {
		struct bk *b = &dm->bks[i];

		if (!b->used)
			continue;
		if (b->healthy && (b->written == XH_BK_DOWN || b->standby_hold))
			reconcile(dm, b, now);
		if (b->written == XH_BK_DRAIN && dm->cfg.drain_timeout_ms &&
		    b->admin == XH_BK_DRAIN &&
		    now - b->drain_since > (__u64)dm->cfg.drain_timeout_ms * 1000000ULL) {
			b->admin = XH_BK_DOWN;
			snprintf(b->reason, sizeof(b->reason), "drain timeout");
			reconcile(dm, b, now);
		}
	}
	if (dm->fm)
		xh_flow_mirror_poll(dm->fm, xh_now_ns());
	xh_events_pump(&dm->ev, now);
}

/* --- control socket -------------------------------------------------------- */

static void reap(struct daemon *dm)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (xh_events_reaped(&dm->ev, pid, status))
			continue;
		if (xh_ctl_srv_reaped(&dm->ctl, pid, status))
			resync(dm);
	}
	xh_events_pump(&dm->ev, xh_now_ns());
}

/* --- reload, main loop ----------------------------------------------------- */

static void reload(struct daemon *dm)
{
	struct xh_cfg fresh = {};
	char err[512];
	int i;

	if (xh_config_load(dm->cfg_path, &fresh, err, sizeof(err))) {
		pr_warn("reload refused, the running configuration stays: %s\n",
			err);
		xh_event(&dm->ev, XH_EV_CONFIG, "", "", "refused", err);
		return;
	}
	xh_config_free(&dm->cfg);
	dm->cfg = fresh;
	xh_log_level = dm->cfg.log_level;
	dm->ev.prog = dm->cfg.notify_prog;
	dm->ev.args = dm->cfg.notify_args;
	dm->ev.timeout_ms = dm->cfg.notify_timeout_ms;
	if (open_devs(dm))
		pr_warn("reload: an interface could not be opened\n");
	for (i = 0; i < MAX_BKS; i++) {
		struct sess *s = &dm->sess[i];
		struct xh_bfd_event ev;

		if (!s->used)
			continue;
		xh_bfd_set_timers(&s->peer->s, dm->cfg.hb_interval_ms * 1000,
				  dm->cfg.hb_interval_ms * 1000, &ev);
		xh_bfd_io_publish(&dm->io, s->peer);
	}
	apply_config(dm);
	xh_event(&dm->ev, XH_EV_CONFIG, "", "", "loaded", dm->cfg_path);
}

static int setup(struct daemon *dm)
{
	struct epoll_event ee = { .events = EPOLLIN };
	sigset_t ss;
	int err;

	err = xh_ctl_begin(dm->cfg.socket, &ss, &dm->lock_fd);
	err = err ?: xh_bpffs_ensure();
	err = err ?: open_devs(dm);
	if (err)
		return err;
	/* before the BFD thread: it inherits the locked memory */
	err = xh_ctl_loop_fds(&ss, dm->cfg.hb_interval_ms, &dm->sfd, &dm->tfd,
			      &dm->tick_ns);
	err = err ?: xh_bfd_io_init(&dm->io, 50);
	if (err)
		return err;
	err = apply_config(dm);
	if (err)
		pr_warn("applying %s: %s (continuing with what applied)\n",
			dm->cfg_path, strerror(-err));
	dm->ep = epoll_create1(EPOLL_CLOEXEC);
	if (dm->cfg.mirror.enabled) {
		int d = dev_index(dm, dm->cfg.mirror.iface);

		err = d < 0 ? -ENODEV :
		      xh_flow_mirror_open(&dm->cfg, &dm->devs[d].d,
					  &dm->devs[d].m, &dm->fm);
		if (err) {
			pr_warn("mirror (%s:%d): %s\n", dm->cfg_path,
				dm->cfg.mirror.line, strerror(-err));
			return err;
		}
		ee.data.u64 = 6;
		epoll_ctl(dm->ep, EPOLL_CTL_ADD, xh_flow_mirror_fd(dm->fm), &ee);
		ee.data.u64 = 7;
		epoll_ctl(dm->ep, EPOLL_CTL_ADD, xh_flow_mirror_rb_fd(dm->fm),
			  &ee);
	}
	dm->ctl.ev = &dm->ev;
	err = xh_ctl_srv_open(&dm->ctl, dm->cfg.socket, dm->ep, 5, 1000);
	if (err) {
		pr_warn("control socket %s: %s\n", dm->cfg.socket,
			strerror(-err));
		return err;
	}
	ee.data.u64 = 1;
	epoll_ctl(dm->ep, EPOLL_CTL_ADD, dm->sfd, &ee);
	ee.data.u64 = 2;
	epoll_ctl(dm->ep, EPOLL_CTL_ADD, dm->tfd, &ee);
	ee.data.u64 = 3;
	epoll_ctl(dm->ep, EPOLL_CTL_ADD, dm->io.rx4, &ee);
	if (dm->io.rx6 >= 0) {
		ee.data.u64 = 4;
		epoll_ctl(dm->ep, EPOLL_CTL_ADD, dm->io.rx6, &ee);
	}
	return 0;
}

static void on_signal(struct daemon *dm)
{
	struct signalfd_siginfo si;

	while (read(dm->sfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			dm->stop = true;
			break;
		case SIGHUP:
			pr_info("SIGHUP: reloading %s\n", dm->cfg_path);
			reload(dm);
			break;
		case SIGCHLD:
			reap(dm);
			break;
		}
	}
}

static int loop(struct daemon *dm)
{
	struct epoll_event evs[32];
	__u64 exp;
	int n, i;

	while (!dm->stop) {
		n = epoll_wait(dm->ep, evs, 32, -1);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (i = 0; i < n; i++) {
			__u64 k = evs[i].data.u64;

			if (k == 1)
				on_signal(dm);
			else if (k == 2) {
				if (read(dm->tfd, &exp, sizeof(exp)) > 0)
					tick(dm);
			} else if (k == 3)
				xh_bfd_io_recv(&dm->io, dm->io.rx4, on_bfd, dm);
			else if (k == 4)
				xh_bfd_io_recv(&dm->io, dm->io.rx6, on_bfd, dm);
			else if (k == 5)
				xh_ctl_srv_accept(&dm->ctl);
			else if (k == 6 || k == 7)
				xh_flow_mirror_poll(dm->fm, xh_now_ns());
			else if (k >= 1000 && k < 1000 + XH_CTL_CLIENTS)
				xh_ctl_srv_request(&dm->ctl, k - 1000);
		}
	}
	return 0;
}

/* Before exiting: slow our advertised transmit interval through a poll
 * sequence, so that peers keep their sessions (and the data path its
 * stamps) Up while a new controller starts and adopts them. */
static void graceful_stop(struct daemon *dm)
{
	int n, pending;

	n = xh_bfd_io_slow_down(&dm->io, RESTART_GRACE_MS,
				dm->cfg.hb_interval_ms * 1000, &pending);
	if (n)
		pr_info("told %d peers to expect us every %u ms (%d did not "
			"confirm): a restart within that keeps their sessions\n",
			n, RESTART_GRACE_MS, pending);
}

static struct json_object *controller_json(void);
static void controller_print(void);

/* --- the verb ---------------------------------------------------------------- */

static int usage_run(FILE *f)
{
	fprintf(f,
"usage: xdpha run -c FILE [--check]\n"
"  Run the controller in the foreground: attach the interfaces of FILE,\n"
"  keep services and backends as FILE says, speak BFD with every backend,\n"
"  move traffic off failed ones, mirror the flow table with a peer steering\n"
"  node (mirror { }), serve the CLI on the control socket.\n"
"  With interfaces of role member (examples/member.conf) it is the member\n"
"  controller instead: BFD and ownership adverts with the other members,\n"
"  the election per VIP group, the gate, gratuitous ARP / unsolicited NA.\n"
"  Logs go to stderr. SIGHUP reloads FILE (a bad file changes nothing);\n"
"  SIGTERM stops the controller and leaves the data plane running.\n"
"  --check   only parse FILE and report its first error\n");
	return f == stderr ? XH_EXIT_USAGE : XH_EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct daemon *dm;
	bool check = false;
	char err[512];
	int c, rc = XH_EXIT_ERR, i;
	const char *path = NULL;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (c == 'c')
			path = optarg;
		else if (c == 'k')
			check = true;
		else
			return usage_run(c == 'h' ? stdout : stderr);
	}
	if (!path || optind != argc)
		return usage_run(stderr);
	dm = calloc(1, sizeof(*dm));
	if (!dm)
		return XH_EXIT_ERR;
	D = dm;
	dm->cfg_path = path;
	dm->ctl.fd = dm->sfd = dm->tfd = dm->ep = dm->lock_fd = -1;
	dm->io.rx4 = dm->io.rx6 = -1;
	if (xh_config_load(path, &dm->cfg, err, sizeof(err))) {
		pr_warn("%s\n", err);
		free(dm);
		return XH_EXIT_ERR;
	}
	if (check) {
		printf("%s: OK\n", path);
		xh_config_free(&dm->cfg);
		free(dm);
		return XH_EXIT_OK;
	}
	if (xh_log_level < dm->cfg.log_level)
		xh_log_level = dm->cfg.log_level;
	if (dm->cfg.role == XH_ROLE_MEMBER) {
		struct xh_cfg cfg = dm->cfg;

		free(dm);
		return xh_member_run(&cfg, path);
	}
	xh_events_init(&dm->ev);
	dm->ev.prog = dm->cfg.notify_prog;
	dm->ev.args = dm->cfg.notify_args;
	dm->ev.timeout_ms = dm->cfg.notify_timeout_ms;
	dm->started_ns = xh_now_ns();
	xh_controller_json = controller_json;
	xh_controller_print = controller_print;
	if (setup(dm))
		goto out;
	xh_event(&dm->ev, XH_EV_CONTROLLER, "", "", "running", path);
	pr_info("controller running: %s, socket %s, heartbeat %u ms x %u\n",
		path, dm->cfg.socket, dm->cfg.hb_interval_ms, dm->cfg.hb_mult);
	if (!loop(dm))
		rc = XH_EXIT_OK;
	graceful_stop(dm);
	xh_event(&dm->ev, XH_EV_CONTROLLER, "", "", "stopping",
		 "data plane left attached");
	pr_info("stopping; the data plane stays attached and pinned\n");
out:
	xh_flow_mirror_close(dm->fm);
	xh_bfd_io_fini(&dm->io);
	for (i = 0; i < dm->n_devs; i++)
		xh_maps_close(&dm->devs[i].m);
	xh_ctl_srv_close(&dm->ctl, dm->cfg.socket);
	xh_config_free(&dm->cfg);
	free(dm);
	return rc;
}

/* What status adds when it runs inside the controller (see cli.h). */
static struct json_object *controller_json(void)
{
	struct daemon *dm = D;
	struct json_object *o = json_object_new_object(), *ev, *ss;
	int i;

	json_object_object_add(o, "config", json_object_new_string(dm->cfg_path));
	json_object_object_add(o, "uptime_ms", json_object_new_double(
		(xh_now_ns() - dm->started_ns) / 1e6));
	json_object_object_add(o, "table_rebuilds",
			       json_object_new_int64(dm->rebuilds));
	json_object_object_add(o, "bfd_rt", json_object_new_boolean(dm->io.rt));
	ev = json_object_new_object();
	for (i = 0; i < XH_EV_MAX; i++)
		json_object_object_add(ev, xh_ev_name(i),
				       json_object_new_int64(dm->ev.count[i]));
	json_object_object_add(o, "events", ev);
	json_object_object_add(o, "hook_runs", json_object_new_int64(dm->ev.hook_runs));
	json_object_object_add(o, "hook_failures",
			       json_object_new_int64(dm->ev.hook_failures));
	json_object_object_add(o, "hook_timeouts",
			       json_object_new_int64(dm->ev.hook_timeouts));
	ss = json_object_new_array();
	for (i = 0; i < MAX_BKS; i++) {
		struct sess *s = &dm->sess[i];
		struct json_object *so;
		char a[INET6_ADDRSTRLEN];

		if (!s->used)
			continue;
		so = json_object_new_object();
		xh_addr_format(s->peer->addr, s->peer->family, a, sizeof(a));
		json_object_object_add(so, "peer", json_object_new_string(a));
		json_object_object_add(so, "state", json_object_new_string(
			xh_bfd_state_name(s->peer->s.state)));
		json_object_object_add(so, "local_disc",
				       json_object_new_int64(s->peer->s.local_disc));
		json_object_object_add(so, "detect_ms", json_object_new_double(
			xh_bfd_detect_time_ns(&s->peer->s) / 1e6));
		json_object_object_add(so, "tx_interval_ms", json_object_new_double(
			xh_bfd_tx_interval_ns(&s->peer->s) / 1e6));
		json_object_object_add(so, "tx", json_object_new_int64(s->peer->tx_count));
		json_object_object_add(so, "tx_late", json_object_new_int64(s->peer->tx_late));
		json_object_object_add(so, "tx_max_late_ms", json_object_new_double(
			s->peer->tx_max_late_ns / 1e6));
		json_object_object_add(so, "in_kernel",
				       json_object_new_boolean(s->k.in_kernel));
		json_object_array_add(ss, so);
	}
	json_object_object_add(o, "sessions", ss);
	if (dm->fm)
		json_object_object_add(o, "mirror",
				       xh_flow_mirror_json(dm->fm, xh_now_ns()));
	return o;
}

static void controller_print(void)
{
	struct daemon *dm = D;
	int i;

	printf("controller: %s, up %.1f s, %llu table rebuilds, BFD transmit "
	       "%s\n", dm->cfg_path, (xh_now_ns() - dm->started_ns) / 1e9,
	       (unsigned long long)dm->rebuilds,
	       dm->io.rt ? "at real-time priority" : "at normal priority");
	for (i = 0; i < MAX_BKS; i++) {
		struct sess *s = &dm->sess[i];
		char a[INET6_ADDRSTRLEN];

		if (!s->used)
			continue;
		xh_addr_format(s->peer->addr, s->peer->family, a, sizeof(a));
		printf("  bfd %-24s %-10s detect %.1f ms, tx %llu (%llu late, max "
		       "%.2f ms late)%s\n", a,
		       xh_bfd_state_name(s->peer->s.state),
		       xh_bfd_detect_time_ns(&s->peer->s) / 1e6,
		       (unsigned long long)s->peer->tx_count,
		       (unsigned long long)s->peer->tx_late,
		       s->peer->tx_max_late_ns / 1e6,
		       s->k.in_kernel ? ", steady in kernel" : "");
	}
	if (dm->fm) {
		struct json_object *m = xh_flow_mirror_json(dm->fm, xh_now_ns());

		printf("  mirror %s over %s: %s, sent %lld, acked %lld, applied "
		       "%lld, lag %.2f ms\n",
		       json_object_get_string(json_object_object_get(m, "peer")),
		       json_object_get_string(json_object_object_get(m, "transport")),
		       json_object_get_string(json_object_object_get(m, "state")),
		       (long long)json_object_get_int64(json_object_object_get(m, "records_sent")),
		       (long long)json_object_get_int64(json_object_object_get(m, "records_acked")),
		       (long long)json_object_get_int64(json_object_object_get(m, "records_applied")),
		       json_object_get_double(json_object_object_get(m, "lag_ms")));
		json_object_put(m);
	}
}
