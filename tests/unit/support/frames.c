// SPDX-License-Identifier: MIT
/*
 * frames.c - the Ethernet/IPv4/IPv6/TCP/UDP frames the checksum and
 * segmentation tests (test_csum.c, test_gso.c) feed the code under test,
 * and a byte-at-a-time reference checksum to judge the results by.
 * Written as plainly as possible, and apart from common/csum.c, so a bug
 * there cannot hide itself by being shared with the tests.
 */
#include "tests/unit/support/frames.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- Reference checksum: one big-endian word at a time ---------------- */

uint32_t ref_add(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i < n; i += 2) {
		uint32_t hi = p[i];
		uint32_t lo = i + 1 < n ? p[i + 1] : 0;

		acc += hi << 8 | lo;
		acc = (acc & 0xffff) + (acc >> 16);
	}
	return acc;
}

uint16_t ref_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* ---- Frame builder ------------------------------------------------------ */

const uint8_t v4_addrs[8] = { 192, 0, 2, 1, 198, 51, 100, 7 };
const uint8_t v6_addrs[32] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
};

uint8_t pattern_byte(uint32_t seed, uint32_t i)
{
	uint32_t x = (i + 1) * 2654435761u ^ seed;

	return (uint8_t)(x >> 13 ^ x);
}

/* The pseudo-header, built as bytes (RFC 9293 3.1, RFC 8200 8.1). */
uint32_t ref_pseudo(const uint8_t *f, const struct built *b, int ipv,
			   uint8_t proto, uint32_t l4_len)
{
	uint8_t ph[40] = { 0 };

	if (ipv == 4) {
		memcpy(ph, f + b->l3_off + 12, 8);
		ph[9] = proto;
		ph[10] = (uint8_t)(l4_len >> 8);
		ph[11] = (uint8_t)l4_len;
		return ref_add(ph, 12, 0);
	}
	memcpy(ph, f + b->l3_off + 8, 32);
	ph[34] = (uint8_t)(l4_len >> 8);
	ph[35] = (uint8_t)l4_len;
	ph[39] = proto;
	return ref_add(ph, 40, 0);
}

/* The full L4 checksum of a built frame, field taken as zero. */
uint16_t ref_l4_csum(const uint8_t *f, const struct built *b, int ipv,
			    uint8_t proto)
{
	uint32_t l4_len = b->len - b->l4_off;
	uint32_t field = b->csum_off - b->l4_off;
	uint32_t acc = ref_pseudo(f, b, ipv, proto, l4_len);

	acc = ref_add(f + b->l4_off, field, acc);
	acc = ref_add(f + b->csum_off + 2, l4_len - field - 2, acc);
	return (uint16_t)~ref_fold(acc);
}

/* Builds a frame with correct checksums into f (FRAME_CAP bytes). */
struct built build_frame(uint8_t *f, const struct build *o)
{
	struct built b = { .l3_off = 14 };
	uint32_t l3_len, l4_hlen, l4_len, pos;
	uint8_t *ip, *l4;

	memset(f, 0, 64);
	memcpy(f, "\x52\x54\x00\x00\x00\x02\x52\x54\x00\x00\x00\x01", 12);
	if (o->vlan) {
		f[12] = 0x81;
		f[14] = 0x00;
		f[15] = 42;	/* VID 42 */
		b.l3_off = 18;
	}
	f[b.l3_off - 2] = o->ipv == 4 ? 0x08 : 0x86;
	f[b.l3_off - 1] = o->ipv == 4 ? 0x00 : 0xdd;
	l3_len = o->ipv == 4 ? 20 + o->ip_opt_len : 40;
	l4_hlen = o->proto == NET_PROTO_TCP ? 20 + o->tcp_opt_len : 8;
	l4_len = l4_hlen + o->payload_len;
	b.l4_off = b.l3_off + l3_len;
	b.payload_off = b.l4_off + l4_hlen;
	b.len = b.payload_off + o->payload_len;
	assert_true(b.len <= FRAME_CAP);
	ip = f + b.l3_off;
	l4 = f + b.l4_off;
	memset(ip, 0, l3_len + l4_hlen);

	if (o->ipv == 4) {
		ip[0] = (uint8_t)(0x40 | l3_len / 4);
		ip[2] = (uint8_t)((l3_len + l4_len) >> 8);
		ip[3] = (uint8_t)(l3_len + l4_len);
		ip[4] = 0x12;	/* id 0x1234 */
		ip[5] = 0x34;
		ip[6] = 0x40;	/* DF */
		ip[8] = 64;
		ip[9] = o->proto;
		memcpy(ip + 12, v4_addrs, 8);
		if (o->ip_opt_len)
			memcpy(ip + 20, o->ip_opts, o->ip_opt_len);
		pos = (uint32_t)~ref_fold(ref_add(ip, l3_len, 0)) & 0xffff;
		ip[10] = (uint8_t)(pos >> 8);
		ip[11] = (uint8_t)pos;
	} else {
		ip[0] = 0x60;
		ip[4] = (uint8_t)(l4_len >> 8);
		ip[5] = (uint8_t)l4_len;
		ip[6] = o->proto;
		ip[7] = 64;
		memcpy(ip + 8, v6_addrs, 32);
	}

	l4[0] = 0xc0;	/* source port 49153 */
	l4[1] = 0x01;
	l4[2] = 0x01;	/* destination port 443 */
	l4[3] = 0xbb;
	if (o->proto == NET_PROTO_TCP) {
		l4[4] = 0x11;	/* seq 0x11223344 */
		l4[5] = 0x22;
		l4[6] = 0x33;
		l4[7] = 0x44;
		l4[11] = 0x01;	/* ack 1 */
		l4[12] = (uint8_t)(l4_hlen / 4 << 4);
		l4[13] = o->tcp_flags ? o->tcp_flags : TCPHDR_ACK;
		l4[14] = 0xff;	/* window */
		if (o->tcp_opt_len)
			memcpy(l4 + 20, o->tcp_opts, o->tcp_opt_len);
		b.csum_off = b.l4_off + 16;
	} else {
		l4[4] = (uint8_t)(l4_len >> 8);
		l4[5] = (uint8_t)l4_len;
		b.csum_off = b.l4_off + 6;
	}
	for (uint32_t i = 0; i < o->payload_len; i++)
		f[b.payload_off + i] = pattern_byte(o->seed, i);
	pos = ref_l4_csum(f, &b, o->ipv, o->proto);
	if (pos == 0 && o->proto == NET_PROTO_UDP)
		pos = 0xffff;
	f[b.csum_off] = (uint8_t)(pos >> 8);
	f[b.csum_off + 1] = (uint8_t)pos;
	return b;
}

/* What a driver with VIRTIO_NET_F_CSUM puts in the checksum field before
 * setting NEEDS_CSUM: the folded pseudo-header sum, not inverted. */
void seed_pseudo(uint8_t *f, const struct built *b, int ipv,
			uint8_t proto)
{
	uint16_t seed = ref_fold(ref_pseudo(f, b, ipv, proto, b->len - b->l4_off));

	f[b->csum_off] = (uint8_t)(seed >> 8);
	f[b->csum_off + 1] = (uint8_t)seed;
}

uint8_t *dup_exact(const uint8_t *src, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	if (n)
		memcpy(p, src, n);
	return p;
}
