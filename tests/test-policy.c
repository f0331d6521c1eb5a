/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shunt policy: tiers found by kind, the rules in their order (pins, anomalies,
 * priors, thresholds with hysteresis, dwell), a forecast oscillating around a threshold
 * changing the directive at most once per dwell time, and invalid arguments.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <pfse/pfse.h>

#include "test-util.h"

#define MS 1000000ull
#define SEC 1000000000ull

static struct pfse_cluster *cl;
static uint32_t t_std, t_hp, t_dpi;

static uint32_t
add_tier(const char *name, uint32_t kind)
{
	struct pfse_tier_params p;
	uint32_t t;

	pfse_tier_params_init(&p);
	p.name = name;
	p.kind = kind;
	ck_assert_int_eq(pfse_cluster_add_tier(cl, &p, &t), 0);
	return t;
}

static void
setup(void)
{
	struct pfse_cluster_params p;

	pfse_cluster_params_init(&p);
	ck_assert_int_eq(pfse_cluster_create(&p, &cl), 0);
	t_dpi = add_tier("dpi", PFSE_TIER_KIND_INSPECTION);
	t_std = add_tier("std", PFSE_TIER_KIND_STANDARD);
	t_hp = add_tier("hp", PFSE_TIER_KIND_HIGH_PERF);
}

static void
teardown(void)
{
	pfse_cluster_destroy(cl);
}

/* A policy on the test cluster; 0 = the default for each parameter. */
static struct pfse_policy *
mkpolicy_with(double bw_enter, double bw_exit, uint64_t dwell, uint32_t flags,
	      double p_elephant_enter)
{
	struct pfse_policy_params p;
	struct pfse_policy *pol = NULL;

	pfse_policy_params_init(&p);
	p.cluster = cl;
	p.bw_enter = bw_enter;
	p.bw_exit = bw_exit;
	p.dwell_ns = dwell;
	p.flags = flags;
	p.p_elephant_enter = p_elephant_enter;
	ck_assert_int_eq(pfse_policy_create(&p, &pol), 0);
	return pol;
}

static struct pfse_policy *
mkpolicy(double bw_enter, double bw_exit, uint64_t dwell)
{
	return mkpolicy_with(bw_enter, bw_exit, dwell, 0, 0);
}

/* A policy at 1 MB/s with these flags and p_elephant_enter (0: default). */
static struct pfse_policy *
mkpolicy_rule3(uint32_t flags, double p_elephant_enter)
{
	return mkpolicy_with(1e6, 0, 0, flags, p_elephant_enter);
}

static int
decide(struct pfse_policy *pol, struct pfse_policy_input *in, struct pfse_directive *d)
{
	int r = pfse_policy_decide(pol, in, d);

	ck_assert_int_ge(r, 0);
	in->current = *d;
	in->flags = 0;
	return r;
}

START_TEST(tiers_by_kind)
{
	struct pfse_policy *pol = mkpolicy(1e6, 0, 0);
	uint32_t s, h, i;

	ck_assert_int_eq(pfse_policy_tiers(pol, &s, &h, &i), 0);
	ck_assert_uint_eq(s, t_std);
	ck_assert_uint_eq(h, t_hp);
	ck_assert_uint_eq(i, t_dpi);
	pfse_policy_destroy(pol);
	ck_assert_str_eq(pfse_reason_str(PFSE_REASON_PRIOR), "prior");
	ck_assert_str_eq(pfse_reason_str(PFSE_REASON_HEALTH), "health");
	ck_assert_str_eq(pfse_reason_str(PFSE_REASON_COUNT), "unknown");
}
END_TEST

