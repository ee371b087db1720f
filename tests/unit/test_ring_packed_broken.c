// SPDX-License-Identifier: MIT
/*
 * test_ring_packed_broken.c - the packed virtqueue (2.8) against a hostile
 * other side.  Device side: each test writes raw descriptors by hand, as a
 * malicious driver would, and checks that vq_dev_pop refuses with -EIO,
 * latches the queue broken with a reason that names the problem, touches
 * nothing in the ring, and fails fast from then on.  Then vq_dev_init's
 * refusals, then the driver side against a hostile device's used
 * descriptors.
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
#define DRV_OFF	  0x100u	/* driver event suppression structure */
#define DEV_OFF	  0x104u	/* device event suppression structure */
#define TABLE_OFF 0x800u	/* indirect tables */
#define BUF_OFF	  0x1000u	/* buffers */
#define BUF	  (GPA + BUF_OFF)
#define TABLE	  (GPA + TABLE_OFF)

#define F_NEXT	   VIRTQ_DESC_F_NEXT
#define F_WRITE	   VIRTQ_DESC_F_WRITE
#define F_INDIRECT VIRTQ_DESC_F_INDIRECT
/* Available in the first lap (driver wrap counter 1): AVAIL=1, USED=0. */
#define A	   VIRTQ_PACKED_DESC_F_AVAIL
#define U	   VIRTQ_PACKED_DESC_F_USED

struct hostile {
	uint8_t *mem;
	struct gmem gm;
	struct vq_addrs a;
	struct vq_dev dev;
	struct virtq_packed_desc *desc;
	struct virtq_packed_desc *table;
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
	h->a.driver = GPA + DRV_OFF;
	h->a.device = GPA + DEV_OFF;
	h->desc = (struct virtq_packed_desc *)(void *)(h->mem + DESC_OFF);
	h->table = (struct virtq_packed_desc *)(void *)(h->mem + TABLE_OFF);
	h->ch.bufs = h->bufs;
	h->ch.cap = QSIZE + 4;
	assert_int_equal(vq_dev_init(&h->dev, VQ_PACKED, QSIZE, flags, &h->a, &h->gm), 0);
}

static void h_close(struct hostile *h)
{
	gmem_clear(&h->gm);
	free(h->mem);
}

static void put(struct virtq_packed_desc *t, unsigned i, uint64_t addr,
		uint32_t len, uint16_t id, uint16_t flags)
{
	t[i].addr = addr;
	t[i].len = len;
	t[i].id = id;
	t[i].flags = flags;
}

/* Refused now, latched, the ring left alone, and every later call fails
 * fast. */
static void expect_broken(struct hostile *h, enum vq_chain_kind kind,
			  const char *word)
{
	uint8_t before[QSIZE * 16 + 8];

	memcpy(before, h->mem + DESC_OFF, sizeof(before));
	assert_int_equal(vq_dev_pop(&h->dev, &h->ch, kind), -EIO);
	assert_true(h->dev.broken);
	if (!strstr(h->dev.reason, word))
		fail_msg("reason \"%s\" does not mention \"%s\"", h->dev.reason, word);
	assert_int_equal(vq_dev_pop(&h->dev, &h->ch, kind), -EIO);
	assert_false(vq_dev_has_avail(&h->dev));
	assert_false(vq_dev_set_notify(&h->dev, true));
	h->ch.ndesc = 1;
	vq_dev_push(&h->dev, &h->ch, 0);
	assert_false(vq_dev_flush(&h->dev));
	vq_dev_unpop(&h->dev, &h->ch);
	assert_memory_equal(before, h->mem + DESC_OFF, sizeof(before));
}

/* ---- sanity: well-formed chains pop ------------------------------------ */

static void test_good_chain_pops(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, BUF, 64, 3, A);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_READ_ONLY), 1);
	assert_ptr_equal(h.ch.bufs[0].ptr, h.mem + BUF_OFF);
	assert_int_equal(h.ch.id, 3);
	assert_false(h.dev.broken);
	h_close(&h);
}

