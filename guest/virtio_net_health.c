// SPDX-License-Identifier: MIT
/*
 * virtio_net_health.c - is the device still usable?  It is not when it
 * went away (its socket closed), set DEVICE_NEEDS_RESET (2.1.2), left a
 * control command unanswered, or a queue latched broken (the ring code
 * found the device's ring contents malformed).  Every public call checks
 * this first and fails with -ENOTCONN / -EIO until vnet_dev_reset().
 */
#include <errno.h>

#include "common/log.h"
#include "guest/virtio_net_priv.h"

bool vn_queue_broken(struct vnet_queue *q)
{
	if (!q->vq_ready || !q->vq.broken)
		return false;
	if (!q->broken_logged) {
		q->broken_logged = true;
		log_err("%s broken: %s", q->name, q->vq.reason);
	}
	return true;
}

int vn_health(struct vnet_dev *d)
{
	if (d->gone)
		return -ENOTCONN;
	if (d->needs_reset || d->ctrl_stuck)
		return -EIO;
	for (unsigned k = 0; k < d->npairs; k++)
		if (vn_queue_broken(&d->rxq[k]) || vn_queue_broken(&d->txq[k]))
			return -EIO;
	if (vn_queue_broken(&d->ctrl))
		return -EIO;
	return 0;
}

bool vn_any_queue_broken(const struct vnet_dev *d)
{
	for (unsigned k = 0; k < d->npairs; k++)
		if (d->rxq[k].vq.broken || d->txq[k].vq.broken)
			return true;
	return d->ctrl.vq_ready && d->ctrl.vq.broken;
}

bool vnet_needs_reset(const struct vnet_dev *d)
{
	return d->needs_reset || d->ctrl_stuck || vn_any_queue_broken(d);
}
