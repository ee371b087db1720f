// SPDX-License-Identifier: MIT
/*
 * ctrl.c - the control virtqueue (virtio 1.2, 5.1.6.5).
 *
 * Each command is a chain: device-readable {u8 class, u8 command} and
 * command data, then a device-writable byte for the ack (VIRTIO_NET_OK or
 * VIRTIO_NET_ERR) and, for a command that answers (NOTF_COAL_VQ_GET), its
 * result.  The readable part is gathered into private memory
 * first, so a driver changing it under us changes nothing.  Commands of a
 * feature the driver did not negotiate are answered ERR.
 */
#include <stddef.h>
#include <string.h>

#include "common/log.h"
#include "host/dp/dp_priv.h"

#define CTRL_RX		   VIRTIO_NET_CTRL_RX
#define CTRL_RX_PROMISC	   VIRTIO_NET_CTRL_RX_PROMISC
#define CTRL_RX_ALLMULTI   VIRTIO_NET_CTRL_RX_ALLMULTI
#define CTRL_RX_ALLUNI	   VIRTIO_NET_CTRL_RX_ALLUNI
#define CTRL_RX_NOMULTI	   VIRTIO_NET_CTRL_RX_NOMULTI
#define CTRL_RX_NOUNI	   VIRTIO_NET_CTRL_RX_NOUNI
#define CTRL_RX_NOBCAST	   VIRTIO_NET_CTRL_RX_NOBCAST
#define CTRL_MAC	   VIRTIO_NET_CTRL_MAC
#define CTRL_MAC_TABLE_SET VIRTIO_NET_CTRL_MAC_TABLE_SET
#define CTRL_MAC_ADDR_SET  VIRTIO_NET_CTRL_MAC_ADDR_SET
#define CTRL_ANNOUNCE	   VIRTIO_NET_CTRL_ANNOUNCE
#define CTRL_ANNOUNCE_ACK  VIRTIO_NET_CTRL_ANNOUNCE_ACK

/* Largest command we read: header + two MAC tables of 64 entries each
 * (a longer table is refused rather than truncated in silence). */
#define CTRL_MAX_CMD (2 + 2 * (4 + 6 * NET_FILTER_MAX_MACS) + 64)
static_assert(2 + sizeof(struct virtio_net_rss_config_head) + 2 * RSS_TABLE_MAX +
			      VIRTIO_NET_RSS_TAIL_LEN + RSS_KEY_MAX <= CTRL_MAX_CMD,
	      "the largest RSS configuration we take fits the command buffer");
static_assert(2 + sizeof(struct virtio_net_hash_config_head) + RSS_KEY_MAX <= CTRL_MAX_CMD,
	      "the largest hash configuration we take fits the command buffer");

static bool has(const struct vdev *vd, unsigned bit)
{
	return vd->driver_features & VIRTIO_BIT(bit);
}

static uint8_t do_rx_mode(struct vdev *vd, uint8_t cmd, const uint8_t *d, uint32_t n)
{
	struct net_filter *f = &vd->filter;
	bool on;

	if (n != 1 || !has(vd, VIRTIO_NET_F_CTRL_RX))
		return VIRTIO_NET_ERR;
	if (cmd > CTRL_RX_ALLMULTI && !has(vd, VIRTIO_NET_F_CTRL_RX_EXTRA))
		return VIRTIO_NET_ERR;
	on = d[0] != 0;
	switch (cmd) {
	case CTRL_RX_PROMISC: f->promisc = on; break;
	case CTRL_RX_ALLMULTI: f->allmulti = on; break;
	case CTRL_RX_ALLUNI: f->alluni = on; break;
	case CTRL_RX_NOMULTI: f->nomulti = on; break;
	case CTRL_RX_NOUNI: f->nouni = on; break;
	case CTRL_RX_NOBCAST: f->nobcast = on; break;
	default: return VIRTIO_NET_ERR;
	}
	log_debug("%s: rx mode %u %s", vd->name, cmd, on ? "on" : "off");
	return VIRTIO_NET_OK;
}

/* One table: le32 entries, then entries * 6 bytes (5.1.6.5.2).  Returns
 * the bytes consumed, or 0 when the table runs past the data. */
