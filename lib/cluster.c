/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cluster: tiers, nodes, Maglev tables, health, and their publication to engines
 * (see cluster_priv.h for the reclamation protocol).
 *
 * Maglev. Each node of a tier gets a permutation of the table's entries from its id and
 * the seed: offset = h1 % M, skip = h2 % (M - 1) + 1, entry j = (offset + j skip) % M
 * (M prime, so every permutation visits every entry). Nodes take turns, in id order,
 * claiming the next entry of their permutation that is still free, until the table is
 * full. Weights: each round a node gains its weight in credit and claims one entry per
 * wmax credit, so entries are shared in proportion to weights (to within one entry per
 * node). Free entries are tracked in a bitmap (M / 8 bytes, cache-resident while the
 * table is built), and the table is written once at the end.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "cluster_priv.h"
#include "flow_key_priv.h"

struct cl_tier {
	char name[PFSE_TIER_NAME_MAX + 1];
	uint32_t kind;
	uint32_t nnodes;
	uint64_t capacity;
};

struct pfse_cluster {
	struct pfse_cl_reader readers[PFSE_CLUSTER_ENGINES_MAX];
	_Atomic uint64_t epoch;
	_Atomic(struct pfse_cl_view *) view;
	_Atomic int64_t *predicted;      /* per node, bytes per second */
	pthread_mutex_t lock;            /* control functions */
	struct pfse_allocator alloc;
	uint64_t seed;
	uint32_t max_nodes;
	uint32_t max_per_tier;
	uint32_t table_size;
	uint32_t ntiers;
	struct cl_tier tiers[PFSE_CLUSTER_TIERS_MAX];
	/* the current configuration (what the next view publishes) */
	struct pfse_cl_vnode *nodes;
	uint32_t nnodes;
	struct pfse_cl_view *retired;    /* oldest last */
	uint64_t publications, reclaimed, pending;
	/* Maglev scratch, sized for max_per_tier nodes */
	uint32_t *m_order;
	uint32_t *m_pos, *m_skip, *m_credit;
	uint64_t *m_bits;
};

static bool
is_prime(uint32_t n)
{
	if (n < 2)
		return false;
	if (n % 2 == 0)
		return n == 2;
	for (uint32_t d = 3; (uint64_t)d * d <= n; d += 2)
		if (n % d == 0)
			return false;
	return true;
}

static void
view_free(struct pfse_cluster *cl, struct pfse_cl_view *v)
{
	for (uint32_t t = 0; t < PFSE_CLUSTER_TIERS_MAX; t++) {
		struct pfse_cl_table *tb = v->tables[t];

		if (tb && --tb->refs == 0) {
			pfse_free(&cl->alloc, tb->slot);
			pfse_free(&cl->alloc, tb);
		}
	}
	pfse_free(&cl->alloc, v);
}

PFSE_API void
pfse_cluster_destroy(struct pfse_cluster *cl)
{
	struct pfse_allocator a;
	struct pfse_cl_view *v;

	if (!cl)
		return;
	a = cl->alloc;
	while ((v = cl->retired)) {
		cl->retired = v->next;
		view_free(cl, v);
	}
	v = atomic_load(&cl->view);
	if (v)
		view_free(cl, v);
	pthread_mutex_destroy(&cl->lock);
	pfse_free(&a, (void *)cl->predicted);
	pfse_free(&a, cl->nodes);
	pfse_free(&a, cl->m_order);
	pfse_free(&a, cl->m_pos);
	pfse_free(&a, cl->m_skip);
	pfse_free(&a, cl->m_credit);
	pfse_free(&a, cl->m_bits);
	pfse_free(&a, cl);
}

