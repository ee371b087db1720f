// SPDX-License-Identifier: MIT
/*
 * check.c - what a vfio-user request or reply must look like before any of
 * its fields is used.  The server calls vfio_user_check_request on every
 * command, so its handlers may copy the fixed structs without further
 * length checks; the client checks replies with the parsers below.
 *
 * Section names refer to QEMU docs/interop/vfio-user.rst.
 */
#include "common/vfio_user/codec.h"

#include <errno.h>
#include <string.h>

static int bad(const char **why, const char *what)
{
	*why = what;
	return -EINVAL;
}

static int unsupported(const char **why, const char *what)
{
	*why = what;
	return -ENOTSUP;
}

/* A fixed-size request with no fds. */
static int check_fixed(const struct vfio_user_msg *m, uint32_t size,
		       const char **why)
{
	if (m->len != size)
		return bad(why, "payload size does not match the command's layout");
	if (m->nfds)
		return bad(why, "command carries no file descriptors");
	return 0;
}

/* "Message sizes": a request's argsz is the largest reply it accepts, so
 * it must leave room for at least the fixed reply. */
static int check_argsz(uint32_t argsz, uint32_t fixed_reply, const char **why)
{
	if (argsz < fixed_reply)
		return bad(why, "argsz smaller than the fixed reply");
	return 0;
}

static bool range_wraps(uint64_t start, uint64_t size)
{
	return start + size < start;
}

static int check_version(const struct vfio_user_msg *m, const char **why)
{
	struct vfio_user_version v;
	struct vfio_user_caps caps;

	if (m->nfds)
		return bad(why, "VERSION carries no file descriptors");
	vfio_user_caps_default(&caps);
	return vfio_user_parse_version(m->payload, m->len, &v, &caps, why);
}

/* "VFIO_USER_DMA_MAP" */
static int check_dma_map(const struct vfio_user_msg *m, const char **why)
{
	const uint32_t known = VFIO_USER_DMA_MAP_F_READ |
			       VFIO_USER_DMA_MAP_F_WRITE |
			       VFIO_USER_DMA_MAP_F_MMAP;
	struct vfio_user_dma_map r;

	if (m->len != sizeof(r))
		return bad(why, "payload size does not match the command's layout");
	memcpy(&r, m->payload, sizeof(r));
	if (r.argsz != sizeof(r))
		return bad(why, "argsz is not the size of the DMA_MAP struct");
	if (m->nfds > 1)
		return bad(why, "more than one file descriptor");
	if (r.flags & VFIO_USER_DMA_MAP_F_FILE_IO)
		return unsupported(why, "FILE_IO windows are not supported");
	if (r.flags & ~known)
		return bad(why, "unknown flags");
	if (!(r.flags & (VFIO_USER_DMA_MAP_F_READ | VFIO_USER_DMA_MAP_F_WRITE)))
		return bad(why, "window neither readable nor writable");
	if ((r.flags & VFIO_USER_DMA_MAP_F_MMAP) && m->nfds == 0)
		return bad(why, "MMAP flag without a file descriptor");
	if (r.size == 0)
		return bad(why, "size 0");
	if (range_wraps(r.address, r.size) || range_wraps(r.offset, r.size))
		return bad(why, "address or offset range wraps around");
	return 0;
}

/* "VFIO_USER_DMA_UNMAP" */
static int check_dma_unmap(const struct vfio_user_msg *m, const char **why)
{
	struct vfio_user_dma_unmap r;
	int rc = check_fixed(m, sizeof(r), why);

	if (rc)
		return rc;
	memcpy(&r, m->payload, sizeof(r));
	rc = check_argsz(r.argsz, sizeof(r), why);
	if (rc)
		return rc;
	if (r.flags & VFIO_USER_DMA_UNMAP_F_GET_DIRTY_BITMAP)
		return unsupported(why, "dirty page tracking is not supported");
	if (r.flags & ~VFIO_USER_DMA_UNMAP_F_ALL)
		return bad(why, "unknown flags");
	if (r.flags & VFIO_USER_DMA_UNMAP_F_ALL) {
		if (r.address || r.size)
			return bad(why, "unmap-all with an address or size");
		return 0;
	}
	if (r.size == 0)
		return bad(why, "size 0");
	if (range_wraps(r.address, r.size))
		return bad(why, "address range wraps around");
	return 0;
}

