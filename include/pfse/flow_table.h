/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file flow_table.h
 * @brief The flow state tracking tier: a bounded, burst-oriented table of flow records.
 *
 * A table holds at most `capacity` flows, each keyed by a struct pfse_flow_key (as the
 * parser produces it) and identified by a 32-bit handle. All memory is allocated at
 * create; nothing is allocated, locked or read from the system afterwards. Time is the
 * caller's: every packet's `ts` (ns) drives counters, intervals and expiry, and a
 * timestamp older than one already seen is clamped, never underflows.
 *
 * Per flow the table keeps: the key; packets and bytes per direction (PFSE_PKT_F_REVERSE
 * marks the reverse direction); first and last seen; the OR of the TCP flags seen; the
 * series of the last W closed sampling intervals (bytes and packets per interval) and
 * the open interval's accumulators; a slot of opaque bytes for the predictor; the current
 * shunt directive; a class id and a 64-bit application cookie.
 *
 * Intervals. Time is cut into intervals of `interval_ns` aligned on multiples of it (the
 * same grid in every table, so series of different workers line up). When a packet of a
 * flow arrives in a later interval than the flow's open one, the open interval closes
 * into the series, every interval the flow was silent becomes a zero sample, and the
 * packet is reported in pfse_flow_masks::samples: the moment to run a predictor. Samples
 * are stored as bytes (32 bits, saturating at 4 GiB per interval) and packets (16-bit
 * floating point: exact below 2048, within 1/2048 relative above, saturating at
 * 2^42 - 2^30, about 4.4e12).
 *
 * Expiry. Each flow has an idle timeout by kind: TCP (until a FIN or RST is seen), TCP
 * closing (after one), UDP, and other protocols. pfse_flow_table_expire() removes flows
 * idle past their timeout from a timing wheel, at most `budget` per call, in O(1)
 * amortised per flow, handing each one to a callback first. The wheel ticks every 2^k ns,
 * about a sixteenth of the shortest timeout (2^30 ns, about 1.07 s, with the defaults): a
 * flow goes once last_seen + timeout falls before the start of the tick holding `now`,
 * so up to one tick after its timeout. A deadline past 2^64 - 1 never comes.
 *
 * Full table. A new flow takes a free slot among the 16 its hash may use; when they are
 * all taken (or every record is), the default policy evicts the least recently seen of
 * the flows in those 16 slots that never saw a packet in both directions (scans, SYNs,
 * unanswered requests), or if there is none the least recently seen of them all; the
 * other policy refuses the new flow. Once more than `new_flow_rate` flows were created in
 * the current second, new flows may only displace one-way flows, so a SYN flood cannot
 * flush live connections: at most `new_flow_rate` of them per second, and only where no
 * one-way flow could go instead. "Least recently seen" is judged on a coarse clock kept
 * in the buckets: 2^15 ticks span twice the longest timeout (33.5 ms ticks with the
 * default 300 s). A packet whose flow could not be created is still returned (with handle
 * PFSE_FLOW_NONE) and counted; nothing blocks. The hash is keyed with the table's seed,
 * random per table unless PFSE_FT_F_FIXED_SEED, and a lookup probes at most 16 slots
 * whatever the keys.
 *
 * @note One thread at a time per table; use one table per data-path thread. A handle is
 *       valid until its flow is deleted, expired or evicted; the record, and so the
 *       handle, may then serve another flow. Within one update call no flow returned for
 *       a packet is evicted by a later packet of the same burst.
 */
