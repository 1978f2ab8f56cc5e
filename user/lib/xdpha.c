// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xdpha.c - libxdpha (xdpha.h): an application's records in a table
 * (kvtab.h), mirrored to the peer member through one mirror link
 * (user/mirror_link.h: a transport and two engines, our changes out on one
 * stream, the peer's in on the other), with the role read from the member
 * program's maps, a liveness stamp and checkpoints.
 *
 * Who applies what. The active member's table is the source; the
 * standby's is its copy. The peer's records are applied only while we are
 * not active: an active member never lets a standby's stream (a resync it
 * asked for at start, say) overwrite its state. A resync rebuilds the copy
 * by mark and sweep: SNAP_BEGIN starts a new mark, every record put from
 * then on carries it, SNAP_END removes the records left unmarked. A sender
 * dying in the middle leaves the last state plus newer records behind.
 * Without a VIP there is no gate: both ends apply each other's records
 * and a resync merges (nothing is swept), for applications that give each
 * key one writer by themselves.
 *
 * Our puts go to the engine first and to the table right after, in the
 * same call: nothing reads the table in between (the resync walk runs only
 * inside xdpha_process), so a refused put (-EAGAIN, window full) leaves
 * the table as it was, and the walk's order rule (a change reaches the
 * engine after the source) holds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "checkpoint.h"
#include "kvtab.h"
#include "loader.h"
#include "log.h"
#include "mirror_link.h"
#include "mirror_status.h"
#include "xdpha.h"
#include "xm_abi.h"

#define ROLE_CHECK_NS	1000000ULL	/* re-read the gate at most every 1 ms */
#define STAMP_NS	100000000ULL	/* touch the stamp every 100 ms */
#define DEF_CKPT_MS	1000
#define APPLY_AHEAD	8	/* records prefetched ahead in an apply */

struct xdpha {
	struct kvtab t;
	struct xh_mlink *link;
	char ifname[IF_NAMESIZE];

	/* role */
	bool gated;			/* a VIP was given */
	bool active;
	bool vip_known;			/* found in xm_vips_v1 */
	bool vip_warned;
	int vips_fd, groups_fd;
	struct xm_vip_key vip;
	__u32 gid;
	__u64 role_due;
	void (*role_cb)(void *arg, bool active);
	void *role_arg;

	/* receiving a resync */
	bool snap_rx;
	/* an active member that started empty takes the standby's copy
	 * before it offers its own table (see on_apply) */
	bool recovering;
	__u64 recovered;
	__u64 resyncs_done, swept, discarded;

	/* liveness stamp */
	int stamp_fd;
	__u64 stamp_due;

	/* checkpoints */
	char *ckpt_dir;
	char ckpt_name[64];
	__u32 stream;
	const struct kv_rec *ckpt_walk;
	__u64 ckpt_ns, ckpt_due;
	bool dirty;
	__u64 checkpoints, checkpoint_errors;

