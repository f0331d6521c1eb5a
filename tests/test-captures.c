/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parser over real captures, read with libpcap: the bundled samples (tests/data,
 * see CREDITS.md) always, and every capture of the shared data set when
 * PFSE_SHARED_DATA names it. Each frame is parsed under ASan/UBSan/valgrind in CI; the
 * reason of every rejected frame of the tcpdump malformed cases is asserted; frame and
 * flow counts are compared with the counts the data set's INDEX.md reports, which were
 * made independently with tshark.
 */
#define _DEFAULT_SOURCE /* libpcap headers use the BSD u_char types */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#include <pfse/pfse.h>

#include "test-util.h"

#define MAX_FRAMES 8192
#define MAX_FLOWS 8192

struct capture_result {
	unsigned frames;
	unsigned status[PFSE_PARSE_STATUS_SLOTS];
	uint8_t first_status[16];  /* status of the first frames, in order */
	uint32_t all_flags;        /* OR of the flags of parsed frames */
	unsigned flows_tcp, flows_udp;
	unsigned ipv6;
	unsigned vlan;
	struct pfse_pkt first;     /* the first frame's result */
};

static struct pfse_flow_key keys[MAX_FLOWS];

static const char *
data_dir(void)
{
	const char *d = getenv("PFSE_TEST_DATA");

	return d ? d : "tests/data";
}

static int
key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct pfse_flow_key));
}

/* Parses every frame of `path`. Flows are distinct bidirectional TCP/UDP keys, the
 * definition INDEX.md uses. Returns -1 if libpcap cannot open the file. */
static int
parse_capture(const char *path, uint32_t zone_mode, struct capture_result *res)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pfse_parser_params p;
	struct pfse_parser *ps = NULL;
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pc;
	unsigned nkeys = 0;
	int r;

	memset(res, 0, sizeof(*res));
	pc = pcap_open_offline(path, errbuf);
	if (!pc)
		return -1;
	pfse_parser_params_init(&p);
	p.linktype = (uint32_t)pcap_datalink(pc);
	p.flags = PFSE_PARSE_F_BIDIR | PFSE_PARSE_F_HASH;
	p.zone_mode = zone_mode;
	r = pfse_parser_create(&p, &ps);
	if (r == -ENOTSUP) {
		pcap_close(pc);
		return -2;
	}
	ck_assert_int_eq(r, 0);
	while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
		struct pfse_pkt pkt;

		memset(&pkt, 0, sizeof(pkt));
		pkt.data = data;
		pkt.caplen = h->caplen;
		pkt.wirelen = h->len;
		r = pfse_parse(ps, &pkt, NULL);
		ck_assert_int_eq(r, pkt.status == PFSE_PARSE_OK ? 0 : -EBADMSG);
		ck_assert_uint_lt(pkt.status, PFSE_PARSE_STATUS_COUNT);
		if (res->frames == 0)
			res->first = pkt;
		if (res->frames < sizeof(res->first_status))
			res->first_status[res->frames] = pkt.status;
		res->frames++;
		res->status[pkt.status]++;
		if (pkt.status != PFSE_PARSE_OK)
			continue;
		/* Every offset the parser reports lies inside the frame it was given. */
		ck_assert_uint_lt(pkt.l3_off, pkt.caplen);
		if (pkt.l4_off != PFSE_OFF_NONE)
			ck_assert_uint_le(pkt.l4_off, pkt.caplen);
		res->all_flags |= pkt.flags;
		res->ipv6 += pkt.key.family == PFSE_FAMILY_IPV6;
		res->vlan += !!(pkt.flags & PFSE_PKT_F_VLAN);
		if ((pkt.key.proto == 6 || pkt.key.proto == 17) &&
		    !(pkt.flags & PFSE_PKT_F_FRAG) && nkeys < MAX_FLOWS)
			keys[nkeys++] = pkt.key;
	}
	ck_assert_int_eq(r, -2); /* PCAP_ERROR_BREAK: end of file, not an error */
	qsort(keys, nkeys, sizeof(keys[0]), key_cmp);
	for (unsigned i = 0; i < nkeys; i++) {
		if (i > 0 && memcmp(&keys[i], &keys[i - 1], sizeof(keys[0])) == 0)
			continue;
		if (keys[i].proto == 6)
			res->flows_tcp++;
		else
			res->flows_udp++;
	}
	pfse_parser_destroy(ps);
	pcap_close(pc);
	return 0;
}

