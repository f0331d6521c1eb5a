/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Differential test of the packet parser (parse.h).
 *
 * This file holds a second, independent parser, ref_parse(), written only from the
 * documentation in parse.h and flow_key.h and never from lib/parse.c. It is slow and
 * plain on purpose: every byte goes through a bounds-checked reader, every rule is one
 * explicit step in the order the documentation gives, and nothing is shared with the
 * library but the public hash function. A seeded generator builds structured random
 * frames for every supported link type (VLAN stacks, MPLS, PPPoE, SLL, SLL2, NFLOG TLVs,
 * raw IP), with random IPv4 options and fragment fields, IPv6 extension chains, all L4
 * protocols, jumbo frames, truncation, odd wire lengths and byte mutations. Each frame
 * is parsed by the library with pfse_parse() and pfse_parse_burst() in every parser
 * configuration (bidir, hash seeds, zone modes, max_ext_hdrs) and every output field,
 * the return values and the stats are compared with the reference.
 *
 * Why: a fast parser and its documentation drift apart silently; two implementations
 * written apart from one text disagree exactly where one of them (or the text) is
 * wrong. Each frame is copied to a heap block of exactly `caplen` bytes, so a read past
 * the capture is caught by AddressSanitizer or valgrind.
 *
 * Where parse.h is terse, the reference follows these readings (each is pinned by a
 * hand-made frame in the "vectors" case): checks run in header order, outer layer
 * first, except that the IP version nibble is judged before the IP header's capture
 * (a short packet of the wrong version is L3_VERSION); an MPLS stack with no byte after
 * it is L3_TRUNCATED
 * and reports l3_off at the end of the stack, like every other L3 status; the end of
 * the NFLOG payload TLV bounds the IP packet, so an IPv6 header longer than the room
 * left in it is L3_TOTAL_LEN.
 *
 * Environment: PFSE_TEST_SEED overrides the generator seed (printed with every
 * mismatch), PFSE_TEST_FRAMES the number of frames of the differential case.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pfse/flow_key.h>
#include <pfse/parse.h>

#define DEFAULT_SEED 0x70f5e5eed2024ull
#define DEFAULT_FRAMES 200000u
#define FIXED_SEED 0x0123456789abcdefull
#define FRAME_MAX (1u << 19)
#define DUMP_MAX 192u
#define REPORT_MAX 40u
#define SIG_MAX 128u

/* ===================================================================================
 * Reference parser
 * =================================================================================== */

/* A bounds-checked reader: every access says whether the byte was captured. */
struct rd {
	const uint8_t *p;
	uint32_t cap;
};

/* Out of range: false, and *v is 0. */
static bool
get8(const struct rd *r, uint64_t off, uint8_t *v)
{
	*v = 0;
	if (off >= r->cap)
		return false;
	*v = r->p[off];
	return true;
}

/* Big-endian 16-bit field. */
static bool
get16(const struct rd *r, uint64_t off, uint16_t *v)
{
	uint8_t hi, lo;

	*v = 0;
	if (!get8(r, off, &hi) || !get8(r, off + 1, &lo))
		return false;
	*v = (uint16_t)((unsigned)hi << 8 | lo);
	return true;
}

/* Host-order 16-bit field (NFLOG TLV headers). */
static bool
geth16(const struct rd *r, uint64_t off, uint16_t *v)
{
	uint8_t b[2];

	*v = 0;
	if (!get8(r, off, &b[0]) || !get8(r, off + 1, &b[1]))
		return false;
	memcpy(v, b, sizeof(*v));
	return true;
}

static bool
captured(const struct rd *r, uint64_t off, uint64_t n)
{
	return off + n <= r->cap;
}

/* Copies n captured bytes; the caller has checked they are captured. */
static void
getbytes(const struct rd *r, uint64_t off, uint8_t *dst, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (!get8(r, off + i, &dst[i]))
			dst[i] = 0;
	}
}

/* Everything the reference learns while walking a frame. */
struct ref {
	struct rd r;
	uint32_t max_ext;
	uint64_t wire;     /* wire length (wirelen, or caplen when 0) */
	uint64_t wire_end; /* where the room for the IP packet ends */
	uint32_t ntags;
	uint16_t vlan[2];
	uint16_t vid_outer;
	uint16_t vid_inner;
	uint32_t flags;    /* PFSE_PKT_F_* gathered so far */
	uint16_t l3_rep;   /* l3_off reported on rejection */
	uint64_t l3;
	unsigned ipver;
	uint64_t ip_end;
	uint64_t l3_len;
	uint8_t tos;
	uint8_t ttl;
	uint8_t proto;
	uint8_t src[16];
	uint8_t dst[16];
	uint64_t l4;
	uint64_t payload;
	uint16_t sport;
	uint16_t dport;
	uint8_t tcp_flags;
};

/* The hash seed of the parser being compared, read with pfse_parser_seed(). */
static uint64_t ref_seed;

static bool
is_tpid(uint16_t t)
{
	return t == 0x8100 || t == 0x88a8 || t == 0x9100;
}

static bool
is_v6_ext(uint8_t nh)
{
	switch (nh) {
	case 0:
	case 43:
	case 44:
	case 51:
	case 60:
	case 135:
	case 139:
	case 140:
	case 253:
	case 254:
		return true;
	default:
		return false;
	}
}

/* A header shorter than its protocol's minimum: fragments get L3_FRAG (RFC 1858). */
static unsigned
short_l4(const struct ref *st)
{
	if (st->flags & PFSE_PKT_F_FRAG)
		return PFSE_PARSE_ERR_L3_FRAG;
	return PFSE_PARSE_ERR_L4_HDR_LEN;
}

static unsigned
ref_l4(struct ref *st)
{
	uint64_t l4 = st->l4;
	uint64_t len, have;
	uint16_t sport = 0, dport = 0, ulen;
	uint8_t b, type, code;
	uint32_t hlen;
	bool frag = (st->flags & PFSE_PKT_F_FRAG) != 0;

	if (st->flags & PFSE_PKT_F_FRAG_LATER)
		return PFSE_PARSE_OK;
	len = st->ip_end - l4;
	have = st->r.cap - l4;

	if (st->proto == 6) {
		/* TCP */
		if (len < 20)
			return short_l4(st);
		if (have < 20)
			return PFSE_PARSE_ERR_L4_TRUNCATED;
		get8(&st->r, l4 + 12, &b);
		hlen = (uint32_t)(b >> 4) * 4;
		if (hlen < 20)
			return PFSE_PARSE_ERR_L4_HDR_LEN;
		if (hlen > len)
			return short_l4(st);
		get8(&st->r, l4 + 13, &st->tcp_flags);
		get16(&st->r, l4, &sport);
		get16(&st->r, l4 + 2, &dport);
		st->payload = l4 + hlen;
	} else if (st->proto == 17 || st->proto == 136) {
		/* UDP and UDP-Lite */
		if (len < 8)
			return short_l4(st);
		if (have < 8)
			return PFSE_PARSE_ERR_L4_TRUNCATED;
		if (st->proto == 17 && !frag) {
			get16(&st->r, l4 + 4, &ulen);
			if (ulen == 0) {
				if (!(st->flags & PFSE_PKT_F_JUMBO))
					return PFSE_PARSE_ERR_L4_LEN;
			} else if (ulen < 8 || ulen > len) {
				return PFSE_PARSE_ERR_L4_LEN;
			}
		}
		get16(&st->r, l4, &sport);
		get16(&st->r, l4 + 2, &dport);
		st->payload = l4 + 8;
	} else if (st->proto == 132) {
		/* SCTP */
		if (len < 12)
			return short_l4(st);
		if (have < 12)
			return PFSE_PARSE_ERR_L4_TRUNCATED;
		get16(&st->r, l4, &sport);
		get16(&st->r, l4 + 2, &dport);
		st->payload = l4 + 12;
	} else if (st->proto == 33) {
		/* DCCP */
		if (len < 12)
			return short_l4(st);
		if (have < 12)
			return PFSE_PARSE_ERR_L4_TRUNCATED;
		get8(&st->r, l4 + 4, &b);
		hlen = (uint32_t)b * 4;
		if (hlen < 12)
			return PFSE_PARSE_ERR_L4_HDR_LEN;
		if (hlen > len)
			return short_l4(st);
		get16(&st->r, l4, &sport);
		get16(&st->r, l4 + 2, &dport);
		st->payload = l4 + hlen;
	} else if ((st->proto == 1 && st->ipver == 4) || (st->proto == 58 && st->ipver == 6)) {
		/* ICMP, ICMPv6: a short one is never a "tiny fragment" */
		if (len < 8)
			return PFSE_PARSE_ERR_L4_HDR_LEN;
		if (have < 8)
			return PFSE_PARSE_ERR_L4_TRUNCATED;
		get8(&st->r, l4, &type);
		get8(&st->r, l4 + 1, &code);
		if ((st->ipver == 4 && (type == 8 || type == 0)) ||
		    (st->ipver == 6 && (type == 128 || type == 129))) {
			get16(&st->r, l4 + 4, &sport);
			dport = sport;
		} else {
			sport = 0;
			dport = (uint16_t)((unsigned)type << 8 | code);
		}
		st->payload = l4 + 8;
	} else {
		/* anything else: no ports, the payload starts at the L4 offset */
		st->payload = l4;
	}
	if (frag) {
		sport = 0;
		dport = 0;
	}
	st->sport = sport;
	st->dport = dport;
	return PFSE_PARSE_OK;
}

