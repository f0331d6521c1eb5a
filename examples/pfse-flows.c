/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfse-flows: prints the flows of pcap files, the smallest complete use of libpfse.
 *
 * It reads frames with libpcap, hands them to pfse_parse_burst() 32 at a time, and
 * counts packets and bytes per bidirectional flow in a small hash table keyed by the
 * parser's keyed hash. Frames the parser rejects are counted by reason.
 *
 *   pfse-flows [-n TOP] FILE.pcap...
 *
 * Only the public API is used (this file is also a test of it). The flow table here is
 * deliberately naive; libpfse's own flow table replaces it in the replay example.
 */
#define _DEFAULT_SOURCE /* libpcap headers use the BSD u_char types */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include <pfse/pfse.h>

#define BURST 32

struct flow {
	struct pfse_flow_key key;
	uint64_t hash;
	uint64_t pkts[2], bytes[2]; /* [0] key.src -> key.dst, [1] the reverse */
	int used;
};

struct table {
	struct flow *slots;
	size_t cap, n;
};

struct frame {
	struct pfse_pkt pkt;
	uint8_t data[65536 + 1024]; /* libpcap reuses its buffer: copy what we batch */
};

static int
table_grow(struct table *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 1024;
	struct flow *ns = calloc(ncap, sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		struct flow *f = &t->slots[i];
		size_t j;

		if (!f->used)
			continue;
		for (j = f->hash & (ncap - 1); ns[j].used; j = (j + 1) & (ncap - 1))
			;
		ns[j] = *f;
	}
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
	return 0;
}

static struct flow *
table_get(struct table *t, const struct pfse_pkt *p)
{
	size_t j;

	if ((t->n + 1) * 2 > t->cap && table_grow(t) < 0)
		return NULL;
	for (j = p->hash & (t->cap - 1); t->slots[j].used; j = (j + 1) & (t->cap - 1))
		if (t->slots[j].hash == p->hash &&
		    memcmp(&t->slots[j].key, &p->key, sizeof(p->key)) == 0)
			return &t->slots[j];
	t->slots[j].used = 1;
	t->slots[j].key = p->key;
	t->slots[j].hash = p->hash;
	t->n++;
	return &t->slots[j];
}

static int
by_bytes(const void *a, const void *b)
{
	const struct flow *x = a, *y = b;
	uint64_t bx = x->bytes[0] + x->bytes[1], by = y->bytes[0] + y->bytes[1];

	return bx < by ? 1 : bx > by ? -1 : memcmp(&x->key, &y->key, sizeof(x->key));
}

static void
account(struct table *t, struct frame *fr, unsigned n, struct pfse_parser *ps,
	struct pfse_parse_stats *st)
{
	struct pfse_pkt *pp[BURST] = { NULL };

	for (unsigned i = 0; i < n; i++)
		pp[i] = &fr[i].pkt;
	if (pfse_parse_burst(ps, pp, n, st) < 0)
		return; /* cannot happen: arguments are valid */
	for (unsigned i = 0; i < n; i++) {
		const struct pfse_pkt *p = pp[i];
		struct flow *f;
		int dir;

		if (p->status != PFSE_PARSE_OK)
			continue;
		f = table_get(t, p);
		if (!f) {
			fprintf(stderr, "pfse-flows: out of memory\n");
			exit(1);
		}
		dir = (p->flags & PFSE_PKT_F_REVERSE) ? 1 : 0;
		f->pkts[dir]++;
		f->bytes[dir] += p->wirelen;
	}
}

