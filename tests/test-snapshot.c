/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Snapshots: sections round-trip into equal objects; every malformed buffer is refused
 * with its own code and builds nothing; files are replaced atomically, which a crash
 * test checks by killing a writing process at random moments (PFSE_TEST_CRASHES times,
 * default 200) and loading after each kill.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include <pfse/pfse.h>

static uint64_t rs = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static struct pfse_history *
make_history(uint64_t interval, unsigned flows)
{
	struct pfse_history_params p;
	struct pfse_history *h;

	pfse_history_params_init(&p);
	p.max_classes = 64;
	p.series_len = 8;
	p.interval_ns = interval;
	ck_assert_int_eq(pfse_history_create(&p, &h), 0);
	for (unsigned i = 0; i < flows; i++) {
		struct pfse_flow_key k;
		struct pfse_flow_summary s;
		uint32_t slot;
		uint8_t a[4] = { 10, 0, 0, (uint8_t)i }, b[4] = { 10, 0, 1, 1 };

		pfse_flow_key_set(&k, PFSE_FAMILY_IPV4, a, b, (uint16_t)(40000 + i),
				  (uint16_t)(80 + i % 5), 6, 0);
		ck_assert_int_eq(pfse_history_classify(h, &k, &slot, NULL), 0);
		pfse_flow_summary_init(&s);
		s.bytes = 1000 + 997 * i;
		s.packets = 3 + i;
		s.duration_ns = 1000000ull * (i + 1);
		s.first_interval_bytes = 500 + i;
		s.peak_interval_bytes = 800 + i;
		ck_assert_int_eq(pfse_history_absorb(h, slot, &s), 0);
	}
	return h;
}

static uint8_t *
history_bytes(struct pfse_history *h, size_t *len)
{
	uint8_t *b;

	ck_assert_int_eq(pfse_history_save(h, NULL, 0, len), -ENOSPC);
	b = malloc(*len);
	ck_assert_int_eq(pfse_history_save(h, b, *len, len), 0);
	return b;
}

static uint8_t *
serialize(const struct pfse_snapshot *s, size_t *len)
{
	uint8_t *b;

	ck_assert_int_eq(pfse_snapshot_serialize(s, NULL, 0, len), -ENOSPC);
	b = malloc(*len);
	ck_assert_int_eq(pfse_snapshot_serialize(s, b, *len, len), 0);
	return b;
}

static struct pfse_predictor *
fitted_holt(void)
{
	struct pfse_predictor_params pp;
	struct pfse_model_params mp;
	struct pfse_predictor *pred;
	double y[120];
	const double *ser[1] = { y };
	uint32_t lens[1] = { 120 };

	pfse_model_params_init(&mp);
	mp.flags = PFSE_MODEL_F_DAMPED | PFSE_MODEL_F_LOG1P;
	pfse_predictor_params_init(&pp);
	pp.ops = pfse_predictor_backend("holt");
	pp.model = &mp;
	ck_assert_int_eq(pfse_predictor_create(&pp, &pred), 0);
	for (unsigned i = 0; i < 120; i++)
		y[i] = 1000 + 40.0 * i + (double)(rnd() % 300);
#ifdef PFSE_HAVE_GSL
	ck_assert_int_eq(pfse_predictor_fit(pred, ser, lens, 1, 0, NULL), 0);
#else
	(void)ser;
	(void)lens;
#endif
	return pred;
}

/* A snapshot with one section of every type. */
static struct pfse_snapshot *
full_snapshot(struct pfse_history *h, struct pfse_predictor *pred)
{
	struct pfse_snapshot *s;
	static const char user[] = "the application's own bytes";

	ck_assert_int_eq(pfse_snapshot_create(NULL, &s), 0);
	ck_assert_int_eq(pfse_snapshot_put_history(s, "worker-0", h), 0);
	ck_assert_int_eq(pfse_snapshot_put_lstm(s, "default", pfse_lstm_default()), 0);
	ck_assert_int_eq(pfse_snapshot_put_model(s, "class-80", pred), 0);
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER + 7, "app", user, sizeof(user)), 0);
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER, "empty", NULL, 0), 0);
	return s;
}

