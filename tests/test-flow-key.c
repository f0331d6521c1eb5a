/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow keys: byte layout (part of the ABI and of every hash), construction,
 * bidirectional canonicalisation, the keyed hash with known-answer vectors, formatting,
 * and every invalid argument.
 */
#define _DEFAULT_SOURCE /* ntohs, posix_memalign */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <xxhash.h>

#include <pfse/pfse.h>

#include "test-util.h"

_Static_assert(sizeof(struct pfse_flow_key) == 40, "key size is ABI");
_Static_assert(offsetof(struct pfse_flow_key, src) == 0, "key layout is ABI");
_Static_assert(offsetof(struct pfse_flow_key, dst) == 16, "key layout is ABI");
_Static_assert(offsetof(struct pfse_flow_key, sport) == 32, "key layout is ABI");
_Static_assert(offsetof(struct pfse_flow_key, dport) == 34, "key layout is ABI");
_Static_assert(offsetof(struct pfse_flow_key, proto) == 36, "key layout is ABI");
_Static_assert(offsetof(struct pfse_flow_key, family) == 37, "key layout is ABI");
_Static_assert(offsetof(struct pfse_flow_key, zone) == 38, "key layout is ABI");

/* Frozen values of XXH3_64bits_withSeed() over the keys built in hash_known_answers, as
 * libxxhash 0.8.1 computed them when 0.1 was released. They must never change within a
 * soname: load balancers of different versions rely on agreeing. */
#define KAT_V4_SEED0 0xc41cfa07d0cb12f5ull
#define KAT_V4_SEEDX 0x5b625c2e41f75693ull
#define KAT_V6_SEED0 0x6fce5c25068c0296ull
#define KAT_V6_SEEDX 0xdf25f5943d663791ull

static const uint8_t v4a[4] = { 10, 0, 0, 1 };
static const uint8_t v4b[4] = { 192, 168, 1, 200 };
static const uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

START_TEST(set_layout_v4)
{
	struct pfse_flow_key k;
	static const uint8_t want[40] = {
		10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		192, 168, 1, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x04, 0xd2, 0x00, 0x50, 6, 4, 0x01, 0x02,
	};

	memset(&k, 0xaa, sizeof(k));
	ck_assert_int_eq(pfse_flow_key_set(&k, PFSE_FAMILY_IPV4, v4a, v4b, 1234, 80, 6, 0x0102),
			 0);
	ck_assert_mem_eq(&k, want, sizeof(want));
	ck_assert_uint_eq(ntohs(k.sport), 1234);
	ck_assert_uint_eq(ntohs(k.zone), 0x0102);
}
END_TEST

START_TEST(set_layout_v6)
{
	struct pfse_flow_key k;

	ck_assert_int_eq(pfse_flow_key_set(&k, PFSE_FAMILY_IPV6, v6a, v6b, 53, 5353, 17, 0), 0);
	ck_assert_mem_eq(k.src, v6a, 16);
	ck_assert_mem_eq(k.dst, v6b, 16);
	ck_assert_uint_eq(k.family, 6);
	ck_assert_uint_eq(k.proto, 17);
	ck_assert_uint_eq(ntohs(k.dport), 5353);
}
END_TEST

START_TEST(set_invalid)
{
	struct pfse_flow_key k, before;

	memset(&k, 0x5a, sizeof(k));
	before = k;
	ck_assert_int_eq(pfse_flow_key_set(NULL, 4, v4a, v4b, 1, 2, 6, 0), -EINVAL);
	ck_assert_int_eq(pfse_flow_key_set(&k, 4, NULL, v4b, 1, 2, 6, 0), -EINVAL);
	ck_assert_int_eq(pfse_flow_key_set(&k, 4, v4a, NULL, 1, 2, 6, 0), -EINVAL);
	ck_assert_int_eq(pfse_flow_key_set(&k, 5, v4a, v4b, 1, 2, 6, 0), -EINVAL);
	ck_assert_int_eq(pfse_flow_key_set(&k, 0, v4a, v4b, 1, 2, 6, 0), -EINVAL);
	ck_assert_mem_eq(&k, &before, sizeof(k));
}
END_TEST

START_TEST(canonicalize_orders_endpoints)
{
	struct pfse_flow_key fwd, rev, k;

	pfse_flow_key_set(&fwd, 4, v4a, v4b, 40000, 443, 6, 7);
	pfse_flow_key_set(&rev, 4, v4b, v4a, 443, 40000, 6, 7);
	k = fwd;
	ck_assert_int_eq(pfse_flow_key_canonicalize(&k), 0); /* 10.0.0.1 < 192.168.1.200 */
	ck_assert_mem_eq(&k, &fwd, sizeof(k));
	k = rev;
	ck_assert_int_eq(pfse_flow_key_canonicalize(&k), 1);
	ck_assert_mem_eq(&k, &fwd, sizeof(k));
	/* Idempotent. */
	ck_assert_int_eq(pfse_flow_key_canonicalize(&k), 0);
	ck_assert_mem_eq(&k, &fwd, sizeof(k));
}
END_TEST

