// SPDX-License-Identifier: MIT
/*
 * test_vfio_codec.c - the vfio-user codec on socketpairs: framing, fds,
 * error replies, request checks, reply checks, the capabilities JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/vfio_user/codec.h"

struct pair {
	int a, b;
};

static int pair_setup(void **state)
{
	struct pair *p = malloc(sizeof(*p));
	int sv[2];

	if (!p || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free(p);
		return -1;
	}
	p->a = sv[0];
	p->b = sv[1];
	*state = p;
	return 0;
}

static int pair_teardown(void **state)
{
	struct pair *p = *state;

	if (p->a >= 0)
		close(p->a);
	if (p->b >= 0)
		close(p->b);
	free(p);
	return 0;
}

static void write_all(int fd, const void *buf, size_t len)
{
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
}

static void write_hdr(int fd, uint16_t id, uint16_t cmd, uint32_t size,
		      uint32_t flags)
{
	struct vfio_user_header h = {
		.msg_id = id, .command = cmd, .size = size, .flags = flags,
	};

	write_all(fd, &h, sizeof(h));
}

static unsigned count_open_fds(void)
{
	unsigned n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

/* ---- framing ------------------------------------------------------------ */

static void test_recv_nothing_is_eagain(void **state)
{
	struct pair *p = *state;
	struct vfio_user_msg m;
	uint8_t buf[64];

	assert_int_equal(vfio_user_recv(p->b, &m, buf, sizeof(buf), 0, 100), -EAGAIN);
	assert_int_equal(vfio_user_recv(p->b, &m, buf, sizeof(buf), 20, 100), -EAGAIN);
}

static void test_truncated_header_eof(void **state)
{
	struct pair *p = *state;
	struct vfio_user_msg m;
	uint8_t buf[64];
	uint8_t half[8] = { 1, 0, 4, 0, 16, 0, 0, 0 };

	write_all(p->a, half, sizeof(half));
	close(p->a);
	p->a = -1;
	assert_int_equal(vfio_user_recv(p->b, &m, buf, sizeof(buf), 0, 100),
			 -ECONNRESET);
}

static void test_truncated_header_stalls(void **state)
{
	struct pair *p = *state;
	struct vfio_user_msg m;
	uint8_t buf[64];
	uint8_t half[8] = { 1, 0, 4, 0, 16, 0, 0, 0 };

	write_all(p->a, half, sizeof(half));
	assert_int_equal(vfio_user_recv(p->b, &m, buf, sizeof(buf), 0, 50),
			 -ETIMEDOUT);
}

static void test_eof_is_connreset(void **state)
{
	struct pair *p = *state;
	struct vfio_user_msg m;
	uint8_t buf[64];

	close(p->a);
	p->a = -1;
	assert_int_equal(vfio_user_recv(p->b, &m, buf, sizeof(buf), 0, 100),
			 -ECONNRESET);
}

static void test_size_below_header(void **state)
{
	struct pair *p = *state;
	struct vfio_user_msg m;
	uint8_t buf[64];

	write_hdr(p->a, 1, VFIO_USER_DEVICE_GET_INFO, 8, 0);
	assert_int_equal(vfio_user_recv(p->b, &m, buf, sizeof(buf), 0, 100), -EPROTO);
}

static void test_size_above_max(void **state)
{
	struct pair *p = *state;
	struct vfio_user_msg m;
	uint8_t buf[64];

	write_hdr(p->a, 1, VFIO_USER_REGION_WRITE, 16 + 65, 0);
	assert_int_equal(vfio_user_recv(p->b, &m, buf, sizeof(buf), 0, 100), -EPROTO);
	write_hdr(p->a, 1, VFIO_USER_REGION_WRITE, 0xffffffffu, 0);
	assert_int_equal(vfio_user_recv_hdr(p->b, &m, VFIO_USER_MAX_MSG, 0, 100),
			 -EPROTO);
}

static void test_payload_short_then_eof(void **state)
{
	struct pair *p = *state;
	struct vfio_user_msg m;
	uint8_t buf[64], part[10] = { 0 };

	/* The header promises 16 payload bytes; 10 come, then nothing. */
	write_hdr(p->a, 1, VFIO_USER_DEVICE_GET_INFO, 32, 0);
	write_all(p->a, part, sizeof(part));
	assert_int_equal(vfio_user_recv(p->b, &m, buf, sizeof(buf), 0, 50), -ETIMEDOUT);
	/* ... then the sender goes away. */
	close(p->a);
	p->a = -1;
	assert_int_equal(vfio_user_recv(p->b, &m, buf, sizeof(buf), 0, 50), -ECONNRESET);
}

