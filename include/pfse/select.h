/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file select.h
 * @brief Automatic per-class choice of a forecasting backend: candidates run in shadow
 * on a sample of flows, a rolling scaled error per candidate and class, the best in use.
 *
 * A selector holds up to PFSE_SELECT_MAX candidate predictors (struct pfse_predictor,
 * each a backend with its parameters) and a class space of `classes` ids (for example the
 * slots of a struct pfse_history). A class uses its own choice once it has `min_samples`
 * scored samples; before that, the global choice (made the same way from the samples of
 * all classes together) once there are `min_samples` of those, and before that candidate
 * 0, the default.
 *
 * Shadowing. pfse_selector_shadow_begin() admits a new flow to shadowing when its hash
 * falls in the sample (hash % sample_every == 0) and a shadow slot is free (there are
 * `shadow_flows`, preallocated). A shadowed flow's samples go to
 * pfse_selector_shadow_observe(), which runs every candidate on them, each on its own
 * copy of the flow's state. Each sample from the flow's third on (and from the h-th
 * forecast on, at horizon h) is scored per candidate: |x - forecast made h intervals
 * before| divided by the flow's mean absolute one-step change so far (the scale of
 * Hyndman's MASE, so that a flow of 1 GB/s and one of 1 kB/s weigh alike; samples of a
 * flow that has never changed are not scored).
 *
 * Flow mode (`flow_len` > 0). Instead of each sample, each flow that ends
 * (pfse_selector_shadow_end()) with at least `flow_len` samples is scored once per
 * candidate: its MASE over all its forecasts (from its second sample, or its h-th), with
 * the scale of its whole series, exactly as forecast accuracy is usually reported. Every
 * such flow weighs the same, however long; `min_samples` and `half_life` then count
 * flows. Use it when the flows that matter are the long ones: in sample mode the many
 * short flows of a class outvote them.
 *
 * Choice. Per class and candidate the scores are averaged with exponential forgetting
 * (half-life `half_life` scored samples): a rolling MASE. The class's choice is the
 * candidate with the smallest; a challenger replaces the current choice only when it is
 * better by the relative `margin` (hysteresis, so choices do not flap); a class's first
 * choice of its own starts from the one it used until then. A class may be pinned to a
 * candidate instead. pfse_selector_report() says which candidate is in use,
 * why, and every candidate's rolling error.
 *
 * Choices change only what new flows use: a flow keeps the backend it started with (its
 * state belongs to that backend).
 *
 * @note One thread at a time per selector. Keep one per data-path thread and merge them
 *       (pfse_selector_merge()) on a control thread; class ids must mean the same in both.
 */
