/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Training the tiny LSTM (lstm.h): truncated back-propagation through time over windows
 * of each flow's series (the state carried from one window to the next, the gradient
 * not), Adam, gradient-norm clipping, a seeded split of the flows into training and
 * validation sets, early stopping. Arithmetic in double with libm's tanh; the weights are
 * stored as floats at the end. GSL provides the random numbers (MT19937).
 *
 * The loss of a step is the Gaussian negative log-likelihood of the next normalised
 * sample, 0.5 (lv + (y - mu)^2 exp(-lv)), without the constant.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "internal.h"
#include "lstm_priv.h"

#define BPTT_MAX 64u
#define CLIP 5.0

static inline double
sigm(double x)
{
	return 1 / (1 + exp(-x));
}

double
pfse_lstm_window(const double *w, uint32_t H, const double *y, uint32_t T, const double *ylog,
		 double y0_prev, uint32_t n0, const double *h0, const double *c0, double *grad,
		 double *h_end, double *c_end)
{
	const uint32_t G = 4 * H, R = LSTM_IN + H;
	const double *W = w, *b = w + R * G, *Wy = b + G, *by = Wy + 2 * H;
	/* per step: inputs+h_prev (R), gates (4H: i f g o, activated), c, tanh(c), h, c_prev */
	double xs[BPTT_MAX][LSTM_IN + PFSE_LSTM_HIDDEN_MAX];
	double gt[BPTT_MAX][4 * PFSE_LSTM_HIDDEN_MAX];
	double cs[BPTT_MAX + 1][PFSE_LSTM_HIDDEN_MAX], tc[BPTT_MAX][PFSE_LSTM_HIDDEN_MAX];
	double hs[BPTT_MAX + 1][PFSE_LSTM_HIDDEN_MAX];
	double mu[BPTT_MAX], lv[BPTT_MAX], loss = 0;

	if (T > BPTT_MAX)
		T = BPTT_MAX;
	memcpy(hs[0], h0, H * sizeof(double));
	memcpy(cs[0], c0, H * sizeof(double));
	for (uint32_t t = 0; t < T; t++) {
		double z[4 * PFSE_LSTM_HIDDEN_MAX];

		lstm_inputs(y[t], t ? y[t - 1] : y0_prev, n0 + t, ylog[t], xs[t]);
		memcpy(xs[t] + LSTM_IN, hs[t], H * sizeof(double));
		memcpy(z, b, G * sizeof(double));
		for (uint32_t j = 0; j < R; j++)
			for (uint32_t k = 0; k < G; k++)
				z[k] += W[j * G + k] * xs[t][j];
		for (uint32_t k = 0; k < H; k++) {
			double i = sigm(z[k]), f = sigm(z[H + k]), g = tanh(z[2 * H + k]);
			double o = sigm(z[3 * H + k]);

			gt[t][k] = i;
			gt[t][H + k] = f;
			gt[t][2 * H + k] = g;
			gt[t][3 * H + k] = o;
			cs[t + 1][k] = f * cs[t][k] + i * g;
			tc[t][k] = tanh(cs[t + 1][k]);
			hs[t + 1][k] = o * tc[t][k];
		}
		mu[t] = by[0];
		lv[t] = by[1];
		for (uint32_t k = 0; k < H; k++) {
			mu[t] += Wy[2 * k] * hs[t + 1][k];
			lv[t] += Wy[2 * k + 1] * hs[t + 1][k];
		}
		{
			double d = y[t + 1] - mu[t];

			loss += 0.5 * (lv[t] + d * d * exp(-lv[t]));
		}
	}
	if (h_end)
		memcpy(h_end, hs[T], H * sizeof(double));
	if (c_end)
		memcpy(c_end, cs[T], H * sizeof(double));
	if (!grad)
		return loss;
	{
		double *gW = grad, *gb = grad + R * G, *gWy = gb + G, *gby = gWy + 2 * H;
		double dh[PFSE_LSTM_HIDDEN_MAX] = { 0 }, dc[PFSE_LSTM_HIDDEN_MAX] = { 0 };

		for (uint32_t t = T; t-- > 0;) {
			double d = y[t + 1] - mu[t], e = exp(-lv[t]);
			double dmu = -d * e, dlv = 0.5 * (1 - d * d * e);
			double dz[4 * PFSE_LSTM_HIDDEN_MAX];

			gby[0] += dmu;
			gby[1] += dlv;
			for (uint32_t k = 0; k < H; k++) {
				gWy[2 * k] += dmu * hs[t + 1][k];
				gWy[2 * k + 1] += dlv * hs[t + 1][k];
				dh[k] += dmu * Wy[2 * k] + dlv * Wy[2 * k + 1];
			}
			for (uint32_t k = 0; k < H; k++) {
				double i = gt[t][k], f = gt[t][H + k], g = gt[t][2 * H + k];
				double o = gt[t][3 * H + k], tch = tc[t][k];
				double dcc = dc[k] + dh[k] * o * (1 - tch * tch);

				dz[3 * H + k] = dh[k] * tch * o * (1 - o);
				dz[k] = dcc * g * i * (1 - i);
				dz[H + k] = dcc * cs[t][k] * f * (1 - f);
				dz[2 * H + k] = dcc * i * (1 - g * g);
				dc[k] = dcc * f;
			}
			for (uint32_t k = 0; k < G; k++)
				gb[k] += dz[k];
			for (uint32_t j = 0; j < R; j++)
				for (uint32_t k = 0; k < G; k++)
					gW[j * G + k] += dz[k] * xs[t][j];
			/* dh for the previous step: through the recurrent rows */
			for (uint32_t j = 0; j < H; j++) {
				double s = 0;

				for (uint32_t k = 0; k < G; k++)
					s += W[(LSTM_IN + j) * G + k] * dz[k];
				dh[j] = s;
			}
		}
	}
	return loss;
}

