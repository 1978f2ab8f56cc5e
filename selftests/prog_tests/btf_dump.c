// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * btf_dump.c - every steering map, pinned and dumped with bpftool, shows
 * named fields: the maps are the API between the halves, and an operator
 * reads them with bpftool, not with a hex decoder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "test_progs.h"
#include "testlib.h"
#include "steer.skel.h"

#define BPF_FS_MAGIC	0xcafe4a11

static const struct {
	const char *map;
	const char *fields[4];	/* must all appear in the formatted dump */
} cases[] = {
	{ "xh_vips_v1", { "\"port\"", "\"proto\"", "\"svc_id\"", "\"flags\"" } },
	{ "xh_services_v1", { "\"table_size\"", "\"fwd\"", "\"encap_src\"" } },
	{ "xh_backends_v1", { "\"mac\"", "\"tier\"", "\"last_seen_ns\"",
			      "\"detect_ns\"" } },
	{ "xh_svc_bk_v1", { "\"count\"", "\"ids\"" } },
	{ "xh_flows_v1", { "\"sport\"", "\"dport\"", "\"backend\"",
			   "\"last_used_ns\"" } },
	{ "xh_flown_v1", { "\"src\"", "\"dst\"", "\"svc_id\"" } },
	{ "xh_ifaces_v1", { "\"mac\"" } },
	{ "xh_stats", { "\"packets\"", "\"bytes\"" } },
	{ "xh_svc_stats", { "\"packets\"", "\"bytes\"" } },
	{ "xh_bk_stats", { "\"packets\"", "\"bytes\"" } },
};

static char *run_capture(const char *cmd)
{
	size_t cap = 1 << 16, len = 0, n;
	char *buf = malloc(cap);
	FILE *p = popen(cmd, "r");

	if (!buf || !p) {
		free(buf);
		if (p)
			pclose(p);
		return NULL;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb)
				break;
			buf = nb;
		}
	}
	buf[len] = 0;
	if (pclose(p) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

void test_btf_dump(void)
{
	struct steer_fx fx;
	struct pkt_spec s = { .family = 4, .src = "192.0.2.1",
			      .dst = "10.0.0.100", .proto = IPPROTO_TCP,
			      .sport = 1, .dport = 80, .tcp_flags = 0x02 };
	struct xh_iface ifc = { .mac = { 2, 0, 0, 0, 0, 1 } };
	struct statfs st;
	char dir[128], cmd[512];
	__u32 ret, one = 1, i, j;
	bool pinned = false, mounted = false;

	if (!ASSERT_OK(fx_open(&fx, 0, 0), "fx_open"))
		return;
	ASSERT_OK(fx_add_service(&fx, 1, "10.0.0.100", 80, IPPROTO_TCP,
				 XH_FWD_L2, NULL, 0), "service");
	ASSERT_OK(fx_add_backend(&fx, 1, 1, "10.1.0.1", 0, 1, XH_BK_UP, 0, 0),
		  "backend");
	ASSERT_OK(fx_rebuild(&fx, 1, 251, NULL), "rebuild");
	bpf_map_update_elem(fx.m.ifaces, &one, &ifc, 0);
	fx_send(&fx, &s, &ret);			/* a flow in xh_flown_v1 */
	s.tcp_flags = 0x10;
	s.sport = 2;
	fx_send(&fx, &s, &ret);			/* and one in xh_flows_v1 */

	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC) {
		if (!ASSERT_OK(mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL),
			       "mount bpffs"))
			goto out;
		mounted = true;
	}
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/xh-selftest-%d", getpid());
	if (!ASSERT_OK(bpf_object__pin_maps(fx.skel->obj, dir), "pin maps"))
		goto out;
	pinned = true;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out;

		snprintf(cmd, sizeof(cmd),
			 "bpftool -j map dump pinned %s/%s 2>&1", dir,
			 cases[i].map);
		out = run_capture(cmd);
		if (!ASSERT_OK_PTR(out, cases[i].map))
			continue;
		ASSERT_OK_PTR(strstr(out, "\"formatted\""), cases[i].map);
		for (j = 0; j < 4 && cases[i].fields[j]; j++)
			if (!ASSERT_OK_PTR(strstr(out, cases[i].fields[j]),
					   cases[i].fields[j]))
				printf("%s dump: %.400s\n", cases[i].map, out);
		free(out);
	}
out:
	if (pinned)
		bpf_object__unpin_maps(fx.skel->obj, dir);
	rmdir(dir);
	if (mounted)
		umount("/sys/fs/bpf");
	fx_close(&fx);
}
