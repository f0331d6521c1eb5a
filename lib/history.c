/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-class history: aggregates of finished flows and the class aggregate series, the
 * source of the prior a new flow starts from (predict.h), mergeable across worker
 * threads and serialisable.
 *
 * Everything is preallocated: `max_classes` class records, their series, and a
 * dictionary (open addressing, twice as many entries as classes) from class key to
 * slot. Histograms are log-scale with 4 bins per octave (bin = 4 floor(log2 v) + the two
 * bits after the leading one), so they merge by addition and give quantiles within one
 * bin (a factor 2^(1/4)). Counts are 32-bit and saturate.
 *
 * The serialised form is little-endian whatever the host, so a history saved on one
 * machine loads on any other: magic "PFSEHIS1", format version, the parameters that
 * must match, the classes, and an XXH3-64 checksum of all that precedes it. Loading
 * checks the whole buffer before touching the history.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "internal.h"
#include "history_priv.h"
#include "le.h"

#define FORMAT_VERSION 1u
#define MAGIC "PFSEHIS1"
#define HDR_BYTES (8 + 4 + 4 + 8 + 8 + 4 + 4)
#define CLASS_FIXED_BYTES (4 + 4 + 8 + 8 + 8 + 8 + 8 + 8 + 8 + 8 + 4 + 4)

struct hclass {
	uint32_t key;
	uint32_t priority;
	uint8_t used;
	uint8_t series_valid;
	uint64_t flows, elephants;
	uint32_t live[64];        /* live flows by the octave of their bytes so far (not
				     serialised or merged) */
	uint32_t closing[64];     /* live flows that closed (FIN, RST), same */
	uint32_t fin_oct[64];     /* hist[H_SIZE] summed by octave (4 bins each) */
	uint32_t top;             /* no octave above this one holds a flow */
	double rate_sum, rate_sq;
	double cx_sum;
	uint64_t cx_n;
	uint64_t first_iv;        /* first interval index seen in the series */
	uint64_t newest_iv;       /* newest interval index seen in the series */
	uint32_t hist[3][PFSE_HIST_BINS]; /* size, duration, peak */
};

enum { H_SIZE, H_DURATION, H_PEAK };

struct pfse_history {
	struct hclass *cls;
	double *series;           /* max_classes x series_len */
	uint32_t *dict;           /* slot + 1 per entry, 0 = empty */
	uint32_t dict_mask;
	uint32_t max_classes;
	uint32_t series_len;
	uint32_t used;            /* slots in use (slot 0 always) */
	uint64_t interval;
	uint64_t elephant_bytes;
	pfse_classify_fn classify;
	void *classify_user;
	struct pfse_allocator alloc;
};

static inline uint32_t
dict_hash(uint32_t key)
{
	uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32);
}

static inline double *
series_of(struct pfse_history *h, uint32_t slot)
{
	return h->series + (size_t)slot * h->series_len;
}

PFSE_API int
pfse_history_create(const struct pfse_history_params *p, struct pfse_history **out)
{
	struct pfse_history_params prm;
	struct pfse_history *h;
	uint32_t dsize = 1;
	int r;

	if (!p || !out)
		return -EINVAL;
	r = pfse_params_load(&prm, sizeof(prm), offsetof(struct pfse_history_params, max_classes) +
						      sizeof(prm.max_classes), p);
	if (r < 0)
		return r;
	if (prm.max_classes == 0)
		prm.max_classes = 1024;
	if (prm.series_len == 0)
		prm.series_len = 64;
	if (prm.interval_ns == 0)
		prm.interval_ns = 100000000ull;
	if (prm.elephant_bytes == 0)
		prm.elephant_bytes = 1ull << 20;
	if (prm.max_classes < 2 || prm.max_classes > 65536 || prm.series_len > 4096 ||
	    pfse_allocator_check(&prm.allocator) < 0)
		return -EINVAL;
	while (dsize < 2 * prm.max_classes)
		dsize <<= 1;
	h = pfse_zalloc(&prm.allocator, sizeof(*h), 64);
	if (!h)
		return -ENOMEM;
	h->alloc = prm.allocator;
	h->cls = pfse_zalloc(&h->alloc, (size_t)prm.max_classes * sizeof(struct hclass), 64);
	h->series = pfse_zalloc(&h->alloc,
				(size_t)prm.max_classes * prm.series_len * sizeof(double), 64);
	h->dict = pfse_zalloc(&h->alloc, (size_t)dsize * sizeof(uint32_t), 64);
	if (!h->cls || !h->series || !h->dict) {
		pfse_history_destroy(h);
		return -ENOMEM;
	}
	h->dict_mask = dsize - 1;
	h->max_classes = prm.max_classes;
	h->series_len = prm.series_len;
	h->interval = prm.interval_ns;
	h->elephant_bytes = prm.elephant_bytes;
	h->classify = prm.classify;
	h->classify_user = prm.classify_user;
	h->cls[0].used = 1;
	h->cls[0].key = PFSE_CLASS_OTHER;
	h->used = 1;
	*out = h;
	return 0;
}

