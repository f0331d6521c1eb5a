/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine: the callbacks the concept's pseudocode names, for every kind of directive;
 * rewrite counts reaching the complexity forecast; an emerging elephant shunted on its
 * first packet and a mouse of its class demoted after its dwell; affinity (no flow on a
 * healthy node moves) and health moves (no packet to a DOWN node); predictive overload
 * moves; tier budgets; untracked and unparsed packets; pins; no allocation after create;
 * invalid arguments.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pfse/pfse.h>

#include "test-util.h"

/* the params' tail (LP64): appended fields are ABI; `reserved` keeps the struct free of
 * padding that the size check could not see */
#if UINTPTR_MAX == 0xffffffffffffffffu
_Static_assert(offsetof(struct pfse_engine_params, flags) == 160, "engine params are ABI");
_Static_assert(offsetof(struct pfse_engine_params, reserved) == 164, "engine params are ABI");
_Static_assert(sizeof(struct pfse_engine_params) == 168, "engine params are ABI");
#endif

#define MS 1000000ull
#define SEC 1000000000ull

/* ---- a small world: a cluster, a policy, an engine, recorded callbacks ---------------- */

enum { CB_FORWARD = 1, CB_REWRITE = 2, CB_TRANSMIT = 4 };

struct rec {
	unsigned calls[4096];     /* per packet (index = pkt->user as integer): CB_* bits */
	uint32_t node[4096];
	void *node_user[4096];
	uint32_t rules;           /* what rewrite returns */
	unsigned nforward, nrewrite, ntransmit;
};

static struct rec R;
static int node_users[64];

static void
cb_forward(struct pfse_pkt *pkt, uint32_t node, void *node_user, void *user)
{
	uintptr_t i = (uintptr_t)pkt->user;

	ck_assert_ptr_eq(user, &R);
	R.calls[i % 4096] |= CB_FORWARD;
	R.node[i % 4096] = node;
	R.node_user[i % 4096] = node_user;
	R.nforward++;
}

static uint32_t
cb_rewrite(struct pfse_pkt *pkt, uint32_t flow, void *user)
{
	uintptr_t i = (uintptr_t)pkt->user;

	(void)flow;
	ck_assert_ptr_eq(user, &R);
	ck_assert_msg(!(R.calls[i % 4096] & CB_TRANSMIT), "rewrite after transmit");
	R.calls[i % 4096] |= CB_REWRITE;
	R.nrewrite++;
	return R.rules;
}

static void
cb_transmit(struct pfse_pkt *pkt, void *user)
{
	uintptr_t i = (uintptr_t)pkt->user;

	ck_assert_ptr_eq(user, &R);
	R.calls[i % 4096] |= CB_TRANSMIT;
	R.ntransmit++;
}

struct world {
	struct pfse_cluster *cl;
	struct pfse_policy *pol;
	struct pfse_engine *e;
	struct pfse_engine *e2; /* a second engine on the cluster (another data-path thread) */
	uint32_t hp, dpi, std;
	uint32_t hp_nodes[8];
	uint32_t dpi_node;
};

static uint32_t
add_tier(struct pfse_cluster *cl, const char *name, uint32_t kind, uint64_t cap)
{
	struct pfse_tier_params p;
	uint32_t t;

	pfse_tier_params_init(&p);
	p.name = name;
	p.kind = kind;
	p.capacity = cap;
	ck_assert_int_eq(pfse_cluster_add_tier(cl, &p, &t), 0);
	return t;
}

static uint32_t
add_node(struct pfse_cluster *cl, uint32_t tier, uint64_t id, uint64_t cap)
{
	struct pfse_node_params p;
	uint32_t n;

	pfse_node_params_init(&p);
	p.tier = tier;
	p.id = id;
	p.capacity = cap;
	p.user = &node_users[id % 64];
	ck_assert_int_eq(pfse_cluster_add_node(cl, &p, &n), 0);
	return n;
}

struct world_opts {
	double bw_enter;          /* policy */
	uint64_t dwell;
	uint64_t hp_cap, node_cap;
	unsigned hp_nodes;
	uint32_t capacity;        /* table */
	uint32_t eviction;
	uint64_t elephant_bytes;
	pfse_classify_fn classify;
	struct pfse_allocator alloc;
	int no_io;
	uint32_t flags;           /* engine */
	uint64_t refit_ns;
	uint64_t timeout_ns;      /* TCP flows' idle timeout (0: the table's default) */
};

/* An engine on the world's cluster and policy. */
static struct pfse_engine *
mkengine(const struct world *w, const struct world_opts *o)
{
	struct pfse_engine_params ep;
	struct pfse_flow_table_params tp;
	struct pfse_io_ops io;
	struct pfse_engine *e;

	pfse_io_ops_init(&io);
	io.forward = cb_forward;
	io.rewrite = cb_rewrite;
	io.transmit = cb_transmit;
	pfse_flow_table_params_init(&tp);
	tp.capacity = o->capacity ? o->capacity : 4096;
	tp.eviction = o->eviction;
	tp.flags = PFSE_FT_F_FIXED_SEED;
	tp.seed = 7;
	tp.timeout_tcp_ns = o->timeout_ns;
	pfse_engine_params_init(&ep);
	ep.cluster = w->cl;
	ep.policy = w->pol;
	ep.io = o->no_io ? NULL : &io;
	ep.user = &R;
	ep.table = &tp;
	ep.elephant_bytes = o->elephant_bytes;
	ep.classify = o->classify;
	ep.sample_every = 1;
	ep.allocator = o->alloc;
	ep.flags = o->flags;
	ep.refit_ns = o->refit_ns;
	ck_assert_int_eq(pfse_engine_create(&ep, &e), 0);
	return e;
}

static struct world
mkworld(const struct world_opts *o)
{
	struct pfse_cluster_params cp;
	struct pfse_policy_params pp;
	struct world w;

	memset(&w, 0, sizeof(w));
	memset(&R, 0, sizeof(R));
	pfse_cluster_params_init(&cp);
	cp.max_nodes = 32;
	ck_assert_int_eq(pfse_cluster_create(&cp, &w.cl), 0);
	w.hp = add_tier(w.cl, "hp", PFSE_TIER_KIND_HIGH_PERF, o->hp_cap);
	w.dpi = add_tier(w.cl, "dpi", PFSE_TIER_KIND_INSPECTION, 0);
	for (unsigned i = 0; i < (o->hp_nodes ? o->hp_nodes : 2); i++)
		w.hp_nodes[i] = add_node(w.cl, w.hp, 10 + i, o->node_cap);
	w.dpi_node = add_node(w.cl, w.dpi, 50, 0);
	w.std = PFSE_TIER_NONE;
	pfse_policy_params_init(&pp);
	pp.cluster = w.cl;
	pp.bw_enter = o->bw_enter;
	pp.dwell_ns = o->dwell ? o->dwell : SEC;
	ck_assert_int_eq(pfse_policy_create(&pp, &w.pol), 0);
	w.e = mkengine(&w, o);
	return w;
}

static void
freeworld(struct world *w)
{
	pfse_engine_destroy(w->e2);
	pfse_engine_destroy(w->e);
	pfse_policy_destroy(w->pol);
	pfse_cluster_destroy(w->cl);
}

static struct pfse_pkt
mkpkt(uint16_t sport, uint16_t dport, uint32_t len, uint64_t ts, uintptr_t id)
{
	struct pfse_pkt p;

	memset(&p, 0, sizeof(p));
	pfse_flow_key_set(&p.key, PFSE_FAMILY_IPV4, "\x0a\0\0\x01", "\x0a\0\0\x02", sport, dport,
			  6, 0);
	p.status = PFSE_PARSE_OK;
	p.wirelen = len;
	p.caplen = len < 64 ? len : 64;
	p.ts = ts;
	p.user = (void *)id;
	return p;
}

/* Processes one packet; returns its decision (classify + process agree on it). */
static struct pfse_decision
one(struct world *w, struct pfse_pkt *p)
{
	struct pfse_pkt *pp = p;
	struct pfse_decision d;
	uintptr_t id = (uintptr_t)p->user;

	R.calls[id % 4096] = 0;
	ck_assert_int_eq(pfse_engine_process(w->e, &pp, 1), 1);
	/* the decision it was processed with is the flow's now */
	d.action = R.calls[id % 4096] & CB_FORWARD ? PFSE_ACT_FORWARD : PFSE_ACT_TRANSMIT;
	d.node = (uint16_t)(d.action == PFSE_ACT_FORWARD ? R.node[id % 4096] : PFSE_NODE_ANY);
	return d;
}

static struct pfse_engine_flow_info
finfo(struct world *w, const struct pfse_pkt *p)
{
	struct pfse_engine_flow_info fi;
	uint32_t flow;
	uint64_t hit;

	ck_assert_int_eq(pfse_flow_table_lookup_burst(pfse_engine_table(w->e), &p->key, 1, &flow,
						      &hit),
			 1);
	fi.size = sizeof(fi);
	ck_assert_int_eq(pfse_engine_flow_info(w->e, flow, &fi), 0);
	return fi;
}

static uint32_t
flow_of(struct world *w, const struct pfse_pkt *p)
{
	uint32_t flow = PFSE_FLOW_NONE;
	uint64_t hit;

	pfse_flow_table_lookup_burst(pfse_engine_table(w->e), &p->key, 1, &flow, &hit);
	return flow;
}

/* ---- tests ----------------------------------------------------------------------------- */

