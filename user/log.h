/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * log.h - diagnostics on stderr with levels; data goes to stdout elsewhere.
 * libbpf's own messages are routed here and demoted one level.
 */
#ifndef XH_LOG_H
#define XH_LOG_H

enum xh_log_level { XH_LOG_WARN, XH_LOG_INFO, XH_LOG_DEBUG };

extern int xh_log_level;

void xh_log(enum xh_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void xh_log_init(int level);

#define pr_warn(...)	xh_log(XH_LOG_WARN, __VA_ARGS__)
#define pr_info(...)	xh_log(XH_LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	xh_log(XH_LOG_DEBUG, __VA_ARGS__)

#endif
