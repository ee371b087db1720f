// SPDX-License-Identifier: MIT
/*
 * queue.c - queue configuration (4.1.4.3, 4.2.2): size, ring addresses,
 * enable, kick eventfds, ring positions for a frontend that restarts the
 * rings, and re-translation when the guest memory map changes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "host/dev/vdev_priv.h"
#include "host/dp/dp.h"

void vdev_queue_stop(struct vdev_queue *vq)
{
	vq_dev_reset(&vq->vq);
	vq->enabled = false;
	vq->size = VDEV_QUEUE_MAX;
	memset(&vq->addrs, 0, sizeof(vq->addrs));
}

void vdev_queue_set_size(struct vdev *vd, unsigned q, uint16_t size)
{
	if (vd->q[q].enabled)
		return;		/* 4.1.4.3.2: not after queue_enable */
	vd->q[q].size = size;
}

void vdev_queue_set_addr(struct vdev *vd, unsigned q, unsigned which,
			 uint64_t gpa)
{
	struct vq_addrs *a = &vd->q[q].addrs;

	if (vd->q[q].enabled)
		return;
	if (which == 0)
		a->desc = gpa;
	else if (which == 1)
		a->driver = gpa;
	else
		a->device = gpa;
}

static uint32_t ring_flags(const struct vdev *vd)
{
	uint32_t f = 0;

	if (vd->driver_features & VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX))
		f |= VQ_F_EVENT_IDX;
	if (vd->driver_features & VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC))
		f |= VQ_F_INDIRECT;
	if (vd->driver_features & VIRTIO_BIT(VIRTIO_F_IN_ORDER))
		f |= VQ_F_IN_ORDER;
	return f;
}

void vdev_queue_enable(struct vdev *vd, unsigned q)
{
	struct vdev_queue *vq = &vd->q[q];
	char why[VQ_REASON_LEN + 32];
	uint16_t size = vq->size;

	bool packed = vd->driver_features & VIRTIO_BIT(VIRTIO_F_RING_PACKED);

	if (vq->enabled)
		return;
	/* 2.7: split sizes are powers of two; 2.8: packed sizes need not be. */
	/* A vfio-user driver may pick at most the size we offered (4.1.4.3);
	 * a vhost-user frontend chose its own, up to our limit. */
	if (size == 0 || size > (vd->opts && vd->opts->has_vhost_user ? VDEV_QUEUE_LIMIT : VDEV_QUEUE_MAX) ||
	    (!packed && (size & (size - 1)))) {
		snprintf(why, sizeof(why), "queue %u: bad size %u", q, size);
		vdev_set_needs_reset(vd, why);
		return;
	}
	if (vq_dev_init(&vq->vq, packed ? VQ_PACKED : VQ_SPLIT, size, ring_flags(vd),
			&vq->addrs, &vd->gm) < 0) {
		snprintf(why, sizeof(why), "queue %u: %s", q, vq->vq.reason);
		vdev_set_needs_reset(vd, why);
		return;
	}
	vq->enabled = true;
}

void vdev_kick(struct vdev *vd, unsigned q)
{
	vd->q[q].stats.kicks++;
	dp_kick(vd, q);
}

static void kick_event(struct ev_handler *h, uint32_t events)
{
	struct vdev_queue *vq = container_of(h, struct vdev_queue, kick_h);
	struct vdev *vd = vq->vd;
	uint64_t n;

	/* One read collects every kick since the last one. */
	if (read(h->fd, &n, sizeof(n)) != sizeof(n))
		return;
	vq->stats.kicks += n;
	dp_kick(vd, (unsigned)(vq - vd->q));
}

int vdev_queue_set_kick_fd(struct vdev *vd, unsigned q, int fd)
{
	struct vdev_queue *vq = &vd->q[q];
	int rc = 0;

	/* Served where the queue's passes run (a data-path thread's loop
	 * with `threads`, parked while we change it). */
	if (vq->kick_fd >= 0) {
		ev_del(dp_queue_loop(vd, q), &vq->kick_h);
		close(vq->kick_fd);
	}
	vq->kick_fd = fd;
	if (fd >= 0) {
		rc = ev_add(dp_queue_loop(vd, q), &vq->kick_h, fd, EPOLLIN, kick_event);
		if (rc < 0) {
			close(fd);
			vq->kick_fd = -1;
		}
	}
	return rc;
}

bool vdev_queue_enabled(const struct vdev *vd, unsigned q)
{
	return vd->q[q].enabled;
}

int vdev_queue_kick_fd(const struct vdev *vd, unsigned q)
{
	return vd->q[q].kick_fd;
}

int vdev_queue_set_base(struct vdev *vd, unsigned q, uint32_t base)
{
	return vq_dev_set_base(&vd->q[q].vq, base);
}

uint32_t vdev_queue_get_base(const struct vdev *vd, unsigned q)
{
	return vq_dev_get_base(&vd->q[q].vq);
}

int vdev_queue_set_inflight(struct vdev *vd, unsigned q, void *region, size_t len,
			    unsigned *resubmit)
{
	struct vdev_queue *vq = &vd->q[q];
	char why[VQ_REASON_LEN + 32];
	int rc;

	*resubmit = 0;
	if (!vq->enabled)
		return -EINVAL;
	rc = vq_dev_set_inflight(&vq->vq, region, len, resubmit);
	if (rc == -EINVAL || rc == -ENOMEM) {
		snprintf(why, sizeof(why), "queue %u: %s", q,
			 vq->vq.broken ? vq->vq.reason : "no room for its inflight log");
		vdev_set_needs_reset(vd, why);
	}
	return rc;
}
