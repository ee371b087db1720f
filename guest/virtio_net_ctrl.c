// SPDX-License-Identifier: MIT
/*
 * virtio_net_ctrl.c - the control virtqueue (5.1.6.5): RX modes, the MAC
 * filter table, the MAC address, and answering the device's request to
 * announce ourselves (GUEST_ANNOUNCE, 5.1.6.5.4).
 *
 * One command at a time, synchronously, in the command area of guest
 * RAM: {class, command} | data (each MAC table its own descriptor, as
 * 5.1.6.5.2 frames them) | ack byte | result (a command that answers,
 * NOTF_COAL_VQ_GET, 5.1.6.5.6).  What was set is remembered and
 * replayed after a reset (a reset returns the device to promiscuous with
 * no table, as QEMU's does).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/barrier.h"
#include "common/log.h"
#include "common/rss.h"
#include "guest/virtio_net_priv.h"

/* Command area layout (offsets in ctrl_buf). */
#define AREA_HDR   0u
#define AREA_DATA  64u
#define AREA_ACK   (CTRL_AREA_SIZE - 64u)
#define AREA_RESULT (AREA_ACK + 8u)
#define RESULT_MAX  32u
#define TABLE_BYTES(n) (4u + 6u * (n))
static_assert(AREA_DATA + 2 * TABLE_BYTES(VNET_MAC_TABLE_MAX) <= AREA_ACK,
	      "command area holds two full MAC tables");

#define SPIN_NS	    (20u * 1000u)	/* answer usually comes this fast */
#define NAP_NS	    (50u * 1000u)

void vn_ctrl_state_init(struct vn_ctrl_state *cs)
{
	memset(cs, 0, sizeof(*cs));
	for (unsigned i = 0; i <= VNET_RX_NOBCAST; i++)
		cs->rx_mode[i] = -1;
}

/* Sends one command made of nseg readable pieces of the area and waits
 * (bounded) for the device's ack, and for its result of result_len bytes
 * (copied to result) when the command has one. */
