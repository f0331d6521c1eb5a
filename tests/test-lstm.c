/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tiny LSTM: analytic gradients against finite differences, float inference against
 * the double training forward, model files (round trip, every truncation, bit flips,
 * versions, foreign and inconsistent files), the default model, training on on/off flows
 * (validation loss falls, and the LSTM beats holt and naive where their assumptions fail),
 * bit-reproducible training, and invalid arguments.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include <pfse/pfse.h>

#include "lstm_priv.h"
#include "test-util.h"

static uint64_t rs = 0x2545f4914f6cdd1dull;

static double
unif(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return ((double)(rs >> 11) + 0.5) / 9007199254740992.0;
}

START_TEST(gradient_check)
{
	const uint32_t H = 3, T = 7, P = lstm_nparams(H);
	double w[256], ga[256], y[8], ylog[8];
	double h0[3], c0[3];
	unsigned bad = 0;

	ck_assert_uint_le(P, 256);
	for (uint32_t k = 0; k < P; k++)
		w[k] = 2 * unif() - 1;
	for (uint32_t t = 0; t <= T; t++) {
		ylog[t] = t == 3 ? 0 : 5 * unif();
		y[t] = (ylog[t] - 2.5) / 1.5;
	}
	for (uint32_t k = 0; k < H; k++) {
		h0[k] = unif() - 0.5;
		c0[k] = unif() - 0.5;
	}
	memset(ga, 0, sizeof(ga));
	pfse_lstm_window(w, H, y, T, ylog, 0.3, 5, h0, c0, ga, NULL, NULL);
	for (uint32_t k = 0; k < P; k++) {
		const double eps = 1e-6;
		double keep = w[k], lp, lm, num;

		w[k] = keep + eps;
		lp = pfse_lstm_window(w, H, y, T, ylog, 0.3, 5, h0, c0, NULL, NULL, NULL);
		w[k] = keep - eps;
		lm = pfse_lstm_window(w, H, y, T, ylog, 0.3, 5, h0, c0, NULL, NULL, NULL);
		w[k] = keep;
		num = (lp - lm) / (2 * eps);
		if (fabs(num - ga[k]) > 1e-4 * fmax(fabs(num), fabs(ga[k])) + 1e-8) {
			fprintf(stderr, "param %u: analytic %.10g numeric %.10g\n", k, ga[k], num);
			bad++;
		}
	}
	ck_assert_uint_eq(bad, 0);
}
END_TEST

/* A model with random weights (seeded), through the public file format. */
static struct pfse_lstm *
random_model(uint32_t H, double scale)
{
	struct pfse_lstm *m = pfse_lstm_alloc(H, NULL);
	uint32_t nw = lstm_nparams(H) - 2;

	ck_assert_ptr_nonnull(m);
	for (uint32_t k = 0; k < nw; k++)
		m->W[k] = (float)((2 * unif() - 1) * scale);
	m->by[0] = 0.1f;
	m->by[1] = -0.5f;
	lstm_set_norm(m, 6, 2);
	return m;
}

static struct pfse_predictor *
lstm_pred(const struct pfse_lstm *m)
{
	struct pfse_predictor_params pp;
	struct pfse_model_params mp;
	struct pfse_predictor *pred = NULL;

	pfse_model_params_init(&mp);
	mp.flags = PFSE_MODEL_F_LOG1P;
	pfse_predictor_params_init(&pp);
	pp.ops = pfse_predictor_backend("lstm");
	pp.model = &mp;
	pp.user = (void *)(uintptr_t)m;
	ck_assert_int_eq(pfse_predictor_create(&pp, &pred), 0);
	return pred;
}