#ifdef PFSE_HAVE_GSL

#include <gsl/gsl_rng.h>

struct flow {
	const double *y;     /* normalised */
	const double *ylog;
	uint32_t len;
};

/* Loss per step of a set of flows, forward only, state carried window to window. */
static double
eval_loss(const double *w, uint32_t H, const struct flow *f, uint32_t nf, uint32_t bptt,
	  uint64_t *steps)
{
	double loss = 0;
	uint64_t n = 0;

	for (uint32_t i = 0; i < nf; i++) {
		double h[PFSE_LSTM_HIDDEN_MAX] = { 0 }, c[PFSE_LSTM_HIDDEN_MAX] = { 0 };

		for (uint32_t s = 0; s + 1 < f[i].len; s += bptt) {
			uint32_t T = f[i].len - 1 - s < bptt ? f[i].len - 1 - s : bptt;

			loss += pfse_lstm_window(w, H, f[i].y + s, T, f[i].ylog + s,
						 s ? f[i].y[s - 1] : 0, s, h, c, NULL, h, c);
			n += T;
		}
	}
	if (steps)
		*steps = n;
	return n ? loss / (double)n : 0;
}

/* Adam's state. */
struct adam {
	double *m, *v;
	double b1t, b2t, lr;
	uint32_t P;
};

/* A batch of windows' gradients being summed. */
struct batch {
	double *g;
	uint64_t steps;
	uint32_t windows, size;
};

/* One Adam step on the batch's mean gradient, clipped by norm; the batch restarts. */
static void
adam_step(double *w, struct adam *a, struct batch *b)
{
	const double b1 = 0.9, b2 = 0.999;
	double norm = 0, scale;

	for (uint32_t k = 0; k < a->P; k++) {
		b->g[k] /= (double)b->steps;
		norm += b->g[k] * b->g[k];
	}
	norm = sqrt(norm);
	scale = norm > CLIP ? CLIP / norm : 1;
	a->b1t *= b1;
	a->b2t *= b2;
	for (uint32_t k = 0; k < a->P; k++) {
		double gk = b->g[k] * scale, mh, vh;

		a->m[k] = b1 * a->m[k] + (1 - b1) * gk;
		a->v[k] = b2 * a->v[k] + (1 - b2) * gk * gk;
		mh = a->m[k] / (1 - a->b1t);
		vh = a->v[k] / (1 - a->b2t);
		w[k] -= a->lr * mh / (sqrt(vh) + 1e-8);
	}
	memset(b->g, 0, a->P * sizeof(double));
	b->windows = 0;
	b->steps = 0;
}

/* A flow's windows, their gradients into the batch; returns the summed loss. */
static double
train_flow(double *w, uint32_t H, const struct flow *f, uint32_t bptt, struct batch *b,
	   struct adam *a, uint64_t *steps)
{
	double h[PFSE_LSTM_HIDDEN_MAX] = { 0 }, c[PFSE_LSTM_HIDDEN_MAX] = { 0 }, loss = 0;

	for (uint32_t s = 0; s + 1 < f->len; s += bptt) {
		uint32_t T = f->len - 1 - s < bptt ? f->len - 1 - s : bptt;
		double prev = s ? f->y[s - 1] : 0;

		loss += pfse_lstm_window(w, H, f->y + s, T, f->ylog + s, prev, s, h, c, b->g, h, c);
		*steps += T;
		b->steps += T;
		if (++b->windows == b->size)
			adam_step(w, a, b);
	}
	return loss;
}

