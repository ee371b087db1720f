// SPDX-License-Identifier: MIT
/*
 * test_ring.c - the virtqueue, driver side and device side talking in one
 * process over one memory block, for every ring layout and feature set.
 * The driver lays the ring out at a guest-physical address; the device
 * reaches it only through a gmem window, as vnet-host does.
 *
 * One body per case runs over a table of configurations (as liburing's
 * tests loop over ring setups): each configuration is a cmocka group named
 * after it ("split+EVENT_IDX", "packed+INDIRECT", ...) and holds every
 * case that applies to it.  Cases that look at one layout's ring words
 * (a packed wrap counter, a split avail index) are named split_* or
 * packed_* and run only for that layout.  Packed rings also run sizes
 * that are not a power of two (255, 7, 5); split rings round those up.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/gmem.h"
#include "common/log.h"
#include "common/ring/vq.h"
#include "tests/unit/support/ring_cases.h"

#define GPA_BASE	0x40000000ull	/* unlike any local address */
#define MEM_BYTES	(2u << 20)
#define RING_AREA	(1u << 20)	/* ring first, buffers after it */
#define SLOT_BYTES	2048u
#define NSLOTS		((MEM_BYTES - RING_AREA) / SLOT_BYTES)

#define F_AVAIL VIRTQ_PACKED_DESC_F_AVAIL
#define F_USED	VIRTQ_PACKED_DESC_F_USED

/* ---- configurations -------------------------------------------------- */

static const struct ring_cfg configs[] = {
	{ "split", VQ_SPLIT, 0 },
	{ "split+EVENT_IDX", VQ_SPLIT, VQ_F_EVENT_IDX },
	{ "split+INDIRECT", VQ_SPLIT, VQ_F_INDIRECT },
	{ "split+EVENT_IDX+INDIRECT", VQ_SPLIT, VQ_F_EVENT_IDX | VQ_F_INDIRECT },
	{ "packed", VQ_PACKED, 0 },
	{ "packed+EVENT_IDX", VQ_PACKED, VQ_F_EVENT_IDX },
	{ "packed+INDIRECT", VQ_PACKED, VQ_F_INDIRECT },
	{ "packed+EVENT_IDX+INDIRECT", VQ_PACKED, VQ_F_EVENT_IDX | VQ_F_INDIRECT },
	{ "split+IN_ORDER", VQ_SPLIT, VQ_F_IN_ORDER },
	{ "split+EVENT_IDX+INDIRECT+IN_ORDER", VQ_SPLIT,
	  VQ_F_EVENT_IDX | VQ_F_INDIRECT | VQ_F_IN_ORDER },
	{ "packed+IN_ORDER", VQ_PACKED, VQ_F_IN_ORDER },
	{ "packed+EVENT_IDX+INDIRECT+IN_ORDER", VQ_PACKED,
	  VQ_F_EVENT_IDX | VQ_F_INDIRECT | VQ_F_IN_ORDER },
};

/* Indirect tables when a case names no size of its own. */
#define DEFAULT_INDIRECT_MAX 8

/* ---- a driver and a device over one block ------------------------------ */

struct pair {
	const struct ring_cfg *cfg;
	uint16_t size;		/* as opened (split: rounded up to 2^n) */
	uint16_t indirect_max;	/* 0 unless INDIRECT is negotiated */
	uint8_t *mem;
	uint64_t gpa;
	struct gmem gm;
	struct vq_drv drv;
	struct vq_dev dev;
	struct vq_buf bufs[64];
	struct vq_chain ch;
};

static bool is_packed(const struct pair *p)
{
	return p->cfg->layout == VQ_PACKED;
}

/* Split rings need a power-of-two size (2.7); packed take any (2.8). */
static uint16_t ring_size(const struct ring_cfg *cfg, uint16_t size)
{
	uint32_t s = 1;

	if (cfg->layout == VQ_PACKED)
		return size;
	while (s < size)
		s <<= 1;
	return (uint16_t)s;
}

/* Ring slots (packed) / descriptors (split) an n-buffer chain takes. */
static unsigned chain_slots(const struct pair *p, unsigned n)
{
	return n > 1 && n <= p->indirect_max ? 1 : n;
}

static void pair_open_at(struct pair *p, const struct ring_cfg *cfg, uint64_t gpa,
			 uint16_t size, uint16_t indirect_max)
{
	struct vq_drv_cfg dcfg = {
		.layout = cfg->layout, .size = ring_size(cfg, size),
		.flags = cfg->flags, .used_align = 4,
	};

	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->size = dcfg.size;
	if (cfg->flags & VQ_F_INDIRECT)
		p->indirect_max = indirect_max ? indirect_max : DEFAULT_INDIRECT_MAX;
	dcfg.indirect_max = p->indirect_max;
	p->mem = aligned_alloc(4096, MEM_BYTES);
	assert_non_null(p->mem);
	memset(p->mem, 0xa5, MEM_BYTES);
	p->gpa = gpa;
	assert_true(vq_drv_mem_size(&dcfg) <= RING_AREA);
	assert_int_equal(vq_drv_init(&p->drv, &dcfg, p->mem, gpa), 0);
	gmem_init(&p->gm);
	assert_int_equal(gmem_add(&p->gm, gpa, MEM_BYTES, p->mem, true), 0);
	assert_int_equal(vq_dev_init(&p->dev, cfg->layout, p->size, cfg->flags,
				     &p->drv.addrs, &p->gm), 0);
	p->ch.bufs = p->bufs;
	p->ch.cap = 64;
}

static void pair_open(struct pair *p, void **state, uint16_t size,
		      uint16_t indirect_max)
{
	pair_open_at(p, ring_cfg_of(state), GPA_BASE, size, indirect_max);
}

static void pair_close(struct pair *p)
{
	assert_false(p->dev.broken);
	assert_false(p->drv.broken);
	vq_drv_free(&p->drv);
	gmem_clear(&p->gm);
	free(p->mem);
}

/* Buffer slot n: local pointer and guest address. */
static uint8_t *slot_ptr(struct pair *p, unsigned n)
{
	return p->mem + RING_AREA + (size_t)(n % NSLOTS) * SLOT_BYTES;
}

static uint64_t slot_gpa(struct pair *p, unsigned n)
{
	return p->gpa + RING_AREA + (uint64_t)(n % NSLOTS) * SLOT_BYTES;
}

static void *tok(unsigned n)
{
	return (void *)(uintptr_t)(n + 1);
}

/* Driver adds one request/response chain in buffer slot n: 8-byte
 * sequence number out, 8-byte reply in. */
static int add_seq(struct pair *p, unsigned n, uint64_t seq)
{
	struct vq_sg sg[2] = {
		{ slot_gpa(p, n), 8 },
		{ slot_gpa(p, n) + 1024, 8 },
	};

	memcpy(slot_ptr(p, n), &seq, 8);
	memset(slot_ptr(p, n) + 1024, 0, 8);
	return vq_drv_add(&p->drv, sg, 1, 1, tok(n));
}

/* Device pops one chain, checks the sequence number, replies ~seq. */
static void serve_seq(struct pair *p, uint64_t expect)
{
	uint64_t seq, reply;

	assert_int_equal(vq_dev_pop(&p->dev, &p->ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p->ch.n_out, 1);
	assert_int_equal(p->ch.n_in, 1);
	assert_int_equal(p->ch.bufs[0].len, 8);
	memcpy(&seq, p->ch.bufs[0].ptr, 8);
	assert_int_equal(seq, expect);
	reply = ~seq;
	memcpy(p->ch.bufs[1].ptr, &reply, 8);
	vq_dev_push(&p->dev, &p->ch, 8);
}

static void reap_seq(struct pair *p, unsigned n, uint64_t seq)
{
	uint32_t len = 0;
	uint64_t reply;

	assert_ptr_equal(vq_drv_get(&p->drv, &len), tok(n));
	assert_int_equal(len, 8);
	memcpy(&reply, slot_ptr(p, n) + 1024, 8);
	assert_int_equal(reply, ~seq);
}

static void one_frame(struct pair *p, uint64_t seq)
{
	assert_int_equal(add_seq(p, 0, seq), 0);
	vq_drv_kick_prepare(&p->drv);
	serve_seq(p, seq);
	vq_dev_flush(&p->dev);
	reap_seq(p, 0, seq);
}

/* Small deterministic generator for the shuffles. */
static uint32_t rng(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

/* Does the device ask for kicks, as the driver reads it (split 2.7.10
 * used->flags, packed 2.8.14 device event structure; no EVENT_IDX)? */
static void assert_device_asks_kicks(struct pair *p, bool want)
{
	if (is_packed(p))
		assert_int_equal(p->drv.packed.device->flags,
				 want ? VIRTQ_PACKED_EVENT_F_ENABLE : VIRTQ_PACKED_EVENT_F_DISABLE);
	else
		assert_int_equal(p->drv.split.used->flags,
				 want ? 0 : VIRTQ_USED_F_NO_NOTIFY);
}

/* ...and the driver for interrupts (split 2.7.7 avail->flags, packed
 * driver event structure; no EVENT_IDX). */
static void assert_driver_asks_interrupts(struct pair *p, bool want)
{
	if (is_packed(p))
		assert_int_equal(p->drv.packed.driver->flags,
				 want ? VIRTQ_PACKED_EVENT_F_ENABLE : VIRTQ_PACKED_EVENT_F_DISABLE);
	else
		assert_int_equal(p->drv.split.avail->flags,
				 want ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* ==== every layout ===================================================== */

/* ---- round trips ----------------------------------------------------- */

static void test_round_trip_request_reply(void **state)
{
	struct pair p;
	unsigned slots;

	pair_open(&p, state, 16, 0);
	slots = chain_slots(&p, 2);
	assert_false(vq_dev_has_avail(&p.dev));
	assert_int_equal(add_seq(&p, 0, 0x1122334455667788ull), 0);
	/* Added but not yet published. */
	assert_false(vq_dev_has_avail(&p.dev));
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 0);
	assert_true(vq_drv_kick_prepare(&p.drv));
	assert_true(vq_dev_has_avail(&p.dev));
	if (is_packed(&p) && slots == 2) {
		/* 2.8.1: available = AVAIL set, USED clear (wrap counter 1). */
		assert_int_equal(p.drv.packed.desc[0].flags & (F_AVAIL | F_USED), F_AVAIL);
		assert_int_equal(p.drv.packed.desc[0].flags & VIRTQ_DESC_F_NEXT,
				 VIRTQ_DESC_F_NEXT);
		assert_int_equal(p.drv.packed.desc[1].flags & (F_AVAIL | F_USED), F_AVAIL);
	}
	serve_seq(&p, 0x1122334455667788ull);
	assert_false(vq_dev_has_avail(&p.dev));
	/* Pushed but not flushed: invisible to the driver. */
	assert_false(vq_drv_has_used(&p.drv));
	assert_null(vq_drv_get(&p.drv, NULL));
	assert_true(vq_dev_flush(&p.dev));
	assert_true(vq_drv_has_used(&p.drv));
	if (is_packed(&p)) {
		/* 2.8.1: used = AVAIL = USED = wrap counter, at the chain's
		 * first slot; WRITE says the length is meaningful (2.8.3). */
		assert_int_equal(p.drv.packed.desc[0].flags,
				 F_AVAIL | F_USED | VIRTQ_DESC_F_WRITE);
		assert_int_equal(p.drv.packed.desc[0].len, 8);
	}
	reap_seq(&p, 0, 0x1122334455667788ull);
	assert_null(vq_drv_get(&p.drv, NULL));
	assert_int_equal(vq_drv_num_free(&p.drv), 16);
	if (is_packed(&p)) {
		assert_int_equal(p.drv.packed.last_used, slots);
		assert_int_equal(p.dev.packed.last_avail, slots);
		assert_int_equal(p.dev.packed.used_idx, slots);
	}
	pair_close(&p);
}

static void test_pop_on_empty_ring_returns_zero(void **state)
{
	struct pair p;

	pair_open(&p, state, 7, 0);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 0);
	assert_false(p.dev.broken);
	assert_false(vq_dev_flush(&p.dev));	/* nothing pushed */
	assert_false(vq_drv_kick_prepare(&p.drv));	/* nothing added */
	pair_close(&p);
}

static void test_multi_buffer_chain(void **state)
{
	struct pair p;
	struct vq_sg sg[5];
	static const uint32_t lens[5] = { 12, 100, 1, 60, 1500 };
	unsigned slots;
	uint32_t len;

	pair_open(&p, state, 16, 0);
	slots = chain_slots(&p, 5);
	for (unsigned k = 0; k < 5; k++) {
		sg[k].gpa = slot_gpa(&p, k);
		sg[k].len = lens[k];
		memset(slot_ptr(&p, k), 0x10 + k, lens[k]);
	}
	assert_int_equal(vq_drv_add(&p.drv, sg, 3, 2, tok(7)), 0);
	assert_int_equal(vq_drv_num_free(&p.drv), 16 - slots);
	vq_drv_kick_prepare(&p.drv);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.n_out, 3);
	assert_int_equal(p.ch.n_in, 2);
	assert_int_equal(p.ch.out_len, 113);
	assert_int_equal(p.ch.in_len, 1560);
	assert_int_equal(p.ch.ndesc, slots);
	for (unsigned k = 0; k < 5; k++) {
		assert_ptr_equal(p.ch.bufs[k].ptr, slot_ptr(&p, k));
		assert_int_equal(p.ch.bufs[k].len, lens[k]);
	}
	assert_int_equal(p.ch.bufs[1].ptr[99], 0x11);
	memset(p.ch.bufs[4].ptr, 0xee, 1500);
	vq_dev_push(&p.dev, &p.ch, 1560);
	vq_dev_flush(&p.dev);
	assert_ptr_equal(vq_drv_get(&p.drv, &len), tok(7));
	assert_int_equal(len, 1560);
	assert_int_equal(slot_ptr(&p, 4)[1499], 0xee);
	assert_int_equal(vq_drv_num_free(&p.drv), 16);
	if (is_packed(&p)) {
		/* One used descriptor for the list; both sides skip its
		 * slots. */
		assert_int_equal(p.drv.packed.last_used, slots);
		assert_int_equal(p.dev.packed.used_idx, slots);
	}
	pair_close(&p);
}

/* A running dirty-page log learns exactly the bytes a push says were
 * written (2.7.8.2), in the chain's writable buffers only, whoever
 * filled them. */
static void test_push_logs_written_bytes(void **state)
{
	struct gmem_log_range all;
	struct pair p;
	struct vq_sg sg[3];
	uint64_t ps = 4096, bits[1];
	char why[160];

	pair_open(&p, state, 16, 0);
	all = (struct gmem_log_range){ p.gpa, MEM_BYTES };
	assert_int_equal(gmem_log_start(&p.gm, &ps, &all, 1, why, sizeof(why)), 0);
	/* Slot k is at RING_AREA + 2 KiB k: page k / 2 of the buffer area. */
	sg[0] = (struct vq_sg){ slot_gpa(&p, 0), 100 };		/* page 0, read */
	sg[1] = (struct vq_sg){ slot_gpa(&p, 4), SLOT_BYTES };	/* page 2 */
	sg[2] = (struct vq_sg){ slot_gpa(&p, 6), SLOT_BYTES };	/* page 3 */
	for (unsigned round = 0; round < 2; round++) {
		/* Round 0 writes into both writable buffers, round 1 none. */
		uint32_t written = round == 0 ? SLOT_BYTES + 1 : 0;

		assert_int_equal(vq_drv_add(&p.drv, sg, 1, 2, tok(round)), 0);
		vq_drv_kick_prepare(&p.drv);
		assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
		vq_dev_push(&p.dev, &p.ch, written);
		vq_dev_flush(&p.dev);
		assert_ptr_equal(vq_drv_get(&p.drv, NULL), tok(round));
		assert_int_equal(gmem_log_report(&p.gm, p.gpa + RING_AREA, 64 * 4096, 4096,
						 bits, 1, why, sizeof(why)), 0);
		assert_int_equal(bits[0], round == 0 ? 0xcu : 0);
	}
	gmem_log_stop(&p.gm);
	pair_close(&p);
}

/* A read-only chain comes back with length 0 (packed: no WRITE flag,
 * 2.8.4). */
static void test_read_only_chain_used_len_zero(void **state)
{
	struct pair p;
	struct vq_sg out = { 0, 64 };
	uint32_t len = 99;

	pair_open(&p, state, 4, 0);
	out.gpa = slot_gpa(&p, 0);
	assert_int_equal(vq_drv_add(&p.drv, &out, 1, 0, tok(0)), 0);
	vq_drv_kick_prepare(&p.drv);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_READ_ONLY), 1);
	vq_dev_push(&p.dev, &p.ch, 0);
	vq_dev_flush(&p.dev);
	if (is_packed(&p))
		assert_int_equal(p.drv.packed.desc[0].flags & VIRTQ_DESC_F_WRITE, 0);
	assert_ptr_equal(vq_drv_get(&p.drv, &len), tok(0));
	assert_int_equal(len, 0);
	pair_close(&p);
}

