// SPDX-License-Identifier: MIT
/*
 * test_ctrl.c - the device's control queue (host/dp/ctrl.c, 5.1.6.5),
 * interrupt coalescing (host/dp/notify.c, 5.1.6.5.6) and multiqueue
 * (5.1.6.5.5, the queue layout of 5.1.2), driven the way a
 * driver drives them: a vdev made by the real vdev_new over guest RAM
 * from a memfd, brought up through the model's API (features, queues,
 * DRIVER_OK), with the driver side of common/ring laying out the rings in
 * that RAM.  Commands are chains on the controlq; the device answers when
 * kicked (dp_kick).  Interrupts are counted by the model's irq hook.
 * HASH_REPORT (5.1.6.4.4): HASH_CONFIG's checks, and the receive header
 * of frames handed to the data path through a peer ring of the test's
 * own, as a link would.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/peer_ring.h"
#include "common/ring/vq.h"
#include "host/dev/vdev.h"
#include "host/dp/dp.h"
#include "host/evloop.h"
#include "tests/unit/support/fake_vdev.h"
#include "tests/unit/support/frames.h"

#define RAM_GPA	  0x100000ull
#define RAM_SIZE  (1u << 20)
#define QSIZE	  16u
/* One block per queue: the first three below the buffers, the others
 * (multiqueue) after them. */
#define RING_AT(q) (RAM_GPA + ((q) < 3 ? (uint64_t)(q) * 0x4000u : 0x20000u + ((q) - 3) * 0x4000u))
#define BUF_AT	  (RAM_GPA + 0x10000u)			/* command buffers */

#define COAL_FEATURES (VIRTIO_BIT(VIRTIO_NET_F_NOTF_COAL) | VIRTIO_BIT(VIRTIO_NET_F_VQ_NOTF_COAL))
#define MQ_FEATURE    VIRTIO_BIT(VIRTIO_NET_F_MQ)
#define RSS_FEATURE   VIRTIO_BIT(VIRTIO_NET_F_RSS)
#define HASH_FEATURE  VIRTIO_BIT(VIRTIO_NET_F_HASH_REPORT)
#define MRG_FEATURE   VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF)
#define BASE_FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ))

struct rig {
	struct evloop *ev;
	struct fake_vdev f;
	struct vdev *vd;
	uint8_t *ram;		/* the guest RAM, as the device maps it */
	unsigned nq, ctrlq;	/* queues of the negotiated layout; the controlq */
	struct vq_drv q[VDEV_MAX_QUEUES];
	unsigned irqs[VDEV_MAX_QUEUES];
};

static bool count_irq(void *ctx, int q)
{
	struct rig *r = ctx;

	if (q >= 0 && q < VDEV_MAX_QUEUES)
		r->irqs[q]++;
	return true;
}

static uint8_t *ram_at(struct rig *r, uint64_t gpa)
{
	return r->ram + (gpa - RAM_GPA);
}

/* 3.1.1: features, FEATURES_OK, queues, DRIVER_OK, on a device with
 * `queues pairs`, with the first `enabled` pairs (and the controlq)
 * enabled. */