#ifndef PFSE_FLOW_TABLE_H
#define PFSE_FLOW_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pfse/common.h>
#include <pfse/flow_key.h>
#include <pfse/parse.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup flow_table Flow table
 * @{ */

/** Handle value meaning "no flow". */
#define PFSE_FLOW_NONE 0xffffffffu

/** Largest capacity a table accepts (handles are 32-bit, with room to spare). */
#define PFSE_FT_CAPACITY_MAX (1u << 28)
/** Largest series length W. */
#define PFSE_FT_SERIES_MAX 64u
/** Largest predictor slot, in bytes. */
#define PFSE_FT_SLOT_MAX 512u

/** @name Table flags (struct pfse_flow_table_params::flags)
 * @{ */
/** Hash with params `seed` instead of a random one (instances that must agree). */
#define PFSE_FT_F_FIXED_SEED (1u << 0)
/** Keep no series (W = 0): for online models that need only the closing sample. */
#define PFSE_FT_F_NO_SERIES (1u << 1)
/** Take each packet's hash (pfse_pkt::hash, with PFSE_PKT_F_HASH) instead of hashing its
 * key again: the packets come from a parser made with PFSE_PARSE_F_HASH |
 * PFSE_PARSE_F_FIXED_SEED and this table's `seed` (requires PFSE_FT_F_FIXED_SEED). The
 * first packet with a hash in each burst is checked: if its hash is not the table's, the
 * burst is hashed by the table and counted (pfse_flow_table_stats::hash_mismatch). A
 * wrong hash on another packet costs that packet its flow (it is looked up, or created,
 * where its hash points), never memory safety. (since 0.2) */
#define PFSE_FT_F_PKT_HASH (1u << 2)
/** @} */

/** @name Eviction policies (struct pfse_flow_table_params::eviction)
 * @{ */
/** A full table evicts the least recently seen flow among the probed slots (default). */
#define PFSE_FT_EVICT_LRU 0u
/** A full table refuses new flows. */
#define PFSE_FT_EVICT_REFUSE 1u
/** @} */

/** @name Why a flow left the table (the `cause` of a pfse_flow_remove_fn)
 * @{ */
#define PFSE_FT_REMOVED_EXPIRED 1u /**< idle past its timeout (pfse_flow_table_expire()) */
#define PFSE_FT_REMOVED_EVICTED 2u /**< displaced by a new flow in a full table */
/** @} */

/** @name Timeout kinds (struct pfse_flow_info::timeout_kind)
 * @{ */
#define PFSE_FT_TIMEOUT_TCP 0u
#define PFSE_FT_TIMEOUT_TCP_CLOSING 1u
#define PFSE_FT_TIMEOUT_UDP 2u
#define PFSE_FT_TIMEOUT_OTHER 3u
/** @} */

struct pfse_flow_table;

/**
 * Called with a flow that is leaving the table, before its slot is reused. The flow's
 * accessors (pfse_flow_table_info(), _series(), _slot()) work during the call; the
 * callback must not otherwise modify the table.
 *
 * @param t     The table.
 * @param flow  The leaving flow's handle.
 * @param cause PFSE_FT_REMOVED_EXPIRED or PFSE_FT_REMOVED_EVICTED.
 * @param user  The `user` given with the callback.
 */
typedef void (*pfse_flow_remove_fn)(struct pfse_flow_table *t, uint32_t flow, uint32_t cause,
				    void *user);

/** Table parameters. Prepare with pfse_flow_table_params_init(); zero means default. */
struct pfse_flow_table_params {
	size_t size;                 /**< sizeof(struct pfse_flow_table_params), set by _init */
	uint32_t capacity;           /**< most flows held; 0 = 65536; max PFSE_FT_CAPACITY_MAX */
	uint32_t flags;              /**< PFSE_FT_F_* */
	uint64_t interval_ns;        /**< sampling interval; 0 = 100 ms; min 1 ms, max 1 h */
	uint32_t series_len;         /**< W; 0 = 8 (PFSE_FT_F_NO_SERIES for none); max 64 */
	uint32_t slot_size;          /**< predictor slot bytes; 0 = 64; rounded up to 8; max 512 */
	uint64_t timeout_tcp_ns;     /**< idle timeout of TCP flows; 0 = 300 s */
	uint64_t timeout_tcp_closing_ns; /**< after a FIN or RST; 0 = 10 s */
	uint64_t timeout_udp_ns;     /**< 0 = 30 s */
	uint64_t timeout_other_ns;   /**< 0 = 30 s */
	uint32_t eviction;           /**< PFSE_FT_EVICT_*; default PFSE_FT_EVICT_LRU */
	uint32_t new_flow_rate;      /**< new flows per second before flood mode; 0 = capacity / 4,
					  UINT32_MAX = never */
	uint64_t seed;               /**< hash seed, used with PFSE_FT_F_FIXED_SEED */
	pfse_flow_remove_fn on_evict; /**< called for each evicted flow, or NULL */
	void *on_evict_user;         /**< last argument of `on_evict` */
	struct pfse_allocator allocator; /**< zero = malloc/free */
};

/**
 * Prepares `p` with every field at its default: zeroes the whole struct, padding
 * included, and sets `size`.
 * @param p Params to prepare.
 * @since 0.2
 */
static inline void
pfse_flow_table_params_init(struct pfse_flow_table_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
}

/** Per-burst results of pfse_flow_table_update_burst(): bit i is packet i. */
struct pfse_flow_masks {
	uint64_t tracked; /**< the packet has a flow (its handle is valid) */
	uint64_t created; /**< the packet created its flow */
	uint64_t samples; /**< the packet closed at least one interval of its flow */
	uint64_t evicted; /**< creating the packet's flow evicted another flow */
};

/** The shunt directive stored with a flow (its meaning is given by the policy). */
struct pfse_directive {
	uint8_t tier;     /**< tier index; PFSE_TIER_NONE when no directive was set */
	uint8_t reason;   /**< reason code of the policy that set it */
	uint16_t node;    /**< node index, or PFSE_NODE_ANY */
	uint32_t reserved; /**< zero */
	uint64_t since;   /**< start of the interval in which it was set (ns); 0 when none
			       was (tier PFSE_TIER_NONE and reason 0) */
};

/** No tier chosen yet. */
#define PFSE_TIER_NONE 0xffu
/** Any node of the tier. */
#define PFSE_NODE_ANY 0xffffu

/** A copy of a flow's record. Set `size` (pfse_flow_info_init()) before the call. */
struct pfse_flow_info {
	size_t size;               /**< sizeof(struct pfse_flow_info), set by the caller */
	struct pfse_flow_key key;  /**< the flow's key */
	uint64_t packets[2];       /**< packets seen: [0] key.src -> key.dst, [1] reverse */
	uint64_t bytes[2];         /**< bytes (wire length) seen, by direction */
	uint64_t first_seen;       /**< timestamp of the first packet (ns) */
	uint64_t last_seen;        /**< timestamp of the latest packet (ns) */
	uint64_t cookie;           /**< the application's cookie (0 at creation) */
	uint64_t interval;         /**< index of the open interval (time / interval_ns) */
	uint64_t open_bytes;       /**< bytes in the open interval */
	uint64_t open_packets;     /**< packets in the open interval */
	uint32_t class_id;         /**< class id (0 at creation) */
	uint32_t series_count;     /**< closed intervals in the series (at most W) */
	uint8_t tcp_flags;         /**< OR of the TCP flags seen */
	uint8_t timeout_kind;      /**< PFSE_FT_TIMEOUT_* */
	uint8_t bidirectional;     /**< 1 once packets were seen in both directions */
	uint8_t reserved[5];       /**< zero */
	struct pfse_directive directive; /**< the current directive */
};

/**
 * Prepares an info struct for pfse_flow_table_info().
 * @param info Struct to prepare.
 * @since 0.2
 */
static inline void
pfse_flow_info_init(struct pfse_flow_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
}

/** Table counters. Set `size` (pfse_flow_table_stats_init()) before the call. */
struct pfse_flow_table_stats {
	size_t size;              /**< sizeof(struct pfse_flow_table_stats), set by the caller */
	uint64_t flows;           /**< flows in the table now */
	uint64_t capacity;        /**< the table's capacity */
	uint64_t packets;         /**< packets given to update */
	uint64_t untracked;       /**< of those, without a flow (unparsed, refused) */
	uint64_t unparsed;        /**< of those, with a parse status other than OK */
	uint64_t created;         /**< flows created */
	uint64_t evicted;         /**< flows evicted by new ones */
	uint64_t refused_full;    /**< new flows refused: probed slots full (REFUSE policy) */
	uint64_t refused_flood;   /**< new flows refused: flood mode, no displaceable flow */
	uint64_t flood_packets;   /**< new-flow packets that arrived in flood mode */
	uint64_t expired;         /**< flows removed by pfse_flow_table_expire() */
	uint64_t deleted;         /**< flows removed by pfse_flow_table_delete() */
	uint64_t samples;         /**< interval samples closed (zero samples included) */
	uint64_t clamped;         /**< packets whose timestamp went backwards */
	uint64_t hash_mismatch;   /**< bursts whose packets' hashes were not the table's
				       (PFSE_FT_F_PKT_HASH), hashed by the table instead */
};

/**
 * Prepares a stats struct for pfse_flow_table_stats().
 * @param s Struct to prepare.
 * @since 0.2
 */
static inline void
pfse_flow_table_stats_init(struct pfse_flow_table_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
}

/**
 * Reports the memory a table created from `p` allocates (all of it, at create).
 *
 * @param p   Parameters, validated as pfse_flow_table_create() does.
 * @param out Receives the size in bytes.
 * @return 0, or `-EINVAL` for params pfse_flow_table_create() would refuse.
 * @note Thread-safe.
 * @since 0.2
 */
PFSE_API int
pfse_flow_table_memsize(const struct pfse_flow_table_params *p, size_t *out);

/**
 * Creates a table.
 *
 * @param p   Parameters.
 * @param out Receives the table.
 * @return 0; `-EINVAL` for NULL arguments, a bad `size`, unknown flags or eviction
 *         policy, values out of range, one allocator hook without the other, or non-zero
 *         bytes past the known fields; `-ENOMEM`; or pfse_random_seed()'s error.
 * @note Thread-safe.
 * @since 0.2
 */
PFSE_API int
pfse_flow_table_create(const struct pfse_flow_table_params *p, struct pfse_flow_table **out);

/**
 * Destroys a table. NULL is accepted and ignored.
 * @param t Table, or NULL.
 * @since 0.2
 */
PFSE_API void
pfse_flow_table_destroy(struct pfse_flow_table *t);

/**
 * Looks up or creates the flow of each packet and updates its counters, TCP flags and
 * interval accumulators, with the packet's `ts`, `wirelen` (caplen when 0), `key`,
 * `tcp_flags` and PFSE_PKT_F_REVERSE flag. Packets whose parse status is not
 * PFSE_PARSE_OK are not tracked. All buckets of the burst are prefetched before any is
 * read.
 *
 * @param t     Table.
 * @param pkts  `n` parsed packets.
 * @param n     0 to PFSE_BURST_MAX.
 * @param flows Receives each packet's flow handle, or PFSE_FLOW_NONE.
 * @param masks Receives the per-packet result bits (may be NULL).
 * @return The number of packets tracked, or `-EINVAL` if `t`, `flows` or `pkts` (with
 *         n > 0) or any `pkts[i]` is NULL, or n > PFSE_BURST_MAX; then nothing changed.
 * @note No allocation, lock or system call. The table's on_evict callback may run.
 * @since 0.2
 */
PFSE_API int
pfse_flow_table_update_burst(struct pfse_flow_table *t, struct pfse_pkt *const pkts[],
			     unsigned n, uint32_t flows[], struct pfse_flow_masks *masks);

/**
 * Looks up keys without creating or updating anything.
 *
 * @param t        Table.
 * @param keys     `n` keys.
 * @param n        0 to PFSE_BURST_MAX.
 * @param flows    Receives each key's flow handle, or PFSE_FLOW_NONE.
 * @param hit_mask Receives bit i set when key i was found (may be NULL).
 * @return The number of keys found, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_flow_table_lookup_burst(struct pfse_flow_table *t, const struct pfse_flow_key keys[],
			     unsigned n, uint32_t flows[], uint64_t *hit_mask);

/**
 * Removes a flow (no callback runs).
 * @param t    Table.
 * @param flow Handle of a flow in the table.
 * @return 0, `-ENOENT` if no flow has that handle, or `-EINVAL` if `t` is NULL.
 * @since 0.2
 */
PFSE_API int
pfse_flow_table_delete(struct pfse_flow_table *t, uint32_t flow);

/**
 * Removes flows idle past their timeout at `now`: at most `budget` flows, each handed to
 * `cb` (if not NULL) before it is removed. Call it regularly (for example once per burst
 * or per millisecond); work per call is bounded by `budget` plus the timing-wheel slots
 * that `now` crossed since the previous call.
 *
 * @param t      Table.
 * @param now    The caller's time (ns); earlier than the latest time seen is clamped.
 * @param budget Most flows to remove in this call; 0 removes none.
 * @param cb     Callback with cause PFSE_FT_REMOVED_EXPIRED, or NULL.
 * @param user   Last argument of `cb`.
 * @return The number of flows removed, or `-EINVAL` if `t` is NULL.
 * @since 0.2
 */
PFSE_API int
pfse_flow_table_expire(struct pfse_flow_table *t, uint64_t now, unsigned budget,
		       pfse_flow_remove_fn cb, void *user);

/**
 * Iterates over the flows: set `*iter` to 0, then call until `-ENOENT`. Deleting the
 * flow just returned is allowed; flows created during the iteration may be missed.
 *
 * @param t    Table.
 * @param iter Cursor, 0 to start.
 * @param flow Receives the next flow's handle.
 * @return 0, `-ENOENT` at the end, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_flow_table_next(struct pfse_flow_table *t, uint32_t *iter, uint32_t *flow);

/**
 * Copies a flow's record.
 * @param t    Table.
 * @param flow Flow handle.
 * @param info Destination; its `size` says how much of it the caller knows.
 * @return 0, `-ENOENT` for a handle without a flow, `-EINVAL` for NULL or a bad `size`.
 * @since 0.2
 */
PFSE_API int
pfse_flow_table_info(struct pfse_flow_table *t, uint32_t flow, struct pfse_flow_info *info);

/**
 * Copies a flow's closed-interval series, oldest first (the most recent `max` of them).
 * @param t       Table.
 * @param flow    Flow handle.
 * @param max     Room in the output arrays.
 * @param bytes   Receives bytes per interval (may be NULL).
 * @param packets Receives packets per interval (may be NULL, but not both when max > 0).
 * @return The number of samples copied, `-ENOENT`, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_flow_table_series(struct pfse_flow_table *t, uint32_t flow, unsigned max,
		       uint64_t bytes[], uint64_t packets[]);

/**
 * Returns the flow's predictor slot: `slot_size` bytes, zero when the flow is created,
 * owned by the caller's predictor, valid until the flow leaves the table.
 * @param t    Table.
 * @param flow Flow handle.
 * @return The slot, or NULL for a bad handle or NULL `t`.
 * @since 0.2
 */
PFSE_API void *
pfse_flow_table_slot(struct pfse_flow_table *t, uint32_t flow);

/**
 * Sets the flow's application cookie.
 * @return 0, `-ENOENT`, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_flow_table_set_cookie(struct pfse_flow_table *t, uint32_t flow, uint64_t cookie);

/**
 * Sets the flow's class id.
 * @return 0, `-ENOENT`, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_flow_table_set_class(struct pfse_flow_table *t, uint32_t flow, uint32_t class_id);

/**
 * Sets the flow's directive. `d->since` is kept at interval resolution (rounded down to
 * its interval), and clamped to lie between the flow's first interval and 2^32 - 1
 * intervals after it.
 * @return 0, `-ENOENT`, or `-EINVAL` (NULL, or non-zero `reserved`).
 * @since 0.2
 */
PFSE_API int
pfse_flow_table_set_directive(struct pfse_flow_table *t, uint32_t flow,
			      const struct pfse_directive *d);

/**
 * Copies the table's counters.
 * @param t Table.
 * @param s Destination; its `size` says how much of it the caller knows.
 * @return 0, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_flow_table_stats(struct pfse_flow_table *t, struct pfse_flow_table_stats *s);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PFSE_FLOW_TABLE_H */
