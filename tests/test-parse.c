/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet parser on hand-built frames: a known answer (key, offsets, flags) for every
 * supported encapsulation, a known reason for every kind of rejection, the parser
 * options (bidirectional keys, hashing, zones, extension-header bound), the burst call,
 * stats, the no-allocation guarantee and every invalid argument.
 *
 * tests/test-parse-diff.c compares the parser with an independent reference on random
 * frames; tests/test-captures.c runs it over real captures.
 */
#define _DEFAULT_SOURCE /* ntohs, posix_memalign */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pfse/pfse.h>

#include "test-util.h"

#if defined(__x86_64__) || defined(__aarch64__)
/* Every released layout of struct pfse_pkt (LP64). */
_Static_assert(sizeof(struct pfse_pkt) == 128, "pfse_pkt size is ABI");
_Static_assert(offsetof(struct pfse_pkt, caplen) == 8, "pfse_pkt layout is ABI");
_Static_assert(offsetof(struct pfse_pkt, user) == 16, "pfse_pkt layout is ABI");
_Static_assert(offsetof(struct pfse_pkt, ts) == 24, "pfse_pkt layout is ABI");
_Static_assert(offsetof(struct pfse_pkt, key) == 32, "pfse_pkt layout is ABI");
_Static_assert(offsetof(struct pfse_pkt, hash) == 72, "pfse_pkt layout is ABI");
_Static_assert(offsetof(struct pfse_pkt, flags) == 80, "pfse_pkt layout is ABI");
_Static_assert(offsetof(struct pfse_pkt, l3_len) == 84, "pfse_pkt layout is ABI");
_Static_assert(offsetof(struct pfse_pkt, l3_off) == 88, "pfse_pkt layout is ABI");
_Static_assert(offsetof(struct pfse_pkt, l4_off) == 90, "pfse_pkt layout is ABI");
_Static_assert(offsetof(struct pfse_pkt, payload_off) == 92, "pfse_pkt layout is ABI");
_Static_assert(offsetof(struct pfse_pkt, vlan) == 94, "pfse_pkt layout is ABI");
_Static_assert(offsetof(struct pfse_pkt, status) == 98, "pfse_pkt layout is ABI");
_Static_assert(offsetof(struct pfse_pkt, tcp_flags) == 99, "pfse_pkt layout is ABI");
_Static_assert(offsetof(struct pfse_pkt, ttl) == 100, "pfse_pkt layout is ABI");
_Static_assert(offsetof(struct pfse_pkt, tos) == 101, "pfse_pkt layout is ABI");
_Static_assert(offsetof(struct pfse_pkt, reserved) == 102, "pfse_pkt layout is ABI");
_Static_assert(offsetof(struct pfse_parse_stats, bytes) == 256, "stats layout is ABI");
/* struct pfse_parser_params, release 0.1 */
_Static_assert(offsetof(struct pfse_parser_params, linktype) == 8, "params layout is ABI");
_Static_assert(offsetof(struct pfse_parser_params, flags) == 12, "params layout is ABI");
_Static_assert(offsetof(struct pfse_parser_params, zone_mode) == 16, "params layout is ABI");
_Static_assert(offsetof(struct pfse_parser_params, max_ext_hdrs) == 20, "params layout");
_Static_assert(offsetof(struct pfse_parser_params, seed) == 24, "params layout is ABI");
_Static_assert(offsetof(struct pfse_parser_params, allocator) == 32, "params layout is ABI");
_Static_assert(sizeof(struct pfse_parser_params) == 56, "params layout is ABI");
_Static_assert(sizeof(struct pfse_parse_stats) == 33 * 8, "stats layout is ABI");
#endif

/* ---- frame builder ---------------------------------------------------------------- */

struct frame {
	uint8_t b[70000 + 256];
	uint32_t n;
};

static struct frame F;

static void
put8(uint8_t v)
{
	F.b[F.n++] = v;
}

static void
put16(uint16_t v)
{
	put8((uint8_t)(v >> 8));
	put8((uint8_t)v);
}

static void
putn(const void *p, uint32_t len)
{
	memcpy(F.b + F.n, p, len);
	F.n += len;
}

static void
zeros(uint32_t len)
{
	memset(F.b + F.n, 0, len);
	F.n += len;
}

static void
set16(uint32_t at, uint16_t v)
{
	F.b[at] = (uint8_t)(v >> 8);
	F.b[at + 1] = (uint8_t)v;
}

static const uint8_t A4[4] = { 10, 1, 2, 3 };
static const uint8_t B4[4] = { 10, 9, 8, 7 };
static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa, 1 };
static const uint8_t B6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xb, 2 };

