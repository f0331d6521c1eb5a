/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Automatic model choice: exact scaled errors on series whose forecasts are known, the
 * right backend chosen for trending, noisy-level and random-walk classes, the default
 * while too few samples, hysteresis, pins, horizons, sampling and the shadow pool, merge,
 * and every invalid argument.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pfse/pfse.h>

#include "test-util.h"

enum { C_NAIVE, C_SES, C_HOLT, NCAND };

static struct pfse_predictor *cands[NCAND];

static void
setup(void)
{
	static const char *names[NCAND] = { "naive", "ses", "holt" };
	struct pfse_model_params m;

	for (unsigned c = 0; c < NCAND; c++) {
		struct pfse_predictor_params p;

		pfse_model_params_init(&m);
		m.alpha = c == C_SES ? 0.1 : 0.5;
		m.beta = 0.1;
		pfse_predictor_params_init(&p);
		p.ops = pfse_predictor_backend(names[c]);
		p.model = &m;
		ck_assert_int_eq(pfse_predictor_create(&p, &cands[c]), 0);
	}
}

static void
teardown(void)
{
	for (unsigned c = 0; c < NCAND; c++)
		pfse_predictor_destroy(cands[c]);
}

static struct pfse_selector *
mksel(uint32_t horizon, uint32_t min_samples, double margin)
{
	struct pfse_selector_params p;
	struct pfse_selector *s = NULL;

	pfse_selector_params_init(&p);
	p.candidates = cands;
	p.n_candidates = NCAND;
	p.classes = 8;
	p.shadow_flows = 16;
	p.sample_every = 1;
	p.horizon = horizon;
	p.min_samples = min_samples;
	p.margin = margin;
	ck_assert_int_eq(pfse_selector_create(&p, &s), 0);
	return s;
}

static struct pfse_selection
report(struct pfse_selector *s, uint32_t k)
{
	struct pfse_selection r;

	r.size = sizeof(r);
	ck_assert_int_eq(pfse_selector_report(s, k, &r), 0);
	return r;
}

/* Runs one flow of class k through the selector. */
static void
run_flow(struct pfse_selector *s, uint32_t k, const struct pfse_prior *prior, const double *y,
	 unsigned n)
{
	uint32_t id;

	ck_assert_int_eq(pfse_selector_shadow_begin(s, k, 0, prior, &id), 0);
	for (unsigned i = 0; i < n; i++)
		ck_assert_int_eq(pfse_selector_shadow_observe(s, id, y[i]), 0);
	ck_assert_int_eq(pfse_selector_shadow_end(s, id), 0);
}

START_TEST(exact_scaled_errors)
{
	/* x_t = 10 + 3t. With a prior on the line, holt forecasts it exactly at any horizon;
	 * naive misses by 3h, and the scale (mean one-step change) is 3: naive's MASE is h,
	 * holt's exactly 0. */
	static const unsigned horizons[] = { 1, 5 };
	struct pfse_prior pr;
	double y[60];

	for (unsigned i = 0; i < 60; i++)
		y[i] = 10 + 3.0 * i;
	pfse_prior_init(&pr);
	pr.level = 7;
	pr.trend = 3;
	for (unsigned j = 0; j < 2; j++) {
		unsigned h = horizons[j];
		struct pfse_selector *s = mksel(h, 10, 0);
		struct pfse_selection r;
		struct pfse_selector_stats st;

		run_flow(s, 3, &pr, y, 60);
		r = report(s, 3);
		/* (exact up to the rounding of the forgetting sums) */
		ck_assert_msg(fabs(r.mase[C_NAIVE] - h) < 1e-12, "naive %.17g", r.mase[C_NAIVE]);
		ck_assert(r.mase[C_HOLT] == 0.0);
		ck_assert(r.mase[C_SES] > 1.0);
		ck_assert_uint_eq(r.choice, C_HOLT);
		ck_assert_uint_eq(r.reason, PFSE_SELECT_R_BEST);
		ck_assert_uint_eq(r.n_candidates, NCAND);
		ck_assert(r.mase[NCAND] == -1);
		/* scored from sample max(2, h) on */
		ck_assert_uint_eq(r.samples, 60 - (h > 2 ? h : 2));
		/* the global choice left the default for holt; the class's own first
		 * choice started from the global one, so only the global switched */
		ck_assert_uint_eq(r.switches, 0);
		ck_assert_uint_eq(report(s, PFSE_SELECT_GLOBAL).switches, 1);
		ck_assert_uint_eq(report(s, PFSE_SELECT_GLOBAL).choice, C_HOLT);
		st.size = sizeof(st);
		ck_assert_int_eq(pfse_selector_stats(s, &st), 0);
		ck_assert_uint_eq(st.samples, 60);
		ck_assert_uint_eq(st.scored, r.samples);
		ck_assert_uint_eq(st.shadowed, 1);
		ck_assert_uint_eq(st.active, 0);
		/* other classes have no samples of their own: they use the global choice */
		r = report(s, 2);
		ck_assert_uint_eq(r.samples, 0);
		ck_assert_uint_eq(r.choice, C_HOLT);
		ck_assert_uint_eq(r.reason, PFSE_SELECT_R_GLOBAL);
		ck_assert_int_eq(pfse_selector_choice(s, 2), C_HOLT);
		ck_assert(r.mase[0] == -1);
		pfse_selector_destroy(s);
	}
}
END_TEST

