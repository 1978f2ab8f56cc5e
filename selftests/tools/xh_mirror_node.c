// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xh_mirror_node.c - xh-mirror-node, a libxdpha application for
 * selftests/net/mirror_libxdpha.sh and bench/mirror.sh. It links only the
 * shared library and its public header, as a VNFC would.
 *
 *   run      a member's node: open libxdpha, serve the mirror; with
 *            --write N, once active, write a known sequence of changes
 *            (put key i for i < N; after every 10th put, delete the key
 *            put 5 before), reporting in --progress which of them the
 *            peer acknowledged (with --write-on-hup: from SIGHUP on, not at
 *            start); dump the table to --dump on SIGUSR1 and
 *            SIGTERM (then exit), checkpoint on SIGUSR2; --status: the
 *            node's state, rewritten every 100 ms
 *   check    a dump against a writer's progress: every change the writer
 *            saw acknowledged is there, nothing it never wrote is, every
 *            value is the one written
 *   compare  two dumps hold the same records
 *   bench    send 64-byte records as fast as the mirror takes them (or at
 *            --rate), report records/s acknowledged and the lag from put
 *            to acknowledgement (p50, p99)
 *
 * The writer may be killed at any moment: --progress is replaced
 * atomically (rename) and claims no more than was acknowledged, and
 * ("upto") no fewer changes than were attempted.
 * Reports are JSON written by hand. Exit 0 ok, 1 failure, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include "xdpha.h"

#define KEY_FMT		"%s%08u"
#define DUMP_MAGIC	"XHDUMP1\n"
#define UPTO_AHEAD	4096	/* changes --progress may run ahead */
#define LAG_BUCKETS	200000	/* 1 us each: up to 200 ms */

struct opts {
	const char *cmd, *dev, *local, *peer, *vip, *ckpt, *stamp;
	const char *dump, *status, *progress, *ready, *prefix;
	const char *a, *b;
	enum xdpha_transport xport;
	unsigned int stream, ckpt_ms, vsize, burst, cpu;
	unsigned long n;
	double rate, duration, warmup;
	bool pin, exit_after, on_hup;
};

static volatile sig_atomic_t sig_dump, sig_term, sig_ckpt, sig_hup;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		sig_dump = 1;
	else if (sig == SIGUSR2)
		sig_ckpt = 1;
	else if (sig == SIGHUP)
		sig_hup = 1;
	else
		sig_term = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: xh-mirror-node run --dev DEV --local ADDR --peer ADDR [--vip VIP]\n"
"           [--transport auto|afxdp|udp] [--stream S] [--checkpoint DIR]\n"
"           [--checkpoint-ms MS] [--stamp FILE] [--status FILE] [--dump FILE]\n"
"           [--ready FILE] [--write N [--progress FILE] [--prefix P]\n"
"           [--value-size B] [--burst B] [--rate CHANGES_PER_S] [--exit]\n"
"           [--write-on-hup]]\n"
"       xh-mirror-node check --dump FILE --progress FILE\n"
"       xh-mirror-node compare DUMP_A DUMP_B\n"
"       xh-mirror-node bench --dev DEV --local ADDR --peer ADDR\n"
"           [--transport afxdp|udp] [--duration S] [--rate R] [--warmup S]\n"
"           [--value-size 64] [--keys N] [--cpu C]\n");
}

/* ---- files ------------------------------------------------------------- */

/* Write the text in buf to path, atomically (a reader sees the old file or
 * the new one). */
static int put_file(const char *path, const char *buf, size_t len)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	if (fwrite(buf, 1, len, f) != len || fclose(f)) {
		unlink(tmp);
		return -EIO;
	}
	return rename(tmp, path) ? -errno : 0;
}

static void json_str(char *buf, size_t sz, const char *s)
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
	if (n + 1 < sz)
		buf[n++] = '"';
	buf[n < sz ? n : sz - 1] = 0;
}

/* ---- the change sequence of a writer ------------------------------------ */

/* Change j of n: a put of key *idx, or a delete (*del). After each put i
 * with i % 10 == 9 comes the delete of i - 5. */