PFSE_API void
pfse_history_destroy(struct pfse_history *h)
{
	struct pfse_allocator a;

	if (!h)
		return;
	a = h->alloc;
	pfse_free(&a, h->cls);
	pfse_free(&a, h->series);
	pfse_free(&a, h->dict);
	pfse_free(&a, h);
}

/* The slot of a class key, taking a free one if `create`; 0 (overflow) when full. */
static uint32_t
slot_of(struct pfse_history *h, uint32_t key, uint32_t priority, int create, int *found)
{
	uint32_t i = dict_hash(key) & h->dict_mask;

	*found = 1;
	if (key == PFSE_CLASS_OTHER)
		return 0;
	for (;;) {
		uint32_t e = h->dict[i];

		if (e == 0)
			break;
		if (h->cls[e - 1].key == key)
			return e - 1;
		i = (i + 1) & h->dict_mask;
	}
	*found = 0;
	if (!create || h->used == h->max_classes)
		return 0;
	h->cls[h->used].used = 1;
	h->cls[h->used].key = key;
	h->cls[h->used].priority = priority;
	/* live flows of a slot numbering from before a load() may have counted here */
	memset(h->cls[h->used].live, 0, sizeof(h->cls[h->used].live));
	memset(h->cls[h->used].closing, 0, sizeof(h->cls[h->used].closing));
	h->cls[h->used].top = 0;
	h->dict[i] = h->used + 1;
	return h->used++;
}

static inline uint16_t
be16(uint16_t v)
{
	const uint8_t *b = (const uint8_t *)&v;

	return (uint16_t)(b[0] << 8 | b[1]);
}

PFSE_API int
pfse_history_classify(struct pfse_history *h, const struct pfse_flow_key *key, uint32_t *slot,
		      uint32_t *priority)
{
	uint32_t ck, prio = 0;
	int found;

	if (!h || !key || !slot)
		return -EINVAL;
	if (!h->classify || h->classify(key, &ck, &prio, h->classify_user) < 0) {
		uint16_t sp = be16(key->sport), dp = be16(key->dport), server;

		prio = 0;
		if (key->proto == 1 || key->proto == 58)
			server = 0; /* ICMP "ports" are identifiers and types */
		else if (sp && dp)
			server = sp < dp ? sp : dp;
		else
			server = sp ? sp : dp;
		ck = (uint32_t)key->proto << 16 | server;
	}
	*slot = slot_of(h, ck, prio, 1, &found);
	if (priority)
		*priority = h->cls[*slot].priority;
	return 0;
}

PFSE_API int
pfse_history_class_key(struct pfse_history *h, uint32_t slot, uint32_t *class_key)
{
	if (!h || !class_key)
		return -EINVAL;
	if (slot >= h->max_classes || !h->cls[slot].used)
		return -ENOENT;
	*class_key = h->cls[slot].key;
	return 0;
}

static inline unsigned
bin_of(uint64_t v)
{
	unsigned e, frac;

	if (v < 2)
		return 0;
	e = 63u - (unsigned)__builtin_clzll(v);
	frac = e >= 2 ? (unsigned)(v >> (e - 2)) & 3u : (unsigned)(v << (2 - e)) & 3u;
	return 4 * e + frac;
}

