// SPDX-License-Identifier: MIT
/*
 * The virtio-pci modern transport and the device status state machine,
 * driven register by register as a driver (or a hostile guest) would.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/virtio.h"
#include "host/evloop.h"
#include "host/transport/pci_modern.h"
#include "host/dev/vdev.h"
#include "tests/unit/support/fake_vdev.h"

#define CFG 7
#define BAR0 0
#define COMMON(f) (PCI_MODERN_COMMON_OFF + offsetof(struct virtio_pci_common_cfg, f))

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
	fake_vdev_init(&f->fake, f->ev, false,
		       VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC) |
			       VIRTIO_BIT(VIRTIO_NET_F_STATUS) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX),
		       0, 0);
	f->vd = f->fake.vd;
	assert_int_equal(pci_modern_create(&f->t, f->vd), 0);
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

static void test_ids_and_class(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, CFG, PCI_VENDOR_ID, 2), VIRTIO_PCI_VENDOR_ID);
	assert_int_equal(rd(f, CFG, PCI_DEVICE_ID, 2), VIRTIO_PCI_DEVICE_ID_NET_MODERN);
	assert_true(rd(f, CFG, PCI_REVISION_ID, 1) >= 1);
	assert_true(rd(f, CFG, PCI_SUBSYSTEM_ID, 2) >= 0x40);
	assert_int_equal(rd(f, CFG, PCI_REVISION_ID, 4) >> 8, 0x020000);
	assert_true(rd(f, CFG, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
}

/* Walks the capability list the way a driver does and finds every virtio
 * structure inside BAR0, with the MSI-X capability last. */
static void test_capabilities(void **state)
{
	struct fixture *f = *state;
	unsigned seen = 0, n = 0;
	bool msix = false;
	uint8_t ptr = (uint8_t)rd(f, CFG, PCI_CAPABILITY_LIST, 1);

	while (ptr && n++ < 48) {
		uint8_t id = (uint8_t)rd(f, CFG, ptr, 1);

		assert_true(ptr >= 0x40 && (ptr & 3) == 0);
		if (id == PCI_CAP_ID_VNDR) {
			uint8_t type = (uint8_t)rd(f, CFG, ptr + 3u, 1);
			uint8_t bar = (uint8_t)rd(f, CFG, ptr + 4u, 1);
			uint32_t off = rd(f, CFG, ptr + 8u, 4), len = rd(f, CFG, ptr + 12u, 4);

			if (type != VIRTIO_PCI_CAP_PCI_CFG) {
				assert_int_equal(bar, 0);
				assert_true(off + len <= PCI_MODERN_BAR0_SIZE);
			}
			if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
				assert_int_equal(rd(f, CFG, ptr + 16u, 4), PCI_MODERN_NOTIFY_MULT);
			seen |= 1u << type;
		} else if (id == PCI_CAP_ID_MSIX) {
			msix = true;
			assert_int_equal((rd(f, CFG, ptr + 2u, 2) & 0x7ff) + 1, PCI_MODERN_MSIX_VECTORS);
		}
		ptr = (uint8_t)rd(f, CFG, ptr + 1u, 1);
	}
	assert_int_equal(seen, (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5));
	assert_true(msix);
}