START_TEST(inference_matches_training_forward)
{
	/* The predictor (float, rational activations) and the trainer's forward (double,
	 * libm) give the same loss on a series, to the float's and the approximation's
	 * precision: for the specialised steps (H = 8, 16) and the general one (odd H too). */
	static const uint32_t Hs[] = { 8, 16, 5, 1, 2 };

	for (unsigned hi = 0; hi < sizeof(Hs) / sizeof(Hs[0]); hi++) {
		uint32_t H = Hs[hi], P = lstm_nparams(H);
		struct pfse_lstm *m = random_model(H, 0.4);
		struct pfse_predictor *pred = lstm_pred(m);
		double x[40], ylog[40], yn[40], w[1400], h0[16] = { 0 }, c0[16] = { 0 };
		double ref, got = 0;
		uint64_t st[64];
		struct pfse_prior pr;

		ck_assert_uint_eq(pfse_predictor_state_size(pred), 8 + 16 + 8 * H);
		for (unsigned t = 0; t < 40; t++) {
			x[t] = t % 7 == 3 ? 0 : 200 + 3000 * unif();
			ylog[t] = log1p(x[t]);
			yn[t] = (ylog[t] - 6) / 2;
		}
		for (uint32_t k = 0; k < P - 2; k++)
			w[k] = m->W[k];
		w[P - 2] = m->by[0];
		w[P - 1] = m->by[1];
		ref = pfse_lstm_window(w, H, yn, 39, ylog, 0, 0, h0, c0, NULL, NULL, NULL);
		pfse_prior_init(&pr);
		ck_assert_int_eq(pfse_predictor_flow_init(pred, st, &pr), 0);
		for (unsigned t = 0; t < 40; t++) {
			struct pfse_forecast f;

			if (t > 0) {
				double yy, v, d;

				ck_assert_int_eq(pfse_predictor_forecast_z(pred, st, 1, 1.0, &f),
						 0);
				yy = (log1p(f.mean) - 6) / 2;
				v = f.sd * f.sd / 4;
				d = yn[t] - yy;
				got += 0.5 * (log(v) + d * d / v);
			}
			ck_assert_int_ge(pfse_predictor_observe(pred, st, x[t], NULL), 0);
		}
		ck_assert_msg(fabs(got - ref) <= 1e-3 * fabs(ref) + 1e-3,
			      "H %u: inference %.9g training %.9g", H, got, ref);
		/* longer horizons: the variance grows */
		{
			struct pfse_forecast f1, f5;

			ck_assert_int_eq(pfse_predictor_forecast(pred, st, 1, 0.8, &f1), 0);
			ck_assert_int_eq(pfse_predictor_forecast(pred, st, 5, 0.8, &f5), 0);
			ck_assert(f5.sd > f1.sd);
			ck_assert(isfinite(f5.mean) && f5.mean >= 0);
		}
		pfse_predictor_destroy(pred);
		pfse_lstm_destroy(m);
	}
}
END_TEST

START_TEST(forecast_range_and_anomalies)
{
	/* a model whose mean overflows exp: forecasts stay in [0, PFSE_SAMPLE_MAX] */
	struct pfse_lstm *m = random_model(8, 0.3);
	struct pfse_predictor *pred;
	struct pfse_forecast f;
	struct pfse_observation o;
	uint64_t st[64];

	m->by[0] = 1e5f;
	pred = lstm_pred(m);
	ck_assert_int_eq(pfse_predictor_flow_init(pred, st, NULL), 0);
	ck_assert_int_eq(pfse_predictor_observe(pred, st, 1000, NULL), 0);
	for (unsigned h = 1; h <= 4; h++) {
		ck_assert_int_eq(pfse_predictor_forecast(pred, st, h, 0.8, &f), 0);
		ck_assert(f.mean == PFSE_SAMPLE_MAX && f.hi == PFSE_SAMPLE_MAX);
		ck_assert(f.lo >= 0 && f.lo <= f.mean);
	}
	pfse_predictor_destroy(pred);
	pfse_lstm_destroy(m);

	/* the default model on a steady flow: a 1000-fold burst is an anomaly, the usual
	 * value is not; the score is |y - mean| / sd in model units */
	pred = lstm_pred(NULL);
	ck_assert_int_eq(pfse_predictor_flow_init(pred, st, NULL), 0);
	for (unsigned t = 0; t < 30; t++)
		ck_assert_int_eq(pfse_predictor_observe(pred, st, 50000 + 100 * (t % 3), &o), 0);
	ck_assert_uint_eq(o.flags & PFSE_OBS_F_ANOMALY, 0);
	ck_assert(o.score >= 0 && o.score < 2.5758);
	ck_assert_int_eq(pfse_predictor_forecast_z(pred, st, 1, 1.0, &f), 0);
	{
		double expect = fabs(log1p(5e7) - log1p(f.mean)) / f.sd;

		ck_assert_int_eq(pfse_predictor_observe(pred, st, 5e7, &o), 0);
		ck_assert_uint_ne(o.flags & PFSE_OBS_F_ANOMALY, 0);
		ck_assert_msg(fabs(o.score - expect) <= 1e-5 * expect, "score %g, expected %g",
			      o.score, expect);
	}
	pfse_predictor_destroy(pred);
}
END_TEST

