/* SPDX-License-Identifier: MIT */
/*
 * vfio_server_priv.h - what vfio_server.c (connections) and
 * face/vfio_cmds.c (commands) share.  Not for other users.
 */
#ifndef VNET_HOST_VFIO_SERVER_PRIV_H
#define VNET_HOST_VFIO_SERVER_PRIV_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/vfio_user/codec.h"
#include "host/dev/state_fmt.h"
#include "host/evloop.h"
#include "host/face/vfio_server.h"

/* A message that has started must be complete within this time, and a
 * reply must fit into the socket within this time, or the client is
 * dropped: a stalled client must not stall the process. */
#define SERVER_REST_MS 1000
#define SERVER_SEND_MS 1000
/* Receive buffer: the largest payload we accept (a 1 MiB REGION_WRITE). */
#define SERVER_BUF_SIZE (VFIO_USER_MAX_MSG - VFIO_USER_HDR_SIZE)

struct vfio_server {
	struct evloop *ev;
	struct transport *t;
	struct gmem *gm;
	struct vfio_server_cbs cbs;
	char *path;
	dev_t sock_dev;			/* our node, so free unlinks only it */
	ino_t sock_ino;

	int listen_fd;
	struct ev_handler listen_h;
	long accept_timer;		/* accepting paused (out of fds) */

	int client_fd;			/* -1: none */
	struct ev_handler client_h;
	bool negotiated;		/* VERSION done */
	struct vfio_user_caps client_caps;

	int reject_fd;			/* a second client awaiting EBUSY */
	struct ev_handler reject_h;
	long reject_timer;

	uint8_t *buf;			/* SERVER_BUF_SIZE bytes */

	/* Migration (vfio_mig.c): the device state (a VFIO_MIG_* value),
	 * the state being read (STOP_COPY) or written (RESUMING). */
	struct vfio_mig {
		uint32_t state;
		struct state_out out;	/* STOP_COPY: the blob ... */
		size_t read_off;	/* ... and how much was read */
		bool sent;		/* the client read all of it */
		uint8_t *in;		/* RESUMING: what was written */
		size_t in_len;
		bool loaded;		/* a state was taken: RUNNING tells */
	} mig;
};

/* Doorbells we describe per GET_REGION_IO_FDS reply. */
#define SERVER_MAX_IO_FDS 64

/* A reply under construction; iov points into `small`, the request or
 * memory the server owns until the reply is sent. */
struct reply {
	struct iovec iov[2];
	int iovcnt;
	int fds[VFIO_USER_MAX_FDS];
	unsigned nfds;
	union {
		uint8_t bytes[sizeof(struct vfio_user_region_io_fds) +
			      SERVER_MAX_IO_FDS * sizeof(struct vfio_user_ioeventfd)];
		uint64_t align;
	} small;
};

/* The reply is a copy of p (len bytes). */
void reply_small(struct reply *r, const void *p, size_t len);

/* vfio_mig.c: migration (vfio-user.rst "Migration", after Linux's VFIO
 * v2 protocol): DEVICE_FEATURE MIGRATION and MIG_DEVICE_STATE, and the
 * state's bytes through MIG_DATA_READ / MIG_DATA_WRITE.  Each returns 0
 * with r filled, or -errno for an error reply. */
#define VFIO_MIG_RUNNING	   2u	/* Linux's VFIO_DEVICE_STATE_RUNNING */
#define VFIO_MIG_FEATURE_MIGRATION 1u
#define VFIO_MIG_FEATURE_STATE	   2u
int vfs_mig_feature(struct vfio_server *s, struct vfio_user_msg *m, struct reply *r,
		    uint32_t feature, bool get);
int vfs_mig_data_read(struct vfio_server *s, struct vfio_user_msg *m, struct reply *r);
int vfs_mig_data_write(struct vfio_server *s, struct vfio_user_msg *m, struct reply *r);
/* DEVICE_RESET (after the transport's): the migration state is RUNNING
 * again, as after Linux's reset. */
void vfs_mig_reset(struct vfio_server *s);
/* The client left: the migration ends; true when it had read the whole
 * state (the device moved away). */
bool vfs_mig_end(struct vfio_server *s);

/* Handles one checked-in message; < 0 means close the connection. */
int vfs_handle_message(struct vfio_server *s, struct vfio_user_msg *m);
void vfs_drop_client(struct vfio_server *s, const char *why);

#endif /* VNET_HOST_VFIO_SERVER_PRIV_H */