static void
eth(uint16_t type)
{
	static const uint8_t mac[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

	F.n = 0;
	putn(mac, 12);
	put16(type);
}

static void
vlan(uint16_t vid, uint16_t next)
{
	put16(vid);
	put16(next);
}

/* IPv4 header with total length = header + l4len; returns the header's offset. */
static uint32_t
ipv4(uint8_t proto, uint32_t l4len, uint16_t frag, uint8_t optwords)
{
	uint32_t at = F.n, hl = 20 + 4u * optwords;

	put8((uint8_t)(0x40 | (hl / 4)));
	put8(0x28); /* tos */
	put16((uint16_t)(hl + l4len));
	put16(0x1234);
	put16(frag);
	put8(61); /* ttl */
	put8(proto);
	put16(0);
	putn(A4, 4);
	putn(B4, 4);
	for (unsigned i = 0; i < optwords; i++)
		put16(0x0101), put16(0x0101); /* NOPs */
	return at;
}

/* IPv6 header; payload length = plen. */
static uint32_t
ipv6(uint8_t nh, uint16_t plen)
{
	uint32_t at = F.n;

	put16(0x6ab0); /* version 6, traffic class 0xab */
	put16(0x0001);
	put16(plen);
	put8(nh);
	put8(33); /* hop limit */
	putn(A6, 16);
	putn(B6, 16);
	return at;
}

static void
tcp(uint16_t sp, uint16_t dp, uint8_t flags, uint8_t doff_words, uint32_t payload)
{
	put16(sp);
	put16(dp);
	zeros(8);
	put8((uint8_t)(doff_words << 4));
	put8(flags);
	zeros(6);
	zeros(4u * doff_words - 20 + payload);
}

static void
udp(uint16_t sp, uint16_t dp, uint16_t len, uint32_t payload)
{
	put16(sp);
	put16(dp);
	put16(len);
	put16(0);
	zeros(payload);
}

/* ---- parsing helpers ---------------------------------------------------------------- */

static struct pfse_parser *
mkparser(uint32_t linktype, uint32_t flags, uint32_t zone_mode)
{
	struct pfse_parser_params p;
	struct pfse_parser *ps = NULL;

	pfse_parser_params_init(&p);
	p.linktype = linktype;
	p.flags = flags;
	p.zone_mode = zone_mode;
	p.seed = 99;
	ck_assert_int_eq(pfse_parser_create(&p, &ps), 0);
	return ps;
}

static struct pfse_pkt P;

/* Parses F (whole frame captured) with a parser of the given link type; returns the
 * status and leaves the result in P. */
static unsigned
parse_lt(uint32_t linktype, uint32_t flags)
{
	struct pfse_parser *ps = mkparser(linktype, flags, PFSE_ZONE_VLAN_INNER);
	int r;

	memset(&P, 0xee, sizeof(P));
	P.data = F.b;
	P.caplen = F.n;
	P.wirelen = F.n;
	P.user = NULL;
	r = pfse_parse(ps, &P, NULL);
	ck_assert_int_eq(r, P.status == PFSE_PARSE_OK ? 0 : -EBADMSG);
	/* The parser zeroes the reserved bytes, so no stale byte survives. */
	for (unsigned i = 0; i < sizeof(P.reserved); i++)
		ck_assert_uint_eq(P.reserved[i], 0);
	pfse_parser_destroy(ps);
	return P.status;
}

static unsigned
parse_eth(void)
{
	return parse_lt(PFSE_LINKTYPE_ETHERNET, 0);
}

static void
assert_key(uint32_t family, uint8_t proto, uint16_t sport, uint16_t dport, uint16_t zone)
{
	struct pfse_flow_key k;

	if (family == PFSE_FAMILY_IPV4)
		pfse_flow_key_set(&k, family, A4, B4, sport, dport, proto, zone);
	else
		pfse_flow_key_set(&k, family, A6, B6, sport, dport, proto, zone);
	ck_assert_mem_eq(&P.key, &k, sizeof(k));
}

static void
assert_rejected(unsigned want)
{
	static const struct pfse_flow_key zero;

	ck_assert_msg(P.status == want, "status %s, want %s", pfse_parse_status_str(P.status),
		      pfse_parse_status_str(want));
	ck_assert_mem_eq(&P.key, &zero, sizeof(zero));
	ck_assert_uint_eq(P.flags, 0);
	ck_assert_uint_eq(P.l4_off, PFSE_OFF_NONE);
	ck_assert_uint_eq(P.hash, 0);
}

/* ---- known answers ------------------------------------------------------------------ */

START_TEST(eth_ipv4_tcp)
{
	eth(0x0800);
	ipv4(6, 20 + 10, 0x4000 /* DF */, 0);
	tcp(40000, 443, 0x12, 5, 10);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(4, 6, 40000, 443, 0);
	ck_assert_uint_eq(P.l3_off, 14);
	ck_assert_uint_eq(P.l4_off, 34);
	ck_assert_uint_eq(P.payload_off, 54);
	ck_assert_uint_eq(P.l3_len, 50);
	ck_assert_uint_eq(P.tcp_flags, 0x12);
	ck_assert_uint_eq(P.ttl, 61);
	ck_assert_uint_eq(P.tos, 0x28);
	ck_assert_uint_eq(P.flags, 0);
	ck_assert_uint_eq(P.vlan[0], 0);
	ck_assert_uint_eq(P.hash, 0);
	ck_assert_ptr_eq(P.data, F.b); /* inputs untouched */
	ck_assert_uint_eq(P.caplen, F.n);
}
END_TEST

START_TEST(eth_ipv4_options_and_padding)
{
	eth(0x0800);
	ipv4(17, 8 + 4, 0, 3);
	udp(53, 5353, 12, 4);
	zeros(6); /* Ethernet padding after the IP packet is ignored */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(4, 17, 53, 5353, 0);
	ck_assert_uint_eq(P.flags, PFSE_PKT_F_IP_OPTIONS);
	ck_assert_uint_eq(P.l4_off, 14 + 32);
	ck_assert_uint_eq(P.payload_off, 14 + 32 + 8);
	ck_assert_uint_eq(P.l3_len, 32 + 12);
}
END_TEST

START_TEST(eth_ipv6_udp)
{
	eth(0x86dd);
	ipv6(17, 8 + 20);
	udp(5000, 53, 28, 20);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(6, 17, 5000, 53, 0);
	ck_assert_uint_eq(P.l3_off, 14);
	ck_assert_uint_eq(P.l4_off, 54);
	ck_assert_uint_eq(P.payload_off, 62);
	ck_assert_uint_eq(P.l3_len, 68);
	ck_assert_uint_eq(P.ttl, 33);
	ck_assert_uint_eq(P.tos, 0xab);
}
END_TEST

START_TEST(vlan_single)
{
	eth(0x8100);
	vlan(0x2000 | 100, 0x0800); /* PCP 1, VID 100 */
	ipv4(6, 20, 0, 0);
	tcp(1, 2, 0x02, 5, 0);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(4, 6, 1, 2, 100);
	ck_assert_uint_eq(P.flags, PFSE_PKT_F_VLAN);
	ck_assert_uint_eq(P.vlan[0], 100);
	ck_assert_uint_eq(P.vlan[1], 0);
	ck_assert_uint_eq(P.l3_off, 18);
}
END_TEST

static void
build_qinq(void)
{
	eth(0x88a8);
	vlan(200, 0x8100);
	vlan(2001, 0x86dd);
	ipv6(6, 20);
	tcp(1111, 22, 0x10, 5, 0);
}

START_TEST(vlan_qinq_zone_modes)
{
	struct pfse_parser *ps;
	static const uint32_t modes[3] = { PFSE_ZONE_VLAN_INNER, PFSE_ZONE_VLAN_OUTER,
					   PFSE_ZONE_NONE };
	static const uint16_t want[3] = { 2001, 200, 0 };

	build_qinq();
	for (unsigned m = 0; m < 3; m++) {
		ps = mkparser(PFSE_LINKTYPE_ETHERNET, 0, modes[m]);
		memset(&P, 0, sizeof(P));
		P.data = F.b;
		P.caplen = F.n;
		ck_assert_int_eq(pfse_parse(ps, &P, NULL), 0);
		assert_key(6, 6, 1111, 22, want[m]);
		ck_assert_uint_eq(P.flags, PFSE_PKT_F_VLAN | PFSE_PKT_F_QINQ);
		ck_assert_uint_eq(P.vlan[0], 200);
		ck_assert_uint_eq(P.vlan[1], 2001);
		ck_assert_uint_eq(P.l3_off, 22);
		pfse_parser_destroy(ps);
	}
}
END_TEST

START_TEST(vlan_depth_bound)
{
	/* 4 tags (0x9100, 0x88a8, 0x8100, 0x8100) are accepted, a 5th is not. */
	eth(0x9100);
	vlan(1, 0x88a8);
	vlan(2, 0x8100);
	vlan(3, 0x8100);
	vlan(4, 0x0800);
	ipv4(17, 8, 0, 0);
	udp(1, 2, 8, 0);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(4, 17, 1, 2, 4);
	ck_assert_uint_eq(P.vlan[0], 1);
	ck_assert_uint_eq(P.vlan[1], 2);
	eth(0x8100);
	for (unsigned i = 0; i < 5; i++)
		vlan((uint16_t)(i + 1), i < 4 ? 0x8100 : 0x0800);
	ipv4(17, 8, 0, 0);
	udp(1, 2, 8, 0);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L2_DEPTH);
	assert_rejected(PFSE_PARSE_ERR_L2_DEPTH);
	/* A tag cut short by the capture. */
	eth(0x8100);
	put16(5);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L2_TRUNCATED);
}
END_TEST

