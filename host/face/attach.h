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

#include <stdbool.h>

#include "host/opts.h"

struct evloop;
struct vdev;

/* What the process hears of its vdevs moving between processes
 * (vfio-user migration): a vdev moved out (its state was read and its
 * client left: the vdev has let go of its peer link, the new process
 * takes it), or moved in (a state was loaded and the client set
 * RUNNING: the vdev serves its socket and its link from now on). */
struct attach_events {
	void (*moved)(void *arg, struct vdev *vd, bool in);
	void *arg;
};

/* -errno with a logged reason; nothing is left behind on failure.  The
 * vdev ends with vdev_free (which ends its face first).
 *
 * incoming (`vnet-host --incoming`): the vdev is the destination of a
 * move from another vnet-host that still serves it: it listens on
 * <name>.vfio.incoming for the client that moves it and starts its peer
 * link only once moved in, when it also takes over <name>.vfio. */
int attach_vdev(struct vdev **out, struct evloop *ev, const char *run_dir,
		const char *system, const struct vdev_opts *opts, bool incoming,
		const struct attach_events *events);

#endif /* VNET_HOST_ATTACH_H */
