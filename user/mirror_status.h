/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * mirror_status.h - a mirror that runs inside an application (libxdpha)
 * publishes its figures to a small JSON file, rewritten every second, so
 * that `xdpha status` on the device shows them next to the program's.
 * Files live under XH_MIRROR_STATUS_DIR, named after the device's pin
 * directory (so two namespaces' b0 do not collide) and the stream; a file
 * whose writer is gone is reported as stale and removed.
 */
#ifndef XH_MIRROR_STATUS_H
#define XH_MIRROR_STATUS_H

#include <stddef.h>
#include <json-c/json.h>
#include <linux/types.h>

#define XH_MIRROR_STATUS_DIR	"/run/xdpha/mirror"

void xh_mirror_status_path(const char *pin_dir, __u32 stream, char *buf,
			   size_t sz);
/* Write o to path, aside then renamed. */
int xh_mirror_status_write(const char *path, struct json_object *o);
/* Every live mirror of the device at pin_dir, as a JSON array. */
struct json_object *xh_mirror_status_read(const char *pin_dir);

#endif
