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
#include <signal.h>
#include <sys/types.h>
#include <linux/types.h>

#define XH_CTL_MAX	4096
#define XH_CTL_ENV	"XDPHA_SOCKET"

/* Receive one request; fds[0..1] get the passed descriptors or -1. */
ssize_t xh_ctl_recv(int sock, char *buf, size_t sz, int fds[2]);
/* Split a NUL-separated request into argv; returns argc or -1. */
int xh_ctl_split(char *buf, size_t len, char **argv, int max);
/* -S of the command line, NULL if not given. */
extern const char *xh_ctl_sock;
/* Where the controller listens: -S, $XDPHA_SOCKET, or the default. */
const char *xh_ctl_path(const char *opt);
/* Run argv through the controller at path. Returns the verb's exit
 * status, or -1 if no controller listens there (run it locally then). */
int xh_ctl_forward(const char *path, int argc, char **argv);

/* The server side, shared by both controllers: a listening socket and
 * its clients on the controller's epoll. A request runs in a forked child
 * with the client's stdout and stderr (the child sees the controller's
 * memory, so status can show it), except `events`, which turns the
 * connection into a subscription, and the verbs inproc accepts, which run
 * in the controller itself (they change its state). */
#define XH_CTL_CLIENTS	16

struct xh_events;

struct xh_ctl_srv {
	int fd;				/* listening, -1 if none */
	int ep;				/* the controller's epoll */
	__u64 key;			/* epoll data of client i: key + i */
	struct {
		int sock;		/* 0: free */
		pid_t child;		/* the verb running for it */
	} c[XH_CTL_CLIENTS];
	struct xh_events *ev;
	/* Run argv in the controller if it is one of its own verbs, with
	 * out/err as stdout/stderr (-1: none); return its exit status, or
	 * -1 to run it in a child as any other verb. May be NULL. */
	int (*inproc)(void *arg, int argc, char **argv, int out, int err);
	void *arg;
};

/* Listen on path (root only), register with ep (listening socket under
 * listen_key, clients under client_key + i). Returns 0 or -errno. */
int xh_ctl_srv_open(struct xh_ctl_srv *s, const char *path, int ep,
		    __u64 listen_key, __u64 client_key);
void xh_ctl_srv_accept(struct xh_ctl_srv *s);
/* Client i is readable. */
void xh_ctl_srv_request(struct xh_ctl_srv *s, int i);
/* A child exited: true if it ran a client's verb (the client got its
 * status and is closed), so the caller may adopt what the verb changed. */
bool xh_ctl_srv_reaped(struct xh_ctl_srv *s, pid_t pid, int status);
void xh_ctl_srv_close(struct xh_ctl_srv *s, const char *path);

/* The start of either controller, before any thread exists (so that every
 * thread inherits the mask and signals reach the signalfd): block SIGTERM,
 * SIGINT, SIGHUP and SIGCHLD into *ss, ignore SIGPIPE, and take the lock
 * beside the socket (-EBUSY: another controller runs with it). */
int xh_ctl_begin(const char *socket, sigset_t *ss, int *lock_fd);
/* The loop's signalfd for ss and its tick timerfd: a quarter of the
 * heartbeat interval, at least 1 ms. Lock memory (no page fault delays a
 * heartbeat). */
int xh_ctl_loop_fds(const sigset_t *ss, __u32 hb_interval_ms, int *sfd,
		    int *tfd, __u64 *tick_ns);

/* The verb table, for the controller's children. */
int xh_run_verb(int argc, char **argv, bool local);

int cmd_run(int argc, char **argv);
int cmd_member(int argc, char **argv);

#endif