static unsigned
ref_ipv4(struct ref *st)
{
	uint64_t l3 = st->l3;
	uint64_t room, total, foff;
	uint16_t tl, fw;
	uint8_t b0;
	uint32_t ihl;

	/* The version nibble is judged first (one byte is always captured here). */
	if (!get8(&st->r, l3, &b0))
		return PFSE_PARSE_ERR_L3_TRUNCATED;
	if ((b0 >> 4) != 4)
		return PFSE_PARSE_ERR_L3_VERSION;
	if (!captured(&st->r, l3, 20))
		return PFSE_PARSE_ERR_L3_TRUNCATED;
	ihl = (uint32_t)(b0 & 0x0f) * 4;
	if (ihl < 20)
		return PFSE_PARSE_ERR_L3_HDR_LEN;
	if (!captured(&st->r, l3, ihl))
		return PFSE_PARSE_ERR_L3_TRUNCATED;
	get16(&st->r, l3 + 2, &tl);
	room = st->wire_end - l3;
	if (tl == 0) {
		if (room > 65535) {
			total = room;
			st->flags |= PFSE_PKT_F_JUMBO;
		} else {
			return PFSE_PARSE_ERR_L3_TOTAL_LEN;
		}
	} else {
		total = tl;
		if (total < ihl)
			return PFSE_PARSE_ERR_L3_HDR_LEN;
		if (total > room)
			return PFSE_PARSE_ERR_L3_TOTAL_LEN;
	}
	if (ihl > 20)
		st->flags |= PFSE_PKT_F_IP_OPTIONS;
	get16(&st->r, l3 + 6, &fw);
	foff = (uint64_t)(fw & 0x1fff) * 8;
	if ((fw & 0x2000) || foff != 0) {
		st->flags |= PFSE_PKT_F_FRAG;
		if (foff + (total - ihl) > 65535)
			return PFSE_PARSE_ERR_L3_FRAG;
		if (foff != 0)
			st->flags |= PFSE_PKT_F_FRAG_LATER;
	}
	get8(&st->r, l3 + 1, &st->tos);
	get8(&st->r, l3 + 8, &st->ttl);
	get8(&st->r, l3 + 9, &st->proto);
	getbytes(&st->r, l3 + 12, st->src, 4);
	getbytes(&st->r, l3 + 16, st->dst, 4);
	st->l3_len = total;
	st->ip_end = l3 + total;
	st->l4 = l3 + ihl;
	return ref_l4(st);
}

static unsigned
ref_ipv6(struct ref *st)
{
	uint64_t l3 = st->l3;
	uint64_t pend, pos, hlen, need, foff;
	int64_t avail;
	uint64_t plen;
	uint16_t w, pl;
	uint8_t b0, nh, b;
	uint32_t count = 0;

	if (!get8(&st->r, l3, &b0))
		return PFSE_PARSE_ERR_L3_TRUNCATED;
	if ((b0 >> 4) != 6)
		return PFSE_PARSE_ERR_L3_VERSION;
	if (!captured(&st->r, l3, 40))
		return PFSE_PARSE_ERR_L3_TRUNCATED;
	get16(&st->r, l3 + 4, &pl);
	avail = (int64_t)st->wire_end - (int64_t)l3 - 40;
	plen = pl;
	if (pl == 0 && avail > 65535) {
		plen = (uint64_t)avail;
		st->flags |= PFSE_PKT_F_JUMBO;
	} else if ((int64_t)plen > avail) {
		return PFSE_PARSE_ERR_L3_TOTAL_LEN;
	}
	get16(&st->r, l3, &w);
	st->tos = (uint8_t)(w >> 4);
	get8(&st->r, l3 + 7, &st->ttl);
	getbytes(&st->r, l3 + 8, st->src, 16);
	getbytes(&st->r, l3 + 24, st->dst, 16);
	st->l3_len = plen + 40;
	pend = l3 + 40 + plen;

	get8(&st->r, l3 + 6, &nh);
	pos = l3 + 40;
	while (is_v6_ext(nh)) {
		count++;
		if (count > st->max_ext)
			return PFSE_PARSE_ERR_L3_EXT_DEPTH;
		st->flags |= PFSE_PKT_F_IPV6_EXT;
		need = nh == 44 ? 8 : 2;
		if (pos + need > pend)
			return PFSE_PARSE_ERR_L3_EXT_LEN;
		if (!captured(&st->r, pos, need))
			return PFSE_PARSE_ERR_L3_TRUNCATED;
		if (nh == 44) {
			get16(&st->r, pos + 2, &w);
			foff = w & 0xfff8;
			if (foff != 0 || (w & 1)) {
				st->flags |= PFSE_PKT_F_FRAG;
				if (foff + (pend - pos - 8) > 65535)
					return PFSE_PARSE_ERR_L3_FRAG;
			}
			if (foff != 0) {
				st->flags |= PFSE_PKT_F_FRAG_LATER;
				get8(&st->r, pos, &nh);
				pos += 8;
				break;
			}
			hlen = 8;
		} else if (nh == 51) {
			get8(&st->r, pos + 1, &b);
			hlen = ((uint64_t)b + 2) * 4;
		} else {
			get8(&st->r, pos + 1, &b);
			hlen = ((uint64_t)b + 1) * 8;
		}
		if (pos + hlen > pend)
			return PFSE_PARSE_ERR_L3_EXT_LEN;
		if (!captured(&st->r, pos, hlen))
			return PFSE_PARSE_ERR_L3_TRUNCATED;
		get8(&st->r, pos, &nh);
		pos += hlen;
	}
	if (pos >= 0xffff)
		return PFSE_PARSE_ERR_L3_EXT_LEN;
	st->proto = nh;
	st->l4 = pos;
	st->ip_end = pend;
	return ref_l4(st);
}

/* The IP header starts at `off`; the link layer says it is version `ver`. */
static unsigned
ref_ip_at(struct ref *st, uint64_t off, unsigned ver)
{
	st->l3 = off;
	st->l3_rep = (uint16_t)off;
	st->ipver = ver;
	return ver == 4 ? ref_ipv4(st) : ref_ipv6(st);
}

static unsigned
ref_mpls(struct ref *st, uint64_t pos)
{
	uint32_t labels = 0;
	uint8_t b;

	for (;;) {
		if (labels == 8)
			return PFSE_PARSE_ERR_L2_DEPTH;
		if (!captured(&st->r, pos, 4))
			return PFSE_PARSE_ERR_L2_TRUNCATED;
		get8(&st->r, pos + 2, &b);
		pos += 4;
		labels++;
		if (b & 1)
			break;
	}
	st->flags |= PFSE_PKT_F_MPLS;
	if (!get8(&st->r, pos, &b)) {
		/* the IP header offset is known: an L3 error, reported with l3_off */
		st->l3_rep = (uint16_t)pos;
		return PFSE_PARSE_ERR_L3_TRUNCATED;
	}
	if ((b >> 4) == 4)
		return ref_ip_at(st, pos, 4);
	if ((b >> 4) == 6)
		return ref_ip_at(st, pos, 6);
	return PFSE_PARSE_ERR_L2_UNSUPPORTED;
}

static unsigned
ref_pppoe(struct ref *st, uint64_t pos)
{
	uint8_t vt, code;
	uint16_t ppp;

	if (!captured(&st->r, pos, 8))
		return PFSE_PARSE_ERR_L2_TRUNCATED;
	get8(&st->r, pos, &vt);
	get8(&st->r, pos + 1, &code);
	if (vt != 0x11 || code != 0)
		return PFSE_PARSE_ERR_L2_UNSUPPORTED;
	get16(&st->r, pos + 6, &ppp);
	st->flags |= PFSE_PKT_F_PPPOE;
	if (ppp == 0x0021)
		return ref_ip_at(st, pos + 8, 4);
	if (ppp == 0x0057)
		return ref_ip_at(st, pos + 8, 6);
	return PFSE_PARSE_ERR_L2_UNSUPPORTED;
}

/* The ethertype is at `type_off`; the link header (and so the first tag) ends at `pos`. */
static unsigned
ref_ethertype(struct ref *st, uint64_t type_off, uint64_t pos)
{
	uint16_t type, tci;

	if (!get16(&st->r, type_off, &type))
		return PFSE_PARSE_ERR_L2_TRUNCATED;
	while (is_tpid(type)) {
		if (st->ntags == 4)
			return PFSE_PARSE_ERR_L2_DEPTH;
		if (!captured(&st->r, pos, 4))
			return PFSE_PARSE_ERR_L2_TRUNCATED;
		get16(&st->r, pos, &tci);
		tci &= 0x0fff;
		if (st->ntags < 2)
			st->vlan[st->ntags] = tci;
		if (st->ntags == 0)
			st->vid_outer = tci;
		st->vid_inner = tci;
		st->ntags++;
		get16(&st->r, pos + 2, &type);
		pos += 4;
	}
	switch (type) {
	case 0x0800:
		return ref_ip_at(st, pos, 4);
	case 0x86dd:
		return ref_ip_at(st, pos, 6);
	case 0x8847:
	case 0x8848:
		return ref_mpls(st, pos);
	case 0x8864:
		return ref_pppoe(st, pos);
	default:
		return PFSE_PARSE_ERR_L2_UNSUPPORTED;
	}
}

/*
 * Raw IP; `want` is 4 or 6 for LINKTYPE_IPV4/IPV6, 0 for "either". The link type's
 * claim is checked on the first nibble, before the IP header's capture.
 */
static unsigned
ref_raw(struct ref *st, unsigned want)
{
	uint8_t b;
	unsigned ver;

	st->l3_rep = 0;
	if (!get8(&st->r, 0, &b))
		return PFSE_PARSE_ERR_L3_TRUNCATED;
	ver = b >> 4;
	if (ver != 4 && ver != 6)
		return PFSE_PARSE_ERR_L3_VERSION;
	if (want != 0 && ver != want)
		return PFSE_PARSE_ERR_L3_VERSION;
	return ref_ip_at(st, 0, ver);
}

