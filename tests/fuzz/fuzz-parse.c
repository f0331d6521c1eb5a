/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the packet parser. Input layout:
 *   byte 0: low nibble picks the link type, bit 4 bidirectional keys, bit 5 hashing,
 *           bits 6-7 the zone mode;
 *   byte 1: wire length beyond the captured bytes, in 256-byte units (0-255), so that
 *           snapped frames and length fields larger than the capture are explored;
 *   rest:   the frame.
 * The frame is copied to a buffer of exactly its size, so ASan catches any read past
 * `caplen`. Every output field is checked for the invariants the header promises.
 * Built with the library sources compiled in, so libFuzzer sees the parser's coverage.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pfse/pfse.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t linktypes[16] = {
	PFSE_LINKTYPE_ETHERNET, PFSE_LINKTYPE_RAW,   PFSE_LINKTYPE_LINUX_SLL,
	PFSE_LINKTYPE_IPV4,     PFSE_LINKTYPE_IPV6,  PFSE_LINKTYPE_NFLOG,
	PFSE_LINKTYPE_LINUX_SLL2, PFSE_LINKTYPE_DLT_RAW, PFSE_LINKTYPE_ETHERNET,
	PFSE_LINKTYPE_DLT_RAW_ALT, PFSE_LINKTYPE_ETHERNET, PFSE_LINKTYPE_ETHERNET,
	PFSE_LINKTYPE_LINUX_SLL, PFSE_LINKTYPE_RAW,  PFSE_LINKTYPE_NFLOG,
	PFSE_LINKTYPE_ETHERNET,
};

static struct pfse_parser *parsers[256];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pfse_pkt pkt, again;
	struct pfse_pkt *pp[1] = { &again };
	struct pfse_parse_stats st;
	uint8_t *frame;
	uint32_t caplen;
	int r;

	if (size < 2 || size - 2 > 300000)
		return 0;
	if (!parsers[data[0]]) {
		struct pfse_parser_params p;

		pfse_parser_params_init(&p);
		p.linktype = linktypes[data[0] & 15];
		p.flags = ((data[0] >> 4) & 1 ? PFSE_PARSE_F_BIDIR : 0) |
			  ((data[0] >> 5) & 1 ? PFSE_PARSE_F_HASH | PFSE_PARSE_F_FIXED_SEED : 0);
		p.zone_mode = (uint32_t)(data[0] >> 6) % 3;
		p.seed = 42;
		if (pfse_parser_create(&p, &parsers[data[0]]) != 0)
			abort();
	}
	caplen = (uint32_t)(size - 2);
	frame = malloc(caplen ? caplen : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + 2, caplen);
	memset(&pkt, 0, sizeof(pkt));
	pkt.data = frame;
	pkt.caplen = caplen;
	pkt.wirelen = caplen + 256u * data[1];
	memset(&st, 0, sizeof(st));
	r = pfse_parse(parsers[data[0]], &pkt, &st);
	if (r != (pkt.status == PFSE_PARSE_OK ? 0 : -74 /* -EBADMSG */))
		abort();
	if (pkt.status >= PFSE_PARSE_STATUS_COUNT || st.status[pkt.status] != 1)
		abort();
	if (pkt.status == PFSE_PARSE_OK) {
		if (pkt.key.family != PFSE_FAMILY_IPV4 && pkt.key.family != PFSE_FAMILY_IPV6)
			abort();
		if (pkt.l3_off >= pkt.caplen)
			abort();
		if (pkt.l4_off != PFSE_OFF_NONE && pkt.l4_off > pkt.caplen)
			abort();
		if ((pkt.flags & PFSE_PKT_F_FRAG) && (pkt.key.sport || pkt.key.dport))
			abort();
	}
	/* The burst call gives the same answer. */
	memset(&again, 0, sizeof(again));
	again.data = frame;
	again.caplen = pkt.caplen;
	again.wirelen = pkt.wirelen;
	if (pfse_parse_burst(parsers[data[0]], pp, 1, NULL) != (pkt.status == PFSE_PARSE_OK))
		abort();
	if (memcmp(&again, &pkt, sizeof(pkt)) != 0)
		abort();
	free(frame);
	return 0;
}