static void test_chain_kinds_accept_matching_chains(void **state)
{
	struct pair p;
	struct vq_sg out = { 0, 64 }, in = { 0, 64 };

	pair_open(&p, state, 5, 0);
	out.gpa = slot_gpa(&p, 0);
	in.gpa = slot_gpa(&p, 1);
	assert_int_equal(vq_drv_add(&p.drv, &out, 1, 0, tok(0)), 0);
	assert_int_equal(vq_drv_add(&p.drv, &in, 0, 1, tok(1)), 0);
	vq_drv_kick_prepare(&p.drv);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_READ_ONLY), 1);
	assert_int_equal(p.ch.n_in, 0);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_WRITE_ONLY), 1);
	assert_int_equal(p.ch.n_out, 0);
	assert_int_equal(p.ch.in_len, 64);
	assert_false(p.dev.broken);
	pair_close(&p);
}

static void test_zero_length_descriptor_counted(void **state)
{
	struct pair p;
	struct vq_sg sg[2];

	pair_open(&p, state, 8, 0);
	sg[0].gpa = slot_gpa(&p, 0);
	sg[0].len = 0;
	sg[1].gpa = slot_gpa(&p, 1);
	sg[1].len = 4;
	assert_int_equal(vq_drv_add(&p.drv, sg, 1, 1, tok(0)), 0);
	vq_drv_kick_prepare(&p.drv);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.n_out, 1);
	assert_int_equal(p.ch.out_len, 0);
	assert_int_equal(p.ch.bufs[0].len, 0);
	assert_non_null(p.ch.bufs[0].ptr);
	assert_int_equal(p.ch.n_in, 1);
	pair_close(&p);
}

static void test_guest_address_zero_is_valid(void **state)
{
	struct pair p;

	pair_open_at(&p, ring_cfg_of(state), 0, 8, 0);
	assert_int_equal(p.drv.addrs.desc, 0);
	one_frame(&p, 42);
	pair_close(&p);
}

/* ---- out-of-order completion ----------------------------------------- */

/* Many rounds of: add chains of mixed length, pop them all, complete them
 * in a shuffled order (flushing at random points), and check every token
 * and length comes back right. */
static void test_out_of_order_many_laps(void **state)
{
	enum { MAXC = 64 };
	struct pair p;
	struct vq_chain ch[MAXC];
	struct vq_buf bufs[MAXC][4];
	unsigned order[MAXC], nlen[MAXC];
	uint64_t seed = 7, done = 0;

	pair_open(&p, state, 255, 2);
	while (done < 40000) {
		unsigned c = 0;

		for (; c < MAXC; c++) {
			unsigned n = 1 + rng(&seed) % 4;
			struct vq_sg sg[4];

			for (unsigned j = 0; j < n; j++) {
				sg[j].gpa = slot_gpa(&p, c) + 32 * j;
				sg[j].len = 32;
			}
			if (vq_drv_add(&p.drv, sg, n - 1, 1, tok(c)) == -ENOSPC)
				break;
			nlen[c] = 1 + rng(&seed) % 32;
		}
		vq_drv_kick_prepare(&p.drv);
		for (unsigned i = 0; i < c; i++) {
			ch[i] = (struct vq_chain){ .bufs = bufs[i], .cap = 4 };
			assert_int_equal(vq_dev_pop(&p.dev, &ch[i], VQ_CHAIN_ANY), 1);
			order[i] = i;
		}
		for (unsigned i = c; i > 1; i--) {
			unsigned j = rng(&seed) % i, t = order[i - 1];

			order[i - 1] = order[j];
			order[j] = t;
		}
		/* The driver reaps what each flush published, in push order,
		 * while the device still holds the rest. */
		for (unsigned i = 0, r = 0; i < c; i++) {
			vq_dev_push(&p.dev, &ch[order[i]], nlen[order[i]]);
			if (rng(&seed) % 5 && i + 1 < c)
				continue;
			vq_dev_flush(&p.dev);
			for (; r <= i; r++, done++) {
				uint32_t len = 0;

				assert_ptr_equal(vq_drv_get(&p.drv, &len), tok(order[r]));
				assert_int_equal(len, nlen[order[r]]);
			}
			assert_null(vq_drv_get(&p.drv, NULL));
		}
		assert_null(vq_drv_get(&p.drv, NULL));
		assert_int_equal(vq_drv_num_free(&p.drv), p.size);
	}
	pair_close(&p);
}

/* ---- notification suppression ---------------------------------------- */

static void test_device_disable_suppresses_kicks(void **state)
{
	struct pair p;

	pair_open(&p, state, 16, 0);
	assert_false(vq_dev_set_notify(&p.dev, false));
	assert_device_asks_kicks(&p, false);
	for (uint64_t i = 0; i < 100; i++)
		one_frame(&p, i);
	assert_int_equal(p.drv.stats.notify_needed, 0);
	assert_int_equal(p.drv.stats.notify_suppressed, 100);
	assert_false(vq_dev_set_notify(&p.dev, true));
	assert_device_asks_kicks(&p, true);
	assert_int_equal(add_seq(&p, 0, 100), 0);
	assert_true(vq_drv_kick_prepare(&p.drv));
	pair_close(&p);
}

static void test_driver_disable_suppresses_interrupts(void **state)
{
	struct pair p;

	pair_open(&p, state, 16, 0);
	vq_drv_disable_cb(&p.drv);
	assert_driver_asks_interrupts(&p, false);
	for (uint64_t i = 0; i < 100; i++)
		one_frame(&p, i);
	assert_int_equal(p.dev.stats.notify_needed, 0);
	assert_int_equal(p.dev.stats.notify_suppressed, 100);
	assert_true(vq_drv_enable_cb(&p.drv));
	assert_driver_asks_interrupts(&p, true);
	assert_int_equal(add_seq(&p, 0, 100), 0);
	vq_drv_kick_prepare(&p.drv);
	serve_seq(&p, 100);
	assert_true(vq_dev_flush(&p.dev));
	pair_close(&p);
}

/* Without EVENT_IDX and without anyone disabling, every publish signals. */
static void test_enabled_notifies_every_time(void **state)
{
	struct pair p;

	pair_open(&p, state, 16, 0);
	for (uint64_t i = 0; i < 100; i++)
		one_frame(&p, i);
	assert_int_equal(p.drv.stats.notify_needed, 100);
	assert_int_equal(p.dev.stats.notify_needed, 100);
	pair_close(&p);
}

static void test_event_idx_one_kick_per_batch(void **state)
{
	struct pair p;

	pair_open(&p, state, 9, 0);
	assert_false(vq_dev_set_notify(&p.dev, true));
	assert_int_equal(add_seq(&p, 0, 0), 0);
	assert_true(vq_drv_kick_prepare(&p.drv));
	/* The device is busy (has not re-armed): later publishes are quiet,
	 * though its event is still set. */
	assert_int_equal(add_seq(&p, 1, 1), 0);
	assert_false(vq_drv_kick_prepare(&p.drv));
	assert_int_equal(add_seq(&p, 2, 2), 0);
	assert_false(vq_drv_kick_prepare(&p.drv));
	for (uint64_t s = 0; s < 3; s++)
		serve_seq(&p, s);
	/* Drained, re-armed, nothing new: it may sleep... */
	assert_false(vq_dev_set_notify(&p.dev, true));
	/* ...and the next publish kicks it. */
	assert_int_equal(add_seq(&p, 3, 3), 0);
	assert_true(vq_drv_kick_prepare(&p.drv));
	pair_close(&p);
}

static void test_set_notify_reports_late_arrival(void **state)
{
	struct pair p;

	pair_open(&p, state, 16, 0);
	assert_false(vq_dev_set_notify(&p.dev, true));
	assert_int_equal(add_seq(&p, 0, 0), 0);
	vq_drv_kick_prepare(&p.drv);
	/* Arrived while the device was deciding to sleep: must poll. */
	assert_true(vq_dev_set_notify(&p.dev, true));
	pair_close(&p);
}

