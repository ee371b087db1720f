// SPDX-License-Identifier: MIT
/*
 * test_frame.c - the test frame format: build/check round trips at the
 * sizes that matter, and every corruption class detected with its own
 * error (a flipped byte anywhere in the checked part, truncation, extra
 * bytes, wrong magic, wrong length, unknown kind, foreign EtherType).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guest/frame.h"

static const uint8_t dst[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t src[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x02 };

#define OFF_KIND 18
#define OFF_PLEN 38

static uint8_t *frame_buf(void)
{
	uint8_t *b = malloc(FRAME_MAX_LEN + 64);

	assert_non_null(b);
	return b;
}

static void test_crc32_known_value(void **state)
{
	(void)state;
	/* The standard CRC-32 check value. */
	assert_int_equal(frame_crc32("123456789", 9), 0xCBF43926u);
	assert_int_equal(frame_crc32("", 0), 0);
}

static void test_round_trip_sizes(void **state)
{
	static const size_t sizes[] = { 0, 1, 45, 46, 59, 60, 61, 63, 64, 65, 100,
					 127, 128, 1514, 1518, 9014, FRAME_MAX_LEN };
	uint8_t *b = frame_buf();

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t want = sizes[i] < FRAME_MIN_LEN ? FRAME_MIN_LEN : sizes[i];
		struct frame_info fi;
		int len = frame_build_ts(b, sizes[i], dst, src, FRAME_DATA, 1000 + i, 77);

		assert_int_equal(len, (int)want);
		assert_int_equal(frame_check(b, (size_t)len, &fi), FRAME_OK);
		assert_memory_equal(fi.dst, dst, 6);
		assert_memory_equal(fi.src, src, 6);
		assert_int_equal(fi.kind, FRAME_DATA);
		assert_int_equal(fi.seq, 1000 + i);
		assert_int_equal(fi.ts_ns, 77);
		assert_int_equal(fi.payload_len, want - FRAME_HDR_LEN);
	}
	free(b);
}

static void test_build_refuses_bad_input(void **state)
{
	uint8_t *b = frame_buf();

	(void)state;
	assert_int_equal(frame_build(b, FRAME_MAX_LEN + 1, dst, src, FRAME_PING, 0), -EINVAL);
	assert_int_equal(frame_build(b, 100, dst, src, 0, 0), -EINVAL);
	assert_int_equal(frame_build(b, 100, dst, src, 4, 0), -EINVAL);
	free(b);
}

static void test_payload_depends_on_seq_not_kind(void **state)
{
	uint8_t a[200], b[200];

	(void)state;
	frame_build_ts(a, sizeof(a), dst, src, FRAME_PING, 5, 1);
	frame_build_ts(b, sizeof(b), dst, src, FRAME_PONG, 5, 1);
	assert_memory_equal(a + FRAME_HDR_LEN, b + FRAME_HDR_LEN, sizeof(a) - FRAME_HDR_LEN);
	frame_build_ts(b, sizeof(b), dst, src, FRAME_PING, 6, 1);
	assert_memory_not_equal(a + FRAME_HDR_LEN, b + FRAME_HDR_LEN,
				sizeof(a) - FRAME_HDR_LEN);
}

/* Every byte of the checked part (EtherType on) flipped, one at a time,
 * is caught; which error depends on where the byte is. */
static void test_every_flipped_byte_detected(void **state)
{
	static const size_t sizes[] = { 60, 61, 67, 200, 1514 };
	uint8_t *b = frame_buf();

	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t len = sizes[s];

		frame_build_ts(b, len, dst, src, FRAME_PING, 42, 9);
		for (size_t off = 12; off < len; off++) {
			struct frame_info fi;
			int rc;

			b[off] ^= 0x01;
			rc = frame_check(b, len, &fi);
			if (off < 14)
				assert_int_equal(rc, FRAME_E_TYPE);
			else if (off < 18)
				assert_int_equal(rc, FRAME_E_MAGIC);
			else if (off < FRAME_HDR_LEN)
				assert_int_equal(rc, FRAME_E_HDR);
			else {
				assert_int_equal(rc, FRAME_E_CONTENT);
				assert_int_equal(fi.bad_offset, off);
			}
			b[off] ^= 0x01;
		}
		assert_int_equal(frame_check(b, len, NULL), FRAME_OK);
	}
	free(b);
}

/* Addresses are not part of the check: a PONG rewrites them. */
static void test_addresses_not_checked(void **state)
{
	uint8_t b[100];

	(void)state;
	frame_build(b, sizeof(b), dst, src, FRAME_PING, 1);
	b[0] ^= 0xff;
	b[11] ^= 0xff;
	assert_int_equal(frame_check(b, sizeof(b), NULL), FRAME_OK);
}

