/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Automatic per-class backend choice (select.h): a preallocated pool of shadow slots,
 * each holding one copy of a flow's state per candidate plus, for horizons above 1, a
 * ring of the forecasts each candidate made for the samples to come; and per class a
 * rolling (exponentially forgotten) sum of scaled absolute errors per candidate.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "internal.h"
#include "pfse/select.h"

/* A scaled error above this counts as this: one wild sample of a nearly constant flow
 * must not outweigh thousands of ordinary ones. */
#define SCORE_CAP 100.0

struct shadow {
	uint32_t class_id;
	uint32_t in_use;
	uint64_t n;        /* samples seen */
	double last_x;
	double dsum;       /* sum of |x_t - x_{t-1}| */
	uint64_t ne;       /* flow mode: errors summed in esum */
	double esum[PFSE_SELECT_MAX]; /* flow mode: sum of |error| per candidate */
	/* then: double ring[n_cand][horizon] (horizon > 1 only), then the states */
};

struct sclass {
	double err[PFSE_SELECT_MAX];
	double weight;
	uint64_t samples;
	uint64_t switches;
	uint8_t choice;
	uint8_t reason;
	int8_t pinned;     /* -1: automatic */
	uint8_t pad[5];
};

struct pfse_selector {
	struct pfse_predictor *cand[PFSE_SELECT_MAX];
	size_t state_off[PFSE_SELECT_MAX];
	uint32_t n_cand;
	uint32_t classes;
	uint32_t nslots;
	uint32_t nfree;
	uint32_t sample_every;
	uint32_t min_samples;
	uint32_t half_life;
	uint32_t horizon;
	uint32_t flow_len;
	double margin;
	double decay;
	size_t slot_size;
	uint8_t *slots;
	uint32_t *free_ids;
	struct sclass *cls;
	struct sclass global;      /* every class's samples together */
	struct pfse_selector_stats st;
	struct pfse_allocator alloc;
};

static inline struct shadow *
slot_at(const struct pfse_selector *s, uint32_t id)
{
	return (struct shadow *)(void *)(s->slots + (size_t)id * s->slot_size);
}

static inline double *
ring_of(struct shadow *sh)
{
	return (double *)(void *)(sh + 1);
}

static inline void *
state_of(const struct pfse_selector *s, struct shadow *sh, unsigned c)
{
	return (uint8_t *)sh + s->state_off[c];
}

PFSE_API void
pfse_selector_destroy(struct pfse_selector *sel)
{
	struct pfse_allocator a;

	if (!sel)
		return;
	a = sel->alloc;
	pfse_free(&a, sel->slots);
	pfse_free(&a, sel->free_ids);
	pfse_free(&a, sel->cls);
	pfse_free(&a, sel);
}

PFSE_API int
pfse_selector_create(const struct pfse_selector_params *p, struct pfse_selector **out)
{
	struct pfse_selector_params prm;
	struct pfse_selector *s;
	size_t off;
	int r;

	if (!p || !out)
		return -EINVAL;
	r = pfse_params_load(&prm, sizeof(prm), offsetof(struct pfse_selector_params, margin) +
						      sizeof(prm.margin), p);
	if (r < 0)
		return r;
	if (!prm.candidates || prm.n_candidates == 0 || prm.n_candidates > PFSE_SELECT_MAX ||
	    pfse_allocator_check(&prm.allocator) < 0)
		return -EINVAL;
	for (uint32_t c = 0; c < prm.n_candidates; c++)
		if (!prm.candidates[c])
			return -EINVAL;
	if (prm.classes == 0)
		prm.classes = 1024;
	if (prm.shadow_flows == 0)
		prm.shadow_flows = 1024;
	if (prm.sample_every == 0)
		prm.sample_every = 16;
	if (prm.min_samples == 0)
		prm.min_samples = 200;
	if (prm.half_life == 0)
		prm.half_life = 2000;
	if (prm.horizon == 0)
		prm.horizon = 1;
	if (prm.margin == 0)
		prm.margin = 0.05;
	else if (prm.margin < 0)
		prm.margin = 0;
	if (prm.classes > 65536 || prm.shadow_flows > (1u << 20) ||
	    prm.horizon > PFSE_SELECT_HORIZON_MAX || !(prm.margin < 1))
		return -EINVAL;
	s = pfse_zalloc(&prm.allocator, sizeof(*s), 64);
	if (!s)
		return -ENOMEM;
	s->alloc = prm.allocator;
	s->n_cand = prm.n_candidates;
	s->classes = prm.classes;
	s->nslots = prm.shadow_flows;
	s->sample_every = prm.sample_every;
	s->min_samples = prm.min_samples;
	s->half_life = prm.half_life;
	s->horizon = prm.horizon;
	s->flow_len = prm.flow_len;
	s->margin = prm.margin;
	s->decay = exp2(-1.0 / prm.half_life);
	off = sizeof(struct shadow);
	if (s->horizon > 1)
		off += (size_t)s->n_cand * s->horizon * sizeof(double);
	for (uint32_t c = 0; c < s->n_cand; c++) {
		size_t sz = pfse_predictor_state_size(prm.candidates[c]);

		s->cand[c] = prm.candidates[c];
		s->state_off[c] = off;
		off += (sz + 7) & ~(size_t)7;
	}
	s->slot_size = (off + 63) & ~(size_t)63;
	s->slots = pfse_zalloc(&s->alloc, s->slot_size * s->nslots, 64);
	s->free_ids = pfse_zalloc(&s->alloc, (size_t)s->nslots * sizeof(uint32_t), 64);
	s->cls = pfse_zalloc(&s->alloc, (size_t)s->classes * sizeof(struct sclass), 64);
	if (!s->slots || !s->free_ids || !s->cls) {
		pfse_selector_destroy(s);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < s->nslots; i++)
		s->free_ids[i] = s->nslots - 1 - i; /* pop order 0, 1, 2, ... */
	s->nfree = s->nslots;
	for (uint32_t k = 0; k < s->classes; k++)
		s->cls[k].pinned = -1;
	s->global.pinned = -1;
	*out = s;
	return 0;
}

