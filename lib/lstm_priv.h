/* SPDX-License-Identifier: BSD-3-Clause */
/* LSTM internals shared by the inference (lstm.c), the predictor core (predict.c), the
 * trainer (lstm_train.c) and the tests. */
#ifndef PFSE_LSTM_PRIV_H
#define PFSE_LSTM_PRIV_H

#include <stdint.h>
#include <string.h>

#include "pfse/lstm.h"
#include "pfse/predict.h"

#define LSTM_IN PFSE_LSTM_INPUTS
#define LSTM_AGE_MAX 64.0
#define LSTM_LV_MIN (-12.0)
#define LSTM_LV_MAX 12.0

/* Weights: W is (I + H) rows of 4H (the gate pre-activations i, f, g, o, each H wide)
 * for the inputs then the previous h; b is 4H; Wy is H rows of 2 (mean, log-variance);
 * by is 2. All float. */
struct pfse_lstm {
	uint32_t H;
	uint32_t is_static;
	double mu, sd;            /* normalisation of y = log(1 + x) */
	double inv_sd;            /* 1 / sd (lstm_set_norm) */
	float *W, *b, *Wy;
	float by[2];
	struct pfse_allocator alloc;
};

/* Per-flow state (after the predictor core's header). */
struct lstm_state {
	float prev;               /* previous normalised level */
	uint32_t n;               /* samples seen */
	float out_mu, out_lv;     /* the next step's forecast: mean, log-variance (normalised) */
	float hc[];               /* h[H] then c[H] */
};

static inline uint32_t
lstm_state_size(uint32_t H)
{
	return (uint32_t)(sizeof(struct lstm_state) + 2 * H * sizeof(float));
}

/* The step's inputs from a normalised level f0, the previous one, the age and y. */
static inline void
lstm_inputs(double f0, double prev, uint32_t n, double y, double x[LSTM_IN])
{
	x[0] = f0;
	x[1] = n ? f0 - prev : 0;
	x[2] = (n < LSTM_AGE_MAX ? n : LSTM_AGE_MAX) / LSTM_AGE_MAX;
	x[3] = y == 0;
}

/* Sets a model's normalisation (sd > 0). */
static inline void
lstm_set_norm(struct pfse_lstm *m, double mu, double sd)
{
	m->mu = mu;
	m->sd = sd;
	m->inv_sd = 1 / sd;
}

/* exp(x) for x in [LSTM_LV_MIN, LSTM_LV_MAX] (a log-variance): 2^n e^f with n the nearest
 * integer to x log2(e), |f| <= ln(2) / 2, and e^f by its degree-6 Taylor polynomial. */
static inline float
lstm_exp(float x)
{
	float t = x * 1.44269504f, f, p;
	int32_t n = (int32_t)(t + 128.5f) - 128; /* floor(t + 1/2): t + 128.5 > 0 */
	uint32_t bits = (uint32_t)(n + 127) << 23;
	float scale;

	f = (t - (float)n) * 0.693147181f;
	p = 1.0f / 120 + f * (1.0f / 720);
	p = 1.0f / 6 + f * (1.0f / 24 + f * p);
	p = 1.0f + f * (1.0f + f * (0.5f + f * p));
	memcpy(&scale, &bits, 4);
	return p * scale;
}

/* One step of a flow's state on the sample y (model units, log(1 + x)). */
void
pfse_lstm_feed(const struct pfse_lstm *m, void *state, double y);

/* The one-step forecast of a flow's state (model units): read, not computed. */
static inline void
lstm_forecast1(const struct pfse_lstm *m, const void *state, double *mean, double *var)
{
	const struct lstm_state *s = state;

	*mean = m->mu + m->sd * s->out_mu;
	*var = m->sd * m->sd * lstm_exp(s->out_lv);
}

/* The one-step mean and 1 / standard deviation (model units). */
static inline void
lstm_forecast1_isd(const struct pfse_lstm *m, const void *state, double *mean, double *isd)
{
	const struct lstm_state *s = state;

	*mean = m->mu + m->sd * s->out_mu;
	*isd = m->inv_sd * lstm_exp(-0.5f * s->out_lv);
}

/* The checks of pfse_lstm_load() (the whole file): 0 or its error codes. */
int
pfse_lstm_check(const void *buf, size_t len);

/* Allocates a model of hidden size H (weights zero). NULL on failure. */
struct pfse_lstm *
pfse_lstm_alloc(uint32_t H, const struct pfse_allocator *a);

/* The ops of the "lstm" backend (predict.c lists it among the built-ins). */
extern const struct pfse_predictor_ops pfse_lstm_ops;

/* Flat parameter vector of a model in double (training layout: W, b, Wy, by). */
static inline uint32_t
lstm_nparams(uint32_t H)
{
	return (LSTM_IN + H) * 4 * H + 4 * H + 2 * H + 2;
}

/*
 * Training kernel (lstm_train.c), exposed for the gradient check: the loss of a window
 * of normalised samples y[0..T] (T + 1 values; step t predicts y[t + 1] from inputs made
 * of y[0..t]) starting from state h0, c0 (H each, left unchanged), with exact tanh and
 * logistic functions in double, and its gradient with respect to the parameters w
 * (lstm_nparams(H) doubles, added to grad). `y0_prev` is the normalised level before the
 * window and `n0` the flow's age at its start. Returns the summed loss; fills h_end,
 * c_end (may be NULL).
 */
double
pfse_lstm_window(const double *w, uint32_t H, const double *y, uint32_t T, const double *ylog,
		 double y0_prev, uint32_t n0, const double *h0, const double *c0, double *grad,
		 double *h_end, double *c_end);

#endif /* PFSE_LSTM_PRIV_H */
