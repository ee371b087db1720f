// SPDX-License-Identifier: MIT
/*
 * pci_modern.c - virtio-pci 1.x transport (virtio 1.2, 4.1.4): the
 * configuration space with the virtio vendor capabilities, the common
 * configuration registers, ISR, device configuration, notify area and
 * MSI-X, on top of the transport-independent device model (vdev.c).
 */
#include "host/transport/pci_modern.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "host/transport/pci_cfg.h"
#include "host/vdev.h"

#define REGION_BAR0   0
#define REGION_BAR1   1
#define REGION_CONFIG 7
#define NUM_REGIONS   9
#define NUM_IRQS      5

struct pci_modern {
	struct transport t;
	struct pci_cfg cfg;
	uint8_t pci_cfg_cap;		/* offset of the PCI_CFG capability */
	uint8_t msix_cap;
	uint8_t msix_bar[PCI_MODERN_BAR1_SIZE];	/* table + PBA, client-owned */
	/* common configuration registers the transport keeps (4.1.4.3) */
	uint32_t device_feature_select;
	uint32_t driver_feature_select;
	uint16_t queue_select;
	uint16_t config_vector;
	uint16_t queue_vector[VDEV_NUM_QUEUES];
	uint8_t isr;
};

static struct pci_modern *to_pm(struct transport *t)
{
	return container_of(t, struct pci_modern, t);
}

/* ---- common configuration (4.1.4.3) ---------------------------------- */

struct common_field {
	uint16_t off;
	uint8_t width;
};

/* Every field with its natural width (4.1.3.1: the driver accesses each
 * field with its own width; 64-bit fields may be two 32-bit halves). */
static const struct common_field common_fields[] = {
	{ offsetof(struct virtio_pci_common_cfg, device_feature_select), 4 },
	{ offsetof(struct virtio_pci_common_cfg, device_feature), 4 },
	{ offsetof(struct virtio_pci_common_cfg, driver_feature_select), 4 },
	{ offsetof(struct virtio_pci_common_cfg, driver_feature), 4 },
	{ offsetof(struct virtio_pci_common_cfg, config_msix_vector), 2 },
	{ offsetof(struct virtio_pci_common_cfg, num_queues), 2 },
	{ offsetof(struct virtio_pci_common_cfg, device_status), 1 },
	{ offsetof(struct virtio_pci_common_cfg, config_generation), 1 },
	{ offsetof(struct virtio_pci_common_cfg, queue_select), 2 },
	{ offsetof(struct virtio_pci_common_cfg, queue_size), 2 },
	{ offsetof(struct virtio_pci_common_cfg, queue_msix_vector), 2 },
	{ offsetof(struct virtio_pci_common_cfg, queue_enable), 2 },
	{ offsetof(struct virtio_pci_common_cfg, queue_notify_off), 2 },
	{ offsetof(struct virtio_pci_common_cfg, queue_desc), 8 },
	{ offsetof(struct virtio_pci_common_cfg, queue_driver), 8 },
	{ offsetof(struct virtio_pci_common_cfg, queue_device), 8 },
	{ offsetof(struct virtio_pci_common_cfg, queue_notify_data), 2 },
	{ offsetof(struct virtio_pci_common_cfg, queue_reset), 2 },
};

/* The field an access hits, and the byte offset within it (0 or 4 for
 * the halves of a 64-bit field); NULL for a bad offset or width. */
static const struct common_field *common_field_at(uint64_t off, uint32_t len,
						  unsigned *within)
{
	for (size_t i = 0; i < sizeof(common_fields) / sizeof(common_fields[0]); i++) {
		const struct common_field *f = &common_fields[i];

		if (off == f->off && len == f->width) {
			*within = 0;
			return f;
		}
		if (f->width == 8 && len == 4 && (off == f->off || off == f->off + 4u)) {
			*within = (unsigned)(off - f->off);
			return f;
		}
	}
	return NULL;
}

static bool queue_selected(const struct pci_modern *pm)
{
	return pm->queue_select < VDEV_NUM_QUEUES;
}

static uint64_t queue_addr(const struct vdev_queue *q, uint16_t off)
{
	if (off == offsetof(struct virtio_pci_common_cfg, queue_desc))
		return q->addrs.desc;
	if (off == offsetof(struct virtio_pci_common_cfg, queue_driver))
		return q->addrs.driver;
	return q->addrs.device;
}

