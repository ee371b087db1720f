// SPDX-License-Identifier: MIT
/*
 * test_peerfeats.c - the peer offload rules: the offer table bit by bit,
 * the 5.1.3.1 dependency closure, refusals and their messages, and the
 * feature names used in logs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/peerfeats.h"
#include "common/virtio.h"


/* ---- peerfeats_offer: one row of the table per test ------------------- */

/* Each row given alone, with the dependency it needs so it survives the
 * closure; the dependency's own mapping is part of the expectation. */
static void test_offer_guest_csum_gives_csum(void **state)
{
	(void)state;
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(GUEST_CSUM)), VIRTIO_NET_F(CSUM));
}

static void test_offer_csum_gives_guest_csum(void **state)
{
	(void)state;
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(CSUM)), VIRTIO_NET_F(GUEST_CSUM));
}

static void test_offer_guest_tso4_gives_host_tso4(void **state)
{
	(void)state;
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_TSO4)),
			 VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_TSO4));
}

static void test_offer_guest_tso6_gives_host_tso6(void **state)
{
	(void)state;
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_TSO6)),
			 VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_TSO6));
}

static void test_offer_guest_ufo_gives_host_ufo(void **state)
{
	(void)state;
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_UFO)),
			 VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_UFO));
}

static void test_offer_guest_ecn_gives_host_ecn(void **state)
{
	(void)state;
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_TSO4) | VIRTIO_NET_F(GUEST_ECN)),
			 VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_TSO4) | VIRTIO_NET_F(HOST_ECN));
}

static void test_offer_host_tso4_gives_guest_tso4(void **state)
{
	(void)state;
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_TSO4)),
			 VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_TSO4));
}

static void test_offer_host_tso6_gives_guest_tso6(void **state)
{
	(void)state;
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_TSO6)),
			 VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_TSO6));
}

static void test_offer_host_ufo_gives_guest_ufo(void **state)
{
	(void)state;
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_UFO)),
			 VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_UFO));
}

static void test_offer_host_ecn_gives_guest_ecn(void **state)
{
	(void)state;
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_TSO6) | VIRTIO_NET_F(HOST_ECN)),
			 VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_TSO6) | VIRTIO_NET_F(GUEST_ECN));
}

static void test_offer_gso_gives_gso(void **state)
{
	(void)state;
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(GSO)), VIRTIO_NET_F(GSO));
}

/* ---- peerfeats_offer: the named masks --------------------------------- */

static void test_offer_zero_is_nothing(void **state)
{
	(void)state;
	assert_int_equal(peerfeats_offer(0), 0);
}

static void test_offer_full_mask_is_full_mask(void **state)
{
	(void)state;
	/* 0x7fc3 is its own mirror image. */
	assert_int_equal(peerfeats_offer(0x7fc3), 0x7fc3);
}

static void test_offer_qnx_stack_mask(void **state)
{
	(void)state;
	/* 0x19c3 has both csums, GSO and TSO4/6 both ways: also symmetric. */
	assert_int_equal(peerfeats_offer(0x19c3), 0x19c3);
}

static void test_offer_one_way_is_mirrored(void **state)
{
	(void)state;
	/* The peer receives everything but sends nothing offloaded: our guest
	 * may send offloads but must not be offered receive offloads. */
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_TSO4) | VIRTIO_NET_F(GUEST_TSO6) |
					 VIRTIO_NET_F(GUEST_UFO) | VIRTIO_NET_F(GUEST_ECN)),
			 VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_TSO4) | VIRTIO_NET_F(HOST_TSO6) | VIRTIO_NET_F(HOST_UFO) | VIRTIO_NET_F(HOST_ECN));
}

/* ---- peerfeats_offer: closure ------------------------------------------ */

static void test_offer_drops_tso_without_csum(void **state)
{
	(void)state;
	/* Peer claims GUEST_TSO4 without GUEST_CSUM: HOST_TSO4 would need
	 * CSUM, which we cannot offer, so it goes. */
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(GUEST_TSO4)), 0);
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(HOST_TSO6)), 0);
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(HOST_UFO)), 0);
}

static void test_offer_drops_ecn_without_tso(void **state)
{
	(void)state;
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_ECN)), VIRTIO_NET_F(GUEST_CSUM));
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_ECN)), VIRTIO_NET_F(CSUM));
}