static unsigned long nchanges(unsigned long n)
{
	return n + n / 10;
}

static void change_of(unsigned long j, unsigned int *idx, bool *del)
{
	unsigned long blk = j / 11, r = j % 11;

	if (r < 10) {
		*idx = blk * 10 + r;
		*del = false;
	} else {
		*idx = blk * 10 + 4;
		*del = true;
	}
}

/* The change index of the put (and delete, if any) of key i. */
static unsigned long put_of(unsigned int i)
{
	return (unsigned long)(i / 10) * 11 + i % 10;
}

static bool has_del(unsigned int i, unsigned long n)
{
	return i % 10 == 4 && (unsigned long)i + 5 < n;
}

static unsigned long del_of(unsigned int i)
{
	return (unsigned long)(i / 10) * 11 + 10;
}

static void value_of(unsigned int i, unsigned int vsize, unsigned char *v)
{
	unsigned int b;

	for (b = 0; b < vsize; b++)
		v[b] = (unsigned char)(i * 131 + b * 7 + (i >> 8));
	if (vsize >= 4)
		memcpy(v, &i, 4);
}

/* ---- dumps ----------------------------------------------------------------- */

static int dump_rec(void *arg, const void *key, size_t klen, const void *val,
		    size_t vlen)
{
	FILE *f = arg;
	unsigned char h[3] = { klen, vlen & 0xff, vlen >> 8 };

	if (fwrite(h, 1, 3, f) != 3 || fwrite(key, 1, klen, f) != klen ||
	    fwrite(val, 1, vlen, f) != vlen)
		return -EIO;
	return 0;
}

static int dump_write(struct xdpha *h, const char *path)
{
	char tmp[4096];
	FILE *f;
	int err;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fputs(DUMP_MAGIC, f);
	err = xdpha_foreach(h, dump_rec, f);
	if (fclose(f) || err) {
		unlink(tmp);
		return err ?: -EIO;
	}
	return rename(tmp, path) ? -errno : 0;
}

struct drec {
	unsigned char klen;
	unsigned short vlen;
	const unsigned char *key, *val;
};

struct dump {
	unsigned char *buf;
	size_t len;
	struct drec *r;
	size_t n;
};

static int drec_cmp(const void *a, const void *b)
{
	const struct drec *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);

	return c ? c : (int)x->klen - (int)y->klen;
}

static int dump_load(const char *path, struct dump *d)
{
	size_t cap = 0, off;
	FILE *f = fopen(path, "r");
	long sz;

	memset(d, 0, sizeof(*d));
	if (!f)
		return -errno;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	d->buf = malloc(sz + 1);
	if (!d->buf || fread(d->buf, 1, sz, f) != (size_t)sz) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	d->len = sz;
	if (d->len < strlen(DUMP_MAGIC) ||
	    memcmp(d->buf, DUMP_MAGIC, strlen(DUMP_MAGIC)))
		return -EBADMSG;
	for (off = strlen(DUMP_MAGIC); off < d->len;) {
		struct drec r;

		if (off + 3 > d->len)
			return -EBADMSG;
		r.klen = d->buf[off];
		r.vlen = d->buf[off + 1] | d->buf[off + 2] << 8;
		r.key = d->buf + off + 3;
		r.val = r.key + r.klen;
		off += 3 + r.klen + r.vlen;
		if (off > d->len)
			return -EBADMSG;
		if (d->n == cap) {
			cap = cap ? cap * 2 : 1024;
			d->r = realloc(d->r, cap * sizeof(*d->r));
			if (!d->r)
				return -ENOMEM;
		}
		d->r[d->n++] = r;
	}
	qsort(d->r, d->n, sizeof(*d->r), drec_cmp);
	return 0;
}

/* ---- run ------------------------------------------------------------------- */

struct node {
	struct opts *o;
	struct xdpha *h;
	char open_err[256];
	size_t restored;
	unsigned int role_changes;
	double active_at_ms;		/* wall clock of the last change to active */
	/* writer */
	unsigned long total, next, acked, upto;
	uint64_t *seqs;
	double t_start, t_end;
	int eagain;
};