static void rig_up_pairs(struct rig *r, uint64_t features, unsigned pairs, unsigned enabled)
{
	bool mq = features & (MQ_FEATURE | RSS_FEATURE);	/* 5.1.2: N pairs with either */

	memset(r, 0, sizeof(*r));
	r->ev = evloop_new();
	assert_non_null(r->ev);
	fake_vdev_init_pairs(&r->f, r->ev, false,
			     BASE_FEATURES | COAL_FEATURES | HASH_FEATURE | MRG_FEATURE |
				     (pairs > 1 ? MQ_FEATURE | RSS_FEATURE : 0),
			     RAM_GPA,
			     RAM_SIZE, pairs);
	r->vd = r->f.vd;
	r->vd->irq = (struct vdev_irq){ count_irq, r };
	r->ram = gmem_translate(&r->vd->gm, RAM_GPA, RAM_SIZE, true);
	assert_non_null(r->ram);
	vdev_set_status(r->vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vdev_set_driver_features_window(r->vd, 0, (uint32_t)features);
	vdev_set_driver_features_window(r->vd, 1, (uint32_t)(features >> 32));
	vdev_set_status(r->vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK);
	assert_true(r->vd->status & VIRTIO_STATUS_FEATURES_OK);
	r->nq = mq ? 2 * pairs + 1 : ONE_PAIR_QUEUES;
	r->ctrlq = r->nq - 1;
	assert_int_equal(vdev_ctrlq(r->vd), r->ctrlq);
	for (unsigned q = 0; q < r->nq; q++) {
		struct vq_drv_cfg cfg = { .layout = VQ_SPLIT, .size = QSIZE, .used_align = 4 };

		if (q != r->ctrlq && q >= 2 * enabled)
			continue;

		assert_int_equal(vq_drv_init(&r->q[q], &cfg, ram_at(r, RING_AT(q)), RING_AT(q)), 0);
		vdev_queue_set_size(r->vd, q, QSIZE);
		vdev_queue_set_addr(r->vd, q, 0, r->q[q].addrs.desc);
		vdev_queue_set_addr(r->vd, q, 1, r->q[q].addrs.driver);
		vdev_queue_set_addr(r->vd, q, 2, r->q[q].addrs.device);
		vdev_queue_enable(r->vd, q);
	}
	vdev_set_status(r->vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	assert_true(vdev_running(r->vd));
}

static void rig_up(struct rig *r, uint64_t features)
{
	rig_up_pairs(r, features, 1, 1);
}

static void rig_down(struct rig *r)
{
	for (unsigned q = 0; q < r->nq; q++)
		vq_drv_free(&r->q[q]);
	fake_vdev_fini(&r->f);
	evloop_free(r->ev);
}

/* One command: {class, command} and data readable, then an ack byte and
 * result_room bytes writable.  Returns the ack; *used: the used length. */
static uint8_t command(struct rig *r, uint8_t cls, uint8_t cmd, const void *data,
		       uint32_t n, void *result, uint32_t result_room, uint32_t *used)
{
	uint8_t *hdr = ram_at(r, BUF_AT), *d = hdr + 64, *ack = hdr + 512;
	struct vq_sg sg[4] = {
		{ BUF_AT, 2 },
		{ BUF_AT + 64, n },
		{ BUF_AT + 512, 1 },
		{ BUF_AT + 520, result_room },
	};
	unsigned n_out = n ? 2 : 1;
	uint32_t len = 0;

	hdr[0] = cls;
	hdr[1] = cmd;
	if (n)
		memcpy(d, data, n);
	*ack = 0xee;
	memset(ack + 8, 0xee, 32);
	if (!n)
		sg[1] = sg[2], sg[2] = sg[3];
	assert_int_equal(vq_drv_add(&r->q[r->ctrlq], sg, n_out, result_room ? 2 : 1,
				    (void *)1), 0);
	vq_drv_kick_prepare(&r->q[r->ctrlq]);
	dp_kick(r->vd, r->ctrlq);
	assert_ptr_equal(vq_drv_get(&r->q[r->ctrlq], &len), (void *)1);
	if (used)
		*used = len;
	if (result && result_room)
		memcpy(result, ack + 8, result_room);
	return *ack;
}

static uint8_t coal_set(struct rig *r, uint8_t cmd, uint32_t frames, uint32_t usecs)
{
	struct virtio_net_ctrl_coal c = { frames, usecs };

	return command(r, VIRTIO_NET_CTRL_NOTF_COAL, cmd, &c, sizeof(c), NULL, 0, NULL);
}

static uint8_t coal_vq(struct rig *r, uint8_t cmd, uint16_t vqn, uint32_t frames,
		       uint32_t usecs)
{
	struct virtio_net_ctrl_coal_vq v = { vqn, 0, { frames, usecs } };

	return command(r, VIRTIO_NET_CTRL_NOTF_COAL, cmd, &v, sizeof(v), NULL, 0, NULL);
}

/* VQ_GET: the ack, and what the device said. */
static uint8_t coal_get(struct rig *r, uint16_t vqn, struct virtio_net_ctrl_coal *out,
			uint32_t *used)
{
	uint8_t q[4] = { (uint8_t)vqn, (uint8_t)(vqn >> 8), 0, 0 };

	return command(r, VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET,
		       q, sizeof(q), out, sizeof(*out), used);
}

/* A timer that ends one evloop_run (the loop's own type for it). */
static void stop_loop(void *ev)
{
	evloop_stop(ev);
}

/* ---- commands ---------------------------------------------------------- */

static void test_coal_set_and_get(void **state)
{
	struct virtio_net_ctrl_coal c;
	struct rig r;
	uint32_t used;

	(void)state;
	rig_up(&r, BASE_FEATURES | COAL_FEATURES);
	assert_int_equal(coal_set(&r, VIRTIO_NET_CTRL_NOTF_COAL_RX_SET, 16, 300), VIRTIO_NET_OK);
	assert_int_equal(coal_set(&r, VIRTIO_NET_CTRL_NOTF_COAL_TX_SET, 32, 50), VIRTIO_NET_OK);
	assert_int_equal(coal_get(&r, VNET_RXQ, &c, &used), VIRTIO_NET_OK);
	assert_int_equal(used, 1 + sizeof(c));
	assert_int_equal(c.max_packets, 16);
	assert_int_equal(c.max_usecs, 300);
	assert_int_equal(coal_vq(&r, VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, VNET_TXQ, 7, 9),
			 VIRTIO_NET_OK);
	assert_int_equal(coal_get(&r, VNET_TXQ, &c, NULL), VIRTIO_NET_OK);
	assert_int_equal(c.max_packets, 7);
	assert_int_equal(c.max_usecs, 9);
	rig_down(&r);
}

/* 5.1.6.5.6: only transmit and receive queues; exact lengths; the
 * feature each command needs. */
static void test_coal_refusals(void **state)
{
	struct virtio_net_ctrl_coal c;
	struct rig r;
	uint8_t shortdata[4] = { 0 };
	uint32_t used;

	(void)state;
	rig_up(&r, BASE_FEATURES | COAL_FEATURES);
	assert_int_equal(coal_vq(&r, VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, VNET_CTRLQ, 1, 1),
			 VIRTIO_NET_ERR);
	assert_int_equal(coal_vq(&r, VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, 100, 1, 1), VIRTIO_NET_ERR);
	assert_int_equal(coal_get(&r, VNET_CTRLQ, &c, NULL), VIRTIO_NET_ERR);
	assert_int_equal(command(&r, VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_NOTF_COAL_RX_SET,
				 shortdata, sizeof(shortdata), NULL, 0, NULL), VIRTIO_NET_ERR);
	assert_int_equal(command(&r, VIRTIO_NET_CTRL_NOTF_COAL, 9, NULL, 0, NULL, 0, NULL),
			 VIRTIO_NET_ERR);
	/* A VQ_GET without room for the result: the ack, and nothing more. */
	assert_int_equal(command(&r, VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET,
				 shortdata, sizeof(shortdata), NULL, 0, &used), VIRTIO_NET_OK);
	assert_int_equal(used, 1);
	rig_down(&r);

	rig_up(&r, BASE_FEATURES | VIRTIO_BIT(VIRTIO_NET_F_NOTF_COAL));
	assert_int_equal(coal_set(&r, VIRTIO_NET_CTRL_NOTF_COAL_TX_SET, 4, 4), VIRTIO_NET_OK);
	assert_int_equal(coal_vq(&r, VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, VNET_TXQ, 1, 1),
			 VIRTIO_NET_ERR);
	assert_int_equal(coal_get(&r, VNET_TXQ, &c, NULL), VIRTIO_NET_ERR);
	rig_down(&r);

	rig_up(&r, BASE_FEATURES);
	assert_int_equal(coal_set(&r, VIRTIO_NET_CTRL_NOTF_COAL_TX_SET, 4, 4), VIRTIO_NET_ERR);
	rig_down(&r);
}

/* ---- coalescing -------------------------------------------------------- */

/* The guest transmits n frames (no link: the device drops them, counted,
 * and uses the chains all the same). */
static unsigned transmit_on(struct rig *r, unsigned pair, unsigned n)
{
	struct vq_drv *q = &r->q[vnet_txq(pair)];
	unsigned used = 0;

	for (unsigned i = 0; i < n; i++) {
		struct vq_sg sg = { BUF_AT + 0x1000 + 128u * i, 12 + 60 };

		memset(ram_at(r, sg.gpa), 0, sg.len);
		assert_int_equal(vq_drv_add(q, &sg, 1, 0, (void *)(uintptr_t)(i + 1)), 0);
	}
	vq_drv_kick_prepare(q);
	dp_kick(r->vd, vnet_txq(pair));
	while (vq_drv_get(q, NULL))
		used++;
	return used;
}

static void transmit(struct rig *r, unsigned n)
{
	assert_int_equal(transmit_on(r, 0, n), n);
}

/* Both limits non-zero: the interrupt waits for max_packets frames... */
static void test_coal_holds_until_max_packets(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r, BASE_FEATURES | COAL_FEATURES);
	transmit(&r, 1);
	assert_int_equal(r.irqs[VNET_TXQ], 1);		/* not coalescing: at once */
	assert_int_equal(coal_set(&r, VIRTIO_NET_CTRL_NOTF_COAL_TX_SET, 4, 1000000),
			 VIRTIO_NET_OK);
	transmit(&r, 1);
	transmit(&r, 2);
	assert_int_equal(r.irqs[VNET_TXQ], 1);
	assert_int_equal(r.vd->q[VNET_TXQ].stats.irqs_coalesced, 2);
	transmit(&r, 1);				/* the fourth frame */
	assert_int_equal(r.irqs[VNET_TXQ], 2);
	transmit(&r, 5);				/* a burst past the limit */
	assert_int_equal(r.irqs[VNET_TXQ], 3);
	rig_down(&r);
}

/* ... or for max_usecs, whichever comes first; a reset forgets the
 * setting and what was held. */
static void test_coal_timer_sends_held_interrupt(void **state)
{
	struct rig r;
	uint64_t until;

	(void)state;
	rig_up(&r, BASE_FEATURES | COAL_FEATURES);
	assert_int_equal(coal_set(&r, VIRTIO_NET_CTRL_NOTF_COAL_TX_SET, 64, 2000), VIRTIO_NET_OK);
	transmit(&r, 1);
	assert_int_equal(r.irqs[VNET_TXQ], 0);
	until = now_ms() + 2000;
	while (r.irqs[VNET_TXQ] == 0 && now_ms() < until) {
		long id = ev_timer(r.ev, 1, stop_loop, r.ev);

		assert_true(id > 0);
		assert_int_equal(evloop_run(r.ev), 0);
	}
	assert_int_equal(r.irqs[VNET_TXQ], 1);
	/* Held again, then a reset: nothing is sent for it, and the
	 * setting is gone (5.1.6.5.6). */
	transmit(&r, 1);
	vdev_set_status(r.vd, 0);
	for (int i = 0; i < 5; i++) {
		assert_true(ev_timer(r.ev, 1, stop_loop, r.ev) > 0);
		assert_int_equal(evloop_run(r.ev), 0);
	}
	assert_int_equal(r.irqs[VNET_TXQ], 1);
	assert_int_equal(r.vd->dp.coal[VNET_TXQ].max_packets, 0);
	rig_down(&r);
}

/* Either limit 0: every interrupt goes at once (5.1.6.5.6.2). */
static void test_coal_zero_means_off(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r, BASE_FEATURES | COAL_FEATURES);
	assert_int_equal(coal_set(&r, VIRTIO_NET_CTRL_NOTF_COAL_TX_SET, 0, 5000), VIRTIO_NET_OK);
	transmit(&r, 1);
	assert_int_equal(coal_set(&r, VIRTIO_NET_CTRL_NOTF_COAL_TX_SET, 8, 0), VIRTIO_NET_OK);
	transmit(&r, 1);
	assert_int_equal(r.irqs[VNET_TXQ], 2);
	assert_int_equal(r.vd->q[VNET_TXQ].stats.irqs_coalesced, 0);
	rig_down(&r);
}

