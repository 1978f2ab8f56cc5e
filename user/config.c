// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * config.c - read and check the controller's configuration file; see
 * config.h for the contract and examples/steer.conf for the schema.
 *
 * libconfig does the syntax (and tells the line of a syntax error); this
 * file does everything else: every setting is checked for its type, its
 * range and against the settings it depends on, and a setting this file
 * does not know is an error, so a typo never silently becomes a default.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <libconfig.h>
#include "config.h"
#include "log.h"
#include "maglev.h"

#define CFG_FILE_MAX	(16 << 20)	/* far above any sane configuration */
#define CFG_MS_MAX	86400000	/* one day: more is a typo */

struct ctx {
	const char *path;
	char *err;
	size_t errlen;
};

/* Explain an error at setting s (NULL: the file as a whole). */
static int __attribute__((format(printf, 3, 4)))
fail(struct ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	unsigned int line = s ? config_setting_source_line(s) : 0;
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return -EINVAL;
	if (line)
		n = snprintf(c->err, c->errlen, "%s:%u: ", c->path, line);
	else
		n = snprintf(c->err, c->errlen, "%s: ", c->path);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Same, at a line found by our own scan of the text. */
static int __attribute__((format(printf, 3, 4)))
fail_line(struct ctx *c, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return -EINVAL;
	n = snprintf(c->err, c->errlen, "%s:%u: ", c->path, line);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const char *type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:	return "a group { }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:	return "an integer";
	case CONFIG_TYPE_FLOAT:	return "a number with a fraction";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL:	return "a boolean";
	case CONFIG_TYPE_ARRAY:	return "an array [ ]";
	case CONFIG_TYPE_LIST:	return "a list ( )";
	default:		return "nothing";
	}
}

static const char *sname(const config_setting_t *s)
{
	return config_setting_name(s) ?: "entry";
}

/*
 * libconfig 1.5 reads an integer literal that does not fit in 32 bits
 * into an int without a word (5000000000 becomes 705032704), and no
 * setting here takes such a value, so such literals are refused on the
 * text before libconfig sees it. @include is refused too: the
 * configuration is one file, and every error can then name it.
 */
static int prescan(struct ctx *c, const char *p, const char *end)
{
	unsigned int line = 1;

	while (p < end) {
		if (*p == '\n') {
			line++;
			p++;
		} else if (*p == '#' || (*p == '/' && p + 1 < end &&
					 p[1] == '/')) {
			while (p < end && *p != '\n')
				p++;
		} else if (*p == '/' && p + 1 < end && p[1] == '*') {
			for (p += 2; p < end; p++) {
				if (*p == '\n')
					line++;
				if (*p == '*' && p + 1 < end && p[1] == '/') {
					p += 2;
					break;
				}
			}
		} else if (*p == '"') {
			for (p++; p < end && *p != '"'; p++) {
				if (*p == '\\' && p + 1 < end)
					p++;
				if (*p == '\n')
					line++;
			}
			if (p < end)
				p++;
		} else if (*p == '@') {
			if (end - p >= 8 && !memcmp(p, "@include", 8))
				return fail_line(c, line, "@include is not "
						 "supported: the configuration "
						 "is one file");
			p++;
		} else if (isalpha((unsigned char)*p) || *p == '*') {
			/* a name; it may hold digits (address6) */
			while (p < end && (isalnum((unsigned char)*p) ||
					   *p == '-' || *p == '_' || *p == '*'))
				p++;
		} else if (isdigit((unsigned char)*p) ||
			   ((*p == '-' || *p == '+' || *p == '.') &&
			    p + 1 < end && isdigit((unsigned char)p[1]))) {
			const char *t = p, *d;
			bool hex, flt = false;
			char num[64], *e;
			unsigned long long v;
			bool neg = *p == '-';

			if (*p == '-' || *p == '+')
				p++;
			d = p;
			hex = end - d > 2 && d[0] == '0' &&
			      (d[1] == 'x' || d[1] == 'X');
			while (p < end && (isalnum((unsigned char)*p) ||
					   *p == '.' ||
					   ((*p == '-' || *p == '+') && !hex &&
					    (p[-1] == 'e' || p[-1] == 'E')))) {
				if (!hex && (*p == '.' || *p == 'e' ||
					     *p == 'E'))
					flt = true;
				p++;
			}
			/* floats and 64-bit (L) literals are read right */
			if (flt || p[-1] == 'L')
				continue;
			if ((size_t)(p - d) >= sizeof(num))
				goto big;
			memcpy(num, d, p - d);
			num[p - d] = 0;
			errno = 0;
			v = strtoull(hex ? num + 2 : num, &e, hex ? 16 : 10);
			if (*e)
				continue;	/* libconfig's to judge */
			if (errno || v > (neg ? 2147483648ULL : 2147483647ULL))
				goto big;
			continue;
big:
			return fail_line(c, line, "integer %.*s is out of range "
					 "(-2147483648..2147483647)",
					 (int)(p - t), t);
		} else {
			p++;
		}
	}
	return 0;
}

/* Every member of group g must be one of known[] (NULL-terminated). */
static int check_known(struct ctx *c, const config_setting_t *g,
		       const char *what, const char *const *known)
{
	int i, n = config_setting_length(g);
	char list[256];
	size_t k, len;

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, i);
		const char *name = sname(m);

		for (k = 0; known[k]; k++)
			if (!strcmp(name, known[k]))
				break;
		if (known[k])
			continue;
		list[0] = 0;
		for (k = 0, len = 0; known[k] && len < sizeof(list); k++)
			len += snprintf(list + len, sizeof(list) - len, "%s%s",
					k ? ", " : "", known[k]);
		return fail(c, m, "%s%sunknown setting '%s' (known: %s)",
			    what ?: "", what ? ": " : "", name, list);
	}
	return 0;
}

