// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_checkpoint.c - cmocka tests of mirror checkpoints (user/checkpoint.c)
 * in a temporary directory: round trips, atomic replacement, and damage
 * (every truncation, every flipped byte, a foreign magic, a missing file)
 * refused with a reason before a single record reaches the caller.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "checkpoint.h"

#define NAME	"stream-7.ckpt"
#define NREC	1000

/* Records of every size class: key 1..64 bytes, value 0..1024. */
struct rec {
	__u8 klen;
	__u16 vlen;
	__u8 key[XH_MIR_KEY_MAX];
	__u8 val[XH_MIR_VAL_MAX];
};

struct fx {
	char dir[64];
	char path[PATH_MAX];
	struct rec recs[NREC];
	unsigned int n;			/* records written */
	/* what a load handed over */
	unsigned int got;
	bool mismatch;
	int fail_at;			/* callback fails at this record, -1 */
	unsigned int cursor;		/* iterator for xh_ckpt_write */
	struct xh_mir_rec it[256];
};

static void gen(struct fx *f, unsigned int n, __u32 seed)
{
	unsigned int i, j;

	f->n = n;
	for (i = 0; i < n; i++) {
		struct rec *r = &f->recs[i];

		seed = seed * 1103515245 + 12345;
		r->klen = 1 + (i * 7 + seed % 13) % XH_MIR_KEY_MAX;
		r->vlen = (i * 131 + seed % 17) % (XH_MIR_VAL_MAX + 1);
		if (i == 0)
			r->vlen = 0;
		if (i == 1) {
			r->klen = XH_MIR_KEY_MAX;
			r->vlen = XH_MIR_VAL_MAX;
		}
		for (j = 0; j < r->klen; j++)
			r->key[j] = (__u8)(i + j * 3 + seed);
		memcpy(r->key, &i, r->klen < 4 ? r->klen : 4);
		for (j = 0; j < r->vlen; j++)
			r->val[j] = (__u8)(i * 5 + j + seed);
	}
}

static int on_rec(void *arg, const void *key, unsigned int klen,
		  const void *val, unsigned int vlen)
{
	struct fx *f = arg;
	const struct rec *r;

	if (f->fail_at >= 0 && f->got == (unsigned int)f->fail_at)
		return -ENOSPC;
	if (f->got >= f->n) {
		f->mismatch = true;
		return 0;
	}
	r = &f->recs[f->got++];
	if (klen != r->klen || vlen != r->vlen ||
	    memcmp(key, r->key, klen) || memcmp(val, r->val, vlen))
		f->mismatch = true;
	return 0;
}

