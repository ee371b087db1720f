// SPDX-License-Identifier: MIT
#include "evloop.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/barrier.h"
#include "common/log.h"

#define EV_MAX_TIMERS 256
#define EV_BATCH 64

struct ev_timer_slot {
	long id;		/* 0 = free */
	uint64_t due_ns;
	ev_timer_fn fn;
	void *arg;
};

struct evloop {
	int epfd;
	bool stop;
	long next_timer_id;
	struct ev_timer_slot timers[EV_MAX_TIMERS];
	/* One past the last slot in use: the scans stop there.  A loop has
	 * a few timers at a time, and a scan of all 256 slots in every
	 * round cost a busy data path 10 instructions a frame
	 * (bench/insns.sh). */
	unsigned timer_end;
	/* Handlers removed during the current dispatch round: events already
	 * fetched for them must not be delivered. */
	struct ev_handler *removed[EV_BATCH];
	unsigned n_removed;
	bool dispatching;
	/* Busy-poll (VNET_POLL_US): after a round that had events, look
	 * again without sleeping for up to poll_ns before blocking. */
	uint64_t poll_ns;
	uint64_t spins, spin_hits;
	/* Around every round that runs a handler or a timer (evloop_set_hooks). */
	void (*before)(void *arg);
	void (*after)(void *arg);
	void *hook_arg;
};

/* An eventfd wake-up across cores costs tens of microseconds on small
 * VMs (README "Benchmarks"): a host that handled an event is likely
 * to get the next one soon, so it may spin a bounded time first.  Off by
 * default (spinning costs a core); bench/run.sh sets it in poll mode. */
#define EV_POLL_MAX_US 1000000u

static uint64_t poll_ns_from_env(void)
{
	const char *e = getenv("VNET_POLL_US");
	char *end;
	unsigned long v;

	if (!e || !*e)
		return 0;
	v = strtoul(e, &end, 10);
	if (*end || v > EV_POLL_MAX_US) {
		log_warn("VNET_POLL_US='%s': not 0..%u microseconds; not polling", e,
			 EV_POLL_MAX_US);
		return 0;
	}
	return (uint64_t)v * 1000u;
}

struct evloop *evloop_new(void)
{
	struct evloop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	l->next_timer_id = 1;
	l->poll_ns = poll_ns_from_env();
	return l;
}

void evloop_free(struct evloop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l);
}

int ev_add(struct evloop *l, struct ev_handler *h, int fd, uint32_t events,
	   ev_fn fn)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	h->fd = fd;
	h->fn = fn;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	h->registered = true;
	return 0;
}

int ev_mod(struct evloop *l, struct ev_handler *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	if (!h->registered)
		return -ENOENT;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, h->fd, &ev) < 0)
		return -errno;
	return 0;
}

void ev_del(struct evloop *l, struct ev_handler *h)
{
	if (!h->registered)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, h->fd, NULL);
	h->registered = false;
	if (l->dispatching && l->n_removed < EV_BATCH)
		l->removed[l->n_removed++] = h;
}

long ev_timer_us(struct evloop *l, uint64_t us, ev_timer_fn fn, void *arg)
{
	for (unsigned i = 0; i < EV_MAX_TIMERS; i++) {
		struct ev_timer_slot *t = &l->timers[i];

		if (t->id)
			continue;
		t->id = l->next_timer_id++;
		t->due_ns = now_ns() + us * 1000u;
		t->fn = fn;
		t->arg = arg;
		if (i >= l->timer_end)
			l->timer_end = i + 1;
		return t->id;
	}
	return -ENOSPC;
}

long ev_timer(struct evloop *l, unsigned ms, ev_timer_fn fn, void *arg)
{
	return ev_timer_us(l, (uint64_t)ms * 1000u, fn, arg);
}

/* Frees slot i, and lowers timer_end past the free slots at its end. */
static void timer_free(struct evloop *l, unsigned i)
{
	l->timers[i].id = 0;
	while (l->timer_end && !l->timers[l->timer_end - 1].id)
		l->timer_end--;
}

void ev_timer_cancel(struct evloop *l, long id)
{
	if (id <= 0)
		return;
	for (unsigned i = 0; i < l->timer_end; i++)
		if (l->timers[i].id == id)
			timer_free(l, i);
}

