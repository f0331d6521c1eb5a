/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shared API: error strings, version, random seeds, and the rules every versioned
 * params struct and allocator hook follows, exercised through pfse_parser_create (the
 * simplest object with params).
 */
#define _DEFAULT_SOURCE /* ntohs, posix_memalign */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <pfse/pfse.h>

#include "test-util.h"

START_TEST(strerror_known_and_unknown)
{
	ck_assert_str_eq(pfse_strerror(0), "success");
	ck_assert_str_eq(pfse_strerror(-EINVAL), "invalid argument");
	ck_assert_str_eq(pfse_strerror(EINVAL), "invalid argument");
	ck_assert_str_eq(pfse_strerror(-ENOMEM), "out of memory");
	ck_assert_str_eq(pfse_strerror(-ENOTSUP), "operation or value not supported");
	ck_assert_str_eq(pfse_strerror(-EBADMSG), "malformed input rejected");
	ck_assert_str_eq(pfse_strerror(-ENOSPC), "no space left (table or budget full)");
	ck_assert_str_eq(pfse_strerror(-ENOENT), "no such entry");
	ck_assert_str_eq(pfse_strerror(-EEXIST), "entry already exists");
	ck_assert_str_eq(pfse_strerror(-99999), "unknown error");
	ck_assert_str_eq(pfse_strerror(-2147483647), "unknown error");
	ck_assert_ptr_nonnull(pfse_strerror((int)(-2147483647 - 1)));
}
END_TEST

START_TEST(version_matches_headers)
{
	char buf[32];

	ck_assert_uint_eq(pfse_version_number(), PFSE_VERSION_NUMBER);
	ck_assert_str_eq(pfse_version_string(), PFSE_VERSION_STRING);
	snprintf(buf, sizeof(buf), "%d.%d.%d", PFSE_VERSION_MAJOR, PFSE_VERSION_MINOR,
		 PFSE_VERSION_PATCH);
	ck_assert_str_eq(pfse_version_string(), buf);
	ck_assert_uint_eq(PFSE_VERSION_NUMBER, PFSE_VERSION_MAJOR * 10000 +
						 PFSE_VERSION_MINOR * 100 + PFSE_VERSION_PATCH);
}
END_TEST

START_TEST(random_seed_works)
{
	uint64_t a = 0, b = 0;

	ck_assert_int_eq(pfse_random_seed(NULL), -EINVAL);
	ck_assert_int_eq(pfse_random_seed(&a), 0);
	ck_assert_int_eq(pfse_random_seed(&b), 0);
	/* Two 64-bit draws collide with probability 2^-64. */
	ck_assert(a != b);
}
END_TEST

START_TEST(params_null_and_size)
{
	struct pfse_parser_params p;
	struct pfse_parser *ps = (struct pfse_parser *)0x1;

	pfse_parser_params_init(&p);
	ck_assert_uint_eq(p.size, sizeof(p));
	ck_assert_int_eq(pfse_parser_create(NULL, &ps), -EINVAL);
	ck_assert_int_eq(pfse_parser_create(&p, NULL), -EINVAL);
	p.size = 0;
	ck_assert_int_eq(pfse_parser_create(&p, &ps), -EINVAL);
	p.size = sizeof(size_t); /* too small to hold the first field */
	ck_assert_int_eq(pfse_parser_create(&p, &ps), -EINVAL);
	p.size = (size_t)-1; /* garbage size */
	ck_assert_int_eq(pfse_parser_create(&p, &ps), -EINVAL);
	/* Output untouched on failure. */
	ck_assert_ptr_eq(ps, (struct pfse_parser *)0x1);
}
END_TEST

/* An application built against an older, shorter params struct: only `size` and
 * `linktype` existed. Every later field takes its default. */
START_TEST(params_older_caller)
{
	struct {
		size_t size;
		uint32_t linktype;
	} old;
	struct pfse_parser *ps = NULL;

	memset(&old, 0, sizeof(old));
	old.size = offsetof(struct pfse_parser_params, linktype) + sizeof(uint32_t);
	old.linktype = PFSE_LINKTYPE_RAW;
	ck_assert_int_eq(pfse_parser_create((const struct pfse_parser_params *)&old, &ps), 0);
	ck_assert_ptr_nonnull(ps);
	pfse_parser_destroy(ps);
}
END_TEST

/* A newer application passes a longer struct: accepted only if the fields this library
 * does not know are zero (they ask for the default), rejected otherwise. */
