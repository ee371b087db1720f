// SPDX-License-Identifier: MIT
/*
 * The virtio-mmio transport (virtio 1.2, 4.2), version 2 and the legacy
 * version 1 (4.2.4), driven register by register as a driver (or a
 * hostile guest) would: identity, feature windows, the status machine,
 * queues by the v2 address registers and by the v1 QueuePFN, the
 * InterruptStatus/ACK pair with the automasked line, config space, and
 * every access the window refuses.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/virtio.h"
#include "host/evloop.h"
#include "host/transport/mmio.h"
#include "host/dev/vdev.h"
#include "tests/unit/support/fake_vdev.h"

#define RAM_GPA	 0x100000u
#define RAM_SIZE 0x40000u	/* 256 KiB */
#define RING(q)	 (RAM_GPA + 0x4000u * (q))	/* 16 KiB apart */

struct fixture {
	struct evloop *ev;
	struct fake_vdev fake;
	struct vdev *vd;		/* fake.vd */
	struct transport *t;
	int line;		/* the irq eventfd */
};

static int setup(void **state, bool legacy)
{
	struct fixture *f = calloc(1, sizeof(*f));
	uint64_t feats = VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_NET_F_STATUS) |
			 VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX);

	f->ev = evloop_new();
	if (!legacy)
		feats |= VIRTIO_BIT(VIRTIO_F_VERSION_1);
	fake_vdev_init(&f->fake, f->ev, legacy, feats, RAM_GPA, RAM_SIZE);
	f->vd = f->fake.vd;
	f->vd->cfg.status = 1;	/* link up */
	assert_int_equal(mmio_create(&f->t, f->vd), 0);
	f->vd->irq = f->t->irq;
	f->line = eventfd(0, EFD_NONBLOCK);
	assert_true(f->line >= 0);
	f->t->irqs.fd[MMIO_IRQ_LINE][0] = f->line;
	*state = f;
	return 0;
}

static int setup_v2(void **state) { return setup(state, false); }
static int setup_v1(void **state) { return setup(state, true); }

static int teardown(void **state)
{
	struct fixture *f = *state;

	fake_transport_free(f->t);
	fake_vdev_fini(&f->fake);
	evloop_free(f->ev);
	free(f);
	return 0;
}

static uint32_t rd(struct fixture *f, uint64_t off, uint32_t len)
{
	uint32_t v = 0;

	assert_int_equal(f->t->ops->region_read(f->t, 0, off, &v, len), 0);
	return v;
}

static uint32_t rd32(struct fixture *f, uint64_t off)
{
	return rd(f, off, 4);
}

static void wr32(struct fixture *f, uint64_t off, uint32_t v)
{
	assert_int_equal(f->t->ops->region_write(f->t, 0, off, &v, 4), 0);
}