static uint32_t parse_table(const uint8_t *d, uint32_t n, uint8_t (*out)[6],
			    unsigned *count, bool *overflow)
{
	uint32_t entries;

	if (n < 4)
		return 0;
	memcpy(&entries, d, 4);
	if (entries > (n - 4) / 6)
		return 0;
	*overflow = entries > NET_FILTER_MAX_MACS;
	*count = *overflow ? 0 : entries;
	if (!*overflow)
		memcpy(out, d + 4, (size_t)entries * 6);
	return 4 + entries * 6;
}

static uint8_t do_mac(struct vdev *vd, uint8_t cmd, const uint8_t *d, uint32_t n)
{
	struct net_filter nf;
	uint32_t a, b;

	if (cmd == CTRL_MAC_ADDR_SET) {
		/* 5.1.6.5.2: needs CTRL_MAC_ADDR; a multicast address is no
		 * device address. */
		if (!has(vd, VIRTIO_NET_F_CTRL_MAC_ADDR) || n != 6 || (d[0] & 1))
			return VIRTIO_NET_ERR;
		memcpy(vd->cfg.mac, d, 6);
		vd->config_generation++;
		return VIRTIO_NET_OK;
	}
	if (cmd != CTRL_MAC_TABLE_SET || !has(vd, VIRTIO_NET_F_CTRL_RX))
		return VIRTIO_NET_ERR;
	nf = vd->filter;
	a = parse_table(d, n, nf.uni, &nf.n_uni, &nf.uni_overflow);
	if (!a)
		return VIRTIO_NET_ERR;
	b = parse_table(d + a, n - a, nf.multi, &nf.n_multi, &nf.multi_overflow);
	if (!b || a + b != n)
		return VIRTIO_NET_ERR;
	vd->filter = nf;	/* all or nothing */
	return VIRTIO_NET_OK;
}

/* The queue a VQ_SET / VQ_GET names: a receiveq or transmitq of the
 * negotiated layout (5.1.6.5.6.3; with one pair, 0 and 1), anything else
 * is refused. */
static bool coal_queue(const struct vdev *vd, uint16_t vqn)
{
	return vqn < 2 * vdev_pairs_negotiated(vd);
}

/* 5.1.6.5.5: how many pairs the driver uses, 1..max_virtqueue_pairs.  Every
 * queue of those pairs must be configured first; a frame goes only to a
 * receiveq in use from the moment the command is answered. */
/* 5.1.6.5.7.1: the head, the table, max_tx_vq, the key length and the
 * key, exactly n bytes; the model checks what it says (vdev_set_rss). */
static uint8_t do_rss(struct vdev *vd, const uint8_t *d, uint32_t n)
{
	struct virtio_net_rss_config_head h;
	struct rss_cfg c = { .on = true };
	uint32_t tlen, tail;
	uint16_t max_tx;

	if (!has(vd, VIRTIO_NET_F_RSS) || n < sizeof(h))
		return VIRTIO_NET_ERR;
	memcpy(&h, d, sizeof(h));
	tlen = (uint32_t)h.indirection_table_mask + 1;
	tail = (uint32_t)sizeof(h) + 2 * tlen;
	if (tlen > RSS_TABLE_MAX || n < tail + VIRTIO_NET_RSS_TAIL_LEN ||
	    n != tail + VIRTIO_NET_RSS_TAIL_LEN + d[tail + 2]) {
		log_rl(LOG_WARN, "%s: RSS configuration of %u bytes does not match its %u-entry table (at most %u) and its key length",
		       vd->name, n, tlen, RSS_TABLE_MAX);
		return VIRTIO_NET_ERR;
	}
	c.hash_types = h.hash_types;
	c.table_len = (uint16_t)tlen;
	c.unclassified = h.unclassified_queue;
	memcpy(c.table, d + sizeof(h), 2 * tlen);	/* le16, little-endian host */
	memcpy(&max_tx, d + tail, 2);
	c.key_len = d[tail + 2];
	if (c.key_len > RSS_KEY_MAX) {
		log_rl(LOG_WARN, "%s: RSS hash key of %u bytes; at most %u", vd->name, c.key_len,
		       RSS_KEY_MAX);
		return VIRTIO_NET_ERR;
	}
	memcpy(c.key, d + tail + VIRTIO_NET_RSS_TAIL_LEN, c.key_len);
	return vdev_set_rss(vd, &c, max_tx) < 0 ? VIRTIO_NET_ERR : VIRTIO_NET_OK;
}