/* The geometric middle of a bin: 2^e (1 + frac / 4 + 1 / 8). */
static inline double
bin_mid(unsigned b)
{
	if (b == 0)
		return 1.0;
	return ldexp(1.0 + (b & 3) / 4.0 + 0.125, (int)(b / 4));
}

static inline void
hist_add(uint32_t *hist, uint64_t v, uint64_t n)
{
	uint64_t c = (uint64_t)hist[bin_of(v)] + n;

	hist[bin_of(v)] = c > 0xffffffffull ? 0xffffffffu : (uint32_t)c;
}

static double
hist_quantile(const uint32_t *hist, double q)
{
	uint64_t total = 0, acc = 0, target;

	for (unsigned b = 0; b < PFSE_HIST_BINS; b++)
		total += hist[b];
	if (total == 0)
		return 0;
	target = (uint64_t)ceil(q * (double)total);
	if (target == 0)
		target = 1;
	for (unsigned b = 0; b < PFSE_HIST_BINS; b++) {
		acc += hist[b];
		if (acc >= target)
			return bin_mid(b);
	}
	return bin_mid(PFSE_HIST_BINS - 1);
}

static inline int
slot_ok(struct pfse_history *h, uint32_t slot)
{
	return slot < h->max_classes && h->cls[slot].used;
}

PFSE_API int
pfse_history_absorb(struct pfse_history *h, uint32_t slot, const struct pfse_flow_summary *s)
{
	struct pfse_flow_summary fs;
	struct hclass *c;
	double r;

	if (!h || !s)
		return -EINVAL;
	pfse_flow_summary_init(&fs);
	if (pfse_params_load(&fs, sizeof(fs), offsetof(struct pfse_flow_summary, bytes) +
						      sizeof(fs.bytes), s) < 0)
		return -EINVAL;
	if (!isfinite(fs.complexity_sum) || fs.complexity_sum < 0)
		return -EINVAL;
	if (!slot_ok(h, slot))
		return -ENOENT;
	c = &h->cls[slot];
	c->flows++;
	c->elephants += fs.bytes >= h->elephant_bytes;
	r = (double)fs.first_interval_bytes;
	c->rate_sum += r;
	c->rate_sq += r * r;
	c->cx_sum += fs.complexity_sum;
	c->cx_n += fs.complexity_n;
	hist_add(c->hist[H_SIZE], fs.bytes, 1);
	{
		unsigned j = pfse_octave(fs.bytes);

		if (c->fin_oct[j] < UINT32_MAX)
			c->fin_oct[j]++;
		if (j > c->top)
			c->top = j;
	}
	hist_add(c->hist[H_DURATION], fs.duration_ns, 1);
	hist_add(c->hist[H_PEAK], fs.peak_interval_bytes, 1);
	return 0;
}

/* Adds v at an interval of a class's series, moving its window forward if needed. */
static void
series_add(struct pfse_history *h, uint32_t slot, uint64_t interval, double v)
{
	struct hclass *c = &h->cls[slot];
	double *s = series_of(h, slot);

	if (h->series_len == 0)
		return;
	if (!c->series_valid) {
		c->series_valid = 1;
		c->first_iv = interval;
		c->newest_iv = interval;
		memset(s, 0, h->series_len * sizeof(double));
	} else if (interval > c->newest_iv) {
		uint64_t gap = interval - c->newest_iv;

		/* zero the intervals the window moves over */
		for (uint64_t k = 1; k <= gap && k <= h->series_len; k++)
			s[(c->newest_iv + k) % h->series_len] = 0;
		c->newest_iv = interval;
	} else if (c->newest_iv - interval >= h->series_len) {
		return; /* older than the window */
	}
	if (interval < c->first_iv)
		c->first_iv = interval;
	s[interval % h->series_len] += v;
}

