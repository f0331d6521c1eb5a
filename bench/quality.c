/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forecast-quality: how well each backend, and the automatic choice, forecasts the
 * bandwidth of real flows, measured the way the library would run in a packet path.
 *
 * Data. (1) Captures: every packet goes through pfse_parse() and a flow table (so flow
 * boundaries are the library's: idle timeouts, evictions); a flow's series is its bytes
 * per interval from its first packet's interval to its last, silent intervals included
 * as zeros. (2) Generated traffic: flow sizes drawn from published flow-size CDFs, each
 * flow sent by a simple TCP-like rate process (slow start from 10 segments doubling per
 * RTT up to a bottleneck rate, log-uniform 1-200 Mbit/s, RTT uniform 5-100 ms, with
 * AR(1) log-normal rate noise of 30%). The rate process is a model, not data. Both come
 * from examples/flowseries.c, which pfse-train uses too.
 *
 * Replay. All samples of a data set are replayed in time order (interval index), as a
 * packet path would see them: a new flow starts from its class's prior (struct
 * pfse_history, fed by the flows that ended before), every backend runs on every flow, a
 * selector (struct pfse_selector) shadows every flow and picks a backend per class; the
 * automatic choice ("auto") for a flow is the backend its class had chosen when the flow
 * started (a flow keeps its backend). Backend parameters start at their defaults and are
 * refitted from the pooled series of recently finished flows every FIT_EVERY finished
 * flows, off the path, as an application's control thread would. Intervals are
 * calibrated per backend by split-conformal calibrators fed with the one-step scores.
 *
 * Scores, per flow with at least `min_len` intervals that ever changed: MASE at horizon 1
 * and 5 (mean absolute error of the forecast made 1 or 5 intervals before, over the
 * flow's mean absolute one-step change, Hyndman and Koehler 2006; naive's horizon-1 MASE
 * is 1 by construction), averaged over flows (mean and median); coverage of the 80% and
 * 95% one-step intervals, calibrated and with plain normal quantiles.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pfse/pfse.h>

#include "../examples/flowseries.h"
#include "bench-util.h"
#include "quality.h"

#define NB 7          /* backends evaluated */
#define H_FAR 5       /* the longer horizon */
#define FIT_EVERY 200 /* refit after this many finished flows of >= FIT_MIN_LEN */
#define FIT_MIN_LEN 10
#define FIT_POINTS 50000 /* most samples a fit uses (the most recent flows) */
#define STATE_WORDS 32   /* 256 bytes of state per backend and flow */
#define AGES 6           /* calibrators per backend, by the age of the forecast sample */

/* Mondrian calibration by age: samples 0, 1, 2, 3-4, 5-8, 9+ of a flow. A young flow's
 * errors (its prior, its first changes) are not exchangeable with a settled one's. */
static inline unsigned
age_of(uint32_t t)
{
	return t < 3 ? t : (t < 5 ? 3 : (t < 9 ? 4 : 5));
}

static const struct {
	const char *name;
	const char *backend;
	uint32_t flags;
} backends[NB] = {
	{ "ses-log", "ses", PFSE_MODEL_F_LOG1P }, /* the selector's default */
	{ "naive", "naive", 0 },
	{ "ses", "ses", 0 },
	{ "holt-damped", "holt", PFSE_MODEL_F_DAMPED },
	{ "arima", "arima", 0 },
	{ "holt-damped-log", "holt", PFSE_MODEL_F_DAMPED | PFSE_MODEL_F_LOG1P },
	{ "lstm", "lstm", PFSE_MODEL_F_LOG1P }, /* pre-trained: not refitted here */
};

static const struct pfse_lstm *lstm_model; /* quality_opts.lstm */

/* A data set: the flows' series (examples/flowseries.c: from captures through libpfse's
 * parser and flow table, or generated from a flow-size CDF) and each flow's history
 * class. */
struct dataset {
	char name[96];
	struct fs_set set;
	uint32_t *cls;      /* history slot of each flow */
	struct pfse_history *hist;
};

static int
dataset_init(struct dataset *d, const char *name)
{
	struct pfse_history_params hp;

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	pfse_history_params_init(&hp);
	hp.max_classes = 4096;
	return pfse_history_create(&hp, &d->hist);
}

/* Classifies the flows once they are all read (in the order they began). */
static int
dataset_classify(struct dataset *d)
{
	d->cls = calloc(d->set.n + 1, sizeof(*d->cls));
	if (!d->cls)
		return -ENOMEM;
	for (uint32_t i = 0; i < d->set.n; i++)
		pfse_history_classify(d->hist, &d->set.f[i].key, &d->cls[i], NULL);
	return 0;
}