/* Normal deviates (Box-Muller over xorshift). */
static uint64_t rs = 0x9e3779b97f4a7c15ull;

static double
unif(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return ((double)(rs >> 11) + 0.5) / 9007199254740992.0;
}

static double
gauss(void)
{
	return sqrt(-2 * log(unif())) * cos(2 * M_PI * unif());
}

START_TEST(right_backend_per_class)
{
	struct pfse_selector *s = mksel(1, 200, 0.05);
	double y[80];

	/* class 1: trending flows; class 2: a noisy level; class 3: random walks; each
	 * flow starts from its class's prior, as the history would give it */
	for (unsigned f = 0; f < 40; f++) {
		double slope = 50 + 10 * f, walk = 5000;
		struct pfse_prior pr;

		pfse_prior_init(&pr);
		pr.level = 1000;
		for (unsigned i = 0; i < 80; i++)
			y[i] = 1000 + slope * i + 20 * gauss();
		run_flow(s, 1, &pr, y, 80);
		for (unsigned i = 0; i < 80; i++)
			y[i] = 1000 + 200 * gauss();
		run_flow(s, 2, &pr, y, 80);
		pr.level = walk;
		for (unsigned i = 0; i < 80; i++) {
			walk += 300 * gauss();
			y[i] = walk > 0 ? walk : 0;
		}
		run_flow(s, 3, &pr, y, 80);
	}
	struct pfse_selection r1 = report(s, 1), r2 = report(s, 2), r3 = report(s, 3);

	ck_assert_msg(r1.choice == C_HOLT, "trend: %u (%g %g %g)", r1.choice, r1.mase[0],
		      r1.mase[1], r1.mase[2]);
	ck_assert_msg(r2.choice == C_SES, "level: %u (%g %g %g)", r2.choice, r2.mase[0],
		      r2.mase[1], r2.mase[2]);
	ck_assert_msg(r3.choice == C_NAIVE, "walk: %u (%g %g %g)", r3.choice, r3.mase[0],
		      r3.mase[1], r3.mase[2]);
	/* on a random walk naive's MASE is near 1 */
	ck_assert(r3.mase[C_NAIVE] > 0.8 && r3.mase[C_NAIVE] < 1.25);
	ck_assert(r2.mase[C_SES] < 0.8 * r2.mase[C_NAIVE]);
	ck_assert_int_eq(pfse_selector_choice(s, 1), C_HOLT);
	ck_assert_int_eq(pfse_selector_choice(s, 2), C_SES);
	ck_assert_int_eq(pfse_selector_choice(s, 3), C_NAIVE);
	pfse_selector_destroy(s);
}
END_TEST

