/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nDPI baselines for pfse-bench's predict case (its double exponential smoothing), in
 * their own translation unit with nDPI's headers. Absent without libndpi.
 */
#ifndef PFSE_BASELINE_NDPI_H
#define PFSE_BASELINE_NDPI_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of one nDPI DES state. */
size_t
baseline_ndpi_des_size(void);

/* ndpi_des_init on each of n states (stride `stride` bytes). */
void
baseline_ndpi_des_init(void *states, size_t stride, unsigned n, double alpha, double beta);

/* ndpi_des_add_value on states[idx[i]] with values[i]; returns a checksum. */
double
baseline_ndpi_des_run(void *states, size_t stride, const uint32_t *idx, const double *values,
		      unsigned n);

/* ndpi_des_fitting (its alpha/beta grid) on a series. */
void
baseline_ndpi_des_fit(double *values, unsigned n, double *alpha, double *beta);

#endif
