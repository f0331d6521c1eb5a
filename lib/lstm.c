/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tiny LSTM backend (lstm.h): model files, the default model, and per-flow inference
 * in float.
 *
 * A step computes the 4H gate pre-activations as b + sum over the inputs and the previous
 * h of (row of W) x (that value): rows of 4H contiguous floats, so the inner loop is a
 * vectorisable axpy. Activations use a rational approximation of tanh (Lambert's
 * continued fraction to degree 7/6, clamped: within 1e-4 of tanh everywhere), and
 * sigmoid(x) = (1 + tanh(x / 2)) / 2.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include <xxhash.h>

#include "internal.h"
#include "lstm_priv.h"
#include "le.h"

#define MAGIC "PFSELSTM"
#define FORMAT_VERSION 1u
#define HDR_BYTES (8 + 4 + 4 + 4 + 4 + 8 + 8 + 8)

/* ---- models ---------------------------------------------------------------------------- */

struct pfse_lstm *
pfse_lstm_alloc(uint32_t H, const struct pfse_allocator *a)
{
	struct pfse_allocator al = { NULL, NULL, NULL };
	uint32_t nf = (LSTM_IN + H) * 4 * H + 4 * H + 2 * H;
	struct pfse_lstm *m;

	if (a)
		al = *a;
	if (H == 0 || H > PFSE_LSTM_HIDDEN_MAX || pfse_allocator_check(&al) < 0)
		return NULL;
	m = pfse_zalloc(&al, sizeof(*m) + (size_t)nf * sizeof(float), 64);
	if (!m)
		return NULL;
	m->alloc = al;
	m->H = H;
	lstm_set_norm(m, 0, 1);
	m->W = (float *)(void *)(m + 1);
	m->b = m->W + (LSTM_IN + H) * 4 * H;
	m->Wy = m->b + 4 * H;
	return m;
}

PFSE_API void
pfse_lstm_destroy(struct pfse_lstm *m)
{
	struct pfse_allocator a;

	if (!m || m->is_static)
		return;
	a = m->alloc;
	pfse_free(&a, m);
}

PFSE_API uint32_t
pfse_lstm_hidden(const struct pfse_lstm *m)
{
	return m ? m->H : 0;
}

static inline uint32_t
nfloats(uint32_t H)
{
	return (LSTM_IN + H) * 4 * H + 4 * H + 2 * H + 2;
}

PFSE_API int
pfse_lstm_save(const struct pfse_lstm *m, void *buf, size_t len, size_t *out)
{
	size_t need;
	uint8_t *p;
	uint64_t d;

	if (!m || !out || (len > 0 && !buf))
		return -EINVAL;
	need = HDR_BYTES + (size_t)nfloats(m->H) * 4 + 8;
	*out = need;
	if (!buf || len < need)
		return -ENOSPC;
	p = buf;
	memcpy(p, MAGIC, 8);
	p += 8;
	put32(&p, FORMAT_VERSION);
	put32(&p, HDR_BYTES);
	put32(&p, m->H);
	put32(&p, LSTM_IN);
	memcpy(&d, &m->mu, 8);
	put64(&p, d);
	memcpy(&d, &m->sd, 8);
	put64(&p, d);
	put64(&p, 0); /* reserved */
	{
		uint32_t nw = nfloats(m->H) - 2;

		for (uint32_t i = 0; i < nw; i++) {
			uint32_t v;

			memcpy(&v, &m->W[i], 4); /* W, b and Wy are contiguous */
			put32(&p, v);
		}
		for (unsigned i = 0; i < 2; i++) {
			uint32_t v;

			memcpy(&v, &m->by[i], 4);
			put32(&p, v);
		}
	}
	put64(&p, XXH3_64bits(buf, (size_t)(p - (uint8_t *)buf)));
	return 0;
}