static int want_group(struct ctx *c, const config_setting_t *s,
		      const char *what)
{
	if (config_setting_type(s) == CONFIG_TYPE_GROUP)
		return 0;
	return fail(c, s, "%s must be a group { ... }, not %s", what,
		    type_name(s));
}

/* A list of groups; an empty array [] is an empty list too. */
static int want_list(struct ctx *c, const config_setting_t *s)
{
	int t = config_setting_type(s);

	if (t == CONFIG_TYPE_LIST ||
	    (t == CONFIG_TYPE_ARRAY && !config_setting_length(s)))
		return 0;
	return fail(c, s, "%s must be a list ( { ... }, ... ), not %s",
		    sname(s), type_name(s));
}

static int as_str(struct ctx *c, const config_setting_t *s, const char *what,
		  const char **v)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(c, s, "%s: %s must be a string, not %s", what,
			    sname(s), type_name(s));
	*v = config_setting_get_string(s);
	return 0;
}

/* A string that must fit in dst (size bytes with the NUL) and, if abs,
 * be an absolute path: the controller's working directory is nobody's
 * business. */
static int as_path(struct ctx *c, const config_setting_t *s, const char *what,
		   char *dst, size_t size, bool abs)
{
	const char *v = "";
	int err;

	err = as_str(c, s, what, &v);
	if (err)
		return err;
	if (strlen(v) >= size)
		return fail(c, s, "%s: %s is longer than %zu characters", what,
			    sname(s), size - 1);
	if (abs && v[0] != '/')
		return fail(c, s, "%s: %s \"%s\" must be an absolute path",
			    what, sname(s), v);
	strcpy(dst, v);
	return 0;
}

static int as_int(struct ctx *c, const config_setting_t *s, const char *what,
		  long long min, long long max, long long *v)
{
	int t = config_setting_type(s);

	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return fail(c, s, "%s: %s must be an integer, not %s", what,
			    sname(s), type_name(s));
	*v = config_setting_get_int64(s);
	if (*v < min || *v > max)
		return fail(c, s, "%s: %s %lld is out of range %lld..%lld",
			    what, sname(s), *v, min, max);
	return 0;
}

static int as_u32(struct ctx *c, const config_setting_t *s, const char *what,
		  __u32 min, __u32 max, __u32 *v)
{
	long long x = 0;
	int err;

	err = as_int(c, s, what, min, max, &x);
	if (!err)
		*v = x;
	return err;
}

static int as_bool(struct ctx *c, const config_setting_t *s, const char *what,
		   bool *v)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail(c, s, "%s: %s must be true or false, not %s", what,
			    sname(s), type_name(s));
	*v = config_setting_get_bool(s);
	return 0;
}

/* One of names[] (NULL-terminated); *v gets its index. */
static int as_enum(struct ctx *c, const config_setting_t *s, const char *what,
		   const char *const *names, int *v)
{
	char list[128];
	const char *txt = "";
	size_t len = 0;
	int i, err;

	err = as_str(c, s, what, &txt);
	if (err)
		return err;
	for (i = 0; names[i]; i++)
		if (!strcmp(txt, names[i])) {
			*v = i;
			return 0;
		}
	list[0] = 0;
	for (i = 0; names[i] && len < sizeof(list); i++)
		len += snprintf(list + len, sizeof(list) - len, "%s%s",
				i ? "|" : "", names[i]);
	return fail(c, s, "%s: %s \"%s\" is not one of %s", what, sname(s),
		    txt, list);
}

/* An address of family fam (XH_FAM_NONE: either). */
static int as_addr(struct ctx *c, const config_setting_t *s, const char *what,
		   __u8 fam, __be32 addr[4], __u8 *family)
{
	const char *txt = "";
	int err;

	err = as_str(c, s, what, &txt);
	if (err)
		return err;
	if (xh_addr_parse(txt, addr, family))
		return fail(c, s, "%s: %s \"%s\" is not an IP address", what,
			    sname(s), txt);
	if (fam && *family != fam)
		return fail(c, s, "%s: %s %s must be an IPv%u address", what,
			    sname(s), txt, fam);
	return 0;
}

/* What the kernel's dev_valid_name() accepts. */
static bool valid_ifname(const char *n)
{
	size_t len = strlen(n), i;

	if (!len || len >= IF_NAMESIZE || !strcmp(n, ".") || !strcmp(n, ".."))
		return false;
	for (i = 0; i < len; i++)
		if (n[i] == '/' || n[i] == ':' || isspace((unsigned char)n[i]))
			return false;
	return true;
}

/* An array of address strings, either family, no duplicates. */
static int as_addrs(struct ctx *c, const config_setting_t *s, const char *what,
		    struct xh_cfg_addr *out, unsigned int max, unsigned int *n)
{
	unsigned int i, j, len;
	int err;

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		return fail(c, s, "%s: %s must be an array [ \"addr\", ... ], "
			    "not %s", what, sname(s), type_name(s));
	len = config_setting_length(s);
	if (len > max)
		return fail(c, s, "%s: %s has %u addresses, at most %u", what,
			    sname(s), len, max);
	for (i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);

		err = as_addr(c, e, what, XH_FAM_NONE, out[i].addr,
			      &out[i].family);
		if (err)
			return err;
		for (j = 0; j < i; j++)
			if (out[j].family == out[i].family &&
			    !memcmp(out[j].addr, out[i].addr, 16))
				return fail(c, e, "%s: %s lists %s twice", what,
					    sname(s),
					    config_setting_get_string(e));
	}
	*n = len;
	return 0;
}

