/* SPDX-License-Identifier: MIT */
/*
 * virtio_net.h - the userspace virtio-net driver (library).
 *
 *   vnet_dev_open()   connect, probe the transport (pci-modern,
 *                     pci-legacy, mmio-v2, mmio-v1), 3.1.1 init, queues up
 *   vnet_tx_burst()   copy frames into TX buffers, one kick decision
 *   vnet_rx_burst()   hand out received frames, refill RX in a batch
 *   vnet_wait()       sleep on the interrupt eventfds until there is work
 *   vnet_ctrl_*()     control virtqueue commands (5.1.6.5): RX mode, MAC
 *                     filter table, MAC address
 *   vnet_dev_reset()  reset the device and bring it back up (2.4)
 *   vnet_dev_close()  reset the device and free everything
 *
 * With multiqueue (params.queue_pairs > 1 and VIRTIO_NET_F_MQ offered) the
 * bursts spread over the pairs: vnet_tx_burst puts each frame on the
 * transmitq its flow hashes to (so a flow keeps its order), vnet_rx_burst
 * takes from every receiveq in turn, vnet_wait wakes for any of them.
 *
 * One device is used by one thread at a time (callers serialise).  No
 * call on the data path (tx/rx burst) allocates or makes a syscall other
 * than the doorbell, and the doorbell is rung at most once per burst.
 * Everything the device hands back (used lengths, net headers,
 * num_buffers, config space) is checked before use.
 *
 * This is the driver's public header, the only one a program using the
 * driver needs (vnet-guest in guest/tool/, bench/, tests/progs/).  The
 * rest of guest/ is the library's inside: virtio_net_priv.h (struct
 * vnet_dev), the transports (virtio_transport.h, virtio_pci.h), the
 * vfio-user client (vfio_client.h) and guest RAM (guest_mem.h).  frame.h
 * is not the driver but the test-frame format the tools put on the link.
 */
#ifndef VNET_GUEST_VIRTIO_NET_H
#define VNET_GUEST_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "common/virtio.h"

struct vnet_dev;

#define VNET_QUEUE_SIZE_DEFAULT_CAP 256
#define VNET_RX_BURST_MAX	    256	/* frames per vnet_rx_burst call */
#define VNET_MAX_PAIRS		    8	/* queue pairs the driver sets up */
#define VNET_MAX_QUEUES		    (2 * VNET_MAX_PAIRS + 1)

/* Features the driver implements and accepts when offered (plus the
 * offloads when want_offloads). */
#define VNET_DRIVER_FEATURES                                               \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC) |   \
	 VIRTIO_BIT(VIRTIO_NET_F_STATUS) | VIRTIO_BIT(VIRTIO_NET_F_MTU) |  \
	 VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) |                             \
	 VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC) |                         \
	 VIRTIO_BIT(VIRTIO_F_IN_ORDER) |                                   \
	 VIRTIO_BIT(VIRTIO_F_ANY_LAYOUT) |                                 \
	 VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) |                              \
	 VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) | \
	 VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) |                          \
	 VIRTIO_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |                          \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) |                         \
	 VIRTIO_BIT(VIRTIO_NET_F_NOTF_COAL) |                              \
	 VIRTIO_BIT(VIRTIO_NET_F_VQ_NOTF_COAL) |                           \
	 VIRTIO_BIT(VIRTIO_NET_F_SPEED_DUPLEX))
#define VNET_OFFLOAD_FEATURES                                              \
	(VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) |                             \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6) |                             \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN) |                              \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_UFO) |                              \
	 VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) |                              \
	 VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) |                              \
	 VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN) | VIRTIO_BIT(VIRTIO_NET_F_HOST_UFO))

