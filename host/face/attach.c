// SPDX-License-Identifier: MIT
/*
 * attach.c - a vdev with what attaches it (see attach.h).
 */
#include "host/face/attach.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "host/dev/vdev.h"
#include "host/face/vfio_server.h"
#include "host/face/vhost_user.h"
#include "host/transport/mmio.h"
#include "host/transport/pci_legacy.h"
#include "host/transport/pci_modern.h"

/* A node the old process still holds is retried this often, this many
 * times, when a vdev moves in (it lets go once its client left and its
 * peer took what was in its rings). */
#define NODE_RETRY_MS	 50
#define NODE_RETRY_TIMES 100
/* Moving out, the peer is given this long to take our rings' frames. */
#define DRAIN_TICK_MS	 10
#define DRAIN_TICKS	 100

/* A vdev served over vfio-user: its transport and the server. */
struct vfio_face {
	struct vdev *vd;
	struct transport *t;
	struct vfio_server *srv;
	char run_dir[PATH_MAX];
	struct attach_events events;
	long link_timer;		/* retrying the node after a move in, or
					 * draining the link's rings after a move out */
	unsigned link_tries;
};

static void vfio_face_destroy(void *ctx)
{
	struct vfio_face *f = ctx;

	ev_timer_cancel(f->vd->ev, f->link_timer);
	if (f->srv)
		vfio_server_free(f->srv);
	if (f->t)
		f->t->ops->destroy(f->t);
	free(f);
}

static void srv_attached(void *arg)
{
	struct vfio_face *f = arg;

	log_info("%s: guest attached", f->vd->name);
}

static void srv_detached(void *arg)
{
	struct vfio_face *f = arg;

	log_info("%s: guest detached; device reset", f->vd->name);
	vdev_reset(f->vd);
}

static void srv_dma_unmapped(void *arg)
{
	struct vfio_face *f = arg;

	/* Guest RAM went away: no queue may keep pointing into it. */
	vdev_mem_changed(f->vd);
}

/* Moved out, the peer takes what is left in our link rings; then the
 * link goes, so the new process can take the node and link again. */
static void drain_tick(void *arg)
{
	struct vfio_face *f = arg;
	unsigned left = vdev_link_tx_in_flight(f->vd);

	f->link_timer = -1;
	if (left && ++f->link_tries < DRAIN_TICKS) {
		long id = ev_timer(f->vd->ev, DRAIN_TICK_MS, drain_tick, f);

		if (id > 0) {
			f->link_timer = id;
			return;
		}
	}
	if (left)
		log_warn("%s: the peer did not take %u frames in time; they are lost", f->vd->name,
			 left);
	log_info("%s: moved to another process; leaving the peer link", f->vd->name);
	/* The new process links as soon as we are gone (it retries the
	 * node for as long as the peer holds frames for it). */
	vdev_link_moving(f->vd, NODE_RETRY_MS * NODE_RETRY_TIMES);
	vdev_link_stop(f->vd);
	if (f->events.moved)
		f->events.moved(f->events.arg, f->vd, false);
}

/* The device lives in another process now: it takes nothing more from
 * the link (the new process will), and leaves once its frames are out. */
static void srv_moved_out(void *arg)
{
	struct vfio_face *f = arg;

	vdev_link_quiesce(f->vd);
	f->link_tries = 0;
	drain_tick(f);
}

static void link_retry(void *arg)
{
	struct vfio_face *f = arg;
	int rc;

	f->link_timer = -1;
	if (f->vd->link)
		return;
	rc = vdev_link_start(f->vd, f->run_dir, f->link_tries + 1 < NODE_RETRY_TIMES);
	if (rc == -EADDRINUSE && ++f->link_tries < NODE_RETRY_TIMES) {
		long id = ev_timer(f->vd->ev, NODE_RETRY_MS, link_retry, f);

		f->link_timer = id > 0 ? id : -1;
	} else if (rc < 0) {
		log_err("%s: moved in, but the peer link cannot start: %s", f->vd->name,
			strerror(-rc));
	}
}

/* The device lives here now: its socket and its peer link. */
static void srv_moved_in(void *arg)
{
	struct vfio_face *f = arg;

	if (vfio_server_rename(f->srv, f->vd->socket_path) < 0)
		log_err("%s: moved in, but still serving its incoming socket", f->vd->name);
	log_info("%s: moved in from another process", f->vd->name);
	f->link_tries = 0;
	/* Frames the guest queues wait for the link the old process had. */
	vdev_link_await(f->vd, NODE_RETRY_MS * NODE_RETRY_TIMES);
	link_retry(f);
	if (f->events.moved)
		f->events.moved(f->events.arg, f->vd, true);
}

/* The hypervisor's words pick the transport: `loc` (with `intr`) makes
 * the device virtio-mmio, `legacy` the 0.9.5 interface (4.1.4.10, 4.2.4). */
