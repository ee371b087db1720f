// SPDX-License-Identifier: MIT
/*
 * The legacy virtio-pci transport (virtio 1.2, 4.1.4.10), driven register
 * by register as a legacy driver (or a hostile guest) would: identity,
 * the 32-bit feature windows, queues by page frame number, the legacy
 * status machine, ISR + automasked INTx, MSI-X moving the device config.
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
#include "host/transport/pci_legacy.h"
#include "host/dev/vdev.h"
#include "tests/unit/support/fake_vdev.h"

#define CFG  7
#define BAR0 0
#define BAR1 1
#define RAM_GPA	 0x100000u
#define RAM_SIZE 0x40000u	/* 256 KiB: room for every queue's ring */
#define PFN(q)	 ((RAM_GPA >> 12) + 4u * (q))	/* 16 KiB apart */

struct fixture {
	struct evloop *ev;
	struct fake_vdev fake;
	struct vdev *vd;		/* fake.vd */
	struct transport *t;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->ev = evloop_new();
	/* What vdev_new leaves for a legacy vdev: 32 bits, no VERSION_1. */
	fake_vdev_init(&f->fake, f->ev, true,
		       VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_NET_F_STATUS) |
			       VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) |
			       VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC),
		       RAM_GPA, RAM_SIZE);
	f->vd = f->fake.vd;
	assert_int_equal(pci_legacy_create(&f->t, f->vd), 0);
	f->vd->irq = f->t->irq;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fake_transport_free(f->t);
	fake_vdev_fini(&f->fake);
	evloop_free(f->ev);
	free(f);
	return 0;
}

static uint32_t rd(struct fixture *f, uint32_t region, uint64_t off, uint32_t len)
{
	uint32_t v = 0;

	assert_int_equal(f->t->ops->region_read(f->t, region, off, &v, len), 0);
	return v;
}

static void wr(struct fixture *f, uint32_t region, uint64_t off, uint32_t v, uint32_t len)
{
	assert_int_equal(f->t->ops->region_write(f->t, region, off, &v, len), 0);
}

static int bind_irq(struct fixture *f, uint32_t index, uint32_t vec)
{
	int efd = eventfd(0, EFD_NONBLOCK);

	assert_true(efd >= 0);
	f->t->irqs.fd[index][vec] = efd;
	return efd;
}

/* How many interrupts the eventfd carried since the last look. */
static uint64_t fired(int efd)
{
	uint64_t n = 0;

	if (read(efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
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
	uint32_t queue_sel;
	uint8_t cfg[PCI_CFG_SPACE_SIZE];
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
	s->queue_sel = rd(f, BAR0, PCI_LEGACY_QUEUE_SEL, 2);
	for (unsigned i = 0; i < PCI_CFG_SPACE_SIZE; i += 4)
		*(uint32_t *)&s->cfg[i] = rd(f, CFG, i, 4);
}

static void setup_queue(struct fixture *f, unsigned q)
{
	wr(f, BAR0, PCI_LEGACY_QUEUE_SEL, q, 2);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_QUEUE_PFN, 4), 0);	/* not in use */
	wr(f, BAR0, PCI_LEGACY_QUEUE_PFN, PFN(q), 4);
	assert_true(f->vd->q[q].enabled);
}

/* ---- identity and info ----------------------------------------------- */

static void test_ids_and_class(void **state)
{
	struct fixture *f = *state;

	assert_string_equal(f->t->ops->name, "pci-legacy");
	assert_int_equal(f->t->ops->device_flags, TRANSPORT_DEV_PCI | TRANSPORT_DEV_RESET);
	/* 4.1.2.1: transitional id, revision 0, subsystem id = type. */
	assert_int_equal(rd(f, CFG, PCI_VENDOR_ID, 2), VIRTIO_PCI_VENDOR_ID);
	assert_int_equal(rd(f, CFG, PCI_DEVICE_ID, 2), 0x1000);
	assert_int_equal(rd(f, CFG, PCI_REVISION_ID, 1), 0);
	assert_int_equal(rd(f, CFG, PCI_SUBSYSTEM_VENDOR_ID, 2), VIRTIO_PCI_VENDOR_ID);
	assert_int_equal(rd(f, CFG, PCI_SUBSYSTEM_ID, 2), VIRTIO_ID_NET);
	assert_int_equal(rd(f, CFG, PCI_REVISION_ID, 4) >> 8, 0x020000);
	assert_int_equal(rd(f, CFG, PCI_INTERRUPT_PIN, 1), 1);
}

