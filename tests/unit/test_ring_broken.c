// SPDX-License-Identifier: MIT
/*
 * test_ring_broken.c - the virtqueue against a hostile other side, for
 * every ring layout.  Device side: each case writes raw ring contents by
 * hand, as a malicious driver would, and checks that vq_dev_pop refuses
 * with -EIO, latches the queue broken with a reason that names the
 * problem, touches nothing in the ring, and fails fast from then on.
 * Then vq_dev_init's refusals, then the driver side against a hostile
 * device's used elements.
 *
 * One body per malformed-input class runs for each layout (one cmocka
 * group per layout, cases named "<layout>: <case>"); the classes only one
 * layout has (a split avail index jump, a packed wrap-counter mismatch)
 * are named split_* / packed_*.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "common/gmem.h"
#include "common/log.h"
#include "common/ring/vq.h"
#include "tests/unit/support/ring_cases.h"

#define GPA	  0x80000000ull
#define MEM_BYTES 0x10000u
#define QSIZE	  8
#define DESC_OFF  0x000u
#define DRIVER_OFF 0x100u	/* split avail ring / packed driver event */
#define DEVICE_OFF 0x200u	/* split used ring */
#define PDEVICE_OFF 0x104u	/* packed device event */
#define TABLE_OFF 0x800u	/* indirect tables */
#define BUF_OFF	  0x1000u	/* buffers */
#define BUF	  (GPA + BUF_OFF)
#define TABLE	  (GPA + TABLE_OFF)

#define F_NEXT	   VIRTQ_DESC_F_NEXT
#define F_WRITE	   VIRTQ_DESC_F_WRITE
#define F_INDIRECT VIRTQ_DESC_F_INDIRECT
/* Packed, available in the first lap (driver wrap counter 1): AVAIL=1,
 * USED=0. */
#define A	   VIRTQ_PACKED_DESC_F_AVAIL
#define U	   VIRTQ_PACKED_DESC_F_USED

static const struct ring_cfg configs[] = {
	{ "split", VQ_SPLIT, 0 },
	{ "packed", VQ_PACKED, 0 },
};

/* ---- a device over hand-written ring contents ------------------------- */

struct hostile {
	enum vq_layout layout;
	uint8_t *mem;
	struct gmem gm;
	struct vq_addrs a;
	struct vq_dev dev;
	struct vq_buf bufs[QSIZE + 4];
	struct vq_chain ch;
};

static bool packed(const struct hostile *h)
{
	return h->layout == VQ_PACKED;
}

/* What the layout calls a ring position and its descriptor area, as
 * the reasons say it. */
static const char *slot_word(const struct hostile *h)
{
	return packed(h) ? "ring slot" : "descriptor";
}

static const char *desc_part(const struct hostile *h)
{
	return packed(h) ? "descriptor ring" : "descriptor table";
}

static struct virtq_desc *split_desc(struct hostile *h)
{
	return (struct virtq_desc *)(void *)(h->mem + DESC_OFF);
}

static struct virtq_avail *split_avail(struct hostile *h)
{
	return (struct virtq_avail *)(void *)(h->mem + DRIVER_OFF);
}

static struct virtq_packed_desc *packed_desc(struct hostile *h)
{
	return (struct virtq_packed_desc *)(void *)(h->mem + DESC_OFF);
}

static void h_open(struct hostile *h, void **state, uint32_t flags)
{
	memset(h, 0, sizeof(*h));
	h->layout = ring_cfg_of(state)->layout;
	h->mem = aligned_alloc(4096, MEM_BYTES);
	assert_non_null(h->mem);
	memset(h->mem, 0, MEM_BYTES);
	gmem_init(&h->gm);
	assert_int_equal(gmem_add(&h->gm, GPA, MEM_BYTES, h->mem, true), 0);
	h->a.desc = GPA + DESC_OFF;
	h->a.driver = GPA + DRIVER_OFF;
	h->a.device = GPA + (packed(h) ? PDEVICE_OFF : DEVICE_OFF);
	h->ch.bufs = h->bufs;
	h->ch.cap = QSIZE + 4;
	assert_int_equal(vq_dev_init(&h->dev, h->layout, QSIZE, flags, &h->a, &h->gm), 0);
}

static void h_close(struct hostile *h)
{
	gmem_clear(&h->gm);
	free(h->mem);
}

/* Descriptor i as a driver writes it.  Split: table slot i, NEXT
 * pointing at i + 1.  Packed: ring slot i, available in the first lap,
 * buffer id 0. */
static void put(struct hostile *h, unsigned i, uint64_t addr, uint32_t len,
		uint16_t flags)
{
	if (packed(h)) {
		struct virtq_packed_desc *d = &packed_desc(h)[i];

		*d = (struct virtq_packed_desc){ addr, len, 0, (uint16_t)(flags | A) };
	} else {
		struct virtq_desc *d = &split_desc(h)[i];

		*d = (struct virtq_desc){ addr, len, flags, (uint16_t)(i + 1) };
	}
}

/* Rewrites one field of descriptor i that put() wrote: a split next
 * link, a packed buffer id or packed flags (AVAIL/USED included). */
static void set_next(struct hostile *h, unsigned i, uint16_t next)
{
	split_desc(h)[i].next = next;
}

static void set_id(struct hostile *h, unsigned i, uint16_t id)
{
	packed_desc(h)[i].id = id;
}

static void set_flags(struct hostile *h, unsigned i, uint16_t flags)
{
	packed_desc(h)[i].flags = flags;
}

/* Entry k of the indirect table at TABLE, in the layout's descriptor
 * format (split: NEXT to k + 1; packed tables are consecutive and the
 * device ignores NEXT there). */
static void put_entry(struct hostile *h, unsigned k, uint64_t addr,
		      uint32_t len, uint16_t flags)
{
	if (packed(h)) {
		struct virtq_packed_desc *t =
			(struct virtq_packed_desc *)(void *)(h->mem + TABLE_OFF);

		t[k] = (struct virtq_packed_desc){ addr, len, 0, flags };
	} else {
		struct virtq_desc *t = (struct virtq_desc *)(void *)(h->mem + TABLE_OFF);

		t[k] = (struct virtq_desc){ addr, len, flags, (uint16_t)(k + 1) };
	}
}