START_TEST(callbacks_follow_the_pseudocode)
{
	struct world_opts o = { .bw_enter = 200000 };
	struct world w = mkworld(&o);
	struct pfse_decision d;
	struct pfse_pkt p;
	uintptr_t id = 0;

	/* a new flow with nothing known: the default branch, rewrite then transmit */
	p = mkpkt(40000, 80, 100, 1 * SEC, ++id);
	d = one(&w, &p);
	ck_assert_uint_eq(R.calls[id], CB_REWRITE | CB_TRANSMIT);
	ck_assert_uint_eq(d.action, PFSE_ACT_TRANSMIT);
	/* it grows: 40 kB per 100 ms interval = 400 kB/s, above the 200 kB/s threshold; once
	 * its dwell (1 s) is over, its next decision shunts it to the high-performance tier */
	for (unsigned k = 1; k <= 20; k++) {
		p = mkpkt(40000, 80, 40000, 1 * SEC + k * 100 * MS, ++id);
		d = one(&w, &p);
	}
	ck_assert_uint_eq(R.calls[id], CB_FORWARD);
	ck_assert(d.node == w.hp_nodes[0] || d.node == w.hp_nodes[1]);
	ck_assert_ptr_eq(R.node_user[id], &node_users[10 + d.node - w.hp_nodes[0]]);
	{
		struct pfse_engine_flow_info fi = finfo(&w, &p);

		ck_assert_uint_eq(fi.directive.tier, w.hp);
		ck_assert_uint_eq(fi.directive.reason, PFSE_REASON_BANDWIDTH);
		ck_assert(fi.bw > 200000);
		ck_assert_uint_ge(fi.samples, 19);
	}
	/* pinned to the inspection node: forward there */
	ck_assert_int_eq(pfse_engine_pin(w.e, flow_of(&w, &p), w.dpi_node), 0);
	p = mkpkt(40000, 80, 100, 3 * SEC, ++id);
	d = one(&w, &p);
	ck_assert_uint_eq(R.calls[id], CB_FORWARD);
	ck_assert_uint_eq(d.node, w.dpi_node);
	ck_assert_uint_eq(finfo(&w, &p).directive.reason, PFSE_REASON_PINNED);
	/* an unparsed packet: transmit alone */
	p = mkpkt(1, 2, 60, 3 * SEC, ++id);
	p.status = PFSE_PARSE_ERR_L2_TRUNCATED;
	d = one(&w, &p);
	ck_assert_uint_eq(R.calls[id], CB_TRANSMIT);
	{
		struct pfse_engine_stats st;

		st.size = sizeof(st);
		ck_assert_int_eq(pfse_engine_stats(w.e, &st), 0);
		ck_assert_uint_eq(st.unparsed, 1);
		ck_assert_uint_eq(st.packets, id);
		ck_assert_uint_eq(st.forwarded + st.local + st.unparsed, st.packets);
		ck_assert_uint_eq(st.flows_created, 1);
		ck_assert_uint_ge(st.directive_changes, 3); /* first, to hp, pinned */
	}
	ck_assert_uint_eq(R.nforward + R.ntransmit, id);
	freeworld(&w);
}
END_TEST

START_TEST(anomaly_goes_to_inspection)
{
	/* (elephants of 100 MB: the burst below does not make this flow one) */
	struct world_opts o = { .bw_enter = 1e12, .elephant_bytes = 100000000 };
	struct world w = mkworld(&o);
	struct pfse_pkt p;
	struct pfse_decision d;
	uintptr_t id = 0;

	/* a steady flow (10 packets of 1000 B per interval), then a burst 100 times larger */
	for (unsigned k = 0; k < 40; k++)
		for (unsigned j = 0; j < 10; j++) {
			p = mkpkt(5555, 443, 1000, SEC + k * 100 * MS + j * MS, ++id);
			d = one(&w, &p);
			ck_assert_uint_eq(d.action, PFSE_ACT_TRANSMIT);
		}
	for (unsigned j = 0; j < 100; j++) {
		p = mkpkt(5555, 443, 10000, SEC + 40 * 100 * MS + j * MS, ++id);
		one(&w, &p);
	}
	/* the burst's interval closes with the next packet: an anomaly, to inspection */
	p = mkpkt(5555, 443, 1000, SEC + 41 * 100 * MS, ++id);
	d = one(&w, &p);
	ck_assert_uint_eq(d.action, PFSE_ACT_FORWARD);
	ck_assert_uint_eq(d.node, w.dpi_node);
	ck_assert_uint_eq(finfo(&w, &p).directive.reason, PFSE_REASON_ANOMALY);
	ck_assert_uint_eq(finfo(&w, &p).anomalies, 1);
	freeworld(&w);
}
END_TEST

START_TEST(rewrite_counts_reach_complexity)
{
	struct world_opts o = { .bw_enter = 1e12 };
	struct world w = mkworld(&o);
	struct pfse_engine_flow_info fi;
	struct pfse_pkt p;
	uintptr_t id = 0;

	R.rules = 5;
	for (unsigned k = 0; k < 60; k++)
		for (unsigned j = 0; j < 3; j++) {
			p = mkpkt(7000, 53, 200, SEC + k * 100 * MS + j * MS, ++id);
			one(&w, &p);
		}
	fi = finfo(&w, &p);
	/* 59 intervals closed, each with 3 packets of 5 rules: the SES forecast (alpha 0.3)
	 * from the class's prior (0) after 59 samples of 5 is 5 (1 - 0.7^59), kept as a float */
	ck_assert_uint_eq(fi.complexity_samples, 59);
	ck_assert_double_eq_tol(fi.complexity, 5 * (1 - pow(0.7, 59)), 1e-6); /* a float */
	ck_assert_uint_eq(R.nrewrite, 180);
	/* the flow ends: its class's mean complexity becomes the next flow's prior */
	ck_assert_int_ge(pfse_engine_advance(w.e, 1000 * SEC, 0), 1);
	{
		struct pfse_class_prior cp;

		cp.size = sizeof(cp);
		ck_assert_int_eq(pfse_history_prior(pfse_engine_history(w.e), fi.class_id, &cp), 0);
		ck_assert_uint_eq(cp.flows, 1);
		ck_assert_double_eq_tol(cp.complexity, 5, 1e-12);
	}
	p = mkpkt(7001, 53, 200, 1001 * SEC, ++id);
	one(&w, &p);
	ck_assert_double_eq_tol(finfo(&w, &p).complexity, 5, 1e-12);
	freeworld(&w);
}
END_TEST

/* Class key from the server port only (so the test's flows share classes). */
static int
by_port(const struct pfse_flow_key *key, uint32_t *class_key, uint32_t *priority, void *user)
{
	uint16_t sp = (uint16_t)(key->sport >> 8 | key->sport << 8);
	uint16_t dp = (uint16_t)(key->dport >> 8 | key->dport << 8);

	(void)user;
	*class_key = sp < dp ? sp : dp;
	*priority = 0;
	return 0;
}

/* Three flows of class `port` (by_port) of `npkts` packets of `len` bytes, `gap` apart,
 * 2 s apart from each other; then 400 s later they have ended. Returns that time. */
static uint64_t
big_flows_ended(struct world *w, uint16_t port, unsigned npkts, uint32_t len, uint64_t gap,
		uint64_t t, uintptr_t *id)
{
	struct pfse_pkt p;

	for (unsigned f = 0; f < 3; f++) {
		for (unsigned k = 0; k < npkts; k++) {
			p = mkpkt((uint16_t)(30000 + f), port, len, t + k * gap, ++*id);
			one(w, &p);
		}
		t += 2 * SEC;
	}
	t += 400 * SEC;
	ck_assert_int_ge(pfse_engine_advance(w->e, t, 0), 3);
	return t;
}

START_TEST(growth_of_an_expected_elephant)
{
	/* The same burst in a flow whose class's history says it will be an elephant is
	 * what an elephant does: no anomaly, it stays on the high-performance tier. */
	struct world_opts o = { .bw_enter = 1e12, .elephant_bytes = 100000000,
				.classify = by_port };
	struct world w = mkworld(&o);
	struct pfse_pkt p;
	struct pfse_decision d;
	uintptr_t id = 0;
	uint64_t t = SEC;

	/* history: three flows of class 5002 moved 100 MB each (1000 packets of 100 kB) */
	t = big_flows_ended(&w, 5002, 1000, 100000, MS, t, &id);
	for (unsigned k = 0; k < 40; k++)
		for (unsigned j = 0; j < 10; j++) {
			p = mkpkt(5556, 5002, 1000, t + k * 100 * MS + j * MS, ++id);
			d = one(&w, &p);
			ck_assert_uint_eq(d.action, PFSE_ACT_FORWARD);
			ck_assert(d.node == w.hp_nodes[0] || d.node == w.hp_nodes[1]);
		}
	for (unsigned j = 0; j < 100; j++) {
		p = mkpkt(5556, 5002, 10000, t + 40 * 100 * MS + j * MS, ++id);
		one(&w, &p);
	}
	p = mkpkt(5556, 5002, 1000, t + 41 * 100 * MS, ++id);
	d = one(&w, &p);
	ck_assert(d.node == w.hp_nodes[0] || d.node == w.hp_nodes[1]);
	ck_assert_uint_eq(finfo(&w, &p).directive.reason, PFSE_REASON_PRIOR);
	ck_assert_uint_eq(finfo(&w, &p).anomalies, 0);
	freeworld(&w);
}
END_TEST

