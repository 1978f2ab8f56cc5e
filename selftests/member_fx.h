/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * member_fx.h - member-program fixture and frame builders for
 * prog_tests/member.c: open the skeleton, write VIPs, groups, sessions
 * and decap sources, run frames, and read counters. The tunnel builders
 * follow bpf/encap.h field by field, so a test states independently what
 * the steering node sends.
 */
#ifndef XM_MEMBER_FX_H
#define XM_MEMBER_FX_H

#include <errno.h>
#include <unistd.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xm_abi.h"
#include "testlib.h"
#include "tables.h"
#include "member.skel.h"

struct member_fx {
	struct member_bpf *skel;
	int prog_fd;
	int vips, groups, bfd, decap, xsks, stats, chain;
};

static inline int mfx_open(struct member_fx *fx)
{
	memset(fx, 0, sizeof(*fx));
	fx->skel = member_bpf__open_and_load();
	if (!fx->skel)
		return -errno;
	fx->prog_fd = bpf_program__fd(fx->skel->progs.xdpha_member);
	fx->vips = bpf_map__fd(fx->skel->maps.xm_vips_v1);
	fx->groups = bpf_map__fd(fx->skel->maps.xm_groups_v1);
	fx->bfd = bpf_map__fd(fx->skel->maps.xm_bfd_v1);
	fx->decap = bpf_map__fd(fx->skel->maps.xm_decap_v1);
	fx->xsks = bpf_map__fd(fx->skel->maps.xm_xsks);
	fx->stats = bpf_map__fd(fx->skel->maps.xm_stats);
	fx->chain = bpf_map__fd(fx->skel->maps.xm_chain);
	return 0;
}

static inline void mfx_close(struct member_fx *fx)
{
	member_bpf__destroy(fx->skel);
	fx->skel = NULL;
}

/* Text address -> the ABI's __be32[4] and enum xh_family. */
static inline int mfx_addr(const char *txt, __be32 addr[4], __u8 *family)
{
	memset(addr, 0, 16);
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

static inline int mfx_add_vip(struct member_fx *fx, const char *addr,
			      __u32 group)
{
	struct xm_vip_key k = {};
	struct xm_vip v = { .group = group };

	if (mfx_addr(addr, k.addr, &k.family))
		return -EINVAL;
	return bpf_map_update_elem(fx->vips, &k, &v, BPF_ANY) ? -errno : 0;
}

static inline int mfx_add_decap(struct member_fx *fx, const char *addr)
{
	struct xm_decap_key k = {};
	__u32 one = 1;

	if (mfx_addr(addr, k.addr, &k.family))
		return -EINVAL;
	return bpf_map_update_elem(fx->decap, &k, &one, BPF_ANY) ? -errno : 0;
}

static inline int mfx_set_group(struct member_fx *fx, __u32 gid,
				const struct xm_group *g)
{
	return bpf_map_update_elem(fx->groups, &gid, g, BPF_ANY) ? -errno : 0;
}

/* Set only the state of a group, keeping the rest. */
static inline int mfx_set_state(struct member_fx *fx, __u32 gid, __u8 state)
{
	struct xm_group g;

	if (bpf_map_lookup_elem(fx->groups, &gid, &g))
		return -errno;
	g.state = state;
	return mfx_set_group(fx, gid, &g);
}

static inline struct xm_group mfx_group(struct member_fx *fx, __u32 gid)
{
	struct xm_group g;

	memset(&g, 0xff, sizeof(g));
	bpf_map_lookup_elem(fx->groups, &gid, &g);
	return g;
}

/* Run one frame; out may be NULL. */
static inline int mfx_run(struct member_fx *fx, const void *in, __u32 len,
			  void *out, __u32 *out_len, __u32 *retval)
{
	__u8 scratch[PKT_MAX + 256];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in,
		.data_size_in = len,
		.data_out = out ? out : scratch,
		.data_size_out = PKT_MAX + 256,
		.repeat = 1,
	);

	if (bpf_prog_test_run_opts(fx->prog_fd, &opts))
		return -errno;
	if (out_len)
		*out_len = opts.data_size_out;
	*retval = opts.retval;
	return 0;
}

/* Run one frame as if received on queue of device ifindex. */
static inline int mfx_run_on(struct member_fx *fx, __u32 ifindex, __u32 queue,
			     const void *in, __u32 len, __u32 *retval)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex,
			      .rx_queue_index = queue };
	__u8 out[PKT_MAX + 256];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in,
		.data_size_in = len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = 1,
	);

	if (bpf_prog_test_run_opts(fx->prog_fd, &opts))
		return -errno;
	*retval = opts.retval;
	return 0;
}