START_TEST(fast_exp)
{
	/* the variance's exponential (lstm_exp) over the whole clamped log-variance range */
	double worst = 0;

	for (double x = LSTM_LV_MIN; x <= LSTM_LV_MAX; x += 1.0 / 4096) {
		double e = exp((double)(float)x), r = fabs(lstm_exp((float)x) / e - 1);

		worst = r > worst ? r : worst;
	}
	ck_assert_msg(worst < 2e-6, "max relative error %.3g", worst);
	ck_assert_float_eq(lstm_exp(0.0f), 1.0f);
}
END_TEST

static uint8_t *
save(const struct pfse_lstm *m, size_t *len)
{
	uint8_t *buf;

	ck_assert_int_eq(pfse_lstm_save(m, NULL, 0, len), -ENOSPC);
	buf = malloc(*len);
	ck_assert_int_eq(pfse_lstm_save(m, buf, *len, len), 0);
	return buf;
}

static void
rechecksum(uint8_t *b, size_t len)
{
	uint64_t x = XXH3_64bits(b, len - 8);

	for (unsigned i = 0; i < 8; i++)
		b[len - 8 + i] = (uint8_t)(x >> (8 * i));
}

START_TEST(model_files)
{
	struct pfse_lstm *m = random_model(4, 0.5), *g = NULL;
	size_t len, len2;
	uint8_t *buf = save(m, &len), *again, *bad;

	ck_assert_uint_eq(len, 48 + (4 + 4) * 16 * 4 + 16 * 4 + 8 * 4 + 8 + 8);
	ck_assert_int_eq(pfse_lstm_load(buf, len, NULL, &g), 0);
	ck_assert_uint_eq(pfse_lstm_hidden(g), 4);
	again = save(g, &len2);
	ck_assert_uint_eq(len2, len);
	ck_assert(memcmp(again, buf, len) == 0);
	free(again);
	pfse_lstm_destroy(g);
	bad = malloc(len);
	/* every truncation, every bit */
	for (size_t n = 0; n < len; n++)
		ck_assert_int_eq(pfse_lstm_load(buf, n, NULL, &g), -EBADMSG);
	for (size_t i = 0; i < len; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			int r;

			memcpy(bad, buf, len);
			bad[i] ^= (uint8_t)(1u << bit);
			g = NULL;
			r = pfse_lstm_load(bad, len, NULL, &g);
			ck_assert_ptr_null(g);
			if (i < 8 || (i >= 12 && i < 24))
				ck_assert_int_eq(r, -EBADMSG);
			else if (i < 12)
				ck_assert_int_eq(r, -EPROTO);
			else
				ck_assert_msg(r == -EILSEQ, "byte %zu: %d", i, r);
		}
	}
	/* well checksummed but wrong: a NaN weight, a zero sd, a huge weight, a newer
	 * version */
	{
		const float nanf_ = NAN, huge = 1e9f;
		const double zero = 0;

		memcpy(bad, buf, len);
		memcpy(bad + 48 + 4 * 5, &nanf_, 4);
		rechecksum(bad, len);
		ck_assert_int_eq(pfse_lstm_load(bad, len, NULL, &g), -EBADMSG);
		memcpy(bad, buf, len);
		memcpy(bad + 32, &zero, 8);
		rechecksum(bad, len);
		ck_assert_int_eq(pfse_lstm_load(bad, len, NULL, &g), -EBADMSG);
		memcpy(bad, buf, len);
		memcpy(bad + 48, &huge, 4);
		rechecksum(bad, len);
		ck_assert_int_eq(pfse_lstm_load(bad, len, NULL, &g), -EBADMSG);
		memcpy(bad, buf, len);
		bad[8] = 2;
		rechecksum(bad, len);
		ck_assert_int_eq(pfse_lstm_load(bad, len, NULL, &g), -EPROTO);
	}
	/* a normalisation no model of log(1 + x) has: mu, sd */
	{
		static const struct {
			unsigned off;
			double v;
		} norm[] = { { 24, NAN }, { 24, 1e6 }, { 24, -2e3 }, { 32, 1e-9 },
			     { 32, 1e4 }, { 32, -1 }, { 32, INFINITY } };

		for (unsigned i = 0; i < sizeof(norm) / sizeof(norm[0]); i++) {
			memcpy(bad, buf, len);
			memcpy(bad + norm[i].off, &norm[i].v, 8);
			rechecksum(bad, len);
			g = NULL;
			ck_assert_int_eq(pfse_lstm_load(bad, len, NULL, &g), -EBADMSG);
			ck_assert_ptr_null(g);
		}
	}
	/* arguments */
	ck_assert_int_eq(pfse_lstm_load(NULL, len, NULL, &g), -EINVAL);
	ck_assert_int_eq(pfse_lstm_load(buf, len, NULL, NULL), -EINVAL);
	ck_assert_int_eq(pfse_lstm_save(NULL, buf, len, &len2), -EINVAL);
	ck_assert_int_eq(pfse_lstm_save(m, buf, len, NULL), -EINVAL);
	ck_assert_int_eq(pfse_lstm_save(m, NULL, 5, &len2), -EINVAL);
	ck_assert_int_eq(pfse_lstm_save(m, buf, len - 1, &len2), -ENOSPC);
	ck_assert_uint_eq(pfse_lstm_hidden(NULL), 0);
	pfse_lstm_destroy(NULL);
	free(bad);
	free(buf);
	pfse_lstm_destroy(m);
}
END_TEST

