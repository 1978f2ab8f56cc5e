// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * checkpoint.c - replicas of the state mirror saved to files and restored
 * (checkpoint.h): writing aside with a running CRC-32 (zlib), the fsync /
 * rename / fsync-the-directory sequence, and a restore that validates the
 * whole file before it hands over one record.
 */
#define _GNU_SOURCE		/* mkostemp */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "checkpoint.h"
#include "log.h"

#define REC_HDR_LEN	sizeof(struct xh_mir_rec_hdr)
#define WRITE_BUF	(256 * 1024)

struct xh_ckpt_writer {
	FILE *f;
	char *buf;			/* stdio's buffer, larger than its own */
	char tmp[PATH_MAX];
	char path[PATH_MAX];
	char dir[PATH_MAX];
	uLong crc;
	__u64 records;
	__u64 bytes;
	int err;			/* first write error: commit refuses */
};

static int paths(const char *dir, const char *name, char *path, char *tmp)
{
	int n;

	if (!dir || !name || !*name || strchr(name, '/') ||
	    !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	n = snprintf(path, PATH_MAX, "%s/%s", dir, name);
	if (n < 0 || n >= PATH_MAX)
		return -ENAMETOOLONG;
	if (!tmp)
		return 0;
	n = snprintf(tmp, PATH_MAX, "%s/.%s.XXXXXX", dir, name);
	if (n < 0 || n >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static void put(struct xh_ckpt_writer *w, const void *p, size_t len)
{
	if (w->err || !len)
		return;
	if (fwrite(p, 1, len, w->f) != len) {
		w->err = errno ? -errno : -EIO;
		return;
	}
	w->crc = crc32(w->crc, p, len);
	w->bytes += len;
}

static __u64 realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int xh_ckpt_begin(const char *dir, const char *name,
		  const struct xh_ckpt_info *info, struct xh_ckpt_writer **out)
{
	struct xh_ckpt_writer *w;
	struct xh_ckpt_hdr h;
	int fd = -1, err;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	err = paths(dir, name, w->path, w->tmp);
	if (err) {
		pr_warn("checkpoint %s/%s: bad name\n", dir ? dir : "?",
			name ? name : "?");
		goto out;
	}
	snprintf(w->dir, sizeof(w->dir), "%s", dir);
	w->buf = malloc(WRITE_BUF);
	if (!w->buf) {
		err = -ENOMEM;
		goto out;
	}
	fd = mkostemp(w->tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_warn("checkpoint %s: cannot create %s: %s\n", w->path,
			w->tmp, strerror(errno));
		w->tmp[0] = '\0';
		goto out;
	}
	w->f = fdopen(fd, "w");
	if (!w->f) {
		err = -errno;
		close(fd);
		goto out;
	}
	setvbuf(w->f, w->buf, _IOFBF, WRITE_BUF);
	w->crc = crc32(0, NULL, 0);
	memset(&h, 0, sizeof(h));
	h.magic = htonl(XH_CKPT_MAGIC);
	h.version = htons(XH_CKPT_VERSION);
	h.hdr_len = htons(sizeof(h));
	h.stream = htonl(info->stream);
	h.epoch = htobe64(info->epoch);
	h.seq = htobe64(info->seq);
	h.created_ns = htobe64(info->created_ns ? info->created_ns :
			       realtime_ns());
	put(w, &h, sizeof(h));
	*out = w;
	return 0;
out:
	xh_ckpt_abort(w);
	return err;
}

int xh_ckpt_add(struct xh_ckpt_writer *w, const void *key, unsigned int klen,
		const void *val, unsigned int vlen)
{
	struct xh_mir_rec_hdr rh;

	if (!klen || klen > XH_MIR_KEY_MAX || vlen > XH_MIR_VAL_MAX || !key ||
	    (vlen && !val))
		return -EINVAL;
	rh.op = XH_MIR_OP_PUT;
	rh.klen = klen;
	rh.vlen = htons(vlen);
	put(w, &rh, sizeof(rh));
	put(w, key, klen);
	put(w, val, vlen);
	if (w->err)
		return w->err;
	w->records++;
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd, err = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

int xh_ckpt_commit(struct xh_ckpt_writer *w)
{
	struct xh_ckpt_trailer t;
	const char *what = "write";
	int err;

	memset(&t, 0, sizeof(t));
	t.records = htobe64(w->records);
	t.bytes = htobe64(w->bytes);
	t.magic = htonl(XH_CKPT_END_MAGIC);
	put(w, &t, offsetof(struct xh_ckpt_trailer, crc));
	t.crc = htonl((__u32)w->crc);
	if (!w->err && fwrite(&t.crc, 1, sizeof(t.crc), w->f) != sizeof(t.crc))
		w->err = errno ? -errno : -EIO;
	err = w->err;
	if (err)
		goto out;
	if (fflush(w->f)) {
		err = -errno;
		goto out;
	}
	what = "fsync";
	if (fsync(fileno(w->f))) {
		err = -errno;
		goto out;
	}
	what = "close";
	err = fclose(w->f) ? -errno : 0;
	w->f = NULL;
	if (err)
		goto out;
	/* from here on the name holds the new checkpoint */
	what = "rename";
	if (rename(w->tmp, w->path)) {
		err = -errno;
		goto out;
	}
	w->tmp[0] = '\0';
	/* and from here on it survives a crash */
	what = "fsync of the directory";
	err = fsync_dir(w->dir);
out:
	if (err)
		pr_warn("checkpoint %s: %s failed: %s\n", w->path, what,
			strerror(-err));
	xh_ckpt_abort(w);
	return err;
}

void xh_ckpt_abort(struct xh_ckpt_writer *w)
{
	if (!w)
		return;
	if (w->f)
		fclose(w->f);
	if (w->tmp[0])
		unlink(w->tmp);
	free(w->buf);
	free(w);
}

int xh_ckpt_write(const char *dir, const char *name,
		  const struct xh_ckpt_info *info, xh_mir_snap_fn iter,
		  void *arg)
{
	struct xh_mir_rec recs[256];
	struct xh_ckpt_writer *w;
	bool restart = true;
	int n, i, err;

	err = xh_ckpt_begin(dir, name, info, &w);
	if (err)
		return err;
	for (;;) {
		n = iter(arg, restart, recs, 256);
		restart = false;
		if (n < 0 || n > 256) {
			err = n < 0 ? n : -EINVAL;
			pr_warn("checkpoint %s/%s: reading the replica failed: %s\n",
				dir, name, strerror(-err));
			goto out;
		}
		if (!n)
			break;
		for (i = 0; i < n; i++) {
			err = xh_ckpt_add(w, recs[i].key, recs[i].klen,
					  recs[i].val, recs[i].vlen);
			if (err) {
				pr_warn("checkpoint %s/%s: record: %s\n", dir,
					name, strerror(-err));
				goto out;
			}
		}
	}
	return xh_ckpt_commit(w);
out:
	xh_ckpt_abort(w);
	return err;
}

/* ---- restore ----------------------------------------------------------- */

static int why_set(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int why_set(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* Everything but the records' hand-over: 0, or -EBADMSG and why. */
static int validate(const __u8 *p, size_t size, struct xh_ckpt_info *info,
		    char *why, size_t why_len)
{
	const size_t min = sizeof(struct xh_ckpt_hdr) +
			   sizeof(struct xh_ckpt_trailer);
	struct xh_ckpt_trailer t;
	struct xh_ckpt_hdr h;
	__u32 stored, crc;
	__u64 records = 0;
	size_t off, end;

	if (size < sizeof(h))
		return why_set(why, why_len, -EBADMSG,
			       "truncated: %zu bytes, shorter than the header (%zu)",
			       size, sizeof(h));
	memcpy(&h, p, sizeof(h));
	if (ntohl(h.magic) != XH_CKPT_MAGIC)
		return why_set(why, why_len, -EBADMSG,
			       "bad magic 0x%08x: not an xdpha checkpoint",
			       ntohl(h.magic));
	if (ntohs(h.version) != XH_CKPT_VERSION)
		return why_set(why, why_len, -EBADMSG,
			       "version %u, this build reads %u",
			       ntohs(h.version), XH_CKPT_VERSION);
	if (size < min)
		return why_set(why, why_len, -EBADMSG,
			       "truncated: %zu bytes, shorter than header and trailer (%zu)",
			       size, min);
	end = size - sizeof(t);
	memcpy(&t, p + end, sizeof(t));
	if (ntohl(t.magic) != XH_CKPT_END_MAGIC)
		return why_set(why, why_len, -EBADMSG,
			       "truncated or damaged: no end marker at byte %zu of %zu",
			       end, size);
	stored = ntohl(t.crc);
	crc = crc32(crc32(0, NULL, 0), p, size - sizeof(t.crc));
	if (crc != stored)
		return why_set(why, why_len, -EBADMSG,
			       "checksum mismatch: stored 0x%08x, computed 0x%08x (damaged)",
			       stored, crc);
	/* the checksum held: what follows catches a bad writer, not rot */
	if (be64toh(t.bytes) != end)
		return why_set(why, why_len, -EBADMSG,
			       "truncated: records end at byte %zu, the trailer says %llu",
			       end, (unsigned long long)be64toh(t.bytes));
	off = ntohs(h.hdr_len);
	if (off < sizeof(h) || off > end)
		return why_set(why, why_len, -EBADMSG,
			       "header length %zu out of range", off);
	while (off < end) {
		struct xh_mir_rec_hdr rh;
		size_t vlen;

		if (end - off < REC_HDR_LEN)
			return why_set(why, why_len, -EBADMSG,
				       "record %llu: header runs past the end",
				       (unsigned long long)records);
		memcpy(&rh, p + off, sizeof(rh));
		vlen = ntohs(rh.vlen);
		if (rh.op != XH_MIR_OP_PUT || !rh.klen ||
		    rh.klen > XH_MIR_KEY_MAX || vlen > XH_MIR_VAL_MAX)
			return why_set(why, why_len, -EBADMSG,
				       "record %llu: op %u, key %u bytes, value %zu bytes: out of range",
				       (unsigned long long)records, rh.op,
				       rh.klen, vlen);
		off += REC_HDR_LEN;
		if (end - off < rh.klen + vlen)
			return why_set(why, why_len, -EBADMSG,
				       "record %llu: runs past the end",
				       (unsigned long long)records);
		off += rh.klen + vlen;
		records++;
	}
	if (records != be64toh(t.records))
		return why_set(why, why_len, -EBADMSG,
			       "%llu records, the trailer says %llu",
			       (unsigned long long)records,
			       (unsigned long long)be64toh(t.records));
	info->stream = ntohl(h.stream);
	info->epoch = be64toh(h.epoch);
	info->seq = be64toh(h.seq);
	info->created_ns = be64toh(h.created_ns);
	info->records = records;
	return 0;
}

int xh_ckpt_load(const char *dir, const char *name, struct xh_ckpt_info *info,
		 xh_ckpt_rec_fn fn, void *arg, char *why, size_t why_len)
{
	char path[PATH_MAX], reason[256];
	__u8 *p = MAP_FAILED;
	struct stat st;
	size_t off, size = 0;
	__u64 i;
	int fd = -1, err;

	err = paths(dir, name, path, NULL);
	if (err)
		return why_set(why, why_len, err, "%s/%s: bad checkpoint name",
			       dir ? dir : "?", name ? name : "?");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			why_set(why, why_len, err, "%s: no checkpoint", path);
		else
			why_set(why, why_len, err, "%s: cannot open: %s", path,
				strerror(errno));
		goto out;
	}
	if (fstat(fd, &st)) {
		err = why_set(why, why_len, -errno, "%s: cannot stat: %s",
			      path, strerror(errno));
		goto out;
	}
	size = st.st_size;
	if (!size) {
		err = why_set(why, why_len, -EBADMSG,
			      "%s: truncated: the file is empty", path);
		goto out;
	}
	/* the file is replaced by rename, never written in place */
	p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		err = why_set(why, why_len, -errno, "%s: cannot map: %s",
			      path, strerror(errno));
		goto out;
	}
	err = validate(p, size, info, reason, sizeof(reason));
	if (err)
		why_set(why, why_len, err, "%s: %s", path, reason);
	if (err || !fn)
		goto out;
	off = ntohs(((const struct xh_ckpt_hdr *)p)->hdr_len);
	for (i = 0; i < info->records; i++) {
		struct xh_mir_rec_hdr rh;
		unsigned int vlen;

		memcpy(&rh, p + off, sizeof(rh));
		vlen = ntohs(rh.vlen);
		off += REC_HDR_LEN;
		err = fn(arg, p + off, rh.klen, p + off + rh.klen, vlen);
		if (err) {
			why_set(why, why_len, err,
				"%s: restoring record %llu failed: %s", path,
				(unsigned long long)i, strerror(-err));
			goto out;
		}
		off += rh.klen + vlen;
	}
out:
	if (p != MAP_FAILED)
		munmap(p, size);
	if (fd >= 0)
		close(fd);
	return err;
}