START_TEST(mpls_stack)
{
	eth(0x8847);
	put16(0x0001), put16(0x0040); /* label 16, not bottom */
	put16(0x0002), put16(0x0140); /* bottom of stack */
	ipv4(17, 8, 0, 0);
	udp(7, 8, 8, 0);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(4, 17, 7, 8, 0);
	ck_assert_uint_eq(P.flags, PFSE_PKT_F_MPLS);
	ck_assert_uint_eq(P.l3_off, 22);

	eth(0x8848);
	put16(0x0002), put16(0x0140);
	ipv6(59, 0);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(6, 59, 0, 0, 0);

	/* 9 labels: too deep. */
	eth(0x8847);
	for (unsigned i = 0; i < 9; i++)
		put16(0), put16(i == 8 ? 0x0140 : 0x0040);
	ipv4(17, 8, 0, 0);
	udp(7, 8, 8, 0);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L2_DEPTH);

	/* A pseudowire (control word, first nibble 0) is not keyed. */
	eth(0x8847);
	put16(0), put16(0x0140);
	zeros(20);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L2_UNSUPPORTED);

	/* Stack ends with the capture. */
	eth(0x8847);
	put16(0), put16(0x0140);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_TRUNCATED);
}
END_TEST

START_TEST(pppoe_session)
{
	eth(0x8864);
	put8(0x11), put8(0), put16(0x0017), put16(2 + 40 + 8), put16(0x0057);
	ipv6(17, 8);
	udp(546, 547, 8, 0);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(6, 17, 546, 547, 0);
	ck_assert_uint_eq(P.flags, PFSE_PKT_F_PPPOE);
	ck_assert_uint_eq(P.l3_off, 22);

	eth(0x8864);
	put8(0x11), put8(0), put16(0x0017), put16(2 + 20 + 20), put16(0x0021);
	ipv4(6, 20, 0, 0);
	tcp(1, 2, 0, 5, 0);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(4, 6, 1, 2, 0);

	/* LCP, as in tcpdump's pppoes.pcap */
	eth(0x8864);
	put8(0x11), put8(0), put16(0x0017), put16(14), put16(0xc021);
	zeros(12);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L2_UNSUPPORTED);
	/* Discovery stage code != 0 */
	eth(0x8864);
	put8(0x11), put8(0x09), put16(0), put16(2), put16(0x0021);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L2_UNSUPPORTED);
	eth(0x8864);
	put8(0x11), put8(0);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L2_TRUNCATED);
}
END_TEST

START_TEST(non_ip_ethertypes)
{
	eth(0x0806); /* ARP */
	zeros(28);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L2_UNSUPPORTED);
	assert_rejected(PFSE_PARSE_ERR_L2_UNSUPPORTED);
	ck_assert_uint_eq(P.l3_off, PFSE_OFF_NONE);
	eth(0x88cc); /* LLDP */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L2_UNSUPPORTED);
	eth(0x0800);
	F.n = 13;
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L2_TRUNCATED);
}
END_TEST

START_TEST(sll_v1_v2)
{
	F.n = 0;
	put16(0), put16(1), put16(6), zeros(8), put16(0x0800); /* SLL: outgoing, ether */
	ipv4(6, 20, 0, 0);
	tcp(5, 6, 0x02, 5, 0);
	ck_assert_uint_eq(parse_lt(PFSE_LINKTYPE_LINUX_SLL, 0), PFSE_PARSE_OK);
	assert_key(4, 6, 5, 6, 0);
	ck_assert_uint_eq(P.l3_off, 16);

	F.n = 0;
	put16(0x86dd), put16(0), put16(0), put16(3), put16(1), put8(0), put8(6), zeros(8);
	ipv6(17, 8);
	udp(5, 6, 8, 0);
	ck_assert_uint_eq(parse_lt(PFSE_LINKTYPE_LINUX_SLL2, 0), PFSE_PARSE_OK);
	assert_key(6, 17, 5, 6, 0);
	ck_assert_uint_eq(P.l3_off, 20);

	F.n = 15;
	ck_assert_uint_eq(parse_lt(PFSE_LINKTYPE_LINUX_SLL, 0), PFSE_PARSE_ERR_L2_TRUNCATED);
	F.n = 19;
	ck_assert_uint_eq(parse_lt(PFSE_LINKTYPE_LINUX_SLL2, 0), PFSE_PARSE_ERR_L2_TRUNCATED);
}
END_TEST

