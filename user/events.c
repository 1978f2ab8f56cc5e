// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * events.c - membership events and the notify hook; see events.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "events.h"
#include "log.h"
#include "tables.h"

static const char *const names[XH_EV_MAX] = {
	[XH_EV_BACKEND_UP] = "backend_up",
	[XH_EV_BACKEND_DOWN] = "backend_down",
	[XH_EV_BACKEND_DRAIN] = "backend_drain",
	[XH_EV_BACKEND_HOLD] = "backend_hold",
	[XH_EV_ACTIVE] = "active",
	[XH_EV_SESSION] = "session",
	[XH_EV_CONFIG] = "config",
	[XH_EV_CONTROLLER] = "controller",
	[XH_EV_OWNER] = "owner",
};

const char *xh_ev_name(enum xh_ev_type t)
{
	return t < XH_EV_MAX ? names[t] : "?";
}

void xh_events_init(struct xh_events *e)
{
	int i;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < XH_EV_MAX_SUBS; i++)
		e->subs[i] = -1;
}

/* JSON string escaping for the few characters our fields can hold. */
static int put_str(char *buf, size_t sz, const char *s)
{
	size_t n = 0;

	if (n < sz)
		buf[n++] = '"';
	for (; *s && n + 7 < sz; s++) {
		if (*s == '"' || *s == '\\') {
			buf[n++] = '\\';
			buf[n++] = *s;
		} else if ((unsigned char)*s < 0x20) {
			n += snprintf(buf + n, sz - n, "\\u%04x", *s);
		} else {
			buf[n++] = *s;
		}
	}
	if (n < sz)
		buf[n++] = '"';
	return n;
}

int xh_event_json(const struct xh_event *ev, char *buf, size_t sz)
{
	int n;

	n = snprintf(buf, sz, "{\"event\":\"%s\",\"time_ms\":%.3f,\"service\":",
		     xh_ev_name(ev->type), ev->time_ns / 1e6);
	n += put_str(buf + n, sz - n, ev->service);
	n += snprintf(buf + n, sz - n, ",\"backend\":");
	n += put_str(buf + n, sz - n, ev->backend);
	n += snprintf(buf + n, sz - n, ",\"state\":");
	n += put_str(buf + n, sz - n, ev->state);
	n += snprintf(buf + n, sz - n, ",\"reason\":");
	n += put_str(buf + n, sz - n, ev->reason);
	n += snprintf(buf + n, sz - n, "}\n");
	return n < (int)sz ? n : (int)sz - 1;
}

int xh_events_subscribe(struct xh_events *e, int fd)
{
	int i;

	for (i = 0; i < XH_EV_MAX_SUBS; i++)
		if (e->subs[i] < 0) {
			e->subs[i] = fd;
			return 0;
		}
	return -ENOSPC;
}

void xh_event(struct xh_events *e, enum xh_ev_type t, const char *service,
	      const char *backend, const char *state, const char *reason)
{
	struct xh_event ev = { .type = t, .time_ns = xh_now_ns() };
	char line[512];
	int i, n;

	snprintf(ev.service, sizeof(ev.service), "%s", service ?: "");
	snprintf(ev.backend, sizeof(ev.backend), "%s", backend ?: "");
	snprintf(ev.state, sizeof(ev.state), "%s", state ?: "");
	snprintf(ev.reason, sizeof(ev.reason), "%s", reason ?: "");
	if (t < XH_EV_MAX)
		e->count[t]++;
	pr_info("event %s%s%s%s%s state=%s reason=%s\n", xh_ev_name(t),
		ev.service[0] ? " service=" : "", ev.service,
		ev.backend[0] ? " backend=" : "", ev.backend, ev.state,
		ev.reason);
	n = xh_event_json(&ev, line, sizeof(line));
	for (i = 0; i < XH_EV_MAX_SUBS; i++) {
		if (e->subs[i] < 0)
			continue;
		/* A subscriber that cannot keep up is dropped, never waited
		 * for: the controller's loop must not block. */
		if (write(e->subs[i], line, n) != n) {
			close(e->subs[i]);
			e->subs[i] = -1;
		}
	}
	/* The hook is for membership: what a VNFM acts on. Session state
	 * churn (a one-way path failure flips Down/Init every interval) is
	 * in the stream and the log, not in the hook. */
	if (!e->prog || !e->prog[0] || t == XH_EV_CONTROLLER ||
	    t == XH_EV_SESSION)
		return;
	if (e->q_len == XH_EV_QUEUE) {
		e->hook_dropped++;
		pr_warn("notify hook: queue full, event %s dropped\n",
			xh_ev_name(t));
		return;
	}
	e->queue[(e->q_head + e->q_len++) % XH_EV_QUEUE] = ev;
	xh_events_pump(e, ev.time_ns);
}

static void run_hook(const char *prog, char **args, const struct xh_event *ev)
{
	char env[6][160], *envp[8], *argv[34];
	int i, n = 0, fd;

	snprintf(env[0], sizeof(env[0]), "XDPHA_EVENT=%s", xh_ev_name(ev->type));
	snprintf(env[1], sizeof(env[1]), "XDPHA_SERVICE=%s", ev->service);
	snprintf(env[2], sizeof(env[2]), "XDPHA_BACKEND=%s", ev->backend);
	snprintf(env[3], sizeof(env[3]), "XDPHA_STATE=%s", ev->state);
	snprintf(env[4], sizeof(env[4]), "XDPHA_REASON=%s", ev->reason);
	snprintf(env[5], sizeof(env[5]), "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	for (i = 0; i < 6; i++)
		envp[i] = env[i];
	envp[6] = NULL;
	argv[n++] = (char *)prog;
	for (i = 0; args && args[i] && n < 33; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	sigset_t none;

	/* The controller blocks its signals for signalfd; a hook must not
	 * inherit that. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0)
		dup2(fd, 0);
	/* Own process group, so a timeout kills what the hook started. */
	setpgid(0, 0);
	execve(prog, argv, envp);
	_exit(127);
}

void xh_events_pump(struct xh_events *e, __u64 now)
{
	pid_t pid;

	if (e->child > 0) {
		if (now > e->child_deadline_ns) {
			pr_warn("notify hook: pid %d still running after %u ms, "
				"killed\n", e->child, e->timeout_ms);
			kill(-e->child, SIGKILL);
			kill(e->child, SIGKILL);
			e->hook_timeouts++;
			e->child_deadline_ns = (__u64)-1;
		}
		return;
	}
	if (!e->q_len)
		return;
	pid = fork();
	if (pid < 0) {
		pr_warn("notify hook: fork: %s\n", strerror(errno));
		return;
	}
	if (pid == 0)
		run_hook(e->prog, e->args, &e->queue[e->q_head]);
	e->q_head = (e->q_head + 1) % XH_EV_QUEUE;
	e->q_len--;
	e->child = pid;
	e->child_deadline_ns = now + (__u64)e->timeout_ms * 1000000ULL;
	e->hook_runs++;
}

bool xh_events_reaped(struct xh_events *e, pid_t pid, int status)
{
	if (pid != e->child)
		return false;
	e->child = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		e->hook_failures++;
		pr_warn("notify hook %s: %s %d\n", e->prog,
			WIFEXITED(status) ? "exited with" : "killed by signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	}
	return true;
}
