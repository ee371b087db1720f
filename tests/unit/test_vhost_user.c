// SPDX-License-Identifier: MIT
/*
 * test_vhost_user.c - the vhost-user face: the message codec against
 * hostile framing (bad version, oversized and truncated payloads, too
 * many fds, wrong sizes and fd counts per request, unknown requests), and
 * the backend on a real vdev driven by a scripted frontend: feature and
 * protocol negotiation, refused indices/sizes/features answered with a
 * failing REPLY_ACK, a full ring start on a memfd guest RAM, GET_VRING_BASE
 * stopping it, and a protocol error closing the connection while the
 * socket keeps listening for the next frontend.  Multiqueue: PROTOCOL_F_MQ
 * and GET_QUEUE_NUM, ring indexes up to the pairs' and no further, and two
 * vdevs linked as peers, each driven by its own scripted frontend, so
 * frames flow on every pair in use and the pairs in use follow the rings
 * the frontend enables.  Inflight tracking (PROTOCOL_F_INFLIGHT_SHMFD):
 * GET_INFLIGHT_FD's sealed zeroed area, SET_INFLIGHT_FD's hostile
 * descriptions refused, and an area handed back with chains a killed
 * backend left in flight: they reach the peer first, in counter order,
 * each once (test_ring_inflight.c shows the device writes that log).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/ring/inflight.h"
#include "host/evloop.h"
#include "host/dev/vdev.h"
#include "host/face/attach.h"
#include "host/face/vhost_user.h"
#include "host/face/vhost_user_msg.h"
#include "tests/unit/support/frames.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Sends header + payload with fds, as a frontend does (one sendmsg). */
static void send_raw(int s, uint32_t req, uint32_t flags, uint32_t size,
		     const void *payload, size_t plen, const int *fds, unsigned nfds)
{
	struct vhu_hdr h = { .request = req, .flags = flags, .size = size };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)(uintptr_t)payload, .iov_len = plen },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = plen ? 2 : 1 };

	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	assert_int_equal(sendmsg(s, &mh, MSG_NOSIGNAL), (ssize_t)(sizeof(h) + plen));
}

static void send_msg(int s, uint32_t req, const void *p, uint32_t len,
		     const int *fds, unsigned nfds)
{
	send_raw(s, req, VHU_VERSION | VHU_FLAG_NEED_REPLY, len, p, len, fds, nfds);
}

/* ---- codec ------------------------------------------------------------ */

struct pair {
	int a, b;		/* a: frontend, b: backend */
	struct vhu_msg m;
	char why[160];
};

static int pair_setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	int sv[2];

	assert_non_null(p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p->a = sv[0];
	p->b = sv[1];
	*state = p;
	return 0;
}

static int pair_teardown(void **state)
{
	struct pair *p = *state;

	close(p->a);
	if (p->b >= 0)
		close(p->b);
	free(p);
	return 0;
}

static void test_codec_good_and_eof(void **state)
{
	struct pair *p = *state;
	uint64_t f = 0x1234;

	send_raw(p->a, VHU_GET_FEATURES, VHU_VERSION, 0, NULL, 0, NULL, 0);
	assert_int_equal(vhu_msg_recv(p->b, &p->m, p->why, sizeof(p->why)), 1);
	assert_int_equal(p->m.hdr.request, VHU_GET_FEATURES);
	assert_int_equal(vhu_msg_check(&p->m, p->why, sizeof(p->why)), 0);

	send_raw(p->a, VHU_SET_FEATURES, VHU_VERSION, 8, &f, 8, NULL, 0);
	assert_int_equal(vhu_msg_recv(p->b, &p->m, p->why, sizeof(p->why)), 1);
	assert_int_equal(vhu_msg_check(&p->m, p->why, sizeof(p->why)), 0);
	assert_int_equal(p->m.p.u64, 0x1234);

	close(p->a);
	p->a = socket(AF_UNIX, SOCK_STREAM, 0);	/* teardown closes it */
	assert_int_equal(vhu_msg_recv(p->b, &p->m, p->why, sizeof(p->why)), 0);
}

static void test_codec_bad_framing(void **state)
{
	struct pair *p = *state;
	uint8_t big[64] = { 0 };

	/* Version 2 (or 0) is not ours. */
	send_raw(p->a, VHU_GET_FEATURES, 0x2, 0, NULL, 0, NULL, 0);
	assert_int_equal(vhu_msg_recv(p->b, &p->m, p->why, sizeof(p->why)), -EPROTO);
	assert_non_null(strstr(p->why, "version"));

	/* A size beyond the payload union is refused before any read. */
	send_raw(p->a, VHU_SET_FEATURES, VHU_VERSION, 1u << 20, NULL, 0, NULL, 0);
	assert_int_equal(vhu_msg_recv(p->b, &p->m, p->why, sizeof(p->why)), -EPROTO);

	/* Header says 64 bytes, 16 come, then the frontend is gone. */
	send_raw(p->a, VHU_SET_VRING_ADDR, VHU_VERSION, 64, big, 16, NULL, 0);
	shutdown(p->a, SHUT_WR);
	assert_int_equal(vhu_msg_recv(p->b, &p->m, p->why, sizeof(p->why)), -EPROTO);
	assert_non_null(strstr(p->why, "truncated"));
}

static void test_codec_too_many_fds_leak_nothing(void **state)
{
	struct pair *p = *state;
	int fds[12], before;
	uint64_t v = 0;

	for (int i = 0; i < 12; i++)
		fds[i] = eventfd(0, 0);
	before = count_fds();
	send_raw(p->a, VHU_SET_VRING_KICK, VHU_VERSION, 8, &v, 8, fds, 12);
	for (int i = 0; i < 12; i++)
		close(fds[i]);
	assert_int_equal(vhu_msg_recv(p->b, &p->m, p->why, sizeof(p->why)), -EPROTO);
	assert_int_equal(p->m.nfds, 0);
	assert_true(count_fds() <= before - 12);
}

static int check_of(struct pair *p, uint32_t req, uint32_t size, const void *payload,
		    unsigned nfds)
{
	memset(&p->m, 0, sizeof(p->m));
	p->m.hdr.request = req;
	p->m.hdr.flags = VHU_VERSION;
	p->m.hdr.size = size;
	if (payload)
		memcpy(&p->m.p, payload, size);
	p->m.nfds = nfds;
	for (unsigned i = 0; i < VHU_MAX_FDS; i++)
		p->m.fds[i] = -1;
	return vhu_msg_check(&p->m, p->why, sizeof(p->why));
}

