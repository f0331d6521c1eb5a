/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow table: the flow state tracking tier.
 *
 * Layout (all allocated at create):
 *
 *   buckets  nb x 64 B     8 slots each: 16-bit tag, 32-bit record index, 16-bit age
 *                          (15-bit coarse last-seen tick + "bidirectional" bit)
 *   hot      cap x 128 B   what every packet touches: key, last seen, open interval,
 *                          TCP flags, state (line 0); per-direction counters, first seen,
 *                          cookie, timing-wheel links, directive (line 1)
 *   used     cap / 8 B     a bit per record in use (iteration skips empty stretches)
 *   cold     cap x stride  series (W x u32 bytes, W x u16 packets) and predictor slot,
 *                          touched only when an interval closes
 *   wheel    2^k x 8 B     timing-wheel list heads (sentinels)
 *
 * A key hashes (keyed XXH3) to two buckets; a flow lives in one of their 16 slots, so a
 * lookup reads at most two bucket lines and the records its tags point at, whatever the
 * keys. Buckets are sized for a load of 0.85 at full capacity, where two-choice 8-way
 * buckets practically never both fill before the table does; when they do, the new flow
 * is handled as in a full table. The age kept in the bucket lets eviction pick the least
 * recently seen of the 16 candidates without reading their records.
 *
 * Expiry is a hashed timing wheel over the records (intrusive doubly-linked lists,
 * threaded through the hot record). A flow is filed under its deadline when created and
 * is not moved when packets arrive (only last_seen changes); when the wheel reaches it,
 * it is either expired or refiled under its current deadline. Each flow is so touched
 * O(1) times per timeout period, never per packet.
 *
 * A burst is processed in three passes, as DPDK's rte_hash bulk lookup does: hash every
 * key and prefetch both buckets; match tags and prefetch the candidate records; then, in
 * packet order, verify keys, insert misses and update counters. The in-order last pass
 * makes a burst equivalent to its packets one by one (a flow created by packet i is found
 * by packet j > i; a candidate evicted in between fails verification and is looked up
 * again).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "internal.h"
#include "flow_key_priv.h"
#include "flow_table_priv.h"
#include "pfse/flow_table.h"

#define BUCKET_SLOTS 8
#define LOAD_MAX_NUM 85 /* buckets hold capacity / 0.85 slots */
#define LOAD_MAX_DEN 100

#define S_USED 0x01u
#define S_DIR0 0x02u /* a packet key.src -> key.dst was seen */
#define S_DIR1 0x04u /* a packet key.dst -> key.src was seen */
#define S_KIND_SHIFT 4
#define S_KIND_MASK 0x30u

#define AGE_BIDIR 0x8000u
#define AGE_MASK 0x7fffu

#define NS_PER_S 1000000000ull

#define KNOWN_FLAGS (PFSE_FT_F_FIXED_SEED | PFSE_FT_F_NO_SERIES | PFSE_FT_F_PKT_HASH)

struct ft_bucket {
	uint16_t tag[BUCKET_SLOTS];
	uint32_t idx[BUCKET_SLOTS];
	uint16_t age[BUCKET_SLOTS];
};
_Static_assert(sizeof(struct ft_bucket) == 64, "a bucket is one cache line");

struct ft_link {
	uint32_t prev, next;
};

struct pfse_flow_table {
	struct ft_bucket *buckets;
	struct ft_hot *hot;
	uint64_t *used;        /* a bit per slot in use: iteration skips empty stretches */
	uint8_t *cold;
	struct ft_link *wheel; /* sentinels: link index cap + s */
	uint32_t nbuckets;
	uint32_t cap;
	uint32_t cold_stride;
	uint32_t series_len;
	uint32_t slot_off;   /* offset of the slot in a cold record */
	uint32_t slot_size;
	uint64_t seed;
	int pkt_hash;        /* PFSE_FT_F_PKT_HASH */
	uint64_t interval;
	uint64_t timeout[4];
	uint32_t eviction;
	uint32_t new_flow_rate;
	/* interval cache: [iv_lo, iv_lo + interval) maps to iv_cache */
	uint64_t iv_lo;
	uint64_t iv_cache;
	/* time */
	uint64_t now;        /* latest time seen */
	unsigned age_shift;
	/* timing wheel */
	unsigned tick_shift;
	uint32_t wheel_mask;
	uint64_t wheel_tick; /* next tick to process */
	int wheel_started;
	/* free list */
	uint32_t free_head;
	uint32_t nflows;
	/* flood admission */
	uint64_t flood_window;
	uint32_t flood_count;
	pfse_flow_remove_fn on_evict;
	void *on_evict_user;
	struct pfse_allocator alloc;
	struct pfse_flow_table_stats st;
#ifdef PFSE_TEST_HOOKS
	int force_hash;
	uint64_t forced_hash;
#endif
};

/* ---- parameters and sizing ---- */

struct ft_geometry {
	uint32_t cap, nbuckets, series_len, slot_size, cold_stride, wheel_slots;
	unsigned tick_shift, age_shift;
	size_t bytes;
};

static unsigned
log2_ceil(uint64_t v)
{
	unsigned s = 0;

	while (s < 63 && (1ull << s) < v)
		s++;
	return s;
}

static int
load_params(const struct pfse_flow_table_params *p, struct pfse_flow_table_params *prm,
	    struct ft_geometry *g)
{
	uint64_t tmin, tmax, ticks;
	int r;

	r = pfse_params_load(prm, sizeof(*prm),
			     offsetof(struct pfse_flow_table_params, capacity) +
				     sizeof(prm->capacity), p);
	if (r < 0)
		return r;
	if ((prm->flags & ~KNOWN_FLAGS) ||
	    ((prm->flags & PFSE_FT_F_PKT_HASH) && !(prm->flags & PFSE_FT_F_FIXED_SEED)))
		return -EINVAL;
	if (prm->capacity == 0)
		prm->capacity = 65536;
	if (prm->capacity > PFSE_FT_CAPACITY_MAX)
		return -EINVAL;
	if (prm->interval_ns == 0)
		prm->interval_ns = 100000000ull;
	if (prm->interval_ns < 1000000ull || prm->interval_ns > 3600 * NS_PER_S)
		return -EINVAL;
	if (prm->flags & PFSE_FT_F_NO_SERIES) {
		if (prm->series_len != 0)
			return -EINVAL;
	} else if (prm->series_len == 0) {
		prm->series_len = 8;
	}
	if (prm->series_len > PFSE_FT_SERIES_MAX)
		return -EINVAL;
	if (prm->slot_size == 0)
		prm->slot_size = 64;
	if (prm->slot_size > PFSE_FT_SLOT_MAX)
		return -EINVAL;
	prm->slot_size = (prm->slot_size + 7u) & ~7u;
	if (prm->timeout_tcp_ns == 0)
		prm->timeout_tcp_ns = 300 * NS_PER_S;
	if (prm->timeout_tcp_closing_ns == 0)
		prm->timeout_tcp_closing_ns = 10 * NS_PER_S;
	if (prm->timeout_udp_ns == 0)
		prm->timeout_udp_ns = 30 * NS_PER_S;
	if (prm->timeout_other_ns == 0)
		prm->timeout_other_ns = 30 * NS_PER_S;
	tmin = prm->timeout_tcp_ns;
	tmax = prm->timeout_tcp_ns;
	{
		const uint64_t tt[3] = { prm->timeout_tcp_closing_ns, prm->timeout_udp_ns,
					 prm->timeout_other_ns };

		for (unsigned i = 0; i < 3; i++) {
			tmin = tt[i] < tmin ? tt[i] : tmin;
			tmax = tt[i] > tmax ? tt[i] : tmax;
		}
	}
	/* Timeouts from 1 ms to 1 day: long enough for any idle connection, short enough
	 * that interval indices kept modulo 2^32 never wrap within a flow's idle time. */
	if (tmin < 1000000ull || tmax > 86400 * NS_PER_S)
		return -EINVAL;
	if (prm->eviction > PFSE_FT_EVICT_REFUSE)
		return -EINVAL;
	if (prm->new_flow_rate == 0)
		prm->new_flow_rate = prm->capacity / 4 ? prm->capacity / 4 : 1;
	if (pfse_allocator_check(&prm->allocator) < 0)
		return -EINVAL;

