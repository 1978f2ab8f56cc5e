/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xport.h - the transport of the state mirror: UDP datagrams to and from
 * one peer, over an AF_XDP socket or a plain UDP socket, behind one API.
 *
 * AF_XDP (xport_xsk.c): one socket on one queue of the member interface.
 * The member program (bpf/member.bpf.c) redirects UDP to XM_MIRROR_PORT
 * into the socket registered for the frame's rx queue in its pinned
 * XSKMAP xm_xsks; this transport registers itself there on open and
 * removes itself on close. It builds Ethernet/IP/UDP headers itself, so
 * it needs both MACs (the device's own, the peer's from the neighbour
 * table unless given). Zero-copy is tried first, copy mode is the
 * fallback; xh_xport_mode() says which.
 *
 * UDP (xport_udp.c): a UDP socket bound to the local address and port,
 * connected to the peer's, sendmmsg/recvmmsg. With the member program attached and no AF_XDP
 * socket registered for the queue, mirror frames pass to the stack, so
 * both work on the same NIC (not at the same time on the same queue).
 *
 * One thread per transport; nothing here locks.
 */
#ifndef XH_XPORT_H
#define XH_XPORT_H

#include <stdbool.h>
#include <sys/uio.h>
#include <linux/types.h>

struct xh_xport;

/* xh_xport_cfg.flags */
#define XH_XPORT_F_COPY		(1U << 0) /* AF_XDP: copy mode, no zero-copy try */
#define XH_XPORT_F_ZEROCOPY	(1U << 1) /* AF_XDP: zero-copy or fail */
/* AF_XDP: verify the UDP checksum of received frames (a zero IPv4 one
 * excepted). Off by default: a kernel socket behind a veth sends partial
 * checksums, which arrive here unfinished; the stack would not verify
 * them either. */
#define XH_XPORT_F_RX_CSUM	(1U << 2)
/* UDP: leave the socket unconnected, so recv() sees every sender (by
 * default the kernel drops what does not come from the peer). */
#define XH_XPORT_F_UDP_ANY	(1U << 3)

#define XH_XPORT_FRAME_SIZE	2048	/* UMEM chunk */
#define XH_XPORT_RING_SIZE	2048	/* every ring; UMEM = 2 x ring chunks */
#define XH_XPORT_BATCH		64

struct xh_xport_cfg {
	const char *ifname;	/* the member interface */
	__u32 queue;		/* its queue (a veth has one: 0) */
	__u8 family;		/* XH_FAM_V4 or XH_FAM_V6 */
	__be32 local[4];	/* our address: source of what we send, and
				 * the only destination we accept */
	__be32 peer[4];		/* where xh_xport_send() sends */
	__u16 port;		/* local UDP port (host order); 0: XM_MIRROR_PORT */
	__u16 peer_port;	/* 0: the same as port */
	__u8 local_mac[6];	/* AF_XDP; all zero: the device's own */
	__u8 peer_mac[6];	/* AF_XDP; all zero: from the neighbour table
				 * (the peer must then be on the link) */
	__u32 frame_size;	/* AF_XDP UMEM chunk, 2048 or 4096; 0: default */
	__u32 ring_size;	/* ring entries, power of 2; 0: default */
	__u32 batch;		/* most frames per syscall; 0: default */
	__u32 flags;		/* XH_XPORT_F_* */
	int xsks_map_fd;	/* AF_XDP: xm_xsks of the member program on
				 * ifname; <= 0: open the pinned one. Not
				 * closed by the transport. */
	int neigh_timeout_ms;	/* peer MAC resolution; 0: 1000 */
};

/* A received datagram. */
struct xh_xport_msg {
	const void *data;	/* UDP payload: valid until the next recv() */
	__u32 len;
	__u16 port;		/* source port, host order */
	__u8 family;
	__u8 pad;
	__be32 addr[4];		/* source address */
};

/* Why a received frame was not delivered. The AF_XDP transport parses
 * frames itself; the UDP one only sees what the stack accepted. */
