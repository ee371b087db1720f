/* SPDX-License-Identifier: MIT */
/*
 * control.h - the process's control socket, <run-dir>/<system>/.control:
 * `vnet-host stats` reads every vdev's counters through it while the
 * process runs, and `vnet-host capture` records a vdev's frames.
 *
 * A UNIX socket (SOCK_SEQPACKET), mode 0600, and a client of another uid
 * is refused (SO_PEERCRED), like the peer nodes.  One request line per
 * connection, at most CONTROL_REQ_MAX bytes, within CONTROL_TIMEOUT_MS:
 *
 *   "stats", "stats json"  one reply, then the server closes;
 *   "capture NAME"         the connection becomes vdev NAME's live
 *                          capture: pcap (the file header first) in
 *                          messages of at most CAPTURE_MSG_MAX bytes,
 *                          until the client closes it
 *                          (host/dev/capture.h);
 *   "handover NAME [bridge BR [vxlan IF]]"
 *                          tap vdev NAME lets go of its TAP interface,
 *                          kept with its addresses, and of its peer link,
 *                          for a vnet-host --incoming that takes them
 *                          over, with the bridge and VXLAN port it names
 *                          (they must be the vdev's own); the reply "ok",
 *                          then " made bridge", " made vxlan" for those
 *                          the vdev had created (now the taker's to
 *                          delete), comes once it has
 *                          (host/tap/tap_move.c);
 *   "handover-check NAME [bridge BR [vxlan IF]]"
 *                          "ok" if that handover would be accepted, and
 *                          nothing is done: a taker of several vdevs
 *                          asks for each before it takes any.
 *
 * Anything else, or a capture that cannot start, gets "error: ..." and is
 * logged (rate-limited).
 */
#ifndef VNET_HOST_CONTROL_H
#define VNET_HOST_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#include "host/evloop.h"

#define CONTROL_NAME	   ".control"	/* a vdev name never starts with "." */
#define CONTROL_REQ_MAX	   128	/* "handover NAME bridge BR vxlan IF" */
#define CONTROL_TIMEOUT_MS 1000
#define CONTROL_MAX_CONNS  4
#define CONTROL_REPLY_MAX  (64 * 1024)

struct control;

struct control_ops {
	/* Writes the reply to a stats request (json or text) into buf;
	 * returns its length (at most len - 1, NUL-terminated). */
	size_t (*stats)(void *arg, bool json, char *buf, size_t len);
	/* Hands tap vdev name over to another process that adopts what
	 * adopts names ("" or "bridge BR vxlan IF"), answering on fd when
	 * done: 0 and fd is the handover's, or -errno with err filled and
	 * fd still the caller's. */
	int (*handover)(void *arg, const char *name, const char *adopts, int fd, char *err,
			size_t errlen);
	/* Would handover accept?  0, or -errno with err filled. */
	int (*handover_check)(void *arg, const char *name, const char *adopts, char *err,
			      size_t errlen);
	/* Starts a live capture of vdev name (a valid name) streamed to fd:
	 * 0 and fd is the capture's, or -errno with err filled and fd still
	 * the caller's. */
	int (*capture)(void *arg, const char *name, int fd, char *err, size_t errlen);
};

/* Listens on dir/.control (a stale socket of a dead process is replaced,
 * a live one is -EADDRINUSE, logged as an error unless quiet_if_held:
 * a process taking over from one that is ending retries). */
int control_start(struct control **out, struct evloop *ev, const char *dir,
		  const struct control_ops *ops, void *arg, bool quiet_if_held);
/* Closes every connection and removes the socket.  NULL is ok. */
void control_stop(struct control *c);

/* The client side.  who names the command in messages ("vnet-host
 * stats").  control_request connects to dir/.control, sends request and
 * reads one reply into buf (NUL-terminated): its length, or -errno with a
 * message on stderr. */
ssize_t control_request(const char *who, const char *dir, const char *request,
			char *buf, size_t cap);
/* Asks and copies the reply to stdout.  0, or -errno (a reply that says
 * "error: ..." is -EINVAL). */
int control_query(const char *dir, const char *request);
/* `vnet-host capture`: asks for vdev name's capture and copies the pcap
 * stream to fd out until SIGINT/SIGTERM, the reader of out goes away or
 * vnet-host ends.  0, or -errno with a message on stderr. */
int control_capture(const char *dir, const char *name, int out);

#endif /* VNET_HOST_CONTROL_H */
