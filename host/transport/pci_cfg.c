// SPDX-License-Identifier: MIT
#include "host/transport/pci_cfg.h"

#include <string.h>

#define PCI_CAP_START 0x40

void pci_cfg_init(struct pci_cfg *c, uint16_t vendor, uint16_t device,
		  uint8_t revision, uint32_t class_code, uint16_t sub_vendor,
		  uint16_t sub_device)
{
	memset(c, 0, sizeof(*c));
	pci_cfg_put16(c, PCI_VENDOR_ID, vendor);
	pci_cfg_put16(c, PCI_DEVICE_ID, device);
	c->data[PCI_REVISION_ID] = revision;
	c->data[PCI_CLASS_PROG] = (uint8_t)class_code;
	c->data[PCI_CLASS_PROG + 1] = (uint8_t)(class_code >> 8);
	c->data[PCI_CLASS_PROG + 2] = (uint8_t)(class_code >> 16);
	pci_cfg_put16(c, PCI_SUBSYSTEM_VENDOR_ID, sub_vendor);
	pci_cfg_put16(c, PCI_SUBSYSTEM_ID, sub_device);
	/* Command: I/O and memory space, bus master, INTx disable. */
	pci_cfg_put16(c, PCI_COMMAND + 0, 0);
	c->wmask[PCI_COMMAND] = 0x07;
	c->wmask[PCI_COMMAND + 1] = (uint8_t)(PCI_COMMAND_INTX_DISABLE >> 8);
	c->data[PCI_INTERRUPT_PIN] = 1;		/* INTA# */
	c->wmask[PCI_INTERRUPT_PIN - 1] = 0xff;	/* interrupt line */
	c->next_cap = PCI_CAP_START;
	c->last_next = &c->data[PCI_CAPABILITY_LIST];
}

void pci_cfg_set_bar(struct pci_cfg *c, unsigned idx, uint32_t size,
		     unsigned type)
{
	unsigned off = PCI_BASE_ADDRESS_0 + 4 * idx;
	uint32_t mask = ~(size - 1);

	/* Address bits above the size are writable; the low bits read back
	 * as zero, which is how a driver learns the size. */
	pci_cfg_put32(c, off, type);
	for (unsigned i = 0; i < 4; i++)
		c->wmask[off + i] = (uint8_t)(mask >> (8 * i));
	c->wmask[off] &= type == PCI_BAR_IO ? 0xfc : 0xf0;
}

uint8_t pci_cfg_add_cap(struct pci_cfg *c, uint8_t cap_id, const void *body,
			uint8_t len)
{
	uint8_t off = c->next_cap;

	if (len < 2 || off + (unsigned)len > PCI_CFG_SPACE_SIZE)
		return 0;
	memcpy(&c->data[off + 2], (const uint8_t *)body + 2, len - 2u);
	c->data[off] = cap_id;
	c->data[off + 1] = 0;
	*c->last_next = off;
	c->last_next = &c->data[off + 1];
	c->data[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	c->next_cap = (uint8_t)((off + len + 3u) & ~3u);
	return off;
}

void pci_cfg_set_wmask(struct pci_cfg *c, unsigned off, unsigned len,
		       uint8_t mask)
{
	for (unsigned i = 0; i < len && off + i < PCI_CFG_SPACE_SIZE; i++)
		c->wmask[off + i] = mask;
}

void pci_cfg_read(const struct pci_cfg *c, unsigned off, void *buf,
		  unsigned len)
{
	memcpy(buf, &c->data[off], len);
}

void pci_cfg_write(struct pci_cfg *c, unsigned off, const void *buf,
		   unsigned len)
{
	const uint8_t *v = buf;

	for (unsigned i = 0; i < len; i++) {
		uint8_t m = c->wmask[off + i];

		c->data[off + i] = (uint8_t)((c->data[off + i] & ~m) | (v[i] & m));
	}
}

void pci_cfg_function_reset(struct pci_cfg *c, unsigned msix_cap)
{
	pci_cfg_put16(c, PCI_COMMAND, 0);
	if (msix_cap)
		pci_cfg_put16(c, msix_cap + PCI_MSIX_FLAGS,
			      pci_cfg_get16(c, msix_cap + PCI_MSIX_FLAGS) &
			      (uint16_t)~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
}
