/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Class history: the default and application classifiers, the overflow class, exact
 * priors from absorbed flows, the chance that a live flow becomes an elephant given its
 * size (Kaplan-Meier over octaves, live and closed flows counted), histogram quantiles,
 * the aggregate series window, merging (equal to absorbing everything into one history),
 * and serialisation: round trips, and
 * every truncation, every bit flip, foreign buffers and well-checksummed but
 * inconsistent buffers rejected with the history left exactly as it was.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include <pfse/pfse.h>

#include "history_priv.h"
#include "test-util.h"

static struct pfse_history *
mkhist(uint32_t max_classes, uint32_t series_len)
{
	struct pfse_history_params p;
	struct pfse_history *h = NULL;

	pfse_history_params_init(&p);
	p.max_classes = max_classes;
	p.series_len = series_len;
	ck_assert_int_eq(pfse_history_create(&p, &h), 0);
	return h;
}

static struct pfse_flow_key
mkkey(uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct pfse_flow_key k;

	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(pfse_flow_key_set(&k, PFSE_FAMILY_IPV4, "\x0a\x00\x00\x01",
					   "\x0a\x00\x00\x02", sport, dport, proto, 0),
			 0);
	return k;
}

static uint32_t
classify(struct pfse_history *h, uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct pfse_flow_key k = mkkey(proto, sport, dport);
	uint32_t slot = 12345;

	ck_assert_int_eq(pfse_history_classify(h, &k, &slot, NULL), 0);
	return slot;
}

static uint32_t
key_of(struct pfse_history *h, uint32_t slot)
{
	uint32_t k = 0;

	ck_assert_int_eq(pfse_history_class_key(h, slot, &k), 0);
	return k;
}

START_TEST(default_classes)
{
	struct pfse_history *h = mkhist(0, 0);
	uint32_t https = classify(h, 6, 40000, 443);

	ck_assert_uint_ne(https, 0);
	ck_assert_uint_eq(key_of(h, https), 6u << 16 | 443);
	/* the reverse direction and another client are the same class */
	ck_assert_uint_eq(classify(h, 6, 443, 40000), https);
	ck_assert_uint_eq(classify(h, 6, 51234, 443), https);
	/* UDP 443 (QUIC) is another class */
	ck_assert_uint_ne(classify(h, 17, 40000, 443), https);
	ck_assert_uint_eq(key_of(h, classify(h, 17, 53, 33000)), 17u << 16 | 53);
	/* ICMP identifiers are not ports; GRE has none */
	ck_assert_uint_eq(key_of(h, classify(h, 1, 7, 9)), 1u << 16);
	ck_assert_uint_eq(key_of(h, classify(h, 47, 0, 0)), 47u << 16);
	/* one port set: that one */
	ck_assert_uint_eq(key_of(h, classify(h, 17, 0, 5000)), 17u << 16 | 5000);
	ck_assert_uint_eq(key_of(h, 0), PFSE_CLASS_OTHER);
	pfse_history_destroy(h);
}
END_TEST

static int
app_classifier(const struct pfse_flow_key *key, uint32_t *class_key, uint32_t *priority,
	       void *user)
{
	unsigned *calls = user;

	(*calls)++;
	if (key->proto == 17)
		return -ENOENT; /* default rule */
	if (key->proto == 50) {
		*class_key = PFSE_CLASS_OTHER;
		return 0;
	}
	*class_key = 0xabc0000u | key->proto;
	*priority = key->proto == 6 ? 7 : 1;
	return 0;
}

START_TEST(application_classes)
{
	struct pfse_history_params p;
	struct pfse_history *h = NULL;
	struct pfse_flow_key k = mkkey(6, 1000, 80);
	uint32_t slot, prio = 99;
	unsigned calls = 0;

	pfse_history_params_init(&p);
	p.classify = app_classifier;
	p.classify_user = &calls;
	ck_assert_int_eq(pfse_history_create(&p, &h), 0);
	ck_assert_int_eq(pfse_history_classify(h, &k, &slot, &prio), 0);
	ck_assert_uint_eq(key_of(h, slot), 0xabc0006u);
	ck_assert_uint_eq(prio, 7);
	ck_assert_uint_eq(calls, 1);
	k = mkkey(132, 1, 2);
	ck_assert_int_eq(pfse_history_classify(h, &k, &slot, &prio), 0);
	ck_assert_uint_eq(key_of(h, slot), 0xabc0084u);
	ck_assert_uint_eq(prio, 1);
	/* an error falls back to the default rule, priority 0 */
	k = mkkey(17, 5353, 5353);
	ck_assert_int_eq(pfse_history_classify(h, &k, &slot, &prio), 0);
	ck_assert_uint_eq(key_of(h, slot), 17u << 16 | 5353);
	ck_assert_uint_eq(prio, 0);
	/* the application may send a flow to the overflow class */
	k = mkkey(50, 0, 0);
	ck_assert_int_eq(pfse_history_classify(h, &k, &slot, &prio), 0);
	ck_assert_uint_eq(slot, 0);
	ck_assert_uint_eq(calls, 4);
	pfse_history_destroy(h);
}
END_TEST

