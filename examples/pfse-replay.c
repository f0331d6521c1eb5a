/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfse-replay: replays captures through the engine against a simulated cluster, once
 * per shunting policy, and scores each: does shunting on *predicted* flow state beat
 * shunting on *measured* state?
 *
 *   pfse-replay [options] CAPTURE...
 *     --policy P        predictive | reactive | static | oracle | all (default all)
 *     --cluster FILE    tiers and nodes (below); default: a standard tier of 4 nodes
 *                       with the trace's mean rate, a high-performance tier of 2 nodes
 *                       with its busiest second's, an inspection tier of 1 node, unlimited
 *     --snapshot FILE   start from a snapshot (pfse-train --snapshot): its "history"
 *                       section and its fitted "ses-log" / "holt-damped-log" models
 *     --fail NODE@S, --overload NODE@S   health events S seconds into the replay (node
 *                       ids): down, or overloaded (draining: keeps its flows, takes no
 *                       new one); repeatable
 *     --elephant-bytes N  a flow of at least N bytes is an elephant (default 1 MiB)
 *     --bw-mbps X       the shunting threshold of the predictive and reactive policies
 *                       (default: --elephant-bytes per second, 8.39 Mbit/s for 1 MiB)
 *     --dwell-ms MS     their dwell time (default: the policy's, 1 s)
 *     --upper           the predictive policy compares the forecast's upper bound (its
 *                       calibrated 95% interval) with the threshold, not its mean
 *     --backend NAME    the predictive engine forecasts with this backend only ("holt",
 *                       "ses-log", "naive", ..., default parameters) instead of the
 *                       engine's default candidates and automatic choice
 *     --p-elephant P    the predictive policy's p_elephant_enter (default: the policy's,
 *                       0.6): shunt a flow once its class's history, given what it has
 *                       sent, gives it this chance of becoming an elephant
 *     --threads N       2 (default): the captures are read and parsed on a thread of
 *                       their own and handed over in bursts; 1: all on one thread
 *                       (the scores are the same; the speed is not)
 *     --json FILE, --flows-out FILE.csv, --plot FILE.svg
 *
 * Policies: predictive = the engine as shipped (class priors shunt a new flow on its
 * first packet, forecasts h = 5 intervals ahead re-decide it); reactive = the same
 * engine, threshold and dwell, but no prior (PFSE_POLICY_F_NO_PRIOR) and the naive
 * backend (the forecast is the last measured interval); static = everything standard;
 * oracle = every elephant on the high-performance tier from its first packet, knowing
 * each flow's total from a first pass. All runs see the same packets on the same virtual
 * clock (the captures' timestamps; several files play one after another 1 s apart, a
 * timestamp that goes back counts as the latest seen, and a jump forward of more than a
 * minute, as in spliced captures, plays as 1 s).
 *
 * Cluster file lines: "tier NAME standard|high-perf|inspection CAPACITY_MBPS" and
 * "node TIER_NAME ID CAPACITY_MBPS [WEIGHT]"; 0 = unlimited; '#' starts a comment.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#if defined(__has_include)
#if __has_include(<stdio_ext.h>)
#include <stdio_ext.h> /* __fsetlocking (glibc, musl) */
#define HAVE_FSETLOCKING 1
#endif
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <sys/socket.h>

#include <pfse/pfse.h>

#define BURST 32
#define MAX_FILES 256
#define MAX_TIERS 8
#define MAX_NODES 256
#define MAX_EVENTS 64
#define IV_NS 100000000ull /* the series' interval for forecast scores */
#define TOP_PLOT 3

enum { P_PREDICTIVE, P_REACTIVE, P_STATIC, P_ORACLE, P_COUNT };
static const char *const policy_names[P_COUNT] = { "predictive", "reactive", "static",
						   "oracle" };

struct tier_cfg {
	char name[32];
	uint32_t kind;
	double capacity; /* bytes/s, 0 = unlimited */
};

struct node_cfg {
	uint32_t tier;   /* index into tiers */
	uint64_t id;
	double capacity;
	uint32_t weight;
};

struct event {
	uint64_t at;     /* ns after the start */
	uint64_t id;
	uint32_t health;
};

/* A flow (by bidirectional key), from the first pass, and what each run did to it. */
struct flow {
	struct pfse_flow_key key;
	uint64_t bytes, packets, first_ts, last_ts;
	double *series;          /* bytes per IV_NS interval */
	uint32_t n, cap;
	uint64_t cur_iv;
	int elephant;
	/* per run */
	uint64_t run_pkts, hp_first;
	uint32_t changes, last_node;
	uint8_t last_tier, on_hp, seen;
	uint32_t node_at_fail;   /* node when the first failure happened */
	uint8_t tier_at_fail, active_after_fail, moved_after_fail;
	uint64_t hp_first_by[P_COUNT];
	uint32_t engine_flow;    /* predictive run: the engine's flow id, for the plot */
};

struct run {
	int policy, done;
	double secs;
	uint64_t packets, hp_packets, to_down, changes;
	double eleph_bytes_hp, eleph_bytes, mice_hp, mice, tp_hp, hp_flows, eleph_flows,
		eleph_hp_flows;
	double overload_s[MAX_TIERS], overload_total;
	uint64_t moved_on_fail, ideal_on_fail;
	uint64_t node_bytes[MAX_NODES], local_bytes; /* by cluster node index */
	uint32_t node_cfg_of[MAX_NODES];             /* cluster node index -> nodes[] */
	double *load[MAX_TIERS]; /* bytes per second, per tier */
	uint64_t directive_changes, reroute_health, flows_created;
	double *pred[TOP_PLOT], *act[TOP_PLOT]; /* predictive: bytes/s per second */
};

struct input {
	const char *path;
	int linktype;
};

static struct input inputs[MAX_FILES];
static unsigned ninputs;
static struct tier_cfg tiers[MAX_TIERS];
static unsigned ntiers;
static struct node_cfg nodes[MAX_NODES];
static unsigned nnodes;
static struct event events[MAX_EVENTS];
static unsigned nevents;
static struct flow *flows;
/* The flows' keys and hashes (the parser's), apart: the reader thread looks flows up
 * while the main thread writes the runs' fields of `flows`. */
static struct fkey {
	struct pfse_flow_key key;
	uint64_t hash;
} *fkeys;
static uint32_t nflows, flows_cap;
static uint32_t *fmap;
static size_t fmap_mask;
/* The runs' map (rmap_build()): flows by a hash of their own, each slot a flow's index and
 * the hash's high half as a tag, read by the reader thread during the runs */
static uint64_t *rmap;
static int rmap_exact;    /* rmap is in use: a tag found on a probe is its flow's */
static int flows_refused; /* the first pass left a parsed frame without a flow */
static uint64_t unparsed_by[PFSE_PARSE_STATUS_COUNT], frames, trace_bytes;
static uint64_t t_start, t_end, nsec;
static uint64_t elephant_bytes = 1u << 20;
static double bw_mbps = 0; /* 0: an elephant's worth of bytes per second */
static double dwell_ms = 0; /* 0: the policy's default */
static int upper;           /* --upper: predictive compares the forecast's upper bound */
static double p_eleph;      /* --p-elephant: predictive's p_elephant_enter (0: default) */
static const char *backend_only; /* --backend: predictive's only backend */
static uint32_t top[TOP_PLOT];
static int threads = 2; /* --threads: 2 = the captures read on a thread of their own */
static unsigned ntop;

/* ---- reading: every file in turn, on one clock ---------------------------------------- */

struct reader {
	unsigned file;
	pcap_t *pc;
	uint64_t offset, last_raw, now, file_end;
	int started;
};

/* The next frame, with its time on the replay's clock; 0 at the end. */
static int
next_frame(struct reader *r, struct pcap_pkthdr **h, const u_char **data, uint64_t *ts)
{
	char errbuf[PCAP_ERRBUF_SIZE];

	for (;;) {
		if (!r->pc) {
			if (r->file == ninputs)
				return 0;
			r->pc = pcap_open_offline_with_tstamp_precision(inputs[r->file].path,
									PCAP_TSTAMP_PRECISION_NANO,
									errbuf);
			if (!r->pc) {
				fprintf(stderr, "pfse-replay: %s\n", errbuf);
				exit(1);
			}
			/* one thread reads the file: no lock around each of libpcap's freads
			 * (glibc takes it every time, even in a process of one thread) */
#ifdef HAVE_FSETLOCKING
			if (pcap_file(r->pc))
				__fsetlocking(pcap_file(r->pc), FSETLOCKING_BYCALLER);
#endif
			r->started = 0;
		}
		if (pcap_next_ex(r->pc, h, data) == 1) {
			uint64_t raw = (uint64_t)(*h)->ts.tv_sec * 1000000000ull +
				       (uint64_t)(*h)->ts.tv_usec;

			if (!r->started) {
				/* a file starts 1 s after the previous one ended */
				r->offset = r->now ? r->now + 1000000000ull - raw : 0;
				if (!r->now)
					r->offset = 0;
				r->started = 1;
			}
			/* a jump of more than a minute (spliced captures) plays as 1 s */
			if (r->now && raw + r->offset > r->now + 60000000000ull)
				r->offset = r->now + 1000000000ull - raw;
			if (raw + r->offset > r->now)
				r->now = raw + r->offset;
			*ts = r->now;
			return 1;
		}
		pcap_close(r->pc);
		r->pc = NULL;
		r->file++;
	}
}

static int
cur_linktype(const struct reader *r)
{
	return r->pc ? pcap_datalink(r->pc) : -1;
}

/* ---- flows ---------------------------------------------------------------------------- */

/* The flow map at twice its size (4096 slots at first), rehashed: kept at most half
 * full, and no larger than that, so that a lookup stays in cache. */
