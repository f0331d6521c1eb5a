/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file engine.h
 * @brief The engine: from a burst of parsed packets to shunt decisions and to the
 * application's forwarding callbacks, re-deciding as flows and nodes change.
 *
 * One engine per data-path thread. It owns a flow table, a class history, a set of
 * forecasting backends with an automatic per-class choice, interval calibrators and a
 * complexity model, and uses a shared cluster (nodes, health) and policy.
 *
 * Per packet (pfse_engine_classify()): the flow is found or created; the packet gets the
 * flow's directive's tier and node. A new flow is classified (pfse_history_classify()),
 * starts from its class's prior, and gets its first directive from that prior, so an
 * elephant class's flow is shunted on its first packet. A flow's node is chosen in its
 * tier by the cluster's Maglev table on its first packet there and kept (affinity) while
 * the node is UP or DRAINING; a packet never goes to a node that was DOWN when its burst
 * began: its flow moves at once (reroute, cause health), to a node of the tier with room
 * for its forecast (see overload below), or the Maglev table's if none has. A flow the
 * table could not take gets a stateless decision: the standard tier by consistent
 * hashing, or the local path.
 *
 * When a flow's interval closes (its first packet after the boundary), the closed
 * sample and the silent intervals since (at most 64 of them) go to its backend; the
 * forecast h intervals ahead (or the interval that just closed, when it is larger: a
 * level forecast lags a ramp, and a forecast should never make the engine slower than
 * measuring), the rewrite complexity, the criticality (class priority raised by forecast
 * growth), the anomaly flag (a sample outside the model's 99% interval; not one above it
 * in a flow whose P(elephant) reaches the policy's p_elephant_enter: growth is what an
 * elephant does) and P(elephant) given the flow's bytes so far (its class's history, a
 * Kaplan-Meier estimate over size octaves in which live flows count as still running and
 * a reset, or a FIN each way, as an end) go to the policy, whose directive is then
 * checked against the tier's capacity budget (the forecasts of the flows admitted
 * to a tier stay under capacity x target_util x budget_share; the flows of least value,
 * (1 + criticality) x forecast x (1 + 15 P(elephant)), are kept out first). All model
 * work happens then, never per packet, but for one check: the packet that takes a flow
 * off the high-performance tier into a new octave of size (2^j bytes) at or past its
 * class's shunting size (where P(elephant) reaches the policy's p_elephant_enter, found
 * in the same pass as the estimate) has the flow re-decided at once, so an elephant is
 * shunted when it becomes recognisable, not when its interval closes. A TCP RST, or a
 * FIN each way (one FIN is a half-close), ends the flow but for its last packets, though
 * the table keeps it for its closing timeout: its forecast becomes 0 (it no longer counts
 * against its tier's budget or its node's load), the policy is not asked about it again
 * (its last packets follow its directive, unless a budget or overload move takes it,
 * which costs nothing) and its class's history counts it as ended; a
 * SYN (the 5-tuple reused) or an interval of more than 64 KiB after it (a stray RST)
 * makes it live again.
 *
 * pfse_engine_advance() does the time-driven work: flows idle past their timeout end
 * (history and selector learn from them); flows that went quiet get their silent
 * intervals observed and are re-decided; nodes whose forecast load (the sum of the
 * forecasts of the flows on them, over all engines) has exceeded capacity x
 * overload_util for the policy's dwell time shed their least valuable flows to other
 * nodes of the tier until this engine's share of the excess (its part of the node's
 * load) has left (where other engines have load on the node, a flow moves only if that
 * brings the node's forecast closer to the limit, until it has been over for twice the
 * dwell), each to a node that stays within capacity x overload_util with it (counting
 * the moves before it), at most `flip_budget` moves per call (a shorter overload passes
 * by itself); tiers over
 * budget demote their least valuable flows until back under it (and those of no
 * forecast load below the cut, whatever the excess); backends are refitted from the
 * series of recently ended flows every `refit_ns`: by advance() itself (a fit of the
 * default backends on 1024 series took 3.2 ms in `pfse-bench --case refit`, median of
 * 29, the first 9.7 ms, the others at most 6.7: the packet path waits for it), or, with
 * PFSE_ENGINE_F_REFIT_ASYNC, by pfse_engine_refit() on a thread of the application's, off
 * the packet path. Refits start from the parameters in place (PFSE_FIT_F_WARM), the first
 * and every 8th from a grid of starts as well (counted in pfse_engine_stats::refits_grid;
 * an asynchronous refit set aside and replaced before it ran does not count).
 *
 * pfse_engine_process() does what the pseudocode of the concept does with each packet:
 * a flow shunted to a tier with nodes goes to `forward(pkt, node)`; any other goes to
 * `rewrite(pkt, flow)`, whose return value (rules applied) is the flow's complexity
 * sample, then to `transmit(pkt)`. Unparsed packets go to `transmit` alone.
 *
 * Time is the caller's: each packet's `ts` and `advance()`'s `now` (ns, monotonic per
 * engine; an earlier time is treated as the latest seen).
 *
 * @note One thread at a time per engine; use one engine per data-path thread. The
 *       callbacks run on the thread calling pfse_engine_process(), and must not call the
 *       engine back. The cluster's control functions may run concurrently on other
 *       threads, and so may pfse_engine_refit() (one call at a time per engine).
 */