static void test_roundtrip_in_pieces(void **state)
{
	struct pair *p = *state;
	struct vfio_user_msg m;
	uint8_t buf[64];
	struct vfio_user_header h = {
		.msg_id = 7, .command = VFIO_USER_DEVICE_GET_INFO, .size = 32,
	};
	const uint8_t *raw = (const uint8_t *)&h;
	uint8_t payload[16];

	for (unsigned i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	/* Byte by byte: each write is its own skb. */
	for (unsigned i = 0; i < sizeof(h); i++)
		write_all(p->a, raw + i, 1);
	write_all(p->a, payload, 5);
	write_all(p->a, payload + 5, 11);
	assert_int_equal(vfio_user_recv(p->b, &m, buf, sizeof(buf), 0, 100), 0);
	assert_int_equal(m.hdr.msg_id, 7);
	assert_int_equal(m.len, 16);
	assert_memory_equal(m.payload, payload, 16);
	assert_int_equal(m.nfds, 0);
}

struct big_reader {
	int fd;
	uint8_t *buf;
	int rc;
	struct vfio_user_msg m;
};

static void *big_read(void *arg)
{
	struct big_reader *r = arg;

	r->rc = vfio_user_recv(r->fd, &r->m, r->buf, VFIO_USER_MAX_MSG, 5000, 5000);
	return NULL;
}

/* A 1 MiB message does not fit the socket buffer: partial writes. */
static void test_send_large_partial_writes(void **state)
{
	struct pair *p = *state;
	struct big_reader r = { .fd = p->b };
	struct vfio_user_region_access a = { .offset = 0, .region = 0,
					     .count = VFIO_USER_MAX_XFER };
	struct vfio_user_header h = { .msg_id = 3, .command = VFIO_USER_REGION_WRITE };
	uint8_t *data = malloc(VFIO_USER_MAX_XFER);
	struct iovec iov[2] = { { &a, sizeof(a) }, { data, VFIO_USER_MAX_XFER } };
	pthread_t th;

	r.buf = malloc(VFIO_USER_MAX_MSG);
	assert_non_null(data);
	assert_non_null(r.buf);
	for (uint32_t i = 0; i < VFIO_USER_MAX_XFER; i++)
		data[i] = (uint8_t)(i * 7);
	assert_int_equal(pthread_create(&th, NULL, big_read, &r), 0);
	assert_int_equal(vfio_user_send(p->a, &h, iov, 2, NULL, 0, 5000), 0);
	pthread_join(th, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.m.hdr.size, 16 + 16 + VFIO_USER_MAX_XFER);
	assert_memory_equal(r.buf + 16, data, VFIO_USER_MAX_XFER);
	free(data);
	free(r.buf);
}

static void test_send_times_out_when_peer_does_not_read(void **state)
{
	struct pair *p = *state;
	struct vfio_user_header h = { .msg_id = 3, .command = VFIO_USER_REGION_WRITE };
	uint8_t *data = calloc(1, 4u << 20);
	struct iovec iov = { data, 4u << 20 };

	assert_non_null(data);
	assert_int_equal(vfio_user_send(p->a, &h, &iov, 1, NULL, 0, 50), -ETIMEDOUT);
	free(data);
}

static void test_send_to_closed_peer(void **state)
{
	struct pair *p = *state;
	struct vfio_user_header h = { .msg_id = 3, .command = VFIO_USER_DEVICE_RESET };

	close(p->b);
	p->b = -1;
	assert_int_equal(vfio_user_send(p->a, &h, NULL, 0, NULL, 0, 100), -EPIPE);
}

/* ---- fds ---------------------------------------------------------------- */

static void test_fds_arrive(void **state)
{
	struct pair *p = *state;
	struct vfio_user_msg m;
	struct vfio_user_header h = { .msg_id = 1, .command = VFIO_USER_DMA_MAP };
	uint8_t buf[64], payload[32] = { 0 };
	struct iovec iov = { payload, sizeof(payload) };
	int pfd[2], fds[1];
	char c = 0;

	assert_int_equal(pipe(pfd), 0);
	fds[0] = pfd[1];
	assert_int_equal(vfio_user_send(p->a, &h, &iov, 1, fds, 1, 100), 0);
	close(pfd[1]);
	assert_int_equal(vfio_user_recv(p->b, &m, buf, sizeof(buf), 0, 100), 0);
	assert_int_equal(m.nfds, 1);
	assert_int_equal(m.dropped_fds, 0);
	assert_true(fcntl(m.fds[0], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(m.fds[0], "x", 1), 1);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	vfio_user_msg_close_fds(&m);
	assert_int_equal(m.nfds, 0);
	close(pfd[0]);
}

/* Sends n copies of fd (raw sendmsg: the codec refuses to send > 8). */
static void send_with_fds(int sock, int fd, unsigned n)
{
	union {
		char buf[CMSG_SPACE(32 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct vfio_user_header h = { .msg_id = 9, .command = VFIO_USER_DEVICE_SET_IRQS,
				      .size = 16 };
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = CMSG_SPACE(n * sizeof(int)) };
	struct cmsghdr *c;

	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	for (unsigned i = 0; i < n; i++)
		memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof(int));
	assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)sizeof(h));
}

static void test_extra_fds_closed(void **state)
{
	struct pair *p = *state;
	struct vfio_user_msg m;
	uint8_t buf[64];
	unsigned before;
	int pfd[2];

	assert_int_equal(pipe(pfd), 0);
	before = count_open_fds();
	send_with_fds(p->a, pfd[0], 12);
	assert_int_equal(vfio_user_recv(p->b, &m, buf, sizeof(buf), 0, 100), 0);
	assert_int_equal(m.nfds, VFIO_USER_MAX_FDS);
	assert_int_equal(m.dropped_fds, 4);
	assert_int_equal(count_open_fds(), before + VFIO_USER_MAX_FDS);
	vfio_user_msg_close_fds(&m);
	assert_int_equal(count_open_fds(), before);

	/* More than even our receive buffer takes: the kernel drops them. */
	send_with_fds(p->a, pfd[0], 30);
	assert_int_equal(vfio_user_recv(p->b, &m, buf, sizeof(buf), 0, 100), 0);
	assert_true(m.dropped_fds > 0);
	vfio_user_msg_close_fds(&m);
	assert_int_equal(count_open_fds(), before);
	close(pfd[0]);
	close(pfd[1]);
}

static void test_fds_closed_on_framing_error(void **state)
{
	struct pair *p = *state;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct vfio_user_header h = { .msg_id = 9, .command = 1, .size = 4 };
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	struct vfio_user_msg m;
	uint8_t buf[64];
	unsigned before;
	int pfd[2];

	assert_int_equal(pipe(pfd), 0);
	before = count_open_fds();
	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pfd[0], sizeof(int));
	assert_int_equal(sendmsg(p->a, &mh, 0), (ssize_t)sizeof(h));
	assert_int_equal(vfio_user_recv(p->b, &m, buf, sizeof(buf), 0, 100), -EPROTO);
	assert_int_equal(count_open_fds(), before);
	close(pfd[0]);
	close(pfd[1]);
}

