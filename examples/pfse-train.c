/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfse-train: trains libpfse's tiny LSTM forecaster on the bandwidth series of flows and
 * writes the model file (and, on request, a C header embedding it, as lib/lstm_default.h
 * is made).
 *
 *   pfse-train -o MODEL [options] [CAPTURE...]
 *     CAPTURE            pcap or pcapng files: every flow's bytes per interval, through
 *                        libpfse's parser and flow table
 *     --series FILE      a text file of series, one flow per line
 *     --dist CDF         generated flows whose sizes follow a flow-size CDF file
 *     --dist-flows N     flows per --dist file (default 5000)
 *     --interval-ms MS   sampling interval (default 100)
 *     --min-len N        flows shorter than N intervals are left out (default 4)
 *     --hidden H, --epochs N, --bptt N, --seed S, --max-steps N, --lr X
 *     -o FILE            the model file (written to FILE.tmp, then renamed; - = stdout)
 *     --c-header FILE    also write FILE, a C array of the model file's bytes
 *     --snapshot FILE    also write a snapshot (snapshot.h, written atomically): the class
 *                        history of the flows (section "history"), the smoothing and
 *                        ARIMA models fitted to their pooled series ("ses-log",
 *                        "holt-damped-log", "arima") and the LSTM ("lstm"); it is read
 *                        back and its sections listed
 *     --elephant-bytes N the history's elephant size (default 1 MiB; must match the
 *                        engine that loads the snapshot, as pfse-replay --elephant-bytes)
 *
 * Prints one line per epoch (training and validation loss) and a summary.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pfse/pfse.h>

#include "flowseries.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: pfse-train -o MODEL [--series FILE]... [--dist CDF]... "
		   "[--dist-flows N]\n"
		   "                  [--interval-ms MS] [--min-len N] [--hidden H] "
		   "[--epochs N] [--bptt N]\n"
		   "                  [--seed S] [--max-steps N] [--lr X] [--c-header FILE] "
		   "[--snapshot FILE] [--elephant-bytes N]\n"
		   "                  [CAPTURE...]\n"
		   "       (-o, --snapshot or both)\n");
}

static void
on_epoch(uint32_t epoch, double train, double val, void *user)
{
	(void)user;
	fprintf(stderr, "epoch %3u  train %.4f  validation %.4f\n", epoch, train, val);
}