PFSE_API int
pfse_cluster_create(const struct pfse_cluster_params *p, struct pfse_cluster **out)
{
	struct pfse_cluster_params prm;
	struct pfse_cluster *cl;
	uint64_t m;
	int r;

	if (!p || !out)
		return -EINVAL;
	r = pfse_params_load(&prm, sizeof(prm), offsetof(struct pfse_cluster_params, seed) +
						      sizeof(prm.seed), p);
	if (r < 0)
		return r;
	if (prm.max_nodes == 0)
		prm.max_nodes = 256;
	if (prm.max_nodes_per_tier == 0)
		prm.max_nodes_per_tier = prm.max_nodes;
	if (prm.seed == 0)
		prm.seed = PFSE_CLUSTER_SEED_DEFAULT;
	if (prm.max_nodes > PFSE_CLUSTER_NODES_MAX || prm.max_nodes_per_tier > prm.max_nodes ||
	    prm.reserved != 0 || prm.table_size > (1u << 24) ||
	    pfse_allocator_check(&prm.allocator) < 0)
		return -EINVAL;
	m = prm.table_size ? prm.table_size : 65537;
	if (m < 100ull * prm.max_nodes_per_tier)
		m = 100ull * prm.max_nodes_per_tier;
	while (!is_prime((uint32_t)m))
		m++;
	cl = pfse_zalloc(&prm.allocator, sizeof(*cl), 64);
	if (!cl)
		return -ENOMEM;
	cl->alloc = prm.allocator;
	cl->seed = prm.seed;
	cl->max_nodes = prm.max_nodes;
	cl->max_per_tier = prm.max_nodes_per_tier;
	cl->table_size = (uint32_t)m;
	atomic_init(&cl->epoch, 1);
	atomic_init(&cl->view, NULL);
	for (unsigned i = 0; i < PFSE_CLUSTER_ENGINES_MAX; i++) {
		atomic_init(&cl->readers[i].epoch, 0);
		atomic_init(&cl->readers[i].used, 0);
	}
	if (pthread_mutex_init(&cl->lock, NULL) != 0) {
		pfse_free(&cl->alloc, cl);
		return -ENOMEM;
	}
	cl->predicted = pfse_zalloc(&cl->alloc, prm.max_nodes * sizeof(int64_t), 64);
	cl->nodes = pfse_zalloc(&cl->alloc, prm.max_nodes * sizeof(*cl->nodes), 64);
	cl->m_order = pfse_zalloc(&cl->alloc, prm.max_nodes_per_tier * sizeof(uint32_t), 64);
	cl->m_pos = pfse_zalloc(&cl->alloc, prm.max_nodes_per_tier * sizeof(uint32_t), 64);
	cl->m_skip = pfse_zalloc(&cl->alloc, prm.max_nodes_per_tier * sizeof(uint32_t), 64);
	cl->m_credit = pfse_zalloc(&cl->alloc, prm.max_nodes_per_tier * sizeof(uint32_t), 64);
	cl->m_bits = pfse_zalloc(&cl->alloc, ((size_t)m + 63) / 64 * 8, 64);
	if (!cl->predicted || !cl->nodes || !cl->m_order || !cl->m_pos || !cl->m_skip ||
	    !cl->m_credit || !cl->m_bits) {
		pfse_cluster_destroy(cl);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < prm.max_nodes; i++)
		atomic_init(&cl->predicted[i], 0);
	*out = cl;
	return 0;
}

/* ---- Maglev -------------------------------------------------------------------------- */

/* Sorts node indices by node id (Shell sort: no recursion, no context-free comparator). */
static void
sort_by_id(uint32_t *idx, uint32_t n, const struct pfse_cl_vnode *nodes)
{
	static const uint32_t gaps[] = { 1750, 701, 301, 132, 57, 23, 10, 4, 1 };

	for (unsigned g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		uint32_t gap = gaps[g];

		for (uint32_t i = gap; i < n; i++) {
			uint32_t v = idx[i], j = i;

			while (j >= gap && nodes[idx[j - gap]].id > nodes[v].id) {
				idx[j] = idx[j - gap];
				j -= gap;
			}
			idx[j] = v;
		}
	}
}

