/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * tables.h - user space's side of the steering maps: publishing services,
 * backends and Maglev tables, and reading counters.
 *
 * Everything here writes aside and switches in one step: a new Maglev table
 * is a new inner map swapped into xh_maglev_v1, a backend list is one hash
 * map update. Functions return 0 or -errno.
 */
#ifndef XH_TABLES_H
#define XH_TABLES_H

#include <stdbool.h>
#include <linux/types.h>
#include "xh_abi.h"

/* File descriptors of the steering maps (from a skeleton or from pins). */
struct xh_steer_maps {
	int vips;
	int services;
	int backends;
	int svc_bk;
	int maglev;
	int flows;
	int flown;
	int ifaces;
	int tx_ports;
	int stats;
	int svc_stats;
	int bk_stats;
	int chain;
	int bfd;
};

/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns(). */
__u64 xh_now_ns(void);

/* Live for new flows, by the data path's own rule. */
bool xh_backend_live(const struct xh_backend *bk, __u64 now);

/* Create an inner table of size m holding table[], swap it in for svc_id. */
int xh_maglev_install(int maglev_fd, __u32 svc_id, const __u32 *table,
		      __u32 m);

/*
 * Rebuild a service's Maglev table and backend list from xh_backends_v1:
 * the table spreads over the backends live for new flows in the best tier
 * that has any; the list holds every backend of the service by (tier, id).
 * If tab_out is not NULL it receives the table (m entries, caller's
 * buffer), so tests can predict the data path's choice.
 */
int xh_svc_rebuild(const struct xh_steer_maps *m, __u32 svc_id, __u32 size,
		   __u32 *tab_out);

/* Sum a per-CPU counter over all CPUs. */
int xh_ctr_read(int map_fd, __u32 id, struct xh_ctr *sum);

/* All of xh_stats, summed over CPUs, with out[XH_CTR_RX] the sum of the
 * verdict counters (the data path does not count RX itself). */
int xh_stats_read(int stats_fd, struct xh_ctr out[XH_CTR_MAX]);

/* Names of enum xh_ctr_id values, NULL past the end. */
const char *xh_ctr_name(__u32 id);

#endif /* XH_TABLES_H */