START_TEST(overflow_class)
{
	struct pfse_history *h = mkhist(3, 8);
	uint32_t a = classify(h, 6, 40000, 80), b = classify(h, 6, 40000, 81);
	uint32_t k;

	ck_assert_uint_eq(a, 1);
	ck_assert_uint_eq(b, 2);
	/* full: new keys go to the overflow class, known ones keep their slots */
	ck_assert_uint_eq(classify(h, 6, 40000, 82), 0);
	ck_assert_uint_eq(classify(h, 17, 40000, 82), 0);
	ck_assert_uint_eq(classify(h, 6, 40000, 81), 2);
	ck_assert_int_eq(pfse_history_class_key(h, 3, &k), -ENOENT);
	pfse_history_destroy(h);
	h = mkhist(8, 8);
	ck_assert_int_eq(pfse_history_class_key(h, 1, &k), -ENOENT);
	ck_assert_int_eq(pfse_history_class_key(h, 8, &k), -ENOENT);
	pfse_history_destroy(h);
}
END_TEST

static struct pfse_flow_summary
summary(uint64_t bytes, uint64_t dur, uint64_t first, uint64_t peak, double cx, uint64_t cxn)
{
	struct pfse_flow_summary s;

	pfse_flow_summary_init(&s);
	s.bytes = bytes;
	s.packets = bytes / 100 + 1;
	s.duration_ns = dur;
	s.first_interval_bytes = first;
	s.peak_interval_bytes = peak;
	s.complexity_sum = cx;
	s.complexity_n = cxn;
	return s;
}

static struct pfse_class_prior
prior_of(struct pfse_history *h, uint32_t slot)
{
	struct pfse_class_prior p;

	memset(&p, 0xa5, sizeof(p));
	p.size = sizeof(p);
	ck_assert_int_eq(pfse_history_prior(h, slot, &p), 0);
	return p;
}

START_TEST(priors_exact)
{
	struct pfse_history *h = mkhist(0, 0);
	uint32_t c = classify(h, 6, 40000, 443);
	struct pfse_class_prior p = prior_of(h, c);
	struct pfse_flow_summary s;

	/* no flow yet: Laplace's rule gives 1/2, everything else 0 */
	ck_assert_uint_eq(p.flows, 0);
	ck_assert(p.rate == 0 && p.rate_variance == 0 && p.size_median == 0);
	ck_assert(p.p_elephant == 0.5);
	ck_assert_uint_eq(p.reserved, 0);
	/* first intervals 100, 200, 600: mean 300, population variance 46666.67 */
	s = summary(1000, 5000000, 100, 400, 6.0, 3);
	ck_assert_int_eq(pfse_history_absorb(h, c, &s), 0);
	s = summary(1000, 5000000, 200, 400, 0, 0);
	ck_assert_int_eq(pfse_history_absorb(h, c, &s), 0);
	s = summary(3u << 20, 9000000000ull, 600, 1u << 20, 2.0, 1);
	ck_assert_int_eq(pfse_history_absorb(h, c, &s), 0);
	p = prior_of(h, c);
	ck_assert_uint_eq(p.flows, 3);
	ck_assert_double_eq_tol(p.rate, 300.0, 1e-12);
	ck_assert_double_eq_tol(p.rate_variance, (200.0 * 200 + 100 * 100 + 300 * 300) / 3,
				1e-9);
	ck_assert(p.p_elephant == 2.0 / 5.0);   /* (1 + 1) / (3 + 2) */
	ck_assert(p.complexity == 2.0);         /* (6 + 2) / (3 + 1) */
	/* 1000 is in the bin [896, 1024) whose geometric middle is 960 */
	ck_assert(p.size_median == 960.0);
	/* the 90th percentile of {1000, 1000, 3 MiB} is 3 MiB's bin: [3 MiB, 3.5 MiB) */
	ck_assert(p.size_p90 == 3.25 * 1048576.0);
	ck_assert(p.duration_median >= 5000000 / 1.19 && p.duration_median <= 5000000 * 1.19);
	ck_assert(p.peak_p90 == 1.125 * 1048576.0);
	/* other classes are untouched */
	p = prior_of(h, classify(h, 6, 40000, 80));
	ck_assert_uint_eq(p.flows, 0);
	pfse_history_destroy(h);
}
END_TEST

