/* SPDX-License-Identifier: MIT */
/*
 * vfio_client.h - a small VFIO-like device API (regions, DMA map,
 * interrupt eventfds, doorbell eventfds) backed by a vfio-user client.
 * The virtio-net driver is written against this API only, so the same
 * driver could sit on kernel VFIO.
 *
 * All calls return 0 / a non-negative value or -errno; they never touch
 * errno for the caller and never abort on anything the server sends.
 */
#ifndef VNET_GUEST_VFIO_CLIENT_H
#define VNET_GUEST_VFIO_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Region indices of a PCI device (vfio-user / VFIO). */
#define VFC_PCI_BAR0_REGION   0
#define VFC_PCI_CONFIG_REGION 7
#define VFC_PCI_NUM_REGIONS   9
/* IRQ indices of a PCI device. */
#define VFC_PCI_INTX_IRQ 0
#define VFC_PCI_MSI_IRQ	 1
#define VFC_PCI_MSIX_IRQ 2
/* Platform (virtio-mmio) device, our extension: region 0 is the register
 * window, irq index 0 the interrupt line. */
#define VFC_PLATFORM_REGS_REGION 0
#define VFC_PLATFORM_IRQ	 0

/* DEVICE_GET_INFO flags */
#define VFC_DEVICE_FLAGS_RESET	  0x1
#define VFC_DEVICE_FLAGS_PCI	  0x2
#define VFC_DEVICE_FLAGS_PLATFORM 0x4

/* Region flags */
#define VFC_REGION_READ	 0x1
#define VFC_REGION_WRITE 0x2
#define VFC_REGION_MMAP	 0x4

#define VFC_MAX_IOFDS 64

struct vfc_region {
	uint64_t size;		/* 0 = absent */
	uint32_t flags;
};

/* One doorbell handed out by GET_REGION_IO_FDS: a write of `size` bytes
 * (0 = any) at `offset` in the region (matching `datamatch` when
 * has_datamatch) may be replaced by an 8-byte write to `fd`. */
struct vfc_iofd {
	uint64_t offset;
	uint64_t size;
	uint64_t datamatch;
	bool has_datamatch;
	int fd;
};

struct vfc_device {
	int sock;
	uint16_t next_msg_id;
	uint16_t server_major, server_minor;
	uint32_t server_max_fds;	/* from VERSION, default 1 */
	uint32_t server_max_xfer;	/* default 1 MiB */
	uint32_t flags;			/* DEVICE_GET_INFO flags */
	uint32_t num_regions;
	uint32_t num_irqs;
	struct vfc_region regions[16];
	uint32_t irq_count[8];		/* GET_IRQ_INFO count per index */
	uint32_t irq_flags[8];
};

/* Connects to a vfio-user server on the UNIX socket path, negotiates the
 * version, reads device, region and irq info.  -errno on failure (a
 * refusal by the server is reported as the server's errno, e.g. -EBUSY
 * when the device already has a client). */
int vfc_open(struct vfc_device *dev, const char *socket_path);
void vfc_close(struct vfc_device *dev);

/* REGION_READ / REGION_WRITE of len bytes (len <= server_max_xfer). */
int vfc_region_read(struct vfc_device *dev, uint32_t region, uint64_t off,
		    void *buf, uint32_t len);
int vfc_region_write(struct vfc_device *dev, uint32_t region, uint64_t off,
		     const void *buf, uint32_t len);
/* Convenience accessors (little-endian values). */
int vfc_read8(struct vfc_device *dev, uint32_t region, uint64_t off, uint8_t *v);
int vfc_read16(struct vfc_device *dev, uint32_t region, uint64_t off, uint16_t *v);
int vfc_read32(struct vfc_device *dev, uint32_t region, uint64_t off, uint32_t *v);
int vfc_write8(struct vfc_device *dev, uint32_t region, uint64_t off, uint8_t v);
int vfc_write16(struct vfc_device *dev, uint32_t region, uint64_t off, uint16_t v);
int vfc_write32(struct vfc_device *dev, uint32_t region, uint64_t off, uint32_t v);

/* DMA_MAP: the device may read/write [iova, iova+size), which is file
 * offset `off` of fd. */
int vfc_dma_map(struct vfc_device *dev, uint64_t iova, uint64_t size, int fd,
		uint64_t off, bool writable);
int vfc_dma_unmap(struct vfc_device *dev, uint64_t iova, uint64_t size);

/* SET_IRQS DATA_EVENTFD|TRIGGER: binds vectors start..start+count-1 of
 * irq index to fds (fd -1 unbinds that vector).  Splits into chunks of
 * the server's max_msg_fds. */
int vfc_set_irq_eventfds(struct vfc_device *dev, uint32_t index, uint32_t start,
			 uint32_t count, const int *fds);
/* SET_IRQS DATA_NONE|TRIGGER start 0 count 0: disables the whole index. */
int vfc_disable_irqs(struct vfc_device *dev, uint32_t index);
/* SET_IRQS DATA_NONE|UNMASK for one vector (INTx is automasked). */
int vfc_unmask_irq(struct vfc_device *dev, uint32_t index, uint32_t vector);

/* GET_REGION_IO_FDS: fills up to max entries; returns the count, or
 * -errno (-EINVAL / -ENOTSUP when the server has none).  The caller owns
 * the fds (several entries may share one fd: close each distinct fd once,
 * vfc_close_iofds does that). */
int vfc_get_region_io_fds(struct vfc_device *dev, uint32_t region,
			  struct vfc_iofd *out, unsigned max);
void vfc_close_iofds(struct vfc_iofd *fds, unsigned n);

/* DEVICE_RESET. */
int vfc_reset(struct vfc_device *dev);

/* Migration (vfio-user.rst "Migration", Linux's VFIO v2 states).
 * vfc_mig_supported: 0 when the device can be moved (DEVICE_FEATURE
 * MIGRATION with STOP_COPY), else -ENOTSUP or the server's error.
 * vfc_mig_set_state: MIG_DEVICE_STATE to state (the device may refuse,
 * e.g. a state blob it cannot take: -EINVAL).  vfc_mig_read: up to max
 * bytes of the state (STOP_COPY); fewer in *got means the end.
 * vfc_mig_write: len bytes of state (RESUMING), in chunks. */
#define VFC_MIG_STOP	  1u
#define VFC_MIG_RUNNING	  2u
#define VFC_MIG_STOP_COPY 3u
#define VFC_MIG_RESUMING  4u
int vfc_mig_supported(struct vfc_device *dev);
int vfc_mig_set_state(struct vfc_device *dev, uint32_t state);
int vfc_mig_read(struct vfc_device *dev, void *buf, uint32_t max, uint32_t *got);
int vfc_mig_write(struct vfc_device *dev, const void *buf, uint32_t len);

/* Dirty-page logging (DEVICE_FEATURE DMA_LOGGING_START / STOP / REPORT):
 * start over every mapped window at *page_size (the device may answer
 * with another, stored back); the bitmap of [iova, iova+length) at
 * page_size into words u64s (handed over and cleared by the device). */
int vfc_dma_logging_start(struct vfc_device *dev, uint64_t *page_size);
int vfc_dma_logging_stop(struct vfc_device *dev);
int vfc_dma_logging_report(struct vfc_device *dev, uint64_t iova, uint64_t length,
			   uint64_t page_size, uint64_t *bitmap, size_t words);

#endif /* VNET_GUEST_VFIO_CLIENT_H */
