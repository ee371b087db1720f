/* SPDX-License-Identifier: MIT */
/*
 * vhost_user.h - a vdev served as a vhost-user backend (our `vhost-user
 * PATH` option; QEMU docs/interop/vhost-user.rst).
 *
 * The frontend (QEMU, DPDK's virtio-user) owns the transport: it hands us
 * the guest's RAM (SET_MEM_TABLE), the rings and the kick/call eventfds,
 * and we run the vdev's queues on them with the same ring code, data path,
 * peer link and counters as for a vfio-user guest.  The object is the
 * vdev's transport (vd->t): its raise() writes the queue's call eventfd.
 * A frontend that goes away resets the device, and the socket keeps
 * listening for the next one (reconnect).
 */
#ifndef VNET_HOST_VHOST_USER_H
#define VNET_HOST_VHOST_USER_H

#include <stdint.h>

#include "host/transport/transport.h"

struct vdev;

/* Listens on vd->opts->vhost_user; *out is the vdev's transport.
 * -errno with a logged reason. */
int vhost_user_create(struct transport **out, struct vdev *vd);

/* The virtio feature bits offered to a vhost-user frontend: the vdev's
 * offer without what the frontend emulates itself (the control queue and
 * what needs it), plus VHOST_USER_F_PROTOCOL_FEATURES. */
uint64_t vhost_user_offer(uint64_t device_features);

#endif /* VNET_HOST_VHOST_USER_H */
