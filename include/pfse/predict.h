/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file predict.h
 * @brief Forecasting backends: one flow's series of closed-interval samples in, a forecast
 * h intervals ahead with a prediction interval out.
 *
 * A predictor is a backend (a struct pfse_predictor_ops: built in, or the
 * application's own) with its model parameters. Per flow it keeps a fixed-size state that
 * the caller stores where it likes (typically the flow table's predictor slot,
 * pfse_flow_table_slot()): pfse_predictor_flow_init() starts it from a prior, then each
 * closed interval's sample goes to pfse_predictor_observe(), and
 * pfse_predictor_forecast() gives the forecast at any time. Per-flow work is plain
 * arithmetic on that state: no allocation, no lock, no system call.
 *
 * Samples. A sample is a finite number >= 0 (bytes per interval, rules per packet, a
 * priority). NaN and infinities are rejected with `-EINVAL` and leave the state as it
 * was; negative samples are clamped to 0 and samples above PFSE_SAMPLE_MAX to it. A
 * forecast is never NaN: a model whose arithmetic overflows is reported as `-ERANGE`
 * and the flow's state restarts at that sample (level x, no trend, the error variance
 * kept).
 *
 * Intervals. The state keeps the mean squared one-step error; a forecast's interval is
 * mean +- z * sd, with sd from the model (for example sigma^2 (1 + (h - 1) alpha^2) for
 * SES) and z the normal quantile of the level asked for. With PFSE_MODEL_F_LOG1P the
 * model runs on log(1 + x) and mean, lo and hi are transformed back with exp(y) - 1 (the
 * mean is then the median of the forecast).
 *
 * Anomaly. pfse_predictor_observe() reports whether the sample fell outside the interval
 * of the one-step forecast made from the state before it (at the predictor's
 * `anomaly_level`), once the model is past its warm-up (3 samples; 2 seasons for
 * holt-winters).
 *
 * @note A predictor is read-only after create (pfse_predictor_fit() excepted): any number
 *       of threads may use one predictor at once on different flow states. fit() must
 *       not run concurrently with other calls on the same predictor.
 */
