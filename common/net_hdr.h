/* SPDX-License-Identifier: MIT */
/*
 * net_hdr.h - THE rule for a virtio-net header (5.1.6), in one place.
 *
 * Every place that decides whether a header may go on is a caller of
 * these two functions, and nothing else decides it:
 *   - the device's transmit path (host/dp/tx.c): a guest's header;
 *   - the peer-ring consumer (common/peer_ring.c): a peer's header, the
 *     defence against a hostile peer process;
 *   - the TAP endpoints (common/tun.c): before the kernel sees it;
 *   - the guest driver's transmit check (guest/virtio_net_tx.c) and
 *     its receive path (guest/virtio_net_rx.c): a device's header.
 *
 * net_hdr_check() is about structure, whatever was negotiated;
 * net_hdr_allowed() about the features that allow an offload in one
 * direction; net_hdr_len() how long the header is on a virtqueue.  Frame-length limits (MTU, 64 KiB GSO) are the callers':
 * they differ per place.
 */
#ifndef VNET_NET_HDR_H
#define VNET_NET_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/virtio.h"

/* Which way a header travels, and so which feature bits allow it. */
enum net_hdr_dir {
	/* Driver -> device, on a transmitq (5.1.6.2): CSUM, HOST_TSO4/6,
	 * HOST_ECN, HOST_UFO. */
	NET_HDR_TO_DEVICE,
	/* Device -> driver, on a receiveq (5.1.6.4): GUEST_CSUM,
	 * GUEST_TSO4/6, GUEST_ECN, GUEST_UFO. */
	NET_HDR_TO_DRIVER,
};

/* Is h the header of a well-formed frame of frame_len bytes (after the
 * header)?  Flags only NEEDS_CSUM and DATA_VALID; gso_type NONE, TCPV4,
 * TCPV6 or UDP (UDP_L4 needs USO, which no vnet device offers); ECN only
 * with TCP GSO; with GSO a non-zero gso_size and a hdr_len inside the
 * frame; with NEEDS_CSUM the 2-byte checksum field inside the frame.
 * 0, or -EINVAL with why (may be NULL) naming the rule and the values. */
int net_hdr_check_offload(const struct virtio_net_hdr_v1 *h, uint32_t frame_len,
			  char *why, size_t whylen);
static inline int net_hdr_check(const struct virtio_net_hdr_v1 *h, uint32_t frame_len,
				char *why, size_t whylen)
{
	/* The common frame asks for no offload: decided here, inline, on
	 * the per-frame path; the rest in net_hdr.c. */
	if (__builtin_expect(h->flags == 0 && h->gso_type == VIRTIO_NET_HDR_GSO_NONE, 1))
		return 0;
	return net_hdr_check_offload(h, frame_len, why, whylen);
}

/* Do the negotiated features allow every offload h asks for, travelling
 * in direction dir?  0, or -EOPNOTSUPP with why (may be NULL) naming the
 * missing feature.  Assumes net_hdr_check() passed. */
int net_hdr_allowed_offload(const struct virtio_net_hdr_v1 *h, uint64_t features,
			    enum net_hdr_dir dir, char *why, size_t whylen);
static inline int net_hdr_allowed(const struct virtio_net_hdr_v1 *h, uint64_t features,
				  enum net_hdr_dir dir, char *why, size_t whylen)
{
	if (__builtin_expect(h->flags == 0 && h->gso_type == VIRTIO_NET_HDR_GSO_NONE, 1))
		return 0;
	return net_hdr_allowed_offload(h, features, dir, why, whylen);
}

/* The bytes of the header in front of every frame on a virtqueue, both
 * ways, for a driver that negotiated features (legacy: the 0.9.5
 * interface).  5.1.6: 20 with HASH_REPORT (up to padding_reserved), else
 * 12; 5.1.6.1: 10 for a legacy driver without MRG_RXBUF (no num_buffers).
 * The device model and the guest driver both take it from here. */
uint32_t net_hdr_len(uint64_t features, bool legacy);

#endif /* VNET_NET_HDR_H */
