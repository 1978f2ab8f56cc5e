// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * show.c - the status and stats verbs: what is attached and what it did.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "cli.h"
#include "xm_abi.h"
#include "mirror_status.h"
#include "svc.h"
#include "log.h"

static struct json_object *jstr(const char *s)
{
	return json_object_new_string(s);
}

struct json_object *(*xh_controller_json)(void);
void (*xh_controller_print)(void);

static int usage_status(FILE *f)
{
	fprintf(f,
"usage: xdpha status [DEV] [--json]\n"
"  The program attached to DEV (default: every device of this network\n"
"  namespace), its mode, link, pins, chain slot, services and backends\n"
"  with state and heartbeat age.\n");
	return f == stderr ? XH_EXIT_USAGE : XH_EXIT_OK;
}

static const char *fwd_name(__u8 fwd)
{
	return fwd == XH_FWD_IPIP ? "ipip" : "l2";
}

/* What is attached to a device, whatever its role. */
static struct json_object *dev_head_json(const struct xh_dev *d,
					 const struct xh_dev_info *info)
{
	struct json_object *o = json_object_new_object(), *c = NULL;

	json_object_object_add(o, "ifname", jstr(d->ifname));
	json_object_object_add(o, "netns", d->netns[0] ? jstr(d->netns) : NULL);
	json_object_object_add(o, "pin_dir", jstr(d->dir));
	json_object_object_add(o, "role", jstr(info->role));
	json_object_object_add(o, "prog_id", json_object_new_int64(info->prog_id));
	json_object_object_add(o, "prog_name", jstr(info->prog_name));
	json_object_object_add(o, "prog_tag", jstr(info->prog_tag));
	json_object_object_add(o, "link_id", json_object_new_int64(info->link_id));
	json_object_object_add(o, "mode", jstr(info->mode));
	if (info->chain_prog_id) {
		c = json_object_new_object();
		json_object_object_add(c, "prog_id",
				       json_object_new_int64(info->chain_prog_id));
		json_object_object_add(c, "prog_name", jstr(info->chain_name));
	}
	json_object_object_add(o, "chain", c);
	return o;
}

static void dev_head_print(const struct xh_dev *d,
			   const struct xh_dev_info *info)
{
	printf("%s: %s, prog %u (%s, tag %s), link %u, mode %s\n", d->ifname,
	       info->role, info->prog_id, info->prog_name, info->prog_tag,
	       info->link_id, info->mode);
	printf("  pinned at %s\n", d->dir);
	if (info->chain_prog_id)
		printf("  chain: prog %u (%s)\n", info->chain_prog_id,
		       info->chain_name);
}

/* One line per application mirror of a member device. */
static void mirrors_print(struct json_object *ms)
{
	size_t i;

	for (i = 0; i < json_object_array_length(ms); i++) {
		struct json_object *m = json_object_array_get_idx(ms, i), *v;
#define F(k) (json_object_object_get_ex(m, k, &v) ? json_object_get_string(v) : "?")
		printf("  mirror stream %s (pid %s, %s): %s over %s, %s records, "
		       "sent %s, acked %s, retransmitted %s, applied %s, lag %s "
		       "ms\n", F("stream"), F("pid"), F("role"), F("state"),
		       F("transport"), F("records"), F("records_sent"),
		       F("records_acked"), F("retransmitted"),
		       F("records_applied"), F("lag_ms"));
#undef F
	}
}

static struct json_object *dev_status(const char *ifname, bool json)
{
	struct json_object *o = NULL, *svcs = NULL;
	struct xh_steer_maps m;
	struct xh_dev_info info;
	struct xh_service svc;
	struct xh_svc_spec s;
	struct xh_dev d;
	char name[96];
	__u64 now = xh_now_ns();
	__u32 id;

