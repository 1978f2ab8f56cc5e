// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * svc.c - services and backends on top of the steering maps; see svc.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "svc.h"
#include "maglev.h"
#include "log.h"

int xh_addr_parse(const char *txt, __be32 addr[4], __u8 *family)
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

void xh_addr_format(const __be32 addr[4], __u8 family, char *buf, size_t sz)
{
	if (!inet_ntop(family == XH_FAM_V6 ? AF_INET6 : AF_INET, addr, buf, sz))
		snprintf(buf, sz, "?");
}

static const struct {
	const char *name;
	__u8 proto;
} protos[] = {
	{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP },
	{ "icmp", IPPROTO_ICMP }, { "icmpv6", IPPROTO_ICMPV6 },
};

const char *xh_proto_name(__u8 proto)
{
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].proto == proto)
			return protos[i].name;
	return "?";
}

static const char *const state_names[] = { "free", "up", "drain", "down" };

const char *xh_state_name(__u8 state)
{
	return state < 4 ? state_names[state] : "?";
}

int xh_state_parse(const char *txt, __u8 *state)
{
	__u8 i;

	for (i = XH_BK_UP; i <= XH_BK_DOWN; i++)
		if (!strcmp(txt, state_names[i])) {
			*state = i;
			return 0;
		}
	return -EINVAL;
}

int xh_mac_parse(const char *txt, __u8 mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (sscanf(txt, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		mac[i] = b[i];
	}
	return 0;
}

int xh_svc_parse(const char *txt, struct xh_svc_spec *s)
{
	char buf[128], *slash, *addr, *port = NULL, *end;
	unsigned long p = 0;
	size_t i;

	memset(s, 0, sizeof(*s));
	if (strlen(txt) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, txt);
	slash = strrchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash++ = 0;
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (!strcmp(slash, protos[i].name))
			s->proto = protos[i].proto;
	if (!s->proto)
		return -EINVAL;
	addr = buf;
	if (*addr == '[') {
		char *close = strchr(addr, ']');

		if (!close)
			return -EINVAL;
		*close = 0;
		addr++;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return -EINVAL;
	} else if (strchr(addr, ':') == strrchr(addr, ':') &&
		   strchr(addr, ':')) {
		port = strchr(addr, ':');	/* IPv4 with a port */
		*port++ = 0;
	}
	if (port) {
		errno = 0;
		p = strtoul(port, &end, 10);
		if (errno || !*port || *end || p > 65535)
			return -EINVAL;
	}
	if (xh_addr_parse(addr, s->addr, &s->family))
		return -EINVAL;
	if ((s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6) && p)
		return -EINVAL;		/* ICMP has no ports */
	if ((s->proto == IPPROTO_ICMP && s->family != XH_FAM_V4) ||
	    (s->proto == IPPROTO_ICMPV6 && s->family != XH_FAM_V6))
		return -EINVAL;
	s->port = p;
	return 0;
}

void xh_svc_format(const struct xh_svc_spec *s, char *buf, size_t sz)
{
	char a[INET6_ADDRSTRLEN];

	xh_addr_format(s->addr, s->family, a, sizeof(a));
	if (s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6)
		snprintf(buf, sz, "%s/%s", a, xh_proto_name(s->proto));
	else if (s->family == XH_FAM_V6)
		snprintf(buf, sz, "[%s]:%u/%s", a, s->port,
			 xh_proto_name(s->proto));
	else
		snprintf(buf, sz, "%s:%u/%s", a, s->port,
			 xh_proto_name(s->proto));
}

static void vip_key(const struct xh_svc_spec *s, __u16 port,
		    struct xh_vip_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, s->addr, 16);
	k->port = htons(port);
	k->proto = s->proto;
	k->family = s->family;
}

int xh_service_find(const struct xh_steer_maps *m,
		    const struct xh_svc_spec *s, __u32 *id_out)
{
	struct xh_vip_key k;
	struct xh_vip v;

	vip_key(s, s->port, &k);
	if (bpf_map_lookup_elem(m->vips, &k, &v) ||
	    (v.flags & XH_VIP_F_FRAG_ONLY))
		return -ENOENT;
	*id_out = v.svc_id;
	return 0;
}

