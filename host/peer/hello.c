// SPDX-License-Identifier: MIT
/*
 * hello.c - building, sending, receiving and checking the peer link's
 * messages (hello.h).
 */
#include "host/peer/hello.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/peer_ring.h"
#include "common/virtio.h"

static int __attribute__((format(printf, 3, 4)))
refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (why && whylen)
		vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EPROTO;
}

static void hdr_build(struct peer_msg_hdr *h, enum peer_msg_type type,
		      size_t size)
{
	h->magic = PEER_MSG_MAGIC;
	h->version = PEER_PROTO_VERSION;
	h->type = (uint16_t)type;
	h->size = (uint32_t)size;
	h->reserved = 0;
}

void peer_hello_build(struct peer_hello *h, const char *system,
		      const char *name, const char *node, const uint8_t mac[6],
		      bool features_known, uint64_t features, unsigned ring_pairs,
		      uint32_t desc_count, uint32_t data_size)
{
	memset(h, 0, sizeof(*h));
	hdr_build(&h->hdr, PEER_MSG_HELLO, sizeof(*h));
	h->flags = features_known ? PEER_F_FEATURES_KNOWN : 0;
	h->ring_pairs = (uint16_t)ring_pairs;
	h->desc_count = desc_count;
	h->data_size = data_size;
	memcpy(h->mac, mac, sizeof(h->mac));
	h->features = features_known ? features & VNET_PEERFEATS_MAX : 0;
	snprintf(h->system, sizeof(h->system), "%s", system);
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(h->node, sizeof(h->node), "%s", node);
}

void peer_features_build(struct peer_features_msg *m, bool known,
			 uint64_t features)
{
	memset(m, 0, sizeof(*m));
	hdr_build(&m->hdr, PEER_MSG_FEATURES, sizeof(*m));
	m->flags = known ? PEER_F_FEATURES_KNOWN : 0;
	m->features = known ? features & VNET_PEERFEATS_MAX : 0;
}

void peer_bye_build(struct peer_bye *m, const char *reason)
{
	memset(m, 0, sizeof(*m));
	hdr_build(&m->hdr, PEER_MSG_BYE, sizeof(*m));
	snprintf(m->reason, sizeof(m->reason), "%s", reason);
}

void peer_moving_build(struct peer_moving *m, uint32_t hold_ms)
{
	memset(m, 0, sizeof(*m));
	hdr_build(&m->hdr, PEER_MSG_MOVING, sizeof(*m));
	m->hold_ms = hold_ms;
}

void peer_rss_build(struct peer_rss_msg *m, const struct rss_cfg *c)
{
	memset(m, 0, sizeof(*m));
	hdr_build(&m->hdr, PEER_MSG_RSS, sizeof(*m));
	if (!c->on)
		return;
	m->flags = PEER_RSS_ON;
	m->hash_types = c->hash_types;
	m->table_len = c->table_len;
	m->unclassified = c->unclassified;
	m->key_len = c->key_len;
	memcpy(m->key, c->key, c->key_len);
	memcpy(m->table, c->table, (size_t)c->table_len * sizeof(m->table[0]));
}

void peer_ready_build(struct peer_ready *m)
{
	hdr_build(&m->hdr, PEER_MSG_READY, sizeof(*m));
}

int peer_msg_send(int sock, const void *msg, size_t len, const int *fds,
		  int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * PEER_MSG_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds < 0 || nfds > PEER_MSG_MAX_FDS)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	n = sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

static void close_fds(int *fds, int *nfds)
{
	for (int i = 0; i < *nfds; i++)
		close(fds[i]);
	*nfds = 0;
}

/* Collects every SCM_RIGHTS fd of a received message.  Anything else in
 * the control data is a protocol error (after the fds are closed). */
static int collect_fds(struct msghdr *mh, int fds[PEER_MSG_MAX_FDS], int *nfds,
		       char *why, size_t whylen)
{
	bool bad = false;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n;
		int got[PEER_MSG_MAX_FDS];

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0)) {
			bad = true;
			continue;
		}
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (n > PEER_MSG_MAX_FDS)
			n = PEER_MSG_MAX_FDS;	/* cannot be: the buffer holds no more */
		memcpy(got, CMSG_DATA(cm), n * sizeof(int));
		for (size_t i = 0; i < n; i++) {
			if (*nfds < PEER_MSG_MAX_FDS)
				fds[(*nfds)++] = got[i];
			else
				close(got[i]);
		}
	}
	if (bad || (mh->msg_flags & MSG_CTRUNC)) {
		close_fds(fds, nfds);
		return bad ? refuse(why, whylen, "unexpected control message")
			   : refuse(why, whylen, "too many fds (more than %d)", PEER_MSG_MAX_FDS);
	}
	return 0;
}

static size_t msg_size(uint16_t type)
{
	switch (type) {
	case PEER_MSG_HELLO:
		return sizeof(struct peer_hello);
	case PEER_MSG_FEATURES:
		return sizeof(struct peer_features_msg);
	case PEER_MSG_BYE:
		return sizeof(struct peer_bye);
	case PEER_MSG_READY:
		return sizeof(struct peer_ready);
	case PEER_MSG_RSS:
		return sizeof(struct peer_rss_msg);
	case PEER_MSG_MOVING:
		return sizeof(struct peer_moving);
	default:
		return 0;
	}
}

