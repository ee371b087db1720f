// SPDX-License-Identifier: MIT
/*
 * ring.c - scenario "ring": the peer link's frame ring alone
 * (common/peer_ring.h), a producer and a consumer in two processes.
 *
 * The parent produces records (the 12-byte net header and the frame,
 * copied in as a device copies a guest's frame) in bursts of
 * BENCH_BATCH, publishing once per burst; the forked child consumes and
 * copies every record out (as a device copies into guest buffers).  Each
 * side sleeps only after announcing it (need_wakeup) and re-checking, on
 * its own eventfd through io_uring; the other side kicks it through
 * io_uring only when asked.  --poll spins up to poll_us before sleeping.
 * The consumer checks the sequence numbers; counters come back through a
 * shared page.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "common/barrier.h"
#include "common/log.h"
#include "common/peer_ring.h"

struct ring_shared {
	volatile int ready, go, stop;
	struct bench_result cons;
	int status;
};

bool bench_ring_room(struct peer_ring_prod *p, uint32_t len)
{
	uint32_t need = (len + PEER_RING_ALIGN - 1) / PEER_RING_ALIGN * PEER_RING_ALIGN;

	return peer_ring_free_slots(p) > 0 && p->data_size - peer_ring_prod_used(p) >= 2 * need;
}

static void count_fire(void *arg, int fd, uint64_t cnt)
{
	(void)fd;
	(void)cnt;
	(*(uint64_t *)arg)++;
}

static int consumer(const struct bench_opts *o, int ring_fd, int cons_bell,
		    int prod_bell, struct ring_shared *sh)
{
	struct peer_ring_cons c;
	struct bu u;
	uint8_t *copy = malloc(PEER_RING_REC_MAX);
	uint64_t expect = 0, woke = 0, t0 = 0, t1;
	struct bench_result *r = &sh->cons;
	double u0, s0, u1, s1;
	int rc;

	if (!copy)
		return -ENOMEM;
	rc = peer_ring_cons_attach(&c, ring_fd, PEER_RING_DEF_DESC, PEER_RING_DEF_DATA);
	if (rc < 0 || (rc = o->epoll ? bu_init_epoll(&u) : bu_init(&u)) < 0) {
		free(copy);
		return rc;
	}
	bu_watch(&u, cons_bell);
	bu_flush(&u);
	sh->ready = 1;
	while (!READ_ONCE(sh->go))
		cpu_relax();
	bench_cpu_self(&u0, &s0);
	for (;;) {
		struct peer_ring_rec recs[BENCH_BATCH];
		const uint8_t *rec;
		uint32_t len;
		unsigned n = 0;

		/* A burst at a time, as the device's receive path reads. */
		rc = peer_ring_peek_burst(&c, recs, BENCH_BATCH);
		for (int i = 0; i < rc; i++) {
			bool ok;
			uint64_t seq;

			len = recs[i].len;
			memcpy(copy, recs[i].rec, len);
			seq = bench_frame_get_seq(copy + sizeof(struct virtio_net_hdr_v1),
						  len - (uint32_t)sizeof(struct virtio_net_hdr_v1),
						  false, &ok);
			if (!t0)
				t0 = now_ns();
			if (seq != expect)
				r->lost += seq > expect ? seq - expect : 0, r->reordered += seq < expect;
			expect = seq + 1;
			r->frames++;
			r->bytes += len - sizeof(struct virtio_net_hdr_v1);
			peer_ring_consume_rec(&c, &recs[i]);
			n++;
		}
		if (rc < 0)
			break;
		if (n) {
			if (peer_ring_cons_publish(&c)) {
				bu_kick(&u, prod_bell);
				bu_flush(&u);
				r->bells_sent++;
			}
			continue;
		}
		if (READ_ONCE(sh->stop))
			break;
		if (o->poll) {
			uint64_t until = now_ns() + o->poll_us * 1000ull;
			bool got = false;

			while (now_ns() < until)
				if (peer_ring_peek(&c, &rec, &len) != 0) {
					got = true;
					break;
				}
			if (got)
				continue;
		}
		if (!peer_ring_cons_sleep_prepare(&c))
			continue;
		bu_sleep(&u, 20000, count_fire, &woke);
		peer_ring_cons_awake(&c);
	}
	t1 = now_ns();
	bench_cpu_self(&u1, &s1);
	r->seconds = t0 ? (double)(t1 - t0) / 1e9 : 0;
	r->cpu_user = u1 - u0;
	r->cpu_sys = s1 - s0;
	r->bells_recv = woke;
	r->sleeps = u.sleeps;
	r->wakeups = u.wakeups;
	r->submits = u.submits;
	bu_exit(&u);
	peer_ring_cons_detach(&c);
	free(copy);
	return rc < 0 ? -EIO : 0;
}

