// SPDX-License-Identifier: MIT
/*
 * test_ring_broken.c - the device side of the split virtqueue against a
 * hostile guest.  Each test writes raw ring contents by hand, as a
 * malicious driver would, and checks that vq_dev_pop refuses with -EIO,
 * latches the queue broken with a reason that names the problem, and
 * fails fast from then on.  The last group checks vq_dev_init's refusals.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "common/gmem.h"
#include "common/log.h"
#include "common/ring/vq.h"

#define GPA	  0x80000000ull
#define MEM_BYTES 0x10000u
#define QSIZE	  8
#define DESC_OFF  0x000u
#define AVAIL_OFF 0x100u
#define USED_OFF  0x200u
#define TABLE_OFF 0x800u	/* indirect tables */
#define BUF_OFF	  0x1000u	/* buffers */
#define BUF	  (GPA + BUF_OFF)
#define TABLE	  (GPA + TABLE_OFF)

#define F_NEXT	   VIRTQ_DESC_F_NEXT
#define F_WRITE	   VIRTQ_DESC_F_WRITE
#define F_INDIRECT VIRTQ_DESC_F_INDIRECT

struct hostile {
	uint8_t *mem;
	struct gmem gm;
	struct vq_addrs a;
	struct vq_dev dev;
	struct virtq_desc *desc;
	struct virtq_desc *table;
	struct virtq_avail *avail;
	struct virtq_used *used;
	struct vq_buf bufs[QSIZE + 4];
	struct vq_chain ch;
};

static void h_open(struct hostile *h, uint32_t flags)
{
	memset(h, 0, sizeof(*h));
	h->mem = aligned_alloc(4096, MEM_BYTES);
	assert_non_null(h->mem);
	memset(h->mem, 0, MEM_BYTES);
	gmem_init(&h->gm);
	assert_int_equal(gmem_add(&h->gm, GPA, MEM_BYTES, h->mem, true), 0);
	h->a.desc = GPA + DESC_OFF;
	h->a.driver = GPA + AVAIL_OFF;
	h->a.device = GPA + USED_OFF;
	h->desc = (struct virtq_desc *)(void *)(h->mem + DESC_OFF);
	h->table = (struct virtq_desc *)(void *)(h->mem + TABLE_OFF);
	h->avail = (struct virtq_avail *)(void *)(h->mem + AVAIL_OFF);
	h->used = (struct virtq_used *)(void *)(h->mem + USED_OFF);
	h->ch.bufs = h->bufs;
	h->ch.cap = QSIZE + 4;
	assert_int_equal(vq_dev_init(&h->dev, VQ_SPLIT, QSIZE, flags, &h->a, &h->gm), 0);
}

static void h_close(struct hostile *h)
{
	gmem_clear(&h->gm);
	free(h->mem);
}

static void put(struct virtq_desc *t, unsigned i, uint64_t addr, uint32_t len,
		uint16_t flags, uint16_t next)
{
	t[i].addr = addr;
	t[i].len = len;
	t[i].flags = flags;
	t[i].next = next;
}

static void publish(struct hostile *h, uint16_t head)
{
	h->avail->ring[h->avail->idx % QSIZE] = head;
	h->avail->idx++;
}

/* Refused now, latched, and every later call fails fast. */
static void expect_broken(struct hostile *h, enum vq_chain_kind kind,
			  const char *word)
{
	uint16_t used_idx = h->used->idx;

	assert_int_equal(vq_dev_pop(&h->dev, &h->ch, kind), -EIO);
	assert_true(h->dev.broken);
	if (!strstr(h->dev.reason, word))
		fail_msg("reason \"%s\" does not mention \"%s\"", h->dev.reason, word);
	assert_int_equal(vq_dev_pop(&h->dev, &h->ch, kind), -EIO);
	assert_false(vq_dev_has_avail(&h->dev));
	assert_false(vq_dev_set_notify(&h->dev, true));
	vq_dev_push(&h->dev, &h->ch, 0);
	assert_false(vq_dev_flush(&h->dev));
	assert_int_equal(h->used->idx, used_idx);
}

/* One readable buffer in descriptor 0: a valid chain to start from. */
static void good_chain(struct hostile *h)
{
	put(h->desc, 0, BUF, 64, 0, 0);
	publish(h, 0);
}

