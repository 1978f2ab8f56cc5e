// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctl.c - control socket protocol; see ctl.h.
 */
#define _GNU_SOURCE	/* accept4, struct ucred */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "ctl.h"
#include "config.h"
#include "events.h"
#include "log.h"

ssize_t xh_ctl_recv(int sock, char *buf, size_t sz, int fds[2])
{
	union {
		char b[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, sz - 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.b, .msg_controllen = sizeof(ctl.b),
	};
	struct cmsghdr *c;
	ssize_t n;

	fds[0] = fds[1] = -1;
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return n;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			memcpy(fds, CMSG_DATA(c), (k > 2 ? 2 : k) * sizeof(int));
		}
	buf[n] = 0;
	return n;
}

int xh_ctl_split(char *buf, size_t len, char **argv, int max)
{
	size_t i = 0;
	int argc = 0;

	while (i < len && argc < max) {
		argv[argc++] = buf + i;
		i += strnlen(buf + i, len - i) + 1;
	}
	argv[argc] = NULL;
	return argc;
}

const char *xh_ctl_sock;

const char *xh_ctl_path(const char *opt)
{
	const char *env = getenv(XH_CTL_ENV);

	if (opt)
		return opt;
	if (env && *env)
		return env;
	return XH_CFG_SOCKET_DEFAULT;
}

int xh_ctl_forward(const char *path, int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	union {
		char b[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	char req[XH_CTL_MAX], line[64], buf[4096];
	struct iovec iov;
	struct msghdr mh = {};
	struct cmsghdr *c;
	int fd, i, fds[2] = { 1, 2 }, status = 1;
	size_t len = 0, ll = 0;
	ssize_t n;
	bool events = argc > 0 && !strcmp(argv[0], "events");

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = errno;

		close(fd);
		if (err == EACCES || err == EPERM) {
			fprintf(stderr, "xdpha: the controller's socket %s is "
				"root's: %s\n", path, strerror(err));
			return 1;
		}
		return -1;	/* no controller: act locally */
	}
	for (i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;

		if (len + l > sizeof(req)) {
			fprintf(stderr, "xdpha: arguments too long\n");
			close(fd);
			return 2;
		}
		memcpy(req + len, argv[i], l);
		len += l;
	}
	iov.iov_base = req;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof(ctl.b);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	if (sendmsg(fd, &mh, 0) < 0) {
		fprintf(stderr, "xdpha: controller at %s: %s\n", path,
			strerror(errno));
		close(fd);
		return 1;
	}
	if (events) {
		/* OK, then one JSON line per event until either side ends. */
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			char *p = buf;

			if (!ll && n >= 3 && !memcmp(buf, "OK\n", 3)) {
				p += 3;
				n -= 3;
				ll = 1;
			}
			if (n > 0 && write(1, p, n) != n)
				break;
		}
		close(fd);
		return 0;
	}
	while ((n = read(fd, line + ll, sizeof(line) - ll - 1)) > 0) {
		ll += n;
		line[ll] = 0;
		if (strchr(line, '\n'))
			break;
	}
	if (sscanf(line, "X %d", &status) != 1) {
		if (line[0] == 'E')
			fputs(line + 2, stderr);
		else
			fprintf(stderr, "xdpha: no answer from the controller\n");
		status = 1;
	}
	close(fd);
	return status;
}

/* --- the server ------------------------------------------------------------ */

static int ctl_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0700);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	/* root-only: the mode keeps others from connecting, SO_PEERCRED
	 * checks who did. */
	umask(077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) ||
	    listen(fd, 8)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int xh_ctl_srv_open(struct xh_ctl_srv *s, const char *path, int ep,
		    __u64 listen_key, __u64 client_key)
{
	struct epoll_event ee = { .events = EPOLLIN, .data.u64 = listen_key };

	s->ep = ep;
	s->key = client_key;
	s->fd = ctl_listen(path);
	if (s->fd < 0)
		return s->fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ee))
		return -errno;
	return 0;
}

void xh_ctl_srv_accept(struct xh_ctl_srv *s)
{
	struct epoll_event ee = { .events = EPOLLIN };
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int fd, i;

	while ((fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) ||
		    cr.uid != 0) {
			dprintf(fd, "E xdpha: the control socket is for root only\n");
			close(fd);
			continue;
		}
		for (i = 0; i < XH_CTL_CLIENTS; i++)
			if (!s->c[i].sock)
				break;
		if (i == XH_CTL_CLIENTS) {
			dprintf(fd, "E xdpha: controller busy\n");
			close(fd);
			continue;
		}
		s->c[i].sock = fd;
		s->c[i].child = 0;
		ee.data.u64 = s->key + i;
		epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ee);
	}
}

