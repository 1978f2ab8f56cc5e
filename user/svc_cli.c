// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * svc_cli.c - the service and backend verbs of the xdpha command.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "cli.h"
#include "svc.h"
#include "neigh.h"
#include "maglev.h"
#include "log.h"

static int usage_service(FILE *f)
{
	fprintf(f,
"usage: xdpha service add SERVICE [--fwd l2|ipip] [--encap-src ADDR]\n"
"                         [--mode active-active|active-standby]\n"
"                         [--table-size M] [--dev DEV]\n"
"       xdpha service del SERVICE [--dev DEV]\n"
"       xdpha service list [--json] [--dev DEV]\n"
"  SERVICE is ADDR:PORT/PROTO, [IPV6]:PORT/PROTO or ADDR/icmp|icmpv6;\n"
"  PROTO is tcp or udp; port 0 takes every port of the address.\n"
"  --fwd         l2: rewrite MACs, backends on this segment (default);\n"
"                ipip: IPv4-in-IPv4 / IPv6-in-IPv6 to the backend\n"
"  --encap-src   outer source address for ipip (required with ipip)\n"
"  --mode        active-active (default): backends share tier 0;\n"
"                active-standby: each backend added gets the next tier\n"
"  --table-size  Maglev table size, a prime (default %u)\n"
"  --dev         the device xdpha is attached to (default: the only one)\n",
		XH_MAGLEV_DEFAULT);
	return f == stderr ? XH_EXIT_USAGE : XH_EXIT_OK;
}

static int usage_backend(FILE *f)
{
	fprintf(f,
"usage: xdpha backend add SERVICE ADDR [--mac MAC] [--via DEV] [--weight W]\n"
"                         [--tier T] [--state up|drain|down]\n"
"                         [--detect-ms MS] [--dev DEV]\n"
"       xdpha backend del|drain|up|down SERVICE ADDR [--dev DEV]\n"
"       xdpha backend list [SERVICE] [--json] [--dev DEV]\n"
"  --mac        next-hop MAC (default: resolved from the neighbour table)\n"
"  --via        egress device, if not the attached one (XDP_REDIRECT)\n"
"  --weight     Maglev weight, 1..65535 (default 1)\n"
"  --tier       priority tier, 0 is best; a worse tier takes traffic only\n"
"               when no backend of a better tier is live (default: 0, or\n"
"               the next tier in an active-standby service)\n"
"  --detect-ms  heartbeat detection time: the backend is dead when its\n"
"               stamp is older (0, the default: no heartbeat)\n"
"  drain: keep its flows, no new ones; down: nothing; up: all.\n");
	return f == stderr ? XH_EXIT_USAGE : XH_EXIT_OK;
}

static struct json_object *jstr(const char *s)
{
	return json_object_new_string(s);
}

static void mac_format(const __u8 *mac, char *buf, size_t sz)
{
	snprintf(buf, sz, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

static const char *fwd_name(__u8 fwd)
{
	return fwd == XH_FWD_IPIP ? "ipip" : "l2";
}

static const char *svc_mode_name(__u8 mode)
{
	return mode == XH_SVC_ACTIVE_STANDBY ? "active-standby" :
					       "active-active";
}

static int service_list(const struct xh_steer_maps *m, bool json)
{
	struct json_object *arr = json ? json_object_new_array() : NULL;
	struct xh_service svc;
	struct xh_svc_spec s;
	struct xh_svc_backends list;
	char name[96], src[INET6_ADDRSTRLEN];
	__u32 id;

	if (!json)
		printf("%-4s %-30s %-5s %-15s %-8s %-8s %s\n", "ID", "SERVICE",
		       "FWD", "MODE", "TABLE", "BACKENDS", "ENCAP-SRC");
	for (id = 1; id < XH_MAX_SERVICES; id++) {
		if (bpf_map_lookup_elem(m->services, &id, &svc) || !svc.id ||
		    xh_service_spec(m, id, &s))
			continue;
		xh_svc_format(&s, name, sizeof(name));
		if (bpf_map_lookup_elem(m->svc_bk, &id, &list))
			list.count = 0;
		if (svc.fwd == XH_FWD_IPIP)
			xh_addr_format(svc.encap_src, svc.family, src, sizeof(src));
		else
			strcpy(src, "-");
		if (json) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "id", json_object_new_int(id));
			json_object_object_add(o, "service", jstr(name));
			json_object_object_add(o, "fwd", jstr(fwd_name(svc.fwd)));
			json_object_object_add(o, "mode",
					       jstr(svc_mode_name(svc.mode)));
			json_object_object_add(o, "table_size",
					       json_object_new_int64(svc.table_size));
			json_object_object_add(o, "backends",
					       json_object_new_int(list.count));
			json_object_object_add(o, "encap_src",
					       svc.fwd == XH_FWD_IPIP ?
					       jstr(src) : NULL);
			json_object_array_add(arr, o);
		} else {
			printf("%-4u %-30s %-5s %-15s %-8u %-8u %s\n", id, name,
			       fwd_name(svc.fwd), svc_mode_name(svc.mode),
			       svc.table_size, list.count, src);
		}
	}
	if (json)
		xh_json_print(arr);
	return XH_EXIT_OK;
}