/* ---- dirty-page log ----------------------------------------------------- */

/* Which of the first 64 pages of guest RAM the log holds dirty (cleared). */
static uint64_t dirty_pages(struct rig *r)
{
	uint64_t bits[4] = { 0 };
	char why[160];

	assert_int_equal(gmem_log_report(&r->vd->gm, RAM_GPA, 64 * 4096, 4096, bits, 4, why,
					 sizeof(why)), 0);
	return bits[0];
}

#define PAGES_OF(q) (UINT64_C(0xf) << ((q) * 4))	/* a queue's ring block */
#define PAGE_CMD    (UINT64_C(1) << 16)			/* BUF_AT: header, ack */
#define PAGE_TXBUF  (UINT64_C(1) << 17)			/* BUF_AT + 0x1000 */

/* Every guest page the device writes is in the log: used rings and the
 * control queue's ack; what it only reads (a frame to transmit) is not. */
static void test_dirty_log_marks_device_writes(void **state)
{
	struct gmem_log_range all = { RAM_GPA, RAM_SIZE };
	uint64_t ps = 4096, d;
	struct rig r;
	char why[160];

	(void)state;
	rig_up(&r, BASE_FEATURES | COAL_FEATURES);
	assert_int_equal(gmem_log_start(&r.vd->gm, &ps, &all, 1, why, sizeof(why)), 0);
	assert_int_equal(dirty_pages(&r), 0);
	transmit(&r, 3);
	d = dirty_pages(&r);
	assert_true(d & PAGES_OF(VNET_TXQ));		/* its used ring */
	assert_int_equal(d & ~PAGES_OF(VNET_TXQ), 0);	/* nothing else */
	assert_int_equal(coal_set(&r, VIRTIO_NET_CTRL_NOTF_COAL_TX_SET, 0, 0), VIRTIO_NET_OK);
	d = dirty_pages(&r);
	assert_true(d & PAGE_CMD);			/* the ack */
	assert_true(d & PAGES_OF(VNET_CTRLQ));
	assert_int_equal(d & (PAGE_TXBUF | PAGES_OF(VNET_RXQ) | PAGES_OF(VNET_TXQ)), 0);
	/* A reset of the device does not stop the log; the guest's
	 * memory going away does. */
	vdev_set_status(r.vd, 0);
	assert_non_null(r.vd->gm.log);
	rig_down(&r);
}

