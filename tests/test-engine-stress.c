/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Concurrency: a control thread flips node health thousands of times (and reclaims),
 * while a data-path thread classifies bursts of packets of many flows and runs
 * advance(). After pfse_cluster_set_node_health(DOWN) returns, the control thread sets
 * the node's bit in a mask; before it sets the node UP again, it clears the bit and bumps
 * the node's generation. The data thread reads mask and generations before and after
 * each burst: a node whose bit was set before and after, at the same generation, was
 * DOWN (published) before the burst began and all through it, and no packet of the burst
 * may go to it. Run it under ThreadSanitizer (CI builds it with -Db_sanitize=thread) and
 * ASan: zero reports, zero such packets, no use after free.
 *
 *   PFSE_TEST_PACKETS  packets to classify (default 2000000; 200000 under valgrind)
 *   PFSE_TEST_FLIPS    health changes (default 5000)
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pfse/pfse.h>

#include "test-util.h"

#define NODES 8

struct shared {
	struct pfse_cluster *cl;
	uint32_t nodes[NODES];
	_Atomic uint64_t down_mask;
	_Atomic uint32_t gen[NODES];
	_Atomic int done;
	_Atomic unsigned flipped;
	unsigned flips;            /* asked for; read-only once the threads run */
};

static unsigned long
env_num(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

static void
next_rng(uint64_t *r)
{
	*r ^= *r << 13;
	*r ^= *r >> 7;
	*r ^= *r << 17;
}

/* A parsed TCP packet of flow number `f` (to port 443). */
static void
mkpkt(struct pfse_pkt *p, uint32_t f, uint32_t len, uint64_t ts)
{
	memset(p, 0, sizeof(*p));
	pfse_flow_key_set(&p->key, PFSE_FAMILY_IPV4, &f, "\x0a\0\0\x02",
			  (uint16_t)(1024 + f % 50000), 443, 6, 0);
	p->status = PFSE_PARSE_OK;
	p->wirelen = len;
	p->ts = ts;
}

static void *
control(void *arg)
{
	struct shared *s = arg;
	uint64_t r = 0x853c49e6748fea9bull;
	uint32_t state[NODES] = { 0 };
	unsigned done = 0;

	while (done < s->flips && !atomic_load(&s->done)) {
		/* node 0 always stays up; the others go DOWN or DRAINING, and back UP */
		unsigned k = 1 + (unsigned)((r >> 33) % (NODES - 1));
		uint64_t bit = 1ull << k;

		r = r * 6364136223846793005ull + 1442695040888963407ull;
		if (state[k] != PFSE_NODE_UP) {
			/* the bit goes before the node is up again */
			atomic_fetch_and(&s->down_mask, ~bit);
			atomic_fetch_add(&s->gen[k], 1);
			ck_assert_int_eq(pfse_cluster_set_node_health(s->cl, s->nodes[k],
								      PFSE_NODE_UP, 0.1),
					 0);
			state[k] = PFSE_NODE_UP;
		} else {
			state[k] = (r >> 40) & 1 ? PFSE_NODE_DOWN : PFSE_NODE_DRAINING;
			ck_assert_int_eq(pfse_cluster_set_node_health(s->cl, s->nodes[k], state[k],
								      0.9),
					 0);
			/* and only after the call returned, the bit */
			if (state[k] == PFSE_NODE_DOWN)
				atomic_fetch_or(&s->down_mask, bit);
		}
		if (done % 64 == 0)
			pfse_cluster_reclaim(s->cl);
		done++;
		atomic_store(&s->flipped, done);
		sched_yield();
	}
	return NULL;
}

START_TEST(health_flips_during_bursts)
{
	struct pfse_cluster_params cp;
	struct pfse_policy_params pp;
	struct pfse_engine_params ep;
	struct pfse_flow_table_params tp;
	struct pfse_tier_params tip;
	struct pfse_policy *pol = NULL;
	struct pfse_engine *e = NULL;
	struct pfse_cluster_stats cst;
	struct shared s;
	pthread_t th;
	uint32_t tier;
	unsigned long packets = env_num("PFSE_TEST_PACKETS", getenv("PFSE_TEST_OPS") ? 200000
											: 2000000);
	unsigned long violations = 0, forwarded = 0;
	uint64_t rng = 0x2545f4914f6cdd1dull, ts = 1000000000ull;
	struct pfse_pkt pk[32], *pp32[32];

	memset(&s, 0, sizeof(s));
	s.flips = (unsigned)env_num("PFSE_TEST_FLIPS", 5000);
	pfse_cluster_params_init(&cp);
	cp.max_nodes = 16;
	cp.table_size = 1601; /* small tables: quick publications, so many of them */
	ck_assert_int_eq(pfse_cluster_create(&cp, &s.cl), 0);
	pfse_tier_params_init(&tip);
	tip.name = "hp";
	tip.kind = PFSE_TIER_KIND_HIGH_PERF;
	ck_assert_int_eq(pfse_cluster_add_tier(s.cl, &tip, &tier), 0);
	for (unsigned k = 0; k < NODES; k++) {
		struct pfse_node_params np;

		pfse_node_params_init(&np);
		np.tier = tier;
		np.id = 100 + k;
		ck_assert_int_eq(pfse_cluster_add_node(s.cl, &np, &s.nodes[k]), 0);
		ck_assert_uint_eq(s.nodes[k], k);
	}
	pfse_policy_params_init(&pp);
	pp.cluster = s.cl;
	pp.p_elephant_enter = 0.5; /* every flow of an unknown class: high performance */
	pp.bw_enter = 1;           /* and it stays there */
	ck_assert_int_eq(pfse_policy_create(&pp, &pol), 0);
	pfse_flow_table_params_init(&tp);
	tp.capacity = 1u << 16;
	pfse_engine_params_init(&ep);
	ep.cluster = s.cl;
	ep.policy = pol;
	ep.table = &tp;
	ck_assert_int_eq(pfse_engine_create(&ep, &e), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, control, &s), 0);

	/* the packets asked for, and more until every health change happened during bursts
	 * (at most 20 times as many) */
	for (unsigned long done = 0;
	     done < packets || (atomic_load(&s.flipped) < s.flips && done < 20 * packets);
	     done += 32) {
		struct pfse_decision d[32];
		uint64_t down, after;
		uint32_t g1[NODES], g2[NODES];

		for (unsigned i = 0; i < 32; i++) {
			next_rng(&rng);
			mkpkt(&pk[i], (uint32_t)(rng % 100000), 64 + (uint32_t)(rng >> 54), ts);
			pp32[i] = &pk[i];
		}
		ts += 20000; /* 32 packets per 20 us */
		/* the generations before the mask: a node brought up (its bit cleared, then
		 * its generation bumped) between a reading of the mask and one of the
		 * generations would otherwise count as down for the whole burst */
		for (unsigned k = 0; k < NODES; k++)
			g1[k] = atomic_load(&s.gen[k]);
		down = atomic_load(&s.down_mask);
		ck_assert_int_eq(pfse_engine_classify(e, pp32, 32, d), 32);
		after = atomic_load(&s.down_mask);
		for (unsigned k = 0; k < NODES; k++) {
			g2[k] = atomic_load(&s.gen[k]);
			if (g1[k] != g2[k])
				down &= ~(1ull << k);
		}
		down &= after;
		for (unsigned i = 0; i < 32; i++) {
			if (d[i].action != PFSE_ACT_FORWARD)
				continue;
			forwarded++;
			if (down & (1ull << d[i].node))
				violations++;
		}
		if ((done / 32) % 64 == 0)
			ck_assert_int_ge(pfse_engine_advance(e, ts, 0), 0);
	}
	atomic_store(&s.done, 1);
	pthread_join(th, NULL);
	ck_assert_uint_eq(violations, 0);
	ck_assert_uint_gt(forwarded, packets / 2);
	ck_assert_uint_ge(atomic_load(&s.flipped), getenv("PFSE_TEST_OPS") ? 200 : 1000);
	fprintf(stderr, "# %lu packets, %lu forwarded, %u health changes, 0 to a down node\n",
		packets, forwarded, atomic_load(&s.flipped));
	pfse_engine_destroy(e);
	/* with no engine left, every retired table can go */
	pfse_cluster_reclaim(s.cl);
	cst.size = sizeof(cst);
	ck_assert_int_eq(pfse_cluster_stats(s.cl, &cst), 0);
	ck_assert_uint_eq(cst.pending, 0);
	ck_assert_uint_eq(cst.engines, 0);
	pfse_policy_destroy(pol);
	pfse_cluster_destroy(s.cl);
}
END_TEST

