/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cli.h - what the verbs of the xdpha command share: exit codes, the
 * device a verb works on, JSON printing.
 */
#ifndef XH_CLI_H
#define XH_CLI_H

#include <stdbool.h>
#include <json-c/json.h>
#include "loader.h"
#include "tables.h"

enum { XH_EXIT_OK = 0, XH_EXIT_ERR = 1, XH_EXIT_USAGE = 2 };

struct xh_verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

/* Resolve the device a verb acts on (the only attached one if dev is
 * NULL), lock it, open its maps. Prints why on failure; returns an exit
 * code. */
int xh_cli_open(const char *dev, struct xh_dev *d, struct xh_steer_maps *m);
void xh_cli_close(struct xh_dev *d, struct xh_steer_maps *m);
/* Attached devices of this network namespace; returns how many. */
int xh_cli_attached(char names[][IF_NAMESIZE], int max);

void xh_json_print(struct json_object *o);

/* Backends as JSON objects / a table; shared by status and backend list. */
struct json_object *xh_backend_json(const struct xh_steer_maps *m, __u32 id,
				    const struct xh_backend *bk, __u64 now);
int xh_backend_print(const struct xh_steer_maps *m, __u32 svc_id, bool json,
		     struct json_object *into);

/* Set by the controller: when a verb runs in its child (a fork, so the
 * controller's memory is a snapshot there), status adds what the
 * controller knows. */
extern struct json_object *(*xh_controller_json)(void);
extern void (*xh_controller_print)(void);

int cmd_status(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_service(int argc, char **argv);
int cmd_backend(int argc, char **argv);

#endif