/* Only an MSI-X capability: no virtio vendor capability, so a driver
 * looking for the modern interface falls back to the legacy one. */
static void test_capabilities(void **state)
{
	struct fixture *f = *state;
	uint8_t ptr = (uint8_t)rd(f, CFG, PCI_CAPABILITY_LIST, 1);

	assert_true(rd(f, CFG, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(rd(f, CFG, ptr, 1), PCI_CAP_ID_MSIX);
	assert_int_equal((rd(f, CFG, ptr + 2u, 2) & 0x7ff) + 1, PCI_LEGACY_MSIX_VECTORS);
	assert_int_equal(rd(f, CFG, ptr + 4u, 4), BAR1);			/* table */
	assert_int_equal(rd(f, CFG, ptr + 8u, 4), PCI_LEGACY_MSIX_PBA_OFF | BAR1);
	assert_int_equal(rd(f, CFG, ptr + 1u, 1), 0);
}

/* BAR0 is an I/O BAR (bit 0 set) of 64 bytes, BAR1 memory. */
static void test_bar_sizing(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, CFG, PCI_BASE_ADDRESS_0, 4), 0x1);
	wr(f, CFG, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	assert_int_equal(rd(f, CFG, PCI_BASE_ADDRESS_0, 4), ~(PCI_LEGACY_BAR0_SIZE - 1) | 1);
	wr(f, CFG, PCI_BASE_ADDRESS_0 + 4, 0xffffffff, 4);
	assert_int_equal(rd(f, CFG, PCI_BASE_ADDRESS_0 + 4, 4), ~(PCI_LEGACY_BAR1_SIZE - 1));
	wr(f, CFG, PCI_BASE_ADDRESS_0 + 8, 0xffffffff, 4);
	assert_int_equal(rd(f, CFG, PCI_BASE_ADDRESS_0 + 8, 4), 0);
}

static void test_region_and_irq_info(void **state)
{
	struct fixture *f = *state;
	uint64_t size;
	uint32_t flags, count;

	assert_int_equal(f->t->ops->num_regions, 9);
	assert_int_equal(f->t->ops->region_info(f->t, BAR0, &size, &flags), 0);
	assert_int_equal(size, PCI_LEGACY_BAR0_SIZE);
	assert_int_equal(flags, TRANSPORT_REGION_READ | TRANSPORT_REGION_WRITE);
	assert_int_equal(f->t->ops->region_info(f->t, BAR1, &size, &flags), 0);
	assert_int_equal(size, PCI_LEGACY_BAR1_SIZE);
	assert_int_equal(f->t->ops->region_info(f->t, CFG, &size, &flags), 0);
	assert_int_equal(size, PCI_CFG_SPACE_SIZE);
	assert_int_equal(f->t->ops->region_info(f->t, 2, &size, &flags), 0);
	assert_int_equal(size, 0);
	assert_int_equal(f->t->ops->region_info(f->t, 9, &size, &flags), -EINVAL);
	assert_int_equal(f->t->ops->irq_info(f->t, TRANSPORT_IRQ_INTX, &count, &flags), 0);
	assert_int_equal(count, 1);
	assert_int_equal(flags, TRANSPORT_IRQ_EVENTFD | TRANSPORT_IRQ_MASKABLE |
					TRANSPORT_IRQ_AUTOMASKED);
	assert_int_equal(f->t->ops->irq_info(f->t, TRANSPORT_IRQ_MSIX, &count, &flags), 0);
	assert_int_equal(count, PCI_LEGACY_MSIX_VECTORS);
	assert_int_equal(f->t->ops->irq_info(f->t, TRANSPORT_IRQ_MSI, &count, &flags), 0);
	assert_int_equal(count, 0);
	assert_int_equal(f->t->ops->irq_info(f->t, 5, &count, &flags), -EINVAL);
}

/* One notify register for every queue: each doorbell matches its index. */
static void test_notify_areas(void **state)
{
	struct fixture *f = *state;
	struct transport_notify_area a[8];

	assert_int_equal(f->t->ops->notify_areas(f->t, BAR0, a, 8), ONE_PAIR_QUEUES);
	for (unsigned q = 0; q < ONE_PAIR_QUEUES; q++) {
		assert_int_equal(a[q].region, BAR0);
		assert_int_equal(a[q].offset, PCI_LEGACY_QUEUE_NOTIFY);
		assert_int_equal(a[q].size, 2);
		assert_true(a[q].has_datamatch);
		assert_int_equal(a[q].datamatch, q);
		assert_int_equal(a[q].fd, f->vd->q[q].kick_fd);
	}
	assert_int_equal(f->t->ops->notify_areas(f->t, BAR0, a, 1), 1);
	assert_int_equal(f->t->ops->notify_areas(f->t, BAR1, a, 8), 0);
	assert_int_equal(f->t->ops->notify_areas(f->t, CFG, a, 8), 0);
}

/* ---- features -------------------------------------------------------- */

static void test_feature_windows(void **state)
{
	struct fixture *f = *state;

	/* 32 bits only, and never VERSION_1 (bit 32 cannot even be shown). */
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_HOST_FEATURES, 4), (uint32_t)f->vd->device_features);
	wr(f, BAR0, PCI_LEGACY_GUEST_FEATURES, VIRTIO_BIT(VIRTIO_NET_F_MAC), 4);
	assert_int_equal(f->vd->driver_features, VIRTIO_BIT(VIRTIO_NET_F_MAC));
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_GUEST_FEATURES, 4), VIRTIO_BIT(VIRTIO_NET_F_MAC));
	/* Host features are read-only. */
	wr(f, BAR0, PCI_LEGACY_HOST_FEATURES, 0, 4);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_HOST_FEATURES, 4), (uint32_t)f->vd->device_features);
}

