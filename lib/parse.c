/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet parser: link-layer header -> IPv4/IPv6 (options, fragments, extension
 * headers) -> L4 ports -> canonical flow key.
 *
 * Every read is preceded by a bounds check against `caplen` (what is readable) and every
 * length field is checked against the wire length (what the packet claims), so no input
 * can make the parser read out of bounds. Each rejection has its own reason code so a
 * firewall can count and explain what it dropped. The walk over VLAN tags, MPLS labels,
 * NFLOG TLVs and IPv6 extension headers is bounded, so the work per frame is bounded
 * whatever the input.
 *
 * The parser is a pure function of (parser params, frame): no state is written after
 * create, which is what makes one parser safe to share between threads.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "internal.h"
#include "flow_key_priv.h"
#include "pfse/parse.h"

#if defined(__x86_64__) || defined(__aarch64__)
_Static_assert(sizeof(struct pfse_pkt) == 128, "struct pfse_pkt is 128 bytes on LP64");
_Static_assert(offsetof(struct pfse_pkt, key) == 32, "pfse_pkt layout");
_Static_assert(offsetof(struct pfse_pkt, status) == 98, "pfse_pkt layout");
#endif
_Static_assert(sizeof(struct pfse_pkt) - offsetof(struct pfse_pkt, key) ==
		       sizeof(((struct pfse_pkt *)0)->key) + 8 + 4 + 4 + 2 * 5 + 4 + 26,
	       "pfse_pkt output area has no hidden padding");

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ_OLD 0x9100
#define ETH_P_MPLS_UC 0x8847
#define ETH_P_MPLS_MC 0x8848
#define ETH_P_PPPOE_SES 0x8864

#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

#define MAX_VLAN_TAGS 4
#define MAX_MPLS_LABELS 8
#define MAX_NFLOG_TLVS 64
#define NFULA_PAYLOAD 9
#define NLA_TYPE_MASK 0x3fff
#define NFLOG_AF_INET 2
#define NFLOG_AF_INET6 10

#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_DCCP_ 33
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_SCTP_ 132
#define IPPROTO_UDPLITE_ 136

#define DEFAULT_MAX_EXT 8u
#define L3_OFF_MAX 0xff00u
#define LIMIT_MAX_EXT 64u

#define KNOWN_FLAGS (PFSE_PARSE_F_BIDIR | PFSE_PARSE_F_HASH | PFSE_PARSE_F_FIXED_SEED)

struct pfse_parser {
	uint32_t linktype;
	uint32_t flags;
	uint32_t zone_mode;
	uint32_t max_ext;
	uint64_t seed;
	struct pfse_allocator alloc;
};

static const char *const status_names[PFSE_PARSE_STATUS_COUNT] = {
	[PFSE_PARSE_OK] = "ok",
	[PFSE_PARSE_ERR_LEN] = "bad-frame-length",
	[PFSE_PARSE_ERR_L2_TRUNCATED] = "l2-truncated",
	[PFSE_PARSE_ERR_L2_UNSUPPORTED] = "l2-unsupported",
	[PFSE_PARSE_ERR_L2_DEPTH] = "l2-too-deep",
	[PFSE_PARSE_ERR_L3_TRUNCATED] = "l3-truncated",
	[PFSE_PARSE_ERR_L3_VERSION] = "l3-bad-version",
	[PFSE_PARSE_ERR_L3_HDR_LEN] = "l3-bad-header-length",
	[PFSE_PARSE_ERR_L3_TOTAL_LEN] = "l3-bad-total-length",
	[PFSE_PARSE_ERR_L3_EXT_DEPTH] = "l3-too-many-ext-headers",
	[PFSE_PARSE_ERR_L3_EXT_LEN] = "l3-bad-ext-header-length",
	[PFSE_PARSE_ERR_L3_FRAG] = "l3-bad-fragment",
	[PFSE_PARSE_ERR_L4_TRUNCATED] = "l4-truncated",
	[PFSE_PARSE_ERR_L4_HDR_LEN] = "l4-bad-header-length",
	[PFSE_PARSE_ERR_L4_LEN] = "l4-bad-length",
};

PFSE_API const char *
pfse_parse_status_str(unsigned status)
{
	if (status >= PFSE_PARSE_STATUS_COUNT)
		return "unknown";
	return status_names[status];
}

static bool
linktype_supported(uint32_t lt)
{
	switch (lt) {
	case PFSE_LINKTYPE_ETHERNET:
	case PFSE_LINKTYPE_DLT_RAW:
	case PFSE_LINKTYPE_DLT_RAW_ALT:
	case PFSE_LINKTYPE_RAW:
	case PFSE_LINKTYPE_LINUX_SLL:
	case PFSE_LINKTYPE_IPV4:
	case PFSE_LINKTYPE_IPV6:
	case PFSE_LINKTYPE_NFLOG:
	case PFSE_LINKTYPE_LINUX_SLL2:
		return true;
	default:
		return false;
	}
}

