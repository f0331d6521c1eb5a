/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file parse.h
 * @brief The packet parser: raw frame bytes to a canonical flow key, single or in bursts.
 *
 * The parser reads a frame of a given link type and fills the output fields of a
 * struct pfse_pkt: the flow key (see flow_key.h), the L3 and L4 offsets, the TCP flags,
 * VLAN ids and flags. It never reads past `caplen`, never allocates and never writes
 * outside the struct pfse_pkt it is given. A frame it cannot key gets a non-zero
 * `status` (a PFSE_PARSE_ERR_* reason) and a zeroed key; it is counted in the optional
 * stats and left to the caller, which classifies it as "unparsed".
 *
 * Supported link types: Ethernet II (with up to 4 stacked 802.1Q / 802.1ad / 0x9100 tags,
 * an MPLS label stack of up to 8 labels, and PPPoE sessions), raw IP (LINKTYPE_RAW and
 * the DLT_RAW values 12 and 14 that pcap_datalink() may return for it), LINKTYPE_IPV4,
 * LINKTYPE_IPV6, Linux cooked capture v1 and v2 (SLL, SLL2) and Linux NFLOG.
 * Tunnels (GRE, VXLAN, GENEVE, IP-in-IP) are not decapsulated: the outer header is the
 * flow.
 *
 * Lengths. `caplen` bytes are readable; `wirelen` is the frame's length on the wire (0
 * means `caplen`). Every header the key needs must be captured; the IPv4 total length /
 * IPv6 payload length must fit in the wire length; bytes after the IP packet (Ethernet
 * padding) are ignored. Following the Linux BIG TCP / GSO convention, an IPv4 total
 * length of 0, or an IPv6 payload length of 0, is accepted when the frame holds more than
 * 65535 bytes after the IP header; the length then comes from the frame and
 * PFSE_PKT_F_JUMBO is set. Checksums are not verified.
 *
 * Fragments. Every fragment of a fragmented datagram (IPv4 MF set or offset non-zero;
 * IPv6 fragment header with offset non-zero or M set) is keyed by addresses, protocol
 * and zone with both ports 0, so all fragments of a datagram land on the same flow even
 * though only the first carries the ports. The first fragment still reports its L4
 * offset and TCP flags. A first fragment too short to hold its whole TCP, UDP, SCTP or
 * DCCP header (the "tiny fragment" evasion of RFC 1858) and a fragment that would
 * reassemble past 65535 bytes are rejected with PFSE_PARSE_ERR_L3_FRAG. An IPv6 atomic
 * fragment (offset 0, M clear, RFC 6946) is not a fragment and keeps its ports.
 *
 * IPv6 extension headers (hop-by-hop, routing, destination options, fragment, AH,
 * mobility, HIP, shim6, experimental 253/254) are walked up to `max_ext_hdrs` headers;
 * ESP and "no next header" end the walk and become the protocol.
 *
 * NFLOG. The 4-byte header's family (AF_INET 2 or AF_INET6 10) names the IP version;
 * TLVs follow, their 16-bit length and type in the byte order of the host reading them
 * (libpcap converts), each padded to 4 bytes. The IP packet is the value of the
 * NFULA_PAYLOAD TLV (type 9), whose end bounds it in place of the wire length. At most
 * 63 other TLVs may come before it.
 *
 * Order of checks. Layers are checked outer first, and within a layer in the order of
 * the PFSE_PARSE_ERR_* list below, with one exception: the IP version nibble is judged
 * before the IP header's length, so a short packet of the wrong version reports
 * PFSE_PARSE_ERR_L3_VERSION. On a rejection every output field is reset (key zero, flags
 * 0, offsets PFSE_OFF_NONE) except `status`, `vlan[]` (the tags walked) and `l3_off`,
 * which is set as soon as the parser has located where the IP header starts.
 *
 * @note The parser is thread-safe: it is read-only after create, and any number of
 *       threads may parse with one parser at once, each with its own packets and stats.
 */
