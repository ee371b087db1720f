/* SPDX-License-Identifier: MIT */
/*
 * node.h - a vdev's node: the UNIX socket <run_dir>/<system>/<name> that
 * peers connect to, and the outgoing connection to a peer's node.
 *
 * Ownership of a node path is decided by the kernel: a node whose
 * listener is gone refuses connections (ECONNREFUSED), so it is stale and
 * may be replaced; one that accepts belongs to a live process and makes
 * us refuse to start.
 */
#ifndef VNET_HOST_PEER_NODE_H
#define VNET_HOST_PEER_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct peer_node {
	int fd;		/* listening socket, non-blocking */
	char path[108];
	dev_t dev;	/* identity of the socket file we bound, so that */
	ino_t ino;	/* we never unlink somebody else's */
	long holder_pid;	/* -EADDRINUSE: who holds the path (0: unknown) */
};

/* mkdir -p for dir, creating missing components with mode (0700 here). */
int peer_mkdir_p(const char *dir, mode_t mode);

/* Creates the directories above path (0700), replaces a stale node,
 * binds a SOCK_SEQPACKET listener with mode 0600 and listens.
 * *was_stale tells whether a dead process's node was replaced (not one
 * its owner removed while we looked: that name is simply free).
 * -EADDRINUSE if a live process listens there (or binds first), -EEXIST
 * if path is not a socket; err (if given) says which. */
int peer_node_listen(struct peer_node *n, const char *path, bool *was_stale,
		     char *err, size_t errlen);
/* Unlinks the node if it is still the file we bound, then closes the
 * listener (in that order, so that nobody takes the name over before it
 * is gone).  Safe to call twice. */
void peer_node_close(struct peer_node *n);

/* Connects to a node without blocking: 0 with *fd_out set (the
 * connection is established: UNIX sockets connect at once), or -errno
 * (-ENOENT no node, -ECONNREFUSED stale, -EAGAIN backlog full, ...). */
int peer_node_connect(const char *path, int *fd_out);

/* The uid of the process at the other end of a connected socket, or
 * -errno. */
long peer_sock_uid(int fd);

#endif /* VNET_HOST_PEER_NODE_H */
