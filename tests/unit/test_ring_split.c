// SPDX-License-Identifier: MIT
/*
 * test_ring_split.c - the split virtqueue, driver side and device side
 * talking in one process over one memory block.  The driver lays the ring
 * out at a guest-physical address; the device reaches it only through a
 * gmem window, as vnet-host does.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/gmem.h"
#include "common/log.h"
#include "common/ring/vq.h"

#define GPA_BASE	0x40000000ull	/* unlike any local address */
#define MEM_BYTES	(2u << 20)
#define RING_AREA	(1u << 20)	/* ring first, buffers after it */
#define SLOT_BYTES	2048u

struct pair {
	uint8_t *mem;
	uint64_t gpa;
	struct gmem gm;
	struct vq_drv drv;
	struct vq_dev dev;
	struct vq_buf bufs[64];
	struct vq_chain ch;
};

static void pair_open_at(struct pair *p, uint64_t gpa, uint16_t size,
			 uint32_t flags, uint16_t indirect_max)
{
	struct vq_drv_cfg cfg = {
		.layout = VQ_SPLIT, .size = size, .flags = flags,
		.used_align = 4, .indirect_max = indirect_max,
	};

	memset(p, 0, sizeof(*p));
	p->mem = aligned_alloc(4096, MEM_BYTES);
	assert_non_null(p->mem);
	memset(p->mem, 0xa5, MEM_BYTES);
	p->gpa = gpa;
	assert_true(vq_drv_mem_size(&cfg) <= RING_AREA);
	assert_int_equal(vq_drv_init(&p->drv, &cfg, p->mem, gpa), 0);
	gmem_init(&p->gm);
	assert_int_equal(gmem_add(&p->gm, gpa, MEM_BYTES, p->mem, true), 0);
	assert_int_equal(vq_dev_init(&p->dev, VQ_SPLIT, size, flags,
				     &p->drv.addrs, &p->gm), 0);
	p->ch.bufs = p->bufs;
	p->ch.cap = 64;
}

static void pair_open(struct pair *p, uint16_t size, uint32_t flags,
		      uint16_t indirect_max)
{
	pair_open_at(p, GPA_BASE, size, flags, indirect_max);
}

static void pair_close(struct pair *p)
{
	vq_drv_free(&p->drv);
	gmem_clear(&p->gm);
	free(p->mem);
}

/* Buffer slot n: local pointer and guest address. */
static uint8_t *slot_ptr(struct pair *p, unsigned n)
{
	return p->mem + RING_AREA + (size_t)n * SLOT_BYTES;
}

static uint64_t slot_gpa(struct pair *p, unsigned n)
{
	return p->gpa + RING_AREA + (uint64_t)n * SLOT_BYTES;
}

static void *tok(unsigned n)
{
	return (void *)(uintptr_t)(n + 1);
}

/* Driver adds one request/response chain: 8-byte sequence number out,
 * 8-byte reply in, in slot n. */
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

/* ---- layout ---------------------------------------------------------- */

static void test_layout_modern(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 256, 0, 0);
	/* 2.7: desc 16*Q at 0, avail right after, used at 4-alignment. */
	assert_int_equal(p.drv.addrs.desc, GPA_BASE);
	assert_int_equal(p.drv.addrs.driver, GPA_BASE + 4096);
	assert_int_equal(p.drv.addrs.device, GPA_BASE + 4096 + 520);
	pair_close(&p);
}

static void test_layout_legacy_4096(void **state)
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

static void test_layout_indirect_tables_counted(void **state)
{
	struct vq_drv_cfg plain = { .layout = VQ_SPLIT, .size = 256, .used_align = 4 };
	struct vq_drv_cfg ind = plain;

	(void)state;
	ind.flags = VQ_F_INDIRECT;
	ind.indirect_max = 4;
	assert_int_equal(vq_drv_mem_size(&ind),
			 ((vq_drv_mem_size(&plain) + 15) & ~(size_t)15) + 256 * 4 * 16);
}

static void test_drv_init_refuses_bad_config(void **state)
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
	/* Packed rings are checked in test_ring_packed.c; a packed queue of
	 * size 0 is refused like a split one. */
	cfg.layout = VQ_PACKED;
	cfg.size = 0;
	assert_int_equal(vq_drv_init(&drv, &cfg, mem, 0x1000), -EINVAL);
	free(mem);
}

/* ---- round trips ----------------------------------------------------- */

