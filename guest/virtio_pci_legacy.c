// SPDX-License-Identifier: MIT
/*
 * virtio_pci_legacy.c - the legacy (0.9.5) virtio-pci transport, driver
 * side (virtio 1.2, 4.1.4.10 "Legacy Interfaces: A Note on PCI Device
 * Layout"; Linux VIRTIO_PCI_*).
 *
 * Everything sits in I/O BAR0 (a vfio-user region reached with
 * REGION_READ/WRITE like any other):
 *    0  host features, bits 0-31 (R, 32)     14  queue select (RW, 16)
 *    4  guest features (RW, 32)              16  queue notify (W, 16)
 *    8  queue PFN = ring address >> 12 (32)  18  device status (RW, 8)
 *   12  queue size, the device's (R, 16)     19  ISR, read clears (R, 8)
 *   20  config MSI-X vector, 22 queue MSI-X vector (only with MSI-X)
 *   20 or 24 (with MSI-X): the device configuration
 * What differs from 1.x for the driver: 32 feature bits (no VERSION_1),
 * no FEATURES_OK step (3.1.2), the queue size is the device's and the
 * ring one contiguous block with the used ring aligned to 4096 (2.7.2),
 * and no config_generation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/virtio.h"
#include "guest/virtio_pci.h"
#include "guest/virtio_transport.h"

#define LEG_HOST_FEATURES  0
#define LEG_GUEST_FEATURES 4
#define LEG_QUEUE_PFN	   8
#define LEG_QUEUE_NUM	   12
#define LEG_QUEUE_SEL	   14
#define LEG_QUEUE_NOTIFY   16
#define LEG_STATUS	   18
#define LEG_ISR		   19
#define LEG_CONFIG_VECTOR  20
#define LEG_QUEUE_VECTOR   22
#define LEG_CONFIG	   20	/* without MSI-X */
#define LEG_CONFIG_MSIX	   24	/* with MSI-X */
#define LEG_PFN_SHIFT	   12	/* VIRTIO_PCI_QUEUE_ADDR_SHIFT */
#define LEG_VRING_ALIGN	   4096u /* VIRTIO_PCI_VRING_ALIGN */
#define BAR0		   VFC_PCI_BAR0_REGION
#define WHO		   "pci-legacy"

struct lpci {
	struct vtransport t;
	uint64_t bar0_size;
	struct vpci_irq irq;
	int n_iofds;
	struct vfc_iofd iofds[VFC_MAX_IOFDS];
	bool q_ready[VT_MAX_QUEUES];
	int q_fd[VT_MAX_QUEUES];
};

#define to_lpci(tp) ((struct lpci *)((char *)(tp) - offsetof(struct lpci, t)))

/* The device configuration moves to 24 while MSI-X is enabled (it is,
 * from the moment its eventfds are bound). */
static uint32_t config_base(const struct lpci *p)
{
	return p->irq.msix_bound ? LEG_CONFIG_MSIX : LEG_CONFIG;
}

static int leg_get_device_features(struct vtransport *t, uint64_t *f)
{
	uint32_t v;
	int rc = vfc_read32(t->vfc, BAR0, LEG_HOST_FEATURES, &v);

	if (rc == 0)
		*f = v;
	return rc;
}

static int leg_get_driver_features(struct vtransport *t, uint64_t *f)
{
	uint32_t v;
	int rc = vfc_read32(t->vfc, BAR0, LEG_GUEST_FEATURES, &v);

	if (rc == 0)
		*f = v;
	return rc;
}

static int leg_set_driver_features(struct vtransport *t, uint64_t f)
{
	if (f >> 32)
		return -EINVAL;	/* bits 32+ do not exist here (4.1.4.10) */
	return vfc_write32(t->vfc, BAR0, LEG_GUEST_FEATURES, (uint32_t)f);
}

static int leg_get_status(struct vtransport *t, uint8_t *s)
{
	return vfc_read8(t->vfc, BAR0, LEG_STATUS, s);
}