static int
write_file(const char *path, const uint8_t *buf, size_t len)
{
	char tmp[4096];
	FILE *f;

	if (strcmp(path, "-") == 0)
		return fwrite(buf, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (!f)
		return -1;
	if (fwrite(buf, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

static int
write_header(const char *path, const uint8_t *buf, size_t len, const char *cmd)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "/* SPDX-License-Identifier: BSD-3-Clause */\n"
		   "/* The default LSTM model (lib/lstm-default.pfse), made by "
		   "examples/pfse-train:\n *  ");
	/* the command, wrapped */
	for (const char *p = cmd, *sp; *p; p = *sp ? sp + 1 : sp) {
		static size_t col = 4;
		size_t w;

		sp = strchr(p, ' ');
		if (!sp)
			sp = p + strlen(p);
		w = (size_t)(sp - p);
		if (col + w + 1 > 90) {
			fprintf(f, "\n *    ");
			col = 7;
		}
		fprintf(f, " %.*s", (int)w, p);
		col += w + 1;
	}
	fprintf(f, "\n * Do not edit: regenerate with that command (README, \"The LSTM "
		   "backend\"). */\nstatic const uint8_t pfse_lstm_default_bytes[%zu] = {",
		len);
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%s0x%02x,", i % 12 ? " " : "\n\t", buf[i]);
	fprintf(f, "\n};\n");
	return fclose(f);
}

/* The class history of the flows that have a key (captures, generated traffic). */
static int
build_history(struct pfse_history *h, const struct fs_set *set)
{
	for (uint32_t i = 0; i < set->n; i++) {
		const struct fs_flow *f = &set->f[i];
		struct pfse_flow_summary s;
		uint32_t slot;
		double sum = 0, peak = 0;
		int r;

		if (f->key.family == 0 || f->n == 0)
			continue; /* a text series: no key, no class */
		for (uint32_t k = 0; k < f->n; k++) {
			sum += f->x[k];
			peak = f->x[k] > peak ? f->x[k] : peak;
		}
		r = pfse_history_classify(h, &f->key, &slot, NULL);
		if (r < 0)
			return r;
		pfse_flow_summary_init(&s);
		s.bytes = (uint64_t)sum;
		s.packets = f->packets;
		s.duration_ns = f->t1 > f->t0 ? f->t1 - f->t0 : 0;
		s.first_interval_bytes = (uint64_t)f->x[0];
		s.peak_interval_bytes = (uint64_t)peak;
		r = pfse_history_absorb(h, slot, &s);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Fits a backend to the pooled series (the most recent 50000 points of flows of at least
 * 10 intervals) and puts it into the snapshot as `name`. */
static void
put_fitted(struct pfse_snapshot *s, const char *name, const char *backend, uint32_t flags,
	   const double **ser, const uint32_t *lens, uint32_t n)
{
	struct pfse_predictor_params pp;
	struct pfse_model_params mp;
	struct pfse_fit_report fr;
	struct pfse_predictor *pred;
	const double **fs = malloc((n + 1) * sizeof(*fs));
	uint32_t *fl = malloc((n + 1) * sizeof(*fl)), k = 0;
	size_t pts = 0;
	int r;

	if (!fs || !fl) {
		free(fs);
		free(fl);
		return;
	}
	for (uint32_t i = n; i-- > 0 && pts < 50000;) {
		if (lens[i] < 10)
			continue;
		fs[k] = ser[i];
		fl[k++] = lens[i];
		pts += lens[i];
	}
	pfse_model_params_init(&mp);
	mp.flags = flags;
	if (strcmp(backend, "arima") == 0) {
		mp.p = 2;
		mp.d = 1;
		mp.q = 2;
	}
	pfse_predictor_params_init(&pp);
	pp.ops = pfse_predictor_backend(backend);
	pp.model = &mp;
	pfse_fit_report_init(&fr);
	r = k ? pfse_predictor_create(&pp, &pred) : -ENODATA;
	if (r == 0) {
		r = pfse_predictor_fit(pred, fs, fl, k,
				       strcmp(backend, "arima") == 0 ? PFSE_FIT_F_ORDER : 0, &fr);
		if (r == 0)
			r = pfse_snapshot_put_model(s, name, pred);
		pfse_predictor_destroy(pred);
	}
	if (r < 0)
		fprintf(stderr, "pfse-train: %s: not fitted (%s)\n", name, pfse_strerror(r));
	free(fs);
	free(fl);
}

static uint64_t elephant_bytes; /* --elephant-bytes (0: the history's default) */

static int
write_snapshot(const char *path, const struct fs_set *set, uint64_t interval,
	       const double **ser, const uint32_t *lens, uint32_t n,
	       const struct pfse_lstm *model)
{
	struct pfse_history_params hp;
	struct pfse_history *h = NULL;
	struct pfse_snapshot *s = NULL, *back = NULL;
	int r;

	pfse_history_params_init(&hp);
	hp.interval_ns = interval;
	hp.max_classes = 4096;
	hp.elephant_bytes = elephant_bytes;
	r = pfse_history_create(&hp, &h);
	if (r == 0)
		r = build_history(h, set);
	if (r == 0)
		r = pfse_snapshot_create(NULL, &s);
	if (r == 0)
		r = pfse_snapshot_put_history(s, "history", h);
	if (r == 0)
		r = pfse_snapshot_put_lstm(s, "lstm", model);
	if (r == 0) {
		put_fitted(s, "ses-log", "ses", PFSE_MODEL_F_LOG1P, ser, lens, n);
		put_fitted(s, "holt-damped-log", "holt", PFSE_MODEL_F_DAMPED | PFSE_MODEL_F_LOG1P,
			   ser, lens, n);
		put_fitted(s, "arima", "arima", 0, ser, lens, n);
		r = pfse_snapshot_write(s, path);
	}
	if (r == 0)
		r = pfse_snapshot_read(path, NULL, &back);
	if (r < 0) {
		fprintf(stderr, "pfse-train: snapshot %s: %s\n", path, pfse_strerror(r));
	} else {
		fprintf(stderr, "pfse-train: snapshot %s:", path);
		for (uint32_t i = 0; i < pfse_snapshot_count(back); i++) {
			uint32_t type;
			const char *name;
			const void *d;
			size_t len;

			pfse_snapshot_section(back, i, &type, &name, &d, &len);
			fprintf(stderr, " %s (%zu bytes)", name, len);
		}
		fprintf(stderr, "\n");
	}
	pfse_snapshot_destroy(back);
	pfse_snapshot_destroy(s);
	pfse_history_destroy(h);
	return r;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "series", required_argument, NULL, 's' },
		{ "dist", required_argument, NULL, 'd' },
		{ "dist-flows", required_argument, NULL, 'n' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "min-len", required_argument, NULL, 'm' },
		{ "hidden", required_argument, NULL, 'H' },
		{ "epochs", required_argument, NULL, 'e' },
		{ "bptt", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 'S' },
		{ "max-steps", required_argument, NULL, 'M' },
		{ "lr", required_argument, NULL, 'l' },
		{ "c-header", required_argument, NULL, 'c' },
		{ "snapshot", required_argument, NULL, 'P' },
		{ "elephant-bytes", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pfse_lstm_train_params tp;
	struct pfse_lstm_train_report rep;
	struct pfse_lstm *model = NULL;
	struct fs_set set;
	const char *out = NULL, *header = NULL, *snap = NULL, *series[64], *dists[16];
	unsigned nseries = 0, ndists = 0, dist_flows = 5000, min_len = 4, used = 0;
	uint64_t interval = 100000000ull;
	const double **ser;
	uint32_t *lens;
	char err[512], cmd[2048] = "";
	int opt, r;
	struct timespec t0, t1;

	memset(&set, 0, sizeof(set));
	pfse_lstm_train_params_init(&tp);
	tp.report = on_epoch;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(cmd);

		/* the program as the README runs it, wherever this one was built */
		snprintf(cmd + l, sizeof(cmd) - l, "%s%s", i ? " " : "",
			 i ? argv[i] : "build/examples/pfse-train");
	}
	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 's':
			if (nseries < 64)
				series[nseries++] = optarg;
			break;
		case 'd':
			if (ndists < 16)
				dists[ndists++] = optarg;
			break;
		case 'n':
			dist_flows = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'i':
			interval = (uint64_t)(strtod(optarg, NULL) * 1e6);
			break;
		case 'm':
			min_len = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'H':
			tp.hidden = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'e':
			tp.epochs = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			tp.bptt = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'S':
			tp.seed = strtoull(optarg, NULL, 0);
			break;
		case 'M':
			tp.max_steps = strtoull(optarg, NULL, 10);
			break;
		case 'l':
			tp.learning_rate = strtod(optarg, NULL);
			break;
		case 'c':
			header = optarg;
			break;
		case 'P':
			snap = optarg;
			break;
		case 'E':
			elephant_bytes = strtoull(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if ((!out && !snap) || (header && !out) || interval < 1000000 || min_len < 3) {
		usage(stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		r = fs_from_capture(&set, argv[i], interval, err, sizeof(err));
		if (r != 0)
			fprintf(stderr, "pfse-train: %s\n", err);
		if (r < 0)
			return 1;
	}
	for (unsigned i = 0; i < nseries; i++)
		if (fs_from_text(&set, series[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "pfse-train: %s\n", err);
			return 1;
		}
	for (unsigned i = 0; i < ndists; i++) {
		uint64_t rng = 1000 + i; /* a stream per file */

		if (fs_from_cdf(&set, dists[i], dist_flows, &rng, interval, err,
				sizeof(err)) < 0) {
			fprintf(stderr, "pfse-train: %s\n", err);
			return 1;
		}
	}
	ser = malloc(set.n * sizeof(*ser) + 1);
	lens = malloc(set.n * sizeof(*lens) + 1);
	if (!ser || !lens)
		return 1;
	for (uint32_t i = 0; i < set.n; i++) {
		if (set.f[i].n < min_len)
			continue;
		ser[used] = set.f[i].x;
		lens[used] = set.f[i].n;
		used++;
	}
	fprintf(stderr, "pfse-train: %u flows, %u of at least %u intervals\n", set.n, used,
		min_len);
	pfse_lstm_train_report_init(&rep);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = pfse_lstm_train(ser, lens, used, &tp, &model, &rep);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r < 0) {
		fprintf(stderr, "pfse-train: training failed: %s\n", pfse_strerror(r));
		return 1;
	}
	if (out) {
		size_t len;
		uint8_t *buf;

		pfse_lstm_save(model, NULL, 0, &len);
		buf = malloc(len);
		if (!buf || pfse_lstm_save(model, buf, len, &len) < 0 ||
		    write_file(out, buf, len) < 0) {
			fprintf(stderr, "pfse-train: %s: %s\n", out, strerror(errno));
			return 1;
		}
		if (header && write_header(header, buf, len, cmd) < 0) {
			fprintf(stderr, "pfse-train: %s: %s\n", header, strerror(errno));
			return 1;
		}
		free(buf);
	}
	fprintf(stderr,
		"pfse-train: hidden %u, %u epochs (best %u, validation loss %.4f), %llu training "
		"and %llu validation flows, %llu steps per epoch, %.1f s\n",
		pfse_lstm_hidden(model), rep.epochs, rep.best_epoch, rep.best_val_loss,
		(unsigned long long)rep.train_flows, (unsigned long long)rep.val_flows,
		(unsigned long long)rep.steps,
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (snap && write_snapshot(snap, &set, interval, ser, lens, used, model) < 0)
		return 1;
	pfse_lstm_destroy(model);
	free(ser);
	free(lens);
	fs_free(&set);
	return 0;
}
