/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the Check suites: a counting allocator with failure injection (to
 * prove that objects allocate only at create and survive allocation failures), and the
 * standard main() that runs one suite in TAP mode.
 */
#ifndef PFSE_TEST_UTIL_H
#define PFSE_TEST_UTIL_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include <pfse/common.h>

struct count_alloc {
	unsigned long allocs;   /* successful alloc calls */
	unsigned long frees;    /* free calls */
	unsigned long fail_at;  /* fail the Nth alloc call (1-based); 0 = never */
	unsigned long calls;    /* alloc calls, failed ones included */
	size_t last_align;
	size_t last_size;       /* size of the last alloc call */
	size_t bytes;           /* bytes of successful allocs */
};

static inline void *
count_alloc_fn(size_t size, size_t align, void *user)
{
	struct count_alloc *c = user;
	void *p;

	c->calls++;
	c->last_align = align;
	c->last_size = size;
	if (c->fail_at && c->calls == c->fail_at)
		return NULL;
	if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size) != 0)
		return NULL;
	c->allocs++;
	c->bytes += size;
	return p;
}

static inline void
count_free_fn(void *ptr, void *user)
{
	struct count_alloc *c = user;

	c->frees++;
	free(ptr);
}

static inline struct pfse_allocator
count_allocator(struct count_alloc *c)
{
	struct pfse_allocator a = { count_alloc_fn, count_free_fn, c };

	return a;
}

static inline int
run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* PFSE_TEST_UTIL_H */