static void test_event_idx_interrupts_suppressed(void **state)
{
	struct pair p;

	pair_open(&p, state, 16, 0);
	vq_drv_disable_cb(&p.drv);
	if (!is_packed(&p))	/* 2.7.7.1: flags stay 0 with EVENT_IDX */
		assert_int_equal(p.drv.split.avail->flags, 0);
	for (uint64_t i = 0; i < 1000; i++)
		one_frame(&p, i);
	assert_int_equal(p.dev.stats.notify_needed, 0);
	assert_int_equal(p.dev.stats.notify_suppressed, 1000);
	/* Re-enabled with nothing pending: the next used buffer interrupts,
	 * the ones after it (not re-enabled) do not. */
	assert_true(vq_drv_enable_cb(&p.drv));
	if (is_packed(&p)) {	/* 2.8.14: DESC at last_used */
		assert_int_equal(p.drv.packed.driver->flags, VIRTQ_PACKED_EVENT_F_DESC);
		assert_int_equal(p.drv.packed.driver->off_wrap,
				 p.drv.packed.last_used | (p.drv.packed.used_wrap ? 0x8000 : 0));
	}
	one_frame(&p, 1000);
	one_frame(&p, 1001);
	one_frame(&p, 1002);
	assert_int_equal(p.dev.stats.notify_needed, 1);
	assert_int_equal(p.dev.stats.notify_suppressed, 1002);
	pair_close(&p);
}

static void test_event_idx_one_interrupt_per_flush_batch(void **state)
{
	struct pair p;

	pair_open(&p, state, 16, 0);
	assert_true(vq_drv_enable_cb(&p.drv));
	for (unsigned k = 0; k < 8; k++)
		assert_int_equal(add_seq(&p, k, k), 0);
	vq_drv_kick_prepare(&p.drv);
	for (unsigned k = 0; k < 4; k++)
		serve_seq(&p, k);
	assert_true(vq_dev_flush(&p.dev));
	for (unsigned k = 4; k < 8; k++)
		serve_seq(&p, k);
	/* The driver has not consumed or re-enabled: no second interrupt. */
	assert_false(vq_dev_flush(&p.dev));
	pair_close(&p);
}

static void test_enable_cb_reports_pending(void **state)
{
	struct pair p;

	pair_open(&p, state, 16, 0);
	vq_drv_disable_cb(&p.drv);
	assert_int_equal(add_seq(&p, 0, 5), 0);
	vq_drv_kick_prepare(&p.drv);
	serve_seq(&p, 5);
	vq_dev_flush(&p.dev);
	assert_false(vq_drv_enable_cb(&p.drv));	/* must not sleep */
	reap_seq(&p, 0, 5);
	assert_true(vq_drv_enable_cb(&p.drv));
	pair_close(&p);
}

/* ---- indirect ------------------------------------------------------- */

static void test_indirect_uses_one_descriptor(void **state)
{
	struct pair p;
	struct vq_sg sg[3];
	uint32_t len;

	pair_open(&p, state, 5, 8);
	for (unsigned k = 0; k < 3; k++) {
		sg[k].gpa = slot_gpa(&p, k);
		sg[k].len = 100 + k;
		memset(slot_ptr(&p, k), 0x30 + k, 100 + k);
	}
	assert_int_equal(vq_drv_add(&p.drv, sg, 2, 1, tok(3)), 0);
	assert_int_equal(vq_drv_num_free(&p.drv), p.size - 1);
	vq_drv_kick_prepare(&p.drv);
	if (is_packed(&p)) {
		const struct virtq_packed_desc *table;

		/* 2.8.7: one ring descriptor pointing at a table of packed
		 * descriptors, WRITE the only flag in it. */
		assert_int_equal(p.drv.packed.desc[0].flags,
				 VIRTQ_DESC_F_INDIRECT | F_AVAIL);
		assert_int_equal(p.drv.packed.desc[0].len, 3 * 16);
		table = (const struct virtq_packed_desc *)(const void *)
			(p.mem + (p.drv.packed.desc[0].addr - GPA_BASE));
		assert_int_equal(table[0].flags, 0);
		assert_int_equal(table[2].flags, VIRTQ_DESC_F_WRITE);
		assert_int_equal(table[1].addr, slot_gpa(&p, 1));
	} else {
		uint16_t head = p.drv.split.avail->ring[0];

		/* 2.7.5.3: one descriptor, INDIRECT, a 3-entry table. */
		assert_int_equal(p.drv.split.desc[head].flags, VIRTQ_DESC_F_INDIRECT);
		assert_int_equal(p.drv.split.desc[head].len, 3 * 16);
	}
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.ndesc, 1);
	if (is_packed(&p))
		assert_int_equal(p.ch.id, p.drv.packed.desc[0].id);
	else
		assert_int_equal(p.ch.id, p.drv.split.avail->ring[0]);
	assert_int_equal(p.ch.n_out, 2);
	assert_int_equal(p.ch.n_in, 1);
	assert_int_equal(p.ch.out_len, 201);
	assert_int_equal(p.ch.in_len, 102);
	for (unsigned k = 0; k < 3; k++)
		assert_ptr_equal(p.ch.bufs[k].ptr, slot_ptr(&p, k));
	assert_int_equal(p.ch.bufs[1].ptr[100], 0x31);
	memset(p.ch.bufs[2].ptr, 0x77, 102);
	vq_dev_push(&p.dev, &p.ch, 102);
	vq_dev_flush(&p.dev);
	assert_ptr_equal(vq_drv_get(&p.drv, &len), tok(3));
	assert_int_equal(len, 102);
	assert_int_equal(slot_ptr(&p, 2)[101], 0x77);
	assert_int_equal(vq_drv_num_free(&p.drv), p.size);
	pair_close(&p);
}

static void test_indirect_not_used_for_single_or_oversized(void **state)
{
	struct pair p;
	struct vq_sg sg[5];

	pair_open(&p, state, 16, 4);
	for (unsigned k = 0; k < 5; k++) {
		sg[k].gpa = slot_gpa(&p, k);
		sg[k].len = 64;
	}
	assert_int_equal(vq_drv_add(&p.drv, sg, 1, 0, tok(0)), 0);
	assert_int_equal(vq_drv_num_free(&p.drv), 15);
	assert_int_equal(vq_drv_add(&p.drv, sg, 3, 2, tok(1)), 0);	/* 5 > 4 */
	assert_int_equal(vq_drv_num_free(&p.drv), 10);
	vq_drv_kick_prepare(&p.drv);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.ndesc, 1);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.ndesc, 5);
	assert_int_equal(p.ch.n_out + p.ch.n_in, 5);
	pair_close(&p);
}

static void test_indirect_many_round_trips(void **state)
{
	struct pair p;

	pair_open(&p, state, 8, 4);
	for (uint64_t i = 0; i < 3000; i++) {
		unsigned n = (unsigned)(i % 8);

		assert_int_equal(add_seq(&p, n, i), 0);
		if (n == 7) {
			vq_drv_kick_prepare(&p.drv);
			for (uint64_t s = i - 7; s <= i; s++)
				serve_seq(&p, s);
			vq_dev_flush(&p.dev);
			for (uint64_t s = i - 7; s <= i; s++)
				reap_seq(&p, (unsigned)(s % 8), s);
		}
	}
	assert_false(p.dev.broken);
	pair_close(&p);
}

/* ---- flow control and driver API errors ------------------------------ */

static void test_add_rejects_bad_arguments(void **state)
{
	struct pair p;
	struct vq_sg sg[9];

	pair_open(&p, state, 8, 0);
	for (unsigned k = 0; k < 9; k++) {
		sg[k].gpa = slot_gpa(&p, k);
		sg[k].len = 16;
	}
	assert_int_equal(vq_drv_add(&p.drv, sg, 0, 0, tok(0)), -EINVAL);
	assert_int_equal(vq_drv_add(&p.drv, sg, 5, 4, tok(0)), -EINVAL);
	assert_int_equal(vq_drv_add(&p.drv, sg, 1, 0, NULL), -EINVAL);
	sg[0].gpa = UINT64_MAX - 4;
	assert_int_equal(vq_drv_add(&p.drv, sg, 1, 0, tok(0)), -EINVAL);
	assert_int_equal(vq_drv_num_free(&p.drv), 8);
	assert_false(p.drv.broken);
	assert_false(vq_drv_kick_prepare(&p.drv));
	pair_close(&p);
}

static void test_pop_enobufs_keeps_chain(void **state)
{
	struct pair p;
	struct vq_sg sg[4];
	struct vq_buf small[2];
	struct vq_chain ch = { .bufs = small, .cap = 2 };

	pair_open(&p, state, 8, 0);
	for (unsigned k = 0; k < 4; k++) {
		sg[k].gpa = slot_gpa(&p, k);
		sg[k].len = 16;
	}
	assert_int_equal(vq_drv_add(&p.drv, sg, 4, 0, tok(0)), 0);
	vq_drv_kick_prepare(&p.drv);
	assert_int_equal(vq_dev_pop(&p.dev, &ch, VQ_CHAIN_ANY), -ENOBUFS);
	assert_false(p.dev.broken);
	assert_true(vq_dev_has_avail(&p.dev));
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.n_out, 4);
	pair_close(&p);
}

/* ---- bursts ------------------------------------------------------------ */

/* A burst takes what is available (up to n) in one call, lays the
 * chains' buffers out one after another in the pool, and a push burst
 * uses them in order with their lengths. */
static void test_pop_burst_takes_chains_in_order(void **state)
{
	struct pair p;
	struct vq_chain ch[8];
	struct vq_buf pool[16];
	static const uint32_t lens[5] = { 3, 0, 8, 1, 5 };
	uint32_t len;

	pair_open(&p, state, 16, 0);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(add_seq(&p, i, 100 + i), 0);
	vq_drv_kick_prepare(&p.drv);
	assert_int_equal(vq_dev_pop_burst(&p.dev, ch, 8, pool, 16, VQ_CHAIN_ANY), 5);
	for (unsigned i = 0; i < 5; i++) {
		uint64_t seq;

		assert_ptr_equal(ch[i].bufs, pool + 2 * i);
		assert_int_equal(ch[i].n_out, 1);
		assert_int_equal(ch[i].n_in, 1);
		memcpy(&seq, ch[i].bufs[0].ptr, 8);
		assert_int_equal(seq, 100 + i);
	}
	assert_int_equal(vq_dev_pop_burst(&p.dev, ch, 8, pool, 16, VQ_CHAIN_ANY), 0);
	vq_dev_push_burst(&p.dev, ch, 5, lens);
	vq_dev_flush(&p.dev);
	for (unsigned i = 0; i < 5; i++) {
		assert_ptr_equal(vq_drv_get(&p.drv, &len), tok(i));
		assert_int_equal(len, lens[i]);
	}
	assert_null(vq_drv_get(&p.drv, NULL));
	pair_close(&p);
}

/* The pool bounds the burst: a chain that does not fit what is left
 * ends it and stays available; one that does not fit an empty pool is
 * -ENOBUFS, as for vq_dev_pop. */