/* ---- multiqueue (5.1.6.5.5) --------------------------------------------- */

static uint8_t pairs_set(struct rig *r, uint16_t pairs)
{
	return command(r, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs,
		       sizeof(pairs), NULL, 0, NULL);
}

/* `queues 4`: 9 queues, the controlq last (5.1.2); one pair in use until
 * the driver sets more, and again after a reset; every transmitq of the
 * layout is served. */
static void test_mq_layout_and_pairs_set(void **state)
{
	struct rig r;

	(void)state;
	rig_up_pairs(&r, BASE_FEATURES | COAL_FEATURES | MQ_FEATURE, 4, 4);
	assert_int_equal(r.vd->num_queues, 9);
	assert_int_equal(r.ctrlq, 8);
	assert_int_equal(r.vd->cfg.max_virtqueue_pairs, 4);
	assert_int_equal(r.vd->curr_pairs, 1);
	assert_int_equal(pairs_set(&r, 4), VIRTIO_NET_OK);
	assert_int_equal(r.vd->curr_pairs, 4);
	for (unsigned k = 0; k < 4; k++) {
		assert_int_equal(transmit_on(&r, k, 3), 3);
		assert_int_equal(r.irqs[vnet_txq(k)], 1);
	}
	assert_int_equal(r.vd->stats.drop_link_down, 12);	/* no link here */
	/* A per-queue setting reaches the queue it names; the controlq and
	 * queues past the layout have none. */
	assert_int_equal(coal_vq(&r, VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, vnet_txq(3), 5, 6),
			 VIRTIO_NET_OK);
	assert_int_equal(r.vd->dp.coal[vnet_txq(3)].max_packets, 5);
	assert_int_equal(r.vd->dp.coal[vnet_txq(0)].max_packets, 0);
	assert_int_equal(coal_vq(&r, VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, 8, 1, 1), VIRTIO_NET_ERR);
	/* NOTF_COAL's TX_SET is for every transmitq. */
	assert_int_equal(coal_set(&r, VIRTIO_NET_CTRL_NOTF_COAL_TX_SET, 9, 9), VIRTIO_NET_OK);
	for (unsigned k = 0; k < 4; k++)
		assert_int_equal(r.vd->dp.coal[vnet_txq(k)].max_packets, 9);
	assert_int_equal(r.vd->dp.coal[vnet_rxq(1)].max_packets, 0);
	vdev_set_status(r.vd, 0);
	assert_int_equal(r.vd->curr_pairs, 1);
	rig_down(&r);
}

/* Out of range, the wrong length, without MQ, and pairs whose queues the
 * driver did not enable: refused, and the pairs in use stay. */
static void test_mq_pairs_set_refusals(void **state)
{
	uint8_t three[3] = { 2, 0, 0 };
	struct rig r;

	(void)state;
	/* DRIVER_OK with only two of four pairs enabled is fine. */
	rig_up_pairs(&r, BASE_FEATURES | MQ_FEATURE, 4, 2);
	assert_int_equal(pairs_set(&r, 0), VIRTIO_NET_ERR);
	assert_int_equal(pairs_set(&r, 5), VIRTIO_NET_ERR);
	assert_int_equal(pairs_set(&r, 3), VIRTIO_NET_ERR);	/* pair 3 not enabled */
	assert_int_equal(command(&r, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, three,
				 sizeof(three), NULL, 0, NULL), VIRTIO_NET_ERR);
	assert_int_equal(command(&r, VIRTIO_NET_CTRL_MQ, 1, three, 2, NULL, 0, NULL),
			 VIRTIO_NET_ERR);	/* RSS_CONFIG: not offered */
	assert_int_equal(r.vd->curr_pairs, 1);
	assert_int_equal(pairs_set(&r, 2), VIRTIO_NET_OK);
	assert_int_equal(r.vd->curr_pairs, 2);
	rig_down(&r);

	/* Offered but not negotiated: one pair, controlq at 2, and the
	 * command refused. */
	rig_up_pairs(&r, BASE_FEATURES, 4, 1);
	assert_int_equal(r.ctrlq, 2);
	assert_int_equal(pairs_set(&r, 2), VIRTIO_NET_ERR);
	assert_int_equal(r.vd->curr_pairs, 1);
	rig_down(&r);
}

/* 5.1.3.1: MQ requires CTRL_VQ; FEATURES_OK is refused without it. */
static void test_mq_needs_ctrl_vq(void **state)
{
	const uint8_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	struct fake_vdev f;
	struct evloop *ev = evloop_new();
	uint64_t feat = VIRTIO_BIT(VIRTIO_F_VERSION_1) | MQ_FEATURE;

	(void)state;
	fake_vdev_init_pairs(&f, ev, false, feat | VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ), 0, 0, 2);
	vdev_set_status(f.vd, st);
	vdev_set_driver_features_window(f.vd, 0, (uint32_t)feat);
	vdev_set_driver_features_window(f.vd, 1, (uint32_t)(feat >> 32));
	vdev_set_status(f.vd, st | VIRTIO_STATUS_FEATURES_OK);
	assert_false(f.vd->status & VIRTIO_STATUS_FEATURES_OK);
	fake_vdev_fini(&f);
	evloop_free(ev);
}

