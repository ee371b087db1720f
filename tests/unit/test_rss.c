// SPDX-License-Identifier: MIT
/*
 * test_rss.c - the RSS hash (common/rss.c) against Microsoft's published
 * verification vectors ("Verifying the RSS Hash Calculation", the same
 * key virtio's 5.1.6.4.3 refers to): IPv4 and IPv6, addresses alone and
 * with TCP ports, first as raw Toeplitz input, then as whole frames
 * through rss_hash_frame, with the hash-type rules of 5.1.6.4.3.1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/csum.h"
#include "common/rss.h"
#include "common/virtio.h"
#include "tests/unit/support/frames.h"

/* The verification suite's key, which the device also steers with by
 * default: the vectors below check both. */
#define key rss_default_key

struct vector {
	const char *dst, *src;
	uint16_t dport, sport;
	uint32_t ip, tcp;	/* expected: addresses alone, with ports */
};

static const struct vector v4[] = {
	{ "161.142.100.80", "66.9.149.187", 1766, 2794, 0x323e8fc2, 0x51ccc178 },
	{ "65.69.140.83", "199.92.111.2", 4739, 14230, 0xd718262a, 0xc626b0ea },
	{ "12.22.207.184", "24.19.198.95", 38024, 12898, 0xd2d0a5de, 0x5c2b394a },
	{ "209.142.163.6", "38.27.205.30", 2217, 48228, 0x82989176, 0xafc7327f },
	{ "202.188.127.2", "153.39.163.191", 1303, 44251, 0x5d1809c5, 0x10e828a2 },
};

static const struct vector v6[] = {
	{ "3ffe:2501:200:3::1", "3ffe:2501:200:1fff::7", 1766, 2794, 0x2cc18cd5, 0x40207d3d },
	{ "ff02::1", "3ffe:501:8::260:97ff:fe40:efab", 4739, 14230, 0x0f0c461c, 0xdde51bbf },
	{ "fe80::200:f8ff:fe21:67cf", "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 38024, 44251,
	  0x4b61e985, 0x02d1feef },
};

/* Toeplitz input: source address, destination address, source port,
 * destination port (network order). */
static size_t input(const struct vector *v, int af, bool ports, uint8_t *in)
{
	size_t alen = af == AF_INET ? 4 : 16;
	uint16_t sp = htons(v->sport), dp = htons(v->dport);

	assert_int_equal(inet_pton(af, v->src, in), 1);
	assert_int_equal(inet_pton(af, v->dst, in + alen), 1);
	if (!ports)
		return 2 * alen;
	memcpy(in + 2 * alen, &sp, 2);
	memcpy(in + 2 * alen + 2, &dp, 2);
	return 2 * alen + 4;
}

static void test_toeplitz_vectors(void **state)
{
	uint8_t in[36];

	(void)state;
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		assert_int_equal(rss_toeplitz(key, sizeof(key), in, input(&v4[i], AF_INET, false, in)),
				 v4[i].ip);
		assert_int_equal(rss_toeplitz(key, sizeof(key), in, input(&v4[i], AF_INET, true, in)),
				 v4[i].tcp);
	}
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		assert_int_equal(rss_toeplitz(key, sizeof(key), in, input(&v6[i], AF_INET6, false, in)),
				 v6[i].ip);
		assert_int_equal(rss_toeplitz(key, sizeof(key), in, input(&v6[i], AF_INET6, true, in)),
				 v6[i].tcp);
	}
}

/* A frame carrying vector v: built, then its addresses and ports set. */
static uint32_t frame_of(uint8_t *f, const struct vector *v, int ipv, uint8_t proto, bool vlan)
{
	struct build o = { .ipv = ipv, .proto = proto, .vlan = vlan, .payload_len = 32 };
	struct built b = build_frame(f, &o);
	uint8_t in[36];
	size_t alen = ipv == 4 ? 4 : 16;

	input(v, ipv == 4 ? AF_INET : AF_INET6, true, in);
	memcpy(f + b.l3_off + (ipv == 4 ? 12 : 8), in, 2 * alen);
	memcpy(f + b.l4_off, in + 2 * alen, 4);
	return b.len;
}

