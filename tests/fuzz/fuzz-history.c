/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for pfse_history_load(). Input layout:
 *   byte 0: bit 0 writes a valid magic, version and header size over the buffer's start;
 *           bit 1 writes the parameters the history expects (interval, elephant size,
 *           series length) and the class count the length implies; bit 2 writes a valid
 *           checksum at the end. With all three the fuzzer reaches the per-class checks.
 *   rest:   the serialised history.
 * A history that loads must save back to the same bytes, answer prior() for each of its
 * classes and classify a new key; one that does not load must be left as it was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include <pfse/pfse.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SERIES_LEN 4u
#define CLASS_BYTES (80u + 3u * PFSE_HIST_BINS * 4u + SERIES_LEN * 8u)

static void
put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pfse_history *h;
	static uint8_t *empty;
	static size_t empty_len;
	struct pfse_flow_key k;
	uint8_t *buf, *out;
	size_t len, n;
	uint32_t slot;
	int r;

	if (!h) {
		struct pfse_history_params p;

		pfse_history_params_init(&p);
		p.max_classes = 8;
		p.series_len = SERIES_LEN;
		if (pfse_history_create(&p, &h) < 0)
			abort();
		pfse_history_save(h, NULL, 0, &empty_len);
		empty = malloc(empty_len);
		if (!empty || pfse_history_save(h, empty, empty_len, &empty_len) < 0)
			abort();
	}
	if (size < 1)
		return 0;
	len = size - 1;
	buf = malloc(len ? len : 1);
	if (!buf)
		abort();
	memcpy(buf, data + 1, len);
	if ((data[0] & 1) && len >= 16) {
		memcpy(buf, "PFSEHIS1", 8);
		put(buf + 8, 1, 4);
		put(buf + 12, 40, 4);
	}
	if ((data[0] & 2) && len >= 40) {
		put(buf + 16, 100000000ull, 8);
		put(buf + 24, 1ull << 20, 8);
		put(buf + 32, SERIES_LEN, 4);
		put(buf + 36, len >= 48 ? (len - 48) / CLASS_BYTES : 0, 4);
	}
	if ((data[0] & 4) && len >= 8)
		put(buf + len - 8, XXH3_64bits(buf, len - 8), 8);

	r = pfse_history_load(h, buf, len);
	pfse_history_save(h, NULL, 0, &n);
	out = malloc(n);
	if (!out || pfse_history_save(h, out, n, &n) < 0)
		abort();
	if (r == 0) {
		/* loaded: it saves back to the same bytes, and works */
		if (n != len || memcmp(out, buf, n) != 0)
			abort();
		for (uint32_t s = 0; s < 8; s++) {
			struct pfse_class_prior pr;

			pr.size = sizeof(pr);
			r = pfse_history_prior(h, s, &pr);
			if (r == 0 && !(pr.p_elephant > 0 && pr.p_elephant <= 1 && pr.rate >= 0))
				abort();
		}
		pfse_flow_key_set(&k, PFSE_FAMILY_IPV4, "\x01\x02\x03\x04", "\x05\x06\x07\x08",
				  1234, 80, 6, 0);
		if (pfse_history_classify(h, &k, &slot, NULL) < 0 || slot >= 8)
			abort();
		/* back to empty for the next input */
		if (pfse_history_load(h, empty, empty_len) != 0)
			abort();
	} else if (n != empty_len || memcmp(out, empty, n) != 0) {
		abort(); /* a refused buffer changed the history */
	}
	free(out);
	free(buf);
	return 0;
}
