/* SPDX-License-Identifier: BSD-3-Clause */
/* The shunt policy (policy.h): thresholds with hysteresis, dwell, anomalies, priors. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "internal.h"
#include "pfse/cluster.h"
#include "pfse/policy.h"

struct pfse_policy {
	struct pfse_policy_params p;
	uint32_t standard, high_perf, inspection;
	struct pfse_allocator alloc;
};

static int
tier_of_kind(struct pfse_cluster *cl, uint32_t kind, uint32_t *out)
{
	*out = PFSE_TIER_NONE;
	for (uint32_t t = 0; t < PFSE_CLUSTER_TIERS_MAX; t++) {
		struct pfse_tier_info ti;

		ti.size = sizeof(ti);
		if (pfse_cluster_tier_info(cl, t, &ti) < 0)
			break;
		if (ti.kind == kind) {
			*out = t;
			return 0;
		}
	}
	return 0;
}

static int
finite_nonneg(double v)
{
	return isfinite(v) && v >= 0;
}

PFSE_API int
pfse_policy_create(const struct pfse_policy_params *p, struct pfse_policy **out)
{
	struct pfse_policy_params prm;
	struct pfse_policy *pol;
	int r;

	if (!p || !out)
		return -EINVAL;
	r = pfse_params_load(&prm, sizeof(prm), offsetof(struct pfse_policy_params, cluster) +
						      sizeof(prm.cluster), p);
	if (r < 0)
		return r;
	if (!prm.cluster || prm.reserved != 0 ||
	    (prm.flags &
	     ~(PFSE_POLICY_F_UPPER | PFSE_POLICY_F_NO_ANOMALY | PFSE_POLICY_F_NO_PRIOR)) ||
	    !finite_nonneg(prm.bw_enter) || !finite_nonneg(prm.bw_exit) ||
	    !finite_nonneg(prm.cx_enter) || !finite_nonneg(prm.cx_exit) ||
	    !finite_nonneg(prm.crit_enter) || !finite_nonneg(prm.crit_exit) ||
	    !finite_nonneg(prm.p_elephant_enter) || !finite_nonneg(prm.target_util) ||
	    prm.target_util > 1)
		return -EINVAL;
	if (prm.bw_exit == 0)
		prm.bw_exit = prm.bw_enter / 2;
	if (prm.cx_exit == 0)
		prm.cx_exit = prm.cx_enter / 2;
	if (prm.crit_exit == 0)
		prm.crit_exit = prm.crit_enter > 1 ? prm.crit_enter - 1 : prm.crit_enter / 2;
	if (prm.p_elephant_enter == 0)
		prm.p_elephant_enter = 0.6;
	if (prm.dwell_ns == 0)
		prm.dwell_ns = 1000000000ull;
	if (prm.target_util == 0)
		prm.target_util = 0.9;
	if (prm.bw_exit > prm.bw_enter || prm.cx_exit > prm.cx_enter ||
	    prm.crit_exit > prm.crit_enter)
		return -EINVAL;
	if (pfse_allocator_check(&prm.allocator) < 0)
		return -EINVAL;
	pol = pfse_zalloc(&prm.allocator, sizeof(*pol), 64);
	if (!pol)
		return -ENOMEM;
	pol->alloc = prm.allocator;
	pol->p = prm;
	tier_of_kind(prm.cluster, PFSE_TIER_KIND_STANDARD, &pol->standard);
	tier_of_kind(prm.cluster, PFSE_TIER_KIND_HIGH_PERF, &pol->high_perf);
	tier_of_kind(prm.cluster, PFSE_TIER_KIND_INSPECTION, &pol->inspection);
	*out = pol;
	return 0;
}

PFSE_API void
pfse_policy_destroy(struct pfse_policy *pol)
{
	struct pfse_allocator a;

	if (!pol)
		return;
	a = pol->alloc;
	pfse_free(&a, pol);
}

/* Whether rule 3 (P(elephant)) is on. */
static inline int
prior_on(const struct pfse_policy *pol)
{
	return !(pol->p.flags & PFSE_POLICY_F_NO_PRIOR) && pol->p.p_elephant_enter <= 1 &&
	       pol->high_perf != PFSE_TIER_NONE;
}

/* Whether the flow's forecast calls for the high-performance tier, and why; `in_hp` says
 * whether it is there now (then the exit thresholds apply). */
static uint32_t
hp_reason(const struct pfse_policy *pol, const struct pfse_policy_input *in, int in_hp)
{
	const struct pfse_policy_params *p = &pol->p;
	double bw = (p->flags & PFSE_POLICY_F_UPPER) ? in->bw_hi : in->bw;

	if (p->bw_enter > 0 && bw >= (in_hp ? p->bw_exit : p->bw_enter))
		return PFSE_REASON_BANDWIDTH;
	if (p->cx_enter > 0 && in->cx >= (in_hp ? p->cx_exit : p->cx_enter))
		return PFSE_REASON_COMPLEXITY;
	if (p->crit_enter > 0 && in->crit >= (in_hp ? p->crit_exit : p->crit_enter))
		return PFSE_REASON_CRITICALITY;
	return PFSE_REASON_NONE;
}