static void test_pop_burst_stops_at_full_pool(void **state)
{
	struct pair p;
	struct vq_chain ch[4];
	struct vq_buf pool[3];

	pair_open(&p, state, 16, 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(add_seq(&p, i, i), 0);
	vq_drv_kick_prepare(&p.drv);
	/* Two buffers each (or one descriptor each, indirect): three fit
	 * only when the pool has six entries. */
	assert_int_equal(vq_dev_pop_burst(&p.dev, ch, 4, pool, 3, VQ_CHAIN_ANY), 1);
	assert_int_equal(vq_dev_pop_burst(&p.dev, ch + 1, 3, pool, 1, VQ_CHAIN_ANY), -ENOBUFS);
	assert_false(p.dev.broken);
	assert_int_equal(vq_dev_pop_burst(&p.dev, ch + 1, 3, pool, 3, VQ_CHAIN_ANY), 1);
	assert_int_equal(vq_dev_pop_burst(&p.dev, ch + 2, 2, pool, 3, VQ_CHAIN_ANY), 1);
	assert_int_equal(vq_dev_pop_burst(&p.dev, ch + 3, 1, pool, 3, VQ_CHAIN_ANY), 0);
	vq_dev_push_burst(&p.dev, ch, 3, NULL);
	vq_dev_flush(&p.dev);
	for (unsigned i = 0; i < 3; i++)
		assert_ptr_equal(vq_drv_get(&p.drv, NULL), tok(i));
	pair_close(&p);
}

/* A malformed chain inside a burst ends it with the chains before it;
 * the queue is then broken and the next burst says so. */
static void test_pop_burst_malformed_chain_ends_burst(void **state)
{
	struct pair p;
	struct vq_chain ch[4];
	struct vq_buf pool[16];
	struct vq_sg bad = { 0x10, 64 };	/* outside guest memory */

	pair_open(&p, state, 16, 0);
	assert_int_equal(add_seq(&p, 0, 1), 0);
	assert_int_equal(vq_drv_add(&p.drv, &bad, 1, 0, tok(1)), 0);
	vq_drv_kick_prepare(&p.drv);
	assert_int_equal(vq_dev_pop_burst(&p.dev, ch, 4, pool, 16, VQ_CHAIN_ANY), 1);
	assert_true(p.dev.broken);
	assert_non_null(strstr(p.dev.reason, "outside guest memory"));
	assert_int_equal(vq_dev_pop_burst(&p.dev, ch, 4, pool, 16, VQ_CHAIN_ANY), -EIO);
	vq_drv_free(&p.drv);
	gmem_clear(&p.gm);
	free(p.mem);
}

/* ---- driver bursts ------------------------------------------------------ */

static void add_n(struct pair *p, unsigned n);

/* n request/reply chains (8 bytes out, 8 in) in slots first.., sequence
 * numbers seq0.., as add_seq lays them out, into sg[2 * n] and tok[n]. */
static void burst_chains(struct pair *p, unsigned first, unsigned n, uint64_t seq0,
			 struct vq_sg *sg, void **tk)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t seq = seq0 + i;

		sg[2 * i] = (struct vq_sg){ slot_gpa(p, first + i), 8 };
		sg[2 * i + 1] = (struct vq_sg){ slot_gpa(p, first + i) + 1024, 8 };
		memcpy(slot_ptr(p, first + i), &seq, 8);
		tk[i] = tok(first + i);
	}
}

/* A burst of chains is invisible until kick_prepare, which publishes it
 * whole with one decision (split: one avail index store; packed: the
 * first chain's flags last, the others already written, 2.8.21); the
 * device takes them in order, and get_burst hands them back in order
 * with their lengths, IN_ORDER batches included. */
static void test_add_burst_then_get_burst(void **state)
{
	struct pair p;
	struct vq_sg sg[10];
	void *tk[5], *got[8];
	struct vq_chain ch[8];
	struct vq_buf pool[16];
	static const uint32_t lens[5] = { 3, 0, 8, 1, 5 };
	uint32_t glen[8];
	uint64_t decisions;

	pair_open(&p, state, 16, 0);
	burst_chains(&p, 0, 5, 100, sg, tk);
	assert_int_equal(vq_drv_add_burst(&p.drv, sg, 1, 1, tk, 5), 5);
	assert_int_equal(vq_drv_num_free(&p.drv), 16 - 5 * chain_slots(&p, 2));
	assert_false(vq_dev_has_avail(&p.dev));
	if (is_packed(&p)) {
		/* The burst's first flags wait; the second chain's are out. */
		unsigned second = chain_slots(&p, 2);

		assert_int_equal(p.drv.packed.desc[0].flags & (F_AVAIL | F_USED), 0);
		assert_int_equal(p.drv.packed.desc[second].flags & (F_AVAIL | F_USED), F_AVAIL);
	} else {
		assert_int_equal(p.drv.split.avail->idx, 0);
	}
	decisions = p.drv.stats.notify_needed + p.drv.stats.notify_suppressed;
	assert_true(vq_drv_kick_prepare(&p.drv));
	assert_int_equal(p.drv.stats.notify_needed + p.drv.stats.notify_suppressed,
			 decisions + 1);
	if (!is_packed(&p))
		assert_int_equal(p.drv.split.avail->idx, 5);
	assert_int_equal(vq_dev_pop_burst(&p.dev, ch, 8, pool, 16, VQ_CHAIN_ANY), 5);
	for (unsigned i = 0; i < 5; i++) {
		uint64_t seq;

		assert_int_equal(ch[i].n_out, 1);
		assert_int_equal(ch[i].n_in, 1);
		memcpy(&seq, ch[i].bufs[0].ptr, 8);
		assert_int_equal(seq, 100 + i);
	}
	vq_dev_push_burst(&p.dev, ch, 5, lens);
	assert_int_equal(vq_drv_get_burst(&p.drv, got, glen, 8), 0);	/* not flushed */
	vq_dev_flush(&p.dev);
	assert_int_equal(vq_drv_get_burst(&p.drv, got, glen, 8), 5);
	for (unsigned i = 0; i < 5; i++) {
		assert_ptr_equal(got[i], tok(i));
		assert_int_equal(glen[i], lens[i]);
	}
	assert_int_equal(vq_drv_get_burst(&p.drv, got, NULL, 8), 0);
	assert_int_equal(vq_drv_num_free(&p.drv), 16);
	pair_close(&p);
}

/* A burst adds what fits and says how many: the rest waits for room.
 * vq_drv_chain_slots tells how much a chain takes. */
static void test_add_burst_stops_at_full_ring(void **state)
{
	struct pair p;
	struct vq_sg sg[24];
	void *tk[12], *got[12];
	unsigned fits;

	pair_open(&p, state, 8, 0);
	assert_int_equal(vq_drv_chain_slots(&p.drv, 2), chain_slots(&p, 2));
	assert_int_equal(vq_drv_chain_slots(&p.drv, 1), 1);
	fits = 8 / chain_slots(&p, 2);
	burst_chains(&p, 0, 12, 0, sg, tk);
	assert_int_equal(vq_drv_add_burst(&p.drv, sg, 1, 1, tk, 12), fits);
	assert_int_equal(vq_drv_num_free(&p.drv), 0);
	assert_int_equal(vq_drv_add_burst(&p.drv, sg + 2 * fits, 1, 1, tk + fits, 12 - fits), 0);
	assert_int_equal(add_seq(&p, fits, fits), -ENOSPC);
	vq_drv_kick_prepare(&p.drv);
	for (unsigned i = 0; i < fits; i++)
		serve_seq(&p, i);
	vq_dev_flush(&p.dev);
	/* Taken back in two bursts, the second shorter than asked. */
	assert_int_equal(vq_drv_get_burst(&p.drv, got, NULL, 1), 1);
	assert_ptr_equal(got[0], tok(0));
	assert_int_equal(vq_drv_get_burst(&p.drv, got, NULL, 12), fits - 1);
	for (unsigned i = 1; i < fits; i++)
		assert_ptr_equal(got[i - 1], tok(i));
	/* Now the rest fits. */
	assert_int_equal(vq_drv_add_burst(&p.drv, sg + 2 * fits, 1, 1, tk + fits,
					  fits < 12 - fits ? fits : 12 - fits),
			 fits < 12 - fits ? fits : 12 - fits);
	pair_close(&p);
}

/* What vq_drv_add refuses, a burst refuses: in its first chain with
 * -EINVAL and nothing added, later on by ending there. */
static void test_add_burst_refuses_bad_chains(void **state)
{
	struct pair p;
	struct vq_sg sg[8];
	void *tk[4];

	pair_open(&p, state, 16, 0);
	burst_chains(&p, 0, 4, 0, sg, tk);
	assert_int_equal(vq_drv_add_burst(&p.drv, sg, 0, 0, tk, 4), -EINVAL);
	assert_int_equal(vq_drv_add_burst(&p.drv, sg, 17, 1, tk, 4), -EINVAL);
	assert_int_equal(vq_drv_add_burst(&p.drv, NULL, 1, 1, tk, 4), -EINVAL);
	assert_int_equal(vq_drv_add_burst(&p.drv, sg, 1, 1, tk, 0), 0);
	tk[0] = NULL;
	assert_int_equal(vq_drv_add_burst(&p.drv, sg, 1, 1, tk, 4), -EINVAL);
	assert_int_equal(vq_drv_num_free(&p.drv), 16);
	tk[0] = tok(0);
	sg[5].gpa = UINT64_MAX - 2;	/* chain 2's writable buffer wraps */
	assert_int_equal(vq_drv_add_burst(&p.drv, sg, 1, 1, tk, 4), 2);
	assert_int_equal(vq_drv_num_free(&p.drv), 16 - 2 * chain_slots(&p, 2));
	assert_false(p.drv.broken);
	vq_drv_kick_prepare(&p.drv);
	serve_seq(&p, 0);
	serve_seq(&p, 1);
	vq_dev_flush(&p.dev);
	reap_seq(&p, 0, 0);
	reap_seq(&p, 1, 1);
	pair_close(&p);
}

/* A malformed used element ends a get burst with the good ones before
 * it; the queue is broken and the next burst says so. */
static void test_get_burst_stops_at_bad_used_element(void **state)
{
	struct pair p;
	void *got[4];

	pair_open(&p, state, 8, 0);
	add_n(&p, 2);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
		if (i == 1)
			p.ch.id = 7;	/* never made available */
		vq_dev_push(&p.dev, &p.ch, 4);
	}
	vq_dev_flush(&p.dev);
	assert_int_equal(vq_drv_get_burst(&p.drv, got, NULL, 4), 1);
	assert_ptr_equal(got[0], tok(0));
	assert_true(p.drv.broken);
	assert_non_null(strstr(p.drv.reason, "not in flight"));
	assert_int_equal(vq_drv_get_burst(&p.drv, got, NULL, 4), -EIO);
	assert_int_equal(vq_drv_add_burst(&p.drv, NULL, 1, 1, got, 1), -EIO);
	vq_drv_free(&p.drv);
	gmem_clear(&p.gm);
	free(p.mem);
}

/* Many laps of both layouts' indices, single and burst calls mixed on
 * both sides of the driver: bursts of 1-40 chains of one shape (1-3
 * buffers), or the same chains one vq_drv_add at a time; the device
 * takes what is there and uses it in order with random lengths, flushing
 * at random points; the driver takes back a random share, by bursts of
 * 1-16 or one at a time, and the rest later.  Every token comes back
 * once, in the order added, with its length. */
static void test_bursts_many_laps_mixed_with_singles(void **state)
{
	enum { MAXB = 40, FIFO = 1024 };
	struct pair p;
	struct vq_chain ch[MAXB];
	struct vq_buf pool[3 * MAXB];
	struct vq_sg sg[3 * MAXB];
	void *tk[MAXB], *got[16];
	uint32_t lens[MAXB], glen[16];
	uintptr_t exp_tok[FIFO];
	uint32_t exp_len[FIFO];
	unsigned head = 0, tail = 0;	/* FIFO of what the driver is to get */
	uint64_t seed = 5, next = 1, done = 0;

	pair_open(&p, state, 255, 2);
	while (done < 60000) {
		unsigned nb = 1 + rng(&seed) % 3, want = 1 + rng(&seed) % MAXB, added = 0;
		int popped, r;

		for (unsigned i = 0; i < want; i++) {
			for (unsigned j = 0; j < nb; j++)
				sg[i * nb + j] = (struct vq_sg){ slot_gpa(&p, i) + 32 * j, 32 };
			tk[i] = (void *)(uintptr_t)(next + i);
		}
		if (rng(&seed) % 2) {
			r = vq_drv_add_burst(&p.drv, sg, nb - 1, 1, tk, want);
			assert_true(r >= 0);
			added = (unsigned)r;
		} else {
			while (added < want &&
			       vq_drv_add(&p.drv, sg + added * nb, nb - 1, 1, tk[added]) == 0)
				added++;
		}
		assert_true(added > 0 || tail - head > 0);
		next += added;
		vq_drv_kick_prepare(&p.drv);

		popped = vq_dev_pop_burst(&p.dev, ch, MAXB, pool, 3 * MAXB, VQ_CHAIN_ANY);
		assert_int_equal(popped, added);
		for (int i = 0; i < popped; i++) {
			assert_int_equal(ch[i].n_out + ch[i].n_in, nb);
			lens[i] = rng(&seed) % 3 ? rng(&seed) % 33 : 0;
			exp_tok[tail % FIFO] = (uintptr_t)tk[i];
			exp_len[tail % FIFO] = lens[i];
			tail++;
		}
		for (int i = 0; i < popped;) {
			int m = 1 + (int)(rng(&seed) % (unsigned)(popped - i));

			vq_dev_push_burst(&p.dev, ch + i, (unsigned)m, lens + i);
			if (rng(&seed) % 3)
				vq_dev_flush(&p.dev);
			i += m;
		}
		vq_dev_flush(&p.dev);

		/* Take back a random share now (all of it now and then). */
		for (unsigned share = rng(&seed) % 4 ? rng(&seed) % (tail - head + 1) : tail - head;
		     share > 0;) {
			unsigned m = 1 + rng(&seed) % 16;

			if (m > share)
				m = share;
			if (rng(&seed) % 2) {
				assert_int_equal(vq_drv_get_burst(&p.drv, got, glen, m), m);
			} else {
				for (unsigned i = 0; i < m; i++)
					assert_non_null(got[i] = vq_drv_get(&p.drv, &glen[i]));
			}
			for (unsigned i = 0; i < m; i++, head++, done++) {
				assert_int_equal((uintptr_t)got[i], exp_tok[head % FIFO]);
				assert_int_equal(glen[i], exp_len[head % FIFO]);
			}
			share -= m;
		}
	}
	while (head != tail) {
		assert_int_equal(vq_drv_get_burst(&p.drv, got, glen, 1), 1);
		assert_int_equal((uintptr_t)got[0], exp_tok[head % FIFO]);
		head++;
	}
	assert_int_equal(vq_drv_get_burst(&p.drv, got, glen, 16), 0);
	assert_int_equal(vq_drv_num_free(&p.drv), p.size);
	pair_close(&p);
}