static void on_role(void *arg, bool active)
{
	struct node *nd = arg;

	nd->role_changes++;
	if (active)
		nd->active_at_ms = wall_ms();
	fprintf(stderr, "xh-mirror-node: now %s\n", active ? "active" : "standby");
}

static void status_write(struct node *nd)
{
	struct xdpha_stats st;
	char buf[2048], err[600];
	int n;

	if (!nd->o->status)
		return;
	xdpha_stats(nd->h, &st);
	json_str(err, sizeof(err), nd->open_err);
	n = snprintf(buf, sizeof(buf),
		"{\"pid\":%d,\"active\":%s,\"count\":%zu,\"restored\":%zu,"
		"\"open_error\":%s,\"role_changes\":%u,\"active_at_ms\":%.3f,"
		"\"transport\":\"%s\",\"sent\":%" PRIu64 ",\"acked\":%" PRIu64
		",\"retransmitted\":%" PRIu64 ",\"applied\":%" PRIu64
		",\"resyncs\":%" PRIu64 ",\"lag_us\":%" PRIu64
		",\"checkpoints\":%" PRIu64 ",\"checkpoint_errors\":%" PRIu64
		",\"written\":%lu,\"acked_changes\":%lu}\n",
		(int)getpid(), xdpha_is_active(nd->h) ? "true" : "false",
		xdpha_count(nd->h), nd->restored, err, nd->role_changes,
		nd->active_at_ms, st.transport, st.sent, st.acked,
		st.retransmitted, st.applied, st.resyncs, st.lag_us,
		st.checkpoints, st.checkpoint_errors, nd->next, nd->acked);
	put_file(nd->o->status, buf, n);
}

static void progress_write(struct node *nd)
{
	char buf[512];
	int n;

	if (!nd->o->progress)
		return;
	n = snprintf(buf, sizeof(buf),
		"{\"n\":%lu,\"changes\":%lu,\"upto\":%lu,\"acked\":%lu,"
		"\"value_size\":%u,\"prefix\":\"%s\",\"seconds\":%.6f}\n",
		nd->o->n, nd->total, nd->upto, nd->acked, nd->o->vsize,
		nd->o->prefix, (nd->t_end ?: now_s()) - nd->t_start);
	put_file(nd->o->progress, buf, n);
}

/* Move the acknowledged prefix on; rewrite --progress when it moved. */
static void acked_update(struct node *nd, bool force)
{
	unsigned long a = nd->acked;

	while (a < nd->next && xdpha_acked(nd->h, nd->seqs[a]))
		a++;
	if (a != nd->acked || force) {
		nd->acked = a;
		progress_write(nd);
	}
}

/* Apply change j of the writer's sequence: 0, -EAGAIN or -errno. */
static int change_do(struct node *nd, unsigned long j)
{
	unsigned char v[XDPHA_VAL_MAX];
	char key[XDPHA_KEY_MAX + 1];
	unsigned int idx;
	bool del;
	int klen, err;

	change_of(j, &idx, &del);
	klen = snprintf(key, sizeof(key), KEY_FMT, nd->o->prefix, idx);
	if (del) {
		err = xdpha_del(nd->h, key, klen);
	} else {
		value_of(idx, nd->o->vsize, v);
		err = xdpha_put(nd->h, key, klen, v, nd->o->vsize);
	}
	if (!err)
		nd->seqs[j] = xdpha_last_seq(nd->h);
	return err;
}

/* One burst of the writer; true when every change is done. */
static bool write_burst(struct node *nd)
{
	unsigned long end = nd->next + nd->o->burst;
	int err;

	if (nd->o->rate > 0) {
		/* paced: no further than the rate allows by now */
		unsigned long due = (now_s() - nd->t_start) * nd->o->rate;

		if (due < end)
			end = due;
		if (end <= nd->next)
			return false;
	}

	if (end > nd->total)
		end = nd->total;
	if (end > nd->upto) {
		nd->upto = nd->next + UPTO_AHEAD;
		if (nd->upto > nd->total)
			nd->upto = nd->total;
		progress_write(nd);
	}
	while (nd->next < end) {
		err = change_do(nd, nd->next);
		if (err == -EAGAIN) {
			nd->eagain++;
			break;
		}
		if (err) {
			fprintf(stderr, "xh-mirror-node: change %lu: %s\n",
				nd->next, strerror(-err));
			exit(1);
		}
		nd->next++;
	}
	return nd->next == nd->total;
}

