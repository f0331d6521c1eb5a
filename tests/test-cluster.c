/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cluster: Maglev tables (every entry filled with an UP node of the tier, shares
 * proportional to weights, about 1/N of the flows moved when one of N nodes goes,
 * independence from the order nodes were added in), health, table sizes, the
 * publication and reclamation of tables, and every invalid argument.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pfse/pfse.h>

#include "cluster_priv.h"
#include "test-util.h"

static struct pfse_cluster *
mkcluster(uint32_t max_nodes, uint32_t table_size)
{
	struct pfse_cluster_params p;
	struct pfse_cluster *cl = NULL;

	pfse_cluster_params_init(&p);
	p.max_nodes = max_nodes;
	p.table_size = table_size;
	ck_assert_int_eq(pfse_cluster_create(&p, &cl), 0);
	return cl;
}

static uint32_t
add_tier(struct pfse_cluster *cl, const char *name, uint32_t kind)
{
	struct pfse_tier_params p;
	uint32_t t = 99;

	pfse_tier_params_init(&p);
	p.name = name;
	p.kind = kind;
	p.capacity = 1000000000;
	ck_assert_int_eq(pfse_cluster_add_tier(cl, &p, &t), 0);
	return t;
}

static uint32_t
add_node(struct pfse_cluster *cl, uint32_t tier, uint64_t id, uint32_t weight)
{
	struct pfse_node_params p;
	uint32_t n = 9999;

	pfse_node_params_init(&p);
	p.tier = tier;
	p.id = id;
	p.weight = weight;
	p.capacity = 100000000;
	ck_assert_int_eq(pfse_cluster_add_node(cl, &p, &n), 0);
	return n;
}

/* Adds n nodes (ids[i], weights[i]) in batches of 64; their indices go to out. */
static void
add_batch(struct pfse_cluster *cl, uint32_t tier, const uint64_t *ids, const uint32_t *w,
	  unsigned n, uint32_t *out)
{
	for (unsigned k = 0; k < n; k += 64) {
		struct pfse_node_params p[64];
		const struct pfse_node_params *pp[64];
		unsigned m = n - k < 64 ? n - k : 64;

		for (unsigned j = 0; j < m; j++) {
			pfse_node_params_init(&p[j]);
			p[j].tier = tier;
			p[j].id = ids[k + j];
			p[j].weight = w ? w[k + j] : 1;
			p[j].capacity = 100000000;
			pp[j] = &p[j];
		}
		ck_assert_int_eq(pfse_cluster_add_nodes(cl, pp, m, out + k), 0);
	}
}

/* Lookups to sample: fewer under valgrind. */
static unsigned
nlookups(unsigned n)
{
	return getenv("PFSE_TEST_OPS") ? n / 10 : n;
}

static uint64_t rs = 0x1234567887654321ull;

static uint64_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static struct pfse_node_info
node_info(struct pfse_cluster *cl, uint32_t n)
{
	struct pfse_node_info ni;

	ni.size = sizeof(ni);
	ck_assert_int_eq(pfse_cluster_node_info(cl, n, &ni), 0);
	return ni;
}