START_TEST(elephant_by_class_and_size)
{
	struct world_opts o = { .bw_enter = 1e6, .elephant_bytes = 100000,
				.classify = by_port };
	struct world w = mkworld(&o);
	struct pfse_decision d;
	struct pfse_pkt p;
	uintptr_t id = 0;
	uint64_t t = SEC;

	/* history: three flows of class 5001 each moved 1 MB, then ended */
	t = big_flows_ended(&w, 5001, 100, 10000, 10 * MS, t, &id);
	/* P(elephant) = (3 + 1) / (3 + 2) = 0.8: a new flow of the class goes to the
	 * high-performance tier on its very first packet */
	p = mkpkt(31000, 5001, 100, t, ++id);
	d = one(&w, &p);
	ck_assert_uint_eq(d.action, PFSE_ACT_FORWARD);
	ck_assert(d.node == w.hp_nodes[0] || d.node == w.hp_nodes[1]);
	ck_assert_uint_eq(finfo(&w, &p).directive.reason, PFSE_REASON_PRIOR);
	/* it stays small (100 B per interval), but its class's history, given what it has
	 * sent, still says elephant (every finished flow of the class that reached its size
	 * was one): it stays, past its dwell (1 s) */
	for (unsigned k = 1; k <= 20; k++) {
		p = mkpkt(31000, 5001, 100, t + k * 100 * MS, ++id);
		ck_assert_uint_eq(one(&w, &p).action, PFSE_ACT_FORWARD);
	}
	ck_assert_uint_eq(finfo(&w, &p).directive.reason, PFSE_REASON_PRIOR);
	/* a new flow of the class with three packets in one burst: all three go where its
	 * first directive says, to the same node */
	{
		struct pfse_pkt b[3], *bp[3];
		struct pfse_decision bd[3];

		for (unsigned k = 0; k < 3; k++) {
			b[k] = mkpkt(31500, 5001, 100, t + 2 * SEC + k, ++id);
			bp[k] = &b[k];
		}
		ck_assert_int_eq(pfse_engine_classify(w.e, bp, 3, bd), 3);
		for (unsigned k = 0; k < 3; k++) {
			ck_assert_uint_eq(bd[k].action, PFSE_ACT_FORWARD);
			ck_assert_uint_eq(bd[k].node, bd[0].node);
			ck_assert_uint_eq(bd[k].flow, bd[0].flow);
		}
	}
	/* a flow of another class (no history) starts on the standard path */
	p = mkpkt(31001, 6000, 100, t + 3 * SEC, ++id);
	ck_assert_uint_eq(one(&w, &p).action, PFSE_ACT_TRANSMIT);
	/* ten mice of the class, 30 kB each (closed by a RST), end while flow 31000 goes on
	 * at 100 B per interval */
	t += 3 * SEC;
	for (unsigned f = 0; f < 10; f++) {
		for (unsigned k = 0; k < 30; k++) {
			p = mkpkt((uint16_t)(32000 + f), 5001, 1000, t + f * MS + k * 10, ++id);
			one(&w, &p);
		}
		p = mkpkt((uint16_t)(32000 + f), 5001, 40, t + f * MS + 500, ++id);
		p.tcp_flags = 0x04;
		one(&w, &p);
	}
	for (unsigned k = 1; k <= 120; k++) {
		p = mkpkt(31000, 5001, 100, t + k * 100 * MS, ++id);
		d = one(&w, &p);
		pfse_engine_advance(w.e, t + k * 100 * MS, 0);
	}
	{
		struct pfse_class_prior cp;

		cp.size = sizeof(cp);
		ck_assert_int_eq(pfse_history_prior(pfse_engine_history(w.e),
						    finfo(&w, &p).class_id, &cp),
				 0);
		ck_assert_uint_eq(cp.flows, 13);
	}
	/* now, of the class's flows that reached its size (14 kB; the history counts in
	 * octaves, 8-16 kB), 3 in 13 were elephants: P = (3 + 1) / (13 + 2) < 0.6, and it is
	 * demoted (its dwell long over) */
	ck_assert_uint_eq(d.action, PFSE_ACT_TRANSMIT);
	ck_assert_uint_eq(finfo(&w, &p).directive.reason, PFSE_REASON_DEFAULT);
	/* a new flow of the class starts on the standard path (P = 4 / 15); the packet
	 * that takes it past 32 kB (octave 32-64 kB, above every mouse of its class: P =
	 * 4 / 5 again) goes to the high-performance tier, within its first interval and
	 * below the bandwidth threshold (its rate is 330 kB/s) */
	t += 13 * SEC;
	p = mkpkt(31600, 5001, 1000, t, ++id);
	ck_assert_uint_eq(one(&w, &p).action, PFSE_ACT_TRANSMIT);
	for (unsigned k = 1; k < 32; k++) {
		p = mkpkt(31600, 5001, 1000, t + k * MS, ++id);
		ck_assert_uint_eq(one(&w, &p).action, PFSE_ACT_TRANSMIT);
	}
	p = mkpkt(31600, 5001, 1000, t + 32 * MS, ++id); /* 33000 bytes */
	d = one(&w, &p);
	ck_assert_uint_eq(d.action, PFSE_ACT_FORWARD);
	ck_assert(d.node == w.hp_nodes[0] || d.node == w.hp_nodes[1]);
	ck_assert_uint_eq(finfo(&w, &p).directive.reason, PFSE_REASON_PRIOR);
	ck_assert_uint_eq(finfo(&w, &p).directive.since, t); /* kept by interval */
	/* and its next packets follow, to the same node */
	for (unsigned k = 33; k < 40; k++) {
		struct pfse_decision d2;

		p = mkpkt(31600, 5001, 1000, t + k * MS, ++id);
		d2 = one(&w, &p);
		ck_assert_uint_eq(d2.action, PFSE_ACT_FORWARD);
		ck_assert_uint_eq(d2.node, d.node);
	}
	/* the same within one burst: 31 kB sent, then three packets of 1000 B in a burst;
	 * the second takes it past 32 kB: it and the third go to the high-performance tier */
	for (unsigned k = 0; k < 31; k++) {
		p = mkpkt(31700, 5001, 1000, t + k * MS, ++id);
		ck_assert_uint_eq(one(&w, &p).action, PFSE_ACT_TRANSMIT);
	}
	{
		struct pfse_pkt b[3], *bp[3];
		struct pfse_decision bd[3];

		for (unsigned k = 0; k < 3; k++) {
			b[k] = mkpkt(31700, 5001, 1000, t + 40 * MS + k, ++id);
			bp[k] = &b[k];
		}
		ck_assert_int_eq(pfse_engine_classify(w.e, bp, 3, bd), 3);
		ck_assert_uint_eq(bd[0].action, PFSE_ACT_TRANSMIT);
		ck_assert_uint_eq(bd[1].action, PFSE_ACT_FORWARD);
		ck_assert_uint_eq(bd[2].action, PFSE_ACT_FORWARD);
		ck_assert(bd[1].node == w.hp_nodes[0] || bd[1].node == w.hp_nodes[1]);
		ck_assert_uint_eq(bd[2].node, bd[1].node);
	}
	freeworld(&w);
}
END_TEST

START_TEST(closed_flow_frees_its_budget)
{
	/* A flow shunted for its bandwidth counts its forecast on its node; a FIN each way
	 * ends that at once (the table keeps the flow for its closing timeout, 10 s,
	 * meanwhile), and its later packets still follow it; a SYN, or data after a RST,
	 * makes it live again. */
	struct world_opts o = { .bw_enter = 1e6 };
	struct world w = mkworld(&o);
	struct pfse_node_info ni;
	struct pfse_pkt p;
	struct pfse_decision d;
	uintptr_t id = 0;
	uint64_t t = 10 * SEC;
	uint32_t node;

	for (unsigned k = 0; k <= 100; k++) {
		p = mkpkt(34000, 7100, 1500, t + k * MS, ++id);
		d = one(&w, &p);
	}
	ck_assert_uint_eq(d.action, PFSE_ACT_FORWARD);
	node = d.node;
	ck_assert(finfo(&w, &p).bw > 1e6);
	ck_assert_int_ge(pfse_engine_advance(w.e, t + 101 * MS, 0), 0);
	ni.size = sizeof(ni);
	ck_assert_int_eq(pfse_cluster_node_info(w.cl, node, &ni), 0);
	ck_assert(ni.predicted > 1e6);
	/* a FIN one way is a half-close: the other side may go on, the forecast stays */
	p = mkpkt(34000, 7100, 60, t + 101 * MS + 500, ++id);
	p.tcp_flags = 0x11;
	d = one(&w, &p);
	ck_assert(finfo(&w, &p).bw > 1e6);
	/* the FIN back */
	p = mkpkt(34000, 7100, 60, t + 102 * MS, ++id);
	p.tcp_flags = 0x11;
	p.flags |= PFSE_PKT_F_REVERSE;
	d = one(&w, &p);
	ck_assert_uint_eq(d.action, PFSE_ACT_FORWARD);
	ck_assert_uint_eq(d.node, node);
	ck_assert(finfo(&w, &p).bw == 0);
	ck_assert_int_ge(pfse_engine_advance(w.e, t + 103 * MS, 0), 0);
	ck_assert_int_eq(pfse_cluster_node_info(w.cl, node, &ni), 0);
	ck_assert(ni.predicted == 0);
	/* its last ACK, in the next interval: forecast 0 still, same node */
	p = mkpkt(34000, 7100, 60, t + 250 * MS, ++id);
	d = one(&w, &p);
	ck_assert_uint_eq(d.node, node);
	ck_assert(finfo(&w, &p).bw == 0);
	/* a late retransmission long past its dwell (1 s), within the closing timeout: the
	 * policy is not asked again, it goes where the flow was */
	p = mkpkt(34000, 7100, 60, t + 3 * SEC, ++id);
	d = one(&w, &p);
	ck_assert_uint_eq(d.action, PFSE_ACT_FORWARD);
	ck_assert_uint_eq(d.node, node);
	ck_assert_uint_eq(finfo(&w, &p).directive.reason, PFSE_REASON_BANDWIDTH);
	/* the 5-tuple reused by a new connection (a SYN) within the closing timeout: it is
	 * forecast again from its samples */
	p = mkpkt(34000, 7100, 60, t + 4 * SEC, ++id);
	p.tcp_flags = 0x02;
	one(&w, &p);
	for (unsigned k = 1; k <= 40; k++) {
		p = mkpkt(34000, 7100, 1500, t + 4 * SEC + k * MS, ++id);
		d = one(&w, &p);
	}
	p = mkpkt(34000, 7100, 60, t + 4 * SEC + 100 * MS, ++id); /* closes the interval */
	d = one(&w, &p);
	ck_assert(finfo(&w, &p).bw > 0);
	/* (60 kB: not the "interval of data after a RST" that reopens a flow by itself) */
	ck_assert_uint_eq(d.action, PFSE_ACT_FORWARD);
	/* a stray RST closes it; an interval of 150 kB after it shows it is not over */
	p = mkpkt(34000, 7100, 60, t + 5 * SEC, ++id);
	p.tcp_flags = 0x04;
	one(&w, &p);
	ck_assert(finfo(&w, &p).bw == 0);
	for (unsigned k = 1; k <= 100; k++) {
		p = mkpkt(34000, 7100, 1500, t + 5 * SEC + k * MS, ++id);
		one(&w, &p);
	}
	p = mkpkt(34000, 7100, 60, t + 5 * SEC + 200 * MS, ++id);
	one(&w, &p);
	ck_assert(finfo(&w, &p).bw > 0);
	freeworld(&w);
}
END_TEST

