/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * loader.h - attach, detach and upgrade xdpha's XDP programs; find their
 * pinned maps again.
 *
 * Everything of one device lives under one bpffs directory:
 *   /sys/fs/bpf/xdpha/<ifname>/              in the initial netns
 *   /sys/fs/bpf/xdpha/netns:<name>/<ifname>/ elsewhere (':' cannot be in an
 *                                            interface name, so no clash)
 * holding `link` (the bpf_link: attachment outlives the process), `prog`,
 * every map by its name, and `chain_prog` when the chain slot is used.
 */
#ifndef XH_LOADER_H
#define XH_LOADER_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <linux/types.h>
#include "tables.h"

#define XH_BPFFS	"/sys/fs/bpf"
#define XH_PIN_ROOT	XH_BPFFS "/xdpha"

enum xh_role { XH_ROLE_STEER = 0, XH_ROLE_MEMBER = 1 };
enum xh_mode { XH_MODE_NATIVE = 0, XH_MODE_GENERIC = 1 };

struct xh_dev {
	char ifname[IF_NAMESIZE];
	int ifindex;
	char netns[64];		/* "" in the initial network namespace */
	char dir[PATH_MAX];	/* pin directory */
	int lock_fd;		/* flock()ed pin directory, -1 if none */
};

struct xh_attach_opts {
	enum xh_role role;
	enum xh_mode mode;
	__u32 flows;		/* confirmed flow table size, 0 = default */
	__u32 flows_new;	/* unconfirmed flow table size, 0 = default */
};

/* Resolve DEV and compute its pin directory. -ENODEV if no such device. */
int xh_dev_init(struct xh_dev *d, const char *ifname);
/* Mount bpffs on /sys/fs/bpf if absent; -EACCES etc. if unwritable. */
int xh_bpffs_ensure(void);
bool xh_dev_attached(const struct xh_dev *d);
/* Serialise xdpha invocations on one device (flock on its directory). */
int xh_dev_lock(struct xh_dev *d);
void xh_dev_unlock(struct xh_dev *d);

int xh_attach(struct xh_dev *d, const struct xh_attach_opts *o);
int xh_detach(struct xh_dev *d);
/* Replace the attached program by the one in obj (NULL: the build this
 * binary carries), reusing every pinned map. */
int xh_upgrade(struct xh_dev *d, const char *obj);

/* Open the pinned steering maps of d. */
int xh_maps_open(const struct xh_dev *d, struct xh_steer_maps *m);
void xh_maps_close(struct xh_steer_maps *m);

/* Chain slot: put the XDP program sec (NULL: the first) of obj behind
 * xdpha, or remove it. */
int xh_chain_set(struct xh_dev *d, const char *obj, const char *sec);
int xh_chain_clear(struct xh_dev *d);
/* 1 if the kernel lets freplace programs load (libxdp's dispatcher needs
 * them), 0 if not, -errno if the probe itself failed. */
int xh_probe_freplace(void);

/* What is attached: for status. */
struct xh_dev_info {
	__u32 prog_id, link_id, chain_prog_id;
	char prog_name[32];
	char prog_tag[17];
	char chain_name[32];
	const char *mode;	/* "native", "generic", "?" */
	const char *role;
};
int xh_dev_info(const struct xh_dev *d, struct xh_dev_info *info);

#endif
