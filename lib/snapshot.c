/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Snapshots (snapshot.h): named sections in memory, their file format, and the atomic
 * write (temporary file, fsync, rename, fsync of the directory).
 *
 * File: header (32 bytes) = magic "PFSESNAP", version u32, header bytes u32, sections
 * u32, flags u32 (0), total length u64; then per section: type u32, name length u32,
 * data length u64, the name and the data, each padded with zeros to 8 bytes; then
 * XXH3-64 of everything before it. Little-endian.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "pfse/history.h"
#include "pfse/lstm.h"
#include "pfse/predict.h"
#include "pfse/snapshot.h"

#include "internal.h"
#include "lstm_priv.h"
#include "le.h"

#define MAGIC "PFSESNAP"
#define FORMAT_VERSION 1u
#define HDR_BYTES 32u
#define SEC_HDR_BYTES 16u
#define DATA_MAX (1ull << 40)
#define MODEL_BYTES (PFSE_SNAP_BACKEND_MAX + 4 + 4 + 4 * 8 + 4 * 4 + 3 * 8 + 3 * 8 + 8)

struct sect {
	uint32_t type;
	uint32_t name_len;
	char name[PFSE_SNAP_NAME_MAX + 1];
	size_t len;
	uint8_t *data;
};

struct pfse_snapshot {
	struct pfse_allocator alloc;
	uint32_t n, cap;
	struct sect *v;
};

static inline size_t
pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* ---- the object ------------------------------------------------------------------------ */

PFSE_API int
pfse_snapshot_create(const struct pfse_allocator *a, struct pfse_snapshot **out)
{
	struct pfse_allocator al = { NULL, NULL, NULL };
	struct pfse_snapshot *s;

	if (!out)
		return -EINVAL;
	if (a)
		al = *a;
	if (pfse_allocator_check(&al) < 0)
		return -EINVAL;
	s = pfse_zalloc(&al, sizeof(*s), 8);
	if (!s)
		return -ENOMEM;
	s->alloc = al;
	*out = s;
	return 0;
}

PFSE_API void
pfse_snapshot_destroy(struct pfse_snapshot *s)
{
	struct pfse_allocator a;

	if (!s)
		return;
	a = s->alloc;
	for (uint32_t i = 0; i < s->n; i++)
		pfse_free(&a, s->v[i].data);
	pfse_free(&a, s->v);
	pfse_free(&a, s);
}

/* A name's length, or 0 when it is not a valid name. */
static uint32_t
name_len(const char *name)
{
	size_t n;

	if (!name)
		return 0;
	n = strnlen(name, PFSE_SNAP_NAME_MAX + 1);
	return n >= 1 && n <= PFSE_SNAP_NAME_MAX ? (uint32_t)n : 0;
}

static int
find(const struct pfse_snapshot *s, uint32_t type, const char *name, uint32_t nl)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->v[i].type == type && s->v[i].name_len == nl &&
		    memcmp(s->v[i].name, name, nl) == 0)
			return (int)i;
	return -1;
}