/* GET_INFO, GET_IRQ_INFO and GET_REGION_IO_FDS share a 16-byte request:
 * argsz, then fields that must be zero except `index` (offset 8) where
 * the command has one. */
static int check_info16(const struct vfio_user_msg *m, bool has_index,
			const char **why)
{
	uint32_t f[4];
	int rc = check_fixed(m, sizeof(f), why);

	if (rc)
		return rc;
	memcpy(f, m->payload, sizeof(f));
	rc = check_argsz(f[0], sizeof(f), why);
	if (rc)
		return rc;
	if (f[1] || (!has_index && f[2]) || f[3])
		return bad(why, "reserved request fields are not zero");
	return 0;
}

/* "VFIO_USER_DEVICE_GET_REGION_INFO" */
static int check_region_info(const struct vfio_user_msg *m, const char **why)
{
	struct vfio_user_region_info r;
	int rc = check_fixed(m, sizeof(r), why);

	if (rc)
		return rc;
	memcpy(&r, m->payload, sizeof(r));
	rc = check_argsz(r.argsz, sizeof(r), why);
	if (rc)
		return rc;
	if (r.flags || r.cap_offset || r.size || r.offset)
		return bad(why, "reserved request fields are not zero");
	return 0;
}

/* "VFIO_USER_DEVICE_SET_IRQS" */
static int check_set_irqs(const struct vfio_user_msg *m, const char **why)
{
	struct vfio_user_irq_set r;
	uint32_t data, action;

	if (m->len < sizeof(r))
		return bad(why, "payload shorter than the SET_IRQS struct");
	memcpy(&r, m->payload, sizeof(r));
	if (r.argsz != m->len)
		return bad(why, "argsz is not the request's size");
	data = r.flags & VFIO_USER_IRQ_SET_DATA_MASK;
	action = r.flags & VFIO_USER_IRQ_SET_ACTION_MASK_ALL;
	if (r.flags & ~(VFIO_USER_IRQ_SET_DATA_MASK |
			VFIO_USER_IRQ_SET_ACTION_MASK_ALL))
		return bad(why, "unknown flags");
	/* "The flags are mutually exclusive for both sets." */
	if (data == 0 || (data & (data - 1)))
		return bad(why, "not exactly one DATA flag");
	if (action == 0 || (action & (action - 1)))
		return bad(why, "not exactly one ACTION flag");
	if ((uint32_t)(r.start + r.count) < r.start)
		return bad(why, "start + count wraps around");
	if (data == VFIO_USER_IRQ_SET_DATA_BOOL) {
		if (m->len - sizeof(r) != r.count)
			return bad(why, "DATA_BOOL needs one byte per vector");
	} else if (m->len != sizeof(r)) {
		return bad(why, "data bytes without DATA_BOOL");
	}
	if (data == VFIO_USER_IRQ_SET_DATA_EVENTFD) {
		if (action != VFIO_USER_IRQ_SET_ACTION_TRIGGER)
			return unsupported(why, "mask/unmask eventfds are not supported");
		if (m->nfds != 0 && m->nfds != r.count)
			return bad(why, "number of eventfds is neither 0 nor count");
	} else if (m->nfds) {
		return bad(why, "file descriptors without DATA_EVENTFD");
	}
	return 0;
}

