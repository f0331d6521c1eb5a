/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow table's behaviours, one case each: params and memory geometry, counters and
 * accessors, interval closing (gaps, long gaps, time going backwards), expiry by kind
 * with budgets and callbacks, eviction and refusal in a full table, flood admission,
 * the no-allocation guarantee, allocation failures and every invalid argument.
 *
 * tests/test-flow-table-diff.c compares the table with a reference model on random
 * operation sequences and replays real captures through parser + table.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pfse/pfse.h>

#include "flow_table_priv.h"
#include "test-util.h"

#define MS 1000000ull
#define SEC 1000000000ull

static struct pfse_flow_table *
mktable(uint32_t cap, void (*tweak)(struct pfse_flow_table_params *))
{
	struct pfse_flow_table_params p;
	struct pfse_flow_table *t = NULL;

	pfse_flow_table_params_init(&p);
	p.capacity = cap;
	p.flags = PFSE_FT_F_FIXED_SEED;
	p.seed = 1234;
	if (tweak)
		tweak(&p);
	ck_assert_int_eq(pfse_flow_table_create(&p, &t), 0);
	return t;
}

/* A parsed packet of flow number `id` (IPv4 UDP unless proto says otherwise). */
static void
mkpkt(struct pfse_pkt *p, uint32_t id, uint8_t proto, uint64_t ts, uint32_t len, int reverse)
{
	uint8_t a[4] = { 10, 0, 0, 1 }, b[4];

	memset(p, 0, sizeof(*p));
	b[0] = 10;
	b[1] = (uint8_t)(id >> 16);
	b[2] = (uint8_t)(id >> 8);
	b[3] = (uint8_t)id;
	pfse_flow_key_set(&p->key, PFSE_FAMILY_IPV4, a, b, 1000, 53, proto, 0);
	p->status = PFSE_PARSE_OK;
	p->ts = ts;
	p->wirelen = len;
	p->caplen = len < 64 ? len : 64;
	p->flags = reverse ? PFSE_PKT_F_REVERSE : 0;
}

/* Sends one packet; returns its flow handle. */
static uint32_t
send1(struct pfse_flow_table *t, struct pfse_pkt *p, struct pfse_flow_masks *m)
{
	struct pfse_pkt *pp[1] = { p };
	uint32_t f = 77;
	struct pfse_flow_masks mm;
	int r = pfse_flow_table_update_burst(t, pp, 1, &f, m ? m : &mm);

	ck_assert_int_ge(r, 0);
	ck_assert_int_eq(r, f != PFSE_FLOW_NONE);
	return f;
}

static struct pfse_flow_info
info_of(struct pfse_flow_table *t, uint32_t f)
{
	struct pfse_flow_info i;

	pfse_flow_info_init(&i);
	ck_assert_int_eq(pfse_flow_table_info(t, f, &i), 0);
	return i;
}

static struct pfse_flow_table_stats
stats_of(struct pfse_flow_table *t)
{
	struct pfse_flow_table_stats s;

	pfse_flow_table_stats_init(&s);
	ck_assert_int_eq(pfse_flow_table_stats(t, &s), 0);
	return s;
}

/* ---- params and memory -------------------------------------------------------------- */

START_TEST(params_invalid)
{
	struct pfse_flow_table_params p;
	struct pfse_flow_table *t = (struct pfse_flow_table *)0x1;
	size_t sz;

	pfse_flow_table_params_init(&p);
	ck_assert_int_eq(pfse_flow_table_create(NULL, &t), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_create(&p, NULL), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_memsize(NULL, &sz), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_memsize(&p, NULL), -EINVAL);
#define BAD(field, value)                                                       \
	do {                                                                    \
		pfse_flow_table_params_init(&p);                                \
		p.field = value;                                                \
		ck_assert_int_eq(pfse_flow_table_create(&p, &t), -EINVAL);     \
		ck_assert_int_eq(pfse_flow_table_memsize(&p, &sz), -EINVAL);   \
	} while (0)
	BAD(capacity, PFSE_FT_CAPACITY_MAX + 1);
	BAD(flags, 1u << 9);
	BAD(interval_ns, 999999);
	BAD(interval_ns, 3601 * SEC);
	BAD(series_len, PFSE_FT_SERIES_MAX + 1);
	BAD(slot_size, PFSE_FT_SLOT_MAX + 1);
	BAD(timeout_tcp_ns, 999999);
	BAD(timeout_udp_ns, 86401 * SEC);
	BAD(eviction, 2);
	BAD(size, 0);
	BAD(size, sizeof(size_t));
#undef BAD
	pfse_flow_table_params_init(&p);
	p.flags = PFSE_FT_F_NO_SERIES;
	p.series_len = 4; /* contradicts NO_SERIES */
	ck_assert_int_eq(pfse_flow_table_create(&p, &t), -EINVAL);
	pfse_flow_table_params_init(&p);
	p.allocator.free = count_free_fn;
	ck_assert_int_eq(pfse_flow_table_create(&p, &t), -EINVAL);
	ck_assert_ptr_eq(t, (struct pfse_flow_table *)0x1);
}
END_TEST

/* What memsize reports is what create allocates, all of it at create. */
START_TEST(memsize_is_what_create_allocates)
{
	static const uint32_t caps[] = { 1, 100, 65536, 100000 };
	static const uint32_t ws[] = { 0, 8, 64 };

	for (unsigned i = 0; i < 4; i++) {
		for (unsigned j = 0; j < 3; j++) {
			struct pfse_flow_table_params p;
			struct pfse_flow_table *t = NULL;
			struct count_alloc c = { 0 };
			size_t sz = 0;

			pfse_flow_table_params_init(&p);
			p.capacity = caps[i];
			if (ws[j] == 0)
				p.flags = PFSE_FT_F_NO_SERIES;
			else
				p.series_len = ws[j];
			p.allocator = count_allocator(&c);
			ck_assert_int_eq(pfse_flow_table_memsize(&p, &sz), 0);
			ck_assert_int_eq(pfse_flow_table_create(&p, &t), 0);
			ck_assert_uint_eq(c.bytes, sz);
			pfse_flow_table_destroy(t);
			ck_assert_uint_eq(c.allocs, c.frees);
		}
	}
}
END_TEST

/* The memory target of the issue, as exact arithmetic on the geometry: with a 64-byte
 * slot and W = 8, at most 256 bytes per flow all included, and at most 1.3 times the
 * records (hot + cold parts) in total. */