START_TEST(tables_filled_and_weighted)
{
	struct pfse_cluster *cl = mkcluster(256, 0);
	uint32_t hp = add_tier(cl, "hp", PFSE_TIER_KIND_HIGH_PERF);
	uint32_t ins = add_tier(cl, "dpi", PFSE_TIER_KIND_INSPECTION);
	uint32_t w[100], total = 0, slots = 0, idx[100];
	uint64_t ids[100];
	struct pfse_tier_info ti;

	for (uint32_t i = 0; i < 100; i++) {
		w[i] = 1 + (uint32_t)(rnd() % 4);
		total += w[i];
		ids[i] = 1000 + i;
	}
	add_batch(cl, hp, ids, w, 100, idx);
	for (uint32_t i = 0; i < 100; i++)
		ck_assert_uint_eq(idx[i], i);
	add_node(cl, ins, 5, 1);
	ti.size = sizeof(ti);
	ck_assert_int_eq(pfse_cluster_tier_info(cl, hp, &ti), 0);
	ck_assert_str_eq(ti.name, "hp");
	ck_assert_uint_eq(ti.kind, PFSE_TIER_KIND_HIGH_PERF);
	ck_assert_uint_eq(ti.nodes, 100);
	ck_assert_uint_eq(ti.usable, 100);
	/* 65537 >= 100 x 256 nodes per tier would need 25600: the default prime stays */
	ck_assert_uint_eq(ti.table_size, 65537);
	/* shares within 1% of the weight shares (every node has >= 100 entries here) */
	for (uint32_t i = 0; i < 100; i++) {
		struct pfse_node_info ni = node_info(cl, i);
		double want = 65537.0 * w[i] / total;

		ck_assert_uint_ge(want, 100);
		ck_assert_msg(fabs(ni.slots - want) <= 0.01 * want,
			      "node %u: %u entries, want %.1f", i, ni.slots, want);
		slots += ni.slots;
	}
	/* every entry filled, with a node of the tier */
	ck_assert_uint_eq(slots, 65537);
	ck_assert_uint_eq(node_info(cl, 100).slots, 65537);
	for (unsigned k = 0; k < nlookups(20000); k++) {
		uint32_t n;

		ck_assert_int_eq(pfse_cluster_lookup(cl, hp, rnd(), &n), 0);
		ck_assert_uint_lt(n, 100);
		ck_assert_int_eq(pfse_cluster_lookup(cl, ins, rnd(), &n), 0);
		ck_assert_uint_eq(n, 100);
	}
	pfse_cluster_destroy(cl);
}
END_TEST

/* The fraction of a tier's table entries (so of flows, all entries being equally likely)
 * whose node differs between two clusters' published tables, exactly; and the fraction
 * that was on `down` in the first. */
static double
moved(struct pfse_cluster *a, struct pfse_cluster *b, uint32_t tier, uint32_t down,
      double *on_down)
{
	unsigned ra, rb, mv = 0, dn = 0;
	const struct pfse_cl_view *va, *vb;
	const struct pfse_cl_table *ta, *tb;

	ck_assert_int_eq(pfse_cluster_reader_add(a, &ra), 0);
	ck_assert_int_eq(pfse_cluster_reader_add(b, &rb), 0);
	va = pfse_cl_enter(&pfse_cluster_readers(a)[ra], pfse_cluster_epoch(a),
			   pfse_cluster_view_ptr(a));
	vb = pfse_cl_enter(&pfse_cluster_readers(b)[rb], pfse_cluster_epoch(b),
			   pfse_cluster_view_ptr(b));
	ta = va->tables[tier];
	tb = vb->tables[tier];
	ck_assert_uint_eq(ta->size, tb->size);
	for (uint32_t j = 0; j < ta->size; j++) {
		ck_assert_uint_ne(tb->slot[j], down);
		mv += ta->slot[j] != tb->slot[j];
		dn += ta->slot[j] == down;
	}
	*on_down = (double)dn / ta->size;
	pfse_cl_leave(&pfse_cluster_readers(a)[ra]);
	pfse_cl_leave(&pfse_cluster_readers(b)[rb]);
	pfse_cluster_reader_del(a, ra);
	pfse_cluster_reader_del(b, rb);
	return (double)mv / ta->size;
}