START_TEST(round_trip)
{
	struct pfse_history *h = make_history(100000000ull, 40), *h2;
	struct pfse_predictor *pred = fitted_holt(), *pred2;
	struct pfse_snapshot *s = full_snapshot(h, pred), *t;
	struct pfse_model_params mp, mp2;
	struct pfse_predictor_params pp;
	struct pfse_lstm *m;
	char backend[PFSE_SNAP_BACKEND_MAX + 1];
	size_t len, len2, hl, hl2;
	uint8_t *buf = serialize(s, &len), *buf2, *hb, *hb2;
	const void *d;
	size_t dl;

	ck_assert_uint_eq(len % 8, 0);
	ck_assert_int_eq(pfse_snapshot_parse(buf, len, NULL, &t), 0);
	ck_assert_uint_eq(pfse_snapshot_count(t), 5);
	buf2 = serialize(t, &len2);
	ck_assert_uint_eq(len2, len);
	ck_assert(memcmp(buf, buf2, len) == 0);
	/* the history: the same bytes once loaded into a history of the same shape */
	h2 = make_history(100000000ull, 0);
	ck_assert_int_eq(pfse_snapshot_get_history(t, "worker-0", h2), 0);
	hb = history_bytes(h, &hl);
	hb2 = history_bytes(h2, &hl2);
	ck_assert_uint_eq(hl, hl2);
	ck_assert(memcmp(hb, hb2, hl) == 0);
	/* the LSTM: the default model's bytes */
	ck_assert_int_eq(pfse_snapshot_get_lstm(t, "default", NULL, &m), 0);
	{
		size_t a, b;
		uint8_t *x, *y;

		pfse_lstm_save(m, NULL, 0, &a);
		pfse_lstm_save(pfse_lstm_default(), NULL, 0, &b);
		ck_assert_uint_eq(a, b);
		x = malloc(a);
		y = malloc(b);
		pfse_lstm_save(m, x, a, &a);
		pfse_lstm_save(pfse_lstm_default(), y, b, &b);
		ck_assert(memcmp(x, y, a) == 0);
		free(x);
		free(y);
	}
	pfse_lstm_destroy(m);
	/* the model: same backend, same parameters, so the same forecasts */
	pfse_model_params_init(&mp);
	pfse_model_params_init(&mp2);
	ck_assert_int_eq(pfse_snapshot_get_model(t, "class-80", backend, &mp2), 0);
	ck_assert_str_eq(backend, "holt");
	ck_assert_int_eq(pfse_predictor_model_params(pred, &mp), 0);
	ck_assert(memcmp(&mp, &mp2, sizeof(mp)) == 0);
	pfse_predictor_params_init(&pp);
	pp.ops = pfse_predictor_backend(backend);
	pp.model = &mp2;
	ck_assert_int_eq(pfse_predictor_create(&pp, &pred2), 0);
	{
		uint64_t st1[8], st2[8];
		struct pfse_forecast f1, f2;

		pfse_predictor_flow_init(pred, st1, NULL);
		pfse_predictor_flow_init(pred2, st2, NULL);
		for (unsigned i = 0; i < 30; i++) {
			double x = 500 + 50.0 * i;

			pfse_predictor_observe(pred, st1, x, NULL);
			pfse_predictor_observe(pred2, st2, x, NULL);
		}
		pfse_predictor_forecast(pred, st1, 3, 0.9, &f1);
		pfse_predictor_forecast(pred2, st2, 3, 0.9, &f2);
		ck_assert(f1.mean == f2.mean && f1.lo == f2.lo && f1.hi == f2.hi);
	}
	/* the application's sections */
	ck_assert_int_eq(pfse_snapshot_get(t, PFSE_SNAP_USER + 7, "app", &d, &dl), 0);
	ck_assert_uint_eq(dl, sizeof("the application's own bytes"));
	ck_assert_str_eq(d, "the application's own bytes");
	ck_assert_int_eq(pfse_snapshot_get(t, PFSE_SNAP_USER, "empty", &d, &dl), 0);
	ck_assert_uint_eq(dl, 0);
	/* absent */
	d = NULL;
	ck_assert_int_eq(pfse_snapshot_get(t, PFSE_SNAP_USER, "nope", &d, &dl), -ENOENT);
	ck_assert_ptr_null(d);
	ck_assert_int_eq(pfse_snapshot_get(t, PFSE_SNAP_HISTORY, "app", &d, &dl), -ENOENT);
	ck_assert_int_eq(pfse_snapshot_get_history(t, "nope", h2), -ENOENT);
	ck_assert_int_eq(pfse_snapshot_get_lstm(t, "nope", NULL, &m), -ENOENT);
	ck_assert_int_eq(pfse_snapshot_get_model(t, "nope", backend, &mp2), -ENOENT);
	/* a history of another shape refuses it and stays as it was */
	{
		struct pfse_history *other = make_history(50000000ull, 3);
		size_t ol, ol2;
		uint8_t *ob = history_bytes(other, &ol), *ob2;

		ck_assert_int_eq(pfse_snapshot_get_history(t, "worker-0", other), -EINVAL);
		ob2 = history_bytes(other, &ol2);
		ck_assert(ol == ol2 && memcmp(ob, ob2, ol) == 0);
		free(ob);
		free(ob2);
		pfse_history_destroy(other);
	}
	free(hb);
	free(hb2);
	free(buf);
	free(buf2);
	pfse_snapshot_destroy(s);
	pfse_snapshot_destroy(t);
	pfse_history_destroy(h);
	pfse_history_destroy(h2);
	pfse_predictor_destroy(pred);
	pfse_predictor_destroy(pred2);
}
END_TEST

