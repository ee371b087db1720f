// SPDX-License-Identifier: MIT
/*
 * mem.c - the guest's memory as the model holds it: windows mapped from
 * the fds a face was handed (vhost-user SET_MEM_TABLE; the vfio-user
 * server fills the same map from DMA_MAP), and what happens to the
 * queues when that map changes: no queue keeps a pointer into memory it
 * was not given.
 */
#include <errno.h>
#include <stdio.h>

#include "host/dev/vdev_priv.h"

int vdev_mem_map_fd(struct vdev *vd, uint64_t gpa, uint64_t size, int fd,
		    uint64_t offset, bool writable)
{
	return gmem_map_fd(&vd->gm, gpa, size, fd, offset, writable);
}

void vdev_mem_clear(struct vdev *vd)
{
	gmem_clear(&vd->gm);
}

int vdev_mem_changed(struct vdev *vd)
{
	int rc = 0;

	for (unsigned i = 0; i < VDEV_NUM_QUEUES; i++) {
		struct vdev_queue *vq = &vd->q[i];
		char why[VQ_REASON_LEN + 64];

		if (!vq->enabled)
			continue;
		/* Same shape: vq_dev_init keeps the ring position and only
		 * translates the ring parts again, with every bound checked. */
		if (vq_dev_init(&vq->vq, vq->vq.layout, vq->size, vq->vq.flags, &vq->addrs,
				&vd->gm) == 0)
			continue;
		snprintf(why, sizeof(why), "queue %u: guest memory changed under it: %s", i,
			 vq->vq.reason);
		vq_dev_reset(&vq->vq);	/* drop every pointer it held */
		vdev_set_needs_reset(vd, why);
		rc = -EFAULT;
	}
	return rc;
}
