// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * mirror_status.c - figures of application mirrors for `xdpha status`;
 * see mirror_status.h.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "mirror_status.h"
#include "loader.h"

/* "netns:NAME/b0" -> "netns:NAME_b0" */
static void dev_key(const char *pin_dir, char *buf, size_t sz)
{
	const char *rel = pin_dir;
	size_t i;

	if (!strncmp(rel, XH_PIN_ROOT "/", sizeof(XH_PIN_ROOT)))
		rel += sizeof(XH_PIN_ROOT);
	snprintf(buf, sz, "%s", rel);
	for (i = 0; buf[i]; i++)
		if (buf[i] == '/')
			buf[i] = '_';
}

void xh_mirror_status_path(const char *pin_dir, __u32 stream, char *buf,
			   size_t sz)
{
	char key[PATH_MAX];

	dev_key(pin_dir, key, sizeof(key));
	snprintf(buf, sz, "%s/%s.%u.json", XH_MIRROR_STATUS_DIR, key, stream);
}

int xh_mirror_status_write(const char *path, struct json_object *o)
{
	char tmp[PATH_MAX + 8];
	FILE *f;

	mkdir("/run/xdpha", 0755);
	mkdir(XH_MIRROR_STATUS_DIR, 0755);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), f);
	fputc('\n', f);
	if (fclose(f) || rename(tmp, path)) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

struct json_object *xh_mirror_status_read(const char *pin_dir)
{
	struct json_object *arr = json_object_new_array();
	char key[PATH_MAX], path[PATH_MAX * 2];
	struct dirent *de;
	size_t klen;
	DIR *dir;

	dev_key(pin_dir, key, sizeof(key));
	klen = strlen(key);
	dir = opendir(XH_MIRROR_STATUS_DIR);
	if (!dir)
		return arr;
	while ((de = readdir(dir))) {
		struct json_object *o, *pid;
		size_t n = strlen(de->d_name);

		if (strncmp(de->d_name, key, klen) || de->d_name[klen] != '.' ||
		    n < 5 || strcmp(de->d_name + n - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", XH_MIRROR_STATUS_DIR,
			 de->d_name);
		o = json_object_from_file(path);
		if (!o)
			continue;
		/* A writer killed without xdpha_close() leaves its file. */
		if (json_object_object_get_ex(o, "pid", &pid) &&
		    kill(json_object_get_int(pid), 0) && errno == ESRCH) {
			json_object_put(o);
			unlink(path);
			continue;
		}
		json_object_array_add(arr, o);
	}
	closedir(dir);
	return arr;
}
