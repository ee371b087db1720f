// SPDX-License-Identifier: MIT
/*
 * test_state.c - the device state a vfio-user migration moves
 * (host/dev/state_fmt.c, host/dev/state.c, the transports' records):
 * a running two-pair device with control-queue state is saved and loaded
 * into a fresh device of the same options, which then is the same device
 * as its driver sees it; and every kind of bad state is refused with a
 * reason that names it, leaving the destination able to take a good one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/virtio.h"
#include "host/dev/state_fmt.h"
#include "host/dev/vdev.h"
#include "host/dp/dp.h"
#include "host/evloop.h"
#include "host/transport/mmio.h"
#include "host/transport/pci_modern.h"
#include "host/transport/transport.h"
#include "tests/unit/support/fake_vdev.h"

#define RAM	 (1u << 20)
#define QSIZE	 256
#define PAIRS	 2
#define FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) | \
		  VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_NET_F_STATUS) |            \
		  VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) |         \
		  VIRTIO_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | VIRTIO_BIT(VIRTIO_NET_F_MQ) |        \
		  VIRTIO_BIT(VIRTIO_NET_F_VQ_NOTF_COAL) | VIRTIO_BIT(VIRTIO_NET_F_HASH_REPORT))

struct side {
	struct fake_vdev f;
	struct transport *t;
};

struct env {
	struct evloop *ev;
	struct side src, dst;
	struct state_out blob;
};

static void side_init(struct env *e, struct side *s, unsigned pairs)
{
	fake_vdev_init_pairs(&s->f, e->ev, false, FEATURES, 0, RAM, pairs);
	assert_int_equal(pci_modern_create(&s->t, s->f.vd), 0);
	s->f.vd->irq = s->t->irq;
}

static void side_fini(struct side *s)
{
	if (s->t)
		fake_transport_free(s->t);
	s->t = NULL;
	if (s->f.vd)
		fake_vdev_fini(&s->f);
}

static void ctrl(struct vdev *vd, const void *cmd, uint32_t len)
{
	assert_int_equal(dp_ctrl_command(vd, cmd, len), VIRTIO_NET_OK);
}

/* What a driver does (3.1.1) plus some control-queue state: every pair
 * in use, promiscuous off, a MAC address, one queue's coalescing and the
 * hash HASH_REPORT uses (HASH_CONFIG: TCPv4 and IPv6, a 4-byte key). */
static void drive(struct vdev *vd, struct transport *t)
{
	const uint8_t promisc_off[] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 0 };
	const uint8_t mac[] = { VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
				0x52, 0x54, 0, 9, 9, 9 };
	const uint8_t pairs[] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, PAIRS, 0 };
	uint8_t coal[2 + sizeof(struct virtio_net_ctrl_coal_vq)] = {
		VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET };
	struct virtio_net_ctrl_coal_vq cv = { .vqn = 1, .coal = { 32, 50 } };
	uint8_t hash[2 + sizeof(struct virtio_net_hash_config_head) + 4] = {
		VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_HASH_CONFIG };
	struct virtio_net_hash_config_head hh = { .hash_types = 0xa, .hash_key_length = 4 };
	uint16_t cmd = 0x6;	/* PCI command: memory, bus master */

	vdev_set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vdev_set_driver_features_window(vd, 0, (uint32_t)FEATURES);
	vdev_set_driver_features_window(vd, 1, (uint32_t)(FEATURES >> 32));
	vdev_set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				    VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < vd->num_queues; q++) {
		uint64_t base = 0x10000u * (q + 1);

		vdev_queue_set_size(vd, q, QSIZE);
		vdev_queue_set_addr(vd, q, 0, base);
		vdev_queue_set_addr(vd, q, 1, base + 0x1000);
		vdev_queue_set_addr(vd, q, 2, base + 0x2000);
		vdev_queue_enable(vd, q);
		assert_true(vd->q[q].enabled);
	}
	vdev_set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				    VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	assert_true(vdev_running(vd));
	/* Ring positions away from 0, as after traffic. */
	assert_int_equal(vdev_queue_set_base(vd, 1, 1234), 0);
	ctrl(vd, promisc_off, sizeof(promisc_off));
	ctrl(vd, mac, sizeof(mac));
	ctrl(vd, pairs, sizeof(pairs));
	memcpy(coal + 2, &cv, sizeof(cv));
	ctrl(vd, coal, sizeof(coal));
	memcpy(hash + 2, &hh, sizeof(hh));
	memcpy(hash + 2 + sizeof(hh), "\x6d\x5a\x56\xda", 4);
	ctrl(vd, hash, sizeof(hash));
	assert_int_equal(t->ops->region_write(t, 7 /* config */, 4, &cmd, 2), 0);
}