static void test_truncated_and_extended(void **state)
{
	uint8_t *b = frame_buf();

	(void)state;
	frame_build(b, 1000, dst, src, FRAME_DATA, 3);
	/* Missing bytes at the end: the length field disagrees. */
	assert_int_equal(frame_check(b, 999, NULL), FRAME_E_LEN);
	assert_int_equal(frame_check(b, 500, NULL), FRAME_E_LEN);
	assert_int_equal(frame_check(b, FRAME_MIN_LEN, NULL), FRAME_E_LEN);
	/* Below the Ethernet minimum or the header. */
	assert_int_equal(frame_check(b, FRAME_MIN_LEN - 1, NULL), FRAME_E_SHORT);
	assert_int_equal(frame_check(b, FRAME_HDR_LEN - 1, NULL), FRAME_E_SHORT);
	assert_int_equal(frame_check(b, 13, NULL), FRAME_E_SHORT);
	assert_int_equal(frame_check(b, 0, NULL), FRAME_E_SHORT);
	/* Extra bytes after the payload. */
	b[1000] = 0;
	assert_int_equal(frame_check(b, 1001, NULL), FRAME_E_LEN);
	free(b);
}

static void test_wrong_magic(void **state)
{
	uint8_t b[100];

	(void)state;
	frame_build(b, sizeof(b), dst, src, FRAME_DATA, 3);
	memcpy(b + 14, "VNT2", 4);
	frame_reseal(b);	/* even with a valid header check */
	assert_int_equal(frame_check(b, sizeof(b), NULL), FRAME_E_MAGIC);
}

/* A length field that is self-consistent (resealed) but wrong. */
static void test_wrong_length_field(void **state)
{
	uint8_t b[100];
	uint32_t plen;

	(void)state;
	frame_build(b, sizeof(b), dst, src, FRAME_DATA, 3);
	memcpy(&plen, b + OFF_PLEN, 4);
	assert_int_equal(plen, sizeof(b) - FRAME_HDR_LEN);
	plen++;
	memcpy(b + OFF_PLEN, &plen, 4);
	frame_reseal(b);
	assert_int_equal(frame_check(b, sizeof(b), NULL), FRAME_E_LEN);
	plen = UINT32_MAX;
	memcpy(b + OFF_PLEN, &plen, 4);
	frame_reseal(b);
	assert_int_equal(frame_check(b, sizeof(b), NULL), FRAME_E_LEN);
}

static void test_unknown_kind(void **state)
{
	uint8_t b[100];

	(void)state;
	frame_build(b, sizeof(b), dst, src, FRAME_DATA, 3);
	b[OFF_KIND] = 9;
	frame_reseal(b);
	assert_int_equal(frame_check(b, sizeof(b), NULL), FRAME_E_KIND);
}

static void test_foreign_ethertype(void **state)
{
	uint8_t b[100] = { 0 };

	(void)state;
	b[12] = 0x08;		/* IPv4 */
	assert_int_equal(frame_check(b, sizeof(b), NULL), FRAME_E_TYPE);
}

static void test_swapped_payload_between_seqs(void **state)
{
	uint8_t a[300], b[300];

	(void)state;
	frame_build(a, sizeof(a), dst, src, FRAME_DATA, 10);
	frame_build(b, sizeof(b), dst, src, FRAME_DATA, 11);
	/* Frame 10's header with frame 11's payload. */
	memcpy(a + FRAME_HDR_LEN, b + FRAME_HDR_LEN, sizeof(a) - FRAME_HDR_LEN);
	assert_int_equal(frame_check(a, sizeof(a), NULL), FRAME_E_CONTENT);
}

static void test_reply_keeps_seq_payload_timestamp(void **state)
{
	static const uint8_t me[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x09 };
	struct frame_info fi;
	uint8_t b[128];

	(void)state;
	frame_build_ts(b, sizeof(b), dst, src, FRAME_PING, 1234, 5678);
	frame_make_reply(b, me);
	assert_int_equal(frame_check(b, sizeof(b), &fi), FRAME_OK);
	assert_int_equal(fi.kind, FRAME_PONG);
	assert_int_equal(fi.seq, 1234);
	assert_int_equal(fi.ts_ns, 5678);
	assert_memory_equal(fi.dst, src, 6);
	assert_memory_equal(fi.src, me, 6);
}

static void test_strerror_distinct(void **state)
{
	(void)state;
	for (int a = FRAME_E_CONTENT; a <= FRAME_OK; a++)
		for (int b = a + 1; b <= FRAME_OK; b++)
			assert_string_not_equal(frame_strerror(a), frame_strerror(b));
}

