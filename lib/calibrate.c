/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split-conformal calibration of prediction intervals.
 *
 * The model's interval mean +- z sd assumes normal errors; flow traffic is bursty and
 * heavy-tailed, so its coverage drifts from the level asked. The calibrator keeps the
 * last `window` one-step scores |y - m| / sd (in model units) and answers, for a level,
 * the ceil((n + 1) level)-th smallest of its n scores: the multiplier that covered that
 * share of recent samples. That is split-conformal prediction with normalised scores,
 * whose coverage holds for exchangeable errors whatever their distribution. Answers are
 * cached per level until a score is added (quickselect over a scratch copy otherwise).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "internal.h"
#include "pfse/predict.h"

#define CACHE_LEVELS 4

struct pfse_calibrator {
	double *ring;      /* scores, ring of `window` */
	double *scratch;   /* quickselect work space */
	uint32_t window;
	uint32_t min_scores;
	uint32_t count;    /* scores in the ring */
	uint32_t head;     /* next slot to write */
	struct {
		double level, z;
	} cache[CACHE_LEVELS];
	unsigned ncache;
	struct pfse_allocator alloc;
};

PFSE_API int
pfse_calibrator_create(const struct pfse_calibrator_params *p, struct pfse_calibrator **out)
{
	struct pfse_calibrator_params prm;
	struct pfse_calibrator *c;
	int r;

	if (!p || !out)
		return -EINVAL;
	r = pfse_params_load(&prm, sizeof(prm), offsetof(struct pfse_calibrator_params, window) +
						      sizeof(prm.window), p);
	if (r < 0)
		return r;
	if (prm.window == 0)
		prm.window = 1000;
	if (prm.min_scores == 0)
		prm.min_scores = 50;
	if (prm.window > (1u << 20) || pfse_allocator_check(&prm.allocator) < 0)
		return -EINVAL;
	c = pfse_zalloc(&prm.allocator, sizeof(*c), 64);
	if (!c)
		return -ENOMEM;
	c->alloc = prm.allocator;
	c->ring = pfse_zalloc(&c->alloc, prm.window * sizeof(double), 64);
	c->scratch = pfse_zalloc(&c->alloc, prm.window * sizeof(double), 64);
	if (!c->ring || !c->scratch) {
		pfse_calibrator_destroy(c);
		return -ENOMEM;
	}
	c->window = prm.window;
	c->min_scores = prm.min_scores;
	*out = c;
	return 0;
}

PFSE_API void
pfse_calibrator_destroy(struct pfse_calibrator *cal)
{
	struct pfse_allocator a;

	if (!cal)
		return;
	a = cal->alloc;
	pfse_free(&a, cal->ring);
	pfse_free(&a, cal->scratch);
	pfse_free(&a, cal);
}

PFSE_API int
pfse_calibrator_add(struct pfse_calibrator *cal, double score)
{
	if (!cal || !(score >= 0) || !isfinite(score))
		return -EINVAL;
	cal->ring[cal->head] = score;
	cal->head = cal->head + 1 == cal->window ? 0 : cal->head + 1;
	if (cal->count < cal->window)
		cal->count++;
	cal->ncache = 0;
	return 0;
}

PFSE_API uint32_t
pfse_calibrator_count(struct pfse_calibrator *cal)
{
	return cal ? cal->count : 0;
}

/* The k-th smallest (0-based) of a[0..n) by quickselect (Hoare partitions, median of
 * three pivots); reorders a. */
static double
kth_smallest(double *a, uint32_t n, uint32_t k)
{
	uint32_t lo = 0, hi = n - 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
		double x = a[lo], y = a[mid], z = a[hi], pivot;

		pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				double t = a[i];

				a[i] = a[j];
				a[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return a[k];
	}
	return a[k];
}

PFSE_API int
pfse_calibrator_z(struct pfse_calibrator *cal, double level, double *z)
{
	uint64_t rank;
	double q;

	if (!cal || !z || !(level > 0 && level < 1))
		return -EINVAL;
	if (cal->count < cal->min_scores)
		return pfse_normal_quantile((1 + level) / 2, z);
	for (unsigned i = 0; i < cal->ncache; i++) {
		if (cal->cache[i].level == level) {
			*z = cal->cache[i].z;
			return 0;
		}
	}
	/* ceil((n + 1) level), 1-based; past n (a level too high for the window) the
	 * largest score is the best the window can say. */
	rank = (uint64_t)ceil((cal->count + 1) * level);
	if (rank > cal->count)
		rank = cal->count;
	if (rank == 0)
		rank = 1;
	memcpy(cal->scratch, cal->ring, cal->count * sizeof(double));
	q = kth_smallest(cal->scratch, cal->count, (uint32_t)(rank - 1));
	if (cal->ncache < CACHE_LEVELS) {
		cal->cache[cal->ncache].level = level;
		cal->cache[cal->ncache].z = q;
		cal->ncache++;
	}
	*z = q;
	return 0;
}

PFSE_API int
pfse_calibrator_merge(struct pfse_calibrator *dst, struct pfse_calibrator *src)
{
	uint32_t start;

	if (!dst || !src || dst == src)
		return -EINVAL;
	/* src's scores oldest first */
	start = src->count < src->window ? 0 : src->head;
	for (uint32_t i = 0; i < src->count; i++)
		pfse_calibrator_add(dst, src->ring[(start + i) % src->window]);
	return 0;
}