static void save(struct side *s, struct state_out *o)
{
	state_out_init(o);
	assert_int_equal(vdev_state_save(s->f.vd, s->t->ops->name, o), 0);
	s->t->ops->state_save(s->t, o);
	assert_int_equal(state_finish(o), 0);
}

/* What the destination's face does with a blob (host/face/vfio_mig.c):
 * the device is paused (STOP) while it takes the state. */
static int load(struct side *s, const uint8_t *blob, size_t len, char *why, size_t whylen)
{
	struct state_rec recs[STATE_MAX_RECORDS];
	const struct state_rec *tr = NULL;
	unsigned n;
	int rc;

	vdev_pause(s->f.vd);
	rc = state_parse(blob, len, recs, STATE_MAX_RECORDS, &n, why, whylen);

	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < n; i++)
		if (recs[i].type == STATE_REC_TRANSPORT)
			tr = &recs[i];
	rc = vdev_state_load(s->f.vd, s->t->ops->name, recs, n, why, whylen);
	if (rc < 0)
		return rc;
	if (!tr) {
		snprintf(why, whylen, "no transport record");
		return -EINVAL;
	}
	return s->t->ops->state_load(s->t, tr->data, tr->len, why, whylen);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->ev = evloop_new();
	assert_non_null(e->ev);
	side_init(e, &e->src, PAIRS);
	drive(e->src.f.vd, e->src.t);
	save(&e->src, &e->blob);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	side_fini(&e->src);
	side_fini(&e->dst);
	state_out_free(&e->blob);
	evloop_free(e->ev);
	free(e);
	return 0;
}

/* The destination is the source's device, as its driver sees it. */
static void assert_same_device(const struct vdev *a, const struct vdev *b)
{
	uint32_t pa, ua, pb, ub;

	assert_int_equal(b->status, a->status);
	assert_true(b->driver_features == a->driver_features);
	assert_true(b->device_features == a->device_features);
	assert_int_equal(b->curr_pairs, a->curr_pairs);
	assert_memory_equal(b->cfg.mac, a->cfg.mac, 6);
	assert_int_equal(b->config_generation, a->config_generation);
	assert_int_equal(b->filter.promisc, a->filter.promisc);
	assert_int_equal(b->hash.hash_types, 0xa);
	assert_int_equal(b->hash.key_len, 4);
	assert_memory_equal(b->hash.key, a->hash.key, 4);
	for (unsigned q = 0; q < a->num_queues; q++) {
		assert_int_equal(b->q[q].enabled, a->q[q].enabled);
		assert_int_equal(b->q[q].size, a->q[q].size);
		assert_true(b->q[q].addrs.desc == a->q[q].addrs.desc);
		assert_true(b->q[q].addrs.device == a->q[q].addrs.device);
		assert_int_equal(vdev_queue_get_base(b, q), vdev_queue_get_base(a, q));
	}
	dp_coal_get(a, 1, &pa, &ua);
	dp_coal_get(b, 1, &pb, &ub);
	assert_int_equal(pb, 32);
	assert_int_equal(ub, 50);
	assert_int_equal(pa, pb);
}

static void test_round_trip(void **state)
{
	struct env *e = *state;
	uint8_t a[2], b[2];
	char why[256] = "";

	side_init(e, &e->dst, PAIRS);
	assert_int_equal(load(&e->dst, e->blob.buf, e->blob.len, why, sizeof(why)), 0);
	assert_same_device(e->src.f.vd, e->dst.f.vd);
	assert_int_equal(vdev_queue_get_base(e->dst.f.vd, 1), 1234);
	assert_false(e->dst.f.vd->filter.promisc);
	/* The transport's registers came along (PCI command). */
	assert_int_equal(e->src.t->ops->region_read(e->src.t, 7, 4, a, 2), 0);
	assert_int_equal(e->dst.t->ops->region_read(e->dst.t, 7, 4, b, 2), 0);
	assert_memory_equal(a, b, 2);
	assert_int_equal(b[0], 0x6);
}

/* Each bad blob is refused naming what was wrong; the same destination
 * then takes the good one. */
