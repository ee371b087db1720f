// SPDX-License-Identifier: MIT
/*
 * vdev.c - a vdev's life (new, attach, free) and the device status state
 * machine (2.1, 3.1.1): reset, FEATURES_OK, DRIVER_OK, FAILED.  Features
 * are in features.c, queues in queue.c, the config space in config.c, the
 * data path in host/dp/, the peer link as the model sees it in link.c.
 */
#include "host/dev/vdev_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/net_hdr.h"
#include "host/dev/capture.h"
#include "host/dp/dp.h"

void vdev_reset(struct vdev *vd)
{
	/* Power-on state: a pause (a move under way) ends too. */
	vd->paused = false;
	dp_stop(vd);
	for (unsigned i = 0; i < vd->num_queues; i++)
		vdev_queue_stop(&vd->q[i]);
	/* Memory whose file shrank is mapped again if the guest put it
	 * back, so a reset with good memory works again. */
	vdev_mem_repair(vd);
	vd->driver_features = 0;
	vd->status = 0;
	vd->curr_pairs = 1;	/* 5.1.6.5.5: one pair until the driver says more */
	memset(&vd->rss, 0, sizeof(vd->rss));
	memset(&vd->hash, 0, sizeof(vd->hash));
	net_filter_reset(&vd->filter);
	memcpy(vd->cfg.mac, vd->perm_mac, sizeof(vd->cfg.mac));
	vd->cfg.status &= (uint16_t)~VIRTIO_NET_S_ANNOUNCE;
	vd->needs_reset_reason[0] = 0;
	vd->config_generation++;
	vdev_update_offer(vd);
	vdev_link_forget_features(vd);
	vdev_link_set_rss(vd);		/* off */
	dp_schedule_rx(vd);
}

int vdev_set_rss(struct vdev *vd, const struct rss_cfg *c, unsigned max_tx_vq)
{
	unsigned n = rss_cfg_queues(c);
	char why[160];

	if (rss_cfg_check(c, vdev_pairs_negotiated(vd), why, sizeof(why)) < 0) {
		log_rl(LOG_WARN, "%s: RSS configuration refused: %s", vd->name, why);
		return -EINVAL;
	}
	if (max_tx_vq < 1 || max_tx_vq > vdev_pairs_negotiated(vd)) {
		log_rl(LOG_WARN, "%s: RSS configuration refused: max_tx_vq %u; the driver may use 1..%u",
		       vd->name, max_tx_vq, vdev_pairs_negotiated(vd));
		return -EINVAL;
	}
	if (vdev_set_pairs_in_use(vd, n > max_tx_vq ? n : max_tx_vq) < 0)
		return -EINVAL;
	vd->rss = *c;
	vd->rss.on = true;
	/* 5.1.6.4.3: with RSS negotiated, the report hashes with RSS's
	 * types and key too. */
	vd->hash.hash_types = c->hash_types;
	vd->hash.key_len = c->key_len;
	memcpy(vd->hash.key, c->key, sizeof(vd->hash.key));
	log_info("%s: RSS on: %u-entry table over %u queues, hash types 0x%x", vd->name,
		 c->table_len, n, c->hash_types);
	vdev_link_set_rss(vd);
	return 0;
}

int vdev_set_hash(struct vdev *vd, const struct rss_hash_cfg *c)
{
	char why[160];

	/* 5.1.6.4.3: with RSS negotiated the hash follows RSS_CONFIG; a
	 * second source of types and key would make two configurations. */
	if (!(vd->driver_features & VIRTIO_BIT(VIRTIO_NET_F_HASH_REPORT)) ||
	    (vd->driver_features & VIRTIO_BIT(VIRTIO_NET_F_RSS))) {
		log_rl(LOG_WARN, "%s: hash configuration refused: %s", vd->name,
		       (vd->driver_features & VIRTIO_BIT(VIRTIO_NET_F_RSS))
			       ? "RSS was negotiated, so RSS_CONFIG sets the hash"
			       : "HASH_REPORT was not negotiated");
		return -EOPNOTSUPP;
	}
	if (rss_hash_check(c->hash_types, c->key_len, why, sizeof(why)) < 0) {
		log_rl(LOG_WARN, "%s: hash configuration refused: %s", vd->name, why);
		return -EINVAL;
	}
	vd->hash = *c;
	log_info("%s: hash report: types 0x%x, %u-byte key", vd->name, c->hash_types,
		 c->key_len);
	return 0;
}