PFSE_API int
pfse_policy_decide(const struct pfse_policy *pol, const struct pfse_policy_input *in,
		   struct pfse_directive *out)
{
	const struct pfse_directive *cur;
	struct pfse_directive d;
	uint32_t tier, reason;

	if (!pol || !in || !out || in->size < offsetof(struct pfse_policy_input, current) +
						      sizeof(in->current) ||
	    !isfinite(in->bw) || !isfinite(in->bw_hi) || !isfinite(in->cx) ||
	    !isfinite(in->crit) || !isfinite(in->p_elephant))
		return -EINVAL;
	cur = &in->current;
	if (cur->reason == PFSE_REASON_PINNED) {
		*out = *cur;
		return 0;
	}
	if ((in->flags & PFSE_POLICY_IN_ANOMALY) && !(pol->p.flags & PFSE_POLICY_F_NO_ANOMALY) &&
	    pol->inspection != PFSE_TIER_NONE) {
		tier = pol->inspection;
		reason = PFSE_REASON_ANOMALY;
		goto decided; /* at once, dwell or not */
	}
	if ((in->flags & PFSE_POLICY_IN_NEW) && (pol->p.flags & PFSE_POLICY_F_NO_PRIOR)) {
		tier = pol->standard;
		reason = PFSE_REASON_DEFAULT;
		goto decided;
	}
	if (in->flags & PFSE_POLICY_IN_NEW) {
		if (pol->high_perf != PFSE_TIER_NONE &&
		    ((pol->p.p_elephant_enter <= 1 && in->p_elephant >= pol->p.p_elephant_enter) ||
		     (pol->p.bw_enter > 0 && in->bw >= pol->p.bw_enter))) {
			tier = pol->high_perf;
			reason = PFSE_REASON_PRIOR;
		} else {
			reason = pol->high_perf != PFSE_TIER_NONE ? hp_reason(pol, in, 0)
								   : PFSE_REASON_NONE;
			tier = reason != PFSE_REASON_NONE ? pol->high_perf : pol->standard;
			if (reason == PFSE_REASON_NONE)
				reason = PFSE_REASON_DEFAULT;
		}
		goto decided;
	}
	{
		int in_hp = pol->high_perf != PFSE_TIER_NONE && cur->tier == pol->high_perf;

		reason = pol->high_perf != PFSE_TIER_NONE ? hp_reason(pol, in, in_hp)
							   : PFSE_REASON_NONE;
		/* its class's history says it will be an elephant, given what it has sent */
		if (reason == PFSE_REASON_NONE && prior_on(pol) &&
		    in->p_elephant >= pol->p.p_elephant_enter)
			reason = PFSE_REASON_PRIOR;
		if (reason != PFSE_REASON_NONE) {
			tier = pol->high_perf;
			/* staying in: keep the reason it entered with */
			if (in_hp)
				reason = cur->reason;
		} else {
			tier = pol->standard;
			reason = PFSE_REASON_DEFAULT;
		}
	}
	/* dwell: a directive set less than dwell_ns ago stays */
	if (cur->reason != PFSE_REASON_NONE && tier != cur->tier &&
	    !(in->flags & PFSE_POLICY_IN_INITIAL) &&
	    (in->now < cur->since || in->now - cur->since < pol->p.dwell_ns)) {
		*out = *cur;
		return 0;
	}
decided:
	if (cur->reason != PFSE_REASON_NONE && tier == cur->tier) {
		*out = *cur;
		if (reason == PFSE_REASON_ANOMALY && cur->reason != PFSE_REASON_ANOMALY) {
			/* already in the inspection tier for another reason: now an anomaly */
			out->reason = (uint8_t)reason;
			out->since = in->now;
			return 1;
		}
		return 0;
	}
	memset(&d, 0, sizeof(d));
	d.tier = (uint8_t)tier;
	d.reason = (uint8_t)reason;
	d.node = PFSE_NODE_ANY;
	d.since = in->now;
	*out = d;
	return 1;
}

PFSE_API int
pfse_policy_tiers(const struct pfse_policy *pol, uint32_t *standard, uint32_t *high_perf,
		  uint32_t *inspection)
{
	if (!pol)
		return -EINVAL;
	if (standard)
		*standard = pol->standard;
	if (high_perf)
		*high_perf = pol->high_perf;
	if (inspection)
		*inspection = pol->inspection;
	return 0;
}

double
pfse_policy_target_util(const struct pfse_policy *pol)
{
	return pol->p.target_util;
}

int
pfse_policy_uses_crit(const struct pfse_policy *pol)
{
	return pol->p.crit_enter > 0;
}

double
pfse_policy_p_elephant_enter(const struct pfse_policy *pol)
{
	return pol->p.p_elephant_enter;
}

uint64_t
pfse_policy_dwell_ns(const struct pfse_policy *pol)
{
	return pol->p.dwell_ns;
}

int
pfse_policy_uses_prior(const struct pfse_policy *pol)
{
	return prior_on(pol);
}

PFSE_API const char *
pfse_reason_str(uint32_t reason)
{
	static const char *const names[PFSE_REASON_COUNT] = {
		"none", "default", "prior", "bandwidth", "complexity", "criticality",
		"anomaly", "pinned", "budget", "overload", "health",
	};

	return reason < PFSE_REASON_COUNT ? names[reason] : "unknown";
}