	g->cap = prm->capacity;
	g->nbuckets = (uint32_t)(((uint64_t)prm->capacity * LOAD_MAX_DEN +
				  (uint64_t)BUCKET_SLOTS * LOAD_MAX_NUM - 1) /
				 ((uint64_t)BUCKET_SLOTS * LOAD_MAX_NUM));
	if (g->nbuckets < 2)
		g->nbuckets = 2;
	g->series_len = prm->series_len;
	g->slot_size = prm->slot_size;
	g->cold_stride = (g->series_len * 6 + g->slot_size + 7u) & ~7u;
	/* Wheel tick: about a sixteenth of the shortest timeout, at least 2^20 ns; the wheel
	 * spans the longest timeout, with at most 2^16 slots (later deadlines are refiled). */
	g->tick_shift = log2_ceil(tmin / 16);
	if (g->tick_shift < 20)
		g->tick_shift = 20;
	ticks = (tmax >> g->tick_shift) + 2;
	while (ticks > 65536) {
		g->tick_shift++;
		ticks = (tmax >> g->tick_shift) + 2;
	}
	g->wheel_slots = 1u << log2_ceil(ticks);
	/* Ages: 15 bits must span twice the longest timeout. */
	g->age_shift = log2_ceil((2 * tmax) >> 15);
	g->bytes = sizeof(struct pfse_flow_table) +
		   (size_t)g->nbuckets * sizeof(struct ft_bucket) +
		   (size_t)g->cap * sizeof(struct ft_hot) + ((size_t)g->cap + 63) / 64 * 8 +
		   (size_t)g->cap * g->cold_stride +
		   (size_t)g->wheel_slots * sizeof(struct ft_link);
	return 0;
}

PFSE_API int
pfse_flow_table_memsize(const struct pfse_flow_table_params *p, size_t *out)
{
	struct pfse_flow_table_params prm;
	struct ft_geometry g;
	int r;

	if (!p || !out)
		return -EINVAL;
	r = load_params(p, &prm, &g);
	if (r < 0)
		return r;
	*out = g.bytes;
	return 0;
}

/* ---- the timing wheel ---- */

static inline struct ft_link *
link_of(struct pfse_flow_table *t, uint32_t i)
{
	if (i < t->cap)
		return (struct ft_link *)(void *)&t->hot[i].wprev;
	return &t->wheel[i - t->cap];
}

static inline void
wheel_unlink(struct pfse_flow_table *t, uint32_t f)
{
	struct ft_hot *r = &t->hot[f];

	link_of(t, r->wprev)->next = r->wnext;
	link_of(t, r->wnext)->prev = r->wprev;
}

/* Files flow f under the tick of `deadline` (at the end of its list: the previous tail is
 * usually the flow filed just before, still in cache). */
static inline void
wheel_link(struct pfse_flow_table *t, uint32_t f, uint64_t deadline)
{
	uint64_t tick = deadline >> t->tick_shift;
	uint32_t s, head, tail;

	if (tick < t->wheel_tick)
		tick = t->wheel_tick;
	if (tick - t->wheel_tick > t->wheel_mask)
		tick = t->wheel_tick + t->wheel_mask; /* beyond the horizon: refiled later */
	s = (uint32_t)(tick & t->wheel_mask);
	head = t->cap + s;
	tail = t->wheel[s].prev;
	t->hot[f].wprev = tail;
	t->hot[f].wnext = head;
	link_of(t, tail)->next = f;
	t->wheel[s].prev = f;
}

static inline unsigned
kind_of(const struct ft_hot *r)
{
	return (r->state & S_KIND_MASK) >> S_KIND_SHIFT;
}

/* last_seen + timeout, saturating: a timestamp near 2^64 must not wrap to "long ago". */
static inline uint64_t
deadline_of(const struct pfse_flow_table *t, const struct ft_hot *r)
{
	uint64_t to = t->timeout[kind_of(r)];

	return r->last_seen > UINT64_MAX - to ? UINT64_MAX : r->last_seen + to;
}

/* ---- create / destroy ---- */

static void
free_all(struct pfse_flow_table *t)
{
	struct pfse_allocator a = t->alloc;

	pfse_free(&a, t->buckets);
	pfse_free(&a, t->hot);
	pfse_free(&a, t->used);
	pfse_free(&a, t->cold);
	pfse_free(&a, t->wheel);
	pfse_free(&a, t);
}

