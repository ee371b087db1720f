// SPDX-License-Identifier: MIT
/*
 * virtio_net_kick.c - doorbells.  Each burst makes one kick decision for
 * its queue (2.7.10 EVENT_IDX / NO_NOTIFY; 2.8.10 for packed rings); the
 * doorbell is rung right away, or, with params.defer_kicks, recorded and
 * handed to the caller by vnet_kicks_take(), who batches the eventfd
 * writes (e.g. several in one io_uring submission).
 */
#include "guest/virtio_net_priv.h"

/* Rings queue q's doorbell now (4.1.5.2 / 4.2.3.3: a notify register
 * write or the queue's ioeventfd, as the transport has it). */
static void notify_now(struct vnet_dev *d, const struct vnet_queue *q)
{
	if (d->t->ops->notify(d->t, q->index) < 0)
		d->st.kick_errors++;
	else
		d->st.kicks_sent++;
}

void vn_kick(struct vnet_dev *d, struct vnet_queue *q)
{
	if (!vq_drv_kick_prepare(&q->vq)) {
		d->st.kicks_suppressed++;
		return;
	}
	/* A caller batching kicks itself takes this one (vnet_kicks_take);
	 * control commands are waited for right here, so never theirs. */
	if (d->params.defer_kicks && q != &d->ctrl) {
		d->kicks_pending |= 1u << q->index;
		return;
	}
	notify_now(d, q);
}

unsigned vnet_kicks_take(struct vnet_dev *d, int *fds, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < 2 * d->npairs; i++) {
		const struct vnet_queue *q = i % 2 ? &d->txq[i / 2] : &d->rxq[i / 2];
		int fd = -1;

		if (!(d->kicks_pending & (1u << q->index)))
			continue;
		if (d->t->ops->notify_fd)
			fd = d->t->ops->notify_fd(d->t, q->index);
		/* The caller writes the ioeventfd; a kick that needs a
		 * register write (or finds fds full) is rung here. */
		if (fd >= 0 && n < max) {
			fds[n++] = fd;
			d->st.kicks_sent++;
		} else {
			notify_now(d, q);
		}
		d->kicks_pending &= ~(1u << q->index);
	}
	return n;
}
