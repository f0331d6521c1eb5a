/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for pfse_lstm_load(). Input layout:
 *   byte 0: bit 0 writes a valid magic, version, header size and input count over the
 *           buffer's start; bit 1 writes a hidden size H (1 + byte 1 % 16) and the
 *           buffer's length is cut to the length H implies (when it is long enough); bit 2
 *           writes a valid checksum at the end. With all three the fuzzer reaches the
 *           normalisation and weight checks.
 *   byte 1: the hidden size, with bit 1.
 *   rest:   the model file.
 * A model that loads must save back to the same bytes and forecast finite values through
 * a predictor (one step and several); one that does not load must leave *out untouched.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include <pfse/pfse.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
exercise(const struct pfse_lstm *m, const uint8_t *data, size_t size)
{
	struct pfse_model_params mp;
	struct pfse_predictor_params pp;
	struct pfse_predictor *pred;
	uint64_t st[64];

	pfse_model_params_init(&mp);
	mp.flags = PFSE_MODEL_F_LOG1P;
	pfse_predictor_params_init(&pp);
	pp.ops = pfse_predictor_backend("lstm");
	pp.model = &mp;
	pp.user = (void *)(uintptr_t)m;
	if (pfse_predictor_create(&pp, &pred) < 0)
		abort();
	if (pfse_predictor_state_size(pred) > sizeof(st) ||
	    pfse_predictor_flow_init(pred, st, NULL) < 0)
		abort();
	for (size_t i = 0; i < 12; i++) {
		struct pfse_observation o;
		struct pfse_forecast f;
		double x = i < size ? (double)data[i] * (double)data[i] * 997.0 : 0;

		if (pfse_predictor_observe(pred, st, x, &o) < 0)
			abort();
		/* a model's forecast may overflow on return to bytes: a clean -ERANGE */
		for (unsigned h = 1; h <= 3; h += 2) {
			int r = pfse_predictor_forecast(pred, st, h, 0.8, &f);

			if (r == 0 && !(f.mean >= 0 && f.lo <= f.mean && f.mean <= f.hi))
				abort();
			if (r != 0 && r != -ERANGE)
				abort();
		}
	}
	pfse_predictor_destroy(pred);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pfse_lstm *m = (struct pfse_lstm *)(uintptr_t)1;
	uint8_t *buf, *out;
	size_t len, n;
	int r;

	if (size < 2)
		return 0;
	len = size - 2;
	if (data[0] & 2) {
		uint32_t H = 1 + data[1] % 16;
		size_t want = 48 + ((size_t)(4 + H) * 4 * H + 4 * H + 2 * H + 2) * 4 + 8;

		if (len > want)
			len = want;
	}
	buf = malloc(len ? len : 1);
	if (!buf)
		abort();
	memcpy(buf, data + 2, len);
	if ((data[0] & 1) && len >= 24) {
		memcpy(buf, "PFSELSTM", 8);
		put(buf + 8, 1, 4);
		put(buf + 12, 48, 4);
		put(buf + 20, 4, 4);
	}
	if ((data[0] & 2) && len >= 24)
		put(buf + 16, 1 + data[1] % 16, 4);
	if ((data[0] & 4) && len >= 8)
		put(buf + len - 8, XXH3_64bits(buf, len - 8), 8);

	r = pfse_lstm_load(buf, len, NULL, &m);
	if (r == 0) {
		if (!m || pfse_lstm_hidden(m) == 0 || pfse_lstm_hidden(m) > PFSE_LSTM_HIDDEN_MAX)
			abort();
		/* loaded: it saves back to the same bytes, and forecasts */
		if (pfse_lstm_save(m, NULL, 0, &n) != -ENOSPC || n != len)
			abort();
		out = malloc(n);
		if (!out || pfse_lstm_save(m, out, n, &n) != 0 || memcmp(out, buf, n) != 0)
			abort();
		free(out);
		exercise(m, data, size);
		pfse_lstm_destroy(m);
	} else if (m != (struct pfse_lstm *)(uintptr_t)1 || r >= 0) {
		abort(); /* refused, but the output was touched */
	}
	free(buf);
	return 0;
}
