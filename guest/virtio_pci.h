/* SPDX-License-Identifier: MIT */
/*
 * virtio_pci.h - what the two PCI transports (virtio_pci_modern.c,
 * virtio_pci_legacy.c) share: reading and walking configuration space,
 * MSI-X and INTx through vfio-user SET_IRQS, bus mastering, and finding
 * the ioeventfd that stands for a doorbell register.  Private to guest/.
 */
#ifndef VNET_GUEST_VIRTIO_PCI_H
#define VNET_GUEST_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "common/virtio.h"
#include "guest/vfio_client.h"

#define VPCI_MAX_CAPS	   48	/* config space holds at most 48 4-byte-aligned caps */
#define VPCI_CAP_FIRST	   0x40	/* capabilities live after the standard header */
#define VPCI_COMMAND_IO	   0x1
#define VPCI_COMMAND_MEMORY 0x2
#define VPCI_COMMAND_MASTER 0x4
#define VPCI_MSIX_CAP_LEN  12
#define VPCI_BAR_IO	   0x1	/* BAR bit 0: I/O space */

static inline uint16_t vpci_cfg16(const uint8_t *cfg, unsigned off)
{
	return (uint16_t)(cfg[off] | cfg[off + 1] << 8);
}

static inline uint32_t vpci_cfg32(const uint8_t *cfg, unsigned off)
{
	return (uint32_t)vpci_cfg16(cfg, off) | (uint32_t)vpci_cfg16(cfg, off + 2) << 16;
}

/* The 256-byte configuration space: one block read if the device allows
 * it, else dword by dword. */
int vpci_read_config_space(struct vfc_device *vfc, uint8_t *cfg);

/* Walks the capability list: bounded (VPCI_MAX_CAPS), every pointer
 * inside config space past the header and 4-byte aligned, no capability
 * visited twice.  visit(arg, cfg, pos) sees each one.  Returns the number
 * visited, or -ENODEV when the device has no capability list. */
int vpci_walk_caps(const uint8_t *cfg, const char *who,
		   void (*visit)(void *arg, const uint8_t *cfg, uint8_t pos),
		   void *arg);

/* Interrupt state of a PCI function. */
struct vpci_irq {
	bool has_msix;
	uint8_t msix_pos;		/* MSI-X capability offset */
	uint16_t msix_table_size;
	unsigned msix_bound;		/* vectors bound with SET_IRQS */
	bool intx_bound;
};

/* Records an MSI-X capability at pos (first one wins). */
void vpci_take_msix(struct vpci_irq *irq, const uint8_t *cfg, uint8_t pos,
		    const char *who);
/* Binds up to n MSI-X vectors (vfio-user: the client owns the table,
 * vfio-user.md 8) and sets MSI-X enable in the message control.
 * Returns the vectors bound (0 when there is no MSI-X) or -errno. */
int vpci_msix_setup(struct vfc_device *vfc, struct vpci_irq *irq,
		    const int *fds, unsigned n, const char *who);
/* Binds the INTx eventfd (irq index 0); -ENOTSUP without INTx. */
int vpci_intx_setup(struct vfc_device *vfc, struct vpci_irq *irq, int fd);
/* Unmasks INTx after an interrupt was handled (automasked). */
int vpci_intx_unmask(struct vfc_device *vfc, struct vpci_irq *irq);
void vpci_irq_teardown(struct vfc_device *vfc, struct vpci_irq *irq);

/* Turns on decoding (memory and/or I/O) and bus mastering (DMA) in the
 * command register, as a kernel driver does; an emulated device may
 * ignore the write. */
void vpci_enable(struct vfc_device *vfc, const uint8_t *cfg, uint16_t bits,
		 const char *who);

#endif /* VNET_GUEST_VIRTIO_PCI_H */
