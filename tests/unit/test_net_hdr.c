// SPDX-License-Identifier: MIT
/*
 * test_net_hdr.c - the one virtio-net header rule (common/net_hdr.h):
 * structure (net_hdr_check) over a table of headers, the features
 * that allow each offload in each direction (net_hdr_allowed), and the
 * header's size and layout (net_hdr_len, 5.1.6).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/net_hdr.h"

#define NEEDS_CSUM VIRTIO_NET_HDR_F_NEEDS_CSUM
#define TCPV4	   VIRTIO_NET_HDR_GSO_TCPV4
#define TCPV6	   VIRTIO_NET_HDR_GSO_TCPV6
#define UDP	   VIRTIO_NET_HDR_GSO_UDP
#define ECN	   VIRTIO_NET_HDR_GSO_ECN

struct check_case {
	const char *what;
	struct virtio_net_hdr_v1 h;
	uint32_t frame_len;
	int want;		/* 0 or -EINVAL */
	const char *reason;	/* a word the refusal must name */
};

static const struct check_case check_cases[] = {
	{ "plain frame", { 0 }, 60, 0, NULL },
	{ "DATA_VALID", { .flags = VIRTIO_NET_HDR_F_DATA_VALID }, 60, 0, NULL },
	{ "partial checksum inside", { .flags = NEEDS_CSUM, .csum_start = 34, .csum_offset = 16 },
	  60, 0, NULL },
	{ "checksum field ends at the frame's end",
	  { .flags = NEEDS_CSUM, .csum_start = 50, .csum_offset = 8 }, 60, 0, NULL },
	{ "checksum field one byte past the end",
	  { .flags = NEEDS_CSUM, .csum_start = 50, .csum_offset = 8 }, 59, -EINVAL, "checksum" },
	{ "checksum position far past the frame",
	  { .flags = NEEDS_CSUM, .csum_start = 60000, .csum_offset = 6 }, 60, -EINVAL,
	  "checksum" },
	{ "TCPv4 TSO with ECN", { .flags = NEEDS_CSUM, .gso_type = TCPV4 | ECN, .hdr_len = 54,
				 .gso_size = 1448, .csum_start = 34, .csum_offset = 16 },
	  60000, 0, NULL },
	{ "TCPv6 TSO", { .flags = NEEDS_CSUM, .gso_type = TCPV6, .gso_size = 1428,
			 .csum_start = 54, .csum_offset = 16 }, 60000, 0, NULL },
	{ "UFO", { .gso_type = UDP, .gso_size = 1472 }, 60000, 0, NULL },
	{ "TCPv4 GSO with gso_size 0", { .gso_type = TCPV4 }, 60000, -EINVAL, "gso_size 0" },
	{ "TCPv6 GSO with gso_size 0", { .gso_type = TCPV6 }, 60, -EINVAL, "gso_size 0" },
	{ "GSO hdr_len past the frame", { .gso_type = TCPV4, .gso_size = 1448, .hdr_len = 61 },
	  60, -EINVAL, "hdr_len" },
	{ "ECN without GSO", { .gso_type = ECN }, 60, -EINVAL, "ECN without GSO" },
	{ "ECN on UDP GSO", { .gso_type = UDP | ECN, .gso_size = 1472 }, 6000, -EINVAL,
	  "ECN on UDP" },
	{ "UDP_L4 (USO)", { .gso_type = VIRTIO_NET_HDR_GSO_UDP_L4, .gso_size = 1472 }, 6000,
	  -EINVAL, "UDP_L4" },
	{ "unknown gso_type", { .gso_type = 0x42, .gso_size = 1000 }, 6000, -EINVAL,
	  "unknown gso_type" },
	{ "RSC_INFO from a sender", { .flags = VIRTIO_NET_HDR_F_RSC_INFO }, 60, -EINVAL,
	  "unknown header flags" },
	{ "unknown flag", { .flags = 0x80 }, 60, -EINVAL, "unknown header flags" },
};

static void test_check_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		const struct check_case *c = &check_cases[i];
		char why[256] = "";
		int rc = net_hdr_check(&c->h, c->frame_len, why, sizeof(why));

		if (rc != c->want)
			fail_msg("%s: net_hdr_check returned %d, expected %d (%s)", c->what, rc,
				 c->want, why);
		if (c->reason && !strstr(why, c->reason))
			fail_msg("%s: reason '%s' does not name '%s'", c->what, why, c->reason);
		/* Without a buffer for the reason the verdict is the same. */
		assert_int_equal(net_hdr_check(&c->h, c->frame_len, NULL, 0), c->want);
	}
}


struct allow_case {
	const char *what;
	struct virtio_net_hdr_v1 h;
	uint64_t to_device;	/* the features a sender needs */
	uint64_t to_driver;	/* the features a receiver needs */
};

