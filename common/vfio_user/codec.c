// SPDX-License-Identifier: MIT
/*
 * codec.c - vfio-user framing on a UNIX stream socket (vfio-user.rst
 * "Header"): a 16-byte header whose size counts the whole message, then
 * exactly size-16 payload bytes, with SCM_RIGHTS fds riding on the first
 * byte the sender wrote.
 */
#include "common/vfio_user/codec.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

/* Room for more fds than we accept, so that a peer sending a few too many
 * is seen (and its fds closed by us) rather than silently truncated. */
#define RX_FD_ROOM (VFIO_USER_MAX_FDS * 2)

void vfio_user_msg_init(struct vfio_user_msg *m)
{
	memset(m, 0, sizeof(*m));
	for (unsigned i = 0; i < VFIO_USER_MAX_FDS; i++)
		m->fds[i] = -1;
}

void vfio_user_msg_close_fds(struct vfio_user_msg *m)
{
	for (unsigned i = 0; i < m->nfds && i < VFIO_USER_MAX_FDS; i++) {
		if (m->fds[i] >= 0)
			close(m->fds[i]);
		m->fds[i] = -1;
	}
	m->nfds = 0;
}

int vfio_user_msg_take_fd(struct vfio_user_msg *m, unsigned i)
{
	int fd;

	if (i >= m->nfds || i >= VFIO_USER_MAX_FDS)
		return -EBADF;
	fd = m->fds[i];
	m->fds[i] = -1;
	return fd < 0 ? -EBADF : fd;
}

/* Moves the fds of one recvmsg into m: up to the cap, the rest closed. */
static void collect_fds(struct vfio_user_msg *m, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (m->nfds < VFIO_USER_MAX_FDS) {
				m->fds[m->nfds++] = fd;
			} else {
				close(fd);
				m->dropped_fds++;
			}
		}
	}
	/* The kernel already closed whatever did not fit our buffer. */
	if (mh->msg_flags & MSG_CTRUNC)
		m->dropped_fds++;
}

static int ms_left(uint64_t deadline)
{
	uint64_t now = now_ms();

	if (deadline == UINT64_MAX)
		return -1;
	return now >= deadline ? 0 : (int)(deadline - now);
}

static uint64_t deadline_after(int ms)
{
	return ms < 0 ? UINT64_MAX : now_ms() + (uint64_t)ms;
}

