/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Differential test of the flow table against an independent reference model.
 *
 * The reference (struct model) is written from the documented semantics of flow_table.h
 * alone, as plainly as possible: one record per key of a small key pool, updated packet
 * by packet in order, with no hashing, no timing wheel and its own packet-count encoding.
 * A long random sequence of operations runs on both: update bursts (IPv4/IPv6, TCP, UDP,
 * ICMP and other protocols, both directions, FIN/RST, wire lengths from 0 to 4 GiB,
 * unparsed packets), lookups, deletes, expiry with large and small budgets, cookie,
 * class, directive and slot writes, and time moving forwards, jumping by minutes and
 * going backwards. After every operation everything observable is compared: each flow's
 * record, series and slot, the handles and masks of each burst, the table counters and
 * the iteration. A disagreement is a bug in one of the two, caught where it happens: the
 * seed, run and operation index are printed so it can be replayed.
 *
 * Environment: PFSE_TEST_SEED (generator seed), PFSE_TEST_OPS (operations, spread over
 * runs of OPS_PER_RUN with different table parameters), PFSE_TEST_RUN (replay one run),
 * PFSE_TEST_FULL=1 (compare everything after every operation, not every 4th).
 *
 * Other cases: adversarial keys (every key forced onto one hash, so 16 slots: refusal, LRU
 * eviction, and flood mode never evicting a bidirectional flow); the 16-bit packet-count
 * encoding against its rule; timestamps near 2^64; and the replay of real captures (the
 * bundled samples and the shared data set), where the table's counters must equal a
 * count made directly from the parsed packets, and a final expiry must remove exactly
 * the flows that count says are idle past their timeout.
 */
#define _DEFAULT_SOURCE /* libpcap headers use the BSD u_char types */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#include <pfse/pfse.h>

#include "flow_table_priv.h"
#include "test-util.h"

#define DEFAULT_SEED 0x5eedf10a7ab1e000ull
#define DEFAULT_OPS 48000u
#define OPS_PER_RUN 4000u
#define POOL_MAX 400u
#define RING 64u               /* samples kept per reference flow (W is at most 64) */
#define STALE_MAX 64u
#define BIG_BUDGET (1u << 30)
#define SEC 1000000000ull
#define MS 1000000ull
#define U32_SAT 0xffffffffull

/* ---- small helpers -------------------------------------------------------------------- */

struct rng {
	uint64_t s;
};

/* splitmix64 */
static uint64_t
rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static int
pct(struct rng *r, unsigned p)
{
	return below(r, 100) < p;
}

static uint64_t
env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	uint64_t v;

	if (!s || !*s)
		return def;
	v = strtoull(s, &end, 0);
	return *end ? def : v;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The packet count of a closed interval as the series keeps it (flow_table.h): exact
 * below 2048; above, with e = floor(log2(v)) - 10, rounded down to a multiple of
 * 2^(e-1); 16 bits hold up to e = 31, so larger counts saturate at the largest value. */
static uint64_t
ref_pkts_sample(uint64_t v)
{
	unsigned lg = 0, e;
	uint64_t g;

	if (v < 2048)
		return v;
	if (v >= (1ull << 42))
		return (1ull << 42) - (1ull << 30);
	while ((v >> lg) > 1)
		lg++;
	e = lg - 10;
	g = 1ull << (e - 1);
	return v / g * g;
}

static const char *
key_str(const struct pfse_flow_key *k, char *buf)
{
	if (pfse_flow_key_format(k, buf, PFSE_FLOW_KEY_STRLEN) < 0)
		snprintf(buf, PFSE_FLOW_KEY_STRLEN, "(unformattable key)");
	return buf;
}

/* ---- the reference model -------------------------------------------------------------- */

struct ref_flow {
	int live;
	uint32_t handle;
	uint64_t packets[2];
	uint64_t bytes[2];
	uint64_t first_seen;
	uint64_t last_seen;
	uint64_t cookie;
	uint64_t open_k;          /* index of the open interval */
	uint64_t open_bytes;      /* not saturated here; saturated when compared */
	uint64_t open_packets;
	uint64_t ring_bytes[RING]; /* the last RING closed samples */
	uint64_t ring_pkts[RING];
	unsigned ring_pos;        /* samples pushed (mod 2^32) */
	uint32_t class_id;
	uint8_t tcp_flags;
	uint8_t kind;
	struct pfse_directive dir;
	uint8_t slot[PFSE_FT_SLOT_MAX];
};

struct ref_stats {
	uint64_t packets, untracked, unparsed, created, expired, deleted, samples, clamped;
};

struct model {
	uint64_t seed;            /* seed of the whole test, printed on mismatch */
	unsigned run;
	uint64_t op;
	const char *what;         /* the operation running */
	int ctx;                  /* pool index of the flow being compared, or -1 */
	struct rng r;
	struct pfse_flow_table *t;
	struct pfse_flow_table_params p;
	struct count_alloc alloc;
	uint64_t interval;
	uint64_t timeout[4];
	uint64_t max_timeout;
	unsigned w;
	unsigned slot_size;
	int flood_free;           /* new_flow_rate is UINT32_MAX: flood mode never */
	unsigned nkeys, nlive;
	struct pfse_flow_key keys[POOL_MAX];
	struct ref_flow flows[POOL_MAX];
	uint64_t latest;          /* the latest time the table has seen */
	uint64_t clock;           /* the generator's notion of now */
	struct ref_stats es;
	uint32_t stale[STALE_MAX];
	unsigned nstale;
	/* pfse_flow_table_expire() callback state */
	uint64_t now;             /* the clamped `now` */
	uint64_t cutoff;          /* now rounded down to the wheel's tick */
	unsigned char expect_gone[POOL_MAX];
	unsigned char gone[POOL_MAX];
	unsigned ngone;
	int cb_check_all;
	/* coverage of the interesting cases, printed per run */
	uint64_t cov_full_series, cov_big_pkts, cov_sat_bytes, cov_cb, cov_closing;
};

static void
dump_flow(struct model *m, unsigned ki)
{
	const struct ref_flow *f = &m->flows[ki];
	struct pfse_flow_info in;
	char ks[PFSE_FLOW_KEY_STRLEN];

	printf("#   key %u: %s\n", ki, key_str(&m->keys[ki], ks));
	printf("#   model: live %d handle %" PRIu32 " pk %" PRIu64 "/%" PRIu64 " by %" PRIu64
	       "/%" PRIu64 " first %" PRIu64 " last %" PRIu64 " open_k %" PRIu64 " open %"
	       PRIu64 "B/%" PRIu64 "p kind %u flags 0x%02x\n", f->live, f->handle,
	       f->packets[0], f->packets[1], f->bytes[0], f->bytes[1], f->first_seen,
	       f->last_seen, f->open_k, f->open_bytes, f->open_packets, f->kind, f->tcp_flags);
	pfse_flow_info_init(&in);
	if (f->live && pfse_flow_table_info(m->t, f->handle, &in) == 0)
		printf("#   table: pk %" PRIu64 "/%" PRIu64 " by %" PRIu64 "/%" PRIu64 " first %"
		       PRIu64 " last %" PRIu64 " interval %" PRIu64 " open %" PRIu64 "B/%" PRIu64
		       "p kind %u flags 0x%02x series %u\n", in.packets[0], in.packets[1],
		       in.bytes[0], in.bytes[1], in.first_seen, in.last_seen, in.interval,
		       in.open_bytes, in.open_packets, in.timeout_kind, in.tcp_flags,
		       in.series_count);
}