static int as_ifname(struct ctx *c, const config_setting_t *s,
		     const char *what, char dst[IF_NAMESIZE])
{
	const char *txt = "";
	int err;

	err = as_str(c, s, what, &txt);
	if (err)
		return err;
	if (!valid_ifname(txt))
		return fail(c, s, "%s: %s \"%s\" is not an interface name "
			    "(1..%d characters, no '/', ':' or spaces)", what,
			    sname(s), txt, IF_NAMESIZE - 1);
	strcpy(dst, txt);
	return 0;
}

static const char *const log_names[] = { "warn", "info", "debug", NULL };

static int parse_notify(struct ctx *c, const config_setting_t *g,
			struct xh_cfg *cfg)
{
	static const char *const known[] = { "program", "args", "timeout_ms",
					     NULL };
	const char *what = "controller: notify";
	const config_setting_t *s;
	unsigned int i, n;
	int err;

	err = want_group(c, g, what);
	err = err ?: check_known(c, g, what, known);
	if (err)
		return err;
	s = config_setting_get_member(g, "program");
	if (!s)
		return fail(c, g, "%s: program missing (the hook to run on "
			    "every membership change)", what);
	err = as_path(c, s, what, cfg->notify_prog, sizeof(cfg->notify_prog),
		      true);
	if (err)
		return err;
	s = config_setting_get_member(g, "timeout_ms");
	if (s) {
		err = as_u32(c, s, what, 1, CFG_MS_MAX, &cfg->notify_timeout_ms);
		if (err)
			return err;
	}
	s = config_setting_get_member(g, "args");
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		return fail(c, s, "%s: args must be an array [ \"...\", ... ], "
			    "not %s", what, type_name(s));
	n = config_setting_length(s);
	if (!n)
		return 0;
	cfg->notify_args = calloc(n + 1, sizeof(*cfg->notify_args));
	if (!cfg->notify_args)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const config_setting_t *a = config_setting_get_elem(s, i);
		const char *txt = "";

		err = as_str(c, a, "controller: notify: args", &txt);
		if (err)
			return err;
		cfg->notify_args[i] = strdup(txt);
		if (!cfg->notify_args[i])
			return -ENOMEM;
		cfg->n_notify_args++;
	}
	return 0;
}

static int parse_controller(struct ctx *c, const config_setting_t *g,
			    struct xh_cfg *cfg)
{
	static const char *const known[] = { "socket", "log_level", "notify",
					     "checkpoint_dir", NULL };
	const char *what = "controller";
	const config_setting_t *s;
	int err;

	err = want_group(c, g, what);
	err = err ?: check_known(c, g, what, known);
	if (err)
		return err;
	s = config_setting_get_member(g, "socket");
	if (s) {
		err = as_path(c, s, what, cfg->socket, sizeof(cfg->socket),
			      true);
		if (err)
			return err;
	}
	s = config_setting_get_member(g, "log_level");
	if (s) {
		err = as_enum(c, s, what, log_names, &cfg->log_level);
		if (err)
			return err;
	}
	s = config_setting_get_member(g, "checkpoint_dir");
	if (s) {
		err = as_path(c, s, what, cfg->checkpoint_dir,
			      sizeof(cfg->checkpoint_dir), true);
		if (err)
			return err;
	}
	s = config_setting_get_member(g, "notify");
	return s ? parse_notify(c, s, cfg) : 0;
}

static int parse_heartbeat(struct ctx *c, const config_setting_t *g,
			   struct xh_cfg *cfg)
{
	static const char *const known[] = {
		"interval_ms", "multiplier", "hold_down_ms", "preempt",
		"preempt_delay_ms", "drain_timeout_ms", "slow_start_ms", NULL
	};
	const struct {
		const char *name;
		__u32 min, max;
		__u32 *v;
	} num[] = {
		{ "interval_ms", 1, 10000, &cfg->hb_interval_ms },
		{ "multiplier", 1, 255, &cfg->hb_mult },
		{ "hold_down_ms", 0, CFG_MS_MAX, &cfg->hold_down_ms },
		{ "preempt_delay_ms", 0, CFG_MS_MAX, &cfg->preempt_delay_ms },
		{ "drain_timeout_ms", 0, CFG_MS_MAX, &cfg->drain_timeout_ms },
		{ "slow_start_ms", 1, 60000, &cfg->slow_start_ms },
	};
	const char *what = "heartbeat";
	const config_setting_t *s;
	size_t i;
	int err;

	err = want_group(c, g, what);
	err = err ?: check_known(c, g, what, known);
	if (err)
		return err;
	for (i = 0; i < sizeof(num) / sizeof(num[0]); i++) {
		s = config_setting_get_member(g, num[i].name);
		if (!s)
			continue;
		err = as_u32(c, s, what, num[i].min, num[i].max, num[i].v);
		if (err)
			return err;
	}
	s = config_setting_get_member(g, "preempt");
	return s ? as_bool(c, s, what, &cfg->preempt) : 0;
}

static int parse_iface(struct ctx *c, const config_setting_t *g,
		       struct xh_cfg *cfg, struct xh_cfg_iface *ifc)
{
	static const char *const known[] = { "name", "role", "mode", "address",
					     "address6", "flows", "flows_new",
					     "decap", NULL };
	static const char *const roles[] = { "steer", "member", NULL };
	static const char *const modes[] = { "native", "generic", NULL };
	const config_setting_t *s;
	char what[16 + IF_NAMESIZE];
	unsigned int i;
	__u8 fam;
	int err, v;