static void test_codec_sizes_and_fds_per_request(void **state)
{
	struct pair *p = *state;
	struct vhu_memory mem = { .nregions = 2 };
	struct vhu_config cfg = { .size = 300 };
	uint64_t v = 0;

	assert_int_equal(check_of(p, VHU_SET_FEATURES, 4, &v, 0), -EINVAL);
	assert_int_equal(check_of(p, VHU_SET_FEATURES, 8, &v, 1), -EINVAL);	/* stray fd */
	assert_int_equal(check_of(p, VHU_SET_VRING_NUM, 4, &v, 0), -EINVAL);
	assert_int_equal(check_of(p, VHU_SET_VRING_ADDR, 8, &v, 0), -EINVAL);
	/* kick: one fd unless the "no fd" bit says none */
	assert_int_equal(check_of(p, VHU_SET_VRING_KICK, 8, &v, 0), -EINVAL);
	assert_int_equal(check_of(p, VHU_SET_VRING_KICK, 8, &v, 1), 0);
	v = VHU_VRING_NOFD;
	assert_int_equal(check_of(p, VHU_SET_VRING_CALL, 8, &v, 0), 0);
	assert_int_equal(check_of(p, VHU_SET_VRING_CALL, 8, &v, 1), -EINVAL);
	/* memory table: 1..8 regions, one fd each, exact size */
	assert_int_equal(check_of(p, VHU_SET_MEM_TABLE, 8 + 2 * 32, &mem, 1), -EINVAL);
	assert_int_equal(check_of(p, VHU_SET_MEM_TABLE, 8 + 2 * 32, &mem, 2), 0);
	assert_int_equal(check_of(p, VHU_SET_MEM_TABLE, 8 + 3 * 32, &mem, 2), -EINVAL);
	mem.nregions = 9;
	assert_int_equal(check_of(p, VHU_SET_MEM_TABLE, 8, &mem, 0), -EINVAL);
	mem.nregions = 0;
	assert_int_equal(check_of(p, VHU_SET_MEM_TABLE, 8, &mem, 0), -EINVAL);
	assert_int_equal(check_of(p, VHU_SET_MEM_TABLE, 4, &mem, 0), -EINVAL);
	/* config: at most 256 bytes, size must match */
	assert_int_equal(check_of(p, VHU_GET_CONFIG, 12, &cfg, 0), -EINVAL);
	cfg.size = 10;
	assert_int_equal(check_of(p, VHU_GET_CONFIG, 22, &cfg, 0), 0);
	assert_int_equal(check_of(p, VHU_GET_CONFIG, 20, &cfg, 0), -EINVAL);
	/* unknown and unsupported requests */
	assert_int_equal(check_of(p, 99, 0, NULL, 0), -ENOTSUP);
	assert_int_equal(check_of(p, VHU_SET_LOG_BASE, 0, NULL, 0), -ENOTSUP);
	assert_string_equal(vhu_request_name(99), "?");
	assert_string_equal(vhu_request_name(VHU_GET_VRING_BASE), "GET_VRING_BASE");
}

/* ---- the backend on a vdev -------------------------------------------- */

struct be {
	char dir[64];
	char sock[96];
	struct vdev_opts vo;
	struct evloop *ev;
	struct vdev *vd;
	pthread_t thr;
	int stop_fd;
	struct ev_handler stop_h;
	int fe;			/* the frontend's connection */
	int memfd;
	void *ram;
	int kick[2];		/* the rings' kick eventfds (start_rings) */
};

#define RAM_SIZE  (1u << 20)
#define RAM_UADDR UINT64_C(0x7f0000000000)	/* the "frontend's" address of gpa 0 */

static void stop_event(struct ev_handler *h, uint32_t events)
{
	struct be *b = container_of(h, struct be, stop_h);
	uint64_t n;

	(void)events;
	if (read(h->fd, &n, sizeof(n)) < 0)
		return;
	evloop_stop(b->ev);
}

static void *loop_thread(void *arg)
{
	struct be *b = arg;

	evloop_run(b->ev);
	return NULL;
}

static int fe_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 5 };

	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return s;
}

/* A fresh run directory (system "s") and the options of vdev "t",
 * served over vhost-user on <dir>/vu.sock. */
static void be_dir_and_opts(struct be *b)
{
	char sys[96];

	log_set_level(LOG_ERR);
	snprintf(b->dir, sizeof(b->dir), "/tmp/vnet-vhu-test.XXXXXX");
	assert_non_null(mkdtemp(b->dir));
	snprintf(sys, sizeof(sys), "%s/s", b->dir);
	assert_int_equal(mkdir(sys, 0700), 0);
	snprintf(b->sock, sizeof(b->sock), "%s/vu.sock", b->dir);
	snprintf(b->vo.origin, sizeof(b->vo.origin), "test");
	b->vo.has_name = true;
	snprintf(b->vo.name, sizeof(b->vo.name), "t");
	b->vo.has_mac = true;
	memcpy(b->vo.mac, "\x52\x54\x00\x00\x07\x01", 6);
	b->vo.has_vhost_user = true;
	snprintf(b->vo.vhost_user, sizeof(b->vo.vhost_user), "%s", b->sock);
}

static int be_setup(void **state)
{
	struct be *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	be_dir_and_opts(b);
	b->ev = evloop_new();
	assert_non_null(b->ev);
	assert_int_equal(attach_vdev(&b->vd, b->ev, b->dir, "s", &b->vo, false, NULL), 0);
	b->stop_fd = eventfd(0, EFD_NONBLOCK);
	assert_int_equal(ev_add(b->ev, &b->stop_h, b->stop_fd, EPOLLIN, stop_event), 0);
	b->memfd = memfd_create("vhu-test-ram", 0);
	assert_true(b->memfd >= 0);
	assert_int_equal(ftruncate(b->memfd, RAM_SIZE), 0);
	b->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, b->memfd, 0);
	assert_true(b->ram != MAP_FAILED);
	assert_int_equal(pthread_create(&b->thr, NULL, loop_thread, b), 0);
	b->fe = fe_connect(b->sock);
	b->kick[0] = b->kick[1] = -1;
	*state = b;
	return 0;
}

static int be_teardown(void **state)
{
	struct be *b = *state;
	uint64_t one = 1;
	char sys[96];

	/* The vdev goes away with its frontend still connected (and, after
	 * some tests, its rings running): a host stopping under a VMM. */
	assert_int_equal(write(b->stop_fd, &one, sizeof(one)), sizeof(one));
	pthread_join(b->thr, NULL);
	ev_del(b->ev, &b->stop_h);
	close(b->stop_fd);
	vdev_free(b->vd);
	close(b->fe);
	for (int i = 0; i < 2; i++)
		if (b->kick[i] >= 0)
			close(b->kick[i]);
	evloop_free(b->ev);
	munmap(b->ram, RAM_SIZE);
	close(b->memfd);
	snprintf(sys, sizeof(sys), "%s/s", b->dir);
	rmdir(sys);
	rmdir(b->dir);
	free(b);
	return 0;
}

/* Reads one reply; returns its payload size (payload into out). */
static uint32_t fe_reply(int s, uint32_t req, void *out, size_t cap)
{
	struct vhu_hdr h;

	assert_int_equal(recv(s, &h, sizeof(h), MSG_WAITALL), (ssize_t)sizeof(h));
	assert_int_equal(h.request, req);
	assert_int_equal(h.flags, VHU_VERSION | VHU_FLAG_REPLY);
	assert_true(h.size <= cap);
	if (h.size)
		assert_int_equal(recv(s, out, h.size, MSG_WAITALL), (ssize_t)h.size);
	return h.size;
}

static uint64_t fe_get_u64(int s, uint32_t req)
{
	uint64_t v = 0;

	send_raw(s, req, VHU_VERSION, 0, NULL, 0, NULL, 0);
	assert_int_equal(fe_reply(s, req, &v, sizeof(v)), sizeof(v));
	return v;
}

/* A request with NEED_REPLY: the REPLY_ACK status (0 = success). */
static uint64_t fe_ack(int s, uint32_t req, const void *p, uint32_t len, const int *fds,
		       unsigned nfds)
{
	uint64_t st = 99;

	send_msg(s, req, p, len, fds, nfds);
	assert_int_equal(fe_reply(s, req, &st, sizeof(st)), sizeof(st));
	return st;
}

/* negotiate() with protocol features pf_extra taken besides REPLY_ACK. */
static void negotiate_pf(struct be *b, uint64_t extra, uint64_t pf_extra);

static void negotiate(struct be *b, uint64_t extra)
{
	negotiate_pf(b, extra, 0);
}