/* `queues 1` offers no MQ: the device looks as it always did. */
static void test_mq_not_offered_for_one_pair(void **state)
{
	struct vdev_opts o = { .queues = 1 };
	struct evloop *ev = evloop_new();
	struct vdev *vd;

	(void)state;
	snprintf(o.name, sizeof(o.name), "one");
	assert_int_equal(vdev_new(&vd, ev, "s", &o), 0);
	assert_false(vd->device_features & MQ_FEATURE);
	assert_int_equal(vd->num_queues, 3);
	assert_int_equal(vd->cfg.max_virtqueue_pairs, 1);
	vdev_free(vd);
	o.queues = 8;
	assert_int_equal(vdev_new(&vd, ev, "s", &o), 0);
	assert_true(vd->device_features & MQ_FEATURE);
	assert_int_equal(vd->num_queues, 17);
	vdev_free(vd);
	evloop_free(ev);
}

/* ---- RSS (5.1.6.5.7.1) ---------------------------------------------------- */

/* An RSS_CONFIG command: table of tlen entries (queue k at entry i when
 * table[i] = k), max_tx_vq, key of key_len bytes; `cut` bytes short. */
static uint8_t rss_config(struct rig *r, uint32_t types, const uint16_t *table, unsigned tlen,
			  uint16_t unclassified, uint16_t max_tx, unsigned key_len, unsigned cut)
{
	uint8_t d[8 + 2 * 256 + 3 + 64];
	struct virtio_net_rss_config_head h = { types, (uint16_t)(tlen - 1), unclassified };
	unsigned n = 0;

	memcpy(d, &h, sizeof(h));
	n += sizeof(h);
	memcpy(d + n, table, 2 * tlen);
	n += 2 * tlen;
	memcpy(d + n, &max_tx, 2);
	d[n + 2] = (uint8_t)key_len;
	n += 3;
	memcpy(d + n, rss_default_key, key_len < RSS_KEY_MAX ? key_len : RSS_KEY_MAX);
	n += key_len;
	return command(r, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, d, n - cut, NULL, 0,
		       NULL);
}

/* A configuration the device takes sets the pairs in use to what it
 * names; one it cannot take is refused whole and nothing changes; a reset
 * forgets it. */
static void test_rss_config(void **state)
{
	uint16_t table[256];
	struct rig r;

	(void)state;
	for (unsigned i = 0; i < 256; i++)
		table[i] = (uint16_t)(i % 3);
	rig_up_pairs(&r, BASE_FEATURES | RSS_FEATURE, 4, 4);
	assert_int_equal(r.ctrlq, 8);			/* 5.1.2: RSS alone has N pairs */
	assert_int_equal(r.vd->cfg.rss_max_key_size, RSS_KEY_MAX);
	assert_int_equal(r.vd->cfg.rss_max_indirection_table_length, RSS_TABLE_MAX);
	assert_int_equal(rss_config(&r, 0x3f, table, 128, 0, 2, 40, 0), VIRTIO_NET_OK);
	assert_true(r.vd->rss.on);
	assert_int_equal(r.vd->rss.table_len, 128);
	assert_int_equal(r.vd->rss.table[5], 2);
	assert_memory_equal(r.vd->rss.key, rss_default_key, RSS_KEY_MAX);
	assert_int_equal(r.vd->curr_pairs, 3);		/* queues 0..2 named */
	/* Refused: 3 entries (not a power of two), 256 (beyond 128), a
	 * queue past the pairs, unsupported hash types, a 41-byte key,
	 * max_tx_vq 0 or 5, a command one byte short. */
	assert_int_equal(rss_config(&r, 0x3f, table, 3, 0, 1, 40, 0), VIRTIO_NET_ERR);
	assert_int_equal(rss_config(&r, 0x3f, table, 256, 0, 1, 40, 0), VIRTIO_NET_ERR);
	table[7] = 4;
	assert_int_equal(rss_config(&r, 0x3f, table, 8, 0, 1, 40, 0), VIRTIO_NET_ERR);
	table[7] = 1;
	assert_int_equal(rss_config(&r, 0x3f, table, 8, 4, 1, 40, 0), VIRTIO_NET_ERR);
	assert_int_equal(rss_config(&r, 0x40, table, 8, 0, 1, 40, 0), VIRTIO_NET_ERR);
	assert_int_equal(rss_config(&r, 0x3f, table, 8, 0, 1, 41, 0), VIRTIO_NET_ERR);
	assert_int_equal(rss_config(&r, 0x3f, table, 8, 0, 0, 40, 0), VIRTIO_NET_ERR);
	assert_int_equal(rss_config(&r, 0x3f, table, 8, 0, 5, 40, 0), VIRTIO_NET_ERR);
	assert_int_equal(rss_config(&r, 0x3f, table, 8, 0, 1, 40, 1), VIRTIO_NET_ERR);
	assert_int_equal(r.vd->rss.table_len, 128);	/* unchanged */
	assert_int_equal(r.vd->curr_pairs, 3);
	/* max_tx_vq beyond the table's queues counts too. */
	assert_int_equal(rss_config(&r, 0x3f, table, 8, 0, 4, 40, 0), VIRTIO_NET_OK);
	assert_int_equal(r.vd->curr_pairs, 4);
	vdev_set_status(r.vd, 0);
	assert_false(r.vd->rss.on);
	rig_down(&r);

	/* Without RSS negotiated the command is refused. */
	rig_up_pairs(&r, BASE_FEATURES | MQ_FEATURE, 4, 4);
	assert_int_equal(rss_config(&r, 0x3f, table, 8, 0, 1, 40, 0), VIRTIO_NET_ERR);
	assert_false(r.vd->rss.on);
	rig_down(&r);
}

/* ---- HASH_REPORT (5.1.6.4.4, 5.1.6.5.5 "Hash calculation") ------------ */

/* A HASH_CONFIG command: types, reserved[4] (reserved2 in the third), the
 * key length byte, then key_len bytes of the default key; `extra` bytes
 * more (negative: fewer) than its length says. */