/* ---- status and queues ----------------------------------------------- */

static void driver_up(struct fixture *f, uint32_t feats)
{
	wr(f, BAR0, PCI_LEGACY_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
	wr(f, BAR0, PCI_LEGACY_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	wr(f, BAR0, PCI_LEGACY_GUEST_FEATURES, feats, 4);
	for (unsigned q = 0; q < ONE_PAIR_QUEUES; q++)
		setup_queue(f, q);
}

/* 3.1.2: a legacy driver has no FEATURES_OK step; DRIVER_OK alone is
 * fine, and the features freeze there. */
static void test_driver_ok_without_features_ok(void **state)
{
	struct fixture *f = *state;
	uint32_t feats = VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX);

	driver_up(f, feats);
	wr(f, BAR0, PCI_LEGACY_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					VIRTIO_STATUS_DRIVER_OK, 1);
	/* Exactly what the driver wrote: 0.9.5's status has no FEATURES_OK. */
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_STATUS, 1),
			 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
	assert_true(vdev_running(f->vd));
	assert_int_equal(f->vd->hdr_len, VIRTIO_NET_HDR_LEGACY_LEN);	/* no MRG_RXBUF */
	wr(f, BAR0, PCI_LEGACY_GUEST_FEATURES, 0, 4);
	assert_int_equal(f->vd->driver_features, feats);
}

static void test_driver_ok_with_unoffered_feature_needs_reset(void **state)
{
	struct fixture *f = *state;

	driver_up(f, VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4));	/* not offered */
	wr(f, BAR0, PCI_LEGACY_STATUS, 0x07, 1);
	assert_true(rd(f, BAR0, PCI_LEGACY_STATUS, 1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_false(vdev_running(f->vd));
}

static void test_reset_by_status_zero(void **state)
{
	struct fixture *f = *state;

	bind_irq(f, TRANSPORT_IRQ_MSIX, 0);	/* MSI-X on: vectors exist */
	driver_up(f, VIRTIO_BIT(VIRTIO_NET_F_MAC));
	wr(f, BAR0, PCI_LEGACY_CONFIG_VECTOR, 0, 2);
	wr(f, BAR0, PCI_LEGACY_STATUS, 0x07, 1);
	wr(f, BAR0, PCI_LEGACY_STATUS, 0, 1);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_STATUS, 1), 0);
	assert_int_equal(f->vd->driver_features, 0);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_QUEUE_SEL, 2), 0);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_CONFIG_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);
	for (unsigned q = 0; q < ONE_PAIR_QUEUES; q++) {
		wr(f, BAR0, PCI_LEGACY_QUEUE_SEL, q, 2);
		assert_int_equal(rd(f, BAR0, PCI_LEGACY_QUEUE_PFN, 4), 0);
		assert_false(f->vd->q[q].enabled);
	}
	/* The same queues can be set up again. */
	driver_up(f, VIRTIO_BIT(VIRTIO_NET_F_MAC));
}

