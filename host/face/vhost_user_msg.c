// SPDX-License-Identifier: MIT
/*
 * vhost_user_msg.c - reading, checking and answering vhost-user messages
 * (QEMU docs/interop/vhost-user.rst, "Message Specification").  Nothing
 * read from the socket is used before it is checked: the header first
 * (version, size bounded by our payload union, fd count bounded), then
 * the payload size and the fds against what the request carries.
 */
#include "host/face/vhost_user_msg.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"

static const char *const req_names[VHU_REQUEST_MAX] = {
	[VHU_GET_FEATURES] = "GET_FEATURES",
	[VHU_SET_FEATURES] = "SET_FEATURES",
	[VHU_SET_OWNER] = "SET_OWNER",
	[VHU_RESET_OWNER] = "RESET_OWNER",
	[VHU_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VHU_SET_LOG_BASE] = "SET_LOG_BASE",
	[VHU_SET_LOG_FD] = "SET_LOG_FD",
	[VHU_SET_VRING_NUM] = "SET_VRING_NUM",
	[VHU_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VHU_SET_VRING_BASE] = "SET_VRING_BASE",
	[VHU_GET_VRING_BASE] = "GET_VRING_BASE",
	[VHU_SET_VRING_KICK] = "SET_VRING_KICK",
	[VHU_SET_VRING_CALL] = "SET_VRING_CALL",
	[VHU_SET_VRING_ERR] = "SET_VRING_ERR",
	[VHU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VHU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VHU_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VHU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VHU_SEND_RARP] = "SEND_RARP",
	[VHU_NET_SET_MTU] = "NET_SET_MTU",
	[VHU_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
	[VHU_IOTLB_MSG] = "IOTLB_MSG",
	[VHU_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
	[VHU_GET_CONFIG] = "GET_CONFIG",
	[VHU_SET_CONFIG] = "SET_CONFIG",
	[VHU_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
	[VHU_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
	[VHU_RESET_DEVICE] = "RESET_DEVICE",
	[VHU_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
	[VHU_SET_STATUS] = "SET_STATUS",
	[VHU_GET_STATUS] = "GET_STATUS",
};

const char *vhu_request_name(uint32_t req)
{
	if (req < VHU_REQUEST_MAX && req_names[req])
		return req_names[req];
	return "?";
}

void vhu_msg_close_fds(struct vhu_msg *m)
{
	for (unsigned i = 0; i < m->nfds && i < VHU_MAX_FDS; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->nfds = 0;
}

/* Takes the SCM_RIGHTS fds out of a received control buffer.  Returns
 * false (and closes them all) when there are more than we accept. */
static bool take_fds(struct msghdr *mh, struct vhu_msg *m)
{
	bool ok = true;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;
		int fds[VHU_MAX_FDS * 2];

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (n > VHU_MAX_FDS * 2)
			n = VHU_MAX_FDS * 2;	/* the buffer cannot hold more */
		memcpy(fds, CMSG_DATA(c), n * sizeof(int));
		for (size_t i = 0; i < n; i++) {
			if (ok && m->nfds < VHU_MAX_FDS)
				m->fds[m->nfds++] = fds[i];
			else {
				ok = false;
				close(fds[i]);
			}
		}
	}
	if (!ok)
		vhu_msg_close_fds(m);
	return ok;
}

/* Waits until sock is ready for events or deadline (now_ms) passes:
 * 1 ready, 0 timed out, -errno. */
static int wait_ready(int sock, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = sock, .events = events };
		uint64_t now = now_ms();
		int rc;

		if (now >= deadline)
			return 0;
		rc = poll(&p, 1, (int)(deadline - now));
		if (rc >= 0)
			return rc > 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Reads exactly len bytes of a message already started: the frontend
 * sends a message whole, so the rest must come within VHU_REST_MS, or
 * it stalled mid-message (-ETIMEDOUT) and the loop must not wait on it.
 * Returns the bytes read (fewer at EOF) or -errno. */
static ssize_t read_rest(int sock, void *buf, size_t len)
{
	uint64_t deadline = now_ms() + VHU_REST_MS;
	size_t done = 0;

	while (done < len) {
		ssize_t n = recv(sock, (char *)buf + done, len - done, 0);
		int w;

		if (n == 0)
			return (ssize_t)done;
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		w = wait_ready(sock, POLLIN, deadline);
		if (w < 0)
			return w;
		if (w == 0)
			return -ETIMEDOUT;
	}
	return (ssize_t)done;
}

static void stalled(char *why, size_t why_len, const struct vhu_msg *m, const char *part,
		    ssize_t rc)
{
	if (rc == -ETIMEDOUT)
		snprintf(why, why_len, "%s: the frontend sent part of the %s and stalled for %d ms",
			 vhu_request_name(m->hdr.request), part, VHU_REST_MS);
	else
		snprintf(why, why_len, "%s: truncated %s", vhu_request_name(m->hdr.request), part);
}

int vhu_msg_recv(int sock, struct vhu_msg *m, char *why, size_t why_len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHU_MAX_FDS * 2)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = &m->hdr, .iov_len = VHU_HDR_SIZE };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n;

	m->nfds = 0;
	for (unsigned i = 0; i < VHU_MAX_FDS; i++)
		m->fds[i] = -1;
	/* The fds ride on the header's bytes (the frontend sends the whole
	 * message with one sendmsg). */
	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -EAGAIN;		/* nothing yet: not an error */
	if (n < 0) {
		snprintf(why, why_len, "read: %s", strerror(errno));
		return -errno;
	}
	if (!take_fds(&mh, m)) {
		snprintf(why, why_len, "more than %u file descriptors in one message",
			 VHU_MAX_FDS);
		return -EPROTO;
	}
	if (n == 0) {
		vhu_msg_close_fds(m);
		return 0;
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		vhu_msg_close_fds(m);
		snprintf(why, why_len, "ancillary data truncated");
		return -EPROTO;
	}
	if ((size_t)n < VHU_HDR_SIZE) {
		ssize_t r = read_rest(sock, (char *)&m->hdr + n, VHU_HDR_SIZE - (size_t)n);

		if (r < 0 || (size_t)r != VHU_HDR_SIZE - (size_t)n) {
			vhu_msg_close_fds(m);
			snprintf(why, why_len, r == -ETIMEDOUT ?
				 "the frontend sent part of a message header and stalled" :
				 "truncated header");
			return r == -ETIMEDOUT ? -ETIMEDOUT : -EPROTO;
		}
	}
	if ((m->hdr.flags & VHU_VERSION_MASK) != VHU_VERSION) {
		vhu_msg_close_fds(m);
		snprintf(why, why_len, "protocol version %u (expected %u)",
			 m->hdr.flags & VHU_VERSION_MASK, VHU_VERSION);
		return -EPROTO;
	}
	if (m->hdr.size > sizeof(m->p)) {
		vhu_msg_close_fds(m);
		snprintf(why, why_len, "%s: payload of %u bytes (at most %zu)",
			 vhu_request_name(m->hdr.request), m->hdr.size, sizeof(m->p));
		return -EPROTO;
	}
	if (m->hdr.size) {
		n = read_rest(sock, &m->p, m->hdr.size);
		if (n < 0 || (size_t)n != m->hdr.size) {
			vhu_msg_close_fds(m);
			stalled(why, why_len, m, "payload", n);
			return n == -ETIMEDOUT ? -ETIMEDOUT : -EPROTO;
		}
	}
	return 1;
}

/* Payload sizes (exact) and fds per request. */
static int expect(const struct vhu_msg *m, uint32_t size, unsigned nfds,
		  char *why, size_t why_len)
{
	if (m->hdr.size != size) {
		snprintf(why, why_len, "%s: payload of %u bytes (expected %u)",
			 vhu_request_name(m->hdr.request), m->hdr.size, size);
		return -EINVAL;
	}
	if (m->nfds != nfds) {
		snprintf(why, why_len, "%s: %u file descriptors (expected %u)",
			 vhu_request_name(m->hdr.request), m->nfds, nfds);
		return -EINVAL;
	}
	return 0;
}

int vhu_msg_check(const struct vhu_msg *m, char *why, size_t why_len)
{
	switch (m->hdr.request) {
	case VHU_GET_FEATURES:
	case VHU_SET_OWNER:
	case VHU_RESET_OWNER:
	case VHU_GET_PROTOCOL_FEATURES:
	case VHU_GET_QUEUE_NUM:
	case VHU_RESET_DEVICE:
	case VHU_GET_MAX_MEM_SLOTS:
	case VHU_GET_STATUS:
		/* No payload; some frontends send a zeroed u64 anyway. */
		if (m->hdr.size != 0 && m->hdr.size != sizeof(uint64_t))
			return expect(m, 0, 0, why, why_len);
		return expect(m, m->hdr.size, 0, why, why_len);
	case VHU_SET_FEATURES:
	case VHU_SET_PROTOCOL_FEATURES:
	case VHU_NET_SET_MTU:
	case VHU_SET_STATUS:
	case VHU_SEND_RARP:
		return expect(m, sizeof(uint64_t), 0, why, why_len);
	case VHU_SET_VRING_NUM:
	case VHU_SET_VRING_BASE:
	case VHU_GET_VRING_BASE:
	case VHU_SET_VRING_ENABLE:
	case VHU_SET_VRING_ENDIAN:
		return expect(m, sizeof(struct vhu_vring_state), 0, why, why_len);
	case VHU_SET_VRING_ADDR:
		return expect(m, sizeof(struct vhu_vring_addr), 0, why, why_len);
	case VHU_SET_VRING_KICK:
	case VHU_SET_VRING_CALL:
	case VHU_SET_VRING_ERR:
		if (m->hdr.size != sizeof(uint64_t))
			return expect(m, sizeof(uint64_t), 1, why, why_len);
		return expect(m, sizeof(uint64_t), (m->p.u64 & VHU_VRING_NOFD) ? 0 : 1,
			      why, why_len);
	case VHU_SET_MEM_TABLE: {
		uint32_t nr;

		if (m->hdr.size < offsetof(struct vhu_memory, regions))
			return expect(m, offsetof(struct vhu_memory, regions), 0, why, why_len);
		nr = m->p.mem.nregions;
		if (nr == 0 || nr > VHU_MAX_REGIONS) {
			snprintf(why, why_len, "SET_MEM_TABLE: %u regions (1..%u)", nr,
				 VHU_MAX_REGIONS);
			return -EINVAL;
		}
		return expect(m, (uint32_t)(offsetof(struct vhu_memory, regions) +
					    nr * sizeof(struct vhu_region)),
			      nr, why, why_len);
	}
	case VHU_GET_CONFIG:
	case VHU_SET_CONFIG: {
		const uint32_t h = offsetof(struct vhu_config, data);

		if (m->hdr.size < h)
			return expect(m, h, 0, why, why_len);
		if (m->p.config.size > VHU_CONFIG_MAX) {
			snprintf(why, why_len, "%s: config size %u (at most %u)",
				 vhu_request_name(m->hdr.request), m->p.config.size,
				 VHU_CONFIG_MAX);
			return -EINVAL;
		}
		return expect(m, h + m->p.config.size, 0, why, why_len);
	}
	case VHU_GET_INFLIGHT_FD:
		return expect(m, sizeof(struct vhu_inflight), 0, why, why_len);
	case VHU_SET_INFLIGHT_FD:
		return expect(m, sizeof(struct vhu_inflight), 1, why, why_len);
	case VHU_SET_LOG_BASE:
	case VHU_SET_LOG_FD:
	case VHU_SET_BACKEND_REQ_FD:
	case VHU_IOTLB_MSG:
	default:
		snprintf(why, why_len, "request %u (%s) is not supported", m->hdr.request,
			 vhu_request_name(m->hdr.request));
		return -ENOTSUP;
	}
}

int vhu_msg_reply(int sock, const struct vhu_msg *m, const void *payload,
		  uint32_t len)
{
	return vhu_msg_reply_fd(sock, m, payload, len, -1);
}

int vhu_msg_reply_fd(int sock, const struct vhu_msg *m, const void *payload,
		     uint32_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct vhu_hdr h = {
		.request = m->hdr.request,
		.flags = VHU_VERSION | VHU_FLAG_REPLY,
		.size = len,
	};
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)(uintptr_t)payload, .iov_len = len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	uint64_t deadline = now_ms() + VHU_SEND_MS;
	size_t left = sizeof(h) + len;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}

	/* A frontend that does not read its replies fills the socket
	 * buffer: wait for room at most VHU_SEND_MS, then give it up. */
	while (left) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		int w;

		if (n > 0) {
			/* The fd went with the first bytes. */
			mh.msg_control = NULL;
			mh.msg_controllen = 0;
			left -= (size_t)n;
			while (n > 0 && mh.msg_iovlen) {
				size_t k = (size_t)n < mh.msg_iov->iov_len ? (size_t)n
									   : mh.msg_iov->iov_len;

				mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + k;
				mh.msg_iov->iov_len -= k;
				n -= (ssize_t)k;
				if (mh.msg_iov->iov_len == 0) {
					mh.msg_iov++;
					mh.msg_iovlen--;
				}
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		w = wait_ready(sock, POLLOUT, deadline);
		if (w < 0)
			return w;
		if (w == 0)
			return -ETIMEDOUT;
	}
	return 0;
}