/* Checks a model file; fills *H, *mu, *sd and the pointer to its floats. */
static int
check_file(const uint8_t *buf, size_t len, uint32_t *H, double *mu, double *sd,
	   const uint8_t **floats)
{
	const uint8_t *p = buf;
	uint32_t hdr, in;
	uint64_t d;

	if (len < HDR_BYTES + 8 || memcmp(p, MAGIC, 8) != 0)
		return -EBADMSG;
	p += 8;
	if (get32(&p) != FORMAT_VERSION)
		return -EPROTO;
	hdr = get32(&p);
	*H = get32(&p);
	in = get32(&p);
	if (hdr != HDR_BYTES || in != LSTM_IN || *H == 0 || *H > PFSE_LSTM_HIDDEN_MAX)
		return -EBADMSG;
	if (len != HDR_BYTES + (size_t)nfloats(*H) * 4 + 8)
		return -EBADMSG;
	{
		const uint8_t *end = buf + len - 8;

		if (get64(&end) != XXH3_64bits(buf, len - 8))
			return -EILSEQ;
	}
	d = get64(&p);
	memcpy(mu, &d, 8);
	d = get64(&p);
	memcpy(sd, &d, 8);
	/* the normalisation of log(1 + x) (x < 2^63: at most 44): anything far outside is
	 * not a model of this */
	if (get64(&p) != 0 || !(fabs(*mu) <= 1e3) || !(*sd >= 1e-6 && *sd <= 1e3))
		return -EBADMSG;
	for (uint32_t i = 0; i < nfloats(*H); i++) {
		const uint8_t *q = p + 4 * i;
		uint32_t v = get32(&q);
		float f;

		memcpy(&f, &v, 4);
		if (!isfinite(f) || fabsf(f) > 1e6f)
			return -EBADMSG;
	}
	*floats = p;
	return 0;
}

static void
fill(struct pfse_lstm *m, double mu, double sd, const uint8_t *p)
{
	uint32_t nw = nfloats(m->H) - 2;

	lstm_set_norm(m, mu, sd);
	for (uint32_t i = 0; i < nw; i++) {
		uint32_t v = get32(&p);

		memcpy(&m->W[i], &v, 4);
	}
	for (unsigned i = 0; i < 2; i++) {
		uint32_t v = get32(&p);

		memcpy(&m->by[i], &v, 4);
	}
}

int
pfse_lstm_check(const void *buf, size_t len)
{
	const uint8_t *floats;
	uint32_t H;
	double mu, sd;

	if (!buf)
		return -EINVAL;
	return check_file(buf, len, &H, &mu, &sd, &floats);
}

PFSE_API int
pfse_lstm_load(const void *buf, size_t len, const struct pfse_allocator *a,
	       struct pfse_lstm **out)
{
	const uint8_t *floats;
	struct pfse_lstm *m;
	uint32_t H;
	double mu, sd;
	int r;

	if (!buf || !out)
		return -EINVAL;
	if (a && pfse_allocator_check(a) < 0)
		return -EINVAL;
	r = check_file(buf, len, &H, &mu, &sd, &floats);
	if (r < 0)
		return r;
	m = pfse_lstm_alloc(H, a);
	if (!m)
		return -ENOMEM;
	fill(m, mu, sd, floats);
	*out = m;
	return 0;
}

/* ---- the default model ----------------------------------------------------------------- */

#include "lstm_default.h" /* pfse_lstm_default_bytes[]: lib/lstm-default.pfse */

static struct pfse_lstm *default_model;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static float default_storage[(LSTM_IN + PFSE_LSTM_HIDDEN_MAX) * 4 * PFSE_LSTM_HIDDEN_MAX +
			     6 * PFSE_LSTM_HIDDEN_MAX];
static struct pfse_lstm default_struct;

static void
default_init(void)
{
	const uint8_t *floats;
	uint32_t H;
	double mu, sd;

	if (check_file(pfse_lstm_default_bytes, sizeof(pfse_lstm_default_bytes), &H, &mu, &sd,
		       &floats) < 0)
		return; /* cannot happen: a test checks the embedded file */
	default_struct.H = H;
	default_struct.is_static = 1;
	default_struct.W = default_storage;
	default_struct.b = default_storage + (LSTM_IN + H) * 4 * H;
	default_struct.Wy = default_struct.b + 4 * H;
	fill(&default_struct, mu, sd, floats);
	default_model = &default_struct;
}

PFSE_API const struct pfse_lstm *
pfse_lstm_default(void)
{
	pthread_once(&default_once, default_init);
	return default_model;
}

/* ---- inference ------------------------------------------------------------------------- */

