// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * testlib.c - packet builder and steering-program fixture; see testlib.h.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "testlib.h"
#include "xh_hash.h"
#include "steer.skel.h"

const __u8 mac_client[6] = { 0x02, 0xcc, 0, 0, 0, 0x01 };
const __u8 mac_steer[6] = { 0x02, 0x5e, 0, 0, 0, 0x01 };

static __u32 csum_add(__u32 sum, const void *p, size_t len)
{
	const __u8 *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (len & 1)
		sum += b[len - 1] << 8;
	return sum;
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

bool ipv4_csum_ok(const __u8 *iph, size_t len)
{
	return csum_fold(csum_add(0, iph, len)) == 0;
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

size_t pkt_build(const struct pkt_spec *s, __u8 *buf)
{
	__u8 saddr[16] = {}, daddr[16] = {};
	int alen = s->family == 6 ? 16 : 4;
	size_t off = 0, l3, l4, l4len, iphl = 0;
	__u32 sum;

	inet_pton(s->family == 6 ? AF_INET6 : AF_INET, s->src, saddr);
	inet_pton(s->family == 6 ? AF_INET6 : AF_INET, s->dst, daddr);
	memset(buf, 0, PKT_MAX);
	memcpy(buf, mac_steer, 6);
	memcpy(buf + 6, mac_client, 6);
	off = 12;
	if (s->vlan > 0) {
		put16(buf + off, 0x8100);
		put16(buf + off + 2, s->vlan & 0xfff);
		off += 4;
	}
	put16(buf + off, s->family == 6 ? 0x86dd : 0x0800);
	off += 2;
	l3 = off;

	/* L4 header length */
	if (s->no_l4)
		l4len = 0;
	else if (s->proto == IPPROTO_TCP)
		l4len = 20;
	else if (s->proto == IPPROTO_UDP)
		l4len = 8;
	else
		l4len = 8;	/* ICMP echo / anything else: 8 bytes */

	if (s->family == 4) {
		iphl = 20 + s->ip_opts;
		buf[l3] = 0x40 | (iphl / 4);
		buf[l3 + 1] = s->tos;
		put16(buf + l3 + 2, iphl + l4len + s->payload);
		put16(buf + l3 + 4, 0x1234);
		put16(buf + l3 + 6, s->frag_off | (s->df ? 0x4000 : 0));
		buf[l3 + 8] = 64;
		buf[l3 + 9] = s->proto;
		memcpy(buf + l3 + 12, saddr, 4);
		memcpy(buf + l3 + 16, daddr, 4);
		if (s->ip_opts) {
			/* NOPs then end of options: valid and harmless */
			memset(buf + l3 + 20, 1, s->ip_opts - 1);
			buf[l3 + 20 + s->ip_opts - 1] = 0;
		}
		put16(buf + l3 + 10, csum_fold(csum_add(0, buf + l3, iphl)));
	} else {
		size_t ext = (s->v6_hbh ? 8 : 0) + (s->v6_frag ? 8 : 0);
		__u8 *e = buf + l3 + 40;
		__u8 first = s->v6_hbh ? 0 : s->v6_frag ? 44 : s->proto;

		iphl = 40 + ext;
		buf[l3] = 0x60 | (s->tos >> 4);
		buf[l3 + 1] = (s->tos << 4) | 0x0a;	/* flow label 0xabcde */
		buf[l3 + 2] = 0xbc;
		buf[l3 + 3] = 0xde;
		put16(buf + l3 + 4, ext + l4len + s->payload);
		buf[l3 + 6] = first;
		buf[l3 + 7] = 64;
		memcpy(buf + l3 + 8, saddr, 16);
		memcpy(buf + l3 + 24, daddr, 16);
		if (s->v6_hbh) {
			e[0] = s->v6_frag ? 44 : s->proto;
			e[1] = 0;		/* 8 bytes */
			e[2] = 1;		/* PadN */
			e[3] = 4;
			e += 8;
		}
		if (s->v6_frag) {
			e[0] = s->proto;
			put16(e + 2, s->v6_frag_off);
			e[4] = 0xde; e[5] = 0xad; e[6] = 0xbe; e[7] = 0xef;
		}
	}
	l4 = l3 + iphl;
	if (l4len && s->proto == IPPROTO_TCP) {
		put16(buf + l4, s->sport);
		put16(buf + l4 + 2, s->dport);
		put16(buf + l4 + 4, 0x1000);	/* seq */
		buf[l4 + 12] = 5 << 4;
		buf[l4 + 13] = s->tcp_flags;
		put16(buf + l4 + 14, 65535);
	} else if (l4len && s->proto == IPPROTO_UDP) {
		put16(buf + l4, s->sport);
		put16(buf + l4 + 2, s->dport);
		put16(buf + l4 + 4, l4len + s->payload);
	} else if (l4len) {
		buf[l4] = s->family == 6 ? 128 : 8;	/* echo request */
		put16(buf + l4 + 4, s->sport);		/* id */
	}
	memset(buf + l4 + l4len, 0xa5, s->payload);
	/* L4 checksum with the pseudo-header, as a real sender would. */
	if (l4len && !s->frag_off && !s->v6_frag) {
		size_t len = l4len + s->payload;
		__u8 ph[4] = { 0, s->proto, (__u8)(len >> 8), (__u8)len };
		int coff = s->proto == IPPROTO_TCP ? 16 :
			   s->proto == IPPROTO_UDP ? 6 : 2;

		sum = 0;
		if (s->proto != IPPROTO_ICMP) {
			sum = csum_add(sum, saddr, alen);
			sum = csum_add(sum, daddr, alen);
			sum = csum_add(sum, ph, 4);
		}
		sum = csum_add(sum, buf + l4, len);
		put16(buf + l4 + coff, csum_fold(sum));
	}
	return l4 + l4len + s->payload;
}

void pkt_flow_key(const struct pkt_spec *s, struct xh_flow_key *k)
{
	bool no_ports = s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6 ||
			s->frag_off || s->v6_hbh || s->v6_frag || s->no_l4;

	memset(k, 0, sizeof(*k));
	k->family = s->family;
	k->proto = s->proto;
	inet_pton(s->family == 6 ? AF_INET6 : AF_INET, s->src, k->src);
	inet_pton(s->family == 6 ? AF_INET6 : AF_INET, s->dst, k->dst);
	if (!no_ports) {
		k->sport = htons(s->sport);
		k->dport = htons(s->dport);
	}
}

int fx_open(struct steer_fx *fx, __u32 flows, __u32 flown)
{
	struct steer_bpf *skel;
	int err;

	memset(fx, 0, sizeof(*fx));
	skel = steer_bpf__open();
	if (!skel)
		return -errno;
	if (flows)
		bpf_map__set_max_entries(skel->maps.xh_flows_v1, flows);
	if (flown)
		bpf_map__set_max_entries(skel->maps.xh_flown_v1, flown);
	err = steer_bpf__load(skel);
	if (err) {
		steer_bpf__destroy(skel);
		return err;
	}
	fx->skel = skel;
	fx->prog_fd = bpf_program__fd(skel->progs.xdpha_steer);
	fx->m.vips = bpf_map__fd(skel->maps.xh_vips_v1);
	fx->m.services = bpf_map__fd(skel->maps.xh_services_v1);
	fx->m.backends = bpf_map__fd(skel->maps.xh_backends_v1);
	fx->m.svc_bk = bpf_map__fd(skel->maps.xh_svc_bk_v1);
	fx->m.maglev = bpf_map__fd(skel->maps.xh_maglev_v1);
	fx->m.flows = bpf_map__fd(skel->maps.xh_flows_v1);
	fx->m.flown = bpf_map__fd(skel->maps.xh_flown_v1);
	fx->m.ifaces = bpf_map__fd(skel->maps.xh_ifaces_v1);
	fx->m.tx_ports = bpf_map__fd(skel->maps.xh_tx_ports);
	fx->m.stats = bpf_map__fd(skel->maps.xh_stats);
	fx->m.svc_stats = bpf_map__fd(skel->maps.xh_svc_stats);
	fx->m.bk_stats = bpf_map__fd(skel->maps.xh_bk_stats);
	fx->m.chain = bpf_map__fd(skel->maps.xh_chain);
	fx->m.bfd = bpf_map__fd(skel->maps.xh_bfd_v1);
	return 0;
}

void fx_close(struct steer_fx *fx)
{
	steer_bpf__destroy(fx->skel);
	fx->skel = NULL;
}

static int parse_addr(const char *txt, __be32 addr[4], __u8 *family)
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

int fx_add_service(struct steer_fx *fx, __u32 id, const char *vip,
		   __u16 port, __u8 proto, __u8 fwd, const char *encap_src,
		   __u8 flags)
{
	struct xh_vip_key k = {};
	struct xh_service s = {};
	struct xh_vip v = { .svc_id = id, .flags = flags };
	__u8 fam;

	if (parse_addr(vip, k.addr, &k.family))
		return -EINVAL;
	k.port = htons(port);
	k.proto = proto;
	s.id = id;
	s.table_size = XH_MAGLEV_DEFAULT;
	s.fwd = fwd;
	s.family = k.family;
	if (encap_src && parse_addr(encap_src, s.encap_src, &fam))
		return -EINVAL;
	if (bpf_map_update_elem(fx->m.services, &id, &s, BPF_ANY))
		return -errno;
	return bpf_map_update_elem(fx->m.vips, &k, &v, BPF_ANY) ? -errno : 0;
}

void mac_of_backend(__u32 id, __u8 mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0xbb;
	mac[2] = 0;
	mac[3] = 0;
	mac[4] = id >> 8;
	mac[5] = id & 0xff;
}

int fx_add_backend(struct steer_fx *fx, __u32 id, __u32 svc_id,
		   const char *addr, __u8 tier, __u16 weight, __u8 state,
		   __u32 ifindex, __u64 detect_ns)
{
	struct xh_backend b = {};

	if (parse_addr(addr, b.addr, &b.family))
		return -EINVAL;
	mac_of_backend(id, b.mac);
	b.state = state;
	b.ifindex = ifindex;
	b.svc_id = svc_id;
	b.weight = weight;
	b.tier = tier;
	b.detect_ns = detect_ns;
	b.last_seen_ns = xh_now_ns();
	return bpf_map_update_elem(fx->m.backends, &id, &b, BPF_ANY) ? -errno : 0;
}

int fx_set_backend(struct steer_fx *fx, __u32 id, __u8 state,
		   __u64 last_seen_ns)
{
	struct xh_backend b;

	if (bpf_map_lookup_elem(fx->m.backends, &id, &b))
		return -errno;
	b.state = state;
	b.last_seen_ns = last_seen_ns;
	return bpf_map_update_elem(fx->m.backends, &id, &b, BPF_ANY) ? -errno : 0;
}

int fx_rebuild(struct steer_fx *fx, __u32 svc_id, __u32 size, __u32 *tab)
{
	struct xh_service s;
	int err;

	err = xh_svc_rebuild(&fx->m, svc_id, size, tab);
	if (err)
		return err;
	/* The table size lives in the service: keep it in step. */
	if (bpf_map_lookup_elem(fx->m.services, &svc_id, &s))
		return -errno;
	s.table_size = size;
	return bpf_map_update_elem(fx->m.services, &svc_id, &s, 0) ? -errno : 0;
}

int fx_run(struct steer_fx *fx, const void *in, __u32 len, void *out,
	   __u32 *out_len, __u32 *retval)
{
	__u8 scratch[PKT_MAX + 256];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in,
		.data_size_in = len,
		.data_out = out ? out : scratch,
		.data_size_out = out ? PKT_MAX + 256 : sizeof(scratch),
		.repeat = 1,
	);
	int err;

	err = bpf_prog_test_run_opts(fx->prog_fd, &opts);
	if (err)
		return -errno;
	if (out_len)
		*out_len = opts.data_size_out;
	*retval = opts.retval;
	return 0;
}

__u32 fx_send(struct steer_fx *fx, const struct pkt_spec *s, __u32 *retval)
{
	__u8 in[PKT_MAX], out[PKT_MAX + 256];
	__u32 len = pkt_build(s, in), olen = 0;

	*retval = (__u32)-1;
	if (fx_run(fx, in, len, out, &olen, retval))
		return 0;
	if (*retval != 3 /* XDP_TX */ && *retval != 4 /* XDP_REDIRECT */)
		return 0;
	if (out[0] != 0x02 || out[1] != 0xbb)
		return 0;
	return ((__u32)out[4] << 8) | out[5];
}

__u64 fx_ctr(struct steer_fx *fx, __u32 id)
{
	struct xh_ctr c[XH_CTR_MAX] = {};

	if (id >= XH_CTR_MAX || xh_stats_read(fx->m.stats, c))
		return (__u64)-1;
	return c[id].packets;
}

static bool model_live(struct steer_fx *fx, __u32 id, __u32 svc_id,
		       struct xh_backend *out)
{
	struct xh_backend b;

	if (!id || bpf_map_lookup_elem(fx->m.backends, &id, &b))
		return false;
	if (b.svc_id != svc_id || !xh_backend_live(&b, xh_now_ns()))
		return false;
	if (out)
		*out = b;
	return true;
}

__u32 model_choose(struct steer_fx *fx, __u32 svc_id, const __u32 *tab,
		   __u32 m, __u32 hash)
{
	struct xh_svc_backends list;
	__u32 i, best = 0, best_score = 0, best_tier = 256;

	for (i = 0; i <= XH_REHASH_TRIES; i++) {
		__u32 idx = (i ? xh_rehash(hash, i) : hash) % m;

		if (model_live(fx, tab[idx], svc_id, NULL))
			return tab[idx];
	}
	if (bpf_map_lookup_elem(fx->m.svc_bk, &svc_id, &list))
		return 0;
	for (i = 0; i < list.count; i++) {
		struct xh_backend b;
		__u32 score;

		if (!model_live(fx, list.ids[i], svc_id, &b) ||
		    b.tier > best_tier)
			continue;
		score = xh_hrw_score(hash, list.ids[i]);
		if (b.tier < best_tier || score > best_score) {
			best_tier = b.tier;
			best_score = score;
			best = list.ids[i];
		}
	}
	return best;
}
