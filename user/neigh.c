// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * neigh.c - neighbour lookups through libnl-route: rtnetlink's attribute
 * format is easy to get subtly wrong by hand, and libnl is the maintained
 * implementation Debian ships.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netlink/netlink.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <linux/if_addr.h>
#include "neigh.h"
#include "xh_abi.h"

static int lookup(struct nl_sock *sk, int ifindex, const __be32 addr[4],
		  __u8 family, __u8 mac[6])
{
	struct nl_cache *cache = NULL;
	struct rtnl_neigh *n = NULL;
	struct nl_addr *dst = NULL, *ll;
	int af = family == XH_FAM_V6 ? AF_INET6 : AF_INET, err = -ENOENT;
	int state;

	if (rtnl_neigh_alloc_cache(sk, &cache) < 0)
		return -EIO;
	dst = nl_addr_build(af, addr, family == XH_FAM_V6 ? 16 : 4);
	if (!dst)
		goto out;
	n = rtnl_neigh_get(cache, ifindex, dst);
	if (!n)
		goto out;
	state = rtnl_neigh_get_state(n);
	ll = rtnl_neigh_get_lladdr(n);
	if (ll && nl_addr_get_len(ll) == 6 &&
	    (state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
		      NUD_PERMANENT | NUD_NOARP))) {
		memcpy(mac, nl_addr_get_binary_addr(ll), 6);
		err = 0;
	}
out:
	if (n)
		rtnl_neigh_put(n);
	nl_addr_put(dst);
	nl_cache_free(cache);
	return err;
}

/* Make the kernel resolve addr: a datagram to the discard port. */
static void provoke(int ifindex, const __be32 addr[4], __u8 family)
{
	char ifname[IF_NAMESIZE];
	int fd = socket(family == XH_FAM_V6 ? AF_INET6 : AF_INET,
			SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	if (if_indextoname(ifindex, ifname))
		setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
			   strlen(ifname));
	if (family == XH_FAM_V6) {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
					   .sin6_port = htons(9) };

		memcpy(&sa.sin6_addr, addr, 16);
		sendto(fd, "", 0, MSG_DONTWAIT, (struct sockaddr *)&sa,
		       sizeof(sa));
	} else {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons(9) };

		sa.sin_addr.s_addr = addr[0];
		sendto(fd, "", 0, MSG_DONTWAIT, (struct sockaddr *)&sa,
		       sizeof(sa));
	}
	close(fd);
}

int xh_neigh_resolve(int ifindex, const __be32 addr[4], __u8 family,
		     int timeout_ms, __u8 mac[6])
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	struct nl_sock *sk;
	int err, waited;

	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		nl_socket_free(sk);
		return -EIO;
	}
	err = lookup(sk, ifindex, addr, family, mac);
	for (waited = 0; err && waited < timeout_ms; waited += 20) {
		if (waited % 200 == 0)
			provoke(ifindex, addr, family);
		nanosleep(&ts, NULL);
		err = lookup(sk, ifindex, addr, family, mac);
	}
	nl_socket_free(sk);
	return err ? -EHOSTUNREACH : 0;
}

int xh_dev_mac(int ifindex, __u8 mac[6])
{
	struct ifreq ifr = {};
	int fd, err = 0;

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

int xh_addr_ensure(int ifindex, const __be32 addr[4], __u8 family)
{
	int af = family == XH_FAM_V6 ? AF_INET6 : AF_INET;
	struct nl_addr *a = NULL;
	struct rtnl_addr *ra = NULL;
	struct nl_sock *sk;
	int err;

	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		err = -EIO;
		goto out;
	}
	a = nl_addr_build(af, addr, af == AF_INET6 ? 16 : 4);
	ra = rtnl_addr_alloc();
	if (!a || !ra) {
		err = -ENOMEM;
		goto out;
	}
	nl_addr_set_prefixlen(a, af == AF_INET6 ? 128 : 32);
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_local(ra, a);
	if (af == AF_INET6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
	err = rtnl_addr_add(sk, ra, NLM_F_EXCL);
	if (err == -NLE_EXIST)
		err = 0;
	else if (err < 0)
		err = -EIO;
	else
		err = 1;
out:
	rtnl_addr_put(ra);
	nl_addr_put(a);
	nl_socket_free(sk);
	return err;
}
