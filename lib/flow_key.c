/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow keys: construction, bidirectional canonicalisation, the keyed XXH3 hash and text
 * formatting. The key is a padding-free 40-byte string in network byte order, so hashing
 * and comparing it never depends on the host: that is what lets several instances that
 * share a seed agree on every hash.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <xxhash.h>

#include "internal.h"
#include "pfse/flow_key.h"
#include "flow_key_priv.h"

_Static_assert(sizeof(struct pfse_flow_key) == PFSE_FLOW_KEY_SIZE, "flow key is 40 bytes");
_Static_assert(offsetof(struct pfse_flow_key, sport) == 32, "flow key layout");
_Static_assert(offsetof(struct pfse_flow_key, zone) == 38, "flow key layout");

PFSE_API int
pfse_flow_key_set(struct pfse_flow_key *key, uint32_t family, const void *src,
		  const void *dst, uint16_t sport, uint16_t dport, uint8_t proto,
		  uint16_t zone)
{
	size_t alen;

	if (!key || !src || !dst)
		return -EINVAL;
	if (family == PFSE_FAMILY_IPV4)
		alen = 4;
	else if (family == PFSE_FAMILY_IPV6)
		alen = 16;
	else
		return -EINVAL;
	memset(key, 0, sizeof(*key));
	memcpy(key->src, src, alen);
	memcpy(key->dst, dst, alen);
	key->sport = htons(sport);
	key->dport = htons(dport);
	key->proto = proto;
	key->family = (uint8_t)family;
	key->zone = htons(zone);
	return 0;
}

PFSE_API int
pfse_flow_key_canonicalize(struct pfse_flow_key *key)
{
	if (!key || (key->family != PFSE_FAMILY_IPV4 && key->family != PFSE_FAMILY_IPV6))
		return -EINVAL;
	return pfse_key_canon(key);
}

PFSE_API int
pfse_flow_key_hash(const struct pfse_flow_key *key, uint64_t seed, uint64_t *out)
{
	if (!key || !out)
		return -EINVAL;
	*out = pfse_key_hash(key, seed);
	return 0;
}

PFSE_API int
pfse_flow_key_hash_bulk(const struct pfse_flow_key *keys, unsigned n, uint64_t seed,
			uint64_t *out)
{
	if (n > PFSE_BURST_MAX || (n > 0 && (!keys || !out)))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		out[i] = pfse_key_hash(&keys[i], seed);
	return (int)n;
}

static const char *
proto_name(uint8_t proto, uint8_t family)
{
	switch (proto) {
	case 1: return family == PFSE_FAMILY_IPV4 ? "icmp" : NULL;
	case 6: return "tcp";
	case 17: return "udp";
	case 33: return "dccp";
	case 58: return family == PFSE_FAMILY_IPV6 ? "icmp6" : NULL;
	case 132: return "sctp";
	case 136: return "udplite";
	default: return NULL;
	}
}

PFSE_API int
pfse_flow_key_format(const struct pfse_flow_key *key, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], pname[16], zone[16];
	const char *pn;
	int af, n;

	if (!key || (!buf && len > 0))
		return -EINVAL;
	if (key->family == PFSE_FAMILY_IPV4)
		af = AF_INET;
	else if (key->family == PFSE_FAMILY_IPV6)
		af = AF_INET6;
	else
		return -EINVAL;
	if (!inet_ntop(af, key->src, s, sizeof(s)) || !inet_ntop(af, key->dst, d, sizeof(d)))
		return -EINVAL;
	pn = proto_name(key->proto, key->family);
	if (!pn) {
		snprintf(pname, sizeof(pname), "proto-%u", (unsigned)key->proto);
		pn = pname;
	}
	zone[0] = '\0';
	if (key->zone)
		snprintf(zone, sizeof(zone), " zone %u", (unsigned)ntohs(key->zone));
	if (af == AF_INET)
		n = snprintf(buf, len, "%s %s:%u > %s:%u%s", pn, s, (unsigned)ntohs(key->sport),
			     d, (unsigned)ntohs(key->dport), zone);
	else
		n = snprintf(buf, len, "%s [%s]:%u > [%s]:%u%s", pn, s,
			     (unsigned)ntohs(key->sport), d, (unsigned)ntohs(key->dport), zone);
	return n < 0 ? -EINVAL : n;
}