START_TEST(memory_per_flow)
{
	static const uint32_t caps[] = { 1000000, 4000000 };

	for (unsigned i = 0; i < 2; i++) {
		struct pfse_flow_table_params p;
		size_t sz;

		pfse_flow_table_params_init(&p);
		p.capacity = caps[i];
		p.series_len = 8;
		p.slot_size = 64;
		ck_assert_int_eq(pfse_flow_table_memsize(&p, &sz), 0);
		ck_assert_uint_le(sz, 256ull * caps[i]);
		/* records: 128 hot + 8 * 6 series + 64 slot = 240 bytes */
		ck_assert_uint_le(sz * 10, 13ull * 240 * caps[i]);
	}
}
END_TEST

START_TEST(alloc_failure_injection)
{
	struct pfse_flow_table_params p;
	struct count_alloc probe = { 0 };
	struct pfse_flow_table *t = NULL;

	pfse_flow_table_params_init(&p);
	p.capacity = 1000;
	p.allocator = count_allocator(&probe);
	ck_assert_int_eq(pfse_flow_table_create(&p, &t), 0);
	pfse_flow_table_destroy(t);
	for (unsigned long k = 1; k <= probe.calls; k++) {
		struct count_alloc c = { 0 };

		c.fail_at = k;
		p.allocator = count_allocator(&c);
		t = (struct pfse_flow_table *)0x1;
		ck_assert_int_eq(pfse_flow_table_create(&p, &t), -ENOMEM);
		ck_assert_ptr_eq(t, (struct pfse_flow_table *)0x1);
		ck_assert_uint_eq(c.allocs, c.frees);
	}
}
END_TEST

/* ---- counters and accessors ---------------------------------------------------------- */

START_TEST(counters_and_accessors)
{
	struct pfse_flow_table *t = mktable(100, NULL);
	struct pfse_pkt p;
	struct pfse_flow_masks m;
	struct pfse_flow_info i;
	struct pfse_directive d = { 2, 9, 5, 0, 11234 * MS };
	uint32_t f, g;
	uint8_t *slot;

	mkpkt(&p, 1, 6, 10 * SEC, 100, 0);
	p.tcp_flags = 0x02; /* SYN */
	f = send1(t, &p, &m);
	ck_assert_uint_ne(f, PFSE_FLOW_NONE);
	ck_assert_uint_eq(m.tracked, 1);
	ck_assert_uint_eq(m.created, 1);
	ck_assert_uint_eq(m.samples, 0);
	mkpkt(&p, 1, 6, 10 * SEC + 5 * MS, 60, 1);
	p.tcp_flags = 0x12; /* SYN-ACK, reverse */
	g = send1(t, &p, &m);
	ck_assert_uint_eq(g, f);
	ck_assert_uint_eq(m.created, 0);
	mkpkt(&p, 1, 6, 10 * SEC + 7 * MS, 0, 0); /* wirelen 0: caplen counts */
	p.caplen = 40;
	p.tcp_flags = 0x10;
	send1(t, &p, NULL);
	i = info_of(t, f);
	ck_assert_uint_eq(i.packets[0], 2);
	ck_assert_uint_eq(i.packets[1], 1);
	ck_assert_uint_eq(i.bytes[0], 140);
	ck_assert_uint_eq(i.bytes[1], 60);
	ck_assert_uint_eq(i.first_seen, 10 * SEC);
	ck_assert_uint_eq(i.last_seen, 10 * SEC + 7 * MS);
	ck_assert_uint_eq(i.tcp_flags, 0x12);
	ck_assert_uint_eq(i.timeout_kind, PFSE_FT_TIMEOUT_TCP);
	ck_assert_uint_eq(i.bidirectional, 1);
	ck_assert_uint_eq(i.interval, 100);
	ck_assert_uint_eq(i.open_packets, 3);
	ck_assert_uint_eq(i.open_bytes, 200);
	ck_assert_uint_eq(i.series_count, 0);
	ck_assert_uint_eq(i.cookie, 0);
	ck_assert_uint_eq(i.class_id, 0);
	ck_assert_uint_eq(i.directive.tier, PFSE_TIER_NONE);
	ck_assert_uint_eq(i.directive.node, PFSE_NODE_ANY);
	ck_assert_uint_eq(i.directive.since, 0);
	/* Setters. */
	ck_assert_int_eq(pfse_flow_table_set_cookie(t, f, 0xfeedull << 32), 0);
	ck_assert_int_eq(pfse_flow_table_set_class(t, f, 65535), 0);
	ck_assert_int_eq(pfse_flow_table_set_directive(t, f, &d), 0);
	i = info_of(t, f);
	ck_assert_uint_eq(i.cookie, 0xfeedull << 32);
	ck_assert_uint_eq(i.class_id, 65535);
	ck_assert_uint_eq(i.directive.tier, 2);
	ck_assert_uint_eq(i.directive.reason, 9);
	ck_assert_uint_eq(i.directive.node, 5);
	ck_assert_uint_eq(i.directive.since, 11200 * MS); /* rounded to its interval */
	d.since = 5 * SEC; /* before the flow began: clamped to its first interval */
	ck_assert_int_eq(pfse_flow_table_set_directive(t, f, &d), 0);
	ck_assert_uint_eq(info_of(t, f).directive.since, 10 * SEC);
	d.since = 11234 * MS;
	ck_assert_int_eq(pfse_flow_table_set_directive(t, f, &d), 0);
	/* The slot: zero at creation, the caller's afterwards. */
	slot = pfse_flow_table_slot(t, f);
	ck_assert_ptr_nonnull(slot);
	for (unsigned k = 0; k < 64; k++)
		ck_assert_uint_eq(slot[k], 0);
	memset(slot, 0xab, 64);
	ck_assert_uint_eq(((uint8_t *)pfse_flow_table_slot(t, f))[63], 0xab);
	/* FIN: the closing timeout. */
	mkpkt(&p, 1, 6, 11 * SEC, 60, 0);
	p.tcp_flags = 0x11;
	send1(t, &p, NULL);
	ck_assert_uint_eq(info_of(t, f).timeout_kind, PFSE_FT_TIMEOUT_TCP_CLOSING);
	/* Kinds by protocol. */
	mkpkt(&p, 2, 17, 11 * SEC, 60, 0);
	ck_assert_uint_eq(info_of(t, send1(t, &p, NULL)).timeout_kind, PFSE_FT_TIMEOUT_UDP);
	mkpkt(&p, 3, 1, 11 * SEC, 60, 0);
	ck_assert_uint_eq(info_of(t, send1(t, &p, NULL)).timeout_kind, PFSE_FT_TIMEOUT_OTHER);
	mkpkt(&p, 4, 6, 11 * SEC, 60, 0);
	p.tcp_flags = 0x04; /* RST first */
	ck_assert_uint_eq(info_of(t, send1(t, &p, NULL)).timeout_kind,
			  PFSE_FT_TIMEOUT_TCP_CLOSING);
	ck_assert_uint_eq(stats_of(t).flows, 4);
	pfse_flow_table_destroy(t);
}
END_TEST