START_TEST(params_newer_caller)
{
	struct {
		struct pfse_parser_params p;
		uint64_t future_field;
	} big;
	struct pfse_parser *ps = NULL;

	memset(&big, 0, sizeof(big));
	big.p.size = sizeof(big);
	ck_assert_int_eq(pfse_parser_create(&big.p, &ps), 0);
	pfse_parser_destroy(ps);
	ps = NULL;
	big.future_field = 1;
	ck_assert_int_eq(pfse_parser_create(&big.p, &ps), -EINVAL);
	ck_assert_ptr_null(ps);
}
END_TEST

START_TEST(params_bad_values)
{
	struct pfse_parser_params p;
	struct pfse_parser *ps = NULL;

	pfse_parser_params_init(&p);
	p.flags = 1u << 20;
	ck_assert_int_eq(pfse_parser_create(&p, &ps), -EINVAL);
	pfse_parser_params_init(&p);
	p.zone_mode = 3;
	ck_assert_int_eq(pfse_parser_create(&p, &ps), -EINVAL);
	pfse_parser_params_init(&p);
	p.max_ext_hdrs = 65;
	ck_assert_int_eq(pfse_parser_create(&p, &ps), -EINVAL);
	pfse_parser_params_init(&p);
	p.linktype = 147; /* LINKTYPE_USER0 */
	ck_assert_int_eq(pfse_parser_create(&p, &ps), -ENOTSUP);
	ck_assert_ptr_null(ps);
	pfse_parser_params_init(&p);
	p.max_ext_hdrs = 64;
	ck_assert_int_eq(pfse_parser_create(&p, &ps), 0);
	pfse_parser_destroy(ps);
}
END_TEST

START_TEST(allocator_half_set_rejected)
{
	struct pfse_parser_params p;
	struct pfse_parser *ps = NULL;
	struct count_alloc c = { 0 };

	pfse_parser_params_init(&p);
	p.allocator = count_allocator(&c);
	p.allocator.free = NULL;
	ck_assert_int_eq(pfse_parser_create(&p, &ps), -EINVAL);
	p.allocator = count_allocator(&c);
	p.allocator.alloc = NULL;
	ck_assert_int_eq(pfse_parser_create(&p, &ps), -EINVAL);
	ck_assert_uint_eq(c.calls, 0);
}
END_TEST

START_TEST(allocator_hooks_used_and_balanced)
{
	struct pfse_parser_params p;
	struct pfse_parser *ps = NULL;
	struct count_alloc c = { 0 };

	pfse_parser_params_init(&p);
	p.allocator = count_allocator(&c);
	ck_assert_int_eq(pfse_parser_create(&p, &ps), 0);
	ck_assert_uint_ge(c.allocs, 1);
	ck_assert_uint_eq(c.last_align, 64);
	pfse_parser_destroy(ps);
	ck_assert_uint_eq(c.allocs, c.frees);
	pfse_parser_destroy(NULL); /* accepted */
}
END_TEST

/* Fail each allocation of create in turn: create reports -ENOMEM, leaves its output
 * alone and leaks nothing. */
START_TEST(allocator_failure_injection)
{
	struct pfse_parser_params p;
	struct count_alloc probe = { 0 };
	struct pfse_parser *ps = NULL;
	unsigned long total;

	pfse_parser_params_init(&p);
	p.allocator = count_allocator(&probe);
	ck_assert_int_eq(pfse_parser_create(&p, &ps), 0);
	pfse_parser_destroy(ps);
	total = probe.calls;
	for (unsigned long k = 1; k <= total; k++) {
		struct count_alloc c = { 0 };

		c.fail_at = k;
		p.allocator = count_allocator(&c);
		ps = (struct pfse_parser *)0x1;
		ck_assert_int_eq(pfse_parser_create(&p, &ps), -ENOMEM);
		ck_assert_ptr_eq(ps, (struct pfse_parser *)0x1);
		ck_assert_uint_eq(c.allocs, c.frees);
	}
}
END_TEST

static Suite *
common_suite(void)
{
	Suite *s = suite_create("common");
	TCase *tc;

	tc = tcase_create("strerror");
	tcase_add_test(tc, strerror_known_and_unknown);
	suite_add_tcase(s, tc);
	tc = tcase_create("version");
	tcase_add_test(tc, version_matches_headers);
	suite_add_tcase(s, tc);
	tc = tcase_create("random-seed");
	tcase_add_test(tc, random_seed_works);
	suite_add_tcase(s, tc);
	tc = tcase_create("versioned-params");
	tcase_add_test(tc, params_null_and_size);
	tcase_add_test(tc, params_older_caller);
	tcase_add_test(tc, params_newer_caller);
	tcase_add_test(tc, params_bad_values);
	suite_add_tcase(s, tc);
	tc = tcase_create("allocator");
	tcase_add_test(tc, allocator_half_set_rejected);
	tcase_add_test(tc, allocator_hooks_used_and_balanced);
	tcase_add_test(tc, allocator_failure_injection);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(common_suite());
}
