// SPDX-License-Identifier: MIT
/*
 * shm_names.c - TX ring file names and stale-file removal (shm_names.h).
 */
#include "host/peer/shm_names.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "common/log.h"

/* FNV-1a: a short, stable tag for the run directory (not security). */
static uint32_t hash32(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

int peer_shm_prefix(char *buf, size_t len, const char *run_dir,
		    const char *system, const char *name)
{
	int n = snprintf(buf, len, "vnet-%s:%s-%08x-tx-", system, name,
			 hash32(run_dir));

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int peer_shm_name(char *buf, size_t len, const char *prefix, uint32_t gen)
{
	int n = snprintf(buf, len, "/%s%u", prefix, gen);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int peer_shm_remove_stale(const char *prefix)
{
	size_t plen = strlen(prefix);
	struct dirent *de;
	int removed = 0;
	DIR *d = opendir("/dev/shm");

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char name[300];

		if (strncmp(de->d_name, prefix, plen) || !all_digits(de->d_name + plen))
			continue;
		snprintf(name, sizeof(name), "/%s", de->d_name);
		if (shm_unlink(name) == 0) {
			removed++;
			log_info("removed stale peer ring %s", name);
		}
	}
	closedir(d);
	return removed;
}
