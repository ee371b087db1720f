/* SPDX-License-Identifier: MIT */
/*
 * sigbus_guard.h - surviving a file that shrinks under a shared mapping.
 *
 * Every mapping another process hands us as a file (a peer's ring in
 * /dev/shm, a guest's RAM from vfio-user DMA_MAP or vhost-user
 * SET_MEM_TABLE) can be truncated by that process at any time; touching a
 * page past the new end raises SIGBUS, which would kill every vdev of the
 * process.  A guarded range instead gets zero pages swapped in at the
 * fault (the access completes), is marked hit, and (when given) an
 * eventfd is written, so the owner learns of it on its event loop and
 * stops using the memory.  The data path pays nothing: all of this runs
 * in the signal handler, and only when a fault happens.
 */
#ifndef VNET_SIGBUS_GUARD_H
#define VNET_SIGBUS_GUARD_H

#include <stdbool.h>
#include <stddef.h>

/* Guards [map, map + len).  notify_fd >= 0 is written (an eventfd's 1)
 * from the handler when the range faults.  Returns the slot (> 0), or 0
 * when the table is full or the handler cannot be installed (then a
 * truncation still kills the process, as without a guard; logged). */
int sigbus_guard_add(void *map, size_t len, int notify_fd);
/* Stops guarding (before the range is unmapped); *slot becomes 0. */
void sigbus_guard_del(int *slot);
/* Did the range fault since it was added or re-armed? */
bool sigbus_guard_hit(int slot);
/* The owner mapped the file again over the range: guard it afresh. */
void sigbus_guard_rearm(int slot);

#endif /* VNET_SIGBUS_GUARD_H */
