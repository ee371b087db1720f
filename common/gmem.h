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
	/* The dirty-page log while one runs (gmem_log.c), else NULL: the
	 * device's write paths pay one branch for it. */
	struct gmem_log *log;
};

/* An empty map; fault_fd (-1: none) is the eventfd the SIGBUS guard
 * writes when a window's file shrinks under it. */
void gmem_init(struct gmem *gm);
void gmem_set_fault_fd(struct gmem *gm, int fault_fd);
/* Drops (and munmaps the owned) windows, and stops a dirty-page log. */
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

/* THE rule of a translation: [gpa, gpa+len) lies wholly in the window
 * [w_gpa, w_gpa+w_size), len > 0, and a write only into a writable one.
 * One compare for both ends: a gpa below the window wraps to at least
 * 2^64 - w_gpa, which is more than w_size (no window reaches 2^64,
 * gmem_add).  Lengths are compared instead of end addresses so nothing
 * overflows, and gpa + len cannot wrap once it fits. */
static inline bool gmem_range_in(uint64_t w_gpa, uint64_t w_size, bool w_writable,
				 uint64_t gpa, uint64_t len, bool write)
{
	uint64_t off = gpa - w_gpa;

	return off < w_size && len && len <= w_size - off && (!write || w_writable);
}

/* The window holding all of [gpa, gpa+len), or NULL when none does
 * (gmem_range_in).  `write` asks for a window the device may write. */
static inline const struct gmem_window *gmem_find(const struct gmem *gm, uint64_t gpa,
						   uint64_t len, bool write)
{
	for (unsigned i = 0; i < gm->n; i++) {
		const struct gmem_window *w = &gm->win[i];

		if (gmem_range_in(w->gpa, w->size, w->writable, gpa, len, write))
			return w;
	}
	return NULL;
}

/* Local pointer for [gpa, gpa+len), or NULL (gmem_find).  Inline: the
 * device translates every buffer of every chain through it, and a call
 * cost a third of the work. */
static inline void *gmem_translate(const struct gmem *gm, uint64_t gpa, uint64_t len,
				   bool write)
{
	const struct gmem_window *w = gmem_find(gm, gpa, len, write);

	return w ? w->hva + (gpa - w->gpa) : NULL;
}

/* The window one user's last translation hit (a queue's: its buffers
 * are nearly always in one window), for gmem_translate_hinted.  Private
 * to that user, and trusted only while gm->generation is the one it was
 * taken at: every change to the windows bumps it, so a hint never
 * outlives the mapping it names.  Zeroed, it matches nothing. */
struct gmem_hint {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
	uint32_t generation;
	bool writable;
};

/* gmem_translate through a hint: the window of its last call when the
 * range lies in it (gmem_range_in, on a window gm has now), else
 * gmem_find's answer, remembered. */
void *gmem_translate_miss(const struct gmem *gm, struct gmem_hint *h, uint64_t gpa,
			  uint64_t len, bool write);
static inline void *gmem_translate_hinted(const struct gmem *gm, struct gmem_hint *h,
					  uint64_t gpa, uint64_t len, bool write)
{
	if (__builtin_expect(h->generation == gm->generation &&
				     gmem_range_in(h->gpa, h->size, h->writable, gpa, len, write),
			     1))
		return h->hva + (gpa - h->gpa);
	return gmem_translate_miss(gm, h, gpa, len, write);
}

/* Driver-side inverse: gpa of a local pointer range, or UINT64_MAX. */
uint64_t gmem_gpa_of(const struct gmem *gm, const void *p, uint64_t len);

/* ---- the dirty-page log (gmem_log.c) ------------------------------------
 * For migration (vfio-user DMA_LOGGING_START/STOP/REPORT): while a log
 * runs, every byte the device writes into guest memory marks its page in
 * a bitmap per logged range, and a report hands the bits over and clears
 * them. */

#define GMEM_LOG_MAX_RANGES	16
#define GMEM_LOG_MAX_BYTES	(64u << 20)	/* all bitmaps together */

struct gmem_log_range {
	uint64_t iova;
	uint64_t length;
};

/* Starts a log of the ranges (none: every window mapped now) at
 * *page_size, a hint: a power of two of at least 4096 is taken, anything
 * else becomes 4096, and *page_size says which.  Ranges aligned to it,
 * not empty, not overlapping, at most GMEM_LOG_MAX_RANGES, bitmaps
 * within GMEM_LOG_MAX_BYTES.  -EBUSY while one runs, -EINVAL (why
 * filled) for bad arguments, -ENOMEM. */
int gmem_log_start(struct gmem *gm, uint64_t *page_size, const struct gmem_log_range *r,
		   unsigned n, char *why, size_t whylen);
/* Stops and frees the log (harmless when none runs). */
void gmem_log_stop(struct gmem *gm);
/* Marks every logged page of [p, p+len) dirty; p is a local address
 * inside a window.  Use gmem_log_write. */
void gmem_log_mark(const struct gmem *gm, const void *p, uint64_t len);
/* The bits of [iova, iova+length) at page_size (a power of two; bit i of
 * out, i / 64 and i % 64, stands for the i-th page_size unit from iova,
 * set when any of it was written; ceil(length / page_size / 64) words),
 * then clears them.  The range must lie inside one logged range, aligned
 * to page_size and to the log's page size.  -EINVAL (why filled),
 * -ENOENT when no log runs. */
int gmem_log_report(struct gmem *gm, uint64_t iova, uint64_t length, uint64_t page_size,
		    uint64_t *out, size_t out_words, char *why, size_t whylen);

static inline void gmem_log_write(const struct gmem *gm, const void *p, uint64_t len)
{
	if (__builtin_expect(gm->log != NULL, 0) && len)
		gmem_log_mark(gm, p, len);
}

#endif /* VNET_GMEM_H */