/* Makes the chain at head available: split puts it in the avail ring;
 * packed descriptors already are (put set AVAIL). */
static void publish(struct hostile *h, uint16_t head)
{
	if (!packed(h)) {
		struct virtq_avail *av = split_avail(h);

		av->ring[av->idx % QSIZE] = head;
		av->idx++;
	}
}

/* Refused now, latched, the ring left alone, and every later call fails
 * fast.  The reason must mention the (formatted) words. */
static void __attribute__((format(printf, 3, 4)))
expect_broken(struct hostile *h, enum vq_chain_kind kind, const char *fmt, ...)
{
	uint8_t before[TABLE_OFF];
	char word[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(word, sizeof(word), fmt, ap);
	va_end(ap);
	memcpy(before, h->mem, sizeof(before));
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
	assert_memory_equal(before, h->mem, sizeof(before));
}

/* One readable buffer at position 0: a valid chain to start from. */
static void good_chain(struct hostile *h)
{
	put(h, 0, BUF, 64, 0);
	publish(h, 0);
}

/* Pops n good one-buffer chains, so the next chain starts at n. */
static void advance_to(struct hostile *h, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		put(h, i, BUF, 16, 0);
		publish(h, (uint16_t)i);
	}
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(vq_dev_pop(&h->dev, &h->ch, VQ_CHAIN_ANY), 1);
}

/* ==== every layout: the device side ==================================== */

/* ---- sanity: the fixture's good chain works ------------------------- */

static void test_good_chain_pops(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	good_chain(&h);
	if (packed(&h))
		set_id(&h, 0, 3);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_READ_ONLY), 1);
	assert_ptr_equal(h.ch.bufs[0].ptr, h.mem + BUF_OFF);
	/* Split: the head's index; packed: the id the driver wrote. */
	assert_int_equal(h.ch.id, packed(&h) ? 3 : 0);
	assert_false(h.dev.broken);
	h_close(&h);
}

/* ---- buffer addresses ------------------------------------------------ */

static void test_buffer_outside_ram(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	put(&h, 0, GPA + MEM_BYTES + 0x1000, 64, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY,
		      "%s 0: buffer 0x80011000 (64 bytes) is outside guest memory",
		      slot_word(&h));
	h_close(&h);
}

static void test_buffer_straddles_end_of_ram(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	put(&h, 0, GPA + MEM_BYTES - 10, 64, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "outside guest memory");
	h_close(&h);
}

static void test_buffer_below_ram(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	put(&h, 0, GPA - 16, 64, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "outside");
	h_close(&h);
}

static void test_buffer_address_plus_len_overflows(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	put(&h, 0, UINT64_MAX - 16, 64, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "overflows");
	h_close(&h);
}

static void test_writable_buffer_in_read_only_memory(void **state)
{
	struct hostile h;
	static uint8_t ro[4096];

	h_open(&h, state, 0);
	assert_int_equal(gmem_add(&h.gm, 0x1000000, sizeof(ro), ro, false), 0);
	put(&h, 0, 0x1000000, 64, F_WRITE);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "may not write");
	h_close(&h);
}

/* ---- the queue's translation hint (gmem_translate_hinted) ------------
 * A pop remembers the window its buffer was in; the next buffer gets the
 * same checks whether it hits that window or not, and a window changed
 * since is never used through the hint. */

#define GPA2 0x1000000ull	/* a second window, buffers only */

/* Makes the one-buffer chain at position i (addr, 64 bytes, flags)
 * available. */
static void one_buffer(struct hostile *h, unsigned i, uint64_t addr, uint16_t flags)
{
	put(h, i, addr, 64, flags);
	publish(h, (uint16_t)i);
}

/* Pops the chain at position i, a buffer at addr that must come out at
 * local address want: the hint now names want's window. */
static void pop_at(struct hostile *h, unsigned i, uint64_t addr, uint16_t flags,
		   const uint8_t *want)
{
	one_buffer(h, i, addr, flags);
	assert_int_equal(vq_dev_pop(&h->dev, &h->ch, VQ_CHAIN_ANY), 1);
	assert_ptr_equal(h->ch.bufs[0].ptr, want);
}

static void test_hint_straddling_end_after_good_buffer(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	pop_at(&h, 0, BUF, 0, h.mem + BUF_OFF);
	one_buffer(&h, 1, GPA + MEM_BYTES - 10, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "outside guest memory");
	h_close(&h);
}

static void test_hint_writable_after_readable_in_read_only_window(void **state)
{
	struct hostile h;
	static uint8_t ro[4096];

	h_open(&h, state, 0);
	assert_int_equal(gmem_add(&h.gm, GPA2, sizeof(ro), ro, false), 0);
	pop_at(&h, 0, GPA2, 0, ro);
	one_buffer(&h, 1, GPA2 + 64, F_WRITE);
	expect_broken(&h, VQ_CHAIN_ANY, "may not write");
	h_close(&h);
}

static void test_hint_window_removed_after_pop(void **state)
{
	struct hostile h;
	static uint8_t w2[4096];

	h_open(&h, state, 0);
	assert_int_equal(gmem_add(&h.gm, GPA2, sizeof(w2), w2, true), 0);
	pop_at(&h, 0, GPA2, F_WRITE, w2);
	assert_int_equal(gmem_remove(&h.gm, GPA2, sizeof(w2)), 0);
	one_buffer(&h, 1, GPA2 + 64, F_WRITE);
	expect_broken(&h, VQ_CHAIN_ANY, "outside guest memory");
	h_close(&h);
}

/* The same guest range, other local memory: the next buffer goes there,
 * not to the remembered mapping. */
