// SPDX-License-Identifier: MIT
/*
 * virtio_pci_modern.c - the virtio 1.x PCI transport, driver side (4.1).
 *
 * Everything is discovered from PCI configuration space (vfio region 7):
 * the vendor capabilities say which BAR holds the common configuration,
 * the notify area, the ISR byte and the device configuration (4.1.4),
 * and the MSI-X capability says how many vectors there are.  Nothing
 * about the layout is assumed, and every capability is checked against
 * the size of the BAR it points into before it is used.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/virtio.h"
#include "guest/virtio_pci.h"
#include "guest/virtio_transport.h"

#define PCI_MAX_BAR	   5

/* Where one virtio structure lives (4.1.4). */
struct pci_cap_loc {
	bool present;
	uint8_t pos;		/* offset of the capability in config space */
	uint8_t bar;
	uint32_t offset;	/* within the BAR */
	uint32_t length;
};

struct pci_queue_notify {
	bool ready;
	int fd;			/* ioeventfd for the notify address, or -1 */
	uint64_t off;		/* notify address within the notify BAR */
};

struct vpci {
	struct vtransport t;
	struct pci_cap_loc common, notify, isr, device;
	uint32_t notify_mult;
	struct vpci_irq irq;
	int n_iofds;
	struct vfc_iofd iofds[VFC_MAX_IOFDS];
	struct pci_queue_notify q[VT_MAX_QUEUES];
};

#define to_vpci(tp) ((struct vpci *)((char *)(tp) - offsetof(struct vpci, t)))
#define CC(field) offsetof(struct virtio_pci_common_cfg, field)

/* ---- common configuration registers (4.1.4.3) ------------------------ */

static int cc_read8(struct vpci *p, size_t off, uint8_t *v)
{
	return vfc_read8(p->t.vfc, p->common.bar, p->common.offset + off, v);
}
static int cc_read16(struct vpci *p, size_t off, uint16_t *v)
{
	return vfc_read16(p->t.vfc, p->common.bar, p->common.offset + off, v);
}
static int cc_read32(struct vpci *p, size_t off, uint32_t *v)
{
	return vfc_read32(p->t.vfc, p->common.bar, p->common.offset + off, v);
}
static int cc_write8(struct vpci *p, size_t off, uint8_t v)
{
	return vfc_write8(p->t.vfc, p->common.bar, p->common.offset + off, v);
}
static int cc_write16(struct vpci *p, size_t off, uint16_t v)
{
	return vfc_write16(p->t.vfc, p->common.bar, p->common.offset + off, v);
}
static int cc_write32(struct vpci *p, size_t off, uint32_t v)
{
	return vfc_write32(p->t.vfc, p->common.bar, p->common.offset + off, v);
}
/* 64-bit fields are written as two 32-bit halves, low first (4.1.3.1). */
static int cc_write64(struct vpci *p, size_t off, uint64_t v)
{
	int rc = cc_write32(p, off, (uint32_t)v);

	return rc ? rc : cc_write32(p, off + 4, (uint32_t)(v >> 32));
}

static int pci_read_features(struct vpci *p, size_t sel, size_t win, uint64_t *f)
{
	uint32_t lo, hi;
	int rc;

	if ((rc = cc_write32(p, sel, 0)) || (rc = cc_read32(p, win, &lo)) ||
	    (rc = cc_write32(p, sel, 1)) || (rc = cc_read32(p, win, &hi)))
		return rc;
	*f = (uint64_t)hi << 32 | lo;
	return 0;
}

static int pci_get_device_features(struct vtransport *t, uint64_t *f)
{
	return pci_read_features(to_vpci(t), CC(device_feature_select),
				 CC(device_feature), f);
}

static int pci_get_driver_features(struct vtransport *t, uint64_t *f)
{
	return pci_read_features(to_vpci(t), CC(driver_feature_select),
				 CC(driver_feature), f);
}

