// SPDX-License-Identifier: MIT
/*
 * vfio_mig.c - vfio-user migration (vfio-user.rst "Migration": the
 * layouts and states of Linux's VFIO migration v2): DEVICE_FEATURE
 * MIGRATION (STOP_COPY) and MIG_DEVICE_STATE, MIG_DATA_READ in STOP_COPY
 * and MIG_DATA_WRITE in RESUMING.  The state's bytes are the device
 * state of host/dev/state_fmt.h: the model's records and the
 * transport's.
 *
 * States and arcs (Linux's vfio.h): RUNNING <-> STOP, STOP <-> STOP_COPY,
 * STOP <-> RESUMING; any other pair of RUNNING, STOP, STOP_COPY and
 * RESUMING goes through STOP, as Linux's core walks it.  RUNNING -> STOP
 * pauses the device (vdev_pause); STOP -> STOP_COPY writes the state;
 * RESUMING -> STOP loads what was written.  A failed arc leaves ERROR,
 * which only DEVICE_RESET leaves; a failed load resets the device first,
 * so a good state can follow.  DEVICE_RESET returns to RUNNING from any
 * state (as Linux's reset does), the device reset and not paused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "host/face/vfio_server_priv.h"
#include "host/transport/transport.h"

/* Linux's enum vfio_device_mig_state. */
#define MIG_ERROR     0u
#define MIG_STOP      1u
#define MIG_RUNNING   VFIO_MIG_RUNNING
#define MIG_STOP_COPY 3u
#define MIG_RESUMING  4u
#define MIG_FLAG_STOP_COPY 1u	/* VFIO_MIGRATION_STOP_COPY */
#define FEATURE_HDR 8u		/* argsz, flags */

struct mig_state_msg {
	uint32_t device_state;
	uint32_t data_fd;	/* not used by vfio-user: -1 */
};
static_assert(sizeof(struct mig_state_msg) == 8, "MIG_DEVICE_STATE data");

struct mig_data_hdr {
	uint32_t argsz;
	uint32_t size;
};
static_assert(sizeof(struct mig_data_hdr) == 8, "MIG_DATA_READ/WRITE header");

static const char *state_name(uint32_t st)
{
	static const char *const names[] = { "ERROR", "STOP", "RUNNING", "STOP_COPY",
					     "RESUMING" };

	return st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown";
}

static void drop_buffers(struct vfio_mig *g)
{
	state_out_free(&g->out);
	g->read_off = 0;
	free(g->in);
	g->in = NULL;
	g->in_len = 0;
}

/* STOP -> STOP_COPY: the model's records, then the transport's. */
static int write_state(struct vfio_server *s)
{
	struct vfio_mig *g = &s->mig;
	int rc;

	drop_buffers(g);
	g->sent = false;
	if (!s->t->ops->state_save) {
		log_rl(LOG_WARN, "vfio-user %s: the %s transport cannot be moved", s->path,
		       s->t->ops->name);
		return -ENOTSUP;
	}
	state_out_init(&g->out);
	vdev_state_save(s->t->vdev, s->t->ops->name, &g->out);
	s->t->ops->state_save(s->t, &g->out);
	rc = state_finish(&g->out);
	if (rc < 0) {
		log_rl(LOG_WARN, "vfio-user %s: cannot write the device state: %s", s->path,
		       strerror(-rc));
		state_out_free(&g->out);
		return rc;
	}
	log_info("vfio-user %s: device state of %zu bytes ready (STOP_COPY)", s->path, g->out.len);
	return 0;
}

