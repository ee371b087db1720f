/* SPDX-License-Identifier: MIT */
/*
 * offload.h - the device's software fallback for offloads a guest did
 * not negotiate (docs/ARCHITECTURE.md "peerfeats"): a frame from the peer with a
 * partial checksum gets its checksum completed, a GSO frame is cut into
 * segments with full checksums, so a wrong peerfeats mask costs speed,
 * never correctness.
 */
#ifndef VNET_HOST_NET_OFFLOAD_H
#define VNET_HOST_NET_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "common/gso.h"
#include "common/net_hdr.h"
#include "host/dev/vdev.h"

#define NET_OFFLOAD_MAX_SEGS 256	/* MSS below ~256 bytes: dropped */

/* Private buffers of one vdev, allocated once. */
struct net_offload_buf {
	uint8_t *frame;			/* copy of the peer's frame */
	uint8_t *out;			/* segments, back to back */
	uint32_t out_cap;
	struct gso_seg segs[NET_OFFLOAD_MAX_SEGS];
};

int net_offload_init(struct net_offload_buf *b);
void net_offload_free(struct net_offload_buf *b);

/* Does the guest lack a feature this frame needs (5.1.6.4)?  The rule
 * is net_hdr_allowed (common/net_hdr.h), towards the driver.  Inline, as
 * that rule's common case is: every received frame asks. */
static inline bool net_hdr_needs_fixup(const struct vdev *vd, const struct virtio_net_hdr_v1 *h)
{
	return net_hdr_allowed(h, vd->driver_features, NET_HDR_TO_DRIVER, NULL, 0) != 0;
}

/* Fixes frame (flen bytes, read once from the peer's ring into b->frame):
 * returns the number of frames now in b->segs (offsets into b->out, or
 * into b->frame for a checksum completion: see *base), with *h rewritten
 * for the guest (no offload flags left), or -errno for a frame that
 * cannot be fixed (counted as a bad frame by the caller). */
int net_offload_fixup(struct vdev *vd, struct net_offload_buf *b,
		      struct virtio_net_hdr_v1 *h, const uint8_t *frame,
		      uint32_t flen, const uint8_t **base);

#endif /* VNET_HOST_NET_OFFLOAD_H */