static void
dataset_free(struct dataset *d)
{
	fs_free(&d->set);
	free(d->cls);
	pfse_history_destroy(d->hist);
}

/* ---- replay ------------------------------------------------------------------------ */

struct ev {
	uint64_t iv;
	uint32_t flow;
	uint32_t t; /* sample index, or UINT32_MAX: the flow ended */
};

static int
ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	int ex = x->t != UINT32_MAX, ey = y->t != UINT32_MAX;

	if (x->iv != y->iv)
		return x->iv < y->iv ? -1 : 1;
	if (ex != ey)
		return ex - ey; /* ends first */
	if (x->flow != y->flow)
		return x->flow < y->flow ? -1 : 1;
	return (x->t > y->t) - (x->t < y->t);
}

struct score {
	double sum1[NB], sum5[NB];
	uint32_t cov80[NB], cov95[NB], cov80n[NB], cov95n[NB];
	double ring[NB][H_FAR];
	uint32_t sid;
	uint8_t choice, shadowed;
};

struct agg {
	double *m1, *m5; /* per scored flow */
	uint64_t c80, c95, c80n, c95n, pts;
	unsigned nf;
};

static int
mk_predictor(unsigned b, struct pfse_predictor **out)
{
	struct pfse_predictor_params p;
	struct pfse_model_params m;

	pfse_model_params_init(&m);
	m.flags = backends[b].flags;
	if (strcmp(backends[b].backend, "arima") == 0) {
		m.p = 2;
		m.d = 1;
		m.q = 2;
	}
	pfse_predictor_params_init(&p);
	p.ops = pfse_predictor_backend(backends[b].backend);
	p.model = &m;
	if (strcmp(backends[b].backend, "lstm") == 0)
		p.user = (void *)(uintptr_t)lstm_model;
	return pfse_predictor_create(&p, out);
}

