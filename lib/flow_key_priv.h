/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inline key helpers for the library's own packet-path code (parser, later the flow
 * table): no argument checks, the callers have validated already.
 */
#ifndef PFSE_FLOW_KEY_PRIV_H
#define PFSE_FLOW_KEY_PRIV_H

#include <stdint.h>
#include <string.h>

#include <xxhash.h>

#include "pfse/flow_key.h"

static inline uint64_t
pfse_key_hash(const struct pfse_flow_key *key, uint64_t seed)
{
	return XXH3_64bits_withSeed(key, sizeof(*key), seed);
}

/* Orders the endpoints so the lower (address, port) is the source; 1 if swapped. */
static inline int
pfse_key_canon(struct pfse_flow_key *key)
{
	int c = memcmp(key->src, key->dst, sizeof(key->src));
	uint8_t tmp[16];
	uint16_t p;

	if (c < 0)
		return 0;
	if (c == 0) {
		/* Ports are big-endian: compare as numbers, which is the bytewise order. */
		uint16_t a = (uint16_t)(((const uint8_t *)&key->sport)[0] << 8 |
					((const uint8_t *)&key->sport)[1]);
		uint16_t b = (uint16_t)(((const uint8_t *)&key->dport)[0] << 8 |
					((const uint8_t *)&key->dport)[1]);
		if (a <= b)
			return 0;
	}
	memcpy(tmp, key->src, sizeof(tmp));
	memcpy(key->src, key->dst, sizeof(tmp));
	memcpy(key->dst, tmp, sizeof(tmp));
	p = key->sport;
	key->sport = key->dport;
	key->dport = p;
	return 1;
}

#endif /* PFSE_FLOW_KEY_PRIV_H */
