// SPDX-License-Identifier: MIT
/*
 * vnet-bench - io_uring-driven benchmarks of vnet's data path.
 *
 *   vnet-bench ring  [--size B] [--seconds S] [--poll [--poll-us N]]
 *   vnet-bench tx    --socket PATH --peer-node DIR SYSTEM NAME [...]
 *   vnet-bench rx    --socket PATH --peer-node DIR SYSTEM NAME [...]
 *   vnet-bench send  --socket PATH --dst MAC [...]
 *   vnet-bench recv  --socket PATH [...]
 *   vnet-bench ping  --socket PATH --dst MAC [--count N] [...]
 *   vnet-bench pong  --socket PATH [...]
 *   vnet-bench sink   --peer-node DIR SYSTEM NAME [...]
 *   vnet-bench source --peer-node DIR SYSTEM NAME --dst MAC [...]
 *   vnet-bench limits [--seconds S]
 *
 * Common: --size BYTES (frame, default 64), --seconds S (default 3),
 * --poll (busy-poll mode), --poll-us N (spin bound, default 50),
 * --tso (64 KiB TCPv4 frames with GSO), --packed, --label NAME,
 * --pin (ring: producer on CPU 0, consumer on CPU 1, as testpmd's lcores),
 * --epoll (ring: wait in epoll_wait + read, kick with write: the host's
 * way, to compare with io_uring),
 * --cpu-pid PID (report another process's CPU time over the run; up to
 * 4), --hugepages (the guest's RAM on huge pages).  sink and source are
 * only the peer of a vdev that another frontend drives (DPDK's
 * virtio-user through the vhost-user face); limits measures the machine
 * (limits.c).  bench/run.sh drives all of it (make bench).
 *
 * Output: one JSON object per measured side on stdout.  Exit 0 on a
 * completed measurement, 1 when it failed, 2 on a usage error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>

#include "bench/bench.h"
#include "common/jsonout.h"
#include "common/log.h"
#include "common/mac.h"
#include "common/version.h"

static void usage(FILE *f)
{
	fputs("usage: vnet-bench ring|tx|rx|send|recv|ping|pong|sink|source|limits\n"
	      "       [--socket PATH] [--peer-node DIR SYSTEM NAME] [--dst MAC]\n"
	      "       [--size BYTES] [--seconds S] [--poll] [--poll-us N] [--tso]\n"
	      "       [--packed] [--hugepages] [--count N] [--label NAME]\n"
	      "       [--cpu-pid PID]... [--pin] [--epoll]\n"
	      "       vnet-bench --version\n", f);
}

void bench_cpu_self(double *user, double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

double bench_cpu_pid(unsigned pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* comm may hold spaces: fields resume after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

void bench_pin(unsigned cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		log_warn("cannot pin to CPU %u: %s", cpu, strerror(errno));
}

static double per(uint64_t x, uint64_t frames)
{
	return frames ? (double)x / (double)frames : 0;
}

void bench_print(const struct bench_opts *o, const struct bench_result *r)
{
	double pps = r->seconds > 0 ? (double)r->frames / r->seconds : 0;
	double gbps = r->seconds > 0 ? (double)r->bytes * 8 / r->seconds / 1e9 : 0;

	json_object *j = json_object_new_object();

#define PUT(key, v) json_object_object_add(j, key, v)
	PUT("scenario", json_object_new_string(r->scenario));
	PUT("side", json_object_new_string(r->side));
	PUT("mode", json_object_new_string(o->poll ? "poll" : "event"));
	PUT("wait", json_object_new_string(o->epoll ? "epoll" : "io_uring"));
	PUT("size", json_object_new_uint64(o->size));
	PUT("tso", json_object_new_boolean(o->tso));
	PUT("ring", json_object_new_string(o->packed ? "packed" : "split"));
	PUT("hugepages", json_object_new_boolean(o->hugepages));
	PUT("seconds", jsonout_double(r->seconds, 3));
	PUT("frames", json_object_new_uint64(r->frames));
	PUT("bytes", json_object_new_uint64(r->bytes));
	PUT("pps", jsonout_double(pps, 0));
	PUT("gbps", jsonout_double(gbps, 3));
	PUT("lost", json_object_new_uint64(r->lost));
	PUT("reordered", json_object_new_uint64(r->reordered));
	PUT("kicks", json_object_new_uint64(r->kicks));
	PUT("irqs", json_object_new_uint64(r->irqs));
	PUT("bells_sent", json_object_new_uint64(r->bells_sent));
	PUT("bells_recv", json_object_new_uint64(r->bells_recv));
	PUT("sleeps", json_object_new_uint64(r->sleeps));
	PUT("wakeups", json_object_new_uint64(r->wakeups));
	PUT("submits", json_object_new_uint64(r->submits));
	PUT("notifications_per_frame",
	    jsonout_double(per(r->kicks + r->irqs + r->bells_sent + r->bells_recv, r->frames), 4));
	PUT("wakeups_per_frame", jsonout_double(per(r->wakeups, r->frames), 4));
	PUT("cpu_user_s", jsonout_double(r->cpu_user, 3));
	PUT("cpu_sys_s", jsonout_double(r->cpu_sys, 3));
	if (r->n_other) {
		json_object *a = json_object_new_array();

		for (unsigned i = 0; i < r->n_other; i++)
			json_object_array_add(a, jsonout_double(r->other_cpu[i], 3));
		PUT("other_cpu_s", a);
	}
	if (r->samples) {
		PUT("samples", json_object_new_uint64(r->samples));
		PUT("rtt_min_us", jsonout_double(r->rtt_min_us, 2));
		PUT("rtt_p50_us", jsonout_double(r->rtt_p50_us, 2));
		PUT("rtt_p99_us", jsonout_double(r->rtt_p99_us, 2));
		PUT("rtt_p999_us", jsonout_double(r->rtt_p999_us, 2));
		PUT("rtt_max_us", jsonout_double(r->rtt_max_us, 2));
	}
#undef PUT
	/* One compact line, as bench/run.sh and test_bench.sh read it. */
	puts(json_object_to_json_string_ext(j, JSONOUT_PLAIN));
	json_object_put(j);
	fflush(stdout);
}

