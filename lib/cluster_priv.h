/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cluster internals shared with the engine: the published view (immutable once
 * published), the reader slots through which engines announce the bursts they are in,
 * and the per-node predicted-load counters engines add their forecasts to.
 *
 * Reclamation (quiescent-state based): a reader entering a burst stores the current
 * global epoch in its slot, then loads the view; leaving, it stores 0. A writer stores the
 * new view, then increments the epoch to E and retires the old view with E. A retired view
 * is freed once every reader slot is 0 or >= E: a reader that could have loaded the old
 * view entered before the increment, so its slot holds an epoch < E until it leaves.
 * All five operations are sequentially consistent, which gives the store-load order both
 * sides need.
 */
#ifndef PFSE_CLUSTER_PRIV_H
#define PFSE_CLUSTER_PRIV_H

#include <stdatomic.h>
#include <stdint.h>

#include "pfse/cluster.h"

#define PFSE_CL_NODE_NONE 0xffffu

struct pfse_cl_table {
	uint32_t refs;       /* views pointing at it (control thread only) */
	uint32_t size;       /* entries */
	uint16_t *slot;      /* node index per entry */
};

struct pfse_cl_vnode {
	uint64_t id;
	uint64_t capacity;   /* bytes per second, 0 = unlimited */
	void *user;
	double load;
	uint32_t tier;
	uint32_t weight;
	uint32_t health;
	uint32_t slots;
};

struct pfse_cl_view {
	uint64_t retire_epoch;
	struct pfse_cl_view *next;  /* retired list */
	uint32_t ntiers;
	uint32_t nnodes;
	struct pfse_cl_table *tables[PFSE_CLUSTER_TIERS_MAX];
	uint32_t usable[PFSE_CLUSTER_TIERS_MAX];
	uint32_t tier_kind[PFSE_CLUSTER_TIERS_MAX];
	uint64_t tier_capacity[PFSE_CLUSTER_TIERS_MAX];
	struct pfse_cl_vnode nodes[];
};

struct pfse_cl_reader {
	_Atomic uint64_t epoch;     /* 0: not in a burst */
	_Atomic uint32_t used;
	uint32_t pad[13];
};

/* Registers an engine as a reader. Returns 0, or -ENOSPC. */
int
pfse_cluster_reader_add(struct pfse_cluster *cl, unsigned *idx);

/* Unregisters it (it must not be in a burst). */
void
pfse_cluster_reader_del(struct pfse_cluster *cl, unsigned idx);

/* The reader slots, the epoch and the view, for the inline enter/leave below. */
struct pfse_cl_reader *
pfse_cluster_readers(struct pfse_cluster *cl);

_Atomic uint64_t *
pfse_cluster_epoch(struct pfse_cluster *cl);

_Atomic(struct pfse_cl_view *) *
pfse_cluster_view_ptr(struct pfse_cluster *cl);

/* Per-node predicted load, bytes per second, that engines add their forecasts to. */
_Atomic int64_t *
pfse_cluster_predicted(struct pfse_cluster *cl);

/* The seed of the flow hash. */
uint64_t
pfse_cluster_seed(const struct pfse_cluster *cl);

/* Its max_nodes (node indices are below it). */
uint32_t
pfse_cluster_max_nodes(const struct pfse_cluster *cl);

/* Enters a burst: the view to use until pfse_cl_leave(). */
static inline const struct pfse_cl_view *
pfse_cl_enter(struct pfse_cl_reader *r, _Atomic uint64_t *epoch,
	      _Atomic(struct pfse_cl_view *) *view)
{
	atomic_store(&r->epoch, atomic_load(epoch));
	return atomic_load(view);
}

static inline void
pfse_cl_leave(struct pfse_cl_reader *r)
{
	atomic_store(&r->epoch, 0);
}

/* The node of a tier for a hash, or PFSE_CL_NODE_NONE when the tier has no UP node. */
static inline uint32_t
pfse_cl_lookup(const struct pfse_cl_view *v, uint32_t tier, uint64_t hash)
{
	const struct pfse_cl_table *t = v->tables[tier];

	if (!t || v->usable[tier] == 0)
		return PFSE_CL_NODE_NONE;
	return t->slot[(uint32_t)(((hash >> 32) * (uint64_t)t->size) >> 32)];
}

#endif /* PFSE_CLUSTER_PRIV_H */
