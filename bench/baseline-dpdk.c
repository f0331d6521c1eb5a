/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK baselines for pfse-bench (see baseline-dpdk.h).
 *
 * Parse baseline: DPDK's software packet-type parser, rte_net_get_ptype(), which walks
 * L2 (VLAN/QinQ/MPLS), L3 (options, extension headers) and L4 exactly as far as our
 * parser does and reports header lengths; we then copy addresses and ports into a
 * 40-byte key, which is what the libpfse parser outputs. It runs on mbufs, as DPDK
 * applications do.
 */
#define _GNU_SOURCE /* DPDK headers need GNU extensions */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_net.h>

#include "baseline-dpdk.h"

static struct rte_mempool *pool;
static struct rte_mbuf **mbufs;
static unsigned nmbufs;

int
baseline_dpdk_init(const char *prog)
{
	static int done;
	char *argv[] = {
		(char *)prog, (char *)"--no-huge", (char *)"--no-pci", (char *)"-l",
		(char *)"0", (char *)"-m", (char *)"3072", (char *)"--log-level=*:error",
		(char *)"--no-telemetry", (char *)"--no-shconf", NULL,
	};

	if (done)
		return done > 0 ? 0 : -1;
	if (rte_eal_init(10, argv) < 0) {
		done = -1;
		return -1;
	}
	done = 1;
	return 0;
}

int
baseline_dpdk_parse_setup(const struct bench_frame *frames, unsigned n)
{
	if (!pool) {
		pool = rte_pktmbuf_pool_create("pfse_bench", 16383, 0, 0,
					       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		if (!pool)
			return -1;
	}
	if (mbufs) {
		for (unsigned i = 0; i < nmbufs; i++)
			rte_pktmbuf_free(mbufs[i]);
		free(mbufs);
	}
	mbufs = calloc(n, sizeof(*mbufs));
	nmbufs = 0;
	if (!mbufs)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = frames[i].caplen;
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		char *p;

		if (!m)
			return -1;
		if (len > rte_pktmbuf_tailroom(m))
			len = rte_pktmbuf_tailroom(m);
		p = rte_pktmbuf_append(m, (uint16_t)len);
		memcpy(p, frames[i].data, len);
		mbufs[nmbufs++] = m;
	}
	return 0;
}

struct bkey {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t proto, family;
	uint16_t zone;
};

/* Output keys of one burst, reused like the libpfse side's pkt array. */
static struct bkey out[64];

static inline uint64_t
extract(const struct rte_mbuf *m, struct bkey *kp)
{
	struct rte_net_hdr_lens hl;
	uint32_t pt = rte_net_get_ptype(m, &hl, RTE_PTYPE_ALL_MASK);
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	struct bkey k;

	memset(&k, 0, sizeof(k));
	if (RTE_ETH_IS_IPV4_HDR(pt)) {
		const uint8_t *ip = d + hl.l2_len;

		memcpy(k.src, ip + 12, 4);
		memcpy(k.dst, ip + 16, 4);
		k.proto = ip[9];
		k.family = 4;
	} else if (RTE_ETH_IS_IPV6_HDR(pt)) {
		const uint8_t *ip = d + hl.l2_len;

		memcpy(k.src, ip + 8, 16);
		memcpy(k.dst, ip + 24, 16);
		k.proto = ip[6];
		k.family = 6;
	} else {
		*kp = k;
		return pt;
	}
	if ((pt & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_TCP ||
	    (pt & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_UDP ||
	    (pt & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_SCTP) {
		const uint8_t *l4 = d + hl.l2_len + hl.l3_len;

		memcpy(&k.sport, l4, 2);
		memcpy(&k.dport, l4 + 2, 2);
	}
	*kp = k;
	return pt ^ k.sport ^ ((uint64_t)k.dport << 16) ^ ((uint64_t)k.src[3] << 32) ^
	       ((uint64_t)k.dst[15] << 40);
}

uint64_t
baseline_dpdk_parse_run(unsigned n, unsigned burst)
{
	uint64_t sum = 0;

	if (n > nmbufs)
		n = nmbufs;
	for (unsigned i = 0; i + burst <= n; i += burst)
		for (unsigned j = 0; j < burst; j++)
			sum += extract(mbufs[i + j], &out[j]);
	return sum;
}

uint64_t
baseline_dpdk_hash_run(const void *keys, unsigned n, uint32_t seed)
{
	const uint8_t *k = keys;
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += rte_hash_crc(k + 40 * (size_t)i, 40, seed);
	return sum;
}

/* ---- rte_hash baseline for the flow table cases ---- */

#include <rte_hash.h>
#include <rte_malloc.h>

static struct rte_hash *bh;
static struct baseline_flow *bvals;

static size_t
heap_used(void)
{
	struct rte_malloc_socket_stats s;
	size_t used = 0;

	for (int sock = 0; sock < RTE_MAX_NUMA_NODES; sock++)
		if (rte_malloc_get_socket_stats(sock, &s) == 0)
			used += s.heap_allocsz_bytes;
	return used;
}

int
baseline_dpdk_table_create(unsigned entries, size_t *bytes)
{
	struct rte_hash_parameters p;
	size_t before = heap_used();

	memset(&p, 0, sizeof(p));
	p.name = "pfse_bench_flows";
	p.entries = entries;
	p.key_len = 40;
	p.hash_func = rte_hash_crc;
	p.hash_func_init_val = 0x5eed;
	p.socket_id = SOCKET_ID_ANY;
	bh = rte_hash_create(&p);
	if (!bh)
		return -1;
	bvals = rte_zmalloc("pfse_bench_vals", (size_t)entries * sizeof(*bvals), 64);
	if (!bvals) {
		rte_hash_free(bh);
		bh = NULL;
		return -1;
	}
	*bytes = heap_used() - before;
	return 0;
}

void
baseline_dpdk_table_destroy(void)
{
	rte_hash_free(bh);
	rte_free(bvals);
	bh = NULL;
	bvals = NULL;
}

unsigned
baseline_dpdk_table_insert(const uint8_t *keys, unsigned n)
{
	unsigned added = 0;

	for (unsigned i = 0; i < n; i++)
		if (rte_hash_add_key_data(bh, keys + 40 * (size_t)i, &bvals[i]) == 0)
			added++;
	return added;
}

uint64_t
baseline_dpdk_table_run(const uint8_t *keys, const uint32_t *idx, unsigned nidx,
			unsigned burst, uint64_t ts, int update)
{
	const void *kp[64];
	void *data[64];
	uint64_t hits = 0;

	for (unsigned i = 0; i + burst <= nidx; i += burst) {
		uint64_t mask = 0;

		for (unsigned j = 0; j < burst; j++)
			kp[j] = keys + 40 * (size_t)(idx ? idx[i + j] : i + j);
		rte_hash_lookup_bulk_data(bh, kp, burst, &mask, data);
		hits += (uint64_t)__builtin_popcountll(mask);
		if (!update)
			continue;
		for (unsigned j = 0; j < burst; j++) {
			struct baseline_flow *v = data[j];

			if (!(mask & (1ull << j)))
				continue;
			v->pkts[j & 1]++;
			v->bytes[j & 1] += 100 + j;
			v->last_seen = ts;
		}
		ts += 1000;
	}
	return hits;
}
