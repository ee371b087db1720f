/* SPDX-License-Identifier: MIT */
/*
 * transport.h - how a vdev's registers are presented: virtio-pci modern
 * (pci_modern.c), legacy virtio-pci (pci_legacy.c; both on pci_func.c)
 * and virtio-mmio (mmio.c).  Register layouts only: a transport knows
 * nothing of the data path or the peer link.
 *
 * Two parts:
 *  - the register part (struct transport_ops), which the vfio-user
 *    server calls: region reads and writes become vdev_* calls, SET_IRQS
 *    fills `irqs`, DEVICE_RESET and a client leaving reset the function;
 *  - the interrupt part (t->irq, a struct vdev_irq), which the device
 *    model calls: "interrupt the driver for queue q / config" becomes the
 *    right eventfd write (MSI-X vector, INTx with the ISR, the MMIO line).
 * vhost-user has no registers: it gives the model an interrupt part of
 * its own and no transport at all.
 *
 * The vfio-user server knows nothing about virtio: it calls these ops.
 */
#ifndef VNET_HOST_TRANSPORT_H
#define VNET_HOST_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/dev/vdev.h"

struct transport;
struct state_out;

/* vfio-user IRQ indices (PCI); a platform device uses index 0 only. */
#define TRANSPORT_IRQ_INTX 0
#define TRANSPORT_IRQ_MSI  1
#define TRANSPORT_IRQ_MSIX 2
#define TRANSPORT_IRQ_ERR  3
#define TRANSPORT_IRQ_REQ  4
#define TRANSPORT_MAX_IRQ_INDEX 5
#define TRANSPORT_MAX_VECTORS	32	/* >= VDEV_MAX_QUEUES + 1 (pci_func.c) */

/* Region info flags, as on the wire (vfio-user GET_REGION_INFO). */
#define TRANSPORT_REGION_READ  0x1
#define TRANSPORT_REGION_WRITE 0x2

/* Device info flags, as on the wire (DEVICE_GET_INFO). */
#define TRANSPORT_DEV_RESET    0x1
#define TRANSPORT_DEV_PCI      0x2
#define TRANSPORT_DEV_PLATFORM 0x4

/* IRQ info flags, as on the wire (GET_IRQ_INFO). */
#define TRANSPORT_IRQ_EVENTFD	 0x1
#define TRANSPORT_IRQ_MASKABLE	 0x2
#define TRANSPORT_IRQ_AUTOMASKED 0x4
#define TRANSPORT_IRQ_NORESIZE	 0x8

/* Eventfds bound by SET_IRQS. The vfio server owns (closes) them. */
struct transport_irqs {
	int fd[TRANSPORT_MAX_IRQ_INDEX][TRANSPORT_MAX_VECTORS]; /* -1 unbound */
	bool masked[TRANSPORT_MAX_IRQ_INDEX][TRANSPORT_MAX_VECTORS];
};

/* A doorbell: a driver write into [offset, offset+size) of region is a
 * kick of a queue, and may instead be an 8-byte write to fd (an eventfd
 * the vdev owns and polls).  Handed out by GET_REGION_IO_FDS. */
struct transport_notify_area {
	uint32_t region;
	uint64_t offset;
	uint64_t size;
	bool has_datamatch;	/* only a write of this value is this doorbell */
	uint64_t datamatch;	/* (legacy PCI and MMIO share one notify register) */
	int fd;
};

struct transport_ops {
	const char *name;	/* "pci-modern", "pci-legacy", "mmio-v2", "mmio-v1" */
	uint32_t device_flags;	/* TRANSPORT_DEV_* */
	uint32_t num_regions;
	uint32_t num_irqs;
	/* Size (0 = absent) and TRANSPORT_REGION_* flags; -EINVAL on an
	 * index >= num_regions. */
	int (*region_info)(struct transport *t, uint32_t index, uint64_t *size,
			   uint32_t *flags);
	/* Register accesses.  -EINVAL for a bad region, offset, width or
	 * alignment (the device state is untouched). */
	int (*region_read)(struct transport *t, uint32_t index, uint64_t off,
			   void *buf, uint32_t len);
	int (*region_write)(struct transport *t, uint32_t index, uint64_t off,
			    const void *buf, uint32_t len);
	/* Vector count and TRANSPORT_IRQ_* flags; -EINVAL on a bad index. */
	int (*irq_info)(struct transport *t, uint32_t index, uint32_t *count,
			uint32_t *flags);
	/* The doorbells of a region (for GET_REGION_IO_FDS); returns how many
	 * were written to out (at most max). */
	unsigned (*notify_areas)(struct transport *t, uint32_t region,
				 struct transport_notify_area *out, unsigned max);
	/* DEVICE_RESET, or the client went away: as if status were written 0. */
	void (*reset)(struct transport *t);
	/* After SET_IRQS changed index (bind, unbind, mask, unmask). */
	void (*irqs_changed)(struct transport *t, uint32_t index);
	void (*destroy)(struct transport *t);
	/* Migration (host/dev/state_fmt.h): the registers as the payload of
	 * one STATE_REC_TRANSPORT record appended to o, and back from one.
	 * Loading passes each value through the check a register write has
	 * (config space through its write mask, vectors through the vector
	 * rule); -EINVAL with why naming what was wrong. */
	void (*state_save)(struct transport *t, struct state_out *o);
	int (*state_load)(struct transport *t, const uint8_t *data, uint32_t len, char *why,
			  size_t whylen);
};

struct transport {
	const struct transport_ops *ops;	/* the register part */
	struct vdev_irq irq;			/* the interrupt part (ctx: t) */
	struct vdev *vdev;
	struct transport_irqs irqs;
};

/* Writes 1 to an irq eventfd if bound and not masked; returns true when
 * an interrupt was delivered. */
bool transport_fire(struct transport *t, uint32_t index, uint32_t vector);
void transport_irqs_init(struct transport_irqs *irqs);

#endif /* VNET_HOST_TRANSPORT_H */
