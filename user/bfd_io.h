/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bfd_io.h - BFD over UDP (RFC 5881): the sockets, and a transmit thread
 * that sends every session's periodic packet against absolute deadlines.
 *
 * The main thread owns the state machines (bfd.c). After any change it
 * publishes the session's next packet and interval with xh_bfd_io_publish;
 * the transmit thread only copies bytes out, so it never waits on the
 * main thread's work, only on a short lock. It runs at real-time priority
 * when allowed: a user-space timer on a loaded VM stalls for milliseconds,
 * and a late packet is a false failover at the peer.
 */
#ifndef XH_BFD_IO_H
#define XH_BFD_IO_H

#include <pthread.h>
#include <stdbool.h>
#include <linux/types.h>
#include "bfd.h"

#define XH_BFD_IO_MAX	256

struct xh_bfd_peer {
	struct xh_bfd_session s;	/* main thread only */
	__be32 addr[4];			/* the peer */
	__be32 local[4];		/* our source address */
	__u8 family;
	int tx_fd;			/* bound to local:sport, connected */
	/* published for the transmit thread, under io->lock */
	__u8 pkt[XH_BFD_CTL_LEN];
	__u64 interval_ns;		/* 0: send nothing */
	__u64 next_tx_ns;
	__u8 mult;			/* for jitter */
	__u64 tx_count;
	__u64 tx_late;			/* sent > 25 % of interval late */
	__u64 tx_max_late_ns;
	void *user;			/* the owner's context */
	bool used;
};

struct xh_bfd_io {
	int rx4, rx6;			/* :3784, TTL and source checked */
	pthread_t tx;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop, started, rt;
	struct xh_bfd_peer peers[XH_BFD_IO_MAX];
	__u32 next_disc;
	__u64 rx_bad[XH_BFD_RX_REASON_MAX];
	__u64 rx_unknown;		/* no session for the packet */
};

/* Open the receive sockets on port 3784 (bind_addr4/6 may be 0/NULL for
 * any) and start the transmit thread at rt_prio (0: none). */
int xh_bfd_io_init(struct xh_bfd_io *io, int rt_prio);
void xh_bfd_io_fini(struct xh_bfd_io *io);

/* A new session to addr from local; NULL if out of slots or sockets. */
struct xh_bfd_peer *xh_bfd_io_add(struct xh_bfd_io *io, const __be32 addr[4],
				  __u8 family, const __be32 local[4],
				  const struct xh_bfd_cfg *cfg, void *user);
void xh_bfd_io_del(struct xh_bfd_io *io, struct xh_bfd_peer *p);

/* Rebuild and publish p's periodic packet and interval. */
void xh_bfd_io_publish(struct xh_bfd_io *io, struct xh_bfd_peer *p);
/* Send one packet now (a Final, or a state change without waiting). */
int xh_bfd_io_send_now(struct xh_bfd_io *io, struct xh_bfd_peer *p,
		       bool final);

/* Read every pending datagram of fd; for each that names a session, run
 * the state machine and call cb. Returns datagrams read. */
typedef void (*xh_bfd_rx_cb)(struct xh_bfd_io *io, struct xh_bfd_peer *p,
			     const struct xh_bfd_event *ev, void *arg);
int xh_bfd_io_recv(struct xh_bfd_io *io, int fd, xh_bfd_rx_cb cb, void *arg);

/*
 * Kernel assist: the data path (steer's xh_bfd_v1, member's xm_bfd_v1, one
 * layout but for the tag: the backend or the group a session stamps)
 * consumes p's steady packets and stamps their arrival.
 */
struct xh_bfd_kernel {
	int map_fd;
	__u32 tag;			/* backend id or group index */
	bool in_kernel;			/* an entry is written */
	struct xh_bfd_ctl image;	/* what the entry expects */
};

/* Write, rewrite or remove p's entry as its steady image says. */
void xh_bfd_kernel_sync(struct xh_bfd_kernel *k, struct xh_bfd_peer *p);
/* Before Down/Up decisions: the data path's stamp is the session's last
 * reception. */
void xh_bfd_kernel_touch(struct xh_bfd_kernel *k, struct xh_bfd_peer *p);
/* A session a previous controller left in the kernel for p's peer: take
 * over its discriminator and Up state (no flap at the peer). Returns 0 if
 * adopted, -ENOENT if there was none. */
int xh_bfd_kernel_adopt(struct xh_bfd_io *io, struct xh_bfd_kernel *k,
			struct xh_bfd_peer *p);

/* A stopping controller: slow every Up session's promised transmit
 * interval to grace_ms through a poll sequence (wait up to 300 ms for the
 * peers' Final), so that peers keep the sessions Up while a new controller
 * starts and adopts them. rx_us is our unchanged required min rx.
 * Returns the sessions told; *unconfirmed the ones that did not answer. */
int xh_bfd_io_slow_down(struct xh_bfd_io *io, __u32 grace_ms, __u32 rx_us,
			int *unconfirmed);

#endif