static int cmd_run(struct opts *o)
{
	struct xdpha_opts xo = {
		.sz = sizeof(xo), .ifname = o->dev, .local = o->local,
		.peer = o->peer, .vip = o->vip, .stream = o->stream,
		.transport = o->xport, .checkpoint_dir = o->ckpt,
		.checkpoint_ms = o->ckpt_ms, .stamp_file = o->stamp,
	};
	struct node nd = { .o = o };
	double next_status = 0, deadline;
	bool writing = o->n > 0, done = false;
	char buf[1024], err[600];
	int n;

	nd.h = xdpha_open(&xo, nd.open_err, sizeof(nd.open_err));
	if (!nd.h) {
		fprintf(stderr, "xh-mirror-node: %s\n", nd.open_err);
		return 1;
	}
	nd.restored = xdpha_count(nd.h);
	xdpha_on_role(nd.h, on_role, &nd);
	if (xdpha_is_active(nd.h))
		nd.active_at_ms = wall_ms();
	if (writing) {
		nd.total = nchanges(o->n);
		nd.seqs = calloc(nd.total, sizeof(*nd.seqs));
		if (!nd.seqs)
			return 1;
	}
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	status_write(&nd);
	if (o->ready) {
		struct xdpha_stats st;

		xdpha_stats(nd.h, &st);
		json_str(err, sizeof(err), nd.open_err);
		n = snprintf(buf, sizeof(buf),
			     "{\"pid\":%d,\"restored\":%zu,\"open_error\":%s,"
			     "\"transport\":\"%s\",\"active\":%s}\n",
			     (int)getpid(), nd.restored, err, st.transport,
			     xdpha_is_active(nd.h) ? "true" : "false");
		put_file(o->ready, buf, n);
	}
	fprintf(stderr, "xh-mirror-node: %s, %zu records restored%s%s\n",
		xdpha_is_active(nd.h) ? "active" : "standby", nd.restored,
		nd.open_err[0] ? "; " : "", nd.open_err);

	deadline = now_s() + 10;
	while (!sig_term) {
		if (writing && !done && (!o->on_hup || sig_hup)) {
			if (nd.next == 0 && !nd.t_start) {
				if (!xdpha_is_active(nd.h)) {
					if (now_s() > deadline + (o->on_hup ? 1e9 : 0)) {
						fprintf(stderr, "xh-mirror-node: not active after 10 s: nothing written\n");
						return 1;
					}
					xdpha_process(nd.h, 1);
					continue;
				}
				nd.t_start = now_s();
				progress_write(&nd);
			}
			done = write_burst(&nd);
			xdpha_process(nd.h, 0);
			acked_update(&nd, false);
		} else {
			xdpha_process(nd.h, writing && done && !nd.t_end ? 1 : 10);
			if (writing)
				acked_update(&nd, false);
		}
		/* every change acknowledged: say so once (the loop goes on
		 * serving; --exit ends it) */
		if (done && !nd.t_end && nd.acked == nd.total) {
			nd.t_end = now_s();
			acked_update(&nd, true);
			fprintf(stderr, "xh-mirror-node: %lu changes written and acknowledged in %.3f s\n",
				nd.total, nd.t_end - nd.t_start);
			if (o->exit_after)
				break;
		}
		if (sig_dump && o->dump) {
			sig_dump = 0;
			if (dump_write(nd.h, o->dump))
				fprintf(stderr, "xh-mirror-node: cannot write %s\n", o->dump);
		}
		if (sig_ckpt) {
			sig_ckpt = 0;
			xdpha_checkpoint(nd.h);
		}
		if (now_s() >= next_status) {
			status_write(&nd);
			next_status = now_s() + 0.1;
		}
	}
	status_write(&nd);
	if (o->dump)
		dump_write(nd.h, o->dump);
	xdpha_close(nd.h);
	free(nd.seqs);
	return 0;
}

