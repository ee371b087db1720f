/* SPDX-License-Identifier: MIT */
/*
 * vdev.h - the virtio-net device model, independent of what attaches it.
 *
 * A vdev owns: the virtio state (features, status, queue configuration,
 * device config), its guest's memory map, the kick eventfds of its
 * queues, the data path between its virtqueues and its peer link
 * (host/dp/), and its counters.
 *
 * What attaches a guest or a VMM (host/face/: the vfio-user server with a
 * transport from host/transport/, or vhost-user) reaches the model only
 * through the functions below: it gives the model a way to interrupt the
 * driver and a way to be destroyed (vdev_attach), memory, queue
 * addresses and state, kick fds, and the driver's register writes as
 * vdev_* calls.  It may read the struct's fields; it never writes them.
 * The model includes no face or transport header.
 *
 * The files: vdev.c (life and status), features.c, queue.c, config.c,
 * link.c (the peer link as the model sees it), stats.c, filter.c,
 * capture.c (pcap of every frame).
 */
#ifndef VNET_HOST_VDEV_H
#define VNET_HOST_VDEV_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/gmem.h"
#include "common/rss.h"
#include "host/opts.h"
#include "common/ring/vq.h"
#include "common/virtio.h"
#include "host/evloop.h"
#include "host/dev/filter.h"

struct peer_link;
struct net_offload_buf;
struct peer_ring_prod;
struct peer_ring_cons;
struct vdev_capture;
struct dp_thread;

/* Queue pairs a vdev may have (`queues N`, VIRTIO_NET_F_MQ), and so its
 * queues: N receiveq/transmitq pairs, then the controlq (5.1.2). */
#define VDEV_MAX_PAIRS	  OPTS_MAX_QUEUE_PAIRS
#define VDEV_MAX_QUEUES	  (2 * VDEV_MAX_PAIRS + 1)
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
	uint64_t irqs_coalesced;	/* flushes whose interrupt was held (NOTF_COAL) */
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
	uint64_t needs_reset;		/* times the device latched NEEDS_RESET */
	uint64_t mem_faults;		/* guest memory files that shrank under us */
	uint64_t capture_frames;	/* frames recorded (host/dev/capture.c) */
	uint64_t capture_dropped;	/* frames a live capture's reader lost */
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

/* Queue index for "a configuration change" where a queue index goes. */
#define VDEV_CONFIG_IRQ (-1)

/* How the device interrupts its driver, given by what attached it: a
 * transport (MSI-X vector, INTx with the ISR, the MMIO line) or vhost-user
 * (the queue's call eventfd).  raise(ctx, q) for queue q or
 * VDEV_CONFIG_IRQ; true when an interrupt was delivered. */
struct vdev_irq {
	bool (*raise)(void *ctx, int q);
	void *ctx;
};

/* What attached the vdev, for the model to name and to end it. */
struct vdev_face {
	const char *name;		/* "pci-modern", "mmio-v2", "vhost-user", ... */
	void (*destroy)(void *ctx);	/* stops serving; first thing vdev_free does */
	/* Guest memory the face handed over faulted (its file shrank).
	 * NULL: the model latches NEEDS_RESET, which a vfio-user guest
	 * sees and answers with a reset; vhost-user drops its frontend. */
	void (*mem_fault)(void *ctx, const char *why);
	/* The frontend runs the control queue itself (vhost-user: QEMU's
	 * virtio-net, DPDK's virtio-user).  The model then sees neither
	 * CTRL_VQ nor a controlq, MQ needs no CTRL_VQ, and the face says
	 * which pairs are in use (vdev_set_pairs_in_use). */
	bool frontend_ctrlq;
	void *ctx;
};