START_TEST(rules_in_order)
{
	struct pfse_policy *pol = mkpolicy(1e6, 0.5e6, 2 * SEC);
	struct pfse_policy_input in;
	struct pfse_directive d;

	/* a new flow whose class says elephant: high performance on its first packet */
	pfse_policy_input_init(&in);
	in.flags = PFSE_POLICY_IN_NEW;
	in.now = 10 * SEC;
	in.p_elephant = 0.7;
	ck_assert_int_eq(decide(pol, &in, &d), 1);
	ck_assert_uint_eq(d.tier, t_hp);
	ck_assert_uint_eq(d.reason, PFSE_REASON_PRIOR);
	ck_assert_uint_eq(d.node, PFSE_NODE_ANY);
	ck_assert_uint_eq(d.since, 10 * SEC);
	/* the same flow under a reactive policy (no prior): standard until its own samples
	 * say otherwise */
	{
		struct pfse_policy *rpol = mkpolicy_rule3(PFSE_POLICY_F_NO_PRIOR, 0);
		struct pfse_policy_input ri;
		struct pfse_directive rd;

		pfse_policy_input_init(&ri);
		ri.flags = PFSE_POLICY_IN_NEW;
		ri.now = 10 * SEC;
		ri.p_elephant = 0.9;
		ri.bw = ri.bw_hi = 5e6; /* the class's expected rate: ignored too */
		ck_assert_int_eq(decide(rpol, &ri, &rd), 1);
		ck_assert_uint_eq(rd.tier, t_std);
		ck_assert_uint_eq(rd.reason, PFSE_REASON_DEFAULT);
		/* its own forecast crosses within the dwell: held, unless the directive is
		 * still its first, default placement */
		ri.now = 10 * SEC + 300 * MS;
		ri.bw = ri.bw_hi = 2e6;
		ck_assert_int_eq(decide(rpol, &ri, &rd), 0);
		ck_assert_uint_eq(rd.tier, t_std);
		ri.bw = ri.bw_hi = 2e6;
		ri.flags = PFSE_POLICY_IN_INITIAL;
		ck_assert_int_eq(decide(rpol, &ri, &rd), 1);
		ck_assert_uint_eq(rd.tier, t_hp);
		ck_assert_uint_eq(rd.reason, PFSE_REASON_BANDWIDTH);
		/* and once moved, the dwell holds it */
		ri.now += 100 * MS;
		ri.bw = ri.bw_hi = 1000;
		ck_assert_int_eq(decide(rpol, &ri, &rd), 0);
		ck_assert_uint_eq(rd.tier, t_hp);
		pfse_policy_destroy(rpol);
	}
	/* it sends little, but its class's history, given what it has sent, still says
	 * elephant: it stays, past its dwell */
	in.now = 11 * SEC;
	in.bw = in.bw_hi = 1000;
	ck_assert_int_eq(decide(pol, &in, &d), 0);
	ck_assert_uint_eq(d.tier, t_hp);
	in.now = 12 * SEC;
	ck_assert_int_eq(decide(pol, &in, &d), 0);
	ck_assert_uint_eq(d.tier, t_hp);
	ck_assert_uint_eq(d.reason, PFSE_REASON_PRIOR);
	/* the history no longer does (0.59 < 0.6): within its dwell it stays, then goes */
	in.p_elephant = 0.59;
	in.now = 11 * SEC;
	ck_assert_int_eq(decide(pol, &in, &d), 0);
	ck_assert_uint_eq(d.tier, t_hp);
	in.now = 12 * SEC;
	ck_assert_int_eq(decide(pol, &in, &d), 1);
	ck_assert_uint_eq(d.tier, t_std);
	ck_assert_uint_eq(d.reason, PFSE_REASON_DEFAULT);
	ck_assert_uint_eq(d.since, 12 * SEC);
	/* an anomaly goes to inspection at once, dwell or not */
	in.now = 12 * SEC + 1;
	in.flags = PFSE_POLICY_IN_ANOMALY;
	ck_assert_int_eq(decide(pol, &in, &d), 1);
	ck_assert_uint_eq(d.tier, t_dpi);
	ck_assert_uint_eq(d.reason, PFSE_REASON_ANOMALY);
	/* and comes back after its dwell */
	in.now = 13 * SEC;
	ck_assert_int_eq(decide(pol, &in, &d), 0);
	ck_assert_uint_eq(d.tier, t_dpi);
	in.now = 15 * SEC;
	ck_assert_int_eq(decide(pol, &in, &d), 1);
	ck_assert_uint_eq(d.tier, t_std);
	/* growth: bandwidth at the enter threshold */
	in.now = 20 * SEC;
	in.bw = 1e6;
	ck_assert_int_eq(decide(pol, &in, &d), 1);
	ck_assert_uint_eq(d.tier, t_hp);
	ck_assert_uint_eq(d.reason, PFSE_REASON_BANDWIDTH);
	/* hysteresis: it stays while above the exit threshold */
	in.now = 30 * SEC;
	in.bw = 0.6e6;
	ck_assert_int_eq(decide(pol, &in, &d), 0);
	ck_assert_uint_eq(d.tier, t_hp);
	in.bw = 0.49e6;
	ck_assert_int_eq(decide(pol, &in, &d), 1);
	ck_assert_uint_eq(d.tier, t_std);
	/* a pinned flow keeps its directive whatever happens */
	d.reason = PFSE_REASON_PINNED;
	d.tier = (uint8_t)t_hp;
	d.node = 3;
	in.current = d;
	in.flags = PFSE_POLICY_IN_ANOMALY;
	in.bw = 0;
	in.now = 100 * SEC;
	ck_assert_int_eq(decide(pol, &in, &d), 0);
	ck_assert_uint_eq(d.node, 3);
	ck_assert_uint_eq(d.reason, PFSE_REASON_PINNED);
	/* a small new flow of a mouse class: standard */
	pfse_policy_input_init(&in);
	in.flags = PFSE_POLICY_IN_NEW;
	in.p_elephant = 0.1;
	in.bw = 100;
	ck_assert_int_eq(decide(pol, &in, &d), 1);
	ck_assert_uint_eq(d.tier, t_std);
	ck_assert_uint_eq(d.reason, PFSE_REASON_DEFAULT);
	pfse_policy_destroy(pol);
}
END_TEST

