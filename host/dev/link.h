/* SPDX-License-Identifier: MIT */
/*
 * link.h - the vdev's view of its peer link: rings when the link is
 * up, doorbells rung only when the other side asked for them, and link
 * state mirrored into the device's STATUS field (5.1.4) with a
 * configuration change interrupt.
 */
#ifndef VNET_HOST_VDEV_LINK_H
#define VNET_HOST_VDEV_LINK_H

#include "host/dev/vdev.h"

struct peer_ring_prod;
struct peer_ring_cons;

/* Our transmit ring / the peer's ring; NULL while the link is down. */
struct peer_ring_prod *vdev_link_tx(struct vdev *vd);
struct peer_ring_cons *vdev_link_rx(struct vdev *vd);
/* Publish committed records; ring the peer if its consumer sleeps. */
void vdev_link_publish(struct vdev *vd);
/* Publish consumed records; ring the peer if its producer waits. */
void vdev_link_release(struct vdev *vd);
/* The peer's ring broke a rule: drop the link (it re-forms later). */
void vdev_link_ring_broken(struct vdev *vd);

#endif /* VNET_HOST_VDEV_LINK_H */
