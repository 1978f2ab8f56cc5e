/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * svc.h - services and backends as an operator names them, on top of the
 * maps: add, delete, change state, list. Every change that affects backend
 * choice ends in one table swap (tables.c). Returns 0 or -errno; errors are
 * also explained on stderr.
 */
#ifndef XH_SVC_H
#define XH_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "xh_abi.h"
#include "tables.h"

/* A service as written on the command line: ADDR[:PORT]/PROTO, IPv6 in
 * brackets when a port is given: 10.0.0.1:80/tcp, [fd00::1]:53/udp,
 * 10.0.0.1/icmp, 10.0.0.1:0/udp (every port). */
struct xh_svc_spec {
	__be32 addr[4];
	__u8 family;
	__u8 proto;
	__u16 port;		/* host order */
};

struct xh_svc_cfg {
	__u8 fwd;		/* enum xh_fwd */
	__u8 mode;		/* enum xh_svc_mode */
	__u32 table_size;
	__be32 encap_src[4];
	__u8 encap_family;	/* 0: none given */
};

struct xh_bk_cfg {
	__be32 addr[4];
	__u8 family;
	__u8 mac[6];
	bool have_mac;
	__u32 ifindex;		/* egress device, 0 = the attach device */
	__u16 weight;
	int tier;		/* -1: next free (active-standby) or 0 */
	__u8 state;
	__u64 detect_ns;
};

int xh_addr_parse(const char *txt, __be32 addr[4], __u8 *family);
void xh_addr_format(const __be32 addr[4], __u8 family, char *buf, size_t sz);
int xh_svc_parse(const char *txt, struct xh_svc_spec *s);
void xh_svc_format(const struct xh_svc_spec *s, char *buf, size_t sz);
const char *xh_proto_name(__u8 proto);
const char *xh_state_name(__u8 state);
int xh_state_parse(const char *txt, __u8 *state);
int xh_mac_parse(const char *txt, __u8 mac[6]);

int xh_service_add(const struct xh_steer_maps *m, const struct xh_svc_spec *s,
		   const struct xh_svc_cfg *c, __u32 *id_out);
/* The service owning exactly this key (a FRAG_ONLY entry is not one). */
int xh_service_find(const struct xh_steer_maps *m,
		    const struct xh_svc_spec *s, __u32 *id_out);
int xh_service_del(const struct xh_steer_maps *m, const struct xh_svc_spec *s);
/* The VIP key of service id (its own, not a FRAG_ONLY alias). */
int xh_service_spec(const struct xh_steer_maps *m, __u32 id,
		    struct xh_svc_spec *s);

int xh_backend_add(const struct xh_steer_maps *m, __u32 svc_id,
		   const struct xh_bk_cfg *c, __u32 *id_out);
int xh_backend_find(const struct xh_steer_maps *m, __u32 svc_id,
		    const __be32 addr[4], __u8 family, __u32 *id_out);
int xh_backend_set_state(const struct xh_steer_maps *m, __u32 svc_id,
			 __u32 id, __u8 state);
int xh_backend_del(const struct xh_steer_maps *m, __u32 svc_id, __u32 id);

/* Rebuild the service's table and backend list from the maps. */
int xh_service_rebuild(const struct xh_steer_maps *m, __u32 svc_id);

#endif