START_TEST(p_elephant_given_bytes)
{
	struct pfse_history *h = mkhist(0, 0);
	uint32_t c = classify(h, 6, 40000, 443), o = classify(h, 6, 40000, 80);
	struct pfse_flow_summary s;
	size_t len = 0;
	void *buf;

	/* nothing known: 1/2; past elephant_bytes (1 MiB): 1 */
	ck_assert(pfse_history_p_elephant_at(h, c, 0) == 0.5);
	ck_assert(pfse_history_p_elephant_at(h, c, 1u << 20) == 1);
	/* finished: 4 of 10 kB (octave 13), 2 of 300 kB (18), 2 elephants of 2 MiB (21);
	 * live: one at 500 kB (18), one at 1.5 MiB (20, past the elephant size's octave) */
	for (unsigned k = 0; k < 8; k++) {
		s = summary(k < 4 ? 10000 : k < 6 ? 300000 : 2u << 20, 1000, 100, 100, 0, 0);
		ck_assert_int_eq(pfse_history_absorb(h, c, &s), 0);
	}
	pfse_history_live_move(h, c, -1, 18);
	pfse_history_live_move(h, c, -1, 20);
	/* from 0: 10 reached octave 13 and 4 ended there; 6 reached 18 and 2 ended there;
	 * S = 0.6 * 2/3 = 0.4 over the 9 flows whose answer is known (all but the live one
	 * at 500 kB): (9 * 0.4 + 1) / 11 */
	ck_assert_double_eq_tol(pfse_history_p_elephant_at(h, c, 0), 4.6 / 11, 1e-12);
	ck_assert_double_eq_tol(pfse_history_p_elephant_at(h, c, 9000), 4.6 / 11, 1e-12);
	/* from 100 kB (octave 16): S = 2/3 over 5: (5 * 2/3 + 1) / 7 */
	ck_assert_double_eq_tol(pfse_history_p_elephant_at(h, c, 100000), 13.0 / 21, 1e-12);
	/* from 600 kB (octave 19): every flow that got there went on: (3 + 1) / (3 + 2) */
	ck_assert_double_eq_tol(pfse_history_p_elephant_at(h, c, 600000), 0.8, 1e-12);
	/* the class's shunting size, found in the same pass: P by octave is 1 at 20 (2^20
	 * is elephant_bytes), 0.8 at 19, 13/21 = 0.62 at 14-18, 4.6/11 = 0.42 at 13 and
	 * below */
	{
		unsigned so = 99;

		ck_assert_double_eq_tol(pfse_history_p_elephant_scan(h, c, 100000, 0.6, &so),
					13.0 / 21, 1e-12);
		ck_assert_uint_eq(so, 14);
		pfse_history_p_elephant_scan(h, c, 0, 0.7, &so);
		ck_assert_uint_eq(so, 19);
		/* at 0.9 only octave 20 qualifies: 2^20 is elephant_bytes itself */
		pfse_history_p_elephant_scan(h, c, 0, 0.9, &so);
		ck_assert_uint_eq(so, 20);
		ck_assert(pfse_history_p_elephant_scan(h, c, 2u << 20, 0.6, &so) == 1);
		ck_assert_uint_eq(so, 14);
	}
	/* the live 500 kB flow closes (a FIN): it ends there; S = 0.6 * 1/2 over 10 */
	pfse_history_live_move(h, c, 18, 64 + 18);
	ck_assert_double_eq_tol(pfse_history_p_elephant_at(h, c, 0), 4.0 / 12, 1e-12);
	/* another class is untouched */
	ck_assert(pfse_history_p_elephant_at(h, o, 0) == 0.5);
	/* live counts are not saved: after a round trip only the finished flows count,
	 * (2 + 1) / (8 + 2) from 0; and a flow ending then takes nothing below zero */
	ck_assert_int_eq(pfse_history_save(h, NULL, 0, &len), -ENOSPC);
	buf = malloc(len);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(pfse_history_save(h, buf, len, &len), 0);
	ck_assert_int_eq(pfse_history_load(h, buf, len), 0);
	c = classify(h, 6, 40000, 443);
	ck_assert_double_eq_tol(pfse_history_p_elephant_at(h, c, 0), 3.0 / 10, 1e-12);
	pfse_history_live_move(h, c, 64 + 18, -1);
	pfse_history_live_move(h, c, 20, -1);
	ck_assert_double_eq_tol(pfse_history_p_elephant_at(h, c, 0), 3.0 / 10, 1e-12);
	/* a flow of a slot numbering from before the load counts into a slot not in use
	 * now; a class that takes the slot later starts with nothing of it */
	{
		uint32_t k[3];

		pfse_history_live_move(h, 5, -1, 64 + 10);
		for (unsigned i = 0; i < 3; i++)
			k[i] = classify(h, 6, 40000, (uint16_t)(81 + i));
		ck_assert_uint_eq(k[2], 5);
		ck_assert(pfse_history_p_elephant_at(h, k[2], 0) == 0.5);
	}
	free(buf);
	pfse_history_destroy(h);
}
END_TEST

