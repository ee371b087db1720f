/* SPDX-License-Identifier: MIT */
/*
 * pci_modern.h - virtio over PCI, 1.x interface (virtio 1.2, 4.1).
 *
 * Layout we present (discovered by drivers through the capabilities):
 *   config space (region 7, 256 bytes): vendor 0x1af4, device 0x1041,
 *     capabilities at 0x40: COMMON, NOTIFY, ISR, DEVICE, PCI_CFG, MSI-X
 *   BAR0 (16 KiB memory): 0x0000 common cfg, 0x1000 ISR, 0x2000 device
 *     cfg, 0x3000 notify (multiplier 4, queue_notify_off = queue index)
 *   BAR1 (4 KiB memory): MSI-X table at 0, PBA at 0x800
 */
#ifndef VNET_HOST_PCI_MODERN_H
#define VNET_HOST_PCI_MODERN_H

#include "host/transport/transport.h"

#define PCI_MODERN_BAR0_SIZE	0x4000u
#define PCI_MODERN_BAR1_SIZE	0x1000u
#define PCI_MODERN_COMMON_OFF	0x0000u
#define PCI_MODERN_COMMON_LEN	0x40u
#define PCI_MODERN_ISR_OFF	0x1000u
#define PCI_MODERN_ISR_LEN	0x4u
#define PCI_MODERN_DEVICE_OFF	0x2000u
#define PCI_MODERN_DEVICE_LEN	0x100u
#define PCI_MODERN_NOTIFY_OFF	0x3000u
#define PCI_MODERN_NOTIFY_MULT	4u
#define PCI_MODERN_MSIX_VECTORS	4u	/* config, rx, tx, spare (ctrl) */
#define PCI_MODERN_MSIX_PBA_OFF	0x800u

struct vdev;
int pci_modern_create(struct transport **out, struct vdev *vd);

#endif /* VNET_HOST_PCI_MODERN_H */
