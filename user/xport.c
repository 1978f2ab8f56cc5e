// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xport.c - the mirror transport's common part: configuration defaults,
 * dispatch to the AF_XDP (xport_xsk.c) or UDP (xport_udp.c) transport,
 * counters, and finding the member program's pinned XSKMAP.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "loader.h"
#include "log.h"
#include "xm_abi.h"
#include "xport_impl.h"

#define IP4_UDP_HDRS	(20 + 8)
#define IP6_UDP_HDRS	(40 + 8)

static const char *const drop_names[XH_XPORT_DROP_MAX] = {
	[XH_XPORT_DROP_SHORT] = "short",
	[XH_XPORT_DROP_NOT_IP] = "not_ip",
	[XH_XPORT_DROP_FAMILY] = "family",
	[XH_XPORT_DROP_IP_HDR] = "ip_hdr",
	[XH_XPORT_DROP_FRAG] = "frag",
	[XH_XPORT_DROP_NOT_UDP] = "not_udp",
	[XH_XPORT_DROP_UDP_HDR] = "udp_hdr",
	[XH_XPORT_DROP_CSUM] = "csum",
	[XH_XPORT_DROP_PORT] = "port",
	[XH_XPORT_DROP_DST] = "dst",
	[XH_XPORT_DROP_LONG] = "long",
};

const char *xh_xport_drop_name(enum xh_xport_drop d)
{
	return (unsigned int)d < XH_XPORT_DROP_MAX ? drop_names[d] : "?";
}

static int dev_mtu(const char *ifname, unsigned int *mtu)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		err = -errno;
	else
		*mtu = ifr.ifr_mtu;
	close(fd);
	return err;
}

static bool pow2(__u32 v)
{
	return v && !(v & (v - 1));
}

int xh_xport_init(struct xh_xport *x, const struct xh_xport_cfg *c)
{
	unsigned int hdrs;
	int err;

	x->fd = -1;
	x->c = *c;
	if (!c->ifname || strlen(c->ifname) >= sizeof(x->ifname)) {
		pr_warn("mirror transport: no interface named\n");
		return -EINVAL;
	}
	strcpy(x->ifname, c->ifname);
	x->c.ifname = x->ifname;
	if (c->family != XH_FAM_V4 && c->family != XH_FAM_V6) {
		pr_warn("mirror transport: address family %u is neither IPv4 nor IPv6\n",
			c->family);
		return -EINVAL;
	}
	if (!x->c.port)
		x->c.port = XM_MIRROR_PORT;
	if (!x->c.peer_port)
		x->c.peer_port = x->c.port;
	if (!x->c.frame_size)
		x->c.frame_size = XH_XPORT_FRAME_SIZE;
	if (!x->c.ring_size)
		x->c.ring_size = XH_XPORT_RING_SIZE;
	if (!x->c.batch)
		x->c.batch = XH_XPORT_BATCH;
	if (!x->c.neigh_timeout_ms)
		x->c.neigh_timeout_ms = 1000;
	if ((x->c.frame_size != 2048 && x->c.frame_size != 4096) ||
	    !pow2(x->c.ring_size) || x->c.ring_size < 64 ||
	    x->c.batch > x->c.ring_size || x->c.batch > 1024) {
		pr_warn("mirror transport: frame size %u (2048 or 4096), ring size %u (a power of 2, >= 64), batch %u (<= ring size, <= 1024)\n",
			x->c.frame_size, x->c.ring_size, x->c.batch);
		return -EINVAL;
	}
	x->ifindex = if_nametoindex(x->ifname);
	if (!x->ifindex) {
		pr_warn("mirror transport: no device %s\n", x->ifname);
		return -ENODEV;
	}
	err = dev_mtu(x->ifname, &x->mtu);
	if (err) {
		pr_warn("mirror transport: MTU of %s: %s\n", x->ifname,
			strerror(-err));
		return err;
	}
	hdrs = c->family == XH_FAM_V6 ? IP6_UDP_HDRS : IP4_UDP_HDRS;
	if (x->mtu <= hdrs) {
		pr_warn("mirror transport: MTU %u of %s is too small\n",
			x->mtu, x->ifname);
		return -EINVAL;
	}
	x->max_payload = x->mtu - hdrs;
	return 0;
}

unsigned int xh_xport_fit(const struct xh_xport *x, const struct iovec *v,
			  unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (v[i].iov_len > x->max_payload)
			break;
	return i;
}

int xh_xport_send(struct xh_xport *x, const struct iovec *payloads,
		  unsigned int n)
{
	return x->ops->send(x, payloads, n);
}

int xh_xport_recv(struct xh_xport *x, struct xh_xport_msg *msgs,
		  unsigned int max)
{
	return x->ops->recv(x, msgs, max);
}

int xh_xport_fd(struct xh_xport *x)
{
	return x->fd;
}

const char *xh_xport_mode(struct xh_xport *x)
{
	return x->mode;
}

unsigned int xh_xport_max_payload(struct xh_xport *x)
{
	return x->max_payload;
}

void xh_xport_stats(struct xh_xport *x, struct xh_xport_stats *st)
{
	*st = x->st;
	x->ops->kstats(x, st);
}

void xh_xport_close(struct xh_xport *x)
{
	if (x)
		x->ops->close(x);
}

int xh_xport_xsks_map(const char *ifname)
{
	char path[PATH_MAX + 16];
	struct xh_dev d;
	int err, fd;

	err = xh_dev_init(&d, ifname);
	if (err) {
		pr_warn("mirror transport: device %s: %s\n", ifname,
			strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), "%s/xm_xsks", d.dir);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			pr_warn("mirror transport: %s has no member program (no %s); attach it: xdpha attach member %s\n",
				ifname, path, ifname);
		else
			pr_warn("mirror transport: cannot open %s: %s\n", path,
				strerror(-err));
		return err;
	}
	return fd;
}