static uint8_t hash_config(struct rig *r, uint32_t types, uint16_t reserved2, unsigned key_len,
			   int extra)
{
	uint8_t d[sizeof(struct virtio_net_hash_config_head) + 64 + 8] = { 0 };
	struct virtio_net_hash_config_head h = { .hash_types = types,
						 .hash_key_length = (uint8_t)key_len };
	unsigned n = sizeof(h);

	h.reserved[2] = reserved2;
	memcpy(d, &h, sizeof(h));
	memcpy(d + n, rss_default_key, key_len < RSS_KEY_MAX ? key_len : RSS_KEY_MAX);
	n += key_len;
	return command(r, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_HASH_CONFIG, d,
		       (uint32_t)((int)n + extra), NULL, 0, NULL);
}

/* What the device takes: exactly the head and the key, types it computes,
 * a key it holds, zero reserved; HASH_REPORT negotiated and RSS not (with
 * RSS, RSS_CONFIG sets the hash).  A refusal changes nothing; a reset
 * forgets the configuration. */
static void test_hash_config(void **state)
{
	uint16_t table[8] = { 0, 1, 2, 3, 0, 1, 2, 3 };
	struct rig r;

	(void)state;
	rig_up(&r, BASE_FEATURES | HASH_FEATURE);
	assert_int_equal(r.vd->hdr_len, 20);		/* 5.1.6 */
	assert_int_equal(r.vd->hash.hash_types, 0);	/* none until set */
	assert_int_equal(hash_config(&r, 0x3f, 0, 40, 0), VIRTIO_NET_OK);
	assert_int_equal(r.vd->hash.hash_types, 0x3f);
	assert_int_equal(r.vd->hash.key_len, 40);
	assert_memory_equal(r.vd->hash.key, rss_default_key, RSS_KEY_MAX);
	assert_int_equal(hash_config(&r, 0x1, 0, 0, 0), VIRTIO_NET_OK);	/* no key: valid */
	assert_int_equal(r.vd->hash.hash_types, 0x1);
	assert_int_equal(r.vd->hash.key_len, 0);
	/* Refused: a byte short, a byte too many, shorter than the head, a
	 * 41-byte key, a type we do not compute (IP_EX), reserved not zero. */
	assert_int_equal(hash_config(&r, 0x3f, 0, 40, -1), VIRTIO_NET_ERR);
	assert_int_equal(hash_config(&r, 0x3f, 0, 40, 1), VIRTIO_NET_ERR);
	assert_int_equal(hash_config(&r, 0x3f, 0, 0, -1), VIRTIO_NET_ERR);
	assert_int_equal(hash_config(&r, 0x3f, 0, 41, 0), VIRTIO_NET_ERR);
	assert_int_equal(hash_config(&r, 0x40, 0, 40, 0), VIRTIO_NET_ERR);
	assert_int_equal(hash_config(&r, 0x3f, 1, 40, 0), VIRTIO_NET_ERR);
	assert_int_equal(r.vd->hash.hash_types, 0x1);	/* unchanged */
	assert_int_equal(r.vd->hash.key_len, 0);
	vdev_set_status(r.vd, 0);
	assert_int_equal(r.vd->hash.hash_types, 0);
	rig_down(&r);

	/* Without HASH_REPORT: refused, and the header stays 12 bytes. */
	rig_up(&r, BASE_FEATURES);
	assert_int_equal(r.vd->hdr_len, 12);
	assert_int_equal(hash_config(&r, 0x3f, 0, 40, 0), VIRTIO_NET_ERR);
	rig_down(&r);

	/* With RSS too: HASH_CONFIG is refused, RSS_CONFIG sets the hash. */
	rig_up_pairs(&r, BASE_FEATURES | RSS_FEATURE | HASH_FEATURE, 4, 4);
	assert_int_equal(hash_config(&r, 0x3f, 0, 40, 0), VIRTIO_NET_ERR);
	assert_int_equal(rss_config(&r, 0x12, table, 8, 0, 4, 40, 0), VIRTIO_NET_OK);
	assert_int_equal(r.vd->hash.hash_types, 0x12);
	assert_memory_equal(r.vd->hash.key, rss_default_key, RSS_KEY_MAX);
	rig_down(&r);
}

/* Microsoft's RSS verification vectors (the first of each family, as in
 * test_rss.c): the expected hashes come from the published table, not
 * from our code. */
