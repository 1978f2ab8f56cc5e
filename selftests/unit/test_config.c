// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_config.c - what the controller's configuration file accepts, what it
 * fills in by default, and how it explains what it refuses (user/config.c).
 *
 * A refused file must name "FILE:LINE:" of the offending setting: each bad
 * case marks that line with "#!" and the test finds it there, so cases stay
 * readable and nobody counts lines by hand. A refused file must also leave
 * the caller's struct alone, which every bad case checks.
 *
 * The examples are read from $XH_SRCDIR/examples (default: the current
 * directory, which is the repository root under make test).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include "config.h"
#include "log.h"

struct fixture {
	char path[64];		/* the temporary file every test writes */
	char err[512];
	struct xh_cfg cfg;	/* freed by teardown, also after a failure */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	if (!f)
		return -1;
	strcpy(f->path, "/tmp/xh_test_config_XXXXXX");
	fd = mkstemp(f->path);
	if (fd < 0) {
		free(f);
		return -1;
	}
	close(fd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	xh_config_free(&f->cfg);
	free(f);
	return 0;
}

static void write_text(const struct fixture *f, const char *text)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) < 0, 0);
	assert_int_equal(fclose(fp), 0);
}

static void load_ok(struct fixture *f, const char *text)
{
	int ret;

	write_text(f, text);
	xh_config_free(&f->cfg);
	ret = xh_config_load(f->path, &f->cfg, f->err, sizeof(f->err));
	if (ret)
		fail_msg("refused a good file (%d): %s\n%s", ret, f->err, text);
}

/* The line holding "#!", 0 if none (an error about the whole file). */
static int marked_line(const char *text)
{
	const char *m = strstr(text, "#!"), *p;
	int line = 1;

	if (!m)
		return 0;
	for (p = text; p < m; p++)
		line += *p == '\n';
	return line;
}

/* text must be refused with -EINVAL, at its "#!" line, with word in the
 * reason, and without a byte of the caller's struct changed. */
static void expect_bad(struct fixture *f, const char *text, const char *word)
{
	struct xh_cfg *out, *pattern;
	int line = marked_line(text), ret;
	char want[128];

	out = malloc(sizeof(*out));
	pattern = malloc(sizeof(*pattern));
	assert_non_null(out);
	assert_non_null(pattern);
	memset(pattern, 0xa5, sizeof(*pattern));
	memcpy(out, pattern, sizeof(*out));
	write_text(f, text);
	ret = xh_config_load(f->path, out, f->err, sizeof(f->err));
	if (line)
		snprintf(want, sizeof(want), "%s:%d: ", f->path, line);
	else
		snprintf(want, sizeof(want), "%s: ", f->path);
	if (ret != -EINVAL || strncmp(f->err, want, strlen(want)) ||
	    !strstr(f->err, word) || memcmp(out, pattern, sizeof(*out))) {
		free(out);
		free(pattern);
		fail_msg("ret %d, error \"%s\"; wanted -EINVAL, \"%s...%s...\", "
			 "struct untouched, for:\n%s", ret, f->err, want, word,
			 text);
	}
	if (getenv("XH_TEST_VERBOSE"))	/* to read the messages */
		print_message("%s\n", f->err);
	free(out);
	free(pattern);
}

static char *examples_path(const char *name)
{
	const char *dir = getenv("XH_SRCDIR") ?: ".";
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/examples/%s", dir, name);
	return buf;
}

static __be32 ip4(const char *txt)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, txt, &a), 1);
	return a.s_addr;
}

