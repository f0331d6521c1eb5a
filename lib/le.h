/* SPDX-License-Identifier: BSD-3-Clause */
/* Little-endian field readers and writers of the serialised formats (history, LSTM model
 * files, snapshots): each moves its cursor past the field. */
#ifndef PFSE_LE_H
#define PFSE_LE_H

#include <stdint.h>
#include <string.h>

static inline void
put32(uint8_t **p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		*(*p)++ = (uint8_t)(v >> (8 * i));
}

static inline void
put64(uint8_t **p, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		*(*p)++ = (uint8_t)(v >> (8 * i));
}

static inline void
putd(uint8_t **p, double d)
{
	uint64_t v;

	memcpy(&v, &d, 8);
	put64(p, v);
}

static inline uint32_t
get32(const uint8_t **p)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < 4; i++)
		v |= (uint32_t)(*p)[i] << (8 * i);
	*p += 4;
	return v;
}

static inline uint64_t
get64(const uint8_t **p)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)(*p)[i] << (8 * i);
	*p += 8;
	return v;
}

static inline double
getd(const uint8_t **p)
{
	uint64_t v = get64(p);
	double d;

	memcpy(&d, &v, 8);
	return d;
}

#endif /* PFSE_LE_H */