struct vnet_dev_params {
	const char *socket_path;	/* vfio-user socket of the vdev */
	uint64_t ram_size;		/* guest RAM bytes; 0 = 64 MiB */
	bool hugepages;			/* guest RAM on huge pages (whole
					 * ones; fails when too few are free) */
	uint64_t decline_features;	/* feature bits never to accept */
	bool want_offloads;		/* also accept VNET_OFFLOAD_FEATURES */
	bool want_packed;		/* accept RING_PACKED if offered */
	bool no_interrupts;		/* poll instead of MSI-X (testing) */
	bool use_intx;			/* the interrupt line (PCI INTx) even
					 * when MSI-X is there */
	unsigned queue_size;		/* 0 = device max capped at 256 */
	unsigned busy_poll_us;		/* vnet_wait spins this long first */
	/* The bursts only decide kicks; vnet_kicks_take() hands them to the
	 * caller (who batches the eventfd writes, e.g. with io_uring). */
	bool defer_kicks;
	/* virtio-mmio has no discovery (4.2.1): where the device sits and
	 * its interrupt come from the command line (as from a device
	 * tree); reported by vnet_dev_info, not sent anywhere.  NULL / -1:
	 * not given. */
	const char *mmio_loc;
	long mmio_intr;
	/* Receive/transmit queue pairs to use (VIRTIO_NET_F_MQ, 5.1.6.5.5):
	 * 0 or 1 one pair; more takes up to what the device has, at most
	 * VNET_MAX_PAIRS.  Not in release 0.1.0 (this struct and vnet_info
	 * grew: rebuild against this header; soname 0 makes no promise of
	 * a stable layout before 1.0). */
	unsigned queue_pairs;
	/* With several pairs, also accept VIRTIO_NET_F_RSS when offered and
	 * steer received flows by RSS (5.1.6.5.7.1): by default every IP
	 * flow type, the default key and a table spreading over the pairs;
	 * vnet_ctrl_rss sets another. */
	bool want_rss;
	/* Also accept VIRTIO_NET_F_HASH_REPORT when offered: the device
	 * reports each received frame's RSS hash and its type (5.1.6.4.4,
	 * vnet_rx_hash).  Without RSS the driver turns every IP flow type on
	 * with the default key (VIRTIO_NET_CTRL_MQ_HASH_CONFIG); with RSS
	 * the RSS configuration's types and key apply.  vnet_ctrl_rss sets
	 * others.  Since VNET_0.4. */
	bool want_hash_report;
};

/* A frame.  TX: data/len are the caller's and are copied; hdr (optional)
 * is the virtio-net header to send (NULL = all zero: a complete frame,
 * 5.1.6.2).  RX: data/len/hdr point into the device's receive buffer (or
 * a reassembly buffer for a frame spanning several, MRG_RXBUF) and stay
 * valid until the next vnet_rx_burst() or vnet_dev_close(); the caller
 * may modify the bytes in place (e.g. to turn a request into a reply).
 * An RX header has passed the header rule (common/net_hdr.h) for the
 * frame and the negotiated features; flag bits the rule does not know
 * are cleared (5.1.6.4.2).  With HASH_REPORT, vnet_rx_hash gives the
 * hash the device reported for an RX frame. */
struct vnet_frame {
	uint8_t *data;
	uint32_t len;
	const struct virtio_net_hdr_v1 *hdr;
};

struct vnet_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	uint64_t rx_errors;		/* frames dropped: bad length/num_buffers/header */
	uint64_t tx_ring_full;		/* burst stopped on a full TX ring */
	uint64_t kicks_sent;		/* doorbells rung (both queues) */
	uint64_t kicks_suppressed;	/* ...and not needed (EVENT_IDX/NO_NOTIFY) */
	uint64_t kick_errors;
	uint64_t irqs_config, irqs_rx, irqs_tx;	/* eventfd counts per vector */
	uint64_t irqs_line;		/* line (INTx / MMIO) interrupts */
	uint64_t waits, wait_sleeps;	/* vnet_wait calls; of them slept */
	uint64_t link_changes;
	uint64_t resets;		/* vnet_dev_reset calls that succeeded */
	uint64_t tx_lost_reset;		/* queued TX frames dropped by a reset */
	uint64_t rx_lost_reset;		/* received, not yet handed out, dropped */
	uint64_t ctrl_cmds, ctrl_errors; /* control commands; of them failed */
	uint64_t announces;		/* ANNOUNCE requests answered (5.1.6.5.4) */
};

struct vnet_queue_info {
	const char *name;		/* "receiveq", "transmitq", "controlq";
					 * "receiveq2", "transmitq2", ... */
	uint16_t index;
	uint16_t size;
	uint16_t max_size;		/* the device's maximum */
	uint16_t vector;		/* MSI-X vector, or 0xffff: polled */
	const char *kick;		/* "eventfd" or "region-write" */
	unsigned buf_size;		/* bytes per buffer (incl. net header) */
};

