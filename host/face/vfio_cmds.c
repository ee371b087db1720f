// SPDX-License-Identifier: MIT
/*
 * vfio_cmds.c - what the server does for each vfio-user command
 * (section names from QEMU docs/interop/vfio-user.rst).  Every message has
 * passed vfio_user_check_request before a handler sees it, so handlers may
 * copy the fixed structs; they still check everything that depends on the
 * device (region and irq indices, ranges, the fds themselves).
 *
 * Choices where the spec leaves room (documented for clients):
 *  - A message before VERSION gets an EINVAL error reply and the
 *    connection is closed ("the initial client message is VERSION").
 *  - A major other than 0 gets an EINVAL error reply, then the connection
 *    is closed (the spec only says "closes"; the reply tells the user why).
 *    The minor we answer is min(client's, 2), as libvfio-user does.
 *  - An unknown or unsupported command gets EINVAL, as libvfio-user does;
 *    DEVICE_FEATURE for a feature we do not serve gets ENOTSUP, the
 *    spec's answer (we serve migration and dirty-page logging).
 *  - DMA_MAP without an fd gets ENOTSUP: we do not do message DMA.
 *  - DMA_MAP over an existing window gets EEXIST (the spec's word).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/gmem.h"
#include "common/log.h"
#include "host/transport/transport.h"
#include "host/face/vfio_server_priv.h"

#define SERVER_MAX_MINOR 2

void reply_small(struct reply *r, const void *p, size_t len)
{
	memcpy(r->small.bytes, p, len);
	r->iov[0].iov_base = r->small.bytes;
	r->iov[0].iov_len = len;
	r->iovcnt = 1;
}

/* ---- VERSION ------------------------------------------------------------ */

static int do_version(struct vfio_server *s, struct vfio_user_msg *m)
{
	struct vfio_user_version v, ours = { .major = 0 };
	struct vfio_user_caps caps, mine;
	char json[256];
	struct iovec iov[2];
	const char *why;
	int n, rc;

	vfio_user_caps_default(&caps);
	rc = vfio_user_parse_version(m->payload, m->len, &v, &caps, &why);
	if (rc < 0)	/* already checked; kept for safety */
		return rc;
	if (v.major != 0) {
		log_rl(LOG_WARN, "vfio-user %s: client speaks version %u.%u, we speak 0.0-0.%u",
		       s->path, v.major, v.minor, SERVER_MAX_MINOR);
		vfio_user_reply_error(s->client_fd, &m->hdr, EINVAL, SERVER_SEND_MS);
		return -EPROTO;
	}
	ours.minor = v.minor < SERVER_MAX_MINOR ? v.minor : SERVER_MAX_MINOR;

	vfio_user_caps_default(&mine);
	mine.max_msg_fds = VFIO_USER_MAX_FDS;
	mine.max_data_xfer_size = VFIO_USER_MAX_XFER;
	mine.max_dma_maps = GMEM_MAX_WINDOWS;
	n = vfio_user_caps_format(&mine, json, sizeof(json));
	if (n < 0)
		return n;
	iov[0].iov_base = &ours;
	iov[0].iov_len = sizeof(ours);
	iov[1].iov_base = json;
	iov[1].iov_len = (size_t)n + 1;		/* with the NUL */
	rc = vfio_user_reply(s->client_fd, &m->hdr, iov, 2, NULL, 0, SERVER_SEND_MS);
	if (rc < 0)
		return rc;
	s->client_caps = caps;
	s->negotiated = true;
	log_info("vfio-user %s: client attached (version 0.%u, max_msg_fds %u)",
		 s->path, ours.minor, caps.max_msg_fds);
	if (s->cbs.attached)
		s->cbs.attached(s->cbs.arg);
	return 0;
}

/* ---- DMA_MAP / DMA_UNMAP ------------------------------------------------ */

/* Touching a page beyond the end of a mapped file is SIGBUS, so the window
 * must lie inside the file as it is now. */
static int check_dma_fd(int fd, uint64_t off, uint64_t size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size < 0 || off > (uint64_t)st.st_size ||
	    size > (uint64_t)st.st_size - off)
		return -EINVAL;
	return 0;
}

static int do_dma_map(struct vfio_server *s, struct vfio_user_msg *m,
		      struct reply *r)
{
	struct vfio_user_dma_map d;
	int rc;