int vdev_set_pairs_in_use(struct vdev *vd, unsigned n)
{
	if (n < 1 || n > vdev_pairs_negotiated(vd)) {
		log_rl(LOG_WARN, "%s: %u queue pairs asked for; the driver may use 1..%u",
		       vd->name, n, vdev_pairs_negotiated(vd));
		return -EINVAL;
	}
	for (unsigned k = 0; k < n; k++) {
		if (!vd->q[vnet_rxq(k)].enabled || !vd->q[vnet_txq(k)].enabled) {
			log_rl(LOG_WARN, "%s: %u queue pairs asked for, but pair %u is not enabled",
			       vd->name, n, k + 1);
			return -EINVAL;
		}
	}
	if (vd->curr_pairs != n)
		log_info("%s: %u queue pairs in use", vd->name, n);
	vd->curr_pairs = n;
	/* Frames waiting for one receiveq may now belong to another, or to
	 * none in use any more. */
	dp_pairs_changed(vd);
	return 0;
}

static void activate(struct vdev *vd)
{
	/* The first pair, and the controlq when negotiated, must be there;
	 * further pairs may stay disabled until the driver asks for them
	 * (5.1.6.5.5: it configures them before VQ_PAIRS_SET). */
	unsigned need[3] = { vnet_rxq(0), vnet_txq(0), vdev_ctrlq(vd) };
	unsigned n = (vd->driver_features & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ)) ? 3 : 2;

	for (unsigned i = 0; i < n; i++) {
		if (!vd->q[need[i]].enabled) {
			char why[64];

			snprintf(why, sizeof(why), "queue %u not enabled at DRIVER_OK", need[i]);
			vdev_set_needs_reset(vd, why);
			return;
		}
	}
	/* The rule (common/net_hdr.c): 10, 12 (the link's format) or 20. */
	vd->hdr_len = net_hdr_len(vd->driver_features, vd->legacy);
	log_info("%s: driver ready (features 0x%llx)", vd->name,
		 (unsigned long long)vd->driver_features);
	vdev_link_set_features(vd, vd->driver_features & VNET_PEERFEATS_MAX);
	dp_start(vd);
}