	ifc->line = config_setting_source_line(g);
	ifc->role = XH_ROLE_STEER;
	ifc->mode = XH_MODE_NATIVE;
	ifc->flows = XH_FLOWS_DEFAULT;
	ifc->flows_new = XH_FLOWS_NEW_DEFAULT;
	err = want_group(c, g, "interfaces entry");
	err = err ?: check_known(c, g, "interface", known);
	if (err)
		return err;
	s = config_setting_get_member(g, "name");
	if (!s)
		return fail(c, g, "interface: name missing");
	err = as_ifname(c, s, "interface", ifc->name);
	if (err)
		return err;
	snprintf(what, sizeof(what), "interface %s", ifc->name);
	for (i = 0; &cfg->ifaces[i] != ifc; i++)
		if (!strcmp(cfg->ifaces[i].name, ifc->name))
			return fail(c, s, "%s is already declared at line %d",
				    what, cfg->ifaces[i].line);

	s = config_setting_get_member(g, "role");
	if (s) {
		err = as_enum(c, s, what, roles, &v);
		if (err)
			return err;
		ifc->role = v;
	}
	if (ifc != cfg->ifaces && ifc->role != cfg->ifaces[0].role)
		return fail(c, s ?: g, "%s: role %s, but %s is %s: one "
			    "controller is either a steering node or a member",
			    what, roles[ifc->role], cfg->ifaces[0].name,
			    roles[cfg->ifaces[0].role]);
	cfg->role = ifc->role;
	s = config_setting_get_member(g, "mode");
	if (s) {
		err = as_enum(c, s, what, modes, &v);
		if (err)
			return err;
		ifc->mode = v;
	}
	s = config_setting_get_member(g, "address");
	if (!s)
		return fail(c, g, "%s: address missing (its IPv4 address, the "
			    "BFD source toward IPv4 backends)", what);
	{
		__be32 a[4];

		err = as_addr(c, s, what, XH_FAM_V4, a, &fam);
		if (err)
			return err;
		ifc->addr4 = a[0];
	}
	s = config_setting_get_member(g, "address6");
	if (s) {
		err = as_addr(c, s, what, XH_FAM_V6, ifc->addr6, &fam);
		if (err)
			return err;
		ifc->have_addr6 = true;
	}
	s = config_setting_get_member(g, "flows");
	if (s) {
		err = as_u32(c, s, what, 1, INT32_MAX, &ifc->flows);
		if (err)
			return err;
	}
	s = config_setting_get_member(g, "flows_new");
	if (s) {
		err = as_u32(c, s, what, 1, INT32_MAX, &ifc->flows_new);
		if (err)
			return err;
	}
	s = config_setting_get_member(g, "decap");
	if (s) {
		if (ifc->role != XH_ROLE_MEMBER)
			return fail(c, s, "%s: decap is for role member (the "
				    "steering node encapsulates)", what);
		err = as_addrs(c, s, what, ifc->decap, XH_CFG_MAX_DECAP,
			       &ifc->n_decap);
		if (err)
			return err;
	}
	return 0;
}

static int parse_ifaces(struct ctx *c, const config_setting_t *l,
			struct xh_cfg *cfg)
{
	unsigned int i, n;
	int err;

	err = want_list(c, l);
	if (err)
		return err;
	n = config_setting_length(l);
	if (!n)
		return fail(c, l, "interfaces is empty: declare at least one");
	cfg->ifaces = calloc(n, sizeof(*cfg->ifaces));
	if (!cfg->ifaces)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		err = parse_iface(c, config_setting_get_elem(l, i), cfg,
				  &cfg->ifaces[i]);
		if (err)
			return err;
		cfg->n_ifaces++;
	}
	return 0;
}

static int parse_backend(struct ctx *c, const config_setting_t *g,
			 const struct xh_cfg_service *svc,
			 const struct xh_cfg_iface *ifc,
			 struct xh_cfg_backend *bk, unsigned int pos)
{
	static const char *const known[] = { "address", "weight", "tier", "mac",
					     "via", "heartbeat", "state", NULL };
	static const char *const states[] = { "up", "drain", "down", NULL };
	const config_setting_t *s, *hb;
	char what[160], a[INET6_ADDRSTRLEN];
	unsigned int i;
	long long v;
	int err, st;

	bk->line = config_setting_source_line(g);
	bk->weight = 1;
	bk->tier = svc->mode == XH_SVC_ACTIVE_STANDBY ? pos : 0;
	bk->heartbeat = true;
	bk->state = XH_BK_UP;
	snprintf(what, sizeof(what), "service %s: backend", svc->name);
	err = want_group(c, g, what);
	err = err ?: check_known(c, g, what, known);
	if (err)
		return err;
	s = config_setting_get_member(g, "address");
	if (!s)
		return fail(c, g, "%s: address missing", what);
	err = as_addr(c, s, what, XH_FAM_NONE, bk->addr, &bk->family);
	if (err)
		return err;
	xh_addr_format(bk->addr, bk->family, a, sizeof(a));
	if (bk->family != svc->vip.family)
		return fail(c, s, "%s %s is IPv%u, the VIP IPv%u (address "
			    "family mismatch)", what, a, bk->family,
			    svc->vip.family);
	for (i = 0; i < pos; i++)
		if (!memcmp(svc->backends[i].addr, bk->addr, 16))
			return fail(c, s, "%s %s is already listed at line %d",
				    what, a, svc->backends[i].line);
	snprintf(what, sizeof(what), "service %s: backend %s", svc->name, a);

