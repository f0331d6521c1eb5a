/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forecasting: the predictor object (sample rules, anomaly check, intervals, the log1p
 * transform) and the built-in backends: naive, SES, Holt (optionally damped),
 * Holt-Winters (additive trend and season) and ARIMA(p <= 3, d <= 2, q <= 3) inference.
 *
 * The smoothing recursions are those of statsmodels' holtwinters module (the reference
 * the tests' known-answer vectors come from), written in the error-correction form:
 *   Holt:  f = l + phi b;  e = y - f;  l' = f + alpha e;  b' = phi b + alpha beta e
 * which is algebraically statsmodels' l' = alpha y + (1 - alpha)(l + phi b),
 * b' = beta (l' - l) + (1 - beta) phi b. Forecast error variances are the ETS ones
 * (Hyndman et al., "Forecasting with exponential smoothing", table 6.1), with sigma^2
 * the mean squared one-step error seen so far.
 *
 * Per-flow state is a small header kept by the core (the one-step interval for the
 * anomaly check, the sample count) followed by the backend's doubles. No allocation.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "internal.h"
#include "fit.h"
#include "lstm_priv.h"
#include "pfse/predict.h"

/* ---- the normal quantile ---------------------------------------------------------------- */

PFSE_API int
pfse_criticality(uint32_t priority, double current, const struct pfse_forecast *f, double gain,
		 double *out)
{
	double g;

	if (!f || !out || !isfinite(current) || current < 0 || !isfinite(gain) || gain < 0 ||
	    !isfinite(f->mean) || f->mean < 0)
		return -EINVAL;
	g = log2((1 + f->mean) / (1 + current));
	*out = (double)priority + (g > 0 ? gain * g : 0);
	return 0;
}

