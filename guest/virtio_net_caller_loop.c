// SPDX-License-Identifier: MIT
/*
 * virtio_net_caller_loop.c - waiting driven by the caller's own event
 * loop (io_uring in bench/vnet-bench) instead of vnet_wait's ppoll:
 * vnet_irq_fds, vnet_wait_arm, vnet_wait_end.
 *
 * The rules are vnet_wait's: callbacks are armed only around a sleep and
 * the rings are re-checked after arming (2.7.7 / 2.8.10: the device may
 * have used buffers between our last look and the arm), so a caller that
 * sleeps only when vnet_wait_arm() returned 0 cannot miss an interrupt.
 * The kick decision (EVENT_IDX / NO_NOTIFY, 2.7.10) stays in the bursts;
 * the kicks they defer are taken with vnet_kicks_take (virtio_net_kick.c).
 */
#include <errno.h>

#include "guest/virtio_net_priv.h"

unsigned vnet_irq_fds(struct vnet_dev *d, int *fds, unsigned max)
{
	unsigned n = 0;

	if (d->irq_mode == IRQ_LINE && max > 0)
		fds[n++] = d->irq_fd[0];
	else if (d->irq_mode == IRQ_MSIX)
		for (unsigned v = 0; v < d->nvec && n < max; v++)
			fds[n++] = d->irq_fd[v];
	return n;
}

int vnet_wait_arm(struct vnet_dev *d, bool want_tx)
{
	int rc = vn_health(d);
	unsigned ev;

	if (rc < 0)
		return rc;
	vn_answer_announce(d);
	d->st.waits++;
	if (want_tx) {
		vn_tx_reclaim(d);
		want_tx = vn_tx_free_min(d) == 0;
	}
	ev = vn_pending(d, want_tx);
	if (ev)
		return (int)ev;
	if (!vn_arm(d, want_tx)) {
		ev = vn_pending(d, want_tx);
		if (ev) {
			vn_disarm(d);
			return (int)ev;
		}
	}
	d->st.wait_sleeps++;
	return 0;
}

int vnet_wait_end(struct vnet_dev *d, int fd, uint64_t count)
{
	int rc;

	if (fd >= 0)
		for (unsigned v = 0; v < VT_MAX_VECTORS; v++)
			if (d->irq_fd[v] == fd) {
				vn_irq_count(d, v, count);
				break;
			}
	vn_disarm(d);
	if ((rc = vn_health(d)) < 0)
		return rc;
	vn_answer_announce(d);
	return (int)vn_pending(d, false);
}