struct json_object *xh_backend_json(const struct xh_steer_maps *m, __u32 id,
				    const struct xh_backend *bk, __u64 now)
{
	struct json_object *o = json_object_new_object(), *hb = NULL;
	struct xh_ctr c = {};
	char a[INET6_ADDRSTRLEN], mac[18], ifname[IF_NAMESIZE] = "";

	xh_addr_format(bk->addr, bk->family, a, sizeof(a));
	mac_format(bk->mac, mac, sizeof(mac));
	if (bk->ifindex)
		if_indextoname(bk->ifindex, ifname);
	xh_ctr_read(m->bk_stats, id, &c);
	json_object_object_add(o, "id", json_object_new_int(id));
	json_object_object_add(o, "addr", jstr(a));
	json_object_object_add(o, "mac", jstr(mac));
	json_object_object_add(o, "via", bk->ifindex ? jstr(ifname) : NULL);
	json_object_object_add(o, "tier", json_object_new_int(bk->tier));
	json_object_object_add(o, "weight", json_object_new_int(bk->weight));
	json_object_object_add(o, "state", jstr(xh_state_name(bk->state)));
	json_object_object_add(o, "live",
			       json_object_new_boolean(xh_backend_live(bk, now)));
	if (bk->detect_ns) {
		hb = json_object_new_object();
		json_object_object_add(hb, "detect_ms",
				       json_object_new_double(bk->detect_ns / 1e6));
		json_object_object_add(hb, "age_ms",
				       json_object_new_double((double)(__s64)(now - bk->last_seen_ns) / 1e6));
	}
	json_object_object_add(o, "heartbeat", hb);
	json_object_object_add(o, "packets", json_object_new_int64(c.packets));
	json_object_object_add(o, "bytes", json_object_new_int64(c.bytes));
	return o;
}

int xh_backend_print(const struct xh_steer_maps *m, __u32 svc_id, bool json,
		     struct json_object *into)
{
	struct xh_backend bk;
	struct xh_svc_spec s;
	struct xh_ctr c;
	char a[INET6_ADDRSTRLEN], mac[18], name[96], age[24];
	__u64 now = xh_now_ns();
	__u32 id;