PFSE_API int
pfse_flow_table_create(const struct pfse_flow_table_params *p, struct pfse_flow_table **out)
{
	struct pfse_flow_table_params prm;
	struct ft_geometry g;
	struct pfse_flow_table *t;
	uint64_t seed = 0;
	int r;

	if (!p || !out)
		return -EINVAL;
	r = load_params(p, &prm, &g);
	if (r < 0)
		return r;
	if (prm.flags & PFSE_FT_F_FIXED_SEED) {
		seed = prm.seed;
	} else {
		r = pfse_random_seed(&seed);
		if (r < 0)
			return r;
	}
	t = pfse_zalloc(&prm.allocator, sizeof(*t), 64);
	if (!t)
		return -ENOMEM;
	t->alloc = prm.allocator;
	t->buckets = pfse_zalloc(&t->alloc, (size_t)g.nbuckets * sizeof(struct ft_bucket), 64);
	t->hot = pfse_zalloc(&t->alloc, (size_t)g.cap * sizeof(struct ft_hot), 64);
	t->used = pfse_zalloc(&t->alloc, ((size_t)g.cap + 63) / 64 * 8, 64);
	t->cold = pfse_zalloc(&t->alloc, (size_t)g.cap * g.cold_stride, 64);
	t->wheel = pfse_zalloc(&t->alloc, (size_t)g.wheel_slots * sizeof(struct ft_link), 64);
	if (!t->buckets || !t->hot || !t->used || !t->cold || !t->wheel) {
		free_all(t);
		return -ENOMEM;
	}
	t->nbuckets = g.nbuckets;
	t->cap = g.cap;
	t->cold_stride = g.cold_stride;
	t->series_len = g.series_len;
	t->slot_off = g.series_len * 6;
	t->slot_size = g.slot_size;
	t->seed = seed;
	t->pkt_hash = (prm.flags & PFSE_FT_F_PKT_HASH) != 0;
	t->interval = prm.interval_ns;
	t->timeout[PFSE_FT_TIMEOUT_TCP] = prm.timeout_tcp_ns;
	t->timeout[PFSE_FT_TIMEOUT_TCP_CLOSING] = prm.timeout_tcp_closing_ns;
	t->timeout[PFSE_FT_TIMEOUT_UDP] = prm.timeout_udp_ns;
	t->timeout[PFSE_FT_TIMEOUT_OTHER] = prm.timeout_other_ns;
	t->eviction = prm.eviction;
	t->new_flow_rate = prm.new_flow_rate;
	t->age_shift = g.age_shift;
	t->tick_shift = g.tick_shift;
	t->wheel_mask = g.wheel_slots - 1;
	t->on_evict = prm.on_evict;
	t->on_evict_user = prm.on_evict_user;
	t->iv_lo = 0; /* [0, interval) is interval 0: a valid cache from the start */
	t->iv_cache = 0;
	for (uint32_t b = 0; b < g.nbuckets; b++)
		for (unsigned s = 0; s < BUCKET_SLOTS; s++)
			t->buckets[b].idx[s] = PFSE_FLOW_NONE;
	for (uint32_t s = 0; s < g.wheel_slots; s++) {
		t->wheel[s].prev = t->cap + s;
		t->wheel[s].next = t->cap + s;
	}
	for (uint32_t i = 0; i < g.cap; i++)
		t->hot[i].wnext = i + 1 < g.cap ? i + 1 : PFSE_FLOW_NONE;
	t->free_head = 0;
	t->st.capacity = g.cap;
	*out = t;
	return 0;
}

PFSE_API void
pfse_flow_table_destroy(struct pfse_flow_table *t)
{
	if (t)
		free_all(t);
}

/* ---- helpers ---- */

static inline uint64_t
key_hash(const struct pfse_flow_table *t, const struct pfse_flow_key *k)
{
#ifdef PFSE_TEST_HOOKS
	if (t->force_hash)
		return t->forced_hash;
#endif
	return pfse_key_hash(k, t->seed);
}

/* Lemire's multiply-shift maps 32 hash bits onto [0, nbuckets) without a division. */
static inline uint32_t
bucket_of(uint32_t h32, uint32_t nb)
{
	return (uint32_t)(((uint64_t)h32 * nb) >> 32);
}

static inline void
buckets_of(const struct pfse_flow_table *t, uint64_t h, uint32_t *b1, uint32_t *b2,
	   uint16_t *tag)
{
	*b1 = bucket_of((uint32_t)h, t->nbuckets);
	*b2 = bucket_of((uint32_t)(h >> 32), t->nbuckets);
	if (*b2 == *b1)
		*b2 = *b1 + 1 < t->nbuckets ? *b1 + 1 : 0;
	*tag = (uint16_t)((h >> 16) ^ (h >> 48));
	*tag |= (uint16_t)(*tag == 0); /* 0 marks an empty slot: never a key's tag */
}

/* Bit i set in the result when lane i of the 4 x 16-bit lanes of v (in memory order) is
 * zero. Exact (no false positives): a lane's top bit survives only if it is zero. */
static inline unsigned
zero_lanes(uint64_t v)
{
	const uint64_t m = 0x7fff7fff7fff7fffull;
	uint64_t z = ~(((v & m) + m) | v | m);

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return (unsigned)(((z >> 63) & 1) | ((z >> 46) & 2) | ((z >> 29) & 4) | ((z >> 12) & 8));
#else
	return (unsigned)(((z >> 15) & 1) | ((z >> 30) & 2) | ((z >> 45) & 4) | ((z >> 60) & 8));
#endif
}

/* Mask of the slots of b whose tag is `tag` (8 compares in two words, no branch). */
static inline unsigned
tag_match(const struct ft_bucket *b, uint16_t tag)
{
	uint64_t lo, hi, bc = tag * 0x0001000100010001ull;

	memcpy(&lo, b->tag, 8);
	memcpy(&hi, b->tag + 4, 8);
	return zero_lanes(lo ^ bc) | zero_lanes(hi ^ bc) << 4;
}

static inline bool
key_eq(const struct pfse_flow_key *a, const struct pfse_flow_key *b)
{
	uint64_t x[5], y[5];

	memcpy(x, a, 40);
	memcpy(y, b, 40);
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) ==
	       0;
}

static inline uint16_t
age_now(const struct pfse_flow_table *t, uint64_t ts)
{
	return (uint16_t)((ts >> t->age_shift) & AGE_MASK);
}

static inline uint8_t *
cold_of(const struct pfse_flow_table *t, uint32_t f)
{
	return t->cold + (size_t)f * t->cold_stride;
}

/* Interval index of ts, through a one-interval cache: the packets of a burst (and of
 * consecutive bursts) nearly always share one interval, so the division is rare. */
static inline uint64_t
iv_of(struct pfse_flow_table *t, uint64_t ts)
{
	if (pfse_likely(ts - t->iv_lo < t->interval))
		return t->iv_cache;
	t->iv_cache = ts / t->interval;
	t->iv_lo = t->iv_cache * t->interval;
	return t->iv_cache;
}

/* Packets per interval, on 16 bits: exact below 2048, then 11 significant bits. */
uint16_t
pfse_ft_pkts_encode(uint64_t v)
{
	unsigned e;

	if (v < 2048)
		return (uint16_t)v;
	e = 63u - (unsigned)__builtin_clzll(v) - 10u; /* v >> (e - 1) is in [2048, 4095] */
	if (e > 31)
		return 0xffff;
	return (uint16_t)(e << 11 | ((v >> (e - 1)) - 2048));
}

uint64_t
pfse_ft_pkts_decode(uint16_t c)
{
	unsigned e = c >> 11;

	if (e == 0)
		return c & 0x7ffu;
	return (uint64_t)(2048u | (c & 0x7ffu)) << (e - 1);
}

static inline uint32_t
sat_add32(uint32_t a, uint64_t b)
{
	uint64_t s = (uint64_t)a + b;

	return s > 0xffffffffull ? 0xffffffffu : (uint32_t)s;
}

/*
 * Closes the flow's open interval (index `cur`) and the silent ones before `next`:
 * the open accumulators become the sample of `cur`, the others zero samples.
 */