START_TEST(default_hysteresis_and_pins)
{
	struct pfse_selector *s = mksel(1, 100, 0), *h = mksel(1, 10, 0.99);
	struct pfse_prior pr;
	struct pfse_selection r;
	double y[60];

	for (unsigned i = 0; i < 60; i++)
		y[i] = 10 + 3.0 * i;
	pfse_prior_init(&pr);
	pr.level = 7;
	pr.trend = 3;
	/* 58 scored samples < 100, in the class and overall: still the default */
	run_flow(s, 1, &pr, y, 60);
	r = report(s, 1);
	ck_assert_uint_eq(r.choice, 0);
	ck_assert_uint_eq(r.reason, PFSE_SELECT_R_DEFAULT);
	/* 58 more in another class: overall there are enough, in each class not */
	run_flow(s, 4, &pr, y, 60);
	ck_assert_uint_eq(report(s, PFSE_SELECT_GLOBAL).reason, PFSE_SELECT_R_BEST);
	r = report(s, 1);
	ck_assert_uint_eq(r.choice, C_HOLT);
	ck_assert_uint_eq(r.reason, PFSE_SELECT_R_GLOBAL);
	ck_assert_uint_eq(report(s, 4).reason, PFSE_SELECT_R_GLOBAL);
	run_flow(s, 1, &pr, y, 60);
	r = report(s, 1);
	ck_assert_uint_eq(r.choice, C_HOLT);
	ck_assert_uint_eq(r.reason, PFSE_SELECT_R_BEST);
	/* with a 99% margin, holt (error 0 vs 1) still wins... */
	run_flow(h, 1, &pr, y, 60);
	ck_assert_uint_eq(report(h, 1).choice, C_HOLT);
	pfse_selector_destroy(h);
	/* ...but a challenger that is better by less than the margin does not displace
	 * the current choice: ses against naive on a noisy level */
	{
		struct pfse_selector_params p;
		struct pfse_selector *two = NULL;
		struct pfse_prior lv;
		double w[60];

		pfse_selector_params_init(&p);
		p.candidates = cands;
		p.n_candidates = 2;
		p.classes = 4;
		p.sample_every = 1;
		p.min_samples = 10;
		p.margin = 0.99;
		ck_assert_int_eq(pfse_selector_create(&p, &two), 0);
		pfse_prior_init(&lv);
		lv.level = 1000;
		for (unsigned i = 0; i < 60; i++)
			w[i] = 1000 + 100 * gauss();
		run_flow(two, 0, &lv, w, 60);
		r = report(two, 0);
		ck_assert(r.mase[C_SES] < r.mase[C_NAIVE]);
		ck_assert_uint_eq(r.choice, C_NAIVE);
		ck_assert_uint_eq(r.reason, PFSE_SELECT_R_KEPT);
		pfse_selector_destroy(two);
	}
	/* pins override, and unpinning returns to the automatic choice */
	ck_assert_int_eq(pfse_selector_pin(s, 1, C_SES), 0);
	r = report(s, 1);
	ck_assert_uint_eq(r.choice, C_SES);
	ck_assert_uint_eq(r.reason, PFSE_SELECT_R_PINNED);
	run_flow(s, 1, &pr, y, 60);
	ck_assert_int_eq(pfse_selector_choice(s, 1), C_SES);
	ck_assert_int_eq(pfse_selector_pin(s, 1, -1), 0);
	r = report(s, 1);
	ck_assert_uint_eq(r.choice, C_HOLT);
	ck_assert_uint_eq(r.reason, PFSE_SELECT_R_BEST);
	ck_assert_int_eq(pfse_selector_pin(s, 5, C_NAIVE), 0);
	ck_assert_int_eq(pfse_selector_choice(s, 5), C_NAIVE);
	ck_assert_uint_eq(report(s, 5).reason, PFSE_SELECT_R_PINNED);
	ck_assert_int_eq(pfse_selector_pin(s, 1, NCAND), -EINVAL);
	ck_assert_int_eq(pfse_selector_pin(s, 1, -2), -EINVAL);
	ck_assert_int_eq(pfse_selector_pin(s, 8, 0), -EINVAL);
	pfse_selector_destroy(s);
}
END_TEST

