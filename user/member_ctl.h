/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * member_ctl.h - the member controller: `xdpha run` with a configuration
 * whose interfaces have role member (see member_ctl.c).
 */
#ifndef XH_MEMBER_CTL_H
#define XH_MEMBER_CTL_H

#include "config.h"

/* Run until SIGTERM; takes cfg over (frees it). Returns an exit status. */
int xh_member_run(struct xh_cfg *cfg, const char *path);

#endif