/* A class without enough samples of its own: the global choice once the selector has
 * enough samples overall, else the default. */
static inline void
fallback(const struct pfse_selector *s, unsigned *choice, unsigned *reason)
{
	if (s->global.samples >= s->min_samples) {
		*choice = s->global.choice;
		*reason = PFSE_SELECT_R_GLOBAL;
	} else {
		*choice = 0;
		*reason = PFSE_SELECT_R_DEFAULT;
	}
}

/* A class's choice and reason as they stand (the fallback is read live). */
static inline void
current(const struct pfse_selector *s, const struct sclass *k, unsigned *choice,
	unsigned *reason)
{
	if (k->pinned < 0 && k->samples < s->min_samples && k != &s->global) {
		fallback(s, choice, reason);
	} else {
		*choice = k->choice;
		*reason = k->reason;
	}
}

PFSE_API int
pfse_selector_choice(const struct pfse_selector *sel, uint32_t class_id)
{
	unsigned choice, reason;

	if (!sel || class_id >= sel->classes)
		return -EINVAL;
	current(sel, &sel->cls[class_id], &choice, &reason);
	return (int)choice;
}

/* Re-decides a class's choice from its rolling errors. */
static void
decide(const struct pfse_selector *s, struct sclass *k)
{
	unsigned best = 0;

	if (k->pinned >= 0) {
		k->choice = (uint8_t)k->pinned;
		k->reason = PFSE_SELECT_R_PINNED;
		return;
	}
	if (k->samples < s->min_samples) {
		unsigned c = 0, r = PFSE_SELECT_R_DEFAULT;

		if (k != &s->global)
			fallback(s, &c, &r);
		k->choice = (uint8_t)c;
		k->reason = (uint8_t)r;
		return;
	}
	if (k->reason == PFSE_SELECT_R_DEFAULT || k->reason == PFSE_SELECT_R_GLOBAL ||
	    k->reason == PFSE_SELECT_R_PINNED) {
		/* first decision of its own (or just unpinned): start from what the class
		 * used until now */
		unsigned c = 0, r = 0;

		if (k != &s->global)
			fallback(s, &c, &r);
		k->choice = (uint8_t)c;
		k->reason = PFSE_SELECT_R_KEPT;
	}
	for (unsigned c = 1; c < s->n_cand; c++)
		if (k->err[c] < k->err[best])
			best = c;
	if (best == k->choice) {
		k->reason = PFSE_SELECT_R_BEST;
	} else if (k->err[best] < (1 - s->margin) * k->err[k->choice]) {
		k->choice = (uint8_t)best;
		k->reason = PFSE_SELECT_R_BEST;
		k->switches++;
	} else {
		k->reason = PFSE_SELECT_R_KEPT;
	}
}

