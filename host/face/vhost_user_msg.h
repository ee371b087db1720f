/* SPDX-License-Identifier: MIT */
/*
 * vhost_user_msg.h - the vhost-user wire format (QEMU
 * docs/interop/vhost-user.rst, "Message Specification") and its codec.
 *
 * Every message is a 12-byte header (request, flags, size) and size bytes
 * of payload, with file descriptors as SCM_RIGHTS ancillary data.  The
 * frontend is not trusted: vhu_msg_recv() refuses a bad version, an
 * oversized payload or too many fds; vhu_msg_check() refuses a payload
 * whose size or fd count does not match the request, so the handlers only
 * ever see well-formed messages (indices and addresses are still theirs
 * to check).
 */
#ifndef VNET_HOST_VHOST_USER_MSG_H
#define VNET_HOST_VHOST_USER_MSG_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* Front-end requests. */
enum vhu_request {
	VHU_GET_FEATURES = 1,
	VHU_SET_FEATURES = 2,
	VHU_SET_OWNER = 3,
	VHU_RESET_OWNER = 4,
	VHU_SET_MEM_TABLE = 5,
	VHU_SET_LOG_BASE = 6,
	VHU_SET_LOG_FD = 7,
	VHU_SET_VRING_NUM = 8,
	VHU_SET_VRING_ADDR = 9,
	VHU_SET_VRING_BASE = 10,
	VHU_GET_VRING_BASE = 11,
	VHU_SET_VRING_KICK = 12,
	VHU_SET_VRING_CALL = 13,
	VHU_SET_VRING_ERR = 14,
	VHU_GET_PROTOCOL_FEATURES = 15,
	VHU_SET_PROTOCOL_FEATURES = 16,
	VHU_GET_QUEUE_NUM = 17,
	VHU_SET_VRING_ENABLE = 18,
	VHU_SEND_RARP = 19,
	VHU_NET_SET_MTU = 20,
	VHU_SET_BACKEND_REQ_FD = 21,
	VHU_IOTLB_MSG = 22,
	VHU_SET_VRING_ENDIAN = 23,
	VHU_GET_CONFIG = 24,
	VHU_SET_CONFIG = 25,
	VHU_GET_INFLIGHT_FD = 31,
	VHU_SET_INFLIGHT_FD = 32,
	VHU_RESET_DEVICE = 34,
	VHU_GET_MAX_MEM_SLOTS = 36,
	VHU_SET_STATUS = 39,
	VHU_GET_STATUS = 40,
	VHU_REQUEST_MAX = 64,
};

/* Header flags. */
#define VHU_VERSION	   0x1u
#define VHU_VERSION_MASK   0x3u
#define VHU_FLAG_REPLY	   (1u << 2)
#define VHU_FLAG_NEED_REPLY (1u << 3)

/* Virtio feature bit the protocol borrows (vhost-user.rst "Feature bits"). */
#define VHU_F_PROTOCOL_FEATURES 30

/* Protocol feature bits. */
#define VHU_PROTOCOL_F_MQ	     0
#define VHU_PROTOCOL_F_LOG_SHMFD     1
#define VHU_PROTOCOL_F_RARP	     2
#define VHU_PROTOCOL_F_REPLY_ACK     3
#define VHU_PROTOCOL_F_NET_MTU	     4
#define VHU_PROTOCOL_F_BACKEND_REQ   5
#define VHU_PROTOCOL_F_CONFIG	     9
#define VHU_PROTOCOL_F_INFLIGHT_SHMFD 12
#define VHU_PROTOCOL_F_RESET_DEVICE  13
#define VHU_PROTOCOL_F_STATUS	     16

#define VHU_MAX_REGIONS	 8	/* VHOST_MEMORY_BASELINE_NREGIONS */
#define VHU_MAX_FDS	 8
#define VHU_CONFIG_MAX	 256
/* The u64 of SET_VRING_KICK/CALL/ERR: bits 0-7 the index, bit 8 "no fd". */
#define VHU_VRING_IDX_MASK 0xffu
#define VHU_VRING_NOFD	   (1u << 8)
#define VHU_VRING_F_LOG	   0x1u	/* vring address flag: log the used ring */

struct vhu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));

struct vhu_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vhu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;		/* frontend user addresses */
	uint64_t used;
	uint64_t avail;
	uint64_t log;		/* guest physical */
};

struct vhu_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
	uint64_t mmap_offset;
};

struct vhu_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vhu_region regions[VHU_MAX_REGIONS];
};

struct vhu_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t data[VHU_CONFIG_MAX];
};

/* vhost-user.rst "Inflight description" (QEMU's VhostUserInflight; 24
 * bytes with its tail padding, as QEMU and DPDK send it). */
struct vhu_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
};

static_assert(sizeof(struct vhu_inflight) == 24, "VhostUserInflight is 24 bytes");

union vhu_payload {
	uint64_t u64;
	struct vhu_vring_state state;
	struct vhu_vring_addr addr;
	struct vhu_memory mem;
	struct vhu_config config;
	struct vhu_inflight inflight;
	uint8_t raw[4096];
};

struct vhu_msg {
	struct vhu_hdr hdr;
	union vhu_payload p;
	int fds[VHU_MAX_FDS];
	unsigned nfds;
};

#define VHU_HDR_SIZE sizeof(struct vhu_hdr)

/* A frontend sends a message whole and reads each reply: once a message
 * has started, the rest must arrive within VHU_REST_MS; a reply must find
 * room within VHU_SEND_MS.  A frontend that stalls longer is dropped, so
 * one client blocks the event loop for at most that long. */
#define VHU_REST_MS 1000
#define VHU_SEND_MS 1000

/* Reads one message from a non-blocking socket that polled readable.
 * 1: *m filled (the caller owns m->fds; vhu_msg_close_fds); 0: the peer
 * closed; -EAGAIN: nothing to read after all (not an error);
 * -ETIMEDOUT: the frontend stalled mid-message; other -errno: a read
 * error or a malformed header (version, size > payload, more fds than
 * VHU_MAX_FDS, truncation).  No fd is left open unless 1.  why gets a
 * reason for the log. */
int vhu_msg_recv(int sock, struct vhu_msg *m, char *why, size_t why_len);
/* Checks the payload size and fd count against the request.  0, or
 * -EINVAL with why filled.  Unknown requests are -ENOTSUP. */
int vhu_msg_check(const struct vhu_msg *m, char *why, size_t why_len);
/* Sends a reply to m (flags VERSION|REPLY, m's request) with len payload
 * bytes from payload.  0, -ETIMEDOUT when the frontend left no room for
 * it within VHU_SEND_MS, or -errno. */
int vhu_msg_reply(int sock, const struct vhu_msg *m, const void *payload,
		  uint32_t len);
/* vhu_msg_reply with fd (>= 0) passed along as SCM_RIGHTS (GET_INFLIGHT_FD). */
int vhu_msg_reply_fd(int sock, const struct vhu_msg *m, const void *payload,
		     uint32_t len, int fd);
void vhu_msg_close_fds(struct vhu_msg *m);
/* Name of a request, for logs ("?" for unknown). */
const char *vhu_request_name(uint32_t req);

#endif /* VNET_HOST_VHOST_USER_MSG_H */