/* A bare AF_XDP socket bound (copy mode) to queue of ifindex: enough to
 * stand in an XSKMAP. Nothing is ever received on it. */
struct mfx_xsk {
	int fd;
	void *umem;
};

#define MFX_UMEM_LEN	(16 * 4096)

static inline int mfx_xsk_open(struct mfx_xsk *x, __u32 ifindex, __u32 queue)
{
	struct xdp_umem_reg mr = { .len = MFX_UMEM_LEN, .chunk_size = 4096 };
	struct sockaddr_xdp sxdp = { .sxdp_family = AF_XDP,
				     .sxdp_ifindex = ifindex,
				     .sxdp_queue_id = queue,
				     .sxdp_flags = XDP_COPY };
	int n = 64, err = 0;

	x->umem = mmap(NULL, MFX_UMEM_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->umem == MAP_FAILED) {
		x->umem = NULL;
		x->fd = -1;
		return -errno;
	}
	mr.addr = (__u64)(unsigned long)x->umem;
	x->fd = socket(AF_XDP, SOCK_RAW, 0);
	if (x->fd < 0 ||
	    setsockopt(x->fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)) ||
	    setsockopt(x->fd, SOL_XDP, XDP_UMEM_FILL_RING, &n, sizeof(n)) ||
	    setsockopt(x->fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &n,
		       sizeof(n)) ||
	    setsockopt(x->fd, SOL_XDP, XDP_RX_RING, &n, sizeof(n)) ||
	    bind(x->fd, (struct sockaddr *)&sxdp, sizeof(sxdp)))
		err = -errno;
	return err;
}

static inline void mfx_xsk_close(struct mfx_xsk *x)
{
	if (x->fd >= 0)
		close(x->fd);
	if (x->umem)
		munmap(x->umem, MFX_UMEM_LEN);
	x->fd = -1;
	x->umem = NULL;
}

/* All counters, summed over CPUs ((__u64)-1 when unreadable). */
static inline void mfx_ctrs(struct member_fx *fx, __u64 out[XM_CTR_MAX])
{
	struct xh_ctr c;
	__u32 i;

	for (i = 0; i < XM_CTR_MAX; i++)
		out[i] = xh_ctr_read(fx->stats, i, &c) ? (__u64)-1 : c.packets;
}

static inline __u64 mfx_ctr(struct member_fx *fx, __u32 id)
{
	struct xh_ctr c;

	return xh_ctr_read(fx->stats, id, &c) ? (__u64)-1 : c.packets;
}

/* The verdict counters: everything but RX (summed by user space) and
 * TAKEOVER (an event beside a verdict). */
static inline bool mfx_is_verdict(__u32 id)
{
	return id != XM_CTR_RX && id != XM_CTR_TAKEOVER;
}

/* Length of the IP packet at ip, from its own header. */
static inline __u32 mfx_ip_len(const __u8 *ip)
{
	if ((ip[0] >> 4) == 6)
		return 40 + (((__u32)ip[4] << 8) | ip[5]);
	return ((__u32)ip[2] << 8) | ip[3];
}

/* Prepend an outer IPv4 header to the IP packet at in + l2 as
 * xh_encap_v4() does: tos copied, DF copied, id 0, TTL 64, checksum; the
 * protocol is 4 for an IPv4 inner packet, 41 for IPv6 (6in4, which the
 * steering node never sends). in[0..l2) is kept, the ethertype set to
 * IPv4. Returns the length. */
