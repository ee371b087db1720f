/* SPDX-License-Identifier: MIT */
/*
 * virtio_transport.h - the driver's view of a virtio transport: feature
 * and status registers, device configuration, queue setup, kicks and
 * interrupts.  The virtio-net driver (virtio_net_*.c) is written against
 * this table only; behind it sit
 *   virtio_pci_modern.c   virtio-pci 1.x (4.1.4)
 *   virtio_pci_legacy.c   legacy 0.9.5 virtio-pci, I/O BAR0 (4.1.4.10)
 *   virtio_mmio.c         virtio-mmio version 2, or 1 (legacy) (4.2)
 * Every operation goes through the VFIO-like device API
 * (guest/vfio_client.h) and returns 0 or -errno; whatever the device
 * answers is checked before use.
 *
 * All operations except notify() are control path (a socket round trip
 * each).  notify() is the data-path doorbell: with an ioeventfd it is
 * one eventfd write.
 */
#ifndef VNET_GUEST_VIRTIO_TRANSPORT_H
#define VNET_GUEST_VIRTIO_TRANSPORT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/ring/vq.h"
#include "guest/vfio_client.h"

#define VT_MAX_QUEUES	  16	/* queues we can set up (net: rx, tx, ctrl) */
#define VT_MAX_VECTORS	  17	/* config, every receiveq and transmitq */
#define VT_CONFIG_RETRIES 16	/* 2.5: generation retry bound */
#define VT_RESET_WAIT_MS  2000	/* bound on a reset's read-back */

/* Transport properties (vtransport.flags). */
#define VT_F_LEGACY	  0x1	/* legacy interface: only feature bits 0-31,
				 * no FEATURES_OK step (3.1.2), no
				 * config_generation, guest-endian config */
#define VT_F_FIXED_QSIZE  0x2	/* the queue size is the device's (legacy
				 * PCI, 4.1.4.10): queue_setup takes only it */

/* Interrupt causes reported by line_ack (ISR 4.1.4.5, InterruptStatus
 * 4.2.2: same bit values). */
#define VT_CAUSE_QUEUE	  0x1
#define VT_CAUSE_CONFIG	  0x2

struct vtransport;

/* One queue to bring up (4.1.5.1.3 for PCI, 4.2.3.2 for MMIO). */
struct vt_queue_cfg {
	uint16_t index;
	uint16_t size;
	uint16_t vector;	/* interrupt vector or VIRTIO_MSI_NO_VECTOR */
	struct vq_addrs addrs;	/* from vq_drv_init */
};

struct vtransport_ops {
	void (*destroy)(struct vtransport *t);

	/* 2.2 feature bits (64; a VT_F_LEGACY transport has 32 and
	 * refuses bits above 31 with -EINVAL). */
	int (*get_device_features)(struct vtransport *t, uint64_t *f);
	int (*get_driver_features)(struct vtransport *t, uint64_t *f);
	int (*set_driver_features)(struct vtransport *t, uint64_t f);

	/* 2.1 device status.  reset() writes 0 and waits (bounded) until
	 * it reads back 0 (4.1.4.3.2, 4.2.2.2); -ETIMEDOUT otherwise. */
	int (*get_status)(struct vtransport *t, uint8_t *s);
	int (*set_status)(struct vtransport *t, uint8_t s);
	int (*reset)(struct vtransport *t);

	/* 2.5 device configuration: one field of width 1, 2 or 4 at off
	 * (natural, aligned access).  Use vt_config_read() for a consistent
	 * snapshot of several fields.  -ERANGE outside the device's
	 * configuration structure.  A legacy transport has no generation
	 * counter and reports 0. */
	int (*config_generation)(struct vtransport *t, uint32_t *gen);
	int (*read_config)(struct vtransport *t, uint32_t off, void *dst,
			   unsigned width);

	/* Queues.  num_queues: how many the device has (MMIO and legacy PCI
	 * cannot tell: they report VT_MAX_QUEUES and queue_max says 0 for a
	 * missing one).  queue_max gives the device's maximum size (0 = no
	 * such queue; with VT_F_FIXED_QSIZE the only size).  queue_setup
	 * writes size, vector (read back into *vector_out:
	 * VIRTIO_MSI_NO_VECTOR = refused or none), addresses, prepares the
	 * doorbell and enables the queue. */
	int (*num_queues)(struct vtransport *t, uint16_t *n);
	int (*queue_max)(struct vtransport *t, uint16_t q, uint16_t *max);
	int (*queue_setup)(struct vtransport *t, const struct vt_queue_cfg *qc,
			   uint16_t *vector_out);
	/* A queue the device already has set up and runs (it moved to this
	 * transport with its state, vnet_dev_move): prepares its doorbell
	 * only, as queue_setup would have. */
	int (*queue_adopt)(struct vtransport *t, uint16_t q);
	/* The doorbell (2.9): tells the device queue q has new buffers. */
	int (*notify)(struct vtransport *t, uint16_t q);
	/* How kicks of queue q travel: "eventfd" or "region-write". */
	const char *(*notify_kind)(struct vtransport *t, uint16_t q);
	/* Optional: the ioeventfd standing for notify(t, q) (writing 1 to it
	 * is the whole kick), or -1 when a kick needs the register write.
	 * Lets a caller batch kicks into its own io_uring submissions. */
	int (*notify_fd)(struct vtransport *t, uint16_t q);