static unsigned
ref_nflog(struct ref *st)
{
	uint64_t pos = 4;
	uint16_t len, type;
	uint32_t skipped = 0;
	uint8_t fam;
	unsigned ver;

	if (!captured(&st->r, 0, 4))
		return PFSE_PARSE_ERR_L2_TRUNCATED;
	get8(&st->r, 0, &fam);
	if (fam == 2)
		ver = 4;
	else if (fam == 10)
		ver = 6;
	else
		return PFSE_PARSE_ERR_L2_UNSUPPORTED;
	for (;;) {
		if (!captured(&st->r, pos, 4))
			return PFSE_PARSE_ERR_L2_TRUNCATED;
		geth16(&st->r, pos, &len);
		geth16(&st->r, pos + 2, &type);
		if (len < 4 || len > st->r.cap - pos)
			return PFSE_PARSE_ERR_L2_TRUNCATED;
		if ((type & 0x3fff) == 9) {
			if (pos + 4 > 0xff00)
				return PFSE_PARSE_ERR_L2_DEPTH;
			st->wire_end = pos + len;
			return ref_ip_at(st, pos + 4, ver);
		}
		skipped++;
		if (skipped == 64)
			return PFSE_PARSE_ERR_L2_DEPTH;
		pos += ((uint64_t)len + 3) & ~(uint64_t)3;
		if (pos > st->r.cap)
			return PFSE_PARSE_ERR_L2_TRUNCATED;
	}
}

static unsigned
ref_frame(struct ref *st, uint32_t linktype)
{
	if (st->r.cap == 0 || st->r.cap > st->wire)
		return PFSE_PARSE_ERR_LEN;
	switch (linktype) {
	case 0:
	case PFSE_LINKTYPE_ETHERNET:
		if (!captured(&st->r, 0, 14))
			return PFSE_PARSE_ERR_L2_TRUNCATED;
		return ref_ethertype(st, 12, 14);
	case PFSE_LINKTYPE_LINUX_SLL:
		if (!captured(&st->r, 0, 16))
			return PFSE_PARSE_ERR_L2_TRUNCATED;
		return ref_ethertype(st, 14, 16);
	case PFSE_LINKTYPE_LINUX_SLL2:
		if (!captured(&st->r, 0, 20))
			return PFSE_PARSE_ERR_L2_TRUNCATED;
		return ref_ethertype(st, 0, 20);
	case PFSE_LINKTYPE_DLT_RAW:
	case PFSE_LINKTYPE_DLT_RAW_ALT:
	case PFSE_LINKTYPE_RAW:
		return ref_raw(st, 0);
	case PFSE_LINKTYPE_IPV4:
		return ref_raw(st, 4);
	case PFSE_LINKTYPE_IPV6:
		return ref_raw(st, 6);
	case PFSE_LINKTYPE_NFLOG:
		return ref_nflog(st);
	default:
		return PFSE_PARSE_ERR_L2_UNSUPPORTED;
	}
}

static void
put_be16(uint16_t *field, uint16_t v)
{
	uint8_t b[2];

	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
	memcpy(field, b, 2);
}

/* The documented bidir rule: the lower endpoint (address bytes, then port) is `src`. */
static bool
ref_should_swap(const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	int i;

	for (i = 0; i < 16; i++) {
		if (src[i] != dst[i])
			return src[i] > dst[i];
	}
	return sport > dport;
}

static void
ref_output(const struct ref *st, unsigned status, uint32_t pflags, uint32_t zone_mode,
	   struct pfse_pkt *out)
{
	struct pfse_flow_key *k = &out->key;
	uint32_t alen = st->ipver == 4 ? 4 : 16;
	uint16_t zone = 0, sport = st->sport, dport = st->dport;
	uint8_t src[16], dst[16];
	uint32_t fl;

	memset(&out->key, 0, sizeof(*out) - offsetof(struct pfse_pkt, key));
	out->status = (uint8_t)status;
	out->vlan[0] = st->vlan[0];
	out->vlan[1] = st->vlan[1];
	out->l4_off = PFSE_OFF_NONE;
	out->payload_off = PFSE_OFF_NONE;
	if (status != PFSE_PARSE_OK) {
		out->l3_off = st->l3_rep;
		return;
	}

	fl = st->flags;
	if (st->ntags >= 1)
		fl |= PFSE_PKT_F_VLAN;
	if (st->ntags >= 2)
		fl |= PFSE_PKT_F_QINQ;
	if (st->r.cap < st->wire)
		fl |= PFSE_PKT_F_SNAPPED;
	if (st->ntags > 0 && zone_mode == PFSE_ZONE_VLAN_INNER)
		zone = st->vid_inner;
	else if (st->ntags > 0 && zone_mode == PFSE_ZONE_VLAN_OUTER)
		zone = st->vid_outer;

	memset(src, 0, sizeof(src));
	memset(dst, 0, sizeof(dst));
	memcpy(src, st->src, alen);
	memcpy(dst, st->dst, alen);
	if ((pflags & PFSE_PARSE_F_BIDIR) && ref_should_swap(src, dst, sport, dport)) {
		memcpy(src, st->dst, alen);
		memcpy(dst, st->src, alen);
		sport = st->dport;
		dport = st->sport;
		fl |= PFSE_PKT_F_REVERSE;
	}
	memcpy(k->src, src, 16);
	memcpy(k->dst, dst, 16);
	put_be16(&k->sport, sport);
	put_be16(&k->dport, dport);
	k->proto = st->proto;
	k->family = (uint8_t)(st->ipver == 4 ? PFSE_FAMILY_IPV4 : PFSE_FAMILY_IPV6);
	put_be16(&k->zone, zone);
	if (pflags & PFSE_PARSE_F_HASH) {
		pfse_flow_key_hash(k, ref_seed, &out->hash);
		fl |= PFSE_PKT_F_HASH;
	}
	out->flags = fl;
	out->l3_len = (uint32_t)st->l3_len;
	out->l3_off = (uint16_t)st->l3;
	if (!(fl & PFSE_PKT_F_FRAG_LATER)) {
		out->l4_off = (uint16_t)st->l4;
		out->payload_off = (uint16_t)(st->payload >= 0xffff ? 0xffff : st->payload);
	}
	out->tcp_flags = st->tcp_flags;
	out->ttl = st->ttl;
	out->tos = st->tos;
}

/*
 * Fills the output fields of `out` (its input fields are left alone) as parse.h says a
 * parser with these parameters must, hashing with `ref_seed`.
 */
static void
ref_parse(uint32_t linktype, uint32_t flags, uint32_t zone_mode, uint32_t max_ext,
	  const uint8_t *data, uint32_t caplen, uint32_t wirelen, struct pfse_pkt *out)
{
	struct ref st;
	unsigned status;

	memset(&st, 0, sizeof(st));
	st.r.p = data;
	st.r.cap = data != NULL ? caplen : 0;
	st.max_ext = max_ext != 0 ? max_ext : 8;
	st.wire = wirelen != 0 ? wirelen : caplen;
	st.wire_end = st.wire;
	st.l3_rep = PFSE_OFF_NONE;
	if (caplen == 0 || caplen > st.wire)
		status = PFSE_PARSE_ERR_LEN;
	else
		status = ref_frame(&st, linktype);
	ref_output(&st, status, flags, zone_mode, out);
}

/* ===================================================================================
 * Seeded frame generator
 * =================================================================================== */

struct rng {
	uint64_t s;
};

