// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * main.c - the xdpha command: a table of verbs; main() only dispatches.
 * Data on stdout, diagnostics on stderr; exit 0 ok, 1 runtime error,
 * 2 usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cli.h"
#include "ctl.h"
#include "config.h"
#include "log.h"

#define XH_VERSION	"0.1.0"

int xh_cli_attached(char names[][IF_NAMESIZE], int max)
{
	char dir[PATH_MAX], link[PATH_MAX + IF_NAMESIZE + 8];
	struct xh_dev probe;
	struct dirent *de;
	DIR *dd;
	int n = 0;

	/* The pin directory of a device named "lo" tells us where this
	 * namespace's devices live. */
	if (xh_dev_init(&probe, "lo"))
		return 0;
	snprintf(dir, sizeof(dir), "%s", probe.dir);
	*strrchr(dir, '/') = 0;
	dd = opendir(dir);
	if (!dd)
		return 0;
	while ((de = readdir(dd)) && n < max) {
		if (de->d_name[0] == '.' || strchr(de->d_name, ':') ||
		    strlen(de->d_name) >= IF_NAMESIZE)
			continue;
		snprintf(link, sizeof(link), "%s/%s/link", dir, de->d_name);
		if (access(link, F_OK))
			continue;
		memcpy(names[n++], de->d_name, strlen(de->d_name) + 1);
	}
	closedir(dd);
	return n;
}

int xh_cli_open(const char *dev, struct xh_dev *d, struct xh_steer_maps *m)
{
	char names[8][IF_NAMESIZE];
	int n, err;

	if (!dev) {
		n = xh_cli_attached(names, 8);
		if (n != 1) {
			pr_warn("%s; name the device with --dev\n", n ?
				"xdpha is attached to several devices" :
				"xdpha is attached to no device here");
			return n ? XH_EXIT_USAGE : XH_EXIT_ERR;
		}
		dev = names[0];
	}
	err = xh_dev_init(d, dev);
	if (err) {
		pr_warn("%s: %s\n", dev, err == -ENODEV ? "no such device" :
			strerror(-err));
		return XH_EXIT_ERR;
	}
	if (!xh_dev_attached(d)) {
		pr_warn("%s: xdpha is not attached (try 'xdpha attach steer %s')\n",
			dev, dev);
		return XH_EXIT_ERR;
	}
	err = xh_dev_lock(d);
	err = err ?: xh_maps_open(d, m);
	if (err) {
		xh_dev_unlock(d);
		return XH_EXIT_ERR;
	}
	return XH_EXIT_OK;
}

void xh_cli_close(struct xh_dev *d, struct xh_steer_maps *m)
{
	xh_maps_close(m);
	xh_dev_unlock(d);
}

void xh_json_print(struct json_object *o)
{
	static bool fmt;

	/* ms and rates to the microsecond / a thousandth, not 17 digits */
	if (!fmt)
		fmt = !json_c_set_serialization_double_format("%.3f",
							     JSON_C_OPTION_GLOBAL);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* --- attach / detach / upgrade / chain ---------------------------------- */

static int usage_attach(FILE *f)
{
	fprintf(f,
"usage: xdpha attach steer|member DEV [--mode native|generic] [--flows N]\n"
"                    [--flows-new N]\n"
"  Load the steering program (steer: VIPs spread over backends) or the\n"
"  member program (member: a VNFC's NIC: VIP gate, decapsulation), pin it\n"
"  and its maps under " XH_PIN_ROOT "/DEV, and attach it to DEV through a\n"
"  bpf_link that outlives this command.\n"
"  --mode       native (driver, default) or generic (skb)\n"
"  --flows      confirmed flow table size (default %u)\n"
"  --flows-new  unconfirmed flow table size (default %u)\n",
		XH_FLOWS_DEFAULT, XH_FLOWS_NEW_DEFAULT);
	return f == stderr ? XH_EXIT_USAGE : XH_EXIT_OK;
}

static int parse_u32(const char *s, __u32 *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end || v > 0xffffffffUL)
		return -EINVAL;
	*out = v;
	return 0;
}