PFSE_API int
pfse_history_add_interval(struct pfse_history *h, uint32_t slot, uint64_t interval,
			  uint64_t bytes)
{
	if (!h)
		return -EINVAL;
	if (!slot_ok(h, slot))
		return -ENOENT;
	series_add(h, slot, interval, (double)bytes);
	return 0;
}

PFSE_API int
pfse_history_series(struct pfse_history *h, uint32_t slot, unsigned max, double out[])
{
	struct hclass *c;
	uint64_t n;
	double *s;

	if (!h || (max > 0 && !out))
		return -EINVAL;
	if (!slot_ok(h, slot))
		return -ENOENT;
	c = &h->cls[slot];
	if (!c->series_valid || h->series_len < 2)
		return 0;
	s = series_of(h, slot);
	/* complete intervals since the first seen: the newest is still open */
	n = h->series_len - 1;
	if (n > c->newest_iv - c->first_iv)
		n = c->newest_iv - c->first_iv;
	if (n > max)
		n = max;
	for (uint64_t j = 0; j < n; j++) {
		uint64_t iv = c->newest_iv - n + j;

		out[j] = s[iv % h->series_len];
	}
	return (int)n;
}

PFSE_API int
pfse_history_prior(struct pfse_history *h, uint32_t slot, struct pfse_class_prior *out)
{
	struct pfse_class_prior p;
	const struct hclass *c;

	if (!h || !out || out->size < sizeof(size_t) || out->size > PFSE_PARAMS_SIZE_MAX)
		return -EINVAL;
	if (!slot_ok(h, slot))
		return -ENOENT;
	c = &h->cls[slot];
	memset(&p, 0, sizeof(p));
	p.size = out->size;
	p.flows = c->flows;
	if (c->flows) {
		double mean = c->rate_sum / (double)c->flows;
		double var = c->rate_sq / (double)c->flows - mean * mean;

		p.rate = mean;
		p.rate_variance = var > 0 ? var : 0;
	}
	p.p_elephant = ((double)c->elephants + 1) / ((double)c->flows + 2);
	p.size_median = c->flows ? hist_quantile(c->hist[H_SIZE], 0.5) : 0;
	p.size_p90 = c->flows ? hist_quantile(c->hist[H_SIZE], 0.9) : 0;
	p.duration_median = c->flows ? hist_quantile(c->hist[H_DURATION], 0.5) : 0;
	p.peak_p90 = c->flows ? hist_quantile(c->hist[H_PEAK], 0.9) : 0;
	p.complexity = c->cx_n ? c->cx_sum / (double)c->cx_n : 0;
	p.priority = c->priority;
	memcpy(out, &p, out->size < sizeof(p) ? out->size : sizeof(p));
	if (out->size > sizeof(p))
		memset((uint8_t *)out + sizeof(p), 0, out->size - sizeof(p));
	return 0;
}

void
pfse_history_prior_fast(const struct pfse_history *h, uint32_t slot, double *rate, double *var,
			double *p_elephant, double *complexity)
{
	const struct hclass *c = &h->cls[slot];
	double n = (double)c->flows;

	*rate = n > 0 ? c->rate_sum / n : 0;
	*var = n > 0 ? c->rate_sq / n - *rate * *rate : 0;
	if (*var < 0)
		*var = 0;
	*p_elephant = ((double)c->elephants + 1) / (n + 2);
	*complexity = c->cx_n ? c->cx_sum / (double)c->cx_n : 0;
}