static void test_round_trip_request_reply(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 16, 0, 0);
	assert_false(vq_dev_has_avail(&p.dev));
	assert_int_equal(add_seq(&p, 0, 0x1122334455667788ull), 0);
	/* Added but not yet published. */
	assert_false(vq_dev_has_avail(&p.dev));
	assert_true(vq_drv_kick_prepare(&p.drv));
	assert_true(vq_dev_has_avail(&p.dev));
	serve_seq(&p, 0x1122334455667788ull);
	assert_false(vq_dev_has_avail(&p.dev));
	assert_false(vq_drv_has_used(&p.drv));
	assert_true(vq_dev_flush(&p.dev));
	assert_true(vq_drv_has_used(&p.drv));
	reap_seq(&p, 0, 0x1122334455667788ull);
	assert_null(vq_drv_get(&p.drv, NULL));
	assert_int_equal(vq_drv_num_free(&p.drv), 16);
	pair_close(&p);
}

static void test_pop_on_empty_ring_returns_zero(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 16, 0, 0);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 0);
	assert_false(p.dev.broken);
	assert_false(vq_dev_flush(&p.dev));	/* nothing pushed */
	pair_close(&p);
}

static void test_multi_buffer_chain(void **state)
{
	struct pair p;
	struct vq_sg sg[5];
	static const uint32_t lens[5] = { 12, 100, 1, 60, 1500 };
	uint32_t len;

	(void)state;
	pair_open(&p, 16, 0, 0);
	for (unsigned k = 0; k < 5; k++) {
		sg[k].gpa = slot_gpa(&p, k);
		sg[k].len = lens[k];
		memset(slot_ptr(&p, k), 0x10 + k, lens[k]);
	}
	assert_int_equal(vq_drv_add(&p.drv, sg, 3, 2, tok(7)), 0);
	assert_int_equal(vq_drv_num_free(&p.drv), 11);
	vq_drv_kick_prepare(&p.drv);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.n_out, 3);
	assert_int_equal(p.ch.n_in, 2);
	assert_int_equal(p.ch.out_len, 113);
	assert_int_equal(p.ch.in_len, 1560);
	assert_int_equal(p.ch.ndesc, 5);
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
	pair_close(&p);
}

static void test_chain_kinds_accept_matching_chains(void **state)
{
	struct pair p;
	struct vq_sg out = { 0, 64 }, in = { 0, 64 };

	(void)state;
	pair_open(&p, 16, 0, 0);
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

	(void)state;
	pair_open(&p, 8, 0, 0);
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

	(void)state;
	pair_open_at(&p, 0, 8, 0, 0);
	assert_int_equal(p.drv.addrs.desc, 0);
	assert_int_equal(add_seq(&p, 0, 42), 0);
	vq_drv_kick_prepare(&p.drv);
	serve_seq(&p, 42);
	vq_dev_flush(&p.dev);
	reap_seq(&p, 0, 42);
	pair_close(&p);
}

/* Well past two 16-bit wraps of every index, with batches of varying size
 * so the wrap falls in the middle of a batch too. */
static void test_index_wrap_many_buffers(void **state)
{
	struct pair p;
	uint64_t sent = 0, served = 0, reaped = 0;
	const uint64_t total = 140000;

	(void)state;
	pair_open(&p, 32, 0, 0);
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

/* ---- notification suppression ---------------------------------------- */

static void one_frame(struct pair *p, uint64_t seq, bool rearm)
{
	assert_int_equal(add_seq(p, 0, seq), 0);
	vq_drv_kick_prepare(&p->drv);
	serve_seq(p, seq);
	vq_dev_flush(&p->dev);
	reap_seq(p, 0, seq);
	if (rearm)
		assert_false(vq_dev_set_notify(&p->dev, true));
}

static void test_event_idx_kicks_suppressed_without_rearm(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 16, VQ_F_EVENT_IDX, 0);
	vq_dev_set_notify(&p.dev, false);
	for (uint64_t i = 0; i < 1000; i++)
		one_frame(&p, i, false);
	/* avail_event stays at 0: only the first publish crosses it. */
	assert_int_equal(p.drv.stats.notify_needed, 1);
	assert_int_equal(p.drv.stats.notify_suppressed, 999);
	/* EVENT_IDX leaves used->flags alone (2.7.10). */
	assert_int_equal(p.drv.split.used->flags, 0);
	pair_close(&p);
}

static void test_event_idx_kick_after_rearm(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 16, VQ_F_EVENT_IDX, 0);
	for (uint64_t i = 0; i < 1000; i++)
		one_frame(&p, i, true);
	assert_int_equal(p.drv.stats.notify_needed, 1000);
	assert_int_equal(p.drv.stats.notify_suppressed, 0);
	assert_int_equal(*p.drv.split.avail_event, 1000);
	pair_close(&p);
}

