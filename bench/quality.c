/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forecast-quality: how well each backend, and the automatic choice, forecasts the
 * bandwidth of real flows, measured the way the library would run in a packet path.
 *
 * Data. (1) Captures: every packet goes through pfse_parse() and a flow table (so flow
 * boundaries are the library's: idle timeouts, evictions); a flow's series is its bytes
 * per interval from its first packet's interval to its last, silent intervals included
 * as zeros. (2) Generated traffic: flow sizes drawn from published flow-size CDFs, each
 * flow sent by a simple TCP-like rate process (slow start from 10 segments doubling per
 * RTT up to a bottleneck rate, log-uniform 1-200 Mbit/s, RTT uniform 5-100 ms, with
 * AR(1) log-normal rate noise of 30%). The rate process is this file's model, not data.
 *
 * Replay. All samples of a data set are replayed in time order (interval index), as a
 * packet path would see them: a new flow starts from its class's prior (struct
 * pfse_history, fed by the flows that ended before), every backend runs on every flow, a
 * selector (struct pfse_selector) shadows every flow and picks a backend per class; the
 * automatic choice ("auto") for a flow is the backend its class had chosen when the flow
 * started (a flow keeps its backend). Backend parameters start at their defaults and are
 * refitted from the pooled series of recently finished flows every FIT_EVERY finished
 * flows, off the path, as an application's control thread would. Intervals are
 * calibrated per backend by split-conformal calibrators fed with the one-step scores.
 *
 * Scores, per flow with at least `min_len` intervals that ever changed: MASE at horizon 1
 * and 5 (mean absolute error of the forecast made 1 or 5 intervals before, over the
 * flow's mean absolute one-step change, Hyndman and Koehler 2006; naive's horizon-1 MASE
 * is 1 by construction), averaged over flows (mean and median); coverage of the 80% and
 * 95% one-step intervals, calibrated and with plain normal quantiles.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include <pfse/pfse.h>

#include "bench-util.h"
#include "quality.h"

#define NB 7          /* backends evaluated */
#define H_FAR 5       /* the longer horizon */
#define FIT_EVERY 200 /* refit after this many finished flows of >= FIT_MIN_LEN */
#define FIT_MIN_LEN 10
#define FIT_POINTS 50000 /* most samples a fit uses (the most recent flows) */
#define STATE_WORDS 32   /* 256 bytes of state per backend and flow */
#define AGES 6           /* calibrators per backend, by the age of the forecast sample */

/* Mondrian calibration by age: samples 0, 1, 2, 3-4, 5-8, 9+ of a flow. A young flow's
 * errors (its prior, its first changes) are not exchangeable with a settled one's. */
static inline unsigned
age_of(uint32_t t)
{
	return t < 3 ? t : (t < 5 ? 3 : (t < 9 ? 4 : 5));
}

static const struct {
	const char *name;
	const char *backend;
	uint32_t flags;
} backends[NB] = {
	{ "ses-log", "ses", PFSE_MODEL_F_LOG1P }, /* the selector's default */
	{ "naive", "naive", 0 },
	{ "ses", "ses", 0 },
	{ "holt-damped", "holt", PFSE_MODEL_F_DAMPED },
	{ "arima", "arima", 0 },
	{ "holt-damped-log", "holt", PFSE_MODEL_F_DAMPED | PFSE_MODEL_F_LOG1P },
	{ "lstm", "lstm", PFSE_MODEL_F_LOG1P }, /* pre-trained: not refitted here */
};

static const struct pfse_lstm *lstm_model; /* quality_opts.lstm */

struct qflow {
	double *x;          /* samples */
	uint32_t n, cap;
	uint32_t cls;       /* history slot */
	uint64_t first_iv;
	uint64_t hash;
	uint64_t packets;
	uint64_t t0, t1;    /* first and last packet (ns) */
	uint64_t cur_iv, cur_bytes; /* capture extraction: the open interval */
	int open;
};

struct dataset {
	char name[96];
	struct qflow *f;
	uint32_t n, cap;
	uint64_t unparsed;
	struct pfse_history *hist;
};

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t
rnd64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
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

