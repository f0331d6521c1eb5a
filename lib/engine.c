/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine (engine.h): flow table + history + backends + selector + calibrators +
 * policy + cluster, for one data-path thread.
 *
 * Per-flow state lives in the flow table's slot: a header (struct eflow: what the engine
 * accounted for the flow, its class, backend, shadow id, complexity accumulators), then
 * the bandwidth backend's state, then the complexity model's. The packet path reads the
 * directive, which the table hands back with each packet (pfse_ft_update_burst_ev()), and
 * the flow's bytes and class from the same record (the size check); the slot is touched
 * when a flow is created, when its interval closes, when its node changes, when it grows
 * into a new octave past its class's shunting size, at a FIN or RST, and in advance().
 *
 * Accounting. Each flow's forecast (bytes/s, as an integer) is counted in its tier's
 * admitted load and, once it has a node, in the node's: locally (for budgets and for this
 * engine's share of an overload) and in the cluster's per-node atomic counter (the sum
 * over all engines, which decides overload). What was added is stored in the header and
 * exactly that is subtracted, so the sums never drift. Loads are also kept per value bin
 * (log2 of (1 + criticality) x forecast), so that "the least valuable first" is a cutoff
 * bin, found in O(bins). A flow's value is also raised by its P(elephant) when the policy
 * uses it (value_of()).
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "internal.h"
#include "cluster_priv.h"
#include "flow_table_priv.h"
#include "history_priv.h"
#include "pfse/cluster.h"
#include "pfse/engine.h"
#include "pfse/policy.h"
#include "pfse/select.h"

#define AGES 6          /* calibrators per backend, by flow age */
#define VBINS 48        /* value bins: log2(1 + value), value in bytes/s */
#define GAP_CAP 64      /* silent intervals observed at most, per event */
#define NONE8 0xffu
#define NONE16 0xffffu
#define NONE32 0xffffffffu

#define EF_SEEN 0x01u    /* a sample was observed */
#define EF_ANOMALY 0x02u /* the latest sample was an anomaly */
#define EF_MOVED 0x04u   /* its directive changed since its first placement */
#define EF_CLOSED 0x08u  /* RST, or FIN both ways: forecast 0, ended for the history */
#define EF_FIN_FWD 0x10u /* a FIN went key.src -> key.dst */
#define EF_FIN_REV 0x20u /* a FIN went the other way */

/* 80 bytes: with the table's series before it in the cold record, the header and a Holt
 * state fill three cache lines; the complexity state (a fourth) is read only when the
 * flow has complexity samples. */
struct eflow {
	uint64_t obs_iv;       /* newest interval observed (when EF_SEEN) */
	int64_t acct_bw;       /* bytes/s accounted in acct_tier / acct_node */
	uint32_t first_bytes;  /* bytes of its first interval */
	uint32_t peak;         /* largest interval */
	uint32_t cx_rules;     /* open interval: rules applied */
	uint32_t cx_pkts;      /* open interval: packets rewritten */
	uint32_t shadow;       /* selector shadow id, or NONE32 */
	uint32_t samples;      /* closed intervals observed */
	uint32_t since_iv;     /* the directive's interval, low 32 bits (no division needed) */
	float cx_sum;          /* complexity samples, summed (for the history) */
	float bw;              /* forecast, bytes/s */
	float bw_hi;
	float cx;              /* forecast complexity */
	float crit;
	uint16_t cls;
	uint16_t acct_node;
	uint16_t anomalies;
	uint16_t cx_n;         /* complexity samples (saturating) */
	uint16_t p_elephant;   /* P(elephant) given its class and `sent`, x 65535 */
	uint8_t acct_tier;
	uint8_t vbin;
	uint8_t backend;
	uint8_t flags;
	uint8_t priority;
	uint8_t octave;        /* of its bytes so far, as its class's history counts it (64 +
				  that once closed) */
};
_Static_assert(sizeof(struct eflow) == 80, "the flow header is 80 bytes");

struct pfse_engine {
	struct pfse_flow_table *t;
	struct pfse_cluster *cl;
	const struct pfse_policy *pol;
	struct pfse_io_ops io;
	void *user;
	struct pfse_cl_reader *reader;
	_Atomic uint64_t *epoch;
	_Atomic(struct pfse_cl_view *) *viewp;
	_Atomic int64_t *predicted;
	const struct pfse_cl_view *view; /* during a burst or an advance() */
	unsigned reader_idx;
	int registered;
	uint64_t cl_seed;
	uint32_t tier_std, tier_hp, tier_dpi;
	struct pfse_history *hist;
	struct pfse_predictor *pred[PFSE_ENGINE_BACKENDS_MAX];
	unsigned npred;
	struct pfse_predictor *cx_pred;
	struct pfse_selector *sel;
	struct pfse_calibrator *cal[PFSE_ENGINE_BACKENDS_MAX][AGES];
	double z95[PFSE_ENGINE_BACKENDS_MAX][AGES]; /* refreshed in advance() */
	size_t bw_off, cx_off;
	uint64_t interval;
	double per_s;          /* intervals per second */
	uint32_t horizon, flip_budget, scan_budget, max_nodes, W;
	double overload_util, budget_share, crit_gain, target_util;
	int use_crit;          /* the policy has criticality thresholds */
	int use_prior;         /* the policy has rule 3 (P(elephant)) */
	double p_enter;        /* its p_elephant_enter */
	uint64_t hold_ns;      /* its dwell: how long a node is forecast over before it sheds */
	uint8_t *shunt_oct;    /* per class slot (65536): the octave of bytes from which a
				  flow's P(elephant) reaches p_enter (64: none, or not known) */
	uint64_t refit_ns, next_refit, next_z, now;
	int64_t tier_load[PFSE_CLUSTER_TIERS_MAX];
	int64_t tier_hist[PFSE_CLUSTER_TIERS_MAX][VBINS];
	uint8_t tier_cut[PFSE_CLUSTER_TIERS_MAX];
	int64_t *node_load;
	int64_t *node_delta;   /* not yet added to the cluster's predicted loads */
	int64_t *node_hist;    /* max_nodes x VBINS */
	uint8_t *node_cut;     /* overloaded nodes: flows below this bin leave (0: none) */
	struct nexcess {
		double share;  /* ... until this much of this engine's forecast load has left */
		double all;    /* the node's whole excess, less this engine's moves since */
		int shared;    /* other engines have forecast load on it */
	} *node_excess;
	uint64_t *node_over;   /* since when a node is forecast over, + 1 (0: it is not) */
	double tier_excess[PFSE_CLUSTER_TIERS_MAX]; /* the same for tiers over budget */
	struct nstat {
		uint64_t pkts, bytes;
	} *node_st;
	double *pool;          /* fit pool: pool_cap series of up to W samples */
	uint32_t *pool_len;
	uint32_t pool_cap, pool_n, pool_head;
	uint32_t scan_iter;
	uint64_t scan_done_iv;   /* the interval of the last completed pass over the flows */
	uint32_t flags;          /* PFSE_ENGINE_F_* */
	/* PFSE_ENGINE_F_REFIT_ASYNC: a refit handed from advance() (which owns the job while
	 * it is IDLE or DONE) to pfse_engine_refit() (READY, RUNNING) and back */
	struct refit_job {
		_Alignas(64) _Atomic unsigned state; /* JOB_* */
		unsigned n;                          /* series */
		double *ser;                         /* pool_cap x (W + 1), packed as n series */
		uint32_t *lens;
		struct pfse_predictor *pred[PFSE_ENGINE_BACKENDS_MAX]; /* the fits' copies of
								     the built-ins */
		struct pfse_model_params out[PFSE_ENGINE_BACKENDS_MAX];
		uint8_t ok[PFSE_ENGINE_BACKENDS_MAX];
		uint32_t fit_flags; /* PFSE_FIT_F_* of these fits */
	} job;
	uint32_t nfits; /* refits run or set aside (fit_flags_next()) */
	struct pfse_engine_stats st;
	struct pfse_allocator alloc;
};

enum { JOB_IDLE, JOB_READY, JOB_RUNNING, JOB_DONE };

/* The header of a flow known to be valid (the packet path), or of any handle (checked). */
static inline struct eflow *
hdr(struct pfse_engine *e, uint32_t f)
{
	return pfse_ft_slot_fast(e->t, f);
}

static inline struct eflow *
hdr_checked(struct pfse_engine *e, uint32_t f)
{
	return pfse_flow_table_slot(e->t, f);
}

static inline void *
bw_state(struct pfse_engine *e, struct eflow *h)
{
	return (uint8_t *)h + e->bw_off;
}

static inline void *
cx_state(struct pfse_engine *e, struct eflow *h)
{
	return (uint8_t *)h + e->cx_off;
}

static inline unsigned
age_of(uint32_t n)
{
	return n < 3 ? n : (n < 5 ? 3 : (n < 9 ? 4 : 5));
}

static inline unsigned
vbin_of(double value)
{
	uint64_t v = value >= 1 ? (value < 1e18 ? (uint64_t)value : (uint64_t)1e18) : 0;
	unsigned b = 63u - (unsigned)__builtin_clzll(v + 1);

	return b >= VBINS - 1 ? VBINS - 1 : b;
}

/* ---- accounting ---------------------------------------------------------------------- */