static void test_hint_window_mapped_again_elsewhere(void **state)
{
	struct hostile h;
	static uint8_t before[4096], after[4096];

	h_open(&h, state, 0);
	assert_int_equal(gmem_add(&h.gm, GPA2, sizeof(before), before, true), 0);
	pop_at(&h, 0, GPA2 + 128, F_WRITE, before + 128);
	assert_int_equal(gmem_remove(&h.gm, GPA2, sizeof(before)), 0);
	assert_int_equal(gmem_add(&h.gm, GPA2, sizeof(after), after, true), 0);
	pop_at(&h, 1, GPA2 + 128, F_WRITE, after + 128);
	assert_false(h.dev.broken);
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

	if (ram == MAP_FAILED)
		skip();
	h_open(&h, state, 0);
	assert_int_equal(gmem_add(&h.gm, big_gpa, big, ram, true), 0);
	put(&h, 0, big_gpa, 0x60000000u, F_NEXT);
	put(&h, 1, big_gpa + 0x60000000u, 0x60000000u, F_NEXT);
	put(&h, 2, big_gpa + 0xc0000000u, 0x60000000u, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "overflows 32 bits");
	h_close(&h);
	munmap(ram, big);
}

/* Only an indirect table can hold more buffers than the queue size (in
 * the ring that would be a loop, or a list that never ends). */
static void test_chain_longer_than_queue(void **state)
{
	struct hostile h;

	h_open(&h, state, VQ_F_INDIRECT);
	for (unsigned i = 0; i < QSIZE + 1; i++)
		put_entry(&h, i, BUF, 16, i < QSIZE ? F_NEXT : 0);
	put(&h, 0, TABLE, (QSIZE + 1) * 16, F_INDIRECT);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "longer than the queue size");
	h_close(&h);
}

/* ---- direction ------------------------------------------------------- */

static void test_writable_in_read_only_chain(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	put(&h, 0, BUF, 16, F_NEXT);
	put(&h, 1, BUF + 64, 16, F_WRITE);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_READ_ONLY, "%s 1 is device-writable", slot_word(&h));
	h_close(&h);
}

static void test_readable_in_write_only_chain(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	advance_to(&h, 2);
	put(&h, 2, BUF, 16, 0);
	publish(&h, 2);
	expect_broken(&h, VQ_CHAIN_WRITE_ONLY, "%s 2 is device-readable", slot_word(&h));
	h_close(&h);
}

static void test_readable_after_writable(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	put(&h, 0, BUF, 16, F_WRITE | F_NEXT);
	put(&h, 1, BUF + 64, 16, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "readable buffer after a device-writable");
	h_close(&h);
}

/* ---- indirect -------------------------------------------------------- */

static void test_indirect_without_negotiation(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	put_entry(&h, 0, BUF, 16, 0);
	put(&h, 0, TABLE, 16, F_INDIRECT);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "not negotiated");
	h_close(&h);
}

static void test_nested_indirect(void **state)
{
	struct hostile h;

	h_open(&h, state, VQ_F_INDIRECT);
	put_entry(&h, 0, BUF, 16, F_NEXT);
	put_entry(&h, 1, TABLE + 0x100, 16, F_INDIRECT);
	put(&h, 0, TABLE, 32, F_INDIRECT);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "nested indirect");
	h_close(&h);
}

static void test_indirect_with_next(void **state)
{
	struct hostile h;

	h_open(&h, state, VQ_F_INDIRECT);
	put_entry(&h, 0, BUF, 16, 0);
	put(&h, 0, TABLE, 16, F_INDIRECT | F_NEXT);
	put(&h, 1, BUF, 16, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "both INDIRECT and NEXT");
	h_close(&h);
}

static void test_indirect_len_not_multiple_of_16(void **state)
{
	struct hostile h;

	h_open(&h, state, VQ_F_INDIRECT);
	put_entry(&h, 0, BUF, 16, 0);
	put(&h, 0, TABLE, 24, F_INDIRECT);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "length 24 is not a non-zero multiple of 16");
	h_close(&h);
}

static void test_indirect_len_zero(void **state)
{
	struct hostile h;

	h_open(&h, state, VQ_F_INDIRECT);
	put(&h, 0, TABLE, 0, F_INDIRECT);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "length 0 is not a non-zero multiple");
	h_close(&h);
}

static void test_indirect_table_outside_ram(void **state)
{
	struct hostile h;

	h_open(&h, state, VQ_F_INDIRECT);
	put(&h, 0, GPA + MEM_BYTES - 16, 32, F_INDIRECT);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY,
		      "indirect table 0x8000fff0 (32 bytes) is outside guest memory");
	h_close(&h);
}

static void test_indirect_table_address_overflows(void **state)
{
	struct hostile h;

	h_open(&h, state, VQ_F_INDIRECT);
	put(&h, 0, UINT64_MAX - 15, 32, F_INDIRECT);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "indirect table");
	assert_non_null(strstr(h.dev.reason, "overflows"));
	h_close(&h);
}

static void test_indirect_buffer_outside_ram(void **state)
{
	struct hostile h;

	h_open(&h, state, VQ_F_INDIRECT);
	advance_to(&h, 5);
	put_entry(&h, 0, BUF, 16, F_NEXT);
	put_entry(&h, 1, GPA + 2 * MEM_BYTES, 16, 0);
	put(&h, 5, TABLE, 32, F_INDIRECT);
	publish(&h, 5);
	expect_broken(&h, VQ_CHAIN_ANY, "indirect entry 1 of %s 5", slot_word(&h));
	assert_non_null(strstr(h.dev.reason, "outside guest memory"));
	h_close(&h);
}

static void test_indirect_wrong_direction(void **state)
{
	struct hostile h;

	h_open(&h, state, VQ_F_INDIRECT);
	put_entry(&h, 0, BUF, 16, F_WRITE);
	put(&h, 0, TABLE, 16, F_INDIRECT);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_READ_ONLY,
		      "indirect entry 0 of %s 0 is device-writable", slot_word(&h));
	h_close(&h);
}