START_TEST(quantiles_within_a_bin)
{
	struct pfse_history *h = mkhist(0, 0);
	uint32_t c = classify(h, 17, 1, 53);
	const double bin = pow(2.0, 0.25);

	/* sizes 1 .. 100000: median 50000, p90 90000; 4 bins per octave */
	for (uint64_t i = 1; i <= 100000; i++) {
		struct pfse_flow_summary s = summary(i, i * 1000, i, i, 0, 0);

		ck_assert_int_eq(pfse_history_absorb(h, c, &s), 0);
	}
	struct pfse_class_prior p = prior_of(h, c);

	ck_assert_msg(p.size_median > 50000 / bin && p.size_median < 50000 * bin, "median %g",
		      p.size_median);
	ck_assert_msg(p.size_p90 > 90000 / bin && p.size_p90 < 90000 * bin, "p90 %g",
		      p.size_p90);
	ck_assert(p.duration_median > 5e7 / bin && p.duration_median < 5e7 * bin);
	ck_assert(p.peak_p90 > 90000 / bin && p.peak_p90 < 90000 * bin);
	ck_assert_double_eq_tol(p.rate, 50000.5, 1e-9);
	/* the smallest values: 0 and 1 share bin 0, whose middle is 1 */
	pfse_history_destroy(h);
	h = mkhist(0, 0);
	c = classify(h, 17, 1, 53);
	struct pfse_flow_summary z = summary(0, 0, 0, 0, 0, 0);

	ck_assert_int_eq(pfse_history_absorb(h, c, &z), 0);
	p = prior_of(h, c);
	ck_assert(p.size_median == 1.0);
	/* and the largest */
	z = summary(UINT64_MAX, UINT64_MAX, 0, UINT64_MAX, 0, 0);
	ck_assert_int_eq(pfse_history_absorb(h, c, &z), 0);
	ck_assert_int_eq(pfse_history_absorb(h, c, &z), 0);
	p = prior_of(h, c);
	ck_assert(p.size_median == ldexp(1.875, 63));
	pfse_history_destroy(h);
}
END_TEST

START_TEST(series_window)
{
	struct pfse_history *h = mkhist(0, 5);
	uint32_t c = classify(h, 6, 1, 443);
	double out[8];

	ck_assert_int_eq(pfse_history_series(h, c, 8, out), 0);
	ck_assert_int_eq(pfse_history_add_interval(h, c, 1000, 10), 0);
	ck_assert_int_eq(pfse_history_add_interval(h, c, 1000, 5), 0);
	/* interval 1000 is still open */
	ck_assert_int_eq(pfse_history_series(h, c, 8, out), 0);
	ck_assert_int_eq(pfse_history_add_interval(h, c, 1001, 7), 0);
	ck_assert_int_eq(pfse_history_series(h, c, 8, out), 1);
	ck_assert(out[0] == 15);
	/* a gap: 1002 and 1003 are zero */
	ck_assert_int_eq(pfse_history_add_interval(h, c, 1004, 1), 0);
	ck_assert_int_eq(pfse_history_series(h, c, 8, out), 4);
	ck_assert(out[0] == 15 && out[1] == 7 && out[2] == 0 && out[3] == 0);
	/* late bytes for an interval in the window count; older ones are dropped */
	ck_assert_int_eq(pfse_history_add_interval(h, c, 1002, 3), 0);
	ck_assert_int_eq(pfse_history_add_interval(h, c, 999, 1000), 0);
	ck_assert_int_eq(pfse_history_series(h, c, 8, out), 4);
	ck_assert(out[0] == 15 && out[1] == 7 && out[2] == 3 && out[3] == 0);
	/* the window slides: 4 complete intervals at most */
	ck_assert_int_eq(pfse_history_add_interval(h, c, 1006, 2), 0);
	ck_assert_int_eq(pfse_history_series(h, c, 8, out), 4);
	ck_assert(out[0] == 3 && out[1] == 0 && out[2] == 1 && out[3] == 0);
	ck_assert_int_eq(pfse_history_series(h, c, 2, out), 2);
	ck_assert(out[0] == 1 && out[1] == 0);
	/* a jump past the whole window clears it */
	ck_assert_int_eq(pfse_history_add_interval(h, c, 5000, 9), 0);
	ck_assert_int_eq(pfse_history_series(h, c, 8, out), 4);
	ck_assert(out[0] == 0 && out[1] == 0 && out[2] == 0 && out[3] == 0);
	ck_assert_int_eq(pfse_history_add_interval(h, c, 5001, 0), 0);
	ck_assert_int_eq(pfse_history_series(h, c, 8, out), 4);
	ck_assert(out[3] == 9);
	pfse_history_destroy(h);
}
END_TEST