static int ctrl_cmd_result(struct vnet_dev *d, uint8_t cls, uint8_t cmd,
			   const struct vq_sg *data, unsigned ndata,
			   void *result, uint32_t result_len)
{
	struct vnet_queue *q = &d->ctrl;
	struct vq_sg sg[5];
	uint64_t start, deadline;
	uint32_t len = 0;
	uint8_t ack;
	int rc = vn_health(d);

	if (rc < 0)
		return rc;
	if (!d->has_ctrl)
		return -ENOTSUP;
	d->ctrl_buf[AREA_HDR] = cls;
	d->ctrl_buf[AREA_HDR + 1] = cmd;
	d->ctrl_buf[AREA_ACK] = 0xff;	/* neither OK nor ERR */
	sg[0] = (struct vq_sg){ d->ctrl_gpa + AREA_HDR, 2 };
	for (unsigned i = 0; i < ndata; i++)
		sg[1 + i] = data[i];
	sg[1 + ndata] = (struct vq_sg){ d->ctrl_gpa + AREA_ACK, 1 };
	if (result_len)
		sg[2 + ndata] = (struct vq_sg){ d->ctrl_gpa + AREA_RESULT, result_len };
	rc = vq_drv_add(&q->vq, sg, 1 + ndata, result_len ? 2 : 1, vn_token(0));
	if (rc < 0)
		return vn_queue_broken(q) ? -EIO : rc;
	d->st.ctrl_cmds++;
	/* Always ring: one command, synchronous. */
	if (vq_drv_kick_prepare(&q->vq) && d->t->ops->notify(d->t, q->index) < 0)
		d->st.kick_errors++;
	else
		d->st.kicks_sent++;
	start = now_ns();
	deadline = start + (uint64_t)VNET_CTRL_TIMEOUT_MS * 1000000u;
	while (!vq_drv_get(&q->vq, &len)) {
		uint64_t now = now_ns();

		if (q->vq.broken)
			return vn_queue_broken(q), -EIO;
		if (now >= deadline) {
			/* The buffer is still the device's: nothing more can go
			 * on this queue until a reset takes it back. */
			d->ctrl_stuck = true;
			d->st.ctrl_errors++;
			log_err("controlq: command %u.%u unanswered after %u ms; the device needs a reset",
				cls, cmd, VNET_CTRL_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		if (now - start < SPIN_NS) {
			cpu_relax();
		} else {
			struct timespec ts = { 0, NAP_NS };

			nanosleep(&ts, NULL);
		}
	}
	ack = READ_ONCE(d->ctrl_buf[AREA_ACK]);
	if (len < 1 || ack != VIRTIO_NET_OK) {
		d->st.ctrl_errors++;
		log_rl(LOG_WARN, "controlq: device answered %s to command %u.%u",
		       len < 1 ? "nothing" : ack == VIRTIO_NET_ERR ? "ERR" : "garbage",
		       cls, cmd);
		return -EREMOTEIO;
	}
	if (result_len) {
		/* The used length counts the ack and what of the result the
		 * device wrote: a short answer is no answer. */
		if (len < 1 + result_len) {
			d->st.ctrl_errors++;
			log_rl(LOG_WARN, "controlq: command %u.%u answered %u of %u result bytes",
			       cls, cmd, len - 1, result_len);
			return -EREMOTEIO;
		}
		memcpy(result, d->ctrl_buf + AREA_RESULT, result_len);
	}
	return 0;
}

static int ctrl_cmd(struct vnet_dev *d, uint8_t cls, uint8_t cmd,
		    const struct vq_sg *data, unsigned ndata)
{
	return ctrl_cmd_result(d, cls, cmd, data, ndata, NULL, 0);
}

static int send_rx_mode(struct vnet_dev *d, enum vnet_rx_mode m, bool on)
{
	struct vq_sg sg = { d->ctrl_gpa + AREA_DATA, 1 };

	d->ctrl_buf[AREA_DATA] = on ? 1 : 0;
	return ctrl_cmd(d, VIRTIO_NET_CTRL_RX, (uint8_t)m, &sg, 1);
}

int vnet_ctrl_rx_mode(struct vnet_dev *d, enum vnet_rx_mode m, bool on)
{
	int rc;

	if ((unsigned)m > VNET_RX_NOBCAST)
		return -EINVAL;
	if (!vn_has(d, VIRTIO_NET_F_CTRL_RX) ||
	    (m > VNET_RX_ALLMULTI && !vn_has(d, VIRTIO_NET_F_CTRL_RX_EXTRA)))
		return -ENOTSUP;
	rc = send_rx_mode(d, m, on);
	if (rc == 0)
		d->cs.rx_mode[m] = on;
	return rc;
}

static uint32_t put_table(uint8_t *at, const uint8_t (*macs)[6], unsigned n)
{
	uint32_t entries = n;

	memcpy(at, &entries, 4);	/* le32 (2.4: little-endian host) */
	if (n)
		memcpy(at + 4, macs, (size_t)n * 6);
	return TABLE_BYTES(n);
}

static int send_mac_table(struct vnet_dev *d)
{
	const struct vn_ctrl_state *cs = &d->cs;
	uint32_t a = put_table(d->ctrl_buf + AREA_DATA, cs->uni, cs->n_uni);
	uint32_t b = put_table(d->ctrl_buf + AREA_DATA + a, cs->multi, cs->n_multi);
	struct vq_sg sg[2] = {
		{ d->ctrl_gpa + AREA_DATA, a },
		{ d->ctrl_gpa + AREA_DATA + a, b },
	};

	return ctrl_cmd(d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, sg, 2);
}

int vnet_ctrl_mac_table(struct vnet_dev *d, const uint8_t uni[][6],
			unsigned n_uni, const uint8_t multi[][6], unsigned n_multi)
{
	struct vn_ctrl_state old = d->cs;
	int rc;

	if (n_uni > VNET_MAC_TABLE_MAX || n_multi > VNET_MAC_TABLE_MAX ||
	    (n_uni && !uni) || (n_multi && !multi))
		return -EINVAL;
	if (!vn_has(d, VIRTIO_NET_F_CTRL_RX))
		return -ENOTSUP;
	for (unsigned i = 0; i < n_uni; i++)
		if (uni[i][0] & 1)
			return -EINVAL;		/* a multicast in the unicast table */
	for (unsigned i = 0; i < n_multi; i++)
		if (!(multi[i][0] & 1))
			return -EINVAL;
	if (n_uni)
		memcpy(d->cs.uni, uni, (size_t)n_uni * 6);
	if (n_multi)
		memcpy(d->cs.multi, multi, (size_t)n_multi * 6);
	d->cs.n_uni = n_uni;
	d->cs.n_multi = n_multi;
	rc = send_mac_table(d);
	if (rc < 0) {
		d->cs = old;
		return rc;
	}
	d->cs.table_set = true;
	return 0;
}

static int send_mac_addr(struct vnet_dev *d, const uint8_t mac[6])
{
	struct vq_sg sg = { d->ctrl_gpa + AREA_DATA, 6 };

	memcpy(d->ctrl_buf + AREA_DATA, mac, 6);
	return ctrl_cmd(d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, &sg, 1);
}

int vnet_ctrl_mac_addr(struct vnet_dev *d, const uint8_t mac[6])
{
	int rc;

	if (mac[0] & 1)
		return -EINVAL;
	if (!vn_has(d, VIRTIO_NET_F_CTRL_MAC_ADDR))
		return -ENOTSUP;
	rc = send_mac_addr(d, mac);
	if (rc == 0) {
		memcpy(d->mac, mac, 6);
		memcpy(d->cs.mac, mac, 6);
		d->cs.mac_set = true;
	}
	return rc;
}

/* ---- notifications coalescing (5.1.6.5.6) ---------------------------- */

static int send_coalesce(struct vnet_dev *d, enum vnet_queue_dir dir, uint32_t max_packets,
			 uint32_t max_usecs)
{
	struct virtio_net_ctrl_coal c = { max_packets, max_usecs };
	struct vq_sg sg = { d->ctrl_gpa + AREA_DATA, sizeof(c) };

	memcpy(d->ctrl_buf + AREA_DATA, &c, sizeof(c));	/* le32 (little-endian host) */
	return ctrl_cmd(d, VIRTIO_NET_CTRL_NOTF_COAL,
			dir == VNET_TX ? VIRTIO_NET_CTRL_NOTF_COAL_TX_SET
				       : VIRTIO_NET_CTRL_NOTF_COAL_RX_SET, &sg, 1);
}

int vnet_ctrl_coalesce(struct vnet_dev *d, enum vnet_queue_dir dir, uint32_t max_packets,
		       uint32_t max_usecs)
{
	int rc;

	if (dir != VNET_RX && dir != VNET_TX)
		return -EINVAL;
	if (!vn_has(d, VIRTIO_NET_F_NOTF_COAL))
		return -ENOTSUP;
	rc = send_coalesce(d, dir, max_packets, max_usecs);
	if (rc == 0) {
		d->cs.coal[dir].set = true;
		d->cs.coal[dir].max_packets = max_packets;
		d->cs.coal[dir].max_usecs = max_usecs;
	}
	return rc;
}

int vnet_ctrl_coalesce_get(struct vnet_dev *d, enum vnet_queue_dir dir,
			   uint32_t *max_packets, uint32_t *max_usecs)
{
	struct virtio_net_ctrl_coal c;
	struct vq_sg sg = { d->ctrl_gpa + AREA_DATA, 4 };
	uint16_t vqn;
	int rc;

	if (dir != VNET_RX && dir != VNET_TX)
		return -EINVAL;
	if (!vn_has(d, VIRTIO_NET_F_VQ_NOTF_COAL))
		return -ENOTSUP;
	/* The first pair's queue: TX_SET / RX_SET set them all alike. */
	vqn = dir == VNET_TX ? d->txq[0].index : d->rxq[0].index;
	memset(d->ctrl_buf + AREA_DATA, 0, 4);	/* vqn, reserved */
	memcpy(d->ctrl_buf + AREA_DATA, &vqn, 2);
	rc = ctrl_cmd_result(d, VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET,
			     &sg, 1, &c, sizeof(c));
	if (rc == 0) {
		*max_packets = c.max_packets;
		*max_usecs = c.max_usecs;
	}
	return rc;
}

/* ---- multiqueue (5.1.6.5.5) -------------------------------------------- */

void vn_rss_default(struct vnet_dev *d)
{
	struct vnet_rss *r = &d->cs.rss;

	memset(r, 0, sizeof(*r));
	r->hash_types = d->rss_types & RSS_HASH_TYPES_SUPPORTED;
	r->key_len = d->rss_max_key < VNET_RSS_KEY_MAX ? d->rss_max_key : VNET_RSS_KEY_MAX;
	memcpy(r->key, rss_default_key, r->key_len);
	r->table_len = 1;
	while (r->table_len * 2u <= d->rss_max_table && r->table_len * 2u <= VNET_RSS_TABLE_MAX)
		r->table_len *= 2;
	for (unsigned i = 0; i < r->table_len; i++)
		r->table[i] = (uint16_t)(i % d->npairs);
}

static_assert(VNET_RSS_TABLE_MAX == RSS_TABLE_MAX && VNET_RSS_KEY_MAX == RSS_KEY_MAX,
	      "the public RSS limits are common/rss.h's");

/* 5.1.6.5.7.1: head, table, max_tx_vq, key length, key. */
static int send_rss(struct vnet_dev *d, const struct vnet_rss *r)
{
	struct virtio_net_rss_config_head h = {
		.hash_types = r->hash_types,
		.indirection_table_mask = (uint16_t)(r->table_len - 1),
		.unclassified_queue = r->unclassified,
	};
	uint16_t max_tx = (uint16_t)d->npairs;
	uint8_t *p = d->ctrl_buf + AREA_DATA;
	uint32_t n = 0;
	struct vq_sg sg;

	static_assert(AREA_DATA + sizeof(h) + 2 * VNET_RSS_TABLE_MAX + VIRTIO_NET_RSS_TAIL_LEN +
			      VNET_RSS_KEY_MAX <= AREA_ACK,
		      "command area holds an RSS configuration");
	memcpy(p, &h, sizeof(h));
	n += sizeof(h);
	memcpy(p + n, r->table, 2u * r->table_len);	/* le16 */
	n += 2u * r->table_len;
	memcpy(p + n, &max_tx, 2);
	p[n + 2] = r->key_len;
	n += VIRTIO_NET_RSS_TAIL_LEN;
	memcpy(p + n, r->key, r->key_len);
	n += r->key_len;
	sg = (struct vq_sg){ d->ctrl_gpa + AREA_DATA, n };
	return ctrl_cmd(d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, &sg, 1);
}

/* 5.1.6.5.5 "Hash calculation": head (types, zero reserved, key length),
 * key. */
static int send_hash(struct vnet_dev *d, const struct vnet_rss *r)
{
	struct virtio_net_hash_config_head h = {
		.hash_types = r->hash_types,
		.hash_key_length = r->key_len,
	};
	uint8_t *p = d->ctrl_buf + AREA_DATA;
	struct vq_sg sg;

	static_assert(AREA_DATA + sizeof(h) + VNET_RSS_KEY_MAX <= AREA_ACK,
		      "command area holds a hash configuration");
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), r->key, r->key_len);
	sg = (struct vq_sg){ d->ctrl_gpa + AREA_DATA, (uint32_t)sizeof(h) + r->key_len };
	return ctrl_cmd(d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_HASH_CONFIG, &sg, 1);
}

