// SPDX-License-Identifier: MIT
/*
 * vdev.c - virtio-net device model: lifecycle, feature negotiation, the
 * device status state machine (2.1, 3.1.1), queue configuration and the
 * device configuration space (5.1.4).  The data path is in dp/tx.c and
 * dp/rx.c; the peer link glue in dev/link.c.
 */
#include "host/dev/vdev.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/peerfeats.h"
#include "host/dp/dp.h"
#include "host/dp/offload.h"
#include "host/transport/mmio.h"
#include "host/transport/pci_legacy.h"
#include "host/transport/pci_modern.h"
#include "host/face/vfio_server.h"
#include "host/face/vhost_user.h"

/* Ring and transport features every vdev offers. */
static uint64_t base_features(void)
{
	return VIRTIO_BIT(VIRTIO_F_VERSION_1) |
	       VIRTIO_BIT(VIRTIO_F_RING_PACKED) |
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
	       VIRTIO_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE);
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
	if (vd->status & VIRTIO_STATUS_FEATURES_OK) {
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

void vdev_set_needs_reset(struct vdev *vd, const char *why)
{
	if (vd->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		return;
	snprintf(vd->needs_reset_reason, sizeof(vd->needs_reset_reason), "%s", why);
	log_rl(LOG_WARN, "%s: device needs reset: %s", vd->name, why);
	vd->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	vd->stats.needs_reset++;
	net_dp_schedule_rx(vd);
	/* 2.1.2: with DRIVER_OK set, the device must send a configuration
	 * change notification after setting DEVICE_NEEDS_RESET. */
	if (vd->status & VIRTIO_STATUS_DRIVER_OK) {
		vd->config_generation++;
		vd->t->ops->raise(vd->t, TRANSPORT_CONFIG_IRQ);
	}
}

/* Is the accepted feature set one the device can run?  (3.1.1 step 5,
 * 5.1.3.1 dependencies.) */
static bool features_acceptable(struct vdev *vd, char *why, size_t len)
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
	if (peerfeats_validate(f & VNET_PEERFEATS_MAX, err, sizeof(err)) < 0) {
		snprintf(why, len, "accepted offloads break a dependency: %s", err);
		return false;
	}
	return true;
}

static void queue_stop(struct vdev_queue *vq)
{
	vq_dev_reset(&vq->vq);
	vq->enabled = false;
	vq->size = VDEV_QUEUE_MAX;
	memset(&vq->addrs, 0, sizeof(vq->addrs));
}

void vdev_reset(struct vdev *vd)
{
	net_dp_stop(vd);
	for (unsigned i = 0; i < VDEV_NUM_QUEUES; i++)
		queue_stop(&vd->q[i]);
	vd->driver_features = 0;
	vd->status = 0;
	net_filter_reset(&vd->filter);
	memcpy(vd->cfg.mac, vd->perm_mac, sizeof(vd->cfg.mac));
	vd->cfg.status &= (uint16_t)~VIRTIO_NET_S_ANNOUNCE;
	vd->needs_reset_reason[0] = 0;
	vd->config_generation++;
	vdev_update_offer(vd);
	vdev_link_forget_features(vd);
	net_dp_schedule_rx(vd);
}

/* 5.1.6.1: a legacy driver without MRG_RXBUF uses the 10-byte header;
 * everyone else the 12-byte one (which is also the link's format). */
static uint32_t guest_hdr_len(const struct vdev *vd)
{
	if (vd->legacy && !(vd->driver_features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF)))
		return VIRTIO_NET_HDR_LEGACY_LEN;
	return sizeof(struct virtio_net_hdr_v1);
}

