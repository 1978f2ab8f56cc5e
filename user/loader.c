// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * loader.c - attach/detach/upgrade the XDP programs and pin them; see
 * loader.h for the pin layout.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "loader.h"
#include "log.h"
#include "steer.skel.h"
#include "member.skel.h"
#include "probe.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC	0xcafe4a11
#endif

/* The steering maps by pin name, and where their fd goes. */
static const struct {
	const char *name;
	size_t off;
} steer_maps[] = {
	{ "xh_vips_v1", offsetof(struct xh_steer_maps, vips) },
	{ "xh_services_v1", offsetof(struct xh_steer_maps, services) },
	{ "xh_backends_v1", offsetof(struct xh_steer_maps, backends) },
	{ "xh_svc_bk_v1", offsetof(struct xh_steer_maps, svc_bk) },
	{ "xh_maglev_v1", offsetof(struct xh_steer_maps, maglev) },
	{ "xh_flows_v1", offsetof(struct xh_steer_maps, flows) },
	{ "xh_flown_v1", offsetof(struct xh_steer_maps, flown) },
	{ "xh_ifaces_v1", offsetof(struct xh_steer_maps, ifaces) },
	{ "xh_tx_ports", offsetof(struct xh_steer_maps, tx_ports) },
	{ "xh_stats", offsetof(struct xh_steer_maps, stats) },
	{ "xh_svc_stats", offsetof(struct xh_steer_maps, svc_stats) },
	{ "xh_bk_stats", offsetof(struct xh_steer_maps, bk_stats) },
	{ "xh_chain", offsetof(struct xh_steer_maps, chain) },
	{ "xh_bfd_v1", offsetof(struct xh_steer_maps, bfd) },
};
#define N_STEER_MAPS	(sizeof(steer_maps) / sizeof(steer_maps[0]))

static int path_of(char *buf, size_t sz, const struct xh_dev *d,
		   const char *name)
{
	int n = snprintf(buf, sz, "%s/%s", d->dir, name);

	return n < 0 || (size_t)n >= sz ? -ENAMETOOLONG : 0;
}

/* Name of the current network namespace, "" for the initial one. A
 * namespace made with 'ip netns add' is known by its name; any other one
 * that is not the initial namespace by its inode. Where /proc/1 cannot be
 * read (a sandbox), an unnamed namespace counts as the initial one. */
static void netns_name(char *out, size_t sz)
{
	struct stat self, init, st;
	struct dirent *de;
	DIR *dir;
	char p[PATH_MAX];

	out[0] = 0;
	if (stat("/proc/self/ns/net", &self))
		return;
	dir = opendir("/run/netns");
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/run/netns/%s", de->d_name);
		if (!stat(p, &st) && st.st_ino == self.st_ino &&
		    st.st_dev == self.st_dev && strlen(de->d_name) < sz) {
			memcpy(out, de->d_name, strlen(de->d_name) + 1);
			break;
		}
	}
	if (dir)
		closedir(dir);
	if (!out[0] && !stat("/proc/1/ns/net", &init) &&
	    init.st_ino != self.st_ino)
		snprintf(out, sz, "ino%lu", (unsigned long)self.st_ino);
}

int xh_dev_init(struct xh_dev *d, const char *ifname)
{
	int n;

	memset(d, 0, sizeof(*d));
	d->lock_fd = -1;
	if (!ifname || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	strcpy(d->ifname, ifname);
	d->ifindex = if_nametoindex(ifname);
	if (!d->ifindex)
		return -ENODEV;
	netns_name(d->netns, sizeof(d->netns));
	if (d->netns[0])
		n = snprintf(d->dir, sizeof(d->dir), "%s/netns:%s/%s",
			     XH_PIN_ROOT, d->netns, ifname);
	else
		n = snprintf(d->dir, sizeof(d->dir), "%s/%s", XH_PIN_ROOT,
			     ifname);
	return n < 0 || (size_t)n >= sizeof(d->dir) ? -ENAMETOOLONG : 0;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX], *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int xh_bpffs_ensure(void)
{
	struct statfs st;

	if (statfs(XH_BPFFS, &st) || st.f_type != BPF_FS_MAGIC) {
		if (mount("bpf", XH_BPFFS, "bpf", 0, "mode=0700")) {
			pr_warn("cannot mount bpffs on %s: %s\n", XH_BPFFS,
				strerror(errno));
			return -errno;
		}
		pr_info("mounted bpffs on %s\n", XH_BPFFS);
	}
	if (mkdir_p(XH_PIN_ROOT) || access(XH_PIN_ROOT, W_OK)) {
		pr_warn("bpffs directory %s is not writable: %s\n", XH_PIN_ROOT,
			strerror(errno));
		return -EACCES;
	}
	return 0;
}

bool xh_dev_attached(const struct xh_dev *d)
{
	char p[PATH_MAX];

	return !path_of(p, sizeof(p), d, "link") && !access(p, F_OK);
}

int xh_dev_lock(struct xh_dev *d)
{
	int err;

	err = mkdir_p(d->dir);
	if (err)
		return err;
	d->lock_fd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->lock_fd < 0)
		return -errno;
	if (flock(d->lock_fd, LOCK_EX)) {
		err = -errno;
		close(d->lock_fd);
		d->lock_fd = -1;
		return err;
	}
	return 0;
}

