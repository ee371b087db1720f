// SPDX-License-Identifier: MIT
/*
 * uring.c - the benchmark's waits and kicks, through io_uring.
 *
 * A side that sleeps keeps one read posted on each eventfd it may be
 * woken by (interrupt vectors, peer doorbells): the read completes when
 * the eventfd is written and returns (and clears) its counter, so waking
 * up and draining the eventfd are one event, and a completion that comes
 * while we are busy costs nothing until we look (io_uring_peek_cqe reads
 * shared memory).  Kicks (eventfd writes) are queued as SQEs and go to
 * the kernel with the next submission: with a sleep, kick and sleep are
 * one io_uring_enter (IORING_FEAT_EXT_ARG carries the timeout).
 *
 * bu_init_epoll gives the same calls on epoll: a write syscall per kick,
 * epoll_wait to sleep and a read per fired eventfd, as the host's event
 * loop does; `vnet-bench ring --epoll` measures the difference.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bench/bench.h"

#define BU_ENTRIES	64u
#define TAG_WRITE	(~0ull)

static const uint64_t one = 1;

int bu_init(struct bu *u)
{
	int rc;

	memset(u, 0, sizeof(*u));
	rc = io_uring_queue_init(BU_ENTRIES, &u->ring, 0);
	if (rc < 0)
		return rc;
	if (!(u->ring.features & IORING_FEAT_EXT_ARG)) {
		io_uring_queue_exit(&u->ring);
		return -ENOTSUP;
	}
	return 0;
}

int bu_init_epoll(struct bu *u)
{
	memset(u, 0, sizeof(*u));
	u->epoll = true;
	u->epfd = epoll_create1(EPOLL_CLOEXEC);
	return u->epfd < 0 ? -errno : 0;
}

void bu_exit(struct bu *u)
{
	if (u->epoll)
		close(u->epfd);
	else
		io_uring_queue_exit(&u->ring);
}

static struct io_uring_sqe *get_sqe(struct bu *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe) {		/* SQ full: push what is queued first */
		bu_flush(u);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

static void post_read(struct bu *u, unsigned slot)
{
	struct bu_watch *w = &u->w[slot];
	struct io_uring_sqe *sqe = get_sqe(u);

	if (!sqe)
		return;
	io_uring_prep_read(sqe, w->fd, &w->val, sizeof(w->val), 0);
	io_uring_sqe_set_data64(sqe, slot);
	w->posted = true;
	u->queued++;
}

int bu_watch(struct bu *u, int fd)
{
	if (u->nw == BENCH_MAX_FDS || fd < 0)
		return -EINVAL;
	u->w[u->nw].fd = fd;
	if (u->epoll) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = u->nw };

		if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
		return (int)u->nw++;
	}
	post_read(u, u->nw);
	return (int)u->nw++;
}

void bu_kick(struct bu *u, int fd)
{
	struct io_uring_sqe *sqe;

	if (u->epoll) {
		if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN && !u->err)
			u->err = -errno;
		u->writes++;
		return;
	}
	sqe = get_sqe(u);
	if (!sqe)
		return;
	io_uring_prep_write(sqe, fd, &one, sizeof(one), 0);
	io_uring_sqe_set_data64(sqe, TAG_WRITE);
	u->queued++;
	u->writes++;
}

void bu_flush(struct bu *u)
{
	if (u->epoll || !u->queued)
		return;
	if (io_uring_submit(&u->ring) >= 0)
		u->queued = 0;
	u->submits++;
}

static int reap(struct bu *u, bu_fired_fn fired, void *arg)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	int reads = 0;
	unsigned repost[BENCH_MAX_FDS], nre = 0;

	io_uring_for_each_cqe(&u->ring, head, cqe) {
		uint64_t tag = io_uring_cqe_get_data64(cqe);

		n++;
		if (cqe->res < 0 && !u->err && cqe->res != -EAGAIN)
			u->err = cqe->res;
		if (tag == TAG_WRITE || tag >= u->nw)
			continue;
		u->w[tag].posted = false;
		if (cqe->res == (int)sizeof(uint64_t)) {
			reads++;
			if (fired)
				fired(arg, u->w[tag].fd, u->w[tag].val);
		}
		repost[nre++] = (unsigned)tag;
	}
	io_uring_cq_advance(&u->ring, n);
	for (unsigned i = 0; i < nre; i++)
		if (!u->err)
			post_read(u, repost[i]);
	return reads;
}

/* epoll: wait up to timeout_ms, then read every fd that fired. */
static int epoll_round(struct bu *u, int timeout_ms, bu_fired_fn fired, void *arg)
{
	struct epoll_event evs[BENCH_MAX_FDS];
	int n = epoll_wait(u->epfd, evs, BENCH_MAX_FDS, timeout_ms), reads = 0;

	u->submits++;
	for (int i = 0; i < n; i++) {
		struct bu_watch *w = &u->w[evs[i].data.u32 < u->nw ? evs[i].data.u32 : 0];

		if (read(w->fd, &w->val, sizeof(w->val)) == (ssize_t)sizeof(w->val)) {
			reads++;
			if (fired)
				fired(arg, w->fd, w->val);
		}
	}
	return reads;
}

int bu_reap(struct bu *u, bu_fired_fn fired, void *arg)
{
	if (u->epoll)
		return 0;	/* a syscall per look: only bu_sleep looks */
	if (!io_uring_cq_ready(&u->ring))
		return 0;
	return reap(u, fired, arg);
}

int bu_sleep(struct bu *u, unsigned timeout_us, bu_fired_fn fired, void *arg)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_us / 1000000u,
		.tv_nsec = (long long)(timeout_us % 1000000u) * 1000,
	};
	struct io_uring_cqe *cqe = NULL;
	int rc, reads;

	if (u->epoll) {
		u->sleeps++;
		reads = epoll_round(u, (int)((timeout_us + 999) / 1000), fired, arg);
		if (reads > 0)
			u->wakeups++;
		return reads;
	}
	reads = reap(u, fired, arg);
	if (reads > 0) {
		bu_flush(u);
		return reads;
	}
	u->sleeps++;
	u->submits++;
	rc = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts, NULL);
	if (rc >= 0 || rc == -ETIME)
		u->queued = 0;
	reads = reap(u, fired, arg);
	if (reads > 0)
		u->wakeups++;
	bu_flush(u);		/* the reposted reads */
	return reads;
}
