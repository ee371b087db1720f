// SPDX-License-Identifier: MIT
/*
 * virtio_net.c - the virtio-net driver: device bring-up (3.1.1, 5.1.5),
 * the TX and RX data paths (5.1.6) and waiting on interrupts.
 *
 * Guest RAM layout (all carved at open, never freed piecemeal):
 *   receiveq ring | transmitq ring | RX buffers | TX buffers
 * Every buffer is one descriptor: the 12-byte virtio_net_hdr_v1 followed
 * by the frame (2.7.4 message framing: with VERSION_1 the device takes
 * any descriptor layout, so header and frame share one descriptor).
 * Buffer tokens given to the ring are the buffer index + 1 (NULL means
 * "nothing" in vq_drv_get).
 */
#include "guest/virtio_net.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/barrier.h"
#include "common/log.h"
#include "common/ring/vq.h"
#include "guest/guest_mem.h"
#include "guest/vfio_client.h"
#include "guest/virtio_transport.h"

#define NET_HDR_LEN	    sizeof(struct virtio_net_hdr_v1)
#define RX_BUF_MRG	    2048u	/* per-buffer size with MRG_RXBUF */
#define RX_BUF_MIN	    2048u	/* >= 12 + 1514 (5.1.6.3) */
#define RX_BUF_GSO	    (NET_HDR_LEN + VNET_MAX_GSO_FRAME + 1) /* 65562, 5.1.6.3 */
#define BUF_ALIGN	    64u
#define REASM_SLOTS	    32u		/* multi-buffer frames per rx burst */
#define VLAN_HLEN	    4u
#define MIN_MTU		    68u		/* RFC 791 minimum, as Linux checks */
#define DEFAULT_MTU	    1500u
#define CONFIG_POLL_NS	    (100u * 1000000u)
#define POLLED_SLICE_NS	    (50u * 1000u)

#define F(bit) VIRTIO_BIT(bit)
#define GUEST_GSO_FEATURES (F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) | \
			    F(VIRTIO_NET_F_GUEST_UFO))
#define HOST_GSO_FEATURES  (F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) | \
			    F(VIRTIO_NET_F_HOST_UFO))

struct vnet_queue {
	const char *name;
	struct vq_drv vq;
	bool vq_ready;
	bool broken_logged;
	uint16_t index;
	uint16_t size;
	uint16_t max_size;
	uint16_t vector;	/* as read back; NO_VECTOR = polled */
	uint8_t *bufs;		/* size buffers of buf_size bytes */
	uint64_t bufs_gpa;
	uint32_t buf_size;
	uint16_t *idx;		/* TX: free buffers; RX: buffers to repost */
	unsigned nidx;
};

struct vnet_dev {
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
	struct vnet_queue rx, tx;
	int irq_fd[VT_MAX_VECTORS];
	unsigned nvec;
	uint16_t cfg_vector;
	uint8_t mac[6];
	bool mac_from_device;
	bool has_status;
	bool link_up;
	bool link_event;
	uint16_t mtu;
	bool mtu_from_device;
	uint16_t device_queues;
	uint32_t max_tx_frame;	/* without GSO */
	uint32_t max_rx_frame;
	uint8_t *reasm;		/* REASM_SLOTS * max_rx_frame (MRG_RXBUF) */
	uint64_t last_config_poll;
	bool needs_reset;
	bool gone;
	unsigned busy_poll_us;
	struct vnet_stats st;
};

static bool has(const struct vnet_dev *d, unsigned bit)
{
	return (d->drv_features & F(bit)) != 0;
}

static void *idx_token(unsigned i) { return (void *)(uintptr_t)(i + 1); }

/* Our own token back; the ring code already refused ids not in flight,
 * so a bad value here is our bug, still never a wild pointer. */
static bool token_idx(const struct vnet_queue *q, void *tok, uint16_t *i)
{
	uintptr_t v = (uintptr_t)tok;

	if (v == 0 || v > q->size)
		return false;
	*i = (uint16_t)(v - 1);
	return true;
}

/* ---- health ---------------------------------------------------------- */

static bool queue_broken(struct vnet_queue *q)
{
	if (!q->vq.broken)
		return false;
	if (!q->broken_logged) {
		q->broken_logged = true;
		log_err("%s broken: %s", q->name, q->vq.reason);
	}
	return true;
}

static int dev_health(struct vnet_dev *d)
{
	if (d->gone)
		return -ENOTCONN;
	if (d->needs_reset)
		return -EIO;
	if (queue_broken(&d->rx) || queue_broken(&d->tx))
		return -EIO;
	return 0;
}

/* ---- doorbells ------------------------------------------------------- */

/* One kick decision per batch (2.7.10: EVENT_IDX / NO_NOTIFY). */
static void kick(struct vnet_dev *d, struct vnet_queue *q)
{
	if (!vq_drv_kick_prepare(&q->vq)) {
		d->st.kicks_suppressed++;
		return;
	}
	if (d->t->ops->notify(d->t, q->index) < 0)
		d->st.kick_errors++;
	else
		d->st.kicks_sent++;
}

/* ---- configuration (5.1.4) ------------------------------------------- */

static int read_mtu(struct vnet_dev *d, uint16_t *mtu)
{
	struct vt_cfg_field f = { offsetof(struct virtio_net_config, mtu), 2, mtu };

	return vt_config_read(d->t, &f, 1);
}

