/* SPDX-License-Identifier: MIT */
/*
 * proto.h - vfio-user wire layouts (QEMU docs/interop/vfio-user.rst; our
 * notes in reference/vfio-user.md).  Only the commands vnet speaks are
 * given full structures.  All integers are in host byte order (the spec's
 * "Protocol Specification" intro), and every struct is packed so that the
 * compiler cannot add padding: the static_asserts pin what goes on the wire.
 */
#ifndef VNET_VFIO_USER_PROTO_H
#define VNET_VFIO_USER_PROTO_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* "Commands" table. */
enum vfio_user_command {
	VFIO_USER_VERSION = 1,
	VFIO_USER_DMA_MAP = 2,
	VFIO_USER_DMA_UNMAP = 3,
	VFIO_USER_DEVICE_GET_INFO = 4,
	VFIO_USER_DEVICE_GET_REGION_INFO = 5,
	VFIO_USER_DEVICE_GET_REGION_IO_FDS = 6,
	VFIO_USER_DEVICE_GET_IRQ_INFO = 7,
	VFIO_USER_DEVICE_SET_IRQS = 8,
	VFIO_USER_REGION_READ = 9,
	VFIO_USER_REGION_WRITE = 10,
	VFIO_USER_DMA_READ = 11,
	VFIO_USER_DMA_WRITE = 12,
	VFIO_USER_DEVICE_RESET = 13,
	/* 14 was DIRTY_PAGES, withdrawn. */
	VFIO_USER_REGION_WRITE_MULTI = 15,
	VFIO_USER_DEVICE_FEATURE = 16,
	VFIO_USER_MIG_DATA_READ = 17,
	VFIO_USER_MIG_DATA_WRITE = 18,
};

/* "Header": 16 bytes in front of every message; size counts the header. */
struct vfio_user_header {
	uint16_t msg_id;
	uint16_t command;
	uint32_t size;
	uint32_t flags;
	uint32_t error;		/* positive errno, valid with FLAG_ERROR */
} __attribute__((packed));
static_assert(sizeof(struct vfio_user_header) == 16, "vfio-user header");
static_assert(offsetof(struct vfio_user_header, size) == 4, "header.size");
static_assert(offsetof(struct vfio_user_header, flags) == 8, "header.flags");
static_assert(offsetof(struct vfio_user_header, error) == 12, "header.error");

#define VFIO_USER_HDR_SIZE ((uint32_t)sizeof(struct vfio_user_header))

#define VFIO_USER_F_TYPE_MASK	 0xfu
#define VFIO_USER_F_TYPE_COMMAND 0x0u
#define VFIO_USER_F_TYPE_REPLY	 0x1u
#define VFIO_USER_F_NO_REPLY	 0x10u
#define VFIO_USER_F_ERROR	 0x20u

/* VERSION: major, minor, then optional NUL-terminated JSON. */
struct vfio_user_version {
	uint16_t major;
	uint16_t minor;
} __attribute__((packed));
static_assert(sizeof(struct vfio_user_version) == 4, "version");

/* DMA_MAP request (no reply payload); argsz is this struct's size. */
struct vfio_user_dma_map {
	uint32_t argsz;
	uint32_t flags;
	uint64_t offset;	/* file offset of `address` in the passed fd */
	uint64_t address;
	uint64_t size;
} __attribute__((packed));
static_assert(sizeof(struct vfio_user_dma_map) == 32, "dma_map");
static_assert(offsetof(struct vfio_user_dma_map, offset) == 8, "dma_map.offset");
static_assert(offsetof(struct vfio_user_dma_map, address) == 16, "dma_map.address");
static_assert(offsetof(struct vfio_user_dma_map, size) == 24, "dma_map.size");

#define VFIO_USER_DMA_MAP_F_READ  0x1u
#define VFIO_USER_DMA_MAP_F_WRITE 0x2u
/* libvfio-user extensions: MMAP = "an fd is sent, mmap it" (which is what
 * we do anyway); FILE_IO = pread/pwrite on the fd (not supported). */