	/* figures for `xdpha status` (mirror_status.h) */
	char status_path[PATH_MAX + 64];
	__u64 status_due;
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void set_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* "198.18.0.11" or "fd00::11" -> addr[4] (IPv4 in addr[0]), family. */
static int addr_parse(const char *txt, __be32 addr[4], __u8 *family)
{
	memset(addr, 0, 16);
	if (!txt)
		return -EINVAL;
	if (inet_pton(AF_INET, txt, addr) == 1) {
		*family = XH_FAM_V4;
		return 0;
	}
	if (inet_pton(AF_INET6, txt, addr) == 1) {
		*family = XH_FAM_V6;
		return 0;
	}
	return -EINVAL;
}

/* A node id from an address: the IPv4 address itself, or the four words
 * of an IPv6 one folded; never 0. */
static __u32 node_id_of(const __be32 addr[4], __u8 family)
{
	__u32 id = family == XH_FAM_V4 ? ntohl(addr[0]) :
		   ntohl(addr[0] ^ addr[1] ^ addr[2] ^ addr[3]);

	return id ?: 1;
}

/* ---- the role, from the member program's gate ---------------------------- */

static int role_open(struct xdpha *h, const char *ifname, const char *vip,
		     char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	struct xh_dev d;
	int ret;

	if (addr_parse(vip, h->vip.addr, &h->vip.family)) {
		set_err(err, errlen, "vip '%s' is not an IPv4 or IPv6 address",
			vip);
		return -EINVAL;
	}
	ret = xh_dev_init(&d, ifname);
	if (ret) {
		set_err(err, errlen, "device %s: %s", ifname, strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/xm_vips_v1", d.dir);
	h->vips_fd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/xm_groups_v1", d.dir);
	h->groups_fd = bpf_obj_get(path);
	if (h->vips_fd < 0 || h->groups_fd < 0) {
		ret = -errno;
		set_err(err, errlen,
			"%s has no member program (no %s: %s); run the member controller (xdpha run, role member) or xdpha attach member %s",
			ifname, path, strerror(errno), ifname);
		return ret;
	}
	h->gated = true;
	xh_mirror_status_path(d.dir, h->stream, h->status_path,
			      sizeof(h->status_path));
	return 0;
}

/* Read the gate of the VIP's group: active when open (YES or TAKEN). */
static bool role_read(struct xdpha *h)
{
	struct xm_group g;
	struct xm_vip v;

	if (!h->gated)
		return true;
	if (!h->vip_known) {
		if (bpf_map_lookup_elem(h->vips_fd, &h->vip, &v)) {
			if (!h->vip_warned)
				pr_info("libxdpha: the VIP is not in xm_vips_v1 of %s (yet): standby until the member controller configures it\n",
					h->ifname);
			h->vip_warned = true;
			return false;
		}
		h->gid = v.group;
		h->vip_known = true;
	}
	if (bpf_map_lookup_elem(h->groups_fd, &h->gid, &g))
		return false;
	return g.state == XM_OWN_YES || g.state == XM_OWN_TAKEN;
}

static void role_update(struct xdpha *h, __u64 now, bool force)
{
	bool active;

	if (now < h->role_due && !force)
		return;
	h->role_due = now + ROLE_CHECK_NS;
	active = role_read(h);
	if (active == h->active)
		return;
	h->active = active;
	pr_info("libxdpha: %s\n", active ? "active" : "standby");
	/* An active member ignored the peer's stream and wrote on its own
	 * (in a partition, both sides did): its table is no copy of the new
	 * active's. A new receiver incarnation asks for a full resync, whose
	 * sweep removes what the new active does not have. */
	if (!active && h->link) {
		h->snap_rx = false;
		h->recovering = false;
		if (xh_mlink_rx_restart(h->link, now))
			pr_warn("libxdpha: standby again, but cannot ask for a resync: the table may keep changes the active does not have\n");
	}
	if (h->role_cb)
		h->role_cb(h->role_arg, active);
}

/* ---- the engines' callbacks --------------------------------------------- */

/* An active member that (re)started with an empty table, no checkpoint
 * to restore, would otherwise resync its standby to empty: everything the
 * standby held would be gone. Instead, its receiver's first resync (the
 * standby's table, which is the copy of ours) fills the table first, and
 * our own snapshot waits (on_snap) until it is complete. Records the
 * application wrote meanwhile are newer: the copy only fills keys that
 * are absent. */
static int recover_apply(struct xdpha *h, const struct xh_mir_rec *recs,
			 unsigned int n)
{
	unsigned int i;
	int err;

	for (i = 0; i < n; i++) {
		const struct xh_mir_rec *r = &recs[i];

		if (r->op == XH_MIR_OP_PUT && !kv_get(&h->t, r->key, r->klen)) {
			err = kv_put(&h->t, r->key, r->klen, r->val, r->vlen);
			if (err)
				return err;
			h->recovered++;
		} else if (r->op == XH_MIR_OP_SNAP_BEGIN) {
			h->snap_rx = true;
		} else if (r->op == XH_MIR_OP_SNAP_END && h->snap_rx) {
			h->snap_rx = false;
			h->recovering = false;
			h->resyncs_done++;
			pr_info("libxdpha: active, started empty: recovered %llu "
				"records from the standby's copy\n",
				(unsigned long long)h->recovered);
		}
	}
	h->dirty = true;
	return 0;
}

static int on_apply(void *arg, const struct xh_mir_rec *recs, unsigned int n)
{
	struct xdpha *h = arg;
	unsigned int i;
	int err;

	if (h->gated && h->active && !h->recovering) {
		h->discarded += n;
		return 0;
	}
	if (h->recovering)
		return recover_apply(h, recs, n);
	for (i = 0; i < n; i++) {
		const struct xh_mir_rec *r = &recs[i];

		/* the table is larger than the cache: ask for the slot of a
		 * record a few ahead while this one is put */
		if (i + APPLY_AHEAD < n && recs[i + APPLY_AHEAD].klen)
			kv_prefetch(&h->t, recs[i + APPLY_AHEAD].key,
				    recs[i + APPLY_AHEAD].klen);
		switch (r->op) {
		case XH_MIR_OP_PUT:
			err = kv_put(&h->t, r->key, r->klen, r->val, r->vlen);
			if (err)
				return err;
			break;
		case XH_MIR_OP_DEL:
			kv_del(&h->t, r->key, r->klen);
			break;
		case XH_MIR_OP_SNAP_BEGIN:
			h->t.gen++;
			h->snap_rx = true;
			break;
		case XH_MIR_OP_SNAP_END:
			if (!h->snap_rx)
				break;
			/* without a gate a resync merges */
			if (h->gated)
				h->swept += kv_sweep(&h->t);
			h->snap_rx = false;
			h->resyncs_done++;
			break;
		}
	}
	h->dirty = true;
	return 0;
}

static int on_snap(void *arg, bool restart, struct xh_mir_rec *recs,
		   unsigned int max)
{
	struct xdpha *h = arg;
	struct kv_rec *r;
	unsigned int n = 0;

	/* not before the standby's copy is in (recover_apply): the engine
	 * gives up this snapshot and serves the standby's next request */
	if (h->recovering)
		return -EAGAIN;
	if (restart)
		kv_cursor_reset(&h->t);
	while (n < max && (r = kv_cursor_next(&h->t))) {
		recs[n] = (struct xh_mir_rec){
			.op = XH_MIR_OP_PUT,
			.key = kv_key(r), .klen = r->klen,
			.val = kv_val(r), .vlen = r->vlen,
		};
		n++;
	}
	return n;
}

/* ---- checkpoints ---------------------------------------------------------- */

static int ckpt_rec(void *arg, const void *key, unsigned int klen,
		    const void *val, unsigned int vlen)
{
	struct xdpha *h = arg;

	if (!klen || klen > XDPHA_KEY_MAX || vlen > XDPHA_VAL_MAX)
		return -EBADMSG;
	return kv_put(&h->t, key, klen, val, vlen);
}

/* The checkpoint's walk: a plain one (the table does not change while a
 * checkpoint is written), apart from the resync's cursor. */
static int ckpt_iter(void *arg, bool restart, struct xh_mir_rec *recs,
		     unsigned int max)
{
	struct xdpha *h = arg;
	unsigned int n = 0;

	if (restart)
		h->ckpt_walk = kv_first(&h->t);
	for (; n < max && h->ckpt_walk;
	     h->ckpt_walk = kv_next(&h->t, h->ckpt_walk)) {
		const struct kv_rec *r = h->ckpt_walk;

		recs[n++] = (struct xh_mir_rec){
			.op = XH_MIR_OP_PUT,
			.key = kv_key(r), .klen = r->klen,
			.val = kv_val(r), .vlen = r->vlen,
		};
	}
	return n;
}

int xdpha_checkpoint(struct xdpha *h)
{
	struct xh_ckpt_info info = { .stream = h->stream };
	int err;

	if (!h->ckpt_dir)
		return -ENOTCONN;
	/* The receiver's position means something only for a copy: an
	 * active member's table is its own, and a restart must resync it. */
	if (!(h->gated && h->active))
		xh_mir_rx_position(h->link->rx, &info.epoch, &info.seq);
	err = xh_ckpt_write(h->ckpt_dir, h->ckpt_name, &info, ckpt_iter, h);
	if (err) {
		h->checkpoint_errors++;
		pr_warn("libxdpha: checkpoint to %s/%s: %s\n", h->ckpt_dir,
			h->ckpt_name, strerror(-err));
		return err;
	}
	h->checkpoints++;
	h->dirty = false;
	return 0;
}

/* Restore the table from the checkpoint, if there is a good one; its
 * receiver position into *info (0: none, resync). A damaged one is
 * refused with the reason in err, and the table stays empty. */
static void ckpt_restore(struct xdpha *h, struct xh_ckpt_info *info,
			 char *err, size_t errlen)
{
	char why[256] = "";
	int ret;

	ret = xh_ckpt_load(h->ckpt_dir, h->ckpt_name, info, ckpt_rec, h, why,
			   sizeof(why));
	if (!ret && info->stream != h->stream) {
		snprintf(why, sizeof(why), "it is of stream %u, not %u",
			 info->stream, h->stream);
		ret = -EBADMSG;
	}
	if (ret == -ENOENT) {
		pr_info("libxdpha: no checkpoint %s/%s: starting empty\n",
			h->ckpt_dir, h->ckpt_name);
	} else if (ret) {
		/* why names the file */
		if (!why[0])
			snprintf(why, sizeof(why), "%s/%s: %s", h->ckpt_dir,
				 h->ckpt_name, strerror(-ret));
		set_err(err, errlen,
			"checkpoint refused: %s; starting empty, a resync from the peer follows",
			why);
		pr_warn("libxdpha: %s\n", err);
		h->checkpoint_errors++;
	} else {
		pr_info("libxdpha: restored %u records from %s/%s\n",
			h->t.count, h->ckpt_dir, h->ckpt_name);
	}
	if (ret) {
		kv_clear(&h->t);
		memset(info, 0, sizeof(*info));
	}
}

/* ---- open, close ------------------------------------------------------------ */

struct xdpha *xdpha_open(const struct xdpha_opts *opts, char *err,
			 size_t errlen)
{
	struct xh_mlink_cfg lc = { 0 };
	struct xh_ckpt_info pos = { 0 };
	struct xdpha_opts o = { 0 };
	struct xdpha *h;
	__u64 now = now_ns();
	const char *lv;
	int ret;

	set_err(err, errlen, "%s", "");
	if (!opts || !opts->sz) {
		set_err(err, errlen, "no options (set opts.sz)");
		errno = EINVAL;
		return NULL;
	}
	memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	lv = getenv("XDPHA_LOG");
	if (lv)
		xh_log_level = !strcmp(lv, "debug") ? XH_LOG_DEBUG :
			       !strcmp(lv, "info") ? XH_LOG_INFO : XH_LOG_WARN;

	h = calloc(1, sizeof(*h));
	if (!h) {
		set_err(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	h->vips_fd = h->groups_fd = h->stamp_fd = -1;
	h->stream = o.stream;
	lc.x.ifname = o.ifname;
	if (!o.ifname || strlen(o.ifname) >= IF_NAMESIZE) {
		set_err(err, errlen, "opts.ifname: the member NIC is required");
		ret = -EINVAL;
		goto fail;
	}
	strcpy(h->ifname, o.ifname);
	if (addr_parse(o.local, lc.x.local, &lc.x.family)) {
		set_err(err, errlen, "opts.local '%s': not an IPv4 or IPv6 address",
			o.local ?: "(none)");
		ret = -EINVAL;
		goto fail;
	}
	{
		__u8 pf;

		if (addr_parse(o.peer, lc.x.peer, &pf) || pf != lc.x.family) {
			set_err(err, errlen,
				"opts.peer '%s': not an address of the family of opts.local",
				o.peer ?: "(none)");
			ret = -EINVAL;
			goto fail;
		}
	}
	lc.self_id = o.node_id ?: node_id_of(lc.x.local, lc.x.family);
	lc.peer_id = o.peer_id ?: node_id_of(lc.x.peer, lc.x.family);
	if (lc.self_id == lc.peer_id) {
		set_err(err, errlen, "node id and peer id are both %u", lc.self_id);
		ret = -EINVAL;
		goto fail;
	}
	if (o.auth_key && (!o.auth_key_len ||
			   o.auth_key_len > XH_MIR_KEY_LEN_MAX)) {
		set_err(err, errlen, "opts.auth_key_len: 1..%d bytes",
			XH_MIR_KEY_LEN_MAX);
		ret = -EINVAL;
		goto fail;
	}
	ret = kv_init(&h->t, 0);
	if (ret) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}

	if (o.vip) {
		ret = role_open(h, o.ifname, o.vip, err, errlen);
		if (ret)
			goto fail;
	}
	h->active = role_read(h);
	h->role_due = now + ROLE_CHECK_NS;

	if (o.checkpoint_dir) {
		h->ckpt_dir = strdup(o.checkpoint_dir);
		snprintf(h->ckpt_name, sizeof(h->ckpt_name), "xdpha-%u.ckpt",
			 o.stream);
		h->ckpt_ns = (__u64)(o.checkpoint_ms ?: DEF_CKPT_MS) * 1000000;
		h->ckpt_due = now + h->ckpt_ns;
		if (!h->ckpt_dir) {
			ret = -ENOMEM;
			goto fail;
		}
		ckpt_restore(h, &pos, err, errlen);
	}

	h->recovering = h->gated && h->active && !h->t.count;
	if (h->recovering)
		pr_info("libxdpha: active with an empty table: taking the "
			"standby's copy first\n");

	lc.xport = o.transport == XDPHA_XPORT_AFXDP ? XH_MLINK_AFXDP :
		   o.transport == XDPHA_XPORT_UDP ? XH_MLINK_UDP :
		   XH_MLINK_AUTO;
	lc.stream = o.stream;
	lc.key = o.auth_key;
	lc.key_len = o.auth_key_len;
	lc.resume_epoch = pos.epoch;
	lc.resume_seq = pos.seq;
	lc.apply = on_apply;
	lc.snap = on_snap;
	lc.arg = h;
	ret = xh_mlink_open(&lc, now, &h->link);
	if (ret) {
		set_err(err, errlen, "mirror transport on %s (%s): %s",
			o.ifname, o.transport == XDPHA_XPORT_UDP ? "UDP" :
			"AF_XDP", strerror(-ret));
		goto fail;
	}

	if (o.stamp_file) {
		h->stamp_fd = open(o.stamp_file, O_WRONLY | O_CREAT | O_CLOEXEC,
				   0644);
		if (h->stamp_fd < 0) {
			ret = -errno;
			set_err(err, errlen, "stamp file %s: %s", o.stamp_file,
				strerror(errno));
			goto fail;
		}
		xdpha_alive(h);
		h->stamp_due = now + STAMP_NS;
	}
	return h;
fail:
	xdpha_close(h);
	errno = -ret;
	return NULL;
}

void xdpha_close(struct xdpha *h)
{
	if (!h)
		return;
	if (h->status_path[0])
		unlink(h->status_path);
	xh_mlink_close(h->link);
	if (h->vips_fd >= 0)
		close(h->vips_fd);
	if (h->groups_fd >= 0)
		close(h->groups_fd);
	if (h->stamp_fd >= 0)
		close(h->stamp_fd);
	free(h->ckpt_dir);
	kv_fini(&h->t);
	free(h);
}

/* ---- the table --------------------------------------------------------------- */

static bool key_ok(const void *key, size_t klen)
{
	return key && klen && klen <= XDPHA_KEY_MAX;
}

int xdpha_put(struct xdpha *h, const void *key, size_t klen, const void *val,
	      size_t vlen)
{
	struct kv_rec *r;
	int err;

	if (!key_ok(key, klen) || vlen > XDPHA_VAL_MAX || (vlen && !val))
		return -EINVAL;
	/* a new value of the same size class: in place, no allocation */
	r = kv_get(&h->t, key, klen);
	if (r && kv_fits(r, vlen)) {
		err = xh_mir_put(h->link->tx, key, klen, val, vlen, now_ns());
		if (err)
			return err;
		kv_set(&h->t, r, val, vlen);
		h->dirty = true;
		return 0;
	}
	/* else the record first: a put the engine took must reach the table */
	r = kv_new(&h->t, key, klen, val, vlen);
	if (!r)
		return -ENOMEM;
	err = xh_mir_put(h->link->tx, key, klen, val, vlen, now_ns());
	if (!err)
		err = kv_link(&h->t, r);
	if (err) {
		kv_drop(&h->t, r);
		return err;
	}
	h->dirty = true;
	return 0;
}

int xdpha_del(struct xdpha *h, const void *key, size_t klen)
{
	int err;

	if (!key_ok(key, klen))
		return -EINVAL;
	if (!kv_get(&h->t, key, klen))
		return -ENOENT;
	err = xh_mir_del(h->link->tx, key, klen, now_ns());
	if (err)
		return err;
	kv_del(&h->t, key, klen);
	h->dirty = true;
	return 0;
}

int xdpha_get(struct xdpha *h, const void *key, size_t klen, void *buf,
	      size_t *vlen)
{
	struct kv_rec *r;

	if (!key_ok(key, klen) || !vlen)
		return -EINVAL;
	r = kv_get(&h->t, key, klen);
	if (!r)
		return -ENOENT;
	if (buf)
		memcpy(buf, kv_val(r), r->vlen < *vlen ? r->vlen : *vlen);
	*vlen = r->vlen;
	return 0;
}

size_t xdpha_count(const struct xdpha *h)
{
	return h->t.count;
}

int xdpha_foreach(struct xdpha *h,
		  int (*cb)(void *arg, const void *key, size_t klen,
			    const void *val, size_t vlen),
		  void *arg)
{
	const struct kv_rec *r;
	int ret;

	for (r = kv_first(&h->t); r; r = kv_next(&h->t, r)) {
		ret = cb(arg, kv_key(r), r->klen, kv_val(r), r->vlen);
		if (ret)
			return ret;
	}
	return 0;
}

uint64_t xdpha_last_seq(const struct xdpha *h)
{
	return xh_mir_last_seq(h->link->tx);
}

bool xdpha_acked(const struct xdpha *h, uint64_t seq)
{
	return xh_mir_acked(h->link->tx, seq);
}

/* ---- I/O ------------------------------------------------------------------- */

int xdpha_fd(const struct xdpha *h)
{
	return xh_mlink_fd(h->link);
}

/* The next time process must run without input (absolute ns). */
static __u64 next_due(const struct xdpha *h)
{
	__u64 due = xh_mlink_next(h->link);

	if (h->gated && h->role_due < due)
		due = h->role_due;
	if (h->stamp_fd >= 0 && h->stamp_due < due)
		due = h->stamp_due;
	if (h->ckpt_dir && h->dirty && h->ckpt_due < due)
		due = h->ckpt_due;
	return due;
}

int xdpha_timeout_ms(const struct xdpha *h)
{
	__u64 due = next_due(h), now = now_ns();

	if (due <= now)
		return 0;
	due = (due - now + 999999) / 1000000;
	return due > INT_MAX ? INT_MAX : (int)due;
}

/* Our figures for `xdpha status` on the device. */
static void status_publish(struct xdpha *h)
{
	struct json_object *o = json_object_new_object();
	struct xdpha_stats st;

	xdpha_stats(h, &st);
#define U(k, v) json_object_object_add(o, k, json_object_new_int64(v))
#define S(k, v) json_object_object_add(o, k, json_object_new_string(v))
	U("pid", getpid());
	S("ifname", h->ifname);
	U("stream", h->stream);
	S("transport", st.transport);
	S("role", h->active ? "active" : "standby");
	S("state", xh_mir_state_name(xh_mir_state(h->link->tx)));
	S("peer_state", xh_mir_state_name(xh_mir_state(h->link->rx)));
	U("records", st.records);
	U("records_sent", st.sent);
	U("records_acked", st.acked);
	U("retransmitted", st.retransmitted);
	U("records_applied", st.applied);
	U("resyncs", st.resyncs);
	json_object_object_add(o, "lag_ms",
			       json_object_new_double(st.lag_us / 1000.0));
	U("checkpoints", st.checkpoints);
	U("checkpoint_errors", st.checkpoint_errors);
#undef U
#undef S
	xh_mirror_status_write(h->status_path, o);
	json_object_put(o);
}

int xdpha_process(struct xdpha *h, int timeout_ms)
{
	__u64 now;
	int ret;

	/* what the puts since the last call queued leaves now */
	xh_mir_flush(h->link->tx, now_ns());
	if (timeout_ms > 0) {
		struct pollfd p = { .fd = xdpha_fd(h), .events = POLLIN };
		int t = xdpha_timeout_ms(h);

		poll(&p, 1, t < timeout_ms ? t : timeout_ms);
	}
	now = now_ns();
	role_update(h, now, false);
	ret = xh_mlink_poll(h->link, now);
	if (h->stamp_fd >= 0 && now >= h->stamp_due) {
		xdpha_alive(h);
		h->stamp_due = now + STAMP_NS;
	}
	if (h->ckpt_dir && now >= h->ckpt_due) {
		if (h->dirty)
			xdpha_checkpoint(h);
		h->ckpt_due = now_ns() + h->ckpt_ns;
	}
	if (h->status_path[0] && now >= h->status_due) {
		status_publish(h);
		h->status_due = now + 1000000000ULL;
	}
	return ret < 0 ? ret : 0;
}

int xdpha_sync(struct xdpha *h, int timeout_ms)
{
	__u64 end = now_ns() + (__u64)(timeout_ms > 0 ? timeout_ms : 0) * 1000000;
	__u64 seq = xdpha_last_seq(h), now;

	while (seq && !xdpha_acked(h, seq)) {
		now = now_ns();
		if (now >= end)
			return -ETIMEDOUT;
		/* wake at least every ms: the ack may come on a timer */
		xdpha_process(h, 1);
	}
	return 0;
}

bool xdpha_is_active(struct xdpha *h)
{
	role_update(h, now_ns(), true);
	return h->active;
}

void xdpha_on_role(struct xdpha *h, void (*cb)(void *arg, bool active),
		   void *arg)
{
	h->role_cb = cb;
	h->role_arg = arg;
}

int xdpha_alive(struct xdpha *h)
{
	if (h->stamp_fd < 0)
		return -ENOTCONN;
	return futimens(h->stamp_fd, NULL) ? -errno : 0;
}

int xdpha_stats(struct xdpha *h, struct xdpha_stats *st)
{
	struct xh_mir_stats tx, rx;
	__u64 now = now_ns();

	xh_mir_get_stats(h->link->tx, now, &tx);
	xh_mir_get_stats(h->link->rx, now, &rx);
	memset(st, 0, sizeof(*st));
	st->records = h->t.count;
	st->sent = tx.records;
	st->acked = tx.acked;
	st->retransmitted = tx.retransmits;
	st->applied = rx.applied;
	st->resyncs = h->resyncs_done;
	st->lag_us = tx.lag_ns / 1000;
	st->checkpoints = h->checkpoints;
	st->checkpoint_errors = h->checkpoint_errors;
	snprintf(st->transport, sizeof(st->transport), "%s",
		 xh_mlink_mode(h->link));
	return 0;
}