double
pfse_history_p_elephant_scan(const struct pfse_history *h, uint32_t slot, uint64_t sent,
			     double p_enter, unsigned *shunt_octave)
{
	const struct hclass *c = &h->cls[slot];
	unsigned jb = pfse_octave(sent), je = pfse_octave(h->elephant_bytes), low = 64;
	unsigned stop = shunt_octave ? 0 : jb;
	uint64_t at_risk = 0, decided = 0;
	double s = 1, p = 1;
	int run = 1; /* every octave from je down to j had p >= p_enter */

	/* from the top down: at_risk = the flows that reached octave j (finished with a size
	 * of at least 2^j, or live with at least 2^j so far); decided = those that reached
	 * octave j and then ended or passed elephant_bytes' octave */
	for (unsigned j = c->top > je ? c->top : je; j + 1 > stop; j--) {
		uint64_t ended = (uint64_t)c->fin_oct[j] + c->closing[j];
		double pj;

		at_risk += ended + c->live[j];
		decided += ended + (j >= je ? c->live[j] : 0);
		if (j < je && at_risk > 0)
			s *= 1 - (double)ended / (double)at_risk;
		if (j > je)
			continue;
		/* (a flow that has sent 2^j >= elephant_bytes is one) */
		if ((1ull << j) >= h->elephant_bytes)
			pj = 1;
		else
			pj = ((double)decided * s + 1) / ((double)decided + 2);
		if (j == jb)
			p = pj;
		if (run && pj >= p_enter)
			low = j;
		else
			run = 0;
	}
	if (shunt_octave)
		*shunt_octave = low;
	return sent >= h->elephant_bytes ? 1 : p;
}

double
pfse_history_p_elephant_at(const struct pfse_history *h, uint32_t slot, uint64_t sent)
{
	return pfse_history_p_elephant_scan(h, slot, sent, 2, NULL);
}

void
pfse_history_live_move(struct pfse_history *h, uint32_t slot, int from, int to)
{
	struct hclass *c = &h->cls[slot];
	int cf = from >= 64, ct = to >= 64;
	uint32_t *a = cf ? c->closing : c->live, *b = ct ? c->closing : c->live;

	from -= cf ? 64 : 0;
	to -= ct ? 64 : 0;
	if (from >= 0 && from < 64 && a[from] > 0)
		a[from]--;
	if (to >= 0 && to < 64 && b[to] < UINT32_MAX) {
		b[to]++;
		if ((uint32_t)to > c->top)
			c->top = (uint32_t)to;
	}
}

/* A class's octave sums of flow size, from its size histogram (after a merge or load). */
static void
octaves_from_hist(struct hclass *c)
{
	for (unsigned j = 0; j < 64; j++) {
		const uint32_t *bin = &c->hist[H_SIZE][4 * j];
		uint64_t n = (uint64_t)bin[0] + bin[1] + bin[2] + bin[3];

		c->fin_oct[j] = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
		if (n && j > c->top)
			c->top = j;
	}
}

static void
merge_class(struct pfse_history *dst, uint32_t ds, const struct pfse_history *src,
	    uint32_t ss)
{
	struct hclass *d = &dst->cls[ds];
	const struct hclass *s = &src->cls[ss];
	const double *sv = src->series + (size_t)ss * src->series_len;

	d->flows += s->flows;
	d->elephants += s->elephants;
	d->rate_sum += s->rate_sum;
	d->rate_sq += s->rate_sq;
	d->cx_sum += s->cx_sum;
	d->cx_n += s->cx_n;
	for (unsigned k = 0; k < 3; k++)
		for (unsigned b = 0; b < PFSE_HIST_BINS; b++) {
			uint64_t c = (uint64_t)d->hist[k][b] + s->hist[k][b];

			d->hist[k][b] = c > 0xffffffffull ? 0xffffffffu : (uint32_t)c;
		}
	octaves_from_hist(d);
	if (s->series_valid && src->series_len > 0) {
		uint64_t oldest = s->newest_iv - s->first_iv >= src->series_len
					  ? s->newest_iv - src->series_len + 1
					  : s->first_iv;

		for (uint64_t iv = oldest; iv <= s->newest_iv; iv++)
			series_add(dst, ds, iv, sv[iv % src->series_len]);
	}
}

PFSE_API int
pfse_history_merge(struct pfse_history *dst, struct pfse_history *src)
{
	if (!dst || !src || dst == src || dst->interval != src->interval ||
	    dst->elephant_bytes != src->elephant_bytes || dst->series_len != src->series_len)
		return -EINVAL;
	for (uint32_t i = 0; i < src->used; i++) {
		int found;
		uint32_t ds = slot_of(dst, src->cls[i].key, src->cls[i].priority, 1, &found);

		merge_class(dst, ds, src, i);
	}
	return 0;
}

