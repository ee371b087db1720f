/* SPDX-License-Identifier: MIT */
/*
 * virtio_transport.h - the driver's view of a virtio transport: feature
 * and status registers, device configuration, queue setup, kicks and
 * interrupts.  virtio_net.c is written against this table only, so PCI
 * modern (virtio_pci_modern.c), PCI legacy and virtio-mmio slot in
 * behind it.  Every operation goes through the VFIO-like device API
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
#define VT_MAX_VECTORS	  3	/* config, receiveq, transmitq */
#define VT_CONFIG_RETRIES 16	/* 2.5: generation retry bound */

struct vtransport;

/* One queue to bring up (4.1.5.1.3 for PCI). */
struct vt_queue_cfg {
	uint16_t index;
	uint16_t size;
	uint16_t vector;	/* interrupt vector or VIRTIO_MSI_NO_VECTOR */
	struct vq_addrs addrs;	/* from vq_drv_init */
};

struct vtransport_ops {
	void (*destroy)(struct vtransport *t);

	/* 2.2 feature bits, all 64. */
	int (*get_device_features)(struct vtransport *t, uint64_t *f);
	int (*get_driver_features)(struct vtransport *t, uint64_t *f);
	int (*set_driver_features)(struct vtransport *t, uint64_t f);

	/* 2.1 device status.  reset() writes 0 and waits (bounded) until
	 * it reads back 0 (4.1.4.3.2); -ETIMEDOUT otherwise. */
	int (*get_status)(struct vtransport *t, uint8_t *s);
	int (*set_status)(struct vtransport *t, uint8_t s);
	int (*reset)(struct vtransport *t);

	/* 2.5 device configuration: one field of width 1, 2 or 4 at off
	 * (natural, aligned access, 4.1.3.1).  Use vt_config_read() for a
	 * consistent snapshot of several fields.  -ERANGE outside the
	 * device's configuration structure. */
	int (*config_generation)(struct vtransport *t, uint32_t *gen);
	int (*read_config)(struct vtransport *t, uint32_t off, void *dst,
			   unsigned width);

	/* Queues.  queue_max gives the device's maximum size (0 = queue not
	 * available).  queue_setup writes size, vector (read back into
	 * *vector_out: VIRTIO_MSI_NO_VECTOR = refused, 4.1.5.1.2),
	 * addresses, prepares the doorbell and enables the queue. */
	int (*num_queues)(struct vtransport *t, uint16_t *n);
	int (*queue_max)(struct vtransport *t, uint16_t q, uint16_t *max);
	int (*queue_setup)(struct vtransport *t, const struct vt_queue_cfg *qc,
			   uint16_t *vector_out);
	/* The doorbell (2.9): tells the device queue q has new buffers. */
	int (*notify)(struct vtransport *t, uint16_t q);
	/* How kicks of queue q travel: "eventfd" or "region-write". */
	const char *(*notify_kind)(struct vtransport *t, uint16_t q);

	/* Interrupts.  irq_setup binds up to n eventfds, vector i to fds[i],
	 * and returns how many vectors were bound (0 = none: poll), or
	 * -errno.  set_config_vector programs the config-change vector and
	 * reads it back like queue_setup. */
	int (*irq_setup)(struct vtransport *t, const int *fds, unsigned n);
	void (*irq_teardown)(struct vtransport *t);
	int (*set_config_vector)(struct vtransport *t, uint16_t vec,
				 uint16_t *vector_out);
	/* ISR status (read clears), for INTx; not used with MSI-X. */
	int (*read_isr)(struct vtransport *t, uint8_t *isr);
};

struct vtransport {
	const struct vtransport_ops *ops;
	const char *name;		/* "pci-modern", ... */
	struct vfc_device *vfc;		/* not owned */
};

/* PCI modern (4.1): checks ids, walks the capability list, checks every
 * capability against its BAR.  *out is freed with ops->destroy. */
int vt_pci_modern_probe(struct vfc_device *vfc, struct vtransport **out);

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

#endif /* VNET_GUEST_VIRTIO_TRANSPORT_H */
