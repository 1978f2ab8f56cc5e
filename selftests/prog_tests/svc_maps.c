// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * svc_maps.c - service and backend management on real maps (user/svc.c):
 * the port-less wildcard always has an owner while the address has a
 * service, deleting a service purges its flows, bad input changes nothing.
 */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "test_progs.h"
#include "testlib.h"
#include "svc.h"

static int wildcard_owner(struct steer_fx *fx, const char *addr, __u32 *id,
			  __u8 *flags)
{
	struct xh_vip_key k = { .proto = IPPROTO_UDP, .family = XH_FAM_V4 };
	struct xh_vip v;

	inet_pton(AF_INET, addr, k.addr);
	if (bpf_map_lookup_elem(fx->m.vips, &k, &v))
		return -1;
	*id = v.svc_id;
	*flags = v.flags;
	return 0;
}

void test_svc_maps(void)
{
	struct xh_svc_cfg cfg = { .table_size = 251 };
	struct xh_svc_spec s80, s0, s53;
	struct xh_bk_cfg bc = { .family = XH_FAM_V4, .have_mac = true,
				.tier = -1 };
	struct steer_fx fx;
	__u32 id80 = 0, id0 = 0, id53 = 0, owner = 0, bk = 0, n = 0;
	__u8 flags = 0;

	if (!ASSERT_OK(fx_open(&fx, 0, 0), "fx_open"))
		return;
	xh_svc_parse("198.18.100.1:80/udp", &s80);
	xh_svc_parse("198.18.100.1:0/udp", &s0);
	xh_svc_parse("198.18.100.1:53/udp", &s53);

	if (test__start_subtest("wildcard_owner")) {
		ASSERT_OK(xh_service_add(&fx.m, &s80, &cfg, &id80), "add :80");
		ASSERT_OK(wildcard_owner(&fx, "198.18.100.1", &owner, &flags),
			  "wildcard made");
		ASSERT_EQ(owner, id80, "owned by :80");
		ASSERT_EQ(flags, XH_VIP_F_FRAG_ONLY, "fragments only");
		ASSERT_OK(xh_service_add(&fx.m, &s53, &cfg, &id53), "add :53");
		ASSERT_OK(xh_service_add(&fx.m, &s0, &cfg, &id0), "add :0");
		wildcard_owner(&fx, "198.18.100.1", &owner, &flags);
		ASSERT_EQ(owner, id0, "a real wildcard service takes it");
		ASSERT_EQ(flags, 0, "for every packet");
		ASSERT_OK(xh_service_del(&fx.m, &s0), "del :0");
		ASSERT_OK(wildcard_owner(&fx, "198.18.100.1", &owner, &flags),
			  "wildcard kept an owner");
		ASSERT_TRUE(owner == id80 || owner == id53, "another service");
		ASSERT_EQ(flags, XH_VIP_F_FRAG_ONLY, "fragments only again");
		ASSERT_OK(xh_service_del(&fx.m, owner == id80 ? &s80 : &s53),
			  "del the owner");
		ASSERT_OK(wildcard_owner(&fx, "198.18.100.1", &owner, &flags),
			  "the last service owns it");
		ASSERT_OK(xh_service_del(&fx.m, owner == id80 ? &s80 : &s53),
			  "del the last");
		ASSERT_ERR(wildcard_owner(&fx, "198.18.100.1", &owner, &flags),
			   "no service, no wildcard");
	}
	if (test__start_subtest("delete_purges_flows")) {
		struct pkt_spec p = { .family = 4, .src = "192.0.2.1",
				      .dst = "198.18.100.1", .proto = IPPROTO_UDP,
				      .dport = 80 };
		struct xh_flow_key k, next, *prev = NULL;
		__u32 ret, i;

		ASSERT_OK(xh_service_add(&fx.m, &s80, &cfg, &id80), "add");
		xh_addr_parse("198.18.0.11", bc.addr, &bc.family);
		ASSERT_OK(xh_backend_add(&fx.m, id80, &bc, &bk), "backend");
		for (i = 0; i < 50; i++) {
			p.sport = 1000 + i;
			fx_send(&fx, &p, &ret);
			fx_send(&fx, &p, &ret);	/* confirmed */
		}
		while (!bpf_map_get_next_key(fx.m.flows, prev, &next)) {
			k = next;
			prev = &k;
			n++;
		}
		ASSERT_EQ(n, 50, "50 confirmed flows");
		ASSERT_OK(xh_service_del(&fx.m, &s80), "del");
		ASSERT_ERR(bpf_map_get_next_key(fx.m.flows, NULL, &next),
			   "no flow of the service left");
	}
	if (test__start_subtest("bad_input_changes_nothing")) {
		struct xh_svc_cfg bad = { .table_size = 100 };
		struct xh_bk_cfg b6 = { .have_mac = true, .tier = -1 };

		ASSERT_EQ(xh_service_add(&fx.m, &s80, &bad, &id80), -EINVAL,
			  "table size not prime");
		ASSERT_EQ(xh_service_find(&fx.m, &s80, &id80), -ENOENT,
			  "nothing added");
		ASSERT_OK(xh_service_add(&fx.m, &s80, &cfg, &id80), "add");
		ASSERT_EQ(xh_service_add(&fx.m, &s80, &cfg, &id0), -EEXIST,
			  "VIP already present");
		xh_addr_parse("fd00::1", b6.addr, &b6.family);
		ASSERT_EQ(xh_backend_add(&fx.m, id80, &b6, &bk), -EINVAL,
			  "family mismatch");
		ASSERT_EQ(xh_backend_add(&fx.m, 77, &bc, &bk), -ENOENT,
			  "unknown service");
		ASSERT_OK(xh_backend_add(&fx.m, id80, &bc, &bk), "backend");
		ASSERT_EQ(xh_backend_add(&fx.m, id80, &bc, &bk), -EEXIST,
			  "backend twice");
	}
	fx_close(&fx);
}
