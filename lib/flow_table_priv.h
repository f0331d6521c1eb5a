/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow table internals shared with the engine (later) and with the tests that compile
 * the library sources in: the 16-bit packet-count encoding of the series and, in
 * PFSE_TEST_HOOKS builds, a hook that forces every key onto one hash (adversarial keys).
 */
#ifndef PFSE_FLOW_TABLE_PRIV_H
#define PFSE_FLOW_TABLE_PRIV_H

#include <stdint.h>

struct pfse_flow_table;

/* Packets per interval on 16 bits: exact below 2048, then 11 significant bits (relative
 * error below 1/2048), saturating at 0xffff (about 4.4e12). */
uint16_t
pfse_ft_pkts_encode(uint64_t v);

uint64_t
pfse_ft_pkts_decode(uint16_t c);

#ifdef PFSE_TEST_HOOKS
/* Makes every key of `t` hash to `h` (on != 0), as hostile keys would. */
void
pfse_ft_test_force_hash(struct pfse_flow_table *t, int on, uint64_t h);

/* The timing wheel's tick is 2^shift ns: pfse_flow_table_expire(t, now, ...) removes a flow
 * when last_seen + timeout < (now >> shift) << shift, i.e. up to one tick late. */
unsigned
pfse_ft_test_tick_shift(struct pfse_flow_table *t);
#endif

#endif /* PFSE_FLOW_TABLE_PRIV_H */