/* Deterministic flows for the merge test. */
static uint64_t rng_state = 88172645463325252ull;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
feed_random(struct pfse_history *h, struct pfse_history *all, unsigned n, uint64_t iv0)
{
	for (unsigned i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(1 + rnd() % 40);
		struct pfse_flow_summary s =
			summary(rnd() % 5000000, rnd() % 1000000000, rnd() % 100000,
				rnd() % 200000, (double)(rnd() % 8), rnd() % 3);
		uint64_t iv = iv0 + rnd() % 12, b = rnd() % 1000;
		uint32_t c1 = classify(h, 6, 50000, port), c2 = classify(all, 6, 50000, port);

		ck_assert_int_eq(pfse_history_absorb(h, c1, &s), 0);
		ck_assert_int_eq(pfse_history_absorb(all, c2, &s), 0);
		ck_assert_int_eq(pfse_history_add_interval(h, c1, iv, b), 0);
		ck_assert_int_eq(pfse_history_add_interval(all, c2, iv, b), 0);
	}
}

static void
assert_same_class(struct pfse_history *a, uint32_t sa, struct pfse_history *b, uint32_t sb)
{
	struct pfse_class_prior pa = prior_of(a, sa), pb = prior_of(b, sb);
	double va[64], vb[64];
	int na, nb;

	ck_assert_uint_eq(key_of(a, sa), key_of(b, sb));
	ck_assert_uint_eq(pa.flows, pb.flows);
	ck_assert_double_eq_tol(pa.rate, pb.rate, 1e-9 * (1 + pa.rate));
	ck_assert_double_eq_tol(pa.rate_variance, pb.rate_variance,
				1e-6 * (1 + pa.rate_variance));
	ck_assert(pa.p_elephant == pb.p_elephant);
	ck_assert(pa.size_median == pb.size_median && pa.size_p90 == pb.size_p90);
	ck_assert(pa.duration_median == pb.duration_median && pa.peak_p90 == pb.peak_p90);
	ck_assert_double_eq_tol(pa.complexity, pb.complexity, 1e-12);
	na = pfse_history_series(a, sa, 64, va);
	nb = pfse_history_series(b, sb, 64, vb);
	ck_assert_int_eq(na, nb);
	for (int i = 0; i < na; i++)
		ck_assert(va[i] == vb[i]);
}

START_TEST(merge_equals_one_history)
{
	struct pfse_history *w1 = mkhist(64, 16), *w2 = mkhist(64, 16), *all = mkhist(64, 16);
	struct pfse_history *small = mkhist(4, 16), *other = mkhist(64, 8);

	feed_random(w1, all, 3000, 100);
	feed_random(w2, all, 3000, 106); /* overlapping, newer intervals */
	ck_assert_int_eq(pfse_history_merge(w1, w2), 0);
	for (uint16_t port = 1; port <= 40; port++) {
		uint32_t a = classify(w1, 6, 50000, port), b = classify(all, 6, 50000, port);

		assert_same_class(w1, a, all, b);
		/* the size estimate (its octave sums rebuilt by the merge) too */
		for (uint64_t sent = 1; sent < (1ull << 22); sent *= 3)
			ck_assert(pfse_history_p_elephant_at(w1, a, sent) ==
				  pfse_history_p_elephant_at(all, b, sent));
	}
	/* merging into a small history: what does not fit goes to its overflow class */
	ck_assert_int_eq(pfse_history_merge(small, all), 0);
	struct pfse_class_prior po = prior_of(small, 0);
	uint64_t total = po.flows;

	for (uint32_t s = 1; s < 4; s++)
		total += prior_of(small, s).flows;
	ck_assert_uint_eq(total, 6000);
	ck_assert_uint_gt(po.flows, 0);
	/* arguments */
	ck_assert_int_eq(pfse_history_merge(w1, w1), -EINVAL);
	ck_assert_int_eq(pfse_history_merge(NULL, w1), -EINVAL);
	ck_assert_int_eq(pfse_history_merge(w1, NULL), -EINVAL);
	ck_assert_int_eq(pfse_history_merge(w1, other), -EINVAL);
	pfse_history_destroy(w1);
	pfse_history_destroy(w2);
	pfse_history_destroy(all);
	pfse_history_destroy(small);
	pfse_history_destroy(other);
}
END_TEST

static uint8_t *
save_all(struct pfse_history *h, size_t *len)
{
	uint8_t *buf;

	ck_assert_int_eq(pfse_history_save(h, NULL, 0, len), -ENOSPC);
	buf = malloc(*len);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(pfse_history_save(h, buf, *len, len), 0);
	return buf;
}

static struct pfse_history *
populated(void)
{
	struct pfse_history *h = mkhist(64, 16), *scratch = mkhist(64, 16);

	rng_state = 1234567;
	feed_random(h, scratch, 500, 40);
	pfse_history_destroy(scratch);
	return h;
}

/* The history's serialisation equals `want`. */
static void
assert_unchanged(struct pfse_history *h, const uint8_t *want, size_t want_len)
{
	size_t len;
	uint8_t *now = save_all(h, &len);

	ck_assert_uint_eq(len, want_len);
	ck_assert(memcmp(now, want, len) == 0);
	free(now);
}