START_TEST(default_model)
{
	const struct pfse_lstm *d = pfse_lstm_default();
	const char *path = getenv("PFSE_TEST_LSTM_DEFAULT");
	struct pfse_model_params mp;
	struct pfse_predictor_params pp;
	struct pfse_predictor *pred = NULL;

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_eq(pfse_lstm_default(), d);
	ck_assert_uint_ge(pfse_lstm_hidden(d), 1);
	pfse_lstm_destroy((struct pfse_lstm *)(uintptr_t)d); /* ignored: static */
	/* the embedded model is the committed file, byte for byte */
	if (path) {
		FILE *f = fopen(path, "rb");
		uint8_t file[16384], *mine;
		size_t n, len;

		ck_assert_ptr_nonnull(f);
		n = fread(file, 1, sizeof(file), f);
		fclose(f);
		mine = save(d, &len);
		ck_assert_uint_eq(n, len);
		ck_assert(memcmp(file, mine, len) == 0);
		free(mine);
	}
	/* the backend uses it when given no model, and needs log(1 + x) */
	pfse_model_params_init(&mp);
	pfse_predictor_params_init(&pp);
	pp.ops = pfse_predictor_backend("lstm");
	pp.model = &mp;
	ck_assert_int_eq(pfse_predictor_create(&pp, &pred), -EINVAL);
	mp.flags = PFSE_MODEL_F_LOG1P;
	ck_assert_int_eq(pfse_predictor_create(&pp, &pred), 0);
	ck_assert_uint_eq(pfse_predictor_state_size(pred), 8 + 16 + 8 * pfse_lstm_hidden(d));
	{
		uint64_t st[64];
		struct pfse_forecast f;
		const uint32_t lens[1] = { 3 };
		const double s0[3] = { 1, 2, 3 }, *ser[1] = { s0 };

		ck_assert_int_eq(pfse_predictor_flow_init(pred, st, NULL), 0);
		for (unsigned t = 0; t < 20; t++)
			ck_assert_int_ge(pfse_predictor_observe(pred, st, 1000.0 * t, NULL), 0);
		ck_assert_int_eq(pfse_predictor_forecast(pred, st, 3, 0.9, &f), 0);
		ck_assert(isfinite(f.mean) && f.lo <= f.mean && f.mean <= f.hi);
		ck_assert_int_eq(pfse_predictor_fit(pred, ser, lens, 1, 0, NULL), -ENOTSUP);
	}
	pfse_predictor_destroy(pred);
}
END_TEST

