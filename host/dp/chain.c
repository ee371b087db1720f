// SPDX-License-Identifier: MIT
/*
 * chain.c - what the transmit, receive and control passes share below
 * them: copies between a chain's guest buffers and private memory, the
 * used-ring flush with interrupt suppression (2.7.7, 2.8.10), and the
 * latch for a malformed queue.
 */
#include <stdio.h>
#include <string.h>

#include "host/dp/dp_priv.h"
#include "host/peer/link.h"

bool chain_frame_view(const struct vq_chain *ch, uint32_t hdr_len, const uint8_t **frame,
		      uint32_t *len)
{
	if (ch->n_out == 0 || ch->out_len < hdr_len)
		return false;
	*len = ch->out_len - hdr_len;
	if (ch->bufs[0].len >= ch->out_len) {
		*frame = ch->bufs[0].ptr + hdr_len;
		return true;
	}
	if (ch->n_out >= 2 && ch->bufs[0].len == hdr_len && ch->bufs[1].len >= *len) {
		*frame = ch->bufs[1].ptr;
		return true;
	}
	return false;
}

void chain_gather_bufs(const struct vq_chain *ch, uint32_t off, uint8_t *dst, uint32_t len)
{
	for (unsigned i = 0; i < ch->n_out && len; i++) {
		uint32_t n;

		if (off >= ch->bufs[i].len) {
			off -= ch->bufs[i].len;
			continue;
		}
		n = ch->bufs[i].len - off < len ? ch->bufs[i].len - off : len;
		memcpy(dst, ch->bufs[i].ptr + off, n);
		dst += n;
		len -= n;
		off = 0;
	}
}

uint32_t chain_scatter_bufs(const struct vq_chain *ch, uint32_t off, const uint8_t *src,
			    uint32_t len)
{
	uint32_t done = 0;

	for (unsigned i = ch->n_out; i < (unsigned)ch->n_out + ch->n_in && done < len; i++) {
		const struct vq_buf *b = &ch->bufs[i];
		uint32_t n;

		if (off >= b->len) {
			off -= b->len;
			continue;
		}
		n = b->len - off;
		if (n > len - done)
			n = len - done;
		memcpy(b->ptr + off, src + done, n);
		done += n;
		off = 0;
	}
	return done;
}

void dp_queue_broken(struct vdev *vd, unsigned q)
{
	char why[VQ_REASON_LEN + 32];

	/* The queue is latched broken (its vq says why): no pass uses it
	 * until the main loop latched NEEDS_RESET and the driver reset. */
	if (dp_on_thread()) {
		dp_defer(vd, DP_DEFER_QUEUE(q));
		return;
	}

	/* 5.1.2's names, counted from 1. */
	if (q == vdev_ctrlq(vd))
		snprintf(why, sizeof(why), "controlq: %s", vd->q[q].vq.reason);
	else
		snprintf(why, sizeof(why), "%s%u: %s", q % 2 ? "transmitq" : "receiveq",
			 q / 2 + 1, vd->q[q].vq.reason);
	vdev_set_needs_reset(vd, why);
}

void dp_link_broken(struct vdev *vd)
{
	/* The ring is latched broken; the link's end is the main loop's. */
	if (dp_on_thread())
		dp_defer(vd, DP_DEFER_RING);
	else
		peer_link_ring_broken(vd->link);
}