static int
fmap_grow(void)
{
	size_t n = fmap ? 2 * (fmap_mask + 1) : 4096;
	uint32_t *m;

	if (n > ((size_t)1 << 27) || !(m = malloc(n * sizeof(*m))))
		return -ENOMEM;
	memset(m, 0xff, n * sizeof(*m));
	for (uint32_t k = 0; k < nflows; k++) {
		size_t i = (size_t)fkeys[k].hash & (n - 1);

		while (m[i] != UINT32_MAX)
			i = (i + 1) & (n - 1);
		m[i] = k;
	}
	free(fmap);
	fmap = m;
	fmap_mask = n - 1;
	return 0;
}

/* A parsed packet's flow, by index, or NO_FLOW (not parsed; not found and not to be
 * created; no room). */
#define NO_FLOW UINT32_MAX

static uint32_t
find_flow(const struct pfse_pkt *pkt, int create)
{
	size_t i = (size_t)pkt->hash & fmap_mask;

	if (pkt->status != PFSE_PARSE_OK)
		return NO_FLOW;
	while (fmap[i] != UINT32_MAX) {
		const struct fkey *k = &fkeys[fmap[i]];

		if (k->hash == pkt->hash && memcmp(&k->key, &pkt->key, sizeof(k->key)) == 0)
			return fmap[i];
		i = (i + 1) & fmap_mask;
	}
	if (!create)
		return NO_FLOW;
	if ((size_t)nflows + 1 > (fmap_mask + 1) / 2) {
		if (fmap_grow() < 0) {
			static int said;

			if (!said++)
				fprintf(stderr, "pfse-replay: too many flows (%u): the others are "
						"not scored\n", nflows);
			return NO_FLOW;
		}
		for (i = (size_t)pkt->hash & fmap_mask; fmap[i] != UINT32_MAX;)
			i = (i + 1) & fmap_mask;
	}
	if (nflows == flows_cap) {
		uint32_t cap = flows_cap ? 2 * flows_cap : 4096;
		struct flow *nf = realloc(flows, (size_t)cap * sizeof(*nf));
		struct fkey *nk;

		if (!nf)
			return NO_FLOW;
		flows = nf;
		if (!(nk = realloc(fkeys, (size_t)cap * sizeof(*nk))))
			return NO_FLOW;
		fkeys = nk;
		flows_cap = cap;
	}
	memset(&flows[nflows], 0, sizeof(flows[nflows]));
	flows[nflows].key = pkt->key;
	fkeys[nflows].key = pkt->key;
	fkeys[nflows].hash = pkt->hash;
	fmap[i] = nflows;
	return nflows++;
}

/*
 * The runs read the same frames as the first pass, so every parsed frame's key is one of
 * the flows' (unless the first pass refused one). A map built after it, whose probes
 * compare 32-bit tags and never a key, is then exact if each flow's own probe meets its
 * own tag first; that is checked once, and where it does not hold (or a flow was refused)
 * the runs use find_flow() on the keys. The lookup is then one slot of 8 bytes, where
 * find_flow() read a slot and then the flow's key elsewhere: the reader thread's time
 * bounds the replay's (doc/evaluation.md). The map's hash is its own, cheaper than the
 * parser's keyed one, which the reader then does without: the main thread takes every
 * flow's parser hash from the first pass. (A capture rewritten between the passes could
 * have a new key taken for a known flow whose tag it shares, at odds of 2^-32 a slot
 * probed; a new key otherwise gets no flow and its parser hash, as before.)
 */
static uint64_t rtag_mask = 0xffffffff00000000ull; /* PFSE_REPLAY_TAG_BITS (tests) */
#define RTAG(h) ((h) & rtag_mask)

static inline uint64_t
rhash(const struct pfse_flow_key *k)
{
	const uint8_t *b = (const uint8_t *)k;
	uint64_t w0, w1, w2, w3, w4, h;

	/* word by word, as the parser stored the key (a 16-byte load of two 8-byte stores
	 * waits for both to reach the cache) */
	memcpy(&w0, b, 8);
	memcpy(&w1, b + 8, 8);
	memcpy(&w2, b + 16, 8);
	memcpy(&w3, b + 24, 8);
	memcpy(&w4, b + 32, 8);
	/* one multiply per word, then a finaliser (SplitMix64's) */
	h = w0 * 0x9e3779b97f4a7c15ull ^ w1 * 0xc2b2ae3d27d4eb4full ^ w2 * 0x165667b19e3779f9ull ^
	    w3 * 0xd6e8feb86659fd93ull ^ w4 * 0xff51afd7ed558ccdull;
	h ^= h >> 31;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 29);
}

static void
rmap_build(void)
{
	const char *tb = getenv("PFSE_REPLAY_TAG_BITS");
	char *end;
	long bits;

	/* the tests shorten the tags (0 bits: flows sharing a probe always collide), so
	 * that the check below falls back to the keys */
	if (tb && *tb && (bits = strtol(tb, &end, 10)) >= 0 && bits < 32 && !*end)
		rtag_mask = bits ? ~0ull << (64 - bits) : 0;
	if (!fmap || flows_refused || !(rmap = malloc((fmap_mask + 1) * sizeof(*rmap))))
		return;
	for (size_t i = 0; i <= fmap_mask; i++)
		rmap[i] = UINT64_MAX;
	for (uint32_t k = 0; k < nflows; k++) {
		uint64_t h = rhash(&fkeys[k].key);
		size_t i = (size_t)h & fmap_mask;

		while (rmap[i] != UINT64_MAX)
			i = (i + 1) & fmap_mask;
		rmap[i] = RTAG(h) | k;
	}
	for (uint32_t k = 0; k < nflows; k++) {
		uint64_t h = rhash(&fkeys[k].key);
		size_t i = (size_t)h & fmap_mask;

		while (RTAG(rmap[i]) != RTAG(h))
			i = (i + 1) & fmap_mask;
		if ((uint32_t)rmap[i] != k) {
			free(rmap); /* another flow first on its probe with the same tag */
			rmap = NULL;
			return;
		}
	}
	rmap_exact = 1; /* and the reader's parser need not hash (feed's fill()) */
}

/* A parsed frame's flow in a run, or NO_FLOW */
static inline uint32_t
run_flow(const struct pfse_pkt *pkt)
{
	uint64_t h;
	size_t i;

	if (!rmap_exact)
		return find_flow(pkt, 0);
	if (pkt->status != PFSE_PARSE_OK)
		return NO_FLOW;
	h = rhash(&pkt->key);
	for (i = (size_t)h & fmap_mask; rmap[i] != UINT64_MAX; i = (i + 1) & fmap_mask)
		if (RTAG(rmap[i]) == RTAG(h))
			return (uint32_t)rmap[i];
	return NO_FLOW;
}

static void
series_add(struct flow *f, uint64_t ts, uint32_t len)
{
	uint64_t iv = ts / IV_NS;

	if (f->n == 0 || iv > f->cur_iv) {
		uint64_t add = f->n == 0 ? 1 : iv - f->cur_iv;

		if (add > 100000)
			add = 100000;
		if (f->n + add > f->cap) {
			uint32_t cap = f->cap ? f->cap : 16;
			double *s;

			while (cap < f->n + add)
				cap *= 2;
			s = realloc(f->series, cap * sizeof(*s));
			if (!s)
				return;
			f->series = s;
			f->cap = cap;
		}
		for (uint64_t k = 0; k < add; k++)
			f->series[f->n++] = 0;
		f->cur_iv = iv;
	}
	f->series[f->n - 1] += len;
}

#define PARSE_SEED 42 /* the replay's parsers' hash seed */

/* A parser for a link type (bidirectional keys, a fixed hash seed), or NULL for a link
 * type the parser does not know (its frames stay unparsed). */
static struct pfse_parser *
new_parser_flags(int lt, uint32_t flags)
{
	struct pfse_parser_params pp;
	struct pfse_parser *ps;

	pfse_parser_params_init(&pp);
	pp.linktype = (uint32_t)lt;
	pp.flags = flags | PFSE_PARSE_F_FIXED_SEED;
	pp.seed = PARSE_SEED;
	return pfse_parser_create(&pp, &ps) < 0 ? NULL : ps;
}

static struct pfse_parser *
new_parser(int lt)
{
	return new_parser_flags(lt, PFSE_PARSE_F_BIDIR | PFSE_PARSE_F_HASH);
}

/* The first pass: flows, their totals and series, unparsed frames by reason; the floor
 * (a loop that only reads the files) is timed separately. */
static void
first_pass(void)
{
	struct reader rd;
	struct pfse_parser *ps = NULL;
	int lt = -2;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t ts;

	memset(&rd, 0, sizeof(rd));
	while (next_frame(&rd, &h, &data, &ts)) {
		struct pfse_pkt pkt;
		struct flow *f;
		uint32_t fi;

		if (cur_linktype(&rd) != lt) {
			pfse_parser_destroy(ps);
			lt = cur_linktype(&rd);
			ps = new_parser(lt);
		}
		if (frames == 0)
			t_start = ts;
		t_end = ts;
		frames++;
		trace_bytes += h->len;
		memset(&pkt, 0, sizeof(pkt));
		pkt.data = data;
		pkt.caplen = h->caplen;
		pkt.wirelen = h->len;
		if (!ps) {
			unparsed_by[PFSE_PARSE_ERR_L2_UNSUPPORTED]++;
			continue;
		}
		pfse_parse(ps, &pkt, NULL);
		if (pkt.status != PFSE_PARSE_OK) {
			unparsed_by[pkt.status < PFSE_PARSE_STATUS_COUNT ? pkt.status : 0]++;
			continue;
		}
		if ((fi = find_flow(&pkt, 1)) == NO_FLOW) {
			flows_refused = 1;
			continue;
		}
		f = &flows[fi];
		if (f->packets == 0)
			f->first_ts = ts;
		f->last_ts = ts;
		f->packets++;
		f->bytes += h->len;
		series_add(f, ts - t_start, h->len);
	}
	pfse_parser_destroy(ps);
	rmap_build();
	nsec = (t_end - t_start) / 1000000000ull + 1;
	for (uint32_t i = 0; i < nflows; i++)
		flows[i].elephant = flows[i].bytes >= elephant_bytes;
	/* the largest flows, for the plot */
	for (uint32_t i = 0; i < nflows; i++) {
		unsigned k = ntop < TOP_PLOT ? ntop++ : TOP_PLOT - 1;

		if (i >= TOP_PLOT && flows[i].bytes <= flows[top[k]].bytes)
			continue;
		top[k] = i;
		while (k > 0 && flows[top[k]].bytes > flows[top[k - 1]].bytes) {
			uint32_t x = top[k];

			top[k] = top[k - 1];
			top[k - 1] = x;
			k--;
		}
	}
}