/* 2.8.6: the buffer id is in the last descriptor of the list; the ids
 * in the others (here deliberately different) do not count. */
static void test_id_taken_from_last_descriptor(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, BUF, 16, 5, A | F_NEXT);
	put(h.desc, 1, BUF + 16, 16, 6, A | F_NEXT);
	put(h.desc, 2, BUF + 32, 16, 7, A | F_WRITE);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(h.ch.id, 7);
	assert_int_equal(h.ch.ndesc, 3);
	assert_false(h.dev.broken);
	h_close(&h);
}

/* Stale or foreign flag states are simply "not available" (2.8.1): a used
 * descriptor (AVAIL == USED) and one of the other lap (AVAIL == 0). */
static void test_not_available_states(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, BUF, 16, 0, A | U);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 0);
	put(h.desc, 0, BUF, 16, 0, U);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 0);
	put(h.desc, 0, BUF, 16, 0, 0);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 0);
	assert_false(vq_dev_has_avail(&h.dev));
	assert_false(h.dev.broken);
	h_close(&h);
}

/* ---- buffer addresses ------------------------------------------------ */

static void test_buffer_outside_ram(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, GPA + MEM_BYTES + 0x1000, 64, 0, A);
	expect_broken(&h, VQ_CHAIN_ANY, "ring slot 0: buffer 0x80011000 (64 bytes) is outside guest memory");
	h_close(&h);
}

static void test_buffer_straddles_end_of_ram(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, GPA + MEM_BYTES - 10, 64, 0, A);
	expect_broken(&h, VQ_CHAIN_ANY, "outside guest memory");
	h_close(&h);
}

static void test_buffer_below_ram(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, GPA - 16, 64, 0, A);
	expect_broken(&h, VQ_CHAIN_ANY, "outside");
	h_close(&h);
}

static void test_buffer_address_plus_len_overflows(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, UINT64_MAX - 16, 64, 0, A);
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
	put(h.desc, 0, 0x1000000, 64, 0, A | F_WRITE);
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
	put(h.desc, 0, big_gpa, 0x60000000u, 0, A | F_NEXT);
	put(h.desc, 1, big_gpa + 0x60000000u, 0x60000000u, 0, A | F_NEXT);
	put(h.desc, 2, big_gpa + 0xc0000000u, 0x60000000u, 0, A);
	expect_broken(&h, VQ_CHAIN_ANY, "overflows 32 bits");
	h_close(&h);
	munmap(ram, big);
}

/* ---- list structure --------------------------------------------------- */

/* NEXT on every descriptor of the ring: the list would go round forever. */
static void test_chain_never_ends(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	for (unsigned i = 0; i < QSIZE; i++)
		put(h.desc, i, BUF, 16, 0, A | F_NEXT);
	expect_broken(&h, VQ_CHAIN_ANY, "chain from ring slot 0 never ends");
	h_close(&h);
}

/* The same, starting mid-ring, so the walk crosses the end (where the
 * wrap counter flips and slot 0's bits no longer match) first. */
static void test_chain_runs_into_next_lap(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	for (unsigned i = 0; i < 5; i++)
		put(h.desc, i, BUF, 16, i, A);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 1);
	for (unsigned i = 5; i < QSIZE; i++)
		put(h.desc, i, BUF, 16, 0, A | F_NEXT);
	/* Slot 0 of the next lap would need AVAIL=0, USED=1. */
	expect_broken(&h, VQ_CHAIN_ANY, "ring slot 0 continues the chain from slot 5 but is not available");
	h_close(&h);
}

static void test_chain_into_unavailable_descriptor(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, BUF, 16, 0, A | F_NEXT);
	put(h.desc, 1, BUF, 16, 0, 0);	/* never made available */
	expect_broken(&h, VQ_CHAIN_ANY, "ring slot 1 continues the chain from slot 0 but is not available");
	h_close(&h);
}

/* Only an indirect table can hold more buffers than the queue size. */
static void test_chain_longer_than_queue(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	for (unsigned i = 0; i < QSIZE + 1; i++)
		put(h.table, i, BUF, 16, 0, 0);
	put(h.desc, 0, TABLE, (QSIZE + 1) * 16, 0, A | F_INDIRECT);
	expect_broken(&h, VQ_CHAIN_ANY, "longer than the queue size");
	h_close(&h);
}