static void activate(struct vdev *vd)
{
	unsigned nq = (vd->driver_features & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ)) ?
			      VDEV_NUM_QUEUES : VDEV_NUM_QUEUES - 1;

	for (unsigned i = 0; i < nq; i++) {
		if (!vd->q[i].enabled) {
			char why[64];

			snprintf(why, sizeof(why), "queue %u not enabled at DRIVER_OK", i);
			vdev_set_needs_reset(vd, why);
			return;
		}
	}
	vd->hdr_len = guest_hdr_len(vd);
	log_info("%s: driver ready (features 0x%llx)", vd->name,
		 (unsigned long long)vd->driver_features);
	vdev_link_set_features(vd, vd->driver_features & VNET_PEERFEATS_MAX);
	net_dp_start(vd);
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
		if (!features_acceptable(vd, why, sizeof(why))) {
			/* 2.2.2: refuse by leaving FEATURES_OK clear; the driver
			 * re-reads status and sees it (3.1.1 step 6). */
			log_rl(LOG_WARN, "%s: FEATURES_OK refused: %s", vd->name, why);
			status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		}
	}
	vd->status = status;
	if (status & VIRTIO_STATUS_FAILED) {
		net_dp_stop(vd);
		net_dp_schedule_rx(vd);
		return;
	}
	if ((status & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
		if (vd->legacy) {
			/* 3.1.2: legacy drivers have no FEATURES_OK step; the
			 * features are checked (and frozen) at DRIVER_OK. */
			if (!features_acceptable(vd, why, sizeof(why))) {
				vdev_set_needs_reset(vd, why);
				return;
			}
			vd->status |= VIRTIO_STATUS_FEATURES_OK;
		} else if (!(status & VIRTIO_STATUS_FEATURES_OK)) {
			vdev_set_needs_reset(vd, "DRIVER_OK without FEATURES_OK");
			return;
		}
		activate(vd);
	}
}