static void negotiate_pf(struct be *b, uint64_t extra, uint64_t pf_extra)
{
	uint64_t f = fe_get_u64(b->fe, VHU_GET_FEATURES);
	uint64_t pf = fe_get_u64(b->fe, VHU_GET_PROTOCOL_FEATURES);
	uint64_t want;

	assert_true(f & (UINT64_C(1) << VHU_F_PROTOCOL_FEATURES));
	assert_true(f & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	assert_true(f & VIRTIO_BIT(VIRTIO_F_RING_PACKED));
	assert_false(f & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ));	/* the frontend's */
	assert_true(pf & (UINT64_C(1) << VHU_PROTOCOL_F_REPLY_ACK));
	pf = (UINT64_C(1) << VHU_PROTOCOL_F_REPLY_ACK) | pf_extra;
	send_raw(b->fe, VHU_SET_PROTOCOL_FEATURES, VHU_VERSION, 8, &pf, 8, NULL, 0);
	want = VIRTIO_BIT(VIRTIO_F_VERSION_1) | (UINT64_C(1) << VHU_F_PROTOCOL_FEATURES) | extra;
	assert_int_equal(fe_ack(b->fe, VHU_SET_FEATURES, &want, 8, NULL, 0), 0);
}

static void test_backend_refuses_hostile_requests(void **state)
{
	struct be *b = *state;
	struct vhu_vring_state st = { .index = 5, .num = 256 };
	struct vhu_memory mem = { .nregions = 1 };
	uint64_t bad = UINT64_C(1) << 62, v;	/* STANDBY: never offered */
	int efd = eventfd(0, 0);

	negotiate(b, 0);
	/* One pair: no MQ offered, one queue (pair), and ring 2 would be the
	 * controlq, which the frontend keeps. */
	assert_false(fe_get_u64(b->fe, VHU_GET_PROTOCOL_FEATURES) &
		     (UINT64_C(1) << VHU_PROTOCOL_F_MQ));
	assert_int_equal(fe_get_u64(b->fe, VHU_GET_QUEUE_NUM), 1);
	st.index = 2;
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_VRING_NUM, &st, sizeof(st), NULL, 0), 0);
	st.index = 5;
	/* Ring 5 does not exist; size 0 and 4096 are out of range. */
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_VRING_NUM, &st, sizeof(st), NULL, 0), 0);
	st.index = 0;
	st.num = 0;
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_VRING_NUM, &st, sizeof(st), NULL, 0), 0);
	st.num = 4096;
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_VRING_NUM, &st, sizeof(st), NULL, 0), 0);
	/* Features we never offered. */
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_FEATURES, &bad, 8, NULL, 0), 0);
	/* A kick for ring 200; unknown bits in the index word. */
	v = 200;
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_VRING_KICK, &v, 8, &efd, 1), 0);
	v = 1u << 12;
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_VRING_CALL, &v, 8, &efd, 1), 0);
	/* Memory regions that wrap or are not page aligned in the file. */
	mem.regions[0] = (struct vhu_region){ .gpa = UINT64_MAX - 10, .size = 4096,
					      .uaddr = RAM_UADDR };
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_MEM_TABLE, &mem, 8 + 32, &b->memfd, 1), 0);
	mem.regions[0] = (struct vhu_region){ .gpa = 0, .size = RAM_SIZE, .uaddr = RAM_UADDR,
					      .mmap_offset = 100 };
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_MEM_TABLE, &mem, 8 + 32, &b->memfd, 1), 0);
	/* A region larger than its file (touching it would be SIGBUS), and
	 * an fd that is no file at all. */
	mem.regions[0] = (struct vhu_region){ .gpa = 0, .size = 2 * RAM_SIZE, .uaddr = RAM_UADDR };
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_MEM_TABLE, &mem, 8 + 32, &b->memfd, 1), 0);
	mem.regions[0].size = 4096;
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_MEM_TABLE, &mem, 8 + 32, &efd, 1), 0);
	/* An unknown request is answered with an error, and we keep serving. */
	assert_int_not_equal(fe_ack(b->fe, 99, NULL, 0, NULL, 0), 0);
	/* A GET_* of a protocol feature we did not offer still gets its
	 * answer (0), so the frontend is never left waiting. */
	assert_int_equal(fe_get_u64(b->fe, VHU_GET_MAX_MEM_SLOTS), 0);
	assert_true(fe_get_u64(b->fe, VHU_GET_FEATURES) & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	assert_false(vdev_running(b->vd));
	close(efd);
}

static void start_rings(struct be *b, uint64_t ring_uaddr_shift, bool expect_running)
{
	struct vhu_memory mem = { .nregions = 1 };
	int kick[2] = { eventfd(0, EFD_NONBLOCK), eventfd(0, EFD_NONBLOCK) };
	int call[2] = { eventfd(0, EFD_NONBLOCK), eventfd(0, EFD_NONBLOCK) };

	mem.regions[0] = (struct vhu_region){ .gpa = 0, .size = RAM_SIZE, .uaddr = RAM_UADDR };
	assert_int_equal(fe_ack(b->fe, VHU_SET_MEM_TABLE, &mem, 8 + 32, &b->memfd, 1), 0);
	for (uint32_t q = 0; q < 2; q++) {
		struct vhu_vring_state st = { .index = q, .num = 256 };
		/* Split ring parts at 64 KiB steps in guest RAM (zeroed). */
		uint64_t base = RAM_UADDR + ring_uaddr_shift + 0x10000 * (q * 3 + 1);
		struct vhu_vring_addr a = { .index = q, .desc = base, .avail = base + 0x10000,
					    .used = base + 0x20000 };
		uint64_t v = q;

		assert_int_equal(fe_ack(b->fe, VHU_SET_VRING_NUM, &st, sizeof(st), NULL, 0), 0);
		st.num = 0;
		assert_int_equal(fe_ack(b->fe, VHU_SET_VRING_BASE, &st, sizeof(st), NULL, 0), 0);
		assert_int_equal(fe_ack(b->fe, VHU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0), 0);
		assert_int_equal(fe_ack(b->fe, VHU_SET_VRING_KICK, &v, 8, &kick[q], 1), 0);
		assert_int_equal(fe_ack(b->fe, VHU_SET_VRING_CALL, &v, 8, &call[q], 1), 0);
	}
	assert_false(vdev_running(b->vd));	/* rings start disabled (PROTOCOL_FEATURES) */
	for (uint32_t q = 0; q < 2; q++) {
		struct vhu_vring_state st = { .index = q, .num = 1 };

		assert_int_equal(fe_ack(b->fe, VHU_SET_VRING_ENABLE, &st, sizeof(st), NULL, 0), 0);
	}
	assert_int_equal(vdev_running(b->vd), expect_running);
	for (int i = 0; i < 2; i++) {
		b->kick[i] = kick[i];	/* the test may kick; teardown closes */
		close(call[i]);
	}
}

static void test_backend_starts_and_stops_rings(void **state)
{
	struct be *b = *state;
	struct vhu_vring_state st = { .index = 1 }, out;
	struct vhu_config cfg = { .offset = 0, .size = 6 }, cout;

	negotiate(b, VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX));
	start_rings(b, 0, true);
	assert_int_equal(b->vd->q[0].vq.size, 256);
	/* The device's config (MAC) as the frontend reads it. */
	send_msg(b->fe, VHU_GET_CONFIG, &cfg, 12 + 6, NULL, 0);
	assert_int_equal(fe_reply(b->fe, VHU_GET_CONFIG, &cout, sizeof(cout)), 12 + 6);
	assert_memory_equal(cout.data, "\x52\x54\x00\x00\x07\x01", 6);
	/* GET_VRING_BASE stops the rings and tells where they were. */
	send_msg(b->fe, VHU_GET_VRING_BASE, &st, sizeof(st), NULL, 0);
	assert_int_equal(fe_reply(b->fe, VHU_GET_VRING_BASE, &out, sizeof(out)), sizeof(out));
	assert_int_equal(out.index, 1);
	assert_int_equal(out.num, 0);
	assert_false(vdev_running(b->vd));
}