static uint8_t frame[FRAME_CAP];

static void test_frames_pick_their_input(void **state)
{
	const uint32_t all = VIRTIO_NET_RSS_HASH_TYPE_IPv4 | VIRTIO_NET_RSS_HASH_TYPE_TCPv4 |
			     VIRTIO_NET_RSS_HASH_TYPE_UDPv4 | VIRTIO_NET_RSS_HASH_TYPE_IPv6 |
			     VIRTIO_NET_RSS_HASH_TYPE_TCPv6 | VIRTIO_NET_RSS_HASH_TYPE_UDPv6;
	uint8_t r;
	uint32_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		len = frame_of(frame, &v4[i], 4, NET_PROTO_TCP, i & 1);
		assert_int_equal(rss_hash_frame(key, sizeof(key), all, frame, len, &r), v4[i].tcp);
		assert_int_equal(r, VIRTIO_NET_HASH_REPORT_TCPv4);
		/* Without the TCP type: the addresses. */
		assert_int_equal(rss_hash_frame(key, sizeof(key), VIRTIO_NET_RSS_HASH_TYPE_IPv4, frame,
						len, &r), v4[i].ip);
		assert_int_equal(r, VIRTIO_NET_HASH_REPORT_IPv4);
		/* UDP ports hash the same way, under the UDP type only. */
		len = frame_of(frame, &v4[i], 4, NET_PROTO_UDP, false);
		assert_int_equal(rss_hash_frame(key, sizeof(key), all, frame, len, &r), v4[i].tcp);
		assert_int_equal(r, VIRTIO_NET_HASH_REPORT_UDPv4);
		assert_int_equal(rss_hash_frame(key, sizeof(key),
						VIRTIO_NET_RSS_HASH_TYPE_IPv4 | VIRTIO_NET_RSS_HASH_TYPE_TCPv4,
						frame, len, &r), v4[i].ip);
		assert_int_equal(r, VIRTIO_NET_HASH_REPORT_IPv4);
	}
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		len = frame_of(frame, &v6[i], 6, NET_PROTO_TCP, false);
		assert_int_equal(rss_hash_frame(key, sizeof(key), all, frame, len, &r), v6[i].tcp);
		assert_int_equal(r, VIRTIO_NET_HASH_REPORT_TCPv6);
		assert_int_equal(rss_hash_frame(key, sizeof(key), VIRTIO_NET_RSS_HASH_TYPE_IPv6, frame,
						len, &r), v6[i].ip);
		assert_int_equal(r, VIRTIO_NET_HASH_REPORT_IPv6);
		/* The IPv4 types say nothing about an IPv6 frame. */
		assert_int_equal(rss_hash_frame(key, sizeof(key),
						VIRTIO_NET_RSS_HASH_TYPE_IPv4 | VIRTIO_NET_RSS_HASH_TYPE_TCPv4,
						frame, len, &r), 0);
		assert_int_equal(r, VIRTIO_NET_HASH_REPORT_NONE);
	}
}

/* An IPv4 fragment has no ports to hash: its addresses, or nothing. */
static void test_fragment_and_non_ip(void **state)
{
	uint32_t len = frame_of(frame, &v4[0], 4, NET_PROTO_TCP, false);
	uint8_t r;

	(void)state;
	frame[VNET_ETH_HLEN + IPV4_OFF_FRAG] |= 0x20;	/* more fragments */
	assert_int_equal(rss_hash_frame(key, sizeof(key),
					VIRTIO_NET_RSS_HASH_TYPE_IPv4 | VIRTIO_NET_RSS_HASH_TYPE_TCPv4,
					frame, len, &r), v4[0].ip);
	assert_int_equal(r, VIRTIO_NET_HASH_REPORT_IPv4);
	assert_int_equal(rss_hash_frame(key, sizeof(key), VIRTIO_NET_RSS_HASH_TYPE_TCPv4, frame, len,
					&r), 0);
	assert_int_equal(r, VIRTIO_NET_HASH_REPORT_NONE);
	/* ARP; a frame cut inside its IP header. */
	frame[NET_ETHTYPE_OFF] = 0x08;
	frame[NET_ETHTYPE_OFF + 1] = 0x06;
	assert_int_equal(rss_hash_frame(key, sizeof(key), ~0u, frame, len, &r), 0);
	assert_int_equal(r, VIRTIO_NET_HASH_REPORT_NONE);
	len = frame_of(frame, &v4[0], 4, NET_PROTO_TCP, false);
	assert_int_equal(rss_hash_frame(key, sizeof(key), ~0u, frame, VNET_ETH_HLEN + 10, &r), 0);
	assert_int_equal(r, VIRTIO_NET_HASH_REPORT_NONE);
}