/* Loads and validates params into `prm` (defaults applied). 0, -EINVAL or -ENOTSUP. */
static int
load_params(const struct pfse_parser_params *p, struct pfse_parser_params *prm)
{
	int r;

	r = pfse_params_load(prm, sizeof(*prm), offsetof(struct pfse_parser_params, linktype) +
				       sizeof(prm->linktype), p);
	if (r < 0)
		return r;
	if (prm->flags & ~KNOWN_FLAGS)
		return -EINVAL;
	if (prm->zone_mode > PFSE_ZONE_NONE)
		return -EINVAL;
	if (prm->max_ext_hdrs > LIMIT_MAX_EXT)
		return -EINVAL;
	if (pfse_allocator_check(&prm->allocator) < 0)
		return -EINVAL;
	if (prm->linktype == 0)
		prm->linktype = PFSE_LINKTYPE_ETHERNET;
	if (!linktype_supported(prm->linktype))
		return -ENOTSUP;
	return 0;
}

PFSE_API int
pfse_parser_memsize(const struct pfse_parser_params *p, size_t *out)
{
	struct pfse_parser_params prm;
	int r;

	if (!p || !out)
		return -EINVAL;
	r = load_params(p, &prm);
	if (r < 0)
		return r;
	*out = sizeof(struct pfse_parser);
	return 0;
}

PFSE_API int
pfse_parser_create(const struct pfse_parser_params *p, struct pfse_parser **out)
{
	struct pfse_parser_params prm;
	struct pfse_parser *ps;
	uint64_t seed = 0;
	int r;

	if (!p || !out)
		return -EINVAL;
	r = load_params(p, &prm);
	if (r < 0)
		return r;
	if (prm.flags & PFSE_PARSE_F_FIXED_SEED) {
		seed = prm.seed;
	} else if (prm.flags & PFSE_PARSE_F_HASH) {
		r = pfse_random_seed(&seed);
		if (r < 0)
			return r;
	}
	ps = pfse_zalloc(&prm.allocator, sizeof(*ps), 64);
	if (!ps)
		return -ENOMEM;
	ps->linktype = prm.linktype;
	ps->flags = prm.flags;
	ps->zone_mode = prm.zone_mode;
	ps->max_ext = prm.max_ext_hdrs ? prm.max_ext_hdrs : DEFAULT_MAX_EXT;
	ps->seed = seed;
	ps->alloc = prm.allocator;
	*out = ps;
	return 0;
}

PFSE_API void
pfse_parser_destroy(struct pfse_parser *parser)
{
	struct pfse_allocator a;

	if (!parser)
		return;
	a = parser->alloc;
	pfse_free(&a, parser);
}