/* ---- direction ------------------------------------------------------- */

static void test_writable_in_read_only_chain(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, BUF, 16, 0, A | F_NEXT);
	put(h.desc, 1, BUF + 64, 16, 0, A | F_WRITE);
	expect_broken(&h, VQ_CHAIN_READ_ONLY, "ring slot 1 is device-writable");
	h_close(&h);
}

static void test_readable_in_write_only_chain(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, BUF, 16, 0, A);
	expect_broken(&h, VQ_CHAIN_WRITE_ONLY, "ring slot 0 is device-readable");
	h_close(&h);
}

static void test_readable_after_writable(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, BUF, 16, 0, A | F_WRITE | F_NEXT);
	put(h.desc, 1, BUF + 64, 16, 0, A);
	expect_broken(&h, VQ_CHAIN_ANY, "readable buffer after a device-writable");
	h_close(&h);
}

/* ---- indirect (2.8.7, 2.8.19) ------------------------------------------ */

static void test_indirect_without_negotiation(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.table, 0, BUF, 16, 0, 0);
	put(h.desc, 0, TABLE, 16, 0, A | F_INDIRECT);
	expect_broken(&h, VQ_CHAIN_ANY, "not negotiated");
	h_close(&h);
}

static void test_nested_indirect(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.table, 0, BUF, 16, 0, 0);
	put(h.table, 1, TABLE + 0x100, 16, 0, F_INDIRECT);
	put(h.desc, 0, TABLE, 32, 0, A | F_INDIRECT);
	expect_broken(&h, VQ_CHAIN_ANY, "nested indirect");
	h_close(&h);
}

static void test_indirect_with_next(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.table, 0, BUF, 16, 0, 0);
	put(h.desc, 0, TABLE, 16, 0, A | F_INDIRECT | F_NEXT);
	put(h.desc, 1, BUF, 16, 0, A);
	expect_broken(&h, VQ_CHAIN_ANY, "both INDIRECT and NEXT");
	h_close(&h);
}

/* Unlike split rings (2.7.5.3.2), a packed list is direct or indirect,
 * never both (2.8.5, 2.8.19). */
static void test_indirect_after_next(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.table, 0, BUF, 16, 0, 0);
	put(h.desc, 0, BUF, 16, 0, A | F_NEXT);
	put(h.desc, 1, TABLE, 16, 0, A | F_INDIRECT);
	expect_broken(&h, VQ_CHAIN_ANY, "INDIRECT inside the NEXT list from slot 0");
	h_close(&h);
}

static void test_indirect_len_not_multiple_of_16(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.table, 0, BUF, 16, 0, 0);
	put(h.desc, 0, TABLE, 24, 0, A | F_INDIRECT);
	expect_broken(&h, VQ_CHAIN_ANY, "length 24 is not a non-zero multiple of 16");
	h_close(&h);
}

static void test_indirect_len_zero(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.desc, 0, TABLE, 0, 0, A | F_INDIRECT);
	expect_broken(&h, VQ_CHAIN_ANY, "length 0 is not a non-zero multiple");
	h_close(&h);
}

static void test_indirect_table_outside_ram(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.desc, 0, GPA + MEM_BYTES - 16, 32, 0, A | F_INDIRECT);
	expect_broken(&h, VQ_CHAIN_ANY, "indirect table 0x8000fff0 (32 bytes) is outside guest memory");
	h_close(&h);
}

static void test_indirect_table_address_overflows(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.desc, 0, UINT64_MAX - 15, 32, 0, A | F_INDIRECT);
	expect_broken(&h, VQ_CHAIN_ANY, "indirect table");
	assert_non_null(strstr(h.dev.reason, "overflows"));
	h_close(&h);
}