	/* Message interrupts.  irq_setup binds up to n eventfds, vector i to
	 * fds[i], and returns how many vectors were bound (0 = none: MMIO,
	 * or a PCI device without MSI-X), or -errno.  set_config_vector
	 * programs the config-change vector and reads it back like
	 * queue_setup.  irq_teardown unbinds vectors and the line. */
	int (*irq_setup)(struct vtransport *t, const int *fds, unsigned n);
	void (*irq_teardown)(struct vtransport *t);
	int (*set_config_vector)(struct vtransport *t, uint16_t vec,
				 uint16_t *vector_out);

	/* The interrupt line (PCI INTx, the MMIO interrupt): line_setup
	 * binds one eventfd (-ENOTSUP: no line).  The line is automasked:
	 * after each interrupt line_ack reads and clears the cause (ISR
	 * read-to-clear 4.1.4.5; InterruptStatus + InterruptACK 4.2.2),
	 * stores VT_CAUSE_* bits in *cause and unmasks the line. */
	int (*line_setup)(struct vtransport *t, int fd);
	int (*line_ack)(struct vtransport *t, uint8_t *cause);
};

struct vtransport {
	const struct vtransport_ops *ops;
	const char *name;		/* "pci-modern", "pci-legacy", "mmio-v2", "mmio-v1" */
	const char *line_name;		/* "intx", "line" */
	struct vfc_device *vfc;		/* not owned */
	unsigned flags;			/* VT_F_* */
	uint32_t used_align;		/* split used-ring alignment (2.7: 4; legacy 4096) */
	bool packed_ok;			/* the transport can set up packed rings */
};

/* Probes a PCI device: a virtio network device with the 1.x capabilities
 * is driven as pci-modern (4.1.4); a transitional one (device id 0x1000,
 * 4.1.2) without them, or with only an I/O BAR0, as pci-legacy
 * (4.1.4.10).  *out is freed with ops->destroy. */
int vt_pci_probe(struct vfc_device *vfc, struct vtransport **out);
/* The two PCI flavours, for vt_pci_probe (cfg: the 256-byte config
 * space already read). */
int vt_pci_modern_probe(struct vfc_device *vfc, const uint8_t *cfg,
			struct vtransport **out);
int vt_pci_legacy_probe(struct vfc_device *vfc, const uint8_t *cfg,
			struct vtransport **out);
/* virtio-mmio behind a vfio-user platform device (region 0 the register
 * window, irq 0 the line): magic, version 1 or 2, device id 1 (4.2.2). */
int vt_mmio_probe(struct vfc_device *vfc, struct vtransport **out);

/* The ioeventfd (vfio-user GET_REGION_IO_FDS) that may replace a
 * `width`-byte write of value q at offset off of the doorbell region, or
 * -1.  An entry with a datamatch stands only for that value (legacy PCI
 * and MMIO share one notify register among the queues). */
int vt_find_iofd(const struct vfc_iofd *fds, int n, uint64_t off,
		 unsigned width, uint16_t q);

/* For transports without a queue count register (legacy PCI, MMIO):
 * the queues before the first whose queue_max reads 0. */
int vt_count_queues(struct vtransport *t, uint16_t *n);
/* 2.7.2's legacy layout, which a legacy device recomputes from the page
 * frame number alone: descriptor table at a page boundary (not 0: PFN 0
 * means "no queue"), available ring right after it, used ring at the
 * next `align` boundary, PFN within 32 bits. */
bool vt_legacy_layout_ok(const struct vt_queue_cfg *qc, uint64_t align);

/* One field of a configuration snapshot. */
struct vt_cfg_field {
	uint32_t off;
	unsigned width;		/* 1, 2 or 4 */
	void *dst;
};

/* Reads fields as one consistent snapshot: 2.5.1 (driver requirements)
 * says to read config_generation before and after and retry while it
 * changed.  Bounded: -EAGAIN after VT_CONFIG_RETRIES changing reads (a
 * device that never settles is not trusted to). */
static inline int vt_config_read(struct vtransport *t,
				 const struct vt_cfg_field *f, unsigned n)
{
	for (unsigned tries = 0; tries < VT_CONFIG_RETRIES; tries++) {
		uint32_t before = 0, after = 1;
		int rc = t->ops->config_generation(t, &before);

		for (unsigned i = 0; rc == 0 && i < n; i++)
			rc = t->ops->read_config(t, f[i].off, f[i].dst,
						 f[i].width);
		if (rc == 0)
			rc = t->ops->config_generation(t, &after);
		if (rc < 0)
			return rc;
		if (before == after)
			return 0;
	}
	return -EAGAIN;
}

/* Reads a config field of width 1, 2 or 4 through one region access and
 * stores it at dst (shared by the transports' read_config). */
static inline int vt_region_read_field(struct vfc_device *vfc, uint32_t region,
				       uint64_t at, void *dst, unsigned width)
{
	uint32_t v32;
	uint16_t v16;
	uint8_t v8;
	int rc;

	switch (width) {
	case 1:
		rc = vfc_read8(vfc, region, at, &v8);
		if (rc == 0)
			memcpy(dst, &v8, 1);
		return rc;
	case 2:
		rc = vfc_read16(vfc, region, at, &v16);
		if (rc == 0)
			memcpy(dst, &v16, 2);
		return rc;
	case 4:
		rc = vfc_read32(vfc, region, at, &v32);
		if (rc == 0)
			memcpy(dst, &v32, 4);
		return rc;
	default:
		return -EINVAL;
	}
}

#endif /* VNET_GUEST_VIRTIO_TRANSPORT_H */