	(void)r;
	memcpy(&d, m->payload, sizeof(d));
	if (m->nfds == 0) {
		log_rl(LOG_WARN, "vfio-user %s: DMA_MAP of 0x%llx+0x%llx without an fd: message DMA is not supported",
		       s->path, (unsigned long long)d.address,
		       (unsigned long long)d.size);
		return -ENOTSUP;
	}
	rc = check_dma_fd(m->fds[0], d.offset, d.size);
	if (rc < 0) {
		log_rl(LOG_WARN, "vfio-user %s: DMA_MAP 0x%llx+0x%llx: the fd is not a regular file covering offset 0x%llx",
		       s->path, (unsigned long long)d.address,
		       (unsigned long long)d.size, (unsigned long long)d.offset);
		return rc;
	}
	rc = gmem_map_fd(s->gm, d.address, d.size, m->fds[0], d.offset,
			 d.flags & VFIO_USER_DMA_MAP_F_WRITE);
	if (rc < 0) {
		log_rl(LOG_WARN, "vfio-user %s: DMA_MAP 0x%llx+0x%llx: %s", s->path,
		       (unsigned long long)d.address, (unsigned long long)d.size,
		       rc == -EEXIST ? "overlaps a mapped window" : strerror(-rc));
		return rc;
	}
	/* The fd itself is closed with the message: the mapping keeps the
	 * file alive. */
	log_debug("vfio-user %s: DMA_MAP 0x%llx+0x%llx%s", s->path,
		  (unsigned long long)d.address, (unsigned long long)d.size,
		  (d.flags & VFIO_USER_DMA_MAP_F_WRITE) ? " rw" : " ro");
	return 0;
}

static int do_dma_unmap(struct vfio_server *s, struct vfio_user_msg *m,
			struct reply *r)
{
	struct vfio_user_dma_unmap d;
	bool found = false;

	memcpy(&d, m->payload, sizeof(d));
	if (d.flags & VFIO_USER_DMA_UNMAP_F_ALL) {
		gmem_clear(s->gm);
	} else {
		for (unsigned i = 0; i < s->gm->n && !found; i++)
			found = s->gm->win[i].gpa == d.address &&
				s->gm->win[i].size == d.size;
		if (!found) {
			log_rl(LOG_WARN, "vfio-user %s: DMA_UNMAP 0x%llx+0x%llx matches no window",
			       s->path, (unsigned long long)d.address,
			       (unsigned long long)d.size);
			return -ENOENT;
		}
		gmem_remove(s->gm, d.address, d.size);
	}
	/* "The server must release all references before replying": the
	 * device drops or re-checks every pointer into what went away. */
	if (s->cbs.dma_unmapped)
		s->cbs.dma_unmapped(s->cbs.arg);
	/* "The server responds with the original DMA entry." */
	d.argsz = sizeof(d);
	reply_small(r, &d, sizeof(d));
	return 0;
}

/* ---- device, region and irq info --------------------------------------- */

static int do_get_info(struct vfio_server *s, struct vfio_user_msg *m,
		       struct reply *r)
{
	const struct transport_ops *ops = s->t->ops;
	struct vfio_user_device_info info = {
		.argsz = sizeof(info),
		.flags = ops->device_flags,
		.num_regions = ops->num_regions,
		.num_irqs = ops->num_irqs,
	};

	(void)m;
	reply_small(r, &info, sizeof(info));
	return 0;
}

static int do_region_info(struct vfio_server *s, struct vfio_user_msg *m,
			  struct reply *r)
{
	struct vfio_user_region_info ri;
	uint64_t size = 0;
	uint32_t flags = 0;
	int rc;

	memcpy(&ri, m->payload, sizeof(ri));
	if (ri.index >= s->t->ops->num_regions || !s->t->ops->region_info)
		return -EINVAL;
	rc = s->t->ops->region_info(s->t, ri.index, &size, &flags);
	if (rc < 0)
		return rc;
	/* No capabilities, so the full answer is the 32-byte struct, which
	 * the checked argsz always has room for. */
	ri.argsz = sizeof(ri);
	ri.flags = flags & (VFIO_USER_REGION_F_READ | VFIO_USER_REGION_F_WRITE);
	ri.cap_offset = 0;
	ri.size = size;
	ri.offset = 0;
	reply_small(r, &ri, sizeof(ri));
	return 0;
}