static void
close_intervals(struct pfse_flow_table *t, uint32_t f, uint64_t cur, uint64_t next)
{
	struct ft_hot *r = &t->hot[f];
	uint32_t w = t->series_len;

	t->st.samples += next - cur;
	if (w) {
		uint8_t *c = cold_of(t, f);
		uint32_t *sb = (uint32_t *)(void *)c;
		uint16_t *sp = (uint16_t *)(void *)(c + 4u * w);
		uint64_t zeros = next - cur - 1, k;

		sb[cur % w] = r->open_bytes;
		sp[cur % w] = pfse_ft_pkts_encode(r->open_pkts);
		if (zeros > w)
			zeros = w;
		for (k = next - zeros; k < next; k++) {
			sb[k % w] = 0;
			sp[k % w] = 0;
		}
	}
	r->open_bytes = 0;
	r->open_pkts = 0;
	r->cur_iv = (uint32_t)next;
}

/* A full interval index from its 32-bit copy and a later full index. */
static inline uint64_t
cur_iv64_from(uint32_t iv32, uint64_t later)
{
	return later - (uint32_t)((uint32_t)later - iv32);
}

/* The open interval index of flow r in full. */
static inline uint64_t
cur_iv64(const struct ft_hot *r, uint64_t later)
{
	return cur_iv64_from(r->cur_iv, later);
}

/* Removes flow f: wheel, bucket slot (given), free list. */
static void
remove_flow(struct pfse_flow_table *t, uint32_t f, struct ft_bucket *b, unsigned slot)
{
	wheel_unlink(t, f);
	b->idx[slot] = PFSE_FLOW_NONE;
	b->tag[slot] = 0;
	b->age[slot] = 0;
	t->hot[f].state = 0;
	t->used[f >> 6] &= ~(1ull << (f & 63));
	t->hot[f].wnext = t->free_head;
	t->free_head = f;
	t->nflows--;
}

/* Finds the bucket slot holding flow f (its key hashes to one of two buckets). */
static bool
find_slot(struct pfse_flow_table *t, uint32_t f, struct ft_bucket **bo, unsigned *so)
{
	uint32_t b1, b2;
	uint16_t tag;

	buckets_of(t, key_hash(t, &t->hot[f].key), &b1, &b2, &tag);
	for (int k = 0; k < 2; k++) {
		struct ft_bucket *b = &t->buckets[k ? b2 : b1];

		for (unsigned s = 0; s < BUCKET_SLOTS; s++) {
			if (b->idx[s] == f) {
				*bo = b;
				*so = s;
				return true;
			}
		}
	}
	return false;
}

static inline bool
flow_valid(const struct pfse_flow_table *t, uint32_t f)
{
	return f < t->cap && (t->hot[f].state & S_USED);
}

/* Looks a key up in its two buckets; returns the flow and its slot, or PFSE_FLOW_NONE. */
static inline uint32_t
lookup(struct pfse_flow_table *t, const struct pfse_flow_key *key, uint32_t b1, uint32_t b2,
       uint16_t tag, struct ft_bucket **bo, unsigned *so)
{
	for (int k = 0; k < 2; k++) {
		struct ft_bucket *b = &t->buckets[k ? b2 : b1];
		unsigned mask = tag_match(b, tag);

		while (mask) {
			unsigned s = (unsigned)__builtin_ctz(mask);
			uint32_t f = b->idx[s];

			mask &= mask - 1;
			if (key_eq(&t->hot[f].key, key)) {
				*bo = b;
				*so = s;
				return f;
			}
		}
	}
	return PFSE_FLOW_NONE;
}

/* ---- insertion ---- */

static inline unsigned
initial_kind(const struct pfse_pkt *pkt)
{
	switch (pkt->key.proto) {
	case 6:
		return (pkt->tcp_flags & (TCP_FIN | TCP_RST)) ? PFSE_FT_TIMEOUT_TCP_CLOSING
							       : PFSE_FT_TIMEOUT_TCP;
	case 17:
	case 136:
		return PFSE_FT_TIMEOUT_UDP;
	default:
		return PFSE_FT_TIMEOUT_OTHER;
	}
}

/*
 * Both buckets of a new key are full while records are free: move one resident to its
 * other bucket if that has room (one cuckoo step; its record is read to rehash its key).
 * Sets the freed slot; false if no resident can move.
 */
static bool
displace(struct pfse_flow_table *t, struct ft_bucket *const bk[2], struct ft_bucket **bo,
	 unsigned *so)
{
	for (int k = 0; k < 2; k++) {
		for (unsigned s = 0; s < BUCKET_SLOTS; s++) {
			uint32_t f = bk[k]->idx[s], a1, a2, alt;
			struct ft_bucket *to;
			uint16_t tag;

			buckets_of(t, key_hash(t, &t->hot[f].key), &a1, &a2, &tag);
			alt = &t->buckets[a1] == bk[k] ? a2 : a1;
			to = &t->buckets[alt];
			if (to == bk[0] || to == bk[1])
				continue;
			for (unsigned d = 0; d < BUCKET_SLOTS; d++) {
				if (to->idx[d] != PFSE_FLOW_NONE)
					continue;
				to->idx[d] = f;
				to->tag[d] = bk[k]->tag[s];
				to->age[d] = bk[k]->age[s];
				bk[k]->idx[s] = PFSE_FLOW_NONE;
				*bo = bk[k];
				*so = s;
				return true;
			}
		}
	}
	return false;
}

/* Whether flow f was returned for an earlier packet of the current burst: such a flow is
 * never evicted, or that packet's handle would name the new flow. */
static inline bool
in_burst(uint32_t f, const uint32_t *flows, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (flows[i] == f)
			return true;
	return false;
}

/* True while new flows arrive faster than new_flow_rate per second (1-second windows). */
static inline bool
flooding(struct pfse_flow_table *t, uint64_t ts)
{
	if (ts - t->flood_window >= NS_PER_S) {
		t->flood_window = ts;
		t->flood_count = 0;
	}
	return t->flood_count >= t->new_flow_rate;
}

/*
 * Creates the flow of pkt. Takes a free slot in the fuller-free of the two buckets;
 * when both are full, evicts by policy. Returns the flow, or PFSE_FLOW_NONE if refused.
 */
