// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * member_ctl.c - `xdpha run` for a configuration of role member: the
 * controller of one VNFC in a group that shares VIPs.
 *
 * One epoll thread (BFD transmission has its own real-time thread, as on
 * the steering node): BFD with every peer member, ownership adverts (UDP
 * XM_ADVERT_PORT), the election (election.c) per group, and the member
 * program's maps: the VIPs and decapsulation sources, and per group the
 * gate (xm_groups_v1: state, and for the standby next in line, the owner's
 * session and detection time, so the data path takes over by itself when
 * the owner's stamps stop). A takeover the data path made is confirmed
 * here (or undone if the owner turns out alive), announced with gratuitous
 * ARP / unsolicited NA, advertised to the peers and recorded as an event.
 *
 * SIGTERM leaves the gates as they are and slows our BFD promise, so a
 * restarted controller adopts sessions and ownership without a flap. A
 * controller that starts and finds a gate open keeps it only if a peer's
 * session is still fresh in the data path (a restart); otherwise it closes
 * it and goes through the election (a crash the peers already handled).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include "xm_abi.h"
#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "bfd_io.h"
#include "election.h"
#include "events.h"
#include "announce.h"
#include "neigh.h"
#include "svc.h"
#include "log.h"
#include "member_ctl.h"

#define MC_DEVS		4
#define MC_SESS		(XH_CFG_MAX_GROUPS * XH_CFG_MAX_PEERS)
#define RESTART_GRACE_MS	3000
/* A takeover by the data path whose owner is still Up to us is undone
 * after the detection time plus this. */
#define UNDO_MARGIN_NS		50000000ULL

enum { K_SIG = 1, K_TIMER, K_BFD4, K_BFD6, K_CTL, K_ADV4, K_ADV6,
       K_CLIENT = 1000 };

struct mdev {
	struct xh_dev d;
	const struct xh_cfg_iface *cfg;
	int vips, groups, bfd, decap;	/* pinned maps */
	int ctl;			/* xm_ctl_v1, -1 on an older program */
	int pkt;			/* announcements */
	__u8 mac[6];
};

struct msess {
	bool used;
	int dev;
	struct xh_bfd_peer *peer;
	struct xh_bfd_kernel k;		/* tag: the group stamped */
};

struct mpeer {
	struct xh_cfg_addr a;
	struct msess *sess;
	struct xe_peer e;
	__u64 adverts;
};

struct mgroup {
	const struct xh_cfg_group *cfg;
	__u32 gid;			/* index of xm_groups_v1 */
	int dev;
	struct mpeer peers[XH_CFG_MAX_PEERS];
	unsigned int n_peers;
	bool owns;			/* our gate is open (YES) */
	bool demoted;
	__u64 started_ns;		/* for startup and hold-down */
	bool startup_over;		/* every peer heard, or startup_ms */
	struct xe_decision last;
	__u32 adv_seq;
	__u8 adv_flags;			/* last advertised */
	__u64 next_advert_ns;
	__u32 announce_left;
	__u64 next_announce_ns;
	bool conflict;			/* a lesser peer claims too */
	__u64 owner_since_ns;
	__u64 claims, yields, kernel_takeovers, undone, announces;
	__u64 last_takeover_ns;		/* data path's taken_ns, confirmed */
};

struct mctl {
	struct xh_cfg cfg;
	const char *cfg_path;
	struct mdev devs[MC_DEVS];
	int n_devs;
	struct mgroup groups[XH_CFG_MAX_GROUPS];
	int n_groups;
	struct msess sess[MC_SESS];
	struct xh_bfd_io io;
	struct xh_events ev;
	struct xh_ctl_srv ctl;
	int ep, sfd, tfd, adv4, adv6, lock_fd;
	__u64 tick_ns, started_ns;
	__u64 adv_rx, adv_bad;
	bool stop;
};

static struct mctl *M;

static const char *own_name(__u8 st)
{
	return st == XM_OWN_YES ? "yes" : st == XM_OWN_TAKEN ? "taken" : "no";
}

static struct xh_bfd_cfg bfd_cfg(const struct xh_cfg *cfg)
{
	struct xh_bfd_cfg c = {
		.desired_min_tx_us = cfg->hb_interval_ms * 1000,
		.required_min_rx_us = cfg->hb_interval_ms * 1000,
		.slow_tx_us = cfg->slow_start_ms * 1000,
		.detect_mult = cfg->hb_mult,
	};

	return c;
}

/* --- devices and maps ------------------------------------------------------ */

static int map_open(struct mdev *md, const char *name)
{
	char path[PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", md->d.dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		pr_warn("%s: %s: %s (is the member program attached?)\n",
			md->d.ifname, path, strerror(errno));
	return fd;
}

static int dev_open(struct mctl *mc, const struct xh_cfg_iface *ci)
{
	struct mdev *md = &mc->devs[mc->n_devs];
	struct xh_dev_info info;
	int err;

	err = xh_dev_init(&md->d, ci->name);
	if (err) {
		pr_warn("%s: %s\n", ci->name, err == -ENODEV ?
			"no such device" : strerror(-err));
		return err;
	}
	if (!xh_dev_attached(&md->d)) {
		struct xh_attach_opts o = { .role = XH_ROLE_MEMBER,
					    .mode = ci->mode };

		err = xh_dev_lock(&md->d);
		err = err ?: xh_attach(&md->d, &o);
		xh_dev_unlock(&md->d);
		if (err)
			return err;
		pr_info("%s: member program attached\n", ci->name);
	} else if (!xh_dev_info(&md->d, &info) &&
		   strcmp(info.role, "member")) {
		pr_warn("%s: the %s program is attached, not the member "
			"program (xdpha detach %s first)\n", ci->name,
			info.role, ci->name);
		return -EEXIST;
	} else {
		pr_info("%s: adopting the attached member program\n", ci->name);
	}
	md->vips = map_open(md, "xm_vips_v1");
	md->groups = map_open(md, "xm_groups_v1");
	md->bfd = map_open(md, "xm_bfd_v1");
	md->decap = map_open(md, "xm_decap_v1");
	if (md->vips < 0 || md->groups < 0 || md->bfd < 0 || md->decap < 0)
		return -ENOENT;
	md->ctl = map_open(md, "xm_ctl_v1");	/* older program: none */
	err = xh_dev_mac(md->d.ifindex, md->mac);
	if (err)
		return err;
	md->pkt = xh_announce_open(md->d.ifindex);
	if (md->pkt < 0) {
		pr_warn("%s: packet socket for announcements: %s\n", ci->name,
			strerror(-md->pkt));
		return md->pkt;
	}
	md->cfg = ci;
	mc->n_devs++;
	return 0;
}

static int dev_of(struct mctl *mc, const char *ifname)
{
	int i;

	for (i = 0; i < mc->n_devs; i++)
		if (!strcmp(mc->devs[i].d.ifname, ifname))
			return i;
	return -1;
}

/* The decapsulation sources of a device: exactly the configured ones. */
static void decap_apply(struct mdev *md)
{
	struct xm_decap_key k, next, *prev = NULL, want[XH_CFG_MAX_DECAP];
	__u8 one = 1;
	unsigned int i;

	memset(want, 0, sizeof(want));
	for (i = 0; i < md->cfg->n_decap; i++) {
		memcpy(want[i].addr, md->cfg->decap[i].addr, 16);
		want[i].family = md->cfg->decap[i].family;
		bpf_map_update_elem(md->decap, &want[i], &one, BPF_ANY);
	}
	while (!bpf_map_get_next_key(md->decap, prev, &next)) {
		k = next;
		prev = &k;
		for (i = 0; i < md->cfg->n_decap; i++)
			if (!memcmp(&want[i], &k, sizeof(k)))
				break;
		if (i == md->cfg->n_decap) {
			bpf_map_delete_elem(md->decap, &k);
			prev = NULL;	/* restart: the walk lost its place */
		}
	}
}

/* --- BFD with the peers ------------------------------------------------------ */

static struct msess *sess_get(struct mctl *mc, int dev,
			      const struct xh_cfg_addr *a, __u32 gid)
{
	struct mdev *md = &mc->devs[dev];
	struct xh_bfd_cfg bc = bfd_cfg(&mc->cfg);
	__be32 local[4] = {};
	struct msess *s = NULL;
	char name[INET6_ADDRSTRLEN];
	int i;

	for (i = 0; i < MC_SESS; i++) {
		struct msess *o = &mc->sess[i];

		if (o->used && o->dev == dev && o->peer->family == a->family &&
		    !memcmp(o->peer->addr, a->addr, 16))
			return o;
		if (!o->used && !s)
			s = o;
	}
	if (!s)
		return NULL;
	if (a->family == XH_FAM_V6)
		memcpy(local, md->cfg->addr6, 16);
	else
		local[0] = md->cfg->addr4;
	memset(s, 0, sizeof(*s));
	s->dev = dev;
	s->k.map_fd = md->bfd;
	/* One session per peer: it stamps the first group they share. */
	s->k.tag = gid;
	s->peer = xh_bfd_io_add(&mc->io, a->addr, a->family, local, &bc, s);
	if (!s->peer)
		return NULL;
	s->used = true;
	xh_addr_format(a->addr, a->family, name, sizeof(name));
	if (!xh_bfd_kernel_adopt(&mc->io, &s->k, s->peer))
		pr_info("bfd: adopted the session with %s (disc %u)\n", name,
			s->peer->s.local_disc);
	return s;
}

static bool sess_up(const struct msess *s)
{
	return s && s->peer->s.state == XH_BFD_UP;
}

/* The data path still stamps s: its peer heard us until just now. */
static bool sess_fresh(const struct msess *s, __u64 now)
{
	struct xh_bfd_sess ks;
	__u32 disc = s->peer->s.local_disc;
	__u64 det = xh_bfd_detect_time_ns(&s->peer->s);

	if (!s->k.in_kernel || bpf_map_lookup_elem(s->k.map_fd, &disc, &ks))
		return false;
	return det && now - ks.rx_last_ns < det;
}

/* --- adverts ----------------------------------------------------------------- */

static __u8 adv_flags(const struct mgroup *g)
{
	return (g->owns ? XM_ADV_CLAIM : 0) |
	       (!g->demoted ? XM_ADV_ELIGIBLE : 0) |
	       (g->cfg->arbiter ? XM_ADV_ARBITER : 0);
}

static void advert_to(struct mctl *mc, struct mgroup *g, struct mpeer *p)
{
	struct xm_advert a = {
		.magic = htonl(XM_ADVERT_MAGIC),
		.version = XM_ADVERT_VERSION,
		.group = g->cfg->id,
		.priority = g->cfg->priority,
		.flags = adv_flags(g),
		.seq = htonl(++g->adv_seq),
	};
	struct sockaddr_storage ss = {};
	socklen_t len;
	int fd;

	if (p->a.family == XH_FAM_V6) {
		struct sockaddr_in6 *s6 = (void *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(XM_ADVERT_PORT);
		memcpy(&s6->sin6_addr, p->a.addr, 16);
		len = sizeof(*s6);
		fd = mc->adv6;
	} else {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(XM_ADVERT_PORT);
		s4->sin_addr.s_addr = p->a.addr[0];
		len = sizeof(*s4);
		fd = mc->adv4;
	}
	if (fd >= 0)
		sendto(fd, &a, sizeof(a), 0, (struct sockaddr *)&ss, len);
}

static void advert_all(struct mctl *mc, struct mgroup *g, __u64 now)
{
	unsigned int i;

	for (i = 0; i < g->n_peers; i++)
		advert_to(mc, g, &g->peers[i]);
	g->adv_flags = adv_flags(g);
	g->next_advert_ns = now + (__u64)g->cfg->advert_ms * 1000000ULL;
}

static int adv_socket(int af)
{
	struct sockaddr_storage ss = {};
	int fd, one = 1;
	socklen_t len;

	fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (af == AF_INET6) {
		struct sockaddr_in6 *s6 = (void *)&ss;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(XM_ADVERT_PORT);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(XM_ADVERT_PORT);
		len = sizeof(*s4);
	}
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void evaluate(struct mctl *mc, struct mgroup *g, __u64 now);

static void advert_recv(struct mctl *mc, int fd)
{
	struct sockaddr_storage ss;
	struct xm_advert a;
	socklen_t len;
	ssize_t n;

	for (;;) {
		__be32 from[4] = {};
		__u8 fam;
		int i;
		unsigned int k;

		len = sizeof(ss);
		n = recvfrom(fd, &a, sizeof(a), 0, (struct sockaddr *)&ss, &len);
		if (n < 0)
			return;
		if (ss.ss_family == AF_INET6) {
			memcpy(from, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
			fam = XH_FAM_V6;
		} else {
			from[0] = ((struct sockaddr_in *)&ss)->sin_addr.s_addr;
			fam = XH_FAM_V4;
		}
		if (n != sizeof(a) || ntohl(a.magic) != XM_ADVERT_MAGIC ||
		    a.version != XM_ADVERT_VERSION) {
			mc->adv_bad++;
			continue;
		}
		for (i = 0; i < mc->n_groups; i++) {
			struct mgroup *g = &mc->groups[i];

			if (g->cfg->id != a.group)
				continue;
			for (k = 0; k < g->n_peers; k++) {
				struct mpeer *p = &g->peers[k];

				if (p->a.family != fam ||
				    memcmp(p->a.addr, from, 16))
					continue;
				mc->adv_rx++;
				p->adverts++;
				/* Only a live session's peer counts. */
				if (!sess_up(p->sess))
					break;
				p->e.heard = true;
				p->e.priority = a.priority;
				p->e.claims = a.flags & XM_ADV_CLAIM;
				p->e.eligible = a.flags & XM_ADV_ELIGIBLE;
				evaluate(mc, g, xh_now_ns());
				break;
			}
			if (k == g->n_peers)
				mc->adv_bad++;	/* not a configured peer */
		}
	}
}

/* --- ownership ------------------------------------------------------------- */

static void announce_now(struct mctl *mc, struct mgroup *g, __u64 now)
{
	struct mdev *md = &mc->devs[g->dev];
	unsigned int i;

	for (i = 0; i < g->cfg->n_vips; i++)
		xh_announce(md->pkt, md->d.ifindex, md->mac,
			    g->cfg->vips[i].addr, g->cfg->vips[i].family);
	g->announces++;
	if (g->announce_left)
		g->announce_left--;
	g->next_announce_ns = now + (__u64)g->cfg->announce_ms * 1000000ULL;
}

static void announce_start(struct mctl *mc, struct mgroup *g, __u64 now)
{
	g->announce_left = g->cfg->announce_count;
	if (g->announce_left)
		announce_now(mc, g, now);
}

/* Write the group's entry as we want it, if it differs. The data path
 * alone moves NO -> TAKEN; we never write over a TAKEN we have not judged
 * (pending). */
static void gate_write(struct mctl *mc, struct mgroup *g, __u64 now,
		       bool pending)
{
	struct mdev *md = &mc->devs[g->dev];
	struct xm_group cur = {}, want;
	const struct mpeer *o = g->last.owner >= 0 ?
				&g->peers[g->last.owner] : NULL;
	bool have = !bpf_map_lookup_elem(md->groups, &g->gid, &cur);

	want = cur;
	want.state = g->owns ? XM_OWN_YES : pending ? cur.state : XM_OWN_NO;
	want.next_in_line = !g->owns && g->last.next_in_line;
	if (o && sess_up(o->sess) && o->sess->k.in_kernel) {
		want.owner_disc = o->sess->peer->s.local_disc;
		/* 0 until the session is Up: a stale stamp of a peer we
		 * never heard must not look like a dead owner. */
		want.owner_detect_ns = xh_bfd_detect_time_ns(&o->sess->peer->s);
	} else {
		want.owner_disc = 0;
		want.owner_detect_ns = 0;
	}
	if (want.owner_disc != cur.owner_disc)
		want.owner_seen_ns = now;
	if (have && want.state == cur.state &&
	    want.next_in_line == cur.next_in_line &&
	    want.owner_disc == cur.owner_disc &&
	    want.owner_detect_ns == cur.owner_detect_ns)
		return;
	if (bpf_map_update_elem(md->groups, &g->gid, &want, BPF_ANY))
		pr_warn("group %s: writing the gate: %s\n", g->cfg->name,
			strerror(errno));
}

static void owner_name(const struct mgroup *g, char *buf, size_t sz)
{
	if (g->last.owner >= 0)
		xh_addr_format(g->peers[g->last.owner].a.addr,
			       g->peers[g->last.owner].a.family, buf, sz);
	else
		snprintf(buf, sz, "%s", g->owns ? "self" : "");
}

/* Our address in the group: the family of its peers. */
static void self_addr(const struct mctl *mc, const struct mgroup *g,
		      __be32 addr[4], __u8 *family)
{
	const struct xh_cfg_iface *ic = mc->devs[g->dev].cfg;

	memset(addr, 0, 16);
	*family = g->peers[0].a.family;
	if (*family == XH_FAM_V6)
		memcpy(addr, ic->addr6, 16);
	else
		addr[0] = ic->addr4;
}

static void self_name(const struct mctl *mc, const struct mgroup *g,
		      char *buf, size_t sz)
{
	__be32 a[4];
	__u8 fam;

	self_addr(mc, g, a, &fam);
	xh_addr_format(a, fam, buf, sz);
}

/* The group's VIPs on its interface, added back if gone: the kernel drops
 * a device's IPv6 addresses when its link goes down (keep_addr_on_down is
 * 0 by default), and an owner whose link came back would pass its VIP6
 * traffic to a stack that no longer accepts it. */
static void vips_ensure(struct mctl *mc, struct mgroup *g)
{
	struct mdev *md = &mc->devs[g->dev];
	char a[INET6_ADDRSTRLEN];
	unsigned int i;

	for (i = 0; i < g->cfg->n_vips; i++) {
		if (xh_addr_ensure(md->d.ifindex, g->cfg->vips[i].addr,
				   g->cfg->vips[i].family) != 1)
			continue;
		xh_addr_format(g->cfg->vips[i].addr, g->cfg->vips[i].family,
			       a, sizeof(a));
		pr_info("group %s: %s was gone from %s (link down?): added "
			"again\n", g->cfg->name, a, md->d.ifname);
	}
}

static void take(struct mctl *mc, struct mgroup *g, __u64 now,
		 const char *why)
{
	char self[INET6_ADDRSTRLEN];

	g->owns = true;
	g->claims++;
	g->owner_since_ns = now;
	gate_write(mc, g, now, false);
	announce_start(mc, g, now);
	advert_all(mc, g, now);
	vips_ensure(mc, g);	/* after the announcement: not on its path */
	self_name(mc, g, self, sizeof(self));
	xh_event(&mc->ev, XH_EV_OWNER, g->cfg->name, self, "active", why);
}

static void give_up(struct mctl *mc, struct mgroup *g, __u64 now,
		    const char *why)
{
	char self[INET6_ADDRSTRLEN];

	g->owns = false;
	g->yields++;
	g->announce_left = 0;
	gate_write(mc, g, now, false);
	advert_all(mc, g, now);
	self_name(mc, g, self, sizeof(self));
	xh_event(&mc->ev, XH_EV_OWNER, g->cfg->name, self, "standby", why);
}

static bool all_heard(const struct mgroup *g)
{
	unsigned int i;

	for (i = 0; i < g->n_peers; i++)
		if (!g->peers[i].e.heard)
			return false;
	return true;
}

static void evaluate(struct mctl *mc, struct mgroup *g, __u64 now)
{
	struct mdev *md = &mc->devs[g->dev];
	struct xe_peer view[XH_CFG_MAX_PEERS];
	struct xm_group k = {};
	struct xe_input in = {
		.priority = g->cfg->priority,
		.owns = g->owns,
		.eligible = !g->demoted,
		.arbiter = g->cfg->arbiter,
		.preempt = g->cfg->preempt,
		.peers = view,
		.n_peers = g->n_peers,
	};
	bool taken, pending = false, lesser_claims = false;
	char why[128], self[INET6_ADDRSTRLEN];
	unsigned int i;
	__u8 fam;

	self_addr(mc, g, in.addr, &fam);
	/* Once over, for good: a peer heard and then lost is dead, not
	 * unknown, and its group is ours to take at once. */
	if (!g->startup_over)
		g->startup_over = now - g->started_ns >=
				  (__u64)g->cfg->startup_ms * 1000000ULL ||
				  all_heard(g);
	in.startup_done = g->startup_over;
	in.held_down = now - g->started_ns <
		       (__u64)g->cfg->hold_down_ms * 1000000ULL;
	for (i = 0; i < g->n_peers; i++) {
		view[i] = g->peers[i].e;
		view[i].up = sess_up(g->peers[i].sess);
		if (!view[i].up)
			view[i].heard = view[i].claims = false;
		if (g->owns && view[i].up && view[i].heard && view[i].claims)
			lesser_claims = true;	/* if we keep it, see below */
	}
	xe_decide(&in, &g->last);

	bpf_map_lookup_elem(md->groups, &g->gid, &k);
	taken = !g->owns && k.state == XM_OWN_TAKEN;
	if (taken) {
		__u64 det = 0;
		const struct mpeer *o = g->last.owner >= 0 ?
					&g->peers[g->last.owner] : NULL;

		if (g->last.action == XE_CLAIM) {
			snprintf(why, sizeof(why), "data path took over (owner "
				 "silent), confirmed %.1f ms later",
				 (now - k.taken_ns) / 1e6);
			g->kernel_takeovers++;
			g->last_takeover_ns = k.taken_ns;
			take(mc, g, now, why);
			return;
		}
		if (o)
			det = xh_bfd_detect_time_ns(&o->sess->peer->s);
		if (o && now - k.taken_ns > det + UNDO_MARGIN_NS) {
			g->undone++;
			pr_warn("group %s: the data path took over but the "
				"owner is alive: undone\n", g->cfg->name);
			self_name(mc, g, self, sizeof(self));
			xh_event(&mc->ev, XH_EV_OWNER, g->cfg->name, self,
				 "standby", "data path takeover undone: the "
				 "owner is alive");
		} else {
			pending = true;	/* wait for BFD to agree */
		}
	} else if (g->last.action == XE_CLAIM) {
		take(mc, g, now, g->last.why);
		return;
	} else if (g->last.action == XE_YIELD) {
		give_up(mc, g, now, g->last.why);
		return;
	}
	/* We keep the group while a lesser peer claims it too (a healed
	 * partition): it yields, and our announcements bring the clients
	 * that followed it back. Once per episode. */
	if (g->owns && lesser_claims && !g->conflict) {
		g->conflict = true;
		self_name(mc, g, self, sizeof(self));
		xh_event(&mc->ev, XH_EV_OWNER, g->cfg->name, self, "active",
			 "another member claimed the group too: it yields "
			 "(lower priority)");
		announce_start(mc, g, now);
		advert_all(mc, g, now);
	} else if (!lesser_claims) {
		g->conflict = false;
	}
	gate_write(mc, g, now, pending);
	if (now >= g->next_advert_ns)
		vips_ensure(mc, g);
	if (adv_flags(g) != g->adv_flags || now >= g->next_advert_ns)
		advert_all(mc, g, now);
	if (g->announce_left && now >= g->next_announce_ns)
		announce_now(mc, g, now);
}

/* A session changed: keep the data path's entry, the peers' view, and
 * decide again for every group the peer is in. */
static void sess_changed(struct mctl *mc, struct msess *s,
			 const struct xh_bfd_event *ev)
{
	__u64 now = xh_now_ns();
	bool up = s->peer->s.state == XH_BFD_UP;
	char addr[INET6_ADDRSTRLEN];
	int i;
	unsigned int k;

	xh_bfd_kernel_sync(&s->k, s->peer);
	if (!ev->state_changed)
		return;
	xh_addr_format(s->peer->addr, s->peer->family, addr, sizeof(addr));
	if (up || ev->old_state == XH_BFD_UP)
		xh_event(&mc->ev, XH_EV_SESSION, "", addr,
			 xh_bfd_state_name(s->peer->s.state),
			 up ? "session up" :
			 xh_bfd_diag_name(s->peer->s.local_diag));
	for (i = 0; i < mc->n_groups; i++) {
		struct mgroup *g = &mc->groups[i];

		for (k = 0; k < g->n_peers; k++) {
			if (g->peers[k].sess != s)
				continue;
			g->peers[k].e.heard = false;
			g->peers[k].e.claims = false;
			if (up)
				advert_to(mc, g, &g->peers[k]);
			evaluate(mc, g, now);
		}
	}
}

static void on_bfd(struct xh_bfd_io *io, struct xh_bfd_peer *p,
		   const struct xh_bfd_event *ev, void *arg)
{
	(void)io;
	if (p->user)
		sess_changed(arg, p->user, ev);
}

/* --- configuration -> state ------------------------------------------------ */

static int apply(struct mctl *mc)
{
	__u64 now = xh_now_ns();
	unsigned int i, k;
	int d, err;

	for (i = 0; i < mc->cfg.n_ifaces && i < MC_DEVS; i++) {
		err = dev_open(mc, &mc->cfg.ifaces[i]);
		if (err)
			return err;
		decap_apply(&mc->devs[i]);
	}
	for (i = 0; i < mc->cfg.n_groups; i++) {
		const struct xh_cfg_group *gc = &mc->cfg.groups[i];
		struct mgroup *g = &mc->groups[mc->n_groups];
		struct xm_group cur = {};
		bool fresh = false;
		struct mdev *md;

		d = dev_of(mc, gc->iface);
		if (d < 0)
			return -ENODEV;
		md = &mc->devs[d];
		memset(g, 0, sizeof(*g));
		g->cfg = gc;
		g->gid = i;
		g->dev = d;
		g->started_ns = now;
		g->last.owner = -1;
		for (k = 0; k < gc->n_vips; k++) {
			struct xm_vip_key vk = { .family = gc->vips[k].family };
			struct xm_vip v = { .group = g->gid };

			memcpy(vk.addr, gc->vips[k].addr, 16);
			if (bpf_map_update_elem(md->vips, &vk, &v, BPF_ANY))
				return -errno;
			err = xh_addr_ensure(md->d.ifindex, gc->vips[k].addr,
					     gc->vips[k].family);
			if (err < 0)
				pr_warn("group %s: cannot add a VIP to %s: %s\n",
					gc->name, md->d.ifname, strerror(-err));
		}
		for (k = 0; k < gc->n_peers; k++) {
			struct mpeer *p = &g->peers[k];

			p->a = gc->peers[k];
			memcpy(p->e.addr, p->a.addr, 16);
			p->sess = sess_get(mc, d, &p->a, g->gid);
			if (!p->sess)
				return -ENOSPC;
			fresh = fresh || sess_fresh(p->sess, now);
		}
		g->n_peers = gc->n_peers;
		mc->n_groups++;
		/* A gate left open: ours still if the peers heard us until
		 * now (a restart); else they have moved on (a crash). */
		if (!bpf_map_lookup_elem(md->groups, &g->gid, &cur) &&
		    (cur.state == XM_OWN_YES || cur.state == XM_OWN_TAKEN)) {
			if (fresh) {
				g->owns = true;
				g->owner_since_ns = now;
				pr_info("group %s: adopting ownership (a peer "
					"still hears us)\n", gc->name);
			} else {
				pr_info("group %s: closing a gate left open by "
					"a controller the peers gave up on\n",
					gc->name);
			}
		}
		gate_write(mc, g, now, false);
	}
	return 0;
}

/* --- control socket: promote, demote, status ----------------------------- */

static struct mgroup *group_by_name(struct mctl *mc, const char *name)
{
	int i;

	for (i = 0; i < mc->n_groups; i++)
		if (!strcmp(mc->groups[i].cfg->name, name))
			return &mc->groups[i];
	return NULL;
}

static int inproc(void *arg, int argc, char **argv, int out, int err)
{
	struct mctl *mc = arg;
	struct mgroup *g;
	bool promote;
	__u64 now = xh_now_ns();

	if (argc < 2 || strcmp(argv[0], "member") ||
	    (strcmp(argv[1], "promote") && strcmp(argv[1], "demote")))
		return -1;
	promote = !strcmp(argv[1], "promote");
	if (argc != 3) {
		dprintf(err, "usage: xdpha member promote|demote GROUP\n");
		return XH_EXIT_USAGE;
	}
	g = group_by_name(mc, argv[2]);
	if (!g) {
		dprintf(err, "xdpha: no group '%s' in %s\n", argv[2],
			mc->cfg_path);
		return XH_EXIT_ERR;
	}
	if (g->cfg->arbiter) {
		/* The arbiter decides: do exactly as told. */
		g->demoted = !promote;
		if (promote && !g->owns)
			take(mc, g, now, "promoted by the arbiter");
		else if (!promote && g->owns)
			give_up(mc, g, now, "demoted by the arbiter");
		else
			advert_all(mc, g, now);
	} else {
		/* Demote takes this member out of the election until a
		 * promote; promote only makes it eligible again: the
		 * election (priority, preemption) decides the rest. */
		g->demoted = !promote;
		evaluate(mc, g, now);
	}
	dprintf(out, "group %s: %s, %s\n", g->cfg->name,
		g->demoted ? "demoted" : "eligible",
		g->owns ? "active" : "standby");
	return XH_EXIT_OK;
}

static struct json_object *jstr(const char *s)
{
	return json_object_new_string(s);
}

static struct json_object *group_json(struct mctl *mc, struct mgroup *g)
{
	struct mdev *md = &mc->devs[g->dev];
	struct json_object *o = json_object_new_object(), *ps, *vs;
	struct xm_group k = {};
	char a[INET6_ADDRSTRLEN];
	unsigned int i;

	bpf_map_lookup_elem(md->groups, &g->gid, &k);
	json_object_object_add(o, "name", jstr(g->cfg->name));
	json_object_object_add(o, "id", json_object_new_int(g->cfg->id));
	json_object_object_add(o, "interface", jstr(md->d.ifname));
	json_object_object_add(o, "state", jstr(g->owns ? "active" : "standby"));
	json_object_object_add(o, "gate", jstr(own_name(k.state)));
	owner_name(g, a, sizeof(a));
	json_object_object_add(o, "owner", a[0] ? jstr(a) : NULL);
	json_object_object_add(o, "priority",
			       json_object_new_int(g->cfg->priority));
	json_object_object_add(o, "preempt",
			       json_object_new_boolean(g->cfg->preempt));
	json_object_object_add(o, "arbiter",
			       json_object_new_boolean(g->cfg->arbiter));
	json_object_object_add(o, "demoted", json_object_new_boolean(g->demoted));
	json_object_object_add(o, "next_in_line",
			       json_object_new_boolean(k.next_in_line));
	json_object_object_add(o, "decision", jstr(g->last.why));
	json_object_object_add(o, "claims", json_object_new_int64(g->claims));
	json_object_object_add(o, "yields", json_object_new_int64(g->yields));
	json_object_object_add(o, "kernel_takeovers",
			       json_object_new_int64(g->kernel_takeovers));
	json_object_object_add(o, "takeovers_undone",
			       json_object_new_int64(g->undone));
	json_object_object_add(o, "announcements",
			       json_object_new_int64(g->announces));
	vs = json_object_new_array();
	for (i = 0; i < g->cfg->n_vips; i++) {
		xh_addr_format(g->cfg->vips[i].addr, g->cfg->vips[i].family, a,
			       sizeof(a));
		json_object_array_add(vs, jstr(a));
	}
	json_object_object_add(o, "vips", vs);
	ps = json_object_new_array();
	for (i = 0; i < g->n_peers; i++) {
		struct mpeer *p = &g->peers[i];
		struct json_object *po = json_object_new_object();
		bool up = sess_up(p->sess);

		xh_addr_format(p->a.addr, p->a.family, a, sizeof(a));
		json_object_object_add(po, "address", jstr(a));
		json_object_object_add(po, "session", jstr(
			xh_bfd_state_name(p->sess->peer->s.state)));
		json_object_object_add(po, "heard",
				       json_object_new_boolean(up && p->e.heard));
		json_object_object_add(po, "priority",
				       json_object_new_int(p->e.priority));
		json_object_object_add(po, "claims", json_object_new_boolean(
			up && p->e.heard && p->e.claims));
		json_object_object_add(po, "eligible",
				       json_object_new_boolean(p->e.eligible));
		json_object_object_add(po, "adverts",
				       json_object_new_int64(p->adverts));
		json_object_array_add(ps, po);
	}
	json_object_object_add(o, "peers", ps);
	return o;
}

static struct json_object *controller_json(void)
{
	struct mctl *mc = M;
	struct json_object *o = json_object_new_object(), *gs, *ev;
	int i;

	json_object_object_add(o, "config", jstr(mc->cfg_path));
	json_object_object_add(o, "role", jstr("member"));
	json_object_object_add(o, "uptime_ms", json_object_new_double(
		(xh_now_ns() - mc->started_ns) / 1e6));
	json_object_object_add(o, "bfd_rt", json_object_new_boolean(mc->io.rt));
	json_object_object_add(o, "adverts_rx", json_object_new_int64(mc->adv_rx));
	json_object_object_add(o, "adverts_bad",
			       json_object_new_int64(mc->adv_bad));
	ev = json_object_new_object();
	for (i = 0; i < XH_EV_MAX; i++)
		json_object_object_add(ev, xh_ev_name(i),
				       json_object_new_int64(mc->ev.count[i]));
	json_object_object_add(o, "events", ev);
	gs = json_object_new_array();
	for (i = 0; i < mc->n_groups; i++)
		json_object_array_add(gs, group_json(mc, &mc->groups[i]));
	json_object_object_add(o, "groups", gs);
	return o;
}

static void controller_print(void)
{
	struct mctl *mc = M;
	int i;
	unsigned int k;

	printf("member controller: %s, up %.1f s, BFD transmit %s\n",
	       mc->cfg_path, (xh_now_ns() - mc->started_ns) / 1e9,
	       mc->io.rt ? "at real-time priority" : "at normal priority");
	for (i = 0; i < mc->n_groups; i++) {
		struct mgroup *g = &mc->groups[i];
		char a[INET6_ADDRSTRLEN];

		owner_name(g, a, sizeof(a));
		printf("  group %s (id %u, priority %u%s%s): %s%s, owner %s "
		       "(%s)\n", g->cfg->name, g->cfg->id, g->cfg->priority,
		       g->cfg->preempt ? ", preempt" : "",
		       g->cfg->arbiter ? ", arbiter" : "",
		       g->owns ? "active" : "standby",
		       g->demoted ? ", demoted" : "", a[0] ? a : "none",
		       g->last.why);
		for (k = 0; k < g->n_peers; k++) {
			struct mpeer *p = &g->peers[k];

			xh_addr_format(p->a.addr, p->a.family, a, sizeof(a));
			printf("    peer %-24s bfd %-9s priority %u%s\n", a,
			       xh_bfd_state_name(p->sess->peer->s.state),
			       p->e.priority,
			       sess_up(p->sess) && p->e.heard && p->e.claims ?
			       ", claims" : "");
		}
	}
}

/* --- loop -------------------------------------------------------------------- */

/* Our heartbeat into the data path (struct xm_ctl). While we run, a
 * silence of a second (or four detection times, if longer) means we died:
 * the peers, which stopped hearing our BFD as fast, have taken the VIPs,
 * and the node stops answering ARP/ND for those it still holds. A stopping
 * controller gives its successor what it promised the peers: the BFD
 * grace (RESTART_GRACE_MS) times the multiplier, plus a second. */
static void ctl_stamp(struct mctl *mc, __u64 now, bool stopping)
{
	__u64 det = (__u64)mc->cfg.hb_interval_ms * mc->cfg.hb_mult * 4;
	struct xm_ctl c = {
		.seen_ns = now,
		.max_age_ns = (stopping ?
			       (__u64)RESTART_GRACE_MS * mc->cfg.hb_mult + 1000 :
			       det > 1000 ? det : 1000) * 1000000ULL,
	};
	__u32 zero = 0;
	int i;

	for (i = 0; i < mc->n_devs; i++)
		if (mc->devs[i].ctl >= 0)
			bpf_map_update_elem(mc->devs[i].ctl, &zero, &c, BPF_ANY);
}

static void tick(struct mctl *mc)
{
	struct xh_bfd_event ev;
	__u64 now;
	int i;

	xh_bfd_io_recv(&mc->io, mc->io.rx4, on_bfd, mc);
	if (mc->io.rx6 >= 0)
		xh_bfd_io_recv(&mc->io, mc->io.rx6, on_bfd, mc);
	now = xh_now_ns();
	for (i = 0; i < MC_SESS; i++) {
		struct msess *s = &mc->sess[i];

		if (!s->used)
			continue;
		xh_bfd_kernel_touch(&s->k, s->peer);
		if (xh_bfd_check_timeout(&s->peer->s, now, &ev) > 0) {
			xh_bfd_io_publish(&mc->io, s->peer);
			sess_changed(mc, s, &ev);
		}
	}
	now = xh_now_ns();
	ctl_stamp(mc, now, false);
	for (i = 0; i < mc->n_groups; i++)
		evaluate(mc, &mc->groups[i], now);
	xh_events_pump(&mc->ev, now);
}

static void reap(struct mctl *mc)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (!xh_events_reaped(&mc->ev, pid, status))
			xh_ctl_srv_reaped(&mc->ctl, pid, status);
	xh_events_pump(&mc->ev, xh_now_ns());
}

/* What a reload may not change without a restart: the devices, the
 * groups' identity, VIPs and peers, the BFD timing, the socket. NULL if
 * nothing of that changed, else what did. */
static const char *reload_blocker(const struct xh_cfg *a,
				  const struct xh_cfg *b, char *buf, size_t sz)
{
	unsigned int i;

	if (a->n_ifaces != b->n_ifaces)
		return "the interfaces";
	for (i = 0; i < a->n_ifaces; i++) {
		const struct xh_cfg_iface *x = &a->ifaces[i], *y = &b->ifaces[i];

		if (strcmp(x->name, y->name) || x->mode != y->mode ||
		    x->addr4 != y->addr4 || x->have_addr6 != y->have_addr6 ||
		    memcmp(x->addr6, y->addr6, 16))
			return "the interfaces";
	}
	if (a->hb_interval_ms != b->hb_interval_ms ||
	    a->hb_mult != b->hb_mult || a->slow_start_ms != b->slow_start_ms)
		return "the heartbeat timing";
	if (strcmp(a->socket, b->socket))
		return "the control socket";
	if (a->n_groups != b->n_groups)
		return "the number of groups";
	for (i = 0; i < a->n_groups; i++) {
		const struct xh_cfg_group *x = &a->groups[i], *y = &b->groups[i];

		snprintf(buf, sz, "group %s (its name, id, interface, VIPs or "
			 "peers)", x->name);
		if (strcmp(x->name, y->name) || x->id != y->id ||
		    strcmp(x->iface, y->iface) || x->n_vips != y->n_vips ||
		    memcmp(x->vips, y->vips, sizeof(x->vips)) ||
		    x->n_peers != y->n_peers ||
		    memcmp(x->peers, y->peers, sizeof(x->peers)))
			return buf;
	}
	return NULL;
}

/* SIGHUP: priorities, preemption, hold-down, startup, adverts,
 * announcements, arbiter, decapsulation sources, the notify hook and the
 * log level change in place; anything structural needs a restart (which
 * keeps ownership). A bad file changes nothing. */
static void reload(struct mctl *mc)
{
	struct xh_cfg next = {};
	char err[512], buf[160];
	const char *why;
	__u64 now = xh_now_ns();
	int i;

	pr_info("SIGHUP: reloading %s\n", mc->cfg_path);
	if (xh_config_load(mc->cfg_path, &next, err, sizeof(err))) {
		pr_warn("%s (running configuration kept)\n", err);
		xh_event(&mc->ev, XH_EV_CONFIG, "", "", "refused", err);
		return;
	}
	why = next.role != XH_ROLE_MEMBER ? "the role" :
	      reload_blocker(&mc->cfg, &next, buf, sizeof(buf));
	if (why) {
		snprintf(err, sizeof(err), "%s: the reload changes %s: restart "
			 "the member controller to apply it (ownership is kept "
			 "across a restart)", mc->cfg_path, why);
		pr_warn("%s\n", err);
		xh_event(&mc->ev, XH_EV_CONFIG, "", "", "refused", err);
		xh_config_free(&next);
		return;
	}
	xh_config_free(&mc->cfg);
	mc->cfg = next;
	for (i = 0; i < mc->n_devs; i++) {
		mc->devs[i].cfg = &mc->cfg.ifaces[i];
		decap_apply(&mc->devs[i]);
	}
	for (i = 0; i < mc->n_groups; i++)
		mc->groups[i].cfg = &mc->cfg.groups[i];
	mc->ev.prog = mc->cfg.notify_prog;
	mc->ev.args = mc->cfg.notify_args;
	mc->ev.timeout_ms = mc->cfg.notify_timeout_ms;
	if (xh_log_level < mc->cfg.log_level)
		xh_log_level = mc->cfg.log_level;
	xh_event(&mc->ev, XH_EV_CONFIG, "", "", "loaded", mc->cfg_path);
	/* new priorities and policies: tell the peers, decide again */
	for (i = 0; i < mc->n_groups; i++) {
		advert_all(mc, &mc->groups[i], now);
		evaluate(mc, &mc->groups[i], now);
	}
}

static void on_signal(struct mctl *mc)
{
	struct signalfd_siginfo si;

	while (read(mc->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			mc->stop = true;
		else if (si.ssi_signo == SIGCHLD)
			reap(mc);
		else if (si.ssi_signo == SIGHUP)
			reload(mc);
	}
}

static void ep_add(struct mctl *mc, int fd, __u64 key)
{
	struct epoll_event ee = { .events = EPOLLIN, .data.u64 = key };

	if (fd >= 0)
		epoll_ctl(mc->ep, EPOLL_CTL_ADD, fd, &ee);
}

static int setup(struct mctl *mc)
{
	sigset_t ss;
	int err;

	err = xh_ctl_begin(mc->cfg.socket, &ss, &mc->lock_fd);
	err = err ?: xh_bpffs_ensure();
	err = err ?: xh_ctl_loop_fds(&ss, mc->cfg.hb_interval_ms, &mc->sfd,
				     &mc->tfd, &mc->tick_ns);
	err = err ?: xh_bfd_io_init(&mc->io, 50);
	if (err)
		return err;
	mc->adv4 = adv_socket(AF_INET);
	mc->adv6 = adv_socket(AF_INET6);
	if (mc->adv4 < 0) {
		pr_warn("advert socket, UDP %d: %s\n", XM_ADVERT_PORT,
			strerror(-mc->adv4));
		return mc->adv4;
	}
	err = apply(mc);
	if (err)
		return err;
	mc->ep = epoll_create1(EPOLL_CLOEXEC);
	mc->ctl.ev = &mc->ev;
	mc->ctl.inproc = inproc;
	mc->ctl.arg = mc;
	err = xh_ctl_srv_open(&mc->ctl, mc->cfg.socket, mc->ep, K_CTL, K_CLIENT);
	if (err) {
		pr_warn("control socket %s: %s\n", mc->cfg.socket, strerror(-err));
		return err;
	}
	ep_add(mc, mc->sfd, K_SIG);
	ep_add(mc, mc->tfd, K_TIMER);
	ep_add(mc, mc->io.rx4, K_BFD4);
	ep_add(mc, mc->io.rx6, K_BFD6);
	ep_add(mc, mc->adv4, K_ADV4);
	ep_add(mc, mc->adv6, K_ADV6);
	return 0;
}

static int loop(struct mctl *mc)
{
	struct epoll_event evs[32];
	__u64 exp;
	int n, i;

	while (!mc->stop) {
		n = epoll_wait(mc->ep, evs, 32, -1);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (i = 0; i < n; i++) {
			__u64 k = evs[i].data.u64;

			if (k == K_SIG)
				on_signal(mc);
			else if (k == K_TIMER) {
				if (read(mc->tfd, &exp, sizeof(exp)) > 0)
					tick(mc);
			} else if (k == K_BFD4)
				xh_bfd_io_recv(&mc->io, mc->io.rx4, on_bfd, mc);
			else if (k == K_BFD6)
				xh_bfd_io_recv(&mc->io, mc->io.rx6, on_bfd, mc);
			else if (k == K_ADV4)
				advert_recv(mc, mc->adv4);
			else if (k == K_ADV6)
				advert_recv(mc, mc->adv6);
			else if (k == K_CTL)
				xh_ctl_srv_accept(&mc->ctl);
			else if (k >= K_CLIENT && k < K_CLIENT + XH_CTL_CLIENTS)
				xh_ctl_srv_request(&mc->ctl, k - K_CLIENT);
		}
	}
	return 0;
}

int xh_member_run(struct xh_cfg *cfg, const char *path)
{
	struct mctl *mc = calloc(1, sizeof(*mc));
	int rc = XH_EXIT_ERR, i, n, pending;

	if (!mc) {
		xh_config_free(cfg);
		return XH_EXIT_ERR;
	}
	M = mc;
	mc->cfg = *cfg;
	mc->cfg_path = path;
	mc->ctl.fd = mc->sfd = mc->tfd = mc->ep = mc->lock_fd = -1;
	mc->adv4 = mc->adv6 = -1;
	mc->io.rx4 = mc->io.rx6 = -1;
	for (i = 0; i < MC_DEVS; i++)
		mc->devs[i].pkt = mc->devs[i].ctl = -1;
	xh_events_init(&mc->ev);
	mc->ev.prog = mc->cfg.notify_prog;
	mc->ev.args = mc->cfg.notify_args;
	mc->ev.timeout_ms = mc->cfg.notify_timeout_ms;
	mc->started_ns = xh_now_ns();
	xh_controller_json = controller_json;
	xh_controller_print = controller_print;
	if (setup(mc))
		goto out;
	xh_event(&mc->ev, XH_EV_CONTROLLER, "", "", "running", path);
	pr_info("member controller running: %s, socket %s, heartbeat %u ms "
		"x %u, %d groups\n", path, mc->cfg.socket,
		mc->cfg.hb_interval_ms, mc->cfg.hb_mult, mc->n_groups);
	if (!loop(mc))
		rc = XH_EXIT_OK;
	n = xh_bfd_io_slow_down(&mc->io, RESTART_GRACE_MS,
				mc->cfg.hb_interval_ms * 1000, &pending);
	if (n)
		pr_info("told %d peers to expect us every %u ms (%d did not "
			"confirm): a restart within that keeps ownership\n", n,
			RESTART_GRACE_MS, pending);
	/* the planned restart's grace counts from here */
	ctl_stamp(mc, xh_now_ns(), true);
	xh_event(&mc->ev, XH_EV_CONTROLLER, "", "", "stopping",
		 "gates left as they are");
out:
	xh_bfd_io_fini(&mc->io);
	xh_ctl_srv_close(&mc->ctl, mc->cfg.socket);
	for (i = 0; i < mc->n_devs; i++) {
		struct mdev *md = &mc->devs[i];

		close(md->vips);
		close(md->groups);
		close(md->bfd);
		close(md->decap);
		if (md->ctl >= 0)
			close(md->ctl);
		if (md->pkt >= 0)
			close(md->pkt);
	}
	if (mc->adv4 >= 0)
		close(mc->adv4);
	if (mc->adv6 >= 0)
		close(mc->adv6);
	xh_config_free(&mc->cfg);
	free(mc);
	return rc;
}