static void test_bar_sizing(void **state)
{
	struct fixture *f = *state;

	wr(f, CFG, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	assert_int_equal(rd(f, CFG, PCI_BASE_ADDRESS_0, 4), ~(PCI_MODERN_BAR0_SIZE - 1));
	wr(f, CFG, PCI_BASE_ADDRESS_0 + 4, 0xffffffff, 4);
	assert_int_equal(rd(f, CFG, PCI_BASE_ADDRESS_0 + 4, 4), ~(PCI_MODERN_BAR1_SIZE - 1));
	/* Unimplemented BARs read as zero whatever is written. */
	wr(f, CFG, PCI_BASE_ADDRESS_0 + 8, 0xffffffff, 4);
	assert_int_equal(rd(f, CFG, PCI_BASE_ADDRESS_0 + 8, 4), 0);
	/* Read-only identity is not writable. */
	wr(f, CFG, PCI_VENDOR_ID, 0x1234, 2);
	assert_int_equal(rd(f, CFG, PCI_VENDOR_ID, 2), VIRTIO_PCI_VENDOR_ID);
}

static void test_bad_accesses_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[8] = { 0 };

	/* Past the end of config space and of BAR0, bad region, width 0. */
	assert_int_equal(f->t->ops->region_read(f->t, CFG, 255, buf, 2), -EINVAL);
	assert_int_equal(f->t->ops->region_read(f->t, CFG, 4096, buf, 1), -EINVAL);
	assert_int_equal(f->t->ops->region_read(f->t, BAR0, PCI_MODERN_BAR0_SIZE, buf, 1), -EINVAL);
	assert_int_equal(f->t->ops->region_read(f->t, BAR0, UINT64_MAX, buf, 4), -EINVAL);
	assert_int_equal(f->t->ops->region_read(f->t, 3, 0, buf, 4), -EINVAL);
	assert_int_equal(f->t->ops->region_read(f->t, 42, 0, buf, 4), -EINVAL);
	assert_int_equal(f->t->ops->region_read(f->t, BAR0, 0, buf, 0), -EINVAL);
	/* 4.1.3.1: common cfg fields only with their own width. */
	assert_int_equal(f->t->ops->region_read(f->t, BAR0, COMMON(device_status), buf, 4), -EINVAL);
	assert_int_equal(f->t->ops->region_read(f->t, BAR0, COMMON(num_queues) + 1, buf, 1), -EINVAL);
	assert_int_equal(f->t->ops->region_write(f->t, BAR0, COMMON(queue_select), buf, 1), -EINVAL);
	/* Notify with a bad width. */
	assert_int_equal(f->t->ops->region_write(f->t, BAR0, PCI_MODERN_NOTIFY_OFF, buf, 1), -EINVAL);
}