START_TEST(raw_ip_link_types)
{
	static const uint32_t raw[3] = { PFSE_LINKTYPE_RAW, PFSE_LINKTYPE_DLT_RAW,
					 PFSE_LINKTYPE_DLT_RAW_ALT };

	for (unsigned i = 0; i < 3; i++) {
		F.n = 0;
		ipv4(17, 8, 0, 0);
		udp(12345, 53, 8, 0);
		ck_assert_uint_eq(parse_lt(raw[i], 0), PFSE_PARSE_OK);
		assert_key(4, 17, 12345, 53, 0);
		ck_assert_uint_eq(P.l3_off, 0);
		F.n = 0;
		ipv6(17, 8);
		udp(12345, 53, 8, 0);
		ck_assert_uint_eq(parse_lt(raw[i], 0), PFSE_PARSE_OK);
		assert_key(6, 17, 12345, 53, 0);
		F.n = 0;
		put8(0x50), zeros(40); /* version 5 */
		ck_assert_uint_eq(parse_lt(raw[i], 0), PFSE_PARSE_ERR_L3_VERSION);
	}
	F.n = 0;
	ipv4(17, 8, 0, 0);
	udp(12345, 53, 8, 0);
	ck_assert_uint_eq(parse_lt(PFSE_LINKTYPE_IPV4, 0), PFSE_PARSE_OK);
	ck_assert_uint_eq(parse_lt(PFSE_LINKTYPE_IPV6, 0), PFSE_PARSE_ERR_L3_VERSION);
	ck_assert_uint_eq(P.l3_off, 0);
	F.n = 0;
	ipv6(17, 8);
	udp(12345, 53, 8, 0);
	ck_assert_uint_eq(parse_lt(PFSE_LINKTYPE_IPV6, 0), PFSE_PARSE_OK);
	ck_assert_uint_eq(parse_lt(PFSE_LINKTYPE_IPV4, 0), PFSE_PARSE_ERR_L3_VERSION);
	/* Ethernet says IPv4, the header says 6. */
	eth(0x0800);
	ipv6(17, 8);
	udp(1, 2, 8, 0);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_VERSION);
}
END_TEST

static void
nflog_tlv(uint16_t type, const void *val, uint16_t len)
{
	uint16_t tl = (uint16_t)(4 + len), ty = type;

	/* NFLOG TLVs are in the byte order of the host reading them (libpcap swaps). */
	memcpy(F.b + F.n, &tl, 2);
	memcpy(F.b + F.n + 2, &ty, 2);
	F.n += 4;
	if (val)
		putn(val, len);
	while (F.n % 4)
		put8(0);
}

START_TEST(nflog_payload)
{
	static const uint8_t prefix[7] = "dropped";
	uint32_t tlv_at;

	F.n = 0;
	put8(2), put8(0), put16(20); /* AF_INET, version 0, resource 20 */
	nflog_tlv(1, "\x08\x00\x03\x00", 4); /* packet header */
	nflog_tlv(10, prefix, sizeof(prefix));
	tlv_at = F.n;
	nflog_tlv(9, NULL, 0);
	ipv4(17, 8 + 3, 0, 0);
	udp(53, 40000, 11, 3);
	{
		uint16_t tl = (uint16_t)(F.n - tlv_at);

		memcpy(F.b + tlv_at, &tl, 2);
	}
	while (F.n % 4)
		put8(0);
	nflog_tlv(11, "\0\0\0\1", 4); /* a TLV after the payload is fine */
	ck_assert_uint_eq(parse_lt(PFSE_LINKTYPE_NFLOG, 0), PFSE_PARSE_OK);
	assert_key(4, 17, 53, 40000, 0);
	ck_assert_uint_eq(P.l3_off, tlv_at + 4);

	/* Family AF_BRIDGE: not keyed. */
	F.b[0] = 7;
	ck_assert_uint_eq(parse_lt(PFSE_LINKTYPE_NFLOG, 0), PFSE_PARSE_ERR_L2_UNSUPPORTED);
	/* No payload TLV before the end of the capture. */
	F.b[0] = 2;
	F.n = tlv_at;
	ck_assert_uint_eq(parse_lt(PFSE_LINKTYPE_NFLOG, 0), PFSE_PARSE_ERR_L2_TRUNCATED);
	/* A TLV claiming to be shorter than its own header. */
	F.n = 4;
	nflog_tlv(1, NULL, 0);
	memset(F.b + 4, 0, 2);
	ck_assert_uint_eq(parse_lt(PFSE_LINKTYPE_NFLOG, 0), PFSE_PARSE_ERR_L2_TRUNCATED);
	/* 64 TLVs before the payload. */
	F.n = 0;
	put8(10), put8(0), put16(0);
	for (unsigned i = 0; i < 64; i++)
		nflog_tlv(1, "\0\0\0\0", 4);
	nflog_tlv(9, NULL, 0);
	ck_assert_uint_eq(parse_lt(PFSE_LINKTYPE_NFLOG, 0), PFSE_PARSE_ERR_L2_DEPTH);
}
END_TEST

START_TEST(ipv4_header_errors)
{
	uint32_t ip;

	eth(0x0800);
	ip = ipv4(17, 8, 0, 0);
	udp(1, 2, 8, 0);
	F.b[ip] = 0x44; /* IHL 4 */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_HDR_LEN);
	ck_assert_uint_eq(P.l3_off, 14);
	F.b[ip] = 0x4f; /* IHL 15 = 60 bytes, only 28 captured */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_TRUNCATED);
	F.b[ip] = 0x46; /* IHL 6 = 24 > total length 28? no: 24 <= 28, but UDP then 4 bytes */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L4_HDR_LEN);
	F.b[ip] = 0x45;
	set16(ip + 2, 19); /* total length below the header */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_HDR_LEN);
	set16(ip + 2, 29); /* one byte more than the frame holds */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_TOTAL_LEN);
	set16(ip + 2, 0); /* zero length on a small frame */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_TOTAL_LEN);
	set16(ip + 2, 28);
	F.n = 14 + 19;
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_TRUNCATED);
}
END_TEST

START_TEST(ipv4_big_tcp)
{
	uint32_t ip;

	eth(0x0800);
	ip = ipv4(6, 20, 0x4000, 0);
	tcp(1, 2, 0x18, 5, 70000 - 54);
	set16(ip + 2, 0);
	ck_assert_uint_eq(F.n, 70000);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(4, 6, 1, 2, 0);
	ck_assert_uint_eq(P.flags, PFSE_PKT_F_JUMBO);
	ck_assert_uint_eq(P.l3_len, 70000 - 14);
	/* Snapped to 128 bytes: the length still comes from the wire length. */
	{
		struct pfse_parser *ps = mkparser(PFSE_LINKTYPE_ETHERNET, 0, 0);

		memset(&P, 0, sizeof(P));
		P.data = F.b;
		P.caplen = 128;
		P.wirelen = F.n;
		ck_assert_int_eq(pfse_parse(ps, &P, NULL), 0);
		ck_assert_uint_eq(P.flags, PFSE_PKT_F_JUMBO | PFSE_PKT_F_SNAPPED);
		ck_assert_uint_eq(P.l3_len, 70000 - 14);
		pfse_parser_destroy(ps);
	}
}
END_TEST