/* Builds the table of a tier over its UP nodes; counts each node's entries. */
static int
maglev_build(struct pfse_cluster *cl, uint32_t tier, struct pfse_cl_vnode *nodes,
	     uint32_t nnodes, struct pfse_cl_table **out, uint32_t *usable)
{
	const uint32_t M = cl->table_size;
	struct pfse_cl_table *tb;
	uint32_t n = 0, wmax = 0, filled = 0;

	for (uint32_t i = 0; i < nnodes; i++) {
		if (nodes[i].tier != tier)
			continue;
		nodes[i].slots = 0;
		if (nodes[i].health != PFSE_NODE_UP)
			continue;
		cl->m_order[n++] = i;
		if (nodes[i].weight > wmax)
			wmax = nodes[i].weight;
	}
	*usable = n;
	tb = pfse_zalloc(&cl->alloc, sizeof(*tb), 64);
	if (!tb)
		return -ENOMEM;
	tb->size = M;
	tb->refs = 1;
	tb->slot = pfse_zalloc(&cl->alloc, (size_t)M * sizeof(uint16_t), 64);
	if (!tb->slot) {
		pfse_free(&cl->alloc, tb);
		return -ENOMEM;
	}
	if (n == 0) {
		for (uint32_t j = 0; j < M; j++)
			tb->slot[j] = PFSE_CL_NODE_NONE;
		*out = tb;
		return 0;
	}
	/* The nodes take turns in the order of their ids, so that the table does not depend
	 * on the order they were added in. */
	sort_by_id(cl->m_order, n, nodes);
	for (uint32_t k = 0; k < n; k++) {
		const struct pfse_cl_vnode *nd = &nodes[cl->m_order[k]];
		uint64_t h1 = XXH3_64bits_withSeed(&nd->id, sizeof(nd->id), cl->seed);
		uint64_t h2 = XXH3_64bits_withSeed(&nd->id, sizeof(nd->id), ~cl->seed);

		cl->m_pos[k] = (uint32_t)(h1 % M);
		cl->m_skip[k] = (uint32_t)(h2 % (M - 1)) + 1;
		cl->m_credit[k] = 0;
	}
	memset(cl->m_bits, 0, ((size_t)M + 63) / 64 * 8);
	/* the entry each claim took, written to the table at the end */
	while (filled < M) {
		for (uint32_t k = 0; k < n && filled < M; k++) {
			struct pfse_cl_vnode *nd = &nodes[cl->m_order[k]];

			cl->m_credit[k] += nd->weight;
			while (cl->m_credit[k] >= wmax && filled < M) {
				uint32_t pos = cl->m_pos[k];

				cl->m_credit[k] -= wmax;
				while (cl->m_bits[pos >> 6] & (1ull << (pos & 63))) {
					pos += cl->m_skip[k];
					if (pos >= M)
						pos -= M;
				}
				cl->m_bits[pos >> 6] |= 1ull << (pos & 63);
				tb->slot[pos] = (uint16_t)cl->m_order[k];
				nd->slots++;
				filled++;
				pos += cl->m_skip[k];
				cl->m_pos[k] = pos >= M ? pos - M : pos;
			}
		}
	}
	*out = tb;
	return 0;
}

/* ---- publication --------------------------------------------------------------------- */

static void
reclaim_locked(struct pfse_cluster *cl, int *freed)
{
	struct pfse_cl_view **pp = &cl->retired;
	uint64_t min = UINT64_MAX;

	for (unsigned i = 0; i < PFSE_CLUSTER_ENGINES_MAX; i++) {
		uint64_t e = atomic_load(&cl->readers[i].epoch);

		if (e != 0 && e < min)
			min = e;
	}
	while (*pp) {
		struct pfse_cl_view *v = *pp;

		if (v->retire_epoch <= min) {
			*pp = v->next;
			view_free(cl, v);
			cl->reclaimed++;
			cl->pending--;
			(*freed)++;
		} else {
			pp = &v->next;
		}
	}
}