START_TEST(canonicalize_equal_addresses_by_port)
{
	struct pfse_flow_key a, b;

	/* Same host both sides (loopback): the lower port becomes the source, compared as
	 * numbers: 256 (0x0100) > 255 (0x00ff) although 0x00 < 0x01 in the low byte. */
	pfse_flow_key_set(&a, 4, v4a, v4a, 256, 255, 17, 0);
	pfse_flow_key_set(&b, 4, v4a, v4a, 255, 256, 17, 0);
	ck_assert_int_eq(pfse_flow_key_canonicalize(&a), 1);
	ck_assert_int_eq(pfse_flow_key_canonicalize(&b), 0);
	ck_assert_mem_eq(&a, &b, sizeof(a));
	ck_assert_uint_eq(ntohs(a.sport), 255);
	/* Fully equal endpoints: no swap. */
	pfse_flow_key_set(&a, 6, v6a, v6a, 9, 9, 17, 0);
	ck_assert_int_eq(pfse_flow_key_canonicalize(&a), 0);
}
END_TEST

START_TEST(canonicalize_invalid)
{
	struct pfse_flow_key k;

	ck_assert_int_eq(pfse_flow_key_canonicalize(NULL), -EINVAL);
	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(pfse_flow_key_canonicalize(&k), -EINVAL);
	k.family = 5;
	ck_assert_int_eq(pfse_flow_key_canonicalize(&k), -EINVAL);
}
END_TEST

/* The hash is XXH3-64 of the 40 key bytes with the seed, and its values are frozen: an
 * instance of another version (or another host) with the same seed must agree. */
START_TEST(hash_known_answers)
{
	struct pfse_flow_key k4, k6;
	uint64_t h;

	pfse_flow_key_set(&k4, 4, v4a, v4b, 1234, 80, 6, 0);
	pfse_flow_key_set(&k6, 6, v6a, v6b, 53, 5353, 17, 42);
	ck_assert_int_eq(pfse_flow_key_hash(&k4, 0, &h), 0);
	ck_assert_uint_eq(h, XXH3_64bits_withSeed(&k4, 40, 0));
	ck_assert_uint_eq(h, KAT_V4_SEED0);
	ck_assert_int_eq(pfse_flow_key_hash(&k4, 0x9e3779b97f4a7c15ull, &h), 0);
	ck_assert_uint_eq(h, KAT_V4_SEEDX);
	ck_assert_int_eq(pfse_flow_key_hash(&k6, 0, &h), 0);
	ck_assert_uint_eq(h, KAT_V6_SEED0);
	ck_assert_int_eq(pfse_flow_key_hash(&k6, 0x9e3779b97f4a7c15ull, &h), 0);
	ck_assert_uint_eq(h, KAT_V6_SEEDX);
}
END_TEST

