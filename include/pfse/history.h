/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file history.h
 * @brief Per-class history of flows: what finished flows of a class did, so that a new
 * flow of that class gets a prior before it has shown anything.
 *
 * A class is a 32-bit class key: by default protocol << 16 | server port (the lower
 * port of the two when both are set, 0 for protocols without ports), or whatever the
 * application's classifier returns (with a priority). A history maps class keys to up to
 * `max_classes` class slots, preallocated; a key seen when they are all taken goes to
 * the overflow class (key PFSE_CLASS_OTHER, slot 0), never to an allocation.
 *
 * Per class it keeps: the number of finished flows; log-scale histograms (4 bins per
 * octave, mergeable, quantiles within 19%) of flow size in bytes, duration in ns and
 * peak bytes per interval; the sum and sum of squares of the first interval's bytes (a
 * new flow's expected rate); elephants (flows of at least `elephant_bytes`); the sum of
 * rewrite complexity samples; and the class aggregate series: total bytes per interval
 * of the class's flows over the last `series_len` intervals.
 *
 * Histories merge (one per worker thread, merged on a control thread: classes are
 * matched by key) and serialise to a byte buffer with a magic, a format version and a
 * checksum; a corrupt, truncated or foreign buffer is rejected and the history left as
 * it was.
 *
 * @note One thread at a time per history.
 */