struct vdev {
	const struct vdev_opts *opts;
	char system[OPTS_NAME_MAX];
	char name[OPTS_NAME_MAX];
	/* The socket a guest or VMM attaches to: <run>/<system>/<name>.vfio
	 * for vfio-user, the vhost-user PATH otherwise. */
	char socket_path[PATH_MAX];
	struct evloop *ev;
	struct gmem gm;
	int mem_fault_fd;		/* eventfd the SIGBUS guard writes (mem.c) */
	bool mem_fault_noted;		/* counted; cleared when repaired */
	struct ev_handler mem_fault_h;
	struct vdev_irq irq;
	struct vdev_face face;
	struct peer_link *link;

	/* virtio state */
	bool legacy;			/* 0.9.5 interface: no VERSION_1, no FEATURES_OK */
	uint32_t hdr_len;		/* net header the guest uses: 12, 20 with
					 * HASH_REPORT, or 10 (net_hdr_len) */
	uint64_t device_features;	/* offered; see vdev_update_offer */
	uint64_t driver_features;
	bool peer_features_known;	/* peerfeats auto: the peer's guest negotiated */
	uint64_t peer_features;
	uint8_t status;
	/* Paused for a move to another process (vdev_pause): no queue is
	 * processed, frames from the peer wait in the link's rings. */
	bool paused;
	uint8_t config_generation;
	struct virtio_net_config cfg;
	uint8_t perm_mac[6];		/* the configured MAC, restored at reset */
	struct net_filter filter;	/* programmed through the control queue */
	char needs_reset_reason[VQ_REASON_LEN];
	/* Queues: max_pairs pairs and the controlq (num_queues, what the
	 * transports report); pairs in use: 1 until the driver sets more
	 * with VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (5.1.6.5.5). */
	unsigned max_pairs, num_queues, curr_pairs;
	/* The driver's RSS configuration (VIRTIO_NET_CTRL_MQ_RSS_CONFIG),
	 * told to the peer, whose device then puts each frame on the ring
	 * of its receiveq; off until set and after a reset. */
	struct rss_cfg rss;
	/* What received frames are hashed with for HASH_REPORT (5.1.6.4.4):
	 * HASH_CONFIG's types and key, or with RSS negotiated the RSS
	 * configuration's; all zero (every frame NONE) until set and after
	 * a reset.  Read by the receive path only when HASH_REPORT was
	 * negotiated. */
	struct rss_hash_cfg hash;
	struct vdev_queue q[VDEV_MAX_QUEUES];