/* What a flow is worth to a tier, for budgets and overload shedding: its forecast,
 * raised by its criticality and by its chance of becoming an elephant (up to 16 times,
 * four value bins, for a sure one): the flows kept out first are the small, short ones. */
static inline double
value_of(const struct pfse_engine *e, const struct eflow *h)
{
	double v = (1 + h->crit) * h->bw;

	return e->use_prior ? v * (1 + 15 * (h->p_elephant / 65535.0)) : v;
}

static void
acct_node_del(struct pfse_engine *e, struct eflow *h)
{
	if (h->acct_node == NONE16)
		return;
	e->node_load[h->acct_node] -= h->acct_bw;
	e->node_hist[(size_t)h->acct_node * VBINS + h->vbin] -= h->acct_bw;
	e->node_delta[h->acct_node] -= h->acct_bw;
	h->acct_node = NONE16;
}

static void
acct_node_add(struct pfse_engine *e, struct eflow *h, uint32_t node)
{
	h->acct_node = (uint16_t)node;
	e->node_load[node] += h->acct_bw;
	e->node_hist[(size_t)node * VBINS + h->vbin] += h->acct_bw;
	e->node_delta[node] += h->acct_bw;
}

static void
acct_del(struct pfse_engine *e, struct eflow *h)
{
	acct_node_del(e, h);
	if (h->acct_tier != NONE8) {
		e->tier_load[h->acct_tier] -= h->acct_bw;
		e->tier_hist[h->acct_tier][h->vbin] -= h->acct_bw;
		h->acct_tier = NONE8;
	}
	h->acct_bw = 0;
}

/* What accounting the flow's current forecast adds to a tier or node, bytes/s. */
static inline int64_t
bw_to_acct(const struct eflow *h)
{
	return h->bw > 0 ? (int64_t)h->bw : 0;
}

/* Accounts the flow's current forecast in `tier` (and on `node`, if any). */
static void
acct_add(struct pfse_engine *e, struct eflow *h, uint32_t tier, uint32_t node)
{
	h->acct_bw = bw_to_acct(h);
	h->vbin = (uint8_t)vbin_of(value_of(e, h));
	if (tier != PFSE_TIER_NONE) {
		h->acct_tier = (uint8_t)tier;
		e->tier_load[tier] += h->acct_bw;
		e->tier_hist[tier][h->vbin] += h->acct_bw;
	}
	if (node != PFSE_NODE_ANY && node < e->max_nodes)
		acct_node_add(e, h, node);
}

/* Adds this engine's changes of its nodes' forecast loads to the cluster's sums. */
static void
flush_predicted(struct pfse_engine *e)
{
	for (uint32_t n = 0; n < e->max_nodes; n++) {
		if (e->node_delta[n]) {
			atomic_fetch_add_explicit(&e->predicted[n], e->node_delta[n],
						  memory_order_relaxed);
			e->node_delta[n] = 0;
		}
	}
}

/* The budget of a tier for this engine, bytes/s (0: unlimited). */
static inline double
tier_budget(const struct pfse_engine *e, uint32_t tier)
{
	uint64_t cap = e->view->tier_capacity[tier];

	return cap ? (double)cap * e->target_util * e->budget_share : 0;
}

/* Whether a flow of forecast bw and value bin may enter `tier` now. */
static int
admit(struct pfse_engine *e, uint32_t tier, double bw, unsigned vbin)
{
	double budget;
	int64_t below = 0;

	if (tier == PFSE_TIER_NONE || tier == e->tier_std || tier >= e->view->ntiers)
		return 1;
	budget = tier_budget(e, tier);
	if (budget == 0 || (double)e->tier_load[tier] + bw <= budget)
		return 1;
	/* full: only in place of flows of less value, which advance() then demotes */
	for (unsigned b = 0; b < vbin; b++)
		below += e->tier_hist[tier][b];
	if ((double)below >= bw) {
		if (e->tier_cut[tier] < vbin)
			e->tier_cut[tier] = (uint8_t)vbin;
		return 1;
	}
	return 0;
}

/* ---- directives ---------------------------------------------------------------------- */

static void
set_directive(struct pfse_engine *e, uint32_t f, struct eflow *h, const struct pfse_directive *d,
	      uint64_t since_iv)
{
	uint32_t node = d->node;

	pfse_flow_table_set_directive(e->t, f, d);
	h->since_iv = (uint32_t)since_iv;
	h->flags |= EF_MOVED;
	acct_del(e, h);
	acct_add(e, h, d->tier, node);
	e->st.directive_changes++;
}

/* Runs the policy (and the tier's budget) for a flow; applies a change. */
static void
decide(struct pfse_engine *e, uint32_t f, struct eflow *h, uint64_t now, uint64_t now_iv,
       uint32_t flags)
{
	struct pfse_policy_input in;
	struct pfse_directive d, cur;
	int r;

	pfse_policy_input_init(&in);
	memset(&cur, 0, sizeof(cur));
	if (flags & PFSE_POLICY_IN_NEW) {
		cur.tier = PFSE_TIER_NONE;
		cur.node = PFSE_NODE_ANY;
		cur.reason = PFSE_REASON_NONE;
	} else {
		/* the directive from the record, its time from the header (no division) */
		uint8_t t8, reason;
		uint16_t node;

		pfse_ft_directive_tier_node(e->t, f, &t8, &reason, &node);
		cur.tier = t8;
		cur.reason = reason;
		cur.node = node;
		if (t8 != PFSE_TIER_NONE || reason != 0)
			cur.since = (now_iv - (uint32_t)((uint32_t)now_iv - h->since_iv)) *
				    e->interval;
	}
	in.now = now;
	in.bw = h->bw;
	in.bw_hi = h->bw_hi;
	in.cx = h->cx;
	in.crit = h->crit;
	in.p_elephant = h->p_elephant / 65535.0;
	in.flags = flags;
	/* still where it was put by default, knowing nothing: the first evidence may move it
	 * at once (a prior-based placement keeps its dwell) */
	if (!(flags & PFSE_POLICY_IN_NEW) && !(h->flags & EF_MOVED) &&
	    cur.reason == PFSE_REASON_DEFAULT)
		in.flags |= PFSE_POLICY_IN_INITIAL;
	in.current = cur;
	if ((h->flags & EF_CLOSED) && !(flags & PFSE_POLICY_IN_NEW)) {
		r = 0; /* over but for its last packets: they follow it where it is */
	} else {
		r = pfse_policy_decide(e->pol, &in, &d);
		if (r < 0)
			return;
	}
	if (r == 0) {
		/* same directive: refresh the accounting with the new forecast, when it moved
		 * by more than 1/16 or changed value bin (the sums stay exact either way: what
		 * is subtracted is what was added) */
		if (cur.tier != PFSE_TIER_NONE || h->acct_tier != NONE8 || h->acct_node != NONE16) {
			int64_t diff = bw_to_acct(h) - h->acct_bw;

			if ((diff < 0 ? -diff : diff) > h->acct_bw / 16 ||
			    vbin_of(value_of(e, h)) != h->vbin) {
				uint32_t node = h->acct_node;

				if (node == NONE16)
					node = PFSE_NODE_ANY;
				acct_del(e, h);
				acct_add(e, h, cur.tier, node);
			}
		}
		return;
	}
	if (d.tier != cur.tier && d.reason != PFSE_REASON_ANOMALY &&
	    !admit(e, d.tier, h->bw, vbin_of(value_of(e, h)))) {
		/* the tier is full of flows worth more: stay out */
		e->st.budget_demotions++;
		if (cur.tier == e->tier_std && cur.reason == PFSE_REASON_BUDGET &&
		    !(flags & PFSE_POLICY_IN_NEW))
			return;
		d.tier = (uint8_t)e->tier_std;
		d.reason = PFSE_REASON_BUDGET;
		d.node = PFSE_NODE_ANY;
		d.since = now;
		if (!(flags & PFSE_POLICY_IN_NEW) && cur.tier == d.tier)
			return;
	}
	if (d.tier == cur.tier && !(flags & PFSE_POLICY_IN_NEW))
		d.node = cur.node; /* same tier, new reason: keep the node */
	set_directive(e, f, h, &d, now_iv);
	if (flags & PFSE_POLICY_IN_NEW)
		h->flags &= ~EF_MOVED; /* the first placement */
}

/* ---- observing ----------------------------------------------------------------------- */

/* One sample into a flow's backend, calibrator and shadow. Returns the observation flags;
 * *up (if not NULL) says whether the sample was above its forecast. */
static uint32_t
observe(struct pfse_engine *e, struct eflow *h, double x, int *up)
{
	struct pfse_observation o;
	unsigned b = h->backend;

	if (pfse_predictor_observe(e->pred[b], bw_state(e, h), x, &o) < 0 &&
	    !(o.flags & PFSE_OBS_F_RESTART))
		return 0;
	if (up)
		*up = x > o.forecast;
	if (o.score >= 0)
		pfse_calibrator_add(e->cal[b][age_of(h->samples)], o.score);
	if (h->shadow != NONE32)
		pfse_selector_shadow_observe(e->sel, h->shadow, x);
	if (h->samples < UINT32_MAX)
		h->samples++;
	e->st.samples++;
	return o.flags;
}

/* A flow's P(elephant) given what it has sent, x 65535; its class's shunting octave is
 * refreshed in the same pass. */