	/* A member device has no services: what is attached is all. */
	if (!xh_dev_init(&d, ifname) && xh_dev_attached(&d) &&
	    !xh_dev_info(&d, &info) && !strcmp(info.role, "member")) {
		struct json_object *ms = xh_mirror_status_read(d.dir);

		if (!json) {
			dev_head_print(&d, &info);
			mirrors_print(ms);
			json_object_put(ms);
			return (struct json_object *)1;
		}
		o = dev_head_json(&d, &info);
		json_object_object_add(o, "mirrors", ms);
		return o;
	}
	if (xh_cli_open(ifname, &d, &m))
		return NULL;
	xh_dev_info(&d, &info);
	if (json) {
		o = dev_head_json(&d, &info);
		svcs = json_object_new_array();
	} else {
		dev_head_print(&d, &info);
	}
	for (id = 1; id < XH_MAX_SERVICES; id++) {
		struct xh_backend bk;
		struct xh_ctr c = {};
		__u32 b;

		if (bpf_map_lookup_elem(m.services, &id, &svc) || !svc.id ||
		    xh_service_spec(&m, id, &s))
			continue;
		xh_svc_format(&s, name, sizeof(name));
		xh_ctr_read(m.svc_stats, id, &c);
		if (!json) {
			printf("  service %s (id %u): fwd %s, %s, table %u, "
			       "%llu packets\n", name, id, fwd_name(svc.fwd),
			       svc.mode == XH_SVC_ACTIVE_STANDBY ?
			       "active-standby" : "active-active",
			       svc.table_size, (unsigned long long)c.packets);
			xh_backend_print(&m, id, false, NULL);
			continue;
		}
		struct json_object *so = json_object_new_object();
		struct json_object *bks = json_object_new_array();

		json_object_object_add(so, "id", json_object_new_int(id));
		json_object_object_add(so, "service", jstr(name));
		json_object_object_add(so, "fwd", jstr(fwd_name(svc.fwd)));
		json_object_object_add(so, "mode", jstr(svc.mode == XH_SVC_ACTIVE_STANDBY ?
					"active-standby" : "active-active"));
		json_object_object_add(so, "table_size",
				       json_object_new_int64(svc.table_size));
		if (svc.fwd == XH_FWD_IPIP) {
			char src[INET6_ADDRSTRLEN];

			xh_addr_format(svc.encap_src, svc.family, src, sizeof(src));
			json_object_object_add(so, "encap_src", jstr(src));
		} else {
			json_object_object_add(so, "encap_src", NULL);
		}
		json_object_object_add(so, "packets", json_object_new_int64(c.packets));
		json_object_object_add(so, "bytes", json_object_new_int64(c.bytes));
		for (b = 1; b < XH_MAX_BACKENDS; b++) {
			if (bpf_map_lookup_elem(m.backends, &b, &bk))
				break;
			if (bk.state == XH_BK_FREE || bk.svc_id != id)
				continue;
			json_object_array_add(bks, xh_backend_json(&m, b, &bk, now));
		}
		json_object_object_add(so, "backends", bks);
		json_object_array_add(svcs, so);
	}
	if (json)
		json_object_object_add(o, "services", svcs);
	xh_cli_close(&d, &m);
	return json ? o : (struct json_object *)1;
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char names[64][IF_NAMESIZE];
	struct json_object *arr = NULL, *o;
	bool json = false;
	int c, n, i, rc = XH_EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else
			return usage_status(c == 'h' ? stdout : stderr);
	}
	if (argc - optind > 1)
		return usage_status(stderr);
	if (argc - optind == 1) {
		n = 1;
		snprintf(names[0], IF_NAMESIZE, "%s", argv[optind]);
	} else {
		n = xh_cli_attached(names, 64);
	}
	if (json)
		arr = json_object_new_array();
	else if (!n)
		printf("xdpha is attached to no device in this network namespace\n");
	for (i = 0; i < n; i++) {
		o = dev_status(names[i], json);
		if (!o)
			rc = XH_EXIT_ERR;
		else if (json)
			json_object_array_add(arr, o);
	}
	if (!json && xh_controller_print)
		xh_controller_print();
	if (json) {
		o = json_object_new_object();
		json_object_object_add(o, "devices", arr);
		if (xh_controller_json)
			json_object_object_add(o, "controller",
					       xh_controller_json());
		xh_json_print(o);
	}
	return rc;
}

/* --- stats --------------------------------------------------------------- */

static int usage_stats(FILE *f)
{
	fprintf(f,
"usage: xdpha stats [DEV | --dev DEV] [--json] [--interval MS [--count N]]\n"
"  Packets and bytes per outcome (pass/drop reason, forward), per service\n"
"  and per backend. With --interval, a sample every MS ms with rates\n"
"  (packets/s) until Ctrl-C or N samples; with --json one object per line.\n"
"  On a member device: the member program's outcomes (VIP and ARP/ND gate,\n"
"  decapsulation, BFD, mirror) and each group's gate (one sample).\n");
	return f == stderr ? XH_EXIT_USAGE : XH_EXIT_OK;
}

struct sample {
	struct xh_ctr ctr[XH_CTR_MAX];
	struct xh_ctr svc[XH_MAX_SERVICES];
	struct xh_ctr *bk;	/* XH_MAX_BACKENDS */
	__u64 t;
};

