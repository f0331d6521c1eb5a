/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file common.h
 * @brief Export macro, error model, allocator hooks and versioned-params rules shared by
 * every libpfse object.
 *
 * Conventions used by the whole API:
 *  - Functions that can fail return `int`: 0 or a non-negative count on success, a negative
 *    errno (`-EINVAL`, `-ENOMEM`, `-ENOSPC`, `-ENOENT`, `-EEXIST`, `-ENOTSUP`, ...) on
 *    failure. pfse_strerror() turns either sign into a static string.
 *  - Output parameters come last and are left untouched on failure.
 *  - Every params struct starts with `size_t size` and is prepared with its
 *    `pfse_X_params_init()`. The library reads only the fields that `size` covers and
 *    rejects a struct whose bytes beyond the fields it knows are not zero (`-EINVAL`).
 *  - The library never aborts, exits, prints or reads a clock.
 */
#ifndef PFSE_COMMON_H
#define PFSE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup common Common definitions
 * @{ */

#ifndef PFSE_API
#if defined(__GNUC__) && __GNUC__ >= 4
/** Marks a declaration as part of the exported ABI (default visibility). */
#define PFSE_API __attribute__((visibility("default")))
#else
#define PFSE_API
#endif
#endif

#ifndef PFSE_DEPRECATED
#if defined(__GNUC__)
/** Marks a declaration that will be removed at the next soname bump. */
#define PFSE_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define PFSE_DEPRECATED(msg)
#endif
#endif

/** Largest burst accepted by the packet-path `_burst`/`_bulk` calls. */
#define PFSE_BURST_MAX 64u

/**
 * Allocator hooks, set per object in its params (never globally).
 *
 * When both `alloc` and `free` are NULL the C library's allocator is used. Setting only
 * one of them is an error (`-EINVAL` at create). Objects allocate only in their
 * `_create` call and free only in their `_destroy` call, never on the packet path.
 *
 * The layout of this struct is frozen: it is embedded by value in params structs.
 */
struct pfse_allocator {
	/** Returns `size` bytes aligned to `align` (a power of two, at most 4096), or NULL. */
	void *(*alloc)(size_t size, size_t align, void *user);
	/** Releases a block returned by `alloc`. Never called with NULL. */
	void (*free)(void *ptr, void *user);
	/** Passed as the last argument of both hooks. */
	void *user;
};

/**
 * Describes an error code.
 *
 * @param err A negative errno as returned by libpfse (a positive errno is accepted too).
 * @return A static, NUL-terminated English string; never NULL. Unknown codes give
 *         "unknown error".
 * @note Thread-safe.
 * @since 0.1
 */
PFSE_API const char *
pfse_strerror(int err);

/**
 * Fills `out` with 64 random bits from the operating system's generator, for seeding
 * keyed hashes. This is the only function of the library that makes a system call;
 * objects that need a seed call it from their `_create`, never on the packet path.
 *
 * @param out Receives the seed.
 * @return 0, `-EINVAL` if `out` is NULL, or the negative errno of getrandom(2).
 * @note Thread-safe.
 * @since 0.1
 */
PFSE_API int
pfse_random_seed(uint64_t *out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PFSE_COMMON_H */
