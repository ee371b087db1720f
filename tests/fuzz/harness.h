/* SPDX-License-Identifier: MIT */
/*
 * harness.h - what the libFuzzer targets in tests/fuzz/ share: a reader
 * that takes typed values from the input (zeros once it runs out, so every
 * input is a complete run), memfds holding input bytes, a guest-memory
 * window, and a quiet log.  Header-only: each target is one program.
 *
 * A harness calls the project's real entry points with exactly the setup
 * their real callers guarantee; whatever a guest, peer or frontend could
 * write comes from the input.  An invariant a harness checks on its own
 * fails with FUZZ_CHECK, which aborts (a crash libFuzzer saves).
 */
#ifndef VNET_TESTS_FUZZ_HARNESS_H
#define VNET_TESTS_FUZZ_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <ftw.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "host/dev/vdev.h"
#include "host/evloop.h"
#include "host/face/attach.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static inline void fuzz_rm_run_dir(void);

/* The run directory goes first: libFuzzer's SIGABRT handler ends the
 * process with _Exit, past the atexit that would remove it. */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n",  \
				__FILE__, __LINE__, #cond);                    \
			fuzz_rm_run_dir();                                     \
			abort();                                               \
		}                                                              \
	} while (0)

struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline void fin_init(struct fuzz_in *in, const uint8_t *data, size_t size)
{
	in->p = data;
	in->left = size;
}

/* Up to n bytes into out, zero-filled past the end of the input. */
static inline void fin_bytes(struct fuzz_in *in, void *out, size_t n)
{
	size_t k = n < in->left ? n : in->left;

	if (k)
		memcpy(out, in->p, k);
	if (k < n)
		memset((uint8_t *)out + k, 0, n - k);
	in->p += k;
	in->left -= k;
}

static inline uint8_t fin_u8(struct fuzz_in *in)
{
	uint8_t v;

	fin_bytes(in, &v, 1);
	return v;
}

static inline uint16_t fin_u16(struct fuzz_in *in)
{
	uint16_t v;

	fin_bytes(in, &v, 2);
	return v;
}

static inline uint32_t fin_u32(struct fuzz_in *in)
{
	uint32_t v;

	fin_bytes(in, &v, 4);
	return v;
}

static inline uint64_t fin_u64(struct fuzz_in *in)
{
	uint64_t v;

	fin_bytes(in, &v, 8);
	return v;
}

/* A memfd of size bytes (sparse) whose start holds data[0, len). -1 on
 * failure (the harness then skips the input: the machine, not the code
 * under test, failed). */