START_TEST(unparsed_not_tracked)
{
	struct pfse_flow_table *t = mktable(100, NULL);
	struct pfse_pkt a, b;
	struct pfse_pkt *pp[2] = { &a, &b };
	uint32_t f[2];
	struct pfse_flow_masks m;
	struct pfse_flow_table_stats s;

	mkpkt(&a, 1, 17, SEC, 100, 0);
	mkpkt(&b, 2, 17, SEC, 100, 0);
	b.status = PFSE_PARSE_ERR_L3_TRUNCATED;
	ck_assert_int_eq(pfse_flow_table_update_burst(t, pp, 2, f, &m), 1);
	ck_assert_uint_ne(f[0], PFSE_FLOW_NONE);
	ck_assert_uint_eq(f[1], PFSE_FLOW_NONE);
	ck_assert_uint_eq(m.tracked, 1);
	s = stats_of(t);
	ck_assert_uint_eq(s.packets, 2);
	ck_assert_uint_eq(s.unparsed, 1);
	ck_assert_uint_eq(s.untracked, 1);
	ck_assert_uint_eq(s.created, 1);
	pfse_flow_table_destroy(t);
}
END_TEST

/* A burst holding several packets of one new flow creates it once. */
START_TEST(burst_same_flow)
{
	struct pfse_flow_table *t = mktable(100, NULL);
	struct pfse_pkt p[PFSE_BURST_MAX];
	struct pfse_pkt *pp[PFSE_BURST_MAX];
	uint32_t f[PFSE_BURST_MAX];
	struct pfse_flow_masks m;

	for (unsigned i = 0; i < PFSE_BURST_MAX; i++) {
		mkpkt(&p[i], i % 3, 17, SEC + i, 10, (int)(i & 1));
		pp[i] = &p[i];
	}
	ck_assert_int_eq(pfse_flow_table_update_burst(t, pp, PFSE_BURST_MAX, f, &m),
			 PFSE_BURST_MAX);
	ck_assert_uint_eq(m.tracked, ~0ull);
	ck_assert_uint_eq(m.created, 7); /* packets 0, 1, 2 */
	for (unsigned i = 3; i < PFSE_BURST_MAX; i++)
		ck_assert_uint_eq(f[i], f[i % 3]);
	ck_assert_uint_eq(info_of(t, f[0]).packets[0] + info_of(t, f[0]).packets[1], 22);
	ck_assert_uint_eq(stats_of(t).flows, 3);
	pfse_flow_table_destroy(t);
}
END_TEST

/* ---- intervals ----------------------------------------------------------------------- */

static void
series_of(struct pfse_flow_table *t, uint32_t f, unsigned want, const uint64_t *bytes,
	  const uint64_t *pkts)
{
	uint64_t b[PFSE_FT_SERIES_MAX], p[PFSE_FT_SERIES_MAX];
	int n = pfse_flow_table_series(t, f, PFSE_FT_SERIES_MAX, b, p);

	ck_assert_int_eq(n, (int)want);
	for (unsigned i = 0; i < want; i++) {
		ck_assert_uint_eq(b[i], bytes[i]);
		ck_assert_uint_eq(p[i], pkts[i]);
	}
}

static void
w4(struct pfse_flow_table_params *p)
{
	p->series_len = 4;
}

START_TEST(intervals_close)
{
	struct pfse_flow_table *t = mktable(10, w4);
	struct pfse_pkt p;
	struct pfse_flow_masks m;
	uint32_t f;

	/* interval 100 ms: two packets in interval 10, one in 11, one in 14 */
	mkpkt(&p, 1, 17, 1000 * MS, 100, 0);
	f = send1(t, &p, &m);
	mkpkt(&p, 1, 17, 1099 * MS, 50, 1);
	send1(t, &p, &m);
	ck_assert_uint_eq(m.samples, 0);
	mkpkt(&p, 1, 17, 1100 * MS, 10, 0);
	send1(t, &p, &m);
	ck_assert_uint_eq(m.samples, 1);
	{
		static const uint64_t b[] = { 150 }, k[] = { 2 };

		series_of(t, f, 1, b, k);
	}
	mkpkt(&p, 1, 17, 1450 * MS, 20, 0);
	send1(t, &p, &m);
	ck_assert_uint_eq(m.samples, 1);
	{
		/* 10: 150/2, 11: 10/1, 12 and 13 silent */
		static const uint64_t b[] = { 150, 10, 0, 0 }, k[] = { 2, 1, 0, 0 };

		series_of(t, f, 4, b, k);
	}
	ck_assert_uint_eq(info_of(t, f).series_count, 4);
	ck_assert_uint_eq(info_of(t, f).open_bytes, 20);
	/* A gap longer than W: every sample of the window is zero. */
	mkpkt(&p, 1, 17, 5000 * MS, 7, 0);
	send1(t, &p, &m);
	{
		static const uint64_t z[] = { 0, 0, 0, 0 };

		series_of(t, f, 4, z, z);
	}
	/* Fewer outputs than samples: the most recent ones. */
	{
		uint64_t b[2];

		mkpkt(&p, 1, 17, 5100 * MS, 1, 0);
		send1(t, &p, &m);
		ck_assert_int_eq(pfse_flow_table_series(t, f, 2, b, NULL), 2);
		ck_assert_uint_eq(b[0], 0);
		ck_assert_uint_eq(b[1], 7);
	}
	ck_assert_uint_eq(stats_of(t).samples, 1 + 3 + 36 + 1);
	pfse_flow_table_destroy(t);
}
END_TEST

