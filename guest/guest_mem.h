/* SPDX-License-Identifier: MIT */
/*
 * guest_mem.h - the guest's RAM: one /dev/shm file, mapped shared, that
 * the device maps too (vfio-user DMA_MAP with the fd).  Guest-physical
 * address 0 is the start of the file.  Rings and buffer pools are carved
 * out with a bump allocator at open time; nothing is ever freed one piece
 * at a time (the whole RAM goes at close), so the data path never
 * allocates.
 */
#ifndef VNET_GUEST_MEM_H
#define VNET_GUEST_MEM_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/gmem.h"

#define GUEST_MEM_DEFAULT_SIZE (UINT64_C(64) << 20)
#define GUEST_MEM_MIN_SIZE     (UINT64_C(1) << 20)
#define GUEST_MEM_MAX_SIZE     (UINT64_C(64) << 30)

struct guest_mem {
	int fd;			/* the RAM file; passed to vfc_dma_map */
	bool huge;		/* on huge pages (guest_mem_create_huge) */
	uint8_t *base;		/* local address of gpa 0 */
	uint64_t size;
	uint64_t used;		/* bump pointer (bytes from base) */
	struct gmem gm;		/* one window: gpa [0, size) -> base */
};

/* Creates and maps size bytes of RAM (a multiple of 4096, within
 * GUEST_MEM_MIN_SIZE..GUEST_MEM_MAX_SIZE).  -errno on failure, with
 * nothing left behind. */
int guest_mem_create(struct guest_mem *m, uint64_t size);
/* The same on huge pages (a memfd with MFD_HUGETLB, the system's default
 * huge page size): size must be a whole number of them, and -ENOMEM with
 * a logged reason naming the free count when too few are free. */
int guest_mem_create_huge(struct guest_mem *m, uint64_t size);
/* Unmaps and closes.  Safe on a zeroed or already destroyed struct. */
void guest_mem_destroy(struct guest_mem *m);

/* Carves size bytes aligned to align (a power of two) out of the RAM,
 * zeroed.  *va gets the local address and *gpa (optional) the guest
 * address.  -EINVAL on a bad size/alignment, -ENOMEM when exhausted. */
int guest_mem_alloc(struct guest_mem *m, size_t size, size_t align, void **va,
		    uint64_t *gpa);
/* Bytes still free (ignoring alignment). */
uint64_t guest_mem_free_bytes(const struct guest_mem *m);

/* Parses "64M", "1G", "65536", "512K" (suffixes K/M/G, optional "iB"/"B",
 * case-insensitive; binary units).  -EINVAL on syntax or overflow. */
int guest_mem_parse_size(const char *s, uint64_t *out);

#endif /* VNET_GUEST_MEM_H */