static void test_indirect_readable_after_writable(void **state)
{
	struct hostile h;

	h_open(&h, state, VQ_F_INDIRECT);
	put_entry(&h, 0, BUF, 16, F_WRITE | F_NEXT);
	put_entry(&h, 1, BUF, 16, 0);
	put(&h, 0, TABLE, 32, F_INDIRECT);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "readable buffer after a device-writable");
	h_close(&h);
}

/* ---- the latch -------------------------------------------------------- */

static void test_broken_stays_broken_until_reset(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	put(&h, 0, GPA + 2 * MEM_BYTES, 16, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "outside");
	/* The guest repairs the ring: still refused. */
	put(&h, 0, BUF, 16, 0);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), -EIO);
	/* Re-translating the same queue keeps the latch too. */
	assert_int_equal(vq_dev_init(&h.dev, h.layout, QSIZE, 0, &h.a, &h.gm), 0);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), -EIO);
	/* A device reset clears it. */
	vq_dev_reset(&h.dev);
	assert_false(h.dev.broken);
	assert_int_equal(vq_dev_init(&h.dev, h.layout, QSIZE, 0, &h.a, &h.gm), 0);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 1);
	h_close(&h);
}

static void test_set_broken_keeps_first_reason(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	good_chain(&h);
	vq_dev_set_broken(&h.dev, "tx chain of %u bytes is shorter than the net header", 4u);
	vq_dev_set_broken(&h.dev, "second");
	assert_string_equal(h.dev.reason, "tx chain of 4 bytes is shorter than the net header");
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), -EIO);
	h_close(&h);
}

/* ---- vq_dev_init refusals --------------------------------------------- */

static void __attribute__((format(printf, 4, 5)))
expect_init_refused(struct hostile *h, uint16_t size, uint32_t flags,
		    const char *fmt, ...)
{
	struct vq_dev dev;
	char word[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(word, sizeof(word), fmt, ap);
	va_end(ap);
	memset(&dev, 0, sizeof(dev));
	assert_int_equal(vq_dev_init(&dev, h->layout, size, flags, &h->a, &h->gm),
			 -EINVAL);
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

	h_open(&h, state, 0);
	h.a.desc += 8;
	expect_init_refused(&h, QSIZE, 0, "%s at 0x80000008 is not 16-byte aligned",
			    desc_part(&h));
	h_close(&h);
}

static void test_init_refuses_desc_outside_ram(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	h.a.desc = GPA + MEM_BYTES - 64;	/* 128 bytes needed */
	expect_init_refused(&h, QSIZE, 0, "%s at 0x8000ffc0 (128 bytes) is outside",
			    desc_part(&h));
	h.a.desc = GPA + MEM_BYTES;
	expect_init_refused(&h, QSIZE, 0, "%s at 0x80010000 (128 bytes) is outside",
			    desc_part(&h));
	h_close(&h);
}

static void test_init_refuses_bad_sizes(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	expect_init_refused(&h, 0, 0, "bad queue size 0");
	expect_init_refused(&h, 32769, 0, "bad queue size 32769");
	expect_init_refused(&h, 65535, 0, "bad queue size 65535");
	h_close(&h);
}

/* A queue too big for the memory: the descriptor area's extent counts. */
static void test_init_refuses_queue_too_big_for_ram(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	expect_init_refused(&h, 32768, 0,
			    "%s at 0x80000000 (524288 bytes) is outside guest memory",
			    desc_part(&h));
	h_close(&h);
}

static void test_init_after_refusal_starts_fresh(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	h.a.desc += 8;
	assert_int_equal(vq_dev_init(&h.dev, h.layout, QSIZE, 0, &h.a, &h.gm), -EINVAL);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), -EIO);
	h.a.desc -= 8;
	assert_int_equal(vq_dev_init(&h.dev, h.layout, QSIZE, 0, &h.a, &h.gm), 0);
	assert_false(h.dev.broken);
	good_chain(&h);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 1);
	h_close(&h);
}

/* A layout no operations table serves is refused, not dispatched. */
static void test_init_refuses_unknown_layout(void **state)
{
	struct hostile h;
	struct vq_dev dev;

	h_open(&h, state, 0);
	memset(&dev, 0, sizeof(dev));
	assert_int_equal(vq_dev_init(&dev, (enum vq_layout)7, QSIZE, 0, &h.a, &h.gm),
			 -EINVAL);
	assert_non_null(strstr(dev.reason, "unknown ring layout 7"));
	assert_int_equal(vq_dev_pop(&dev, &h.ch, VQ_CHAIN_ANY), -EIO);
	assert_int_equal(vq_dev_get_base(&dev), 0);
	h_close(&h);
}

/* ==== every layout: the driver side against a hostile device ============ */

struct hdrv {
	enum vq_layout layout;
	uint8_t *mem;
	struct vq_drv drv;
};

/* Used element n as a device writes it: split used ring entry n (and the
 * index past it); packed: the used descriptor for the n-th two-slot
 * chain, at slot 2n, marked used in the first lap. */
static void put_used(struct hdrv *d, unsigned n, uint16_t id, uint32_t len,
		     bool write)
{
	if (d->layout == VQ_PACKED) {
		struct virtq_packed_desc *u = &d->drv.packed.desc[2 * n];

		u->id = id;
		u->len = len;
		u->flags = (uint16_t)(A | U | (write ? F_WRITE : 0));
	} else {
		d->drv.split.used->ring[n].id = id;
		d->drv.split.used->ring[n].len = len;
		d->drv.split.used->idx = (uint16_t)(n + 1);
	}
}

/* The ring position used element n is read from, as the reasons name it. */
static unsigned used_slot(const struct hdrv *d, unsigned n)
{
	return d->layout == VQ_PACKED ? 2 * n : n;
}