/* Index of fd in r->fds, adding it when there is room; -1 when full. */
static int reply_fd_index(struct reply *r, int fd, unsigned limit)
{
	for (unsigned i = 0; i < r->nfds; i++)
		if (r->fds[i] == fd)
			return (int)i;
	if (r->nfds >= limit)
		return -1;
	r->fds[r->nfds] = fd;
	return (int)r->nfds++;
}

/* "VFIO_USER_DEVICE_GET_REGION_IO_FDS": the transport's doorbells as
 * ioeventfd entries (40-byte spec layout), one fd per distinct eventfd.
 * The fds stay the vdev's: sendmsg passes copies. */
static int do_region_io_fds(struct vfio_server *s, struct vfio_user_msg *m,
			    struct reply *r)
{
	struct transport_notify_area areas[SERVER_MAX_IO_FDS];
	struct vfio_user_region_io_fds req, rep = { 0 };
	struct vfio_user_ioeventfd *ents =
		(struct vfio_user_ioeventfd *)(r->small.bytes + sizeof(rep));
	unsigned n = 0, count = 0;
	unsigned limit = s->client_caps.max_msg_fds < VFIO_USER_MAX_FDS
				 ? s->client_caps.max_msg_fds
				 : VFIO_USER_MAX_FDS;

	memcpy(&req, m->payload, sizeof(req));
	if (req.index >= s->t->ops->num_regions)
		return -EINVAL;
	memset(areas, 0, sizeof(areas));	/* fields a transport leaves out */
	if (s->t->ops->notify_areas)
		n = s->t->ops->notify_areas(s->t, req.index, areas, SERVER_MAX_IO_FDS);
	if (n > SERVER_MAX_IO_FDS)
		n = SERVER_MAX_IO_FDS;
	for (unsigned i = 0; i < n; i++) {
		struct vfio_user_ioeventfd e = { 0 };
		int idx;

		if (areas[i].region != req.index || areas[i].fd < 0)
			continue;
		idx = reply_fd_index(r, areas[i].fd, limit);
		if (idx < 0)
			continue;	/* over the client's fd limit: it uses
					 * REGION_WRITE for this one */
		e.offset = areas[i].offset;
		e.size = areas[i].size;
		e.fd_index = (uint32_t)idx;
		e.type = VFIO_USER_IO_FD_TYPE_IOEVENTFD;
		/* A register several doorbells share (legacy PCI, MMIO
		 * QueueNotify): only a write of datamatch is this one. */
		if (areas[i].has_datamatch) {
			e.flags = VFIO_USER_IOEVENTFD_F_DATAMATCH;
			e.datamatch = areas[i].datamatch;
		}
		memcpy(&ents[count++], &e, sizeof(e));
	}
	rep.argsz = (uint32_t)(sizeof(rep) + count * sizeof(struct vfio_user_ioeventfd));
	rep.index = req.index;
	rep.count = count;
	memcpy(r->small.bytes, &rep, sizeof(rep));
	r->iov[0].iov_base = r->small.bytes;
	r->iovcnt = 1;
	if (req.argsz < rep.argsz) {
		/* "Message sizes": only the fixed part, argsz says what is
		 * needed; no entries, so no fds either. */
		r->iov[0].iov_len = sizeof(rep);
		r->nfds = 0;
	} else {
		r->iov[0].iov_len = rep.argsz;
	}
	return 0;
}

static int irq_info(struct vfio_server *s, uint32_t index, uint32_t *count,
		    uint32_t *flags)
{
	int rc;

	*count = 0;
	*flags = 0;
	if (index >= s->t->ops->num_irqs || !s->t->ops->irq_info)
		return -EINVAL;
	rc = s->t->ops->irq_info(s->t, index, count, flags);
	if (rc < 0)
		return rc;
	/* What the irq table can hold is all we can serve. */
	if (index >= TRANSPORT_MAX_IRQ_INDEX)
		*count = 0;
	if (*count > TRANSPORT_MAX_VECTORS)
		*count = TRANSPORT_MAX_VECTORS;
	return 0;
}

static int do_irq_info(struct vfio_server *s, struct vfio_user_msg *m,
		       struct reply *r)
{
	struct vfio_user_irq_info ii;
	uint32_t count, flags;
	int rc;