	s = config_setting_get_member(g, "weight");
	if (s) {
		err = as_int(c, s, what, 1, 65535, &v);
		if (err)
			return err;
		bk->weight = v;
	}
	s = config_setting_get_member(g, "tier");
	if (s) {
		err = as_int(c, s, what, 0, 255, &v);
		if (err)
			return err;
		bk->tier = v;
	}
	/* Active-standby is one backend per tier; two sharing one would
	 * quietly split traffic between them. */
	for (i = 0; svc->mode == XH_SVC_ACTIVE_STANDBY && i < pos; i++)
		if (svc->backends[i].tier == bk->tier)
			return fail(c, s ?: g, "%s: tier %u is already taken by "
				    "the backend at line %d (active-standby "
				    "has one backend per tier)", what, bk->tier,
				    svc->backends[i].line);
	s = config_setting_get_member(g, "mac");
	if (s) {
		const char *txt = "";

		err = as_str(c, s, what, &txt);
		if (err)
			return err;
		if (xh_mac_parse(txt, bk->mac))
			return fail(c, s, "%s: mac \"%s\" is not a MAC address "
				    "(xx:xx:xx:xx:xx:xx)", what, txt);
		if ((bk->mac[0] & 1) ||
		    !(bk->mac[0] | bk->mac[1] | bk->mac[2] | bk->mac[3] |
		      bk->mac[4] | bk->mac[5]))
			return fail(c, s, "%s: mac %s is not a unicast address",
				    what, txt);
		bk->have_mac = true;
	}
	s = config_setting_get_member(g, "via");
	if (s) {
		err = as_ifname(c, s, what, bk->via);
		if (err)
			return err;
	}
	s = config_setting_get_member(g, "state");
	if (s) {
		err = as_enum(c, s, what, states, &st);
		if (err)
			return err;
		bk->state = XH_BK_UP + st;
	}
	hb = config_setting_get_member(g, "heartbeat");
	if (hb) {
		err = as_bool(c, hb, what, &bk->heartbeat);
		if (err)
			return err;
	}
	if (bk->heartbeat && bk->family == XH_FAM_V6 && !ifc->have_addr6)
		return fail(c, hb ?: g, "%s: heartbeat needs address6 on "
			    "interface %s (the BFD source toward IPv6 "
			    "backends), or heartbeat = false", what, ifc->name);
	return 0;
}

static int parse_service(struct ctx *c, const config_setting_t *g,
			 struct xh_cfg *cfg, struct xh_cfg_service *svc)
{
	static const char *const known[] = { "vip", "interface", "mode", "fwd",
					     "table_size", "encap_src",
					     "backends", NULL };
	static const char *const modes[] = { "active-active", "active-standby",
					     NULL };
	static const char *const fwds[] = { "l2", "ipip", NULL };
	const config_setting_t *s, *fwd, *ts, *l;
	const struct xh_cfg_iface *ifc = NULL;
	const char *txt = "";
	unsigned int i, n;
	char what[112];
	int err, v;

	svc->line = config_setting_source_line(g);
	svc->table_size = XH_MAGLEV_DEFAULT;
	err = want_group(c, g, "services entry");
	err = err ?: check_known(c, g, "service", known);
	if (err)
		return err;
	s = config_setting_get_member(g, "vip");
	if (!s)
		return fail(c, g, "service: vip missing (ADDR:PORT/PROTO)");
	err = as_str(c, s, "service", &txt);
	if (err)
		return err;
	if (xh_svc_parse(txt, &svc->vip))
		return fail(c, s, "service: vip \"%s\" is not ADDR:PORT/PROTO "
			    "(198.18.100.1:80/tcp, [fd00:7868::1]:53/udp, "
			    "198.18.100.1/icmp)", txt);
	xh_svc_format(&svc->vip, svc->name, sizeof(svc->name));
	snprintf(what, sizeof(what), "service %s", svc->name);
	for (i = 0; &cfg->services[i] != svc; i++) {
		const struct xh_svc_spec *o = &cfg->services[i].vip;

		if (o->family == svc->vip.family &&
		    o->proto == svc->vip.proto && o->port == svc->vip.port &&
		    !memcmp(o->addr, svc->vip.addr, 16))
			return fail(c, s, "%s is already declared at line %d",
				    what, cfg->services[i].line);
	}

	s = config_setting_get_member(g, "interface");
	if (s) {
		err = as_str(c, s, what, &txt);
		if (err)
			return err;
		ifc = xh_config_iface(cfg, txt);
		if (!ifc)
			return fail(c, s, "%s: interface \"%s\" is not declared "
				    "in interfaces", what, txt);
	} else if (cfg->n_ifaces == 1) {
		ifc = &cfg->ifaces[0];
	} else {
		return fail(c, g, "%s: interface missing (%u interfaces are "
			    "declared: say which one serves it)", what,
			    cfg->n_ifaces);
	}
	strcpy(svc->iface, ifc->name);
	s = config_setting_get_member(g, "mode");
	if (s) {
		err = as_enum(c, s, what, modes, &v);
		if (err)
			return err;
		svc->mode = v;
	}
	fwd = config_setting_get_member(g, "fwd");
	if (fwd) {
		err = as_enum(c, fwd, what, fwds, &v);
		if (err)
			return err;
		svc->fwd = v;
	}
	ts = config_setting_get_member(g, "table_size");
	if (ts) {
		err = as_u32(c, ts, what, 1, XH_MAGLEV_MAX, &svc->table_size);
		if (err)
			return err;
		if (!maglev_is_prime(svc->table_size))
			return fail(c, ts, "%s: table_size %u is not prime",
				    what, svc->table_size);
	}
	s = config_setting_get_member(g, "encap_src");
	if (s) {
		err = as_addr(c, s, what, XH_FAM_NONE, svc->encap_src,
			      &svc->encap_family);
		if (err)
			return err;
		if (svc->encap_family != svc->vip.family)
			return fail(c, s, "%s: encap_src is IPv%u, the VIP IPv%u "
				    "(address family mismatch)", what,
				    svc->encap_family, svc->vip.family);
	}
	if (svc->fwd == XH_FWD_IPIP && !svc->encap_family)
		return fail(c, fwd, "%s: fwd ipip needs encap_src (the outer "
			    "source address, IPv%u like the VIP)", what,
			    svc->vip.family);