/* splitmix64 */
static uint64_t
rnext(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t
rbelow(struct rng *r, uint32_t n)
{
	return n != 0 ? (uint32_t)(rnext(r) % n) : 0;
}

/* Uniform in [lo, hi]. */
static uint32_t
rrange(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + rbelow(r, hi - lo + 1);
}

static bool
rchance(struct rng *r, uint32_t num, uint32_t den)
{
	return rbelow(r, den) < num;
}

struct gen {
	struct rng rng;
	uint8_t *b;
	uint32_t len;
};

static void
put8(struct gen *g, uint32_t v)
{
	if (g->len < FRAME_MAX)
		g->b[g->len++] = (uint8_t)v;
}

static void
put16(struct gen *g, uint32_t v)
{
	put8(g, v >> 8);
	put8(g, v);
}

static void
put32(struct gen *g, uint32_t v)
{
	put16(g, v >> 16);
	put16(g, v);
}

static void
puth16(struct gen *g, uint16_t v)
{
	uint8_t t[2];

	memcpy(t, &v, 2);
	put8(g, t[0]);
	put8(g, t[1]);
}

static void
putrand(struct gen *g, uint32_t n)
{
	uint64_t v = 0;
	uint32_t i;

	if (n > FRAME_MAX - g->len)
		n = FRAME_MAX - g->len;
	for (i = 0; i < n; i++) {
		if ((i & 7) == 0)
			v = rnext(&g->rng);
		g->b[g->len++] = (uint8_t)v;
		v >>= 8;
	}
}

static void
set8(struct gen *g, uint32_t off, uint32_t v)
{
	if (off < g->len)
		g->b[off] = (uint8_t)v;
}

static void
set16(struct gen *g, uint32_t off, uint32_t v)
{
	set8(g, off, v >> 8);
	set8(g, off + 1, v);
}

static void
seth16(struct gen *g, uint32_t off, uint16_t v)
{
	uint8_t t[2];

	memcpy(t, &v, 2);
	set8(g, off, t[0]);
	set8(g, off + 1, t[1]);
}

static uint32_t
gr(struct gen *g, uint32_t n)
{
	return rbelow(&g->rng, n);
}

static bool
gc(struct gen *g, uint32_t num, uint32_t den)
{
	return rchance(&g->rng, num, den);
}

static uint32_t
gen_port(struct gen *g)
{
	static const uint16_t pool[] = { 0, 1, 53, 80, 443, 8080, 65535 };

	if (gc(g, 1, 4))
		return pool[gr(g, sizeof(pool) / sizeof(pool[0]))];
	return gr(g, 65536);
}

static void
gen_ports(struct gen *g)
{
	uint32_t a = gen_port(g);

	put16(g, a);
	put16(g, gc(g, 1, 10) ? a : gen_port(g));
}

/* Source and destination addresses, often from a small pool or equal, for the bidir rule. */
static void
gen_addrs(struct gen *g, uint32_t alen)
{
	uint8_t a[2][16];
	int i;

	for (i = 0; i < 2; i++) {
		if (gc(g, 1, 3)) {
			memset(a[i], 0, alen);
			a[i][alen - 1] = (uint8_t)gr(g, 3);
			a[i][0] = (uint8_t)gr(g, 2) * 0x80;
		} else {
			uint32_t j;

			for (j = 0; j < alen; j++)
				a[i][j] = (uint8_t)gr(g, 256);
		}
	}
	if (gc(g, 1, 8))
		memcpy(a[1], a[0], alen);
	for (i = 0; i < 2; i++) {
		uint32_t j;

		for (j = 0; j < alen; j++)
			put8(g, a[i][j]);
	}
}

/* Pads the L4 part that began at `start` with payload up to `target` bytes, if set. */
static void
gen_payload(struct gen *g, uint32_t start, int64_t target)
{
	uint32_t r;

	if (target >= 0) {
		if ((int64_t)(g->len - start) < target)
			putrand(g, (uint32_t)(target - (g->len - start)));
		return;
	}
	r = gr(g, 100);
	if (r < 45)
		return;
	if (r < 80)
		putrand(g, gr(g, 64));
	else
		putrand(g, gr(g, 1400));
}

static void
gen_l4(struct gen *g, uint32_t proto, unsigned ver, int64_t target)
{
	uint32_t start = g->len;
	uint32_t doff, hlen, lenpos, real, r;

	if (target < 0 && gc(g, 1, 25)) {
		/* a short or garbage L4 header */
		putrand(g, gr(g, 24));
		return;
	}
	switch (proto) {
	case 6:
		gen_ports(g);
		put32(g, (uint32_t)rnext(&g->rng));
		put32(g, (uint32_t)rnext(&g->rng));
		r = gr(g, 100);
		doff = r < 80 ? 5 : r < 95 ? rrange(&g->rng, 6, 15) : gr(g, 5);
		put8(g, doff << 4 | gr(g, 16));
		put8(g, gr(g, 256));
		put32(g, (uint32_t)rnext(&g->rng));
		put16(g, gr(g, 65536));
		hlen = doff > 5 ? (doff - 5) * 4 : 0;
		if (gc(g, 1, 10))
			hlen = gr(g, hlen + 1);
		putrand(g, hlen);
		gen_payload(g, start, target);
		break;
	case 17:
	case 136:
		gen_ports(g);
		lenpos = g->len;
		put16(g, 0);
		put16(g, gr(g, 65536));
		gen_payload(g, start, target);
		real = g->len - start;
		r = gr(g, 100);
		if (target >= 0)
			real = r < 60 ? 0 : real & 0xffff;
		else if (r < 85)
			;
		else if (r < 89)
			real = 0;
		else if (r < 93)
			real = gr(g, 8);
		else if (r < 97)
			real += rrange(&g->rng, 1, 20);
		else
			real = gr(g, 65536);
		set16(g, lenpos, real);
		break;
	case 132:
		gen_ports(g);
		put32(g, (uint32_t)rnext(&g->rng));
		put32(g, (uint32_t)rnext(&g->rng));
		gen_payload(g, start, target);
		break;
	case 33:
		gen_ports(g);
		r = gr(g, 100);
		doff = r < 80 ? rrange(&g->rng, 3, 6) : r < 90 ? gr(g, 3) : gr(g, 256);
		put8(g, doff);
		put8(g, gr(g, 256));
		put16(g, gr(g, 65536));
		hlen = doff * 4 > 8 ? doff * 4 - 8 : 0;
		if (gc(g, 1, 10))
			hlen = gr(g, hlen + 1);
		putrand(g, hlen);
		gen_payload(g, start, target);
		break;
	case 1:
	case 58:
		if (gc(g, 1, 2)) {
			if (ver == 4)
				put8(g, gc(g, 1, 2) ? 8 : 0);
			else
				put8(g, gc(g, 1, 2) ? 128 : 129);
		} else {
			put8(g, gr(g, 256));
		}
		put8(g, gr(g, 256));
		put16(g, gr(g, 65536));
		put16(g, gen_port(g));
		put16(g, gr(g, 65536));
		gen_payload(g, start, target);
		break;
	default:
		gen_payload(g, start, target);
		break;
	}
}

static uint32_t
gen_proto(struct gen *g, unsigned ver)
{
	static const uint8_t other[] = { 0, 2, 4, 41, 47, 50, 59, 89, 103, 255 };
	uint32_t r = gr(g, 100);

	if (r < 28)
		return 6;
	if (r < 50)
		return 17;
	if (r < 60)
		return ver == 4 ? 1 : 58;
	if (r < 65)
		return 132;
	if (r < 70)
		return 33;
	if (r < 75)
		return 136;
	if (r < 79)
		return ver == 4 ? 58 : 1;
	if (r < 90)
		return other[gr(g, sizeof(other))];
	return gr(g, 256);
}

/* Room after the IP header of a jumbo datagram: around the 65535 threshold, mostly above. */
static int64_t
jumbo_room(struct gen *g)
{
	if (gc(g, 1, 8))
		return 65530 + gr(g, 10);
	return 65536 + gr(g, 3000);
}

static void
gen_ipv4(struct gen *g, bool jumbo)
{
	uint32_t start = g->len;
	uint32_t ihl, r, fw, tlpos, real, tl, optlen;
	uint32_t proto;
	int64_t target = -1;

	r = gr(g, 100);
	ihl = r < 75 ? 5 : r < 95 ? rrange(&g->rng, 6, 15) : gr(g, 5);
	put8(g, (gc(g, 1, 40) ? gr(g, 16) : 4) << 4 | ihl);
	put8(g, gr(g, 256));
	tlpos = g->len;
	put16(g, 0);
	put16(g, gr(g, 65536));
	r = gr(g, 100);
	if (r < 55)
		fw = 0x4000;
	else if (r < 70)
		fw = 0;
	else if (r < 80)
		fw = 0x2000;
	else if (r < 88)
		fw = rrange(&g->rng, 1, 0x1fff) | (gc(g, 1, 2) ? 0x2000 : 0);
	else if (r < 93)
		fw = rrange(&g->rng, 1, 12) | (gc(g, 1, 2) ? 0x2000 : 0);
	else if (r < 97)
		fw = rrange(&g->rng, 8000, 0x1fff) | (gc(g, 1, 2) ? 0x2000 : 0);
	else
		fw = gr(g, 65536);
	put16(g, fw);
	put8(g, gr(g, 256));
	proto = gen_proto(g, 4);
	put8(g, proto);
	put16(g, gr(g, 65536));
	gen_addrs(g, 4);
	optlen = ihl > 5 ? (ihl - 5) * 4 : 0;
	if (gc(g, 1, 10))
		optlen = gr(g, optlen + 1);
	putrand(g, optlen);
	if (jumbo)
		target = jumbo_room(g) - (int64_t)(g->len - start - 20);
	gen_l4(g, proto, 4, target);
	real = g->len - start;
	r = gr(g, 100);
	if (jumbo)
		tl = r < 85 ? 0 : real & 0xffff;
	else if (r < 80)
		tl = real;
	else if (r < 85)
		tl = 0;
	else if (r < 90)
		tl = real + rrange(&g->rng, 1, 40);
	else if (r < 95)
		tl = real - gr(g, real);
	else if (r < 98)
		tl = gr(g, ihl * 4 + 1);
	else
		tl = gr(g, 65536);
	set16(g, tlpos, tl);
}

static uint32_t
gen_ext_type(struct gen *g)
{
	static const uint8_t ext[] = { 0, 43, 60, 135, 139, 140, 253, 254, 51, 44, 44, 44 };

	return ext[gr(g, sizeof(ext))];
}

static void
gen_ipv6(struct gen *g, bool jumbo)
{
	uint32_t start = g->len;
	uint32_t tc = gr(g, 256), r, n, i, nhpos, plpos, real, pl, proto, t, w, lb, hl;
	bool big = jumbo && gc(g, 1, 3);
	int64_t target = -1;
	/* with `big`, 2 KiB extension headers until the L4 header lands around 0xffff */
	uint32_t goal = 0xffff - 120 + gr(g, 180);

	put8(g, (gc(g, 1, 40) ? gr(g, 16) : 6) << 4 | tc >> 4);
	put8(g, (tc & 0xf) << 4 | gr(g, 16));
	put16(g, gr(g, 65536));
	plpos = g->len;
	put16(g, 0);
	nhpos = g->len;
	put8(g, 0);
	put8(g, gr(g, 256));
	gen_addrs(g, 16);

	r = gr(g, 100);
	if (big)
		n = 60;
	else if (r < 55)
		n = 0;
	else if (r < 70)
		n = 1;
	else if (r < 85)
		n = rrange(&g->rng, 2, 3);
	else if (r < 97)
		n = rrange(&g->rng, 4, 10);
	else
		n = rrange(&g->rng, 10, 70);
	for (i = 0; i < n; i++) {
		t = big ? 60 : gen_ext_type(g);
		set8(g, nhpos, t);
		nhpos = g->len;
		put8(g, 0);
		if (t == 44) {
			put8(g, gr(g, 256));
			r = gr(g, 100);
			if (r < 40)
				w = gr(g, 2) | (gr(g, 4) << 1);
			else if (r < 75)
				w = rrange(&g->rng, 1, 0x1fff) << 3 | gr(g, 8);
			else if (r < 85)
				w = rrange(&g->rng, 1, 12) << 3 | gr(g, 8);
			else if (r < 95)
				w = rrange(&g->rng, 8100, 0x1fff) << 3 | gr(g, 8);
			else
				w = gr(g, 65536);
			put16(g, w);
			put32(g, (uint32_t)rnext(&g->rng));
			continue;
		}
		if (big && goal >= nhpos + 2048) {
			lb = 255;
		} else if (big) {
			lb = goal >= nhpos + 8 ? (goal - nhpos) / 8 - 1 : 0;
			n = i + 1;
		} else if (t == 51) {
			lb = gc(g, 4, 5) ? rrange(&g->rng, 1, 4) : gr(g, 256);
		} else {
			lb = gc(g, 4, 5) ? gr(g, 3) : gr(g, 256);
		}
		put8(g, lb);
		hl = t == 51 ? (lb + 2) * 4 - 2 : (lb + 1) * 8 - 2;
		if (!big && gc(g, 1, 12))
			hl = gr(g, hl + 1);
		putrand(g, hl);
	}
	proto = gen_proto(g, 6);
	set8(g, nhpos, proto);
	if (jumbo)
		target = jumbo_room(g) - (int64_t)(g->len - start - 40);
	if (target < 0)
		target = big ? 0 : -1;
	gen_l4(g, proto, 6, target);
	real = g->len - start - 40;
	r = gr(g, 100);
	if (jumbo)
		pl = r < 85 ? 0 : real & 0xffff;
	else if (r < 80)
		pl = real;
	else if (r < 84)
		pl = 0;
	else if (r < 89)
		pl = real + rrange(&g->rng, 1, 40);
	else if (r < 96)
		pl = real - gr(g, real + 1);
	else
		pl = gr(g, 65536);
	set16(g, plpos, pl);
}

/* An IP packet of version `ver` (4, 6, or other: garbage with that first nibble). */
static void
gen_ip(struct gen *g, unsigned ver, bool jumbo)
{
	if (ver == 4) {
		gen_ipv4(g, jumbo);
	} else if (ver == 6) {
		gen_ipv6(g, jumbo);
	} else {
		put8(g, ver << 4 | gr(g, 16));
		putrand(g, gr(g, 80));
	}
}

static unsigned
gen_other_ver(struct gen *g)
{
	unsigned v;

	do
		v = gr(g, 16);
	while (v == 4 || v == 6);
	return v;
}

/* Mostly `ver`, sometimes the other IP version, rarely garbage. */
static unsigned
gen_ver_mostly(struct gen *g, unsigned ver)
{
	uint32_t r = gr(g, 100);

	if (r < 94)
		return ver;
	if (r < 98)
		return ver == 4 ? 6 : 4;
	return gen_other_ver(g);
}

static uint16_t
gen_tpid(struct gen *g)
{
	static const uint16_t tpid[] = { 0x8100, 0x88a8, 0x9100 };

	return tpid[gr(g, 3)];
}

static void
gen_mpls(struct gen *g, bool jumbo)
{
	uint32_t r = gr(g, 100), n, i;
	bool nobos = gc(g, 1, 30);
	unsigned ver;

	if (r < 40)
		n = 1;
	else if (r < 75)
		n = rrange(&g->rng, 2, 3);
	else if (r < 95)
		n = rrange(&g->rng, 4, 8);
	else
		n = rrange(&g->rng, 9, 10);
	for (i = 0; i < n; i++) {
		uint32_t bos = (i + 1 == n && !nobos) ? 1 : 0;

		put32(g, gr(g, 1u << 20) << 12 | gr(g, 8) << 9 | bos << 8 | gr(g, 256));
	}
	r = gr(g, 100);
	ver = r < 45 ? 4 : r < 90 ? 6 : gen_other_ver(g);
	gen_ip(g, ver, jumbo);
}

static void
gen_pppoe(struct gen *g, bool jumbo)
{
	uint32_t lenpos, ppp, r;

	put8(g, gc(g, 19, 20) ? 0x11 : gr(g, 256));
	put8(g, gc(g, 19, 20) ? 0x00 : gr(g, 256));
	put16(g, gr(g, 65536));
	lenpos = g->len;
	put16(g, 0);
	r = gr(g, 100);
	if (r < 45)
		ppp = 0x0021;
	else if (r < 90)
		ppp = 0x0057;
	else if (r < 94)
		ppp = 0x0281;
	else if (r < 97)
		ppp = 0xc021;
	else
		ppp = gr(g, 65536);
	put16(g, ppp);
	if (ppp == 0x0021)
		gen_ip(g, gen_ver_mostly(g, 4), jumbo);
	else if (ppp == 0x0057)
		gen_ip(g, gen_ver_mostly(g, 6), jumbo);
	else
		putrand(g, gr(g, 60));
	set16(g, lenpos, (g->len - lenpos - 2) & 0xffff);
}

/*
 * Everything after a link header whose first ethertype is at `type_pos` (already
 * reserved): VLAN tags, then IPv4, IPv6, MPLS, PPPoE or something unsupported.
 */
static void
gen_l2_body(struct gen *g, uint32_t type_pos, bool jumbo)
{
	static const uint16_t other[] = { 0x0806, 0x88cc, 0x8863, 0x0000, 0x86de };
	uint32_t r = gr(g, 100), ntags, i, final;

	if (r < 50)
		ntags = 0;
	else if (r < 75)
		ntags = 1;
	else if (r < 90)
		ntags = 2;
	else if (r < 97)
		ntags = rrange(&g->rng, 3, 4);
	else
		ntags = rrange(&g->rng, 5, 6);
	r = gr(g, 100);
	if (r < 33)
		final = 0x0800;
	else if (r < 66)
		final = 0x86dd;
	else if (r < 74)
		final = 0x8847;
	else if (r < 78)
		final = 0x8848;
	else if (r < 90)
		final = 0x8864;
	else if (r < 96)
		final = other[gr(g, sizeof(other) / sizeof(other[0]))];
	else
		final = gr(g, 65536);
	set16(g, type_pos, ntags > 0 ? gen_tpid(g) : final);
	for (i = 0; i < ntags; i++) {
		put16(g, gr(g, 65536));
		put16(g, i + 1 < ntags ? gen_tpid(g) : final);
	}
	switch (final) {
	case 0x0800:
		gen_ip(g, gen_ver_mostly(g, 4), jumbo);
		break;
	case 0x86dd:
		gen_ip(g, gen_ver_mostly(g, 6), jumbo);
		break;
	case 0x8847:
	case 0x8848:
		gen_mpls(g, jumbo);
		break;
	case 0x8864:
		gen_pppoe(g, jumbo);
		break;
	default:
		putrand(g, gr(g, 100));
		break;
	}
}

static uint16_t
gen_tlv_type(struct gen *g)
{
	uint16_t t = (uint16_t)(gc(g, 3, 4) ? gr(g, 20) : gr(g, 65536));

	if ((t & 0x3fff) == 9)
		t ^= 1;
	return t;
}

static void
gen_pad4(struct gen *g)
{
	while (g->len & 3)
		put8(g, gr(g, 256));
}

/* One non-payload NFLOG TLV; with `bad` its length field may lie. */
static void
gen_tlv(struct gen *g, uint32_t len, bool bad)
{
	puth16(g, (uint16_t)len);
	puth16(g, gen_tlv_type(g));
	if (bad)
		putrand(g, gr(g, 16));
	else
		putrand(g, len - 4);
	gen_pad4(g);
}

static void
gen_nflog(struct gen *g)
{
	uint32_t r = gr(g, 100), fam, pre, i, pos, real, len;
	unsigned ver;

	fam = r < 45 ? 2 : r < 90 ? 10 : gr(g, 256);
	put8(g, fam);
	put8(g, 0);
	put16(g, gr(g, 65536));
	r = gr(g, 100);
	if (r < 30)
		pre = 0;
	else if (r < 85)
		pre = rrange(&g->rng, 1, 4);
	else if (r < 95)
		pre = rrange(&g->rng, 5, 20);
	else
		pre = rrange(&g->rng, 60, 67);
	if (gc(g, 1, 60)) {
		/* one huge TLV: the IP header lands around offset 0xff00 */
		gen_tlv(g, rrange(&g->rng, 0xfee0, 0xff08), false);
		pre = gr(g, 2);
	}
	for (i = 0; i < pre; i++) {
		if (gc(g, 1, 80)) {
			len = gc(g, 1, 2) ? gr(g, 4) : rrange(&g->rng, 100, 65535);
			gen_tlv(g, len, true);
		} else {
			gen_tlv(g, 4 + gr(g, 24), false);
		}
	}
	if (gc(g, 1, 12))
		return;
	pos = g->len;
	puth16(g, 0);
	r = gr(g, 100);
	puth16(g, r < 80 ? 9 : (uint16_t)(9 | gr(g, 4) << 14));
	ver = fam == 2 ? 4 : fam == 10 ? 6 : gr(g, 2) ? 4 : 6;
	gen_ip(g, gen_ver_mostly(g, ver), false);
	real = g->len - pos;
	r = gr(g, 100);
	if (r < 88)
		len = real;
	else if (r < 94)
		len = real - gr(g, real + 1);
	else
		len = real + gr(g, 40);
	seth16(g, pos, (uint16_t)len);
	gen_pad4(g);
	if (gc(g, 1, 5))
		gen_tlv(g, 4 + gr(g, 24), false);
}

/* The link types under test; 0 is the params default (Ethernet). */
static const uint32_t linktypes[] = {
	0, PFSE_LINKTYPE_ETHERNET, PFSE_LINKTYPE_DLT_RAW, PFSE_LINKTYPE_DLT_RAW_ALT,
	PFSE_LINKTYPE_RAW, PFSE_LINKTYPE_LINUX_SLL, PFSE_LINKTYPE_IPV4, PFSE_LINKTYPE_IPV6,
	PFSE_LINKTYPE_NFLOG, PFSE_LINKTYPE_LINUX_SLL2,
};
#define NLT (sizeof(linktypes) / sizeof(linktypes[0]))

/* A generated frame, copied to a heap block of exactly `caplen` bytes. */
struct frame {
	uint8_t *data;
	uint32_t caplen;
	uint32_t wirelen;
	uint64_t index;
};

/* Builds one frame of link type `lt` into g->b, then picks caplen, wirelen, mutations. */
static void
gen_frame(struct gen *g, uint32_t lt, struct frame *f)
{
	bool jumbo = gc(g, 1, 250);
	uint32_t r, w, cap, wire, i, n, lim;

	g->len = 0;
	switch (lt) {
	case 0:
	case PFSE_LINKTYPE_ETHERNET:
		putrand(g, 12);
		put16(g, 0);
		gen_l2_body(g, 12, jumbo);
		break;
	case PFSE_LINKTYPE_LINUX_SLL:
		put16(g, gr(g, 5));
		put16(g, 1);
		put16(g, 6);
		putrand(g, 8);
		put16(g, 0);
		gen_l2_body(g, 14, jumbo);
		break;
	case PFSE_LINKTYPE_LINUX_SLL2:
		put16(g, 0);
		put16(g, 0);
		put32(g, gr(g, 64));
		put16(g, 1);
		put8(g, gr(g, 5));
		put8(g, 6);
		putrand(g, 8);
		gen_l2_body(g, 0, jumbo);
		break;
	case PFSE_LINKTYPE_IPV4:
		gen_ip(g, gen_ver_mostly(g, 4), jumbo);
		break;
	case PFSE_LINKTYPE_IPV6:
		gen_ip(g, gen_ver_mostly(g, 6), jumbo);
		break;
	case PFSE_LINKTYPE_NFLOG:
		gen_nflog(g);
		break;
	default:
		r = gr(g, 100);
		gen_ip(g, r < 48 ? 4 : r < 96 ? 6 : gen_other_ver(g), jumbo);
		break;
	}
	if (gc(g, 3, 20))
		putrand(g, gr(g, 32));
	w = g->len;

	r = gr(g, 1000);
	if (r < 5)
		cap = 0;
	else if (r < 150)
		cap = gr(g, (w < 128 ? w : 128) + 1);
	else if (r < 200)
		cap = gr(g, w + 1);
	else
		cap = w;
	r = gr(g, 100);
	if (r < 1 && cap > 1)
		wire = rrange(&g->rng, 1, cap - 1);
	else if (r < 15)
		wire = 0;
	else if (r < 25)
		wire = w + gr(g, 100);
	else
		wire = w;

	if (gc(g, 2, 25) && cap > 0) {
		lim = cap < 96 ? cap : 96;
		n = rrange(&g->rng, 1, 3);
		for (i = 0; i < n; i++) {
			uint32_t at = gr(g, lim);

			if (gc(g, 1, 2))
				g->b[at] ^= (uint8_t)(1u << gr(g, 8));
			else
				g->b[at] = (uint8_t)gr(g, 256);
		}
	}

	f->caplen = cap;
	f->wirelen = wire;
	if (cap == 0 && gc(g, 1, 2)) {
		f->data = NULL;
	} else {
		f->data = malloc(cap != 0 ? cap : 1);
		if (f->data == NULL)
			ck_abort_msg("out of memory");
		memcpy(f->data, g->b, cap);
	}
}

/* ===================================================================================
 * Driver: configurations, comparison, reports
 * =================================================================================== */

/*
 * Configurations: bidir off/on x hash off/fixed seed x 3 zone modes x max_ext_hdrs
 * values, plus one with a random seed (read back with pfse_parser_seed()).
 */
static const uint32_t max_ext_values[] = { 0, 2, 64 };
#define NMAXEXT (sizeof(max_ext_values) / sizeof(max_ext_values[0]))
#define NHASH 2u
#define NCFG (2u * NHASH * 3u * NMAXEXT + 1u)

struct cfg {
	uint32_t flags;
	uint32_t zone_mode;
	uint32_t max_ext;
	struct pfse_parser *parser[NLT];
	uint64_t seed[NLT];
};

static void
cfg_init(struct cfg *c, unsigned idx)
{
	struct pfse_parser_params pp;
	unsigned bidir = idx % 2, hash = idx / 2 % NHASH, zone = idx / (2 * NHASH) % 3;
	unsigned mx = idx / (2 * NHASH * 3);
	unsigned i;
	int rc;

	c->flags = bidir ? PFSE_PARSE_F_BIDIR : 0;
	if (hash == 1)
		c->flags |= PFSE_PARSE_F_HASH | PFSE_PARSE_F_FIXED_SEED;
	c->zone_mode = zone;
	if (mx < NMAXEXT) {
		c->max_ext = max_ext_values[mx];
	} else {
		/* the last one: bidir, hash with a random seed, outer zone, default depth */
		c->flags = PFSE_PARSE_F_BIDIR | PFSE_PARSE_F_HASH;
		c->zone_mode = PFSE_ZONE_VLAN_OUTER;
		c->max_ext = 0;
	}
	for (i = 0; i < NLT; i++) {
		pfse_parser_params_init(&pp);
		pp.linktype = linktypes[i];
		pp.flags = c->flags;
		pp.zone_mode = c->zone_mode;
		pp.max_ext_hdrs = c->max_ext;
		if (c->flags & PFSE_PARSE_F_FIXED_SEED)
			pp.seed = FIXED_SEED;
		rc = pfse_parser_create(&pp, &c->parser[i]);
		ck_assert_int_eq(rc, 0);
		rc = pfse_parser_seed(c->parser[i], &c->seed[i]);
		ck_assert_int_eq(rc, 0);
		if (c->flags & PFSE_PARSE_F_FIXED_SEED)
			ck_assert_uint_eq(c->seed[i], FIXED_SEED);
	}
}

static void
cfg_fini(struct cfg *c)
{
	unsigned i;

	for (i = 0; i < NLT; i++)
		pfse_parser_destroy(c->parser[i]);
}

static uint64_t
env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0')
		return def;
	v = strtoull(s, &end, 0);
	if (*end != '\0')
		return def;
	return v;
}