struct vnet_info {
	const char *transport;		/* "pci-modern", "pci-legacy",
					 * "mmio-v2", "mmio-v1" */
	const char *mmio_loc;		/* from vnet_dev_params (NULL) */
	long mmio_intr;			/* from vnet_dev_params (-1) */
	const char *ring;		/* "split" / "packed" */
	uint64_t device_features;
	uint64_t driver_features;
	uint8_t mac[6];
	bool mac_from_device;		/* VIRTIO_NET_F_MAC; else random local */
	bool link_up;
	bool link_reported;		/* STATUS negotiated (else always up) */
	uint16_t mtu;			/* from the device (MTU) or 1500 */
	bool mtu_from_device;
	uint32_t max_tx_frame;		/* largest frame vnet_tx_burst takes */
	uint32_t max_rx_frame;
	uint16_t device_queues;		/* num_queues the device has */
	unsigned nqueues;		/* queues in use: pairs, then controlq */
	struct vnet_queue_info queues[VNET_MAX_QUEUES];
	unsigned queue_pairs;		/* pairs in use */
	unsigned max_queue_pairs;	/* the device's max_virtqueue_pairs (1
					 * without MQ) */
	bool rss;			/* RSS steers (VIRTIO_NET_F_RSS) */
	bool hash_report;		/* hashes reported (HASH_REPORT; 0.4) */
	uint16_t rss_table_len;		/* its indirection table entries */
	const char *interrupts;		/* "msix", "intx" (PCI line), "line"
					 * (MMIO), "polling", "mixed" */
	unsigned hdr_len;		/* net header bytes: 12, 20 with
					 * HASH_REPORT (5.1.6), or 10 (legacy
					 * without MRG_RXBUF, 5.1.6.1) */
	bool has_ctrl;			/* control queue up (CTRL_VQ) */
	unsigned msix_vectors;		/* vectors bound */
	bool needs_reset;		/* DEVICE_NEEDS_RESET seen */
	bool broken;			/* a queue latched broken */
	uint64_t ram_size, ram_used;
	bool ram_huge;			/* guest RAM is on huge pages */
	struct vnet_stats stats;
};

/* Opens and initialises the device.  -errno on failure, with the reason
 * logged (log_err) in words, e.g. "cannot connect to PATH: ...". */
int vnet_dev_open(struct vnet_dev **out, const struct vnet_dev_params *p);
/* Resets the device (3.3: nothing is in flight afterwards), unbinds
 * interrupts, unmaps and frees guest RAM, closes every fd.  NULL is ok. */
void vnet_dev_close(struct vnet_dev *dev);

/* Queues up to n frames for transmission (reclaiming sent buffers
 * first).  Returns how many were queued (0 when the ring is full), or
 * -EMSGSIZE / -EINVAL when frames[0] itself cannot be sent (too long or
 * shorter than an Ethernet header, or a header asking for an offload that
 * was not negotiated), -EIO when the device is broken. */
int vnet_tx_burst(struct vnet_dev *dev, const struct vnet_frame *frames,
		  unsigned n);
/* Free TX slots right now (reclaims completed transmissions); with
 * several pairs, those of the fullest transmitq. */
unsigned vnet_tx_space(struct vnet_dev *dev);
/* Waits up to timeout_ms (< 0: forever) until the device has used every
 * queued TX buffer (call before vnet_dev_close, whose reset would drop
 * frames still queued).  0, -ETIMEDOUT, -EINTR, -EIO or -ENOTCONN. */
int vnet_tx_drain(struct vnet_dev *dev, int timeout_ms);
/* Receives up to max frames (max is capped at VNET_RX_BURST_MAX).
 * Returns the count (0: nothing pending) or -EIO. */
int vnet_rx_burst(struct vnet_dev *dev, struct vnet_frame *frames,
		  unsigned max);

#define VNET_EV_RX   0x1	/* received frames are pending */
#define VNET_EV_TX   0x2	/* the TX ring was full and has room again */
#define VNET_EV_LINK 0x4	/* link state (or other config) changed */
/* Waits up to timeout_ms (< 0: forever) for work.  Returns a VNET_EV_*
 * mask (0 on timeout), -EINTR when a signal arrived, -EIO when the device
 * needs a reset or a queue is broken, -ENOTCONN when the device went
 * away (its socket closed).  The waits (this one, vnet_wait_arm/end,
 * vnet_tx_drain) also answer the device's request to be announced
 * (GUEST_ANNOUNCE, 5.1.6.5.4: a RARP frame, then the ack on controlq);
 * the bursts never touch the control queue. */
int vnet_wait(struct vnet_dev *dev, int timeout_ms);
#define VNET_EV_FD   0x8	/* vnet_wait_fd: the caller's fd is readable */
/* vnet_wait that also wakes when fd (>= 0) is readable, so one thread can
 * serve the device and another source (a TAP, a socket) without spinning.
 * fd < 0: exactly vnet_wait. */
int vnet_wait_fd(struct vnet_dev *dev, int timeout_ms, int fd);

