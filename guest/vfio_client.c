// SPDX-License-Identifier: MIT
/*
 * vfio_client.c - the VFIO-like device API over a blocking vfio-user client
 * (QEMU docs/interop/vfio-user.rst).  One command at a time: send, then
 * wait for the reply with the same msg_id and command.  The server is not
 * trusted: every reply is checked against what we asked before a byte of it
 * is used, and when the stream cannot be trusted any more (a reply we did
 * not expect, a stalled or broken socket) the connection is closed and
 * every later call fails with -ENOTCONN.
 */
#include "guest/vfio_client.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/vfio_user/codec.h"

/* How long we wait for a reply.  DEVICE_RESET "may take an arbitrarily
 * long time", so this is generous; it only guards against a hung server. */
#define VFC_REPLY_MS 30000
#define VFC_SEND_MS  30000
/* We propose 0.0 (as QEMU does); the server may not answer higher. */
#define VFC_MINOR 0
/* Largest GET_REGION_IO_FDS reply we will take (a retry after the first
 * answer said it needs more room). */
#define VFC_IO_FDS_MAX_REPLY (64u * 1024u)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct vfc_call {
	uint16_t command;
	const struct iovec *req;
	int req_cnt;
	const int *fds;
	unsigned nfds;
	/* Where the reply payload goes; it may be rep_min .. sum(rep) long. */
	const struct iovec *rep;
	int rep_cnt;
	uint32_t rep_min;
	uint32_t rep_len;	/* out */
	/* fds that came with the reply (out; the caller owns them). */
	int *rfds;
	unsigned rfds_max;
	unsigned nrfds;
};

/* The stream is no longer trustworthy. */
static int vfc_fail(struct vfc_device *dev, int err, const char *what)
{
	log_rl(LOG_WARN, "vfio-user client: %s (%s); closing the connection", what,
	       strerror(-err));
	if (dev->sock >= 0)
		close(dev->sock);
	dev->sock = -1;
	return err;
}

/* A server-to-client command (DMA_READ/WRITE) arriving while we wait: we
 * map every window with an fd, so we have nothing to serve it with. */
static int refuse_server_command(struct vfc_device *dev, struct vfio_user_msg *m)
{
	int rc = vfio_user_skip_payload(dev->sock, m, VFC_REPLY_MS);

	vfio_user_msg_close_fds(m);
	if (rc < 0)
		return vfc_fail(dev, rc, "server command cut short");
	log_rl(LOG_WARN, "vfio-user client: refusing server command %s",
	       vfio_user_command_name(m->hdr.command));
	if (m->hdr.flags & VFIO_USER_F_NO_REPLY)
		return 0;
	rc = vfio_user_reply_error(dev->sock, &m->hdr, ENOTSUP, VFC_SEND_MS);
	return rc < 0 ? vfc_fail(dev, rc, "cannot answer a server command") : 0;
}

/* The first m->len bytes of c->rep, as an iovec array. */
static int reply_iov(const struct vfc_call *c, uint32_t len, struct iovec *out)
{
	int n = 0;

	for (int i = 0; i < c->rep_cnt && len; i++) {
		size_t take = c->rep[i].iov_len < len ? c->rep[i].iov_len : len;

		out[n].iov_base = c->rep[i].iov_base;
		out[n++].iov_len = take;
		len -= (uint32_t)take;
	}
	return n;
}