static uint32_t
insert(struct pfse_flow_table *t, const struct pfse_pkt *pkt, uint64_t ts, uint32_t b1,
       uint32_t b2, uint16_t tag, struct ft_bucket **bo, unsigned *so, bool *evicted,
       const uint32_t *burst_flows, unsigned nburst)
{
	struct ft_bucket *bk[2] = { &t->buckets[b1], &t->buckets[b2] };
	struct ft_bucket *best = NULL;
	unsigned best_slot = 0, freec[2] = { 0, 0 }, first_free[2] = { 0, 0 };
	bool flood = flooding(t, ts);
	uint32_t f;
	struct ft_hot *r;

	if (flood)
		t->st.flood_packets++;
	for (int k = 0; k < 2; k++)
		for (unsigned s = BUCKET_SLOTS; s-- > 0;)
			if (bk[k]->idx[s] == PFSE_FLOW_NONE) {
				freec[k]++;
				first_free[k] = s;
			}
	if (t->free_head != PFSE_FLOW_NONE && (freec[0] || freec[1])) {
		/* The first bucket while it has room: lookups then rarely need the second. */
		int k = freec[0] == 0;

		best = bk[k];
		best_slot = first_free[k];
	} else if (t->free_head != PFSE_FLOW_NONE && displace(t, bk, &best, &best_slot)) {
		/* Both buckets full but records free: a resident moved to its other bucket. */
	} else {
		/* Full: the probed slots, or the records. Pick a victim among the 16: the least
		 * recently seen of the one-way flows (never answered: scans, SYNs, dead
		 * sessions), else, unless flooding, the least recently seen of all. */
		uint16_t now_age = age_now(t, ts), oldest = 0;
		bool best_bidir = true;

		if (t->eviction == PFSE_FT_EVICT_REFUSE) {
			t->st.refused_full++;
			return PFSE_FLOW_NONE;
		}
		for (int k = 0; k < 2; k++) {
			for (unsigned s = 0; s < BUCKET_SLOTS; s++) {
				uint16_t a = bk[k]->age[s], old;
				bool bidir = (a & AGE_BIDIR) != 0;

				if (bk[k]->idx[s] == PFSE_FLOW_NONE)
					continue;
				if (flood && bidir)
					continue; /* in a flood, live connections stay */
				if (in_burst(bk[k]->idx[s], burst_flows, nburst))
					continue; /* its handle was just returned for a packet */
				old = (uint16_t)((now_age - a) & AGE_MASK);
				if (!best || (best_bidir && !bidir) ||
				    (best_bidir == bidir && old > oldest)) {
					best = bk[k];
					best_slot = s;
					oldest = old;
					best_bidir = bidir;
				}
			}
		}
		if (!best) {
			/* No displaceable flow among the 16: in a flood every one of them is a live
			 * connection; otherwise they are empty while the records are all taken. */
			if (flood)
				t->st.refused_flood++;
			else
				t->st.refused_full++;
			return PFSE_FLOW_NONE;
		}
		f = best->idx[best_slot];
		if (t->on_evict)
			t->on_evict(t, f, PFSE_FT_REMOVED_EVICTED, t->on_evict_user);
		remove_flow(t, f, best, best_slot);
		t->st.evicted++;
		*evicted = true;
	}
	if (pfse_unlikely(!t->wheel_started)) {
		t->wheel_tick = ts >> t->tick_shift;
		t->wheel_started = 1;
	}
	f = t->free_head;
	r = &t->hot[f];
	t->free_head = r->wnext;
	memset(r, 0, sizeof(*r));
	memset(cold_of(t, f), 0, t->cold_stride);
	r->key = pkt->key;
	r->first_seen = ts;
	r->last_seen = ts;
	r->cur_iv = (uint32_t)iv_of(t, ts);
	r->state = (uint8_t)(S_USED | initial_kind(pkt) << S_KIND_SHIFT);
	t->used[f >> 6] |= 1ull << (f & 63);
	r->dir_tier = PFSE_TIER_NONE;
	r->dir_node = PFSE_NODE_ANY;
	wheel_link(t, f, deadline_of(t, r));
	best->idx[best_slot] = f;
	best->tag[best_slot] = tag;
	best->age[best_slot] = age_now(t, ts);
	t->nflows++;
	t->flood_count++;
	t->st.created++;
	*bo = best;
	*so = best_slot;
	return f;
}

/* ---- the packet path ---- */

/*
 * The first passes of a burst lookup, as DPDK's rte_hash bulk lookup does, but reading
 * the second bucket only when needed (insertion fills a key's first bucket first, so
 * nearly every flow is found there): 1. hash every key and fetch its first bucket;
 * 2. match tags there and fetch the matching record, or fetch the second bucket;
 * 3. match tags in the second buckets fetched and fetch their records. Keys may be NULL
 * (skipped). The lookups proper then run in packet order on cached lines.
 */
static inline void
prefetch_burst(struct pfse_flow_table *t, const struct pfse_flow_key *const keys[],
	       const uint64_t *hashes, unsigned n, uint32_t b1[], uint32_t b2[], uint16_t tag[],
	       uint32_t cand[], uint8_t cslot[], bool both_lines)
{
	uint64_t second = 0;

	for (unsigned i = 0; i < n; i++) {
		cand[i] = PFSE_FLOW_NONE;
		if (pfse_unlikely(!keys[i]))
			continue;
		buckets_of(t, hashes ? hashes[i] : key_hash(t, keys[i]), &b1[i], &b2[i], &tag[i]);
		__builtin_prefetch(&t->buckets[b1[i]]);
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned mask;

		if (pfse_unlikely(!keys[i]))
			continue;
		mask = tag_match(&t->buckets[b1[i]], tag[i]);
		if (pfse_likely(mask)) {
			unsigned s = (unsigned)__builtin_ctz(mask);

			cand[i] = t->buckets[b1[i]].idx[s];
			cslot[i] = (uint8_t)s;
			__builtin_prefetch(&t->hot[cand[i]]);
			if (both_lines)
				__builtin_prefetch((const uint8_t *)&t->hot[cand[i]] + 64);
		} else {
			__builtin_prefetch(&t->buckets[b2[i]]);
			second |= 1ull << i;
		}
	}
	while (second) {
		unsigned i = (unsigned)__builtin_ctzll(second), mask;

		second &= second - 1;
		mask = tag_match(&t->buckets[b2[i]], tag[i]);
		if (mask) {
			unsigned s = (unsigned)__builtin_ctz(mask);

			cand[i] = t->buckets[b2[i]].idx[s];
			cslot[i] = (uint8_t)(BUCKET_SLOTS + s);
			__builtin_prefetch(&t->hot[cand[i]]);
			if (both_lines)
				__builtin_prefetch((const uint8_t *)&t->hot[cand[i]] + 64);
		}
	}
}

/* The flow of key i of a prefetched burst: its candidate if the key matches (the common
 * case, no second scan), else a full lookup (tag collision, or the candidate was evicted
 * or moved by an earlier packet of the burst). */
static inline uint32_t
burst_lookup(struct pfse_flow_table *t, const struct pfse_flow_key *key, uint32_t b1,
	     uint32_t b2, uint16_t tag, uint32_t cand, uint8_t cslot, struct ft_bucket **bo,
	     unsigned *so)
{
	if (pfse_likely(cand != PFSE_FLOW_NONE)) {
		struct ft_bucket *b = &t->buckets[cslot < BUCKET_SLOTS ? b1 : b2];
		unsigned s = cslot % BUCKET_SLOTS;

		if (pfse_likely(b->idx[s] == cand && key_eq(&t->hot[cand].key, key))) {
			*bo = b;
			*so = s;
			return cand;
		}
	}
	return lookup(t, key, b1, b2, tag, bo, so);
}

/* Adds one packet to flow f (found in bucket b, slot s). Returns true if intervals closed;
 * then, with `ev`, says which interval closed with how much. */