/* Builds and publishes a view of the current configuration; `rebuild` is the tier whose
 * table changed (UINT32_MAX: none; PFSE_CLUSTER_TIERS_MAX: all). */
static int
publish_locked(struct pfse_cluster *cl, uint32_t rebuild)
{
	struct pfse_cl_view *old = atomic_load(&cl->view), *v;
	int freed = 0;

	v = pfse_zalloc(&cl->alloc, sizeof(*v) + (size_t)cl->max_nodes * sizeof(v->nodes[0]), 64);
	if (!v)
		return -ENOMEM;
	v->ntiers = cl->ntiers;
	v->nnodes = cl->nnodes;
	for (uint32_t t = 0; t < cl->ntiers; t++) {
		v->tier_kind[t] = cl->tiers[t].kind;
		v->tier_capacity[t] = cl->tiers[t].capacity;
		if (old && t < old->ntiers && old->tables[t] && rebuild != t &&
		    rebuild != PFSE_CLUSTER_TIERS_MAX) {
			v->tables[t] = old->tables[t];
			v->tables[t]->refs++;
			v->usable[t] = old->usable[t];
			continue;
		}
		if (maglev_build(cl, t, cl->nodes, cl->nnodes, &v->tables[t], &v->usable[t]) < 0) {
			view_free(cl, v);
			return -ENOMEM;
		}
	}
	/* (the slot counts of tiers not rebuilt are those of their last build) */
	memcpy(v->nodes, cl->nodes, (size_t)cl->nnodes * sizeof(v->nodes[0]));
	atomic_store(&cl->view, v);
	cl->publications++;
	if (old) {
		old->retire_epoch = atomic_fetch_add(&cl->epoch, 1) + 1;
		old->next = cl->retired;
		cl->retired = old;
		cl->pending++;
	}
	reclaim_locked(cl, &freed);
	return 0;
}

PFSE_API int
pfse_cluster_add_tier(struct pfse_cluster *cl, const struct pfse_tier_params *p, uint32_t *tier)
{
	struct pfse_tier_params prm;
	size_t len;
	int r;

	if (!cl || !p || !tier)
		return -EINVAL;
	r = pfse_params_load(&prm, sizeof(prm), offsetof(struct pfse_tier_params, kind) +
						      sizeof(prm.kind), p);
	if (r < 0)
		return r;
	if (!prm.name || prm.reserved != 0)
		return -EINVAL;
	len = strnlen(prm.name, PFSE_TIER_NAME_MAX + 1);
	if (len == 0 || len > PFSE_TIER_NAME_MAX)
		return -EINVAL;
	pthread_mutex_lock(&cl->lock);
	for (uint32_t t = 0; t < cl->ntiers; t++) {
		if (strcmp(cl->tiers[t].name, prm.name) == 0) {
			pthread_mutex_unlock(&cl->lock);
			return -EEXIST;
		}
	}
	if (cl->ntiers == PFSE_CLUSTER_TIERS_MAX) {
		pthread_mutex_unlock(&cl->lock);
		return -ENOSPC;
	}
	memcpy(cl->tiers[cl->ntiers].name, prm.name, len);
	cl->tiers[cl->ntiers].name[len] = 0;
	cl->tiers[cl->ntiers].kind = prm.kind;
	cl->tiers[cl->ntiers].capacity = prm.capacity;
	cl->ntiers++;
	r = publish_locked(cl, cl->ntiers - 1);
	if (r < 0)
		cl->ntiers--;
	else
		*tier = cl->ntiers - 1;
	pthread_mutex_unlock(&cl->lock);
	return r;
}