static void test_unpop_gives_chains_back(void **state)
{
	struct pair p;
	uint16_t first, second;

	pair_open(&p, state, 8, 0);
	assert_int_equal(add_seq(&p, 0, 10), 0);
	assert_int_equal(add_seq(&p, 1, 11), 0);
	vq_drv_kick_prepare(&p.drv);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	first = p.ch.id;
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	second = p.ch.id;
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 0);
	/* Both chains are the same shape, so p.ch stands for either. */
	vq_dev_unpop(&p.dev, &p.ch);
	vq_dev_unpop(&p.dev, &p.ch);
	assert_true(vq_dev_has_avail(&p.dev));
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.id, first);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.id, second);
	vq_dev_unpop(&p.dev, &p.ch);
	serve_seq(&p, 11);
	vq_dev_flush(&p.dev);
	reap_seq(&p, 1, 11);
	pair_close(&p);
}

static void test_detach_unused_returns_in_flight(void **state)
{
	struct pair p;
	struct vq_sg sg[2];
	unsigned seen = 0;
	void *t;

	pair_open(&p, state, 16, 4);
	sg[0].gpa = slot_gpa(&p, 0);
	sg[0].len = 32;
	sg[1].gpa = slot_gpa(&p, 1);
	sg[1].len = 32;
	for (unsigned k = 0; k < 5; k++)
		assert_int_equal(vq_drv_add(&p.drv, sg, 1, k & 1, tok(k)), 0);
	vq_drv_kick_prepare(&p.drv);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	vq_dev_push(&p.dev, &p.ch, 0);
	vq_dev_flush(&p.dev);
	assert_ptr_equal(vq_drv_get(&p.drv, NULL), tok(0));
	/* One more added and never published. */
	assert_int_equal(vq_drv_add(&p.drv, sg, 1, 0, tok(5)), 0);
	while ((t = vq_drv_detach_unused(&p.drv)) != NULL) {
		unsigned k = (unsigned)((uintptr_t)t - 1);

		assert_true(k >= 1 && k < 6);
		assert_false(seen & (1u << k));
		seen |= 1u << k;
	}
	assert_int_equal(seen, 0x3e);
	assert_int_equal(vq_drv_num_free(&p.drv), 16);
	assert_null(vq_drv_detach_unused(&p.drv));
	/* After the device reset the ring starts over from its beginning:
	 * zeroed, index 0 (packed: slot 0, wrap counters 1). */
	if (is_packed(&p)) {
		assert_int_equal(p.drv.packed.desc[0].flags, 0);
		assert_int_equal(p.drv.packed.next_avail, 0);
		assert_true(p.drv.packed.avail_wrap);
		assert_false(p.drv.packed.pending);
	} else {
		assert_int_equal(p.drv.split.avail->idx, 0);
		assert_int_equal(p.drv.split.avail_idx_shadow, 0);
	}
	vq_dev_reset(&p.dev);
	assert_int_equal(vq_dev_init(&p.dev, p.cfg->layout, 16, p.cfg->flags,
				     &p.drv.addrs, &p.gm), 0);
	one_frame(&p, 77);
	pair_close(&p);
}

static void test_dev_reinit_keeps_state(void **state)
{
	struct pair p;

	pair_open(&p, state, 6, 0);
	for (uint64_t i = 0; i < 4; i++)
		one_frame(&p, i);	/* packed, no indirect: slot 2 of lap 2 */
	assert_int_equal(add_seq(&p, 0, 10), 0);
	assert_int_equal(add_seq(&p, 1, 11), 0);
	vq_drv_kick_prepare(&p.drv);
	serve_seq(&p, 10);
	/* Guest memory map changed (same RAM): re-translate, keep going,
	 * even with a pushed, unflushed used element. */
	assert_int_equal(vq_dev_init(&p.dev, p.cfg->layout, p.size, p.cfg->flags,
				     &p.drv.addrs, &p.gm), 0);
	if (is_packed(&p) && !p.indirect_max)
		assert_false(p.dev.packed.avail_wrap);
	serve_seq(&p, 11);
	vq_dev_flush(&p.dev);
	reap_seq(&p, 0, 10);
	reap_seq(&p, 1, 11);
	one_frame(&p, 12);
	pair_close(&p);
}

/* ==== split only ======================================================= */

static void test_split_layout_modern(void **state)
{
	struct pair p;

	pair_open(&p, state, 256, 0);
	/* 2.7: desc 16*Q at 0, avail right after, used at 4-alignment. */
	assert_int_equal(p.drv.addrs.desc, GPA_BASE);
	assert_int_equal(p.drv.addrs.driver, GPA_BASE + 4096);
	assert_int_equal(p.drv.addrs.device, GPA_BASE + 4096 + 520);
	pair_close(&p);
}

static void test_split_layout_legacy_4096(void **state)
{
	static const uint16_t sizes[] = { 1, 16, 128, 256, 1024, 32768 };
	uint8_t *mem = aligned_alloc(4096, 2u << 20);
	struct vq_drv drv;

	(void)state;
	assert_non_null(mem);
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct vq_drv_cfg cfg = { .layout = VQ_SPLIT, .size = sizes[i],
					  .used_align = 4096 };
		size_t q = sizes[i];
		/* 2.7.2 legacy: used at ALIGN(16Q + 6 + 2Q, 4096). */
		size_t used = (16 * q + 6 + 2 * q + 4095) & ~(size_t)4095;

		assert_true(vq_drv_mem_size(&cfg) >= used + 6 + 8 * q);
		assert_true(vq_drv_mem_size(&cfg) <= 2u << 20);
		assert_int_equal(vq_drv_init(&drv, &cfg, mem, 0x100000), 0);
		assert_int_equal(drv.addrs.desc, 0x100000);
		assert_int_equal(drv.addrs.driver, 0x100000 + 16 * q);
		assert_int_equal(drv.addrs.device, 0x100000 + used);
		vq_drv_free(&drv);
	}
	free(mem);
}

static void test_split_layout_indirect_tables_counted(void **state)
{
	struct vq_drv_cfg plain = { .layout = VQ_SPLIT, .size = 256, .used_align = 4 };
	struct vq_drv_cfg ind = plain;

	(void)state;
	ind.flags = VQ_F_INDIRECT;
	ind.indirect_max = 4;
	assert_int_equal(vq_drv_mem_size(&ind),
			 ((vq_drv_mem_size(&plain) + 15) & ~(size_t)15) + 256 * 4 * 16);
}

static void test_split_drv_init_refuses_bad_config(void **state)
{
	uint8_t *mem = aligned_alloc(4096, 1u << 20);
	struct vq_drv drv;
	struct vq_drv_cfg cfg = { .layout = VQ_SPLIT, .size = 64, .used_align = 4 };

	(void)state;
	assert_non_null(mem);
	cfg.size = 0;
	assert_int_equal(vq_drv_init(&drv, &cfg, mem, 0), -EINVAL);
	assert_int_equal(vq_drv_mem_size(&cfg), 0);
	cfg.size = 48;	/* not a power of two */
	assert_int_equal(vq_drv_init(&drv, &cfg, mem, 0), -EINVAL);
	cfg.size = 64;
	cfg.used_align = 6;
	assert_int_equal(vq_drv_init(&drv, &cfg, mem, 0), -EINVAL);
	cfg.used_align = 4;
	assert_int_equal(vq_drv_init(&drv, &cfg, mem, 0x1008), -EINVAL);
	cfg.used_align = 4096;
	assert_int_equal(vq_drv_init(&drv, &cfg, mem, 0x1010), -EINVAL);
	/* A layout no table serves is refused too. */
	cfg.layout = (enum vq_layout)7;
	cfg.used_align = 4;
	assert_int_equal(vq_drv_init(&drv, &cfg, mem, 0x1000), -EINVAL);
	assert_int_equal(vq_drv_mem_size(&cfg), 0);
	free(mem);
}

/* Well past two 16-bit wraps of every index, with batches of varying size
 * so the wrap falls in the middle of a batch too. */
static void test_split_index_wrap_many_buffers(void **state)
{
	struct pair p;
	uint64_t sent = 0, served = 0, reaped = 0;
	const uint64_t total = 140000;

	pair_open(&p, state, 32, 0);
	while (reaped < total) {
		unsigned batch = 1 + (unsigned)(sent % 29);

		for (unsigned k = 0; k < batch && sent < total; k++) {
			if (add_seq(&p, (unsigned)(sent % 32), sent) == -ENOSPC)
				break;
			sent++;
		}
		vq_drv_kick_prepare(&p.drv);
		while (served < sent)
			serve_seq(&p, served++);
		vq_dev_flush(&p.dev);
		while (reaped < served) {
			reap_seq(&p, (unsigned)(reaped % 32), reaped);
			reaped++;
		}
	}
	assert_int_equal(p.drv.split.avail->idx, (uint16_t)total);
	assert_int_equal(p.drv.split.used->idx, (uint16_t)total);
	assert_false(p.dev.broken);
	assert_false(p.drv.broken);
	pair_close(&p);
}

/* Split EVENT_IDX: a device that never re-arms leaves avail_event at 0,
 * which only the first publish crosses. */
static void test_split_event_idx_kicks_suppressed_without_rearm(void **state)
{
	struct pair p;

	pair_open(&p, state, 16, 0);
	vq_dev_set_notify(&p.dev, false);
	for (uint64_t i = 0; i < 1000; i++)
		one_frame(&p, i);
	assert_int_equal(p.drv.stats.notify_needed, 1);
	assert_int_equal(p.drv.stats.notify_suppressed, 999);
	/* EVENT_IDX leaves used->flags alone (2.7.10). */
	assert_int_equal(p.drv.split.used->flags, 0);
	pair_close(&p);
}

static void test_split_event_idx_kick_after_rearm(void **state)
{
	struct pair p;

	pair_open(&p, state, 16, 0);
	for (uint64_t i = 0; i < 1000; i++) {
		one_frame(&p, i);
		assert_false(vq_dev_set_notify(&p.dev, true));
	}
	assert_int_equal(p.drv.stats.notify_needed, 1000);
	assert_int_equal(p.drv.stats.notify_suppressed, 0);
	assert_int_equal(*p.drv.split.avail_event, 1000);
	pair_close(&p);
}

/* A device that can hold every descriptor: the free list counts them. */
static void test_split_ring_full_enospc(void **state)
{
	struct pair p;
	struct vq_sg sg[3];

	pair_open(&p, state, 8, 0);
	for (unsigned k = 0; k < 3; k++) {
		sg[k].gpa = slot_gpa(&p, k);
		sg[k].len = 16;
	}
	assert_int_equal(vq_drv_add(&p.drv, sg, 3, 0, tok(0)), 0);
	assert_int_equal(vq_drv_add(&p.drv, sg, 2, 1, tok(1)), 0);
	assert_int_equal(vq_drv_num_free(&p.drv), 2);
	assert_int_equal(vq_drv_add(&p.drv, sg, 3, 0, tok(2)), -ENOSPC);
	assert_int_equal(vq_drv_num_free(&p.drv), 2);
	assert_int_equal(vq_drv_add(&p.drv, sg, 1, 1, tok(3)), 0);
	assert_int_equal(vq_drv_add(&p.drv, sg, 1, 0, tok(4)), -ENOSPC);
	vq_drv_kick_prepare(&p.drv);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	vq_dev_push(&p.dev, &p.ch, 0);
	vq_dev_flush(&p.dev);
	assert_ptr_equal(vq_drv_get(&p.drv, NULL), tok(0));
	assert_int_equal(vq_drv_num_free(&p.drv), 3);
	assert_int_equal(vq_drv_add(&p.drv, sg, 3, 0, tok(2)), 0);
	pair_close(&p);
}