/* Puts without checking the type (the typed calls use it). */
static int
put_raw(struct pfse_snapshot *s, uint32_t type, const char *name, const void *data, size_t len)
{
	uint32_t nl = name_len(name);
	uint8_t *copy = NULL;
	int at;

	if (!s || nl == 0 || (len && !data) || len >= DATA_MAX)
		return -EINVAL;
	at = find(s, type, name, nl);
	if (at < 0 && s->n >= PFSE_SNAP_SECTIONS_MAX)
		return -ENOSPC;
	if (len) {
		copy = pfse_zalloc(&s->alloc, len, 8);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	if (at < 0 && s->n == s->cap) {
		uint32_t cap = s->cap ? 2 * s->cap : 8;
		struct sect *v = pfse_zalloc(&s->alloc, (size_t)cap * sizeof(*v), 8);

		if (!v) {
			pfse_free(&s->alloc, copy);
			return -ENOMEM;
		}
		if (s->n)
			memcpy(v, s->v, (size_t)s->n * sizeof(*v));
		pfse_free(&s->alloc, s->v);
		s->v = v;
		s->cap = cap;
	}
	if (at >= 0) {
		pfse_free(&s->alloc, s->v[at].data);
	} else {
		at = (int)s->n++;
		s->v[at].type = type;
		s->v[at].name_len = nl;
		memcpy(s->v[at].name, name, nl);
		s->v[at].name[nl] = 0;
	}
	s->v[at].data = copy;
	s->v[at].len = len;
	return 0;
}

PFSE_API int
pfse_snapshot_put(struct pfse_snapshot *s, uint32_t type, const char *name, const void *data,
		  size_t len)
{
	if (type < PFSE_SNAP_USER)
		return -EINVAL;
	return put_raw(s, type, name, data, len);
}

PFSE_API int
pfse_snapshot_put_history(struct pfse_snapshot *s, const char *name, struct pfse_history *h)
{
	size_t len = 0;
	uint8_t *buf;
	int r;

	if (!s || !h || name_len(name) == 0)
		return -EINVAL;
	if (pfse_history_save(h, NULL, 0, &len) != -ENOSPC)
		return -EINVAL;
	buf = pfse_zalloc(&s->alloc, len, 8);
	if (!buf)
		return -ENOMEM;
	r = pfse_history_save(h, buf, len, &len);
	if (r == 0)
		r = put_raw(s, PFSE_SNAP_HISTORY, name, buf, len);
	pfse_free(&s->alloc, buf);
	return r;
}

PFSE_API int
pfse_snapshot_put_lstm(struct pfse_snapshot *s, const char *name, const struct pfse_lstm *m)
{
	size_t len = 0;
	uint8_t *buf;
	int r;

	if (!s || !m || name_len(name) == 0)
		return -EINVAL;
	if (pfse_lstm_save(m, NULL, 0, &len) != -ENOSPC)
		return -EINVAL;
	buf = pfse_zalloc(&s->alloc, len, 8);
	if (!buf)
		return -ENOMEM;
	r = pfse_lstm_save(m, buf, len, &len);
	if (r == 0)
		r = put_raw(s, PFSE_SNAP_LSTM, name, buf, len);
	pfse_free(&s->alloc, buf);
	return r;
}

PFSE_API int
pfse_snapshot_put_model(struct pfse_snapshot *s, const char *name,
			const struct pfse_predictor *pred)
{
	const struct pfse_predictor_ops *ops = pfse_predictor_ops_of(pred);
	struct pfse_model_params mp;
	uint8_t buf[MODEL_BYTES], *p = buf;
	size_t bn;

	if (!s || !ops || name_len(name) == 0)
		return -EINVAL;
	bn = strnlen(ops->name, PFSE_SNAP_BACKEND_MAX + 1);
	if (bn == 0 || bn > PFSE_SNAP_BACKEND_MAX)
		return -EINVAL;
	pfse_model_params_init(&mp);
	if (pfse_predictor_model_params(pred, &mp) < 0)
		return -EINVAL;
	memset(buf, 0, sizeof(buf));
	memcpy(p, ops->name, bn);
	p += PFSE_SNAP_BACKEND_MAX;
	put32(&p, mp.flags);
	put32(&p, mp.period);
	putd(&p, mp.alpha);
	putd(&p, mp.beta);
	putd(&p, mp.gamma);
	putd(&p, mp.phi);
	put32(&p, mp.p);
	put32(&p, mp.d);
	put32(&p, mp.q);
	put32(&p, 0);
	for (unsigned i = 0; i < PFSE_ARIMA_P_MAX; i++)
		putd(&p, mp.ar[i]);
	for (unsigned i = 0; i < PFSE_ARIMA_Q_MAX; i++)
		putd(&p, mp.ma[i]);
	putd(&p, mp.constant);
	return put_raw(s, PFSE_SNAP_MODEL, name, buf, sizeof(buf));
}

PFSE_API int
pfse_snapshot_get(const struct pfse_snapshot *s, uint32_t type, const char *name,
		  const void **data, size_t *len)
{
	uint32_t nl = name_len(name);
	int at;

	if (!s || nl == 0 || !data || !len)
		return -EINVAL;
	at = find(s, type, name, nl);
	if (at < 0)
		return -ENOENT;
	*data = s->v[at].data;
	*len = s->v[at].len;
	return 0;
}

PFSE_API int
pfse_snapshot_get_history(const struct pfse_snapshot *s, const char *name,
			  struct pfse_history *h)
{
	const void *d;
	size_t len;
	int r;

	if (!h)
		return -EINVAL;
	r = pfse_snapshot_get(s, PFSE_SNAP_HISTORY, name, &d, &len);
	return r < 0 ? r : pfse_history_load(h, d, len);
}

PFSE_API int
pfse_snapshot_get_lstm(const struct pfse_snapshot *s, const char *name,
		       const struct pfse_allocator *a, struct pfse_lstm **out)
{
	const void *d;
	size_t len;
	int r;

	if (!out)
		return -EINVAL;
	r = pfse_snapshot_get(s, PFSE_SNAP_LSTM, name, &d, &len);
	return r < 0 ? r : pfse_lstm_load(d, len, a, out);
}

/* Decodes a model section; -EBADMSG if any field is out of its domain. */
static int
decode_model(const uint8_t *buf, size_t len, char backend[PFSE_SNAP_BACKEND_MAX + 1],
	     struct pfse_model_params *mp)
{
	const uint8_t *p = buf + PFSE_SNAP_BACKEND_MAX;
	size_t bn;

	if (len != MODEL_BYTES)
		return -EBADMSG;
	bn = strnlen((const char *)buf, PFSE_SNAP_BACKEND_MAX);
	if (bn == 0)
		return -EBADMSG;
	for (size_t i = 0; i < PFSE_SNAP_BACKEND_MAX; i++)
		if (i < bn ? (buf[i] < 0x21 || buf[i] > 0x7e) : buf[i] != 0)
			return -EBADMSG;
	memcpy(backend, buf, bn);
	backend[bn] = 0;
	pfse_model_params_init(mp);
	mp->flags = get32(&p);
	mp->period = get32(&p);
	mp->alpha = getd(&p);
	mp->beta = getd(&p);
	mp->gamma = getd(&p);
	mp->phi = getd(&p);
	mp->p = get32(&p);
	mp->d = get32(&p);
	mp->q = get32(&p);
	mp->reserved = get32(&p);
	for (unsigned i = 0; i < PFSE_ARIMA_P_MAX; i++)
		mp->ar[i] = getd(&p);
	for (unsigned i = 0; i < PFSE_ARIMA_Q_MAX; i++)
		mp->ma[i] = getd(&p);
	mp->constant = getd(&p);
	if ((mp->flags & ~(PFSE_MODEL_F_DAMPED | PFSE_MODEL_F_LOG1P)) != 0 ||
	    mp->period > PFSE_SEASON_MAX || mp->p > PFSE_ARIMA_P_MAX ||
	    mp->d > PFSE_ARIMA_D_MAX || mp->q > PFSE_ARIMA_Q_MAX || mp->reserved != 0)
		return -EBADMSG;
	if (!isfinite(mp->alpha) || !isfinite(mp->beta) || !isfinite(mp->gamma) ||
	    !isfinite(mp->phi) || !isfinite(mp->constant))
		return -EBADMSG;
	for (unsigned i = 0; i < PFSE_ARIMA_P_MAX; i++)
		if (!isfinite(mp->ar[i]) || !isfinite(mp->ma[i]))
			return -EBADMSG;
	return 0;
}

PFSE_API int
pfse_snapshot_get_model(const struct pfse_snapshot *s, const char *name,
			char backend[PFSE_SNAP_BACKEND_MAX + 1], struct pfse_model_params *mp)
{
	char b[PFSE_SNAP_BACKEND_MAX + 1];
	struct pfse_model_params m;
	const void *d;
	size_t len;
	int r;

	if (!backend || !mp || mp->size < sizeof(size_t) || mp->size > PFSE_PARAMS_SIZE_MAX)
		return -EINVAL;
	r = pfse_snapshot_get(s, PFSE_SNAP_MODEL, name, &d, &len);
	if (r < 0)
		return r;
	r = decode_model(d, len, b, &m);
	if (r < 0)
		return r; /* cannot happen: checked when put or parsed */
	memcpy(backend, b, strlen(b) + 1);
	m.size = mp->size;
	memcpy(mp, &m, mp->size < sizeof(m) ? mp->size : sizeof(m));
	return 0;
}

PFSE_API uint32_t
pfse_snapshot_count(const struct pfse_snapshot *s)
{
	return s ? s->n : 0;
}

PFSE_API int
pfse_snapshot_section(const struct pfse_snapshot *s, uint32_t i, uint32_t *type,
		      const char **name, const void **data, size_t *len)
{
	if (!s || i >= s->n || !type || !name || !data || !len)
		return -EINVAL;
	*type = s->v[i].type;
	*name = s->v[i].name;
	*data = s->v[i].data;
	*len = s->v[i].len;
	return 0;
}

/* ---- bytes ----------------------------------------------------------------------------- */

static size_t
serial_size(const struct pfse_snapshot *s)
{
	size_t n = HDR_BYTES + 8;

	for (uint32_t i = 0; i < s->n; i++)
		n += SEC_HDR_BYTES + pad8(s->v[i].name_len) + pad8(s->v[i].len);
	return n;
}

PFSE_API int
pfse_snapshot_serialize(const struct pfse_snapshot *s, void *buf, size_t len, size_t *out)
{
	size_t need;
	uint8_t *p = buf;

	if (!s || !out || (!buf && len))
		return -EINVAL;
	need = serial_size(s);
	*out = need;
	if (!buf || len < need)
		return -ENOSPC;
	memset(buf, 0, need);
	memcpy(p, MAGIC, 8);
	p += 8;
	put32(&p, FORMAT_VERSION);
	put32(&p, HDR_BYTES);
	put32(&p, s->n);
	put32(&p, 0);
	put64(&p, need);
	for (uint32_t i = 0; i < s->n; i++) {
		const struct sect *c = &s->v[i];

		put32(&p, c->type);
		put32(&p, c->name_len);
		put64(&p, c->len);
		memcpy(p, c->name, c->name_len);
		p += pad8(c->name_len);
		if (c->len)
			memcpy(p, c->data, c->len);
		p += pad8(c->len);
	}
	put64(&p, XXH3_64bits(buf, need - 8));
	return 0;
}

static int
zeros(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* A typed section's own checks. */
static int
check_typed(uint32_t type, const uint8_t *d, size_t len)
{
	char b[PFSE_SNAP_BACKEND_MAX + 1];
	struct pfse_model_params mp;

	switch (type) {
	case PFSE_SNAP_HISTORY:
		return pfse_history_check(d, len);
	case PFSE_SNAP_LSTM:
		return pfse_lstm_check(d, len);
	case PFSE_SNAP_MODEL:
		return decode_model(d, len, b, &mp);
	default:
		return type >= PFSE_SNAP_USER ? 0 : -EBADMSG;
	}
}

PFSE_API int
pfse_snapshot_parse(const void *buf, size_t len, const struct pfse_allocator *a,
		    struct pfse_snapshot **out)
{
	const uint8_t *p = buf, *end;
	struct pfse_snapshot *s = NULL;
	uint32_t version, hdr, n, flags;
	uint64_t total;
	int r;

	if (!buf || !out)
		return -EINVAL;
	if (len < HDR_BYTES + 8 || memcmp(p, MAGIC, 8) != 0)
		return -EBADMSG;
	p += 8;
	version = get32(&p);
	if (version == 0)
		return -EBADMSG;
	if (version != FORMAT_VERSION)
		return -EPROTO;
	hdr = get32(&p);
	n = get32(&p);
	flags = get32(&p);
	total = get64(&p);
	if (hdr != HDR_BYTES || flags != 0 || total != len || n > PFSE_SNAP_SECTIONS_MAX)
		return -EBADMSG;
	end = (const uint8_t *)buf + len - 8;
	{
		const uint8_t *q = end;

		if (get64(&q) != XXH3_64bits(buf, len - 8))
			return -EILSEQ;
	}
	/* the structure, every section, before anything is built */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t type, nl;
		uint64_t dl;
		const uint8_t *name;

		if ((size_t)(end - p) < SEC_HDR_BYTES)
			return -EBADMSG;
		type = get32(&p);
		nl = get32(&p);
		dl = get64(&p);
		if (nl == 0 || nl > PFSE_SNAP_NAME_MAX || (size_t)(end - p) < pad8(nl))
			return -EBADMSG;
		name = p;
		if (memchr(name, 0, nl) || !zeros(name + nl, pad8(nl) - nl))
			return -EBADMSG;
		p += pad8(nl);
		if (dl >= DATA_MAX || (uint64_t)(end - p) < pad8((size_t)dl))
			return -EBADMSG;
		if (!zeros(p + dl, pad8((size_t)dl) - (size_t)dl))
			return -EBADMSG;
		r = check_typed(type, p, (size_t)dl);
		if (r < 0)
			return r;
		p += pad8((size_t)dl);
	}
	if (p != end)
		return -EBADMSG;
	/* build */
	r = pfse_snapshot_create(a, &s);
	if (r < 0)
		return r;
	p = (const uint8_t *)buf + HDR_BYTES;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t type = get32(&p), nl = get32(&p);
		uint64_t dl = get64(&p);
		char name[PFSE_SNAP_NAME_MAX + 1];

		memcpy(name, p, nl);
		name[nl] = 0;
		p += pad8(nl);
		if (find(s, type, name, nl) >= 0) {
			pfse_snapshot_destroy(s);
			return -EBADMSG; /* the same section twice */
		}
		r = put_raw(s, type, name, p, (size_t)dl);
		if (r < 0) {
			pfse_snapshot_destroy(s);
			return r;
		}
		p += pad8((size_t)dl);
	}
	*out = s;
	return 0;
}

