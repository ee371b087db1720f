// SPDX-License-Identifier: MIT
/* The receive filter a driver programs through the control queue
 * (virtio 1.2, 5.1.6.5.1 and 5.1.6.5.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "host/dev/filter.h"

static const uint8_t me[6] = { 0x52, 0x54, 0, 0, 0, 1 };
static const uint8_t other[6] = { 0x52, 0x54, 0, 0, 0, 2 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };

static void test_reset_is_promiscuous(void **s)
{
	struct net_filter f;

	(void)s;
	net_filter_reset(&f);
	assert_true(net_filter_accept(&f, me, other));
	assert_true(net_filter_accept(&f, me, mcast));
}

static void test_non_promisc_own_and_broadcast_only(void **s)
{
	struct net_filter f;

	(void)s;
	net_filter_reset(&f);
	f.promisc = false;
	assert_true(net_filter_accept(&f, me, me));
	assert_true(net_filter_accept(&f, me, bcast));
	assert_false(net_filter_accept(&f, me, other));
	assert_false(net_filter_accept(&f, me, mcast));
}

static void test_tables(void **s)
{
	struct net_filter f;

	(void)s;
	net_filter_reset(&f);
	f.promisc = false;
	memcpy(f.uni[0], other, 6);
	f.n_uni = 1;
	memcpy(f.multi[0], mcast, 6);
	f.n_multi = 1;
	assert_true(net_filter_accept(&f, me, other));
	assert_true(net_filter_accept(&f, me, mcast));
	f.n_multi = 0;
	assert_false(net_filter_accept(&f, me, mcast));
	f.multi_overflow = true;	/* too long a table: accept the class */
	assert_true(net_filter_accept(&f, me, mcast));
}

static void test_extra_modes(void **s)
{
	struct net_filter f;

	(void)s;
	net_filter_reset(&f);
	f.promisc = false;
	f.allmulti = true;
	assert_true(net_filter_accept(&f, me, mcast));
	f.nomulti = true;
	assert_false(net_filter_accept(&f, me, mcast));
	f.nobcast = true;
	assert_false(net_filter_accept(&f, me, bcast));
	f.alluni = true;
	assert_true(net_filter_accept(&f, me, other));
	f.nouni = true;
	assert_false(net_filter_accept(&f, me, me));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_is_promiscuous),
		cmocka_unit_test(test_non_promisc_own_and_broadcast_only),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_extra_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