static inline float
tanh_r(float x)
{
	float x2, p, q;

	/* (two selects, as minps and maxps do them: no branch, so loops vectorise) */
	x = x < 4.97f ? x : 4.97f;
	x = x > -4.97f ? x : -4.97f;
	x2 = x * x;
	p = x * (135135.0f + x2 * (17325.0f + x2 * (378.0f + x2)));
	q = 135135.0f + x2 * (62370.0f + x2 * (3150.0f + x2 * 28.0f));
	return p / q;
}

static inline float
sigm_r(float x)
{
	return 0.5f + 0.5f * tanh_r(0.5f * x);
}

/* On x86-64 with ifunc support, the step is also compiled for AVX2 + FMA and the loader
 * picks the variant the CPU runs (GCC and Clang target_clones). */
/* (Not under ThreadSanitizer: an ifunc resolver runs before its runtime is set up.) */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__) && \
	!defined(__SANITIZE_THREAD__)
#define PFSE_LSTM_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define PFSE_LSTM_CLONES
#endif

/*
 * One step: inputs x, state h, c (H each) in place; the next output into out[2]. Always
 * inlined: the callers below instantiate it for H = 8 and 16 (constant trip counts, so
 * every loop is unrolled into whole vectors) and once for any H.
 */
static inline __attribute__((always_inline)) void
lstm_step_n(const struct pfse_lstm *m, const float x[LSTM_IN], float *restrict h,
	    float *restrict c, float out[2], const uint32_t H)
{
	const uint32_t G = 4 * H;
	const float *restrict W = m->W;
	float z[4 * PFSE_LSTM_HIDDEN_MAX], z2[4 * PFSE_LSTM_HIDDEN_MAX];
	float hn[PFSE_LSTM_HIDDEN_MAX], pm[8] = { 0 }, pl[8] = { 0 };
	float mu, lv;

	/* Float additions are not reassociated by the compiler: the sums are split by hand
	 * into independent chains (the inputs, even and odd rows of h) so that their
	 * latencies overlap, then added. */
	for (uint32_t k = 0; k < G; k++) {
		z[k] = m->b[k] + W[k] * x[0] + W[G + k] * x[1] + W[2 * G + k] * x[2] +
		       W[3 * G + k] * x[3];
		z2[k] = 0;
	}
	for (uint32_t j = 0; j + 1 < H; j += 2) {
		const float *restrict w0 = W + (LSTM_IN + j) * G, *restrict w1 = w0 + G;
		float v0 = h[j], v1 = h[j + 1];

		for (uint32_t k = 0; k < G; k++) {
			z[k] += w0[k] * v0;
			z2[k] += w1[k] * v1;
		}
	}
	if (H & 1) {
		const float *restrict w = W + (LSTM_IN + H - 1) * G;

		for (uint32_t k = 0; k < G; k++)
			z[k] += w[k] * h[H - 1];
	}
	for (uint32_t k = 0; k < G; k++)
		z[k] += z2[k];
	/* gates i, f (logistic), g (tanh), o (logistic) */
	for (uint32_t k = 0; k < 2 * H; k++)
		z[k] = sigm_r(z[k]);
	for (uint32_t k = 2 * H; k < 3 * H; k++)
		z[k] = tanh_r(z[k]);
	for (uint32_t k = 3 * H; k < G; k++)
		z[k] = sigm_r(z[k]);
	for (uint32_t k = 0; k < H; k++) {
		c[k] = z[H + k] * c[k] + z[k] * z[2 * H + k];
		hn[k] = z[3 * H + k] * tanh_r(c[k]);
		h[k] = hn[k];
	}
	/* the head: eight partial sums each, then a tree */
	for (uint32_t k = 0; k < H; k++) {
		pm[k & 7] += m->Wy[2 * k] * hn[k];
		pl[k & 7] += m->Wy[2 * k + 1] * hn[k];
	}
	mu = m->by[0] + (((pm[0] + pm[4]) + (pm[2] + pm[6])) + ((pm[1] + pm[5]) + (pm[3] + pm[7])));
	lv = m->by[1] + (((pl[0] + pl[4]) + (pl[2] + pl[6])) + ((pl[1] + pl[5]) + (pl[3] + pl[7])));
	lv = lv < (float)LSTM_LV_MIN ? (float)LSTM_LV_MIN : lv;
	lv = lv > (float)LSTM_LV_MAX ? (float)LSTM_LV_MAX : lv;
	out[0] = mu;
	out[1] = lv; /* its exponential is taken by the forecast, off this chain */
}

