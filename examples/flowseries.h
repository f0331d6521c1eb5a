/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-flow interval series, for training and evaluating forecasters (pfse-train, and
 * pfse-bench's forecast-quality case): from captures (through libpfse's parser and flow
 * table: the library's flow boundaries), from generated traffic (flow sizes drawn from a
 * published flow-size CDF, sent by a TCP-like rate process), or from text files (one flow
 * per line, its bytes per interval separated by spaces).
 */
#ifndef PFSE_EXAMPLES_FLOWSERIES_H
#define PFSE_EXAMPLES_FLOWSERIES_H

#include <stddef.h>
#include <stdint.h>

#include <pfse/pfse.h>

struct fs_flow {
	double *x;              /* bytes per interval, first interval to last */
	uint32_t n, cap;
	uint64_t first_iv;      /* interval index of x[0] */
	uint64_t hash;
	uint64_t packets;
	uint64_t t0, t1;        /* first and last packet, ns */
	struct pfse_flow_key key;
	/* capture extraction */
	uint64_t cur_iv, cur_bytes;
	int open;
};

struct fs_set {
	struct fs_flow *f;
	uint32_t n, cap;
	uint64_t unparsed;      /* packets the parser refused */
	uint64_t packets;       /* packets read */
};

/* Adds the flows of a capture. 0, or -1 with a message in err. Link types the parser does
 * not know are skipped (returns 1, message in err). */
int fs_from_capture(struct fs_set *s, const char *path, uint64_t interval_ns, char *err,
		    size_t errlen);

/* A flow-size CDF: "size cdf" lines (spaces or commas), sizes and probabilities never
 * decreasing, cdf in [0, 1] or [0, 100] (normalised to its largest value); lines that are
 * not two numbers, such as a first-line mean, are skipped. */
#define FS_CDF_MAX 4096
struct fs_cdf {
	double size[FS_CDF_MAX], p[FS_CDF_MAX];
	unsigned n;
};

/* Reads a CDF, sizes multiplied by `unit` (1 for bytes, 1460 for Homa's packets). 0, or
 * -1 with a message. */
int fs_cdf_load(struct fs_cdf *c, const char *path, double unit, char *err, size_t errlen);

/* The size at probability u (linear between points); the CDF's mean. */
double fs_cdf_quantile(const struct fs_cdf *c, double u);
double fs_cdf_mean(const struct fs_cdf *c);

/* Adds `nflows` generated flows whose sizes follow the CDF in `path` ("size cdf" lines,
 * cdf in [0, 1] or [0, 100], spaces or commas; single-number and text lines skipped),
 * starting at 100 flows per second. *rng is the generator's state (0 = the default
 * seed): it is carried on, so successive calls with the same variable continue one
 * stream. 0, or -1 with a message. */
int fs_from_cdf(struct fs_set *s, const char *path, unsigned nflows, uint64_t *rng,
		uint64_t interval_ns, char *err, size_t errlen);

/* Adds the flows of a text file. 0, or -1 with a message. */
int fs_from_text(struct fs_set *s, const char *path, char *err, size_t errlen);

void fs_free(struct fs_set *s);

#endif
