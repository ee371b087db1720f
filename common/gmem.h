/* SPDX-License-Identifier: MIT */
/*
 * gmem.h - guest-physical address translation.
 *
 * A table of windows, each mapping [gpa, gpa+size) to local memory.  The
 * device side fills it from vfio-user DMA_MAP (the guest's RAM fd, mmapped
 * here); the driver side has one window over the RAM it owns.  Every
 * translation checks the whole range against one window, with overflow
 * checks, and never trusts a length: a range that is not entirely inside
 * a window is refused.
 */
#ifndef VNET_GMEM_H
#define VNET_GMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GMEM_MAX_WINDOWS 64

struct gmem_window {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;	/* local address of gpa */
	bool owned;	/* hva is an mmap gmem must munmap */
	bool writable;	/* DMA_MAP gave WRITE */
};

struct gmem {
	struct gmem_window win[GMEM_MAX_WINDOWS];
	unsigned n;
	/* Bumped on every change, so cached translations can be revalidated. */
	uint32_t generation;
};

void gmem_init(struct gmem *gm);
/* Drops (and munmaps the owned) windows. */
void gmem_clear(struct gmem *gm);

/* Adds a window with memory the caller keeps alive. -EINVAL on size 0 or
 * gpa overflow, -EEXIST on overlap, -ENOSPC when full. */
int gmem_add(struct gmem *gm, uint64_t gpa, uint64_t size, void *hva,
	     bool writable);
/* mmaps fd at file offset off (MAP_SHARED) and adds it as an owned window.
 * prot_write selects PROT_WRITE. -errno on failure; nothing is left mapped. */
int gmem_map_fd(struct gmem *gm, uint64_t gpa, uint64_t size, int fd,
		uint64_t off, bool prot_write);
/* Removes the window exactly matching [gpa, gpa+size); -ENOENT if none. */
int gmem_remove(struct gmem *gm, uint64_t gpa, uint64_t size);

/* Local pointer for [gpa, gpa+len), or NULL when the range is not wholly
 * inside one window (len 0 is refused too).  `write` asks for a window the
 * device may write. */
void *gmem_translate(const struct gmem *gm, uint64_t gpa, uint64_t len,
		     bool write);

/* Driver-side inverse: gpa of a local pointer range, or UINT64_MAX. */
uint64_t gmem_gpa_of(const struct gmem *gm, const void *p, uint64_t len);

#endif /* VNET_GMEM_H */
