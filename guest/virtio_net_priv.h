/* SPDX-License-Identifier: MIT */
/*
 * virtio_net_priv.h - what the files of the virtio-net driver share:
 *   virtio_net_setup.c       open, bring-up (3.1.1, 5.1.5), reset, close
 *   virtio_net_config.c      device configuration, link, NEEDS_RESET, info
 *   virtio_net_health.c      gone / needs reset / broken queues
 *   virtio_net_kick.c        the kick decision, deferred kicks
 *   virtio_net_rx.c          receive path (5.1.6.3, 5.1.6.4)
 *   virtio_net_tx.c          transmit path (5.1.6.2)
 *   virtio_net_ctrl.c        control virtqueue (5.1.6.5), announcements
 *   virtio_net_wait.c        interrupts and waiting (vnet_wait)
 *   virtio_net_caller_loop.c waiting in the caller's own event loop
 * Private to guest/.
 *
 * Guest RAM layout (all carved at open, never freed piecemeal, reused
 * by a reset): per pair, receiveq ring | RX buffers | transmitq ring |
 * TX buffers; then controlq ring | control command area.  RX and TX buffers hold the net
 * header then the frame; buffer tokens given to the ring are the buffer
 * index + 1 (NULL means "nothing" in vq_drv_get).
 */
#ifndef VNET_GUEST_VIRTIO_NET_PRIV_H
#define VNET_GUEST_VIRTIO_NET_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "common/ring/vq.h"
#include "guest/guest_mem.h"
#include "guest/vfio_client.h"
#include "guest/virtio_net.h"
#include "guest/virtio_transport.h"

#define REASM_SLOTS	    32u		/* multi-buffer frames per rx burst */
#define VN_BURST	    64u		/* chains per vq_drv_add_burst / get_burst */
#define CTRL_QUEUE_SIZE	    16u		/* one command at a time */
#define CTRL_AREA_SIZE	    2048u

enum vn_irq_mode { IRQ_POLL = 0, IRQ_MSIX, IRQ_LINE };

static_assert(VT_MAX_VECTORS == 1 + 2 * VNET_MAX_PAIRS,
	      "a vector for the config and for every data queue");

struct vnet_queue {
	const char *name;
	struct vq_drv vq;
	struct vq_drv_cfg cfg;	/* as set up; a reset re-inits with it */
	void *ring;		/* ring memory (local) ... */
	uint64_t ring_gpa;	/* ... and its guest address */
	bool vq_ready;
	bool broken_logged;
	uint16_t index;
	uint16_t size;
	uint16_t max_size;
	uint16_t vector;	/* as read back; NO_VECTOR = no MSI-X vector */
	uint8_t *bufs;		/* size buffers of buf_size bytes */
	uint64_t bufs_gpa;
	uint32_t buf_size;
	uint16_t *idx;		/* TX: free buffers; RX: buffers to repost */
	unsigned nidx;
};

/* Transmit chains vnet_tx_burst has staged for one transmitq, added to
 * the ring in one vq_drv_add_burst (virtio_net_tx.c). */
struct vn_tx_stage {
	struct vq_sg sg[2 * VN_BURST];	/* one or two buffers a chain */
	void *tok[VN_BURST];
	unsigned n;			/* chains staged */
	unsigned room;			/* more chains the ring and free buffers take */
	uint64_t bytes;			/* frame bytes staged */
};

/* What the driver asked through the control queue; replayed after a
 * reset, since a reset returns the device's filter to its defaults. */
struct vn_ctrl_state {
	int8_t rx_mode[VNET_RX_NOBCAST + 1];	/* -1 never set, 0 off, 1 on */
	bool table_set;
	uint8_t uni[VNET_MAC_TABLE_MAX][6];
	uint8_t multi[VNET_MAC_TABLE_MAX][6];
	unsigned n_uni, n_multi;
	bool mac_set;
	uint8_t mac[6];
	struct {
		bool set;
		uint32_t max_packets, max_usecs;
	} coal[2];		/* [VNET_RX], [VNET_TX] */
	struct vnet_rss rss;	/* with RSS: what steers (a default at open) */
};