static void
mismatch(struct model *m, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
mismatch(struct model *m, int line, const char *fmt, ...)
{
	va_list ap;

	printf("# flow-table-diff MISMATCH (line %d): seed 0x%" PRIx64 " run %u op %" PRIu64
	       " (%s), interval %" PRIu64 " W %u slot %u timeouts %" PRIu64 "/%" PRIu64 "/%"
	       PRIu64 "/%" PRIu64 " latest %" PRIu64 "\n#   ", line, m->seed, m->run, m->op,
	       m->what, m->interval, m->w, m->slot_size, m->timeout[0], m->timeout[1],
	       m->timeout[2], m->timeout[3], m->latest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (m->ctx >= 0)
		dump_flow(m, (unsigned)m->ctx);
	printf("# replay with PFSE_TEST_SEED=0x%" PRIx64 " PFSE_TEST_RUN=%u\n", m->seed, m->run);
	fflush(stdout);
	ck_abort_msg("flow-table-diff mismatch: seed 0x%" PRIx64 " run %u op %" PRIu64 " (%s)",
		     m->seed, m->run, m->op, m->what);
}

#define EXPECT(m, cond, ...)                                              \
	do {                                                              \
		if (!(cond))                                              \
			mismatch((m), __LINE__, __VA_ARGS__);             \
	} while (0)

#define EXPECT_EQ(m, name, got, want)                                                  \
	do {                                                                           \
		uint64_t got_ = (uint64_t)(got), want_ = (uint64_t)(want);             \
		if (got_ != want_)                                                     \
			mismatch((m), __LINE__, "%s: table %" PRIu64 " (0x%" PRIx64        \
				 "), model %" PRIu64 " (0x%" PRIx64 ")", (name), got_, got_, \
				 want_, want_);                                        \
	} while (0)

static uint64_t
timeout_of(const struct model *m, const struct ref_flow *f)
{
	return m->timeout[f->kind];
}

static unsigned
series_count(const struct model *m, const struct ref_flow *f)
{
	return (unsigned)min_u64(f->open_k - f->first_seen / m->interval, m->w);
}

static void
ring_push(struct ref_flow *f, uint64_t bytes, uint64_t packets)
{
	f->ring_bytes[f->ring_pos % RING] = bytes;
	f->ring_pkts[f->ring_pos % RING] = packets;
	f->ring_pos++;
}

/* One parsed packet of pool key `ki` at (clamped) time `ts`, as the documentation says;
 * sets the packet's bits in `em`. */
static void
ref_packet(struct model *m, unsigned ki, const struct pfse_pkt *p, uint64_t ts, unsigned i,
	   struct pfse_flow_masks *em)
{
	struct ref_flow *f = &m->flows[ki];
	unsigned dir = (p->flags & PFSE_PKT_F_REVERSE) ? 1 : 0;
	uint64_t b = p->wirelen ? p->wirelen : p->caplen;
	uint64_t k = ts / m->interval;
	uint8_t proto = m->keys[ki].proto;

	em->tracked |= 1ull << i;
	if (!f->live) {
		memset(f, 0, sizeof(*f));
		f->live = 1;
		f->handle = PFSE_FLOW_NONE;
		f->first_seen = ts;
		f->open_k = k;
		f->kind = proto == 6 ? PFSE_FT_TIMEOUT_TCP :
			  proto == 17 || proto == 136 ? PFSE_FT_TIMEOUT_UDP :
			  PFSE_FT_TIMEOUT_OTHER;
		f->dir.tier = PFSE_TIER_NONE;
		f->dir.node = PFSE_NODE_ANY;
		m->nlive++;
		m->es.created++;
		em->created |= 1ull << i;
	} else if (k > f->open_k) {
		uint64_t zeros = min_u64(k - f->open_k - 1, RING);

		ring_push(f, min_u64(f->open_bytes, U32_SAT), ref_pkts_sample(f->open_packets));
		m->cov_big_pkts += f->open_packets >= 2048;
		m->cov_sat_bytes += f->open_bytes > U32_SAT;
		for (uint64_t z = 0; z < zeros; z++)
			ring_push(f, 0, 0);
		m->es.samples += k - f->open_k;
		f->open_k = k;
		f->open_bytes = 0;
		f->open_packets = 0;
		em->samples |= 1ull << i;
	}
	f->packets[dir]++;
	f->bytes[dir] += b;
	f->last_seen = ts;
	f->open_bytes += b;
	f->open_packets++;
	if (proto == 6) {
		f->tcp_flags |= p->tcp_flags;
		if ((p->tcp_flags & 0x05) && f->kind != PFSE_FT_TIMEOUT_TCP_CLOSING) {
			f->kind = PFSE_FT_TIMEOUT_TCP_CLOSING;
			m->cov_closing++;
		}
	}
}

/* ---- comparisons ---------------------------------------------------------------------- */

static void
check_info(struct model *m, unsigned ki, const struct pfse_flow_info *in)
{
	const struct ref_flow *f = &m->flows[ki];
	int saved = m->ctx;

	m->ctx = (int)ki;
	EXPECT(m, memcmp(&in->key, &m->keys[ki], sizeof(in->key)) == 0, "info.key differs");
	EXPECT_EQ(m, "info.size", in->size, sizeof(*in));
	EXPECT_EQ(m, "info.packets[0]", in->packets[0], f->packets[0]);
	EXPECT_EQ(m, "info.packets[1]", in->packets[1], f->packets[1]);
	EXPECT_EQ(m, "info.bytes[0]", in->bytes[0], f->bytes[0]);
	EXPECT_EQ(m, "info.bytes[1]", in->bytes[1], f->bytes[1]);
	EXPECT_EQ(m, "info.first_seen", in->first_seen, f->first_seen);
	EXPECT_EQ(m, "info.last_seen", in->last_seen, f->last_seen);
	EXPECT_EQ(m, "info.cookie", in->cookie, f->cookie);
	EXPECT_EQ(m, "info.interval", in->interval, f->open_k);
	EXPECT_EQ(m, "info.open_bytes", in->open_bytes, min_u64(f->open_bytes, U32_SAT));
	EXPECT_EQ(m, "info.open_packets", in->open_packets, f->open_packets);
	EXPECT_EQ(m, "info.class_id", in->class_id, f->class_id);
	EXPECT_EQ(m, "info.series_count", in->series_count, series_count(m, f));
	EXPECT_EQ(m, "info.tcp_flags", in->tcp_flags, f->tcp_flags);
	EXPECT_EQ(m, "info.timeout_kind", in->timeout_kind, f->kind);
	EXPECT_EQ(m, "info.bidirectional", in->bidirectional,
		  f->packets[0] > 0 && f->packets[1] > 0);
	for (unsigned j = 0; j < sizeof(in->reserved); j++)
		EXPECT_EQ(m, "info.reserved[]", in->reserved[j], 0);
	EXPECT_EQ(m, "info.directive.tier", in->directive.tier, f->dir.tier);
	EXPECT_EQ(m, "info.directive.reason", in->directive.reason, f->dir.reason);
	EXPECT_EQ(m, "info.directive.node", in->directive.node, f->dir.node);
	EXPECT_EQ(m, "info.directive.reserved", in->directive.reserved, 0);
	EXPECT_EQ(m, "info.directive.since", in->directive.since, f->dir.since);
	m->ctx = saved;
}

static void
check_series(struct model *m, unsigned ki)
{
	const struct ref_flow *f = &m->flows[ki];
	uint64_t b[RING + 2], pk[RING + 2];
	unsigned sc = series_count(m, f), max, n;
	int r, saved = m->ctx, nulls;

	m->ctx = (int)ki;
	max = pct(&m->r, 70) ? RING + 2 : (unsigned)below(&m->r, RING + 3);
	nulls = (int)below(&m->r, 10);
	memset(b, 0xee, sizeof(b));
	memset(pk, 0xee, sizeof(pk));
	r = pfse_flow_table_series(m->t, f->handle, max, nulls == 1 || nulls == 3 ? NULL : b,
				   nulls == 2 || nulls == 3 ? NULL : pk);
	n = sc < max ? sc : max;
	m->cov_full_series += sc > 0 && sc == m->w;
	/* Both arrays NULL: the header says each "may be NULL" but not whether both may;
	 * the library refuses that with -EINVAL when max > 0, which is tolerated here. */
	if (nulls == 3 && max > 0 && r == -EINVAL)
		r = (int)n;
	EXPECT_EQ(m, "series() return", (int64_t)r, n);
	for (unsigned j = 0; j < n; j++) {
		unsigned at = (f->ring_pos - n + j) % RING;

		if (nulls != 1 && nulls != 3)
			EXPECT(m, b[j] == f->ring_bytes[at],
			       "series bytes[%u of %u]: table %" PRIu64 ", model %" PRIu64, j, n,
			       b[j], f->ring_bytes[at]);
		if (nulls != 2 && nulls != 3)
			EXPECT(m, pk[j] == f->ring_pkts[at],
			       "series packets[%u of %u]: table %" PRIu64 ", model %" PRIu64, j,
			       n, pk[j], f->ring_pkts[at]);
	}
	if (nulls != 1 && nulls != 3)
		EXPECT(m, b[n] == 0xeeeeeeeeeeeeeeeeull, "series wrote past its count");
	m->ctx = saved;
}

static void
check_slot(struct model *m, unsigned ki)
{
	const struct ref_flow *f = &m->flows[ki];
	const uint8_t *s = pfse_flow_table_slot(m->t, f->handle);
	int saved = m->ctx;

	m->ctx = (int)ki;
	EXPECT(m, s != NULL, "slot() of a live flow is NULL");
	for (unsigned j = 0; j < m->slot_size; j++)
		EXPECT(m, s[j] == f->slot[j], "slot byte %u: table 0x%02x, model 0x%02x", j, s[j],
		       f->slot[j]);
	m->ctx = saved;
}

static void
check_flow(struct model *m, unsigned ki)
{
	struct pfse_flow_info in;
	int r;

	m->ctx = (int)ki;
	pfse_flow_info_init(&in);
	r = pfse_flow_table_info(m->t, m->flows[ki].handle, &in);
	EXPECT(m, r == 0, "info() of live flow handle %" PRIu32 " returned %d",
	       m->flows[ki].handle, r);
	check_info(m, ki, &in);
	check_series(m, ki);
	check_slot(m, ki);
	m->ctx = -1;
}

static void
check_stats(struct model *m)
{
	struct pfse_flow_table_stats s;

	pfse_flow_table_stats_init(&s);
	EXPECT(m, pfse_flow_table_stats(m->t, &s) == 0, "stats() failed");
	EXPECT_EQ(m, "stats.flows", s.flows, m->nlive);
	EXPECT_EQ(m, "stats.capacity", s.capacity, m->p.capacity ? m->p.capacity : 65536u);
	EXPECT_EQ(m, "stats.packets", s.packets, m->es.packets);
	EXPECT_EQ(m, "stats.untracked", s.untracked, m->es.untracked);
	EXPECT_EQ(m, "stats.unparsed", s.unparsed, m->es.unparsed);
	EXPECT_EQ(m, "stats.created", s.created, m->es.created);
	EXPECT_EQ(m, "stats.evicted", s.evicted, 0);
	EXPECT_EQ(m, "stats.refused_full", s.refused_full, 0);
	EXPECT_EQ(m, "stats.refused_flood", s.refused_flood, 0);
	if (m->flood_free)
		EXPECT_EQ(m, "stats.flood_packets", s.flood_packets, 0);
	EXPECT_EQ(m, "stats.expired", s.expired, m->es.expired);
	EXPECT_EQ(m, "stats.deleted", s.deleted, m->es.deleted);
	EXPECT_EQ(m, "stats.samples", s.samples, m->es.samples);
	EXPECT_EQ(m, "stats.clamped", s.clamped, m->es.clamped);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
check_iteration(struct model *m)
{
	uint32_t got[POOL_MAX + 1], want[POOL_MAX];
	uint32_t iter = 0, flow, n = 0, nw = 0;
	int r;

	while ((r = pfse_flow_table_next(m->t, &iter, &flow)) == 0) {
		EXPECT(m, n < POOL_MAX + 1 && n <= m->nlive, "iteration visits more than %u flows",
		       m->nlive);
		got[n++] = flow;
	}
	EXPECT_EQ(m, "next() at the end", (int64_t)r, (int64_t)-ENOENT);
	for (unsigned i = 0; i < m->nkeys; i++)
		if (m->flows[i].live)
			want[nw++] = m->flows[i].handle;
	EXPECT_EQ(m, "flows visited by next()", n, nw);
	qsort(got, n, sizeof(got[0]), cmp_u32);
	qsort(want, nw, sizeof(want[0]), cmp_u32);
	for (unsigned i = 0; i < n; i++) {
		EXPECT(m, i == 0 || want[i] != want[i - 1], "two live flows share handle %" PRIu32,
		       want[i]);
		EXPECT(m, got[i] == want[i], "next() visited handle %" PRIu32 ", model %" PRIu32,
		       got[i], want[i]);
	}
}

/* Looks every key of the pool up, in bursts of random sizes. */
static void
check_lookups(struct model *m)
{
	struct pfse_flow_key keys[PFSE_BURST_MAX];
	uint32_t flows[PFSE_BURST_MAX];
	unsigned idx[PFSE_BURST_MAX];
	unsigned at = 0;

	while (at < m->nkeys) {
		unsigned n = 1 + (unsigned)below(&m->r, PFSE_BURST_MAX), hits = 0;
		uint64_t mask = 0xdeadbeef, want = 0;
		int r;

		if (n > m->nkeys - at)
			n = m->nkeys - at;
		for (unsigned i = 0; i < n; i++) {
			idx[i] = at + i;
			keys[i] = m->keys[at + i];
			if (m->flows[at + i].live) {
				want |= 1ull << i;
				hits++;
			}
		}
		memset(flows, 0x5a, sizeof(flows));
		r = pfse_flow_table_lookup_burst(m->t, keys, n, flows, &mask);
		EXPECT_EQ(m, "lookup_burst() return", (int64_t)r, hits);
		EXPECT_EQ(m, "lookup_burst() hit mask", mask, want);
		for (unsigned i = 0; i < n; i++) {
			const struct ref_flow *f = &m->flows[idx[i]];

			m->ctx = (int)idx[i];
			EXPECT_EQ(m, "lookup_burst() handle", flows[i],
				  f->live ? f->handle : PFSE_FLOW_NONE);
		}
		m->ctx = -1;
		at += n;
	}
}

static void
check_all(struct model *m)
{
	check_stats(m);
	check_lookups(m);
	for (unsigned i = 0; i < m->nkeys; i++)
		if (m->flows[i].live)
			check_flow(m, i);
	check_iteration(m);
}

/* ---- run set-up ----------------------------------------------------------------------- */

static void
gen_key(struct model *m, struct pfse_flow_key *k)
{
	static const uint8_t protos[] = { 6, 6, 6, 6, 17, 17, 17, 1, 58, 136, 132, 33, 47, 50,
					  0, 255 };
	struct rng *r = &m->r;

	if (m->nkeys > 8 && pct(r, 25)) {
		/* A near twin of an existing key: one field or byte differs. */
		*k = m->keys[below(r, m->nkeys)];
		switch (below(r, 6)) {
		case 0:
			k->zone ^= (uint16_t)(1u << below(r, 16));
			break;
		case 1:
			k->src[k->family == PFSE_FAMILY_IPV4 ? below(r, 4) : below(r, 16)] ^= 1;
			break;
		case 2:
			k->dst[k->family == PFSE_FAMILY_IPV4 ? 3 : 15] ^= 0x80;
			break;
		case 3:
			k->sport ^= 0x0100;
			break;
		case 4:
			k->proto = protos[below(r, sizeof(protos))];
			break;
		default:
			k->family = PFSE_FAMILY_IPV6;
			break;
		}
		return;
	}
	memset(k, 0, sizeof(*k));
	k->family = pct(r, 50) ? PFSE_FAMILY_IPV4 : PFSE_FAMILY_IPV6;
	for (unsigned j = 0; j < (k->family == PFSE_FAMILY_IPV4 ? 4u : 16u); j++) {
		k->src[j] = (uint8_t)rnd(r);
		k->dst[j] = (uint8_t)rnd(r);
	}
	k->proto = protos[below(r, sizeof(protos))];
	if (k->proto == 6 || k->proto == 17 || k->proto == 136 || k->proto == 132 ||
	    k->proto == 33 || pct(r, 30)) {
		k->sport = (uint16_t)rnd(r);
		k->dport = (uint16_t)rnd(r);
	}
	if (pct(r, 15))
		k->zone = (uint16_t)rnd(r);
}

static void
gen_pool(struct model *m, unsigned n)
{
	m->nkeys = 0;
	while (m->nkeys < n) {
		struct pfse_flow_key k;
		int dup = 0;

		gen_key(m, &k);
		for (unsigned i = 0; i < m->nkeys && !dup; i++)
			dup = memcmp(&k, &m->keys[i], sizeof(k)) == 0;
		if (!dup)
			m->keys[m->nkeys++] = k;
	}
}

static uint64_t
log_uniform(struct rng *r, uint64_t lo, uint64_t hi)
{
	uint64_t v = lo;

	while (v < hi / 2 && pct(r, 50))
		v *= 2;
	return v + below(r, v);
}

static void
gen_params(struct model *m)
{
	struct pfse_flow_table_params *p = &m->p;
	struct rng *r = &m->r;
	static const uint64_t dflt[4] = { 300 * SEC, 10 * SEC, 30 * SEC, 30 * SEC };

	pfse_flow_table_params_init(p);
	p->flags = PFSE_FT_F_FIXED_SEED;
	p->seed = rnd(r);
	switch (below(r, 4)) {
	case 0:
		p->capacity = 4096;
		break;
	case 1:
		p->capacity = (uint32_t)(4 * m->nkeys + below(r, 2000));
		break;
	case 2:
		p->capacity = 0;
		break;
	default:
		p->capacity = 8 * m->nkeys;
		break;
	}
	switch (below(r, 5)) {
	case 0:
		p->interval_ns = 0;
		break;
	case 1:
		p->interval_ns = MS;
		break;
	case 2:
		p->interval_ns = SEC;
		break;
	default:
		p->interval_ns = MS + below(r, SEC - MS + 1);
		break;
	}
	switch (below(r, 5)) {
	case 0:
		p->series_len = 0;
		break;
	case 1:
		p->flags |= PFSE_FT_F_NO_SERIES;
		break;
	case 2:
		p->series_len = 64;
		break;
	default:
		p->series_len = 1 + (uint32_t)below(r, 64);
		break;
	}
	switch (below(r, 4)) {
	case 0:
		p->slot_size = 0;
		break;
	case 1:
		p->slot_size = 512;
		break;
	default:
		p->slot_size = 1 + (uint32_t)below(r, 512);
		break;
	}
	if (pct(r, 25)) {
		p->timeout_tcp_ns = 0;
		p->timeout_tcp_closing_ns = 0;
		p->timeout_udp_ns = 0;
		p->timeout_other_ns = 0;
	} else {
		p->timeout_tcp_ns = pct(r, 10) ? 0 : log_uniform(r, 20 * MS, 120 * SEC);
		p->timeout_tcp_closing_ns = pct(r, 10) ? 0 : log_uniform(r, 5 * MS, 20 * SEC);
		p->timeout_udp_ns = pct(r, 10) ? 0 : log_uniform(r, 20 * MS, 60 * SEC);
		p->timeout_other_ns = pct(r, 10) ? 0 : log_uniform(r, 20 * MS, 60 * SEC);
	}
	p->eviction = pct(r, 20) ? PFSE_FT_EVICT_REFUSE : PFSE_FT_EVICT_LRU;
	p->new_flow_rate = pct(r, 75) ? UINT32_MAX : 0;
	m->flood_free = p->new_flow_rate == UINT32_MAX;

	m->interval = p->interval_ns ? p->interval_ns : 100 * MS;
	m->w = (p->flags & PFSE_FT_F_NO_SERIES) ? 0 : p->series_len ? p->series_len : 8;
	m->slot_size = p->slot_size ? (p->slot_size + 7) / 8 * 8 : 64;
	m->timeout[0] = p->timeout_tcp_ns ? p->timeout_tcp_ns : dflt[0];
	m->timeout[1] = p->timeout_tcp_closing_ns ? p->timeout_tcp_closing_ns : dflt[1];
	m->timeout[2] = p->timeout_udp_ns ? p->timeout_udp_ns : dflt[2];
	m->timeout[3] = p->timeout_other_ns ? p->timeout_other_ns : dflt[3];
	m->max_timeout = 0;
	for (unsigned i = 0; i < 4; i++)
		if (m->timeout[i] > m->max_timeout)
			m->max_timeout = m->timeout[i];
}

/* ---- operations ----------------------------------------------------------------------- */

static uint8_t
gen_tcp_flags(struct rng *r, uint8_t proto)
{
	static const uint8_t common[] = { 0x02, 0x12, 0x10, 0x18, 0x10, 0x18, 0x10, 0x40 };

	if (proto != 6)
		return pct(r, 10) ? (uint8_t)rnd(r) : 0;
	if (pct(r, 3))
		return 0x11; /* FIN ACK */
	if (pct(r, 2))
		return 0x04; /* RST */
	if (pct(r, 5))
		return (uint8_t)(rnd(r) & 0xfa); /* anything without FIN or RST */
	return common[below(r, sizeof(common))];
}

static int
pick_key(struct model *m)
{
	if (pct(&m->r, 20))
		return (int)below(&m->r, m->nkeys < 8 ? m->nkeys : 8); /* hot keys */
	return (int)below(&m->r, m->nkeys);
}

static void
gen_packet(struct model *m, struct pfse_pkt *p, int *ki, int fixed)
{
	static const uint8_t dummy[64];
	struct rng *r = &m->r;
	int k = fixed >= 0 ? fixed : pick_key(m);

	memset(p, 0, sizeof(*p));
	p->data = dummy;
	p->key = m->keys[k];
	*ki = k;
	if (fixed < 0 && pct(r, 5)) {
		p->status = (uint8_t)(1 + below(r, 255));
		if (pct(r, 50))
			memset(&p->key, 0, sizeof(p->key));
		*ki = -1;
	}
	if (pct(r, 50))
		p->flags |= PFSE_PKT_F_REVERSE;
	if (pct(r, 20))
		p->flags |= (uint32_t)rnd(r) & 0xbff; /* other flags, PFSE_PKT_F_HASH included */
	if (p->flags & PFSE_PKT_F_HASH)
		p->hash = rnd(r);
	p->l3_off = 14;
	p->l4_off = PFSE_OFF_NONE;
	p->ttl = (uint8_t)rnd(r);
	switch (below(r, 100)) {
	case 0:
		p->caplen = 0;
		break;
	case 1: case 2: case 3: case 4:
		p->caplen = (uint32_t)below(r, 65536);
		break;
	default:
		p->caplen = 20 + (uint32_t)below(r, 1500);
		break;
	}
	switch (below(r, 20)) {
	case 0:
		p->wirelen = 0x80000000u + (uint32_t)below(r, 0x80000000u);
		break;
	case 1: case 2: case 3: case 4: case 5: case 6: case 7:
		p->wirelen = 0;
		break;
	default:
		p->wirelen = p->caplen + (uint32_t)below(r, 9000);
		break;
	}
	p->tcp_flags = gen_tcp_flags(r, p->key.proto);
	if (fixed < 0 && pct(r, 30))
		m->clock += below(r, m->interval / 16 + 1);
	p->ts = m->clock;
	if (pct(r, 3))
		p->ts = m->clock - min_u64(m->clock, below(r, pct(r, 50) ? m->interval : 5 * SEC));
}

static void
note_stale(struct model *m, uint32_t h)
{
	m->stale[m->nstale++ % STALE_MAX] = h;
}

static int
handle_live(const struct model *m, uint32_t h)
{
	for (unsigned i = 0; i < m->nkeys; i++)
		if (m->flows[i].live && m->flows[i].handle == h)
			return 1;
	return 0;
}

static void
op_update(struct model *m, int fixed, unsigned n)
{
	struct pfse_pkt pkts[PFSE_BURST_MAX], *pp[PFSE_BURST_MAX] = { NULL };
	struct pfse_flow_masks mk, em;
	uint32_t flows[PFSE_BURST_MAX];
	int ki[PFSE_BURST_MAX];
	unsigned tracked = 0;
	int r;

	if (fixed < 0 && pct(&m->r, 50))
		m->clock += below(&m->r, m->interval / 4 + 1);
	for (unsigned i = 0; i < n; i++) {
		gen_packet(m, &pkts[i], &ki[i], fixed);
		pp[i] = &pkts[i];
	}
	memset(flows, 0xa5, sizeof(flows));
	memset(&mk, 0xa5, sizeof(mk));
	memset(&em, 0, sizeof(em));
	r = pfse_flow_table_update_burst(m->t, pp, n, flows, &mk);

	/* The reference, packet by packet. */
	for (unsigned i = 0; i < n; i++) {
		uint64_t ts = pkts[i].ts;

		if (pkts[i].status != PFSE_PARSE_OK) {
			m->es.unparsed++;
			m->es.untracked++;
			continue;
		}
		if (ts < m->latest) {
			ts = m->latest;
			m->es.clamped++;
		} else {
			m->latest = ts;
		}
		ref_packet(m, (unsigned)ki[i], &pkts[i], ts, i, &em);
		tracked++;
	}
	m->es.packets += n;

	EXPECT_EQ(m, "update_burst() return", (int64_t)r, tracked);
	EXPECT_EQ(m, "masks.tracked", mk.tracked, em.tracked);
	EXPECT_EQ(m, "masks.created", mk.created, em.created);
	EXPECT_EQ(m, "masks.samples", mk.samples, em.samples);
	EXPECT_EQ(m, "masks.evicted", mk.evicted, 0);
	for (unsigned i = 0; i < n; i++) {
		struct ref_flow *f;

		if (pkts[i].status != PFSE_PARSE_OK) {
			EXPECT_EQ(m, "handle of an unparsed packet", flows[i], PFSE_FLOW_NONE);
			continue;
		}
		f = &m->flows[ki[i]];
		m->ctx = ki[i];
		if (f->handle == PFSE_FLOW_NONE) {
			EXPECT(m, flows[i] != PFSE_FLOW_NONE, "packet %u got no flow", i);
			EXPECT(m, !handle_live(m, flows[i]),
			       "new flow got handle %" PRIu32 " of a live flow", flows[i]);
			f->handle = flows[i];
		}
		EXPECT(m, flows[i] == f->handle, "packet %u: handle %" PRIu32 ", model %" PRIu32,
		       i, flows[i], f->handle);
		m->ctx = -1;
	}
	for (unsigned i = 0; i < n; i++)
		if (ki[i] >= 0 && (i == 0 || ki[i] != ki[i - 1]))
			check_flow(m, (unsigned)ki[i]);
}

static int
pick_live(struct model *m)
{
	unsigned start;

	if (m->nlive == 0)
		return -1;
	start = (unsigned)below(&m->r, m->nkeys);
	for (unsigned j = 0; j < m->nkeys; j++) {
		unsigned i = (start + j) % m->nkeys;

		if (m->flows[i].live)
			return (int)i;
	}
	return -1;
}

static void
expect_gone_handle(struct model *m, uint32_t h)
{
	struct pfse_flow_info in;
	struct pfse_directive d;
	uint64_t b[RING], pk[RING];
	int r;

	if (handle_live(m, h))
		return;
	pfse_flow_info_init(&in);
	memset(&d, 0, sizeof(d));
	r = pfse_flow_table_info(m->t, h, &in);
	EXPECT(m, r == -ENOENT, "info() of dead handle %" PRIu32 ": %d", h, r);
	r = pfse_flow_table_series(m->t, h, RING, b, pk);
	EXPECT(m, r == -ENOENT, "series() of dead handle %" PRIu32 ": %d", h, r);
	EXPECT(m, pfse_flow_table_slot(m->t, h) == NULL, "slot() of dead handle %" PRIu32, h);
	r = pfse_flow_table_set_cookie(m->t, h, 1);
	EXPECT(m, r == -ENOENT, "set_cookie() of dead handle %" PRIu32 ": %d", h, r);
	r = pfse_flow_table_set_class(m->t, h, 1);
	EXPECT(m, r == -ENOENT, "set_class() of dead handle %" PRIu32 ": %d", h, r);
	r = pfse_flow_table_set_directive(m->t, h, &d);
	EXPECT(m, r == -ENOENT, "set_directive() of dead handle %" PRIu32 ": %d", h, r);
	r = pfse_flow_table_delete(m->t, h);
	EXPECT(m, r == -ENOENT, "delete() of dead handle %" PRIu32 ": %d", h, r);
}

static void
op_delete(struct model *m)
{
	int i = pick_live(m);
	uint32_t h;
	int r;

	if (i < 0)
		return;
	h = m->flows[i].handle;
	m->ctx = i;
	r = pfse_flow_table_delete(m->t, h);
	EXPECT(m, r == 0, "delete() of a live flow: %d", r);
	m->ctx = -1;
	m->flows[i].live = 0;
	m->nlive--;
	m->es.deleted++;
	note_stale(m, h);
	expect_gone_handle(m, h);
}

static void
op_dead_handles(struct model *m)
{
	uint32_t h;

	switch (below(&m->r, 4)) {
	case 0:
		h = PFSE_FLOW_NONE;
		break;
	case 1:
		h = (uint32_t)rnd(&m->r);
		break;
	case 2:
		h = (m->p.capacity ? m->p.capacity : 65536u) + (uint32_t)below(&m->r, 3) - 1;
		break;
	default:
		if (m->nstale == 0)
			return;
		h = m->stale[below(&m->r, m->nstale < STALE_MAX ? m->nstale : STALE_MAX)];
		break;
	}
	expect_gone_handle(m, h);
}

static void
expire_cb(struct pfse_flow_table *t, uint32_t flow, uint32_t cause, void *user)
{
	struct model *m = user;
	struct pfse_flow_info in;
	int ki = -1, r;

	EXPECT(m, t == m->t, "expire callback with another table");
	EXPECT_EQ(m, "expire callback cause", cause, PFSE_FT_REMOVED_EXPIRED);
	pfse_flow_info_init(&in);
	r = pfse_flow_table_info(t, flow, &in);
	EXPECT(m, r == 0, "info() in the expire callback, handle %" PRIu32 ": %d", flow, r);
	for (unsigned i = 0; i < m->nkeys && ki < 0; i++)
		if (memcmp(&m->keys[i], &in.key, sizeof(in.key)) == 0)
			ki = (int)i;
	EXPECT(m, ki >= 0, "expire callback with a key outside the pool");
	m->ctx = ki;
	EXPECT(m, m->flows[ki].live, "expire callback for a flow the model does not hold");
	EXPECT_EQ(m, "handle in the expire callback", flow, m->flows[ki].handle);
	EXPECT(m, !m->gone[ki], "expire callback twice for one flow");
	EXPECT(m, m->expect_gone[ki], "expired a flow not idle past its timeout: last_seen %"
	       PRIu64 " + timeout %" PRIu64 " >= cutoff %" PRIu64 " (now %" PRIu64 ", tick 2^%u)",
	       m->flows[ki].last_seen, timeout_of(m, &m->flows[ki]), m->cutoff, m->now,
	       pfse_ft_test_tick_shift(t));
	check_info(m, (unsigned)ki, &in);
	if (m->cb_check_all) {
		check_series(m, (unsigned)ki);
		check_slot(m, (unsigned)ki);
	}
	m->ctx = -1;
	m->gone[ki] = 1;
	m->ngone++;
	m->cov_cb++;
}

static void
op_expire(struct model *m)
{
	struct rng *r = &m->r;
	unsigned shift = pfse_ft_test_tick_shift(m->t);
	uint64_t tick = 1ull << shift, now, nowc;
	unsigned budget, nexp = 0;
	int use_cb = 1, ret, i;

	switch (below(r, 10)) {
	case 0: case 1: case 2:
		now = m->clock;
		break;
	case 3: case 4:
		now = m->latest + below(r, 2 * m->max_timeout + 1);
		break;
	case 5: case 6: case 7: case 8:
		i = pick_live(m);
		if (i < 0) {
			now = m->clock;
			break;
		} else {
			static const int64_t d[] = { -2, -1, 0, 1, 2, 3 };
			uint64_t dl = m->flows[i].last_seen + timeout_of(m, &m->flows[i]);
			int64_t k = d[below(r, sizeof(d) / sizeof(d[0]))];
			int64_t jitter = (int64_t)below(r, 3) - 1;
			int64_t off = k * (int64_t)tick + jitter;

			now = off < 0 && (uint64_t)-off > dl ? 0 : dl + (uint64_t)off;
		}
		break;
	default:
		now = m->latest - min_u64(m->latest, below(r, 10 * SEC));
		break;
	}
	budget = pct(r, 85) ? BIG_BUDGET : pct(r, 20) ? UINT_MAX : (unsigned)below(r, 4);
	if (budget >= BIG_BUDGET && pct(r, 10))
		use_cb = 0;
	nowc = now < m->latest ? m->latest : now;
	m->latest = nowc;
	m->now = nowc;
	m->cutoff = (nowc >> shift) << shift;
	m->ngone = 0;
	m->cb_check_all = pct(r, 30);
	for (unsigned k = 0; k < m->nkeys; k++) {
		const struct ref_flow *f = &m->flows[k];

		m->gone[k] = 0;
		m->expect_gone[k] = f->live && f->last_seen + timeout_of(m, f) < m->cutoff;
		nexp += m->expect_gone[k];
	}
	ret = pfse_flow_table_expire(m->t, now, budget, use_cb ? expire_cb : NULL, m);
	if (!use_cb) {
		EXPECT_EQ(m, "expire() return (no callback)", (int64_t)ret, nexp);
		for (unsigned k = 0; k < m->nkeys; k++)
			m->gone[k] = m->expect_gone[k];
		m->ngone = nexp;
	}
	EXPECT_EQ(m, "expire() return vs callbacks", (int64_t)ret, m->ngone);
	/* Within the budget, every flow idle past its timeout goes (the callback checked
	 * that no other flow did). */
	EXPECT(m, m->ngone == min_u64(budget, nexp),
	       "expire() removed %u flows; %u are idle past their timeout, budget %u", m->ngone,
	       nexp, budget);
	for (unsigned k = 0; k < m->nkeys; k++) {
		if (!m->gone[k])
			continue;
		m->flows[k].live = 0;
		m->nlive--;
		m->es.expired++;
		note_stale(m, m->flows[k].handle);
	}
	for (unsigned k = 0; k < m->nkeys; k++)
		if (m->gone[k])
			expect_gone_handle(m, m->flows[k].handle);
	if (pct(r, 90) && m->clock < nowc)
		m->clock = nowc;
}

static void
op_set(struct model *m)
{
	struct rng *r = &m->r;
	int i = pick_live(m), ret;
	struct ref_flow *f;

	if (i < 0)
		return;
	f = &m->flows[i];
	m->ctx = i;
	switch (below(r, 4)) {
	case 0: {
		uint64_t c = rnd(r);

		ret = pfse_flow_table_set_cookie(m->t, f->handle, c);
		EXPECT(m, ret == 0, "set_cookie(): %d", ret);
		f->cookie = c;
		break;
	}
	case 1: {
		uint32_t c = pct(r, 90) ? (uint32_t)below(r, 65536) :
			     65536u + (uint32_t)below(r, UINT32_MAX - 65535u);

		ret = pfse_flow_table_set_class(m->t, f->handle, c);
		if (c <= 65535) {
			EXPECT(m, ret == 0, "set_class(%" PRIu32 "): %d", c, ret);
			f->class_id = c;
		} else {
			EXPECT(m, ret == -EINVAL, "set_class(%" PRIu32 "): %d", c, ret);
		}
		break;
	}
	case 2: {
		struct pfse_directive d;

		memset(&d, 0, sizeof(d));
		d.tier = pct(r, 15) ? PFSE_TIER_NONE : (uint8_t)below(r, 8);
		d.reason = (uint8_t)rnd(r);
		d.node = pct(r, 30) ? PFSE_NODE_ANY : (uint16_t)rnd(r);
		switch (below(r, 10)) {
		case 0: case 1: case 2: case 3: case 4:
			d.since = m->clock + below(r, 3 * m->interval); /* now: after last_seen */
			break;
		case 5: case 6:
			d.since = f->last_seen - min_u64(f->last_seen, below(r, 100 * m->interval));
			break;
		case 7:
			d.since = 0;
			break;
		default:
			d.since = rnd(r);
			break;
		}
		if (pct(r, 8))
			d.reserved = 1u + (uint32_t)below(r, UINT32_MAX);
		ret = pfse_flow_table_set_directive(m->t, f->handle, &d);
		if (d.reserved) {
			EXPECT(m, ret == -EINVAL, "set_directive(reserved %" PRIu32 "): %d",
			       d.reserved, ret);
			break;
		}
		EXPECT(m, ret == 0, "set_directive(): %d", ret);
		f->dir = d;
		/* Kept at interval resolution, clamped to [first interval, first + 2^32 - 1]. */
		{
			uint64_t first = f->first_seen / m->interval, iv = d.since / m->interval;

			if (iv < first)
				iv = first;
			if (iv - first > 0xffffffffull)
				iv = first + 0xffffffffull;
			f->dir.since = d.tier == PFSE_TIER_NONE && d.reason == 0 ? 0
								       : iv * m->interval;
		}
		break;
	}
	default: {
		uint8_t *s = pfse_flow_table_slot(m->t, f->handle);
		unsigned off = (unsigned)below(r, m->slot_size);
		unsigned len = 1 + (unsigned)below(r, m->slot_size - off);

		EXPECT(m, s != NULL, "slot() of a live flow is NULL");
		if (pct(r, 30)) {
			off = 0;
			len = m->slot_size;
		}
		for (unsigned j = off; j < off + len; j++)
			s[j] = f->slot[j] = (uint8_t)rnd(r);
		break;
	}
	}
	m->ctx = -1;
	check_flow(m, (unsigned)i);
}

static void
op_lookup(struct model *m)
{
	struct pfse_flow_key keys[PFSE_BURST_MAX];
	uint32_t flows[PFSE_BURST_MAX], want_h[PFSE_BURST_MAX];
	unsigned n = (unsigned)below(&m->r, PFSE_BURST_MAX + 1), hits = 0;
	uint64_t mask = 0x1234, want = 0;
	int r;

	for (unsigned i = 0; i < n; i++) {
		if (pct(&m->r, 10)) {
			gen_key(m, &keys[i]);
			keys[i].zone ^= 0x5a5a; /* almost surely outside the pool */
			want_h[i] = PFSE_FLOW_NONE;
			for (unsigned k = 0; k < m->nkeys; k++)
				if (memcmp(&keys[i], &m->keys[k], sizeof(keys[i])) == 0 &&
				    m->flows[k].live)
					want_h[i] = m->flows[k].handle;
		} else {
			unsigned k = (unsigned)pick_key(m);

			keys[i] = m->keys[k];
			want_h[i] = m->flows[k].live ? m->flows[k].handle : PFSE_FLOW_NONE;
		}
		if (want_h[i] != PFSE_FLOW_NONE) {
			want |= 1ull << i;
			hits++;
		}
	}
	memset(flows, 0x77, sizeof(flows));
	r = pfse_flow_table_lookup_burst(m->t, keys, n, flows,
					 pct(&m->r, 10) ? NULL : &mask);
	EXPECT_EQ(m, "lookup_burst() return", (int64_t)r, hits);
	if (mask != 0x1234 || n > 0)
		EXPECT_EQ(m, "lookup_burst() hit mask", mask == 0x1234 ? want : mask, want);
	for (unsigned i = 0; i < n; i++)
		EXPECT_EQ(m, "lookup_burst() handle", flows[i], want_h[i]);
}

/* Iterates, deleting some of the flows just returned (allowed): every flow live at the
 * start must be visited exactly once. */
static void
op_iterate_delete(struct model *m)
{
	unsigned char seen[POOL_MAX];
	uint32_t iter = 0, flow;
	unsigned visited = 0, start_live = m->nlive;
	int r;

	memset(seen, 0, sizeof(seen));
	while ((r = pfse_flow_table_next(m->t, &iter, &flow)) == 0) {
		int ki = -1;

		for (unsigned i = 0; i < m->nkeys && ki < 0; i++)
			if (m->flows[i].live && m->flows[i].handle == flow)
				ki = (int)i;
		EXPECT(m, ki >= 0, "next() returned handle %" PRIu32 " of no live flow", flow);
		EXPECT(m, !seen[ki], "next() returned handle %" PRIu32 " twice", flow);
		EXPECT(m, visited < start_live, "next() visits more flows than live");
		seen[ki] = 1;
		visited++;
		if (pct(&m->r, 25)) {
			r = pfse_flow_table_delete(m->t, flow);
			EXPECT(m, r == 0, "delete() during iteration: %d", r);
			m->flows[ki].live = 0;
			m->nlive--;
			m->es.deleted++;
			note_stale(m, flow);
		}
	}
	EXPECT_EQ(m, "next() at the end", (int64_t)r, (int64_t)-ENOENT);
	EXPECT_EQ(m, "flows visited while deleting", visited, start_live);
}

static void
op_time(struct model *m)
{
	struct rng *r = &m->r;
	unsigned x = (unsigned)below(r, 100);

	if (x < 70)
		m->clock += below(r, 2 * m->interval + 1);
	else if (x < 82)
		m->clock += below(r, m->max_timeout / 2 + 1);
	else if (x < 88)
		m->clock += 60 * SEC + below(r, 540 * SEC); /* minutes */
	else
		m->clock -= min_u64(m->clock, below(r, 30 * SEC)); /* backwards */
}

static void
run_one(uint64_t seed, unsigned run, unsigned ops)
{
	struct model *m = calloc(1, sizeof(*m));
	struct pfse_flow_table_stats st;
	size_t memsize = 0;
	unsigned long allocs;
	int r, full = env_u64("PFSE_TEST_FULL", 0) != 0;

	ck_assert_ptr_nonnull(m);
	m->seed = seed;
	m->run = run;
	m->ctx = -1;
	m->what = "create";
	m->r.s = seed ^ (0x9e3779b97f4a7c15ull * (run + 1));
	rnd(&m->r);
	gen_pool(m, 200 + (unsigned)below(&m->r, POOL_MAX - 199));
	gen_params(m);
	m->p.allocator = count_allocator(&m->alloc);
	EXPECT(m, pfse_flow_table_memsize(&m->p, &memsize) == 0, "memsize() failed");
	r = pfse_flow_table_create(&m->p, &m->t);
	EXPECT(m, r == 0, "create(): %d", r);
	EXPECT(m, m->alloc.bytes == memsize, "memsize() says %zu, create allocated %zu", memsize,
	       m->alloc.bytes);
	allocs = m->alloc.allocs;
	switch (below(&m->r, 5)) {
	case 0:
		m->clock = 0;
		break;
	case 1:
		m->clock = below(&m->r, 10 * SEC);
		break;
	case 2:
		m->clock = (1ull << 63) - 100 * SEC + below(&m->r, 200 * SEC); /* sign bit */
		break;
	default:
		m->clock = 1700000000ull * SEC + below(&m->r, 100000ull * SEC);
		break;
	}
	check_all(m);
	for (m->op = 0; m->op < ops; m->op++) {
		unsigned x = (unsigned)below(&m->r, 1000);

		if (x < 400) {
			m->what = "update";
			op_update(m, -1, pct(&m->r, 1) ? 0 : 1 + (unsigned)below(&m->r, 64));
		} else if (x < 415) {
			/* One hot flow hammered within an interval: thousands of packets. */
			unsigned k = (unsigned)pick_key(m);
			unsigned bursts = 1 + (unsigned)below(&m->r, pct(&m->r, 20) ? 300 : 60);

			m->what = "hammer";
			for (unsigned b = 0; b < bursts; b++)
				op_update(m, (int)k, PFSE_BURST_MAX);
		} else if (x < 485) {
			m->what = "lookup";
			op_lookup(m);
		} else if (x < 535) {
			m->what = "delete";
			op_delete(m);
		} else if (x < 555) {
			m->what = "dead-handles";
			op_dead_handles(m);
		} else if (x < 630) {
			m->what = "expire";
			op_expire(m);
		} else if (x < 760) {
			m->what = "set";
			op_set(m);
		} else if (x < 770) {
			m->what = "iterate-delete";
			op_iterate_delete(m);
		} else {
			m->what = "time";
			op_time(m);
		}
		/* Everything after every operation early on, after every 4th later (the
		 * flows an operation touches are always compared at once). */
		if (full || m->op < 256 || m->op % 4 == 3 || m->op + 1 == ops)
			check_all(m);
	}
	m->what = "destroy";
	pfse_flow_table_stats_init(&st);
	ck_assert_int_eq(pfse_flow_table_stats(m->t, &st), 0);
	EXPECT(m, m->alloc.allocs == allocs, "the table allocated after create");
	pfse_flow_table_destroy(m->t);
	EXPECT(m, m->alloc.frees == m->alloc.allocs, "destroy freed %lu of %lu allocations",
	       m->alloc.frees, m->alloc.allocs);
	printf("# run %u: %u ops, %u keys, cap %" PRIu32 " interval %" PRIu64 " W %u slot %u: %"
	       PRIu64 " pkts, %" PRIu64 " created, %" PRIu64 " expired, %" PRIu64 " deleted, %"
	       PRIu64 " samples, %" PRIu64 " clamped\n", run, ops, m->nkeys, m->p.capacity,
	       m->interval, m->w, m->slot_size, st.packets, st.created, st.expired, st.deleted,
	       st.samples, st.clamped);
	printf("#   covered: %" PRIu64 " full series, %" PRIu64 " samples >= 2048 packets, %"
	       PRIu64 " saturated byte samples, %" PRIu64 " closings, %" PRIu64
	       " expiry callbacks\n", m->cov_full_series, m->cov_big_pkts, m->cov_sat_bytes,
	       m->cov_closing, m->cov_cb);
	free(m);
}

START_TEST(random_ops)
{
	uint64_t seed = env_u64("PFSE_TEST_SEED", DEFAULT_SEED);
	uint64_t ops = env_u64("PFSE_TEST_OPS", DEFAULT_OPS);
	uint64_t only = env_u64("PFSE_TEST_RUN", UINT64_MAX);
	unsigned runs = (unsigned)((ops + OPS_PER_RUN - 1) / OPS_PER_RUN);

	printf("# flow-table-diff: seed 0x%" PRIx64 ", %" PRIu64 " operations in %u runs\n",
	       seed, ops, runs);
	fflush(stdout);
	for (unsigned run = 0; run < runs; run++) {
		uint64_t n = ops - (uint64_t)run * OPS_PER_RUN;

		if (only != UINT64_MAX && run != only)
			continue;
		run_one(seed, run, (unsigned)min_u64(n, OPS_PER_RUN));
	}
}
END_TEST

/* ---- the packet-count encoding -------------------------------------------------------- */

START_TEST(pkts_encoding)
{
	struct rng r = { 42 };

	for (uint64_t v = 0; v < (1u << 20); v++)
		ck_assert_msg(pfse_ft_pkts_decode(pfse_ft_pkts_encode(v)) == ref_pkts_sample(v),
			      "v %" PRIu64 ": %" PRIu64 ", rule %" PRIu64, v,
			      pfse_ft_pkts_decode(pfse_ft_pkts_encode(v)), ref_pkts_sample(v));
	for (unsigned b = 11; b < 64; b++) {
		for (unsigned j = 0; j < 2000; j++) {
			uint64_t v = (1ull << b) + (rnd(&r) & ((1ull << b) - 1)), got;

			if (j < 3)
				v = (1ull << b) - 1 + j;
			got = pfse_ft_pkts_decode(pfse_ft_pkts_encode(v));
			ck_assert_msg(got == ref_pkts_sample(v), "v %" PRIu64 ": %" PRIu64
				      ", rule %" PRIu64, v, got, ref_pkts_sample(v));
		}
	}
	ck_assert_uint_eq(pfse_ft_pkts_decode(pfse_ft_pkts_encode(UINT64_MAX)),
			  ref_pkts_sample(UINT64_MAX));
}
END_TEST

/* ---- adversarial keys: one hash for every key ----------------------------------------- */

struct evict_log {
	struct pfse_flow_table *t;
	unsigned calls;
	uint32_t flow;
	uint32_t cause;
	int info_rc;
	struct pfse_flow_info info;
};

static void
evict_cb(struct pfse_flow_table *t, uint32_t flow, uint32_t cause, void *user)
{
	struct evict_log *l = user;

	ck_assert_ptr_eq(t, l->t);
	l->calls++;
	l->flow = flow;
	l->cause = cause;
	pfse_flow_info_init(&l->info);
	l->info_rc = pfse_flow_table_info(t, flow, &l->info);
}

/* One packet through update_burst(). */
static int
update1(struct pfse_flow_table *t, const struct pfse_flow_key *k, uint64_t ts, int reverse,
	uint32_t *flow, struct pfse_flow_masks *mk)
{
	struct pfse_pkt pkt, *pp = &pkt;

	memset(&pkt, 0, sizeof(pkt));
	pkt.key = *k;
	pkt.ts = ts;
	pkt.caplen = 100;
	pkt.flags = reverse ? PFSE_PKT_F_REVERSE : 0;
	pkt.tcp_flags = k->proto == 6 ? 0x10 : 0;
	return pfse_flow_table_update_burst(t, &pp, 1, flow, mk);
}

static void
adv_key(struct rng *r, struct pfse_flow_key *k, unsigned i)
{
	uint8_t a[16], b[16];

	for (unsigned j = 0; j < 16; j++) {
		a[j] = (uint8_t)rnd(r);
		b[j] = (uint8_t)rnd(r);
	}
	ck_assert_int_eq(pfse_flow_key_set(k, i % 2 ? PFSE_FAMILY_IPV6 : PFSE_FAMILY_IPV4, a, b,
					   (uint16_t)i, 443, i % 3 ? 6 : 17, 0), 0);
}

/* Every flow of `keys[0..n)` is found with `handles[i]` (or absent when NONE) and has
 * `pkts[i]` packets. */
static void
adv_check(struct pfse_flow_table *t, const struct pfse_flow_key *keys, unsigned n,
	  const uint32_t *handles, const uint64_t *pkts)
{
	for (unsigned i = 0; i < n; i++) {
		struct pfse_flow_info in;
		uint32_t h;
		uint64_t hit;

		ck_assert_int_eq(pfse_flow_table_lookup_burst(t, &keys[i], 1, &h, &hit),
				 handles[i] != PFSE_FLOW_NONE);
		ck_assert_msg(h == handles[i], "key %u: handle %" PRIu32 ", want %" PRIu32, i, h,
			      handles[i]);
		if (h == PFSE_FLOW_NONE)
			continue;
		pfse_flow_info_init(&in);
		ck_assert_int_eq(pfse_flow_table_info(t, h, &in), 0);
		ck_assert(memcmp(&in.key, &keys[i], sizeof(in.key)) == 0);
		ck_assert_uint_eq(in.packets[0] + in.packets[1], pkts[i]);
	}
}

static const uint64_t adv_hashes[] = { 0, 1, 0xffffffffffffffffull, 0x8000000000000000ull,
				       0x0123456789abcdefull, 0xdeadbeefcafef00dull };

START_TEST(adversarial_refuse)
{
	struct pfse_flow_table_params p;
	struct pfse_flow_table *t;
	struct pfse_flow_table_stats st;
	struct pfse_flow_key keys[20];
	struct pfse_flow_masks mk;
	uint32_t h[20];
	uint64_t pk[20] = { 0 };
	struct rng r = { 7 + (uint64_t)_i };
	uint64_t t0 = 1000 * SEC;

	pfse_flow_table_params_init(&p);
	p.capacity = 1024;
	p.flags = PFSE_FT_F_FIXED_SEED;
	p.eviction = PFSE_FT_EVICT_REFUSE;
	p.new_flow_rate = UINT32_MAX;
	ck_assert_int_eq(pfse_flow_table_create(&p, &t), 0);
	pfse_ft_test_force_hash(t, 1, adv_hashes[_i]);
	for (unsigned i = 0; i < 20; i++) {
		adv_key(&r, &keys[i], i);
		h[i] = PFSE_FLOW_NONE;
	}
	for (unsigned i = 0; i < 16; i++) {
		ck_assert_int_eq(update1(t, &keys[i], t0 + i * SEC, 0, &h[i], &mk), 1);
		ck_assert_uint_eq(mk.created, 1);
		ck_assert_uint_eq(mk.evicted, 0);
		pk[i] = 1;
		adv_check(t, keys, 20, h, pk);
	}
	/* Packets of the 16 keep working; each new key is refused. */
	for (unsigned i = 16; i < 20; i++) {
		uint32_t f;

		ck_assert_int_eq(update1(t, &keys[i % 16], t0 + 30 * SEC, 1, &f, &mk), 1);
		ck_assert_uint_eq(f, h[i % 16]);
		pk[i % 16]++;
		ck_assert_int_eq(update1(t, &keys[i], t0 + 31 * SEC, 0, &f, &mk), 0);
		ck_assert_uint_eq(f, PFSE_FLOW_NONE);
		ck_assert_uint_eq(mk.tracked | mk.created | mk.evicted | mk.samples, 0);
		pfse_flow_table_stats_init(&st);
		ck_assert_int_eq(pfse_flow_table_stats(t, &st), 0);
		ck_assert_uint_eq(st.refused_full, i - 15);
		ck_assert_uint_eq(st.untracked, i - 15);
		ck_assert_uint_eq(st.flows, 16);
		ck_assert_uint_eq(st.evicted, 0);
		adv_check(t, keys, 20, h, pk);
	}
	/* A deleted flow frees its slot for the next new key, without eviction. */
	ck_assert_int_eq(pfse_flow_table_delete(t, h[5]), 0);
	h[5] = PFSE_FLOW_NONE;
	ck_assert_int_eq(update1(t, &keys[17], t0 + 40 * SEC, 0, &h[17], &mk), 1);
	ck_assert_uint_eq(mk.created, 1);
	ck_assert_uint_eq(mk.evicted, 0);
	pk[17] = 1;
	adv_check(t, keys, 20, h, pk);
	pfse_flow_table_destroy(t);
}
END_TEST

START_TEST(adversarial_lru)
{
	struct pfse_flow_table_params p;
	struct pfse_flow_table *t;
	struct pfse_flow_table_stats st;
	struct pfse_flow_key keys[24];
	struct pfse_flow_masks mk;
	struct evict_log log;
	uint32_t h[24];
	uint64_t pk[24] = { 0 }, seen[24] = { 0 };
	struct rng r = { 99 + (uint64_t)_i };
	uint64_t t0 = 5000 * SEC, now;

	memset(&log, 0, sizeof(log));
	pfse_flow_table_params_init(&p);
	p.capacity = 1024;
	p.flags = PFSE_FT_F_FIXED_SEED;
	p.new_flow_rate = UINT32_MAX;
	p.on_evict = evict_cb;
	p.on_evict_user = &log;
	ck_assert_int_eq(pfse_flow_table_create(&p, &t), 0);
	log.t = t;
	pfse_ft_test_force_hash(t, 1, adv_hashes[_i]);
	for (unsigned i = 0; i < 24; i++) {
		adv_key(&r, &keys[i], i);
		h[i] = PFSE_FLOW_NONE;
	}
	/* 16 flows, seen 2 s apart, in a scrambled order. */
	for (unsigned i = 0; i < 16; i++) {
		unsigned k = (i * 7) % 16;

		seen[k] = t0 + i * 2 * SEC;
		ck_assert_int_eq(update1(t, &keys[k], seen[k], 0, &h[k], &mk), 1);
		ck_assert_uint_eq(mk.created, 1);
		pk[k] = 1;
	}
	adv_check(t, keys, 24, h, pk);
	ck_assert_uint_eq(log.calls, 0);
	/* Refresh the oldest one: the least recently seen is now the second oldest. */
	now = t0 + 40 * SEC;
	ck_assert_int_eq(update1(t, &keys[0], now, 1, &h[0], &mk), 1);
	seen[0] = now;
	pk[0]++;
	/* Each new key evicts exactly the least recently seen flow. */
	for (unsigned i = 16; i < 24; i++) {
		unsigned victim = 24;
		uint32_t vh;

		for (unsigned k = 0; k < 24; k++)
			if (h[k] != PFSE_FLOW_NONE && (victim == 24 || seen[k] < seen[victim]))
				victim = k;
		vh = h[victim];
		now += 3 * SEC;
		log.calls = 0;
		ck_assert_int_eq(update1(t, &keys[i], now, 0, &h[i], &mk), 1);
		ck_assert_uint_eq(mk.tracked, 1);
		ck_assert_uint_eq(mk.created, 1);
		ck_assert_uint_eq(mk.evicted, 1);
		ck_assert_uint_eq(log.calls, 1);
		ck_assert_uint_eq(log.cause, PFSE_FT_REMOVED_EVICTED);
		ck_assert_uint_eq(log.flow, vh);
		ck_assert_int_eq(log.info_rc, 0);
		ck_assert_msg(memcmp(&log.info.key, &keys[victim], sizeof(keys[0])) == 0,
			      "new key %u evicted the wrong flow (want key %u)", i, victim);
		ck_assert_uint_eq(log.info.last_seen, seen[victim]);
		h[victim] = PFSE_FLOW_NONE;
		pk[victim] = 0;
		seen[i] = now;
		pk[i] = 1;
		adv_check(t, keys, 24, h, pk);
		pfse_flow_table_stats_init(&st);
		ck_assert_int_eq(pfse_flow_table_stats(t, &st), 0);
		ck_assert_uint_eq(st.evicted, i - 15);
		ck_assert_uint_eq(st.flows, 16);
		ck_assert_uint_eq(st.refused_full, 0);
	}
	pfse_flow_table_destroy(t);
}
END_TEST

/* Flood mode: a packet that arrived in flood mode (stats.flood_packets) never evicts a
 * bidirectional flow, and is refused (refused_flood) only when every candidate is one. */
START_TEST(adversarial_flood)
{
	struct pfse_flow_table_params p;
	struct pfse_flow_table *t;
	struct pfse_flow_table_stats before, after;
	struct pfse_flow_key keys[200];
	struct pfse_flow_masks mk;
	struct evict_log log;
	uint32_t h[200];
	unsigned char bidir[200];
	struct rng r = { 12345 };
	uint64_t t0 = 100 * SEC;

	memset(&log, 0, sizeof(log));
	memset(bidir, 0, sizeof(bidir));
	pfse_flow_table_params_init(&p);
	p.capacity = 1024;
	p.flags = PFSE_FT_F_FIXED_SEED;
	p.new_flow_rate = 1;
	p.on_evict = evict_cb;
	p.on_evict_user = &log;
	ck_assert_int_eq(pfse_flow_table_create(&p, &t), 0);
	log.t = t;
	pfse_ft_test_force_hash(t, 1, 0x55aa55aa55aa55aaull);
	for (unsigned i = 0; i < 200; i++) {
		adv_key(&r, &keys[i], i);
		h[i] = PFSE_FLOW_NONE;
	}
	/* 16 bidirectional flows, created slowly (one per 10 s). */
	for (unsigned i = 0; i < 16; i++) {
		ck_assert_int_eq(update1(t, &keys[i], t0 + i * 10 * SEC, 0, &h[i], &mk), 1);
		ck_assert_int_eq(update1(t, &keys[i], t0 + i * 10 * SEC + 1, 1, &h[i], &mk), 1);
		bidir[i] = 1;
	}
	/* Then a burst of new keys within one second. */
	for (unsigned i = 16; i < 200; i++) {
		uint64_t now = t0 + 200 * SEC + i * MS;
		uint32_t f;
		int in_flood, ret;

		pfse_flow_table_stats_init(&before);
		ck_assert_int_eq(pfse_flow_table_stats(t, &before), 0);
		log.calls = 0;
		ret = update1(t, &keys[i], now, 0, &f, &mk);
		pfse_flow_table_stats_init(&after);
		ck_assert_int_eq(pfse_flow_table_stats(t, &after), 0);
		in_flood = after.flood_packets > before.flood_packets;
		if (log.calls) {
			unsigned v = 200;

			ck_assert_uint_eq(log.calls, 1);
			for (unsigned k = 0; k < i; k++)
				if (h[k] == log.flow)
					v = k;
			ck_assert_uint_lt(v, 200);
			ck_assert_msg(!(in_flood && bidir[v]),
				      "flood-mode packet %u evicted bidirectional flow %u", i, v);
			ck_assert_uint_eq(log.info.bidirectional, bidir[v]);
			h[v] = PFSE_FLOW_NONE;
		}
		if (ret == 0) {
			unsigned uni = 0;

			ck_assert_uint_eq(after.refused_flood, before.refused_flood + 1);
			ck_assert_msg(in_flood, "packet %u refused outside flood mode", i);
			for (unsigned k = 0; k < i; k++)
				uni += h[k] != PFSE_FLOW_NONE && !bidir[k];
			ck_assert_msg(uni == 0, "packet %u refused while %u flows are one-way", i,
				      uni);
		} else {
			/* Answered at once: every flow in the bucket pair is two-way again. */
			h[i] = f;
			ck_assert_int_eq(update1(t, &keys[i], now + 1, 1, &f, &mk), 1);
			ck_assert_uint_eq(f, h[i]);
			bidir[i] = 1;
		}
	}
	pfse_flow_table_stats_init(&after);
	ck_assert_int_eq(pfse_flow_table_stats(t, &after), 0);
	ck_assert_uint_gt(after.flood_packets, 0);
	ck_assert_uint_gt(after.refused_flood, 0);
	ck_assert_uint_eq(after.flows, 16);
	pfse_flow_table_destroy(t);
}
END_TEST

/* ---- extreme timestamps --------------------------------------------------------------- */

/* Timestamps near 2^64 (a bogus capture timestamp, or a clock with another origin): the
 * rules hold with exact arithmetic, so a flow seen at t is not idle past a 30 s timeout
 * at t + 2 s even when t + 30 s does not fit in 64 bits. */
START_TEST(extreme_times)
{
	struct pfse_flow_table_params p;
	struct pfse_flow_table *t;
	struct pfse_flow_key ku, kt;
	struct pfse_flow_info in;
	struct pfse_flow_masks mk;
	uint32_t hu, ht;
	struct rng r = { 3 };
	uint64_t t0 = UINT64_MAX - 10 * SEC;
	int n;

	pfse_flow_table_params_init(&p);
	p.capacity = 1024;
	ck_assert_int_eq(pfse_flow_table_create(&p, &t), 0);
	adv_key(&r, &ku, 0);
	ku.proto = 17;
	adv_key(&r, &kt, 1);
	kt.proto = 6;
	ck_assert_int_eq(update1(t, &ku, t0, 0, &hu, &mk), 1);
	ck_assert_int_eq(update1(t, &kt, t0 + SEC, 1, &ht, &mk), 1);
	ck_assert_int_eq(update1(t, &ku, UINT64_MAX, 1, &hu, &mk), 1);
	ck_assert_uint_eq(mk.samples, 1);
	pfse_flow_info_init(&in);
	ck_assert_int_eq(pfse_flow_table_info(t, hu, &in), 0);
	ck_assert_uint_eq(in.first_seen, t0);
	ck_assert_uint_eq(in.last_seen, UINT64_MAX);
	ck_assert_uint_eq(in.interval, UINT64_MAX / (100 * MS));
	ck_assert_uint_eq(in.series_count, 8);
	/* Nothing is idle past its timeout, at any `now` a 64-bit clock can reach. */
	n = pfse_flow_table_expire(t, UINT64_MAX - 3 * SEC, BIG_BUDGET, NULL, NULL);
	ck_assert_msg(n == 0, "expire() removed %d flows last seen 9 s and 0 s ago", n);
	n = pfse_flow_table_expire(t, UINT64_MAX, BIG_BUDGET, NULL, NULL);
	ck_assert_msg(n == 0, "expire() removed %d flows last seen 9 s and 0 s ago", n);
	ck_assert_int_eq(pfse_flow_table_info(t, ht, &in), 0);
	ck_assert_int_eq(pfse_flow_table_info(t, hu, &in), 0);
	pfse_flow_table_destroy(t);
}
END_TEST

/* ---- replay of real captures ---------------------------------------------------------- */

struct count_entry {
	struct pfse_flow_key key;
	uint64_t pkts[2], bytes[2];
	uint64_t first, last;
	uint8_t flags;
	uint8_t closing;
	uint8_t used;
};

#define COUNT_SIZE (1u << 17)

struct replay_totals {
	unsigned files, skipped;
	uint64_t frames, parsed, flows, expired;
};

static uint64_t
fnv_key(const struct pfse_flow_key *k)
{
	const uint8_t *b = (const uint8_t *)k;
	uint64_t h = 0xcbf29ce484222325ull;

	for (unsigned i = 0; i < sizeof(*k); i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static struct count_entry *
count_find(struct count_entry *tab, const struct pfse_flow_key *k, int add)
{
	uint64_t i = fnv_key(k) & (COUNT_SIZE - 1);

	while (tab[i].used) {
		if (memcmp(&tab[i].key, k, sizeof(*k)) == 0)
			return &tab[i];
		i = (i + 1) & (COUNT_SIZE - 1);
	}
	if (!add)
		return NULL;
	tab[i].used = 1;
	tab[i].key = *k;
	return &tab[i];
}

static void
replay_remove_cb(struct pfse_flow_table *t, uint32_t flow, uint32_t cause, void *user)
{
	struct count_entry *tab = user;
	struct pfse_flow_info in;
	struct count_entry *e;

	ck_assert_uint_eq(cause, PFSE_FT_REMOVED_EXPIRED);
	pfse_flow_info_init(&in);
	ck_assert_int_eq(pfse_flow_table_info(t, flow, &in), 0);
	e = count_find(tab, &in.key, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->used, 1);
	e->used = 2; /* expired */
}

static void
replay_flush(struct pfse_flow_table *t, struct pfse_pkt *pkts, unsigned n, const char *path)
{
	struct pfse_pkt *pp[PFSE_BURST_MAX];
	uint32_t flows[PFSE_BURST_MAX];
	struct pfse_flow_masks mk;
	unsigned ok = 0;
	int r;

	for (unsigned i = 0; i < n; i++) {
		pp[i] = &pkts[i];
		ok += pkts[i].status == PFSE_PARSE_OK;
	}
	r = pfse_flow_table_update_burst(t, pp, n, flows, &mk);
	ck_assert_msg(r == (int)ok, "%s: update_burst() tracked %d of %u", path, r, ok);
	ck_assert_msg(mk.evicted == 0, "%s: eviction in a large table", path);
}

/* Replays one capture; returns 0, or 1 when skipped (unreadable or unsupported). */
static int
replay_file(const char *path, struct count_entry *tab, struct replay_totals *tot)
{
	static const uint64_t to[4] = { 3 * 3600 * SEC, 3600 * SEC, 2 * 3600 * SEC,
					5400 * SEC };
	char errbuf[PCAP_ERRBUF_SIZE], ks[PFSE_FLOW_KEY_STRLEN];
	struct pfse_parser_params pp;
	struct pfse_parser *ps = NULL;
	struct pfse_flow_table_params p;
	struct pfse_flow_table *t = NULL;
	struct pfse_flow_table_stats st;
	struct pfse_pkt pkts[32];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t latest = 0, clamped = 0, frames = 0, parsed = 0, nflows = 0, nexp = 0;
	uint64_t cutoff;
	unsigned n = 0, visited = 0;
	uint32_t iter = 0, flow;
	pcap_t *pc;
	int r;

	pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc) {
		printf("# replay: skip %s (libpcap: %s)\n", path, errbuf);
		return 1;
	}
	pfse_parser_params_init(&pp);
	pp.linktype = (uint32_t)pcap_datalink(pc);
	pp.flags = PFSE_PARSE_F_BIDIR;
	r = pfse_parser_create(&pp, &ps);
	if (r == -ENOTSUP) {
		printf("# replay: skip %s (link type %u)\n", path, pp.linktype);
		pcap_close(pc);
		return 1;
	}
	ck_assert_int_eq(r, 0);
	pfse_flow_table_params_init(&p);
	p.capacity = 1u << 16;
	p.series_len = 64;
	p.timeout_tcp_ns = to[0];
	p.timeout_tcp_closing_ns = to[1];
	p.timeout_udp_ns = to[2];
	p.timeout_other_ns = to[3];
	ck_assert_int_eq(pfse_flow_table_create(&p, &t), 0);
	memset(tab, 0, COUNT_SIZE * sizeof(*tab));

	while ((r = pcap_next_ex(pc, &hdr, &data)) == 1) {
		struct pfse_pkt *pkt = &pkts[n++];
		struct count_entry *e;
		uint64_t ts;
		unsigned dir;

		memset(pkt, 0, sizeof(*pkt));
		pkt->data = data;
		pkt->caplen = hdr->caplen;
		pkt->wirelen = hdr->len;
		/* Opened with nanosecond precision: tv_usec holds nanoseconds. */
		pkt->ts = (uint64_t)hdr->ts.tv_sec * SEC + (uint64_t)hdr->ts.tv_usec;
		pfse_parse(ps, pkt, NULL);
		pkt->data = NULL; /* libpcap reuses its buffer; the table must not read it */
		frames++;
		if (pkt->status == PFSE_PARSE_OK) {
			/* The independent count. */
			parsed++;
			ts = pkt->ts;
			if (ts < latest) {
				ts = latest;
				clamped++;
			}
			latest = ts;
			e = count_find(tab, &pkt->key, 1);
			if (e->pkts[0] + e->pkts[1] == 0) {
				e->first = ts;
				nflows++;
				ck_assert_uint_lt(nflows, COUNT_SIZE / 2);
			}
			dir = (pkt->flags & PFSE_PKT_F_REVERSE) ? 1 : 0;
			e->pkts[dir]++;
			e->bytes[dir] += pkt->wirelen ? pkt->wirelen : pkt->caplen;
			e->last = ts;
			if (pkt->key.proto == 6) {
				e->flags |= pkt->tcp_flags;
				e->closing |= (pkt->tcp_flags & 0x05) != 0;
			}
		}
		if (n == 32) {
			replay_flush(t, pkts, n, path);
			n = 0;
		}
	}
	if (n)
		replay_flush(t, pkts, n, path);

	/* Compare every flow. */
	pfse_flow_table_stats_init(&st);
	ck_assert_int_eq(pfse_flow_table_stats(t, &st), 0);
	ck_assert_msg(st.flows == nflows, "%s: table has %" PRIu64 " flows, count %" PRIu64,
		      path, st.flows, nflows);
	ck_assert_uint_eq(st.packets, frames);
	ck_assert_uint_eq(st.unparsed, frames - parsed);
	ck_assert_uint_eq(st.clamped, clamped);
	ck_assert_uint_eq(st.evicted, 0);
	for (uint64_t i = 0; i < COUNT_SIZE; i++) {
		struct count_entry *e = &tab[i];
		struct pfse_flow_info in;
		uint64_t sb[RING], sp[RING], sum_b = 0, sum_p = 0, first_k;
		uint32_t h;
		int ns;
		uint8_t kind;

		if (!e->used)
			continue;
		key_str(&e->key, ks);
		ck_assert_msg(pfse_flow_table_lookup_burst(t, &e->key, 1, &h, NULL) == 1,
			      "%s: flow %s not in the table", path, ks);
		pfse_flow_info_init(&in);
		ck_assert_int_eq(pfse_flow_table_info(t, h, &in), 0);
		ck_assert_msg(in.packets[0] == e->pkts[0] && in.packets[1] == e->pkts[1] &&
			      in.bytes[0] == e->bytes[0] && in.bytes[1] == e->bytes[1],
			      "%s: %s: table %" PRIu64 "/%" PRIu64 " pkts %" PRIu64 "/%" PRIu64
			      " bytes, count %" PRIu64 "/%" PRIu64 " pkts %" PRIu64 "/%" PRIu64
			      " bytes", path, ks, in.packets[0], in.packets[1], in.bytes[0],
			      in.bytes[1], e->pkts[0], e->pkts[1], e->bytes[0], e->bytes[1]);
		ck_assert_msg(in.first_seen == e->first && in.last_seen == e->last,
			      "%s: %s: seen %" PRIu64 "..%" PRIu64 ", count %" PRIu64 "..%" PRIu64,
			      path, ks, in.first_seen, in.last_seen, e->first, e->last);
		ck_assert_msg(in.tcp_flags == e->flags, "%s: %s: tcp flags 0x%02x, count 0x%02x",
			      path, ks, in.tcp_flags, e->flags);
		kind = e->key.proto == 6 ? (e->closing ? PFSE_FT_TIMEOUT_TCP_CLOSING :
					    PFSE_FT_TIMEOUT_TCP) :
		       e->key.proto == 17 || e->key.proto == 136 ? PFSE_FT_TIMEOUT_UDP :
		       PFSE_FT_TIMEOUT_OTHER;
		ck_assert_msg(in.timeout_kind == kind, "%s: %s: timeout kind %u, want %u", path,
			      ks, in.timeout_kind, kind);
		/* A flow whose whole life fits in the series: samples + open = totals. */
		first_k = e->first / (100 * MS);
		ns = pfse_flow_table_series(t, h, RING, sb, sp);
		ck_assert_int_eq(ns, (int)min_u64(in.interval - first_k, 64));
		if (in.interval - first_k <= 64) {
			int exact = 1;

			for (int j = 0; j < ns; j++) {
				sum_b += sb[j];
				sum_p += sp[j];
				exact &= sp[j] < 2048;
			}
			ck_assert_msg(sum_b + in.open_bytes == e->bytes[0] + e->bytes[1],
				      "%s: %s: series bytes %" PRIu64 " + open %" PRIu64 " != %"
				      PRIu64, path, ks, sum_b, in.open_bytes,
				      e->bytes[0] + e->bytes[1]);
			if (exact)
				ck_assert_msg(sum_p + in.open_packets == e->pkts[0] + e->pkts[1],
					      "%s: %s: series packets %" PRIu64 " + open %" PRIu64
					      " != %" PRIu64, path, ks, sum_p, in.open_packets,
					      e->pkts[0] + e->pkts[1]);
		}
	}
	while (pfse_flow_table_next(t, &iter, &flow) == 0) {
		visited++;
		ck_assert_uint_le(visited, nflows);
	}
	ck_assert_uint_eq(visited, nflows);

	/* Expire at the end of the capture: exactly the flows idle past their timeout go
	 * (spliced captures have gaps of years, so some do). */
	cutoff = (latest >> pfse_ft_test_tick_shift(t)) << pfse_ft_test_tick_shift(t);
	for (uint64_t i = 0; i < COUNT_SIZE; i++) {
		const struct count_entry *e = &tab[i];
		unsigned kind;

		if (!e->used)
			continue;
		kind = e->key.proto == 6 ? (e->closing ? 1u : 0u) :
		       e->key.proto == 17 || e->key.proto == 136 ? 2u : 3u;
		nexp += e->last + to[kind] < cutoff;
	}
	r = pfse_flow_table_expire(t, latest, BIG_BUDGET, replay_remove_cb, tab);
	ck_assert_msg((uint64_t)r == nexp, "%s: expired %d flows, want %" PRIu64, path, r, nexp);
	for (uint64_t i = 0; i < COUNT_SIZE; i++) {
		const struct count_entry *e = &tab[i];
		unsigned kind;

		if (!e->used)
			continue;
		kind = e->key.proto == 6 ? (e->closing ? 1u : 0u) :
		       e->key.proto == 17 || e->key.proto == 136 ? 2u : 3u;
		ck_assert_msg((e->used == 2) == (e->last + to[kind] < cutoff),
			      "%s: %s: expired %d", path, key_str(&e->key, ks), e->used == 2);
	}

	tot->files++;
	tot->frames += frames;
	tot->parsed += parsed;
	tot->flows += nflows;
	tot->expired += nexp;
	pfse_flow_table_destroy(t);
	pfse_parser_destroy(ps);
	pcap_close(pc);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .pcap files of a directory, sorted, appended to `list`. */
static unsigned
list_dir(const char *dir, char **list, unsigned n, unsigned max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned first = n;

	if (!d)
		return n;
	while ((de = readdir(d)) != NULL && n < max) {
		size_t l = strlen(de->d_name);
		char buf[4096];

		if (l < 5 || strcmp(de->d_name + l - 5, ".pcap") != 0)
			continue;
		if (snprintf(buf, sizeof(buf), "%s/%s", dir, de->d_name) >= (int)sizeof(buf))
			continue;
		list[n] = strdup(buf);
		ck_assert_ptr_nonnull(list[n]);
		n++;
	}
	closedir(d);
	qsort(list + first, n - first, sizeof(list[0]), cmp_str);
	return n;
}

/* The multi-flow captures INDEX.md lists (first column of its tables). */
static unsigned
list_index(const char *dir, char **list, unsigned n, unsigned max)
{
	static const char *const prefixes[] = { "ndpi/", "mercury/", "slips/",
						"suricata-verify/", "tcpreplay/", "zeek/",
						"malformed/ndpi/" };
	char path[4096], line[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/INDEX.md", dir);
	f = fopen(path, "r");
	if (!f)
		return n;
	while (fgets(line, sizeof(line), f) && n < max) {
		char *name = line + 2, *end;
		int want = 0;
		size_t l;

		if (strncmp(line, "| ", 2) != 0)
			continue;
		end = strstr(name, " |");
		if (!end)
			continue;
		*end = '\0';
		l = strlen(name);
		if (!((l > 5 && strcmp(name + l - 5, ".pcap") == 0) ||
		      (l > 7 && strcmp(name + l - 7, ".pcapng") == 0)))
			continue;
		for (unsigned i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
			want |= strncmp(name, prefixes[i], strlen(prefixes[i])) == 0;
		if (!want)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		list[n] = strdup(path);
		ck_assert_ptr_nonnull(list[n]);
		n++;
	}
	fclose(f);
	return n;
}

START_TEST(replay_captures)
{
	const char *data = getenv("PFSE_TEST_DATA");
	const char *shared = getenv("PFSE_SHARED_DATA");
	struct count_entry *tab = calloc(COUNT_SIZE, sizeof(*tab));
	struct replay_totals tot;
	char *list[256], buf[4096];
	unsigned n = 0, nshared;
	struct stat sb;

	ck_assert_ptr_nonnull(tab);
	memset(&tot, 0, sizeof(tot));
	if (!data)
		data = "tests/data";
	snprintf(buf, sizeof(buf), "%s/ftp-data.pcap", data);
	list[n++] = strdup(buf);
	snprintf(buf, sizeof(buf), "%s/quic-vlan-snap128.pcap", data);
	list[n++] = strdup(buf);
	snprintf(buf, sizeof(buf), "%s/edgecases", data);
	n = list_dir(buf, list, n, 256);
	ck_assert_uint_gt(n, 2);
	nshared = n;
	if (shared && stat(shared, &sb) == 0 && S_ISDIR(sb.st_mode))
		n = list_index(shared, list, n, 256);
	nshared = n - nshared;
	for (unsigned i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(list[i]);
		tot.skipped += (unsigned)replay_file(list[i], tab, &tot);
		free(list[i]);
	}
	printf("# replay: %u captures replayed of %u (%u listed by the shared INDEX.md), %u"
	       " skipped: %" PRIu64
	       " frames, %" PRIu64 " parsed, %" PRIu64 " flows, %" PRIu64 " expired at the end\n",
	       tot.files, n, nshared, tot.skipped, tot.frames, tot.parsed, tot.flows,
	       tot.expired);
	free(tab);
}
END_TEST

static Suite *
flow_table_diff_suite(void)
{
	Suite *s = suite_create("flow-table-diff");
	TCase *tc;

	tc = tcase_create("random-ops");
	tcase_add_test(tc, random_ops);
	tcase_set_timeout(tc, 280);
	suite_add_tcase(s, tc);

	tc = tcase_create("pkts-encoding");
	tcase_add_test(tc, pkts_encoding);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("adversarial");
	tcase_add_loop_test(tc, adversarial_refuse, 0,
			    (int)(sizeof(adv_hashes) / sizeof(adv_hashes[0])));
	tcase_add_loop_test(tc, adversarial_lru, 0,
			    (int)(sizeof(adv_hashes) / sizeof(adv_hashes[0])));
	tcase_add_test(tc, adversarial_flood);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("extreme-times");
	tcase_add_test(tc, extreme_times);
	suite_add_tcase(s, tc);

	tc = tcase_create("replay");
	tcase_add_test(tc, replay_captures);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(flow_table_diff_suite());
}