static double
floor_pass(uint64_t *n)
{
	struct timespec a, b;
	struct reader rd;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t ts;
	volatile uint64_t sum = 0; /* the bytes are read, not optimised away */

	memset(&rd, 0, sizeof(rd));
	*n = 0;
	clock_gettime(CLOCK_MONOTONIC, &a);
	while (next_frame(&rd, &h, &data, &ts)) {
		sum += h->caplen;
		(*n)++;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	(void)sum;
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

/* ---- the feed: frames read and parsed, in bursts, on a thread of their own ----------- */

/* A run reads and parses the captures on a second thread (the way a packet path receives
 * on one core and processes on another) and takes bursts from it through a ring; with
 * --threads 1 it fills the same bursts itself. The bursts are the same either way (ended
 * by a change of link type or a health event due), so the scores do not depend on it. */
/* bursts in flight, 2048 packets: 16 filled whenever the main thread spent a little
 * longer on a burst (a visit pass of advance(), new flows), and the reader waited */
#define RING 64
#define SPINS 4096       /* polls of the ring before a side sleeps */

/* The reader writes a burst, the main thread only reads it: a cache line written on
 * both sides has to travel back before the reader can write it again, so a burst holds
 * as little as it can. The frames are parsed as they are read, while their bytes are in
 * cache, and looked up in the flow map of the first pass; a packet goes over as what the
 * engine and the scoring read of it: its flow (whose key and hash the main thread has),
 * time, lengths, status and flags, 24 bytes, not the frame (libpcap reuses its buffer).
 * A parsed packet without a flow in the map (one the map had no room for) goes with its
 * key, in lines touched only then. */
_Static_assert(PFSE_PKT_F_HASH < (1u << 16), "a record's flags hold every parser flag");

struct rec {
	uint64_t ts;
	uint32_t flow; /* flows[] index, or NO_FLOW */
	uint32_t wirelen, caplen;
	uint16_t flags;
	uint8_t status, tcp_flags;
};

struct burst {
	unsigned n;       /* packets; 0 = the end of the captures */
	unsigned ev_upto; /* health events (events[] index) due before these packets */
	struct rec rec[BURST];
	struct fkey nokey[BURST]; /* the key of a parsed packet with flow NO_FLOW */
};

/* Each side keeps its own counter and its last reading of the other's, and publishes
 * its counter every PUB bursts, at the end, and before it waits: a reading of the other
 * side's counter, or a write of its own, is a cache line fetched from the other core. */
#define PUB 4

/* The reader fetches the lines of the burst after next for writing: the main thread read
 * them last, and a store to a line another core holds waits for it to be taken back */
#define PREFETCH_BURSTS 2

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
static int have_prefetchw; /* PREFETCHW (CPUID 0x80000001 ECX bit 8) */
#endif

static void
prefetch_for_write_init(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	have_prefetchw = __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & (1u << 8));
#endif
}

static inline void
prefetch_for_write(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
	/* the compiler's prefetch for writing is a plain one without -mprfchw */
	if (have_prefetchw) {
		__asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
		return;
	}
#endif
	__builtin_prefetch(p, 1);
}

struct feed {
	/* the reader's (the frame being read, the bursts filled) */
	struct reader rd;
	int have, eof;
	unsigned next_ev;
	struct pcap_pkthdr *h; /* a frame read but not yet in a burst (have) */
	const u_char *data;
	uint64_t ts;
	struct burst *ring;  /* RING bursts (threaded) or one */
	struct pfse_parser *ps; /* for the link type lt (NULL: one the parser does not know) */
	int lt;
	struct pfse_pkt pkt; /* the frame being parsed */
	uint64_t filled;     /* bursts filled */
	uint64_t tail_seen;  /* `tail`, as last read */
	/* the main thread's, on a line of its own */
	_Alignas(64) struct burst *mring; /* = ring */
	int threaded, ended; /* ended: the main thread has seen the end */
	uint64_t taken;      /* bursts done with */
	uint64_t head_seen;  /* `head`, as last read */
	/* what is published, each on a line of its own */
	_Alignas(64) _Atomic uint64_t head;     /* bursts filled, as published */
	_Alignas(64) _Atomic uint64_t tail;     /* bursts done with, as published */
	_Alignas(64) _Atomic unsigned sleepers; /* threads asleep in feed_wait() */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
};

/* Fills `b` with up to BURST frames, parsed. A health event goes between bursts, before
 * the first frame at or after its time; a burst holds frames of one link type. */
static void
fill(struct feed *fd, struct burst *b)
{
	b->n = 0;
	for (;;) {
		struct pfse_pkt *p = &fd->pkt;
		struct rec *r = &b->rec[b->n];
		uint32_t pf;
		int lt;

		if (!fd->have) {
			if (fd->eof || !next_frame(&fd->rd, &fd->h, &fd->data, &fd->ts)) {
				fd->eof = 1;
				break;
			}
			fd->have = 1;
		}
		if (fd->next_ev < nevents && fd->ts >= t_start + events[fd->next_ev].at) {
			if (b->n)
				break;
			while (fd->next_ev < nevents && fd->ts >= t_start + events[fd->next_ev].at)
				fd->next_ev++;
		}
		if ((lt = cur_linktype(&fd->rd)) != fd->lt) { /* a parser per link type */
			if (b->n)
				break; /* a burst holds frames of one link type */
			pfse_parser_destroy(fd->ps);
			fd->lt = lt;
			/* with the runs' map in use, the parser's hash goes unused here */
			pf = PFSE_PARSE_F_BIDIR | (rmap_exact ? 0 : PFSE_PARSE_F_HASH);
			fd->ps = new_parser_flags(lt, pf);
		}
		memset(p, 0, offsetof(struct pfse_pkt, key)); /* the input fields */
		p->data = fd->data;
		p->caplen = fd->h->caplen;
		p->wirelen = fd->h->len;
		if (!fd->ps || pfse_parse(fd->ps, p, NULL) == -EINVAL) {
			memset(&p->key, 0, sizeof(*p) - offsetof(struct pfse_pkt, key));
			p->status = PFSE_PARSE_ERR_L2_UNSUPPORTED;
		}
		r->ts = fd->ts;
		r->flow = run_flow(p);
		r->wirelen = p->wirelen;
		r->caplen = p->caplen;
		r->flags = (uint16_t)p->flags;
		r->status = p->status;
		r->tcp_flags = p->tcp_flags;
		if (r->flow == NO_FLOW && p->status == PFSE_PARSE_OK) {
			if (!(p->flags & PFSE_PKT_F_HASH)) {
				/* a key the first pass did not see (the capture changed since):
				 * the parser's hash, as the parser would have given it */
				pfse_flow_key_hash(&p->key, PARSE_SEED, &p->hash);
				p->flags |= PFSE_PKT_F_HASH;
				r->flags = (uint16_t)p->flags;
			}
			b->nokey[b->n].key = p->key;
			b->nokey[b->n].hash = p->hash;
		}
		fd->have = 0;
		if (++b->n == BURST)
			break;
	}
	b->ev_upto = fd->next_ev;
}

/* (the reader) */
static int
room_to_fill(struct feed *fd)
{
	return fd->filled - atomic_load(&fd->tail) < RING;
}

/* (the main thread) */
static int
burst_ready(struct feed *fd)
{
	return atomic_load(&fd->head) != fd->taken;
}

/* Waits until `ready`: polls a while, then sleeps until the other side, which looks at
 * `sleepers` each time it publishes its counter, wakes it. */
static void
feed_wait(struct feed *fd, int (*ready)(struct feed *))
{
	for (unsigned i = 0; i < SPINS; i++) {
		if (ready(fd))
			return;
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	}
	pthread_mutex_lock(&fd->mu);
	atomic_fetch_add(&fd->sleepers, 1);
	while (!ready(fd))
		pthread_cond_wait(&fd->cv, &fd->mu);
	atomic_fetch_sub(&fd->sleepers, 1);
	pthread_mutex_unlock(&fd->mu);
}

static void
feed_wake(struct feed *fd)
{
	if (atomic_load(&fd->sleepers)) {
		pthread_mutex_lock(&fd->mu);
		pthread_cond_broadcast(&fd->cv);
		pthread_mutex_unlock(&fd->mu);
	}
}

static void
publish_head(struct feed *fd)
{
	atomic_store(&fd->head, fd->filled);
	feed_wake(fd);
}

static void
publish_tail(struct feed *fd)
{
	atomic_store(&fd->tail, fd->taken);
	feed_wake(fd);
}

static void *
feed_main(void *arg)
{
	struct feed *fd = arg;

	for (;;) {
		struct burst *b;

		if (fd->filled - fd->tail_seen >= RING &&
		    fd->filled - (fd->tail_seen = atomic_load(&fd->tail)) >= RING) {
			publish_head(fd); /* the ring is full: all of it is the main thread's */
			feed_wait(fd, room_to_fill);
			fd->tail_seen = atomic_load(&fd->tail);
		}
		if (fd->filled + PREFETCH_BURSTS - fd->tail_seen < RING) { /* not in use */
			b = &fd->ring[(fd->filled + PREFETCH_BURSTS) % RING];
			for (size_t a = 0; a < offsetof(struct burst, nokey); a += 64)
				prefetch_for_write((const uint8_t *)b + a);
		}
		b = &fd->ring[fd->filled++ % RING];
		fill(fd, b);
		if (!b->n || fd->filled % PUB == 0)
			publish_head(fd);
		if (!b->n)
			return NULL;
	}
}

static int
feed_open(struct feed *fd, int nthreads)
{
	memset(fd, 0, sizeof(*fd));
	fd->lt = -2;
	fd->ring = fd->mring = malloc((nthreads > 1 ? RING : 1) * sizeof(*fd->ring));
	if (!fd->ring)
		return -ENOMEM;
	atomic_init(&fd->head, 0);
	atomic_init(&fd->tail, 0);
	atomic_init(&fd->sleepers, 0);
	pthread_mutex_init(&fd->mu, NULL);
	pthread_cond_init(&fd->cv, NULL);
	/* without a thread (or with --threads 1), the bursts are filled in line */
	prefetch_for_write_init();
	fd->threaded = nthreads > 1 && pthread_create(&fd->th, NULL, feed_main, fd) == 0;
	return 0;
}

/* The next burst (n == 0 at the end); feed_done() once done with it. */
static struct burst *
feed_next(struct feed *fd)
{
	struct burst *b;

	if (!fd->threaded) {
		fill(fd, fd->ring);
		return fd->ring;
	}
	if (fd->taken == fd->head_seen && fd->taken == (fd->head_seen = atomic_load(&fd->head))) {
		publish_tail(fd); /* all of the ring is the reader's */
		feed_wait(fd, burst_ready);
		fd->head_seen = atomic_load(&fd->head);
	}
	b = &fd->mring[fd->taken % RING];
	fd->ended = !b->n;
	return b;
}

/* Fetches the burst after the current one, if it is there, into this core's cache while
 * the current one is processed: its bytes were written on the reader's core. */
static void
feed_prefetch_next(struct feed *fd)
{
	const struct burst *b;

	if (!fd->threaded || fd->head_seen <= fd->taken + 1)
		return;
	b = &fd->mring[(fd->taken + 1) % RING];
	for (size_t a = 0; a < offsetof(struct burst, nokey); a += 64)
		__builtin_prefetch((const uint8_t *)b + a);
}

static void
feed_done(struct feed *fd)
{
	if (fd->threaded && ++fd->taken % PUB == 0)
		publish_tail(fd);
}

static void
feed_close(struct feed *fd)
{
	if (fd->threaded) {
		while (!fd->ended) { /* a run that stopped early: let the reader finish */
			feed_next(fd);
			feed_done(fd);
		}
		pthread_join(fd->th, NULL);
	}
	if (fd->rd.pc)
		pcap_close(fd->rd.pc);
	pfse_parser_destroy(fd->ps);
	pthread_mutex_destroy(&fd->mu);
	pthread_cond_destroy(&fd->cv);
	free(fd->ring);
}

/* ---- the cluster --------------------------------------------------------------------- */

static int
load_cluster(const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[512];
	unsigned ln = 0;

	if (!fp) {
		fprintf(stderr, "pfse-replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp)) {
		char a[64], b[64], c[64];
		double cap;
		unsigned long long id;
		unsigned w = 1;
		char *hash = strchr(line, '#');

		ln++;
		if (hash)
			*hash = 0;
		if (sscanf(line, " %63s", a) != 1)
			continue;
		if (strcmp(a, "tier") == 0 &&
		    sscanf(line, " tier %63s %63s %lf", b, c, &cap) == 3 && ntiers < MAX_TIERS &&
		    strlen(b) < 32 && cap >= 0) {
			struct tier_cfg *t = &tiers[ntiers++];

			memcpy(t->name, b, strlen(b) + 1);
			t->capacity = cap * 1e6 / 8;
			if (strcmp(c, "standard") == 0)
				t->kind = PFSE_TIER_KIND_STANDARD;
			else if (strcmp(c, "high-perf") == 0)
				t->kind = PFSE_TIER_KIND_HIGH_PERF;
			else if (strcmp(c, "inspection") == 0)
				t->kind = PFSE_TIER_KIND_INSPECTION;
			else
				goto bad;
			continue;
		}
		if (strcmp(a, "node") == 0 &&
		    sscanf(line, " node %63s %llu %lf %u", b, &id, &cap, &w) >= 3 &&
		    nnodes < MAX_NODES && cap >= 0 && w >= 1 && w <= 65535) {
			unsigned t;

			for (t = 0; t < ntiers && strcmp(tiers[t].name, b) != 0; t++)
				;
			if (t == ntiers)
				goto bad;
			nodes[nnodes].tier = t;
			nodes[nnodes].id = id;
			nodes[nnodes].capacity = cap * 1e6 / 8;
			nodes[nnodes++].weight = w;
			continue;
		}
bad:
		fprintf(stderr, "pfse-replay: %s:%u: not understood: %s", path, ln, line);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	if (ntiers == 0 || nnodes == 0) {
		fprintf(stderr, "pfse-replay: %s: no tier or no node\n", path);
		return -1;
	}
	return 0;
}

/* The default cluster, sized by the trace: a standard tier that carries the mean rate
 * (what is left when the elephants go elsewhere must fit; everything at once does not),
 * a high-performance tier that carries the busiest second, an inspection node. */
static void
default_cluster(void)
{
	double mean = (double)trace_bytes / (double)nsec, peak = 0;
	double *sec = calloc(nsec, sizeof(double));

	for (uint32_t i = 0; sec && i < nflows; i++)
		for (uint32_t k = 0; k < flows[i].n; k++) {
			uint64_t s = ((flows[i].first_ts - t_start) / IV_NS + k) / 10;

			if (s < nsec)
				sec[s] += flows[i].series[k];
		}
	for (uint64_t s = 0; sec && s < nsec; s++)
		peak = sec[s] > peak ? sec[s] : peak;
	free(sec);
	if (mean < 1000)
		mean = 1000;
	if (peak < mean)
		peak = mean;
	tiers[0] = (struct tier_cfg){ "standard", PFSE_TIER_KIND_STANDARD, mean };
	tiers[1] = (struct tier_cfg){ "high-perf", PFSE_TIER_KIND_HIGH_PERF, peak };
	tiers[2] = (struct tier_cfg){ "inspection", PFSE_TIER_KIND_INSPECTION, 0 };
	ntiers = 3;
	for (unsigned i = 0; i < 4; i++)
		nodes[nnodes++] = (struct node_cfg){ 0, 1 + i, mean / 4, 1 };
	for (unsigned i = 0; i < 2; i++)
		nodes[nnodes++] = (struct node_cfg){ 1, 101 + i, peak / 2, 1 };
	nodes[nnodes++] = (struct node_cfg){ 2, 201, 0, 1 };
}

static int
tier_of_kind(uint32_t kind)
{
	for (unsigned t = 0; t < ntiers; t++)
		if (tiers[t].kind == kind)
			return (int)t;
	return -1;
}

/* Builds the cluster; node_index[i] receives nodes[i]'s index, tier_index[t] tiers[t]'s. */
static struct pfse_cluster *
mk_cluster(uint32_t *tier_index, uint32_t *node_index)
{
	struct pfse_cluster_params cp;
	struct pfse_cluster *cl;

	pfse_cluster_params_init(&cp);
	cp.max_nodes = MAX_NODES;
	if (pfse_cluster_create(&cp, &cl) < 0)
		return NULL;
	for (unsigned t = 0; t < ntiers; t++) {
		struct pfse_tier_params tp;

		pfse_tier_params_init(&tp);
		tp.name = tiers[t].name;
		tp.kind = tiers[t].kind;
		tp.capacity = (uint64_t)tiers[t].capacity;
		if (pfse_cluster_add_tier(cl, &tp, &tier_index[t]) < 0)
			return NULL;
	}
	for (unsigned i = 0; i < nnodes; i++) {
		struct pfse_node_params np;

		pfse_node_params_init(&np);
		np.tier = tier_index[nodes[i].tier];
		np.id = nodes[i].id;
		np.capacity = (uint64_t)nodes[i].capacity;
		np.weight = nodes[i].weight;
		if (pfse_cluster_add_node(cl, &np, &node_index[i]) < 0)
			return NULL;
	}
	return cl;
}

/* ---- one run ------------------------------------------------------------------------- */

static struct pfse_snapshot *snap;

static int
mk_engine(int policy, struct pfse_cluster *cl, struct pfse_policy **pol, struct pfse_engine **e,
	  struct pfse_engine_backend *be, struct pfse_model_params *mps)
{
	struct pfse_policy_params pp;
	struct pfse_engine_params ep;
	int r;

	pfse_policy_params_init(&pp);
	pp.cluster = cl;
	pp.bw_enter = policy == P_STATIC ? 0 : bw_mbps * 1e6 / 8;
	pp.dwell_ns = (uint64_t)(dwell_ms * 1e6);
	if (policy == P_STATIC) {
		pp.p_elephant_enter = 2;
		pp.flags = PFSE_POLICY_F_NO_ANOMALY | PFSE_POLICY_F_NO_PRIOR;
	}
	if (policy == P_REACTIVE)
		pp.flags = PFSE_POLICY_F_NO_PRIOR;
	if (policy == P_PREDICTIVE && upper)
		pp.flags |= PFSE_POLICY_F_UPPER;
	if (policy == P_PREDICTIVE)
		pp.p_elephant_enter = p_eleph;
	r = pfse_policy_create(&pp, pol);
	if (r < 0)
		return r;
	pfse_engine_params_init(&ep);
	ep.cluster = cl;
	ep.policy = *pol;
	ep.elephant_bytes = elephant_bytes;
	ep.max_classes = 4096; /* as pfse-train's histories */
	if (policy == P_REACTIVE) {
		pfse_model_params_init(&mps[0]);
		be[0].ops = pfse_predictor_backend("naive");
		be[0].model = &mps[0];
		ep.backends = be;
		ep.nbackends = 1;
		ep.horizon = 1;
	} else if (policy == P_PREDICTIVE && backend_only) {
		pfse_model_params_init(&mps[0]);
		be[0].ops = pfse_predictor_backend(backend_only);
		be[0].model = &mps[0];
		ep.backends = be;
		ep.nbackends = 1;
	} else if (policy == P_PREDICTIVE && snap) {
		/* the snapshot's fitted models where it has them */
		static const char *const names[] = { "ses-log", "holt-damped-log" };
		unsigned nb = 0;

		for (unsigned i = 0; i < 2; i++) {
			char backend[PFSE_SNAP_BACKEND_MAX + 1];

			pfse_model_params_init(&mps[nb]);
			if (pfse_snapshot_get_model(snap, names[i], backend, &mps[nb]) == 0) {
				be[nb].ops = pfse_predictor_backend(backend);
				be[nb].model = &mps[nb];
				if (be[nb].ops)
					nb++;
			}
		}
		if (nb) {
			pfse_model_params_init(&mps[nb]);
			be[nb].ops = pfse_predictor_backend("naive");
			be[nb].model = &mps[nb];
			nb++;
			ep.backends = be;
			ep.nbackends = nb;
		}
	}
	r = pfse_engine_create(&ep, e);
	if (r < 0)
		return r;
	if (policy == P_PREDICTIVE && snap) {
		r = pfse_snapshot_get_history(snap, "history", pfse_engine_history(*e));
		if (r < 0 && r != -ENOENT)
			fprintf(stderr, "pfse-replay: snapshot history not used: %s\n",
				pfse_strerror(r));
	}
	return 0;
}

static void
progress(uint64_t done, int policy)
{
	static int last = -1;
	int pct = (int)(done * 100 / (frames ? frames : 1));

	if (pct != last) {
		fprintf(stderr, "\r%-10s [%-50.*s] %3d%%", policy_names[policy], pct / 2,
			"##################################################", pct);
		last = pct;
	}
	if (done == frames) {
		fprintf(stderr, "\n");
		last = -1;
	}
}

static void
account(struct run *ru, struct flow *f, int on_node, uint32_t node, uint32_t tier_cfg_idx,
	uint32_t len, uint64_t ts, const uint8_t *node_down, int hp_cfg)
{
	uint64_t sec = (ts - t_start) / 1000000000ull;

	ru->packets++;
	if (on_node && tier_cfg_idx < MAX_TIERS && sec < nsec)
		ru->load[tier_cfg_idx][sec] += len;
	if (on_node && node < MAX_NODES)
		ru->node_bytes[node] += len;
	else if (!on_node)
		ru->local_bytes += len;
	if (on_node && node_down[node])
		ru->to_down++;
	if (!f)
		return;
	f->run_pkts++;
	{
		uint8_t t = on_node ? (uint8_t)tier_cfg_idx : 0xff;

		if (f->seen && t != f->last_tier)
			f->changes++;
		f->last_tier = t;
		if (hp_cfg >= 0 && t == hp_cfg) {
			ru->hp_packets++;
			if (!f->on_hp) {
				f->on_hp = 1;
				f->hp_first = f->run_pkts;
			}
		}
	}
	if (f->elephant) {
		ru->eleph_bytes += len;
		if (on_node && hp_cfg >= 0 && tier_cfg_idx == (uint32_t)hp_cfg)
			ru->eleph_bytes_hp += len;
	}
	f->last_node = on_node ? node : UINT32_MAX;
	f->seen = 1;
}

/* The oracle: elephants on high-perf from their first packet, mice standard; a flow
 * keeps its node while it is up. */
static void
oracle(struct pfse_cluster *cl, const struct pfse_pkt *pkt, struct flow *f,
       struct pfse_decision *d, const uint32_t *tier_index, const uint8_t *node_down,
       int hp_cfg, int std_cfg)
{
	int t = f && f->elephant && hp_cfg >= 0 ? hp_cfg : std_cfg;
	uint64_t hh;
	uint32_t node;

	d->action = PFSE_ACT_TRANSMIT;
	d->flow = PFSE_FLOW_NONE;
	d->tier = PFSE_TIER_NONE;
	d->node = PFSE_NODE_ANY;
	if (!f || t < 0)
		return;
	if (f->last_node != UINT32_MAX && !node_down[f->last_node] && f->last_tier == t) {
		node = f->last_node;
	} else {
		pfse_cluster_flow_hash(cl, &pkt->key, &hh);
		if (pfse_cluster_lookup(cl, tier_index[t], hh, &node) < 0)
			return;
	}
	d->action = PFSE_ACT_FORWARD;
	d->node = (uint16_t)node;
	d->tier = (uint8_t)tier_index[t];
}

static int
run_policy(int policy, struct run *ru, FILE *flows_out)
{
	uint32_t tier_index[MAX_TIERS], node_index[MAX_NODES], cfg_of_tier[256];
	uint8_t node_down[MAX_NODES * 2] = { 0 };
	struct pfse_cluster *cl = mk_cluster(tier_index, node_index);
	struct pfse_policy *pol = NULL;
	struct pfse_engine *e = NULL;
	struct pfse_engine_backend be[4];
	struct pfse_model_params mps[4];
	struct feed fd;
	struct pfse_pkt pkts[BURST], *pk[BURST];
	struct pfse_decision dec[BURST];
	struct flow *fb[BURST];
	unsigned next_ev = 0;
	int hp_cfg = tier_of_kind(PFSE_TIER_KIND_HIGH_PERF), fail_seen = 0;
	int std_cfg = tier_of_kind(PFSE_TIER_KIND_STANDARD), bar = isatty(2) && frames > 1000000;
	uint32_t failed = UINT32_MAX; /* the node of the first failure */
	uint8_t failed_tier = 0xff;   /* its tier (config index) */
	uint64_t done = 0, last_plot_sec = UINT64_MAX, last_adv = 0;
	static const struct fkey nokey; /* an unparsed packet's */
	struct timespec a, b;
	int r;

	if (!cl)
		return -ENOMEM;
	memset(ru, 0, sizeof(*ru));
	ru->policy = policy;
	for (unsigned t = 0; t < ntiers; t++) {
		ru->load[t] = calloc(nsec, sizeof(double));
		cfg_of_tier[tier_index[t]] = t;
	}
	for (unsigned i = 0; i < nnodes; i++)
		if (node_index[i] < MAX_NODES)
			ru->node_cfg_of[node_index[i]] = i;
	for (unsigned k = 0; k < TOP_PLOT; k++) {
		ru->pred[k] = calloc(nsec, sizeof(double));
		ru->act[k] = calloc(nsec, sizeof(double));
	}
	for (uint32_t i = 0; i < nflows; i++) {
		struct flow *f = &flows[i];

		f->run_pkts = f->hp_first = 0;
		f->changes = 0;
		f->last_node = UINT32_MAX;
		f->last_tier = 0xff;
		f->on_hp = f->seen = 0;
		f->node_at_fail = UINT32_MAX;
		f->tier_at_fail = 0xff;
		f->active_after_fail = f->moved_after_fail = 0;
		f->engine_flow = PFSE_FLOW_NONE;
	}
	if (policy != P_ORACLE && (r = mk_engine(policy, cl, &pol, &e, be, mps)) < 0)
		return r;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if ((r = feed_open(&fd, threads)) < 0) {
		pfse_engine_destroy(e);
		pfse_policy_destroy(pol);
		pfse_cluster_destroy(cl);
		return r;
	}
	memset(pkts, 0, sizeof(pkts)); /* what the records do not set stays 0 */
	for (unsigned i = 0; i < BURST; i++)
		pk[i] = &pkts[i];
	for (;;) {
		struct burst *bu = feed_next(&fd);
		unsigned nb = bu->n;

		/* health events at their time */
		for (; next_ev < bu->ev_upto; next_ev++) {
			for (unsigned i = 0; i < nnodes; i++) {
				if (nodes[i].id != events[next_ev].id)
					continue;
				pfse_cluster_set_node_health(cl, node_index[i],
							     events[next_ev].health, 0);
				node_down[node_index[i]] = events[next_ev].health == PFSE_NODE_DOWN;
				if (!fail_seen && events[next_ev].health == PFSE_NODE_DOWN) {
					/* the flows on it now, and where the others are */
					fail_seen = 1;
					for (uint32_t k = 0; k < nflows; k++) {
						flows[k].node_at_fail = flows[k].last_node;
						flows[k].tier_at_fail = flows[k].last_tier;
					}
					failed = node_index[i];
					failed_tier = (uint8_t)nodes[i].tier;
				}
			}
		}
		if (!nb)
			break;
		feed_prefetch_next(&fd);
		/* the packets again, from the records: what the engine and the scoring read of a
		 * parsed packet (status, key, hash, flags, TCP flags, time, lengths); `data` is
		 * NULL and the offsets 0, which neither reads */
		for (unsigned i = 0; i < nb; i++) {
			const struct rec *rc = &bu->rec[i];
			struct pfse_pkt *p = &pkts[i];
			const struct fkey *k = rc->flow != NO_FLOW ? &fkeys[rc->flow]
					       : rc->status == PFSE_PARSE_OK ? &bu->nokey[i]
					       : &nokey;

			p->ts = rc->ts;
			p->wirelen = rc->wirelen;
			p->caplen = rc->caplen;
			/* a flow's hash is the first pass's parser's (the reader's parser may not
			 * have hashed) */
			p->flags = rc->flags | (rc->flow != NO_FLOW ? PFSE_PKT_F_HASH : 0);
			p->status = rc->status;
			p->tcp_flags = rc->tcp_flags;
			p->key = k->key;
			p->hash = k->hash;
			fb[i] = rc->flow != NO_FLOW ? &flows[rc->flow] : NULL;
		}
		if (e) {
			if (pfse_engine_classify(e, pk, nb, dec) < 0) {
				fprintf(stderr, "pfse-replay: the engine refused a burst\n");
				exit(1);
			}
		} else {
			for (unsigned i = 0; i < nb; i++)
				oracle(cl, &pkts[i], fb[i], &dec[i], tier_index, node_down,
				       hp_cfg, std_cfg);
		}
		for (unsigned i = 0; i < nb; i++) {
			int on = dec[i].action == PFSE_ACT_FORWARD;
			uint32_t tc = on ? cfg_of_tier[dec[i].tier] : 0xff;
			struct flow *f = fb[i];

			if (f && e && dec[i].flow != PFSE_FLOW_NONE)
				f->engine_flow = dec[i].flow;
			account(ru, f, on, dec[i].node, tc, pkts[i].wirelen, pkts[i].ts,
				node_down, hp_cfg);
			if (fail_seen && f && f->node_at_fail != UINT32_MAX && on &&
			    tc == f->tier_at_fail && tc == failed_tier) {
				f->active_after_fail = 1;
				if (dec[i].node != f->node_at_fail)
					f->moved_after_fail = 1;
			}
		}
		/* time-driven work once per millisecond of the capture's time */
		if (e && pkts[nb - 1].ts >= last_adv + 1000000) {
			pfse_engine_advance(e, pkts[nb - 1].ts, 0);
			last_adv = pkts[nb - 1].ts;
		}
		/* the largest flows' forecasts, once a second (predictive run) */
		if (e && policy == P_PREDICTIVE) {
			uint64_t sec = (pkts[nb - 1].ts - t_start) / 1000000000ull;

			if (sec != last_plot_sec && sec < nsec) {
				for (unsigned k = 0; k < ntop; k++) {
					struct pfse_engine_flow_info fi;
					struct flow *f = &flows[top[k]];

					fi.size = sizeof(fi);
					if (f->engine_flow != PFSE_FLOW_NONE &&
					    pfse_engine_flow_info(e, f->engine_flow, &fi) == 0)
						ru->pred[k][sec] = fi.bw;
				}
				last_plot_sec = sec;
			}
		}
		done += nb;
		if (bar)
			progress(done, policy);
		feed_done(&fd);
	}
	feed_close(&fd);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ru->secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	/* scores */
	if (fail_seen) {
		for (uint32_t k = 0; k < nflows; k++) {
			struct flow *f = &flows[k];

			if (!f->active_after_fail)
				continue;
			if (f->node_at_fail == failed)
				ru->ideal_on_fail++;
			if (f->moved_after_fail)
				ru->moved_on_fail++;
		}
	}
	for (uint32_t k = 0; k < nflows; k++) {
		struct flow *f = &flows[k];

		ru->changes += f->changes;
		if (f->elephant) {
			ru->eleph_flows++;
			ru->eleph_hp_flows += f->on_hp;
		} else {
			ru->mice++;
			ru->mice_hp += f->on_hp;
		}
		ru->hp_flows += f->on_hp;
		ru->tp_hp += f->on_hp && f->elephant;
		f->hp_first_by[policy] = f->hp_first;
		if (flows_out) {
			char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
			int af = f->key.family == PFSE_FAMILY_IPV6 ? AF_INET6 : AF_INET;

			inet_ntop(af, f->key.src, s, sizeof(s));
			inet_ntop(af, f->key.dst, d, sizeof(d));
			fprintf(flows_out, "%u,%s,%u,%s,%u,%llu,%llu,%llu,%llu,%llu,%s\n",
				f->key.proto, s, ntohs(f->key.sport), d, ntohs(f->key.dport),
				(unsigned long long)f->packets, (unsigned long long)f->bytes,
				(unsigned long long)f->first_ts, (unsigned long long)f->last_ts,
				(unsigned long long)f->hp_first,
				f->last_tier == 0xff ? "local" : tiers[f->last_tier].name);
		}
	}
	for (unsigned t = 0; t < ntiers; t++) {
		double cap = tiers[t].capacity;

		for (uint64_t s = 0; s < nsec && cap > 0; s++)
			if (ru->load[t][s] > cap)
				ru->overload_s[t]++;
		ru->overload_total += ru->overload_s[t];
	}
	if (e) {
		struct pfse_engine_stats st;

		st.size = sizeof(st);
		pfse_engine_stats(e, &st);
		ru->directive_changes = st.directive_changes;
		ru->reroute_health = st.reroute_health;
		ru->flows_created = st.flows_created;
	}
	pfse_engine_destroy(e);
	pfse_policy_destroy(pol);
	pfse_cluster_destroy(cl);
	ru->done = 1;
	return 0;
}

/* ---- forecasts, scored offline on the flows' series ------------------------------------ */

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct fscore {
	const char *name;
	double mase, mase_median, cov80, cov95;
	uint64_t flows, points;
};

static void
score_backend(const char *name, const char *backend, uint32_t flags, struct fscore *out)
{
	struct pfse_predictor_params pp;
	struct pfse_model_params mp;
	struct pfse_predictor *pred;
	double msum = 0, *ratios = malloc(((size_t)nflows + 1) * sizeof(double));
	uint64_t c80 = 0, c95 = 0, pts = 0, nf = 0;

	memset(out, 0, sizeof(*out));
	out->name = name;
	pfse_model_params_init(&mp);
	mp.flags = flags;
	pfse_predictor_params_init(&pp);
	pp.ops = pfse_predictor_backend(backend);
	pp.model = &mp;
	if (!ratios || !pp.ops || pfse_predictor_create(&pp, &pred) < 0) {
		free(ratios);
		return;
	}
	for (uint32_t i = 0; i < nflows; i++) {
		const struct flow *f = &flows[i];
		uint64_t st[64];
		double err = 0, scale = 0;
		uint32_t n = 0;

		if (f->n < 10 || pfse_predictor_state_size(pred) > sizeof(st))
			continue;
		pfse_predictor_flow_init(pred, st, NULL);
		for (uint32_t t = 0; t < f->n; t++) {
			struct pfse_forecast f80, f95;

			if (t >= 1) {
				if (pfse_predictor_forecast(pred, st, 1, 0.8, &f80) == 0 &&
				    pfse_predictor_forecast(pred, st, 1, 0.95, &f95) == 0) {
					err += fabs(f->series[t] - f80.mean);
					scale += fabs(f->series[t] - f->series[t - 1]);
					c80 += f->series[t] >= f80.lo && f->series[t] <= f80.hi;
					c95 += f->series[t] >= f95.lo && f->series[t] <= f95.hi;
					n++;
					pts++;
				}
			}
			pfse_predictor_observe(pred, st, f->series[t], NULL);
		}
		if (n && scale > 0) {
			ratios[nf] = err / scale; /* both over the same n steps */
			msum += ratios[nf++];
		}
	}
	pfse_predictor_destroy(pred);
	out->mase = nf ? msum / (double)nf : NAN;
	qsort(ratios, nf, sizeof(double), cmp_dbl);
	out->mase_median = nf == 0 ? NAN
				   : (nf % 2 ? ratios[nf / 2]
					     : (ratios[nf / 2 - 1] + ratios[nf / 2]) / 2);
	free(ratios);
	out->cov80 = pts ? (double)c80 / (double)pts : NAN;
	out->cov95 = pts ? (double)c95 / (double)pts : NAN;
	out->flows = nf;
	out->points = pts;
}

/* ---- the report ------------------------------------------------------------------------ */

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Median over elephants shunted by both of (hp_first of reactive - of `policy`). */
static double
median_lead(int policy, uint64_t *both, uint64_t *only_this)
{
	int64_t *v = malloc((size_t)(nflows + 1) * sizeof(*v));
	uint64_t n = 0;
	double m;

	*both = *only_this = 0;
	if (!v)
		return NAN;
	for (uint32_t i = 0; i < nflows; i++) {
		const struct flow *f = &flows[i];

		if (!f->elephant || !f->hp_first_by[policy])
			continue;
		if (!f->hp_first_by[P_REACTIVE]) {
			(*only_this)++;
			continue;
		}
		v[n++] = (int64_t)f->hp_first_by[P_REACTIVE] - (int64_t)f->hp_first_by[policy];
	}
	*both = n;
	qsort(v, n, sizeof(*v), cmp_i64);
	m = n == 0 ? NAN : (n % 2 ? (double)v[n / 2] : (double)(v[n / 2 - 1] + v[n / 2]) / 2);
	free(v);
	return m;
}

static double
share(double a, double b)
{
	return b > 0 ? a / b : NAN;
}

static void
json_num(FILE *f, const char *k, double v, int comma)
{
	if (isfinite(v))
		fprintf(f, "\"%s\":%.6g%s", k, v, comma ? "," : "");
	else
		fprintf(f, "\"%s\":null%s", k, comma ? "," : "");
}

static void
report(FILE *out, FILE *js, struct run *runs, const struct fscore *fs, unsigned nfs,
       double floor_s, uint64_t floor_n, long rss_kb)
{
	int first = 1;
	int hp_cfg = tier_of_kind(PFSE_TIER_KIND_HIGH_PERF);

	uint32_t nel = 0;

	for (uint32_t i = 0; i < nflows; i++)
		nel += (uint32_t)flows[i].elephant;
	fprintf(out, "%llu frames, %llu bytes, %.1f s; %u flows, %u elephants (>= %llu bytes)\n",
		(unsigned long long)frames, (unsigned long long)trace_bytes,
		(double)(t_end - t_start) / 1e9, nflows, nel, (unsigned long long)elephant_bytes);
	for (unsigned s = 0; s < PFSE_PARSE_STATUS_COUNT; s++)
		if (unparsed_by[s])
			fprintf(out, "  unparsed %-26s %llu\n", pfse_parse_status_str(s),
				(unsigned long long)unparsed_by[s]);
	fprintf(out, "cluster:");
	for (unsigned t = 0; t < ntiers; t++)
		fprintf(out, " %s %.3g Mbit/s%s", tiers[t].name, tiers[t].capacity * 8 / 1e6,
			t + 1 < ntiers ? "," : "\n");
	fprintf(out, "\n%-11s %8s %8s %8s %8s %8s %9s %8s %8s %10s %6s\n", "policy", "eleph-hp",
		"mice-hp", "prec", "recall", "lead", "changes/f", "overld-s", "moved", "ideal",
		"down");
	for (int p = 0; p < P_COUNT; p++) {
		struct run *ru = &runs[p];
		uint64_t both = 0, only = 0;
		double lead = p == P_REACTIVE ? 0 : median_lead(p, &both, &only);

		if (!ru->done)
			continue;
		fprintf(out,
			"%-11s %7.1f%% %7.2f%% %8.3f %8.3f %8.1f %9.3f %8.0f %8llu %10llu %6llu\n",
			policy_names[p], 100 * share(ru->eleph_bytes_hp, ru->eleph_bytes),
			100 * share(ru->mice_hp, ru->mice), share(ru->tp_hp, ru->hp_flows),
			share(ru->eleph_hp_flows, ru->eleph_flows), lead,
			share((double)ru->changes, (double)nflows), ru->overload_total,
			(unsigned long long)ru->moved_on_fail,
			(unsigned long long)ru->ideal_on_fail, (unsigned long long)ru->to_down);
		if (js) {
			fprintf(js, "%s{\"policy\":\"%s\",", first ? "" : ",", policy_names[p]);
			first = 0;
			json_num(js, "elephant_bytes_on_hp_share",
				 share(ru->eleph_bytes_hp, ru->eleph_bytes), 1);
			json_num(js, "mice_on_hp_share", share(ru->mice_hp, ru->mice), 1);
			json_num(js, "elephant_precision", share(ru->tp_hp, ru->hp_flows), 1);
			json_num(js, "elephant_recall", share(ru->eleph_hp_flows, ru->eleph_flows),
				 1);
			json_num(js, "median_lead_packets", lead, 1);
			json_num(js, "elephants_shunted_by_both", (double)both, 1);
			json_num(js, "elephants_shunted_only_by_this", (double)only, 1);
			json_num(js, "overload_seconds", ru->overload_total, 1);
			fprintf(js, "\"overload_seconds_by_tier\":{");
			for (unsigned t = 0; t < ntiers; t++)
				fprintf(js, "\"%s\":%.0f%s", tiers[t].name, ru->overload_s[t],
					t + 1 < ntiers ? "," : "},");
			json_num(js, "directive_changes_per_flow",
				 share((double)ru->changes, (double)nflows), 1);
			json_num(js, "engine_directive_changes", (double)ru->directive_changes, 1);
			json_num(js, "flows_moved_on_failure", (double)ru->moved_on_fail, 1);
			json_num(js, "ideal_flows_moved_on_failure", (double)ru->ideal_on_fail, 1);
			json_num(js, "packets_to_down_nodes", (double)ru->to_down, 1);
			fprintf(js, "\"node_bytes\":{");
			for (unsigned n = 0, k = 0; n < MAX_NODES; n++) {
				const struct node_cfg *nc = &nodes[ru->node_cfg_of[n]];

				if (ru->node_bytes[n])
					fprintf(js, "%s\"%s/%llu\":%llu", k++ ? "," : "",
						tiers[nc->tier].name, (unsigned long long)nc->id,
						(unsigned long long)ru->node_bytes[n]);
			}
			fprintf(js, "},\"local_bytes\":%llu,", (unsigned long long)ru->local_bytes);
			json_num(js, "seconds", ru->secs, 1);
			json_num(js, "packets_per_second", (double)frames / ru->secs, 0);
			fprintf(js, "}");
		}
	}
	fprintf(out, "\nload (bytes) per node, by policy:\n");
	for (int p = 0; p < P_COUNT; p++) {
		if (!runs[p].done)
			continue;
		fprintf(out, "  %-11s", policy_names[p]);
		for (unsigned n = 0; n < MAX_NODES; n++) {
			const struct node_cfg *nc = &nodes[runs[p].node_cfg_of[n]];

			if (runs[p].node_bytes[n])
				fprintf(out, " %s/%llu %llu", tiers[nc->tier].name,
					(unsigned long long)nc->id,
					(unsigned long long)runs[p].node_bytes[n]);
		}
		fprintf(out, " local %llu\n", (unsigned long long)runs[p].local_bytes);
	}
	fprintf(out, "\n(eleph-hp: share of elephant bytes on the high-performance tier; mice-hp: "
		     "share of mice that went there;\n prec/recall: of the flows sent there, "
		     "elephants / of the elephants, sent there; lead: median packets\n before "
		     "reactive shunted the same elephant; changes/f: tier changes per flow; "
		     "overld-s: tier-seconds\n over capacity; moved/ideal: flows of the failed "
		     "node's tier that changed node there after the first failure / flows on "
		     "the failed node)\n");
	fprintf(out, "\nforecasts (100 ms intervals, flows of 10+ intervals, MASE against "
		     "naive, normal 80%%/95%% intervals):\n");
	for (unsigned i = 0; i < nfs; i++)
		fprintf(out, "  %-16s MASE mean %.3f median %.3f  coverage %.1f%% / %.1f%%  "
			     "(%llu flows)\n", fs[i].name, fs[i].mase, fs[i].mase_median,
			100 * fs[i].cov80, 100 * fs[i].cov95, (unsigned long long)fs[i].flows);
	if (runs[P_PREDICTIVE].done) {
		double pps = (double)frames / runs[P_PREDICTIVE].secs;
		double fl = (double)floor_n / floor_s;

		fprintf(out, "\nspeed: predictive %.0f packets/s; libpcap read alone %.0f "
			     "packets/s; ratio %.2f\n", pps, fl, fl / pps);
		fprintf(out, "peak RSS %ld KiB, %.0f bytes per flow\n", rss_kb,
			nflows ? (double)rss_kb * 1024 / nflows : 0.0);
	}
	(void)hp_cfg;
	if (js) {
		fprintf(js, "],\"forecasts\":[");
		for (unsigned i = 0; i < nfs; i++) {
			fprintf(js, "%s{\"backend\":\"%s\",", i ? "," : "", fs[i].name);
			json_num(js, "mase", fs[i].mase, 1);
			json_num(js, "mase_median", fs[i].mase_median, 1);
			json_num(js, "coverage80", fs[i].cov80, 1);
			json_num(js, "coverage95", fs[i].cov95, 1);
			json_num(js, "flows", (double)fs[i].flows, 0);
			fprintf(js, "}");
		}
		fprintf(js, "],");
		json_num(js, "floor_packets_per_second", (double)floor_n / floor_s, 1);
		json_num(js, "peak_rss_kib", (double)rss_kb, 1);
		json_num(js, "rss_bytes_per_flow", nflows ? (double)rss_kb * 1024 / nflows : 0, 0);
		fprintf(js, "}\n");
	}
}

/* ---- the plot: tier load per policy, forecasts of the largest flows ------------------- */

static void
polyline(FILE *f, const double *v, uint64_t n, double x0, double y0, double w, double hgt,
	 double vmax, const char *color, const char *dash)
{
	fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.2\"%s points=\"",
		color, dash);
	for (uint64_t s = 0; s < n; s++) {
		double y = vmax > 0 ? v[s] / vmax : 0;

		fprintf(f, "%.1f,%.1f ", x0 + w * (double)s / (double)(n > 1 ? n - 1 : 1),
			y0 + hgt - hgt * (y > 1.05 ? 1.05 : y));
	}
	fprintf(f, "\"/>\n");
}

static int
plot(const char *path, struct run *runs)
{
	static const char *const colors[] = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd",
					      "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f" };
	FILE *f = fopen(path, "w");
	unsigned np = 0;
	double W = 900, ph = 170, y = 40;

	if (!f)
		return -1;
	for (int p = 0; p < P_COUNT; p++)
		np += runs[p].done;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" "
		   "height=\"100%%\" fill=\"white\"/>\n",
		W, 60 + (np + 1) * (ph + 50));
	fprintf(f, "<text x=\"20\" y=\"22\" font-size=\"15\">Tier load per second against "
		   "capacity (dashed), by policy</text>\n");
	for (int p = 0; p < P_COUNT; p++) {
		double vmax = 0;

		if (!runs[p].done)
			continue;
		for (unsigned t = 0; t < ntiers; t++) {
			vmax = tiers[t].capacity > vmax ? tiers[t].capacity : vmax;
			for (uint64_t s = 0; s < nsec; s++)
				vmax = runs[p].load[t][s] > vmax ? runs[p].load[t][s] : vmax;
		}
		fprintf(f, "<text x=\"20\" y=\"%.0f\">%s (y: 0 to %.3g Mbit/s)</text>\n", y + 12,
			policy_names[p], vmax * 8 / 1e6);
		fprintf(f, "<rect x=\"60\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
			   "stroke=\"#ccc\"/>\n", y + 20, W - 100, ph);
		for (unsigned t = 0; t < ntiers; t++) {
			double cap[2] = { tiers[t].capacity, tiers[t].capacity };

			polyline(f, runs[p].load[t], nsec, 60, y + 20, W - 100, ph, vmax,
				 colors[t % 8], "");
			if (tiers[t].capacity > 0)
				polyline(f, cap, 2, 60, y + 20, W - 100, ph, vmax, colors[t % 8],
					 " stroke-dasharray=\"5,4\"");
			fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\">%s</text>\n",
				70 + 110.0 * t, y + 36, colors[t % 8], tiers[t].name);
		}
		y += ph + 50;
	}
	if (runs[P_PREDICTIVE].done && ntop) {
		double vmax = 0;

		for (unsigned k = 0; k < ntop; k++) {
			const struct flow *fl = &flows[top[k]];

			for (uint64_t s = 0; s < nsec; s++) {
				double a = 0;

				for (uint32_t q = 0; q < 10; q++) {
					uint64_t iv = s * 10 + q, first = (fl->first_ts - t_start) /
									 IV_NS;

					if (iv >= first && iv - first < fl->n)
						a += fl->series[iv - first];
				}
				runs[P_PREDICTIVE].act[k][s] = a;
				vmax = a > vmax ? a : vmax;
				if (runs[P_PREDICTIVE].pred[k][s] > vmax)
					vmax = runs[P_PREDICTIVE].pred[k][s];
			}
		}
		fprintf(f, "<text x=\"20\" y=\"%.0f\">The %u largest flows: bytes/s measured "
			   "(solid) and forecast by the predictive engine (dashed), 0 to %.3g "
			   "Mbit/s</text>\n", y + 12, ntop, vmax * 8 / 1e6);
		fprintf(f, "<rect x=\"60\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
			   "stroke=\"#ccc\"/>\n", y + 20, W - 100, ph);
		for (unsigned k = 0; k < ntop; k++) {
			polyline(f, runs[P_PREDICTIVE].act[k], nsec, 60, y + 20, W - 100, ph, vmax,
				 colors[k], "");
			polyline(f, runs[P_PREDICTIVE].pred[k], nsec, 60, y + 20, W - 100, ph,
				 vmax, colors[k], " stroke-dasharray=\"4,3\"");
		}
	}
	fprintf(f, "</svg>\n");
	return fclose(f);
}