START_TEST(prior_given_bytes)
{
	/* The engine conditions P(elephant) on what a flow has sent: a live flow whose chance
	 * rises past p_elephant_enter (0.6 by default) is shunted then, reason "prior"; a
	 * reactive policy (PFSE_POLICY_F_NO_PRIOR) ignores it. */
	struct pfse_policy *pol = mkpolicy(1e6, 0.5e6, 2 * SEC);
	struct pfse_policy *rpol = mkpolicy_rule3(PFSE_POLICY_F_NO_PRIOR, 0);
	struct pfse_policy_input in, ri;
	struct pfse_directive d, rd;

	pfse_policy_input_init(&in);
	in.flags = PFSE_POLICY_IN_NEW;
	in.now = 10 * SEC;
	in.p_elephant = 0.3;
	in.bw = in.bw_hi = 100;
	ri = in;
	ck_assert_int_eq(decide(pol, &in, &d), 1);
	ck_assert_uint_eq(d.tier, t_std);
	ck_assert_int_eq(decide(rpol, &ri, &rd), 1);
	ck_assert_uint_eq(rd.tier, t_std);
	/* 0.59: not yet */
	in.now = ri.now = 10 * SEC + 100 * MS;
	in.flags = ri.flags = PFSE_POLICY_IN_INITIAL;
	in.p_elephant = ri.p_elephant = 0.59;
	ck_assert_int_eq(decide(pol, &in, &d), 0);
	ck_assert_uint_eq(d.tier, t_std);
	/* 0.6: at once (the first placement was a default one), whatever its bandwidth */
	in.now = ri.now = 10 * SEC + 200 * MS;
	in.flags = ri.flags = PFSE_POLICY_IN_INITIAL;
	in.p_elephant = ri.p_elephant = 0.6;
	ck_assert_int_eq(decide(pol, &in, &d), 1);
	ck_assert_uint_eq(d.tier, t_hp);
	ck_assert_uint_eq(d.reason, PFSE_REASON_PRIOR);
	ck_assert_uint_eq(d.since, 10 * SEC + 200 * MS);
	ck_assert_int_eq(decide(rpol, &ri, &rd), 0);
	ck_assert_uint_eq(rd.tier, t_std);
	/* it stays while the chance holds, long past its dwell */
	in.now = ri.now = 60 * SEC;
	ck_assert_int_eq(decide(pol, &in, &d), 0);
	ck_assert_uint_eq(d.tier, t_hp);
	ck_assert_uint_eq(d.reason, PFSE_REASON_PRIOR);
	/* its bandwidth crosses too: it keeps the reason it entered with */
	in.bw = in.bw_hi = 2e6;
	ck_assert_int_eq(decide(pol, &in, &d), 0);
	ck_assert_uint_eq(d.reason, PFSE_REASON_PRIOR);
	/* a policy with the rule off (p_elephant_enter > 1) never uses it */
	{
		struct pfse_policy *opol = mkpolicy_rule3(0, 1.5);

		pfse_policy_input_init(&ri);
		ri.flags = PFSE_POLICY_IN_INITIAL;
		ri.current.tier = (uint8_t)t_std;
		ri.current.reason = PFSE_REASON_DEFAULT;
		ri.p_elephant = 1;
		ri.now = SEC;
		ck_assert_int_eq(decide(opol, &ri, &rd), 0);
		ck_assert_uint_eq(rd.tier, t_std);
		pfse_policy_destroy(opol);
	}
	pfse_policy_destroy(rpol);
	pfse_policy_destroy(pol);
}
END_TEST