static void expect_refused(struct env *e, const uint8_t *blob, size_t len, const char *needle)
{
	char why[256] = "";

	assert_int_equal(load(&e->dst, blob, len, why, sizeof(why)), -EINVAL);
	if (!strstr(why, needle))
		fail_msg("refusal '%s' does not name '%s'", why, needle);
	assert_int_equal(e->dst.f.vd->status, 0);
}

static void test_bad_blobs(void **state)
{
	struct env *e = *state;
	size_t len = e->blob.len;
	uint8_t *b = malloc(len);
	char why[256] = "";

	assert_non_null(b);
	side_init(e, &e->dst, PAIRS);
	expect_refused(e, e->blob.buf, len - 8, "truncated");
	expect_refused(e, e->blob.buf, 10, "shorter than its");
	memcpy(b, e->blob.buf, len);
	b[len / 2] ^= 0x40;
	expect_refused(e, b, len, "corrupted");
	memcpy(b, e->blob.buf, len);
	b[0] = 'X';
	expect_refused(e, b, len, "bad magic");
	memcpy(b, e->blob.buf, len);
	b[8] = 9;	/* version */
	expect_refused(e, b, len, "version 9");
	free(b);
	assert_int_equal(load(&e->dst, e->blob.buf, len, why, sizeof(why)), 0);
	assert_same_device(e->src.f.vd, e->dst.f.vd);
}

/* A destination with other options refuses, naming the difference. */
static void test_other_options(void **state)
{
	struct env *e = *state;
	char why[256] = "";
	struct transport *mt;

	side_init(e, &e->dst, 1);
	expect_refused(e, e->blob.buf, e->blob.len, "2 queue pairs, this one has 1");
	side_fini(&e->dst);
	/* Another transport: the identity names it. */
	fake_vdev_init_pairs(&e->dst.f, e->ev, false, FEATURES, 0, RAM, PAIRS);
	assert_int_equal(mmio_create(&mt, e->dst.f.vd), 0);
	e->dst.t = mt;
	assert_int_equal(load(&e->dst, e->blob.buf, e->blob.len, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "pci-modern device, this one is mmio-v2"));
}

/* Well framed but hostile: records a driver could not have made. */
static void test_hostile_records(void **state)
{
	struct env *e = *state;
	struct state_rec recs[STATE_MAX_RECORDS];
	const uint8_t bad_pairs[] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 9, 0 };
	struct state_out o;
	char why[256];
	unsigned n;

	side_init(e, &e->dst, PAIRS);
	assert_int_equal(state_parse(e->blob.buf, e->blob.len, recs, STATE_MAX_RECORDS, &n, why,
				     sizeof(why)),
			 0);
	/* The good records, then one more: a control command asking for
	 * 9 of 2 pairs. */
	state_out_init(&o);
	for (unsigned i = 0; i < n; i++)
		state_put(&o, recs[i].type, recs[i].data, recs[i].len);
	state_put(&o, STATE_REC_CTRL, bad_pairs, sizeof(bad_pairs));
	assert_int_equal(state_finish(&o), 0);
	expect_refused(e, o.buf, o.len, "control command class 4 cmd 0");
	state_out_free(&o);
	/* A queue record for a queue the device does not have. */
	state_out_init(&o);
	for (unsigned i = 0; i < n; i++) {
		if (recs[i].type == STATE_REC_QUEUE) {
			uint8_t q[64];

			memcpy(q, recs[i].data, recs[i].len);
			q[0] = 99;	/* index */
			state_put(&o, recs[i].type, q, recs[i].len);
			continue;
		}
		state_put(&o, recs[i].type, recs[i].data, recs[i].len);
	}
	assert_int_equal(state_finish(&o), 0);
	expect_refused(e, o.buf, o.len, "queue 99");
	state_out_free(&o);
	/* A record type this version does not know. */
	state_out_init(&o);
	state_put(&o, 77, "x", 1);
	assert_int_equal(state_finish(&o), 0);
	expect_refused(e, o.buf, o.len, "type 77 is unknown");
	state_out_free(&o);
	/* No identity at all. */
	state_out_init(&o);
	assert_int_equal(state_finish(&o), 0);
	expect_refused(e, o.buf, o.len, "no identity record");
	state_out_free(&o);
	assert_int_equal(load(&e->dst, e->blob.buf, e->blob.len, why, sizeof(why)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_blobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_records, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
