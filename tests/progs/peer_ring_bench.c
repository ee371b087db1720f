// SPDX-License-Identifier: MIT
/*
 * peer_ring_bench.c - one peer ring between two processes, as on a real
 * link: the consumer maps the file itself (another address), eventfds are
 * the doorbells, both sides batch and use need_wakeup.  Reports frames/s,
 * Gbit/s and doorbells per frame both ways, and checks the order of
 * every frame.  Each side copies every frame whole (the device copies
 * frames between guest memory and the ring), so large frames measure
 * memory bandwidth and small ones the ring's per-frame cost.
 *
 *   peer_ring_bench [FRAME_BYTES (12..65561, default 64)] [SECONDS (1)]
 *                   [SPIN_US: consumer busy-poll before sleeping (20)]
 *
 * Exit 0 on success, 1 on a wrong frame or a broken ring.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/barrier.h"
#include "common/log.h"
#include "common/peer_ring.h"

#define BATCH 64

struct result {
	uint64_t frames;
	uint64_t bad;
	uint64_t bells;		/* doorbells this side wrote */
	uint64_t sleeps;
};

static void bell_write(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		perror("doorbell write");
}

static void bell_wait(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, 1000) > 0 && read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		perror("doorbell read");
}

/* Frame seq: its number in the first 4 bytes after the net header; the
 * last frame carries UINT32_MAX. */
static void consumer(int ring_fd, uint32_t size, int my_bell, int prod_bell,
		     unsigned spin_us, int out_fd)
{
	struct peer_ring_cons c;
	struct result r = { 0 };
	static uint8_t copy[PEER_RING_REC_MAX];
	uint32_t want = 0;
	bool done = false;

	if (peer_ring_cons_attach(&c, ring_fd, PEER_RING_DEF_DESC, PEER_RING_DEF_DATA)) {
		fprintf(stderr, "attach: %s\n", c.reason);
		_exit(1);
	}
	while (!done) {
		const uint8_t *rec;
		uint32_t len, seq;
		int n = 0;

		peer_ring_cons_awake(&c);
		while (n < BATCH && peer_ring_peek(&c, &rec, &len) == 1) {
			memcpy(copy, rec, len);	/* what the device does */
			peer_ring_consume(&c);
			n++;
			memcpy(&seq, copy + 12, sizeof(seq));
			if (seq == UINT32_MAX) {
				done = true;
				break;
			}
			if (seq != want++ || len != size)
				r.bad++;
			r.frames++;
		}
		if (c.broken) {
			fprintf(stderr, "consumer: %s\n", c.reason);
			r.bad++;
			break;
		}
		if (peer_ring_cons_publish(&c)) {
			bell_write(prod_bell);
			r.bells++;
		}
		if (n || done)
			continue;
		/* Empty: poll a little, then sleep on the doorbell. */
		for (uint64_t end = now_ns() + spin_us * 1000ull; now_ns() < end;) {
			if (load_acquire(&c.hdr->prod) != c.cons)
				break;
			cpu_relax();
		}
		if (peer_ring_cons_sleep_prepare(&c)) {
			r.sleeps++;
			bell_wait(my_bell);
		}
	}
	if (write(out_fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		perror("result write");
	peer_ring_cons_detach(&c);
	_exit(0);
}

int main(int argc, char **argv)
{
	uint32_t size = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 64;
	double secs = argc > 2 ? atof(argv[2]) : 1.0;
	unsigned spin_us = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 0) : 20;
	static uint8_t src[PEER_RING_REC_MAX];
	struct peer_ring_prod p;
	struct result pr = { 0 }, cr = { 0 };
	char name[64];
	int ring_fd, cons_bell, prod_bell, pipefd[2], st;
	uint64_t t0, t1, end;
	uint32_t seq = 0;
	pid_t pid;

	if (size < PEER_RING_REC_MIN + 4 || size > PEER_RING_REC_MAX) {
		fprintf(stderr, "frame size must be %u..%u\n", PEER_RING_REC_MIN + 4,
			PEER_RING_REC_MAX);
		return 2;
	}
	snprintf(name, sizeof(name), "/vnet-bench-%d", (int)getpid());
	if (peer_ring_create(&p, name, PEER_RING_DEF_DESC, PEER_RING_DEF_DATA, &ring_fd)) {
		perror("create");
		return 1;
	}
	/* Only the fds matter from here on: nothing is left in /dev/shm
	 * even if we are killed. */
	shm_unlink(name);
	cons_bell = eventfd(0, EFD_NONBLOCK);
	prod_bell = eventfd(0, EFD_NONBLOCK);
	if (cons_bell < 0 || prod_bell < 0 || pipe(pipefd) < 0) {
		perror("eventfd/pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0)
		consumer(ring_fd, size, cons_bell, prod_bell, spin_us, pipefd[1]);

	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	for (bool finishing = false;;) {
		uint32_t len = size;
		unsigned n = 0;
		uint8_t *w;

		if (!finishing && now_ns() >= end)
			finishing = true;
		if (finishing)
			len = 16;	/* the end marker */
		peer_ring_prod_awake(&p);
		while (n < (finishing ? 1u : BATCH) && (w = peer_ring_reserve(&p, len))) {
			uint32_t v = finishing ? UINT32_MAX : seq++;

			/* Copy the whole frame in, as the device copies it out
			 * of guest memory. */
			memcpy(w, src, len);
			memcpy(w + 12, &v, sizeof(v));
			peer_ring_commit(&p, len);
			n++;
		}
		if (n && peer_ring_publish(&p)) {
			bell_write(cons_bell);
			pr.bells++;
		}
		if (p.broken) {
			fprintf(stderr, "producer: %s\n", p.reason);
			break;
		}
		if (finishing && n)
			break;
		if ((finishing || n < BATCH) && peer_ring_prod_wait_prepare(&p, len)) {
			pr.sleeps++;
			bell_wait(prod_bell);
		}
	}
	pr.frames = seq;
	if (read(pipefd[0], &cr, sizeof(cr)) != (ssize_t)sizeof(cr))
		cr.bad++;
	t1 = now_ns();
	waitpid(pid, &st, 0);
	peer_ring_prod_destroy(&p, false);

	{
		double dt = (double)(t1 - t0) / 1e9;
		double fps = (double)cr.frames / dt;

		printf("{\"frame_bytes\": %u, \"seconds\": %.3f, \"frames\": %llu, "
		       "\"mfps\": %.3f, \"gbps\": %.2f, "
		       "\"bells_to_consumer_per_frame\": %.5f, "
		       "\"bells_to_producer_per_frame\": %.5f, "
		       "\"consumer_sleeps\": %llu, \"producer_sleeps\": %llu, "
		       "\"bad\": %llu}\n",
		       size, dt, (unsigned long long)cr.frames, fps / 1e6,
		       fps * (size - 12) * 8 / 1e9,
		       cr.frames ? (double)pr.bells / (double)cr.frames : 0.0,
		       cr.frames ? (double)cr.bells / (double)cr.frames : 0.0,
		       (unsigned long long)cr.sleeps, (unsigned long long)pr.sleeps,
		       (unsigned long long)cr.bad);
	}
	return cr.bad || cr.frames != pr.frames || !WIFEXITED(st) ||
	       WEXITSTATUS(st) != 0;
}
