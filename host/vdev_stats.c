// SPDX-License-Identifier: MIT
#include "host/vdev_stats.h"

#include <stdio.h>

#include "common/log.h"

size_t vdev_stats_format(const struct vdev *vd, char *buf, size_t len)
{
	const struct vdev_queue_stats *rx = &vd->q[VNET_RXQ].stats;
	const struct vdev_queue_stats *tx = &vd->q[VNET_TXQ].stats;
	const struct vdev_stats *s = &vd->stats;
	int n;

	n = snprintf(buf, len,
		     "%s: link %s; tx %llu frames %llu bytes (%llu kicks, %llu irqs, %llu suppressed); "
		     "rx %llu frames %llu bytes (%llu kicks, %llu irqs, %llu suppressed); "
		     "drops: link-down %llu bad-frame %llu no-driver %llu rx-too-small %llu; "
		     "doorbells %llu; link flaps %llu; needs-reset %llu",
		     vd->name, (vd->cfg.status & VIRTIO_NET_S_LINK_UP) ? "up" : "down",
		     (unsigned long long)tx->frames, (unsigned long long)tx->bytes,
		     (unsigned long long)tx->kicks, (unsigned long long)tx->irqs,
		     (unsigned long long)tx->irqs_suppressed,
		     (unsigned long long)rx->frames, (unsigned long long)rx->bytes,
		     (unsigned long long)rx->kicks, (unsigned long long)rx->irqs,
		     (unsigned long long)rx->irqs_suppressed,
		     (unsigned long long)s->drop_link_down, (unsigned long long)s->drop_bad_frame,
		     (unsigned long long)s->drop_no_driver, (unsigned long long)s->drop_rx_too_small,
		     (unsigned long long)s->doorbells_sent, (unsigned long long)s->link_flaps,
		     (unsigned long long)s->needs_reset);
	if (n < 0)
		n = 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

void vdev_stats_log(const struct vdev *vd)
{
	char line[1024];

	vdev_stats_format(vd, line, sizeof(line));
	log_info("stats %s", line);
}