enum {
	D_KEY = 1u << 0,
	D_HASH = 1u << 1,
	D_FLAGS = 1u << 2,
	D_L3LEN = 1u << 3,
	D_L3OFF = 1u << 4,
	D_L4OFF = 1u << 5,
	D_PAYOFF = 1u << 6,
	D_VLAN = 1u << 7,
	D_STATUS = 1u << 8,
	D_TCPF = 1u << 9,
	D_TTL = 1u << 10,
	D_TOS = 1u << 11,
	D_RESERVED = 1u << 12,
	D_INPUT = 1u << 13,
	D_RC = 1u << 14,
};

static uint32_t
pkt_diff(const struct pfse_pkt *e, const struct pfse_pkt *a)
{
	uint32_t d = 0;

	if (memcmp(&e->key, &a->key, sizeof(e->key)) != 0)
		d |= D_KEY;
	if (e->hash != a->hash)
		d |= D_HASH;
	if (e->flags != a->flags)
		d |= D_FLAGS;
	if (e->l3_len != a->l3_len)
		d |= D_L3LEN;
	if (e->l3_off != a->l3_off)
		d |= D_L3OFF;
	if (e->l4_off != a->l4_off)
		d |= D_L4OFF;
	if (e->payload_off != a->payload_off)
		d |= D_PAYOFF;
	if (e->vlan[0] != a->vlan[0] || e->vlan[1] != a->vlan[1])
		d |= D_VLAN;
	if (e->status != a->status)
		d |= D_STATUS;
	if (e->tcp_flags != a->tcp_flags)
		d |= D_TCPF;
	if (e->ttl != a->ttl)
		d |= D_TTL;
	if (e->tos != a->tos)
		d |= D_TOS;
	if (memcmp(e->reserved, a->reserved, sizeof(e->reserved)) != 0)
		d |= D_RESERVED;
	if (e->data != a->data || e->caplen != a->caplen || e->wirelen != a->wirelen ||
	    e->user != a->user || e->ts != a->ts)
		d |= D_INPUT;
	/* whatever the fields say, the whole 128 bytes must match */
	if (d == 0 && memcmp(e, a, sizeof(*e)) != 0)
		d |= D_RESERVED;
	return d;
}