bool vdev_running(const struct vdev *vd)
{
	return (vd->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(vd->status & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

void vdev_queue_set_size(struct vdev *vd, unsigned q, uint16_t size)
{
	if (vd->q[q].enabled)
		return;		/* 4.1.4.3.2: not after queue_enable */
	vd->q[q].size = size;
}

void vdev_queue_set_addr(struct vdev *vd, unsigned q, unsigned which,
			 uint64_t gpa)
{
	struct vq_addrs *a = &vd->q[q].addrs;

	if (vd->q[q].enabled)
		return;
	if (which == 0)
		a->desc = gpa;
	else if (which == 1)
		a->driver = gpa;
	else
		a->device = gpa;
}

static uint32_t ring_flags(const struct vdev *vd)
{
	uint32_t f = 0;

	if (vd->driver_features & VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX))
		f |= VQ_F_EVENT_IDX;
	if (vd->driver_features & VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC))
		f |= VQ_F_INDIRECT;
	return f;
}

void vdev_queue_enable(struct vdev *vd, unsigned q)
{
	struct vdev_queue *vq = &vd->q[q];
	char why[VQ_REASON_LEN + 32];
	uint16_t size = vq->size;

	bool packed = vd->driver_features & VIRTIO_BIT(VIRTIO_F_RING_PACKED);

	if (vq->enabled)
		return;
	/* 2.7: split sizes are powers of two; 2.8: packed sizes need not be. */
	/* A vfio-user driver may pick at most the size we offered (4.1.4.3);
	 * a vhost-user frontend chose its own, up to our limit. */
	if (size == 0 || size > (vd->opts && vd->opts->has_vhost_user ? VDEV_QUEUE_LIMIT : VDEV_QUEUE_MAX) ||
	    (!packed && (size & (size - 1)))) {
		snprintf(why, sizeof(why), "queue %u: bad size %u", q, size);
		vdev_set_needs_reset(vd, why);
		return;
	}
	if (vq_dev_init(&vq->vq, packed ? VQ_PACKED : VQ_SPLIT, size, ring_flags(vd),
			&vq->addrs, &vd->gm) < 0) {
		snprintf(why, sizeof(why), "queue %u: %s", q, vq->vq.reason);
		vdev_set_needs_reset(vd, why);
		return;
	}
	vq->enabled = true;
}

void vdev_kick(struct vdev *vd, unsigned q)
{
	vd->q[q].stats.kicks++;
	net_dp_kick(vd, q);
}

static void kick_event(struct ev_handler *h, uint32_t events)
{
	struct vdev_queue *vq = container_of(h, struct vdev_queue, kick_h);
	struct vdev *vd = vq->vd;
	uint64_t n;

	/* One read collects every kick since the last one. */
	if (read(h->fd, &n, sizeof(n)) != sizeof(n))
		return;
	vq->stats.kicks += n;
	net_dp_kick(vd, (unsigned)(vq - vd->q));
}

int vdev_queue_set_kick_fd(struct vdev *vd, unsigned q, int fd)
{
	struct vdev_queue *vq = &vd->q[q];
	int rc = 0;

	if (vq->kick_fd >= 0) {
		ev_del(vd->ev, &vq->kick_h);
		close(vq->kick_fd);
	}
	vq->kick_fd = fd;
	if (fd >= 0) {
		rc = ev_add(vd->ev, &vq->kick_h, fd, EPOLLIN, kick_event);
		if (rc < 0) {
			close(fd);
			vq->kick_fd = -1;
		}
	}
	return rc;
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

/* ---- vfio-user server callbacks ------------------------------------ */

static void srv_attached(void *arg)
{
	struct vdev *vd = arg;

	log_info("%s: guest attached", vd->name);
}

static void srv_detached(void *arg)
{
	struct vdev *vd = arg;

	log_info("%s: guest detached; device reset", vd->name);
	vdev_reset(vd);
}

static void srv_dma_unmap(void *arg, uint64_t iova, uint64_t size)
{
	struct vdev *vd = arg;

	/* Guest RAM is going away under a live device: stop touching it. */
	if (vd->status & VIRTIO_STATUS_DRIVER_OK) {
		net_dp_stop(vd);
		vdev_set_needs_reset(vd, "guest memory unmapped while the device was running");
	}
	(void)iova;
	(void)size;
}

/* ---- creation -------------------------------------------------------- */

/* The hypervisor's words pick the transport: `loc` (with `intr`) makes
 * the device virtio-mmio, `legacy` the 0.9.5 interface (4.1.4.10, 4.2.4). */
static int transport_create(struct vdev *vd)
{
	const struct vdev_opts *o = vd->opts;
	int rc;

	if (o->has_vhost_user)
		return vhost_user_create(&vd->t, vd);
	if (o->has_loc) {
		rc = mmio_create(&vd->t, vd);
		/* 4.2.1: virtio-mmio has no discovery; the guest is told
		 * where the device is and which interrupt it raises (as by
		 * a device tree).  Nothing on the wire carries them. */
		if (rc == 0)
			log_info("%s: virtio-mmio version %d at 0x%llx, interrupt %s",
				 vd->name, vd->legacy ? 1 : 2,
				 (unsigned long long)o->loc, o->intr);
		return rc;
	}
	if (o->legacy)
		return pci_legacy_create(&vd->t, vd);
	return pci_modern_create(&vd->t, vd);
}

static int make_kick_fds(struct vdev *vd)
{
	for (unsigned i = 0; i < VDEV_NUM_QUEUES; i++) {
		int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		int rc;

		if (fd < 0)
			return -errno;
		vd->q[i].kick_fd = fd;
		rc = ev_add(vd->ev, &vd->q[i].kick_h, fd, EPOLLIN, kick_event);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int vdev_create(struct vdev **out, struct evloop *ev, const char *run_dir,
		const char *system, const struct vdev_opts *opts)
{
	struct vfio_server_cbs cbs = {
		.attached = srv_attached,
		.detached = srv_detached,
		.dma_unmap = srv_dma_unmap,
	};
	struct vdev *vd = calloc(1, sizeof(*vd));
	int rc;

	if (!vd)
		return -ENOMEM;
	vd->opts = opts;
	vd->ev = ev;
	snprintf(vd->system, sizeof(vd->system), "%s", system);
	snprintf(vd->name, sizeof(vd->name), "%s", opts->name);
	gmem_init(&vd->gm);
	for (unsigned i = 0; i < VDEV_NUM_QUEUES; i++) {
		vd->q[i].vd = vd;
		vd->q[i].kick_fd = -1;
		queue_stop(&vd->q[i]);
	}
	vd->tx_resched = vd->rx_resched = -1;
	vd->chain_bufs = calloc(VDEV_QUEUE_LIMIT * 2u, sizeof(*vd->chain_bufs));
	vd->mrg_chains = calloc(VDEV_QUEUE_LIMIT, sizeof(*vd->mrg_chains));
	vd->offload = calloc(1, sizeof(*vd->offload));
	if (!vd->chain_bufs || !vd->mrg_chains || !vd->offload ||
	    net_offload_init(vd->offload) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	memcpy(vd->cfg.mac, opts->mac, 6);
	memcpy(vd->perm_mac, opts->mac, 6);
	net_filter_reset(&vd->filter);
	vd->cfg.mtu = VDEV_DEFAULT_MTU;
	vd->cfg.status = 0;	/* link comes up with the peer */
	vd->cfg.max_virtqueue_pairs = 1;

	vd->legacy = opts->legacy;
	vd->hdr_len = sizeof(struct virtio_net_hdr_v1);
	/* A legacy device has only 32 feature bits (4.1.4.10, 4.2.4): no
	 * VERSION_1 and nothing that needs it (vdev_update_offer). */
	vdev_update_offer(vd);
	rc = transport_create(vd);
	if (rc < 0)
		goto fail;
	rc = net_dp_init(vd);
	if (rc < 0)
		goto fail;
	if (opts->has_vhost_user) {
		/* The frontend brings the kick fds, and no vfio-user server. */
		snprintf(vd->vfio_path, sizeof(vd->vfio_path), "%s", opts->vhost_user);
		goto link;
	}
	rc = make_kick_fds(vd);
	if (rc < 0)
		goto fail;
	rc = snprintf(vd->vfio_path, sizeof(vd->vfio_path), "%s/%s/%s.vfio", run_dir,
		      system, vd->name);
	if (rc < 0 || (size_t)rc >= sizeof(vd->vfio_path) || rc >= OPTS_PATH_MAX) {
		log_err("%s: socket path %s/%s/%s.vfio is too long for a UNIX socket",
			vd->name, run_dir, system, vd->name);
		rc = -ENAMETOOLONG;
		goto fail;
	}
	cbs.arg = vd;
	rc = vfio_server_new(&vd->srv, ev, vd->vfio_path, vd->t, &vd->gm, &cbs);
	if (rc < 0) {
		log_err("%s: cannot serve vfio-user on %s: %s", vd->name, vd->vfio_path,
			strerror(-rc));
		goto fail;
	}
link:
	rc = vdev_link_start(vd, run_dir);
	if (rc < 0)
		goto fail;
	*out = vd;
	return 0;
fail:
	vdev_destroy(vd);
	return rc;
}

void vdev_destroy(struct vdev *vd)
{
	if (!vd)
		return;
	if (vd->srv)
		vfio_server_free(vd->srv);
	vd->srv = NULL;
	net_dp_stop(vd);
	vdev_link_stop(vd);
	for (unsigned i = 0; i < VDEV_NUM_QUEUES; i++) {
		if (vd->q[i].kick_fd >= 0) {
			ev_del(vd->ev, &vd->q[i].kick_h);
			close(vd->q[i].kick_fd);
			vd->q[i].kick_fd = -1;	/* a vhost-user transport resets them too */
		}
	}
	if (vd->t)
		vd->t->ops->destroy(vd->t);
	gmem_clear(&vd->gm);
	free(vd->chain_bufs);
	free(vd->mrg_chains);
	if (vd->offload)
		net_offload_free(vd->offload);
	free(vd->offload);
	free(vd);
}