static void test_event_idx_one_kick_per_batch(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 16, VQ_F_EVENT_IDX, 0);
	assert_int_equal(add_seq(&p, 0, 0), 0);
	assert_true(vq_drv_kick_prepare(&p.drv));
	/* Device is busy (has not re-armed): further publishes are quiet. */
	assert_int_equal(add_seq(&p, 1, 1), 0);
	assert_false(vq_drv_kick_prepare(&p.drv));
	assert_int_equal(add_seq(&p, 2, 2), 0);
	assert_false(vq_drv_kick_prepare(&p.drv));
	/* Device drains and re-arms; nothing new so it may sleep... */
	for (uint64_t s = 0; s < 3; s++)
		serve_seq(&p, s);
	assert_false(vq_dev_set_notify(&p.dev, true));
	/* ...and the next publish kicks it. */
	assert_int_equal(add_seq(&p, 3, 3), 0);
	assert_true(vq_drv_kick_prepare(&p.drv));
	pair_close(&p);
}

static void test_set_notify_reports_late_arrival(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 16, VQ_F_EVENT_IDX, 0);
	assert_false(vq_dev_set_notify(&p.dev, true));
	assert_int_equal(add_seq(&p, 0, 0), 0);
	vq_drv_kick_prepare(&p.drv);
	/* Arrived while the device was deciding to sleep: must poll. */
	assert_true(vq_dev_set_notify(&p.dev, true));
	pair_close(&p);
}

static void test_no_notify_flag_honoured(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 16, 0, 0);
	assert_false(vq_dev_set_notify(&p.dev, false));
	assert_int_equal(p.drv.split.used->flags, VIRTQ_USED_F_NO_NOTIFY);
	for (uint64_t i = 0; i < 100; i++)
		one_frame(&p, i, false);
	assert_int_equal(p.drv.stats.notify_needed, 0);
	assert_int_equal(p.drv.stats.notify_suppressed, 100);
	assert_false(vq_dev_set_notify(&p.dev, true));
	assert_int_equal(p.drv.split.used->flags, 0);
	assert_int_equal(add_seq(&p, 0, 100), 0);
	assert_true(vq_drv_kick_prepare(&p.drv));
	pair_close(&p);
}

static void test_no_interrupt_flag_honoured(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 16, 0, 0);
	vq_drv_disable_cb(&p.drv);
	assert_int_equal(p.drv.split.avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
	for (uint64_t i = 0; i < 100; i++)
		one_frame(&p, i, false);
	assert_int_equal(p.dev.stats.notify_needed, 0);
	assert_int_equal(p.dev.stats.notify_suppressed, 100);
	assert_true(vq_drv_enable_cb(&p.drv));
	assert_int_equal(p.drv.split.avail->flags, 0);
	assert_int_equal(add_seq(&p, 0, 100), 0);
	vq_drv_kick_prepare(&p.drv);
	serve_seq(&p, 100);
	assert_true(vq_dev_flush(&p.dev));
	pair_close(&p);
}

static void test_event_idx_interrupts_suppressed(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 16, VQ_F_EVENT_IDX, 0);
	vq_drv_disable_cb(&p.drv);
	assert_int_equal(p.drv.split.avail->flags, 0);	/* 2.7.7.1 */
	for (uint64_t i = 0; i < 1000; i++)
		one_frame(&p, i, false);
	assert_int_equal(p.dev.stats.notify_needed, 0);
	assert_int_equal(p.dev.stats.notify_suppressed, 1000);
	/* Re-enabled with nothing pending: the next used buffer interrupts,
	 * the ones after it (not re-enabled) do not. */
	assert_true(vq_drv_enable_cb(&p.drv));
	one_frame(&p, 1000, false);
	one_frame(&p, 1001, false);
	one_frame(&p, 1002, false);
	assert_int_equal(p.dev.stats.notify_needed, 1);
	assert_int_equal(p.dev.stats.notify_suppressed, 1002);
	pair_close(&p);
}

