// SPDX-License-Identifier: MIT
/*
 * pci_modern.c - virtio-pci 1.x transport (virtio 1.2, 4.1.4): the
 * configuration space with the virtio vendor capabilities, the common
 * configuration registers, ISR, device configuration, notify area and
 * MSI-X, on top of the transport-independent device model (host/dev/).
 */
#include "host/transport/pci_modern.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "host/transport/pci_func.h"
#include "host/dev/vdev.h"

static_assert(PCI_MODERN_BAR1_SIZE == PCI_FUNC_BAR1_SIZE &&
	      PCI_MODERN_MSIX_VECTORS == PCI_FUNC_MSIX_MIN_VECTORS &&
	      PCI_MODERN_MSIX_PBA_OFF == PCI_FUNC_MSIX_PBA_OFF, "BAR1 as pci_func lays it out");

struct pci_modern {
	struct pci_func f;		/* first (pci_func.h) */
	uint8_t pci_cfg_cap;		/* offset of the PCI_CFG capability */
	/* common configuration registers only 1.x has (4.1.4.3) */
	uint32_t device_feature_select;
	uint32_t driver_feature_select;
	uint16_t queue_select;
};

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
	return pm->queue_select < pm->f.t.vdev->num_queues;
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
	struct vdev *vd = pm->f.t.vdev;
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
		return pm->f.config_vector;
	case offsetof(struct virtio_pci_common_cfg, num_queues):
		return vd->num_queues;
	case offsetof(struct virtio_pci_common_cfg, device_status):
		return vd->status;
	case offsetof(struct virtio_pci_common_cfg, config_generation):
		return vd->config_generation;
	case offsetof(struct virtio_pci_common_cfg, queue_select):
		return pm->queue_select;
	case offsetof(struct virtio_pci_common_cfg, queue_size):
		return q ? q->size : 0;	/* 0: queue not available */
	case offsetof(struct virtio_pci_common_cfg, queue_msix_vector):
		return q ? pm->f.queue_vector[pm->queue_select] : VIRTIO_MSI_NO_VECTOR;
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

static void pm_reset_regs(struct pci_func *f)
{
	struct pci_modern *pm = container_of(f, struct pci_modern, f);

	pm->device_feature_select = 0;
	pm->driver_feature_select = 0;
	pm->queue_select = 0;
}

