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
	/* Owned windows: the file they map (a dup, for repairs), its offset,
	 * and their SIGBUS guard slot (common/sigbus_guard.h). */
	int fd;
	uint64_t off;
	int guard;
};

struct gmem {
	struct gmem_window win[GMEM_MAX_WINDOWS];
	unsigned n;
	/* Bumped on every change, so cached translations can be revalidated. */
	uint32_t generation;
	/* Written (an eventfd) when a window's file shrank under it. */
	int fault_fd;
};

/* An empty map; fault_fd (-1: none) is the eventfd the SIGBUS guard
 * writes when a window's file shrinks under it. */
void gmem_init(struct gmem *gm);
void gmem_set_fault_fd(struct gmem *gm, int fault_fd);
/* Drops (and munmaps the owned) windows. */
void gmem_clear(struct gmem *gm);

/* Adds a window with memory the caller keeps alive. -EINVAL on size 0 or
 * gpa overflow, -EEXIST on overlap, -ENOSPC when full. */
int gmem_add(struct gmem *gm, uint64_t gpa, uint64_t size, void *hva,
	     bool writable);
/* mmaps fd at file offset off (MAP_SHARED) and adds it as an owned window,
 * guarded against the file shrinking (SIGBUS: zero pages, fault_fd
 * written).  fd is duplicated, not taken.  prot_write selects PROT_WRITE.
 * -errno on failure; nothing is left mapped. */
int gmem_map_fd(struct gmem *gm, uint64_t gpa, uint64_t size, int fd,
		uint64_t off, bool prot_write);
/* The first window whose file shrank under it (its gpa and size), or
 * false when none did. */
bool gmem_faulted(const struct gmem *gm, uint64_t *gpa, uint64_t *size);
/* Maps every faulted window's file again where it was, when the file is
 * long enough again (the guest put its memory back); a window whose file
 * is still too short is removed, so nothing translates into it.  Returns
 * the number of windows removed. */
unsigned gmem_repair(struct gmem *gm);
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
