/* SPDX-License-Identifier: MIT */
/*
 * control.h - the process's control socket, <run-dir>/<system>/.control:
 * `vnet-host stats` reads every vdev's counters through it while the
 * process runs.
 *
 * A UNIX stream socket, mode 0600, and a client of another uid is
 * refused (SO_PEERCRED), like the peer nodes.  One request line per
 * connection ("stats" or "stats json", at most CONTROL_REQ_MAX bytes,
 * within CONTROL_TIMEOUT_MS), one reply, then the server closes.
 * Anything else gets "error: ..." and is logged (rate-limited).
 */
#ifndef VNET_HOST_CONTROL_H
#define VNET_HOST_CONTROL_H

#include <stddef.h>

#include "host/evloop.h"

#define CONTROL_NAME	   ".control"	/* a vdev name never starts with "." */
#define CONTROL_REQ_MAX	   64
#define CONTROL_TIMEOUT_MS 1000
#define CONTROL_MAX_CONNS  4
#define CONTROL_REPLY_MAX  (64 * 1024)

struct control;

/* Writes the reply to a request (json or text) into buf; returns its
 * length (at most len - 1, NUL-terminated). */
typedef size_t (*control_stats_fn)(void *arg, bool json, char *buf, size_t len);

/* Listens on dir/.control (a stale socket of a dead process is replaced,
 * a live one is -EADDRINUSE). */
int control_start(struct control **out, struct evloop *ev, const char *dir,
		  control_stats_fn fn, void *arg);
/* Closes every connection and removes the socket.  NULL is ok. */
void control_stop(struct control *c);

/* The client side: connects to dir/.control, asks, copies the reply to
 * stdout.  0, or -errno with a message on stderr. */
int control_query(const char *dir, const char *request);

#endif /* VNET_HOST_CONTROL_H */