static inline uint16_t
p_elephant_u16(struct pfse_engine *e, uint32_t cls, uint64_t sent)
{
	unsigned so = 64;
	double p = pfse_history_p_elephant_scan(e->hist, cls, sent, e->p_enter, &so);

	e->shunt_oct[cls] = (uint8_t)so;
	return (uint16_t)(p * 65535 + 0.5);
}

/* Moves a flow to another octave of its class's size counters (64 + j: closed). */
static inline void
move_octave(struct pfse_engine *e, struct eflow *h, unsigned oct)
{
	pfse_history_live_move(e->hist, h->cls, h->octave, (int)oct);
	h->octave = (uint8_t)oct;
}

/* Its class's history expects the flow to become an elephant (rule 3's threshold). */
static inline int
expected_elephant(const struct pfse_engine *e, const struct eflow *h)
{
	return e->use_prior && h->p_elephant / 65535.0 >= e->p_enter;
}

/* A closed flow shows it is not: a SYN (the 5-tuple reused within the closing timeout),
 * or an interval of data after a stray RST. It is counted and forecast again. */
static void
reopened(struct pfse_engine *e, uint32_t f, struct eflow *h)
{
	h->flags &= (uint8_t)~(EF_CLOSED | EF_FIN_FWD | EF_FIN_REV);
	if (e->use_prior)
		move_octave(e, h, pfse_octave(pfse_ft_bytes(e->t, f)));
}

/* Observes the samples of intervals (from_iv .. to_iv] not yet seen: `closed_bytes` for
 * interval closed_iv (if newer than what was observed) and zeros for the silent ones up
 * to to_iv (at most GAP_CAP of them); then forecasts and re-decides. */
static void
on_samples(struct pfse_engine *e, uint32_t f, struct eflow *h, uint64_t closed_iv,
	   uint64_t closed_bytes, uint64_t to_iv, uint64_t now)
{
	uint32_t oflags = 0, anomaly = 0, flags = 0;
	int up = 0;
	uint64_t zeros_from;
	struct pfse_forecast fc;
	unsigned gap = 0;
	double last = (double)closed_bytes;

	if (!(h->flags & EF_SEEN) || closed_iv > h->obs_iv) {
		uint32_t b32 = closed_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)closed_bytes;

		oflags = observe(e, h, (double)closed_bytes, &up);
		if (!(h->flags & EF_SEEN))
			h->first_bytes = b32;
		if (b32 > h->peak)
			h->peak = b32;
		anomaly = oflags & PFSE_OBS_F_ANOMALY;
		zeros_from = closed_iv + 1;
		h->flags |= EF_SEEN;
	} else {
		zeros_from = h->obs_iv + 1;
		last = 0;
	}
	for (uint64_t iv = zeros_from; iv <= to_iv && gap < GAP_CAP; iv++, gap++) {
		observe(e, h, 0, NULL);
		last = 0;
	}
	if (to_iv > h->obs_iv || !(h->flags & EF_SEEN))
		h->obs_iv = to_iv;
	/* complexity: the rules per packet of the interval that closed */
	if (h->cx_pkts > 0) {
		double cx = (double)h->cx_rules / h->cx_pkts;

		pfse_predictor_observe(e->cx_pred, cx_state(e, h), cx, NULL);
		if (h->cx_n < UINT16_MAX) {
			h->cx_sum += (float)cx;
			h->cx_n++;
		}
		if (pfse_predictor_forecast(e->cx_pred, cx_state(e, h), 1, 0.8, &fc) == 0)
			h->cx = (float)fc.mean;
		h->cx_rules = h->cx_pkts = 0;
	}
	/* a closed flow with an interval of data after all (a stray RST): it is not over */
	if ((h->flags & EF_CLOSED) && last > 65536)
		reopened(e, f, h);
	/* what its class's history says of a flow that has sent this much (the directive's
	 * cache line, which decide() reads anyway) */
	if (e->use_prior) {
		uint64_t sent = pfse_ft_bytes(e->t, f);
		unsigned oct = pfse_octave(sent);

		/* refreshed when it grows an octave, else every 16th sample (its class's
		 * history moves slowly; the estimate walks up to 64 octaves) */
		if (!(h->flags & EF_CLOSED) && oct != h->octave) {
			move_octave(e, h, oct);
			h->p_elephant = p_elephant_u16(e, h->cls, sent);
		} else if ((h->samples & 15) == 0) {
			h->p_elephant = p_elephant_u16(e, h->cls, sent);
		}
	}
	/* growth is no anomaly in a flow its class's history expects to become an elephant:
	 * it is what an elephant does (it goes where elephants go, not to inspection) */
	if (anomaly && up && expected_elephant(e, h))
		anomaly = 0;
	if (anomaly) {
		if (h->anomalies < UINT16_MAX)
			h->anomalies++;
		e->st.anomalies++;
		flags |= PFSE_POLICY_IN_ANOMALY;
	}
	/* forecast, interval from the calibrated z, complexity, criticality */
	if (pfse_predictor_forecast_z(e->pred[h->backend], bw_state(e, h), e->horizon,
				      e->z95[h->backend][age_of(h->samples)], &fc) == 0) {
		double crit;

		/* never below what the flow just did: a level forecast (SES on log, the
		 * usual choice on bursty flows) lags a ramp such as slow start */
		double m = fc.mean > last ? fc.mean : last;

		h->bw = (float)(m * e->per_s);
		h->bw_hi = (float)((fc.hi > m ? fc.hi : m) * e->per_s);
		if (h->flags & EF_CLOSED)
			h->bw = h->bw_hi = 0; /* over but for its last packets */
		if (fc.mean <= last || !e->use_crit)
			h->crit = h->priority; /* no growth (or no use for it): the priority */
		else if (pfse_criticality(h->priority, last, &fc, e->crit_gain, &crit) == 0)
			h->crit = (float)crit;
	}
	decide(e, f, h, now, to_iv + 1, flags);
}

/* ---- flows begin and end ------------------------------------------------------------- */

static inline uint64_t
cluster_hash(const struct pfse_engine *e, const struct pfse_flow_key *key)
{
	uint64_t h = 0;

	pfse_cluster_flow_hash(e->cl, key, &h);
	return h;
}

static void
flow_new(struct pfse_engine *e, uint32_t f, const struct pfse_pkt *p)
{
	struct eflow *h = hdr(e, f);
	struct pfse_prior pr;
	uint32_t cls = 0, prio = 0;
	double rate = 0, var = 0, pel = 0, cx = 0;
	uint64_t hash;
	int c;

	memset(h, 0, sizeof(*h));
	h->acct_tier = NONE8;
	h->acct_node = NONE16;
	h->shadow = NONE32;
	pfse_history_classify(e->hist, &p->key, &cls, &prio);
	pfse_history_prior_fast(e->hist, cls, &rate, &var, &pel, &cx);
	h->cls = (uint16_t)cls;
	h->priority = prio > 255 ? 255 : (uint8_t)prio;
	if (e->use_prior) {
		/* at risk from now on (octave 0: nothing sent yet) */
		pfse_history_live_move(e->hist, cls, -1, 0);
		pel = p_elephant_u16(e, cls, 0) / 65535.0;
		pfse_flow_table_set_class(e->t, f, cls); /* for the packet path's size check */
	}
	h->p_elephant = (uint16_t)(pel * 65535 + 0.5);
	/* (not EF_SEEN: nothing observed yet) */
	h->obs_iv = (e->now > p->ts ? e->now : p->ts) / e->interval - 1;
	c = pfse_selector_choice(e->sel, cls);
	h->backend = (uint8_t)(c >= 0 ? c : 0);
	pfse_prior_init(&pr);
	pr.level = rate;
	pr.variance = var;
	pr.weight = rate > 0 ? 1 : 0;
	if (pfse_predictor_flow_init(e->pred[h->backend], bw_state(e, h), &pr) < 0)
		pfse_predictor_flow_init(e->pred[h->backend], bw_state(e, h), NULL);
	pfse_prior_init(&pr);
	pr.level = cx;
	pfse_predictor_flow_init(e->cx_pred, cx_state(e, h), &pr);
	hash = (p->flags & PFSE_PKT_F_HASH) ? p->hash : cluster_hash(e, &p->key);
	if (pfse_selector_shadow_begin(e->sel, cls, hash, &pr, &h->shadow) < 0)
		h->shadow = NONE32;
	h->bw = (float)(rate * e->per_s);
	h->bw_hi = h->bw;
	h->cx = (float)cx;
	h->crit = (float)h->priority;
	e->st.flows_created++;
	decide(e, f, h, p->ts, h->obs_iv + 1, PFSE_POLICY_IN_NEW);
}