static uint64_t common_read(struct pci_modern *pm, const struct common_field *f)
{
	struct vdev *vd = pm->t.vdev;
	const struct vdev_queue *q = queue_selected(pm) ? &vd->q[pm->queue_select] : NULL;

	switch (f->off) {
	case offsetof(struct virtio_pci_common_cfg, device_feature_select):
		return pm->device_feature_select;
	case offsetof(struct virtio_pci_common_cfg, device_feature):
		return vdev_device_features_window(vd, pm->device_feature_select);
	case offsetof(struct virtio_pci_common_cfg, driver_feature_select):
		return pm->driver_feature_select;
	case offsetof(struct virtio_pci_common_cfg, driver_feature):
		return vdev_driver_features_window(vd, pm->driver_feature_select);
	case offsetof(struct virtio_pci_common_cfg, config_msix_vector):
		return pm->config_vector;
	case offsetof(struct virtio_pci_common_cfg, num_queues):
		return VDEV_NUM_QUEUES;
	case offsetof(struct virtio_pci_common_cfg, device_status):
		return vd->status;
	case offsetof(struct virtio_pci_common_cfg, config_generation):
		return vd->config_generation;
	case offsetof(struct virtio_pci_common_cfg, queue_select):
		return pm->queue_select;
	case offsetof(struct virtio_pci_common_cfg, queue_size):
		return q ? q->size : 0;	/* 0: queue not available */
	case offsetof(struct virtio_pci_common_cfg, queue_msix_vector):
		return q ? pm->queue_vector[pm->queue_select] : VIRTIO_MSI_NO_VECTOR;
	case offsetof(struct virtio_pci_common_cfg, queue_enable):
		return q ? q->enabled : 0;
	case offsetof(struct virtio_pci_common_cfg, queue_notify_off):
	case offsetof(struct virtio_pci_common_cfg, queue_notify_data):
		return q ? pm->queue_select : 0;
	case offsetof(struct virtio_pci_common_cfg, queue_desc):
	case offsetof(struct virtio_pci_common_cfg, queue_driver):
	case offsetof(struct virtio_pci_common_cfg, queue_device):
		return q ? queue_addr(q, f->off) : 0;
	default:
		return 0;	/* queue_reset: RING_RESET is not offered */
	}
}

static uint16_t checked_vector(uint16_t v)
{
	/* 4.1.5.1.2: a vector the device cannot use reads back NO_VECTOR. */
	return v < PCI_MODERN_MSIX_VECTORS ? v : VIRTIO_MSI_NO_VECTOR;
}

static void transport_reset_state(struct pci_modern *pm)
{
	pm->device_feature_select = 0;
	pm->driver_feature_select = 0;
	pm->queue_select = 0;
	pm->config_vector = VIRTIO_MSI_NO_VECTOR;
	for (unsigned i = 0; i < VDEV_NUM_QUEUES; i++)
		pm->queue_vector[i] = VIRTIO_MSI_NO_VECTOR;
	pm->isr = 0;
}