START_TEST(disruption_on_failure)
{
	/* 100 equal nodes; one goes down. The flows on it must move (the optimum, 1/N); Maglev
	 * moves a few more. Two clusters built alike, one with the node down. */
	struct pfse_cluster *a = mkcluster(128, 0), *b = mkcluster(128, 0);
	uint32_t ta = add_tier(a, "hp", 1), tb = add_tier(b, "hp", 1), idx[100];
	uint64_t ids[100];
	double frac, on_down;

	for (uint32_t i = 0; i < 100; i++)
		ids[i] = 7 * i + 3;
	add_batch(a, ta, ids, NULL, 100, idx);
	add_batch(b, tb, ids, NULL, 100, idx);
	ck_assert_int_eq(pfse_cluster_set_node_health(b, 42, PFSE_NODE_DOWN, 0), 0);
	frac = moved(a, b, ta, 42, &on_down);
	ck_assert(on_down > 0.008 && on_down < 0.012);
	ck_assert_msg(frac <= 1.6 * 0.01, "moved %.4f", frac);
	fprintf(stderr, "# one of 100 nodes down: %.2f%% of flows moved (%.2f%% were on it)\n",
		100 * frac, 100 * on_down);
	ck_assert(frac >= on_down);
	ck_assert_uint_eq(node_info(b, 42).slots, 0);
	ck_assert_uint_eq(node_info(b, 42).health, PFSE_NODE_DOWN);
	/* back up: the very same table as before */
	ck_assert_int_eq(pfse_cluster_set_node_health(b, 42, PFSE_NODE_UP, 0.5), 0);
	frac = moved(a, b, ta, UINT32_MAX, &on_down);
	ck_assert(frac == 0);
	ck_assert(node_info(b, 42).load == 0.5);
	/* draining: no entry, like down, for new flows */
	ck_assert_int_eq(pfse_cluster_set_node_health(b, 42, PFSE_NODE_DRAINING, 0), 0);
	ck_assert_uint_eq(node_info(b, 42).slots, 0);
	frac = moved(a, b, ta, 42, &on_down);
	ck_assert(frac <= 0.016);
	pfse_cluster_destroy(a);
	pfse_cluster_destroy(b);
}
END_TEST

START_TEST(independent_of_order_and_seeded)
{
	struct pfse_cluster_params p;
	struct pfse_cluster *a = mkcluster(64, 0), *b = mkcluster(64, 0), *c = NULL;
	uint32_t ta = add_tier(a, "x", 0), tb = add_tier(b, "x", 0), tc;
	unsigned differ = 0;

	uint64_t ids[40];
	uint32_t w[40], idx[40];

	/* a: all at once; b: one by one, in the reverse order */
	for (uint32_t i = 0; i < 40; i++) {
		ids[i] = 100 + i;
		w[i] = 1 + i % 3;
	}
	add_batch(a, ta, ids, w, 40, idx);
	for (uint32_t i = 40; i-- > 0;)
		add_node(b, tb, 100 + i, 1 + i % 3);
	pfse_cluster_params_init(&p);
	p.max_nodes = 64;
	p.seed = 12345;
	ck_assert_int_eq(pfse_cluster_create(&p, &c), 0);
	tc = add_tier(c, "x", 0);
	add_batch(c, tc, ids, w, 40, idx);
	for (unsigned k = 0; k < nlookups(50000); k++) {
		uint64_t h = rnd();
		uint32_t x, y, z;

		ck_assert_int_eq(pfse_cluster_lookup(a, ta, h, &x), 0);
		ck_assert_int_eq(pfse_cluster_lookup(b, tb, h, &y), 0);
		ck_assert_int_eq(pfse_cluster_lookup(c, tc, h, &z), 0);
		/* node indices differ (added in reverse), ids agree */
		ck_assert_uint_eq(node_info(a, x).id, node_info(b, y).id);
		differ += node_info(a, x).id != node_info(c, z).id;
	}
	/* another seed, another table */
	ck_assert_uint_gt(differ, nlookups(50000) * 4 / 5);
	/* the flow hash: the same for both directions, and seeded */
	{
		struct pfse_flow_key k1, k2;
		uint64_t h1, h2, h3;

		pfse_flow_key_set(&k1, PFSE_FAMILY_IPV4, "\1\2\3\4", "\5\6\7\10", 1000, 80, 6, 0);
		pfse_flow_key_set(&k2, PFSE_FAMILY_IPV4, "\5\6\7\10", "\1\2\3\4", 80, 1000, 6, 0);
		ck_assert_int_eq(pfse_cluster_flow_hash(a, &k1, &h1), 0);
		ck_assert_int_eq(pfse_cluster_flow_hash(b, &k2, &h2), 0);
		ck_assert_int_eq(pfse_cluster_flow_hash(c, &k1, &h3), 0);
		ck_assert_uint_eq(h1, h2);
		ck_assert_uint_ne(h1, h3);
	}
	pfse_cluster_destroy(a);
	pfse_cluster_destroy(b);
	pfse_cluster_destroy(c);
}
END_TEST