/* ---- replies ------------------------------------------------------------ */

static void test_error_reply(void **state)
{
	struct pair *p = *state;
	struct vfio_user_header req = { .msg_id = 42, .command = VFIO_USER_VERSION };
	struct vfio_user_msg m;
	const char *why;
	uint8_t buf[64];

	assert_int_equal(vfio_user_reply_error(p->a, &req, -EBUSY, 100), 0);
	assert_int_equal(vfio_user_recv(p->b, &m, buf, sizeof(buf), 0, 100), 0);
	assert_int_equal(m.hdr.size, 16);
	assert_int_equal(m.hdr.flags, VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR);
	assert_int_equal(m.hdr.error, EBUSY);
	assert_int_equal(vfio_user_check_reply_hdr(&m.hdr, 42, VFIO_USER_VERSION, &why),
			 -EBUSY);

	/* error 0 and nonsense errors read as EINVAL */
	m.hdr.error = 0;
	assert_int_equal(vfio_user_reply_errno(&m.hdr), EINVAL);
	m.hdr.error = 0x7fffffff;
	assert_int_equal(vfio_user_reply_errno(&m.hdr), EINVAL);
	assert_int_equal(vfio_user_reply_error(p->a, &req, 0, 100), 0);
	assert_int_equal(vfio_user_recv(p->b, &m, buf, sizeof(buf), 0, 100), 0);
	assert_int_equal(m.hdr.error, EINVAL);
}

static void test_reply_matching(void **state)
{
	struct vfio_user_header h = {
		.msg_id = 5, .command = VFIO_USER_REGION_READ, .size = 16,
		.flags = VFIO_USER_F_TYPE_REPLY,
	};
	const char *why;

	(void)state;
	assert_int_equal(vfio_user_check_reply_hdr(&h, 5, VFIO_USER_REGION_READ, &why), 0);
	/* out of order: another msg_id */
	assert_int_equal(vfio_user_check_reply_hdr(&h, 6, VFIO_USER_REGION_READ, &why),
			 -EPROTO);
	assert_non_null(why);
	/* right id, other command */
	assert_int_equal(vfio_user_check_reply_hdr(&h, 5, VFIO_USER_REGION_WRITE, &why),
			 -EPROTO);
	/* a command where a reply belongs */
	h.flags = VFIO_USER_F_TYPE_COMMAND;
	assert_int_equal(vfio_user_check_reply_hdr(&h, 5, VFIO_USER_REGION_READ, &why),
			 -EPROTO);
}

/* ---- request checks ----------------------------------------------------- */

static void make_msg(struct vfio_user_msg *m, uint16_t cmd, void *payload,
		     uint32_t len)
{
	vfio_user_msg_init(m);
	m->hdr.msg_id = 1;
	m->hdr.command = cmd;
	m->hdr.size = 16 + len;
	m->payload = payload;
	m->len = len;
}

