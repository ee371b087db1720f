/* SPDX-License-Identifier: MIT */
/*
 * log.h - one logging entry point with levels and a per-call-site rate
 * limit, so a hostile guest or peer cannot flood the log.
 */
#ifndef VNET_LOG_H
#define VNET_LOG_H

#include <stdint.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Messages above this level are dropped. Default LOG_INFO. */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Prefix for every line (e.g. "vnet-host[vm1]"). The string is copied. */
void log_set_prefix(const char *prefix);

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Rate limit state for one call site: at most `burst` messages per
 * `interval_ms`; suppressed messages are counted and reported with the
 * next one that passes. */
struct log_ratelimit {
	uint64_t window_start_ms;
	uint32_t in_window;
	uint32_t suppressed;
};
int log_ratelimit_ok(struct log_ratelimit *rl, uint32_t *suppressed_out);

#define LOG_RL_BURST	  10
#define LOG_RL_INTERVAL_MS 5000

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Rate-limited log, for anything another process can trigger at will. */
#define log_rl(lvl, fmt, ...)                                                 \
	do {                                                                  \
		static struct log_ratelimit rl_;                              \
		uint32_t sup_;                                                \
		if (log_ratelimit_ok(&rl_, &sup_)) {                          \
			if (sup_)                                             \
				log_msg(lvl, "(%u similar messages suppressed)", \
					sup_);                                \
			log_msg(lvl, fmt, ##__VA_ARGS__);                     \
		}                                                             \
	} while (0)

uint64_t now_ms(void);
uint64_t now_ns(void);

#endif /* VNET_LOG_H */