	memcpy(&ii, m->payload, sizeof(ii));
	rc = irq_info(s, ii.index, &count, &flags);
	if (rc < 0)
		return rc;
	ii.argsz = sizeof(ii);
	ii.count = count;
	ii.flags = flags;
	reply_small(r, &ii, sizeof(ii));
	return 0;
}

/* ---- SET_IRQS ----------------------------------------------------------- */

/* An irq fd must be an eventfd, and non-blocking: an interrupt write must
 * never block the device's loop, and a client could fill its counter.
 * (This sets O_NONBLOCK on the client's open file too; eventfd users poll.) */
static int prepare_irq_fd(int fd)
{
	char link[64], path[40];
	ssize_t n;
	int fl;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n >= 0) {
		link[n] = '\0';
		if (strcmp(link, "anon_inode:[eventfd]") != 0)
			return -EINVAL;
	}	/* without /proc we cannot tell; O_NONBLOCK still protects us */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static void unbind_vector(struct transport *t, uint32_t index, uint32_t v)
{
	if (t->irqs.fd[index][v] >= 0)
		close(t->irqs.fd[index][v]);
	t->irqs.fd[index][v] = -1;
}

static int bind_eventfds(struct vfio_server *s, struct vfio_user_msg *m,
			 const struct vfio_user_irq_set *is)
{
	struct transport *t = s->t;

	if (m->nfds == 0) {	/* "no file descriptors: de-assigns" */
		for (uint32_t v = is->start; v < is->start + is->count; v++)
			unbind_vector(t, is->index, v);
		return 0;
	}
	/* All or nothing: check every fd before binding any. */
	for (unsigned i = 0; i < m->nfds; i++) {
		int rc = prepare_irq_fd(m->fds[i]);

		if (rc < 0) {
			log_rl(LOG_WARN, "vfio-user %s: SET_IRQS index %u: fd %u is not an eventfd",
			       s->path, is->index, i);
			return rc;
		}
	}
	for (uint32_t i = 0; i < is->count; i++) {
		uint32_t v = is->start + i;

		unbind_vector(t, is->index, v);
		t->irqs.fd[is->index][v] = vfio_user_msg_take_fd(m, i);
	}
	return 0;
}

static int do_set_irqs(struct vfio_server *s, struct vfio_user_msg *m,
		       struct reply *r)
{
	struct transport *t = s->t;
	struct vfio_user_irq_set is;
	const uint8_t *bools = m->payload + sizeof(is);
	uint32_t vcount, iflags, data, action;
	int rc;

	(void)r;
	memcpy(&is, m->payload, sizeof(is));
	rc = irq_info(s, is.index, &vcount, &iflags);
	if (rc < 0)
		return rc;
	data = is.flags & VFIO_USER_IRQ_SET_DATA_MASK;
	action = is.flags & VFIO_USER_IRQ_SET_ACTION_MASK_ALL;

	if (data == VFIO_USER_IRQ_SET_DATA_NONE &&
	    action == VFIO_USER_IRQ_SET_ACTION_TRIGGER && is.start == 0 &&
	    is.count == 0) {
		/* "A count (and start) of 0 with DATA_NONE disables all
		 * interrupts of the index." */
		for (uint32_t v = 0; v < TRANSPORT_MAX_VECTORS; v++) {
			unbind_vector(t, is.index, v);
			t->irqs.masked[is.index][v] = false;
		}
		goto changed;
	}
	if (is.count == 0)
		return 0;
	if (is.start >= vcount || is.count > vcount - is.start) {
		log_rl(LOG_WARN, "vfio-user %s: SET_IRQS index %u vectors %u+%u: it has %u",
		       s->path, is.index, is.start, is.count, vcount);
		return -EINVAL;
	}
	if (action != VFIO_USER_IRQ_SET_ACTION_TRIGGER &&
	    !(iflags & (VFIO_USER_IRQ_INFO_F_MASKABLE | VFIO_USER_IRQ_INFO_F_AUTOMASKED)))
		return -EINVAL;