/* ---- sanity: the fixture's good chain works ------------------------- */

static void test_good_chain_pops(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	good_chain(&h);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_READ_ONLY), 1);
	assert_ptr_equal(h.ch.bufs[0].ptr, h.mem + BUF_OFF);
	assert_false(h.dev.broken);
	h_close(&h);
}

/* ---- buffer addresses ------------------------------------------------ */

static void test_buffer_outside_ram(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, GPA + MEM_BYTES + 0x1000, 64, 0, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "outside guest memory");
	h_close(&h);
}

static void test_buffer_straddles_end_of_ram(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, GPA + MEM_BYTES - 10, 64, 0, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "outside guest memory");
	h_close(&h);
}

static void test_buffer_below_ram(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, GPA - 16, 64, 0, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "outside");
	h_close(&h);
}

static void test_buffer_address_plus_len_overflows(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, UINT64_MAX - 16, 64, 0, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "overflows");
	h_close(&h);
}

static void test_writable_buffer_in_read_only_memory(void **state)
{
	struct hostile h;
	static uint8_t ro[4096];

	(void)state;
	h_open(&h, 0);
	assert_int_equal(gmem_add(&h.gm, 0x1000000, sizeof(ro), ro, false), 0);
	put(h.desc, 0, 0x1000000, 64, F_WRITE, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "may not write");
	h_close(&h);
}

/* Three buffers of 1.5 GiB: each inside (reserved, never touched) guest
 * RAM, together more than a 32-bit length can say. */
static void test_chain_total_length_overflows(void **state)
{
	struct hostile h;
	const uint64_t big_gpa = 0x100000000ull, big = 5ull << 30;
	void *ram = mmap(NULL, big, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	(void)state;
	if (ram == MAP_FAILED)
		skip();
	h_open(&h, 0);
	assert_int_equal(gmem_add(&h.gm, big_gpa, big, ram, true), 0);
	put(h.desc, 0, big_gpa, 0x60000000u, F_NEXT, 1);
	put(h.desc, 1, big_gpa + 0x60000000u, 0x60000000u, F_NEXT, 2);
	put(h.desc, 2, big_gpa + 0xc0000000u, 0x60000000u, 0, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "overflows 32 bits");
	h_close(&h);
	munmap(ram, big);
}

/* ---- chain structure ------------------------------------------------- */

static void test_loop_in_next_chain(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, BUF, 16, F_NEXT, 1);
	put(h.desc, 1, BUF, 16, F_NEXT, 2);
	put(h.desc, 2, BUF, 16, F_NEXT, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "loops");
	h_close(&h);
}

static void test_descriptor_pointing_at_itself(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 3, BUF, 16, F_NEXT, 3);
	publish(&h, 3);
	expect_broken(&h, VQ_CHAIN_ANY, "loops");
	h_close(&h);
}

/* Only an indirect table can hold more distinct buffers than the queue
 * size (in the descriptor table that would be a loop). */
static void test_chain_longer_than_queue(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	for (unsigned i = 0; i < QSIZE + 1; i++)
		put(h.table, i, BUF, 16, i < QSIZE ? F_NEXT : 0, (uint16_t)(i + 1));
	put(h.desc, 0, TABLE, (QSIZE + 1) * 16, F_INDIRECT, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "longer than the queue size");
	h_close(&h);
}

static void test_avail_index_jump(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	h.avail->idx = QSIZE + 1;
	expect_broken(&h, VQ_CHAIN_ANY, "avail index jumped from 0 to 9");
	h_close(&h);
}

static void test_avail_index_moves_backwards(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	good_chain(&h);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 1);
	h.avail->idx = 0;	/* 0 - 1 = 65535 chains outstanding */
	expect_broken(&h, VQ_CHAIN_ANY, "jumped");
	h_close(&h);
}

static void test_avail_index_jump_seen_by_has_avail(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	h.avail->idx = 0x8000;
	assert_false(vq_dev_has_avail(&h.dev));
	assert_true(h.dev.broken);
	assert_non_null(strstr(h.dev.reason, "jumped"));
	h_close(&h);
}

static void test_head_id_out_of_range(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	publish(&h, QSIZE);
	expect_broken(&h, VQ_CHAIN_ANY, "head id 8 >= queue size 8");
	h_close(&h);
}