static int check(struct vfio_user_msg *m)
{
	const char *why = NULL;
	int rc = vfio_user_check_request(m, VFIO_USER_MAX_XFER, &why);

	if (rc)
		assert_non_null(why);
	return rc;
}

static void test_check_header_fields(void **state)
{
	struct vfio_user_msg m;

	(void)state;
	make_msg(&m, VFIO_USER_DEVICE_RESET, NULL, 0);
	assert_int_equal(check(&m), 0);
	m.hdr.flags = VFIO_USER_F_NO_REPLY;
	assert_int_equal(check(&m), 0);
	m.hdr.flags = VFIO_USER_F_TYPE_REPLY;
	assert_int_equal(check(&m), -EINVAL);
	m.hdr.flags = VFIO_USER_F_ERROR;
	assert_int_equal(check(&m), -EINVAL);
	m.hdr.flags = 0;
	m.hdr.error = 5;
	assert_int_equal(check(&m), -EINVAL);
	m.hdr.error = 0;
	m.dropped_fds = 1;
	assert_int_equal(check(&m), -EINVAL);
}

static void test_check_unknown_command(void **state)
{
	struct vfio_user_msg m;

	(void)state;
	make_msg(&m, 99, NULL, 0);
	assert_int_equal(check(&m), -ENOSYS);
	make_msg(&m, VFIO_USER_DMA_READ, NULL, 0);
	assert_int_equal(check(&m), -ENOSYS);
}

static void test_check_short_and_long_payloads(void **state)
{
	uint8_t raw[64] = { 0 };
	struct vfio_user_msg m;
	struct vfio_user_device_info info = { .argsz = 16 };

	(void)state;
	/* DMA_MAP of 8 bytes */
	make_msg(&m, VFIO_USER_DMA_MAP, raw, 8);
	assert_int_equal(check(&m), -EINVAL);
	/* GET_INFO: exact, short, long */
	memcpy(raw, &info, sizeof(info));
	make_msg(&m, VFIO_USER_DEVICE_GET_INFO, raw, 16);
	assert_int_equal(check(&m), 0);
	make_msg(&m, VFIO_USER_DEVICE_GET_INFO, raw, 12);
	assert_int_equal(check(&m), -EINVAL);
	make_msg(&m, VFIO_USER_DEVICE_GET_INFO, raw, 32);
	assert_int_equal(check(&m), -EINVAL);
	/* argsz too small for the reply */
	info.argsz = 8;
	memcpy(raw, &info, sizeof(info));
	make_msg(&m, VFIO_USER_DEVICE_GET_INFO, raw, 16);
	assert_int_equal(check(&m), -EINVAL);
	/* reserved field set */
	info.argsz = 16;
	info.num_irqs = 1;
	memcpy(raw, &info, sizeof(info));
	assert_int_equal(check(&m), -EINVAL);
	/* reset with payload */
	make_msg(&m, VFIO_USER_DEVICE_RESET, raw, 4);
	assert_int_equal(check(&m), -EINVAL);
	/* VERSION shorter than major+minor */
	make_msg(&m, VFIO_USER_VERSION, raw, 3);
	assert_int_equal(check(&m), -EINVAL);
}

static void test_check_region_access(void **state)
{
	static uint8_t raw[16 + 64];
	struct vfio_user_region_access a = { .offset = 0, .region = 0, .count = 4 };
	struct vfio_user_msg m;

	(void)state;
	memcpy(raw, &a, sizeof(a));
	make_msg(&m, VFIO_USER_REGION_READ, raw, 16);
	assert_int_equal(check(&m), 0);
	make_msg(&m, VFIO_USER_REGION_READ, raw, 20);	/* read with data */
	assert_int_equal(check(&m), -EINVAL);
	make_msg(&m, VFIO_USER_REGION_WRITE, raw, 20);
	assert_int_equal(check(&m), 0);
	make_msg(&m, VFIO_USER_REGION_WRITE, raw, 19);	/* data short of count */
	assert_int_equal(check(&m), -EINVAL);
	make_msg(&m, VFIO_USER_REGION_WRITE, raw, 16 + 64);	/* data beyond count */
	assert_int_equal(check(&m), -EINVAL);
	a.count = 0;
	memcpy(raw, &a, sizeof(a));
	make_msg(&m, VFIO_USER_REGION_READ, raw, 16);
	assert_int_equal(check(&m), -EINVAL);
	a.count = VFIO_USER_MAX_XFER + 1;
	memcpy(raw, &a, sizeof(a));
	assert_int_equal(check(&m), -EINVAL);
	a.count = 8;
	a.offset = UINT64_MAX - 3;
	memcpy(raw, &a, sizeof(a));
	assert_int_equal(check(&m), -EINVAL);
	/* an access carries no fds */
	a.offset = 0;
	memcpy(raw, &a, sizeof(a));
	m.nfds = 1;
	assert_int_equal(check(&m), -EINVAL);
}