/* ==== packed only ====================================================== */

static void test_packed_layout(void **state)
{
	struct pair p;

	pair_open(&p, state, 255, 0);
	/* 2.8.10.1: ring 16*Q at 0, then the two 4-byte event structures. */
	assert_int_equal(p.drv.addrs.desc, GPA_BASE);
	assert_int_equal(p.drv.addrs.driver, GPA_BASE + 16 * 255);
	assert_int_equal(p.drv.addrs.device, GPA_BASE + 16 * 255 + 4);
	assert_int_equal(vq_drv_num_free(&p.drv), 255);
	/* 2.8.1: both sides start with wrap counters at 1. */
	assert_true(p.drv.packed.avail_wrap);
	assert_true(p.drv.packed.used_wrap);
	assert_true(p.dev.packed.avail_wrap);
	assert_true(p.dev.packed.used_wrap);
	pair_close(&p);
}

static void test_packed_layout_indirect_tables_counted(void **state)
{
	struct vq_drv_cfg plain = { .layout = VQ_PACKED, .size = 100 };
	struct vq_drv_cfg ind = plain;

	(void)state;
	ind.flags = VQ_F_INDIRECT;
	ind.indirect_max = 4;
	assert_int_equal(vq_drv_mem_size(&plain), 16 * 100 + 4 + 4);
	assert_int_equal(vq_drv_mem_size(&ind),
			 ((16 * 100 + 8 + 15) & ~(size_t)15) + 100 * 4 * 16);
}

static void test_packed_drv_init_sizes_and_alignment(void **state)
{
	uint8_t *mem = aligned_alloc(4096, 1u << 20);
	struct vq_drv drv;
	struct vq_drv_cfg cfg = { .layout = VQ_PACKED, .size = 0 };

	(void)state;
	assert_non_null(mem);
	assert_int_equal(vq_drv_init(&drv, &cfg, mem, 0), -EINVAL);
	assert_int_equal(vq_drv_mem_size(&cfg), 0);
	cfg.size = 32769;
	assert_int_equal(vq_drv_init(&drv, &cfg, mem, 0), -EINVAL);
	/* 2.8: no power of two needed; used_align does not apply. */
	for (uint32_t sz = 1; sz <= 32768; sz = sz * 3 + 1) {
		cfg.size = (uint16_t)sz;
		assert_int_equal(vq_drv_init(&drv, &cfg, mem, 0x10000), 0);
		vq_drv_free(&drv);
	}
	cfg.size = 32768;
	assert_int_equal(vq_drv_init(&drv, &cfg, mem, 0x10000), 0);
	vq_drv_free(&drv);
	/* The descriptor ring is 16-byte aligned (2.8.10.1). */
	cfg.size = 64;
	assert_int_equal(vq_drv_init(&drv, &cfg, mem, 0x1008), -EINVAL);
	assert_int_equal(vq_drv_init(&drv, &cfg, mem + 4, 0x1000), -EINVAL);
	assert_int_equal(vq_drv_init(&drv, &cfg, mem, 0x1010), 0);
	vq_drv_free(&drv);
	free(mem);
}

static void test_packed_dev_init_any_size(void **state)
{
	static const uint16_t sizes[] = { 2, 3, 255, 1000, 32768 };
	struct pair p;
	struct vq_sg sg = { 0, 8 };

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		pair_open(&p, state, sizes[i], 0);
		one_frame(&p, i);
		one_frame(&p, i + 1);
		pair_close(&p);
	}
	/* A one-slot ring: every add wraps both counters. */
	pair_open(&p, state, 1, 0);
	sg.gpa = slot_gpa(&p, 0);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(vq_drv_add(&p.drv, &sg, 0, 1, tok(i)), 0);
		assert_int_equal(vq_drv_add(&p.drv, &sg, 0, 1, tok(i)), -ENOSPC);
		vq_drv_kick_prepare(&p.drv);
		assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_WRITE_ONLY), 1);
		assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_WRITE_ONLY), 0);
		vq_dev_push(&p.dev, &p.ch, 4);
		vq_dev_flush(&p.dev);
		assert_ptr_equal(vq_drv_get(&p.drv, NULL), tok(i));
		assert_int_equal(p.drv.packed.avail_wrap, i % 2 == 1);
	}
	pair_close(&p);
}

/* The buffer id is per chain, from the driver's id free list, not the
 * ring slot; the device takes it from the list's last descriptor (2.8.6)
 * and hands it back. */
static void test_packed_ids_are_per_chain_not_slots(void **state)
{
	struct pair p;
	struct vq_sg sg[3];
	uint16_t id_a, id_b;

	pair_open(&p, state, 8, 0);
	for (unsigned k = 0; k < 3; k++) {
		sg[k].gpa = slot_gpa(&p, k);
		sg[k].len = 16;
	}
	assert_int_equal(vq_drv_add(&p.drv, sg, 3, 0, tok(0)), 0);	/* slots 0-2 */
	assert_int_equal(vq_drv_add(&p.drv, sg, 1, 0, tok(1)), 0);	/* slot 3 */
	vq_drv_kick_prepare(&p.drv);
	id_a = p.drv.packed.desc[2].id;
	id_b = p.drv.packed.desc[3].id;
	assert_int_not_equal(id_a, id_b);
	assert_int_not_equal(id_b, 3);	/* not the slot */
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.id, id_a);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.id, id_b);
	pair_close(&p);
}

/* A list that crosses the end of the ring: each descriptor carries the
 * AVAIL/USED bits of the wrap counter at its own slot (2.8.1, 2.8.21.1). */
static void test_packed_chain_straddles_ring_end(void **state)
{
	struct pair p;
	struct vq_sg sg[3];
	uint32_t len;

	pair_open(&p, state, 5, 0);
	for (uint64_t i = 0; i < 3; i++)
		one_frame(&p, i);	/* 6 slots: now at slot 1 of lap 2 */
	assert_int_equal(p.drv.packed.next_avail, 1);
	assert_false(p.drv.packed.avail_wrap);
	one_frame(&p, 3);		/* slots 1-2 */
	for (unsigned k = 0; k < 3; k++) {
		sg[k].gpa = slot_gpa(&p, k);
		sg[k].len = 32;
	}
	/* Slots 3, 4 (wrap 0) and 0 (wrap 1). */
	assert_int_equal(vq_drv_add(&p.drv, sg, 2, 1, tok(9)), 0);
	vq_drv_kick_prepare(&p.drv);
	assert_int_equal(p.drv.packed.desc[3].flags & (F_AVAIL | F_USED), F_USED);
	assert_int_equal(p.drv.packed.desc[4].flags & (F_AVAIL | F_USED), F_USED);
	assert_int_equal(p.drv.packed.desc[0].flags & (F_AVAIL | F_USED), F_AVAIL);
	assert_true(p.drv.packed.avail_wrap);
	assert_int_equal(p.drv.packed.next_avail, 1);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.ndesc, 3);
	assert_int_equal(p.ch.n_out, 2);
	assert_int_equal(p.ch.n_in, 1);
	assert_int_equal(p.dev.packed.last_avail, 1);
	assert_true(p.dev.packed.avail_wrap);
	vq_dev_push(&p.dev, &p.ch, 32);
	vq_dev_flush(&p.dev);
	/* The used descriptor goes at slot 3 with wrap 0: AVAIL=USED=0. */
	assert_int_equal(p.drv.packed.desc[3].flags & (F_AVAIL | F_USED), 0);
	assert_ptr_equal(vq_drv_get(&p.drv, &len), tok(9));
	assert_int_equal(len, 32);
	assert_int_equal(p.drv.packed.last_used, 1);
	assert_true(p.drv.packed.used_wrap);
	assert_int_equal(vq_drv_num_free(&p.drv), 5);
	one_frame(&p, 10);
	pair_close(&p);
}

/* Chains of 1..4 descriptors (some indirect), batches of varying size,
 * well past hundreds of laps of both wrap counters, on sizes that are and
 * are not powers of two.  Every byte checked. */
static void wrap_run(void **state, uint16_t size, uint16_t indirect_max,
		     uint64_t total)
{
	struct pair p;
	uint64_t sent = 0, reaped = 0, slots = 0, seed = size;
	uint32_t flips = 0;
	bool last_wrap = true;
	unsigned nd[64] = { 0 };

	pair_open(&p, state, size, indirect_max);
	while (reaped < total) {
		unsigned batch = 1 + rng(&seed) % 23, added = 0;
		uint64_t first = sent;

		for (unsigned k = 0; k < batch && sent < total; k++) {
			unsigned n = 1 + rng(&seed) % 4, slot = (unsigned)(sent % 64);
			struct vq_sg sg[4];
			uint64_t v = sent;
			int rc;

			/* First buffer: the sequence number; the rest: 16
			 * bytes each, the last writable. */
			for (unsigned j = 0; j < n; j++) {
				sg[j].gpa = slot_gpa(&p, slot) + 64 * j;
				sg[j].len = j ? 16 : 8;
			}
			memcpy(slot_ptr(&p, slot), &v, 8);
			rc = vq_drv_add(&p.drv, sg, n > 1 ? n - 1 : 1, n > 1 ? 1 : 0, tok(slot));
			if (rc == -ENOSPC)
				break;
			if (rc)
				fail_msg("add: %d (%s / %s)", rc, p.drv.reason, p.dev.reason);
			nd[slot] = n;
			sent++;
			added++;
		}
		vq_drv_kick_prepare(&p.drv);
		for (uint64_t s = first; s < first + added; s++) {
			unsigned slot = (unsigned)(s % 64), n = nd[slot];
			uint64_t v;

			assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
			assert_int_equal(p.ch.n_out + p.ch.n_in, n);
			memcpy(&v, p.ch.bufs[0].ptr, 8);
			assert_int_equal(v, s);
			if (n > 1) {
				v = ~s;
				memcpy(p.ch.bufs[n - 1].ptr, &v, 8);
			}
			slots += p.ch.ndesc;
			vq_dev_push(&p.dev, &p.ch, n > 1 ? 8 : 0);
		}
		assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 0);
		vq_dev_flush(&p.dev);
		for (; reaped < sent; reaped++) {
			unsigned slot = (unsigned)(reaped % 64);
			uint32_t len = 1;

			assert_ptr_equal(vq_drv_get(&p.drv, &len), tok(slot));
			if (nd[slot] > 1) {
				uint64_t v;

				assert_int_equal(len, 8);
				memcpy(&v, slot_ptr(&p, slot) + 64 * (nd[slot] - 1), 8);
				assert_int_equal(v, ~reaped);
			} else {
				assert_int_equal(len, 0);
			}
		}
		assert_null(vq_drv_get(&p.drv, NULL));
		assert_int_equal(vq_drv_num_free(&p.drv), size);
		if (p.drv.packed.avail_wrap != last_wrap) {
			flips++;
			last_wrap = p.drv.packed.avail_wrap;
		}
	}
	/* Both sides agree on the position: slots used, modulo the ring,
	 * and the wrap counter flipped once per lap. */
	assert_int_equal(p.drv.packed.next_avail, slots % size);
	assert_int_equal(p.drv.packed.avail_wrap, (slots / size) % 2 == 0);
	assert_int_equal(p.dev.packed.last_avail, slots % size);
	assert_int_equal(p.dev.packed.avail_wrap, p.drv.packed.avail_wrap);
	assert_int_equal(p.dev.packed.used_idx, slots % size);
	assert_int_equal(p.dev.packed.used_wrap, p.drv.packed.avail_wrap);
	assert_int_equal(p.drv.packed.last_used, slots % size);
	assert_int_equal(p.drv.packed.used_wrap, p.drv.packed.avail_wrap);
	assert_true(slots / size > 200);
	assert_true(flips > 50);
	pair_close(&p);
}

