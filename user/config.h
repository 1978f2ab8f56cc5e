/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * config.h - the controller's configuration file (xdpha run -c FILE) turned
 * into desired state: interfaces, services, backends, heartbeat timing, the
 * notify hook and the control socket. Syntax is libconfig; the schema is
 * documented in examples/steer.conf.
 *
 * Loading is all or nothing: xh_config_load() builds the result aside and
 * writes *out only on success, so a reload with a bad file leaves the
 * running configuration as it was. Every error names "FILE:LINE: reason".
 * Nothing here touches maps or the network; resolving MACs and interface
 * indexes is the caller's job at apply time.
 */
#ifndef XH_CONFIG_H
#define XH_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "xh_abi.h"
#include "loader.h"
#include "svc.h"

#define XH_CFG_SOCKET_DEFAULT	"/run/xdpha/xdpha.sock"
#define XH_CFG_SOCKET_MAX	108	/* sizeof(sockaddr_un.sun_path) */
#define XH_CFG_MAX_SERVICES	(XH_MAX_SERVICES - 1)	/* ids 1..255 */

/* One backend of a service, in file order. */
struct xh_cfg_backend {
	__be32 addr[4];		/* see xh_abi.h for the IPv4 layout */
	__u8 family;		/* enum xh_family, always the VIP's */
	__u8 state;		/* enum xh_bk_state: UP, DRAIN or DOWN */
	__u8 tier;		/* 0 is best; default 0 (active-active) or
				 * the position in the list (active-standby) */
	__u8 mac[6];		/* next hop, valid if have_mac */
	bool have_mac;		/* false: resolve by neighbour lookup */
	bool heartbeat;		/* run a BFD session to addr */
	__u16 weight;		/* Maglev weight, 1..65535 */
	char via[IF_NAMESIZE];	/* egress device, "" = the service's */
	int line;		/* where the backend starts, for messages */
};

/* One service (VIP) and its backends. */
struct xh_cfg_service {
	struct xh_svc_spec vip;
	char name[96];		/* vip as xh_svc_format() prints it */
	char iface[IF_NAMESIZE];	/* steering interface it is served on;
					 * always one of xh_cfg.ifaces */
	__u8 mode;		/* enum xh_svc_mode */
	__u8 fwd;		/* enum xh_fwd */
	__u8 encap_family;	/* enum xh_family, XH_FAM_NONE: not given */
	__be32 encap_src[4];	/* outer source for XH_FWD_IPIP */
	__u32 table_size;	/* prime Maglev table size */
	struct xh_cfg_backend *backends;
	unsigned int n_backends;	/* 0..XH_MAX_SVC_BACKENDS */
	int line;
};

#define XH_CFG_MAX_GROUPS	16	/* XM_MAX_GROUPS */
#define XH_CFG_MAX_GROUP_VIPS	8
#define XH_CFG_MAX_PEERS	8	/* XE_MAX_PEERS */
#define XH_CFG_MAX_DECAP	16	/* XM_MAX_DECAP_SRCS */

struct xh_cfg_addr {
	__be32 addr[4];
	__u8 family;
};

/* One interface the controller attaches to. */
struct xh_cfg_iface {
	char name[IF_NAMESIZE];
	enum xh_role role;	/* one role per file: steer or member */
	enum xh_mode mode;	/* XDP attach mode */
	__be32 addr4;		/* BFD source toward IPv4 backends */
	__be32 addr6[4];	/* BFD source toward IPv6 backends */
	bool have_addr6;
	__u32 flows;		/* confirmed flow table size */
	__u32 flows_new;	/* unconfirmed flow table size */
	/* member: outer sources we decapsulate IP-in-IP from */
	struct xh_cfg_addr decap[XH_CFG_MAX_DECAP];
	unsigned int n_decap;
	int line;
};

/* A member's VIP group: one election among the members listed. */
struct xh_cfg_group {
	char name[64];
	__u32 id;		/* 1..255, the same on every member */
	char iface[IF_NAMESIZE];
	struct xh_cfg_addr vips[XH_CFG_MAX_GROUP_VIPS];
	unsigned int n_vips;
	__u8 priority;		/* 1..254, higher wins */
	struct xh_cfg_addr peers[XH_CFG_MAX_PEERS];
	unsigned int n_peers;
	bool preempt;
	bool arbiter;		/* only promote/demote change ownership */
	__u32 hold_down_ms;	/* back this long before preempting */
	__u32 startup_ms;	/* wait for peers before claiming */
	__u32 advert_ms;	/* advert refresh interval */
	__u32 announce_count;	/* gratuitous ARP / unsolicited NA */
	__u32 announce_ms;
	int line;
};

/* mirror { }: the flow table mirrored with a peer steering node. */
struct xh_cfg_mirror {
	bool enabled;
	char iface[IF_NAMESIZE];	/* the NIC it runs on */
	struct xh_cfg_addr peer;	/* the other steering node */
	__u32 node_id, peer_id;		/* 0: derived from the addresses */
	__u32 stream;			/* base stream id (default 1) */
	int transport;			/* enum xh_mlink_xport */
	char key[65];			/* HMAC secret, "" = none */
	int line;
};

struct xh_cfg {
	char path[PATH_MAX];		/* the file this came from */

	/* controller { } */
	char socket[XH_CFG_SOCKET_MAX];	/* control socket path */
	int log_level;			/* enum xh_log_level */
	char notify_prog[PATH_MAX];	/* absolute; "" = no notify hook */
	char **notify_args;		/* n_notify_args strings, then NULL;
					 * NULL when there are none */
	unsigned int n_notify_args;
	__u32 notify_timeout_ms;	/* hook is killed after this */
	char checkpoint_dir[PATH_MAX];	/* "" = none */

	/* heartbeat { }: BFD timing and membership policy, all in ms */
	__u32 hb_interval_ms;	/* desired min tx = required min rx */
	__u32 hb_mult;		/* detect multiplier */
	__u32 hold_down_ms;	/* Up this long before taking traffic again */
	bool preempt;		/* a better tier takes traffic back */
	__u32 preempt_delay_ms;	/* extra wait before preempting */
	__u32 drain_timeout_ms;	/* drained backend's flows cut; 0 = idle */
	__u32 slow_start_ms;	/* BFD transmit interval while not Up */

	struct xh_cfg_iface *ifaces;		/* at least one */
	unsigned int n_ifaces;
	struct xh_cfg_service *services;	/* file order */
	unsigned int n_services;
	struct xh_cfg_mirror mirror;		/* steer role */
	struct xh_cfg_group *groups;		/* member role; file order */
	unsigned int n_groups;
	enum xh_role role;			/* of every interface */
};

/*
 * Read and check the file at path. On success fill *out (which is
 * overwritten, not freed: pass a fresh struct, then swap it with the
 * running one) and return 0. On failure *out is not touched, err gets
 * "FILE:LINE: reason" (or "FILE: reason" when no line applies), and the
 * return is -ENOENT/-EACCES/... when the file cannot be opened, -EINVAL
 * when it is not a valid configuration, -ENOMEM.
 */
int xh_config_load(const char *path, struct xh_cfg *out, char *err,
		   size_t errlen);

/* Release what xh_config_load() allocated; cfg is zeroed after. */
void xh_config_free(struct xh_cfg *cfg);

/* The interface named name, or NULL. */
const struct xh_cfg_iface *xh_config_iface(const struct xh_cfg *cfg,
					   const char *name);

#endif /* XH_CONFIG_H */