/* ---- serialisation ------------------------------------------------------------------- */

static size_t
class_bytes(const struct pfse_history *h)
{
	return CLASS_FIXED_BYTES + 3 * PFSE_HIST_BINS * 4 + (size_t)h->series_len * 8;
}

PFSE_API int
pfse_history_save(struct pfse_history *h, void *buf, size_t len, size_t *out)
{
	size_t need;
	uint8_t *p;

	if (!h || !out || (len > 0 && !buf))
		return -EINVAL;
	need = HDR_BYTES + (size_t)h->used * class_bytes(h) + 8;
	*out = need;
	if (!buf || len < need)
		return -ENOSPC;
	p = buf;
	memcpy(p, MAGIC, 8);
	p += 8;
	put32(&p, FORMAT_VERSION);
	put32(&p, HDR_BYTES);
	put64(&p, h->interval);
	put64(&p, h->elephant_bytes);
	put32(&p, h->series_len);
	put32(&p, h->used);
	for (uint32_t i = 0; i < h->used; i++) {
		const struct hclass *c = &h->cls[i];
		const double *s = series_of(h, i);

		put32(&p, c->key);
		put32(&p, c->priority);
		put64(&p, c->flows);
		put64(&p, c->elephants);
		putd(&p, c->rate_sum);
		putd(&p, c->rate_sq);
		putd(&p, c->cx_sum);
		put64(&p, c->cx_n);
		put64(&p, c->first_iv);
		put64(&p, c->newest_iv);
		put32(&p, c->series_valid);
		put32(&p, 0);
		for (unsigned k = 0; k < 3; k++)
			for (unsigned b = 0; b < PFSE_HIST_BINS; b++)
				put32(&p, c->hist[k][b]);
		for (uint32_t j = 0; j < h->series_len; j++)
			putd(&p, s[j]);
	}
	put64(&p, XXH3_64bits(buf, (size_t)(p - (uint8_t *)buf)));
	return 0;
}

/* Checks one serialised class; -EBADMSG if any value is out of its domain. */
static int
check_class(const uint8_t *p, uint32_t series_len)
{
	const uint8_t *q = p;
	uint64_t flows, eleph, first, newest;
	double rs, rq, cx;
	uint32_t valid, pad;

	get32(&q);
	get32(&q);
	flows = get64(&q);
	eleph = get64(&q);
	rs = getd(&q);
	rq = getd(&q);
	cx = getd(&q);
	get64(&q); /* cx_n */
	first = get64(&q);
	newest = get64(&q);
	valid = get32(&q);
	pad = get32(&q);
	if (eleph > flows || !isfinite(rs) || !isfinite(rq) || !isfinite(cx) || rs < 0 ||
	    rq < 0 || cx < 0 || valid > 1 || pad != 0 || first > newest)
		return -EBADMSG;
	q += 3 * PFSE_HIST_BINS * 4;
	for (uint32_t j = 0; j < series_len; j++) {
		double v = getd(&q);

		if (!isfinite(v) || v < 0)
			return -EBADMSG;
	}
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* -EBADMSG if two serialised classes have the same key (sorts a copy of the keys). */
static int
check_unique(struct pfse_history *h, const uint8_t *cls0, size_t cb, uint32_t n)
{
	uint32_t *keys = pfse_zalloc(&h->alloc, (size_t)n * sizeof(uint32_t), 64);
	int r = 0;

	if (!keys)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *q = cls0 + (size_t)i * cb;

		keys[i] = get32(&q);
	}
	qsort(keys, n, sizeof(*keys), cmp_u32);
	for (uint32_t i = 1; i < n; i++)
		if (keys[i] == keys[i - 1])
			r = -EBADMSG;
	pfse_free(&h->alloc, keys);
	return r;
}

/* The checks that need no history: format, lengths, checksum, every class. Fills the
 * header's fields. */
