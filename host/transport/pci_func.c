// SPDX-License-Identifier: MIT
/*
 * pci_func.c - what virtio-pci modern and legacy share (pci_func.h):
 * region routing, MSI-X vs INTx delivery, the ISR level, vectors, the
 * function-level reset.
 */
#include "host/transport/pci_func.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "host/dev/state_fmt.h"

/* Every queue's vector and the config vector fit the vfio-user irq table
 * and the MSI-X table below the PBA (16 bytes an entry, PCI 3.0 6.8.2). */
static_assert(VDEV_MAX_QUEUES + 1 <= TRANSPORT_MAX_VECTORS, "MSI-X vectors");
static_assert((VDEV_MAX_QUEUES + 1) * 16 <= PCI_FUNC_MSIX_PBA_OFF, "MSI-X table");

void pci_func_init(struct pci_func *f, const struct transport_ops *ops,
		   const struct pci_func_ops *fops, struct vdev *vd,
		   uint64_t bar0_size)
{
	f->t.ops = ops;
	f->t.irq = (struct vdev_irq){ pci_func_raise, &f->t };
	f->t.vdev = vd;
	f->fops = fops;
	f->bar0_size = bar0_size;
	f->msix_vectors = vd->num_queues + 1 > PCI_FUNC_MSIX_MIN_VECTORS ? vd->num_queues + 1
									: PCI_FUNC_MSIX_MIN_VECTORS;
	transport_irqs_init(&f->t.irqs);
	pci_func_reset_regs(f);
}

