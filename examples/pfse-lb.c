/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfse-lb: a minimal L4 load balancer on libpfse's public API, the way an application
 * integrates it. It reads a capture, gives bursts of 32 parsed packets to
 * pfse_engine_process(), and its callbacks write each backend node's packets to that
 * node's own pcap (`forward`) and the local path's to local.pcap (`transmit`: packets the
 * parser refused, and flows on no tier). Health events change nodes during the replay,
 * on the capture's clock. The engine's model refits run on a control thread of their
 * own (PFSE_ENGINE_F_REFIT_ASYNC, pfse_engine_refit()), off the packet path, and its
 * flow table takes the parser's hashes (the parser's seed, PFSE_FT_F_PKT_HASH).
 *
 *   pfse-lb [-d DIR] [--nodes N] [--hp-nodes N] [--bw-mbps X] [--fail NODE@S]...
 *           [--drain NODE@S]... [--up NODE@S]... [--verify] CAPTURE
 *
 *   -d DIR         where node-<id>.pcap and local.pcap go (made if missing; default .)
 *   --nodes N      backend nodes of the standard tier, ids 1..N (default 4)
 *   --hp-nodes N   nodes of a high-performance tier, ids 101.. (default 0: no such tier);
 *                  flows forecast above --bw-mbps (default 1) go there
 *   --fail, --drain, --up NODE@S   node id NODE goes down / drains / comes back S
 *                  seconds after the capture's first packet
 *   --verify       afterwards, read every output back: together they must hold every
 *                  input frame exactly once; every flow must have stayed on one node
 *                  except for moves its node's health caused (and, with a
 *                  high-performance tier, the policy's moves between tiers); no packet
 *                  may have gone to a node that was down
 *
 * It prints what went where and how many flows moved, and why.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <pcap/pcap.h>
#include <xxhash.h>

#include <pfse/pfse.h>

#define BURST 32
#define MAX_NODES 64
#define MAX_EVENTS 64
#define SNAP 262144

struct out {
	pcap_dumper_t *d;
	uint64_t id;
	uint32_t node;        /* cluster index; UINT32_MAX for local */
	uint64_t packets, bytes;
};

struct slot {
	struct pcap_pkthdr h;
	uint8_t *data;
};

struct event {
	uint64_t at;          /* ns after the first packet */
	uint64_t id;
	uint32_t health;
};

/* The node each flow was last sent to (open addressing on the parser's hash). */
struct fentry {
	struct pfse_flow_key key;
	uint32_t node, tier;
	int used;
};

struct lb {
	struct pfse_cluster *cl;
	struct out nodes[MAX_NODES], local;
	uint32_t nnodes;
	struct fentry *flows;
	size_t fcap, nflows;
	uint64_t moves_health, moves_policy, moves_other, to_down, forwarded;
};

static uint32_t
health_of(struct lb *lb, uint32_t node, uint32_t *tier)
{
	struct pfse_node_info ni;

	ni.size = sizeof(ni);
	if (pfse_cluster_node_info(lb->cl, node, &ni) < 0)
		return PFSE_NODE_DOWN;
	if (tier)
		*tier = ni.tier;
	return ni.health;
}

static struct fentry *
flow_of(struct lb *lb, const struct pfse_pkt *pkt)
{
	size_t i = (size_t)pkt->hash & (lb->fcap - 1);

	while (lb->flows[i].used && memcmp(&lb->flows[i].key, &pkt->key, sizeof(pkt->key)) != 0)
		i = (i + 1) & (lb->fcap - 1);
	if (!lb->flows[i].used) {
		if (lb->nflows + 1 > lb->fcap / 2)
			return NULL;
		lb->flows[i].used = 1;
		lb->flows[i].key = pkt->key;
		lb->flows[i].node = UINT32_MAX;
		lb->nflows++;
	}
	return &lb->flows[i];
}

static void
dump(struct out *o, const struct pfse_pkt *pkt)
{
	const struct slot *s = pkt->user;

	pcap_dump((u_char *)o->d, &s->h, s->data);
	o->packets++;
	o->bytes += s->h.len;
}