/* One chain in flight (8 readable + 8 writable bytes; token 1). */
static void hdrv_open(struct hdrv *d, void **state)
{
	struct vq_drv_cfg cfg = { .layout = ring_cfg_of(state)->layout,
				  .size = QSIZE, .used_align = 4 };
	struct vq_sg sg[2] = { { GPA + BUF_OFF, 8 }, { GPA + BUF_OFF + 64, 8 } };

	d->layout = cfg.layout;
	d->mem = aligned_alloc(4096, MEM_BYTES);
	assert_non_null(d->mem);
	assert_int_equal(vq_drv_init(&d->drv, &cfg, d->mem, GPA), 0);
	assert_int_equal(vq_drv_add(&d->drv, sg, 1, 1, (void *)(uintptr_t)1), 0);
	vq_drv_kick_prepare(&d->drv);
}

static void hdrv_close(struct hdrv *d)
{
	vq_drv_free(&d->drv);
	free(d->mem);
}

static void __attribute__((format(printf, 2, 3)))
expect_drv_broken(struct hdrv *d, const char *fmt, ...)
{
	struct vq_sg sg = { GPA + BUF_OFF, 8 };
	char word[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(word, sizeof(word), fmt, ap);
	va_end(ap);
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

	hdrv_open(&d, state);
	put_used(&d, 0, QSIZE, 0, false);
	expect_drv_broken(&d, "used id 8 at ring slot 0 out of range (queue size 8)");
	hdrv_close(&d);
}

static void test_drv_used_id_not_in_flight(void **state)
{
	struct hdrv d;

	hdrv_open(&d, state);
	put_used(&d, 0, 5, 0, false);
	expect_drv_broken(&d, "used id 5 at ring slot 0 is not in flight");
	hdrv_close(&d);
}

static void test_drv_used_id_twice(void **state)
{
	struct hdrv d;
	uint32_t len = 0;

	hdrv_open(&d, state);
	put_used(&d, 0, 0, 8, true);
	assert_ptr_equal(vq_drv_get(&d.drv, &len), (void *)(uintptr_t)1);
	assert_int_equal(len, 8);
	put_used(&d, 1, 0, 8, true);
	expect_drv_broken(&d, "used id 0 at ring slot %u is not in flight",
			  used_slot(&d, 1));
	hdrv_close(&d);
}

static void test_drv_used_len_too_large(void **state)
{
	struct hdrv d;

	hdrv_open(&d, state);
	put_used(&d, 0, 0, 9, true);	/* only 8 writable bytes */
	expect_drv_broken(&d, "used len 9 for id 0 is larger than its 8 writable bytes");
	hdrv_close(&d);
}

/* ==== split only ======================================================== */

static void test_split_loop_in_next_chain(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	put(&h, 0, BUF, 16, F_NEXT);
	put(&h, 1, BUF, 16, F_NEXT);
	put(&h, 2, BUF, 16, F_NEXT);
	set_next(&h, 2, 0);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "loops");
	h_close(&h);
}

static void test_split_descriptor_pointing_at_itself(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	put(&h, 3, BUF, 16, F_NEXT);
	set_next(&h, 3, 3);
	publish(&h, 3);
	expect_broken(&h, VQ_CHAIN_ANY, "loops");
	h_close(&h);
}

static void test_split_avail_index_jump(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	split_avail(&h)->idx = QSIZE + 1;
	expect_broken(&h, VQ_CHAIN_ANY, "avail index jumped from 0 to 9");
	h_close(&h);
}

static void test_split_avail_index_moves_backwards(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	good_chain(&h);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 1);
	split_avail(&h)->idx = 0;	/* 0 - 1 = 65535 chains outstanding */
	expect_broken(&h, VQ_CHAIN_ANY, "jumped");
	h_close(&h);
}

static void test_split_avail_index_jump_seen_by_has_avail(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	split_avail(&h)->idx = 0x8000;
	assert_false(vq_dev_has_avail(&h.dev));
	assert_true(h.dev.broken);
	assert_non_null(strstr(h.dev.reason, "jumped"));
	h_close(&h);
}

static void test_split_head_id_out_of_range(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	publish(&h, QSIZE);
	expect_broken(&h, VQ_CHAIN_ANY, "head id 8 >= queue size 8");
	h_close(&h);
}

static void test_split_next_out_of_range(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	put(&h, 0, BUF, 16, F_NEXT);
	set_next(&h, 0, QSIZE);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "next 8 is beyond the descriptor table");
	h_close(&h);
}

static void test_split_indirect_next_beyond_table(void **state)
{
	struct hostile h;

	h_open(&h, state, VQ_F_INDIRECT);
	put_entry(&h, 0, BUF, 16, F_NEXT);	/* table has 2 entries */
	put_entry(&h, 1, BUF, 16, 0);
	((struct virtq_desc *)(void *)(h.mem + TABLE_OFF))[0].next = 2;
	put(&h, 0, TABLE, 32, F_INDIRECT);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "beyond the indirect table");
	h_close(&h);
}

static void test_split_indirect_loop(void **state)
{
	struct hostile h;

	h_open(&h, state, VQ_F_INDIRECT);
	put_entry(&h, 0, BUF, 16, F_NEXT);
	put_entry(&h, 1, BUF, 16, F_NEXT);
	((struct virtq_desc *)(void *)(h.mem + TABLE_OFF))[1].next = 0;
	put(&h, 0, TABLE, 32, F_INDIRECT);
	publish(&h, 0);
	expect_broken(&h, VQ_CHAIN_ANY, "loops");
	h_close(&h);
}

/* Direct descriptors then one indirect (2.7.5.3.2: must be accepted;
 * packed lists may not mix, see test_packed_indirect_after_next). */
static void test_split_direct_then_indirect_accepted(void **state)
{
	struct hostile h;

	h_open(&h, state, VQ_F_INDIRECT);
	put(&h, 0, BUF, 16, F_NEXT);
	put(&h, 1, TABLE, 32, F_INDIRECT);
	put_entry(&h, 0, BUF + 16, 16, F_NEXT);
	put_entry(&h, 1, BUF + 32, 16, F_WRITE);
	publish(&h, 0);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(h.ch.n_out, 2);
	assert_int_equal(h.ch.n_in, 1);
	assert_ptr_equal(h.ch.bufs[2].ptr, h.mem + BUF_OFF + 32);
	assert_false(h.dev.broken);
	h_close(&h);
}

