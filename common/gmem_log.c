// SPDX-License-Identifier: MIT
/*
 * gmem_log.c - the dirty-page log of guest memory (gmem.h): one bitmap
 * per logged range, a bit per page, set by the device's writes
 * (gmem_log_write) and handed over and cleared by a report.  What the
 * client asks for is checked here once: page size, alignment, overlap,
 * and how much memory the bitmaps may take.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gmem.h"

struct gmem_log {
	uint64_t page_size;
	unsigned shift;
	unsigned n;
	struct {
		uint64_t iova, length;
		uint64_t *bits;
	} r[GMEM_LOG_MAX_RANGES];
};

static size_t words_for(uint64_t length, unsigned shift)
{
	uint64_t pages = length >> shift;

	return (size_t)((pages + 63) / 64);
}

void gmem_log_stop(struct gmem *gm)
{
	struct gmem_log *l = gm->log;

	if (!l)
		return;
	gm->log = NULL;
	for (unsigned i = 0; i < l->n; i++)
		free(l->r[i].bits);
	free(l);
}

int gmem_log_start(struct gmem *gm, uint64_t *page_size, const struct gmem_log_range *r,
		   unsigned n, char *why, size_t whylen)
{
	struct gmem_log_range all[GMEM_MAX_WINDOWS];
	uint64_t ps = *page_size, bytes = 0;
	struct gmem_log *l;

	if (gm->log) {
		snprintf(why, whylen, "a dirty-page log is already running");
		return -EBUSY;
	}
	/* A hint (vfio-user DMA_LOGGING_START): what we cannot do, we
	 * replace, and say so. */
	if (ps < 4096 || (ps & (ps - 1)) || ps > (UINT64_C(1) << 40))
		ps = 4096;
	if (n == 0) {		/* "log all writes": every window there is */
		for (unsigned i = 0; i < gm->n; i++)
			all[i] = (struct gmem_log_range){ gm->win[i].gpa & ~(ps - 1),
							  0 };
		for (unsigned i = 0; i < gm->n; i++) {
			uint64_t end = gm->win[i].gpa + gm->win[i].size;

			all[i].length = ((end + ps - 1) & ~(ps - 1)) - all[i].iova;
		}
		n = gm->n;
		r = all;
		if (n == 0) {
			snprintf(why, whylen, "no ranges given and no guest memory mapped");
			return -EINVAL;
		}
	}
	if (n > GMEM_LOG_MAX_RANGES) {
		snprintf(why, whylen, "%u ranges; at most %u", n, GMEM_LOG_MAX_RANGES);
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++) {
		if (r[i].length == 0 || r[i].iova + r[i].length < r[i].iova ||
		    (r[i].iova | r[i].length) & (ps - 1)) {
			snprintf(why, whylen, "range %u (0x%" PRIx64 " + 0x%" PRIx64
				 ") is empty, wraps, or is not aligned to the page size %" PRIu64,
				 i, r[i].iova, r[i].length, ps);
			return -EINVAL;
		}
		for (unsigned k = 0; k < i; k++)
			if (r[i].iova < r[k].iova + r[k].length && r[k].iova < r[i].iova + r[i].length) {
				snprintf(why, whylen, "ranges %u and %u overlap", k, i);
				return -EINVAL;
			}
		bytes += (r[i].length / ps + 63) / 64 * 8;
		if (bytes > GMEM_LOG_MAX_BYTES) {
			snprintf(why, whylen, "the ranges' bitmaps would take more than %u MiB",
				 GMEM_LOG_MAX_BYTES >> 20);
			return -EINVAL;
		}
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->page_size = ps;
	l->shift = (unsigned)__builtin_ctzll(ps);
	for (unsigned i = 0; i < n; i++) {
		l->r[i].iova = r[i].iova;
		l->r[i].length = r[i].length;
		l->r[i].bits = calloc(words_for(r[i].length, l->shift), sizeof(uint64_t));
		l->n = i + 1;
		if (!l->r[i].bits) {
			gm->log = l;
			gmem_log_stop(gm);
			return -ENOMEM;
		}
	}
	gm->log = l;
	*page_size = ps;
	return 0;
}

