// SPDX-License-Identifier: MIT
/*
 * notify.c - used buffers back to the driver, and the interrupt that
 * tells it: event suppression (2.7.7, 2.8.10) decides whether the driver
 * wants one, and interrupt coalescing (NOTF_COAL, VQ_NOTF_COAL,
 * 5.1.6.5.6) when it gets it.
 *
 * With a queue's max_packets and max_usecs both non-zero, an interrupt
 * the driver asked for is held until max_packets buffers were used since
 * the last one, or max_usecs passed since it was first owed, whichever
 * comes first.  With either of them 0, every interrupt goes at once
 * (5.1.6.5.6.2).  A held interrupt stays owed even when a later flush
 * finds the driver's event index already behind: it was asked for.
 */
#include <errno.h>

#include "common/log.h"
#include "host/dp/dp_priv.h"

static bool coalescing(const struct dp_coal *c)
{
	return c->max_packets && c->max_usecs;
}

static void raise_irq(struct vdev *vd, unsigned q)
{
	if (vdev_raise(vd, (int)q))
		vd->q[q].stats.irqs++;
}

static void coal_send(struct vdev *vd, unsigned q)
{
	struct dp_coal *c = &vd->dp.coal[q];

	ev_timer_cancel(vd->ev, c->timer);
	c->timer = -1;
	c->owed = false;
	c->pending = 0;
	raise_irq(vd, q);
}

static void coal_expired(struct vdev *vd, unsigned q)
{
	vd->dp.coal[q].timer = -1;
	if (vd->dp.coal[q].owed && vdev_running(vd))
		coal_send(vd, q);
}

static void coal_expired_rx(void *arg) { coal_expired(arg, VNET_RXQ); }
static void coal_expired_tx(void *arg) { coal_expired(arg, VNET_TXQ); }

void dp_flush_used(struct vdev *vd, unsigned q, unsigned used)
{
	struct vdev_queue *vq = &vd->q[q];
	struct dp_coal *c;
	bool need = vq_dev_flush(&vq->vq);

	if (q > VNET_TXQ || !coalescing(&vd->dp.coal[q])) {
		if (need)
			raise_irq(vd, q);
		else
			vq->stats.irqs_suppressed++;
		return;
	}
	c = &vd->dp.coal[q];
	c->pending += used;
	if (need)
		c->owed = true;
	if (!c->owed) {
		vq->stats.irqs_suppressed++;
		return;
	}
	if (c->pending >= c->max_packets) {
		coal_send(vd, q);
		return;
	}
	vq->stats.irqs_coalesced++;
	if (c->timer < 0) {
		long id = ev_timer_us(vd->ev, c->max_usecs,
				      q == VNET_RXQ ? coal_expired_rx : coal_expired_tx, vd);

		if (id > 0)
			c->timer = id;
		else
			coal_send(vd, q);	/* no timer slot: never hold it */
	}
}

int dp_coal_set(struct vdev *vd, unsigned q, uint32_t max_packets, uint32_t max_usecs)
{
	struct dp_coal *c;

	if (q > VNET_TXQ)
		return -EINVAL;
	c = &vd->dp.coal[q];
	c->max_packets = max_packets;
	c->max_usecs = max_usecs;
	/* What is held goes out now; the new setting starts from here. */
	if (c->owed)
		coal_send(vd, q);
	c->pending = 0;
	log_debug("%s: %s coalescing %u frames / %u us", vd->name,
		  q == VNET_RXQ ? "receiveq" : "transmitq", max_packets, max_usecs);
	return 0;
}

void dp_coal_get(const struct vdev *vd, unsigned q, uint32_t *max_packets,
		 uint32_t *max_usecs)
{
	*max_packets = vd->dp.coal[q].max_packets;
	*max_usecs = vd->dp.coal[q].max_usecs;
}

void dp_coal_reset(struct vdev *vd)
{
	for (unsigned q = VNET_RXQ; q <= VNET_TXQ; q++) {
		struct dp_coal *c = &vd->dp.coal[q];

		ev_timer_cancel(vd->ev, c->timer);
		*c = (struct dp_coal){ .timer = -1 };
	}
}