	l = config_setting_get_member(g, "backends");
	if (!l)
		return 0;
	err = want_list(c, l);
	if (err)
		return err;
	n = config_setting_length(l);
	if (n > XH_MAX_SVC_BACKENDS)
		return fail(c, l, "%s: %u backends, at most %u", what, n,
			    XH_MAX_SVC_BACKENDS);
	if (n > svc->table_size)
		return fail(c, ts ?: l, "%s: table_size %u is smaller than the "
			    "%u backends", what, svc->table_size, n);
	if (!n)
		return 0;
	svc->backends = calloc(n, sizeof(*svc->backends));
	if (!svc->backends)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		err = parse_backend(c, config_setting_get_elem(l, i), svc, ifc,
				    &svc->backends[i], i);
		if (err)
			return err;
		svc->n_backends++;
	}
	return 0;
}

static int parse_services(struct ctx *c, const config_setting_t *l,
			  struct xh_cfg *cfg)
{
	unsigned int i, n;
	int err;

	err = want_list(c, l);
	if (err)
		return err;
	n = config_setting_length(l);
	if (n > XH_CFG_MAX_SERVICES)
		return fail(c, l, "%u services, at most %u", n,
			    XH_CFG_MAX_SERVICES);
	if (!n)
		return 0;
	cfg->services = calloc(n, sizeof(*cfg->services));
	if (!cfg->services)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		/* counted first: a failed service's backends are freed too */
		cfg->n_services++;
		err = parse_service(c, config_setting_get_elem(l, i), cfg,
				    &cfg->services[i]);
		if (err)
			return err;
	}
	return 0;
}

static int parse_group(struct ctx *c, const config_setting_t *g,
		       struct xh_cfg *cfg, struct xh_cfg_group *grp)
{
	static const char *const known[] = { "name", "id", "interface", "vips",
					     "priority", "peers", "preempt",
					     "hold_down_ms", "startup_ms",
					     "advert_interval_ms", "announce",
					     "arbiter", NULL };
	static const char *const aknown[] = { "count", "interval_ms", NULL };
	const struct xh_cfg_iface *ifc = NULL;
	const config_setting_t *s, *a;
	const char *txt = "";
	char what[96];
	unsigned int i;
	__u32 v;
	int err;

	grp->line = config_setting_source_line(g);
	grp->preempt = cfg->preempt;
	grp->hold_down_ms = cfg->hold_down_ms;
	grp->startup_ms = 3000;
	grp->advert_ms = 200;
	grp->announce_count = 5;
	grp->announce_ms = 20;
	err = want_group(c, g, "groups entry");
	err = err ?: check_known(c, g, "group", known);
	if (err)
		return err;
	s = config_setting_get_member(g, "name");
	if (!s)
		return fail(c, g, "group: name missing");
	err = as_str(c, s, "group", &txt);
	if (err)
		return err;
	if (!*txt || strlen(txt) >= sizeof(grp->name) ||
	    strspn(txt, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789_-.") != strlen(txt))
		return fail(c, s, "group: name \"%s\" must be 1..%zu of "
			    "A-Z a-z 0-9 _ - .", txt, sizeof(grp->name) - 1);
	strcpy(grp->name, txt);
	snprintf(what, sizeof(what), "group %s", grp->name);
	for (i = 0; &cfg->groups[i] != grp; i++)
		if (!strcmp(cfg->groups[i].name, grp->name))
			return fail(c, s, "%s is already declared at line %d",
				    what, cfg->groups[i].line);
	s = config_setting_get_member(g, "id");
	if (!s)
		return fail(c, g, "%s: id missing (1..255, the same on every "
			    "member of the group)", what);
	err = as_u32(c, s, what, 1, 255, &grp->id);
	if (err)
		return err;
	for (i = 0; &cfg->groups[i] != grp; i++)
		if (cfg->groups[i].id == grp->id)
			return fail(c, s, "%s: id %u is group %s's already",
				    what, grp->id, cfg->groups[i].name);
	s = config_setting_get_member(g, "interface");
	if (s) {
		err = as_ifname(c, s, what, grp->iface);
		if (err)
			return err;
		ifc = xh_config_iface(cfg, grp->iface);
		if (!ifc)
			return fail(c, s, "%s: interface %s is not declared in "
				    "interfaces", what, grp->iface);
	} else if (cfg->n_ifaces == 1) {
		ifc = &cfg->ifaces[0];
		strcpy(grp->iface, ifc->name);
	} else {
		return fail(c, g, "%s: interface missing (%u interfaces are "
			    "declared)", what, cfg->n_ifaces);
	}
	s = config_setting_get_member(g, "vips");
	if (!s)
		return fail(c, g, "%s: vips missing", what);
	err = as_addrs(c, s, what, grp->vips, XH_CFG_MAX_GROUP_VIPS,
		       &grp->n_vips);
	if (err)
		return err;
	if (!grp->n_vips)
		return fail(c, s, "%s: vips is empty", what);
	for (i = 0; i < grp->n_vips; i++) {
		unsigned int k, j;

		for (k = 0; &cfg->groups[k] != grp; k++)
			for (j = 0; j < cfg->groups[k].n_vips; j++)
				if (!memcmp(&cfg->groups[k].vips[j],
					    &grp->vips[i], 17))
					return fail(c, s, "%s: a VIP of group "
						    "%s too", what,
						    cfg->groups[k].name);
	}
	s = config_setting_get_member(g, "priority");
	if (!s)
		return fail(c, g, "%s: priority missing (1..254, higher wins)",
			    what);
	err = as_u32(c, s, what, 1, 254, &v);
	if (err)
		return err;
	grp->priority = v;
	s = config_setting_get_member(g, "peers");
	if (!s)
		return fail(c, g, "%s: peers missing (the other members' "
			    "addresses)", what);
	err = as_addrs(c, s, what, grp->peers, XH_CFG_MAX_PEERS, &grp->n_peers);
	if (err)
		return err;
	for (i = 0; i < grp->n_peers; i++) {
		const struct xh_cfg_addr *p = &grp->peers[i];

		if (p->family == XH_FAM_V6 && !ifc->have_addr6)
			return fail(c, s, "%s: an IPv6 peer needs address6 on "
				    "%s", what, ifc->name);
		if ((p->family == XH_FAM_V4 && p->addr[0] == ifc->addr4) ||
		    (p->family == XH_FAM_V6 &&
		     !memcmp(p->addr, ifc->addr6, 16)))
			return fail(c, s, "%s: a peer is this member's own "
				    "address", what);
	}
	s = config_setting_get_member(g, "preempt");
	if (s && (err = as_bool(c, s, what, &grp->preempt)))
		return err;
	s = config_setting_get_member(g, "arbiter");
	if (s && (err = as_bool(c, s, what, &grp->arbiter)))
		return err;
	s = config_setting_get_member(g, "hold_down_ms");
	if (s && (err = as_u32(c, s, what, 0, 3600000, &grp->hold_down_ms)))
		return err;
	s = config_setting_get_member(g, "startup_ms");
	if (s && (err = as_u32(c, s, what, 0, 600000, &grp->startup_ms)))
		return err;
	s = config_setting_get_member(g, "advert_interval_ms");
	if (s && (err = as_u32(c, s, what, 10, 60000, &grp->advert_ms)))
		return err;
	a = config_setting_get_member(g, "announce");
	if (a) {
		err = want_group(c, a, "announce");
		err = err ?: check_known(c, a, "announce", aknown);
		if (err)
			return err;
		s = config_setting_get_member(a, "count");
		if (s && (err = as_u32(c, s, what, 0, 100,
				       &grp->announce_count)))
			return err;
		s = config_setting_get_member(a, "interval_ms");
		if (s && (err = as_u32(c, s, what, 1, 10000,
				       &grp->announce_ms)))
			return err;
	}
	return 0;
}

static int parse_groups(struct ctx *c, const config_setting_t *l,
			struct xh_cfg *cfg)
{
	unsigned int i, n;
	int err;

	err = want_list(c, l);
	if (err)
		return err;
	if (cfg->role != XH_ROLE_MEMBER)
		return fail(c, l, "groups are for role member interfaces (a "
			    "steering node has services)");
	n = config_setting_length(l);
	if (n > XH_CFG_MAX_GROUPS)
		return fail(c, l, "%u groups, at most %u", n,
			    XH_CFG_MAX_GROUPS);
	cfg->groups = calloc(n ?: 1, sizeof(*cfg->groups));
	if (!cfg->groups)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		err = parse_group(c, config_setting_get_elem(l, i), cfg,
				  &cfg->groups[i]);
		if (err)
			return err;
		cfg->n_groups++;
	}
	return 0;
}

static int parse_mirror(struct ctx *c, const config_setting_t *g,
			struct xh_cfg *cfg)
{
	static const char *const known[] = { "interface", "peer", "node_id",
					     "peer_id", "stream", "transport",
					     "key", NULL };
	static const char *const xports[] = { "auto", "afxdp", "udp", NULL };
	struct xh_cfg_mirror *m = &cfg->mirror;
	const struct xh_cfg_iface *ifc;
	const config_setting_t *s;
	const char *what = "mirror", *txt = "";
	int err, v;