static int
push(struct qflow *f, double v)
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

static struct qflow *
new_flow(struct dataset *d)
{
	if (d->n == d->cap) {
		uint32_t cap = d->cap ? d->cap * 2 : 1024;
		struct qflow *nf = realloc(d->f, cap * sizeof(*nf));

		if (!nf)
			return NULL;
		d->f = nf;
		d->cap = cap;
	}
	memset(&d->f[d->n], 0, sizeof(d->f[0]));
	return &d->f[d->n++];
}

static int
dataset_init(struct dataset *d, const char *name)
{
	struct pfse_history_params hp;

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	pfse_history_params_init(&hp);
	hp.max_classes = 4096;
	return pfse_history_create(&hp, &d->hist);
}

static void
dataset_free(struct dataset *d)
{
	for (uint32_t i = 0; i < d->n; i++)
		free(d->f[i].x);
	free(d->f);
	pfse_history_destroy(d->hist);
}

/* ---- flows of captures ------------------------------------------------------------- */

struct extract {
	struct dataset *d;
	uint32_t *map;      /* flow handle -> dataset flow index */
	uint64_t interval;
	int err;
};

static void
close_flow(struct extract *e, uint32_t idx)
{
	struct qflow *f = &e->d->f[idx];

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

static int
extract_capture(struct dataset *d, const char *path, uint64_t interval)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pfse_flow_table_params tp;
	struct pfse_parser_params pp;
	struct pfse_flow_table *t = NULL;
	struct pfse_parser *ps = NULL;
	struct extract e = { d, NULL, interval, 0 };
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pc;
	uint32_t it = 0, fl;

	pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc) {
		fprintf(stderr, "pfse-bench: %s: %s\n", path, errbuf);
		return -EIO;
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
	if (!e.map || pfse_parser_create(&pp, &ps) < 0 || pfse_flow_table_create(&tp, &t) < 0) {
		/* an unsupported link type: skip the file */
		fprintf(stderr, "pfse-bench: %s: link type %u not supported, skipped\n", path,
			pp.linktype);
		goto out;
	}
	while (pcap_next_ex(pc, &h, &data) == 1) {
		struct pfse_pkt pkt, *pkp = &pkt;
		struct pfse_flow_masks m;
		uint32_t flow;
		uint64_t iv;
		struct qflow *f;

		memset(&pkt, 0, sizeof(pkt));
		pkt.data = data;
		pkt.caplen = h->caplen;
		pkt.wirelen = h->len;
		pkt.ts = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		if (pfse_parse(ps, &pkt, NULL) != PFSE_PARSE_OK) {
			d->unparsed++;
			continue;
		}
		pfse_flow_table_expire(t, pkt.ts, 4096, on_remove, &e);
		if (pfse_flow_table_update_burst(t, &pkp, 1, &flow, &m) != 1)
			continue;
		iv = pkt.ts / interval;
		if (m.created & 1) {
			f = new_flow(d);
			if (!f) {
				e.err = -ENOMEM;
				break;
			}
			e.map[flow] = d->n - 1;
			pfse_history_classify(d->hist, &pkt.key, &f->cls, NULL);
			f->first_iv = f->cur_iv = iv;
			f->hash = pkt.hash;
			f->t0 = pkt.ts;
			f->open = 1;
		}
		f = &d->f[e.map[flow]];
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
out:
	pcap_close(pc);
	pfse_flow_table_destroy(t);
	pfse_parser_destroy(ps);
	free(e.map);
	return e.err;
}

/* ---- generated flows --------------------------------------------------------------- */

struct cdf {
	double size[2048], p[2048];
	unsigned n;
};

/* Reads "size cdf" lines (spaces, tabs or a comma; cdf in [0, 1] or [0, 100]); lines with
 * a single number (a mean, as in some files) or text are skipped. */
static int
load_cdf(const char *path, struct cdf *c)
{
	FILE *fp = fopen(path, "r");
	char line[256];
	double pmax = 0;

	if (!fp) {
		fprintf(stderr, "pfse-bench: %s: %s\n", path, strerror(errno));
		return -EIO;
	}
	c->n = 0;
	while (fgets(line, sizeof(line), fp) && c->n < 2048) {
		double s, p;

		for (char *q = line; *q; q++)
			if (*q == ',')
				*q = ' ';
		if (sscanf(line, "%lf %lf", &s, &p) != 2 || !isfinite(s) || !isfinite(p))
			continue;
		c->size[c->n] = s;
		c->p[c->n] = p;
		if (p > pmax)
			pmax = p;
		c->n++;
	}
	fclose(fp);
	if (c->n < 2 || !(pmax > 0)) {
		fprintf(stderr, "pfse-bench: %s: not a CDF\n", path);
		return -EINVAL;
	}
	for (unsigned i = 0; i < c->n; i++)
		c->p[i] /= pmax;
	return 0;
}

static double
draw_size(const struct cdf *c)
{
	double u = unif();

	for (unsigned i = 1; i < c->n; i++) {
		if (u <= c->p[i]) {
			double span = c->p[i] - c->p[i - 1];
			double w = span > 0 ? (u - c->p[i - 1]) / span : 1;

			return c->size[i - 1] + w * (c->size[i] - c->size[i - 1]);
		}
	}
	return c->size[c->n - 1];
}

static int
generate(struct dataset *d, const struct cdf *c, unsigned nflows, uint64_t interval)
{
	struct pfse_flow_key k;
	uint32_t cls;
	double t = 1000.0; /* seconds */
	const double ivs = (double)interval / 1e9;

	memset(&k, 0, sizeof(k));
	pfse_flow_key_set(&k, PFSE_FAMILY_IPV4, "\x0a\0\0\x01", "\x0a\0\0\x02", 40000, 80, 6,
			  0);
	pfse_history_classify(d->hist, &k, &cls, NULL);
	for (unsigned i = 0; i < nflows; i++) {
		struct qflow *f = new_flow(d);
		double size = draw_size(c), sent = 0, now, rate, rtt, cwnd = 14600, u = 0;
		uint64_t iv0;

		if (!f)
			return -ENOMEM;
		if (size < 1)
			size = 1;
		t += -log(unif()) / 100.0; /* 100 new flows per second */
		rate = exp(log(1e6 / 8) + unif() * (log(200e6 / 8) - log(1e6 / 8)));
		rtt = 0.005 + 0.095 * unif();
		f->cls = cls;
		f->hash = rnd64();
		f->t0 = (uint64_t)(t * 1e9);
		iv0 = (uint64_t)(t / ivs);
		f->first_iv = iv0;
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
			while (f->first_iv + f->n <= iv)
				if (push(f, 0) < 0)
					return -ENOMEM;
			f->x[iv - f->first_iv] += b;
			sent += b;
			now += rtt;
			if (cwnd / rtt < rate)
				cwnd *= 2;
		}
		f->packets = (uint64_t)ceil(size / 1460);
		f->t1 = (uint64_t)(now * 1e9);
	}
	return 0;
}

