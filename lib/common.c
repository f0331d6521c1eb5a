/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pieces every object shares: error strings, the version, the allocator shim, the
 * versioned-params loader and the random seed. Kept apart from the objects so that each
 * object's file holds only its own logic.
 */
#define _GNU_SOURCE /* getrandom() */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "internal.h"
#include "pfse/version.h"

PFSE_API const char *
pfse_strerror(int err)
{
	/* In long: -INT_MIN does not fit in an int. */
	long e = err < 0 ? -(long)err : (long)err;

	switch (e) {
	case 0: return "success";
	case EINVAL: return "invalid argument";
	case ENOMEM: return "out of memory";
	case ENOSPC: return "no space left (table or budget full)";
	case ENOENT: return "no such entry";
	case EEXIST: return "entry already exists";
	case ENOTSUP: return "operation or value not supported";
	case EBADMSG: return "malformed input rejected";
	case EIO: return "input/output error";
	case ERANGE: return "value out of range";
	case EAGAIN: return "resource temporarily unavailable";
	case ENODATA: return "no data available";
	case EOVERFLOW: return "value too large for its type";
	case EPROTO: return "format version not supported";
	case EILSEQ: return "corrupt data (checksum mismatch)";
	case EBUSY: return "resource busy";
	case ENOSYS: return "function not implemented";
	case EPERM: return "operation not permitted";
	case EACCES: return "permission denied";
	default: return "unknown error";
	}
}

PFSE_API unsigned
pfse_version_number(void)
{
	return PFSE_VERSION_NUMBER;
}

PFSE_API const char *
pfse_version_string(void)
{
	return PFSE_VERSION_STRING;
}

PFSE_API int
pfse_random_seed(uint64_t *out)
{
	uint64_t v;
	ssize_t r;

	if (!out)
		return -EINVAL;
	do {
		r = getrandom(&v, sizeof(v), 0);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r != (ssize_t)sizeof(v))
		return -EIO;
	*out = v;
	return 0;
}

int
pfse_allocator_check(const struct pfse_allocator *a)
{
	if (!a->alloc != !a->free)
		return -EINVAL;
	return 0;
}

void *
pfse_zalloc(const struct pfse_allocator *a, size_t size, size_t align)
{
	void *p;

	if (align < sizeof(void *))
		align = sizeof(void *);
	if (size == 0 || (align & (align - 1)) != 0 || align > 4096)
		return NULL;
	if (a && a->alloc) {
		p = a->alloc(size, align, a->user);
	} else {
		if (posix_memalign(&p, align, size) != 0)
			p = NULL;
	}
	if (p)
		memset(p, 0, size);
	return p;
}

void
pfse_free(const struct pfse_allocator *a, void *ptr)
{
	if (!ptr)
		return;
	if (a && a->free)
		a->free(ptr, a->user);
	else
		free(ptr);
}

int
pfse_params_load(void *dst, size_t known, size_t min, const void *src)
{
	size_t size;
	const unsigned char *s = src;

	memcpy(&size, src, sizeof(size));
	/* The upper bound keeps a garbage size (an uninitialised struct) from sending the
	 * zero check below far past the caller's object. */
	if (size < min || size < sizeof(size_t) || size > PFSE_PARAMS_SIZE_MAX)
		return -EINVAL;
	/* A newer caller may pass a larger struct: accept it only if every field we do not
	 * know is zero, i.e. asks for the default behaviour. */
	for (size_t i = known; i < size; i++)
		if (s[i] != 0)
			return -EINVAL;
	memset(dst, 0, known);
	memcpy(dst, src, size < known ? size : known);
	return 0;
}