static void
bundled(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", data_dir(), name);
}

/* ---- the malformed tcpdump regression captures: the reason of every frame ------------ */

struct malformed_case {
	const char *file;
	unsigned n;
	uint8_t status[4];
};

static const struct malformed_case malformed[] = {
	/* An IPv6 packet in a LINKTYPE_IPV4 file. */
	{ "LINKTYPE_IPV4_invalid.pcap", 1, { PFSE_PARSE_ERR_L3_VERSION } },
	/* IHL 4 ("bad-hlen 16"). */
	{ "ipv4_invalid_hdr_length.pcap", 1, { PFSE_PARSE_ERR_L3_HDR_LEN } },
	/* Snap length 33: 19 bytes of IPv4 header. */
	{ "ipv4_invalid_length.pcap", 1, { PFSE_PARSE_ERR_L3_TRUNCATED } },
	/* Total length 85 in an 84-byte packet ("1 bytes missing"). */
	{ "ipv4_invalid_total_length.pcap", 1, { PFSE_PARSE_ERR_L3_TOTAL_LEN } },
	/* Two neighbour solicitations, two packets with IP version 0 behind 0x86dd. */
	{ "ipv6-bad-version.pcap", 4,
	  { PFSE_PARSE_OK, PFSE_PARSE_ERR_L3_VERSION, PFSE_PARSE_OK,
	    PFSE_PARSE_ERR_L3_VERSION } },
	/* 25 of the 40 IPv6 header bytes captured. */
	{ "ipv6_39_byte_header.pcap", 1, { PFSE_PARSE_ERR_L3_TRUNCATED } },
	/* A 53-byte frame: 39 bytes of IPv6 header on the wire. */
	{ "ipv6_invalid_length.pcap", 1, { PFSE_PARSE_ERR_L3_TRUNCATED } },
	/* 12 bytes of TCP header captured of a 262144-byte frame. */
	{ "tcp_header_heapoverflow.pcap", 1, { PFSE_PARSE_ERR_L4_TRUNCATED } },
	/* A valid RST carrying data. */
	{ "tcp_rst_data-trunc.pcap", 1, { PFSE_PARSE_OK } },
};

START_TEST(malformed_reasons)
{
	const struct malformed_case *c = &malformed[_i];
	struct capture_result res;
	char path[4096], name[256];

	snprintf(name, sizeof(name), "malformed/%s", c->file);
	bundled(path, sizeof(path), name);
	ck_assert_msg(parse_capture(path, PFSE_ZONE_VLAN_INNER, &res) == 0, "open %s", path);
	ck_assert_uint_eq(res.frames, c->n);
	for (unsigned i = 0; i < c->n; i++)
		ck_assert_msg(res.first_status[i] == c->status[i], "%s frame %u: %s, want %s",
			      c->file, i + 1, pfse_parse_status_str(res.first_status[i]),
			      pfse_parse_status_str(c->status[i]));
}
END_TEST

/* Files libpcap itself refuses: the parser never sees them; the example programs report
 * libpcap's error. Asserted so that a libpcap change that starts accepting one is noticed
 * (and the file then gets parsed by the case above). */
static const char *const unreadable[] = {
	"pcap-invalid-version-1.pcap",
	"pcap-invalid-version-2.pcap", "pcapng-invalid-vers-1.pcapng",
	"pcapng-invalid-vers-2.pcapng", "shb-option-too-long.pcapng",
};

/* libpcap opens this one but reports link type 3145728 (reserved bits set): the parser
 * refuses to be created for it with -ENOTSUP, so no frame is misread as Ethernet. */
START_TEST(malformed_linktype_refused)
{
	struct capture_result res;
	char path[4096];

	bundled(path, sizeof(path), "malformed/linktype-reserved-field-not-zero.pcap");
	ck_assert_int_eq(parse_capture(path, 0, &res), -2);
}
END_TEST