START_TEST(ipv4_fragments)
{
	uint32_t ip;

	/* First fragment: ports hidden from the key (all fragments share the key), L4 offset
	 * and TCP flags still reported. */
	eth(0x0800);
	ip = ipv4(6, 20 + 100, 0x2000, 0);
	tcp(1000, 80, 0x02, 5, 100);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(4, 6, 0, 0, 0);
	ck_assert_uint_eq(P.flags, PFSE_PKT_F_FRAG);
	ck_assert_uint_eq(P.tcp_flags, 0x02);
	ck_assert_uint_eq(P.l4_off, 34);
	ck_assert_uint_eq(P.payload_off, 54);

	/* Later fragment: no L4 header at all. */
	set16(ip + 6, 0x2000 | 15); /* offset 120, more fragments */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(4, 6, 0, 0, 0);
	ck_assert_uint_eq(P.flags, PFSE_PKT_F_FRAG | PFSE_PKT_F_FRAG_LATER);
	ck_assert_uint_eq(P.l4_off, PFSE_OFF_NONE);
	ck_assert_uint_eq(P.payload_off, PFSE_OFF_NONE);
	ck_assert_uint_eq(P.tcp_flags, 0);
	set16(ip + 6, 15); /* last fragment */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	ck_assert_uint_eq(P.flags, PFSE_PKT_F_FRAG | PFSE_PKT_F_FRAG_LATER);

	/* Ping of death: offset 65528 + 120 bytes > 65535. */
	set16(ip + 6, 8191);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_FRAG);

	/* Tiny first fragment (RFC 1858): 8 bytes of TCP header. */
	eth(0x0800);
	ipv4(6, 8, 0x2000, 0);
	zeros(8);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_FRAG);
	/* ... and a first fragment whose TCP options spill into the next fragment. */
	eth(0x0800);
	ipv4(6, 24, 0x2000, 0);
	tcp(1, 2, 0x02, 5, 4);
	F.b[34 + 12] = 0x80; /* data offset 8 words = 32 bytes > 24 */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_FRAG);
	/* A later UDP fragment of 4 bytes is fine (no header expected). */
	eth(0x0800);
	ipv4(17, 4, 0x0001, 0);
	zeros(4);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(4, 17, 0, 0, 0);
}
END_TEST

/* Generic IPv6 extension header of 8 * (1 + lenunits) bytes. */
static void
ext(uint8_t next, uint8_t lenunits)
{
	put8(next);
	put8(lenunits);
	zeros(6 + 8u * lenunits);
}

START_TEST(ipv6_extension_chain)
{
	eth(0x86dd);
	ipv6(0, 8 + 24 + 8 + 12 + 20);
	/* hop-by-hop (8) -> destination options (24) -> routing (8) -> AH (12) -> TCP */
	ext(60, 0);
	ext(43, 2);
	ext(51, 0);
	put8(6), put8(1), zeros(10); /* AH length (1 + 2) * 4 */
	tcp(80, 50000, 0x11, 5, 0);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(6, 6, 80, 50000, 0);
	ck_assert_uint_eq(P.flags, PFSE_PKT_F_IPV6_EXT);
	ck_assert_uint_eq(P.l4_off, 54 + 52);
	ck_assert_uint_eq(P.tcp_flags, 0x11);

	/* ESP ends the walk: protocol 50, no ports. */
	eth(0x86dd);
	ipv6(60, 8 + 16);
	ext(50, 0);
	zeros(16);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(6, 50, 0, 0, 0);
	ck_assert_uint_eq(P.l4_off, 62);
}
END_TEST

START_TEST(ipv6_extension_bounds)
{
	struct pfse_parser_params p;
	struct pfse_parser *ps = NULL;

	/* 9 extension headers with the default bound of 8. */
	eth(0x86dd);
	ipv6(60, 9 * 8 + 8);
	for (unsigned i = 0; i < 9; i++)
		ext(i < 8 ? 60 : 17, 0);
	udp(1, 2, 8, 0);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_EXT_DEPTH);
	/* ... accepted with max_ext_hdrs = 9, refused with 2. */
	pfse_parser_params_init(&p);
	p.max_ext_hdrs = 9;
	ck_assert_int_eq(pfse_parser_create(&p, &ps), 0);
	memset(&P, 0, sizeof(P));
	P.data = F.b;
	P.caplen = F.n;
	ck_assert_int_eq(pfse_parse(ps, &P, NULL), 0);
	assert_key(6, 17, 1, 2, 0);
	pfse_parser_destroy(ps);

	/* An extension header longer than the payload length. */
	eth(0x86dd);
	ipv6(60, 8 + 8);
	ext(17, 3); /* claims 32 bytes */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_EXT_LEN);
	/* Payload length covering only 1 byte of the extension header. */
	eth(0x86dd);
	ipv6(60, 1);
	ext(17, 0);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_EXT_LEN);
	/* Extension header cut by the capture (snapped frame). */
	eth(0x86dd);
	ipv6(60, 32 + 8);
	ext(17, 3);
	udp(1, 2, 8, 0);
	ps = mkparser(PFSE_LINKTYPE_ETHERNET, 0, 0);
	memset(&P, 0, sizeof(P));
	P.data = F.b;
	P.caplen = 54 + 20;
	P.wirelen = F.n;
	ck_assert_int_eq(pfse_parse(ps, &P, NULL), -EBADMSG);
	ck_assert_uint_eq(P.status, PFSE_PARSE_ERR_L3_TRUNCATED);
	pfse_parser_destroy(ps);
	/* Payload length beyond the frame; truncated fixed header. */
	eth(0x86dd);
	ipv6(17, 9);
	udp(1, 2, 8, 0);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_TOTAL_LEN);
	F.n = 14 + 39;
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_TRUNCATED);
}
END_TEST

START_TEST(ipv6_fragments)
{
	uint32_t fh;

	/* First fragment (offset 0, M set): walk continues to the TCP header; ports 0. */
	eth(0x86dd);
	ipv6(44, 8 + 20 + 40);
	fh = F.n;
	put8(6), put8(0), put16(0x0001), put16(0xdead), put16(0xbeef);
	tcp(443, 50000, 0x18, 5, 40);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(6, 6, 0, 0, 0);
	ck_assert_uint_eq(P.flags, PFSE_PKT_F_IPV6_EXT | PFSE_PKT_F_FRAG);
	ck_assert_uint_eq(P.tcp_flags, 0x18);
	ck_assert_uint_eq(P.l4_off, 62);
	/* Later fragment: protocol from the fragment header, no L4. */
	set16(fh + 2, (uint16_t)(64 << 3));
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(6, 6, 0, 0, 0);
	ck_assert_uint_eq(P.flags,
			  PFSE_PKT_F_IPV6_EXT | PFSE_PKT_F_FRAG | PFSE_PKT_F_FRAG_LATER);
	ck_assert_uint_eq(P.l4_off, PFSE_OFF_NONE);
	/* Atomic fragment (RFC 6946): keeps its ports. */
	set16(fh + 2, 0);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(6, 6, 443, 50000, 0);
	ck_assert_uint_eq(P.flags, PFSE_PKT_F_IPV6_EXT);
	/* Oversized reassembly. */
	set16(fh + 2, 0xfff8);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L3_FRAG);
}
END_TEST