/* ---- check, compare ------------------------------------------------------------ */

static int json_num(const char *txt, const char *field, double *out)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", field);
	p = strstr(txt, pat);
	if (!p)
		return -ENOENT;
	*out = strtod(p + strlen(pat), NULL);
	return 0;
}

static int json_strf(const char *txt, const char *field, char *out, size_t sz)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", field);
	p = strstr(txt, pat);
	if (!p)
		return -ENOENT;
	p += strlen(pat);
	e = strchr(p, '"');
	if (!e || (size_t)(e - p) >= sz)
		return -EINVAL;
	memcpy(out, p, e - p);
	out[e - p] = 0;
	return 0;
}

static int cmd_check(struct opts *o)
{
	unsigned long n, acked, upto, required = 0, present = 0, missing = 0;
	unsigned long unexpected = 0, bad_value = 0, foreign = 0, i;
	unsigned char v[XDPHA_VAL_MAX];
	char txt[1024], prefix[XDPHA_KEY_MAX], first_bad[160] = "";
	unsigned char *seen;
	double d;
	struct dump dp;
	unsigned int vsize;
	size_t plen, k;
	FILE *f;
	int err;

	if (!o->dump || !o->progress) {
		usage(stderr);
		return 2;
	}
	f = fopen(o->progress, "r");
	if (!f || !fgets(txt, sizeof(txt), f)) {
		fprintf(stderr, "check: cannot read %s\n", o->progress);
		return 1;
	}
	fclose(f);
	if (json_num(txt, "n", &d))
		return 1;
	n = d;
	json_num(txt, "acked", &d);
	acked = d;
	json_num(txt, "upto", &d);
	upto = d;
	json_num(txt, "value_size", &d);
	vsize = d;
	if (json_strf(txt, "prefix", prefix, sizeof(prefix)))
		return 1;
	plen = strlen(prefix);
	err = dump_load(o->dump, &dp);
	if (err) {
		fprintf(stderr, "check: %s: %s\n", o->dump, strerror(-err));
		return 1;
	}
	seen = calloc(n + 1, 1);
	if (!seen)
		return 1;
	for (k = 0; k < dp.n; k++) {
		const struct drec *r = &dp.r[k];
		char num[16];
		char *end;

		if (r->klen != plen + 8 || memcmp(r->key, prefix, plen)) {
			foreign++;
			continue;
		}
		memcpy(num, r->key + plen, 8);
		num[8] = 0;
		i = strtoul(num, &end, 10);
		if (*end || i >= n) {
			foreign++;
			continue;
		}
		seen[i] = 1;
		present++;
		if (put_of(i) >= upto) {
			unexpected++;
			if (!first_bad[0])
				snprintf(first_bad, sizeof(first_bad),
					 "key %lu present, never written (written up to change %lu)", i, upto);
			continue;
		}
		if (has_del(i, n) && del_of(i) < acked) {
			unexpected++;
			if (!first_bad[0])
				snprintf(first_bad, sizeof(first_bad),
					 "key %lu present, its delete was acknowledged", i);
			continue;
		}
		value_of(i, vsize, v);
		if (r->vlen != vsize || memcmp(r->val, v, vsize)) {
			bad_value++;
			if (!first_bad[0])
				snprintf(first_bad, sizeof(first_bad),
					 "key %lu: wrong value (%u bytes)", i, r->vlen);
		}
	}
	for (i = 0; i < n; i++) {
		bool must = put_of(i) < acked &&
			    !(has_del(i, n) && del_of(i) < upto);

		if (!must)
			continue;
		required++;
		if (!seen[i]) {
			missing++;
			if (!first_bad[0])
				snprintf(first_bad, sizeof(first_bad),
					 "key %lu missing, its put was acknowledged", i);
		}
	}
	printf("{\"ok\":%s,\"records\":%zu,\"present\":%lu,\"required\":%lu,"
	       "\"missing\":%lu,\"unexpected\":%lu,\"bad_value\":%lu,"
	       "\"foreign\":%lu,\"acked_changes\":%lu,\"written_upto\":%lu,"
	       "\"changes\":%lu,\"first_error\":\"%s\"}\n",
	       missing || unexpected || bad_value ? "false" : "true", dp.n,
	       present, required, missing, unexpected, bad_value, foreign,
	       acked, upto, nchanges(n), first_bad);
	return missing || unexpected || bad_value ? 1 : 0;
}

