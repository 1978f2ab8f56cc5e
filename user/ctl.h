/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ctl.h - the control socket protocol between the xdpha command and a
 * running controller.
 *
 * The command sends its argv (NUL-separated) with its own stdout and
 * stderr attached (SCM_RIGHTS); the controller runs the verb with them, so
 * output and exit status are exactly those of a local run, and answers
 * "X <status>\n". `events` instead keeps the connection and streams one
 * JSON line per event.
 */
#ifndef XH_CTL_H
#define XH_CTL_H

#include <stdbool.h>
#include <sys/types.h>

#define XH_CTL_MAX	4096
#define XH_CTL_ENV	"XDPHA_SOCKET"

/* Receive one request; fds[0..1] get the passed descriptors or -1. */
ssize_t xh_ctl_recv(int sock, char *buf, size_t sz, int fds[2]);
/* Split a NUL-separated request into argv; returns argc or -1. */
int xh_ctl_split(char *buf, size_t len, char **argv, int max);
/* Where the controller listens: -S, $XDPHA_SOCKET, or the default. */
const char *xh_ctl_path(const char *opt);
/* Run argv through the controller at path. Returns the verb's exit
 * status, or -1 if no controller listens there (run it locally then). */
int xh_ctl_forward(const char *path, int argc, char **argv);

/* The verb table, for the controller's children. */
int xh_run_verb(int argc, char **argv, bool local);

int cmd_run(int argc, char **argv);
int cmd_member(int argc, char **argv);

#endif