	if (!json)
		printf("  %-4s %-26s %-24s %-17s %-4s %-6s %-6s %-5s %-10s %s\n",
		       "ID", "SERVICE", "BACKEND", "MAC", "TIER", "WEIGHT",
		       "STATE", "LIVE", "AGE", "PACKETS");
	for (id = 1; id < XH_MAX_BACKENDS; id++) {
		if (bpf_map_lookup_elem(m->backends, &id, &bk))
			return XH_EXIT_ERR;
		if (bk.state == XH_BK_FREE || (svc_id && bk.svc_id != svc_id))
			continue;
		if (json) {
			struct json_object *o = xh_backend_json(m, id, &bk, now);

			if (!xh_service_spec(m, bk.svc_id, &s)) {
				xh_svc_format(&s, name, sizeof(name));
				json_object_object_add(o, "service", jstr(name));
			}
			json_object_array_add(into, o);
			continue;
		}
		if (xh_service_spec(m, bk.svc_id, &s))
			strcpy(name, "?");
		else
			xh_svc_format(&s, name, sizeof(name));
		xh_addr_format(bk.addr, bk.family, a, sizeof(a));
		mac_format(bk.mac, mac, sizeof(mac));
		if (bk.detect_ns)
			snprintf(age, sizeof(age), "%.1fms",
				 (double)(__s64)(now - bk.last_seen_ns) / 1e6);
		else
			strcpy(age, "-");
		if (xh_ctr_read(m->bk_stats, id, &c))
			memset(&c, 0, sizeof(c));
		printf("  %-4u %-26s %-24s %-17s %-4u %-6u %-6s %-5s %-10s %llu\n",
		       id, name, a, mac, bk.tier, bk.weight,
		       xh_state_name(bk.state),
		       xh_backend_live(&bk, now) ? "yes" : "no", age,
		       (unsigned long long)c.packets);
	}
	return XH_EXIT_OK;
}

struct svc_args {
	const char *dev;
	bool json;
	struct xh_svc_cfg cfg;
};

static int cmd_service_add(const struct xh_steer_maps *m, const char *spec,
			   const struct xh_svc_cfg *cfg)
{
	struct xh_svc_spec s;
	char name[96];
	__u32 id;

	if (xh_svc_parse(spec, &s)) {
		pr_warn("bad service '%s' (ADDR:PORT/tcp|udp, [V6]:PORT/tcp|udp, "
			"ADDR/icmp)\n", spec);
		return XH_EXIT_USAGE;
	}
	if (xh_service_add(m, &s, cfg, &id))
		return XH_EXIT_ERR;
	xh_svc_format(&s, name, sizeof(name));
	printf("service %s added (id %u)\n", name, id);
	return XH_EXIT_OK;
}

int cmd_service(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fwd", required_argument, NULL, 'f' },
		{ "encap-src", required_argument, NULL, 'e' },
		{ "mode", required_argument, NULL, 'm' },
		{ "table-size", required_argument, NULL, 't' },
		{ "dev", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct svc_args a = { .cfg = { .table_size = XH_MAGLEV_DEFAULT } };
	struct xh_steer_maps m;
	struct xh_svc_spec s;
	struct xh_dev d;
	const char *verb;
	char *end;
	int c, rc;

	if (argc < 2 || argv[1][0] == '-')
		return usage_service(argc == 2 && (!strcmp(argv[1], "-h") ||
				     !strcmp(argv[1], "--help")) ? stdout : stderr);
	/* The verb, then options and operands in any order. */
	verb = argv[1];
	argc--;
	argv++;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "l2"))
				a.cfg.fwd = XH_FWD_L2;
			else if (!strcmp(optarg, "ipip"))
				a.cfg.fwd = XH_FWD_IPIP;
			else
				return usage_service(stderr);
			break;
		case 'e':
			if (xh_addr_parse(optarg, a.cfg.encap_src,
					  &a.cfg.encap_family)) {
				pr_warn("bad address '%s'\n", optarg);
				return usage_service(stderr);
			}
			break;
		case 'm':
			if (!strcmp(optarg, "active-active"))
				a.cfg.mode = XH_SVC_ACTIVE_ACTIVE;
			else if (!strcmp(optarg, "active-standby"))
				a.cfg.mode = XH_SVC_ACTIVE_STANDBY;
			else
				return usage_service(stderr);
			break;
		case 't':
			errno = 0;
			a.cfg.table_size = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg)
				return usage_service(stderr);
			break;
		case 'd':
			a.dev = optarg;
			break;
		case 'j':
			a.json = true;
			break;
		case 'h':
			return usage_service(stdout);
		default:
			return usage_service(stderr);
		}
	}
	if (strcmp(verb, "add") && strcmp(verb, "del") && strcmp(verb, "list")) {
		pr_warn("unknown service verb '%s'\n", verb);
		return usage_service(stderr);
	}
	if (!strcmp(verb, "list") ? optind != argc : optind != argc - 1)
		return usage_service(stderr);
	if (a.cfg.encap_family && a.cfg.fwd != XH_FWD_IPIP) {
		pr_warn("--encap-src goes with --fwd ipip\n");
		return usage_service(stderr);
	}
	if (!strcmp(verb, "del") && xh_svc_parse(argv[optind], &s)) {
		pr_warn("bad service '%s'\n", argv[optind]);
		return XH_EXIT_USAGE;
	}
	rc = xh_cli_open(a.dev, &d, &m);
	if (rc)
		return rc;
	if (!strcmp(verb, "add"))
		rc = cmd_service_add(&m, argv[optind], &a.cfg);
	else if (!strcmp(verb, "del")) {
		rc = xh_service_del(&m, &s) ? XH_EXIT_ERR : XH_EXIT_OK;
		if (!rc)
			printf("service %s deleted\n", argv[optind]);
	}
	else
		rc = service_list(&m, a.json);
	xh_cli_close(&d, &m);
	return rc;
}

