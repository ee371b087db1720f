// SPDX-License-Identifier: MIT
/*
 * test_ring_inflight.c - the inflight log of a split virtqueue
 * (common/ring/inflight.h; vhost-user.rst "Inflight I/O tracking") across
 * a device that dies.  A driver and a device share one memory block, as in
 * test_ring.c; the device keeps its log in a region of its own.  A death
 * is the device's private state thrown away (vq_dev_reset touches neither
 * the rings nor the log) and a new device started over the same rings
 * and log, as a restarted backend is after SET_INFLIGHT_FD.  Every case
 * runs over each split configuration.
 *
 * Checked: chains popped and not used (or pushed and not flushed) are
 * popped again first, in the order they were first taken, and every chain
 * the driver posted comes back to it used exactly once; a death between
 * publishing the used index and clearing the flags is finished on
 * restart; a resubmitted chain given back (unpop) is taken again before
 * anything new; a log that lies (version, size, flag values, counters,
 * its last batch) is refused with a reason, and the queue is broken, not
 * the process.
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
#include "common/ring/inflight.h"
#include "common/ring/vq.h"

#define GPA_BASE  0x40000000ull
#define MEM_BYTES (1u << 20)
#define BUF_AT	  (512u << 10)	/* buffers after the ring */
#define QSZ	  16u

static const uint32_t split_flags[] = {
	0, VQ_F_EVENT_IDX, VQ_F_INDIRECT, VQ_F_IN_ORDER,
	VQ_F_EVENT_IDX | VQ_F_INDIRECT | VQ_F_IN_ORDER,
};

struct rig {
	uint32_t flags;
	uint8_t *mem;
	struct gmem gm;
	struct vq_drv drv;
	struct vq_dev dev;
	struct vq_inflight_region *log;
	size_t log_len;
	struct vq_buf pool[64];
	struct vq_chain ch[QSZ];
	uint64_t next_seq;	/* the driver's next frame */
	uint64_t reaped;	/* frames the driver got back, in order */
};

static uint64_t buf_gpa(uint16_t slot)
{
	return GPA_BASE + BUF_AT + (uint64_t)slot * 64;
}

static void rig_open(struct rig *r, uint32_t flags)
{
	struct vq_drv_cfg cfg = { .layout = VQ_SPLIT, .size = QSZ, .flags = flags,
				  .used_align = 4, .indirect_max = 4 };

	memset(r, 0, sizeof(*r));
	r->flags = flags;
	r->mem = aligned_alloc(4096, MEM_BYTES);
	assert_non_null(r->mem);
	memset(r->mem, 0, MEM_BYTES);
	assert_int_equal(vq_drv_init(&r->drv, &cfg, r->mem, GPA_BASE), 0);
	gmem_init(&r->gm);
	assert_int_equal(gmem_add(&r->gm, GPA_BASE, MEM_BYTES, r->mem, true), 0);
	r->log_len = vq_inflight_region_size(QSZ);
	r->log = aligned_alloc(64, r->log_len);
	assert_non_null(r->log);
	memset(r->log, 0, r->log_len);	/* as GET_INFLIGHT_FD hands it out */
}

/* A device process starting on the rings: init, the frontend's base,
 * the log.  The number of chains it resubmits. */
static unsigned dev_start(struct rig *r, uint32_t base)
{
	unsigned resubmit = 99;

	assert_int_equal(vq_dev_init(&r->dev, VQ_SPLIT, QSZ, r->flags, &r->drv.addrs, &r->gm), 0);
	assert_int_equal(vq_dev_set_base(&r->dev, base), 0);
	assert_int_equal(vq_dev_set_inflight(&r->dev, r->log, r->log_len, &resubmit), 0);
	return resubmit;
}

/* The device process dies: its private state is gone, what it wrote to
 * shared memory stays. */
static void dev_die(struct rig *r)
{
	vq_dev_reset(&r->dev);
}