static void test_next_out_of_range(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, BUF, 16, F_NEXT, QSIZE);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "next 8 is beyond the descriptor table");
	h_close(&h);
}

/* ---- direction ------------------------------------------------------- */

static void test_writable_in_read_only_chain(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, BUF, 16, F_NEXT, 1);
	put(h.desc, 1, BUF + 64, 16, F_WRITE, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_READ_ONLY, "descriptor 1 is device-writable");
	h_close(&h);
}

static void test_readable_in_write_only_chain(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 2, BUF, 16, 0, 0);
	publish(&h, 2);
	expect_broken(&h, VQ_CHAIN_WRITE_ONLY, "descriptor 2 is device-readable");
	h_close(&h);
}

static void test_readable_after_writable(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, BUF, 16, F_WRITE | F_NEXT, 1);
	put(h.desc, 1, BUF + 64, 16, 0, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "readable buffer after a device-writable");
	h_close(&h);
}

/* ---- indirect -------------------------------------------------------- */

static void test_indirect_without_negotiation(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.table, 0, BUF, 16, 0, 0);
	put(h.desc, 0, TABLE, 16, F_INDIRECT, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "not negotiated");
	h_close(&h);
}

static void test_nested_indirect(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.table, 0, BUF, 16, F_NEXT, 1);
	put(h.table, 1, TABLE + 0x100, 16, F_INDIRECT, 0);
	put(h.desc, 0, TABLE, 32, F_INDIRECT, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "nested indirect");
	h_close(&h);
}

static void test_indirect_with_next(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.table, 0, BUF, 16, 0, 0);
	put(h.desc, 0, TABLE, 16, F_INDIRECT | F_NEXT, 1);
	put(h.desc, 1, BUF, 16, 0, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "both INDIRECT and NEXT");
	h_close(&h);
}

static void test_indirect_len_not_multiple_of_16(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.table, 0, BUF, 16, 0, 0);
	put(h.desc, 0, TABLE, 24, F_INDIRECT, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "length 24 is not a non-zero multiple of 16");
	h_close(&h);
}

static void test_indirect_len_zero(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.desc, 0, TABLE, 0, F_INDIRECT, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "length 0 is not a non-zero multiple");
	h_close(&h);
}

static void test_indirect_table_outside_ram(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.desc, 0, GPA + MEM_BYTES - 16, 32, F_INDIRECT, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "indirect table");
	assert_non_null(strstr(h.dev.reason, "outside guest memory"));
	h_close(&h);
}

static void test_indirect_next_beyond_table(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.table, 0, BUF, 16, F_NEXT, 2);	/* table has 2 entries */
	put(h.table, 1, BUF, 16, 0, 0);
	put(h.desc, 0, TABLE, 32, F_INDIRECT, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "beyond the indirect table");
	h_close(&h);
}

static void test_indirect_loop(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.table, 0, BUF, 16, F_NEXT, 1);
	put(h.table, 1, BUF, 16, F_NEXT, 0);
	put(h.desc, 0, TABLE, 32, F_INDIRECT, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "loops");
	h_close(&h);
}

static void test_indirect_buffer_outside_ram(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.table, 0, BUF, 16, F_NEXT, 1);
	put(h.table, 1, GPA + 2 * MEM_BYTES, 16, 0, 0);
	put(h.desc, 5, TABLE, 32, F_INDIRECT, 0);
	publish(&h, 5);
	expect_broken(&h, VQ_CHAIN_ANY, "indirect entry 1 of descriptor 5");
	assert_non_null(strstr(h.dev.reason, "outside guest memory"));
	h_close(&h);
}

static void test_indirect_wrong_direction(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.table, 0, BUF, 16, F_WRITE, 0);
	put(h.desc, 0, TABLE, 16, F_INDIRECT, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_READ_ONLY, "device-writable");
	h_close(&h);
}

/* Direct descriptors then one indirect (2.7.5.3.2: must be accepted). */
static void test_direct_then_indirect_accepted(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.desc, 0, BUF, 16, F_NEXT, 1);
	put(h.desc, 1, TABLE, 32, F_INDIRECT, 0);
	put(h.table, 0, BUF + 16, 16, F_NEXT, 1);
	put(h.table, 1, BUF + 32, 16, F_WRITE, 0);
	publish(&h, 0);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(h.ch.n_out, 2);
	assert_int_equal(h.ch.n_in, 1);
	assert_ptr_equal(h.ch.bufs[2].ptr, h.mem + BUF_OFF + 32);
	assert_false(h.dev.broken);
	h_close(&h);
}