/* Rings left running: the teardown destroys the vdev under them. */
static void test_backend_destroy_while_running(void **state)
{
	struct be *b = *state;

	negotiate(b, VIRTIO_BIT(VIRTIO_F_RING_PACKED));
	start_rings(b, 0, true);
	assert_int_equal(b->vd->q[1].vq.layout, VQ_PACKED);
}

static void test_backend_ring_outside_memory_table(void **state)
{
	struct be *b = *state;

	negotiate(b, 0);
	/* Rings at frontend addresses the memory table does not cover. */
	start_rings(b, UINT64_C(1) << 40, false);
	assert_false(vdev_running(b->vd));
}

static void test_backend_protocol_error_then_reconnect(void **state)
{
	struct be *b = *state;
	uint8_t junk[8] = { 0 };
	char c;

	negotiate(b, 0);
	/* Version 3 framing: the backend hangs up on this frontend... */
	send_raw(b->fe, VHU_GET_FEATURES, 0x3, 0, NULL, 0, NULL, 0);
	assert_int_equal(recv(b->fe, &c, 1, 0), 0);
	close(b->fe);
	/* ...and serves the next one. */
	b->fe = fe_connect(b->sock);
	negotiate(b, 0);
	/* A payload size that does not fit the request: hang up too. */
	send_raw(b->fe, VHU_SET_VRING_NUM, VHU_VERSION, 4, junk, 4, NULL, 0);
	assert_int_equal(recv(b->fe, &c, 1, 0), 0);
	close(b->fe);
	b->fe = fe_connect(b->sock);
	assert_true(fe_get_u64(b->fe, VHU_GET_FEATURES) & VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

static double secs_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A header that promises more payload than is sent: the backend waits
 * at most VHU_REST_MS for the rest, then drops this frontend, and serves
 * the next one. */
static void test_backend_drops_stalled_message(void **state)
{
	struct be *b = *state;
	uint8_t half[4] = { 0 };
	struct timespec t0;
	char c;

	negotiate(b, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	send_raw(b->fe, VHU_SET_VRING_NUM, VHU_VERSION, 8, half, sizeof(half), NULL, 0);
	assert_int_equal(recv(b->fe, &c, 1, 0), 0);	/* hung up on us */
	assert_true(secs_since(&t0) < 3.0);
	close(b->fe);
	b->fe = fe_connect(b->sock);
	assert_true(fe_get_u64(b->fe, VHU_GET_FEATURES) & VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

/* A frontend that sends requests and never reads the replies: once the
 * socket buffer is full, the backend waits at most VHU_SEND_MS for room,
 * then drops it (the loop is not blocked for good), and serves the next. */
static void test_backend_drops_frontend_that_never_reads(void **state)
{
	struct be *b = *state;
	struct vhu_hdr h = { .request = VHU_GET_FEATURES, .flags = VHU_VERSION };
	struct timespec t0;
	bool dropped = false;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!dropped && secs_since(&t0) < 20.0) {
		ssize_t n = send(b->fe, &h, sizeof(h), MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			dropped = true;
		else if (n < 0)
			usleep(1000);	/* our own buffer is full: the backend is stuck or slow */
	}
	assert_true(dropped);
	close(b->fe);
	b->fe = fe_connect(b->sock);
	assert_true(fe_get_u64(b->fe, VHU_GET_FEATURES) & VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

/* The frontend shrinks its memory file under running rings and kicks:
 * the SIGBUS guard swaps zero pages in, the fault is counted, and the
 * frontend is dropped; the backend serves the next one. */
static void test_backend_memory_file_shrinks(void **state)
{
	struct be *b = *state;
	uint64_t one = 1;
	char c;

	negotiate(b, 0);
	start_rings(b, 0, true);
	assert_int_equal(ftruncate(b->memfd, 0), 0);
	assert_int_equal(write(b->kick[1], &one, sizeof(one)), sizeof(one));
	assert_int_equal(recv(b->fe, &c, 1, 0), 0);	/* dropped */
	assert_int_equal(b->vd->stats.mem_faults, 1);
	assert_false(vdev_running(b->vd));
	close(b->fe);
	assert_int_equal(ftruncate(b->memfd, RAM_SIZE), 0);
	b->fe = fe_connect(b->sock);
	negotiate(b, 0);
	start_rings(b, 0, true);	/* good memory again: runs again */
}

/* ---- multiqueue ------------------------------------------------------- */

/* A second backend in the same event loop: vdev "p" (one pair), the peer
 * of the test's vdev "t" (`queues 4`), with its own frontend and RAM. */
struct mq {
	struct be *b;
	struct vdev_opts po;
	struct vdev *pv;
	int pfe;
	int pmemfd;
	uint8_t *pram;
	int kick[8], call[8];		/* t's rings */
	int pkick[2], pcall[2];		/* p's rings */
};

#define MQ_PAIRS  4
#define RING_AT   0x10000u	/* ring q's split parts at RING_AT + q * 16 KiB */
#define TX_AT	  0x40000u	/* t's transmit buffers, p's receive buffers */
#define BUF_AT	  0x80000u	/* 2 KiB buffers from here: t's receive, p's transmit */
#define BUF_LEN	  2048u
#define QSZ	  64u
#define T_MAC	  "\x52\x54\x00\x00\x07\x01"
#define P_MAC	  "\x52\x54\x00\x00\x07\x02"

/* A frontend's view of one split ring in its RAM (2.7). */
struct tring {
	uint8_t *desc, *avail, *used;
	uint16_t avail_idx;
};

static struct tring tring_of(uint8_t *ram, unsigned q)
{
	uint8_t *base = ram + RING_AT + q * 0x4000u;

	return (struct tring){ .desc = base, .avail = base + 0x1000, .used = base + 0x2000 };
}

/* Makes descriptor id (a buffer at gpa, len bytes) available. */
static void tring_post(struct tring *r, uint16_t id, uint64_t gpa, uint32_t len, bool writable)
{
	uint8_t *d = r->desc + 16u * id;
	uint16_t flags = writable ? 2 : 0;	/* VIRTQ_DESC_F_WRITE */
	uint16_t zero = 0;

	memcpy(d, &gpa, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &zero, 2);
	memcpy(r->avail + 4 + 2u * (r->avail_idx % QSZ), &id, 2);
	r->avail_idx++;
	__atomic_store_n((uint16_t *)(void *)(r->avail + 2), r->avail_idx, __ATOMIC_RELEASE);
}

static uint16_t tring_used(const struct tring *r)
{
	return __atomic_load_n((const uint16_t *)(const void *)(r->used + 2), __ATOMIC_ACQUIRE);
}

static void kick(int fd)
{
	uint64_t one = 1;

	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
}

/* Interrupts signalled on a call eventfd since the last look. */
static uint64_t calls(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* Polls until *counter (written by the loop thread) reaches want, 5 s at
 * most. */
static bool wait_count(const uint64_t *counter, uint64_t want)
{
	for (int i = 0; i < 500; i++) {
		if (__atomic_load_n(counter, __ATOMIC_RELAXED) >= want)
			return true;
		usleep(10000);
	}
	return __atomic_load_n(counter, __ATOMIC_RELAXED) >= want;
}

static void set_vring(int fe, uint32_t req, uint32_t q, uint32_t num)
{
	struct vhu_vring_state st = { .index = q, .num = num };

	assert_int_equal(fe_ack(fe, req, &st, sizeof(st), NULL, 0), 0);
}

/* Memory table and every ring's size, base, addresses, kick and call,
 * rings left disabled (PROTOCOL_FEATURES). */
static void configure_rings(int fe, int memfd, unsigned n, int *kicks, int *calls_out)
{
	struct vhu_memory mem = { .nregions = 1 };

	mem.regions[0] = (struct vhu_region){ .gpa = 0, .size = RAM_SIZE, .uaddr = RAM_UADDR };
	assert_int_equal(fe_ack(fe, VHU_SET_MEM_TABLE, &mem, 8 + 32, &memfd, 1), 0);
	for (uint32_t q = 0; q < n; q++) {
		uint64_t base = RAM_UADDR + RING_AT + q * 0x4000u, v = q;
		struct vhu_vring_addr a = { .index = q, .desc = base, .avail = base + 0x1000,
					    .used = base + 0x2000 };

		kicks[q] = eventfd(0, EFD_NONBLOCK);
		calls_out[q] = eventfd(0, EFD_NONBLOCK);
		set_vring(fe, VHU_SET_VRING_NUM, q, QSZ);
		set_vring(fe, VHU_SET_VRING_BASE, q, 0);
		assert_int_equal(fe_ack(fe, VHU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0), 0);
		assert_int_equal(fe_ack(fe, VHU_SET_VRING_KICK, &v, 8, &kicks[q], 1), 0);
		assert_int_equal(fe_ack(fe, VHU_SET_VRING_CALL, &v, 8, &calls_out[q], 1), 0);
	}
}

static void enable_pair(int fe, unsigned k, bool on)
{
	set_vring(fe, VHU_SET_VRING_ENABLE, 2 * k, on);
	set_vring(fe, VHU_SET_VRING_ENABLE, 2 * k + 1, on);
}

static int mq_setup(void **state)
{
	struct mq *m = calloc(1, sizeof(*m));
	struct be *b;

	assert_non_null(m);
	/* be_setup's vdev with `queues 4` and a peer. */
	b = calloc(1, sizeof(*b));
	assert_non_null(b);
	m->b = b;
	be_dir_and_opts(b);
	b->vo.queues = MQ_PAIRS;
	b->vo.has_peer = true;
	snprintf(b->vo.peer, sizeof(b->vo.peer), "%s/s/p", b->dir);
	m->po = b->vo;
	snprintf(m->po.name, sizeof(m->po.name), "p");
	memcpy(m->po.mac, P_MAC, 6);
	snprintf(m->po.vhost_user, sizeof(m->po.vhost_user), "%s/p.sock", b->dir);
	m->po.queues = 1;
	m->po.has_peer = false;
	b->ev = evloop_new();
	assert_non_null(b->ev);
	assert_int_equal(attach_vdev(&m->pv, b->ev, b->dir, "s", &m->po, false, NULL), 0);
	assert_int_equal(attach_vdev(&b->vd, b->ev, b->dir, "s", &b->vo, false, NULL), 0);
	b->stop_fd = eventfd(0, EFD_NONBLOCK);
	assert_int_equal(ev_add(b->ev, &b->stop_h, b->stop_fd, EPOLLIN, stop_event), 0);
	b->memfd = memfd_create("vhu-test-ram", 0);
	m->pmemfd = memfd_create("vhu-test-pram", 0);
	assert_true(b->memfd >= 0 && m->pmemfd >= 0);
	assert_int_equal(ftruncate(b->memfd, RAM_SIZE), 0);
	assert_int_equal(ftruncate(m->pmemfd, RAM_SIZE), 0);
	b->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, b->memfd, 0);
	m->pram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, m->pmemfd, 0);
	assert_true(b->ram != MAP_FAILED && m->pram != MAP_FAILED);
	assert_int_equal(pthread_create(&b->thr, NULL, loop_thread, b), 0);
	b->fe = fe_connect(b->sock);
	m->pfe = fe_connect(m->po.vhost_user);
	b->kick[0] = b->kick[1] = -1;
	for (int i = 0; i < 8; i++)
		m->kick[i] = m->call[i] = -1;
	m->pkick[0] = m->pkick[1] = m->pcall[0] = m->pcall[1] = -1;
	*state = m;
	return 0;
}

static int mq_teardown(void **state)
{
	struct mq *m = *state;
	struct be *b = m->b;
	uint64_t one = 1;
	char sys[96];

	assert_int_equal(write(b->stop_fd, &one, sizeof(one)), sizeof(one));
	pthread_join(b->thr, NULL);
	ev_del(b->ev, &b->stop_h);
	close(b->stop_fd);
	vdev_free(b->vd);
	vdev_free(m->pv);
	close(b->fe);
	close(m->pfe);
	for (int i = 0; i < 8; i++) {
		if (m->kick[i] >= 0)
			close(m->kick[i]);
		if (m->call[i] >= 0)
			close(m->call[i]);
	}
	for (int i = 0; i < 2; i++) {
		if (m->pkick[i] >= 0)
			close(m->pkick[i]);
		if (m->pcall[i] >= 0)
			close(m->pcall[i]);
	}
	evloop_free(b->ev);
	munmap(b->ram, RAM_SIZE);
	munmap(m->pram, RAM_SIZE);
	close(b->memfd);
	close(m->pmemfd);
	snprintf(sys, sizeof(sys), "%s/s", b->dir);
	rmdir(sys);
	rmdir(b->dir);
	free(b);
	free(m);
	return 0;
}

/* `queues 4`: PROTOCOL_F_MQ offered, GET_QUEUE_NUM says 4 (pairs: what
 * QEMU compares with its netdev's queues=), rings 0..7 accepted by every
 * per-ring message, ring 8 (the controlq's index) and beyond refused. */
static void test_backend_mq_queue_num_and_ring_indexes(void **state)
{
	struct mq *m = *state;
	struct be *b = m->b;
	struct vhu_vring_state st = { .index = 7, .num = 256 }, out = { 99, 99 };
	struct vhu_vring_addr a = { .index = 8 };
	int efd = eventfd(0, 0);
	uint64_t v;

	assert_true(fe_get_u64(b->fe, VHU_GET_PROTOCOL_FEATURES) &
		    (UINT64_C(1) << VHU_PROTOCOL_F_MQ));
	assert_int_equal(fe_get_u64(b->fe, VHU_GET_QUEUE_NUM), MQ_PAIRS);
	assert_true(fe_get_u64(b->fe, VHU_GET_FEATURES) & VIRTIO_BIT(VIRTIO_NET_F_MQ));
	/* The peer's one pair: no MQ there. */
	assert_false(fe_get_u64(m->pfe, VHU_GET_PROTOCOL_FEATURES) &
		     (UINT64_C(1) << VHU_PROTOCOL_F_MQ));
	assert_int_equal(fe_get_u64(m->pfe, VHU_GET_QUEUE_NUM), 1);

	negotiate(b, VIRTIO_BIT(VIRTIO_NET_F_MQ));
	assert_int_equal(fe_ack(b->fe, VHU_SET_VRING_NUM, &st, sizeof(st), NULL, 0), 0);
	assert_int_equal(fe_ack(b->fe, VHU_SET_VRING_BASE, &st, sizeof(st), NULL, 0), 0);
	assert_int_equal(fe_ack(b->fe, VHU_SET_VRING_ENABLE, &st, sizeof(st), NULL, 0), 0);
	v = 7;
	assert_int_equal(fe_ack(b->fe, VHU_SET_VRING_CALL, &v, 8, &efd, 1), 0);
	for (uint32_t bad = 8; bad <= 9; bad++) {
		st.index = bad;
		assert_int_not_equal(fe_ack(b->fe, VHU_SET_VRING_NUM, &st, sizeof(st), NULL, 0), 0);
		assert_int_not_equal(fe_ack(b->fe, VHU_SET_VRING_BASE, &st, sizeof(st), NULL, 0), 0);
		assert_int_not_equal(fe_ack(b->fe, VHU_SET_VRING_ENABLE, &st, sizeof(st), NULL, 0), 0);
		a.index = bad;
		assert_int_not_equal(fe_ack(b->fe, VHU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0), 0);
		v = bad;
		assert_int_not_equal(fe_ack(b->fe, VHU_SET_VRING_KICK, &v, 8, &efd, 1), 0);
		assert_int_not_equal(fe_ack(b->fe, VHU_SET_VRING_CALL, &v, 8, &efd, 1), 0);
		assert_int_not_equal(fe_ack(b->fe, VHU_SET_VRING_ERR, &v, 8, &efd, 1), 0);
		/* GET_VRING_BASE has its own answer: a zero one. */
		send_msg(b->fe, VHU_GET_VRING_BASE, &st, sizeof(st), NULL, 0);
		assert_int_equal(fe_reply(b->fe, VHU_GET_VRING_BASE, &out, sizeof(out)), 8);
		assert_int_equal(out.index, 0);
		assert_int_equal(out.num, 0);
	}
	st.index = 255;
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_VRING_NUM, &st, sizeof(st), NULL, 0), 0);
	assert_false(vdev_running(b->vd));
	close(efd);
}

/* p's frontend transmits n UDP frames to t, one flow each (source port
 * first_port + i), from descriptor slot first_id on. */
static void p_send(struct mq *m, struct tring *tx, unsigned n, uint16_t first_port)
{
	for (unsigned i = 0; i < n; i++) {
		uint16_t id = (uint16_t)(tx->avail_idx % QSZ);
		uint64_t gpa = BUF_AT + (uint64_t)id * BUF_LEN;
		uint8_t *buf = m->pram + gpa;
		static uint8_t f[FRAME_CAP];
		struct built bt = build_frame(f, &(struct build){ .ipv = 4, .proto = NET_PROTO_UDP,
								 .payload_len = 64, .seed = i });
		uint16_t port = htons((uint16_t)(first_port + i));

		memcpy(f, T_MAC, 6);
		memcpy(f + 6, P_MAC, 6);
		memcpy(f + bt.l4_off, &port, 2);
		memset(buf, 0, sizeof(struct virtio_net_hdr_v1));
		memcpy(buf + sizeof(struct virtio_net_hdr_v1), f, bt.len);
		tring_post(tx, id, gpa, (uint32_t)sizeof(struct virtio_net_hdr_v1) + bt.len, false);
	}
	kick(m->pkick[1]);
}

/* t's frontend gives receiveq k n more buffers (2 KiB, device-writable),
 * one buffer per (pair, slot), and kicks. */
static void t_post_rx(int kick_fd, struct tring *r, unsigned k, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint16_t id = (uint16_t)(r->avail_idx % QSZ);

		tring_post(r, id, BUF_AT + ((uint64_t)k * QSZ + id) * BUF_LEN, BUF_LEN, true);
	}
	kick(kick_fd);
}

static uint64_t rx_frames(const struct vdev *vd, unsigned k)
{
	return __atomic_load_n(&vd->q[vnet_rxq(k)].stats.frames, __ATOMIC_RELAXED);
}

static uint64_t rx_total(const struct vdev *vd)
{
	uint64_t n = 0;

	for (unsigned k = 0; k < MQ_PAIRS; k++)
		n += rx_frames(vd, k);
	return n;
}

/* Two linked vdevs, each under a scripted frontend: t (`queues 4`) has
 * all eight rings configured; the pairs in use are the first whose rings
 * are enabled (pair 4 enabled alone does not count), received frames are
 * steered over those only, each ring interrupts through its own call fd,
 * a second pair transmits, and SET_VRING_ENABLE 0 takes a pair out of the
 * steering without stopping the others or losing its ring positions. */
static void test_backend_mq_pairs_follow_enabled_rings(void **state)
{
	struct mq *m = *state;
	struct be *b = m->b;
	struct vdev *vd = b->vd;
	struct tring t_rx[MQ_PAIRS], t_tx1 = tring_of(b->ram, 3), p_rx = tring_of(m->pram, 0),
		     p_tx = tring_of(m->pram, 1);
	uint64_t before[MQ_PAIRS];

	/* Both vdevs are linked (the loop connects t to p's node). */
	for (int i = 0; i < 500 && !(__atomic_load_n(&vd->cfg.status, __ATOMIC_RELAXED) &
				     VIRTIO_NET_S_LINK_UP); i++)
		usleep(10000);
	assert_true(vd->cfg.status & VIRTIO_NET_S_LINK_UP);

	/* p: one pair, started, with receive buffers. */
	negotiate(&(struct be){ .fe = m->pfe }, 0);
	configure_rings(m->pfe, m->pmemfd, 2, m->pkick, m->pcall);
	enable_pair(m->pfe, 0, true);
	assert_true(vdev_running(m->pv));
	for (uint16_t id = 0; id < 16; id++)
		tring_post(&p_rx, id, TX_AT + (uint64_t)id * BUF_LEN, BUF_LEN, true);
	kick(m->pkick[0]);

	/* t: every ring configured, receive buffers on all four receiveqs. */
	negotiate(b, VIRTIO_BIT(VIRTIO_NET_F_MQ));
	configure_rings(b->fe, b->memfd, 2 * MQ_PAIRS, m->kick, m->call);
	for (unsigned k = 0; k < MQ_PAIRS; k++) {
		t_rx[k] = tring_of(b->ram, vnet_rxq(k));
		t_post_rx(m->kick[vnet_rxq(k)], &t_rx[k], k, 48);
	}
	assert_false(vdev_running(vd));
	enable_pair(b->fe, 0, true);
	assert_true(vdev_running(vd));
	assert_int_equal(vd->curr_pairs, 1);
	/* Pair 4 enabled, pair 2 not: still one pair in use. */
	enable_pair(b->fe, 3, true);
	assert_int_equal(vd->curr_pairs, 1);
	enable_pair(b->fe, 1, true);
	assert_int_equal(vd->curr_pairs, 2);
	for (unsigned q = 0; q < 2 * MQ_PAIRS; q++)
		(void)calls(m->call[q]);

	/* 32 flows from p: spread over pairs 1 and 2 only. */
	p_send(m, &p_tx, 32, 1000);
	assert_true(wait_count(&vd->q[vnet_rxq(0)].stats.frames, 1) &&
		    wait_count(&vd->q[vnet_rxq(1)].stats.frames, 1));
	for (int i = 0; i < 500 && rx_total(vd) < 32; i++)
		usleep(10000);
	assert_int_equal(rx_total(vd), 32);
	assert_int_equal(rx_frames(vd, 2), 0);
	assert_int_equal(rx_frames(vd, 3), 0);
	for (unsigned k = 0; k < MQ_PAIRS; k++) {
		assert_int_equal(tring_used(&t_rx[k]), rx_frames(vd, k));
		/* Queue k's interrupt went to ring k's call fd, and only there. */
		if (k < 2)
			assert_true(calls(m->call[vnet_rxq(k)]) > 0);
		else
			assert_int_equal(calls(m->call[vnet_rxq(k)]), 0);
	}

	/* t transmits 3 frames on its second pair's transmitq (ring 3). */
	for (uint16_t id = 0; id < 3; id++) {
		uint64_t gpa = TX_AT + (uint64_t)id * BUF_LEN;
		uint8_t *buf = b->ram + gpa;

		memset(buf, 0, 12 + 60);
		memcpy(buf + 12, P_MAC, 6);
		memcpy(buf + 18, T_MAC, 6);
		buf[24] = 0x88;
		buf[25] = 0xb5;
		tring_post(&t_tx1, id, gpa, 12 + 60, false);
	}
	kick(m->kick[3]);
	assert_true(wait_count(&vd->q[vnet_txq(1)].stats.frames, 3));
	assert_true(wait_count(&m->pv->q[0].stats.frames, 3));
	for (int i = 0; i < 500 && tring_used(&t_tx1) < 3; i++)
		usleep(10000);
	assert_int_equal(tring_used(&t_tx1), 3);
	assert_int_equal(tring_used(&p_rx), 3);
	assert_true(calls(m->call[3]) > 0);
	assert_int_equal(calls(m->call[1]), 0);	/* transmitq1 had nothing to do */

	/* The second pair disabled: out of the steering, the first runs on. */
	enable_pair(b->fe, 1, false);
	assert_true(vdev_running(vd));
	assert_int_equal(vd->curr_pairs, 1);
	for (unsigned k = 0; k < MQ_PAIRS; k++)
		before[k] = rx_frames(vd, k);
	p_send(m, &p_tx, 16, 2000);
	for (int i = 0; i < 500 && rx_total(vd) < 48; i++)
		usleep(10000);
	assert_int_equal(rx_frames(vd, 0), before[0] + 16);
	assert_int_equal(rx_frames(vd, 1), before[1]);

	/* Back, and with pair 3 the enabled pair 4 counts: four in use, the
	 * second pair going on from where it was. */
	enable_pair(b->fe, 1, true);
	assert_int_equal(vd->curr_pairs, 2);
	enable_pair(b->fe, 2, true);
	assert_int_equal(vd->curr_pairs, 4);
	assert_int_equal(vdev_queue_get_base(vd, vnet_rxq(1)) & 0xffff, before[1]);
	/* 12 flows over four pairs; 16 more buffers each, so whatever the
	 * spread they fit. */
	for (unsigned k = 0; k < MQ_PAIRS; k++)
		t_post_rx(m->kick[vnet_rxq(k)], &t_rx[k], k, 16);
	p_send(m, &p_tx, 12, 3000);
	for (int i = 0; i < 500 && rx_total(vd) < 60; i++)
		usleep(10000);
	assert_int_equal(rx_total(vd), 60);
	for (unsigned k = 0; k < MQ_PAIRS; k++)
		assert_int_equal(tring_used(&t_rx[k]), rx_frames(vd, k));
	assert_int_equal(vd->stats.needs_reset, 0);
	assert_int_equal(m->pv->stats.needs_reset, 0);
}

/* The reply to GET_INFLIGHT_FD: the description and its fd (-1 if none). */
static int fe_get_inflight(int s, const struct vhu_inflight *in, struct vhu_inflight *out)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct vhu_hdr h;
	struct iovec iov = { .iov_base = &h, .iov_len = sizeof(h) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	int fd = -1;

	send_msg(s, VHU_GET_INFLIGHT_FD, in, sizeof(*in), NULL, 0);
	assert_int_equal(recvmsg(s, &mh, MSG_WAITALL), (ssize_t)sizeof(h));
	assert_int_equal(h.request, VHU_GET_INFLIGHT_FD);
	assert_int_equal(h.size, sizeof(*out));
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	assert_int_equal(recv(s, out, sizeof(*out), MSG_WAITALL), (ssize_t)sizeof(*out));
	return fd;
}

/* t's transmit frame n in descriptor id: to p, its payload's first byte n. */
static void t_post_tx(struct be *b, struct tring *tx, uint16_t id, uint8_t n)
{
	uint64_t gpa = TX_AT + (uint64_t)id * BUF_LEN;
	uint8_t *buf = (uint8_t *)b->ram + gpa;

	memset(buf, 0, 12 + 60);
	memcpy(buf + 12, P_MAC, 6);
	memcpy(buf + 18, T_MAC, 6);
	buf[24] = 0x88;
	buf[25] = 0xb5;
	buf[26] = n;
	tring_post(tx, id, gpa, 12 + 60, false);
}

/* The payload byte of the i-th frame p's receiveq got. */
static uint8_t p_got(struct mq *m, const struct tring *rx, uint16_t i)
{
	uint32_t id;

	memcpy(&id, rx->used + 4 + 8u * (i % QSZ), 4);
	return m->pram[TX_AT + (uint64_t)id * BUF_LEN + 12 + 14];
}

static void test_backend_inflight_area_and_resubmission(void **state)
{
	struct mq *m = *state;
	struct be *b = m->b;
	struct vdev *vd = b->vd;
	const uint64_t pf = UINT64_C(1) << VHU_PROTOCOL_F_INFLIGHT_SHMFD;
	const size_t region = vq_inflight_region_size(QSZ);
	struct vhu_inflight in = { .num_queues = 2, .queue_size = QSZ }, out, bad;
	struct tring t_tx = tring_of(b->ram, 1), p_rx = tring_of(m->pram, 0);
	struct vq_inflight_region *log;
	uint8_t *area, want[] = { 2, 1, 0, 3, 4 };
	int fd, plain = memfd_create("not-sealed", 0), kicks[2], calls_fd[2];
	struct stat st;

	/* usleep is a call: the status is read again each time round. */
	for (int i = 0; i < 500 && !(vd->cfg.status & VIRTIO_NET_S_LINK_UP); i++)
		usleep(10000);
	assert_true(vd->cfg.status & VIRTIO_NET_S_LINK_UP);
	negotiate(&(struct be){ .fe = m->pfe }, 0);
	configure_rings(m->pfe, m->pmemfd, 2, m->pkick, m->pcall);
	enable_pair(m->pfe, 0, true);
	for (uint16_t id = 0; id < 16; id++)
		tring_post(&p_rx, id, TX_AT + (uint64_t)id * BUF_LEN, BUF_LEN, true);
	kick(m->pkick[0]);

	/* Offered; refused before it is negotiated. */
	assert_true(fe_get_u64(b->fe, VHU_GET_PROTOCOL_FEATURES) & pf);
	negotiate(b, 0);
	fd = fe_get_inflight(b->fe, &in, &out);
	assert_int_equal(fd, -1);
	assert_int_equal(out.mmap_size, 0);
	negotiate_pf(b, 0, pf);

	/* GET: a zeroed area of two regions in a sealed memfd. */
	fd = fe_get_inflight(b->fe, &in, &out);
	assert_true(fd >= 0);
	assert_int_equal(out.mmap_size, 2 * region);
	assert_int_equal(out.mmap_offset, 0);
	assert_int_equal(out.num_queues, 2);
	assert_int_equal(out.queue_size, QSZ);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal((size_t)st.st_size, 2 * region);
	assert_true(fcntl(fd, F_GET_SEALS) & F_SEAL_SHRINK);
	area = mmap(NULL, out.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(area != MAP_FAILED);
	for (size_t i = 0; i < out.mmap_size; i++)
		assert_int_equal(area[i], 0);
	bad = in;
	bad.queue_size = 3;
	assert_int_equal(fe_get_inflight(b->fe, &bad, &bad), -1);
	assert_int_equal(bad.mmap_size, 0);

	/* SET: hostile descriptions refused, the connection kept. */
	bad = out;
	bad.mmap_size += 64;
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_INFLIGHT_FD, &bad, sizeof(bad), &fd, 1), 0);
	bad = out;
	bad.num_queues = 9;
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_INFLIGHT_FD, &bad, sizeof(bad), &fd, 1), 0);
	bad = out;
	bad.mmap_offset = 4096;	/* past the end of the file */
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_INFLIGHT_FD, &bad, sizeof(bad), &fd, 1), 0);
	bad = out;
	bad.mmap_offset = 1;
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_INFLIGHT_FD, &bad, sizeof(bad), &fd, 1), 0);
	assert_int_equal(ftruncate(plain, (off_t)out.mmap_size), 0);
	assert_int_not_equal(fe_ack(b->fe, VHU_SET_INFLIGHT_FD, &out, sizeof(out), &plain, 1), 0);

	/* The area as a backend killed mid-pass leaves it: transmit
	 * descriptors 0..2 taken (counters 12, 11, 10: taken in the order
	 * 2, 1, 0), none used.  Descriptors 3 and 4 were posted after. */
	log = (struct vq_inflight_region *)(void *)(area + region);	/* ring 1 */
	log->desc_num = QSZ;
	log->version = VQ_INFLIGHT_VERSION;
	for (uint16_t id = 0; id < 3; id++) {
		log->desc[id].inflight = 1;
		log->desc[id].counter = 12 - id;
	}
	assert_int_equal(fe_ack(b->fe, VHU_SET_INFLIGHT_FD, &out, sizeof(out), &fd, 1), 0);
	configure_rings(b->fe, b->memfd, 2, kicks, calls_fd);	/* base 0: the used index */
	for (uint8_t n = 0; n < 5; n++)
		t_post_tx(b, &t_tx, n, n);
	enable_pair(b->fe, 0, true);
	assert_true(vdev_running(vd));
	kick(kicks[1]);

	/* The peer gets 2, 1, 0 (resubmitted, in counter order), then 3, 4:
	 * each once. */
	assert_true(wait_count(&m->pv->q[0].stats.frames, 5));
	for (int i = 0; i < 500 && tring_used(&t_tx) < 5; i++)
		usleep(10000);
	assert_int_equal(tring_used(&t_tx), 5);
	assert_int_equal(tring_used(&p_rx), 5);
	for (uint16_t i = 0; i < 5; i++)
		assert_int_equal(p_got(m, &p_rx, i), want[i]);
	assert_int_equal(m->pv->q[0].stats.frames, 5);
	/* The log is all used now. */
	for (unsigned id = 0; id < QSZ; id++)
		assert_int_equal(log->desc[id].inflight, 0);
	assert_int_equal(log->used_idx, 5);
	assert_int_equal(vd->stats.needs_reset, 0);

	/* A log that lies stops the ring start with a reason. */
	set_vring(b->fe, VHU_SET_VRING_ENABLE, 0, 0);	/* rings stop */
	assert_false(vdev_running(vd));
	log->desc[7].inflight = 5;
	assert_int_equal(fe_ack(b->fe, VHU_SET_INFLIGHT_FD, &out, sizeof(out), &fd, 1), 0);
	set_vring(b->fe, VHU_SET_VRING_ENABLE, 0, 1);
	assert_false(vdev_running(vd));
	assert_int_equal(vd->stats.needs_reset, 1);	/* the reason is logged */

	munmap(area, out.mmap_size);
	close(fd);
	close(plain);
	for (int i = 0; i < 2; i++) {
		close(kicks[i]);
		close(calls_fd[i]);
	}
}

