// SPDX-License-Identifier: MIT
/*
 * net_hdr.c - the virtio-net header rule (see net_hdr.h).
 */
#include "common/net_hdr.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#define KNOWN_FLAGS (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)

static int refuse(const struct virtio_net_hdr_v1 *h, uint32_t frame_len,
		  const char *rule, char *why, size_t whylen)
{
	if (why && whylen)
		snprintf(why, whylen,
			 "%s (flags 0x%x gso_type 0x%x gso_size %u hdr_len %u csum_start %u csum_offset %u, frame %u bytes)",
			 rule, h->flags, h->gso_type, h->gso_size, h->hdr_len,
			 h->csum_start, h->csum_offset, frame_len);
	return -EINVAL;
}

int net_hdr_check_offload(const struct virtio_net_hdr_v1 *h, uint32_t frame_len,
			  char *why, size_t whylen)
{
	const uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	const bool ecn = h->gso_type & VIRTIO_NET_HDR_GSO_ECN;

	/* 5.1.6.2: RSC_INFO is the device's, never on a frame that moves on. */
	if (h->flags & ~KNOWN_FLAGS)
		return refuse(h, frame_len, "unknown header flags", why, whylen);
	/* 5.1.6.2: csum_start and csum_offset locate the checksum to fill
	 * in; it must lie inside the frame. */
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (uint32_t)h->csum_start + h->csum_offset + 2u > frame_len)
		return refuse(h, frame_len, "checksum position past the frame", why, whylen);
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		if (ecn)
			return refuse(h, frame_len, "ECN without GSO", why, whylen);
		return 0;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		break;
	case VIRTIO_NET_HDR_GSO_UDP:
		/* GSO_ECN marks TCP's CWR (5.1.6.2); UDP has none. */
		if (ecn)
			return refuse(h, frame_len, "ECN on UDP GSO", why, whylen);
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		return refuse(h, frame_len, "GSO UDP_L4 (USO) is not supported", why, whylen);
	default:
		return refuse(h, frame_len, "unknown gso_type", why, whylen);
	}
	/* A GSO frame is cut into gso_size pieces: 0 cannot be cut. */
	if (h->gso_size == 0)
		return refuse(h, frame_len, "GSO with gso_size 0", why, whylen);
	if (h->hdr_len > frame_len)
		return refuse(h, frame_len, "GSO hdr_len past the frame", why, whylen);
	return 0;
}

/* One offload and the feature bit that allows it, per direction. */
struct offload_rule {
	const char *what;
	unsigned to_device;	/* driver may send it (5.1.6.2) */
	unsigned to_driver;	/* driver may receive it (5.1.6.4) */
};

static const struct offload_rule R_CSUM = { "a partial checksum", VIRTIO_NET_F_CSUM,
					    VIRTIO_NET_F_GUEST_CSUM };
static const struct offload_rule R_TSO4 = { "TCPv4 GSO", VIRTIO_NET_F_HOST_TSO4,
					    VIRTIO_NET_F_GUEST_TSO4 };
static const struct offload_rule R_TSO6 = { "TCPv6 GSO", VIRTIO_NET_F_HOST_TSO6,
					    VIRTIO_NET_F_GUEST_TSO6 };
static const struct offload_rule R_UFO = { "UDP GSO", VIRTIO_NET_F_HOST_UFO,
					   VIRTIO_NET_F_GUEST_UFO };
static const struct offload_rule R_ECN = { "GSO with ECN", VIRTIO_NET_F_HOST_ECN,
					   VIRTIO_NET_F_GUEST_ECN };

static int need(const struct offload_rule *r, uint64_t features, enum net_hdr_dir dir,
		char *why, size_t whylen)
{
	unsigned bit = dir == NET_HDR_TO_DEVICE ? r->to_device : r->to_driver;

	if (features & VIRTIO_BIT(bit))
		return 0;
	if (why && whylen)
		snprintf(why, whylen, "%s without feature bit %u (%s not negotiated)", r->what,
			 bit, dir == NET_HDR_TO_DEVICE ? "the driver's transmit offload" :
							 "the driver's receive offload");
	return -EOPNOTSUPP;
}

int net_hdr_allowed_offload(const struct virtio_net_hdr_v1 *h, uint64_t features,
			    enum net_hdr_dir dir, char *why, size_t whylen)
{
	const struct offload_rule *gso = NULL;
	int rc;

	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		rc = need(&R_CSUM, features, dir, why, whylen);
		if (rc)
			return rc;
	}
	switch (h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_TCPV4: gso = &R_TSO4; break;
	case VIRTIO_NET_HDR_GSO_TCPV6: gso = &R_TSO6; break;
	case VIRTIO_NET_HDR_GSO_UDP: gso = &R_UFO; break;
	default: break;
	}
	if (gso) {
		rc = need(gso, features, dir, why, whylen);
		if (rc)
			return rc;
	}
	if (h->gso_type & VIRTIO_NET_HDR_GSO_ECN)
		return need(&R_ECN, features, dir, why, whylen);
	return 0;
}

uint32_t net_hdr_len(uint64_t features, bool legacy)
{
	/* HASH_REPORT is bit 57: a legacy device's 32 feature bits never
	 * carry it (4.1.4.10), so the legacy case below is the 12/10 one. */
	if (features & VIRTIO_BIT(VIRTIO_NET_F_HASH_REPORT))
		return (uint32_t)sizeof(struct virtio_net_hdr_v1_hash);
	if (legacy && !(features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF)))
		return VIRTIO_NET_HDR_LEGACY_LEN;
	return (uint32_t)sizeof(struct virtio_net_hdr_v1);
}
