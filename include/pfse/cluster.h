/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file cluster.h
 * @brief Tiers, nodes, health and consistent node selection, shared by every engine.
 *
 * A cluster holds up to PFSE_CLUSTER_TIERS_MAX tiers (a name, a kind, a capacity) and up
 * to `max_nodes` nodes, each in one tier (an application id, a weight, a capacity, a
 * health, a reported load and an application pointer). Tiers and nodes are added, never
 * removed (a node that leaves is marked DOWN).
 *
 * Node selection. Each tier has a Maglev lookup table (Eisenbud et al., NSDI 2016) of
 * `table_size` entries, a prime (default 65537, and at least 100 times the largest number
 * of nodes of a tier), filled with the tier's UP nodes in proportion to their weights.
 * A flow's node is table[hash % size], with the hash of the flow's canonical key under
 * the cluster's seed (pfse_cluster_flow_hash()). The seed is fixed (0 selects
 * PFSE_CLUSTER_SEED_DEFAULT) and the tables depend only on the seed, the size and the
 * nodes' ids and weights (not on the order they were added in), so several load
 * balancers configured alike pick the same node for the same flow without talking. When
 * a node leaves the table, about 1/N of the flows change node and few others do.
 *
 * Health. UP nodes take new flows; DRAINING nodes keep the flows they have but take no
 * new one; DOWN nodes get no packet at all. Engines keep each flow on its node
 * (affinity) while that node is UP or DRAINING and is not predicted to overload.
 *
 * Publication. Every change (a node added, a health or weight change) builds new tables
 * on the calling thread and publishes them with one atomic pointer store. Engines read
 * the published tables without locks, once per burst; tables an engine may still read
 * are freed only after every engine has passed a quiescent point (the end of a burst, or
 * not being in one). After pfse_cluster_set_node_health() returns, no engine forwards a
 * packet of a burst it starts afterwards to a node that call marked DOWN.
 *
 * @note Threads: the control functions (pfse_cluster_add_tier(), _add_node(),
 *       _add_nodes(), _set_node_health(), _set_node_weight(), _reclaim()) may be called from any
 *       thread, concurrently with each other (they are serialised by a mutex) and with
 *       engines using the cluster. The read functions (_lookup(), _node_info(),
 *       _tier_info(), _stats()) are thread-safe and take the same mutex: they are for
 *       control and tests, not for the packet path (engines read the tables lock-free).
 *       _flow_hash() is thread-safe and lock-free.
 *       pfse_cluster_destroy() must come after every engine using the cluster is
 *       destroyed.
 */