static void test_offer_strips_frontend_features(void **state)
{
	uint64_t f = vhost_user_offer(VIRTIO_BIT(VIRTIO_F_VERSION_1) |
				      VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) |
				      VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) |
				      VIRTIO_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) |
				      VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF));

	(void)state;
	assert_int_equal(f, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) |
				    (UINT64_C(1) << VHU_F_PROTOCOL_FEATURES));
}

/* SET/GET_VRING_BASE positions on both ring layouts. */
static void test_ring_base_handover(void **state)
{
	static uint8_t ram[1 << 16] __attribute__((aligned(4096)));
	struct vq_addrs a = { .desc = 0, .driver = 0x4000, .device = 0x8000 };
	struct gmem gm;
	struct vq_dev vq;

	(void)state;
	gmem_init(&gm);
	assert_int_equal(gmem_add(&gm, 0, sizeof(ram), ram, true), 0);
	memset(&vq, 0, sizeof(vq));
	assert_int_equal(vq_dev_init(&vq, VQ_SPLIT, 256, 0, &a, &gm), 0);
	assert_int_equal(vq_dev_set_base(&vq, 1000), 0);
	assert_int_equal(vq_dev_get_base(&vq), 1000);
	assert_false(vq_dev_has_avail(&vq));	/* avail->idx 0 is 1000 behind: checked */

	vq_dev_reset(&vq);
	assert_int_equal(vq_dev_init(&vq, VQ_PACKED, 200, 0, &a, &gm), 0);
	assert_int_equal(vq_dev_get_base(&vq), 0x80008000u);	/* fresh: wrap counters 1 */
	assert_int_equal(vq_dev_set_base(&vq, 0x00050005u | 0x8000u), 0);
	assert_int_equal(vq_dev_get_base(&vq), 0x00050005u | 0x8000u);
	assert_int_equal(vq_dev_set_base(&vq, 0x8007u), 0);	/* upper half 0: used = avail */
	assert_int_equal(vq_dev_get_base(&vq), 0x80078007u);
	assert_int_equal(vq_dev_set_base(&vq, 200), -EINVAL);	/* slot past the ring */
	assert_int_equal(vq_dev_set_base(&vq, 0x00c80001u), -EINVAL);
	vq_dev_reset(&vq);
	assert_int_equal(vq_dev_set_base(&vq, 0), -EINVAL);	/* not set up */
	gmem_clear(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_codec_good_and_eof, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_codec_bad_framing, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_codec_too_many_fds_leak_nothing, pair_setup,
						pair_teardown),
		cmocka_unit_test_setup_teardown(test_codec_sizes_and_fds_per_request, pair_setup,
						pair_teardown),
		cmocka_unit_test(test_offer_strips_frontend_features),
		cmocka_unit_test(test_ring_base_handover),
		cmocka_unit_test_setup_teardown(test_backend_refuses_hostile_requests, be_setup,
						be_teardown),
		cmocka_unit_test_setup_teardown(test_backend_starts_and_stops_rings, be_setup,
						be_teardown),
		cmocka_unit_test_setup_teardown(test_backend_destroy_while_running, be_setup,
						be_teardown),
		cmocka_unit_test_setup_teardown(test_backend_ring_outside_memory_table, be_setup,
						be_teardown),
		cmocka_unit_test_setup_teardown(test_backend_protocol_error_then_reconnect, be_setup,
						be_teardown),
		cmocka_unit_test_setup_teardown(test_backend_drops_stalled_message, be_setup,
						be_teardown),
		cmocka_unit_test_setup_teardown(test_backend_drops_frontend_that_never_reads,
						be_setup, be_teardown),
		cmocka_unit_test_setup_teardown(test_backend_memory_file_shrinks, be_setup,
						be_teardown),
		cmocka_unit_test_setup_teardown(test_backend_mq_queue_num_and_ring_indexes,
						mq_setup, mq_teardown),
		cmocka_unit_test_setup_teardown(test_backend_mq_pairs_follow_enabled_rings,
						mq_setup, mq_teardown),
		cmocka_unit_test_setup_teardown(test_backend_inflight_area_and_resubmission,
						mq_setup, mq_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