/* RESUMING -> STOP: the state written, checked and taken. */
static int load_state(struct vfio_server *s)
{
	struct vfio_mig *g = &s->mig;
	struct state_rec recs[STATE_MAX_RECORDS];
	const struct state_rec *tr = NULL;
	struct vdev *vd = s->t->vdev;
	char why[256];
	unsigned n;
	int rc;

	rc = state_parse(g->in, g->in_len, recs, STATE_MAX_RECORDS, &n, why, sizeof(why));
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		if (recs[i].type != STATE_REC_TRANSPORT)
			continue;
		if (tr) {
			snprintf(why, sizeof(why), "two transport records");
			rc = -EINVAL;
		}
		tr = &recs[i];
	}
	if (rc == 0 && !tr) {
		snprintf(why, sizeof(why), "no transport record");
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = vdev_state_load(vd, s->t->ops->name, recs, n, why, sizeof(why));
	if (rc == 0) {
		rc = s->t->ops->state_load(s->t, tr->data, tr->len, why, sizeof(why));
		if (rc < 0) {
			vdev_reset(vd);	/* ready for a good state, still stopped */
			vdev_pause(vd);
		}
	}
	free(g->in);
	g->in = NULL;
	g->in_len = 0;
	if (rc < 0) {
		log_rl(LOG_WARN, "vfio-user %s: device state refused: %s", s->path, why);
		return rc;
	}
	g->loaded = true;
	return 0;
}

/* One arc of the graph in the header. */
static int arc(struct vfio_server *s, uint32_t to)
{
	struct vfio_mig *g = &s->mig;
	struct vdev *vd = s->t->vdev;
	uint32_t from = g->state;
	int rc = 0;

	if (from == MIG_RUNNING && to == MIG_STOP) {
		vdev_pause(vd);
	} else if (from == MIG_STOP && to == MIG_RUNNING) {
		/* Moved in: the socket and the link are taken over first, so
		 * the device runs with them. */
		if (g->loaded && s->cbs.moved_in)
			s->cbs.moved_in(s->cbs.arg);
		g->loaded = false;
		vdev_resume(vd);
	} else if (from == MIG_STOP && to == MIG_STOP_COPY) {
		rc = write_state(s);
	} else if (from == MIG_STOP_COPY && to == MIG_STOP) {
		state_out_free(&g->out);
		g->read_off = 0;
	} else if (from == MIG_STOP && to == MIG_RESUMING) {
		drop_buffers(g);
		g->sent = false;
	} else if (from == MIG_RESUMING && to == MIG_STOP) {
		rc = load_state(s);
	} else {
		return -EINVAL;
	}
	if (rc < 0)
		return rc;
	log_debug("vfio-user %s: migration %s -> %s", s->path, state_name(from), state_name(to));
	g->state = to;
	return 0;
}

static int set_state(struct vfio_server *s, uint32_t to)
{
	struct vfio_mig *g = &s->mig;
	int rc;

	if (to == MIG_ERROR || to > MIG_RESUMING) {
		log_rl(LOG_WARN, "vfio-user %s: migration state %u (%s) cannot be asked for", s->path,
		       to, state_name(to));
		return -EINVAL;
	}
	if (g->state == MIG_ERROR) {
		log_rl(LOG_WARN, "vfio-user %s: the device is in migration state ERROR; DEVICE_RESET first",
		       s->path);
		return -EINVAL;
	}
	if (g->state == to)
		return 0;
	/* Every arc touches STOP: walk through it. */
	if (g->state != MIG_STOP && to != MIG_STOP) {
		rc = arc(s, MIG_STOP);
		if (rc < 0)
			goto failed;
	}
	rc = arc(s, to);
	if (rc == 0)
		return 0;
failed:
	log_rl(LOG_WARN, "vfio-user %s: migration %s -> %s failed (%s): state ERROR", s->path,
	       state_name(g->state), state_name(to), strerror(-rc));
	drop_buffers(g);
	g->state = MIG_ERROR;
	return rc;
}

