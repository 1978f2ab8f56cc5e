/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xh_bfd.h - BFD control packet wire format (RFC 5880 §4.1, single hop over
 * UDP per RFC 5881), shared by the XDP stamping code (bpf/bfd.h) and the
 * user-space state machine (user/bfd.c).
 *
 * Rules as in xh_abi.h: fixed-width types, no bitfields, no pointers, a size
 * assertion on every struct. Multi-byte wire fields are big-endian.
 */
#ifndef XH_BFD_WIRE_H
#define XH_BFD_WIRE_H

#ifndef __bpf__
#include <linux/types.h>
#include <stdbool.h>
#endif

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define XH_BFD_PORT		3784	/* RFC 5881 §4: single-hop control */
#define XH_BFD_SRC_PORT_MIN	49152	/* RFC 5881 §4: source port range */
#define XH_BFD_SRC_PORT_MAX	65535
#define XH_BFD_TTL		255	/* RFC 5881 §5: sent and required on rx */
#define XH_BFD_VERSION		1
#define XH_BFD_CTL_LEN		24	/* mandatory section, no auth */

/* Bits of xh_bfd_ctl.flags below the two state bits. */
#define XH_BFD_F_POLL		0x20
#define XH_BFD_F_FINAL		0x10
#define XH_BFD_F_CPI		0x08	/* control plane independent */
#define XH_BFD_F_AUTH		0x04
#define XH_BFD_F_DEMAND		0x02
#define XH_BFD_F_MULTI		0x01	/* multipoint, reserved: must be 0 */
#define XH_BFD_F_MASK		0x3f

enum xh_bfd_state {
	XH_BFD_ADMIN_DOWN = 0,
	XH_BFD_DOWN = 1,
	XH_BFD_INIT = 2,
	XH_BFD_UP = 3,
};

/* Why the sender last changed its state (RFC 5880 §4.1). */
enum xh_bfd_diag {
	XH_BFD_DIAG_NONE = 0,
	XH_BFD_DIAG_DETECT_EXPIRED = 1,	/* control detection time expired */
	XH_BFD_DIAG_ECHO_FAILED = 2,
	XH_BFD_DIAG_NEIGHBOR_DOWN = 3,	/* neighbor signaled session down */
	XH_BFD_DIAG_FWD_RESET = 4,	/* forwarding plane reset */
	XH_BFD_DIAG_PATH_DOWN = 5,
	XH_BFD_DIAG_CONCAT_DOWN = 6,	/* concatenated path down */
	XH_BFD_DIAG_ADMIN_DOWN = 7,
	XH_BFD_DIAG_REV_CONCAT_DOWN = 8, /* reverse concatenated path down */
	XH_BFD_DIAG_MAX = 8,
};

/* The mandatory section of a BFD control packet. Intervals are in µs. */
struct xh_bfd_ctl {
	__u8 vers_diag;		/* version << 5 | diag */
	__u8 flags;		/* state << 6 | P F C A D M */
	__u8 detect_mult;
	__u8 length;		/* whole packet incl. auth section, bytes */
	__be32 my_disc;
	__be32 your_disc;
	__be32 desired_min_tx;
	__be32 required_min_rx;
	__be32 required_min_echo_rx;
};
_Static_assert(sizeof(struct xh_bfd_ctl) == XH_BFD_CTL_LEN, "xh_bfd_ctl size");

/* Builders of the first two bytes, for packets made by hand (tests). */
#define XH_BFD_VERS_DIAG(vers, diag) \
	((__u8)(((vers) << 5) | ((diag) & 0x1f)))
#define XH_BFD_FLAGS(state, bits) \
	((__u8)(((state) << 6) | ((bits) & XH_BFD_F_MASK)))

static __always_inline __u8 xh_bfd_ctl_version(const struct xh_bfd_ctl *c)
{
	return c->vers_diag >> 5;
}

static __always_inline __u8 xh_bfd_ctl_diag(const struct xh_bfd_ctl *c)
{
	return c->vers_diag & 0x1f;
}

static __always_inline __u8 xh_bfd_ctl_state(const struct xh_bfd_ctl *c)
{
	return c->flags >> 6;
}

static __always_inline bool xh_bfd_ctl_flag(const struct xh_bfd_ctl *c,
					    __u8 bit)
{
	return (c->flags & bit) != 0;
}

#endif /* XH_BFD_WIRE_H */
