// SPDX-License-Identifier: MIT
/*
 * attach.c - a vdev with what attaches it (see attach.h).
 */
#include "host/face/attach.h"

#include <errno.h>
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

/* A vdev served over vfio-user: its transport and the server. */
struct vfio_face {
	struct vdev *vd;
	struct transport *t;
	struct vfio_server *srv;
};

static void vfio_face_destroy(void *ctx)
{
	struct vfio_face *f = ctx;

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

static int attach_vfio_user(struct vdev *vd, const char *run_dir, const char *system)
{
	struct vfio_face *f = calloc(1, sizeof(*f));
	struct vfio_server_cbs cbs = {
		.attached = srv_attached,
		.detached = srv_detached,
		.dma_unmapped = srv_dma_unmapped,
	};
	int rc;

	if (!f)
		return -ENOMEM;
	f->vd = vd;
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
	/* The model lends its memory map to the server, which fills it from
	 * DMA_MAP and tells the model when windows go (srv_dma_unmapped). */
	rc = vfio_server_new(&f->srv, vd->ev, vd->socket_path, f->t, &vd->gm, &cbs);
	if (rc < 0)
		log_err("%s: cannot serve vfio-user on %s: %s", vd->name, vd->socket_path,
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
		const char *system, const struct vdev_opts *opts)
{
	struct vdev *vd;
	int rc = vdev_new(&vd, ev, system, opts);

	*out = NULL;
	if (rc < 0)
		return rc;
	rc = opts->has_vhost_user ? attach_vhost_user(vd) : attach_vfio_user(vd, run_dir, system);
	if (rc == 0)
		rc = vdev_link_start(vd, run_dir);
	if (rc < 0) {
		vdev_free(vd);
		return rc;
	}
	*out = vd;
	return 0;
}
