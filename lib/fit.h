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

struct pfse_fitter;

/* The function to minimise, over unconstrained u[dim]; +inf for an invalid model. */
typedef double (*pfse_fit_objective_fn)(const double *u, void *ctx);

int
pfse_fitter_create(const struct pfse_allocator *a, unsigned maxdim, struct pfse_fitter **out);

void
pfse_fitter_destroy(struct pfse_fitter *f);

/* Nelder-Mead from u (updated in place) with initial simplex steps `step`, until the
 * simplex size is below `tol` or max_iter iterations. 0, -EINVAL, or -ERANGE when the
 * start or the result is not finite. */
int
pfse_fitter_minimize(struct pfse_fitter *f, unsigned dim, pfse_fit_objective_fn fn, void *ctx,
		     double *u, double step, unsigned max_iter, double tol, double *fmin,
		     unsigned *iters);

#endif /* PFSE_FIT_H */