/* Marks the logged pages of guest range [gpa, gpa+len). */
static void mark_gpa(struct gmem_log *l, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < l->n; i++) {
		uint64_t lo = gpa > l->r[i].iova ? gpa : l->r[i].iova;
		uint64_t end = gpa + len, rend = l->r[i].iova + l->r[i].length;
		uint64_t hi = end < rend ? end : rend;

		if (lo >= hi)
			continue;
		for (uint64_t p = (lo - l->r[i].iova) >> l->shift,
			      last = (hi - 1 - l->r[i].iova) >> l->shift; p <= last; p++)
			l->r[i].bits[p / 64] |= UINT64_C(1) << (p % 64);
	}
}

void gmem_log_mark(const struct gmem *gm, const void *p, uint64_t len)
{
	/* The device writes only through translated pointers, so the
	 * range lies in one window: gmem's own inverse finds its gpa. */
	uint64_t gpa = gmem_gpa_of(gm, p, len);

	if (gpa != UINT64_MAX)
		mark_gpa(gm->log, gpa, len);
}

static bool test_bit(const uint64_t *bits, uint64_t p)
{
	return bits[p / 64] & (UINT64_C(1) << (p % 64));
}

int gmem_log_report(struct gmem *gm, uint64_t iova, uint64_t length, uint64_t page_size,
		    uint64_t *out, size_t out_words, char *why, size_t whylen)
{
	struct gmem_log *l = gm->log;
	uint64_t align, units;

	if (!l) {
		snprintf(why, whylen, "no dirty-page log is running");
		return -ENOENT;
	}
	if (page_size == 0 || (page_size & (page_size - 1))) {
		snprintf(why, whylen, "report page size %" PRIu64 " is not a power of two", page_size);
		return -EINVAL;
	}
	align = page_size > l->page_size ? page_size : l->page_size;
	if (length == 0 || iova + length < iova || (iova | length) & (align - 1)) {
		snprintf(why, whylen, "report range 0x%" PRIx64 " + 0x%" PRIx64
			 " is empty, wraps, or is not aligned to %" PRIu64, iova, length, align);
		return -EINVAL;
	}
	units = length / page_size;
	if (out_words < (units + 63) / 64) {
		snprintf(why, whylen, "report of 0x%" PRIx64 " bytes needs a bigger bitmap", length);
		return -EINVAL;
	}
	for (unsigned i = 0; i < l->n; i++) {
		uint64_t base, first, last;

		if (iova < l->r[i].iova || iova + length > l->r[i].iova + l->r[i].length)
			continue;
		base = iova - l->r[i].iova;
		memset(out, 0, (size_t)((units + 63) / 64) * sizeof(uint64_t));
		/* Each reported unit: set when any log page it touches is
		 * (a unit smaller than a log page repeats that page's bit). */
		for (uint64_t k = 0; k < units; k++) {
			uint64_t lo = (base + k * page_size) >> l->shift;
			uint64_t hi = (base + (k + 1) * page_size - 1) >> l->shift;

			for (uint64_t p = lo; p <= hi; p++)
				if (test_bit(l->r[i].bits, p)) {
					out[k / 64] |= UINT64_C(1) << (k % 64);
					break;
				}
		}
		/* Reported is handed over: the range covers whole log pages. */
		first = base >> l->shift;
		last = (base + length - 1) >> l->shift;
		for (uint64_t p = first; p <= last; p++)
			l->r[i].bits[p / 64] &= ~(UINT64_C(1) << (p % 64));
		return 0;
	}
	snprintf(why, whylen, "report range 0x%" PRIx64 " + 0x%" PRIx64 " is not inside one logged range",
		 iova, length);
	return -EINVAL;
}