	m->line = config_setting_source_line(g);
	m->stream = 1;
	err = want_group(c, g, what);
	err = err ?: check_known(c, g, what, known);
	if (err)
		return err;
	if (cfg->role != XH_ROLE_STEER)
		return fail(c, g, "mirror: the flow mirror is for role steer "
			    "(members mirror state with libxdpha)");
	s = config_setting_get_member(g, "interface");
	if (s) {
		err = as_ifname(c, s, what, m->iface);
		if (err)
			return err;
	} else if (cfg->n_ifaces == 1) {
		strcpy(m->iface, cfg->ifaces[0].name);
	} else {
		return fail(c, g, "mirror: interface missing (%u interfaces "
			    "are declared)", cfg->n_ifaces);
	}
	ifc = xh_config_iface(cfg, m->iface);
	if (!ifc)
		return fail(c, s ?: g, "mirror: interface %s is not declared",
			    m->iface);
	s = config_setting_get_member(g, "peer");
	if (!s)
		return fail(c, g, "mirror: peer missing (the other steering "
			    "node's address)");
	err = as_addr(c, s, what, XH_FAM_NONE, m->peer.addr, &m->peer.family);
	if (err)
		return err;
	if (m->peer.family == XH_FAM_V6 && !ifc->have_addr6)
		return fail(c, s, "mirror: an IPv6 peer needs address6 on %s",
			    ifc->name);
	s = config_setting_get_member(g, "node_id");
	if (s && (err = as_u32(c, s, what, 1, UINT32_MAX, &m->node_id)))
		return err;
	s = config_setting_get_member(g, "peer_id");
	if (s && (err = as_u32(c, s, what, 1, UINT32_MAX, &m->peer_id)))
		return err;
	s = config_setting_get_member(g, "stream");
	if (s && (err = as_u32(c, s, what, 1, INT32_MAX, &m->stream)))
		return err;
	s = config_setting_get_member(g, "transport");
	if (s) {
		err = as_enum(c, s, what, xports, &v);
		if (err)
			return err;
		m->transport = v;
	}
	s = config_setting_get_member(g, "key");
	if (s) {
		err = as_str(c, s, what, &txt);
		if (err)
			return err;
		if (strlen(txt) < 8 || strlen(txt) >= sizeof(m->key))
			return fail(c, s, "mirror: key must be 8..%zu characters",
				    sizeof(m->key) - 1);
		strcpy(m->key, txt);
	}
	m->enabled = true;
	return 0;
}

static int parse_root(struct ctx *c, const config_setting_t *root,
		      struct xh_cfg *cfg)
{
	static const char *const known[] = { "controller", "heartbeat",
					     "interfaces", "services", "groups",
					     "mirror", NULL };
	const config_setting_t *s;
	int err;

