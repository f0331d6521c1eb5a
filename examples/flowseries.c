/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-flow interval series from captures, flow-size CDFs and text files (flowseries.h). */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "flowseries.h"

static int
push(struct fs_flow *f, double v)
{
	if (f->n == f->cap) {
		uint32_t cap = f->cap ? f->cap * 2 : 16;
		double *nx = realloc(f->x, cap * sizeof(*nx));

		if (!nx)
			return -ENOMEM;
		f->x = nx;
		f->cap = cap;
	}
	f->x[f->n++] = v;
	return 0;
}

static struct fs_flow *
new_flow(struct fs_set *s)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 1024;
		struct fs_flow *nf = realloc(s->f, cap * sizeof(*nf));

		if (!nf)
			return NULL;
		s->f = nf;
		s->cap = cap;
	}
	memset(&s->f[s->n], 0, sizeof(s->f[0]));
	return &s->f[s->n++];
}

void
fs_free(struct fs_set *s)
{
	for (uint32_t i = 0; i < s->n; i++)
		free(s->f[i].x);
	free(s->f);
	memset(s, 0, sizeof(*s));
}

/* ---- captures ------------------------------------------------------------------------ */

struct extract {
	struct fs_set *s;
	uint32_t *map;      /* flow handle -> set index */
	int err;
};

static void
close_flow(struct extract *e, uint32_t idx)
{
	struct fs_flow *f = &e->s->f[idx];

	if (!f->open)
		return;
	if (push(f, (double)f->cur_bytes) < 0)
		e->err = -ENOMEM;
	f->open = 0;
}

static void
on_remove(struct pfse_flow_table *t, uint32_t flow, uint32_t cause, void *user)
{
	struct extract *e = user;

	(void)t;
	(void)cause;
	close_flow(e, e->map[flow]);
}

int
fs_from_capture(struct fs_set *s, const char *path, uint64_t interval, char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pfse_flow_table_params tp;
	struct pfse_parser_params pp;
	struct pfse_flow_table *t = NULL;
	struct pfse_parser *ps = NULL;
	struct extract e = { s, NULL, 0 };
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pc;
	uint32_t it = 0, fl;
	int ret = 0;

	pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc) {
		snprintf(err, errlen, "%s: %s", path, errbuf);
		return -1;
	}
	pfse_parser_params_init(&pp);
	pp.linktype = (uint32_t)pcap_datalink(pc);
	pp.flags = PFSE_PARSE_F_BIDIR | PFSE_PARSE_F_HASH | PFSE_PARSE_F_FIXED_SEED;
	pp.seed = 42;
	pfse_flow_table_params_init(&tp);
	tp.capacity = 1u << 18;
	tp.flags = PFSE_FT_F_FIXED_SEED;
	tp.seed = 42;
	tp.interval_ns = interval;
	tp.on_evict = on_remove;
	tp.on_evict_user = &e;
	e.map = calloc(tp.capacity, sizeof(uint32_t));
	if (!e.map) {
		snprintf(err, errlen, "out of memory");
		ret = -1;
		goto out;
	}
	if (pfse_parser_create(&pp, &ps) < 0 || pfse_flow_table_create(&tp, &t) < 0) {
		snprintf(err, errlen, "%s: link type %u not supported, skipped", path, pp.linktype);
		ret = 1;
		goto out;
	}
	while (pcap_next_ex(pc, &h, &data) == 1) {
		struct pfse_pkt pkt, *pkp = &pkt;
		struct pfse_flow_masks m;
		uint32_t flow;
		uint64_t iv;
		struct fs_flow *f;

		s->packets++;
		memset(&pkt, 0, sizeof(pkt));
		pkt.data = data;
		pkt.caplen = h->caplen;
		pkt.wirelen = h->len;
		pkt.ts = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		if (pfse_parse(ps, &pkt, NULL) != PFSE_PARSE_OK) {
			s->unparsed++;
			continue;
		}
		pfse_flow_table_expire(t, pkt.ts, 4096, on_remove, &e);
		if (pfse_flow_table_update_burst(t, &pkp, 1, &flow, &m) != 1)
			continue;
		iv = pkt.ts / interval;
		if (m.created & 1) {
			f = new_flow(s);
			if (!f) {
				e.err = -ENOMEM;
				break;
			}
			e.map[flow] = s->n - 1;
			f->key = pkt.key;
			f->first_iv = f->cur_iv = iv;
			f->hash = pkt.hash;
			f->t0 = pkt.ts;
			f->open = 1;
		}
		f = &s->f[e.map[flow]];
		if (iv > f->cur_iv) {
			/* the open interval closes; silent ones are zeros */
			if (push(f, (double)f->cur_bytes) < 0)
				e.err = -ENOMEM;
			for (uint64_t k = f->cur_iv + 1; k < iv && !e.err; k++)
				e.err = push(f, 0);
			f->cur_iv = iv;
			f->cur_bytes = 0;
		}
		f->cur_bytes += h->len;
		f->packets++;
		if (pkt.ts > f->t1)
			f->t1 = pkt.ts;
		if (e.err)
			break;
	}
	while (pfse_flow_table_next(t, &it, &fl) == 0)
		close_flow(&e, e.map[fl]);
	if (e.err) {
		snprintf(err, errlen, "out of memory");
		ret = -1;
	}
out:
	pcap_close(pc);
	pfse_flow_table_destroy(t);
	pfse_parser_destroy(ps);
	free(e.map);
	return ret;
}

