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
	if (dp_raise(vd, q))
		vd->q[q].stats.irqs++;
}

static void coal_send(struct vdev *vd, unsigned q)
{
	struct dp_coal *c = &vd->dp.coal[q];

	if (c->timer >= 0)
		ev_timer_cancel(c->timer_ev, c->timer);
	c->timer = -1;
	c->owed = false;
	c->pending = 0;
	raise_irq(vd, q);
}

/* A receiveq or transmitq of the negotiated layout: those coalesce. */
static bool data_queue(const struct vdev *vd, unsigned q)
{
	return q < 2 * vdev_pairs_negotiated(vd);
}

static void coal_expired(void *arg)
{
	struct vdev_queue *vq = arg;
	struct vdev *vd = vq->vd;
	unsigned q = (unsigned)(vq - vd->q);

	vd->dp.coal[q].timer = -1;
	if (vd->dp.coal[q].owed && vdev_running(vd))
		coal_send(vd, q);
}

void dp_flush_used(struct vdev *vd, unsigned q, unsigned used)
{
	struct vdev_queue *vq = &vd->q[q];
	struct dp_coal *c;
	bool need = vq_dev_flush(&vq->vq);

	if (!data_queue(vd, q) || !coalescing(&vd->dp.coal[q])) {
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
		/* On the loop of the thread that flushes this queue. */
		struct evloop *ev = dp_cur_loop(vd);
		long id = ev_timer_us(ev, c->max_usecs, coal_expired, vq);

		if (id > 0) {
			c->timer = id;
			c->timer_ev = ev;
		} else {
			coal_send(vd, q);	/* no timer slot: never hold it */
		}
	}
}

int dp_coal_set(struct vdev *vd, unsigned q, uint32_t max_packets, uint32_t max_usecs)
{
	struct dp_coal *c;

	if (!data_queue(vd, q))
		return -EINVAL;
	c = &vd->dp.coal[q];
	c->max_packets = max_packets;
	c->max_usecs = max_usecs;
	/* What is held goes out now; the new setting starts from here. */
	if (c->owed)
		coal_send(vd, q);
	c->pending = 0;
	log_debug("%s: %s%u coalescing %u frames / %u us", vd->name,
		  q % 2 ? "transmitq" : "receiveq", q / 2 + 1, max_packets, max_usecs);
	return 0;
}

void dp_coal_flush(struct vdev *vd)
{
	for (unsigned q = 0; q < 2 * VDEV_MAX_PAIRS; q++)
		if (vd->dp.coal[q].owed)
			coal_send(vd, q);
}

void dp_coal_get(const struct vdev *vd, unsigned q, uint32_t *max_packets,
		 uint32_t *max_usecs)
{
	*max_packets = vd->dp.coal[q].max_packets;
	*max_usecs = vd->dp.coal[q].max_usecs;
}

void dp_coal_reset(struct vdev *vd)
{
	for (unsigned q = 0; q < 2 * VDEV_MAX_PAIRS; q++) {
		struct dp_coal *c = &vd->dp.coal[q];

		if (c->timer >= 0)
			ev_timer_cancel(c->timer_ev, c->timer);
		*c = (struct dp_coal){ .timer = -1 };
	}
}