static void test_example_steer(void **state)
{
	struct fixture *f = *state;
	const struct xh_cfg_service *s;
	const struct xh_cfg_backend *b;
	struct xh_cfg *c = &f->cfg;
	int ret;

	ret = xh_config_load(examples_path("steer.conf"), c, f->err,
			     sizeof(f->err));
	if (ret)
		fail_msg("%s", f->err);
	assert_string_equal(c->socket, "/run/xdpha/xdpha.sock");
	assert_int_equal(c->log_level, XH_LOG_INFO);
	assert_string_equal(c->notify_prog, "/usr/local/libexec/xdpha/notify");
	assert_int_equal(c->n_notify_args, 2);
	assert_string_equal(c->notify_args[0], "--site");
	assert_string_equal(c->notify_args[1], "lab-1");
	assert_null(c->notify_args[2]);
	assert_string_equal(c->checkpoint_dir, "/var/lib/xdpha");
	assert_int_equal(c->hb_interval_ms, 1);
	assert_int_equal(c->hb_mult, 8);

	assert_int_equal(c->n_ifaces, 1);
	assert_string_equal(c->ifaces[0].name, "s0");
	assert_int_equal(c->ifaces[0].addr4, ip4("198.18.0.2"));
	assert_true(c->ifaces[0].have_addr6);

	assert_int_equal(c->n_services, 2);
	s = &c->services[0];
	assert_string_equal(s->name, "198.18.100.1:80/tcp");
	assert_string_equal(s->iface, "s0");
	assert_int_equal(s->mode, XH_SVC_ACTIVE_ACTIVE);
	assert_int_equal(s->fwd, XH_FWD_L2);
	assert_int_equal(s->n_backends, 5);
	assert_int_equal(s->backends[2].weight, 2);
	assert_int_equal(s->backends[3].tier, 1);
	assert_int_equal(s->backends[4].state, XH_BK_DRAIN);
	assert_int_equal(s->backends[0].tier, 0);

	s = &c->services[1];
	assert_string_equal(s->name, "[fd00:7868:0:100::1]:53/udp");
	assert_int_equal(s->fwd, XH_FWD_IPIP);
	assert_int_equal(s->encap_family, XH_FAM_V6);
	assert_int_equal(s->table_size, 251);
	b = &s->backends[0];
	assert_int_equal(b->family, XH_FAM_V6);
	assert_true(b->have_mac);
	assert_int_equal(b->mac[5], 0x21);
	assert_string_equal(b->via, "s1");
	assert_true(b->heartbeat);
	assert_false(s->backends[1].heartbeat);
	assert_false(s->backends[1].have_mac);
}

static void test_example_active_standby(void **state)
{
	struct fixture *f = *state;
	const struct xh_cfg_service *s;
	struct xh_cfg *c = &f->cfg;
	int ret;

	ret = xh_config_load(examples_path("steer-active-standby.conf"), c,
			     f->err, sizeof(f->err));
	if (ret)
		fail_msg("%s", f->err);
	assert_int_equal(c->hb_interval_ms, 20);
	assert_int_equal(c->hb_mult, 3);
	assert_int_equal(c->preempt_delay_ms, 2000);
	assert_int_equal(c->n_services, 2);
	s = &c->services[0];
	assert_int_equal(s->mode, XH_SVC_ACTIVE_STANDBY);
	assert_int_equal(s->n_backends, 3);
	/* tiers default to the position in the list */
	assert_int_equal(s->backends[0].tier, 0);
	assert_int_equal(s->backends[1].tier, 1);
	assert_int_equal(s->backends[2].tier, 2);
	s = &c->services[1];
	assert_string_equal(s->name, "198.18.100.3:0/tcp");
	assert_int_equal(s->backends[0].tier, 1);
	assert_int_equal(s->backends[1].tier, 0);
}

static void test_example_member(void **state)
{
	struct fixture *f = *state;
	const struct xh_cfg_group *g;
	struct xh_cfg *c = &f->cfg;
	int ret;

	ret = xh_config_load(examples_path("member.conf"), c, f->err,
			     sizeof(f->err));
	if (ret)
		fail_msg("%s", f->err);
	assert_int_equal(c->role, XH_ROLE_MEMBER);
	assert_int_equal(c->ifaces[0].n_decap, 2);
	assert_int_equal(c->n_groups, 1);
	g = &c->groups[0];
	assert_string_equal(g->name, "vnf1");
	assert_int_equal(g->id, 1);
	assert_int_equal(g->n_vips, 2);
	assert_int_equal(g->vips[1].family, XH_FAM_V6);
	assert_int_equal(g->priority, 200);
	assert_int_equal(g->n_peers, 1);
	assert_true(g->preempt);
	assert_false(g->arbiter);
	assert_int_equal(g->announce_count, 5);
	assert_int_equal(g->announce_ms, 20);
	assert_int_equal(g->advert_ms, 200);
	assert_int_equal(g->startup_ms, 3000);
}

