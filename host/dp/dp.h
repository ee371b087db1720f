/* SPDX-License-Identifier: MIT */
/*
 * dp.h - the vdev's data path: transmitq -> peer ring (dp/tx.c) and
 * peer ring -> receiveq (dp/rx.c).  Runs on the event loop; each pass
 * handles at most VDEV_BUDGET frames and reschedules itself, so one busy
 * guest cannot starve the process's other vdevs.
 */
#ifndef VNET_HOST_NET_DP_H
#define VNET_HOST_NET_DP_H

#include "host/dev/vdev.h"

int net_dp_init(struct vdev *vd);
/* DRIVER_OK: start moving frames. */
void net_dp_start(struct vdev *vd);
/* Reset, failure or teardown: cancel scheduled passes. */
void net_dp_stop(struct vdev *vd);
/* The driver notified queue q. */
void net_dp_kick(struct vdev *vd, unsigned q);
/* The peer rang our doorbell: frames to receive, or ring space freed. */
void net_dp_peer_event(struct vdev *vd);
/* Runs a receive pass from the event loop soon.  After a reset or a
 * failure the device drains (drops) what the peer sent, so a guest that
 * died while its receive queue was full never leaves its peer blocked. */
void net_dp_schedule_rx(struct vdev *vd);

void net_tx_process(struct vdev *vd);
void net_rx_process(struct vdev *vd);

/* Copies the first len bytes of a chain's readable buffers to dst. */
void chain_gather(const struct vq_chain *ch, uint8_t *dst, uint32_t len);
/* Copies len bytes from src into the chain's writable buffers starting at
 * byte offset off; returns bytes written (less when the chain is short). */
uint32_t chain_scatter(const struct vq_chain *ch, uint32_t off,
		       const uint8_t *src, uint32_t len);
/* Publishes used elements of queue q and interrupts the driver if it
 * asked; counts delivered and suppressed interrupts. */
void net_dp_flush_used(struct vdev *vd, unsigned q);
/* A queue's ring turned out malformed: NEEDS_RESET with its reason. */
void net_dp_queue_broken(struct vdev *vd, unsigned q);

#endif /* VNET_HOST_NET_DP_H */