static void test_indirect_buffer_outside_ram(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	for (unsigned i = 0; i < 5; i++)
		put(h.desc, i, BUF, 16, i, A);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 1);
	put(h.table, 0, BUF, 16, 0, 0);
	put(h.table, 1, GPA + 2 * MEM_BYTES, 16, 0, 0);
	put(h.desc, 5, TABLE, 32, 0, A | F_INDIRECT);
	expect_broken(&h, VQ_CHAIN_ANY, "indirect entry 1 of ring slot 5");
	assert_non_null(strstr(h.dev.reason, "outside guest memory"));
	h_close(&h);
}

static void test_indirect_wrong_direction(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.table, 0, BUF, 16, 0, F_WRITE);
	put(h.desc, 0, TABLE, 16, 0, A | F_INDIRECT);
	expect_broken(&h, VQ_CHAIN_READ_ONLY, "indirect entry 0 of ring slot 0 is device-writable");
	h_close(&h);
}

static void test_indirect_readable_after_writable(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.table, 0, BUF, 16, 0, F_WRITE);
	put(h.table, 1, BUF, 16, 0, 0);
	put(h.desc, 0, TABLE, 32, 0, A | F_INDIRECT);
	expect_broken(&h, VQ_CHAIN_ANY, "readable buffer after a device-writable");
	h_close(&h);
}

/* Entries are consecutive; NEXT (and ids) in them are reserved and
 * ignored by the device (2.8.7), so a table that sets them still pops. */
static void test_indirect_entries_ignore_next_and_id(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, VQ_F_INDIRECT);
	put(h.table, 0, BUF, 16, 77, F_NEXT);
	put(h.table, 1, BUF + 16, 16, 78, F_WRITE | F_NEXT);
	put(h.table, 2, BUF + 32, 16, 79, F_WRITE);
	put(h.desc, 0, TABLE, 48, 4, A | F_INDIRECT | F_WRITE);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(h.ch.id, 4);
	assert_int_equal(h.ch.ndesc, 1);
	assert_int_equal(h.ch.n_out, 1);
	assert_int_equal(h.ch.n_in, 2);
	assert_false(h.dev.broken);
	h_close(&h);
}

/* ---- the latch -------------------------------------------------------- */

static void test_broken_stays_broken_until_reset(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, GPA + 2 * MEM_BYTES, 16, 0, A);
	expect_broken(&h, VQ_CHAIN_ANY, "outside");
	/* The guest repairs the ring: still refused. */
	put(h.desc, 0, BUF, 16, 0, A);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), -EIO);
	/* Re-translating the same queue keeps the latch too. */
	assert_int_equal(vq_dev_init(&h.dev, VQ_PACKED, QSIZE, 0, &h.a, &h.gm), 0);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), -EIO);
	/* A device reset clears it. */
	vq_dev_reset(&h.dev);
	assert_false(h.dev.broken);
	assert_int_equal(vq_dev_init(&h.dev, VQ_PACKED, QSIZE, 0, &h.a, &h.gm), 0);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 1);
	h_close(&h);
}

static void test_set_broken_keeps_first_reason(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	put(h.desc, 0, BUF, 16, 0, A);
	vq_dev_set_broken(&h.dev, "rx chain of %u bytes is too short", 4u);
	vq_dev_set_broken(&h.dev, "second");
	assert_string_equal(h.dev.reason, "rx chain of 4 bytes is too short");
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), -EIO);
	h_close(&h);
}

/* ---- vq_dev_init refusals --------------------------------------------- */

static void expect_init_refused(struct hostile *h, uint16_t size, const char *word)
{
	struct vq_dev dev;

	memset(&dev, 0, sizeof(dev));
	assert_int_equal(vq_dev_init(&dev, VQ_PACKED, size, 0, &h->a, &h->gm), -EINVAL);
	assert_false(dev.ready);
	if (!strstr(dev.reason, word))
		fail_msg("reason \"%s\" does not mention \"%s\"", dev.reason, word);
	assert_int_equal(vq_dev_pop(&dev, &h->ch, VQ_CHAIN_ANY), -EIO);
	assert_false(vq_dev_flush(&dev));
	assert_false(vq_dev_has_avail(&dev));
}

