// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * log.c - leveled logging to stderr, libbpf's messages included.
 */
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "log.h"

int xh_log_level = XH_LOG_WARN;

static const char *const prefix[] = { "", "", "debug: " };

void xh_log(enum xh_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if ((int)lvl > xh_log_level)
		return;
	va_start(ap, fmt);
	fputs(prefix[lvl], stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* libbpf's warnings are mostly noise to an operator (the error we report
 * says what failed): show them at info, its info at debug. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	int lvl = level == LIBBPF_WARN ? XH_LOG_INFO : XH_LOG_DEBUG;

	if (level == LIBBPF_DEBUG && xh_log_level < XH_LOG_DEBUG + 1)
		return 0;
	if (lvl > xh_log_level)
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void xh_log_init(int level)
{
	xh_log_level = level;
	libbpf_set_print(libbpf_print);
}