struct refitter {
	struct pfse_engine *e;
	_Atomic int done;
	unsigned long fits, calls;
};

static void *
refitter(void *arg)
{
	struct refitter *r = arg;

	while (!atomic_load(&r->done)) {
		int k = pfse_engine_refit(r->e);

		ck_assert_int_ge(k, 0);
		r->fits += (unsigned long)k;
		r->calls++;
		sched_yield();
	}
	return NULL;
}

/*
 * Refits off the packet path (PFSE_ENGINE_F_REFIT_ASYNC): a thread calls
 * pfse_engine_refit() over and over while the data-path thread classifies bursts and
 * runs advance(), which sets series aside every 20 ms of packet time and puts the fitted
 * parameters in place. Flows come in sets of 1000, a new set every 20 ms, so that the
 * old ones expire and leave their series. Under ThreadSanitizer: no race; the fits are
 * put in place (with GSL).
 */
START_TEST(refits_off_the_packet_path)
{
	struct pfse_cluster *cl;
	struct pfse_cluster_params cp;
	struct pfse_policy_params pp;
	struct pfse_engine_params ep;
	struct pfse_flow_table_params tp;
	struct pfse_tier_params tip;
	struct pfse_node_params np;
	struct pfse_engine_stats st;
	struct pfse_policy *pol = NULL;
	struct refitter rf;
	pthread_t th;
	uint32_t tier, node;
	unsigned long packets = env_num("PFSE_TEST_PACKETS", getenv("PFSE_TEST_OPS") ? 200000
											: 2000000);
	uint64_t rng = 0x9e3779b97f4a7c15ull, ts = 1000000000ull;
	struct pfse_pkt pk[32], *pp32[32];

	pfse_cluster_params_init(&cp);
	ck_assert_int_eq(pfse_cluster_create(&cp, &cl), 0);
	pfse_tier_params_init(&tip);
	tip.name = "hp";
	tip.kind = PFSE_TIER_KIND_HIGH_PERF;
	ck_assert_int_eq(pfse_cluster_add_tier(cl, &tip, &tier), 0);
	pfse_node_params_init(&np);
	np.tier = tier;
	np.id = 1;
	ck_assert_int_eq(pfse_cluster_add_node(cl, &np, &node), 0);
	pfse_policy_params_init(&pp);
	pp.cluster = cl;
	ck_assert_int_eq(pfse_policy_create(&pp, &pol), 0);
	pfse_flow_table_params_init(&tp);
	tp.capacity = 1u << 14;
	tp.interval_ns = 1000000;     /* 1 ms */
	tp.timeout_tcp_ns = 10000000; /* 10 ms */
	pfse_engine_params_init(&ep);
	ep.cluster = cl;
	ep.policy = pol;
	ep.table = &tp;
	ep.refit_ns = 20000000; /* 20 ms */
	ep.flags = PFSE_ENGINE_F_REFIT_ASYNC;
	memset(&rf, 0, sizeof(rf));
	ck_assert_int_eq(pfse_engine_create(&ep, &rf.e), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, refitter, &rf), 0);
	for (unsigned long done = 0; done < packets; done += 32) {
		struct pfse_decision d[32];

		for (unsigned i = 0; i < 32; i++) {
			next_rng(&rng);
			mkpkt(&pk[i], (uint32_t)(rng % 1000 + 1000 * (ts / 20000000)),
			      64 + (uint32_t)(rng >> 53), ts);
			pp32[i] = &pk[i];
		}
		ts += 20000; /* 32 packets per 20 us */
		ck_assert_int_eq(pfse_engine_classify(rf.e, pp32, 32, d), 32);
		if ((done / 32) % 16 == 0)
			ck_assert_int_ge(pfse_engine_advance(rf.e, ts, 0), 0);
	}
	atomic_store(&rf.done, 1);
	pthread_join(th, NULL);
	/* a refit set aside last, if the thread did not take it, is fitted here */
	rf.fits += (unsigned long)pfse_engine_refit(rf.e);
	ck_assert_int_ge(pfse_engine_advance(rf.e, ts, 0), 0);
	st.size = sizeof(st);
	ck_assert_int_eq(pfse_engine_stats(rf.e, &st), 0);
	fprintf(stderr, "# %lu packets, %lu flows ended, %lu fits off the packet path "
			"(%lu calls), %llu backend refits in place\n",
		packets, (unsigned long)st.flows_ended, rf.fits, rf.calls,
		(unsigned long long)st.refits);
	ck_assert_uint_gt(st.flows_ended, 1000);
	ck_assert_uint_gt(rf.fits, 0);
#ifdef PFSE_HAVE_GSL
	ck_assert_uint_gt(st.refits, 0);
#endif
	pfse_engine_destroy(rf.e);
	pfse_policy_destroy(pol);
	pfse_cluster_destroy(cl);
}
END_TEST

static Suite *
stress_suite(void)
{
	Suite *s = suite_create("engine-stress");
	TCase *tc = tcase_create("concurrency");

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, health_flips_during_bursts);
	tcase_add_test(tc, refits_off_the_packet_path);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(stress_suite());
}