static void test_feature_windows(void **state)
{
	struct fixture *f = *state;

	wr(f, BAR0, COMMON(device_feature_select), 0, 4);
	assert_int_equal(rd(f, BAR0, COMMON(device_feature), 4),
			 (uint32_t)f->vd->device_features);
	wr(f, BAR0, COMMON(device_feature_select), 1, 4);
	assert_int_equal(rd(f, BAR0, COMMON(device_feature), 4),
			 (uint32_t)(f->vd->device_features >> 32));
	wr(f, BAR0, COMMON(device_feature_select), 7, 4);
	assert_int_equal(rd(f, BAR0, COMMON(device_feature), 4), 0);
	wr(f, BAR0, COMMON(driver_feature_select), 1, 4);
	wr(f, BAR0, COMMON(driver_feature), 1, 4);
	assert_int_equal(f->vd->driver_features, VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

static void negotiate(struct fixture *f, uint64_t feats)
{
	wr(f, BAR0, COMMON(device_status), VIRTIO_STATUS_ACKNOWLEDGE, 1);
	wr(f, BAR0, COMMON(device_status), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	wr(f, BAR0, COMMON(driver_feature_select), 0, 4);
	wr(f, BAR0, COMMON(driver_feature), (uint32_t)feats, 4);
	wr(f, BAR0, COMMON(driver_feature_select), 1, 4);
	wr(f, BAR0, COMMON(driver_feature), (uint32_t)(feats >> 32), 4);
	wr(f, BAR0, COMMON(device_status), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					   VIRTIO_STATUS_FEATURES_OK, 1);
}

static void test_features_ok_accepted(void **state)
{
	struct fixture *f = *state;

	negotiate(f, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC));
	assert_true(rd(f, BAR0, COMMON(device_status), 1) & VIRTIO_STATUS_FEATURES_OK);
}

/* 3.1.1 step 6: the device refuses a set it cannot run by leaving
 * FEATURES_OK clear. */
static void test_features_ok_refused(void **state)
{
	struct fixture *f = *state;

	negotiate(f, VIRTIO_BIT(VIRTIO_NET_F_MAC));	/* no VERSION_1 */
	assert_false(rd(f, BAR0, COMMON(device_status), 1) & VIRTIO_STATUS_FEATURES_OK);
	wr(f, BAR0, COMMON(device_status), 0, 1);
	negotiate(f, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4));
	assert_false(rd(f, BAR0, COMMON(device_status), 1) & VIRTIO_STATUS_FEATURES_OK);
}

static void test_features_frozen_after_features_ok(void **state)
{
	struct fixture *f = *state;

	negotiate(f, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	wr(f, BAR0, COMMON(driver_feature_select), 0, 4);
	wr(f, BAR0, COMMON(driver_feature), VIRTIO_BIT(VIRTIO_NET_F_MAC), 4);
	assert_int_equal(f->vd->driver_features, VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

static void test_driver_ok_without_queues_needs_reset(void **state)
{
	struct fixture *f = *state;

	negotiate(f, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	wr(f, BAR0, COMMON(device_status), 0x0f, 1);
	assert_true(rd(f, BAR0, COMMON(device_status), 1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	/* Reset clears it and the device is usable again. */
	wr(f, BAR0, COMMON(device_status), 0, 1);
	assert_int_equal(rd(f, BAR0, COMMON(device_status), 1), 0);
	assert_int_equal(f->vd->driver_features, 0);
}

static void test_queue_registers(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, BAR0, COMMON(num_queues), 2), ONE_PAIR_QUEUES);
	wr(f, BAR0, COMMON(queue_select), 1, 2);
	assert_int_equal(rd(f, BAR0, COMMON(queue_size), 2), VDEV_QUEUE_MAX);
	assert_int_equal(rd(f, BAR0, COMMON(queue_notify_off), 2), 1);
	wr(f, BAR0, COMMON(queue_size), 64, 2);
	assert_int_equal(rd(f, BAR0, COMMON(queue_size), 2), 64);
	/* 64-bit address as two halves and as one access. */
	wr(f, BAR0, COMMON(queue_desc), 0x1000, 4);
	wr(f, BAR0, COMMON(queue_desc) + 4, 0x2, 4);
	assert_int_equal(f->vd->q[1].addrs.desc, 0x200001000ull);
	assert_int_equal(rd(f, BAR0, COMMON(queue_desc) + 4, 4), 2);
	/* An absent queue reads size 0 and ignores writes. */
	wr(f, BAR0, COMMON(queue_select), 9, 2);
	assert_int_equal(rd(f, BAR0, COMMON(queue_size), 2), 0);
	wr(f, BAR0, COMMON(queue_size), 8, 2);
	assert_int_equal(rd(f, BAR0, COMMON(queue_size), 2), 0);
}

static void test_queue_enable_outside_ram_needs_reset(void **state)
{
	struct fixture *f = *state;

	negotiate(f, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	wr(f, BAR0, COMMON(queue_select), 0, 2);
	wr(f, BAR0, COMMON(queue_desc), 0x10000, 4);	/* no RAM mapped at all */
	wr(f, BAR0, COMMON(queue_enable), 1, 2);
	assert_int_equal(rd(f, BAR0, COMMON(queue_enable), 2), 0);
	assert_true(f->vd->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_non_null(strstr(f->vd->needs_reset_reason, "queue 0"));
}

static void test_queue_bad_size_needs_reset(void **state)
{
	struct fixture *f = *state;

	negotiate(f, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	wr(f, BAR0, COMMON(queue_select), 1, 2);
	wr(f, BAR0, COMMON(queue_size), 100, 2);	/* not a power of two */
	wr(f, BAR0, COMMON(queue_enable), 1, 2);
	assert_true(f->vd->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_non_null(strstr(f->vd->needs_reset_reason, "size"));
}

/* 4.1.5.1.2: a vector the device cannot use reads back NO_VECTOR. */
static void test_msix_vector_readback(void **state)
{
	struct fixture *f = *state;

	wr(f, BAR0, COMMON(config_msix_vector), 0, 2);
	assert_int_equal(rd(f, BAR0, COMMON(config_msix_vector), 2), 0);
	wr(f, BAR0, COMMON(config_msix_vector), 200, 2);
	assert_int_equal(rd(f, BAR0, COMMON(config_msix_vector), 2), VIRTIO_MSI_NO_VECTOR);
	wr(f, BAR0, COMMON(queue_select), 0, 2);
	wr(f, BAR0, COMMON(queue_msix_vector), 1, 2);
	assert_int_equal(rd(f, BAR0, COMMON(queue_msix_vector), 2), 1);
}

static void test_config_interrupt_on_msix(void **state)
{
	struct fixture *f = *state;
	int efd = eventfd(0, EFD_NONBLOCK);
	uint64_t n = 0;

	f->t->irqs.fd[TRANSPORT_IRQ_MSIX][0] = efd;
	wr(f, BAR0, COMMON(config_msix_vector), 0, 2);
	assert_true(f->t->irq.raise(f->t->irq.ctx, VDEV_CONFIG_IRQ));
	assert_int_equal(read(efd, &n, sizeof(n)), sizeof(n));
	assert_int_equal(n, 1);
	/* No vector for the queue: nothing is delivered. */
	assert_false(f->t->irq.raise(f->t->irq.ctx, 0));
}

static void test_isr_read_clears_and_intx(void **state)
{
	struct fixture *f = *state;
	int efd = eventfd(0, EFD_NONBLOCK);
	uint64_t n = 0;

	f->t->irqs.fd[TRANSPORT_IRQ_INTX][0] = efd;
	assert_true(f->t->irq.raise(f->t->irq.ctx, 1));
	assert_int_equal(read(efd, &n, sizeof(n)), sizeof(n));
	assert_int_equal(rd(f, BAR0, PCI_MODERN_ISR_OFF, 1), VIRTIO_PCI_ISR_QUEUE);
	assert_int_equal(rd(f, BAR0, PCI_MODERN_ISR_OFF, 1), 0);
	/* INTx disabled in the command register: no interrupt. */
	wr(f, CFG, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
	assert_false(f->t->irq.raise(f->t->irq.ctx, 1));
}

/* INTx is AUTOMASKED: a delivery masks it until the client unmasks, and
 * an unmask with ISR still set delivers again (level-triggered). */
static void test_intx_automask(void **state)
{
	struct fixture *f = *state;
	int efd = eventfd(0, EFD_NONBLOCK);
	bool *masked = &f->t->irqs.masked[TRANSPORT_IRQ_INTX][0];
	uint32_t count, flags;
	uint64_t n = 0;

	assert_int_equal(f->t->ops->irq_info(f->t, TRANSPORT_IRQ_INTX, &count, &flags), 0);
	assert_int_equal(flags, TRANSPORT_IRQ_EVENTFD | TRANSPORT_IRQ_MASKABLE |
					TRANSPORT_IRQ_AUTOMASKED);
	f->t->irqs.fd[TRANSPORT_IRQ_INTX][0] = efd;
	assert_true(f->t->irq.raise(f->t->irq.ctx, 0));
	assert_true(*masked);
	assert_false(f->t->irq.raise(f->t->irq.ctx, 1));	/* masked: ISR only */
	assert_int_equal(read(efd, &n, sizeof(n)), sizeof(n));
	assert_int_equal(n, 1);
	*masked = false;				/* SET_IRQS UNMASK */
	f->t->ops->irqs_changed(f->t, TRANSPORT_IRQ_INTX);
	assert_int_equal(read(efd, &n, sizeof(n)), sizeof(n));
	assert_true(*masked);
	assert_int_equal(rd(f, BAR0, PCI_MODERN_ISR_OFF, 1), VIRTIO_PCI_ISR_QUEUE);
	*masked = false;
	f->t->ops->irqs_changed(f->t, TRANSPORT_IRQ_INTX);
	assert_false(*masked);				/* nothing pending */
	assert_int_equal(read(efd, &n, sizeof(n)), -1);
}

static void test_device_config(void **state)
{
	struct fixture *f = *state;
	uint8_t mac[6];

	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)rd(f, BAR0, PCI_MODERN_DEVICE_OFF + i, 1);
	assert_memory_equal(mac, "\x52\x54\x00\x01\x02\x03", 6);
	assert_int_equal(rd(f, BAR0, PCI_MODERN_DEVICE_OFF + 10, 2), 1500);
	/* The driver must not write it (5.1.4.2): ignored. */
	wr(f, BAR0, PCI_MODERN_DEVICE_OFF, 0xff, 1);
	assert_int_equal(rd(f, BAR0, PCI_MODERN_DEVICE_OFF, 1), 0x52);
}

static void test_pci_cfg_window(void **state)
{
	struct fixture *f = *state;
	uint8_t ptr = (uint8_t)rd(f, CFG, PCI_CAPABILITY_LIST, 1);

	/* Find the PCI_CFG capability and read num_queues through it. */
	while (ptr && !(rd(f, CFG, ptr, 1) == PCI_CAP_ID_VNDR &&
			rd(f, CFG, ptr + 3u, 1) == VIRTIO_PCI_CAP_PCI_CFG))
		ptr = (uint8_t)rd(f, CFG, ptr + 1u, 1);
	assert_true(ptr != 0);
	wr(f, CFG, ptr + 4u, 0, 1);
	wr(f, CFG, ptr + 8u, COMMON(num_queues), 4);
	wr(f, CFG, ptr + 12u, 2, 4);
	assert_int_equal(rd(f, CFG, ptr + 16u, 4) & 0xffff, ONE_PAIR_QUEUES);
}

/* `queues 4`: nine queues, a notify address and an MSI-X vector for each,
 * plus the config vector; nothing past them (5.1.2, 4.1.4.4, 4.1.5.1.2). */
static void test_multiqueue_layout(void **state)
{
	struct transport_notify_area a[VDEV_MAX_QUEUES + 1];
	struct fake_vdev fake;
	struct transport *t;
	struct fixture mq = { 0 };
	uint32_t count = 0, flags = 0;
	uint8_t ptr;

	(void)state;
	mq.ev = evloop_new();
	fake_vdev_init_pairs(&fake, mq.ev, false, VIRTIO_BIT(VIRTIO_F_VERSION_1), 0, 0, 4);
	mq.vd = fake.vd;
	assert_int_equal(pci_modern_create(&t, mq.vd), 0);
	mq.t = t;
	assert_int_equal(rd(&mq, BAR0, COMMON(num_queues), 2), 9);
	wr(&mq, BAR0, COMMON(queue_select), 8, 2);
	assert_int_equal(rd(&mq, BAR0, COMMON(queue_size), 2), VDEV_QUEUE_MAX);
	assert_int_equal(rd(&mq, BAR0, COMMON(queue_notify_off), 2), 8);
	wr(&mq, BAR0, COMMON(queue_msix_vector), 9, 2);
	assert_int_equal(rd(&mq, BAR0, COMMON(queue_msix_vector), 2), 9);
	wr(&mq, BAR0, COMMON(queue_msix_vector), 10, 2);	/* past the table */
	assert_int_equal(rd(&mq, BAR0, COMMON(queue_msix_vector), 2), VIRTIO_MSI_NO_VECTOR);
	wr(&mq, BAR0, COMMON(queue_select), 9, 2);
	assert_int_equal(rd(&mq, BAR0, COMMON(queue_size), 2), 0);	/* no such queue */
	assert_int_equal(t->ops->notify_areas(t, BAR0, a, VDEV_MAX_QUEUES + 1), 9);
	assert_int_equal(a[8].offset, PCI_MODERN_NOTIFY_OFF + 8 * PCI_MODERN_NOTIFY_MULT);
	assert_int_equal(t->ops->irq_info(t, TRANSPORT_IRQ_MSIX, &count, &flags), 0);
	assert_int_equal(count, 10);
	for (ptr = (uint8_t)rd(&mq, CFG, PCI_CAPABILITY_LIST, 1); ptr;
	     ptr = (uint8_t)rd(&mq, CFG, ptr + 1u, 1)) {
		if (rd(&mq, CFG, ptr, 1) == PCI_CAP_ID_MSIX)
			assert_int_equal((rd(&mq, CFG, ptr + 2u, 2) & 0x7ff) + 1, 10);
		if (rd(&mq, CFG, ptr, 1) == PCI_CAP_ID_VNDR &&
		    rd(&mq, CFG, ptr + 3u, 1) == VIRTIO_PCI_CAP_NOTIFY_CFG)
			assert_int_equal(rd(&mq, CFG, ptr + 12u, 4), 9 * PCI_MODERN_NOTIFY_MULT);
	}
	fake_transport_free(t);
	fake_vdev_fini(&fake);
	evloop_free(mq.ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_ids_and_class),
		T(test_capabilities),
		T(test_bar_sizing),
		T(test_bad_accesses_refused),
		T(test_feature_windows),
		T(test_features_ok_accepted),
		T(test_features_ok_refused),
		T(test_features_frozen_after_features_ok),
		T(test_driver_ok_without_queues_needs_reset),
		T(test_queue_registers),
		T(test_queue_enable_outside_ram_needs_reset),
		T(test_queue_bad_size_needs_reset),
		T(test_msix_vector_readback),
		T(test_config_interrupt_on_msix),
		T(test_isr_read_clears_and_intx),
		T(test_intx_automask),
		T(test_device_config),
		T(test_pci_cfg_window),
		cmocka_unit_test(test_multiqueue_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
