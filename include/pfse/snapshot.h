/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file snapshot.h
 * @brief Snapshots: what a deployment has learned (class histories, fitted model
 *        parameters, LSTM weights, the application's own data) in one checked file.
 *
 * A snapshot is a list of named sections, each of a type: a class history
 * (pfse_history_save()'s bytes), a predictor's model (its backend's name and its fitted
 * struct pfse_model_params), an LSTM model (pfse_lstm_save()'s bytes), or the
 * application's own bytes (types from PFSE_SNAP_USER). Sections are put into a snapshot
 * in memory, written to a file, read back, and taken out again into live objects.
 *
 * The file: magic "PFSESNAP", a format version, the section count and the total length,
 * then each section (type, name, length, bytes; 8-byte aligned), then an XXH3-64 checksum
 * of everything before it; all integers little-endian. pfse_snapshot_parse() checks the
 * whole of it (and each typed section's own format) before it builds anything: a
 * truncated, bit-flipped, foreign or newer file gets its own error code, and nothing is
 * half-loaded. Taking a section out (pfse_snapshot_get_history() and the others) leaves
 * the caller's objects as they were when it fails.
 *
 * pfse_snapshot_write() never leaves a partly written file under the snapshot's name: it
 * writes a temporary file in the same directory, fsyncs it, renames it over the old
 * snapshot and fsyncs the directory. A process killed at any moment leaves either the
 * old snapshot or the new one (and, at worst, a stale temporary file named
 * `<path>.tmp.XXXXXX`).
 *
 * @note A snapshot object is not thread-safe: one thread at a time. These calls are off
 *       the packet path (they allocate and do file I/O).
 */
#ifndef PFSE_SNAPSHOT_H
#define PFSE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include <pfse/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup snapshot Snapshots
 * @{ */

/** @name Section types
 * @{ */
/** A class history: pfse_history_save()'s bytes. */
#define PFSE_SNAP_HISTORY 1u
/** A predictor's model: its backend's name and struct pfse_model_params. */
#define PFSE_SNAP_MODEL 2u
/** An LSTM model: pfse_lstm_save()'s bytes (the LSTM model file). */
#define PFSE_SNAP_LSTM 3u
/** First type left to the application (its bytes are not interpreted). */
#define PFSE_SNAP_USER 0x10000u
/** @} */

/** Longest section name, in bytes (names are non-empty, without a NUL). */
#define PFSE_SNAP_NAME_MAX 64u
/** Most sections in one snapshot. */
#define PFSE_SNAP_SECTIONS_MAX 4096u
/** Longest backend name in a PFSE_SNAP_MODEL section. */
#define PFSE_SNAP_BACKEND_MAX 32u

struct pfse_snapshot;
struct pfse_history;
struct pfse_lstm;
struct pfse_predictor;
struct pfse_model_params;

/**
 * Creates an empty snapshot.
 * @param a   Allocator, or NULL for malloc/free.
 * @param out Receives the snapshot.
 * @return 0, `-EINVAL` or `-ENOMEM`.
 * @since 0.2
 */
PFSE_API int
pfse_snapshot_create(const struct pfse_allocator *a, struct pfse_snapshot **out);

/** Frees a snapshot (NULL is ignored). @since 0.2 */
PFSE_API void
pfse_snapshot_destroy(struct pfse_snapshot *s);

/**
 * Puts a copy of `len` bytes as the section (`type`, `name`), replacing a section of the
 * same type and name.
 * @param s    Snapshot.
 * @param type PFSE_SNAP_USER or above (the typed sections have their own calls).
 * @param name 1 to PFSE_SNAP_NAME_MAX bytes, NUL-terminated.
 * @param data The bytes (may be NULL when `len` is 0).
 * @param len  Their number, below 2^40.
 * @return 0; `-EINVAL` (bad type, name or arguments); `-ENOSPC` (PFSE_SNAP_SECTIONS_MAX
 *         sections already); `-ENOMEM`. On error the snapshot is unchanged.
 * @since 0.2
 */
PFSE_API int
pfse_snapshot_put(struct pfse_snapshot *s, uint32_t type, const char *name, const void *data,
		  size_t len);

/** Puts a history (pfse_history_save()) as section (PFSE_SNAP_HISTORY, name).
 *  @return As pfse_snapshot_put(). @since 0.2 */
PFSE_API int
pfse_snapshot_put_history(struct pfse_snapshot *s, const char *name, struct pfse_history *h);

/** Puts an LSTM model (pfse_lstm_save()) as section (PFSE_SNAP_LSTM, name).
 *  @return As pfse_snapshot_put(). @since 0.2 */
PFSE_API int
pfse_snapshot_put_lstm(struct pfse_snapshot *s, const char *name, const struct pfse_lstm *m);

/** Puts a predictor's backend name and current (for example fitted) model parameters
 *  (pfse_predictor_model_params()) as section (PFSE_SNAP_MODEL, name).
 *  @return As pfse_snapshot_put(). @since 0.2 */
PFSE_API int
pfse_snapshot_put_model(struct pfse_snapshot *s, const char *name,
			const struct pfse_predictor *pred);

/**
 * Finds a section.
 * @param s    Snapshot.
 * @param type Its type.
 * @param name Its name.
 * @param data Receives a pointer to its bytes, valid until the snapshot changes.
 * @param len  Receives their number.
 * @return 0; `-ENOENT` (no such section; outputs untouched); `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_snapshot_get(const struct pfse_snapshot *s, uint32_t type, const char *name,
		  const void **data, size_t *len);

/** Loads section (PFSE_SNAP_HISTORY, name) into `h` (pfse_history_load(): on any error
 *  `h` is unchanged). @return 0, `-ENOENT`, or pfse_history_load()'s errors. @since 0.2 */
PFSE_API int
pfse_snapshot_get_history(const struct pfse_snapshot *s, const char *name,
			  struct pfse_history *h);

/** Builds the LSTM model of section (PFSE_SNAP_LSTM, name) (pfse_lstm_load()).
 *  @return 0, `-ENOENT`, or pfse_lstm_load()'s errors. @since 0.2 */
PFSE_API int
pfse_snapshot_get_lstm(const struct pfse_snapshot *s, const char *name,
		       const struct pfse_allocator *a, struct pfse_lstm **out);

/**
 * Reads section (PFSE_SNAP_MODEL, name): the backend's name (for
 * pfse_predictor_backend()) and the model parameters to create a predictor with.
 * @param s       Snapshot.
 * @param name    Section name.
 * @param backend Receives the backend name, NUL-terminated (PFSE_SNAP_BACKEND_MAX + 1
 *                bytes).
 * @param mp      Receives the parameters; its `size` must be set (pfse_model_params_init()).
 * @return 0; `-ENOENT`; `-EINVAL`. Outputs untouched on error.
 * @since 0.2
 */
PFSE_API int
pfse_snapshot_get_model(const struct pfse_snapshot *s, const char *name,
			char backend[PFSE_SNAP_BACKEND_MAX + 1], struct pfse_model_params *mp);

/** Number of sections. @since 0.2 */
PFSE_API uint32_t
pfse_snapshot_count(const struct pfse_snapshot *s);

/**
 * The i-th section, in the order they were put (a replaced section keeps its place).
 * @return 0, or `-EINVAL` (i out of range, NULL arguments; outputs untouched).
 * @since 0.2
 */
PFSE_API int
pfse_snapshot_section(const struct pfse_snapshot *s, uint32_t i, uint32_t *type,
		      const char **name, const void **data, size_t *len);

/**
 * Serialises a snapshot. With `buf` NULL or too small, only reports the size.
 * @return 0, `-ENOSPC` (*out says how much is needed), or `-EINVAL`.
 * @since 0.2
 */
PFSE_API int
pfse_snapshot_serialize(const struct pfse_snapshot *s, void *buf, size_t len, size_t *out);

/**
 * Builds a snapshot from serialised bytes, checked whole first.
 * @param buf The bytes.
 * @param len Their number.
 * @param a   Allocator for the snapshot, or NULL.
 * @param out Receives the snapshot (untouched on error).
 * @return 0; `-EBADMSG` (not a snapshot: magic, lengths, a section's name or type, or a
 *         typed section's own format); `-EPROTO` (a newer format version); `-EILSEQ`
 *         (checksum mismatch, or a typed section's checksum); `-EINVAL`; `-ENOMEM`.
 * @since 0.2
 */
PFSE_API int
pfse_snapshot_parse(const void *buf, size_t len, const struct pfse_allocator *a,
		    struct pfse_snapshot **out);

/**
 * Writes a snapshot to `path` atomically: a temporary file next to it, fsync, rename over
 * `path`, fsync of the directory.
 * @return 0; `-EINVAL`; `-ENOMEM`; or the negative errno of the failing system call
 *         (the temporary file is removed; `path` is as it was).
 * @since 0.2
 */
PFSE_API int
pfse_snapshot_write(const struct pfse_snapshot *s, const char *path);

/**
 * Reads and parses the snapshot file at `path`.
 * @return 0; pfse_snapshot_parse()'s errors; `-EFBIG` (over 2^40 bytes); or the negative
 *         errno of open/read (`-ENOENT` when there is no file).
 * @since 0.2
 */
PFSE_API int
pfse_snapshot_read(const char *path, const struct pfse_allocator *a,
		   struct pfse_snapshot **out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PFSE_SNAPSHOT_H */