int vn_ctrl_hash(struct vnet_dev *d)
{
	/* 5.1.6.4.3: with RSS, RSS_CONFIG (vn_ctrl_pairs) sets the hash. */
	if (!vn_has(d, VIRTIO_NET_F_HASH_REPORT) || vn_has(d, VIRTIO_NET_F_RSS))
		return 0;
	return send_hash(d, &d->cs.rss);
}

/* HASH_REPORT without RSS: the hash types and key only. */
static int ctrl_hash_only(struct vnet_dev *d, const struct vnet_rss *r)
{
	char why[160] = "";
	int rc;

	/* The one rule (common/rss.c), then what this device takes. */
	if (rss_hash_check(r->hash_types, r->key_len, why, sizeof(why)) == 0) {
		if (r->key_len > d->rss_max_key)
			snprintf(why, sizeof(why), "key of %u bytes; the device takes %u", r->key_len,
				 d->rss_max_key);
		else if (r->hash_types & ~d->rss_types)
			snprintf(why, sizeof(why), "hash types 0x%x; the device computes 0x%x",
				 r->hash_types, d->rss_types);
	}
	if (why[0]) {
		log_rl(LOG_WARN, "hash configuration refused: %s", why);
		return -EINVAL;
	}
	rc = send_hash(d, r);
	if (rc == 0)
		d->cs.rss = *r;
	return rc;
}