int xh_service_spec(const struct xh_steer_maps *m, __u32 id,
		    struct xh_svc_spec *s)
{
	struct xh_vip_key k, next, *prev = NULL;
	struct xh_vip v;

	while (!bpf_map_get_next_key(m->vips, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(m->vips, &k, &v) || v.svc_id != id ||
		    (v.flags & XH_VIP_F_FRAG_ONLY))
			continue;
		memcpy(s->addr, k.addr, 16);
		s->family = k.family;
		s->proto = k.proto;
		s->port = ntohs(k.port);
		return 0;
	}
	return -ENOENT;
}

int xh_service_rebuild(const struct xh_steer_maps *m, __u32 svc_id)
{
	struct xh_service svc;

	if (bpf_map_lookup_elem(m->services, &svc_id, &svc) || !svc.id)
		return -ENOENT;
	return xh_svc_rebuild(m, svc_id, svc.table_size, NULL);
}

int xh_service_add(const struct xh_steer_maps *m, const struct xh_svc_spec *s,
		   const struct xh_svc_cfg *c, __u32 *id_out)
{
	struct xh_service svc = {}, cur;
	struct xh_vip_key k;
	struct xh_vip v = {}, fv;
	char name[96];
	__u32 id;
	int err;

	xh_svc_format(s, name, sizeof(name));
	vip_key(s, s->port, &k);
	if (!bpf_map_lookup_elem(m->vips, &k, &fv) &&
	    !(fv.flags & XH_VIP_F_FRAG_ONLY)) {
		pr_warn("service %s already exists\n", name);
		return -EEXIST;
	}
	if (!maglev_is_prime(c->table_size) || c->table_size > XH_MAGLEV_MAX) {
		pr_warn("table size %u is not a prime number <= %u\n",
			c->table_size, XH_MAGLEV_MAX);
		return -EINVAL;
	}
	if (c->fwd == XH_FWD_IPIP && !c->encap_family) {
		pr_warn("service %s: ipip forwarding needs --encap-src\n", name);
		return -EINVAL;
	}
	if (c->encap_family && c->encap_family != s->family) {
		pr_warn("service %s: encapsulation source is IPv%u, the VIP "
			"IPv%u (address family mismatch)\n", name,
			c->encap_family, s->family);
		return -EINVAL;
	}
	for (id = 1; id < XH_MAX_SERVICES; id++)
		if (!bpf_map_lookup_elem(m->services, &id, &cur) && !cur.id)
			break;
	if (id == XH_MAX_SERVICES) {
		pr_warn("no free service slot (%u services)\n",
			XH_MAX_SERVICES - 1);
		return -ENOSPC;
	}
	svc.id = id;
	svc.table_size = c->table_size;
	svc.fwd = c->fwd;
	svc.family = s->family;
	svc.mode = c->mode;
	memcpy(svc.encap_src, c->encap_src, 16);
	/* Table and backend list first, then the service, then the VIP: a
	 * packet finds the VIP only once everything behind it exists. */
	err = xh_svc_rebuild(m, id, c->table_size, NULL);
	if (err)
		goto fail;
	if (bpf_map_update_elem(m->services, &id, &svc, BPF_ANY)) {
		err = -errno;
		goto fail;
	}
	v.svc_id = id;
	if (bpf_map_update_elem(m->vips, &k, &v, BPF_ANY)) {
		err = -errno;
		goto fail;
	}
	/* Port-less packets (fragments, IPv6 extension headers) of this
	 * address find their service through the wildcard: if the address
	 * has none, this service becomes its owner. */
	if (s->port) {
		vip_key(s, 0, &k);
		fv.svc_id = id;
		fv.flags = XH_VIP_F_FRAG_ONLY;
		bpf_map_update_elem(m->vips, &k, &fv, BPF_NOEXIST);
	}
	*id_out = id;
	return 0;
fail:
	pr_warn("service %s: %s\n", name, strerror(-err));
	memset(&svc, 0, sizeof(svc));
	bpf_map_update_elem(m->services, &id, &svc, BPF_ANY);
	bpf_map_delete_elem(m->maglev, &id);
	bpf_map_delete_elem(m->svc_bk, &id);
	return err;
}