#undef key	/* from here, key is struct rss_cfg's */

/* A configuration's rule, and the queue it gives a frame: the table
 * entry at the hash's low bits, the unclassified queue for non-IP. */
static void test_cfg_check_and_queue(void **state)
{
	struct rss_cfg c = { .on = true, .hash_types = RSS_HASH_TYPES_SUPPORTED,
			     .table_len = 8, .unclassified = 2, .key_len = 40 };
	char why[160];
	uint32_t len;

	(void)state;
	memcpy(c.key, rss_default_key, sizeof(c.key));
	for (unsigned i = 0; i < 8; i++)
		c.table[i] = (uint16_t)(7 - i) % 4;
	assert_int_equal(rss_cfg_check(&c, 4, why, sizeof(why)), 0);
	assert_int_equal(rss_cfg_queues(&c), 4);
	len = frame_of(frame, &v4[0], 4, NET_PROTO_TCP, false);
	assert_int_equal(rss_queue_of(&c, frame, len), c.table[v4[0].tcp & 7]);
	memset(frame + 12, 0x88, 2);			/* not IP */
	assert_int_equal(rss_queue_of(&c, frame, len), 2);
	assert_int_equal(rss_cfg_check(&c, 3, why, sizeof(why)), -EINVAL);	/* queue 3 */
	assert_non_null(strstr(why, "names queue 3"));
	c.table_len = 6;
	assert_int_equal(rss_cfg_check(&c, 4, why, sizeof(why)), -EINVAL);
	c.table_len = 8;
	c.hash_types = 1u << 6;				/* IP_EX: not computed */
	assert_int_equal(rss_cfg_check(&c, 4, why, sizeof(why)), -EINVAL);
	c.hash_types = 0;
	c.key_len = 41;
	assert_int_equal(rss_cfg_check(&c, 4, why, sizeof(why)), -EINVAL);
	c.key_len = 40;
	c.unclassified = 4;
	assert_int_equal(rss_cfg_check(&c, 4, why, sizeof(why)), -EINVAL);
}

/* The types-and-key rule alone (HASH_CONFIG's, and RSS's part): every
 * supported type or none, a key up to 40 bytes (0 too). */
static void test_hash_check(void **state)
{
	char why[160];

	(void)state;
	assert_int_equal(rss_hash_check(RSS_HASH_TYPES_SUPPORTED, 40, why, sizeof(why)), 0);
	assert_int_equal(rss_hash_check(0, 0, why, sizeof(why)), 0);
	assert_int_equal(rss_hash_check(VIRTIO_NET_RSS_HASH_TYPE_TCPv6, 4, why, sizeof(why)), 0);
	assert_int_equal(rss_hash_check(1u << 8, 40, why, sizeof(why)), -EINVAL);	/* UDP_EX */
	assert_non_null(strstr(why, "hash types 0x100"));
	assert_int_equal(rss_hash_check(1, 41, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "41 bytes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_toeplitz_vectors),
		cmocka_unit_test(test_hash_check),
		cmocka_unit_test(test_frames_pick_their_input),
		cmocka_unit_test(test_fragment_and_non_ip),
		cmocka_unit_test(test_cfg_check_and_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