START_TEST(time_goes_backwards)
{
	struct pfse_flow_table *t = mktable(10, NULL);
	struct pfse_pkt p;
	struct pfse_flow_masks m;
	struct pfse_flow_info i;
	uint32_t f;

	mkpkt(&p, 1, 17, 50 * SEC, 100, 0);
	f = send1(t, &p, &m);
	mkpkt(&p, 1, 17, 10 * SEC, 100, 0); /* 40 s in the past */
	send1(t, &p, &m);
	ck_assert_uint_eq(m.samples, 0);
	i = info_of(t, f);
	ck_assert_uint_eq(i.last_seen, 50 * SEC); /* clamped, never earlier */
	ck_assert_uint_eq(i.packets[0], 2);
	ck_assert_uint_eq(stats_of(t).clamped, 1);
	/* A new flow in the past starts at the table's time. */
	mkpkt(&p, 2, 17, 0, 100, 0);
	f = send1(t, &p, &m);
	ck_assert_uint_eq(info_of(t, f).first_seen, 50 * SEC);
	/* expire() earlier than the table's time is clamped too: nothing underflows. */
	ck_assert_int_eq(pfse_flow_table_expire(t, 0, 100, NULL, NULL), 0);
	pfse_flow_table_destroy(t);
}
END_TEST

START_TEST(packet_count_encoding)
{
	/* Exact below 2048, then within 1/2048, monotone. */
	uint64_t prev = 0;

	for (uint64_t v = 0; v < 5000; v++)
		ck_assert_uint_eq(pfse_ft_pkts_decode(pfse_ft_pkts_encode(v)),
				  v < 2048 ? v : v & ~(v < 4096 ? 0ull : (1ull << ((63 -
				  __builtin_clzll(v)) - 11)) - 1));
	for (uint64_t v = 2048; v < (1ull << 42); v = v * 3 / 2 + 7) {
		uint64_t d = pfse_ft_pkts_decode(pfse_ft_pkts_encode(v));

		ck_assert_uint_le(d, v);
		ck_assert_uint_ge(d * 2049 / 2048 + 1, v);
		ck_assert_uint_ge(d, prev);
		prev = d;
	}
	ck_assert_uint_eq(pfse_ft_pkts_encode(~0ull), 0xffff);
}
END_TEST

/* ---- expiry ---------------------------------------------------------------------------- */

struct expired_log {
	uint32_t flows[64];
	uint64_t last_seen[64];
	unsigned n;
};

static void
on_expired(struct pfse_flow_table *t, uint32_t flow, uint32_t cause, void *user)
{
	struct expired_log *log = user;
	struct pfse_flow_info i;

	ck_assert_uint_eq(cause, PFSE_FT_REMOVED_EXPIRED);
	/* The flow is still readable during the callback. */
	pfse_flow_info_init(&i);
	ck_assert_int_eq(pfse_flow_table_info(t, flow, &i), 0);
	if (log->n < 64) {
		log->flows[log->n] = flow;
		log->last_seen[log->n] = i.last_seen;
	}
	log->n++;
}

static void
timeouts(struct pfse_flow_table_params *p)
{
	p->timeout_tcp_ns = 60 * SEC;
	p->timeout_tcp_closing_ns = 5 * SEC;
	p->timeout_udp_ns = 20 * SEC;
	p->timeout_other_ns = 10 * SEC;
}

START_TEST(expiry_by_kind)
{
	struct pfse_flow_table *t = mktable(100, timeouts);
	struct expired_log log = { .n = 0 };
	struct pfse_pkt p;
	uint32_t tcp, udp, icmp, fin;
	unsigned shift = pfse_ft_test_tick_shift(t);
	uint64_t tick = 1ull << shift;

	mkpkt(&p, 1, 6, 100 * SEC, 60, 0);
	tcp = send1(t, &p, NULL);
	mkpkt(&p, 2, 17, 100 * SEC, 60, 0);
	udp = send1(t, &p, NULL);
	mkpkt(&p, 3, 1, 100 * SEC, 60, 0);
	icmp = send1(t, &p, NULL);
	mkpkt(&p, 4, 6, 100 * SEC, 60, 0);
	fin = send1(t, &p, NULL);
	mkpkt(&p, 4, 6, 101 * SEC, 60, 1);
	p.tcp_flags = 0x01;
	send1(t, &p, NULL);
	/* Nothing is due before its timeout... */
	ck_assert_int_eq(pfse_flow_table_expire(t, 105 * SEC, 100, on_expired, &log), 0);
	/* ...and every flow within one tick after it. */
	ck_assert_int_eq(pfse_flow_table_expire(t, 106 * SEC + tick, 100, on_expired, &log), 1);
	ck_assert_uint_eq(log.flows[0], fin);
	ck_assert_int_eq(pfse_flow_table_expire(t, 110 * SEC + tick, 100, on_expired, &log), 1);
	ck_assert_uint_eq(log.flows[1], icmp);
	ck_assert_int_eq(pfse_flow_table_expire(t, 120 * SEC + tick, 100, on_expired, &log), 1);
	ck_assert_uint_eq(log.flows[2], udp);
	/* A packet refreshes: the TCP flow's deadline moves. */
	mkpkt(&p, 1, 6, 150 * SEC, 60, 0);
	send1(t, &p, NULL);
	ck_assert_int_eq(pfse_flow_table_expire(t, 160 * SEC + tick, 100, on_expired, &log), 0);
	ck_assert_int_eq(pfse_flow_table_expire(t, 210 * SEC + tick, 100, on_expired, &log), 1);
	ck_assert_uint_eq(log.flows[3], tcp);
	ck_assert_uint_eq(log.last_seen[3], 150 * SEC);
	ck_assert_uint_eq(stats_of(t).flows, 0);
	ck_assert_uint_eq(stats_of(t).expired, 4);
	pfse_flow_table_destroy(t);
}
END_TEST