PFSE_API int
pfse_parser_seed(struct pfse_parser *parser, uint64_t *out)
{
	if (!parser || !out)
		return -EINVAL;
	*out = parser->seed;
	return 0;
}

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint16_t
rd16_host(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Offsets are 16-bit in struct pfse_pkt; one that does not fit is reported as unknown. */
static inline uint16_t
off16(uint32_t off)
{
	return off < PFSE_OFF_NONE ? (uint16_t)off : (uint16_t)PFSE_OFF_NONE;
}

/* Parse state carried from the IP layer to the L4 layer. */
struct l3_result {
	uint32_t l4;      /* offset of the L4 header (or fragment data) */
	uint32_t l4len;   /* bytes of IP payload from l4 to the end of the IP packet */
	const uint8_t *addr; /* source address; the destination follows it */
	uint8_t proto;
	uint8_t family;
	uint16_t sport, dport; /* raw (network order) port bytes, 0 when none */
};

/*
 * L4: ports, TCP flags, payload offset. `frag` is PFSE_PKT_F_FRAG / _FRAG_LATER bits.
 * Returns a status.
 */
static inline unsigned
parse_l4(const uint8_t *d, uint32_t cap, struct pfse_pkt *pkt, struct l3_result *r,
	 uint32_t pflags)
{
	const uint8_t *h = d + r->l4;
	uint32_t l4len = r->l4len;
	uint32_t have = cap - r->l4; /* r->l4 <= cap, checked by the caller */
	bool frag = pflags & PFSE_PKT_F_FRAG;
	uint32_t hlen;

	if (pflags & PFSE_PKT_F_FRAG_LATER)
		return PFSE_PARSE_OK; /* no L4 header in this fragment */

	switch (r->proto) {
	case IPPROTO_TCP_:
		if (l4len < 20)
			return frag ? PFSE_PARSE_ERR_L3_FRAG : PFSE_PARSE_ERR_L4_HDR_LEN;
		if (have < 20)
			return PFSE_PARSE_ERR_L4_TRUNCATED;
		hlen = (uint32_t)(h[12] >> 4) * 4;
		if (hlen < 20)
			return PFSE_PARSE_ERR_L4_HDR_LEN;
		if (hlen > l4len)
			return frag ? PFSE_PARSE_ERR_L3_FRAG : PFSE_PARSE_ERR_L4_HDR_LEN;
		pkt->tcp_flags = h[13];
		break;
	case IPPROTO_UDP_:
	case IPPROTO_UDPLITE_:
		if (l4len < 8)
			return frag ? PFSE_PARSE_ERR_L3_FRAG : PFSE_PARSE_ERR_L4_HDR_LEN;
		if (have < 8)
			return PFSE_PARSE_ERR_L4_TRUNCATED;
		hlen = 8;
		/* A first fragment's UDP length covers the whole datagram; UDP-Lite's field is
		 * the checksum coverage. Only whole UDP datagrams are checked. */
		if (r->proto == IPPROTO_UDP_ && !frag) {
			uint32_t ulen = rd16(h + 4);

			bool jumbo_zero = ulen == 0 && (pflags & PFSE_PKT_F_JUMBO);

			if (!jumbo_zero && (ulen < 8 || ulen > l4len))
				return PFSE_PARSE_ERR_L4_LEN;
		}
		break;
	case IPPROTO_SCTP_:
		if (l4len < 12)
			return frag ? PFSE_PARSE_ERR_L3_FRAG : PFSE_PARSE_ERR_L4_HDR_LEN;
		if (have < 12)
			return PFSE_PARSE_ERR_L4_TRUNCATED;
		hlen = 12;
		break;
	case IPPROTO_DCCP_:
		if (l4len < 12)
			return frag ? PFSE_PARSE_ERR_L3_FRAG : PFSE_PARSE_ERR_L4_HDR_LEN;
		if (have < 12)
			return PFSE_PARSE_ERR_L4_TRUNCATED;
		hlen = (uint32_t)h[4] * 4;
		if (hlen < 12)
			return PFSE_PARSE_ERR_L4_HDR_LEN;
		if (hlen > l4len)
			return frag ? PFSE_PARSE_ERR_L3_FRAG : PFSE_PARSE_ERR_L4_HDR_LEN;
		break;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		if ((r->proto == IPPROTO_ICMP_) != (r->family == PFSE_FAMILY_IPV4))
			goto other; /* ICMPv4 over IPv6 or the reverse: an opaque protocol */
		if (l4len < 8)
			return PFSE_PARSE_ERR_L4_HDR_LEN;
		if (have < 8)
			return PFSE_PARSE_ERR_L4_TRUNCATED;
		pkt->l4_off = (uint16_t)r->l4;
		pkt->payload_off = off16(r->l4 + 8);
		if (frag)
			return PFSE_PARSE_OK;
		if (r->proto == IPPROTO_ICMP_ ? (h[0] == 8 || h[0] == 0)
					      : (h[0] == 128 || h[0] == 129)) {
			memcpy(&r->sport, h + 4, 2); /* echo identifier */
			memcpy(&r->dport, h + 4, 2);
		} else {
			memcpy(&r->dport, h, 2); /* type, code: big-endian type << 8 | code */
		}
		return PFSE_PARSE_OK;
	default:
	other:
		pkt->l4_off = (uint16_t)r->l4;
		pkt->payload_off = (uint16_t)r->l4;
		return PFSE_PARSE_OK;
	}
	pkt->l4_off = (uint16_t)r->l4;
	pkt->payload_off = off16(r->l4 + hlen);
	if (!frag) {
		memcpy(&r->sport, h, 2);
		memcpy(&r->dport, h + 2, 2);
	}
	return PFSE_PARSE_OK;
}

static inline unsigned
parse_ipv4(const uint8_t *d, uint32_t cap, uint32_t wend, uint32_t off, struct pfse_pkt *pkt,
	   struct l3_result *r, uint32_t *pflags)
{
	const uint8_t *ip = d + off;
	uint32_t ihl, tot, avail, fo, foff;

	/* The caller guarantees one byte: the version is judged before the length, so a
	 * short packet of the wrong version is reported as what it is. */
	if ((ip[0] >> 4) != 4)
		return PFSE_PARSE_ERR_L3_VERSION;
	if (cap - off < 20)
		return PFSE_PARSE_ERR_L3_TRUNCATED;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20)
		return PFSE_PARSE_ERR_L3_HDR_LEN;
	if (cap - off < ihl)
		return PFSE_PARSE_ERR_L3_TRUNCATED;
	tot = rd16(ip + 2);
	avail = wend - off;
	if (tot == 0) {
		/* BIG TCP / GSO: the length comes from the frame, only when it cannot fit. */
		if (avail <= 65535)
			return PFSE_PARSE_ERR_L3_TOTAL_LEN;
		tot = avail;
		*pflags |= PFSE_PKT_F_JUMBO;
	} else {
		if (tot < ihl)
			return PFSE_PARSE_ERR_L3_HDR_LEN;
		if (tot > avail)
			return PFSE_PARSE_ERR_L3_TOTAL_LEN;
	}
	if (ihl > 20)
		*pflags |= PFSE_PKT_F_IP_OPTIONS;
	fo = rd16(ip + 6);
	foff = (fo & 0x1fff) * 8;
	if ((fo & 0x2000) || foff) {
		*pflags |= PFSE_PKT_F_FRAG;
		if (foff + (tot - ihl) > 65535)
			return PFSE_PARSE_ERR_L3_FRAG; /* would reassemble past 64 KiB */
		if (foff)
			*pflags |= PFSE_PKT_F_FRAG_LATER;
	}
	pkt->tos = ip[1];
	pkt->ttl = ip[8];
	pkt->l3_len = tot;
	r->family = PFSE_FAMILY_IPV4;
	r->addr = ip + 12;
	r->proto = ip[9];
	r->l4 = off + ihl;
	r->l4len = tot - ihl;
	return PFSE_PARSE_OK;
}