/* ---- files ----------------------------------------------------------------------------- */

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fsyncs the directory holding `path`. */
static int
sync_dir(const char *path, const struct pfse_allocator *a)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	size_t n;
	int fd, r = 0;

	n = !slash ? 1 : (slash == path ? 1 : (size_t)(slash - path));
	dir = pfse_zalloc(a, n + 1, 1);
	if (!dir)
		return -ENOMEM;
	memcpy(dir, slash ? path : ".", n);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pfse_free(a, dir);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0 && errno != EINVAL)
		r = -errno;
	close(fd);
	return r;
}

PFSE_API int
pfse_snapshot_write(const struct pfse_snapshot *s, const char *path)
{
	size_t len, plen;
	uint8_t *buf;
	char *tmp;
	int fd, r;

	if (!s || !path || !*path)
		return -EINVAL;
	pfse_snapshot_serialize(s, NULL, 0, &len);
	plen = strlen(path);
	buf = pfse_zalloc(&s->alloc, len, 8);
	tmp = pfse_zalloc(&s->alloc, plen + 12, 1);
	if (!buf || !tmp) {
		pfse_free(&s->alloc, buf);
		pfse_free(&s->alloc, tmp);
		return -ENOMEM;
	}
	pfse_snapshot_serialize(s, buf, len, &len);
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp.XXXXXX", 12);
	fd = mkstemp(tmp);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = fchmod(fd, 0644) < 0 ? -errno : 0;
	if (r == 0)
		r = write_all(fd, buf, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	else
		r = sync_dir(path, &s->alloc);
out:
	pfse_free(&s->alloc, buf);
	pfse_free(&s->alloc, tmp);
	return r;
}

PFSE_API int
pfse_snapshot_read(const char *path, const struct pfse_allocator *a,
		   struct pfse_snapshot **out)
{
	struct pfse_allocator al = { NULL, NULL, NULL };
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd, r = 0;

	if (!path || !out)
		return -EINVAL;
	if (a)
		al = *a;
	if (pfse_allocator_check(&al) < 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 0) {
		close(fd);
		return -EBADMSG;
	}
	if ((uint64_t)st.st_size >= DATA_MAX) {
		close(fd);
		return -EFBIG;
	}
	buf = pfse_zalloc(&al, (size_t)st.st_size + 1, 8);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break; /* shrank: parsed as it is, and refused as truncated */
		got += (size_t)n;
	}
	close(fd);
	if (r == 0)
		r = pfse_snapshot_parse(buf, got, &al, out);
	pfse_free(&al, buf);
	return r;
}
