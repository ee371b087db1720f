// SPDX-License-Identifier: MIT
/*
 * test_evloop.c - the host event loop's timers: each fires once, a
 * cancelled one never; a callback may arm and cancel timers; all 256
 * slots can be in use at once (then -ENOSPC), and freed slots are found
 * again, also when the loop's scans stop at the last slot in use.  No
 * order is asserted between timers that a slow round may find due
 * together (they then run in slot order).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "host/evloop.h"

#define NSLOTS 256

struct rec {
	struct evloop *l;
	int order[2 * NSLOTS];
	unsigned n;
	long cancel_me;		/* a timer the next callback cancels */
	unsigned rearm;		/* callbacks that arm one more timer */
};

static struct rec R;

static void fired(void *arg)
{
	R.order[R.n++] = (int)(intptr_t)arg;
	if (R.cancel_me) {
		ev_timer_cancel(R.l, R.cancel_me);
		R.cancel_me = 0;
	}
	if (R.rearm) {
		R.rearm--;
		assert_true(ev_timer_us(R.l, 10, fired, (void *)(intptr_t)(100 + R.rearm)) > 0);
	}
}

static void stop(void *arg)
{
	evloop_stop(arg);
}

static void run_until(struct evloop *l, unsigned ms)
{
	assert_true(ev_timer(l, ms, stop, l) > 0);
	assert_int_equal(evloop_run(l), 0);
}

/* Each timer fires once; a cancelled one never does, also when the
 * cancel comes from a callback. */
static void test_order_and_cancel(void **state)
{
	struct evloop *l = evloop_new();
	long a, b, c, d;

	(void)state;
	assert_non_null(l);
	R = (struct rec){ .l = l };
	a = ev_timer(l, 30, fired, (void *)3);
	b = ev_timer(l, 10, fired, (void *)1);
	c = ev_timer(l, 20, fired, (void *)2);
	d = ev_timer(l, 25, fired, (void *)9);
	assert_true(a > 0 && b > 0 && c > 0 && d > 0);
	ev_timer_cancel(l, c);
	ev_timer_cancel(l, c);	/* twice: harmless */
	R.cancel_me = d;	/* the first to fire cancels d */
	run_until(l, 60);
	assert_int_equal(R.n, 2);
	assert_true((R.order[0] == 1 && R.order[1] == 3) || (R.order[0] == 3 && R.order[1] == 1));
	evloop_free(l);
}

/* Every slot in use at once: the next arm is refused; with the slots at
 * the end freed first (cancelled, or fired) the loop still finds the
 * ones before them, and every one fires exactly once. */
static void test_all_slots(void **state)
{
	struct evloop *l = evloop_new();
	long ids[NSLOTS];

	(void)state;
	assert_non_null(l);
	R = (struct rec){ .l = l };
	for (int i = 0; i < NSLOTS; i++) {
		/* The last slots fall due first. */
		ids[i] = ev_timer_us(l, 20000 + (uint64_t)(NSLOTS - i) * 20, fired,
				     (void *)(intptr_t)i);
		assert_true(ids[i] > 0);
	}
	assert_int_equal(ev_timer(l, 1, fired, (void *)-1), -ENOSPC);
	/* Free the top half from the end, then arm into the freed slots. */
	for (int i = NSLOTS - 1; i >= NSLOTS / 2; i--)
		ev_timer_cancel(l, ids[i]);
	for (int i = NSLOTS / 2; i < NSLOTS - 1; i++)
		assert_true(ev_timer_us(l, 30000, fired, (void *)(intptr_t)(1000 + i)) > 0);
	/* One slot is left for run_until's stop timer. */
	run_until(l, 100);
	assert_int_equal(R.n, NSLOTS - 1);
	{
		unsigned char seen[NSLOTS] = { 0 };

		for (unsigned k = 0; k < R.n; k++) {
			int v = R.order[k];

			/* The first half (due first, in lower slots) before
			 * the re-armed ones; each exactly once. */
			if (k < NSLOTS / 2) {
				assert_true(v >= 0 && v < NSLOTS / 2);
			} else {
				assert_true(v >= 1000 + NSLOTS / 2 && v < 1000 + NSLOTS - 1);
				v -= 1000;
			}
			assert_int_equal(seen[v]++, 0);
		}
	}
	evloop_free(l);
}

/* A callback may arm new timers: each fires later, once. */
static void test_rearm_from_callback(void **state)
{
	struct evloop *l = evloop_new();

	(void)state;
	assert_non_null(l);
	R = (struct rec){ .l = l, .rearm = 5 };
	assert_true(ev_timer(l, 1, fired, (void *)7) > 0);
	run_until(l, 80);
	assert_int_equal(R.n, 6);
	assert_int_equal(R.order[0], 7);
	for (unsigned k = 1; k < 6; k++)
		assert_int_equal(R.order[k], 100 + 5 - (int)k);
	evloop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_cancel),
		cmocka_unit_test(test_all_slots),
		cmocka_unit_test(test_rearm_from_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