static int pci_set_driver_features(struct vtransport *t, uint64_t f)
{
	struct vpci *p = to_vpci(t);
	int rc;

	if ((rc = cc_write32(p, CC(driver_feature_select), 0)) ||
	    (rc = cc_write32(p, CC(driver_feature), (uint32_t)f)) ||
	    (rc = cc_write32(p, CC(driver_feature_select), 1)) ||
	    (rc = cc_write32(p, CC(driver_feature), (uint32_t)(f >> 32))))
		return rc;
	return 0;
}

static int pci_get_status(struct vtransport *t, uint8_t *s)
{
	return cc_read8(to_vpci(t), CC(device_status), s);
}

static int pci_set_status(struct vtransport *t, uint8_t s)
{
	return cc_write8(to_vpci(t), CC(device_status), s);
}

/* 4.1.4.3.2: after writing 0 the driver must wait for device_status to
 * read back 0 before touching the device again.  Bounded, since the
 * device may be broken. */
static int pci_reset(struct vtransport *t)
{
	uint8_t s = 0xff;
	int rc = pci_set_status(t, 0);

	for (unsigned ms = 0; rc == 0 && ms < VT_RESET_WAIT_MS; ms++) {
		rc = pci_get_status(t, &s);
		if (rc == 0 && s == 0)
			return 0;
		usleep(1000);
	}
	if (rc == 0) {
		log_err("pci-modern: device status still 0x%02x %u ms after reset",
			s, VT_RESET_WAIT_MS);
		rc = -ETIMEDOUT;
	}
	return rc;
}

static int pci_config_generation(struct vtransport *t, uint32_t *gen)
{
	uint8_t g;
	int rc = cc_read8(to_vpci(t), CC(config_generation), &g);

	if (rc == 0)
		*gen = g;
	return rc;
}

/* 4.1.4.6: device-specific configuration, natural aligned widths. */
static int pci_read_config(struct vtransport *t, uint32_t off, void *dst,
			   unsigned width)
{
	struct vpci *p = to_vpci(t);
	uint64_t at = (uint64_t)p->device.offset + off;

	if (width != 1 && width != 2 && width != 4)
		return -EINVAL;
	if (!p->device.present || off % width ||
	    (uint64_t)off + width > p->device.length)
		return -ERANGE;
	return vt_region_read_field(t->vfc, p->device.bar, at, dst, width);
}

static int pci_num_queues(struct vtransport *t, uint16_t *n)
{
	return cc_read16(to_vpci(t), CC(num_queues), n);
}

static int pci_queue_max(struct vtransport *t, uint16_t q, uint16_t *max)
{
	struct vpci *p = to_vpci(t);
	int rc = cc_write16(p, CC(queue_select), q);

	return rc ? rc : cc_read16(p, CC(queue_size), max);
}

/* 4.1.4.4: notify address = cap.offset + queue_notify_off *
 * notify_off_multiplier; it must lie inside the notify structure.  An
 * ioeventfd (GET_REGION_IO_FDS) covering it replaces the 16-bit write of
 * the queue index. */
static int locate_doorbell(struct vpci *p, uint16_t q, uint16_t noff)
{
	uint64_t rel = (uint64_t)noff * p->notify_mult;

	if (rel + 2 > p->notify.length) {
		log_err("pci-modern: queue %u notify offset %llu outside the notify area (%u bytes)",
			q, (unsigned long long)rel, p->notify.length);
		return -ERANGE;
	}
	p->q[q].off = p->notify.offset + rel;
	p->q[q].fd = vt_find_iofd(p->iofds, p->n_iofds, p->q[q].off, 2, q);
	return 0;
}

/* 4.1.5.1.3: select, size, vector (read back, 4.1.5.1.2), addresses,
 * notify offset, enable last. */
