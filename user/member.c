// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * member.c - `xdpha member`: the VNFC's side of the heartbeat.
 *
 * Speaks BFD to the steering node and tells it the truth about the
 * application: the session is Up only while the health check passes (a
 * command's exit status, a TCP connect, or a liveness stamp file the
 * application refreshes), held Down with diagnostic 6 (concatenated path
 * down: the service behind this path failed) otherwise, and AdminDown
 * while drained (SIGUSR1 drains, SIGUSR2 undrains, or a drain file).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include "cli.h"
#include "ctl.h"
#include "bfd_io.h"
#include "svc.h"
#include "log.h"

enum check_kind { CHECK_NONE, CHECK_CMD, CHECK_TCP, CHECK_STAMP };

struct member {
	struct xh_bfd_io io;
	struct xh_bfd_peer *peer;
	enum check_kind kind;
	char *cmd[32];			/* argv of the check command */
	struct sockaddr_storage tcp;	/* TCP check target */
	socklen_t tcp_len;
	const char *stamp;		/* liveness stamp file */
	__u32 stamp_max_ms;
	const char *drain_file;
	__u32 interval_ms, timeout_ms, rise, fall;
	/* one check in flight */
	pid_t child;
	int tcp_fd;
	__u64 deadline;
	__u32 ok_run, bad_run;
	bool healthy, drained;
	int ep, sfd, tfd;
	__u64 next_check;
	const char *why;		/* last failure */
};

static __u64 now_ns(void)
{
	return xh_now_ns();
}

static void set_health(struct member *mb, bool ok, const char *why)
{
	struct xh_bfd_event ev;

	if (ok) {
		mb->bad_run = 0;
		if (++mb->ok_run < mb->rise || mb->healthy)
			return;
		mb->healthy = true;
		pr_info("health check passes: session may come Up\n");
		xh_bfd_set_fault(&mb->peer->s, 0, now_ns(), &ev);
	} else {
		mb->ok_run = 0;
		mb->why = why;
		if (++mb->bad_run < mb->fall || !mb->healthy)
			return;
		mb->healthy = false;
		pr_warn("health check fails (%s): session held Down, diag "
			"concatenated-path-down\n", why);
		xh_bfd_set_fault(&mb->peer->s, XH_BFD_DIAG_CONCAT_DOWN,
				 now_ns(), &ev);
	}
	xh_bfd_io_publish(&mb->io, mb->peer);
	xh_bfd_io_send_now(&mb->io, mb->peer, false);
}

static void set_drain(struct member *mb, bool drain)
{
	struct xh_bfd_event ev;

	if (drain == mb->drained)
		return;
	mb->drained = drain;
	pr_info("%s\n", drain ? "drained: session AdminDown" :
		"undrained: session may come Up");
	xh_bfd_set_admin_down(&mb->peer->s, drain, now_ns(), &ev);
	xh_bfd_io_publish(&mb->io, mb->peer);
	xh_bfd_io_send_now(&mb->io, mb->peer, false);
}