START_TEST(l4_errors)
{
	uint32_t l4;

	eth(0x0800);
	ipv4(6, 20, 0, 0);
	l4 = F.n;
	tcp(1, 2, 0, 5, 0);
	F.b[l4 + 12] = 0x40; /* data offset 4 words */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L4_HDR_LEN);
	F.b[l4 + 12] = 0x60; /* 24 bytes > 20 in the packet */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L4_HDR_LEN);
	/* IP payload too short for a TCP header. */
	eth(0x0800);
	ipv4(6, 12, 0, 0);
	zeros(12);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L4_HDR_LEN);
	/* TCP header cut by the capture, as in tcp_header_heapoverflow.pcap. */
	eth(0x0800);
	ipv4(6, 20, 0, 0);
	tcp(1, 2, 0, 5, 0);
	F.n -= 8;
	{
		struct pfse_parser *ps = mkparser(PFSE_LINKTYPE_ETHERNET, 0, 0);

		memset(&P, 0, sizeof(P));
		P.data = F.b;
		P.caplen = F.n;
		P.wirelen = F.n + 8;
		ck_assert_int_eq(pfse_parse(ps, &P, NULL), -EBADMSG);
		ck_assert_uint_eq(P.status, PFSE_PARSE_ERR_L4_TRUNCATED);
		ck_assert_uint_eq(P.l3_off, 14);
		pfse_parser_destroy(ps);
	}
	/* UDP length fields. */
	eth(0x0800);
	ipv4(17, 12, 0, 0);
	l4 = F.n;
	udp(1, 2, 12, 4);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	set16(l4 + 4, 7);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L4_LEN);
	set16(l4 + 4, 13);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L4_LEN);
	set16(l4 + 4, 0);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L4_LEN);
	set16(l4 + 4, 8); /* shorter than the IP payload: trailing bytes allowed */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	/* UDP-Lite: the field is checksum coverage, not checked. */
	eth(0x0800);
	ipv4(136, 12, 0, 0);
	udp(1, 2, 0, 4);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(4, 136, 1, 2, 0);
}
END_TEST

START_TEST(l4_sctp_dccp_other)
{
	eth(0x0800);
	ipv4(132, 12 + 16, 0, 0);
	put16(2905), put16(2905), zeros(8), zeros(16);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(4, 132, 2905, 2905, 0);
	ck_assert_uint_eq(P.payload_off, 34 + 12);

	eth(0x86dd);
	ipv6(33, 16);
	put16(5001), put16(5002), put8(4), zeros(11); /* DCCP, data offset 4 words */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(6, 33, 5001, 5002, 0);
	ck_assert_uint_eq(P.payload_off, 54 + 16);
	F.b[54 + 4] = 2; /* data offset 8 bytes < 12 */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L4_HDR_LEN);
	F.b[54 + 4] = 5; /* 20 > 16 */
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L4_HDR_LEN);

	eth(0x0800);
	ipv4(47, 8, 0, 0); /* GRE: not decapsulated */
	zeros(8);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(4, 47, 0, 0, 0);
	ck_assert_uint_eq(P.l4_off, 34);
	ck_assert_uint_eq(P.payload_off, 34);
}
END_TEST

START_TEST(icmp_keys)
{
	struct pfse_flow_key req;

	/* Echo request and reply share the identifier as both "ports". */
	eth(0x0800);
	ipv4(1, 8 + 8, 0, 0);
	put8(8), put8(0), put16(0), put16(0x4242), put16(1), zeros(8);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(4, 1, 0x4242, 0x4242, 0);
	req = P.key;
	F.b[34] = 0;
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	ck_assert_mem_eq(&P.key, &req, sizeof(req));
	/* Destination unreachable, port unreachable: dport = type << 8 | code. */
	F.b[34] = 3;
	F.b[35] = 3;
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(4, 1, 0, 0x0303, 0);
	ck_assert_uint_eq(P.payload_off, 42);
	/* ICMPv6 echo and neighbour solicitation. */
	eth(0x86dd);
	ipv6(58, 8);
	put8(128), put8(0), put16(0), put16(0x0707), put16(9);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(6, 58, 0x0707, 0x0707, 0);
	F.b[54] = 135;
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(6, 58, 0, 135 << 8, 0);
	/* Short ICMP. */
	eth(0x0800);
	ipv4(1, 4, 0, 0);
	zeros(4);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_ERR_L4_HDR_LEN);
	/* Protocol 1 inside IPv6 is not ICMPv6: opaque. */
	eth(0x86dd);
	ipv6(1, 8);
	put8(8), zeros(7);
	ck_assert_uint_eq(parse_eth(), PFSE_PARSE_OK);
	assert_key(6, 1, 0, 0, 0);
}
END_TEST

START_TEST(frame_length_errors)
{
	struct pfse_parser *ps = mkparser(PFSE_LINKTYPE_ETHERNET, 0, 0);

	eth(0x0800);
	ipv4(17, 8, 0, 0);
	udp(1, 2, 8, 0);
	memset(&P, 0, sizeof(P));
	P.data = F.b;
	P.caplen = 0;
	ck_assert_int_eq(pfse_parse(ps, &P, NULL), -EBADMSG);
	ck_assert_uint_eq(P.status, PFSE_PARSE_ERR_LEN);
	P.data = NULL; /* NULL data with caplen 0 is a valid, empty frame */
	ck_assert_int_eq(pfse_parse(ps, &P, NULL), -EBADMSG);
	ck_assert_uint_eq(P.status, PFSE_PARSE_ERR_LEN);
	P.data = F.b;
	P.caplen = F.n;
	P.wirelen = F.n - 1;
	ck_assert_int_eq(pfse_parse(ps, &P, NULL), -EBADMSG);
	ck_assert_uint_eq(P.status, PFSE_PARSE_ERR_LEN);
	/* A wire length larger than the frame: the IP packet must fit the wire, and the
	 * capture holds all headers: parsed, flagged as snapped. */
	P.wirelen = F.n + 100;
	ck_assert_int_eq(pfse_parse(ps, &P, NULL), 0);
	ck_assert_uint_eq(P.flags, PFSE_PKT_F_SNAPPED);
	pfse_parser_destroy(ps);
}
END_TEST

