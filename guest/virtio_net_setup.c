// SPDX-License-Identifier: MIT
/*
 * virtio_net_setup.c - bringing the device up (3.1.1, 5.1.5), resetting
 * it mid-life (2.4) and tearing it down (3.3).
 *
 * Open probes the transport (PCI: modern or legacy; platform: MMIO),
 * negotiates, carves every ring and buffer out of guest RAM once, and
 * goes DRIVER_OK.  A reset reuses that memory: the device is reset, the
 * rings are laid out afresh in the same place, the same features are
 * negotiated again, and the control-queue state is replayed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/net_hdr.h"
#include "guest/virtio_net_priv.h"

#define RX_BUF_MRG	2048u	/* per-buffer size with MRG_RXBUF */
#define RX_BUF_MIN	2048u	/* >= 12 + 1514 (5.1.6.3) */
#define BUF_ALIGN	64u
#define VLAN_HLEN	4u
#define MIN_MTU		68u	/* RFC 791 minimum, as Linux checks */
#define DEFAULT_MTU	1500u

#define GUEST_GSO_FEATURES (VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6) | \
			    VIRTIO_BIT(VIRTIO_NET_F_GUEST_UFO))
#define HOST_GSO_FEATURES  (VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) | \
			    VIRTIO_BIT(VIRTIO_NET_F_HOST_UFO))
#define CTRL_FEATURES	   (VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) | \
			    VIRTIO_BIT(VIRTIO_NET_F_NOTF_COAL) | VIRTIO_BIT(VIRTIO_NET_F_VQ_NOTF_COAL) | \
			    VIRTIO_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) | \
			    VIRTIO_BIT(VIRTIO_NET_F_MQ) | VIRTIO_BIT(VIRTIO_NET_F_RSS) | \
			    VIRTIO_BIT(VIRTIO_NET_F_HASH_REPORT))

/* 5.1.2's names, pair k counted from 1 (the first pair keeps the plain
 * names). */
static const char *const rx_names[VNET_MAX_PAIRS] = {
	"receiveq", "receiveq2", "receiveq3", "receiveq4",
	"receiveq5", "receiveq6", "receiveq7", "receiveq8",
};
static const char *const tx_names[VNET_MAX_PAIRS] = {
	"transmitq", "transmitq2", "transmitq3", "transmitq4",
	"transmitq5", "transmitq6", "transmitq7", "transmitq8",
};

static bool legacy(const struct vnet_dev *d) { return d->t->flags & VT_F_LEGACY; }

/* ---- features (2.2, 5.1.3) ------------------------------------------- */

static uint64_t choose_features(const struct vnet_dev *d, uint64_t offered)
{
	const struct vnet_dev_params *p = &d->params;
	uint64_t want = VNET_DRIVER_FEATURES, f;

	if (p->want_offloads)
		want |= VNET_OFFLOAD_FEATURES;
	if (p->want_packed && d->t->packed_ok)
		want |= VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	if (p->queue_pairs > 1)
		want |= VIRTIO_BIT(VIRTIO_NET_F_MQ);
	if (p->queue_pairs > 1 && p->want_rss)
		want |= VIRTIO_BIT(VIRTIO_NET_F_RSS);
	if (p->want_hash_report)
		want |= VIRTIO_BIT(VIRTIO_NET_F_HASH_REPORT);
	f = offered & want & ~p->decline_features;
	if (legacy(d))
		f &= UINT64_C(0xffffffff);	/* 4.1.4.10 / 4.2.4: 32 bits */
	/* 5.1.3.1: drop what lacks its prerequisite. */
	if (!(f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)))
		f &= ~GUEST_GSO_FEATURES;
	if (!(f & (VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6))))
		f &= ~VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN);
	if (!(f & VIRTIO_BIT(VIRTIO_NET_F_CSUM)))
		f &= ~HOST_GSO_FEATURES;
	if (!(f & (VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6))))
		f &= ~VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN);
	/* 5.1.4.1: not HASH_REPORT without CTRL_VQ either (nothing could
	 * turn a hash type on). */
	if (!(f & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ)))
		f &= ~CTRL_FEATURES;
	if (!(f & VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX)))
		f &= ~VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX_EXTRA);
	return f;
}

/* Steps 4-6 of 3.1.1 with the features f.  A legacy device has no
 * FEATURES_OK step (3.1.2): it takes what it is given. */