static inline unsigned
parse_ipv6(const uint8_t *d, uint32_t cap, uint32_t wend, uint32_t off, uint32_t max_ext,
	   struct pfse_pkt *pkt, struct l3_result *r, uint32_t *pflags)
{
	const uint8_t *ip = d + off;
	uint32_t plen, avail, pos, end, n_ext = 0;
	uint8_t nh;

	if ((ip[0] >> 4) != 6)
		return PFSE_PARSE_ERR_L3_VERSION;
	if (cap - off < 40)
		return PFSE_PARSE_ERR_L3_TRUNCATED;
	plen = rd16(ip + 4);
	/* wend is the wire length, or the end of the NFLOG payload TLV, which may end inside
	 * the fixed header although more bytes were captured. */
	if (wend - off < 40)
		return PFSE_PARSE_ERR_L3_TOTAL_LEN;
	avail = wend - off - 40;
	if (plen == 0 && avail > 65535) {
		plen = avail; /* jumbogram / BIG TCP with the hop-by-hop option stripped */
		*pflags |= PFSE_PKT_F_JUMBO;
	} else if (plen > avail) {
		return PFSE_PARSE_ERR_L3_TOTAL_LEN;
	}
	pkt->tos = (uint8_t)(rd16(ip) >> 4);
	pkt->ttl = ip[7];
	pkt->l3_len = plen + 40;
	r->family = PFSE_FAMILY_IPV6;
	r->addr = ip + 8;

	nh = ip[6];
	pos = off + 40;
	end = pos + plen;
	for (;;) {
		enum { EXT_STD, EXT_AH, EXT_FRAG } kind;
		uint32_t hlen;

		switch (nh) {
		case 0:   /* hop-by-hop options */
		case 43:  /* routing */
		case 60:  /* destination options */
		case 135: /* mobility */
		case 139: /* HIP */
		case 140: /* shim6 */
		case 253:
		case 254: /* experimentation */
			kind = EXT_STD;
			break;
		case 51:
			kind = EXT_AH;
			break;
		case 44:
			kind = EXT_FRAG;
			break;
		default:
			goto done;
		}
		if (++n_ext > max_ext)
			return PFSE_PARSE_ERR_L3_EXT_DEPTH;
		*pflags |= PFSE_PKT_F_IPV6_EXT;
		/* The first 2 bytes (next header, length) or the whole 8-byte fragment header. */
		hlen = kind == EXT_FRAG ? 8 : 2;
		if (end - pos < hlen)
			return PFSE_PARSE_ERR_L3_EXT_LEN;
		if (cap - pos < hlen)
			return PFSE_PARSE_ERR_L3_TRUNCATED;
		if (kind == EXT_FRAG) {
			uint32_t fo = rd16(d + pos + 2);
			uint32_t foff = fo & 0xfff8;

			if (foff || (fo & 1)) {
				*pflags |= PFSE_PKT_F_FRAG;
				if (foff + (end - pos - 8) > 65535)
					return PFSE_PARSE_ERR_L3_FRAG;
				if (foff) {
					*pflags |= PFSE_PKT_F_FRAG_LATER;
					nh = d[pos];
					pos += 8;
					goto done;
				}
			}
			/* else an atomic fragment (RFC 6946): not a fragment at all */
		} else if (kind == EXT_AH) {
			hlen = ((uint32_t)d[pos + 1] + 2) * 4;
		} else {
			hlen = ((uint32_t)d[pos + 1] + 1) * 8;
		}
		if (end - pos < hlen)
			return PFSE_PARSE_ERR_L3_EXT_LEN;
		if (cap - pos < hlen)
			return PFSE_PARSE_ERR_L3_TRUNCATED;
		nh = d[pos];
		pos += hlen;
	}
done:
	/* Offsets are reported in 16 bits; only a jumbogram could carry 64 KiB of extension
	 * headers, and no legitimate one does. */
	if (pos >= PFSE_OFF_NONE)
		return PFSE_PARSE_ERR_L3_EXT_LEN;
	r->proto = nh;
	r->l4 = pos;
	r->l4len = end - pos;
	return PFSE_PARSE_OK;
}