static void test_check_dma(void **state)
{
	struct vfio_user_dma_map d = {
		.argsz = 32, .flags = VFIO_USER_DMA_MAP_F_READ, .offset = 0,
		.address = 0x1000, .size = 0x1000,
	};
	struct vfio_user_dma_unmap u = { .argsz = 24, .address = 0x1000, .size = 0x1000 };
	struct vfio_user_msg m;

	(void)state;
	make_msg(&m, VFIO_USER_DMA_MAP, &d, sizeof(d));
	assert_int_equal(check(&m), 0);		/* no fd: the server decides */
	m.nfds = 2;
	assert_int_equal(check(&m), -EINVAL);
	m.nfds = 1;
	assert_int_equal(check(&m), 0);
	d.flags = 0x80;
	assert_int_equal(check(&m), -EINVAL);
	d.flags = VFIO_USER_DMA_MAP_F_FILE_IO | VFIO_USER_DMA_MAP_F_READ;
	assert_int_equal(check(&m), -ENOTSUP);
	d.flags = VFIO_USER_DMA_MAP_F_READ;
	d.size = 0;
	assert_int_equal(check(&m), -EINVAL);
	d.size = UINT64_MAX;
	assert_int_equal(check(&m), -EINVAL);
	d.size = 0x1000;
	d.argsz = 40;
	assert_int_equal(check(&m), -EINVAL);

	make_msg(&m, VFIO_USER_DMA_UNMAP, &u, sizeof(u));
	assert_int_equal(check(&m), 0);
	u.argsz = 16;
	assert_int_equal(check(&m), -EINVAL);
	u.argsz = 24;
	u.flags = VFIO_USER_DMA_UNMAP_F_ALL;
	assert_int_equal(check(&m), -EINVAL);	/* all, with a range */
	u.address = u.size = 0;
	assert_int_equal(check(&m), 0);
	u.flags = VFIO_USER_DMA_UNMAP_F_GET_DIRTY_BITMAP;
	assert_int_equal(check(&m), -ENOTSUP);
}

static void test_check_set_irqs(void **state)
{
	uint8_t raw[20 + 4];
	struct vfio_user_irq_set is = {
		.argsz = 20, .index = 2, .start = 0, .count = 2,
		.flags = VFIO_USER_IRQ_SET_DATA_EVENTFD | VFIO_USER_IRQ_SET_ACTION_TRIGGER,
	};
	struct vfio_user_msg m;

	(void)state;
	memcpy(raw, &is, sizeof(is));
	make_msg(&m, VFIO_USER_DEVICE_SET_IRQS, raw, 20);
	assert_int_equal(check(&m), 0);		/* 0 fds: unbind */
	m.nfds = 2;
	assert_int_equal(check(&m), 0);
	m.nfds = 1;
	assert_int_equal(check(&m), -EINVAL);	/* neither 0 nor count */
	m.nfds = 0;
	is.flags = VFIO_USER_IRQ_SET_DATA_EVENTFD | VFIO_USER_IRQ_SET_DATA_NONE |
		   VFIO_USER_IRQ_SET_ACTION_TRIGGER;
	memcpy(raw, &is, sizeof(is));
	assert_int_equal(check(&m), -EINVAL);	/* two data kinds */
	is.flags = VFIO_USER_IRQ_SET_DATA_NONE | VFIO_USER_IRQ_SET_ACTION_MASK |
		   VFIO_USER_IRQ_SET_ACTION_UNMASK;
	memcpy(raw, &is, sizeof(is));
	assert_int_equal(check(&m), -EINVAL);	/* two actions */
	is.flags = VFIO_USER_IRQ_SET_DATA_NONE | VFIO_USER_IRQ_SET_ACTION_MASK;
	memcpy(raw, &is, sizeof(is));
	assert_int_equal(check(&m), 0);
	m.nfds = 1;
	assert_int_equal(check(&m), -EINVAL);	/* fds without DATA_EVENTFD */
	m.nfds = 0;
	/* DATA_BOOL: one byte per vector, argsz = whole request */
	is.flags = VFIO_USER_IRQ_SET_DATA_BOOL | VFIO_USER_IRQ_SET_ACTION_TRIGGER;
	is.argsz = 22;
	memcpy(raw, &is, sizeof(is));
	raw[20] = 1;
	raw[21] = 0;
	make_msg(&m, VFIO_USER_DEVICE_SET_IRQS, raw, 22);
	assert_int_equal(check(&m), 0);
	make_msg(&m, VFIO_USER_DEVICE_SET_IRQS, raw, 21);
	assert_int_equal(check(&m), -EINVAL);	/* argsz != size */
	is.argsz = 21;
	memcpy(raw, &is, sizeof(is));
	assert_int_equal(check(&m), -EINVAL);	/* one byte for two vectors */
	/* start + count wraps */
	is.flags = VFIO_USER_IRQ_SET_DATA_NONE | VFIO_USER_IRQ_SET_ACTION_TRIGGER;
	is.argsz = 20;
	is.start = 0xffffffffu;
	memcpy(raw, &is, sizeof(is));
	make_msg(&m, VFIO_USER_DEVICE_SET_IRQS, raw, 20);
	assert_int_equal(check(&m), -EINVAL);
	/* eventfds for mask events: not supported */
	is.start = 0;
	is.flags = VFIO_USER_IRQ_SET_DATA_EVENTFD | VFIO_USER_IRQ_SET_ACTION_MASK;
	memcpy(raw, &is, sizeof(is));
	assert_int_equal(check(&m), -ENOTSUP);
}