#ifdef PFSE_HAVE_GSL
/* On/off flows: `on` intervals at about 50 kB, `off` intervals of silence, random phase. */
static void
on_off(double *x, unsigned len, unsigned on, unsigned off)
{
	unsigned phase = (unsigned)(unif() * (on + off));

	for (unsigned t = 0; t < len; t++)
		x[t] = (t + phase) % (on + off) < on ? 50000 * (0.9 + 0.2 * unif()) : 0;
}

/* Mean absolute error of a predictor's one-step forecasts on flows. */
static double
mae(struct pfse_predictor *pred, double (*x)[48], unsigned n)
{
	double e = 0;
	unsigned cnt = 0;

	for (unsigned f = 0; f < n; f++) {
		uint64_t st[64];

		pfse_predictor_flow_init(pred, st, NULL);
		for (unsigned t = 0; t < 48; t++) {
			struct pfse_observation o;

			pfse_predictor_observe(pred, st, x[f][t], &o);
			if (t >= 8) {
				e += fabs(x[f][t] - o.forecast);
				cnt++;
			}
		}
	}
	return e / cnt;
}

struct losses {
	double first_val, last_val;
	unsigned epochs;
};

static void
on_report(uint32_t epoch, double train, double val, void *user)
{
	struct losses *l = user;

	ck_assert(isfinite(train) && isfinite(val));
	if (epoch == 1)
		l->first_val = val;
	l->last_val = val;
	l->epochs = epoch;
}

START_TEST(learns_on_off_flows)
{
	static double tr[240][48], te[60][48];
	const double *ser[240];
	uint32_t lens[240];
	struct pfse_lstm_train_params p;
	struct pfse_lstm_train_report rep;
	struct pfse_lstm *m = NULL, *m2 = NULL;
	struct losses l = { 0, 0, 0 };
	struct pfse_predictor *lp, *holt, *naive;
	double e_lstm, e_holt, e_naive;

	rs = 12345;
	for (unsigned f = 0; f < 240; f++) {
		on_off(tr[f], 48, 3, 3);
		ser[f] = tr[f];
		lens[f] = 48;
	}
	for (unsigned f = 0; f < 60; f++)
		on_off(te[f], 48, 3, 3);
	pfse_lstm_train_params_init(&p);
	p.seed = 7;
	p.epochs = 25;
	p.report = on_report;
	p.report_user = &l;
	pfse_lstm_train_report_init(&rep);
	ck_assert_int_eq(pfse_lstm_train(ser, lens, 240, &p, &m, &rep), 0);
	ck_assert_uint_eq(rep.train_flows + rep.val_flows, 240);
	ck_assert_uint_eq(rep.val_flows, 48);
	ck_assert_uint_ge(rep.best_epoch, 1);
	ck_assert(rep.best_val_loss < l.first_val - 0.5); /* it learned */
	/* against holt and naive, on flows it never saw */
	{
		struct pfse_predictor_params pp;
		struct pfse_model_params mp;

		lp = lstm_pred(m);
		pfse_model_params_init(&mp);
		mp.flags = PFSE_MODEL_F_LOG1P | PFSE_MODEL_F_DAMPED;
		pfse_predictor_params_init(&pp);
		pp.ops = pfse_predictor_backend("holt");
		pp.model = &mp;
		ck_assert_int_eq(pfse_predictor_create(&pp, &holt), 0);
		pp.ops = pfse_predictor_backend("naive");
		ck_assert_int_eq(pfse_predictor_create(&pp, &naive), 0);
	}
	e_lstm = mae(lp, te, 60);
	e_holt = mae(holt, te, 60);
	e_naive = mae(naive, te, 60);
	fprintf(stderr, "# on/off flows, one-step MAE: lstm %.0f, holt %.0f, naive %.0f\n", e_lstm,
		e_holt, e_naive);
	ck_assert(e_lstm < 0.5 * e_holt);
	ck_assert(e_lstm < 0.5 * e_naive);
	/* the same seed, the same model, bit for bit */
	p.report = NULL;
	ck_assert_int_eq(pfse_lstm_train(ser, lens, 240, &p, &m2, NULL), 0);
	{
		size_t a, b;
		uint8_t *ba = save(m, &a), *bb = save(m2, &b);

		ck_assert_uint_eq(a, b);
		ck_assert(memcmp(ba, bb, a) == 0);
		free(ba);
		free(bb);
	}
	pfse_predictor_destroy(lp);
	pfse_predictor_destroy(holt);
	pfse_predictor_destroy(naive);
	pfse_lstm_destroy(m);
	pfse_lstm_destroy(m2);
}
END_TEST