/* 8 bytes in memory order, as one word (a no-op load on any host). */
static inline uint64_t
ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t
ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define BE64(x) (x)
#define BE32(x) (x)
#define BE16(x) (x)
/* A 4-byte address as the first 4 bytes of an 8-byte word. */
#define V4WORD(x) ((uint64_t)(x) << 32)
/* Bytes 32..39 of the key (sport, dport, proto, family, zone) in memory order. */
#define TAILWORD(sp, dp, pr, fam, zn) \
	((uint64_t)(sp) << 48 | (uint64_t)(dp) << 32 | (uint64_t)(pr) << 24 | \
	 (uint64_t)(fam) << 16 | (uint64_t)(zn))
#else
#define BE64(x) __builtin_bswap64(x)
#define BE32(x) __builtin_bswap32(x)
#define BE16(x) __builtin_bswap16(x)
#define V4WORD(x) ((uint64_t)(x))
#define TAILWORD(sp, dp, pr, fam, zn) \
	((uint64_t)(sp) | (uint64_t)(dp) << 16 | (uint64_t)(pr) << 32 | \
	 (uint64_t)(fam) << 40 | (uint64_t)(zn) << 48)
#endif

/*
 * Builds the key in registers (canonicalising it, branch-free, if asked) and stores it
 * as five aligned 8-byte words. Writing it field by field and reading it back as words,
 * for the comparison or the hash, stalled on store forwarding. Returns 1 if the
 * endpoints were swapped.
 */
static inline int
write_key(const struct pfse_parser *ps, struct pfse_pkt *pkt, const struct l3_result *r,
	  uint16_t zone)
{
	uint64_t w0, w1, w2, w3, w4, m, t;
	uint8_t *k = (uint8_t *)&pkt->key;
	uint16_t sp = r->sport, dp = r->dport;
	int swap = 0;

	if (r->family == PFSE_FAMILY_IPV4) {
		uint32_t a = ld32(r->addr), b = ld32(r->addr + 4);

		if (ps->flags & PFSE_PARSE_F_BIDIR) {
			uint32_t ka = BE32(a), kb = BE32(b);

			swap = (ka > kb) | ((ka == kb) & (BE16(sp) > BE16(dp)));
		}
		w0 = V4WORD(a);
		w1 = 0;
		w2 = V4WORD(b);
		w3 = 0;
	} else {
		w0 = ld64(r->addr);
		w1 = ld64(r->addr + 8);
		w2 = ld64(r->addr + 16);
		w3 = ld64(r->addr + 24);
		if (ps->flags & PFSE_PARSE_F_BIDIR) {
			uint64_t s0 = BE64(w0), s1 = BE64(w1), d0 = BE64(w2), d1 = BE64(w3);

			swap = (s0 > d0) |
			       ((s0 == d0) & ((s1 > d1) | ((s1 == d1) & (BE16(sp) > BE16(dp)))));
		}
	}
	m = (uint64_t)0 - (uint64_t)swap;
	t = (w0 ^ w2) & m, w0 ^= t, w2 ^= t;
	t = (w1 ^ w3) & m, w1 ^= t, w3 ^= t;
	t = (uint16_t)((sp ^ dp) & (uint16_t)m), sp ^= (uint16_t)t, dp ^= (uint16_t)t;
	w4 = TAILWORD(sp, dp, r->proto, r->family, zone);
	/* One 8-byte store per word, never through a local array: copying an array of
	 * words with 16-byte moves made each load wait on two 8-byte stores. */
	memcpy(k, &w0, 8);
	memcpy(k + 8, &w1, 8);
	memcpy(k + 16, &w2, 8);
	memcpy(k + 24, &w3, 8);
	memcpy(k + 32, &w4, 8);
	return swap;
}

/* A VLAN id as the key's zone: its two bytes in network order. */
static inline uint16_t
zone_of(uint32_t vid)
{
	uint8_t be[2] = { (uint8_t)(vid >> 8), (uint8_t)vid };
	uint16_t zone;

	memcpy(&zone, be, 2);
	return zone;
}

/* The last step of a frame that parsed: its key, hash and flags. */
static inline void
finish(const struct pfse_parser *ps, struct pfse_pkt *pkt, const struct l3_result *r,
       uint16_t zone, uint32_t pflags)
{
	if (write_key(ps, pkt, r, zone))
		pflags |= PFSE_PKT_F_REVERSE;
	if (ps->flags & PFSE_PARSE_F_HASH) {
		pkt->hash = pfse_key_hash(&pkt->key, ps->seed);
		pflags |= PFSE_PKT_F_HASH;
	}
	pkt->flags = pflags;
}