void xh_dev_unlock(struct xh_dev *d)
{
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	d->lock_fd = -1;
}

/* Remove every pin of d and its directory (and an emptied netns dir). */
static void unpin_all(const struct xh_dev *d)
{
	struct dirent *de;
	char p[PATH_MAX];
	DIR *dir = opendir(d->dir);

	if (dir) {
		while ((de = readdir(dir))) {
			if (de->d_name[0] == '.')
				continue;
			if (!path_of(p, sizeof(p), d, de->d_name))
				unlink(p);
		}
		closedir(dir);
	}
	rmdir(d->dir);
	if (d->netns[0]) {
		snprintf(p, sizeof(p), "%s/netns:%s", XH_PIN_ROOT, d->netns);
		rmdir(p);
	}
}

/* Pins whose link is attached to no device, or to another ifindex: the
 * device they were made for is gone (ip netns del without detach). */
static bool stale_pins(const struct xh_dev *d)
{
	struct bpf_link_info li = {};
	__u32 len = sizeof(li);
	char p[PATH_MAX];
	int fd;
	bool stale = false;

	if (path_of(p, sizeof(p), d, "link"))
		return false;
	fd = bpf_obj_get(p);
	if (fd < 0)
		return false;
	if (!bpf_obj_get_info_by_fd(fd, &li, &len) &&
	    li.xdp.ifindex != (__u32)d->ifindex)
		stale = true;
	close(fd);
	return stale;
}

static const char *mode_hint(enum xh_mode mode)
{
	return mode == XH_MODE_NATIVE ? "; try --mode generic" : "";
}

/* What each role attaches: its program, carried inside this binary. */
static const struct xh_role_desc {
	const char *name;
	const char *prog;
	const void *(*elf)(size_t *sz);
} roles[] = {
	[XH_ROLE_STEER] = { "steer", "xdpha_steer", steer_bpf__elf_bytes },
	[XH_ROLE_MEMBER] = { "member", "xdpha_member", member_bpf__elf_bytes },
};

/* The role of what is attached, from the pinned program's name. */
static int pinned_role(const struct xh_dev *d)
{
	struct bpf_prog_info pi = {};
	__u32 len = sizeof(pi);
	char p[PATH_MAX];
	int fd, role = -1;
	size_t i;

	if (path_of(p, sizeof(p), d, "prog"))
		return -1;
	fd = bpf_obj_get(p);
	if (fd < 0)
		return -1;
	if (!bpf_obj_get_info_by_fd(fd, &pi, &len))
		for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
			if (!strcmp(pi.name, roles[i].prog))
				role = i;
	close(fd);
	return role;
}