int vnet_ctrl_rss(struct vnet_dev *d, const struct vnet_rss *r)
{
	struct rss_cfg c = { .on = true };
	char why[160] = "";
	int rc;

	if (!vn_has(d, VIRTIO_NET_F_RSS))
		return vn_has(d, VIRTIO_NET_F_HASH_REPORT) ? ctrl_hash_only(d, r) : -ENOTSUP;
	/* The one rule (common/rss.c) for the configuration itself; what
	 * this device takes (5.1.4) on top. */
	c.hash_types = r->hash_types;
	c.table_len = r->table_len;
	c.unclassified = r->unclassified;
	c.key_len = r->key_len;
	if (r->table_len <= RSS_TABLE_MAX)
		memcpy(c.table, r->table, (size_t)r->table_len * sizeof(c.table[0]));
	if (r->key_len <= RSS_KEY_MAX)
		memcpy(c.key, r->key, r->key_len);
	if (rss_cfg_check(&c, d->npairs, why, sizeof(why)) == 0) {
		if (r->table_len > d->rss_max_table)
			snprintf(why, sizeof(why), "table of %u entries; the device takes %u",
				 r->table_len, d->rss_max_table);
		else if (r->key_len > d->rss_max_key)
			snprintf(why, sizeof(why), "key of %u bytes; the device takes %u", r->key_len,
				 d->rss_max_key);
		else if (r->hash_types & ~d->rss_types)
			snprintf(why, sizeof(why), "hash types 0x%x; the device computes 0x%x",
				 r->hash_types, d->rss_types);
		else
			why[0] = '\0';
	}
	if (why[0]) {
		log_rl(LOG_WARN, "RSS configuration refused: %s", why);
		return -EINVAL;
	}
	rc = send_rss(d, r);
	if (rc == 0)
		d->cs.rss = *r;
	return rc;
}