START_TEST(sampling_and_pool)
{
	struct pfse_selector_params p;
	struct pfse_selector *s = NULL;
	struct pfse_selector_stats st;
	uint32_t ids[8], id;
	unsigned admitted = 0;

	pfse_selector_params_init(&p);
	p.candidates = cands;
	p.n_candidates = NCAND;
	p.classes = 2;
	p.shadow_flows = 8;
	p.sample_every = 4;
	ck_assert_int_eq(pfse_selector_create(&p, &s), 0);
	for (uint64_t hsh = 0; hsh < 40; hsh++) {
		int r = pfse_selector_shadow_begin(s, 1, hsh, NULL, &id);

		if (hsh % 4 != 0) {
			ck_assert_int_eq(r, -EAGAIN);
		} else if (admitted < 8) {
			ck_assert_int_eq(r, 0);
			ids[admitted++] = id;
		} else {
			ck_assert_int_eq(r, -ENOSPC);
		}
	}
	st.size = sizeof(st);
	ck_assert_int_eq(pfse_selector_stats(s, &st), 0);
	ck_assert_uint_eq(st.shadowed, 8);
	ck_assert_uint_eq(st.not_sampled, 30);
	ck_assert_uint_eq(st.pool_full, 2);
	ck_assert_uint_eq(st.active, 8);
	/* ids are distinct slots */
	for (unsigned i = 0; i < 8; i++)
		for (unsigned j = 0; j < i; j++)
			ck_assert_uint_ne(ids[i], ids[j]);
	/* ending frees a slot for the next sampled flow; stale ids are refused */
	ck_assert_int_eq(pfse_selector_shadow_end(s, ids[3]), 0);
	ck_assert_int_eq(pfse_selector_shadow_end(s, ids[3]), -ENOENT);
	ck_assert_int_eq(pfse_selector_shadow_observe(s, ids[3], 1), -ENOENT);
	ck_assert_int_eq(pfse_selector_shadow_begin(s, 0, 400, NULL, &id), 0);
	ck_assert_uint_eq(id, ids[3]);
	ck_assert_int_eq(pfse_selector_shadow_observe(s, 8, 1), -ENOENT);
	ck_assert_int_eq(pfse_selector_shadow_observe(s, UINT32_MAX, 1), -ENOENT);
	ck_assert_int_eq(pfse_selector_shadow_end(s, 8), -ENOENT);
	/* bad samples are refused and change nothing; bad priors consume no slot */
	ck_assert_int_eq(pfse_selector_shadow_observe(s, id, NAN), -EINVAL);
	ck_assert_int_eq(pfse_selector_shadow_observe(s, id, INFINITY), -EINVAL);
	ck_assert_int_eq(pfse_selector_stats(s, &st), 0);
	ck_assert_uint_eq(st.samples, 0);
	ck_assert_int_eq(pfse_selector_shadow_observe(s, id, -5), 0); /* clamped to 0 */
	ck_assert_int_eq(pfse_selector_shadow_end(s, id), 0);
	{
		struct pfse_prior pr;

		pfse_prior_init(&pr);
		pr.level = NAN;
		ck_assert_int_eq(pfse_selector_shadow_begin(s, 0, 0, &pr, &id), -EINVAL);
		ck_assert_int_eq(pfse_selector_stats(s, &st), 0);
		ck_assert_uint_eq(st.active, 7);
	}
	pfse_selector_destroy(s);
}
END_TEST

START_TEST(merge_and_report_sizes)
{
	struct pfse_selector *a = mksel(1, 10, 0), *b = mksel(1, 10, 0), *c = mksel(1, 10, 0);
	struct pfse_selector *h5 = mksel(5, 10, 0);
	struct pfse_prior pr;
	struct pfse_selection ra, rc;
	double y[60];

	for (unsigned i = 0; i < 60; i++)
		y[i] = 10 + 3.0 * i;
	pfse_prior_init(&pr);
	pr.level = 7;
	pr.trend = 3;
	run_flow(a, 1, &pr, y, 60);
	/* merging into an empty selector reproduces the source */
	ck_assert_int_eq(pfse_selector_merge(c, a), 0);
	ra = report(a, 1);
	rc = report(c, 1);
	ck_assert_uint_eq(rc.choice, ra.choice);
	ck_assert_uint_eq(rc.samples, ra.samples);
	for (unsigned k = 0; k < NCAND; k++)
		ck_assert(rc.mase[k] == ra.mase[k]);
	/* a class scored only in b joins; a's class keeps its errors, samples add */
	run_flow(b, 2, &pr, y, 60);
	run_flow(b, 1, &pr, y, 60);
	ck_assert_int_eq(pfse_selector_merge(c, b), 0);
	ck_assert_uint_eq(report(c, 2).choice, C_HOLT);
	ck_assert_uint_eq(report(c, 1).samples, 2 * ra.samples);
	ck_assert(report(c, 1).mase[C_NAIVE] == 1.0);
	ck_assert_int_eq(pfse_selector_merge(c, c), -EINVAL);
	ck_assert_int_eq(pfse_selector_merge(NULL, c), -EINVAL);
	ck_assert_int_eq(pfse_selector_merge(c, NULL), -EINVAL);
	ck_assert_int_eq(pfse_selector_merge(c, h5), -EINVAL);
	/* an older, smaller report struct gets only what it has room for */
	{
		struct pfse_selection big;
		const uint8_t *raw = (const uint8_t *)&big;

		memset(&big, 0xee, sizeof(big));
		big.size = offsetof(struct pfse_selection, samples);
		ck_assert_int_eq(pfse_selector_report(c, 1, &big), 0);
		ck_assert_uint_eq(big.choice, C_HOLT);
		for (size_t i = big.size; i < sizeof(big); i++)
			ck_assert_uint_eq(raw[i], 0xee);
	}
	pfse_selector_destroy(a);
	pfse_selector_destroy(b);
	pfse_selector_destroy(c);
	pfse_selector_destroy(h5);
}
END_TEST