static int write_features(struct vnet_dev *d, uint64_t f)
{
	const struct vtransport_ops *ops = d->t->ops;
	uint8_t s = 0;
	int rc = ops->set_driver_features(d->t, f);

	if (rc < 0 || legacy(d))
		return rc;
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
	return 0;
}

static int negotiate(struct vnet_dev *d)
{
	uint64_t f;
	uint16_t mtu = 0;
	int rc = d->t->ops->get_device_features(d->t, &d->dev_features);

	if (rc < 0)
		return rc;
	f = choose_features(d, d->dev_features);
	if (!legacy(d) && !(f & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		log_err("device does not offer VERSION_1 (features 0x%016llx)%s",
			(unsigned long long)d->dev_features,
			(d->dev_features & VIRTIO_BIT(VIRTIO_F_VERSION_1)) ? " or it was declined" : "");
		return -ENOTSUP;
	}
	/* 5.1.4.1: an MTU below the IPv4 minimum is not usable; decline the
	 * feature rather than trust it (config space is readable here). */
	if (f & VIRTIO_BIT(VIRTIO_NET_F_MTU)) {
		rc = vn_read_mtu(d, &mtu);
		if (rc < 0 || mtu < MIN_MTU) {
			log_warn("device MTU %u unusable, feature declined", mtu);
			f &= ~VIRTIO_BIT(VIRTIO_NET_F_MTU);
		}
	}
	rc = write_features(d, f);
	if (rc < 0)
		return rc;
	d->drv_features = f;
	/* The MTU as read and checked above, once (never read again). */
	d->mtu_from_device = (f & VIRTIO_BIT(VIRTIO_NET_F_MTU)) != 0;
	if (d->mtu_from_device)
		d->mtu = mtu;
	d->layout = (f & VIRTIO_BIT(VIRTIO_F_RING_PACKED)) ? VQ_PACKED : VQ_SPLIT;
	d->mrg_rxbuf = (f & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	d->has_status = (f & VIRTIO_BIT(VIRTIO_NET_F_STATUS)) != 0;
	d->has_ctrl = (f & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ)) != 0;
	/* The header rule (common/net_hdr.c): 20 with HASH_REPORT (5.1.6),
	 * 10 for legacy without MRG_RXBUF (5.1.6.1), else 12. */
	d->hdr_len = net_hdr_len(f, legacy(d));
	/* 5.1.6.6.1: a legacy driver without ANY_LAYOUT gives the header a
	 * descriptor of its own. */
	d->hdr_separate = legacy(d) && !(f & VIRTIO_BIT(VIRTIO_F_ANY_LAYOUT));
	return 0;
}

/* ---- interrupts (4.1.5.1.2, 4.2.3.4) --------------------------------- */

/* Vector 0 config, then receiveq k at 1 + 2k and transmitq k at 2 + 2k
 * (the control queue is waited on synchronously and needs none); with
 * fewer vectors the queues share the last. */
static uint16_t vector_for(const struct vnet_dev *d, unsigned role)
{
	if (d->irq_mode != IRQ_MSIX || d->nvec == 0)
		return VIRTIO_MSI_NO_VECTOR;
	return (uint16_t)(role < d->nvec ? role : d->nvec - 1);
}

static void close_fds(struct vnet_dev *d, unsigned from)
{
	for (unsigned v = from; v < VT_MAX_VECTORS; v++) {
		if (d->irq_fd[v] >= 0)
			close(d->irq_fd[v]);
		d->irq_fd[v] = -1;
	}
}

/* MSI-X when the transport has it and it was not declined; else the
 * line (INTx, the MMIO interrupt); else polling. */
static int setup_irqs(struct vnet_dev *d)
{
	const struct vnet_dev_params *p = &d->params;
	int k;

	d->irq_mode = IRQ_POLL;
	d->nvec = 0;
	if (p->no_interrupts)
		return 0;
	for (unsigned v = 0; v < VT_MAX_VECTORS; v++) {
		d->irq_fd[v] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (d->irq_fd[v] < 0)
			return -errno;
	}
	if (!p->use_intx) {
		k = d->t->ops->irq_setup(d->t, d->irq_fd, VT_MAX_VECTORS);
		if (k < 0)
			log_warn("cannot bind MSI-X eventfds (%s)", strerror(-k));
		if (k > 0) {
			d->irq_mode = IRQ_MSIX;
			d->nvec = (unsigned)k;
			close_fds(d, d->nvec);
			return 0;
		}
	}
	close_fds(d, 1);
	k = d->t->ops->line_setup(d->t, d->irq_fd[0]);
	if (k == 0) {
		d->irq_mode = IRQ_LINE;
		return 0;
	}
	log_warn("no interrupt %s (%s): polling",
		 p->use_intx ? "line" : "vector or line", strerror(-k));
	close_fds(d, 0);
	return 0;
}

static int program_config_vector(struct vnet_dev *d)
{
	uint16_t want = vector_for(d, 0), got = VIRTIO_MSI_NO_VECTOR;
	int rc;

	d->cfg_vector = VIRTIO_MSI_NO_VECTOR;
	if (want == VIRTIO_MSI_NO_VECTOR)
		return 0;
	rc = d->t->ops->set_config_vector(d->t, want, &got);
	if (rc < 0)
		return rc;
	if (got != want)
		log_warn("device refused the config MSI-X vector (read back 0x%04x): polling link status",
			 got);
	else
		d->cfg_vector = got;
	return 0;
}

/* ---- queues (4.1.5.1.3, 4.2.3.2, 5.1.5) ------------------------------ */

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
	if (d->t->flags & VT_F_FIXED_QSIZE) {
		/* 4.1.4.10: a legacy PCI queue has the device's size. */
		if (want && want != max && q != &d->ctrl)
			log_warn("%s: the legacy device's queue size is %u; --queue-size %u ignored",
				 q->name, max, want);
		if (max > VIRTQ_MAX_SIZE || (max & (max - 1))) {
			log_err("%s: device queue size %u is not a power of two up to %u",
				q->name, max, VIRTQ_MAX_SIZE);
			return -EINVAL;
		}
		q->size = max;
		return 0;
	}
	sz = want ? want : VNET_QUEUE_SIZE_DEFAULT_CAP;
	if (sz > max) {
		if (want && q != &d->ctrl)
			log_warn("%s: --queue-size %u above the device maximum %u, using %u",
				 q->name, want, max, max);
		sz = max;
	}
	if (sz > VIRTQ_MAX_SIZE)
		sz = VIRTQ_MAX_SIZE;
	/* 2.7: split rings are a power of two; 2.8: packed need not be. */
	if (d->layout == VQ_SPLIT)
		sz = pow2_floor(sz);
	q->size = (uint16_t)sz;
	return 0;
}