void evloop_stop(struct evloop *l) { l->stop = true; }

void evloop_set_hooks(struct evloop *l, void (*before)(void *arg), void (*after)(void *arg),
		      void *arg)
{
	l->before = before;
	l->after = after;
	l->hook_arg = arg;
}

/* Is a timer due (the round has work even without events)? */
static bool timer_due(const struct evloop *l)
{
	uint64_t now = now_ns();

	for (unsigned i = 0; i < l->timer_end; i++)
		if (l->timers[i].id && l->timers[i].due_ns <= now)
			return true;
	return false;
}

/* Nanoseconds until the next timer (-1: none), at most a minute. */
static int64_t next_timeout_ns(struct evloop *l)
{
	uint64_t now = now_ns(), best = UINT64_MAX;

	for (unsigned i = 0; i < l->timer_end; i++)
		if (l->timers[i].id && l->timers[i].due_ns < best)
			best = l->timers[i].due_ns;
	if (best == UINT64_MAX)
		return -1;
	if (best <= now)
		return 0;
	return best - now > UINT64_C(60000000000) ? INT64_C(60000000000) : (int64_t)(best - now);
}

/* epoll_wait with a timeout to the microsecond (epoll_pwait2, Linux
 * 5.11), so a timer of some microseconds (interrupt coalescing) is not
 * rounded up to a millisecond; where the kernel lacks it, milliseconds,
 * rounded up. */
static int wait_events(struct evloop *l, struct epoll_event *evs, int max, int64_t ns)
{
	static bool no_pwait2;

	if (ns > 0 && ns % 1000000 && !no_pwait2) {
		struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
		int n = epoll_pwait2(l->epfd, evs, max, &ts, NULL);

		if (n >= 0 || errno != ENOSYS)
			return n;
		no_pwait2 = true;
	}
	return epoll_wait(l->epfd, evs, max,
			  ns < 0 ? -1 : (int)((ns + 999999) / 1000000));
}

static void run_timers(struct evloop *l)
{
	uint64_t now = now_ns();

	/* timer_end read each time round: fn may arm timers (beyond it) or
	 * cancel them. */
	for (unsigned i = 0; i < l->timer_end; i++) {
		struct ev_timer_slot *t = &l->timers[i];

		if (t->id && t->due_ns <= now) {
			ev_timer_fn fn = t->fn;
			void *arg = t->arg;

			timer_free(l, i);	/* before calling: fn may re-arm */
			fn(arg);
		}
	}
}

static bool was_removed(struct evloop *l, struct ev_handler *h)
{
	for (unsigned i = 0; i < l->n_removed; i++)
		if (l->removed[i] == h)
			return true;
	return false;
}

int evloop_run(struct evloop *l)
{
	struct epoll_event evs[EV_BATCH];

	bool busy = false, hooked;

	l->stop = false;
	while (!l->stop) {
		int64_t timeout = next_timeout_ns(l);
		int n = 0;

		if (busy && l->poll_ns && timeout != 0) {
			/* Bounded spin, and never past the next timer. */
			uint64_t until = now_ns() +
					 (timeout > 0 && (uint64_t)timeout < l->poll_ns
						  ? (uint64_t)timeout : l->poll_ns);

			do {
				n = epoll_wait(l->epfd, evs, EV_BATCH, 0);
				l->spins++;
			} while (n == 0 && now_ns() < until);
			if (n > 0)
				l->spin_hits++;
		}
		if (n == 0)
			n = wait_events(l, evs, EV_BATCH, timeout);
		busy = n > 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		hooked = l->before && (n > 0 || timer_due(l));
		if (hooked)
			l->before(l->hook_arg);
		l->dispatching = true;
		l->n_removed = 0;
		for (int i = 0; i < n && !l->stop; i++) {
			struct ev_handler *h = evs[i].data.ptr;

			if (was_removed(l, h) || !h->registered)
				continue;
			h->fn(h, evs[i].events);
		}
		l->dispatching = false;
		run_timers(l);
		if (hooked)
			l->after(l->hook_arg);
	}
	return 0;
}
