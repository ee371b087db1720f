/* SPDX-License-Identifier: MIT */
/*
 * hist.h - a latency histogram (log-linear, ~1.6% buckets): exact below
 * 128, then 64 buckets per power of two.  ping's round-trip times.
 */
#ifndef VNET_GUEST_TOOL_HIST_H
#define VNET_GUEST_TOOL_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 6
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_BUCKETS  (2 * HIST_SUB + (63 - HIST_SUB_BITS - 1) * HIST_SUB)

struct hist {
	uint64_t n, min, max;
	uint64_t b[HIST_BUCKETS];
};

void hist_add(struct hist *h, uint64_t v);
/* The p-quantile (0..1), within a bucket's width, clamped to min..max. */
uint64_t hist_pct(const struct hist *h, double p);

#endif /* VNET_GUEST_TOOL_HIST_H */
