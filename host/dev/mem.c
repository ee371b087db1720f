// SPDX-License-Identifier: MIT
/*
 * mem.c - the guest's memory as the model holds it: windows mapped from
 * the fds a face was handed (vhost-user SET_MEM_TABLE; the vfio-user
 * server fills the same map from DMA_MAP), and what happens to the
 * queues when that map changes: no queue keeps a pointer into memory it
 * was not given.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "host/dev/vdev_priv.h"

/* Counts and logs a fault once (the eventfd or a reset may see it
 * first); fills why.  False when no window faulted or it was counted. */
static bool mem_fault_note(struct vdev *vd, char *why, size_t len)
{
	uint64_t gpa, size;

	if (vd->mem_fault_noted || !gmem_faulted(&vd->gm, &gpa, &size))
		return false;
	vd->mem_fault_noted = true;
	vd->stats.mem_faults++;
	snprintf(why, len,
		 "guest memory at 0x%" PRIx64 " (0x%" PRIx64 " bytes) lost its file: it was truncated under the device",
		 gpa, size);
	log_rl(LOG_WARN, "%s: %s", vd->name, why);
	return true;
}

/* The guard wrote our eventfd: a file behind guest memory shrank, and
 * zero pages stand where it was.  The device must stop using it. */
static void mem_fault_event(struct ev_handler *h, uint32_t events)
{
	struct vdev *vd = container_of(h, struct vdev, mem_fault_h);
	char why[160];
	uint64_t n;

	(void)events;
	if (read(h->fd, &n, sizeof(n)) != sizeof(n) || !mem_fault_note(vd, why, sizeof(why)))
		return;
	if (vd->face.mem_fault)
		vd->face.mem_fault(vd->face.ctx, why);
	else
		vdev_set_needs_reset(vd, why);
}

int vdev_mem_guard_start(struct vdev *vd)
{
	int rc;

	vd->mem_fault_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vd->mem_fault_fd < 0)
		return -errno;
	rc = ev_add(vd->ev, &vd->mem_fault_h, vd->mem_fault_fd, EPOLLIN, mem_fault_event);
	if (rc < 0) {
		close(vd->mem_fault_fd);
		vd->mem_fault_fd = -1;
		return rc;
	}
	gmem_set_fault_fd(&vd->gm, vd->mem_fault_fd);
	return 0;
}

void vdev_mem_guard_stop(struct vdev *vd)
{
	if (vd->mem_fault_fd < 0)
		return;
	gmem_set_fault_fd(&vd->gm, -1);
	ev_del(vd->ev, &vd->mem_fault_h);
	close(vd->mem_fault_fd);
	vd->mem_fault_fd = -1;
}

void vdev_mem_repair(struct vdev *vd)
{
	char why[160];
	unsigned removed;

	/* A reset may come before the eventfd was read: count it here. */
	mem_fault_note(vd, why, sizeof(why));
	removed = gmem_repair(&vd->gm);
	vd->mem_fault_noted = false;

	if (removed)
		log_rl(LOG_WARN, "%s: %u guest memory window(s) still shorter than their files; dropped until mapped again",
		       vd->name, removed);
}

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

	for (unsigned i = 0; i < vd->num_queues; i++) {
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