	if (data == VFIO_USER_IRQ_SET_DATA_EVENTFD) {
		rc = bind_eventfds(s, m, &is);
		if (rc < 0)
			return rc;
		goto changed;
	}
	for (uint32_t i = 0; i < is.count; i++) {
		uint32_t v = is.start + i;

		if (data == VFIO_USER_IRQ_SET_DATA_BOOL && !bools[i])
			continue;
		if (action == VFIO_USER_IRQ_SET_ACTION_TRIGGER)
			transport_fire(t, is.index, v);
		else
			t->irqs.masked[is.index][v] =
				action == VFIO_USER_IRQ_SET_ACTION_MASK;
	}
	if (action == VFIO_USER_IRQ_SET_ACTION_TRIGGER)
		return 0;	/* nothing changed */
changed:
	if (t->ops->irqs_changed)
		t->ops->irqs_changed(t, is.index);
	return 0;
}

/* ---- region access and reset ------------------------------------------- */

/* The request sits at the start of s->buf: its 16-byte header is also the
 * reply's, and read data goes right after it. */
static int do_region_read(struct vfio_server *s, struct vfio_user_msg *m,
			  struct reply *r)
{
	struct vfio_user_region_access a;
	int rc;

	memcpy(&a, m->payload, sizeof(a));
	if (a.region >= s->t->ops->num_regions || !s->t->ops->region_read)
		return -EINVAL;
	rc = s->t->ops->region_read(s->t, a.region, a.offset,
				    m->payload + sizeof(a), a.count);
	if (rc < 0)
		return rc;
	r->iov[0].iov_base = m->payload;
	r->iov[0].iov_len = sizeof(a) + a.count;
	r->iovcnt = 1;
	return 0;
}

static int do_region_write(struct vfio_server *s, struct vfio_user_msg *m,
			   struct reply *r)
{
	struct vfio_user_region_access a;
	int rc;

	memcpy(&a, m->payload, sizeof(a));
	if (a.region >= s->t->ops->num_regions || !s->t->ops->region_write)
		return -EINVAL;
	rc = s->t->ops->region_write(s->t, a.region, a.offset,
				     m->payload + sizeof(a), a.count);
	if (rc < 0)
		return rc;
	reply_small(r, &a, sizeof(a));
	return 0;
}

static int do_reset(struct vfio_server *s, struct vfio_user_msg *m,
		    struct reply *r)
{
	(void)m;
	(void)r;
	/* "Leave the DMA maps alone": they belong to the client. */
	if (s->t->ops->reset)
		s->t->ops->reset(s->t);
	vfs_mig_reset(s);
	return 0;
}

/* ---- dispatch ----------------------------------------------------------- */

typedef int (*cmd_fn)(struct vfio_server *s, struct vfio_user_msg *m,
		      struct reply *r);

/* ---- DEVICE_FEATURE: dirty-page logging --------------------------------
 * DMA_LOGGING_START / STOP (SET) and REPORT (GET), as vfio-user.rst
 * defines them after Linux's VFIO_DEVICE_FEATURE: the device marks every
 * guest page it writes (common/gmem_log.c).  MIGRATION and
 * MIG_DEVICE_STATE are vfio_mig.c's. */

#define FEATURE_DMA_LOGGING_START  6u
#define FEATURE_DMA_LOGGING_STOP   7u
#define FEATURE_DMA_LOGGING_REPORT 8u
#define FEATURE_GET		   (1u << 16)
#define FEATURE_SET		   (1u << 17)
#define FEATURE_PROBE		   (1u << 18)
#define FEATURE_HDR		   8u	/* argsz, flags */

/* The whole payload back (SET and PROBE replies are the request). */
static void reply_payload(struct vfio_user_msg *m, struct reply *r, uint32_t len)
{
	r->iov[0].iov_base = m->payload;
	r->iov[0].iov_len = len;
	r->iovcnt = 1;
}

static int logging_start(struct vfio_server *s, struct vfio_user_msg *m, struct reply *r)
{
	const uint8_t *d = m->payload + FEATURE_HDR;
	struct gmem_log_range ranges[GMEM_LOG_MAX_RANGES];
	uint32_t n, len = m->len - FEATURE_HDR;
	uint64_t page_size;
	char why[200];
	int rc;

	if (len < 16)
		return -EINVAL;
	memcpy(&page_size, d, 8);
	memcpy(&n, d + 8, 4);
	if (n > GMEM_LOG_MAX_RANGES) {
		log_rl(LOG_WARN, "vfio-user %s: DMA_LOGGING_START with %u ranges; at most %u",
		       s->path, n, GMEM_LOG_MAX_RANGES);
		return -E2BIG;
	}
	if (len != 16 + 16 * n)
		return -EINVAL;
	memcpy(ranges, d + 16, 16 * n);
	rc = gmem_log_start(s->gm, &page_size, ranges, n, why, sizeof(why));
	if (rc < 0) {
		log_rl(LOG_WARN, "vfio-user %s: DMA_LOGGING_START refused: %s", s->path, why);
		return rc;
	}
	log_info("vfio-user %s: dirty-page log started (%u ranges, %llu-byte pages)", s->path,
		 n, (unsigned long long)page_size);
	/* "The same as the request, unless the page size was changed." */
	memcpy(m->payload + FEATURE_HDR, &page_size, 8);
	reply_payload(m, r, m->len);
	return 0;
}

