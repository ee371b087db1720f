/* SPDX-License-Identifier: MIT */
/*
 * evloop.h - the host process's event loop: epoll over every fd the
 * process serves (vfio-user sockets, kick eventfds, peer sockets and
 * doorbells, signals via signalfd) plus timers (to the microsecond).  Handlers run
 * one at a time on the loop's thread.
 */
#ifndef VNET_HOST_EVLOOP_H
#define VNET_HOST_EVLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

struct evloop;
struct ev_handler;

typedef void (*ev_fn)(struct ev_handler *h, uint32_t events);

/* Embed in the owner's struct; recover the owner with container_of. */
struct ev_handler {
	int fd;
	ev_fn fn;
	bool registered;
};

typedef void (*ev_timer_fn)(void *arg);

struct evloop *evloop_new(void);
void evloop_free(struct evloop *l);

/* Registers h->fd for events (EPOLLIN...). -errno on failure. */
int ev_add(struct evloop *l, struct ev_handler *h, int fd, uint32_t events,
	   ev_fn fn);
int ev_mod(struct evloop *l, struct ev_handler *h, uint32_t events);
/* Unregisters (safe to call when not registered, and from inside the
 * handler itself). Does not close the fd. */
void ev_del(struct evloop *l, struct ev_handler *h);

/* A one-shot timer after ms milliseconds; returns an id > 0, or -errno.
 * Cancelling an id that already fired is harmless. */
long ev_timer(struct evloop *l, unsigned ms, ev_timer_fn fn, void *arg);
/* The same after us microseconds. */
long ev_timer_us(struct evloop *l, uint64_t us, ev_timer_fn fn, void *arg);
void ev_timer_cancel(struct evloop *l, long id);

/* before(arg) runs before, and after(arg) after, every round of the loop
 * that runs a handler or a timer: the main loop parks the data-path
 * threads so (host/dp/threads.c).  NULL: none. */
void evloop_set_hooks(struct evloop *l, void (*before)(void *arg), void (*after)(void *arg),
		      void *arg);

/* Runs until evloop_stop; returns 0, or -errno on an epoll failure. */
int evloop_run(struct evloop *l);
void evloop_stop(struct evloop *l);

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#endif /* VNET_HOST_EVLOOP_H */
