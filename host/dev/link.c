// SPDX-License-Identifier: MIT
/*
 * link.c - glue between a vdev and its peer link: the link's state
 * becomes VIRTIO_NET_S_LINK_UP with a configuration change interrupt
 * (5.1.4, 4.1.5.3), doorbells feed the data path, and a ring that breaks
 * a rule drops the link, which re-forms on its own.
 */
#include "host/dev/link.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/peer_ring.h"
#include "host/dp/dp.h"
#include "host/peer/link.h"

static void set_link_status(struct vdev *vd, bool up)
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
		vd->t->ops->raise(vd->t, TRANSPORT_CONFIG_IRQ);
}

static void link_up(void *arg)
{
	struct vdev *vd = arg;

	log_info("%s: link up with %s", vd->name, peer_link_peer_name(vd->link));
	/* 5.1.6.5.4: a new peer is a new network for the guest; with
	 * GUEST_ANNOUNCE it is asked to announce itself (gratuitous ARP). */
	if (vd->driver_features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE))
		vd->cfg.status |= VIRTIO_NET_S_ANNOUNCE;
	set_link_status(vd, true);
	if (vd->status & VIRTIO_STATUS_DRIVER_OK)
		vdev_link_set_features(vd, vd->driver_features & VNET_PEERFEATS_MAX);
	else
		vdev_link_forget_features(vd);
	net_rx_process(vd);
	net_tx_process(vd);
}

static void link_down(void *arg, const char *why)
{
	struct vdev *vd = arg;

	log_info("%s: link down: %s", vd->name, why);
	vd->stats.link_flaps++;
	vd->tx_waiting_space = false;
	set_link_status(vd, false);
	/* Frames the guest queued meanwhile are dropped (counted), so its
	 * transmit ring keeps moving as on a real unplugged cable. */
	net_tx_process(vd);
}

static void link_rx(void *arg)
{
	net_dp_peer_event(arg);
}

static void link_features(void *arg, bool known, uint64_t f)
{
	struct vdev *vd = arg;

	if (known)
		log_info("%s: peer's guest negotiated offloads 0x%llx", vd->name,
			 (unsigned long long)f);
	else
		log_info("%s: peer has no live driver; offloads unknown", vd->name);
	vd->peer_features_known = known;
	vd->peer_features = known ? f : 0;
	vdev_update_offer(vd);
}

int vdev_link_start(struct vdev *vd, const char *run_dir)
{
	const struct vdev_opts *o = vd->opts;
	struct peer_link_cfg cfg = {
		.run_dir = run_dir,
		.system = vd->system,
		.name = vd->name,
		.peer_path = o->has_peer ? o->peer : NULL,
	};
	struct peer_link_cbs cbs = {
		.arg = vd,
		.up = link_up,
		.down = link_down,
		.rx = link_rx,
		.features = link_features,
	};
	int rc;

	memcpy(cfg.mac, o->mac, sizeof(cfg.mac));
	rc = peer_link_start(&vd->link, vd->ev, &cfg, &cbs);
	if (rc < 0)
		log_err("%s: cannot start the peer link: %s", vd->name, strerror(-rc));
	return rc;
}

void vdev_link_stop(struct vdev *vd)
{
	if (vd->link)
		peer_link_stop(vd->link);
	vd->link = NULL;
}

void vdev_link_set_features(struct vdev *vd, uint64_t f)
{
	if (vd->link)
		peer_link_set_local_features(vd->link, f);
}

void vdev_link_forget_features(struct vdev *vd)
{
	if (vd->link)
		peer_link_forget_local_features(vd->link);
}

struct peer_ring_prod *vdev_link_tx(struct vdev *vd)
{
	return vd->link ? peer_link_tx(vd->link) : NULL;
}

struct peer_ring_cons *vdev_link_rx(struct vdev *vd)
{
	return vd->link ? peer_link_rx(vd->link) : NULL;
}

void vdev_link_publish(struct vdev *vd)
{
	if (vd->link && peer_link_tx_publish(vd->link))
		vd->stats.doorbells_sent++;
}

void vdev_link_release(struct vdev *vd)
{
	if (vd->link && peer_link_rx_publish(vd->link))
		vd->stats.doorbells_sent++;
}

void vdev_link_ring_broken(struct vdev *vd)
{
	if (vd->link)
		peer_link_ring_broken(vd->link);
}
