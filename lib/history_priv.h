/* SPDX-License-Identifier: BSD-3-Clause */
/* History internals for the engine: a new flow's prior without the quantiles, and the
 * chance that a live flow becomes an elephant. */
#ifndef PFSE_HISTORY_PRIV_H
#define PFSE_HISTORY_PRIV_H

#include "pfse/history.h"

/* The octave of a size, as the size estimate counts it: floor(log2(v)), 0 for v < 2. */
static inline unsigned
pfse_octave(uint64_t v)
{
	return v < 2 ? 0 : 63u - (unsigned)__builtin_clzll(v);
}

/* The rate prior (mean and variance of first-interval bytes), P(elephant) of finished
 * flows ((e + 1) / (n + 2), as pfse_history_prior() gives it) and mean complexity of a
 * used class slot; no argument checks. */
void
pfse_history_prior_fast(const struct pfse_history *h, uint32_t slot, double *rate, double *var,
			double *p_elephant, double *complexity);

/* P(a flow of the class reaches elephant_bytes | it has sent `sent` bytes), 1 once it
 * has. A Kaplan-Meier estimate over octaves of size (2^j .. 2^(j+1)), so that live flows
 * count as what they are, flows that reached a size and may go on (a finished-flows-only
 * ratio would miss the elephants still running; counting live elephants but not live mice
 * would overstate them):
 *   S = prod over octaves j from sent's up to elephant_bytes' of (1 - ended_j / reached_j)
 * with ended_j the finished flows whose size ended in octave j and reached_j those (finished
 * or live, pfse_history_live_move()) that reached 2^j; then shrunk towards 1/2 by what it
 * rests on, (n S + 1) / (n + 2) with n the flows that reached sent's octave and then
 * ended or passed elephant_bytes (those whose answer is known), so that a class with no
 * such flow gives 1/2, and one with only finished flows (e + 1) / (n + 2) of those that
 * reached that size. Resolution: an octave (elephant_bytes rounded down to a
 * power of two). Up to 64 steps, no allocation. */
double
pfse_history_p_elephant_at(const struct pfse_history *h, uint32_t slot, uint64_t sent);

/* The same, and in the same pass (all 64 octaves), the class's shunting size: the lowest
 * octave j such that a flow that has sent 2^j bytes, or any more up to elephant_bytes'
 * octave, has P(elephant) >= p_enter (64: none). */
double
pfse_history_p_elephant_scan(const struct pfse_history *h, uint32_t slot, uint64_t sent,
			     double p_enter, unsigned *shunt_octave);

/* A live flow of the class moves from one size octave to another (-1: none, for a flow
 * that begins or ends); octaves 64 + j are those of flows that closed (a RST, or a FIN
 * each way), which count as ended there: a closed flow leaves the table only after its
 * closing timeout (10 s by default), and as a live flow meanwhile it would tell the
 * estimate that flows of its size go on. Not serialised or merged; load() resets it (a flow ending
 * after a load takes no count below zero, and a slot taken by a new class starts with
 * none). */
void
pfse_history_live_move(struct pfse_history *h, uint32_t slot, int from, int to);

#endif /* PFSE_HISTORY_PRIV_H */