static void test_defaults(void **state)
{
	struct fixture *f = *state;
	const struct xh_cfg_backend *b;
	const struct xh_cfg_service *s;
	const struct xh_cfg_iface *i;
	struct xh_cfg *c = &f->cfg;

	load_ok(f,
		"interfaces = ( { name = \"s0\"; address = \"198.18.0.2\"; } );\n"
		"services = ( { vip = \"198.18.100.1:80/tcp\";\n"
		"  backends = ( { address = \"198.18.0.11\"; } ); } );\n");
	assert_string_equal(c->path, f->path);
	assert_string_equal(c->socket, XH_CFG_SOCKET_DEFAULT);
	assert_int_equal(c->log_level, XH_LOG_INFO);
	assert_string_equal(c->notify_prog, "");
	assert_null(c->notify_args);
	assert_int_equal(c->n_notify_args, 0);
	assert_int_equal(c->notify_timeout_ms, 5000);
	assert_string_equal(c->checkpoint_dir, "");
	assert_int_equal(c->hb_interval_ms, 1);
	assert_int_equal(c->hb_mult, 8);
	assert_int_equal(c->hold_down_ms, 5000);
	assert_true(c->preempt);
	assert_int_equal(c->preempt_delay_ms, 0);
	assert_int_equal(c->drain_timeout_ms, 0);
	assert_int_equal(c->slow_start_ms, 1000);

	assert_int_equal(c->n_ifaces, 1);
	i = &c->ifaces[0];
	assert_int_equal(i->role, XH_ROLE_STEER);
	assert_int_equal(i->mode, XH_MODE_NATIVE);
	assert_false(i->have_addr6);
	assert_int_equal(i->flows, XH_FLOWS_DEFAULT);
	assert_int_equal(i->flows_new, XH_FLOWS_NEW_DEFAULT);
	assert_int_equal(i->line, 1);

	assert_int_equal(c->n_services, 1);
	s = &c->services[0];
	assert_string_equal(s->iface, "s0");
	assert_int_equal(s->mode, XH_SVC_ACTIVE_ACTIVE);
	assert_int_equal(s->fwd, XH_FWD_L2);
	assert_int_equal(s->table_size, XH_MAGLEV_DEFAULT);
	assert_int_equal(s->encap_family, XH_FAM_NONE);
	assert_int_equal(s->vip.port, 80);
	assert_int_equal(s->vip.proto, IPPROTO_TCP);
	assert_int_equal(s->line, 2);
	assert_int_equal(s->n_backends, 1);
	b = &s->backends[0];
	assert_int_equal(b->addr[0], ip4("198.18.0.11"));
	assert_int_equal(b->family, XH_FAM_V4);
	assert_int_equal(b->weight, 1);
	assert_int_equal(b->tier, 0);
	assert_false(b->have_mac);
	assert_string_equal(b->via, "");
	assert_true(b->heartbeat);
	assert_int_equal(b->state, XH_BK_UP);
	assert_int_equal(b->line, 3);

	/* services may be left out: they can come later */
	load_ok(f, "interfaces = ( { name = \"s0\"; address = \"198.18.0.2\"; } );\n");
	assert_int_equal(c->n_services, 0);
	assert_null(c->services);
}

#define IF1 "interfaces = ( { name = \"s0\"; address = \"198.18.0.2\"; " \
	    "address6 = \"fd00:7868:0:1::2\"; } );\n"
#define IF2 "interfaces = (\n { name = \"s0\"; address = \"198.18.0.2\"; },\n" \
	    " { name = \"s1\"; address = \"198.18.1.2\"; }\n);\n"
/* a service of 198.18.100.1:80/tcp with body as its other settings */
#define SVC(body) IF1 "services = ( {\n vip = \"198.18.100.1:80/tcp\";\n" \
	body "} );\n"
#define BK(body) SVC(" backends = (\n" body " );\n")

