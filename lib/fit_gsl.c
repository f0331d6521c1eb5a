/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Model fitting numerics through GSL: a Levenberg-Marquardt driver whose linear algebra
 * (a modified Cholesky solve of the damped normal equations) is GSL's, on matrix views of
 * stack arrays: no GSL workspace is allocated at all.
 *
 * This file is compiled only with the `gsl` feature: GSL is GPL-3.0, and a library built
 * with it is a combined work (README, "Licence"). It never touches GSL's error handler
 * (one program-wide static whose default aborts): the only GSL calls are the modified
 * Cholesky decomposition and solve, whose error paths are dimension mismatches that
 * cannot happen here, and the matrix and vector views.
 */
#include <errno.h>
#include <math.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_permutation.h>
#include <gsl/gsl_vector.h>

#include <stdbool.h>
#include <string.h>

#include "internal.h"
#include "fit.h"

/*
 * Levenberg-Marquardt on a sum of squares whose Gauss-Newton normal equations the
 * caller accumulates in one pass over its data (no residual vector is stored, so nothing
 * scales with the series' length): fn returns the SSE, g = J'e and H = J'J. Each step
 * solves (H + lambda diag(H)) d = -g with GSL's modified Cholesky, which succeeds on any
 * symmetric matrix (it adds what a non-positive-definite one lacks), so GSL's error
 * path is never taken; lambda shrinks after a step that lowers the SSE and grows after
 * one that does not.
 */
int
pfse_fitter_lm(unsigned dim, pfse_fit_normal_fn fn, void *ctx, double *u, unsigned max_iter,
	       double *fmin, unsigned *iters)
{
	double g[PFSE_FIT_DIM_MAX], H[PFSE_FIT_DIM_MAX * PFSE_FIT_DIM_MAX];
	double A[PFSE_FIT_DIM_MAX * PFSE_FIT_DIM_MAX], d[PFSE_FIT_DIM_MAX];
	double b[PFSE_FIT_DIM_MAX], E[PFSE_FIT_DIM_MAX], trial[PFSE_FIT_DIM_MAX];
	double g2[PFSE_FIT_DIM_MAX], H2[PFSE_FIT_DIM_MAX * PFSE_FIT_DIM_MAX];
	size_t perm[PFSE_FIT_DIM_MAX];
	double sse, lambda = 1e-3;
	unsigned it = 0;

	if (dim == 0 || dim > PFSE_FIT_DIM_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < dim; i++)
		if (!isfinite(u[i]))
			return -EINVAL;
	sse = fn(u, ctx, g, H);
	if (!isfinite(sse))
		return -ERANGE;
	while (it < max_iter) {
		double gmax = 0;

		/* Converged when the gradient J'e is negligible against the SSE (this also
		 * ends the slow walk towards a parameter's bound in unconstrained space,
		 * where the gradient vanishes). */
		for (unsigned i = 0; i < dim; i++)
			gmax = fabs(g[i]) > gmax ? fabs(g[i]) : gmax;
		if (gmax <= 1e-9 * (sse + 1e-300))
			break;
		gsl_matrix_view Am = gsl_matrix_view_array(A, dim, dim);
		gsl_vector_view bv = gsl_vector_view_array(b, dim);
		gsl_vector_view dv = gsl_vector_view_array(d, dim);
		gsl_vector_view Ev = gsl_vector_view_array(E, dim);
		gsl_permutation pm = { dim, perm };
		double sse2, dnorm = 0, unorm = 0;
		bool finite = true;

		it++;
		for (unsigned i = 0; i < dim * dim; i++)
			finite = finite && isfinite(H[i]);
		for (unsigned i = 0; i < dim; i++)
			finite = finite && isfinite(g[i]);
		if (!finite)
			break;
		memcpy(A, H, sizeof(double) * dim * dim);
		for (unsigned i = 0; i < dim; i++) {
			double dg = H[i * dim + i];

			A[i * dim + i] = dg + lambda * (dg > 1e-300 ? dg : 1.0);
			b[i] = -g[i];
		}
		gsl_linalg_mcholesky_decomp(&Am.matrix, &pm, &Ev.vector);
		gsl_linalg_mcholesky_solve(&Am.matrix, &pm, &bv.vector, &dv.vector);
		for (unsigned i = 0; i < dim; i++) {
			trial[i] = u[i] + d[i];
			dnorm += d[i] * d[i];
			unorm += u[i] * u[i];
		}
		if (!isfinite(dnorm))
			break;
		sse2 = fn(trial, ctx, g2, H2);
		if (isfinite(sse2) && sse2 <= sse) {
			double gain = sse - sse2;

			memcpy(u, trial, sizeof(double) * dim);
			memcpy(g, g2, sizeof(g2));
			memcpy(H, H2, sizeof(H2));
			sse = sse2;
			lambda = lambda / 3 > 1e-12 ? lambda / 3 : 1e-12;
			if (gain <= 1e-10 * sse || dnorm <= 1e-24 * (1 + unorm))
				break;
		} else {
			lambda *= 4;
			if (lambda > 1e12)
				break;
		}
	}
	*fmin = sse;
	*iters = it;
	return 0;
}