static int cmd_compare(struct opts *o)
{
	unsigned long only_a = 0, only_b = 0, differ = 0;
	struct dump a, b;
	size_t i = 0, j = 0;
	int err;

	if (!o->a || !o->b) {
		usage(stderr);
		return 2;
	}
	err = dump_load(o->a, &a);
	if (!err)
		err = dump_load(o->b, &b);
	if (err) {
		fprintf(stderr, "compare: %s\n", strerror(-err));
		return 1;
	}
	while (i < a.n || j < b.n) {
		int c = i == a.n ? 1 : j == b.n ? -1 : drec_cmp(&a.r[i], &b.r[j]);

		if (c < 0) {
			only_a++;
			i++;
		} else if (c > 0) {
			only_b++;
			j++;
		} else {
			if (a.r[i].vlen != b.r[j].vlen ||
			    memcmp(a.r[i].val, b.r[j].val, a.r[i].vlen))
				differ++;
			i++;
			j++;
		}
	}
	printf("{\"equal\":%s,\"a\":%zu,\"b\":%zu,\"only_a\":%lu,"
	       "\"only_b\":%lu,\"differ\":%lu}\n",
	       only_a || only_b || differ ? "false" : "true", a.n, b.n, only_a,
	       only_b, differ);
	return only_a || only_b || differ ? 1 : 0;
}

/* ---- bench ------------------------------------------------------------------- */

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double pct(const uint32_t *hist, uint64_t total, double p)
{
	uint64_t want = (uint64_t)(total * p), acc = 0;
	unsigned int i;

	if (!total)
		return 0;
	for (i = 0; i < LAG_BUCKETS; i++) {
		acc += hist[i];
		if (acc > want)
			return i / 1000.0;
	}
	return LAG_BUCKETS / 1000.0;
}

/*
 * The sender of the benchmark: puts of 16-byte keys over --keys distinct
 * keys and --value-size values, as fast as the window allows or paced at
 * --rate; lag = put -> acknowledged (applied at the peer, the ack back),
 * from the put times of a ring indexed by seq. Counts only what happens
 * after --warmup.
 */