static void
on_forward(struct pfse_pkt *pkt, uint32_t node, void *node_user, void *user)
{
	struct lb *lb = user;
	struct out *o = node_user;
	struct fentry *f = flow_of(lb, pkt);
	uint32_t tier = UINT32_MAX;

	if (health_of(lb, node, &tier) == PFSE_NODE_DOWN)
		lb->to_down++;
	if (f && f->node != UINT32_MAX && f->node != node) {
		/* the flow moved: because its node went down or drains, because the policy
		 * moved it to another tier, or for no reason we know (counted: a bug) */
		if (health_of(lb, f->node, NULL) != PFSE_NODE_UP)
			lb->moves_health++;
		else if (f->tier != tier)
			lb->moves_policy++;
		else
			lb->moves_other++;
	}
	if (f) {
		f->node = node;
		f->tier = tier;
	}
	lb->forwarded++;
	dump(o, pkt);
}

static void
on_transmit(struct pfse_pkt *pkt, void *user)
{
	struct lb *lb = user;

	dump(&lb->local, pkt);
}

static uint32_t
on_rewrite(struct pfse_pkt *pkt, uint32_t flow, void *user)
{
	(void)pkt;
	(void)flow;
	(void)user;
	return 0; /* no rewrite rules in this example */
}

/* ---- --verify ------------------------------------------------------------------------ */

struct fp {
	uint64_t ts, h;
	uint32_t caplen, len;
};

static int
fp_cmp(const void *a, const void *b)
{
	const struct fp *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return (x->caplen > y->caplen) - (x->caplen < y->caplen);
}

/* Appends the fingerprints of a file's frames. */
static int
fingerprints(const char *path, struct fp **v, size_t *n, size_t *cap)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO,
							     errbuf);
	struct pcap_pkthdr *h;
	const u_char *data;

	if (!pc) {
		fprintf(stderr, "pfse-lb: verify: %s: %s\n", path, errbuf);
		return -1;
	}
	while (pcap_next_ex(pc, &h, &data) == 1) {
		if (*n == *cap) {
			size_t c = *cap ? 2 * *cap : 4096;
			struct fp *nv = realloc(*v, c * sizeof(**v));

			if (!nv) {
				pcap_close(pc);
				return -1;
			}
			*v = nv;
			*cap = c;
		}
		(*v)[*n].ts = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		(*v)[*n].h = XXH3_64bits(data, h->caplen);
		(*v)[*n].caplen = h->caplen;
		(*v)[*n].len = h->len;
		(*n)++;
	}
	pcap_close(pc);
	return 0;
}

static int
verify(const char *input, char **outputs, unsigned nout, const struct lb *lb)
{
	struct fp *a = NULL, *b = NULL;
	size_t na = 0, ca = 0, nb = 0, cb = 0;
	int ok;

	if (fingerprints(input, &a, &na, &ca) < 0)
		return -1;
	for (unsigned i = 0; i < nout; i++)
		if (fingerprints(outputs[i], &b, &nb, &cb) < 0)
			return -1;
	qsort(a, na, sizeof(*a), fp_cmp);
	qsort(b, nb, sizeof(*b), fp_cmp);
	ok = na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
	fprintf(stderr, "pfse-lb: verify: %zu input frames, %zu in the outputs: %s\n", na, nb,
		ok ? "each exactly once" : "MISMATCH");
	free(a);
	free(b);
	if (lb->moves_other || lb->to_down) {
		fprintf(stderr, "pfse-lb: verify: %llu unexplained moves, %llu packets to down "
				"nodes\n",
			(unsigned long long)lb->moves_other, (unsigned long long)lb->to_down);
		ok = 0;
	}
	return ok ? 0 : -1;
}

/* ---- main ---------------------------------------------------------------------------- */

static int
parse_event(const char *arg, uint32_t health, struct event *ev)
{
	char *at = strchr(arg, '@'), *end;
	double s;

	if (!at)
		return -1;
	ev->id = strtoull(arg, &end, 10);
	if (end != at)
		return -1;
	s = strtod(at + 1, &end);
	if (*end || !(s >= 0 && s < 1e9))
		return -1;
	ev->at = (uint64_t)(s * 1e9);
	ev->health = health;
	return 0;
}