START_TEST(sections)
{
	struct pfse_snapshot *s;
	char name[PFSE_SNAP_NAME_MAX + 2];
	uint32_t type;
	const char *nm;
	const void *d;
	size_t dl;

	ck_assert_int_eq(pfse_snapshot_create(NULL, &s), 0);
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER, "a", "1", 1), 0);
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER + 1, "a", "22", 2), 0);
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER, "b", "333", 3), 0);
	/* replacing keeps the place */
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER, "a", "4444", 4), 0);
	ck_assert_uint_eq(pfse_snapshot_count(s), 3);
	ck_assert_int_eq(pfse_snapshot_section(s, 0, &type, &nm, &d, &dl), 0);
	ck_assert_uint_eq(type, PFSE_SNAP_USER);
	ck_assert_str_eq(nm, "a");
	ck_assert_uint_eq(dl, 4);
	ck_assert(memcmp(d, "4444", 4) == 0);
	ck_assert_int_eq(pfse_snapshot_section(s, 2, &type, &nm, &d, &dl), 0);
	ck_assert_str_eq(nm, "b");
	ck_assert_int_eq(pfse_snapshot_section(s, 3, &type, &nm, &d, &dl), -EINVAL);
	/* names: 1 to 64 bytes */
	memset(name, 'x', sizeof(name));
	name[PFSE_SNAP_NAME_MAX] = 0;
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER, name, "", 0), 0);
	name[PFSE_SNAP_NAME_MAX] = 'x';
	name[PFSE_SNAP_NAME_MAX + 1] = 0;
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER, name, "", 0), -EINVAL);
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER, "", "", 0), -EINVAL);
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER, NULL, "", 0), -EINVAL);
	/* typed sections only through their calls; data NULL with a length */
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_HISTORY, "h", "x", 1), -EINVAL);
	ck_assert_int_eq(pfse_snapshot_put(s, 0, "h", "x", 1), -EINVAL);
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER, "n", NULL, 1), -EINVAL);
	ck_assert_int_eq(pfse_snapshot_put(NULL, PFSE_SNAP_USER, "n", "", 0), -EINVAL);
	ck_assert_int_eq(pfse_snapshot_put_history(s, "h", NULL), -EINVAL);
	ck_assert_int_eq(pfse_snapshot_put_lstm(s, "l", NULL), -EINVAL);
	ck_assert_int_eq(pfse_snapshot_put_model(s, "m", NULL), -EINVAL);
	ck_assert_uint_eq(pfse_snapshot_count(s), 4);
	/* the section limit */
	for (unsigned i = pfse_snapshot_count(s); i < PFSE_SNAP_SECTIONS_MAX; i++) {
		char nn[16];

		snprintf(nn, sizeof(nn), "s%u", i);
		ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER + 2, nn, nn, 2), 0);
	}
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER + 3, "one more", "", 0), -ENOSPC);
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER, "a", "5", 1), 0); /* replace */
	{
		size_t len;
		uint8_t *b = serialize(s, &len);
		struct pfse_snapshot *t;

		ck_assert_int_eq(pfse_snapshot_parse(b, len, NULL, &t), 0);
		ck_assert_uint_eq(pfse_snapshot_count(t), PFSE_SNAP_SECTIONS_MAX);
		pfse_snapshot_destroy(t);
		free(b);
	}
	/* arguments */
	ck_assert_int_eq(pfse_snapshot_create(NULL, NULL), -EINVAL);
	ck_assert_int_eq(pfse_snapshot_get(NULL, PFSE_SNAP_USER, "a", &d, &dl), -EINVAL);
	ck_assert_int_eq(pfse_snapshot_get(s, PFSE_SNAP_USER, "a", NULL, &dl), -EINVAL);
	ck_assert_int_eq(pfse_snapshot_serialize(s, NULL, 0, NULL), -EINVAL);
	ck_assert_int_eq(pfse_snapshot_serialize(NULL, NULL, 0, &dl), -EINVAL);
	ck_assert_int_eq(pfse_snapshot_parse(NULL, 0, NULL, &s), -EINVAL);
	ck_assert_int_eq(pfse_snapshot_write(s, ""), -EINVAL);
	ck_assert_int_eq(pfse_snapshot_write(NULL, "x"), -EINVAL);
	ck_assert_int_eq(pfse_snapshot_read(NULL, NULL, &s), -EINVAL);
	ck_assert_uint_eq(pfse_snapshot_count(NULL), 0);
	pfse_snapshot_destroy(NULL);
	pfse_snapshot_destroy(s);
}
END_TEST