START_TEST(first_evidence_moves_at_once)
{
	/* A flow of a class with no history starts on the default (here the local path).
	 * Its first closed interval already carries 150 kB (1.5 MB/s, above the 1 MB/s
	 * threshold): it is shunted then, not a dwell (1 s) after its creation, because a
	 * default placement made knowing nothing starts no dwell; and the policy sees at
	 * least that interval whatever the forecast (a level forecast lags a ramp). Once
	 * moved, the dwell holds it. */
	struct world_opts o = { .bw_enter = 1e6 };
	struct world w = mkworld(&o);
	struct pfse_pkt p;
	struct pfse_decision d;
	uintptr_t id = 0;
	uint64_t t = 10 * SEC;

	p = mkpkt(33000, 7000, 1500, t, ++id);
	ck_assert_uint_eq(one(&w, &p).action, PFSE_ACT_TRANSMIT);
	ck_assert_uint_eq(finfo(&w, &p).directive.reason, PFSE_REASON_DEFAULT);
	for (unsigned k = 1; k < 100; k++) {
		p = mkpkt(33000, 7000, 1500, t + k * MS, ++id);
		ck_assert_uint_eq(one(&w, &p).action, PFSE_ACT_TRANSMIT);
	}
	/* the first packet of the next interval closes the first one */
	p = mkpkt(33000, 7000, 1500, t + 100 * MS, ++id);
	d = one(&w, &p);
	ck_assert_uint_eq(d.action, PFSE_ACT_FORWARD);
	ck_assert(d.node == w.hp_nodes[0] || d.node == w.hp_nodes[1]);
	ck_assert_uint_eq(finfo(&w, &p).directive.reason, PFSE_REASON_BANDWIDTH);
	/* it goes quiet: kept for its dwell */
	p = mkpkt(33000, 7000, 100, t + 350 * MS, ++id);
	ck_assert_uint_eq(one(&w, &p).action, PFSE_ACT_FORWARD);
	freeworld(&w);
}
END_TEST

/* n flows of class "prior elephant": start them all, return their nodes. */
static void
start_hp_flows_from(struct world *w, unsigned first, unsigned n, uint64_t t, uint32_t *nodes,
		    uintptr_t *id)
{
	for (unsigned i = 0; i < n; i++) {
		struct pfse_pkt p = mkpkt((uint16_t)(20000 + first + i), 9000, 1000, t, ++*id);
		struct pfse_decision d = one(w, &p);

		ck_assert_uint_eq(d.action, PFSE_ACT_FORWARD);
		nodes[i] = d.node;
	}
}

static void
start_hp_flows(struct world *w, unsigned n, uint64_t t, uint32_t *nodes, uintptr_t *id)
{
	start_hp_flows_from(w, 0, n, t, nodes, id);
}

/* Every new flow an elephant: a classifier with a class whose history is then made. */
static void
make_elephant_class(struct world *w, uint64_t *t, uintptr_t *id)
{
	for (unsigned f = 0; f < 4; f++)
		for (unsigned k = 0; k < 20; k++) {
			struct pfse_pkt p = mkpkt((uint16_t)(41000 + f), 9000, 10000,
						  *t + f * SEC + k * 10 * MS, ++*id);

			one(w, &p);
		}
	*t += 1000 * SEC;
	ck_assert_int_ge(pfse_engine_advance(w->e, *t, 0), 4);
}

START_TEST(affinity_and_health)
{
	struct world_opts o = { .elephant_bytes = 100000, .classify = by_port, .hp_nodes = 4 };
	struct world w = mkworld(&o);
	uint32_t before[200], per_node[8] = { 0 }, extra;
	uintptr_t id = 0;
	uint64_t t = SEC;
	struct pfse_engine_stats st;

	make_elephant_class(&w, &t, &id);
	start_hp_flows(&w, 200, t, before, &id);
	for (unsigned i = 0; i < 200; i++)
		per_node[before[i]]++;
	for (unsigned k = 0; k < 4; k++)
		ck_assert_uint_gt(per_node[w.hp_nodes[k]], 20);
	/* a node is added: with affinity, no flow moves */
	extra = add_node(w.cl, w.hp, 99, 0);
	for (unsigned i = 0; i < 200; i++) {
		struct pfse_pkt p = mkpkt((uint16_t)(20000 + i), 9000, 1000, t + MS, ++id);

		ck_assert_uint_eq(one(&w, &p).node, before[i]);
	}
	/* node 1 goes down: its flows move, and only they */
	ck_assert_int_eq(pfse_cluster_set_node_health(w.cl, w.hp_nodes[1], PFSE_NODE_DOWN, 0), 0);
	for (unsigned i = 0; i < 200; i++) {
		struct pfse_pkt p = mkpkt((uint16_t)(20000 + i), 9000, 1000, t + 2 * MS, ++id);
		struct pfse_decision d = one(&w, &p);

		ck_assert_uint_eq(d.action, PFSE_ACT_FORWARD);
		ck_assert_uint_ne(d.node, w.hp_nodes[1]);
		if (before[i] != w.hp_nodes[1])
			ck_assert_uint_eq(d.node, before[i]);
		before[i] = d.node;
	}
	st.size = sizeof(st);
	ck_assert_int_eq(pfse_engine_stats(w.e, &st), 0);
	ck_assert_uint_eq(st.reroute_health, per_node[w.hp_nodes[1]]);
	/* draining: its flows stay, new ones do not come */
	ck_assert_int_eq(pfse_cluster_set_node_health(w.cl, w.hp_nodes[2], PFSE_NODE_DRAINING, 0),
			 0);
	for (unsigned i = 0; i < 200; i++) {
		struct pfse_pkt p = mkpkt((uint16_t)(20000 + i), 9000, 1000, t + 3 * MS, ++id);

		ck_assert_uint_eq(one(&w, &p).node, before[i]);
	}
	for (unsigned i = 0; i < 100; i++) {
		struct pfse_pkt p = mkpkt((uint16_t)(50000 + i), 9000, 1000, t + 4 * MS, ++id);
		struct pfse_decision d = one(&w, &p);

		ck_assert_uint_ne(d.node, w.hp_nodes[2]);
		ck_assert_uint_ne(d.node, w.hp_nodes[1]);
	}
	/* every node of the tier down: the local path, counted */
	for (unsigned k = 0; k < 4; k++)
		pfse_cluster_set_node_health(w.cl, w.hp_nodes[k], PFSE_NODE_DOWN, 0);
	pfse_cluster_set_node_health(w.cl, extra, PFSE_NODE_DOWN, 0);
	{
		struct pfse_pkt p = mkpkt(20000, 9000, 1000, t + 5 * MS, ++id);

		ck_assert_uint_eq(one(&w, &p).action, PFSE_ACT_TRANSMIT);
		ck_assert_int_eq(pfse_engine_stats(w.e, &st), 0);
		ck_assert_uint_eq(st.no_node, 1);
	}
	freeworld(&w);
}
END_TEST

/* 60 flows of 100 kB/s on the high-performance tier's nodes (of node_cap each); then 10
 * of them grow tenfold (15 MB/s in all) from the 11th interval to the `until`th. With two
 * engines (`engines` 2), flow i goes through engine i % 2: each has 30 flows and 5 of the
 * growers. Returns the world (stats, of every engine, in *st; loads[k] = node k's forecast
 * load at the end, peak[k] its highest after an advance(); moves[k] / gained[k] = the
 * overload moves off / onto node k). */
struct grow {
	struct pfse_engine_stats st;
	double loads[4], peak[4];
	unsigned moves[4], gained[4];
};

static struct world
grow_ten_n(uint64_t node_cap, unsigned until, unsigned engines, int drain, struct grow *g)
{
	struct world_opts o = { .elephant_bytes = 100000, .classify = by_port, .hp_nodes = 4,
				.node_cap = node_cap, .bw_enter = 50000 };
	struct world w = mkworld(&o), ws[2];
	uint32_t nodes[60];
	uintptr_t id = 0;
	uint64_t t = SEC, t0;

	if (engines > 1)
		w.e2 = mkengine(&w, &o);
	ws[0] = ws[1] = w;
	ws[1].e = engines > 1 ? w.e2 : w.e;
	t0 = t;
	make_elephant_class(&ws[0], &t, &id);
	if (engines > 1)
		make_elephant_class(&ws[1], &t0, &id);
	for (unsigned i = 0; i < 60; i++)
		start_hp_flows_from(&ws[i % 2], i, 1, t, &nodes[i], &id);
	if (drain >= 0)
		ck_assert_int_eq(pfse_cluster_set_node_health(w.cl, w.hp_nodes[drain],
							      PFSE_NODE_DRAINING, 0),
				 0);
	memset(g, 0, sizeof(*g));
	for (unsigned k = 1; k <= 30; k++) {
		for (unsigned i = 0; i < 60; i++) {
			uint32_t len = (k > 10 && k <= until && i < 10) ? 100000 : 10000;
			struct pfse_pkt p = mkpkt((uint16_t)(20000 + i), 9000, len,
						  t + k * 100 * MS + i * 1000, ++id);
			struct world *wi = &ws[i % 2];
			struct pfse_decision d = one(wi, &p);

			if (d.node != nodes[i] && finfo(wi, &p).directive.reason ==
							  PFSE_REASON_OVERLOAD) {
				for (unsigned n = 0; n < 4; n++) {
					g->moves[n] += w.hp_nodes[n] == nodes[i];
					g->gained[n] += w.hp_nodes[n] == d.node;
				}
			}
			nodes[i] = d.node;
		}
		pfse_engine_advance(w.e, t + k * 100 * MS + 99 * MS, 0);
		if (w.e2)
			pfse_engine_advance(w.e2, t + k * 100 * MS + 99 * MS, 0);
		for (unsigned n = 0; n < 4; n++) {
			struct pfse_node_info ni;

			ni.size = sizeof(ni);
			ck_assert_int_eq(pfse_cluster_node_info(w.cl, w.hp_nodes[n], &ni), 0);
			g->loads[n] = (double)ni.predicted;
			if (g->loads[n] > g->peak[n])
				g->peak[n] = g->loads[n];
		}
	}
	g->st.size = sizeof(g->st);
	ck_assert_int_eq(pfse_engine_stats(w.e, &g->st), 0);
	if (w.e2) {
		struct pfse_engine_stats st2;

		st2.size = sizeof(st2);
		ck_assert_int_eq(pfse_engine_stats(w.e2, &st2), 0);
		g->st.reroute_overload += st2.reroute_overload;
	}
	return w;
}