static void common_write(struct pci_modern *pm, const struct common_field *f,
			 unsigned within, uint32_t len, uint64_t v)
{
	struct vdev *vd = pm->f.t.vdev;
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
		pm->f.config_vector = pci_func_checked_vector(&pm->f, (uint16_t)v);
		return;
	case offsetof(struct virtio_pci_common_cfg, device_status):
		if ((uint8_t)v == 0)
			pci_func_reset_regs(&pm->f);
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
		pm->f.queue_vector[qs] = pci_func_checked_vector(&pm->f, (uint16_t)v);
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
		       pm->f.t.vdev->name, write ? "write" : "read", len,
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
	struct vdev *vd = pm->f.t.vdev;

	if (off < PCI_MODERN_COMMON_LEN)
		return common_access(pm, off, buf, len, write);
	if (off >= PCI_MODERN_ISR_OFF && off < PCI_MODERN_ISR_OFF + PCI_MODERN_ISR_LEN) {
		if (write)
			return 0;
		memset(buf, 0, len);
		if (off == PCI_MODERN_ISR_OFF) {
			/* 4.1.4.5: reading ISR returns and clears it. */
			((uint8_t *)buf)[0] = pci_func_isr_read(&pm->f);
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
	    off < PCI_MODERN_NOTIFY_OFF + PCI_MODERN_NOTIFY_MULT * vd->num_queues) {
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

/* 4.1.4.9: the PCI_CFG capability is a window into the BARs. */
static int pci_cfg_window(struct pci_modern *pm, void *buf, uint32_t len, bool write)
{
	unsigned cap = pm->pci_cfg_cap;
	uint8_t bar = pm->f.cfg.data[cap + 4];
	uint32_t off = pci_cfg_get32(&pm->f.cfg, cap + 8);
	uint32_t wlen = pci_cfg_get32(&pm->f.cfg, cap + 12);
	uint8_t tmp[4] = { 0 };

	if ((wlen != 1 && wlen != 2 && wlen != 4) || wlen > len || bar > 1) {
		if (!write)
			memset(buf, 0, len);
		return 0;
	}
	if (write) {
		memcpy(tmp, buf, wlen);
		return pci_func_bar_access(&pm->f, bar, off, tmp, wlen, true);
	}
	memset(buf, 0, len);
	return pci_func_bar_access(&pm->f, bar, off, buf, wlen, false);
}

/* The PCI_CFG window's data field is ours; the rest of config space is
 * plain (pci_func.c). */
static int pm_config_hook(struct pci_func *f, uint64_t off, void *buf,
			  uint32_t len, bool write, int *rc)
{
	struct pci_modern *pm = container_of(f, struct pci_modern, f);

	if (off != pm->pci_cfg_cap + 16u || len > 4)
		return 0;
	*rc = pci_cfg_window(pm, buf, len, write);
	return 1;
}

static int pm_bar0_access(struct pci_func *f, uint64_t off, void *buf,
			  uint32_t len, bool write)
{
	return bar0_access(container_of(f, struct pci_modern, f), off, buf, len, write);
}

/* The selectors are plain values: reads past the features or queues
 * there are already answer 0 (4.1.4.3). */
static void pm_save_regs(const struct pci_func *f, uint32_t *regs)
{
	const struct pci_modern *pm = container_of(f, struct pci_modern, f);

	regs[0] = pm->device_feature_select;
	regs[1] = pm->driver_feature_select;
	regs[2] = pm->queue_select;
}

static int pm_load_regs(struct pci_func *f, const uint32_t *regs, char *why, size_t whylen)
{
	struct pci_modern *pm = container_of(f, struct pci_modern, f);

	if (regs[2] > UINT16_MAX || regs[3]) {
		snprintf(why, whylen, "PCI transport record: queue_select 0x%x or a reserved register is out of range",
			 regs[2]);
		return -EINVAL;
	}
	pm->device_feature_select = regs[0];
	pm->driver_feature_select = regs[1];
	pm->queue_select = (uint16_t)regs[2];
	return 0;
}

static const struct pci_func_ops pci_modern_fops = {
	.bar0_access = pm_bar0_access,
	.config_hook = pm_config_hook,
	.reset_regs = pm_reset_regs,
	.save_regs = pm_save_regs,
	.load_regs = pm_load_regs,
};

/* ---- transport ops --------------------------------------------------- */

static unsigned pm_notify_areas(struct transport *t, uint32_t region,
				struct transport_notify_area *out, unsigned max)
{
	unsigned n = 0;

	if (region != PCI_FUNC_REGION_BAR0)
		return 0;
	for (unsigned q = 0; q < t->vdev->num_queues && n < max; q++, n++) {
		out[n].region = PCI_FUNC_REGION_BAR0;
		out[n].offset = PCI_MODERN_NOTIFY_OFF + q * PCI_MODERN_NOTIFY_MULT;
		out[n].size = 2;
		out[n].has_datamatch = false;	/* one address per queue */
		out[n].datamatch = 0;
		out[n].fd = vdev_queue_kick_fd(t->vdev, q);
	}
	return n;
}

static const struct transport_ops pci_modern_ops = {
	.name = "pci-modern",
	.device_flags = TRANSPORT_DEV_PCI | TRANSPORT_DEV_RESET,
	.num_regions = PCI_FUNC_NUM_REGIONS,
	.num_irqs = PCI_FUNC_NUM_IRQS,
	.region_info = pci_func_region_info,
	.region_read = pci_func_region_read,
	.region_write = pci_func_region_write,
	.irq_info = pci_func_irq_info,
	.notify_areas = pm_notify_areas,
	.reset = pci_func_reset,
	.irqs_changed = pci_func_irqs_changed,
	.destroy = pci_func_destroy,
	.state_save = pci_func_state_save,
	.state_load = pci_func_state_load,
};

static void add_virtio_cap(struct pci_modern *pm, uint8_t type, uint8_t bar,
			   uint32_t off, uint32_t len)
{
	struct virtio_pci_cap cap = {
		.cap_len = sizeof(cap), .cfg_type = type, .bar = bar,
		.offset = off, .length = len,
	};

	pci_cfg_add_cap(&pm->f.cfg, PCI_CAP_ID_VNDR, &cap, sizeof(cap));
}

static void build_config_space(struct pci_modern *pm)
{
	struct virtio_pci_notify_cap ncap = {
		.cap = { .cap_len = sizeof(ncap), .cfg_type = VIRTIO_PCI_CAP_NOTIFY_CFG,
			 .bar = PCI_FUNC_REGION_BAR0, .offset = PCI_MODERN_NOTIFY_OFF,
			 .length = PCI_MODERN_NOTIFY_MULT * pm->f.t.vdev->num_queues },
		.notify_off_multiplier = PCI_MODERN_NOTIFY_MULT,
	};
	struct { struct virtio_pci_cap cap; uint8_t data[4]; } pcap = {
		.cap = { .cap_len = sizeof(pcap), .cfg_type = VIRTIO_PCI_CAP_PCI_CFG },
	};
	struct pci_cfg *c = &pm->f.cfg;

	/* 4.1.2: modern-only net device 0x1041, revision 1, subsystem >= 0x40
	 * so legacy drivers stay away; class 0x020000 = Ethernet controller. */
	pci_cfg_init(c, VIRTIO_PCI_VENDOR_ID, VIRTIO_PCI_DEVICE_ID_NET_MODERN, 1,
		     0x020000, VIRTIO_PCI_VENDOR_ID, 0x0040 + VIRTIO_ID_NET);
	pci_cfg_set_bar(c, 0, PCI_MODERN_BAR0_SIZE, PCI_BAR_MEM32);
	pci_cfg_set_bar(c, 1, PCI_MODERN_BAR1_SIZE, PCI_BAR_MEM32);
	add_virtio_cap(pm, VIRTIO_PCI_CAP_COMMON_CFG, PCI_FUNC_REGION_BAR0, PCI_MODERN_COMMON_OFF,
		       PCI_MODERN_COMMON_LEN);
	pci_cfg_add_cap(c, PCI_CAP_ID_VNDR, &ncap, sizeof(ncap));
	add_virtio_cap(pm, VIRTIO_PCI_CAP_ISR_CFG, PCI_FUNC_REGION_BAR0, PCI_MODERN_ISR_OFF,
		       PCI_MODERN_ISR_LEN);
	add_virtio_cap(pm, VIRTIO_PCI_CAP_DEVICE_CFG, PCI_FUNC_REGION_BAR0, PCI_MODERN_DEVICE_OFF,
		       PCI_MODERN_DEVICE_LEN);
	pm->pci_cfg_cap = pci_cfg_add_cap(c, PCI_CAP_ID_VNDR, &pcap, sizeof(pcap));
	/* bar, offset, length and data of the PCI_CFG window are writable. */
	pci_cfg_set_wmask(c, pm->pci_cfg_cap + 4u, 1, 0xff);
	pci_cfg_set_wmask(c, pm->pci_cfg_cap + 8u, 8, 0xff);
	pci_func_add_msix(&pm->f);
}

int pci_modern_create(struct transport **out, struct vdev *vd)
{
	struct pci_modern *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return -ENOMEM;
	pci_func_init(&pm->f, &pci_modern_ops, &pci_modern_fops, vd, PCI_MODERN_BAR0_SIZE);
	build_config_space(pm);
	*out = &pm->f.t;
	return 0;
}
