/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file lstm.h
 * @brief A tiny LSTM forecasting backend, its model files and its trainer.
 *
 * The backend "lstm" (pfse_predictor_backend("lstm")) is one LSTM layer of H <=
 * PFSE_LSTM_HIDDEN_MAX cells over PFSE_LSTM_INPUTS inputs per closed interval, and a head
 * giving the next sample's mean and log-variance. It works on y = log(1 + x): create its
 * predictor with PFSE_MODEL_F_LOG1P. The inputs of a step are the normalised level
 * (y - mu) / sd, its change since the previous interval, the flow's age (min(n, 64) / 64
 * after n samples) and whether the flow was silent (x = 0). Forecasts h > 1 intervals
 * ahead feed the mean back; their variance is the sum of the one-step variances.
 *
 * Weights are shared (one model per predictor: pass it as the predictor's `user`, or NULL
 * for the library's default model, pfse_lstm_default()); per flow the state is h and c,
 * 2H floats, plus the next step's cached output (so the per-flow state is 8 + 8 H + 16
 * bytes: 88 for H = 8). Inference is float arithmetic written to vectorise, with
 * rational approximations of tanh and the logistic function (within 1e-4).
 *
 * Model files: magic "PFSELSTM", a format version, the sizes, the normalisation, the
 * weights (little-endian floats) and an XXH3-64 checksum; pfse_lstm_load() checks all of
 * it before building anything.
 *
 * Training (pfse_lstm_train(), GSL feature): truncated back-propagation through time,
 * Adam, a seed that makes a run bit-reproducible, a split of the flows into training and
 * validation sets, early stopping on the validation loss, a report per epoch. The loss is
 * the Gaussian negative log-likelihood of the next normalised sample.
 *
 * @note A model is read-only once made: thread-safe. Training uses one thread.
 */
#ifndef PFSE_LSTM_H
#define PFSE_LSTM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pfse/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup lstm Tiny LSTM backend
 * @{ */

/** Largest hidden size. */
#define PFSE_LSTM_HIDDEN_MAX 16u
/** Inputs per step. */
#define PFSE_LSTM_INPUTS 4u

struct pfse_lstm;

/**
 * Loads a model from a model file's bytes.
 * @param buf  The file's bytes.
 * @param len  Their number.
 * @param a    Allocator, or NULL for malloc/free.
 * @param out  Receives the model.
 * @return 0; `-EBADMSG` (not a model file: magic, lengths, sizes or values wrong);
 *         `-EPROTO` (a format version this library does not know); `-EILSEQ` (checksum
 *         mismatch); `-EINVAL` (NULL arguments); `-ENOMEM`.
 * @since 0.2
 */
PFSE_API int
pfse_lstm_load(const void *buf, size_t len, const struct pfse_allocator *a,
	       struct pfse_lstm **out);

/**
 * Writes a model file. With `buf` NULL or too small, only reports the size.
 * @return 0, `-ENOSPC` (*out says how much is needed), or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_lstm_save(const struct pfse_lstm *m, void *buf, size_t len, size_t *out);

/**
 * Destroys a model (not the default one, which is static). NULL is ignored.
 * @since 0.2
 */
PFSE_API void
pfse_lstm_destroy(struct pfse_lstm *m);

/**
 * The library's default model, trained by examples/pfse-train on the project's shared
 * captures and generated traffic (README says how to reproduce it).
 * @note Thread-safe; never destroy it.
 * @since 0.2
 */
PFSE_API const struct pfse_lstm *
pfse_lstm_default(void);

/**
 * A model's hidden size, or 0 for NULL.
 * @since 0.2
 */
PFSE_API uint32_t
pfse_lstm_hidden(const struct pfse_lstm *m);

/** Called after each training epoch (pfse_lstm_train_params::report). */
typedef void (*pfse_lstm_report_fn)(uint32_t epoch, double train_loss, double val_loss,
				    void *user);

/** Training parameters. Prepare with pfse_lstm_train_params_init(); zero means default. */
struct pfse_lstm_train_params {
	size_t size;              /**< set by pfse_lstm_train_params_init() */
	uint32_t hidden;          /**< H; 0 = 8; at most PFSE_LSTM_HIDDEN_MAX */
	uint32_t epochs;          /**< most epochs; 0 = 60 */
	uint32_t bptt;            /**< steps of a truncated back-propagation window; 0 = 32 */
	uint32_t batch;           /**< windows per Adam step; 0 = 16 */
	uint32_t patience;        /**< epochs without improvement before stopping; 0 = 6 */
	uint32_t reserved;        /**< zero */
	double learning_rate;     /**< Adam's; 0 = 0.01 */
	double val_fraction;      /**< share of the flows kept for validation; 0 = 0.2 */
	uint64_t seed;            /**< of the initial weights and the shuffles; 0 = 1 */
	uint64_t max_steps;       /**< training steps per epoch at most; 0 = 200000 */
	pfse_lstm_report_fn report; /**< called after each epoch, or NULL */
	void *report_user;        /**< last argument of `report` */
	struct pfse_allocator allocator; /**< zero = malloc/free */
};

/**
 * Prepares training params with every field at its default.
 * @param p Params to prepare.
 * @since 0.2
 */
static inline void
pfse_lstm_train_params_init(struct pfse_lstm_train_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
}

/** What a training run did. Set `size` (pfse_lstm_train_report_init()) before. */
struct pfse_lstm_train_report {
	size_t size;              /**< sizeof(struct pfse_lstm_train_report) */
	uint32_t epochs;          /**< epochs run */
	uint32_t best_epoch;      /**< the epoch whose weights were kept (1-based) */
	double best_val_loss;     /**< its validation loss */
	double final_train_loss;  /**< training loss of the last epoch */
	uint64_t train_flows;     /**< flows in the training set */
	uint64_t val_flows;       /**< flows in the validation set */
	uint64_t steps;           /**< training steps per epoch */
};

/**
 * Prepares a training report.
 * @param r Report to prepare.
 * @since 0.2
 */
static inline void
pfse_lstm_train_report_init(struct pfse_lstm_train_report *r)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
}

/**
 * Trains a model on flow series (samples, for example bytes per interval; the model sees
 * log(1 + x)). Flows go to the training or the validation set by a seeded shuffle; the
 * weights of the epoch with the best validation loss are kept.
 * @param series `n` series (finite samples; negative ones count as 0).
 * @param lens   Their lengths (series shorter than 3 are ignored).
 * @param n      Number of series.
 * @param p      Parameters, or NULL for the defaults.
 * @param out    Receives the model.
 * @param report Receives what happened (may be NULL).
 * @return 0; `-EINVAL`; `-ENODATA` (fewer than 4 usable series, or an empty validation
 *         set); `-ENOTSUP` without GSL; `-ENOMEM`.
 * @since 0.2
 */
PFSE_API int
pfse_lstm_train(const double *const series[], const uint32_t lens[], unsigned n,
		const struct pfse_lstm_train_params *p, struct pfse_lstm **out,
		struct pfse_lstm_train_report *report);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PFSE_LSTM_H */