struct bk_args {
	const char *dev, *via;
	bool json;
	struct xh_bk_cfg cfg;
	long detect_ms;
};

static int backend_add(const struct xh_dev *d, const struct xh_steer_maps *m,
		       __u32 svc_id, struct bk_args *a)
{
	char name[INET6_ADDRSTRLEN];
	int ifindex = d->ifindex, err;
	__u32 id;

	xh_addr_format(a->cfg.addr, a->cfg.family, name, sizeof(name));
	if (a->via) {
		struct xh_iface ifc = {};

		ifindex = if_nametoindex(a->via);
		if (!ifindex) {
			pr_warn("--via %s: no such device\n", a->via);
			return XH_EXIT_ERR;
		}
		if (ifindex != d->ifindex) {
			/* Redirect target: its MAC for the rewrite, and its
			 * slot in the devmap. */
			err = xh_dev_mac(ifindex, ifc.mac);
			if (err || bpf_map_update_elem(m->ifaces, &ifindex, &ifc, 0) ||
			    bpf_map_update_elem(m->tx_ports, &ifindex, &ifindex, 0)) {
				pr_warn("--via %s: cannot use it for XDP_REDIRECT: %s\n",
					a->via, strerror(err ? -err : errno));
				return XH_EXIT_ERR;
			}
			a->cfg.ifindex = ifindex;
		}
	}
	if (!a->cfg.have_mac) {
		err = xh_neigh_resolve(ifindex, a->cfg.addr, a->cfg.family,
				       1000, a->cfg.mac);
		if (err) {
			pr_warn("backend %s: MAC unresolvable (no neighbour entry "
				"on %s after 1 s); give --mac\n", name,
				a->via ?: d->ifname);
			return XH_EXIT_ERR;
		}
	}
	a->cfg.detect_ns = (__u64)a->detect_ms * 1000000ULL;
	if (xh_backend_add(m, svc_id, &a->cfg, &id))
		return XH_EXIT_ERR;
	printf("backend %s added (id %u)\n", name, id);
	return XH_EXIT_OK;
}