int vfs_mig_feature(struct vfio_server *s, struct vfio_user_msg *m, struct reply *r,
		    uint32_t feature, bool get)
{
	uint8_t out[FEATURE_HDR + 8];
	uint32_t argsz = sizeof(out);

	/* A transport that cannot write its registers into a state is not
	 * movable: the spec's answer for a feature not served. */
	if (!s->t->ops->state_save || !s->t->ops->state_load || !s->t->vdev)
		return -ENOTSUP;

	memcpy(out, m->payload, FEATURE_HDR);
	memcpy(out, &argsz, 4);
	if (feature == VFIO_MIG_FEATURE_MIGRATION) {
		uint64_t flags = MIG_FLAG_STOP_COPY;

		if (!get || m->len != FEATURE_HDR)
			return -EINVAL;
		memcpy(out + FEATURE_HDR, &flags, 8);
	} else {
		struct mig_state_msg st;
		int rc;

		if (get) {
			if (m->len != FEATURE_HDR)
				return -EINVAL;
		} else {
			if (m->len != FEATURE_HDR + sizeof(st))
				return -EINVAL;
			memcpy(&st, m->payload + FEATURE_HDR, sizeof(st));
			rc = set_state(s, st.device_state);
			if (rc < 0)
				return rc;
		}
		st = (struct mig_state_msg){ .device_state = s->mig.state, .data_fd = UINT32_MAX };
		memcpy(out + FEATURE_HDR, &st, sizeof(st));
	}
	reply_small(r, out, sizeof(out));
	return 0;
}

int vfs_mig_data_read(struct vfio_server *s, struct vfio_user_msg *m, struct reply *r)
{
	struct vfio_mig *g = &s->mig;
	struct mig_data_hdr h;
	size_t left;

	memcpy(&h, m->payload, sizeof(h));
	if (g->state != MIG_STOP_COPY || !g->out.buf) {
		log_rl(LOG_WARN, "vfio-user %s: MIG_DATA_READ in migration state %s; only in STOP_COPY",
		       s->path, state_name(g->state));
		return -EINVAL;
	}
	left = g->out.len - g->read_off;
	if (h.size > left)
		h.size = (uint32_t)left;	/* short: the end of the stream */
	if (sizeof(h) + (size_t)h.size > h.argsz)
		h.size = h.argsz > sizeof(h) ? h.argsz - (uint32_t)sizeof(h) : 0;
	h.argsz = (uint32_t)sizeof(h) + h.size;
	reply_small(r, &h, sizeof(h));
	r->iov[1].iov_base = g->out.buf + g->read_off;
	r->iov[1].iov_len = h.size;
	r->iovcnt = 2;
	g->read_off += h.size;
	if (g->read_off == g->out.len)
		g->sent = true;
	return 0;
}

int vfs_mig_data_write(struct vfio_server *s, struct vfio_user_msg *m, struct reply *r)
{
	struct vfio_mig *g = &s->mig;
	struct mig_data_hdr h;
	uint8_t *nb;

	(void)r;
	memcpy(&h, m->payload, sizeof(h));
	if (g->state != MIG_RESUMING) {
		log_rl(LOG_WARN, "vfio-user %s: MIG_DATA_WRITE in migration state %s; only in RESUMING",
		       s->path, state_name(g->state));
		return -EINVAL;
	}
	if (h.size > STATE_MAX_SIZE - g->in_len) {
		log_rl(LOG_WARN, "vfio-user %s: MIG_DATA_WRITE past %u bytes of device state", s->path,
		       STATE_MAX_SIZE);
		return -E2BIG;
	}
	nb = realloc(g->in, g->in_len + h.size + 1);
	if (!nb)
		return -ENOMEM;
	memcpy(nb + g->in_len, m->payload + sizeof(h), h.size);
	g->in = nb;
	g->in_len += h.size;
	return 0;
}

void vfs_mig_reset(struct vfio_server *s)
{
	/* The transport's reset reset the device, which ended any pause. */
	drop_buffers(&s->mig);
	s->mig.sent = false;
	s->mig.loaded = false;
	s->mig.state = MIG_RUNNING;
}

bool vfs_mig_end(struct vfio_server *s)
{
	struct vfio_mig *g = &s->mig;
	bool moved = g->sent && (g->state == MIG_STOP || g->state == MIG_STOP_COPY);

	drop_buffers(g);
	g->sent = false;
	g->loaded = false;
	g->state = MIG_RUNNING;
	return moved;
}