static int
read_file(const char *path, struct table *t, struct frame *fr, struct pfse_parse_stats *st)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pfse_parser_params prm;
	struct pfse_parser *ps = NULL;
	struct pcap_pkthdr *h;
	const u_char *d;
	unsigned n = 0;
	pcap_t *pc;
	int r;

	pc = pcap_open_offline(path, errbuf);
	if (!pc) {
		fprintf(stderr, "pfse-flows: %s: %s\n", path, errbuf);
		return -1;
	}
	pfse_parser_params_init(&prm);
	/* pcap_datalink() values are the parser's link types; 0 (BSD loopback) is not
	 * supported and would mean Ethernet to the parser, so refuse it here. */
	prm.linktype = (uint32_t)pcap_datalink(pc);
	prm.flags = PFSE_PARSE_F_BIDIR | PFSE_PARSE_F_HASH;
	r = prm.linktype == 0 ? -ENOTSUP : pfse_parser_create(&prm, &ps);
	if (r < 0) {
		fprintf(stderr, "pfse-flows: %s: link type %d (%s): %s\n", path,
			pcap_datalink(pc),
			pcap_datalink_val_to_name(pcap_datalink(pc)) ?
				pcap_datalink_val_to_name(pcap_datalink(pc)) : "?",
			pfse_strerror(r));
		pcap_close(pc);
		return -1;
	}
	while ((r = pcap_next_ex(pc, &h, &d)) == 1) {
		struct pfse_pkt *p = &fr[n].pkt;
		uint32_t cap = h->caplen < sizeof(fr[n].data) ? h->caplen : sizeof(fr[n].data);

		memcpy(fr[n].data, d, cap);
		memset(p, 0, sizeof(*p));
		p->data = fr[n].data;
		p->caplen = cap;
		p->wirelen = h->len < cap ? cap : h->len;
		if (++n == BURST) {
			account(t, fr, n, ps, st);
			n = 0;
		}
	}
	account(t, fr, n, ps, st);
	if (r == PCAP_ERROR)
		fprintf(stderr, "pfse-flows: %s: %s (frames before it were counted)\n", path,
			pcap_geterr(pc));
	pfse_parser_destroy(ps);
	pcap_close(pc);
	return r == PCAP_ERROR ? -1 : 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: pfse-flows [-n TOP] FILE.pcap...\n"
		   "Prints the flows of pcap/pcapng files (libpfse %s).\n",
		pfse_version_string());
}

int
main(int argc, char **argv)
{
	struct pfse_parse_stats st;
	struct table t = { 0 };
	struct frame *fr;
	uint64_t frames = 0;
	long top = 10;
	int opt, bad = 0;

	while ((opt = getopt(argc, argv, "n:h")) != -1) {
		switch (opt) {
		case 'n':
			top = strtol(optarg, NULL, 10);
			if (top < 0) {
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
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	fr = calloc(BURST, sizeof(*fr));
	if (!fr)
		return 1;
	memset(&st, 0, sizeof(st));
	for (int i = optind; i < argc; i++)
		bad |= read_file(argv[i], &t, fr, &st) < 0;
	for (unsigned s = 0; s < PFSE_PARSE_STATUS_SLOTS; s++)
		frames += st.status[s];

	printf("frames %llu, bytes %llu, parsed %llu, unparsed %llu, flows %zu\n",
	       (unsigned long long)frames, (unsigned long long)st.bytes,
	       (unsigned long long)st.status[PFSE_PARSE_OK],
	       (unsigned long long)(frames - st.status[PFSE_PARSE_OK]), t.n);
	for (unsigned s = 1; s < PFSE_PARSE_STATUS_COUNT; s++)
		if (st.status[s])
			printf("  unparsed %-26s %llu\n", pfse_parse_status_str(s),
			       (unsigned long long)st.status[s]);
	if (t.n && top) {
		struct flow *all = malloc(t.n * sizeof(*all));
		size_t k = 0;

		if (!all)
			return 1;
		for (size_t i = 0; i < t.cap; i++)
			if (t.slots[i].used)
				all[k++] = t.slots[i];
		qsort(all, k, sizeof(*all), by_bytes);
		printf("top %ld flows by bytes:\n", top);
		printf("  %-60s %10s %12s %10s %12s\n", "flow", "pkts >", "bytes >", "pkts <",
		       "bytes <");
		for (size_t i = 0; i < k && i < (size_t)top; i++) {
			char text[PFSE_FLOW_KEY_STRLEN];

			pfse_flow_key_format(&all[i].key, text, sizeof(text));
			printf("  %-60s %10llu %12llu %10llu %12llu\n", text,
			       (unsigned long long)all[i].pkts[0],
			       (unsigned long long)all[i].bytes[0],
			       (unsigned long long)all[i].pkts[1],
			       (unsigned long long)all[i].bytes[1]);
		}
		free(all);
	}
	free(t.slots);
	free(fr);
	return bad ? 1 : 0;
}