/* A flow leaves the table: its class learns from it. */
static void
flow_end(struct pfse_flow_table *t, uint32_t f, uint32_t cause, void *user)
{
	struct pfse_engine *e = user;
	struct eflow *h = hdr(e, f);
	struct pfse_flow_info info;
	struct pfse_flow_summary s;
	uint64_t bytes[PFSE_FT_SERIES_MAX];
	int n;

	(void)cause;
	pfse_flow_info_init(&info);
	pfse_flow_table_info(t, f, &info);
	pfse_flow_summary_init(&s);
	s.bytes = info.bytes[0] + info.bytes[1];
	s.packets = info.packets[0] + info.packets[1];
	s.duration_ns = info.last_seen - info.first_seen;
	/* a flow that never closed an interval: its open one is its first and its peak */
	s.first_interval_bytes = (h->flags & EF_SEEN) ? h->first_bytes : info.open_bytes;
	s.peak_interval_bytes = h->peak > info.open_bytes ? h->peak : info.open_bytes;
	s.complexity_sum = h->cx_sum;
	s.complexity_n = h->cx_n;
	pfse_history_absorb(e->hist, h->cls, &s);
	if (e->use_prior)
		pfse_history_live_move(e->hist, h->cls, h->octave, -1);
	if (h->shadow != NONE32)
		pfse_selector_shadow_end(e->sel, h->shadow);
	acct_del(e, h);
	/* its series (the last W closed intervals and the open one) for the next refit */
	n = pfse_flow_table_series(t, f, PFSE_FT_SERIES_MAX, bytes, NULL);
	if (e->pool_cap && n >= 0 && (uint32_t)n + 1 >= 4) {
		uint32_t k = e->pool_head;
		double *dst = e->pool + (size_t)k * (e->W + 1);
		uint32_t len = 0;

		for (int i = 0; i < n && len < e->W; i++)
			dst[len++] = (double)bytes[i];
		dst[len++] = (double)info.open_bytes;
		e->pool_len[k] = len;
		e->pool_head = (k + 1) % e->pool_cap;
		if (e->pool_n < e->pool_cap)
			e->pool_n++;
	}
	e->st.flows_ended++;
}

/* ---- create / destroy ---------------------------------------------------------------- */

PFSE_API void
pfse_engine_destroy(struct pfse_engine *e)
{
	struct pfse_allocator a;

	if (!e)
		return;
	a = e->alloc;
	if (e->t) {
		/* flows still in the table: take their forecasts off the cluster's nodes */
		uint32_t it = 0, f;

		while (pfse_flow_table_next(e->t, &it, &f) == 0)
			acct_del(e, hdr(e, f));
		if (e->node_delta)
			flush_predicted(e);
	}
	if (e->registered)
		pfse_cluster_reader_del(e->cl, e->reader_idx);
	pfse_flow_table_destroy(e->t);
	pfse_history_destroy(e->hist);
	pfse_selector_destroy(e->sel);
	for (unsigned b = 0; b < PFSE_ENGINE_BACKENDS_MAX; b++) {
		pfse_predictor_destroy(e->pred[b]);
		for (unsigned a2 = 0; a2 < AGES; a2++)
			pfse_calibrator_destroy(e->cal[b][a2]);
	}
	pfse_predictor_destroy(e->cx_pred);
	pfse_free(&a, e->node_load);
	pfse_free(&a, e->node_delta);
	pfse_free(&a, e->node_hist);
	pfse_free(&a, e->node_cut);
	pfse_free(&a, e->node_excess);
	pfse_free(&a, e->node_over);
	pfse_free(&a, e->shunt_oct);
	pfse_free(&a, e->node_st);
	pfse_free(&a, e->pool);
	pfse_free(&a, e->pool_len);
	for (unsigned b = 0; b < PFSE_ENGINE_BACKENDS_MAX; b++)
		pfse_predictor_destroy(e->job.pred[b]);
	pfse_free(&a, e->job.ser);
	pfse_free(&a, e->job.lens);
	pfse_free(&a, e);
}

static int
mk_pred(struct pfse_engine *e, const struct pfse_predictor_ops *ops,
	const struct pfse_model_params *m, struct pfse_predictor **out)
{
	struct pfse_predictor_params pp;

	pfse_predictor_params_init(&pp);
	pp.ops = ops;
	pp.model = m;
	pp.allocator = e->alloc;
	return pfse_predictor_create(&pp, out);
}

PFSE_API int
pfse_engine_create(const struct pfse_engine_params *p, struct pfse_engine **out)
{
	struct pfse_engine_params prm;
	struct pfse_flow_table_params tp;
	struct pfse_history_params hp;
	struct pfse_selector_params sp;
	struct pfse_model_params dm[4];
	struct pfse_engine_backend defaults[4];
	const struct pfse_engine_backend *bk;
	struct pfse_engine *e;
	size_t state_max = 0;
	int r;

	if (!p || !out)
		return -EINVAL;
	r = pfse_params_load(&prm, sizeof(prm), offsetof(struct pfse_engine_params, policy) +
						      sizeof(prm.policy), p);
	if (r < 0)
		return r;
	if (!prm.cluster || !prm.policy || prm.nbackends > PFSE_ENGINE_BACKENDS_MAX ||
	    (prm.nbackends > 0 && !prm.backends) || (prm.io && prm.io->size < sizeof(size_t)) ||
	    !(prm.overload_util >= 0) || !(prm.budget_share >= 0) || prm.budget_share > 1 ||
	    !(prm.crit_gain >= 0) || !isfinite(prm.overload_util) || !isfinite(prm.crit_gain) ||
	    pfse_allocator_check(&prm.allocator) < 0 || (prm.flags & ~PFSE_ENGINE_F_REFIT_ASYNC) ||
	    prm.reserved != 0)
		return -EINVAL;
	if (prm.horizon == 0)
		prm.horizon = 5;
	if (prm.horizon > PFSE_HORIZON_MAX)
		return -EINVAL;
	if (prm.refit_ns == 0)
		prm.refit_ns = 10000000000ull;
	if (prm.flip_budget == 0)
		prm.flip_budget = 64;
	if (prm.scan_budget == 0)
		prm.scan_budget = 1024;
	if (prm.overload_util == 0)
		prm.overload_util = 1.0;
	if (prm.budget_share == 0)
		prm.budget_share = 1.0;
	if (prm.crit_gain == 0)
		prm.crit_gain = 1.0;
	if (prm.sample_every == 0)
		prm.sample_every = 16;
	e = pfse_zalloc(&prm.allocator, sizeof(*e), 64);
	if (!e)
		return -ENOMEM;
	e->alloc = prm.allocator;
	e->cl = prm.cluster;
	e->pol = prm.policy;
	if (prm.io)
		memcpy(&e->io, prm.io, prm.io->size < sizeof(e->io) ? prm.io->size : sizeof(e->io));
	e->user = prm.user;
	e->flags = prm.flags;
	atomic_init(&e->job.state, JOB_IDLE);
	e->horizon = prm.horizon;
	e->refit_ns = prm.refit_ns;
	e->flip_budget = prm.flip_budget;
	e->scan_budget = prm.scan_budget;
	e->scan_done_iv = UINT64_MAX;
	e->overload_util = prm.overload_util;
	e->budget_share = prm.budget_share;
	e->crit_gain = prm.crit_gain;
	e->target_util = pfse_policy_target_util(prm.policy);
	e->use_crit = pfse_policy_uses_crit(prm.policy);
	e->use_prior = pfse_policy_uses_prior(prm.policy);
	e->p_enter = pfse_policy_p_elephant_enter(prm.policy);
	e->hold_ns = pfse_policy_dwell_ns(prm.policy);
	pfse_policy_tiers(prm.policy, &e->tier_std, &e->tier_hp, &e->tier_dpi);
	e->reader = pfse_cluster_readers(prm.cluster);
	e->epoch = pfse_cluster_epoch(prm.cluster);
	e->viewp = pfse_cluster_view_ptr(prm.cluster);
	e->predicted = pfse_cluster_predicted(prm.cluster);
	e->cl_seed = pfse_cluster_seed(prm.cluster);
	e->max_nodes = pfse_cluster_max_nodes(prm.cluster);
	r = -ENOMEM;
	/* backends */
	bk = prm.backends;
	e->npred = prm.nbackends;
	if (!bk) {
		static const char *const names[4] = { "ses", "holt", "naive", "holt" };
		static const uint32_t flags[4] = { PFSE_MODEL_F_LOG1P,
						   PFSE_MODEL_F_LOG1P | PFSE_MODEL_F_DAMPED, 0,
						   PFSE_MODEL_F_DAMPED };

		for (unsigned b = 0; b < 4; b++) {
			pfse_model_params_init(&dm[b]);
			dm[b].flags = flags[b];
			defaults[b].ops = pfse_predictor_backend(names[b]);
			defaults[b].model = &dm[b];
		}
		bk = defaults;
		e->npred = 4;
	}
	for (unsigned b = 0; b < e->npred; b++) {
		struct pfse_calibrator_params cp;

		if (!bk[b].ops) {
			r = -EINVAL;
			goto fail;
		}
		r = mk_pred(e, bk[b].ops, bk[b].model, &e->pred[b]);
		if (r < 0)
			goto fail;
		if (pfse_predictor_state_size(e->pred[b]) > state_max)
			state_max = pfse_predictor_state_size(e->pred[b]);
		pfse_calibrator_params_init(&cp);
		cp.allocator = e->alloc;
		for (unsigned a = 0; a < AGES; a++) {
			r = pfse_calibrator_create(&cp, &e->cal[b][a]);
			if (r < 0)
				goto fail;
			pfse_normal_quantile(0.975, &e->z95[b][a]);
		}
	}
	{
		struct pfse_model_params cm;

		pfse_model_params_init(&cm);
		cm.alpha = 0.3;
		r = mk_pred(e, pfse_predictor_backend("ses"), &cm, &e->cx_pred);
		if (r < 0)
			goto fail;
	}
	/* the flow table, its slot holding our header and the two states */
	e->bw_off = sizeof(struct eflow);
	e->cx_off = e->bw_off + ((state_max + 7) & ~(size_t)7);
	pfse_flow_table_params_init(&tp);
	if (prm.table) {
		r = pfse_params_load(&tp, sizeof(tp), sizeof(size_t), prm.table);
		if (r < 0)
			goto fail;
	}
	tp.slot_size = (uint32_t)(e->cx_off + pfse_predictor_state_size(e->cx_pred));
	tp.on_evict = flow_end;
	tp.on_evict_user = e;
	tp.allocator = e->alloc;
	r = pfse_flow_table_create(&tp, &e->t);
	if (r < 0)
		goto fail;
	e->interval = pfse_ft_interval(e->t);
	e->per_s = 1e9 / (double)e->interval;
	e->W = tp.series_len ? tp.series_len : 8;
	if (tp.flags & PFSE_FT_F_NO_SERIES)
		e->W = 0;
	/* history, selector */
	pfse_history_params_init(&hp);
	hp.max_classes = prm.max_classes;
	hp.interval_ns = e->interval;
	hp.elephant_bytes = prm.elephant_bytes;
	hp.classify = prm.classify;
	hp.classify_user = prm.classify_user;
	hp.allocator = e->alloc;
	r = pfse_history_create(&hp, &e->hist);
	if (r < 0)
		goto fail;
	pfse_selector_params_init(&sp);
	sp.candidates = e->pred;
	sp.n_candidates = e->npred;
	sp.classes = prm.max_classes ? prm.max_classes : 1024;
	sp.sample_every = prm.sample_every;
	sp.allocator = e->alloc;
	r = pfse_selector_create(&sp, &e->sel);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	e->node_load = pfse_zalloc(&e->alloc, e->max_nodes * sizeof(int64_t), 64);
	e->node_delta = pfse_zalloc(&e->alloc, e->max_nodes * sizeof(int64_t), 64);
	e->node_hist = pfse_zalloc(&e->alloc, (size_t)e->max_nodes * VBINS * sizeof(int64_t), 64);
	e->node_cut = pfse_zalloc(&e->alloc, e->max_nodes, 64);
	e->node_excess = pfse_zalloc(&e->alloc, e->max_nodes * sizeof(e->node_excess[0]), 64);
	e->node_over = pfse_zalloc(&e->alloc, e->max_nodes * sizeof(uint64_t), 64);
	e->node_st = pfse_zalloc(&e->alloc, e->max_nodes * sizeof(e->node_st[0]), 64);
	e->shunt_oct = pfse_zalloc(&e->alloc, 65536, 64);
	if (!e->shunt_oct)
		goto fail;
	memset(e->shunt_oct, 64, 65536);
	e->pool_cap = e->W ? 1024 : 0;
	if (e->pool_cap) {
		e->pool = pfse_zalloc(&e->alloc, (size_t)e->pool_cap * (e->W + 1) * sizeof(double),
				      64);
		e->pool_len = pfse_zalloc(&e->alloc, e->pool_cap * sizeof(uint32_t), 64);
		if (!e->pool || !e->pool_len)
			goto fail;
	}
	if ((e->flags & PFSE_ENGINE_F_REFIT_ASYNC) && e->pool_cap) {
		/* the series set aside, and a copy of each built-in backend to fit */
		e->job.ser = pfse_zalloc(&e->alloc,
					 (size_t)e->pool_cap * (e->W + 1) * sizeof(double), 64);
		e->job.lens = pfse_zalloc(&e->alloc, e->pool_cap * sizeof(uint32_t), 64);
		if (!e->job.ser || !e->job.lens)
			goto fail;
		for (unsigned b = 0; b < e->npred; b++) {
			struct pfse_model_params m;

			if (!pfse_predictor_is_builtin(e->pred[b]))
				continue;
			pfse_model_params_init(&m);
			pfse_predictor_model_params(e->pred[b], &m);
			r = mk_pred(e, pfse_predictor_ops_of(e->pred[b]), &m, &e->job.pred[b]);
			if (r < 0)
				goto fail;
		}
		r = -ENOMEM;
	}
	if (!e->node_load || !e->node_delta || !e->node_hist || !e->node_cut || !e->node_excess ||
	    !e->node_over || !e->node_st)
		goto fail;
	r = pfse_cluster_reader_add(e->cl, &e->reader_idx);
	if (r < 0)
		goto fail;
	e->registered = 1;
	e->reader += e->reader_idx;
	*out = e;
	return 0;
fail:
	pfse_engine_destroy(e);
	return r;
}