START_TEST(invalid_arguments)
{
	struct pfse_selector_params p;
	struct pfse_selector *s = NULL;
	struct pfse_predictor *with_null[2] = { cands[0], NULL };
	struct pfse_selection r;
	struct pfse_selector_stats st;
	uint32_t id;

	pfse_selector_params_init(&p);
	ck_assert_int_eq(pfse_selector_create(&p, &s), -EINVAL); /* no candidates */
	p.candidates = cands;
	ck_assert_int_eq(pfse_selector_create(&p, &s), -EINVAL); /* n = 0 */
	p.n_candidates = PFSE_SELECT_MAX + 1;
	ck_assert_int_eq(pfse_selector_create(&p, &s), -EINVAL);
	p.n_candidates = 2;
	p.candidates = with_null;
	ck_assert_int_eq(pfse_selector_create(&p, &s), -EINVAL);
	p.candidates = cands;
	p.classes = 65537;
	ck_assert_int_eq(pfse_selector_create(&p, &s), -EINVAL);
	p.classes = 0;
	p.shadow_flows = (1u << 20) + 1;
	ck_assert_int_eq(pfse_selector_create(&p, &s), -EINVAL);
	p.shadow_flows = 0;
	p.horizon = PFSE_SELECT_HORIZON_MAX + 1;
	ck_assert_int_eq(pfse_selector_create(&p, &s), -EINVAL);
	p.horizon = 0;
	p.margin = 1;
	ck_assert_int_eq(pfse_selector_create(&p, &s), -EINVAL);
	p.margin = NAN;
	ck_assert_int_eq(pfse_selector_create(&p, &s), -EINVAL);
	p.margin = 0;
	p.size = 2;
	ck_assert_int_eq(pfse_selector_create(&p, &s), -EINVAL);
	p.size = sizeof(p);
	ck_assert_int_eq(pfse_selector_create(NULL, &s), -EINVAL);
	ck_assert_int_eq(pfse_selector_create(&p, NULL), -EINVAL);
	ck_assert_int_eq(pfse_selector_create(&p, &s), 0);
	pfse_selector_destroy(NULL);

	ck_assert_int_eq(pfse_selector_choice(NULL, 0), -EINVAL);
	ck_assert_int_eq(pfse_selector_choice(s, 1024), -EINVAL);
	ck_assert_int_eq(pfse_selector_choice(s, 1023), 0);
	ck_assert_int_eq(pfse_selector_shadow_begin(NULL, 0, 0, NULL, &id), -EINVAL);
	ck_assert_int_eq(pfse_selector_shadow_begin(s, 1024, 0, NULL, &id), -EINVAL);
	ck_assert_int_eq(pfse_selector_shadow_begin(s, 0, 0, NULL, NULL), -EINVAL);
	ck_assert_int_eq(pfse_selector_shadow_observe(NULL, 0, 1), -EINVAL);
	ck_assert_int_eq(pfse_selector_shadow_end(NULL, 0), -EINVAL);
	ck_assert_int_eq(pfse_selector_pin(NULL, 0, 0), -EINVAL);
	r.size = sizeof(r);
	ck_assert_int_eq(pfse_selector_report(NULL, 0, &r), -EINVAL);
	ck_assert_int_eq(pfse_selector_report(s, 0, NULL), -EINVAL);
	ck_assert_int_eq(pfse_selector_report(s, 1024, &r), -EINVAL);
	r.size = 0;
	ck_assert_int_eq(pfse_selector_report(s, 0, &r), -EINVAL);
	st.size = sizeof(st);
	ck_assert_int_eq(pfse_selector_stats(NULL, &st), -EINVAL);
	ck_assert_int_eq(pfse_selector_stats(s, NULL), -EINVAL);
	st.size = 1;
	ck_assert_int_eq(pfse_selector_stats(s, &st), -EINVAL);
	pfse_selector_destroy(s);
}
END_TEST