START_TEST(hash_seed_and_key_sensitivity)
{
	struct pfse_flow_key k, k2;
	uint64_t a, b;

	pfse_flow_key_set(&k, 4, v4a, v4b, 1234, 80, 6, 0);
	pfse_flow_key_hash(&k, 1, &a);
	pfse_flow_key_hash(&k, 2, &b);
	ck_assert(a != b);
	/* Each single-bit change of the key changes the hash. */
	for (unsigned bit = 0; bit < 40 * 8; bit++) {
		k2 = k;
		((uint8_t *)&k2)[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		pfse_flow_key_hash(&k2, 1, &b);
		ck_assert_msg(a != b, "bit %u", bit);
	}
}
END_TEST

START_TEST(hash_bulk_equals_single)
{
	struct pfse_flow_key keys[PFSE_BURST_MAX];
	uint64_t out[PFSE_BURST_MAX], one;

	for (unsigned i = 0; i < PFSE_BURST_MAX; i++)
		pfse_flow_key_set(&keys[i], i & 1 ? 6 : 4, i & 1 ? v6a : v4a, i & 1 ? v6b : v4b,
				  (uint16_t)(1000 + i), 80, 6, (uint16_t)i);
	ck_assert_int_eq(pfse_flow_key_hash_bulk(keys, PFSE_BURST_MAX, 77, out), PFSE_BURST_MAX);
	for (unsigned i = 0; i < PFSE_BURST_MAX; i++) {
		pfse_flow_key_hash(&keys[i], 77, &one);
		ck_assert_uint_eq(out[i], one);
	}
	ck_assert_int_eq(pfse_flow_key_hash_bulk(NULL, 0, 77, NULL), 0);
}
END_TEST

START_TEST(hash_invalid)
{
	struct pfse_flow_key k[PFSE_BURST_MAX + 1];
	uint64_t out[PFSE_BURST_MAX + 1], h = 5;

	memset(k, 0, sizeof(k));
	ck_assert_int_eq(pfse_flow_key_hash(NULL, 0, &h), -EINVAL);
	ck_assert_int_eq(pfse_flow_key_hash(k, 0, NULL), -EINVAL);
	ck_assert_uint_eq(h, 5);
	ck_assert_int_eq(pfse_flow_key_hash_bulk(k, PFSE_BURST_MAX + 1, 0, out), -EINVAL);
	ck_assert_int_eq(pfse_flow_key_hash_bulk(NULL, 1, 0, out), -EINVAL);
	ck_assert_int_eq(pfse_flow_key_hash_bulk(k, 1, 0, NULL), -EINVAL);
}
END_TEST

START_TEST(format_text)
{
	struct pfse_flow_key k;
	char buf[PFSE_FLOW_KEY_STRLEN];
	static const uint8_t v6max[16] = {
		0xfe, 0x80, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
		0xde, 0xf0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
	};

	pfse_flow_key_set(&k, 4, v4a, v4b, 1234, 80, 6, 0);
	ck_assert_int_eq(pfse_flow_key_format(&k, buf, sizeof(buf)),
			 (int)strlen("tcp 10.0.0.1:1234 > 192.168.1.200:80"));
	ck_assert_str_eq(buf, "tcp 10.0.0.1:1234 > 192.168.1.200:80");
	pfse_flow_key_set(&k, 6, v6a, v6b, 53, 5353, 17, 7);
	pfse_flow_key_format(&k, buf, sizeof(buf));
	ck_assert_str_eq(buf, "udp [2001:db8::1]:53 > [2001:db8::2]:5353 zone 7");
	pfse_flow_key_set(&k, 4, v4a, v4b, 0, 0, 47, 0);
	pfse_flow_key_format(&k, buf, sizeof(buf));
	ck_assert_str_eq(buf, "proto-47 10.0.0.1:0 > 192.168.1.200:0");
	pfse_flow_key_set(&k, 6, v6max, v6max, 65535, 65535, 255, 65535);
	ck_assert_int_lt(pfse_flow_key_format(&k, buf, sizeof(buf)), PFSE_FLOW_KEY_STRLEN);
	/* Truncation: the full length is returned, the buffer stays terminated. */
	pfse_flow_key_set(&k, 4, v4a, v4b, 1234, 80, 6, 0);
	ck_assert_int_eq(pfse_flow_key_format(&k, buf, 5), 36);
	ck_assert_str_eq(buf, "tcp ");
	ck_assert_int_eq(pfse_flow_key_format(&k, NULL, 0), 36);
}
END_TEST

START_TEST(format_invalid)
{
	struct pfse_flow_key k;
	char buf[8];

	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(pfse_flow_key_format(NULL, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(pfse_flow_key_format(&k, buf, sizeof(buf)), -EINVAL);
	pfse_flow_key_set(&k, 4, v4a, v4b, 1, 2, 6, 0);
	ck_assert_int_eq(pfse_flow_key_format(&k, NULL, 8), -EINVAL);
}
END_TEST

static Suite *
flow_key_suite(void)
{
	Suite *s = suite_create("flow-key");
	TCase *tc;

	tc = tcase_create("set");
	tcase_add_test(tc, set_layout_v4);
	tcase_add_test(tc, set_layout_v6);
	tcase_add_test(tc, set_invalid);
	suite_add_tcase(s, tc);
	tc = tcase_create("canonicalize");
	tcase_add_test(tc, canonicalize_orders_endpoints);
	tcase_add_test(tc, canonicalize_equal_addresses_by_port);
	tcase_add_test(tc, canonicalize_invalid);
	suite_add_tcase(s, tc);
	tc = tcase_create("hash");
	tcase_add_test(tc, hash_known_answers);
	tcase_add_test(tc, hash_seed_and_key_sensitivity);
	tcase_add_test(tc, hash_bulk_equals_single);
	tcase_add_test(tc, hash_invalid);
	suite_add_tcase(s, tc);
	tc = tcase_create("format");
	tcase_add_test(tc, format_text);
	tcase_add_test(tc, format_invalid);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(flow_key_suite());
}
