/* SPDX-License-Identifier: MIT */
/*
 * vdev_priv.h - what the model's files (host/dev/) share beyond vdev.h.
 * Not for use outside host/dev/.
 */
#ifndef VNET_HOST_VDEV_PRIV_H
#define VNET_HOST_VDEV_PRIV_H

#include <stddef.h>

#include "host/dev/vdev.h"

/* Is the accepted feature set one the device can run (3.1.1 step 5,
 * 5.1.3.1 dependencies)?  If not, why says so. */
bool vdev_features_acceptable(struct vdev *vd, char *why, size_t len);
/* mem.c: the SIGBUS guard's eventfd on the event loop (0 or -errno), its
 * end, and the repair of faulted windows at reset. */
int vdev_mem_guard_start(struct vdev *vd);
void vdev_mem_guard_stop(struct vdev *vd);
void vdev_mem_repair(struct vdev *vd);
/* A destination takes the offer its source's driver saw, if it may make
 * it (state.c): only at status 0, offer within what this device's
 * options allow.  0, or -EINVAL with why naming the extra bits. */
int vdev_adopt_offer(struct vdev *vd, uint64_t offer, char *why, size_t len);
/* Back to the power-on state of one queue (reset). */
void vdev_queue_stop(struct vdev_queue *vq);

#endif /* VNET_HOST_VDEV_PRIV_H */