#ifndef PFSE_SELECT_H
#define PFSE_SELECT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pfse/common.h>
#include <pfse/predict.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup select Automatic model choice
 * @{ */

/** Most candidates a selector runs. */
#define PFSE_SELECT_MAX 8u

/** Longest horizon a selector scores at. */
#define PFSE_SELECT_HORIZON_MAX 16u

/** Selector parameters. Prepare with pfse_selector_params_init(). */
struct pfse_selector_params {
	size_t size;               /**< set by pfse_selector_params_init() */
	struct pfse_predictor *const *candidates; /**< `n_candidates` predictors; [0] is the
						       default (required) */
	uint32_t n_candidates;     /**< 1 to PFSE_SELECT_MAX */
	uint32_t classes;          /**< class ids 0 .. classes - 1; 0 = 1024; <= 65536 */
	uint32_t shadow_flows;     /**< flows shadowed at once; 0 = 1024; <= 1 << 20 */
	uint32_t sample_every;     /**< shadow flows whose hash % N == 0; 0 = 16; 1 = all */
	uint32_t min_samples;      /**< scored samples before a class leaves the default;
				        0 = 200 */
	uint32_t half_life;        /**< of the rolling error, in scored samples; 0 = 2000 */
	uint32_t horizon;          /**< forecasts are scored this many intervals ahead; 0 = 1;
				        <= PFSE_SELECT_HORIZON_MAX */
	uint32_t flow_len;         /**< 0: score each sample; N > 0: score whole flows of at
				        least N samples when they end (see "Flow mode") */
	double margin;             /**< relative improvement a challenger needs; 0 = 0.05;
				        in [0, 1) (a negative value asks for exactly 0) */
	struct pfse_allocator allocator; /**< zero = malloc/free */
};

/**
 * Prepares selector params with every field at its default.
 * @param p Params to prepare.
 * @since 0.2
 */
static inline void
pfse_selector_params_init(struct pfse_selector_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
}

/** @name Why a class uses its candidate (pfse_selection::reason)
 * @{ */
/** Too few scored samples yet, in the class and overall: the default, candidate 0. */
#define PFSE_SELECT_R_DEFAULT 0u
/** The smallest rolling error. */
#define PFSE_SELECT_R_BEST 1u
/** Another candidate is better, but not by the margin yet. */
#define PFSE_SELECT_R_KEPT 2u
/** Pinned by pfse_selector_pin(). */
#define PFSE_SELECT_R_PINNED 3u
/** Too few scored samples in the class: the global choice. */
#define PFSE_SELECT_R_GLOBAL 4u
/** @} */

/** pfse_selector_report() class id of the global aggregate (all classes together). */
#define PFSE_SELECT_GLOBAL 0xffffffffu

/** A class's choice and why (pfse_selector_report()). Set `size` before the call. */
struct pfse_selection {
	size_t size;             /**< sizeof(struct pfse_selection), set by the caller */
	uint32_t choice;         /**< candidate index in use */
	uint32_t reason;         /**< PFSE_SELECT_R_* */
	uint64_t samples;        /**< scored samples of the class, all time */
	uint64_t switches;       /**< times the choice changed (pins excluded) */
	double weight;           /**< effective samples behind the rolling errors */
	double mase[PFSE_SELECT_MAX]; /**< rolling MASE per candidate (-1: not scored yet) */
	uint32_t n_candidates;   /**< entries of `mase` in use */
	uint32_t reserved;       /**< zero */
};

/** Counters of a selector (pfse_selector_stats()). */
struct pfse_selector_stats {
	size_t size;              /**< sizeof(struct pfse_selector_stats), set by the caller */
	uint64_t shadowed;        /**< flows admitted to shadowing */
	uint64_t not_sampled;     /**< flows outside the sample */
	uint64_t pool_full;       /**< sampled flows refused: no free shadow slot */
	uint64_t samples;         /**< samples observed in shadow */
	uint64_t scored;          /**< of which scored */
	uint64_t restarts;        /**< candidate states restarted (-ERANGE) */
	uint32_t active;          /**< shadow slots in use */
	uint32_t reserved;        /**< zero */
};

struct pfse_selector;

/**
 * Creates a selector (all memory allocated here). The candidates must outlive it.
 * @return 0, `-EINVAL` (NULL, no candidate, too many, a NULL candidate, a value out of
 *         range), or `-ENOMEM`.
 * @since 0.2
 */
PFSE_API int
pfse_selector_create(const struct pfse_selector_params *p, struct pfse_selector **out);

/**
 * Destroys a selector. NULL is accepted and ignored.
 * @since 0.2
 */
PFSE_API void
pfse_selector_destroy(struct pfse_selector *sel);

/**
 * The candidate a class's new flows should use.
 * @param sel      Selector.
 * @param class_id Class id.
 * @return The candidate index (0 .. n_candidates - 1), or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_selector_choice(const struct pfse_selector *sel, uint32_t class_id);

/**
 * Starts shadowing a new flow, if it is in the sample and a slot is free.
 * @param sel      Selector.
 * @param class_id The flow's class.
 * @param hash     The flow's hash (pfse_flow_key_hash()), which decides the sample.
 * @param prior    Its prior (every candidate starts from it), or NULL.
 * @param id       Receives the shadow id.
 * @return 0; `-EAGAIN` if the flow is not in the sample; `-ENOSPC` if every shadow slot
 *         is taken (counted); `-EINVAL` for bad arguments or a prior a candidate refuses.
 * @since 0.2
 */
PFSE_API int
pfse_selector_shadow_begin(struct pfse_selector *sel, uint32_t class_id, uint64_t hash,
			   const struct pfse_prior *prior, uint32_t *id);

/**
 * Gives a shadowed flow's next closed-interval sample to every candidate and scores
 * their forecasts.
 * @return 0; `-EINVAL` for a NaN or infinite sample (ignored) or bad arguments;
 *         `-ENOENT` for a shadow id not in use.
 * @since 0.2
 */
PFSE_API int
pfse_selector_shadow_observe(struct pfse_selector *sel, uint32_t id, double x);

/**
 * Ends a flow's shadowing and frees its slot.
 * @return 0, `-ENOENT` for an id not in use, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_selector_shadow_end(struct pfse_selector *sel, uint32_t id);

/**
 * Pins a class to a candidate, or unpins it.
 * @param sel       Selector.
 * @param class_id  Class id.
 * @param candidate Candidate index, or -1 to return to automatic choice.
 * @return 0 or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_selector_pin(struct pfse_selector *sel, uint32_t class_id, int candidate);

/**
 * Reports a class's choice, why, and the rolling error of every candidate.
 * @param sel      Selector.
 * @param class_id Class id, or PFSE_SELECT_GLOBAL for all classes together.
 * @param out      Receives the report (`size` set by the caller).
 * @return 0 or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_selector_report(const struct pfse_selector *sel, uint32_t class_id,
		     struct pfse_selection *out);

/**
 * Reads a selector's counters.
 * @param sel Selector.
 * @param out Receives them (`size` set by the caller).
 * @return 0 or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_selector_stats(const struct pfse_selector *sel, struct pfse_selector_stats *out);

/**
 * Adds `src`'s rolling errors into `dst`, class by class (as if `dst` had scored them
 * too), and re-decides `dst`'s choices. Shadowed flows and pins stay where they are.
 * @return 0, or `-EINVAL` (NULL, dst == src, different candidate counts, class counts,
 *         half-lives or horizons).
 * @since 0.2
 */
PFSE_API int
pfse_selector_merge(struct pfse_selector *dst, const struct pfse_selector *src);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PFSE_SELECT_H */
