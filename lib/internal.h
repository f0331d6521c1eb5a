/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private helpers shared by the library's .c files: branch hints, the allocator shim and
 * the versioned-params loader. Never installed. Non-static names start with pfse_ because
 * static-link users share our namespace.
 */
#ifndef PFSE_INTERNAL_H
#define PFSE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "pfse/common.h"

#if defined(__GNUC__)
#define pfse_likely(x) __builtin_expect(!!(x), 1)
#define pfse_unlikely(x) __builtin_expect(!!(x), 0)
#else
#define pfse_likely(x) (x)
#define pfse_unlikely(x) (x)
#endif

/*
 * Validates an allocator given in params: both hooks or neither. Returns 0 or -EINVAL.
 */
int
pfse_allocator_check(const struct pfse_allocator *a);

/* Allocates zeroed memory through the hooks (or aligned malloc). NULL on failure. */
void *
pfse_zalloc(const struct pfse_allocator *a, size_t size, size_t align);

/* Frees memory from pfse_zalloc(). NULL is ignored. */
void
pfse_free(const struct pfse_allocator *a, void *ptr);

/*
 * Copies a caller's versioned params struct into `dst` (the library's full-size view of
 * it, `known` bytes): reads only the bytes the caller's `size` covers, zero-fills the
 * rest (so every field the caller did not know about takes its default), and rejects a
 * `size` too small to hold `min` bytes, or non-zero bytes past `known` (a newer caller
 * asking for something this library cannot do). Returns 0 or -EINVAL.
 */
#define PFSE_PARAMS_SIZE_MAX 4096u

int
pfse_params_load(void *dst, size_t known, size_t min, const void *src);

struct pfse_policy;

/* The fraction of a tier's capacity its budget allows (policy.c). */
double
pfse_policy_target_util(const struct pfse_policy *pol);

/* Whether it has criticality thresholds (else the engine skips computing growth). */
int
pfse_policy_uses_crit(const struct pfse_policy *pol);

/* Whether rule 3 (the class history's P(elephant)) is on (else the engine skips
 * conditioning it on each flow's bytes). */
int
pfse_policy_uses_prior(const struct pfse_policy *pol);

/* Its p_elephant_enter (after defaults). */
double
pfse_policy_p_elephant_enter(const struct pfse_policy *pol);

/* Its dwell time, ns (after defaults). */
uint64_t
pfse_policy_dwell_ns(const struct pfse_policy *pol);

struct pfse_predictor;
struct pfse_model_params;

/* Whether a predictor is a built-in backend's (its parameters can be set, its fit runs on
 * a copy of it). */
int
pfse_predictor_is_builtin(const struct pfse_predictor *pred);

/* Sets a built-in predictor's model parameters (as pfse_predictor_fit() does: the flow
 * states stay valid); `m` comes from pfse_predictor_model_params() of a predictor of the
 * same backend. Not with other calls on the predictor at the same time. */
void
pfse_predictor_set_params(struct pfse_predictor *pred, const struct pfse_model_params *m);

/* The checks of pfse_history_load() that need no history (format, lengths, checksum,
 * every class): 0 or its error codes. */
int
pfse_history_check(const void *buf, size_t len);

#endif /* PFSE_INTERNAL_H */
