// SPDX-License-Identifier: MIT
/*
 * guest_mem.c - the guest's RAM file and its bump allocator.
 */
#include "guest/guest_mem.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

static uint64_t name_salt(void)
{
	uint64_t r = 0;

	/* Only for a unique name; O_EXCL is what makes creation safe, so a
	 * failing getrandom falls back to the clock. */
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = now_ns() ^ ((uint64_t)getpid() << 32);
	return r;
}

/* shm_open(O_EXCL) under a fresh name, then unlink the name at once: the
 * fd keeps the file alive, so whatever happens to this process later
 * (even SIGKILL) nothing is left behind in /dev/shm. */
static int create_unlinked_shm(void)
{
	char name[64];

	for (int tries = 0; tries < 16; tries++) {
		int fd;

		snprintf(name, sizeof(name), "/vnet-guest-%ld-%016llx",
			 (long)getpid(), (unsigned long long)name_salt());
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			shm_unlink(name);
			return fd;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* Sizes, maps and windows a fresh RAM file (m->fd). */
static int map_ram(struct guest_mem *m, uint64_t size, const char *what)
{
	void *p;
	int rc;

	if (ftruncate(m->fd, (off_t)size) < 0) {
		rc = -errno;
		log_err("guest RAM: cannot size the %s to %llu bytes: %s", what,
			(unsigned long long)size, strerror(-rc));
		return rc;
	}
	p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		if (!m->huge || rc != -ENOMEM)
			log_err("guest RAM: cannot map %llu bytes: %s",
				(unsigned long long)size, strerror(-rc));
		return rc;
	}
	m->base = p;
	m->size = size;
	return gmem_add(&m->gm, 0, size, m->base, true);
}

static bool size_ok(uint64_t size)
{
	return size >= GUEST_MEM_MIN_SIZE && size <= GUEST_MEM_MAX_SIZE && !(size & 4095);
}

int guest_mem_create(struct guest_mem *m, uint64_t size)
{
	int rc;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	gmem_init(&m->gm);
	if (!size_ok(size))
		return -EINVAL;
	rc = create_unlinked_shm();
	if (rc < 0) {
		log_err("guest RAM: cannot create a /dev/shm file: %s",
			strerror(-rc));
		return rc;
	}
	m->fd = rc;
	rc = map_ram(m, size, "/dev/shm file");
	if (rc < 0)
		guest_mem_destroy(m);
	return rc;
}

/* The system's default huge page size and how many are free, from
 * /proc/meminfo (0 when it says nothing). */
static void huge_pages(uint64_t *page_size, uint64_t *free_pages)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	unsigned long long v;

	*page_size = 0;
	*free_pages = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Hugepagesize: %llu kB", &v) == 1)
			*page_size = (uint64_t)v << 10;
		else if (sscanf(line, "HugePages_Free: %llu", &v) == 1)
			*free_pages = v;
	}
	fclose(f);
}

int guest_mem_create_huge(struct guest_mem *m, uint64_t size)
{
	uint64_t page, free_pages;
	int rc;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->huge = true;
	gmem_init(&m->gm);
	huge_pages(&page, &free_pages);
	if (!size_ok(size) || !page || size % page) {
		log_err("guest RAM on huge pages: %llu bytes is not a whole number of %llu-byte huge pages",
			(unsigned long long)size, (unsigned long long)page);
		return -EINVAL;
	}
	/* Unnamed: nothing is left behind, in /dev/shm or in hugetlbfs. */
	m->fd = memfd_create("vnet-guest-ram", MFD_CLOEXEC | MFD_HUGETLB);
	if (m->fd < 0) {
		rc = -errno;
		log_err("guest RAM on huge pages: memfd_create(MFD_HUGETLB): %s", strerror(-rc));
		return rc;
	}
	/* The mapping reserves the pages: ENOMEM when too few are free. */
	rc = map_ram(m, size, "huge page file");
	if (rc == -ENOMEM)
		log_err("guest RAM on huge pages: %llu needed, %llu free (of %llu kB); reserve more with /proc/sys/vm/nr_hugepages",
			(unsigned long long)(size / page), (unsigned long long)free_pages,
			(unsigned long long)(page >> 10));
	if (rc < 0)
		guest_mem_destroy(m);
	return rc;
}

void guest_mem_destroy(struct guest_mem *m)
{
	gmem_clear(&m->gm);
	if (m->base)
		munmap(m->base, (size_t)m->size);
	if (m->fd >= 0)
		close(m->fd);
	m->base = NULL;
	m->size = 0;
	m->used = 0;
	m->fd = -1;
	m->huge = false;
}

int guest_mem_alloc(struct guest_mem *m, size_t size, size_t align, void **va,
		    uint64_t *gpa)
{
	uint64_t start;

	if (size == 0 || align == 0 || (align & (align - 1)) || !m->base)
		return -EINVAL;
	start = (m->used + align - 1) & ~((uint64_t)align - 1);
	if (start < m->used || start > m->size || size > m->size - start)
		return -ENOMEM;
	m->used = start + size;
	*va = m->base + start;
	/* The file is fresh (zero) but the RAM may be carved again after a
	 * re-open of the same struct; zero explicitly. */
	memset(*va, 0, size);
	if (gpa)
		*gpa = gmem_gpa_of(&m->gm, *va, size);
	return 0;
}

uint64_t guest_mem_free_bytes(const struct guest_mem *m)
{
	return m->size - m->used;
}

int guest_mem_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (tolower((unsigned char)*end)) {
	case 'k': shift = 10; end++; break;
	case 'm': shift = 20; end++; break;
	case 'g': shift = 30; end++; break;
	default: break;
	}
	if (shift && (strcasecmp(end, "ib") == 0 || strcasecmp(end, "b") == 0))
		end += strlen(end);
	if (*end != '\0')
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}