static inline unsigned
parse_frame(const struct pfse_parser *ps, struct pfse_pkt *pkt)
{
	const uint8_t *d = pkt->data;
	uint32_t cap = pkt->caplen;
	uint32_t wire = pkt->wirelen ? pkt->wirelen : cap;
	uint32_t wend, off = 0, pflags = 0, ntags = 0, innermost = 0;
	unsigned want = 0, st; /* IP version demanded by the link layer, 0 = either */
	uint16_t et, zone;
	struct l3_result r;

	r.sport = 0;
	r.dport = 0;
	if (cap == 0 || cap > wire)
		return PFSE_PARSE_ERR_LEN;
	if (cap < wire)
		pflags |= PFSE_PKT_F_SNAPPED;
	wend = wire;

	switch (ps->linktype) {
	case PFSE_LINKTYPE_ETHERNET:
		if (cap < 14)
			return PFSE_PARSE_ERR_L2_TRUNCATED;
		et = rd16(d + 12);
		off = 14;
		break;
	case PFSE_LINKTYPE_LINUX_SLL:
		if (cap < 16)
			return PFSE_PARSE_ERR_L2_TRUNCATED;
		et = rd16(d + 14);
		off = 16;
		break;
	case PFSE_LINKTYPE_LINUX_SLL2:
		if (cap < 20)
			return PFSE_PARSE_ERR_L2_TRUNCATED;
		et = rd16(d);
		off = 20;
		break;
	case PFSE_LINKTYPE_IPV4:
		want = 4;
		goto ip;
	case PFSE_LINKTYPE_IPV6:
		want = 6;
		goto ip;
	case PFSE_LINKTYPE_NFLOG: {
		unsigned tlvs = 0;

		if (cap < 4)
			return PFSE_PARSE_ERR_L2_TRUNCATED;
		if (d[0] == NFLOG_AF_INET)
			want = 4;
		else if (d[0] == NFLOG_AF_INET6)
			want = 6;
		else
			return PFSE_PARSE_ERR_L2_UNSUPPORTED;
		off = 4;
		for (;;) {
			uint32_t tlen, ttype;

			if (cap - off < 4)
				return PFSE_PARSE_ERR_L2_TRUNCATED;
			tlen = rd16_host(d + off);
			ttype = rd16_host(d + off + 2) & NLA_TYPE_MASK;
			if (tlen < 4 || tlen > cap - off)
				return PFSE_PARSE_ERR_L2_TRUNCATED;
			if (ttype == NFULA_PAYLOAD) {
				/* The packet ends with its TLV; the TLV is the "wire". */
				wend = off + tlen; /* <= cap <= wire */
				off += 4;
				goto ip;
			}
			if (++tlvs >= MAX_NFLOG_TLVS)
				return PFSE_PARSE_ERR_L2_DEPTH;
			off += (tlen + 3) & ~3u;
			if (off > cap)
				return PFSE_PARSE_ERR_L2_TRUNCATED;
		}
	}
	default: /* raw IP */
		goto ip;
	}

	/* Ethernet-style dispatch on an ethertype at d + off - 2. */
	while (et == ETH_P_8021Q || et == ETH_P_8021AD || et == ETH_P_QINQ_OLD) {
		if (ntags == MAX_VLAN_TAGS)
			return PFSE_PARSE_ERR_L2_DEPTH;
		if (cap - off < 4)
			return PFSE_PARSE_ERR_L2_TRUNCATED;
		innermost = rd16(d + off) & 0x0fff;
		if (ntags < 2)
			pkt->vlan[ntags] = (uint16_t)innermost;
		ntags++;
		et = rd16(d + off + 2);
		off += 4;
	}
	if (ntags) {
		pflags |= PFSE_PKT_F_VLAN;
		if (ntags > 1)
			pflags |= PFSE_PKT_F_QINQ;
	}
	switch (et) {
	case ETH_P_IPV4:
		want = 4;
		break;
	case ETH_P_IPV6:
		want = 6;
		break;
	case ETH_P_MPLS_UC:
	case ETH_P_MPLS_MC: {
		unsigned labels = 0;

		pflags |= PFSE_PKT_F_MPLS;
		for (;;) {
			uint8_t bos;

			if (labels == MAX_MPLS_LABELS)
				return PFSE_PARSE_ERR_L2_DEPTH;
			if (cap - off < 4)
				return PFSE_PARSE_ERR_L2_TRUNCATED;
			bos = d[off + 2] & 1;
			off += 4;
			labels++;
			if (bos)
				break;
		}
		/* No protocol field after MPLS: the first nibble tells IPv4 from IPv6; anything
		 * else (a pseudowire, say) is not ours to key. With nothing captured after the
		 * stack, the IP layer below reports the truncation at its offset. */
		if (cap - off < 1)
			goto ip;
		if ((d[off] >> 4) != 4 && (d[off] >> 4) != 6)
			return PFSE_PARSE_ERR_L2_UNSUPPORTED;
		break;
	}
	case ETH_P_PPPOE_SES: {
		uint16_t proto;

		pflags |= PFSE_PKT_F_PPPOE;
		if (cap - off < 8)
			return PFSE_PARSE_ERR_L2_TRUNCATED;
		if (d[off] != 0x11 || d[off + 1] != 0)
			return PFSE_PARSE_ERR_L2_UNSUPPORTED;
		proto = rd16(d + off + 6);
		if (proto == PPP_IPV4)
			want = 4;
		else if (proto == PPP_IPV6)
			want = 6;
		else
			return PFSE_PARSE_ERR_L2_UNSUPPORTED;
		off += 8;
		break;
	}
	default:
		return PFSE_PARSE_ERR_L2_UNSUPPORTED;
	}

ip:
	/* Offsets are reported in 16 bits; only NFLOG TLVs could push the IP header that far. */
	if (off > L3_OFF_MAX)
		return PFSE_PARSE_ERR_L2_DEPTH;
	pkt->l3_off = (uint16_t)off;
	if (cap - off < 1)
		return PFSE_PARSE_ERR_L3_TRUNCATED;
	if (want == 0)
		want = d[off] >> 4;
	if (want == 4)
		st = parse_ipv4(d, cap, wend, off, pkt, &r, &pflags);
	else if (want == 6)
		st = parse_ipv6(d, cap, wend, off, ps->max_ext, pkt, &r, &pflags);
	else
		st = PFSE_PARSE_ERR_L3_VERSION;
	if (st != PFSE_PARSE_OK)
		return st;
	/* Both IP parsers checked that the headers they walked were captured. */
	assert(r.l4 <= cap);
	st = parse_l4(d, cap, pkt, &r, pflags);
	if (st != PFSE_PARSE_OK)
		return st;

	zone = 0;
	if (ntags && ps->zone_mode != PFSE_ZONE_NONE)
		zone = zone_of(ps->zone_mode == PFSE_ZONE_VLAN_OUTER ? pkt->vlan[0] : innermost);
	finish(ps, pkt, &r, zone, pflags);
	return PFSE_PARSE_OK;
}