struct vnet_dev {
	struct vnet_dev_params params;	/* socket_path/mmio_loc: caller's */
	struct guest_mem ram;
	struct vfc_device vfc;
	bool vfc_open;
	bool dma_mapped;
	struct vtransport *t;
	bool status_written;	/* reset at close */
	uint8_t status;		/* what we last wrote */
	uint64_t dev_features;
	uint64_t drv_features;
	enum vq_layout layout;
	bool mrg_rxbuf;
	uint32_t hdr_len;	/* net_hdr_len: 12, 20 (HASH_REPORT), 10 (legacy) */
	bool hdr_separate;	/* TX header in its own descriptor (5.1.6.6) */
	/* Queue pairs (rxq[k], txq[k]: receiveq k+1 and transmitq k+1,
	 * 5.1.2) and the controlq. */
	struct vnet_queue rxq[VNET_MAX_PAIRS], txq[VNET_MAX_PAIRS], ctrl;
	struct vn_tx_stage tx_stage[VNET_MAX_PAIRS];	/* txq[k]'s */
	unsigned npairs;	/* set up and in use */
	uint16_t max_pairs;	/* the device's max_virtqueue_pairs (1 without MQ) */
	/* RSS or HASH_REPORT negotiated: the device's limits (5.1.4), read
	 * once (rss_max_table with RSS only). */
	uint8_t rss_max_key;
	uint16_t rss_max_table;
	uint32_t rss_types;
	unsigned rx_next;	/* pair vnet_rx_burst starts at (each in turn) */
	bool has_ctrl;
	bool ctrl_stuck;	/* a command went unanswered: reset needed */
	uint8_t *ctrl_buf;	/* command area (guest RAM) */
	uint64_t ctrl_gpa;
	struct vn_ctrl_state cs;
	enum vn_irq_mode irq_mode;
	int irq_fd[VT_MAX_VECTORS];	/* MSI-X vectors; [0] is the line */
	unsigned nvec;
	uint16_t cfg_vector;
	uint8_t mac[6];
	bool mac_from_device;
	bool has_status;
	bool link_up;
	bool link_event;
	bool announce_pending;
	uint16_t mtu;
	bool mtu_from_device;
	uint32_t speed;		/* SPEED_DUPLEX, checked: Mbit/s or unknown */
	uint8_t duplex;
	uint16_t device_queues;
	uint32_t max_tx_frame;	/* without GSO */
	uint32_t max_rx_frame;
	uint8_t *reasm;		/* REASM_SLOTS * max_rx_frame (MRG_RXBUF) */
	/* Headers as checked, handed out as vnet_frame.hdr (its .hdr); the
	 * hash fields stay 0 (NONE) without HASH_REPORT (vnet_rx_hash). */
	struct virtio_net_hdr_v1_hash rx_hdr[VNET_RX_BURST_MAX];
	uint64_t last_config_poll;
	unsigned kicks_pending;	/* defer_kicks: queue index bits to kick */
	bool needs_reset;
	bool gone;
	/* vnet_wait_fd: one more fd to sleep on, and whether it fired. */
	bool extra_active;
	bool extra_ready;
	int extra_fd;
	struct vnet_stats st;
};

static inline bool vn_has(const struct vnet_dev *d, unsigned bit)
{
	return (d->drv_features & VIRTIO_BIT(bit)) != 0;
}

static inline void *vn_token(unsigned i) { return (void *)(uintptr_t)(i + 1); }

/* Our own token back; the ring code already refused ids not in flight,
 * so a bad value here is our bug, still never a wild pointer. */