static void common_write(struct pci_modern *pm, const struct common_field *f,
			 unsigned within, uint32_t len, uint64_t v)
{
	struct vdev *vd = pm->t.vdev;
	unsigned qs = pm->queue_select;

	switch (f->off) {
	case offsetof(struct virtio_pci_common_cfg, device_feature_select):
		pm->device_feature_select = (uint32_t)v;
		return;
	case offsetof(struct virtio_pci_common_cfg, driver_feature_select):
		pm->driver_feature_select = (uint32_t)v;
		return;
	case offsetof(struct virtio_pci_common_cfg, driver_feature):
		vdev_set_driver_features_window(vd, pm->driver_feature_select, (uint32_t)v);
		return;
	case offsetof(struct virtio_pci_common_cfg, config_msix_vector):
		pm->config_vector = checked_vector((uint16_t)v);
		return;
	case offsetof(struct virtio_pci_common_cfg, device_status):
		if ((uint8_t)v == 0)
			transport_reset_state(pm);
		vdev_set_status(vd, (uint8_t)v);
		return;
	case offsetof(struct virtio_pci_common_cfg, queue_select):
		pm->queue_select = (uint16_t)v;
		return;
	default:
		break;
	}
	if (!queue_selected(pm))
		return;		/* writes to an absent queue are ignored */
	switch (f->off) {
	case offsetof(struct virtio_pci_common_cfg, queue_size):
		vdev_queue_set_size(vd, qs, (uint16_t)v);
		return;
	case offsetof(struct virtio_pci_common_cfg, queue_msix_vector):
		pm->queue_vector[qs] = checked_vector((uint16_t)v);
		return;
	case offsetof(struct virtio_pci_common_cfg, queue_enable):
		/* 4.1.4.3.2: the driver never writes 0; reset disables. */
		if (v == 1)
			vdev_queue_enable(vd, qs);
		return;
	case offsetof(struct virtio_pci_common_cfg, queue_desc):
	case offsetof(struct virtio_pci_common_cfg, queue_driver):
	case offsetof(struct virtio_pci_common_cfg, queue_device): {
		unsigned which = f->off == offsetof(struct virtio_pci_common_cfg, queue_desc) ? 0 :
				 f->off == offsetof(struct virtio_pci_common_cfg, queue_driver) ? 1 : 2;
		uint64_t old = queue_addr(&vd->q[qs], f->off);

		/* A 64-bit field written as two 32-bit halves (4.1.3.1). */
		if (within == 4)
			v = (old & 0xffffffffu) | (v << 32);
		else if (len == 4)
			v = (old & ~UINT64_C(0xffffffff)) | (v & 0xffffffffu);
		vdev_queue_set_addr(vd, qs, which, v);
		return;
	}
	default:
		return;	/* read-only fields: writes are ignored */
	}
}

static int common_access(struct pci_modern *pm, uint64_t off, void *buf,
			 uint32_t len, bool write)
{
	unsigned within = 0;
	const struct common_field *f = common_field_at(off, len, &within);
	uint64_t v = 0;

	if (!f) {
		log_rl(LOG_WARN, "%s: common cfg %s of %u bytes at 0x%llx: no such field",
		       pm->t.vdev->name, write ? "write" : "read", len,
		       (unsigned long long)off);
		return -EINVAL;
	}
	if (write) {
		memcpy(&v, buf, len);
		common_write(pm, f, within, len, v);
		return 0;
	}
	v = common_read(pm, f) >> (8 * within);
	memcpy(buf, &v, len);
	return 0;
}

/* ---- BAR0 ------------------------------------------------------------ */

static int bar0_access(struct pci_modern *pm, uint64_t off, void *buf,
		       uint32_t len, bool write)
{
	struct vdev *vd = pm->t.vdev;

	if (off < PCI_MODERN_COMMON_LEN)
		return common_access(pm, off, buf, len, write);
	if (off >= PCI_MODERN_ISR_OFF && off < PCI_MODERN_ISR_OFF + PCI_MODERN_ISR_LEN) {
		if (write)
			return 0;
		memset(buf, 0, len);
		if (off == PCI_MODERN_ISR_OFF) {
			/* 4.1.4.5: reading ISR returns and clears it. */
			((uint8_t *)buf)[0] = pm->isr;
			pm->isr = 0;
		}
		return 0;
	}
	if (off >= PCI_MODERN_DEVICE_OFF && off < PCI_MODERN_DEVICE_OFF + PCI_MODERN_DEVICE_LEN) {
		if (write) {
			/* 5.1.4.2: the driver must not write the net config. */
			log_rl(LOG_WARN, "%s: driver wrote device config at 0x%llx; ignored",
			       vd->name, (unsigned long long)(off - PCI_MODERN_DEVICE_OFF));
			return 0;
		}
		return vdev_config_read(vd, (uint32_t)(off - PCI_MODERN_DEVICE_OFF), buf, len);
	}
	if (off >= PCI_MODERN_NOTIFY_OFF &&
	    off < PCI_MODERN_NOTIFY_OFF + PCI_MODERN_NOTIFY_MULT * VDEV_NUM_QUEUES) {
		unsigned q = (unsigned)(off - PCI_MODERN_NOTIFY_OFF) / PCI_MODERN_NOTIFY_MULT;

		if (!write) {
			memset(buf, 0, len);
			return 0;
		}
		if ((off - PCI_MODERN_NOTIFY_OFF) % PCI_MODERN_NOTIFY_MULT || (len != 2 && len != 4))
			return -EINVAL;
		/* 4.1.5.2: the value is the queue index; the address says the
		 * same, and the address is what we trust. */
		vdev_kick(vd, q);
		return 0;
	}
	if (!write)
		memset(buf, 0, len);	/* holes read as zero */
	return 0;
}