#ifndef PFSE_PREDICT_H
#define PFSE_PREDICT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pfse/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup predict Forecasting
 * @{ */

/** Largest sample value; larger ones are clamped to it. */
#define PFSE_SAMPLE_MAX 1e15

/** Largest forecast horizon, in intervals. */
#define PFSE_HORIZON_MAX 1024u

/** A forecast of the sample h intervals ahead. */
struct pfse_forecast {
	double mean;     /**< point forecast, in [0, PFSE_SAMPLE_MAX] like samples */
	double lo;       /**< lower bound of the prediction interval (>= 0) */
	double hi;       /**< upper bound (<= PFSE_SAMPLE_MAX) */
	double sd;       /**< model standard deviation of the error, in model units */
	uint32_t h;      /**< horizon, intervals ahead */
	uint32_t flags;  /**< PFSE_FORECAST_F_* */
};

/** @name Forecast flags
 * @{ */
/** Made from the prior alone: the flow has no sample yet. */
#define PFSE_FORECAST_F_PRIOR (1u << 0)
/** Fewer samples than the model needs to be settled (its warm-up). */
#define PFSE_FORECAST_F_WARMUP (1u << 1)
/** @} */

/** What a new flow is expected to do, from its class's history (pfse_prior_init()). */
struct pfse_prior {
	size_t size;        /**< sizeof(struct pfse_prior), set by pfse_prior_init() */
	double level;       /**< expected sample (for example bytes per interval) */
	double trend;       /**< expected change per interval */
	double variance;    /**< expected variance of the one-step error; 0 = unknown */
	double weight;      /**< how many samples the prior is worth in the error variance */
	const double *season; /**< holt-winters: `period` initial seasonal terms, or NULL */
};

/**
 * Prepares a prior: everything zero (a flow expected at 0, no trend, unknown variance).
 * @param p Prior to prepare.
 * @since 0.2
 */
static inline void
pfse_prior_init(struct pfse_prior *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
}

/** @name Model flags (struct pfse_model_params::flags)
 * @{ */
/** Holt: damped trend (with `phi`). */
#define PFSE_MODEL_F_DAMPED (1u << 0)
/** Model log(1 + x) instead of x. */
#define PFSE_MODEL_F_LOG1P (1u << 1)
/** @} */

/** Largest ARIMA orders. */
#define PFSE_ARIMA_P_MAX 3u
#define PFSE_ARIMA_D_MAX 2u
#define PFSE_ARIMA_Q_MAX 3u
/** Longest Holt-Winters season, in intervals. */
#define PFSE_SEASON_MAX 64u

/**
 * Parameters of the built-in models. Prepare with pfse_model_params_init(); zero means
 * default. Each backend reads the fields it uses:
 *  - naive: none.
 *  - ses: `alpha` (default 0.5).
 *  - holt: `alpha` (0.5), `beta` (0.1; the trend's smoothing, as statsmodels'
 *    smoothing_trend), `phi` (0.98, with PFSE_MODEL_F_DAMPED).
 *  - holt-winters (additive trend and season): `alpha`, `beta`, `gamma` (0.1),
 *    `period` (required, 2 to PFSE_SEASON_MAX).
 *  - arima: `p`, `d`, `q` (up to 3, 2, 3), `ar[]`, `ma[]`, `constant` (added to the
 *    differenced series' model: c + sum ar_i w_{t-i} + sum ma_j e_{t-j} + e_t).
 * Smoothing parameters must lie in (0, 1], phi in (0, 1]; AR and MA coefficients as
 * given (stationarity and invertibility are the fitter's business, and a model that
 * diverges ends in -ERANGE, not in NaN).
 */
struct pfse_model_params {
	size_t size;                  /**< sizeof(struct pfse_model_params), set by _init */
	uint32_t flags;               /**< PFSE_MODEL_F_* */
	uint32_t period;              /**< holt-winters season length */
	double alpha, beta, gamma, phi; /**< smoothing parameters */
	uint32_t p, d, q, reserved;   /**< ARIMA orders; reserved must be 0 */
	double ar[PFSE_ARIMA_P_MAX];  /**< AR coefficients */
	double ma[PFSE_ARIMA_Q_MAX];  /**< MA coefficients */
	double constant;              /**< ARIMA constant */
};

/**
 * Prepares model params with every field at its default.
 * @param p Params to prepare.
 * @since 0.2
 */
static inline void
pfse_model_params_init(struct pfse_model_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
}

/** Version of struct pfse_predictor_ops this header describes. */
#define PFSE_PREDICTOR_OPS_VERSION 1u

/**
 * A forecasting backend. Built-in ones come from pfse_predictor_backend(); an
 * application supplies its own as a `static const` struct with `version` set to
 * PFSE_PREDICTOR_OPS_VERSION. Slots added in later versions go at the end, and the
 * library calls them only for backends whose `version` has them.
 *
 * Every slot gets the backend's `model` (what `init` made) and, last, the predictor's
 * `user` pointer. Per-flow slots work on `state`, `state_size` bytes owned by the caller,
 * 8-byte aligned; they must not allocate. Slots return 0 or a negative errno.
 */
struct pfse_predictor_ops {
	uint32_t version;    /**< PFSE_PREDICTOR_OPS_VERSION */
	uint32_t state_size; /**< bytes of per-flow state */
	const char *name;    /**< short name, e.g. "holt" */
	/** Makes the model from params (may allocate; called by pfse_predictor_create()). */
	int (*init)(void **model, const struct pfse_model_params *p, void *user);
	/** Releases the model. */
	void (*fini)(void *model, void *user);
	/** Starts a flow's state from a prior (x values in model units). */
	int (*flow_init)(void *model, void *state, const struct pfse_prior *prior, void *user);
	/** Adds one sample (finite, >= 0 after any transform). */
	int (*observe)(void *model, void *state, double x, void *user);
	/** Point forecast and error variance, h >= 1 intervals ahead, in model units. */
	int (*forecast)(void *model, const void *state, unsigned h, double *mean, double *var,
			void *user);
	/** Optional (NULL): refits the model from series; see pfse_predictor_fit(). */
	int (*fit)(void *model, const double *const series[], const uint32_t lens[], unsigned n,
		   void *user);
};

/**
 * Looks up a built-in backend: "naive", "ses", "holt", "holt-winters", "arima" or "lstm"
 * (lstm.h: its predictor needs PFSE_MODEL_F_LOG1P, and takes its model as `user`).
 * @param name Backend name.
 * @return The backend, or NULL for an unknown name or NULL.
 * @note Thread-safe.
 * @since 0.2
 */
PFSE_API const struct pfse_predictor_ops *
pfse_predictor_backend(const char *name);

struct pfse_predictor;

/** Predictor parameters. Prepare with pfse_predictor_params_init(). */
struct pfse_predictor_params {
	size_t size;                           /**< set by pfse_predictor_params_init() */
	const struct pfse_predictor_ops *ops;  /**< backend (required) */
	const struct pfse_model_params *model; /**< its parameters; NULL = defaults */
	double anomaly_level;                  /**< interval level for anomalies; 0 = 0.99 */
	void *user;                            /**< last argument of every backend slot */
	struct pfse_allocator allocator;       /**< zero = malloc/free */
};

/**
 * Prepares predictor params with every field at its default.
 * @param p Params to prepare.
 * @since 0.2
 */
static inline void
pfse_predictor_params_init(struct pfse_predictor_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
}

/**
 * Creates a predictor.
 * @param p   Parameters.
 * @param out Receives the predictor.
 * @return 0; `-EINVAL` for NULL or bad params (no ops, an ops version of 0, a missing
 *         mandatory slot, model values out of range, anomaly_level outside (0, 1));
 *         `-ENOTSUP` for an ops version newer than this library knows; `-ENOMEM`; or the
 *         backend's init error.
 * @since 0.2
 */
PFSE_API int
pfse_predictor_create(const struct pfse_predictor_params *p, struct pfse_predictor **out);

/**
 * Destroys a predictor. NULL is accepted and ignored.
 * @param pred Predictor, or NULL.
 * @since 0.2
 */
PFSE_API void
pfse_predictor_destroy(struct pfse_predictor *pred);

/**
 * Bytes of per-flow state the predictor needs (its own bookkeeping and the backend's),
 * to be stored 8-byte aligned.
 * @param pred Predictor.
 * @return The size, or 0 if `pred` is NULL.
 * @since 0.2
 */
PFSE_API size_t
pfse_predictor_state_size(struct pfse_predictor *pred);

/**
 * Starts a flow's state.
 * @param pred  Predictor.
 * @param state pfse_predictor_state_size() bytes, 8-byte aligned.
 * @param prior What the flow is expected to do, or NULL for "nothing known" (level 0).
 * @return 0, or `-EINVAL` (NULL, misaligned state, bad prior `size`, non-finite or
 *         negative prior values).
 * @since 0.2
 */
PFSE_API int
pfse_predictor_flow_init(struct pfse_predictor *pred, void *state,
			 const struct pfse_prior *prior);

/** What one sample told about a flow (pfse_predictor_observe()). 32 bytes. */
struct pfse_observation {
	double forecast;  /**< the one-step forecast made before the sample (sample units) */
	double score;     /**< |sample - forecast| / sd in model units: the conformal score
			       (pfse_calibrator_add()); -1 when there was no forecast to
			       compare with (warm-up, or sd 0) */
	uint32_t flags;   /**< PFSE_OBS_F_* */
	uint32_t reserved; /**< zero */
	uint64_t reserved2; /**< zero */
};

/** @name Observation flags
 * @{ */
/** The sample fell outside the one-step interval at `anomaly_level`. */
#define PFSE_OBS_F_ANOMALY (1u << 0)
/** The model's arithmetic overflowed: the state restarted at this sample. */
#define PFSE_OBS_F_RESTART (1u << 1)
/** The sample was negative or above PFSE_SAMPLE_MAX, and clamped. */
#define PFSE_OBS_F_CLAMPED (1u << 2)
/** The sample was NaN or infinite and ignored (burst calls only). */
#define PFSE_OBS_F_REJECTED (1u << 3)
/** @} */

/**
 * Adds one closed interval's sample to a flow.
 * @param pred  Predictor.
 * @param state The flow's state.
 * @param x     The sample (see "Samples" above for the rule on bad values).
 * @param out   Receives what the sample told (may be NULL).
 * @return 0; `-EINVAL` for NULL arguments or a NaN/infinite sample (state unchanged);
 *         `-ERANGE` if the model's arithmetic overflowed (the state restarts at the
 *         sample: level x, no trend; `out` says so too).
 * @since 0.2
 */
PFSE_API int
pfse_predictor_observe(struct pfse_predictor *pred, void *state, double x,
		       struct pfse_observation *out);

/**
 * Adds one sample to each of `n` flows (the flows whose interval just closed), fetching
 * every state first so that flows spread over memory cost little more than one.
 * Equivalent to pfse_predictor_observe() on each.
 *
 * @param pred   Predictor.
 * @param states `n` flow states.
 * @param x      `n` samples; a NaN or infinite one is skipped (PFSE_OBS_F_REJECTED).
 * @param n      0 to PFSE_BURST_MAX.
 * @param out    Receives `n` observations (may be NULL).
 * @param anomaly_mask Receives bit i set when sample i was an anomaly (may be NULL).
 * @return The number of flows updated without restart, or `-EINVAL` (NULL or misaligned
 *         state, n > PFSE_BURST_MAX); then nothing was updated.
 * @since 0.2
 */
PFSE_API int
pfse_predictor_observe_burst(struct pfse_predictor *pred, void *const states[],
			     const double x[], unsigned n, struct pfse_observation out[],
			     uint64_t *anomaly_mask);

/**
 * Forecasts a flow's sample h intervals ahead.
 * @param pred  Predictor.
 * @param state The flow's state.
 * @param h     Horizon, 1 to PFSE_HORIZON_MAX.
 * @param level Interval level in (0, 1), for example 0.8 or 0.95.
 * @param out   Receives the forecast.
 * @return 0, `-EINVAL` for bad arguments, or `-ERANGE` if the model cannot give a finite
 *         forecast (`out` untouched).
 * @since 0.2
 */
PFSE_API int
pfse_predictor_forecast(struct pfse_predictor *pred, const void *state, unsigned h,
			double level, struct pfse_forecast *out);

/** @name Fit flags (pfse_predictor_fit())
 * @{ */
/** ARIMA: choose p and q (up to the model's p and q) by the smallest AICc. */
#define PFSE_FIT_F_ORDER (1u << 0)
/** Smoothing models: start from the parameters in place alone, without the coarse grid
 * (3 to 27 passes over the series), for a refit on series that changed little since the
 * last fit; a model whose parameters are at an end of their range still gets the grid.
 * The fit can then stay in the last fit's basin when another has become the best.
 * Ignored by arima and by application backends. @since 0.2 */
#define PFSE_FIT_F_WARM (1u << 1)
/** @} */

/** What a fit found. Set `size` (pfse_fit_report_init()) before the call. */
struct pfse_fit_report {
	size_t size;          /**< sizeof(struct pfse_fit_report), set by the caller */
	double sse;           /**< sum of squared one-step errors over the series */
	double sigma2;        /**< sse / number of errors */
	double aicc;          /**< corrected AIC of the fitted model (ARIMA; else NaN) */
	uint32_t nobs;        /**< errors counted */
	uint32_t iterations;  /**< optimiser iterations (all candidate orders included) */
	uint32_t p, d, q;     /**< ARIMA order fitted */
	uint32_t reserved;    /**< zero */
};

/**
 * Prepares a fit report.
 * @param r Report to prepare.
 * @since 0.2
 */
static inline void
pfse_fit_report_init(struct pfse_fit_report *r)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
}