static bool num(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return s[0] && !*end && !errno && *out <= max;
}

int main(int argc, char **argv)
{
	struct bench_opts o = { .size = 64, .seconds = 3, .poll_us = 50 };
	unsigned long long v;

	if (vnet_print_version(argc, argv, "vnet-bench"))
		return 0;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	o.cmd = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;

		if (!strcmp(a, "--socket") && more) {
			o.socket = argv[++i];
		} else if (!strcmp(a, "--peer-node") && i + 3 < argc) {
			o.peer_dir = argv[++i];
			o.peer_system = argv[++i];
			o.peer_name = argv[++i];
		} else if (!strcmp(a, "--dst") && more) {
			if (mac_parse(argv[++i], o.dst, NULL, 0) < 0) {
				fprintf(stderr, "vnet-bench: --dst '%s': not a MAC\n", argv[i]);
				return 2;
			}
			o.have_dst = true;
		} else if (!strcmp(a, "--size") && more && num(argv[i + 1], VNET_MAX_GSO_FRAME, &v)) {
			o.size = (uint32_t)v;
			i++;
		} else if (!strcmp(a, "--seconds") && more) {
			o.seconds = atof(argv[++i]);
			if (!(o.seconds > 0 && o.seconds <= 3600)) {
				fprintf(stderr, "vnet-bench: --seconds: 0 < S <= 3600\n");
				return 2;
			}
		} else if (!strcmp(a, "--poll")) {
			o.poll = true;
		} else if (!strcmp(a, "--poll-us") && more && num(argv[i + 1], 1000000, &v)) {
			o.poll_us = (unsigned)v;
			i++;
		} else if (!strcmp(a, "--tso")) {
			o.tso = true;
		} else if (!strcmp(a, "--epoll")) {
			o.epoll = true;
		} else if (!strcmp(a, "--pin")) {
			o.pin = true;
		} else if (!strcmp(a, "--packed")) {
			o.packed = true;
		} else if (!strcmp(a, "--hugepages")) {
			o.hugepages = true;
		} else if (!strcmp(a, "--count") && more && num(argv[i + 1], 100000000, &v)) {
			o.count = v;
			i++;
		} else if (!strcmp(a, "--label") && more) {
			o.label = argv[++i];
		} else if (!strcmp(a, "--cpu-pid") && more && o.n_cpu_pids < 4 &&
			   num(argv[i + 1], 1u << 30, &v)) {
			o.cpu_pids[o.n_cpu_pids++] = (unsigned)v;
			i++;
		} else {
			fprintf(stderr, "vnet-bench: bad or incomplete option '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (o.size < 60) {
		fprintf(stderr, "vnet-bench: --size: at least 60 bytes\n");
		return 2;
	}
	if (!strcmp(o.cmd, "ring"))
		return bench_ring(&o);
	if (!strcmp(o.cmd, "limits"))
		return bench_limits(&o);
	if (!strcmp(o.cmd, "sink") || !strcmp(o.cmd, "source"))
		return bench_guest(&o);
	if (strcmp(o.cmd, "tx") && strcmp(o.cmd, "rx") && strcmp(o.cmd, "send") &&
	    strcmp(o.cmd, "recv") && strcmp(o.cmd, "ping") && strcmp(o.cmd, "pong")) {
		usage(stderr);
		return 2;
	}
	if (!o.socket) {
		fprintf(stderr, "vnet-bench: %s needs --socket PATH\n", o.cmd);
		return 2;
	}
	return bench_guest(&o);
}