START_TEST(bidir_and_hash)
{
	struct pfse_parser *ps = mkparser(0, PFSE_PARSE_F_BIDIR | PFSE_PARSE_F_HASH |
						     PFSE_PARSE_F_FIXED_SEED, 0);
	struct pfse_pkt a, b;
	uint8_t f2[128];
	uint64_t h, seed;
	uint32_t n;

	eth(0x0800);
	ipv4(6, 20, 0, 0);
	tcp(50000, 80, 0x02, 5, 0);
	n = F.n;
	/* The reverse packet: swap addresses and ports. */
	memcpy(f2, F.b, n);
	memcpy(f2 + 26, B4, 4);
	memcpy(f2 + 30, A4, 4);
	f2[34] = 0, f2[35] = 80, f2[36] = 0xc3, f2[37] = 0x50;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.data = F.b, a.caplen = n;
	b.data = f2, b.caplen = n;
	ck_assert_int_eq(pfse_parse(ps, &a, NULL), 0);
	ck_assert_int_eq(pfse_parse(ps, &b, NULL), 0);
	ck_assert_mem_eq(&a.key, &b.key, sizeof(a.key));
	/* 10.1.2.3 < 10.9.8.7: the first packet is in canonical order. */
	ck_assert_uint_eq(a.flags, PFSE_PKT_F_HASH);
	ck_assert_uint_eq(b.flags, PFSE_PKT_F_HASH | PFSE_PKT_F_REVERSE);
	ck_assert_int_eq(pfse_parser_seed(ps, &seed), 0);
	ck_assert_uint_eq(seed, 99);
	pfse_flow_key_hash(&a.key, 99, &h);
	ck_assert_uint_eq(a.hash, h);
	ck_assert_uint_eq(b.hash, h);
	pfse_parser_destroy(ps);
}
END_TEST

START_TEST(random_seed_per_instance)
{
	struct pfse_parser *p1 = mkparser(0, PFSE_PARSE_F_HASH, 0);
	struct pfse_parser *p2 = mkparser(0, PFSE_PARSE_F_HASH, 0);
	struct pfse_parser *p3 = mkparser(0, 0, 0);
	uint64_t s1, s2, s3 = 1;

	pfse_parser_seed(p1, &s1);
	pfse_parser_seed(p2, &s2);
	pfse_parser_seed(p3, &s3);
	ck_assert(s1 != s2);
	ck_assert_uint_eq(s3, 0); /* no hashing asked, no seed drawn */
	pfse_parser_destroy(p1);
	pfse_parser_destroy(p2);
	pfse_parser_destroy(p3);
}
END_TEST

START_TEST(burst_and_stats)
{
	static uint8_t frames[4][128];
	static struct pfse_pkt pkts[4];
	struct pfse_pkt *pp[4];
	struct pfse_parse_stats st;
	struct pfse_parser *ps = mkparser(0, 0, 0);
	uint32_t lens[4];

	eth(0x0800);
	ipv4(17, 8, 0, 0);
	udp(1, 2, 8, 0);
	memcpy(frames[0], F.b, F.n), lens[0] = F.n;
	eth(0x0806);
	zeros(28);
	memcpy(frames[1], F.b, F.n), lens[1] = F.n;
	eth(0x86dd);
	ipv6(6, 20);
	tcp(1, 2, 0x10, 5, 0);
	memcpy(frames[2], F.b, F.n), lens[2] = F.n;
	memcpy(frames[3], F.b, F.n), lens[3] = 30;
	memset(&st, 0, sizeof(st));
	for (unsigned i = 0; i < 4; i++) {
		memset(&pkts[i], 0, sizeof(pkts[i]));
		pkts[i].data = frames[i];
		pkts[i].caplen = lens[i];
		pkts[i].wirelen = i == 3 ? 74 : 0;
		pkts[i].user = &frames[i];
		pp[i] = &pkts[i];
	}
	ck_assert_int_eq(pfse_parse_burst(ps, pp, 4, &st), 2);
	ck_assert_uint_eq(pkts[0].status, PFSE_PARSE_OK);
	ck_assert_uint_eq(pkts[1].status, PFSE_PARSE_ERR_L2_UNSUPPORTED);
	ck_assert_uint_eq(pkts[2].status, PFSE_PARSE_OK);
	ck_assert_uint_eq(pkts[3].status, PFSE_PARSE_ERR_L3_TRUNCATED);
	ck_assert_ptr_eq(pkts[3].user, &frames[3]);
	ck_assert_uint_eq(st.status[PFSE_PARSE_OK], 2);
	ck_assert_uint_eq(st.status[PFSE_PARSE_ERR_L2_UNSUPPORTED], 1);
	ck_assert_uint_eq(st.status[PFSE_PARSE_ERR_L3_TRUNCATED], 1);
	ck_assert_uint_eq(st.bytes, lens[0] + lens[1] + lens[2] + 74);
	/* Single-frame calls add to the same stats. */
	ck_assert_int_eq(pfse_parse(ps, &pkts[0], &st), 0);
	ck_assert_uint_eq(st.status[PFSE_PARSE_OK], 3);
	ck_assert_int_eq(pfse_parse_burst(ps, pp, 0, &st), 0);
	ck_assert_int_eq(pfse_parse_burst(ps, NULL, 0, NULL), 0);
	pfse_parser_destroy(ps);
}
END_TEST

START_TEST(no_allocation_on_packet_path)
{
	struct pfse_parser_params p;
	struct pfse_parser *ps = NULL;
	struct count_alloc c = { 0 };
	static struct pfse_pkt pkts[PFSE_BURST_MAX];
	struct pfse_pkt *pp[PFSE_BURST_MAX];
	unsigned long before;

	pfse_parser_params_init(&p);
	p.flags = PFSE_PARSE_F_BIDIR | PFSE_PARSE_F_HASH;
	p.allocator = count_allocator(&c);
	ck_assert_int_eq(pfse_parser_create(&p, &ps), 0);
	before = c.calls;
	eth(0x0800);
	ipv4(6, 20, 0, 0);
	tcp(1, 2, 0x10, 5, 0);
	for (unsigned i = 0; i < PFSE_BURST_MAX; i++) {
		memset(&pkts[i], 0, sizeof(pkts[i]));
		pkts[i].data = F.b;
		pkts[i].caplen = F.n - (i % 40);
		pp[i] = &pkts[i];
	}
	for (unsigned r = 0; r < 100; r++) {
		ck_assert_int_ge(pfse_parse_burst(ps, pp, PFSE_BURST_MAX, NULL), 1);
		ck_assert_int_ge(pfse_parse(ps, &pkts[r % PFSE_BURST_MAX], NULL), -EBADMSG);
	}
	ck_assert_uint_eq(c.calls, before);
	pfse_parser_destroy(ps);
	ck_assert_uint_eq(c.allocs, c.frees);
}
END_TEST