static inline bool vn_token_idx(const struct vnet_queue *q, void *tok, uint16_t *i)
{
	uintptr_t v = (uintptr_t)tok;

	if (v == 0 || v > q->size)
		return false;
	*i = (uint16_t)(v - 1);
	return true;
}

/* Does queue q raise an interrupt we can sleep on? */
static inline bool vn_queue_irq(const struct vnet_dev *d, const struct vnet_queue *q)
{
	return d->irq_mode == IRQ_LINE ||
	       (d->irq_mode == IRQ_MSIX && q->vector != VIRTIO_MSI_NO_VECTOR);
}

/* virtio_net_setup.c: the transport of the device behind vfc (PCI modern
 * or legacy, MMIO).  Probing writes nothing but the PCI command register's
 * enable bits; the virtio registers are left as they are. */
int vn_probe(struct vfc_device *vfc, const char *path, struct vtransport **t);

/* virtio_net_health.c: 0, or -ENOTCONN / -EIO; a broken queue is logged
 * once. */
bool vn_queue_broken(struct vnet_queue *q);
int vn_health(struct vnet_dev *d);
/* Has any queue latched broken (nothing logged)? */
bool vn_any_queue_broken(const struct vnet_dev *d);

/* virtio_net_kick.c: one kick decision per batch. */
void vn_kick(struct vnet_dev *d, struct vnet_queue *q);

/* virtio_net_config.c */
int vn_read_mtu(struct vnet_dev *d, uint16_t *mtu);
int vn_read_net_config(struct vnet_dev *d, bool initial);
void vn_config_changed(struct vnet_dev *d);
void vn_random_mac(uint8_t mac[6]);

/* virtio_net_wait.c */
void vn_irq_count(struct vnet_dev *d, unsigned v, uint64_t cnt);
bool vn_arm(struct vnet_dev *d, bool want_tx);
unsigned vn_pending(struct vnet_dev *d, bool want_tx);

/* virtio_net_rx.c / virtio_net_tx.c */
unsigned vn_rx_post(struct vnet_dev *d, struct vnet_queue *q);
/* Takes back every transmitted buffer, of every pair. */
void vn_tx_reclaim(struct vnet_dev *d);
/* Free buffers of the fullest transmitq (after vn_tx_reclaim). */
unsigned vn_tx_free_min(const struct vnet_dev *d);
/* Queues one frame built by the driver itself (announcements). */
int vn_tx_raw(struct vnet_dev *d, const void *frame, uint32_t len);

/* virtio_net_ctrl.c */
void vn_ctrl_state_init(struct vn_ctrl_state *cs);
/* The pairs in use: VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET for d->npairs
 * (5.1.6.5.5), or with RSS its configuration (cs.rss); 0 with one pair. */
int vn_ctrl_pairs(struct vnet_dev *d);
/* cs.rss: every IP flow type, the default key, pairs in turn. */
void vn_rss_default(struct vnet_dev *d);
/* HASH_REPORT without RSS: cs.rss's hash types and key through
 * VIRTIO_NET_CTRL_MQ_HASH_CONFIG (the device starts with every type off,
 * 5.1.6.5.5); 0 with nothing to send. */
int vn_ctrl_hash(struct vnet_dev *d);
int vn_ctrl_replay(struct vnet_dev *d);
/* Answers a pending ANNOUNCE request: a self-announcement frame, then
 * VIRTIO_NET_CTRL_ANNOUNCE_ACK (5.1.6.5.4).  The request is seen only
 * where the config is read (open, reset, a config change noticed while
 * waiting), so the wait paths call this, not the bursts. */
void vn_answer_announce(struct vnet_dev *d);

/* virtio_net_wait.c */
int vn_sleep_once(struct vnet_dev *d, uint64_t deadline, bool want_tx);
void vn_disarm(struct vnet_dev *d);
void vn_drain_irqs(struct vnet_dev *d);

#endif /* VNET_GUEST_VIRTIO_NET_PRIV_H */
