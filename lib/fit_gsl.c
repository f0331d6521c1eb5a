/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Model fitting numerics through GSL: a Nelder-Mead simplex (gsl_multimin's nmsimplex2)
 * per parameter count, allocated when a predictor is created and reused by every fit.
 *
 * This file is compiled only with the `gsl` feature: GSL is GPL-3.0, and a library built
 * with it is a combined work (README, "Licence"). It never touches GSL's error handler
 * (one program-wide static whose default aborts): every call is made with arguments GSL
 * accepts (dimension >= 1, positive step sizes, finite start), and objective values are
 * kept finite by the callers.
 */
#include <errno.h>
#include <math.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_vector.h>

#include "internal.h"
#include "fit.h"

struct pfse_fitter {
	unsigned maxdim;
	gsl_multimin_fminimizer *nm[PFSE_FIT_DIM_MAX + 1];
	gsl_vector *x[PFSE_FIT_DIM_MAX + 1], *step[PFSE_FIT_DIM_MAX + 1];
	struct pfse_allocator alloc;
};

int
pfse_fitter_create(const struct pfse_allocator *a, unsigned maxdim, struct pfse_fitter **out)
{
	struct pfse_fitter *f;

	if (maxdim == 0 || maxdim > PFSE_FIT_DIM_MAX)
		return -EINVAL;
	f = pfse_zalloc(a, sizeof(*f), 64);
	if (!f)
		return -ENOMEM;
	f->alloc = *a;
	f->maxdim = maxdim;
	for (unsigned d = 1; d <= maxdim; d++) {
		f->nm[d] = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, d);
		f->x[d] = gsl_vector_alloc(d);
		f->step[d] = gsl_vector_alloc(d);
		if (!f->nm[d] || !f->x[d] || !f->step[d]) {
			pfse_fitter_destroy(f);
			return -ENOMEM;
		}
	}
	*out = f;
	return 0;
}

void
pfse_fitter_destroy(struct pfse_fitter *f)
{
	struct pfse_allocator a;

	if (!f)
		return;
	for (unsigned d = 1; d <= f->maxdim; d++) {
		if (f->nm[d])
			gsl_multimin_fminimizer_free(f->nm[d]);
		if (f->x[d])
			gsl_vector_free(f->x[d]);
		if (f->step[d])
			gsl_vector_free(f->step[d]);
	}
	a = f->alloc;
	pfse_free(&a, f);
}

struct nm_ctx {
	pfse_fit_objective_fn fn;
	void *ctx;
};

static double
nm_f(const gsl_vector *v, void *params)
{
	const struct nm_ctx *c = params;
	double u[PFSE_FIT_DIM_MAX];
	double r;

	for (size_t i = 0; i < v->size; i++)
		u[i] = gsl_vector_get(v, i);
	r = c->fn(u, c->ctx);
	/* The simplex copes with +inf (a point it must leave) but not NaN. */
	return isnan(r) ? INFINITY : r;
}

int
pfse_fitter_minimize(struct pfse_fitter *f, unsigned dim, pfse_fit_objective_fn fn, void *ctx,
		     double *u, double step, unsigned max_iter, double tol, double *fmin,
		     unsigned *iters)
{
	struct nm_ctx c = { fn, ctx };
	gsl_multimin_function mf;
	gsl_multimin_fminimizer *s;
	unsigned it = 0;
	int status;

	if (!f || dim == 0 || dim > f->maxdim || !(step > 0) || !(tol > 0))
		return -EINVAL;
	for (unsigned i = 0; i < dim; i++)
		if (!isfinite(u[i]))
			return -EINVAL;
	s = f->nm[dim];
	for (unsigned i = 0; i < dim; i++) {
		gsl_vector_set(f->x[dim], i, u[i]);
		gsl_vector_set(f->step[dim], i, step);
	}
	mf.n = dim;
	mf.f = nm_f;
	mf.params = &c;
	if (!isfinite(fn(u, ctx)))
		return -ERANGE; /* the start must be a valid model */
	status = gsl_multimin_fminimizer_set(s, &mf, f->x[dim], f->step[dim]);
	if (status != GSL_SUCCESS)
		return -ERANGE;
	do {
		it++;
		status = gsl_multimin_fminimizer_iterate(s);
		if (status != GSL_SUCCESS)
			break;
		status = gsl_multimin_test_size(gsl_multimin_fminimizer_size(s), tol);
	} while (status == GSL_CONTINUE && it < max_iter);
	for (unsigned i = 0; i < dim; i++)
		u[i] = gsl_vector_get(s->x, i);
	*fmin = s->fval;
	*iters = it;
	return isfinite(s->fval) ? 0 : -ERANGE;
}