static void client_close(struct xh_ctl_srv *s, int i)
{
	epoll_ctl(s->ep, EPOLL_CTL_DEL, s->c[i].sock, NULL);
	close(s->c[i].sock);
	s->c[i].sock = 0;
	s->c[i].child = 0;
}

void xh_ctl_srv_request(struct xh_ctl_srv *s, int i)
{
	char *argv[64];
	int argc, fds[2], j, rc;
	pid_t pid;
	char buf[XH_CTL_MAX];
	ssize_t n;

	if (s->c[i].child)
		return;		/* EOF while a verb runs: handled at exit */
	n = xh_ctl_recv(s->c[i].sock, buf, sizeof(buf), fds);
	if (n <= 0) {
		client_close(s, i);
		return;
	}
	argc = xh_ctl_split(buf, n, argv, 63);
	if (argc < 1) {
		client_close(s, i);
		goto closefds;
	}
	if (!strcmp(argv[0], "events")) {
		/* The connection becomes a subscription: one JSON line per
		 * event, until the client goes away. */
		int sock = s->c[i].sock;

		epoll_ctl(s->ep, EPOLL_CTL_DEL, sock, NULL);
		fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
		if (dprintf(sock, "OK\n") < 0 ||
		    xh_events_subscribe(s->ev, sock))
			close(sock);
		s->c[i].sock = 0;
		goto closefds;
	}
	rc = s->inproc ? s->inproc(s->arg, argc, argv, fds[0], fds[1]) : -1;
	if (rc >= 0) {
		dprintf(s->c[i].sock, "X %d\n", rc);
		client_close(s, i);
		goto closefds;
	}
	fflush(NULL);		/* nothing of ours is duplicated in the child */
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (fds[0] >= 0)
			dup2(fds[0], 1);
		if (fds[1] >= 0)
			dup2(fds[1], 2);
		optind = 0;
		rc = xh_run_verb(argc, argv, true);
		fflush(NULL);
		_exit(rc);
	}
	if (pid < 0) {
		dprintf(s->c[i].sock, "X 1\n");
		client_close(s, i);
	} else {
		s->c[i].child = pid;
	}
closefds:
	for (j = 0; j < 2; j++)
		if (fds[j] >= 0)
			close(fds[j]);
}

bool xh_ctl_srv_reaped(struct xh_ctl_srv *s, pid_t pid, int status)
{
	int i;

	for (i = 0; i < XH_CTL_CLIENTS; i++) {
		if (!s->c[i].sock || s->c[i].child != pid)
			continue;
		dprintf(s->c[i].sock, "X %d\n",
			WIFEXITED(status) ? WEXITSTATUS(status) : 1);
		client_close(s, i);
		return true;
	}
	return false;
}

void xh_ctl_srv_close(struct xh_ctl_srv *s, const char *path)
{
	int i;

	for (i = 0; i < XH_CTL_CLIENTS; i++)
		if (s->c[i].sock)
			close(s->c[i].sock);
	if (s->fd >= 0) {
		close(s->fd);
		unlink(path);
	}
	s->fd = -1;
}

/* --- what both controllers start with ----------------------------------------- */

int xh_ctl_begin(const char *socket, sigset_t *ss, int *lock_fd)
{
	char lock[XH_CFG_SOCKET_MAX + 8];

	sigemptyset(ss);
	sigaddset(ss, SIGTERM);
	sigaddset(ss, SIGINT);
	sigaddset(ss, SIGHUP);
	sigaddset(ss, SIGCHLD);
	sigprocmask(SIG_BLOCK, ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	snprintf(lock, sizeof(lock), "%s.lock", socket);
	*lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*lock_fd < 0 || flock(*lock_fd, LOCK_EX | LOCK_NB)) {
		pr_warn("another controller runs with socket %s\n", socket);
		return -EBUSY;
	}
	return 0;
}

int xh_ctl_loop_fds(const sigset_t *ss, __u32 hb_interval_ms, int *sfd,
		    int *tfd, __u64 *tick_ns)
{
	struct itimerspec its = {};
	__u64 t = (__u64)hb_interval_ms * 250000ULL;

	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		pr_info("mlockall: %s (continuing)\n", strerror(errno));
	if (t < 1000000)
		t = 1000000;
	*tick_ns = t;
	*sfd = signalfd(-1, ss, SFD_CLOEXEC | SFD_NONBLOCK);
	*tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (*sfd < 0 || *tfd < 0)
		return -errno;
	its.it_value.tv_nsec = its.it_interval.tv_nsec = t % 1000000000;
	its.it_value.tv_sec = its.it_interval.tv_sec = t / 1000000000;
	return timerfd_settime(*tfd, 0, &its, NULL) ? -errno : 0;
}