static struct world
grow_ten(uint64_t node_cap, unsigned until, struct grow *g)
{
	return grow_ten_n(node_cap, until, 1, -1, g);
}

/* After the moves, no node is forecast above `cap` (the flows' forecasts are 100 kB/s
 * give or take a few bytes), and a node that moved flows off did so until its excess was
 * gone, not more: it ends within one small flow per engine of its capacity. */
static void
check_shed(const struct grow *g, double cap, unsigned engines)
{
	for (unsigned k = 0; k < 4; k++) {
		ck_assert_double_le(g->loads[k], cap + 1000);
		if (g->moves[k])
			ck_assert_double_ge(g->loads[k], cap - engines * 100000.0 - 1000);
	}
}

START_TEST(predictive_overload_moves_flows)
{
	/* 4 nodes of 5 MB/s: the nodes the growers are on are forecast to overload, and
	 * advance() moves flows off them, least valuable first, until no node is forecast
	 * over, each to a node with room for it */
	struct grow g;
	struct world w = grow_ten(5000000, 30, &g);

	ck_assert_uint_gt(g.st.reroute_overload, 0);
	/* the small flows moved first (least valuable), the growers stayed */
	{
		unsigned moved_small = 0;

		for (unsigned i = 10; i < 60; i++) {
			struct pfse_pkt p = mkpkt((uint16_t)(20000 + i), 9000, 1, 1, 0);

			moved_small += finfo(&w, &p).directive.reason == PFSE_REASON_OVERLOAD;
		}
		ck_assert_uint_eq(moved_small, g.st.reroute_overload);
	}
	/* after the moves, no node is forecast above its capacity, and none far below */
	check_shed(&g, 5000000, 1);
	freeworld(&w);
}
END_TEST

START_TEST(overload_moves_go_where_there_is_room)
{
	/* 4 nodes of 4 MB/s for 15 MB/s: the node with the growers sheds 2.5 MB/s, which
	 * fits on the others only if each move counts the moves before it */
	struct grow g;
	struct world w = grow_ten(4000000, 30, &g);

	ck_assert_uint_gt(g.st.reroute_overload, 0);
	check_shed(&g, 4000000, 1);
	freeworld(&w);
}
END_TEST

START_TEST(displaced_flows_go_where_there_is_room)
{
	/* 3 nodes of 3 MB/s, 30 flows of 100 kB/s; node B is then filled with pinned flows
	 * to within one flow of its capacity, and node A fails: its flows go to C, the node
	 * with room, on their next packet, not where the Maglev table alone would put half
	 * of them (B) */
	struct world_opts o = { .elephant_bytes = 100000, .classify = by_port, .hp_nodes = 3,
				.node_cap = 3000000, .bw_enter = 50000 };
	struct world w = mkworld(&o);
	uint32_t nodes[60], a = 0, b = 0, c = 0;
	uintptr_t id = 0;
	uint64_t t = SEC;
	unsigned on_a = 0, k;
	struct pfse_node_info ni;

	make_elephant_class(&w, &t, &id);
	start_hp_flows(&w, 60, t, nodes, &id);
	for (k = 1; k <= 10; k++) {
		for (unsigned i = 0; i < 60; i++) {
			struct pfse_pkt p = mkpkt((uint16_t)(20000 + i), 9000, 10000,
						  t + k * 100 * MS + i * 1000, ++id);

			nodes[i] = one(&w, &p).node;
		}
		pfse_engine_advance(w.e, t + k * 100 * MS + 99 * MS, 0);
	}
	/* A: the node with most of the first 30 flows; B, C: the others */
	{
		unsigned cnt[3] = { 0 };

		for (unsigned i = 0; i < 30; i++)
			for (unsigned n = 0; n < 3; n++)
				cnt[n] += nodes[i] == w.hp_nodes[n];
		a = cnt[0] >= cnt[1] && cnt[0] >= cnt[2] ? 0 : (cnt[1] >= cnt[2] ? 1 : 2);
		b = (a + 1) % 3;
		c = (a + 2) % 3;
		on_a = cnt[a];
	}
	ck_assert_uint_ge(on_a, 5);
	/* flows 30..59 not on B pinned to it until it has room for less than one flow */
	ni.size = sizeof(ni);
	ck_assert_int_eq(pfse_cluster_node_info(w.cl, w.hp_nodes[b], &ni), 0);
	for (unsigned i = 30; i < 60 && ni.predicted + 100000 <= 3000000; i++) {
		struct pfse_pkt p = mkpkt((uint16_t)(20000 + i), 9000, 1, t, 0);

		if (nodes[i] == w.hp_nodes[b])
			continue;
		ck_assert_int_eq(pfse_engine_pin(w.e, flow_of(&w, &p), w.hp_nodes[b]), 0);
		pfse_engine_advance(w.e, t + k * 100 * MS, 0); /* publishes the loads */
		ck_assert_int_eq(pfse_cluster_node_info(w.cl, w.hp_nodes[b], &ni), 0);
	}
	ck_assert_uint_gt(ni.predicted + 100000, 3000000);
	ck_assert_int_eq(pfse_cluster_set_node_health(w.cl, w.hp_nodes[a], PFSE_NODE_DOWN, 0), 0);
	for (unsigned i = 0; i < 30; i++) {
		struct pfse_pkt p = mkpkt((uint16_t)(20000 + i), 9000, 10000,
					  t + k * 100 * MS + i * 1000, ++id);
		struct pfse_decision d = one(&w, &p);

		if (nodes[i] == w.hp_nodes[a])
			ck_assert_uint_eq(d.node, w.hp_nodes[c]);
		else
			ck_assert_uint_eq(d.node, nodes[i]);
	}
	pfse_engine_advance(w.e, t + k * 100 * MS + 50 * MS, 0); /* publishes the loads */
	ck_assert_int_eq(pfse_cluster_node_info(w.cl, w.hp_nodes[c], &ni), 0);
	ck_assert_uint_le(ni.predicted, 3000000);
	freeworld(&w);
}
END_TEST

START_TEST(a_short_overload_moves_nothing)
{
	/* as above, but the ten grow for 0.3 s only: the node is forecast over for less than
	 * the policy's dwell time (1 s), and no flow moves */
	struct grow g;
	struct world w = grow_ten(5000000, 13, &g);
	double peak = 0;

	for (unsigned k = 0; k < 4; k++)
		peak = g.peak[k] > peak ? g.peak[k] : peak;
	ck_assert_double_gt(peak, 5000000 + 500000); /* it was forecast well over */
	ck_assert_uint_eq(g.st.reroute_overload, 0);
	freeworld(&w);
}
END_TEST

START_TEST(an_overloaded_tier_moves_only_to_room)
{
	/* 4 nodes of 3 MB/s for 15 MB/s: the tier cannot fit it all, but the node with the
	 * growers still sheds to the nodes that have room, without taking them over */
	struct grow g;
	struct world w = grow_ten(3000000, 30, &g);
	unsigned to = 0;

	ck_assert_uint_gt(g.st.reroute_overload, 0);
	for (unsigned k = 0; k < 4; k++) {
		if (g.gained[k]) {
			to++;
			ck_assert_double_le(g.loads[k], 3000000 + 1000);
		}
	}
	ck_assert_uint_gt(to, 0);
	freeworld(&w);
}
END_TEST

START_TEST(two_engines_shed_their_shares)
{
	/* Two engines on one cluster (two data-path threads), each with 30 flows and 5 of the
	 * growers, the nodes' forecast loads their sums: each engine moves its share of a
	 * node's excess (its part of the node's load), so that together they bring the node
	 * down to its capacity, not below it by both engines' moves, and each move goes to a
	 * node with room for it after the moves of both */
	struct grow g;
	struct world w = grow_ten_n(5000000, 30, 2, -1, &g);
	unsigned movers = 0;

	ck_assert_uint_gt(g.st.reroute_overload, 0);
	for (unsigned k = 0; k < 4; k++)
		movers += g.moves[k] > 0;
	ck_assert_uint_gt(movers, 0);
	check_shed(&g, 5000000, 2);
	freeworld(&w);
}
END_TEST

/* Traffic whose flows end and leave series for refits: in each 100 ms step, 20 flows
 * (a new set every 2 s) send a packet each, of a size that varies by flow and step; every
 * engine in `es` gets the same packets and an advance() at the end of the step, and
 * `after` (if any) runs after each step's advances. */
