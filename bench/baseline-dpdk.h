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
