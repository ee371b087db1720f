/* SPDX-License-Identifier: MIT */
/*
 * frames.h - test frames with correct checksums, and a reference RFC 1071
 * checksum, for the unit tests of common/csum.c and common/gso.c.  Built
 * as its own object (tests/unit/support/) and linked into the unit tests;
 * it uses cmocka's asserts, so only cmocka tests may call it.
 */
#ifndef VNET_TESTS_FRAMES_H
#define VNET_TESTS_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/csum.h"
#include "common/virtio.h"

/* Room for the largest frame a test builds: a whole GSO frame. */
#define FRAME_CAP (VNET_MAX_GSO_FRAME + 64)

/* Reference checksum: adds n bytes as big-endian words to acc, folding
 * as it goes; ref_fold folds the rest (neither inverts). */
uint32_t ref_add(const uint8_t *p, size_t n, uint32_t acc);
uint16_t ref_fold(uint32_t acc);

/* What build_frame builds. */
struct build {
	int ipv;		/* 4 or 6 */
	uint8_t proto;		/* NET_PROTO_TCP / NET_PROTO_UDP */
	bool vlan;
	const uint8_t *ip_opts;	/* IPv4 options, multiple of 4 bytes */
	uint32_t ip_opt_len;
	const uint8_t *tcp_opts;	/* multiple of 4 bytes */
	uint32_t tcp_opt_len;
	uint8_t tcp_flags;
	uint32_t payload_len;
	uint32_t seed;		/* payload pattern */
};

struct built {
	uint32_t len, l3_off, l4_off, payload_off;
	uint32_t csum_off;	/* absolute offset of the L4 checksum field */
};

/* Source and destination addresses of every built frame. */
extern const uint8_t v4_addrs[8];
extern const uint8_t v6_addrs[32];

/* Payload byte i for a seed: a pattern no two offsets share by chance. */
uint8_t pattern_byte(uint32_t seed, uint32_t i);
/* The pseudo-header sum of a built frame for an L4 length. */
uint32_t ref_pseudo(const uint8_t *f, const struct built *b, int ipv,
		    uint8_t proto, uint32_t l4_len);
/* The full L4 checksum of a built frame, its field taken as zero. */
uint16_t ref_l4_csum(const uint8_t *f, const struct built *b, int ipv,
		     uint8_t proto);
/* Builds a frame with correct checksums into f (FRAME_CAP bytes). */
struct built build_frame(uint8_t *f, const struct build *o);
/* Seeds the L4 checksum field as a driver does before NEEDS_CSUM. */
void seed_pseudo(uint8_t *f, const struct built *b, int ipv, uint8_t proto);
/* A heap copy of exactly n bytes (at least 1 allocated), so the
 * sanitizer build catches any access past the end. */
uint8_t *dup_exact(const uint8_t *src, size_t n);

#endif /* VNET_TESTS_FRAMES_H */
