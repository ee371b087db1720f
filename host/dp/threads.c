// SPDX-License-Identifier: MIT
/*
 * threads.c - data-path threads: a vdev's queue pairs on threads of their
 * own (vdev option `threads N`, pinned with `cpus`), so a guest can use
 * more than one core for its network.
 *
 * Pair K's work runs on thread K mod N: its transmitq's kicks and
 * passes, its receiveq's kicks, and the link rings whose frames go to
 * that receiveq (dp_rx_owner).  Each thread has its own event loop,
 * scratch buffers and timers.  Nothing is locked per frame.
 *
 * The control plane stays on the process's main loop and never runs
 * beside the data path: before the main loop runs a handler or a timer it
 * parks every data-path thread of the process (between two of its
 * handlers, so at most one budgeted pass away), and unparks them after.
 * So whatever the main loop changes (a reset, the memory map, the link,
 * the pairs in use, a stats read) it changes alone, and a thread sees it
 * whole when it resumes; each then runs one round of its passes, so
 * nothing the change made possible waits for the next kick.
 *
 * What a thread finds that the control plane must act on (a queue or a
 * link ring broke the rules, a capture has bytes to send) it leaves as a
 * bit in vd->dp.deferred and an eventfd write; the main loop acts on it.
 *
 * Between threads the shared things are few: several threads may feed
 * one link ring (its producer end is taken per pass, tx.c), interrupts go
 * out under one lock per vdev (a transport's INTx or ISR state is one per
 * function), and counters of the whole vdev are added atomically.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "host/dev/capture.h"
#include "host/dp/dp_priv.h"
#include "host/peer/link.h"

struct dp_thread {
	struct vdev *vd;
	unsigned idx;
	pthread_t th;
	bool started;
	struct evloop *ev;
	int wake_fd;
	struct ev_handler wake_h;
	/* park_req by the main loop, parked and the ack by the thread;
	 * stop ends it. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool park_req, parked, stop;
	/* Receive passes of the rings this thread owns, rescheduled. */
	long rx_resched;
	struct dp_scratch scratch;
};

/* The thread a pass runs on: NULL on the main loop. */
static __thread struct dp_thread *dp_self;

/* Interrupts from several threads of one vdev: one transport state. */
static pthread_mutex_t irq_lock = PTHREAD_MUTEX_INITIALIZER;

/* Every data-path thread of the process, for the main loop's park
 * (only the main loop reads or writes this). */
static struct dp_thread *all_threads[OPTS_MAX_VDEVS * VDEV_MAX_PAIRS];
static unsigned n_all;

bool dp_on_thread(void)
{
	return dp_self != NULL;
}

struct evloop *dp_cur_loop(struct vdev *vd)
{
	return dp_self ? dp_self->ev : vd->ev;
}

struct dp_scratch *dp_scratch(struct vdev *vd)
{
	return dp_self ? &dp_self->scratch : &vd->dp.scratch;
}

long *dp_rx_slot(struct vdev *vd)
{
	return dp_self ? &dp_self->rx_resched : &vd->dp.rx_resched;
}

unsigned dp_self_index(void)
{
	return dp_self ? dp_self->idx : 0;
}

unsigned dp_rx_owner(const struct vdev *vd, unsigned ring)
{
	if (!vd->dp.n_threads)
		return 0;
	/* The thread of the receiveq the ring feeds (dp_rx_ring_feeds):
	 * over a one-ring link with several pairs in use ring 0 feeds them
	 * all, and is thread 0's. */
	if (dp_rx_spreads(vd))
		return 0;
	return dp_rx_ring_pair(vd, ring) % vd->dp.n_threads;
}

bool dp_rx_mine(const struct vdev *vd, unsigned ring)
{
	return !vd->dp.n_threads || (dp_self && dp_rx_owner(vd, ring) == dp_self->idx);
}

bool dp_tx_mine(const struct vdev *vd, unsigned pair)
{
	return !vd->dp.n_threads || (dp_self && pair % vd->dp.n_threads == dp_self->idx);
}

