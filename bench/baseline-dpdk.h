/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK baselines pfse-bench measures in the same run as libpfse, compiled in their
 * own translation unit with DPDK's flags. Absent (PFSE_BENCH_HAVE_DPDK undefined) when
 * libdpdk is not installed; the cases then print no baseline.
 */
#ifndef PFSE_BASELINE_DPDK_H
#define PFSE_BASELINE_DPDK_H

#include <stdint.h>

#include "bench-util.h"

/* rte_eal_init with --no-huge --no-pci, once. 0 on success. */
int
baseline_dpdk_init(const char *prog);

/* Copies frames into mbufs. 0 on success. */
int
baseline_dpdk_parse_setup(const struct bench_frame *frames, unsigned n);

/* rte_net_get_ptype() on frames [0, n) plus the same 40-byte key extraction the
 * parser does; returns a checksum so the work cannot be optimised away. */
uint64_t
baseline_dpdk_parse_run(unsigned n, unsigned burst);

/* rte_hash_crc (DPDK's default hash for rte_hash on x86) over n 40-byte keys. */
uint64_t
baseline_dpdk_hash_run(const void *keys, unsigned n, uint32_t seed);

#endif

/* ---- rte_hash baseline for the flow table cases ---- */

/* Per-flow counters the baseline updates, as the flow table does. */
struct baseline_flow {
	uint64_t pkts[2], bytes[2], last_seen, first_seen;
	uint64_t pad[2];
};

/* Creates an rte_hash of `entries` 40-byte keys (rte_hash_crc, DPDK's x86 default) and
 * a value array; returns 0, or -1. Reports the DPDK heap bytes it took in *bytes. */
int
baseline_dpdk_table_create(unsigned entries, size_t *bytes);

void
baseline_dpdk_table_destroy(void);

/* Inserts keys[0..n) with rte_hash_add_key_data; returns the number added. */
unsigned
baseline_dpdk_table_insert(const uint8_t *keys, unsigned n);

/* For each burst of `burst` indices: rte_hash_lookup_bulk_data on keys[idx[...]] (keys[i]
 * in order when idx is NULL), then, with `update`, the counter update of every hit.
 * Returns hits. */
uint64_t
baseline_dpdk_table_run(const uint8_t *keys, const uint32_t *idx, unsigned nidx,
			unsigned burst, uint64_t ts, int update);