static void test_offer_drops_ecn_when_its_tso_is_dropped(void **state)
{
	(void)state;
	/* Two levels: ECN needs TSO which needs CSUM, and CSUM is missing. */
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(HOST_TSO4) | VIRTIO_NET_F(HOST_ECN)), 0);
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(GSO) | VIRTIO_NET_F(GUEST_TSO6) | VIRTIO_NET_F(GUEST_ECN)), VIRTIO_NET_F(GSO));
}

static void test_offer_ignores_bits_outside_max(void **state)
{
	(void)state;
	assert_int_equal(peerfeats_offer(VIRTIO_NET_F(MRG_RXBUF) | VIRTIO_NET_F(STATUS) | VIRTIO_BIT(32) |
					 VIRTIO_BIT(63) | VIRTIO_NET_F(MAC)),
			 0);
	assert_int_equal(peerfeats_offer(UINT64_MAX), 0x7fc3);
}

static void test_offer_is_always_valid(void **state)
{
	(void)state;
	/* Every subset of the offload bits gives a set that passes the rules. */
	const unsigned bits[] = { 0, 1, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
	const unsigned n = sizeof(bits) / sizeof(bits[0]);

	for (unsigned s = 0; s < (1u << n); s++) {
		uint64_t m = 0;
		char err[256];

		for (unsigned i = 0; i < n; i++)
			if (s & (1u << i))
				m |= VIRTIO_BIT(bits[i]);
		assert_int_equal(peerfeats_validate(peerfeats_offer(m), err, sizeof(err)), 0);
		/* A valid mask loses nothing in the mirror: the rules are
		 * symmetric under the GUEST_ <-> HOST_ swap. */
		if (peerfeats_validate(m, NULL, 0) == 0)
			assert_int_equal(peerfeats_offer(peerfeats_offer(m)), m);
	}
}

/* ---- peerfeats_validate ------------------------------------------------ */

static void test_validate_named_masks(void **state)
{
	char err[256] = "untouched";

	(void)state;
	assert_int_equal(peerfeats_validate(0x0, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(peerfeats_validate(0x3, err, sizeof(err)), 0);
	assert_int_equal(peerfeats_validate(0x19c3, err, sizeof(err)), 0);
	assert_int_equal(peerfeats_validate(0x7fc3, err, sizeof(err)), 0);
	assert_int_equal(peerfeats_validate(VIRTIO_NET_F(GSO), err, sizeof(err)), 0);
}

static void test_validate_refuses_bit_outside(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(peerfeats_validate(VIRTIO_NET_F(MRG_RXBUF), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bit 15 (MRG_RXBUF) is not an offload a peer link carries"));
	assert_non_null(strstr(err, "0x8000"));
	assert_non_null(strstr(err, "0x7fc3"));
}

static void test_validate_names_every_stray_bit(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(peerfeats_validate(0x7fc3 | VIRTIO_NET_F(MAC) | VIRTIO_BIT(4) | VIRTIO_BIT(63),
					    err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "bits 4, 5 (MAC), 63 (SPEED_DUPLEX) are not offloads"));
}

static void test_validate_counts_many_stray_bits(void **state)
{
	char err[256];

	(void)state;
	/* 53 stray bits: six are named, the rest counted, and the message
	 * still ends with what was expected. */
	assert_int_equal(peerfeats_validate(UINT64_MAX, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "peerfeats 0xffffffffffffffff: bits 2 (CTRL_GUEST_OFFLOADS), "));
	assert_non_null(strstr(err, ", 15 (MRG_RXBUF), 16 (STATUS) and 47 more are not offloads"));
	assert_non_null(strstr(err, "(the offload bits are 0x7fc3)"));
}

static void test_validate_stray_bit_wins_over_dependency(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(peerfeats_validate(VIRTIO_NET_F(HOST_TSO4) | VIRTIO_NET_F(STATUS), err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "bit 16 (STATUS)"));
}

static void test_validate_host_tso_needs_csum(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(peerfeats_validate(VIRTIO_NET_F(HOST_TSO4), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "peerfeats 0x800: HOST_TSO4 (bit 11) needs CSUM (bit 0)"));
	assert_int_equal(peerfeats_validate(VIRTIO_NET_F(HOST_TSO6) | VIRTIO_NET_F(GUEST_CSUM), err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "HOST_TSO6 (bit 12) needs CSUM (bit 0)"));
	assert_int_equal(peerfeats_validate(VIRTIO_NET_F(HOST_UFO), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "HOST_UFO (bit 14) needs CSUM (bit 0)"));
}

static void test_validate_guest_tso_needs_guest_csum(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(peerfeats_validate(VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(GUEST_TSO4), err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "GUEST_TSO4 (bit 7) needs GUEST_CSUM (bit 1)"));
	assert_int_equal(peerfeats_validate(VIRTIO_NET_F(GUEST_TSO6), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "GUEST_TSO6 (bit 8) needs GUEST_CSUM (bit 1)"));
	assert_int_equal(peerfeats_validate(VIRTIO_NET_F(GUEST_UFO), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "GUEST_UFO (bit 10) needs GUEST_CSUM (bit 1)"));
}

static void test_validate_ecn_needs_a_tso(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(peerfeats_validate(VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_ECN), err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "GUEST_ECN (bit 9) needs GUEST_TSO4 (bit 7) or GUEST_TSO6 (bit 8)"));
	assert_int_equal(peerfeats_validate(VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_ECN), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "HOST_ECN (bit 13) needs HOST_TSO4 (bit 11) or HOST_TSO6 (bit 12)"));
	/* Either TSO is enough. */
	assert_int_equal(peerfeats_validate(VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_TSO6) | VIRTIO_NET_F(HOST_ECN), NULL, 0), 0);
	assert_int_equal(peerfeats_validate(VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_TSO4) | VIRTIO_NET_F(GUEST_ECN),
					    NULL, 0),
			 0);
}

static void test_validate_tiny_err_buffer(void **state)
{
	char err[8];

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(peerfeats_validate(VIRTIO_NET_F(HOST_TSO4), err, sizeof(err)), -EINVAL);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(peerfeats_validate(VIRTIO_NET_F(HOST_TSO4), NULL, 0), -EINVAL);
	assert_int_equal(peerfeats_validate(UINT64_MAX, err, 1), -EINVAL);
	assert_string_equal(err, "");
}

/* ---- names ------------------------------------------------------------- */

static void test_feature_names(void **state)
{
	(void)state;
	assert_string_equal(virtio_net_feature_name(VIRTIO_NET_F_CSUM), "CSUM");
	assert_string_equal(virtio_net_feature_name(VIRTIO_NET_F_HOST_UFO), "HOST_UFO");
	assert_string_equal(virtio_net_feature_name(VIRTIO_NET_F_MRG_RXBUF), "MRG_RXBUF");
	assert_string_equal(virtio_net_feature_name(VIRTIO_NET_F_CTRL_MAC_ADDR), "CTRL_MAC_ADDR");
	assert_string_equal(virtio_net_feature_name(VIRTIO_F_RING_EVENT_IDX), "RING_EVENT_IDX");
	assert_string_equal(virtio_net_feature_name(VIRTIO_F_VERSION_1), "VERSION_1");
	assert_string_equal(virtio_net_feature_name(VIRTIO_F_RING_PACKED), "RING_PACKED");
	assert_string_equal(virtio_net_feature_name(VIRTIO_F_IN_ORDER), "IN_ORDER");
	assert_string_equal(virtio_net_feature_name(63), "SPEED_DUPLEX");
}

static void test_feature_name_unknown(void **state)
{
	(void)state;
	assert_null(virtio_net_feature_name(4));
	assert_null(virtio_net_feature_name(31));
	assert_null(virtio_net_feature_name(58));
	assert_null(virtio_net_feature_name(64));
	assert_null(virtio_net_feature_name(~0u));
}

static void test_format_list(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(virtio_features_format(0x3, buf, sizeof(buf)), 15);
	assert_string_equal(buf, "CSUM|GUEST_CSUM");
	assert_true(0 < virtio_features_format(0x19c3, buf, sizeof(buf)));
	assert_string_equal(buf, "CSUM|GUEST_CSUM|GSO|GUEST_TSO4|GUEST_TSO6|HOST_TSO4|HOST_TSO6");
	assert_true(0 < virtio_features_format(VIRTIO_NET_F(MAC) | VIRTIO_NET_F(STATUS) |
						       VIRTIO_BIT(VIRTIO_F_VERSION_1),
					       buf, sizeof(buf)));
	assert_string_equal(buf, "MAC|STATUS|VERSION_1");
}

static void test_format_none_and_unknown(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(virtio_features_format(0, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "none");
	assert_true(0 < virtio_features_format(VIRTIO_BIT(4) | VIRTIO_BIT(58) | 1,
					       buf, sizeof(buf)));
	assert_string_equal(buf, "CSUM|bit4|bit58");
}

static void test_format_every_bit_fits_a_big_buffer(void **state)
{
	char buf[1024];
	int n;

	(void)state;
	n = virtio_features_format(UINT64_MAX, buf, sizeof(buf));
	assert_true(0 < n);
	assert_int_equal((size_t)n, strlen(buf));
	assert_non_null(strstr(buf, "|SPEED_DUPLEX"));
}

static void test_format_truncates_safely(void **state)
{
	char buf[12];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(virtio_features_format(0x7fc3, buf, sizeof(buf)), -ENOSPC);
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_string_equal(buf + sizeof(buf) - 4, "...");
	assert_int_equal(virtio_features_format(0x7fc3, buf, 2), -ENOSPC);
	assert_int_equal(strlen(buf), 1);
	assert_int_equal(virtio_features_format(1, buf, 0), -EINVAL);
	assert_int_equal(virtio_features_format(1, NULL, 10), -EINVAL);
	/* Exactly enough room. */
	assert_int_equal(virtio_features_format(1, buf, 5), 4);
	assert_string_equal(buf, "CSUM");
	assert_int_equal(virtio_features_format(1, buf, 4), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer_guest_csum_gives_csum),
		cmocka_unit_test(test_offer_csum_gives_guest_csum),
		cmocka_unit_test(test_offer_guest_tso4_gives_host_tso4),
		cmocka_unit_test(test_offer_guest_tso6_gives_host_tso6),
		cmocka_unit_test(test_offer_guest_ufo_gives_host_ufo),
		cmocka_unit_test(test_offer_guest_ecn_gives_host_ecn),
		cmocka_unit_test(test_offer_host_tso4_gives_guest_tso4),
		cmocka_unit_test(test_offer_host_tso6_gives_guest_tso6),
		cmocka_unit_test(test_offer_host_ufo_gives_guest_ufo),
		cmocka_unit_test(test_offer_host_ecn_gives_guest_ecn),
		cmocka_unit_test(test_offer_gso_gives_gso),
		cmocka_unit_test(test_offer_zero_is_nothing),
		cmocka_unit_test(test_offer_full_mask_is_full_mask),
		cmocka_unit_test(test_offer_qnx_stack_mask),
		cmocka_unit_test(test_offer_one_way_is_mirrored),
		cmocka_unit_test(test_offer_drops_tso_without_csum),
		cmocka_unit_test(test_offer_drops_ecn_without_tso),
		cmocka_unit_test(test_offer_drops_ecn_when_its_tso_is_dropped),
		cmocka_unit_test(test_offer_ignores_bits_outside_max),
		cmocka_unit_test(test_offer_is_always_valid),
		cmocka_unit_test(test_validate_named_masks),
		cmocka_unit_test(test_validate_refuses_bit_outside),
		cmocka_unit_test(test_validate_names_every_stray_bit),
		cmocka_unit_test(test_validate_counts_many_stray_bits),
		cmocka_unit_test(test_validate_stray_bit_wins_over_dependency),
		cmocka_unit_test(test_validate_host_tso_needs_csum),
		cmocka_unit_test(test_validate_guest_tso_needs_guest_csum),
		cmocka_unit_test(test_validate_ecn_needs_a_tso),
		cmocka_unit_test(test_validate_tiny_err_buffer),
		cmocka_unit_test(test_feature_names),
		cmocka_unit_test(test_feature_name_unknown),
		cmocka_unit_test(test_format_list),
		cmocka_unit_test(test_format_none_and_unknown),
		cmocka_unit_test(test_format_every_bit_fits_a_big_buffer),
		cmocka_unit_test(test_format_truncates_safely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