static int cmd_bench(struct opts *o)
{
	struct xdpha_opts xo = {
		.sz = sizeof(xo), .ifname = o->dev, .local = o->local,
		.peer = o->peer, .stream = o->stream, .transport = o->xport,
	};
	const unsigned int ring = 1 << 20;
	unsigned char v[XDPHA_VAL_MAX];
	char key[32], err[256];
	uint64_t *put_ns, seq_first = 0, seq_last = 0, lag_seq = 0, nlag = 0;
	uint64_t puts = 0, acked_at_start = 0, eagain = 0;
	uint32_t *hist;
	double t0, t_meas = 0, t_end, cpu0 = 0, next_put;
	struct xdpha_stats st, st0 = { 0 };
	struct xdpha *h;
	struct timespec ts;
	unsigned long k = 0;
	int klen;

	if (o->pin) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o->cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	h = xdpha_open(&xo, err, sizeof(err));
	if (!h) {
		fprintf(stderr, "bench: %s\n", err);
		return 1;
	}
	put_ns = calloc(ring, sizeof(*put_ns));
	hist = calloc(LAG_BUCKETS, sizeof(*hist));
	if (!put_ns || !hist)
		return 1;
	memset(v, 0xab, sizeof(v));
	/* the peer synced: one record through */
	klen = snprintf(key, sizeof(key), "bench-hello");
	xdpha_put(h, key, klen, v, o->vsize);
	if (xdpha_sync(h, 10000)) {
		fprintf(stderr, "bench: the peer does not acknowledge\n");
		return 1;
	}
	t0 = now_s();
	t_end = t0 + o->warmup + o->duration;
	next_put = t0;
	while (now_s() < t_end) {
		double now = now_s();
		unsigned int i, burst = o->burst;

		if (!t_meas && now >= t0 + o->warmup) {
			t_meas = now;
			cpu0 = cpu_s();
			xdpha_stats(h, &st0);
			acked_at_start = st0.acked;
			lag_seq = seq_first = xdpha_last_seq(h) + 1;
			nlag = 0;
			memset(hist, 0, LAG_BUCKETS * sizeof(*hist));
		}
		if (o->rate > 0) {
			/* paced: what is due by now, in one burst */
			double due = (now - next_put) * o->rate;

			burst = due < 1 ? 0 : due > 4096 ? 4096 : (unsigned int)due;
			next_put += burst / o->rate;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		for (i = 0; i < burst; i++) {
			uint64_t seq;

			/* a 16-byte key without printf's cost */
			key[0] = 'b';
			memcpy(key + 1, "0000000", 7);
			memcpy(key + 8, &k, sizeof(k));
			klen = 16;
			memcpy(v, &k, sizeof(k));
			if (xdpha_put(h, key, klen, v, o->vsize)) {
				eagain++;
				if (o->rate > 0)
					next_put -= (burst - i) / o->rate;
				break;
			}
			seq = xdpha_last_seq(h);
			put_ns[seq & (ring - 1)] =
				ts.tv_sec * 1000000000ULL + ts.tv_nsec;
			seq_last = seq;
			puts++;
			if (++k == o->n)
				k = 0;
		}
		xdpha_process(h, 0);
		if (t_meas) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t tn = ts.tv_sec * 1000000000ULL + ts.tv_nsec;

			while (lag_seq <= seq_last && xdpha_acked(h, lag_seq)) {
				uint64_t us = (tn - put_ns[lag_seq & (ring - 1)]) / 1000;

				hist[us < LAG_BUCKETS ? us : LAG_BUCKETS - 1]++;
				nlag++;
				lag_seq++;
			}
		}
	}
	{
		double t1 = now_s(), cpu = cpu_s() - cpu0;
		uint64_t acked;

		xdpha_stats(h, &st);
		acked = st.acked - acked_at_start;
		printf("{\"transport\":\"%s\",\"seconds\":%.3f,\"records\":%" PRIu64
		       ",\"records_per_s\":%.0f,\"lag_p50_ms\":%.3f,\"lag_p99_ms\":%.3f,"
		       "\"lag_samples\":%" PRIu64 ",\"rate\":%.0f,\"value_bytes\":%u,"
		       "\"retransmitted\":%" PRIu64 ",\"window_full\":%" PRIu64
		       ",\"cpu\":%.3f}\n",
		       st.transport, t1 - t_meas, acked, acked / (t1 - t_meas),
		       pct(hist, nlag, 0.5), pct(hist, nlag, 0.99), nlag, o->rate,
		       o->vsize, st.retransmitted - st0.retransmitted, eagain,
		       cpu / (t1 - t_meas));
	}
	(void)seq_first;
	(void)puts;
	xdpha_close(h);
	return 0;
}

/* ---- main ---------------------------------------------------------------------- */

enum {
	O_DEV = 256, O_LOCAL, O_PEER, O_VIP, O_XPORT, O_STREAM, O_CKPT,
	O_CKPT_MS, O_STAMP, O_STATUS, O_DUMP, O_READY, O_WRITE, O_PROGRESS,
	O_PREFIX, O_VSIZE, O_BURST, O_EXIT, O_DURATION, O_RATE, O_WARMUP,
	O_KEYS, O_CPU, O_ON_HUP,
};