START_TEST(expiry_budget_and_pause)
{
	struct pfse_flow_table *t = mktable(5000, timeouts);
	struct pfse_pkt p;
	unsigned total = 0;
	int r;

	for (uint32_t i = 0; i < 3000; i++) {
		mkpkt(&p, i, 17, 100 * SEC + i * MS, 60, 0);
		send1(t, &p, NULL);
	}
	ck_assert_uint_eq(stats_of(t).flows, 3000);
	/* A day later: everything is due, removed at most `budget` per call. */
	do {
		r = pfse_flow_table_expire(t, 86400 * SEC, 64, NULL, NULL);
		ck_assert_int_ge(r, 0);
		ck_assert_int_le(r, 64);
		total += (unsigned)r;
	} while (r > 0);
	ck_assert_uint_eq(total, 3000);
	ck_assert_uint_eq(stats_of(t).flows, 0);
	ck_assert_int_eq(pfse_flow_table_expire(t, 86400 * SEC, 0, NULL, NULL), 0);
	/* The freed records are reused. */
	for (uint32_t i = 0; i < 5000; i++) {
		mkpkt(&p, i + 10000, 17, 86401 * SEC, 60, 0);
		ck_assert_uint_ne(send1(t, &p, NULL), PFSE_FLOW_NONE);
	}
	pfse_flow_table_destroy(t);
}
END_TEST

static void
tweak_pkt_hash(struct pfse_flow_table_params *p)
{
	p->flags |= PFSE_FT_F_PKT_HASH;
}

/* Bursts of 32 packets of 3000 flows (a fixed pseudo-random order) through two tables of
 * seed 1234, one taking the packets' hashes (`seed`'s, PFSE_PKT_F_HASH); packet `bad` of
 * every burst (if below 32) carries a hash of seed 99 instead. Returns how many packets
 * got a different flow handle in the two tables; *mismatch: the second table's
 * hash_mismatch. */
static unsigned
pkt_hash_run(uint64_t seed, unsigned bad, uint64_t *mismatch)
{
	struct pfse_flow_table *plain = mktable(8192, NULL), *ph = mktable(8192, tweak_pkt_hash);
	struct pfse_flow_table_stats sa, sb;
	uint64_t r = 88172645463325252ull;
	unsigned differ = 0;

	for (unsigned b = 0; b < 500; b++) {
		struct pfse_pkt pk[32], *pp[32];
		uint32_t fa[32], fb[32];
		struct pfse_flow_masks m;

		for (unsigned i = 0; i < 32; i++) {
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			mkpkt(&pk[i], (uint32_t)(r % 3000), 17, SEC + b * MS, 100, 0);
			ck_assert_int_eq(pfse_flow_key_hash(&pk[i].key, i == bad ? 99 : seed,
							    &pk[i].hash),
					 0);
			pk[i].flags |= PFSE_PKT_F_HASH;
			pp[i] = &pk[i];
		}
		ck_assert_int_eq(pfse_flow_table_update_burst(plain, pp, 32, fa, &m), 32);
		ck_assert_int_eq(pfse_flow_table_update_burst(ph, pp, 32, fb, &m), 32);
		for (unsigned i = 0; i < 32; i++)
			differ += fa[i] != fb[i];
	}
	pfse_flow_table_stats_init(&sa);
	pfse_flow_table_stats_init(&sb);
	ck_assert_int_eq(pfse_flow_table_stats(plain, &sa), 0);
	ck_assert_int_eq(pfse_flow_table_stats(ph, &sb), 0);
	ck_assert_uint_eq(sa.hash_mismatch, 0);
	*mismatch = sb.hash_mismatch;
	pfse_flow_table_destroy(plain);
	pfse_flow_table_destroy(ph);
	return differ;
}

START_TEST(packet_hashes)
{
	uint64_t mm;

	/* the table's own hashes: the same flows as hashing the keys, nothing counted */
	ck_assert_uint_eq(pkt_hash_run(1234, 32, &mm), 0);
	ck_assert_uint_eq(mm, 0);
	/* another seed's: every burst caught on its first packet, hashed by the table */
	ck_assert_uint_eq(pkt_hash_run(99, 32, &mm), 0);
	ck_assert_uint_eq(mm, 500);
	/* one wrong hash after the checked first packet is taken as it is (the hashes are
	 * used, not recomputed): that packet's flow is looked up elsewhere */
	ck_assert_uint_gt(pkt_hash_run(1234, 5, &mm), 0);
	ck_assert_uint_eq(mm, 0);
	/* the flag needs a fixed seed */
	{
		struct pfse_flow_table_params p;
		struct pfse_flow_table *t = NULL;

		pfse_flow_table_params_init(&p);
		p.capacity = 64;
		p.flags = PFSE_FT_F_PKT_HASH;
		ck_assert_int_eq(pfse_flow_table_create(&p, &t), -EINVAL);
		ck_assert_ptr_null(t);
	}
}
END_TEST

START_TEST(delete_and_iterate)
{
	struct pfse_flow_table *t = mktable(100, NULL);
	struct pfse_pkt p;
	uint32_t f[10], it = 0, g, seen = 0;
	uint64_t keysum = 0;

	for (uint32_t i = 0; i < 10; i++) {
		mkpkt(&p, i, 17, SEC, 60, 0);
		f[i] = send1(t, &p, NULL);
	}
	ck_assert_int_eq(pfse_flow_table_delete(t, f[3]), 0);
	ck_assert_int_eq(pfse_flow_table_delete(t, f[3]), -ENOENT);
	ck_assert_ptr_null(pfse_flow_table_slot(t, f[3]));
	while (pfse_flow_table_next(t, &it, &g) == 0) {
		ck_assert_uint_ne(g, f[3]);
		keysum += info_of(t, g).key.dst[3];
		seen++;
		if (g == f[5])
			ck_assert_int_eq(pfse_flow_table_delete(t, g), 0); /* allowed */
	}
	ck_assert_uint_eq(seen, 9);
	ck_assert_uint_eq(keysum, 45 - 3);
	ck_assert_int_eq(pfse_flow_table_next(t, &it, &g), -ENOENT);
	ck_assert_uint_eq(stats_of(t).flows, 8);
	ck_assert_uint_eq(stats_of(t).deleted, 2);
	/* Lookups see the deletions. */
	{
		struct pfse_flow_key k[3];
		uint32_t out[3];
		uint64_t hit;

		k[0] = info_of(t, f[0]).key;
		mkpkt(&p, 3, 17, SEC, 60, 0);
		k[1] = p.key;
		mkpkt(&p, 9, 17, SEC, 60, 0);
		k[2] = p.key;
		ck_assert_int_eq(pfse_flow_table_lookup_burst(t, k, 3, out, &hit), 2);
		ck_assert_uint_eq(hit, 5);
		ck_assert_uint_eq(out[0], f[0]);
		ck_assert_uint_eq(out[1], PFSE_FLOW_NONE);
		ck_assert_uint_eq(out[2], f[9]);
	}
	pfse_flow_table_destroy(t);
}
END_TEST