/* ---- generated flows ----------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t
rnd64(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double
unif(void)
{
	return ((double)(rnd64() >> 11) + 0.5) / 9007199254740992.0;
}

static double
gauss(void)
{
	return sqrt(-2 * log(unif())) * cos(2 * M_PI * unif());
}

int
fs_cdf_load(struct fs_cdf *c, const char *path, double unit, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char line[512];
	double pmax = 0;

	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	c->n = 0;
	while (fgets(line, sizeof(line), fp)) {
		double sz, p;

		for (char *q = line; *q; q++)
			if (*q == ',')
				*q = ' ';
		if (sscanf(line, "%lf %lf", &sz, &p) != 2)
			continue;
		sz *= unit;
		if (c->n == FS_CDF_MAX || !isfinite(sz) || !isfinite(p) || sz < 0 || p < 0 ||
		    (c->n && (sz < c->size[c->n - 1] || p < c->p[c->n - 1]))) {
			snprintf(err, errlen, "%s: not a CDF (line \"%.40s\")", path, line);
			fclose(fp);
			return -1;
		}
		c->size[c->n] = sz;
		c->p[c->n++] = p;
		pmax = p > pmax ? p : pmax;
	}
	fclose(fp);
	if (c->n < 2 || !(pmax > 0) || pmax > 100) {
		snprintf(err, errlen, "%s: not a CDF", path);
		return -1;
	}
	for (unsigned i = 0; i < c->n; i++)
		c->p[i] /= pmax;
	return 0;
}

double
fs_cdf_quantile(const struct fs_cdf *c, double u)
{
	if (u <= c->p[0])
		return c->size[0];
	for (unsigned i = 1; i < c->n; i++) {
		if (u <= c->p[i]) {
			double span = c->p[i] - c->p[i - 1];
			double w = span > 0 ? (u - c->p[i - 1]) / span : 1;

			return c->size[i - 1] + w * (c->size[i] - c->size[i - 1]);
		}
	}
	return c->size[c->n - 1];
}

double
fs_cdf_mean(const struct fs_cdf *c)
{
	double m = c->size[0] * c->p[0];

	for (unsigned i = 1; i < c->n; i++)
		m += (c->p[i] - c->p[i - 1]) * (c->size[i] + c->size[i - 1]) / 2;
	return m;
}

/*
 * A flow of size S starts with 10 segments per RTT and doubles them each RTT (slow start)
 * up to its bottleneck rate (log-uniform, 1 to 200 Mbit/s); RTT uniform in 5-100 ms; once
 * at the bottleneck, the rate follows AR(1) log-normal noise (30%), as cross traffic
 * would make it. Each RTT's bytes land in the interval holding its middle.
 */
int
fs_from_cdf(struct fs_set *s, const char *path, unsigned nflows, uint64_t *rng,
	    uint64_t interval, char *err, size_t errlen)
{
	static struct fs_cdf c;
	double t = 1000.0;
	const double ivs = (double)interval / 1e9;

	if (fs_cdf_load(&c, path, 1, err, errlen) < 0)
		return -1;
	rng_state = *rng ? *rng : 0x2545f4914f6cdd1dull;
	for (unsigned i = 0; i < nflows; i++) {
		struct fs_flow *f = new_flow(s);
		double size = fs_cdf_quantile(&c, unif()), sent = 0, now, rate, rtt;
		double cwnd = 14600, u = 0;

		if (!f) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (size < 1)
			size = 1;
		t += -log(unif()) / 100.0;
		rate = exp(log(1e6 / 8) + unif() * (log(200e6 / 8) - log(1e6 / 8)));
		rtt = 0.005 + 0.095 * unif();
		f->hash = rnd64();
		f->t0 = (uint64_t)(t * 1e9);
		f->first_iv = (uint64_t)(t / ivs);
		{
			uint32_t a = (uint32_t)f->hash;

			pfse_flow_key_set(&f->key, PFSE_FAMILY_IPV4, &a, "\x0a\0\0\x01",
					  (uint16_t)(1024 + (f->hash >> 40) % 60000), 80, 6, 0);
		}
		now = t;
		while (sent < size) {
			double r, b;
			uint64_t iv;

			u = 0.9 * u + 0.3 * sqrt(1 - 0.81) * gauss();
			r = cwnd / rtt < rate ? cwnd / rtt : rate * exp(u - 0.045);
			b = r * rtt;
			if (b > size - sent)
				b = size - sent;
			iv = (uint64_t)((now + rtt / 2) / ivs);
			while (f->first_iv + f->n <= iv) {
				if (push(f, 0) < 0) {
					snprintf(err, errlen, "out of memory");
					return -1;
				}
			}
			f->x[iv - f->first_iv] += b;
			sent += b;
			now += rtt;
			if (cwnd / rtt < rate)
				cwnd *= 2;
		}
		f->packets = (uint64_t)ceil(size / 1460);
		f->t1 = (uint64_t)(now * 1e9);
		s->packets += f->packets;
	}
	*rng = rng_state;
	return 0;
}

/* ---- text ---------------------------------------------------------------------------- */

int
fs_from_text(struct fs_set *s, const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;

	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, fp) > 0) {
		struct fs_flow *f;
		char *p = line, *end;

		lineno++;
		if (*p == '#' || *p == '\n')
			continue;
		f = new_flow(s);
		if (!f) {
			snprintf(err, errlen, "out of memory");
			break;
		}
		for (;;) {
			double v = strtod(p, &end);

			if (end == p)
				break;
			if (!isfinite(v) || v < 0 || push(f, v) < 0) {
				snprintf(err, errlen, "%s:%u: bad sample", path, lineno);
				free(line);
				fclose(fp);
				return -1;
			}
			p = end;
		}
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p) {
			snprintf(err, errlen, "%s:%u: not a number: %.20s", path, lineno, p);
			free(line);
			fclose(fp);
			return -1;
		}
	}
	free(line);
	fclose(fp);
	return 0;
}