/* 2.7.2: desc at PFN << 12, avail right after the 16-byte descriptors,
 * used at the next 4096 boundary after avail (flags, idx, ring,
 * used_event: 6 + 2 * 256 bytes). */
static void test_queue_pfn_layout(void **state)
{
	struct fixture *f = *state;
	uint64_t desc = (uint64_t)PFN(1) << 12;

	wr(f, BAR0, PCI_LEGACY_QUEUE_SEL, 1, 2);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_QUEUE_SEL, 2), 1);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_QUEUE_NUM, 2), VDEV_QUEUE_LEGACY);
	/* The size is the device's: a write is ignored. */
	wr(f, BAR0, PCI_LEGACY_QUEUE_NUM, 64, 2);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_QUEUE_NUM, 2), VDEV_QUEUE_LEGACY);
	wr(f, BAR0, PCI_LEGACY_QUEUE_PFN, PFN(1), 4);
	assert_true(f->vd->q[1].enabled);
	assert_int_equal(f->vd->q[1].size, 256);
	assert_int_equal(f->vd->q[1].addrs.desc, desc);
	assert_int_equal(f->vd->q[1].addrs.driver, desc + 16 * 256);
	assert_int_equal(f->vd->q[1].addrs.device, desc + 8192);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_QUEUE_PFN, 4), PFN(1));
	/* A live queue ignores a new PFN, and PFN 0 (no per-queue stop). */
	wr(f, BAR0, PCI_LEGACY_QUEUE_PFN, PFN(2), 4);
	assert_int_equal(f->vd->q[1].addrs.desc, desc);
	wr(f, BAR0, PCI_LEGACY_QUEUE_PFN, 0, 4);
	assert_true(f->vd->q[1].enabled);
	/* Queue 0 untouched. */
	assert_false(f->vd->q[0].enabled);
	assert_int_equal(f->vd->q[0].addrs.desc, 0);
}

static void test_absent_queue(void **state)
{
	struct fixture *f = *state;

	wr(f, BAR0, PCI_LEGACY_QUEUE_SEL, ONE_PAIR_QUEUES, 2);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_QUEUE_NUM, 2), 0);
	wr(f, BAR0, PCI_LEGACY_QUEUE_PFN, PFN(0), 4);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_QUEUE_PFN, 4), 0);
	for (unsigned q = 0; q < ONE_PAIR_QUEUES; q++)
		assert_false(f->vd->q[q].enabled);
	wr(f, BAR0, PCI_LEGACY_QUEUE_SEL, 0xffff, 2);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_QUEUE_NUM, 2), 0);
}

