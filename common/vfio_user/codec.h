/* SPDX-License-Identifier: MIT */
/*
 * codec.h - vfio-user messages on a stream socket: framing with file
 * descriptors (codec.c), the VERSION capabilities JSON (json.c), and the
 * checks that every request and reply passes before anyone reads a field
 * of it (check.c).  Both the server (host/vfio_server.c) and the client
 * (guest/vfio_client.c) use it; neither trusts the other.
 *
 * Every function returns 0 (or a length) / -errno and leaves errno alone.
 */
#ifndef VNET_VFIO_USER_CODEC_H
#define VNET_VFIO_USER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/vfio_user/proto.h"

/* The most fds we accept with one message, and so what both our server and
 * our client advertise as max_msg_fds.  Extra fds are closed on arrival. */
#define VFIO_USER_MAX_FDS 8u
/* The largest REGION_READ/WRITE count we accept (our max_data_xfer_size). */
#define VFIO_USER_MAX_XFER (1024u * 1024u)
/* The largest message either side accepts: header + access struct + data. */
#define VFIO_USER_MAX_MSG                                                 \
	(VFIO_USER_HDR_SIZE + (uint32_t)sizeof(struct vfio_user_region_access) \
	 + VFIO_USER_MAX_XFER)
/* Bound on VERSION's JSON text (real ones are a few hundred bytes). */
#define VFIO_USER_JSON_MAX 4096u

/* One received message.  payload points into the caller's buffer. */
struct vfio_user_msg {
	struct vfio_user_header hdr;
	uint8_t *payload;
	uint32_t len;			/* payload bytes: hdr.size - 16 */
	int fds[VFIO_USER_MAX_FDS];	/* owned by the message until taken */
	unsigned nfds;
	unsigned dropped_fds;		/* arrived beyond the cap, closed */
};

void vfio_user_msg_init(struct vfio_user_msg *m);
/* Closes every fd the message still owns. */
void vfio_user_msg_close_fds(struct vfio_user_msg *m);
/* Hands fd i over to the caller (the message will not close it). */
int vfio_user_msg_take_fd(struct vfio_user_msg *m, unsigned i);

/*
 * Receiving.  Waits: first_ms bounds the wait for the message's first
 * byte (0: do not wait, -1: forever), rest_ms the wait for the rest of a
 * message that has started (never forever for a server: a peer that sends
 * half a message and stalls must not hang us).
 *
 * Results:
 *   0            a whole message (vfio_user_recv) / header arrived
 *   -EAGAIN      nothing arrived within first_ms; the stream is intact
 *   -ECONNRESET  the peer closed the connection (or reset it)
 *   -EPROTO      framing lost (size < 16 or > max): the caller must close
 *   -ETIMEDOUT   a message started but did not finish in time: close
 *   other -errno socket errors: close
 * fds arriving with any byte of the message are collected into m.
 */
int vfio_user_recv(int sock, struct vfio_user_msg *m, void *buf,
		   uint32_t buf_size, int first_ms, int rest_ms);
/* The same in two steps, for a reader that decides where the payload goes
 * after seeing the header: max_size bounds hdr.size.  The payload step
 * reads exactly m->len bytes scattered over iov (which must hold exactly
 * m->len bytes); skip discards them. */
int vfio_user_recv_hdr(int sock, struct vfio_user_msg *m, uint32_t max_size,
		       int first_ms, int rest_ms);
int vfio_user_recv_payload(int sock, struct vfio_user_msg *m,
			   const struct iovec *iov, int iovcnt, int wait_ms);
int vfio_user_skip_payload(int sock, struct vfio_user_msg *m, int wait_ms);

/*
 * Sending: the header's size is filled in from the payload; fds travel with
 * the first byte.  Handles EINTR and partial writes; waits at most wait_ms
 * (-1: forever) for socket buffer space.  -ETIMEDOUT / -EPIPE / -errno:
 * the caller should close the connection (part of a message may be out).
 */
#define VFIO_USER_MAX_IOV 4
int vfio_user_send(int sock, const struct vfio_user_header *hdr,
		   const struct iovec *payload, int iovcnt, const int *fds,
		   unsigned nfds, int wait_ms);