START_TEST(table_sizes_and_empty_tiers)
{
	struct pfse_cluster *cl = mkcluster(1000, 0);
	struct pfse_tier_info ti;
	uint32_t t = add_tier(cl, "big", 0), n;

	ti.size = sizeof(ti);
	ck_assert_int_eq(pfse_cluster_tier_info(cl, t, &ti), 0);
	ck_assert_uint_eq(ti.table_size, 100003); /* the first prime >= 100 x 1000 */
	ck_assert_uint_eq(ti.usable, 0);
	ck_assert_int_eq(pfse_cluster_lookup(cl, t, 1, &n), -ENOENT);
	pfse_cluster_destroy(cl);
	cl = mkcluster(8, 101);
	t = add_tier(cl, "small", 0);
	ck_assert_int_eq(pfse_cluster_tier_info(cl, t, &ti), 0);
	ck_assert_uint_eq(ti.table_size, 809); /* 101 asked, but at least 100 x 8: 809 */
	add_node(cl, t, 1, 1);
	ck_assert_int_eq(pfse_cluster_set_node_health(cl, 0, PFSE_NODE_DOWN, 0), 0);
	ck_assert_int_eq(pfse_cluster_lookup(cl, t, 1, &n), -ENOENT);
	ck_assert_int_eq(pfse_cluster_set_node_health(cl, 0, PFSE_NODE_UP, 0), 0);
	ck_assert_int_eq(pfse_cluster_lookup(cl, t, 1, &n), 0);
	ck_assert_uint_eq(n, 0);
	/* weights change the shares */
	add_node(cl, t, 2, 1);
	ck_assert_uint_eq(node_info(cl, 0).slots + node_info(cl, 1).slots, 809);
	ck_assert_int_eq(pfse_cluster_set_node_weight(cl, 1, 100), 0);
	ck_assert_uint_eq(node_info(cl, 0).slots + node_info(cl, 1).slots, 809);
	ck_assert_uint_ge(node_info(cl, 0).slots, 7); /* 809 / 101 = 8.0 */
	ck_assert_uint_le(node_info(cl, 0).slots, 9);
	pfse_cluster_destroy(cl);
}
END_TEST