/* ---- full table, eviction, floods ------------------------------------------------------- */

struct evict_log {
	unsigned n;
	uint32_t last;
	uint64_t last_dst;
};

static void
on_evicted(struct pfse_flow_table *t, uint32_t flow, uint32_t cause, void *user)
{
	struct evict_log *log = user;
	struct pfse_flow_info i;

	ck_assert_uint_eq(cause, PFSE_FT_REMOVED_EVICTED);
	pfse_flow_info_init(&i);
	ck_assert_int_eq(pfse_flow_table_info(t, flow, &i), 0);
	log->n++;
	log->last = flow;
	log->last_dst = i.key.dst[3];
}

static struct evict_log elog;

static void
with_evict_cb(struct pfse_flow_table_params *p)
{
	p->on_evict = on_evicted;
	p->on_evict_user = &elog;
	p->new_flow_rate = 0xffffffffu;
}

/* Capacity 8: the ninth flow evicts the least recently seen. */
START_TEST(full_table_evicts_lru)
{
	struct pfse_flow_table *t;
	struct pfse_pkt p;
	struct pfse_flow_masks m;
	uint32_t f[9];

	memset(&elog, 0, sizeof(elog));
	t = mktable(8, with_evict_cb);
	for (uint32_t i = 0; i < 8; i++) {
		mkpkt(&p, i, 17, (100 + i) * SEC, 60, 0);
		f[i] = send1(t, &p, NULL);
	}
	/* Refresh all but flow 2. */
	for (uint32_t i = 0; i < 8; i++) {
		if (i == 2)
			continue;
		mkpkt(&p, i, 17, 120 * SEC, 60, 0);
		send1(t, &p, NULL);
	}
	mkpkt(&p, 8, 17, 121 * SEC, 60, 0);
	f[8] = send1(t, &p, &m);
	ck_assert_uint_ne(f[8], PFSE_FLOW_NONE);
	ck_assert_uint_eq(m.evicted, 1);
	ck_assert_uint_eq(elog.n, 1);
	ck_assert_uint_eq(elog.last, f[2]);
	ck_assert_uint_eq(elog.last_dst, 2);
	ck_assert_uint_eq(stats_of(t).evicted, 1);
	ck_assert_uint_eq(stats_of(t).flows, 8);
	pfse_flow_table_destroy(t);
}
END_TEST

static void
refuse(struct pfse_flow_table_params *p)
{
	p->eviction = PFSE_FT_EVICT_REFUSE;
}

START_TEST(full_table_refuses)
{
	struct pfse_flow_table *t = mktable(8, refuse);
	struct pfse_pkt p;
	struct pfse_flow_masks m;

	for (uint32_t i = 0; i < 8; i++) {
		mkpkt(&p, i, 17, SEC, 60, 0);
		ck_assert_uint_ne(send1(t, &p, NULL), PFSE_FLOW_NONE);
	}
	mkpkt(&p, 8, 17, 2 * SEC, 60, 0);
	ck_assert_uint_eq(send1(t, &p, &m), PFSE_FLOW_NONE);
	ck_assert_uint_eq(m.tracked, 0);
	ck_assert_uint_eq(stats_of(t).refused_full, 1);
	ck_assert_uint_eq(stats_of(t).untracked, 1);
	/* Existing flows are untouched and still updated. */
	mkpkt(&p, 0, 17, 3 * SEC, 60, 0);
	ck_assert_uint_ne(send1(t, &p, NULL), PFSE_FLOW_NONE);
	pfse_flow_table_destroy(t);
}
END_TEST

/* Hostile keys all hash alike: only 16 slots are reachable, lookups stay correct. */
START_TEST(adversarial_same_hash)
{
	struct pfse_flow_table *t;
	struct pfse_pkt p;
	uint32_t f[40];

	memset(&elog, 0, sizeof(elog));
	t = mktable(1000, with_evict_cb);
	pfse_ft_test_force_hash(t, 1, 0x0123456789abcdefull);
	for (uint32_t i = 0; i < 16; i++) {
		mkpkt(&p, i, 17, (10 + i) * SEC, 60, 0);
		f[i] = send1(t, &p, NULL);
	}
	ck_assert_uint_eq(elog.n, 0);
	for (uint32_t i = 0; i < 16; i++) {
		mkpkt(&p, i, 17, 30 * SEC, 60, 0);
		ck_assert_uint_eq(send1(t, &p, NULL), f[i]);
	}
	/* Each further key evicts one of the 16; the table never holds more of them. */
	for (uint32_t i = 16; i < 40; i++) {
		mkpkt(&p, i, 17, (40 + i) * SEC, 60, 0);
		f[i] = send1(t, &p, NULL);
		ck_assert_uint_ne(f[i], PFSE_FLOW_NONE);
	}
	ck_assert_uint_eq(elog.n, 24);
	ck_assert_uint_eq(stats_of(t).flows, 16);
	/* A burst of the 16 resident flows and a new one: none of the 16 may be evicted (their
	 * handles were just returned), so the new flow is refused. */
	{
		struct pfse_pkt q[17], *qq[17];
		uint32_t g[17];
		struct pfse_flow_masks m;

		for (uint32_t i = 0; i < 17; i++) {
			mkpkt(&q[i], i < 16 ? 24 + i : 99, 17, 90 * SEC, 60, 0);
			qq[i] = &q[i];
		}
		ck_assert_int_eq(pfse_flow_table_update_burst(t, qq, 17, g, &m), 16);
		ck_assert_uint_eq(g[16], PFSE_FLOW_NONE);
		ck_assert_uint_eq(m.evicted, 0);
		for (uint32_t i = 0; i < 16; i++)
			ck_assert_uint_eq(g[i], f[24 + i]);
	}
	/* The 16 most recent are exactly the ones found. */
	for (uint32_t i = 0; i < 40; i++) {
		struct pfse_flow_key k;
		uint32_t g;

		mkpkt(&p, i, 17, 0, 60, 0);
		k = p.key;
		ck_assert_int_eq(pfse_flow_table_lookup_burst(t, &k, 1, &g, NULL), i >= 24);
	}
	pfse_flow_table_destroy(t);
}
END_TEST

static void
flood_params(struct pfse_flow_table_params *p)
{
	p->new_flow_rate = 15;
}