/**
 * Refits the model's parameters from series (for example the pooled series of a class's
 * flows), off the packet path. Built-in backends minimise the sum of squared one-step
 * errors by Levenberg-Marquardt (steps solved by GSL's modified Cholesky), with the
 * exact Hessian of the SSE for ses and holt (so it takes Newton steps) and the
 * Gauss-Newton one for holt-winters and arima; bounded parameters are optimised through
 * a logistic map:
 *  - ses, holt, holt-winters: alpha, beta (holt's beta as in statsmodels), phi (damped:
 *    in [0.8, 0.98], as R's forecast package bounds it), gamma; each series starts at
 *    level = its first sample and trend 0 (holt-winters: the mean and deviations of its
 *    first season), the initial state pfse_predictor_flow_init() gives a flow whose prior
 *    is its first sample;
 *  - arima: constant (when d = 0), AR and MA coefficients by conditional sum of squares
 *    (the first d + p values of each series condition, earlier errors are 0); with
 *    PFSE_FIT_F_ORDER every p <= model p and q <= model q is fitted, all conditioned on
 *    the first d + (model p) values so that they are scored on the same observations,
 *    and the smallest AICc kept (k = p + q + [d = 0] + 1 parameters).
 * Smoothing models start from the best of a coarse grid and the parameters in place (a
 * refit on series that have barely changed starts at the last optimum), or from the
 * parameters in place alone with PFSE_FIT_F_WARM.
 * An application backend's `fit` slot is called as is. The model changes in place:
 * existing flow states stay valid.
 *
 * @param pred   Predictor.
 * @param series `n` series of samples (each finite; negative ones count as 0).
 * @param lens   Their lengths.
 * @param n      Number of series, at least 1.
 * @param flags  PFSE_FIT_F_*.
 * @param report Receives what was found (may be NULL).
 * @return 0; `-EINVAL` for bad arguments or a non-finite sample; `-ENODATA` when the
 *         series are too short to fit (fewer errors than twice the parameters);
 *         `-ENOTSUP` without GSL (built with -Dgsl=disabled), for naive, or for a backend
 *         without `fit`; `-ERANGE` if no finite model was found.
 * @note Not thread-safe with other calls on the same predictor; allocates nothing (the
 *       workspaces are made at create).
 * @since 0.2
 */