START_TEST(publication_and_reclamation)
{
	struct pfse_cluster *cl = mkcluster(16, 0);
	struct pfse_cl_reader *rd = pfse_cluster_readers(cl);
	struct pfse_cluster_stats st;
	const struct pfse_cl_view *v1, *v2;
	unsigned r1, r2;
	uint64_t reclaimed0;
	uint32_t t = add_tier(cl, "t", 0);

	add_node(cl, t, 1, 1);
	add_node(cl, t, 2, 1);
	ck_assert_int_eq(pfse_cluster_reader_add(cl, &r1), 0);
	ck_assert_int_eq(pfse_cluster_reader_add(cl, &r2), 0);
	st.size = sizeof(st);
	ck_assert_int_eq(pfse_cluster_stats(cl, &st), 0);
	ck_assert_uint_eq(st.engines, 2);
	ck_assert_uint_eq(st.pending, 0); /* nobody in a burst: retired views went at once */
	ck_assert_uint_eq(st.reclaimed, 2);
	reclaimed0 = st.reclaimed;
	/* reader 1 in a burst holds the view it entered with */
	v1 = pfse_cl_enter(&rd[r1], pfse_cluster_epoch(cl), pfse_cluster_view_ptr(cl));
	ck_assert_uint_eq(v1->usable[t], 2);
	ck_assert_int_eq(pfse_cluster_set_node_health(cl, 0, PFSE_NODE_DOWN, 0), 0);
	ck_assert_int_eq(pfse_cluster_stats(cl, &st), 0);
	ck_assert_uint_eq(st.pending, 1);
	ck_assert_uint_eq(v1->usable[t], 2); /* still readable */
	/* reader 2 starting now sees the new one */
	v2 = pfse_cl_enter(&rd[r2], pfse_cluster_epoch(cl), pfse_cluster_view_ptr(cl));
	ck_assert_uint_eq(v2->usable[t], 1);
	ck_assert_uint_eq(v2->nodes[0].health, PFSE_NODE_DOWN);
	ck_assert_int_eq(pfse_cluster_reclaim(cl), 0);
	pfse_cl_leave(&rd[r1]);
	/* reader 2 entered after the retirement: it does not hold v1 back */
	ck_assert_int_eq(pfse_cluster_reclaim(cl), 1);
	ck_assert_int_eq(pfse_cluster_stats(cl, &st), 0);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert_uint_eq(st.reclaimed, reclaimed0 + 1);
	/* a change while reader 2 is in: pending until it leaves */
	ck_assert_int_eq(pfse_cluster_set_node_health(cl, 0, PFSE_NODE_UP, 0), 0);
	ck_assert_int_eq(pfse_cluster_reclaim(cl), 0);
	pfse_cl_leave(&rd[r2]);
	ck_assert_int_eq(pfse_cluster_reclaim(cl), 1);
	pfse_cluster_reader_del(cl, r1);
	pfse_cluster_reader_del(cl, r2);
	ck_assert_int_eq(pfse_cluster_stats(cl, &st), 0);
	ck_assert_uint_eq(st.engines, 0);
	ck_assert_uint_eq(st.publications, 5); /* tier, 2 nodes, 2 health changes */
	pfse_cluster_destroy(cl);
}
END_TEST