static int take(const struct xh_steer_maps *m, struct sample *s)
{
	__u32 i;
	int err;

	s->t = xh_now_ns();
	err = xh_stats_read(m->stats, s->ctr);
	for (i = 1; !err && i < XH_MAX_SERVICES; i++)
		err = xh_ctr_read(m->svc_stats, i, &s->svc[i]);
	for (i = 1; !err && i < XH_MAX_BACKENDS; i++)
		err = xh_ctr_read(m->bk_stats, i, &s->bk[i]);
	return err;
}

static double rate(__u64 now, __u64 then, __u64 dt_ns)
{
	return dt_ns ? (double)(now - then) * 1e9 / (double)dt_ns : 0;
}

static void show(const struct xh_steer_maps *m, const char *ifname,
		 const struct sample *s, const struct sample *prev, bool json)
{
	struct json_object *o = NULL, *ctrs = NULL, *svcs = NULL, *bks = NULL;
	__u64 dt = prev ? s->t - prev->t : 0;
	struct xh_svc_spec sp;
	struct xh_backend bk;
	char name[96], a[INET6_ADDRSTRLEN];
	__u32 i;

	if (json) {
		o = json_object_new_object();
		ctrs = json_object_new_object();
		svcs = json_object_new_array();
		bks = json_object_new_array();
		json_object_object_add(o, "ifname", jstr(ifname));
		json_object_object_add(o, "time_ns", json_object_new_int64(s->t));
	} else {
		printf("%s counters%s\n", ifname, prev ? " (rate over the interval)" : "");
		printf("  %-18s %14s %16s%s\n", "OUTCOME", "PACKETS", "BYTES",
		       prev ? "        PKT/S" : "");
	}
	for (i = 0; i < XH_CTR_MAX; i++) {
		if (json) {
			struct json_object *c = json_object_new_object();

			json_object_object_add(c, "packets",
					       json_object_new_int64(s->ctr[i].packets));
			json_object_object_add(c, "bytes",
					       json_object_new_int64(s->ctr[i].bytes));
			if (prev)
				json_object_object_add(c, "pps", json_object_new_double(
					rate(s->ctr[i].packets, prev->ctr[i].packets, dt)));
			json_object_object_add(ctrs, xh_ctr_name(i), c);
			continue;
		}
		printf("  %-18s %14llu %16llu", xh_ctr_name(i),
		       (unsigned long long)s->ctr[i].packets,
		       (unsigned long long)s->ctr[i].bytes);
		if (prev)
			printf(" %12.0f", rate(s->ctr[i].packets,
					       prev->ctr[i].packets, dt));
		printf("\n");
	}
	if (!json)
		printf("  %-4s %-30s %14s %16s\n", "ID", "SERVICE", "PACKETS", "BYTES");
	for (i = 1; i < XH_MAX_SERVICES; i++) {
		if (xh_service_spec(m, i, &sp))
			continue;
		xh_svc_format(&sp, name, sizeof(name));
		if (json) {
			struct json_object *c = json_object_new_object();

			json_object_object_add(c, "id", json_object_new_int(i));
			json_object_object_add(c, "service", jstr(name));
			json_object_object_add(c, "packets",
					       json_object_new_int64(s->svc[i].packets));
			json_object_object_add(c, "bytes",
					       json_object_new_int64(s->svc[i].bytes));
			if (prev)
				json_object_object_add(c, "pps", json_object_new_double(
					rate(s->svc[i].packets, prev->svc[i].packets, dt)));
			json_object_array_add(svcs, c);
		} else {
			printf("  %-4u %-30s %14llu %16llu\n", i, name,
			       (unsigned long long)s->svc[i].packets,
			       (unsigned long long)s->svc[i].bytes);
		}
	}
	if (!json)
		printf("  %-4s %-24s %-4s %14s %16s\n", "ID", "BACKEND", "SVC",
		       "PACKETS", "BYTES");
	for (i = 1; i < XH_MAX_BACKENDS; i++) {
		if (bpf_map_lookup_elem(m->backends, &i, &bk))
			break;
		if (bk.state == XH_BK_FREE)
			continue;
		xh_addr_format(bk.addr, bk.family, a, sizeof(a));
		if (json) {
			struct json_object *c = json_object_new_object();

			json_object_object_add(c, "id", json_object_new_int(i));
			json_object_object_add(c, "service_id", json_object_new_int(bk.svc_id));
			json_object_object_add(c, "addr", jstr(a));
			json_object_object_add(c, "packets",
					       json_object_new_int64(s->bk[i].packets));
			json_object_object_add(c, "bytes",
					       json_object_new_int64(s->bk[i].bytes));
			if (prev)
				json_object_object_add(c, "pps", json_object_new_double(
					rate(s->bk[i].packets, prev->bk[i].packets, dt)));
			json_object_array_add(bks, c);
		} else {
			printf("  %-4u %-24s %-4u %14llu %16llu\n", i, a, bk.svc_id,
			       (unsigned long long)s->bk[i].packets,
			       (unsigned long long)s->bk[i].bytes);
		}
	}
	if (json) {
		json_object_object_add(o, "counters", ctrs);
		json_object_object_add(o, "services", svcs);
		json_object_object_add(o, "backends", bks);
		/* run through the controller: its flow mirror too */
		if (xh_controller_json) {
			struct json_object *c = xh_controller_json(), *mir;

			if (json_object_object_get_ex(c, "mirror", &mir))
				json_object_object_add(o, "mirror",
						       json_object_get(mir));
			json_object_put(c);
		}
		xh_json_print(o);
	}
	fflush(stdout);
}