START_TEST(malformed_files_refused)
{
	struct capture_result res;
	char path[4096], name[256];

	snprintf(name, sizeof(name), "malformed/%s", unreadable[_i]);
	bundled(path, sizeof(path), name);
	ck_assert_int_eq(parse_capture(path, 0, &res), -1);
}
END_TEST

/* ---- edge cases: valid files with unusual encapsulations ------------------------------ */

struct edge_case {
	const char *file;
	unsigned frames, ok, flows_tcp, flows_udp; /* frames and flows as in INDEX.md */
	unsigned first_status;
	uint32_t flags;                           /* flags every run must have seen */
	const char *first_key;                    /* pfse_flow_key_format of frame 1 */
};

static const struct edge_case edges[] = {
	{ "802.1ad_QinQ.pcap", 2, 0, 0, 0, PFSE_PARSE_ERR_L2_UNSUPPORTED, 0, NULL },
	{ "LINKTYPE_IPV4.pcap", 1, 1, 0, 1, 0, 0, "udp 9.9.9.9:53 > 192.168.1.100:12345" },
	{ "LINKTYPE_IPV6.pcap", 1, 1, 0, 1, 0, 0,
	  "udp [2001:db8::1]:12345 > [2620:fe::9]:53" },
	{ "LINKTYPE_RAW_ipv4.pcap", 1, 1, 0, 1, 0, 0, "udp 9.9.9.9:53 > 192.168.1.100:12345" },
	{ "LINKTYPE_RAW_ipv6.pcap", 1, 1, 0, 1, 0, 0,
	  "udp [2001:db8::1]:12345 > [2620:fe::9]:53" },
	{ "bigtcp-ipv4.pcap", 1, 1, 1, 0, 0, PFSE_PKT_F_JUMBO, NULL },
	/* INDEX.md counts no flow: tshark flags the UDP length; we accept BIG TCP's 0. */
	{ "bigtcp-ipv6-vxlan-ipv4.pcap", 1, 1, 0, 1, 0, PFSE_PKT_F_JUMBO, NULL },
	{ "gso-ipv4.pcap", 1, 1, 1, 0, 0, 0, NULL },
	{ "mptcp-v1.pcap", 20, 20, 1, 0, 0, 0, NULL },
	{ "nflog.pcap", 4, 4, 0, 4, 0, 0, NULL },
	{ "pppoes.pcap", 2, 0, 0, 0, PFSE_PARSE_ERR_L2_UNSUPPORTED, 0, NULL },
	{ "tcp-handshake-nano.pcap", 3, 3, 1, 0, 0, 0,
	  "tcp 131.155.215.69:46656 > 137.116.81.94:80" },
	{ "vxlan.pcap", 10, 10, 0, 4, 0, 0, NULL },
};

START_TEST(edge_cases)
{
	const struct edge_case *c = &edges[_i];
	struct capture_result res;
	char path[4096], name[256], text[PFSE_FLOW_KEY_STRLEN];

	snprintf(name, sizeof(name), "edgecases/%s", c->file);
	bundled(path, sizeof(path), name);
	ck_assert_msg(parse_capture(path, PFSE_ZONE_VLAN_INNER, &res) == 0, "open %s", path);
	ck_assert_uint_eq(res.frames, c->frames);
	ck_assert_uint_eq(res.status[PFSE_PARSE_OK], c->ok);
	ck_assert_uint_eq(res.flows_tcp, c->flows_tcp);
	ck_assert_uint_eq(res.flows_udp, c->flows_udp);
	ck_assert_uint_eq(res.first.status, c->first_status);
	ck_assert_uint_eq(res.all_flags & c->flags, c->flags);
	if (c->first_key) {
		pfse_flow_key_format(&res.first.key, text, sizeof(text));
		ck_assert_str_eq(text, c->first_key);
	}
}
END_TEST

START_TEST(qinq_vlan_ids)
{
	struct capture_result res;
	char path[4096];

	bundled(path, sizeof(path), "edgecases/802.1ad_QinQ.pcap");
	ck_assert_int_eq(parse_capture(path, 0, &res), 0);
	/* Rejected (ARP), yet the tags walked are reported. */
	ck_assert_uint_eq(res.first.vlan[0], 200);
	ck_assert_uint_eq(res.first.vlan[1], 2001);
}
END_TEST

/* ---- the bundled multi-flow samples, against INDEX.md's tshark counts ------------------ */

