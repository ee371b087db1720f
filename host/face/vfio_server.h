/* SPDX-License-Identifier: MIT */
/*
 * vfio_server.h - serves one vdev to one guest over vfio-user (QEMU
 * docs/interop/vfio-user.rst) on a UNIX socket.
 *
 * One client at a time: a second connection gets an EBUSY error reply to
 * its VERSION and is closed, so its user sees why.  Malformed messages get
 * a header-only error reply; when the framing is lost (bad size, short
 * read) the connection is closed.  Either way the process goes on serving
 * its other vdevs.  When the client goes away, every DMA window is
 * unmapped and every irq eventfd closed, and the device is reset.
 */
#ifndef VNET_HOST_VFIO_SERVER_H
#define VNET_HOST_VFIO_SERVER_H

#include <stdbool.h>
#include <stdint.h>

struct evloop;
struct gmem;
struct transport;
struct vfio_server;

struct vfio_server_cbs {
	void *arg;
	/* A client finished VERSION negotiation. */
	void (*attached)(void *arg);
	/* The client is gone (or was dropped). Called before DMA windows are
	 * unmapped: stop using guest memory here. */
	void (*detached)(void *arg);
	/* DMA windows were removed (DMA_UNMAP): nothing may keep a pointer
	 * into them; called before the reply. */
	void (*dma_unmapped)(void *arg);
	/* Migration: the client read this device's whole state and left;
	 * the device now lives in another process (called before the
	 * device is reset).  NULL: nothing to do. */
	void (*moved_out)(void *arg);
	/* Migration: a state was loaded and the client set RUNNING; the
	 * device now lives here. */
	void (*moved_in)(void *arg);
};

/* Listens on path (mode 0600; a stale socket left by a dead process is
 * replaced, a live one is refused with -EADDRINUSE).  gm is the vdev's
 * guest memory table, filled by DMA_MAP. */
int vfio_server_new(struct vfio_server **out, struct evloop *ev,
		    const char *path, struct transport *t, struct gmem *gm,
		    const struct vfio_server_cbs *cbs);
/* Moves the listening socket to path (replacing what is there): a
 * device that moved in from another process takes over its socket.
 * 0 or -errno. */
int vfio_server_rename(struct vfio_server *s, const char *path);
/* Closes the client and the listener and unlinks the socket. */
void vfio_server_free(struct vfio_server *s);
bool vfio_server_has_client(const struct vfio_server *s);

#endif /* VNET_HOST_VFIO_SERVER_H */
