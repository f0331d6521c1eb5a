/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fitting numerics the predictors use (lib/fit_gsl.c, built with the `gsl` feature).
 * Without GSL none of this exists and pfse_predictor_fit() answers -ENOTSUP.
 */
#ifndef PFSE_FIT_H
#define PFSE_FIT_H

#include "pfse/common.h"

/* Most parameters one fit optimises (ARIMA: constant + 3 AR + 3 MA). */
#define PFSE_FIT_DIM_MAX 7u

/* SSE at u, with g = J'e (half the gradient) and H (dim x dim, row major): J'J for
 * Gauss-Newton, or half the exact Hessian for Newton steps; +inf for an invalid model.
 * With g == NULL only the SSE is wanted. */
typedef double (*pfse_fit_normal_fn)(const double *u, void *ctx, double *g, double *H);

/* Levenberg-Marquardt from u (updated in place). 0, -EINVAL, or -ERANGE when the start is
 * not a finite model. */
int
pfse_fitter_lm(unsigned dim, pfse_fit_normal_fn fn, void *ctx, double *u, unsigned max_iter,
	       double *fmin, unsigned *iters);

#endif /* PFSE_FIT_H */