static void random_mac(uint8_t mac[6])
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = now_ns();
	memcpy(mac, &r, 6);
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);	/* unicast, local */
}

static void set_link(struct vnet_dev *d, bool up)
{
	if (up == d->link_up)
		return;
	d->link_up = up;
	d->link_event = true;
	d->st.link_changes++;
	log_info("link %s", up ? "up" : "down");
}

/* Reads MAC, link status and MTU as one snapshot (2.5 generation). */
static int read_net_config(struct vnet_dev *d, bool initial)
{
	uint8_t mac[6];
	uint16_t status = VIRTIO_NET_S_LINK_UP, mtu = 0;
	struct vt_cfg_field f[9];
	unsigned n = 0;
	int rc;

	if (initial && has(d, VIRTIO_NET_F_MAC))
		for (unsigned i = 0; i < 6; i++)
			f[n++] = (struct vt_cfg_field){ (uint32_t)i, 1, &mac[i] };
	if (has(d, VIRTIO_NET_F_STATUS))
		f[n++] = (struct vt_cfg_field){
			offsetof(struct virtio_net_config, status), 2, &status };
	if (initial && has(d, VIRTIO_NET_F_MTU))
		f[n++] = (struct vt_cfg_field){
			offsetof(struct virtio_net_config, mtu), 2, &mtu };
	if (n == 0)
		return 0;
	rc = vt_config_read(d->t, f, n);
	if (rc < 0)
		return rc;
	if (initial) {
		if (has(d, VIRTIO_NET_F_MAC)) {
			memcpy(d->mac, mac, 6);
			d->mac_from_device = true;
			if (mac[0] & 1)
				log_warn("device MAC is a multicast address");
		}
		if (has(d, VIRTIO_NET_F_MTU)) {
			d->mtu = mtu;
			d->mtu_from_device = true;
		}
		/* 5.1.4.2: without STATUS the link is assumed up. */
		d->link_up = (status & VIRTIO_NET_S_LINK_UP) != 0;
		return 0;
	}
	set_link(d, (status & VIRTIO_NET_S_LINK_UP) != 0);
	return 0;
}

/* A config change (interrupt, or a poll without one): the device may
 * have set DEVICE_NEEDS_RESET (2.1.2) or changed the link. */
static void config_changed(struct vnet_dev *d)
{
	uint8_t s;

	d->last_config_poll = now_ns();
	if (d->t->ops->get_status(d->t, &s) == 0 &&
	    (s & VIRTIO_STATUS_DEVICE_NEEDS_RESET) && !d->needs_reset) {
		d->needs_reset = true;
		log_err("device set DEVICE_NEEDS_RESET (status 0x%02x): it stopped working and must be reset",
			s);
	}
	if (d->has_status && read_net_config(d, false) < 0)
		log_rl(LOG_WARN, "cannot read device configuration");
}

/* ---- features (2.2, 5.1.3) ------------------------------------------- */

static uint64_t choose_features(uint64_t offered, const struct vnet_dev_params *p)
{
	uint64_t want = VNET_DRIVER_FEATURES, f;

	if (p->want_offloads)
		want |= VNET_OFFLOAD_FEATURES;
	if (p->want_packed)
		want |= F(VIRTIO_F_RING_PACKED);
	f = offered & want & ~p->decline_features;
	/* 5.1.3.1: drop what lacks its prerequisite. */
	if (!(f & F(VIRTIO_NET_F_GUEST_CSUM)))
		f &= ~GUEST_GSO_FEATURES;
	if (!(f & (F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6))))
		f &= ~F(VIRTIO_NET_F_GUEST_ECN);
	if (!(f & F(VIRTIO_NET_F_CSUM)))
		f &= ~HOST_GSO_FEATURES;
	if (!(f & (F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6))))
		f &= ~F(VIRTIO_NET_F_HOST_ECN);
	return f;
}