static int pci_queue_setup(struct vtransport *t, const struct vt_queue_cfg *qc,
			   uint16_t *vector_out)
{
	struct vpci *p = to_vpci(t);
	uint16_t q = qc->index, vec = VIRTIO_MSI_NO_VECTOR, noff = 0;
	int rc;

	if (q >= VT_MAX_QUEUES || qc->size == 0)
		return -EINVAL;
	if ((rc = cc_write16(p, CC(queue_select), q)) ||
	    (rc = cc_write16(p, CC(queue_size), qc->size)) ||
	    (rc = cc_write16(p, CC(queue_msix_vector), qc->vector)) ||
	    (rc = cc_read16(p, CC(queue_msix_vector), &vec)) ||
	    (rc = cc_write64(p, CC(queue_desc), qc->addrs.desc)) ||
	    (rc = cc_write64(p, CC(queue_driver), qc->addrs.driver)) ||
	    (rc = cc_write64(p, CC(queue_device), qc->addrs.device)) ||
	    (rc = cc_read16(p, CC(queue_notify_off), &noff)))
		return rc;
	if ((rc = locate_doorbell(p, q, noff)) || (rc = cc_write16(p, CC(queue_enable), 1)))
		return rc;
	p->q[q].ready = true;
	*vector_out = vec;
	return 0;
}

/* A queue the device already runs (it moved here with its state): only
 * its doorbell is looked up; nothing but queue_select is written. */
static int pci_queue_adopt(struct vtransport *t, uint16_t q)
{
	struct vpci *p = to_vpci(t);
	uint16_t noff = 0;
	int rc;

	if (q >= VT_MAX_QUEUES)
		return -EINVAL;
	if ((rc = cc_write16(p, CC(queue_select), q)) ||
	    (rc = cc_read16(p, CC(queue_notify_off), &noff)) || (rc = locate_doorbell(p, q, noff)))
		return rc;
	p->q[q].ready = true;
	return 0;
}

static int pci_notify(struct vtransport *t, uint16_t q)
{
	struct vpci *p = to_vpci(t);
	struct pci_queue_notify *n;

	if (q >= VT_MAX_QUEUES || !p->q[q].ready)
		return -EINVAL;
	n = &p->q[q];
	if (n->fd >= 0) {
		uint64_t one = 1;

		if (write(n->fd, &one, sizeof(one)) == (ssize_t)sizeof(one))
			return 0;
		/* An eventfd write only fails if the counter would overflow;
		 * the register write below still gets the kick through. */
	}
	return vfc_write16(t->vfc, p->notify.bar, n->off, q);
}

static int pci_notify_fd(struct vtransport *t, uint16_t q)
{
	struct vpci *p = to_vpci(t);

	if (q >= VT_MAX_QUEUES || !p->q[q].ready)
		return -1;
	return p->q[q].fd;
}

static const char *pci_notify_kind(struct vtransport *t, uint16_t q)
{
	struct vpci *p = to_vpci(t);

	if (q >= VT_MAX_QUEUES || !p->q[q].ready)
		return "none";
	return p->q[q].fd >= 0 ? "eventfd" : "region-write";
}

static int pci_irq_setup(struct vtransport *t, const int *fds, unsigned n)
{
	return vpci_msix_setup(t->vfc, &to_vpci(t)->irq, fds, n, "pci-modern");
}

static void pci_irq_teardown(struct vtransport *t)
{
	vpci_irq_teardown(t->vfc, &to_vpci(t)->irq);
}

static int pci_set_config_vector(struct vtransport *t, uint16_t vec,
				 uint16_t *vector_out)
{
	struct vpci *p = to_vpci(t);
	int rc = cc_write16(p, CC(config_msix_vector), vec);

	return rc ? rc : cc_read16(p, CC(config_msix_vector), vector_out);
}

static int pci_line_setup(struct vtransport *t, int fd)
{
	struct vpci *p = to_vpci(t);

	/* INTx needs the ISR to tell queue from config interrupts. */
	if (!p->isr.present)
		return -ENOTSUP;
	return vpci_intx_setup(t->vfc, &p->irq, fd);
}

/* 4.1.4.5: reading the ISR clears it (and deasserts INTx); then the
 * automasked line is unmasked, so an interrupt raised since is seen. */