/* ---- VERSION and the capabilities JSON ---------------------------------- */

static int parse(const char *json, struct vfio_user_caps *c)
{
	const char *why = NULL;
	int rc;

	vfio_user_caps_default(c);
	rc = vfio_user_caps_parse(json, strlen(json), c, &why);
	if (rc)
		assert_non_null(why);
	return rc;
}

static void test_caps_good(void **state)
{
	struct vfio_user_caps c;

	(void)state;
	assert_int_equal(parse("{\"capabilities\":{\"max_msg_fds\":16,"
			       "\"max_data_xfer_size\":65536,\"max_dma_maps\":100,"
			       "\"pgsizes\":2101248,\"write_multiple\":true,"
			       "\"twin_socket\":{\"supported\":true,\"fd_index\":0}}}",
			       &c), 0);
	assert_int_equal(c.max_msg_fds, 16);
	assert_int_equal(c.max_data_xfer_size, 65536);
	assert_int_equal(c.max_dma_maps, 100);
	assert_int_equal(c.pgsizes, 2101248);
	assert_true(c.write_multiple);
	assert_true(c.twin_socket);
	assert_true(c.has_twin_fd_index);
	assert_int_equal(c.twin_fd_index, 0);

	/* whitespace everywhere, and no capabilities at all */
	assert_int_equal(parse(" \n{ \"capabilities\" :\t{ \"max_msg_fds\" : 3 } }\r\n", &c), 0);
	assert_int_equal(c.max_msg_fds, 3);
	assert_int_equal(parse("{}", &c), 0);
	assert_int_equal(c.max_msg_fds, VFIO_USER_DEFAULT_MAX_FDS);
	assert_int_equal(c.max_data_xfer_size, VFIO_USER_DEFAULT_MAX_XFER);
	assert_int_equal(c.pgsizes, 4096);
}

static void test_caps_unknown_and_nested(void **state)
{
	struct vfio_user_caps c;

	(void)state;
	assert_int_equal(parse("{\"vendor\":[1,2.5e3,-7,\"s\\\"\\u00e9\",null,false,{}],"
			       "\"capabilities\":{\"migration\":{\"pgsize\":4096,"
			       "\"max_bitmap_size\":1048576,\"x\":{\"y\":[[[]]]}},"
			       "\"future_key\":{\"a\":[true]},\"max_msg_fds\":4},"
			       "\"other\":\"\"}", &c), 0);
	assert_int_equal(c.max_msg_fds, 4);
	/* an unknown key may hold a number of any size */
	assert_int_equal(parse("{\"capabilities\":{\"big\":123456789012345678901234567890}}",
			       &c), 0);
	/* 8 levels are fine, 9 are not */
	assert_int_equal(parse("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{}}}}}}}}", &c), 0);
	assert_int_equal(parse("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{}}}}}}}}}", &c),
			 -EINVAL);
	assert_int_equal(parse("{\"a\":[[[[[[[[[[1]]]]]]]]]]}", &c), -EINVAL);
}

static void test_caps_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"[]",
		"{",
		"{\"capabilities\":{\"max_msg_fds\":1}",	/* unterminated */
		"{\"capabilities\":{\"max_msg_fds\":1}}}",	/* trailing */
		"{\"capabilities\":{\"max_msg_fds\":1,}}",	/* trailing comma */
		"{\"capabilities\" {}}",
		"{capabilities:{}}",
		"{\"capabilities\":{\"max_msg_fds\":01}}",
		"{\"capabilities\":{\"max_msg_fds\":-1}}",
		"{\"capabilities\":{\"max_msg_fds\":1.5}}",
		"{\"capabilities\":{\"max_msg_fds\":1e3}}",
		"{\"capabilities\":{\"max_msg_fds\":\"8\"}}",	/* wrong type */
		"{\"capabilities\":{\"write_multiple\":1}}",
		"{\"capabilities\":[]}",
		"{\"capabilities\":{\"twin_socket\":true}}",
		"{\"a\":\"unterminated}",
		"{\"a\":\"bad \\x escape\"}",
		"{\"a\":\"bad \\u12g4\"}",
		"{\"a\":tru}",
		"{\"a\":nul}",
		"{\"a\":-}",
		"{\"a\":1.}",
		"{\"a\":1e}",
		"{\"a\":[1 2]}",
		"{\"a\":\"tab\there\"}",
		"{\"a\":1}x",
		/* what json-c's strict mode alone would take */
		"{\"a\":NaN}",
		"{\"a\":nan}",
		"{\"a\":Infinity}",
		"{\"a\":-Infinity}",
		"{\"a\":[1.]}",
		"{\"a\":\"new\nline\"}",
		"{\"a\":truex}",
		"{\"a\":1}\n\"b\"",
		"{\"a\":'x'}",
		"{\"a\":1}/*comment*/",
	};
	struct vfio_user_caps c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &c) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	}
}

