/* SPDX-License-Identifier: MIT */
/*
 * ring_cases.h - runs one set of ring test bodies over a table of ring
 * configurations (layout and negotiated features), as liburing's tests
 * loop one body over its ring setups.  Each configuration becomes one
 * cmocka group, and every case in it is named "<config>: <case>", so a
 * failure says which layout and features it ran with.
 */
#ifndef VNET_TESTS_RING_CASES_H
#define VNET_TESTS_RING_CASES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/ring/vq.h"

struct ring_cfg {
	const char *name;	/* "split", "packed+EVENT_IDX", ... */
	enum vq_layout layout;
	uint32_t flags;		/* VQ_F_* negotiated */
};

/* Masks of layouts a case runs for. */
#define RING_SPLIT	(1u << VQ_SPLIT)
#define RING_PACKED	(1u << VQ_PACKED)
#define RING_ALL	(RING_SPLIT | RING_PACKED)

/* A case runs in every configuration of its layouts that negotiates all
 * of `need` and none of `forbid`. */
struct ring_case {
	const char *name;
	CMUnitTestFunction fn;
	unsigned layouts;
	uint32_t need, forbid;
};

#define RING_CASE(fn, layouts, need, forbid) { #fn, fn, layouts, need, forbid }

/* The configuration a case runs with (its cmocka state). */
static inline const struct ring_cfg *ring_cfg_of(void **state)
{
	return *state;
}

/* Runs every case over every configuration it applies to; the number
 * of failed cases (0: all passed). */
int ring_cases_run(const struct ring_cfg *cfgs, size_t ncfgs,
		   const struct ring_case *cases, size_t ncases);

#endif /* VNET_TESTS_RING_CASES_H */