static void test_event_idx_one_interrupt_per_flush_batch(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 16, VQ_F_EVENT_IDX, 0);
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

	(void)state;
	pair_open(&p, 16, VQ_F_EVENT_IDX, 0);
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
	uint16_t head;

	(void)state;
	pair_open(&p, 16, VQ_F_INDIRECT, 8);
	for (unsigned k = 0; k < 3; k++) {
		sg[k].gpa = slot_gpa(&p, k);
		sg[k].len = 100 + k;
		memset(slot_ptr(&p, k), 0x30 + k, 100 + k);
	}
	assert_int_equal(vq_drv_add(&p.drv, sg, 2, 1, tok(3)), 0);
	assert_int_equal(vq_drv_num_free(&p.drv), 15);
	head = p.drv.split.avail->ring[0];
	assert_int_equal(p.drv.split.desc[head].flags, VIRTQ_DESC_F_INDIRECT);
	assert_int_equal(p.drv.split.desc[head].len, 3 * 16);
	vq_drv_kick_prepare(&p.drv);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(p.ch.id, head);
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
	assert_int_equal(vq_drv_num_free(&p.drv), 16);
	pair_close(&p);
}

static void test_indirect_not_used_for_single_or_oversized(void **state)
{
	struct pair p;
	struct vq_sg sg[5];

	(void)state;
	pair_open(&p, 16, VQ_F_INDIRECT, 4);
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

	(void)state;
	pair_open(&p, 8, VQ_F_INDIRECT | VQ_F_EVENT_IDX, 4);
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

static void test_ring_full_enospc(void **state)
{
	struct pair p;
	struct vq_sg sg[3];

	(void)state;
	pair_open(&p, 8, 0, 0);
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

static void test_add_rejects_bad_arguments(void **state)
{
	struct pair p;
	struct vq_sg sg[9];

	(void)state;
	pair_open(&p, 8, 0, 0);
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
	pair_close(&p);
}

static void test_pop_enobufs_keeps_chain(void **state)
{
	struct pair p;
	struct vq_sg sg[4];
	struct vq_buf small[2];
	struct vq_chain ch = { .bufs = small, .cap = 2 };

	(void)state;
	pair_open(&p, 8, 0, 0);
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

static void test_unpop_gives_chains_back(void **state)
{
	struct pair p;
	uint16_t first, second;

	(void)state;
	pair_open(&p, 8, 0, 0);
	assert_int_equal(add_seq(&p, 0, 10), 0);
	assert_int_equal(add_seq(&p, 1, 11), 0);
	vq_drv_kick_prepare(&p.drv);
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	first = p.ch.id;
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 1);
	second = p.ch.id;
	assert_int_equal(vq_dev_pop(&p.dev, &p.ch, VQ_CHAIN_ANY), 0);
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

	(void)state;
	pair_open(&p, 16, VQ_F_INDIRECT, 4);
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
	while ((t = vq_drv_detach_unused(&p.drv)) != NULL) {
		unsigned k = (unsigned)((uintptr_t)t - 1);

		assert_true(k >= 1 && k < 5);
		assert_false(seen & (1u << k));
		seen |= 1u << k;
	}
	assert_int_equal(seen, 0x1e);
	assert_int_equal(vq_drv_num_free(&p.drv), 16);
	assert_null(vq_drv_detach_unused(&p.drv));
	/* After the device reset the queue starts over from index 0. */
	assert_int_equal(p.drv.split.avail->idx, 0);
	vq_dev_reset(&p.dev);
	assert_int_equal(vq_dev_init(&p.dev, VQ_SPLIT, 16, VQ_F_INDIRECT,
				     &p.drv.addrs, &p.gm), 0);
	one_frame(&p, 77, false);
	pair_close(&p);
}

static void test_dev_reinit_keeps_indices(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 8, 0, 0);
	assert_int_equal(add_seq(&p, 0, 1), 0);
	assert_int_equal(add_seq(&p, 1, 2), 0);
	vq_drv_kick_prepare(&p.drv);
	serve_seq(&p, 1);
	/* Guest memory map changed (same RAM): re-translate, keep going. */
	assert_int_equal(vq_dev_init(&p.dev, VQ_SPLIT, 8, 0, &p.drv.addrs, &p.gm), 0);
	serve_seq(&p, 2);
	vq_dev_flush(&p.dev);
	reap_seq(&p, 0, 1);
	reap_seq(&p, 1, 2);
	pair_close(&p);
}

/* ---- driver-side checks of a misbehaving device ----------------------- */

/* One chain in flight (head 0, 8 writable bytes), then the "device"
 * writes used element {id, len} and bumps used->idx by hand. */
static void hostile_used(struct pair *p, uint32_t id, uint32_t len)
{
	assert_int_equal(add_seq(p, 0, 1), 0);
	vq_drv_kick_prepare(&p->drv);
	p->drv.split.used->ring[0].id = id;
	p->drv.split.used->ring[0].len = len;
	p->drv.split.used->idx = 1;
}

static void assert_drv_broken(struct pair *p, const char *word)
{
	assert_null(vq_drv_get(&p->drv, NULL));
	assert_true(p->drv.broken);
	assert_non_null(strstr(p->drv.reason, word));
	/* Fails fast from now on. */
	assert_null(vq_drv_get(&p->drv, NULL));
	assert_int_equal(add_seq(p, 3, 3), -EIO);
	assert_false(vq_drv_kick_prepare(&p->drv));
	assert_false(vq_drv_has_used(&p->drv));
}

static void test_drv_used_id_out_of_range(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 8, 0, 0);
	hostile_used(&p, 8, 0);
	assert_drv_broken(&p, "out of range");
	pair_close(&p);
}