/* A flow frame is an IPv4/UDP datagram (valid header checksum, the flow
 * in the source port) around the same checked header and payload; its
 * reply goes back along the flow; broken IPv4 or UDP headers make it a
 * foreign frame. */
static void test_flow_frames(void **state)
{
	uint8_t *b = frame_buf(), ip[20];
	struct frame_info fi;
	uint32_t sum = 0;
	int len;

	(void)state;
	len = frame_build_flow(b, 512, dst, src, FRAME_PING, 77, 5, 13);
	assert_int_equal(len, 512);
	assert_int_equal(b[12] << 8 | b[13], 0x0800);
	memcpy(ip, b + 14, sizeof(ip));
	for (unsigned i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	assert_int_equal(sum, 0xffff);				/* RFC 791 checksum */
	assert_int_equal(ip[9], 17);				/* UDP */
	assert_int_equal(b[34] << 8 | b[35], FRAME_FLOW_PORT_BASE + 13);
	assert_int_equal(frame_check(b, (size_t)len, &fi), FRAME_OK);
	assert_int_equal(fi.flow, 13);
	assert_int_equal(fi.seq, 77);
	assert_int_equal(fi.ts_ns, 5);
	assert_int_equal(fi.payload_len, 512 - FRAME_HDR_LEN - FRAME_FLOW_OFF);
	/* The smallest: the plain minimum plus the two headers. */
	assert_int_equal(frame_build_flow(b, 0, dst, src, FRAME_DATA, 1, 0, 0),
			 FRAME_MIN_LEN + FRAME_FLOW_OFF);
	assert_int_equal(frame_build_flow(b, 100, dst, src, FRAME_DATA, 1, 0, FRAME_FLOWS_MAX),
			 -EINVAL);
	/* A reply: same flow and payload, addresses swapped both ways. */
	len = frame_build_flow(b, 300, dst, src, FRAME_PING, 9, 1, 2);
	frame_make_reply(b, dst);
	assert_int_equal(frame_check(b, (size_t)len, &fi), FRAME_OK);
	assert_int_equal(fi.kind, FRAME_PONG);
	assert_int_equal(fi.flow, 2);
	assert_memory_equal(fi.dst, src, 6);
	assert_int_equal(b[14 + 15], 2);	/* source now 198.18.0.2 */
	/* A flipped payload byte is still found. */
	b[len - 1] ^= 1;
	assert_int_equal(frame_check(b, (size_t)len, &fi), FRAME_E_CONTENT);
	b[len - 1] ^= 1;
	/* Someone else's IPv4: a bad checksum, another port, a length that
	 * is not the frame's. */
	b[14 + 10] ^= 1;
	assert_int_equal(frame_check(b, (size_t)len, NULL), FRAME_E_TYPE);
	b[14 + 10] ^= 1;
	b[36] ^= 1;
	assert_int_equal(frame_check(b, (size_t)len, NULL), FRAME_E_TYPE);
	b[36] ^= 1;
	assert_int_equal(frame_check(b, (size_t)len - 1, NULL), FRAME_E_TYPE);
	assert_int_equal(frame_check(b, (size_t)len, NULL), FRAME_OK);
	/* Someone else's short IPv4 frame (testpmd's 64-byte UDP) is a
	 * foreign frame, not a short one of ours. */
	memset(b, 0, 64);
	b[12] = 0x08;
	b[14] = 0x45;
	b[14 + 9] = 17;
	assert_int_equal(frame_check(b, 64, NULL), FRAME_E_TYPE);
	assert_int_equal(frame_check(b, 20, NULL), FRAME_E_TYPE);
	/* Plain frames say they belong to no flow. */
	len = frame_build(b, 60, dst, src, FRAME_DATA, 3);
	assert_int_equal(frame_check(b, (size_t)len, &fi), FRAME_OK);
	assert_int_equal(fi.flow, -1);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32_known_value),
		cmocka_unit_test(test_round_trip_sizes),
		cmocka_unit_test(test_build_refuses_bad_input),
		cmocka_unit_test(test_payload_depends_on_seq_not_kind),
		cmocka_unit_test(test_every_flipped_byte_detected),
		cmocka_unit_test(test_addresses_not_checked),
		cmocka_unit_test(test_truncated_and_extended),
		cmocka_unit_test(test_wrong_magic),
		cmocka_unit_test(test_wrong_length_field),
		cmocka_unit_test(test_unknown_kind),
		cmocka_unit_test(test_foreign_ethertype),
		cmocka_unit_test(test_swapped_payload_between_seqs),
		cmocka_unit_test(test_reply_keeps_seq_payload_timestamp),
		cmocka_unit_test(test_strerror_distinct),
		cmocka_unit_test(test_flow_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