static void test_split_init_refuses_misaligned_rings(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	h.a.driver += 1;
	expect_init_refused(&h, QSIZE, 0, "available ring at 0x80000101 is not 2-byte aligned");
	h.a.driver -= 1;
	h.a.device += 2;
	expect_init_refused(&h, QSIZE, 0, "used ring at 0x80000202 is not 4-byte aligned");
	h_close(&h);
}

/* Used ring whose last 2 bytes (avail_event) fall off the end of RAM:
 * fine without EVENT_IDX, refused with it. */
static void test_split_init_checks_avail_event_extent(void **state)
{
	struct hostile h;
	struct vq_dev dev;

	h_open(&h, state, 0);
	h.a.device = GPA + MEM_BYTES - (4 + 8 * QSIZE);
	memset(&dev, 0, sizeof(dev));
	assert_int_equal(vq_dev_init(&dev, VQ_SPLIT, QSIZE, 0, &h.a, &h.gm), 0);
	expect_init_refused(&h, QSIZE, VQ_F_EVENT_IDX, "used ring");
	h_close(&h);
}

static void test_split_init_checks_used_event_extent(void **state)
{
	struct hostile h;
	struct vq_dev dev;

	h_open(&h, state, 0);
	h.a.driver = GPA + MEM_BYTES - (4 + 2 * QSIZE);
	memset(&dev, 0, sizeof(dev));
	assert_int_equal(vq_dev_init(&dev, VQ_SPLIT, QSIZE, 0, &h.a, &h.gm), 0);
	expect_init_refused(&h, QSIZE, VQ_F_EVENT_IDX, "available ring");
	h_close(&h);
}

static void test_split_init_refuses_read_only_used_ring(void **state)
{
	struct hostile h;
	static uint8_t ro[4096] __attribute__((aligned(16)));

	h_open(&h, state, 0);
	assert_int_equal(gmem_add(&h.gm, 0x1000000, sizeof(ro), ro, false), 0);
	h.a.device = 0x1000000;
	expect_init_refused(&h, QSIZE, 0, "may not write");
	h_close(&h);
}

/* 2.7: a power of two. */
static void test_split_init_refuses_sizes_not_power_of_2(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	expect_init_refused(&h, 3, 0, "bad queue size 3");
	expect_init_refused(&h, 48, 0, "power of 2");
	h_close(&h);
}

static void test_split_drv_used_index_jump(void **state)
{
	struct hdrv d;

	hdrv_open(&d, state);
	put_used(&d, 0, 0, 0, false);
	d.drv.split.used->idx = 9;
	expect_drv_broken(&d, "jumped");
	hdrv_close(&d);
}

static void test_split_drv_used_index_backwards(void **state)
{
	struct hdrv d;

	hdrv_open(&d, state);
	put_used(&d, 0, 0, 8, true);
	assert_ptr_equal(vq_drv_get(&d.drv, NULL), (void *)(uintptr_t)1);
	d.drv.split.used->idx = 0;
	expect_drv_broken(&d, "jumped");
	hdrv_close(&d);
}

/* ==== packed only ======================================================= */

/* 2.8.6: the buffer id is in the last descriptor of the list; the ids
 * in the others (here deliberately different) do not count. */
static void test_packed_id_taken_from_last_descriptor(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	put(&h, 0, BUF, 16, F_NEXT);
	put(&h, 1, BUF + 16, 16, F_NEXT);
	put(&h, 2, BUF + 32, 16, F_WRITE);
	set_id(&h, 0, 5);
	set_id(&h, 1, 6);
	set_id(&h, 2, 7);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(h.ch.id, 7);
	assert_int_equal(h.ch.ndesc, 3);
	assert_false(h.dev.broken);
	h_close(&h);
}

/* Stale or foreign flag states are simply "not available" (2.8.1): a used
 * descriptor (AVAIL == USED) and one of the other lap (AVAIL == 0). */
static void test_packed_not_available_states(void **state)
{
	struct hostile h;
	struct virtq_packed_desc *d;

	h_open(&h, state, 0);
	d = packed_desc(&h);
	put(&h, 0, BUF, 16, 0);
	d[0].flags = A | U;
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 0);
	d[0].flags = U;
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 0);
	d[0].flags = 0;
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 0);
	assert_false(vq_dev_has_avail(&h.dev));
	assert_false(h.dev.broken);
	h_close(&h);
}

/* NEXT on every descriptor of the ring: the list would go round forever. */
static void test_packed_chain_never_ends(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	for (unsigned i = 0; i < QSIZE; i++)
		put(&h, i, BUF, 16, F_NEXT);
	expect_broken(&h, VQ_CHAIN_ANY, "chain from ring slot 0 never ends");
	h_close(&h);
}

/* The same, starting mid-ring, so the walk crosses the end (where the
 * wrap counter flips and slot 0's bits no longer match) first. */
static void test_packed_chain_runs_into_next_lap(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	advance_to(&h, 5);
	for (unsigned i = 5; i < QSIZE; i++)
		put(&h, i, BUF, 16, F_NEXT);
	/* Slot 0 of the next lap would need AVAIL=0, USED=1. */
	expect_broken(&h, VQ_CHAIN_ANY, "ring slot 0 continues the chain from slot 5 but is not available");
	h_close(&h);
}

static void test_packed_chain_into_unavailable_descriptor(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	put(&h, 0, BUF, 16, F_NEXT);
	put(&h, 1, BUF, 16, 0);
	set_flags(&h, 1, 0);	/* never made available */
	expect_broken(&h, VQ_CHAIN_ANY, "ring slot 1 continues the chain from slot 0 but is not available");
	h_close(&h);
}

/* Unlike split rings (2.7.5.3.2), a packed list is direct or indirect,
 * never both (2.8.5, 2.8.19). */