static const struct hash_vec {
	int ipv;
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t ip, l4;
} hash_vecs[] = {
	{ 4, "66.9.149.187", "161.142.100.80", 2794, 1766, 0x323e8fc2, 0x51ccc178 },
	{ 6, "3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 2794, 1766, 0x2cc18cd5, 0x40207d3d },
};

static uint8_t hash_frame_buf[FRAME_CAP];

/* A TCP or UDP frame of the vector to our MAC, payload_len bytes. */
static uint32_t vec_frame(const struct rig *r, const struct hash_vec *v, uint8_t proto,
			  uint32_t payload_len)
{
	struct build o = { .ipv = v->ipv, .proto = proto, .payload_len = payload_len };
	struct built b = build_frame(hash_frame_buf, &o);
	uint8_t *f = hash_frame_buf;
	unsigned alen = v->ipv == 4 ? 4 : 16;
	uint16_t sp = htons(v->sport), dp = htons(v->dport);
	int af = v->ipv == 4 ? AF_INET : AF_INET6;

	memcpy(f, r->vd->cfg.mac, 6);
	assert_int_equal(inet_pton(af, v->src, f + b.l3_off + (v->ipv == 4 ? 12 : 8)), 1);
	assert_int_equal(inet_pton(af, v->dst, f + b.l3_off + (v->ipv == 4 ? 12 : 8) + alen), 1);
	memcpy(f + b.l4_off, &sp, 2);
	memcpy(f + b.l4_off + 2, &dp, 2);
	return b.len;
}

#define RX_BUF_AT (RAM_GPA + 0x40000u)	/* receive buffers, 2048 bytes apart */

/* Hands one frame to the device's receive path as its peer link would (a
 * peer ring record: the link's 12-byte header, then the frame) into
 * nbufs receive buffers of buf_len bytes, all of which it must use;
 * returns the header the guest got in *h (its hdr_len bytes; the rest
 * zero) and checks the frame behind it arrived whole. */
static unsigned rx_through_ring(struct rig *r, const uint8_t *frame, uint32_t len,
				unsigned nbufs, uint32_t buf_len, struct virtio_net_hdr_v1_hash *h)
{
	struct vq_drv *q = &r->q[vnet_rxq(0)];
	struct peer_ring_prod p = { 0 };
	struct peer_ring_cons c = { 0 };
	static uint8_t got[4096];
	char name[64];
	uint32_t used_len, at = 0;
	unsigned used = 0;
	uint8_t *rec;
	int fd;

	const uint32_t hlen = r->vd->hdr_len;

	snprintf(name, sizeof(name), "/vnet-test-ctrl-hash-%d", (int)getpid());
	shm_unlink(name);	/* left by a failed run */
	memset(h, 0, sizeof(*h));
	assert_int_equal(peer_ring_create(&p, name, 16, PEER_RING_MIN_DATA, &fd), 0);
	assert_int_equal(peer_ring_cons_attach(&c, fd, 16, PEER_RING_MIN_DATA), 0);
	c.check_hdr = true;	/* as every link's receive ring (host/peer/conn.c) */
	r->vd->dp.rx_ring[0] = &c;
	r->vd->dp.link_pairs = 1;
	for (unsigned i = 0; i < nbufs; i++) {
		struct vq_sg sg = { RX_BUF_AT + 2048u * i, buf_len };

		memset(ram_at(r, sg.gpa), 0xee, buf_len);
		assert_int_equal(vq_drv_add(q, &sg, 0, 1, (void *)(uintptr_t)(i + 1)), 0);
	}
	vq_drv_kick_prepare(q);
	rec = peer_ring_reserve(&p, 12 + len);
	assert_non_null(rec);
	memset(rec, 0, 12);
	memcpy(rec + 12, frame, len);
	peer_ring_commit(&p, 12 + len);
	peer_ring_publish(&p);
	dp_peer_event(r->vd);
	/* In order: the header heads the first buffer (5.1.6.4). */
	for (void *tok; (tok = vq_drv_get(q, &used_len)) != NULL;) {
		const uint8_t *b = ram_at(r, RX_BUF_AT + 2048u * ((uintptr_t)tok - 1));

		assert_true(used_len <= buf_len);
		if (used == 0) {
			assert_true(used_len >= hlen);
			memcpy(h, b, hlen);
			b += hlen;
			used_len -= hlen;
		}
		memcpy(got + at, b, used_len);
		at += used_len;
		used++;
	}
	assert_int_equal(at, len);
	assert_memory_equal(got, frame, len);
	r->vd->dp.link_pairs = 0;
	r->vd->dp.rx_ring[0] = NULL;
	peer_ring_cons_detach(&c);
	peer_ring_prod_destroy(&p, true);
	/* Every buffer posted was used: none is left for the next frame. */
	assert_int_equal(used, nbufs);
	return used;
}

/* Every received frame's header carries the hash of the configured types
 * and key and its type: TCP and UDP over IPv4 and IPv6 with every type,
 * the addresses alone with only the IP types, NONE (hash 0) for a type
 * that does not apply and before any configuration; with MRG_RXBUF and a
 * frame over three buffers too, the header in the first (5.1.6.4). */
static void test_rx_hash_report(void **state)
{
	struct virtio_net_hdr_v1_hash h;
	struct rig r;
	uint32_t len;

	(void)state;
	for (int mrg = 0; mrg < 2; mrg++) {
		rig_up(&r, BASE_FEATURES | HASH_FEATURE | (mrg ? MRG_FEATURE : 0));
		len = vec_frame(&r, &hash_vecs[0], NET_PROTO_TCP, 32);
		rx_through_ring(&r, hash_frame_buf, len, 1, 2048, &h);
		assert_int_equal(h.hash_report, VIRTIO_NET_HASH_REPORT_NONE);	/* nothing set */
		assert_int_equal(h.hash_value, 0);
		assert_int_equal(h.hdr.num_buffers, 1);
		assert_int_equal(hash_config(&r, 0x3f, 0, 40, 0), VIRTIO_NET_OK);
		for (size_t i = 0; i < sizeof(hash_vecs) / sizeof(hash_vecs[0]); i++) {
			const struct hash_vec *v = &hash_vecs[i];
			bool v4 = v->ipv == 4;

			len = vec_frame(&r, v, NET_PROTO_TCP, 32);
			rx_through_ring(&r, hash_frame_buf, len, 1, 2048, &h);
			assert_int_equal(h.hash_value, v->l4);
			assert_int_equal(h.hash_report, v4 ? VIRTIO_NET_HASH_REPORT_TCPv4
							   : VIRTIO_NET_HASH_REPORT_TCPv6);
			assert_int_equal(h.padding_reserved, 0);
			len = vec_frame(&r, v, NET_PROTO_UDP, 32);
			rx_through_ring(&r, hash_frame_buf, len, 1, 2048, &h);
			assert_int_equal(h.hash_value, v->l4);
			assert_int_equal(h.hash_report, v4 ? VIRTIO_NET_HASH_REPORT_UDPv4
							   : VIRTIO_NET_HASH_REPORT_UDPv6);
			if (mrg) {
				/* 64-byte buffers: the 20-byte header and a frame
				 * of 122 (IPv4) or 142 bytes over three. */
				len = vec_frame(&r, v, NET_PROTO_UDP, 80);
				rx_through_ring(&r, hash_frame_buf, len, 3, 64, &h);
				assert_int_equal(h.hash_value, v->l4);
				assert_int_equal(h.hash_report, v4 ? VIRTIO_NET_HASH_REPORT_UDPv4
								   : VIRTIO_NET_HASH_REPORT_UDPv6);
				assert_int_equal(h.hdr.num_buffers, 3);
			}
		}
		/* Only the IP types: the addresses. */
		assert_int_equal(hash_config(&r, 0x9, 0, 40, 0), VIRTIO_NET_OK);
		for (size_t i = 0; i < sizeof(hash_vecs) / sizeof(hash_vecs[0]); i++) {
			len = vec_frame(&r, &hash_vecs[i], NET_PROTO_TCP, 32);
			rx_through_ring(&r, hash_frame_buf, len, 1, 2048, &h);
			assert_int_equal(h.hash_value, hash_vecs[i].ip);
			assert_int_equal(h.hash_report, hash_vecs[i].ipv == 4
								? VIRTIO_NET_HASH_REPORT_IPv4
								: VIRTIO_NET_HASH_REPORT_IPv6);
		}
		/* TCPv4 only: an IPv6 frame gets no hash. */
		assert_int_equal(hash_config(&r, 0x2, 0, 40, 0), VIRTIO_NET_OK);
		len = vec_frame(&r, &hash_vecs[1], NET_PROTO_TCP, 32);
		rx_through_ring(&r, hash_frame_buf, len, 1, 2048, &h);
		assert_int_equal(h.hash_report, VIRTIO_NET_HASH_REPORT_NONE);
		assert_int_equal(h.hash_value, 0);
		rig_down(&r);
	}
}

/* Without HASH_REPORT the guest's header is the 12 bytes it was: the
 * frame follows at once (rx_through_ring checks it), with or without
 * MRG_RXBUF. */
static void test_rx_no_hash_report(void **state)
{
	struct virtio_net_hdr_v1_hash h;
	struct rig r;
	uint32_t len;

	(void)state;
	for (int mrg = 0; mrg < 2; mrg++) {
		rig_up(&r, BASE_FEATURES | (mrg ? MRG_FEATURE : 0));
		assert_int_equal(r.vd->hdr_len, 12);
		len = vec_frame(&r, &hash_vecs[0], NET_PROTO_TCP, 32);
		rx_through_ring(&r, hash_frame_buf, len, 1, 2048, &h);
		assert_int_equal(h.hdr.num_buffers, 1);
		rig_down(&r);
	}
}

/* A HASH_REPORT guest transmits with the 20-byte header (5.1.6), in one
 * descriptor or with the header alone in the first: the link's record
 * is the 12-byte header it checked (hash fields dropped, num_buffers 0)
 * and the whole frame. */
static void test_tx_hash_header_to_link(void **state)
{
	struct vq_drv *q;
	struct peer_ring_prod p = { 0 };
	struct peer_ring_cons c = { 0 };
	struct virtio_net_hdr_v1_hash th = { .hash_value = 0xdeadbeef, .hash_report = 9,
					     .padding_reserved = 7 };
	const uint8_t *rec;
	struct rig r;
	char name[64];
	uint32_t len, rlen;
	int fd;

	(void)state;
	rig_up(&r, BASE_FEATURES | HASH_FEATURE);
	q = &r.q[vnet_txq(0)];
	snprintf(name, sizeof(name), "/vnet-test-ctrl-tx-%d", (int)getpid());
	shm_unlink(name);
	assert_int_equal(peer_ring_create(&p, name, 16, PEER_RING_MIN_DATA, &fd), 0);
	assert_int_equal(peer_ring_cons_attach(&c, fd, 16, PEER_RING_MIN_DATA), 0);
	r.vd->dp.tx_ring[0] = &p;
	r.vd->dp.link_pairs = 1;
	len = vec_frame(&r, &hash_vecs[1], NET_PROTO_UDP, 64);
	th.hdr.num_buffers = 5;		/* the device sends 0 on (5.1.6.2) */
	for (unsigned split = 0; split < 2; split++) {
		uint64_t gpa = BUF_AT + 0x1000u;
		struct vq_sg sg[2] = { { gpa, 20 + len }, { 0, 0 } };

		memcpy(ram_at(&r, gpa), &th, sizeof(th));
		memcpy(ram_at(&r, gpa + 20), hash_frame_buf, len);
		if (split) {
			sg[0].len = 20;
			sg[1] = (struct vq_sg){ gpa + 20, len };
		}
		assert_int_equal(vq_drv_add(q, sg, split ? 2 : 1, 0, (void *)1), 0);
		vq_drv_kick_prepare(q);
		dp_kick(r.vd, vnet_txq(0));
		assert_ptr_equal(vq_drv_get(q, NULL), (void *)1);
		peer_ring_publish(&p);	/* no link: the test publishes */
		assert_int_equal(peer_ring_peek(&c, &rec, &rlen), 1);
		assert_int_equal(rlen, 12 + len);
		assert_int_equal(rec[10] | rec[11], 0);		/* num_buffers */
		assert_memory_equal(rec, &th.hdr, 10);
		assert_memory_equal(rec + 12, hash_frame_buf, len);
		peer_ring_consume(&c);
	}
	r.vd->dp.link_pairs = 0;
	r.vd->dp.tx_ring[0] = NULL;
	peer_ring_cons_detach(&c);
	peer_ring_prod_destroy(&p, true);
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coal_set_and_get),
		cmocka_unit_test(test_coal_refusals),
		cmocka_unit_test(test_coal_holds_until_max_packets),
		cmocka_unit_test(test_coal_timer_sends_held_interrupt),
		cmocka_unit_test(test_coal_zero_means_off),
		cmocka_unit_test(test_dirty_log_marks_device_writes),
		cmocka_unit_test(test_mq_layout_and_pairs_set),
		cmocka_unit_test(test_mq_pairs_set_refusals),
		cmocka_unit_test(test_mq_needs_ctrl_vq),
		cmocka_unit_test(test_mq_not_offered_for_one_pair),
		cmocka_unit_test(test_rss_config),
		cmocka_unit_test(test_hash_config),
		cmocka_unit_test(test_rx_hash_report),
		cmocka_unit_test(test_rx_no_hash_report),
		cmocka_unit_test(test_tx_hash_header_to_link),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
