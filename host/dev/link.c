// SPDX-License-Identifier: MIT
/*
 * link.c - a vdev's peer link, as the device model sees it: the link's
 * state becomes VIRTIO_NET_S_LINK_UP with a configuration change
 * interrupt (5.1.4, 4.1.5.3), its ring ends are handed to the data path
 * while it is up, doorbells feed the data path, and the offloads our
 * guest negotiated travel to the peer (peerfeats auto), as does our
 * driver's RSS configuration, which the peer's device steers by.
 */
#include "host/dev/vdev.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "host/dp/dp.h"
#include "host/peer/link.h"

static void link_up(void *arg)
{
	struct vdev *vd = arg;

	log_info("%s: link up with %s", vd->name, peer_link_peer_name(vd->link));
	/* 5.1.6.5.4: a new peer is a new network for the guest; with
	 * GUEST_ANNOUNCE it is asked to announce itself (gratuitous ARP). */
	if (vd->driver_features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE))
		vd->cfg.status |= VIRTIO_NET_S_ANNOUNCE;
	vdev_set_link_status(vd, true);
	if (vd->status & VIRTIO_STATUS_DRIVER_OK)
		vdev_link_set_features(vd, vd->driver_features & VNET_PEERFEATS_MAX);
	else
		vdev_link_forget_features(vd);
	dp_link_up(vd, vd->link);
}

static void link_down(void *arg, const char *why)
{
	struct vdev *vd = arg;

	log_info("%s: link down: %s", vd->name, why);
	vdev_set_link_status(vd, false);
	dp_link_down(vd);
}

static void link_rx(void *arg)
{
	dp_peer_event(arg);
}

static struct evloop *link_bell_loop(void *arg, unsigned ring)
{
	return dp_ring_loop(arg, ring);
}

static void link_ring_rx(void *arg, unsigned ring)
{
	dp_ring_event(arg, ring);
}

static void link_rss(void *arg, const struct rss_cfg *c)
{
	struct vdev *vd = arg;

	if (c->on)
		log_info("%s: peer's receiving device steers by RSS (%u-entry table)", vd->name,
			 c->table_len);
	dp_set_peer_rss(vd, c);
}

/* The peer's vdev moves to another process: our guest's frames wait for
 * its new link instead of being dropped. */
static void link_moving(void *arg, unsigned hold_ms)
{
	dp_await_link(arg, hold_ms);
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

int vdev_link_start(struct vdev *vd, const char *run_dir, bool taking_over)
{
	const struct vdev_opts *o = vd->opts;
	struct peer_link_cfg cfg;
	struct peer_link_cbs cbs = {
		.arg = vd,
		.up = link_up,
		.down = link_down,
		.rx = link_rx,
		.features = link_features,
		/* With data-path threads each ring's doorbell is its thread's. */
		.bell_loop = vd->dp.n_threads ? link_bell_loop : NULL,
		.ring_rx = link_ring_rx,
		.rss = link_rss,
		.moving = link_moving,
	};
	int rc;

	peer_link_cfg_init(&cfg, run_dir, vd->system, vd->name, o->has_peer ? o->peer : NULL,
			   o->mac);
	/* A ring pair per queue pair (multiqueue). */
	cfg.ring_pairs = vd->max_pairs;
	cfg.quiet_if_taken = taking_over;
	rc = peer_link_start(&vd->link, vd->ev, &cfg, &cbs);
	if (rc == -EADDRINUSE && taking_over)
		return rc;
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

void vdev_link_quiesce(struct vdev *vd)
{
	log_info("%s: no more frames over the peer link from here", vd->name);
	dp_link_down(vd);
}

void vdev_link_moving(struct vdev *vd, unsigned hold_ms)
{
	if (vd->link && peer_link_send_moving(vd->link, hold_ms) < 0)
		log_info("%s: could not tell the peer that the vdev moves", vd->name);
}

unsigned vdev_link_tx_in_flight(struct vdev *vd)
{
	return vd->link ? peer_link_tx_in_flight(vd->link) : 0;
}

void vdev_link_await(struct vdev *vd, unsigned ms)
{
	dp_await_link(vd, ms);
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

void vdev_link_set_rss(struct vdev *vd)
{
	if (vd->link)
		peer_link_set_local_rss(vd->link, &vd->rss);
}
