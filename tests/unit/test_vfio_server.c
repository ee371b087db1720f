// SPDX-License-Identifier: MIT
/*
 * test_vfio_server.c - the real vfio-user server on an event loop thread,
 * serving a fake transport (4 KiB of read/write registers in region 0, one
 * doorbell eventfd, MSI-X with 4 vectors, a maskable INTx), driven by the
 * real client from the test thread, and by raw messages for what a
 * well-behaved client never sends.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/gmem.h"
#include "common/log.h"
#include "common/vfio_user/codec.h"
#include "guest/vfio_client.h"
#include "host/evloop.h"
#include "host/transport/transport.h"
#include "host/face/vfio_server.h"

#define REGS_SIZE   4096u
#define MSIX_VECS   4u
#define NOTIFY_OFF  0x100u

/* ---- the fake transport ------------------------------------------------- */

struct fake {
	struct transport t;
	uint8_t regs[REGS_SIZE];
	int notify_fd;
	int resets;
	int irqs_changed;
	int attached, detached;
	const struct gmem *gm;
	int unmaps;			/* dma_unmapped calls */
	unsigned windows_at_unmap;	/* windows left when it was called */
	sem_t reset_sem;
};

static struct fake *fake_of(struct transport *t)
{
	return container_of(t, struct fake, t);
}

static int fake_region_info(struct transport *t, uint32_t index, uint64_t *size,
			    uint32_t *flags)
{
	(void)t;
	if (index >= 9)
		return -EINVAL;
	*size = index == 0 ? REGS_SIZE : 0;
	*flags = index == 0 ? TRANSPORT_REGION_READ | TRANSPORT_REGION_WRITE : 0;
	return 0;
}

static int fake_access(uint32_t index, uint64_t off, uint32_t len)
{
	if (index != 0 || off > REGS_SIZE || len > REGS_SIZE - off)
		return -EINVAL;
	return 0;
}

static int fake_read(struct transport *t, uint32_t index, uint64_t off, void *buf,
		     uint32_t len)
{
	int rc = fake_access(index, off, len);

	if (rc == 0)
		memcpy(buf, fake_of(t)->regs + off, len);
	return rc;
}

static int fake_write(struct transport *t, uint32_t index, uint64_t off,
		      const void *buf, uint32_t len)
{
	int rc = fake_access(index, off, len);

	if (rc == 0)
		memcpy(fake_of(t)->regs + off, buf, len);
	return rc;
}

static int fake_irq_info(struct transport *t, uint32_t index, uint32_t *count,
			 uint32_t *flags)
{
	(void)t;
	if (index >= TRANSPORT_MAX_IRQ_INDEX)
		return -EINVAL;
	*count = index == TRANSPORT_IRQ_MSIX ? MSIX_VECS
		 : index == TRANSPORT_IRQ_INTX ? 1
					       : 0;
	*flags = TRANSPORT_IRQ_EVENTFD;
	if (index == TRANSPORT_IRQ_INTX)
		*flags |= TRANSPORT_IRQ_MASKABLE | TRANSPORT_IRQ_AUTOMASKED;
	return 0;
}

/* Two doorbells sharing one eventfd: the reply must carry it once. */
static unsigned fake_notify_areas(struct transport *t, uint32_t region,
				  struct transport_notify_area *out, unsigned max)
{
	struct fake *f = fake_of(t);

	if (region != 0 || max < 2)
		return 0;
	out[0] = (struct transport_notify_area){ .region = 0, .offset = NOTIFY_OFF, .size = 2, .fd = f->notify_fd };
	out[1] = (struct transport_notify_area){ .region = 0, .offset = NOTIFY_OFF + 4, .size = 2, .fd = f->notify_fd };
	return 2;
}

static void fake_reset(struct transport *t)
{
	struct fake *f = fake_of(t);

	f->resets++;
	sem_post(&f->reset_sem);
}

static void fake_irqs_changed(struct transport *t, uint32_t index)
{
	(void)index;
	fake_of(t)->irqs_changed++;
}

static const struct transport_ops fake_ops = {
	.name = "fake",
	.device_flags = TRANSPORT_DEV_PCI | TRANSPORT_DEV_RESET,
	.num_regions = 9,
	.num_irqs = 5,
	.region_info = fake_region_info,
	.region_read = fake_read,
	.region_write = fake_write,
	.irq_info = fake_irq_info,
	.notify_areas = fake_notify_areas,
	.reset = fake_reset,
	.irqs_changed = fake_irqs_changed,
};

static void cb_attached(void *arg) { ((struct fake *)arg)->attached++; }
static void cb_detached(void *arg) { ((struct fake *)arg)->detached++; }

static void cb_dma_unmapped(void *arg)
{
	struct fake *f = arg;

	f->unmaps++;
	f->windows_at_unmap = f->gm->n;
}

/* ---- the server on its thread -------------------------------------------- */

struct env {
	char dir[64];
	char path[128];
	struct evloop *ev;
	struct gmem gm;
	struct fake fake;
	struct vfio_server *srv;
	int stop_fd;
	struct ev_handler stop_h;
	pthread_t thread;
	unsigned fds_before;
};

static unsigned count_open_fds(void)
{
	unsigned n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static struct evloop *stop_loop;

static void stop_event(struct ev_handler *h, uint32_t events)
{
	uint64_t v;

	(void)events;
	if (read(h->fd, &v, sizeof(v)) < 0)
		return;
	evloop_stop(stop_loop);
}

static void *loop_thread(void *arg)
{
	struct env *e = arg;

	evloop_run(e->ev);
	return NULL;
}

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct vfio_server_cbs cbs = {
		.attached = cb_attached,
		.detached = cb_detached,
		.dma_unmapped = cb_dma_unmapped,
	};

	if (!e)
		return -1;
	e->fds_before = count_open_fds();
	snprintf(e->dir, sizeof(e->dir), "/tmp/vnet-vfs.XXXXXX");
	if (!mkdtemp(e->dir))
		goto fail;
	snprintf(e->path, sizeof(e->path), "%s/dev.vfio", e->dir);
	e->ev = evloop_new();
	gmem_init(&e->gm);
	e->fake.gm = &e->gm;
	e->fake.t.ops = &fake_ops;
	e->fake.notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	sem_init(&e->fake.reset_sem, 0, 0);
	cbs.arg = &e->fake;
	if (!e->ev || e->fake.notify_fd < 0 ||
	    vfio_server_new(&e->srv, e->ev, e->path, &e->fake.t, &e->gm, &cbs) < 0)
		goto fail;
	e->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	stop_loop = e->ev;
	if (ev_add(e->ev, &e->stop_h, e->stop_fd, EPOLLIN, stop_event) < 0)
		goto fail;
	if (pthread_create(&e->thread, NULL, loop_thread, e) != 0)
		goto fail;
	*state = e;
	return 0;
fail:
	/* A broken environment: report it; the process is about to end. */
	free(e);
	return -1;
}