static int leg_set_status(struct vtransport *t, uint8_t s)
{
	return vfc_write8(t->vfc, BAR0, LEG_STATUS, s);
}

/* 2.4: writing 0 resets; like Linux's legacy driver we read status back
 * (which also flushes the write) until it says 0, bounded. */
static int leg_reset(struct vtransport *t)
{
	uint8_t s = 0xff;
	int rc = leg_set_status(t, 0);

	for (unsigned ms = 0; rc == 0 && ms < VT_RESET_WAIT_MS; ms++) {
		rc = leg_get_status(t, &s);
		if (rc == 0 && s == 0)
			break;
		usleep(1000);
	}
	if (rc == 0 && s != 0) {
		log_err(WHO ": device status still 0x%02x %u ms after reset", s,
			VT_RESET_WAIT_MS);
		rc = -ETIMEDOUT;
	}
	if (rc == 0)
		memset(to_lpci(t)->q_ready, 0, sizeof(to_lpci(t)->q_ready));
	return rc;
}

/* Legacy has no generation counter: reads are single-shot (4.1.4.10). */
static int leg_config_generation(struct vtransport *t, uint32_t *gen)
{
	(void)t;
	*gen = 0;
	return 0;
}

/* Device configuration: natural widths, guest-native endianness (2.5.3,
 * little-endian here as on every host we run on). */
static int leg_read_config(struct vtransport *t, uint32_t off, void *dst,
			   unsigned width)
{
	struct lpci *p = to_lpci(t);
	uint64_t at = (uint64_t)config_base(p) + off;

	if (width != 1 && width != 2 && width != 4)
		return -EINVAL;
	if (off % width || at + width > p->bar0_size)
		return -ERANGE;
	return vt_region_read_field(t->vfc, BAR0, at, dst, width);
}

static int leg_queue_max(struct vtransport *t, uint16_t q, uint16_t *max)
{
	int rc = vfc_write16(t->vfc, BAR0, LEG_QUEUE_SEL, q);

	return rc ? rc : vfc_read16(t->vfc, BAR0, LEG_QUEUE_NUM, max);
}

static int leg_queue_setup(struct vtransport *t, const struct vt_queue_cfg *qc,
			   uint16_t *vector_out)
{
	struct lpci *p = to_lpci(t);
	uint16_t q = qc->index, size = 0, vec = VIRTIO_MSI_NO_VECTOR;
	uint32_t pfn = 1;
	int rc;

	if (q >= VT_MAX_QUEUES || !vt_legacy_layout_ok(qc, LEG_VRING_ALIGN)) {
		log_err(WHO ": queue %u: ring not in the legacy layout (2.7.2)", q);
		return -EINVAL;
	}
	if ((rc = vfc_write16(t->vfc, BAR0, LEG_QUEUE_SEL, q)) ||
	    (rc = vfc_read16(t->vfc, BAR0, LEG_QUEUE_NUM, &size)) ||
	    (rc = vfc_read32(t->vfc, BAR0, LEG_QUEUE_PFN, &pfn)))
		return rc;
	/* The size is the device's (read-only); a PFN already set means the
	 * queue is in use (Linux setup_vq refuses it too). */
	if (size != qc->size) {
		log_err(WHO ": queue %u: device size %u, ring laid out for %u", q,
			size, qc->size);
		return -EINVAL;
	}
	if (pfn != 0) {
		log_err(WHO ": queue %u already in use (PFN 0x%x)", q, pfn);
		return -EBUSY;
	}
	if (p->irq.msix_bound) {
		/* 4.1.5.1.2 (legacy alike): read back, NO_VECTOR = refused. */
		if ((rc = vfc_write16(t->vfc, BAR0, LEG_QUEUE_VECTOR, qc->vector)) ||
		    (rc = vfc_read16(t->vfc, BAR0, LEG_QUEUE_VECTOR, &vec)))
			return rc;
	}
	/* Writing the PFN activates the queue: last. */
	rc = vfc_write32(t->vfc, BAR0, LEG_QUEUE_PFN,
			 (uint32_t)(qc->addrs.desc >> LEG_PFN_SHIFT));
	if (rc)
		return rc;
	p->q_fd[q] = vt_find_iofd(p->iofds, p->n_iofds, LEG_QUEUE_NOTIFY, 2, q);
	p->q_ready[q] = true;
	*vector_out = vec;
	return 0;
}