/* Refits every backend from the most recent finished flows (pool of indexes). */
static unsigned
refit(struct pfse_predictor *pred[NB], const struct dataset *d, const uint32_t *pool,
      uint32_t npool, const double **ser, uint32_t *lens)
{
	unsigned nser = 0, ok = 0;
	size_t pts = 0;

	for (uint32_t i = npool; i-- > 0 && pts < FIT_POINTS;) {
		const struct fs_flow *f = &d->set.f[pool[i]];

		ser[nser] = f->x;
		lens[nser] = f->n;
		pts += f->n;
		nser++;
	}
	for (unsigned b = 0; b < NB; b++) {
		uint32_t flags = strcmp(backends[b].backend, "arima") == 0 ? PFSE_FIT_F_ORDER : 0;

		if (strcmp(backends[b].backend, "naive") == 0 ||
		    strcmp(backends[b].backend, "lstm") == 0)
			continue;
		ok += pfse_predictor_fit(pred[b], ser, lens, nser, flags, NULL) == 0;
	}
	return ok;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median_of(double *v, unsigned n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
mean_of(const double *v, unsigned n)
{
	double s = 0;

	for (unsigned i = 0; i < n; i++)
		s += v[i];
	return n ? s / n : NAN;
}

static void
emit_agg(const struct dataset *d, const char *name, struct agg *a, const char *extra)
{
	printf("{\"name\":\"forecast-quality\",\"data\":\"%s\",\"backend\":\"%s\","
	       "\"flows\":%u,\"mase_h1\":%.4f,\"mase_h1_median\":%.4f,\"mase_h5\":%.4f,"
	       "\"mase_h5_median\":%.4f,\"coverage80\":%.4f,\"coverage95\":%.4f,"
	       "\"coverage80_normal\":%.4f,\"coverage95_normal\":%.4f,\"points\":%llu%s%s}\n",
	       d->name, name, a->nf, mean_of(a->m1, a->nf), median_of(a->m1, a->nf),
	       mean_of(a->m5, a->nf), median_of(a->m5, a->nf),
	       a->pts ? (double)a->c80 / (double)a->pts : NAN,
	       a->pts ? (double)a->c95 / (double)a->pts : NAN,
	       a->pts ? (double)a->c80n / (double)a->pts : NAN,
	       a->pts ? (double)a->c95n / (double)a->pts : NAN, (unsigned long long)a->pts,
	       extra ? "," : "", extra ? extra : "");
}

static int
replay(struct dataset *d, uint32_t min_len)
{
	struct pfse_predictor *pred[NB] = { NULL };
	struct pfse_calibrator *cal[NB][AGES] = { { NULL } };
	struct pfse_selector *sel = NULL;
	struct pfse_selector_params sp;
	struct score *sc = NULL;
	uint64_t *states = NULL, nev = 0, t0 = bench_now_ns();
	struct ev *ev = NULL;
	uint32_t *pool = NULL, npool = 0, since_fit = 0, *lens = NULL;
	const double **ser = NULL;
	unsigned fits = 0, fit_ok = 0;
	double first_err_prior = 0, first_err_zero = 0, first_err_global = 0, global_sum = 0;
	uint64_t first_n = 0, ended = 0;
	struct agg agg[NB + 1];
	int r = -ENOMEM;
	double z80n, z95n;

	memset(agg, 0, sizeof(agg));
	pfse_normal_quantile(0.9, &z80n);
	pfse_normal_quantile(0.975, &z95n);
	for (unsigned b = 0; b < NB; b++) {
		struct pfse_calibrator_params cp;

		pfse_calibrator_params_init(&cp);
		if (mk_predictor(b, &pred[b]) < 0 ||
		    pfse_predictor_state_size(pred[b]) > STATE_WORDS * 8)
			goto out;
		for (unsigned a = 0; a < AGES; a++)
			if (pfse_calibrator_create(&cp, &cal[b][a]) < 0)
				goto out;
	}
	pfse_selector_params_init(&sp);
	sp.candidates = pred;
	sp.n_candidates = NB;
	sp.classes = 4096;
	sp.shadow_flows = 1u << 16;
	sp.sample_every = 1;
	/* choose by the per-flow MASE of the flows that will be scored (flow mode) */
	sp.flow_len = min_len;
	sp.min_samples = 20;
	sp.half_life = 500;
	if (pfse_selector_create(&sp, &sel) < 0)
		goto out;
	for (uint32_t i = 0; i < d->set.n; i++)
		nev += d->set.f[i].n + 1;
	ev = malloc(nev * sizeof(*ev));
	sc = calloc(d->set.n, sizeof(*sc));
	states = calloc((size_t)d->set.n * NB * STATE_WORDS, sizeof(uint64_t));
	pool = malloc(d->set.n * sizeof(*pool));
	ser = malloc(d->set.n * sizeof(*ser));
	lens = malloc(d->set.n * sizeof(*lens));
	for (unsigned b = 0; b <= NB; b++) {
		agg[b].m1 = malloc(d->set.n * sizeof(double));
		agg[b].m5 = malloc(d->set.n * sizeof(double));
		if (!agg[b].m1 || !agg[b].m5)
			goto out;
	}
	if (!ev || !sc || !states || !pool || !ser || !lens)
		goto out;
	nev = 0;
	for (uint32_t i = 0; i < d->set.n; i++) {
		for (uint32_t t = 0; t < d->set.f[i].n; t++)
			ev[nev++] = (struct ev){ d->set.f[i].first_iv + t, i, t };
		ev[nev++] = (struct ev){ d->set.f[i].first_iv + d->set.f[i].n, i, UINT32_MAX };
	}
	qsort(ev, nev, sizeof(*ev), ev_cmp);

	for (uint64_t e = 0; e < nev; e++) {
		struct fs_flow *f = &d->set.f[ev[e].flow];
		uint32_t cls = d->cls[ev[e].flow];
		struct score *s = &sc[ev[e].flow];
		uint64_t *st = states + (size_t)ev[e].flow * NB * STATE_WORDS;
		uint32_t t = ev[e].t;
		double x;

		if (t == UINT32_MAX) {
			/* the flow ended: its class's history and the fit pool learn from it */
			struct pfse_flow_summary fs;
			double peak = 0, tot = 0;

			for (uint32_t k = 0; k < f->n; k++) {
				tot += f->x[k];
				peak = f->x[k] > peak ? f->x[k] : peak;
			}
			pfse_flow_summary_init(&fs);
			fs.bytes = (uint64_t)tot;
			fs.packets = f->packets;
			fs.duration_ns = f->t1 - f->t0;
			fs.first_interval_bytes = f->n ? (uint64_t)f->x[0] : 0;
			fs.peak_interval_bytes = (uint64_t)peak;
			pfse_history_absorb(d->hist, cls, &fs);
			global_sum += f->n ? f->x[0] : 0;
			ended++;
			if (s->shadowed)
				pfse_selector_shadow_end(sel, s->sid);
			if (f->n >= FIT_MIN_LEN) {
				pool[npool++] = ev[e].flow;
				if (++since_fit >= FIT_EVERY) {
					since_fit = 0;
					fits++;
					fit_ok += refit(pred, d, pool, npool, ser, lens);
				}
			}
			continue;
		}
		x = f->x[t];
		if (t == 0) {
			struct pfse_class_prior cp;
			struct pfse_prior pr;

			cp.size = sizeof(cp);
			pfse_history_prior(d->hist, cls, &cp);
			pfse_prior_init(&pr);
			pr.level = cp.rate;
			pr.variance = cp.rate_variance;
			pr.weight = cp.flows ? 1 : 0;
			/* the first interval, forecast from the class prior, from nothing, and
			 * from the mean first interval of all classes */
			if (ended > 0) {
				first_err_prior += fabs(x - cp.rate);
				first_err_zero += fabs(x);
				first_err_global += fabs(x - global_sum / (double)ended);
				first_n++;
			}
			for (unsigned b = 0; b < NB; b++)
				pfse_predictor_flow_init(pred[b], st + b * STATE_WORDS, &pr);
			s->choice = (uint8_t)pfse_selector_choice(sel, cls);
			s->shadowed = pfse_selector_shadow_begin(sel, cls, f->hash, &pr,
								 &s->sid) == 0;
		}
		for (unsigned b = 0; b < NB; b++) {
			void *bst = st + b * STATE_WORDS;
			struct pfse_forecast f1, f5;
			double z80, z95, dev;

			if (t >= 1 && pfse_predictor_forecast(pred[b], bst, 1, 0.8, &f1) == 0) {
				int lg = (backends[b].flags & PFSE_MODEL_F_LOG1P) != 0;

				s->sum1[b] += fabs(x - f1.mean);
				dev = lg ? fabs(log1p(x) - log1p(f1.mean)) : fabs(x - f1.mean);
				pfse_calibrator_z(cal[b][age_of(t)], 0.8, &z80);
				pfse_calibrator_z(cal[b][age_of(t)], 0.95, &z95);
				s->cov80[b] += dev <= z80 * f1.sd;
				s->cov95[b] += dev <= z95 * f1.sd;
				s->cov80n[b] += dev <= z80n * f1.sd;
				s->cov95n[b] += dev <= z95n * f1.sd;
			}
			if (t >= H_FAR)
				s->sum5[b] += fabs(x - s->ring[b][t % H_FAR]);
			{
				struct pfse_observation o;

				pfse_predictor_observe(pred[b], bst, x, &o);
				if (o.score >= 0)
					pfse_calibrator_add(cal[b][age_of(t)], o.score);
			}
			if (pfse_predictor_forecast(pred[b], bst, H_FAR, 0.8, &f5) < 0)
				f5.mean = x;
			s->ring[b][t % H_FAR] = f5.mean;
		}
		if (s->shadowed)
			pfse_selector_shadow_observe(sel, s->sid, x);
	}

	/* per-flow scores */
	for (uint32_t i = 0; i < d->set.n; i++) {
		const struct fs_flow *f = &d->set.f[i];
		const struct score *s = &sc[i];
		double scale = 0;

		if (f->n < min_len || f->n <= H_FAR)
			continue;
		for (uint32_t t = 1; t < f->n; t++)
			scale += fabs(f->x[t] - f->x[t - 1]);
		scale /= f->n - 1;
		if (!(scale > 0))
			continue;
		for (unsigned b = 0; b <= NB; b++) {
			unsigned src = b < NB ? b : s->choice;
			struct agg *a = &agg[b];

			a->m1[a->nf] = s->sum1[src] / (f->n - 1) / scale;
			a->m5[a->nf] = s->sum5[src] / (f->n - H_FAR) / scale;
			a->nf++;
			a->c80 += s->cov80[src];
			a->c95 += s->cov95[src];
			a->c80n += s->cov80n[src];
			a->c95n += s->cov95n[src];
			a->pts += f->n - 1;
		}
	}
	{
		char extra[768];
		uint64_t samples = 0;

		for (uint32_t i = 0; i < d->set.n; i++)
			samples += d->set.f[i].n;
		snprintf(extra, sizeof(extra),
			 "\"all_flows\":%u,\"samples\":%llu,\"unparsed_packets\":%llu,"
			 "\"fits\":%u,\"fits_ok\":%u,\"min_len\":%u,"
			 "\"first_interval_mae_class_prior\":%.1f,"
			 "\"first_interval_mae_global_mean\":%.1f,\"first_interval_mae_zero\":%.1f,"
			 "\"ms\":%.0f",
			 d->set.n, (unsigned long long)samples,
			 (unsigned long long)d->set.unparsed, fits, fit_ok, min_len,
			 first_n ? first_err_prior / (double)first_n : NAN,
			 first_n ? first_err_global / (double)first_n : NAN,
			 first_n ? first_err_zero / (double)first_n : NAN,
			 (double)(bench_now_ns() - t0) / 1e6);
		for (unsigned b = 0; b < NB; b++)
			emit_agg(d, backends[b].name, &agg[b], b == 0 ? extra : NULL);
	}
	{
		/* auto: which backend each class chose, and whether the targets hold */
		char extra[1024];
		unsigned classes[NB] = { 0 }, flows[NB] = { 0 }, n = 0;
		int len;
		double m1 = mean_of(agg[NB].m1, agg[NB].nf);
		double c80 = agg[NB].pts ? (double)agg[NB].c80 / (double)agg[NB].pts : NAN;
		double c95 = agg[NB].pts ? (double)agg[NB].c95 / (double)agg[NB].pts : NAN;

		for (uint32_t k = 0; k < 4096; k++) {
			struct pfse_selection rep;

			rep.size = sizeof(rep);
			if (pfse_selector_report(sel, k, &rep) == 0 && rep.samples > 0)
				classes[rep.choice]++;
		}
		for (uint32_t i = 0; i < d->set.n; i++)
			if (d->set.f[i].n >= min_len)
				flows[sc[i].choice]++;
		len = snprintf(extra, sizeof(extra), "\"classes_by_choice\":{");
		for (unsigned b = 0; b < NB; b++)
			len += snprintf(extra + len, sizeof(extra) - (size_t)len, "%s\"%s\":%u",
					n++ ? "," : "", backends[b].name, classes[b]);
		len += snprintf(extra + len, sizeof(extra) - (size_t)len,
				"},\"scored_flows_by_choice\":{");
		n = 0;
		for (unsigned b = 0; b < NB; b++)
			len += snprintf(extra + len, sizeof(extra) - (size_t)len, "%s\"%s\":%u",
					n++ ? "," : "", backends[b].name, flows[b]);
		snprintf(extra + len, sizeof(extra) - (size_t)len,
			 "},\"target_mase_below_1\":%s,\"target_coverage_5pts\":%s",
			 m1 < 1 ? "true" : "false",
			 fabs(c80 - 0.8) <= 0.05 && fabs(c95 - 0.95) <= 0.05 ? "true" : "false");
		emit_agg(d, "auto", &agg[NB], extra);
	}
	r = 0;
out:
	for (unsigned b = 0; b < NB; b++) {
		pfse_predictor_destroy(pred[b]);
		for (unsigned a = 0; a < AGES; a++)
			pfse_calibrator_destroy(cal[b][a]);
	}
	for (unsigned b = 0; b <= NB; b++) {
		free(agg[b].m1);
		free(agg[b].m5);
	}
	pfse_selector_destroy(sel);
	free(ev);
	free(sc);
	free(states);
	free(pool);
	free(ser);
	free(lens);
	return r;
}

int
quality_run(const struct quality_opts *o)
{
	uint64_t rng = o->seed; /* one stream over the CDFs, in order */
	struct dataset d;
	char err[512];
	int r;

	lstm_model = o->lstm;
	if (o->ncaptures) {
		if (dataset_init(&d, "captures") < 0)
			return -1;
		for (unsigned i = 0; i < o->ncaptures; i++) {
			r = fs_from_capture(&d.set, o->captures[i], o->interval_ns, err,
					    sizeof(err));
			if (r != 0)
				fprintf(stderr, "pfse-bench: %s\n", err);
			if (r < 0) {
				dataset_free(&d);
				return -1;
			}
		}
		r = dataset_classify(&d);
		if (r == 0)
			r = replay(&d, o->min_len);
		dataset_free(&d);
		if (r < 0)
			return -1;
	}
	for (unsigned i = 0; i < o->ndists; i++) {
		const char *base = strrchr(o->dists[i], '/');
		char name[96];

		snprintf(name, sizeof(name), "dist:%s", base ? base + 1 : o->dists[i]);
		if (dataset_init(&d, name) < 0)
			return -1;
		r = fs_from_cdf(&d.set, o->dists[i], o->dist_flows, &rng, o->interval_ns, err,
				sizeof(err));
		if (r < 0)
			fprintf(stderr, "pfse-bench: %s\n", err);
		if (r == 0)
			r = dataset_classify(&d);
		if (r == 0)
			r = replay(&d, o->min_len);
		dataset_free(&d);
		if (r < 0)
			return -1;
	}
	return 0;
}