#define VFIO_USER_DMA_MAP_F_MMAP    0x4u
#define VFIO_USER_DMA_MAP_F_FILE_IO 0x8u

/* DMA_UNMAP request; the reply echoes it. */
struct vfio_user_dma_unmap {
	uint32_t argsz;
	uint32_t flags;
	uint64_t address;
	uint64_t size;
} __attribute__((packed));
static_assert(sizeof(struct vfio_user_dma_unmap) == 24, "dma_unmap");
static_assert(offsetof(struct vfio_user_dma_unmap, address) == 8, "dma_unmap.address");
static_assert(offsetof(struct vfio_user_dma_unmap, size) == 16, "dma_unmap.size");

/* Kernel VFIO's value, accepted by libvfio-user: address = size = 0. */
#define VFIO_USER_DMA_UNMAP_F_GET_DIRTY_BITMAP 0x1u
#define VFIO_USER_DMA_UNMAP_F_ALL	       0x2u

/* DEVICE_GET_INFO request and reply. */
struct vfio_user_device_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t num_regions;
	uint32_t num_irqs;
} __attribute__((packed));
static_assert(sizeof(struct vfio_user_device_info) == 16, "device_info");
static_assert(offsetof(struct vfio_user_device_info, num_irqs) == 12, "device_info.num_irqs");

#define VFIO_USER_DEVICE_F_RESET    0x1u
#define VFIO_USER_DEVICE_F_PCI	    0x2u
/* Not in vfio-user (Linux VFIO's value): our virtio-mmio extension. */
#define VFIO_USER_DEVICE_F_PLATFORM 0x4u

/* DEVICE_GET_REGION_INFO request and reply (capabilities follow). */
struct vfio_user_region_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t cap_offset;	/* from the start of this struct; 0 = none */
	uint64_t size;
	uint64_t offset;	/* mmap offset on the region fd */
} __attribute__((packed));
static_assert(sizeof(struct vfio_user_region_info) == 32, "region_info");
static_assert(offsetof(struct vfio_user_region_info, cap_offset) == 12, "region_info.cap_offset");
static_assert(offsetof(struct vfio_user_region_info, size) == 16, "region_info.size");
static_assert(offsetof(struct vfio_user_region_info, offset) == 24, "region_info.offset");

#define VFIO_USER_REGION_F_READ	 0x1u
#define VFIO_USER_REGION_F_WRITE 0x2u
#define VFIO_USER_REGION_F_MMAP	 0x4u
#define VFIO_USER_REGION_F_CAPS	 0x8u

/* "VFIO cap header format": starts every region capability. */
struct vfio_user_cap_header {
	uint16_t id;
	uint16_t version;
	uint32_t next;		/* from the start of the region info; 0 ends */
} __attribute__((packed));
static_assert(sizeof(struct vfio_user_cap_header) == 8, "cap_header");

#define VFIO_USER_REGION_CAP_SPARSE_MMAP 1
#define VFIO_USER_REGION_CAP_TYPE	 2

/* DEVICE_GET_REGION_IO_FDS request, and the fixed part of its reply. */
struct vfio_user_region_io_fds {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t count;		/* request: 0; reply: number of entries */
} __attribute__((packed));
static_assert(sizeof(struct vfio_user_region_io_fds) == 16, "region_io_fds");

/* "Sub-Region IO FD info format (ioeventfd)": the spec's 40-byte entry.
 * libvfio-user sends 48 bytes (shadow fields before datamatch), so a
 * reader takes the stride from (argsz - 16) / count and datamatch from the
 * entry's last 8 bytes. */