static const struct allow_case allow_cases[] = {
	{ "plain", { 0 }, 0, 0 },
	{ "partial checksum", { .flags = NEEDS_CSUM, .csum_start = 34, .csum_offset = 16 },
	  VIRTIO_NET_F(CSUM), VIRTIO_NET_F(GUEST_CSUM) },
	{ "TSOv4", { .flags = NEEDS_CSUM, .gso_type = TCPV4, .gso_size = 1448 },
	  VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_TSO4), VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_TSO4) },
	{ "TSOv6", { .flags = NEEDS_CSUM, .gso_type = TCPV6, .gso_size = 1428 },
	  VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_TSO6), VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_TSO6) },
	{ "TSOv4 with ECN", { .flags = NEEDS_CSUM, .gso_type = TCPV4 | ECN, .gso_size = 1448 },
	  VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_TSO4) | VIRTIO_NET_F(HOST_ECN), VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_TSO4) | VIRTIO_NET_F(GUEST_ECN) },
	{ "UFO", { .gso_type = UDP, .gso_size = 1472 }, VIRTIO_NET_F(HOST_UFO), VIRTIO_NET_F(GUEST_UFO) },
};

/* Each case is allowed with exactly its features, and refused when any
 * one of them is missing; the other direction's bits never count. */
static void check_allow(const struct allow_case *c, uint64_t need, uint64_t other,
			enum net_hdr_dir dir)
{
	char why[200] = "";

	if (net_hdr_allowed(&c->h, need, dir, why, sizeof(why)) != 0)
		fail_msg("%s: refused with its features: %s", c->what, why);
	for (unsigned b = 0; b < 64; b++) {
		uint64_t bit = UINT64_C(1) << b;

		if (!(need & bit))
			continue;
		if (net_hdr_allowed(&c->h, (need & ~bit) | other, dir, why, sizeof(why)) !=
		    -EOPNOTSUPP)
			fail_msg("%s: allowed without feature bit %u", c->what, b);
		if (!strstr(why, "feature bit"))
			fail_msg("%s: reason '%s' names no feature", c->what, why);
	}
}

static void test_allowed_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(allow_cases) / sizeof(allow_cases[0]); i++) {
		const struct allow_case *c = &allow_cases[i];

		check_allow(c, c->to_device, c->to_driver, NET_HDR_TO_DEVICE);
		check_allow(c, c->to_driver, c->to_device, NET_HDR_TO_DRIVER);
	}
}

/* 5.1.6: 20 bytes with HASH_REPORT, both ways; 5.1.6.1: 10 for a legacy
 * driver without MRG_RXBUF; else 12. */
static void test_len(void **state)
{
	const uint64_t mrg = VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);
	const uint64_t hash = VIRTIO_BIT(VIRTIO_NET_F_HASH_REPORT);

	(void)state;
	assert_int_equal(net_hdr_len(0, false), 12);
	assert_int_equal(net_hdr_len(mrg, false), 12);
	assert_int_equal(net_hdr_len(0, true), 10);
	assert_int_equal(net_hdr_len(mrg, true), 12);
	assert_int_equal(net_hdr_len(hash, false), 20);
	assert_int_equal(net_hdr_len(hash | mrg, false), 20);
}

/* The hash header as bytes on the wire (little-endian, 5.1.6): the
 * 12-byte header, le32 hash_value, le16 hash_report, le16 padding. */
static void test_hash_hdr_layout(void **state)
{
	struct virtio_net_hdr_v1_hash h;
	uint8_t b[sizeof(h)];
	static const uint8_t want[20] = { 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x00,
					  0x44, 0x33, 0x22, 0x11, 0x06, 0x00, 0x00, 0x00 };

	(void)state;
	memset(&h, 0, sizeof(h));
	h.hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.hdr.num_buffers = 3;
	h.hash_value = 0x11223344;
	h.hash_report = VIRTIO_NET_HASH_REPORT_UDPv6;
	memcpy(b, &h, sizeof(b));
	assert_int_equal(sizeof(b), 20);
	assert_memory_equal(b, want, sizeof(want));
	/* The HASH_CONFIG head (5.1.6.5.5): the key length at 12, after
	 * four reserved le16, as in the RSS command's layout. */
	assert_int_equal(sizeof(struct virtio_net_hash_config_head), 13);
	assert_int_equal(offsetof(struct virtio_net_hash_config_head, reserved), 4);
	assert_int_equal(offsetof(struct virtio_net_hash_config_head, hash_key_length), 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_table),
		cmocka_unit_test(test_allowed_table),
		cmocka_unit_test(test_len),
		cmocka_unit_test(test_hash_hdr_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