PFSE_API int
pfse_predictor_fit(struct pfse_predictor *pred, const double *const series[],
		   const uint32_t lens[], unsigned n, uint32_t flags,
		   struct pfse_fit_report *report);

/**
 * The predictor's model parameters: those it was created with, as refitted by
 * pfse_predictor_fit() since (built-in backends). With them and its backend's name
 * (`ops->name`) an identical predictor can be created elsewhere (snapshot.h keeps both).
 * @param pred Predictor.
 * @param out  Receives the parameters; set its `size` first (pfse_model_params_init()):
 *             at most that many bytes are written.
 * @return 0, or `-EINVAL` (NULL arguments, a bad `size`).
 * @since 0.2
 */
PFSE_API int
pfse_predictor_model_params(const struct pfse_predictor *pred, struct pfse_model_params *out);

/** The predictor's backend (its ops table), or NULL for NULL. @since 0.2 */
PFSE_API const struct pfse_predictor_ops *
pfse_predictor_ops_of(const struct pfse_predictor *pred);

/**
 * Forecasts with an explicit interval multiplier: lo and hi are mean -+ z sd in model
 * units (pfse_calibrator_z() gives a calibrated z).
 * @param pred  Predictor.
 * @param state The flow's state.
 * @param h     Horizon, 1 to PFSE_HORIZON_MAX.
 * @param z     Multiplier, finite and >= 0.
 * @param out   Receives the forecast.
 * @return As pfse_predictor_forecast().
 * @since 0.2
 */