static inline int fuzz_memfd(const char *name, uint64_t size, const void *data,
			     size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) != 0 ||
	    (len && pwrite(fd, data, len < size ? len : size, 0) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Page-aligned, zeroed memory standing for a guest's RAM. */
static inline uint8_t *fuzz_guest_ram(size_t size)
{
	uint8_t *p = aligned_alloc(4096, size);

	if (!p)
		abort();
	memset(p, 0, size);
	return p;
}

static bool fuzz_verbose;

/* Errors the code under test logs are expected (the input is hostile);
 * keep them off the fuzzer's output unless FUZZ_VERBOSE is set, which
 * also turns on FUZZ_TRACE (to see where a seed goes:
 * FUZZ_VERBOSE=1 build-fuzz/fuzz_vq tests/fuzz/corpus/vq/seed-split). */
static inline void fuzz_quiet(void)
{
	fuzz_verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (!fuzz_verbose)
		log_set_level(LOG_ERR);
}

#define FUZZ_TRACE(...)                                                        \
	do {                                                                   \
		if (fuzz_verbose)                                              \
			fprintf(stderr, __VA_ARGS__);                          \
	} while (0)

static inline void fuzz_pump_stop(void *arg)
{
	evloop_stop(arg);
}

/* One pass of the event loop in this thread: whatever is ready now is
 * dispatched (and the timers due run), then evloop_run returns.  Times
 * passes, for a message and what it triggers. */
static inline void fuzz_pump(struct evloop *ev, unsigned times)
{
	for (unsigned i = 0; i < times; i++) {
		if (ev_timer(ev, 0, fuzz_pump_stop, ev) < 0 || evloop_run(ev) < 0)
			abort();
	}
}

/* ---- a live vdev and a client of its socket (vhost-user, vfio-user) ---- */

static char fuzz_run_dir[64];

static inline int fuzz_rm_one(const char *path, const struct stat *st, int flag,
			      struct FTW *ftw)
{
	return remove(path) != 0 && errno != ENOENT;
}

/* At exit (the end of a timed run): the run directory goes. */
static inline void fuzz_rm_run_dir(void)
{
	if (fuzz_run_dir[0])
		(void)nftw(fuzz_run_dir, fuzz_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* The run directory /tmp/vnet-fuzz-<tag>.XXXXXX with the system
 * directory "s" in it, made on the first call (the tag of later calls is
 * not used) and removed at exit. */
static inline const char *fuzz_make_run_dir(const char *tag)
{
	char *dir = fuzz_run_dir;
	char sys[80];

	if (dir[0])
		return dir;
	snprintf(dir, sizeof(fuzz_run_dir), "/tmp/vnet-fuzz-%s.XXXXXX", tag);
	if (!mkdtemp(dir))
		abort();
	atexit(fuzz_rm_run_dir);
	snprintf(sys, sizeof(sys), "%s/s", dir);
	if (mkdir(sys, 0700))
		abort();
	return dir;
}

/* A vdev as vnet-host makes it (attach_vdev) from the options vo, which
 * must outlive it, in system "s" of the run directory, on ev. */
static inline struct vdev *fuzz_attach_vdev(struct evloop *ev, const struct vdev_opts *vo)
{
	struct vdev *vd;

	if (!fuzz_run_dir[0] || attach_vdev(&vd, ev, fuzz_run_dir, "s", vo, false, NULL) != 0)
		abort();
	return vd;
}

/* A sanitizer's report (ASan, and UBSan, which is fatal here) ends the
 * process without atexit too, and libFuzzer keeps the one death callback
 * for itself; these hooks, which the runtimes call on every report,
 * remove the run directory first.  (A timeout's _Exit still leaves it.) */
void __asan_on_error(void);
void __ubsan_on_report(void);
void __asan_on_error(void) { fuzz_rm_run_dir(); }
void __ubsan_on_report(void) { fuzz_rm_run_dir(); }

/* A virtio-net vdev as vnet-host makes it (attach_vdev), system "s",
 * name "f", in a fresh run directory /tmp/vnet-fuzz-<tag>.XXXXXX (removed
 * at exit), on its own event loop (*ev_out): served over vfio-user at
 * vd->socket_path or, with vhost_user, a vhost-user backend listening
 * there.  The options must outlive the vdev, so they are static: one vdev
 * per process. */
static inline struct vdev *fuzz_live_vdev(const char *tag, bool vhost_user,
					  struct evloop **ev_out)
{
	static struct vdev_opts vo;
	const char *dir = fuzz_make_run_dir(tag);

	snprintf(vo.origin, sizeof(vo.origin), "fuzz");
	vo.has_name = true;
	snprintf(vo.name, sizeof(vo.name), "f");
	vo.has_mac = true;
	memcpy(vo.mac, "\x52\x54\x00\x00\x07\x01", 6);
	if (vhost_user) {
		vo.has_vhost_user = true;
		snprintf(vo.vhost_user, sizeof(vo.vhost_user), "%s/vu.sock", dir);
	}
	*ev_out = evloop_new();
	if (!*ev_out)
		abort();
	return fuzz_attach_vdev(*ev_out, &vo);
}

/* ---- a client of one of the host's sockets (vhost-user, vfio-user) ---- */

/* Connects to the UNIX stream socket at path and pumps ev once, so the
 * server accepts. */
static inline int fuzz_connect(struct evloop *ev, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0 || strlen(path) >= sizeof(sa.sun_path))
		abort();
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		abort();
	fuzz_pump(ev, 1);
	return s;
}

/* Reads (and drops) whatever the server answered; false once it hung up. */
static inline bool fuzz_drain(int s)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0)
			continue;
		return !(n == 0 || (errno != EAGAIN && errno != EINTR));
	}
}

#define FUZZ_MAX_SEND_FDS 16

/* One message with nfds fds (SCM_RIGHTS on its first byte), as clients
 * send them: whole, in one sendmsg.  Never blocks. */
static inline void fuzz_send(int s, const void *msg, size_t len, const int *fds,
			     unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FUZZ_MAX_SEND_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > FUZZ_MAX_SEND_FDS)
		nfds = FUZZ_MAX_SEND_FDS;
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
	(void)sendmsg(s, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* What a client does with one message: adds a stray eventfd when asked
 * (an fd the message should not carry), sends the message with its fds
 * (fds has room for FUZZ_MAX_SEND_FDS; our copies are closed after), lets
 * the server handle it and reads the reply.  If the server hung up, *s
 * connects again, as a new client. */
static inline void fuzz_exchange(struct evloop *ev, int *s, const char *path,
				 const void *msg, size_t len, int *fds,
				 unsigned nfds, bool stray_fd)
{
	if (stray_fd && nfds < FUZZ_MAX_SEND_FDS) {
		fds[nfds] = eventfd(0, EFD_CLOEXEC);
		if (fds[nfds] >= 0)
			nfds++;
	}
	fuzz_send(*s, msg, len, fds, nfds);
	for (unsigned k = 0; k < nfds; k++)
		close(fds[k]);
	fuzz_pump(ev, 2);
	if (!fuzz_drain(*s)) {
		close(*s);
		fuzz_pump(ev, 1);
		*s = fuzz_connect(ev, path);
	}
}

#endif /* VNET_TESTS_FUZZ_HARNESS_H */