PFSE_LSTM_CLONES static void
lstm_step_8(const struct pfse_lstm *m, const float x[LSTM_IN], float *h, float *c,
	    float out[2])
{
	lstm_step_n(m, x, h, c, out, 8);
}

PFSE_LSTM_CLONES static void
lstm_step_16(const struct pfse_lstm *m, const float x[LSTM_IN], float *h, float *c,
	     float out[2])
{
	lstm_step_n(m, x, h, c, out, 16);
}

PFSE_LSTM_CLONES static void
lstm_step_any(const struct pfse_lstm *m, const float x[LSTM_IN], float *h, float *c,
	      float out[2])
{
	lstm_step_n(m, x, h, c, out, m->H);
}

void
pfse_lstm_feed(const struct pfse_lstm *m, void *state, double y)
{
	struct lstm_state *s = state;
	float f0 = (float)((y - m->mu) * m->inv_sd), x[LSTM_IN], out[2];
	float *h = s->hc, *c = s->hc + m->H;

	/* lstm_inputs() in float (the trainer's, in double, must stay the same features) */
	x[0] = f0;
	x[1] = s->n ? f0 - s->prev : 0.0f;
	x[2] = (float)(s->n < LSTM_AGE_MAX ? s->n : LSTM_AGE_MAX) / (float)LSTM_AGE_MAX;
	x[3] = y == 0 ? 1.0f : 0.0f;
	if (m->H == 8)
		lstm_step_8(m, x, h, c, out);
	else if (m->H == 16)
		lstm_step_16(m, x, h, c, out);
	else
		lstm_step_any(m, x, h, c, out);
	s->prev = f0;
	if (s->n < UINT32_MAX)
		s->n++;
	s->out_mu = out[0];
	s->out_lv = out[1];
}

static int
lstm_flow_init(void *model, void *state, const struct pfse_prior *prior, void *user)
{
	const struct pfse_lstm *m = model;
	struct lstm_state *s = state;
	double var = prior->variance > 0 ? prior->variance / (m->sd * m->sd) : 1, lv;

	(void)user;
	memset(s, 0, lstm_state_size(m->H));
	s->prev = (float)((prior->level - m->mu) / m->sd);
	s->out_mu = s->prev;
	lv = log(var);
	s->out_lv = (float)(lv < LSTM_LV_MIN ? LSTM_LV_MIN : lv > LSTM_LV_MAX ? LSTM_LV_MAX : lv);
	return 0;
}

static int
lstm_observe(void *model, void *state, double y, void *user)
{
	(void)user;
	pfse_lstm_feed(model, state, y);
	return 0;
}

static int
lstm_forecast(void *model, const void *state, unsigned h, double *mean, double *var,
	      void *user)
{
	const struct pfse_lstm *m = model;
	const struct lstm_state *s = state;
	double v = lstm_exp(s->out_lv), mn = s->out_mu;

	(void)user;
	if (h > 1) {
		/* roll a copy forward, feeding the mean back */
		uint8_t buf[sizeof(struct lstm_state) + 2 * PFSE_LSTM_HIDDEN_MAX * sizeof(float)];
		struct lstm_state *t = (struct lstm_state *)(void *)buf;

		memcpy(t, s, lstm_state_size(m->H));
		for (unsigned k = 1; k < h; k++) {
			double y = m->mu + m->sd * t->out_mu;

			pfse_lstm_feed(m, t, y < 0 ? 0 : y);
			v += lstm_exp(t->out_lv);
		}
		mn = t->out_mu;
	}
	*mean = m->mu + m->sd * mn;
	*var = m->sd * m->sd * v;
	return 0;
}

/* The core sets the model and the state size (lstm_state_size(H)); init/fini unused. */
const struct pfse_predictor_ops pfse_lstm_ops = {
	PFSE_PREDICTOR_OPS_VERSION, sizeof(struct lstm_state), "lstm", NULL, NULL,
	lstm_flow_init, lstm_observe, lstm_forecast, NULL,
};