/* ---- the latch -------------------------------------------------------- */

static void test_broken_stays_broken_until_reset(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	publish(&h, QSIZE);
	expect_broken(&h, VQ_CHAIN_ANY, "head");
	/* The guest repairs the ring: still refused. */
	h.avail->ring[0] = 0;
	put(h.desc, 0, BUF, 16, 0, 0);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), -EIO);
	/* Re-translating the same queue keeps the latch too. */
	assert_int_equal(vq_dev_init(&h.dev, VQ_SPLIT, QSIZE, 0, &h.a, &h.gm), 0);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), -EIO);
	/* A device reset clears it. */
	vq_dev_reset(&h.dev);
	assert_false(h.dev.broken);
	assert_int_equal(vq_dev_init(&h.dev, VQ_SPLIT, QSIZE, 0, &h.a, &h.gm), 0);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 1);
	h_close(&h);
}

static void test_set_broken_keeps_first_reason(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	good_chain(&h);
	vq_dev_set_broken(&h.dev, "tx chain of %u bytes is shorter than the net header", 4u);
	vq_dev_set_broken(&h.dev, "second");
	assert_string_equal(h.dev.reason, "tx chain of 4 bytes is shorter than the net header");
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), -EIO);
	h_close(&h);
}

/* ---- vq_dev_init refusals --------------------------------------------- */

static void expect_init_refused(struct hostile *h, uint16_t size, uint32_t flags,
				const char *word)
{
	struct vq_dev dev;

	memset(&dev, 0, sizeof(dev));
	assert_int_equal(vq_dev_init(&dev, VQ_SPLIT, size, flags, &h->a, &h->gm),
			 -EINVAL);
	assert_false(dev.ready);
	if (!strstr(dev.reason, word))
		fail_msg("reason \"%s\" does not mention \"%s\"", dev.reason, word);
	assert_int_equal(vq_dev_pop(&dev, &h->ch, VQ_CHAIN_ANY), -EIO);
	assert_false(vq_dev_flush(&dev));
}

static void test_init_refuses_misaligned_desc(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	h.a.desc += 8;
	expect_init_refused(&h, QSIZE, 0, "descriptor table at 0x80000008 is not 16-byte aligned");
	h_close(&h);
}

static void test_init_refuses_misaligned_avail(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	h.a.driver += 1;
	expect_init_refused(&h, QSIZE, 0, "available ring at 0x80000101 is not 2-byte aligned");
	h_close(&h);
}

static void test_init_refuses_misaligned_used(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	h.a.device += 2;
	expect_init_refused(&h, QSIZE, 0, "used ring at 0x80000202 is not 4-byte aligned");
	h_close(&h);
}

static void test_init_refuses_desc_outside_ram(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	h.a.desc = GPA + MEM_BYTES;
	expect_init_refused(&h, QSIZE, 0, "descriptor table at 0x80010000 (128 bytes) is outside");
	h_close(&h);
}

/* Used ring whose last 2 bytes (avail_event) fall off the end of RAM:
 * fine without EVENT_IDX, refused with it. */
static void test_init_checks_avail_event_extent(void **state)
{
	struct hostile h;
	struct vq_dev dev;

	(void)state;
	h_open(&h, 0);
	h.a.device = GPA + MEM_BYTES - (4 + 8 * QSIZE);
	memset(&dev, 0, sizeof(dev));
	assert_int_equal(vq_dev_init(&dev, VQ_SPLIT, QSIZE, 0, &h.a, &h.gm), 0);
	expect_init_refused(&h, QSIZE, VQ_F_EVENT_IDX, "used ring");
	h_close(&h);
}

static void test_init_checks_used_event_extent(void **state)
{
	struct hostile h;
	struct vq_dev dev;

	(void)state;
	h_open(&h, 0);
	h.a.driver = GPA + MEM_BYTES - (4 + 2 * QSIZE);
	memset(&dev, 0, sizeof(dev));
	assert_int_equal(vq_dev_init(&dev, VQ_SPLIT, QSIZE, 0, &h.a, &h.gm), 0);
	expect_init_refused(&h, QSIZE, VQ_F_EVENT_IDX, "available ring");
	h_close(&h);
}

