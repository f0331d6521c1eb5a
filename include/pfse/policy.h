/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file policy.h
 * @brief Shunt policy: a flow's forecast, class prior and flags in, a directive out.
 *
 * The policy knows three tiers, found by kind in the cluster when it is created: the
 * first tier of kind PFSE_TIER_KIND_HIGH_PERF, the first of kind
 * PFSE_TIER_KIND_INSPECTION and the first of kind PFSE_TIER_KIND_STANDARD. Any of them
 * may be missing: without a high-performance or inspection tier the policy never sends a
 * flow there; without a standard tier, "standard" means the local path (the engine's
 * `rewrite` and `transmit` callbacks, the pseudocode's default branch), directive tier
 * PFSE_TIER_NONE.
 *
 * Rules, in order:
 *  1. A pinned flow (reason PFSE_REASON_PINNED) keeps its directive.
 *  2. An anomaly (the flow's sample outside its prediction interval) sends it to the
 *     inspection tier at once, dwell time or not (PFSE_REASON_ANOMALY).
 *  3. A new flow goes to the high-performance tier when its class's P(elephant) is at
 *     least `p_elephant_enter`, or its class's expected rate at least `bw_enter`
 *     (PFSE_REASON_PRIOR): the elephant is shunted on its first packet. A live flow goes
 *     there (reason PRIOR too) when its P(elephant) reaches `p_elephant_enter`: the engine
 *     conditions it on what the flow has sent (of the class's flows that reached that
 *     size, the share that became elephants), so a flow is shunted once it is big
 *     enough for its class to say it will be one, whatever its rate; and it stays while
 *     that holds.
 *  4. Otherwise a flow enters the high-performance tier when its predicted bandwidth,
 *     complexity or criticality reaches its enter threshold (PFSE_REASON_BANDWIDTH,
 *     _COMPLEXITY, _CRITICALITY), and leaves it when all three are below their exit
 *     thresholds and its P(elephant) below `p_elephant_enter` (hysteresis: exit <=
 *     enter). A flow in the inspection tier returns to this rule once its dwell time is
 *     over.
 *  5. Dwell: a directive set less than `dwell_ns` ago is kept (rule 2 excepted, and a
 *     flow's first placement, PFSE_POLICY_IN_INITIAL), so a flow whose forecast
 *     oscillates around a threshold changes at most once per dwell.
 * A threshold of 0 disables its rule. Bandwidths are bytes per second, compared with the
 * forecast's mean, or its upper bound with PFSE_POLICY_F_UPPER.
 *
 * The engine adds what needs its state: the tiers' capacity budgets (PFSE_REASON_BUDGET)
 * and node choice, affinity, health and overload moves.
 *
 * @note A policy is read-only after create: thread-safe.
 */
#ifndef PFSE_POLICY_H
#define PFSE_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pfse/common.h>
#include <pfse/flow_table.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup policy Shunt policy
 * @{ */

struct pfse_cluster;

/** @name Directive reasons (struct pfse_directive::reason)
 * @{ */
#define PFSE_REASON_NONE 0u        /**< no directive yet */
#define PFSE_REASON_DEFAULT 1u     /**< standard: no rule called for another tier */
#define PFSE_REASON_PRIOR 2u       /**< its class's history says elephant (new flow),
					or will be, given what it has sent */
#define PFSE_REASON_BANDWIDTH 3u   /**< predicted bandwidth */
#define PFSE_REASON_COMPLEXITY 4u  /**< predicted rewrite complexity */
#define PFSE_REASON_CRITICALITY 5u /**< criticality (class priority, raised by growth) */
#define PFSE_REASON_ANOMALY 6u     /**< sample outside its prediction interval */
#define PFSE_REASON_PINNED 7u      /**< pinned by the application */
#define PFSE_REASON_BUDGET 8u      /**< kept out of (or demoted from) a full tier */
#define PFSE_REASON_OVERLOAD 9u    /**< moved off a node predicted to overload */
#define PFSE_REASON_HEALTH 10u     /**< moved off a node no longer usable */
#define PFSE_REASON_COUNT 11u      /**< number of reasons */
/** @} */

/** @name Policy flags
 * @{ */
/** Compare bandwidth thresholds with the forecast's upper bound instead of its mean. */
#define PFSE_POLICY_F_UPPER (1u << 0)
/** Never send anomalies to inspection. */
#define PFSE_POLICY_F_NO_ANOMALY (1u << 1)
/** Ignore P(elephant) (rule 3): a new flow starts on the standard tier and is shunted
 *  only once its own samples cross a threshold (a reactive policy). @since 0.2 */
#define PFSE_POLICY_F_NO_PRIOR (1u << 2)
/** @} */

/** Policy parameters. Prepare with pfse_policy_params_init(); zero means default. */
struct pfse_policy_params {
	size_t size;               /**< set by pfse_policy_params_init() */
	struct pfse_cluster *cluster; /**< where the tiers are (required) */
	uint32_t flags;            /**< PFSE_POLICY_F_* */
	uint32_t reserved;         /**< zero */
	double bw_enter;           /**< bytes/s to enter high-performance; 0 = off */
	double bw_exit;            /**< bytes/s below which it leaves; 0 = bw_enter / 2 */
	double cx_enter;           /**< rules per packet to enter; 0 = off */
	double cx_exit;            /**< 0 = cx_enter / 2 */
	double crit_enter;         /**< criticality to enter; 0 = off */
	double crit_exit;          /**< 0 = crit_enter - 1 */
	double p_elephant_enter;   /**< P(elephant) to enter (rule 3: a new flow's class
				        prior, a live flow's given its size); 0 = 0.6 (above
				        the 1/2 of a class with no history); > 1 = off */
	uint64_t dwell_ns;         /**< minimum time between changes; 0 = 1 s */
	double target_util;        /**< tier budgets: this fraction of capacity; 0 = 0.9 */
	struct pfse_allocator allocator; /**< zero = malloc/free */
};

/**
 * Prepares policy params with every field at its default.
 * @param p Params to prepare.
 * @since 0.2
 */
static inline void
pfse_policy_params_init(struct pfse_policy_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
}

/** @name Input flags (struct pfse_policy_input::flags)
 * @{ */
#define PFSE_POLICY_IN_NEW (1u << 0)     /**< a new flow: decide from the prior */
#define PFSE_POLICY_IN_ANOMALY (1u << 1) /**< its latest sample was an anomaly */
/** The current directive is the flow's first, default placement (made knowing nothing
 *  of it): the dwell (rule 5) does not hold it, so the first evidence can move the flow
 *  at once. @since 0.2 */
#define PFSE_POLICY_IN_INITIAL (1u << 2)
/** @} */

/** What the policy decides from. Prepare with pfse_policy_input_init(). */
struct pfse_policy_input {
	size_t size;             /**< set by pfse_policy_input_init() */
	uint64_t now;            /**< the caller's time, ns */
	double bw;               /**< predicted bandwidth, bytes/s (new flow: the prior's) */
	double bw_hi;            /**< its upper bound */
	double cx;               /**< predicted rewrite complexity, rules per packet */
	double crit;             /**< criticality (pfse_criticality()) */
	double p_elephant;       /**< P(elephant): the class's (a new flow), or given what
				      the flow has sent (what the engine passes) */
	uint32_t flags;          /**< PFSE_POLICY_IN_* */
	uint32_t reserved;       /**< zero */
	struct pfse_directive current; /**< the flow's directive (tier PFSE_TIER_NONE and
					    reason PFSE_REASON_NONE for a new flow) */
};

/**
 * Prepares a policy input (a new flow with nothing known).
 * @param in Input to prepare.
 * @since 0.2
 */
static inline void
pfse_policy_input_init(struct pfse_policy_input *in)
{
	memset(in, 0, sizeof(*in));
	in->size = sizeof(*in);
	in->current.tier = PFSE_TIER_NONE;
	in->current.node = PFSE_NODE_ANY;
}

struct pfse_policy;

/**
 * Creates a policy.
 * @return 0, `-EINVAL` (no cluster, thresholds not finite or negative, an exit threshold
 *         above its enter threshold, target_util outside (0, 1]), or `-ENOMEM`.
 * @note The tiers are looked up now: add them to the cluster first.
 * @since 0.2
 */
PFSE_API int
pfse_policy_create(const struct pfse_policy_params *p, struct pfse_policy **out);

/**
 * Destroys a policy. NULL is accepted and ignored.
 * @since 0.2
 */
PFSE_API void
pfse_policy_destroy(struct pfse_policy *pol);

/**
 * Decides a flow's directive.
 * @param pol Policy.
 * @param in  What is known of the flow.
 * @param out Receives the directive: its tier and reason, node PFSE_NODE_ANY (the engine
 *            chooses) unless the current directive is kept, and `since` = in->now when
 *            the tier changed, else the current one's.
 * @return 1 if the directive changed, 0 if not, or `-EINVAL`.
 * @note Thread-safe; no allocation.
 * @since 0.2
 */
PFSE_API int
pfse_policy_decide(const struct pfse_policy *pol, const struct pfse_policy_input *in,
		   struct pfse_directive *out);

/**
 * The tiers the policy uses (PFSE_TIER_NONE where missing) and its budget fraction.
 * @return 0 or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_policy_tiers(const struct pfse_policy *pol, uint32_t *standard, uint32_t *high_perf,
		  uint32_t *inspection);

/**
 * A reason code's name ("prior", "bandwidth", ...), or "unknown".
 * @note Thread-safe.
 * @since 0.2
 */
PFSE_API const char *
pfse_reason_str(uint32_t reason);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PFSE_POLICY_H */
