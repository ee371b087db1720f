// SPDX-License-Identifier: MIT
/*
 * pci_legacy.c - virtio-pci legacy (0.9.5) transport (virtio 1.2,
 * 4.1.4.10): one I/O BAR with the legacy register block, the device
 * configuration after it, MSI-X or INTx + ISR, on top of the
 * transport-independent device model (host/dev/).
 *
 * Differences from the modern transport a driver sees:
 *  - only feature bits 0-31 exist, so VERSION_1 is never offered (dev/vdev.c
 *    masks the device features for a legacy vdev);
 *  - the queue size is the device's (256) and read-only; the driver gives
 *    one page frame number and the three ring parts follow the legacy
 *    layout (2.7.2), the used ring aligned to 4096;
 *  - there is no FEATURES_OK step (3.1.2): dev/vdev.c checks the features at
 *    DRIVER_OK;
 *  - the device configuration moves from offset 20 to 24 when MSI-X is
 *    enabled, making room for the two vector registers.
 */
#include "host/transport/pci_legacy.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "host/transport/legacy_vring.h"
#include "host/transport/pci_func.h"
#include "host/dev/vdev.h"

static_assert(PCI_LEGACY_BAR1_SIZE == PCI_FUNC_BAR1_SIZE &&
	      PCI_LEGACY_MSIX_VECTORS == PCI_FUNC_MSIX_MIN_VECTORS &&
	      PCI_LEGACY_MSIX_PBA_OFF == PCI_FUNC_MSIX_PBA_OFF, "BAR1 as pci_func lays it out");

struct pci_legacy {
	struct pci_func f;		/* first (pci_func.h) */
	uint16_t queue_select;		/* the one register only legacy keeps */
};

/* ---- BAR0: the legacy registers (4.1.4.10) --------------------------- */

struct legacy_reg {
	uint8_t off;
	uint8_t width;
	bool msix_only;
};

/* Each register only with its own width, like the modern common
 * configuration (4.1.3.1); Linux's legacy driver does exactly this. */
static const struct legacy_reg legacy_regs[] = {
	{ PCI_LEGACY_HOST_FEATURES, 4, false },
	{ PCI_LEGACY_GUEST_FEATURES, 4, false },
	{ PCI_LEGACY_QUEUE_PFN, 4, false },
	{ PCI_LEGACY_QUEUE_NUM, 2, false },
	{ PCI_LEGACY_QUEUE_SEL, 2, false },
	{ PCI_LEGACY_QUEUE_NOTIFY, 2, false },
	{ PCI_LEGACY_STATUS, 1, false },
	{ PCI_LEGACY_ISR, 1, false },
	{ PCI_LEGACY_CONFIG_VECTOR, 2, true },
	{ PCI_LEGACY_QUEUE_VECTOR, 2, true },
};

static const struct legacy_reg *legacy_reg_at(uint64_t off, uint32_t len, bool msix)
{
	for (size_t i = 0; i < sizeof(legacy_regs) / sizeof(legacy_regs[0]); i++) {
		const struct legacy_reg *r = &legacy_regs[i];

		if (r->msix_only && !msix)
			continue;
		if (off == r->off && len == r->width)
			return r;
	}
	return NULL;
}

static bool queue_selected(const struct pci_legacy *pl)
{
	return pl->queue_select < pl->f.t.vdev->num_queues;
}

/* 4.1.4.10: the driver writes the page frame number of a ring it laid out
 * as in 2.7.2 for the size we report; 0 means "stop using the queue". */
static void queue_set_pfn(struct pci_legacy *pl, unsigned q, uint32_t pfn)
{
	struct vdev *vd = pl->f.t.vdev;
	struct legacy_vring r;

	if (pfn == 0) {
		/* The vdev has no per-queue stop; drivers write 0 after a
		 * device reset (Linux del_vq), when the queue is stopped
		 * already.  Anything else is ignored. */
		if (vd->q[q].enabled)
			log_rl(LOG_WARN, "%s: queue %u: PFN 0 on a live queue ignored (reset the device to stop it)",
			       vd->name, q);
		return;
	}
	if (vd->q[q].enabled) {
		log_rl(LOG_WARN, "%s: queue %u: PFN written while the queue is live; ignored",
		       vd->name, q);
		return;
	}
	/* A 32-bit PFN << 12 is at most 2^44: the layout cannot wrap. */
	if (!legacy_vring_layout((uint64_t)pfn << PCI_LEGACY_PFN_SHIFT, VDEV_QUEUE_LEGACY,
				 PCI_LEGACY_VRING_ALIGN, &r))
		return;
	vdev_queue_set_size(vd, q, VDEV_QUEUE_LEGACY);
	vdev_queue_set_addr(vd, q, 0, r.desc);
	vdev_queue_set_addr(vd, q, 1, r.avail);
	vdev_queue_set_addr(vd, q, 2, r.used);
	vdev_queue_enable(vd, q);	/* bad memory: NEEDS_RESET, logged */
}