static int negotiate(struct vnet_dev *d, const struct vnet_dev_params *p)
{
	const struct vtransport_ops *ops = d->t->ops;
	uint64_t f;
	uint16_t mtu = 0;
	uint8_t s = 0;
	int rc;

	rc = ops->get_device_features(d->t, &d->dev_features);
	if (rc < 0)
		return rc;
	f = choose_features(d->dev_features, p);
	if (!(f & F(VIRTIO_F_VERSION_1))) {
		log_err("device does not offer VERSION_1 (features 0x%016llx)%s",
			(unsigned long long)d->dev_features,
			(d->dev_features & F(VIRTIO_F_VERSION_1)) ? " or it was declined" : "");
		return -ENOTSUP;
	}
	/* 5.1.4.1: an MTU below the IPv4 minimum is not usable; decline the
	 * feature rather than trust it (read before FEATURES_OK, as the
	 * config space is readable from here). */
	if (f & F(VIRTIO_NET_F_MTU)) {
		rc = read_mtu(d, &mtu);
		if (rc < 0 || mtu < MIN_MTU) {
			log_warn("device MTU %u unusable, feature declined", mtu);
			f &= ~F(VIRTIO_NET_F_MTU);
		}
	}
	rc = ops->set_driver_features(d->t, f);
	if (rc < 0)
		return rc;
	/* 3.1.1 step 5-6: FEATURES_OK, then re-read: a device that cannot
	 * work with this subset clears it. */
	d->status |= VIRTIO_STATUS_FEATURES_OK;
	rc = ops->set_status(d->t, d->status);
	if (rc == 0)
		rc = ops->get_status(d->t, &s);
	if (rc < 0)
		return rc;
	if (!(s & VIRTIO_STATUS_FEATURES_OK)) {
		log_err("device refused features 0x%016llx (FEATURES_OK not set)",
			(unsigned long long)f);
		return -ENOTSUP;
	}
	d->drv_features = f;
	d->layout = (f & F(VIRTIO_F_RING_PACKED)) ? VQ_PACKED : VQ_SPLIT;
	d->mrg_rxbuf = (f & F(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	d->has_status = (f & F(VIRTIO_NET_F_STATUS)) != 0;
	return 0;
}

/* ---- interrupts (4.1.5.1.2) ------------------------------------------ */

/* Vector 0 config, 1 receiveq, 2 transmitq; with fewer vectors the
 * queues share. */
static uint16_t vector_for(const struct vnet_dev *d, unsigned role)
{
	if (d->nvec == 0)
		return VIRTIO_MSI_NO_VECTOR;
	if (role < d->nvec)
		return (uint16_t)role;
	return (uint16_t)(d->nvec - 1);
}

static int setup_irqs(struct vnet_dev *d, bool disabled)
{
	uint16_t got = VIRTIO_MSI_NO_VECTOR;
	int k;

	d->cfg_vector = VIRTIO_MSI_NO_VECTOR;
	if (disabled)
		return 0;
	for (unsigned v = 0; v < VT_MAX_VECTORS; v++) {
		d->irq_fd[v] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (d->irq_fd[v] < 0)
			return -errno;
	}
	k = d->t->ops->irq_setup(d->t, d->irq_fd, VT_MAX_VECTORS);
	if (k < 0) {
		log_warn("cannot bind MSI-X eventfds (%s): polling instead",
			 strerror(-k));
		k = 0;
	}
	d->nvec = (unsigned)k;
	for (unsigned v = d->nvec; v < VT_MAX_VECTORS; v++) {
		close(d->irq_fd[v]);
		d->irq_fd[v] = -1;
	}
	if (d->nvec == 0) {
		log_info("no MSI-X vectors: polling");
		return 0;
	}
	k = d->t->ops->set_config_vector(d->t, vector_for(d, 0), &got);
	if (k < 0)
		return k;
	if (got != vector_for(d, 0))
		log_warn("device refused the config MSI-X vector (read back 0x%04x): polling link status",
			 got);
	else
		d->cfg_vector = got;
	return 0;
}

/* ---- queues (4.1.5.1.3, 5.1.5) --------------------------------------- */

static uint16_t pow2_floor(uint32_t v)
{
	uint32_t p = 1;

	while (p * 2 <= v && p * 2 <= VIRTQ_MAX_SIZE)
		p *= 2;
	return (uint16_t)p;
}

static uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1) & ~(a - 1); }

static int choose_size(struct vnet_dev *d, struct vnet_queue *q, unsigned want)
{
	uint16_t max;
	uint32_t sz;
	int rc = d->t->ops->queue_max(d->t, q->index, &max);

	if (rc < 0)
		return rc;
	if (max == 0) {
		log_err("device has no %s (queue %u size 0)", q->name, q->index);
		return -ENODEV;
	}
	q->max_size = max;
	sz = want ? want : VNET_QUEUE_SIZE_DEFAULT_CAP;
	if (sz > max) {
		if (want)
			log_warn("%s: --queue-size %u above the device maximum %u, using %u",
				 q->name, want, max, max);
		sz = max;
	}
	if (sz > VIRTQ_MAX_SIZE)
		sz = VIRTQ_MAX_SIZE;
	/* 2.7: split rings are a power of two; the device's maximum need not
	 * be (for packed it need not be either, 2.8). */
	if (d->layout == VQ_SPLIT)
		sz = pow2_floor(sz);
	q->size = (uint16_t)sz;
	return 0;
}