/* A queue the device already runs (it moved here with its state): its
 * doorbell only. */
static int leg_queue_adopt(struct vtransport *t, uint16_t q)
{
	struct lpci *p = to_lpci(t);

	if (q >= VT_MAX_QUEUES)
		return -EINVAL;
	p->q_fd[q] = vt_find_iofd(p->iofds, p->n_iofds, LEG_QUEUE_NOTIFY, 2, q);
	p->q_ready[q] = true;
	return 0;
}

/* 4.1.4.10: a 16-bit write of the queue index to queue notify; or, when
 * the device handed out a datamatch ioeventfd for this queue, an eventfd
 * write (the device matches by fd). */
static int leg_notify(struct vtransport *t, uint16_t q)
{
	struct lpci *p = to_lpci(t);

	if (q >= VT_MAX_QUEUES || !p->q_ready[q])
		return -EINVAL;
	if (p->q_fd[q] >= 0) {
		uint64_t one = 1;

		if (write(p->q_fd[q], &one, sizeof(one)) == (ssize_t)sizeof(one))
			return 0;
	}
	return vfc_write16(t->vfc, BAR0, LEG_QUEUE_NOTIFY, q);
}

static const char *leg_notify_kind(struct vtransport *t, uint16_t q)
{
	struct lpci *p = to_lpci(t);

	if (q >= VT_MAX_QUEUES || !p->q_ready[q])
		return "none";
	return p->q_fd[q] >= 0 ? "eventfd" : "region-write";
}

static int leg_irq_setup(struct vtransport *t, const int *fds, unsigned n)
{
	return vpci_msix_setup(t->vfc, &to_lpci(t)->irq, fds, n, WHO);
}

static void leg_irq_teardown(struct vtransport *t)
{
	vpci_irq_teardown(t->vfc, &to_lpci(t)->irq);
}

static int leg_set_config_vector(struct vtransport *t, uint16_t vec,
				 uint16_t *vector_out)
{
	struct lpci *p = to_lpci(t);
	int rc;

	if (!p->irq.msix_bound) {
		*vector_out = VIRTIO_MSI_NO_VECTOR;
		return 0;
	}
	rc = vfc_write16(t->vfc, BAR0, LEG_CONFIG_VECTOR, vec);
	return rc ? rc : vfc_read16(t->vfc, BAR0, LEG_CONFIG_VECTOR, vector_out);
}

static int leg_line_setup(struct vtransport *t, int fd)
{
	return vpci_intx_setup(t->vfc, &to_lpci(t)->irq, fd);
}

/* ISR: read clears it and deasserts INTx (4.1.4.5, the same in legacy);
 * then the automasked line is unmasked. */
static int leg_line_ack(struct vtransport *t, uint8_t *cause)
{
	uint8_t isr = 0;
	int rc = vfc_read8(t->vfc, BAR0, LEG_ISR, &isr);

	*cause = rc == 0 ? isr & (VT_CAUSE_QUEUE | VT_CAUSE_CONFIG) : 0;
	if (rc == 0)
		rc = vpci_intx_unmask(t->vfc, &to_lpci(t)->irq);
	return rc;
}

static void leg_destroy(struct vtransport *t)
{
	struct lpci *p;

	if (!t)
		return;
	p = to_lpci(t);
	if (p->n_iofds > 0)
		vfc_close_iofds(p->iofds, (unsigned)p->n_iofds);
	free(p);
}