static void test_queue_outside_ram_needs_reset(void **state)
{
	struct fixture *f = *state;

	wr(f, BAR0, PCI_LEGACY_QUEUE_SEL, 0, 2);
	wr(f, BAR0, PCI_LEGACY_QUEUE_PFN, 0xfffff, 4);	/* no RAM there */
	assert_false(f->vd->q[0].enabled);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_QUEUE_PFN, 4), 0);
	assert_true(f->vd->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	/* Straddling the end of RAM: the used ring is outside. */
	wr(f, BAR0, PCI_LEGACY_STATUS, 0, 1);
	wr(f, BAR0, PCI_LEGACY_QUEUE_PFN, (RAM_GPA + RAM_SIZE) / 4096 - 1, 4);
	assert_false(f->vd->q[0].enabled);
	assert_true(f->vd->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

static void test_notify(void **state)
{
	struct fixture *f = *state;
	struct snap a, b;

	wr(f, BAR0, PCI_LEGACY_QUEUE_NOTIFY, 1, 2);
	assert_int_equal(f->vd->q[1].stats.kicks, 1);
	wr(f, BAR0, PCI_LEGACY_QUEUE_NOTIFY, 0, 2);
	assert_int_equal(f->vd->q[0].stats.kicks, 1);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_QUEUE_NOTIFY, 2), 0);
	/* A bad queue index or width is refused and kicks nothing. */
	take(f, &a);
	assert_int_equal(f->t->ops->region_write(f->t, BAR0, PCI_LEGACY_QUEUE_NOTIFY,
						 &(uint16_t){ ONE_PAIR_QUEUES }, 2), -EINVAL);
	assert_int_equal(f->t->ops->region_write(f->t, BAR0, PCI_LEGACY_QUEUE_NOTIFY,
						 &(uint16_t){ 0xffff }, 2), -EINVAL);
	assert_int_equal(f->t->ops->region_write(f->t, BAR0, PCI_LEGACY_QUEUE_NOTIFY,
						 &(uint32_t){ 1 }, 4), -EINVAL);
	assert_int_equal(f->t->ops->region_write(f->t, BAR0, PCI_LEGACY_QUEUE_NOTIFY,
						 &(uint8_t){ 1 }, 1), -EINVAL);
	take(f, &b);
	assert_memory_equal(&a, &b, sizeof(a));
}

/* ---- ISR, INTx and MSI-X --------------------------------------------- */

static void test_isr_and_intx_automask(void **state)
{
	struct fixture *f = *state;
	int efd = bind_irq(f, TRANSPORT_IRQ_INTX, 0);
	bool *masked = &f->t->irqs.masked[TRANSPORT_IRQ_INTX][0];

	assert_true(f->t->irq.raise(f->t->irq.ctx, 1));
	assert_int_equal(fired(efd), 1);
	assert_true(*masked);			/* automasked */
	/* Masked: ISR gathers, the eventfd stays quiet. */
	assert_false(f->t->irq.raise(f->t->irq.ctx, VDEV_CONFIG_IRQ));
	assert_int_equal(fired(efd), 0);
	/* An unmask with ISR still set fires again (level). */
	*masked = false;
	f->t->ops->irqs_changed(f->t, TRANSPORT_IRQ_INTX);
	assert_int_equal(fired(efd), 1);
	assert_true(*masked);
	/* 4.1.4.5: reading ISR returns and clears it. */
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_ISR, 1),
			 VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_ISR, 1), 0);
	/* Unmask with nothing pending: quiet. */
	*masked = false;
	f->t->ops->irqs_changed(f->t, TRANSPORT_IRQ_INTX);
	assert_int_equal(fired(efd), 0);
	assert_false(*masked);
	/* ISR is read-only. */
	wr(f, BAR0, PCI_LEGACY_ISR, 0xff, 1);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_ISR, 1), 0);
}

static void test_intx_disable(void **state)
{
	struct fixture *f = *state;
	int efd = bind_irq(f, TRANSPORT_IRQ_INTX, 0);

	wr(f, CFG, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
	assert_false(f->t->irq.raise(f->t->irq.ctx, 0));
	assert_int_equal(fired(efd), 0);
	/* Enabling INTx with ISR pending asserts the line. */
	wr(f, CFG, PCI_COMMAND, 0, 2);
	assert_int_equal(fired(efd), 1);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_ISR, 1), VIRTIO_PCI_ISR_QUEUE);
}

/* Unbound INTx: ISR is still set; binding the eventfd delivers it. */
static void test_intx_bound_late(void **state)
{
	struct fixture *f = *state;
	int efd;

	assert_false(f->t->irq.raise(f->t->irq.ctx, 0));
	efd = bind_irq(f, TRANSPORT_IRQ_INTX, 0);
	f->t->ops->irqs_changed(f->t, TRANSPORT_IRQ_INTX);
	assert_int_equal(fired(efd), 1);
}

