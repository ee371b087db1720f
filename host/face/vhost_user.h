/* SPDX-License-Identifier: MIT */
/*
 * vhost_user.h - a vdev served as a vhost-user backend (our `vhost-user
 * PATH` option; QEMU docs/interop/vhost-user.rst).
 *
 * The frontend (QEMU, DPDK's virtio-user) owns the transport: it hands us
 * the guest's RAM (SET_MEM_TABLE), the rings and the kick/call eventfds,
 * and we run the vdev's queues on them with the same ring code, data path,
 * peer link and counters as for a vfio-user guest.  There are no
 * registers, so no transport: the face gives the model its interrupt
 * (vhost_user_raise writes the queue's call eventfd) and its end
 * (vhost_user_destroy) through vdev_attach, and drives the model through
 * vdev.h's API only.  A frontend that goes away resets the device, and
 * the socket keeps listening for the next one (reconnect).
 */
#ifndef VNET_HOST_VHOST_USER_H
#define VNET_HOST_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

struct vdev;
struct vhost_user;

/* Listens on vd->opts->vhost_user.  -errno with a logged reason. */
int vhost_user_create(struct vhost_user **out, struct vdev *vd);
/* struct vdev_irq's raise and struct vdev_face's destroy (ctx: the
 * struct vhost_user). */
bool vhost_user_raise(void *ctx, int q);
void vhost_user_destroy(void *ctx);
/* struct vdev_face's mem_fault: the frontend's memory file shrank under
 * us, so it is dropped (logged with why); the socket takes the next. */
void vhost_user_mem_fault(void *ctx, const char *why);

/* The virtio feature bits offered to a vhost-user frontend: the vdev's
 * offer without what the frontend emulates itself (the control queue and
 * what needs it), plus VHOST_USER_F_PROTOCOL_FEATURES. */
uint64_t vhost_user_offer(uint64_t device_features);

#endif /* VNET_HOST_VHOST_USER_H */