	err = check_known(c, root, NULL, known);
	if (err)
		return err;
	s = config_setting_get_member(root, "controller");
	if (s) {
		err = parse_controller(c, s, cfg);
		if (err)
			return err;
	}
	s = config_setting_get_member(root, "heartbeat");
	if (s) {
		err = parse_heartbeat(c, s, cfg);
		if (err)
			return err;
	}
	s = config_setting_get_member(root, "interfaces");
	if (!s)
		return fail(c, NULL, "interfaces missing: declare at least one "
			    "(interfaces = ( { name = \"eth0\"; address = "
			    "\"...\"; } );)");
	err = parse_ifaces(c, s, cfg);
	if (err)
		return err;
	s = config_setting_get_member(root, "services");
	if (s && cfg->role == XH_ROLE_MEMBER)
		return fail(c, s, "services are for role steer interfaces (a "
			    "member has groups)");
	if (s && (err = parse_services(c, s, cfg)))
		return err;
	s = config_setting_get_member(root, "mirror");
	if (s && (err = parse_mirror(c, s, cfg)))
		return err;
	s = config_setting_get_member(root, "groups");
	return s ? parse_groups(c, s, cfg) : 0;
}

/* The whole file as one NUL-terminated string. */
static int read_all(struct ctx *c, char **buf_out, size_t *len_out)
{
	size_t len = 0;
	char *buf = NULL;
	struct stat st;
	ssize_t r;
	int fd, err = 0;

	fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		fail(c, NULL, "cannot open: %s", strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		fail(c, NULL, "cannot stat: %s", strerror(-err));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = fail(c, NULL, "not a regular file");
		goto out;
	}
	if (st.st_size > CFG_FILE_MAX) {
		err = fail(c, NULL, "larger than %d MiB", CFG_FILE_MAX >> 20);
		goto out;
	}
	buf = malloc(st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		r = read(fd, buf + len, st.st_size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			fail(c, NULL, "cannot read: %s", strerror(-err));
			goto out;
		}
		if (!r)
			break;	/* shrank under us: take what is there */
		len += r;
	}
	buf[len] = 0;
out:
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	*buf_out = buf;
	*len_out = len;
	return 0;
}

int xh_config_load(const char *path, struct xh_cfg *out, char *err,
		   size_t errlen)
{
	struct ctx c = { .path = path, .err = err, .errlen = errlen };
	struct xh_cfg cfg = {};
	char *buf = NULL, *nul;
	bool lc_init = false;
	config_t lc;
	size_t len = 0;
	int ret;

	if (err && errlen)
		err[0] = 0;
	if (strlen(path) >= sizeof(cfg.path)) {
		fail(&c, NULL, "path too long");
		return -ENAMETOOLONG;
	}
	ret = read_all(&c, &buf, &len);
	if (ret)
		goto out;
	/* libconfig would stop reading at a NUL and take the rest as
	 * absent; say so instead. */
	nul = memchr(buf, 0, len);
	if (nul) {
		unsigned int line = 1;
		char *p;

		for (p = buf; p < nul; p++)
			line += *p == '\n';
		ret = fail_line(&c, line, "a NUL byte in the text");
		goto out;
	}
	ret = prescan(&c, buf, buf + len);
	if (ret)
		goto out;
	config_init(&lc);
	lc_init = true;
	if (!config_read_string(&lc, buf)) {
		unsigned int line = config_error_line(&lc), last = 1;
		char *p;

		/* libconfig counts the newline ending the last line as the
		 * start of another: name the last line that exists. */
		for (p = buf; p < buf + len; p++)
			last += *p == '\n' && p + 1 < buf + len;
		if (line > last)
			ret = fail_line(&c, last, "%s at the end of the file "
					"(something left open?)",
					config_error_text(&lc));
		else
			ret = fail_line(&c, line, "%s", config_error_text(&lc));
		goto out;
	}

	strcpy(cfg.path, path);
	strcpy(cfg.socket, XH_CFG_SOCKET_DEFAULT);
	cfg.log_level = XH_LOG_INFO;
	cfg.notify_timeout_ms = 5000;
	/* measured: bench/failover.sh, see examples/steer.conf */
	cfg.hb_interval_ms = 1;
	cfg.hb_mult = 8;
	cfg.hold_down_ms = 5000;
	cfg.preempt = true;
	cfg.slow_start_ms = 1000;
	ret = parse_root(&c, config_root_setting(&lc), &cfg);
	if (!ret)
		*out = cfg;
out:
	if (ret == -ENOMEM)
		fail(&c, NULL, "out of memory");
	if (ret)
		xh_config_free(&cfg);
	if (lc_init)
		config_destroy(&lc);
	free(buf);
	return ret;
}

void xh_config_free(struct xh_cfg *cfg)
{
	unsigned int i;

	if (cfg->notify_args)
		for (i = 0; cfg->notify_args[i]; i++)
			free(cfg->notify_args[i]);
	free(cfg->notify_args);
	for (i = 0; cfg->services && i < cfg->n_services; i++)
		free(cfg->services[i].backends);
	free(cfg->services);
	free(cfg->groups);
	free(cfg->ifaces);
	memset(cfg, 0, sizeof(*cfg));
}

const struct xh_cfg_iface *xh_config_iface(const struct xh_cfg *cfg,
					   const char *name)
{
	unsigned int i;

	for (i = 0; i < cfg->n_ifaces; i++)
		if (!strcmp(cfg->ifaces[i].name, name))
			return &cfg->ifaces[i];
	return NULL;
}