static const struct {
	const char *text;
	const char *word;
} bad_cases[] = {
	/* interfaces */
	{ "heartbeat: { interval_ms = 10; };\n", "interfaces missing" },
	{ "interfaces = ();  #!\n", "empty" },
	{ "interfaces = { name = \"s0\"; };  #!\n", "must be a list" },
	/* (libconfig dates a scalar by the token after it: keep that token
	 * on the same line, as a file written by hand does) */
	{ "interfaces = (\n \"s0\", \"s1\"  #!\n);\n", "must be a group" },
	{ "interfaces = (\n { address = \"198.18.0.2\"; }  #!\n);\n",
	  "name missing" },
	{ "interfaces = (\n { name = \"s0123456789abcdef\";  #!\n"
	  "   address = \"198.18.0.2\"; }\n);\n", "not an interface name" },
	{ "interfaces = (\n { name = \"s/0\"; address = \"198.18.0.2\"; }  #!\n);\n",
	  "not an interface name" },
	{ "interfaces = (\n { name = \"s0\"; role = \"lb\";  #!\n"
	  "   address = \"198.18.0.2\"; }\n);\n", "steer|member" },
	{ "interfaces = (\n { name = \"s0\"; mode = \"skb\";  #!\n"
	  "   address = \"198.18.0.2\"; }\n);\n", "native|generic" },
	{ "interfaces = (\n { name = \"s0\"; }  #!\n);\n", "address missing" },
	{ "interfaces = (\n { name = \"s0\";\n"
	  "   address = \"fd00:7868::2\"; }  #!\n);\n", "IPv4" },
	{ "interfaces = (\n { name = \"s0\"; address = \"198.18.0.2\";\n"
	  "   address6 = \"198.18.0.3\"; }  #!\n);\n", "IPv6" },
	{ "interfaces = (\n { name = \"s0\"; address = \"198.18.0.2\";\n"
	  "   address6 = \"fd00:7868::zz\"; }  #!\n);\n", "not an IP address" },
	{ "interfaces = (\n { name = \"s0\"; address = \"198.18.0.2\"; },\n"
	  " { name = \"s0\"; address = \"198.18.0.3\"; }  #!\n);\n",
	  "already declared at line 2" },
	{ "interfaces = (\n { name = \"s0\"; address = \"198.18.0.2\";\n"
	  "   flows = 0; }  #!\n);\n", "out of range" },

	/* services */
	{ IF1 "services = { vip = \"198.18.100.1:80/tcp\"; };  #!\n",
	  "must be a list" },
	{ IF1 "services = (\n { interface = \"s0\"; }  #!\n);\n", "vip missing" },
	{ IF1 "services = (\n { vip = \"198.18.100.1:80\"; }  #!\n);\n",
	  "not ADDR:PORT/PROTO" },
	{ IF1 "services = (\n { vip = 80; }  #!\n);\n", "must be a string" },
	{ SVC(" interface = \"s9\";  #!\n"), "not declared" },
	{ IF2 "services = (\n { vip = \"198.18.100.1:80/tcp\"; }  #!\n);\n",
	  "interface missing" },
	{ SVC(" mode = \"active-passive\";  #!\n"),
	  "active-active|active-standby" },
	{ SVC(" fwd = \"gre\";  #!\n"), "l2|ipip" },
	{ SVC(" fwd = \"ipip\";  #!\n"), "needs encap_src" },
	{ SVC(" fwd = \"ipip\";\n encap_src = \"fd00:7868:0:1::2\";  #!\n"),
	  "family mismatch" },
	{ SVC(" table_size = 100;  #!\n"), "table_size 100 is not prime" },
	{ SVC(" table_size = 0;  #!\n"), "out of range" },
	{ SVC(" table_size = 1048583;  #!\n"), "out of range" },
	{ SVC(" table_size = 2;  #!\n backends = (\n"
	      "  { address = \"198.18.0.11\"; }, { address = \"198.18.0.12\"; },\n"
	      "  { address = \"198.18.0.13\"; } );\n"), "smaller than" },
	{ IF1 "services = (\n { vip = \"198.18.100.1:80/tcp\"; },\n"
	  " { vip = \"198.18.100.1:80/tcp\"; }  #!\n);\n",
	  "already declared at line 3" },
	/* the same service spelt differently is still the same */
	{ IF1 "services = (\n { vip = \"198.18.100.1/udp\"; },\n"
	  " { vip = \"198.18.100.1:0/udp\"; }  #!\n);\n", "already declared" },

	/* backends */
	{ BK("  { weight = 2; }  #!\n"), "address missing" },
	{ BK("  { address = \"fd00:7868::11\"; }  #!\n"), "family mismatch" },
	{ BK("  { address = \"198.18.0.11\"; },\n"
	     "  { address = \"198.18.0.11\"; }  #!\n"), "already listed at line" },
	{ BK("  { address = \"198.18.0.11\"; weight = 0; }  #!\n"),
	  "out of range 1..65535" },
	{ BK("  { address = \"198.18.0.11\"; weight = 65536; }  #!\n"),
	  "out of range 1..65535" },
	{ BK("  { address = \"198.18.0.11\"; tier = 256; }  #!\n"),
	  "out of range 0..255" },
	{ BK("  { address = \"198.18.0.11\"; tier = -1; }  #!\n"),
	  "out of range 0..255" },
	{ BK("  { address = \"198.18.0.11\"; mac = \"02:00:00:00:00\"; }  #!\n"),
	  "not a MAC address" },
	{ BK("  { address = \"198.18.0.11\"; mac = \"01:00:5e:00:00:01\"; }  #!\n"),
	  "not a unicast" },
	{ BK("  { address = \"198.18.0.11\"; via = \"a b\"; }  #!\n"),
	  "not an interface name" },
	{ BK("  { address = \"198.18.0.11\"; heartbeat = \"yes\"; }  #!\n"),
	  "must be true or false" },
	{ BK("  { address = \"198.18.0.11\"; state = \"maint\"; }  #!\n"),
	  "up|drain|down" },
	{ SVC(" mode = \"active-standby\";\n backends = (\n"
	      "  { address = \"198.18.0.11\"; },\n"
	      "  { address = \"198.18.0.12\"; tier = 0; }  #!\n );\n"),
	  "one backend per tier" },
	/* a default tier (the position) colliding with an explicit one */
	{ SVC(" mode = \"active-standby\";\n backends = (\n"
	      "  { address = \"198.18.0.11\"; tier = 1; },\n"
	      "  { address = \"198.18.0.12\"; }  #!\n );\n"),
	  "one backend per tier" },
	{ "interfaces = ( { name = \"s0\"; address = \"198.18.0.2\"; } );\n"
	  "services = ( { vip = \"[fd00:7868:0:100::1]:80/tcp\";\n"
	  " backends = (\n  { address = \"fd00:7868::11\"; }  #!\n ); } );\n",
	  "needs address6" },
	{ BK("  \"198.18.0.11\", \"198.18.0.12\"  #!\n"), "must be a group" },

	/* unknown settings and wrong types */
	{ IF1 "servics = ();  #!\n", "unknown setting 'servics'" },
	{ "heartbeat: {\n interval_ms = 10;\n intervl_ms = 20;  #!\n};\n" IF1,
	  "unknown setting 'intervl_ms'" },
	{ BK("  { address = \"198.18.0.11\";\n    wieght = 2; }  #!\n"),
	  "unknown setting 'wieght'" },
	{ SVC(" backend = ();  #!\n"), "unknown setting 'backend'" },
	{ "controller: { sockets = \"/run/x.sock\"; };  #!\n" IF1,
	  "unknown setting 'sockets'" },
	{ "heartbeat: { interval_ms = \"10\"; };  #!\n" IF1,
	  "must be an integer" },
	{ "heartbeat: { interval_ms = 1.5; };  #!\n" IF1, "must be an integer" },
	{ "heartbeat: { preempt = 1; };  #!\n" IF1, "must be true or false" },
	{ "heartbeat = 5;  #!\n" IF1, "must be a group" },
	{ "heartbeat: { interval_ms = 0; };  #!\n" IF1, "out of range 1..10000" },
	{ "heartbeat: { multiplier = 256; };  #!\n" IF1, "out of range 1..255" },
	{ "heartbeat: { hold_down_ms = -1; };  #!\n" IF1, "out of range" },
	{ "heartbeat: { slow_start_ms = 0; };  #!\n" IF1, "out of range" },

	/* controller */
	{ "controller: { log_level = \"verbose\"; };  #!\n" IF1,
	  "warn|info|debug" },
	{ "controller: { socket = \"xdpha.sock\"; };  #!\n" IF1, "absolute" },
	{ "controller: { socket = \"/run/xdpha/"
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789.sock\"; };  #!\n" IF1,
	  "longer than 107" },
	{ "controller: { checkpoint_dir = \"state\"; };  #!\n" IF1, "absolute" },
	{ "controller: {\n notify: { args = [ \"-v\" ]; };  #!\n};\n" IF1,
	  "program missing" },
	{ "controller: {\n notify: { program = \"hook\"; };  #!\n};\n" IF1,
	  "absolute path" },
	{ "controller: {\n notify: { program = \"/bin/true\"; args = 5; };  #!\n"
	  "};\n" IF1, "must be an array" },
	{ "controller: {\n notify: { program = \"/bin/true\";\n"
	  "  args = ( \"-v\", 2 ); };  #!\n};\n" IF1, "must be a string" },
	{ "controller: {\n notify: { program = \"/bin/true\";\n"
	  "  timeout_ms = 0; };  #!\n};\n" IF1, "out of range" },

	/* syntax, as libconfig reports it, and what we add to it */
	{ IF1 "heartbeat: {\n interval_ms = ;  #!\n};\n", "syntax error" },
	{ IF1 "heartbeat: {\n interval_ms = 10;\n"
	  " interval_ms = 20;  #!\n};\n", "duplicate setting" },
	{ IF1 "services = (\n { vip = \"198.18.100.1:80/tcp\";\n"
	  "   backends = ( { address = } );  #!\n } );\n", "syntax error" },
	{ IF1 "services = (\n { vip = \"198.18.100.1:80/tcp\"; }  #!\n",
	  "syntax error at the end of the file" },
	/* libconfig 1.5 would wrap these into range instead */
	{ BK("  { address = \"198.18.0.11\";\n"
	     "    weight = 4294967297; }  #!\n"), "out of range" },
	{ "interfaces = (\n { name = \"s0\"; address = \"198.18.0.2\";\n"
	  "   flows = 0x100000000; }  #!\n);\n", "out of range" },
	{ IF1 "# a comment\n@include \"more.conf\"  #!\n", "@include" },

	/* member role */
#define MIF "interfaces = ( { name = \"b0\"; role = \"member\"; " \
	    "address = \"198.18.0.11\"; } );\n"
#define GRP(x) MIF "groups = (\n { name = \"g\"; id = 1; vips = [ " \
	    "\"198.18.100.1\" ]; priority = 100;\n" x " } );\n"
	{ GRP("  peers = [ \"198.18.0.12\" ]; arbitre = true;  #!\n"),
	  "unknown setting 'arbitre'" },
	{ GRP("  peers = [ \"198.18.0.11\" ];  #!\n"), "own address" },
	{ GRP("  peers = [ \"fd00::12\" ];  #!\n"), "needs address6" },
	{ GRP("  peers = [ \"198.18.0.12\", \"198.18.0.12\" ];  #!\n"),
	  "twice" },
	{ MIF "groups = (\n { name = \"g\"; id = 0;  #!\n vips = [ "
	  "\"198.18.100.1\" ]; priority = 100; peers = [ \"198.18.0.12\" ]; } );\n",
	  "out of range 1..255" },
	{ MIF "groups = (\n { name = \"g\"; id = 1; vips = [ \"198.18.100.1\" ];"
	  " priority = 255;  #!\n peers = [ \"198.18.0.12\" ]; } );\n",
	  "out of range 1..254" },
	{ MIF "groups = (\n { name = \"g\"; id = 1; vips = [ \"198.18.100.1\" ];"
	  " priority = 1; }  #!\n);\n", "peers missing" },
	{ MIF "services = ();  #!\n", "for role steer" },
	{ IF1 "groups = ();  #!\n", "for role member" },
	{ "interfaces = (\n { name = \"s0\"; address = \"198.18.0.2\"; },\n"
	  " { name = \"b0\"; role = \"member\"; address = \"198.18.0.11\"; }  #!\n);\n",
	  "either a steering node or a member" },
	{ "interfaces = (\n { name = \"s0\"; address = \"198.18.0.2\";\n"
	  "   decap = [ \"198.18.0.3\" ]; }  #!\n);\n", "decap is for role member" },
};

