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
};

/* Handles one checked-in message; < 0 means close the connection. */
int vfs_handle_message(struct vfio_server *s, struct vfio_user_msg *m);
void vfs_drop_client(struct vfio_server *s, const char *why);

#endif /* VNET_HOST_VFIO_SERVER_PRIV_H */