int peer_msg_recv(int sock, union peer_msg *m, int fds[PEER_MSG_MAX_FDS],
		  int *nfds, char *why, size_t whylen)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * PEER_MSG_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct peer_msg_hdr h;
	ssize_t n;
	int ret;

	*nfds = 0;
	memset(m, 0, sizeof(*m));
	n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	ret = collect_fds(&mh, fds, nfds, why, whylen);
	if (ret)
		return ret;
	/* SEQPACKET: 0 bytes is the end of the connection. */
	if (n == 0) {
		close_fds(fds, nfds);
		return 0;
	}

	/* The message is in our memory now: check the copy, once. */
	h = m->hdr;
	if ((size_t)n < sizeof(h))
		ret = refuse(why, whylen, "message too short (%zd bytes)", n);
	else if (h.magic != PEER_MSG_MAGIC)
		ret = refuse(why, whylen, "bad magic 0x%08x (expected 0x%08x)",
			     h.magic, PEER_MSG_MAGIC);
	else if (h.version != PEER_PROTO_VERSION)
		ret = refuse(why, whylen, "unsupported version %u (expected %u)",
			     h.version, PEER_PROTO_VERSION);
	else if (!msg_size(h.type))
		ret = refuse(why, whylen, "unknown message type %u", h.type);
	else if (h.size != msg_size(h.type))
		ret = refuse(why, whylen, "size field %u, expected %zu for type %u",
			     h.size, msg_size(h.type), h.type);
	else if ((mh.msg_flags & MSG_TRUNC) || (size_t)n != h.size)
		ret = refuse(why, whylen, "message length %zd%s does not match its size field %u",
			     n, (mh.msg_flags & MSG_TRUNC) ? "+ (truncated)" : "",
			     h.size);
	else if (h.reserved)
		ret = refuse(why, whylen, "reserved header field is 0x%x", h.reserved);
	if (ret) {
		close_fds(fds, nfds);
		return ret;
	}
	return h.type;
}

bool peer_name_valid(const char *s)
{
	size_t n = strnlen(s, PEER_NAME_MAX);

	if (n == 0 || n >= PEER_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* A fixed-size string field: NUL-terminated inside the field, and zero
 * after the NUL (so two hellos naming the same thing are the same bytes). */
static bool field_terminated(const char *f, size_t size)
{
	size_t n = strnlen(f, size);

	return n < size && all_zero(f + n, size - n);
}

static bool path_printable(const char *s)
{
	if (s[0] != '/')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

int peer_hello_check(const struct peer_hello *h, char *why, size_t whylen)
{
	char geom_why[128];

	if (h->hdr.type != PEER_MSG_HELLO)
		return refuse(why, whylen, "expected a hello, got message type %u",
			      h->hdr.type);
	if (!field_terminated(h->system, sizeof(h->system)) ||
	    !peer_name_valid(h->system))
		return refuse(why, whylen, "hello: invalid system name");
	if (!field_terminated(h->name, sizeof(h->name)) ||
	    !peer_name_valid(h->name))
		return refuse(why, whylen, "hello: invalid vdev name");
	if (!field_terminated(h->node, sizeof(h->node)) ||
	    !path_printable(h->node))
		return refuse(why, whylen, "hello: invalid node path");
	if (h->flags & ~PEER_F_ALL)
		return refuse(why, whylen, "hello: unknown flags 0x%x", h->flags);
	if (h->features & ~VNET_PEERFEATS_MAX)
		return refuse(why, whylen, "hello: features 0x%llx outside 0x%llx",
			      (unsigned long long)h->features,
			      (unsigned long long)VNET_PEERFEATS_MAX);
	if (!(h->flags & PEER_F_FEATURES_KNOWN) && h->features)
		return refuse(why, whylen, "hello: features given but not marked known");
	if (h->mac[0] & 1)
		return refuse(why, whylen, "hello: multicast MAC");
	if (h->ring_pairs > PEER_MAX_RING_PAIRS)
		return refuse(why, whylen, "hello: %u ring pairs, at most %u", h->ring_pairs,
			      PEER_MAX_RING_PAIRS);
	if (!all_zero(h->reserved0, sizeof(h->reserved0)) ||
	    !all_zero(h->reserved1, sizeof(h->reserved1)))
		return refuse(why, whylen, "hello: reserved bytes not zero");
	if (peer_ring_geom_check(h->desc_count, h->data_size, geom_why,
				 sizeof(geom_why)))
		return refuse(why, whylen, "hello: ring geometry: %s", geom_why);
	return 0;
}

/* Is fd an eventfd?  The kernel names the anonymous inode behind it in
 * /proc/self/fd; fstat cannot tell one anonymous inode from another. */
static bool is_eventfd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") == 0;
}

static int check_ring_fd(int fd, uint64_t want, unsigned k, char *why, size_t whylen)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) < 0)
		return refuse(why, whylen, "ring %u fd: fstat: %s", k, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return refuse(why, whylen, "ring %u fd is not a regular file", k);
	if (st.st_size < 0 || (uint64_t)st.st_size != want)
		return refuse(why, whylen, "ring %u file is %lld bytes, the geometry needs %llu", k,
			      (long long)st.st_size, (unsigned long long)want);
	if (st.st_uid != geteuid())
		return refuse(why, whylen, "ring %u file owned by uid %u, not us", k,
			      (unsigned)st.st_uid);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) != O_RDWR)
		return refuse(why, whylen, "ring %u fd is not open read-write", k);
	return 0;
}

