/* SPDX-License-Identifier: MIT */
/*
 * pci_legacy.h - virtio over PCI, legacy (0.9.5) interface (virtio 1.2,
 * 4.1.4.10 "Legacy Interfaces: A Note on PCI Device Layout").
 *
 * Layout we present:
 *   config space (region 7, 256 bytes): vendor 0x1af4, transitional
 *     device id 0x1000, revision 0, subsystem device id 1 = net (4.1.2.1);
 *     one capability at 0x40: MSI-X.  No virtio vendor capabilities, so a
 *     driver probing for the modern interface falls back to this one.
 *   BAR0 (64 bytes of I/O space): the legacy registers below, then the
 *     device configuration (at 20, or at 24 while MSI-X is enabled)
 *   BAR1 (4 KiB memory): MSI-X table at 0, PBA at 0x800
 */
#ifndef VNET_HOST_PCI_LEGACY_H
#define VNET_HOST_PCI_LEGACY_H

#include "host/transport/transport.h"

#define PCI_LEGACY_BAR0_SIZE	0x40u	/* I/O: 24 + 12 (net config), pow2 */
#define PCI_LEGACY_BAR1_SIZE	0x1000u
#define PCI_LEGACY_MSIX_VECTORS	4u	/* config, rx, tx, spare */
#define PCI_LEGACY_MSIX_PBA_OFF	0x800u

/* BAR0 registers (4.1.4.10; Linux VIRTIO_PCI_*), with their widths. */
#define PCI_LEGACY_HOST_FEATURES  0	/* 32 R  device features 0-31 */
#define PCI_LEGACY_GUEST_FEATURES 4	/* 32 RW driver features 0-31 */
#define PCI_LEGACY_QUEUE_PFN	  8	/* 32 RW ring address >> 12 */
#define PCI_LEGACY_QUEUE_NUM	  12	/* 16 R  queue size */
#define PCI_LEGACY_QUEUE_SEL	  14	/* 16 RW */
#define PCI_LEGACY_QUEUE_NOTIFY	  16	/* 16 W  queue index */
#define PCI_LEGACY_STATUS	  18	/* 8  RW device status */
#define PCI_LEGACY_ISR		  19	/* 8  R  read clears */
#define PCI_LEGACY_CONFIG_VECTOR  20	/* 16 RW only while MSI-X is enabled */
#define PCI_LEGACY_QUEUE_VECTOR	  22	/* 16 RW only while MSI-X is enabled */
#define PCI_LEGACY_CONFIG_OFF	  20	/* device config without MSI-X */
#define PCI_LEGACY_CONFIG_OFF_MSIX 24	/* device config with MSI-X */

#define PCI_LEGACY_PFN_SHIFT	  12	/* VIRTIO_PCI_QUEUE_ADDR_SHIFT */
#define PCI_LEGACY_VRING_ALIGN	  4096u	/* VIRTIO_PCI_VRING_ALIGN */

struct vdev;
int pci_legacy_create(struct transport **out, struct vdev *vd);

#endif /* VNET_HOST_PCI_LEGACY_H */
