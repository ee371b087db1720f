// SPDX-License-Identifier: MIT
/*
 * virtio_net_move.c - moving the device to another vnet-host while the
 * driver runs on (vfio-user migration; the VMM's part, which here is
 * ours: we own guest RAM and the interrupt eventfds).
 *
 * The source stops (MIG_DEVICE_STATE STOP) and hands out its state
 * (STOP_COPY, MIG_DATA_READ); the destination gets guest RAM (DMA_MAP),
 * the same interrupt eventfds, and the state (RESUMING, MIG_DATA_WRITE,
 * STOP), then the source's connection is closed and the destination runs
 * (RUNNING).  The rings stay where they are in guest RAM, with what is
 * in flight; the driver never resets.  Only the doorbells change: the
 * destination's ioeventfds come with its transport.  If the destination
 * refuses anything, the source runs again and nothing changed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "guest/virtio_net_priv.h"

#define MOVE_CHUNK     (64u * 1024u)
#define MOVE_MAX_STATE (1024u * 1024u)	/* far above any device's state */

/* The source's whole state (STOP_COPY): *blob (malloc'd) of *len. */
static int read_state(struct vfc_device *src, uint8_t **blob, size_t *len)
{
	uint8_t *buf = NULL;
	size_t have = 0;
	int rc;

	for (;;) {
		uint32_t got = 0;
		uint8_t *nb = realloc(buf, have + MOVE_CHUNK);

		if (!nb) {
			rc = -ENOMEM;
			break;
		}
		buf = nb;
		rc = vfc_mig_read(src, buf + have, MOVE_CHUNK, &got);
		if (rc < 0)
			break;
		have += got;
		if (got < MOVE_CHUNK || got == 0) {
			*blob = buf;
			*len = have;
			return 0;
		}
		if (have > MOVE_MAX_STATE) {
			log_err("move: the device state is larger than %u bytes", MOVE_MAX_STATE);
			rc = -E2BIG;
			break;
		}
	}
	free(buf);
	return rc;
}

/* The destination, up to a loaded state in STOP: memory, interrupts,
 * state.  On failure nothing of it is kept. */
static int prepare_dest(struct vnet_dev *d, struct vfc_device *nv, struct vtransport **nt,
			const char *dest, const uint8_t *blob, size_t len)
{
	int rc, k;

	rc = vfc_open(nv, dest);
	if (rc < 0) {
		log_err("move: cannot connect to %s: %s", dest, strerror(-rc));
		return rc;
	}
	if (nv->flags != d->vfc.flags) {
		log_err("move: %s is another kind of device (flags 0x%x, this one 0x%x)", dest,
			nv->flags, d->vfc.flags);
		rc = -ENODEV;
		goto fail;
	}
	rc = vfc_dma_map(nv, 0, d->ram.size, d->ram.fd, 0, true);
	if (rc < 0) {
		log_err("move: %s refused the guest RAM (DMA_MAP): %s", dest, strerror(-rc));
		goto fail;
	}
	rc = vn_probe(nv, dest, nt);
	if (rc < 0)
		goto fail;
	if (strcmp((*nt)->name, d->t->name) != 0) {
		log_err("move: %s is %s, this device is %s", dest, (*nt)->name, d->t->name);
		rc = -ENODEV;
		goto fail;
	}
	/* The queues come with the state; their doorbells are this
	 * transport's. */
	for (unsigned k = 0; rc == 0 && k < d->npairs; k++) {
		rc = (*nt)->ops->queue_adopt(*nt, d->rxq[k].index);
		if (rc == 0)
			rc = (*nt)->ops->queue_adopt(*nt, d->txq[k].index);
	}
	if (rc == 0 && d->has_ctrl)
		rc = (*nt)->ops->queue_adopt(*nt, d->ctrl.index);
	if (rc < 0) {
		log_err("move: %s: cannot find the queues' doorbells: %s", dest, strerror(-rc));
		goto fail;
	}
	/* The same eventfds: what the driver sleeps on stays. */
	if (d->irq_mode == IRQ_MSIX) {
		k = (*nt)->ops->irq_setup(*nt, d->irq_fd, d->nvec);
		rc = k == (int)d->nvec ? 0 : k < 0 ? k : -ENOSPC;
	} else if (d->irq_mode == IRQ_LINE) {
		rc = (*nt)->ops->line_setup(*nt, d->irq_fd[0]);
	}
	if (rc < 0) {
		log_err("move: %s cannot bind the interrupts: %s", dest, strerror(-rc));
		goto fail;
	}
	rc = vfc_mig_supported(nv);
	if (rc == 0)
		rc = vfc_mig_set_state(nv, VFC_MIG_RESUMING);
	if (rc == 0)
		rc = vfc_mig_write(nv, blob, (uint32_t)len);
	if (rc == 0)
		rc = vfc_mig_set_state(nv, VFC_MIG_STOP);	/* the state is loaded here */
	if (rc < 0) {
		log_err("move: %s did not take the device state: %s (its log says why)", dest,
			strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	if (*nt) {
		(*nt)->ops->destroy(*nt);
		*nt = NULL;
	}
	vfc_close(nv);
	return rc;
}

int vnet_dev_move(struct vnet_dev *d, const char *socket_path)
{
	struct vfc_device nv = { .sock = -1 };
	struct vtransport *nt = NULL;
	uint8_t *blob = NULL;
	size_t len = 0;
	int rc;

	if (!d || !socket_path)
		return -EINVAL;
	if (d->gone)
		return -ENOTCONN;
	rc = vfc_mig_supported(&d->vfc);
	if (rc < 0) {
		log_err("move: the device cannot be moved: %s", strerror(-rc));
		return rc;
	}
	rc = vfc_mig_set_state(&d->vfc, VFC_MIG_STOP);
	if (rc == 0)
		rc = vfc_mig_set_state(&d->vfc, VFC_MIG_STOP_COPY);
	if (rc == 0)
		rc = read_state(&d->vfc, &blob, &len);
	if (rc == 0)
		rc = prepare_dest(d, &nv, &nt, socket_path, blob, len);
	free(blob);
	if (rc == 0 && !nt)
		rc = -ENODEV;	/* prepare_dest sets it on success */
	if (rc != 0 || !nt) {
		/* Abandoned: the source runs on as before. */
		if (vfc_mig_set_state(&d->vfc, VFC_MIG_RUNNING) < 0)
			log_err("move: the source did not run again either");
		return rc;
	}
	/* The source lets go once its client is gone (its peer link, its
	 * socket); then the destination runs. */
	d->t->ops->destroy(d->t);
	vfc_close(&d->vfc);
	d->vfc = nv;
	nt->vfc = &d->vfc;
	d->t = nt;
	d->params.socket_path = socket_path;
	rc = vfc_mig_set_state(&d->vfc, VFC_MIG_RUNNING);
	if (rc < 0) {
		log_err("move: the destination did not start running: %s", strerror(-rc));
		return rc;
	}
	/* No kick needed: a device that starts running looks at every
	 * queue, so buffers made available meanwhile are seen. */
	log_info("move: device moved to %s (%zu bytes of state)", socket_path, len);
	return 0;
}