static void test_bad(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		expect_bad(f, bad_cases[i].text, bad_cases[i].word);
}

/* What the prescan must leave alone: big numbers in strings and
 * comments, floats, 64-bit literals, names with digits. */
static void test_prescan_quiet(void **state)
{
	struct fixture *f = *state;

	load_ok(f,
		"# flows = 99999999999 would be refused\n"
		"/* 0x1ffffffff\n 12345678901 */ // 55555555555\n"
		"interfaces = ( { name = \"s0\"; address = \"198.18.0.2\";\n"
		"  address6 = \"fd00:7868::2\"; flows = 2147483647; } );\n"
		"services = ( { vip = \"198.18.100.1:80/tcp\";\n"
		"  backends = ( { address = \"198.18.0.11\"; weight = 0xffff; } );\n"
		"} );\n");
	assert_int_equal(f->cfg.ifaces[0].flows, 2147483647);
	assert_int_equal(f->cfg.services[0].backends[0].weight, 65535);
	/* a 64-bit literal is read right, then range-checked */
	expect_bad(f, "interfaces = ( { name = \"s0\"; address = \"198.18.0.2\";\n"
		   "  flows = 5000000000L; } );  #!\n", "5000000000 is out of range");
	expect_bad(f, "heartbeat: { interval_ms = 1e3; };  #!\n" IF1,
		   "must be an integer");
}

