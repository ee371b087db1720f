/* SPDX-License-Identifier: MIT */
/*
 * gso.h - software segmentation of a GSO frame (virtio 1.2 5.1.6.2) for
 * a receiver that did not negotiate the matching GUEST_TSO4/TSO6/UFO
 * (docs/ARCHITECTURE.md "peerfeats": a wrong mask costs speed, never correctness).
 *
 * Every output frame is complete: IP lengths, IPv4 header checksum and a
 * full TCP/UDP checksum are filled in, so it needs no NEEDS_CSUM.  The
 * input frame is untrusted: it is parsed with frame_parse() and the
 * header's hdr_len is only a hint (5.1.6.2) and is ignored.  Nothing here
 * allocates; the caller passes the output buffer.
 */
#ifndef VNET_GSO_H
#define VNET_GSO_H

#include <stdint.h>

#include "common/virtio.h"

/* One output frame: out[offset, offset + len). */
struct gso_seg {
	uint32_t offset;
	uint32_t len;
};

/* Splits frame[0, len) as hdr->gso_type / hdr->gso_size ask, writing the
 * frames back to back into out (which must not overlap frame) and
 * describing them in segs.
 *
 * TCPV4 / TCPV6 (ECN bit allowed): gso_size is the MSS, the payload bytes
 * per segment.  Every segment carries a copy of the Ethernet/IP/TCP
 * headers with the IP length set, the IPv4 id incremented per segment,
 * the sequence number advanced by the payload before it, FIN and PSH only
 * on the last segment, CWR only on the first, the urgent pointer rebased
 * (URG cleared once it is passed) and both checksums computed.
 *
 * UDP (UFO, IPv4 only): the datagram gets its full UDP checksum, then is
 * split into IPv4 fragments (RFC 791) of at most gso_size bytes of IP
 * payload, rounded down to a multiple of 8: same IP id, offsets in 8-byte
 * units, MF on all but the last, the UDP header only in the first;
 * options without the "copied" flag become NOPs after the first fragment.
 * A datagram whose UDP length is at most gso_size stays whole.
 *
 * Returns the number of frames (1 when the payload fits in one), or
 * -EINVAL for a malformed frame or header (unparseable frame, gso_type
 * that does not match the frame, gso_size 0 (below 8 for UFO), no
 * payload, SYN or RST in a TCP GSO frame, a UDP length that is not the
 * IP payload length, malformed IPv4 options for UFO), -EOPNOTSUPP for a
 * gso_type we do not segment (UDP over IPv6, UDP_L4), -EPROTONOSUPPORT
 * from frame_parse (e.g. the input is itself an IPv4 fragment), or
 * -ENOSPC when out_cap or max_segs is too small (nothing is written). */
int gso_segment(const uint8_t *frame, uint32_t len,
		const struct virtio_net_hdr_v1 *hdr, uint8_t *out,
		uint32_t out_cap, struct gso_seg *segs, unsigned max_segs);

#endif /* VNET_GSO_H */
