// SPDX-License-Identifier: MIT
/*
 * state.c - the model's part of a device state (vfio-user migration):
 * what it writes (identity, virtio state, queues, control commands) and
 * how a destination takes it.
 *
 * Loading replays the driver's steps through the same calls a driver's
 * register writes and commands make (3.1.1: status, features, queues,
 * DRIVER_OK; 5.1.6.5: the control commands as the driver sent them), so
 * every value of a hostile blob passes the one check that value already
 * has, and nothing is written into the model that a driver could not
 * have written.  The control queue's state is saved as the commands that
 * rebuild it: RX modes, MAC table and address, pairs or RSS, the hash
 * configuration (HASH_REPORT without RSS), coalescing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "host/dev/state_fmt.h"
#include "host/dev/vdev_priv.h"
#include "host/dp/dp.h"

#define STATE_TRANSPORT_NAME 16

struct state_identity {
	char name[OPTS_NAME_MAX];
	char transport[STATE_TRANSPORT_NAME];
	uint8_t mac[6];			/* the configured one (perm_mac) */
	uint8_t legacy;
	uint8_t reserved;
	uint16_t max_pairs;
	uint16_t reserved2[3];
};
static_assert(sizeof(struct state_identity) == OPTS_NAME_MAX + STATE_TRANSPORT_NAME + 16,
	      "state identity layout");

struct state_virtio {
	uint64_t device_features;	/* what the driver was offered */
	uint64_t driver_features;
	uint8_t status;
	uint8_t config_generation;
	uint16_t net_status;		/* VIRTIO_NET_S_ANNOUNCE pending */
	uint32_t reserved;
	char needs_reset_reason[VQ_REASON_LEN];
};
static_assert(sizeof(struct state_virtio) == 24 + VQ_REASON_LEN, "state virtio layout");

struct state_queue {
	uint16_t index;
	uint16_t size;
	uint8_t enabled;
	uint8_t reserved[3];
	uint32_t base;			/* vq_dev_get_base: ring position */
	uint32_t reserved2;
	uint64_t desc, driver, device;
};
static_assert(sizeof(struct state_queue) == 40, "state queue layout");

/* ---- saving ---------------------------------------------------------- */

static bool has(const struct vdev *vd, unsigned bit)
{
	return vd->driver_features & VIRTIO_BIT(bit);
}

static void put_ctrl(struct state_out *o, uint8_t cls, uint8_t cmd, const void *data,
		     uint32_t len)
{
	uint8_t c[2 + 2 * (4 + 6 * (NET_FILTER_MAX_MACS + 1))];

	if (2 + len > sizeof(c)) {
		o->err = -E2BIG;
		return;
	}
	c[0] = cls;
	c[1] = cmd;
	memcpy(c + 2, data, len);
	state_put(o, STATE_REC_CTRL, c, 2 + len);
}

/* One MAC table as 5.1.6.5.2 lays it out; a table that overflowed is
 * written as one entry too many, which sets the overflow again. */
static uint32_t put_table(uint8_t *d, const uint8_t (*macs)[6], unsigned n, bool overflow)
{
	uint32_t entries = overflow ? NET_FILTER_MAX_MACS + 1 : n;

	memcpy(d, &entries, 4);
	if (overflow)
		memset(d + 4, 0, (size_t)entries * 6);
	else
		memcpy(d + 4, macs, (size_t)n * 6);
	return 4 + entries * 6;
}

static void save_rss(const struct vdev *vd, struct state_out *o)
{
	const struct rss_cfg *c = &vd->rss;
	uint8_t d[sizeof(struct virtio_net_rss_config_head) + 2 * RSS_TABLE_MAX +
		  VIRTIO_NET_RSS_TAIL_LEN + RSS_KEY_MAX];
	struct virtio_net_rss_config_head h = {
		.hash_types = c->hash_types,
		.indirection_table_mask = (uint16_t)(c->table_len - 1),
		.unclassified_queue = c->unclassified,
	};
	uint32_t at = sizeof(h);
	uint16_t max_tx = (uint16_t)vd->curr_pairs;

	memcpy(d, &h, sizeof(h));
	memcpy(d + at, c->table, 2u * c->table_len);
	at += 2u * c->table_len;
	memcpy(d + at, &max_tx, 2);
	d[at + 2] = c->key_len;
	at += VIRTIO_NET_RSS_TAIL_LEN;
	memcpy(d + at, c->key, c->key_len);
	put_ctrl(o, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, d, at + c->key_len);
}

/* HASH_REPORT without RSS: the types and key HASH_CONFIG set (5.1.6.5.5;
 * with RSS, RSS_CONFIG carries them). */
