/* SPDX-License-Identifier: MIT */
/*
 * vdev.h - the virtio-net device model, independent of its transport.
 *
 * A vdev owns: the virtio state (features, status, queue configuration,
 * device config), its guest's memory map, the kick eventfds of its
 * queues, the data path between its virtqueues and its peer link, and
 * its counters.  Transports (host/transport/) translate register accesses
 * into the vdev_* calls below; the vfio-user server feeds DMA maps and
 * irq eventfds.
 */
#ifndef VNET_HOST_VDEV_H
#define VNET_HOST_VDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "common/gmem.h"
#include "common/opts.h"
#include "common/ring/vq.h"
#include "common/virtio.h"
#include "host/evloop.h"
#include "host/dev/filter.h"
#include "common/gso.h"
#include "host/transport/transport.h"

struct vfio_server;
struct peer_link;
struct net_offload_buf;

#define VDEV_NUM_QUEUES	  3	/* receiveq1, transmitq1, controlq (5.1.2) */
/* Largest queue size offered (QEMU's maximum; drivers pick up to it).
 * 1024, not QEMU's default 256: here a 256-entry ring holds about 25 us of
 * work, less than one cross-core eventfd wake-up (about 32 us), so with
 * 256 the two sides take turns sleeping instead of overlapping (bench/:
 * one hop guest TX 64 B event-driven went from 3.8 to 9.4 Mpps). */
#define VDEV_QUEUE_MAX	  1024
/* Legacy PCI (4.1.4.10) has no size negotiation: the driver must use the
 * device's size, so legacy queues stay at the common 256. */
#define VDEV_QUEUE_LEGACY 256
/* The largest ring the device runs: a vhost-user frontend picks its own
 * size up to this (QEMU's VIRTQUEUE_MAX_SIZE is 1024); scratch space is
 * sized so. */
#define VDEV_QUEUE_LIMIT  VDEV_QUEUE_MAX
#define VDEV_DEFAULT_MTU  1500
#define VDEV_BUDGET	  256	/* frames per pass before yielding the loop */

/* Counters a user reads to see what the device did (issue "counters"). */
struct vdev_queue_stats {
	uint64_t frames;
	uint64_t bytes;
	uint64_t kicks;			/* driver notifications received */
	uint64_t irqs;			/* interrupts delivered */
	uint64_t irqs_suppressed;	/* flushes the driver did not want signalled */
};

struct vdev_stats {
	uint64_t drop_link_down;	/* TX while the peer link was down */
	uint64_t drop_bad_frame;	/* too short/long, or unsupported offload */
	uint64_t drop_no_driver;	/* RX while the guest's driver was not live */
	uint64_t drop_rx_too_small;	/* guest RX buffer smaller than the frame */
	uint64_t drop_filtered;		/* destination not accepted by the RX filter */
	uint64_t drop_no_rx_buffer;	/* segments of a fixed-up frame without buffers */
	uint64_t csum_completed;	/* partial checksums completed for the guest */
	uint64_t frames_segmented;	/* GSO frames cut in software for the guest */
	uint64_t segments_made;
	uint64_t doorbells_sent;
	uint64_t link_flaps;
	uint64_t needs_reset;		/* times the device latched NEEDS_RESET */
};

struct vdev_queue {
	struct vdev *vd;
	/* Driver-programmed configuration (4.1.4.3). */
	uint16_t size;
	bool enabled;
	struct vq_addrs addrs;
	/* Runtime. */
	struct vq_dev vq;
	int kick_fd;			/* ioeventfd handed to the guest */
	struct ev_handler kick_h;
	struct vdev_queue_stats stats;
};

struct vdev {
	const struct vdev_opts *opts;
	char system[OPTS_NAME_MAX];
	char name[OPTS_NAME_MAX];
	char vfio_path[PATH_MAX];
	struct evloop *ev;
	struct gmem gm;
	struct transport *t;
	struct vfio_server *srv;
	struct peer_link *link;