PFSE_API int
pfse_predictor_forecast_z(struct pfse_predictor *pred, const void *state, unsigned h, double z,
			  struct pfse_forecast *out);

/**
 * @defgroup calibrator Interval calibration
 * Split-conformal calibration of prediction intervals: a rolling window of the recent
 * one-step scores |error| / sd (pfse_observation::score); the interval multiplier for a
 * level is the ceil((n + 1) level)-th smallest of the n scores, so that on exchangeable
 * errors the interval covers `level` of the samples whatever their distribution. Keep
 * one per class and per thread, and merge them on the control thread.
 * @note One thread at a time per calibrator.
 * @{
 */

struct pfse_calibrator;

/** Calibrator parameters. Prepare with pfse_calibrator_params_init(). */
struct pfse_calibrator_params {
	size_t size;         /**< set by pfse_calibrator_params_init() */
	uint32_t window;     /**< scores kept; 0 = 1000; at most 1 << 20 */
	uint32_t min_scores; /**< below this many, the normal quantile is used; 0 = 50 */
	struct pfse_allocator allocator; /**< zero = malloc/free */
};

/**
 * Prepares calibrator params with every field at its default.
 * @param p Params to prepare.
 * @since 0.2
 */
static inline void
pfse_calibrator_params_init(struct pfse_calibrator_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
}