static int pci_line_ack(struct vtransport *t, uint8_t *cause)
{
	struct vpci *p = to_vpci(t);
	uint8_t isr = 0;
	int rc = vfc_read8(t->vfc, p->isr.bar, p->isr.offset, &isr);

	*cause = rc == 0 ? isr & (VT_CAUSE_QUEUE | VT_CAUSE_CONFIG) : 0;
	if (rc == 0)
		rc = vpci_intx_unmask(t->vfc, &p->irq);
	return rc;
}

static void pci_destroy(struct vtransport *t)
{
	struct vpci *p;

	if (!t)
		return;
	p = to_vpci(t);
	if (p->n_iofds > 0)
		vfc_close_iofds(p->iofds, (unsigned)p->n_iofds);
	free(p);
}

static const struct vtransport_ops pci_modern_ops = {
	.destroy = pci_destroy,
	.get_device_features = pci_get_device_features,
	.get_driver_features = pci_get_driver_features,
	.set_driver_features = pci_set_driver_features,
	.get_status = pci_get_status,
	.set_status = pci_set_status,
	.reset = pci_reset,
	.config_generation = pci_config_generation,
	.read_config = pci_read_config,
	.num_queues = pci_num_queues,
	.queue_max = pci_queue_max,
	.queue_setup = pci_queue_setup,
	.queue_adopt = pci_queue_adopt,
	.notify = pci_notify,
	.notify_kind = pci_notify_kind,
	.notify_fd = pci_notify_fd,
	.irq_setup = pci_irq_setup,
	.irq_teardown = pci_irq_teardown,
	.set_config_vector = pci_set_config_vector,
	.line_setup = pci_line_setup,
	.line_ack = pci_line_ack,
};

/* ---- probe ----------------------------------------------------------- */

static const char *cap_type_name(uint8_t type)
{
	switch (type) {
	case VIRTIO_PCI_CAP_COMMON_CFG: return "common";
	case VIRTIO_PCI_CAP_NOTIFY_CFG: return "notify";
	case VIRTIO_PCI_CAP_ISR_CFG: return "isr";
	case VIRTIO_PCI_CAP_DEVICE_CFG: return "device";
	default: return "other";
	}
}

/* A virtio vendor capability (4.1.4): take the first usable one of each
 * type (4.1.4: "SHOULD use the first instance"), skip ones with a reserved
 * BAR or that do not fit in their BAR. */
static void take_virtio_cap(struct vpci *p, const uint8_t *cfg, uint8_t pos)
{
	struct vfc_device *vfc = p->t.vfc;
	uint8_t cap_len = cfg[pos + 2], type = cfg[pos + 3], bar = cfg[pos + 4];
	uint32_t off = vpci_cfg32(cfg, pos + 8), len = vpci_cfg32(cfg, pos + 12);
	struct pci_cap_loc *loc;

	switch (type) {
	case VIRTIO_PCI_CAP_COMMON_CFG: loc = &p->common; break;
	case VIRTIO_PCI_CAP_NOTIFY_CFG: loc = &p->notify; break;
	case VIRTIO_PCI_CAP_ISR_CFG: loc = &p->isr; break;
	case VIRTIO_PCI_CAP_DEVICE_CFG: loc = &p->device; break;
	default: return;	/* PCI_CFG, shared memory, vendor: unused */
	}
	if (loc->present)
		return;
	if (cap_len < sizeof(struct virtio_pci_cap) ||
	    (type == VIRTIO_PCI_CAP_NOTIFY_CFG &&
	     (cap_len < sizeof(struct virtio_pci_notify_cap) ||
	      pos + sizeof(struct virtio_pci_notify_cap) > PCI_CFG_SPACE_SIZE))) {
		log_warn("pci-modern: %s capability at 0x%02x too short (%u bytes), ignored",
			 cap_type_name(type), pos, cap_len);
		return;
	}
	if (bar > PCI_MAX_BAR || bar >= vfc->num_regions ||
	    vfc->regions[bar].size == 0) {
		log_warn("pci-modern: %s capability at 0x%02x names absent BAR %u, ignored",
			 cap_type_name(type), pos, bar);
		return;
	}
	if ((uint64_t)off + len > vfc->regions[bar].size) {
		log_warn("pci-modern: %s capability at 0x%02x: [0x%x, +0x%x) outside BAR %u (0x%llx bytes), ignored",
			 cap_type_name(type), pos, off, len, bar,
			 (unsigned long long)vfc->regions[bar].size);
		return;
	}
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
		uint32_t m = vpci_cfg32(cfg, pos + 16);

		/* 4.1.4.4: 0 or a power of two. */
		if (m & (m - 1)) {
			log_warn("pci-modern: notify_off_multiplier %u is not a power of two, ignored",
				 m);
			return;
		}
		p->notify_mult = m;
	}
	loc->present = true;
	loc->pos = pos;
	loc->bar = bar;
	loc->offset = off;
	loc->length = len;
	log_debug("pci-modern: %s cfg: BAR %u offset 0x%x length 0x%x", cap_type_name(type),
		  bar, off, len);
}