/* Waits for events on sock until deadline: 1 ready, 0 timed out, -errno. */
static int wait_sock(int sock, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = sock, .events = events };
		int left = ms_left(deadline);
		int rc;

		if (left == 0)
			return 0;
		rc = poll(&p, 1, left);
		if (rc > 0)
			return 1;
		if (rc == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Drops the first `n` bytes of an iovec array in place. */
static void iov_advance(struct iovec **iov, int *iovcnt, size_t n)
{
	while (n && *iovcnt) {
		if (n < (*iov)->iov_len) {
			(*iov)->iov_base = (char *)(*iov)->iov_base + n;
			(*iov)->iov_len -= n;
			return;
		}
		n -= (*iov)->iov_len;
		(*iov)++;
		(*iovcnt)--;
	}
	/* Skip empty entries so the caller's "done" test is iovcnt == 0. */
	while (*iovcnt && (*iov)->iov_len == 0) {
		(*iov)++;
		(*iovcnt)--;
	}
}

/*
 * Fills iov completely.  *started says whether any byte of this message
 * has arrived (so a timeout before it is -EAGAIN, after it -ETIMEDOUT);
 * *deadline is first set from first_ms and, on the first byte, reset to
 * rest_ms from then.
 */
static int recv_fill(int sock, struct vfio_user_msg *m, struct iovec *iov,
		     int iovcnt, bool *started, uint64_t *deadline, int rest_ms)
{
	union {
		char buf[CMSG_SPACE(RX_FD_ROOM * sizeof(int))];
		struct cmsghdr align;
	} ctl;

	iov_advance(&iov, &iovcnt, 0);
	while (iovcnt > 0) {
		struct msghdr mh = {
			.msg_iov = iov,
			.msg_iovlen = (size_t)iovcnt,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n > 0) {
			collect_fds(m, &mh);
			if (!*started) {
				*started = true;
				*deadline = deadline_after(rest_ms);
			}
			iov_advance(&iov, &iovcnt, (size_t)n);
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int rc = wait_sock(sock, POLLIN, *deadline);

			if (rc < 0)
				return rc;
			if (rc == 0)
				return *started ? -ETIMEDOUT : -EAGAIN;
			continue;
		}
		return -errno;
	}
	return 0;
}

int vfio_user_recv_hdr(int sock, struct vfio_user_msg *m, uint32_t max_size,
		       int first_ms, int rest_ms)
{
	struct iovec iov = { .iov_base = &m->hdr, .iov_len = sizeof(m->hdr) };
	uint64_t deadline = deadline_after(first_ms);
	bool started = false;
	int rc;

	vfio_user_msg_init(m);
	rc = recv_fill(sock, m, &iov, 1, &started, &deadline, rest_ms);
	if (rc < 0) {
		vfio_user_msg_close_fds(m);
		return rc;
	}
	if (m->hdr.size < VFIO_USER_HDR_SIZE || m->hdr.size > max_size) {
		log_rl(LOG_WARN,
		       "vfio-user: message %u (%s) claims size %u, outside %u..%u: framing lost",
		       m->hdr.msg_id, vfio_user_command_name(m->hdr.command),
		       m->hdr.size, VFIO_USER_HDR_SIZE, max_size);
		vfio_user_msg_close_fds(m);
		return -EPROTO;
	}
	m->len = m->hdr.size - VFIO_USER_HDR_SIZE;
	return 0;
}

int vfio_user_recv_payload(int sock, struct vfio_user_msg *m,
			   const struct iovec *iov, int iovcnt, int wait_ms)
{
	struct iovec local[VFIO_USER_MAX_IOV];
	uint64_t deadline = deadline_after(wait_ms);
	bool started = true;	/* the header already arrived */
	size_t total = 0;
	int rc;

	if (iovcnt < 0 || iovcnt > VFIO_USER_MAX_IOV)
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++) {
		local[i] = iov[i];
		total += iov[i].iov_len;
	}
	if (total != m->len)
		return -EINVAL;
	rc = recv_fill(sock, m, local, iovcnt, &started, &deadline, wait_ms);
	if (rc == -EAGAIN)
		rc = -ETIMEDOUT;
	return rc;
}

int vfio_user_skip_payload(int sock, struct vfio_user_msg *m, int wait_ms)
{
	uint8_t scratch[4096];
	uint64_t deadline = deadline_after(wait_ms);
	uint32_t left = m->len;

	while (left) {
		uint32_t chunk = left < sizeof(scratch) ? left : (uint32_t)sizeof(scratch);
		struct iovec iov = { .iov_base = scratch, .iov_len = chunk };
		bool started = true;
		int rc = recv_fill(sock, m, &iov, 1, &started, &deadline, wait_ms);

		if (rc < 0)
			return rc == -EAGAIN ? -ETIMEDOUT : rc;
		left -= chunk;
	}
	return 0;
}

int vfio_user_recv(int sock, struct vfio_user_msg *m, void *buf,
		   uint32_t buf_size, int first_ms, int rest_ms)
{
	uint32_t max = buf_size > UINT32_MAX - VFIO_USER_HDR_SIZE
			       ? UINT32_MAX
			       : buf_size + VFIO_USER_HDR_SIZE;
	uint64_t deadline;
	bool started = true;
	struct iovec iov;
	int rc;

	rc = vfio_user_recv_hdr(sock, m, max, first_ms, rest_ms);
	if (rc < 0)
		return rc;
	m->payload = buf;
	if (m->len == 0)
		return 0;
	/* One deadline for the whole message, measured from its header. */
	deadline = deadline_after(rest_ms);
	iov.iov_base = buf;
	iov.iov_len = m->len;
	rc = recv_fill(sock, m, &iov, 1, &started, &deadline, rest_ms);
	if (rc < 0) {
		vfio_user_msg_close_fds(m);
		return rc == -EAGAIN ? -ETIMEDOUT : rc;
	}
	return 0;
}