static void test_drv_used_id_not_in_flight(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 8, 0, 0);
	hostile_used(&p, 5, 0);
	assert_drv_broken(&p, "not in flight");
	pair_close(&p);
}

static void test_drv_used_id_twice(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 8, 0, 0);
	hostile_used(&p, 0, 8);
	p.drv.split.used->ring[1] = p.drv.split.used->ring[0];
	p.drv.split.used->idx = 2;
	assert_ptr_equal(vq_drv_get(&p.drv, NULL), tok(0));
	assert_drv_broken(&p, "not in flight");
	pair_close(&p);
}

static void test_drv_used_len_too_large(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 8, 0, 0);
	hostile_used(&p, 0, 9);	/* only 8 writable bytes */
	assert_drv_broken(&p, "larger");
	pair_close(&p);
}

static void test_drv_used_index_jump(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 8, 0, 0);
	hostile_used(&p, 0, 0);
	p.drv.split.used->idx = 9;
	assert_drv_broken(&p, "jumped");
	pair_close(&p);
}

static void test_drv_used_index_backwards(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, 8, 0, 0);
	one_frame(&p, 1, false);
	p.drv.split.used->idx = 0;
	assert_drv_broken(&p, "jumped");
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_modern),
		cmocka_unit_test(test_layout_legacy_4096),
		cmocka_unit_test(test_layout_indirect_tables_counted),
		cmocka_unit_test(test_drv_init_refuses_bad_config),
		cmocka_unit_test(test_round_trip_request_reply),
		cmocka_unit_test(test_pop_on_empty_ring_returns_zero),
		cmocka_unit_test(test_multi_buffer_chain),
		cmocka_unit_test(test_chain_kinds_accept_matching_chains),
		cmocka_unit_test(test_zero_length_descriptor_counted),
		cmocka_unit_test(test_guest_address_zero_is_valid),
		cmocka_unit_test(test_index_wrap_many_buffers),
		cmocka_unit_test(test_event_idx_kicks_suppressed_without_rearm),
		cmocka_unit_test(test_event_idx_kick_after_rearm),
		cmocka_unit_test(test_event_idx_one_kick_per_batch),
		cmocka_unit_test(test_set_notify_reports_late_arrival),
		cmocka_unit_test(test_no_notify_flag_honoured),
		cmocka_unit_test(test_no_interrupt_flag_honoured),
		cmocka_unit_test(test_event_idx_interrupts_suppressed),
		cmocka_unit_test(test_event_idx_one_interrupt_per_flush_batch),
		cmocka_unit_test(test_enable_cb_reports_pending),
		cmocka_unit_test(test_indirect_uses_one_descriptor),
		cmocka_unit_test(test_indirect_not_used_for_single_or_oversized),
		cmocka_unit_test(test_indirect_many_round_trips),
		cmocka_unit_test(test_ring_full_enospc),
		cmocka_unit_test(test_add_rejects_bad_arguments),
		cmocka_unit_test(test_pop_enobufs_keeps_chain),
		cmocka_unit_test(test_unpop_gives_chains_back),
		cmocka_unit_test(test_detach_unused_returns_in_flight),
		cmocka_unit_test(test_dev_reinit_keeps_indices),
		cmocka_unit_test(test_drv_used_id_out_of_range),
		cmocka_unit_test(test_drv_used_id_not_in_flight),
		cmocka_unit_test(test_drv_used_id_twice),
		cmocka_unit_test(test_drv_used_len_too_large),
		cmocka_unit_test(test_drv_used_index_jump),
		cmocka_unit_test(test_drv_used_index_backwards),
	};

	log_set_level(LOG_ERR);	/* the broken-ring warnings are expected */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