static void
ending_flows(struct world *w, struct pfse_engine *const es[], unsigned nes, unsigned steps,
	     void (*after)(uint64_t now, void *arg), void *arg)
{
	uintptr_t id = 0;

	for (unsigned k = 0; k < steps; k++) {
		uint64_t t = SEC + k * 100 * MS;

		for (unsigned i = 0; i < 20; i++) {
			uint16_t sport = (uint16_t)(10000 + 20 * (k / 20) + i);
			uint32_t len = 200 + 37 * ((i * 7 + k * 3) % 40);

			for (unsigned j = 0; j < nes; j++) {
				struct pfse_pkt p = mkpkt(sport, 80, len, t + i * MS, ++id);
				struct pfse_pkt *pp = &p;
				struct pfse_decision d;

				(void)w;
				ck_assert_int_eq(pfse_engine_classify(es[j], &pp, 1, &d), 1);
			}
		}
		for (unsigned j = 0; j < nes; j++)
			ck_assert_int_ge(pfse_engine_advance(es[j], t + 90 * MS, 0), 0);
		if (after)
			after(t + 90 * MS, arg);
	}
}

struct refit_pair {
	struct pfse_engine *async;
	unsigned fits;
};

/* after each step: the refit set aside (if any) is fitted at once and put in place by a
 * second advance() at the same time, so the async engine's parameters change when the
 * inline one's do */
static void
refit_now(uint64_t now, void *arg)
{
	struct refit_pair *rp = arg;
	int k = pfse_engine_refit(rp->async);

	ck_assert_int_ge(k, 0);
	if (k == 1) {
		rp->fits++;
		ck_assert_int_ge(pfse_engine_advance(rp->async, now, 0), 0);
	}
}

static void
check_same_models(struct pfse_engine *a, struct pfse_engine *b, int *changed)
{
	for (uint32_t k = 0; k < 4; k++) {
		struct pfse_model_params ma, mb, m0;

		pfse_model_params_init(&ma);
		pfse_model_params_init(&mb);
		ck_assert_int_eq(pfse_engine_model_params(a, k, &ma), 0);
		ck_assert_int_eq(pfse_engine_model_params(b, k, &mb), 0);
		ck_assert_mem_eq(&ma, &mb, sizeof(ma));
		if (changed) {
			pfse_model_params_init(&m0);
			m0.flags = ma.flags;
			*changed |= ma.alpha != 0 && memcmp(&ma, &m0, sizeof(ma)) != 0;
		}
	}
}

/* Two flows of 2.8 MB/s that Maglev puts on the first of two high-performance nodes of
 * 5 MB/s (through one engine, or one each through two), for 10 s; returns the nodes'
 * forecast loads at the end and, in *moved_at, the step (100 ms) of the first overload
 * move (0: none). */
static void
two_large_flows(unsigned engines, double load[2], unsigned *moved_at)
{
	struct world_opts o = { .hp_nodes = 2, .node_cap = 5000000, .bw_enter = 50000 };
	struct world w = mkworld(&o), ws[2];
	uint16_t sp[2];
	unsigned n = 0;
	uintptr_t id = 0;

	if (engines > 1)
		w.e2 = mkengine(&w, &o);
	ws[0] = ws[1] = w;
	ws[1].e = engines > 1 ? w.e2 : w.e;
	for (uint16_t s = 20000; n < 2; s++) {
		struct pfse_pkt p = mkpkt(s, 9000, 1, 0, 0);
		uint64_t h;
		uint32_t node;

		ck_assert_int_eq(pfse_cluster_flow_hash(w.cl, &p.key, &h), 0);
		ck_assert_int_eq(pfse_cluster_lookup(w.cl, w.hp, h, &node), 0);
		if (node == w.hp_nodes[0])
			sp[n++] = s;
	}
	*moved_at = 0;
	for (unsigned k = 0; k < 100; k++) {
		for (unsigned i = 0; i < 2; i++) {
			struct pfse_pkt p = mkpkt(sp[i], 9000, 280000, SEC + k * 100 * MS + i * MS,
						  ++id);

			one(&ws[i], &p);
		}
		pfse_engine_advance(w.e, SEC + k * 100 * MS + 99 * MS, 0);
		if (w.e2)
			pfse_engine_advance(w.e2, SEC + k * 100 * MS + 99 * MS, 0);
		for (unsigned i = 0; i < 2 && !*moved_at; i++) {
			struct pfse_pkt p = mkpkt(sp[i], 9000, 1, 0, 0);

			if (finfo(&ws[i], &p).directive.reason == PFSE_REASON_OVERLOAD)
				*moved_at = k + 1;
		}
	}
	for (unsigned i = 0; i < 2; i++) {
		struct pfse_node_info ni;

		ni.size = sizeof(ni);
		ck_assert_int_eq(pfse_cluster_node_info(w.cl, w.hp_nodes[i], &ni), 0);
		load[i] = (double)ni.predicted;
	}
	freeworld(&w);
}

START_TEST(large_flows_shed_too)
{
	/* a node over by less than half its smallest flow still sheds one: at once after the
	 * dwell when one engine has all its load; with the load in two engines (neither
	 * knowing whether the other will move a smaller flow), once it has been over for
	 * twice the dwell */
	double load[2];
	unsigned at1, at2;

	two_large_flows(1, load, &at1);
	ck_assert_uint_gt(at1, 0);
	ck_assert_double_le(load[0], 5000000 + 1000);
	ck_assert_double_le(load[1], 5000000 + 1000);
	two_large_flows(2, load, &at2);
	ck_assert_uint_gt(at2, 0);
	ck_assert_double_le(load[0], 5000000 + 1000);
	ck_assert_double_le(load[1], 5000000 + 1000);
	ck_assert_uint_ge(at2, at1 + 9); /* about one more dwell (1 s) */
}
END_TEST

START_TEST(no_flow_is_shed_to_a_draining_node)
{
	/* the grower trace with each node in turn DRAINING from before the growth: it keeps
	 * its flows (and sheds them if it is the one overloaded) but gains none */
	unsigned moved = 0;

	for (int d = 0; d < 4; d++) {
		struct grow g;
		struct world w = grow_ten_n(5000000, 30, 1, d, &g);

		ck_assert_uint_eq(g.gained[d], 0);
		for (unsigned k = 0; k < 4; k++)
			moved += g.moves[k];
		freeworld(&w);
	}
	ck_assert_uint_gt(moved, 0);
}
END_TEST

START_TEST(async_refits_fit_what_inline_ones_do)
{
	/* two engines on the same packets, refits every second: one fits in advance(), the
	 * other sets the series aside for pfse_engine_refit(), called right after; they end
	 * with the same parameters for every backend, and the same forecasts */
	struct world_opts o = { .refit_ns = SEC, .elephant_bytes = 1000000,
				.timeout_ns = SEC };
	struct world w = mkworld(&o);
	struct pfse_engine_stats sa, sb;
	struct refit_pair rp = { NULL, 0 };
	struct pfse_engine *es[2];
	int changed = 0;

	o.flags = PFSE_ENGINE_F_REFIT_ASYNC;
	w.e2 = mkengine(&w, &o);
	es[0] = w.e;
	es[1] = w.e2;
	rp.async = w.e2;
	ending_flows(&w, es, 2, 600, refit_now, &rp);
	sa.size = sb.size = sizeof(sa);
	ck_assert_int_eq(pfse_engine_stats(w.e, &sa), 0);
	ck_assert_int_eq(pfse_engine_stats(w.e2, &sb), 0);
	ck_assert_uint_gt(sa.flows_ended, 100);
	ck_assert_uint_eq(sa.refits, sb.refits);
	ck_assert_uint_eq(sa.refits_grid, sb.refits_grid);
	ck_assert_uint_gt(rp.fits, 10);
#ifdef PFSE_HAVE_GSL
	ck_assert_uint_gt(sa.refits, 10);
	/* the three fitting built-ins, each refit; the grid the first and every 8th time */
	ck_assert_uint_eq(sa.refits, 3 * rp.fits);
	ck_assert_uint_eq(sa.refits_grid, 3 * ((rp.fits + 7) / 8));
#else
	ck_assert_uint_eq(sa.refits_grid, 0);
#endif
	check_same_models(w.e, w.e2, &changed);
#ifdef PFSE_HAVE_GSL
	ck_assert(changed); /* the fits moved them */
#endif
	for (unsigned i = 0; i < 20; i++) {
		struct pfse_pkt p = mkpkt((uint16_t)(10000 + 20 * (599 / 20) + i), 80, 1, 1, 0);
		struct world w2 = w;
		struct pfse_engine_flow_info fa, fb;

		w2.e = w.e2;
		fa = finfo(&w, &p);
		fb = finfo(&w2, &p);
		ck_assert_double_eq(fa.bw, fb.bw);
		ck_assert_uint_eq(fa.backend, fb.backend);
	}
	freeworld(&w);
}
END_TEST

struct refit_every {
	struct pfse_engine *e;
	unsigned step, every, fits;
};

/* after each step: the refit set aside (if any) fitted every `every` steps only, so that
 * those set aside in between are taken back and replaced by newer series */
static void
refit_every(uint64_t now, void *arg)
{
	struct refit_every *re = arg;

	if (++re->step % re->every)
		return;
	if (pfse_engine_refit(re->e) == 1) {
		re->fits++;
		ck_assert_int_ge(pfse_engine_advance(re->e, now, 0), 0);
	}
}