static void save_hash(const struct vdev *vd, struct state_out *o)
{
	const struct rss_hash_cfg *c = &vd->hash;
	struct virtio_net_hash_config_head h = { .hash_types = c->hash_types,
						 .hash_key_length = c->key_len };
	uint8_t d[sizeof(h) + RSS_KEY_MAX];

	memcpy(d, &h, sizeof(h));
	memcpy(d + sizeof(h), c->key, c->key_len);
	put_ctrl(o, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_HASH_CONFIG, d,
		 (uint32_t)sizeof(h) + c->key_len);
}

static void save_coal(struct vdev *vd, struct state_out *o)
{
	for (unsigned q = 0; q < 2 * vdev_pairs_negotiated(vd); q++) {
		struct virtio_net_ctrl_coal_vq v = { .vqn = (uint16_t)q };

		dp_coal_get(vd, q, &v.coal.max_packets, &v.coal.max_usecs);
		if (has(vd, VIRTIO_NET_F_VQ_NOTF_COAL)) {
			if (v.coal.max_packets || v.coal.max_usecs)
				put_ctrl(o, VIRTIO_NET_CTRL_NOTF_COAL,
					 VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, &v, sizeof(v));
		} else if (q < 2 && (v.coal.max_packets || v.coal.max_usecs)) {
			/* Without VQ_NOTF_COAL every queue of a direction
			 * has the setting of the first. */
			put_ctrl(o, VIRTIO_NET_CTRL_NOTF_COAL,
				 q ? VIRTIO_NET_CTRL_NOTF_COAL_TX_SET : VIRTIO_NET_CTRL_NOTF_COAL_RX_SET,
				 &v.coal, sizeof(v.coal));
		}
	}
}

/* The control queue's effects, as the commands that make them. */
static void save_ctrl(struct vdev *vd, struct state_out *o)
{
	const struct net_filter *f = &vd->filter;
	const bool modes[] = { f->promisc, f->allmulti, f->alluni, f->nomulti, f->nouni,
			       f->nobcast };

	if (has(vd, VIRTIO_NET_F_CTRL_RX)) {
		uint8_t d[2 * (4 + 6 * (NET_FILTER_MAX_MACS + 1))];
		uint32_t n;

		for (uint8_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
			uint8_t on = modes[m];

			if (m <= VIRTIO_NET_CTRL_RX_ALLMULTI || has(vd, VIRTIO_NET_F_CTRL_RX_EXTRA))
				put_ctrl(o, VIRTIO_NET_CTRL_RX, m, &on, 1);
		}
		n = put_table(d, f->uni, f->n_uni, f->uni_overflow);
		n += put_table(d + n, f->multi, f->n_multi, f->multi_overflow);
		put_ctrl(o, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, d, n);
	}
	if (has(vd, VIRTIO_NET_F_CTRL_MAC_ADDR) && memcmp(vd->cfg.mac, vd->perm_mac, 6) != 0)
		put_ctrl(o, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, vd->cfg.mac, 6);
	if (vd->rss.on) {
		save_rss(vd, o);
	} else if (has(vd, VIRTIO_NET_F_MQ) && vd->curr_pairs > 1) {
		uint16_t n = (uint16_t)vd->curr_pairs;

		put_ctrl(o, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &n, 2);
	}
	if (has(vd, VIRTIO_NET_F_HASH_REPORT) && !has(vd, VIRTIO_NET_F_RSS) &&
	    (vd->hash.hash_types || vd->hash.key_len))
		save_hash(vd, o);
	save_coal(vd, o);
}

int vdev_state_save(struct vdev *vd, const char *transport, struct state_out *o)
{
	struct state_identity id = { .legacy = vd->legacy, .max_pairs = (uint16_t)vd->max_pairs };
	struct state_virtio v = {
		.device_features = vd->device_features,
		.driver_features = vd->driver_features,
		.status = vd->status,
		.config_generation = vd->config_generation,
		.net_status = vd->cfg.status & VIRTIO_NET_S_ANNOUNCE,
	};

	snprintf(id.name, sizeof(id.name), "%s", vd->name);
	snprintf(id.transport, sizeof(id.transport), "%s", transport);
	memcpy(id.mac, vd->perm_mac, 6);
	snprintf(v.needs_reset_reason, sizeof(v.needs_reset_reason), "%s", vd->needs_reset_reason);
	state_put(o, STATE_REC_IDENTITY, &id, sizeof(id));
	state_put(o, STATE_REC_VIRTIO, &v, sizeof(v));
	for (unsigned i = 0; i < vd->num_queues; i++) {
		const struct vdev_queue *q = &vd->q[i];
		struct state_queue s = {
			.index = (uint16_t)i,
			.size = q->size,
			.enabled = q->enabled,
			.base = q->enabled ? vdev_queue_get_base(vd, i) : 0,
			.desc = q->addrs.desc,
			.driver = q->addrs.driver,
			.device = q->addrs.device,
		};

		state_put(o, STATE_REC_QUEUE, &s, sizeof(s));
	}
	if (has(vd, VIRTIO_NET_F_CTRL_VQ) && (vd->status & VIRTIO_STATUS_DRIVER_OK))
		save_ctrl(vd, o);
	return o->err;
}