static uint32_t reg_read(struct pci_legacy *pl, const struct legacy_reg *r)
{
	struct vdev *vd = pl->f.t.vdev;
	const struct vdev_queue *q = queue_selected(pl) ? &vd->q[pl->queue_select] : NULL;

	switch (r->off) {
	case PCI_LEGACY_HOST_FEATURES:
		return vdev_device_features_window(vd, 0);
	case PCI_LEGACY_GUEST_FEATURES:
		return vdev_driver_features_window(vd, 0);
	case PCI_LEGACY_QUEUE_PFN:
		/* Non-zero means "in use": Linux refuses to set up such a
		 * queue, so only a live queue reads back its PFN. */
		return q && q->enabled ? (uint32_t)(q->addrs.desc >> PCI_LEGACY_PFN_SHIFT) : 0;
	case PCI_LEGACY_QUEUE_NUM:
		return q ? VDEV_QUEUE_LEGACY : 0;	/* 0: queue not available */
	case PCI_LEGACY_QUEUE_SEL:
		return pl->queue_select;
	case PCI_LEGACY_STATUS:
		return vd->status;
	case PCI_LEGACY_ISR:
		/* 4.1.4.5 (and legacy): reading ISR returns and clears it,
		 * which also deasserts INTx. */
		return pci_func_isr_read(&pl->f);
	case PCI_LEGACY_CONFIG_VECTOR:
		return pl->f.config_vector;
	case PCI_LEGACY_QUEUE_VECTOR:
		return q ? pl->f.queue_vector[pl->queue_select] : VIRTIO_MSI_NO_VECTOR;
	default:
		return 0;	/* queue notify is write-only */
	}
}

static int reg_write(struct pci_legacy *pl, const struct legacy_reg *r, uint32_t v)
{
	struct vdev *vd = pl->f.t.vdev;
	unsigned qs = pl->queue_select;

	switch (r->off) {
	case PCI_LEGACY_GUEST_FEATURES:
		vdev_set_driver_features_window(vd, 0, v);
		return 0;
	case PCI_LEGACY_QUEUE_SEL:
		pl->queue_select = (uint16_t)v;
		return 0;
	case PCI_LEGACY_QUEUE_NOTIFY:
		/* 4.1.4.10 / 2.9: the value written is the queue index. */
		if (v >= vd->num_queues) {
			log_rl(LOG_WARN, "%s: notify of queue %u: no such queue", vd->name, v);
			return -EINVAL;
		}
		vdev_kick(vd, v);
		return 0;
	case PCI_LEGACY_STATUS:
		if ((uint8_t)v == 0)
			pci_func_reset_regs(&pl->f);
		vdev_set_status(vd, (uint8_t)v);
		return 0;
	case PCI_LEGACY_CONFIG_VECTOR:
		pl->f.config_vector = pci_func_checked_vector(&pl->f, (uint16_t)v);
		return 0;
	default:
		break;
	}
	if (!queue_selected(pl))
		return 0;	/* writes to an absent queue are ignored */
	switch (r->off) {
	case PCI_LEGACY_QUEUE_PFN:
		queue_set_pfn(pl, qs, v);
		return 0;
	case PCI_LEGACY_QUEUE_VECTOR:
		pl->f.queue_vector[qs] = pci_func_checked_vector(&pl->f, (uint16_t)v);
		return 0;
	default:
		return 0;	/* read-only registers: writes are ignored */
	}
}

static int bar0_access(struct pci_legacy *pl, uint64_t off, void *buf,
		       uint32_t len, bool write)
{
	struct vdev *vd = pl->f.t.vdev;
	bool msix = pci_func_msix_active(&pl->f);
	unsigned cfg_off = msix ? PCI_LEGACY_CONFIG_OFF_MSIX : PCI_LEGACY_CONFIG_OFF;
	const struct legacy_reg *r;
	uint32_t v = 0;

	if (off >= cfg_off) {
		uint32_t coff = (uint32_t)(off - cfg_off);

		/* Device configuration: 8, 16 or 32 bits, naturally aligned. */
		if ((len != 1 && len != 2 && len != 4) || coff % len) {
			log_rl(LOG_WARN, "%s: device config %s of %u bytes at %u: bad width or alignment",
			       vd->name, write ? "write" : "read", len, coff);
			return -EINVAL;
		}
		if (write) {
			/* 5.1.4.2: the driver must not write the net config
			 * (a legacy driver may try to set the MAC). */
			log_rl(LOG_WARN, "%s: driver wrote device config at %u; ignored",
			       vd->name, coff);
			return 0;
		}
		return vdev_config_read(vd, coff, buf, len);
	}
	r = legacy_reg_at(off, len, msix);
	if (!r) {
		log_rl(LOG_WARN, "%s: legacy register %s of %u bytes at %llu: no such register",
		       vd->name, write ? "write" : "read", len, (unsigned long long)off);
		return -EINVAL;
	}
	if (write) {
		memcpy(&v, buf, len);
		return reg_write(pl, r, v);
	}
	v = reg_read(pl, r);
	memcpy(buf, &v, len);
	return 0;
}