/* ---- config space ---------------------------------------------------- */

static bool msix_active(struct pci_modern *pm)
{
	if (pci_cfg_get16(&pm->cfg, pm->msix_cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE)
		return true;
	/* VFIO semantics: binding MSI-X eventfds enables MSI-X. */
	for (unsigned i = 0; i < PCI_MODERN_MSIX_VECTORS; i++)
		if (pm->t.irqs.fd[TRANSPORT_IRQ_MSIX][i] >= 0)
			return true;
	return false;
}

/* INTx is a level (asserted while ISR is non-zero) and its eventfd an
 * edge, so the line is AUTOMASKED as with vfio-pci: each delivery masks
 * it until the client's SET_IRQS UNMASK, and an unmask that finds ISR
 * still set delivers again.  Called wherever the level or the mask may
 * have changed; true when an interrupt was delivered. */
static bool intx_update(struct pci_modern *pm)
{
	if (!pm->isr || msix_active(pm) ||
	    (pci_cfg_get16(&pm->cfg, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE))
		return false;
	if (!transport_fire(&pm->t, TRANSPORT_IRQ_INTX, 0))
		return false;
	pm->t.irqs.masked[TRANSPORT_IRQ_INTX][0] = true;
	return true;
}

static int bar_access(struct pci_modern *pm, uint32_t region, uint64_t off,
		      void *buf, uint32_t len, bool write);

/* 4.1.4.9: the PCI_CFG capability is a window into the BARs. */
static int pci_cfg_window(struct pci_modern *pm, void *buf, uint32_t len, bool write)
{
	unsigned cap = pm->pci_cfg_cap;
	uint8_t bar = pm->cfg.data[cap + 4];
	uint32_t off = pci_cfg_get32(&pm->cfg, cap + 8);
	uint32_t wlen = pci_cfg_get32(&pm->cfg, cap + 12);
	uint8_t tmp[4] = { 0 };

	if ((wlen != 1 && wlen != 2 && wlen != 4) || wlen > len || bar > 1) {
		if (!write)
			memset(buf, 0, len);
		return 0;
	}
	if (write) {
		memcpy(tmp, buf, wlen);
		return bar_access(pm, bar, off, tmp, wlen, true);
	}
	memset(buf, 0, len);
	return bar_access(pm, bar, off, buf, wlen, false);
}

static int config_access(struct pci_modern *pm, uint64_t off, void *buf,
			 uint32_t len, bool write)
{
	unsigned data_off = pm->pci_cfg_cap + 16u;

	if (!pci_cfg_access_ok(off, len))
		return -EINVAL;
	if (off == data_off && len <= 4)
		return pci_cfg_window(pm, buf, len, write);
	if (!write) {
		pci_cfg_read(&pm->cfg, (unsigned)off, buf, len);
		return 0;
	}
	pci_cfg_write(&pm->cfg, (unsigned)off, buf, len);
	/* Clearing INTx-disable (or MSI-X enable) with ISR set asserts
	 * the line. */
	intx_update(pm);
	return 0;
}

static int bar_access(struct pci_modern *pm, uint32_t region, uint64_t off,
		      void *buf, uint32_t len, bool write)
{
	uint64_t size = region == REGION_BAR0 ? PCI_MODERN_BAR0_SIZE : PCI_MODERN_BAR1_SIZE;

	if (len == 0 || len > 8 || off >= size || len > size - off)
		return -EINVAL;
	if (region == REGION_BAR0)
		return bar0_access(pm, off, buf, len, write);
	/* BAR1: the MSI-X table and PBA are owned by the vfio-user client
	 * (as with VFIO); we keep what it writes so reads are coherent. */
	if (write)
		memcpy(&pm->msix_bar[off], buf, len);
	else
		memcpy(buf, &pm->msix_bar[off], len);
	return 0;
}

/* ---- transport ops --------------------------------------------------- */

static int pm_region_info(struct transport *t, uint32_t index, uint64_t *size,
			  uint32_t *flags)
{
	if (index >= NUM_REGIONS)
		return -EINVAL;
	*flags = TRANSPORT_REGION_READ | TRANSPORT_REGION_WRITE;
	switch (index) {
	case REGION_BAR0:
		*size = PCI_MODERN_BAR0_SIZE;
		break;
	case REGION_BAR1:
		*size = PCI_MODERN_BAR1_SIZE;
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

static int pm_region_access(struct transport *t, uint32_t index, uint64_t off,
			    void *buf, uint32_t len, bool write)
{
	struct pci_modern *pm = to_pm(t);

	if (index == REGION_CONFIG)
		return config_access(pm, off, buf, len, write);
	if (index == REGION_BAR0 || index == REGION_BAR1)
		return bar_access(pm, index, off, buf, len, write);
	return -EINVAL;
}

static int pm_region_read(struct transport *t, uint32_t index, uint64_t off,
			  void *buf, uint32_t len)
{
	return pm_region_access(t, index, off, buf, len, false);
}

static int pm_region_write(struct transport *t, uint32_t index, uint64_t off,
			   const void *buf, uint32_t len)
{
	uint8_t tmp[PCI_CFG_SPACE_SIZE];

	if (len > sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, buf, len);
	return pm_region_access(t, index, off, tmp, len, true);
}

static int pm_irq_info(struct transport *t, uint32_t index, uint32_t *count,
		       uint32_t *flags)
{
	if (index >= NUM_IRQS)
		return -EINVAL;
	*flags = TRANSPORT_IRQ_EVENTFD;
	switch (index) {
	case TRANSPORT_IRQ_INTX:
		*count = 1;
		*flags |= TRANSPORT_IRQ_MASKABLE | TRANSPORT_IRQ_AUTOMASKED;
		break;
	case TRANSPORT_IRQ_MSIX:
		*count = PCI_MODERN_MSIX_VECTORS;
		break;
	default:
		*count = 0;
	}
	return 0;
}

static unsigned pm_notify_areas(struct transport *t, uint32_t region,
				struct transport_notify_area *out, unsigned max)
{
	unsigned n = 0;

	if (region != REGION_BAR0)
		return 0;
	for (unsigned q = 0; q < VDEV_NUM_QUEUES && n < max; q++, n++) {
		out[n].region = REGION_BAR0;
		out[n].offset = PCI_MODERN_NOTIFY_OFF + q * PCI_MODERN_NOTIFY_MULT;
		out[n].size = 2;
		out[n].has_datamatch = false;	/* one address per queue */
		out[n].datamatch = 0;
		out[n].fd = t->vdev->q[q].kick_fd;
	}
	return n;
}

static void pm_reset(struct transport *t)
{
	struct pci_modern *pm = to_pm(t);

	transport_reset_state(pm);
	pci_cfg_function_reset(&pm->cfg, pm->msix_cap);
	vdev_reset(t->vdev);
}

static void pm_irqs_changed(struct transport *t, uint32_t index)
{
	/* An unmask, a new INTx eventfd or MSI-X going away may let a
	 * pending ISR through. */
	(void)index;
	intx_update(to_pm(t));
}

static bool pm_raise(struct transport *t, int q)
{
	struct pci_modern *pm = to_pm(t);
	uint16_t vec;

	if (q == TRANSPORT_CONFIG_IRQ) {
		pm->isr |= VIRTIO_PCI_ISR_CONFIG;
		vec = pm->config_vector;
	} else {
		vec = pm->queue_vector[q];
	}
	if (msix_active(pm)) {
		if (vec == VIRTIO_MSI_NO_VECTOR)
			return false;
		return transport_fire(t, TRANSPORT_IRQ_MSIX, vec);
	}
	/* INTx: 4.1.5.3/4.1.5.4, the ISR bit is set before the interrupt. */
	if (q != TRANSPORT_CONFIG_IRQ)
		pm->isr |= VIRTIO_PCI_ISR_QUEUE;
	return intx_update(pm);
}

static void pm_destroy(struct transport *t)
{
	free(to_pm(t));
}

static const struct transport_ops pci_modern_ops = {
	.name = "pci-modern",
	.device_flags = TRANSPORT_DEV_PCI | TRANSPORT_DEV_RESET,
	.num_regions = NUM_REGIONS,
	.num_irqs = NUM_IRQS,
	.region_info = pm_region_info,
	.region_read = pm_region_read,
	.region_write = pm_region_write,
	.irq_info = pm_irq_info,
	.notify_areas = pm_notify_areas,
	.reset = pm_reset,
	.irqs_changed = pm_irqs_changed,
	.raise = pm_raise,
	.destroy = pm_destroy,
};

static void add_virtio_cap(struct pci_modern *pm, uint8_t type, uint8_t bar,
			   uint32_t off, uint32_t len)
{
	struct virtio_pci_cap cap = {
		.cap_len = sizeof(cap), .cfg_type = type, .bar = bar,
		.offset = off, .length = len,
	};

	pci_cfg_add_cap(&pm->cfg, PCI_CAP_ID_VNDR, &cap, sizeof(cap));
}

static void build_config_space(struct pci_modern *pm)
{
	struct virtio_pci_notify_cap ncap = {
		.cap = { .cap_len = sizeof(ncap), .cfg_type = VIRTIO_PCI_CAP_NOTIFY_CFG,
			 .bar = REGION_BAR0, .offset = PCI_MODERN_NOTIFY_OFF,
			 .length = PCI_MODERN_NOTIFY_MULT * VDEV_NUM_QUEUES },
		.notify_off_multiplier = PCI_MODERN_NOTIFY_MULT,
	};
	struct { struct virtio_pci_cap cap; uint8_t data[4]; } pcap = {
		.cap = { .cap_len = sizeof(pcap), .cfg_type = VIRTIO_PCI_CAP_PCI_CFG },
	};
	uint8_t msix[12] = { 0 };
	struct pci_cfg *c = &pm->cfg;

	/* 4.1.2: modern-only net device 0x1041, revision 1, subsystem >= 0x40
	 * so legacy drivers stay away; class 0x020000 = Ethernet controller. */
	pci_cfg_init(c, VIRTIO_PCI_VENDOR_ID, VIRTIO_PCI_DEVICE_ID_NET_MODERN, 1,
		     0x020000, VIRTIO_PCI_VENDOR_ID, 0x0040 + VIRTIO_ID_NET);
	pci_cfg_set_bar(c, 0, PCI_MODERN_BAR0_SIZE, PCI_BAR_MEM32);
	pci_cfg_set_bar(c, 1, PCI_MODERN_BAR1_SIZE, PCI_BAR_MEM32);
	add_virtio_cap(pm, VIRTIO_PCI_CAP_COMMON_CFG, REGION_BAR0, PCI_MODERN_COMMON_OFF,
		       PCI_MODERN_COMMON_LEN);
	pci_cfg_add_cap(c, PCI_CAP_ID_VNDR, &ncap, sizeof(ncap));
	add_virtio_cap(pm, VIRTIO_PCI_CAP_ISR_CFG, REGION_BAR0, PCI_MODERN_ISR_OFF,
		       PCI_MODERN_ISR_LEN);
	add_virtio_cap(pm, VIRTIO_PCI_CAP_DEVICE_CFG, REGION_BAR0, PCI_MODERN_DEVICE_OFF,
		       PCI_MODERN_DEVICE_LEN);
	pm->pci_cfg_cap = pci_cfg_add_cap(c, PCI_CAP_ID_VNDR, &pcap, sizeof(pcap));
	/* bar, offset, length and data of the PCI_CFG window are writable. */
	pci_cfg_set_wmask(c, pm->pci_cfg_cap + 4u, 1, 0xff);
	pci_cfg_set_wmask(c, pm->pci_cfg_cap + 8u, 8, 0xff);
	/* MSI-X (PCI 3.0 6.8.2): table size N-1, table in BAR1 at 0, PBA at
	 * 0x800; enable and function-mask bits are the driver's. */
	msix[PCI_MSIX_FLAGS] = PCI_MODERN_MSIX_VECTORS - 1;
	msix[PCI_MSIX_TABLE] = REGION_BAR1;
	msix[PCI_MSIX_PBA] = (uint8_t)(PCI_MODERN_MSIX_PBA_OFF | REGION_BAR1);
	msix[PCI_MSIX_PBA + 1] = (uint8_t)(PCI_MODERN_MSIX_PBA_OFF >> 8);
	pm->msix_cap = pci_cfg_add_cap(c, PCI_CAP_ID_MSIX, msix, sizeof(msix));
	pci_cfg_set_wmask(c, pm->msix_cap + PCI_MSIX_FLAGS + 1u, 1,
			  (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8);
}

int pci_modern_create(struct transport **out, struct vdev *vd)
{
	struct pci_modern *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return -ENOMEM;
	pm->t.ops = &pci_modern_ops;
	pm->t.vdev = vd;
	transport_irqs_init(&pm->t.irqs);
	transport_reset_state(pm);
	build_config_space(pm);
	*out = &pm->t;
	return 0;
}
