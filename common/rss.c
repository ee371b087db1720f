// SPDX-License-Identifier: MIT
/*
 * rss.c - the RSS hash (rss.h).  The frame is read through csum.c's
 * parser (frame_parse_l3 / frame_parse): one rule for where headers are.
 */
#include "common/rss.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/csum.h"
#include "common/virtio.h"

const uint8_t rss_default_key[RSS_KEY_MAX] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

uint32_t rss_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t n)
{
	uint32_t result = 0, window;
	size_t next = 4;	/* the key byte that feeds the window next */

	if (key_len < 4)
		return 0;
	/* window: the key's 32 bits at the current input bit; it slides
	 * one bit per input bit, taking the key's next bits from the right. */
	window = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
	for (size_t i = 0; i < n; i++) {
		uint8_t feed = next < key_len ? key[next] : 0;

		for (int b = 7; b >= 0; b--) {
			if (in[i] & (1u << b))
				result ^= window;
			window = window << 1 | ((feed >> b) & 1u);
		}
		next++;
	}
	return result;
}

uint32_t rss_hash_frame(const uint8_t *key, size_t key_len, uint32_t types,
			const uint8_t *frame, uint32_t len, uint8_t *report)
{
	const uint32_t tcp = types & (VIRTIO_NET_RSS_HASH_TYPE_TCPv4 | VIRTIO_NET_RSS_HASH_TYPE_TCPv6);
	const uint32_t udp = types & (VIRTIO_NET_RSS_HASH_TYPE_UDPv4 | VIRTIO_NET_RSS_HASH_TYPE_UDPv6);
	struct frame_l34 l3, l4;
	uint8_t in[36];		/* IPv6 addresses and ports */
	uint32_t alen, want_tcp, want_udp, want_ip;
	bool v4, ports = false;
	size_t n;

	*report = VIRTIO_NET_HASH_REPORT_NONE;
	if (frame_parse_l3(frame, len, &l3) < 0)
		return 0;
	v4 = l3.ip_version == 4;
	want_tcp = tcp & (v4 ? VIRTIO_NET_RSS_HASH_TYPE_TCPv4 : VIRTIO_NET_RSS_HASH_TYPE_TCPv6);
	want_udp = udp & (v4 ? VIRTIO_NET_RSS_HASH_TYPE_UDPv4 : VIRTIO_NET_RSS_HASH_TYPE_UDPv6);
	want_ip = types & (v4 ? VIRTIO_NET_RSS_HASH_TYPE_IPv4 : VIRTIO_NET_RSS_HASH_TYPE_IPv6);
	/* Source then destination address (IPv4 at 12, IPv6 at 8). */
	alen = v4 ? 8 : 32;
	memcpy(in, frame + l3.l3_off + (v4 ? 12 : 8), alen);
	/* 5.1.6.4.3.1: TCP or UDP when asked for and whole, then the IP
	 * addresses alone when asked for. */
	if (frame_parse(frame, len, &l4) == 0 &&
	    ((l4.l4_proto == NET_PROTO_TCP && want_tcp) ||
	     (l4.l4_proto == NET_PROTO_UDP && want_udp))) {
		memcpy(in + alen, frame + l4.l4_off, 4);	/* source, destination port */
		ports = true;
		*report = l4.l4_proto == NET_PROTO_TCP
				  ? (v4 ? VIRTIO_NET_HASH_REPORT_TCPv4 : VIRTIO_NET_HASH_REPORT_TCPv6)
				  : (v4 ? VIRTIO_NET_HASH_REPORT_UDPv4 : VIRTIO_NET_HASH_REPORT_UDPv6);
	} else if (want_ip) {
		*report = v4 ? VIRTIO_NET_HASH_REPORT_IPv4 : VIRTIO_NET_HASH_REPORT_IPv6;
	} else {
		return 0;
	}
	n = alen + (ports ? 4 : 0);
	return rss_toeplitz(key, key_len, in, n);
}

int rss_hash_check(uint32_t hash_types, unsigned key_len, char *why, size_t whylen)
{
	/* 5.1.6.5.7.1 / 5.1.6.5.5: the driver sets only types the device
	 * supports (supported_hash_types, 5.1.4), and a key of at most
	 * rss_max_key_size bytes. */
	if (hash_types & ~RSS_HASH_TYPES_SUPPORTED) {
		snprintf(why, whylen, "hash types 0x%x outside the supported 0x%x", hash_types,
			 RSS_HASH_TYPES_SUPPORTED);
		return -EINVAL;
	}
	if (key_len > RSS_KEY_MAX) {
		snprintf(why, whylen, "hash key of %u bytes; at most %u", key_len, RSS_KEY_MAX);
		return -EINVAL;
	}
	return 0;
}

int rss_cfg_check(const struct rss_cfg *c, unsigned nqueues, char *why, size_t whylen)
{
	if (rss_hash_check(c->hash_types, c->key_len, why, whylen) < 0)
		return -EINVAL;
	if (c->table_len == 0 || c->table_len > RSS_TABLE_MAX ||
	    (c->table_len & (c->table_len - 1))) {
		snprintf(why, whylen, "indirection table of %u entries; a power of two up to %u",
			 c->table_len, RSS_TABLE_MAX);
		return -EINVAL;
	}
	if (c->unclassified >= nqueues) {
		snprintf(why, whylen, "unclassified queue %u; there are %u", c->unclassified,
			 nqueues);
		return -EINVAL;
	}
	for (unsigned i = 0; i < c->table_len; i++) {
		if (c->table[i] >= nqueues) {
			snprintf(why, whylen, "indirection table entry %u names queue %u; there are %u",
				 i, c->table[i], nqueues);
			return -EINVAL;
		}
	}
	return 0;
}

unsigned rss_queue_of(const struct rss_cfg *c, const uint8_t *frame, uint32_t len)
{
	uint8_t report;
	uint32_t hash = rss_hash_frame(c->key, c->key_len, c->hash_types, frame, len, &report);

	/* 5.1.6.4.3: no hash type applies: the unclassified queue. */
	if (report == VIRTIO_NET_HASH_REPORT_NONE)
		return c->unclassified;
	return c->table[hash & (c->table_len - 1u)];
}

unsigned rss_cfg_queues(const struct rss_cfg *c)
{
	unsigned m = c->unclassified;

	for (unsigned i = 0; i < c->table_len && i < RSS_TABLE_MAX; i++)
		if (c->table[i] > m)
			m = c->table[i];
	return m + 1;
}

unsigned rss_flow_queue(const uint8_t *frame, uint32_t len, unsigned n)
{
	uint8_t report;
	uint32_t hash;

	if (n <= 1)
		return 0;
	hash = rss_hash_frame(rss_default_key, RSS_KEY_MAX, RSS_HASH_TYPES_SUPPORTED, frame, len,
			      &report);
	return report == VIRTIO_NET_HASH_REPORT_NONE ? 0 : hash % n;
}