static int check_bell_fd(int fd, unsigned k, char *why, size_t whylen)
{
	int fl;

	if (!is_eventfd(fd))
		return refuse(why, whylen, "doorbell %u fd is not an eventfd", k);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
		return refuse(why, whylen, "doorbell %u fd is not writable", k);
	/* A peer that left its counter near the maximum must not be able to
	 * block our writes (the flag is shared with the peer's file, which
	 * only affects the peer's own blocking reads). */
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return refuse(why, whylen, "doorbell %u fd: cannot make it non-blocking", k);
	return 0;
}

int peer_hello_check_fds(const struct peer_hello *h, const int *fds, int nfds,
			 char *why, size_t whylen)
{
	uint64_t want = peer_ring_file_size(h->desc_count, h->data_size);
	unsigned n = peer_hello_ring_pairs(h);
	int rc;

	if (nfds != PEER_HELLO_NFDS((int)n))
		return refuse(why, whylen,
			      "hello carries %d fds, expected %u (%u rings, then %u doorbells)", nfds,
			      PEER_HELLO_NFDS(n), n, n);
	for (unsigned k = 0; k < n; k++) {
		rc = check_ring_fd(fds[PEER_HELLO_FD_RING(k)], want, k, why, whylen);
		if (rc == 0)
			rc = check_bell_fd(fds[PEER_HELLO_FD_BELL(n, k)], k, why, whylen);
		if (rc)
			return rc;
	}
	return 0;
}

int peer_features_check(const struct peer_features_msg *m, char *why,
			size_t whylen)
{
	if (m->flags & ~PEER_F_ALL)
		return refuse(why, whylen, "features update: unknown flags 0x%x",
			      m->flags);
	if (m->reserved)
		return refuse(why, whylen, "features update: reserved field not zero");
	if (m->features & ~VNET_PEERFEATS_MAX)
		return refuse(why, whylen, "features update: 0x%llx outside 0x%llx",
			      (unsigned long long)m->features,
			      (unsigned long long)VNET_PEERFEATS_MAX);
	if (!(m->flags & PEER_F_FEATURES_KNOWN) && m->features)
		return refuse(why, whylen, "features update: features given but not marked known");
	return 0;
}

int peer_moving_check(const struct peer_moving *m, char *why, size_t whylen)
{
	if (m->reserved)
		return refuse(why, whylen, "moving: reserved field not zero");
	if (m->hold_ms == 0 || m->hold_ms > PEER_MOVE_HOLD_MAX_MS)
		return refuse(why, whylen, "moving: hold of %u ms outside 1..%u", m->hold_ms,
			      PEER_MOVE_HOLD_MAX_MS);
	return 0;
}

void peer_bye_reason(const struct peer_bye *m, char *out, size_t outlen)
{
	size_t n = strnlen(m->reason, sizeof(m->reason));

	if (!outlen)
		return;
	if (n >= outlen)
		n = outlen - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)m->reason[i];

		out[i] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
	}
	out[n] = '\0';
}

int peer_rss_check(const struct peer_rss_msg *m, struct rss_cfg *out, char *why, size_t whylen)
{
	char err[128];

	memset(out, 0, sizeof(*out));
	if (m->flags & ~PEER_RSS_ON)
		return refuse(why, whylen, "rss: unknown flags 0x%x", m->flags);
	if (!all_zero(m->reserved, sizeof(m->reserved)))
		return refuse(why, whylen, "rss: reserved bytes not zero");
	if (!(m->flags & PEER_RSS_ON)) {
		/* Off: nothing else may be set. */
		if (m->hash_types || m->table_len || m->unclassified || m->key_len ||
		    !all_zero(m->key, sizeof(m->key)) || !all_zero(m->table, sizeof(m->table)))
			return refuse(why, whylen, "rss: off but fields set");
		return 0;
	}
	out->on = true;
	out->hash_types = m->hash_types;
	out->table_len = m->table_len;
	out->unclassified = m->unclassified;
	out->key_len = m->key_len;
	if (m->table_len <= RSS_TABLE_MAX)
		memcpy(out->table, m->table, (size_t)m->table_len * sizeof(out->table[0]));
	if (m->key_len <= RSS_KEY_MAX)
		memcpy(out->key, m->key, m->key_len);
	/* The one rule for a configuration; its queues are the peer's, one
	 * per ring pair at most. */
	if (rss_cfg_check(out, PEER_MAX_RING_PAIRS, err, sizeof(err))) {
		memset(out, 0, sizeof(*out));
		return refuse(why, whylen, "rss: %s", err);
	}
	return 0;
}
