// SPDX-License-Identifier: MIT
#include "gmem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sigbus_guard.h"

void gmem_init(struct gmem *gm)
{
	memset(gm, 0, sizeof(*gm));
	gm->fault_fd = -1;
}

void gmem_set_fault_fd(struct gmem *gm, int fault_fd)
{
	gm->fault_fd = fault_fd;
}

static void window_release(struct gmem_window *w)
{
	/* Unguard before unmapping: the range may be reused at once. */
	sigbus_guard_del(&w->guard);
	if (w->owned && w->hva)
		munmap(w->hva, w->size);
	if (w->owned && w->fd >= 0)
		close(w->fd);
	memset(w, 0, sizeof(*w));
}

void gmem_clear(struct gmem *gm)
{
	gmem_log_stop(gm);
	for (unsigned i = 0; i < gm->n; i++)
		window_release(&gm->win[i]);
	gm->n = 0;
	gm->generation++;
}

/* [a, a+alen) and [b, b+blen) overlap; both known not to overflow. */
static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int check_new_window(const struct gmem *gm, uint64_t gpa, uint64_t size)
{
	if (size == 0 || gpa + size < gpa)
		return -EINVAL;
	for (unsigned i = 0; i < gm->n; i++)
		if (ranges_overlap(gpa, size, gm->win[i].gpa, gm->win[i].size))
			return -EEXIST;
	if (gm->n >= GMEM_MAX_WINDOWS)
		return -ENOSPC;
	return 0;
}

static struct gmem_window *add_window(struct gmem *gm, uint64_t gpa, uint64_t size,
				      void *hva, bool writable, bool owned)
{
	struct gmem_window *w = &gm->win[gm->n++];

	w->gpa = gpa;
	w->size = size;
	w->hva = hva;
	w->writable = writable;
	w->owned = owned;
	w->fd = -1;
	gm->generation++;
	return w;
}

int gmem_add(struct gmem *gm, uint64_t gpa, uint64_t size, void *hva,
	     bool writable)
{
	int rc = check_new_window(gm, gpa, size);

	if (rc)
		return rc;
	if (!hva)
		return -EINVAL;
	add_window(gm, gpa, size, hva, writable, false);
	return 0;
}

int gmem_map_fd(struct gmem *gm, uint64_t gpa, uint64_t size, int fd,
		uint64_t off, bool prot_write)
{
	int prot = PROT_READ | (prot_write ? PROT_WRITE : 0);
	struct gmem_window *w;
	int keep;
	void *p;
	int rc = check_new_window(gm, gpa, size);

	if (rc)
		return rc;
	if (fd < 0 || off + size < off || size > SIZE_MAX || (off & 4095))
		return -EINVAL;
	keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (keep < 0)
		return -errno;
	p = mmap(NULL, (size_t)size, prot, MAP_SHARED, fd, (off_t)off);
	if (p == MAP_FAILED) {
		rc = -errno;
		close(keep);
		return rc;
	}
	w = add_window(gm, gpa, size, p, prot_write, true);
	w->fd = keep;
	w->off = off;
	w->guard = sigbus_guard_add(p, (size_t)size, gm->fault_fd);
	return 0;
}

bool gmem_faulted(const struct gmem *gm, uint64_t *gpa, uint64_t *size)
{
	for (unsigned i = 0; i < gm->n; i++) {
		if (sigbus_guard_hit(gm->win[i].guard)) {
			*gpa = gm->win[i].gpa;
			*size = gm->win[i].size;
			return true;
		}
	}
	return false;
}

/* Maps a faulted window's file again over the zero pages, if the file
 * covers it again. */
static bool window_remap(struct gmem_window *w)
{
	int prot = PROT_READ | (w->writable ? PROT_WRITE : 0);
	struct stat st;

	if (w->fd < 0 || fstat(w->fd, &st) < 0 || st.st_size < 0 ||
	    (uint64_t)st.st_size < w->off + w->size)
		return false;
	if (mmap(w->hva, (size_t)w->size, prot, MAP_SHARED | MAP_FIXED, w->fd,
		 (off_t)w->off) == MAP_FAILED)
		return false;
	sigbus_guard_rearm(w->guard);
	return true;
}

unsigned gmem_repair(struct gmem *gm)
{
	unsigned removed = 0;

	for (unsigned i = 0; i < gm->n;) {
		struct gmem_window *w = &gm->win[i];

		if (!sigbus_guard_hit(w->guard) || window_remap(w)) {
			i++;
			continue;
		}
		window_release(w);
		gm->win[i] = gm->win[--gm->n];
		memset(&gm->win[gm->n], 0, sizeof(gm->win[0]));
		gm->generation++;
		removed++;
	}
	return removed;
}

int gmem_remove(struct gmem *gm, uint64_t gpa, uint64_t size)
{
	for (unsigned i = 0; i < gm->n; i++) {
		if (gm->win[i].gpa == gpa && gm->win[i].size == size) {
			window_release(&gm->win[i]);
			gm->win[i] = gm->win[--gm->n];
			memset(&gm->win[gm->n], 0, sizeof(gm->win[0]));
			gm->generation++;
			return 0;
		}
	}
	return -ENOENT;
}

void *gmem_translate_miss(const struct gmem *gm, struct gmem_hint *h, uint64_t gpa,
			  uint64_t len, bool write)
{
	const struct gmem_window *w = gmem_find(gm, gpa, len, write);

	if (!w)
		return NULL;
	*h = (struct gmem_hint){ .gpa = w->gpa, .size = w->size, .hva = w->hva,
				 .generation = gm->generation, .writable = w->writable };
	return w->hva + (gpa - w->gpa);
}

uint64_t gmem_gpa_of(const struct gmem *gm, const void *p, uint64_t len)
{
	uintptr_t a = (uintptr_t)p;

	for (unsigned i = 0; i < gm->n; i++) {
		const struct gmem_window *w = &gm->win[i];
		uintptr_t base = (uintptr_t)w->hva;

		if (a < base || a - base >= w->size)
			continue;
		if (len > w->size - (a - base))
			return UINT64_MAX;
		return w->gpa + (a - base);
	}
	return UINT64_MAX;
}