static void test_init_refuses_misaligned_desc(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	h.a.desc += 8;
	expect_init_refused(&h, QSIZE, "descriptor ring at 0x80000008 is not 16-byte aligned");
	h_close(&h);
}

static void test_init_refuses_misaligned_driver_event(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	h.a.driver += 2;
	expect_init_refused(&h, QSIZE, "driver event suppression structure at 0x80000102 is not 4-byte aligned");
	h_close(&h);
}

static void test_init_refuses_misaligned_device_event(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	h.a.device += 1;
	expect_init_refused(&h, QSIZE, "device event suppression structure at 0x80000105 is not 4-byte aligned");
	h_close(&h);
}

static void test_init_refuses_desc_outside_ram(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	h.a.desc = GPA + MEM_BYTES - 64;	/* 128 bytes needed */
	expect_init_refused(&h, QSIZE, "descriptor ring at 0x8000ffc0 (128 bytes) is outside");
	h_close(&h);
}

static void test_init_refuses_events_outside_ram(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	h.a.driver = GPA + MEM_BYTES;
	expect_init_refused(&h, QSIZE, "driver event suppression structure at 0x80010000 (4 bytes) is outside");
	h.a.driver = GPA + DRV_OFF;
	h.a.device = 0x1000;
	expect_init_refused(&h, QSIZE, "device event suppression structure at 0x1000 (4 bytes) is outside");
	h_close(&h);
}

/* The device writes used descriptors into the ring and its own event
 * structure: both need writable guest memory. */
static void test_init_refuses_read_only_parts(void **state)
{
	struct hostile h;
	static uint8_t ro[4096] __attribute__((aligned(16)));

	(void)state;
	h_open(&h, 0);
	assert_int_equal(gmem_add(&h.gm, 0x1000000, sizeof(ro), ro, false), 0);
	h.a.desc = 0x1000000;
	expect_init_refused(&h, QSIZE, "descriptor ring at 0x1000000 (128 bytes) is in guest memory the device may not write");
	h.a.desc = GPA + DESC_OFF;
	h.a.device = 0x1000000;
	expect_init_refused(&h, QSIZE, "device event suppression structure at 0x1000000 (4 bytes) is in guest memory the device may not write");
	/* The driver's structure is only read: read-only memory will do. */
	h.a.device = GPA + DEV_OFF;
	h.a.driver = 0x1000000;
	{
		struct vq_dev dev;

		memset(&dev, 0, sizeof(dev));
		assert_int_equal(vq_dev_init(&dev, VQ_PACKED, QSIZE, 0, &h.a, &h.gm), 0);
	}
	h_close(&h);
}

static void test_init_sizes(void **state)
{
	struct hostile h;
	struct vq_dev dev;

	(void)state;
	h_open(&h, 0);
	expect_init_refused(&h, 0, "bad queue size 0");
	expect_init_refused(&h, 32769, "bad queue size 32769");
	expect_init_refused(&h, 65535, "bad queue size 65535");
	/* 2.8: not a power of two is fine. */
	memset(&dev, 0, sizeof(dev));
	assert_int_equal(vq_dev_init(&dev, VQ_PACKED, 15, 0, &h.a, &h.gm), 0);
	h_close(&h);
}

static void test_init_refuses_queue_too_big_for_ram(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	expect_init_refused(&h, 32768, "descriptor ring at 0x80000000 (524288 bytes) is outside guest memory");
	h_close(&h);
}

static void test_init_after_refusal_starts_fresh(void **state)
{
	struct hostile h;

	(void)state;
	h_open(&h, 0);
	h.a.desc += 8;
	assert_int_equal(vq_dev_init(&h.dev, VQ_PACKED, QSIZE, 0, &h.a, &h.gm), -EINVAL);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), -EIO);
	h.a.desc -= 8;
	assert_int_equal(vq_dev_init(&h.dev, VQ_PACKED, QSIZE, 0, &h.a, &h.gm), 0);
	assert_false(h.dev.broken);
	put(h.desc, 0, BUF, 16, 0, A);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 1);
	h_close(&h);
}

/* ---- driver side against a hostile device ------------------------------- */