/* ---- replay ------------------------------------------------------------------------ */

struct ev {
	uint64_t iv;
	uint32_t flow;
	uint32_t t; /* sample index, or UINT32_MAX: the flow ended */
};

static int
ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	int ex = x->t != UINT32_MAX, ey = y->t != UINT32_MAX;

	if (x->iv != y->iv)
		return x->iv < y->iv ? -1 : 1;
	if (ex != ey)
		return ex - ey; /* ends first */
	if (x->flow != y->flow)
		return x->flow < y->flow ? -1 : 1;
	return (x->t > y->t) - (x->t < y->t);
}

struct score {
	double sum1[NB], sum5[NB];
	uint32_t cov80[NB], cov95[NB], cov80n[NB], cov95n[NB];
	double ring[NB][H_FAR];
	uint32_t sid;
	uint8_t choice, shadowed;
};

struct agg {
	double *m1, *m5; /* per scored flow */
	uint64_t c80, c95, c80n, c95n, pts;
	unsigned nf;
};

static int
mk_predictor(unsigned b, struct pfse_predictor **out)
{
	struct pfse_predictor_params p;
	struct pfse_model_params m;

	pfse_model_params_init(&m);
	m.flags = backends[b].flags;
	if (strcmp(backends[b].backend, "arima") == 0) {
		m.p = 2;
		m.d = 1;
		m.q = 2;
	}
	pfse_predictor_params_init(&p);
	p.ops = pfse_predictor_backend(backends[b].backend);
	p.model = &m;
	if (strcmp(backends[b].backend, "lstm") == 0)
		p.user = (void *)(uintptr_t)lstm_model;
	return pfse_predictor_create(&p, out);
}