START_TEST(train_arguments)
{
	const double s[3] = { 1, 2, 3 }, bad[3] = { 1, NAN, 3 }, *ser[4] = { s, s, s, s };
	const double *sbad[4] = { s, bad, s, s };
	uint32_t lens[4] = { 3, 3, 3, 3 };
	struct pfse_lstm_train_params p;
	struct pfse_lstm *m = NULL;

	pfse_lstm_train_params_init(&p);
	ck_assert_int_eq(pfse_lstm_train(NULL, lens, 4, &p, &m, NULL), -EINVAL);
	ck_assert_int_eq(pfse_lstm_train(ser, NULL, 4, &p, &m, NULL), -EINVAL);
	ck_assert_int_eq(pfse_lstm_train(ser, lens, 4, &p, NULL, NULL), -EINVAL);
	ck_assert_int_eq(pfse_lstm_train(sbad, lens, 4, &p, &m, NULL), -EINVAL);
	ck_assert_int_eq(pfse_lstm_train(ser, lens, 3, &p, &m, NULL), -ENODATA);
	p.hidden = PFSE_LSTM_HIDDEN_MAX + 1;
	ck_assert_int_eq(pfse_lstm_train(ser, lens, 4, &p, &m, NULL), -EINVAL);
	p.hidden = 0;
	p.bptt = 65;
	ck_assert_int_eq(pfse_lstm_train(ser, lens, 4, &p, &m, NULL), -EINVAL);
	p.bptt = 0;
	p.learning_rate = -1;
	ck_assert_int_eq(pfse_lstm_train(ser, lens, 4, &p, &m, NULL), -EINVAL);
	p.learning_rate = 0;
	p.val_fraction = 1;
	ck_assert_int_eq(pfse_lstm_train(ser, lens, 4, &p, &m, NULL), -EINVAL);
	ck_assert_ptr_null(m);
}
END_TEST
#else
START_TEST(train_without_gsl)
{
	const double s[3] = { 1, 2, 3 }, *ser[4] = { s, s, s, s };
	uint32_t lens[4] = { 3, 3, 3, 3 };
	struct pfse_lstm_train_params p;
	struct pfse_lstm *m = NULL;

	pfse_lstm_train_params_init(&p);
	ck_assert_int_eq(pfse_lstm_train(ser, lens, 4, &p, &m, NULL), -ENOTSUP);
	ck_assert_ptr_null(m);
}
END_TEST
#endif

static Suite *
lstm_suite(void)
{
	Suite *s = suite_create("lstm");
	TCase *tc = tcase_create("model");

	tcase_add_test(tc, gradient_check);
	tcase_add_test(tc, inference_matches_training_forward);
	tcase_add_test(tc, fast_exp);
	tcase_add_test(tc, forecast_range_and_anomalies);
	tcase_add_test(tc, model_files);
	tcase_add_test(tc, default_model);
	suite_add_tcase(s, tc);
	tc = tcase_create("training");
	tcase_set_timeout(tc, 300);
#ifdef PFSE_HAVE_GSL
	tcase_add_test(tc, learns_on_off_flows);
	tcase_add_test(tc, train_arguments);
#else
	tcase_add_test(tc, train_without_gsl);
#endif
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(lstm_suite());
}
