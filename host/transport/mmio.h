/* SPDX-License-Identifier: MIT */
/*
 * mmio.h - virtio over MMIO (virtio 1.2, 4.2): version 2, or version 1
 * ("legacy", 4.2.4) for a legacy vdev.
 *
 * Served over vfio-user as a *platform* device, our extension in the
 * shape of Linux VFIO platform devices (vfio-user itself defines PCI
 * only; docs: shared/reference/vfio-user.md section 12):
 *   DEVICE_GET_INFO: flags PLATFORM (bit 2) | RESET, 1 region, 1 irq
 *   region 0 (0x200 bytes): control registers 0x000-0x0fc, device
 *     configuration from 0x100
 *   irq 0: the device's interrupt line, one eventfd, EVENTFD | MASKABLE
 *     | AUTOMASKED: after each delivery the line stays masked until the
 *     client UNMASKs it; an unmask with InterruptStatus still non-zero
 *     delivers again (a level-triggered line).
 *
 * There is no discovery in virtio-mmio (4.2.1): the guest learns the
 * base address (`loc`) and interrupt (`intr`) out of band, as from a
 * device tree.  vnet-host logs both when it creates the vdev, and the
 * guest is given them on its command line; nothing about them travels
 * on the vfio-user wire, which only carries offsets into region 0.
 */
#ifndef VNET_HOST_MMIO_H
#define VNET_HOST_MMIO_H

#include "host/transport/transport.h"

#define MMIO_REGION_SIZE	0x200u
#define MMIO_CONFIG_OFF		0x100u
#define MMIO_CONFIG_LEN		0x100u

#define MMIO_MAGIC		0x74726976u	/* "virt" in little-endian bytes */
/* Our VendorID, in the MagicValue's convention: the little-endian bytes
 * spell "vnet" (as QEMU's 0x554d4551 spells "QEMU"). */
#define MMIO_VENDOR_ID		0x74656e76u

/* Register offsets (4.2.2, table in virtio-facts.md section 11). */
#define MMIO_MAGIC_VALUE	  0x000	/* R */
#define MMIO_VERSION		  0x004	/* R  2, or 1 for legacy */
#define MMIO_DEVICE_ID		  0x008	/* R */
#define MMIO_VENDOR		  0x00c	/* R */
#define MMIO_DEVICE_FEATURES	  0x010	/* R */
#define MMIO_DEVICE_FEATURES_SEL  0x014	/* W */
#define MMIO_DRIVER_FEATURES	  0x020	/* W */
#define MMIO_DRIVER_FEATURES_SEL  0x024	/* W */
#define MMIO_GUEST_PAGE_SIZE	  0x028	/* W  v1 only */
#define MMIO_QUEUE_SEL		  0x030	/* W */
#define MMIO_QUEUE_NUM_MAX	  0x034	/* R */
#define MMIO_QUEUE_NUM		  0x038	/* W */
#define MMIO_QUEUE_ALIGN	  0x03c	/* W  v1 only */
#define MMIO_QUEUE_PFN		  0x040	/* RW v1 only */
#define MMIO_QUEUE_READY	  0x044	/* RW v2 only */
#define MMIO_QUEUE_NOTIFY	  0x050	/* W */
#define MMIO_INTERRUPT_STATUS	  0x060	/* R */
#define MMIO_INTERRUPT_ACK	  0x064	/* W */
#define MMIO_STATUS		  0x070	/* RW */
#define MMIO_QUEUE_DESC_LOW	  0x080	/* W  v2 only, as the five below */
#define MMIO_QUEUE_DESC_HIGH	  0x084
#define MMIO_QUEUE_DRIVER_LOW	  0x090
#define MMIO_QUEUE_DRIVER_HIGH	  0x094
#define MMIO_QUEUE_DEVICE_LOW	  0x0a0
#define MMIO_QUEUE_DEVICE_HIGH	  0x0a4
#define MMIO_SHM_SEL		  0x0ac	/* W  v2 */
#define MMIO_SHM_LEN_LOW	  0x0b0	/* R  v2: -1, no such region */
#define MMIO_SHM_LEN_HIGH	  0x0b4
#define MMIO_SHM_BASE_LOW	  0x0b8	/* R  v2: -1, no such region */
#define MMIO_SHM_BASE_HIGH	  0x0bc
#define MMIO_QUEUE_RESET	  0x0c0	/* RW v2; RING_RESET is not offered */
#define MMIO_CONFIG_GENERATION	  0x0fc	/* R  v2 */

#define MMIO_INT_VRING		  0x1	/* InterruptStatus: used buffer */
#define MMIO_INT_CONFIG		  0x2	/* InterruptStatus: config change */

#define MMIO_IRQ_LINE		  0	/* the platform device's one irq */

struct vdev;
/* Version 1 when vd->legacy, else version 2. */
int mmio_create(struct transport **out, struct vdev *vd);

#endif /* VNET_HOST_MMIO_H */