/* ---- waiting and kicking in the caller's own event loop ----------------
 * For callers that sleep in io_uring or epoll rather than vnet_wait
 * (bench/vnet-bench).  The protocol, the same vnet_wait follows:
 *
 *   ev = vnet_wait_arm(dev, want_tx);      arms the callbacks (2.7.7)
 *   if (ev == 0) {                         nothing pending: sleep on the
 *           read one of vnet_irq_fds()     interrupt eventfds, then
 *           ev = vnet_wait_end(dev, fd, n); account n and disarm
 *   } else if (ev > 0) ...                 work came in while arming:
 *                                          already disarmed, don't sleep
 *
 * vnet_wait_end(dev, -1, 0) disarms without an interrupt (timeout).  Both
 * return VNET_EV_* (RX, LINK; TX is not tracked across the sleep: call
 * vnet_tx_space), or -EIO / -ENOTCONN as vnet_wait.
 * vnet_irq_fds() fills up to max eventfds (MSI-X vectors, or the one
 * interrupt line) and returns how many; 0 means the device is polled.
 * With params.defer_kicks, vnet_kicks_take() returns the ioeventfds the
 * caller must now write a 1 (8 bytes) into; a queue whose kick needs a
 * register write is notified inside the call. */
unsigned vnet_irq_fds(struct vnet_dev *dev, int *fds, unsigned max);
int vnet_wait_arm(struct vnet_dev *dev, bool want_tx);
int vnet_wait_end(struct vnet_dev *dev, int fd, uint64_t count);
unsigned vnet_kicks_take(struct vnet_dev *dev, int *fds, unsigned max);

void vnet_dev_info(struct vnet_dev *dev, struct vnet_info *out);
bool vnet_link_up(const struct vnet_dev *dev);
void vnet_mac(const struct vnet_dev *dev, uint8_t mac[6]);
uint32_t vnet_max_tx_frame(const struct vnet_dev *dev);
/* The link speed in Mbit/s and the duplex (VIRTIO_NET_DUPLEX_FULL, _HALF)
 * the device reports with SPEED_DUPLEX (5.1.4), as last read (they may
 * change with a configuration change).  False when it reports none, or
 * an unknown or invalid value: *mbps is then VIRTIO_NET_SPEED_UNKNOWN and
 * *duplex VIRTIO_NET_DUPLEX_UNKNOWN.  Since VNET_0.2. */
bool vnet_link_speed(const struct vnet_dev *dev, uint32_t *mbps, uint8_t *duplex);

/* True when the device set DEVICE_NEEDS_RESET (2.1.2), a queue latched
 * broken, or a control command went unanswered: the calls above fail
 * with -EIO until vnet_dev_reset(). */
bool vnet_needs_reset(const struct vnet_dev *dev);
/* Resets the device (2.4) and brings it back up with the same features,
 * queue sizes and buffers; re-applies the RX mode, MAC table and MAC
 * address set through vnet_ctrl_*.  Frames queued for TX and received
 * frames not yet handed out are lost (counted in tx_lost_reset /
 * rx_lost_reset), never corrupted: after the reset no buffer is in
 * flight (3.3).  Frames handed out by vnet_rx_burst become invalid.
 * 0, or -errno (the device is unusable then; close it). */
int vnet_dev_reset(struct vnet_dev *dev);
/* Moves the device to the vnet-host listening on socket_path (one started
 * with --incoming for the same vdev) while the driver runs on: vfio-user
 * migration, this process acting as the VMM (it owns guest RAM and the
 * interrupt eventfds).  The rings and what is in flight stay in guest
 * RAM; the driver never resets and no frame it queued is lost.  The
 * doorbells change (vnet_kicks_take hands out the new ones).  socket_path
 * must outlive the device.  0; or -errno (logged) and the device runs on
 * where it was, unless the destination took the state but did not start
 * (then the device is unusable: close it).  Since VNET_0.4. */
int vnet_dev_move(struct vnet_dev *dev, const char *socket_path);

/* ---- control virtqueue (5.1.6.5) -------------------------------------
 * Each command goes out as header / data / ack descriptors and is waited
 * for synchronously (bounded, VNET_CTRL_TIMEOUT_MS).  Returns 0 when the
 * device answered VIRTIO_NET_OK; -ENOTSUP when the feature the command
 * needs was not negotiated; -EINVAL for bad arguments; -EREMOTEIO when
 * the device answered VIRTIO_NET_ERR; -ETIMEDOUT when it did not answer
 * (the device then needs a reset); -EIO when it is broken. */
