/* SPDX-License-Identifier: MIT */
/*
 * pci_cfg.h - an emulated PCI configuration space (256 bytes): values, a
 * per-byte write mask (bits a driver may change), BAR sizing by the
 * write-ones-read-back rule, and a capability list builder.  Shared by
 * the modern and (next) legacy virtio-pci transports.
 */
#ifndef VNET_HOST_PCI_CFG_H
#define VNET_HOST_PCI_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/virtio.h"

struct pci_cfg {
	uint8_t data[PCI_CFG_SPACE_SIZE];
	uint8_t wmask[PCI_CFG_SPACE_SIZE];
	uint8_t next_cap;	/* where the next capability goes */
	uint8_t *last_next;	/* cap_next byte of the last capability */
};

#define PCI_BAR_MEM32 0x0
#define PCI_BAR_IO    0x1

void pci_cfg_init(struct pci_cfg *c, uint16_t vendor, uint16_t device,
		  uint8_t revision, uint32_t class_code, uint16_t sub_vendor,
		  uint16_t sub_device);
/* BAR idx of size bytes (a power of two, >= 16 for memory, >= 4 for I/O). */
void pci_cfg_set_bar(struct pci_cfg *c, unsigned idx, uint32_t size,
		     unsigned type);
/* Appends a capability of len bytes whose body (from byte 2 on) is
 * body; returns its offset in config space, or 0 when it does not fit. */
uint8_t pci_cfg_add_cap(struct pci_cfg *c, uint8_t cap_id, const void *body,
			uint8_t len);
/* Marks [off, off+len) writable by the driver with the given byte mask. */
void pci_cfg_set_wmask(struct pci_cfg *c, unsigned off, unsigned len,
		       uint8_t mask);

static inline bool pci_cfg_access_ok(uint64_t off, uint32_t len)
{
	return len > 0 && off < PCI_CFG_SPACE_SIZE &&
	       len <= PCI_CFG_SPACE_SIZE - off;
}
void pci_cfg_read(const struct pci_cfg *c, unsigned off, void *buf,
		  unsigned len);
/* Applies the write mask byte by byte. */
void pci_cfg_write(struct pci_cfg *c, unsigned off, const void *buf,
		   unsigned len);

/* A function-level reset (vfio-user DEVICE_RESET, or the client going
 * away: the next client is a freshly booted machine): the command
 * register and the MSI-X enable/mask bits at msix_cap return to their
 * power-on values, so the next driver finds INTx live and the legacy
 * config where 4.1.4.10 puts it without MSI-X.  (A virtio reset, status
 * 0, keeps them: a driver resets with MSI-X in use.) */
void pci_cfg_function_reset(struct pci_cfg *c, unsigned msix_cap);

static inline uint16_t pci_cfg_get16(const struct pci_cfg *c, unsigned off)
{
	return (uint16_t)(c->data[off] | (c->data[off + 1] << 8));
}
static inline uint32_t pci_cfg_get32(const struct pci_cfg *c, unsigned off)
{
	return (uint32_t)c->data[off] | (uint32_t)c->data[off + 1] << 8 |
	       (uint32_t)c->data[off + 2] << 16 | (uint32_t)c->data[off + 3] << 24;
}
static inline void pci_cfg_put16(struct pci_cfg *c, unsigned off, uint16_t v)
{
	c->data[off] = (uint8_t)v;
	c->data[off + 1] = (uint8_t)(v >> 8);
}
static inline void pci_cfg_put32(struct pci_cfg *c, unsigned off, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		c->data[off + i] = (uint8_t)(v >> (8 * i));
}

#endif /* VNET_HOST_PCI_CFG_H */