	/* The data path's state (host/dp/): the model allocates it, only
	 * dp/ reads or writes it. */
	struct vdev_dp {
		/* Scratch of the passes that run on the main loop; each
		 * data-path thread has its own (dp_scratch). */
		struct dp_scratch {
			struct vq_buf *chain_bufs;	/* 2 chains of VDEV_QUEUE_LIMIT buffers */
			struct vq_chain *mrg_chains;	/* chains of one merged frame (MRG_RXBUF) */
			struct net_offload_buf *offload; /* software checksum / GSO buffers */
		} scratch;
		/* Data-path threads (`threads N`, host/dp/threads.c): 0, and
		 * every pass runs on the main loop.  Else pair K's passes run
		 * on thread K mod n_threads, and the main loop runs only while
		 * every one of them is parked. */
		unsigned n_threads;
		struct dp_thread *threads[VDEV_MAX_PAIRS];
		/* What a data-path thread leaves to the main loop (DP_DEFER_*
		 * bits, atomic), and the eventfd that tells it. */
		uint32_t deferred;
		int defer_fd;
		struct ev_handler defer_h;
		/* Several threads may feed one link ring (fewer rings than
		 * pairs, or steering by the peer's RSS): its producer end is
		 * taken per pass (tx.c).  Unused without threads. */
		bool tx_ring_busy[VDEV_MAX_PAIRS];
		/* The link's ends while it is up (dp_link_up): link_pairs
		 * ring pairs (0 while down), our transmit ring and the peer's
		 * ring we consume of each. */
		unsigned link_pairs;
		/* The peer's receiving device's RSS configuration (its
		 * driver's), while the link is up: our transmit passes put
		 * each frame on the ring of the peer's receiveq for it. */
		struct rss_cfg peer_rss;
		struct peer_ring_prod *tx_ring[VDEV_MAX_PAIRS];
		struct peer_ring_cons *rx_ring[VDEV_MAX_PAIRS];
		/* Per link ring we consume: the guest had no buffer in this
		 * pair's receiveq for its next frame. */
		struct dp_rxr {
			bool waiting_buffers;
			unsigned wait_pair;
		} rxr[VDEV_MAX_PAIRS];
		long rx_resched;		/* timer id for budget-exhausted passes */
		/* Moved in from another process, or the peer's vdev moves
		 * (dp_await_link): transmit waits for the link instead of
		 * dropping, until this timer. */
		long await_link;
		/* Per transmitq (pair).  waiting_space and wait_ring are read
		 * by other threads (a doorbell's): atomic. */
		struct dp_txq {
			bool waiting_space;	/* a peer ring was full ... */
			unsigned wait_ring;	/* ... this one */
			long resched;		/* timer id for budget-exhausted passes */
		} txq[VDEV_MAX_PAIRS];
		/* Interrupt coalescing of each receiveq and transmitq, by
		 * queue index (host/dp/notify.c). */
		struct dp_coal {
			uint32_t max_packets, max_usecs; /* either 0: none */
			uint32_t pending;	/* used since the last interrupt */
			bool owed;		/* asked for, not yet sent */
			long timer;		/* -1: none armed ... */
			struct evloop *timer_ev; /* ... on this loop */
		} coal[2 * VDEV_MAX_PAIRS];
	} dp;
	/* Packet capture (capture.c): NULL while none is on, so the data path
	 * pays one branch per frame for it. */
	struct vdev_capture *capture;
	struct vdev_stats stats;
};

/* ---- life (vdev.c) --------------------------------------------------- */

/* The model alone: virtio state, data path buffers, no face and no link
 * yet.  -ENOMEM. */
int vdev_new(struct vdev **out, struct evloop *ev, const char *system,
	     const struct vdev_opts *opts);
/* Ends what attached it (face.destroy), the link, the data path; removes
 * sockets and shared-memory files.  NULL is fine. */
void vdev_free(struct vdev *vd);
/* What attached the vdev hands over its interrupt and its end. */
void vdev_attach(struct vdev *vd, const struct vdev_irq *irq, const struct vdev_face *face);
/* Interrupts the driver for queue q or VDEV_CONFIG_IRQ, when attached. */
static inline bool vdev_raise(struct vdev *vd, int q)
{
	return vd->irq.raise && vd->irq.raise(vd->irq.ctx, q);
}

/* ---- the driver's side of 3.1.1, as registers or messages carry it -------- */

/* features.c */
uint32_t vdev_device_features_window(const struct vdev *vd, uint32_t sel);
void vdev_set_driver_features_window(struct vdev *vd, uint32_t sel, uint32_t v);
uint32_t vdev_driver_features_window(const struct vdev *vd, uint32_t sel);
/* Recomputes the offered features (base set plus the offloads the peer
 * can take: the peerfeats mask, or with `auto` what the peer's guest
 * negotiated).  Only between resets: a negotiated set never changes. */
void vdev_update_offer(struct vdev *vd);
/* The frontend chose the interface (vhost-user: VERSION_1 or not, 5.1.6.1);
 * only while the device is reset (status 0); the offer follows. */
void vdev_set_legacy(struct vdev *vd, bool legacy);

/* vdev.c: the status state machine (2.1) */
void vdev_set_status(struct vdev *vd, uint8_t status);
void vdev_reset(struct vdev *vd);
/* Is the driver live and the device usable (DRIVER_OK, no NEEDS_RESET)? */
bool vdev_running(const struct vdev *vd);
/* The controlq's index: after every pair with MQ negotiated, else 2
 * (5.1.2). */