void vdev_set_status(struct vdev *vd, uint8_t status)
{
	uint8_t old = vd->status;
	char why[200];

	if (status == 0) {			/* 2.4: writing 0 resets */
		vdev_reset(vd);
		return;
	}
	/* The driver never clears bits except by reset (2.1.2); a status
	 * that does is a confused driver: keep what we had plus new bits. */
	if ((old & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET) & ~status)
		log_rl(LOG_WARN, "%s: driver cleared status bits 0x%x without reset",
		       vd->name, (old & ~status) & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	status |= old & VIRTIO_STATUS_DEVICE_NEEDS_RESET;

	if ((status & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		if (!vdev_features_acceptable(vd, why, sizeof(why))) {
			/* 2.2.2: refuse by leaving FEATURES_OK clear; the driver
			 * re-reads status and sees it (3.1.1 step 6). */
			log_rl(LOG_WARN, "%s: FEATURES_OK refused: %s", vd->name, why);
			status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		}
	}
	vd->status = status;
	if (status & VIRTIO_STATUS_FAILED) {
		dp_stop(vd);
		dp_schedule_rx(vd);
		return;
	}
	if ((status & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
		if (vd->legacy) {
			/* 3.1.2: legacy drivers have no FEATURES_OK step; the
			 * features are checked (and frozen) at DRIVER_OK. */
			if (!vdev_features_acceptable(vd, why, sizeof(why))) {
				vdev_set_needs_reset(vd, why);
				return;
			}
			/* Frozen from here (features.c), without a
			 * FEATURES_OK bit: 0.9.5's status has none, and a
			 * legacy driver must not see one it never wrote. */
		} else if (!(status & VIRTIO_STATUS_FEATURES_OK)) {
			vdev_set_needs_reset(vd, "DRIVER_OK without FEATURES_OK");
			return;
		}
		activate(vd);
	}
}

bool vdev_running(const struct vdev *vd)
{
	return (vd->status & VIRTIO_STATUS_DRIVER_OK) && !vd->paused &&
	       !(vd->status & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

void vdev_pause(struct vdev *vd)
{
	if (vd->paused)
		return;
	dp_coal_flush(vd);
	vd->paused = true;
	log_info("%s: paused", vd->name);
}

void vdev_resume(struct vdev *vd)
{
	if (!vd->paused)
		return;
	vd->paused = false;
	log_info("%s: running", vd->name);
	if (!vdev_running(vd)) {
		dp_schedule_rx(vd);	/* no live driver: drain what waits */
		return;
	}
	/* The link may have changed while paused (2.5: a spurious config
	 * interrupt only makes the driver read again), and kicks that came
	 * meanwhile were not acted on: every queue is looked at. */
	vdev_raise(vd, VDEV_CONFIG_IRQ);
	dp_start(vd);
}


int vdev_new(struct vdev **out, struct evloop *ev, const char *system,
	     const struct vdev_opts *opts)
{
	struct vdev *vd = calloc(1, sizeof(*vd));
	int rc;

	*out = NULL;
	if (!vd)
		return -ENOMEM;
	vd->opts = opts;
	vd->ev = ev;
	snprintf(vd->system, sizeof(vd->system), "%s", system);
	snprintf(vd->name, sizeof(vd->name), "%s", opts->name);
	gmem_init(&vd->gm);
	vd->mem_fault_fd = -1;
	vd->max_pairs = opts->queues ? opts->queues : 1;
	vd->num_queues = 2 * vd->max_pairs + 1;
	vd->curr_pairs = 1;
	for (unsigned i = 0; i < vd->num_queues; i++) {
		vd->q[i].vd = vd;
		vd->q[i].kick_fd = -1;
		vdev_queue_stop(&vd->q[i]);
	}
	rc = dp_init(vd);
	if (rc == 0)
		rc = vdev_mem_guard_start(vd);
	if (rc < 0) {
		dp_free(vd);
		free(vd);
		return rc;
	}
	if (opts->has_capture) {
		char err[OPTS_CAPTURE_MAX + 64];

		rc = vdev_capture_file(vd, opts->capture, err, sizeof(err));
		if (rc < 0) {
			log_err("vdev %s: %s: %s", vd->name, err, strerror(-rc));
			dp_free(vd);
			free(vd);
			return rc;
		}
	}
	memcpy(vd->cfg.mac, opts->mac, 6);
	memcpy(vd->perm_mac, opts->mac, 6);
	net_filter_reset(&vd->filter);
	vd->cfg.mtu = VDEV_DEFAULT_MTU;
	vd->cfg.status = 0;	/* link comes up with the peer */
	vd->cfg.max_virtqueue_pairs = (uint16_t)vd->max_pairs;
	/* 5.1.4: what RSS takes (read by a driver that negotiated it). */
	vd->cfg.rss_max_key_size = RSS_KEY_MAX;
	vd->cfg.rss_max_indirection_table_length = RSS_TABLE_MAX;
	vd->cfg.supported_hash_types = RSS_HASH_TYPES_SUPPORTED;
	/* 5.1.4: what the device reports with SPEED_DUPLEX; a peer link has
	 * no speed of its own, so it is the user's to say. */
	vd->cfg.speed = opts->has_speed ? opts->speed : VIRTIO_NET_SPEED_UNKNOWN;
	vd->cfg.duplex = opts->has_duplex ? opts->duplex : VIRTIO_NET_DUPLEX_UNKNOWN;
	vd->legacy = opts->legacy;
	vd->hdr_len = sizeof(struct virtio_net_hdr_v1);
	/* A legacy device has only 32 feature bits (4.1.4.10, 4.2.4): no
	 * VERSION_1 and nothing that needs it (vdev_update_offer). */
	vdev_update_offer(vd);
	*out = vd;
	return 0;
}

void vdev_attach(struct vdev *vd, const struct vdev_irq *irq, const struct vdev_face *face)
{
	vd->irq = *irq;
	vd->face = *face;
}

void vdev_free(struct vdev *vd)
{
	if (!vd)
		return;
	/* Its data-path threads stay parked from here to their end (at
	 * exit the main loop no longer parks them). */
	dp_threads_hold(vd);
	/* What attached it goes first: no message reaches a half-freed vdev. */
	if (vd->face.destroy)
		vd->face.destroy(vd->face.ctx);
	vd->face = (struct vdev_face){ 0 };
	vd->irq = (struct vdev_irq){ 0 };
	dp_stop(vd);
	vdev_link_stop(vd);
	for (unsigned i = 0; i < vd->num_queues; i++)
		vdev_queue_set_kick_fd(vd, i, -1);
	gmem_clear(&vd->gm);
	vdev_capture_stop(vd);
	vdev_mem_guard_stop(vd);
	dp_free(vd);
	free(vd);
}