int xh_attach(struct xh_dev *d, const struct xh_attach_opts *o)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	const struct xh_role_desc *r;
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	struct bpf_map *map;
	const void *bytes;
	char p[PATH_MAX];
	int err, link_fd = -1, prog_fd;
	__u32 prog_id = 0;
	size_t sz;

	if ((size_t)o->role >= sizeof(roles) / sizeof(roles[0]))
		return -EINVAL;
	r = &roles[o->role];
	if (xh_dev_attached(d) && stale_pins(d)) {
		pr_warn("%s: removing stale pins of an earlier device of this "
			"name (its link no longer points at %s)\n", d->ifname,
			d->ifname);
		unpin_all(d);
		mkdir_p(d->dir);
	}
	if (xh_dev_attached(d)) {
		pr_warn("%s: xdpha is already attached (see 'xdpha status %s'; "
			"'xdpha upgrade' replaces the program)\n", d->ifname,
			d->ifname);
		return -EEXIST;
	}
	if (!bpf_xdp_query_id(d->ifindex, 0, &prog_id) && prog_id) {
		pr_warn("%s: another XDP program (id %u) is attached; detach it "
			"first, or put it behind xdpha with 'xdpha chain'\n",
			d->ifname, prog_id);
		return -EBUSY;
	}
	bytes = r->elf(&sz);
	obj = bpf_object__open_mem(bytes, sz, NULL);
	if (!obj)
		return -errno;
	map = bpf_object__find_map_by_name(obj, "xh_flows_v1");
	if (map && o->flows)
		bpf_map__set_max_entries(map, o->flows);
	map = bpf_object__find_map_by_name(obj, "xh_flown_v1");
	if (map && o->flows_new)
		bpf_map__set_max_entries(map, o->flows_new);
	prog = bpf_object__find_program_by_name(obj, r->prog);
	err = prog ? bpf_object__load(obj) : -ENOENT;
	if (err) {
		pr_warn("loading the %s program failed: %s (run with -v for the "
			"verifier log)\n", r->name, strerror(-err));
		goto out;
	}
	err = mkdir_p(d->dir);
	if (err)
		goto fail;
	/* Every map by its name: the API between the halves. */
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__is_internal(map))
			continue;
		err = path_of(p, sizeof(p), d, bpf_map__name(map));
		if (!err)
			err = bpf_map__pin(map, p);
		if (err) {
			pr_warn("pinning map %s: %s\n", bpf_map__name(map),
				strerror(-err));
			goto fail;
		}
	}
	prog_fd = bpf_program__fd(prog);
	err = path_of(p, sizeof(p), d, "prog");
	if (!err && bpf_obj_pin(prog_fd, p))
		err = -errno;
	if (err)
		goto fail;

	lo.flags = o->mode == XH_MODE_NATIVE ? XDP_FLAGS_DRV_MODE :
					       XDP_FLAGS_SKB_MODE;
	link_fd = bpf_link_create(prog_fd, d->ifindex, BPF_XDP, &lo);
	if (link_fd < 0) {
		err = -errno;
		if (err == -EOPNOTSUPP || err == -EINVAL)
			pr_warn("%s: %s XDP not supported by the driver%s\n",
				d->ifname, o->mode == XH_MODE_NATIVE ?
				"native" : "generic", mode_hint(o->mode));
		else
			pr_warn("%s: attaching XDP failed: %s\n", d->ifname,
				strerror(-err));
		goto fail;
	}
	err = path_of(p, sizeof(p), d, "link");
	if (!err && bpf_obj_pin(link_fd, p))
		err = -errno;
	if (err) {
		bpf_link_detach(link_fd);
		goto fail;
	}
	goto out;
fail:
	unpin_all(d);
out:
	if (link_fd >= 0)
		close(link_fd);
	bpf_object__close(obj);
	return err;
}

int xh_detach(struct xh_dev *d)
{
	char p[PATH_MAX];
	int fd, err = 0;

	if (!xh_dev_attached(d)) {
		pr_warn("%s: xdpha is not attached (no %s/link)\n", d->ifname,
			d->dir);
		return -ENOENT;
	}
	err = path_of(p, sizeof(p), d, "link");
	fd = err ? -1 : bpf_obj_get(p);
	if (fd >= 0) {
		/* Detach now, even if someone else holds the link open. */
		if (bpf_link_detach(fd))
			err = -errno;
		close(fd);
	}
	unpin_all(d);
	return err;
}

int xh_maps_open(const struct xh_dev *d, struct xh_steer_maps *m)
{
	char p[PATH_MAX];
	size_t i;
	int err;

	for (i = 0; i < N_STEER_MAPS; i++)
		*(int *)((char *)m + steer_maps[i].off) = -1;
	for (i = 0; i < N_STEER_MAPS; i++) {
		int fd;

		err = path_of(p, sizeof(p), d, steer_maps[i].name);
		fd = err ? -1 : bpf_obj_get(p);
		if (fd < 0) {
			err = err ?: -errno;
			pr_warn("%s: opening pinned map %s: %s\n", d->ifname, p,
				strerror(-err));
			xh_maps_close(m);
			return err;
		}
		*(int *)((char *)m + steer_maps[i].off) = fd;
	}
	return 0;
}