PFSE_API int
pfse_cluster_add_nodes(struct pfse_cluster *cl, const struct pfse_node_params *const p[],
		       unsigned n, uint32_t nodes[])
{
	struct pfse_node_params prm[64];
	uint32_t tiers_added[PFSE_CLUSTER_TIERS_MAX] = { 0 }, rebuild = UINT32_MAX;
	int r = 0;

	if (!cl || !p || !nodes || n == 0 || n > 64)
		return -EINVAL;
	for (unsigned k = 0; k < n; k++) {
		if (!p[k])
			return -EINVAL;
		size_t min = offsetof(struct pfse_node_params, id) + sizeof(uint64_t);

		r = pfse_params_load(&prm[k], sizeof(prm[k]), min, p[k]);
		if (r < 0)
			return r;
		if (prm[k].weight == 0)
			prm[k].weight = 1;
		if (prm[k].weight > 65535 || prm[k].health > PFSE_NODE_DOWN || prm[k].reserved != 0)
			return -EINVAL;
		for (unsigned j = 0; j < k; j++)
			if (prm[j].id == prm[k].id)
				return -EEXIST;
	}
	pthread_mutex_lock(&cl->lock);
	for (unsigned k = 0; r == 0 && k < n; k++) {
		if (prm[k].tier >= cl->ntiers) {
			r = -EINVAL;
			break;
		}
		for (uint32_t i = 0; r == 0 && i < cl->nnodes; i++)
			if (cl->nodes[i].id == prm[k].id)
				r = -EEXIST;
		tiers_added[prm[k].tier]++;
		if (r == 0 && (cl->nnodes + n > cl->max_nodes ||
			       cl->tiers[prm[k].tier].nnodes + tiers_added[prm[k].tier] >
				       cl->max_per_tier))
			r = -ENOSPC;
		if (rebuild == UINT32_MAX || rebuild == prm[k].tier)
			rebuild = prm[k].tier;
		else
			rebuild = PFSE_CLUSTER_TIERS_MAX;
	}
	if (r == 0) {
		for (unsigned k = 0; k < n; k++) {
			struct pfse_cl_vnode *nd = &cl->nodes[cl->nnodes + k];

			memset(nd, 0, sizeof(*nd));
			nd->id = prm[k].id;
			nd->capacity = prm[k].capacity;
			nd->user = prm[k].user;
			nd->tier = prm[k].tier;
			nd->weight = prm[k].weight;
			nd->health = prm[k].health;
		}
		cl->nnodes += n;
		for (unsigned k = 0; k < n; k++)
			cl->tiers[prm[k].tier].nnodes++;
		r = publish_locked(cl, rebuild);
		if (r < 0) {
			cl->nnodes -= n;
			for (unsigned k = 0; k < n; k++)
				cl->tiers[prm[k].tier].nnodes--;
		} else {
			for (unsigned k = 0; k < n; k++)
				nodes[k] = cl->nnodes - n + k;
		}
	}
	pthread_mutex_unlock(&cl->lock);
	return r;
}

PFSE_API int
pfse_cluster_add_node(struct pfse_cluster *cl, const struct pfse_node_params *p, uint32_t *node)
{
	const struct pfse_node_params *one[1] = { p };

	if (!cl || !p || !node)
		return -EINVAL;
	return pfse_cluster_add_nodes(cl, one, 1, node);
}

PFSE_API int
pfse_cluster_set_node_health(struct pfse_cluster *cl, uint32_t node, uint32_t health,
			     double load)
{
	int r = 0;

	if (!cl || health > PFSE_NODE_DOWN || !isfinite(load) || load < 0)
		return -EINVAL;
	pthread_mutex_lock(&cl->lock);
	if (node >= cl->nnodes) {
		r = -EINVAL;
	} else {
		struct pfse_cl_vnode *nd = &cl->nodes[node];
		uint32_t old_health = nd->health;
		double old_load = nd->load;
		/* the table changes only when the node enters or leaves UP */
		uint32_t rebuild = (old_health == PFSE_NODE_UP) != (health == PFSE_NODE_UP)
					   ? nd->tier
					   : UINT32_MAX;

		nd->health = health;
		nd->load = load;
		r = publish_locked(cl, rebuild);
		if (r < 0) {
			nd->health = old_health;
			nd->load = old_load;
		}
	}
	pthread_mutex_unlock(&cl->lock);
	return r;
}