#define OUT_OFF offsetof(struct pfse_pkt, key)
#define OUT_LEN (sizeof(struct pfse_pkt) - OUT_OFF)

/* The output area in its reset state. Copying it is a handful of vector moves, where a
 * 96-byte memset() became "rep stosq" with its start-up cost on every frame. */
struct out_area {
	uint64_t w[OUT_LEN / 8];
};
static const union {
	struct out_area a;
	struct pfse_pkt p;
} out_reset = {
	.p = {
		.l3_off = PFSE_OFF_NONE,
		.l4_off = PFSE_OFF_NONE,
		.payload_off = PFSE_OFF_NONE,
	},
};
_Static_assert(OUT_OFF % 8 == 0 && OUT_LEN % 8 == 0, "output area is whole words");

static inline void
out_clear(struct pfse_pkt *pkt)
{
	memcpy((uint8_t *)pkt + OUT_OFF, (const uint8_t *)&out_reset.p + OUT_OFF, OUT_LEN);
}

/*
 * The common frame in one pass: Ethernet II with at most one VLAN tag, IPv4 without
 * options or fragmentation or IPv6 without extension headers, then TCP or UDP, whole
 * headers captured. Its checks are the general path's conditions for a frame of that
 * shape to parse: one that passes gets exactly the outputs parse_frame() would give it
 * (the differential test compares both with a reference parser); any other returns 0
 * having written nothing, and goes to parse_frame().
 */
static inline int
parse_fast(const struct pfse_parser *ps, struct pfse_pkt *pkt)
{
	const uint8_t *d = pkt->data, *ip, *h;
	uint32_t cap = pkt->caplen, wire = pkt->wirelen ? pkt->wirelen : cap;
	uint32_t off = 14, l3len, l4len, l4, hlen, pflags = 0;
	struct l3_result r;
	uint16_t et, tci = 0, zone = 0;
	uint8_t tos, ttl, proto, tcpf = 0;

	if (ps->linktype != PFSE_LINKTYPE_ETHERNET || cap < 14 + 20 || cap > wire)
		return 0;
	et = rd16(d + 12);
	if (et == ETH_P_8021Q || et == ETH_P_8021AD || et == ETH_P_QINQ_OLD) {
		if (cap < 18 + 20)
			return 0;
		tci = rd16(d + 14) & 0x0fff;
		et = rd16(d + 16);
		off = 18;
		pflags = PFSE_PKT_F_VLAN;
	}
	ip = d + off;
	if (et == ETH_P_IPV4) {
		uint32_t tot = rd16(ip + 2);

		if (ip[0] != 0x45 || tot < 20 || tot > wire - off || (rd16(ip + 6) & 0x3fff))
			return 0;
		tos = ip[1];
		ttl = ip[8];
		proto = ip[9];
		l3len = tot;
		l4 = off + 20;
		l4len = tot - 20;
		r.family = PFSE_FAMILY_IPV4;
		r.addr = ip + 12;
	} else if (et == ETH_P_IPV6) {
		uint32_t plen;

		if ((ip[0] >> 4) != 6 || cap < off + 40) /* then wire >= cap >= off + 40 */
			return 0;
		plen = rd16(ip + 4);
		if (plen > wire - off - 40)
			return 0; /* a length of 0 (jumbo or not) fails the L4 checks below */
		proto = ip[6];
		tos = (uint8_t)(rd16(ip) >> 4);
		ttl = ip[7];
		l3len = plen + 40;
		l4 = off + 40;
		l4len = plen;
		r.family = PFSE_FAMILY_IPV6;
		r.addr = ip + 8;
	} else {
		return 0;
	}
	h = d + l4;
	if (proto == IPPROTO_TCP_) {
		if (l4len < 20 || cap - l4 < 20)
			return 0;
		hlen = (uint32_t)(h[12] >> 4) * 4;
		if (hlen < 20 || hlen > l4len)
			return 0;
		tcpf = h[13];
	} else if (proto == IPPROTO_UDP_) {
		uint32_t ulen;

		if (l4len < 8 || cap - l4 < 8)
			return 0;
		ulen = rd16(h + 4);
		if (ulen < 8 || ulen > l4len)
			return 0;
		hlen = 8;
	} else {
		return 0;
	}
	out_clear(pkt);
	pkt->tos = tos;
	pkt->ttl = ttl;
	pkt->l3_len = l3len;
	pkt->l3_off = (uint16_t)off;
	pkt->l4_off = (uint16_t)l4;
	pkt->payload_off = (uint16_t)(l4 + hlen);
	pkt->tcp_flags = tcpf;
	pkt->vlan[0] = tci;
	if (pflags && ps->zone_mode != PFSE_ZONE_NONE)
		zone = zone_of(tci); /* one tag: the outer one is the inner one */
	r.proto = proto;
	memcpy(&r.sport, h, 2);
	memcpy(&r.dport, h + 2, 2);
	if (cap < wire)
		pflags |= PFSE_PKT_F_SNAPPED;
	finish(ps, pkt, &r, zone, pflags);
	pkt->status = PFSE_PARSE_OK;
	return 1;
}