static int iter(void *arg, bool restart, struct xh_mir_rec *recs,
		unsigned int max)
{
	struct fx *f = arg;
	unsigned int n = 0;

	if (restart)
		f->cursor = 0;
	/* fewer than asked, to cross call boundaries */
	while (n < max && n < 37 && f->cursor < f->n) {
		const struct rec *r = &f->recs[f->cursor++];

		recs[n].op = XH_MIR_OP_PUT;
		recs[n].key = r->key;
		recs[n].klen = r->klen;
		recs[n].val = r->val;
		recs[n].vlen = r->vlen;
		n++;
	}
	return n;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/xh-ckpt-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, NAME);
	f->fail_at = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct dirent *de;
	char p[PATH_MAX];
	DIR *d;

	d = opendir(f->dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Entries in the directory: the checkpoint and nothing else (no
 * temporary file left behind). */
static unsigned int entries(const struct fx *f)
{
	struct dirent *de;
	unsigned int n = 0;
	DIR *d = opendir(f->dir);

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static const struct xh_ckpt_info info0 = {
	.stream = 7,
	.epoch = 0x1122334455667788ULL,
	.seq = 123456789,
	.created_ns = 42,
};

static void write_all(struct fx *f, const struct xh_ckpt_info *info)
{
	struct xh_ckpt_writer *w;
	unsigned int i;

	assert_int_equal(xh_ckpt_begin(f->dir, NAME, info, &w), 0);
	for (i = 0; i < f->n; i++)
		assert_int_equal(xh_ckpt_add(w, f->recs[i].key,
					     f->recs[i].klen, f->recs[i].val,
					     f->recs[i].vlen), 0);
	assert_int_equal(xh_ckpt_commit(w), 0);
}

static int load(struct fx *f, struct xh_ckpt_info *info, char *why,
		size_t len)
{
	f->got = 0;
	f->mismatch = false;
	return xh_ckpt_load(f->dir, NAME, info, on_rec, f, why, len);
}

static void read_file(const char *path, __u8 **buf, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*len = st.st_size;
	*buf = malloc(*len);
	assert_non_null(*buf);
	assert_int_equal(read(fd, *buf, *len), (ssize_t)*len);
	close(fd);
}

static void write_file(const char *path, const __u8 *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void test_roundtrip(void **state)
{
	struct fx *f = *state;
	struct xh_ckpt_info info;
	struct xh_ckpt_hdr h;
	struct xh_ckpt_trailer t;
	char why[256] = "";
	size_t len, want = sizeof(h) + sizeof(t);
	unsigned int i;
	__u8 *buf;

	gen(f, NREC, 1);
	write_all(f, &info0);
	assert_int_equal(entries(f), 1);
	memset(&info, 0xee, sizeof(info));
	assert_int_equal(load(f, &info, why, sizeof(why)), 0);
	assert_int_equal(f->got, NREC);
	assert_false(f->mismatch);
	assert_int_equal(info.stream, 7);
	assert_int_equal(info.epoch, info0.epoch);
	assert_int_equal(info.seq, info0.seq);
	assert_int_equal(info.records, NREC);
	assert_int_equal(info.created_ns, 42);

	/* the layout, read independently */
	read_file(f->path, &buf, &len);
	for (i = 0; i < NREC; i++)
		want += 4 + f->recs[i].klen + f->recs[i].vlen;
	assert_int_equal(len, want);
	memcpy(&h, buf, sizeof(h));
	assert_memory_equal(buf, "XHCK\0\1\0\50", 8);
	assert_int_equal(ntohl(h.stream), 7);
	assert_int_equal(be64toh(h.epoch), info0.epoch);
	assert_int_equal(be64toh(h.seq), info0.seq);
	assert_int_equal(buf[40], XH_MIR_OP_PUT);
	assert_int_equal(buf[41], f->recs[0].klen);
	memcpy(&t, buf + len - sizeof(t), sizeof(t));
	assert_int_equal(be64toh(t.records), NREC);
	assert_int_equal(be64toh(t.bytes), len - sizeof(t));
	assert_memory_equal(&t.magic, "XHCE", 4);
	assert_int_equal(ntohl(t.crc), crc32(0, buf, len - 4));
	free(buf);

	/* check only (no callback) */
	assert_int_equal(xh_ckpt_load(f->dir, NAME, &info, NULL, NULL, why,
				      sizeof(why)), 0);
	assert_int_equal(info.records, NREC);
}

/* Zero records; and a new checkpoint replaces the old in one step,
 * leaving no temporary file. */
static void test_replace(void **state)
{
	struct fx *f = *state;
	struct xh_ckpt_info info, i2 = info0;
	struct xh_ckpt_writer *w;
	char why[256];

	gen(f, 0, 2);
	write_all(f, &info0);
	assert_int_equal(load(f, &info, why, sizeof(why)), 0);
	assert_int_equal(info.records, 0);
	assert_int_equal(f->got, 0);

	gen(f, 300, 3);
	i2.seq = 999;
	i2.created_ns = 0;		/* now */
	write_all(f, &i2);
	assert_int_equal(entries(f), 1);
	assert_int_equal(load(f, &info, why, sizeof(why)), 0);
	assert_int_equal(info.seq, 999);
	assert_int_equal(f->got, 300);
	assert_false(f->mismatch);
	assert_true(info.created_ns > 1600000000ULL * 1000000000ULL);

	/* an aborted write leaves the old one and no debris */
	assert_int_equal(xh_ckpt_begin(f->dir, NAME, &info0, &w), 0);
	assert_int_equal(entries(f), 2);
	assert_int_equal(xh_ckpt_add(w, "k", 1, "v", 1), 0);
	assert_int_equal(xh_ckpt_add(w, "k", 0, "v", 1), -EINVAL);
	assert_int_equal(xh_ckpt_add(w, f->recs[0].val, XH_MIR_KEY_MAX + 1,
				     "v", 1), -EINVAL);
	xh_ckpt_abort(w);
	assert_int_equal(entries(f), 1);
	assert_int_equal(load(f, &info, why, sizeof(why)), 0);
	assert_int_equal(info.seq, 999);

	/* through the iterator (the snapshot callback's contract) */
	gen(f, 500, 4);
	assert_int_equal(xh_ckpt_write(f->dir, NAME, &info0, iter, f), 0);
	assert_int_equal(load(f, &info, why, sizeof(why)), 0);
	assert_int_equal(f->got, 500);
	assert_false(f->mismatch);
	assert_int_equal(entries(f), 1);

	/* names that are not plain file names */
	assert_int_equal(xh_ckpt_begin(f->dir, "a/b", &info0, &w), -EINVAL);
	assert_int_equal(xh_ckpt_begin(f->dir, "..", &info0, &w), -EINVAL);
	assert_int_equal(xh_ckpt_begin("/nonexistent-dir", NAME, &info0, &w),
			 -ENOENT);
}

/* Cut short at every length: refused as truncated, nothing handed over. */
static void test_truncated(void **state)
{
	struct fx *f = *state;
	struct xh_ckpt_info info;
	char why[256];
	size_t len, l;
	__u8 *buf;

	gen(f, 12, 5);
	write_all(f, &info0);
	read_file(f->path, &buf, &len);
	for (l = 0; l < len; l++) {
		write_file(f->path, buf, l);
		why[0] = '\0';
		assert_int_equal(load(f, &info, why, sizeof(why)), -EBADMSG);
		assert_int_equal(f->got, 0);
		if (!strstr(why, "truncated")) {
			print_error("length %zu of %zu: %s\n", l, len, why);
			fail();
		}
		assert_non_null(strstr(why, f->path));
	}
	/* a byte too many is damage too */
	buf = realloc(buf, len + 1);
	assert_non_null(buf);
	buf[len] = 0;
	write_file(f->path, buf, len + 1);
	assert_int_equal(load(f, &info, why, sizeof(why)), -EBADMSG);
	assert_int_equal(f->got, 0);
	free(buf);
}

/* One flipped bit at every byte: refused, nothing handed over. */
static void test_flipped(void **state)
{
	struct fx *f = *state;
	struct xh_ckpt_info info;
	unsigned int crc_msgs = 0;
	char why[256];
	size_t len, i;
	__u8 *buf;

	gen(f, 12, 6);
	write_all(f, &info0);
	read_file(f->path, &buf, &len);
	for (i = 0; i < len; i++) {
		buf[i] ^= 1 << (i % 8);
		write_file(f->path, buf, len);
		assert_int_equal(load(f, &info, why, sizeof(why)), -EBADMSG);
		assert_int_equal(f->got, 0);
		crc_msgs += !!strstr(why, "checksum mismatch");
		buf[i] ^= 1 << (i % 8);
	}
	/* all but the magics, the version and the end marker are caught by
	 * the checksum */
	assert_int_equal(crc_msgs, len - 4 - 2 - 4);
	write_file(f->path, buf, len);
	assert_int_equal(load(f, &info, why, sizeof(why)), 0);
	assert_int_equal(f->got, 12);
	free(buf);
}

/* Not a checkpoint, another version, none at all. */
static void test_foreign(void **state)
{
	struct fx *f = *state;
	struct xh_ckpt_info info;
	char why[256];
	size_t len;
	__u8 *buf;

	gen(f, 3, 7);
	write_all(f, &info0);
	read_file(f->path, &buf, &len);
	memcpy(buf, "PK\3\4", 4);
	write_file(f->path, buf, len);
	assert_int_equal(load(f, &info, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "not an xdpha checkpoint"));
	memcpy(buf, "XHCK", 4);
	buf[5] = 2;
	write_file(f->path, buf, len);
	assert_int_equal(load(f, &info, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "version 2, this build reads 1"));
	free(buf);

	unlink(f->path);
	assert_int_equal(load(f, &info, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "no checkpoint"));
	assert_non_null(strstr(why, f->path));
	/* why may be NULL */
	assert_int_equal(xh_ckpt_load(f->dir, NAME, &info, on_rec, f, NULL, 0),
			 -ENOENT);
}

/* The restore callback's error stops the restore and is returned. */
static void test_cb_error(void **state)
{
	struct fx *f = *state;
	struct xh_ckpt_info info;
	char why[256];

	gen(f, 20, 8);
	write_all(f, &info0);
	f->fail_at = 5;
	assert_int_equal(load(f, &info, why, sizeof(why)), -ENOSPC);
	assert_int_equal(f->got, 5);
	assert_non_null(strstr(why, "record 5"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cb_error, setup, teardown),
	};

	return cmocka_run_group_tests_name("checkpoint", tests, NULL, NULL);
}
