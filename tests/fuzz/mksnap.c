/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writes a seed for fuzz-snapshot: flag byte 0, then a snapshot with a small history
 * (64 classes, series of 8), the default LSTM, a Holt model and an application section.
 * usage: mksnap FILE
 */
#include <stdio.h>
#include <stdlib.h>

#include <pfse/pfse.h>

int
main(int argc, char **argv)
{
	struct pfse_history_params hp;
	struct pfse_history *h;
	struct pfse_predictor_params pp;
	struct pfse_model_params mp;
	struct pfse_predictor *pred;
	struct pfse_snapshot *s;
	struct pfse_flow_key k;
	struct pfse_flow_summary fs;
	uint32_t slot;
	size_t len;
	uint8_t *buf;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: mksnap FILE\n");
		return 2;
	}
	pfse_history_params_init(&hp);
	hp.max_classes = 64;
	hp.series_len = 8;
	pfse_model_params_init(&mp);
	mp.flags = PFSE_MODEL_F_DAMPED;
	pfse_predictor_params_init(&pp);
	pp.ops = pfse_predictor_backend("holt");
	pp.model = &mp;
	if (pfse_history_create(&hp, &h) || pfse_predictor_create(&pp, &pred) ||
	    pfse_snapshot_create(NULL, &s))
		return 1;
	pfse_flow_key_set(&k, PFSE_FAMILY_IPV4, "\x0a\0\0\x01", "\x0a\0\0\x02", 40000, 443, 6, 0);
	pfse_history_classify(h, &k, &slot, NULL);
	pfse_flow_summary_init(&fs);
	fs.bytes = 123456;
	fs.packets = 100;
	fs.duration_ns = 2000000000ull;
	fs.first_interval_bytes = 4000;
	fs.peak_interval_bytes = 30000;
	pfse_history_absorb(h, slot, &fs);
	if (pfse_snapshot_put_history(s, "h", h) || pfse_snapshot_put_lstm(s, "l",
									pfse_lstm_default()) ||
	    pfse_snapshot_put_model(s, "m", pred) ||
	    pfse_snapshot_put(s, PFSE_SNAP_USER, "u", "user", 4))
		return 1;
	pfse_snapshot_serialize(s, NULL, 0, &len);
	buf = malloc(len + 1);
	if (!buf)
		return 1;
	buf[0] = 0;
	pfse_snapshot_serialize(s, buf + 1, len, &len);
	f = fopen(argv[1], "wb");
	if (!f || fwrite(buf, 1, len + 1, f) != len + 1 || fclose(f) != 0)
		return 1;
	free(buf);
	pfse_snapshot_destroy(s);
	pfse_predictor_destroy(pred);
	pfse_history_destroy(h);
	return 0;
}