/* ---- transport ops --------------------------------------------------- */

/* Every queue is kicked through the one notify register, so each
 * doorbell matches its queue index (a KVM-style DATAMATCH ioeventfd). */
static unsigned pl_notify_areas(struct transport *t, uint32_t region,
				struct transport_notify_area *out, unsigned max)
{
	unsigned n = 0;

	if (region != PCI_FUNC_REGION_BAR0)
		return 0;
	for (unsigned q = 0; q < t->vdev->num_queues && n < max; q++, n++) {
		out[n].region = PCI_FUNC_REGION_BAR0;
		out[n].offset = PCI_LEGACY_QUEUE_NOTIFY;
		out[n].size = 2;
		out[n].has_datamatch = true;
		out[n].datamatch = q;
		out[n].fd = vdev_queue_kick_fd(t->vdev, q);
	}
	return n;
}

static int pl_bar0_access(struct pci_func *f, uint64_t off, void *buf,
			  uint32_t len, bool write)
{
	return bar0_access(container_of(f, struct pci_legacy, f), off, buf, len, write);
}

static void pl_reset_regs(struct pci_func *f)
{
	container_of(f, struct pci_legacy, f)->queue_select = 0;
}

static void pl_save_regs(const struct pci_func *f, uint32_t *regs)
{
	regs[0] = container_of(f, const struct pci_legacy, f)->queue_select;
}

static int pl_load_regs(struct pci_func *f, const uint32_t *regs, char *why, size_t whylen)
{
	if (regs[0] > UINT16_MAX || regs[1] || regs[2] || regs[3]) {
		snprintf(why, whylen, "PCI transport record: queue_select 0x%x or a reserved register is out of range",
			 regs[0]);
		return -EINVAL;
	}
	container_of(f, struct pci_legacy, f)->queue_select = (uint16_t)regs[0];
	return 0;
}

static const struct pci_func_ops pci_legacy_fops = {
	.bar0_access = pl_bar0_access,
	.reset_regs = pl_reset_regs,
	.save_regs = pl_save_regs,
	.load_regs = pl_load_regs,
};

static const struct transport_ops pci_legacy_ops = {
	.name = "pci-legacy",
	.device_flags = TRANSPORT_DEV_PCI | TRANSPORT_DEV_RESET,
	.num_regions = PCI_FUNC_NUM_REGIONS,
	.num_irqs = PCI_FUNC_NUM_IRQS,
	.region_info = pci_func_region_info,
	.region_read = pci_func_region_read,
	.region_write = pci_func_region_write,
	.irq_info = pci_func_irq_info,
	.notify_areas = pl_notify_areas,
	.reset = pci_func_reset,
	.irqs_changed = pci_func_irqs_changed,
	.destroy = pci_func_destroy,
	.state_save = pci_func_state_save,
	.state_load = pci_func_state_load,
};

static void build_config_space(struct pci_legacy *pl)
{
	struct pci_cfg *c = &pl->f.cfg;

	/* 4.1.2.1 (transitional ids): device 0x1000, revision 0 (Linux's
	 * legacy driver wants VIRTIO_PCI_ABI_VERSION 0), subsystem device id
	 * = the virtio device type; class 0x020000 = Ethernet controller. */
	pci_cfg_init(c, VIRTIO_PCI_VENDOR_ID, VIRTIO_PCI_DEVICE_ID_NET_TRANS, 0,
		     0x020000, VIRTIO_PCI_VENDOR_ID, VIRTIO_ID_NET);
	pci_cfg_set_bar(c, 0, PCI_LEGACY_BAR0_SIZE, PCI_BAR_IO);
	pci_cfg_set_bar(c, 1, PCI_LEGACY_BAR1_SIZE, PCI_BAR_MEM32);
	pci_func_add_msix(&pl->f);
}

int pci_legacy_create(struct transport **out, struct vdev *vd)
{
	struct pci_legacy *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return -ENOMEM;
	pci_func_init(&pl->f, &pci_legacy_ops, &pci_legacy_fops, vd, PCI_LEGACY_BAR0_SIZE);
	build_config_space(pl);
	*out = &pl->f.t;
	return 0;
}
