// SPDX-License-Identifier: MIT
#include "log.h"

#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum log_level log_level_cur = LOG_INFO;
static char log_prefix[64] = "vnet";

void log_set_level(enum log_level lvl) { log_level_cur = lvl; }
enum log_level log_get_level(void) { return log_level_cur; }

void log_set_prefix(const char *prefix)
{
	snprintf(log_prefix, sizeof(log_prefix), "%s", prefix);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t now_ms(void) { return now_ns() / 1000000ull; }

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[1024];
	va_list ap;
	int n;

	if (lvl > log_level_cur)
		return;
	n = snprintf(line, sizeof(line), "%s: %s: ", log_prefix, names[lvl]);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line so lines from several processes do not interleave. */
	fprintf(stderr, "%s\n", line);
}

/* vnet-host's data-path threads log through the same call sites. */
static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;

int log_ratelimit_ok(struct log_ratelimit *rl, uint32_t *suppressed_out)
{
	uint64_t t = now_ms();
	int ok = 1;

	pthread_mutex_lock(&rl_lock);
	*suppressed_out = 0;
	if (t - rl->window_start_ms >= LOG_RL_INTERVAL_MS || rl->window_start_ms == 0) {
		*suppressed_out = rl->suppressed;
		rl->window_start_ms = t ? t : 1;
		rl->in_window = 0;
		rl->suppressed = 0;
	}
	if (rl->in_window >= LOG_RL_BURST) {
		rl->suppressed++;
		ok = 0;
	} else {
		rl->in_window++;
	}
	pthread_mutex_unlock(&rl_lock);
	return ok;
}