int vfio_user_send(int sock, const struct vfio_user_header *hdr,
		   const struct iovec *payload, int iovcnt, const int *fds,
		   unsigned nfds, int wait_ms)
{
	union {
		char buf[CMSG_SPACE(VFIO_USER_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[1 + VFIO_USER_MAX_IOV];
	struct iovec *cur = iov;
	struct vfio_user_header h = *hdr;
	uint64_t deadline = deadline_after(wait_ms);
	uint64_t total = VFIO_USER_HDR_SIZE;
	int cnt = 1;
	bool fds_sent = nfds == 0;

	if (iovcnt < 0 || iovcnt > VFIO_USER_MAX_IOV || nfds > VFIO_USER_MAX_FDS)
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++) {
		if (payload[i].iov_len == 0)
			continue;
		iov[cnt++] = payload[i];
		total += payload[i].iov_len;
	}
	if (total > UINT32_MAX)
		return -EMSGSIZE;
	h.size = (uint32_t)total;
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);

	while (cnt > 0) {
		struct msghdr mh = { .msg_iov = cur, .msg_iovlen = (size_t)cnt };
		ssize_t n;

		if (!fds_sent) {
			struct cmsghdr *c;

			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
			memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
		}
		n = sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			fds_sent = true;	/* they went with the first byte */
			iov_advance(&cur, &cnt, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_sock(sock, POLLOUT, deadline);

			if (rc < 0)
				return rc;
			if (rc == 0)
				return -ETIMEDOUT;
			continue;
		}
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

int vfio_user_reply(int sock, const struct vfio_user_header *req,
		    const struct iovec *payload, int iovcnt, const int *fds,
		    unsigned nfds, int wait_ms)
{
	struct vfio_user_header h = {
		.msg_id = req->msg_id,
		.command = req->command,
		.flags = VFIO_USER_F_TYPE_REPLY,
	};

	return vfio_user_send(sock, &h, payload, iovcnt, fds, nfds, wait_ms);
}

int vfio_user_reply_error(int sock, const struct vfio_user_header *req,
			  int err, int wait_ms)
{
	struct vfio_user_header h = {
		.msg_id = req->msg_id,
		.command = req->command,
		.flags = VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR,
	};

	if (err < 0)
		err = -err;
	h.error = err ? (uint32_t)err : EINVAL;
	return vfio_user_send(sock, &h, NULL, 0, NULL, 0, wait_ms);
}

/* Linux errnos stay below this (MAX_ERRNO in the kernel). */
#define ERRNO_LIMIT 4095u

int vfio_user_reply_errno(const struct vfio_user_header *h)
{
	if (h->error == 0 || h->error > ERRNO_LIMIT)
		return EINVAL;
	return (int)h->error;
}

const char *vfio_user_command_name(uint16_t command)
{
	static const char *const names[] = {
		[VFIO_USER_VERSION] = "VERSION",
		[VFIO_USER_DMA_MAP] = "DMA_MAP",
		[VFIO_USER_DMA_UNMAP] = "DMA_UNMAP",
		[VFIO_USER_DEVICE_GET_INFO] = "DEVICE_GET_INFO",
		[VFIO_USER_DEVICE_GET_REGION_INFO] = "DEVICE_GET_REGION_INFO",
		[VFIO_USER_DEVICE_GET_REGION_IO_FDS] = "DEVICE_GET_REGION_IO_FDS",
		[VFIO_USER_DEVICE_GET_IRQ_INFO] = "DEVICE_GET_IRQ_INFO",
		[VFIO_USER_DEVICE_SET_IRQS] = "DEVICE_SET_IRQS",
		[VFIO_USER_REGION_READ] = "REGION_READ",
		[VFIO_USER_REGION_WRITE] = "REGION_WRITE",
		[VFIO_USER_DMA_READ] = "DMA_READ",
		[VFIO_USER_DMA_WRITE] = "DMA_WRITE",
		[VFIO_USER_DEVICE_RESET] = "DEVICE_RESET",
		[VFIO_USER_REGION_WRITE_MULTI] = "REGION_WRITE_MULTI",
		[VFIO_USER_DEVICE_FEATURE] = "DEVICE_FEATURE",
		[VFIO_USER_MIG_DATA_READ] = "MIG_DATA_READ",
		[VFIO_USER_MIG_DATA_WRITE] = "MIG_DATA_WRITE",
	};

	if (command < sizeof(names) / sizeof(names[0]) && names[command])
		return names[command];
	return "unknown command";
}