#ifndef PFSE_CLUSTER_H
#define PFSE_CLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pfse/common.h>
#include <pfse/flow_key.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup cluster Cluster: tiers, nodes, health, node selection
 * @{ */

/** Most tiers of a cluster. */
#define PFSE_CLUSTER_TIERS_MAX 16u
/** Most nodes of a cluster. */
#define PFSE_CLUSTER_NODES_MAX 4096u
/** Most engines using one cluster at once. */
#define PFSE_CLUSTER_ENGINES_MAX 256u
/** The node-selection seed used when the params give 0. */
#define PFSE_CLUSTER_SEED_DEFAULT 0x9e3779b97f4a7c15ull
/** Longest tier name, terminating NUL excluded. */
#define PFSE_TIER_NAME_MAX 31u

/** @name Tier kinds (struct pfse_tier_params::kind)
 * @{ */
#define PFSE_TIER_KIND_STANDARD 0u   /**< the standard path's nodes */
#define PFSE_TIER_KIND_HIGH_PERF 1u  /**< high-performance nodes, for elephants */
#define PFSE_TIER_KIND_INSPECTION 2u /**< deep packet inspection, for suspicious flows */
#define PFSE_TIER_KIND_APP 16u       /**< application-defined kinds: this and above */
/** @} */

/** @name Node health
 * @{ */
#define PFSE_NODE_UP 0u       /**< takes new flows and keeps its own */
#define PFSE_NODE_DRAINING 1u /**< keeps its flows, takes no new one */
#define PFSE_NODE_DOWN 2u     /**< gets no packet */
/** @} */

/** Cluster parameters. Prepare with pfse_cluster_params_init(). */
struct pfse_cluster_params {
	size_t size;          /**< set by pfse_cluster_params_init() */
	uint32_t max_nodes;   /**< 0 = 256; at most PFSE_CLUSTER_NODES_MAX */
	uint32_t table_size;  /**< Maglev table entries: 0 = 65537; rounded up to a prime of
				   at least 100 x max_nodes_per_tier */
	uint32_t max_nodes_per_tier; /**< 0 = max_nodes */
	uint32_t reserved;    /**< zero */
	uint64_t seed;        /**< node-selection seed; 0 = PFSE_CLUSTER_SEED_DEFAULT */
	struct pfse_allocator allocator; /**< zero = malloc/free */
};

/**
 * Prepares cluster params with every field at its default.
 * @param p Params to prepare.
 * @since 0.2
 */
static inline void
pfse_cluster_params_init(struct pfse_cluster_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
}

/** A tier (pfse_cluster_add_tier()). Prepare with pfse_tier_params_init(). */
struct pfse_tier_params {
	size_t size;          /**< set by pfse_tier_params_init() */
	const char *name;     /**< copied; 1 to PFSE_TIER_NAME_MAX bytes */
	uint32_t kind;        /**< PFSE_TIER_KIND_* */
	uint32_t reserved;    /**< zero */
	uint64_t capacity;    /**< bytes per second the tier can take; 0 = unlimited */
};

/**
 * Prepares tier params (kind standard, unlimited capacity, no name).
 * @param p Params to prepare.
 * @since 0.2
 */
static inline void
pfse_tier_params_init(struct pfse_tier_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
}

/** A node (pfse_cluster_add_node()). Prepare with pfse_node_params_init(). */
struct pfse_node_params {
	size_t size;          /**< set by pfse_node_params_init() */
	uint32_t tier;        /**< its tier */
	uint32_t weight;      /**< share of new flows, 1 to 65535; 0 = 1 */
	uint64_t id;          /**< the application's id, unique in the cluster; it places the
				   node in the Maglev table */
	uint64_t capacity;    /**< bytes per second; 0 = unlimited */
	void *user;           /**< given back with the node (pfse_node_info::user) */
	uint32_t health;      /**< initial health, PFSE_NODE_*; default UP */
	uint32_t reserved;    /**< zero */
};

/**
 * Prepares node params (weight 1, UP, unlimited capacity).
 * @param p Params to prepare.
 * @since 0.2
 */
static inline void
pfse_node_params_init(struct pfse_node_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
}

/** A node as published (pfse_cluster_node_info()). Set `size` before the call. */
struct pfse_node_info {
	size_t size;          /**< sizeof(struct pfse_node_info), set by the caller */
	uint64_t id;          /**< the application's id */
	uint64_t capacity;    /**< bytes per second; 0 = unlimited */
	void *user;           /**< the application's pointer */
	double load;          /**< load last reported by pfse_cluster_set_node_health() */
	double predicted;     /**< bytes per second the engines' forecasts put on the node
				   (as of each engine's last pfse_engine_advance()) */
	uint32_t tier;        /**< its tier */
	uint32_t weight;      /**< its weight */
	uint32_t health;      /**< PFSE_NODE_* */
	uint32_t slots;       /**< entries of its tier's table it holds (0 unless UP) */
};

/** A tier as published (pfse_cluster_tier_info()). Set `size` before the call. */
struct pfse_tier_info {
	size_t size;          /**< sizeof(struct pfse_tier_info), set by the caller */
	char name[PFSE_TIER_NAME_MAX + 1]; /**< its name */
	uint64_t capacity;    /**< bytes per second; 0 = unlimited */
	uint32_t kind;        /**< PFSE_TIER_KIND_* */
	uint32_t nodes;       /**< nodes in the tier */
	uint32_t usable;      /**< of which UP */
	uint32_t table_size;  /**< entries of its Maglev table */
};

/** Counters of a cluster (pfse_cluster_stats()). Set `size` before the call. */
struct pfse_cluster_stats {
	size_t size;          /**< sizeof(struct pfse_cluster_stats), set by the caller */
	uint64_t publications; /**< table sets published */
	uint64_t reclaimed;   /**< table sets freed */
	uint64_t pending;     /**< retired table sets still waiting for engines */
	uint32_t engines;     /**< engines using the cluster */
	uint32_t reserved;    /**< zero */
};

struct pfse_cluster;

/**
 * Creates a cluster (no tier, no node).
 * @return 0, `-EINVAL`, or `-ENOMEM`.
 * @since 0.2
 */
PFSE_API int
pfse_cluster_create(const struct pfse_cluster_params *p, struct pfse_cluster **out);

/**
 * Destroys a cluster, after every engine using it. NULL is accepted and ignored.
 * @since 0.2
 */
PFSE_API void
pfse_cluster_destroy(struct pfse_cluster *cl);

/**
 * Adds a tier.
 * @param cl   Cluster.
 * @param p    The tier.
 * @param tier Receives its index (0, 1, ... in order of addition).
 * @return 0; `-EINVAL` (bad params, name empty or too long); `-EEXIST` (a tier of that
 *         name exists); `-ENOSPC` (PFSE_CLUSTER_TIERS_MAX tiers); `-ENOMEM`.
 * @since 0.2
 */
PFSE_API int
pfse_cluster_add_tier(struct pfse_cluster *cl, const struct pfse_tier_params *p,
		      uint32_t *tier);

/**
 * Adds a node to a tier and publishes the new tables.
 * @param cl   Cluster.
 * @param p    The node.
 * @param node Receives its index (0, 1, ... in order of addition).
 * @return 0; `-EINVAL` (bad params, unknown tier); `-EEXIST` (that id exists);
 *         `-ENOSPC` (max_nodes, or max_nodes_per_tier in its tier); `-ENOMEM`.
 * @since 0.2
 */
PFSE_API int
pfse_cluster_add_node(struct pfse_cluster *cl, const struct pfse_node_params *p,
		      uint32_t *node);

/**
 * Adds up to 64 nodes at once, and publishes the new tables once (adding nodes one by
 * one rebuilds their tier's table each time).
 * @param cl    Cluster.
 * @param p     `n` nodes.
 * @param n     1 to 64.
 * @param nodes Receives their indices, in order.
 * @return 0, or as pfse_cluster_add_node() (then none was added).
 * @since 0.2
 */
PFSE_API int
pfse_cluster_add_nodes(struct pfse_cluster *cl, const struct pfse_node_params *const p[],
		       unsigned n, uint32_t nodes[]);

/**
 * Sets a node's health and reported load, and publishes the new tables.
 * @param cl     Cluster.
 * @param node   Node index.
 * @param health PFSE_NODE_UP, _DRAINING or _DOWN.
 * @param load   The node's load as the application measures it (for example its
 *               utilisation), finite and >= 0; reported back, not used for selection.
 * @return 0, `-EINVAL` (unknown node, bad health or load), or `-ENOMEM` (nothing
 *         changed).
 * @since 0.2
 */
PFSE_API int
pfse_cluster_set_node_health(struct pfse_cluster *cl, uint32_t node, uint32_t health,
			     double load);

/**
 * Sets a node's weight and publishes the new tables.
 * @return 0, `-EINVAL` (unknown node, weight outside 1..65535), or `-ENOMEM`.
 * @since 0.2
 */
PFSE_API int
pfse_cluster_set_node_weight(struct pfse_cluster *cl, uint32_t node, uint32_t weight);

/**
 * Frees the retired tables every engine is done with. The control functions do this
 * too; call it to free memory sooner.
 * @return The number of table sets freed, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_cluster_reclaim(struct pfse_cluster *cl);

/**
 * The hash that selects a flow's node: the key made bidirectional
 * (pfse_flow_key_canonicalize()) hashed with the cluster's seed.
 * @return 0 or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_cluster_flow_hash(struct pfse_cluster *cl, const struct pfse_flow_key *key,
		       uint64_t *hash);

/**
 * The node of a tier's table for a hash, as published now.
 * @param cl   Cluster.
 * @param tier Tier index.
 * @param hash Flow hash (pfse_cluster_flow_hash()).
 * @param node Receives the node index.
 * @return 0; `-EINVAL`; `-ENOENT` if the tier has no UP node.
 * @since 0.2
 */
PFSE_API int
pfse_cluster_lookup(struct pfse_cluster *cl, uint32_t tier, uint64_t hash, uint32_t *node);

/**
 * A node as published now.
 * @return 0 or `-EINVAL` (NULL, unknown node, bad `size`).
 * @since 0.2
 */
PFSE_API int
pfse_cluster_node_info(struct pfse_cluster *cl, uint32_t node, struct pfse_node_info *out);

/**
 * A tier as published now.
 * @return 0 or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_cluster_tier_info(struct pfse_cluster *cl, uint32_t tier, struct pfse_tier_info *out);

/**
 * The cluster's counters.
 * @return 0 or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_cluster_stats(struct pfse_cluster *cl, struct pfse_cluster_stats *out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PFSE_CLUSTER_H */