struct hdrv {
	uint8_t *mem;
	struct vq_drv drv;
};

/* One chain in flight (8 readable + 8 writable bytes, two slots), then
 * the "device" writes a used descriptor {id, len, flags} at slot 0. */
static void hdrv_open(struct hdrv *d, uint16_t id, uint32_t len, uint16_t flags)
{
	struct vq_drv_cfg cfg = { .layout = VQ_PACKED, .size = QSIZE };
	struct vq_sg sg[2] = { { GPA + BUF_OFF, 8 }, { GPA + BUF_OFF + 64, 8 } };

	d->mem = aligned_alloc(4096, MEM_BYTES);
	assert_non_null(d->mem);
	assert_int_equal(vq_drv_init(&d->drv, &cfg, d->mem, GPA), 0);
	assert_int_equal(vq_drv_add(&d->drv, sg, 1, 1, (void *)(uintptr_t)1), 0);
	vq_drv_kick_prepare(&d->drv);
	d->drv.packed.desc[0].id = id;
	d->drv.packed.desc[0].len = len;
	d->drv.packed.desc[0].flags = flags;
}

static void hdrv_close(struct hdrv *d)
{
	vq_drv_free(&d->drv);
	free(d->mem);
}

static void expect_drv_broken(struct hdrv *d, const char *word)
{
	struct vq_sg sg = { GPA + BUF_OFF, 8 };

	assert_null(vq_drv_get(&d->drv, NULL));
	assert_true(d->drv.broken);
	if (!strstr(d->drv.reason, word))
		fail_msg("reason \"%s\" does not mention \"%s\"", d->drv.reason, word);
	/* Fails fast from now on. */
	assert_null(vq_drv_get(&d->drv, NULL));
	assert_int_equal(vq_drv_add(&d->drv, &sg, 1, 0, (void *)(uintptr_t)2), -EIO);
	assert_false(vq_drv_kick_prepare(&d->drv));
	assert_false(vq_drv_has_used(&d->drv));
	/* ...but hands its buffers back for the reset. */
	if (d->drv.extra[0].token)
		assert_ptr_equal(vq_drv_detach_unused(&d->drv), (void *)(uintptr_t)1);
	assert_null(vq_drv_detach_unused(&d->drv));
	assert_int_equal(vq_drv_num_free(&d->drv), QSIZE);
}

static void test_drv_used_id_out_of_range(void **state)
{
	struct hdrv d;

	(void)state;
	hdrv_open(&d, QSIZE, 0, A | U);
	expect_drv_broken(&d, "used id 8 at ring slot 0 out of range (queue size 8)");
	hdrv_close(&d);
}

static void test_drv_used_id_not_in_flight(void **state)
{
	struct hdrv d;

	(void)state;
	hdrv_open(&d, 5, 0, A | U);
	expect_drv_broken(&d, "used id 5 at ring slot 0 is not in flight");
	hdrv_close(&d);
}

static void test_drv_used_id_twice(void **state)
{
	struct hdrv d;
	uint32_t len = 0;

	(void)state;
	hdrv_open(&d, 0, 8, A | U | F_WRITE);
	assert_ptr_equal(vq_drv_get(&d.drv, &len), (void *)(uintptr_t)1);
	assert_int_equal(len, 8);
	/* The chain took slots 0-1; the next used one would be at 2. */
	d.drv.packed.desc[2] = d.drv.packed.desc[0];
	expect_drv_broken(&d, "used id 0 at ring slot 2 is not in flight");
	hdrv_close(&d);
}

static void test_drv_used_len_too_large(void **state)
{
	struct hdrv d;

	(void)state;
	hdrv_open(&d, 0, 9, A | U | F_WRITE);	/* only 8 writable bytes */
	expect_drv_broken(&d, "used len 9 for id 0 is larger than its 8 writable bytes");
	hdrv_close(&d);
}