enum xh_xport_drop {
	XH_XPORT_DROP_SHORT,	/* ends inside a header, or before its IP length */
	XH_XPORT_DROP_NOT_IP,	/* neither IPv4 nor IPv6 (one VLAN tag allowed) */
	XH_XPORT_DROP_FAMILY,	/* the other IP family than the transport's */
	XH_XPORT_DROP_IP_HDR,	/* bad version, header length, total length,
				 * IPv4 header checksum */
	XH_XPORT_DROP_FRAG,	/* an IPv4 fragment */
	XH_XPORT_DROP_NOT_UDP,	/* another protocol, or IPv6 extension headers */
	XH_XPORT_DROP_UDP_HDR,	/* bad UDP length; zero UDP checksum on IPv6 */
	XH_XPORT_DROP_CSUM,	/* bad UDP checksum (XH_XPORT_F_RX_CSUM) */
	XH_XPORT_DROP_PORT,	/* not to our port */
	XH_XPORT_DROP_DST,	/* not to our address */
	XH_XPORT_DROP_LONG,	/* UDP: larger than the receive buffers */
	XH_XPORT_DROP_MAX,
};

struct xh_xport_stats {
	__u64 tx_frames, tx_bytes;	/* handed to the kernel (bytes: payload) */
	__u64 rx_frames, rx_bytes;	/* delivered by recv() */
	__u64 tx_full;		/* payloads send() refused for want of room
				 * (ring, free frames, socket buffer) */
	__u64 tx_kicks;		/* sendto()/sendmmsg() calls */
	__u64 tx_kick_drops;	/* AF_XDP: kicks that reported a frame
				 * dropped by the driver (EBUSY) */
	__u64 tx_errors;	/* other send errors */
	__u64 rx_drop[XH_XPORT_DROP_MAX];
	/* Dropped by the kernel before we saw them. AF_XDP: XDP_STATISTICS;
	 * UDP: the socket's drop count (SK_MEMINFO_DROPS). */
	__u64 k_rx_dropped;	/* no room (UDP: socket buffer full) */
	__u64 k_rx_ring_full;	/* AF_XDP rx ring full */
	__u64 k_fill_empty;	/* AF_XDP fill ring empty */
	__u64 k_rx_invalid, k_tx_invalid;	/* AF_XDP invalid descriptors */
};

/* Open a transport. 0 or -errno, with a message that names the cause
 * (member program not attached, peer MAC unknown, queue taken...). */
int xh_xport_open_xsk(const struct xh_xport_cfg *c, struct xh_xport **out);
int xh_xport_open_udp(const struct xh_xport_cfg *c, struct xh_xport **out);

/* Send n UDP payloads to the peer. Returns how many were queued (AF_XDP:
 * put on the TX ring and kicked) or sent (UDP), fewer when the ring or
 * the socket buffer is full (then poll for POLLOUT or call again), or
 * -EMSGSIZE when payloads[0] exceeds xh_xport_max_payload() (a later
 * oversize payload ends the batch before it), or another -errno. */
int xh_xport_send(struct xh_xport *x, const struct iovec *payloads,
		  unsigned int n);
/* Receive up to max datagrams without blocking; 0 when none. */
int xh_xport_recv(struct xh_xport *x, struct xh_xport_msg *msgs,
		  unsigned int max);
/* Readable when recv() has something; poll it with epoll. */
int xh_xport_fd(struct xh_xport *x);
/* "afxdp-zerocopy", "afxdp-copy" or "udp". */
const char *xh_xport_mode(struct xh_xport *x);
/* Largest payload of one datagram (the MTU's and the frame's limit). */
unsigned int xh_xport_max_payload(struct xh_xport *x);
void xh_xport_stats(struct xh_xport *x, struct xh_xport_stats *st);
const char *xh_xport_drop_name(enum xh_xport_drop d);
/* Close; the AF_XDP transport also removes its entry from xm_xsks. */
void xh_xport_close(struct xh_xport *x);

/* The member program's pinned xm_xsks for ifname (this network
 * namespace's pin directory): a map fd, or -ENOENT when the member
 * program is not attached there. */
int xh_xport_xsks_map(const char *ifname);

#endif