static void test_packed_wrap_many_laps_size_255(void **state)
{
	wrap_run(state, 255, 0, 60000);
}

static void test_packed_wrap_many_laps_size_32(void **state)
{
	wrap_run(state, 32, 0, 30000);
}

static void test_packed_wrap_many_laps_size_7_indirect_3(void **state)
{
	wrap_run(state, 7, 3, 20000);
}

static void test_packed_out_of_order_completion(void **state)
{
	struct pair p;
	struct vq_sg sg[3];
	struct vq_chain ch[3];
	struct vq_buf bufs[3][4];
	static const unsigned n[3] = { 1, 3, 2 };
	uint32_t len;

	pair_open(&p, state, 8, 0);
	for (unsigned k = 0; k < 3; k++) {
		sg[k].gpa = slot_gpa(&p, k);
		sg[k].len = 16;
	}
	for (unsigned c = 0; c < 3; c++)
		assert_int_equal(vq_drv_add(&p.drv, sg, n[c] - 1, 1, tok(c)), 0);
	assert_int_equal(vq_drv_num_free(&p.drv), 2);
	vq_drv_kick_prepare(&p.drv);
	for (unsigned c = 0; c < 3; c++) {
		ch[c] = (struct vq_chain){ .bufs = bufs[c], .cap = 4 };
		assert_int_equal(vq_dev_pop(&p.dev, &ch[c], VQ_CHAIN_ANY), 1);
		assert_int_equal(ch[c].ndesc, n[c]);
	}
	/* Completed C, A, B: used descriptors go at slots 0, 2, 3 in that
	 * order, each carrying its buffer id (2.8, "Note" on completion). */
	vq_dev_push(&p.dev, &ch[2], 2);
	vq_dev_push(&p.dev, &ch[0], 16);
	vq_dev_push(&p.dev, &ch[1], 7);
	assert_true(vq_dev_flush(&p.dev));
	assert_int_equal(p.drv.packed.desc[0].id, ch[2].id);
	assert_int_equal(p.drv.packed.desc[2].id, ch[0].id);
	assert_int_equal(p.drv.packed.desc[3].id, ch[1].id);
	assert_ptr_equal(vq_drv_get(&p.drv, &len), tok(2));
	assert_int_equal(len, 2);
	assert_ptr_equal(vq_drv_get(&p.drv, &len), tok(0));
	assert_int_equal(len, 16);
	assert_ptr_equal(vq_drv_get(&p.drv, &len), tok(1));
	assert_int_equal(len, 7);
	assert_null(vq_drv_get(&p.drv, NULL));
	assert_int_equal(vq_drv_num_free(&p.drv), 8);
	assert_int_equal(p.drv.packed.last_used, 6);
	one_frame(&p, 1);
	one_frame(&p, 2);	/* across the end of the ring */
	pair_close(&p);
}

/* EVENT_IDX: the device asks for a kick at its next slot (DESC with
 * off_wrap = last_avail + wrap bit, 2.8.14). */
static void test_packed_event_idx_device_desc_mode(void **state)
{
	struct pair p;

	pair_open(&p, state, 10, 0);
	for (uint64_t i = 0; i < 1000; i++) {
		assert_false(vq_dev_set_notify(&p.dev, true));
		assert_int_equal(p.drv.packed.device->flags, VIRTQ_PACKED_EVENT_F_DESC);
		assert_int_equal(p.drv.packed.device->off_wrap,
				 p.dev.packed.last_avail |
				 (p.dev.packed.avail_wrap ? 0x8000 : 0));
		one_frame(&p, i);
	}
	/* Re-armed every time: every publish crossed the event. */
	assert_int_equal(p.drv.stats.notify_needed, 1000);
	assert_int_equal(p.drv.stats.notify_suppressed, 0);
	pair_close(&p);
}

/* A driver event set ahead, in the next lap (wrap bit flipped): the
 * device signals exactly when that descriptor is used (2.8.14). */
static void test_packed_event_idx_event_in_next_lap(void **state)
{
	struct pair p;
	bool got[6];

	pair_open(&p, state, 8, 0);
	vq_drv_disable_cb(&p.drv);
	for (uint64_t i = 0; i < 3; i++)
		one_frame(&p, i);	/* used position: slot 6, wrap 1 */
	assert_int_equal(p.dev.packed.used_idx, 6);
	/* "Interrupt me once slot 2 of the next lap (wrap 0) is used." */
	p.drv.packed.driver->off_wrap = 2;
	p.drv.packed.driver->flags = VIRTQ_PACKED_EVENT_F_DESC;
	for (unsigned k = 0; k < 6; k++) {
		/* One-slot chains, to step the used position one by one. */
		struct vq_sg sg = { slot_gpa(&p, 0), 8 };

		assert_int_equal(vq_drv_add(&p.drv, &sg, 0, 1, tok(0)), 0);
		vq_drv_kick_prepare(&p.drv);
		assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
		vq_dev_push(&p.dev, &p.ch, 8);
		got[k] = vq_dev_flush(&p.dev);
		assert_ptr_equal(vq_drv_get(&p.drv, NULL), tok(0));
	}
	/* Slots 6, 7 (wrap 1), 0, 1, 2, 3 (wrap 0) used in turn. */
	assert_false(got[0]);
	assert_false(got[1]);
	assert_false(got[2]);
	assert_false(got[3]);
	assert_true(got[4]);
	assert_false(got[5]);
	pair_close(&p);
}

/* The same test on the kick side: the device's event names a slot in the
 * next lap. */
static void test_packed_event_idx_kick_event_in_next_lap(void **state)
{
	struct pair p;
	bool got[6];

	pair_open(&p, state, 7, 0);
	for (uint64_t i = 0; i < 3; i++)
		one_frame(&p, i);	/* avail position: slot 6, wrap 1 */
	assert_int_equal(p.drv.packed.next_avail, 6);
	p.drv.packed.device->off_wrap = 1;	/* slot 1, wrap 0 */
	p.drv.packed.device->flags = VIRTQ_PACKED_EVENT_F_DESC;
	for (unsigned k = 0; k < 6; k++) {
		struct vq_sg sg = { slot_gpa(&p, 0), 8 };

		assert_int_equal(vq_drv_add(&p.drv, &sg, 0, 1, tok(0)), 0);
		got[k] = vq_drv_kick_prepare(&p.drv);
		assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
		vq_dev_push(&p.dev, &p.ch, 8);
		vq_dev_flush(&p.dev);
		assert_ptr_equal(vq_drv_get(&p.drv, NULL), tok(0));
	}
	/* Slots 6 (wrap 1), 0, 1, 2, ... (wrap 0) made available in turn. */
	assert_false(got[0]);
	assert_false(got[1]);
	assert_true(got[2]);
	assert_false(got[3]);
	assert_false(got[4]);
	assert_false(got[5]);
	pair_close(&p);
}

/* DESC without EVENT_IDX is not valid (2.8.14): signal, which is safe. */
static void test_packed_desc_without_event_idx_notifies(void **state)
{
	struct pair p;

	pair_open(&p, state, 16, 0);
	p.drv.packed.driver->flags = VIRTQ_PACKED_EVENT_F_DESC;
	p.drv.packed.driver->off_wrap = 0x8000 | 9;
	p.drv.packed.device->flags = 3;	/* reserved */
	one_frame(&p, 1);
	assert_int_equal(p.dev.stats.notify_needed, 1);
	assert_int_equal(p.drv.stats.notify_needed, 1);
	pair_close(&p);
}

static void test_packed_ring_full_enospc(void **state)
{
	struct pair p;
	struct vq_sg sg[3];

	pair_open(&p, state, 7, 0);
	for (unsigned k = 0; k < 3; k++) {
		sg[k].gpa = slot_gpa(&p, k);
		sg[k].len = 16;
	}
	assert_int_equal(vq_drv_add(&p.drv, sg, 3, 0, tok(0)), 0);
	assert_int_equal(vq_drv_add(&p.drv, sg, 2, 1, tok(1)), 0);
	assert_int_equal(vq_drv_num_free(&p.drv), 1);
	assert_int_equal(vq_drv_add(&p.drv, sg, 2, 0, tok(2)), -ENOSPC);
	assert_int_equal(vq_drv_add(&p.drv, sg, 1, 0, tok(3)), 0);	/* slot 6 */
	assert_int_equal(vq_drv_num_free(&p.drv), 0);
	assert_int_equal(vq_drv_add(&p.drv, sg, 1, 0, tok(4)), -ENOSPC);
	vq_drv_kick_prepare(&p.drv);
	/* The ring is full of available descriptors; the device takes them
	 * all and then sees its own next slot unavailable (wrap flipped). */
	for (unsigned c = 0; c < 3; c++)
		assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 0);
	assert_int_equal(p.dev.packed.last_avail, 0);
	assert_false(p.dev.packed.avail_wrap);
	/* Giving back the last chain (one slot) crosses back over the end
	 * of the ring and flips the wrap counter back. */
	vq_dev_unpop(&p.dev, &p.ch);
	assert_int_equal(p.dev.packed.last_avail, 6);
	assert_true(p.dev.packed.avail_wrap);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.ndesc, 1);
	vq_dev_push(&p.dev, &p.ch, 0);
	vq_dev_flush(&p.dev);
	assert_ptr_equal(vq_drv_get(&p.drv, NULL), tok(3));
	assert_int_equal(vq_drv_num_free(&p.drv), 1);
	assert_int_equal(vq_drv_add(&p.drv, sg, 1, 0, tok(4)), 0);
	pair_close(&p);
}

/* Unpop moves back by the chain's slot count, across the ring end too. */
static void test_packed_unpop_crosses_ring_end(void **state)
{
	struct pair p;
	struct vq_sg sg[3];
	struct vq_chain a, b;
	struct vq_buf ba[4], bb[4];

	pair_open(&p, state, 5, 0);
	one_frame(&p, 0);
	one_frame(&p, 1);	/* at slot 4 */
	for (unsigned k = 0; k < 3; k++) {
		sg[k].gpa = slot_gpa(&p, k);
		sg[k].len = 16;
	}
	assert_int_equal(vq_drv_add(&p.drv, sg, 2, 0, tok(1)), 0);	/* 4, 0 */
	assert_int_equal(vq_drv_add(&p.drv, sg, 3, 0, tok(2)), 0);	/* 1, 2, 3 */
	vq_drv_kick_prepare(&p.drv);
	a = (struct vq_chain){ .bufs = ba, .cap = 4 };
	b = (struct vq_chain){ .bufs = bb, .cap = 4 };
	assert_int_equal(vq_dev_pop(&p.dev, &a, VQ_CHAIN_ANY), 1);
	assert_int_equal(vq_dev_pop(&p.dev, &b, VQ_CHAIN_ANY), 1);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 0);
	assert_int_equal(p.dev.packed.last_avail, 4);
	assert_false(p.dev.packed.avail_wrap);
	vq_dev_unpop(&p.dev, &b);
	assert_int_equal(p.dev.packed.last_avail, 1);
	assert_false(p.dev.packed.avail_wrap);
	vq_dev_unpop(&p.dev, &a);
	assert_int_equal(p.dev.packed.last_avail, 4);
	assert_true(p.dev.packed.avail_wrap);
	assert_true(vq_dev_has_avail(&p.dev));
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.id, a.id);
	assert_int_equal(p.ch.ndesc, 2);
	vq_dev_push(&p.dev, &p.ch, 0);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.id, b.id);
	/* Given back after the first was pushed: popped again later. */
	vq_dev_unpop(&p.dev, &p.ch);
	vq_dev_flush(&p.dev);
	assert_ptr_equal(vq_drv_get(&p.drv, NULL), tok(1));
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.id, b.id);
	vq_dev_push(&p.dev, &p.ch, 0);
	vq_dev_flush(&p.dev);
	assert_ptr_equal(vq_drv_get(&p.drv, NULL), tok(2));
	assert_int_equal(vq_drv_num_free(&p.drv), 5);
	pair_close(&p);
}

/* ==== IN_ORDER (2.7.9, 2.8.8) =========================================== */

/* Many laps of chains of 1-4 buffers, used in order with or without a
 * length, flushed at random points: the driver gets every token back in
 * the order it added them, each with its length, and the chains sit in
 * ring order: split heads one after another (2.7.9: descriptors in ring
 * order, next = x + 1), packed buffer ids one after another. */