	/* virtio state */
	bool legacy;			/* 0.9.5 interface: no VERSION_1, no FEATURES_OK */
	uint32_t hdr_len;		/* net header the guest uses: 12, or 10 (5.1.6.1) */
	uint64_t device_features;	/* offered; see vdev_update_offer */
	uint64_t driver_features;
	bool peer_features_known;	/* peerfeats auto: the peer's guest negotiated */
	uint64_t peer_features;
	uint8_t status;
	uint8_t config_generation;
	struct virtio_net_config cfg;
	uint8_t perm_mac[6];		/* the configured MAC, restored at reset */
	struct net_filter filter;	/* programmed through the control queue */
	char needs_reset_reason[VQ_REASON_LEN];
	struct vdev_queue q[VDEV_NUM_QUEUES];

	/* data path */
	struct vq_buf *chain_bufs;	/* scratch: 2 chains of VDEV_QUEUE_LIMIT buffers */
	struct vq_chain *mrg_chains;	/* chains of one merged frame (MRG_RXBUF) */
	struct net_offload_buf *offload;	/* software checksum / GSO buffers */
	bool tx_waiting_space;		/* peer ring was full */
	bool rx_waiting_buffers;	/* guest had no RX buffer */
	long tx_resched;		/* timer id for budget-exhausted passes */
	long rx_resched;
	struct vdev_stats stats;
};

/* Creates the vdev: transport, vfio-user server on
 * <run_dir>/<system>/<name>.vfio and peer link.  -errno with a logged
 * reason; nothing is left behind on failure. */
int vdev_create(struct vdev **out, struct evloop *ev, const char *run_dir,
		const char *system, const struct vdev_opts *opts);
/* Stops serving, removes sockets and shared-memory files. */
void vdev_destroy(struct vdev *vd);

/* ---- called by transports -------------------------------------------- */
uint32_t vdev_device_features_window(const struct vdev *vd, uint32_t sel);
void vdev_set_driver_features_window(struct vdev *vd, uint32_t sel, uint32_t v);
uint32_t vdev_driver_features_window(const struct vdev *vd, uint32_t sel);
void vdev_set_status(struct vdev *vd, uint8_t status);
void vdev_reset(struct vdev *vd);
/* Queue configuration; q must be < VDEV_NUM_QUEUES (transports check). */
void vdev_queue_set_size(struct vdev *vd, unsigned q, uint16_t size);
void vdev_queue_set_addr(struct vdev *vd, unsigned q, unsigned which,
			 uint64_t gpa);	/* 0 desc, 1 driver, 2 device */
void vdev_queue_enable(struct vdev *vd, unsigned q);
/* Replaces queue q's kick eventfd (vhost-user: the frontend's); the vdev
 * owns fd from now on and closes the old one.  -1 leaves none. */
int vdev_queue_set_kick_fd(struct vdev *vd, unsigned q, int fd);
/* A driver notification arrived by register write (not the ioeventfd). */
void vdev_kick(struct vdev *vd, unsigned q);
/* Device config space (5.1.4) as bytes, for transport reads. */
int vdev_config_read(struct vdev *vd, uint32_t off, void *buf, uint32_t len);
/* Latch DEVICE_NEEDS_RESET with a reason (logged once, config irq). */
void vdev_set_needs_reset(struct vdev *vd, const char *why);
/* Recomputes the offered features (base set plus the offloads the peer
 * can take: the peerfeats mask, or with `auto` what the peer's guest
 * negotiated).  Only between resets: a negotiated set never changes. */
void vdev_update_offer(struct vdev *vd);
/* Is the driver live and the device usable (DRIVER_OK, no NEEDS_RESET)? */
bool vdev_running(const struct vdev *vd);

/* ---- peer link glue (dev/link.c) ---------------------------------- */
int vdev_link_start(struct vdev *vd, const char *run_dir);
void vdev_link_stop(struct vdev *vd);
/* Tell the peer which offloads our guest negotiated (peerfeats auto). */
void vdev_link_set_features(struct vdev *vd, uint64_t f);
/* ...or that it has no live driver now, so they are unknown. */
void vdev_link_forget_features(struct vdev *vd);

#endif /* VNET_HOST_VDEV_H */