/* ---- loading --------------------------------------------------------- */

#define refuse state_refuse

/* Exactly one record of type, of exactly its size. */
static const void *one(const struct state_rec *recs, unsigned n, uint16_t type, uint32_t size,
		       const char *what, char *why, size_t whylen)
{
	const void *found = NULL;

	for (unsigned i = 0; i < n; i++) {
		if (recs[i].type != type)
			continue;
		if (found) {
			refuse(why, whylen, "two %s records", what);
			return NULL;
		}
		if (recs[i].len != size) {
			refuse(why, whylen, "%s record of %u bytes; this version's is %u", what,
			       recs[i].len, size);
			return NULL;
		}
		found = recs[i].data;
	}
	if (!found)
		refuse(why, whylen, "no %s record", what);
	return found;
}

static bool terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

/* The state is of this very device: same name, transport, MAC, queue
 * pairs and interface (the destination runs with the source's options). */
static int check_identity(const struct vdev *vd, const char *transport,
			  const struct state_identity *id, char *why, size_t whylen)
{
	char a[18], b[18];

	if (!terminated(id->name, sizeof(id->name)) ||
	    !terminated(id->transport, sizeof(id->transport)))
		return refuse(why, whylen, "identity record: a name is not terminated");
	if (strcmp(id->name, vd->name) != 0)
		return refuse(why, whylen, "state of vdev '%s', this is vdev '%s'", id->name, vd->name);
	if (strcmp(id->transport, transport) != 0)
		return refuse(why, whylen, "state of a %s device, this one is %s", id->transport,
			      transport);
	if (id->max_pairs != vd->max_pairs)
		return refuse(why, whylen, "state of a device with %u queue pairs, this one has %u (queues)",
			      id->max_pairs, vd->max_pairs);
	if (!!id->legacy != vd->legacy)
		return refuse(why, whylen, "state of a %s device, this one is %s",
			      id->legacy ? "legacy" : "modern", vd->legacy ? "legacy" : "modern");
	if (memcmp(id->mac, vd->perm_mac, 6) != 0) {
		snprintf(a, sizeof(a), "%02x:%02x:%02x:%02x:%02x:%02x", id->mac[0], id->mac[1],
			 id->mac[2], id->mac[3], id->mac[4], id->mac[5]);
		snprintf(b, sizeof(b), "%02x:%02x:%02x:%02x:%02x:%02x", vd->perm_mac[0],
			 vd->perm_mac[1], vd->perm_mac[2], vd->perm_mac[3], vd->perm_mac[4],
			 vd->perm_mac[5]);
		return refuse(why, whylen, "state of a device with mac %s, this one has %s", a, b);
	}
	return 0;
}

static int failed_step(struct vdev *vd, const char *step, char *why, size_t whylen)
{
	return refuse(why, whylen, "%s: %s", step,
		      vd->needs_reset_reason[0] ? vd->needs_reset_reason : "refused");
}