static void test_in_order_many_laps(void **state)
{
	enum { MAXC = 64 };
	struct pair p;
	struct vq_chain ch[MAXC];
	struct vq_buf bufs[MAXC][4];
	unsigned nlen[MAXC];
	uint64_t seed = 11, done = 0;
	uint32_t next_id = 0;

	pair_open(&p, state, 255, 2);
	while (done < 40000) {
		unsigned c = 0;

		for (; c < MAXC; c++) {
			unsigned n = 1 + rng(&seed) % 4;
			struct vq_sg sg[4];

			for (unsigned j = 0; j < n; j++) {
				sg[j].gpa = slot_gpa(&p, c) + 32 * j;
				sg[j].len = 32;
			}
			if (vq_drv_add(&p.drv, sg, n - 1, 1, tok(c)) == -ENOSPC)
				break;
			/* Half the chains used without a length, as a
			 * transmit queue's are. */
			nlen[c] = rng(&seed) % 2 ? 0 : 1 + rng(&seed) % 32;
		}
		assert_true(c > 0);
		vq_drv_kick_prepare(&p.drv);
		for (unsigned i = 0; i < c; i++) {
			ch[i] = (struct vq_chain){ .bufs = bufs[i], .cap = 4 };
			assert_int_equal(vq_dev_pop(&p.dev, &ch[i], VQ_CHAIN_ANY), 1);
			assert_int_equal(ch[i].id, next_id);
			next_id = (next_id + (is_packed(&p) ? 1 : ch[i].ndesc)) % p.size;
		}
		for (unsigned i = 0, r = 0; i < c; i++) {
			vq_dev_push(&p.dev, &ch[i], nlen[i]);
			if (rng(&seed) % 5 && i + 1 < c)
				continue;
			vq_dev_flush(&p.dev);
			for (; r <= i; r++, done++) {
				uint32_t len = 99;

				assert_ptr_equal(vq_drv_get(&p.drv, &len), tok(r));
				assert_int_equal(len, nlen[r]);
			}
			assert_null(vq_drv_get(&p.drv, NULL));
		}
		assert_int_equal(vq_drv_num_free(&p.drv), p.size);
	}
	pair_close(&p);
}

/* Adds n single-buffer device-writable chains (tokens 0..n-1). */
static void add_n(struct pair *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct vq_sg sg = { slot_gpa(p, i), 64 };

		assert_int_equal(vq_drv_add(&p->drv, &sg, 0, 1, tok(i)), 0);
	}
	vq_drv_kick_prepare(&p->drv);
}

/* 2.8.8: a transmit pass (chains used without a length) is one used
 * descriptor, at the pass's first slot with the last chain's id; the
 * driver frees all of them and skips their slots.  A chain used with a
 * length ends the shared descriptor and gets its own. */
static void test_packed_in_order_collapses_unwritten_chains(void **state)
{
	struct pair p;
	uint32_t len;

	pair_open(&p, state, 8, 0);
	add_n(&p, 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
		vq_dev_push(&p.dev, &p.ch, 0);
	}
	assert_false(vq_drv_has_used(&p.drv));
	vq_dev_flush(&p.dev);
	assert_int_equal(p.drv.packed.desc[0].flags & (F_AVAIL | F_USED), F_AVAIL | F_USED);
	assert_int_equal(p.drv.packed.desc[0].id, 3);
	for (unsigned s = 1; s < 4; s++)	/* still as the driver left them */
		assert_int_equal(p.drv.packed.desc[s].flags & (F_AVAIL | F_USED), F_AVAIL);
	for (unsigned i = 0; i < 4; i++) {
		len = 99;
		assert_ptr_equal(vq_drv_get(&p.drv, &len), tok(i));
		assert_int_equal(len, 0);
	}
	assert_null(vq_drv_get(&p.drv, NULL));
	assert_int_equal(p.drv.packed.last_used, 4);

	/* Two without a length, then one with: two descriptors. */
	add_n(&p, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
		vq_dev_push(&p.dev, &p.ch, i == 2 ? 5 : 0);
	}
	vq_dev_flush(&p.dev);
	assert_int_equal(p.drv.packed.desc[4].id, 5);	/* ids 4, 5 in one */
	assert_int_equal(p.drv.packed.desc[6].id, 6);
	assert_int_equal(p.drv.packed.desc[6].len, 5);
	for (unsigned i = 0; i < 3; i++) {
		len = 99;
		assert_ptr_equal(vq_drv_get(&p.drv, &len), tok(i));
		assert_int_equal(len, i == 2 ? 5 : 0);
	}
	assert_null(vq_drv_get(&p.drv, NULL));
	assert_int_equal(vq_drv_num_free(&p.drv), 8);
	pair_close(&p);
}

/* 2.7.9: a split device may write one used element for a batch, with
 * the last buffer's head, and move the used index past them all.  Ours
 * writes every element (DPDK's in-order driver reads each one), so the
 * device's part is played here by hand. */
static void test_split_in_order_batch_from_device(void **state)
{
	struct pair p;
	uint32_t len;

	pair_open(&p, state, 8, 0);
	add_n(&p, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	p.drv.split.used->ring[0].id = 2;
	p.drv.split.used->ring[0].len = 7;
	p.drv.split.used->ring[1].id = 0xdead;	/* skipped: never read */
	__atomic_store_n(&p.drv.split.used->idx, 3, __ATOMIC_RELEASE);
	assert_true(vq_drv_has_used(&p.drv));
	for (unsigned i = 0; i < 3; i++) {
		len = 99;
		assert_ptr_equal(vq_drv_get(&p.drv, &len), tok(i));
		assert_int_equal(len, i == 2 ? 7 : 0);
		assert_int_equal(vq_drv_has_used(&p.drv), i < 2);
	}
	assert_null(vq_drv_get(&p.drv, NULL));
	assert_int_equal(vq_drv_num_free(&p.drv), 8);
	/* The next chains continue in ring order, after the batch. */
	add_n(&p, 1);
	assert_int_equal(p.drv.split.avail->ring[3], 3);
	assert_false(p.drv.broken);
	vq_drv_free(&p.drv);
	gmem_clear(&p.gm);
	free(p.mem);
}

/* A batch may not claim buffers beyond the used index the device
 * published: the driver latches broken instead of freeing them. */
static void test_split_in_order_batch_beyond_used_index_breaks(void **state)
{
	struct pair p;

	pair_open(&p, state, 8, 0);
	add_n(&p, 3);
	p.drv.split.used->ring[0].id = 2;
	__atomic_store_n(&p.drv.split.used->idx, 2, __ATOMIC_RELEASE);
	assert_null(vq_drv_get(&p.drv, NULL));
	assert_true(p.drv.broken);
	assert_non_null(strstr(p.drv.reason, "in-order batch"));
	vq_drv_free(&p.drv);
	gmem_clear(&p.gm);
	free(p.mem);
}

/* ==== which case runs in which configuration ============================ */

#define SPLIT	RING_SPLIT
#define PACKED	RING_PACKED
#define ALL	RING_ALL
#define EV	VQ_F_EVENT_IDX
#define IND	VQ_F_INDIRECT
#define INO	VQ_F_IN_ORDER
#define CASE	RING_CASE

/* need / forbid: features whose ring words a case's assertions count. */
static const struct ring_case cases[] = {
	CASE(test_round_trip_request_reply, ALL, 0, 0),
	CASE(test_pop_on_empty_ring_returns_zero, ALL, 0, 0),
	CASE(test_multi_buffer_chain, ALL, 0, 0),
	CASE(test_push_logs_written_bytes, ALL, 0, 0),
	CASE(test_read_only_chain_used_len_zero, ALL, 0, 0),
	CASE(test_chain_kinds_accept_matching_chains, ALL, 0, 0),
	CASE(test_zero_length_descriptor_counted, ALL, 0, 0),
	CASE(test_guest_address_zero_is_valid, ALL, 0, 0),
	CASE(test_out_of_order_many_laps, ALL, 0, INO),
	CASE(test_in_order_many_laps, ALL, INO, 0),
	CASE(test_device_disable_suppresses_kicks, ALL, 0, EV),
	CASE(test_driver_disable_suppresses_interrupts, ALL, 0, EV),
	CASE(test_enabled_notifies_every_time, ALL, 0, EV),
	CASE(test_event_idx_one_kick_per_batch, ALL, EV, 0),
	CASE(test_set_notify_reports_late_arrival, ALL, 0, 0),
	CASE(test_event_idx_interrupts_suppressed, ALL, EV, 0),
	CASE(test_event_idx_one_interrupt_per_flush_batch, ALL, EV, 0),
	CASE(test_enable_cb_reports_pending, ALL, 0, 0),
	CASE(test_indirect_uses_one_descriptor, ALL, IND, 0),
	CASE(test_indirect_not_used_for_single_or_oversized, ALL, IND, 0),
	CASE(test_indirect_many_round_trips, ALL, IND, 0),
	CASE(test_add_rejects_bad_arguments, ALL, 0, 0),
	CASE(test_pop_enobufs_keeps_chain, ALL, 0, 0),
	CASE(test_pop_burst_takes_chains_in_order, ALL, 0, 0),
	CASE(test_pop_burst_stops_at_full_pool, ALL, 0, IND),
	CASE(test_pop_burst_malformed_chain_ends_burst, ALL, 0, 0),
	CASE(test_add_burst_then_get_burst, ALL, 0, 0),
	CASE(test_add_burst_stops_at_full_ring, ALL, 0, 0),
	CASE(test_add_burst_refuses_bad_chains, ALL, 0, 0),
	CASE(test_get_burst_stops_at_bad_used_element, ALL, 0, 0),
	CASE(test_bursts_many_laps_mixed_with_singles, ALL, 0, 0),
	CASE(test_unpop_gives_chains_back, ALL, 0, INO),	/* completes out of order */
	CASE(test_detach_unused_returns_in_flight, ALL, 0, 0),
	CASE(test_dev_reinit_keeps_state, ALL, 0, 0),

	CASE(test_split_layout_modern, SPLIT, 0, EV | IND),
	CASE(test_split_layout_legacy_4096, SPLIT, 0, EV | IND),
	CASE(test_split_layout_indirect_tables_counted, SPLIT, 0, EV | IND),
	CASE(test_split_drv_init_refuses_bad_config, SPLIT, 0, EV | IND),
	CASE(test_split_index_wrap_many_buffers, SPLIT, 0, 0),
	CASE(test_split_event_idx_kicks_suppressed_without_rearm, SPLIT, EV, 0),
	CASE(test_split_event_idx_kick_after_rearm, SPLIT, EV, 0),
	CASE(test_split_ring_full_enospc, SPLIT, 0, IND),
	CASE(test_split_in_order_batch_from_device, SPLIT, INO, IND),
	CASE(test_split_in_order_batch_beyond_used_index_breaks, SPLIT, INO, IND),

	CASE(test_packed_layout, PACKED, 0, EV | IND),
	CASE(test_packed_layout_indirect_tables_counted, PACKED, 0, EV | IND),
	CASE(test_packed_drv_init_sizes_and_alignment, PACKED, 0, EV | IND),
	CASE(test_packed_dev_init_any_size, PACKED, 0, IND),	/* 32768 x tables > RING_AREA */
	CASE(test_packed_ids_are_per_chain_not_slots, PACKED, 0, IND),
	CASE(test_packed_chain_straddles_ring_end, PACKED, 0, IND),
	CASE(test_packed_wrap_many_laps_size_255, PACKED, 0, 0),
	CASE(test_packed_wrap_many_laps_size_32, PACKED, EV, 0),
	CASE(test_packed_wrap_many_laps_size_7_indirect_3, PACKED, EV | IND, 0),
	CASE(test_packed_out_of_order_completion, PACKED, 0, IND | INO),
	CASE(test_packed_in_order_collapses_unwritten_chains, PACKED, INO, IND),
	CASE(test_packed_event_idx_device_desc_mode, PACKED, EV, 0),
	CASE(test_packed_event_idx_event_in_next_lap, PACKED, EV, IND),
	CASE(test_packed_event_idx_kick_event_in_next_lap, PACKED, EV, IND),
	CASE(test_packed_desc_without_event_idx_notifies, PACKED, 0, EV),
	CASE(test_packed_ring_full_enospc, PACKED, 0, IND | INO),	/* out of order */
	CASE(test_packed_unpop_crosses_ring_end, PACKED, 0, IND),
};

int main(void)
{
	log_set_level(LOG_ERR);
	return ring_cases_run(configs, sizeof(configs) / sizeof(configs[0]),
			      cases, sizeof(cases) / sizeof(cases[0]));
}