static void test_caps_huge_numbers(void **state)
{
	struct vfio_user_caps c;
	char *big;

	(void)state;
	assert_int_equal(parse("{\"capabilities\":{\"max_msg_fds\":4294967295}}", &c), 0);
	assert_int_equal(c.max_msg_fds, 4294967295u);
	assert_int_equal(parse("{\"capabilities\":{\"max_msg_fds\":4294967296}}", &c), -EINVAL);
	assert_int_equal(parse("{\"capabilities\":{\"max_data_xfer_size\":99999999999999999999999}}",
			       &c), -EINVAL);
	assert_int_equal(parse("{\"capabilities\":{\"pgsizes\":18446744073709551614}}", &c), 0);
	assert_true(c.pgsizes == UINT64_MAX - 1);
	/* json-c saturates at UINT64_MAX whatever came beyond it, so
	 * UINT64_MAX itself (an all-ones page-size bitmap, meaningless) is
	 * refused with every larger number. */
	assert_int_equal(parse("{\"capabilities\":{\"pgsizes\":18446744073709551615}}", &c), -EINVAL);
	assert_int_equal(parse("{\"capabilities\":{\"pgsizes\":18446744073709551616}}", &c), -EINVAL);
	assert_int_equal(parse("{\"capabilities\":{\"pgsizes\":99999999999999999999999999}}", &c),
			 -EINVAL);

	/* longer than the bound, even if well formed */
	big = malloc(VFIO_USER_JSON_MAX + 64);
	assert_non_null(big);
	memset(big, ' ', VFIO_USER_JSON_MAX + 63);
	big[0] = '{';
	big[VFIO_USER_JSON_MAX + 62] = '}';
	big[VFIO_USER_JSON_MAX + 63] = '\0';
	assert_int_equal(parse(big, &c), -EINVAL);
	free(big);
}