/* Delete the flows of a service from one flow table. */
static int purge_flows(int fd, __u32 svc_id)
{
	struct xh_flow_key k, next, *prev = NULL, *dead = NULL;
	struct xh_flow f;
	size_t n = 0, cap = 0, i;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &f) || f.svc_id != svc_id)
			continue;
		if (n == cap) {
			struct xh_flow_key *nd;

			cap = cap ? cap * 2 : 256;
			nd = realloc(dead, cap * sizeof(*dead));
			if (!nd) {
				free(dead);
				return -ENOMEM;
			}
			dead = nd;
		}
		dead[n++] = k;
	}
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &dead[i]);
	free(dead);
	return 0;
}

int xh_service_del(const struct xh_steer_maps *m, const struct xh_svc_spec *s)
{
	struct xh_vip_key k, next, *prev = NULL, *drop = NULL;
	struct xh_service svc = {};
	struct xh_backend bk;
	struct xh_vip v;
	char name[96];
	size_t n = 0, i;
	__u32 id, b;
	int err;

	xh_svc_format(s, name, sizeof(name));
	err = xh_service_find(m, s, &id);
	if (err) {
		pr_warn("no service %s\n", name);
		return err;
	}
	/* The VIP entries first: from here on no packet finds it. */
	drop = calloc(2 * XH_MAX_SERVICES, sizeof(*drop));
	if (!drop)
		return -ENOMEM;
	while (!bpf_map_get_next_key(m->vips, prev, &next)) {
		k = next;
		prev = &k;
		if (!bpf_map_lookup_elem(m->vips, &k, &v) && v.svc_id == id &&
		    n < 2 * XH_MAX_SERVICES)
			drop[n++] = k;
	}
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(m->vips, &drop[i]);
	free(drop);
	bpf_map_update_elem(m->services, &id, &svc, BPF_ANY);
	bpf_map_delete_elem(m->maglev, &id);
	bpf_map_delete_elem(m->svc_bk, &id);
	for (b = 1; b < XH_MAX_BACKENDS; b++) {
		if (bpf_map_lookup_elem(m->backends, &b, &bk) ||
		    bk.svc_id != id || bk.state == XH_BK_FREE)
			continue;
		memset(&bk, 0, sizeof(bk));
		bpf_map_update_elem(m->backends, &b, &bk, BPF_ANY);
	}
	/* A later service may reuse the id: its flows must not carry
	 * packets of this VIP there. */
	err = purge_flows(m->flows, id);
	err = err ?: purge_flows(m->flown, id);
	/* Another service of the address takes over the wildcard, whether
	 * the deleted one owned it as FRAG_ONLY or as a port-0 service. */
	{
		struct xh_vip_key w;

		vip_key(s, 0, &w);
		prev = NULL;
		while (bpf_map_lookup_elem(m->vips, &w, &v) &&
		       !bpf_map_get_next_key(m->vips, prev, &next)) {
			k = next;
			prev = &k;
			if (!k.port || k.proto != w.proto ||
			    k.family != w.family || memcmp(k.addr, w.addr, 16) ||
			    bpf_map_lookup_elem(m->vips, &k, &v))
				continue;
			v.flags = XH_VIP_F_FRAG_ONLY;
			bpf_map_update_elem(m->vips, &w, &v, BPF_NOEXIST);
		}
	}
	return err;
}

int xh_backend_find(const struct xh_steer_maps *m, __u32 svc_id,
		    const __be32 addr[4], __u8 family, __u32 *id_out)
{
	struct xh_backend bk;
	__u32 id;

	for (id = 1; id < XH_MAX_BACKENDS; id++) {
		if (bpf_map_lookup_elem(m->backends, &id, &bk))
			return -errno;
		if (bk.state != XH_BK_FREE && bk.svc_id == svc_id &&
		    bk.family == family && !memcmp(bk.addr, addr, 16)) {
			*id_out = id;
			return 0;
		}
	}
	return -ENOENT;
}