static int
ev_cmp(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	return (x->at > y->at) - (x->at < y->at);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: pfse-lb [-d DIR] [--nodes N] [--hp-nodes N] [--bw-mbps X]\n"
		   "               [--fail NODE@S]... [--drain NODE@S]... [--up NODE@S]...\n"
		   "               [--verify] CAPTURE\n");
}

/* The control thread: fits the series the engine sets aside, until told to stop (the
 * packet path then puts the last fit in place with one more advance()). */
struct control {
	struct pfse_engine *e;
	_Atomic int stop;
	unsigned long fits;
};

static void *
control_main(void *arg)
{
	struct control *c = arg;
	const struct timespec ms = { 0, 1000000 };

	while (!atomic_load(&c->stop)) {
		if (pfse_engine_refit(c->e) == 1)
			c->fits++;
		else
			nanosleep(&ms, NULL);
	}
	if (pfse_engine_refit(c->e) == 1) /* the last one set aside, if not yet taken */
		c->fits++;
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nodes", required_argument, NULL, 'n' },
		{ "hp-nodes", required_argument, NULL, 'H' },
		{ "bw-mbps", required_argument, NULL, 'b' },
		{ "fail", required_argument, NULL, 'F' },
		{ "drain", required_argument, NULL, 'D' },
		{ "up", required_argument, NULL, 'U' },
		{ "verify", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct lb lb;
	static struct slot slots[BURST];
	struct event events[MAX_EVENTS];
	unsigned nev = 0, next_ev = 0, nstd = 4, nhp = 0, nb = 0;
	double bw_mbps = 1;
	const char *dir = ".";
	char errbuf[PCAP_ERRBUF_SIZE], *paths[MAX_NODES + 1];
	struct pfse_cluster_params cp;
	struct pfse_policy_params pol;
	struct pfse_engine_params ep;
	struct pfse_parser_params pp;
	struct pfse_io_ops io;
	struct pfse_flow_table_params ftp;
	struct control ctl = { NULL, 0, 0 };
	pthread_t ctl_th;
	struct pfse_policy *policy = NULL;
	struct pfse_engine *e = NULL;
	struct pfse_parser *parser = NULL;
	struct pfse_pkt pkts[BURST], *pk[BURST];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t first = 0, now = 0, frames = 0;
	uint32_t std_tier, hp_tier = 0;
	int opt, do_verify = 0, r, have_first = 0;
	pcap_t *pc;

	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			nstd = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'H':
			nhp = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			bw_mbps = strtod(optarg, NULL);
			break;
		case 'F':
		case 'D':
		case 'U':
			if (nev == MAX_EVENTS ||
			    parse_event(optarg, opt == 'F' ? PFSE_NODE_DOWN
							   : (opt == 'D' ? PFSE_NODE_DRAINING
									 : PFSE_NODE_UP),
					&events[nev]) < 0) {
				fprintf(stderr, "pfse-lb: %s: expected NODE@SECONDS\n", optarg);
				return 2;
			}
			nev++;
			break;
		case 'V':
			do_verify = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || nstd == 0 || nstd + nhp > MAX_NODES || nhp > 100 ||
	    !(bw_mbps > 0)) {
		usage(stderr);
		return 2;
	}
	qsort(events, nev, sizeof(events[0]), ev_cmp);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "pfse-lb: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	pc = pcap_open_offline_with_tstamp_precision(argv[optind], PCAP_TSTAMP_PRECISION_NANO,
						     errbuf);
	if (!pc) {
		fprintf(stderr, "pfse-lb: %s\n", errbuf);
		return 1;
	}
	/* the cluster: a standard tier of backends, optionally a high-performance one */
	pfse_cluster_params_init(&cp);
	cp.max_nodes = MAX_NODES;
	if ((r = pfse_cluster_create(&cp, &lb.cl)) < 0)
		goto fail;
	{
		struct pfse_tier_params tp;

		pfse_tier_params_init(&tp);
		tp.name = "standard";
		tp.kind = PFSE_TIER_KIND_STANDARD;
		if ((r = pfse_cluster_add_tier(lb.cl, &tp, &std_tier)) < 0)
			goto fail;
		if (nhp) {
			tp.name = "high-perf";
			tp.kind = PFSE_TIER_KIND_HIGH_PERF;
			if ((r = pfse_cluster_add_tier(lb.cl, &tp, &hp_tier)) < 0)
				goto fail;
		}
	}
	for (unsigned i = 0; i < nstd + nhp; i++) {
		struct pfse_node_params np;
		struct out *o = &lb.nodes[lb.nnodes];
		char path[4096];

		pfse_node_params_init(&np);
		np.tier = i < nstd ? std_tier : hp_tier;
		np.id = i < nstd ? i + 1 : 101 + (i - nstd);
		np.user = o;
		if ((r = pfse_cluster_add_node(lb.cl, &np, &o->node)) < 0)
			goto fail;
		o->id = np.id;
		snprintf(path, sizeof(path), "%s/node-%llu.pcap", dir, (unsigned long long)np.id);
		o->d = pcap_dump_open(pc, path);
		if (!o->d) {
			fprintf(stderr, "pfse-lb: %s: %s\n", path, pcap_geterr(pc));
			return 1;
		}
		paths[lb.nnodes++] = strdup(path);
	}
	{
		char path[4096];

		snprintf(path, sizeof(path), "%s/local.pcap", dir);
		lb.local.d = pcap_dump_open(pc, path);
		lb.local.node = UINT32_MAX;
		if (!lb.local.d) {
			fprintf(stderr, "pfse-lb: %s: %s\n", path, pcap_geterr(pc));
			return 1;
		}
		paths[lb.nnodes] = strdup(path);
	}
	for (unsigned i = 0; i < nev; i++) {
		int found = 0;

		for (uint32_t k = 0; k < lb.nnodes; k++)
			found |= lb.nodes[k].id == events[i].id;
		if (!found) {
			fprintf(stderr, "pfse-lb: no node %llu\n",
				(unsigned long long)events[i].id);
			return 2;
		}
	}
	pfse_policy_params_init(&pol);
	pol.cluster = lb.cl;
	pol.bw_enter = nhp ? bw_mbps * 1e6 / 8 : 0;
	if ((r = pfse_policy_create(&pol, &policy)) < 0)
		goto fail;
	pfse_io_ops_init(&io);
	io.forward = on_forward;
	io.rewrite = on_rewrite;
	io.transmit = on_transmit;
	/* the parser hashes each key (with a random seed); the engine's flow table takes
	 * those hashes instead of hashing the keys again: same seed, PFSE_FT_F_PKT_HASH */
	pfse_parser_params_init(&pp);
	pp.linktype = (uint32_t)pcap_datalink(pc);
	pp.flags = PFSE_PARSE_F_BIDIR | PFSE_PARSE_F_HASH;
	if ((r = pfse_parser_create(&pp, &parser)) < 0) {
		fprintf(stderr, "pfse-lb: link type %d: %s\n", pcap_datalink(pc), pfse_strerror(r));
		return 1;
	}
	pfse_flow_table_params_init(&ftp);
	ftp.flags = PFSE_FT_F_FIXED_SEED | PFSE_FT_F_PKT_HASH;
	pfse_parser_seed(parser, &ftp.seed);
	pfse_engine_params_init(&ep);
	ep.cluster = lb.cl;
	ep.policy = policy;
	ep.io = &io;
	ep.user = &lb;
	ep.table = &ftp;
	ep.flags = PFSE_ENGINE_F_REFIT_ASYNC; /* fits on the control thread */
	if ((r = pfse_engine_create(&ep, &e)) < 0)
		goto fail;
	ctl.e = e;
	if (pthread_create(&ctl_th, NULL, control_main, &ctl) != 0) {
		fprintf(stderr, "pfse-lb: cannot start the control thread\n");
		return 1;
	}
	lb.fcap = 1u << 20;
	lb.flows = calloc(lb.fcap, sizeof(*lb.flows));
	for (unsigned i = 0; i < BURST; i++) {
		slots[i].data = malloc(SNAP);
		pk[i] = &pkts[i];
		if (!slots[i].data)
			return 1;
	}
	if (!lb.flows)
		return 1;
	for (;;) {
		int more = pcap_next_ex(pc, &h, &data) == 1;
		uint64_t ts = 0;

		if (more) {
			ts = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
			if (!have_first) {
				first = ts;
				have_first = 1;
			}
			now = ts > now ? ts : now; /* a clock that goes back stays where it was */
		}
		/* a burst ends when full, at the end, or before a health event */
		if (nb && (nb == BURST || !more ||
			   (next_ev < nev && now >= first + events[next_ev].at))) {
			pfse_parse_burst(parser, pk, nb, NULL);
			pfse_engine_process(e, pk, nb);
			pfse_engine_advance(e, pkts[nb - 1].ts, 0);
			nb = 0;
		}
		while (more && next_ev < nev && now >= first + events[next_ev].at) {
			for (uint32_t k = 0; k < lb.nnodes; k++)
				if (lb.nodes[k].id == events[next_ev].id)
					pfse_cluster_set_node_health(lb.cl, lb.nodes[k].node,
								     events[next_ev].health, 0);
			next_ev++;
		}
		if (!more)
			break;
		frames++;
		slots[nb].h = *h;
		if (slots[nb].h.caplen > SNAP)
			slots[nb].h.caplen = SNAP;
		memcpy(slots[nb].data, data, slots[nb].h.caplen);
		memset(&pkts[nb], 0, sizeof(pkts[nb]));
		pkts[nb].data = slots[nb].data;
		pkts[nb].caplen = slots[nb].h.caplen;
		pkts[nb].wirelen = h->len;
		pkts[nb].ts = now;
		pkts[nb].user = &slots[nb];
		nb++;
	}
	atomic_store(&ctl.stop, 1);
	pthread_join(ctl_th, NULL);
	pfse_engine_advance(e, now, 0); /* puts in place a fit finished since the last one */
	for (uint32_t k = 0; k < lb.nnodes; k++)
		pcap_dump_close(lb.nodes[k].d);
	pcap_dump_close(lb.local.d);
	printf("%llu frames, %zu flows forwarded\n", (unsigned long long)frames, lb.nflows);
	for (uint32_t k = 0; k < lb.nnodes; k++)
		printf("  node %-4llu %-10s %8llu packets %12llu bytes\n",
		       (unsigned long long)lb.nodes[k].id, k < nstd ? "standard" : "high-perf",
		       (unsigned long long)lb.nodes[k].packets,
		       (unsigned long long)lb.nodes[k].bytes);
	printf("  local               %8llu packets %12llu bytes\n",
	       (unsigned long long)lb.local.packets, (unsigned long long)lb.local.bytes);
	printf("flows moved: %llu by health, %llu by the policy (tier), %llu otherwise; "
	       "%llu packets to down nodes\n",
	       (unsigned long long)lb.moves_health, (unsigned long long)lb.moves_policy,
	       (unsigned long long)lb.moves_other, (unsigned long long)lb.to_down);
	{
		struct pfse_engine_stats st;
		struct pfse_flow_table_stats fst;

		st.size = sizeof(st);
		pfse_engine_stats(e, &st);
		printf("model fits on the control thread: %lu (%llu backend refits in place)\n",
		       ctl.fits, (unsigned long long)st.refits);
		pfse_flow_table_stats_init(&fst);
		pfse_flow_table_stats(pfse_engine_table(e), &fst);
		printf("flow table: the parser's hashes taken (%llu bursts refused them)\n",
		       (unsigned long long)fst.hash_mismatch);
	}
	fflush(stdout);
	r = 0;
	if (do_verify)
		r = verify(argv[optind], paths, lb.nnodes + 1, &lb);
	pcap_close(pc);
	pfse_engine_destroy(e);
	pfse_policy_destroy(policy);
	pfse_parser_destroy(parser);
	pfse_cluster_destroy(lb.cl);
	for (unsigned i = 0; i < BURST; i++)
		free(slots[i].data);
	for (uint32_t k = 0; k <= lb.nnodes; k++)
		free(paths[k]);
	free(lb.flows);
	return r < 0 ? 1 : 0;
fail:
	fprintf(stderr, "pfse-lb: %s\n", pfse_strerror(r));
	return 1;
}