PFSE_API int
pfse_selector_shadow_begin(struct pfse_selector *sel, uint32_t class_id, uint64_t hash,
			   const struct pfse_prior *prior, uint32_t *id)
{
	struct shadow *sh;
	uint32_t i;

	if (!sel || !id || class_id >= sel->classes)
		return -EINVAL;
	if (hash % sel->sample_every != 0) {
		sel->st.not_sampled++;
		return -EAGAIN;
	}
	if (sel->nfree == 0) {
		sel->st.pool_full++;
		return -ENOSPC;
	}
	i = sel->free_ids[sel->nfree - 1];
	sh = slot_at(sel, i);
	for (unsigned c = 0; c < sel->n_cand; c++) {
		int r = pfse_predictor_flow_init(sel->cand[c], state_of(sel, sh, c), prior);

		if (r < 0)
			return r;
	}
	sel->nfree--;
	sh->class_id = class_id;
	sh->in_use = 1;
	sh->n = 0;
	sh->last_x = 0;
	sh->dsum = 0;
	sh->ne = 0;
	memset(sh->esum, 0, sizeof(sh->esum));
	sel->st.shadowed++;
	sel->st.active++;
	*id = i;
	return 0;
}

/* Adds one score per candidate (scaled errors) to a class and to the global aggregate. */
static void
fold(struct pfse_selector *sel, uint32_t class_id, const double e[])
{
	struct sclass *k = &sel->cls[class_id], *g = &sel->global;

	for (unsigned c = 0; c < sel->n_cand; c++) {
		double v = e[c] <= SCORE_CAP ? e[c] : SCORE_CAP; /* NaN too */

		k->err[c] = sel->decay * k->err[c] + v;
		g->err[c] = sel->decay * g->err[c] + v;
	}
	k->weight = sel->decay * k->weight + 1;
	g->weight = sel->decay * g->weight + 1;
	k->samples++;
	g->samples++;
	sel->st.scored++;
	decide(sel, g);
	decide(sel, k);
}

PFSE_API int
pfse_selector_shadow_observe(struct pfse_selector *sel, uint32_t id, double x)
{
	double pred[PFSE_SELECT_MAX], scale = 0;
	struct shadow *sh;
	unsigned H;
	int scored, errs;

	if (!sel || !isfinite(x))
		return -EINVAL;
	if (id >= sel->nslots || !slot_at(sel, id)->in_use)
		return -ENOENT;
	sh = slot_at(sel, id);
	H = sel->horizon;
	x = x < 0 ? 0 : (x > PFSE_SAMPLE_MAX ? PFSE_SAMPLE_MAX : x);
	/* sample mode: scored from the third sample on (the scale needs one change before
	 * this one), once a forecast made H intervals before exists, unless the flow never
	 * changed; flow mode: every error from the second sample (H = 1) or the H-th on */
	if (sel->flow_len == 0 && sh->n >= 2 && sh->n >= H && sh->dsum > 0)
		scale = sh->dsum / (double)(sh->n - 1);
	scored = scale > 0;
	errs = sel->flow_len > 0 && sh->n >= 1 && sh->n >= H;
	for (unsigned c = 0; c < sel->n_cand; c++) {
		void *st = state_of(sel, sh, c);
		struct pfse_observation o;
		int r = pfse_predictor_observe(sel->cand[c], st, x, &o);

		if (r == -ERANGE)
			sel->st.restarts++;
		else if (r < 0)
			return r; /* cannot happen: x is finite and the state valid */
		if (H == 1) {
			pred[c] = o.forecast;
		} else {
			double *ring = ring_of(sh) + (size_t)c * H;
			struct pfse_forecast f;

			pred[c] = ring[sh->n % H];
			/* this candidate's forecast for the sample H intervals ahead; a model
			 * that cannot give one is scored as the last value */
			if (pfse_predictor_forecast(sel->cand[c], st, H, 0.8, &f) == 0)
				ring[sh->n % H] = f.mean;
			else
				ring[sh->n % H] = x;
		}
	}
	if (sh->n >= 1)
		sh->dsum += fabs(x - sh->last_x);
	sh->last_x = x;
	sh->n++;
	sel->st.samples++;
	if (errs) {
		for (unsigned c = 0; c < sel->n_cand; c++)
			sh->esum[c] += fabs(x - pred[c]);
		sh->ne++;
	}
	if (scored) {
		double e[PFSE_SELECT_MAX];

		for (unsigned c = 0; c < sel->n_cand; c++)
			e[c] = fabs(x - pred[c]) / scale;
		fold(sel, sh->class_id, e);
	}
	return 0;
}