static void test_msix_interrupts(void **state)
{
	struct fixture *f = *state;
	int intx = bind_irq(f, TRANSPORT_IRQ_INTX, 0);
	int v0 = bind_irq(f, TRANSPORT_IRQ_MSIX, 0);
	int v2 = bind_irq(f, TRANSPORT_IRQ_MSIX, 2);

	wr(f, BAR0, PCI_LEGACY_CONFIG_VECTOR, 0, 2);
	wr(f, BAR0, PCI_LEGACY_QUEUE_SEL, 1, 2);
	wr(f, BAR0, PCI_LEGACY_QUEUE_VECTOR, 2, 2);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_QUEUE_VECTOR, 2), 2);
	assert_true(f->t->irq.raise(f->t->irq.ctx, 1));
	assert_int_equal(fired(v2), 1);
	assert_true(f->t->irq.raise(f->t->irq.ctx, VDEV_CONFIG_IRQ));
	assert_int_equal(fired(v0), 1);
	/* No vector for queue 0: nothing; INTx is never used with MSI-X. */
	assert_false(f->t->irq.raise(f->t->irq.ctx, 0));
	assert_int_equal(fired(intx), 0);
	assert_false(f->t->irqs.masked[TRANSPORT_IRQ_MSIX][2]);
	/* 4.1.5.1.2: an unusable vector reads back NO_VECTOR. */
	wr(f, BAR0, PCI_LEGACY_CONFIG_VECTOR, PCI_LEGACY_MSIX_VECTORS, 2);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_CONFIG_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);
}

/* 4.1.4.10: the device config is at 20 without MSI-X and at 24 with it,
 * MSI-X being on by the capability's enable bit or (VFIO) by bound
 * MSI-X eventfds. */
static void test_config_moves_with_msix(void **state)
{
	struct fixture *f = *state;
	uint8_t cap = (uint8_t)rd(f, CFG, PCI_CAPABILITY_LIST, 1);
	uint8_t buf[2];

	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(rd(f, BAR0, PCI_LEGACY_CONFIG_OFF + i, 1), f->vd->cfg.mac[i]);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_CONFIG_OFF + 10, 2), 1500);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_CONFIG_OFF, 4), 0x01005452);
	/* No vector registers without MSI-X: 20 is config, writes ignored. */
	wr(f, BAR0, PCI_LEGACY_CONFIG_VECTOR, 0, 2);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_CONFIG_OFF, 2), 0x5452);

	wr(f, CFG, cap + 2u, PCI_MSIX_FLAGS_ENABLE, 2);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_CONFIG_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_QUEUE_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(rd(f, BAR0, PCI_LEGACY_CONFIG_OFF_MSIX + i, 1), f->vd->cfg.mac[i]);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_CONFIG_OFF_MSIX + 10, 2), 1500);
	/* The vector registers take only 16-bit accesses. */
	assert_int_equal(f->t->ops->region_read(f->t, BAR0, PCI_LEGACY_CONFIG_VECTOR, buf, 1), -EINVAL);
	assert_int_equal(f->t->ops->region_read(f->t, BAR0, PCI_LEGACY_QUEUE_VECTOR + 1, buf, 1), -EINVAL);
	assert_int_equal(f->t->ops->region_write(f->t, BAR0, PCI_LEGACY_CONFIG_VECTOR,
						 &(uint32_t){ 0 }, 4), -EINVAL);

	wr(f, CFG, cap + 2u, 0, 2);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_CONFIG_OFF, 1), 0x52);
	bind_irq(f, TRANSPORT_IRQ_MSIX, 1);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_CONFIG_OFF_MSIX, 1), 0x52);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_CONFIG_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);
	/* The driver must not write the config (5.1.4.2): ignored. */
	wr(f, BAR0, PCI_LEGACY_CONFIG_OFF_MSIX, 0xff, 1);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_CONFIG_OFF_MSIX, 1), 0x52);
}

/* ---- hostile accesses ------------------------------------------------ */

