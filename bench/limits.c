// SPDX-License-Identifier: MIT
/*
 * limits.c - `vnet-bench limits`: what this machine allows a round trip,
 * measured in the same run as the scenarios (bench/run.sh), so that a
 * ping-pong figure is read against the machine it ran on, under the load
 * it ran under:
 *
 *   eventfd wake-up   two processes, each blocked in read() on an eventfd
 *                     of its own; A writes B's and blocks on its own, B
 *                     wakes, writes A's and blocks again.  A round trip is
 *                     two wake-ups (write, wake, switch in, read returns),
 *                     so a sample is half of one timed round trip.  Both
 *                     on one CPU (same-core: the writer runs on until it
 *                     blocks, then the CPU switches to the other) and on
 *                     two (cross-core: the other CPU is woken by an
 *                     interrupt, out of idle or off what it runs).
 *   cache line        two processes on two CPUs take turns incrementing a
 *                     counter in one shared cache line, spinning on it:
 *                     every increment moves the line to the other CPU.  A
 *                     clock read costs about as much as one transfer, so
 *                     batches of CL_BATCH round trips are timed, and a
 *                     sample is a batch's time over its 2 x CL_BATCH
 *                     transfers.
 *
 * Processes, not threads: the data path's wake-ups cross processes
 * (guest driver, device, peer), and a switch between processes also
 * switches the address space.  Each of the three measurements gets a
 * third of --seconds; the first round trips (WARMUP) are not counted.
 * One JSON line per measurement: scenario "limit-eventfd" (side
 * "same-core", "cross-core") and "limit-cacheline" (side "cross-core"),
 * with min, p50, p99 and max in microseconds.  With one CPU only the
 * same-core line is printed.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "common/barrier.h"
#include "common/jsonout.h"
#include "common/log.h"

#define MAX_SAMPLES	1000000u
#define WARMUP		200u	/* round trips (eventfd) or batches (cache line) */
#define CL_WARMUP	10u
#define CL_BATCH	100u	/* cache-line round trips per timed sample */
#define CL_STOP		UINT64_MAX	/* odd: the answering side looks at it */
/* A spinning side gives up when the other has not answered for this
 * long (it died, or never got a CPU): a failed measurement, not a hang. */
#define STUCK_NS	5000000000ull

struct lim_line {
	/* The ping-ponged counter alone in its line: the flag beside it
	 * must not move with it. */
	_Alignas(64) uint64_t v;
	_Alignas(64) int ready;
};

struct lim_stats {
	const char *scenario, *side;
	int cpu_a, cpu_b;
	uint64_t n;
	double seconds;
	double min, p50, p99, max;	/* microseconds */
};

static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

/* The child's half: dies with the parent (it may be spinning). */
static void child_setup(pid_t parent, int cpu)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent || pin_to(cpu) < 0)
		_exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void summarize(struct lim_stats *st, double *s, uint64_t n)
{
	qsort(s, n, sizeof(*s), cmp_double);
	st->n = n;
	st->min = s[0];
	st->max = s[n - 1];
	/* Nearest rank, as the ping side of guest.c computes its own. */
	st->p50 = s[(uint64_t)(0.50 * (double)(n - 1) + 0.5)];
	st->p99 = s[(uint64_t)(0.99 * (double)(n - 1) + 0.5)];
}

