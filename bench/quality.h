/* SPDX-License-Identifier: BSD-3-Clause */
/* The forecast-quality case of pfse-bench (quality.c). */
#ifndef PFSE_BENCH_QUALITY_H
#define PFSE_BENCH_QUALITY_H

#include <stdint.h>

struct pfse_lstm;

struct quality_opts {
	const char *const *captures; /* capture files (pcap/pcapng) */
	unsigned ncaptures;
	const char *const *dists;    /* flow-size CDF files for generated traffic */
	unsigned ndists;
	uint64_t interval_ns;        /* sampling interval */
	unsigned dist_flows;         /* flows generated per distribution */
	unsigned min_len;            /* flows scored: at least this many intervals */
	uint64_t seed;               /* of the generator */
	const struct pfse_lstm *lstm; /* the "lstm" row's model; NULL: the default model */
};

/* Runs the case; prints JSON lines. 0 on success, -1 on an input error. */
int quality_run(const struct quality_opts *o);

#endif