void xh_maps_close(struct xh_steer_maps *m)
{
	size_t i;

	for (i = 0; i < N_STEER_MAPS; i++) {
		int *fd = (int *)((char *)m + steer_maps[i].off);

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

int xh_upgrade(struct xh_dev *d, const char *obj_path)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	char p[PATH_MAX];
	const void *bytes;
	size_t sz;
	int err, link_fd = -1, fd, role;

	if (!xh_dev_attached(d)) {
		pr_warn("%s: xdpha is not attached; nothing to upgrade\n",
			d->ifname);
		return -ENOENT;
	}
	role = pinned_role(d);
	if (role < 0) {
		pr_warn("%s: the pinned program is not one of xdpha's\n",
			d->ifname);
		return -ENOENT;
	}
	if (obj_path) {
		obj = bpf_object__open_file(obj_path, NULL);
	} else {
		bytes = roles[role].elf(&sz);
		obj = bpf_object__open_mem(bytes, sz, NULL);
	}
	if (!obj) {
		err = -errno;
		pr_warn("opening %s: %s\n", obj_path ?: "the built-in object",
			strerror(-err));
		return err;
	}
	/* Every map with a pin is the running one: reuse it, so flows,
	 * services and counters carry over. */
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__is_internal(map))
			continue;
		if (path_of(p, sizeof(p), d, bpf_map__name(map)))
			continue;
		fd = bpf_obj_get(p);
		if (fd < 0)
			continue;
		err = bpf_map__reuse_fd(map, fd);
		close(fd);
		if (err) {
			pr_warn("reusing map %s: %s\n", p, strerror(-err));
			goto out;
		}
	}
	prog = bpf_object__find_program_by_name(obj, roles[role].prog);
	if (!prog) {
		pr_warn("%s has no program %s\n",
			obj_path ?: "the built-in object", roles[role].prog);
		err = -ENOENT;
		goto out;
	}
	err = bpf_object__load(obj);
	if (err) {
		pr_warn("loading the new program failed: %s (a map whose layout "
			"changed needs a new _vN name; -v shows libbpf's "
			"reason)\n", strerror(-err));
		goto out;
	}
	/* Maps new in this build get pinned now. */
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__is_internal(map) ||
		    path_of(p, sizeof(p), d, bpf_map__name(map)) ||
		    !access(p, F_OK))
			continue;
		err = bpf_map__pin(map, p);
		if (err) {
			pr_warn("pinning new map %s: %s\n", p, strerror(-err));
			goto out;
		}
	}
	err = path_of(p, sizeof(p), d, "link");
	link_fd = err ? -1 : bpf_obj_get(p);
	if (link_fd < 0) {
		err = err ?: -errno;
		pr_warn("%s: opening the pinned link: %s\n", d->ifname,
			strerror(-err));
		goto out;
	}
	/* The atomic step: the link points at the new program from the next
	 * packet on; no packet sees no program. */
	if (bpf_link_update(link_fd, bpf_program__fd(prog), NULL)) {
		err = -errno;
		pr_warn("%s: replacing the program failed: %s\n", d->ifname,
			strerror(-err));
		goto out;
	}
	/* bpffs has no rename: the pin goes and comes back; the link, not
	 * the pin, keeps the program attached meanwhile. */
	err = path_of(p, sizeof(p), d, "prog");
	if (!err) {
		unlink(p);
		if (bpf_obj_pin(bpf_program__fd(prog), p))
			err = -errno;
	}
	if (err)
		pr_warn("%s: the new program runs, but re-pinning it at %s "
			"failed: %s\n", d->ifname, p, strerror(-err));
out:
	if (link_fd >= 0)
		close(link_fd);
	bpf_object__close(obj);
	return err;
}

int xh_chain_set(struct xh_dev *d, const char *obj_path, const char *sec)
{
	struct bpf_object *obj;
	struct bpf_program *prog, *pick = NULL;
	struct xh_steer_maps m;
	char p[PATH_MAX];
	__u32 zero = 0;
	int err, fd;

	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj) {
		err = -errno;
		pr_warn("opening %s: %s\n", obj_path, strerror(-err));
		return err;
	}
	bpf_object__for_each_program(prog, obj) {
		if (sec ? !strcmp(bpf_program__section_name(prog), sec) ||
			  !strcmp(bpf_program__name(prog), sec) :
			  bpf_program__type(prog) == BPF_PROG_TYPE_XDP) {
			pick = prog;
			break;
		}
	}
	if (!pick) {
		pr_warn("%s: no %s%s%s program\n", obj_path, sec ? "section '" : "XDP",
			sec ?: "", sec ? "'" : "");
		err = -ENOENT;
		goto out;
	}
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, prog == pick);
	bpf_program__set_type(pick, BPF_PROG_TYPE_XDP);
	bpf_program__set_expected_attach_type(pick, BPF_XDP);
	err = bpf_object__load(obj);
	if (err) {
		pr_warn("loading %s failed: %s\n", obj_path, strerror(-err));
		goto out;
	}
	err = xh_maps_open(d, &m);
	if (err)
		goto out;
	fd = bpf_program__fd(pick);
	if (bpf_map_update_elem(m.chain, &zero, &fd, BPF_ANY)) {
		err = -errno;
		pr_warn("%s: putting %s in the chain slot: %s\n", d->ifname,
			bpf_program__name(pick), strerror(-err));
	}
	xh_maps_close(&m);
	if (err)
		goto out;
	/* The pin names what is in the slot, for status and detach. */
	err = path_of(p, sizeof(p), d, "chain_prog");
	if (!err) {
		unlink(p);
		if (bpf_obj_pin(fd, p))
			err = -errno;
	}