#ifndef PFSE_HISTORY_H
#define PFSE_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pfse/common.h>
#include <pfse/flow_key.h>
#include <pfse/predict.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup history Class history and priors
 * @{ */

/** Class key of the overflow class (slot 0). */
#define PFSE_CLASS_OTHER 0xffffffffu

/** Bins of the log-scale histograms: 4 per octave over 2^0 .. 2^64. */
#define PFSE_HIST_BINS 256u

/**
 * An application classifier: the class key and a priority (0 = lowest) of a new flow.
 * @return 0, or a negative errno to fall back to the default rule.
 */
typedef int (*pfse_classify_fn)(const struct pfse_flow_key *key, uint32_t *class_key,
				uint32_t *priority, void *user);

/** History parameters. Prepare with pfse_history_params_init(). */
struct pfse_history_params {
	size_t size;             /**< set by pfse_history_params_init() */
	uint32_t max_classes;    /**< class slots, overflow class included; 0 = 1024; <= 65536 */
	uint32_t series_len;     /**< class aggregate series length; 0 = 64; <= 4096 */
	uint64_t interval_ns;    /**< the flow table's interval; 0 = 100 ms */
	uint64_t elephant_bytes; /**< a flow this big is an elephant; 0 = 1 MiB */
	pfse_classify_fn classify; /**< the application's classifier, or NULL */
	void *classify_user;     /**< last argument of `classify` */
	struct pfse_allocator allocator; /**< zero = malloc/free */
};

/**
 * Prepares history params with every field at its default.
 * @param p Params to prepare.
 * @since 0.2
 */
static inline void
pfse_history_params_init(struct pfse_history_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
}

/** A finished (or sampled live) flow, as the history absorbs it. */
struct pfse_flow_summary {
	size_t size;           /**< sizeof(struct pfse_flow_summary), set by _init */
	uint64_t bytes;        /**< total bytes, both directions */
	uint64_t packets;      /**< total packets */
	uint64_t duration_ns;  /**< last seen - first seen */
	uint64_t first_interval_bytes; /**< bytes of its first interval */
	uint64_t peak_interval_bytes;  /**< its largest interval */
	double complexity_sum; /**< sum of its rewrite-complexity samples */
	uint64_t complexity_n; /**< their number */
};

/**
 * Prepares a flow summary (all zero).
 * @param s Summary to prepare.
 * @since 0.2
 */
static inline void
pfse_flow_summary_init(struct pfse_flow_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
}

/** What a class's history expects of a new flow (pfse_history_prior()). */
struct pfse_class_prior {
	size_t size;           /**< sizeof(struct pfse_class_prior), set by the caller */
	uint64_t flows;        /**< finished flows the prior is made of */
	double rate;           /**< expected bytes in a flow's first interval */
	double rate_variance;  /**< their variance */
	double p_elephant;     /**< probability of reaching elephant_bytes ((e + 1) / (n + 2)) */
	double size_median;    /**< median flow size, bytes (0 with no flow) */
	double size_p90;       /**< 90th percentile of flow size */
	double duration_median; /**< median duration, ns */
	double peak_p90;       /**< 90th percentile of peak bytes per interval */
	double complexity;     /**< mean rewrite complexity (0 if none reported) */
	uint32_t priority;     /**< the classifier's priority of the class */
	uint32_t reserved;     /**< zero */
};

struct pfse_history;

/**
 * Creates a history (all memory allocated here).
 * @return 0, `-EINVAL`, or `-ENOMEM`.
 * @since 0.2
 */
PFSE_API int
pfse_history_create(const struct pfse_history_params *p, struct pfse_history **out);

/**
 * Destroys a history. NULL is accepted and ignored.
 * @since 0.2
 */
PFSE_API void
pfse_history_destroy(struct pfse_history *h);

/**
 * Classifies a flow: its class slot (what the flow table's class id holds) and the
 * class's priority. New class keys take a free slot, or the overflow slot 0 when none is
 * left. No allocation.
 * @param h        History.
 * @param key      The flow's key.
 * @param slot     Receives the class slot.
 * @param priority Receives the priority (may be NULL).
 * @return 0, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_history_classify(struct pfse_history *h, const struct pfse_flow_key *key, uint32_t *slot,
		      uint32_t *priority);

/**
 * The class key of a slot.
 * @return 0, `-ENOENT` for an unused slot, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_history_class_key(struct pfse_history *h, uint32_t slot, uint32_t *class_key);

/**
 * Absorbs a flow into its class.
 * @param h    History.
 * @param slot The flow's class slot.
 * @param s    Its summary (`size` set).
 * @return 0, `-ENOENT` for an unused slot, or `-EINVAL` (NULL, bad `size`, a non-finite
 *         complexity sum).
 * @since 0.2
 */
PFSE_API int
pfse_history_absorb(struct pfse_history *h, uint32_t slot, const struct pfse_flow_summary *s);

/**
 * Adds bytes to a class's aggregate series at an interval (intervals older than the
 * series' window are dropped; a newer one moves the window, zeroing what it skips).
 * @return 0, `-ENOENT`, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_history_add_interval(struct pfse_history *h, uint32_t slot, uint64_t interval,
			  uint64_t bytes);

/**
 * Copies a class's aggregate series, oldest first, up to its last complete interval
 * (the one before the newest seen).
 * @return The number of samples copied, `-ENOENT`, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_history_series(struct pfse_history *h, uint32_t slot, unsigned max, double out[]);

/**
 * What a new flow of a class is expected to do.
 * @param h    History.
 * @param slot Class slot.
 * @param out  Receives the prior (`size` set by the caller).
 * @return 0, `-ENOENT`, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_history_prior(struct pfse_history *h, uint32_t slot, struct pfse_class_prior *out);

/**
 * Adds `src` into `dst`, class by class (matched by key; a key new to `dst` takes a
 * free slot, or goes to its overflow class). Both must have the same interval and
 * elephant threshold; the series are summed interval by interval.
 * @return 0, or `-EINVAL` (NULL, dst == src, different interval or threshold).
 * @since 0.2
 */
PFSE_API int
pfse_history_merge(struct pfse_history *dst, struct pfse_history *src);

/**
 * Serialises a history. With `buf` NULL (or too small), only reports the size needed.
 * @param h   History.
 * @param buf Destination, or NULL.
 * @param len Its size.
 * @param out Receives the size of the serialised history.
 * @return 0 (written), `-ENOSPC` (buffer too small; *out says how much is needed), or
 *         `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_history_save(struct pfse_history *h, void *buf, size_t len, size_t *out);

/**
 * Replaces a history's contents by a serialised one. The buffer is checked whole first
 * (magic, version, lengths, checksum, every value): on any error nothing changes.
 * @return 0; `-EBADMSG` for a buffer that is not a history (bad magic, truncated,
 *         inconsistent); `-EPROTO` for an unknown format version; `-EILSEQ` for a
 *         checksum mismatch; `-ENOSPC` if it holds more classes than `max_classes`;
 *         `-EINVAL` for NULL arguments or a different interval or series length;
 *         `-ENOMEM` if a scratch copy of the class keys cannot be allocated.
 * @since 0.2
 */
PFSE_API int
pfse_history_load(struct pfse_history *h, const void *buf, size_t len);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PFSE_HISTORY_H */
