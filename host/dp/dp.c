// SPDX-License-Identifier: MIT
/*
 * dp.c - what the transmit and receive paths share: chain copies,
 * used-ring flushes with interrupt suppression, scheduling of passes.
 */
#include "host/dp/dp.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "host/dp/ctrl.h"

void chain_gather(const struct vq_chain *ch, uint8_t *dst, uint32_t len)
{
	/* The common case: a driver puts header and frame in one buffer
	 * (ANY_LAYOUT, 5.1.6.6), so one copy without the loop. */
	if (ch->n_out > 0 && ch->bufs[0].len >= len) {
		memcpy(dst, ch->bufs[0].ptr, len);
		return;
	}
	for (unsigned i = 0; i < ch->n_out && len; i++) {
		uint32_t n = ch->bufs[i].len < len ? ch->bufs[i].len : len;

		memcpy(dst, ch->bufs[i].ptr, n);
		dst += n;
		len -= n;
	}
}

uint32_t chain_scatter(const struct vq_chain *ch, uint32_t off,
		       const uint8_t *src, uint32_t len)
{
	uint32_t done = 0;

	/* The common case: it all fits the first writable buffer. */
	if (ch->n_in > 0 && off <= ch->bufs[ch->n_out].len &&
	    len <= ch->bufs[ch->n_out].len - off) {
		memcpy(ch->bufs[ch->n_out].ptr + off, src, len);
		return len;
	}
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

void net_dp_flush_used(struct vdev *vd, unsigned q)
{
	struct vdev_queue *vq = &vd->q[q];

	if (vq_dev_flush(&vq->vq)) {
		if (vd->t->ops->raise(vd->t, (int)q))
			vq->stats.irqs++;
	} else {
		vq->stats.irqs_suppressed++;
	}
}

void net_dp_queue_broken(struct vdev *vd, unsigned q)
{
	char why[VQ_REASON_LEN + 32];

	snprintf(why, sizeof(why), "%s: %s",
		 q == VNET_RXQ ? "receiveq" : q == VNET_TXQ ? "transmitq" : "controlq",
		 vd->q[q].vq.reason);
	vdev_set_needs_reset(vd, why);
}

int net_dp_init(struct vdev *vd)
{
	vd->tx_resched = -1;
	vd->rx_resched = -1;
	return 0;
}

void net_dp_start(struct vdev *vd)
{
	vd->tx_waiting_space = false;
	vd->rx_waiting_buffers = false;
	/* Receive kicks are wanted only while we wait for buffers. */
	vq_dev_set_notify(&vd->q[VNET_RXQ].vq, false);
	net_rx_process(vd);
	net_tx_process(vd);
}

void net_dp_stop(struct vdev *vd)
{
	ev_timer_cancel(vd->ev, vd->tx_resched);
	ev_timer_cancel(vd->ev, vd->rx_resched);
	vd->tx_resched = vd->rx_resched = -1;
	vd->tx_waiting_space = false;
	vd->rx_waiting_buffers = false;
}

static void rx_later_fn(void *arg)
{
	struct vdev *vd = arg;

	vd->rx_resched = -1;
	net_rx_process(vd);
}

void net_dp_schedule_rx(struct vdev *vd)
{
	long id;

	if (vd->rx_resched >= 0)
		return;
	id = ev_timer(vd->ev, 0, rx_later_fn, vd);
	vd->rx_resched = id > 0 ? id : -1;
}

void net_dp_kick(struct vdev *vd, unsigned q)
{
	if (q == VNET_TXQ)
		net_tx_process(vd);
	else if (q == VNET_RXQ)
		net_rx_process(vd);
	else if (q == VNET_CTRLQ)
		net_ctrl_process(vd);
}

void net_dp_peer_event(struct vdev *vd)
{
	net_rx_process(vd);
	if (vd->tx_waiting_space)
		net_tx_process(vd);
}
