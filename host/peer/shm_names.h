/* SPDX-License-Identifier: MIT */
/*
 * shm_names.h - names of a vdev's TX ring files in /dev/shm, and removal
 * of the ones a dead previous owner left behind.
 *
 *   /vnet-<system>:<name>-<rundir hash>-tx-<generation>
 *
 * System and vdev names never contain ':' (peer_name_valid), and the
 * generation is all digits, so a name parses back to exactly one
 * (system, name); the hash of the run directory keeps two vnet
 * installations with the same names (e.g. parallel test runs) apart.
 * Every link formation takes a new generation, so a stale ring from an
 * earlier link can never be mistaken for the current one.
 */
#ifndef VNET_HOST_PEER_SHM_NAMES_H
#define VNET_HOST_PEER_SHM_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define PEER_SHM_PREFIX_MAX 160

/* "vnet-<system>:<name>-<hash>-tx-" (no leading '/').  -ENAMETOOLONG. */
int peer_shm_prefix(char *buf, size_t len, const char *run_dir,
		    const char *system, const char *name);
/* "/<prefix><gen>" */
int peer_shm_name(char *buf, size_t len, const char *prefix, uint32_t gen);
/* Unlinks every /dev/shm/<prefix><digits>.  Only for a (system, name)
 * whose node was stale: its owner is dead.  Returns how many. */
int peer_shm_remove_stale(const char *prefix);

#endif /* VNET_HOST_PEER_SHM_NAMES_H */
