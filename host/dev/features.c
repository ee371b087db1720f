// SPDX-License-Identifier: MIT
/*
 * features.c - what the device offers and what the driver accepted
 * (2.2, 3.1.1 steps 3-6): the base set, the offloads the peer can take
 * (peerfeats), the 32-bit windows the transports read and write, and the
 * check at FEATURES_OK.
 */
#include <errno.h>
#include <stdio.h>

#include "common/log.h"
#include "common/peerfeats.h"
#include "host/dev/vdev_priv.h"

/* Ring and transport features every vdev offers.  IN_ORDER (2.7.9,
 * 2.8.8) costs the device nothing: every queue's chains are used in the
 * order they were popped (the data path and the control queue finish
 * each chain before the next, and unpop gives back only the newest). */
static uint64_t base_features(void)
{
	return VIRTIO_BIT(VIRTIO_F_VERSION_1) |
	       VIRTIO_BIT(VIRTIO_F_RING_PACKED) |
	       VIRTIO_BIT(VIRTIO_F_IN_ORDER) |
	       VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) |
	       VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC) |
	       VIRTIO_BIT(VIRTIO_NET_F_MAC) |
	       VIRTIO_BIT(VIRTIO_NET_F_STATUS) |
	       VIRTIO_BIT(VIRTIO_NET_F_MTU) |
	       VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) |
	       VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) |
	       VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) |
	       VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) |
	       VIRTIO_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |
	       VIRTIO_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) |
	       VIRTIO_BIT(VIRTIO_NET_F_NOTF_COAL) |
	       VIRTIO_BIT(VIRTIO_NET_F_VQ_NOTF_COAL) |
	       VIRTIO_BIT(VIRTIO_NET_F_SPEED_DUPLEX);
}

void vdev_update_offer(struct vdev *vd)
{
	const struct vdev_opts *o = vd->opts;
	uint64_t peer;

	if (vd->status != 0)
		return;		/* a driver is negotiating or running */
	if (!o->peerfeats_auto)
		peer = o->peerfeats;
	else
		/* Until the peer's guest is known, offer everything: frames the
		 * peer's guest cannot take are fixed by its device. */
		peer = vd->peer_features_known ? vd->peer_features : VNET_PEERFEATS_MAX;
	vd->device_features = base_features() | peerfeats_offer(peer);
	/* Multiqueue only when asked for (`queues N`, N > 1): one pair is
	 * the same device with or without the bit. */
	if (vd->max_pairs > 1)
		vd->device_features |= VIRTIO_BIT(VIRTIO_NET_F_MQ);
	/* RSS (5.1.6.5.7.1) over a vfio-user transport: a vhost-user
	 * frontend runs the control queue itself. */
	if (vd->max_pairs > 1 && !(o && o->has_vhost_user))
		vd->device_features |= VIRTIO_BIT(VIRTIO_NET_F_RSS);
	/* HASH_REPORT (5.1.6.4.4) over a vfio-user transport too, with any
	 * number of pairs: without RSS the driver sets the hash with
	 * HASH_CONFIG, which a single-pair device must take as well
	 * (5.1.6.4.3); a vhost-user frontend runs the control queue.  We
	 * offer CTRL_VQ, as 5.1.4.1 asks of a device offering it. */
	if (!(o && o->has_vhost_user))
		vd->device_features |= VIRTIO_BIT(VIRTIO_NET_F_HASH_REPORT);
	if (vd->legacy)
		vd->device_features &= UINT64_C(0xffffffff);
}

uint32_t vdev_device_features_window(const struct vdev *vd, uint32_t sel)
{
	return sel < 2 ? (uint32_t)(vd->device_features >> (32 * sel)) : 0;
}

uint32_t vdev_driver_features_window(const struct vdev *vd, uint32_t sel)
{
	return sel < 2 ? (uint32_t)(vd->driver_features >> (32 * sel)) : 0;
}

void vdev_set_driver_features_window(struct vdev *vd, uint32_t sel, uint32_t v)
{
	uint64_t mask;

	/* 3.1.1: features are written before FEATURES_OK and frozen after. */
	/* 3.1.2: a legacy driver's features freeze at DRIVER_OK. */
	if ((vd->status & VIRTIO_STATUS_FEATURES_OK) ||
	    (vd->legacy && (vd->status & VIRTIO_STATUS_DRIVER_OK))) {
		log_rl(LOG_WARN, "%s: driver wrote features after FEATURES_OK; ignored",
		       vd->name);
		return;
	}
	if (sel >= 2)
		return;
	mask = UINT64_C(0xffffffff) << (32 * sel);
	vd->driver_features = (vd->driver_features & ~mask) |
			      ((uint64_t)v << (32 * sel));
}

/* Is the accepted feature set one the device can run?  (3.1.1 step 5,
 * 5.1.3.1 dependencies.) */
bool vdev_features_acceptable(struct vdev *vd, char *why, size_t len)
{
	uint64_t f = vd->driver_features;
	char err[160];

	if (f & ~vd->device_features) {
		snprintf(why, len, "driver accepted features the device did not offer (0x%llx)",
			 (unsigned long long)(f & ~vd->device_features));
		return false;
	}
	if (!vd->legacy && !(f & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		snprintf(why, len, "VERSION_1 not accepted by a modern driver");
		return false;
	}
	/* 5.1.3.1: RSS requires CTRL_VQ (its configuration is a command). */
	if ((f & VIRTIO_BIT(VIRTIO_NET_F_RSS)) && !(f & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ))) {
		snprintf(why, len, "RSS accepted without CTRL_VQ, which it requires (5.1.3.1)");
		return false;
	}
	/* 5.1.3.1: MQ requires CTRL_VQ (pairs are set with a command), unless
	 * the frontend runs the controlq itself and the face tells us the
	 * pairs (vhost-user: QEMU and DPDK strip CTRL_VQ from what they ack). */
	if ((f & VIRTIO_BIT(VIRTIO_NET_F_MQ)) && !(f & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ)) &&
	    !vd->face.frontend_ctrlq) {
		snprintf(why, len, "MQ accepted without CTRL_VQ, which it requires (5.1.3.1)");
		return false;
	}
	if (peerfeats_validate(f & VNET_PEERFEATS_MAX, err, sizeof(err)) < 0) {
		snprintf(why, len, "accepted offloads break a dependency: %s", err);
		return false;
	}
	return true;
}

int vdev_adopt_offer(struct vdev *vd, uint64_t offer, char *why, size_t len)
{
	uint64_t extra;

	if (vd->status != 0) {
		snprintf(why, len, "the device is not reset (status 0x%x)", vd->status);
		return -EINVAL;
	}
	/* With peerfeats auto, what the peer's guest takes narrows the
	 * offer: the widest this device makes is that of an unknown peer. */
	if (vd->opts && vd->opts->peerfeats_auto && vd->peer_features_known) {
		vd->peer_features_known = false;
		vdev_update_offer(vd);
	}
	extra = offer & ~vd->device_features;
	if (extra) {
		snprintf(why, len, "the source offered features 0x%llx that this device does not (peerfeats or queues differ)",
			 (unsigned long long)extra);
		return -EINVAL;
	}
	vd->device_features = offer;
	return 0;
}

void vdev_set_legacy(struct vdev *vd, bool legacy)
{
	if (vd->status != 0)
		return;
	vd->legacy = legacy;
	vdev_update_offer(vd);
}