START_TEST(ftp_data_sample)
{
	struct capture_result res;
	char path[4096];

	bundled(path, sizeof(path), "ftp-data.pcap");
	ck_assert_int_eq(parse_capture(path, 0, &res), 0);
	ck_assert_uint_eq(res.frames, 1350);
	ck_assert_uint_eq(res.status[PFSE_PARSE_OK], 1063 + 161);
	ck_assert_uint_eq(res.status[PFSE_PARSE_ERR_L2_UNSUPPORTED], 126); /* ARP */
	ck_assert_uint_eq(res.ipv6, 161);
	ck_assert_uint_eq(res.flows_tcp, 80);
	ck_assert_uint_eq(res.flows_udp, 75);
}
END_TEST

START_TEST(quic_vlan_sample)
{
	struct capture_result res;
	char path[4096];

	bundled(path, sizeof(path), "quic-vlan-snap128.pcap");
	ck_assert_int_eq(parse_capture(path, PFSE_ZONE_NONE, &res), 0);
	ck_assert_uint_eq(res.frames, 684);
	ck_assert_uint_eq(res.status[PFSE_PARSE_OK], 684);
	ck_assert_uint_eq(res.ipv6, 448);
	ck_assert_uint_eq(res.vlan, 681);
	ck_assert_uint_eq(res.flows_tcp, 0);
	ck_assert_uint_eq(res.flows_udp, 391);
	ck_assert(res.all_flags & PFSE_PKT_F_SNAPPED);
}
END_TEST

/* ---- the whole shared data set, when present ------------------------------------------ */

struct shared_case {
	const char *file;
	unsigned frames, flows_tcp, flows_udp;
};

/* Frames and flows from ../shared/data/INDEX.md, counted there with tshark. Where our
 * count differs, the difference is understood and the comment says why; SKIP leaves the
 * flow comparison out where tshark keys on inner headers we deliberately do not read. */
#define SKIP ~0u
static const struct shared_case shared[] = {
	{ "ndpi/synscan.pcap", 2011, 1994, 0 },
	/* tshark: 258T/209U. It takes ports from inside ICMP errors and from malformed
	 * packets we reject (33 frames). */
	{ "mercury/capture2.pcap", 5617, 257, 187 },
	{ "mercury/quic-crypto-packets.pcap", 684, 0, 391 },
	{ "slips/test-cc-capture-2.pcap", 1084, 22, 239 },
	/* tshark: 245U; 13 of them are ports quoted inside ICMP port-unreachable errors. */
	{ "ndpi/dnscrypt-v1-and-resolver-pings.pcap", 608, 0, 232 },
	{ "suricata-verify/tcp-syn-flood.pcap", 200, 200, 0 },
	{ "ndpi/1kxun.pcap", 1723, 98, 99 },
	{ "suricata-verify/output-eve-ftp-data.pcap", 1350, 80, 75 },
	/* GENEVE tunnel: tshark keys the inner TCP ports, we key the outer UDP. */
	{ "mercury/geneve.pcap", 441, SKIP, SKIP },
	{ "mercury/top_100_fingerprints.pcap", 840, 100, 0 },
	{ "ndpi/ethereum.pcap", 2000, 56, 18 },
	{ "slips/malicious-ssh-bruteforce.pcap", 1178, 67, 0 },
	{ "ndpi/opera-vpn.pcapng", 3200, 62, 0 },
	{ "ndpi/reddit.pcap", 1942, 60, 0 },
	{ "ndpi/android.pcap", 500, 28, 31 },
	{ "ndpi/webex.pcap", 1110, 55, 2 },
	/* tshark: 19U; the 19th is the ports quoted inside an ICMP port-unreachable. */
	{ "ndpi/KakaoTalk_chat.pcap", 347, 19, 18 },
	{ "ndpi/bittorrent.pcap", 299, 24, 0 },
	/* tshark: 7T/17U; it decodes Ethernet-over-MPLS pseudowires, which we leave
	 * unparsed (l2-unsupported). */
	{ "tcpreplay/test.pcap", 179, 7, 12 },
	/* GRE tunnel: tshark keys inner TCP ports, we key the outer GRE packets. */
	{ "zeek/gre-aruba.pcap", 2407, SKIP, SKIP },
	{ "ndpi/ocs.pcap", 946, 12, 8 },
	{ "ndpi/youtube_quic.pcap", 289, 0, 3 },
	/* Fuzzed captures: only "no crash, every frame accounted for". */
	{ "malformed/ndpi/fuzz-2006-06-26-2594.pcap", 691, SKIP, SKIP },
	{ "malformed/ndpi/badpackets.pcap", 93, SKIP, SKIP },
	{ "malformed/ndpi/fuzz-2020-02-16-11740.pcap", 366, SKIP, SKIP },
};

