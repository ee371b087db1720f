// SPDX-License-Identifier: MIT
/*
 * pci_legacy.c - virtio-pci legacy (0.9.5) transport (virtio 1.2,
 * 4.1.4.10): one I/O BAR with the legacy register block, the device
 * configuration after it, MSI-X or INTx + ISR, on top of the
 * transport-independent device model (vdev.c).
 *
 * Differences from the modern transport a driver sees:
 *  - only feature bits 0-31 exist, so VERSION_1 is never offered (vdev.c
 *    masks the device features for a legacy vdev);
 *  - the queue size is the device's (256) and read-only; the driver gives
 *    one page frame number and the three ring parts follow the legacy
 *    layout (2.7.2), the used ring aligned to 4096;
 *  - there is no FEATURES_OK step (3.1.2): vdev.c checks the features at
 *    DRIVER_OK;
 *  - the device configuration moves from offset 20 to 24 when MSI-X is
 *    enabled, making room for the two vector registers.
 */
#include "host/transport/pci_legacy.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "host/transport/legacy_vring.h"
#include "host/transport/pci_cfg.h"
#include "host/vdev.h"

#define REGION_BAR0   0
#define REGION_BAR1   1
#define REGION_CONFIG 7
#define NUM_REGIONS   9
#define NUM_IRQS      5

struct pci_legacy {
	struct transport t;
	struct pci_cfg cfg;
	uint8_t msix_cap;
	uint8_t msix_bar[PCI_LEGACY_BAR1_SIZE];	/* table + PBA, client-owned */
	/* registers the transport keeps */
	uint16_t queue_select;
	uint16_t config_vector;
	uint16_t queue_vector[VDEV_NUM_QUEUES];
	uint8_t isr;
};

static struct pci_legacy *to_pl(struct transport *t)
{
	return container_of(t, struct pci_legacy, t);
}

static bool msix_active(struct pci_legacy *pl)
{
	if (pci_cfg_get16(&pl->cfg, pl->msix_cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE)
		return true;
	/* VFIO semantics: binding MSI-X eventfds enables MSI-X. */
	for (unsigned i = 0; i < PCI_LEGACY_MSIX_VECTORS; i++)
		if (pl->t.irqs.fd[TRANSPORT_IRQ_MSIX][i] >= 0)
			return true;
	return false;
}

/* ---- INTx ------------------------------------------------------------ */

/* INTx is a level (asserted while ISR is non-zero) and its eventfd an
 * edge, so the line is AUTOMASKED as with vfio-pci: each delivery masks
 * it until the client's SET_IRQS UNMASK, and an unmask that finds ISR
 * still set delivers again.  Called wherever the level or the mask may
 * have changed; true when an interrupt was delivered. */
static bool intx_update(struct pci_legacy *pl)
{
	if (!pl->isr || msix_active(pl) ||
	    (pci_cfg_get16(&pl->cfg, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE))
		return false;
	if (!transport_fire(&pl->t, TRANSPORT_IRQ_INTX, 0))
		return false;
	pl->t.irqs.masked[TRANSPORT_IRQ_INTX][0] = true;
	return true;
}

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
	return pl->queue_select < VDEV_NUM_QUEUES;
}

static uint16_t checked_vector(uint16_t v)
{
	/* 4.1.5.1.2: a vector the device cannot use reads back NO_VECTOR
	 * (legacy drivers check the read-back the same way). */
	return v < PCI_LEGACY_MSIX_VECTORS ? v : VIRTIO_MSI_NO_VECTOR;
}

static void transport_reset_state(struct pci_legacy *pl)
{
	pl->queue_select = 0;
	pl->config_vector = VIRTIO_MSI_NO_VECTOR;
	for (unsigned i = 0; i < VDEV_NUM_QUEUES; i++)
		pl->queue_vector[i] = VIRTIO_MSI_NO_VECTOR;
	pl->isr = 0;
}

/* 4.1.4.10: the driver writes the page frame number of a ring it laid out
 * as in 2.7.2 for the size we report; 0 means "stop using the queue". */
static void queue_set_pfn(struct pci_legacy *pl, unsigned q, uint32_t pfn)
{
	struct vdev *vd = pl->t.vdev;
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
	struct vdev *vd = pl->t.vdev;
	const struct vdev_queue *q = queue_selected(pl) ? &vd->q[pl->queue_select] : NULL;
	uint8_t isr;

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
		isr = pl->isr;
		pl->isr = 0;
		return isr;
	case PCI_LEGACY_CONFIG_VECTOR:
		return pl->config_vector;
	case PCI_LEGACY_QUEUE_VECTOR:
		return q ? pl->queue_vector[pl->queue_select] : VIRTIO_MSI_NO_VECTOR;
	default:
		return 0;	/* queue notify is write-only */
	}
}