static uint64_t fired(struct fixture *f)
{
	uint64_t n = 0;

	if (read(f->line, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* What the server does for SET_IRQS UNMASK (DATA_NONE, index 0). */
static void unmask(struct fixture *f)
{
	f->t->irqs.masked[MMIO_IRQ_LINE][0] = false;
	f->t->ops->irqs_changed(f->t, MMIO_IRQ_LINE);
}

/* Device state a refused access must not change. */
struct snap {
	uint8_t status;
	uint64_t driver_features;
	struct {
		uint16_t size;
		bool enabled;
		struct vq_addrs addrs;
		uint64_t kicks;
	} q[ONE_PAIR_QUEUES];
	uint32_t int_status;
	uint32_t queue_num;
};

static void take(struct fixture *f, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	s->status = f->vd->status;
	s->driver_features = f->vd->driver_features;
	for (unsigned i = 0; i < ONE_PAIR_QUEUES; i++) {
		s->q[i].size = f->vd->q[i].size;
		s->q[i].enabled = f->vd->q[i].enabled;
		s->q[i].addrs = f->vd->q[i].addrs;
		s->q[i].kicks = f->vd->q[i].stats.kicks;
	}
	s->int_status = rd32(f, MMIO_INTERRUPT_STATUS);
	s->queue_num = rd32(f, MMIO_QUEUE_NUM);	/* of the selected queue */
}

/* ---- both versions --------------------------------------------------- */

static void test_identity(void **state)
{
	struct fixture *f = *state;
	unsigned version = f->vd->legacy ? 1 : 2;

	assert_int_equal(rd32(f, MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd32(f, MMIO_VERSION), version);
	assert_int_equal(rd32(f, MMIO_DEVICE_ID), VIRTIO_ID_NET);
	assert_int_equal(rd32(f, MMIO_VENDOR), MMIO_VENDOR_ID);
	assert_memory_equal(&(uint32_t){ MMIO_VENDOR_ID }, "vnet", 4);
	assert_string_equal(f->t->ops->name, version == 1 ? "mmio-v1" : "mmio-v2");
	/* Identity is read-only. */
	wr32(f, MMIO_MAGIC_VALUE, 0);
	wr32(f, MMIO_VERSION, 7);
	assert_int_equal(rd32(f, MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd32(f, MMIO_VERSION), version);
}

/* Our platform-device extension of vfio-user (mmio.h). */
static void test_device_region_irq_info(void **state)
{
	struct fixture *f = *state;
	uint64_t size;
	uint32_t flags, count;

	assert_int_equal(f->t->ops->device_flags, TRANSPORT_DEV_PLATFORM | TRANSPORT_DEV_RESET);
	assert_int_equal(f->t->ops->device_flags, 0x5);
	assert_int_equal(f->t->ops->num_regions, 1);
	assert_int_equal(f->t->ops->num_irqs, 1);
	assert_int_equal(f->t->ops->region_info(f->t, 0, &size, &flags), 0);
	assert_int_equal(size, 0x200);
	assert_int_equal(flags, TRANSPORT_REGION_READ | TRANSPORT_REGION_WRITE);
	assert_int_equal(f->t->ops->region_info(f->t, 1, &size, &flags), -EINVAL);
	assert_int_equal(f->t->ops->irq_info(f->t, 0, &count, &flags), 0);
	assert_int_equal(count, 1);
	assert_int_equal(flags, TRANSPORT_IRQ_EVENTFD | TRANSPORT_IRQ_MASKABLE |
					TRANSPORT_IRQ_AUTOMASKED);
	assert_int_equal(f->t->ops->irq_info(f->t, 1, &count, &flags), -EINVAL);
}

/* One QueueNotify register: each doorbell matches its queue index. */
static void test_notify_areas(void **state)
{
	struct fixture *f = *state;
	struct transport_notify_area a[8];

	assert_int_equal(f->t->ops->notify_areas(f->t, 0, a, 8), ONE_PAIR_QUEUES);
	for (unsigned q = 0; q < ONE_PAIR_QUEUES; q++) {
		assert_int_equal(a[q].region, 0);
		assert_int_equal(a[q].offset, 0x50);
		assert_int_equal(a[q].size, 4);
		assert_true(a[q].has_datamatch);
		assert_int_equal(a[q].datamatch, q);
		assert_int_equal(a[q].fd, f->vd->q[q].kick_fd);
	}
	assert_int_equal(f->t->ops->notify_areas(f->t, 0, a, 2), 2);
	assert_int_equal(f->t->ops->notify_areas(f->t, 1, a, 8), 0);
}

static void test_notify(void **state)
{
	struct fixture *f = *state;

	wr32(f, MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(f->vd->q[1].stats.kicks, 1);
	wr32(f, MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(f->vd->q[0].stats.kicks, 1);
	assert_int_equal(rd32(f, MMIO_QUEUE_NOTIFY), 0);	/* write-only */
}

/* 4.2.2.1: InterruptStatus bits stay until acknowledged; the line is a
 * level, delivered as an automasked eventfd. */
static void test_interrupt_status_ack_automask(void **state)
{
	struct fixture *f = *state;
	bool *masked = &f->t->irqs.masked[MMIO_IRQ_LINE][0];

	assert_true(f->t->irq.raise(f->t->irq.ctx, 0));
	assert_int_equal(fired(f), 1);
	assert_true(*masked);
	assert_int_equal(rd32(f, MMIO_INTERRUPT_STATUS), MMIO_INT_VRING);
	/* Masked: the status gathers, the eventfd stays quiet. */
	assert_false(f->t->irq.raise(f->t->irq.ctx, VDEV_CONFIG_IRQ));
	assert_int_equal(fired(f), 0);
	assert_int_equal(rd32(f, MMIO_INTERRUPT_STATUS), MMIO_INT_VRING | MMIO_INT_CONFIG);
	/* Reading does not clear (unlike PCI's ISR); ACK does, bit by bit. */
	wr32(f, MMIO_INTERRUPT_ACK, MMIO_INT_VRING);
	assert_int_equal(rd32(f, MMIO_INTERRUPT_STATUS), MMIO_INT_CONFIG);
	/* Unmask with a bit still set: fires again, masks again. */
	unmask(f);
	assert_int_equal(fired(f), 1);
	assert_true(*masked);
	wr32(f, MMIO_INTERRUPT_ACK, MMIO_INT_CONFIG);
	assert_int_equal(rd32(f, MMIO_INTERRUPT_STATUS), 0);
	unmask(f);
	assert_int_equal(fired(f), 0);
	assert_false(*masked);
	/* InterruptStatus is read-only; ACK of nothing is harmless. */
	wr32(f, MMIO_INTERRUPT_STATUS, 3);
	wr32(f, MMIO_INTERRUPT_ACK, 0xffffffff);
	assert_int_equal(rd32(f, MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(rd32(f, MMIO_INTERRUPT_ACK), 0);	/* write-only */
}

/* No eventfd bound: the status is kept and delivered on binding. */
static void test_line_bound_late(void **state)
{
	struct fixture *f = *state;

	close(f->line);
	f->t->irqs.fd[MMIO_IRQ_LINE][0] = -1;
	assert_false(f->t->irq.raise(f->t->irq.ctx, 1));
	assert_int_equal(rd32(f, MMIO_INTERRUPT_STATUS), MMIO_INT_VRING);
	f->line = eventfd(0, EFD_NONBLOCK);
	f->t->irqs.fd[MMIO_IRQ_LINE][0] = f->line;
	f->t->ops->irqs_changed(f->t, MMIO_IRQ_LINE);
	assert_int_equal(fired(f), 1);
}

static void test_config_space(void **state)
{
	struct fixture *f = *state;

	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(rd(f, MMIO_CONFIG_OFF + i, 1), f->vd->cfg.mac[i]);
	assert_int_equal(rd(f, MMIO_CONFIG_OFF + 6, 2), 1);		/* status: up */
	assert_int_equal(rd(f, MMIO_CONFIG_OFF + 10, 2), 1500);	/* mtu */
	assert_int_equal(rd(f, MMIO_CONFIG_OFF, 4), 0x01005452);
	/* SPEED_DUPLEX's fields, unknown unless the vdev was given them. */
	assert_int_equal(rd(f, MMIO_CONFIG_OFF + 12, 4), 0xffffffff);
	assert_int_equal(rd(f, MMIO_CONFIG_OFF + 16, 1), 0xff);
	/* RSS's fields (5.1.4): what the device takes. */
	assert_int_equal(rd(f, MMIO_CONFIG_OFF + 17, 1), RSS_KEY_MAX);
	assert_int_equal(rd(f, MMIO_CONFIG_OFF + 18, 2), RSS_TABLE_MAX);
	assert_int_equal(rd(f, MMIO_CONFIG_OFF + 20, 4), RSS_HASH_TYPES_SUPPORTED);
	/* Past the net config: zeros up to the end of the window. */
	assert_int_equal(rd(f, MMIO_CONFIG_OFF + 24, 4), 0);
	assert_int_equal(rd(f, MMIO_REGION_SIZE - 4, 4), 0);
	/* 5.1.4.2: the driver must not write it; ignored. */
	assert_int_equal(f->t->ops->region_write(f->t, 0, MMIO_CONFIG_OFF, &(uint8_t){ 0xff }, 1), 0);
	assert_int_equal(rd(f, MMIO_CONFIG_OFF, 1), 0x52);
}

static void test_reset_op(void **state)
{
	struct fixture *f = *state;

	f->t->irq.raise(f->t->irq.ctx, 0);
	wr32(f, MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr32(f, MMIO_QUEUE_SEL, 1);
	f->t->ops->reset(f->t);
	assert_int_equal(rd32(f, MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(rd32(f, MMIO_STATUS), 0);
	assert_int_equal(f->vd->status, 0);
}

/* 4.2.2.2: 32-bit aligned accesses only to the control registers, natural
 * widths in config space, nothing outside the window. */
static void test_bad_accesses_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[16];
	struct snap a, b;
	static const struct { uint32_t region; uint64_t off; uint32_t len; } bad[] = {
		{ 0, MMIO_STATUS, 2 }, { 0, MMIO_STATUS, 1 }, { 0, MMIO_STATUS, 8 },
		{ 0, MMIO_STATUS + 1, 1 }, { 0, MMIO_STATUS + 2, 2 }, { 0, MMIO_STATUS + 1, 4 },
		{ 0, MMIO_QUEUE_NOTIFY, 2 }, { 0, MMIO_QUEUE_NOTIFY, 1 },
		{ 0, MMIO_QUEUE_SEL, 2 }, { 0, MMIO_INTERRUPT_ACK, 2 }, { 0, MMIO_MAGIC_VALUE, 1 },
		{ 0, MMIO_MAGIC_VALUE + 2, 4 }, { 0, MMIO_QUEUE_DESC_LOW, 8 },
		{ 0, MMIO_CONFIG_GENERATION, 8 },	/* straddles into config */
		{ 0, MMIO_CONFIG_GENERATION + 2, 4 },
		/* holes in the register table */
		{ 0, 0x018, 4 }, { 0, 0x02c, 4 }, { 0, 0x048, 4 }, { 0, 0x054, 4 },
		{ 0, 0x068, 4 }, { 0, 0x074, 4 }, { 0, 0x0c4, 4 }, { 0, 0x0f8, 4 },
		/* config: 1, 2 or 4 bytes, naturally aligned */
		{ 0, MMIO_CONFIG_OFF + 1, 2 }, { 0, MMIO_CONFIG_OFF + 2, 4 },
		{ 0, MMIO_CONFIG_OFF, 8 }, { 0, MMIO_CONFIG_OFF, 3 }, { 0, MMIO_CONFIG_OFF, 16 },
		/* outside the window or the device */
		{ 0, MMIO_REGION_SIZE, 1 }, { 0, MMIO_REGION_SIZE - 2, 4 }, { 0, 0x1000, 4 },
		{ 0, UINT64_MAX, 4 }, { 0, UINT64_MAX - 1, 4 }, { 0, 0, 0 },
		{ 1, 0, 4 }, { 7, 0, 4 }, { 42, MMIO_STATUS, 4 },
	};

	wr32(f, MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr32(f, MMIO_QUEUE_SEL, 1);
	f->t->irq.raise(f->t->irq.ctx, 0);
	take(f, &a);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* 0 would reset; 0xff.. would select, kick, ack... */
		for (int fill = 0; fill <= 0xff; fill += 0xff) {
			memset(buf, fill, sizeof(buf));
			assert_int_equal(f->t->ops->region_write(f->t, bad[i].region, bad[i].off,
								 buf, bad[i].len), -EINVAL);
			assert_int_equal(f->t->ops->region_read(f->t, bad[i].region, bad[i].off,
								buf, bad[i].len), -EINVAL);
		}
	}
	/* A notify of a queue that does not exist. */
	assert_int_equal(f->t->ops->region_write(f->t, 0, MMIO_QUEUE_NOTIFY,
						 &(uint32_t){ ONE_PAIR_QUEUES }, 4), -EINVAL);
	assert_int_equal(f->t->ops->region_write(f->t, 0, MMIO_QUEUE_NOTIFY,
						 &(uint32_t){ 0x10000 }, 4), -EINVAL);
	take(f, &b);
	assert_memory_equal(&a, &b, sizeof(a));
}

/* A Status with bits above the byte is not a reset. */
static void test_status_high_bits_ignored(void **state)
{
	struct fixture *f = *state;

	wr32(f, MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr32(f, MMIO_STATUS, 0x100);
	assert_int_equal(rd32(f, MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE);
}

/* ---- version 2 --------------------------------------------------------- */

static void test_v2_feature_windows(void **state)
{
	struct fixture *f = *state;

	wr32(f, MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(rd32(f, MMIO_DEVICE_FEATURES), (uint32_t)f->vd->device_features);
	wr32(f, MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(rd32(f, MMIO_DEVICE_FEATURES), 1);	/* VERSION_1 */
	wr32(f, MMIO_DEVICE_FEATURES_SEL, 7);
	assert_int_equal(rd32(f, MMIO_DEVICE_FEATURES), 0);
	assert_int_equal(rd32(f, MMIO_DEVICE_FEATURES_SEL), 0);	/* write-only */
	wr32(f, MMIO_DRIVER_FEATURES_SEL, 1);
	wr32(f, MMIO_DRIVER_FEATURES, 1);
	wr32(f, MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(f, MMIO_DRIVER_FEATURES, VIRTIO_BIT(VIRTIO_NET_F_MAC));
	assert_int_equal(f->vd->driver_features,
			 VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC));
	assert_int_equal(rd32(f, MMIO_DRIVER_FEATURES), 0);	/* write-only */
}

static void negotiate(struct fixture *f, uint64_t feats)
{
	wr32(f, MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr32(f, MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr32(f, MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(f, MMIO_DRIVER_FEATURES, (uint32_t)feats);
	wr32(f, MMIO_DRIVER_FEATURES_SEL, 1);
	wr32(f, MMIO_DRIVER_FEATURES, (uint32_t)(feats >> 32));
	wr32(f, MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				     VIRTIO_STATUS_FEATURES_OK);
}

/* 4.2.3.2: select, check not ready, read max, size, addresses, ready. */
static void v2_setup_queue(struct fixture *f, unsigned q, uint32_t num)
{
	uint64_t base = RING(q);

	wr32(f, MMIO_QUEUE_SEL, q);
	assert_int_equal(rd32(f, MMIO_QUEUE_READY), 0);
	assert_int_equal(rd32(f, MMIO_QUEUE_NUM_MAX), VDEV_QUEUE_MAX);
	wr32(f, MMIO_QUEUE_NUM, num);
	wr32(f, MMIO_QUEUE_DESC_LOW, (uint32_t)base);
	wr32(f, MMIO_QUEUE_DESC_HIGH, (uint32_t)(base >> 32));
	wr32(f, MMIO_QUEUE_DRIVER_LOW, (uint32_t)(base + 0x1000));
	wr32(f, MMIO_QUEUE_DRIVER_HIGH, 0);
	wr32(f, MMIO_QUEUE_DEVICE_LOW, (uint32_t)(base + 0x2000));
	wr32(f, MMIO_QUEUE_DEVICE_HIGH, 0);
	wr32(f, MMIO_QUEUE_READY, 1);
}

static void test_v2_status_machine(void **state)
{
	struct fixture *f = *state;

	/* 3.1.1: FEATURES_OK refused without VERSION_1. */
	negotiate(f, VIRTIO_BIT(VIRTIO_NET_F_MAC));
	assert_false(rd32(f, MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	wr32(f, MMIO_STATUS, 0);
	assert_int_equal(rd32(f, MMIO_STATUS), 0);
	/* DRIVER_OK without FEATURES_OK: the device needs a reset. */
	wr32(f, MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	for (unsigned q = 0; q < ONE_PAIR_QUEUES; q++)
		v2_setup_queue(f, q, 256);
	wr32(f, MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				     VIRTIO_STATUS_DRIVER_OK);
	assert_true(rd32(f, MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	/* Reset (4.2.2.1): status, InterruptStatus and QueueReady cleared. */
	wr32(f, MMIO_STATUS, 0);
	assert_int_equal(rd32(f, MMIO_STATUS), 0);
	assert_int_equal(rd32(f, MMIO_INTERRUPT_STATUS), 0);
	for (unsigned q = 0; q < ONE_PAIR_QUEUES; q++) {
		wr32(f, MMIO_QUEUE_SEL, q);
		assert_int_equal(rd32(f, MMIO_QUEUE_READY), 0);
	}
	/* The full sequence. */
	negotiate(f, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC));
	assert_true(rd32(f, MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < ONE_PAIR_QUEUES; q++)
		v2_setup_queue(f, q, 256);
	wr32(f, MMIO_STATUS, 0x0f);
	assert_int_equal(rd32(f, MMIO_STATUS), 0x0f);
	assert_true(vdev_running(f->vd));
}

static void test_v2_queue_registers(void **state)
{
	struct fixture *f = *state;
	uint32_t gen = rd32(f, MMIO_CONFIG_GENERATION);

	assert_int_equal(gen, f->vd->config_generation);
	negotiate(f, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	v2_setup_queue(f, 1, 128);
	assert_true(f->vd->q[1].enabled);
	assert_int_equal(f->vd->q[1].size, 128);
	assert_int_equal(rd32(f, MMIO_QUEUE_NUM), 128);
	assert_int_equal(f->vd->q[1].addrs.desc, RING(1));
	assert_int_equal(f->vd->q[1].addrs.driver, RING(1) + 0x1000);
	assert_int_equal(f->vd->q[1].addrs.device, RING(1) + 0x2000);
	assert_int_equal(rd32(f, MMIO_QUEUE_READY), 1);
	assert_int_equal(rd32(f, MMIO_QUEUE_DESC_LOW), 0);	/* write-only */
	/* 4.2.2.2: nothing changes under a ready queue. */
	wr32(f, MMIO_QUEUE_DESC_LOW, 0x5000);
	wr32(f, MMIO_QUEUE_NUM, 64);
	assert_int_equal(f->vd->q[1].addrs.desc, RING(1));
	assert_int_equal(f->vd->q[1].size, 128);
	/* QueueReady 0 cannot stop one queue (no per-queue stop): stays. */
	wr32(f, MMIO_QUEUE_READY, 0);
	assert_int_equal(rd32(f, MMIO_QUEUE_READY), 1);
	/* The high half of an address. */
	wr32(f, MMIO_QUEUE_SEL, 0);
	wr32(f, MMIO_QUEUE_DEVICE_HIGH, 0x2);
	wr32(f, MMIO_QUEUE_DEVICE_LOW, 0x3000);
	assert_int_equal(f->vd->q[0].addrs.device, 0x200003000ull);
	/* No shared memory regions: length and base -1 (4.2.2). */
	wr32(f, MMIO_SHM_SEL, 0);
	assert_int_equal(rd32(f, MMIO_SHM_LEN_LOW), 0xffffffff);
	assert_int_equal(rd32(f, MMIO_SHM_LEN_HIGH), 0xffffffff);
	assert_int_equal(rd32(f, MMIO_SHM_BASE_LOW), 0xffffffff);
	assert_int_equal(rd32(f, MMIO_SHM_BASE_HIGH), 0xffffffff);
	assert_int_equal(rd32(f, MMIO_QUEUE_RESET), 0);
}

static void test_v2_bad_queue_num_needs_reset(void **state)
{
	struct fixture *f = *state;

	negotiate(f, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	v2_setup_queue(f, 0, 100);		/* not a power of two */
	assert_false(f->vd->q[0].enabled);
	assert_true(f->vd->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	wr32(f, MMIO_STATUS, 0);
	v2_setup_queue(f, 0, VDEV_QUEUE_MAX * 2);	/* above QueueNumMax */
	assert_false(f->vd->q[0].enabled);
	wr32(f, MMIO_STATUS, 0);
	v2_setup_queue(f, 0, 0x10080);		/* does not fit 16 bits */
	assert_false(f->vd->q[0].enabled);
	assert_true(f->vd->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

static void test_v2_absent_queue(void **state)
{
	struct fixture *f = *state;

	wr32(f, MMIO_QUEUE_SEL, ONE_PAIR_QUEUES);
	assert_int_equal(rd32(f, MMIO_QUEUE_NUM_MAX), 0);
	wr32(f, MMIO_QUEUE_NUM, 8);
	wr32(f, MMIO_QUEUE_DESC_LOW, RING(0));
	wr32(f, MMIO_QUEUE_READY, 1);
	assert_int_equal(rd32(f, MMIO_QUEUE_READY), 0);
	assert_int_equal(rd32(f, MMIO_QUEUE_NUM), 0);
	for (unsigned q = 0; q < ONE_PAIR_QUEUES; q++) {
		assert_false(f->vd->q[q].enabled);
		assert_int_equal(f->vd->q[q].addrs.desc, 0);
	}
}

/* `queues 4`: nine queues behind QueueSel, the tenth absent, and a
 * notification of queue 8 reaching the model (4.2.2, 5.1.2). */
static void test_v2_multiqueue_layout(void **state)
{
	struct transport_notify_area a[VDEV_MAX_QUEUES + 1];
	struct fixture mq = { 0 };

	(void)state;
	mq.ev = evloop_new();
	fake_vdev_init_pairs(&mq.fake, mq.ev, false, VIRTIO_BIT(VIRTIO_F_VERSION_1), 0, 0, 4);
	mq.vd = mq.fake.vd;
	assert_int_equal(mmio_create(&mq.t, mq.vd), 0);
	wr32(&mq, MMIO_QUEUE_SEL, 8);
	assert_int_equal(rd32(&mq, MMIO_QUEUE_NUM_MAX), VDEV_QUEUE_MAX);
	wr32(&mq, MMIO_QUEUE_SEL, 9);
	assert_int_equal(rd32(&mq, MMIO_QUEUE_NUM_MAX), 0);
	assert_int_equal(mq.t->ops->notify_areas(mq.t, 0, a, VDEV_MAX_QUEUES + 1), 9);
	assert_int_equal(a[8].datamatch, 8);
	wr32(&mq, MMIO_QUEUE_NOTIFY, 8);
	assert_int_equal(mq.vd->q[8].stats.kicks, 1);
	assert_int_equal(mq.t->ops->region_write(mq.t, 0, MMIO_QUEUE_NOTIFY, &(uint32_t){ 9 }, 4),
			 -EINVAL);
	fake_transport_free(mq.t);
	fake_vdev_fini(&mq.fake);
	evloop_free(mq.ev);
}

/* Version 1 registers mean nothing in version 2. */
static void test_v2_ignores_v1_registers(void **state)
{
	struct fixture *f = *state;

	wr32(f, MMIO_GUEST_PAGE_SIZE, 4096);
	wr32(f, MMIO_QUEUE_SEL, 0);
	wr32(f, MMIO_QUEUE_ALIGN, 4096);
	wr32(f, MMIO_QUEUE_PFN, RAM_GPA >> 12);
	assert_false(f->vd->q[0].enabled);
	assert_int_equal(rd32(f, MMIO_QUEUE_PFN), 0);
	assert_int_equal(f->vd->q[0].addrs.desc, 0);
}

/* ---- version 1 (4.2.4) ------------------------------------------------- */

static void test_v1_feature_window(void **state)
{
	struct fixture *f = *state;

	wr32(f, MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(rd32(f, MMIO_DEVICE_FEATURES), (uint32_t)f->vd->device_features);
	wr32(f, MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(rd32(f, MMIO_DEVICE_FEATURES), 0);	/* no VERSION_1 */
	wr32(f, MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(f, MMIO_DRIVER_FEATURES, VIRTIO_BIT(VIRTIO_NET_F_MAC));
	assert_int_equal(f->vd->driver_features, VIRTIO_BIT(VIRTIO_NET_F_MAC));
}

/* 4.2.4: QueuePFN * GuestPageSize is the ring; the used ring aligned to
 * QueueAlign after the available ring incl. used_event (2.7.2). */
static void test_v1_queue_pfn_layout(void **state)
{
	struct fixture *f = *state;
	uint64_t desc = RAM_GPA;

	wr32(f, MMIO_GUEST_PAGE_SIZE, 4096);
	wr32(f, MMIO_QUEUE_SEL, 0);
	assert_int_equal(rd32(f, MMIO_QUEUE_PFN), 0);		/* not in use */
	assert_int_equal(rd32(f, MMIO_QUEUE_NUM_MAX), VDEV_QUEUE_MAX);
	wr32(f, MMIO_QUEUE_NUM, 128);
	wr32(f, MMIO_QUEUE_ALIGN, 4096);
	wr32(f, MMIO_QUEUE_PFN, RAM_GPA >> 12);
	assert_true(f->vd->q[0].enabled);
	assert_int_equal(f->vd->q[0].addrs.desc, desc);
	assert_int_equal(f->vd->q[0].addrs.driver, desc + 16 * 128);
	/* avail ends at desc + 2048 + 6 + 256: the used ring at +4096 */
	assert_int_equal(f->vd->q[0].addrs.device, desc + 4096);
	assert_int_equal(rd32(f, MMIO_QUEUE_PFN), RAM_GPA >> 12);
	/* No QueueReady in version 1. */
	assert_int_equal(rd32(f, MMIO_QUEUE_READY), 0);

	/* 64 KiB pages and a 256-byte alignment on queue 1. */
	wr32(f, MMIO_GUEST_PAGE_SIZE, 0x10000);
	wr32(f, MMIO_QUEUE_SEL, 1);
	wr32(f, MMIO_QUEUE_NUM, 256);
	wr32(f, MMIO_QUEUE_ALIGN, 256);
	wr32(f, MMIO_QUEUE_PFN, (RAM_GPA + 0x10000) >> 16);
	desc = RAM_GPA + 0x10000;
	assert_true(f->vd->q[1].enabled);
	assert_int_equal(f->vd->q[1].addrs.desc, desc);
	assert_int_equal(f->vd->q[1].addrs.driver, desc + 4096);
	assert_int_equal(f->vd->q[1].addrs.device, desc + 4096 + 0x300);	/* 518 -> 768 */
	assert_int_equal(rd32(f, MMIO_QUEUE_PFN), (RAM_GPA + 0x10000) >> 16);
	/* A live queue ignores a new PFN, and PFN 0 (no per-queue stop). */
	wr32(f, MMIO_QUEUE_PFN, (RAM_GPA + 0x20000) >> 16);
	assert_int_equal(f->vd->q[1].addrs.desc, desc);
	wr32(f, MMIO_QUEUE_PFN, 0);
	assert_true(f->vd->q[1].enabled);
}

static void test_v1_bad_layout_needs_reset(void **state)
{
	struct fixture *f = *state;

	wr32(f, MMIO_GUEST_PAGE_SIZE, 4096);
	wr32(f, MMIO_QUEUE_SEL, 0);
	wr32(f, MMIO_QUEUE_NUM, 128);
	wr32(f, MMIO_QUEUE_ALIGN, 3000);		/* not a power of two */
	wr32(f, MMIO_QUEUE_PFN, RAM_GPA >> 12);
	assert_false(f->vd->q[0].enabled);
	assert_true(f->vd->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	wr32(f, MMIO_STATUS, 0);
	wr32(f, MMIO_GUEST_PAGE_SIZE, 0);		/* page size 0 */
	wr32(f, MMIO_QUEUE_NUM, 128);
	wr32(f, MMIO_QUEUE_PFN, RAM_GPA >> 12);
	assert_false(f->vd->q[0].enabled);
	assert_true(f->vd->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	wr32(f, MMIO_STATUS, 0);
	wr32(f, MMIO_GUEST_PAGE_SIZE, 0x80000000u);	/* past any RAM */
	wr32(f, MMIO_QUEUE_PFN, 0xffffffff);
	assert_false(f->vd->q[0].enabled);
	assert_true(f->vd->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

/* 3.1.2: no FEATURES_OK for a legacy driver; DRIVER_OK alone is fine. */
static void test_v1_status_machine(void **state)
{
	struct fixture *f = *state;

	wr32(f, MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr32(f, MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr32(f, MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(f, MMIO_DRIVER_FEATURES, VIRTIO_BIT(VIRTIO_NET_F_MAC));
	wr32(f, MMIO_GUEST_PAGE_SIZE, 4096);
	for (unsigned q = 0; q < ONE_PAIR_QUEUES; q++) {
		wr32(f, MMIO_QUEUE_SEL, q);
		wr32(f, MMIO_QUEUE_NUM, 256);
		wr32(f, MMIO_QUEUE_ALIGN, 4096);
		wr32(f, MMIO_QUEUE_PFN, (uint32_t)(RING(q) >> 12));
		assert_true(f->vd->q[q].enabled);
	}
	wr32(f, MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				     VIRTIO_STATUS_DRIVER_OK);
	assert_true(rd32(f, MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK);
	assert_false(rd32(f, MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_true(vdev_running(f->vd));
	/* No ConfigGeneration in version 1. */
	assert_int_equal(rd32(f, MMIO_CONFIG_GENERATION), 0);
	/* Reset stops every queue; GuestPageSize survives it (written once,
	 * at probe). */
	wr32(f, MMIO_STATUS, 0);
	for (unsigned q = 0; q < ONE_PAIR_QUEUES; q++) {
		wr32(f, MMIO_QUEUE_SEL, q);
		assert_int_equal(rd32(f, MMIO_QUEUE_PFN), 0);
	}
	wr32(f, MMIO_QUEUE_SEL, 0);
	wr32(f, MMIO_QUEUE_NUM, 256);
	wr32(f, MMIO_QUEUE_PFN, (uint32_t)(RING(0) >> 12));
	assert_int_equal(f->vd->q[0].addrs.desc, RING(0));
}

/* Version 2 registers mean nothing in version 1. */
static void test_v1_ignores_v2_registers(void **state)
{
	struct fixture *f = *state;

	wr32(f, MMIO_QUEUE_SEL, 0);
	wr32(f, MMIO_QUEUE_NUM, 256);
	wr32(f, MMIO_QUEUE_DESC_LOW, RING(0));
	wr32(f, MMIO_QUEUE_READY, 1);
	assert_false(f->vd->q[0].enabled);
	assert_int_equal(f->vd->q[0].addrs.desc, 0);
	assert_int_equal(rd32(f, MMIO_SHM_LEN_LOW), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define V2(fn) cmocka_unit_test_setup_teardown(fn, setup_v2, teardown)
#define V1(fn) cmocka_unit_test_setup_teardown(fn, setup_v1, teardown)
		V2(test_identity),
		V1(test_identity),
		V2(test_device_region_irq_info),
		V1(test_device_region_irq_info),
		V2(test_notify_areas),
		V2(test_notify),
		V1(test_notify),
		V2(test_interrupt_status_ack_automask),
		V1(test_interrupt_status_ack_automask),
		V2(test_line_bound_late),
		V2(test_config_space),
		V1(test_config_space),
		V2(test_reset_op),
		V2(test_bad_accesses_refused),
		V1(test_bad_accesses_refused),
		V2(test_status_high_bits_ignored),
		V2(test_v2_feature_windows),
		V2(test_v2_status_machine),
		V2(test_v2_queue_registers),
		V2(test_v2_bad_queue_num_needs_reset),
		V2(test_v2_absent_queue),
		cmocka_unit_test(test_v2_multiqueue_layout),
		V2(test_v2_ignores_v1_registers),
		V1(test_v1_feature_window),
		V1(test_v1_queue_pfn_layout),
		V1(test_v1_bad_layout_needs_reset),
		V1(test_v1_status_machine),
		V1(test_v1_ignores_v2_registers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