/* Limits: 255 services, 256 backends per service. */
static void test_limits(void **state)
{
	struct fixture *f = *state;
	char *text = NULL;
	size_t len = 0;
	FILE *m;
	int i;

	m = open_memstream(&text, &len);
	assert_non_null(m);
	fputs(IF1 "services = (  #!\n", m);
	for (i = 0; i < 256; i++)
		fprintf(m, "%s{ vip = \"198.18.100.%d:%d/tcp\"; }\n",
			i ? "," : "", i / 200 + 1, i);
	fputs(");\n", m);
	fclose(m);
	expect_bad(f, text, "256 services, at most 255");
	/* one fewer is fine */
	*strrchr(text, ',') = ' ';
	*strrchr(text, '{') = '#';
	load_ok(f, text);
	assert_int_equal(f->cfg.n_services, 255);
	free(text);

	m = open_memstream(&text, &len);
	assert_non_null(m);
	fputs(IF1 "services = ( { vip = \"198.18.100.1:80/tcp\";\n"
	      "backends = (  #!\n", m);
	for (i = 0; i < 257; i++)
		fprintf(m, "%s{ address = \"198.18.%d.%d\"; }\n", i ? "," : "",
			10 + i / 200, i % 200 + 1);
	fputs("); } );\n", m);
	fclose(m);
	expect_bad(f, text, "257 backends, at most 256");
	*strrchr(text, ',') = ' ';
	*strrchr(text, '{') = '#';
	load_ok(f, text);
	assert_int_equal(f->cfg.services[0].n_backends, 256);
	assert_int_equal(f->cfg.services[0].backends[255].line, 259);
	free(text);
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	struct xh_cfg out;
	char want[160];

	memset(&out, 0x5a, sizeof(out));
	unlink(f->path);
	assert_int_equal(xh_config_load(f->path, &out, f->err, sizeof(f->err)),
			 -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot open: %s", f->path,
		 strerror(ENOENT));
	assert_string_equal(f->err, want);
	/* a directory is no configuration either */
	assert_int_equal(xh_config_load("/tmp", &out, f->err, sizeof(f->err)),
			 -EINVAL);
	assert_string_equal(f->err, "/tmp: not a regular file");
	/* no error buffer: still an error code */
	assert_int_equal(xh_config_load(f->path, &out, NULL, 0), -ENOENT);
}

/* A reload with a bad file leaves the running configuration as it was,
 * even when the caller passes the running struct itself. */
static void test_failed_reload(void **state)
{
	struct fixture *f = *state;
	struct xh_cfg before;

	load_ok(f, IF1 "services = ( { vip = \"198.18.100.1:80/tcp\";\n"
		"  backends = ( { address = \"198.18.0.11\"; } ); } );\n");
	memcpy(&before, &f->cfg, sizeof(before));
	write_text(f, IF1 "services = ( { vip = \"198.18.100.2:80/tcp\";\n"
		   "  table_size = 100; } );\n");
	assert_int_equal(xh_config_load(f->path, &f->cfg, f->err,
					sizeof(f->err)), -EINVAL);
	assert_memory_equal(&before, &f->cfg, sizeof(before));
	/* and it still reads as before (ASan: nothing freed under us) */
	assert_string_equal(f->cfg.services[0].name, "198.18.100.1:80/tcp");
	assert_int_equal(f->cfg.services[0].backends[0].addr[0],
			 ip4("198.18.0.11"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_example_steer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_example_active_standby,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_example_member, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prescan_quiet, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failed_reload, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