/* ---- the packet path ----------------------------------------------------------------- */

static inline int
node_usable(const struct pfse_cl_view *v, uint32_t node, uint32_t tier)
{
	return node < v->nnodes && v->nodes[node].tier == tier &&
	       v->nodes[node].health != PFSE_NODE_DOWN;
}

/* The forecast load above which node `n` is overloaded, bytes/s (0: unlimited). */
static inline double
overload_cap(const struct pfse_engine *e, uint32_t n)
{
	return (double)e->view->nodes[n].capacity * e->overload_util;
}

/* Whether `n` can take `bw` more bytes/s: its forecast load over all engines, with this
 * engine's moves not yet published, stays within overload_cap(). */
static inline int
node_room(const struct pfse_engine *e, uint32_t n, double bw)
{
	double cap = overload_cap(e, n);

	return cap <= 0 ||
	       (double)atomic_load_explicit(&e->predicted[n], memory_order_relaxed) +
			       (double)e->node_delta[n] + bw <= cap;
}

/* A node of `tier` for a flow: the Maglev table's, or (when moving a flow of `bw` off an
 * overloaded node) the first of a sequence of rehashes that is not `avoid`, not
 * overloaded, and has room for it counting the moves made so far (a move that would
 * overload its destination would only be undone by the next pass). */
static uint32_t
pick_node(struct pfse_engine *e, uint32_t tier, uint64_t hash, uint32_t avoid, int spread,
	  double bw)
{
	const struct pfse_cl_view *v = e->view;
	uint32_t n = pfse_cl_lookup(v, tier, hash);

	if (!spread || n == PFSE_CL_NODE_NONE)
		return n;
	for (unsigned k = 0; k < 16; k++) {
		if (n != PFSE_CL_NODE_NONE && n != avoid && !e->node_cut[n] &&
		    node_room(e, n, bw))
			return n;
		hash = hash * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
		n = pfse_cl_lookup(v, tier, hash);
	}
	return PFSE_CL_NODE_NONE;
}

/* (Re)selects the node of a tracked flow whose directive's node is missing or unusable. */
static uint32_t
select_node(struct pfse_engine *e, uint32_t f, const struct pfse_pkt *p, uint32_t tier,
	    uint32_t old)
{
	struct eflow *h = hdr(e, f);
	uint64_t hash = cluster_hash(e, &p->key);
	uint32_t n = PFSE_CL_NODE_NONE;

	if (old != PFSE_NODE_ANY) /* displaced (its node went down): where there is room */
		n = pick_node(e, tier, hash, NONE32, 1, (double)bw_to_acct(h));
	if (n == PFSE_CL_NODE_NONE)
		n = pick_node(e, tier, hash, NONE32, 0, 0);
	if (n == PFSE_CL_NODE_NONE)
		return n;
	pfse_ft_set_node(e->t, f, (uint16_t)n);
	acct_node_del(e, h);
	acct_node_add(e, h, n);
	if (old != PFSE_NODE_ANY)
		e->st.reroute_health++;
	return n;
}

struct burst_acc {
	uint64_t bytes, now, fwd;
};

/* A flow not on the high-performance tier has grown into a new octave past its class's
 * shunting size (packet path): its P(elephant) is refreshed and, if it reaches the
 * threshold, the policy decides now rather than when its interval closes. */
static void
grown(struct pfse_engine *e, uint32_t f, uint64_t sent, uint64_t now)
{
	struct eflow *h = hdr(e, f);
	unsigned oct = pfse_octave(sent);

	if ((h->flags & EF_CLOSED) || oct == h->octave)
		return;
	move_octave(e, h, oct);
	h->p_elephant = p_elephant_u16(e, h->cls, sent);
	if (expected_elephant(e, h)) {
		if (now < e->now)
			now = e->now; /* as the table clamps a timestamp that goes back */
		decide(e, f, h, now, now / e->interval, 0);
	}
}

/* A FIN or RST. Once a flow is reset, or has a FIN each way (one FIN is a half-close:
 * the other side may go on sending), it is over but for its last packets, though the
 * table keeps it for its closing timeout: its forecast stops counting against its tier's
 * budget and its node's load (it is forecast as 0 from now on), and its class's history
 * counts it as ended. */