static const struct vtransport_ops pci_legacy_ops = {
	.destroy = leg_destroy,
	.get_device_features = leg_get_device_features,
	.get_driver_features = leg_get_driver_features,
	.set_driver_features = leg_set_driver_features,
	.get_status = leg_get_status,
	.set_status = leg_set_status,
	.reset = leg_reset,
	.config_generation = leg_config_generation,
	.read_config = leg_read_config,
	.num_queues = vt_count_queues,	/* no count register */
	.queue_max = leg_queue_max,
	.queue_setup = leg_queue_setup,
	.queue_adopt = leg_queue_adopt,
	.notify = leg_notify,
	.notify_kind = leg_notify_kind,
	.irq_setup = leg_irq_setup,
	.irq_teardown = leg_irq_teardown,
	.set_config_vector = leg_set_config_vector,
	.line_setup = leg_line_setup,
	.line_ack = leg_line_ack,
};

static void visit_cap(void *arg, const uint8_t *cfg, uint8_t pos)
{
	struct lpci *p = arg;

	if (cfg[pos] == PCI_CAP_ID_MSIX)
		vpci_take_msix(&p->irq, cfg, pos, WHO);
}

int vt_pci_legacy_probe(struct vfc_device *vfc, const uint8_t *cfg,
			struct vtransport **out)
{
	uint32_t bar0 = vpci_cfg32(cfg, PCI_BASE_ADDRESS_0);
	uint8_t rev = cfg[PCI_REVISION_ID];
	uint16_t subsys = vpci_cfg16(cfg, PCI_SUBSYSTEM_ID);
	struct lpci *p;

	if (vfc->num_regions <= BAR0 || vfc->regions[BAR0].size < LEG_CONFIG_MSIX) {
		log_err(WHO ": BAR0 absent or smaller than the legacy registers (%u bytes)",
			LEG_CONFIG_MSIX);
		return -ENODEV;
	}
	/* 4.1.2: transitional devices have revision 0 and the virtio type in
	 * the subsystem device id; the register block is an I/O BAR. */
	if (rev != 0)
		log_warn(WHO ": transitional device with revision %u (expected 0)", rev);
	if (subsys != VIRTIO_ID_NET)
		log_warn(WHO ": subsystem device id %u (expected %u, network)", subsys,
			 VIRTIO_ID_NET);
	if (!(bar0 & VPCI_BAR_IO))
		log_warn(WHO ": BAR0 is not an I/O BAR (0x%08x); using it anyway", bar0);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->t.ops = &pci_legacy_ops;
	p->t.name = "pci-legacy";
	p->t.line_name = "intx";
	p->t.vfc = vfc;
	p->t.flags = VT_F_LEGACY | VT_F_FIXED_QSIZE;
	p->t.used_align = LEG_VRING_ALIGN;
	p->t.packed_ok = false;
	p->bar0_size = vfc->regions[BAR0].size;
	for (unsigned q = 0; q < VT_MAX_QUEUES; q++)
		p->q_fd[q] = -1;
	(void)vpci_walk_caps(cfg, WHO, visit_cap, p);	/* MSI-X is optional */
	vpci_enable(vfc, cfg, VPCI_COMMAND_IO | VPCI_COMMAND_MEMORY | VPCI_COMMAND_MASTER,
		    WHO);
	p->n_iofds = vfc_get_region_io_fds(vfc, BAR0, p->iofds, VFC_MAX_IOFDS);
	if (p->n_iofds < 0) {
		log_debug(WHO ": no ioeventfds for BAR0 (%s): kicks are region writes",
			  strerror(-p->n_iofds));
		p->n_iofds = 0;
	} else if (p->n_iofds > VFC_MAX_IOFDS) {
		p->n_iofds = VFC_MAX_IOFDS;
	}
	*out = &p->t;
	return 0;
}
