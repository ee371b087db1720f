/* SPDX-License-Identifier: MIT */
/*
 * peerfeats.h - the offload features a peer link can carry (docs/ARCHITECTURE.md
 * "peerfeats") and the names of virtio-net feature bits.
 *
 * A peer link has no feature negotiation of its own, so the `peerfeats`
 * mask states which offloads the far side's driver accepted.  From it the
 * device works out which offloads it may offer its own guest: the guest
 * may only send what the peer can receive, and may be sent only what the
 * peer may send.  Every mask here is checked against the dependency rules
 * of virtio 1.2 section 5.1.3.1, so the device never offers a set that a
 * conforming driver would have to refuse.
 */
#ifndef VNET_PEERFEATS_H
#define VNET_PEERFEATS_H

#include <stddef.h>
#include <stdint.h>

/* Is mask a feature set a peer's driver could have negotiated: only bits
 * of VNET_PEERFEATS_MAX (0x7fc3), and closed under 5.1.3.1 (e.g. HOST_TSO4
 * only with CSUM)?  0, or -EINVAL with err naming the bad bit and, for a
 * broken dependency, what it needs ("peerfeats 0x800: HOST_TSO4 (bit 11)
 * needs CSUM (bit 0)").  err may be NULL when errlen is 0. */
int peerfeats_validate(uint64_t mask, char *err, size_t errlen);

/* The offload bits the device may offer its guest when the peer's driver
 * has peer_mask (see the table in peerfeats.c).  Bits outside
 * VNET_PEERFEATS_MAX are ignored; the result is always closed under the
 * 5.1.3.1 dependency rules, even when peer_mask is not. */
uint64_t peerfeats_offer(uint64_t peer_mask);

/* The spec name of a virtio-net or transport feature bit without its
 * VIRTIO_NET_F_ / VIRTIO_F_ prefix ("CSUM", "RING_PACKED"), or NULL for a
 * bit with no name we know (and for bit > 63). */
const char *virtio_net_feature_name(unsigned bit);

/* Writes the set bits of f as names joined by '|' ("CSUM|GUEST_CSUM"),
 * lowest bit first; a bit without a name is written "bit<N>", and an empty
 * set "none".  Returns the length written (without the NUL), or -ENOSPC
 * when buf was too small (buf then holds a NUL-terminated prefix ending
 * in "..." if there was room), or -EINVAL for a NULL buf or len 0. */
int virtio_features_format(uint64_t f, char *buf, size_t len);

#endif /* VNET_PEERFEATS_H */
