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
	double margin;
	double decay;
	size_t slot_size;
	uint8_t *slots;
	uint32_t *free_ids;
	struct sclass *cls;
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
	    prm.reserved != 0 || pfse_allocator_check(&prm.allocator) < 0)
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
	*out = s;
	return 0;
}

PFSE_API int
pfse_selector_choice(const struct pfse_selector *sel, uint32_t class_id)
{
	if (!sel || class_id >= sel->classes)
		return -EINVAL;
	return sel->cls[class_id].choice;
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
		k->choice = 0;
		k->reason = PFSE_SELECT_R_DEFAULT;
		return;
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
	sel->st.shadowed++;
	sel->st.active++;
	*id = i;
	return 0;
}

PFSE_API int
pfse_selector_shadow_observe(struct pfse_selector *sel, uint32_t id, double x)
{
	double pred[PFSE_SELECT_MAX], scale = 0;
	struct shadow *sh;
	unsigned H;
	int scored;

	if (!sel || !isfinite(x))
		return -EINVAL;
	if (id >= sel->nslots || !slot_at(sel, id)->in_use)
		return -ENOENT;
	sh = slot_at(sel, id);
	H = sel->horizon;
	x = x < 0 ? 0 : (x > PFSE_SAMPLE_MAX ? PFSE_SAMPLE_MAX : x);
	/* scored: from the third sample on (the scale needs one change before this one),
	 * once a forecast made H intervals before exists, unless the flow never changed */
	if (sh->n >= 2 && sh->n >= H && sh->dsum > 0)
		scale = sh->dsum / (double)(sh->n - 1);
	scored = scale > 0;
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
	if (scored) {
		struct sclass *k = &sel->cls[sh->class_id];

		for (unsigned c = 0; c < sel->n_cand; c++) {
			double e = fabs(x - pred[c]) / scale;

			if (!(e <= SCORE_CAP))
				e = SCORE_CAP;
			k->err[c] = sel->decay * k->err[c] + e;
		}
		k->weight = sel->decay * k->weight + 1;
		k->samples++;
		sel->st.scored++;
		decide(sel, k);
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
	if (candidate < 0 && sel->cls[class_id].reason == PFSE_SELECT_R_PINNED) {
		/* back to automatic: start from the default, then the usual rule */
		sel->cls[class_id].choice = 0;
	}
	decide(sel, &sel->cls[class_id]);
	return 0;
}

PFSE_API int
pfse_selector_report(const struct pfse_selector *sel, uint32_t class_id,
		     struct pfse_selection *out)
{
	struct pfse_selection r;
	const struct sclass *k;

	if (!sel || !out || class_id >= sel->classes || out->size < sizeof(size_t) ||
	    out->size > PFSE_PARAMS_SIZE_MAX)
		return -EINVAL;
	k = &sel->cls[class_id];
	memset(&r, 0, sizeof(r));
	r.size = out->size;
	r.choice = k->choice;
	r.reason = k->reason;
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
		decide(dst, d);
	}
	return 0;
}
