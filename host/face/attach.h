/* SPDX-License-Identifier: MIT */
/*
 * attach.h - a vdev with what attaches it, made from its options: the
 * transport its words name (`loc` + `intr`: virtio-mmio; `legacy`: 0.9.5)
 * served over vfio-user on <run_dir>/<system>/<name>.vfio, or, with
 * `vhost-user PATH`, a vhost-user backend on PATH; then its peer link.
 *
 * The one place that knows every face and transport: adding a transport
 * or a face changes this file and nothing in the model (host/dev/).
 */
#ifndef VNET_HOST_ATTACH_H
#define VNET_HOST_ATTACH_H

#include "host/opts.h"

struct evloop;
struct vdev;

/* -errno with a logged reason; nothing is left behind on failure.  The
 * vdev ends with vdev_free (which ends its face first). */
int attach_vdev(struct vdev **out, struct evloop *ev, const char *run_dir,
		const char *system, const struct vdev_opts *opts);

#endif /* VNET_HOST_ATTACH_H */