static int env_teardown(void **state)
{
	struct env *e = *state;
	uint64_t one = 1;

	if (write(e->stop_fd, &one, sizeof(one)) != sizeof(one))
		return -1;
	pthread_join(e->thread, NULL);
	ev_del(e->ev, &e->stop_h);
	close(e->stop_fd);
	vfio_server_free(e->srv);
	evloop_free(e->ev);
	gmem_clear(&e->gm);
	close(e->fake.notify_fd);
	sem_destroy(&e->fake.reset_sem);
	/* The server unlinked its socket: the directory must be empty. */
	if (rmdir(e->dir) != 0)
		return -1;
	/* Nothing the server was handed or opened is left open. */
	if (count_open_fds() != e->fds_before) {
		fprintf(stderr, "fd leak: %u open before, %u after\n", e->fds_before,
			count_open_fds());
		return -1;
	}
	free(e);
	return 0;
}

/* Waits for the device reset that ends a client's session. */
static void wait_reset(struct env *e)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	assert_int_equal(sem_timedwait(&e->fake.reset_sem, &ts), 0);
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* ---- raw messages -------------------------------------------------------- */

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void raw_send(int fd, uint16_t id, uint16_t cmd, uint32_t flags,
		     const void *payload, size_t len)
{
	struct vfio_user_header h = { .msg_id = id, .command = cmd, .flags = flags };
	struct iovec iov = { (void *)payload, len };

	assert_int_equal(vfio_user_send(fd, &h, &iov, len ? 1 : 0, NULL, 0, 1000), 0);
}

/* Receives a reply into buf; returns its payload length. */
static uint32_t raw_recv(int fd, struct vfio_user_msg *m, void *buf, uint32_t size)
{
	assert_int_equal(vfio_user_recv(fd, m, buf, size, 3000, 3000), 0);
	return m->len;
}

static void raw_expect_error(int fd, uint16_t id, uint16_t cmd, int err)
{
	struct vfio_user_msg m;
	uint8_t buf[64];

	raw_recv(fd, &m, buf, sizeof(buf));
	assert_int_equal(m.hdr.msg_id, id);
	assert_int_equal(m.hdr.command, cmd);
	assert_int_equal(m.hdr.flags, VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR);
	assert_int_equal(m.hdr.error, err);
	assert_int_equal(m.len, 0);
}

static void raw_expect_eof(int fd)
{
	struct vfio_user_msg m;
	uint8_t buf[64];

	assert_int_equal(vfio_user_recv(fd, &m, buf, sizeof(buf), 5000, 1000),
			 -ECONNRESET);
}