static int reap(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

static int eventfd_pingpong(struct lim_stats *st, double secs, double *s)
{
	static const uint64_t one = 1, stop = 2;
	int to_b = eventfd(0, EFD_CLOEXEC), to_a = eventfd(0, EFD_CLOEXEC);
	pid_t parent = getpid(), pid;
	uint64_t n = 0, v, t0 = now_ns(), deadline = t0 + (uint64_t)(secs * 1e9);
	int rc = 0;

	if (to_b < 0 || to_a < 0) {
		rc = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (pid == 0) {
		child_setup(parent, st->cpu_b);
		/* A value other than 1 is the parent's stop. */
		while (read(to_b, &v, sizeof(v)) == sizeof(v) && v == 1)
			if (write(to_a, &one, sizeof(one)) != sizeof(one))
				_exit(1);
		_exit(0);
	}
	rc = pin_to(st->cpu_a);
	for (uint64_t i = 0; rc == 0 && n < MAX_SAMPLES; i++) {
		uint64_t a = now_ns(), b;

		if (write(to_b, &one, sizeof(one)) != sizeof(one) ||
		    read(to_a, &v, sizeof(v)) != sizeof(v)) {
			rc = -EIO;
			break;
		}
		b = now_ns();
		if (i >= WARMUP)
			s[n++] = (double)(b - a) / 2e3;
		if (b >= deadline)
			break;
	}
	if (write(to_b, &stop, sizeof(stop)) != sizeof(stop))
		kill(pid, SIGKILL);
	if (reap(pid) < 0 && rc == 0)
		rc = -ECHILD;
	st->seconds = (double)(now_ns() - t0) / 1e9;
	if (rc == 0 && n == 0)
		rc = -EAGAIN;
	if (rc == 0)
		summarize(st, s, n);
out:
	if (to_b >= 0)
		close(to_b);
	if (to_a >= 0)
		close(to_a);
	return rc;
}

/* Spins until the line holds want; false when the other side is stuck. */
static bool wait_line(struct lim_line *l, uint64_t want)
{
	uint64_t since = 0;

	for (uint32_t spins = 1; __atomic_load_n(&l->v, __ATOMIC_ACQUIRE) != want; spins++) {
		/* No cpu_relax: a pause would be part of what is measured.
		 * The clock only every 64Ki spins. */
		if (spins % 65536 == 0) {
			uint64_t t = now_ns();

			if (!since)
				since = t;
			else if (t - since > STUCK_NS)
				return false;
		}
	}
	return true;
}

static int cacheline_pingpong(struct lim_stats *st, double secs, double *s)
{
	struct lim_line *l = mmap(NULL, sizeof(*l), PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t parent = getpid(), pid;
	uint64_t n = 0, x = 0, t0 = now_ns(), deadline = t0 + (uint64_t)(secs * 1e9);
	int rc;

	if (l == MAP_FAILED)
		return -errno;
	memset(l, 0, sizeof(*l));
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		munmap(l, sizeof(*l));
		return rc;
	}
	if (pid == 0) {
		child_setup(parent, st->cpu_b);
		__atomic_store_n(&l->ready, 1, __ATOMIC_RELEASE);
		for (;;) {
			uint64_t v;

			/* The parent makes it odd; we make it even again.
			 * PDEATHSIG ends this loop if the parent dies. */
			while (!((v = __atomic_load_n(&l->v, __ATOMIC_ACQUIRE)) & 1))
				;
			if (v == CL_STOP)
				_exit(0);
			__atomic_store_n(&l->v, v + 1, __ATOMIC_RELEASE);
		}
	}
	rc = pin_to(st->cpu_a);
	while (rc == 0 && !__atomic_load_n(&l->ready, __ATOMIC_ACQUIRE)) {
		if (now_ns() - t0 > STUCK_NS)
			rc = -ETIMEDOUT;
		usleep(100);
	}
	for (uint64_t i = 0; rc == 0 && n < MAX_SAMPLES; i++) {
		uint64_t a = now_ns(), b;

		for (unsigned j = 0; j < CL_BATCH; j++) {
			__atomic_store_n(&l->v, x + 1, __ATOMIC_RELEASE);
			x += 2;
			if (!wait_line(l, x)) {
				rc = -ETIMEDOUT;
				break;
			}
		}
		b = now_ns();
		if (rc == 0 && i >= CL_WARMUP)
			s[n++] = (double)(b - a) / (2e3 * CL_BATCH);
		if (b >= deadline)
			break;
	}
	__atomic_store_n(&l->v, CL_STOP, __ATOMIC_RELEASE);
	if (rc < 0)
		kill(pid, SIGKILL);
	if (reap(pid) < 0 && rc == 0)
		rc = -ECHILD;
	st->seconds = (double)(now_ns() - t0) / 1e9;
	munmap(l, sizeof(*l));
	if (rc == 0 && n == 0)
		rc = -EAGAIN;
	if (rc == 0)
		summarize(st, s, n);
	return rc;
}

static void print_stats(const struct bench_opts *o, const struct lim_stats *st)
{
	json_object *j = json_object_new_object(), *cpus = json_object_new_array();

	json_object_array_add(cpus, json_object_new_int(st->cpu_a));
	json_object_array_add(cpus, json_object_new_int(st->cpu_b));
#define PUT(key, v) json_object_object_add(j, key, v)
	PUT("scenario", json_object_new_string(st->scenario));
	PUT("side", json_object_new_string(st->side));
	if (o->label)
		PUT("label", json_object_new_string(o->label));
	PUT("cpus", cpus);
	PUT("samples", json_object_new_uint64(st->n));
	PUT("seconds", jsonout_double(st->seconds, 3));
	PUT("min_us", jsonout_double(st->min, 3));
	PUT("p50_us", jsonout_double(st->p50, 3));
	PUT("p99_us", jsonout_double(st->p99, 3));
	PUT("max_us", jsonout_double(st->max, 3));
#undef PUT
	puts(json_object_to_json_string_ext(j, JSONOUT_PLAIN));
	json_object_put(j);
	fflush(stdout);
}

int bench_limits(const struct bench_opts *o)
{
	cpu_set_t orig;
	int cpus[2] = { -1, -1 }, ncpu = 0, failed = 0;
	double secs = o->seconds / 3, *s = malloc(MAX_SAMPLES * sizeof(*s));
	struct lim_stats st[3] = {
		{ .scenario = "limit-eventfd", .side = "same-core" },
		{ .scenario = "limit-eventfd", .side = "cross-core" },
		{ .scenario = "limit-cacheline", .side = "cross-core" },
	};

	if (!s || sched_getaffinity(0, sizeof(orig), &orig) < 0) {
		free(s);
		fprintf(stderr, "vnet-bench: limits: %s\n", strerror(errno));
		return 1;
	}
	/* The first two CPUs this process may use: CPU 0 and 1 as a rule,
	 * the CPUs bench/run.sh pins the one-hop sides to. */
	for (int c = 0; c < CPU_SETSIZE && ncpu < 2; c++)
		if (CPU_ISSET(c, &orig))
			cpus[ncpu++] = c;
	st[0].cpu_a = st[0].cpu_b = cpus[0];
	st[1].cpu_a = st[2].cpu_a = cpus[0];
	st[1].cpu_b = st[2].cpu_b = cpus[1];
	for (int i = 0; i < 3; i++) {
		int rc;

		if (i > 0 && ncpu < 2) {
			log_warn("limits: one CPU only: no %s %s", st[i].scenario, st[i].side);
			continue;
		}
		rc = i < 2 ? eventfd_pingpong(&st[i], secs, s) : cacheline_pingpong(&st[i], secs, s);
		/* Unpinned again: the next measurement picks its own CPUs. */
		sched_setaffinity(0, sizeof(orig), &orig);
		if (rc < 0) {
			fprintf(stderr, "vnet-bench: limits: %s %s: %s\n", st[i].scenario,
				st[i].side, strerror(-rc));
			failed = 1;
			continue;
		}
		print_stats(o, &st[i]);
	}
	free(s);
	return failed;
}
