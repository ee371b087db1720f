// SPDX-License-Identifier: MIT
/*
 * test_vhost_user.c - the vhost-user face: the message codec against
 * hostile framing (bad version, oversized and truncated payloads, too
 * many fds, wrong sizes and fd counts per request, unknown requests), and
 * the backend on a real vdev driven by a scripted frontend: feature and
 * protocol negotiation, refused indices/sizes/features answered with a
 * failing REPLY_ACK, a full ring start on a memfd guest RAM, GET_VRING_BASE
 * stopping it, and a protocol error closing the connection while the
 * socket keeps listening for the next frontend.
 */
#include <dirent.h>
#include <errno.h>
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
#include "host/evloop.h"
#include "host/dev/vdev.h"
#include "host/face/attach.h"
#include "host/face/vhost_user.h"
#include "host/face/vhost_user_msg.h"

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

static int be_setup(void **state)
{
	struct be *b = calloc(1, sizeof(*b));
	char sys[96];

	assert_non_null(b);
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
	b->ev = evloop_new();
	assert_non_null(b->ev);
	assert_int_equal(attach_vdev(&b->vd, b->ev, b->dir, "s", &b->vo), 0);
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

static void negotiate(struct be *b, uint64_t extra)
{
	uint64_t f = fe_get_u64(b->fe, VHU_GET_FEATURES);
	uint64_t pf = fe_get_u64(b->fe, VHU_GET_PROTOCOL_FEATURES);
	uint64_t want;

	assert_true(f & (UINT64_C(1) << VHU_F_PROTOCOL_FEATURES));
	assert_true(f & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	assert_true(f & VIRTIO_BIT(VIRTIO_F_RING_PACKED));
	assert_false(f & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ));	/* the frontend's */
	assert_true(pf & (UINT64_C(1) << VHU_PROTOCOL_F_REPLY_ACK));
	pf = UINT64_C(1) << VHU_PROTOCOL_F_REPLY_ACK;
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
