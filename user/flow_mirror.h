/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * flow_mirror.h - the steering node's flow table, mirrored with a peer
 * steering node (mirror { } in the configuration): the data path reports
 * every confirmed flow on the ring buffer xh_flow_ev; we send it to the
 * peer, and apply the peer's flows to our xh_flows_v1, so that after a
 * takeover every established flow keeps its backend. Records name the
 * backend by address, not by this node's map id, so two nodes whose ids
 * differ (a backend added by hand on one) still agree.
 */
#ifndef XH_FLOW_MIRROR_H
#define XH_FLOW_MIRROR_H

#include <json-c/json.h>
#include "config.h"
#include "loader.h"
#include "tables.h"

/* Mirror record value: the backend of the flow in the key. */
struct xh_flow_rec {
	__be32 backend[4];
	__u8 family;
	__u8 pad[3];
};

struct xh_flow_mirror;

int xh_flow_mirror_open(const struct xh_cfg *cfg, const struct xh_dev *d,
			const struct xh_steer_maps *m,
			struct xh_flow_mirror **out);
void xh_flow_mirror_close(struct xh_flow_mirror *fm);
/* Two fds to poll: the transport's and the ring buffer's. */
int xh_flow_mirror_fd(const struct xh_flow_mirror *fm);
int xh_flow_mirror_rb_fd(const struct xh_flow_mirror *fm);
/* Drain the ring buffer, handle frames and timers. */
void xh_flow_mirror_poll(struct xh_flow_mirror *fm, __u64 now);
struct json_object *xh_flow_mirror_json(struct xh_flow_mirror *fm,
					__u64 now);

#endif
