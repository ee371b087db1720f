// SPDX-License-Identifier: MIT
#include "host/dp/offload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/csum.h"
#include "common/log.h"
#include "common/net_hdr.h"
#include "host/dp/dp_priv.h"

/* Room for a maximal frame cut at the smallest MSS we accept: the payload
 * once plus every segment's headers (Ethernet + VLAN + IPv6/IPv4 with
 * options + TCP with options). */
#define SEG_HDR_MAX (14 + 4 + 60 + 60)
#define OUT_CAP (VNET_MAX_GSO_FRAME + NET_OFFLOAD_MAX_SEGS * SEG_HDR_MAX)

int net_offload_init(struct net_offload_buf *b)
{
	b->frame = malloc(VNET_MAX_GSO_FRAME);
	b->out = malloc(OUT_CAP);
	b->out_cap = OUT_CAP;
	if (!b->frame || !b->out) {
		net_offload_free(b);
		return -ENOMEM;
	}
	return 0;
}

void net_offload_free(struct net_offload_buf *b)
{
	free(b->frame);
	free(b->out);
	b->frame = b->out = NULL;
}

int net_offload_fixup(struct vdev *vd, struct net_offload_buf *b,
		      struct virtio_net_hdr_v1 *h, const uint8_t *frame,
		      uint32_t flen, const uint8_t **base)
{
	int n;

	if (flen > VNET_MAX_GSO_FRAME)
		return -EMSGSIZE;
	/* A private copy: the peer may rewrite its ring while we work. */
	memcpy(b->frame, frame, flen);
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		n = gso_segment(b->frame, flen, h, b->out, b->out_cap, b->segs,
				NET_OFFLOAD_MAX_SEGS);
		if (n < 0) {
			log_rl(LOG_WARN, "%s: cannot segment a %u-byte GSO frame (type 0x%x, mss %u) from the peer: %s",
			       vd->name, flen, h->gso_type, h->gso_size, strerror(-n));
			return n;
		}
		dp_count(&vd->stats.frames_segmented, 1);
		dp_count(&vd->stats.segments_made, (uint64_t)n);
		*base = b->out;
	} else {
		n = csum_complete_partial(b->frame, flen, h->csum_start, h->csum_offset);
		if (n < 0) {
			log_rl(LOG_WARN, "%s: cannot complete the checksum of a %u-byte frame from the peer (start %u offset %u)",
			       vd->name, flen, h->csum_start, h->csum_offset);
			return n;
		}
		dp_count(&vd->stats.csum_completed, 1);
		b->segs[0].offset = 0;
		b->segs[0].len = flen;
		n = 1;
		*base = b->frame;
	}
	/* Every frame now carries full checksums: nothing left to offload. */
	memset(h, 0, sizeof(*h));
	return n;
}