int xh_backend_add(const struct xh_steer_maps *m, __u32 svc_id,
		   const struct xh_bk_cfg *c, __u32 *id_out)
{
	struct xh_service svc;
	struct xh_backend bk = {}, cur;
	char a[INET6_ADDRSTRLEN];
	__u32 id, free_id = 0, n = 0;
	int tier = c->tier, err, max_tier = -1;

	xh_addr_format(c->addr, c->family, a, sizeof(a));
	if (bpf_map_lookup_elem(m->services, &svc_id, &svc) || !svc.id)
		return -ENOENT;
	if (c->family != svc.family) {
		pr_warn("backend %s: address family differs from the "
			"service's (IPv%u)\n", a, svc.family);
		return -EINVAL;
	}
	for (id = 1; id < XH_MAX_BACKENDS; id++) {
		if (bpf_map_lookup_elem(m->backends, &id, &cur))
			return -errno;
		if (cur.state == XH_BK_FREE) {
			if (!free_id)
				free_id = id;
			continue;
		}
		if (cur.svc_id != svc_id)
			continue;
		n++;
		if (cur.tier > max_tier)
			max_tier = cur.tier;
		if (cur.family == c->family && !memcmp(cur.addr, c->addr, 16)) {
			pr_warn("backend %s already in this service\n", a);
			return -EEXIST;
		}
	}
	if (!free_id) {
		pr_warn("no free backend slot (%u backends)\n",
			XH_MAX_BACKENDS - 1);
		return -ENOSPC;
	}
	if (n >= XH_MAX_SVC_BACKENDS) {
		pr_warn("service has %u backends already, the most one may "
			"have\n", n);
		return -ENOSPC;
	}
	if (tier < 0)	/* active-standby: each new backend a tier lower */
		tier = svc.mode == XH_SVC_ACTIVE_STANDBY ? max_tier + 1 : 0;
	if (tier > 255) {
		pr_warn("backend %s: tier %d out of range 0..255\n", a, tier);
		return -EINVAL;
	}
	memcpy(bk.addr, c->addr, 16);
	memcpy(bk.mac, c->mac, 6);
	bk.family = c->family;
	bk.state = c->state ?: XH_BK_UP;
	bk.ifindex = c->ifindex;
	bk.svc_id = svc_id;
	bk.weight = c->weight ?: 1;
	bk.tier = tier;
	bk.detect_ns = c->detect_ns;
	bk.last_seen_ns = xh_now_ns();
	if (bpf_map_update_elem(m->backends, &free_id, &bk, BPF_ANY))
		return -errno;
	err = xh_service_rebuild(m, svc_id);
	if (err) {
		memset(&bk, 0, sizeof(bk));
		bpf_map_update_elem(m->backends, &free_id, &bk, BPF_ANY);
		xh_service_rebuild(m, svc_id);
		return err;
	}
	*id_out = free_id;
	return 0;
}

int xh_backend_set_state(const struct xh_steer_maps *m, __u32 svc_id,
			 __u32 id, __u8 state)
{
	struct xh_backend bk;

	if (bpf_map_lookup_elem(m->backends, &id, &bk) || bk.svc_id != svc_id ||
	    bk.state == XH_BK_FREE)
		return -ENOENT;
	/* The whole entry is written back: a heartbeat stamp the data path
	 * wrote between our read and write is lost, and the next heartbeat
	 * (one interval, far below the detection time) writes it again. */
	bk.state = state;
	if (bpf_map_update_elem(m->backends, &id, &bk, BPF_ANY))
		return -errno;
	return xh_service_rebuild(m, svc_id);
}

int xh_backend_del(const struct xh_steer_maps *m, __u32 svc_id, __u32 id)
{
	struct xh_backend bk;

	if (bpf_map_lookup_elem(m->backends, &id, &bk) || bk.svc_id != svc_id ||
	    bk.state == XH_BK_FREE)
		return -ENOENT;
	/* A freed slot is dead to the data path at once (state free); the
	 * rebuild then takes it out of the table and the backend list. */
	memset(&bk, 0, sizeof(bk));
	if (bpf_map_update_elem(m->backends, &id, &bk, BPF_ANY))
		return -errno;
	return xh_service_rebuild(m, svc_id);
}