START_TEST(refits_search_the_grid_every_8th)
{
	/* refits start from the parameters in place but the first and every 8th, which also
	 * search the grid (PFSE_FIT_F_WARM or not): inline, every refit counts; with
	 * asynchronous refits, a job set aside and taken back before it ran does not (a
	 * refit is due every 10 steps and fitted every 45: most jobs are replaced) */
	struct world_opts o = { .refit_ns = SEC, .elephant_bytes = 1000000,
				.timeout_ns = SEC };
	struct world w = mkworld(&o);
	struct pfse_engine *es[1] = { w.e };
	struct refit_every re = { NULL, 0, 45, 0 };
	struct pfse_engine_stats st;
	uint64_t inline_refits;

	ending_flows(&w, es, 1, 600, NULL, NULL);
	st.size = sizeof(st);
	ck_assert_int_eq(pfse_engine_stats(w.e, &st), 0);
	inline_refits = st.refits / 3;
#ifdef PFSE_HAVE_GSL
	ck_assert_uint_ge(inline_refits, 40);
	ck_assert_uint_eq(st.refits % 3, 0);
	ck_assert_uint_eq(st.refits_grid, 3 * ((inline_refits + 7) / 8));
#else
	(void)inline_refits; /* no fits without GSL */
	ck_assert_uint_eq(st.refits_grid, 0);
#endif
	freeworld(&w);

	o.flags = PFSE_ENGINE_F_REFIT_ASYNC;
	w = mkworld(&o);
	es[0] = re.e = w.e;
	ending_flows(&w, es, 1, 600, refit_every, &re);
	ck_assert_int_eq(pfse_engine_stats(w.e, &st), 0);
	ck_assert_uint_ge(re.fits, 10);
#ifdef PFSE_HAVE_GSL
	ck_assert_uint_lt(re.fits, inline_refits);
	ck_assert_uint_eq(st.refits, 3 * re.fits);
	ck_assert_uint_eq(st.refits_grid, 3 * ((re.fits + 7) / 8));
#else
	ck_assert_uint_eq(st.refits_grid, 0);
#endif
	freeworld(&w);
}
END_TEST

START_TEST(async_refits_wait_for_the_caller)
{
	/* advance() never fits: the series wait for pfse_engine_refit(), whose parameters
	 * the next advance() puts in place; bad calls get -EINVAL */
	struct world_opts o = { .refit_ns = SEC, .flags = PFSE_ENGINE_F_REFIT_ASYNC,
				.timeout_ns = SEC };
	struct world w = mkworld(&o);
	struct pfse_engine_stats st;
	struct pfse_model_params before[4], m;
	struct pfse_engine *es[1] = { w.e };
	struct pfse_engine_params ep;
	struct pfse_engine *bad;
	int changed = 0;

	for (uint32_t k = 0; k < 4; k++) {
		pfse_model_params_init(&before[k]);
		ck_assert_int_eq(pfse_engine_model_params(w.e, k, &before[k]), 0);
	}
	ending_flows(&w, es, 1, 300, NULL, NULL);
	st.size = sizeof(st);
	ck_assert_int_eq(pfse_engine_stats(w.e, &st), 0);
	ck_assert_uint_gt(st.flows_ended, 100);
	ck_assert_uint_eq(st.refits, 0);
	for (uint32_t k = 0; k < 4; k++) {
		pfse_model_params_init(&m);
		ck_assert_int_eq(pfse_engine_model_params(w.e, k, &m), 0);
		ck_assert_mem_eq(&m, &before[k], sizeof(m));
	}
	ck_assert_int_eq(pfse_engine_refit(w.e), 1);
	ck_assert_int_eq(pfse_engine_refit(w.e), 0); /* done, not yet in place */
	ck_assert_int_ge(pfse_engine_advance(w.e, 40 * SEC, 0), 0); /* in place */
	ck_assert_int_eq(pfse_engine_stats(w.e, &st), 0);
	for (uint32_t k = 0; k < 4; k++) {
		pfse_model_params_init(&m);
		ck_assert_int_eq(pfse_engine_model_params(w.e, k, &m), 0);
		changed |= memcmp(&m, &before[k], sizeof(m)) != 0;
	}
#ifdef PFSE_HAVE_GSL
	ck_assert_uint_eq(st.refits, 3); /* the built-ins but naive */
	ck_assert(changed);
#else
	ck_assert_uint_eq(st.refits, 0);
	ck_assert(!changed);
#endif
	/* bad calls */
	ck_assert_int_eq(pfse_engine_refit(NULL), -EINVAL);
	pfse_model_params_init(&m);
	ck_assert_int_eq(pfse_engine_model_params(w.e, 4, &m), -EINVAL);
	ck_assert_int_eq(pfse_engine_model_params(NULL, 0, &m), -EINVAL);
	ck_assert_int_eq(pfse_engine_model_params(w.e, 0, NULL), -EINVAL);
	pfse_engine_params_init(&ep);
	ep.cluster = w.cl;
	ep.policy = w.pol;
	ck_assert_int_eq(pfse_engine_create(&ep, &bad), 0);
	ck_assert_int_eq(pfse_engine_refit(bad), -EINVAL); /* not asynchronous */
	pfse_engine_destroy(bad);
	ep.flags = 1u << 31;
	ck_assert_int_eq(pfse_engine_create(&ep, &bad), -EINVAL);
	ep.flags = 0;
	ep.reserved = 1;
	ck_assert_int_eq(pfse_engine_create(&ep, &bad), -EINVAL);
	freeworld(&w);
}
END_TEST

START_TEST(tier_budget_keeps_the_valuable)
{
	/* high-performance tier of 10 MB/s (90% usable); elephant-class flows forecasting
	 * 1 MB/s each (their class's first intervals): 9 fit, the rest stay out */
	struct world_opts o = { .elephant_bytes = 100000, .classify = by_port,
				.hp_cap = 10000000 };
	struct world w = mkworld(&o);
	uintptr_t id = 0;
	uint64_t t = SEC;
	unsigned in_hp = 0;
	struct pfse_engine_stats st;

	make_elephant_class(&w, &t, &id);
	for (unsigned i = 0; i < 40; i++) {
		struct pfse_pkt p = mkpkt((uint16_t)(20000 + i), 9000, 10000, t, ++id);
		struct pfse_decision d = one(&w, &p);
		struct pfse_engine_flow_info fi = finfo(&w, &p);

		if (d.action == PFSE_ACT_FORWARD) {
			in_hp++;
			ck_assert_uint_eq(fi.directive.reason, PFSE_REASON_PRIOR);
		} else {
			ck_assert_uint_eq(fi.directive.reason, PFSE_REASON_BUDGET);
		}
	}
	{
		struct pfse_pkt p = mkpkt(20000, 9000, 10000, t, 0);
		struct pfse_engine_flow_info fi = finfo(&w, &p);

		ck_assert_double_eq_tol(fi.bw, 1e6, 1);
		ck_assert_uint_eq(in_hp, 9);
	}
	st.size = sizeof(st);
	ck_assert_int_eq(pfse_engine_stats(w.e, &st), 0);
	ck_assert_uint_eq(st.budget_demotions, 40 - in_hp);
	freeworld(&w);
}
END_TEST

START_TEST(budget_demotes_only_the_excess)
{
	/* high-performance tier of 10 MB/s (9 usable): 8 flows at 1.1 MB/s, which then send
	 * 1.3 MB/s each (10.4 in all; every flow in the same value bin all along): the tier
	 * demotes flows until it is back under budget, two of them, not the whole bin */
	struct world_opts o = { .elephant_bytes = 100000, .classify = by_port,
				.hp_cap = 10000000, .bw_enter = 50000 };
	struct world w = mkworld(&o);
	uintptr_t id = 0;
	uint64_t t = SEC;
	unsigned in_hp = 0;
	double load = 0;

	make_elephant_class(&w, &t, &id);
	for (unsigned i = 0; i < 8; i++) {
		struct pfse_pkt p = mkpkt((uint16_t)(20000 + i), 9000, 10000, t, ++id);

		ck_assert_uint_eq(one(&w, &p).action, PFSE_ACT_FORWARD);
	}
	for (unsigned k = 1; k <= 40; k++) {
		for (unsigned i = 0; i < 8; i++)
			for (unsigned j = 0; j < (k <= 20 ? 11u : 13u); j++) {
				struct pfse_pkt p = mkpkt((uint16_t)(20000 + i), 9000, 10000,
							  t + k * 100 * MS + j * MS + i, ++id);

				one(&w, &p);
			}
		pfse_engine_advance(w.e, t + k * 100 * MS + 99 * MS, 0);
		/* all eight fit at 1.1 MB/s; at 1.3, six stay at every moment */
		in_hp = 0;
		for (unsigned i = 0; i < 8; i++) {
			struct pfse_pkt p = mkpkt((uint16_t)(20000 + i), 9000, 1, t, 0);

			in_hp += finfo(&w, &p).directive.tier == w.hp;
		}
		ck_assert_uint_ge(in_hp, k <= 20 ? 8 : 6);
	}
	in_hp = 0;
	for (unsigned i = 0; i < 8; i++) {
		struct pfse_pkt p = mkpkt((uint16_t)(20000 + i), 9000, 1, t, 0);
		struct pfse_engine_flow_info fi = finfo(&w, &p);

		ck_assert_double_eq_tol(fi.bw, 1.3e6, 1e4);
		if (fi.directive.tier == w.hp) {
			in_hp++;
			load += fi.bw;
		}
	}
	ck_assert_uint_eq(in_hp, 6);
	ck_assert_double_le(load, 9000000);
	freeworld(&w);
}
END_TEST

START_TEST(untracked_packets_get_a_decision)
{
	struct world_opts o = { .capacity = 64, .eviction = PFSE_FT_EVICT_REFUSE };
	struct world w = mkworld(&o);
	struct pfse_engine_stats st;
	uintptr_t id = 0;

	for (unsigned i = 0; i < 300; i++) {
		struct pfse_pkt p = mkpkt((uint16_t)(1000 + i), 80, 100, SEC, ++id);
		struct pfse_decision d = one(&w, &p);

		/* no standard tier with nodes: the local path */
		ck_assert_uint_eq(d.action, PFSE_ACT_TRANSMIT);
		ck_assert_uint_eq(R.calls[id], CB_REWRITE | CB_TRANSMIT);
	}
	st.size = sizeof(st);
	ck_assert_int_eq(pfse_engine_stats(w.e, &st), 0);
	ck_assert_uint_gt(st.untracked, 0);
	ck_assert_uint_eq(st.untracked + st.flows_created, 300);
	freeworld(&w);
}
END_TEST