#ifndef PFSE_PARSE_H
#define PFSE_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pfse/common.h>
#include <pfse/flow_key.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup parse Packet parser
 * @{ */

/** @name Link types (pcap LINKTYPE_* values)
 * @{ */
#define PFSE_LINKTYPE_ETHERNET 1u     /**< Ethernet II; also selected by 0 in params */
#define PFSE_LINKTYPE_DLT_RAW 12u     /**< raw IP as pcap_datalink() reports it on most OSes */
#define PFSE_LINKTYPE_DLT_RAW_ALT 14u /**< raw IP as pcap_datalink() reports it on OpenBSD */
#define PFSE_LINKTYPE_RAW 101u        /**< raw IPv4 or IPv6, told apart by the version */
#define PFSE_LINKTYPE_LINUX_SLL 113u  /**< Linux cooked capture v1 */
#define PFSE_LINKTYPE_IPV4 228u       /**< raw IPv4 only */
#define PFSE_LINKTYPE_IPV6 229u       /**< raw IPv6 only */
#define PFSE_LINKTYPE_NFLOG 239u      /**< Linux netfilter NFLOG (see "NFLOG" above) */
#define PFSE_LINKTYPE_LINUX_SLL2 276u /**< Linux cooked capture v2 */
/** @} */

/** @name Parse status: 0 or the reason a frame was rejected (struct pfse_pkt::status)
 * @{ */
/** Parsed: the key and every output field are valid. */
#define PFSE_PARSE_OK 0u
/** caplen is 0, or larger than wirelen. */
#define PFSE_PARSE_ERR_LEN 1u
/** A link-layer header (VLAN tag, MPLS label, PPPoE, NFLOG TLV) not captured whole. */
#define PFSE_PARSE_ERR_L2_TRUNCATED 2u
/** Not IPv4/IPv6: another ethertype, PPP protocol, NFLOG family or MPLS payload. */
#define PFSE_PARSE_ERR_L2_UNSUPPORTED 3u
/** More than 4 VLAN tags or 8 MPLS labels, 64 NFLOG TLVs before the payload, or an IP
 * header more than 0xff00 bytes into the frame (offsets are 16-bit). */
#define PFSE_PARSE_ERR_L2_DEPTH 4u
/** IP header or an IPv6 extension header not captured whole. */
#define PFSE_PARSE_ERR_L3_TRUNCATED 5u
/** IP version is not 4 or 6, or not the one the link layer announced. */
#define PFSE_PARSE_ERR_L3_VERSION 6u
/** IPv4 header length below 20 bytes, or past the total length. */
#define PFSE_PARSE_ERR_L3_HDR_LEN 7u
/** IPv4 total length / IPv6 payload length inconsistent with the frame. */
#define PFSE_PARSE_ERR_L3_TOTAL_LEN 8u
/** More IPv6 extension headers than max_ext_hdrs. */
#define PFSE_PARSE_ERR_L3_EXT_DEPTH 9u
/** An IPv6 extension header runs past the payload length, or the L4 header would start
 * 0xffff or more bytes into the frame. */
#define PFSE_PARSE_ERR_L3_EXT_LEN 10u
/** A first fragment too short for its L4 header, or a reassembly past 65535 bytes. */
#define PFSE_PARSE_ERR_L3_FRAG 11u
/** TCP, UDP, SCTP, DCCP or ICMP header not captured whole. */
#define PFSE_PARSE_ERR_L4_TRUNCATED 12u
/** L4 header longer than the IP payload, or a TCP/DCCP data offset too small. */
#define PFSE_PARSE_ERR_L4_HDR_LEN 13u
/** UDP length field below 8 or past the IP payload. */
#define PFSE_PARSE_ERR_L4_LEN 14u
/** Number of status values defined so far. */
#define PFSE_PARSE_STATUS_COUNT 15u
/** Fixed size of the per-status counter array (room for new reasons). */
#define PFSE_PARSE_STATUS_SLOTS 32u
/** @} */

/** @name Packet flags (struct pfse_pkt::flags)
 * @{ */
#define PFSE_PKT_F_VLAN (1u << 0)       /**< at least one VLAN tag */
#define PFSE_PKT_F_QINQ (1u << 1)       /**< two or more VLAN tags */
#define PFSE_PKT_F_MPLS (1u << 2)       /**< MPLS label stack crossed */
#define PFSE_PKT_F_PPPOE (1u << 3)      /**< PPPoE session crossed */
#define PFSE_PKT_F_IP_OPTIONS (1u << 4) /**< IPv4 header longer than 20 bytes */
#define PFSE_PKT_F_IPV6_EXT (1u << 5)   /**< IPv6 extension headers were walked */
#define PFSE_PKT_F_FRAG (1u << 6)       /**< IP fragment (ports are 0 in the key) */
#define PFSE_PKT_F_FRAG_LATER (1u << 7) /**< non-first fragment: no L4 header */
#define PFSE_PKT_F_JUMBO (1u << 8)      /**< IP length taken from the frame (BIG TCP, GSO) */
#define PFSE_PKT_F_SNAPPED (1u << 9)    /**< caplen < wirelen */
#define PFSE_PKT_F_REVERSE (1u << 10)   /**< key canonicalised: packet goes key.dst -> key.src */
#define PFSE_PKT_F_HASH (1u << 11)      /**< `hash` holds the keyed hash of `key` */
/** @} */

/** Offset value meaning "no such header". */
#define PFSE_OFF_NONE 0xffffu

/**
 * A packet on the packet path: input fields set by the application, output fields set by
 * the parser. 128 bytes on LP64 targets (120 on ILP32); the layout is part of the ABI and
 * only `reserved` bytes will ever become new output fields.
 */
struct pfse_pkt {
	/* --- input, set by the application --- */
	const void *data;   /**< first byte of the frame (link-layer header) */
	uint32_t caplen;    /**< bytes readable at `data` */
	uint32_t wirelen;   /**< frame length on the wire; 0 means `caplen` */
	void *user;         /**< the application's handle (mbuf, pcap record...); never read */
	uint64_t ts;        /**< the application's timestamp (ns); not read by the parser */
	/* --- output, set by pfse_parse() / pfse_parse_burst() --- */
	struct pfse_flow_key key; /**< flow key; all zero if status != PFSE_PARSE_OK */
	uint64_t hash;      /**< keyed hash of `key` if PFSE_PKT_F_HASH, else 0 */
	uint32_t flags;     /**< PFSE_PKT_F_* */
	uint32_t l3_len;    /**< IP packet length (header + payload), from the header or frame */
	uint16_t l3_off;    /**< offset of the IP header, PFSE_OFF_NONE if not reached */
	uint16_t l4_off;    /**< offset of the L4 header, PFSE_OFF_NONE if none */
	uint16_t payload_off; /**< offset of the L4 payload, PFSE_OFF_NONE if unknown */
	uint16_t vlan[2];   /**< VLAN ids of the outermost and next tag, 0 if absent */
	uint8_t status;     /**< PFSE_PARSE_OK or a PFSE_PARSE_ERR_* reason */
	uint8_t tcp_flags;  /**< TCP flags byte (FIN 0x01 ... CWR 0x80), 0 if not TCP */
	uint8_t ttl;        /**< IPv4 TTL / IPv6 hop limit */
	uint8_t tos;        /**< IPv4 TOS / IPv6 traffic class (DSCP << 2 | ECN) */
	uint8_t reserved[26]; /**< zeroed by the parser */
};

/** @name Parser flags (struct pfse_parser_params::flags)
 * @{ */
#define PFSE_PARSE_F_BIDIR (1u << 0)      /**< canonicalise keys (pfse_flow_key_canonicalize()) */
#define PFSE_PARSE_F_HASH (1u << 1)       /**< compute pfse_pkt::hash */
#define PFSE_PARSE_F_FIXED_SEED (1u << 2) /**< hash with params `seed` instead of a random one */
/** @} */

/** @name Zone modes (struct pfse_parser_params::zone_mode)
 * @{ */
#define PFSE_ZONE_VLAN_INNER 0u /**< zone = VLAN id of the innermost tag (default) */
#define PFSE_ZONE_VLAN_OUTER 1u /**< zone = VLAN id of the outermost tag */
#define PFSE_ZONE_NONE 2u       /**< zone = 0 */
/** @} */

/** Parser parameters. Prepare with pfse_parser_params_init(); zero means default. */
struct pfse_parser_params {
	size_t size;           /**< sizeof(struct pfse_parser_params), set by _init */
	uint32_t linktype;     /**< PFSE_LINKTYPE_*; 0 = Ethernet */
	uint32_t flags;        /**< PFSE_PARSE_F_* */
	uint32_t zone_mode;    /**< PFSE_ZONE_*; default PFSE_ZONE_VLAN_INNER */
	uint32_t max_ext_hdrs; /**< IPv6 extension headers walked at most; 0 = 8, max 64 */
	uint64_t seed;         /**< hash seed, used with PFSE_PARSE_F_FIXED_SEED */
	struct pfse_allocator allocator; /**< zero = malloc/free */
};

/**
 * Prepares `p` with every field at its default: zeroes the whole struct, padding
 * included, and sets `size`.
 * @param p Params to prepare.
 * @since 0.1
 */
static inline void
pfse_parser_params_init(struct pfse_parser_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
}

/** Per-status frame counters, accumulated by the parse calls when given. */
struct pfse_parse_stats {
	uint64_t status[PFSE_PARSE_STATUS_SLOTS]; /**< frames by status; [0] = parsed */
	uint64_t bytes; /**< sum of wirelen (caplen when it is 0) over all frames */
};

struct pfse_parser;

/**
 * Creates a parser.
 *
 * @param p   Parameters (see struct pfse_parser_params).
 * @param out Receives the parser.
 * @return 0; `-EINVAL` for NULL arguments, a bad `size`, unknown flags or zone mode,
 *         `max_ext_hdrs` > 64, only one allocator hook set, or non-zero bytes past the
 *         known fields; `-ENOTSUP` for an unsupported link type; `-ENOMEM`; or the
 *         negative errno of pfse_random_seed() when a random seed was needed.
 * @note Thread-safe.
 * @since 0.1
 */
PFSE_API int
pfse_parser_create(const struct pfse_parser_params *p, struct pfse_parser **out);

/**
 * Reports the memory a parser created from `p` occupies (allocated at create through
 * the params' allocator, never afterwards).
 *
 * @param p   Parameters, validated as pfse_parser_create() does.
 * @param out Receives the size in bytes.
 * @return 0; `-EINVAL` or `-ENOTSUP` for params pfse_parser_create() would refuse.
 * @note Thread-safe.
 * @since 0.1
 */
PFSE_API int
pfse_parser_memsize(const struct pfse_parser_params *p, size_t *out);

/**
 * Destroys a parser. NULL is accepted and ignored.
 * @param parser Parser, or NULL.
 * @note Not concurrently with other calls on the same parser.
 * @since 0.1
 */
PFSE_API void
pfse_parser_destroy(struct pfse_parser *parser);

/**
 * Returns the seed the parser hashes with, so other objects or instances can be given
 * the same: the params `seed` with PFSE_PARSE_F_FIXED_SEED, else the random seed drawn at
 * create when PFSE_PARSE_F_HASH was set, else 0 (no hashing asked, no seed drawn).
 *
 * @param parser Parser.
 * @param out    Receives the seed.
 * @return 0, or `-EINVAL` if an argument is NULL.
 * @note Thread-safe.
 * @since 0.1
 */
PFSE_API int
pfse_parser_seed(struct pfse_parser *parser, uint64_t *out);

/**
 * Parses one frame.
 *
 * @param parser Parser.
 * @param pkt    Packet whose input fields are set; its output fields are overwritten.
 * @param stats  Optional counters to add this frame to, or NULL.
 * @return 0 if parsed; `-EBADMSG` if the frame was rejected (reason in `pkt->status`);
 *         `-EINVAL` if `parser` or `pkt` is NULL, or `pkt->data` is NULL with a non-zero
 *         `caplen` (then `pkt` and `stats` are untouched).
 * @note Thread-safe; no allocation, lock or system call.
 * @since 0.1
 */
PFSE_API int
pfse_parse(struct pfse_parser *parser, struct pfse_pkt *pkt, struct pfse_parse_stats *stats);

/**
 * Parses a burst of frames.
 *
 * @param parser Parser.
 * @param pkts   Array of `n` packet pointers.
 * @param n      0 to PFSE_BURST_MAX.
 * @param stats  Optional counters, or NULL.
 * @return The number of frames parsed (status PFSE_PARSE_OK), or `-EINVAL` if `parser`
 *         is NULL, `pkts` is NULL with `n` > 0, `n` > PFSE_BURST_MAX, or any `pkts[i]` is
 *         NULL or has NULL data with a non-zero `caplen` (then no packet is touched).
 * @note Thread-safe; no allocation, lock or system call.
 * @since 0.1
 */
PFSE_API int
pfse_parse_burst(struct pfse_parser *parser, struct pfse_pkt *const pkts[], unsigned n,
		 struct pfse_parse_stats *stats);

/**
 * Names a parse status.
 * @param status PFSE_PARSE_OK or a PFSE_PARSE_ERR_* value.
 * @return A static string ("ok", "l3-truncated", ...); "unknown" for values past
 *         PFSE_PARSE_STATUS_COUNT.
 * @note Thread-safe.
 * @since 0.1
 */
PFSE_API const char *
pfse_parse_status_str(unsigned status);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PFSE_PARSE_H */
