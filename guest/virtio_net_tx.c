// SPDX-License-Identifier: MIT
/*
 * virtio_net_tx.c - the transmit path (5.1.6.2).
 *
 * Each frame is copied into a TX buffer of guest RAM behind its header
 * (hdr_len bytes: 12, 20 with HASH_REPORT whose hash fields are 0 on
 * transmit, or 10 for a legacy device without MRG_RXBUF) and
 * given to the ring as one descriptor, or as two (header, frame) for a
 * legacy device without ANY_LAYOUT (5.1.6.6.1).  One kick decision per
 * burst and queue.
 *
 * With several pairs each frame goes to the transmitq its flow hashes to
 * (addresses and ports, the RSS hash of common/rss.c under the default
 * key), so the frames of one flow stay in order on one queue.
 */
#include <string.h>

#include "common/log.h"
#include "common/net_hdr.h"
#include "common/rss.h"
#include "guest/virtio_net_priv.h"

static void tx_reclaim_queue(struct vnet_queue *q)
{
	uint32_t len;
	void *tok;
	uint16_t i;

	if (!q->vq_ready || q->vq.broken)
		return;
	/* The TX used length means nothing for a driver (5.1.6.2). */
	while (q->nidx < q->size && (tok = vq_drv_get(&q->vq, &len)) != NULL)
		if (vn_token_idx(q, tok, &i))
			q->idx[q->nidx++] = i;
}

void vn_tx_reclaim(struct vnet_dev *d)
{
	for (unsigned k = 0; k < d->npairs; k++)
		tx_reclaim_queue(&d->txq[k]);
}

unsigned vn_tx_free_min(const struct vnet_dev *d)
{
	unsigned m = d->txq[0].nidx;

	for (unsigned k = 1; k < d->npairs; k++)
		if (d->txq[k].nidx < m)
			m = d->txq[k].nidx;
	return m;
}

/* The transmitq of a frame's flow; a frame without one (not IP) goes on
 * the first. */
static struct vnet_queue *tx_queue_of(struct vnet_dev *d, const struct vnet_frame *f)
{
	return &d->txq[d->npairs == 1 ? 0 : rss_flow_queue(f->data, f->len, d->npairs)];
}

/* A caller's header must be well formed and may only ask for what was
 * negotiated: the one rule, common/net_hdr.h. */
static int tx_check(const struct vnet_dev *d, const struct vnet_frame *f)
{
	uint32_t limit = d->max_tx_frame;

	if (f->len < VNET_ETH_HLEN || !f->data)
		return -EINVAL;
	if (f->hdr) {
		if (net_hdr_check(f->hdr, f->len, NULL, 0) < 0 ||
		    net_hdr_allowed(f->hdr, d->drv_features, NET_HDR_TO_DEVICE, NULL, 0) < 0)
			return -EINVAL;
		if (f->hdr->gso_type != VIRTIO_NET_HDR_GSO_NONE)
			limit = VNET_MAX_GSO_FRAME;
	}
	return f->len > limit ? -EMSGSIZE : 0;
}

/* Copies one checked frame into a free buffer and adds it to the ring. */
static int tx_one(struct vnet_dev *d, struct vnet_queue *q, const struct virtio_net_hdr_v1 *hdr,
		  const void *data, uint32_t len)
{
	struct virtio_net_hdr_v1_hash h = { 0 };	/* hdr_len bytes of it go */
	struct vq_sg sg[2];
	uint64_t gpa;
	uint8_t *buf;
	uint16_t b;
	int rc;

	if (q->nidx == 0) {
		d->st.tx_ring_full++;
		return -ENOSPC;
	}
	b = q->idx[--q->nidx];
	buf = q->bufs + (size_t)b * q->buf_size;
	gpa = q->bufs_gpa + (uint64_t)b * q->buf_size;
	if (hdr)
		h.hdr = *hdr;
	h.hdr.num_buffers = 0;	/* 5.1.6.2: the driver sets it 0 */
	memcpy(buf, &h, d->hdr_len);
	memcpy(buf + d->hdr_len, data, len);
	if (d->hdr_separate) {
		sg[0] = (struct vq_sg){ gpa, d->hdr_len };
		sg[1] = (struct vq_sg){ gpa + d->hdr_len, len };
		rc = vq_drv_add(&q->vq, sg, 2, 0, vn_token(b));
	} else {
		sg[0] = (struct vq_sg){ gpa, d->hdr_len + len };
		rc = vq_drv_add(&q->vq, sg, 1, 0, vn_token(b));
	}
	if (rc < 0) {
		q->idx[q->nidx++] = b;
		if (rc == -ENOSPC)
			d->st.tx_ring_full++;
		return rc;
	}
	d->st.tx_frames++;
	d->st.tx_bytes += len;
	return 0;
}

int vn_tx_raw(struct vnet_dev *d, const void *frame, uint32_t len)
{
	int rc;

	if (len < VNET_ETH_HLEN || len > d->max_tx_frame)
		return -EINVAL;
	vn_tx_reclaim(d);
	rc = tx_one(d, &d->txq[0], NULL, frame, len);
	if (rc == 0)
		vn_kick(d, &d->txq[0]);
	return rc;
}

int vnet_tx_burst(struct vnet_dev *d, const struct vnet_frame *frames,
		  unsigned n)
{
	struct vnet_queue *q = &d->txq[0];
	unsigned i, used = 0;	/* bit k: transmitq k took a frame */
	int rc = vn_health(d);

	if (rc < 0)
		return rc;
	vn_tx_reclaim(d);
	for (i = 0; i < n; i++) {
		const struct vnet_frame *f = &frames[i];

		rc = tx_check(d, f);
		if (rc < 0)
			break;
		q = tx_queue_of(d, f);
		rc = tx_one(d, q, f->hdr, f->data, f->len);
		if (rc < 0)
			break;
		used |= 1u << (q - d->txq);
	}
	for (unsigned k = 0; k < d->npairs; k++)
		if (used & (1u << k))
			vn_kick(d, &d->txq[k]);
	if (i == 0 && rc < 0 && rc != -ENOSPC)
		return vn_queue_broken(q) ? -EIO : rc;
	return (int)i;
}

unsigned vnet_tx_space(struct vnet_dev *d)
{
	vn_tx_reclaim(d);
	return vn_tx_free_min(d);
}