int bench_ring(const struct bench_opts *o)
{
	struct peer_ring_prod p;
	struct ring_shared *sh;
	struct bench_result r = { .scenario = o->label ? o->label : "ring", .side = "producer" };
	uint8_t frame[VNET_MAX_GSO_FRAME];
	static const uint8_t dst[6] = { 2, 0, 0, 0, 0, 2 }, src[6] = { 2, 0, 0, 0, 0, 1 };
	char name[64];
	int fd = -1, cons_bell, prod_bell, st = 0, rc;
	uint64_t seq = 0, woke = 0, deadline;
	uint32_t rec_len = o->size + (uint32_t)sizeof(struct virtio_net_hdr_v1);
	double u0, s0, u1, s1;
	pid_t pid;
	struct bu u;

	if (o->size < 60 || o->size > VNET_MAX_GSO_FRAME) {
		fprintf(stderr, "vnet-bench: ring: --size must be 60..%u\n", VNET_MAX_GSO_FRAME);
		return 2;
	}
	if (bench_frame(frame, o->size, dst, src, false, NULL) < 0)
		return 2;
	snprintf(name, sizeof(name), "/vnet-bench-ring-%d", (int)getpid());
	rc = peer_ring_create(&p, name, PEER_RING_DEF_DESC, PEER_RING_DEF_DATA, &fd);
	if (rc < 0) {
		fprintf(stderr, "vnet-bench: cannot create ring %s: %s\n", name, strerror(-rc));
		return 1;
	}
	/* The file stays reachable through the fd the child inherits. */
	shm_unlink(name);
	cons_bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	prod_bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cons_bell < 0 || prod_bell < 0 || sh == MAP_FAILED)
		return 1;
	memset(sh, 0, sizeof(*sh));
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (o->pin)
			bench_pin(1);
		sh->status = consumer(o, fd, cons_bell, prod_bell, sh);
		_exit(sh->status ? 1 : 0);
	}
	if (o->pin)
		bench_pin(0);
	if ((rc = o->epoll ? bu_init_epoll(&u) : bu_init(&u)) < 0) {
		fprintf(stderr, "vnet-bench: io_uring: %s\n", strerror(-rc));
		kill(pid, SIGKILL);
		return 1;
	}
	bu_watch(&u, prod_bell);
	bu_flush(&u);
	while (!READ_ONCE(sh->ready))
		usleep(1000);
	bench_cpu_self(&u0, &s0);
	sh->go = 1;
	deadline = now_ns() + (uint64_t)(o->seconds * 1e9);
	while (now_ns() < deadline && !p.broken) {
		unsigned n = 0;

		for (; n < BENCH_BATCH; n++) {
			uint8_t *rec = peer_ring_reserve(&p, rec_len);

			if (!rec)
				break;
			memset(rec, 0, sizeof(struct virtio_net_hdr_v1));
			bench_frame_seq(frame, false, seq++);
			memcpy(rec + sizeof(struct virtio_net_hdr_v1), frame, o->size);
			peer_ring_commit(&p, rec_len);
			r.frames++;
			r.bytes += o->size;
		}
		if (n) {
			if (peer_ring_publish(&p)) {
				bu_kick(&u, cons_bell);
				bu_flush(&u);
				r.bells_sent++;
			}
			continue;
		}
		if (o->poll) {
			uint64_t until = now_ns() + o->poll_us * 1000ull;

			while (now_ns() < until && !bench_ring_room(&p, rec_len))
				cpu_relax();
			if (bench_ring_room(&p, rec_len))
				continue;
		}
		if (!peer_ring_prod_wait_prepare(&p, rec_len))
			continue;
		bu_sleep(&u, 20000, count_fire, &woke);
		peer_ring_prod_awake(&p);
	}
	bench_cpu_self(&u1, &s1);
	WRITE_ONCE(sh->stop, 1);
	/* Wake the consumer so it sees stop, then wait for it. */
	{
		uint64_t one = 1;

		if (write(cons_bell, &one, sizeof(one)) < 0)
			log_warn("doorbell: %s", strerror(errno));
	}
	waitpid(pid, &st, 0);
	r.seconds = o->seconds;
	r.cpu_user = u1 - u0;
	r.cpu_sys = s1 - s0;
	r.bells_recv = woke;
	r.sleeps = u.sleeps;
	r.wakeups = u.wakeups;
	r.submits = u.submits;
	bu_exit(&u);
	peer_ring_prod_destroy(&p, false);
	sh->cons.scenario = r.scenario;
	sh->cons.side = "consumer";
	bench_print(o, &r);
	bench_print(o, &sh->cons);
	return (WIFEXITED(st) && WEXITSTATUS(st) == 0 && sh->cons.frames) ? 0 : 1;
}
