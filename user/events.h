/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * events.h - membership events: logged, counted, streamed as JSON lines to
 * subscribers, and handed to the notify hook (a program run with the event
 * in its environment, never through a shell, with a timeout), so a VNFM
 * or cluster manager can repair the failed VNFC.
 */
#ifndef XH_EVENTS_H
#define XH_EVENTS_H

#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>

#define XH_EV_MAX_SUBS		16
#define XH_EV_QUEUE		256

enum xh_ev_type {
	XH_EV_BACKEND_UP,	/* a backend takes traffic (again) */
	XH_EV_BACKEND_DOWN,	/* a backend is excluded: heartbeat lost,
				 * peer down, health check failed */
	XH_EV_BACKEND_DRAIN,	/* no new flows for it */
	XH_EV_BACKEND_HOLD,	/* healthy again, waiting out hold-down */
	XH_EV_ACTIVE,		/* active-standby: the active member changed */
	XH_EV_SESSION,		/* a BFD session changed state */
	XH_EV_CONFIG,		/* configuration (re)loaded or refused */
	XH_EV_CONTROLLER,	/* controller started or stopping */
	XH_EV_OWNER,		/* member: we took or gave up a VIP group
				 * (service = group, state active|standby) */
	XH_EV_MAX,
};

struct xh_event {
	enum xh_ev_type type;
	__u64 time_ns;		/* CLOCK_MONOTONIC */
	char service[96];
	char backend[64];
	char state[24];
	char reason[96];
};

struct xh_notify_job {
	struct xh_event ev;
};

struct xh_events {
	__u64 count[XH_EV_MAX];
	int subs[XH_EV_MAX_SUBS];	/* fds that get every event as a line */
	/* notify hook: one child at a time, events queued in order */
	char *prog;
	char **args;			/* NULL-terminated, may be NULL */
	__u32 timeout_ms;
	pid_t child;
	__u64 child_deadline_ns;
	struct xh_event queue[XH_EV_QUEUE];
	unsigned int q_head, q_len;
	__u64 hook_runs, hook_failures, hook_timeouts, hook_dropped;
};

const char *xh_ev_name(enum xh_ev_type t);
void xh_events_init(struct xh_events *e);
/* Record an event: log, count, stream, queue for the hook. */
void xh_event(struct xh_events *e, enum xh_ev_type t, const char *service,
	      const char *backend, const char *state, const char *reason);
/* Format as one JSON line (with trailing newline); returns length. */
int xh_event_json(const struct xh_event *ev, char *buf, size_t sz);
int xh_events_subscribe(struct xh_events *e, int fd);
/* Start the next hook run if none is running; kill one past its deadline.
 * Call from the loop's tick and after a child was reaped. */
void xh_events_pump(struct xh_events *e, __u64 now);
/* A child exited: if it was the hook, account for it. */
bool xh_events_reaped(struct xh_events *e, pid_t pid, int status);

#endif
