/* SPDX-License-Identifier: BSD-3-Clause */
/* History internals for the engine: a new flow's prior without the quantiles. */
#ifndef PFSE_HISTORY_PRIV_H
#define PFSE_HISTORY_PRIV_H

#include "pfse/history.h"

/* The rate prior (mean and variance of first-interval bytes), P(elephant) and mean
 * complexity of a used class slot; no argument checks. */
void
pfse_history_prior_fast(const struct pfse_history *h, uint32_t slot, double *rate, double *var,
			double *p_elephant, double *complexity);

#endif /* PFSE_HISTORY_PRIV_H */