START_TEST(allocation_failures)
{
	struct count_alloc ca;
	struct pfse_selector_params p;
	struct pfse_selector *s;
	unsigned long n;
	uint32_t id;

	memset(&ca, 0, sizeof(ca));
	pfse_selector_params_init(&p);
	p.candidates = cands;
	p.n_candidates = NCAND;
	p.sample_every = 1;
	p.allocator = count_allocator(&ca);
	ck_assert_int_eq(pfse_selector_create(&p, &s), 0);
	n = ca.calls;
	/* the shadow path allocates nothing */
	for (unsigned f = 0; f < 100; f++) {
		ck_assert_int_eq(pfse_selector_shadow_begin(s, f % 7, f, NULL, &id), 0);
		for (unsigned i = 0; i < 30; i++)
			ck_assert_int_eq(pfse_selector_shadow_observe(s, id, i * f), 0);
		ck_assert_int_eq(pfse_selector_shadow_end(s, id), 0);
	}
	ck_assert_uint_eq(ca.calls, n);
	pfse_selector_destroy(s);
	ck_assert_uint_eq(ca.frees, ca.allocs);
	for (unsigned long i = 1; i <= n; i++) {
		memset(&ca, 0, sizeof(ca));
		ca.fail_at = i;
		ck_assert_int_eq(pfse_selector_create(&p, &s), -ENOMEM);
		ck_assert_uint_eq(ca.frees, ca.allocs);
	}
}
END_TEST

START_TEST(flow_mode)
{
	struct pfse_selector_params p;
	struct pfse_selector *s = NULL;
	struct pfse_selection r;
	struct pfse_prior pr;
	double line[200], alt[12];

	pfse_selector_params_init(&p);
	p.candidates = cands;
	p.n_candidates = NCAND;
	p.classes = 4;
	p.sample_every = 1;
	p.flow_len = 10;
	p.min_samples = 2;
	p.half_life = 1000000;
	ck_assert_int_eq(pfse_selector_create(&p, &s), 0);
	for (unsigned i = 0; i < 200; i++)
		line[i] = 10 + 3.0 * i;
	for (unsigned i = 0; i < 12; i++)
		alt[i] = i % 2 ? 400 : 0;
	pfse_prior_init(&pr);
	pr.level = 7;
	pr.trend = 3;
	/* a short flow is not scored; samples are only counted when a flow ends */
	run_flow(s, 1, &pr, line, 9);
	ck_assert_uint_eq(report(s, 1).samples, 0);
	run_flow(s, 1, &pr, line, 200);
	r = report(s, 1);
	ck_assert_uint_eq(r.samples, 1);
	ck_assert(r.mase[C_NAIVE] == 1.0);
	ck_assert(r.mase[C_HOLT] == 0.0);
	/* a 12-sample flow weighs as much as the 200-sample one: naive's MASE is 1 on any
	 * flow, so its average stays 1; holt's is the mean of 0 and its MASE on `alt` */
	{
		struct pfse_selector *one = NULL;
		double holt_alt;

		p.classes = 4;
		ck_assert_int_eq(pfse_selector_create(&p, &one), 0);
		run_flow(one, 0, &pr, alt, 12);
		holt_alt = report(one, 0).mase[C_HOLT];
		ck_assert(holt_alt > 0.5);
		pfse_selector_destroy(one);
		run_flow(s, 1, &pr, alt, 12);
		r = report(s, 1);
		ck_assert_uint_eq(r.samples, 2);
		ck_assert_double_eq_tol(r.mase[C_NAIVE], 1.0, 1e-5);
		ck_assert_double_eq_tol(r.mase[C_HOLT], holt_alt / 2, 1e-5 * holt_alt);
		ck_assert_uint_eq(r.choice, C_HOLT);
	}
	pfse_selector_destroy(s);
}
END_TEST

static Suite *
select_suite(void)
{
	Suite *s = suite_create("select");
	TCase *tc = tcase_create("choice");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, exact_scaled_errors);
	tcase_add_test(tc, right_backend_per_class);
	tcase_add_test(tc, default_hysteresis_and_pins);
	tcase_add_test(tc, sampling_and_pool);
	tcase_add_test(tc, merge_and_report_sizes);
	tcase_add_test(tc, flow_mode);
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, invalid_arguments);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(select_suite());
}