static int transport_create(struct transport **t, struct vdev *vd)
{
	const struct vdev_opts *o = vd->opts;
	int rc;

	if (o->has_loc) {
		rc = mmio_create(t, vd);
		/* 4.2.1: virtio-mmio has no discovery; the guest is told
		 * where the device is and which interrupt it raises (as by
		 * a device tree).  Nothing on the wire carries them. */
		if (rc == 0)
			log_info("%s: virtio-mmio version %d at 0x%llx, interrupt %s",
				 vd->name, vd->legacy ? 1 : 2,
				 (unsigned long long)o->loc, o->intr);
		return rc;
	}
	if (o->legacy)
		return pci_legacy_create(t, vd);
	return pci_modern_create(t, vd);
}

/* The ioeventfds the guest is handed for its notify registers
 * (GET_REGION_IO_FDS): a kick is one eventfd write. */
static int make_kick_fds(struct vdev *vd)
{
	for (unsigned i = 0; i < vd->num_queues; i++) {
		int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		int rc;

		if (fd < 0)
			return -errno;
		rc = vdev_queue_set_kick_fd(vd, i, fd);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int attach_vfio_user(struct vdev *vd, const char *run_dir, const char *system,
			    bool incoming, const struct attach_events *events)
{
	struct vfio_face *f = calloc(1, sizeof(*f));
	struct vfio_server_cbs cbs = {
		.attached = srv_attached,
		.detached = srv_detached,
		.dma_unmapped = srv_dma_unmapped,
		.moved_out = srv_moved_out,
		.moved_in = srv_moved_in,
	};
	char listen_path[PATH_MAX + sizeof(OPTS_INCOMING_SUFFIX)];
	int rc;

	if (!f)
		return -ENOMEM;
	f->vd = vd;
	f->link_timer = -1;
	snprintf(f->run_dir, sizeof(f->run_dir), "%s", run_dir);
	if (events)
		f->events = *events;
	rc = transport_create(&f->t, vd);
	if (rc < 0) {
		free(f);
		return rc;
	}
	vdev_attach(vd, &f->t->irq,
		    &(struct vdev_face){ .name = f->t->ops->name, .destroy = vfio_face_destroy,
					 .ctx = f });
	rc = make_kick_fds(vd);
	if (rc < 0)
		return rc;
	rc = snprintf(vd->socket_path, sizeof(vd->socket_path), "%s/%s/%s.vfio", run_dir,
		      system, vd->name);
	if (rc < 0 || (size_t)rc >= sizeof(vd->socket_path) || rc >= OPTS_PATH_MAX) {
		log_err("%s: socket path %s/%s/%s.vfio is too long for a UNIX socket",
			vd->name, run_dir, system, vd->name);
		return -ENAMETOOLONG;
	}
	cbs.arg = f;
	snprintf(listen_path, sizeof(listen_path), "%s%s", vd->socket_path,
		 incoming ? OPTS_INCOMING_SUFFIX : "");
	/* The model lends its memory map to the server, which fills it from
	 * DMA_MAP and tells the model when windows go (srv_dma_unmapped). */
	rc = vfio_server_new(&f->srv, vd->ev, listen_path, f->t, &vd->gm, &cbs);
	if (rc < 0)
		log_err("%s: cannot serve vfio-user on %s: %s", vd->name, listen_path,
			strerror(-rc));
	return rc;
}

static int attach_vhost_user(struct vdev *vd)
{
	struct vhost_user *vu;
	int rc = vhost_user_create(&vu, vd);

	if (rc < 0)
		return rc;
	/* The frontend brings the kick and call fds; no vfio-user server. */
	vdev_attach(vd, &(struct vdev_irq){ .raise = vhost_user_raise, .ctx = vu },
		    &(struct vdev_face){ .name = "vhost-user", .destroy = vhost_user_destroy,
					 .mem_fault = vhost_user_mem_fault,
					 .frontend_ctrlq = true, .ctx = vu });
	snprintf(vd->socket_path, sizeof(vd->socket_path), "%s", vd->opts->vhost_user);
	return 0;
}

int attach_vdev(struct vdev **out, struct evloop *ev, const char *run_dir,
		const char *system, const struct vdev_opts *opts, bool incoming,
		const struct attach_events *events)
{
	struct vdev *vd;
	int rc = vdev_new(&vd, ev, system, opts);

	*out = NULL;
	if (rc < 0)
		return rc;
	rc = opts->has_vhost_user ? attach_vhost_user(vd)
				  : attach_vfio_user(vd, run_dir, system, incoming, events);
	/* Moving in: the link starts once the device is here. */
	if (rc == 0 && !incoming)
		rc = vdev_link_start(vd, run_dir, false);
	if (rc < 0) {
		vdev_free(vd);
		return rc;
	}
	*out = vd;
	return 0;
}