static void
closed(struct pfse_engine *e, uint32_t f, const struct pfse_pkt *p)
{
	struct eflow *h = hdr(e, f);

	if (h->flags & EF_CLOSED)
		return;
	if (!(p->tcp_flags & TCP_RST)) {
		h->flags |= (p->flags & PFSE_PKT_F_REVERSE) ? EF_FIN_REV : EF_FIN_FWD;
		if ((h->flags & (EF_FIN_FWD | EF_FIN_REV)) != (EF_FIN_FWD | EF_FIN_REV))
			return;
	}
	h->flags |= EF_CLOSED;
	h->bw = h->bw_hi = 0;
	if (h->acct_tier != NONE8 || h->acct_node != NONE16) {
		/* what was added goes (acct_bw), zero comes in its place */
		uint32_t tier = h->acct_tier == NONE8 ? PFSE_TIER_NONE : h->acct_tier;
		uint32_t node = h->acct_node == NONE16 ? PFSE_NODE_ANY : h->acct_node;

		acct_del(e, h);
		acct_add(e, h, tier, node);
	}
	if (e->use_prior)
		move_octave(e, h, 64 + pfse_octave(pfse_ft_bytes(e->t, f)));
}

/* A TCP packet with FIN, SYN or RST (packet path). */
static void
tcp_event(struct pfse_engine *e, uint32_t f, const struct pfse_pkt *p)
{
	if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		struct eflow *h = hdr(e, f);

		if (h->flags & EF_CLOSED)
			reopened(e, f, h);
		else
			h->flags &= (uint8_t)~(EF_FIN_FWD | EF_FIN_REV);
		return;
	}
	if (p->tcp_flags & (TCP_FIN | TCP_RST))
		closed(e, f, p);
}

/* The packet path's part of P(elephant): the packet that takes a flow off the
 * high-performance tier into a new octave of size at or past its class's shunting size
 * has it re-decided now (dir: its directive's tier, reason, node; a flow held back then,
 * by the dwell or the tier's budget, is re-decided when its interval closes). */
static inline void
size_check(struct pfse_engine *e, struct pfse_pkt *const pkts[], const uint32_t flows[],
	   unsigned n, unsigned i, uint32_t len, const uint8_t *dir)
{
	uint32_t cls, f = flows[i];
	uint64_t sent = pfse_ft_dir_bytes_class(dir, &cls); /* after the whole burst */
	uint8_t tier, reason;
	uint16_t node;

	pfse_ft_dir_read(dir, &tier, &reason, &node);
	if (pfse_octave(sent) < e->shunt_oct[cls] || tier == e->tier_hp ||
	    reason == PFSE_REASON_PINNED || reason == PFSE_REASON_ANOMALY)
		return;
	/* what it had sent after this packet: less its later packets in the burst */
	for (unsigned j = i + 1; j < n; j++)
		if (flows[j] == f) {
			uint32_t lj = pkts[j]->wirelen ? pkts[j]->wirelen : pkts[j]->caplen;

			sent -= lj < sent ? lj : sent;
		}
	if (len > 0 && len <= sent) {
		unsigned oct = pfse_octave(sent);

		if (oct >= e->shunt_oct[cls] && ((sent - len) >> oct) == 0)
			grown(e, f, sent, pkts[i]->ts);
	}
}

/* Decides each packet from its flow's directive, read from the table (its line was just
 * updated: in cache). */
static inline void
dispatch(struct pfse_engine *e, struct pfse_pkt *const pkts[], unsigned n, const uint32_t flows[],
	 const struct pfse_flow_masks *m, const struct pfse_ft_event ev[],
	 struct pfse_decision out[], struct burst_acc *acc)
{
	for (unsigned i = 0; i < n; i++) {
		const struct pfse_pkt *p = pkts[i];
		struct pfse_decision *d = &out[i];
		uint32_t len = p->wirelen ? p->wirelen : p->caplen, tier, node = PFSE_CL_NODE_NONE;
		uint64_t bit = 1ull << i;

		acc->bytes += len;
		if (p->ts > acc->now)
			acc->now = p->ts;
		d->flow = flows[i];
		if (pfse_unlikely(p->status != PFSE_PARSE_OK)) {
			d->tier = PFSE_TIER_NONE;
			d->node = PFSE_NODE_ANY;
			d->action = PFSE_ACT_UNPARSED;
			e->st.unparsed++;
			continue;
		}
		if (pfse_unlikely(!(m->tracked & bit))) {
			/* no flow: the standard tier by consistent hashing, or the local path */
			e->st.untracked++;
			tier = e->tier_std;
			node = tier != PFSE_TIER_NONE && tier < e->view->ntiers
				       ? pfse_cl_lookup(e->view, tier, cluster_hash(e, &p->key))
				       : PFSE_CL_NODE_NONE;
		} else {
			uint8_t t8, reason;
			uint16_t n16;

			if (pfse_unlikely(p->tcp_flags & (TCP_FIN | TCP_SYN | TCP_RST)))
				tcp_event(e, flows[i], p);
			else if (e->use_prior)
				size_check(e, pkts, flows, n, i, len, ev[i].dir);
			pfse_ft_dir_read(ev[i].dir, &t8, &reason, &n16);
			tier = t8;
			node = n16;
			if (tier != PFSE_TIER_NONE &&
			    pfse_unlikely(!node_usable(e->view, node, tier))) {
				if (tier >= e->view->ntiers)
					node = PFSE_CL_NODE_NONE;
				else if (reason == PFSE_REASON_PINNED)
					/* a pinned flow's node is down: elsewhere meanwhile */
					node = pick_node(e, tier, cluster_hash(e, &p->key), NONE32,
							 0, 0);
				else
					node = select_node(e, flows[i], p, tier, node);
			}
		}
		if (tier == PFSE_TIER_NONE) {
			d->tier = PFSE_TIER_NONE;
			d->node = PFSE_NODE_ANY;
			d->action = PFSE_ACT_TRANSMIT;
			e->st.local++;
			e->st.local_bytes += len;
		} else if (pfse_unlikely(node == PFSE_CL_NODE_NONE)) {
			/* the tier has no usable node: the local path */
			d->tier = (uint8_t)tier;
			d->node = PFSE_NODE_ANY;
			d->action = PFSE_ACT_TRANSMIT;
			e->st.no_node++;
			e->st.local++;
			e->st.local_bytes += len;
		} else {
			d->tier = (uint8_t)tier;
			d->node = (uint16_t)node;
			d->action = PFSE_ACT_FORWARD;
			acc->fwd++;
			e->st.tier_packets[tier]++;
			e->st.tier_bytes[tier] += len;
			e->node_st[node].pkts++;
			e->node_st[node].bytes += len;
		}
	}
}

PFSE_API int
pfse_engine_classify(struct pfse_engine *e, struct pfse_pkt *const pkts[], unsigned n,
		     struct pfse_decision out[])
{
	uint32_t flows[PFSE_BURST_MAX];
	struct pfse_ft_event ev[PFSE_BURST_MAX];
	struct pfse_flow_masks m;
	struct burst_acc st = { 0, 0, 0 };
	uint64_t evm;
	int r;

	if (!e || (n > 0 && (!pkts || !out)) || n > PFSE_BURST_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!pkts[i])
			return -EINVAL;
	if (n == 0)
		return 0;
	e->view = pfse_cl_enter(e->reader, e->epoch, e->viewp);
	r = pfse_ft_update_burst_ev(e->t, pkts, n, flows, &m, ev);
	if (r < 0) {
		pfse_cl_leave(e->reader);
		return r;
	}
	/* The model work first: the flows with a new flow or closed intervals, their slots
	 * fetched together, then processed in packet order; their directives change in the
	 * table, from which every packet's decision then reads its flow's directive. */
	evm = m.created | m.samples;
	for (uint64_t x = evm; x; x &= x - 1) {
		uintptr_t sl = (uintptr_t)hdr(e, flows[__builtin_ctzll(x)]);

		for (uintptr_t a = sl & ~(uintptr_t)63; a < sl + e->cx_off; a += 64)
			__builtin_prefetch((const void *)a, 1);
	}
	for (uint64_t x = evm; x; x &= x - 1) {
		unsigned i = (unsigned)__builtin_ctzll(x);

		if (m.created & (1ull << i))
			flow_new(e, flows[i], pkts[i]);
		else
			on_samples(e, flows[i], hdr(e, flows[i]), ev[i].closed_iv,
				   ev[i].closed_bytes, ev[i].open_iv - 1, pkts[i]->ts);
	}
	dispatch(e, pkts, n, flows, &m, ev, out, &st);
	pfse_cl_leave(e->reader);
	e->view = NULL;
	e->st.packets += n;
	e->st.bytes += st.bytes;
	e->st.forwarded += st.fwd;
	if (st.now > e->now)
		e->now = st.now;
	return (int)n;
}

PFSE_API int
pfse_engine_process(struct pfse_engine *e, struct pfse_pkt *const pkts[], unsigned n)
{
	struct pfse_decision d[PFSE_BURST_MAX];
	const struct pfse_cl_view *v;
	int r;

	if (!e)
		return -EINVAL;
	if (!e->io.forward || !e->io.transmit)
		return -ENOTSUP;
	r = pfse_engine_classify(e, pkts, n, d);
	if (r <= 0)
		return r;
	/* node user pointers: from the view the burst used (nodes are never removed, and a
	 * node's pointer never changes, so the current view has the same ones) */
	v = pfse_cl_enter(e->reader, e->epoch, e->viewp);
	for (unsigned i = 0; i < n; i++) {
		struct pfse_pkt *p = pkts[i];

		switch (d[i].action) {
		case PFSE_ACT_FORWARD:
			e->io.forward(p, d[i].node, v->nodes[d[i].node].user, e->user);
			break;
		case PFSE_ACT_TRANSMIT:
			if (e->io.rewrite) {
				uint32_t rules = e->io.rewrite(p, d[i].flow, e->user);

				if (d[i].flow != PFSE_FLOW_NONE) {
					struct eflow *h = hdr(e, d[i].flow);

					h->cx_rules += rules;
					h->cx_pkts++;
				}
			}
			e->io.transmit(p, e->user);
			break;
		default:
			e->io.transmit(p, e->user);
			break;
		}
	}
	pfse_cl_leave(e->reader);
	return r;
}