/**
 * Creates a calibrator (all memory allocated here).
 * @return 0, `-EINVAL`, or `-ENOMEM`.
 * @since 0.2
 */
PFSE_API int
pfse_calibrator_create(const struct pfse_calibrator_params *p, struct pfse_calibrator **out);

/**
 * Destroys a calibrator. NULL is accepted and ignored.
 * @since 0.2
 */
PFSE_API void
pfse_calibrator_destroy(struct pfse_calibrator *cal);

/**
 * Adds a score (pfse_observation::score); the oldest leaves a full window.
 * @return 0, or `-EINVAL` for NULL `cal` or a score that is negative (no forecast), NaN
 *         or infinite (then ignored).
 * @since 0.2
 */
PFSE_API int
pfse_calibrator_add(struct pfse_calibrator *cal, double score);

/**
 * The calibrated interval multiplier for a level.
 * @param cal   Calibrator.
 * @param level In (0, 1).
 * @param z     Receives the multiplier: the conformal quantile of the scores, or the
 *              normal quantile while fewer than `min_scores` were added.
 * @return 0, or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_calibrator_z(struct pfse_calibrator *cal, double level, double *z);

/**
 * Adds `src`'s scores to `dst` (oldest first), as if they had been added to it.
 * @return 0, or `-EINVAL` for NULL arguments or `dst == src`.
 * @since 0.2
 */
PFSE_API int
pfse_calibrator_merge(struct pfse_calibrator *dst, struct pfse_calibrator *src);

/**
 * Number of scores in the window.
 * @return The count, or 0 for NULL.
 * @since 0.2
 */
PFSE_API uint32_t
pfse_calibrator_count(struct pfse_calibrator *cal);

/** @} */

/**
 * A flow's criticality: its class's priority, raised by a forecast of growth. With g the
 * forecast growth in doublings, log2((1 + f->mean) / (1 + current)), the result is
 * `priority + gain * g` when g > 0, else `priority`: a flow forecast to double its rate
 * within the horizon gains `gain` priority levels.
 *
 * Bandwidth, rewrite complexity (rules applied per packet, as the application reports
 * them) and criticality are the three targets a policy reads; the first two are series
 * forecast by any predictor, the third is derived from the class priority
 * (pfse_history_classify()) and the bandwidth forecast by this function.
 *
 * @param priority The class's priority.
 * @param current  The flow's current rate (its last sample), finite and >= 0.
 * @param f        Its bandwidth forecast at the horizon that matters.
 * @param gain     Priority levels per doubling, finite and >= 0.
 * @param out      Receives the criticality.
 * @return 0, or `-EINVAL` for NULL pointers or values outside their domain.
 * @note Thread-safe.
 * @since 0.2
 */
PFSE_API int
pfse_criticality(uint32_t priority, double current, const struct pfse_forecast *f, double gain,
		 double *out);

/**
 * The standard normal quantile z such that P(Z <= z) = p (Acklam's rational
 * approximation refined by one Halley step; relative error below 1e-12).
 * @param p  Probability in (0, 1).
 * @param out Receives z.
 * @return 0, or `-EINVAL` for p outside (0, 1) or NULL `out`.
 * @since 0.2
 */
PFSE_API int
pfse_normal_quantile(double p, double *out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PFSE_PREDICT_H */