/* ---- main ------------------------------------------------------------------------------ */

static int
parse_event(const char *arg, uint32_t health)
{
	char *at = strchr(arg, '@'), *end;
	double s;

	if (!at || nevents == MAX_EVENTS)
		return -1;
	events[nevents].id = strtoull(arg, &end, 10);
	if (end != at)
		return -1;
	s = strtod(at + 1, &end);
	if (*end || !(s >= 0 && s < 1e9))
		return -1;
	events[nevents].at = (uint64_t)(s * 1e9);
	events[nevents++].health = health;
	return 0;
}

static int
ev_cmp(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	return (x->at > y->at) - (x->at < y->at);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: pfse-replay [--policy predictive|reactive|static|oracle|all]\n"
		   "                   [--cluster FILE] [--snapshot FILE] [--fail NODE@S]...\n"
		   "                   [--overload NODE@S]... [--elephant-bytes N] [--bw-mbps X]\n"
		   "                   [--dwell-ms MS] [--upper] [--p-elephant P]\n"
		   "                   [--backend NAME] [--threads 1|2] [--json FILE]\n"
		   "                   [--flows-out FILE] [--plot FILE.svg]\n"
		   "                   CAPTURE...\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "cluster", required_argument, NULL, 'c' },
		{ "snapshot", required_argument, NULL, 's' },
		{ "fail", required_argument, NULL, 'F' },
		{ "overload", required_argument, NULL, 'O' },
		{ "elephant-bytes", required_argument, NULL, 'e' },
		{ "bw-mbps", required_argument, NULL, 'b' },
		{ "dwell-ms", required_argument, NULL, 'w' },
		{ "upper", no_argument, NULL, 'u' },
		{ "p-elephant", required_argument, NULL, 'E' },
		{ "backend", required_argument, NULL, 'B' },
		{ "threads", required_argument, NULL, 'T' },
		{ "json", required_argument, NULL, 'j' },
		{ "flows-out", required_argument, NULL, 'f' },
		{ "plot", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct run runs[P_COUNT];
	const char *cluster = NULL, *json = NULL, *flows_path = NULL, *plot_path = NULL;
	int want[P_COUNT] = { 1, 1, 1, 1 }, opt, first_run = -1;
	struct fscore fs[4];
	FILE *fo = NULL, *js = NULL;
	struct rusage ru;
	uint64_t floor_n;
	double floor_s;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (strcmp(optarg, "all") != 0) {
				int k;

				for (k = 0; k < P_COUNT && strcmp(optarg, policy_names[k]); k++)
					;
				if (k == P_COUNT) {
					usage(stderr);
					return 2;
				}
				memset(want, 0, sizeof(want));
				want[k] = 1;
			}
			break;
		case 'c':
			cluster = optarg;
			break;
		case 's': {
			int r = pfse_snapshot_read(optarg, NULL, &snap);

			if (r < 0) {
				fprintf(stderr, "pfse-replay: %s: %s\n", optarg, pfse_strerror(r));
				return 1;
			}
			break;
		}
		case 'F':
		case 'O':
			if (parse_event(optarg, opt == 'F' ? PFSE_NODE_DOWN : PFSE_NODE_DRAINING) <
			    0) {
				fprintf(stderr, "pfse-replay: %s: expected NODE@SECONDS\n", optarg);
				return 2;
			}
			break;
		case 'e':
			elephant_bytes = strtoull(optarg, NULL, 10);
			break;
		case 'b':
			bw_mbps = strtod(optarg, NULL);
			break;
		case 'u':
			upper = 1;
			break;
		case 'T':
			if (strcmp(optarg, "1") && strcmp(optarg, "2")) {
				usage(stderr);
				return 2;
			}
			threads = atoi(optarg);
			break;
		case 'B':
			if (!pfse_predictor_backend(optarg)) {
				fprintf(stderr, "pfse-replay: %s: no such backend\n", optarg);
				return 2;
			}
			backend_only = optarg;
			break;
		case 'E':
			p_eleph = strtod(optarg, NULL);
			if (!(p_eleph > 0 && p_eleph <= 2)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'w':
			dwell_ms = strtod(optarg, NULL);
			if (!(dwell_ms >= 0 && dwell_ms < 1e7)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'j':
			json = optarg;
			break;
		case 'f':
			flows_path = optarg;
			break;
		case 'P':
			plot_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (bw_mbps == 0)
		bw_mbps = (double)elephant_bytes * 8 / 1e6;
	if (optind == argc || argc - optind > MAX_FILES || elephant_bytes == 0 ||
	    !(bw_mbps > 0)) {
		usage(stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		char errbuf[PCAP_ERRBUF_SIZE];
		pcap_t *pc = pcap_open_offline(argv[i], errbuf);

		if (!pc) {
			fprintf(stderr, "pfse-replay: %s\n", errbuf);
			return 1;
		}
		inputs[ninputs].path = argv[i];
		inputs[ninputs++].linktype = pcap_datalink(pc);
		pcap_close(pc);
	}
	qsort(events, nevents, sizeof(events[0]), ev_cmp);
	if (fmap_grow() < 0)
		return 1;
	first_pass();
	if (frames == 0) {
		fprintf(stderr, "pfse-replay: no frames\n");
		return 1;
	}
	if (cluster ? load_cluster(cluster) < 0 : (default_cluster(), 0))
		return 1;
	for (unsigned i = 0; i < nevents; i++) {
		unsigned k;

		for (k = 0; k < nnodes && nodes[k].id != events[i].id; k++)
			;
		if (k == nnodes) {
			fprintf(stderr, "pfse-replay: no node %llu\n",
				(unsigned long long)events[i].id);
			return 2;
		}
	}
	/* the floor: the fastest of three reads */
	floor_s = floor_pass(&floor_n);
	for (int k = 0; k < 2; k++) {
		double s2 = floor_pass(&floor_n);

		floor_s = s2 < floor_s ? s2 : floor_s;
	}
	if (flows_path) {
		fo = fopen(flows_path, "w");
		if (!fo) {
			fprintf(stderr, "pfse-replay: %s: %s\n", flows_path, strerror(errno));
			return 1;
		}
		fprintf(fo, "proto,src,sport,dst,dport,packets,bytes,first_ts,last_ts,"
			    "hp_first_packet,final_tier\n");
	}
	/* reactive first: the others' lead is measured against it */
	{
		static const int order[P_COUNT] = { P_REACTIVE, P_PREDICTIVE, P_STATIC, P_ORACLE };

		for (int i = 0; i < P_COUNT; i++) {
			int p = order[i];
			int r;

			if (!want[p] && !(p == P_REACTIVE && want[P_PREDICTIVE]))
				continue;
			if (first_run < 0 && want[p])
				first_run = p;
			r = run_policy(p, &runs[p], want[p] && p == first_run ? fo : NULL);
			if (r < 0) {
				fprintf(stderr, "pfse-replay: %s: %s\n", policy_names[p],
					pfse_strerror(r));
				return 1;
			}
			runs[p].done = want[p];
		}
	}
	if (fo && fclose(fo) != 0)
		return 1;
	score_backend("naive", "naive", 0, &fs[0]);
	score_backend("ses-log", "ses", PFSE_MODEL_F_LOG1P, &fs[1]);
	score_backend("holt-damped-log", "holt", PFSE_MODEL_F_DAMPED | PFSE_MODEL_F_LOG1P,
		      &fs[2]);
	score_backend("lstm", "lstm", PFSE_MODEL_F_LOG1P, &fs[3]);
	getrusage(RUSAGE_SELF, &ru);
	if (json) {
		js = fopen(json, "w");
		if (!js) {
			fprintf(stderr, "pfse-replay: %s: %s\n", json, strerror(errno));
			return 1;
		}
		fprintf(js, "{\"frames\":%llu,\"flows\":%u,\"elephant_bytes\":%llu,\"runs\":[",
			(unsigned long long)frames, nflows, (unsigned long long)elephant_bytes);
	}
	report(stdout, js, runs, fs, 4, floor_s, floor_n, ru.ru_maxrss);
	if (js && fclose(js) != 0)
		return 1;
	if (plot_path && plot(plot_path, runs) < 0) {
		fprintf(stderr, "pfse-replay: %s: %s\n", plot_path, strerror(errno));
		return 1;
	}
	for (uint32_t i = 0; i < nflows; i++)
		free(flows[i].series);
	free(flows);
	free(fkeys);
	free(fmap);
	free(rmap);
	for (int p = 0; p < P_COUNT; p++) {
		for (unsigned t = 0; t < MAX_TIERS; t++)
			free(runs[p].load[t]);
		for (unsigned k = 0; k < TOP_PLOT; k++) {
			free(runs[p].pred[k]);
			free(runs[p].act[k]);
		}
	}
	pfse_snapshot_destroy(snap);
	return 0;
}