static inline bool
update_flow(struct pfse_flow_table *t, uint32_t f, struct ft_bucket *b, unsigned s,
	    const struct pfse_pkt *pkt, uint64_t ts, struct pfse_ft_event *ev)
{
	struct ft_hot *r = &t->hot[f];
	uint32_t len = pkt->wirelen ? pkt->wirelen : pkt->caplen;
	unsigned dir = (pkt->flags & PFSE_PKT_F_REVERSE) ? 1 : 0;
	bool closed = false;
	uint64_t iv;
	uint8_t seen;

	iv = iv_of(t, ts); /* ts >= r->last_seen: the table's time is monotonic */
	if (pfse_unlikely((uint32_t)iv != r->cur_iv)) {
		uint64_t prev = cur_iv64(r, iv);

		if (ev) {
			ev->closed_iv = prev;
			ev->open_iv = iv;
			ev->closed_bytes = r->open_bytes;
			ev->closed_pkts = r->open_pkts;
		}
		close_intervals(t, f, prev, iv);
		closed = true;
	}
	r->last_seen = ts;
	r->open_pkts++;
	r->open_bytes = sat_add32(r->open_bytes, len);
	r->pkts[dir]++;
	r->bytes[dir] += len;
	seen = (uint8_t)(dir ? S_DIR1 : S_DIR0);
	if (pfse_unlikely(!(r->state & seen))) {
		r->state |= seen;
		if ((r->state & (S_DIR0 | S_DIR1)) == (S_DIR0 | S_DIR1))
			b->age[s] |= AGE_BIDIR;
	}
	if (r->key.proto == 6 && pkt->tcp_flags) {
		uint8_t old = r->tcp_flags;

		r->tcp_flags = (uint8_t)(old | pkt->tcp_flags);
		if (pfse_unlikely(!(old & (TCP_FIN | TCP_RST)) &&
				  (pkt->tcp_flags & (TCP_FIN | TCP_RST)))) {
			/* Closing: a shorter timeout, so refile it now (once per flow). */
			r->state = (uint8_t)((r->state & ~S_KIND_MASK) |
					     PFSE_FT_TIMEOUT_TCP_CLOSING << S_KIND_SHIFT);
			wheel_unlink(t, f);
			wheel_link(t, f, deadline_of(t, r));
		}
	}
	{
		/* Written only when the coarse tick moved: most packets leave the bucket line
		 * clean, so it is not written back to memory. */
		uint16_t age = (uint16_t)((b->age[s] & AGE_BIDIR) | age_now(t, ts));

		if (age != b->age[s])
			b->age[s] = age;
	}
	return closed;
}

/* PFSE_FT_F_PKT_HASH: the packets' own hashes (the table's for those without one), if the
 * first one given is the table's; 0 (counted) if not, and the burst is hashed here. */
static int
pkt_hashes(struct pfse_flow_table *t, struct pfse_pkt *const pkts[],
	   const struct pfse_flow_key *const keys[], unsigned n, uint64_t hv[])
{
	int checked = 0;

	for (unsigned i = 0; i < n; i++) {
		if (!keys[i])
			continue;
		if (!(pkts[i]->flags & PFSE_PKT_F_HASH)) {
			hv[i] = key_hash(t, keys[i]);
			continue;
		}
		hv[i] = pkts[i]->hash;
		if (!checked) {
			checked = 1;
			if (pfse_unlikely(hv[i] != key_hash(t, keys[i]))) {
				t->st.hash_mismatch++;
				return 0;
			}
		}
	}
	return 1;
}

static inline __attribute__((always_inline)) int
update_burst(struct pfse_flow_table *t, struct pfse_pkt *const pkts[], unsigned n,
	     uint32_t flows[], struct pfse_flow_masks *masks, struct pfse_ft_event *ev)
{
	const struct pfse_flow_key *keys[PFSE_BURST_MAX];
	uint32_t b1[PFSE_BURST_MAX], b2[PFSE_BURST_MAX], cand[PFSE_BURST_MAX];
	uint64_t hv[PFSE_BURST_MAX];
	uint16_t tag[PFSE_BURST_MAX];
	uint8_t cslot[PFSE_BURST_MAX];
	struct pfse_flow_masks m = { 0, 0, 0, 0 };
	int tracked = 0;

	if (!t || !flows || n > PFSE_BURST_MAX || (n > 0 && !pkts))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!pkts[i])
			return -EINVAL;

	if (n == 0) {
		if (masks)
			*masks = m;
		return 0;
	}
	/* Passes 1-3 (prefetch_burst): hash, fetch buckets and candidate records. */
	for (unsigned i = 0; i < n; i++)
		keys[i] = pkts[i]->status == PFSE_PARSE_OK ? &pkts[i]->key : NULL;
	if (t->pkt_hash && pkt_hashes(t, pkts, keys, n, hv))
		prefetch_burst(t, keys, hv, n, b1, b2, tag, cand, cslot, true);
	else
		prefetch_burst(t, keys, NULL, n, b1, b2, tag, cand, cslot, true);
	/* Last pass, in packet order: verify, insert, update. The table's time and counters
	 * live in locals for the burst (an insert's eviction callback may read stats, so
	 * they are written back before any insert). */
	{
		uint64_t now = t->now, unparsed = 0, clamped = 0;

		for (unsigned i = 0; i < n; i++) {
			const struct pfse_pkt *p = pkts[i];
			struct ft_bucket *b = NULL;
			unsigned s = 0;
			uint32_t f;
			uint64_t ts = p->ts;
			bool evicted = false;

			if (pfse_unlikely(p->status != PFSE_PARSE_OK)) {
				unparsed++;
				flows[i] = PFSE_FLOW_NONE;
				continue;
			}
			/* The table's time never goes back: an earlier timestamp is clamped to
			 * the latest seen, so no difference of times can underflow. */
			if (pfse_unlikely(ts < now)) {
				ts = now;
				clamped++;
			}
			now = ts;
			f = burst_lookup(t, &p->key, b1[i], b2[i], tag[i], cand[i], cslot[i], &b,
					 &s);
			if (pfse_unlikely(f == PFSE_FLOW_NONE)) {
				t->now = now;
				f = insert(t, p, ts, b1[i], b2[i], tag[i], &b, &s, &evicted, flows,
					   i);
				if (f == PFSE_FLOW_NONE) {
					flows[i] = PFSE_FLOW_NONE;
					continue;
				}
				m.created |= 1ull << i;
				if (evicted)
					m.evicted |= 1ull << i;
			}
			if (update_flow(t, f, b, s, p, ts, ev ? &ev[i] : NULL))
				m.samples |= 1ull << i;
			m.tracked |= 1ull << i;
			flows[i] = f;
			tracked++;
			if (ev)
				ev[i].dir = &t->hot[f].dir_tier;
		}
		t->now = now;
		t->st.packets += n;
		t->st.unparsed += unparsed;
		t->st.untracked += n - (unsigned)tracked;
		t->st.clamped += clamped;
	}
	if (masks)
		*masks = m;
	return tracked;
}