/* ---- time-driven work ---------------------------------------------------------------- */

/* The pool's series, newest first (at most 1024); their number. */
static unsigned
pool_series(const struct pfse_engine *e, const double *ser[], uint32_t lens[])
{
	unsigned n = 0;

	for (uint32_t i = 0; i < e->pool_n && n < 1024; i++) {
		uint32_t k = (e->pool_head + e->pool_cap - 1 - i) % e->pool_cap;

		ser[n] = e->pool + (size_t)k * (e->W + 1);
		lens[n] = e->pool_len[k];
		n++;
	}
	return n;
}

/* Refits start from the parameters in place alone (PFSE_FIT_F_WARM: the series of the last
 * 10 s change little, and the grid of starts is most of a fit's time), but the first and
 * every REFIT_GRID_EVERY-th, which start from the grid too, so that a fit drawn into
 * another basin by the traffic finds it within that many refits. */
#define REFIT_GRID_EVERY 8u

static uint32_t
fit_flags_next(struct pfse_engine *e)
{
	return e->nfits++ % REFIT_GRID_EVERY ? PFSE_FIT_F_WARM : 0;
}

static int
refit(struct pfse_engine *e)
{
	const double *ser[1024];
	uint32_t lens[1024];
	unsigned n = pool_series(e, ser, lens), ok = 0;
	uint32_t flags;

	if (n < 16)
		return 0;
	flags = fit_flags_next(e);
	for (unsigned b = 0; b < e->npred; b++)
		ok += pfse_predictor_fit(e->pred[b], ser, lens, n, flags, NULL) == 0;
	e->st.refits += ok;
	if (!(flags & PFSE_FIT_F_WARM))
		e->st.refits_grid += ok;
	return (int)ok;
}

/* PFSE_ENGINE_F_REFIT_ASYNC, on advance()'s side: a refit is due; the series and the
 * backends' parameters go aside for pfse_engine_refit() (replacing a job set aside
 * before and not taken yet), unless a fit is running or done and not yet in place (then
 * this refit is skipped). */
static void
refit_stage(struct pfse_engine *e)
{
	const double *ser[1024];
	uint32_t lens[1024];
	unsigned n, st = JOB_READY;
	size_t at = 0;

	/* a job no thread has taken yet is taken back, to be set aside again with the newer
	 * series (the refit thread takes a job with the same exchange, READY -> RUNNING); it
	 * never ran, so it does not count */
	if (atomic_compare_exchange_strong_explicit(&e->job.state, &st, JOB_IDLE,
						    memory_order_acquire, memory_order_relaxed))
		e->nfits--;
	else if (st != JOB_IDLE)
		return;
	n = pool_series(e, ser, lens);
	if (n < 16)
		return;
	e->job.fit_flags = fit_flags_next(e);
	for (unsigned k = 0; k < n; k++) {
		memcpy(e->job.ser + at, ser[k], lens[k] * sizeof(double));
		e->job.lens[k] = lens[k];
		at += lens[k];
	}
	e->job.n = n;
	for (unsigned b = 0; b < e->npred; b++) {
		struct pfse_model_params m;

		if (!e->job.pred[b])
			continue;
		pfse_model_params_init(&m);
		pfse_predictor_model_params(e->pred[b], &m);
		pfse_predictor_set_params(e->job.pred[b], &m);
	}
	atomic_store_explicit(&e->job.state, JOB_READY, memory_order_release);
}

/* ... and once pfse_engine_refit() is done: its parameters go in place. */
static void
refit_adopt(struct pfse_engine *e)
{
	if (atomic_load_explicit(&e->job.state, memory_order_acquire) != JOB_DONE)
		return;
	for (unsigned b = 0; b < e->npred; b++) {
		if (e->job.ok[b]) {
			pfse_predictor_set_params(e->pred[b], &e->job.out[b]);
			e->st.refits++;
			if (!(e->job.fit_flags & PFSE_FIT_F_WARM))
				e->st.refits_grid++;
		}
	}
	atomic_store_explicit(&e->job.state, JOB_IDLE, memory_order_release);
}

PFSE_API int
pfse_engine_refit(struct pfse_engine *e)
{
	const double *ser[1024];
	unsigned expect = JOB_READY;
	size_t at = 0;

	if (!e || !(e->flags & PFSE_ENGINE_F_REFIT_ASYNC))
		return -EINVAL;
	if (!atomic_compare_exchange_strong_explicit(&e->job.state, &expect, JOB_RUNNING,
						     memory_order_acquire, memory_order_relaxed))
		return 0;
	for (unsigned k = 0; k < e->job.n; k++) {
		ser[k] = e->job.ser + at;
		at += e->job.lens[k];
	}
	for (unsigned b = 0; b < e->npred; b++) {
		e->job.ok[b] = 0;
		if (!e->job.pred[b] ||
		    pfse_predictor_fit(e->job.pred[b], ser, e->job.lens, e->job.n,
				       e->job.fit_flags, NULL) < 0)
			continue;
		pfse_model_params_init(&e->job.out[b]);
		pfse_predictor_model_params(e->job.pred[b], &e->job.out[b]);
		e->job.ok[b] = 1;
	}
	atomic_store_explicit(&e->job.state, JOB_DONE, memory_order_release);
	return 1;
}

/* Marks overloaded nodes and, for each, the value bin below which this engine's flows on
 * it leave (its share of the excess); the same for tiers over budget. */
static void
mark_overloads(struct pfse_engine *e)
{
	const struct pfse_cl_view *v = e->view;

	/* A node sheds once it has been forecast over for the policy's dwell time (a short
	 * overload, flows about to end, passes by itself; a move breaks a flow's affinity).
	 * node_over[] holds the time it went over + 1 (0: it is not over). */
	for (uint32_t n = 0; n < v->nnodes; n++) {
		double cap = overload_cap(e, n);
		double global =
			(double)atomic_load_explicit(&e->predicted[n], memory_order_relaxed);
		double local = (double)e->node_load[n], excess, acc = 0;
		unsigned cut = 0;

		e->node_cut[n] = 0;
		e->node_excess[n].share = e->node_excess[n].all = 0;
		if (cap <= 0 || global <= cap) {
			e->node_over[n] = 0;
			continue;
		}
		if (!e->node_over[n])
			e->node_over[n] = e->now + 1;
		if (local <= 0 || e->now + 1 - e->node_over[n] < e->hold_ns)
			continue;
		excess = (global - cap) * (local / global);
		while (cut < VBINS && acc < excess)
			acc += (double)e->node_hist[(size_t)n * VBINS + cut++];
		e->node_cut[n] = (uint8_t)cut;
		e->node_excess[n].share = excess;
		e->node_excess[n].all = global - cap;
		e->node_excess[n].shared = local < global;
	}
	for (uint32_t t = 0; t < v->ntiers; t++) {
		double budget = tier_budget(e, t), acc = 0;
		unsigned cut = VBINS;

		e->tier_cut[t] = 0;
		e->tier_excess[t] = 0;
		if (budget <= 0 || t == e->tier_std || (double)e->tier_load[t] <= budget)
			continue;
		/* keep the most valuable bins that fit: flows below leave, until the excess
		 * has */
		e->tier_excess[t] = (double)e->tier_load[t] - budget;
		while (cut > 0 && acc + (double)e->tier_hist[t][cut - 1] <= budget)
			acc += (double)e->tier_hist[t][--cut];
		e->tier_cut[t] = (uint8_t)cut;
	}
}

/* Whether a flow of `bw` may move off overloaded node `n` (within this engine's share of
 * the excess). Where other engines have load, only if the move brings the node's forecast
 * closer to its limit (`bw` under twice the excess this engine knows of): an engine whose
 * share is smaller than its smallest flow there would otherwise move that flow while the
 * others move theirs, and take the node far below its capacity. If the node stays over
 * for twice the policy's dwell, any flow may go (no engine may then have a small enough
 * one). Alone on the node, the engine moves what its share asks. */
static inline int
sheds(const struct pfse_engine *e, uint32_t n, double bw)
{
	const struct nexcess *x = &e->node_excess[n];

	return !x->shared || bw < 2 * x->all || e->now + 1 - e->node_over[n] >= 2 * e->hold_ns;
}

/* Visits one flow in advance(): observes its silent intervals, moves it off an overloaded
 * node or out of a full tier. Returns 1 if it did something. */
