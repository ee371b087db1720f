/* SPDX-License-Identifier: MIT */
/*
 * dp.h - the vdev's data path, as the device model (host/dev/) drives it:
 * transmitq -> peer ring (tx.c), peer ring -> receiveq (rx.c), and the
 * control queue (ctrl.c).  Runs on the event loop; each pass handles at
 * most VDEV_BUDGET frames and reschedules itself, so one busy guest
 * cannot starve the process's other vdevs.
 *
 * While the peer link is up the data path holds the link's two ring ends
 * itself (dp_link_up), so a frame goes from the guest's buffers into the
 * link ring with no layer between; one call (peer_link_tx_publish /
 * peer_link_rx_publish) publishes a burst and rings the peer when it
 * asked for it.
 */
#ifndef VNET_HOST_DP_H
#define VNET_HOST_DP_H

#include "host/dev/vdev.h"

struct peer_link;

/* Allocates the data path's private buffers (vd->dp).  0 or -ENOMEM. */
int dp_init(struct vdev *vd);
void dp_free(struct vdev *vd);
/* DRIVER_OK: start moving frames. */
void dp_start(struct vdev *vd);
/* Reset, failure or teardown: cancel scheduled passes. */
void dp_stop(struct vdev *vd);
/* Every queue's interrupt coalescing back to none (device reset). */
void dp_coal_reset(struct vdev *vd);
/* The driver notified queue q. */
void dp_kick(struct vdev *vd, unsigned q);
/* The peer rang our doorbell: frames to receive, or ring space freed. */
void dp_peer_event(struct vdev *vd);
/* Runs a receive pass from the event loop soon.  After a reset or a
 * failure the device drains (drops) what the peer sent, so a guest that
 * died while its receive queue was full never leaves its peer blocked. */
void dp_schedule_rx(struct vdev *vd);
/* The pairs in use changed (vdev_set_pairs_in_use): frames waiting for
 * one receiveq may now be another's. */
void dp_pairs_changed(struct vdev *vd);
/* The link came up: hold its ring ends and move what waits. */
void dp_link_up(struct vdev *vd, struct peer_link *link);
/* The link is down or about to go down, and comes back soon: the device
 * moved in from another process, whose link it takes over, or the peer's
 * device moves to another process.  Until the link is up, at most ms,
 * frames the driver queues wait in its transmitqs instead of being
 * dropped as on an unplugged cable. */
void dp_await_link(struct vdev *vd, unsigned ms);
/* The link went down: forget its ends (they are freed next); frames the
 * guest queues meanwhile are dropped and counted, as on an unplugged
 * cable. */
void dp_link_down(struct vdev *vd);
/* The peer's receiving device steers by this RSS configuration (off:
 * transmitq K feeds ring K). */
void dp_set_peer_rss(struct vdev *vd, const struct rss_cfg *c);
/* One control command {class, command, data...} of len bytes (len >= 2),
 * as the control queue answers it: VIRTIO_NET_OK or VIRTIO_NET_ERR.  A
 * device state's control records replay through it (host/dev/state.c). */
uint8_t dp_ctrl_command(struct vdev *vd, const uint8_t *cmd, uint32_t len);
/* A receiveq's or transmitq's interrupt coalescing (5.1.6.5.6). */
void dp_coal_get(const struct vdev *vd, unsigned q, uint32_t *max_packets,
		 uint32_t *max_usecs);
/* Interrupts that coalescing holds go out now (the device pauses). */
void dp_coal_flush(struct vdev *vd);

/* Data-path threads (threads.c; vdev option `threads N`): started with
 * the vdev, stopped (joined) last thing before its data path is freed,
 * after every fd on their loops went.  dp_threads_hold parks the vdev's
 * threads outside the main loop's rounds (teardown at exit). */
int dp_threads_start(struct vdev *vd);
void dp_threads_hold(struct vdev *vd);
void dp_threads_stop(struct vdev *vd);
/* The main loop's hooks: every data-path thread of the process parks
 * before the main loop runs a handler or timer, and resumes after. */
void dp_threads_park_all(void *unused);
void dp_threads_unpark_all(void *unused);
/* The event loop that serves queue q's kicks, and link ring k's
 * doorbell: a data-path thread's, or the vdev's. */
struct evloop *dp_queue_loop(struct vdev *vd, unsigned q);
struct evloop *dp_ring_loop(struct vdev *vd, unsigned ring);
/* Link ring k's doorbell rang: receive from it, and resume transmitqs
 * that wait for space in it (on the thread that serves it). */
void dp_ring_event(struct vdev *vd, unsigned ring);

#endif /* VNET_HOST_DP_H */