PFSE_API int
pfse_flow_table_update_burst(struct pfse_flow_table *t, struct pfse_pkt *const pkts[],
			     unsigned n, uint32_t flows[], struct pfse_flow_masks *masks)
{
	return update_burst(t, pkts, n, flows, masks, NULL);
}

int
pfse_ft_update_burst_ev(struct pfse_flow_table *t, struct pfse_pkt *const pkts[], unsigned n,
			uint32_t flows[], struct pfse_flow_masks *masks, struct pfse_ft_event ev[])
{
	return update_burst(t, pkts, n, flows, masks, ev);
}

void
pfse_ft_set_node(struct pfse_flow_table *t, uint32_t flow, uint16_t node)
{
	t->hot[flow].dir_node = node;
}

uint64_t
pfse_ft_interval(const struct pfse_flow_table *t)
{
	return t->interval;
}

void *
pfse_ft_slot_fast(struct pfse_flow_table *t, uint32_t flow)
{
	return cold_of(t, flow) + t->slot_off;
}

uint64_t
pfse_ft_bytes(const struct pfse_flow_table *t, uint32_t flow)
{
	const struct ft_hot *r = &t->hot[flow];

	return r->bytes[0] + r->bytes[1];
}

void
pfse_ft_directive_tier_node(const struct pfse_flow_table *t, uint32_t flow, uint8_t *tier,
			    uint8_t *reason, uint16_t *node)
{
	const struct ft_hot *r = &t->hot[flow];

	*tier = r->dir_tier;
	*reason = r->dir_reason;
	*node = r->dir_node;
}

void
pfse_ft_directive(const struct pfse_flow_table *t, uint32_t flow, struct pfse_directive *d)
{
	const struct ft_hot *r = &t->hot[flow];

	d->tier = r->dir_tier;
	d->reason = r->dir_reason;
	d->node = r->dir_node;
	d->reserved = 0;
	d->since = (r->dir_tier != PFSE_TIER_NONE || r->dir_reason != 0)
			   ? (r->first_seen / t->interval + r->dir_since_iv) * t->interval
			   : 0;
}