static const struct option longopts[] = {
	{ "dev", required_argument, NULL, O_DEV },
	{ "local", required_argument, NULL, O_LOCAL },
	{ "peer", required_argument, NULL, O_PEER },
	{ "vip", required_argument, NULL, O_VIP },
	{ "transport", required_argument, NULL, O_XPORT },
	{ "stream", required_argument, NULL, O_STREAM },
	{ "checkpoint", required_argument, NULL, O_CKPT },
	{ "checkpoint-ms", required_argument, NULL, O_CKPT_MS },
	{ "stamp", required_argument, NULL, O_STAMP },
	{ "status", required_argument, NULL, O_STATUS },
	{ "dump", required_argument, NULL, O_DUMP },
	{ "ready", required_argument, NULL, O_READY },
	{ "write", required_argument, NULL, O_WRITE },
	{ "progress", required_argument, NULL, O_PROGRESS },
	{ "prefix", required_argument, NULL, O_PREFIX },
	{ "value-size", required_argument, NULL, O_VSIZE },
	{ "burst", required_argument, NULL, O_BURST },
	{ "exit", no_argument, NULL, O_EXIT },
	{ "write-on-hup", no_argument, NULL, O_ON_HUP },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "rate", required_argument, NULL, O_RATE },
	{ "warmup", required_argument, NULL, O_WARMUP },
	{ "keys", required_argument, NULL, O_KEYS },
	{ "cpu", required_argument, NULL, O_CPU },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

int main(int argc, char **argv)
{
	struct opts o = {
		.xport = XDPHA_XPORT_AUTO, .stream = 1, .vsize = 64,
		.burst = 64, .prefix = "k", .duration = 3, .warmup = 0.5,
	};
	int c;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	o.cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_DEV: o.dev = optarg; break;
		case O_LOCAL: o.local = optarg; break;
		case O_PEER: o.peer = optarg; break;
		case O_VIP: o.vip = optarg; break;
		case O_XPORT:
			if (!strcmp(optarg, "afxdp"))
				o.xport = XDPHA_XPORT_AFXDP;
			else if (!strcmp(optarg, "udp"))
				o.xport = XDPHA_XPORT_UDP;
			else if (!strcmp(optarg, "auto"))
				o.xport = XDPHA_XPORT_AUTO;
			else
				goto bad;
			break;
		case O_STREAM: o.stream = strtoul(optarg, NULL, 0); break;
		case O_CKPT: o.ckpt = optarg; break;
		case O_CKPT_MS: o.ckpt_ms = strtoul(optarg, NULL, 0); break;
		case O_STAMP: o.stamp = optarg; break;
		case O_STATUS: o.status = optarg; break;
		case O_DUMP: o.dump = optarg; break;
		case O_READY: o.ready = optarg; break;
		case O_WRITE: o.n = strtoul(optarg, NULL, 0); break;
		case O_PROGRESS: o.progress = optarg; break;
		case O_PREFIX: o.prefix = optarg; break;
		case O_VSIZE: o.vsize = strtoul(optarg, NULL, 0); break;
		case O_BURST: o.burst = strtoul(optarg, NULL, 0); break;
		case O_EXIT: o.exit_after = true; break;
		case O_ON_HUP: o.on_hup = true; break;
		case O_DURATION: o.duration = strtod(optarg, NULL); break;
		case O_RATE: o.rate = strtod(optarg, NULL); break;
		case O_WARMUP: o.warmup = strtod(optarg, NULL); break;
		case O_KEYS: o.n = strtoul(optarg, NULL, 0); break;
		case O_CPU: o.cpu = strtoul(optarg, NULL, 0); o.pin = true; break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	if (o.vsize < 4 || o.vsize > XDPHA_VAL_MAX || !o.burst ||
	    strlen(o.prefix) > XDPHA_KEY_MAX - 8)
		goto bad;
	if (!strcmp(o.cmd, "run")) {
		if (!o.dev || !o.local || !o.peer)
			goto bad;
		return cmd_run(&o);
	}
	if (!strcmp(o.cmd, "check"))
		return cmd_check(&o);
	if (!strcmp(o.cmd, "compare")) {
		if (argc - optind != 2)
			goto bad;
		o.a = argv[optind];
		o.b = argv[optind + 1];
		return cmd_compare(&o);
	}
	if (!strcmp(o.cmd, "bench")) {
		if (!o.dev || !o.local || !o.peer)
			goto bad;
		if (!o.n)
			o.n = 100000;
		return cmd_bench(&o);
	}
bad:
	usage(stderr);
	return 2;
}