static void
rechecksum(uint8_t *b, size_t len)
{
	uint64_t x = XXH3_64bits(b, len - 8);

	for (unsigned i = 0; i < 8; i++)
		b[len - 8 + i] = (uint8_t)(x >> (8 * i));
}

static int
parse_keeps_out(const uint8_t *b, size_t len)
{
	struct pfse_snapshot *t = (struct pfse_snapshot *)(uintptr_t)16;
	int r = pfse_snapshot_parse(b, len, NULL, &t);

	ck_assert_msg(r < 0, "accepted");
	ck_assert_ptr_eq(t, (struct pfse_snapshot *)(uintptr_t)16);
	return r;
}

START_TEST(malformed)
{
	struct pfse_history *h = make_history(100000000ull, 5);
	struct pfse_predictor *pred = fitted_holt();
	struct pfse_snapshot *s = full_snapshot(h, pred);
	size_t len;
	uint8_t *buf = serialize(s, &len), *bad = malloc(len);
	size_t hist_off = 32 + 16 + 8; /* the first section's (the history's) data */

	/* every truncation */
	for (size_t n = 0; n < len; n++)
		ck_assert_int_eq(parse_keeps_out(buf, n), -EBADMSG);
	/* every bit */
	for (size_t i = 0; i < len; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			int r;

			memcpy(bad, buf, len);
			bad[i] ^= (uint8_t)(1u << bit);
			r = parse_keeps_out(bad, len);
			if (i < 8)
				ck_assert_int_eq(r, -EBADMSG);
			else if (i < 12)
				ck_assert(r == -EPROTO || r == -EBADMSG); /* version 0: not ours */
			else if (i >= 16 && i < 20) /* the count (5): above 4096 is refused
						     * at once, else the checksum tells */
				ck_assert_int_eq(r, (i == 17 && bit >= 4) || i > 17 ? -EBADMSG
										 : -EILSEQ);
			else if (i < 32)
				ck_assert_int_eq(r, -EBADMSG);
			else
				ck_assert_msg(r == -EILSEQ, "byte %zu bit %u: %d", i, bit, r);
		}
	}
	/* well checksummed but wrong */
	memcpy(bad, buf, len);
	bad[8] = 2; /* a newer format */
	rechecksum(bad, len);
	ck_assert_int_eq(parse_keeps_out(bad, len), -EPROTO);
	memcpy(bad, buf, len);
	bad[32] = 5; /* a type nobody defined */
	rechecksum(bad, len);
	ck_assert_int_eq(parse_keeps_out(bad, len), -EBADMSG);
	memcpy(bad, buf, len);
	bad[hist_off] ^= 1; /* the history's own magic */
	rechecksum(bad, len);
	ck_assert_int_eq(parse_keeps_out(bad, len), -EBADMSG);
	memcpy(bad, buf, len);
	bad[hist_off + 100] ^= 1; /* inside the history: its own checksum */
	rechecksum(bad, len);
	ck_assert_int_eq(parse_keeps_out(bad, len), -EILSEQ);
	/* names and padding */
	{
		struct pfse_snapshot *d;
		size_t dl;
		uint8_t *db, *cp;

		ck_assert_int_eq(pfse_snapshot_create(NULL, &d), 0);
		ck_assert_int_eq(pfse_snapshot_put(d, PFSE_SNAP_USER, "ab", "xyz", 3), 0);
		db = serialize(d, &dl);
		cp = malloc(dl);
		ck_assert_uint_eq(dl, 32 + 16 + 8 + 8 + 8);
		memcpy(cp, db, dl);
		cp[32 + 16 + 5] = 'x'; /* the name's padding */
		rechecksum(cp, dl);
		ck_assert_int_eq(parse_keeps_out(cp, dl), -EBADMSG);
		memcpy(cp, db, dl);
		cp[32 + 16 + 8 + 3] = 'x'; /* the data's padding */
		rechecksum(cp, dl);
		ck_assert_int_eq(parse_keeps_out(cp, dl), -EBADMSG);
		memcpy(cp, db, dl);
		cp[32 + 16 + 1] = 0; /* a NUL in the name */
		rechecksum(cp, dl);
		ck_assert_int_eq(parse_keeps_out(cp, dl), -EBADMSG);
		memcpy(cp, db, dl);
		cp[32 + 4] = 0; /* a name of length 0 */
		rechecksum(cp, dl);
		ck_assert_int_eq(parse_keeps_out(cp, dl), -EBADMSG);
		memcpy(cp, db, dl);
		cp[32 + 4] = 65; /* too long */
		rechecksum(cp, dl);
		ck_assert_int_eq(parse_keeps_out(cp, dl), -EBADMSG);
		memcpy(cp, db, dl);
		cp[32 + 8] = 20; /* data running past the end */
		rechecksum(cp, dl);
		ck_assert_int_eq(parse_keeps_out(cp, dl), -EBADMSG);
		free(cp);
		free(db);
		pfse_snapshot_destroy(d);
	}
	memcpy(bad, buf, len);
	bad[16] = 4; /* fewer sections than there are */
	rechecksum(bad, len);
	ck_assert_int_eq(parse_keeps_out(bad, len), -EBADMSG);
	/* the same section twice */
	{
		struct pfse_snapshot *d;
		size_t dl;
		uint8_t *db;

		ck_assert_int_eq(pfse_snapshot_create(NULL, &d), 0);
		ck_assert_int_eq(pfse_snapshot_put(d, PFSE_SNAP_USER, "aa", "x", 1), 0);
		ck_assert_int_eq(pfse_snapshot_put(d, PFSE_SNAP_USER, "ab", "x", 1), 0);
		db = serialize(d, &dl);
		db[32 + 32 + 16 + 1] = 'a'; /* the second, "ab", becomes "aa" */
		rechecksum(db, dl);
		ck_assert_int_eq(parse_keeps_out(db, dl), -EBADMSG);
		free(db);
		pfse_snapshot_destroy(d);
	}
	/* an LSTM section whose model has a NaN weight, and a model section with an
	 * unknown flag, each with both checksums right */
	{
		struct pfse_snapshot *d;
		size_t dl, ml;
		uint8_t *db, *mb;
		const float nanf_ = NAN;

		pfse_lstm_save(pfse_lstm_default(), NULL, 0, &ml);
		mb = malloc(ml);
		pfse_lstm_save(pfse_lstm_default(), mb, ml, &ml);
		memcpy(mb + 48 + 12, &nanf_, 4);
		rechecksum(mb, ml);
		ck_assert_int_eq(pfse_snapshot_create(NULL, &d), 0);
		ck_assert_int_eq(pfse_snapshot_put(d, PFSE_SNAP_USER, "l", mb, ml), 0);
		db = serialize(d, &dl);
		db[32] = PFSE_SNAP_LSTM; /* retype the user section */
		db[32 + 1] = 0;
		db[32 + 2] = 0;
		rechecksum(db, dl);
		ck_assert_int_eq(parse_keeps_out(db, dl), -EBADMSG);
		free(db);
		pfse_snapshot_destroy(d);
		free(mb);

		ck_assert_int_eq(pfse_snapshot_create(NULL, &d), 0);
		ck_assert_int_eq(pfse_snapshot_put_model(d, "m", pred), 0);
		db = serialize(d, &dl);
		db[32 + 16 + 8 + PFSE_SNAP_BACKEND_MAX] |= 0x80; /* flags */
		rechecksum(db, dl);
		ck_assert_int_eq(parse_keeps_out(db, dl), -EBADMSG);
		free(db);
		pfse_snapshot_destroy(d);
	}
	free(bad);
	free(buf);
	pfse_snapshot_destroy(s);
	pfse_history_destroy(h);
	pfse_predictor_destroy(pred);
}
END_TEST