static int setup_queue(struct vnet_dev *d, struct vnet_queue *q, unsigned want,
		       uint32_t buf_size)
{
	struct vq_drv_cfg cfg = { 0 };
	struct vt_queue_cfg qc = { 0 };
	void *mem;
	uint64_t gpa;
	uint16_t got = VIRTIO_MSI_NO_VECTOR;
	int rc = choose_size(d, q, want);

	if (rc < 0)
		return rc;
	cfg.layout = d->layout;
	cfg.size = q->size;
	cfg.flags = (has(d, VIRTIO_F_RING_EVENT_IDX) ? VQ_F_EVENT_IDX : 0) |
		    (has(d, VIRTIO_F_RING_INDIRECT_DESC) ? VQ_F_INDIRECT : 0);
	cfg.used_align = VIRTQ_USED_ALIGN;
	/* Every buffer is one descriptor: no indirect tables needed. */
	cfg.indirect_max = 0;
	rc = guest_mem_alloc(&d->ram, vq_drv_mem_size(&cfg), VQ_DRV_MEM_ALIGN,
			     &mem, &gpa);
	if (rc == 0) {
		void *bufs = NULL;

		q->buf_size = buf_size;
		rc = guest_mem_alloc(&d->ram, (size_t)q->size * buf_size, BUF_ALIGN,
				     &bufs, &q->bufs_gpa);
		q->bufs = bufs;
	}
	if (rc < 0) {
		log_err("guest RAM (%llu MiB) too small for the %s (%u x %u-byte buffers); use --ram",
			(unsigned long long)(d->ram.size >> 20), q->name, q->size,
			buf_size);
		return rc;
	}
	q->idx = calloc(q->size, sizeof(*q->idx));
	if (!q->idx)
		return -ENOMEM;
	rc = vq_drv_init(&q->vq, &cfg, mem, gpa);
	if (rc < 0) {
		log_err("%s: ring setup failed: %s", q->name, strerror(-rc));
		return rc;
	}
	q->vq_ready = true;
	vq_drv_disable_cb(&q->vq);	/* vnet_wait arms it */
	qc.index = q->index;
	qc.size = q->size;
	qc.vector = vector_for(d, q == &d->rx ? 1 : 2);
	qc.addrs = q->vq.addrs;
	rc = d->t->ops->queue_setup(d->t, &qc, &got);
	if (rc < 0) {
		log_err("%s: queue setup failed: %s", q->name, strerror(-rc));
		return rc;
	}
	if (qc.vector != VIRTIO_MSI_NO_VECTOR && got != qc.vector) {
		log_warn("device refused MSI-X vector %u for the %s (read back 0x%04x): polling it",
			 qc.vector, q->name, got);
		got = VIRTIO_MSI_NO_VECTOR;
	}
	q->vector = got;
	return 0;
}

/* Buffer sizes follow 5.1.6.3: without MRG_RXBUF every buffer holds a
 * whole frame (1514, MTU + 14, or 65550 with guest GSO) plus the header;
 * with it, 2048-byte buffers and frames span several. */
static void size_buffers(struct vnet_dev *d, uint32_t *rx_buf, uint32_t *tx_buf)
{
	bool guest_gso = (d->drv_features & GUEST_GSO_FEATURES) != 0;
	bool host_gso = (d->drv_features & HOST_GSO_FEATURES) != 0;

	if (!d->mtu_from_device)
		d->mtu = DEFAULT_MTU;
	d->max_tx_frame = (uint32_t)d->mtu + VNET_ETH_HLEN;
	d->max_rx_frame = guest_gso ? VNET_MAX_GSO_FRAME
				    : (uint32_t)d->mtu + VNET_ETH_HLEN + VLAN_HLEN;
	if (d->mrg_rxbuf)
		*rx_buf = RX_BUF_MRG;
	else if (guest_gso)
		*rx_buf = align_up(RX_BUF_GSO, BUF_ALIGN);
	else
		*rx_buf = align_up(NET_HDR_LEN + d->max_rx_frame, BUF_ALIGN);
	if (*rx_buf < RX_BUF_MIN)
		*rx_buf = RX_BUF_MIN;
	if (!d->mrg_rxbuf && d->max_rx_frame > *rx_buf - NET_HDR_LEN)
		d->max_rx_frame = *rx_buf - NET_HDR_LEN;
	*tx_buf = align_up(NET_HDR_LEN + (host_gso ? VNET_MAX_GSO_FRAME : d->max_tx_frame),
			   BUF_ALIGN);
}

/* Posts the RX buffers in q->idx (all at start, the ones handed out by
 * the last vnet_rx_burst later).  No kick here: the caller decides. */
static unsigned rx_post(struct vnet_dev *d)
{
	struct vnet_queue *q = &d->rx;
	unsigned added = 0;

	while (q->nidx > 0) {
		uint16_t i = q->idx[q->nidx - 1];
		struct vq_sg sg = { q->bufs_gpa + (uint64_t)i * q->buf_size, q->buf_size };

		if (vq_drv_add(&q->vq, &sg, 0, 1, idx_token(i)) < 0)
			break;
		q->nidx--;
		added++;
	}
	return added;
}

static void tx_reclaim(struct vnet_dev *d)
{
	struct vnet_queue *q = &d->tx;
	uint32_t len;
	void *tok;
	uint16_t i;

	/* The TX used length means nothing for a driver (5.1.6.2). */
	while (q->nidx < q->size && (tok = vq_drv_get(&q->vq, &len)) != NULL)
		if (token_idx(q, tok, &i))
			q->idx[q->nidx++] = i;
}

/* ---- bring-up (3.1.1) ------------------------------------------------ */