PFSE_API int
pfse_flow_table_lookup_burst(struct pfse_flow_table *t, const struct pfse_flow_key keys[],
			     unsigned n, uint32_t flows[], uint64_t *hit_mask)
{
	const struct pfse_flow_key *kp[PFSE_BURST_MAX];
	uint32_t b1[PFSE_BURST_MAX], b2[PFSE_BURST_MAX], cand[PFSE_BURST_MAX];
	uint16_t tag[PFSE_BURST_MAX];
	uint8_t cslot[PFSE_BURST_MAX];
	uint64_t hits = 0;
	int found = 0;

	if (!t || n > PFSE_BURST_MAX || (n > 0 && (!keys || !flows)))
		return -EINVAL;
	if (n == 0) {
		if (hit_mask)
			*hit_mask = 0;
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		kp[i] = &keys[i];
	prefetch_burst(t, kp, NULL, n, b1, b2, tag, cand, cslot, false);
	for (unsigned i = 0; i < n; i++) {
		struct ft_bucket *b;
		unsigned s;

		flows[i] = burst_lookup(t, &keys[i], b1[i], b2[i], tag[i], cand[i], cslot[i], &b,
					&s);
		if (flows[i] != PFSE_FLOW_NONE) {
			hits |= 1ull << i;
			found++;
		}
	}
	if (hit_mask)
		*hit_mask = hits;
	return found;
}

PFSE_API int
pfse_flow_table_delete(struct pfse_flow_table *t, uint32_t flow)
{
	struct ft_bucket *b;
	unsigned s;

	if (!t)
		return -EINVAL;
	if (!flow_valid(t, flow) || !find_slot(t, flow, &b, &s))
		return -ENOENT;
	remove_flow(t, flow, b, s);
	t->st.deleted++;
	return 0;
}

/* Bound on the records one expire call examines beyond those it removes (records refiled
 * under a later deadline). Empty wheel slots cost one read each, at most one lap. */
#define EXPIRE_EXAMINE_EXTRA 1024u

PFSE_API int
pfse_flow_table_expire(struct pfse_flow_table *t, uint64_t now, unsigned budget,
		       pfse_flow_remove_fn cb, void *user)
{
	uint64_t now_tick, cutoff;
	unsigned removed = 0, examined = 0;

	if (!t)
		return -EINVAL;
	if (now < t->now)
		now = t->now;
	t->now = now;
	if (!t->wheel_started || budget == 0)
		return 0;
	now_tick = now >> t->tick_shift;
	/* A flow is removed once its deadline lies in a tick wholly past: before the start
	 * of now's tick. Every flow is judged by this one rule, wherever the wheel keeps it. */
	cutoff = now_tick << t->tick_shift;
	/* After a long pause every slot is due: one lap of the wheel visits them all. */
	if (now_tick > t->wheel_tick && now_tick - t->wheel_tick > (uint64_t)t->wheel_mask + 1)
		t->wheel_tick = now_tick - t->wheel_mask - 1;
	/* Ticks strictly before now_tick are wholly in the past. */
	while (t->wheel_tick < now_tick) {
		uint32_t s = (uint32_t)(t->wheel_tick & t->wheel_mask);
		uint32_t head = t->cap + s;

		while (t->wheel[s].next != head) {
			uint32_t f = t->wheel[s].next;
			struct ft_hot *r = &t->hot[f];
			uint64_t dl = deadline_of(t, r);

			if (removed == budget || examined >= budget + EXPIRE_EXAMINE_EXTRA)
				return (int)removed;
			examined++;
			if (dl < cutoff) {
				struct ft_bucket *b;
				unsigned bs;

				if (cb)
					cb(t, f, PFSE_FT_REMOVED_EXPIRED, user);
				if (find_slot(t, f, &b, &bs))
					remove_flow(t, f, b, bs);
				t->st.expired++;
				removed++;
			} else {
				/* Seen since it was filed, or filed beyond the horizon: refile
				 * it under its deadline, which is past this tick. */
				wheel_unlink(t, f);
				wheel_link(t, f, dl);
			}
		}
		t->wheel_tick++;
	}
	return (int)removed;
}

/* The first slot in use in [from, end), through the bitmap, 64 slots a word. */
static inline int
next_used(const struct pfse_flow_table *t, uint32_t from, uint32_t end, uint32_t *out)
{
	for (uint32_t i = from; i < end;) {
		uint64_t w = t->used[i >> 6] >> (i & 63);

		if (w) {
			uint32_t j = i + (uint32_t)__builtin_ctzll(w);

			if (j >= end)
				return 0;
			*out = j;
			return 1;
		}
		i = (i | 63) + 1;
	}
	return 0;
}

int
pfse_ft_scan(struct pfse_flow_table *t, uint32_t *iter, uint32_t max_slots, uint32_t *flow)
{
	uint32_t end = *iter + max_slots < *iter || *iter + max_slots > t->cap ? t->cap
									     : *iter + max_slots;
	uint32_t f;

	if (*iter < end && next_used(t, *iter, end, &f)) {
		*flow = f;
		*iter = f + 1;
		return 0;
	}
	*iter = end > *iter ? end : *iter;
	return *iter >= t->cap ? -ENOENT : -EAGAIN;
}

PFSE_API int
pfse_flow_table_next(struct pfse_flow_table *t, uint32_t *iter, uint32_t *flow)
{
	uint32_t f;

	if (!t || !iter || !flow)
		return -EINVAL;
	if (*iter < t->cap && next_used(t, *iter, t->cap, &f)) {
		*flow = f;
		*iter = f + 1;
		return 0;
	}
	*iter = t->cap;
	return -ENOENT;
}

/* Number of closed intervals the flow has in its series (at most W). */
static uint64_t
series_count(const struct pfse_flow_table *t, const struct ft_hot *r, uint64_t cur)
{
	uint64_t first = r->first_seen / t->interval;
	uint64_t n = cur - first;

	return n < t->series_len ? n : t->series_len;
}

PFSE_API int
pfse_flow_table_info(struct pfse_flow_table *t, uint32_t flow, struct pfse_flow_info *info)
{
	struct pfse_flow_info out;
	const struct ft_hot *r;
	uint64_t cur;

	if (!t || !info || info->size < offsetof(struct pfse_flow_info, packets) ||
	    info->size > PFSE_PARAMS_SIZE_MAX)
		return -EINVAL;
	if (!flow_valid(t, flow))
		return -ENOENT;
	r = &t->hot[flow];
	cur = r->last_seen / t->interval;
	memset(&out, 0, sizeof(out));
	out.size = info->size;
	out.key = r->key;
	out.packets[0] = r->pkts[0];
	out.packets[1] = r->pkts[1];
	out.bytes[0] = r->bytes[0];
	out.bytes[1] = r->bytes[1];
	out.first_seen = r->first_seen;
	out.last_seen = r->last_seen;
	out.cookie = r->cookie;
	out.interval = cur;
	out.open_bytes = r->open_bytes;
	out.open_packets = r->open_pkts;
	out.class_id = r->class_id;
	out.series_count = (uint32_t)series_count(t, r, cur);
	out.tcp_flags = r->tcp_flags;
	out.timeout_kind = (uint8_t)kind_of(r);
	out.bidirectional = (r->state & (S_DIR0 | S_DIR1)) == (S_DIR0 | S_DIR1);
	out.directive.tier = r->dir_tier;
	out.directive.reason = r->dir_reason;
	out.directive.node = r->dir_node;
	if (r->dir_tier != PFSE_TIER_NONE || r->dir_reason != 0)
		out.directive.since = (r->first_seen / t->interval + r->dir_since_iv) * t->interval;
	/* Fields the caller's (possibly older, shorter) struct holds; a longer struct from
	 * a newer caller gets zeros past what this library knows. */
	if (info->size <= sizeof(out)) {
		memcpy(info, &out, info->size);
	} else {
		memcpy(info, &out, sizeof(out));
		memset((uint8_t *)info + sizeof(out), 0, info->size - sizeof(out));
	}
	return 0;
}

PFSE_API int
pfse_flow_table_series(struct pfse_flow_table *t, uint32_t flow, unsigned max,
		       uint64_t bytes[], uint64_t packets[])
{
	const struct ft_hot *r;
	const uint8_t *c;
	uint64_t cur, n;

	if (!t || (max > 0 && !bytes && !packets))
		return -EINVAL;
	if (!flow_valid(t, flow))
		return -ENOENT;
	r = &t->hot[flow];
	cur = r->last_seen / t->interval;
	n = series_count(t, r, cur);
	if (n > max)
		n = max;
	c = cold_of(t, flow);
	for (uint64_t j = 0; j < n; j++) {
		uint64_t k = (cur - n + j) % t->series_len;
		uint32_t b;
		uint16_t p;

		memcpy(&b, c + 4 * k, 4);
		memcpy(&p, c + 4u * t->series_len + 2 * k, 2);
		if (bytes)
			bytes[j] = b;
		if (packets)
			packets[j] = pfse_ft_pkts_decode(p);
	}
	return (int)n;
}

PFSE_API void *
pfse_flow_table_slot(struct pfse_flow_table *t, uint32_t flow)
{
	if (!t || !flow_valid(t, flow))
		return NULL;
	return cold_of(t, flow) + t->slot_off;
}

PFSE_API int
pfse_flow_table_set_cookie(struct pfse_flow_table *t, uint32_t flow, uint64_t cookie)
{
	if (!t)
		return -EINVAL;
	if (!flow_valid(t, flow))
		return -ENOENT;
	t->hot[flow].cookie = cookie;
	return 0;
}

PFSE_API int
pfse_flow_table_set_class(struct pfse_flow_table *t, uint32_t flow, uint32_t class_id)
{
	if (!t || class_id > 0xffff)
		return -EINVAL;
	if (!flow_valid(t, flow))
		return -ENOENT;
	t->hot[flow].class_id = (uint16_t)class_id;
	return 0;
}

PFSE_API int
pfse_flow_table_set_directive(struct pfse_flow_table *t, uint32_t flow,
			      const struct pfse_directive *d)
{
	struct ft_hot *r;

	if (!t || !d || d->reserved != 0)
		return -EINVAL;
	if (!flow_valid(t, flow))
		return -ENOENT;
	r = &t->hot[flow];
	r->dir_tier = d->tier;
	r->dir_reason = d->reason;
	r->dir_node = d->node;
	{
		/* Stored as intervals after the flow's first one, on 32 bits: clamped to
		 * [first interval, first interval + 2^32 - 1]. */
		uint64_t first = r->first_seen / t->interval, iv = d->since / t->interval;

		if (iv < first)
			iv = first;
		if (iv - first > 0xffffffffull)
			iv = first + 0xffffffffull;
		r->dir_since_iv = (uint32_t)(iv - first);
	}
	return 0;
}

PFSE_API int
pfse_flow_table_stats(struct pfse_flow_table *t, struct pfse_flow_table_stats *s)
{
	struct pfse_flow_table_stats out;

	if (!t || !s || s->size < sizeof(size_t) || s->size > PFSE_PARAMS_SIZE_MAX)
		return -EINVAL;
	out = t->st;
	out.size = s->size;
	out.flows = t->nflows;
	out.capacity = t->cap;
	if (s->size <= sizeof(out)) {
		memcpy(s, &out, s->size);
	} else {
		memcpy(s, &out, sizeof(out));
		memset((uint8_t *)s + sizeof(out), 0, s->size - sizeof(out));
	}
	return 0;
}

#ifdef PFSE_TEST_HOOKS
void
pfse_ft_test_force_hash(struct pfse_flow_table *t, int on, uint64_t h)
{
	t->force_hash = on;
	t->forced_hash = h;
}

unsigned
pfse_ft_test_tick_shift(struct pfse_flow_table *t)
{
	return t->tick_shift;
}
#endif