static int
visit(struct pfse_engine *e, uint32_t f, uint64_t now_iv, unsigned *flips)
{
	struct eflow *h = hdr(e, f);
	struct pfse_flow_info info;
	int did = 0;

	pfse_flow_info_init(&info);
	if (pfse_flow_table_info(e->t, f, &info) < 0)
		return 0;
	if (info.interval < now_iv && (!(h->flags & EF_SEEN) || h->obs_iv + 1 < now_iv)) {
		/* quiet: its open interval is over, and silence since */
		on_samples(e, f, h, info.interval, info.open_bytes, now_iv - 1, e->now);
		pfse_flow_table_info(e->t, f, &info);
		did = 1;
	}
	/* Flows below a tier's cut are demoted until its excess is gone, those of no
	 * forecast load (closed, say) whatever the excess: they cost the tier nothing and
	 * keep their place in it for nothing (exempting them from demotion lowered web
	 * search from 92.0% to 91.0% of elephant bytes on the high-performance tier; when
	 * every flow below the cut was demoted, it took it from 88.9% to 62%). Flows below
	 * an overloaded node's cut move while its excess lasts, each to a node with room.
	 * See doc/evaluation.md. */
	if (*flips >= e->flip_budget || info.directive.reason == PFSE_REASON_PINNED)
		return did;
	if (info.directive.tier != PFSE_TIER_NONE && info.directive.tier < e->view->ntiers &&
	    e->tier_cut[info.directive.tier] > h->vbin && info.directive.tier != e->tier_std &&
	    (e->tier_excess[info.directive.tier] > 0 || h->acct_bw == 0)) {
		struct pfse_directive d = info.directive;

		e->tier_excess[info.directive.tier] -= (double)h->acct_bw;
		d.tier = (uint8_t)e->tier_std;
		d.reason = PFSE_REASON_BUDGET;
		d.node = PFSE_NODE_ANY;
		d.since = e->now;
		set_directive(e, f, h, &d, now_iv);
		e->st.budget_demotions++;
		(*flips)++;
		return 1;
	}
	if (h->acct_node != NONE16 && e->node_cut[h->acct_node] > h->vbin &&
	    e->node_excess[h->acct_node].share > 0 && h->acct_bw > 0 &&
	    sheds(e, h->acct_node, (double)h->acct_bw)) {
		uint32_t tier = info.directive.tier, old = h->acct_node, n;
		n = pick_node(e, tier, cluster_hash(e, &info.key), old, 1,
			      (double)bw_to_acct(h));
		if (n != PFSE_CL_NODE_NONE && n != old) {
			struct pfse_directive d = info.directive;

			e->node_excess[old].share -= (double)h->acct_bw; /* what leaves it */
			e->node_excess[old].all -= (double)h->acct_bw;
			d.node = (uint16_t)n;
			d.reason = PFSE_REASON_OVERLOAD;
			d.since = e->now;
			set_directive(e, f, h, &d, now_iv);
			e->st.reroute_overload++;
			(*flips)++;
			return 1;
		}
	}
	return did;
}

PFSE_API int
pfse_engine_advance(struct pfse_engine *e, uint64_t now, unsigned budget)
{
	uint64_t now_iv;
	unsigned flips = 0;
	int work = 0, r;

	if (!e)
		return -EINVAL;
	if (now < e->now)
		now = e->now;
	e->now = now;
	now_iv = now / e->interval;
	e->view = pfse_cl_enter(e->reader, e->epoch, e->viewp);
	if (e->flags & PFSE_ENGINE_F_REFIT_ASYNC)
		refit_adopt(e);
	r = pfse_flow_table_expire(e->t, now, budget ? budget : 1024, flow_end, e);
	if (r > 0)
		work += r;
	if (e->refit_ns != UINT64_MAX && now >= e->next_refit) {
		if (e->next_refit != 0) {
			if (e->flags & PFSE_ENGINE_F_REFIT_ASYNC)
				refit_stage(e);
			else
				refit(e);
		}
		e->next_refit = now + e->refit_ns;
	}
	if (now >= e->next_z) {
		/* calibrated multipliers, refreshed once a second rather than per sample */
		for (unsigned b = 0; b < e->npred; b++)
			for (unsigned a = 0; a < AGES; a++)
				pfse_calibrator_z(e->cal[b][a], 0.95, &e->z95[b][a]);
		e->next_z = now + 1000000000ull;
	}
	flush_predicted(e);
	mark_overloads(e);
	/* at most scan_budget flows and 64 x scan_budget slots per call (a word of the
	 * table's in-use bitmap each): a sparse table costs no more per call than a full
	 * one; and one pass over the flows per interval: what a visit does changes only
	 * when an interval closes or a node's load does, which the next pass sees */
	if (!(e->scan_iter == 0 && e->scan_done_iv == now_iv)) {
		uint32_t slots = 64 * e->scan_budget;

		for (unsigned k = 0; k < e->scan_budget; k++) {
			uint32_t f, at = e->scan_iter;
			int sr = pfse_ft_scan(e->t, &e->scan_iter, slots, &f);

			slots -= e->scan_iter - at < slots ? e->scan_iter - at : slots;
			if (sr == -ENOENT) {
				e->scan_iter = 0;
				e->scan_done_iv = now_iv;
				break;
			}
			if (sr < 0)
				break;
			work += visit(e, f, now_iv, &flips);
		}
	}
	flush_predicted(e);
	pfse_cl_leave(e->reader);
	e->view = NULL;
	return work;
}

/* ---- pins, info, stats --------------------------------------------------------------- */

PFSE_API int
pfse_engine_pin(struct pfse_engine *e, uint32_t flow, uint32_t node)
{
	struct pfse_directive d;
	struct pfse_node_info ni;
	struct eflow *h;

	if (!e)
		return -EINVAL;
	ni.size = sizeof(ni);
	if (pfse_cluster_node_info(e->cl, node, &ni) < 0)
		return -EINVAL;
	h = hdr_checked(e, flow);
	if (!h)
		return -ENOENT;
	memset(&d, 0, sizeof(d));
	d.tier = (uint8_t)ni.tier;
	d.node = (uint16_t)node;
	d.reason = PFSE_REASON_PINNED;
	d.since = e->now;
	set_directive(e, flow, h, &d, e->now / e->interval);
	return 0;
}

PFSE_API int
pfse_engine_unpin(struct pfse_engine *e, uint32_t flow)
{
	struct pfse_flow_info info;
	struct eflow *h;

	if (!e)
		return -EINVAL;
	h = hdr_checked(e, flow);
	if (!h)
		return -ENOENT;
	pfse_flow_info_init(&info);
	pfse_flow_table_info(e->t, flow, &info);
	if (info.directive.reason == PFSE_REASON_PINNED) {
		struct pfse_directive d = info.directive;

		/* the policy decides at the flow's next interval; until then, where it is */
		d.reason = PFSE_REASON_DEFAULT;
		d.since = 0;
		pfse_flow_table_set_directive(e->t, flow, &d);
		h->since_iv = 0; /* long ago: no dwell holds it */
	}
	return 0;
}

PFSE_API int
pfse_engine_flow_info(struct pfse_engine *e, uint32_t flow, struct pfse_engine_flow_info *out)
{
	struct pfse_engine_flow_info fi;
	struct pfse_flow_info info;
	struct eflow *h;

	if (!e || !out || out->size < sizeof(size_t) || out->size > PFSE_PARAMS_SIZE_MAX)
		return -EINVAL;
	h = hdr_checked(e, flow);
	if (!h)
		return -ENOENT;
	pfse_flow_info_init(&info);
	pfse_flow_table_info(e->t, flow, &info);
	memset(&fi, 0, sizeof(fi));
	fi.size = out->size;
	fi.directive = info.directive;
	fi.bw = h->bw;
	fi.bw_hi = h->bw_hi;
	fi.complexity = h->cx;
	fi.criticality = h->crit;
	fi.samples = h->samples;
	fi.complexity_samples = h->cx_n;
	fi.class_id = h->cls;
	fi.backend = h->backend;
	fi.anomalies = h->anomalies;
	memcpy(out, &fi, out->size < sizeof(fi) ? out->size : sizeof(fi));
	if (out->size > sizeof(fi))
		memset((uint8_t *)out + sizeof(fi), 0, out->size - sizeof(fi));
	return 0;
}

PFSE_API int
pfse_engine_node_stats(struct pfse_engine *e, uint32_t node, uint64_t *packets, uint64_t *bytes)
{
	if (!e || node >= e->max_nodes)
		return -EINVAL;
	if (packets)
		*packets = e->node_st[node].pkts;
	if (bytes)
		*bytes = e->node_st[node].bytes;
	return 0;
}

PFSE_API int
pfse_engine_stats(struct pfse_engine *e, struct pfse_engine_stats *out)
{
	struct pfse_engine_stats st;

	if (!e || !out || out->size < sizeof(size_t) || out->size > PFSE_PARAMS_SIZE_MAX)
		return -EINVAL;
	st = e->st;
	st.size = out->size;
	memcpy(out, &st, out->size < sizeof(st) ? out->size : sizeof(st));
	if (out->size > sizeof(st))
		memset((uint8_t *)out + sizeof(st), 0, out->size - sizeof(st));
	return 0;
}

PFSE_API struct pfse_flow_table *
pfse_engine_table(struct pfse_engine *e)
{
	return e ? e->t : NULL;
}

PFSE_API int
pfse_engine_model_params(struct pfse_engine *e, uint32_t backend,
			 struct pfse_model_params *out)
{
	if (!e || backend >= e->npred)
		return -EINVAL;
	return pfse_predictor_model_params(e->pred[backend], out);
}

PFSE_API struct pfse_history *
pfse_engine_history(struct pfse_engine *e)
{
	return e ? e->hist : NULL;
}