static int reg_write(struct pci_legacy *pl, const struct legacy_reg *r, uint32_t v)
{
	struct vdev *vd = pl->t.vdev;
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
		if (v >= VDEV_NUM_QUEUES) {
			log_rl(LOG_WARN, "%s: notify of queue %u: no such queue", vd->name, v);
			return -EINVAL;
		}
		vdev_kick(vd, v);
		return 0;
	case PCI_LEGACY_STATUS:
		if ((uint8_t)v == 0)
			transport_reset_state(pl);
		vdev_set_status(vd, (uint8_t)v);
		return 0;
	case PCI_LEGACY_CONFIG_VECTOR:
		pl->config_vector = checked_vector((uint16_t)v);
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
		pl->queue_vector[qs] = checked_vector((uint16_t)v);
		return 0;
	default:
		return 0;	/* read-only registers: writes are ignored */
	}
}

static int bar0_access(struct pci_legacy *pl, uint64_t off, void *buf,
		       uint32_t len, bool write)
{
	struct vdev *vd = pl->t.vdev;
	bool msix = msix_active(pl);
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

/* ---- config space and BARs ------------------------------------------- */

static int config_access(struct pci_legacy *pl, uint64_t off, void *buf,
			 uint32_t len, bool write)
{
	if (!pci_cfg_access_ok(off, len))
		return -EINVAL;
	if (!write) {
		pci_cfg_read(&pl->cfg, (unsigned)off, buf, len);
		return 0;
	}
	pci_cfg_write(&pl->cfg, (unsigned)off, buf, len);
	/* Clearing INTx-disable (or MSI-X enable) with ISR set asserts
	 * the line. */
	intx_update(pl);
	return 0;
}

static int bar_access(struct pci_legacy *pl, uint32_t region, uint64_t off,
		      void *buf, uint32_t len, bool write)
{
	uint64_t size = region == REGION_BAR0 ? PCI_LEGACY_BAR0_SIZE : PCI_LEGACY_BAR1_SIZE;

	if (len == 0 || len > 8 || off >= size || len > size - off)
		return -EINVAL;
	if (region == REGION_BAR0)
		return bar0_access(pl, off, buf, len, write);
	/* BAR1: the MSI-X table and PBA are owned by the vfio-user client
	 * (as with VFIO); we keep what it writes so reads are coherent. */
	if (write)
		memcpy(&pl->msix_bar[off], buf, len);
	else
		memcpy(buf, &pl->msix_bar[off], len);
	return 0;
}

/* ---- transport ops --------------------------------------------------- */

static int pl_region_info(struct transport *t, uint32_t index, uint64_t *size,
			  uint32_t *flags)
{
	(void)t;
	if (index >= NUM_REGIONS)
		return -EINVAL;
	*flags = TRANSPORT_REGION_READ | TRANSPORT_REGION_WRITE;
	switch (index) {
	case REGION_BAR0:
		*size = PCI_LEGACY_BAR0_SIZE;	/* I/O: the client reads the
						 * BAR's type in config space */
		break;
	case REGION_BAR1:
		*size = PCI_LEGACY_BAR1_SIZE;
		break;
	case REGION_CONFIG:
		*size = PCI_CFG_SPACE_SIZE;
		break;
	default:
		*size = 0;
		*flags = 0;
	}
	return 0;
}

static int pl_region_access(struct transport *t, uint32_t index, uint64_t off,
			    void *buf, uint32_t len, bool write)
{
	struct pci_legacy *pl = to_pl(t);

	if (index == REGION_CONFIG)
		return config_access(pl, off, buf, len, write);
	if (index == REGION_BAR0 || index == REGION_BAR1)
		return bar_access(pl, index, off, buf, len, write);
	return -EINVAL;
}

static int pl_region_read(struct transport *t, uint32_t index, uint64_t off,
			  void *buf, uint32_t len)
{
	return pl_region_access(t, index, off, buf, len, false);
}

static int pl_region_write(struct transport *t, uint32_t index, uint64_t off,
			   const void *buf, uint32_t len)
{
	uint8_t tmp[PCI_CFG_SPACE_SIZE];

	if (len > sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, buf, len);
	return pl_region_access(t, index, off, tmp, len, true);
}

static int pl_irq_info(struct transport *t, uint32_t index, uint32_t *count,
		       uint32_t *flags)
{
	(void)t;
	if (index >= NUM_IRQS)
		return -EINVAL;
	*flags = TRANSPORT_IRQ_EVENTFD;
	switch (index) {
	case TRANSPORT_IRQ_INTX:
		*count = 1;
		*flags |= TRANSPORT_IRQ_MASKABLE | TRANSPORT_IRQ_AUTOMASKED;
		break;
	case TRANSPORT_IRQ_MSIX:
		*count = PCI_LEGACY_MSIX_VECTORS;
		break;
	default:
		*count = 0;
	}
	return 0;
}

/* Every queue is kicked through the one notify register, so each
 * doorbell matches its queue index (a KVM-style DATAMATCH ioeventfd). */
static unsigned pl_notify_areas(struct transport *t, uint32_t region,
				struct transport_notify_area *out, unsigned max)
{
	unsigned n = 0;

	if (region != REGION_BAR0)
		return 0;
	for (unsigned q = 0; q < VDEV_NUM_QUEUES && n < max; q++, n++) {
		out[n].region = REGION_BAR0;
		out[n].offset = PCI_LEGACY_QUEUE_NOTIFY;
		out[n].size = 2;
		out[n].has_datamatch = true;
		out[n].datamatch = q;
		out[n].fd = t->vdev->q[q].kick_fd;
	}
	return n;
}

static void pl_reset(struct transport *t)
{
	transport_reset_state(to_pl(t));
	vdev_reset(t->vdev);
}

static void pl_irqs_changed(struct transport *t, uint32_t index)
{
	/* An unmask, a new INTx eventfd or MSI-X going away may let a
	 * pending ISR through. */
	(void)index;
	intx_update(to_pl(t));
}

static bool pl_raise(struct transport *t, int q)
{
	struct pci_legacy *pl = to_pl(t);
	uint16_t vec;

	if (q == TRANSPORT_CONFIG_IRQ) {
		pl->isr |= VIRTIO_PCI_ISR_CONFIG;
		vec = pl->config_vector;
	} else if (q >= 0 && q < VDEV_NUM_QUEUES) {
		vec = pl->queue_vector[q];
	} else {
		return false;
	}
	if (msix_active(pl)) {
		if (vec == VIRTIO_MSI_NO_VECTOR)
			return false;
		return transport_fire(t, TRANSPORT_IRQ_MSIX, vec);
	}
	/* INTx: the ISR bit is set before the interrupt (4.1.5.3, 4.1.5.4). */
	if (q != TRANSPORT_CONFIG_IRQ)
		pl->isr |= VIRTIO_PCI_ISR_QUEUE;
	return intx_update(pl);
}

static void pl_destroy(struct transport *t)
{
	free(to_pl(t));
}

static const struct transport_ops pci_legacy_ops = {
	.name = "pci-legacy",
	.device_flags = TRANSPORT_DEV_PCI | TRANSPORT_DEV_RESET,
	.num_regions = NUM_REGIONS,
	.num_irqs = NUM_IRQS,
	.region_info = pl_region_info,
	.region_read = pl_region_read,
	.region_write = pl_region_write,
	.irq_info = pl_irq_info,
	.notify_areas = pl_notify_areas,
	.reset = pl_reset,
	.irqs_changed = pl_irqs_changed,
	.raise = pl_raise,
	.destroy = pl_destroy,
};

static void build_config_space(struct pci_legacy *pl)
{
	uint8_t msix[12] = { 0 };
	struct pci_cfg *c = &pl->cfg;

	/* 4.1.2.1 (transitional ids): device 0x1000, revision 0 (Linux's
	 * legacy driver wants VIRTIO_PCI_ABI_VERSION 0), subsystem device id
	 * = the virtio device type; class 0x020000 = Ethernet controller. */
	pci_cfg_init(c, VIRTIO_PCI_VENDOR_ID, VIRTIO_PCI_DEVICE_ID_NET_TRANS, 0,
		     0x020000, VIRTIO_PCI_VENDOR_ID, VIRTIO_ID_NET);
	pci_cfg_set_bar(c, 0, PCI_LEGACY_BAR0_SIZE, PCI_BAR_IO);
	pci_cfg_set_bar(c, 1, PCI_LEGACY_BAR1_SIZE, PCI_BAR_MEM32);
	/* MSI-X (PCI 3.0 6.8.2): table size N-1, table in BAR1 at 0, PBA at
	 * 0x800; enable and function-mask bits are the driver's. */
	msix[PCI_MSIX_FLAGS] = PCI_LEGACY_MSIX_VECTORS - 1;
	msix[PCI_MSIX_TABLE] = REGION_BAR1;
	msix[PCI_MSIX_PBA] = (uint8_t)(PCI_LEGACY_MSIX_PBA_OFF | REGION_BAR1);
	msix[PCI_MSIX_PBA + 1] = (uint8_t)(PCI_LEGACY_MSIX_PBA_OFF >> 8);
	pl->msix_cap = pci_cfg_add_cap(c, PCI_CAP_ID_MSIX, msix, sizeof(msix));
	pci_cfg_set_wmask(c, pl->msix_cap + PCI_MSIX_FLAGS + 1u, 1,
			  (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8);
}

int pci_legacy_create(struct transport **out, struct vdev *vd)
{
	struct pci_legacy *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return -ENOMEM;
	pl->t.ops = &pci_legacy_ops;
	pl->t.vdev = vd;
	transport_irqs_init(&pl->t.irqs);
	transport_reset_state(pl);
	build_config_space(pl);
	*out = &pl->t;
	return 0;
}
