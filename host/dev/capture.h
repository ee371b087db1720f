/* SPDX-License-Identifier: MIT */
/*
 * capture.h - packet capture: every frame a vdev passes, both directions
 * (its guest's transmitq toward the link, and what is delivered to its
 * receiveq), recorded as pcap through libpcap.
 *
 * Two sinks, each optional: the vdev option `capture FILE` (a file, from
 * start to exit, nothing dropped) and one live capture at a time, a
 * client of the control socket (`vnet-host capture NAME -w FILE|-`) that
 * the pcap stream is sent to over its connection.  The live sink never
 * blocks the event loop or the data path: frames go into a bounded
 * private buffer (CAPTURE_LIVE_BUF) that the event loop sends out as the
 * socket takes it; a frame that does not fit is dropped and counted
 * (vd->stats.capture_dropped, "capture" in `vnet-host stats`).
 *
 * Frames are recorded as they cross: an offloaded frame (partial
 * checksum, GSO) is one large frame with its checksum not yet filled in,
 * as tcpdump shows it on a Linux host with offloads on.
 *
 * The data path pays one branch per frame while no capture is on:
 * vd->capture is NULL then.
 */
#ifndef VNET_HOST_DEV_CAPTURE_H
#define VNET_HOST_DEV_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vdev;

#define CAPTURE_SNAPLEN	 262144		/* above the largest GSO frame */
#define CAPTURE_LIVE_BUF (4u << 20)	/* a live reader's backlog, bytes */
/* The live stream's messages (SOCK_SEQPACKET) are at most this long: the
 * client's receive buffer must hold one. */
#define CAPTURE_MSG_MAX	 (64u * 1024)

/* Starts the `capture FILE` sink (created 0600, truncated; a symlink is
 * refused).  0 or -errno; err says why. */
int vdev_capture_file(struct vdev *vd, const char *path, char *err, size_t errlen);
/* Starts a live capture streamed to the connected socket fd, which the
 * capture owns from then on (on failure it stays the caller's).  -EBUSY
 * when one is running. */
int vdev_capture_live(struct vdev *vd, int fd, char *err, size_t errlen);
/* Records one Ethernet frame (no virtio-net header); only called while
 * vd->capture is set, from any data-path thread.  True when the live
 * sink has bytes to send: the caller has the main loop call
 * vdev_capture_flush_soon. */
bool vdev_capture_frame(struct vdev *vd, const uint8_t *frame, uint32_t len);
void vdev_capture_flush_soon(struct vdev *vd);
/* Ends both sinks (the file is flushed and closed). */
void vdev_capture_stop(struct vdev *vd);

#endif /* VNET_HOST_DEV_CAPTURE_H */
