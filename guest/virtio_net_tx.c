// SPDX-License-Identifier: MIT
/*
 * virtio_net_tx.c - the transmit path (5.1.6.2).
 *
 * Each frame is copied into a TX buffer of guest RAM behind its header
 * (hdr_len bytes: 12, 20 with HASH_REPORT whose hash fields are 0 on
 * transmit, or 10 for a legacy device without MRG_RXBUF) and
 * given to the ring as one descriptor, or as two (header, frame) for a
 * legacy device without ANY_LAYOUT (5.1.6.6.1).  A burst stages its
 * frames' chains per transmitq and adds each queue's in one
 * vq_drv_add_burst (up to VN_BURST at a time), with one kick decision per
 * burst and queue; used buffers come back in bursts too.
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
	void *tok[VN_BURST];
	unsigned want;
	int got;
	uint16_t i;

	if (!q->vq_ready || q->vq.broken)
		return;
	/* The TX used length means nothing for a driver (5.1.6.2).  No
	 * more than the buffers in flight can come back. */
	do {
		want = q->size - q->nidx < VN_BURST ? q->size - q->nidx : VN_BURST;
		got = vq_drv_get_burst(&q->vq, tok, NULL, want);
		for (int k = 0; k < got; k++)
			if (vn_token_idx(q, tok[k], &i))
				q->idx[q->nidx++] = i;
	} while (got > 0 && (unsigned)got == want);
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

/* Buffers a transmit chain has: header and frame apart for a legacy
 * device without ANY_LAYOUT, else together. */
static unsigned tx_nbufs(const struct vnet_dev *d)
{
	return d->hdr_separate ? 2 : 1;
}

/* A burst starts on every transmitq with nothing staged and the room it
 * has: free buffers, and chains the ring takes.  A frame is staged only
 * into room, so a full ring stops the burst before the frame is copied
 * and every frame staged is added, whichever queue it went to. */
static void tx_stage_begin(struct vnet_dev *d)
{
	for (unsigned k = 0; k < d->npairs; k++) {
		struct vnet_queue *q = &d->txq[k];
		struct vn_tx_stage *s = &d->tx_stage[k];
		unsigned room = vq_drv_num_free(&q->vq) / vq_drv_chain_slots(&q->vq, tx_nbufs(d));

		s->n = 0;
		s->bytes = 0;
		s->room = room < q->nidx ? room : q->nidx;
	}
}

/* Copies one checked frame into a free buffer behind its header and
 * stages its chain; the caller saw room for it. */
static void tx_stage(struct vnet_dev *d, struct vnet_queue *q, struct vn_tx_stage *s,
		     const struct virtio_net_hdr_v1 *hdr, const void *data, uint32_t len)
{
	struct virtio_net_hdr_v1_hash h = { 0 };	/* hdr_len bytes of it go */
	struct vq_sg *sg = &s->sg[s->n * tx_nbufs(d)];
	uint16_t b = q->idx[--q->nidx];
	uint8_t *buf = q->bufs + (size_t)b * q->buf_size;
	uint64_t gpa = q->bufs_gpa + (uint64_t)b * q->buf_size;

	if (hdr)
		h.hdr = *hdr;
	h.hdr.num_buffers = 0;	/* 5.1.6.2: the driver sets it 0 */
	/* The usual 12-byte header as a constant length: two moves, not a
	 * call (bench/insns.sh, INSNS_SIDE=guest). */
	if (__builtin_expect(d->hdr_len == sizeof(h.hdr), 1))
		memcpy(buf, &h.hdr, sizeof(h.hdr));
	else
		memcpy(buf, &h, d->hdr_len);
	memcpy(buf + d->hdr_len, data, len);
	if (d->hdr_separate) {
		sg[0] = (struct vq_sg){ gpa, d->hdr_len };
		sg[1] = (struct vq_sg){ gpa + d->hdr_len, len };
	} else {
		sg[0] = (struct vq_sg){ gpa, d->hdr_len + len };
	}
	s->tok[s->n++] = vn_token(b);
	s->room--;
	s->bytes += len;
}

/* Adds q's staged chains in one burst and counts them sent.  Only a
 * broken queue refuses chains that had room: their buffers go back to
 * the free list.  Returns the frames added. */
static unsigned tx_flush(struct vnet_dev *d, struct vnet_queue *q, struct vn_tx_stage *s)
{
	unsigned nb = tx_nbufs(d);
	int rc = vq_drv_add_burst(&q->vq, s->sg, nb, 0, s->tok, s->n);
	unsigned added = rc > 0 ? (unsigned)rc : 0;

	for (unsigned k = added; k < s->n; k++) {
		const struct vq_sg *sg = &s->sg[k * nb];
		uint16_t b;

		s->bytes -= sg[nb - 1].len - (nb == 1 ? d->hdr_len : 0);
		if (vn_token_idx(q, s->tok[k], &b))
			q->idx[q->nidx++] = b;
	}
	d->st.tx_frames += added;
	d->st.tx_bytes += s->bytes;
	s->n = 0;
	s->bytes = 0;
	return added;
}

int vn_tx_raw(struct vnet_dev *d, const void *frame, uint32_t len)
{
	struct vnet_queue *q = &d->txq[0];
	struct vn_tx_stage *s = &d->tx_stage[0];

	if (len < VNET_ETH_HLEN || len > d->max_tx_frame)
		return -EINVAL;
	vn_tx_reclaim(d);
	tx_stage_begin(d);
	if (s->room == 0) {
		d->st.tx_ring_full++;
		return -ENOSPC;
	}
	tx_stage(d, q, s, NULL, frame, len);
	if (!tx_flush(d, q, s))
		return -EIO;
	vn_kick(d, q);
	return 0;
}

int vnet_tx_burst(struct vnet_dev *d, const struct vnet_frame *frames,
		  unsigned n)
{
	struct vnet_queue *q = &d->txq[0];
	unsigned i, added = 0, used = 0;	/* bit k: transmitq k took a frame */
	int rc = vn_health(d);

	if (rc < 0)
		return rc;
	vn_tx_reclaim(d);
	tx_stage_begin(d);
	for (i = 0; i < n; i++) {
		const struct vnet_frame *f = &frames[i];
		struct vn_tx_stage *s;

		rc = tx_check(d, f);
		if (rc < 0)
			break;
		q = tx_queue_of(d, f);
		s = &d->tx_stage[q - d->txq];
		if (s->room == 0) {
			d->st.tx_ring_full++;
			rc = -ENOSPC;
			break;
		}
		if (s->n == VN_BURST)
			added += tx_flush(d, q, s);
		tx_stage(d, q, s, f->hdr, f->data, f->len);
		used |= 1u << (q - d->txq);
	}
	for (unsigned k = 0; k < d->npairs; k++) {
		if (!(used & (1u << k)))
			continue;
		added += tx_flush(d, &d->txq[k], &d->tx_stage[k]);
		vn_kick(d, &d->txq[k]);
	}
	/* Frames staged but refused: a queue broke under the burst. */
	if (added < i)
		return added ? (int)added : -EIO;
	if (i == 0 && rc < 0 && rc != -ENOSPC)
		return vn_queue_broken(q) ? -EIO : rc;
	return (int)i;
}

unsigned vnet_tx_space(struct vnet_dev *d)
{
	vn_tx_reclaim(d);
	return vn_tx_free_min(d);
}