START_TEST(complexity_and_criticality)
{
	struct pfse_policy_params p;
	struct pfse_policy *pol = NULL;
	struct pfse_policy_input in;
	struct pfse_directive d;

	pfse_policy_params_init(&p);
	p.cluster = cl;
	p.cx_enter = 8;
	p.crit_enter = 5;
	p.dwell_ns = 1;
	p.p_elephant_enter = 2; /* off */
	ck_assert_int_eq(pfse_policy_create(&p, &pol), 0);
	pfse_policy_input_init(&in);
	in.flags = PFSE_POLICY_IN_NEW;
	in.p_elephant = 1;
	ck_assert_int_eq(decide(pol, &in, &d), 1);
	ck_assert_uint_eq(d.tier, t_std);
	in.now = 10;
	in.cx = 9;
	ck_assert_int_eq(decide(pol, &in, &d), 1);
	ck_assert_uint_eq(d.reason, PFSE_REASON_COMPLEXITY);
	in.now = 20;
	in.cx = 5; /* above the exit (4) */
	ck_assert_int_eq(decide(pol, &in, &d), 0);
	in.cx = 3;
	in.now = 30;
	ck_assert_int_eq(decide(pol, &in, &d), 1);
	ck_assert_uint_eq(d.tier, t_std);
	in.crit = 5;
	in.now = 40;
	ck_assert_int_eq(decide(pol, &in, &d), 1);
	ck_assert_uint_eq(d.reason, PFSE_REASON_CRITICALITY);
	in.crit = 4.5; /* exit is 4 */
	in.now = 50;
	ck_assert_int_eq(decide(pol, &in, &d), 0);
	pfse_policy_destroy(pol);
}
END_TEST

START_TEST(oscillation_changes_once_per_dwell)
{
	/* A forecast crossing both thresholds every interval (100 ms) for 60 s, with a 2 s
	 * dwell: at most one change per dwell time. */
	struct pfse_policy *pol = mkpolicy(1e6, 0.8e6, 2 * SEC);
	struct pfse_policy_input in;
	struct pfse_directive d;
	uint64_t last = 0;
	unsigned changes = 0;

	pfse_policy_input_init(&in);
	in.flags = PFSE_POLICY_IN_NEW;
	in.now = SEC;
	decide(pol, &in, &d);
	last = in.now;
	for (unsigned k = 1; k <= 600; k++) {
		in.now = SEC + k * 100 * MS;
		in.bw = in.bw_hi = (k % 2) ? 1.2e6 : 0.5e6;
		if (decide(pol, &in, &d)) {
			ck_assert_uint_ge(in.now - last, 2 * SEC);
			last = in.now;
			changes++;
		}
	}
	ck_assert_uint_le(changes, 30);
	ck_assert_uint_ge(changes, 25); /* and it does follow, once per dwell */
	pfse_policy_destroy(pol);
}
END_TEST