static void test_init_refuses_read_only_used_ring(void **state)
{
	struct hostile h;
	static uint8_t ro[4096] __attribute__((aligned(16)));

	(void)state;
	h_open(&h, 0);
	assert_int_equal(gmem_add(&h.gm, 0x1000000, sizeof(ro), ro, false), 0);
	h.a.device = 0x1000000;
	expect_init_refused(&h, QSIZE, 0, "may not write");
	h_close(&h);
}

static void test_init_refuses_bad_sizes(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	expect_init_refused(&h, 0, 0, "bad queue size 0");
	expect_init_refused(&h, 3, 0, "bad queue size 3");
	expect_init_refused(&h, 48, 0, "power of 2");
	expect_init_refused(&h, 65535, 0, "bad queue size 65535");
	h_close(&h);
}

/* A queue too big for the memory: the descriptor table's extent counts. */
static void test_init_refuses_queue_too_big_for_ram(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	expect_init_refused(&h, 32768, 0, "outside guest memory");
	h_close(&h);
}

static void test_init_after_refusal_starts_fresh(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	h.a.desc += 8;
	assert_int_equal(vq_dev_init(&h.dev, VQ_SPLIT, QSIZE, 0, &h.a, &h.gm), -EINVAL);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), -EIO);
	h.a.desc -= 8;
	assert_int_equal(vq_dev_init(&h.dev, VQ_SPLIT, QSIZE, 0, &h.a, &h.gm), 0);
	assert_false(h.dev.broken);
	good_chain(&h);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 1);
	h_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_chain_pops),
		cmocka_unit_test(test_buffer_outside_ram),
		cmocka_unit_test(test_buffer_straddles_end_of_ram),
		cmocka_unit_test(test_buffer_below_ram),
		cmocka_unit_test(test_buffer_address_plus_len_overflows),
		cmocka_unit_test(test_writable_buffer_in_read_only_memory),
		cmocka_unit_test(test_chain_total_length_overflows),
		cmocka_unit_test(test_loop_in_next_chain),
		cmocka_unit_test(test_descriptor_pointing_at_itself),
		cmocka_unit_test(test_chain_longer_than_queue),
		cmocka_unit_test(test_avail_index_jump),
		cmocka_unit_test(test_avail_index_moves_backwards),
		cmocka_unit_test(test_avail_index_jump_seen_by_has_avail),
		cmocka_unit_test(test_head_id_out_of_range),
		cmocka_unit_test(test_next_out_of_range),
		cmocka_unit_test(test_writable_in_read_only_chain),
		cmocka_unit_test(test_readable_in_write_only_chain),
		cmocka_unit_test(test_readable_after_writable),
		cmocka_unit_test(test_indirect_without_negotiation),
		cmocka_unit_test(test_nested_indirect),
		cmocka_unit_test(test_indirect_with_next),
		cmocka_unit_test(test_indirect_len_not_multiple_of_16),
		cmocka_unit_test(test_indirect_len_zero),
		cmocka_unit_test(test_indirect_table_outside_ram),
		cmocka_unit_test(test_indirect_next_beyond_table),
		cmocka_unit_test(test_indirect_loop),
		cmocka_unit_test(test_indirect_buffer_outside_ram),
		cmocka_unit_test(test_indirect_wrong_direction),
		cmocka_unit_test(test_direct_then_indirect_accepted),
		cmocka_unit_test(test_broken_stays_broken_until_reset),
		cmocka_unit_test(test_set_broken_keeps_first_reason),
		cmocka_unit_test(test_init_refuses_misaligned_desc),
		cmocka_unit_test(test_init_refuses_misaligned_avail),
		cmocka_unit_test(test_init_refuses_misaligned_used),
		cmocka_unit_test(test_init_refuses_desc_outside_ram),
		cmocka_unit_test(test_init_checks_avail_event_extent),
		cmocka_unit_test(test_init_checks_used_event_extent),
		cmocka_unit_test(test_init_refuses_read_only_used_ring),
		cmocka_unit_test(test_init_refuses_bad_sizes),
		cmocka_unit_test(test_init_refuses_queue_too_big_for_ram),
		cmocka_unit_test(test_init_after_refusal_starts_fresh),
	};

	log_set_level(LOG_ERR);	/* every test here breaks a ring on purpose */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