static void
print_key(const char *what, const struct pfse_flow_key *k)
{
	const uint8_t *b = (const uint8_t *)k;
	unsigned i;

	printf("    %s key:", what);
	for (i = 0; i < sizeof(*k); i++)
		printf("%s%02x", i == 16 || i == 32 ? " " : "", b[i]);
	printf("\n");
}

static void
print_pkt(const char *what, const struct pfse_pkt *p)
{
	printf("    %s: status %u (%s) flags 0x%03x l3_len %u l3 %u l4 %u pay %u "
	       "vlan %u/%u tcpf 0x%02x ttl %u tos 0x%02x hash 0x%016" PRIx64 "\n",
	       what, p->status, pfse_parse_status_str(p->status), p->flags, p->l3_len,
	       p->l3_off, p->l4_off, p->payload_off, p->vlan[0], p->vlan[1], p->tcp_flags,
	       p->ttl, p->tos, p->hash);
	print_key(what, &p->key);
}

static void
hexdump(const uint8_t *d, uint32_t n)
{
	uint32_t i, lim = n < DUMP_MAX ? n : DUMP_MAX;

	for (i = 0; i < lim; i++)
		printf("%s%02x", i % 32 == 0 ? "\n    " : "", d[i]);
	if (lim < n)
		printf(" ... (%u bytes)", n);
	printf("\n");
}