static void rig_close(struct rig *r)
{
	assert_false(r->dev.broken);
	assert_false(r->drv.broken);
	vq_dev_reset(&r->dev);
	vq_drv_free(&r->drv);
	gmem_clear(&r->gm);
	free(r->log);
	free(r->mem);
}

/* The driver posts n frames: each an 8-byte sequence number. */
static void post(struct rig *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t seq = r->next_seq++;
		uint16_t slot = (uint16_t)(seq % 256);
		struct vq_sg sg = { buf_gpa(slot), 8 };

		memcpy(r->mem + BUF_AT + (size_t)slot * 64, &seq, 8);
		assert_int_equal(vq_drv_add(&r->drv, &sg, 1, 0, (void *)(uintptr_t)(seq + 1)), 0);
	}
	vq_drv_kick_prepare(&r->drv);
}

/* The device takes up to n chains in one burst; they must carry the
 * sequence numbers first, first+1, ...  How many it took. */
static unsigned take(struct rig *r, unsigned n, uint64_t first)
{
	int got = vq_dev_pop_burst(&r->dev, r->ch, n, r->pool, 64, VQ_CHAIN_READ_ONLY);

	assert_true(got >= 0);
	for (int k = 0; k < got; k++) {
		uint64_t seq;

		assert_int_equal(r->ch[k].n_out, 1);
		memcpy(&seq, r->ch[k].bufs[0].ptr, 8);
		assert_int_equal(seq, first + (uint64_t)k);
	}
	return (unsigned)got;
}

/* The driver takes back what was used: every frame once, in order. */
static void reap(struct rig *r)
{
	void *t;
	uint32_t len;

	while ((t = vq_drv_get(&r->drv, &len)) != NULL) {
		assert_int_equal((uintptr_t)t - 1, r->reaped);
		r->reaped++;
	}
	assert_false(r->drv.broken);
}

/* The device takes everything available (n chains, from sequence number
 * first on), uses it all, and the driver has then got total frames back. */
static void use_all(struct rig *r, unsigned n, uint64_t first, uint64_t total)
{
	assert_int_equal(take(r, QSZ, first), n);
	vq_dev_push_burst(&r->dev, r->ch, n, NULL);
	vq_dev_flush(&r->dev);
	reap(r);
	assert_int_equal(r->reaped, total);
}

/* ---- across a death ----------------------------------------------------- */

static void test_popped_not_used_are_resubmitted_first(void **state)
{
	(void)state;
	for (size_t f = 0; f < sizeof(split_flags) / sizeof(split_flags[0]); f++) {
		struct rig r;

		rig_open(&r, split_flags[f]);
		assert_int_equal(dev_start(&r, 0), 0);	/* a fresh log */
		assert_int_equal(r.log->version, VQ_INFLIGHT_VERSION);
		assert_int_equal(r.log->desc_num, QSZ);
		post(&r, 8);
		/* 6 taken: 2 used and flushed, 1 pushed but not flushed, 3
		 * being worked on when the process dies. */
		assert_int_equal(take(&r, 6, 0), 6);
		vq_dev_push_burst(&r.dev, r.ch, 2, NULL);
		vq_dev_flush(&r.dev);
		vq_dev_push_burst(&r.dev, r.ch + 2, 1, NULL);
		dev_die(&r);
		reap(&r);
		assert_int_equal(r.reaped, 2);

		/* The frontend rewinds to the used index after a crash (QEMU's
		 * virtio_queue_restore_last_avail_idx): base 2. */
		assert_int_equal(dev_start(&r, 2), 4);
		post(&r, 2);
		use_all(&r, 8, 2, 10);	/* 2..5 again, then 6..9 */
		for (unsigned i = 0; i < QSZ; i++)
			assert_int_equal(r.log->desc[i].inflight, 0);
		assert_int_equal(r.log->used_idx, 10);
		rig_close(&r);
	}
}