PFSE_API int
pfse_lstm_train(const double *const series[], const uint32_t lens[], unsigned n,
		const struct pfse_lstm_train_params *p, struct pfse_lstm **out,
		struct pfse_lstm_train_report *report)
{
	struct pfse_lstm_train_params prm;
	struct pfse_allocator *al;
	struct flow *fl = NULL;
	double *ybuf = NULL, *w = NULL, *g = NULL, *am = NULL, *av = NULL, *best = NULL;
	uint32_t *order = NULL, H, P, nf = 0, ntrain, nval;
	uint64_t total = 0;
	gsl_rng *rng = NULL;
	double mu = 0, sd = 0, best_val = INFINITY, last_train = 0;
	uint32_t best_epoch = 0, epoch, since_best = 0;
	size_t ny = 0;
	int r = -ENOMEM;

	if (!series || !lens || !out)
		return -EINVAL;
	pfse_lstm_train_params_init(&prm);
	if (p && pfse_params_load(&prm, sizeof(prm), sizeof(size_t), p) < 0)
		return -EINVAL;
	if (prm.hidden == 0)
		prm.hidden = 8;
	if (prm.epochs == 0)
		prm.epochs = 60;
	if (prm.bptt == 0)
		prm.bptt = 32;
	if (prm.batch == 0)
		prm.batch = 16;
	if (prm.patience == 0)
		prm.patience = 6;
	if (prm.learning_rate == 0)
		prm.learning_rate = 0.01;
	if (prm.val_fraction == 0)
		prm.val_fraction = 0.2;
	if (prm.seed == 0)
		prm.seed = 1;
	if (prm.max_steps == 0)
		prm.max_steps = 200000;
	if (prm.hidden > PFSE_LSTM_HIDDEN_MAX || prm.bptt > BPTT_MAX || prm.reserved != 0 ||
	    !(prm.learning_rate > 0 && prm.learning_rate < 1) ||
	    !(prm.val_fraction > 0 && prm.val_fraction < 1) ||
	    pfse_allocator_check(&prm.allocator) < 0)
		return -EINVAL;
	al = &prm.allocator;
	H = prm.hidden;
	P = lstm_nparams(H);
	for (unsigned i = 0; i < n; i++) {
		if (!series[i] && lens[i])
			return -EINVAL;
		for (uint32_t t = 0; t < lens[i]; t++)
			if (!isfinite(series[i][t]))
				return -EINVAL;
		if (lens[i] >= 3) {
			nf++;
			total += lens[i];
		}
	}
	if (nf < 4)
		return -ENODATA;
	fl = pfse_zalloc(al, nf * sizeof(*fl), 64);
	ybuf = pfse_zalloc(al, 2 * total * sizeof(double), 64);
	order = pfse_zalloc(al, nf * sizeof(uint32_t), 64);
	w = pfse_zalloc(al, P * sizeof(double), 64);
	g = pfse_zalloc(al, P * sizeof(double), 64);
	am = pfse_zalloc(al, P * sizeof(double), 64);
	av = pfse_zalloc(al, P * sizeof(double), 64);
	best = pfse_zalloc(al, P * sizeof(double), 64);
	rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (!fl || !ybuf || !order || !w || !g || !am || !av || !best || !rng)
		goto out;
	gsl_rng_set(rng, (unsigned long)prm.seed);
	/* the flows, log(1 + x), and a seeded split */
	nf = 0;
	for (unsigned i = 0; i < n; i++) {
		if (lens[i] < 3)
			continue;
		fl[nf].ylog = ybuf + ny;
		fl[nf].y = ybuf + total + ny;
		fl[nf].len = lens[i];
		for (uint32_t t = 0; t < lens[i]; t++)
			ybuf[ny + t] = log1p(series[i][t] > 0 ? series[i][t] : 0);
		ny += lens[i];
		nf++;
	}
	for (uint32_t i = 0; i < nf; i++)
		order[i] = i;
	for (uint32_t i = nf - 1; i > 0; i--) {
		uint32_t j = (uint32_t)gsl_rng_uniform_int(rng, i + 1), x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	nval = (uint32_t)(prm.val_fraction * nf + 0.5);
	if (nval == 0)
		nval = 1;
	if (nval >= nf) {
		r = -ENODATA;
		goto out;
	}
	ntrain = nf - nval;
	{
		/* normalisation from the training flows */
		double s = 0, s2 = 0, cnt = 0;

		for (uint32_t k = 0; k < ntrain; k++) {
			const struct flow *f = &fl[order[k]];

			for (uint32_t t = 0; t < f->len; t++) {
				s += f->ylog[t];
				s2 += f->ylog[t] * f->ylog[t];
				cnt++;
			}
		}
		mu = s / cnt;
		sd = sqrt(s2 / cnt - mu * mu);
		if (!(sd > 1e-3))
			sd = 1e-3;
		for (uint32_t i = 0; i < nf; i++)
			for (uint32_t t = 0; t < fl[i].len; t++)
				((double *)fl[i].y)[t] = (fl[i].ylog[t] - mu) / sd;
	}
	/* the training and validation flows, as arrays */
	{
		struct flow *tmp = pfse_zalloc(al, nf * sizeof(*tmp), 64);

		if (!tmp)
			goto out;
		for (uint32_t k = 0; k < nf; k++)
			tmp[k] = fl[order[k]];
		memcpy(fl, tmp, nf * sizeof(*tmp));
		pfse_free(al, tmp);
	}
	/* initial weights: uniform in +-1/sqrt(H); forget-gate bias 1 */
	{
		double a = 1 / sqrt((double)H);
		uint32_t G = 4 * H, R = LSTM_IN + H;

		for (uint32_t i = 0; i < R * G; i++)
			w[i] = (2 * gsl_rng_uniform(rng) - 1) * a;
		for (uint32_t k = 0; k < H; k++)
			w[R * G + H + k] = 1;
		for (uint32_t i = 0; i < 2 * H; i++)
			w[R * G + G + i] = (2 * gsl_rng_uniform(rng) - 1) * a;
	}
	memcpy(best, w, P * sizeof(double));
	{
		struct adam ad = { am, av, 1, 1, prm.learning_rate, P };
		uint64_t steps_epoch = 0;

		for (epoch = 1; epoch <= prm.epochs; epoch++) {
			struct batch bt = { g, 0, 0, prm.batch };
			double tl = 0;
			uint64_t ts = 0;

			/* shuffle the training flows */
			for (uint32_t i = ntrain - 1; i > 0; i--) {
				uint32_t j = (uint32_t)gsl_rng_uniform_int(rng, i + 1);
				struct flow x = fl[i];

				fl[i] = fl[j];
				fl[j] = x;
			}
			memset(g, 0, P * sizeof(double));
			for (uint32_t i = 0; i < ntrain && ts < prm.max_steps; i++)
				tl += train_flow(w, H, &fl[i], prm.bptt, &bt, &ad, &ts);
			steps_epoch = ts;
			last_train = ts ? tl / (double)ts : 0;
			{
				double vl = eval_loss(w, H, fl + ntrain, nval, prm.bptt, NULL);

				if (prm.report)
					prm.report(epoch, last_train, vl, prm.report_user);
				if (vl < best_val) {
					best_val = vl;
					best_epoch = epoch;
					memcpy(best, w, P * sizeof(double));
					since_best = 0;
				} else if (++since_best >= prm.patience) {
					epoch++;
					break;
				}
			}
		}
		if (report && report->size >= sizeof(size_t)) {
			struct pfse_lstm_train_report rep;
			size_t sz = report->size < sizeof(rep) ? report->size : sizeof(rep);

			memset(&rep, 0, sizeof(rep));
			rep.size = report->size;
			rep.epochs = epoch - 1;
			rep.best_epoch = best_epoch;
			rep.best_val_loss = best_val;
			rep.final_train_loss = last_train;
			rep.train_flows = ntrain;
			rep.val_flows = nval;
			rep.steps = steps_epoch;
			memcpy(report, &rep, sz);
		}
	}
	{
		struct pfse_lstm *m = pfse_lstm_alloc(H, al);
		uint32_t nw = P - 2;

		if (!m)
			goto out;
		lstm_set_norm(m, mu, sd);
		for (uint32_t k = 0; k < nw; k++)
			m->W[k] = (float)best[k];
		m->by[0] = (float)best[nw];
		m->by[1] = (float)best[nw + 1];
		*out = m;
		r = 0;
	}
out:
	if (rng)
		gsl_rng_free(rng);
	pfse_free(al, fl);
	pfse_free(al, ybuf);
	pfse_free(al, order);
	pfse_free(al, w);
	pfse_free(al, g);
	pfse_free(al, am);
	pfse_free(al, av);
	pfse_free(al, best);
	return r;
}

#else /* !PFSE_HAVE_GSL */

PFSE_API int
pfse_lstm_train(const double *const series[], const uint32_t lens[], unsigned n,
		const struct pfse_lstm_train_params *p, struct pfse_lstm **out,
		struct pfse_lstm_train_report *report)
{
	(void)series;
	(void)lens;
	(void)n;
	(void)p;
	(void)report;
	if (!out)
		return -EINVAL;
	return -ENOTSUP;
}

#endif