static inline __u32 mfx_encap4(const __u8 *in, __u32 len, __u32 l2,
			       const char *src, const char *dst, __u8 *out)
{
	const __u8 *ip = in + l2;
	__u8 *o = out + l2;
	__u32 ip_len = mfx_ip_len(ip), sum = 0, i;
	bool v6 = (ip[0] >> 4) == 6;

	memcpy(out, in, l2);
	out[l2 - 2] = 0x08;
	out[l2 - 1] = 0x00;
	memset(o, 0, 20);
	o[0] = 0x45;
	o[1] = v6 ? (__u8)((ip[0] << 4) | (ip[1] >> 4)) : ip[1];
	o[2] = (ip_len + 20) >> 8;
	o[3] = (ip_len + 20) & 0xff;
	o[6] = v6 ? 0 : ip[6] & 0x40;
	o[8] = 64;
	o[9] = v6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
	inet_pton(AF_INET, src, o + 12);
	inet_pton(AF_INET, dst, o + 16);
	for (i = 0; i < 20; i += 2)
		sum += (o[i] << 8) | o[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	o[10] = sum >> 8;
	o[11] = sum & 0xff;
	memcpy(o + 20, ip, len - l2);
	return len + 20;
}

/* Prepend an outer IPv6 header as xh_encap_v6() does: traffic class
 * copied, a flow label, hop limit 64; next header 41 for an IPv6 inner
 * packet, 4 for IPv4 (4in6, never sent by the steering node). */
static inline __u32 mfx_encap6(const __u8 *in, __u32 len, __u32 l2,
			       const char *src, const char *dst, __u8 *out)
{
	const __u8 *ip = in + l2;
	__u8 *o = out + l2;
	__u32 ip_len = mfx_ip_len(ip);
	bool v6 = (ip[0] >> 4) == 6;
	__u8 tc = v6 ? (__u8)((ip[0] << 4) | (ip[1] >> 4)) : ip[1];

	memcpy(out, in, l2);
	out[l2 - 2] = 0x86;
	out[l2 - 1] = 0xdd;
	memset(o, 0, 40);
	o[0] = 0x60 | (tc >> 4);
	o[1] = (__u8)(tc << 4) | 0x01;
	o[2] = 0x23;
	o[3] = 0x45;
	o[4] = ip_len >> 8;
	o[5] = ip_len & 0xff;
	o[6] = v6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
	o[7] = 64;
	inet_pton(AF_INET6, src, o + 8);
	inet_pton(AF_INET6, dst, o + 24);
	memcpy(o + 40, ip, len - l2);
	return len + 40;
}

/* An Ethernet ARP frame (42 bytes, 46 with a tag): op 1 request, 2 reply.
 * A gratuitous ARP has spa == tpa. */
static inline __u32 mfx_arp(__u8 *buf, __u16 op, const char *spa,
			    const char *tpa, int vlan)
{
	static const __u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	__u8 *a;
	__u32 l2 = vlan > 0 ? 18 : 14;

	memset(buf, 0, PKT_MAX);
	memcpy(buf, op == 1 ? bcast : mac_steer, 6);
	memcpy(buf + 6, mac_client, 6);
	if (vlan > 0) {
		buf[12] = 0x81;
		buf[13] = 0x00;
		buf[14] = (vlan >> 8) & 0x0f;
		buf[15] = vlan & 0xff;
	}
	buf[l2 - 2] = 0x08;
	buf[l2 - 1] = 0x06;
	a = buf + l2;
	a[1] = 1;			/* Ethernet */
	a[2] = 0x08;			/* IPv4 */
	a[4] = 6;
	a[5] = 4;
	a[7] = op;
	memcpy(a + 8, mac_client, 6);
	inet_pton(AF_INET, spa, a + 14);
	if (op == 2)
		memcpy(a + 18, mac_steer, 6);
	inet_pton(AF_INET, tpa, a + 24);
	return l2 + 28;
}

/* An ICMPv6 neighbour solicitation (type 135) or advertisement (136) for
 * target, with a link-layer address option, hop limit 255. Other types
 * get the same layout, target where an NS has it (not ND: a decoy). */
static inline __u32 mfx_nd(__u8 *buf, __u8 type, const char *src,
			   const char *dst, const char *target)
{
	__u8 *ip = buf + 14, *icmp = ip + 40;
	__u32 sum = 0, i;

	memset(buf, 0, PKT_MAX);
	buf[0] = 0x33;
	buf[1] = 0x33;
	buf[2] = 0xff;
	memcpy(buf + 6, mac_client, 6);
	buf[12] = 0x86;
	buf[13] = 0xdd;
	ip[0] = 0x60;
	ip[5] = 32;
	ip[6] = IPPROTO_ICMPV6;
	ip[7] = 255;
	inet_pton(AF_INET6, src, ip + 8);
	inet_pton(AF_INET6, dst, ip + 24);
	icmp[0] = type;
	inet_pton(AF_INET6, target, icmp + 8);
	icmp[24] = type == 135 ? 1 : 2;	/* source / target LL address */
	icmp[25] = 1;
	memcpy(icmp + 26, mac_client, 6);
	/* checksum over the pseudo-header and the message */
	for (i = 0; i < 32; i += 2)
		sum += (ip[8 + i] << 8) | ip[9 + i];
	sum += 32 + IPPROTO_ICMPV6;
	for (i = 0; i < 32; i += 2)
		sum += (icmp[i] << 8) | icmp[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	icmp[2] = sum >> 8;
	icmp[3] = sum & 0xff;
	return 14 + 40 + 32;
}

#endif /* XM_MEMBER_FX_H */