int vn_ctrl_pairs(struct vnet_dev *d)
{
	uint16_t pairs = (uint16_t)d->npairs;
	struct vq_sg sg = { d->ctrl_gpa + AREA_DATA, sizeof(pairs) };

	if (vn_has(d, VIRTIO_NET_F_RSS))
		return send_rss(d, &d->cs.rss);
	if (d->npairs <= 1)
		return 0;
	memcpy(d->ctrl_buf + AREA_DATA, &pairs, sizeof(pairs));	/* le16 */
	return ctrl_cmd(d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &sg, 1);
}

int vn_ctrl_replay(struct vnet_dev *d)
{
	const struct vn_ctrl_state *cs = &d->cs;
	int rc;

	if (!d->has_ctrl)
		return 0;
	/* A reset went back to one pair, and to no hash type. */
	rc = vn_ctrl_pairs(d);
	if (rc == 0)
		rc = vn_ctrl_hash(d);
	for (unsigned m = 0; m <= VNET_RX_NOBCAST && rc == 0; m++)
		if (cs->rx_mode[m] >= 0)
			rc = send_rx_mode(d, (enum vnet_rx_mode)m, cs->rx_mode[m] == 1);
	if (rc == 0 && cs->table_set)
		rc = send_mac_table(d);
	if (rc == 0 && cs->mac_set)
		rc = send_mac_addr(d, cs->mac);
	/* 5.1.6.5.6: a reset set coalescing back to none. */
	for (unsigned dir = VNET_RX; dir <= VNET_TX && rc == 0; dir++)
		if (cs->coal[dir].set)
			rc = send_coalesce(d, (enum vnet_queue_dir)dir, cs->coal[dir].max_packets,
					   cs->coal[dir].max_usecs);
	return rc;
}

/* A RARP "reverse request" from our MAC to broadcast: what QEMU sends on
 * a guest's behalf to make switches learn where it is now. */
static uint32_t build_announce(const uint8_t mac[6], uint8_t *f)
{
	static const uint8_t body[] = { 0x80, 0x35,		/* RARP */
					0x00, 0x01, 0x08, 0x00,	/* Ethernet, IPv4 */
					6, 4, 0x00, 0x03 };	/* op 3 */

	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	memcpy(f + 12, body, sizeof(body));
	memcpy(f + 22, mac, 6);		/* sender hardware address */
	memcpy(f + 32, mac, 6);		/* target hardware address */
	return 60;
}

void vn_answer_announce(struct vnet_dev *d)
{
	uint8_t frame[60];
	uint32_t len;

	if (!d->announce_pending || !vn_has(d, VIRTIO_NET_F_GUEST_ANNOUNCE))
		return;
	d->announce_pending = false;
	len = build_announce(d->mac, frame);
	if (vn_tx_raw(d, frame, len) < 0)
		log_rl(LOG_WARN, "could not queue the self-announcement");
	/* 5.1.6.5.4: the ack clears VIRTIO_NET_S_ANNOUNCE. */
	if (ctrl_cmd(d, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0) == 0)
		d->st.announces++;
}