/* A live (bidirectional) TCP connection or a one-way SYN, number i, at time ts. */
static uint32_t
connection(struct pfse_flow_table *t, uint32_t i, uint64_t ts, int live)
{
	struct pfse_pkt p;
	uint32_t f;

	mkpkt(&p, i, 6, ts, 60, 0);
	p.tcp_flags = 0x02;
	f = send1(t, &p, NULL);
	if (live) {
		mkpkt(&p, i, 6, ts, 60, 1);
		p.tcp_flags = 0x12;
		ck_assert_uint_eq(send1(t, &p, NULL), f);
	}
	return f;
}

/* In full slots, eviction takes one-way flows first, however recent: a SYN flood at any
 * rate displaces its own SYNs, never the live connections beside them. */
START_TEST(eviction_prefers_one_way)
{
	struct pfse_flow_table *t;
	uint32_t live[8];

	memset(&elog, 0, sizeof(elog));
	t = mktable(1000, with_evict_cb);
	pfse_ft_test_force_hash(t, 1, 42);
	for (uint32_t i = 0; i < 16; i++) {
		uint32_t f = connection(t, i, (10 + i) * SEC, i < 8); /* live ones oldest */

		if (i < 8)
			live[i] = f;
	}
	for (uint32_t i = 0; i < 200; i++)
		connection(t, 1000 + i, 100 * SEC + i * MS, 0);
	ck_assert_uint_eq(elog.n, 200);
	for (uint32_t i = 0; i < 8; i++)
		ck_assert_uint_eq(info_of(t, live[i]).bidirectional, 1);
	ck_assert_uint_eq(stats_of(t).flows, 16);
	pfse_flow_table_destroy(t);
}
END_TEST

/* Past new_flow_rate creations in a second, a new flow whose slots hold only live
 * connections is refused; the next second it may evict the least recently seen. */
START_TEST(flood_refuses_to_displace_live)
{
	struct pfse_flow_table *t = mktable(1000, flood_params);
	uint32_t live[16];
	struct pfse_flow_table_stats s;
	struct pfse_pkt p;

	pfse_ft_test_force_hash(t, 1, 42);
	/* 16 live connections, 15 of them created within one second: the rate is reached.
	 * (The first is seconds older: ages are coarse, tens of milliseconds here.) */
	live[0] = connection(t, 0, 5 * SEC, 1);
	for (uint32_t i = 1; i < 16; i++)
		live[i] = connection(t, i, 10 * SEC + i * MS, 1);
	for (uint32_t i = 0; i < 100; i++) {
		mkpkt(&p, 1000 + i, 6, 10 * SEC + 100 * MS + i * MS, 60, 0);
		p.tcp_flags = 0x02;
		ck_assert_uint_eq(send1(t, &p, NULL), PFSE_FLOW_NONE);
	}
	s = stats_of(t);
	ck_assert_uint_eq(s.refused_flood, 100);
	ck_assert_uint_eq(s.flood_packets, 100);
	ck_assert_uint_eq(s.evicted, 0);
	for (uint32_t i = 0; i < 16; i++)
		ck_assert_uint_eq(info_of(t, live[i]).bidirectional, 1);
	/* A second later, below the rate again: the least recently seen live one goes (and
	 * its record, so its handle, serves the new flow). */
	{
		struct pfse_flow_key k0 = info_of(t, live[0]).key;
		uint32_t g;

		mkpkt(&p, 5000, 6, 12 * SEC, 60, 0);
		ck_assert_uint_eq(send1(t, &p, NULL), live[0]);
		ck_assert_int_eq(pfse_flow_table_lookup_burst(t, &k0, 1, &g, NULL), 0);
		ck_assert_uint_eq(g, PFSE_FLOW_NONE);
		ck_assert_uint_eq(stats_of(t).evicted, 1);
	}
	pfse_flow_table_destroy(t);
}
END_TEST

/* ---- the packet path allocates nothing ------------------------------------------------- */

START_TEST(no_allocation_after_create)
{
	struct pfse_flow_table_params prm;
	struct pfse_flow_table *t = NULL;
	struct count_alloc c = { 0 };
	static struct pfse_pkt p[PFSE_BURST_MAX];
	struct pfse_pkt *pp[PFSE_BURST_MAX];
	uint32_t f[PFSE_BURST_MAX];
	unsigned long calls;

	pfse_flow_table_params_init(&prm);
	prm.capacity = 500;
	prm.allocator = count_allocator(&c);
	ck_assert_int_eq(pfse_flow_table_create(&prm, &t), 0);
	calls = c.calls;
	for (unsigned r = 0; r < 200; r++) {
		struct pfse_flow_key k[PFSE_BURST_MAX];
		uint32_t it = 0, g;

		for (unsigned i = 0; i < PFSE_BURST_MAX; i++) {
			mkpkt(&p[i], (r * 37 + i * 11) % 900, i & 1 ? 6 : 17,
			      (uint64_t)r * 50 * MS, 100, (int)(i & 2));
			pp[i] = &p[i];
			k[i] = p[i].key;
		}
		ck_assert_int_ge(pfse_flow_table_update_burst(t, pp, PFSE_BURST_MAX, f, NULL), 0);
		ck_assert_int_ge(pfse_flow_table_lookup_burst(t, k, PFSE_BURST_MAX, f, NULL), 0);
		ck_assert_int_ge(pfse_flow_table_expire(t, (uint64_t)r * 50 * MS, 8, NULL, NULL),
				 0);
		if (pfse_flow_table_next(t, &it, &g) == 0)
			pfse_flow_table_delete(t, g);
	}
	ck_assert_uint_eq(c.calls, calls);
	pfse_flow_table_destroy(t);
	ck_assert_uint_eq(c.allocs, c.frees);
}
END_TEST

/* ---- invalid arguments ------------------------------------------------------------------ */

