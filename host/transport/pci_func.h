/* SPDX-License-Identifier: MIT */
/*
 * pci_func.h - the PCI function both virtio-pci flavours are (modern,
 * pci_modern.c; legacy, pci_legacy.c): config space with an MSI-X
 * capability, BAR1 holding the MSI-X table and PBA (owned by the
 * vfio-user client, as with VFIO), the ISR byte and the INTx level it
 * drives, the MSI-X vectors the driver chose, and the transport ops that
 * do not depend on the virtio register layout.  A flavour embeds struct
 * pci_func first and supplies its BAR0 registers through pci_func_ops.
 */
#ifndef VNET_HOST_PCI_FUNC_H
#define VNET_HOST_PCI_FUNC_H

#include <stdbool.h>
#include <stdint.h>

#include "host/transport/pci_cfg.h"
#include "host/transport/transport.h"
#include "host/dev/vdev.h"

/* vfio-user region indices (VFIO_PCI_*_REGION_INDEX). */
#define PCI_FUNC_REGION_BAR0   0
#define PCI_FUNC_REGION_BAR1   1
#define PCI_FUNC_REGION_CONFIG 7
#define PCI_FUNC_NUM_REGIONS   9
#define PCI_FUNC_NUM_IRQS      5

#define PCI_FUNC_BAR1_SIZE     0x1000u
#define PCI_FUNC_MSIX_PBA_OFF  0x800u
/* MSI-X vectors: one per queue and one for config changes, at least 4
 * (config, rx, tx, ctrl: what a one-pair device always had). */
#define PCI_FUNC_MSIX_MIN_VECTORS 4u

struct pci_func;

struct pci_func_ops {
	/* The flavour's BAR0 registers; off/len already inside BAR0. */
	int (*bar0_access)(struct pci_func *f, uint64_t off, void *buf,
			   uint32_t len, bool write);
	/* A config-space access the flavour serves itself (modern: the
	 * PCI_CFG window, 4.1.4.9): 1 when handled (rc in *rc), 0 when not.
	 * NULL: none. */
	int (*config_hook)(struct pci_func *f, uint64_t off, void *buf,
			   uint32_t len, bool write, int *rc);
	/* The flavour's own registers back to their reset values. */
	void (*reset_regs)(struct pci_func *f);
	/* Its registers for a device state, and back (migration): at most
	 * PCI_FUNC_FLAVOUR_REGS values; load refuses what a write would. */
	void (*save_regs)(const struct pci_func *f, uint32_t *regs);
	int (*load_regs)(struct pci_func *f, const uint32_t *regs, char *why, size_t whylen);
};
#define PCI_FUNC_FLAVOUR_REGS 4

struct pci_func {
	struct transport t;		/* first: a transport is a pci_func */
	const struct pci_func_ops *fops;
	struct pci_cfg cfg;
	uint64_t bar0_size;
	uint8_t msix_cap;
	uint8_t msix_bar[PCI_FUNC_BAR1_SIZE];
	uint16_t config_vector;		/* 4.1.5.1.2, NO_VECTOR when none */
	unsigned msix_vectors;		/* table size, pci_func_init */
	uint16_t queue_vector[VDEV_MAX_QUEUES];
	uint8_t isr;			/* VIRTIO_PCI_ISR_*, read clears */
};

static inline struct pci_func *to_pci_func(struct transport *t)
{
	return container_of(t, struct pci_func, t);
}

/* Sets up the transport part and the MSI-X capability (table size
 * msix_vectors in BAR1 at 0, PBA at PCI_FUNC_MSIX_PBA_OFF) in a
 * config space the flavour has started with pci_cfg_init and its BARs. */
void pci_func_init(struct pci_func *f, const struct transport_ops *ops,
		   const struct pci_func_ops *fops, struct vdev *vd,
		   uint64_t bar0_size);
void pci_func_add_msix(struct pci_func *f);

/* MSI-X is on: enabled in config space, or (VFIO semantics) vectors
 * bound with SET_IRQS. */
bool pci_func_msix_active(const struct pci_func *f);
/* INTx is a level (asserted while ISR is non-zero) and its eventfd an
 * edge, so the line is AUTOMASKED as with vfio-pci: each delivery masks
 * it until the client's SET_IRQS UNMASK, and an unmask that finds ISR
 * still set delivers again.  Called wherever the level or the mask may
 * have changed; true when an interrupt was delivered. */
bool pci_func_intx_update(struct pci_func *f);
/* 4.1.5.1.2: a vector the device cannot use reads back NO_VECTOR. */
uint16_t pci_func_checked_vector(const struct pci_func *f, uint16_t v);
/* A virtio reset (status 0): vectors NO_VECTOR, ISR clear, and the
 * flavour's registers. */
void pci_func_reset_regs(struct pci_func *f);
/* Reads and clears ISR (4.1.4.5); the level drops with it. */
uint8_t pci_func_isr_read(struct pci_func *f);

/* transport_ops entries both flavours use as they are. */
int pci_func_region_info(struct transport *t, uint32_t index, uint64_t *size,
			 uint32_t *flags);
int pci_func_region_read(struct transport *t, uint32_t index, uint64_t off,
			 void *buf, uint32_t len);
int pci_func_region_write(struct transport *t, uint32_t index, uint64_t off,
			  const void *buf, uint32_t len);
int pci_func_irq_info(struct transport *t, uint32_t index, uint32_t *count,
		      uint32_t *flags);
void pci_func_reset(struct transport *t);
void pci_func_irqs_changed(struct transport *t, uint32_t index);
/* Migration: config space, BAR1, vectors, ISR and the flavour's
 * registers (transport_ops state_save / state_load). */
void pci_func_state_save(struct transport *t, struct state_out *o);
int pci_func_state_load(struct transport *t, const uint8_t *data, uint32_t len, char *why,
			size_t whylen);
/* The interrupt part (struct vdev_irq; ctx is the transport). */
bool pci_func_raise(void *ctx, int q);
void pci_func_destroy(struct transport *t);

/* Any BAR access (BAR0 to the flavour, BAR1 the MSI-X table). */
int pci_func_bar_access(struct pci_func *f, uint32_t region, uint64_t off,
			void *buf, uint32_t len, bool write);

#endif /* VNET_HOST_PCI_FUNC_H */