static void check_start(struct member *mb, __u64 now)
{
	struct epoll_event ee = { .events = EPOLLOUT, .data.u64 = 4 };
	struct stat st;
	pid_t pid;

	mb->deadline = now + (__u64)mb->timeout_ms * 1000000ULL;
	switch (mb->kind) {
	case CHECK_NONE:
		set_health(mb, true, NULL);
		return;
	case CHECK_STAMP:
		if (stat(mb->stamp, &st))
			set_health(mb, false, "stamp file missing");
		else {
			struct timespec ts;
			__u64 age;

			clock_gettime(CLOCK_REALTIME, &ts);
			age = ((__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec) -
			      ((__u64)st.st_mtim.tv_sec * 1000000000ULL +
			       st.st_mtim.tv_nsec);
			set_health(mb, age <= (__u64)mb->stamp_max_ms * 1000000ULL,
				   "stamp too old");
		}
		return;
	case CHECK_CMD:
		pid = fork();
		if (pid == 0) {
			sigset_t none;
			int fd = open("/dev/null", O_RDWR);

			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			if (fd >= 0) {
				dup2(fd, 0);
				dup2(fd, 1);
			}
			setpgid(0, 0);
			execvp(mb->cmd[0], mb->cmd);
			_exit(127);
		}
		if (pid < 0)
			set_health(mb, false, "cannot fork the check");
		else
			mb->child = pid;
		return;
	case CHECK_TCP:
		mb->tcp_fd = socket(mb->tcp.ss_family, SOCK_STREAM |
				    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (mb->tcp_fd < 0) {
			set_health(mb, false, "socket");
			return;
		}
		if (!connect(mb->tcp_fd, (struct sockaddr *)&mb->tcp, mb->tcp_len)) {
			close(mb->tcp_fd);
			mb->tcp_fd = -1;
			set_health(mb, true, NULL);
			return;
		}
		if (errno != EINPROGRESS) {
			close(mb->tcp_fd);
			mb->tcp_fd = -1;
			set_health(mb, false, "tcp connect refused");
			return;
		}
		epoll_ctl(mb->ep, EPOLL_CTL_ADD, mb->tcp_fd, &ee);
		return;
	}
}

static void tcp_done(struct member *mb, bool timeout)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (!timeout)
		getsockopt(mb->tcp_fd, SOL_SOCKET, SO_ERROR, &err, &len);
	epoll_ctl(mb->ep, EPOLL_CTL_DEL, mb->tcp_fd, NULL);
	close(mb->tcp_fd);
	mb->tcp_fd = -1;
	set_health(mb, !timeout && !err, timeout ? "tcp connect timeout" :
		   "tcp connect failed");
}

static void on_rx(struct xh_bfd_io *io, struct xh_bfd_peer *p,
		  const struct xh_bfd_event *ev, void *arg);

static void member_tick(struct member *mb)
{
	__u64 now;
	struct xh_bfd_event ev;

	/* Packets that arrived while this thread was not running count
	 * before the timer: a stalled thread must not declare its peer
	 * dead for its own lateness. */
	xh_bfd_io_recv(&mb->io, mb->peer->family == XH_FAM_V6 ? mb->io.rx6 :
		       mb->io.rx4, on_rx, mb);
	now = now_ns();
	if (xh_bfd_check_timeout(&mb->peer->s, now, &ev) > 0) {
		xh_bfd_io_publish(&mb->io, mb->peer);
		pr_warn("session Down: %s\n", xh_bfd_diag_name(ev.diag));
	}
	if (mb->drain_file)
		set_drain(mb, !access(mb->drain_file, F_OK));
	if (mb->child > 0 && now > mb->deadline) {
		kill(-mb->child, SIGKILL);
		kill(mb->child, SIGKILL);
	}
	if (mb->tcp_fd >= 0 && now > mb->deadline)
		tcp_done(mb, true);
	if (mb->child <= 0 && mb->tcp_fd < 0 && now >= mb->next_check) {
		mb->next_check = now + (__u64)mb->interval_ms * 1000000ULL;
		check_start(mb, now);
	}
}

static void on_rx(struct xh_bfd_io *io, struct xh_bfd_peer *p,
		  const struct xh_bfd_event *ev, void *arg)
{
	(void)io;
	(void)arg;
	if (ev->state_changed)
		pr_info("session %s -> %s (%s)\n",
			xh_bfd_state_name(ev->old_state),
			xh_bfd_state_name(ev->new_state),
			xh_bfd_diag_name(p->s.local_diag));
}

static int usage_member(FILE *f)
{
	fprintf(f,
"usage: xdpha member --peer ADDR --local ADDR [--interval MS] [--multiplier N]\n"
"                    [--slow-start MS] [--check-cmd 'PROG ARG...' |\n"
"                    --check-tcp ADDR:PORT | --check-stamp FILE --stamp-max-age MS]\n"
"                    [--check-interval MS] [--check-timeout MS] [--rise N]\n"
"                    [--fall N] [--drain-file FILE] [--rt-prio N]\n"
"  The VNFC side: a BFD session (RFC 5880/5881) with the steering node\n"
"  at ADDR, Up only while the health check passes (held Down with\n"
"  diagnostic concatenated-path-down otherwise), AdminDown while drained\n"
"  (SIGUSR1 drains, SIGUSR2 undrains, or the drain file exists).\n"
"  --check-cmd is split on spaces and run without a shell; exit 0 passes.\n"
"  Defaults: interval 10 ms, multiplier 5, checks every 100 ms with a\n"
"  1000 ms timeout, rise 1, fall 1, slow start 1000 ms, rt-prio 50.\n"
"\n"
"usage: xdpha [-S SOCKET] member promote|demote GROUP\n"
"  Tell the member controller (xdpha run with role member) running on\n"
"  SOCKET: demote takes this member out of GROUP's election until a\n"
"  promote (it yields the VIPs if it owns them); promote makes it\n"
"  eligible again. With `arbiter = true` in the group, they are the only\n"
"  way ownership changes: promote claims the VIPs at once, demote gives\n"
"  them up; demote the old owner before promoting the new one.\n");
	return f == stderr ? XH_EXIT_USAGE : XH_EXIT_OK;
}

static int parse_hostport(const char *s, struct sockaddr_storage *ss,
			  socklen_t *len)
{
	struct xh_svc_spec sp;
	char buf[128];

	/* reuse the service parser: ADDR:PORT/tcp */
	if (snprintf(buf, sizeof(buf), "%s/tcp", s) >= (int)sizeof(buf) ||
	    xh_svc_parse(buf, &sp) || !sp.port)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (sp.family == XH_FAM_V6) {
		struct sockaddr_in6 *a = (void *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(sp.port);
		memcpy(&a->sin6_addr, sp.addr, 16);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (void *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(sp.port);
		a->sin_addr.s_addr = sp.addr[0];
		*len = sizeof(*a);
	}
	return 0;
}

int cmd_member(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "peer", required_argument, NULL, 'p' },
		{ "local", required_argument, NULL, 'l' },
		{ "interval", required_argument, NULL, 'i' },
		{ "multiplier", required_argument, NULL, 'm' },
		{ "slow-start", required_argument, NULL, 's' },
		{ "check-cmd", required_argument, NULL, 'C' },
		{ "check-tcp", required_argument, NULL, 'T' },
		{ "check-stamp", required_argument, NULL, 'F' },
		{ "stamp-max-age", required_argument, NULL, 'A' },
		{ "check-interval", required_argument, NULL, 'I' },
		{ "check-timeout", required_argument, NULL, 'O' },
		{ "rise", required_argument, NULL, 'r' },
		{ "fall", required_argument, NULL, 'f' },
		{ "drain-file", required_argument, NULL, 'D' },
		{ "rt-prio", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct member *mb;

	if (argc >= 2 && (!strcmp(argv[1], "promote") ||
			  !strcmp(argv[1], "demote"))) {
		int rc;

		if (argc != 3)
			return usage_member(stderr);
		rc = xh_ctl_forward(xh_ctl_path(xh_ctl_sock), argc, argv);
		if (rc < 0) {
			pr_warn("xdpha: no member controller listens on %s "
				"(start one with xdpha run, or pass -S)\n",
				xh_ctl_path(xh_ctl_sock));
			return XH_EXIT_ERR;
		}
		return rc;
	}
	struct xh_bfd_cfg bc = { .detect_mult = 5 };
	__be32 peer[4], local[4];
	__u8 pf = 0, lf = 0;
	__u32 iv = 10, slow = 1000, rt = 50;
	struct epoll_event ee = { .events = EPOLLIN }, evs[16];
	struct itimerspec its = {};
	char *cmdline = NULL, *end, *tok;
	sigset_t ss;
	long v;
	int c, n, i, rc = XH_EXIT_ERR;

	mb = calloc(1, sizeof(*mb));
	if (!mb)
		return XH_EXIT_ERR;
	mb->interval_ms = 100;
	mb->timeout_ms = 1000;
	mb->rise = mb->fall = 1;
	mb->tcp_fd = -1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
		case 'l':
			if (xh_addr_parse(optarg, c == 'p' ? peer : local,
					  c == 'p' ? &pf : &lf)) {
				pr_warn("bad address '%s'\n", optarg);
				goto usage;
			}
			break;
		case 'C':
			cmdline = strdup(optarg);
			mb->kind = CHECK_CMD;
			break;
		case 'T':
			if (parse_hostport(optarg, &mb->tcp, &mb->tcp_len)) {
				pr_warn("bad --check-tcp '%s' (ADDR:PORT)\n", optarg);
				goto usage;
			}
			mb->kind = CHECK_TCP;
			break;
		case 'F':
			mb->stamp = optarg;
			mb->kind = CHECK_STAMP;
			break;
		case 'D':
			mb->drain_file = optarg;
			break;
		case 'h':
			free(mb);
			return usage_member(stdout);
		case 'i': case 'm': case 's': case 'A': case 'I': case 'O':
		case 'r': case 'f': case 'R':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || !*optarg || v < 0 || v > 3600000 ||
			    (c == 'm' && (v < 1 || v > 255)) ||
			    (c != 'R' && c != 'A' && v < 1)) {
				pr_warn("bad number '%s'\n", optarg);
				goto usage;
			}
			if (c == 'i') iv = v;
			else if (c == 'm') bc.detect_mult = v;
			else if (c == 's') slow = v;
			else if (c == 'A') mb->stamp_max_ms = v;
			else if (c == 'I') mb->interval_ms = v;
			else if (c == 'O') mb->timeout_ms = v;
			else if (c == 'r') mb->rise = v;
			else if (c == 'f') mb->fall = v;
			else rt = v;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc || !pf || !lf || pf != lf ||
	    (mb->kind == CHECK_STAMP && !mb->stamp_max_ms)) {
		if (pf && lf && pf != lf)
			pr_warn("--peer and --local differ in address family\n");
		goto usage;
	}
	if (cmdline) {
		n = 0;
		for (tok = strtok(cmdline, " "); tok && n < 31;
		     tok = strtok(NULL, " "))
			mb->cmd[n++] = tok;
		mb->cmd[n] = NULL;
		if (!n)
			goto usage;
	}
	bc.desired_min_tx_us = bc.required_min_rx_us = iv * 1000;
	bc.slow_tx_us = slow * 1000;
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		pr_info("mlockall: %s (continuing)\n", strerror(errno));
	/* Before the transmit thread exists: it inherits the mask. */
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGCHLD);
	sigaddset(&ss, SIGUSR1);
	sigaddset(&ss, SIGUSR2);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	if (xh_bfd_io_init(&mb->io, rt))
		goto out;
	mb->peer = xh_bfd_io_add(&mb->io, peer, pf, local, &bc, mb);
	if (!mb->peer)
		goto out_io;
	/* Down until the first check passes. */
	mb->healthy = false;
	if (mb->kind != CHECK_NONE) {
		struct xh_bfd_event ev;

		xh_bfd_set_fault(&mb->peer->s, XH_BFD_DIAG_CONCAT_DOWN,
				 now_ns(), &ev);
		xh_bfd_io_publish(&mb->io, mb->peer);
	}
	mb->sfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	mb->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	its.it_value.tv_nsec = its.it_interval.tv_nsec = 1000000;
	timerfd_settime(mb->tfd, 0, &its, NULL);
	mb->ep = epoll_create1(EPOLL_CLOEXEC);
	ee.data.u64 = 1;
	epoll_ctl(mb->ep, EPOLL_CTL_ADD, mb->sfd, &ee);
	ee.data.u64 = 2;
	epoll_ctl(mb->ep, EPOLL_CTL_ADD, mb->tfd, &ee);
	ee.data.u64 = 3;
	epoll_ctl(mb->ep, EPOLL_CTL_ADD, pf == XH_FAM_V6 ? mb->io.rx6 : mb->io.rx4,
		  &ee);
	pr_info("member: BFD with peer, %u ms x %u, %s check\n", iv,
		bc.detect_mult, mb->kind == CHECK_CMD ? "command" :
		mb->kind == CHECK_TCP ? "tcp" : mb->kind == CHECK_STAMP ?
		"stamp" : "no");
	for (;;) {
		n = epoll_wait(mb->ep, evs, 16, -1);
		if (n < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			__u64 k = evs[i].data.u64, x;
			struct signalfd_siginfo si;

			if (k == 2) {
				if (read(mb->tfd, &x, sizeof(x)) > 0)
					member_tick(mb);
			} else if (k == 3) {
				xh_bfd_io_recv(&mb->io, pf == XH_FAM_V6 ?
					       mb->io.rx6 : mb->io.rx4, on_rx, mb);
			} else if (k == 4) {
				tcp_done(mb, false);
			} else if (k == 1) {
				while (read(mb->sfd, &si, sizeof(si)) == sizeof(si)) {
					int st;
					pid_t p;

					if (si.ssi_signo == SIGTERM ||
					    si.ssi_signo == SIGINT) {
						rc = XH_EXIT_OK;
						goto stop;
					}
					if (si.ssi_signo == SIGUSR1)
						set_drain(mb, true);
					if (si.ssi_signo == SIGUSR2)
						set_drain(mb, false);
					while ((p = waitpid(-1, &st, WNOHANG)) > 0)
						if (p == mb->child) {
							mb->child = 0;
							set_health(mb, WIFEXITED(st) &&
								   !WEXITSTATUS(st),
								   WIFEXITED(st) ?
								   "check command failed" :
								   "check command killed");
						}
				}
			}
		}
	}
stop:
	/* Leaving on purpose: say so, so the steering node drains rather
	 * than waits out the detection time. */
	set_drain(mb, true);
	usleep(2000);
out_io:
	xh_bfd_io_fini(&mb->io);
out:
	free(cmdline);
	free(mb);
	return rc;
usage:
	free(cmdline);
	free(mb);
	return usage_member(stderr);
}
