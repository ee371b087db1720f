// SPDX-License-Identifier: MIT
/*
 * virtio_pci.c - PCI plumbing both virtio-pci transports share, and the
 * probe that picks one of them (4.1.2 discovery).
 */
#include "guest/virtio_pci.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "guest/virtio_transport.h"

int vpci_read_config_space(struct vfc_device *vfc, uint8_t *cfg)
{
	int rc = vfc_region_read(vfc, VFC_PCI_CONFIG_REGION, 0, cfg,
				 PCI_CFG_SPACE_SIZE);

	if (rc >= 0)
		return 0;
	for (unsigned off = 0; off < PCI_CFG_SPACE_SIZE; off += 4) {
		uint32_t v;

		rc = vfc_read32(vfc, VFC_PCI_CONFIG_REGION, off, &v);
		if (rc < 0)
			return rc;
		memcpy(cfg + off, &v, 4);
	}
	return 0;
}

int vpci_walk_caps(const uint8_t *cfg, const char *who,
		   void (*visit)(void *arg, const uint8_t *cfg, uint8_t pos),
		   void *arg)
{
	uint64_t seen = 0;	/* one bit per dword from 0x40 */
	uint8_t pos;
	int n;

	if (!(vpci_cfg16(cfg, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return -ENODEV;
	pos = cfg[PCI_CAPABILITY_LIST];
	for (n = 0; pos != 0 && n < VPCI_MAX_CAPS; n++) {
		unsigned bit;

		if (pos < VPCI_CAP_FIRST || (pos & 3) || pos + 2 > PCI_CFG_SPACE_SIZE) {
			log_warn("%s: bad capability pointer 0x%02x, list cut there",
				 who, pos);
			return n;
		}
		bit = (unsigned)(pos - VPCI_CAP_FIRST) / 4;
		if (seen & (UINT64_C(1) << bit)) {
			log_warn("%s: capability list loops at 0x%02x", who, pos);
			return n;
		}
		seen |= UINT64_C(1) << bit;
		visit(arg, cfg, pos);
		pos = cfg[pos + 1];
	}
	if (pos != 0)
		log_warn("%s: more than %d capabilities, rest ignored", who,
			 VPCI_MAX_CAPS);
	return n;
}

void vpci_take_msix(struct vpci_irq *irq, const uint8_t *cfg, uint8_t pos,
		    const char *who)
{
	if (irq->has_msix || pos + VPCI_MSIX_CAP_LEN > PCI_CFG_SPACE_SIZE)
		return;
	irq->has_msix = true;
	irq->msix_pos = pos;
	irq->msix_table_size =
		(uint16_t)((vpci_cfg16(cfg, pos + PCI_MSIX_FLAGS) & 0x7ff) + 1);
	log_debug("%s: MSI-X capability at 0x%02x, %u vectors", who, pos,
		  irq->msix_table_size);
}

int vpci_msix_setup(struct vfc_device *vfc, struct vpci_irq *irq,
		    const int *fds, unsigned n, const char *who)
{
	unsigned count = n;
	uint16_t ctrl;
	int rc;

	if (!irq->has_msix || vfc->num_irqs <= VFC_PCI_MSIX_IRQ)
		return 0;
	if (count > irq->msix_table_size)
		count = irq->msix_table_size;
	if (count > vfc->irq_count[VFC_PCI_MSIX_IRQ])
		count = vfc->irq_count[VFC_PCI_MSIX_IRQ];
	if (count == 0)
		return 0;
	rc = vfc_set_irq_eventfds(vfc, VFC_PCI_MSIX_IRQ, 0, count, fds);
	if (rc < 0)
		return rc;
	irq->msix_bound = count;
	/* Mirror what a kernel driver does: MSI-X enabled, not masked.  The
	 * device may treat the message control as read-only; the eventfds
	 * are bound either way (VFIO: binding them enables MSI-X). */
	if (vfc_read16(vfc, VFC_PCI_CONFIG_REGION, irq->msix_pos + PCI_MSIX_FLAGS,
		       &ctrl) == 0) {
		ctrl = (uint16_t)((ctrl | PCI_MSIX_FLAGS_ENABLE) &
				  ~PCI_MSIX_FLAGS_MASKALL);
		if (vfc_write16(vfc, VFC_PCI_CONFIG_REGION,
				irq->msix_pos + PCI_MSIX_FLAGS, ctrl) < 0)
			log_debug("%s: MSI-X message control not writable", who);
	}
	return (int)count;
}

int vpci_intx_setup(struct vfc_device *vfc, struct vpci_irq *irq, int fd)
{
	int rc;

	if (vfc->num_irqs <= VFC_PCI_INTX_IRQ ||
	    vfc->irq_count[VFC_PCI_INTX_IRQ] == 0)
		return -ENOTSUP;
	rc = vfc_set_irq_eventfds(vfc, VFC_PCI_INTX_IRQ, 0, 1, &fd);
	if (rc < 0)
		return rc;
	irq->intx_bound = true;
	/* Start unmasked, whatever an earlier client left behind. */
	vpci_intx_unmask(vfc, irq);
	return 0;
}

int vpci_intx_unmask(struct vfc_device *vfc, struct vpci_irq *irq)
{
	if (!irq->intx_bound)
		return -ENOTSUP;
	return vfc_unmask_irq(vfc, VFC_PCI_INTX_IRQ, 0);
}

void vpci_irq_teardown(struct vfc_device *vfc, struct vpci_irq *irq)
{
	if (irq->msix_bound)
		vfc_disable_irqs(vfc, VFC_PCI_MSIX_IRQ);
	if (irq->intx_bound)
		vfc_disable_irqs(vfc, VFC_PCI_INTX_IRQ);
	irq->msix_bound = 0;
	irq->intx_bound = false;
}

void vpci_enable(struct vfc_device *vfc, const uint8_t *cfg, uint16_t bits,
		 const char *who)
{
	uint16_t cmd = vpci_cfg16(cfg, PCI_COMMAND) | bits;

	if (vfc_write16(vfc, VFC_PCI_CONFIG_REGION, PCI_COMMAND, cmd) < 0)
		log_debug("%s: PCI command register not writable", who);
}

/* ---- probe (4.1.2) --------------------------------------------------- */

static void note_virtio_cap(void *arg, const uint8_t *cfg, uint8_t pos)
{
	bool *has_common = arg;

	if (cfg[pos] == PCI_CAP_ID_VNDR &&
	    pos + sizeof(struct virtio_pci_cap) <= PCI_CFG_SPACE_SIZE &&
	    cfg[pos + 3] == VIRTIO_PCI_CAP_COMMON_CFG)
		*has_common = true;
}

int vt_pci_probe(struct vfc_device *vfc, struct vtransport **out)
{
	uint8_t cfg[PCI_CFG_SPACE_SIZE];
	uint16_t vendor, device;
	bool has_common = false;
	int rc;

	if (!(vfc->flags & VFC_DEVICE_FLAGS_PCI) ||
	    vfc->num_regions <= VFC_PCI_CONFIG_REGION ||
	    vfc->regions[VFC_PCI_CONFIG_REGION].size < PCI_CFG_SPACE_SIZE) {
		log_err("virtio-pci: not a PCI device (no 256-byte config space)");
		return -ENODEV;
	}
	rc = vpci_read_config_space(vfc, cfg);
	if (rc < 0) {
		log_err("virtio-pci: cannot read config space: %s", strerror(-rc));
		return rc;
	}
	vendor = vpci_cfg16(cfg, PCI_VENDOR_ID);
	device = vpci_cfg16(cfg, PCI_DEVICE_ID);
	if (vendor != VIRTIO_PCI_VENDOR_ID) {
		log_err("virtio-pci: vendor %04x is not virtio (%04x)", vendor,
			VIRTIO_PCI_VENDOR_ID);
		return -ENODEV;
	}
	if (device == VIRTIO_PCI_DEVICE_ID_NET_MODERN)
		return vt_pci_modern_probe(vfc, cfg, out);
	if (device != VIRTIO_PCI_DEVICE_ID_NET_TRANS) {
		log_err("virtio-pci: device %04x:%04x is not a virtio network device (%04x or %04x)",
			vendor, device, VIRTIO_PCI_DEVICE_ID_NET_MODERN,
			VIRTIO_PCI_DEVICE_ID_NET_TRANS);
		return -ENODEV;
	}
	/* 4.1.2.3: a transitional device may also carry the 1.x
	 * capabilities; a driver that knows 1.x uses them. */
	(void)vpci_walk_caps(cfg, "virtio-pci", note_virtio_cap, &has_common);
	if (has_common)
		return vt_pci_modern_probe(vfc, cfg, out);
	return vt_pci_legacy_probe(vfc, cfg, out);
}
