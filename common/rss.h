/* SPDX-License-Identifier: MIT */
/*
 * rss.h - the receive-side-scaling hash of virtio-net (5.1.6.4.3): the
 * Toeplitz function over a frame's addresses and ports, chosen by the
 * driver's hash types.  A sending device computes it to put each frame
 * on the ring of the receive queue it belongs to (issue "Multiqueue"),
 * and HASH_REPORT hands it to the driver.
 */
#ifndef VNET_RSS_H
#define VNET_RSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/virtio.h"

#define RSS_KEY_MAX 40	/* VIRTIO_NET_RSS_MAX_KEY_SIZE */

/* The key a device steers with until its driver sets one: the widely used
 * 40-byte key of Microsoft's RSS verification suite. */
extern const uint8_t rss_default_key[RSS_KEY_MAX];

/* The Toeplitz hash of in[0, n) under key (key_len >= n + 4 bytes; the
 * bits beyond the key are zeros): for each input bit from the left, a 1
 * XORs the key's 32 bits at that position into the result. */
uint32_t rss_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t n);

/* The hash of an Ethernet frame (at most one 802.1Q tag) under the hash
 * types (VIRTIO_NET_RSS_HASH_TYPE_*), as 5.1.6.4.3.1 chooses its input:
 * addresses and ports of TCP or UDP when that type is on and the frame
 * has a whole L4 header (not an IPv4 fragment), else the addresses when
 * the IP type is on.  *report: the VIRTIO_NET_HASH_REPORT_* type; NONE
 * (and hash 0) when no type applies or the frame is not IP.  IPv6
 * extension headers are not walked: such a frame hashes on addresses. */
uint32_t rss_hash_frame(const uint8_t *key, size_t key_len, uint32_t types,
			const uint8_t *frame, uint32_t len, uint8_t *report);

/* The one rule for hash types and a key, whichever command carries them
 * (RSS_CONFIG, HASH_CONFIG) or a peer's message: types rss_hash_frame
 * computes, a key of at most RSS_KEY_MAX bytes.  0, or -EINVAL with why. */
int rss_hash_check(uint32_t hash_types, unsigned key_len, char *why, size_t whylen);

/* ---- a receiver's hash report (VIRTIO_NET_F_HASH_REPORT) -------------- */

/* What a device hashes received frames with for the report (5.1.6.4.3):
 * the enabled types and the key, from VIRTIO_NET_CTRL_MQ_HASH_CONFIG or,
 * with RSS negotiated, from the RSS configuration.  All zero after a
 * reset: no type enabled, every frame reported NONE (5.1.6.5.5 "Hash
 * calculation": "Initially the device has all hash types disabled"). */
struct rss_hash_cfg {
	uint32_t hash_types;
	uint8_t key_len;
	uint8_t key[RSS_KEY_MAX];
};

/* ---- a receiver's steering: the driver's RSS configuration -------------- */

#define RSS_TABLE_MAX 128	/* indirection table entries we take (a power of two) */
/* The hash types rss_hash_frame computes (no _EX types). */
#define RSS_HASH_TYPES_SUPPORTED                                                    \
	(VIRTIO_NET_RSS_HASH_TYPE_IPv4 | VIRTIO_NET_RSS_HASH_TYPE_TCPv4 |           \
	 VIRTIO_NET_RSS_HASH_TYPE_UDPv4 | VIRTIO_NET_RSS_HASH_TYPE_IPv6 |           \
	 VIRTIO_NET_RSS_HASH_TYPE_TCPv6 | VIRTIO_NET_RSS_HASH_TYPE_UDPv6)

/* What VIRTIO_NET_CTRL_MQ_RSS_CONFIG set (5.1.6.5.7.1), in private memory:
 * a frame goes to receive queue table[hash & (table_len - 1)], or to
 * unclassified when no hash type applies.  Queues are numbers from 0
 * (receiveq1). */
struct rss_cfg {
	bool on;
	uint32_t hash_types;
	uint16_t table_len;
	uint16_t unclassified;
	uint8_t key_len;
	uint8_t key[RSS_KEY_MAX];
	uint16_t table[RSS_TABLE_MAX];
};

/* The one rule for a configuration, wherever it comes from (a driver's
 * command, a peer's message): rss_hash_check's types and key, a table of
 * a power of two up to RSS_TABLE_MAX entries, every queue below nqueues.
 * 0, or -EINVAL with why. */
int rss_cfg_check(const struct rss_cfg *c, unsigned nqueues, char *why, size_t whylen);
/* The receive queue a frame belongs to under c (c->on). */
unsigned rss_queue_of(const struct rss_cfg *c, const uint8_t *frame, uint32_t len);
/* The queues c uses: 1 + the largest it names. */
unsigned rss_cfg_queues(const struct rss_cfg *c);
/* Which of n queues a frame's flow goes to without a configuration:
 * every supported hash type under the default key, modulo n; a frame
 * with no flow (not IP) to queue 0. */
unsigned rss_flow_queue(const uint8_t *frame, uint32_t len, unsigned n);

#endif /* VNET_RSS_H */