static int vfc_call(struct vfc_device *dev, struct vfc_call *c)
{
	struct vfio_user_header h = { .command = c->command };
	struct iovec iov[VFIO_USER_MAX_IOV];
	struct vfio_user_msg m;
	uint64_t rep_max = 0;
	const char *why;
	int rc;

	c->rep_len = 0;
	c->nrfds = 0;
	if (dev->sock < 0)
		return -ENOTCONN;
	if (c->rep_cnt > VFIO_USER_MAX_IOV)
		return -EINVAL;
	for (int i = 0; i < c->rep_cnt; i++)
		rep_max += c->rep[i].iov_len;
	h.msg_id = dev->next_msg_id++;
	rc = vfio_user_send(dev->sock, &h, c->req, c->req_cnt, c->fds, c->nfds,
			    VFC_SEND_MS);
	if (rc < 0)
		return vfc_fail(dev, rc, "cannot send a command");

	for (;;) {
		rc = vfio_user_recv_hdr(dev->sock, &m, VFIO_USER_MAX_MSG, VFC_REPLY_MS,
					VFC_REPLY_MS);
		if (rc < 0)
			return vfc_fail(dev, rc == -EAGAIN ? -ETIMEDOUT : rc,
					"no reply from the server");
		if ((m.hdr.flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_COMMAND)
			break;
		rc = refuse_server_command(dev, &m);
		if (rc < 0)
			return rc;
	}
	rc = vfio_user_check_reply_hdr(&m.hdr, h.msg_id, h.command, &why);
	if (rc == -EPROTO) {
		log_rl(LOG_WARN, "vfio-user client: %s: got %s msg %u, wanted msg %u",
		       why, vfio_user_command_name(m.hdr.command), m.hdr.msg_id,
		       h.msg_id);
		vfio_user_msg_close_fds(&m);
		return vfc_fail(dev, -EPROTO, "unexpected message");
	}
	if (rc == 0 && (m.len < c->rep_min || m.len > rep_max)) {
		log_rl(LOG_WARN, "vfio-user client: %s reply of %u bytes, expected %u..%llu",
		       vfio_user_command_name(h.command), m.len, c->rep_min,
		       (unsigned long long)rep_max);
		rc = -EPROTO;
	}
	if (rc < 0) {
		/* An error reply (header only, but tolerate a payload) or a
		 * reply of the wrong size: skip it, the stream stays intact. */
		int src = vfio_user_skip_payload(dev->sock, &m, VFC_REPLY_MS);

		vfio_user_msg_close_fds(&m);
		return src < 0 ? vfc_fail(dev, src, "reply cut short") : rc;
	}
	rc = vfio_user_recv_payload(dev->sock, &m, iov, reply_iov(c, m.len, iov),
				    VFC_REPLY_MS);
	if (rc < 0) {
		vfio_user_msg_close_fds(&m);
		return vfc_fail(dev, rc, "reply cut short");
	}
	c->rep_len = m.len;
	for (unsigned i = 0; i < m.nfds && c->nrfds < c->rfds_max; i++)
		c->rfds[c->nrfds++] = vfio_user_msg_take_fd(&m, i);
	vfio_user_msg_close_fds(&m);	/* any we did not ask for */
	return 0;
}

/* A call whose request and reply are one fixed struct each. */
static int vfc_call_simple(struct vfc_device *dev, uint16_t command,
			   const void *req, size_t req_len, void *rep,
			   uint32_t rep_min, uint32_t rep_max)
{
	struct iovec rq = { .iov_base = (void *)req, .iov_len = req_len };
	struct iovec rp = { .iov_base = rep, .iov_len = rep_max };
	struct vfc_call c = {
		.command = command,
		.req = &rq,
		.req_cnt = req_len ? 1 : 0,
		.rep = &rp,
		.rep_cnt = rep_max ? 1 : 0,
		.rep_min = rep_min,
	};

	return vfc_call(dev, &c);
}

/* ---- opening ------------------------------------------------------------ */

static int negotiate(struct vfc_device *dev)
{
	struct vfio_user_version ours = { .major = 0, .minor = VFC_MINOR }, theirs;
	struct vfio_user_caps mine, caps;
	char json[256];
	uint8_t rep[sizeof(theirs) + VFIO_USER_JSON_MAX + 1];
	struct iovec rq[2], rp = { .iov_base = rep, .iov_len = sizeof(rep) };
	int rfds[VFIO_USER_MAX_FDS];
	struct vfc_call c = {
		.command = VFIO_USER_VERSION,
		.req = rq,
		.req_cnt = 2,
		.rep = &rp,
		.rep_cnt = 1,
		.rep_min = sizeof(theirs),
		.rfds = rfds,
		.rfds_max = ARRAY_SIZE(rfds),
	};
	const char *why;
	int n, rc;

	vfio_user_caps_default(&mine);
	mine.max_msg_fds = VFIO_USER_MAX_FDS;
	mine.max_data_xfer_size = VFIO_USER_MAX_XFER;
	n = vfio_user_caps_format(&mine, json, sizeof(json));
	if (n < 0)
		return n;
	rq[0].iov_base = &ours;
	rq[0].iov_len = sizeof(ours);
	rq[1].iov_base = json;
	rq[1].iov_len = (size_t)n + 1;
	rc = vfc_call(dev, &c);
	/* We did not ask for twin-socket, so no fd belongs in this reply. */
	for (unsigned i = 0; i < c.nrfds; i++)
		close(rfds[i]);
	if (rc < 0)
		return rc;
	vfio_user_caps_default(&caps);
	rc = vfio_user_parse_version(rep, c.rep_len, &theirs, &caps, &why);
	if (rc < 0) {
		log_warn("vfio-user client: bad VERSION reply: %s", why);
		return -EPROTO;
	}
	/* "The major version in the reply must be the same as proposed";
	 * "the minor version must be equal to or less than" ours. */
	if (theirs.major != ours.major || theirs.minor > ours.minor) {
		log_warn("vfio-user client: server answered version %u.%u to our %u.%u",
			 theirs.major, theirs.minor, ours.major, ours.minor);
		return -EPROTO;
	}
	if (caps.max_data_xfer_size == 0) {
		log_warn("vfio-user client: server's max_data_xfer_size is 0");
		return -EPROTO;
	}
	dev->server_major = theirs.major;
	dev->server_minor = theirs.minor;
	dev->server_max_fds = caps.max_msg_fds;
	dev->server_max_xfer = caps.max_data_xfer_size < VFIO_USER_MAX_XFER
				       ? caps.max_data_xfer_size
				       : VFIO_USER_MAX_XFER;
	return 0;
}

static int read_device_info(struct vfc_device *dev)
{
	struct vfio_user_device_info req = { .argsz = sizeof(req) }, rep;
	int rc = vfc_call_simple(dev, VFIO_USER_DEVICE_GET_INFO, &req, sizeof(req),
				 &rep, sizeof(rep), sizeof(rep));

	if (rc < 0)
		return rc;
	if (rep.num_regions > ARRAY_SIZE(dev->regions) ||
	    rep.num_irqs > ARRAY_SIZE(dev->irq_count)) {
		log_warn("vfio-user client: device reports %u regions and %u irq types (we take up to %zu and %zu)",
			 rep.num_regions, rep.num_irqs, ARRAY_SIZE(dev->regions),
			 ARRAY_SIZE(dev->irq_count));
		return -EPROTO;
	}
	dev->flags = rep.flags;
	dev->num_regions = rep.num_regions;
	dev->num_irqs = rep.num_irqs;
	return 0;
}

static int read_region_info(struct vfc_device *dev, uint32_t index)
{
	struct vfio_user_region_info req = { .argsz = sizeof(req), .index = index };
	struct vfio_user_region_info rep;
	int rc;

	/* argsz 32: we use no capabilities, so the base struct is enough
	 * (the reply's argsz may say more exists). */
	rc = vfc_call_simple(dev, VFIO_USER_DEVICE_GET_REGION_INFO, &req,
			     sizeof(req), &rep, sizeof(rep), sizeof(rep));
	if (rc < 0)
		return rc;
	if (rep.index != index) {
		log_warn("vfio-user client: region info for %u answered for %u",
			 index, rep.index);
		return -EPROTO;
	}
	dev->regions[index].size = rep.size;
	dev->regions[index].flags = rep.flags;
	return 0;
}

static int read_irq_info(struct vfc_device *dev, uint32_t index)
{
	struct vfio_user_irq_info req = { .argsz = sizeof(req), .index = index };
	struct vfio_user_irq_info rep;
	int rc = vfc_call_simple(dev, VFIO_USER_DEVICE_GET_IRQ_INFO, &req,
				 sizeof(req), &rep, sizeof(rep), sizeof(rep));

	if (rc < 0)
		return rc;
	if (rep.index != index) {
		log_warn("vfio-user client: irq info for %u answered for %u",
			 index, rep.index);
		return -EPROTO;
	}
	dev->irq_count[index] = rep.count;
	dev->irq_flags[index] = rep.flags;
	return 0;
}

int vfc_open(struct vfc_device *dev, const char *socket_path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int rc;

	if (!dev || !socket_path)
		return -EINVAL;
	memset(dev, 0, sizeof(*dev));
	dev->sock = -1;
	dev->server_max_fds = VFIO_USER_DEFAULT_MAX_FDS;
	dev->server_max_xfer = VFIO_USER_DEFAULT_MAX_XFER;
	len = strlen(socket_path);
	if (len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, socket_path, len + 1);
	dev->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (dev->sock < 0)
		return -errno;
	if (connect(dev->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		vfc_close(dev);
		return rc;
	}
	rc = negotiate(dev);
	if (rc == 0)
		rc = read_device_info(dev);
	for (uint32_t i = 0; rc == 0 && i < dev->num_regions; i++)
		rc = read_region_info(dev, i);
	for (uint32_t i = 0; rc == 0 && i < dev->num_irqs; i++)
		rc = read_irq_info(dev, i);
	if (rc < 0) {
		vfc_close(dev);
		return rc;
	}
	return 0;
}

void vfc_close(struct vfc_device *dev)
{
	if (!dev)
		return;
	if (dev->sock >= 0)
		close(dev->sock);
	dev->sock = -1;
}

/* ---- region access ------------------------------------------------------ */

static int check_access(const struct vfc_device *dev, uint32_t region,
			const void *buf, uint32_t len)
{
	if (!buf || len == 0 || len > dev->server_max_xfer ||
	    region >= dev->num_regions)
		return -EINVAL;
	return 0;
}

static bool echo_matches(const struct vfio_user_region_access *a,
			 const struct vfio_user_region_access *b)
{
	return a->offset == b->offset && a->region == b->region &&
	       a->count == b->count;
}

int vfc_region_read(struct vfc_device *dev, uint32_t region, uint64_t off,
		    void *buf, uint32_t len)
{
	struct vfio_user_region_access req = { .offset = off, .region = region,
					       .count = len }, echo;
	struct iovec rq = { .iov_base = &req, .iov_len = sizeof(req) };
	struct iovec rp[2] = { { .iov_base = &echo, .iov_len = sizeof(echo) },
			       { .iov_base = buf, .iov_len = len } };
	struct vfc_call c = {
		.command = VFIO_USER_REGION_READ,
		.req = &rq,
		.req_cnt = 1,
		.rep = rp,
		.rep_cnt = 2,
		.rep_min = (uint32_t)sizeof(echo) + len,
	};
	int rc = check_access(dev, region, buf, len);

	if (rc < 0)
		return rc;
	rc = vfc_call(dev, &c);
	if (rc < 0)
		return rc;
	if (!echo_matches(&req, &echo)) {
		log_rl(LOG_WARN, "vfio-user client: REGION_READ reply is for another access");
		return -EPROTO;
	}
	return 0;
}

int vfc_region_write(struct vfc_device *dev, uint32_t region, uint64_t off,
		     const void *buf, uint32_t len)
{
	struct vfio_user_region_access req = { .offset = off, .region = region,
					       .count = len }, echo;
	struct iovec rq[2] = { { .iov_base = &req, .iov_len = sizeof(req) },
			       { .iov_base = (void *)buf, .iov_len = len } };
	struct iovec rp = { .iov_base = &echo, .iov_len = sizeof(echo) };
	/* The spec's reply echoes the 16 bytes; accept a bare header too. */
	struct vfc_call c = {
		.command = VFIO_USER_REGION_WRITE,
		.req = rq,
		.req_cnt = 2,
		.rep = &rp,
		.rep_cnt = 1,
		.rep_min = 0,
	};
	int rc = check_access(dev, region, buf, len);

	if (rc < 0)
		return rc;
	rc = vfc_call(dev, &c);
	if (rc < 0)
		return rc;
	if (c.rep_len != 0 && (c.rep_len != sizeof(echo) || !echo_matches(&req, &echo))) {
		log_rl(LOG_WARN, "vfio-user client: REGION_WRITE reply is for another access");
		return -EPROTO;
	}
	return 0;
}

int vfc_read8(struct vfc_device *dev, uint32_t region, uint64_t off, uint8_t *v)
{
	return vfc_region_read(dev, region, off, v, sizeof(*v));
}

int vfc_read16(struct vfc_device *dev, uint32_t region, uint64_t off, uint16_t *v)
{
	uint16_t le;
	int rc = vfc_region_read(dev, region, off, &le, sizeof(le));

	if (rc == 0)
		*v = le16toh(le);
	return rc;
}

int vfc_read32(struct vfc_device *dev, uint32_t region, uint64_t off, uint32_t *v)
{
	uint32_t le;
	int rc = vfc_region_read(dev, region, off, &le, sizeof(le));

	if (rc == 0)
		*v = le32toh(le);
	return rc;
}

int vfc_write8(struct vfc_device *dev, uint32_t region, uint64_t off, uint8_t v)
{
	return vfc_region_write(dev, region, off, &v, sizeof(v));
}

int vfc_write16(struct vfc_device *dev, uint32_t region, uint64_t off, uint16_t v)
{
	uint16_t le = htole16(v);

	return vfc_region_write(dev, region, off, &le, sizeof(le));
}

int vfc_write32(struct vfc_device *dev, uint32_t region, uint64_t off, uint32_t v)
{
	uint32_t le = htole32(v);

	return vfc_region_write(dev, region, off, &le, sizeof(le));
}

/* ---- DMA ---------------------------------------------------------------- */

int vfc_dma_map(struct vfc_device *dev, uint64_t iova, uint64_t size, int fd,
		uint64_t off, bool writable)
{
	struct vfio_user_dma_map req = {
		.argsz = sizeof(req),
		.flags = VFIO_USER_DMA_MAP_F_READ |
			 (writable ? VFIO_USER_DMA_MAP_F_WRITE : 0),
		.offset = off,
		.address = iova,
		.size = size,
	};
	struct iovec rq = { .iov_base = &req, .iov_len = sizeof(req) };
	struct vfc_call c = {
		.command = VFIO_USER_DMA_MAP,
		.req = &rq,
		.req_cnt = 1,
		.fds = &fd,
		.nfds = 1,
	};

	if (size == 0 || iova + size < iova || off + size < off)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	if (dev->server_max_fds < 1)
		return -ENOTSUP;
	return vfc_call(dev, &c);
}

int vfc_dma_unmap(struct vfc_device *dev, uint64_t iova, uint64_t size)
{
	struct vfio_user_dma_unmap req = {
		.argsz = sizeof(req),
		.address = iova,
		.size = size,
	}, rep;
	int rc;

	if (size == 0)
		return -EINVAL;
	/* The reply echoes the request (libvfio-user); a bare header is
	 * accepted too. */
	rc = vfc_call_simple(dev, VFIO_USER_DMA_UNMAP, &req, sizeof(req), &rep, 0,
			     sizeof(rep));
	return rc;
}

/* ---- interrupts --------------------------------------------------------- */

static int set_irqs(struct vfc_device *dev, uint32_t flags, uint32_t index,
		    uint32_t start, uint32_t count, const int *fds, unsigned nfds)
{
	struct vfio_user_irq_set req = {
		.argsz = sizeof(req),
		.flags = flags,
		.index = index,
		.start = start,
		.count = count,
	};
	struct iovec rq = { .iov_base = &req, .iov_len = sizeof(req) };
	struct vfc_call c = {
		.command = VFIO_USER_DEVICE_SET_IRQS,
		.req = &rq,
		.req_cnt = 1,
		.fds = fds,
		.nfds = nfds,
	};

	return vfc_call(dev, &c);
}

static int check_vectors(const struct vfc_device *dev, uint32_t index,
			 uint32_t start, uint32_t count)
{
	if (index >= dev->num_irqs || start + count < start ||
	    start + count > dev->irq_count[index])
		return -EINVAL;
	return 0;
}

/* Splits the table as QEMU's client does: runs of valid fds, at most the
 * server's max_msg_fds per message, and runs of "no fd" sent without fds
 * (which unbinds them). */
int vfc_set_irq_eventfds(struct vfc_device *dev, uint32_t index, uint32_t start,
			 uint32_t count, const int *fds)
{
	const uint32_t bind = VFIO_USER_IRQ_SET_DATA_EVENTFD |
			      VFIO_USER_IRQ_SET_ACTION_TRIGGER;
	uint32_t max = dev->server_max_fds < VFIO_USER_MAX_FDS ? dev->server_max_fds
							       : VFIO_USER_MAX_FDS;
	uint32_t i = 0;
	int rc = check_vectors(dev, index, start, count);

	if (rc < 0)
		return rc;
	if (count && !fds)
		return -EINVAL;
	while (i < count) {
		uint32_t j = i;

		if (fds[i] >= 0) {
			if (max == 0)
				return -ENOTSUP;
			while (j < count && fds[j] >= 0 && j - i < max)
				j++;
			rc = set_irqs(dev, bind, index, start + i, j - i, fds + i,
				      j - i);
		} else {
			while (j < count && fds[j] < 0)
				j++;
			rc = set_irqs(dev, bind, index, start + i, j - i, NULL, 0);
		}
		if (rc < 0)
			return rc;
		i = j;
	}
	return 0;
}

int vfc_disable_irqs(struct vfc_device *dev, uint32_t index)
{
	if (index >= dev->num_irqs)
		return -EINVAL;
	return set_irqs(dev, VFIO_USER_IRQ_SET_DATA_NONE |
				     VFIO_USER_IRQ_SET_ACTION_TRIGGER,
			index, 0, 0, NULL, 0);
}

int vfc_unmask_irq(struct vfc_device *dev, uint32_t index, uint32_t vector)
{
	int rc = check_vectors(dev, index, vector, 1);

	if (rc < 0)
		return rc;
	return set_irqs(dev, VFIO_USER_IRQ_SET_DATA_NONE |
				     VFIO_USER_IRQ_SET_ACTION_UNMASK,
			index, vector, 1, NULL, 0);
}

/* ---- doorbell eventfds -------------------------------------------------- */

static void close_unused(const int *fds, unsigned n, const bool *used)
{
	for (unsigned i = 0; i < n; i++)
		if (!used[i])
			close(fds[i]);
}

/* One GET_REGION_IO_FDS round trip with room for `room` reply bytes. */
static int io_fds_call(struct vfc_device *dev, uint32_t region, uint8_t *buf,
		       uint32_t room, int *rfds, unsigned *nrfds, uint32_t *len)
{
	struct vfio_user_region_io_fds req = { .argsz = room, .index = region };
	struct iovec rq = { .iov_base = &req, .iov_len = sizeof(req) };
	struct iovec rp = { .iov_base = buf, .iov_len = room };
	struct vfc_call c = {
		.command = VFIO_USER_DEVICE_GET_REGION_IO_FDS,
		.req = &rq,
		.req_cnt = 1,
		.rep = &rp,
		.rep_cnt = 1,
		.rep_min = sizeof(req),
		.rfds = rfds,
		.rfds_max = VFIO_USER_MAX_FDS,
	};
	int rc = vfc_call(dev, &c);

	*nrfds = c.nrfds;
	*len = c.rep_len;
	return rc;
}

static bool area_inside_region(const struct vfc_device *dev, uint32_t region,
			       const struct vfio_user_ioeventfd *e)
{
	uint64_t rsize = dev->regions[region].size;

	return e->offset <= rsize && e->size <= rsize - e->offset;
}

int vfc_get_region_io_fds(struct vfc_device *dev, uint32_t region,
			  struct vfc_iofd *out, unsigned max)
{
	uint32_t room = (uint32_t)(sizeof(struct vfio_user_region_io_fds) +
				   VFC_MAX_IOFDS * 48u);
	int rfds[VFIO_USER_MAX_FDS];
	bool used[VFIO_USER_MAX_FDS] = { false };
	struct vfio_user_region_io_fds fixed;
	unsigned nrfds = 0, w = 0;
	uint32_t len, stride;
	uint8_t *buf = NULL;
	const char *why;
	int n, rc;

	if (region >= dev->num_regions || (max && !out))
		return -EINVAL;
	for (int attempt = 0;; attempt++) {
		uint8_t *nb = realloc(buf, room);

		if (!nb) {
			free(buf);
			return -ENOMEM;
		}
		buf = nb;
		rc = io_fds_call(dev, region, buf, room, rfds, &nrfds, &len);
		if (rc < 0) {
			free(buf);
			return rc;
		}
		n = vfio_user_parse_io_fds_reply(buf, len, &fixed, &stride, &why);
		if (n < 0 || fixed.index != region) {
			log_rl(LOG_WARN, "vfio-user client: bad GET_REGION_IO_FDS reply: %s",
			       n < 0 ? why : "for another region");
			n = -EPROTO;
			break;
		}
		if (n > 0 || fixed.count == 0)
			break;
		/* The server needs more room than we gave: ask once more. */
		close_unused(rfds, nrfds, used);
		nrfds = 0;
		if (attempt > 0 || fixed.argsz > VFC_IO_FDS_MAX_REPLY ||
		    fixed.argsz <= room) {
			n = -EPROTO;
			break;
		}
		room = fixed.argsz;
	}
	for (int i = 0; i < n && w < max; i++) {
		struct vfio_user_ioeventfd e;

		vfio_user_io_fd_entry(buf, stride, (uint32_t)i, &e);
		if (e.fd_index >= nrfds) {
			log_rl(LOG_WARN, "vfio-user client: IO_FDS entry %d names fd %u of %u",
			       i, e.fd_index, nrfds);
			n = -EPROTO;
			break;
		}
		if (e.type != VFIO_USER_IO_FD_TYPE_IOEVENTFD ||
		    !area_inside_region(dev, region, &e))
			continue;	/* not one we can use: region writes do */
		out[w].offset = e.offset;
		out[w].size = e.size;
		out[w].datamatch = e.datamatch;
		out[w].has_datamatch = e.flags & VFIO_USER_IOEVENTFD_F_DATAMATCH;
		out[w].fd = rfds[e.fd_index];
		used[e.fd_index] = true;
		w++;
	}
	free(buf);
	if (n < 0) {
		memset(used, 0, sizeof(used));
		close_unused(rfds, nrfds, used);
		return n;
	}
	close_unused(rfds, nrfds, used);
	return (int)w;
}

void vfc_close_iofds(struct vfc_iofd *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		bool seen = false;

		if (fds[i].fd < 0)
			continue;
		for (unsigned j = 0; j < i && !seen; j++)
			seen = fds[j].fd == fds[i].fd;
		if (!seen)
			close(fds[i].fd);
	}
	for (unsigned i = 0; i < n; i++)
		fds[i].fd = -1;
}

/* ---- reset -------------------------------------------------------------- */

int vfc_reset(struct vfc_device *dev)
{
	if (!(dev->flags & VFC_DEVICE_FLAGS_RESET))
		return -ENOTSUP;
	return vfc_call_simple(dev, VFIO_USER_DEVICE_RESET, NULL, 0, NULL, 0, 0);
}

/* ---- migration (vfio-user.rst "Migration") ------------------------------ */

#define MIG_FEATURE_MIGRATION 1u
#define MIG_FEATURE_STATE     2u
#define MIG_FEATURE_GET	      (1u << 16)
#define MIG_FEATURE_SET	      (1u << 17)
#define MIG_STOP_COPY_FLAG    1u

int vfc_mig_supported(struct vfc_device *dev)
{
	uint32_t req[2] = { 16, MIG_FEATURE_MIGRATION | MIG_FEATURE_GET };
	uint8_t rep[16];
	uint64_t flags;
	int rc = vfc_call_simple(dev, VFIO_USER_DEVICE_FEATURE, req, sizeof(req), rep,
				 sizeof(rep), sizeof(rep));

	if (rc < 0)
		return rc;
	memcpy(&flags, rep + 8, 8);
	return (flags & MIG_STOP_COPY_FLAG) ? 0 : -ENOTSUP;
}

int vfc_mig_set_state(struct vfc_device *dev, uint32_t state)
{
	uint32_t req[4] = { 16, MIG_FEATURE_STATE | MIG_FEATURE_SET, state, UINT32_MAX };
	uint32_t rep[4];
	int rc = vfc_call_simple(dev, VFIO_USER_DEVICE_FEATURE, req, sizeof(req), rep,
				 sizeof(rep), sizeof(rep));

	if (rc < 0)
		return rc;
	if (rep[2] != state) {
		log_rl(LOG_WARN, "vfio-user client: asked for migration state %u, the device is in %u",
		       state, rep[2]);
		return -EPROTO;
	}
	return 0;
}

int vfc_mig_read(struct vfc_device *dev, void *buf, uint32_t max, uint32_t *got)
{
	uint32_t req[2], rep[2];
	struct iovec rq = { .iov_base = req, .iov_len = sizeof(req) };
	struct iovec rp[2] = { { .iov_base = rep, .iov_len = sizeof(rep) },
			       { .iov_base = buf, .iov_len = max } };
	struct vfc_call c = {
		.command = VFIO_USER_MIG_DATA_READ,
		.req = &rq,
		.req_cnt = 1,
		.rep = rp,
		.rep_cnt = 2,
		.rep_min = sizeof(rep),
	};
	int rc;

	*got = 0;
	if (max > dev->server_max_xfer)
		max = dev->server_max_xfer;
	rp[1].iov_len = max;
	req[0] = (uint32_t)sizeof(req) + max;
	req[1] = max;
	rc = vfc_call(dev, &c);
	if (rc < 0)
		return rc;
	/* What the server says it sent must be what arrived, and no more
	 * than was asked for. */
	if (rep[1] > max || c.rep_len != sizeof(rep) + rep[1]) {
		log_rl(LOG_WARN, "vfio-user client: MIG_DATA_READ reply says %u bytes, carries %u",
		       rep[1], c.rep_len - (uint32_t)sizeof(rep));
		return -EPROTO;
	}
	*got = rep[1];
	return 0;
}

int vfc_mig_write(struct vfc_device *dev, const void *buf, uint32_t len)
{
	const uint8_t *p = buf;

	while (len) {
		uint32_t n = len < dev->server_max_xfer ? len : dev->server_max_xfer;
		uint32_t req[2] = { (uint32_t)sizeof(req), n };
		struct iovec rq[2] = { { .iov_base = req, .iov_len = sizeof(req) },
				       { .iov_base = (void *)p, .iov_len = n } };
		struct vfc_call c = {
			.command = VFIO_USER_MIG_DATA_WRITE,
			.req = rq,
			.req_cnt = 2,
		};
		int rc = vfc_call(dev, &c);

		if (rc < 0)
			return rc;
		p += n;
		len -= n;
	}
	return 0;
}

/* ---- dirty-page logging (DEVICE_FEATURE DMA_LOGGING_*) ------------------- */

#define LOG_FEATURE_START  6u
#define LOG_FEATURE_STOP   7u
#define LOG_FEATURE_REPORT 8u

int vfc_dma_logging_start(struct vfc_device *dev, uint64_t *page_size)
{
	/* argsz, flags; page_size, num_ranges 0 (every window), reserved */
	uint8_t req[24], rep[24];
	uint32_t hdr[2] = { sizeof(req), LOG_FEATURE_START | MIG_FEATURE_SET };
	uint32_t zero[2] = { 0, 0 };
	int rc;

	memcpy(req, hdr, 8);
	memcpy(req + 8, page_size, 8);
	memcpy(req + 16, zero, 8);
	rc = vfc_call_simple(dev, VFIO_USER_DEVICE_FEATURE, req, sizeof(req), rep,
			     sizeof(rep), sizeof(rep));
	if (rc == 0)
		memcpy(page_size, rep + 8, 8);	/* the device may pick another */
	return rc;
}

int vfc_dma_logging_stop(struct vfc_device *dev)
{
	uint32_t req[2] = { sizeof(req), LOG_FEATURE_STOP | MIG_FEATURE_SET }, rep[2];

	return vfc_call_simple(dev, VFIO_USER_DEVICE_FEATURE, req, sizeof(req), rep,
			       sizeof(rep), sizeof(rep));
}

int vfc_dma_logging_report(struct vfc_device *dev, uint64_t iova, uint64_t length,
			   uint64_t page_size, uint64_t *bitmap, size_t words)
{
	uint32_t hdr[2];
	uint64_t q[3] = { iova, length, page_size };
	uint8_t head[8 + sizeof(q)];
	struct iovec rq = { .iov_base = head, .iov_len = sizeof(head) };
	struct iovec rp[2] = { { .iov_base = head, .iov_len = sizeof(head) },
			       { .iov_base = bitmap, .iov_len = words * 8 } };
	struct vfc_call c = {
		.command = VFIO_USER_DEVICE_FEATURE,
		.req = &rq,
		.req_cnt = 1,
		.rep = rp,
		.rep_cnt = 2,
	};

	if (page_size == 0 || length / page_size > words * 64)
		return -EINVAL;
	hdr[0] = (uint32_t)(sizeof(head) + words * 8);
	hdr[1] = LOG_FEATURE_REPORT | MIG_FEATURE_GET;
	memcpy(head, hdr, 8);
	memcpy(head + 8, q, sizeof(q));
	c.rep_min = (uint32_t)(sizeof(head) + ((length / page_size + 63) / 64) * 8);
	return vfc_call(dev, &c);
}