static void wake(struct dp_thread *t)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is saturated, the thread wakes anyway. */
	if (write(t->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_rl(LOG_WARN, "%s: data-path thread %u: wake-up: %s", t->vd->name, t->idx,
		       strerror(errno));
}

void dp_nudge(struct vdev *vd, unsigned idx)
{
	if (idx < vd->dp.n_threads && vd->dp.threads[idx] != dp_self)
		wake(vd->dp.threads[idx]);
}

bool dp_raise(struct vdev *vd, unsigned q)
{
	bool r;

	if (!dp_self)
		return vdev_raise(vd, (int)q);
	pthread_mutex_lock(&irq_lock);
	r = vdev_raise(vd, (int)q);
	pthread_mutex_unlock(&irq_lock);
	return r;
}

void dp_capture(struct vdev *vd, const uint8_t *frame, uint32_t len)
{
	if (!vdev_capture_frame(vd, frame, len))
		return;
	if (dp_self)
		dp_defer(vd, DP_DEFER_CAPTURE);
	else
		vdev_capture_flush_soon(vd);
}

void dp_defer(struct vdev *vd, uint32_t bits)
{
	uint64_t one = 1;

	__atomic_fetch_or(&vd->dp.deferred, bits, __ATOMIC_RELEASE);
	if (write(vd->dp.defer_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_rl(LOG_WARN, "%s: data-path thread: cannot tell the main loop: %s", vd->name,
		       strerror(errno));
}

/* On the main loop (every thread parked): what the threads left. */
static void defer_event(struct ev_handler *h, uint32_t events)
{
	struct vdev *vd = container_of(h, struct vdev, dp.defer_h);
	uint64_t n;
	uint32_t bits;

	(void)events;
	if (read(h->fd, &n, sizeof(n)) != sizeof(n))
		return;
	bits = __atomic_exchange_n(&vd->dp.deferred, 0, __ATOMIC_ACQUIRE);
	for (unsigned q = 0; q < vd->num_queues; q++)
		if (bits & DP_DEFER_QUEUE(q))
			dp_queue_broken(vd, q);
	if (bits & DP_DEFER_RING)
		peer_link_ring_broken(vd->link);
	if (bits & DP_DEFER_CAPTURE)
		vdev_capture_flush_soon(vd);
	if (bits & DP_DEFER_CTRLQ)
		dp_ctrl_process(vd);
}

/* One round of everything this thread owns: after it was unparked (the
 * main loop may have made work possible) or nudged by another thread. */
static void thread_round(struct dp_thread *t)
{
	struct vdev *vd = t->vd;

	dp_rx_process(vd);
	for (unsigned k = t->idx; k < vdev_pairs_negotiated(vd); k += vd->dp.n_threads)
		dp_tx_process(vd, k);
}

static void wake_event(struct ev_handler *h, uint32_t events)
{
	struct dp_thread *t = container_of(h, struct dp_thread, wake_h);
	uint64_t n;
	bool stop;

	(void)events;
	if (read(h->fd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_mutex_lock(&t->mu);
	if (t->park_req) {
		t->parked = true;
		pthread_cond_broadcast(&t->cv);
		while (t->park_req)
			pthread_cond_wait(&t->cv, &t->mu);
		t->parked = false;
	}
	stop = t->stop;
	pthread_mutex_unlock(&t->mu);
	if (stop) {
		evloop_stop(t->ev);
		return;
	}
	thread_round(t);
}

static void *thread_main(void *arg)
{
	struct dp_thread *t = arg;
	int rc;

	dp_self = t;
	rc = evloop_run(t->ev);
	if (rc < 0)
		log_err("%s: data-path thread %u: event loop failed: %s", t->vd->name, t->idx,
			strerror(-rc));
	return NULL;
}

static void thread_free(struct dp_thread *t)
{
	if (!t)
		return;
	if (t->ev && t->wake_fd >= 0)
		ev_del(t->ev, &t->wake_h);
	if (t->wake_fd >= 0)
		close(t->wake_fd);
	evloop_free(t->ev);
	dp_scratch_free(&t->scratch);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	free(t);
}

static int thread_new(struct vdev *vd, unsigned idx, struct dp_thread **out)
{
	struct dp_thread *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->vd = vd;
	t->idx = idx;
	t->rx_resched = -1;
	t->wake_fd = -1;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	t->ev = evloop_new();
	if (!t->ev) {
		thread_free(t);
		return -ENOMEM;
	}
	rc = dp_scratch_init(&t->scratch);
	if (rc == 0) {
		t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		rc = t->wake_fd < 0 ? -errno : ev_add(t->ev, &t->wake_h, t->wake_fd, EPOLLIN,
						      wake_event);
	}
	if (rc < 0) {
		thread_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

/* Pins thread t to the CPU its vdev's `cpus` list gives it. */
static int thread_pin(struct dp_thread *t)
{
	const struct vdev_opts *o = t->vd->opts;
	unsigned cpu;
	cpu_set_t set;
	int rc;

	if (!o->n_cpus)
		return 0;
	cpu = o->cpus[t->idx % o->n_cpus];
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	rc = pthread_setaffinity_np(t->th, sizeof(set), &set);
	if (rc) {
		log_err("%s: data-path thread %u: cannot pin it to CPU %u: %s", t->vd->name, t->idx,
			cpu, strerror(rc));
		return -rc;
	}
	return 0;
}

static void park(struct dp_thread *t)
{
	pthread_mutex_lock(&t->mu);
	t->park_req = true;
	pthread_mutex_unlock(&t->mu);
	wake(t);
}

static void await_parked(struct dp_thread *t)
{
	pthread_mutex_lock(&t->mu);
	while (!t->parked)
		pthread_cond_wait(&t->cv, &t->mu);
	pthread_mutex_unlock(&t->mu);
}

static void unpark(struct dp_thread *t)
{
	pthread_mutex_lock(&t->mu);
	t->park_req = false;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

void dp_threads_park_all(void *unused)
{
	(void)unused;
	/* Ask all first, then wait: they park side by side. */
	for (unsigned i = 0; i < n_all; i++)
		park(all_threads[i]);
	for (unsigned i = 0; i < n_all; i++)
		await_parked(all_threads[i]);
}

void dp_threads_unpark_all(void *unused)
{
	(void)unused;
	for (unsigned i = 0; i < n_all; i++)
		unpark(all_threads[i]);
}

void dp_threads_cancel(struct vdev *vd)
{
	for (unsigned i = 0; i < vd->dp.n_threads; i++) {
		struct dp_thread *t = vd->dp.threads[i];

		ev_timer_cancel(t->ev, t->rx_resched);
		t->rx_resched = -1;
	}
}

void dp_threads_hold(struct vdev *vd)
{
	for (unsigned i = 0; i < vd->dp.n_threads; i++)
		park(vd->dp.threads[i]);
	for (unsigned i = 0; i < vd->dp.n_threads; i++)
		await_parked(vd->dp.threads[i]);
}

static void registry_del(const struct dp_thread *t)
{
	for (unsigned i = 0; i < n_all; i++)
		if (all_threads[i] == t) {
			all_threads[i] = all_threads[--n_all];
			return;
		}
}

void dp_threads_stop(struct vdev *vd)
{
	for (unsigned i = 0; i < vd->dp.n_threads; i++) {
		struct dp_thread *t = vd->dp.threads[i];

		if (t->started) {
			/* Parked or not: it wakes, sees stop, and ends. */
			pthread_mutex_lock(&t->mu);
			t->stop = true;
			t->park_req = false;
			pthread_cond_broadcast(&t->cv);
			pthread_mutex_unlock(&t->mu);
			wake(t);
			pthread_join(t->th, NULL);
		}
		registry_del(t);
		thread_free(t);
		vd->dp.threads[i] = NULL;
	}
	vd->dp.n_threads = 0;
	if (vd->dp.defer_fd >= 0) {
		ev_del(vd->ev, &vd->dp.defer_h);
		close(vd->dp.defer_fd);
		vd->dp.defer_fd = -1;
	}
}

int dp_threads_start(struct vdev *vd)
{
	unsigned n = vd->opts->threads;
	int rc;

	vd->dp.defer_fd = -1;
	if (!n)
		return 0;
	if (n_all + n > sizeof(all_threads) / sizeof(all_threads[0]))
		return -ENOSPC;
	vd->dp.defer_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vd->dp.defer_fd < 0)
		return -errno;
	rc = ev_add(vd->ev, &vd->dp.defer_h, vd->dp.defer_fd, EPOLLIN, defer_event);
	if (rc < 0) {
		close(vd->dp.defer_fd);
		vd->dp.defer_fd = -1;
		return rc;
	}
	for (unsigned i = 0; i < n; i++) {
		char name[16];
		struct dp_thread *t;

		rc = thread_new(vd, i, &t);
		if (rc < 0)
			break;
		vd->dp.threads[i] = t;
		vd->dp.n_threads = i + 1;
		all_threads[n_all++] = t;
		rc = -pthread_create(&t->th, NULL, thread_main, t);
		if (rc < 0)
			break;
		t->started = true;
		/* Seen in top -H and /proc/PID/task/TID/comm. */
		snprintf(name, sizeof(name), "vnet-dp%u", i % VDEV_MAX_PAIRS);
		pthread_setname_np(t->th, name);
		rc = thread_pin(t);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		log_err("%s: cannot start %u data-path threads: %s", vd->name, n, strerror(-rc));
		dp_threads_stop(vd);
		return rc;
	}
	log_info("%s: %u data-path thread%s; pair K runs on thread K mod %u", vd->name, n,
		 n == 1 ? "" : "s", n);
	return 0;
}

struct evloop *dp_queue_loop(struct vdev *vd, unsigned q)
{
	/* The controlq stays on the main loop: its commands are control. */
	if (!vd->dp.n_threads || q >= 2 * vd->max_pairs)
		return vd->ev;
	return vd->dp.threads[(q / 2) % vd->dp.n_threads]->ev;
}

struct evloop *dp_ring_loop(struct vdev *vd, unsigned ring)
{
	if (!vd->dp.n_threads)
		return vd->ev;
	return vd->dp.threads[ring % vd->dp.n_threads]->ev;
}