out:
	bpf_object__close(obj);
	return err;
}

int xh_chain_clear(struct xh_dev *d)
{
	struct xh_steer_maps m;
	char p[PATH_MAX];
	__u32 zero = 0;
	int err;

	err = xh_maps_open(d, &m);
	if (err)
		return err;
	if (bpf_map_delete_elem(m.chain, &zero) && errno != ENOENT)
		err = -errno;
	xh_maps_close(&m);
	if (!path_of(p, sizeof(p), d, "chain_prog"))
		unlink(p);
	return err;
}

int xh_probe_freplace(void)
{
	struct probe_bpf *t = NULL, *e = NULL;
	int err;

	t = probe_bpf__open();
	if (!t)
		return -errno;
	bpf_program__set_autoload(t->progs.xh_probe_ext, false);
	err = probe_bpf__load(t);
	if (err)
		goto out;
	e = probe_bpf__open();
	if (!e) {
		err = -errno;
		goto out;
	}
	bpf_program__set_autoload(e->progs.xh_probe_target, false);
	err = bpf_program__set_attach_target(e->progs.xh_probe_ext,
					     bpf_program__fd(t->progs.xh_probe_target),
					     "xh_probe_fn");
	if (err)
		goto out;
	err = probe_bpf__load(e);
	err = err ? (err == -EPERM || err == -EACCES || err == -EINVAL ? 0 : err) : 1;
out:
	probe_bpf__destroy(e);
	probe_bpf__destroy(t);
	return err;
}

int xh_dev_info(const struct xh_dev *d, struct xh_dev_info *info)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info pi = {};
	struct bpf_link_info li = {};
	__u32 len;
	char p[PATH_MAX];
	int fd, err = 0, i;

	memset(info, 0, sizeof(*info));
	info->mode = "?";
	err = pinned_role(d);
	info->role = err < 0 ? "?" : roles[err].name;
	err = 0;
	if (!path_of(p, sizeof(p), d, "link") && (fd = bpf_obj_get(p)) >= 0) {
		len = sizeof(li);
		if (!bpf_obj_get_info_by_fd(fd, &li, &len))
			info->link_id = li.id;
		close(fd);
	} else {
		err = -ENOENT;
	}
	if (!path_of(p, sizeof(p), d, "prog") && (fd = bpf_obj_get(p)) >= 0) {
		len = sizeof(pi);
		if (!bpf_obj_get_info_by_fd(fd, &pi, &len)) {
			info->prog_id = pi.id;
			snprintf(info->prog_name, sizeof(info->prog_name), "%s",
				 pi.name);
			for (i = 0; i < 8; i++)
				sprintf(info->prog_tag + 2 * i, "%02x", pi.tag[i]);
		}
		close(fd);
	}
	if (!path_of(p, sizeof(p), d, "chain_prog") &&
	    (fd = bpf_obj_get(p)) >= 0) {
		memset(&pi, 0, sizeof(pi));
		len = sizeof(pi);
		if (!bpf_obj_get_info_by_fd(fd, &pi, &len)) {
			info->chain_prog_id = pi.id;
			snprintf(info->chain_name, sizeof(info->chain_name),
				 "%s", pi.name);
		}
		close(fd);
	}
	if (!bpf_xdp_query(d->ifindex, 0, &q)) {
		switch (q.attach_mode) {
		case XDP_ATTACHED_DRV:
			info->mode = "native";
			break;
		case XDP_ATTACHED_SKB:
			info->mode = "generic";
			break;
		case XDP_ATTACHED_HW:
			info->mode = "offload";
			break;
		case XDP_ATTACHED_NONE:
			info->mode = "none";
			break;
		default:
			info->mode = "multi";
		}
	}
	return err;
}