static void
rechecksum(uint8_t *buf, size_t len)
{
	uint64_t x = XXH3_64bits(buf, len - 8);

	for (unsigned i = 0; i < 8; i++)
		buf[len - 8 + i] = (uint8_t)(x >> (8 * i));
}

START_TEST(save_load_roundtrip)
{
	struct pfse_history *h = populated(), *g = mkhist(64, 16);
	size_t len, len2;
	uint8_t *buf = save_all(h, &len), *small;

	ck_assert_int_eq(pfse_history_load(g, buf, len), 0);
	for (uint16_t port = 1; port <= 40; port++) {
		/* classify in the same order so slots may differ but keys match */
		uint32_t a = classify(h, 6, 50000, port), b = classify(g, 6, 50000, port);

		assert_same_class(h, a, g, b);
	}
	assert_same_class(h, 0, g, 0);
	{
		uint8_t *again = save_all(g, &len2);

		ck_assert_uint_eq(len2, len);
		ck_assert(memcmp(again, buf, len) == 0);
		free(again);
	}
	/* too small a buffer: -ENOSPC with the size needed, nothing written */
	small = calloc(1, len - 1);
	ck_assert_int_eq(pfse_history_save(h, small, len - 1, &len2), -ENOSPC);
	ck_assert_uint_eq(len2, len);
	for (size_t i = 0; i < len - 1; i++)
		ck_assert_uint_eq(small[i], 0);
	free(small);
	/* loading replaces: classes of the old contents are gone */
	{
		struct pfse_history *e = mkhist(64, 16);
		size_t elen;
		uint8_t *ebuf = save_all(e, &elen);
		uint32_t k;

		ck_assert_int_eq(pfse_history_load(g, ebuf, elen), 0);
		ck_assert_int_eq(pfse_history_class_key(g, 1, &k), -ENOENT);
		ck_assert_uint_eq(prior_of(g, 0).flows, 0);
		free(ebuf);
		pfse_history_destroy(e);
	}
	free(buf);
	pfse_history_destroy(h);
	pfse_history_destroy(g);
}
END_TEST

START_TEST(load_rejects_corruption)
{
	struct pfse_history *h = populated(), *g = populated();
	size_t len, glen;
	uint8_t *buf = save_all(h, &len), *gbuf, *bad;
	unsigned stride = 1;

	/* g holds different contents so that "unchanged" is meaningful */
	{
		struct pfse_flow_summary s = summary(77, 77, 77, 77, 0, 0);

		ck_assert_int_eq(pfse_history_absorb(g, classify(g, 17, 9, 99), &s), 0);
	}
	gbuf = save_all(g, &glen);
	bad = malloc(len);
	/* every truncation */
	for (size_t n = 0; n < len; n++)
		ck_assert_int_eq(pfse_history_load(g, buf, n), -EBADMSG);
	assert_unchanged(g, gbuf, glen);
	/* every bit of the header, the first two classes and the checksum; a stride of
	 * bytes elsewhere (a wider one under valgrind) */
	if (getenv("PFSE_TEST_OPS"))
		stride = 4;
	for (size_t i = 0; i < len; i += i < 40 + 2 * 3280 || i >= len - 8 ? 1 : 41 * stride) {
		for (unsigned bit = 0; bit < 8; bit++) {
			int r;

			memcpy(bad, buf, len);
			bad[i] ^= (uint8_t)(1u << bit);
			r = pfse_history_load(g, bad, len);
			if (i < 8)
				ck_assert_int_eq(r, -EBADMSG);
			else if (i < 12)
				ck_assert_int_eq(r, -EPROTO);
			else if (i < 16 || (i >= 32 && i < 40))
				ck_assert_int_eq(r, -EBADMSG); /* header or lengths */
			else
				ck_assert_msg(r == -EILSEQ, "byte %zu bit %u: %d", i, bit, r);
		}
	}
	assert_unchanged(g, gbuf, glen);
	/* a foreign buffer */
	for (size_t i = 0; i < len; i++)
		bad[i] = (uint8_t)rnd();
	ck_assert_int_eq(pfse_history_load(g, bad, len), -EBADMSG);
	/* well checksummed, inconsistent: a NaN, a negative series value, elephants > flows,
	 * padding, a duplicate class, a second overflow class, first > newest */
	{
		const size_t hdr = 40, cls = 4 + 4 + 8 * 8 + 4 + 4 + 3 * 256 * 4 + 16 * 8;
		const size_t c1 = hdr + cls; /* second class */
		const double nan = NAN, neg = -1.0;
		struct {
			size_t off;
			const void *val;
			size_t n;
		} cases[] = {
			{ c1 + 24, &nan, 8 },                      /* rate_sum */
			{ c1 + cls - 8, &neg, 8 },                 /* last series value */
			{ c1 + 16, "\xff\xff\xff\xff\xff\xff\xff\x7f", 8 }, /* elephants */
			{ c1 + 76, "\x01", 1 },                    /* padding */
			{ c1 + cls, buf + c1, 4 },                 /* third class = second's key */
			{ c1, "\xff\xff\xff\xff", 4 },             /* second overflow class */
			{ c1 + 56, "\xff\xff\xff\xff\xff\xff\xff\x7f", 8 }, /* first_iv */
			{ hdr, "\x00\x00\x00\x00", 4 },            /* slot 0 not the overflow */
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			memcpy(bad, buf, len);
			memcpy(bad + cases[i].off, cases[i].val, cases[i].n);
			rechecksum(bad, len);
			ck_assert_msg(pfse_history_load(g, bad, len) == -EBADMSG, "case %zu", i);
		}
		/* a different version, rechecksummed, is still refused */
		memcpy(bad, buf, len);
		bad[8] = 2;
		rechecksum(bad, len);
		ck_assert_int_eq(pfse_history_load(g, bad, len), -EPROTO);
	}
	assert_unchanged(g, gbuf, glen);
	/* parameters that must match */
	{
		struct pfse_history *other = mkhist(64, 8), *tiny = mkhist(2, 16);

		ck_assert_int_eq(pfse_history_load(other, buf, len), -EINVAL);
		ck_assert_int_eq(pfse_history_load(tiny, buf, len), -ENOSPC);
		pfse_history_destroy(other);
		pfse_history_destroy(tiny);
	}
	free(bad);
	free(buf);
	free(gbuf);
	pfse_history_destroy(h);
	pfse_history_destroy(g);
}
END_TEST