START_TEST(invalid_arguments)
{
	struct pfse_cluster_params p;
	struct pfse_cluster *cl = NULL;
	struct pfse_tier_params tp;
	struct pfse_node_params np;
	struct pfse_node_info ni;
	struct pfse_tier_info ti;
	struct pfse_cluster_stats st;
	struct pfse_flow_key k;
	uint32_t t, n;
	uint64_t h;
	char longname[40];

	pfse_cluster_params_init(&p);
	ck_assert_int_eq(pfse_cluster_create(NULL, &cl), -EINVAL);
	ck_assert_int_eq(pfse_cluster_create(&p, NULL), -EINVAL);
	p.max_nodes = PFSE_CLUSTER_NODES_MAX + 1;
	ck_assert_int_eq(pfse_cluster_create(&p, &cl), -EINVAL);
	p.max_nodes = 8;
	p.max_nodes_per_tier = 9;
	ck_assert_int_eq(pfse_cluster_create(&p, &cl), -EINVAL);
	p.max_nodes_per_tier = 0;
	p.reserved = 1;
	ck_assert_int_eq(pfse_cluster_create(&p, &cl), -EINVAL);
	p.reserved = 0;
	p.size = 1;
	ck_assert_int_eq(pfse_cluster_create(&p, &cl), -EINVAL);
	p.size = sizeof(p);
	ck_assert_int_eq(pfse_cluster_create(&p, &cl), 0);
	pfse_cluster_destroy(NULL);

	pfse_tier_params_init(&tp);
	ck_assert_int_eq(pfse_cluster_add_tier(cl, &tp, &t), -EINVAL); /* no name */
	tp.name = "";
	ck_assert_int_eq(pfse_cluster_add_tier(cl, &tp, &t), -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	tp.name = longname;
	ck_assert_int_eq(pfse_cluster_add_tier(cl, &tp, &t), -EINVAL);
	tp.name = "ok";
	ck_assert_int_eq(pfse_cluster_add_tier(NULL, &tp, &t), -EINVAL);
	ck_assert_int_eq(pfse_cluster_add_tier(cl, NULL, &t), -EINVAL);
	ck_assert_int_eq(pfse_cluster_add_tier(cl, &tp, NULL), -EINVAL);
	ck_assert_int_eq(pfse_cluster_add_tier(cl, &tp, &t), 0);
	ck_assert_int_eq(pfse_cluster_add_tier(cl, &tp, &t), -EEXIST);
	for (unsigned i = 1; i < PFSE_CLUSTER_TIERS_MAX; i++) {
		char name[8];

		snprintf(name, sizeof(name), "t%u", i);
		tp.name = name;
		ck_assert_int_eq(pfse_cluster_add_tier(cl, &tp, &t), 0);
		ck_assert_uint_eq(t, i);
	}
	tp.name = "one-too-many";
	ck_assert_int_eq(pfse_cluster_add_tier(cl, &tp, &t), -ENOSPC);

	pfse_node_params_init(&np);
	np.tier = PFSE_CLUSTER_TIERS_MAX;
	ck_assert_int_eq(pfse_cluster_add_node(cl, &np, &n), -EINVAL);
	np.tier = 0;
	np.weight = 65536;
	ck_assert_int_eq(pfse_cluster_add_node(cl, &np, &n), -EINVAL);
	np.weight = 0;
	np.health = 3;
	ck_assert_int_eq(pfse_cluster_add_node(cl, &np, &n), -EINVAL);
	np.health = 0;
	ck_assert_int_eq(pfse_cluster_add_node(NULL, &np, &n), -EINVAL);
	ck_assert_int_eq(pfse_cluster_add_node(cl, NULL, &n), -EINVAL);
	ck_assert_int_eq(pfse_cluster_add_node(cl, &np, NULL), -EINVAL);
	ck_assert_int_eq(pfse_cluster_add_node(cl, &np, &n), 0);
	ck_assert_int_eq(pfse_cluster_add_node(cl, &np, &n), -EEXIST);
	for (uint64_t id = 1; id < 8; id++) {
		np.id = id;
		ck_assert_int_eq(pfse_cluster_add_node(cl, &np, &n), 0);
	}
	np.id = 8;
	ck_assert_int_eq(pfse_cluster_add_node(cl, &np, &n), -ENOSPC);
	{
		const struct pfse_node_params *pp[2] = { &np, NULL };
		uint32_t out[2];

		ck_assert_int_eq(pfse_cluster_add_nodes(cl, pp, 2, out), -EINVAL);
		ck_assert_int_eq(pfse_cluster_add_nodes(cl, pp, 0, out), -EINVAL);
		ck_assert_int_eq(pfse_cluster_add_nodes(cl, pp, 65, out), -EINVAL);
		ck_assert_int_eq(pfse_cluster_add_nodes(cl, NULL, 1, out), -EINVAL);
		ck_assert_int_eq(pfse_cluster_add_nodes(cl, pp, 1, NULL), -EINVAL);
		pp[1] = &np;
		ck_assert_int_eq(pfse_cluster_add_nodes(cl, pp, 2, out), -EEXIST);
	}
	ck_assert_uint_eq(node_info(cl, 0).weight, 1);

	ck_assert_int_eq(pfse_cluster_set_node_health(NULL, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(pfse_cluster_set_node_health(cl, 8, 0, 0), -EINVAL);
	ck_assert_int_eq(pfse_cluster_set_node_health(cl, 0, 3, 0), -EINVAL);
	ck_assert_int_eq(pfse_cluster_set_node_health(cl, 0, 0, -1), -EINVAL);
	ck_assert_int_eq(pfse_cluster_set_node_health(cl, 0, 0, NAN), -EINVAL);
	ck_assert_int_eq(pfse_cluster_set_node_weight(NULL, 0, 1), -EINVAL);
	ck_assert_int_eq(pfse_cluster_set_node_weight(cl, 8, 1), -EINVAL);
	ck_assert_int_eq(pfse_cluster_set_node_weight(cl, 0, 0), -EINVAL);
	ck_assert_int_eq(pfse_cluster_set_node_weight(cl, 0, 65536), -EINVAL);
	ck_assert_int_eq(pfse_cluster_reclaim(NULL), -EINVAL);
	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(pfse_cluster_flow_hash(NULL, &k, &h), -EINVAL);
	ck_assert_int_eq(pfse_cluster_flow_hash(cl, NULL, &h), -EINVAL);
	ck_assert_int_eq(pfse_cluster_flow_hash(cl, &k, NULL), -EINVAL);
	ck_assert_int_eq(pfse_cluster_lookup(NULL, 0, 0, &n), -EINVAL);
	ck_assert_int_eq(pfse_cluster_lookup(cl, 16, 0, &n), -EINVAL);
	ck_assert_int_eq(pfse_cluster_lookup(cl, 0, 0, NULL), -EINVAL);
	ni.size = sizeof(ni);
	ck_assert_int_eq(pfse_cluster_node_info(NULL, 0, &ni), -EINVAL);
	ck_assert_int_eq(pfse_cluster_node_info(cl, 8, &ni), -EINVAL);
	ck_assert_int_eq(pfse_cluster_node_info(cl, 0, NULL), -EINVAL);
	ni.size = 0;
	ck_assert_int_eq(pfse_cluster_node_info(cl, 0, &ni), -EINVAL);
	ti.size = sizeof(ti);
	ck_assert_int_eq(pfse_cluster_tier_info(NULL, 0, &ti), -EINVAL);
	ck_assert_int_eq(pfse_cluster_tier_info(cl, 16, &ti), -EINVAL);
	ck_assert_int_eq(pfse_cluster_tier_info(cl, 0, NULL), -EINVAL);
	st.size = sizeof(st);
	ck_assert_int_eq(pfse_cluster_stats(NULL, &st), -EINVAL);
	ck_assert_int_eq(pfse_cluster_stats(cl, NULL), -EINVAL);
	pfse_cluster_destroy(cl);
}
END_TEST

START_TEST(allocation_failures)
{
	struct count_alloc ca;
	struct pfse_cluster_params p;
	struct pfse_cluster *cl;
	unsigned long n;

	memset(&ca, 0, sizeof(ca));
	pfse_cluster_params_init(&p);
	p.allocator = count_allocator(&ca);
	ck_assert_int_eq(pfse_cluster_create(&p, &cl), 0);
	n = ca.calls;
	pfse_cluster_destroy(cl);
	ck_assert_uint_eq(ca.frees, ca.allocs);
	for (unsigned long i = 1; i <= n; i++) {
		memset(&ca, 0, sizeof(ca));
		ca.fail_at = i;
		ck_assert_int_eq(pfse_cluster_create(&p, &cl), -ENOMEM);
		ck_assert_uint_eq(ca.frees, ca.allocs);
	}
	/* a publication that cannot allocate changes nothing */
	memset(&ca, 0, sizeof(ca));
	ck_assert_int_eq(pfse_cluster_create(&p, &cl), 0);
	{
		uint32_t t = add_tier(cl, "t", 0);

		add_node(cl, t, 1, 1);
		for (unsigned k = 1; k <= 3; k++) {
			ca.fail_at = ca.calls + k;
			ck_assert_int_eq(pfse_cluster_set_node_health(cl, 0, PFSE_NODE_DOWN, 0),
					 -ENOMEM);
			ck_assert_uint_eq(node_info(cl, 0).health, PFSE_NODE_UP);
		}
		ca.fail_at = 0;
		ck_assert_int_eq(pfse_cluster_set_node_health(cl, 0, PFSE_NODE_DOWN, 0), 0);
		ck_assert_uint_eq(node_info(cl, 0).health, PFSE_NODE_DOWN);
	}
	pfse_cluster_destroy(cl);
	ck_assert_uint_eq(ca.frees, ca.allocs);
}
END_TEST

static Suite *
cluster_suite(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("maglev");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, tables_filled_and_weighted);
	tcase_add_test(tc, disruption_on_failure);
	tcase_add_test(tc, independent_of_order_and_seeded);
	tcase_add_test(tc, table_sizes_and_empty_tiers);
	suite_add_tcase(s, tc);
	tc = tcase_create("publication");
	tcase_add_test(tc, publication_and_reclamation);
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_add_test(tc, invalid_arguments);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(cluster_suite());
}