static volatile sig_atomic_t stop;

/* A member device: its verdicts (xm_stats) and its groups' gates. */
static int member_stats(const struct xh_dev *d, bool json)
{
	static const char *const names[] = XM_CTR_NAMES;
	char path[PATH_MAX + 32];
	struct json_object *o = NULL, *ctrs = NULL, *gs = NULL;
	int sfd, gfd, rc = XH_EXIT_OK;
	struct xh_ctr ctr;
	__u32 i;

	snprintf(path, sizeof(path), "%s/xm_stats", d->dir);
	sfd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/xm_groups_v1", d->dir);
	gfd = bpf_obj_get(path);
	if (sfd < 0 || gfd < 0) {
		pr_warn("%s: member maps not found under %s\n", d->ifname,
			d->dir);
		rc = XH_EXIT_ERR;
		goto out;
	}
	if (json) {
		o = json_object_new_object();
		ctrs = json_object_new_object();
		gs = json_object_new_array();
		json_object_object_add(o, "ifname", jstr(d->ifname));
		json_object_object_add(o, "role", jstr("member"));
		json_object_object_add(o, "time_ns",
				       json_object_new_int64(xh_now_ns()));
	} else {
		printf("%s counters (member)\n  %-18s %14s %16s\n", d->ifname,
		       "OUTCOME", "PACKETS", "BYTES");
	}
	for (i = 0; i < XM_CTR_MAX; i++) {
		struct xh_ctr sum = {}, rx = {};

		if (i == XM_CTR_RX) {
			__u32 k;

			/* RX is the sum of the verdicts, as on steer */
			for (k = XM_CTR_PASS; k < XM_CTR_MAX; k++)
				if (k != XM_CTR_TAKEOVER &&
				    !xh_ctr_read(sfd, k, &ctr)) {
					rx.packets += ctr.packets;
					rx.bytes += ctr.bytes;
				}
			sum = rx;
		} else if (xh_ctr_read(sfd, i, &sum)) {
			continue;
		}
		if (json) {
			struct json_object *c = json_object_new_object();

			json_object_object_add(c, "packets",
					       json_object_new_int64(sum.packets));
			json_object_object_add(c, "bytes",
					       json_object_new_int64(sum.bytes));
			json_object_object_add(ctrs, names[i], c);
		} else {
			printf("  %-18s %14llu %16llu\n", names[i],
			       (unsigned long long)sum.packets,
			       (unsigned long long)sum.bytes);
		}
	}
	{
		struct xm_ctl c = {};
		__u32 zero = 0;
		int cfd;

		snprintf(path, sizeof(path), "%s/xm_ctl_v1", d->dir);
		cfd = bpf_obj_get(path);
		if (cfd >= 0 && !bpf_map_lookup_elem(cfd, &zero, &c) &&
		    c.max_age_ns) {
			double age = (xh_now_ns() - c.seen_ns) / 1e6;

			if (json) {
				json_object_object_add(o, "controller_silent_ms",
						       json_object_new_double(age));
				json_object_object_add(o, "controller_max_age_ms",
					json_object_new_double(c.max_age_ns / 1e6));
			} else {
				printf("  controller last seen %.1f ms ago (ARP/ND "
				       "for held VIPs stops after %.0f ms)\n",
				       age, c.max_age_ns / 1e6);
			}
		}
		if (cfd >= 0)
			close(cfd);
	}
	if (!json)
		printf("  %-5s %-6s %-12s %-14s %s\n", "GROUP", "GATE",
		       "NEXT-IN-LINE", "OWNER-DISC", "OWNER-SILENT-MS");
	for (i = 0; i < XM_MAX_GROUPS; i++) {
		struct xm_group g;
		double silent;

		if (bpf_map_lookup_elem(gfd, &i, &g) ||
		    (!g.state && !g.next_in_line && !g.owner_disc))
			continue;
		silent = g.owner_disc ? (xh_now_ns() - g.owner_seen_ns) / 1e6 : 0;
		if (json) {
			struct json_object *c = json_object_new_object();

			json_object_object_add(c, "group", json_object_new_int(i));
			json_object_object_add(c, "gate", jstr(
				g.state == XM_OWN_YES ? "yes" :
				g.state == XM_OWN_TAKEN ? "taken" : "no"));
			json_object_object_add(c, "next_in_line",
					       json_object_new_boolean(g.next_in_line));
			json_object_object_add(c, "owner_disc",
					       json_object_new_int64(g.owner_disc));
			json_object_object_add(c, "owner_detect_ms",
				json_object_new_double(g.owner_detect_ns / 1e6));
			json_object_object_add(c, "owner_silent_ms",
					       json_object_new_double(silent));
			json_object_array_add(gs, c);
		} else {
			printf("  %-5u %-6s %-12s %-14u %.1f\n", i,
			       g.state == XM_OWN_YES ? "yes" :
			       g.state == XM_OWN_TAKEN ? "taken" : "no",
			       g.next_in_line ? "yes" : "no", g.owner_disc,
			       silent);
		}
	}
	{
		struct json_object *ms = xh_mirror_status_read(d->dir);

		if (json) {
			json_object_object_add(o, "counters", ctrs);
			json_object_object_add(o, "groups", gs);
			json_object_object_add(o, "mirrors", ms);
			xh_json_print(o);
		} else {
			mirrors_print(ms);
			json_object_put(ms);
		}
	}
out:
	if (sfd >= 0)
		close(sfd);
	if (gfd >= 0)
		close(gfd);
	return rc;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "dev", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *dev = NULL;
	struct sample a = {}, b = {}, *cur = &a, *prev = &b, *t;
	struct xh_steer_maps m;
	struct xh_dev d;
	long interval = 0, count = 0, n;
	bool json = false;
	char *end;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'i':
		case 'c':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || !*optarg || n < 1)
				return usage_stats(stderr);
			if (c == 'i')
				interval = n;
			else
				count = n;
			break;
		case 'd':
			dev = optarg;
			break;
		case 'h':
			return usage_stats(stdout);
		default:
			return usage_stats(stderr);
		}
	}
	if (argc - optind > 1 || (count && !interval) ||
	    (dev && argc - optind))
		return usage_stats(stderr);
	if (argc - optind)
		dev = argv[optind];
	if (dev && !xh_dev_init(&d, dev) && xh_dev_attached(&d)) {
		struct xh_dev_info info;

		if (!xh_dev_info(&d, &info) && !strcmp(info.role, "member")) {
			if (interval)
				pr_warn("%s: --interval is for steering "
					"devices; one sample\n", dev);
			return member_stats(&d, json);
		}
	}
	rc = xh_cli_open(dev, &d, &m);
	if (rc)
		return rc;
	/* The lock is for writers; sampling for minutes must not block them. */
	xh_dev_unlock(&d);
	a.bk = calloc(XH_MAX_BACKENDS, sizeof(*a.bk));
	b.bk = calloc(XH_MAX_BACKENDS, sizeof(*b.bk));
	if (!a.bk || !b.bk || take(&m, cur)) {
		pr_warn("%s: reading counters failed\n", d.ifname);
		rc = XH_EXIT_ERR;
		goto out;
	}
	if (!interval) {
		show(&m, d.ifname, cur, NULL, json);
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (n = 0; !stop && (!count || n < count); n++) {
		struct timespec ts = { interval / 1000,
				       (interval % 1000) * 1000000L };

		t = prev;
		prev = cur;
		cur = t;
		nanosleep(&ts, NULL);
		if (take(&m, cur)) {
			rc = XH_EXIT_ERR;
			break;
		}
		show(&m, d.ifname, cur, prev, json);
	}
out:
	free(a.bk);
	free(b.bk);
	xh_maps_close(&m);
	return rc;
}