START_TEST(invalid_arguments)
{
	struct pfse_history_params p;
	struct pfse_history *h = NULL;
	struct pfse_flow_key k = mkkey(6, 1, 2);
	struct pfse_flow_summary s = summary(1, 1, 1, 1, 0, 0);
	struct pfse_class_prior pr;
	uint32_t slot, ck;
	uint8_t buf[64];
	size_t n;
	double out[4];

	pfse_history_params_init(&p);
	ck_assert_int_eq(pfse_history_create(NULL, &h), -EINVAL);
	ck_assert_int_eq(pfse_history_create(&p, NULL), -EINVAL);
	p.max_classes = 1;
	ck_assert_int_eq(pfse_history_create(&p, &h), -EINVAL);
	p.max_classes = 65537;
	ck_assert_int_eq(pfse_history_create(&p, &h), -EINVAL);
	p.max_classes = 0;
	p.series_len = 4097;
	ck_assert_int_eq(pfse_history_create(&p, &h), -EINVAL);
	p.series_len = 0;
	p.size = 3;
	ck_assert_int_eq(pfse_history_create(&p, &h), -EINVAL);
	p.size = sizeof(p);
	ck_assert_int_eq(pfse_history_create(&p, &h), 0);
	pfse_history_destroy(NULL);

	ck_assert_int_eq(pfse_history_classify(NULL, &k, &slot, NULL), -EINVAL);
	ck_assert_int_eq(pfse_history_classify(h, NULL, &slot, NULL), -EINVAL);
	ck_assert_int_eq(pfse_history_classify(h, &k, NULL, NULL), -EINVAL);
	ck_assert_int_eq(pfse_history_class_key(NULL, 0, &ck), -EINVAL);
	ck_assert_int_eq(pfse_history_class_key(h, 0, NULL), -EINVAL);
	ck_assert_int_eq(pfse_history_absorb(NULL, 0, &s), -EINVAL);
	ck_assert_int_eq(pfse_history_absorb(h, 0, NULL), -EINVAL);
	ck_assert_int_eq(pfse_history_absorb(h, 5, &s), -ENOENT);
	ck_assert_int_eq(pfse_history_absorb(h, UINT32_MAX, &s), -ENOENT);
	s.complexity_sum = NAN;
	ck_assert_int_eq(pfse_history_absorb(h, 0, &s), -EINVAL);
	s.complexity_sum = -1;
	ck_assert_int_eq(pfse_history_absorb(h, 0, &s), -EINVAL);
	s.complexity_sum = 0;
	s.size = 4;
	ck_assert_int_eq(pfse_history_absorb(h, 0, &s), -EINVAL);
	ck_assert_uint_eq(prior_of(h, 0).flows, 0);
	ck_assert_int_eq(pfse_history_add_interval(NULL, 0, 1, 1), -EINVAL);
	ck_assert_int_eq(pfse_history_add_interval(h, 9, 1, 1), -ENOENT);
	ck_assert_int_eq(pfse_history_series(NULL, 0, 4, out), -EINVAL);
	ck_assert_int_eq(pfse_history_series(h, 0, 4, NULL), -EINVAL);
	ck_assert_int_eq(pfse_history_series(h, 9, 4, out), -ENOENT);
	ck_assert_int_eq(pfse_history_series(h, 0, 0, NULL), 0);
	pr.size = sizeof(pr);
	ck_assert_int_eq(pfse_history_prior(NULL, 0, &pr), -EINVAL);
	ck_assert_int_eq(pfse_history_prior(h, 0, NULL), -EINVAL);
	ck_assert_int_eq(pfse_history_prior(h, 9, &pr), -ENOENT);
	pr.size = 0;
	ck_assert_int_eq(pfse_history_prior(h, 0, &pr), -EINVAL);
	/* an older, smaller prior struct gets only what it has room for */
	{
		struct pfse_class_prior big;
		const uint8_t *raw = (const uint8_t *)&big;

		memset(&big, 0xee, sizeof(big));
		big.size = offsetof(struct pfse_class_prior, rate);
		ck_assert_int_eq(pfse_history_prior(h, 0, &big), 0);
		ck_assert_uint_eq(big.size, offsetof(struct pfse_class_prior, rate));
		ck_assert_uint_eq(big.flows, 0);
		for (size_t i = big.size; i < sizeof(big); i++)
			ck_assert_uint_eq(raw[i], 0xee);
	}
	ck_assert_int_eq(pfse_history_save(NULL, buf, sizeof(buf), &n), -EINVAL);
	ck_assert_int_eq(pfse_history_save(h, buf, sizeof(buf), NULL), -EINVAL);
	ck_assert_int_eq(pfse_history_save(h, NULL, 8, &n), -EINVAL);
	ck_assert_int_eq(pfse_history_load(NULL, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(pfse_history_load(h, NULL, 0), -EINVAL);
	pfse_history_destroy(h);
}
END_TEST

START_TEST(allocation_failures)
{
	struct count_alloc ca;
	struct pfse_history_params p;
	struct pfse_history *h;
	unsigned long n;

	/* find how many allocations a create makes, then fail each one */
	memset(&ca, 0, sizeof(ca));
	pfse_history_params_init(&p);
	p.allocator = count_allocator(&ca);
	ck_assert_int_eq(pfse_history_create(&p, &h), 0);
	n = ca.allocs;
	ck_assert_uint_ge(n, 2);
	pfse_history_destroy(h);
	ck_assert_uint_eq(ca.frees, ca.allocs);
	for (unsigned long i = 1; i <= n; i++) {
		memset(&ca, 0, sizeof(ca));
		ca.fail_at = i;
		h = (struct pfse_history *)&ca;
		ck_assert_int_eq(pfse_history_create(&p, &h), -ENOMEM);
		ck_assert_ptr_eq(h, (struct pfse_history *)&ca);
		ck_assert_uint_eq(ca.frees, ca.allocs);
	}
	/* nothing else allocates except load's scratch key copy */
	memset(&ca, 0, sizeof(ca));
	ck_assert_int_eq(pfse_history_create(&p, &h), 0);
	n = ca.calls;
	{
		struct pfse_flow_key k = mkkey(6, 1, 2);
		struct pfse_flow_summary s = summary(1, 1, 1, 1, 0, 0);
		uint32_t slot;
		size_t len;
		uint8_t *buf;

		ck_assert_int_eq(pfse_history_classify(h, &k, &slot, NULL), 0);
		ck_assert_int_eq(pfse_history_absorb(h, slot, &s), 0);
		ck_assert_int_eq(pfse_history_add_interval(h, slot, 3, 3), 0);
		ck_assert_uint_eq(ca.calls, n);
		buf = save_all(h, &len);
		ca.fail_at = ca.calls + 1;
		ck_assert_int_eq(pfse_history_load(h, buf, len), -ENOMEM);
		ck_assert_int_eq(pfse_history_load(h, buf, len), 0);
		ck_assert_uint_eq(prior_of(h, slot).flows, 1);
		free(buf);
	}
	pfse_history_destroy(h);
	ck_assert_uint_eq(ca.frees, ca.allocs);
}
END_TEST

static Suite *
history_suite(void)
{
	Suite *s = suite_create("history");
	TCase *tc = tcase_create("classes");

	tcase_add_test(tc, default_classes);
	tcase_add_test(tc, application_classes);
	tcase_add_test(tc, overflow_class);
	suite_add_tcase(s, tc);
	tc = tcase_create("aggregates");
	tcase_add_test(tc, priors_exact);
	tcase_add_test(tc, p_elephant_given_bytes);
	tcase_add_test(tc, quantiles_within_a_bin);
	tcase_add_test(tc, series_window);
	tcase_add_test(tc, merge_equals_one_history);
	suite_add_tcase(s, tc);
	tc = tcase_create("persistence");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, save_load_roundtrip);
	tcase_add_test(tc, load_rejects_corruption);
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_add_test(tc, invalid_arguments);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(history_suite());
}