static void test_caps_format_roundtrip(void **state)
{
	struct vfio_user_caps in, out;
	char buf[256], tiny[8];
	int n;

	(void)state;
	vfio_user_caps_default(&in);
	in.max_msg_fds = 8;
	in.max_data_xfer_size = 1u << 20;
	in.max_dma_maps = 64;
	n = vfio_user_caps_format(&in, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	assert_int_equal(parse(buf, &out), 0);
	assert_int_equal(out.max_msg_fds, 8);
	assert_int_equal(out.max_data_xfer_size, 1u << 20);
	assert_int_equal(out.max_dma_maps, 64);
	assert_int_equal(out.pgsizes, 4096);
	assert_int_equal(vfio_user_caps_format(&in, tiny, sizeof(tiny)), -ENOSPC);
}

static void test_version_payload(void **state)
{
	uint8_t raw[128];
	struct vfio_user_version v = { .major = 0, .minor = 2 }, out;
	struct vfio_user_caps c;
	const char *json = "{\"capabilities\":{\"max_msg_fds\":5}}";
	size_t jl = strlen(json);
	const char *why;

	(void)state;
	memcpy(raw, &v, sizeof(v));
	vfio_user_caps_default(&c);
	assert_int_equal(vfio_user_parse_version(raw, 4, &out, &c, &why), 0);
	assert_int_equal(out.minor, 2);
	assert_int_equal(c.max_msg_fds, 1);
	memcpy(raw + 4, json, jl + 1);
	assert_int_equal(vfio_user_parse_version(raw, (uint32_t)(4 + jl + 1), &out, &c, &why), 0);
	assert_int_equal(c.max_msg_fds, 5);
	/* without its NUL */
	assert_int_equal(vfio_user_parse_version(raw, (uint32_t)(4 + jl), &out, &c, &why),
			 -EINVAL);
	/* bytes after the NUL */
	raw[4 + jl + 1] = 'x';
	assert_int_equal(vfio_user_parse_version(raw, (uint32_t)(4 + jl + 2), &out, &c, &why),
			 -EINVAL);
	/* a NUL inside the text */
	raw[10] = '\0';
	assert_int_equal(vfio_user_parse_version(raw, (uint32_t)(4 + jl + 1), &out, &c, &why),
			 -EINVAL);
}

/* ---- GET_REGION_IO_FDS replies ------------------------------------------ */

static void test_io_fds_reply(void **state)
{
	uint8_t raw[16 + 2 * 48];
	struct vfio_user_region_io_fds f = { .argsz = 16 + 2 * 40, .index = 0, .count = 2 };
	struct vfio_user_ioeventfd e = { .offset = 0x100, .size = 2, .fd_index = 0,
					 .flags = VFIO_USER_IOEVENTFD_F_DATAMATCH,
					 .datamatch = 0x1234 };
	struct vfio_user_region_io_fds out;
	struct vfio_user_ioeventfd got;
	uint32_t stride;
	const char *why;
	uint64_t dm48 = 0x5678;

	(void)state;
	memset(raw, 0, sizeof(raw));
	memcpy(raw, &f, sizeof(f));
	memcpy(raw + 16, &e, sizeof(e));
	e.offset = 0x104;
	memcpy(raw + 56, &e, sizeof(e));
	assert_int_equal(vfio_user_parse_io_fds_reply(raw, 16 + 80, &out, &stride, &why), 2);
	assert_int_equal(stride, 40);
	vfio_user_io_fd_entry(raw, stride, 1, &got);
	assert_int_equal(got.offset, 0x104);
	assert_int_equal(got.datamatch, 0x1234);

	/* libvfio-user's 48-byte entries: datamatch in the last 8 bytes */
	f.argsz = 16 + 2 * 48;
	memcpy(raw, &f, sizeof(f));
	memcpy(raw + 16 + 48 + 40, &dm48, sizeof(dm48));
	assert_int_equal(vfio_user_parse_io_fds_reply(raw, 16 + 96, &out, &stride, &why), 2);
	assert_int_equal(stride, 48);
	vfio_user_io_fd_entry(raw, stride, 1, &got);
	assert_int_equal(got.datamatch, 0x5678);

	/* only the fixed part: the server wants more room */
	assert_int_equal(vfio_user_parse_io_fds_reply(raw, 16, &out, &stride, &why), 0);
	assert_int_equal(out.argsz, 16 + 96);
	/* payload not matching argsz */
	assert_int_equal(vfio_user_parse_io_fds_reply(raw, 16 + 80, &out, &stride, &why),
			 -EINVAL);
	/* entries smaller than the spec's */
	f.argsz = 16 + 2 * 24;
	memcpy(raw, &f, sizeof(f));
	assert_int_equal(vfio_user_parse_io_fds_reply(raw, 16 + 48, &out, &stride, &why),
			 -EINVAL);
	/* argsz not a whole number of entries */
	f.argsz = 16 + 81;
	memcpy(raw, &f, sizeof(f));
	assert_int_equal(vfio_user_parse_io_fds_reply(raw, 16 + 81, &out, &stride, &why),
			 -EINVAL);
	/* too short for the fixed part */
	assert_int_equal(vfio_user_parse_io_fds_reply(raw, 12, &out, &stride, &why), -EINVAL);
	/* no entries */
	f.argsz = 16;
	f.count = 0;
	memcpy(raw, &f, sizeof(f));
	assert_int_equal(vfio_user_parse_io_fds_reply(raw, 16, &out, &stride, &why), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define PT(fn) cmocka_unit_test_setup_teardown(fn, pair_setup, pair_teardown)
		PT(test_recv_nothing_is_eagain),
		PT(test_truncated_header_eof),
		PT(test_truncated_header_stalls),
		PT(test_eof_is_connreset),
		PT(test_size_below_header),
		PT(test_size_above_max),
		PT(test_payload_short_then_eof),
		PT(test_roundtrip_in_pieces),
		PT(test_send_large_partial_writes),
		PT(test_send_times_out_when_peer_does_not_read),
		PT(test_send_to_closed_peer),
		PT(test_fds_arrive),
		PT(test_extra_fds_closed),
		PT(test_fds_closed_on_framing_error),
		PT(test_error_reply),
		cmocka_unit_test(test_reply_matching),
		cmocka_unit_test(test_check_header_fields),
		cmocka_unit_test(test_check_unknown_command),
		cmocka_unit_test(test_check_short_and_long_payloads),
		cmocka_unit_test(test_check_region_access),
		cmocka_unit_test(test_check_dma),
		cmocka_unit_test(test_check_set_irqs),
		cmocka_unit_test(test_caps_good),
		cmocka_unit_test(test_caps_unknown_and_nested),
		cmocka_unit_test(test_caps_malformed),
		cmocka_unit_test(test_caps_huge_numbers),
		cmocka_unit_test(test_caps_format_roundtrip),
		cmocka_unit_test(test_version_payload),
		cmocka_unit_test(test_io_fds_reply),
#undef PT
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