static inline unsigned vdev_ctrlq(const struct vdev *vd)
{
	return vnet_ctrlq(vd->max_pairs, vd->driver_features);
}
/* Pairs the driver may use: max_pairs with MQ or RSS negotiated, else 1
 * (5.1.2). */
static inline unsigned vdev_pairs_negotiated(const struct vdev *vd)
{
	return vnet_has_pairs(vd->driver_features) ? vd->max_pairs : 1;
}
/* 5.1.6.5.5: the driver uses pairs 1..n (n in 1..vdev_pairs_negotiated),
 * every queue of which must be enabled; from now on frames go only to
 * their receiveqs.  The one place curr_pairs changes besides a reset:
 * VQ_PAIRS_SET on the controlq, or a face whose frontend runs the
 * controlq (vhost-user: the pairs whose rings are enabled).  0, or
 * -EINVAL (logged, naming what was wrong) and the pairs in use stay. */
int vdev_set_pairs_in_use(struct vdev *vd, unsigned n);
/* VIRTIO_NET_CTRL_MQ_RSS_CONFIG (5.1.6.5.7.1): the configuration (checked
 * by rss_cfg_check against the negotiated pairs) and max_tx_vq; the
 * pairs in use become those it names and max_tx_vq, and the peer is
 * told.  0 or -EINVAL (logged) and nothing changes. */
int vdev_set_rss(struct vdev *vd, const struct rss_cfg *c, unsigned max_tx_vq);
/* VIRTIO_NET_CTRL_MQ_HASH_CONFIG (5.1.6.5.5 "Hash calculation"): the hash
 * types and key HASH_REPORT uses when RSS was not negotiated (checked by
 * rss_hash_check).  0, or -EINVAL / -EOPNOTSUPP (logged) and nothing
 * changes. */
int vdev_set_hash(struct vdev *vd, const struct rss_hash_cfg *c);

/* queue.c: queue configuration; q must be < vd->num_queues (callers
 * check). */
void vdev_queue_set_size(struct vdev *vd, unsigned q, uint16_t size);
void vdev_queue_set_addr(struct vdev *vd, unsigned q, unsigned which,
			 uint64_t gpa);	/* 0 desc, 1 driver, 2 device */
void vdev_queue_enable(struct vdev *vd, unsigned q);
bool vdev_queue_enabled(const struct vdev *vd, unsigned q);
/* Ring position (vq_dev_set_base/get_base) of an enabled queue, for a
 * frontend that stops and restarts the rings.  -EINVAL for a position
 * outside the ring. */
int vdev_queue_set_base(struct vdev *vd, unsigned q, uint32_t base);
uint32_t vdev_queue_get_base(const struct vdev *vd, unsigned q);
/* Attaches an inflight log region (vhost-user INFLIGHT_SHMFD;
 * common/ring/inflight.h, vq_dev_set_inflight) to enabled split queue q,
 * after its base: what a previous device process left inflight is popped
 * first (*resubmit chains).  0; -ENOTSUP for a packed queue (nothing
 * changes); -EINVAL or -ENOMEM with the vdev in NEEDS_RESET, the reason
 * naming what the log had wrong. */
int vdev_queue_set_inflight(struct vdev *vd, unsigned q, void *region, size_t len,
			    unsigned *resubmit);
/* Replaces queue q's kick eventfd (vhost-user: the frontend's); the vdev
 * owns fd from now on and closes the old one.  -1 leaves none. */
int vdev_queue_set_kick_fd(struct vdev *vd, unsigned q, int fd);
int vdev_queue_kick_fd(const struct vdev *vd, unsigned q);
/* A driver notification arrived by register write (not the ioeventfd). */
void vdev_kick(struct vdev *vd, unsigned q);
/* mem.c: guest memory from the fds a face was handed (windows checked
 * against their files by gmem_map_fd, and guarded: a file that shrinks
 * under the device latches NEEDS_RESET, or drops a vhost-user frontend,
 * instead of killing the process; counted in mem_faults). */