/* A reply to req (same msg_id and command, type reply). */
int vfio_user_reply(int sock, const struct vfio_user_header *req,
		    const struct iovec *payload, int iovcnt, const int *fds,
		    unsigned nfds, int wait_ms);
/* Header-only error reply ("Header": ERROR flag, positive errno in error);
 * err may be given as +errno or -errno; 0 becomes EINVAL. */
int vfio_user_reply_error(int sock, const struct vfio_user_header *req,
			  int err, int wait_ms);

/* The errno an error reply carries, as a positive value; 0 or a value no
 * errno can have is reported as EINVAL (the spec allows error 0). */
int vfio_user_reply_errno(const struct vfio_user_header *h);

const char *vfio_user_command_name(uint16_t command);

/* ---- VERSION capabilities (json.c) ---- */

struct vfio_user_caps {
	uint32_t max_msg_fds;
	uint32_t max_data_xfer_size;
	uint32_t max_dma_maps;
	uint64_t pgsizes;
	bool twin_socket;		/* twin_socket.supported */
	bool has_twin_fd_index;
	uint32_t twin_fd_index;
	bool write_multiple;
};

/* The values the spec says to assume when a key is absent. */
void vfio_user_caps_default(struct vfio_user_caps *c);
/*
 * Parses `{"capabilities": {...}}` (len bytes, no NUL needed) over c,
 * which should hold the defaults.  Unknown keys are skipped whatever their
 * value; a known key with the wrong type or an out-of-range number,
 * malformed JSON, nesting deeper than 8 or text longer than
 * VFIO_USER_JSON_MAX are -EINVAL.  why (may be NULL) names the problem.
 * On error c may be partly updated.
 */
int vfio_user_caps_parse(const char *json, size_t len,
			 struct vfio_user_caps *c, const char **why);
/* Writes our capabilities object (max_msg_fds, max_data_xfer_size,
 * max_dma_maps, pgsizes) NUL-terminated; returns strlen or -ENOSPC. */
int vfio_user_caps_format(const struct vfio_user_caps *c, char *buf,
			  size_t size);

/* ---- request and reply checks (check.c) ---- */

/*
 * Server side: checks a received command before any field is used: type,
 * reserved header fields, payload length against the command's layout
 * and header.size, argsz, flags, reserved fields, counts against
 * max_xfer, overflow of address ranges, and that the fds match what the
 * command may carry.  Returns 0, -EINVAL (malformed), -ENOTSUP (valid but
 * something we do not implement) or -ENOSYS (unknown command); *why names
 * what was wrong.
 */
int vfio_user_check_request(const struct vfio_user_msg *m, uint32_t max_xfer,
			    const char **why);

/*
 * VERSION payload (request or reply): major/minor out, capabilities
 * parsed over caps (which should hold the defaults).  The JSON is
 * optional; when present it must end in the payload's only NUL.
 */
int vfio_user_parse_version(const void *payload, uint32_t len,
			    struct vfio_user_version *v,
			    struct vfio_user_caps *caps, const char **why);

/*
 * Client side: is h the reply to the command (msg_id, command) we sent?
 * 0 for a good reply, -error for an error reply (the server's errno),
 * -EPROTO for anything else (not a reply, wrong id or command).
 */
int vfio_user_check_reply_hdr(const struct vfio_user_header *h, uint16_t msg_id,
			      uint16_t command, const char **why);

/*
 * GET_REGION_IO_FDS reply: checks the fixed part and the entry array
 * (stride from (argsz - 16) / count, at least the spec's 40 bytes, every
 * entry inside the payload) and returns the number of entries present in
 * the payload: 0 when the server only said how much room it needs
 * (fixed->argsz).  Entries are then read with vfio_user_io_fd_entry.
 */
int vfio_user_parse_io_fds_reply(const void *payload, uint32_t len,
				 struct vfio_user_region_io_fds *fixed,
				 uint32_t *stride, const char **why);
/* Entry i of a checked reply; datamatch is taken from the entry's last
 * 8 bytes, which is where both the 40- and the 48-byte layouts put it. */
void vfio_user_io_fd_entry(const void *payload, uint32_t stride, uint32_t i,
			   struct vfio_user_ioeventfd *e);

#endif /* VNET_VFIO_USER_CODEC_H */
