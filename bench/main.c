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
 *
 * Common: --size BYTES (frame, default 64), --seconds S (default 3),
 * --poll (busy-poll mode), --poll-us N (spin bound, default 50),
 * --tso (64 KiB TCPv4 frames with GSO), --packed, --label NAME,
 * --pin (ring: producer on CPU 0, consumer on CPU 1, as testpmd's lcores),
 * --epoll (ring: wait in epoll_wait + read, kick with write: the host's
 * way, to compare with io_uring),
 * --cpu-pid PID (report another process's CPU time over the run; up to
 * 4).  bench/run.sh drives all of it (make bench).
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
#include "common/log.h"
#include "common/mac.h"
#include "common/version.h"

static void usage(FILE *f)
{
	fputs("usage: vnet-bench ring|tx|rx|send|recv|ping|pong [--socket PATH]\n"
	      "       [--peer-node DIR SYSTEM NAME] [--dst MAC] [--size BYTES]\n"
	      "       [--seconds S] [--poll] [--poll-us N] [--tso] [--packed]\n"
	      "       [--count N] [--label NAME] [--cpu-pid PID]... [--pin] [--epoll]\n"
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

	printf("{\"scenario\":\"%s\",\"side\":\"%s\",\"mode\":\"%s\",\"wait\":\"%s\",\"size\":%u,"
	       "\"tso\":%s,\"ring\":\"%s\",\"seconds\":%.3f,\"frames\":%llu,\"bytes\":%llu,"
	       "\"pps\":%.0f,\"gbps\":%.3f,\"lost\":%llu,\"reordered\":%llu,"
	       "\"kicks\":%llu,\"irqs\":%llu,\"bells_sent\":%llu,\"bells_recv\":%llu,"
	       "\"sleeps\":%llu,\"wakeups\":%llu,\"submits\":%llu,"
	       "\"notifications_per_frame\":%.4f,\"wakeups_per_frame\":%.4f,"
	       "\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f",
	       r->scenario, r->side, o->poll ? "poll" : "event",
	       o->epoll ? "epoll" : "io_uring", o->size,
	       o->tso ? "true" : "false", o->packed ? "packed" : "split", r->seconds,
	       (unsigned long long)r->frames, (unsigned long long)r->bytes, pps, gbps,
	       (unsigned long long)r->lost, (unsigned long long)r->reordered,
	       (unsigned long long)r->kicks, (unsigned long long)r->irqs,
	       (unsigned long long)r->bells_sent, (unsigned long long)r->bells_recv,
	       (unsigned long long)r->sleeps, (unsigned long long)r->wakeups,
	       (unsigned long long)r->submits,
	       per(r->kicks + r->irqs + r->bells_sent + r->bells_recv, r->frames),
	       per(r->wakeups, r->frames), r->cpu_user, r->cpu_sys);
	if (r->n_other) {
		printf(",\"other_cpu_s\":[");
		for (unsigned i = 0; i < r->n_other; i++)
			printf("%s%.3f", i ? "," : "", r->other_cpu[i]);
		printf("]");
	}
	if (r->samples)
		printf(",\"samples\":%llu,\"rtt_min_us\":%.2f,\"rtt_p50_us\":%.2f,"
		       "\"rtt_p99_us\":%.2f,\"rtt_p999_us\":%.2f,\"rtt_max_us\":%.2f",
		       (unsigned long long)r->samples, r->rtt_min_us, r->rtt_p50_us,
		       r->rtt_p99_us, r->rtt_p999_us, r->rtt_max_us);
	printf("}\n");
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