/* A class of mismatch: link type, expected and actual status and differing fields. */
struct sig {
	uint32_t linktype;
	uint8_t exp_status;
	uint8_t act_status;
	uint32_t diff;
	uint64_t count;
	uint64_t first_index;
};

struct diffrun {
	uint64_t seed;
	uint64_t mismatches;
	uint64_t compared;
	unsigned printed;
	struct sig sigs[SIG_MAX];
	unsigned nsigs;
	uint64_t status_seen[PFSE_PARSE_STATUS_SLOTS];
	uint64_t flag_seen[32];
};

static void
report(struct diffrun *dr, const struct cfg *c, uint32_t lt, const struct frame *f,
       const char *path, const struct pfse_pkt *exp, const struct pfse_pkt *act,
       uint32_t diff, int rc_exp, int rc_act)
{
	unsigned i;

	dr->mismatches++;
	for (i = 0; i < dr->nsigs; i++) {
		struct sig *s = &dr->sigs[i];

		if (s->linktype == lt && s->exp_status == exp->status &&
		    s->act_status == act->status && s->diff == diff) {
			s->count++;
			return;
		}
	}
	if (dr->nsigs < SIG_MAX) {
		struct sig *s = &dr->sigs[dr->nsigs++];

		s->linktype = lt;
		s->exp_status = exp->status;
		s->act_status = act->status;
		s->diff = diff;
		s->count = 1;
		s->first_index = f->index;
	}
	/* the first frame of each new class of mismatch is printed in full */
	if (dr->printed >= REPORT_MAX)
		return;
	dr->printed++;
	printf("parse-diff mismatch: seed 0x%" PRIx64 " frame %" PRIu64 " (%s) linktype %u"
	       " flags 0x%x zone %u max_ext %u caplen %u wirelen %u diff 0x%x rc %d/%d\n",
	       dr->seed, f->index, path, lt, c->flags, c->zone_mode, c->max_ext, f->caplen,
	       f->wirelen, diff, rc_exp, rc_act);
	print_pkt("expected", exp);
	print_pkt("actual  ", act);
	printf("    frame:");
	if (f->data != NULL)
		hexdump(f->data, f->caplen);
	else
		printf(" NULL\n");
}

/* Scribbles over the output fields, so a field the parser forgets to write shows. */
static void
fill_garbage(struct rng *r, struct pfse_pkt *p)
{
	memset(&p->key, (int)(rnext(r) | 1) & 0xff,
	       sizeof(*p) - offsetof(struct pfse_pkt, key));
}

static void
set_input(struct pfse_pkt *p, const struct frame *f, unsigned i)
{
	p->data = f->data;
	p->caplen = f->caplen;
	p->wirelen = f->wirelen;
	p->user = (void *)(uintptr_t)(0x1000 + i);
	p->ts = f->index * 1000 + 7;
}

static void
note_coverage(struct diffrun *dr, const struct pfse_pkt *exp)
{
	unsigned b;

	dr->status_seen[exp->status]++;
	for (b = 0; b < 32; b++) {
		if (exp->flags & (1u << b))
			dr->flag_seen[b]++;
	}
}

/* Parses `n` frames of link type index `li` with config `c` singly and in a burst. */
static void
diff_burst(struct diffrun *dr, struct cfg *c, unsigned li, struct frame *fr, unsigned n,
	   struct rng *junk)
{
	static struct pfse_pkt exp[PFSE_BURST_MAX], one[PFSE_BURST_MAX], bur[PFSE_BURST_MAX];
	struct pfse_pkt *ptrs[PFSE_BURST_MAX];
	struct pfse_parse_stats st_exp, st_one, st_bur;
	uint32_t lt = linktypes[li], d;
	int rc, rc_exp, ok = 0;
	unsigned i;
	uint64_t before = dr->mismatches;

	memset(&st_exp, 0, sizeof(st_exp));
	memset(&st_one, 0, sizeof(st_one));
	memset(&st_bur, 0, sizeof(st_bur));
	ref_seed = c->seed[li];
	for (i = 0; i < n; i++) {
		const struct frame *f = &fr[i];

		fill_garbage(junk, &exp[i]);
		set_input(&exp[i], f, i);
		one[i] = exp[i];
		fill_garbage(junk, &bur[i]);
		set_input(&bur[i], f, i);
		ptrs[i] = &bur[i];

		ref_parse(lt, c->flags, c->zone_mode, c->max_ext, f->data, f->caplen,
			  f->wirelen, &exp[i]);
		st_exp.status[exp[i].status]++;
		st_exp.bytes += f->wirelen != 0 ? f->wirelen : f->caplen;
		rc_exp = exp[i].status == PFSE_PARSE_OK ? 0 : -EBADMSG;
		ok += rc_exp == 0;

		rc = pfse_parse(c->parser[li], &one[i], &st_one);
		d = pkt_diff(&exp[i], &one[i]);
		if (rc != rc_exp)
			d |= D_RC;
		dr->compared++;
		if (d != 0)
			report(dr, c, lt, f, "pfse_parse", &exp[i], &one[i], d, rc_exp, rc);
	}
	rc = pfse_parse_burst(c->parser[li], ptrs, n, &st_bur);
	for (i = 0; i < n; i++) {
		d = pkt_diff(&exp[i], &bur[i]);
		dr->compared++;
		if (d != 0) {
			rc_exp = exp[i].status == PFSE_PARSE_OK ? 0 : -EBADMSG;
			report(dr, c, lt, &fr[i], "pfse_parse_burst", &exp[i], &bur[i], d,
			       rc_exp, rc_exp);
		}
	}
	/* burst count and stats are checked when every frame matched */
	if (dr->mismatches != before)
		return;
	if (rc != ok) {
		dr->mismatches++;
		if (dr->printed++ < REPORT_MAX)
			printf("parse-diff: seed 0x%" PRIx64 " frames %" PRIu64 "..: burst of %u "
			       "returned %d, expected %d\n", dr->seed, fr[0].index, n, rc, ok);
	}
	if (memcmp(&st_exp, &st_one, sizeof(st_exp)) != 0 ||
	    memcmp(&st_exp, &st_bur, sizeof(st_exp)) != 0) {
		dr->mismatches++;
		if (dr->printed++ < REPORT_MAX)
			printf("parse-diff: seed 0x%" PRIx64 " frames %" PRIu64 "..: stats "
			       "differ (bytes %" PRIu64 " single %" PRIu64 " burst %" PRIu64
			       ")\n", dr->seed, fr[0].index, st_exp.bytes, st_one.bytes,
			       st_bur.bytes);
	}
}

/*
 * Generates `nframes` frames in bursts of one link type each and, unless `ref_only`,
 * compares the library with the reference in every configuration. With `ref_only` only
 * the first configuration is run, through the reference alone (coverage).
 */
static void
run_diff(struct diffrun *dr, uint64_t nframes, bool ref_only)
{
	static struct cfg cfgs[NCFG];
	struct frame fr[PFSE_BURST_MAX];
	struct gen g;
	struct rng junk;
	uint64_t done = 0;
	unsigned ncfg = ref_only ? 1 : NCFG, c, i, n, li;

	memset(&g, 0, sizeof(g));
	g.rng.s = dr->seed;
	junk.s = dr->seed ^ 0xa5a5a5a5a5a5a5a5ull;
	g.b = malloc(FRAME_MAX);
	ck_assert_ptr_nonnull(g.b);
	for (c = 0; c < ncfg; c++)
		cfg_init(&cfgs[c], ref_only ? 3 : c);

	while (done < nframes) {
		li = gr(&g, NLT);
		n = rrange(&g.rng, 1, PFSE_BURST_MAX);
		if (n > nframes - done)
			n = (unsigned)(nframes - done);
		for (i = 0; i < n; i++) {
			fr[i].index = done + i;
			gen_frame(&g, linktypes[li], &fr[i]);
		}
		if (ref_only) {
			struct pfse_pkt p;

			ref_seed = cfgs[0].seed[li];
			for (i = 0; i < n; i++) {
				memset(&p, 0, sizeof(p));
				ref_parse(linktypes[li], cfgs[0].flags, cfgs[0].zone_mode,
					  cfgs[0].max_ext, fr[i].data, fr[i].caplen,
					  fr[i].wirelen, &p);
				note_coverage(dr, &p);
			}
		} else {
			for (c = 0; c < ncfg; c++)
				diff_burst(dr, &cfgs[c], li, fr, n, &junk);
		}
		for (i = 0; i < n; i++)
			free(fr[i].data);
		done += n;
	}
	for (c = 0; c < ncfg; c++)
		cfg_fini(&cfgs[c]);
	free(g.b);
}

static void
print_sigs(const struct diffrun *dr)
{
	unsigned i;

	printf("parse-diff: %" PRIu64 " mismatches in %" PRIu64 " comparisons, seed 0x%"
	       PRIx64 "; classes (linktype exp->act diff count first-frame):\n",
	       dr->mismatches, dr->compared, dr->seed);
	for (i = 0; i < dr->nsigs; i++) {
		const struct sig *s = &dr->sigs[i];

		printf("  lt %3u  %2u -> %2u  diff 0x%04x  %8" PRIu64 "  frame %" PRIu64 "\n",
		       s->linktype, s->exp_status, s->act_status, s->diff, s->count,
		       s->first_index);
	}
}