#ifndef PFSE_ENGINE_H
#define PFSE_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pfse/common.h>
#include <pfse/flow_table.h>
#include <pfse/history.h>
#include <pfse/parse.h>
#include <pfse/predict.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup engine Engine
 * @{ */

struct pfse_cluster;
struct pfse_policy;

/** @name Decision actions (struct pfse_decision::action)
 * @{ */
#define PFSE_ACT_TRANSMIT 0u /**< the local path: rewrite, then transmit */
#define PFSE_ACT_FORWARD 1u  /**< forward to `node` */
#define PFSE_ACT_UNPARSED 2u /**< not parsed: transmit as is */
/** @} */

/** What to do with one packet (pfse_engine_classify()). 8 bytes. */
struct pfse_decision {
	uint32_t flow;    /**< its flow, or PFSE_FLOW_NONE (unparsed, or not tracked) */
	uint16_t node;    /**< node index with PFSE_ACT_FORWARD, else PFSE_NODE_ANY */
	uint8_t tier;     /**< the tier of the decision, or PFSE_TIER_NONE (local path) */
	uint8_t action;   /**< PFSE_ACT_* */
};

/**
 * The application's packet path. Prepare with pfse_io_ops_init() (or set `size`).
 * Callbacks run on the thread calling pfse_engine_process() and must not re-enter the
 * engine.
 */
struct pfse_io_ops {
	size_t size; /**< sizeof(struct pfse_io_ops) */
	/** Sends a packet to a node (`node_user` is the node's pfse_node_params::user). */
	void (*forward)(struct pfse_pkt *pkt, uint32_t node, void *node_user, void *user);
	/** Applies the standard path's rewrite rules to a packet of `flow` (PFSE_FLOW_NONE
	 * for an untracked one); returns the number of rules applied. May be NULL. */
	uint32_t (*rewrite)(struct pfse_pkt *pkt, uint32_t flow, void *user);
	/** Sends a packet on the standard path. */
	void (*transmit)(struct pfse_pkt *pkt, void *user);
};

/**
 * Prepares io ops (all NULL).
 * @param io Ops to prepare.
 * @since 0.2
 */
static inline void
pfse_io_ops_init(struct pfse_io_ops *io)
{
	memset(io, 0, sizeof(*io));
	io->size = sizeof(*io);
}

/** A candidate forecasting backend of an engine. */
struct pfse_engine_backend {
	const struct pfse_predictor_ops *ops;  /**< the backend */
	const struct pfse_model_params *model; /**< its initial parameters, or NULL */
};

/** Most candidate backends of an engine. */
#define PFSE_ENGINE_BACKENDS_MAX 8u

/** Engine parameters. Prepare with pfse_engine_params_init(); zero means default. */
struct pfse_engine_params {
	size_t size;                        /**< set by pfse_engine_params_init() */
	struct pfse_cluster *cluster;       /**< required; outlives the engine */
	const struct pfse_policy *policy;   /**< required; outlives the engine */
	const struct pfse_io_ops *io;       /**< callbacks for process(), or NULL (copied) */
	void *user;                         /**< last argument of every callback */
	const struct pfse_flow_table_params *table; /**< the flow table's (capacity, interval,
						       timeouts, W, seed...), or NULL for the
						       defaults; its slot size, eviction
						       callback and allocator are the
						       engine's */
	const struct pfse_engine_backend *backends; /**< candidates, or NULL for the default
						       set: ses and damped holt on log(1 + x),
						       naive, damped holt */
	uint32_t nbackends;                 /**< 0 to PFSE_ENGINE_BACKENDS_MAX */
	uint32_t horizon;                   /**< intervals ahead the policy looks; 0 = 5 */
	uint32_t max_classes;               /**< history classes; 0 = 1024 */
	uint32_t sample_every;              /**< shadow 1 flow in N for the choice; 0 = 16 */
	pfse_classify_fn classify;          /**< the application's classifier, or NULL */
	void *classify_user;                /**< last argument of `classify` */
	uint64_t elephant_bytes;            /**< 0 = 1 MiB */
	uint64_t refit_ns;                  /**< refit period; 0 = 10 s; UINT64_MAX = never */
	uint32_t flip_budget;               /**< moves per advance() call; 0 = 64 */
	uint32_t scan_budget;               /**< flows advance() visits per call; 0 = 1024 */
	double overload_util;               /**< a node is overloaded above this fraction of
					         its capacity; 0 = 1.0 */
	double budget_share;                /**< this engine's share of each tier's budget;
					         0 = 1 (one engine); with N engines, 1 / N */
	double crit_gain;                   /**< criticality per doubling of the forecast;
					         0 = 1 */
	struct pfse_allocator allocator;    /**< zero = malloc/free */
	uint32_t flags;                     /**< PFSE_ENGINE_F_* (since 0.2) */
	uint32_t reserved;                  /**< zero (the next field's room) */
};

/** @name Engine flags (struct pfse_engine_params::flags)
 * @{ */
/** Refits run off the packet path: when one is due, advance() copies the series aside
 * (no fit, no allocation) and pfse_engine_refit(), called on any thread, fits on them;
 * the next advance() after it puts the new parameters in place. Built-in backends only:
 * an application backend's `fit` is not called in this mode. */
#define PFSE_ENGINE_F_REFIT_ASYNC (1u << 0)
/** @} */

/**
 * Prepares engine params with every field at its default.
 * @param p Params to prepare.
 * @since 0.2
 */
static inline void
pfse_engine_params_init(struct pfse_engine_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
}

/** A flow as the engine sees it (pfse_engine_flow_info()). Set `size` before the call. */
struct pfse_engine_flow_info {
	size_t size;             /**< sizeof(struct pfse_engine_flow_info), set by the caller */
	struct pfse_directive directive; /**< tier, node, reason and when it was set */
	double bw;               /**< forecast bytes per second, `horizon` intervals ahead */
	double bw_hi;            /**< upper bound of its 95% interval (calibrated) */
	double complexity;       /**< forecast rewrite rules per packet */
	double criticality;      /**< criticality */
	uint64_t samples;        /**< closed intervals observed */
	uint64_t complexity_samples; /**< intervals with a complexity sample */
	uint32_t class_id;       /**< history class slot */
	uint32_t backend;        /**< candidate index its forecasts come from */
	uint32_t anomalies;      /**< samples flagged as anomalies */
	uint32_t reserved;       /**< zero */
};

/** An engine's counters (pfse_engine_stats()). Set `size` before the call. */
struct pfse_engine_stats {
	size_t size;               /**< sizeof(struct pfse_engine_stats), set by the caller */
	uint64_t packets;          /**< packets classified */
	uint64_t bytes;            /**< their bytes */
	uint64_t unparsed;         /**< packets whose parse status was not OK */
	uint64_t untracked;        /**< parsed packets the table could not take */
	uint64_t forwarded;        /**< decisions PFSE_ACT_FORWARD */
	uint64_t local;            /**< decisions PFSE_ACT_TRANSMIT */
	uint64_t flows_created;    /**< flows created */
	uint64_t flows_ended;      /**< flows expired or evicted */
	uint64_t samples;          /**< closed-interval samples observed */
	uint64_t anomalies;        /**< of which anomalies */
	uint64_t directive_changes; /**< directives changed (tier or reason) */
	uint64_t reroute_health;   /**< flows moved off a node no longer usable */
	uint64_t reroute_overload; /**< flows moved off a node predicted to overload */
	uint64_t budget_demotions; /**< flows kept out of or demoted from a full tier */
	uint64_t no_node;          /**< packets whose tier had no usable node (local path) */
	uint64_t refits;           /**< backend refits */
	uint64_t tier_packets[16]; /**< packets per tier */
	uint64_t tier_bytes[16];   /**< bytes per tier */
	uint64_t local_bytes;      /**< bytes on the local path */
	uint64_t refits_grid;      /**< of `refits`, those that searched the built-ins' grid
				    *   of starts too: the first refit and every 8th; the others
				    *   start from the parameters in place (PFSE_FIT_F_WARM) */
};

struct pfse_engine;

/**
 * Creates an engine (all memory allocated here) and registers it with the cluster.
 * @return 0; `-EINVAL` (bad params); `-ENOSPC` (PFSE_CLUSTER_ENGINES_MAX engines on the
 *         cluster); `-ENOMEM`; or a backend's or the table's error.
 * @since 0.2
 */
PFSE_API int
pfse_engine_create(const struct pfse_engine_params *p, struct pfse_engine **out);

/**
 * Destroys an engine. NULL is accepted and ignored.
 * @since 0.2
 */
PFSE_API void
pfse_engine_destroy(struct pfse_engine *e);

/**
 * Decides a burst of parsed packets, without calling back.
 * @param e    Engine.
 * @param pkts `n` packets, parsed (pfse_parse_burst()), with `ts` set.
 * @param n    0 to PFSE_BURST_MAX.
 * @param out  Receives one decision per packet.
 * @return n, or `-EINVAL` (nothing done).
 * @note No allocation, lock or system call.
 * @since 0.2
 */
PFSE_API int
pfse_engine_classify(struct pfse_engine *e, struct pfse_pkt *const pkts[], unsigned n,
		     struct pfse_decision out[]);

/**
 * Decides a burst and hands each packet to the callbacks (see above).
 * @return n; `-EINVAL`; `-ENOTSUP` without `forward` and `transmit` callbacks.
 * @since 0.2
 */
PFSE_API int
pfse_engine_process(struct pfse_engine *e, struct pfse_pkt *const pkts[], unsigned n);

/**
 * Time-driven work up to `now` (see above); call it regularly, for example every
 * millisecond or every few bursts.
 * @param e      Engine.
 * @param now    The caller's time, ns.
 * @param budget Most flows to expire in this call (0 = 1024).
 * @return The number of flows expired, moved or re-decided, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_engine_advance(struct pfse_engine *e, uint64_t now, unsigned budget);

/**
 * Pins a flow to a node (its directive: the node's tier, reason PFSE_REASON_PINNED) until
 * pfse_engine_unpin(). A pinned flow whose node goes DOWN is sent to another node of the
 * tier while it is down (reroute, cause health), and back once it is UP.
 * @return 0, `-ENOENT` (no such flow), or `-EINVAL` (unknown node).
 * @since 0.2
 */
PFSE_API int
pfse_engine_pin(struct pfse_engine *e, uint32_t flow, uint32_t node);

/**
 * Unpins a flow: its next decision is the policy's.
 * @return 0, `-ENOENT`, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_engine_unpin(struct pfse_engine *e, uint32_t flow);

/**
 * A flow's directive, forecast and model (why it is where it is).
 * @return 0, `-ENOENT`, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_engine_flow_info(struct pfse_engine *e, uint32_t flow, struct pfse_engine_flow_info *out);

/**
 * Packets and bytes the engine sent to a node.
 * @return 0 or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_engine_node_stats(struct pfse_engine *e, uint32_t node, uint64_t *packets,
		       uint64_t *bytes);

/**
 * The engine's counters.
 * @return 0 or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_engine_stats(struct pfse_engine *e, struct pfse_engine_stats *out);

/**
 * The engine's flow table (for pfse_flow_table_info(), _next(), _series()), to be used on
 * the engine's thread only. Each flow's class id there is its class slot in the engine's
 * history (set by the engine when its policy uses P(elephant)); the engine's own calls
 * (directives, pins) are the way to change a flow, not the table's setters.
 * @since 0.2
 */
PFSE_API struct pfse_flow_table *
pfse_engine_table(struct pfse_engine *e);

/**
 * The engine's class history (to merge into another, or save), to be used on the
 * engine's thread only, between bursts.
 * @since 0.2
 */
PFSE_API struct pfse_history *
pfse_engine_history(struct pfse_engine *e);

/**
 * Fits the engine's built-in backends on the series advance() set aside (engines created
 * with PFSE_ENGINE_F_REFIT_ASYNC), on the calling thread: the fit (GSL's, 3.2 ms for
 * the default backends in `pfse-bench --case refit`) runs here, not on the packet path.
 * It may run while the engine's thread calls classify(), process() and advance(); the
 * engine's next advance() puts the new parameters in place. The fits start from the
 * parameters in place when the series were set aside, so they give what advance() would
 * have fitted itself. One call at a time per engine fits (another one at the same time
 * returns 0), and never during pfse_engine_destroy().
 * @param e Engine.
 * @return 1 if it fitted (or tried to: a backend whose fit fails keeps its parameters),
 *         0 if there was nothing to fit (no refit due since the last, or one not yet put
 *         in place), `-EINVAL` for NULL or an engine without PFSE_ENGINE_F_REFIT_ASYNC.
 * @note Allocates nothing.
 * @since 0.2
 */
PFSE_API int
pfse_engine_refit(struct pfse_engine *e);

/**
 * A candidate backend's model parameters as they are now (its initial ones, as refitted
 * since), for a snapshot (pfse_snapshot_put_model()) or to look at; on the engine's
 * thread.
 * @param e       Engine.
 * @param backend Candidate index (pfse_engine_flow_info::backend), below the engine's
 *                number of candidates.
 * @param out     Receives them; set its `size` first (pfse_model_params_init()).
 * @return 0, or `-EINVAL` (NULL, an index out of range, a bad `size`).
 * @since 0.2
 */
PFSE_API int
pfse_engine_model_params(struct pfse_engine *e, uint32_t backend,
			 struct pfse_model_params *out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PFSE_ENGINE_H */
