/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfse-bench: microbenchmarks of libpfse, one JSON object per line on stdout.
 *
 *   pfse-bench [--list] [--case NAME]... [--reps N] [--min-ms MS] [--capture FILE]...
 *              [--no-baseline]
 *
 * Every case is warmed up, then timed `reps` times (each sample at least `min-ms` long);
 * ns_per_op is the median sample. Where a baseline (DPDK) is available it is measured in
 * the same run on the same inputs, and the line carries "baseline" (its ns per op) and
 * "ratio" (ours / baseline). Compare numbers only within one machine and build type.
 *
 * Cases:
 *   parse  pfse_parse_burst() over frames of real captures, for bursts of 1/8/32/64 and
 *          three mixes: v4 (IPv4 frames), v6 (IPv6 frames), mix (every frame in capture
 *          order, non-IP ones included). Baseline: DPDK rte_net_get_ptype() + the same
 *          key extraction, on mbufs.
 *   hash   pfse_flow_key_hash_bulk() over the keys of those frames, bursts 1/8/32/64.
 *          Baseline: rte_hash_crc over the same 40 bytes (DPDK's rte_hash default on
 *          x86). The line also reports XXH3 called directly ("xxh3_direct"), to show
 *          the cost of the API around it.
 *   table  the flow table with --flows flows (default 1M and 4M) of random 40-byte IPv6
 *          keys: table-update (lookup-or-insert + counters, bursts of 32, keys drawn
 *          uniformly and Zipf(0.99)), table-lookup (lookup only) and table-insert (fill
 *          an empty table). Baseline: DPDK rte_hash (rte_hash_crc) with
 *          rte_hash_lookup_bulk_data + the same counter update, and rte_hash_add_key_data.
 *          Each line reports bytes per flow of both. table-update-pkt-hash: Zipf(0.99)
 *          packets carrying their parser hash, the table taking it (PFSE_FT_F_PKT_HASH)
 *          against the same table hashing each key, timed alternately.
 *   predict the forecasting backends: predict-holt-update (pfse_predictor_observe with
 *          the Holt backend on the state of a random flow among --flows, states laid out
 *          as flow-table slots; also on one hot state), baseline nDPI's
 *          ndpi_des_add_value on the same flows; predict-arima-step (ARIMA(1,1,1) observe
 *          + one-step forecast); predict-fit (Holt fit of a 200-point series, with its
 *          SSE, against nDPI's ndpi_des_fitting grid and the SSE of its choice), and
 *          predict-arima-fit (ARIMA(1,1,1) CSS fit + 10-step forecast of 200 points).
 *   engine the whole engine at --flows flows (Zipf(0.99) keys, bursts of 32, time moving
 *          1 us per burst as in table-update, the Holt backend, 3 tiers x 8 nodes):
 *          engine-classify (decisions only) and engine-process (through no-op
 *          callbacks), each timed alternately with the bare table-update on the same
 *          packets: the ratio is what the predictive layer and dispatch add. Then
 *          maglev-build: one node's health change in a tier of 100 and of 1000 nodes
 *          (rebuild + publication: the health-update latency), median of --reps.
 *   refit  advance-with-refit: how long pfse_engine_advance() takes when a refit of the
 *          default backends is due (30 s of flows that end, a refit a second), inline
 *          against PFSE_ENGINE_F_REFIT_ASYNC (advance() sets the series aside; the
 *          pfse_engine_refit() call that fits, off the packet path, is refit_call_ns);
 *          medians over the refits, and inline the first refit (first_ns: from the grid
 *          of starts, on default parameters) and the slowest of the others (max_ns: one
 *          that also tries the grid, every 8th).
 *   lstm   lstm-step-h8/h16: one step of the LSTM backend on a hot state, against a
 *          naive plain-C LSTM step on the same weights (gate-major dot products, libm
 *          expf/tanhf); lstm-update-h8/h16: a flow update through the predictor (log1p,
 *          anomaly score, step) at --flows flows and on one hot state, against a Holt
 *          update measured alternately on the same flows.
 *   forecast-quality  accuracy, not speed (quality.c): MASE at horizons 1 and 5 and the
 *          coverage of 80%/95% intervals of every backend (the "lstm" row with the
 *          default model, or --lstm-model FILE) and of the automatic choice, over the
 *          flows of real captures (--quality-capture) and of traffic generated from
 *          flow-size CDFs (--dist). With neither given: every capture of the shared data
 *          set (else the bundled ones) and two of its CDFs.
 */
#define _DEFAULT_SOURCE /* libpcap's BSD types */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <xxhash.h>

#include <pfse/pfse.h>

#include <dirent.h>

#include "bench-util.h"
#include "quality.h"
#ifdef PFSE_BENCH_HAVE_DPDK
#include "baseline-dpdk.h"
#endif
#ifdef PFSE_BENCH_HAVE_NDPI
#include "baseline-ndpi.h"
#endif

#define MIN_FRAMES 4096
#define MAX_CAPTURES 16

static unsigned opt_reps = 11;
static double opt_min_ms = 20;
static int opt_baseline = 1;
static volatile uint64_t sink;
/* A ratio measured pairwise (measure_pair) for the next emit(); 0 = ns / baseline. */
static double emit_ratio;

struct capture {
	uint32_t linktype;
	struct bench_frame *frames;
	unsigned n;
};

static struct capture captures[MAX_CAPTURES];
static unsigned ncaptures;

static const char *const case_names[] = { "parse", "hash", "table", "predict",
					  "forecast-quality", "engine", "lstm", "refit" };
static const char *opt_fit_series; /* --fit-series: where to write the fitted series */
static const char *q_lstm_path;    /* --lstm-model: the forecast-quality "lstm" row's model */
static const char *q_captures[256];
static unsigned q_ncaptures;
static const char *q_dists[16];
static unsigned q_ndists;
static struct quality_opts q_opts = { .interval_ns = 100000000ull, .dist_flows = 20000,
				      .min_len = 20 };
static uint32_t opt_flows[4] = { 1000000, 4000000 };
static unsigned opt_nflows = 2;
static unsigned opt_samples = 1u << 21;

/* ---- timing ---------------------------------------------------------------------------- */

typedef uint64_t (*pass_fn)(void *ctx);

/* Median ns per op of `pass` (which performs `ops` operations per call). */
static double
measure(pass_fn pass, void *ctx, unsigned ops)
{
	double samples[101];
	unsigned reps = opt_reps > 101 ? 101 : opt_reps, passes = 1;
	uint64_t t0, dt, min_ns = (uint64_t)(opt_min_ms * 1e6);

	/* Warm-up, and find how many passes make one sample last min_ms. */
	for (;;) {
		t0 = bench_now_ns();
		for (unsigned i = 0; i < passes; i++)
			sink += pass(ctx);
		dt = bench_now_ns() - t0;
		if (dt >= min_ns)
			break;
		passes = dt ? (unsigned)((double)passes * 1.2 * (double)min_ns / (double)dt) + 1
			    : passes * 10;
	}
	for (unsigned r = 0; r < reps; r++) {
		t0 = bench_now_ns();
		for (unsigned i = 0; i < passes; i++)
			sink += pass(ctx);
		dt = bench_now_ns() - t0;
		samples[r] = (double)dt / ((double)passes * ops);
	}
	return bench_median(samples, reps);
}

/*
 * Ours and the baseline measured alternately, sample by sample, so that a change of the
 * machine's speed during the run (other tenants of a VM, frequency) hits both alike; the
 * ratio reported is the median of the per-sample ratios.
 */
static void
measure_pair(pass_fn a, void *actx, pass_fn b, void *bctx, unsigned ops, double *ans,
	     double *bns, double *ratio)
{
	double sa[101], sb[101], sr[101];
	unsigned reps = opt_reps > 101 ? 101 : opt_reps, pa = 1, pb = 1;
	uint64_t t0, dt, min_ns = (uint64_t)(opt_min_ms * 1e6);

	for (int k = 0; k < 2; k++) {
		unsigned *pp = k ? &pb : &pa;
		pass_fn f = k ? b : a;
		void *ctx = k ? bctx : actx;

		for (;;) {
			t0 = bench_now_ns();
			for (unsigned i = 0; i < *pp; i++)
				sink += f(ctx);
			dt = bench_now_ns() - t0;
			if (dt >= min_ns)
				break;
			*pp = dt ? (unsigned)((double)*pp * 1.2 * (double)min_ns / (double)dt) + 1
				 : *pp * 10;
		}
	}
	for (unsigned r = 0; r < reps; r++) {
		t0 = bench_now_ns();
		for (unsigned i = 0; i < pa; i++)
			sink += a(actx);
		sa[r] = (double)(bench_now_ns() - t0) / ((double)pa * ops);
		t0 = bench_now_ns();
		for (unsigned i = 0; i < pb; i++)
			sink += b(bctx);
		sb[r] = (double)(bench_now_ns() - t0) / ((double)pb * ops);
		sr[r] = sa[r] / sb[r];
	}
	*ans = bench_median(sa, reps);
	*bns = bench_median(sb, reps);
	*ratio = bench_median(sr, reps);
}

static void
emit(const char *name, const char *mix, unsigned burst, unsigned n, double ns,
     const char *bname, double bns, const char *extra)
{
	printf("{\"name\":\"%s\",\"mix\":\"%s\",\"burst\":%u,\"n\":%u,\"ns_per_op\":%.2f,"
	       "\"mpps\":%.2f,\"reps\":%u",
	       name, mix, burst, n, ns, 1e3 / ns, opt_reps);
	if (bname)
		printf(",\"baseline_name\":\"%s\",\"baseline\":%.2f,\"ratio\":%.3f", bname, bns,
		       emit_ratio > 0 ? emit_ratio : ns / bns);
	emit_ratio = 0;
	if (extra)
		printf(",%s", extra);
	printf("}\n");
	fflush(stdout);
}

/* ---- inputs -------------------------------------------------------------------------- */

static int
load_capture(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	struct capture *c;
	unsigned cap = 0;
	pcap_t *pc;

	if (ncaptures == MAX_CAPTURES)
		return -ENOSPC;
	pc = pcap_open_offline(path, errbuf);
	if (!pc) {
		fprintf(stderr, "pfse-bench: %s: %s\n", path, errbuf);
		return -EIO;
	}
	c = &captures[ncaptures];
	memset(c, 0, sizeof(*c));
	c->linktype = (uint32_t)pcap_datalink(pc);
	while (pcap_next_ex(pc, &h, &d) == 1) {
		uint8_t *copy;

		if (c->n == cap) {
			struct bench_frame *nf;

			cap = cap ? cap * 2 : 1024;
			nf = realloc(c->frames, cap * sizeof(*nf));
			if (!nf)
				return -ENOMEM;
			c->frames = nf;
		}
		copy = malloc(h->caplen ? h->caplen : 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, d, h->caplen);
		c->frames[c->n].data = copy;
		c->frames[c->n].caplen = h->caplen;
		c->frames[c->n].wirelen = h->len;
		c->n++;
	}
	pcap_close(pc);
	ncaptures++;
	return 0;
}

struct mix {
	const char *name;
	struct pfse_parser **parsers; /* per frame: the parser of its capture's link type */
	struct bench_frame *frames;
	struct pfse_pkt *pkts;
	struct pfse_pkt **pp;
	unsigned n;
	unsigned burst;
	struct pfse_parser *parser; /* when every frame shares one link type */
};

static struct pfse_parser *
make_parser(uint32_t linktype, uint32_t flags)
{
	struct pfse_parser_params p;
	struct pfse_parser *ps = NULL;
	int r;

	pfse_parser_params_init(&p);
	p.linktype = linktype;
	p.flags = flags | PFSE_PARSE_F_FIXED_SEED;
	p.seed = 0x5eed;
	r = pfse_parser_create(&p, &ps);
	if (r < 0) {
		fprintf(stderr, "pfse-bench: parser for link type %u: %s\n", linktype,
			pfse_strerror(r));
		exit(1);
	}
	return ps;
}

/* Builds a mix: frames of every capture (Ethernet captures only, so one parser serves a
 * whole burst as in a real data path), filtered by family (0 = all), repeated until
 * there are at least MIN_FRAMES. */
static int
build_mix(struct mix *m, const char *name, unsigned family, struct pfse_parser *ps)
{
	unsigned cap = 0;

	memset(m, 0, sizeof(*m));
	m->name = name;
	m->parser = ps;
	for (unsigned round = 0; round < 1000 && (m->n < MIN_FRAMES || round == 0); round++) {
		unsigned before = m->n;

		for (unsigned c = 0; c < ncaptures; c++) {
			if (captures[c].linktype != PFSE_LINKTYPE_ETHERNET)
				continue;
			for (unsigned i = 0; i < captures[c].n; i++) {
				struct pfse_pkt probe;

				if (family) {
					memset(&probe, 0, sizeof(probe));
					probe.data = captures[c].frames[i].data;
					probe.caplen = captures[c].frames[i].caplen;
					probe.wirelen = captures[c].frames[i].wirelen;
					if (pfse_parse(ps, &probe, NULL) != 0 ||
					    probe.key.family != family)
						continue;
				}
				if (m->n == cap) {
					cap = cap ? cap * 2 : 4096;
					m->frames = realloc(m->frames, cap * sizeof(*m->frames));
					if (!m->frames)
						return -ENOMEM;
				}
				m->frames[m->n++] = captures[c].frames[i];
			}
		}
		if (m->n == before)
			break;
	}
	if (m->n == 0)
		return -ENOENT;
	m->pkts = calloc(m->n, sizeof(*m->pkts));
	m->pp = calloc(m->n, sizeof(*m->pp));
	if (!m->pkts || !m->pp)
		return -ENOMEM;
	for (unsigned i = 0; i < m->n; i++) {
		m->pkts[i].data = m->frames[i].data;
		m->pkts[i].caplen = m->frames[i].caplen;
		m->pkts[i].wirelen = m->frames[i].wirelen;
		m->pp[i] = &m->pkts[i];
	}
	return 0;
}

/* ---- parse ------------------------------------------------------------------------------ */

/* As a data path does: a burst-sized array of struct pfse_pkt, reused for every burst,
 * is pointed at the next frames (as an application points it at its mbufs), then parsed.
 * The frame data of the whole mix is the working set; the pkt array stays hot. */
static uint64_t
parse_pass(void *ctx)
{
	struct mix *m = ctx;
	uint64_t ok = 0;
	unsigned i;

	for (i = 0; i + m->burst <= m->n; i += m->burst) {
		for (unsigned j = 0; j < m->burst; j++) {
			m->pkts[j].data = m->frames[i + j].data;
			m->pkts[j].caplen = m->frames[i + j].caplen;
			m->pkts[j].wirelen = m->frames[i + j].wirelen;
		}
		ok += (uint64_t)pfse_parse_burst(m->parser, m->pp, m->burst, NULL);
		ok += m->pkts[0].key.sport;
	}
	return ok;
}

#ifdef PFSE_BENCH_HAVE_DPDK
struct dpdk_ctx {
	unsigned n, burst;
};

static uint64_t
dpdk_parse_pass(void *ctx)
{
	struct dpdk_ctx *d = ctx;

	return baseline_dpdk_parse_run(d->n, d->burst);
}
#endif

static void
case_parse(void)
{
	static const unsigned bursts[] = { 1, 8, 32, 64 };
	static const struct {
		const char *name;
		unsigned family;
	} mixes[] = { { "v4", 4 }, { "v6", 6 }, { "mix", 0 } };
	struct pfse_parser *ps = make_parser(PFSE_LINKTYPE_ETHERNET, 0);
	struct pfse_parser *ps_bh =
		make_parser(PFSE_LINKTYPE_ETHERNET, PFSE_PARSE_F_BIDIR | PFSE_PARSE_F_HASH);

	for (unsigned x = 0; x < sizeof(mixes) / sizeof(mixes[0]); x++) {
		struct mix m;
		int have_dpdk = 0;

		if (build_mix(&m, mixes[x].name, mixes[x].family, ps) < 0) {
			fprintf(stderr, "pfse-bench: parse/%s: no frames\n", mixes[x].name);
			continue;
		}
#ifdef PFSE_BENCH_HAVE_DPDK
		have_dpdk = opt_baseline && baseline_dpdk_parse_setup(m.frames, m.n) == 0;
#endif
		for (unsigned b = 0; b < sizeof(bursts) / sizeof(bursts[0]); b++) {
			unsigned ops;
			double ns, bns = 0;

			m.burst = bursts[b];
			ops = m.n / m.burst * m.burst;
			ns = measure(parse_pass, &m, ops);
#ifdef PFSE_BENCH_HAVE_DPDK
			if (have_dpdk) {
				struct dpdk_ctx d = { m.n, m.burst };

				bns = measure(dpdk_parse_pass, &d, ops);
			}
#endif
			emit("parse", m.name, m.burst, m.n, ns,
			     have_dpdk ? "dpdk-rte_net_get_ptype" : NULL, bns,
			     "\"options\":\"none\"");
			/* The same with bidirectional keys and the keyed hash, as a flow table
			 * uses the parser. */
			m.parser = ps_bh;
			ns = measure(parse_pass, &m, ops);
			m.parser = ps;
			emit("parse", m.name, m.burst, m.n, ns,
			     have_dpdk ? "dpdk-rte_net_get_ptype" : NULL, bns,
			     "\"options\":\"bidir+hash\"");
		}
		free(m.frames);
		free(m.pkts);
		free(m.pp);
	}
	pfse_parser_destroy(ps);
	pfse_parser_destroy(ps_bh);
}

/* ---- hash ------------------------------------------------------------------------------- */

struct hash_ctx {
	struct pfse_flow_key *keys;
	uint64_t *out;
	unsigned n, burst;
};

static uint64_t
hash_pass(void *ctx)
{
	struct hash_ctx *h = ctx;
	uint64_t s = 0;

	for (unsigned i = 0; i + h->burst <= h->n; i += h->burst) {
		pfse_flow_key_hash_bulk(&h->keys[i], h->burst, 0x5eed, &h->out[i]);
		s += h->out[i];
	}
	return s;
}

static uint64_t
xxh3_pass(void *ctx)
{
	struct hash_ctx *h = ctx;
	uint64_t s = 0;

	for (unsigned i = 0; i < h->n; i++)
		s += XXH3_64bits_withSeed(&h->keys[i], sizeof(h->keys[i]), 0x5eed);
	return s;
}

#ifdef PFSE_BENCH_HAVE_DPDK
static uint64_t
crc_pass(void *ctx)
{
	struct hash_ctx *h = ctx;

	return baseline_dpdk_hash_run(h->keys, h->n, 0x5eed);
}
#endif

static void
case_hash(void)
{
	static const unsigned bursts[] = { 1, 8, 32, 64 };
	struct pfse_parser *ps = make_parser(PFSE_LINKTYPE_ETHERNET, 0);
	struct hash_ctx h;
	struct mix m;
	double xns, bns = 0;
	char extra[64];
	int have_dpdk = 0;

	if (build_mix(&m, "mix", 0, ps) < 0) {
		fprintf(stderr, "pfse-bench: hash: no frames\n");
		pfse_parser_destroy(ps);
		return;
	}
	memset(&h, 0, sizeof(h));
	h.keys = calloc(m.n, sizeof(*h.keys));
	h.out = calloc(m.n, sizeof(*h.out));
	if (!h.keys || !h.out)
		exit(1);
	for (unsigned i = 0; i < m.n; i++) {
		if (pfse_parse(ps, &m.pkts[i], NULL) == 0)
			h.keys[h.n++] = m.pkts[i].key;
	}
	h.n = h.n / 64 * 64;
	xns = measure(xxh3_pass, &h, h.n);
	snprintf(extra, sizeof(extra), "\"xxh3_direct\":%.2f", xns);
#ifdef PFSE_BENCH_HAVE_DPDK
	if (opt_baseline) {
		bns = measure(crc_pass, &h, h.n);
		have_dpdk = 1;
	}
#endif
	for (unsigned b = 0; b < sizeof(bursts) / sizeof(bursts[0]); b++) {
		double ns;

		h.burst = bursts[b];
		ns = measure(hash_pass, &h, h.n);
		emit("hash", "mix", h.burst, h.n, ns, have_dpdk ? "dpdk-rte_hash_crc" : NULL,
		     bns, extra);
	}
	free(h.keys);
	free(h.out);
	free(m.frames);
	free(m.pkts);
	free(m.pp);
	pfse_parser_destroy(ps);
}

/* ---- table ------------------------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Indices of `n` packets over `flows` flows: uniform, or Zipf(0.99) by rank with the
 * ranks shuffled over the flows (popular flows are spread over the table). */
static uint32_t *
make_pattern(uint32_t flows, unsigned n, int zipf)
{
	uint32_t *idx = malloc((size_t)n * sizeof(*idx));

	if (!idx)
		exit(1);
	if (!zipf) {
		for (unsigned i = 0; i < n; i++)
			idx[i] = (uint32_t)(rng() % flows);
	} else {
		double *cdf = malloc((size_t)flows * sizeof(*cdf)), sum = 0;
		uint32_t *perm = malloc((size_t)flows * sizeof(*perm));

		if (!cdf || !perm)
			exit(1);
		for (uint32_t r = 0; r < flows; r++) {
			sum += 1.0 / pow((double)r + 1, 0.99);
			cdf[r] = sum;
			perm[r] = r;
		}
		for (uint32_t r = flows - 1; r > 0; r--) {
			uint32_t j = (uint32_t)(rng() % (r + 1)), x = perm[r];

			perm[r] = perm[j];
			perm[j] = x;
		}
		for (unsigned i = 0; i < n; i++) {
			double u = (double)(rng() >> 11) / 9007199254740992.0 * sum;
			uint32_t lo = 0, hi = flows - 1;

			while (lo < hi) {
				uint32_t mid = lo + (hi - lo) / 2;

				if (cdf[mid] < u)
					lo = mid + 1;
				else
					hi = mid;
			}
			idx[i] = perm[lo];
		}
		free(cdf);
		free(perm);
	}
	return idx;
}

struct table_ctx {
	struct pfse_flow_table *t;
	const struct pfse_flow_key *keys;
	const uint64_t *hashes; /* the keys' hashes, as a parser with PFSE_PARSE_F_HASH gives */
	const uint32_t *idx;
	unsigned n, burst;
	uint64_t ts;
	struct pfse_pkt pkts[PFSE_BURST_MAX];
	struct pfse_pkt *pp[PFSE_BURST_MAX];
};

/* As a data path does: the burst's pkt array is reused and each packet's key is copied
 * in (a parser would write it there) from the pattern's key sequence, which is read
 * sequentially, as keys fresh from parsing are in cache; then the burst is updated. The
 * rte_hash baseline reads the same sequence. */
static uint64_t
table_update_pass(void *ctx)
{
	struct table_ctx *c = ctx;
	uint32_t flows[PFSE_BURST_MAX];
	uint64_t s = 0;

	for (unsigned i = 0; i + c->burst <= c->n; i += c->burst) {
		for (unsigned j = 0; j < c->burst; j++) {
			c->pkts[j].key = c->keys[i + j];
			c->pkts[j].ts = c->ts;
			c->pkts[j].flags = j & 1 ? PFSE_PKT_F_REVERSE : 0;
			if (c->hashes) {
				c->pkts[j].hash = c->hashes[i + j];
				c->pkts[j].flags |= PFSE_PKT_F_HASH;
			}
		}
		s += (uint64_t)pfse_flow_table_update_burst(c->t, c->pp, c->burst, flows, NULL);
		c->ts += 1000;
	}
	return s;
}

static uint64_t
table_lookup_pass(void *ctx)
{
	struct table_ctx *c = ctx;
	struct pfse_flow_key k[PFSE_BURST_MAX];
	uint32_t flows[PFSE_BURST_MAX];
	uint64_t s = 0;

	for (unsigned i = 0; i + c->burst <= c->n; i += c->burst) {
		for (unsigned j = 0; j < c->burst; j++)
			k[j] = c->keys[i + j];
		s += (uint64_t)pfse_flow_table_lookup_burst(c->t, k, c->burst, flows, NULL);
	}
	return s;
}

#ifdef PFSE_BENCH_HAVE_DPDK
struct dpdk_table_ctx {
	const uint8_t *keys;
	const uint32_t *idx;
	unsigned n, burst;
	uint64_t ts;
	int update;
};

static uint64_t
dpdk_table_pass(void *ctx)
{
	struct dpdk_table_ctx *c = ctx;
	uint64_t r = baseline_dpdk_table_run(c->keys, c->idx, c->n, c->burst, c->ts, c->update);

	c->ts += (uint64_t)c->n / c->burst * 1000;
	return r;
}
#endif

static struct pfse_flow_table *
table_new_flags(uint32_t flows, size_t *bytes, uint32_t flags)
{
	struct pfse_flow_table_params p;
	struct pfse_flow_table *t = NULL;
	int r;

	pfse_flow_table_params_init(&p);
	p.capacity = flows;
	p.flags = flags;
	p.seed = 0x5eed;
	p.series_len = 8;
	p.slot_size = 64;
	p.new_flow_rate = 0xffffffffu;
	if (getenv("XIV"))
		p.interval_ns = strtoull(getenv("XIV"), NULL, 0);
	r = pfse_flow_table_memsize(&p, bytes);
	if (r == 0)
		r = pfse_flow_table_create(&p, &t);
	if (r < 0) {
		fprintf(stderr, "pfse-bench: flow table of %u: %s\n", flows, pfse_strerror(r));
		exit(1);
	}
	return t;
}

static struct pfse_flow_table *
table_new(uint32_t flows, size_t *bytes)
{
	return table_new_flags(flows, bytes, 0);
}

static double
table_fill(struct pfse_flow_table *t, const struct pfse_flow_key *keys, uint32_t flows);

/* table-update on packets that carry their hash (a parser's, with the table's seed):
 * the table taking it (PFSE_FT_F_PKT_HASH) against the same table hashing each key,
 * timed alternately on the same Zipf(0.99) sequence. */
static void
table_pkt_hash(const struct pfse_flow_key *keys, uint32_t flows)
{
	uint32_t *idx = make_pattern(flows, opt_samples, 1);
	struct pfse_flow_key *seq = malloc((size_t)opt_samples * sizeof(*seq));
	uint64_t *hv = malloc((size_t)opt_samples * sizeof(*hv));
	struct pfse_flow_table *t[2];
	struct table_ctx c[2];
	size_t bytes;
	double ns, bns;
	char extra[128];

	if (!idx || !seq || !hv)
		exit(1);
	for (unsigned i = 0; i < opt_samples; i++) {
		seq[i] = keys[idx[i]];
		pfse_flow_key_hash(&seq[i], 0x5eed, &hv[i]);
	}
	for (int k = 0; k < 2; k++) {
		t[k] = table_new_flags(flows, &bytes,
				       PFSE_FT_F_FIXED_SEED | (k ? 0 : PFSE_FT_F_PKT_HASH));
		table_fill(t[k], keys, flows);
		memset(&c[k], 0, sizeof(c[k]));
		c[k].t = t[k];
		c[k].keys = seq;
		c[k].hashes = hv;
		c[k].n = opt_samples;
		c[k].burst = 32;
		c[k].ts = 2000000000ull;
		for (unsigned j = 0; j < PFSE_BURST_MAX; j++) {
			c[k].pkts[j].status = PFSE_PARSE_OK;
			c[k].pkts[j].wirelen = 100 + j;
			c[k].pp[j] = &c[k].pkts[j];
		}
	}
	measure_pair(table_update_pass, &c[0], table_update_pass, &c[1],
		     opt_samples / 32 * 32, &ns, &bns, &emit_ratio);
	snprintf(extra, sizeof(extra), "\"flows\":%u,\"dist\":\"zipf0.99\"", flows);
	emit("table-update-pkt-hash", "ipv6", 32, flows, ns, "table-update", bns, extra);
	for (int k = 0; k < 2; k++)
		pfse_flow_table_destroy(t[k]);
	free(hv);
	free(seq);
	free(idx);
}

/* Inserts every flow once, in bursts of 32; returns ns per insert. */
static double
table_fill(struct pfse_flow_table *t, const struct pfse_flow_key *keys, uint32_t flows)
{
	struct pfse_pkt pkts[32], *pp[32];
	uint32_t out[32];
	uint64_t t0 = bench_now_ns();

	memset(pkts, 0, sizeof(pkts));
	for (unsigned j = 0; j < 32; j++) {
		pkts[j].status = PFSE_PARSE_OK;
		pkts[j].wirelen = 100;
		pkts[j].ts = 1000000000ull;
		pp[j] = &pkts[j];
	}
	for (uint32_t i = 0; i < flows; i += 32) {
		unsigned n = flows - i < 32 ? flows - i : 32;

		for (unsigned j = 0; j < n; j++)
			pkts[j].key = keys[i + j];
		pfse_flow_table_update_burst(t, pp, n, out, NULL);
	}
	return (double)(bench_now_ns() - t0) / flows;
}

static void
case_table(void)
{
	for (unsigned fi = 0; fi < opt_nflows; fi++) {
		uint32_t flows = opt_flows[fi];
		struct pfse_flow_key *keys = calloc(flows, sizeof(*keys));
		struct pfse_flow_table *t;
		struct pfse_flow_table_stats st;
		size_t bytes = 0, dbytes = 0;
		double ins, dins = 0;
		char extra[256];
		int have_dpdk = 0;

		if (!keys)
			exit(1);
		for (uint32_t i = 0; i < flows; i++) {
			uint64_t a = rng(), b = rng(), c = rng(), d = rng(), e = rng();

			memcpy(keys[i].src, &a, 8);
			memcpy(keys[i].src + 8, &b, 8);
			memcpy(keys[i].dst, &c, 8);
			memcpy(keys[i].dst + 8, &d, 8);
			memcpy(&keys[i].sport, &e, 4);
			keys[i].proto = 6;
			keys[i].family = PFSE_FAMILY_IPV6;
		}
		t = table_new(flows, &bytes);
		ins = table_fill(t, keys, flows);
		pfse_flow_table_stats_init(&st);
		pfse_flow_table_stats(t, &st);
		if (st.flows != flows)
			fprintf(stderr,
				"pfse-bench: table of %u holds %llu after fill (%llu evicted)\n",
				flows, (unsigned long long)st.flows,
				(unsigned long long)st.evicted);
#ifdef PFSE_BENCH_HAVE_DPDK
		if (opt_baseline && baseline_dpdk_table_create(flows, &dbytes) == 0) {
			uint64_t t0 = bench_now_ns();

			baseline_dpdk_table_insert((const uint8_t *)keys, flows);
			dins = (double)(bench_now_ns() - t0) / flows;
			have_dpdk = 1;
		}
#endif
		if (have_dpdk)
			snprintf(extra, sizeof(extra),
				 "\"flows\":%u,\"dist\":\"-\",\"bytes_per_flow\":%.1f,"
				 "\"baseline_bytes_per_flow\":%.1f",
				 flows, (double)bytes / flows, (double)dbytes / flows);
		else
			snprintf(extra, sizeof(extra),
				 "\"flows\":%u,\"dist\":\"-\",\"bytes_per_flow\":%.1f", flows,
				 (double)bytes / flows);
		emit("table-insert", "ipv6", 32, flows, ins, have_dpdk ? "dpdk-rte_hash" : NULL,
		     dins, extra);
		for (int zipf = 0; zipf < 2; zipf++) {
			uint32_t *idx = make_pattern(flows, opt_samples, zipf);
			struct pfse_flow_key *seq = malloc((size_t)opt_samples * sizeof(*seq));
			struct table_ctx c;
			double ns, bns = 0;

			if (!seq)
				exit(1);
			for (unsigned i = 0; i < opt_samples; i++)
				seq[i] = keys[idx[i]];
			memset(&c, 0, sizeof(c));
			c.t = t;
			c.keys = seq;
			c.idx = idx;
			c.n = opt_samples;
			c.burst = 32;
			c.ts = 2000000000ull;
			for (unsigned j = 0; j < PFSE_BURST_MAX; j++) {
				c.pkts[j].status = PFSE_PARSE_OK;
				c.pkts[j].wirelen = 100 + j;
				c.pp[j] = &c.pkts[j];
			}
			snprintf(extra, sizeof(extra),
				 "\"flows\":%u,\"dist\":\"%s\",\"bytes_per_flow\":%.1f", flows,
				 zipf ? "zipf0.99" : "uniform", (double)bytes / flows);
			for (int lookup = 0; lookup < 2; lookup++) {
				pass_fn ours = lookup ? table_lookup_pass : table_update_pass;

				ns = 0;
#ifdef PFSE_BENCH_HAVE_DPDK
				if (have_dpdk) {
					struct dpdk_table_ctx d = { (const uint8_t *)seq, NULL, c.n,
								    32, c.ts, !lookup };

					measure_pair(ours, &c, dpdk_table_pass, &d,
						     c.n / c.burst * c.burst, &ns, &bns,
						     &emit_ratio);
				}
#endif
				if (!have_dpdk)
					ns = measure(ours, &c, c.n / c.burst * c.burst);
				emit(lookup ? "table-lookup" : "table-update", "ipv6", 32, flows,
				     ns, have_dpdk ? "dpdk-rte_hash" : NULL, bns, extra);
			}
			free(idx);
			free(seq);
		}
#ifdef PFSE_BENCH_HAVE_DPDK
		if (have_dpdk)
			baseline_dpdk_table_destroy();
#endif
		pfse_flow_table_destroy(t);
		table_pkt_hash(keys, flows);
		free(keys);
	}
}

/* ---- predict -------------------------------------------------------------------------- */

struct predict_ctx {
	struct pfse_predictor *pred;
	uint8_t *states;
	size_t stride;
	const uint32_t *idx;
	const double *values;
	unsigned n;
	int forecast;
	int burst;
};

static uint64_t
predict_pass(void *ctx)
{
	struct predict_ctx *c = ctx;
	double sum = 0;

	if (c->burst) {
		/* The flows whose interval closed in a burst, updated together (then, with
		 * `forecast`, each forecast one step ahead, as the policy will need). */
		for (unsigned i = 0; i + 32 <= c->n; i += 32) {
			void *st[32];
			uint64_t an;

			for (unsigned j = 0; j < 32; j++)
				st[j] = c->states + c->stride * c->idx[i + j];
			sum += pfse_predictor_observe_burst(c->pred, st, c->values + i, 32, NULL,
							    &an);
			for (unsigned j = 0; c->forecast && j < 32; j++) {
				struct pfse_forecast f;

				pfse_predictor_forecast(c->pred, st[j], 1, 0.8, &f);
				sum += f.mean;
			}
		}
		return (uint64_t)sum;
	}
	for (unsigned i = 0; i < c->n; i++) {
		void *st = c->states + c->stride * c->idx[i];

		pfse_predictor_observe(c->pred, st, c->values[i], NULL);
		if (c->forecast) {
			struct pfse_forecast f;

			pfse_predictor_forecast(c->pred, st, 1, 0.8, &f);
			sum += f.mean;
		}
	}
	return (uint64_t)sum;
}

#ifdef PFSE_BENCH_HAVE_NDPI
struct ndpi_ctx {
	uint8_t *states;
	size_t stride;
	const uint32_t *idx;
	const double *values;
	unsigned n;
};

static uint64_t
ndpi_pass(void *ctx)
{
	struct ndpi_ctx *c = ctx;

	return (uint64_t)baseline_ndpi_des_run(c->states, c->stride, c->idx, c->values, c->n);
}
#endif

static struct pfse_predictor *
bench_predictor(const char *name, const struct pfse_model_params *m)
{
	struct pfse_predictor_params p;
	struct pfse_predictor *pred = NULL;

	pfse_predictor_params_init(&p);
	p.ops = pfse_predictor_backend(name);
	p.model = m;
	if (pfse_predictor_create(&p, &pred) < 0)
		exit(1);
	return pred;
}

/* A model file of hidden size H with random weights (the timing does not depend on
 * them), loaded. */
/* A random LSTM of hidden size H, through the model file format; its floats (W, b, Wy,
 * by, as in the file) are copied to `floats` when not NULL. */
static struct pfse_lstm *
random_lstm(uint32_t H, float *floats)
{
	uint32_t nf = (4 + H) * 4 * H + 4 * H + 2 * H + 2;
	size_t len = 48 + (size_t)nf * 4 + 8;
	uint8_t *b = calloc(1, len), *p = b;
	struct pfse_lstm *m = NULL;
	double mu = 6, sd = 2;
	uint64_t x;

	if (!b)
		exit(1);
	memcpy(p, "PFSELSTM", 8);
	p[8] = 1;
	p[12] = 48;
	p[16] = (uint8_t)H;
	p[20] = 4;
	memcpy(p + 24, &mu, 8);
	memcpy(p + 32, &sd, 8);
	for (uint32_t i = 0; i < nf; i++) {
		float f = (float)((double)(rng() % 2001) / 1000.0 - 1.0) * 0.5f;

		memcpy(p + 48 + 4 * i, &f, 4);
		if (floats)
			floats[i] = f;
	}
	x = XXH3_64bits(b, len - 8);
	memcpy(b + len - 8, &x, 8);
	if (pfse_lstm_load(b, len, NULL, &m) < 0)
		exit(1);
	free(b);
	return m;
}

/*
 * Baseline for lstm-step: the LSTM step as it is usually first written in plain C, on
 * the same weights and inputs: one dot product per gate unit over the concatenated
 * [x, h] (weights transposed to gate-major rows), libm expf/tanhf, then the head.
 */
struct naive_lstm {
	uint32_t H;
	float *Wt;   /* 4H rows of (4 + H) */
	float *b, *Wy, by[2];
	double mu, sd;
	float h[16], c[16], prev;
	uint32_t n;
	const double *values;
	unsigned nv;
};

static void
naive_lstm_init(struct naive_lstm *nl, uint32_t H, const float *floats)
{
	uint32_t I = 4, G = 4 * H;
	const float *W = floats, *b = W + (I + H) * G;

	memset(nl, 0, sizeof(*nl));
	nl->H = H;
	nl->Wt = malloc((size_t)G * (I + H) * sizeof(float));
	if (!nl->Wt)
		exit(1);
	for (uint32_t k = 0; k < G; k++)
		for (uint32_t j = 0; j < I + H; j++)
			nl->Wt[k * (I + H) + j] = W[j * G + k];
	nl->b = (float *)(uintptr_t)b;
	nl->Wy = (float *)(uintptr_t)(b + G);
	nl->by[0] = b[G + 2 * H];
	nl->by[1] = b[G + 2 * H + 1];
	nl->mu = 6;
	nl->sd = 2;
}

static float
naive_sigmoid(float x)
{
	return 1.0f / (1.0f + expf(-x));
}

static double
naive_lstm_step(struct naive_lstm *nl, double y)
{
	uint32_t H = nl->H, I = 4, G = 4 * H;
	float in[4 + 16], z[64], mu = nl->by[0], lv = nl->by[1];
	float f0 = (float)((y - nl->mu) / nl->sd);

	in[0] = f0;
	in[1] = nl->n ? f0 - nl->prev : 0;
	in[2] = (float)(nl->n < 64 ? nl->n : 64) / 64.0f;
	in[3] = y == 0;
	for (uint32_t j = 0; j < H; j++)
		in[I + j] = nl->h[j];
	for (uint32_t k = 0; k < G; k++) {
		float a = nl->b[k];

		for (uint32_t j = 0; j < I + H; j++)
			a += nl->Wt[k * (I + H) + j] * in[j];
		z[k] = a;
	}
	for (uint32_t k = 0; k < H; k++) {
		float ig = naive_sigmoid(z[k]), fg = naive_sigmoid(z[H + k]);
		float gg = tanhf(z[2 * H + k]), og = naive_sigmoid(z[3 * H + k]);

		nl->c[k] = fg * nl->c[k] + ig * gg;
		nl->h[k] = og * tanhf(nl->c[k]);
	}
	for (uint32_t k = 0; k < H; k++) {
		mu += nl->Wy[2 * k] * nl->h[k];
		lv += nl->Wy[2 * k + 1] * nl->h[k];
	}
	nl->prev = f0;
	nl->n++;
	return mu + expf(lv);
}

static uint64_t
naive_lstm_pass(void *ctx)
{
	struct naive_lstm *nl = ctx;
	double sum = 0;

	for (unsigned i = 0; i < nl->nv; i++)
		sum += naive_lstm_step(nl, nl->values[i]);
	return (uint64_t)sum;
}

/* The library's step: the backend's observe on one state (what the predictor core calls
 * for each closed interval of a flow; the next forecast is cached in the state). */
struct lstm_step_ctx {
	const struct pfse_predictor_ops *ops;
	struct pfse_lstm *m;
	void *state;
	const double *values;
	unsigned nv;
};

static uint64_t
lstm_step_pass(void *ctx)
{
	struct lstm_step_ctx *c = ctx;

	for (unsigned i = 0; i < c->nv; i++)
		c->ops->observe(c->m, c->state, c->values[i], NULL);
	return c->nv;
}

/* One-step SSE of Holt (statsmodels form) with given alpha, beta, from level y[0]. */
static double
holt_sse(const double *y, unsigned n, double a, double b)
{
	double l = y[0], tr = 0, sse = 0;

	for (unsigned t = 1; t < n; t++) {
		double e = y[t] - (l + tr), l2 = a * y[t] + (1 - a) * (l + tr);

		sse += e * e;
		tr = b * (l2 - l) + (1 - b) * tr;
		l = l2;
	}
	return sse;
}

struct fit_ctx {
	double y[200];
	int arima;
};

static uint64_t
fit_pass(void *ctx)
{
	struct fit_ctx *c = ctx;
	struct pfse_model_params m;
	struct pfse_predictor *pred;
	struct pfse_fit_report rep;
	const double *series[1] = { c->y };
	uint32_t lens[1] = { 200 };
	uint64_t s;

	pfse_model_params_init(&m);
	if (c->arima) {
		m.p = 1;
		m.d = 1;
		m.q = 1;
	}
	pred = bench_predictor(c->arima ? "arima" : "holt", &m);
	pfse_fit_report_init(&rep);
	pfse_predictor_fit(pred, series, lens, 1, 0, &rep);
	s = (uint64_t)rep.sse;
	if (c->arima) {
		static uint64_t st[32];
		struct pfse_forecast f;
		struct pfse_prior pr;

		pfse_prior_init(&pr);
		pr.level = c->y[0];
		pfse_predictor_flow_init(pred, st, &pr);
		for (unsigned t = 0; t < 200; t++)
			pfse_predictor_observe(pred, st, c->y[t], NULL);
		pfse_predictor_forecast(pred, st, 10, 0.95, &f);
		s += (uint64_t)f.mean;
	}
	pfse_predictor_destroy(pred);
	return s;
}

#ifdef PFSE_BENCH_HAVE_NDPI
static uint64_t
ndpi_fit_pass(void *ctx)
{
	struct fit_ctx *c = ctx;
	double a, b;

	baseline_ndpi_des_fit(c->y, 200, &a, &b);
	return (uint64_t)(a * 1000 + b);
}
#endif

/*
 * lstm-step-hH: one step of the LSTM backend (hot state), against the naive plain-C step
 * on the same weights. lstm-update-hH: a flow update through the predictor (log1p, the
 * anomaly score, the step), in bursts of 32 over --flows flows and on one hot state,
 * against a Holt update measured in the same way.
 */
static void
case_lstm(void)
{
	unsigned n = opt_samples;
	double *values = malloc((size_t)n * sizeof(*values)), *logv;

	logv = malloc((size_t)n * sizeof(*logv));
	if (!values || !logv)
		exit(1);
	for (unsigned i = 0; i < n; i++) {
		values[i] = 1000 + (double)(rng() % 10000);
		logv[i] = log1p(values[i]);
	}
	for (uint32_t H = 8; H <= 16; H *= 2) {
		float floats[(4 + 16) * 64 + 64 + 32 + 2];
		struct pfse_lstm *lm = random_lstm(H, floats);
		char name[32], extra[160];

		/* the step */
		{
			struct lstm_step_ctx sc;
			struct naive_lstm nl;
			struct pfse_prior pr;
			uint64_t st[64] = { 0 };
			double ns, bns;

			sc.ops = pfse_predictor_backend("lstm");
			sc.m = lm;
			sc.state = st;
			sc.values = logv;
			sc.nv = n < (1u << 16) ? n : (1u << 16);
			pfse_prior_init(&pr);
			sc.ops->flow_init(lm, st, &pr, NULL);
			naive_lstm_init(&nl, H, floats);
			nl.values = logv;
			nl.nv = sc.nv;
			measure_pair(lstm_step_pass, &sc, naive_lstm_pass, &nl, sc.nv, &ns, &bns,
				     &emit_ratio);
			snprintf(name, sizeof(name), "lstm-step-h%u", H);
			snprintf(extra, sizeof(extra), "\"flows\":1,\"state\":\"hot\"");
			emit(name, "lstm", 1, sc.nv, ns, "naive-c-lstm-step", bns, extra);
			free(nl.Wt);
		}
		/* the flow update */
		for (unsigned fi = 0; fi < opt_nflows; fi++) {
			uint32_t flows = opt_flows[fi];
			uint32_t *idx = make_pattern(flows, n, 0);

			for (int hot = 0; hot < 2; hot++) {
				struct pfse_model_params m, hm;
				struct pfse_predictor_params pp;
				struct predict_ctx c, hc;
				double ns, bns;

				memset(&c, 0, sizeof(c));
				pfse_model_params_init(&m);
				m.flags = PFSE_MODEL_F_LOG1P;
				pfse_predictor_params_init(&pp);
				pp.ops = pfse_predictor_backend("lstm");
				pp.model = &m;
				pp.user = lm;
				if (pfse_predictor_create(&pp, &c.pred) < 0)
					exit(1);
				c.stride = (pfse_predictor_state_size(c.pred) + 7) & ~(size_t)7;
				c.states = aligned_alloc(64, ((size_t)flows * c.stride + 63) &
								     ~(size_t)63);
				if (!c.states)
					exit(1);
				for (uint32_t f = 0; f < flows; f++)
					pfse_predictor_flow_init(c.pred, c.states + c.stride * f,
								 NULL);
				c.idx = idx;
				c.values = values;
				c.n = n / 32 * 32;
				c.burst = 1;
				if (hot) {
					static uint32_t zero[1 << 16];

					c.idx = zero;
					c.n = n < (1u << 16) ? n : (1u << 16);
				}
				hc = c;
				pfse_model_params_init(&hm);
				hc.pred = bench_predictor("holt", &hm);
				hc.stride = 64;
				hc.states = aligned_alloc(64, (size_t)flows * hc.stride);
				if (!hc.states)
					exit(1);
				for (uint32_t f = 0; f < flows; f++)
					pfse_predictor_flow_init(hc.pred, hc.states + hc.stride * f,
								 NULL);
				measure_pair(predict_pass, &c, predict_pass, &hc, c.n, &ns, &bns,
					     &emit_ratio);
				snprintf(extra, sizeof(extra), "\"flows\":%u,\"state\":\"%s\","
					 "\"state_bytes\":%zu",
					 hot ? 1 : flows, hot ? "hot" : "spread",
					 pfse_predictor_state_size(c.pred));
				snprintf(name, sizeof(name), "lstm-update-h%u", H);
				emit(name, "lstm", 32, c.n, ns, "holt-update", bns, extra);
				pfse_predictor_destroy(c.pred);
				pfse_predictor_destroy(hc.pred);
				free(c.states);
				free(hc.states);
			}
			free(idx);
		}
		pfse_lstm_destroy(lm);
	}
	free(values);
	free(logv);
}

static void
case_predict(void)
{
	for (unsigned fi = 0; fi < opt_nflows; fi++) {
		uint32_t flows = opt_flows[fi];
		struct pfse_model_params m;
		struct predict_ctx c;
		char extra[160];
		unsigned n = opt_samples;
		uint32_t *idx = make_pattern(flows, n, 0);
		double *values = malloc((size_t)n * sizeof(*values));

		if (!values)
			exit(1);
		for (unsigned i = 0; i < n; i++)
			values[i] = 1000 + (double)(rng() % 10000);
		for (int hot = 0; hot < 2; hot++) {
			double ns, bns = 0;
			int have = 0;

			memset(&c, 0, sizeof(c));
			pfse_model_params_init(&m);
			c.pred = bench_predictor("holt", &m);
			c.stride = 64; /* a flow table slot */
			c.states = aligned_alloc(64, (size_t)flows * c.stride);
			if (!c.states)
				exit(1);
			for (uint32_t f = 0; f < flows; f++)
				pfse_predictor_flow_init(c.pred, c.states + c.stride * f, NULL);
			c.idx = idx;
			c.values = values;
			c.n = n / 32 * 32;
			c.burst = !hot;
			if (hot) {
				static uint32_t zero[1 << 16];

				c.idx = zero;
				c.n = n < (1u << 16) ? n : (1u << 16);
			}
#ifdef PFSE_BENCH_HAVE_NDPI
			{
				struct ndpi_ctx d;
				size_t dsz = (baseline_ndpi_des_size() + 7) & ~(size_t)7;

				d.stride = dsz;
				d.states = aligned_alloc(64,
							 ((size_t)flows * dsz + 63) & ~(size_t)63);
				if (!d.states)
					exit(1);
				baseline_ndpi_des_init(d.states, d.stride, flows, 0.5, 0.1);
				d.idx = c.idx;
				d.values = values;
				d.n = c.n;
				measure_pair(predict_pass, &c, ndpi_pass, &d, c.n, &ns, &bns,
					     &emit_ratio);
				have = 1;
				free(d.states);
			}
#endif
			if (!have)
				ns = measure(predict_pass, &c, c.n);
			snprintf(extra, sizeof(extra), "\"flows\":%u,\"state\":\"%s\"",
				 hot ? 1 : flows, hot ? "hot" : "spread");
			emit("predict-holt-update", "holt", hot ? 1 : 32, c.n, ns,
			     have ? "ndpi-des_add_value" : NULL, bns, extra);
			pfse_predictor_destroy(c.pred);
			free(c.states);
		}
		/* ARIMA(1,1,1): observe + one-step forecast per flow update. */
		{
			double ns;

			memset(&c, 0, sizeof(c));
			pfse_model_params_init(&m);
			m.p = 1;
			m.d = 1;
			m.q = 1;
			m.ar[0] = 0.5;
			m.ma[0] = -0.3;
			c.pred = bench_predictor("arima", &m);
			c.stride = pfse_predictor_state_size(c.pred);
			c.states = aligned_alloc(64, ((size_t)flows * c.stride + 63) & ~(size_t)63);
			if (!c.states)
				exit(1);
			for (uint32_t f = 0; f < flows; f++)
				pfse_predictor_flow_init(c.pred, c.states + c.stride * f, NULL);
			c.idx = idx;
			c.values = values;
			c.n = n / 32 * 32;
			c.forecast = 1;
			c.burst = 1;
			ns = measure(predict_pass, &c, c.n);
			snprintf(extra, sizeof(extra), "\"flows\":%u", flows);
			emit("predict-arima-step", "arima111", 32, c.n, ns, NULL, 0, extra);
			pfse_predictor_destroy(c.pred);
			free(c.states);
		}
		free(idx);
		free(values);
	}
	/* Fits of one 200-point series. */
	{
		struct fit_ctx fc;
		double ns, bns = 0, l = 1000;
		char extra[200];
		int have = 0;

		for (unsigned t = 0; t < 200; t++) {
			l += 2.0 + (double)(rng() % 2001) / 100.0 - 10.0;
			fc.y[t] = l + (double)(rng() % 4001) / 100.0 - 20.0;
		}
		if (opt_fit_series) {
			FILE *fp = fopen(opt_fit_series, "w");

			if (!fp) {
				fprintf(stderr, "pfse-bench: %s: %s\n", opt_fit_series,
					strerror(errno));
				exit(1);
			}
			for (unsigned t = 0; t < 200; t++)
				fprintf(fp, "%.17g\n", fc.y[t]);
			fclose(fp);
		}
		fc.arima = 0;
		{
			struct pfse_predictor *pred = bench_predictor("holt", NULL);
			struct pfse_fit_report rep;
			const double *series[1] = { fc.y };
			uint32_t lens[1] = { 200 };
			double a = 0, b = 0, nsse = NAN;

			pfse_fit_report_init(&rep);
			pfse_predictor_fit(pred, series, lens, 1, 0, &rep);
			pfse_predictor_destroy(pred);
#ifdef PFSE_BENCH_HAVE_NDPI
			{
				double ycopy[200];

				memcpy(ycopy, fc.y, sizeof(ycopy));
				baseline_ndpi_des_fit(ycopy, 200, &a, &b);
				nsse = holt_sse(fc.y, 200, a, b);
				measure_pair(fit_pass, &fc, ndpi_fit_pass, &fc, 1, &ns, &bns,
					     &emit_ratio);
				have = 1;
			}
#endif
			if (!have)
				ns = measure(fit_pass, &fc, 1);
			snprintf(extra, sizeof(extra),
				 "\"sse\":%.1f,\"baseline_sse\":%.1f,\"baseline_alpha\":%.3f,"
				 "\"baseline_beta\":%.3f",
				 rep.sse, nsse, a, b);
			emit("predict-fit", "holt", 1, 200, ns, have ? "ndpi-des_fitting" : NULL,
			     bns, extra);
		}
		fc.arima = 1;
		ns = measure(fit_pass, &fc, 1);
		{
			struct pfse_model_params m;
			struct pfse_predictor *pred;
			struct pfse_fit_report rep;
			const double *series[1] = { fc.y };
			uint32_t lens[1] = { 200 };

			pfse_model_params_init(&m);
			m.p = 1;
			m.d = 1;
			m.q = 1;
			pred = bench_predictor("arima", &m);
			pfse_fit_report_init(&rep);
			pfse_predictor_fit(pred, series, lens, 1, 0, &rep);
			pfse_predictor_destroy(pred);
			snprintf(extra, sizeof(extra),
				 "\"what\":\"CSS fit + 10-step forecast\",\"sse\":%.3f,"
				 "\"sigma2\":%.4f,\"aicc\":%.3f",
				 rep.sse, rep.sigma2, rep.aicc);
		}
		emit("predict-arima-fit", "arima111", 1, 200, ns, NULL, 0, extra);
	}
}

/* ---- main ------------------------------------------------------------------------------- */

/* ---- engine ------------------------------------------------------------------------- */

struct engine_ctx {
	struct pfse_engine *e;
	const struct pfse_flow_key *keys;
	unsigned n;
	uint64_t ts;
	int process;
	struct pfse_pkt pkts[32];
	struct pfse_pkt *pp[32];
};

static void
nop_forward(struct pfse_pkt *pkt, uint32_t node, void *node_user, void *user)
{
	(void)pkt;
	(void)node_user;
	sink += node;
	(void)user;
}

static uint32_t
nop_rewrite(struct pfse_pkt *pkt, uint32_t flow, void *user)
{
	(void)pkt;
	(void)user;
	return flow & 3;
}

static void
nop_transmit(struct pfse_pkt *pkt, void *user)
{
	(void)user;
	sink += pkt->wirelen;
}

static uint64_t
engine_pass(void *ctx)
{
	struct engine_ctx *c = ctx;
	struct pfse_decision d[32];
	uint64_t s = 0;

	for (unsigned i = 0; i + 32 <= c->n; i += 32) {
		for (unsigned j = 0; j < 32; j++) {
			c->pkts[j].key = c->keys[i + j];
			c->pkts[j].ts = c->ts;
			c->pkts[j].flags = j & 1 ? PFSE_PKT_F_REVERSE : 0;
		}
		if (c->process)
			s += (uint64_t)pfse_engine_process(c->e, c->pp, 32);
		else
			s += (uint64_t)pfse_engine_classify(c->e, c->pp, 32, d) + d[0].node;
		c->ts += 1000;
	}
	pfse_engine_advance(c->e, c->ts, 64);
	return s;
}

static struct pfse_cluster *
bench_cluster(uint32_t nodes_per_tier, unsigned tiers)
{
	static const uint32_t kinds[3] = { PFSE_TIER_KIND_STANDARD, PFSE_TIER_KIND_HIGH_PERF,
					   PFSE_TIER_KIND_INSPECTION };
	static const char *const names[3] = { "standard", "high-perf", "inspection" };
	struct pfse_cluster_params cp;
	struct pfse_cluster *cl = NULL;

	pfse_cluster_params_init(&cp);
	cp.max_nodes = nodes_per_tier * tiers;
	cp.max_nodes_per_tier = nodes_per_tier;
	if (pfse_cluster_create(&cp, &cl) < 0)
		exit(1);
	for (unsigned t = 0; t < tiers; t++) {
		struct pfse_tier_params tp;
		uint32_t tier;

		pfse_tier_params_init(&tp);
		tp.name = names[t];
		tp.kind = kinds[t];
		tp.capacity = 10000000000ull;
		if (pfse_cluster_add_tier(cl, &tp, &tier) < 0)
			exit(1);
		for (uint32_t k = 0; k < nodes_per_tier; k += 64) {
			struct pfse_node_params np[64];
			const struct pfse_node_params *npp[64];
			uint32_t m = nodes_per_tier - k < 64 ? nodes_per_tier - k : 64, out[64];

			for (uint32_t j = 0; j < m; j++) {
				pfse_node_params_init(&np[j]);
				np[j].tier = tier;
				np[j].id = 10000ull * t + k + j + 1;
				np[j].capacity = 1250000000ull;
				npp[j] = &np[j];
			}
			if (pfse_cluster_add_nodes(cl, npp, m, out) < 0)
				exit(1);
		}
	}
	return cl;
}

/* advance() when a refit is due: inline (the fits run in it) or with
 * PFSE_ENGINE_F_REFIT_ASYNC (it sets the series aside; pfse_engine_refit() fits). Flows of
 * 10 intervals of 10 ms, 64 at a time, a new set every 100 ms (so that 640 a second end
 * and leave series), an advance() every 10 ms, a refit due every second, for 30 s of
 * packet time. `adv` receives the duration of each advance() that had a refit due,
 * `fit` (async) that of the pfse_engine_refit() call after it; returns how many. */
static unsigned
refit_run(uint32_t flags, double *adv, double *fit, unsigned max)
{
	struct pfse_cluster *cl = bench_cluster(4, 3);
	struct pfse_policy_params pp;
	struct pfse_policy *pol = NULL;
	struct pfse_engine_params ep;
	struct pfse_flow_table_params tp;
	struct pfse_engine *e;
	struct pfse_pkt pkts[64], *pk[64];
	struct pfse_decision d[64];
	uint64_t next = 0;
	unsigned n = 0;

	pfse_policy_params_init(&pp);
	pp.cluster = cl;
	if (pfse_policy_create(&pp, &pol) < 0)
		exit(1);
	pfse_flow_table_params_init(&tp);
	tp.capacity = 1u << 14;
	tp.interval_ns = 10000000;
	tp.timeout_tcp_ns = 50000000;
	pfse_engine_params_init(&ep);
	ep.cluster = cl;
	ep.policy = pol;
	ep.table = &tp;
	ep.refit_ns = 1000000000ull;
	ep.flags = flags;
	if (pfse_engine_create(&ep, &e) < 0)
		exit(1);
	for (unsigned step = 0; step < 3000; step++) {
		uint64_t now = 1000000000ull + step * 10000000ull, t0;

		for (unsigned j = 0; j < 64; j++) {
			uint32_t f = (step / 10) * 64 + j;

			memset(&pkts[j], 0, sizeof(pkts[j]));
			pfse_flow_key_set(&pkts[j].key, PFSE_FAMILY_IPV4, &f, "\x0a\0\0\x02",
					  (uint16_t)(1024 + f % 60000), 443, 6, 0);
			pkts[j].status = PFSE_PARSE_OK;
			pkts[j].wirelen = 100 + (uint32_t)((f * 37 + step * 11) % 1400);
			pkts[j].ts = now + j * 1000;
			pk[j] = &pkts[j];
		}
		if (pfse_engine_classify(e, pk, 64, d) != 64)
			exit(1);
		now += 9000000;
		t0 = bench_now_ns();
		pfse_engine_advance(e, now, 0);
		if (next == 0) {
			next = now + ep.refit_ns; /* the engine's own schedule */
			continue;
		}
		if (now < next)
			continue;
		next = now + ep.refit_ns;
		if (n < max)
			adv[n] = (double)(bench_now_ns() - t0);
		if (flags) {
			t0 = bench_now_ns();
			sink += (uint64_t)pfse_engine_refit(e);
			if (n < max)
				fit[n] = (double)(bench_now_ns() - t0);
		}
		n += n < max;
	}
	pfse_engine_destroy(e);
	pfse_policy_destroy(pol);
	pfse_cluster_destroy(cl);
	return n;
}

static void
case_refit(void)
{
	double ai[64], fi[64], aa[64], fa[64];
	unsigned ni = refit_run(0, ai, fi, 64), na;
	double first = ni ? ai[0] : 0, max = 0, inl;
	char extra[200];

	for (unsigned k = 1; k < ni; k++)
		max = ai[k] > max ? ai[k] : max;
	inl = bench_median(ai, ni); /* (sorts ai) */
	na = refit_run(PFSE_ENGINE_F_REFIT_ASYNC, aa, fa, 64);
	snprintf(extra, sizeof(extra),
		 "\"refits\":%u,\"backends\":\"default (4)\",\"first_ns\":%.0f,\"max_ns\":%.0f",
		 ni, first, max);
	emit("advance-with-refit", "inline", 1, ni, inl, NULL, 0, extra);
	snprintf(extra, sizeof(extra), "\"refits\":%u,\"refit_call_ns\":%.0f", na,
		 bench_median(fa, na));
	emit("advance-with-refit", "async", 1, na, bench_median(aa, na), "inline", inl, extra);
}

static void
case_engine(void)
{
	for (unsigned fi = 0; fi < opt_nflows; fi++) {
		uint32_t flows = opt_flows[fi];
		struct pfse_flow_key *keys = calloc(flows, sizeof(*keys));
		struct pfse_flow_key *seq = malloc((size_t)opt_samples * sizeof(*seq));
		struct pfse_cluster *cl = bench_cluster(8, 3);
		struct pfse_policy_params pp;
		struct pfse_policy *pol = NULL;
		struct pfse_engine_params ep;
		struct pfse_flow_table_params tp;
		struct pfse_engine_backend holt = { pfse_predictor_backend("holt"), NULL };
		struct pfse_io_ops io;
		struct pfse_flow_table *t;
		struct engine_ctx c;
		struct table_ctx tc;
		uint32_t *idx;
		size_t bytes;
		char extra[256];

		if (!keys || !seq)
			exit(1);
		for (uint32_t i = 0; i < flows; i++) {
			uint64_t a = rng(), b = rng(), cc = rng(), d = rng(), e = rng();

			memcpy(keys[i].src, &a, 8);
			memcpy(keys[i].src + 8, &b, 8);
			memcpy(keys[i].dst, &cc, 8);
			memcpy(keys[i].dst + 8, &d, 8);
			memcpy(&keys[i].sport, &e, 4);
			keys[i].proto = 6;
			keys[i].family = PFSE_FAMILY_IPV6;
		}
		idx = make_pattern(flows, opt_samples, 1);
		for (unsigned i = 0; i < opt_samples; i++)
			seq[i] = keys[idx[i]];
		pfse_policy_params_init(&pp);
		pp.cluster = cl;
		pp.bw_enter = 20000; /* bytes/s: the busiest flows go to the high-perf tier */
		if (pfse_policy_create(&pp, &pol) < 0)
			exit(1);
		pfse_io_ops_init(&io);
		io.forward = nop_forward;
		io.rewrite = nop_rewrite;
		io.transmit = nop_transmit;
		pfse_flow_table_params_init(&tp);
		tp.capacity = flows;
		tp.new_flow_rate = 0xffffffffu;
		if (getenv("XIV"))
			tp.interval_ns = strtoull(getenv("XIV"), NULL, 0);
		pfse_engine_params_init(&ep);
		ep.cluster = cl;
		ep.policy = pol;
		ep.io = &io;
		ep.table = &tp;
		ep.backends = &holt;
		ep.nbackends = 1;
		memset(&c, 0, sizeof(c));
		if (pfse_engine_create(&ep, &c.e) < 0)
			exit(1);
		for (unsigned j = 0; j < 32; j++) {
			c.pkts[j].status = PFSE_PARSE_OK;
			c.pkts[j].wirelen = 100 + 40 * j;
			c.pp[j] = &c.pkts[j];
		}
		/* every flow once, then the pattern */
		c.keys = keys;
		c.n = flows;
		c.ts = 1000000000ull;
		engine_pass(&c);
		c.keys = seq;
		c.n = opt_samples;
		/* the bare table, on the same packets and clock */
		t = table_new(flows, &bytes);
		table_fill(t, keys, flows);
		memset(&tc, 0, sizeof(tc));
		tc.t = t;
		tc.keys = seq;
		tc.n = opt_samples;
		tc.burst = 32;
		tc.ts = c.ts;
		for (unsigned j = 0; j < 32; j++) {
			tc.pkts[j].status = PFSE_PARSE_OK;
			tc.pkts[j].wirelen = 100 + 40 * j;
			tc.pp[j] = &tc.pkts[j];
		}
		for (int process = 0; process < 2; process++) {
			struct pfse_engine_stats st;
			double ns, bns;

			c.process = process;
			if (opt_baseline) {
				measure_pair(engine_pass, &c, table_update_pass, &tc,
					     opt_samples / 32 * 32, &ns, &bns, &emit_ratio);
			} else {
				ns = measure(engine_pass, &c, opt_samples / 32 * 32);
				bns = 0;
			}
			st.size = sizeof(st);
			pfse_engine_stats(c.e, &st);
			snprintf(extra, sizeof(extra),
				 "\"flows\":%u,\"dist\":\"zipf0.99\",\"samples_per_packet\":%.4f,"
				 "\"forwarded_share\":%.3f",
				 flows, (double)st.samples / (double)st.packets,
				 (double)st.forwarded / (double)st.packets);
			emit(process ? "engine-process" : "engine-classify", "holt", 32, flows, ns,
			     opt_baseline ? "table-update" : NULL, bns, extra);
		}
		pfse_engine_destroy(c.e);
		pfse_policy_destroy(pol);
		pfse_cluster_destroy(cl);
		pfse_flow_table_destroy(t);
		free(idx);
		free(seq);
		free(keys);
	}
	/* Maglev: a health change (table rebuild + publication) in a tier of N nodes */
	for (uint32_t n = 100; n <= 1000; n *= 10) {
		struct pfse_cluster *cl = bench_cluster(n, 1);
		double samples[101];
		unsigned reps = opt_reps > 101 ? 101 : opt_reps;
		struct pfse_tier_info ti;
		char extra[128];

		for (unsigned r = 0; r < reps; r++) {
			uint64_t t0 = bench_now_ns();

			pfse_cluster_set_node_health(cl, r % n,
						     r % 2 ? PFSE_NODE_UP : PFSE_NODE_DOWN, 0);
			samples[r] = (double)(bench_now_ns() - t0);
		}
		ti.size = sizeof(ti);
		pfse_cluster_tier_info(cl, 0, &ti);
		snprintf(extra, sizeof(extra), "\"nodes\":%u,\"table_size\":%u", n,
			 ti.table_size);
		emit("maglev-build", "health-update", 1, n, bench_median(samples, reps), NULL, 0,
		     extra);
		pfse_cluster_destroy(cl);
	}
}

/* The shared data set: $PFSE_SHARED_DATA, else the one next to the source tree. */
static const char *
shared_dir(void)
{
	const char *env = getenv("PFSE_SHARED_DATA");
	DIR *dd;

	if (env && *env)
		return env;
	dd = opendir(PFSE_BENCH_SHARED);
	if (!dd)
		return NULL;
	closedir(dd);
	return PFSE_BENCH_SHARED;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds the captures of one folder of the shared data set, in name order. */
static void
add_capture_dir(const char *root, const char *sub)
{
	char path[4096];
	struct dirent *de;
	unsigned first = q_ncaptures;
	DIR *dd;

	snprintf(path, sizeof(path), "%s/%s", root, sub);
	dd = opendir(path);
	if (!dd)
		return;
	while ((de = readdir(dd)) && q_ncaptures < 256) {
		size_t n = strlen(de->d_name);

		if ((n > 5 && strcmp(de->d_name + n - 5, ".pcap") == 0) ||
		    (n > 7 && strcmp(de->d_name + n - 7, ".pcapng") == 0)) {
			char *full = malloc(strlen(path) + n + 2);

			if (!full)
				break;
			sprintf(full, "%s/%s", path, de->d_name);
			q_captures[q_ncaptures++] = full;
		}
	}
	closedir(dd);
	qsort(q_captures + first, q_ncaptures - first, sizeof(q_captures[0]), cmp_str);
}

static int
case_quality(void)
{
	static const char *const dirs[] = { "mercury", "ndpi", "slips", "suricata-verify",
					    "tcpreplay", "zeek" };
	/* Two workloads with long flows: web search (DCTCP) and Facebook's web servers.
	 * RPC workloads (for example dist/homa/Google_AllRPC.txt) give almost no flow of 20
	 * intervals; pass them with --dist to see. */
	static const char *const dists[] = { "dist/empirical-traffic-gen/DCTCP_CDF",
					     "dist/homa/Facebook_WebServerDist_IntraCluster.txt" };
	const char *root = shared_dir();
	static char dpaths[2][4096];
	/* data named on the command line replace both default sets */
	int given = q_ncaptures > 0 || q_ndists > 0;

	if (q_lstm_path) {
		FILE *f = fopen(q_lstm_path, "rb");
		static uint8_t buf[65536];
		size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
		struct pfse_lstm *m;
		int r;

		if (f)
			fclose(f);
		r = pfse_lstm_load(buf, n, NULL, &m);
		if (!f || r < 0) {
			fprintf(stderr, "pfse-bench: %s: %s\n", q_lstm_path,
				f ? pfse_strerror(r) : strerror(errno));
			return -1;
		}
		q_opts.lstm = m; /* kept until exit */
	}
	if (given) {
		/* as given */
	} else if (q_ncaptures == 0 && root)
		for (unsigned i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
			add_capture_dir(root, dirs[i]);
	if (q_ncaptures == 0 && !given) {
		q_captures[q_ncaptures++] = PFSE_BENCH_DATA "/ftp-data.pcap";
		q_captures[q_ncaptures++] = PFSE_BENCH_DATA "/quic-vlan-snap128.pcap";
	}
	if (!given && root && q_opts.dist_flows > 0) {
		for (unsigned i = 0; i < 2; i++) {
			snprintf(dpaths[i], sizeof(dpaths[i]), "%s/%s", root, dists[i]);
			q_dists[q_ndists++] = dpaths[i];
		}
	}
	if (q_opts.dist_flows == 0)
		q_ndists = 0;
	if (!root && q_ndists == 0)
		fprintf(stderr, "pfse-bench: no shared data set (PFSE_SHARED_DATA): "
				"forecast-quality runs on the bundled captures only\n");
	q_opts.captures = q_captures;
	q_opts.ncaptures = q_ncaptures;
	q_opts.dists = q_dists;
	q_opts.ndists = q_ndists;
	return quality_run(&q_opts);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: pfse-bench [--list] [--case NAME]... [--reps N] [--min-ms MS]\n"
		   "                  [--capture FILE]... [--no-baseline]\n"
		   "                  [--flows N[,N...]] [--samples N]\n"
		   "                  [--quality-capture FILE]... [--dist FILE]...\n"
		   "                  [--interval-ms MS] [--dist-flows N] [--min-len N]\n"
		   "                  [--fit-series FILE] [--lstm-model FILE]\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "case", required_argument, NULL, 'c' },
		{ "reps", required_argument, NULL, 'r' },
		{ "min-ms", required_argument, NULL, 'm' },
		{ "capture", required_argument, NULL, 'f' },
		{ "no-baseline", no_argument, NULL, 'B' },
		{ "flows", required_argument, NULL, 'F' },
		{ "samples", required_argument, NULL, 'S' },
		{ "quality-capture", required_argument, NULL, 'Q' },
		{ "dist", required_argument, NULL, 'D' },
		{ "interval-ms", required_argument, NULL, 'I' },
		{ "dist-flows", required_argument, NULL, 'N' },
		{ "min-len", required_argument, NULL, 'L' },
		{ "fit-series", required_argument, NULL, 'W' },
		{ "lstm-model", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *selected[8];
	unsigned nsel = 0;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			for (unsigned i = 0; i < sizeof(case_names) / sizeof(case_names[0]); i++)
				printf("%s\n", case_names[i]);
			return 0;
		case 'c':
			if (nsel < 8)
				selected[nsel++] = optarg;
			break;
		case 'r':
			opt_reps = (unsigned)strtoul(optarg, NULL, 10);
			if (opt_reps == 0 || opt_reps > 101) {
				fprintf(stderr, "pfse-bench: --reps must be 1..101\n");
				return 2;
			}
			break;
		case 'm':
			opt_min_ms = strtod(optarg, NULL);
			if (!(opt_min_ms > 0)) {
				fprintf(stderr, "pfse-bench: --min-ms must be > 0\n");
				return 2;
			}
			break;
		case 'f':
			if (load_capture(optarg) < 0)
				return 1;
			break;
		case 'B':
			opt_baseline = 0;
			break;
		case 'F': {
			char *save = NULL, *tok = strtok_r(optarg, ",", &save);

			opt_nflows = 0;
			while (tok && opt_nflows < 4) {
				unsigned long v = strtoul(tok, NULL, 10);

				if (v < 64 || v > PFSE_FT_CAPACITY_MAX) {
					fprintf(stderr, "pfse-bench: --flows: 64..%u\n",
						PFSE_FT_CAPACITY_MAX);
					return 2;
				}
				opt_flows[opt_nflows++] = (uint32_t)v;
				tok = strtok_r(NULL, ",", &save);
			}
			break;
		}
		case 'S':
			opt_samples = (unsigned)strtoul(optarg, NULL, 10);
			if (opt_samples < 64) {
				fprintf(stderr, "pfse-bench: --samples must be >= 64\n");
				return 2;
			}
			break;
		case 'W':
			opt_fit_series = optarg;
			break;
		case 'M':
			q_lstm_path = optarg;
			break;
		case 'Q':
			if (q_ncaptures < 256)
				q_captures[q_ncaptures++] = optarg;
			break;
		case 'D':
			if (q_ndists < 16)
				q_dists[q_ndists++] = optarg;
			break;
		case 'I': {
			double ms = strtod(optarg, NULL);

			if (!(ms >= 1 && ms <= 3600000)) {
				fprintf(stderr, "pfse-bench: --interval-ms must be 1..3600000\n");
				return 2;
			}
			q_opts.interval_ns = (uint64_t)(ms * 1e6);
			break;
		}
		case 'N':
			q_opts.dist_flows = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'L':
			q_opts.min_len = (unsigned)strtoul(optarg, NULL, 10);
			if (q_opts.min_len < 2) {
				fprintf(stderr, "pfse-bench: --min-len must be >= 2\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	for (unsigned i = 0; i < nsel; i++) {
		int known = 0;

		for (unsigned j = 0; j < sizeof(case_names) / sizeof(case_names[0]); j++)
			known |= strcmp(selected[i], case_names[j]) == 0;
		if (!known) {
			fprintf(stderr, "pfse-bench: unknown case '%s' (see --list)\n",
				selected[i]);
			return 2;
		}
	}
	if (ncaptures == 0) {
		if (load_capture(PFSE_BENCH_DATA "/ftp-data.pcap") < 0 ||
		    load_capture(PFSE_BENCH_DATA "/quic-vlan-snap128.pcap") < 0)
			return 1;
	}
#ifdef PFSE_BENCH_HAVE_DPDK
	if (opt_baseline && baseline_dpdk_init(argv[0]) < 0) {
		fprintf(stderr, "pfse-bench: DPDK EAL init failed: baselines skipped\n");
		opt_baseline = 0;
	}
#else
	if (opt_baseline)
		fprintf(stderr, "pfse-bench: built without libdpdk: baselines skipped\n");
#endif
	for (unsigned j = 0; j < sizeof(case_names) / sizeof(case_names[0]); j++) {
		int run = nsel == 0;

		for (unsigned i = 0; i < nsel; i++)
			run |= strcmp(selected[i], case_names[j]) == 0;
		if (!run)
			continue;
		if (j == 0)
			case_parse();
		else if (j == 1)
			case_hash();
		else if (j == 2)
			case_table();
		else if (j == 3)
			case_predict();
		else if (j == 4) {
			if (case_quality() < 0)
				return 1;
		} else if (j == 5) {
			case_engine();
		} else if (j == 6) {
			case_lstm();
		} else {
			case_refit();
		}
	}
	return 0;
}