static int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "flows", required_argument, NULL, 'f' },
		{ "flows-new", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct xh_attach_opts o = {};
	struct xh_dev d;
	int c, err;

	while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "native"))
				o.mode = XH_MODE_NATIVE;
			else if (!strcmp(optarg, "generic") ||
				 !strcmp(optarg, "skb"))
				o.mode = XH_MODE_GENERIC;
			else
				return usage_attach(stderr);
			break;
		case 'f':
			if (parse_u32(optarg, &o.flows) || !o.flows)
				return usage_attach(stderr);
			break;
		case 'n':
			if (parse_u32(optarg, &o.flows_new) || !o.flows_new)
				return usage_attach(stderr);
			break;
		case 'h':
			return usage_attach(stdout);
		default:
			return usage_attach(stderr);
		}
	}
	if (argc - optind != 2)
		return usage_attach(stderr);
	if (!strcmp(argv[optind], "steer")) {
		o.role = XH_ROLE_STEER;
	} else if (!strcmp(argv[optind], "member")) {
		o.role = XH_ROLE_MEMBER;
	} else {
		pr_warn("unknown role '%s' (steer or member)\n", argv[optind]);
		return usage_attach(stderr);
	}
	err = xh_dev_init(&d, argv[optind + 1]);
	if (err) {
		pr_warn("%s: %s\n", argv[optind + 1], err == -ENODEV ?
			"no such device" : strerror(-err));
		return XH_EXIT_ERR;
	}
	if (xh_bpffs_ensure())
		return XH_EXIT_ERR;
	err = xh_dev_lock(&d);
	if (!err)
		err = xh_attach(&d, &o);
	xh_dev_unlock(&d);
	if (err) {
		/* The lock made the directory; a failed attach leaves none. */
		rmdir(d.dir);
		return XH_EXIT_ERR;
	}
	printf("%s: xdpha %s attached (%s mode), pinned at %s\n", d.ifname,
	       o.role == XH_ROLE_MEMBER ? "member" : "steer",
	       o.mode == XH_MODE_NATIVE ? "native" : "generic", d.dir);
	return XH_EXIT_OK;
}

static int usage_detach(FILE *f)
{
	fprintf(f,
"usage: xdpha detach DEV\n"
"  Detach xdpha from DEV and remove its program, link and every pin.\n");
	return f == stderr ? XH_EXIT_USAGE : XH_EXIT_OK;
}

static int cmd_detach(int argc, char **argv)
{
	struct xh_dev d;
	int err;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return usage_detach(stdout);
	if (argc != 2 || argv[1][0] == '-')
		return usage_detach(stderr);
	err = xh_dev_init(&d, argv[1]);
	if (err) {
		pr_warn("%s: %s\n", argv[1], err == -ENODEV ? "no such device" :
			strerror(-err));
		return XH_EXIT_ERR;
	}
	if (!xh_dev_attached(&d)) {
		pr_warn("%s: xdpha is not attached\n", d.ifname);
		return XH_EXIT_ERR;
	}
	err = xh_dev_lock(&d);
	if (!err)
		err = xh_detach(&d);
	xh_dev_unlock(&d);
	return err ? XH_EXIT_ERR : XH_EXIT_OK;
}

static int usage_upgrade(FILE *f)
{
	fprintf(f,
"usage: xdpha upgrade DEV [--obj FILE]\n"
"  Replace the program attached to DEV atomically (bpf_link update) with\n"
"  the one in FILE (default: the build this xdpha carries), reusing every\n"
"  pinned map: services, backends, flows and counters carry over.\n");
	return f == stderr ? XH_EXIT_USAGE : XH_EXIT_OK;
}