static void test_bad_accesses_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[16] = { 0 };
	struct snap a, b;
	static const struct { uint32_t region; uint64_t off; uint32_t len; } bad[] = {
		{ CFG, 255, 2 }, { CFG, 4096, 1 }, { CFG, 0, 0 },
		{ BAR0, PCI_LEGACY_BAR0_SIZE, 1 }, { BAR0, PCI_LEGACY_BAR0_SIZE - 2, 4 },
		{ BAR0, UINT64_MAX, 4 }, { BAR0, 0, 0 }, { BAR0, 0, 16 },
		{ BAR1, PCI_LEGACY_BAR1_SIZE, 4 }, { 2, 0, 4 }, { 8, 0, 4 }, { 42, 0, 4 },
		/* each register only with its own width, at its own offset */
		{ BAR0, PCI_LEGACY_HOST_FEATURES, 2 }, { BAR0, PCI_LEGACY_HOST_FEATURES + 1, 1 },
		{ BAR0, PCI_LEGACY_GUEST_FEATURES, 8 }, { BAR0, PCI_LEGACY_GUEST_FEATURES + 2, 2 },
		{ BAR0, PCI_LEGACY_QUEUE_PFN, 2 }, { BAR0, PCI_LEGACY_QUEUE_PFN + 1, 4 },
		{ BAR0, PCI_LEGACY_QUEUE_NUM, 4 }, { BAR0, PCI_LEGACY_QUEUE_SEL, 1 },
		{ BAR0, PCI_LEGACY_QUEUE_SEL + 1, 2 }, { BAR0, PCI_LEGACY_QUEUE_NOTIFY, 4 },
		{ BAR0, PCI_LEGACY_STATUS, 2 }, { BAR0, PCI_LEGACY_STATUS, 4 },
		{ BAR0, PCI_LEGACY_ISR, 2 }, { BAR0, 3, 1 }, { BAR0, 17, 1 },
		/* device config: 1, 2, 4 bytes, naturally aligned */
		{ BAR0, PCI_LEGACY_CONFIG_OFF + 1, 2 }, { BAR0, PCI_LEGACY_CONFIG_OFF + 2, 4 },
		{ BAR0, PCI_LEGACY_CONFIG_OFF, 8 }, { BAR0, PCI_LEGACY_CONFIG_OFF, 3 },
	};

	driver_up(f, VIRTIO_BIT(VIRTIO_NET_F_MAC));
	take(f, &a);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(buf, 0xff, sizeof(buf));		/* would reset, select, kick... */
		assert_int_equal(f->t->ops->region_write(f->t, bad[i].region, bad[i].off,
							 buf, bad[i].len), -EINVAL);
		assert_int_equal(f->t->ops->region_read(f->t, bad[i].region, bad[i].off,
							buf, bad[i].len), -EINVAL);
	}
	/* 0 at a misfit width would be a reset if it were taken. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(f->t->ops->region_write(f->t, BAR0, PCI_LEGACY_QUEUE_NOTIFY, buf, 4), -EINVAL);
	assert_int_equal(f->t->ops->region_write(f->t, BAR0, PCI_LEGACY_STATUS, buf, 2), -EINVAL);
	/* A write longer than any region. */
	{
		uint8_t big[PCI_CFG_SPACE_SIZE + 1] = { 0 };

		assert_int_equal(f->t->ops->region_write(f->t, CFG, 0, big, sizeof(big)), -EINVAL);
	}
	take(f, &b);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_reset_op(void **state)
{
	struct fixture *f = *state;

	driver_up(f, VIRTIO_BIT(VIRTIO_NET_F_MAC));
	wr(f, BAR0, PCI_LEGACY_STATUS, 0x07, 1);
	f->t->irq.raise(f->t->irq.ctx, 0);
	f->t->ops->reset(f->t);
	assert_int_equal(f->vd->status, 0);
	assert_int_equal(rd(f, BAR0, PCI_LEGACY_ISR, 1), 0);
	for (unsigned q = 0; q < ONE_PAIR_QUEUES; q++)
		assert_false(f->vd->q[q].enabled);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_ids_and_class),
		T(test_capabilities),
		T(test_bar_sizing),
		T(test_region_and_irq_info),
		T(test_notify_areas),
		T(test_feature_windows),
		T(test_driver_ok_without_features_ok),
		T(test_driver_ok_with_unoffered_feature_needs_reset),
		T(test_reset_by_status_zero),
		T(test_queue_pfn_layout),
		T(test_absent_queue),
		T(test_queue_outside_ram_needs_reset),
		T(test_notify),
		T(test_isr_and_intx_automask),
		T(test_intx_disable),
		T(test_intx_bound_late),
		T(test_msix_interrupts),
		T(test_config_moves_with_msix),
		T(test_bad_accesses_refused),
		T(test_reset_op),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
