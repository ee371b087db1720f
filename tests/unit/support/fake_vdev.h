/* SPDX-License-Identifier: MIT */
/*
 * fake_vdev.h - a device model with no face, for the transport tests:
 * made by the real vdev_new, then given the feature offer a test wants,
 * real kick eventfds (for the notify areas a transport hands out), and
 * optionally guest RAM from a memfd.  The test attaches its transport's
 * interrupt part itself (vd->irq = t->irq).
 */
#ifndef VNET_TEST_FAKE_VDEV_H
#define VNET_TEST_FAKE_VDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "host/dev/vdev.h"

/* A one-pair device's queues: receiveq1, transmitq1, controlq (5.1.2). */
#define ONE_PAIR_QUEUES 3

struct fake_vdev {
	struct vdev_opts opts;
	struct vdev *vd;
};

/* name "t", MAC 52:54:00:01:02:03, MTU 1500; the offer is exactly
 * device_features.  ram_size 0: no guest RAM.  Asserts on failure. */
void fake_vdev_init(struct fake_vdev *f, struct evloop *ev, bool legacy,
		    uint64_t device_features, uint64_t ram_gpa, uint64_t ram_size);
/* The same with `queues pairs` (2 * pairs + 1 queues). */
void fake_vdev_init_pairs(struct fake_vdev *f, struct evloop *ev, bool legacy,
			  uint64_t device_features, uint64_t ram_gpa, uint64_t ram_size,
			  unsigned pairs);
void fake_vdev_fini(struct fake_vdev *f);

struct transport;
/* Closes the irq eventfds a test bound on t, then destroys t. */
void fake_transport_free(struct transport *t);

#endif /* VNET_TEST_FAKE_VDEV_H */
