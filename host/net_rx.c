// SPDX-License-Identifier: MIT
/*
 * net_rx.c - peer ring -> receiveq.
 *
 * Each record of the peer's ring is one frame with the canonical 12-byte
 * header.  The header is copied into private memory and checked before
 * anything else (the peer may change shared memory under us, and is not
 * trusted); the frame is then copied into one receive chain of the guest
 * (5.1.6.3/5.1.6.4) with the header rewritten for the guest.
 *
 * Without a receive buffer the frame stays in the peer ring (the peer's
 * transmit path then waits) and we ask the guest to notify us when it
 * adds buffers.  Frames that reach a device whose driver is not live are
 * dropped and counted, so a stopped guest never blocks its peer.
 */
#include <string.h>

#include "common/log.h"
#include "common/peer_ring.h"
#include "host/net_dp.h"
#include "host/vdev_link.h"

#define HDR_KNOWN_FLAGS (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)

static bool has(const struct vdev *vd, unsigned bit)
{
	return vd->driver_features & VIRTIO_BIT(bit);
}

/* May this header be delivered to our guest as it is (5.1.6.4)? */
static bool rx_hdr_deliverable(const struct vdev *vd,
			       const struct virtio_net_hdr_v1 *h)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if (h->flags & ~HDR_KNOWN_FLAGS)
		return false;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !has(vd, VIRTIO_NET_F_GUEST_CSUM))
		return false;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !has(vd, VIRTIO_NET_F_GUEST_ECN))
		return false;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return !(h->gso_type & VIRTIO_NET_HDR_GSO_ECN);
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return has(vd, VIRTIO_NET_F_GUEST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return has(vd, VIRTIO_NET_F_GUEST_TSO6);
	case VIRTIO_NET_HDR_GSO_UDP:
		return has(vd, VIRTIO_NET_F_GUEST_UFO);
	default:
		return false;
	}
}

static void rx_resched_fn(void *arg)
{
	struct vdev *vd = arg;

	vd->rx_resched = -1;
	net_rx_process(vd);
}

enum rx_stop { RX_EMPTY, RX_BUDGET, RX_NO_BUFFER, RX_QUEUE_BROKEN, RX_RING_BROKEN };

/* Drops every record (the driver is not live). */
static enum rx_stop rx_drain(struct vdev *vd, struct peer_ring_cons *ring,
			     unsigned *consumed)
{
	const uint8_t *rec;
	uint32_t len;

	for (unsigned n = 0; n < VDEV_BUDGET; n++) {
		int r = peer_ring_peek(ring, &rec, &len);

		if (r < 0)
			return RX_RING_BROKEN;
		if (r == 0)
			return RX_EMPTY;
		vd->stats.drop_no_driver++;
		peer_ring_consume(ring);
		(*consumed)++;
	}
	return RX_BUDGET;
}

static enum rx_stop rx_pass(struct vdev *vd, struct peer_ring_cons *ring,
			    unsigned *consumed, unsigned *pushed)
{
	struct vdev_queue *q = &vd->q[VNET_RXQ];
	const uint32_t hdr_len = sizeof(struct virtio_net_hdr_v1);
	struct vq_chain ch;

	for (unsigned n = 0; n < VDEV_BUDGET; n++) {
		struct virtio_net_hdr_v1 h;
		const uint8_t *rec;
		uint32_t len, flen, need;
		int r = peer_ring_peek(ring, &rec, &len);

		if (r < 0)
			return RX_RING_BROKEN;
		if (r == 0)
			return RX_EMPTY;
		/* The ring guarantees len >= 12; copy the header once. */
		memcpy(&h, rec, sizeof(h));
		flen = len - hdr_len;
		if (flen < VNET_ETH_HLEN || !rx_hdr_deliverable(vd, &h)) {
			vd->stats.drop_bad_frame++;
			log_rl(LOG_WARN, "%s: dropped a %u-byte frame from the peer with header flags 0x%x gso 0x%x our guest cannot take",
			       vd->name, flen, h.flags, h.gso_type);
			peer_ring_consume(ring);
			(*consumed)++;
			continue;
		}
		ch.bufs = vd->chain_bufs;
		ch.cap = VDEV_QUEUE_MAX * 2u;
		r = vq_dev_pop(&q->vq, &ch, VQ_CHAIN_WRITE_ONLY);
		if (r < 0)
			return RX_QUEUE_BROKEN;
		if (r == 0)
			return RX_NO_BUFFER;
		need = hdr_len + flen;
		if (ch.in_len < need) {
			/* 5.1.6.3: buffers must hold a whole frame without
			 * MRG_RXBUF; the frame cannot be delivered. */
			vd->stats.drop_rx_too_small++;
			vq_dev_push(&q->vq, &ch, 0);
		} else {
			h.num_buffers = 1;	/* 5.1.6.4 without MRG_RXBUF */
			chain_scatter(&ch, 0, (const uint8_t *)&h, hdr_len);
			chain_scatter(&ch, hdr_len, rec + hdr_len, flen);
			vq_dev_push(&q->vq, &ch, need);
			q->stats.frames++;
			q->stats.bytes += flen;
		}
		(*pushed)++;
		peer_ring_consume(ring);
		(*consumed)++;
	}
	return RX_BUDGET;
}

void net_rx_process(struct vdev *vd)
{
	struct vdev_queue *q = &vd->q[VNET_RXQ];
	struct peer_ring_cons *ring = vdev_link_rx(vd);
	bool live;

	if (!ring || vd->rx_resched >= 0)
		return;
	live = vdev_running(vd) && q->enabled;
	peer_ring_cons_awake(ring);
	if (live && vd->rx_waiting_buffers) {
		vd->rx_waiting_buffers = false;
		vq_dev_set_notify(&q->vq, false);
	}
	for (;;) {
		unsigned consumed = 0, pushed = 0;
		enum rx_stop why = live ? rx_pass(vd, ring, &consumed, &pushed)
					: rx_drain(vd, ring, &consumed);

		if (consumed)
			vdev_link_release(vd);
		if (pushed)
			net_dp_flush_used(vd, VNET_RXQ);
		switch (why) {
		case RX_RING_BROKEN:
			vdev_link_ring_broken(vd);
			return;
		case RX_QUEUE_BROKEN:
			net_dp_queue_broken(vd, VNET_RXQ);
			return;
		case RX_BUDGET: {
			long id = ev_timer(vd->ev, 0, rx_resched_fn, vd);

			vd->rx_resched = id > 0 ? id : -1;
			if (id > 0)
				return;
			continue;
		}
		case RX_NO_BUFFER:
			/* Ask for a kick when buffers arrive; re-check first. */
			if (vq_dev_set_notify(&q->vq, true))
				continue;
			vd->rx_waiting_buffers = true;
			return;
		case RX_EMPTY:
			if (peer_ring_cons_sleep_prepare(ring))
				return;
			peer_ring_cons_awake(ring);
			continue;
		}
	}
}