START_TEST(invalid_arguments)
{
	struct pfse_flow_table *t = mktable(10, NULL);
	struct pfse_pkt p, *pp[PFSE_BURST_MAX + 1];
	struct pfse_flow_key k[PFSE_BURST_MAX + 1];
	uint32_t f[PFSE_BURST_MAX + 1], it = 0, g;
	struct pfse_flow_info info;
	struct pfse_flow_table_stats s;
	struct pfse_directive d = { 1, 1, 1, 0, 0 };
	uint64_t b[4];

	mkpkt(&p, 1, 17, SEC, 60, 0);
	for (unsigned i = 0; i <= PFSE_BURST_MAX; i++) {
		pp[i] = &p;
		k[i] = p.key;
	}
	ck_assert_int_eq(pfse_flow_table_update_burst(NULL, pp, 1, f, NULL), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_update_burst(t, NULL, 1, f, NULL), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_update_burst(t, pp, 1, NULL, NULL), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_update_burst(t, pp, PFSE_BURST_MAX + 1, f, NULL),
			 -EINVAL);
	pp[1] = NULL;
	ck_assert_int_eq(pfse_flow_table_update_burst(t, pp, 2, f, NULL), -EINVAL);
	ck_assert_uint_eq(stats_of(t).packets, 0); /* nothing happened */
	ck_assert_int_eq(pfse_flow_table_update_burst(t, NULL, 0, f, NULL), 0);
	ck_assert_int_eq(pfse_flow_table_lookup_burst(NULL, k, 1, f, NULL), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_lookup_burst(t, NULL, 1, f, NULL), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_lookup_burst(t, k, 1, NULL, NULL), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_lookup_burst(t, k, PFSE_BURST_MAX + 1, f, NULL),
			 -EINVAL);
	ck_assert_int_eq(pfse_flow_table_delete(NULL, 0), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_delete(t, 0), -ENOENT);
	ck_assert_int_eq(pfse_flow_table_delete(t, PFSE_FLOW_NONE), -ENOENT);
	ck_assert_int_eq(pfse_flow_table_expire(NULL, 0, 1, NULL, NULL), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_next(NULL, &it, &g), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_next(t, NULL, &g), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_next(t, &it, NULL), -EINVAL);
	pfse_flow_info_init(&info);
	ck_assert_int_eq(pfse_flow_table_info(NULL, 0, &info), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_info(t, 0, NULL), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_info(t, 0, &info), -ENOENT);
	ck_assert_int_eq(pfse_flow_table_info(t, 99999, &info), -ENOENT);
	info.size = 4;
	ck_assert_int_eq(pfse_flow_table_info(t, 0, &info), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_series(NULL, 0, 4, b, NULL), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_series(t, 0, 4, NULL, NULL), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_series(t, 0, 4, b, NULL), -ENOENT);
	ck_assert_ptr_null(pfse_flow_table_slot(NULL, 0));
	ck_assert_ptr_null(pfse_flow_table_slot(t, 0));
	ck_assert_int_eq(pfse_flow_table_set_cookie(NULL, 0, 1), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_set_cookie(t, 0, 1), -ENOENT);
	ck_assert_int_eq(pfse_flow_table_set_class(t, 0, 1), -ENOENT);
	ck_assert_int_eq(pfse_flow_table_set_directive(t, 0, &d), -ENOENT);
	ck_assert_int_eq(pfse_flow_table_set_directive(t, 0, NULL), -EINVAL);
	g = send1(t, &p, NULL);
	ck_assert_int_eq(pfse_flow_table_set_class(t, g, 65536), -EINVAL);
	d.reserved = 1;
	ck_assert_int_eq(pfse_flow_table_set_directive(t, g, &d), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_stats(NULL, &s), -EINVAL);
	ck_assert_int_eq(pfse_flow_table_stats(t, NULL), -EINVAL);
	s.size = 0;
	ck_assert_int_eq(pfse_flow_table_stats(t, &s), -EINVAL);
	pfse_flow_table_destroy(t);
	pfse_flow_table_destroy(NULL);
}
END_TEST

/* An older caller's shorter info and stats structs get just their fields. */
START_TEST(versioned_outputs)
{
	struct pfse_flow_table *t = mktable(10, NULL);
	struct pfse_pkt p;
	uint32_t f;
	struct {
		struct pfse_flow_info i;
		uint64_t canary;
	} big;
	struct {
		size_t size;
		struct pfse_flow_key key;
		uint64_t canary;
	} small;

	mkpkt(&p, 1, 17, SEC, 60, 0);
	f = send1(t, &p, NULL);
	memset(&small, 0x5a, sizeof(small));
	small.size = offsetof(struct pfse_flow_info, packets);
	ck_assert_int_eq(pfse_flow_table_info(t, f, (struct pfse_flow_info *)(void *)&small), 0);
	ck_assert_mem_eq(&small.key, &p.key, sizeof(p.key));
	ck_assert_uint_eq(small.canary, 0x5a5a5a5a5a5a5a5aull);
	memset(&big, 0x5a, sizeof(big));
	big.i.size = sizeof(big);
	ck_assert_int_eq(pfse_flow_table_info(t, f, &big.i), 0);
	ck_assert_uint_eq(big.canary, 0); /* a newer caller's unknown fields read zero */
	pfse_flow_table_destroy(t);
}
END_TEST

static Suite *
flow_table_suite(void)
{
	Suite *s = suite_create("flow-table");
	TCase *tc;

	tc = tcase_create("params");
	tcase_add_test(tc, params_invalid);
	tcase_add_test(tc, memsize_is_what_create_allocates);
	tcase_add_test(tc, memory_per_flow);
	tcase_add_test(tc, alloc_failure_injection);
	suite_add_tcase(s, tc);
	tc = tcase_create("records");
	tcase_add_test(tc, counters_and_accessors);
	tcase_add_test(tc, unparsed_not_tracked);
	tcase_add_test(tc, burst_same_flow);
	tcase_add_test(tc, delete_and_iterate);
	tcase_add_test(tc, packet_hashes);
	tcase_add_test(tc, versioned_outputs);
	suite_add_tcase(s, tc);
	tc = tcase_create("intervals");
	tcase_add_test(tc, intervals_close);
	tcase_add_test(tc, time_goes_backwards);
	tcase_add_test(tc, packet_count_encoding);
	suite_add_tcase(s, tc);
	tc = tcase_create("expiry");
	tcase_add_test(tc, expiry_by_kind);
	tcase_add_test(tc, expiry_budget_and_pause);
	suite_add_tcase(s, tc);
	tc = tcase_create("full-and-flood");
	tcase_add_test(tc, full_table_evicts_lru);
	tcase_add_test(tc, full_table_refuses);
	tcase_add_test(tc, adversarial_same_hash);
	tcase_add_test(tc, eviction_prefers_one_way);
	tcase_add_test(tc, flood_refuses_to_displace_live);
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_add_test(tc, no_allocation_after_create);
	tcase_add_test(tc, invalid_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(flow_table_suite());
}