/* ===================================================================================
 * Tests
 * =================================================================================== */

/*
 * Hand-made frames with hand-computed results: they check the reference itself, and
 * pin the disagreements found with the library as minimal cases.
 */
struct vec {
	const char *name;
	uint32_t linktype;
	const char *hex;      /* frame bytes; spaces are ignored */
	uint16_t nflog_len;   /* NFLOG: host-order length and type of the TLV at offset 4 */
	uint16_t nflog_type;
	uint8_t status;
	uint32_t flags;
	uint16_t l3_off;
	uint16_t l4_off;
	uint16_t payload_off;
	uint32_t l3_len;
	uint16_t sport;       /* host order */
	uint16_t dport;
	uint16_t zone;
};

#define ADDRS6 "00000000000000000000000000000001 00000000000000000000000000000002 "
#define MACS "000000000001 000000000002 "
#define NONE PFSE_OFF_NONE

static const struct vec vectors[] = {
	{ "eth-ipv4-tcp", 1, MACS "0800 4500002800004000400600000a0000010a000002 "
	  "04d200500000000000000000501200ff00000000", 0, 0,
	  0, 0, 14, 34, 54, 40, 1234, 80, 0 },
	{ "eth-qinq-ipv6-udp", 1, MACS "88a8 0064 8100 00c8 86dd 6000000000101140 " ADDRS6
	  "00351389001000000102030405060708", 0, 0,
	  0, PFSE_PKT_F_VLAN | PFSE_PKT_F_QINQ, 22, 62, 70, 56, 53, 5001, 200 },
	{ "nflog-ipv6-udp", PFSE_LINKTYPE_NFLOG, "0a000000 00000000 6000000000081140 " ADDRS6
	  "0035003500080000", 52, 9,
	  0, 0, 8, 48, 56, 48, 53, 53, 0 },
	/* the payload TLV (8 bytes) ends inside the IPv6 header: no room for it */
	{ "nflog-ipv6-tlv-shorter-than-header", PFSE_LINKTYPE_NFLOG,
	  "0a000000 00000000 6000000000003b40 " ADDRS6, 8, 9,
	  PFSE_PARSE_ERR_L3_TOTAL_LEN, 0, 8, NONE, NONE, 0, 0, 0, 0 },
	{ "linktype-ipv4-holding-v6-nibble", PFSE_LINKTYPE_IPV4, "60", 0, 0,
	  PFSE_PARSE_ERR_L3_VERSION, 0, 0, NONE, NONE, 0, 0, 0, 0 },
	{ "linktype-ipv6-holding-ipv4", PFSE_LINKTYPE_IPV6,
	  "4500001400000000400600000a0000010a000002", 0, 0,
	  PFSE_PARSE_ERR_L3_VERSION, 0, 0, NONE, NONE, 0, 0, 0, 0 },
	/* The version nibble is judged before the header's capture: a short packet of the
	 * wrong version is reported as what it is. */
	{ "eth-ipv4-ethertype-one-byte-v6", 1, MACS "0800 60", 0, 0,
	  PFSE_PARSE_ERR_L3_VERSION, 0, 14, NONE, NONE, 0, 0, 0, 0 },
	{ "eth-ipv4-ethertype-short-v4", 1, MACS "0800 45", 0, 0,
	  PFSE_PARSE_ERR_L3_TRUNCATED, 0, 14, NONE, NONE, 0, 0, 0, 0 },
	{ "mpls-nothing-after-stack", 1, MACS "8847 000011ff", 0, 0,
	  PFSE_PARSE_ERR_L3_TRUNCATED, 0, 18, NONE, NONE, 0, 0, 0, 0 },
	{ "ipv6-atomic-fragment", PFSE_LINKTYPE_RAW, "6000000000102c40 " ADDRS6
	  "1100000000000001 0035003500080000", 0, 0,
	  0, PFSE_PKT_F_IPV6_EXT, 0, 48, 56, 56, 53, 53, 0 },
	{ "ipv4-icmp-echo", PFSE_LINKTYPE_RAW,
	  "4500001c00000000400100000a0000010a000002 0800000012340001", 0, 0,
	  0, 0, 0, 20, 28, 28, 0x1234, 0x1234, 0 },
	{ "ipv4-tiny-first-fragment", PFSE_LINKTYPE_RAW,
	  "4500001c00002000400600000a0000010a000002 04d2005000000000", 0, 0,
	  PFSE_PARSE_ERR_L3_FRAG, 0, 0, NONE, NONE, 0, 0, 0, 0 },
};

static uint32_t
unhex(const char *h, uint8_t *out, uint32_t max)
{
	uint32_t n = 0;
	unsigned v;

	while (*h != '\0' && n < max) {
		if (*h == ' ') {
			h++;
			continue;
		}
		if (sscanf(h, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

static uint16_t
be16_of(const uint16_t *field)
{
	const uint8_t *b = (const uint8_t *)field;

	return (uint16_t)((unsigned)b[0] << 8 | b[1]);
}

/* Checks `p` against vector `v`; `who` names the parser. */
static void
check_vec(const struct vec *v, const struct pfse_pkt *p, const char *who)
{
	ck_assert_msg(p->status == v->status, "%s %s: status %u, want %u", who, v->name,
		      p->status, v->status);
	ck_assert_msg(p->flags == v->flags, "%s %s: flags 0x%x, want 0x%x", who, v->name,
		      p->flags, v->flags);
	ck_assert_msg(p->l3_off == v->l3_off && p->l4_off == v->l4_off &&
		      p->payload_off == v->payload_off,
		      "%s %s: offsets %u/%u/%u, want %u/%u/%u", who, v->name, p->l3_off,
		      p->l4_off, p->payload_off, v->l3_off, v->l4_off, v->payload_off);
	ck_assert_msg(p->l3_len == v->l3_len, "%s %s: l3_len %u, want %u", who, v->name,
		      p->l3_len, v->l3_len);
	ck_assert_msg(be16_of(&p->key.sport) == v->sport && be16_of(&p->key.dport) == v->dport,
		      "%s %s: ports %u/%u, want %u/%u", who, v->name, be16_of(&p->key.sport),
		      be16_of(&p->key.dport), v->sport, v->dport);
	ck_assert_msg(be16_of(&p->key.zone) == v->zone, "%s %s: zone %u, want %u", who,
		      v->name, be16_of(&p->key.zone), v->zone);
}


START_TEST(test_vectors)
{
	const struct vec *v = &vectors[_i];
	struct pfse_parser_params pp;
	struct pfse_parser *parser;
	struct pfse_pkt exp, act;
	uint8_t buf[256], *data;
	uint32_t n = unhex(v->hex, buf, sizeof(buf));
	int rc;

	if (v->linktype == PFSE_LINKTYPE_NFLOG) {
		memcpy(&buf[4], &v->nflog_len, 2);
		memcpy(&buf[6], &v->nflog_type, 2);
	}
	data = malloc(n);
	ck_assert_ptr_nonnull(data);
	memcpy(data, buf, n);

	memset(&exp, 0, sizeof(exp));
	exp.data = data;
	exp.caplen = n;
	act = exp;
	ref_seed = 0;
	ref_parse(v->linktype, 0, PFSE_ZONE_VLAN_INNER, 0, data, n, 0, &exp);
	check_vec(v, &exp, "reference");

	pfse_parser_params_init(&pp);
	pp.linktype = v->linktype;
	ck_assert_int_eq(pfse_parser_create(&pp, &parser), 0);
	rc = pfse_parse(parser, &act, NULL);
	check_vec(v, &act, "library");
	ck_assert_int_eq(rc, v->status == PFSE_PARSE_OK ? 0 : -EBADMSG);
	ck_assert_msg(memcmp(&exp, &act, sizeof(exp)) == 0, "%s: library and reference differ",
		      v->name);
	pfse_parser_destroy(parser);
	free(data);
}
END_TEST

START_TEST(test_diff_random)
{
	static struct diffrun dr;
	uint64_t frames = env_u64("PFSE_TEST_FRAMES", DEFAULT_FRAMES);

	memset(&dr, 0, sizeof(dr));
	dr.seed = env_u64("PFSE_TEST_SEED", DEFAULT_SEED);
	run_diff(&dr, frames, false);
	if (dr.mismatches != 0)
		print_sigs(&dr);
	fflush(stdout);
	ck_assert_msg(dr.mismatches == 0,
		      "%" PRIu64 " mismatches (seed 0x%" PRIx64 ", %" PRIu64 " frames)",
		      dr.mismatches, dr.seed, frames);
}
END_TEST

START_TEST(test_generator_coverage)
{
	static struct diffrun dr;
	unsigned s, b;

	memset(&dr, 0, sizeof(dr));
	dr.seed = env_u64("PFSE_TEST_SEED", DEFAULT_SEED);
	run_diff(&dr, DEFAULT_FRAMES, true);
	for (s = 0; s < PFSE_PARSE_STATUS_COUNT; s++)
		ck_assert_msg(dr.status_seen[s] > 0, "status %u (%s) never generated", s,
			      pfse_parse_status_str(s));
	for (b = 0; b < 12; b++)
		ck_assert_msg(dr.flag_seen[b] > 0, "flag bit %u never generated", b);
}
END_TEST

static Suite *
parse_diff_suite(void)
{
	Suite *s = suite_create("parse-diff");
	TCase *tc;

	tc = tcase_create("vectors");
	tcase_add_loop_test(tc, test_vectors, 0, (int)(sizeof(vectors) / sizeof(vectors[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_diff_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("coverage");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_generator_coverage);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(parse_diff_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