static int
check_buf(const void *buf, size_t len, uint64_t *interval, uint64_t *eleph,
	  uint32_t *series_len, uint32_t *nused, size_t *cb, const uint8_t **cls0)
{
	const uint8_t *p = buf;
	uint32_t version, hdr;

	if (len < HDR_BYTES + 8 || memcmp(p, MAGIC, 8) != 0)
		return -EBADMSG;
	p += 8;
	version = get32(&p);
	if (version != FORMAT_VERSION)
		return -EPROTO;
	hdr = get32(&p);
	if (hdr != HDR_BYTES)
		return -EBADMSG;
	*interval = get64(&p);
	*eleph = get64(&p);
	*series_len = get32(&p);
	*nused = get32(&p);
	if (*series_len > 4096 || *nused == 0 || *nused > 65536)
		return -EBADMSG;
	*cb = CLASS_FIXED_BYTES + 3 * PFSE_HIST_BINS * 4 + (size_t)*series_len * 8;
	if (len != HDR_BYTES + (size_t)*nused * *cb + 8)
		return -EBADMSG;
	{
		const uint8_t *end = (const uint8_t *)buf + len - 8;

		if (get64(&end) != XXH3_64bits(buf, len - 8))
			return -EILSEQ;
	}
	*cls0 = p;
	for (uint32_t i = 0; i < *nused; i++) {
		const uint8_t *q = p + i * *cb;
		uint32_t key = get32(&q);
		int r = check_class(p + i * *cb, *series_len);

		if (r < 0)
			return r;
		if ((i == 0) != (key == PFSE_CLASS_OTHER))
			return -EBADMSG; /* slot 0, and only slot 0, is the overflow class */
	}
	return 0;
}

int
pfse_history_check(const void *buf, size_t len)
{
	uint64_t interval, eleph;
	uint32_t series_len, nused;
	const uint8_t *cls0;
	size_t cb;

	if (!buf)
		return -EINVAL;
	return check_buf(buf, len, &interval, &eleph, &series_len, &nused, &cb, &cls0);
}

PFSE_API int
pfse_history_load(struct pfse_history *h, const void *buf, size_t len)
{
	const uint8_t *cls0;
	uint32_t series_len, nused;
	uint64_t interval, eleph;
	size_t cb;
	int r;

	if (!h || !buf)
		return -EINVAL;
	r = check_buf(buf, len, &interval, &eleph, &series_len, &nused, &cb, &cls0);
	if (r < 0)
		return r;
	if (interval != h->interval || eleph != h->elephant_bytes || series_len != h->series_len)
		return -EINVAL;
	if (nused > h->max_classes)
		return -ENOSPC;
	r = check_unique(h, cls0, cb, nused);
	if (r < 0)
		return r;
	/* Valid: replace. Nothing below can fail. */
	memset(h->cls, 0, (size_t)h->max_classes * sizeof(struct hclass));
	memset(h->series, 0, (size_t)h->max_classes * h->series_len * sizeof(double));
	memset(h->dict, 0, ((size_t)h->dict_mask + 1) * sizeof(uint32_t));
	h->used = 0;
	for (uint32_t i = 0; i < nused; i++) {
		const uint8_t *q = cls0 + i * cb;
		uint32_t key = get32(&q), prio = get32(&q), slot;
		struct hclass *c;
		int found;

		if (i == 0) {
			slot = 0;
			h->used = 1;
		} else {
			slot = slot_of(h, key, prio, 1, &found);
		}
		c = &h->cls[slot];
		c->used = 1;
		c->key = key;
		c->priority = prio;
		c->flows = get64(&q);
		c->elephants = get64(&q);
		c->rate_sum = getd(&q);
		c->rate_sq = getd(&q);
		c->cx_sum = getd(&q);
		c->cx_n = get64(&q);
		c->first_iv = get64(&q);
		c->newest_iv = get64(&q);
		c->series_valid = (uint8_t)get32(&q);
		get32(&q);
		for (unsigned k = 0; k < 3; k++)
			for (unsigned b = 0; b < PFSE_HIST_BINS; b++)
				c->hist[k][b] = get32(&q);
		octaves_from_hist(c);
		for (uint32_t j = 0; j < series_len; j++)
			series_of(h, slot)[j] = getd(&q);
	}
	return 0;
}