int cmd_backend(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mac", required_argument, NULL, 'M' },
		{ "via", required_argument, NULL, 'V' },
		{ "weight", required_argument, NULL, 'w' },
		{ "tier", required_argument, NULL, 't' },
		{ "state", required_argument, NULL, 's' },
		{ "detect-ms", required_argument, NULL, 'D' },
		{ "dev", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct bk_args a = { .cfg = { .tier = -1 } };
	struct xh_steer_maps m;
	struct xh_svc_spec s;
	struct xh_dev d;
	const char *verb;
	__u32 svc_id = 0, bk_id;
	char *end;
	long v;
	int c, rc, npos, err = 0;
	__u8 state = 0;

	if (argc < 2 || argv[1][0] == '-')
		return usage_backend(argc == 2 && (!strcmp(argv[1], "-h") ||
				     !strcmp(argv[1], "--help")) ? stdout : stderr);
	verb = argv[1];
	argc--;
	argv++;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'M':
			if (xh_mac_parse(optarg, a.cfg.mac)) {
				pr_warn("bad MAC '%s'\n", optarg);
				return usage_backend(stderr);
			}
			a.cfg.have_mac = true;
			break;
		case 'V':
			a.via = optarg;
			break;
		case 'w':
		case 't':
		case 'D':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || !*optarg || v < 0 ||
			    (c == 'w' && (v < 1 || v > 65535)) ||
			    (c == 't' && v > 255) || (c == 'D' && v > 3600000)) {
				pr_warn("bad value '%s' for --%s\n", optarg,
					c == 'w' ? "weight" : c == 't' ? "tier" :
					"detect-ms");
				return usage_backend(stderr);
			}
			if (c == 'w')
				a.cfg.weight = v;
			else if (c == 't')
				a.cfg.tier = v;
			else
				a.detect_ms = v;
			break;
		case 's':
			if (xh_state_parse(optarg, &a.cfg.state))
				return usage_backend(stderr);
			break;
		case 'd':
			a.dev = optarg;
			break;
		case 'j':
			a.json = true;
			break;
		case 'h':
			return usage_backend(stdout);
		default:
			return usage_backend(stderr);
		}
	}
	npos = argc - optind;
	if (!strcmp(verb, "list")) {
		if (npos > 1)
			return usage_backend(stderr);
	} else if (!strcmp(verb, "add") || !strcmp(verb, "del") ||
		   !strcmp(verb, "drain") || !strcmp(verb, "up") ||
		   !strcmp(verb, "down")) {
		if (npos != 2)
			return usage_backend(stderr);
		if (xh_addr_parse(argv[optind + 1], a.cfg.addr, &a.cfg.family)) {
			pr_warn("bad backend address '%s'\n", argv[optind + 1]);
			return XH_EXIT_USAGE;
		}
	} else {
		pr_warn("unknown backend verb '%s'\n", verb);
		return usage_backend(stderr);
	}
	if (npos && xh_svc_parse(argv[optind], &s)) {
		pr_warn("bad service '%s'\n", argv[optind]);
		return XH_EXIT_USAGE;
	}
	rc = xh_cli_open(a.dev, &d, &m);
	if (rc)
		return rc;
	if (npos && xh_service_find(&m, &s, &svc_id)) {
		pr_warn("no service %s (see 'xdpha service list')\n", argv[optind]);
		rc = XH_EXIT_ERR;
		goto out;
	}
	if (!strcmp(verb, "list")) {
		struct json_object *arr = a.json ? json_object_new_array() : NULL;

		rc = xh_backend_print(&m, svc_id, a.json, arr);
		if (a.json)
			xh_json_print(arr);
		goto out;
	}
	if (!strcmp(verb, "add")) {
		rc = backend_add(&d, &m, svc_id, &a);
		goto out;
	}
	if (xh_backend_find(&m, svc_id, a.cfg.addr, a.cfg.family, &bk_id)) {
		pr_warn("no backend %s in service %s\n", argv[optind + 1],
			argv[optind]);
		rc = XH_EXIT_ERR;
		goto out;
	}
	if (!strcmp(verb, "del"))
		err = xh_backend_del(&m, svc_id, bk_id);
	else {
		state = !strcmp(verb, "drain") ? XH_BK_DRAIN :
			!strcmp(verb, "up") ? XH_BK_UP : XH_BK_DOWN;
		err = xh_backend_set_state(&m, svc_id, bk_id, state);
	}
	if (err)
		pr_warn("backend %s: %s\n", argv[optind + 1], strerror(-err));
	else
		printf("backend %s %s\n", argv[optind + 1],
		       !strcmp(verb, "del") ? "deleted" :
		       !strcmp(verb, "drain") ? "draining" :
		       !strcmp(verb, "up") ? "up" : "down");
	rc = err ? XH_EXIT_ERR : XH_EXIT_OK;
out:
	xh_cli_close(&d, &m);
	return rc;
}