/* The base the frontend sends does not matter: the log says where the
 * ring was consumed to (used + inflight). */
static void test_resubmit_whatever_base_the_frontend_sends(void **state)
{
	struct rig r;

	(void)state;
	rig_open(&r, 0);
	dev_start(&r, 0);
	post(&r, 5);
	assert_int_equal(take(&r, 5, 0), 5);
	vq_dev_push_burst(&r.dev, r.ch, 1, NULL);
	vq_dev_flush(&r.dev);
	dev_die(&r);
	assert_int_equal(dev_start(&r, 0), 4);
	assert_int_equal(vq_dev_get_base(&r.dev), 5);
	use_all(&r, 4, 1, 5);
	rig_close(&r);
}

/* Death after the used index went out and before the batch's flags were
 * cleared (vhost-user.rst "When reconnecting", 1): the log's used_idx is
 * behind, and its last batch list names the chains already used. */
static void test_death_between_used_and_clear_is_finished(void **state)
{
	(void)state;
	for (size_t f = 0; f < sizeof(split_flags) / sizeof(split_flags[0]); f++) {
		struct rig r;

		rig_open(&r, split_flags[f]);
		dev_start(&r, 0);
		post(&r, 6);
		assert_int_equal(take(&r, 4, 0), 4);
		vq_dev_push_burst(&r.dev, r.ch, 4, NULL);
		vq_dev_flush(&r.dev);
		/* Put back what the flush wrote after the used index: the
		 * flags set and used_idx as before. */
		for (unsigned k = 0; k < 4; k++)
			r.log->desc[r.ch[k].id].inflight = 1;
		r.log->used_idx = 0;
		dev_die(&r);
		assert_int_equal(dev_start(&r, 4), 0);
		assert_int_equal(r.log->used_idx, 4);
		use_all(&r, 2, 4, 6);
		rig_close(&r);
	}
}

/* A resubmitted chain given back (a link ring full) is taken again
 * before anything new; one from the available ring goes back there. */
static void test_unpop_of_resubmitted_chains(void **state)
{
	struct rig r;

	(void)state;
	rig_open(&r, VQ_F_IN_ORDER);
	dev_start(&r, 0);
	post(&r, 3);
	assert_int_equal(take(&r, 3, 0), 3);
	dev_die(&r);
	assert_int_equal(dev_start(&r, 0), 3);
	post(&r, 2);
	assert_int_equal(take(&r, 5, 0), 5);	/* 0,1,2 again, then 3,4 */
	vq_dev_push_burst(&r.dev, r.ch, 1, NULL);
	for (unsigned i = 5; i > 1; i--)
		vq_dev_unpop(&r.dev, &r.ch[i - 1]);
	assert_int_equal(r.log->desc[r.ch[1].id].inflight, 1);	/* still owed */
	assert_int_equal(r.log->desc[r.ch[4].id].inflight, 0);	/* back in the ring */
	vq_dev_flush(&r.dev);
	use_all(&r, 4, 1, 5);
	/* A second death with nothing in flight resubmits nothing. */
	dev_die(&r);
	assert_int_equal(dev_start(&r, 5), 0);
	rig_close(&r);
}

/* A fresh region (version 0) is started whatever it holds. */
static void test_fresh_log_is_cleared(void **state)
{
	struct rig r;

	(void)state;
	rig_open(&r, 0);
	memset(r.log->desc, 0x01, QSZ * sizeof(r.log->desc[0]));
	assert_int_equal(dev_start(&r, 7), 0);
	assert_int_equal(r.log->used_idx, 7);
	for (unsigned i = 0; i < QSZ; i++)
		assert_int_equal(r.log->desc[i].inflight, 0);
	rig_close(&r);
}

/* ---- logs that lie ------------------------------------------------------ */

/* A log left with chains 0..2 taken, then edited by the test. */
static void lying_log(struct rig *r)
{
	rig_open(r, 0);
	dev_start(r, 0);
	post(r, 3);
	assert_int_equal(take(r, 3, 0), 3);
	dev_die(r);
}

