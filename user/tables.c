// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tables.c - publish services, backends and Maglev tables to the steering
 * maps; read their counters. See tables.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tables.h"
#include "maglev.h"

__u64 xh_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

bool xh_backend_live(const struct xh_backend *bk, __u64 now)
{
	if (bk->state != XH_BK_UP)
		return false;
	if (!bk->detect_ns)
		return true;
	return (__s64)(now - bk->last_seen_ns) <= (__s64)bk->detect_ns;
}

int xh_maglev_install(int maglev_fd, __u32 svc_id, const __u32 *table,
		      __u32 m)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
	__u32 *keys = NULL;
	int fd, err;
	__u32 i, cnt;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xh_maglev_tab", sizeof(__u32),
			    sizeof(__u32), m, &opts);
	if (fd < 0)
		return -errno;
	keys = malloc(sizeof(*keys) * m);
	if (!keys) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < m; i++)
		keys[i] = i;
	cnt = m;
	err = bpf_map_update_batch(fd, keys, table, &cnt, NULL);
	if (err) {
		err = -errno;
		goto out;
	}
	/* The swap: one update of the outer map. */
	err = bpf_map_update_elem(maglev_fd, &svc_id, &fd, BPF_ANY);
	if (err)
		err = -errno;
out:
	free(keys);
	close(fd);
	return err;
}

struct bk_ent {
	__u32 id;
	struct xh_backend bk;
};

static int ent_cmp(const void *a, const void *b)
{
	const struct bk_ent *x = a, *y = b;

	if (x->bk.tier != y->bk.tier)
		return x->bk.tier < y->bk.tier ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int xh_svc_rebuild(const struct xh_steer_maps *m, __u32 svc_id, __u32 size,
		   __u32 *tab_out)
{
	struct xh_backend *all = NULL;
	struct maglev_backend *mb = NULL;
	struct xh_svc_backends list = {};
	struct bk_ent *ents = NULL;
	__u32 *table = tab_out, *keys = NULL;
	__u32 i, n = 0, nmb = 0, cnt = XH_MAX_BACKENDS;
	__u64 now = xh_now_ns();
	int best_tier = -1, err;

	if (!svc_id || svc_id >= XH_MAX_SERVICES || !maglev_is_prime(size))
		return -EINVAL;
	all = calloc(XH_MAX_BACKENDS, sizeof(*all));
	keys = calloc(XH_MAX_BACKENDS, sizeof(*keys));
	ents = calloc(XH_MAX_SVC_BACKENDS, sizeof(*ents));
	mb = calloc(XH_MAX_SVC_BACKENDS, sizeof(*mb));
	if (!table)
		table = malloc(sizeof(*table) * size);
	if (!all || !keys || !ents || !mb || !table) {
		err = -ENOMEM;
		goto out;
	}
	/* One snapshot of the array: lookups one by one would see a backend
	 * change halfway. */
	for (i = 0; i < XH_MAX_BACKENDS; i++)
		keys[i] = i;
	err = bpf_map_lookup_batch(m->backends, NULL, &i, keys, all, &cnt,
				   NULL);
	if (err && errno != ENOENT) {
		err = -errno;
		goto out;
	}
	for (i = 1; i < cnt; i++) {
		if (all[i].svc_id != svc_id || all[i].state == XH_BK_FREE)
			continue;
		if (n == XH_MAX_SVC_BACKENDS) {
			err = -E2BIG;
			goto out;
		}
		ents[n].id = i;
		ents[n++].bk = all[i];
	}
	qsort(ents, n, sizeof(*ents), ent_cmp);
	for (i = 0; i < n; i++) {
		if (!xh_backend_live(&ents[i].bk, now))
			continue;
		if (best_tier < 0)
			best_tier = ents[i].bk.tier;
		if (ents[i].bk.tier != best_tier)
			break;
		mb[nmb].id = ents[i].id;
		mb[nmb].weight = ents[i].bk.weight ? ents[i].bk.weight : 1;
		/* Identity for Maglev: address and family, not the id, so
		 * two nodes that number backends apart still agree. */
		memcpy(mb[nmb].key, ents[i].bk.addr, 16);
		mb[nmb].key[16] = ents[i].bk.family;
		nmb++;
	}
	err = maglev_build(mb, nmb, size, table);
	if (err)
		goto out;
	err = xh_maglev_install(m->maglev, svc_id, table, size);
	if (err)
		goto out;
	list.count = n;
	for (i = 0; i < n; i++)
		list.ids[i] = ents[i].id;
	if (bpf_map_update_elem(m->svc_bk, &svc_id, &list, BPF_ANY))
		err = -errno;
out:
	if (table != tab_out)
		free(table);
	free(all);
	free(keys);
	free(ents);
	free(mb);
	return err;
}

int xh_ctr_read(int map_fd, __u32 id, struct xh_ctr *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xh_ctr *v;
	int i;

	if (ncpu < 0)
		return ncpu;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, &id, v)) {
		free(v);
		return -errno;
	}
	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < ncpu; i++) {
		sum->packets += v[i].packets;
		sum->bytes += v[i].bytes;
	}
	free(v);
	return 0;
}

int xh_stats_read(int stats_fd, struct xh_ctr out[XH_CTR_MAX])
{
	__u32 i;
	int err;

	for (i = 0; i < XH_CTR_MAX; i++) {
		if (i == XH_CTR_RX)
			continue;
		err = xh_ctr_read(stats_fd, i, &out[i]);
		if (err)
			return err;
	}
	memset(&out[XH_CTR_RX], 0, sizeof(out[XH_CTR_RX]));
	for (i = XH_CTR_VERDICT_FIRST; i <= XH_CTR_VERDICT_LAST; i++) {
		out[XH_CTR_RX].packets += out[i].packets;
		out[XH_CTR_RX].bytes += out[i].bytes;
	}
	return 0;
}

static const char *const ctr_names[] = XH_CTR_NAMES;
_Static_assert(sizeof(ctr_names) / sizeof(ctr_names[0]) == XH_CTR_MAX,
	       "XH_CTR_NAMES must name every xh_ctr_id");

const char *xh_ctr_name(__u32 id)
{
	if (id >= sizeof(ctr_names) / sizeof(ctr_names[0]))
		return NULL;
	return ctr_names[id];
}