static void test_packed_indirect_after_next(void **state)
{
	struct hostile h;

	h_open(&h, state, VQ_F_INDIRECT);
	put_entry(&h, 0, BUF, 16, 0);
	put(&h, 0, BUF, 16, F_NEXT);
	put(&h, 1, TABLE, 16, F_INDIRECT);
	expect_broken(&h, VQ_CHAIN_ANY, "INDIRECT inside the NEXT list from slot 0");
	h_close(&h);
}

/* Entries are consecutive; NEXT (and ids) in them are reserved and
 * ignored by the device (2.8.7), so a table that sets them still pops. */
static void test_packed_indirect_entries_ignore_next_and_id(void **state)
{
	struct hostile h;
	struct virtq_packed_desc *t;

	h_open(&h, state, VQ_F_INDIRECT);
	t = (struct virtq_packed_desc *)(void *)(h.mem + TABLE_OFF);
	t[0] = (struct virtq_packed_desc){ BUF, 16, 77, F_NEXT };
	t[1] = (struct virtq_packed_desc){ BUF + 16, 16, 78, F_WRITE | F_NEXT };
	t[2] = (struct virtq_packed_desc){ BUF + 32, 16, 79, F_WRITE };
	put(&h, 0, TABLE, 48, F_INDIRECT | F_WRITE);
	set_id(&h, 0, 4);
	assert_int_equal(vq_dev_pop(&h.dev, &h.ch, VQ_CHAIN_ANY), 1);
	assert_int_equal(h.ch.id, 4);
	assert_int_equal(h.ch.ndesc, 1);
	assert_int_equal(h.ch.n_out, 1);
	assert_int_equal(h.ch.n_in, 2);
	assert_false(h.dev.broken);
	h_close(&h);
}

static void test_packed_init_refuses_misaligned_events(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	h.a.driver += 2;
	expect_init_refused(&h, QSIZE, 0, "driver event suppression structure at 0x80000102 is not 4-byte aligned");
	h.a.driver -= 2;
	h.a.device += 1;
	expect_init_refused(&h, QSIZE, 0, "device event suppression structure at 0x80000105 is not 4-byte aligned");
	h_close(&h);
}

static void test_packed_init_refuses_events_outside_ram(void **state)
{
	struct hostile h;

	h_open(&h, state, 0);
	h.a.driver = GPA + MEM_BYTES;
	expect_init_refused(&h, QSIZE, 0, "driver event suppression structure at 0x80010000 (4 bytes) is outside");
	h.a.driver = GPA + DRIVER_OFF;
	h.a.device = 0x1000;
	expect_init_refused(&h, QSIZE, 0, "device event suppression structure at 0x1000 (4 bytes) is outside");
	h_close(&h);
}

/* The device writes used descriptors into the ring and its own event
 * structure: both need writable guest memory. */
static void test_packed_init_refuses_read_only_parts(void **state)
{
	struct hostile h;
	struct vq_dev dev;
	static uint8_t ro[4096] __attribute__((aligned(16)));

	h_open(&h, state, 0);
	assert_int_equal(gmem_add(&h.gm, 0x1000000, sizeof(ro), ro, false), 0);
	h.a.desc = 0x1000000;
	expect_init_refused(&h, QSIZE, 0, "descriptor ring at 0x1000000 (128 bytes) is in guest memory the device may not write");
	h.a.desc = GPA + DESC_OFF;
	h.a.device = 0x1000000;
	expect_init_refused(&h, QSIZE, 0, "device event suppression structure at 0x1000000 (4 bytes) is in guest memory the device may not write");
	/* The driver's structure is only read: read-only memory will do. */
	h.a.device = GPA + PDEVICE_OFF;
	h.a.driver = 0x1000000;
	memset(&dev, 0, sizeof(dev));
	assert_int_equal(vq_dev_init(&dev, VQ_PACKED, QSIZE, 0, &h.a, &h.gm), 0);
	h_close(&h);
}

/* 2.8: not a power of two is fine. */
static void test_packed_init_any_size(void **state)
{
	struct hostile h;
	struct vq_dev dev;

	h_open(&h, state, 0);
	memset(&dev, 0, sizeof(dev));
	assert_int_equal(vq_dev_init(&dev, VQ_PACKED, 15, 0, &h.a, &h.gm), 0);
	h_close(&h);
}

/* 2.8.4: without WRITE the length is reserved: ignored, not checked. */
static void test_packed_drv_used_len_ignored_without_write(void **state)
{
	struct hdrv d;
	uint32_t len = 1;

	hdrv_open(&d, state);
	put_used(&d, 0, 0, 99999, false);
	assert_ptr_equal(vq_drv_get(&d.drv, &len), (void *)(uintptr_t)1);
	assert_int_equal(len, 0);
	assert_false(d.drv.broken);
	hdrv_close(&d);
}

/* AVAIL != USED is never a used descriptor (2.8.1): such flags also
 * describe a stale available descriptor of the other lap, so they mean
 * "not yet", not "broken". */
static void test_packed_drv_half_used_flags_not_used(void **state)
{
	struct hdrv d;

	hdrv_open(&d, state);
	put_used(&d, 0, 0, 8, true);
	d.drv.packed.desc[0].flags = U | F_WRITE;
	assert_false(vq_drv_has_used(&d.drv));
	assert_null(vq_drv_get(&d.drv, NULL));
	assert_false(d.drv.broken);
	d.drv.packed.desc[0].flags = A | U | F_WRITE;
	assert_true(vq_drv_has_used(&d.drv));
	assert_ptr_equal(vq_drv_get(&d.drv, NULL), (void *)(uintptr_t)1);
	hdrv_close(&d);
}

/* ==== which case runs for which layout ================================== */

#define CASE RING_CASE