PFSE_API int
pfse_cluster_set_node_weight(struct pfse_cluster *cl, uint32_t node, uint32_t weight)
{
	int r = 0;

	if (!cl || weight == 0 || weight > 65535)
		return -EINVAL;
	pthread_mutex_lock(&cl->lock);
	if (node >= cl->nnodes) {
		r = -EINVAL;
	} else {
		uint32_t old = cl->nodes[node].weight;

		cl->nodes[node].weight = weight;
		r = publish_locked(cl, cl->nodes[node].tier);
		if (r < 0)
			cl->nodes[node].weight = old;
	}
	pthread_mutex_unlock(&cl->lock);
	return r;
}

PFSE_API int
pfse_cluster_reclaim(struct pfse_cluster *cl)
{
	int freed = 0;

	if (!cl)
		return -EINVAL;
	pthread_mutex_lock(&cl->lock);
	reclaim_locked(cl, &freed);
	pthread_mutex_unlock(&cl->lock);
	return freed;
}

/* ---- reads (under the mutex: never freed under them) ------------------------------ */

PFSE_API int
pfse_cluster_flow_hash(struct pfse_cluster *cl, const struct pfse_flow_key *key, uint64_t *hash)
{
	struct pfse_flow_key k;

	if (!cl || !key || !hash)
		return -EINVAL;
	k = *key;
	pfse_flow_key_canonicalize(&k);
	*hash = pfse_key_hash(&k, cl->seed);
	return 0;
}

PFSE_API int
pfse_cluster_lookup(struct pfse_cluster *cl, uint32_t tier, uint64_t hash, uint32_t *node)
{
	const struct pfse_cl_view *v;
	int r = 0;

	if (!cl || !node)
		return -EINVAL;
	pthread_mutex_lock(&cl->lock);
	v = atomic_load(&cl->view);
	if (!v || tier >= v->ntiers) {
		r = -EINVAL;
	} else {
		uint32_t n = pfse_cl_lookup(v, tier, hash);

		if (n == PFSE_CL_NODE_NONE)
			r = -ENOENT;
		else
			*node = n;
	}
	pthread_mutex_unlock(&cl->lock);
	return r;
}

/* Copies the first `known` bytes of `src` to a caller's struct of `size` bytes, zeroing
 * any tail the library does not know. */
static void
copy_out(void *dst, size_t size, const void *src, size_t known)
{
	memcpy(dst, src, size < known ? size : known);
	if (size > known)
		memset((uint8_t *)dst + known, 0, size - known);
}

PFSE_API int
pfse_cluster_node_info(struct pfse_cluster *cl, uint32_t node, struct pfse_node_info *out)
{
	struct pfse_node_info ni;
	const struct pfse_cl_view *v;
	int r = 0;

	if (!cl || !out || out->size < sizeof(size_t) || out->size > PFSE_PARAMS_SIZE_MAX)
		return -EINVAL;
	pthread_mutex_lock(&cl->lock);
	v = atomic_load(&cl->view);
	if (!v || node >= v->nnodes) {
		r = -EINVAL;
	} else {
		const struct pfse_cl_vnode *nd = &v->nodes[node];

		memset(&ni, 0, sizeof(ni));
		ni.size = out->size;
		ni.id = nd->id;
		ni.capacity = nd->capacity;
		ni.user = nd->user;
		ni.load = nd->load;
		ni.predicted = (double)atomic_load_explicit(&cl->predicted[node],
							    memory_order_relaxed);
		ni.tier = nd->tier;
		ni.weight = nd->weight;
		ni.health = nd->health;
		ni.slots = nd->slots;
		copy_out(out, out->size, &ni, sizeof(ni));
	}
	pthread_mutex_unlock(&cl->lock);
	return r;
}