static int logging_report(struct vfio_server *s, struct vfio_user_msg *m, struct reply *r,
			  uint32_t argsz)
{
	uint8_t *d = m->payload + FEATURE_HDR;
	uint64_t q[3], units, words, size, *bits;
	uint32_t out;
	char why[200];
	int rc;

	if (m->len != FEATURE_HDR + sizeof(q))
		return -EINVAL;
	memcpy(q, d, sizeof(q));	/* iova, length, page_size */
	if (q[2] == 0 || (q[2] & (q[2] - 1)))
		return -EINVAL;
	units = q[1] / q[2];
	words = (units + 63) / 64;
	size = FEATURE_HDR + sizeof(q) + words * 8;
	if (size > SERVER_BUF_SIZE || size > argsz) {
		log_rl(LOG_WARN, "vfio-user %s: DMA_LOGGING_REPORT of %llu bytes does not fit (argsz %u)",
		       s->path, (unsigned long long)size, argsz);
		return -E2BIG;
	}
	/* The bitmap goes right after the request's data, as the reply
	 * wants it (copied in: the message buffer is bytes, unaligned). */
	bits = calloc(words ? words : 1, sizeof(*bits));
	if (!bits)
		return -ENOMEM;
	rc = gmem_log_report(s->gm, q[0], q[1], q[2], bits, words, why, sizeof(why));
	if (rc == 0)
		memcpy(d + sizeof(q), bits, words * 8);
	free(bits);
	if (rc < 0) {
		log_rl(LOG_WARN, "vfio-user %s: DMA_LOGGING_REPORT refused: %s", s->path, why);
		return rc;
	}
	out = (uint32_t)size;
	memcpy(m->payload, &out, 4);	/* argsz: what the reply holds */
	reply_payload(m, r, (uint32_t)size);
	return 0;
}

static int do_device_feature(struct vfio_server *s, struct vfio_user_msg *m,
			     struct reply *r)
{
	uint32_t argsz, flags, feat;
	bool get, set, can_get, can_set;

	memcpy(&argsz, m->payload, 4);
	memcpy(&flags, m->payload + 4, 4);
	feat = flags & 0xffffu;
	get = flags & FEATURE_GET;
	set = flags & FEATURE_SET;
	can_set = feat == FEATURE_DMA_LOGGING_START || feat == FEATURE_DMA_LOGGING_STOP ||
		  feat == VFIO_MIG_FEATURE_STATE;
	can_get = feat == FEATURE_DMA_LOGGING_REPORT || feat == VFIO_MIG_FEATURE_MIGRATION ||
		  feat == VFIO_MIG_FEATURE_STATE;
	if (flags & ~(0xffffu | FEATURE_GET | FEATURE_SET | FEATURE_PROBE))
		return -EINVAL;
	if (!can_get && !can_set) {
		log_debug("vfio-user %s: DEVICE_FEATURE %u (flags 0x%x) is not served", s->path,
			  feat, flags >> 16);
		return -ENOTSUP;
	}
	if (flags & FEATURE_PROBE) {
		if ((get && !can_get) || (set && !can_set))
			return -ENOTSUP;
		reply_payload(m, r, m->len);
		return 0;
	}
	if (get == set)		/* exactly one of them */
		return -EINVAL;
	if ((get && !can_get) || (set && !can_set))
		return -ENOTSUP;
	switch (feat) {
	case VFIO_MIG_FEATURE_MIGRATION:
	case VFIO_MIG_FEATURE_STATE:
		return vfs_mig_feature(s, m, r, feat, get);
	case FEATURE_DMA_LOGGING_START:
		return logging_start(s, m, r);
	case FEATURE_DMA_LOGGING_STOP:
		if (!s->gm->log)
			return -EINVAL;
		gmem_log_stop(s->gm);
		log_info("vfio-user %s: dirty-page log stopped", s->path);
		reply_payload(m, r, m->len);
		return 0;
	default:
		return logging_report(s, m, r, argsz);
	}
}

