/* SPDX-License-Identifier: MIT */
/*
 * ctrl.h - the control virtqueue: RX modes, MAC table, MAC address,
 * announce acknowledgement (virtio 1.2, 5.1.6.5).
 */
#ifndef VNET_HOST_NET_CTRL_H
#define VNET_HOST_NET_CTRL_H

#include "host/dev/vdev.h"

/* Answers every command the driver made available on the control queue. */
void net_ctrl_process(struct vdev *vd);

#endif /* VNET_HOST_NET_CTRL_H */
