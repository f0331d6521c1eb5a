/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file flow_key.h
 * @brief The canonical flow key (IPv4/IPv6 5-tuple plus a zone) and its keyed hash.
 *
 * A key is a 40-byte value with no padding, compared and hashed as a byte string, so two
 * keys are equal exactly when memcmp() says so. Every multi-byte field is stored in
 * network byte order, so a key, and its hash under a given seed, is the same on every
 * host: several libpfse instances that share a seed agree on every hash without talking.
 *
 * Field rules (the parser follows them; applications building keys by hand must too,
 * pfse_flow_key_set() does):
 *  - `family` is PFSE_FAMILY_IPV4 or PFSE_FAMILY_IPV6.
 *  - IPv4 addresses occupy the first 4 bytes of `src`/`dst`; the other 12 are zero.
 *  - `sport`/`dport` are the TCP, UDP, SCTP (and UDP-Lite, DCCP) ports. For ICMP and
 *    ICMPv6 echo request/reply both hold the echo identifier, so both directions of a
 *    ping share a key; for other ICMP messages `sport` is 0 and `dport` is type << 8 |
 *    code. For every other protocol, and for IP fragments, both ports are 0.
 *  - `zone` is a 16-bit VLAN or zone id (see the parser's `zone_mode`), 0 when none.
 */
#ifndef PFSE_FLOW_KEY_H
#define PFSE_FLOW_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <pfse/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup flow_key Flow keys
 * @{ */

/** pfse_flow_key::family of an IPv4 key. */
#define PFSE_FAMILY_IPV4 4u
/** pfse_flow_key::family of an IPv6 key. */
#define PFSE_FAMILY_IPV6 6u

/** A canonical flow key: 40 bytes, no padding, network byte order throughout. */
struct pfse_flow_key {
	uint8_t src[16];  /**< source address (IPv4: first 4 bytes, rest zero) */
	uint8_t dst[16];  /**< destination address */
	uint16_t sport;   /**< source port, network byte order */
	uint16_t dport;   /**< destination port, network byte order */
	uint8_t proto;    /**< IP protocol number (IPv6: the upper-layer protocol) */
	uint8_t family;   /**< PFSE_FAMILY_IPV4 or PFSE_FAMILY_IPV6 */
	uint16_t zone;    /**< VLAN or zone id, network byte order, 0 for none */
};

/** Size of struct pfse_flow_key; part of the ABI. */
#define PFSE_FLOW_KEY_SIZE 40u

/**
 * Builds a key from host-order values, zeroing every byte it does not set.
 *
 * @param key    Key to fill.
 * @param family PFSE_FAMILY_IPV4 (addresses are 4 bytes) or PFSE_FAMILY_IPV6 (16 bytes).
 * @param src    Source address bytes, in network order.
 * @param dst    Destination address bytes, in network order.
 * @param sport  Source port, host order.
 * @param dport  Destination port, host order.
 * @param proto  IP protocol number.
 * @param zone   Zone / VLAN id, host order.
 * @return 0, or `-EINVAL` if a pointer is NULL or `family` is unknown (`key` untouched).
 * @note Thread-safe.
 * @since 0.1
 */
PFSE_API int
pfse_flow_key_set(struct pfse_flow_key *key, uint32_t family, const void *src,
		  const void *dst, uint16_t sport, uint16_t dport, uint8_t proto,
		  uint16_t zone);

/**
 * Puts a key in bidirectional canonical form: the endpoint (address, then port) that
 * compares lower bytewise becomes the source. Both directions of a connection then give
 * the same key.
 *
 * @param key Key to canonicalise in place.
 * @return 1 if the endpoints were swapped (the packet travels from the canonical `dst` to
 *         `src`), 0 if not, `-EINVAL` if `key` is NULL or its family is unknown.
 * @note Thread-safe.
 * @since 0.1
 */
PFSE_API int
pfse_flow_key_canonicalize(struct pfse_flow_key *key);

/**
 * Keyed 64-bit hash of a key: XXH3-64 of its 40 bytes with `seed`. The value is stable
 * across hosts and library versions within one soname, so instances configured with the
 * same seed agree; with a random seed (pfse_random_seed()) it resists precomputed
 * collisions.
 *
 * @param key  Key to hash.
 * @param seed 64-bit seed.
 * @param out  Receives the hash.
 * @return 0, or `-EINVAL` if `key` or `out` is NULL.
 * @note Thread-safe.
 * @since 0.1
 */
PFSE_API int
pfse_flow_key_hash(const struct pfse_flow_key *key, uint64_t seed, uint64_t *out);

/**
 * Hashes `n` contiguous keys (see pfse_flow_key_hash()).
 *
 * @param keys Array of `n` keys.
 * @param n    Number of keys, 0 to PFSE_BURST_MAX.
 * @param seed 64-bit seed.
 * @param out  Array of `n` hashes.
 * @return `n`, or `-EINVAL` if a pointer is NULL while `n` > 0, or `n` > PFSE_BURST_MAX.
 * @note Thread-safe.
 * @since 0.1
 */
PFSE_API int
pfse_flow_key_hash_bulk(const struct pfse_flow_key *keys, unsigned n, uint64_t seed,
			uint64_t *out);

/**
 * Formats a key as text, for logs and reports, e.g. `tcp 10.0.0.1:1234 > 10.0.0.2:80` or
 * `udp [2001:db8::1]:53 > [2001:db8::2]:5353 zone 7`.
 *
 * @param key Key to format.
 * @param buf Destination buffer; always NUL-terminated when `len` > 0.
 * @param len Size of `buf`. PFSE_FLOW_KEY_STRLEN always suffices.
 * @return The length of the full text (excluding the NUL), even if it was truncated, or
 *         `-EINVAL` if `key` is NULL, `buf` is NULL with `len` > 0, or the family is unknown.
 * @note Thread-safe.
 * @since 0.1
 */
PFSE_API int
pfse_flow_key_format(const struct pfse_flow_key *key, char *buf, size_t len);

/** A buffer of this size always holds pfse_flow_key_format()'s output. */
#define PFSE_FLOW_KEY_STRLEN 128u

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PFSE_FLOW_KEY_H */
