/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * testlib.h - packet builder and steering-program fixture for prog_tests.
 *
 * Packets are built field by field with real checksums, so a test states
 * the packet it means and the expected output is derived independently of
 * the program under test.
 */
#ifndef XH_TESTLIB_H
#define XH_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "xh_abi.h"
#include "tables.h"

#define PKT_MAX	2048

struct pkt_spec {
	int family;		/* 4 or 6 */
	const char *src, *dst;	/* addresses as text */
	__u8 proto;		/* IPPROTO_* */
	__u16 sport, dport;	/* host order */
	__u8 tcp_flags;		/* e.g. 0x02 SYN, 0x10 ACK */
	int vlan;		/* > 0: one 802.1Q tag with this VID */
	int ip_opts;		/* IPv4 option bytes (multiple of 4, <= 40) */
	__u16 frag_off;		/* IPv4 frag_off field, host order */
	bool v6_hbh;		/* add a hop-by-hop header */
	bool v6_frag;		/* add a fragment header */
	__u16 v6_frag_off;	/* fragment header offset/flags field */
	int payload;		/* L4 payload bytes */
	bool no_l4;		/* non-first fragment: no L4 header */
	__u8 tos;
	bool df;
};

extern const __u8 mac_client[6], mac_steer[6];

/* Build the frame; returns its length. */
size_t pkt_build(const struct pkt_spec *s, __u8 *buf);
/* The flow key the steering program derives from spec (no_ports rules). */
void pkt_flow_key(const struct pkt_spec *s, struct xh_flow_key *k);
/* One's-complement sum check of an IPv4 header: true if valid. */
bool ipv4_csum_ok(const __u8 *iph, size_t len);

struct steer_bpf;

struct steer_fx {
	struct steer_bpf *skel;
	struct xh_steer_maps m;
	int prog_fd;
};

/* Open and load steer.bpf.o with the given flow table sizes (0: default). */
int fx_open(struct steer_fx *fx, __u32 flows, __u32 flown);
void fx_close(struct steer_fx *fx);
int fx_add_service(struct steer_fx *fx, __u32 id, const char *vip,
		   __u16 port, __u8 proto, __u8 fwd, const char *encap_src,
		   __u8 flags);
/* A backend whose MAC is 02:bb:00:00:hi(id):lo(id), so the output frame
 * names the backend. detect_ns 0: no heartbeat. */
int fx_add_backend(struct steer_fx *fx, __u32 id, __u32 svc_id,
		   const char *addr, __u8 tier, __u16 weight, __u8 state,
		   __u32 ifindex, __u64 detect_ns);
int fx_set_backend(struct steer_fx *fx, __u32 id, __u8 state,
		   __u64 last_seen_ns);
int fx_rebuild(struct steer_fx *fx, __u32 svc_id, __u32 size, __u32 *tab);
/* Run one frame. out may be NULL. */
int fx_run(struct steer_fx *fx, const void *in, __u32 len, void *out,
	   __u32 *out_len, __u32 *retval);
/* Run a spec; returns the backend id named by the output dst MAC (for
 * XDP_TX/XDP_REDIRECT), 0 otherwise; *retval gets the verdict. */
__u32 fx_send(struct steer_fx *fx, const struct pkt_spec *s, __u32 *retval);
__u64 fx_ctr(struct steer_fx *fx, __u32 id);
void mac_of_backend(__u32 id, __u8 mac[6]);

/* What the data path must choose for a new flow (user-space model of
 * lb.h): Maglev entry, rehashes, then rendezvous over the best live tier. */
__u32 model_choose(struct steer_fx *fx, __u32 svc_id, const __u32 *tab,
		   __u32 m, __u32 hash);

#endif
