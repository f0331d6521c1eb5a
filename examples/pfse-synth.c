/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfse-synth: writes a pcap of TCP traffic whose flow sizes follow a published flow-size
 * distribution, and a ground-truth CSV of every flow.
 *
 *   pfse-synth --cdf FILE -o OUT.pcap [--truth OUT.csv] [--flows N] [--load-mbps X]
 *              [--ipv6-share F] [--unit auto|bytes|packets] [--seed S] [--classes N]
 *              [--verify]
 *
 * Flows arrive as a Poisson process whose rate makes the offered load --load-mbps
 * (default 1000) given the distribution's mean. Each is a TCP connection from a client
 * (unique address and port) to one of 16 servers (port 80 or 443): handshake, a 200-byte
 * request, then the response of the drawn size in 1460-byte segments, sent by a TCP-like
 * process (slow start from 10 segments doubling per RTT up to a bottleneck rate drawn
 * log-uniformly in 1-200 Mbit/s, RTT uniform in 5-100 ms, segments paced over each RTT,
 * an ACK per two segments one RTT later), then FIN/ACK both ways. Timestamps are those a
 * tap next to the servers sees (nanoseconds). Frames hold their Ethernet, IP and TCP
 * headers only (the capture length; the wire length counts the payload), so a trace of a
 * million packets stays small. IPv4 header checksums are valid; TCP checksums are 0.
 *
 * CDF files: "size cdf" per line (spaces or commas; cdf in [0, 1] or [0, 100]; other
 * lines, like Homa's first-line mean, skipped). Sizes are bytes, except with --unit
 * packets (1460-byte packets), which --unit auto (the default) picks for files named
 * *MsgSizeDist* (Homa's DCTCP files). Every file in ../shared/data/dist/ is read.
 *
 * --classes N (1 to 64) ties sizes to services, as in data centres where storage,
 * backup or video servers carry the large flows: a flow whose size lies in the k-th of N
 * equal-probability bands of the distribution goes to server port 8000 + k. Without it
 * ports are 80 or 443 whatever the size: no signal before a flow has shown its size.
 *
 * --verify reads the written pcap back through libpfse's parser and checks every flow's
 * packets and wire bytes against the truth. The same seed writes the same bytes.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <sys/socket.h>

#include <pfse/pfse.h>

#include "flowseries.h"

#define MSS 1460u
#define SERVERS 16u
#define REQUEST_BYTES 200u


struct flow {
	uint64_t size;           /* response bytes */
	uint64_t start;          /* SYN time, ns */
	uint64_t first, last;    /* first and last packet written */
	uint64_t packets, wire;  /* both directions */
	uint32_t client, server; /* indexes */
	uint16_t cport, sport;
	uint8_t v6;
	uint64_t seen_packets, seen_wire; /* --verify */
};

/* A packet waiting to be written (a min-heap by time, then sequence number). */
struct ev {
	uint64_t ts, order;
	uint32_t flow;
	uint32_t payload;
	uint32_t seq, ack;
	uint8_t from_server, flags;
};

static uint64_t rng_state;

static uint64_t
rnd64(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static double
unif(void)
{
	return ((double)(rnd64() >> 11) + 0.5) / 9007199254740992.0;
}

/* ---- the heap ---------------------------------------------------------------------- */

struct heap {
	struct ev *v;
	size_t n, cap;
	uint64_t order;
};

static int
ev_less(const struct ev *a, const struct ev *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->order < b->order);
}

static int
heap_push(struct heap *h, struct ev e)
{
	size_t i;

	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 4096;
		struct ev *v = realloc(h->v, cap * sizeof(*v));

		if (!v)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	e.order = h->order++;
	i = h->n++;
	while (i > 0 && ev_less(&e, &h->v[(i - 1) / 2])) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = e;
	return 0;
}

static struct ev
heap_pop(struct heap *h)
{
	struct ev top = h->v[0], last = h->v[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && ev_less(&h->v[c + 1], &h->v[c]))
			c++;
		if (!ev_less(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

/* ---- one connection's packets ----------------------------------------------------- */

enum { F_FIN = 0x01, F_SYN = 0x02, F_PSH = 0x08, F_ACK = 0x10 };

static int
push(struct heap *h, uint32_t flow, uint64_t ts, int from_server, uint8_t flags,
     uint32_t payload, uint32_t seq, uint32_t ack)
{
	struct ev e;

	memset(&e, 0, sizeof(e));
	e.ts = ts;
	e.flow = flow;
	e.from_server = (uint8_t)from_server;
	e.flags = flags;
	e.payload = payload;
	e.seq = seq;
	e.ack = ack;
	return heap_push(h, e);
}

/* Pushes every packet of flow i (its times follow from its start). */
static int
expand(struct heap *h, const struct flow *f, uint32_t i)
{
	double rtt = 0.005 + 0.095 * unif();
	double rate = exp(log(1e6 / 8) + unif() * (log(200e6 / 8) - log(1e6 / 8)));
	double t = (double)f->start / 1e9, cwnd = 10.0 * MSS;
	uint64_t left = f->size;
	uint32_t cseq = (uint32_t)rnd64(), sseq = (uint32_t)rnd64(), sent = 0, unacked = 0;
	int r = 0;

	/* handshake and request; the tap is next to the server: what the client sends
	 * arrives an RTT after what the server sent */
	r |= push(h, i, (uint64_t)(t * 1e9), 0, F_SYN, 0, cseq, 0);
	r |= push(h, i, (uint64_t)(t * 1e9) + 20000, 1, F_SYN | F_ACK, 0, sseq, cseq + 1);
	t += rtt;
	r |= push(h, i, (uint64_t)(t * 1e9), 0, F_ACK | F_PSH, REQUEST_BYTES, cseq + 1,
		  sseq + 1);
	cseq += 1 + REQUEST_BYTES;
	sseq += 1;
	t += 20e-6;
	/* the response, one RTT-long round at a time */
	while (left > 0) {
		double r_now = cwnd / rtt < rate ? cwnd / rtt : rate;
		double round_bytes = r_now * rtt, gap;
		uint64_t in_round = (uint64_t)round_bytes < left ? (uint64_t)round_bytes : left;
		double t0 = t;

		if (in_round < MSS)
			in_round = left < MSS ? left : MSS;
		gap = rtt * MSS / (double)(in_round + MSS);
		for (uint64_t b = 0; b < in_round;) {
			uint32_t seg = (uint32_t)(in_round - b < MSS ? in_round - b : MSS);

			r |= push(h, i, (uint64_t)(t * 1e9), 1, F_ACK, seg, sseq + sent, cseq);
			sent += seg;
			b += seg;
			left -= seg;
			if (++unacked == 2 || left == 0) {
				r |= push(h, i, (uint64_t)((t + rtt) * 1e9), 0, F_ACK, 0, cseq,
					  sseq + sent);
				unacked = 0;
			}
			t += gap;
		}
		if (cwnd / rtt < rate)
			cwnd *= 2;
		t = t0 + rtt > t ? t0 + rtt : t;
	}
	/* close: the server's FIN, the client's FIN/ACK an RTT later, the last ACK */
	r |= push(h, i, (uint64_t)(t * 1e9), 1, F_FIN | F_ACK, 0, sseq + sent, cseq);
	r |= push(h, i, (uint64_t)((t + rtt) * 1e9) + 1000, 0, F_FIN | F_ACK, 0, cseq,
		  sseq + sent + 1);
	r |= push(h, i, (uint64_t)((t + rtt) * 1e9) + 21000, 1, F_ACK, 0, sseq + sent + 1,
		  cseq + 1);
	return r;
}

/* ---- frames ------------------------------------------------------------------------ */

static void
be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
be32(uint8_t *p, uint32_t v)
{
	be16(p, v >> 16);
	be16(p + 2, v);
}

static void
addr(const struct flow *f, int server, uint8_t *out)
{
	uint32_t id = server ? f->server : f->client;

	if (f->v6) {
		memset(out, 0, 16);
		out[0] = 0xfd;
		out[1] = server ? 0x01 : 0x00;
		be32(out + 12, id + 1);
	} else {
		be32(out, server ? (0xc0a80100u | (id + 1)) : (0x0a000000u | (id + 1)));
	}
}

/* Builds a frame's headers; returns the captured length (the wire length adds payload). */
static unsigned
frame(const struct flow *f, const struct ev *e, uint8_t *b)
{
	unsigned l3 = 14, l4, ip_len;
	uint8_t *tcp;

	memset(b, 0, 128);
	b[0] = 0x02;
	b[5] = (uint8_t)(e->from_server ? 1 : 2);
	b[6] = 0x02;
	b[11] = (uint8_t)(e->from_server ? 2 : 1);
	if (f->v6) {
		be16(b + 12, 0x86dd);
		b[l3] = 0x60;
		be16(b + l3 + 4, 20 + e->payload);
		b[l3 + 6] = 6;
		b[l3 + 7] = 64;
		addr(f, e->from_server, b + l3 + 8);
		addr(f, !e->from_server, b + l3 + 24);
		l4 = l3 + 40;
	} else {
		uint32_t sum = 0;

		be16(b + 12, 0x0800);
		ip_len = 20 + 20 + e->payload;
		b[l3] = 0x45;
		be16(b + l3 + 2, ip_len);
		b[l3 + 6] = 0x40; /* DF */
		b[l3 + 8] = 64;
		b[l3 + 9] = 6;
		addr(f, e->from_server, b + l3 + 12);
		addr(f, !e->from_server, b + l3 + 16);
		for (unsigned k = 0; k < 20; k += 2)
			sum += (uint32_t)b[l3 + k] << 8 | b[l3 + k + 1];
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		be16(b + l3 + 10, ~sum & 0xffff);
		l4 = l3 + 20;
	}
	tcp = b + l4;
	be16(tcp, e->from_server ? f->sport : f->cport);
	be16(tcp + 2, e->from_server ? f->cport : f->sport);
	be32(tcp + 4, e->seq);
	be32(tcp + 8, e->ack);
	tcp[12] = 5 << 4;
	tcp[13] = e->flags;
	be16(tcp + 14, 65535);
	return l4 + 20;
}

/* ---- --verify: the written trace against the truth, through libpfse's parser --------- */

static int
verify(const char *path, struct flow *fl, uint32_t n)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pfse_parser_params pp;
	struct pfse_parser *ps;
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pc = pcap_open_offline(path, errbuf);
	uint64_t bad = 0;

	if (!pc) {
		fprintf(stderr, "pfse-synth: %s: %s\n", path, errbuf);
		return -1;
	}
	pfse_parser_params_init(&pp);
	pp.linktype = (uint32_t)pcap_datalink(pc);
	pp.flags = PFSE_PARSE_F_BIDIR;
	if (pfse_parser_create(&pp, &ps) < 0)
		return -1;
	while (pcap_next_ex(pc, &h, &data) == 1) {
		struct pfse_pkt pkt;
		uint32_t id;
		const uint8_t *client;

		memset(&pkt, 0, sizeof(pkt));
		pkt.data = data;
		pkt.caplen = h->caplen;
		pkt.wirelen = h->len;
		if (pfse_parse(ps, &pkt, NULL) != PFSE_PARSE_OK || pkt.key.proto != 6) {
			bad++;
			continue;
		}
		/* the client is the side in 10.0.0.0/8 or fd00::/16: its address is the id */
		client = pkt.key.family == PFSE_FAMILY_IPV4
				 ? (pkt.key.src[0] == 10 ? pkt.key.src : pkt.key.dst)
				 : (pkt.key.src[1] == 0 ? pkt.key.src : pkt.key.dst);
		if (pkt.key.family == PFSE_FAMILY_IPV4)
			id = ((uint32_t)client[1] << 16 | (uint32_t)client[2] << 8 | client[3]) -
			     1;
		else
			id = ((uint32_t)client[12] << 24 | (uint32_t)client[13] << 16 |
			      (uint32_t)client[14] << 8 | client[15]) -
			     1;
		if (id >= n) {
			bad++;
			continue;
		}
		fl[id].seen_packets++;
		fl[id].seen_wire += h->len;
	}
	pcap_close(pc);
	pfse_parser_destroy(ps);
	for (uint32_t i = 0; i < n; i++)
		if (fl[i].seen_packets != fl[i].packets || fl[i].seen_wire != fl[i].wire) {
			fprintf(stderr, "pfse-synth: verify: flow %u: %llu packets %llu bytes "
					"read, %llu / %llu written\n",
				i, (unsigned long long)fl[i].seen_packets,
				(unsigned long long)fl[i].seen_wire,
				(unsigned long long)fl[i].packets, (unsigned long long)fl[i].wire);
			return -1;
		}
	if (bad) {
		fprintf(stderr, "pfse-synth: verify: %llu frames not parsed as a flow's\n",
			(unsigned long long)bad);
		return -1;
	}
	fprintf(stderr, "pfse-synth: verify: every flow's packets and bytes read back\n");
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: pfse-synth --cdf FILE -o OUT.pcap [--truth OUT.csv] [--flows N]\n"
		   "                  [--load-mbps X] [--ipv6-share F]\n"
		   "                  [--unit auto|bytes|packets] [--seed S] [--classes N]\n"
		   "                  [--verify]\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cdf", required_argument, NULL, 'c' },
		{ "truth", required_argument, NULL, 't' },
		{ "flows", required_argument, NULL, 'n' },
		{ "load-mbps", required_argument, NULL, 'L' },
		{ "ipv6-share", required_argument, NULL, '6' },
		{ "unit", required_argument, NULL, 'u' },
		{ "seed", required_argument, NULL, 's' },
		{ "verify", no_argument, NULL, 'V' },
		{ "classes", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cdf_path = NULL, *out = NULL, *truth = NULL, *unit = "auto";
	unsigned long nflows = 1000;
	unsigned classes = 0;
	double load = 1000, v6share = 0.3, t = 0, mean;
	uint64_t seed = 1, pkts = 0, bytes = 0;
	static struct fs_cdf c;
	char err[512];
	struct flow *fl;
	struct heap hp = { NULL, 0, 0, 0 };
	uint32_t next = 0;
	pcap_t *dead;
	pcap_dumper_t *dump;
	int opt, do_verify = 0, packets_unit;

	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cdf_path = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			truth = optarg;
			break;
		case 'n':
			nflows = strtoul(optarg, NULL, 10);
			break;
		case 'L':
			load = strtod(optarg, NULL);
			break;
		case '6':
			v6share = strtod(optarg, NULL);
			break;
		case 'u':
			unit = optarg;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'V':
			do_verify = 1;
			break;
		case 'C':
			classes = (unsigned)strtoul(optarg, NULL, 10);
			if (classes > 64) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!cdf_path || !out || nflows == 0 || nflows > 1000000 || !(load > 0) ||
	    !(v6share >= 0 && v6share <= 1) ||
	    (strcmp(unit, "auto") && strcmp(unit, "bytes") && strcmp(unit, "packets"))) {
		usage(stderr);
		return 2;
	}
	packets_unit = strcmp(unit, "packets") == 0 ||
		       (strcmp(unit, "auto") == 0 && strstr(cdf_path, "MsgSizeDist"));
	if (fs_cdf_load(&c, cdf_path, packets_unit ? MSS : 1, err, sizeof(err)) < 0) {
		fprintf(stderr, "pfse-synth: %s\n", err);
		return 1;
	}
	mean = fs_cdf_mean(&c);
	if (!(mean > 0)) {
		fprintf(stderr, "pfse-synth: %s: mean size 0\n", cdf_path);
		return 1;
	}
	rng_state = seed ? seed : 1;
	fl = calloc(nflows, sizeof(*fl));
	if (!fl)
		return 1;
	/* arrivals: Poisson at load / mean flows per second, from t = 1 s */
	for (uint32_t i = 0; i < nflows; i++) {
		double u = unif(), sz = fs_cdf_quantile(&c, u);

		t += -log(unif()) * mean * 8 / (load * 1e6);
		fl[i].size = sz < 1 ? 1 : (uint64_t)sz;
		fl[i].start = 1000000000ull + (uint64_t)(t * 1e9);
		fl[i].client = i;
		fl[i].server = (uint32_t)(rnd64() % SERVERS);
		fl[i].cport = (uint16_t)(1024 + rnd64() % 60000);
		fl[i].sport = rnd64() % 3 ? 443 : 80;
		if (classes) /* the service tells the size band */
			fl[i].sport = (uint16_t)(8000 + (u * classes < classes - 1
								 ? (unsigned)(u * classes)
								 : classes - 1));
		fl[i].v6 = unif() < v6share;
	}
	dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
						    PCAP_TSTAMP_PRECISION_NANO);
	dump = dead ? pcap_dump_open(dead, out) : NULL;
	if (!dump) {
		fprintf(stderr, "pfse-synth: %s: %s\n", out, dead ? pcap_geterr(dead) : "pcap");
		return 1;
	}
	for (;;) {
		struct ev e;
		struct flow *f;
		struct pcap_pkthdr ph;
		uint8_t b[128];
		unsigned cap;

		/* flows start in order: expand the next one before any later packet */
		if (next < nflows && (hp.n == 0 || fl[next].start <= hp.v[0].ts)) {
			if (expand(&hp, &fl[next], next) < 0) {
				fprintf(stderr, "pfse-synth: out of memory\n");
				return 1;
			}
			next++;
			continue;
		}
		if (hp.n == 0)
			break;
		e = heap_pop(&hp);
		f = &fl[e.flow];
		cap = frame(f, &e, b);
		memset(&ph, 0, sizeof(ph));
		ph.ts.tv_sec = (time_t)(e.ts / 1000000000ull);
		ph.ts.tv_usec = (suseconds_t)(e.ts % 1000000000ull); /* ns: the dump's precision */
		ph.caplen = cap;
		ph.len = cap + e.payload;
		pcap_dump((u_char *)dump, &ph, b);
		if (f->packets == 0)
			f->first = e.ts;
		f->last = e.ts;
		f->packets++;
		f->wire += ph.len;
		pkts++;
		bytes += ph.len;
	}
	if (pcap_dump_flush(dump) != 0) {
		fprintf(stderr, "pfse-synth: %s: write error\n", out);
		return 1;
	}
	pcap_dump_close(dump);
	pcap_close(dead);
	if (truth) {
		FILE *tf = fopen(truth, "w");

		if (!tf) {
			fprintf(stderr, "pfse-synth: %s: %s\n", truth, strerror(errno));
			return 1;
		}
		fprintf(tf, "flow,family,proto,src,sport,dst,dport,size_bytes,packets,"
			    "wire_bytes,first_ts,last_ts\n");
		for (uint32_t i = 0; i < nflows; i++) {
			uint8_t ca[16], sa[16];
			char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
			int af = fl[i].v6 ? AF_INET6 : AF_INET;

			addr(&fl[i], 0, ca);
			addr(&fl[i], 1, sa);
			inet_ntop(af, ca, src, sizeof(src));
			inet_ntop(af, sa, dst, sizeof(dst));
			fprintf(tf, "%u,%u,6,%s,%u,%s,%u,%llu,%llu,%llu,%llu,%llu\n", i,
				fl[i].v6 ? 6 : 4, src, fl[i].cport, dst, fl[i].sport,
				(unsigned long long)fl[i].size, (unsigned long long)fl[i].packets,
				(unsigned long long)fl[i].wire, (unsigned long long)fl[i].first,
				(unsigned long long)fl[i].last);
		}
		if (fclose(tf) != 0)
			return 1;
	}
	fprintf(stderr, "pfse-synth: %lu flows (mean size %.0f bytes), %llu packets, %llu bytes on "
			"the wire, %.1f s\n",
		nflows, mean, (unsigned long long)pkts, (unsigned long long)bytes,
		nflows ? (double)(fl[nflows - 1].last - 1000000000ull) / 1e9 : 0.0);
	if (do_verify && verify(out, fl, (uint32_t)nflows) < 0)
		return 1;
	free(fl);
	free(hp.v);
	return 0;
}