/* Every frame parse_fast() leaves: clears every output field, then runs the full walk;
 * a rejected frame keeps a zero key. Out of line, so that pfse_parse() holds the common
 * frame's code alone: inlined, pfse-replay's speed moved by 10% with where the linker
 * put the same code (doc/evaluation.md, "Speed and memory"). */
static __attribute__((noinline)) unsigned
parse_slow(const struct pfse_parser *ps, struct pfse_pkt *pkt)
{
	unsigned st;

	out_clear(pkt);
	st = parse_frame(ps, pkt);
	if (pfse_unlikely(st != PFSE_PARSE_OK)) {
		uint16_t l3 = pkt->l3_off, v0 = pkt->vlan[0], v1 = pkt->vlan[1];

		out_clear(pkt);
		pkt->l3_off = l3;
		pkt->vlan[0] = v0;
		pkt->vlan[1] = v1;
	}
	pkt->status = (uint8_t)st;
	return st;
}

static inline unsigned
parse_pkt(const struct pfse_parser *ps, struct pfse_pkt *pkt)
{
	if (pfse_likely(parse_fast(ps, pkt)))
		return PFSE_PARSE_OK;
	return parse_slow(ps, pkt);
}

static inline int
pkt_valid(const struct pfse_pkt *pkt)
{
	return pkt && (pkt->data || pkt->caplen == 0);
}

PFSE_API int
pfse_parse(struct pfse_parser *parser, struct pfse_pkt *pkt, struct pfse_parse_stats *stats)
{
	unsigned st;

	if (!parser || !pkt_valid(pkt))
		return -EINVAL;
	st = parse_pkt(parser, pkt);
	if (stats) {
		stats->status[st]++;
		stats->bytes += pkt->wirelen ? pkt->wirelen : pkt->caplen;
	}
	return st == PFSE_PARSE_OK ? 0 : -EBADMSG;
}

/* Frames whose first bytes are fetched ahead of parsing, as DPDK applications do for the
 * mbufs of a burst: neutral when frames are cached (the bench), it hides the miss on a
 * frame a NIC has just written. */
#define PREFETCH_AHEAD 3

static inline int
parse_loop(const struct pfse_parser *ps, struct pfse_pkt *const pkts[], unsigned n,
	   struct pfse_parse_stats *stats)
{
	int ok = 0;

	for (unsigned i = 0; i < n && i < PREFETCH_AHEAD; i++)
		__builtin_prefetch(pkts[i]->data);
	for (unsigned i = 0; i < n; i++) {
		unsigned st;

		if (i + PREFETCH_AHEAD < n)
			__builtin_prefetch(pkts[i + PREFETCH_AHEAD]->data);
		st = parse_pkt(ps, pkts[i]);
		ok += st == PFSE_PARSE_OK;
		if (stats) {
			stats->status[st]++;
			stats->bytes += pkts[i]->wirelen ? pkts[i]->wirelen : pkts[i]->caplen;
		}
	}
	return ok;
}

PFSE_API int
pfse_parse_burst(struct pfse_parser *parser, struct pfse_pkt *const pkts[], unsigned n,
		 struct pfse_parse_stats *stats)
{
	if (!parser || n > PFSE_BURST_MAX || (n > 0 && !pkts))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!pkt_valid(pkts[i]))
			return -EINVAL;
	return parse_loop(parser, pkts, n, stats);
}