#define VNET_CTRL_TIMEOUT_MS 2000
enum vnet_rx_mode {		/* VIRTIO_NET_CTRL_RX_* (5.1.6.5.1) */
	VNET_RX_PROMISC = 0,	/* CTRL_RX */
	VNET_RX_ALLMULTI = 1,	/* CTRL_RX */
	VNET_RX_ALLUNI = 2,	/* CTRL_RX_EXTRA, as the three below */
	VNET_RX_NOMULTI = 3,
	VNET_RX_NOUNI = 4,
	VNET_RX_NOBCAST = 5,
};
#define VNET_MAC_TABLE_MAX 64	/* entries per table we send */
int vnet_ctrl_rx_mode(struct vnet_dev *dev, enum vnet_rx_mode cmd, bool on);
/* VIRTIO_NET_CTRL_MAC_TABLE_SET (5.1.6.5.2): the unicast and multicast
 * addresses to receive besides our own (needs CTRL_RX). */
int vnet_ctrl_mac_table(struct vnet_dev *dev, const uint8_t uni[][6],
			unsigned n_uni, const uint8_t multi[][6], unsigned n_multi);
/* VIRTIO_NET_CTRL_MAC_ADDR_SET (CTRL_MAC_ADDR): the device's address;
 * vnet_mac() returns it afterwards. */
int vnet_ctrl_mac_addr(struct vnet_dev *dev, const uint8_t mac[6]);

enum vnet_queue_dir { VNET_RX = 0, VNET_TX = 1 };
/* Interrupt coalescing of the receive or transmit queue (NOTF_COAL,
 * 5.1.6.5.6): the device holds a used-buffer interrupt until max_packets
 * buffers were used or max_usecs passed, whichever is first; either 0
 * turns it off.  Replayed after vnet_dev_reset.  -ENOTSUP when the
 * device does not offer it.  Since VNET_0.2. */
int vnet_ctrl_coalesce(struct vnet_dev *dev, enum vnet_queue_dir dir, uint32_t max_packets,
		       uint32_t max_usecs);
/* The setting the device reports for that queue (VQ_NOTF_COAL's VQ_GET).
 * Since VNET_0.2. */
int vnet_ctrl_coalesce_get(struct vnet_dev *dev, enum vnet_queue_dir dir,
			   uint32_t *max_packets, uint32_t *max_usecs);

/* RSS (VIRTIO_NET_F_RSS, 5.1.6.5.7.1): a received frame goes to queue
 * pair table[hash & (table_len - 1)] (pairs from 0), or to unclassified
 * when none of hash_types applies; the hash is the Toeplitz function
 * under key.  Checked against what the device takes (key and table
 * sizes, hash types) and the pairs in use; replayed after a reset.
 * -ENOTSUP without RSS (params.want_rss).  Since VNET_0.3.
 * With HASH_REPORT but no RSS (params.want_hash_report, one pair or
 * want_rss off) it sets only the hash types and key the reported hashes
 * use (VIRTIO_NET_CTRL_MQ_HASH_CONFIG, 5.1.6.5.5); the table is unused.
 * Since VNET_0.4. */
#define VNET_RSS_KEY_MAX   40
#define VNET_RSS_TABLE_MAX 128
struct vnet_rss {
	uint32_t hash_types;		/* VIRTIO_NET_RSS_HASH_TYPE_* */
	uint8_t key_len;
	uint8_t key[VNET_RSS_KEY_MAX];
	uint16_t table_len;		/* a power of two */
	uint16_t table[VNET_RSS_TABLE_MAX];
	uint16_t unclassified;
};
int vnet_ctrl_rss(struct vnet_dev *dev, const struct vnet_rss *rss);

/* HASH_REPORT (5.1.6.4.4): the hash the device reported for frame f, a
 * frame the last vnet_rx_burst handed out, into *hash; returns its type,
 * VIRTIO_NET_HASH_REPORT_* (NONE, with *hash 0, when no enabled type
 * applied).  -ENOTSUP when HASH_REPORT was not negotiated, -EINVAL when f
 * is not such a frame.  Since VNET_0.4. */
int vnet_rx_hash(const struct vnet_dev *dev, const struct vnet_frame *f, uint32_t *hash);
/* The hash of an Ethernet frame under r's hash types and key as the
 * device computes it (5.1.6.4.3, the Toeplitz function; r's table is
 * not used), into *hash; returns the VIRTIO_NET_HASH_REPORT_* type it
 * covered (NONE, hash 0: no type applies), or -EINVAL.  What a receiver
 * checks vnet_rx_hash against.  Since VNET_0.4. */
int vnet_rss_hash(const struct vnet_rss *r, const uint8_t *data, uint32_t len, uint32_t *hash);

#endif /* VNET_GUEST_VIRTIO_NET_H */