struct vfio_user_ioeventfd {
	uint64_t offset;
	uint64_t size;		/* 0 = any access width */
	uint32_t fd_index;
	uint32_t type;
	uint32_t flags;
	uint32_t pad;
	uint64_t datamatch;
} __attribute__((packed));
static_assert(sizeof(struct vfio_user_ioeventfd) == 40, "ioeventfd entry");
static_assert(offsetof(struct vfio_user_ioeventfd, fd_index) == 16, "ioeventfd.fd_index");
static_assert(offsetof(struct vfio_user_ioeventfd, type) == 20, "ioeventfd.type");
static_assert(offsetof(struct vfio_user_ioeventfd, flags) == 24, "ioeventfd.flags");
static_assert(offsetof(struct vfio_user_ioeventfd, datamatch) == 32, "ioeventfd.datamatch");

#define VFIO_USER_IO_FD_TYPE_IOEVENTFD	      0
#define VFIO_USER_IO_FD_TYPE_IOREGIONFD	      1
#define VFIO_USER_IO_FD_TYPE_SHADOW_IOEVENTFD 2	/* libvfio-user */
/* KVM_IOEVENTFD_FLAG_* */
#define VFIO_USER_IOEVENTFD_F_DATAMATCH 0x1u
#define VFIO_USER_IOEVENTFD_F_PIO	0x2u

/* DEVICE_GET_IRQ_INFO request and reply. */
struct vfio_user_irq_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t count;
} __attribute__((packed));
static_assert(sizeof(struct vfio_user_irq_info) == 16, "irq_info");

#define VFIO_USER_IRQ_INFO_F_EVENTFD	0x1u
#define VFIO_USER_IRQ_INFO_F_MASKABLE	0x2u
#define VFIO_USER_IRQ_INFO_F_AUTOMASKED 0x4u
#define VFIO_USER_IRQ_INFO_F_NORESIZE	0x8u

/* DEVICE_SET_IRQS request (no reply payload); DATA_BOOL bytes follow. */
struct vfio_user_irq_set {
	uint32_t argsz;		/* size of the request, data included */
	uint32_t flags;
	uint32_t index;
	uint32_t start;
	uint32_t count;
} __attribute__((packed));
static_assert(sizeof(struct vfio_user_irq_set) == 20, "irq_set");
static_assert(offsetof(struct vfio_user_irq_set, count) == 16, "irq_set.count");

#define VFIO_USER_IRQ_SET_DATA_NONE	 0x1u
#define VFIO_USER_IRQ_SET_DATA_BOOL	 0x2u
#define VFIO_USER_IRQ_SET_DATA_EVENTFD	 0x4u
#define VFIO_USER_IRQ_SET_DATA_MASK	 0x7u
#define VFIO_USER_IRQ_SET_ACTION_MASK	 0x8u
#define VFIO_USER_IRQ_SET_ACTION_UNMASK	 0x10u
#define VFIO_USER_IRQ_SET_ACTION_TRIGGER 0x20u
#define VFIO_USER_IRQ_SET_ACTION_MASK_ALL 0x38u

/* REGION_READ/WRITE: request and reply start with this; data follows the
 * read reply and the write request. */
struct vfio_user_region_access {
	uint64_t offset;
	uint32_t region;
	uint32_t count;
} __attribute__((packed));
static_assert(sizeof(struct vfio_user_region_access) == 16, "region_access");
static_assert(offsetof(struct vfio_user_region_access, region) == 8, "region_access.region");
static_assert(offsetof(struct vfio_user_region_access, count) == 12, "region_access.count");

/* DMA_READ/WRITE (server to client; we never send them, and our client
 * refuses them because every window it maps comes with an fd). */
struct vfio_user_dma_access {
	uint64_t address;
	uint64_t count;
} __attribute__((packed));
static_assert(sizeof(struct vfio_user_dma_access) == 16, "dma_access");

/* Defaults when a capability is absent ("VFIO_USER_VERSION" table). */
#define VFIO_USER_DEFAULT_MAX_FDS	1u
#define VFIO_USER_DEFAULT_MAX_XFER	(1024u * 1024u)
#define VFIO_USER_DEFAULT_MAX_DMA_MAPS	65535u
#define VFIO_USER_DEFAULT_PGSIZES	4096u

#endif /* VNET_VFIO_USER_PROTO_H */
