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