static int cmd_upgrade(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "obj", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *obj = NULL;
	struct xh_dev d;
	int c, err;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'o')
			obj = optarg;
		else
			return usage_upgrade(c == 'h' ? stdout : stderr);
	}
	if (argc - optind != 1)
		return usage_upgrade(stderr);
	err = xh_dev_init(&d, argv[optind]);
	if (err) {
		pr_warn("%s: %s\n", argv[optind], err == -ENODEV ?
			"no such device" : strerror(-err));
		return XH_EXIT_ERR;
	}
	if (obj && access(obj, R_OK)) {
		pr_warn("%s: %s\n", obj, strerror(errno));
		return XH_EXIT_ERR;
	}
	err = xh_dev_attached(&d) ? xh_dev_lock(&d) : -ENOENT;
	if (!err)
		err = xh_upgrade(&d, obj);
	else
		pr_warn("%s: xdpha is not attached; nothing to upgrade\n",
			d.ifname);
	xh_dev_unlock(&d);
	if (err)
		return XH_EXIT_ERR;
	printf("%s: program replaced, maps kept\n", d.ifname);
	return XH_EXIT_OK;
}

static int usage_chain(FILE *f)
{
	fprintf(f,
"usage: xdpha chain DEV OBJ [SEC]\n"
"       xdpha chain DEV --remove\n"
"  Put the XDP program SEC (section or program name; default the first XDP\n"
"  program) of OBJ behind xdpha: it sees every packet xdpha passes. This\n"
"  kernel's support for libxdp's dispatcher (freplace) is probed and said.\n");
	return f == stderr ? XH_EXIT_USAGE : XH_EXIT_OK;
}

static int cmd_chain(int argc, char **argv)
{
	struct xh_steer_maps m;
	struct xh_dev d;
	int err, rc, fr;
	bool remove = false;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return usage_chain(stdout);
	if (argc == 3 && !strcmp(argv[2], "--remove"))
		remove = true;
	else if (argc != 3 && argc != 4)
		return usage_chain(stderr);
	rc = xh_cli_open(argv[1], &d, &m);
	if (rc)
		return rc;
	xh_maps_close(&m);
	if (remove) {
		err = xh_chain_clear(&d);
	} else {
		fr = xh_probe_freplace();
		if (fr == 0)
			printf("freplace programs are refused by this kernel, so "
			       "libxdp's dispatcher cannot stack programs; using "
			       "xdpha's chain slot\n");
		else if (fr == 1)
			printf("freplace works here, but xdpha owns the attach "
			       "point through its bpf_link; using xdpha's chain "
			       "slot\n");
		err = xh_chain_set(&d, argv[2], argc == 4 ? argv[3] : NULL);
	}
	xh_dev_unlock(&d);
	return err ? XH_EXIT_ERR : XH_EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("xdpha %s (map ABI %d)\n", XH_VERSION, XH_ABI_VERSION);
	return XH_EXIT_OK;
}

static int cmd_help(int argc, char **argv);

static int cmd_events(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(argc == 2 && (!strcmp(argv[1], "-h") ||
			!strcmp(argv[1], "--help")) ? stdout : stderr,
			"usage: xdpha [-S SOCKET] events\n"
			"  Stream the running controller's events, one JSON object "
			"a line:\n"
			"  {\"event\", \"time_ms\", \"service\", \"backend\", "
			"\"state\", \"reason\"}\n");
		return argc == 2 && (!strcmp(argv[1], "-h") ||
				     !strcmp(argv[1], "--help")) ? 0 : 2;
	}
	pr_warn("events: no controller is listening (start 'xdpha run', or "
		"name its socket with -S)\n");
	return XH_EXIT_ERR;
}