int vdev_mem_map_fd(struct vdev *vd, uint64_t gpa, uint64_t size, int fd,
		    uint64_t offset, bool writable);
void vdev_mem_clear(struct vdev *vd);
/* The guest memory map changed (DMA_UNMAP, a new vhost-user memory
 * table): every enabled queue's ring is translated again and checked, so
 * no queue keeps a pointer into memory it was not given.  A ring that is
 * no longer inside guest memory latches NEEDS_RESET.  0 or -EFAULT. */
int vdev_mem_changed(struct vdev *vd);

/* config.c: the device configuration space (5.1.4) */
int vdev_config_read(struct vdev *vd, uint32_t off, void *buf, uint32_t len);
/* The MTU the device reports (VIRTIO_NET_F_MTU, 5.1.4.1). */
void vdev_set_mtu(struct vdev *vd, uint16_t mtu);
/* Latch DEVICE_NEEDS_RESET with a reason (logged once, config irq). */
void vdev_set_needs_reset(struct vdev *vd, const char *why);
/* VIRTIO_NET_S_LINK_UP follows the peer link, with a config interrupt. */
void vdev_set_link_status(struct vdev *vd, bool up);

/* ---- the peer link (link.c) ---------------------------------------- */
/* taking_over: the vdev moved in, and the process it moved from may
 * still hold the node for a moment: -EADDRINUSE is not logged. */
int vdev_link_start(struct vdev *vd, const char *run_dir, bool taking_over);
void vdev_link_stop(struct vdev *vd);
/* Tell the peer which offloads our guest negotiated (peerfeats auto). */
void vdev_link_set_features(struct vdev *vd, uint64_t f);
/* ...or that it has no live driver now, so they are unknown. */
void vdev_link_forget_features(struct vdev *vd);
/* Tell the peer our driver's RSS configuration (vd->rss; off too). */
void vdev_link_set_rss(struct vdev *vd);
/* The vdev moved to another process: it moves no more frames over its
 * link (what the peer sends stays in the peer's rings, for the new
 * process), while the peer still takes what is in ours. */
void vdev_link_quiesce(struct vdev *vd);
/* Frames in our link rings the peer has not taken yet. */
unsigned vdev_link_tx_in_flight(struct vdev *vd);
/* Tells the peer that the vdev moves to another process, which links
 * within hold_ms: the peer holds what we did not take, and what its
 * guest sends meanwhile, for that link. */
void vdev_link_moving(struct vdev *vd, unsigned hold_ms);
/* The vdev moved in from another process and its link is starting:
 * transmit waits for it, at most ms, instead of dropping frames. */
void vdev_link_await(struct vdev *vd, unsigned ms);

/* ---- moving the device to another process (vdev.c, state.c) ------------ */

struct state_out;
struct state_rec;

/* Pause: interrupts that coalescing holds go out, then no queue is
 * processed and frames from the peer wait in the link's rings, until
 * vdev_resume; kicks meanwhile are not lost (resuming looks at every
 * queue).  The state cannot change while paused, except by
 * vdev_state_load, or a reset, which ends the pause. */
void vdev_pause(struct vdev *vd);
void vdev_resume(struct vdev *vd);
/* Appends the model's records (host/dev/state_fmt.h) to o: identity,
 * virtio state, queues, and the control queue's effects as commands.
 * transport names what serves the registers.  0 or o's error. */
int vdev_state_save(struct vdev *vd, const char *transport, struct state_out *o);
/* Takes a state written by vdev_state_save of the same device (name,
 * transport, MAC, queue pairs, interface), replaying it through the
 * checks a driver's writes pass.  On a refusal (-EINVAL, why naming
 * what was wrong) the device is left reset, ready for another state. */
int vdev_state_load(struct vdev *vd, const char *transport, const struct state_rec *recs,
		    unsigned n, char *why, size_t whylen);

#endif /* VNET_HOST_VDEV_H */