static void raw_version(int fd, uint16_t minor, uint16_t *got_minor)
{
	struct vfio_user_version v = { .major = 0, .minor = minor }, rv;
	struct vfio_user_caps caps;
	struct vfio_user_msg m;
	uint8_t buf[512];
	const char *why;

	raw_send(fd, 1, VFIO_USER_VERSION, 0, &v, sizeof(v));
	raw_recv(fd, &m, buf, sizeof(buf));
	assert_int_equal(m.hdr.flags, VFIO_USER_F_TYPE_REPLY);
	vfio_user_caps_default(&caps);
	assert_int_equal(vfio_user_parse_version(buf, m.len, &rv, &caps, &why), 0);
	assert_int_equal(rv.major, 0);
	assert_int_equal(caps.max_msg_fds, 8);
	assert_int_equal(caps.max_data_xfer_size, 1u << 20);
	assert_int_equal(caps.max_dma_maps, GMEM_MAX_WINDOWS);
	if (got_minor)
		*got_minor = rv.minor;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_open_and_info(void **state)
{
	struct env *e = *state;
	struct vfc_device d;
	struct stat st;

	assert_int_equal(stat(e->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(vfc_open(&d, e->path), 0);
	assert_int_equal(d.server_major, 0);
	assert_int_equal(d.server_minor, 0);
	assert_int_equal(d.server_max_fds, 8);
	assert_int_equal(d.server_max_xfer, 1u << 20);
	assert_int_equal(d.flags, VFC_DEVICE_FLAGS_PCI | VFC_DEVICE_FLAGS_RESET);
	assert_int_equal(d.num_regions, 9);
	assert_int_equal(d.num_irqs, 5);
	assert_int_equal(d.regions[0].size, REGS_SIZE);
	assert_int_equal(d.regions[0].flags, VFC_REGION_READ | VFC_REGION_WRITE);
	assert_int_equal(d.regions[1].size, 0);
	assert_int_equal(d.irq_count[VFC_PCI_MSIX_IRQ], MSIX_VECS);
	assert_int_equal(d.irq_count[VFC_PCI_INTX_IRQ], 1);
	assert_int_equal(d.irq_count[VFC_PCI_MSI_IRQ], 0);
	assert_true(vfio_server_has_client(e->srv));
	assert_int_equal(e->fake.attached, 1);
	vfc_close(&d);
	wait_reset(e);
	assert_int_equal(e->fake.detached, 1);
}

static void test_region_rw(void **state)
{
	struct env *e = *state;
	struct vfc_device d;
	uint8_t out[REGS_SIZE], in[REGS_SIZE];
	uint32_t v32;
	uint16_t v16;
	uint8_t v8;

	assert_int_equal(vfc_open(&d, e->path), 0);
	assert_int_equal(vfc_write32(&d, 0, 8, 0xdeadbeef), 0);
	assert_int_equal(vfc_read32(&d, 0, 8, &v32), 0);
	assert_int_equal(v32, 0xdeadbeef);
	assert_int_equal(vfc_read16(&d, 0, 8, &v16), 0);
	assert_int_equal(v16, 0xbeef);
	assert_int_equal(vfc_read8(&d, 0, 11, &v8), 0);
	assert_int_equal(v8, 0xde);
	assert_int_equal(vfc_write16(&d, 0, 0, 0x1234), 0);
	assert_int_equal(vfc_write8(&d, 0, 2, 0x56), 0);
	assert_int_equal(vfc_read32(&d, 0, 0, &v32), 0);
	assert_int_equal(v32 & 0xffffff, 0x561234);

	for (unsigned i = 0; i < REGS_SIZE; i++)
		out[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(vfc_region_write(&d, 0, 0, out, REGS_SIZE), 0);
	assert_int_equal(vfc_region_read(&d, 0, 0, in, REGS_SIZE), 0);
	assert_memory_equal(in, out, REGS_SIZE);

	/* bad region, offset, length: errors, and the connection lives on */
	assert_int_equal(vfc_read32(&d, 9, 0, &v32), -EINVAL);		/* client-side */
	assert_int_equal(vfc_read32(&d, 1, 0, &v32), -EINVAL);		/* server-side */
	assert_int_equal(vfc_read32(&d, 0, REGS_SIZE - 2, &v32), -EINVAL);
	assert_int_equal(vfc_write32(&d, 0, 1ull << 40, 1), -EINVAL);
	assert_int_equal(vfc_region_read(&d, 0, 0, in, 0), -EINVAL);
	assert_int_equal(vfc_region_read(&d, 0, 0, in, (1u << 20) + 1), -EINVAL);
	assert_int_equal(vfc_read32(&d, 0, 4, &v32), 0);
	vfc_close(&d);
	wait_reset(e);
}

static int make_memfd(size_t size)
{
	int fd = memfd_create("vnet-test-ram", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static void test_dma_map_unmap(void **state)
{
	struct env *e = *state;
	const uint64_t iova = 0x100000, size = 0x10000;
	struct vfc_device d;
	int fd = make_memfd(size * 2);
	uint8_t *mine = mmap(NULL, size * 2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	uint8_t *theirs;

	assert_true(mine != MAP_FAILED);
	memcpy(mine + 0x2000, "guest", 6);
	assert_int_equal(vfc_open(&d, e->path), 0);
	assert_int_equal(vfc_dma_map(&d, iova, size, fd, 0, true), 0);
	theirs = gmem_translate(&e->gm, iova + 0x2000, 6, true);
	assert_non_null(theirs);
	assert_string_equal((char *)theirs, "guest");
	memcpy(theirs, "host", 5);
	assert_string_equal((char *)mine + 0x2000, "host");
	assert_null(gmem_translate(&e->gm, iova + size - 2, 4, false));

	/* a second window of the same file, read-only */
	assert_int_equal(vfc_dma_map(&d, 0x200000, 0x1000, fd, 0x10000, false), 0);
	assert_non_null(gmem_translate(&e->gm, 0x200000, 8, false));
	assert_null(gmem_translate(&e->gm, 0x200000, 8, true));

	/* overlap, beyond the file, size 0 */
	assert_int_equal(vfc_dma_map(&d, iova + 0x1000, 0x1000, fd, 0, true), -EEXIST);
	assert_int_equal(vfc_dma_map(&d, 0x400000, size * 4, fd, 0, true), -EINVAL);
	assert_int_equal(vfc_dma_map(&d, 0x400000, 0x1000, fd, 0x123, true), -EINVAL);
	assert_int_equal(vfc_dma_map(&d, 0x400000, 0, fd, 0, true), -EINVAL);
	assert_int_equal(e->gm.n, 2);

	/* unmap: mismatched (no callback), then exact: the callback runs
	 * once the window is gone, before the reply */
	assert_int_equal(vfc_dma_unmap(&d, iova, size / 2), -ENOENT);
	assert_int_equal(vfc_dma_unmap(&d, iova + 0x1000, size), -ENOENT);
	assert_int_equal(e->fake.unmaps, 0);
	assert_int_equal(vfc_dma_unmap(&d, iova, size), 0);
	assert_int_equal(e->fake.unmaps, 1);
	assert_int_equal(e->fake.windows_at_unmap, 1);
	assert_null(gmem_translate(&e->gm, iova, 1, false));
	assert_int_equal(vfc_dma_unmap(&d, iova, size), -ENOENT);
	assert_int_equal(e->gm.n, 1);

	vfc_close(&d);
	wait_reset(e);
	/* the disconnect unmapped the rest */
	assert_int_equal(e->gm.n, 0);
	munmap(mine, size * 2);
	close(fd);
}

static void test_dma_map_raw_cases(void **state)
{
	struct env *e = *state;
	struct vfio_user_dma_map dm = {
		.argsz = 32, .flags = VFIO_USER_DMA_MAP_F_READ, .address = 0x1000,
		.size = 0x1000,
	};
	struct vfio_user_dma_unmap um = {
		.argsz = 24, .flags = VFIO_USER_DMA_UNMAP_F_ALL,
	}, echo;
	struct vfio_user_msg m;
	struct vfio_user_header h = { .msg_id = 3, .command = VFIO_USER_DMA_MAP };
	struct iovec iov = { &dm, sizeof(dm) };
	int sock = raw_connect(e->path);
	int pfd[2], memfd = make_memfd(0x2000);

	raw_version(sock, 0, NULL);
	/* no fd: we do not do message-based DMA */
	raw_send(sock, 2, VFIO_USER_DMA_MAP, 0, &dm, sizeof(dm));
	raw_expect_error(sock, 2, VFIO_USER_DMA_MAP, ENOTSUP);
	/* an fd that is not a file (a pipe) */
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(vfio_user_send(sock, &h, &iov, 1, &pfd[0], 1, 1000), 0);
	raw_expect_error(sock, 3, VFIO_USER_DMA_MAP, EINVAL);
	close(pfd[0]);
	close(pfd[1]);
	/* two windows, then unmap-all: the reply echoes the request */
	assert_int_equal(vfio_user_send(sock, &h, &iov, 1, &memfd, 1, 1000), 0);
	raw_recv(sock, &m, &echo, sizeof(echo));
	assert_int_equal(m.hdr.flags, VFIO_USER_F_TYPE_REPLY);
	dm.address = 0x8000;
	dm.offset = 0x1000;
	assert_int_equal(vfio_user_send(sock, &h, &iov, 1, &memfd, 1, 1000), 0);
	raw_recv(sock, &m, &echo, sizeof(echo));
	assert_int_equal(m.hdr.flags, VFIO_USER_F_TYPE_REPLY);
	assert_int_equal(e->gm.n, 2);
	raw_send(sock, 4, VFIO_USER_DMA_UNMAP, 0, &um, sizeof(um));
	assert_int_equal(raw_recv(sock, &m, &echo, sizeof(echo)), 24);
	assert_int_equal(echo.flags, VFIO_USER_DMA_UNMAP_F_ALL);
	assert_int_equal(e->gm.n, 0);
	close(memfd);
	close(sock);
	wait_reset(e);
}

/* ---- dirty-page logging (DEVICE_FEATURE DMA_LOGGING_*) ------------------ */

#define F_GET	(1u << 16)
#define F_SET	(1u << 17)
#define F_PROBE (1u << 18)

/* A DEVICE_FEATURE request: argsz, flags, then data. */
static void feature_send(int sock, uint16_t id, uint32_t argsz, uint32_t flags,
			 const void *data, uint32_t len)
{
	uint8_t buf[256];

	memcpy(buf, &argsz, 4);
	memcpy(buf + 4, &flags, 4);
	if (len)
		memcpy(buf + 8, data, len);
	raw_send(sock, id, VFIO_USER_DEVICE_FEATURE, 0, buf, 8 + len);
}

/* REPORT of [iova, iova+length) at page size ps: the bitmap's first
 * word, after checking the reply's framing. */
static uint64_t report(int sock, uint16_t id, uint64_t iova, uint64_t length, uint64_t ps)
{
	uint64_t q[3] = { iova, length, ps }, bits;
	uint8_t buf[256];
	struct vfio_user_msg m;
	uint32_t argsz, words = (uint32_t)((length / ps + 63) / 64);

	feature_send(sock, id, 256, 8 | F_GET, q, sizeof(q));
	assert_int_equal(raw_recv(sock, &m, buf, sizeof(buf)), 8 + 24 + 8 * words);
	assert_int_equal(m.hdr.flags, VFIO_USER_F_TYPE_REPLY);
	memcpy(&argsz, buf, 4);
	assert_int_equal(argsz, 8 + 24 + 8 * words);
	assert_memory_equal(buf + 8, q, sizeof(q));
	memcpy(&bits, buf + 32, 8);
	return bits;
}

static void test_dma_logging(void **state)
{
	struct env *e = *state;
	struct vfio_user_dma_map dm = {
		.argsz = 32, .flags = VFIO_USER_DMA_MAP_F_READ | VFIO_USER_DMA_MAP_F_WRITE,
		.address = 0x10000, .size = 0x4000,
	};
	struct vfio_user_header h = { .msg_id = 2, .command = VFIO_USER_DMA_MAP };
	struct iovec iov = { &dm, sizeof(dm) };
	struct { uint64_t page_size; uint32_t n, reserved; uint64_t iova, length; } start = {
		3000, 1, 0, 0x10000, 0x4000,	/* 3000: a hint we cannot take */
	};
	struct vfio_user_msg m;
	uint8_t buf[256], *hva;
	int sock = raw_connect(e->path), memfd = make_memfd(0x4000);
	uint64_t q[3] = { 0x10000, 0x4000, 4096 };

	raw_version(sock, 0, NULL);
	assert_int_equal(vfio_user_send(sock, &h, &iov, 1, &memfd, 1, 1000), 0);
	raw_recv(sock, &m, buf, sizeof(buf));
	assert_int_equal(m.hdr.flags, VFIO_USER_F_TYPE_REPLY);
	/* Probes: START and STOP are SET features, REPORT a GET one. */
	feature_send(sock, 3, 8, 6 | F_PROBE | F_SET, NULL, 0);
	assert_int_equal(raw_recv(sock, &m, buf, sizeof(buf)), 8);
	feature_send(sock, 4, 8, 8 | F_PROBE | F_SET, NULL, 0);
	raw_expect_error(sock, 4, VFIO_USER_DEVICE_FEATURE, ENOTSUP);
	/* Nothing to report before a start. */
	feature_send(sock, 5, 256, 8 | F_GET, q, sizeof(q));
	raw_expect_error(sock, 5, VFIO_USER_DEVICE_FEATURE, ENOENT);
	/* Ranges the log refuses: overlapping, unaligned, too many, a
	 * length field that disagrees with the message. */
	{
		struct { uint64_t page_size; uint32_t n, reserved; uint64_t r[4]; } bad = {
			4096, 2, 0, { 0x10000, 0x2000, 0x11000, 0x1000 },
		};

		feature_send(sock, 20, 64, 6 | F_SET, &bad, sizeof(bad));
		raw_expect_error(sock, 20, VFIO_USER_DEVICE_FEATURE, EINVAL);	/* overlap */
		bad.r[2] = 0x12000;
		bad.r[3] = 0x800;
		feature_send(sock, 21, 64, 6 | F_SET, &bad, sizeof(bad));
		raw_expect_error(sock, 21, VFIO_USER_DEVICE_FEATURE, EINVAL);	/* unaligned */
		bad.n = 17;
		feature_send(sock, 22, 64, 6 | F_SET, &bad, sizeof(bad));
		raw_expect_error(sock, 22, VFIO_USER_DEVICE_FEATURE, E2BIG);
		bad.n = 1;
		feature_send(sock, 23, 64, 6 | F_SET, &bad, sizeof(bad));	/* 2 sent */
		raw_expect_error(sock, 23, VFIO_USER_DEVICE_FEATURE, EINVAL);
		assert_null(e->gm.log);
	}
	/* START: the page size we took comes back in the reply. */
	feature_send(sock, 6, 8 + sizeof(start), 6 | F_SET, &start, sizeof(start));
	assert_int_equal(raw_recv(sock, &m, buf, sizeof(buf)), 8 + sizeof(start));
	memcpy(&start.page_size, buf + 8, 8);
	assert_int_equal(start.page_size, 4096);
	feature_send(sock, 7, 8 + sizeof(start), 6 | F_SET, &start, sizeof(start));
	raw_expect_error(sock, 7, VFIO_USER_DEVICE_FEATURE, EBUSY);
	/* What the device writes (as its write paths do: gmem_log_write)
	 * shows, once: pages 1, 2 and 3. */
	hva = gmem_translate(&e->gm, 0x10000, 0x4000, true);
	assert_non_null(hva);
	gmem_log_write(&e->gm, hva + 0x1005, 10);
	gmem_log_write(&e->gm, hva + 0x2ff0, 0x20);
	assert_int_equal(report(sock, 8, 0x10000, 0x4000, 4096), 0xe);
	assert_int_equal(report(sock, 9, 0x10000, 0x4000, 4096), 0);
	/* Other report page sizes: 8 KiB units aggregate, 2 KiB repeat. */
	gmem_log_write(&e->gm, hva, 1);
	assert_int_equal(report(sock, 10, 0x10000, 0x4000, 8192), 0x1);
	gmem_log_write(&e->gm, hva + 0x1000, 1);
	assert_int_equal(report(sock, 11, 0x10000, 0x4000, 2048), 0xc);
	/* A part of the range; refusals that name their reason in the log. */
	gmem_log_write(&e->gm, hva + 0x3000, 1);
	assert_int_equal(report(sock, 12, 0x13000, 0x1000, 4096), 0x1);
	q[0] = 0x13000;
	q[1] = 0x2000;	/* past the logged range */
	feature_send(sock, 13, 256, 8 | F_GET, q, sizeof(q));
	raw_expect_error(sock, 13, VFIO_USER_DEVICE_FEATURE, EINVAL);
	q[0] = 0x10000;
	q[1] = 0x4000;
	q[2] = 3000;
	feature_send(sock, 14, 256, 8 | F_GET, q, sizeof(q));
	raw_expect_error(sock, 14, VFIO_USER_DEVICE_FEATURE, EINVAL);
	q[2] = 4096;
	feature_send(sock, 15, 16, 8 | F_GET, q, sizeof(q));	/* argsz too small */
	raw_expect_error(sock, 15, VFIO_USER_DEVICE_FEATURE, E2BIG);
	feature_send(sock, 16, 256, 8 | F_GET | F_SET, q, sizeof(q));
	raw_expect_error(sock, 16, VFIO_USER_DEVICE_FEATURE, EINVAL);
	/* STOP, and it is gone. */
	feature_send(sock, 17, 8, 7 | F_SET, NULL, 0);
	assert_int_equal(raw_recv(sock, &m, buf, sizeof(buf)), 8);
	assert_null(e->gm.log);
	feature_send(sock, 18, 8, 7 | F_SET, NULL, 0);
	raw_expect_error(sock, 18, VFIO_USER_DEVICE_FEATURE, EINVAL);
	/* No ranges: every mapped window; a client that leaves ends it. */
	start.n = 0;
	feature_send(sock, 19, 24, 6 | F_SET, &start, 16);
	assert_int_equal(raw_recv(sock, &m, buf, sizeof(buf)), 24);
	assert_non_null(e->gm.log);
	close(memfd);
	close(sock);
	wait_reset(e);
	assert_null(e->gm.log);
}

static void test_set_irqs_and_fire(void **state)
{
	struct env *e = *state;
	struct vfc_device d;
	int efd[MSIX_VECS], fds[MSIX_VECS], pfd[2];
	uint64_t v;

	for (unsigned i = 0; i < MSIX_VECS; i++)
		efd[i] = eventfd(0, EFD_CLOEXEC);	/* blocking on purpose */
	assert_int_equal(vfc_open(&d, e->path), 0);
	assert_int_equal(vfc_set_irq_eventfds(&d, VFC_PCI_MSIX_IRQ, 0, MSIX_VECS, efd), 0);
	for (unsigned i = 0; i < MSIX_VECS; i++)
		assert_true(e->fake.t.irqs.fd[TRANSPORT_IRQ_MSIX][i] >= 0);
	assert_true(e->fake.irqs_changed > 0);
	/* the server made them non-blocking: an interrupt never blocks it */
	assert_true(fcntl(efd[0], F_GETFL) & O_NONBLOCK);

	assert_false(readable(efd[1], 0));
	assert_true(transport_fire(&e->fake.t, TRANSPORT_IRQ_MSIX, 1));
	assert_true(readable(efd[1], 1000));
	assert_int_equal(read(efd[1], &v, sizeof(v)), sizeof(v));
	assert_int_equal(v, 1);
	assert_false(readable(efd[0], 0));

	/* a run with holes: vector 1 unbound, the others rebound */
	fds[0] = efd[0];
	fds[1] = -1;
	fds[2] = efd[2];
	fds[3] = efd[3];
	assert_int_equal(vfc_set_irq_eventfds(&d, VFC_PCI_MSIX_IRQ, 0, MSIX_VECS, fds), 0);
	assert_int_equal(e->fake.t.irqs.fd[TRANSPORT_IRQ_MSIX][1], -1);
	assert_false(transport_fire(&e->fake.t, TRANSPORT_IRQ_MSIX, 1));
	assert_true(transport_fire(&e->fake.t, TRANSPORT_IRQ_MSIX, 3));
	assert_true(readable(efd[3], 1000));

	/* out of range, not an eventfd */
	assert_int_equal(vfc_set_irq_eventfds(&d, VFC_PCI_MSIX_IRQ, 3, 2, efd), -EINVAL);
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(vfc_set_irq_eventfds(&d, VFC_PCI_MSIX_IRQ, 0, 1, &pfd[1]), -EINVAL);
	close(pfd[0]);
	close(pfd[1]);
	assert_true(e->fake.t.irqs.fd[TRANSPORT_IRQ_MSIX][0] >= 0);

	/* INTx: mask and unmask */
	assert_int_equal(vfc_set_irq_eventfds(&d, VFC_PCI_INTX_IRQ, 0, 1, &efd[0]), 0);
	{
		struct vfio_user_irq_set is = {
			.argsz = sizeof(is), .index = VFC_PCI_INTX_IRQ, .start = 0,
			.count = 1,
			.flags = VFIO_USER_IRQ_SET_DATA_NONE | VFIO_USER_IRQ_SET_ACTION_MASK,
		};
		int sock = d.sock;	/* borrow the client's socket for one raw command */
		struct vfio_user_msg m;

		raw_send(sock, 999, VFIO_USER_DEVICE_SET_IRQS, 0, &is, sizeof(is));
		raw_recv(sock, &m, NULL, 0);
		assert_int_equal(m.hdr.flags, VFIO_USER_F_TYPE_REPLY);
	}
	assert_true(e->fake.t.irqs.masked[TRANSPORT_IRQ_INTX][0]);
	assert_false(transport_fire(&e->fake.t, TRANSPORT_IRQ_INTX, 0));
	assert_int_equal(vfc_unmask_irq(&d, VFC_PCI_INTX_IRQ, 0), 0);
	assert_false(e->fake.t.irqs.masked[TRANSPORT_IRQ_INTX][0]);
	assert_true(transport_fire(&e->fake.t, TRANSPORT_IRQ_INTX, 0));
	/* MSI-X is not maskable through SET_IRQS here */
	assert_int_equal(vfc_unmask_irq(&d, VFC_PCI_MSIX_IRQ, 0), -EINVAL);

	/* disable a whole index */
	assert_int_equal(vfc_disable_irqs(&d, VFC_PCI_MSIX_IRQ), 0);
	for (unsigned i = 0; i < MSIX_VECS; i++)
		assert_int_equal(e->fake.t.irqs.fd[TRANSPORT_IRQ_MSIX][i], -1);

	/* disconnect closes the rest (INTx) */
	vfc_close(&d);
	wait_reset(e);
	assert_int_equal(e->fake.t.irqs.fd[TRANSPORT_IRQ_INTX][0], -1);
	for (unsigned i = 0; i < MSIX_VECS; i++)
		close(efd[i]);
}

static void test_region_io_fds(void **state)
{
	struct env *e = *state;
	struct vfc_device d;
	struct vfc_iofd io[8];
	uint64_t v = 1;

	assert_int_equal(vfc_open(&d, e->path), 0);
	assert_int_equal(vfc_get_region_io_fds(&d, 0, io, 8), 2);
	assert_int_equal(io[0].offset, NOTIFY_OFF);
	assert_int_equal(io[0].size, 2);
	assert_int_equal(io[1].offset, NOTIFY_OFF + 4);
	assert_false(io[0].has_datamatch);
	assert_int_equal(io[0].fd, io[1].fd);	/* one fd, shared */
	assert_false(readable(e->fake.notify_fd, 0));
	assert_int_equal(write(io[0].fd, &v, sizeof(v)), sizeof(v));
	assert_true(readable(e->fake.notify_fd, 1000));
	assert_int_equal(read(e->fake.notify_fd, &v, sizeof(v)), sizeof(v));
	assert_int_equal(v, 1);
	vfc_close_iofds(io, 2);
	assert_int_equal(io[0].fd, -1);

	/* room for one only */
	assert_int_equal(vfc_get_region_io_fds(&d, 0, io, 1), 1);
	vfc_close_iofds(io, 1);
	/* a region without doorbells, and a bad region */
	assert_int_equal(vfc_get_region_io_fds(&d, 1, io, 8), 0);
	assert_int_equal(vfc_get_region_io_fds(&d, 9, io, 8), -EINVAL);
	vfc_close(&d);
	wait_reset(e);
}

/* A client whose argsz is too small for the entries gets the fixed part
 * with the size needed, and no fds. */
static void test_region_io_fds_small_argsz(void **state)
{
	struct env *e = *state;
	struct vfio_user_region_io_fds req = { .argsz = 16, .index = 0 }, rep;
	struct vfio_user_msg m;
	int sock = raw_connect(e->path);

	raw_version(sock, 0, NULL);
	raw_send(sock, 5, VFIO_USER_DEVICE_GET_REGION_IO_FDS, 0, &req, sizeof(req));
	assert_int_equal(raw_recv(sock, &m, &rep, sizeof(rep)), 16);
	assert_int_equal(m.nfds, 0);
	assert_int_equal(rep.count, 2);
	assert_int_equal(rep.argsz, 16 + 2 * 40);
	close(sock);
	wait_reset(e);
}

static void test_reset(void **state)
{
	struct env *e = *state;
	struct vfc_device d;

	assert_int_equal(vfc_open(&d, e->path), 0);
	assert_int_equal(vfc_reset(&d), 0);
	wait_reset(e);
	assert_int_equal(e->fake.resets, 1);
	vfc_close(&d);
	wait_reset(e);
}

static void test_second_client_busy(void **state)
{
	struct env *e = *state;
	struct vfc_device d1, d2;

	assert_int_equal(vfc_open(&d1, e->path), 0);
	assert_int_equal(vfc_open(&d2, e->path), -EBUSY);
	assert_int_equal(vfc_open(&d2, e->path), -EBUSY);
	/* the first client is undisturbed */
	assert_int_equal(vfc_write32(&d1, 0, 0, 7), 0);
	vfc_close(&d1);
	wait_reset(e);
	assert_int_equal(vfc_open(&d2, e->path), 0);
	vfc_close(&d2);
	wait_reset(e);
}

static void test_garbage_then_new_client(void **state)
{
	struct env *e = *state;
	uint8_t junk[8] = { 0 }, buf[64];
	struct vfio_user_device_info info = { .argsz = 16 };
	struct vfio_user_region_access bad = { .region = 5, .count = 4 };
	struct vfio_user_msg m;
	struct vfc_device d;
	uint16_t minor;
	int sock;

	memset(buf, 0, sizeof(buf));
	/* error replies, and the connection lives on */
	sock = raw_connect(e->path);
	raw_version(sock, 5, &minor);
	assert_int_equal(minor, 2);		/* min(client's, 2) */
	raw_send(sock, 2, VFIO_USER_DMA_MAP, 0, junk, sizeof(junk));	/* short */
	raw_expect_error(sock, 2, VFIO_USER_DMA_MAP, EINVAL);
	raw_send(sock, 3, 99, 0, NULL, 0);				/* unknown */
	raw_expect_error(sock, 3, 99, EINVAL);
	{
		/* DEVICE_FEATURE of a feature we do not serve (MIGRATION is
		 * 1): the spec's ENOTSUP; a malformed one is EINVAL. */
		uint32_t feat[2] = { 8, 1 | (1u << 16) };

		raw_send(sock, 30, VFIO_USER_DEVICE_FEATURE, 0, feat, sizeof(feat));
		raw_expect_error(sock, 30, VFIO_USER_DEVICE_FEATURE, ENOTSUP);
		raw_send(sock, 31, VFIO_USER_DEVICE_FEATURE, 0, feat, 4);
		raw_expect_error(sock, 31, VFIO_USER_DEVICE_FEATURE, EINVAL);
	}
	raw_send(sock, 4, VFIO_USER_VERSION, 0, junk, 4);		/* again */
	raw_expect_error(sock, 4, VFIO_USER_VERSION, EINVAL);
	raw_send(sock, 5, VFIO_USER_DEVICE_GET_INFO, 0, buf, 40);	/* long */
	raw_expect_error(sock, 5, VFIO_USER_DEVICE_GET_INFO, EINVAL);
	/* a failing NO_REPLY command gets no answer: the next reply is 6's */
	raw_send(sock, 6, VFIO_USER_REGION_READ, VFIO_USER_F_NO_REPLY, &bad, sizeof(bad));
	raw_send(sock, 7, VFIO_USER_DEVICE_GET_INFO, 0, &info, sizeof(info));
	assert_int_equal(raw_recv(sock, &m, buf, sizeof(buf)), 16);
	assert_int_equal(m.hdr.msg_id, 7);
	/* then a header whose size is below 16: framing lost, closed */
	{
		struct vfio_user_header h = { .msg_id = 8, .command = 4, .size = 8 };

		assert_int_equal(write(sock, &h, sizeof(h)), sizeof(h));
	}
	raw_expect_eof(sock);
	close(sock);
	wait_reset(e);

	/* something other than VERSION first: EINVAL, closed */
	sock = raw_connect(e->path);
	raw_send(sock, 1, VFIO_USER_DEVICE_GET_INFO, 0, &info, sizeof(info));
	raw_expect_error(sock, 1, VFIO_USER_DEVICE_GET_INFO, EINVAL);
	raw_expect_eof(sock);
	close(sock);

	/* a major we do not speak */
	sock = raw_connect(e->path);
	{
		struct vfio_user_version v = { .major = 1, .minor = 0 };

		raw_send(sock, 1, VFIO_USER_VERSION, 0, &v, sizeof(v));
	}
	raw_expect_error(sock, 1, VFIO_USER_VERSION, EINVAL);
	raw_expect_eof(sock);
	close(sock);

	/* garbage JSON in VERSION */
	sock = raw_connect(e->path);
	{
		uint8_t vj[4 + 8] = { 0, 0, 0, 0, '{', '"', 'x', 0 };

		raw_send(sock, 1, VFIO_USER_VERSION, 0, vj, 8);
	}
	raw_expect_error(sock, 1, VFIO_USER_VERSION, EINVAL);
	raw_expect_eof(sock);
	close(sock);

	/* a message larger than any we accept */
	sock = raw_connect(e->path);
	raw_version(sock, 0, NULL);
	{
		struct vfio_user_header h = { .msg_id = 9, .command = 10,
					      .size = VFIO_USER_MAX_MSG + 1 };

		assert_int_equal(write(sock, &h, sizeof(h)), sizeof(h));
	}
	raw_expect_eof(sock);
	close(sock);
	wait_reset(e);

	/* and a well-behaved client is served afterwards */
	assert_int_equal(vfc_open(&d, e->path), 0);
	assert_int_equal(vfc_write32(&d, 0, 0, 1), 0);
	vfc_close(&d);
	wait_reset(e);
}

/* Half a message, then silence: the server drops the client after its
 * bounded wait instead of hanging. */
static void test_stalled_client_dropped(void **state)
{
	struct env *e = *state;
	struct vfc_device d;
	uint8_t half[6] = { 1, 0, 4, 0, 32, 0 };
	int sock = raw_connect(e->path);

	raw_version(sock, 0, NULL);
	assert_int_equal(write(sock, half, sizeof(half)), sizeof(half));
	raw_expect_eof(sock);
	close(sock);
	wait_reset(e);
	assert_int_equal(vfc_open(&d, e->path), 0);
	vfc_close(&d);
	wait_reset(e);
}

/* A refused client that never sends its VERSION is closed in time, and
 * does not hold up the device's own client. */
static void test_silent_second_client(void **state)
{
	struct env *e = *state;
	struct vfc_device d;
	int sock;

	assert_int_equal(vfc_open(&d, e->path), 0);
	sock = raw_connect(e->path);
	assert_int_equal(vfc_write32(&d, 0, 0, 7), 0);
	raw_expect_eof(sock);
	close(sock);
	vfc_close(&d);
	wait_reset(e);
}

/* ---- the socket node ------------------------------------------------------ */

static void test_socket_path_rules(void **state)
{
	struct env *e = *state;
	struct evloop *ev2 = evloop_new();
	struct vfio_server *s2 = NULL;
	struct gmem gm2;
	struct fake f2 = { .t.ops = &fake_ops, .notify_fd = -1 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char stale[160], plain[160];
	int fd;

	assert_non_null(ev2);
	gmem_init(&gm2);
	/* a live server holds the path */
	assert_int_equal(vfio_server_new(&s2, ev2, e->path, &f2.t, &gm2, NULL), -EADDRINUSE);

	/* a stale node (bound, nobody listening) is replaced */
	snprintf(stale, sizeof(stale), "%s/stale.vfio", e->dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(strlen(stale) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, stale, strlen(stale) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(vfio_server_new(&s2, ev2, stale, &f2.t, &gm2, NULL), 0);
	vfio_server_free(s2);
	assert_int_equal(access(stale, F_OK), -1);

	/* a file that is not a socket is left alone */
	snprintf(plain, sizeof(plain), "%s/plain", e->dir);
	fd = open(plain, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(vfio_server_new(&s2, ev2, plain, &f2.t, &gm2, NULL), -EEXIST);
	assert_int_equal(access(plain, F_OK), 0);
	unlink(plain);
	evloop_free(ev2);
}


/* ---- the client against a misbehaving server ------------------------------ */

enum evil_mode {
	EVIL_WRONG_ID,		/* VERSION reply with another msg_id */
	EVIL_BAD_MAJOR,		/* VERSION reply 1.0 */
	EVIL_MANY_REGIONS,	/* GET_INFO: 100 regions */
	EVIL_SHORT_INFO,	/* GET_INFO reply of 8 bytes */
	EVIL_DMA_COMMAND,	/* a DMA_WRITE before the GET_INFO reply */
};

struct evil {
	char dir[64];
	char path[128];
	int lsock;
	enum evil_mode mode;
	bool saw_refusal;
	pthread_t thread;
};

static void evil_reply(int sock, const struct vfio_user_header *req, uint16_t id,
		       const void *p, size_t len)
{
	struct vfio_user_header h = { .msg_id = id, .command = req->command,
				      .flags = VFIO_USER_F_TYPE_REPLY };
	struct iovec iov = { (void *)p, len };

	vfio_user_send(sock, &h, &iov, len ? 1 : 0, NULL, 0, 1000);
}

static void *evil_thread(void *arg)
{
	struct evil *ev = arg;
	int sock = accept4(ev->lsock, NULL, NULL, SOCK_CLOEXEC);
	uint8_t buf[4096];
	struct vfio_user_msg m;

	while (sock >= 0 && vfio_user_recv(sock, &m, buf, sizeof(buf), 3000, 1000) == 0) {
		vfio_user_msg_close_fds(&m);
		if (m.hdr.command == VFIO_USER_VERSION &&
		    (m.hdr.flags & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_COMMAND) {
			struct vfio_user_version v = {
				.major = ev->mode == EVIL_BAD_MAJOR ? 1 : 0,
			};

			evil_reply(sock, &m.hdr,
				   (uint16_t)(m.hdr.msg_id + (ev->mode == EVIL_WRONG_ID)),
				   &v, sizeof(v));
		} else if (m.hdr.command == VFIO_USER_DEVICE_GET_INFO) {
			struct vfio_user_device_info info = {
				.argsz = 16,
				.num_regions = ev->mode == EVIL_MANY_REGIONS ? 100 : 0,
			};

			if (ev->mode == EVIL_DMA_COMMAND) {
				struct vfio_user_header h = { .msg_id = 77,
							      .command = VFIO_USER_DMA_WRITE };
				struct vfio_user_dma_access a = { .address = 0, .count = 4 };
				struct iovec iov[2] = { { &a, sizeof(a) }, { "abcd", 4 } };

				vfio_user_send(sock, &h, iov, 2, NULL, 0, 1000);
			}
			evil_reply(sock, &m.hdr, m.hdr.msg_id, &info,
				   ev->mode == EVIL_SHORT_INFO ? 8 : sizeof(info));
		} else if (m.hdr.msg_id == 77 && (m.hdr.flags & VFIO_USER_F_ERROR) &&
			   m.hdr.error == ENOTSUP) {
			ev->saw_refusal = true;
		}
	}
	if (sock >= 0)
		close(sock);
	return NULL;
}

static void evil_start(struct evil *ev, enum evil_mode mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(ev, 0, sizeof(*ev));
	ev->mode = mode;
	snprintf(ev->dir, sizeof(ev->dir), "/tmp/vnet-evil.XXXXXX");
	assert_non_null(mkdtemp(ev->dir));
	snprintf(ev->path, sizeof(ev->path), "%s/s", ev->dir);
	ev->lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(ev->lsock >= 0);
	memcpy(sa.sun_path, ev->path, strlen(ev->path) + 1);
	assert_int_equal(bind(ev->lsock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ev->lsock, 1), 0);
	assert_int_equal(pthread_create(&ev->thread, NULL, evil_thread, ev), 0);
}

static void evil_stop(struct evil *ev)
{
	pthread_join(ev->thread, NULL);
	close(ev->lsock);
	unlink(ev->path);
	rmdir(ev->dir);
}

static void test_client_rejects_bad_replies(void **state)
{
	static const struct {
		enum evil_mode mode;
		int rc;
	} cases[] = {
		{ EVIL_WRONG_ID, -EPROTO },
		{ EVIL_BAD_MAJOR, -EPROTO },
		{ EVIL_MANY_REGIONS, -EPROTO },
		{ EVIL_SHORT_INFO, -EPROTO },
	};
	struct vfc_device d;
	struct evil ev;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		evil_start(&ev, cases[i].mode);
		assert_int_equal(vfc_open(&d, ev.path), cases[i].rc);
		assert_int_equal(d.sock, -1);
		evil_stop(&ev);
	}
}

static void test_client_refuses_server_dma(void **state)
{
	struct vfc_device d;
	struct evil ev;

	(void)state;
	evil_start(&ev, EVIL_DMA_COMMAND);
	assert_int_equal(vfc_open(&d, ev.path), 0);
	assert_int_equal(d.num_regions, 0);
	vfc_close(&d);
	evil_stop(&ev);
	assert_true(ev.saw_refusal);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define ST(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)
		ST(test_open_and_info),
		ST(test_region_rw),
		ST(test_dma_map_unmap),
		ST(test_dma_map_raw_cases),
		ST(test_dma_logging),
		ST(test_set_irqs_and_fire),
		ST(test_region_io_fds),
		ST(test_region_io_fds_small_argsz),
		ST(test_reset),
		ST(test_second_client_busy),
		ST(test_garbage_then_new_client),
		ST(test_stalled_client_dropped),
		ST(test_silent_second_client),
		ST(test_socket_path_rules),
#undef ST
		cmocka_unit_test(test_client_rejects_bad_replies),
		cmocka_unit_test(test_client_refuses_server_dma),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