static const struct ring_case cases[] = {
	CASE(test_good_chain_pops, RING_ALL, 0, 0),
	CASE(test_buffer_outside_ram, RING_ALL, 0, 0),
	CASE(test_buffer_straddles_end_of_ram, RING_ALL, 0, 0),
	CASE(test_buffer_below_ram, RING_ALL, 0, 0),
	CASE(test_buffer_address_plus_len_overflows, RING_ALL, 0, 0),
	CASE(test_writable_buffer_in_read_only_memory, RING_ALL, 0, 0),
	CASE(test_hint_straddling_end_after_good_buffer, RING_ALL, 0, 0),
	CASE(test_hint_writable_after_readable_in_read_only_window, RING_ALL, 0, 0),
	CASE(test_hint_window_removed_after_pop, RING_ALL, 0, 0),
	CASE(test_hint_window_mapped_again_elsewhere, RING_ALL, 0, 0),
	CASE(test_chain_total_length_overflows, RING_ALL, 0, 0),
	CASE(test_chain_longer_than_queue, RING_ALL, 0, 0),
	CASE(test_writable_in_read_only_chain, RING_ALL, 0, 0),
	CASE(test_readable_in_write_only_chain, RING_ALL, 0, 0),
	CASE(test_readable_after_writable, RING_ALL, 0, 0),
	CASE(test_indirect_without_negotiation, RING_ALL, 0, 0),
	CASE(test_nested_indirect, RING_ALL, 0, 0),
	CASE(test_indirect_with_next, RING_ALL, 0, 0),
	CASE(test_indirect_len_not_multiple_of_16, RING_ALL, 0, 0),
	CASE(test_indirect_len_zero, RING_ALL, 0, 0),
	CASE(test_indirect_table_outside_ram, RING_ALL, 0, 0),
	CASE(test_indirect_table_address_overflows, RING_ALL, 0, 0),
	CASE(test_indirect_buffer_outside_ram, RING_ALL, 0, 0),
	CASE(test_indirect_wrong_direction, RING_ALL, 0, 0),
	CASE(test_indirect_readable_after_writable, RING_ALL, 0, 0),
	CASE(test_broken_stays_broken_until_reset, RING_ALL, 0, 0),
	CASE(test_set_broken_keeps_first_reason, RING_ALL, 0, 0),
	CASE(test_init_refuses_misaligned_desc, RING_ALL, 0, 0),
	CASE(test_init_refuses_desc_outside_ram, RING_ALL, 0, 0),
	CASE(test_init_refuses_bad_sizes, RING_ALL, 0, 0),
	CASE(test_init_refuses_queue_too_big_for_ram, RING_ALL, 0, 0),
	CASE(test_init_after_refusal_starts_fresh, RING_ALL, 0, 0),
	CASE(test_init_refuses_unknown_layout, RING_ALL, 0, 0),
	CASE(test_drv_used_id_out_of_range, RING_ALL, 0, 0),
	CASE(test_drv_used_id_not_in_flight, RING_ALL, 0, 0),
	CASE(test_drv_used_id_twice, RING_ALL, 0, 0),
	CASE(test_drv_used_len_too_large, RING_ALL, 0, 0),

	CASE(test_split_loop_in_next_chain, RING_SPLIT, 0, 0),
	CASE(test_split_descriptor_pointing_at_itself, RING_SPLIT, 0, 0),
	CASE(test_split_avail_index_jump, RING_SPLIT, 0, 0),
	CASE(test_split_avail_index_moves_backwards, RING_SPLIT, 0, 0),
	CASE(test_split_avail_index_jump_seen_by_has_avail, RING_SPLIT, 0, 0),
	CASE(test_split_head_id_out_of_range, RING_SPLIT, 0, 0),
	CASE(test_split_next_out_of_range, RING_SPLIT, 0, 0),
	CASE(test_split_indirect_next_beyond_table, RING_SPLIT, 0, 0),
	CASE(test_split_indirect_loop, RING_SPLIT, 0, 0),
	CASE(test_split_direct_then_indirect_accepted, RING_SPLIT, 0, 0),
	CASE(test_split_init_refuses_misaligned_rings, RING_SPLIT, 0, 0),
	CASE(test_split_init_checks_avail_event_extent, RING_SPLIT, 0, 0),
	CASE(test_split_init_checks_used_event_extent, RING_SPLIT, 0, 0),
	CASE(test_split_init_refuses_read_only_used_ring, RING_SPLIT, 0, 0),
	CASE(test_split_init_refuses_sizes_not_power_of_2, RING_SPLIT, 0, 0),
	CASE(test_split_drv_used_index_jump, RING_SPLIT, 0, 0),
	CASE(test_split_drv_used_index_backwards, RING_SPLIT, 0, 0),

	CASE(test_packed_id_taken_from_last_descriptor, RING_PACKED, 0, 0),
	CASE(test_packed_not_available_states, RING_PACKED, 0, 0),
	CASE(test_packed_chain_never_ends, RING_PACKED, 0, 0),
	CASE(test_packed_chain_runs_into_next_lap, RING_PACKED, 0, 0),
	CASE(test_packed_chain_into_unavailable_descriptor, RING_PACKED, 0, 0),
	CASE(test_packed_indirect_after_next, RING_PACKED, 0, 0),
	CASE(test_packed_indirect_entries_ignore_next_and_id, RING_PACKED, 0, 0),
	CASE(test_packed_init_refuses_misaligned_events, RING_PACKED, 0, 0),
	CASE(test_packed_init_refuses_events_outside_ram, RING_PACKED, 0, 0),
	CASE(test_packed_init_refuses_read_only_parts, RING_PACKED, 0, 0),
	CASE(test_packed_init_any_size, RING_PACKED, 0, 0),
	CASE(test_packed_drv_used_len_ignored_without_write, RING_PACKED, 0, 0),
	CASE(test_packed_drv_half_used_flags_not_used, RING_PACKED, 0, 0),
};

int main(void)
{
	log_set_level(LOG_ERR);	/* every case here breaks a ring on purpose */
	return ring_cases_run(configs, sizeof(configs) / sizeof(configs[0]),
			      cases, sizeof(cases) / sizeof(cases[0]));
}