static void visit_cap(void *arg, const uint8_t *cfg, uint8_t pos)
{
	struct vpci *p = arg;

	if (cfg[pos] == PCI_CAP_ID_VNDR &&
	    pos + sizeof(struct virtio_pci_cap) <= PCI_CFG_SPACE_SIZE)
		take_virtio_cap(p, cfg, pos);
	else if (cfg[pos] == PCI_CAP_ID_MSIX)
		vpci_take_msix(&p->irq, cfg, pos, "pci-modern");
}

static int walk_caps(struct vpci *p, const uint8_t *cfg)
{
	if (vpci_walk_caps(cfg, "pci-modern", visit_cap, p) < 0) {
		log_err("pci-modern: device has no capability list");
		return -ENODEV;
	}
	/* 4.1.4.3: the common cfg must hold every field up to queue_device. */
	if (!p->common.present ||
	    p->common.length < offsetof(struct virtio_pci_common_cfg, queue_notify_data)) {
		log_err("pci-modern: no usable common configuration capability");
		return -ENODEV;
	}
	if (!p->notify.present || p->notify.length < 2) {
		log_err("pci-modern: no usable notify capability");
		return -ENODEV;
	}
	if (!p->device.present)
		log_warn("pci-modern: no device configuration capability");
	return 0;
}

int vt_pci_modern_probe(struct vfc_device *vfc, const uint8_t *cfg,
			struct vtransport **out)
{
	struct vpci *p;
	int rc;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->t.ops = &pci_modern_ops;
	p->t.name = "pci-modern";
	p->t.line_name = "intx";
	p->t.vfc = vfc;
	p->t.used_align = VIRTQ_USED_ALIGN;
	p->t.packed_ok = true;
	for (unsigned q = 0; q < VT_MAX_QUEUES; q++)
		p->q[q].fd = -1;
	rc = walk_caps(p, cfg);
	if (rc < 0) {
		free(p);
		return rc;
	}
	vpci_enable(vfc, cfg, VPCI_COMMAND_MEMORY | VPCI_COMMAND_MASTER, "pci-modern");
	/* Doorbells as eventfds (vfio-user GET_REGION_IO_FDS), if offered;
	 * otherwise every kick is a region write over the socket. */
	p->n_iofds = vfc_get_region_io_fds(vfc, p->notify.bar, p->iofds,
					   VFC_MAX_IOFDS);
	if (p->n_iofds < 0) {
		log_debug("pci-modern: no ioeventfds for BAR %u (%s): kicks are region writes",
			  p->notify.bar, strerror(-p->n_iofds));
		p->n_iofds = 0;
	} else if (p->n_iofds > VFC_MAX_IOFDS) {
		p->n_iofds = VFC_MAX_IOFDS;
	}
	*out = &p->t;
	return 0;
}