START_TEST(missing_tiers)
{
	struct pfse_cluster_params cp;
	struct pfse_cluster *bare = NULL;
	struct pfse_policy_params p;
	struct pfse_policy *pol = NULL;
	struct pfse_policy_input in;
	struct pfse_directive d;
	uint32_t s, h, i;

	pfse_cluster_params_init(&cp);
	ck_assert_int_eq(pfse_cluster_create(&cp, &bare), 0);
	pfse_policy_params_init(&p);
	p.cluster = bare;
	p.bw_enter = 1;
	ck_assert_int_eq(pfse_policy_create(&p, &pol), 0);
	ck_assert_int_eq(pfse_policy_tiers(pol, &s, &h, &i), 0);
	ck_assert_uint_eq(s, PFSE_TIER_NONE);
	ck_assert_uint_eq(h, PFSE_TIER_NONE);
	ck_assert_uint_eq(i, PFSE_TIER_NONE);
	pfse_policy_input_init(&in);
	in.flags = PFSE_POLICY_IN_NEW | PFSE_POLICY_IN_ANOMALY;
	in.p_elephant = 1;
	in.bw = 1e9;
	ck_assert_int_eq(pfse_policy_decide(pol, &in, &d), 1);
	ck_assert_uint_eq(d.tier, PFSE_TIER_NONE); /* the local path */
	ck_assert_uint_eq(d.reason, PFSE_REASON_DEFAULT);
	pfse_policy_destroy(pol);
	pfse_cluster_destroy(bare);
}
END_TEST

START_TEST(invalid_arguments)
{
	struct pfse_policy_params p;
	struct pfse_policy *pol = NULL;
	struct pfse_policy_input in;
	struct pfse_directive d;

	pfse_policy_params_init(&p);
	ck_assert_int_eq(pfse_policy_create(&p, &pol), -EINVAL); /* no cluster */
	p.cluster = cl;
	ck_assert_int_eq(pfse_policy_create(NULL, &pol), -EINVAL);
	ck_assert_int_eq(pfse_policy_create(&p, NULL), -EINVAL);
	p.bw_enter = NAN;
	ck_assert_int_eq(pfse_policy_create(&p, &pol), -EINVAL);
	p.bw_enter = 10;
	p.bw_exit = 11;
	ck_assert_int_eq(pfse_policy_create(&p, &pol), -EINVAL);
	p.bw_exit = 0;
	p.cx_enter = -1;
	ck_assert_int_eq(pfse_policy_create(&p, &pol), -EINVAL);
	p.cx_enter = 0;
	p.target_util = 1.5;
	ck_assert_int_eq(pfse_policy_create(&p, &pol), -EINVAL);
	p.target_util = 0;
	p.flags = 1u << 7;
	ck_assert_int_eq(pfse_policy_create(&p, &pol), -EINVAL);
	p.flags = 0;
	p.reserved = 1;
	ck_assert_int_eq(pfse_policy_create(&p, &pol), -EINVAL);
	p.reserved = 0;
	ck_assert_int_eq(pfse_policy_create(&p, &pol), 0);
	pfse_policy_destroy(NULL);
	pfse_policy_input_init(&in);
	ck_assert_int_eq(pfse_policy_decide(NULL, &in, &d), -EINVAL);
	ck_assert_int_eq(pfse_policy_decide(pol, NULL, &d), -EINVAL);
	ck_assert_int_eq(pfse_policy_decide(pol, &in, NULL), -EINVAL);
	in.bw = INFINITY;
	ck_assert_int_eq(pfse_policy_decide(pol, &in, &d), -EINVAL);
	in.bw = 0;
	in.size = 8;
	ck_assert_int_eq(pfse_policy_decide(pol, &in, &d), -EINVAL);
	ck_assert_int_eq(pfse_policy_tiers(NULL, NULL, NULL, NULL), -EINVAL);
	pfse_policy_destroy(pol);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tiers_by_kind);
	tcase_add_test(tc, rules_in_order);
	tcase_add_test(tc, prior_given_bytes);
	tcase_add_test(tc, complexity_and_criticality);
	tcase_add_test(tc, oscillation_changes_once_per_dwell);
	tcase_add_test(tc, missing_tiers);
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, invalid_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(policy_suite());
}