/* 2.8.4: without WRITE the length is reserved: ignored, not checked. */
static void test_drv_used_len_ignored_without_write(void **state)
{
	struct hdrv d;
	uint32_t len = 1;

	(void)state;
	hdrv_open(&d, 0, 99999, A | U);
	assert_ptr_equal(vq_drv_get(&d.drv, &len), (void *)(uintptr_t)1);
	assert_int_equal(len, 0);
	assert_false(d.drv.broken);
	hdrv_close(&d);
}

/* AVAIL != USED is never a used descriptor (2.8.1): such flags also
 * describe a stale available descriptor of the other lap, so they mean
 * "not yet", not "broken". */
static void test_drv_half_used_flags_not_used(void **state)
{
	struct hdrv d;

	(void)state;
	hdrv_open(&d, 0, 8, U | F_WRITE);
	assert_false(vq_drv_has_used(&d.drv));
	assert_null(vq_drv_get(&d.drv, NULL));
	assert_false(d.drv.broken);
	d.drv.packed.desc[0].flags = A | U | F_WRITE;
	assert_true(vq_drv_has_used(&d.drv));
	assert_ptr_equal(vq_drv_get(&d.drv, NULL), (void *)(uintptr_t)1);
	hdrv_close(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_chain_pops),
		cmocka_unit_test(test_id_taken_from_last_descriptor),
		cmocka_unit_test(test_not_available_states),
		cmocka_unit_test(test_buffer_outside_ram),
		cmocka_unit_test(test_buffer_straddles_end_of_ram),
		cmocka_unit_test(test_buffer_below_ram),
		cmocka_unit_test(test_buffer_address_plus_len_overflows),
		cmocka_unit_test(test_writable_buffer_in_read_only_memory),
		cmocka_unit_test(test_chain_total_length_overflows),
		cmocka_unit_test(test_chain_never_ends),
		cmocka_unit_test(test_chain_runs_into_next_lap),
		cmocka_unit_test(test_chain_into_unavailable_descriptor),
		cmocka_unit_test(test_chain_longer_than_queue),
		cmocka_unit_test(test_writable_in_read_only_chain),
		cmocka_unit_test(test_readable_in_write_only_chain),
		cmocka_unit_test(test_readable_after_writable),
		cmocka_unit_test(test_indirect_without_negotiation),
		cmocka_unit_test(test_nested_indirect),
		cmocka_unit_test(test_indirect_with_next),
		cmocka_unit_test(test_indirect_after_next),
		cmocka_unit_test(test_indirect_len_not_multiple_of_16),
		cmocka_unit_test(test_indirect_len_zero),
		cmocka_unit_test(test_indirect_table_outside_ram),
		cmocka_unit_test(test_indirect_table_address_overflows),
		cmocka_unit_test(test_indirect_buffer_outside_ram),
		cmocka_unit_test(test_indirect_wrong_direction),
		cmocka_unit_test(test_indirect_readable_after_writable),
		cmocka_unit_test(test_indirect_entries_ignore_next_and_id),
		cmocka_unit_test(test_broken_stays_broken_until_reset),
		cmocka_unit_test(test_set_broken_keeps_first_reason),
		cmocka_unit_test(test_init_refuses_misaligned_desc),
		cmocka_unit_test(test_init_refuses_misaligned_driver_event),
		cmocka_unit_test(test_init_refuses_misaligned_device_event),
		cmocka_unit_test(test_init_refuses_desc_outside_ram),
		cmocka_unit_test(test_init_refuses_events_outside_ram),
		cmocka_unit_test(test_init_refuses_read_only_parts),
		cmocka_unit_test(test_init_sizes),
		cmocka_unit_test(test_init_refuses_queue_too_big_for_ram),
		cmocka_unit_test(test_init_after_refusal_starts_fresh),
		cmocka_unit_test(test_drv_used_id_out_of_range),
		cmocka_unit_test(test_drv_used_id_not_in_flight),
		cmocka_unit_test(test_drv_used_id_twice),
		cmocka_unit_test(test_drv_used_len_too_large),
		cmocka_unit_test(test_drv_used_len_ignored_without_write),
		cmocka_unit_test(test_drv_half_used_flags_not_used),
	};

	log_set_level(LOG_ERR);	/* every test here breaks a ring on purpose */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