/* Refits every backend from the most recent finished flows (pool of indexes). */
static unsigned
refit(struct pfse_predictor *pred[NB], const struct dataset *d, const uint32_t *pool,
      uint32_t npool, const double **ser, uint32_t *lens)
{
	unsigned nser = 0, ok = 0;
	size_t pts = 0;

	for (uint32_t i = npool; i-- > 0 && pts < FIT_POINTS;) {
		const struct qflow *f = &d->f[pool[i]];

		ser[nser] = f->x;
		lens[nser] = f->n;
		pts += f->n;
		nser++;
	}
	for (unsigned b = 0; b < NB; b++) {
		uint32_t flags = strcmp(backends[b].backend, "arima") == 0 ? PFSE_FIT_F_ORDER : 0;

		if (strcmp(backends[b].backend, "naive") == 0 ||
		    strcmp(backends[b].backend, "lstm") == 0)
			continue;
		ok += pfse_predictor_fit(pred[b], ser, lens, nser, flags, NULL) == 0;
	}
	return ok;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median_of(double *v, unsigned n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
mean_of(const double *v, unsigned n)
{
	double s = 0;

	for (unsigned i = 0; i < n; i++)
		s += v[i];
	return n ? s / n : NAN;
}

static void
emit_agg(const struct dataset *d, const char *name, struct agg *a, const char *extra)
{
	printf("{\"name\":\"forecast-quality\",\"data\":\"%s\",\"backend\":\"%s\","
	       "\"flows\":%u,\"mase_h1\":%.4f,\"mase_h1_median\":%.4f,\"mase_h5\":%.4f,"
	       "\"mase_h5_median\":%.4f,\"coverage80\":%.4f,\"coverage95\":%.4f,"
	       "\"coverage80_normal\":%.4f,\"coverage95_normal\":%.4f,\"points\":%llu%s%s}\n",
	       d->name, name, a->nf, mean_of(a->m1, a->nf), median_of(a->m1, a->nf),
	       mean_of(a->m5, a->nf), median_of(a->m5, a->nf),
	       a->pts ? (double)a->c80 / (double)a->pts : NAN,
	       a->pts ? (double)a->c95 / (double)a->pts : NAN,
	       a->pts ? (double)a->c80n / (double)a->pts : NAN,
	       a->pts ? (double)a->c95n / (double)a->pts : NAN, (unsigned long long)a->pts,
	       extra ? "," : "", extra ? extra : "");
}

static int
replay(struct dataset *d, uint32_t min_len)
{
	struct pfse_predictor *pred[NB] = { NULL };
	struct pfse_calibrator *cal[NB][AGES] = { { NULL } };
	struct pfse_selector *sel = NULL;
	struct pfse_selector_params sp;
	struct score *sc = NULL;
	uint64_t *states = NULL, nev = 0, t0 = bench_now_ns();
	struct ev *ev = NULL;
	uint32_t *pool = NULL, npool = 0, since_fit = 0, *lens = NULL;
	const double **ser = NULL;
	unsigned fits = 0, fit_ok = 0;
	double first_err_prior = 0, first_err_zero = 0, first_err_global = 0, global_sum = 0;
	uint64_t first_n = 0, ended = 0;
	struct agg agg[NB + 1];
	int r = -ENOMEM;
	double z80n, z95n;

	memset(agg, 0, sizeof(agg));
	pfse_normal_quantile(0.9, &z80n);
	pfse_normal_quantile(0.975, &z95n);
	for (unsigned b = 0; b < NB; b++) {
		struct pfse_calibrator_params cp;

		pfse_calibrator_params_init(&cp);
		if (mk_predictor(b, &pred[b]) < 0 ||
		    pfse_predictor_state_size(pred[b]) > STATE_WORDS * 8)
			goto out;
		for (unsigned a = 0; a < AGES; a++)
			if (pfse_calibrator_create(&cp, &cal[b][a]) < 0)
				goto out;
	}
	pfse_selector_params_init(&sp);
	sp.candidates = pred;
	sp.n_candidates = NB;
	sp.classes = 4096;
	sp.shadow_flows = 1u << 16;
	sp.sample_every = 1;
	/* choose by the per-flow MASE of the flows that will be scored (flow mode) */
	sp.flow_len = min_len;
	sp.min_samples = 20;
	sp.half_life = 500;
	if (pfse_selector_create(&sp, &sel) < 0)
		goto out;
	for (uint32_t i = 0; i < d->n; i++)
		nev += d->f[i].n + 1;
	ev = malloc(nev * sizeof(*ev));
	sc = calloc(d->n, sizeof(*sc));
	states = calloc((size_t)d->n * NB * STATE_WORDS, sizeof(uint64_t));
	pool = malloc(d->n * sizeof(*pool));
	ser = malloc(d->n * sizeof(*ser));
	lens = malloc(d->n * sizeof(*lens));
	for (unsigned b = 0; b <= NB; b++) {
		agg[b].m1 = malloc(d->n * sizeof(double));
		agg[b].m5 = malloc(d->n * sizeof(double));
		if (!agg[b].m1 || !agg[b].m5)
			goto out;
	}
	if (!ev || !sc || !states || !pool || !ser || !lens)
		goto out;
	nev = 0;
	for (uint32_t i = 0; i < d->n; i++) {
		for (uint32_t t = 0; t < d->f[i].n; t++)
			ev[nev++] = (struct ev){ d->f[i].first_iv + t, i, t };
		ev[nev++] = (struct ev){ d->f[i].first_iv + d->f[i].n, i, UINT32_MAX };
	}
	qsort(ev, nev, sizeof(*ev), ev_cmp);

	for (uint64_t e = 0; e < nev; e++) {
		struct qflow *f = &d->f[ev[e].flow];
		struct score *s = &sc[ev[e].flow];
		uint64_t *st = states + (size_t)ev[e].flow * NB * STATE_WORDS;
		uint32_t t = ev[e].t;
		double x;

		if (t == UINT32_MAX) {
			/* the flow ended: its class's history and the fit pool learn from it */
			struct pfse_flow_summary fs;
			double peak = 0, tot = 0;

			for (uint32_t k = 0; k < f->n; k++) {
				tot += f->x[k];
				peak = f->x[k] > peak ? f->x[k] : peak;
			}
			pfse_flow_summary_init(&fs);
			fs.bytes = (uint64_t)tot;
			fs.packets = f->packets;
			fs.duration_ns = f->t1 - f->t0;
			fs.first_interval_bytes = f->n ? (uint64_t)f->x[0] : 0;
			fs.peak_interval_bytes = (uint64_t)peak;
			pfse_history_absorb(d->hist, f->cls, &fs);
			global_sum += f->n ? f->x[0] : 0;
			ended++;
			if (s->shadowed)
				pfse_selector_shadow_end(sel, s->sid);
			if (f->n >= FIT_MIN_LEN) {
				pool[npool++] = ev[e].flow;
				if (++since_fit >= FIT_EVERY) {
					since_fit = 0;
					fits++;
					fit_ok += refit(pred, d, pool, npool, ser, lens);
				}
			}
			continue;
		}
		x = f->x[t];
		if (t == 0) {
			struct pfse_class_prior cp;
			struct pfse_prior pr;

			cp.size = sizeof(cp);
			pfse_history_prior(d->hist, f->cls, &cp);
			pfse_prior_init(&pr);
			pr.level = cp.rate;
			pr.variance = cp.rate_variance;
			pr.weight = cp.flows ? 1 : 0;
			/* the first interval, forecast from the class prior, from nothing, and
			 * from the mean first interval of all classes */
			if (ended > 0) {
				first_err_prior += fabs(x - cp.rate);
				first_err_zero += fabs(x);
				first_err_global += fabs(x - global_sum / (double)ended);
				first_n++;
			}
			for (unsigned b = 0; b < NB; b++)
				pfse_predictor_flow_init(pred[b], st + b * STATE_WORDS, &pr);
			s->choice = (uint8_t)pfse_selector_choice(sel, f->cls);
			s->shadowed = pfse_selector_shadow_begin(sel, f->cls, f->hash, &pr,
								 &s->sid) == 0;
		}
		for (unsigned b = 0; b < NB; b++) {
			void *bst = st + b * STATE_WORDS;
			struct pfse_forecast f1, f5;
			double z80, z95, dev;

			if (t >= 1 && pfse_predictor_forecast(pred[b], bst, 1, 0.8, &f1) == 0) {
				int lg = (backends[b].flags & PFSE_MODEL_F_LOG1P) != 0;

				s->sum1[b] += fabs(x - f1.mean);
				dev = lg ? fabs(log1p(x) - log1p(f1.mean)) : fabs(x - f1.mean);
				pfse_calibrator_z(cal[b][age_of(t)], 0.8, &z80);
				pfse_calibrator_z(cal[b][age_of(t)], 0.95, &z95);
				s->cov80[b] += dev <= z80 * f1.sd;
				s->cov95[b] += dev <= z95 * f1.sd;
				s->cov80n[b] += dev <= z80n * f1.sd;
				s->cov95n[b] += dev <= z95n * f1.sd;
			}
			if (t >= H_FAR)
				s->sum5[b] += fabs(x - s->ring[b][t % H_FAR]);
			{
				struct pfse_observation o;

				pfse_predictor_observe(pred[b], bst, x, &o);
				if (o.score >= 0)
					pfse_calibrator_add(cal[b][age_of(t)], o.score);
			}
			if (pfse_predictor_forecast(pred[b], bst, H_FAR, 0.8, &f5) < 0)
				f5.mean = x;
			s->ring[b][t % H_FAR] = f5.mean;
		}
		if (s->shadowed)
			pfse_selector_shadow_observe(sel, s->sid, x);
	}

	/* per-flow scores */
	for (uint32_t i = 0; i < d->n; i++) {
		const struct qflow *f = &d->f[i];
		const struct score *s = &sc[i];
		double scale = 0;

		if (f->n < min_len || f->n <= H_FAR)
			continue;
		for (uint32_t t = 1; t < f->n; t++)
			scale += fabs(f->x[t] - f->x[t - 1]);
		scale /= f->n - 1;
		if (!(scale > 0))
			continue;
		for (unsigned b = 0; b <= NB; b++) {
			unsigned src = b < NB ? b : s->choice;
			struct agg *a = &agg[b];

			a->m1[a->nf] = s->sum1[src] / (f->n - 1) / scale;
			a->m5[a->nf] = s->sum5[src] / (f->n - H_FAR) / scale;
			a->nf++;
			a->c80 += s->cov80[src];
			a->c95 += s->cov95[src];
			a->c80n += s->cov80n[src];
			a->c95n += s->cov95n[src];
			a->pts += f->n - 1;
		}
	}
	{
		char extra[768];
		uint64_t samples = 0;

		for (uint32_t i = 0; i < d->n; i++)
			samples += d->f[i].n;
		snprintf(extra, sizeof(extra),
			 "\"all_flows\":%u,\"samples\":%llu,\"unparsed_packets\":%llu,"
			 "\"fits\":%u,\"fits_ok\":%u,\"min_len\":%u,"
			 "\"first_interval_mae_class_prior\":%.1f,"
			 "\"first_interval_mae_global_mean\":%.1f,\"first_interval_mae_zero\":%.1f,"
			 "\"ms\":%.0f",
			 d->n, (unsigned long long)samples, (unsigned long long)d->unparsed, fits,
			 fit_ok, min_len, first_n ? first_err_prior / (double)first_n : NAN,
			 first_n ? first_err_global / (double)first_n : NAN,
			 first_n ? first_err_zero / (double)first_n : NAN,
			 (double)(bench_now_ns() - t0) / 1e6);
		for (unsigned b = 0; b < NB; b++)
			emit_agg(d, backends[b].name, &agg[b], b == 0 ? extra : NULL);
	}
	{
		/* auto: which backend each class chose, and whether the targets hold */
		char extra[1024];
		unsigned classes[NB] = { 0 }, flows[NB] = { 0 }, n = 0;
		int len;
		double m1 = mean_of(agg[NB].m1, agg[NB].nf);
		double c80 = agg[NB].pts ? (double)agg[NB].c80 / (double)agg[NB].pts : NAN;
		double c95 = agg[NB].pts ? (double)agg[NB].c95 / (double)agg[NB].pts : NAN;

		for (uint32_t k = 0; k < 4096; k++) {
			struct pfse_selection rep;

			rep.size = sizeof(rep);
			if (pfse_selector_report(sel, k, &rep) == 0 && rep.samples > 0)
				classes[rep.choice]++;
		}
		for (uint32_t i = 0; i < d->n; i++)
			if (d->f[i].n >= min_len)
				flows[sc[i].choice]++;
		len = snprintf(extra, sizeof(extra), "\"classes_by_choice\":{");
		for (unsigned b = 0; b < NB; b++)
			len += snprintf(extra + len, sizeof(extra) - (size_t)len, "%s\"%s\":%u",
					n++ ? "," : "", backends[b].name, classes[b]);
		len += snprintf(extra + len, sizeof(extra) - (size_t)len,
				"},\"scored_flows_by_choice\":{");
		n = 0;
		for (unsigned b = 0; b < NB; b++)
			len += snprintf(extra + len, sizeof(extra) - (size_t)len, "%s\"%s\":%u",
					n++ ? "," : "", backends[b].name, flows[b]);
		snprintf(extra + len, sizeof(extra) - (size_t)len,
			 "},\"target_mase_below_1\":%s,\"target_coverage_5pts\":%s",
			 m1 < 1 ? "true" : "false",
			 fabs(c80 - 0.8) <= 0.05 && fabs(c95 - 0.95) <= 0.05 ? "true" : "false");
		emit_agg(d, "auto", &agg[NB], extra);
	}
	r = 0;
out:
	for (unsigned b = 0; b < NB; b++) {
		pfse_predictor_destroy(pred[b]);
		for (unsigned a = 0; a < AGES; a++)
			pfse_calibrator_destroy(cal[b][a]);
	}
	for (unsigned b = 0; b <= NB; b++) {
		free(agg[b].m1);
		free(agg[b].m5);
	}
	pfse_selector_destroy(sel);
	free(ev);
	free(sc);
	free(states);
	free(pool);
	free(ser);
	free(lens);
	return r;
}

int
quality_run(const struct quality_opts *o)
{
	struct dataset d;
	int r;

	rng = o->seed ? o->seed : 0x2545f4914f6cdd1dull;
	lstm_model = o->lstm;
	if (o->ncaptures) {
		if (dataset_init(&d, "captures") < 0)
			return -1;
		for (unsigned i = 0; i < o->ncaptures; i++) {
			r = extract_capture(&d, o->captures[i], o->interval_ns);
			if (r == -ENOMEM) {
				dataset_free(&d);
				return -1;
			}
		}
		r = replay(&d, o->min_len);
		dataset_free(&d);
		if (r < 0)
			return -1;
	}
	for (unsigned i = 0; i < o->ndists; i++) {
		static struct cdf c;
		const char *base = strrchr(o->dists[i], '/');
		char name[96];

		if (load_cdf(o->dists[i], &c) < 0)
			return -1;
		snprintf(name, sizeof(name), "dist:%s", base ? base + 1 : o->dists[i]);
		if (dataset_init(&d, name) < 0)
			return -1;
		r = generate(&d, &c, o->dist_flows, o->interval_ns);
		if (r == 0)
			r = replay(&d, o->min_len);
		dataset_free(&d);
		if (r < 0)
			return -1;
	}
	return 0;
}