/* "Read and Write Operations" */
static int check_region_access(const struct vfio_user_msg *m, bool write,
			       uint32_t max_xfer, const char **why)
{
	struct vfio_user_region_access r;

	if (m->len < sizeof(r))
		return bad(why, "payload shorter than the access struct");
	if (m->nfds)
		return bad(why, "command carries no file descriptors");
	memcpy(&r, m->payload, sizeof(r));
	if (r.count == 0)
		return bad(why, "count 0");
	if (r.count > max_xfer)
		return bad(why, "count exceeds max_data_xfer_size");
	if (m->len - sizeof(r) != (write ? r.count : 0))
		return bad(why, write ? "data length does not match count"
				      : "read request carries data");
	if (range_wraps(r.offset, r.count))
		return bad(why, "offset + count wraps around");
	return 0;
}

/* DEVICE_FEATURE: { u32 argsz; u32 flags; u8 data[] } (the layout of
 * Linux's struct vfio_device_feature): the feature index is flags' low 16
 * bits, GET/SET/PROBE the bits above it. */
static int check_device_feature(const struct vfio_user_msg *m, const char **why)
{
	uint32_t f[2];

	if (m->len < sizeof(f))
		return bad(why, "payload shorter than argsz and flags");
	if (m->nfds)
		return bad(why, "command carries no file descriptors");
	memcpy(f, m->payload, sizeof(f));
	return check_argsz(f[0], sizeof(f), why);
}

/* MIG_DATA_READ: { u32 argsz; u32 size } asking for size bytes (at most
 * max_xfer); MIG_DATA_WRITE: the same head, then exactly size bytes. */
static int check_mig_data(const struct vfio_user_msg *m, bool write, uint32_t max_xfer,
			  const char **why)
{
	uint32_t h[2];

	if (m->len < sizeof(h))
		return bad(why, "payload shorter than argsz and size");
	if (m->nfds)
		return bad(why, "command carries no file descriptors");
	memcpy(h, m->payload, sizeof(h));
	if (h[1] > max_xfer)
		return bad(why, "size above max_data_xfer_size");
	if (write ? m->len != sizeof(h) + (uint64_t)h[1] : m->len != sizeof(h))
		return bad(why, write ? "payload length is not 8 + size" : "read request carries data");
	return check_argsz(h[0], sizeof(h), why);
}

