/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for pfse_snapshot_parse(). Input layout:
 *   byte 0: bit 0 writes a valid magic, version, header size and flags and the total
 *           length over the buffer's start; bit 1 a valid checksum at the end. With both
 *           the fuzzer reaches the sections and their own formats.
 *   rest:   the snapshot.
 * A snapshot that parses must serialise back to the same bytes, and its typed sections
 * must load (or be refused cleanly by a history of another shape); one that does not
 * parse must leave *out untouched. Seeds: tests/fuzz/mksnap writes one.
 */
#include <errno.h>
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
sections(struct pfse_snapshot *s)
{
	static struct pfse_history *h;

	if (!h) {
		struct pfse_history_params p;

		pfse_history_params_init(&p);
		p.max_classes = 64;
		p.series_len = 8;
		if (pfse_history_create(&p, &h) < 0)
			abort();
	}
	for (uint32_t i = 0; i < pfse_snapshot_count(s); i++) {
		uint32_t type;
		const char *name;
		const void *d;
		size_t len;

		if (pfse_snapshot_section(s, i, &type, &name, &d, &len) < 0)
			abort();
		if (type == PFSE_SNAP_HISTORY) {
			int r = pfse_snapshot_get_history(s, name, h);

			if (r < 0 && r != -EINVAL && r != -ENOSPC && r != -EBADMSG)
				abort(); /* another shape, too many classes, duplicate keys */
		} else if (type == PFSE_SNAP_LSTM) {
			struct pfse_lstm *m;

			if (pfse_snapshot_get_lstm(s, name, NULL, &m) != 0)
				abort(); /* parse checked it */
			pfse_lstm_destroy(m);
		} else if (type == PFSE_SNAP_MODEL) {
			char backend[PFSE_SNAP_BACKEND_MAX + 1];
			struct pfse_model_params mp;

			pfse_model_params_init(&mp);
			if (pfse_snapshot_get_model(s, name, backend, &mp) != 0 ||
			    strlen(backend) == 0)
				abort();
		} else if (type < PFSE_SNAP_USER) {
			abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pfse_snapshot *s = (struct pfse_snapshot *)(uintptr_t)8;
	uint8_t *buf, *out;
	size_t len, n;
	int r;

	if (size < 1)
		return 0;
	len = size - 1;
	buf = malloc(len ? len : 1);
	if (!buf)
		abort();
	memcpy(buf, data + 1, len);
	if ((data[0] & 1) && len >= 32) {
		memcpy(buf, "PFSESNAP", 8);
		put(buf + 8, 1, 4);
		put(buf + 12, 32, 4);
		put(buf + 20, 0, 4);
		put(buf + 24, len, 8);
	}
	if ((data[0] & 2) && len >= 8)
		put(buf + len - 8, XXH3_64bits(buf, len - 8), 8);
	r = pfse_snapshot_parse(buf, len, NULL, &s);
	if (r == 0) {
		if (pfse_snapshot_serialize(s, NULL, 0, &n) != -ENOSPC || n != len)
			abort();
		out = malloc(n);
		if (!out || pfse_snapshot_serialize(s, out, n, &n) != 0 ||
		    memcmp(out, buf, n) != 0)
			abort();
		free(out);
		sections(s);
		pfse_snapshot_destroy(s);
	} else if (s != (struct pfse_snapshot *)(uintptr_t)8 || r >= 0) {
		abort();
	}
	free(buf);
	return 0;
}