START_TEST(invalid_arguments)
{
	struct pfse_parser *ps = mkparser(0, 0, 0);
	struct pfse_pkt pkt, before;
	struct pfse_pkt *pp[PFSE_BURST_MAX + 1];
	struct pfse_parse_stats st;
	uint64_t seed = 3;

	memset(&pkt, 0x11, sizeof(pkt));
	pkt.data = NULL;
	pkt.caplen = 10;
	before = pkt;
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(pfse_parse(NULL, &pkt, &st), -EINVAL);
	ck_assert_int_eq(pfse_parse(ps, NULL, &st), -EINVAL);
	ck_assert_int_eq(pfse_parse(ps, &pkt, &st), -EINVAL); /* NULL data, caplen 10 */
	ck_assert_mem_eq(&pkt, &before, sizeof(pkt));
	for (unsigned i = 0; i <= PFSE_BURST_MAX; i++)
		pp[i] = &pkt;
	ck_assert_int_eq(pfse_parse_burst(NULL, pp, 1, &st), -EINVAL);
	ck_assert_int_eq(pfse_parse_burst(ps, NULL, 1, &st), -EINVAL);
	ck_assert_int_eq(pfse_parse_burst(ps, pp, PFSE_BURST_MAX + 1, &st), -EINVAL);
	ck_assert_int_eq(pfse_parse_burst(ps, pp, 2, &st), -EINVAL); /* bad packet */
	pp[1] = NULL;
	ck_assert_int_eq(pfse_parse_burst(ps, pp, 2, &st), -EINVAL);
	ck_assert_mem_eq(&pkt, &before, sizeof(pkt));
	for (unsigned i = 0; i < PFSE_PARSE_STATUS_SLOTS; i++)
		ck_assert_uint_eq(st.status[i], 0);
	ck_assert_int_eq(pfse_parser_seed(NULL, &seed), -EINVAL);
	ck_assert_int_eq(pfse_parser_seed(ps, NULL), -EINVAL);
	ck_assert_uint_eq(seed, 3);
	pfse_parser_destroy(ps);
}
END_TEST

START_TEST(memsize)
{
	struct pfse_parser_params p;
	struct pfse_parser *ps = NULL;
	struct count_alloc c = { 0 };
	size_t sz = 7;

	pfse_parser_params_init(&p);
	ck_assert_int_eq(pfse_parser_memsize(NULL, &sz), -EINVAL);
	ck_assert_int_eq(pfse_parser_memsize(&p, NULL), -EINVAL);
	ck_assert_uint_eq(sz, 7);
	p.linktype = 147;
	ck_assert_int_eq(pfse_parser_memsize(&p, &sz), -ENOTSUP);
	p.linktype = 0;
	p.zone_mode = 9;
	ck_assert_int_eq(pfse_parser_memsize(&p, &sz), -EINVAL);
	ck_assert_uint_eq(sz, 7);
	p.zone_mode = 0;
	ck_assert_int_eq(pfse_parser_memsize(&p, &sz), 0);
	ck_assert_uint_gt(sz, 0);
	ck_assert_uint_le(sz, 256);
	/* What memsize reports is what create allocates. */
	p.allocator = count_allocator(&c);
	ck_assert_int_eq(pfse_parser_create(&p, &ps), 0);
	ck_assert_uint_eq(c.allocs, 1);
	ck_assert_uint_eq(c.last_size, sz);
	pfse_parser_destroy(ps);
}
END_TEST

START_TEST(status_strings)
{
	for (unsigned i = 0; i < PFSE_PARSE_STATUS_COUNT; i++) {
		ck_assert_ptr_nonnull(pfse_parse_status_str(i));
		ck_assert_str_ne(pfse_parse_status_str(i), "unknown");
		for (unsigned j = 0; j < i; j++)
			ck_assert_str_ne(pfse_parse_status_str(i), pfse_parse_status_str(j));
	}
	ck_assert_str_eq(pfse_parse_status_str(PFSE_PARSE_OK), "ok");
	ck_assert_str_eq(pfse_parse_status_str(PFSE_PARSE_STATUS_COUNT), "unknown");
	ck_assert_str_eq(pfse_parse_status_str(~0u), "unknown");
}
END_TEST

static Suite *
parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc;

	tc = tcase_create("link-layers");
	tcase_add_test(tc, eth_ipv4_tcp);
	tcase_add_test(tc, eth_ipv4_options_and_padding);
	tcase_add_test(tc, eth_ipv6_udp);
	tcase_add_test(tc, vlan_single);
	tcase_add_test(tc, vlan_qinq_zone_modes);
	tcase_add_test(tc, vlan_depth_bound);
	tcase_add_test(tc, mpls_stack);
	tcase_add_test(tc, pppoe_session);
	tcase_add_test(tc, non_ip_ethertypes);
	tcase_add_test(tc, sll_v1_v2);
	tcase_add_test(tc, raw_ip_link_types);
	tcase_add_test(tc, nflog_payload);
	suite_add_tcase(s, tc);
	tc = tcase_create("ip");
	tcase_add_test(tc, ipv4_header_errors);
	tcase_add_test(tc, ipv4_big_tcp);
	tcase_add_test(tc, ipv4_fragments);
	tcase_add_test(tc, ipv6_extension_chain);
	tcase_add_test(tc, ipv6_extension_bounds);
	tcase_add_test(tc, ipv6_fragments);
	suite_add_tcase(s, tc);
	tc = tcase_create("l4");
	tcase_add_test(tc, l4_errors);
	tcase_add_test(tc, l4_sctp_dccp_other);
	tcase_add_test(tc, icmp_keys);
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_add_test(tc, frame_length_errors);
	tcase_add_test(tc, bidir_and_hash);
	tcase_add_test(tc, random_seed_per_instance);
	tcase_add_test(tc, burst_and_stats);
	tcase_add_test(tc, no_allocation_on_packet_path);
	tcase_add_test(tc, invalid_arguments);
	tcase_add_test(tc, status_strings);
	tcase_add_test(tc, memsize);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(parse_suite());
}