static int dev_init(struct vnet_dev *d, const struct vnet_dev_params *p)
{
	const struct vtransport_ops *ops = d->t->ops;
	uint32_t rx_buf, tx_buf;
	uint16_t nq = 0;
	int rc;

	/* 3.1.1 steps 1-3: reset, ACKNOWLEDGE, DRIVER. */
	d->status_written = true;
	rc = ops->reset(d->t);
	if (rc < 0)
		return rc;
	d->status = VIRTIO_STATUS_ACKNOWLEDGE;
	if ((rc = ops->set_status(d->t, d->status)) < 0)
		return rc;
	d->status |= VIRTIO_STATUS_DRIVER;
	if ((rc = ops->set_status(d->t, d->status)) < 0)
		return rc;
	/* Steps 4-6: features, FEATURES_OK, re-read. */
	rc = negotiate(d, p);
	if (rc < 0)
		return rc;
	/* Step 7: device-specific setup (5.1.5): config, queues, buffers. */
	rc = read_net_config(d, true);
	if (rc < 0) {
		log_err("cannot read the device configuration: %s", strerror(-rc));
		return rc;
	}
	if (!d->mac_from_device)
		random_mac(d->mac);
	if ((rc = ops->num_queues(d->t, &nq)) < 0)
		return rc;
	d->device_queues = nq;
	if (nq < 2) {
		log_err("device has %u queues; a network device needs receiveq and transmitq",
			nq);
		return -ENODEV;
	}
	size_buffers(d, &rx_buf, &tx_buf);
	rc = setup_irqs(d, p->no_interrupts);
	if (rc < 0)
		return rc;
	if ((rc = setup_queue(d, &d->rx, p->queue_size, rx_buf)) < 0 ||
	    (rc = setup_queue(d, &d->tx, p->queue_size, tx_buf)) < 0)
		return rc;
	if (d->mrg_rxbuf) {
		d->reasm = malloc((size_t)REASM_SLOTS * d->max_rx_frame);
		if (!d->reasm)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < d->tx.size; i++)
		d->tx.idx[d->tx.nidx++] = (uint16_t)(d->tx.size - 1 - i);
	for (unsigned i = 0; i < d->rx.size; i++)
		d->rx.idx[d->rx.nidx++] = (uint16_t)(d->rx.size - 1 - i);
	rx_post(d);
	/* Step 8: DRIVER_OK.  Only now may the device be notified (3.1.1). */
	d->status |= VIRTIO_STATUS_DRIVER_OK;
	if ((rc = ops->set_status(d->t, d->status)) < 0)
		return rc;
	kick(d, &d->rx);
	d->last_config_poll = now_ns();
	return 0;
}