static int load_queue(struct vdev *vd, const struct state_rec *r, char *why, size_t whylen)
{
	struct state_queue s;
	int rc;

	if (r->len != sizeof(s))
		return refuse(why, whylen, "queue record of %u bytes; this version's is %zu", r->len,
			      sizeof(s));
	memcpy(&s, r->data, sizeof(s));
	if (s.index >= vd->num_queues)
		return refuse(why, whylen, "queue %u: this device has %u queues", s.index,
			      vd->num_queues);
	if (vd->q[s.index].enabled)
		return refuse(why, whylen, "queue %u appears twice", s.index);
	vdev_queue_set_size(vd, s.index, s.size);
	vdev_queue_set_addr(vd, s.index, 0, s.desc);
	vdev_queue_set_addr(vd, s.index, 1, s.driver);
	vdev_queue_set_addr(vd, s.index, 2, s.device);
	if (!s.enabled)
		return 0;
	vdev_queue_enable(vd, s.index);
	if (!vd->q[s.index].enabled || (vd->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
		return failed_step(vd, "queue enable", why, whylen);
	rc = vdev_queue_set_base(vd, s.index, s.base);
	if (rc < 0)
		return refuse(why, whylen, "queue %u: ring position 0x%x is outside its %u entries",
			      s.index, s.base, s.size);
	return 0;
}

static int load_virtio(struct vdev *vd, const struct state_virtio *v, const struct state_rec *recs,
		       unsigned n, char *why, size_t whylen)
{
	const uint8_t early = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	uint8_t st = v->status;
	char err[200];
	int rc;

	/* What the driver was offered, if this device may offer it: with
	 * peerfeats auto it depends on what the peer's guest took. */
	rc = vdev_adopt_offer(vd, v->device_features, err, sizeof(err));
	if (rc < 0)
		return refuse(why, whylen, "%s", err);
	if (st == 0)
		return 0;
	vdev_set_status(vd, st & early);
	vdev_set_driver_features_window(vd, 0, (uint32_t)v->driver_features);
	vdev_set_driver_features_window(vd, 1, (uint32_t)(v->driver_features >> 32));
	if (vd->driver_features != v->driver_features)
		return refuse(why, whylen, "driver features 0x%llx not taken",
			      (unsigned long long)v->driver_features);
	if ((st & VIRTIO_STATUS_FEATURES_OK) && !vd->legacy) {
		if (!vdev_features_acceptable(vd, err, sizeof(err)))
			return refuse(why, whylen, "features: %s", err);
		vdev_set_status(vd, st & (early | VIRTIO_STATUS_FEATURES_OK));
	}
	for (unsigned i = 0; i < n; i++)
		if (recs[i].type == STATE_REC_QUEUE && (rc = load_queue(vd, &recs[i], why, whylen)) < 0)
			return rc;
	if (st & VIRTIO_STATUS_DRIVER_OK) {
		vdev_set_status(vd, st & (early | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK));
		if (!(vd->status & VIRTIO_STATUS_DRIVER_OK) ||
		    (vd->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
			return failed_step(vd, "DRIVER_OK", why, whylen);
	}
	for (unsigned i = 0; i < n; i++) {
		const struct state_rec *r = &recs[i];

		if (r->type != STATE_REC_CTRL)
			continue;
		if (r->len < 2)
			return refuse(why, whylen, "control command record of %u bytes", r->len);
		if (!(vd->status & VIRTIO_STATUS_DRIVER_OK) ||
		    dp_ctrl_command(vd, r->data, r->len) != VIRTIO_NET_OK)
			return refuse(why, whylen, "control command class %u cmd %u (%u bytes) refused",
				      r->data[0], r->data[1], r->len);
	}
	return 0;
}

int vdev_state_load(struct vdev *vd, const char *transport, const struct state_rec *recs,
		    unsigned n, char *why, size_t whylen)
{
	const struct state_identity *id;
	const struct state_virtio *vp;
	struct state_virtio v;
	bool paused;
	int rc;

	id = one(recs, n, STATE_REC_IDENTITY, sizeof(*id), "identity", why, whylen);
	if (!id)
		return -EINVAL;
	vp = one(recs, n, STATE_REC_VIRTIO, sizeof(*vp), "virtio", why, whylen);
	if (!vp)
		return -EINVAL;
	{
		struct state_identity idc;

		memcpy(&idc, id, sizeof(idc));
		rc = check_identity(vd, transport, &idc, why, whylen);
	}
	if (rc < 0)
		return rc;
	memcpy(&v, vp, sizeof(v));
	if (!terminated(v.needs_reset_reason, sizeof(v.needs_reset_reason)))
		return refuse(why, whylen, "virtio record: the reset reason is not terminated");
	/* Loaded while paused, the device stays so until it runs. */
	paused = vd->paused;
	vdev_reset(vd);
	vd->paused = paused;
	rc = load_virtio(vd, &v, recs, n, why, whylen);
	if (rc < 0) {
		vdev_reset(vd);		/* ready for a good state */
		vd->paused = paused;
		return rc;
	}
	vd->config_generation = v.config_generation;
	vd->cfg.status = (uint16_t)((vd->cfg.status & ~VIRTIO_NET_S_ANNOUNCE) |
				    (v.net_status & VIRTIO_NET_S_ANNOUNCE));
	if (v.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		vdev_set_needs_reset(vd, v.needs_reset_reason[0] ? v.needs_reset_reason
								  : "needed a reset before the move");
	if (v.status & VIRTIO_STATUS_FAILED)
		vdev_set_status(vd, vd->status | VIRTIO_STATUS_FAILED);
	log_info("%s: device state loaded (status 0x%x, features 0x%llx, %u pairs in use)",
		 vd->name, vd->status, (unsigned long long)vd->driver_features, vd->curr_pairs);
	return 0;
}