static cmd_fn handler_for(uint16_t command)
{
	switch (command) {
	case VFIO_USER_DMA_MAP: return do_dma_map;
	case VFIO_USER_DMA_UNMAP: return do_dma_unmap;
	case VFIO_USER_DEVICE_GET_INFO: return do_get_info;
	case VFIO_USER_DEVICE_GET_REGION_INFO: return do_region_info;
	case VFIO_USER_DEVICE_GET_REGION_IO_FDS: return do_region_io_fds;
	case VFIO_USER_DEVICE_GET_IRQ_INFO: return do_irq_info;
	case VFIO_USER_DEVICE_SET_IRQS: return do_set_irqs;
	case VFIO_USER_REGION_READ: return do_region_read;
	case VFIO_USER_REGION_WRITE: return do_region_write;
	case VFIO_USER_DEVICE_RESET: return do_reset;
	case VFIO_USER_DEVICE_FEATURE: return do_device_feature;
	case VFIO_USER_MIG_DATA_READ: return vfs_mig_data_read;
	case VFIO_USER_MIG_DATA_WRITE: return vfs_mig_data_write;
	default: return NULL;
	}
}

/* Sends r, or the error; nothing at all for NO_REPLY ("A server sends no
 * reply to a NO_REPLY command, even when that command fails"). */
static int finish(struct vfio_server *s, const struct vfio_user_msg *m,
		  const struct reply *r, int err)
{
	int rc;

	if (m->hdr.flags & VFIO_USER_F_NO_REPLY)
		return 0;
	if (err)
		rc = vfio_user_reply_error(s->client_fd, &m->hdr, err, SERVER_SEND_MS);
	else
		rc = vfio_user_reply(s->client_fd, &m->hdr, r->iov, r->iovcnt,
				     r->fds, r->nfds, SERVER_SEND_MS);
	if (rc < 0)
		log_rl(LOG_WARN, "vfio-user %s: cannot send the %s reply: %s", s->path,
		       vfio_user_command_name(m->hdr.command), strerror(-rc));
	return rc;
}

int vfs_handle_message(struct vfio_server *s, struct vfio_user_msg *m)
{
	const char *cmd = vfio_user_command_name(m->hdr.command);
	struct reply r = { .iovcnt = 0 };
	const char *why;
	cmd_fn fn;
	int rc;

	rc = vfio_user_check_request(m, VFIO_USER_MAX_XFER, &why);
	if (rc < 0) {
		log_rl(LOG_WARN, "vfio-user %s: bad %s (command %u, msg %u): %s",
		       s->path, cmd, m->hdr.command, m->hdr.msg_id, why);
		if ((m->hdr.flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_COMMAND)
			return 0;	/* we never asked: nothing to answer */
		if (rc == -ENOSYS)
			rc = -EINVAL;
		rc = finish(s, m, &r, rc);
		return s->negotiated ? rc : -EPROTO;
	}
	if (m->hdr.command == VFIO_USER_VERSION) {
		if (s->negotiated) {
			log_rl(LOG_WARN, "vfio-user %s: second VERSION refused", s->path);
			return finish(s, m, &r, EINVAL);
		}
		return do_version(s, m);
	}
	if (!s->negotiated) {
		log_rl(LOG_WARN, "vfio-user %s: %s before VERSION; closing", s->path, cmd);
		finish(s, m, &r, EINVAL);
		return -EPROTO;
	}
	fn = handler_for(m->hdr.command);
	if (!fn)	/* check_request knows every command we handle */
		return finish(s, m, &r, EINVAL);
	rc = fn(s, m, &r);
	if (rc < 0 && (m->hdr.flags & VFIO_USER_F_NO_REPLY))
		/* No reply will tell the client, so say it here. */
		log_rl(LOG_WARN, "vfio-user %s: %s (no reply wanted) failed: %s",
		       s->path, cmd, strerror(-rc));
	else if (rc < 0)
		log_debug("vfio-user %s: %s failed: %s", s->path, cmd, strerror(-rc));
	return finish(s, m, &r, rc);
}