/* Carves the ring and (n_bufs x buf_size) buffers out of guest RAM. */
static int alloc_queue(struct vnet_dev *d, struct vnet_queue *q, unsigned want,
		       uint32_t buf_size, unsigned indirect_max, bool has_bufs)
{
	struct vq_drv_cfg *cfg = &q->cfg;
	int rc = choose_size(d, q, want);

	if (rc < 0)
		return rc;
	memset(cfg, 0, sizeof(*cfg));
	cfg->layout = d->layout;
	cfg->size = q->size;
	cfg->flags = (vn_has(d, VIRTIO_F_RING_EVENT_IDX) ? VQ_F_EVENT_IDX : 0) |
		     (vn_has(d, VIRTIO_F_RING_INDIRECT_DESC) ? VQ_F_INDIRECT : 0) |
		     (vn_has(d, VIRTIO_F_IN_ORDER) ? VQ_F_IN_ORDER : 0);
	cfg->used_align = d->t->used_align;
	cfg->indirect_max = (cfg->flags & VQ_F_INDIRECT) ? (uint16_t)indirect_max : 0;
	rc = guest_mem_alloc(&d->ram, vq_drv_mem_size(cfg), VQ_DRV_MEM_ALIGN,
			     &q->ring, &q->ring_gpa);
	if (rc == 0 && has_bufs) {
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
	return q->idx ? 0 : -ENOMEM;
}

/* Lays the ring out (afresh after a reset) and hands it to the device. */
static int start_queue(struct vnet_dev *d, struct vnet_queue *q, uint16_t vector)
{
	struct vt_queue_cfg qc = { 0 };
	uint16_t got = VIRTIO_MSI_NO_VECTOR;
	int rc;

	if (q->vq_ready)
		vq_drv_free(&q->vq);
	q->vq_ready = false;
	q->broken_logged = false;
	rc = vq_drv_init(&q->vq, &q->cfg, q->ring, q->ring_gpa);
	if (rc < 0) {
		log_err("%s: ring setup failed: %s", q->name, strerror(-rc));
		return rc;
	}
	q->vq_ready = true;
	vq_drv_disable_cb(&q->vq);	/* vnet_wait arms it */
	qc.index = q->index;
	qc.size = q->size;
	qc.vector = vector;
	qc.addrs = q->vq.addrs;
	rc = d->t->ops->queue_setup(d->t, &qc, &got);
	if (rc < 0) {
		log_err("%s: queue setup failed: %s", q->name, strerror(-rc));
		return rc;
	}
	if (vector != VIRTIO_MSI_NO_VECTOR && got != vector) {
		log_warn("device refused MSI-X vector %u for the %s (read back 0x%04x): polling it",
			 vector, q->name, got);
		got = VIRTIO_MSI_NO_VECTOR;
	}
	q->vector = got;
	return 0;
}

/* Every buffer free again: TX all free, RX all to be posted. */
static void refill_indices(struct vnet_queue *q)
{
	q->nidx = 0;
	for (unsigned i = 0; i < q->size; i++)
		q->idx[q->nidx++] = (uint16_t)(q->size - 1 - i);
}

static int start_queues(struct vnet_dev *d)
{
	int rc = program_config_vector(d);

	for (unsigned k = 0; rc == 0 && k < d->npairs; k++)
		if ((rc = start_queue(d, &d->rxq[k], vector_for(d, 1 + 2 * k))) == 0)
			rc = start_queue(d, &d->txq[k], vector_for(d, 2 + 2 * k));
	if (rc < 0)
		return rc;
	if (d->has_ctrl && (rc = start_queue(d, &d->ctrl, VIRTIO_MSI_NO_VECTOR)) < 0)
		return rc;
	for (unsigned k = 0; k < d->npairs; k++) {
		refill_indices(&d->txq[k]);
		refill_indices(&d->rxq[k]);
		vn_rx_post(d, &d->rxq[k]);
	}
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
	else if (guest_gso)	/* 5.1.6.3: 65562, or 65570 with HASH_REPORT */
		*rx_buf = align_up(d->hdr_len + VNET_MAX_GSO_FRAME + 1, BUF_ALIGN);
	else
		*rx_buf = align_up(d->hdr_len + d->max_rx_frame, BUF_ALIGN);
	if (*rx_buf < RX_BUF_MIN)
		*rx_buf = RX_BUF_MIN;
	if (!d->mrg_rxbuf && d->max_rx_frame > *rx_buf - d->hdr_len)
		d->max_rx_frame = *rx_buf - d->hdr_len;
	*tx_buf = align_up(d->hdr_len + (host_gso ? VNET_MAX_GSO_FRAME : d->max_tx_frame),
			   BUF_ALIGN);
}

/* ---- bring-up (3.1.1) ------------------------------------------------ */

/* Steps 1-3: reset, ACKNOWLEDGE, DRIVER. */
static int status_start(struct vnet_dev *d)
{
	const struct vtransport_ops *ops = d->t->ops;
	int rc;

	d->status_written = true;
	d->status = 0;
	rc = ops->reset(d->t);
	if (rc < 0)
		return rc;
	d->status = VIRTIO_STATUS_ACKNOWLEDGE;
	if ((rc = ops->set_status(d->t, d->status)) < 0)
		return rc;
	d->status |= VIRTIO_STATUS_DRIVER;
	return ops->set_status(d->t, d->status);
}

/* Step 8: DRIVER_OK.  Only now may the device be notified (3.1.1). */
static int driver_ok(struct vnet_dev *d)
{
	int rc;

	d->status |= VIRTIO_STATUS_DRIVER_OK;
	rc = d->t->ops->set_status(d->t, d->status);
	if (rc < 0)
		return rc;
	for (unsigned k = 0; k < d->npairs; k++)
		vn_kick(d, &d->rxq[k]);
	d->last_config_poll = now_ns();
	return 0;
}

/* What the device takes for RSS or HASH_REPORT (5.1.4: the key size and
 * hash types exist with either, the table length with RSS), read once;
 * the default configuration follows from it. */
static int read_rss_limits(struct vnet_dev *d)
{
	struct vt_cfg_field f[3] = {
		{ offsetof(struct virtio_net_config, rss_max_key_size), 1, &d->rss_max_key },
		{ offsetof(struct virtio_net_config, supported_hash_types), 4, &d->rss_types },
		{ offsetof(struct virtio_net_config, rss_max_indirection_table_length), 2,
		  &d->rss_max_table },
	};
	bool rss = vn_has(d, VIRTIO_NET_F_RSS);
	int rc = vt_config_read(d->t, f, rss ? 3 : 2);

	if (rc < 0)
		return rc;
	if (d->rss_max_key == 0 || (rss && d->rss_max_table == 0)) {
		log_err("device offers RSS with a %u-byte key and %u-entry table", d->rss_max_key,
			d->rss_max_table);
		return -EINVAL;
	}
	vn_rss_default(d);
	return 0;
}

/* How many pairs: what the caller asked for, up to what the device has
 * (max_virtqueue_pairs, read once, 5.1.4: 1..0x8000 with MQ) and what
 * the driver sets up.  Queue indexes follow 5.1.2. */
static int choose_pairs(struct vnet_dev *d, uint16_t nq)
{
	uint16_t max = 1;
	unsigned want = d->params.queue_pairs ? d->params.queue_pairs : 1;
	bool pairs = vnet_has_pairs(d->drv_features);

	if (pairs) {
		struct vt_cfg_field f = { offsetof(struct virtio_net_config, max_virtqueue_pairs),
					  2, &max };
		int rc = vt_config_read(d->t, &f, 1);

		if (rc < 0)
			return rc;
		if (max < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || max > VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX) {
			log_err("device reports max_virtqueue_pairs %u; 5.1.4 allows 1..%u", max,
				VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX);
			return -EINVAL;
		}
	}
	d->max_pairs = max;
	d->npairs = want < max ? want : max;
	if (d->npairs > VNET_MAX_PAIRS)
		d->npairs = VNET_MAX_PAIRS;
	if (want > d->npairs)
		log_warn("%u queue pairs asked for; the device has %u%s, using %u", want, max,
			 pairs ? "" : " (no MQ)", d->npairs);
	d->ctrl.index = (uint16_t)vnet_ctrlq(max, d->drv_features);
	if (nq < 2 * d->npairs || (d->has_ctrl && nq <= d->ctrl.index)) {
		log_err("device has %u queues; %u pairs%s need %u", nq, d->npairs,
			d->has_ctrl ? " and the controlq" : "",
			d->has_ctrl ? d->ctrl.index + 1u : 2 * d->npairs);
		return -ENODEV;
	}
	for (unsigned k = 0; k < d->npairs; k++) {
		d->rxq[k].index = (uint16_t)vnet_rxq(k);
		d->txq[k].index = (uint16_t)vnet_txq(k);
	}
	return vn_has(d, VIRTIO_NET_F_RSS) || vn_has(d, VIRTIO_NET_F_HASH_REPORT)
		       ? read_rss_limits(d)
		       : 0;
}

static int dev_init(struct vnet_dev *d)
{
	const struct vnet_dev_params *p = &d->params;
	uint32_t rx_buf, tx_buf;
	uint16_t nq = 0;
	int rc;

	if ((rc = status_start(d)) < 0 || (rc = negotiate(d)) < 0)
		return rc;
	/* Step 7: device-specific setup (5.1.5): config, queues, buffers. */
	rc = vn_read_net_config(d, true);
	if (rc < 0) {
		log_err("cannot read the device configuration: %s", strerror(-rc));
		return rc;
	}
	if (!d->mac_from_device)
		vn_random_mac(d->mac);
	if ((rc = d->t->ops->num_queues(d->t, &nq)) < 0)
		return rc;
	d->device_queues = nq;
	if ((rc = choose_pairs(d, nq)) < 0)
		return rc;
	size_buffers(d, &rx_buf, &tx_buf);
	if ((rc = setup_irqs(d)) < 0)
		return rc;
	/* Guest page 0 holds no ring: to a legacy device PFN 0 means "no
	 * queue" (4.1.4.10, 4.2.4), as address 0 is null to many. */
	{
		void *page0;

		if ((rc = guest_mem_alloc(&d->ram, 4096, 4096, &page0, NULL)) < 0)
			return rc;
	}
	/* A header in its own descriptor makes an RX buffer a 2-chain. */
	for (unsigned k = 0; k < d->npairs; k++)
		if ((rc = alloc_queue(d, &d->rxq[k], p->queue_size, rx_buf,
				      d->hdr_separate ? 2 : 0, true)) < 0 ||
		    (rc = alloc_queue(d, &d->txq[k], p->queue_size, tx_buf,
				      d->hdr_separate ? 2 : 0, true)) < 0)
			return rc;
	if (d->has_ctrl) {
		void *area;

		if ((rc = alloc_queue(d, &d->ctrl, CTRL_QUEUE_SIZE, 0, 4, false)) < 0)
			return rc;
		rc = guest_mem_alloc(&d->ram, CTRL_AREA_SIZE, BUF_ALIGN, &area,
				     &d->ctrl_gpa);
		if (rc < 0)
			return rc;
		d->ctrl_buf = area;
	}
	if (d->mrg_rxbuf) {
		d->reasm = malloc((size_t)REASM_SLOTS * d->max_rx_frame);
		if (!d->reasm)
			return -ENOMEM;
	}
	if ((rc = start_queues(d)) < 0 || (rc = driver_ok(d)) < 0)
		return rc;
	/* 5.1.6.5.5: the other pairs are used once the device took them. */
	if ((rc = vn_ctrl_pairs(d)) < 0) {
		log_err("device refused %u queue pairs: %s", d->npairs, strerror(-rc));
		return rc;
	}
	if ((rc = vn_ctrl_hash(d)) < 0)
		log_err("device refused the hash configuration: %s", strerror(-rc));
	return rc;
}

int vn_probe(struct vfc_device *vfc, const char *path, struct vtransport **t)
{
	if (vfc->flags & VFC_DEVICE_FLAGS_PCI)
		return vt_pci_probe(vfc, t);
	if (vfc->flags & VFC_DEVICE_FLAGS_PLATFORM)
		return vt_mmio_probe(vfc, t);
	log_err("%s is neither a PCI nor a platform device (flags 0x%x)", path, vfc->flags);
	return -ENODEV;
}

static int probe(struct vnet_dev *d)
{
	return vn_probe(&d->vfc, d->params.socket_path, &d->t);
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
	d->params = *p;
	d->vfc.sock = -1;
	d->ram.fd = -1;
	for (unsigned v = 0; v < VT_MAX_VECTORS; v++)
		d->irq_fd[v] = -1;
	for (unsigned k = 0; k < VNET_MAX_PAIRS; k++) {
		d->rxq[k].name = rx_names[k];
		d->rxq[k].index = (uint16_t)vnet_rxq(k);
		d->txq[k].name = tx_names[k];
		d->txq[k].index = (uint16_t)vnet_txq(k);
	}
	d->npairs = 1;
	d->max_pairs = 1;
	d->ctrl.name = "controlq";
	d->ctrl.index = VNET_CTRLQ;
	vn_ctrl_state_init(&d->cs);

	rc = p->hugepages ? guest_mem_create_huge(&d->ram, ram) : guest_mem_create(&d->ram, ram);
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
	if ((rc = probe(d)) < 0)
		goto fail;
	rc = dev_init(d);
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

/* ---- reset (2.4) ----------------------------------------------------- */

int vnet_dev_reset(struct vnet_dev *d)
{
	uint32_t len;
	int rc;

	if (d->gone)
		return -ENOTCONN;
	/* What the device finished but we did not take is lost; what is
	 * still queued for TX is lost too.  Count, then forget. */
	vn_tx_reclaim(d);
	for (unsigned k = 0; k < d->npairs; k++) {
		struct vnet_queue *rx = &d->rxq[k];

		if (rx->vq_ready && !rx->vq.broken)
			while (vq_drv_get(&rx->vq, &len))
				d->st.rx_lost_reset++;
		d->st.tx_lost_reset += d->txq[k].size - d->txq[k].nidx;
	}
	d->needs_reset = false;
	d->ctrl_stuck = false;
	d->announce_pending = false;
	vn_drain_irqs(d);
	/* 3.1.1 again with the features we had: the device must accept
	 * them, it accepted them before. */
	if ((rc = status_start(d)) < 0 || (rc = write_features(d, d->drv_features)) < 0 ||
	    (rc = start_queues(d)) < 0 || (rc = driver_ok(d)) < 0) {
		log_err("device reset failed: %s", strerror(-rc));
		d->needs_reset = true;
		return rc;
	}
	if (d->has_status && vn_read_net_config(d, false) < 0)
		log_rl(LOG_WARN, "cannot read device configuration after reset");
	rc = vn_ctrl_replay(d);
	if (rc < 0) {
		log_err("device reset: replaying control state failed: %s", strerror(-rc));
		return rc;
	}
	d->st.resets++;
	log_info("device reset and up again");
	return 0;
}

/* ---- close (3.3) ----------------------------------------------------- */

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
	close_fds(d, 0);
	for (unsigned k = 0; k < VNET_MAX_PAIRS; k++) {
		queue_free(&d->rxq[k]);
		queue_free(&d->txq[k]);
	}
	queue_free(&d->ctrl);
	free(d->reasm);
	guest_mem_destroy(&d->ram);
	free(d);
}
