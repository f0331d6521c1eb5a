/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow table internals shared with the engine (later) and with the tests that compile
 * the library sources in: the 16-bit packet-count encoding of the series and, in
 * PFSE_TEST_HOOKS builds, a hook that forces every key onto one hash (adversarial keys).
 */
#ifndef PFSE_FLOW_TABLE_PRIV_H
#define PFSE_FLOW_TABLE_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pfse/flow_key.h"

/* TCP flag bits (pfse_pkt::tcp_flags), for the table and the engine. */
#define TCP_FIN 0x01u
#define TCP_SYN 0x02u
#define TCP_RST 0x04u
#define TCP_ACK 0x10u

struct pfse_flow_table;
struct pfse_pkt;
struct pfse_flow_masks;

/* Packets per interval on 16 bits: exact below 2048, then 11 significant bits (relative
 * error below 1/2048), saturating at 0xffff (about 4.4e12). */
uint16_t
pfse_ft_pkts_encode(uint64_t v);

uint64_t
pfse_ft_pkts_decode(uint16_t c);

/* What the engine learns of each packet of an update burst (pfse_ft_update_burst_ev()):
 * where its flow's directive is (4 bytes in the record: tier, reason, node; valid until
 * the flow leaves) and, when the packet closed intervals (its bit in masks.samples), the
 * interval that was open before it and what it held; the intervals between closed_iv and
 * open_iv were silent. */
struct pfse_ft_event {
	uint64_t closed_iv;
	uint64_t open_iv;
	uint32_t closed_bytes; /* saturating at 2^32 - 1 */
	uint32_t closed_pkts;
	const uint8_t *dir;    /* tier, reason, node (16 bits, host order) */
};

/* The tier, reason and node at pfse_ft_event::dir. */
static inline void
pfse_ft_dir_read(const uint8_t *dir, uint8_t *tier, uint8_t *reason, uint16_t *node)
{
	*tier = dir[0];
	*reason = dir[1];
	memcpy(node, dir + 2, sizeof(*node));
}

/* pfse_flow_table_update_burst() with per-packet events; arguments as checked there. */
int
pfse_ft_update_burst_ev(struct pfse_flow_table *t, struct pfse_pkt *const pkts[], unsigned n,
			uint32_t flows[], struct pfse_flow_masks *masks, struct pfse_ft_event ev[]);

/* Sets only the node of a valid flow's directive (affinity), nothing else. */
void
pfse_ft_set_node(struct pfse_flow_table *t, uint32_t flow, uint16_t node);

/* The table's interval, ns. */
uint64_t
pfse_ft_interval(const struct pfse_flow_table *t);

/* A valid flow's slot, without checks. */
void *
pfse_ft_slot_fast(struct pfse_flow_table *t, uint32_t flow);

struct pfse_directive;

/* A valid flow's bytes so far, both directions (the directive's cache line). */
uint64_t
pfse_ft_bytes(const struct pfse_flow_table *t, uint32_t flow);

/* A flow's record (two cache lines; every packet's update touches both). */
struct ft_hot {
	/* line 0: touched by every packet */
	struct pfse_flow_key key;
	uint64_t last_seen;
	uint32_t cur_iv;     /* open interval index, modulo 2^32 */
	uint32_t open_pkts;
	uint32_t open_bytes; /* saturating */
	uint8_t tcp_flags;
	uint8_t state;       /* S_* and the timeout kind */
	uint16_t class_id;
	/* line 1 */
	uint64_t bytes[2];
	uint64_t pkts[2];
	uint64_t first_seen;
	uint64_t cookie;
	uint32_t wprev, wnext; /* timing wheel; wnext also threads the free list */
	uint8_t dir_tier, dir_reason;
	uint16_t dir_node;
	uint32_t dir_since_iv; /* interval of the directive, counted from the first one */
};
_Static_assert(sizeof(struct ft_hot) == 128, "hot record is two cache lines");
_Static_assert(offsetof(struct ft_hot, bytes) == 64, "line 0 holds the per-packet fields");
_Static_assert(offsetof(struct ft_hot, dir_reason) == offsetof(struct ft_hot, dir_tier) + 1 &&
		       offsetof(struct ft_hot, dir_node) == offsetof(struct ft_hot, dir_tier) + 2,
	       "the directive's tier, reason and node are 4 bytes (pfse_ft_event::dir)");

/* From a packet's pfse_ft_event::dir: its flow's bytes so far and class id (inline, for
 * the packet path). */
static inline uint64_t
pfse_ft_dir_bytes_class(const uint8_t *dir, uint32_t *class_id)
{
	const struct ft_hot *r =
		(const struct ft_hot *)(const void *)(dir - offsetof(struct ft_hot, dir_tier));

	*class_id = r->class_id;
	return r->bytes[0] + r->bytes[1];
}

/* A valid flow's directive's tier, reason and node. */
void
pfse_ft_directive_tier_node(const struct pfse_flow_table *t, uint32_t flow, uint8_t *tier,
			    uint8_t *reason, uint16_t *node);

/* A valid flow's directive (as pfse_flow_table_info() reports it), without the copy. */
void
pfse_ft_directive(const struct pfse_flow_table *t, uint32_t flow, struct pfse_directive *d);

#ifdef PFSE_TEST_HOOKS
/* Makes every key of `t` hash to `h` (on != 0), as hostile keys would. */
void
pfse_ft_test_force_hash(struct pfse_flow_table *t, int on, uint64_t h);

/* The timing wheel's tick is 2^shift ns: pfse_flow_table_expire(t, now, ...) removes a flow
 * when last_seen + timeout < (now >> shift) << shift, i.e. up to one tick late. */
unsigned
pfse_ft_test_tick_shift(struct pfse_flow_table *t);
#endif

/*
 * pfse_flow_table_next() looking at no more than `max_slots` slots: 0 and the next flow
 * (at or after *iter); -EAGAIN when the slots ran out first (*iter moved past them);
 * -ENOENT at the end of the table (*iter = capacity). Bounds the cost of a scan step on a
 * sparse table.
 */
int
pfse_ft_scan(struct pfse_flow_table *t, uint32_t *iter, uint32_t max_slots, uint32_t *flow);

#endif /* PFSE_FLOW_TABLE_PRIV_H */