static void expect_refused(struct rig *r, const char *reason)
{
	unsigned resubmit;

	assert_int_equal(vq_dev_init(&r->dev, VQ_SPLIT, QSZ, r->flags, &r->drv.addrs, &r->gm), 0);
	assert_int_equal(vq_dev_set_inflight(&r->dev, r->log, r->log_len, &resubmit), -EINVAL);
	assert_true(r->dev.broken);
	assert_non_null(strstr(r->dev.reason, reason));
	assert_int_equal(vq_dev_pop_burst(&r->dev, r->ch, 1, r->pool, 64, VQ_CHAIN_READ_ONLY), -EIO);
	r->dev.broken = false;	/* for rig_close */
	vq_dev_reset(&r->dev);
	vq_drv_free(&r->drv);
	gmem_clear(&r->gm);
	free(r->log);
	free(r->mem);
}

static void test_lying_logs_are_refused(void **state)
{
	struct rig r;

	(void)state;
	lying_log(&r);
	r.log->version = 9;
	expect_refused(&r, "version 9");

	lying_log(&r);
	r.log->desc_num = 64;
	expect_refused(&r, "desc_num 64");

	lying_log(&r);
	r.log->desc[5].inflight = 2;
	expect_refused(&r, "inflight is 2");

	lying_log(&r);
	assert_int_equal(r.log->desc[1].inflight, 1);	/* heads 0..2 were taken */
	r.log->desc[1].counter = r.log->desc[2].counter;
	expect_refused(&r, "share the counter");

	lying_log(&r);
	r.log->used_idx = (uint16_t)(0 - 3);	/* 3 behind the ring's 0 */
	r.log->last_batch_head = 200;
	expect_refused(&r, "lists descriptor 200");

	lying_log(&r);
	r.log->used_idx = 1000;	/* far from the ring's used index */
	expect_refused(&r, "behind the used ring");
}

/* Packed rings have no log here (the spec's packed layout is not
 * implemented): refused without breaking the queue. */
static void test_packed_has_no_log(void **state)
{
	struct vq_drv_cfg cfg = { .layout = VQ_PACKED, .size = QSZ, .used_align = 4 };
	uint8_t *mem = aligned_alloc(4096, MEM_BYTES);
	struct vq_inflight_region *log = calloc(1, vq_inflight_region_size(QSZ));
	struct vq_drv drv;
	struct vq_dev dev;
	struct gmem gm;
	unsigned n;

	(void)state;
	assert_non_null(mem);
	assert_non_null(log);
	memset(&dev, 0, sizeof(dev));
	assert_int_equal(vq_drv_init(&drv, &cfg, mem, GPA_BASE), 0);
	gmem_init(&gm);
	assert_int_equal(gmem_add(&gm, GPA_BASE, MEM_BYTES, mem, true), 0);
	assert_int_equal(vq_dev_init(&dev, VQ_PACKED, QSZ, 0, &drv.addrs, &gm), 0);
	assert_int_equal(vq_dev_set_inflight(&dev, log, vq_inflight_region_size(QSZ), &n),
			 -ENOTSUP);
	assert_false(dev.broken);
	assert_int_equal(log->version, 0);
	vq_dev_reset(&dev);
	vq_drv_free(&drv);
	gmem_clear(&gm);
	free(log);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_popped_not_used_are_resubmitted_first),
		cmocka_unit_test(test_resubmit_whatever_base_the_frontend_sends),
		cmocka_unit_test(test_death_between_used_and_clear_is_finished),
		cmocka_unit_test(test_unpop_of_resubmitted_chains),
		cmocka_unit_test(test_fresh_log_is_cleared),
		cmocka_unit_test(test_lying_logs_are_refused),
		cmocka_unit_test(test_packed_has_no_log),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
