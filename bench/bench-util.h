/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Timing helpers for pfse-bench: a monotonic clock in ns and the median of a run of
 * samples. Kept tiny and header-only so each bench source can use them.
 */
#ifndef PFSE_BENCH_UTIL_H
#define PFSE_BENCH_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of n samples; sorts them in place. */
static inline double
bench_median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Frames loaded from a capture, for the parse and hash cases and their baselines. */
struct bench_frame {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wirelen;
};

#endif /* PFSE_BENCH_UTIL_H */