START_TEST(shared_captures)
{
	const struct shared_case *c = &shared[_i];
	const char *dir = getenv("PFSE_SHARED_DATA");
	struct capture_result res;
	char path[4096];
	struct stat sb;
	int r;

	if (!dir || stat(dir, &sb) != 0) {
		if (_i == 0)
			fprintf(stderr, "# PFSE_SHARED_DATA not set or missing: shared captures "
					"skipped\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, c->file);
	r = parse_capture(path, PFSE_ZONE_NONE, &res);
	ck_assert_msg(r == 0, "%s: cannot open (%d)", path, r);
	if (getenv("PFSE_CAPTURE_REPORT"))
		fprintf(stderr, "%s: frames %u ok %u tcp %u udp %u\n", c->file, res.frames,
			res.status[0], res.flows_tcp, res.flows_udp);
	ck_assert_uint_eq(res.frames, c->frames);
	if (c->flows_tcp != SKIP) {
		ck_assert_uint_eq(res.flows_tcp, c->flows_tcp);
		ck_assert_uint_eq(res.flows_udp, c->flows_udp);
	}
}
END_TEST

/* A truncated capture file (libpcap reports an error at the cut): every frame before it
 * is parsed, nothing crashes. */
START_TEST(shared_truncated_file)
{
	const char *dir = getenv("PFSE_SHARED_DATA");
	char path[4096], errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct stat sb;
	pcap_t *pc;
	int r, n = 0;

	if (!dir || stat(dir, &sb) != 0)
		return;
	snprintf(path, sizeof(path), "%s/malformed/ndpi/fuzz-2021-10-13.pcap", dir);
	pc = pcap_open_offline(path, errbuf);
	ck_assert_ptr_nonnull(pc);
	/* LINKTYPE_NULL (BSD loopback) is not supported: create says so. */
	{
		struct pfse_parser_params p;
		struct pfse_parser *ps = NULL;

		pfse_parser_params_init(&p);
		p.linktype = (uint32_t)pcap_datalink(pc);
		ck_assert_uint_eq(p.linktype, 0); /* DLT_NULL: 0 means Ethernet to us */
		p.linktype = 108;                 /* LINKTYPE_LOOP */
		ck_assert_int_eq(pfse_parser_create(&p, &ps), -ENOTSUP);
	}
	while ((r = pcap_next_ex(pc, &h, &data)) == 1)
		n++;
	ck_assert_int_eq(r, PCAP_ERROR);
	ck_assert_int_eq(n, 1);
	pcap_close(pc);
}
END_TEST

static Suite *
captures_suite(void)
{
	Suite *s = suite_create("captures");
	TCase *tc;

	tc = tcase_create("malformed");
	tcase_add_loop_test(tc, malformed_reasons, 0, sizeof(malformed) / sizeof(malformed[0]));
	tcase_add_test(tc, malformed_linktype_refused);
	tcase_add_loop_test(tc, malformed_files_refused, 0,
			    sizeof(unreadable) / sizeof(unreadable[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("edge-cases");
	tcase_add_loop_test(tc, edge_cases, 0, sizeof(edges) / sizeof(edges[0]));
	tcase_add_test(tc, qinq_vlan_ids);
	suite_add_tcase(s, tc);
	tc = tcase_create("samples");
	tcase_add_test(tc, ftp_data_sample);
	tcase_add_test(tc, quic_vlan_sample);
	suite_add_tcase(s, tc);
	tc = tcase_create("shared-data");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, shared_captures, 0, sizeof(shared) / sizeof(shared[0]));
	tcase_add_test(tc, shared_truncated_file);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(captures_suite());
}