PFSE_API int
pfse_cluster_tier_info(struct pfse_cluster *cl, uint32_t tier, struct pfse_tier_info *out)
{
	struct pfse_tier_info ti;
	const struct pfse_cl_view *v;
	int r = 0;

	if (!cl || !out || out->size < sizeof(size_t) || out->size > PFSE_PARAMS_SIZE_MAX)
		return -EINVAL;
	pthread_mutex_lock(&cl->lock);
	v = atomic_load(&cl->view);
	if (!v || tier >= v->ntiers) {
		r = -EINVAL;
	} else {
		memset(&ti, 0, sizeof(ti));
		ti.size = out->size;
		memcpy(ti.name, cl->tiers[tier].name, sizeof(ti.name));
		ti.capacity = cl->tiers[tier].capacity;
		ti.kind = cl->tiers[tier].kind;
		ti.nodes = cl->tiers[tier].nnodes;
		ti.usable = v->usable[tier];
		ti.table_size = cl->table_size;
		copy_out(out, out->size, &ti, sizeof(ti));
	}
	pthread_mutex_unlock(&cl->lock);
	return r;
}

PFSE_API int
pfse_cluster_stats(struct pfse_cluster *cl, struct pfse_cluster_stats *out)
{
	struct pfse_cluster_stats st;

	if (!cl || !out || out->size < sizeof(size_t) || out->size > PFSE_PARAMS_SIZE_MAX)
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	st.size = out->size;
	pthread_mutex_lock(&cl->lock);
	st.publications = cl->publications;
	st.reclaimed = cl->reclaimed;
	st.pending = cl->pending;
	for (unsigned i = 0; i < PFSE_CLUSTER_ENGINES_MAX; i++)
		st.engines += atomic_load(&cl->readers[i].used);
	pthread_mutex_unlock(&cl->lock);
	copy_out(out, out->size, &st, sizeof(st));
	return 0;
}

/* ---- engines ------------------------------------------------------------------------- */

int
pfse_cluster_reader_add(struct pfse_cluster *cl, unsigned *idx)
{
	int r = -ENOSPC;

	pthread_mutex_lock(&cl->lock);
	for (unsigned i = 0; i < PFSE_CLUSTER_ENGINES_MAX; i++) {
		if (!atomic_load(&cl->readers[i].used)) {
			atomic_store(&cl->readers[i].used, 1);
			atomic_store(&cl->readers[i].epoch, 0);
			*idx = i;
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&cl->lock);
	return r;
}

void
pfse_cluster_reader_del(struct pfse_cluster *cl, unsigned idx)
{
	pthread_mutex_lock(&cl->lock);
	atomic_store(&cl->readers[idx].epoch, 0);
	atomic_store(&cl->readers[idx].used, 0);
	pthread_mutex_unlock(&cl->lock);
}

struct pfse_cl_reader *
pfse_cluster_readers(struct pfse_cluster *cl)
{
	return cl->readers;
}

_Atomic uint64_t *
pfse_cluster_epoch(struct pfse_cluster *cl)
{
	return &cl->epoch;
}

_Atomic(struct pfse_cl_view *) *
pfse_cluster_view_ptr(struct pfse_cluster *cl)
{
	return &cl->view;
}

_Atomic int64_t *
pfse_cluster_predicted(struct pfse_cluster *cl)
{
	return cl->predicted;
}

uint64_t
pfse_cluster_seed(const struct pfse_cluster *cl)
{
	return cl->seed;
}

uint32_t
pfse_cluster_max_nodes(const struct pfse_cluster *cl)
{
	return cl->max_nodes;
}
