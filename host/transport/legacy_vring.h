/* SPDX-License-Identifier: MIT */
/*
 * legacy_vring.h - where the three parts of a split ring lie when a
 * legacy driver gives only one address (virtio 1.2, 2.7.2 "Legacy
 * Interfaces: A Note on Virtqueue Layout"):
 *
 *   struct virtq {
 *       struct virtq_desc desc[qsz];            16 * qsz bytes
 *       le16 avail_flags, avail_idx;            the available ring,
 *       le16 available[qsz];                    used_event included
 *       le16 used_event;                        whether or not EVENT_IDX
 *       u8 pad[];                               up to the alignment
 *       le16 used_flags, used_idx;              the used ring
 *       struct virtq_used_elem used[qsz];
 *       le16 avail_event;
 *   };
 *
 * Used by the legacy PCI transport (QueuePFN, alignment 4096, 4.1.4.10)
 * and virtio-mmio version 1 (QueuePFN * GuestPageSize, QueueAlign, 4.2.4).
 */
#ifndef VNET_HOST_LEGACY_VRING_H
#define VNET_HOST_LEGACY_VRING_H

#include <stdbool.h>
#include <stdint.h>

struct legacy_vring {
	uint64_t desc, avail, used;
};

/* The addresses of a ring of qsz entries at base with its used ring
 * aligned to align (a power of two); false when align is not one or the
 * ring would wrap around the 64-bit address space. */
static inline bool legacy_vring_layout(uint64_t base, uint32_t qsz,
				       uint64_t align, struct legacy_vring *out)
{
	uint64_t avail_end, used, used_end;

	if (align == 0 || (align & (align - 1)))
		return false;
	/* qsz <= 32768 and align <= 2^63: none of these sums can overflow
	 * before the checks below catch it. */
	avail_end = 16u * (uint64_t)qsz + 6u + 2u * (uint64_t)qsz;
	if (base > UINT64_MAX - avail_end - (align - 1))
		return false;
	used = (base + avail_end + align - 1) & ~(align - 1);
	used_end = 6u + 8u * (uint64_t)qsz;
	if (used > UINT64_MAX - used_end)
		return false;
	out->desc = base;
	out->avail = base + 16u * (uint64_t)qsz;
	out->used = used;
	return true;
}

#endif /* VNET_HOST_LEGACY_VRING_H */