/* 5.1.6.5.5 "Hash calculation": the head (hash types, four reserved
 * le16, the key length) and the key, exactly n bytes.  reserved "MUST
 * contain zeroes" (it keeps the layout of the RSS command's head): a
 * driver that sets it means something we do not know, so it is refused,
 * not ignored.  The model checks types and key (vdev_set_hash). */
static uint8_t do_hash(struct vdev *vd, const uint8_t *d, uint32_t n)
{
	struct virtio_net_hash_config_head h;
	struct rss_hash_cfg c = { 0 };

	if (n < sizeof(h) || n != sizeof(h) + d[offsetof(struct virtio_net_hash_config_head,
							 hash_key_length)]) {
		log_rl(LOG_WARN, "%s: hash configuration of %u bytes does not match its head (%zu) and key length",
		       vd->name, n, sizeof(h));
		return VIRTIO_NET_ERR;
	}
	memcpy(&h, d, sizeof(h));
	if (h.reserved[0] | h.reserved[1] | h.reserved[2] | h.reserved[3]) {
		log_rl(LOG_WARN, "%s: hash configuration with non-zero reserved fields; refused",
		       vd->name);
		return VIRTIO_NET_ERR;
	}
	c.hash_types = h.hash_types;
	/* The length as sent, for the rule to judge (rss_hash_check); at
	 * most the key's room is copied. */
	c.key_len = h.hash_key_length;
	memcpy(c.key, d + sizeof(h), c.key_len < sizeof(c.key) ? c.key_len : sizeof(c.key));
	return vdev_set_hash(vd, &c) < 0 ? VIRTIO_NET_ERR : VIRTIO_NET_OK;
}

static uint8_t do_mq(struct vdev *vd, uint8_t cmd, const uint8_t *d, uint32_t n)
{
	uint16_t pairs;

	if (cmd == VIRTIO_NET_CTRL_MQ_RSS_CONFIG)
		return do_rss(vd, d, n);
	if (cmd == VIRTIO_NET_CTRL_MQ_HASH_CONFIG)
		return do_hash(vd, d, n);
	if (!has(vd, VIRTIO_NET_F_MQ) || cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || n != 2)
		return VIRTIO_NET_ERR;
	memcpy(&pairs, d, 2);
	/* The model's rule: 1..max_virtqueue_pairs, every queue enabled. */
	return vdev_set_pairs_in_use(vd, pairs) < 0 ? VIRTIO_NET_ERR : VIRTIO_NET_OK;
}

/* 5.1.6.5.6: TX_SET / RX_SET (NOTF_COAL) for all transmit / receive
 * queues, VQ_SET / VQ_GET (VQ_NOTF_COAL) for one; VQ_GET's answer goes
 * after the ack (*result, *result_len). */
static uint8_t do_notf_coal(struct vdev *vd, uint8_t cmd, const uint8_t *d, uint32_t n,
			    uint8_t *result, uint32_t *result_len)
{
	struct virtio_net_ctrl_coal_vq vq;
	struct virtio_net_ctrl_coal c;

	switch (cmd) {
	case VIRTIO_NET_CTRL_NOTF_COAL_TX_SET:
	case VIRTIO_NET_CTRL_NOTF_COAL_RX_SET:
		if (!has(vd, VIRTIO_NET_F_NOTF_COAL) || n != sizeof(c))
			return VIRTIO_NET_ERR;
		memcpy(&c, d, sizeof(c));
		/* Every transmitq, or every receiveq, of the layout. */
		for (unsigned k = 0; k < vdev_pairs_negotiated(vd); k++)
			dp_coal_set(vd, cmd == VIRTIO_NET_CTRL_NOTF_COAL_TX_SET ? vnet_txq(k)
										: vnet_rxq(k),
				    c.max_packets, c.max_usecs);
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET:
		if (!has(vd, VIRTIO_NET_F_VQ_NOTF_COAL) || n != sizeof(vq))
			return VIRTIO_NET_ERR;
		memcpy(&vq, d, sizeof(vq));
		if (!coal_queue(vd, vq.vqn))
			return VIRTIO_NET_ERR;
		dp_coal_set(vd, vq.vqn, vq.coal.max_packets, vq.coal.max_usecs);
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET:
		/* The driver sends vqn and reserved (4 bytes) only. */
		if (!has(vd, VIRTIO_NET_F_VQ_NOTF_COAL) || n != 4)
			return VIRTIO_NET_ERR;
		memcpy(&vq.vqn, d, 2);
		if (!coal_queue(vd, vq.vqn))
			return VIRTIO_NET_ERR;
		dp_coal_get(vd, vq.vqn, &c.max_packets, &c.max_usecs);
		memcpy(result, &c, sizeof(c));
		*result_len = sizeof(c);
		return VIRTIO_NET_OK;
	default:
		return VIRTIO_NET_ERR;
	}
}