int vfio_user_check_request(const struct vfio_user_msg *m, uint32_t max_xfer,
			    const char **why)
{
	const struct vfio_user_header *h = &m->hdr;

	*why = NULL;
	if ((h->flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_COMMAND)
		return bad(why, "not a command");
	if (h->flags & ~(VFIO_USER_F_TYPE_MASK | VFIO_USER_F_NO_REPLY))
		return bad(why, "unknown header flags");
	/* "It is reserved in a command message." */
	if (h->error)
		return bad(why, "error field set in a command");
	if (m->dropped_fds)
		return bad(why, "more file descriptors than max_msg_fds");
	switch (h->command) {
	case VFIO_USER_VERSION:
		return check_version(m, why);
	case VFIO_USER_DMA_MAP:
		return check_dma_map(m, why);
	case VFIO_USER_DMA_UNMAP:
		return check_dma_unmap(m, why);
	case VFIO_USER_DEVICE_GET_INFO:
		return check_info16(m, false, why);
	case VFIO_USER_DEVICE_GET_REGION_INFO:
		return check_region_info(m, why);
	case VFIO_USER_DEVICE_GET_REGION_IO_FDS:
	case VFIO_USER_DEVICE_GET_IRQ_INFO:
		return check_info16(m, true, why);
	case VFIO_USER_DEVICE_SET_IRQS:
		return check_set_irqs(m, why);
	case VFIO_USER_REGION_READ:
		return check_region_access(m, false, max_xfer, why);
	case VFIO_USER_REGION_WRITE:
		return check_region_access(m, true, max_xfer, why);
	case VFIO_USER_DEVICE_RESET:
		return check_fixed(m, 0, why);
	case VFIO_USER_DEVICE_FEATURE:
		return check_device_feature(m, why);
	case VFIO_USER_MIG_DATA_READ:
		return check_mig_data(m, false, max_xfer, why);
	case VFIO_USER_MIG_DATA_WRITE:
		return check_mig_data(m, true, max_xfer, why);
	default:
		*why = "unsupported command";
		return -ENOSYS;
	}
}

int vfio_user_parse_version(const void *payload, uint32_t len,
			    struct vfio_user_version *v,
			    struct vfio_user_caps *caps, const char **why)
{
	const char *json;
	const void *nul;
	uint32_t jlen;

	*why = NULL;
	if (len < sizeof(*v))
		return bad(why, "VERSION payload shorter than major and minor");
	memcpy(v, payload, sizeof(*v));
	if (len == sizeof(*v))
		return 0;	/* no capabilities: the defaults hold */
	json = (const char *)payload + sizeof(*v);
	jlen = len - (uint32_t)sizeof(*v);
	nul = memchr(json, '\0', jlen);
	if (!nul)
		return bad(why, "capabilities text is not NUL-terminated");
	if ((const char *)nul != json + jlen - 1)
		return bad(why, "bytes after the capabilities' NUL");
	return vfio_user_caps_parse(json, jlen - 1, caps, why);
}

int vfio_user_check_reply_hdr(const struct vfio_user_header *h, uint16_t msg_id,
			      uint16_t command, const char **why)
{
	*why = NULL;
	if ((h->flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_REPLY) {
		*why = "expected a reply";
		return -EPROTO;
	}
	if (h->msg_id != msg_id || h->command != command) {
		*why = "reply does not match the outstanding command";
		return -EPROTO;
	}
	if (h->flags & VFIO_USER_F_ERROR) {
		*why = "server reported an error";
		return -vfio_user_reply_errno(h);
	}
	return 0;
}

/* Entries per reply we are willing to walk, and the largest entry layout
 * we accept (the spec's is 40 bytes, libvfio-user's 48). */
#define IO_FDS_MAX_COUNT  4096u
#define IO_FDS_MAX_STRIDE 256u

int vfio_user_parse_io_fds_reply(const void *payload, uint32_t len,
				 struct vfio_user_region_io_fds *fixed,
				 uint32_t *stride, const char **why)
{
	uint32_t s;

	*why = NULL;
	*stride = 0;
	if (len < sizeof(*fixed))
		return bad(why, "IO_FDS reply shorter than its fixed part");
	memcpy(fixed, payload, sizeof(*fixed));
	if (fixed->count == 0)
		return 0;
	if (fixed->count > IO_FDS_MAX_COUNT)
		return bad(why, "IO_FDS reply has too many entries");
	if (fixed->argsz < sizeof(*fixed))
		return bad(why, "IO_FDS reply argsz smaller than its fixed part");
	/* "each array entry i is at offset i * ((argsz - 16) / count)" (the
	 * spec text says 32, a typo: the fixed part is 16 bytes). */
	s = (fixed->argsz - (uint32_t)sizeof(*fixed)) / fixed->count;
	if ((fixed->argsz - sizeof(*fixed)) % fixed->count)
		return bad(why, "IO_FDS reply argsz is not a whole number of entries");
	if (s < sizeof(struct vfio_user_ioeventfd) || s > IO_FDS_MAX_STRIDE || s % 8)
		return bad(why, "IO_FDS reply entry size is implausible");
	if (len == sizeof(*fixed))
		return 0;	/* our argsz was too small: only the need */
	if (len != fixed->argsz)
		return bad(why, "IO_FDS reply length does not match its argsz");
	*stride = s;
	return (int)fixed->count;
}

void vfio_user_io_fd_entry(const void *payload, uint32_t stride, uint32_t i,
			   struct vfio_user_ioeventfd *e)
{
	const uint8_t *p = (const uint8_t *)payload +
			   sizeof(struct vfio_user_region_io_fds) +
			   (size_t)i * stride;

	memcpy(e, p, offsetof(struct vfio_user_ioeventfd, datamatch));
	memcpy(&e->datamatch, p + stride - sizeof(e->datamatch),
	       sizeof(e->datamatch));
}