PFSE_API int
pfse_selector_shadow_end(struct pfse_selector *sel, uint32_t id)
{
	struct shadow *sh;

	if (!sel)
		return -EINVAL;
	if (id >= sel->nslots || !slot_at(sel, id)->in_use)
		return -ENOENT;
	sh = slot_at(sel, id);
	if (sel->flow_len > 0 && sh->n >= sel->flow_len && sh->ne > 0 && sh->dsum > 0) {
		/* the flow's MASE per candidate, with the scale of its whole series */
		double e[PFSE_SELECT_MAX], scale = sh->dsum / (double)(sh->n - 1);

		for (unsigned c = 0; c < sel->n_cand; c++)
			e[c] = sh->esum[c] / (double)sh->ne / scale;
		fold(sel, sh->class_id, e);
	}
	sh->in_use = 0;
	sel->free_ids[sel->nfree++] = id;
	sel->st.active--;
	return 0;
}

PFSE_API int
pfse_selector_pin(struct pfse_selector *sel, uint32_t class_id, int candidate)
{
	if (!sel || class_id >= sel->classes || candidate < -1 ||
	    candidate >= (int)sel->n_cand)
		return -EINVAL;
	sel->cls[class_id].pinned = (int8_t)candidate;
	decide(sel, &sel->cls[class_id]);
	return 0;
}

PFSE_API int
pfse_selector_report(const struct pfse_selector *sel, uint32_t class_id,
		     struct pfse_selection *out)
{
	struct pfse_selection r;
	const struct sclass *k;

	if (!sel || !out || (class_id >= sel->classes && class_id != PFSE_SELECT_GLOBAL) ||
	    out->size < sizeof(size_t) || out->size > PFSE_PARAMS_SIZE_MAX)
		return -EINVAL;
	k = class_id == PFSE_SELECT_GLOBAL ? &sel->global : &sel->cls[class_id];
	memset(&r, 0, sizeof(r));
	r.size = out->size;
	current(sel, k, &r.choice, &r.reason);
	r.samples = k->samples;
	r.switches = k->switches;
	r.weight = k->weight;
	r.n_candidates = sel->n_cand;
	for (unsigned c = 0; c < PFSE_SELECT_MAX; c++)
		r.mase[c] = (c < sel->n_cand && k->weight > 0) ? k->err[c] / k->weight : -1;
	memcpy(out, &r, out->size < sizeof(r) ? out->size : sizeof(r));
	if (out->size > sizeof(r))
		memset((uint8_t *)out + sizeof(r), 0, out->size - sizeof(r));
	return 0;
}

PFSE_API int
pfse_selector_stats(const struct pfse_selector *sel, struct pfse_selector_stats *out)
{
	struct pfse_selector_stats r;

	if (!sel || !out || out->size < sizeof(size_t) || out->size > PFSE_PARAMS_SIZE_MAX)
		return -EINVAL;
	r = sel->st;
	r.size = out->size;
	r.reserved = 0;
	memcpy(out, &r, out->size < sizeof(r) ? out->size : sizeof(r));
	if (out->size > sizeof(r))
		memset((uint8_t *)out + sizeof(r), 0, out->size - sizeof(r));
	return 0;
}

PFSE_API int
pfse_selector_merge(struct pfse_selector *dst, const struct pfse_selector *src)
{
	if (!dst || !src || dst == src || dst->n_cand != src->n_cand ||
	    dst->classes != src->classes || dst->half_life != src->half_life ||
	    dst->horizon != src->horizon)
		return -EINVAL;
	for (uint32_t i = 0; i < dst->classes; i++) {
		struct sclass *d = &dst->cls[i];
		const struct sclass *s = &src->cls[i];

		if (s->samples == 0)
			continue;
		for (unsigned c = 0; c < dst->n_cand; c++)
			d->err[c] += s->err[c];
		d->weight += s->weight;
		d->samples += s->samples;
	}
	for (unsigned c = 0; c < dst->n_cand; c++)
		dst->global.err[c] += src->global.err[c];
	dst->global.weight += src->global.weight;
	dst->global.samples += src->global.samples;
	decide(dst, &dst->global);
	for (uint32_t i = 0; i < dst->classes; i++)
		if (src->cls[i].samples)
			decide(dst, &dst->cls[i]);
	return 0;
}