int vnet_dev_open(struct vnet_dev **out, const struct vnet_dev_params *p)
{
	uint64_t ram = p->ram_size ? p->ram_size : GUEST_MEM_DEFAULT_SIZE;
	struct vnet_dev *d;
	int rc;

	*out = NULL;
	if (!p->socket_path || (p->queue_size && (p->queue_size > VIRTQ_MAX_SIZE ||
	    (!p->want_packed && (p->queue_size & (p->queue_size - 1)))))) {
		log_err("bad parameters: %s", !p->socket_path ? "no socket path"
			: "queue size must be a power of two up to 32768");
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->vfc.sock = -1;
	d->ram.fd = -1;
	for (unsigned v = 0; v < VT_MAX_VECTORS; v++)
		d->irq_fd[v] = -1;
	d->rx.name = "receiveq";
	d->rx.index = VNET_RXQ;
	d->tx.name = "transmitq";
	d->tx.index = VNET_TXQ;
	d->busy_poll_us = p->busy_poll_us;

	rc = guest_mem_create(&d->ram, ram);
	if (rc < 0) {
		log_err("cannot create %llu bytes of guest RAM: %s",
			(unsigned long long)ram, strerror(-rc));
		goto fail;
	}
	rc = vfc_open(&d->vfc, p->socket_path);
	if (rc == -EBUSY) {
		log_err("device busy: another guest is attached to %s (EBUSY)",
			p->socket_path);
		goto fail;
	} else if (rc < 0) {
		log_err("cannot connect to %s: %s", p->socket_path, strerror(-rc));
		goto fail;
	}
	d->vfc_open = true;
	/* The device reaches guest RAM through this one window, gpa == iova. */
	rc = vfc_dma_map(&d->vfc, 0, d->ram.size, d->ram.fd, 0, true);
	if (rc < 0) {
		log_err("device refused the guest RAM (DMA_MAP): %s", strerror(-rc));
		goto fail;
	}
	d->dma_mapped = true;
	if (!(d->vfc.flags & VFC_DEVICE_FLAGS_PCI)) {
		log_err("%s is not a PCI device (flags 0x%x); virtio-mmio is not supported yet",
			p->socket_path, d->vfc.flags);
		rc = -ENODEV;
		goto fail;
	}
	rc = vt_pci_modern_probe(&d->vfc, &d->t);
	if (rc < 0)
		goto fail;
	rc = dev_init(d, p);
	if (rc < 0) {
		if (d->status_written)
			d->t->ops->set_status(d->t, d->status | VIRTIO_STATUS_FAILED);
		log_err("device initialisation failed: %s", strerror(-rc));
		goto fail;
	}
	*out = d;
	return 0;
fail:
	vnet_dev_close(d);
	return rc;
}

static void queue_free(struct vnet_queue *q)
{
	if (q->vq_ready)
		vq_drv_free(&q->vq);
	q->vq_ready = false;
	free(q->idx);
	q->idx = NULL;
}

void vnet_dev_close(struct vnet_dev *d)
{
	if (!d)
		return;
	if (d->t && !d->gone) {
		/* 3.3: after the reset the device uses no buffer any more, so
		 * the RAM can go. */
		if (d->status_written)
			d->t->ops->reset(d->t);
		d->t->ops->irq_teardown(d->t);
	}
	if (d->dma_mapped && !d->gone)
		vfc_dma_unmap(&d->vfc, 0, d->ram.size);
	if (d->t)
		d->t->ops->destroy(d->t);
	if (d->vfc_open)
		vfc_close(&d->vfc);
	for (unsigned v = 0; v < VT_MAX_VECTORS; v++)
		if (d->irq_fd[v] >= 0)
			close(d->irq_fd[v]);
	queue_free(&d->rx);
	queue_free(&d->tx);
	free(d->reasm);
	guest_mem_destroy(&d->ram);
	free(d);
}

/* ---- transmit (5.1.6.2) ---------------------------------------------- */

/* A caller's header may only ask for what was negotiated. */
static int tx_check(const struct vnet_dev *d, const struct vnet_frame *f)
{
	uint32_t limit = d->max_tx_frame;

	if (f->len < VNET_ETH_HLEN || !f->data)
		return -EINVAL;
	if (f->hdr) {
		uint8_t gso = f->hdr->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
		unsigned need;

		if ((f->hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
		    !has(d, VIRTIO_NET_F_CSUM))
			return -EINVAL;
		switch (gso) {
		case VIRTIO_NET_HDR_GSO_NONE: need = 0; break;
		case VIRTIO_NET_HDR_GSO_TCPV4: need = VIRTIO_NET_F_HOST_TSO4; break;
		case VIRTIO_NET_HDR_GSO_TCPV6: need = VIRTIO_NET_F_HOST_TSO6; break;
		case VIRTIO_NET_HDR_GSO_UDP: need = VIRTIO_NET_F_HOST_UFO; break;
		default: return -EINVAL;
		}
		if (need && !has(d, need))
			return -EINVAL;
		if ((f->hdr->gso_type & VIRTIO_NET_HDR_GSO_ECN) &&
		    !has(d, VIRTIO_NET_F_HOST_ECN))
			return -EINVAL;
		if (need)
			limit = VNET_MAX_GSO_FRAME;
	}
	return f->len > limit ? -EMSGSIZE : 0;
}

int vnet_tx_burst(struct vnet_dev *d, const struct vnet_frame *frames,
		  unsigned n)
{
	struct vnet_queue *q = &d->tx;
	unsigned i;
	int rc = dev_health(d);

	if (rc < 0)
		return rc;
	tx_reclaim(d);
	for (i = 0; i < n; i++) {
		const struct vnet_frame *f = &frames[i];
		struct vq_sg sg;
		uint8_t *buf;
		uint16_t b;

		rc = tx_check(d, f);
		if (rc < 0)
			break;
		if (q->nidx == 0) {
			d->st.tx_ring_full++;
			break;
		}
		b = q->idx[--q->nidx];
		buf = q->bufs + (size_t)b * q->buf_size;
		if (f->hdr) {
			memcpy(buf, f->hdr, NET_HDR_LEN);
			((struct virtio_net_hdr_v1 *)buf)->num_buffers = 0;
		} else {
			memset(buf, 0, NET_HDR_LEN);
		}
		memcpy(buf + NET_HDR_LEN, f->data, f->len);
		sg.gpa = q->bufs_gpa + (uint64_t)b * q->buf_size;
		sg.len = (uint32_t)NET_HDR_LEN + f->len;
		rc = vq_drv_add(&q->vq, &sg, 1, 0, idx_token(b));
		if (rc < 0) {
			q->idx[q->nidx++] = b;
			if (rc == -ENOSPC)
				d->st.tx_ring_full++;
			break;
		}
		d->st.tx_frames++;
		d->st.tx_bytes += f->len;
	}
	if (i > 0)
		kick(d, q);
	if (i == 0 && rc < 0 && rc != -ENOSPC)
		return queue_broken(q) ? -EIO : rc;
	return (int)i;
}

unsigned vnet_tx_space(struct vnet_dev *d)
{
	tx_reclaim(d);
	return d->tx.nidx;
}

/* ---- receive (5.1.6.3, 5.1.6.4) -------------------------------------- */

static void rx_error(struct vnet_dev *d, const char *what, uint32_t v)
{
	d->st.rx_errors++;
	log_rl(LOG_WARN, "receiveq: dropped a frame: %s (%u)", what, v);
}

/* Takes the next used RX buffer and remembers it for reposting. */
static uint8_t *rx_take(struct vnet_dev *d, uint32_t *len)
{
	struct vnet_queue *q = &d->rx;
	void *tok;
	uint16_t i;

	if (q->nidx >= q->size)
		return NULL;
	tok = vq_drv_get(&q->vq, len);
	if (!tok || !token_idx(q, tok, &i))
		return NULL;
	q->idx[q->nidx++] = i;
	return q->bufs + (size_t)i * q->buf_size;
}

/* MRG_RXBUF: the frame continues in nbufs - 1 more buffers (no header in
 * those, 5.1.6.4); gather it into a reassembly slot.  All its buffers are
 * consumed even when the frame is dropped, so the next buffer starts a
 * frame.  Returns the frame length, or 0 after counting an error. */
static uint32_t rx_gather(struct vnet_dev *d, uint8_t *dst, const uint8_t *first,
			  uint32_t first_len, uint16_t nbufs)
{
	uint32_t total = first_len;
	bool fits = first_len <= d->max_rx_frame;

	if (fits)
		memcpy(dst, first, first_len);
	for (uint16_t k = 1; k < nbufs; k++) {
		uint32_t len;
		uint8_t *b = rx_take(d, &len);

		if (!b) {
			/* The device publishes all buffers of a frame at once
			 * (2.7.8): missing ones are a device error. */
			rx_error(d, "num_buffers larger than the buffers used", nbufs);
			return 0;
		}
		if (!fits)
			continue;
		if (len > d->rx.buf_size || len > d->max_rx_frame - total) {
			fits = false;
			continue;
		}
		memcpy(dst + total, b, len);
		total += len;
	}
	if (!fits) {
		rx_error(d, "merged frame longer than the maximum", nbufs);
		return 0;
	}
	return total;
}

int vnet_rx_burst(struct vnet_dev *d, struct vnet_frame *frames, unsigned max)
{
	struct vnet_queue *q = &d->rx;
	unsigned n = 0, slots = 0;
	int rc = dev_health(d);

	if (rc < 0)
		return rc;
	/* The buffers handed out last time come back now, one kick for all. */
	if (rx_post(d))
		kick(d, q);
	if (max > VNET_RX_BURST_MAX)
		max = VNET_RX_BURST_MAX;
	while (n < max && (!d->mrg_rxbuf || slots < REASM_SLOTS)) {
		struct virtio_net_hdr_v1 *hdr;
		uint32_t len, flen;
		uint16_t nbufs = 1;
		uint8_t *buf = rx_take(d, &len), *data;

		if (!buf)
			break;
		if (len < NET_HDR_LEN || len > q->buf_size) {
			rx_error(d, "used length outside the buffer", len);
			continue;
		}
		hdr = (struct virtio_net_hdr_v1 *)buf;
		data = buf + NET_HDR_LEN;
		flen = len - (uint32_t)NET_HDR_LEN;
		if (d->mrg_rxbuf)	/* read once: the device wrote it */
			memcpy(&nbufs, buf + offsetof(struct virtio_net_hdr_v1, num_buffers),
			       sizeof(nbufs));
		if (nbufs != 1) {
			if (nbufs == 0 || nbufs > q->size) {
				rx_error(d, "bad num_buffers", nbufs);
				continue;
			}
			data = d->reasm + (size_t)slots * d->max_rx_frame;
			flen = rx_gather(d, data, buf + NET_HDR_LEN, flen, nbufs);
			if (flen == 0)
				continue;
			slots++;
		}
		if (flen < VNET_ETH_HLEN || flen > d->max_rx_frame) {
			rx_error(d, "bad frame length", flen);
			continue;
		}
		frames[n].data = data;
		frames[n].len = flen;
		frames[n].hdr = hdr;
		n++;
		d->st.rx_frames++;
		d->st.rx_bytes += flen;
	}
	if (n == 0 && queue_broken(q))
		return -EIO;
	return (int)n;
}

/* ---- waiting --------------------------------------------------------- */

static unsigned pending(struct vnet_dev *d, bool want_tx)
{
	unsigned ev = 0;

	if (vq_drv_has_used(&d->rx.vq))
		ev |= VNET_EV_RX;
	if (want_tx) {
		tx_reclaim(d);
		if (d->tx.nidx > 0)
			ev |= VNET_EV_TX;
	}
	if (d->link_event) {
		d->link_event = false;
		ev |= VNET_EV_LINK;
	}
	return ev;
}

static void drain_irq(struct vnet_dev *d, unsigned v)
{
	uint64_t cnt = 0;

	if (read(d->irq_fd[v], &cnt, sizeof(cnt)) != (ssize_t)sizeof(cnt))
		return;
	if (v == d->cfg_vector)
		d->st.irqs_config += cnt;
	if (v == d->rx.vector)
		d->st.irqs_rx += cnt;
	if (v == d->tx.vector)
		d->st.irqs_tx += cnt;
	if (v == d->cfg_vector)
		config_changed(d);
}

/* Arms the callbacks we need; false if work arrived meanwhile. */
static bool arm(struct vnet_dev *d, bool want_tx)
{
	bool idle = vq_drv_enable_cb(&d->rx.vq);

	if (want_tx)
		idle = vq_drv_enable_cb(&d->tx.vq) && idle;
	return idle;
}

static void disarm(struct vnet_dev *d)
{
	vq_drv_disable_cb(&d->rx.vq);
	vq_drv_disable_cb(&d->tx.vq);
}

/* Sleeps in ppoll on the vector eventfds and the control socket (to see
 * the device go away).  Sources without a vector are polled in short
 * slices. */
static int sleep_once(struct vnet_dev *d, uint64_t deadline, bool want_tx)
{
	struct pollfd pfd[VT_MAX_VECTORS + 1];
	unsigned map[VT_MAX_VECTORS + 1];
	unsigned n = 0;
	uint64_t now = now_ns(), slice = deadline > now ? deadline - now : 0;
	bool cfg_polled = d->cfg_vector == VIRTIO_MSI_NO_VECTOR;
	struct timespec ts;
	int rc;

	for (unsigned v = 0; v < d->nvec; v++) {
		if (d->irq_fd[v] < 0)
			continue;
		pfd[n] = (struct pollfd){ .fd = d->irq_fd[v], .events = POLLIN };
		map[n++] = v;
	}
	pfd[n] = (struct pollfd){ .fd = d->vfc.sock, .events = POLLRDHUP };
	map[n++] = VT_MAX_VECTORS;
	if (d->rx.vector == VIRTIO_MSI_NO_VECTOR ||
	    (want_tx && d->tx.vector == VIRTIO_MSI_NO_VECTOR))
		slice = slice < POLLED_SLICE_NS ? slice : POLLED_SLICE_NS;
	if (cfg_polled) {
		uint64_t due = d->last_config_poll + CONFIG_POLL_NS;

		if (now >= due) {
			config_changed(d);
			if (d->link_event || d->needs_reset)
				return 0;
		} else if (due - now < slice) {
			slice = due - now;
		}
	}
	ts.tv_sec = (time_t)(slice / 1000000000u);
	ts.tv_nsec = (long)(slice % 1000000000u);
	d->st.wait_sleeps++;
	rc = ppoll(pfd, n, deadline == UINT64_MAX && slice == deadline - now ? NULL : &ts,
		   NULL);
	if (rc < 0)
		return -errno;
	for (unsigned i = 0; rc > 0 && i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (map[i] == VT_MAX_VECTORS) {
			d->gone = true;
			log_err("the device closed its socket");
			return -ENOTCONN;
		}
		drain_irq(d, map[i]);
	}
	return 0;
}

int vnet_wait(struct vnet_dev *d, int timeout_ms)
{
	uint64_t start = now_ns(), deadline;
	bool want_tx;
	unsigned ev;
	int rc = dev_health(d);

	if (rc < 0)
		return rc;
	d->st.waits++;
	deadline = timeout_ms < 0 ? UINT64_MAX : start + (uint64_t)timeout_ms * 1000000u;
	tx_reclaim(d);
	want_tx = d->tx.nidx == 0;
	ev = pending(d, want_tx);
	if (ev)
		return (int)ev;
	/* Busy-poll first: an eventfd wake-up costs tens of microseconds. */
	if (d->busy_poll_us) {
		uint64_t until = start + (uint64_t)d->busy_poll_us * 1000u;

		while (!(ev = pending(d, want_tx)) && now_ns() < until)
			cpu_relax();
		if (ev)
			return (int)ev;
	}
	for (;;) {
		if (!arm(d, want_tx)) {
			ev = pending(d, want_tx);
			if (ev)
				break;
		}
		rc = sleep_once(d, deadline, want_tx);
		disarm(d);
		if (rc < 0)
			return rc;
		if ((rc = dev_health(d)) < 0)
			return rc;
		ev = pending(d, want_tx);
		if (ev || now_ns() >= deadline)
			break;
	}
	disarm(d);
	return (int)ev;
}

int vnet_tx_drain(struct vnet_dev *d, int timeout_ms)
{
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX
			    : now_ns() + (uint64_t)timeout_ms * 1000000u;
	int rc;

	for (;;) {
		if ((rc = dev_health(d)) < 0)
			return rc;
		tx_reclaim(d);
		if (d->tx.nidx == d->tx.size)
			return 0;
		if (now_ns() >= deadline)
			return -ETIMEDOUT;
		rc = 0;
		/* Ask for a TX interrupt only while waiting here (2.7.7). */
		if (vq_drv_enable_cb(&d->tx.vq))
			rc = sleep_once(d, deadline, true);
		disarm(d);
		if (rc < 0)
			return rc;
	}
}

/* ---- information ----------------------------------------------------- */

bool vnet_link_up(const struct vnet_dev *d) { return d->link_up; }
void vnet_mac(const struct vnet_dev *d, uint8_t mac[6]) { memcpy(mac, d->mac, 6); }
uint32_t vnet_max_tx_frame(const struct vnet_dev *d) { return d->max_tx_frame; }

static void queue_info(struct vnet_dev *d, const struct vnet_queue *q,
		       struct vnet_queue_info *qi)
{
	qi->name = q->name;
	qi->index = q->index;
	qi->size = q->size;
	qi->max_size = q->max_size;
	qi->vector = q->vector;
	qi->kick = d->t->ops->notify_kind(d->t, q->index);
	qi->buf_size = q->buf_size;
}

void vnet_dev_info(struct vnet_dev *d, struct vnet_info *out)
{
	unsigned polled = (d->cfg_vector == VIRTIO_MSI_NO_VECTOR && d->has_status) +
			  (d->rx.vector == VIRTIO_MSI_NO_VECTOR) +
			  (d->tx.vector == VIRTIO_MSI_NO_VECTOR);

	memset(out, 0, sizeof(*out));
	out->transport = d->t->name;
	out->ring = d->layout == VQ_PACKED ? "packed" : "split";
	out->device_features = d->dev_features;
	out->driver_features = d->drv_features;
	memcpy(out->mac, d->mac, 6);
	out->mac_from_device = d->mac_from_device;
	out->link_up = d->link_up;
	out->link_reported = d->has_status;
	out->mtu = d->mtu;
	out->mtu_from_device = d->mtu_from_device;
	out->max_tx_frame = d->max_tx_frame;
	out->max_rx_frame = d->max_rx_frame;
	out->device_queues = d->device_queues;
	out->nqueues = 2;
	queue_info(d, &d->rx, &out->queues[0]);
	queue_info(d, &d->tx, &out->queues[1]);
	out->interrupts = d->nvec == 0 || polled == 3 ? "polling"
			  : polled ? "mixed" : "msix";
	out->msix_vectors = d->nvec;
	out->needs_reset = d->needs_reset;
	out->broken = d->rx.vq.broken || d->tx.vq.broken;
	out->ram_size = d->ram.size;
	out->ram_used = d->ram.used;
	out->stats = d->st;
}