static uint8_t do_command(struct vdev *vd, const uint8_t *cmd, uint32_t len,
			  uint8_t *result, uint32_t *result_len)
{
	const uint8_t *data = cmd + 2;
	uint32_t n = len - 2;

	switch (cmd[0]) {
	case CTRL_RX:
		return do_rx_mode(vd, cmd[1], data, n);
	case CTRL_MAC:
		return do_mac(vd, cmd[1], data, n);
	case CTRL_ANNOUNCE:
		if (!has(vd, VIRTIO_NET_F_GUEST_ANNOUNCE) || cmd[1] != CTRL_ANNOUNCE_ACK)
			return VIRTIO_NET_ERR;
		vd->cfg.status &= (uint16_t)~VIRTIO_NET_S_ANNOUNCE;
		vd->config_generation++;
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_MQ:
		return do_mq(vd, cmd[1], data, n);
	case VIRTIO_NET_CTRL_NOTF_COAL:
		return do_notf_coal(vd, cmd[1], data, n, result, result_len);
	default:
		/* VLAN, GUEST_OFFLOADS, ...: not offered. */
		return VIRTIO_NET_ERR;
	}
}

uint8_t dp_ctrl_command(struct vdev *vd, const uint8_t *cmd, uint32_t len)
{
	uint8_t result[sizeof(struct virtio_net_ctrl_coal)];
	uint32_t result_len = 0;

	if (len < 2 || len > CTRL_MAX_CMD)
		return VIRTIO_NET_ERR;
	return do_command(vd, cmd, len, result, &result_len);
}

void dp_ctrl_process(struct vdev *vd)
{
	const unsigned qi = vdev_ctrlq(vd);
	struct vdev_queue *q = &vd->q[qi];
	uint8_t cmd[CTRL_MAX_CMD];
	unsigned pushed = 0;
	struct vq_chain ch;

	if (!vdev_running(vd) || !q->enabled)
		return;
	for (unsigned n = 0; n < VDEV_BUDGET; n++) {
		uint8_t reply[1 + sizeof(struct virtio_net_ctrl_coal)];
		uint32_t result_len = 0;
		int r;

		ch.bufs = vd->dp.scratch.chain_bufs;	/* the main loop's */
		ch.cap = VDEV_QUEUE_LIMIT * 2u;
		r = vq_dev_pop(&q->vq, &ch, VQ_CHAIN_ANY);
		if (r == 0) {
			/* 2.7.10: with EVENT_IDX the driver kicks only when its
			 * index passes avail_event, which must follow what we
			 * took: left at 0, every command after the first would
			 * go unkicked (and unanswered).  A command published
			 * meanwhile is taken now. */
			if (vq_dev_set_notify(&q->vq, true))
				continue;
			break;
		}
		if (r < 0) {
			dp_queue_broken(vd, qi);
			return;
		}
		if (ch.n_in == 0 || ch.in_len < 1 || ch.out_len < 2) {
			vq_dev_set_broken(&q->vq, "control command of %u readable / %u writable bytes: needs a 2-byte header and a 1-byte ack",
					  ch.out_len, ch.in_len);
			dp_queue_broken(vd, qi);
			return;
		}
		if (ch.out_len > sizeof(cmd)) {
			log_rl(LOG_WARN, "%s: control command of %u bytes is longer than %zu; refused",
			       vd->name, ch.out_len, sizeof(cmd));
			reply[0] = VIRTIO_NET_ERR;
		} else {
			chain_gather(&ch, cmd, ch.out_len);
			reply[0] = do_command(vd, cmd, ch.out_len, reply + 1, &result_len);
			if (reply[0] != VIRTIO_NET_OK)
				log_rl(LOG_INFO, "%s: control command class %u cmd %u refused",
				       vd->name, cmd[0], cmd[1]);
		}
		/* The ack, then a result if the command has one and the
		 * driver left room for it (a short chain gets what fits). */
		vq_dev_push(&q->vq, &ch, chain_scatter(&ch, 0, reply, 1 + result_len));
		pushed++;
	}
	if (pushed)
		dp_flush_used(vd, qi, pushed);
}
