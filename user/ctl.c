// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctl.c - control socket protocol; see ctl.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "ctl.h"
#include "config.h"

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
