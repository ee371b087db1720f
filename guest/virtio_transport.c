// SPDX-License-Identifier: MIT
/*
 * virtio_transport.c - helpers every transport shares.
 */
#include "guest/virtio_transport.h"

int vt_find_iofd(const struct vfc_iofd *fds, int n, uint64_t off,
		 unsigned width, uint16_t q)
{
	for (int i = 0; i < n; i++) {
		const struct vfc_iofd *e = &fds[i];
		bool covers;

		if (e->fd < 0)
			continue;
		if (e->size == 0)
			covers = e->offset == off;
		else
			covers = off >= e->offset && off - e->offset < e->size &&
				 e->size - (off - e->offset) >= width;
		if (covers && (!e->has_datamatch || e->datamatch == q))
			return e->fd;
	}
	return -1;
}

int vt_count_queues(struct vtransport *t, uint16_t *n)
{
	uint16_t q, max = 0;

	for (q = 0; q < VT_MAX_QUEUES; q++) {
		int rc = t->ops->queue_max(t, q, &max);

		if (rc < 0)
			return rc;
		if (max == 0)
			break;
	}
	*n = q;
	return 0;
}

bool vt_legacy_layout_ok(const struct vt_queue_cfg *qc, uint64_t align)
{
	uint64_t desc = qc->addrs.desc;
	uint64_t avail = desc + 16u * qc->size;
	uint64_t used = (avail + 6u + 2u * qc->size + align - 1) & ~(align - 1);

	return !(desc & (align - 1)) && desc != 0 && qc->addrs.driver == avail &&
	       qc->addrs.device == used && desc / align <= UINT32_MAX;
}