PFSE_API int
pfse_normal_quantile(double p, double *out)
{
	/* Acklam's rational approximation (relative error 1.15e-9), then one Halley step on
	 * erfc, which brings it to machine precision. */
	static const double a[6] = { -3.969683028665376e+01, 2.209460984245205e+02,
				     -2.759285104469687e+02, 1.383577518672690e+02,
				     -3.066479806614716e+01, 2.506628277459239e+00 };
	static const double b[5] = { -5.447609879822406e+01, 1.615858368580409e+02,
				     -1.556989798598866e+02, 6.680131188771972e+01,
				     -1.328068155288572e+01 };
	static const double c[6] = { -7.784894002430293e-03, -3.223964580411365e-01,
				     -2.400758277161838e+00, -2.549732539343734e+00,
				     4.374664141464968e+00, 2.938163982698783e+00 };
	static const double d[4] = { 7.784695709041462e-03, 3.224671290700398e-01,
				     2.445134137142996e+00, 3.754408661907416e+00 };
	double q, r, x, e, u;

	if (!out || !(p > 0.0 && p < 1.0))
		return -EINVAL;
	if (p > 0.5) {
		/* By symmetry, from 1 - p (exact for p >= 0.5): the refinement step below then
		 * works on a small tail probability instead of cancelling near 1. */
		int ret = pfse_normal_quantile(1.0 - p, out);

		*out = -*out;
		return ret;
	}
	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else if (p <= 1 - 0.02425) {
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
		    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
	} else {
		q = sqrt(-2 * log1p(-p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	e = 0.5 * erfc(-x / sqrt(2.0)) - p;
	u = e * 2.50662827463100050242 * exp(x * x / 2); /* sqrt(2 pi) */
	x = x - u / (1 + x * u / 2);
	*out = x;
	return 0;
}

/* ---- built-in backends --------------------------------------------------------------- */

struct model {
	struct pfse_model_params p;
};

static int
model_init(void **model, const struct pfse_model_params *p, void *user)
{
	(void)model;
	(void)p;
	(void)user;
	return 0; /* the core keeps the params; see predictor_model() */
}

static void
model_fini(void *model, void *user)
{
	(void)model;
	(void)user;
}

/* Mean squared one-step error from its running sum and weight. */
static inline double
mse(double sse, double nw)
{
	return nw > 0 ? sse / nw : 0.0;
}

/* naive: the last sample; a random walk's error variance h sigma^2. */
struct st_naive {
	double last, sse, nw;
};

static int
naive_flow_init(void *model, void *state, const struct pfse_prior *pr, void *user)
{
	struct st_naive *s = state;

	(void)model;
	(void)user;
	s->last = pr->level;
	s->sse = pr->variance * pr->weight;
	s->nw = pr->weight;
	return 0;
}

static int
naive_observe(void *model, void *state, double x, void *user)
{
	struct st_naive *s = state;
	double e = x - s->last;

	(void)model;
	(void)user;
	s->sse += e * e;
	s->nw += 1;
	s->last = x;
	return 0;
}

static int
naive_forecast(void *model, const void *state, unsigned h, double *mean, double *var,
	       void *user)
{
	const struct st_naive *s = state;

	(void)model;
	(void)user;
	*mean = s->last;
	*var = h * mse(s->sse, s->nw);
	return 0;
}

/* The model params of a predictor, passed to the built-ins as their `model`. */
#define MP(model) ((const struct pfse_model_params *)(model))

/* ses: l' = l + alpha e; variance sigma^2 (1 + (h - 1) alpha^2). */
struct st_ses {
	double level, sse, nw;
};

static int
ses_flow_init(void *model, void *state, const struct pfse_prior *pr, void *user)
{
	struct st_ses *s = state;

	(void)model;
	(void)user;
	s->level = pr->level;
	s->sse = pr->variance * pr->weight;
	s->nw = pr->weight;
	return 0;
}

static int
ses_observe(void *model, void *state, double x, void *user)
{
	struct st_ses *s = state;
	double e = x - s->level;

	(void)user;
	s->sse += e * e;
	s->nw += 1;
	s->level += MP(model)->alpha * e;
	return 0;
}

static int
ses_forecast(void *model, const void *state, unsigned h, double *mean, double *var,
	     void *user)
{
	const struct st_ses *s = state;
	double a = MP(model)->alpha;

	(void)user;
	*mean = s->level;
	*var = mse(s->sse, s->nw) * (1 + (h - 1) * a * a);
	return 0;
}

/* holt: level and (damped) trend. */
struct st_holt {
	double level, trend, sse, nw;
};

static inline double
holt_phi(const struct pfse_model_params *p)
{
	return (p->flags & PFSE_MODEL_F_DAMPED) ? p->phi : 1.0;
}

static int
holt_flow_init(void *model, void *state, const struct pfse_prior *pr, void *user)
{
	struct st_holt *s = state;

	(void)model;
	(void)user;
	s->level = pr->level;
	s->trend = pr->trend;
	s->sse = pr->variance * pr->weight;
	s->nw = pr->weight;
	return 0;
}

static int
holt_observe(void *model, void *state, double x, void *user)
{
	const struct pfse_model_params *p = MP(model);
	struct st_holt *s = state;
	double phi = holt_phi(p);
	double l = s->level, b = s->trend;
	double l2 = p->alpha * x + (1 - p->alpha) * (l + phi * b);
	double e = x - (l + phi * b);

	(void)user;
	s->sse += e * e;
	s->nw += 1;
	s->trend = p->beta * (l2 - l) + (1 - p->beta) * phi * b;
	s->level = l2;
	return 0;
}

static int
holt_forecast(void *model, const void *state, unsigned h, double *mean, double *var,
	      void *user)
{
	const struct pfse_model_params *p = MP(model);
	const struct st_holt *s = state;
	double phi = holt_phi(p), ph = 0, pw = 1, v = 1, sum = 0;

	(void)user;
	/* mean: l + (phi + ... + phi^h) b; variance: 1 + sum_{j<h} (alpha + alpha beta
	 * (phi + ... + phi^j))^2, in units of sigma^2 (ETS(A,Ad,N) with beta_ets =
	 * alpha beta). */
	for (unsigned j = 1; j <= h; j++) {
		pw *= phi;
		ph += pw;
		if (j < h) {
			double c = p->alpha + p->alpha * p->beta * ph;

			sum += c * c;
		}
	}
	v += sum;
	*mean = s->level + ph * s->trend;
	*var = mse(s->sse, s->nw) * v;
	return 0;
}

/* holt-winters, additive trend and season (statsmodels' recursions):
 *   f = l + b + s[t - m];  e = y - f
 *   l' = alpha (y - s[t - m]) + (1 - alpha)(l + b)
 *   b' = beta (l' - l) + (1 - beta) b
 *   s[t] = gamma (y - l - b) + (1 - gamma) s[t - m]
 * The season ring holds the last m seasonal terms, index `pos` the one of the next
 * sample. */
struct st_hw {
	double level, trend, sse, nw;
	double pos;  /* next season index, 0 .. m - 1 (a double keeps the state all doubles) */
	double season[];
};

static int
hw_flow_init(void *model, void *state, const struct pfse_prior *pr, void *user)
{
	const struct pfse_model_params *p = MP(model);
	struct st_hw *s = state;

	(void)user;
	s->level = pr->level;
	s->trend = pr->trend;
	s->sse = pr->variance * pr->weight;
	s->nw = pr->weight;
	s->pos = 0;
	for (uint32_t i = 0; i < p->period; i++)
		s->season[i] = pr->season ? pr->season[i] : 0;
	return 0;
}

static int
hw_observe(void *model, void *state, double x, void *user)
{
	const struct pfse_model_params *p = MP(model);
	struct st_hw *s = state;
	uint32_t k = (uint32_t)s->pos;
	double l = s->level, b = s->trend, sm = s->season[k];
	double e = x - (l + b + sm);
	double l2 = p->alpha * (x - sm) + (1 - p->alpha) * (l + b);

	(void)user;
	s->sse += e * e;
	s->nw += 1;
	s->trend = p->beta * (l2 - l) + (1 - p->beta) * b;
	s->season[k] = p->gamma * (x - l - b) + (1 - p->gamma) * sm;
	s->level = l2;
	s->pos = (double)((k + 1) % p->period);
	return 0;
}

static int
hw_forecast(void *model, const void *state, unsigned h, double *mean, double *var,
	    void *user)
{
	const struct pfse_model_params *p = MP(model);
	const struct st_hw *s = state;
	uint32_t m = p->period, k = ((uint32_t)s->pos + (h - 1) % m) % m;
	double sum = 0;

	(void)user;
	/* ETS(A,A,A): c_j = alpha + alpha beta j + gamma [j mod m == 0]. */
	for (unsigned j = 1; j < h; j++) {
		double c = p->alpha + p->alpha * p->beta * j + (j % m == 0 ? p->gamma : 0);

		sum += c * c;
	}
	*mean = s->level + h * s->trend + s->season[k];
	*var = mse(s->sse, s->nw) * (1 + sum);
	return 0;
}

/*
 * arima(p, d, q): the series is differenced d times into w; w follows
 *   w_t = c + sum_i ar_i w_{t-i} + sum_j ma_j e_{t-j} + e_t.
 * The state keeps the last d raw "levels" needed to integrate (x_{t-1} and, for d = 2,
 * the first difference at t-1), the last p values of w and the last q residuals; values
 * before the flow's first samples are taken as the prior level (so w = 0) and residuals
 * as 0, the conditional-sum-of-squares convention. Forecasts iterate the recursion with
 * future residuals 0 and integrate back; the variance is sigma^2 sum_{j<h} psi_j^2 with
 * psi the weights of the integrated process.
 */
struct st_arima {
	double sse, nw;
	double x1;     /* last sample (d >= 1) */
	double dx1;    /* last first difference (d == 2) */
	double w[PFSE_ARIMA_P_MAX];  /* w_{t-1}, w_{t-2}, ... */
	double e[PFSE_ARIMA_Q_MAX];  /* e_{t-1}, e_{t-2}, ... */
	double level;  /* for d == 0 the prior level is the mean w starts from */
};

static int
arima_flow_init(void *model, void *state, const struct pfse_prior *pr, void *user)
{
	const struct pfse_model_params *p = MP(model);
	struct st_arima *s = state;

	(void)user;
	memset(s, 0, sizeof(*s));
	s->sse = pr->variance * pr->weight;
	s->nw = pr->weight;
	s->x1 = pr->level;
	s->dx1 = pr->trend;
	s->level = pr->level;
	if (p->d == 0) {
		/* Start the AR memory at the prior level rather than at 0. */
		for (unsigned i = 0; i < p->p; i++)
			s->w[i] = pr->level;
	} else if (p->d == 1) {
		for (unsigned i = 0; i < p->p; i++)
			s->w[i] = pr->trend;
	}
	return 0;
}

/* One-step prediction of w from the state. */
static inline double
arima_w_hat(const struct pfse_model_params *p, const struct st_arima *s)
{
	double w = p->constant;

	for (unsigned i = 0; i < p->p; i++)
		w += p->ar[i] * s->w[i];
	for (unsigned j = 0; j < p->q; j++)
		w += p->ma[j] * s->e[j];
	return w;
}

/* The differenced value of x given the state's last levels. */
static inline double
arima_diff(const struct pfse_model_params *p, const struct st_arima *s, double x)
{
	if (p->d == 0)
		return x;
	if (p->d == 1)
		return x - s->x1;
	return (x - s->x1) - s->dx1;
}

static int
arima_observe(void *model, void *state, double x, void *user)
{
	const struct pfse_model_params *p = MP(model);
	struct st_arima *s = state;
	double w = arima_diff(p, s, x), e = w - arima_w_hat(p, s);

	(void)user;
	s->sse += e * e;
	s->nw += 1;
	for (unsigned i = PFSE_ARIMA_P_MAX - 1; i > 0; i--)
		s->w[i] = s->w[i - 1];
	s->w[0] = w;
	for (unsigned j = PFSE_ARIMA_Q_MAX - 1; j > 0; j--)
		s->e[j] = s->e[j - 1];
	s->e[0] = e;
	if (p->d == 2)
		s->dx1 = x - s->x1;
	s->x1 = x;
	return 0;
}

static int
arima_forecast(void *model, const void *state, unsigned h, double *mean, double *var,
	       void *user)
{
	const struct pfse_model_params *p = MP(model);
	struct st_arima s = *(const struct st_arima *)state;
	double psi[PFSE_HORIZON_MAX], phi[PFSE_ARIMA_P_MAX + PFSE_ARIMA_D_MAX] = { 0 };
	unsigned np = p->p + p->d;
	double v = 0, x = s.x1;

	(void)user;
	/* Mean: iterate with zero future residuals, integrating each step. */
	for (unsigned k = 1; k <= h; k++) {
		double w = arima_w_hat(p, &s);

		for (unsigned i = PFSE_ARIMA_P_MAX - 1; i > 0; i--)
			s.w[i] = s.w[i - 1];
		s.w[0] = w;
		for (unsigned j = PFSE_ARIMA_Q_MAX - 1; j > 0; j--)
			s.e[j] = s.e[j - 1];
		s.e[0] = 0;
		if (p->d == 0) {
			x = w;
		} else if (p->d == 1) {
			x = s.x1 + w;
		} else {
			double dx = s.dx1 + w;

			x = s.x1 + dx;
			s.dx1 = dx;
		}
		s.x1 = x;
	}
	/* psi weights of (1 - sum ar B^i)(1 - B)^d x = (1 + sum ma B^j) e. The AR polynomial
	 * of the integrated process: phi(B) (1 - B)^d, at most degree 5. */
	{
		double poly[PFSE_ARIMA_P_MAX + PFSE_ARIMA_D_MAX + 1] = { 1 };

		for (unsigned i = 0; i < p->p; i++)
			poly[i + 1] = -p->ar[i];
		for (unsigned k = 0; k < p->d; k++)
			for (unsigned i = np; i > 0; i--)
				poly[i] -= poly[i - 1];
		for (unsigned i = 0; i < np; i++)
			phi[i] = -poly[i + 1];
	}
	for (unsigned j = 0; j < h; j++) {
		double ps = j == 0 ? 1 : (j <= p->q ? p->ma[j - 1] : 0);

		for (unsigned i = 1; i <= np && i <= j; i++)
			ps += phi[i - 1] * psi[j - i];
		psi[j] = ps;
		v += ps * ps;
	}
	*mean = x;
	*var = mse(s.sse, s.nw) * v;
	return 0;
}

static const struct pfse_predictor_ops builtin_ops[] = {
	{ PFSE_PREDICTOR_OPS_VERSION, sizeof(struct st_naive), "naive", model_init, model_fini,
	  naive_flow_init, naive_observe, naive_forecast, NULL },
	{ PFSE_PREDICTOR_OPS_VERSION, sizeof(struct st_ses), "ses", model_init, model_fini,
	  ses_flow_init, ses_observe, ses_forecast, NULL },
	{ PFSE_PREDICTOR_OPS_VERSION, sizeof(struct st_holt), "holt", model_init, model_fini,
	  holt_flow_init, holt_observe, holt_forecast, NULL },
	/* state_size of holt-winters depends on the period: computed at create */
	{ PFSE_PREDICTOR_OPS_VERSION, sizeof(struct st_hw), "holt-winters", model_init,
	  model_fini, hw_flow_init, hw_observe, hw_forecast, NULL },
	{ PFSE_PREDICTOR_OPS_VERSION, sizeof(struct st_arima), "arima", model_init, model_fini,
	  arima_flow_init, arima_observe, arima_forecast, NULL },
};

enum { B_NAIVE, B_SES, B_HOLT, B_HW, B_ARIMA, B_COUNT, K_LSTM = 100 };

PFSE_API const struct pfse_predictor_ops *
pfse_predictor_backend(const char *name)
{
	if (!name)
		return NULL;
	for (unsigned i = 0; i < B_COUNT; i++)
		if (strcmp(builtin_ops[i].name, name) == 0)
			return &builtin_ops[i];
	if (strcmp(name, pfse_lstm_ops.name) == 0)
		return &pfse_lstm_ops;
	return NULL;
}

/* ---- the predictor ------------------------------------------------------------------- */

/* The core's part of a flow's state, before the backend's. */
struct flow_hdr {
	uint32_t nobs;    /* samples observed */
	uint32_t flags;   /* reserved, 0 */
};

struct pfse_predictor {
	const struct pfse_predictor_ops *ops;
	void *model;          /* the backend's model (built-ins: &params) */
	struct pfse_model_params params;
	uint32_t state_size;  /* backend's */
	double z_anomaly;     /* normal quantile of (1 + anomaly_level) / 2 */
	bool log1p;
	bool builtin;
	unsigned warmup;      /* samples before the model is settled */
	int kind;             /* B_* for a built-in, -1 for an application backend */
	void *user;
	struct pfse_allocator alloc;
};

static int
check_model(const struct pfse_predictor_ops *ops, struct pfse_model_params *m)
{
	const struct pfse_predictor_ops *b = builtin_ops;

	if (m->flags & ~(PFSE_MODEL_F_DAMPED | PFSE_MODEL_F_LOG1P) || m->reserved)
		return -EINVAL;
	if (m->alpha == 0)
		m->alpha = 0.5;
	if (m->beta == 0)
		m->beta = 0.1;
	if (m->gamma == 0)
		m->gamma = 0.1;
	if (m->phi == 0)
		m->phi = 0.98;
	if (!(m->alpha > 0 && m->alpha <= 1) || !(m->beta > 0 && m->beta <= 1) ||
	    !(m->gamma > 0 && m->gamma <= 1) || !(m->phi > 0 && m->phi <= 1))
		return -EINVAL;
	if (ops == &b[B_HW] && (m->period < 2 || m->period > PFSE_SEASON_MAX))
		return -EINVAL;
	if (m->p > PFSE_ARIMA_P_MAX || m->d > PFSE_ARIMA_D_MAX || m->q > PFSE_ARIMA_Q_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < PFSE_ARIMA_P_MAX; i++)
		if (!isfinite(m->ar[i]) || (i >= m->p && m->ar[i] != 0))
			return -EINVAL;
	for (unsigned i = 0; i < PFSE_ARIMA_Q_MAX; i++)
		if (!isfinite(m->ma[i]) || (i >= m->q && m->ma[i] != 0))
			return -EINVAL;
	if (!isfinite(m->constant))
		return -EINVAL;
	return 0;
}

PFSE_API int
pfse_predictor_create(const struct pfse_predictor_params *p, struct pfse_predictor **out)
{
	struct pfse_predictor_params prm;
	struct pfse_model_params mp;
	struct pfse_predictor *pred;
	const struct pfse_predictor_ops *ops;
	double level;
	int r;

	if (!p || !out)
		return -EINVAL;
	r = pfse_params_load(&prm, sizeof(prm),
			     offsetof(struct pfse_predictor_params, ops) + sizeof(prm.ops), p);
	if (r < 0)
		return r;
	ops = prm.ops;
	if (!ops || ops->version == 0)
		return -EINVAL;
	if (ops->version > PFSE_PREDICTOR_OPS_VERSION)
		return -ENOTSUP;
	if (!ops->flow_init || !ops->observe || !ops->forecast || !ops->name ||
	    ops->state_size == 0 || ops->state_size > 4096)
		return -EINVAL;
	if (pfse_allocator_check(&prm.allocator) < 0)
		return -EINVAL;
	level = prm.anomaly_level == 0 ? 0.99 : prm.anomaly_level;
	if (!(level > 0 && level < 1))
		return -EINVAL;
	pfse_model_params_init(&mp);
	if (prm.model) {
		r = pfse_params_load(&mp, sizeof(mp), offsetof(struct pfse_model_params, flags) +
						       sizeof(mp.flags), prm.model);
		if (r < 0)
			return r;
	}
	r = check_model(ops, &mp);
	if (r < 0)
		return r;
	pred = pfse_zalloc(&prm.allocator, sizeof(*pred), 64);
	if (!pred)
		return -ENOMEM;
	pred->alloc = prm.allocator;
	pred->ops = ops;
	pred->params = mp;
	pred->user = prm.user;
	pred->log1p = (mp.flags & PFSE_MODEL_F_LOG1P) != 0;
	pred->builtin = ops >= builtin_ops && ops < builtin_ops + B_COUNT;
	pred->kind = pred->builtin ? (int)(ops - builtin_ops) : -1;
	pred->state_size = ops->state_size;
	if (ops == &builtin_ops[B_HW])
		pred->state_size += mp.period * (uint32_t)sizeof(double);
	pred->warmup = ops == &builtin_ops[B_HW] ? 2 * mp.period : 3;
	pfse_normal_quantile((1 + level) / 2, &pred->z_anomaly);
	if (pred->builtin) {
		pred->model = &pred->params;
	} else if (ops == &pfse_lstm_ops) {
		/* the model is the application's (its `user`) or the default one; its
		 * inputs are log(1 + x) */
		const struct pfse_lstm *m = prm.user ? prm.user : pfse_lstm_default();

		if (!pred->log1p || !m) {
			struct pfse_allocator a = pred->alloc;

			pfse_free(&a, pred);
			return !m ? -ENOTSUP : -EINVAL;
		}
		pred->model = (void *)(uintptr_t)m;
		pred->state_size = lstm_state_size(m->H);
		pred->kind = K_LSTM; /* called directly on the packet path */
	} else if (ops->init) {
		r = ops->init(&pred->model, &pred->params, pred->user);
		if (r < 0) {
			struct pfse_allocator a = pred->alloc;

			pfse_free(&a, pred);
			return r;
		}
	}
	*out = pred;
	return 0;
}

PFSE_API void
pfse_predictor_destroy(struct pfse_predictor *pred)
{
	struct pfse_allocator a;

	if (!pred)
		return;
	if (!pred->builtin && pred->ops->fini)
		pred->ops->fini(pred->model, pred->user);
	a = pred->alloc;
	pfse_free(&a, pred);
}

PFSE_API int
pfse_predictor_model_params(const struct pfse_predictor *pred, struct pfse_model_params *out)
{
	struct pfse_model_params p;

	if (!pred || !out || out->size < sizeof(size_t) || out->size > PFSE_PARAMS_SIZE_MAX)
		return -EINVAL;
	p = pred->params;
	p.size = out->size;
	memcpy(out, &p, out->size < sizeof(p) ? out->size : sizeof(p));
	return 0;
}

int
pfse_predictor_is_builtin(const struct pfse_predictor *pred)
{
	return pred->builtin;
}

void
pfse_predictor_set_params(struct pfse_predictor *pred, const struct pfse_model_params *m)
{
	if (pred->builtin)
		pred->params = *m;
}

PFSE_API const struct pfse_predictor_ops *
pfse_predictor_ops_of(const struct pfse_predictor *pred)
{
	return pred ? pred->ops : NULL;
}

PFSE_API size_t
pfse_predictor_state_size(struct pfse_predictor *pred)
{
	if (!pred)
		return 0;
	return sizeof(struct flow_hdr) + ((pred->state_size + 7u) & ~7u);
}

static inline void *
backend_state(void *state)
{
	return (uint8_t *)state + sizeof(struct flow_hdr);
}

static inline double
to_model(const struct pfse_predictor *pred, double x)
{
	return pred->log1p ? log1p(x) : x;
}

static inline double
from_model(const struct pfse_predictor *pred, double y)
{
	double x = pred->log1p ? expm1(y) : y;

	/* samples are in [0, PFSE_SAMPLE_MAX]: so are forecasts (expm1 may overflow) */
	return x < 0 ? 0 : (x > PFSE_SAMPLE_MAX ? PFSE_SAMPLE_MAX : x);
}

static inline bool
aligned8(const void *p)
{
	return ((uintptr_t)p & 7u) == 0;
}

PFSE_API int
pfse_predictor_flow_init(struct pfse_predictor *pred, void *state,
			 const struct pfse_prior *prior)
{
	struct pfse_prior pr;
	struct flow_hdr *hd = state;
	int r;

	if (!pred || !state || !aligned8(state))
		return -EINVAL;
	pfse_prior_init(&pr);
	if (prior) {
		r = pfse_params_load(&pr, sizeof(pr), sizeof(size_t) + sizeof(double), prior);
		if (r < 0)
			return r;
	}
	if (!isfinite(pr.level) || !isfinite(pr.trend) || !isfinite(pr.variance) ||
	    !isfinite(pr.weight) || pr.level < 0 || pr.variance < 0 || pr.weight < 0)
		return -EINVAL;
	if (pr.season) {
		for (uint32_t i = 0; i < pred->params.period; i++)
			if (!isfinite(pr.season[i]))
				return -EINVAL;
		if (pred->log1p)
			return -EINVAL; /* seasonal terms are additive in sample units */
	}
	if (pred->log1p) {
		/* The prior is in sample units; the model works on log(1 + x). */
		double l = log1p(pr.level);

		pr.trend = pr.level > 0 ? pr.trend / (1 + pr.level) : 0;
		pr.variance = pr.variance / ((1 + pr.level) * (1 + pr.level));
		pr.level = l;
	}
	memset(state, 0, pfse_predictor_state_size(pred));
	r = pred->ops->flow_init(pred->model, backend_state(state), &pr, pred->user);
	if (r < 0)
		return r;
	hd->nobs = 0;
	hd->flags = 0;
	return 0;
}



/* One-step mean and variance, model units. The built-ins are called directly so they
 * inline into observe (the per-flow update is a handful of flops); application
 * backends through their table. */
static inline int
step_forecast(struct pfse_predictor *pred, const void *bst, double *m, double *v)
{
	switch (pred->kind) {
	case B_NAIVE:
		return naive_forecast(pred->model, bst, 1, m, v, NULL);
	case B_SES:
		return ses_forecast(pred->model, bst, 1, m, v, NULL);
	case B_HOLT:
		return holt_forecast(pred->model, bst, 1, m, v, NULL);
	case B_ARIMA: {
		/* h = 1: the next w and one integration step; variance sigma^2. */
		const struct pfse_model_params *p = MP(pred->model);
		const struct st_arima *s = bst;
		double w = arima_w_hat(p, s);

		*m = p->d == 0 ? w : (p->d == 1 ? s->x1 + w : s->x1 + s->dx1 + w);
		*v = mse(s->sse, s->nw);
		return 0;
	}
	case K_LSTM:
		lstm_forecast1(pred->model, bst, m, v);
		return 0;
	default:
		return pred->ops->forecast(pred->model, bst, 1, m, v, pred->user);
	}
}

static inline int
step_observe(struct pfse_predictor *pred, void *bst, double y)
{
	switch (pred->kind) {
	case B_NAIVE:
		return naive_observe(pred->model, bst, y, NULL);
	case B_SES:
		return ses_observe(pred->model, bst, y, NULL);
	case B_HOLT:
		return holt_observe(pred->model, bst, y, NULL);
	case B_ARIMA:
		return arima_observe(pred->model, bst, y, NULL);
	case K_LSTM:
		pfse_lstm_feed(pred->model, bst, y);
		return 0;
	default:
		return pred->ops->observe(pred->model, bst, y, pred->user);
	}
}

/*
 * The anomaly check uses the one-step forecast made from the state before the sample:
 * the sample is outside [m - z sd, m + z sd] in model units, which for the monotone
 * log(1 + x) transform is the same as outside the interval in sample units. The
 * forecast after the update is made only to catch a model that overflowed.
 */
static inline int
observe_one(struct pfse_predictor *pred, void *state, double x, struct pfse_observation *out,
	    uint32_t *flags_out)
{
	struct flow_hdr *hd = state;
	void *bst = backend_state(state);
	double y, m = 0, v = 0, score = -1;
	uint32_t flags = 0;
	int r;

	if (x < 0 || x > PFSE_SAMPLE_MAX) {
		x = x < 0 ? 0 : PFSE_SAMPLE_MAX;
		flags |= PFSE_OBS_F_CLAMPED;
	}
	y = to_model(pred, x);
	if (pred->kind == K_LSTM) {
		/* always finite; 1 / sd straight from the log-variance: no root, no division */
		double isd;

		lstm_forecast1_isd(pred->model, bst, &m, &isd);
		score = fabs(y - m) * isd;
		if (hd->nobs >= pred->warmup && score > pred->z_anomaly)
			flags |= PFSE_OBS_F_ANOMALY;
	} else if (step_forecast(pred, bst, &m, &v) == 0 && isfinite(m) && v > 0 &&
		   isfinite(v)) {
		double d = y - m;

		score = fabs(d) / sqrt(v);
		if (hd->nobs >= pred->warmup && d * d > pred->z_anomaly * pred->z_anomaly * v)
			flags |= PFSE_OBS_F_ANOMALY;
	}
	if (out) {
		out->forecast = from_model(pred, m);
		out->score = hd->nobs >= pred->warmup ? score : -1;
		out->reserved = 0;
		out->reserved2 = 0;
	}
	r = step_observe(pred, bst, y);
	if (r < 0)
		goto done;
	hd->nobs++;
	if (pred->kind == K_LSTM)
		goto done; /* bounded weights, clamped activations: always finite */
	r = step_forecast(pred, bst, &m, &v);
	if (r < 0)
		goto done;
	if (pfse_unlikely(!isfinite(m) || !isfinite(v))) {
		/* Diverged: restart at this sample. */
		struct pfse_prior pr;

		pfse_prior_init(&pr);
		pr.level = y;
		pred->ops->flow_init(pred->model, bst, &pr, pred->user);
		flags |= PFSE_OBS_F_RESTART;
		r = -ERANGE;
	}
done:
	if (out)
		out->flags = flags;
	*flags_out = flags;
	return r;
}

PFSE_API int
pfse_predictor_observe(struct pfse_predictor *pred, void *state, double x,
		       struct pfse_observation *out)
{
	if (!pred || !state || !aligned8(state) || !isfinite(x))
		return -EINVAL;
	uint32_t flags;

	return observe_one(pred, state, x, out, &flags);
}

PFSE_API int
pfse_predictor_observe_burst(struct pfse_predictor *pred, void *const states[],
			     const double x[], unsigned n, struct pfse_observation out[],
			     uint64_t *anomaly_mask)
{
	uint64_t an_mask = 0;
	int ok = 0;

	if (!pred || n > PFSE_BURST_MAX || (n > 0 && (!states || !x)))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!states[i] || !aligned8(states[i]))
			return -EINVAL;
	/* All the burst's states are requested first, every line of them (up to 4): their
	 * misses overlap. */
	size_t ssz = pfse_predictor_state_size(pred);

	for (unsigned i = 0; i < n; i++) {
		uintptr_t a = (uintptr_t)states[i], end = a + ssz - 1;

		for (unsigned l = 0; l < 4 && a <= (end | 63); l++, a += 64)
			__builtin_prefetch((const void *)a, 1);
	}
	for (unsigned i = 0; i < n; i++) {
		uint32_t flags;
		int r;

		if (!isfinite(x[i])) {
			if (out) {
				memset(&out[i], 0, sizeof(out[i]));
				out[i].score = -1;
				out[i].flags = PFSE_OBS_F_REJECTED;
			}
			continue;
		}
		r = observe_one(pred, states[i], x[i], out ? &out[i] : NULL, &flags);
		if (r == 0)
			ok++;
		if (flags & PFSE_OBS_F_ANOMALY)
			an_mask |= 1ull << i;
	}
	if (anomaly_mask)
		*anomaly_mask = an_mask;
	return ok;
}

/* z for the levels asked nearly always (exact doubles), else computed. The predictor is
 * shared read-only between threads, so nothing is cached at run time. */
static inline double
z_of(double level)
{
	static const struct {
		double level, z;
	} common[] = {
		{ 0.8, 1.2815515655446004 }, { 0.9, 1.6448536269514722 },
		{ 0.95, 1.959963984540054 }, { 0.99, 2.5758293035489004 },
	};
	double z;

	for (unsigned i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (level == common[i].level)
			return common[i].z;
	pfse_normal_quantile((1 + level) / 2, &z);
	return z;
}

static int
forecast_with_z(struct pfse_predictor *pred, const void *state, unsigned h, double z,
		struct pfse_forecast *out)
{
	const struct flow_hdr *hd = state;
	double m, v, sd;
	int r;

	if (h == 1)
		r = step_forecast(pred, backend_state((void *)(uintptr_t)state), &m, &v);
	else
		r = pred->ops->forecast(pred->model, backend_state((void *)(uintptr_t)state), h, &m,
					&v, pred->user);
	if (r < 0)
		return r;
	if (!isfinite(m) || !isfinite(v) || v < 0)
		return -ERANGE;
	sd = sqrt(v);
	out->mean = from_model(pred, m);
	out->lo = from_model(pred, m - z * sd);
	out->hi = from_model(pred, m + z * sd);
	out->sd = sd;
	out->h = h;
	out->flags = 0;
	if (hd->nobs == 0)
		out->flags |= PFSE_FORECAST_F_PRIOR;
	if (hd->nobs < pred->warmup)
		out->flags |= PFSE_FORECAST_F_WARMUP;
	return 0;
}

PFSE_API int
pfse_predictor_forecast(struct pfse_predictor *pred, const void *state, unsigned h,
			double level, struct pfse_forecast *out)
{
	if (!pred || !state || !aligned8(state) || !out || h == 0 || h > PFSE_HORIZON_MAX ||
	    !(level > 0 && level < 1))
		return -EINVAL;
	return forecast_with_z(pred, state, h, z_of(level), out);
}

PFSE_API int
pfse_predictor_forecast_z(struct pfse_predictor *pred, const void *state, unsigned h, double z,
			  struct pfse_forecast *out)
{
	if (!pred || !state || !aligned8(state) || !out || h == 0 || h > PFSE_HORIZON_MAX ||
	    !(z >= 0) || !isfinite(z))
		return -EINVAL;
	return forecast_with_z(pred, state, h, z, out);
}

/* ---- fitting ------------------------------------------------------------------------- */

struct fit_data {
	const struct pfse_predictor *pred;
	const double *const *series;
	const uint32_t *lens;
	unsigned n;
	struct pfse_model_params m; /* the candidate */
	unsigned np;                /* fitted parameters */
	unsigned cond;              /* ARIMA: differenced values that condition (>= p) */
	uint32_t nobs;              /* errors counted */
};

#ifdef PFSE_HAVE_GSL

static inline double
sigmoid(double u)
{
	return 1.0 / (1.0 + exp(-u));
}

#define PHI_LO 0.8
#define PHI_HI 0.98

static inline double
sample_of(const struct fit_data *fd, unsigned k, uint32_t t)
{
	double x = fd->series[k][t];

	x = x < 0 ? 0 : (x > PFSE_SAMPLE_MAX ? PFSE_SAMPLE_MAX : x);
	return (fd->m.flags & PFSE_MODEL_F_LOG1P) ? log1p(x) : x;
}

/*
 * Exponential smoothing: one pass over the series giving the SSE of the one-step errors
 * and their derivatives in the unconstrained parameters u (alpha = sigmoid(u0), beta =
 * sigmoid(u1), phi = 0.8 + 0.18 sigmoid(u2) or gamma = sigmoid(u2)), carried forward
 * with the recursions (forward-mode differentiation), accumulated into the Gauss-Newton
 * normal equations for pfse_fitter_lm(). The initial state is each series' first sample
 * (level, trend 0), or for holt-winters its first season's mean and deviations.
 */
enum { P_ALPHA, P_BETA, P_THIRD };

#if defined(__GNUC__)
#define FIT_INLINE inline __attribute__((always_inline))
#else
#define FIT_INLINE inline
#endif

/* One body, specialised by the compiler for each model through the constant flags (the
 * wrappers below); with g == NULL only the SSE is computed (the start grid). */
static FIT_INLINE double
ets_normal_impl(const double *u, void *ctx, double *g, double *H, const bool hw,
		const bool trend, const bool damped, const unsigned dim)
{
	struct fit_data *fd = ctx;
	unsigned m = fd->m.period;
	const bool deriv = g != NULL;
	double a, da, be = 0, dbe = 0, ph = 1, dph = 0, ga = 0, dga = 0, sse = 0;
	uint32_t nobs = 0;

	a = sigmoid(u[P_ALPHA]);
	da = a * (1 - a);
	if (trend) {
		be = sigmoid(u[P_BETA]);
		dbe = be * (1 - be);
	}
	if (damped) {
		double sg = sigmoid(u[P_THIRD]);

		ph = PHI_LO + (PHI_HI - PHI_LO) * sg;
		dph = (PHI_HI - PHI_LO) * sg * (1 - sg);
	}
	if (hw) {
		ga = sigmoid(u[P_THIRD]);
		dga = ga * (1 - ga);
	}
	fd->m.alpha = a;
	fd->m.beta = trend ? be : fd->m.beta;
	if (damped)
		fd->m.phi = ph;
	if (hw)
		fd->m.gamma = ga;
	if (deriv) {
		memset(g, 0, sizeof(double) * dim);
		memset(H, 0, sizeof(double) * dim * dim);
	}
	for (unsigned k = 0; k < fd->n; k++) {
		double l, b = 0, dl[3] = { 0 }, db[3] = { 0 };
		double sea[PFSE_SEASON_MAX], ds[PFSE_SEASON_MAX][3];
		uint32_t t0, len = fd->lens[k];

		if (hw) {
			double mean = 0;

			if (len <= m)
				continue;
			for (uint32_t i = 0; i < m; i++)
				mean += sample_of(fd, k, i);
			mean /= m;
			for (uint32_t i = 0; i < m; i++) {
				sea[i] = sample_of(fd, k, i) - mean;
				ds[i][0] = ds[i][1] = ds[i][2] = 0;
			}
			l = mean;
			t0 = m;
		} else {
			if (len == 0)
				continue;
			l = sample_of(fd, k, 0);
			t0 = 1;
		}
		for (uint32_t t = t0; t < len; t++) {
			double y = sample_of(fd, k, t), f, e, l2, b2, de[3], dl2[3], db2[3];
			unsigned si = hw ? (t - t0) % m : 0;
			double sm = hw ? sea[si] : 0;

			f = l + ph * b + sm;
			e = y - f;
			for (unsigned j = 0; deriv && j < dim; j++) {
				double df = dl[j] + ph * db[j] + (hw ? ds[si][j] : 0);

				if (damped && j == P_THIRD)
					df += dph * b;
				de[j] = -df;
			}
			if (hw)
				l2 = a * (y - sm) + (1 - a) * (l + b);
			else
				l2 = a * y + (1 - a) * (l + ph * b);
			for (unsigned j = 0; deriv && j < dim; j++) {
				if (hw) {
					dl2[j] = (j == P_ALPHA ? da * (y - sm - l - b) : 0) -
						 a * ds[si][j] + (1 - a) * (dl[j] + db[j]);
				} else {
					/* l2 = f + a e, with f = l + phi b */
					double df = -de[j];

					dl2[j] = df + (j == P_ALPHA ? da * e : 0) + a * de[j];
				}
			}
			if (trend) {
				b2 = be * (l2 - l) + (1 - be) * ph * b;
				for (unsigned j = 0; deriv && j < dim; j++) {
					double dphj = (damped && j == P_THIRD) ? dph : 0;

					db2[j] = (j == P_BETA ? dbe * (l2 - l - ph * b) : 0) +
						 be * (dl2[j] - dl[j]) +
						 (1 - be) * (dphj * b + ph * db[j]);
				}
			} else {
				b2 = 0;
				memset(db2, 0, sizeof(db2));
			}
			if (hw) {
				double s2 = ga * (y - l - b) + (1 - ga) * sm;

				for (unsigned j = 0; deriv && j < dim; j++)
					ds[si][j] = (j == P_THIRD ? dga * (y - l - b - sm) : 0) -
						    ga * (dl[j] + db[j]) + (1 - ga) * ds[si][j];
				sea[si] = s2;
			}
			sse += e * e;
			nobs++;
			for (unsigned i = 0; deriv && i < dim; i++) {
				g[i] += e * de[i];
				for (unsigned j = 0; j < dim; j++)
					H[i * dim + j] += de[i] * de[j];
			}
			l = l2;
			b = b2;
			if (deriv) {
				memcpy(dl, dl2, sizeof(dl));
				memcpy(db, db2, sizeof(db));
			}
		}
	}
	fd->nobs = nobs;
	return isfinite(sse) ? sse : INFINITY;
}

/*
 * SES and Holt (damped or not) with the exact Hessian: second derivatives of the
 * recursions carried forward next to the first ones, so H = sum (e_i e_j + e e_ij) and
 * the Levenberg-Marquardt driver takes Newton steps (it damps them, and its modified
 * Cholesky copes with an indefinite H). Gauss-Newton alone (e e_ij dropped) converged
 * only linearly here: one-step errors are not small residuals. The recursion is a
 * serial chain, so the extra derivative arithmetic is nearly free; halving the number of
 * passes is what counts.
 */
static FIT_INLINE double
smooth_newton_impl(const double *u, void *ctx, double *g, double *H, const bool trend,
		   const bool damped, const unsigned dim)
{
	struct fit_data *fd = ctx;
	double p[3] = { 0, 0, 0 }, p1[3] = { 0, 0, 0 }, p2[3] = { 0, 0, 0 };
	double sse = 0;
	uint32_t nobs = 0;

	/* p[k]: the parameter of index k (alpha, beta, phi), p1 its first and p2 its second
	 * derivative in u[k]. */
	for (unsigned k = 0; k < dim; k++) {
		double sg = sigmoid(u[k]), sc = (k == P_THIRD) ? PHI_HI - PHI_LO : 1.0;

		p[k] = (k == P_THIRD ? PHI_LO : 0.0) + sc * sg;
		p1[k] = sc * sg * (1 - sg);
		p2[k] = sc * sg * (1 - sg) * (1 - 2 * sg);
	}
	if (!damped) {
		p[P_THIRD] = 1.0; /* phi */
		p1[P_THIRD] = p2[P_THIRD] = 0;
	}
	fd->m.alpha = p[P_ALPHA];
	if (trend)
		fd->m.beta = p[P_BETA];
	if (damped)
		fd->m.phi = p[P_THIRD];
	if (g) {
		memset(g, 0, sizeof(double) * dim);
		memset(H, 0, sizeof(double) * dim * dim);
	}
	for (unsigned k = 0; k < fd->n; k++) {
		const double a = p[P_ALPHA], be = trend ? p[P_BETA] : 0, ph = p[P_THIRD];
		double l, b = 0, l1[3] = { 0 }, b1[3] = { 0 };
		double l2[3][3] = { { 0 } };
		double bb2[3][3] = { { 0 } };
		uint32_t len = fd->lens[k];

		if (len == 0)
			continue;
		l = sample_of(fd, k, 0);
		for (uint32_t t = 1; t < len; t++) {
			double y = sample_of(fd, k, t), f = l + ph * b, e = y - f, ln, bn;
			double f1[3], e1[3], ln1[3], bn1[3], f2[3][3], e2[3][3], ln2[3][3];
			double bn2[3][3];

			/* derivative of a parameter q (0 alpha, 1 beta, 2 phi) in u[i] */
#define DP(q, i) ((q) == (i) ? p1[q] : 0.0)
#define DDP(q, i, j) ((q) == (i) && (q) == (j) ? p2[q] : 0.0)
			for (unsigned i = 0; g && i < dim; i++) {
				f1[i] = l1[i] + ph * b1[i] + DP(P_THIRD, i) * b;
				e1[i] = -f1[i];
			}
			ln = f + a * e;
			for (unsigned i = 0; g && i < dim; i++)
				ln1[i] = f1[i] + DP(P_ALPHA, i) * e + a * e1[i];
			bn = trend ? be * (ln - l) + (1 - be) * ph * b : 0;
			for (unsigned i = 0; g && i < dim; i++) {
				double dth = DP(P_THIRD, i) * b + ph * b1[i];

				bn1[i] = trend ? DP(P_BETA, i) * (ln - l) + be * (ln1[i] - l1[i]) -
							 DP(P_BETA, i) * ph * b + (1 - be) * dth
					       : 0;
			}
			if (g) {
				for (unsigned i = 0; i < dim; i++) {
					for (unsigned j = 0; j < dim; j++) {
						f2[i][j] = l2[i][j] + ph * bb2[i][j] +
							   DP(P_THIRD, i) * b1[j] +
							   DP(P_THIRD, j) * b1[i] +
							   DDP(P_THIRD, i, j) * b;
						e2[i][j] = -f2[i][j];
						ln2[i][j] = f2[i][j] + DDP(P_ALPHA, i, j) * e +
							    DP(P_ALPHA, i) * e1[j] +
							    DP(P_ALPHA, j) * e1[i] + a * e2[i][j];
						if (!trend) {
							bn2[i][j] = 0;
							continue;
						}
						bn2[i][j] = DDP(P_BETA, i, j) * (ln - l) +
							    DP(P_BETA, i) * (ln1[j] - l1[j]) +
							    DP(P_BETA, j) * (ln1[i] - l1[i]) +
							    be * (ln2[i][j] - l2[i][j]) -
							    DDP(P_BETA, i, j) * ph * b -
							    DP(P_BETA, i) * (DP(P_THIRD, j) * b +
									     ph * b1[j]) -
							    DP(P_BETA, j) * (DP(P_THIRD, i) * b +
									     ph * b1[i]) +
							    (1 - be) * (DDP(P_THIRD, i, j) * b +
									DP(P_THIRD, i) * b1[j] +
									DP(P_THIRD, j) * b1[i] +
									ph * bb2[i][j]);
					}
					g[i] += e * e1[i];
				}
				for (unsigned i = 0; i < dim; i++)
					for (unsigned j = 0; j < dim; j++)
						H[i * dim + j] += e1[i] * e1[j] + e * e2[i][j];
				memcpy(l2, ln2, sizeof(l2));
				memcpy(bb2, bn2, sizeof(bb2));
			}
#undef DP
#undef DDP
			sse += e * e;
			nobs++;
			l = ln;
			b = bn;
			if (g) {
				memcpy(l1, ln1, sizeof(l1));
				memcpy(b1, bn1, sizeof(b1));
			}
		}
	}
	fd->nobs = nobs;
	return isfinite(sse) ? sse : INFINITY;
}

static double
ses_normal(const double *u, void *ctx, double *g, double *H)
{
	return smooth_newton_impl(u, ctx, g, H, false, false, 1);
}

static double
holt_normal(const double *u, void *ctx, double *g, double *H)
{
	return smooth_newton_impl(u, ctx, g, H, true, false, 2);
}

static double
damped_normal(const double *u, void *ctx, double *g, double *H)
{
	return smooth_newton_impl(u, ctx, g, H, true, true, 3);
}

static double
hw_normal(const double *u, void *ctx, double *g, double *H)
{
	return ets_normal_impl(u, ctx, g, H, true, true, false, 3);
}

/*
 * ARIMA by conditional sum of squares, with the residuals' derivatives:
 *   e_t = w_t - c - sum ar_i w_{t-i} - sum ma_j e_{t-j}
 *   de_t/dc = -1 - sum ma_j de_{t-j}/dc,  de_t/dar_i = -w_{t-i} - sum ma_j de_{t-j}/dar_i,
 *   de_t/dma_j = -e_{t-j} - sum ma_l de_{t-l}/dma_j.
 * The series is differenced d times; the first `cond` (>= p) differenced values
 * condition, earlier errors are 0. u = (c if d = 0, ar[0..p), ma[0..q)).
 */
static double
arima_normal(const double *u, void *ctx, double *g, double *H)
{
	struct fit_data *fd = ctx;
	struct pfse_model_params *m = &fd->m;
	unsigned dim = fd->np, nc = m->d == 0 ? 1 : 0;
	double sse = 0;
	uint32_t nobs = 0;

	m->constant = nc ? u[0] : 0;
	for (unsigned j = 0; j < PFSE_ARIMA_P_MAX; j++)
		m->ar[j] = j < m->p ? u[nc + j] : 0;
	for (unsigned j = 0; j < PFSE_ARIMA_Q_MAX; j++)
		m->ma[j] = j < m->q ? u[nc + m->p + j] : 0;
	memset(g, 0, sizeof(double) * dim);
	memset(H, 0, sizeof(double) * dim * dim);
	for (unsigned k = 0; k < fd->n; k++) {
		double x1 = 0, dx1 = 0, w[PFSE_ARIMA_P_MAX] = { 0 }, e[PFSE_ARIMA_Q_MAX] = { 0 };
		double dep[PFSE_ARIMA_Q_MAX][PFSE_FIT_DIM_MAX];
		uint32_t len = fd->lens[k];

		memset(dep, 0, sizeof(dep));
		for (uint32_t t = 0; t < len; t++) {
			double x = sample_of(fd, k, t), wt, err, de[PFSE_FIT_DIM_MAX];

			if (m->d == 0) {
				wt = x;
			} else if (m->d == 1) {
				wt = x - x1;
			} else {
				wt = (x - x1) - dx1;
				dx1 = x - x1;
			}
			x1 = x;
			if (t < m->d + fd->cond) {
				if (t >= m->d) {
					for (unsigned i = PFSE_ARIMA_P_MAX - 1; i > 0; i--)
						w[i] = w[i - 1];
					w[0] = wt;
				}
				continue;
			}
			err = wt - m->constant;
			for (unsigned i = 0; i < m->p; i++)
				err -= m->ar[i] * w[i];
			for (unsigned j = 0; j < m->q; j++)
				err -= m->ma[j] * e[j];
			for (unsigned v = 0; v < dim; v++) {
				double d = 0;

				if (nc && v == 0)
					d = -1;
				else if (v < nc + m->p)
					d = -w[v - nc];
				else
					d = -e[v - nc - m->p];
				for (unsigned j = 0; j < m->q; j++)
					d -= m->ma[j] * dep[j][v];
				de[v] = d;
			}
			sse += err * err;
			nobs++;
			for (unsigned i = 0; i < dim; i++) {
				g[i] += err * de[i];
				for (unsigned j = 0; j < dim; j++)
					H[i * dim + j] += de[i] * de[j];
			}
			for (unsigned i = PFSE_ARIMA_P_MAX - 1; i > 0; i--)
				w[i] = w[i - 1];
			w[0] = wt;
			for (unsigned j = PFSE_ARIMA_Q_MAX - 1; j > 0; j--) {
				e[j] = e[j - 1];
				memcpy(dep[j], dep[j - 1], sizeof(dep[j]));
			}
			e[0] = err;
			memcpy(dep[0], de, sizeof(de));
		}
	}
	fd->nobs = nobs;
	return isfinite(sse) ? sse : INFINITY;
}

#define M_PI_VALUE 3.14159265358979323846

static double
aicc_of(double sse, uint32_t nobs, unsigned k)
{
	double s2 = sse / nobs;
	double aic = nobs * (log(2 * M_PI_VALUE * s2) + 1) + 2.0 * k;

	if (nobs <= k + 1)
		return INFINITY;
	return aic + 2.0 * k * (k + 1) / (nobs - k - 1);
}

/* The unconstrained point of the parameters in place (u of ets_normal_impl()), if each is
 * strictly inside its range (a sigmoid reaches neither end); `u` is left alone if not. */
static bool
ets_point_of(const struct pfse_model_params *m, bool trend, bool hw, bool damped, double u[3])
{
	double v[3] = { m->alpha, trend ? m->beta : 0.5,
			hw	 ? m->gamma
			: damped ? (m->phi - PHI_LO) / (PHI_HI - PHI_LO)
				 : 0.5 };
	double w[3];

	for (unsigned i = 0; i < 3; i++) {
		if (!(v[i] > 0 && v[i] < 1))
			return false;
		w[i] = log(v[i] / (1 - v[i]));
		if (!isfinite(w[i]))
			return false;
	}
	memcpy(u, w, sizeof(w));
	return true;
}

/* A fit that ends against a limit leaves u far out (alpha = 1 - 2e-9 at u = 20), where the
 * logistic is flat: the gradient in u vanishes whatever the series, and Levenberg-Marquardt
 * would stop at once. Such a start competes with its copies with one or more of those
 * coordinates pulled back to +-U_EDGE (within 0.25% of the limit): one of them wins once
 * the optimum has left the limit, and LM walks from there. */
#define U_EDGE 6.0

/* The built-ins' fit: see pfse_predictor_fit() in predict.h. */
static int
builtin_fit(struct pfse_predictor *pred, struct fit_data *fd, uint64_t total, uint32_t flags,
	    struct pfse_fit_report *rep)
{
	double gs[PFSE_FIT_DIM_MAX], Hs[PFSE_FIT_DIM_MAX * PFSE_FIT_DIM_MAX];
	int r;

	if (pred->ops != &builtin_ops[B_ARIMA]) {
		/* Start from the best point of a coarse grid (the SSE surface of smoothing
		 * models can have several minima), then Levenberg-Marquardt. */
		/* alpha .18 .5 .82; beta (trends change slowly) .011 .12 .62 */
		static const double grid[3] = { -1.5, 0.0, 1.5 }, gridb[3] = { -4.5, -2.0, 0.5 };
		bool hw = pred->ops == &builtin_ops[B_HW];
		bool trend = pred->ops == &builtin_ops[B_HOLT] || hw;
		bool damped = pred->ops == &builtin_ops[B_HOLT] &&
			      (fd->m.flags & PFSE_MODEL_F_DAMPED);
		bool third = hw || damped;
		unsigned dim = 1 + trend + third, it = 0, n1 = 3, n2 = trend ? 3 : 1;
		unsigned n3 = third ? 3 : 1;
		double u[3] = { 0, 0, 0 }, best[3] = { 0, 0, 0 }, bestf = INFINITY, fmin;
		pfse_fit_normal_fn fn = hw     ? hw_normal
					: damped ? damped_normal
					: trend	 ? holt_normal
						 : ses_normal;

		/* the parameters in place: a refit on series that have barely changed since
		 * the last fit starts at its optimum (one pass, not a walk of 18 iterations to
		 * it: pfse-replay's Holt refits); with PFSE_FIT_F_WARM, the only start */
		bool in_place = ets_point_of(&pred->params, trend, hw, damped, best);
		bool grid_too = !(in_place && (flags & PFSE_FIT_F_WARM));

		fd->np = dim;
		if (total < 2 * dim + 2)
			return -ENODATA;
		if (in_place) {
			double at[3];
			unsigned edge = 0;

			memcpy(at, best, sizeof(at));
			bestf = fn(at, fd, NULL, NULL);
			for (unsigned i = 0; i < dim; i++)
				edge |= (unsigned)(fabs(at[i]) > U_EDGE) << i;
			/* every non-empty subset of the coordinates at a limit, pulled back */
			for (unsigned sub = edge; sub; sub = (sub - 1) & edge) {
				double f;

				memcpy(u, at, sizeof(u));
				for (unsigned i = 0; i < dim; i++)
					if (sub >> i & 1)
						u[i] = at[i] > 0 ? U_EDGE : -U_EDGE;
				f = fn(u, fd, NULL, NULL);
				if (f < bestf || !isfinite(bestf)) {
					bestf = f;
					memcpy(best, u, sizeof(u));
				}
			}
			grid_too = grid_too || !isfinite(bestf); /* no start in place after all */
		}
		for (unsigned i = 0; i < n1 && grid_too; i++)
			for (unsigned j = 0; j < n2; j++)
				for (unsigned k = 0; k < n3; k++) {
					double f;

					u[0] = grid[i];
					u[1] = gridb[j];
					u[2] = grid[k];
					f = fn(u, fd, NULL, NULL);
					if (f < bestf) {
						bestf = f;
						memcpy(best, u, sizeof(u));
					}
				}
		if (!isfinite(bestf))
			return -ERANGE;
		r = pfse_fitter_lm(dim, fn, fd, best, 100, &fmin, &it);
		if (r < 0)
			return r;
		rep->sse = fn(best, fd, NULL, NULL); /* leaves fd->m at the optimum */
		if (fd->nobs < 2 * dim)
			return -ENODATA;
		rep->iterations = it;
	} else {
		unsigned pmax = pred->params.p, qmax = pred->params.q, it = 0;
		struct pfse_model_params best = fd->m;
		double best_aicc = INFINITY, best_sse = INFINITY;
		uint32_t best_nobs = 0;

		for (unsigned p = (flags & PFSE_FIT_F_ORDER) ? 0 : pmax; p <= pmax; p++) {
			for (unsigned q = (flags & PFSE_FIT_F_ORDER) ? 0 : qmax; q <= qmax; q++) {
				unsigned nc = pred->params.d == 0, dim = nc + p + q, its = 0;
				unsigned k = dim + 1;
				double u[PFSE_FIT_DIM_MAX], css, a, mean = 0;
				uint64_t cnt = 0;

				fd->m = pred->params;
				fd->m.p = p;
				fd->m.q = q;
				fd->np = dim;
				/* every candidate is conditioned on the same values, so that
				 * their AICc compare likelihoods of the same observations */
				fd->cond = pmax;
				if (nc) {
					for (unsigned s = 0; s < fd->n; s++)
						for (uint32_t t = 0; t < fd->lens[s]; t++, cnt++)
							mean += sample_of(fd, s, t);
					u[0] = cnt ? mean / cnt : 0;
				}
				for (unsigned j = nc; j < dim; j++)
					u[j] = 0.1;
				if (dim == 0) {
					css = arima_normal(u, fd, gs, Hs);
				} else {
					r = pfse_fitter_lm(dim, arima_normal, fd, u, 200, &css,
							   &its);
					if (r < 0)
						continue;
					css = arima_normal(u, fd, gs, Hs);
				}
				it += its;
				if (!isfinite(css) || fd->nobs < 2 * k)
					continue;
				a = aicc_of(css, fd->nobs, k);
				if (a < best_aicc) {
					best_aicc = a;
					best_sse = css;
					best_nobs = fd->nobs;
					best = fd->m;
				}
			}
		}
		if (!isfinite(best_aicc))
			return total < 8 ? -ENODATA : -ERANGE;
		fd->m = best;
		fd->nobs = best_nobs;
		rep->sse = best_sse;
		rep->aicc = best_aicc;
		rep->iterations = it;
	}
	return 0;
}
#endif /* PFSE_HAVE_GSL */

PFSE_API int
pfse_predictor_fit(struct pfse_predictor *pred, const double *const series[],
		   const uint32_t lens[], unsigned n, uint32_t flags,
		   struct pfse_fit_report *report)
{
	struct pfse_fit_report rep;
	struct fit_data fd;
	uint64_t total = 0;
	int r;

	if (!pred || !series || !lens || n == 0 || (flags & ~(PFSE_FIT_F_ORDER | PFSE_FIT_F_WARM)))
		return -EINVAL;
	if (report && (report->size < sizeof(size_t) || report->size > PFSE_PARAMS_SIZE_MAX))
		return -EINVAL;
	for (unsigned k = 0; k < n; k++) {
		if (!series[k] && lens[k] > 0)
			return -EINVAL;
		for (uint32_t t = 0; t < lens[k]; t++)
			if (!isfinite(series[k][t]))
				return -EINVAL;
		total += lens[k];
	}
	if (!pred->builtin) {
		if (!pred->ops->fit)
			return -ENOTSUP;
		return pred->ops->fit(pred->model, series, lens, n, pred->user);
	}
	if (pred->ops == &builtin_ops[B_NAIVE])
		return -ENOTSUP;
	memset(&rep, 0, sizeof(rep));
	rep.aicc = NAN;
	memset(&fd, 0, sizeof(fd));
	fd.pred = pred;
	fd.series = series;
	fd.lens = lens;
	fd.n = n;
	fd.m = pred->params;
#ifdef PFSE_HAVE_GSL
	r = builtin_fit(pred, &fd, total, flags, &rep);
	if (r < 0)
		return r;
#else
	(void)total;
	(void)r;
	return -ENOTSUP;
#endif
	if (fd.nobs == 0)
		return -ENODATA;
	pred->params = fd.m;
	rep.nobs = fd.nobs;
	rep.sigma2 = rep.sse / fd.nobs;
	rep.p = fd.m.p;
	rep.d = fd.m.d;
	rep.q = fd.m.q;
	if (report) {
		rep.size = report->size;
		memcpy(report, &rep, report->size < sizeof(rep) ? report->size : sizeof(rep));
	}
	return 0;
}
