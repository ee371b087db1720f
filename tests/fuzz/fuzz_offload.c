// SPDX-License-Identifier: MIT
/*
 * fuzz_offload - the receive path's software offloads over a frame from
 * the peer, as host/dp/rx.c runs them: a frame of at least an Ethernet
 * header whose virtio-net header net_hdr_check (common/net_hdr.c)
 * accepted, which the guest's negotiated features cannot take
 * (net_hdr_needs_fixup), goes to net_offload_fixup (host/dp/offload.c),
 * that is gso_segment (common/gso.c) or csum_complete_partial
 * (common/csum.c).
 *
 * Input: a byte choosing the guest's GUEST_* features, the 12-byte
 * header, the frame.  Checks: every output frame lies inside the
 * offload buffers and is read in full (as deliver copies it), the header
 * is cleared, and a TCP segment that frame_parse understands carries
 * correct checksums (gso.h: "every output frame is complete").  Every
 * frame is also hashed for RSS (common/rss.c) under the types the
 * header's hdr_len bits stand for.
 */
#include <errno.h>

#include "common/csum.h"
#include "common/net_hdr.h"
#include "common/rss.h"
#include "host/dev/vdev.h"
#include "host/dp/offload.h"
#include "tests/fuzz/harness.h"

static struct vdev vd;
static struct net_offload_buf ob;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	snprintf(vd.name, sizeof(vd.name), "fuzz");
	if (net_offload_init(&ob))
		abort();
	return 0;
}

static const unsigned guest_bits[] = {
	VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4,
	VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_ECN,
	VIRTIO_NET_F_GUEST_UFO,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr_v1 h, fixed;
	const uint8_t *frame, *base;
	struct fuzz_in in;
	uint8_t feats;
	uint32_t flen;
	int n;

	if (size > 1 + sizeof(h) + VNET_MAX_GSO_FRAME)
		return -1;
	fin_init(&in, data, size);
	feats = fin_u8(&in);
	vd.driver_features = 0;
	for (unsigned i = 0; i < sizeof(guest_bits) / sizeof(guest_bits[0]); i++)
		if (feats & (1u << i))
			vd.driver_features |= 1ull << guest_bits[i];
	fin_bytes(&in, &h, sizeof(h));
	frame = in.p;
	flen = (uint32_t)in.left;
	{
		/* The RSS hash reads the same frames a sender would steer:
		 * under every hash type, never outside the frame, and a
		 * report only with a type it was asked for. */
		static const uint8_t key[RSS_KEY_MAX] = { 0x6d, 0x5a, 0x56, 0xda };
		uint8_t report;
		uint32_t hash = rss_hash_frame(key, sizeof(key), h.hdr_len, frame, flen, &report);

		FUZZ_CHECK(report <= VIRTIO_NET_HASH_REPORT_UDPv6);
		FUZZ_CHECK(report != VIRTIO_NET_HASH_REPORT_NONE || hash == 0);
		FUZZ_CHECK(report == VIRTIO_NET_HASH_REPORT_NONE ||
			   (h.hdr_len & (1u << (report - 1))));
	}
	if (flen < VNET_ETH_HLEN || net_hdr_check(&h, flen, NULL, 0) ||
	    !net_hdr_needs_fixup(&vd, &h)) {
		FUZZ_TRACE("not for the fixup\n");
		return 0;
	}

	fixed = h;
	n = net_offload_fixup(&vd, &ob, &fixed, frame, flen, &base);
	FUZZ_TRACE("fixup: %d\n", n);
	if (n < 0)
		return 0;
	FUZZ_CHECK(n >= 1 && n <= NET_OFFLOAD_MAX_SEGS);
	FUZZ_CHECK(fixed.flags == 0 && fixed.gso_type == VIRTIO_NET_HDR_GSO_NONE);
	FUZZ_CHECK(base == ob.out || base == ob.frame);
	for (int i = 0; i < n; i++) {
		const struct gso_seg *s = &ob.segs[i];
		uint32_t cap = base == ob.out ? ob.out_cap : VNET_MAX_GSO_FRAME;
		volatile uint8_t sink = 0;
		struct frame_l34 l;

		FUZZ_CHECK(s->len > 0 && s->offset <= cap && s->len <= cap - s->offset);
		for (uint32_t k = 0; k < s->len; k++)
			sink ^= base[s->offset + k];
		(void)sink;
		if (base == ob.out && (h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_UDP &&
		    frame_parse(base + s->offset, s->len, &l) == 0)
			FUZZ_CHECK(frame_verify_csums(base + s->offset, s->len) == 0);
	}
	return 0;
}