void pci_func_add_msix(struct pci_func *f)
{
	uint8_t msix[12] = { 0 };

	/* PCI 3.0 6.8.2: table size N-1, table in BAR1 at 0, PBA at
	 * PCI_FUNC_MSIX_PBA_OFF; enable and function-mask bits are the
	 * driver's. */
	msix[PCI_MSIX_FLAGS] = (uint8_t)(f->msix_vectors - 1);
	msix[PCI_MSIX_TABLE] = PCI_FUNC_REGION_BAR1;
	msix[PCI_MSIX_PBA] = (uint8_t)(PCI_FUNC_MSIX_PBA_OFF | PCI_FUNC_REGION_BAR1);
	msix[PCI_MSIX_PBA + 1] = (uint8_t)(PCI_FUNC_MSIX_PBA_OFF >> 8);
	f->msix_cap = pci_cfg_add_cap(&f->cfg, PCI_CAP_ID_MSIX, msix, sizeof(msix));
	pci_cfg_set_wmask(&f->cfg, f->msix_cap + PCI_MSIX_FLAGS + 1u, 1,
			  (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8);
}

bool pci_func_msix_active(const struct pci_func *f)
{
	if (pci_cfg_get16(&f->cfg, f->msix_cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE)
		return true;
	/* VFIO semantics: binding MSI-X eventfds enables MSI-X. */
	for (unsigned i = 0; i < f->msix_vectors; i++)
		if (f->t.irqs.fd[TRANSPORT_IRQ_MSIX][i] >= 0)
			return true;
	return false;
}

bool pci_func_intx_update(struct pci_func *f)
{
	if (!f->isr || pci_func_msix_active(f) ||
	    (pci_cfg_get16(&f->cfg, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE))
		return false;
	if (!transport_fire(&f->t, TRANSPORT_IRQ_INTX, 0))
		return false;
	f->t.irqs.masked[TRANSPORT_IRQ_INTX][0] = true;
	return true;
}

uint16_t pci_func_checked_vector(const struct pci_func *f, uint16_t v)
{
	return v < f->msix_vectors ? v : VIRTIO_MSI_NO_VECTOR;
}

void pci_func_reset_regs(struct pci_func *f)
{
	f->config_vector = VIRTIO_MSI_NO_VECTOR;
	for (unsigned i = 0; i < VDEV_MAX_QUEUES; i++)
		f->queue_vector[i] = VIRTIO_MSI_NO_VECTOR;
	f->isr = 0;
	if (f->fops->reset_regs)
		f->fops->reset_regs(f);
}

uint8_t pci_func_isr_read(struct pci_func *f)
{
	uint8_t isr = f->isr;

	f->isr = 0;
	return isr;
}

/* ---- regions ----------------------------------------------------------- */

int pci_func_region_info(struct transport *t, uint32_t index, uint64_t *size,
			 uint32_t *flags)
{
	struct pci_func *f = to_pci_func(t);

	if (index >= PCI_FUNC_NUM_REGIONS)
		return -EINVAL;
	*flags = TRANSPORT_REGION_READ | TRANSPORT_REGION_WRITE;
	switch (index) {
	case PCI_FUNC_REGION_BAR0:
		/* Memory or I/O: the client reads the BAR's type in config
		 * space. */
		*size = f->bar0_size;
		break;
	case PCI_FUNC_REGION_BAR1:
		*size = PCI_FUNC_BAR1_SIZE;
		break;
	case PCI_FUNC_REGION_CONFIG:
		*size = PCI_CFG_SPACE_SIZE;
		break;
	default:
		*size = 0;
		*flags = 0;
	}
	return 0;
}

int pci_func_bar_access(struct pci_func *f, uint32_t region, uint64_t off,
			void *buf, uint32_t len, bool write)
{
	uint64_t size = region == PCI_FUNC_REGION_BAR0 ? f->bar0_size : PCI_FUNC_BAR1_SIZE;

	if (len == 0 || len > 8 || off >= size || len > size - off)
		return -EINVAL;
	if (region == PCI_FUNC_REGION_BAR0)
		return f->fops->bar0_access(f, off, buf, len, write);
	/* BAR1: the MSI-X table and PBA are owned by the vfio-user client
	 * (as with VFIO); we keep what it writes so reads are coherent. */
	if (write)
		memcpy(&f->msix_bar[off], buf, len);
	else
		memcpy(buf, &f->msix_bar[off], len);
	return 0;
}

static int config_access(struct pci_func *f, uint64_t off, void *buf,
			 uint32_t len, bool write)
{
	int rc = 0;

	if (!pci_cfg_access_ok(off, len))
		return -EINVAL;
	if (f->fops->config_hook && f->fops->config_hook(f, off, buf, len, write, &rc))
		return rc;
	if (!write) {
		pci_cfg_read(&f->cfg, (unsigned)off, buf, len);
		return 0;
	}
	pci_cfg_write(&f->cfg, (unsigned)off, buf, len);
	/* Clearing INTx-disable (or MSI-X enable) with ISR set asserts
	 * the line. */
	pci_func_intx_update(f);
	return 0;
}

static int region_access(struct transport *t, uint32_t index, uint64_t off,
			 void *buf, uint32_t len, bool write)
{
	struct pci_func *f = to_pci_func(t);

	if (index == PCI_FUNC_REGION_CONFIG)
		return config_access(f, off, buf, len, write);
	if (index == PCI_FUNC_REGION_BAR0 || index == PCI_FUNC_REGION_BAR1)
		return pci_func_bar_access(f, index, off, buf, len, write);
	return -EINVAL;
}

int pci_func_region_read(struct transport *t, uint32_t index, uint64_t off,
			 void *buf, uint32_t len)
{
	return region_access(t, index, off, buf, len, false);
}

int pci_func_region_write(struct transport *t, uint32_t index, uint64_t off,
			  const void *buf, uint32_t len)
{
	uint8_t tmp[PCI_CFG_SPACE_SIZE];

	/* A private copy: what the client sent is read once. */
	if (len > sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, buf, len);
	return region_access(t, index, off, tmp, len, true);
}

/* ---- interrupts -------------------------------------------------------- */

int pci_func_irq_info(struct transport *t, uint32_t index, uint32_t *count,
		      uint32_t *flags)
{
	if (index >= PCI_FUNC_NUM_IRQS)
		return -EINVAL;
	*flags = TRANSPORT_IRQ_EVENTFD;
	switch (index) {
	case TRANSPORT_IRQ_INTX:
		*count = 1;
		*flags |= TRANSPORT_IRQ_MASKABLE | TRANSPORT_IRQ_AUTOMASKED;
		break;
	case TRANSPORT_IRQ_MSIX:
		*count = to_pci_func(t)->msix_vectors;
		break;
	default:
		*count = 0;
	}
	return 0;
}

void pci_func_irqs_changed(struct transport *t, uint32_t index)
{
	/* An unmask, a new INTx eventfd or MSI-X going away may let a
	 * pending ISR through. */
	(void)index;
	pci_func_intx_update(to_pci_func(t));
}

bool pci_func_raise(void *ctx, int q)
{
	struct transport *t = ctx;
	struct pci_func *f = to_pci_func(t);
	uint16_t vec;

	if (q == VDEV_CONFIG_IRQ) {
		f->isr |= VIRTIO_PCI_ISR_CONFIG;
		vec = f->config_vector;
	} else if (q >= 0 && (unsigned)q < t->vdev->num_queues) {
		vec = f->queue_vector[q];
	} else {
		return false;
	}
	if (pci_func_msix_active(f)) {
		if (vec == VIRTIO_MSI_NO_VECTOR)
			return false;
		return transport_fire(t, TRANSPORT_IRQ_MSIX, vec);
	}
	/* INTx: the ISR bit is set before the interrupt (4.1.5.3, 4.1.5.4). */
	if (q != VDEV_CONFIG_IRQ)
		f->isr |= VIRTIO_PCI_ISR_QUEUE;
	return pci_func_intx_update(f);
}

void pci_func_reset(struct transport *t)
{
	struct pci_func *f = to_pci_func(t);

	pci_func_reset_regs(f);
	pci_cfg_function_reset(&f->cfg, f->msix_cap);
	vdev_reset(t->vdev);
}

void pci_func_destroy(struct transport *t)
{
	free(to_pci_func(t));
}

/* ---- migration --------------------------------------------------------- */

struct pci_func_state {
	uint8_t cfg[PCI_CFG_SPACE_SIZE];
	uint8_t bar1[PCI_FUNC_BAR1_SIZE];
	uint16_t config_vector;
	uint16_t queue_vector[VDEV_MAX_QUEUES];
	uint8_t isr;
	uint8_t reserved[3];
	uint32_t flavour[PCI_FUNC_FLAVOUR_REGS];
};
static_assert(sizeof(struct pci_func_state) ==
		      PCI_CFG_SPACE_SIZE + PCI_FUNC_BAR1_SIZE + 2 + 2 * VDEV_MAX_QUEUES + 4 +
			      4 * PCI_FUNC_FLAVOUR_REGS,
	      "PCI function state layout");

void pci_func_state_save(struct transport *t, struct state_out *o)
{
	struct pci_func *f = to_pci_func(t);
	struct pci_func_state *s = calloc(1, sizeof(*s));

	if (!s) {
		o->err = -ENOMEM;
		return;
	}
	memcpy(s->cfg, f->cfg.data, sizeof(s->cfg));
	memcpy(s->bar1, f->msix_bar, sizeof(s->bar1));
	s->config_vector = f->config_vector;
	memcpy(s->queue_vector, f->queue_vector, sizeof(s->queue_vector));
	s->isr = f->isr;
	if (f->fops->save_regs)
		f->fops->save_regs(f, s->flavour);
	state_put(o, STATE_REC_TRANSPORT, s, sizeof(*s));
	free(s);
}

int pci_func_state_load(struct transport *t, const uint8_t *data, uint32_t len, char *why,
			size_t whylen)
{
	struct pci_func *f = to_pci_func(t);
	struct pci_func_state *s;
	int rc = 0;

	if (len != sizeof(*s)) {
		snprintf(why, whylen, "PCI transport record of %u bytes; this version's is %zu", len,
			 sizeof(*s));
		return -EINVAL;
	}
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, data, sizeof(*s));
	if (s->isr & ~(VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG)) {
		snprintf(why, whylen, "PCI transport record: ISR 0x%x has undefined bits", s->isr);
		rc = -EINVAL;
	} else if (f->fops->load_regs) {
		rc = f->fops->load_regs(f, s->flavour, why, whylen);
	}
	if (rc == 0) {
		/* Only what a driver may write: the read-only parts of config
		 * space (IDs, capabilities, BAR sizes) stay this device's. */
		pci_cfg_write(&f->cfg, 0, s->cfg, sizeof(s->cfg));
		/* BAR1 (MSI-X table and PBA) is the client's storage. */
		memcpy(f->msix_bar, s->bar1, sizeof(f->msix_bar));
		/* 4.1.5.1.2: a vector the device cannot use is NO_VECTOR. */
		f->config_vector = pci_func_checked_vector(f, s->config_vector);
		for (unsigned q = 0; q < VDEV_MAX_QUEUES; q++)
			f->queue_vector[q] = pci_func_checked_vector(f, s->queue_vector[q]);
		f->isr = s->isr;
	}
	free(s);
	return rc;
}
