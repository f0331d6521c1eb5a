/* SPDX-License-Identifier: BSD-3-Clause */
/* nDPI baselines for pfse-bench (see baseline-ndpi.h). */
#include <ndpi/ndpi_api.h>

#include "baseline-ndpi.h"

size_t
baseline_ndpi_des_size(void)
{
	return sizeof(struct ndpi_des_struct);
}

void
baseline_ndpi_des_init(void *states, size_t stride, unsigned n, double alpha, double beta)
{
	for (unsigned i = 0; i < n; i++) {
		void *st = (char *)states + stride * i;

		ndpi_des_init((struct ndpi_des_struct *)st, alpha, beta, 0.05f);
	}
}

double
baseline_ndpi_des_run(void *states, size_t stride, const uint32_t *idx, const double *values,
		      unsigned n)
{
	double sum = 0;

	for (unsigned i = 0; i < n; i++) {
		double f = 0, band = 0;

		ndpi_des_add_value(
			(struct ndpi_des_struct *)(void *)((char *)states + stride * idx[i]),
			(u_int64_t)values[i], &f, &band);
		sum += f;
	}
	return sum;
}

void
baseline_ndpi_des_fit(double *values, unsigned n, double *alpha, double *beta)
{
	float a = 0, b = 0;

	ndpi_des_fitting(values, n, &a, &b);
	*alpha = a;
	*beta = b;
}
