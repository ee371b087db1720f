// SPDX-License-Identifier: MIT
/*
 * virtio_net_config.c - the device configuration (5.1.4): MAC, link state
 * and announcement requests, DEVICE_NEEDS_RESET (2.1.2) seen on a config
 * change, and what vnet_dev_info reports.
 */
#include <string.h>
#include <sys/random.h>

#include "common/log.h"
#include "guest/virtio_net_priv.h"

int vn_read_mtu(struct vnet_dev *d, uint16_t *mtu)
{
	struct vt_cfg_field f = { offsetof(struct virtio_net_config, mtu), 2, mtu };

	return vt_config_read(d->t, &f, 1);
}

void vn_random_mac(uint8_t mac[6])
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

/* Reads MAC, link status, speed and duplex as one snapshot (2.5
 * generation).  Not initial: all but the MAC.  The MTU is not here: it was
 * read once, and checked, while negotiating (5.1.4.1), and a second read
 * could only bring a value that was never checked. */
int vn_read_net_config(struct vnet_dev *d, bool initial)
{
	uint8_t mac[6];
	uint16_t status = VIRTIO_NET_S_LINK_UP;
	uint32_t speed = VIRTIO_NET_SPEED_UNKNOWN;
	uint8_t duplex = VIRTIO_NET_DUPLEX_UNKNOWN;
	struct vt_cfg_field f[10];
	unsigned n = 0;
	int rc;

	if (initial && vn_has(d, VIRTIO_NET_F_MAC))
		for (unsigned i = 0; i < 6; i++)
			f[n++] = (struct vt_cfg_field){ (uint32_t)i, 1, &mac[i] };
	if (vn_has(d, VIRTIO_NET_F_STATUS))
		f[n++] = (struct vt_cfg_field){
			offsetof(struct virtio_net_config, status), 2, &status };
	/* 5.1.4.2: speed and duplex may change, with a config change. */
	if (vn_has(d, VIRTIO_NET_F_SPEED_DUPLEX)) {
		f[n++] = (struct vt_cfg_field){
			offsetof(struct virtio_net_config, speed), 4, &speed };
		f[n++] = (struct vt_cfg_field){
			offsetof(struct virtio_net_config, duplex), 1, &duplex };
	}
	/* Nothing to read (neither MAC nor STATUS negotiated) still
	 * leaves the link up below: 5.1.4.2. */
	if (n > 0) {
		rc = vt_config_read(d->t, f, n);
		if (rc < 0)
			return rc;
	}
	/* 5.1.4: anything but 0..0x7fffffff Mbit/s and half or full is
	 * unknown, whatever the device wrote. */
	d->speed = speed <= VIRTIO_NET_SPEED_MAX ? speed : VIRTIO_NET_SPEED_UNKNOWN;
	d->duplex = duplex == VIRTIO_NET_DUPLEX_FULL || duplex == VIRTIO_NET_DUPLEX_HALF
			    ? duplex : VIRTIO_NET_DUPLEX_UNKNOWN;
	/* 5.1.6.5.4: the device asks to be announced (a new network). */
	if (vn_has(d, VIRTIO_NET_F_GUEST_ANNOUNCE) && (status & VIRTIO_NET_S_ANNOUNCE))
		d->announce_pending = true;
	if (initial) {
		if (vn_has(d, VIRTIO_NET_F_MAC)) {
			memcpy(d->mac, mac, 6);
			d->mac_from_device = true;
			if (mac[0] & 1)
				log_warn("device MAC is a multicast address");
		}
		/* 5.1.4.2: without STATUS the link is assumed up. */
		d->link_up = (status & VIRTIO_NET_S_LINK_UP) != 0;
		return 0;
	}
	set_link(d, (status & VIRTIO_NET_S_LINK_UP) != 0);
	return 0;
}

/* A config change (interrupt, or a poll without one): the device may
 * have set DEVICE_NEEDS_RESET (2.1.2), changed the link, or asked for an
 * announcement. */
void vn_config_changed(struct vnet_dev *d)
{
	uint8_t s;

	d->last_config_poll = now_ns();
	if (d->t->ops->get_status(d->t, &s) == 0 &&
	    (s & VIRTIO_STATUS_DEVICE_NEEDS_RESET) && !d->needs_reset) {
		d->needs_reset = true;
		log_err("device set DEVICE_NEEDS_RESET (status 0x%02x): it stopped working and must be reset",
			s);
	}
	if ((d->has_status || vn_has(d, VIRTIO_NET_F_SPEED_DUPLEX)) &&
	    vn_read_net_config(d, false) < 0)
		log_rl(LOG_WARN, "cannot read device configuration");
}

/* ---- information ----------------------------------------------------- */

bool vnet_link_up(const struct vnet_dev *d) { return d->link_up; }
void vnet_mac(const struct vnet_dev *d, uint8_t mac[6]) { memcpy(mac, d->mac, 6); }
uint32_t vnet_max_tx_frame(const struct vnet_dev *d) { return d->max_tx_frame; }

bool vnet_link_speed(const struct vnet_dev *d, uint32_t *mbps, uint8_t *duplex)
{
	*mbps = d->speed;
	*duplex = d->duplex;
	return d->speed != VIRTIO_NET_SPEED_UNKNOWN || d->duplex != VIRTIO_NET_DUPLEX_UNKNOWN;
}

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

static const char *irq_name(const struct vnet_dev *d)
{
	unsigned polled;

	if (d->irq_mode == IRQ_LINE)
		return d->t->line_name;
	if (d->irq_mode == IRQ_POLL)
		return "polling";
	polled = (d->cfg_vector == VIRTIO_MSI_NO_VECTOR && d->has_status);
	for (unsigned k = 0; k < d->npairs; k++)
		polled += (d->rxq[k].vector == VIRTIO_MSI_NO_VECTOR) +
			  (d->txq[k].vector == VIRTIO_MSI_NO_VECTOR);
	return polled == 1 + 2 * d->npairs ? "polling" : polled ? "mixed" : "msix";
}

void vnet_dev_info(struct vnet_dev *d, struct vnet_info *out)
{
	memset(out, 0, sizeof(*out));
	out->transport = d->t->name;
	out->mmio_loc = d->params.mmio_loc;
	out->mmio_intr = d->params.mmio_intr;
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
	for (unsigned k = 0; k < d->npairs; k++) {
		queue_info(d, &d->rxq[k], &out->queues[out->nqueues++]);
		queue_info(d, &d->txq[k], &out->queues[out->nqueues++]);
	}
	if (d->has_ctrl)
		queue_info(d, &d->ctrl, &out->queues[out->nqueues++]);
	out->queue_pairs = d->npairs;
	out->max_queue_pairs = d->max_pairs;
	out->rss = vn_has(d, VIRTIO_NET_F_RSS);
	out->rss_table_len = out->rss ? d->cs.rss.table_len : 0;
	out->hash_report = vn_has(d, VIRTIO_NET_F_HASH_REPORT);
	out->interrupts = irq_name(d);
	out->msix_vectors = d->nvec;
	out->hdr_len = d->hdr_len;
	out->has_ctrl = d->has_ctrl;
	out->needs_reset = d->needs_reset;
	out->broken = vn_any_queue_broken(d);
	out->ram_size = d->ram.size;
	out->ram_used = d->ram.used;
	out->ram_huge = d->ram.huge;
	out->stats = d->st;
}