START_TEST(classify_equals_process)
{
	struct world_opts o = { .bw_enter = 100000, .no_io = 1 };
	struct world w = mkworld(&o);
	struct pfse_pkt pk[32], *pp[32];
	struct pfse_decision d[32];

	for (unsigned i = 0; i < 32; i++) {
		pk[i] = mkpkt((uint16_t)(2000 + i % 5), 443, 1500, SEC + i * MS, i);
		pp[i] = &pk[i];
	}
	ck_assert_int_eq(pfse_engine_process(w.e, pp, 32), -ENOTSUP);
	ck_assert_int_eq(pfse_engine_classify(w.e, pp, 32, d), 32);
	for (unsigned i = 0; i < 32; i++) {
		ck_assert_uint_eq(d[i].action, PFSE_ACT_TRANSMIT);
		ck_assert_uint_ne(d[i].flow, PFSE_FLOW_NONE);
		ck_assert_uint_eq(d[i].flow, d[i % 5].flow);
	}
	ck_assert_int_eq(pfse_engine_classify(w.e, pp, 0, d), 0);
	freeworld(&w);
}
END_TEST

START_TEST(no_allocation_after_create)
{
	struct count_alloc ca;
	struct world_opts o = { .bw_enter = 100000, .elephant_bytes = 10000 };
	struct world w;
	unsigned long calls;
	unsigned fits = 0;
	uintptr_t id = 0;

	memset(&ca, 0, sizeof(ca));
	o.alloc = count_allocator(&ca);
	o.flags = PFSE_ENGINE_F_REFIT_ASYNC; /* and refits off the packet path */
	o.refit_ns = SEC;
	o.timeout_ns = SEC;
	w = mkworld(&o);
	calls = ca.calls;
	for (unsigned k = 0; k < 200; k++) {
		for (unsigned i = 0; i < 50; i++) {
			struct pfse_pkt p = mkpkt((uint16_t)(3000 + i + k / 50 * 100), 80,
						  100 + 50 * i, SEC + k * 50 * MS + i, ++id);

			one(&w, &p);
		}
		pfse_engine_advance(w.e, SEC + k * 50 * MS + 40 * MS, 0);
		fits += pfse_engine_refit(w.e) == 1;
	}
	pfse_engine_advance(w.e, 10000 * SEC, 0);
	ck_assert_uint_gt(fits, 0);
	ck_assert_uint_eq(ca.calls, calls);
	pfse_engine_destroy(w.e);
	pfse_policy_destroy(w.pol);
	pfse_cluster_destroy(w.cl);
	ck_assert_uint_eq(ca.frees, ca.allocs);
}
END_TEST

START_TEST(allocation_failures)
{
	struct count_alloc ca;
	struct world_opts o = { 0 };
	struct world w;
	struct pfse_engine_params ep;
	struct pfse_engine *e;
	unsigned long n;

	memset(&ca, 0, sizeof(ca));
	w = mkworld(&o);
	pfse_engine_params_init(&ep);
	ep.cluster = w.cl;
	ep.policy = w.pol;
	ep.allocator = count_allocator(&ca);
	/* each allocation of create failing in turn, with and without asynchronous refits
	 * (which allocate the series' copy and the fits' predictors) */
	for (unsigned f = 0; f < 2; f++) {
		ep.flags = f ? PFSE_ENGINE_F_REFIT_ASYNC : 0;
		memset(&ca, 0, sizeof(ca));
		ck_assert_int_eq(pfse_engine_create(&ep, &e), 0);
		n = ca.calls;
		pfse_engine_destroy(e);
		ck_assert_uint_eq(ca.frees, ca.allocs);
		for (unsigned long i = 1; i <= n; i++) {
			memset(&ca, 0, sizeof(ca));
			ca.fail_at = i;
			ck_assert_int_eq(pfse_engine_create(&ep, &e), -ENOMEM);
			ck_assert_uint_eq(ca.frees, ca.allocs);
		}
	}
	freeworld(&w);
}
END_TEST

START_TEST(invalid_arguments)
{
	struct world_opts o = { 0 };
	struct world w = mkworld(&o);
	struct pfse_engine_params ep;
	struct pfse_engine *e = NULL;
	struct pfse_engine_backend bad[1] = { { NULL, NULL } };
	struct pfse_pkt p = mkpkt(1, 2, 100, SEC, 1), *pp = &p, *nul = NULL;
	struct pfse_decision d;
	struct pfse_engine_flow_info fi;
	struct pfse_engine_stats st;
	uint64_t a, b;

	pfse_engine_params_init(&ep);
	ck_assert_int_eq(pfse_engine_create(&ep, &e), -EINVAL);
	ep.cluster = w.cl;
	ck_assert_int_eq(pfse_engine_create(&ep, &e), -EINVAL);
	ep.policy = w.pol;
	ck_assert_int_eq(pfse_engine_create(NULL, &e), -EINVAL);
	ck_assert_int_eq(pfse_engine_create(&ep, NULL), -EINVAL);
	ep.nbackends = 1;
	ck_assert_int_eq(pfse_engine_create(&ep, &e), -EINVAL);
	ep.backends = bad;
	ck_assert_int_eq(pfse_engine_create(&ep, &e), -EINVAL);
	ep.nbackends = PFSE_ENGINE_BACKENDS_MAX + 1;
	ck_assert_int_eq(pfse_engine_create(&ep, &e), -EINVAL);
	ep.nbackends = 0;
	ep.backends = NULL;
	ep.budget_share = 2;
	ck_assert_int_eq(pfse_engine_create(&ep, &e), -EINVAL);
	ep.budget_share = 0;
	ep.overload_util = NAN;
	ck_assert_int_eq(pfse_engine_create(&ep, &e), -EINVAL);
	ep.overload_util = 0;
	ep.horizon = PFSE_HORIZON_MAX + 1;
	ck_assert_int_eq(pfse_engine_create(&ep, &e), -EINVAL);
	pfse_engine_destroy(NULL);

	ck_assert_int_eq(pfse_engine_classify(NULL, &pp, 1, &d), -EINVAL);
	ck_assert_int_eq(pfse_engine_classify(w.e, NULL, 1, &d), -EINVAL);
	ck_assert_int_eq(pfse_engine_classify(w.e, &pp, 1, NULL), -EINVAL);
	ck_assert_int_eq(pfse_engine_classify(w.e, &nul, 1, &d), -EINVAL);
	ck_assert_int_eq(pfse_engine_classify(w.e, &pp, PFSE_BURST_MAX + 1, &d), -EINVAL);
	ck_assert_int_eq(pfse_engine_process(NULL, &pp, 1), -EINVAL);
	ck_assert_int_eq(pfse_engine_process(w.e, &nul, 1), -EINVAL);
	ck_assert_int_eq(pfse_engine_advance(NULL, 0, 0), -EINVAL);
	ck_assert_int_eq(pfse_engine_pin(NULL, 0, 0), -EINVAL);
	ck_assert_int_eq(pfse_engine_pin(w.e, 0, 999), -EINVAL);
	ck_assert_int_eq(pfse_engine_pin(w.e, 12345, 0), -ENOENT);
	ck_assert_int_eq(pfse_engine_unpin(NULL, 0), -EINVAL);
	ck_assert_int_eq(pfse_engine_unpin(w.e, 12345), -ENOENT);
	fi.size = sizeof(fi);
	ck_assert_int_eq(pfse_engine_flow_info(NULL, 0, &fi), -EINVAL);
	ck_assert_int_eq(pfse_engine_flow_info(w.e, 0, NULL), -EINVAL);
	ck_assert_int_eq(pfse_engine_flow_info(w.e, 12345, &fi), -ENOENT);
	ck_assert_int_eq(pfse_engine_node_stats(NULL, 0, &a, &b), -EINVAL);
	ck_assert_int_eq(pfse_engine_node_stats(w.e, 32, &a, &b), -EINVAL);
	st.size = 0;
	ck_assert_int_eq(pfse_engine_stats(w.e, &st), -EINVAL);
	ck_assert_int_eq(pfse_engine_stats(NULL, &st), -EINVAL);
	ck_assert_ptr_null(pfse_engine_table(NULL));
	ck_assert_ptr_null(pfse_engine_history(NULL));
	freeworld(&w);
}
END_TEST

static Suite *
engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("dispatch");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, callbacks_follow_the_pseudocode);
	tcase_add_test(tc, anomaly_goes_to_inspection);
	tcase_add_test(tc, growth_of_an_expected_elephant);
	tcase_add_test(tc, rewrite_counts_reach_complexity);
	tcase_add_test(tc, classify_equals_process);
	tcase_add_test(tc, untracked_packets_get_a_decision);
	suite_add_tcase(s, tc);
	tc = tcase_create("decisions");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, elephant_by_class_and_size);
	tcase_add_test(tc, closed_flow_frees_its_budget);
	tcase_add_test(tc, first_evidence_moves_at_once);
	tcase_add_test(tc, affinity_and_health);
	tcase_add_test(tc, predictive_overload_moves_flows);
	tcase_add_test(tc, overload_moves_go_where_there_is_room);
	tcase_add_test(tc, an_overloaded_tier_moves_only_to_room);
	tcase_add_test(tc, two_engines_shed_their_shares);
	tcase_add_test(tc, no_flow_is_shed_to_a_draining_node);
	tcase_add_test(tc, large_flows_shed_too);
	tcase_add_test(tc, async_refits_fit_what_inline_ones_do);
	tcase_add_test(tc, async_refits_wait_for_the_caller);
	tcase_add_test(tc, refits_search_the_grid_every_8th);
	tcase_add_test(tc, a_short_overload_moves_nothing);
	tcase_add_test(tc, displaced_flows_go_where_there_is_room);
	tcase_add_test(tc, tier_budget_keeps_the_valuable);
	tcase_add_test(tc, budget_demotes_only_the_excess);
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, no_allocation_after_create);
	tcase_add_test(tc, allocation_failures);
	tcase_add_test(tc, invalid_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(engine_suite());
}