static const struct xh_verb verbs[] = {
	{ "attach", cmd_attach, "attach xdpha to a device and pin it" },
	{ "detach", cmd_detach, "detach xdpha and remove its pins" },
	{ "status", cmd_status, "what is attached: program, mode, services, backends" },
	{ "service", cmd_service, "add, delete, list services (VIPs)" },
	{ "backend", cmd_backend, "add, delete, drain, up, down, list backends" },
	{ "stats", cmd_stats, "counters per reason, service and backend" },
	{ "upgrade", cmd_upgrade, "replace the program atomically, keep the maps" },
	{ "chain", cmd_chain, "put another XDP program behind xdpha" },
	{ "run", cmd_run, "run the controller (steering or member: BFD, failover, election)" },
	{ "member", cmd_member, "the VNFC side: BFD to the steering node; promote|demote" },
	{ "events", cmd_events, "stream the controller's events as JSON lines" },
	{ "version", cmd_version, "print the version" },
	{ "help", cmd_help, "this text, or 'xdpha help VERB'" },
};

static int cmd_help(int argc, char **argv)
{
	size_t i;

	if (argc == 2) {
		for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
			if (!strcmp(verbs[i].name, argv[1]) &&
			    verbs[i].fn != cmd_help) {
				char *a[] = { argv[1], "--help", NULL };

				optind = 0;
				return verbs[i].fn(2, a);
			}
		pr_warn("no verb '%s'\n", argv[1]);
		return XH_EXIT_USAGE;
	}
	printf("usage: xdpha [-v] [-S SOCKET | --local] VERB [options] [DEV]\n\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		printf("  %-9s %s\n", verbs[i].name, verbs[i].summary);
	printf("\n'xdpha VERB --help' explains a verb. -v (repeatable) shows more "
	       "diagnostics, libbpf's included.\n"
	       "While a controller runs, verbs go through its control socket "
	       "(-S SOCKET, $XDPHA_SOCKET,\nor %s); --local acts on the maps "
	       "directly.\n", XH_CFG_SOCKET_DEFAULT);
	return XH_EXIT_OK;
}

/* Verbs a running controller executes for us, so that one owner changes
 * the maps; the others always run here. */
static bool forwarded(const char *verb)
{
	return strcmp(verb, "run") && strcmp(verb, "member") &&
	       strcmp(verb, "help") && strcmp(verb, "version");
}

int xh_run_verb(int argc, char **argv, bool local)
{
	size_t i;

	(void)local;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(verbs[i].name, argv[0]))
			continue;
		optind = 0;	/* a fresh getopt scan for the verb */
		return verbs[i].fn(argc, argv);
	}
	pr_warn("xdpha: unknown verb '%s' (see 'xdpha help')\n", argv[0]);
	return XH_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	int verbose = XH_LOG_WARN, rc;
	const char *sock = NULL;
	bool local = false;

	for (; argc > 1 && argv[1][0] == '-'; argv++, argc--) {
		if (!strcmp(argv[1], "-v")) {
			verbose++;
		} else if (!strncmp(argv[1], "-vv", 3) &&
			   strspn(argv[1] + 1, "v") == strlen(argv[1]) - 1) {
			verbose += strlen(argv[1]) - 1;
		} else if (!strcmp(argv[1], "-S") && argc > 2) {
			sock = argv[2];
			argv++;
			argc--;
		} else if (!strcmp(argv[1], "--local")) {
			local = true;
		} else if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			return cmd_help(1, argv);
		} else {
			pr_warn("xdpha: unknown option '%s' (see 'xdpha help')\n",
				argv[1]);
			return XH_EXIT_USAGE;
		}
	}
	xh_log_init(verbose);
	xh_ctl_sock = sock;
	if (argc < 2) {
		fprintf(stderr, "usage: xdpha [-v] [-S SOCKET | --local] VERB "
			"[options] [DEV] (see 'xdpha help')\n");
		return XH_EXIT_USAGE;
	}
	if (!local && forwarded(argv[1])) {
		rc = xh_ctl_forward(xh_ctl_path(sock), argc - 1, argv + 1);
		if (rc >= 0)
			return rc;
	}
	return xh_run_verb(argc - 1, argv + 1, true);
}