static char dir[256];

static void
make_dir(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/pfse-snap-XXXXXX", base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Removes the directory and what is in it; returns how many files were there. */
static unsigned
clean_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		char p[512];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
		n++;
	}
	closedir(d);
	rmdir(dir);
	return n;
}

START_TEST(files)
{
	struct pfse_history *h = make_history(100000000ull, 5);
	struct pfse_predictor *pred = fitted_holt();
	struct pfse_snapshot *s = full_snapshot(h, pred), *t;
	char path[512];
	size_t len, len2;
	uint8_t *a, *b;
	struct stat st;

	make_dir();
	snprintf(path, sizeof(path), "%s/model.snap", dir);
	ck_assert_int_eq(pfse_snapshot_read(path, NULL, &t), -ENOENT);
	ck_assert_int_eq(pfse_snapshot_write(s, path), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0644);
	ck_assert_int_eq(pfse_snapshot_read(path, NULL, &t), 0);
	a = serialize(s, &len);
	b = serialize(t, &len2);
	ck_assert(len == len2 && memcmp(a, b, len) == 0);
	ck_assert_int_eq((int)st.st_size, (int)len);
	pfse_snapshot_destroy(t);
	/* overwrite with another */
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER, "more", "abc", 3), 0);
	ck_assert_int_eq(pfse_snapshot_write(s, path), 0);
	ck_assert_int_eq(pfse_snapshot_read(path, NULL, &t), 0);
	ck_assert_uint_eq(pfse_snapshot_count(t), 6);
	pfse_snapshot_destroy(t);
	/* a directory is not a snapshot; nor is a truncated file */
	ck_assert_int_eq(pfse_snapshot_read(dir, NULL, &t), -EBADMSG);
	ck_assert_int_eq(truncate(path, 100), 0);
	ck_assert_int_eq(pfse_snapshot_read(path, NULL, &t), -EBADMSG);
	/* nowhere to write: the error of the system call, nothing left behind */
	{
		char p2[600];

		snprintf(p2, sizeof(p2), "%s/no-such-dir/x.snap", dir);
		ck_assert_int_eq(pfse_snapshot_write(s, p2), -ENOENT);
	}
	ck_assert_uint_eq(clean_dir(), 1); /* model.snap only: no temporary file stayed */
	free(a);
	free(b);
	pfse_snapshot_destroy(s);
	pfse_history_destroy(h);
	pfse_predictor_destroy(pred);
}
END_TEST

