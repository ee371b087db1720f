// SPDX-License-Identifier: MIT
/*
 * config.c - the device configuration space (5.1.4): reads, the MTU, the
 * link status bit and its configuration change interrupt, and
 * DEVICE_NEEDS_RESET (2.1.2).
 */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "host/dev/vdev_priv.h"
#include "host/dp/dp.h"

void vdev_set_needs_reset(struct vdev *vd, const char *why)
{
	if (vd->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		return;
	snprintf(vd->needs_reset_reason, sizeof(vd->needs_reset_reason), "%s", why);
	log_rl(LOG_WARN, "%s: device needs reset: %s", vd->name, why);
	vd->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	vd->stats.needs_reset++;
	dp_schedule_rx(vd);
	/* 2.1.2: with DRIVER_OK set, the device must send a configuration
	 * change notification after setting DEVICE_NEEDS_RESET. */
	if (vd->status & VIRTIO_STATUS_DRIVER_OK) {
		vd->config_generation++;
		vdev_raise(vd, VDEV_CONFIG_IRQ);
	}
}

int vdev_config_read(struct vdev *vd, uint32_t off, void *buf, uint32_t len)
{
	const uint8_t *cfg = (const uint8_t *)&vd->cfg;

	if (off > sizeof(vd->cfg) || len > sizeof(vd->cfg) - off) {
		/* Reads past the structure return zeros (no error: drivers
		 * probe fields of features they did not get). */
		memset(buf, 0, len);
		if (off < sizeof(vd->cfg))
			memcpy(buf, cfg + off, sizeof(vd->cfg) - off);
		return 0;
	}
	memcpy(buf, cfg + off, len);
	return 0;
}

void vdev_set_mtu(struct vdev *vd, uint16_t mtu)
{
	vd->cfg.mtu = mtu;
}

void vdev_set_link_status(struct vdev *vd, bool up)
{
	uint16_t st = vd->cfg.status;

	if (up)
		st |= VIRTIO_NET_S_LINK_UP;
	else
		st &= (uint16_t)~VIRTIO_NET_S_LINK_UP;
	if (st == vd->cfg.status)
		return;
	vd->cfg.status = st;
	vd->config_generation++;
	/* 5.1.4.2 / 2.5: a link change is a config change the driver hears
	 * about through the configuration change interrupt. */
	if (vdev_running(vd))
		vdev_raise(vd, VDEV_CONFIG_IRQ);
}