/* A snapshot of generation `g`: its "gen" section says g; a large section makes a write
 * take long enough to be interrupted in the middle. */
static struct pfse_snapshot *
generation(uint32_t g, size_t big)
{
	struct pfse_snapshot *s;
	uint8_t *blob = malloc(big);

	for (size_t i = 0; i < big; i++)
		blob[i] = (uint8_t)(g * 31 + i * 7);
	ck_assert_int_eq(pfse_snapshot_create(NULL, &s), 0);
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER, "gen", &g, sizeof(g)), 0);
	ck_assert_int_eq(pfse_snapshot_put(s, PFSE_SNAP_USER, "blob", blob, big - g % 64), 0);
	ck_assert_int_eq(pfse_snapshot_put_lstm(s, "lstm", pfse_lstm_default()), 0);
	free(blob);
	return s;
}

START_TEST(crash_while_saving)
{
	const char *env = getenv("PFSE_TEST_CRASHES");
	unsigned crashes = env ? (unsigned)strtoul(env, NULL, 10) : 200, old = 0, new = 0;
	size_t big = 1u << 20;
	uint8_t *want[2];
	size_t wlen[2];
	char path[512];

	struct pfse_snapshot *gen[2];
	struct timespec t0, t1;
	long write_ns;

	make_dir();
	snprintf(path, sizeof(path), "%s/crash.snap", dir);
	for (uint32_t g = 0; g < 2; g++) {
		gen[g] = generation(g, big);
		want[g] = serialize(gen[g], &wlen[g]);
	}
	/* how long a write takes here: kills land anywhere in the first three */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(pfse_snapshot_write(gen[0], path), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	write_ns = (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec);
	for (unsigned k = 0; k < crashes; k++) {
		struct timespec ts = { 0, (long)(rnd() % (uint64_t)(3 * write_ns + 1)) };
		struct pfse_snapshot *t;
		const void *d;
		size_t dl, len;
		uint8_t *got;
		uint32_t g;
		pid_t pid;
		int status;

		fflush(NULL);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			/* the saver: the other generation than the file's, then alternately,
			 * until killed */
			for (uint32_t i = k + 1;; i++)
				if (pfse_snapshot_write(gen[i & 1], path) != 0)
					_exit(3);
		}
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status), "the saver exited (%d) instead of being killed",
			      WEXITSTATUS(status));
		/* every load yields a whole snapshot, the old or the new one */
		ck_assert_int_eq(pfse_snapshot_read(path, NULL, &t), 0);
		ck_assert_int_eq(pfse_snapshot_get(t, PFSE_SNAP_USER, "gen", &d, &dl), 0);
		ck_assert_uint_eq(dl, 4);
		memcpy(&g, d, 4);
		ck_assert_uint_le(g, 1);
		got = serialize(t, &len);
		ck_assert(len == wlen[g] && memcmp(got, want[g], len) == 0);
		free(got);
		pfse_snapshot_destroy(t);
		if (g == 0)
			old++;
		else
			new++;
	}
	fprintf(stderr, "# %u kills while saving (a write takes %ld us): generation 0 found %u "
			"times, 1 %u times\n", crashes, write_ns / 1000, old, new);
	/* the kills did land before, between and after renames */
	ck_assert(crashes < 20 || (old > crashes / 10 && new > crashes / 10));
	pfse_snapshot_destroy(gen[0]);
	pfse_snapshot_destroy(gen[1]);
	clean_dir(); /* the snapshot, and the temporary files the kills left */
	free(want[0]);
	free(want[1]);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("format");
	SRunner *sr;
	int nf;

	/* `malformed` parses every truncation and every bit flip of a snapshot: 9 s under
	 * ThreadSanitizer, past Check's default of 4 */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, sections);
	tcase_add_test(tc, malformed);
	suite_add_tcase(s, tc);
	tc = tcase_create("files");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, files);
	tcase_add_test(tc, crash_while_saving);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
