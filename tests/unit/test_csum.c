// SPDX-License-Identifier: MIT
/*
 * test_csum.c - the RFC 1071 checksum against hand-worked sums and a
 * byte-at-a-time reference, NEEDS_CSUM completion (virtio 1.2 5.1.6.2)
 * for TCP/UDP over IPv4/IPv6 on frames seeded the way a driver seeds
 * them, the header parser's refusals, and checksum verification.
 *
 * Frames under test live in heap buffers of exactly their length, so the
 * sanitizer build catches any read or write past the end.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/csum.h"
#include "common/virtio.h"
#include "tests/unit/support/frames.h"

static uint8_t frame_buf[FRAME_CAP];

/* ---- RFC 1071 ---------------------------------------------------------- */

static void test_rfc1071_example(void **state)
{
	/* RFC 1071 3: 0001 + f203 + f4f5 + f6f7 = 2ddf0, folded ddf2. */
	static const uint8_t w[8] = { 0x00, 0x01, 0xf2, 0x03,
				      0xf4, 0xf5, 0xf6, 0xf7 };
	(void)state;
	assert_int_equal(csum_fold(csum_partial(w, 8, 0)), (uint16_t)~0xddf2);
	assert_int_equal(csum_fold(csum_partial(w, 8, 0)), 0x220d);
	/* In two even pieces, in either grouping. */
	assert_int_equal(csum_fold(csum_partial(w + 2, 6, csum_partial(w, 2, 0))),
			 0x220d);
	assert_int_equal(csum_fold(csum_partial(w + 4, 4, csum_partial(w, 4, 0))),
			 0x220d);
	/* Storing the checksum makes the region sum to zero. */
	{
		uint8_t c[10];

		memcpy(c, w, 8);
		c[8] = 0x22;
		c[9] = 0x0d;
		assert_int_equal(csum_fold(csum_partial(c, 10, 0)), 0);
	}
}

static void test_odd_length(void **state)
{
	static const uint8_t b[3] = { 0x01, 0x02, 0x03 };
	(void)state;
	/* 0102 + 0300 (the lone byte is padded on the right) = 0402. */
	assert_int_equal(csum_fold(csum_partial(b, 3, 0)), (uint16_t)~0x0402);
	assert_int_equal(csum_fold(csum_partial(b, 1, 0)), (uint16_t)~0x0100);
	assert_int_equal(csum_fold(csum_partial(b, 0, 0)), 0xffff);
	/* An odd tail after an even piece. */
	assert_int_equal(csum_fold(csum_partial(b + 2, 1, csum_partial(b, 2, 0))),
			 (uint16_t)~0x0402);
}

static void test_all_ones(void **state)
{
	uint8_t ff[64];
	(void)state;
	memset(ff, 0xff, sizeof(ff));
	/* Every sum of ffff words is ffff (negative zero): checksum 0. */
	for (size_t n = 2; n <= sizeof(ff); n += 2)
		assert_int_equal(csum_fold(csum_partial(ff, n, 0)), 0);
	/* ffff + ff00 = 1feff -> ff00; checksum 00ff. */
	assert_int_equal(csum_fold(csum_partial(ff, 3, 0)), 0x00ff);
	assert_int_equal(csum_fold(csum_partial(ff, 63, 0)), 0x00ff);
}

static void test_matches_reference(void **state)
{
	static uint8_t buf[1100];
	uint32_t x = 0x9e3779b9;
	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	/* Every length and start alignment, with and without a carried-in
	 * sum, including sums with carries still to fold. */
	for (size_t start = 0; start < 8; start++) {
		for (size_t n = 0; n + start <= 1030; n++) {
			static const uint32_t init[] = { 0, 1, 0xffff, 0x2fffe,
							 0xfffffff0u };
			for (size_t k = 0; k < sizeof(init) / sizeof(init[0]); k++) {
				uint16_t want = (uint16_t)~ref_fold(
					ref_add(buf + start, n, ref_fold(init[k])));
				assert_int_equal(csum_fold(csum_partial(buf + start, n,
									init[k])),
						 want);
			}
		}
	}
}

static void test_pseudo_headers(void **state)
{
	static const struct build kinds[] = {
		{ .ipv = 4, .proto = NET_PROTO_TCP, .payload_len = 100 },
		{ .ipv = 4, .proto = NET_PROTO_UDP, .payload_len = 100 },
		{ .ipv = 6, .proto = NET_PROTO_TCP, .payload_len = 100 },
		{ .ipv = 6, .proto = NET_PROTO_UDP, .payload_len = 100 },
	};
	(void)state;
	for (size_t k = 0; k < 4; k++) {
		struct built b = build_frame(frame_buf, &kinds[k]);
		const uint8_t *ip = frame_buf + b.l3_off;
		uint32_t l4_len = b.len - b.l4_off;
		uint32_t got = kinds[k].ipv == 4 ?
			csum_pseudo_ipv4(ip + 12, kinds[k].proto, l4_len) :
			csum_pseudo_ipv6(ip + 8, kinds[k].proto, l4_len);

		assert_int_equal(ref_fold(got),
				 ref_fold(ref_pseudo(frame_buf, &b, kinds[k].ipv,
						     kinds[k].proto, l4_len)));
	}
}

/* ---- NEEDS_CSUM completion --------------------------------------------- */

/* Seeds like a driver, completes like the device, and compares with the
 * reference checksum and with frame_verify_csums. */
static void complete_and_check(const struct build *o)
{
	struct built b = build_frame(frame_buf, o);
	uint16_t want = (uint16_t)(frame_buf[b.csum_off] << 8 |
				   frame_buf[b.csum_off + 1]);
	uint8_t *f;

	seed_pseudo(frame_buf, &b, o->ipv, o->proto);
	f = dup_exact(frame_buf, b.len);
	assert_int_equal(csum_complete_partial(f, b.len, (uint16_t)b.l4_off,
					       (uint16_t)(b.csum_off - b.l4_off)),
			 0);
	assert_int_equal(f[b.csum_off] << 8 | f[b.csum_off + 1], want);
	assert_int_equal(frame_verify_csums(f, b.len), 0);
	free(f);
}

static const uint8_t ip_opts_ra_rr[12] = {
	0x94, 0x04, 0x00, 0x00,			/* Router Alert, copied */
	0x07, 0x07, 0x04, 0, 0, 0, 0,		/* Record Route, not copied */
	0x00,					/* EOL */
};
static const uint8_t tcp_opts_ts[12] = {
	0x01, 0x01, 0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2,	/* NOP NOP TS */
};

static void complete_all_sizes(int ipv, uint8_t proto)
{
	static const uint32_t sizes[] = { 0, 1, 2, 3, 17, 64, 1447, 1448,
					  9000, 60000 };
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (int variant = 0; variant < 2; variant++) {
			struct build o = {
				.ipv = ipv, .proto = proto,
				.payload_len = sizes[s], .seed = (uint32_t)s,
				.vlan = variant,
			};
			if (variant && ipv == 4) {
				o.ip_opts = ip_opts_ra_rr;
				o.ip_opt_len = sizeof(ip_opts_ra_rr);
			}
			if (variant && proto == NET_PROTO_TCP) {
				o.tcp_opts = tcp_opts_ts;
				o.tcp_opt_len = sizeof(tcp_opts_ts);
			}
			complete_and_check(&o);
		}
	}
}

static void test_complete_tcpv4(void **state)
{
	(void)state;
	complete_all_sizes(4, NET_PROTO_TCP);
}

static void test_complete_udpv4(void **state)
{
	(void)state;
	complete_all_sizes(4, NET_PROTO_UDP);
}

static void test_complete_tcpv6(void **state)
{
	(void)state;
	complete_all_sizes(6, NET_PROTO_TCP);
}

static void test_complete_udpv6(void **state)
{
	(void)state;
	complete_all_sizes(6, NET_PROTO_UDP);
}

static void test_complete_tcpv4_offsets_from_spec(void **state)
{
	/* 5.1.6.2's own example: TCPv4 without options has csum_start 34
	 * and csum_offset 16. */
	struct build o = { .ipv = 4, .proto = NET_PROTO_TCP, .payload_len = 5 };
	struct built b = build_frame(frame_buf, &o);
	(void)state;
	assert_int_equal(b.l4_off, 34);
	assert_int_equal(b.csum_off - b.l4_off, 16);
	complete_and_check(&o);
}

static void test_complete_refuses_bad_offsets(void **state)
{
	struct build o = { .ipv = 4, .proto = NET_PROTO_UDP, .payload_len = 10 };
	struct built b = build_frame(frame_buf, &o);
	const uint32_t len = b.len;	/* 14 + 20 + 8 + 10 = 52 */
	static const struct {
		uint16_t start, offset;
	} bad[] = {
		{ 52, 0 },		/* start == len */
		{ 53, 0 },		/* start past the end */
		{ 0xffff, 0xffff },	/* both at their maximum */
		{ 50, 1 },		/* field would end at len + 1 */
		{ 51, 0 },		/* one byte left: no room for the field */
		{ 0, 51 },
		{ 34, 17 },
		{ 34, 0xffff },
		{ 0, 0xffff },
	};
	uint8_t *f = dup_exact(frame_buf, len);
	(void)state;
	assert_int_equal(len, 52);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(csum_complete_partial(f, len, bad[i].start,
						       bad[i].offset),
				 -EINVAL);
		assert_memory_equal(f, frame_buf, len);
	}
	assert_int_equal(csum_complete_partial(NULL, len, 34, 6), -EINVAL);
	assert_int_equal(csum_complete_partial(f, 0, 0, 0), -EINVAL);
	/* The last positions that fit are accepted. */
	assert_int_equal(csum_complete_partial(f, len, 50, 0), 0);
	assert_int_equal(csum_complete_partial(f, len, 34, 16), 0);
	assert_int_equal(csum_complete_partial(f, len, 0, 50), 0);
	free(f);
}

/* Makes the checksum of a UDP or TCP frame come out 0: with the L4 sum S
 * (all but the checksum field), a payload word of ffff - S makes the sum
 * ffff, whose complement is 0. */
static struct built frame_with_zero_csum(const struct build *o)
{
	struct built b = build_frame(frame_buf, o);
	uint32_t acc;
	uint16_t w;

	frame_buf[b.payload_off] = 0;
	frame_buf[b.payload_off + 1] = 0;
	acc = ref_pseudo(frame_buf, &b, o->ipv, o->proto, b.len - b.l4_off);
	acc = ref_add(frame_buf + b.l4_off, b.csum_off - b.l4_off, acc);
	acc = ref_add(frame_buf + b.csum_off + 2, b.len - b.csum_off - 2, acc);
	w = (uint16_t)(0xffff - ref_fold(acc));
	frame_buf[b.payload_off] = (uint8_t)(w >> 8);
	frame_buf[b.payload_off + 1] = (uint8_t)w;
	assert_int_equal(ref_l4_csum(frame_buf, &b, o->ipv, o->proto), 0);
	seed_pseudo(frame_buf, &b, o->ipv, o->proto);
	return b;
}

static void test_complete_udp_zero_becomes_ffff(void **state)
{
	(void)state;
	for (int ipv = 4; ipv <= 6; ipv += 2) {
		struct build o = { .ipv = ipv, .proto = NET_PROTO_UDP,
				   .payload_len = 40 };
		struct built b = frame_with_zero_csum(&o);
		uint8_t *f = dup_exact(frame_buf, b.len);

		assert_int_equal(csum_complete_partial(f, b.len, (uint16_t)b.l4_off,
						       UDP_OFF_CSUM), 0);
		assert_int_equal(f[b.csum_off], 0xff);
		assert_int_equal(f[b.csum_off + 1], 0xff);
		/* ffff is the same ones' complement value: it verifies, also
		 * over IPv6 where 0 would be refused. */
		assert_int_equal(frame_verify_csums(f, b.len), 0);
		free(f);
	}
}

static void test_complete_tcp_zero_stays_zero(void **state)
{
	/* TCP has no "no checksum" value (RFC 9293 3.1): 0 is sent as is. */
	struct build o = { .ipv = 4, .proto = NET_PROTO_TCP, .payload_len = 40 };
	struct built b = frame_with_zero_csum(&o);
	uint8_t *f = dup_exact(frame_buf, b.len);
	(void)state;
	assert_int_equal(csum_complete_partial(f, b.len, (uint16_t)b.l4_off,
					       TCP_OFF_CSUM), 0);
	assert_int_equal(f[b.csum_off], 0);
	assert_int_equal(f[b.csum_off + 1], 0);
	assert_int_equal(frame_verify_csums(f, b.len), 0);
	free(f);
}

/* ---- Parsing ---------------------------------------------------------- */

static void test_parse_offsets(void **state)
{
	struct frame_l34 l;
	struct build o = {
		.ipv = 4, .proto = NET_PROTO_TCP, .vlan = true,
		.ip_opts = ip_opts_ra_rr, .ip_opt_len = 12,
		.tcp_opts = tcp_opts_ts, .tcp_opt_len = 12, .payload_len = 100,
	};
	struct built b = build_frame(frame_buf, &o);
	(void)state;
	assert_int_equal(frame_parse(frame_buf, b.len, &l), 0);
	assert_true(l.vlan);
	assert_int_equal(l.ip_version, 4);
	assert_int_equal(l.l4_proto, NET_PROTO_TCP);
	assert_int_equal(l.l3_off, 18);
	assert_int_equal(l.l4_off, 18 + 32);
	assert_int_equal(l.payload_off, 18 + 32 + 32);
	assert_int_equal(l.l3_hdr_len, 32);
	assert_int_equal(l.l4_hdr_len, 32);
	assert_int_equal(l.payload_len, 100);
	assert_int_equal(l.ip_end, b.len);
	assert_int_equal(l.l4_end, b.len);

	o = (struct build){ .ipv = 6, .proto = NET_PROTO_UDP, .payload_len = 7 };
	b = build_frame(frame_buf, &o);
	assert_int_equal(frame_parse(frame_buf, b.len, &l), 0);
	assert_false(l.vlan);
	assert_int_equal(l.ip_version, 6);
	assert_int_equal(l.l4_proto, NET_PROTO_UDP);
	assert_int_equal(l.l3_off, 14);
	assert_int_equal(l.l4_off, 54);
	assert_int_equal(l.payload_off, 62);
	assert_int_equal(l.payload_len, 7);
}

static void test_parse_ignores_link_padding(void **state)
{
	/* A short frame padded to the 60-byte Ethernet minimum: the IP
	 * length, not the frame length, ends the packet. */
	struct build o = { .ipv = 4, .proto = NET_PROTO_UDP, .payload_len = 2 };
	struct built b = build_frame(frame_buf, &o);
	struct frame_l34 l;
	(void)state;
	assert_int_equal(b.len, 44);
	memset(frame_buf + b.len, 0xa5, 16);
	assert_int_equal(frame_parse(frame_buf, 60, &l), 0);
	assert_int_equal(l.ip_end, 44);
	assert_int_equal(l.l4_end, 44);
	assert_int_equal(l.payload_len, 2);
	assert_int_equal(frame_verify_csums(frame_buf, 60), 0);
}

/* Parses a copy of frame_buf after edit() changed it. */
static int parse_edited(const struct build *o, void (*edit)(uint8_t *, const struct built *))
{
	struct built b = build_frame(frame_buf, o);
	struct frame_l34 l;
	uint8_t *f;
	int r;

	edit(frame_buf, &b);
	f = dup_exact(frame_buf, b.len);
	r = frame_parse(f, b.len, &l);
	free(f);
	return r;
}

static void edit_ihl_4(uint8_t *f, const struct built *b)
{
	f[b->l3_off] = 0x44;
}

static void edit_ip_version(uint8_t *f, const struct built *b)
{
	f[b->l3_off] = (uint8_t)(0x70 | (f[b->l3_off] & 0x0f));
}

static void edit_tot_len_past_frame(uint8_t *f, const struct built *b)
{
	uint32_t tot = b->len - b->l3_off + 1;

	net_put_be16(f + b->l3_off + IPV4_OFF_TOT_LEN, (uint16_t)tot);
}

static void edit_tot_len_below_ihl(uint8_t *f, const struct built *b)
{
	net_put_be16(f + b->l3_off + IPV4_OFF_TOT_LEN, 19);
}

static void edit_ipv6_plen_past_frame(uint8_t *f, const struct built *b)
{
	uint32_t plen = b->len - b->l4_off + 1;

	net_put_be16(f + b->l3_off + IPV6_OFF_PAYLOAD_LEN, (uint16_t)plen);
}

static void edit_tcp_doff_4(uint8_t *f, const struct built *b)
{
	f[b->l4_off + TCP_OFF_DOFF] = 0x40;
}

static void edit_tcp_doff_15(uint8_t *f, const struct built *b)
{
	f[b->l4_off + TCP_OFF_DOFF] = 0xf0;
}

static void edit_udp_len_7(uint8_t *f, const struct built *b)
{
	net_put_be16(f + b->l4_off + UDP_OFF_LEN, 7);
}

static void edit_udp_len_past_ip(uint8_t *f, const struct built *b)
{
	net_put_be16(f + b->l4_off + UDP_OFF_LEN, (uint16_t)(b->len - b->l4_off + 1));
}

static void edit_ethertype_arp(uint8_t *f, const struct built *b)
{
	net_put_be16(f + b->l3_off - 2, 0x0806);
}

static void edit_qinq(uint8_t *f, const struct built *b)
{
	net_put_be16(f + b->l3_off - 2, NET_ETHTYPE_VLAN);
}

static void edit_proto_icmp(uint8_t *f, const struct built *b)
{
	f[b->l3_off + IPV4_OFF_PROTO] = 1;
}

static void edit_ipv6_hop_by_hop(uint8_t *f, const struct built *b)
{
	f[b->l3_off + IPV6_OFF_NEXT_HDR] = 0;
}

static void edit_ipv4_mf(uint8_t *f, const struct built *b)
{
	f[b->l3_off + IPV4_OFF_FRAG] = 0x20;
}

static void edit_ipv4_frag_offset(uint8_t *f, const struct built *b)
{
	f[b->l3_off + IPV4_OFF_FRAG + 1] = 0x01;
}

static void test_parse_refuses_malformed(void **state)
{
	static const struct build v4tcp = { .ipv = 4, .proto = NET_PROTO_TCP,
					    .payload_len = 30 };
	static const struct build v4udp = { .ipv = 4, .proto = NET_PROTO_UDP,
					    .payload_len = 30 };
	static const struct build v6tcp = { .ipv = 6, .proto = NET_PROTO_TCP,
					    .payload_len = 30 };
	static const struct build v4vlan = { .ipv = 4, .proto = NET_PROTO_TCP,
					     .vlan = true, .payload_len = 30 };
	(void)state;
	assert_int_equal(parse_edited(&v4tcp, edit_ihl_4), -EINVAL);
	assert_int_equal(parse_edited(&v4tcp, edit_ip_version), -EINVAL);
	assert_int_equal(parse_edited(&v6tcp, edit_ip_version), -EINVAL);
	assert_int_equal(parse_edited(&v4tcp, edit_tot_len_past_frame), -EINVAL);
	assert_int_equal(parse_edited(&v4tcp, edit_tot_len_below_ihl), -EINVAL);
	assert_int_equal(parse_edited(&v6tcp, edit_ipv6_plen_past_frame), -EINVAL);
	assert_int_equal(parse_edited(&v4tcp, edit_tcp_doff_4), -EINVAL);
	assert_int_equal(parse_edited(&v4tcp, edit_tcp_doff_15), -EINVAL);
	assert_int_equal(parse_edited(&v6tcp, edit_tcp_doff_15), -EINVAL);
	assert_int_equal(parse_edited(&v4udp, edit_udp_len_7), -EINVAL);
	assert_int_equal(parse_edited(&v4udp, edit_udp_len_past_ip), -EINVAL);
	assert_int_equal(parse_edited(&v4tcp, edit_ethertype_arp), -EPROTONOSUPPORT);
	assert_int_equal(parse_edited(&v4vlan, edit_qinq), -EPROTONOSUPPORT);
	assert_int_equal(parse_edited(&v4tcp, edit_proto_icmp), -EPROTONOSUPPORT);
	assert_int_equal(parse_edited(&v6tcp, edit_ipv6_hop_by_hop), -EPROTONOSUPPORT);
	assert_int_equal(parse_edited(&v4udp, edit_ipv4_mf), -EPROTONOSUPPORT);
	assert_int_equal(parse_edited(&v4udp, edit_ipv4_frag_offset), -EPROTONOSUPPORT);
}

static void test_parse_refuses_every_truncation(void **state)
{
	static const struct build kinds[] = {
		{ .ipv = 4, .proto = NET_PROTO_TCP, .payload_len = 9,
		  .ip_opts = ip_opts_ra_rr, .ip_opt_len = 12,
		  .tcp_opts = tcp_opts_ts, .tcp_opt_len = 12, .vlan = true },
		{ .ipv = 4, .proto = NET_PROTO_UDP, .payload_len = 9 },
		{ .ipv = 6, .proto = NET_PROTO_TCP, .payload_len = 9 },
		{ .ipv = 6, .proto = NET_PROTO_UDP, .payload_len = 9, .vlan = true },
	};
	(void)state;
	for (size_t k = 0; k < 4; k++) {
		struct built b = build_frame(frame_buf, &kinds[k]);

		for (uint32_t n = 0; n < b.len; n++) {
			uint8_t *f = dup_exact(frame_buf, n);
			struct frame_l34 l;

			assert_int_equal(frame_parse(f, n, &l), -EINVAL);
			assert_int_equal(frame_verify_csums(f, n), -EINVAL);
			free(f);
		}
	}
}

static void test_parse_null(void **state)
{
	struct frame_l34 l;
	(void)state;
	assert_int_equal(frame_parse(NULL, 60, &l), -EINVAL);
	assert_int_equal(frame_parse(frame_buf, 60, NULL), -EINVAL);
}

/* ---- Verification ------------------------------------------------------ */

static void test_verify_detects_corruption(void **state)
{
	static const struct build kinds[] = {
		{ .ipv = 4, .proto = NET_PROTO_TCP, .payload_len = 33 },
		{ .ipv = 4, .proto = NET_PROTO_UDP, .payload_len = 33 },
		{ .ipv = 6, .proto = NET_PROTO_TCP, .payload_len = 33 },
		{ .ipv = 6, .proto = NET_PROTO_UDP, .payload_len = 33 },
	};
	(void)state;
	for (size_t k = 0; k < 4; k++) {
		struct built b = build_frame(frame_buf, &kinds[k]);

		assert_int_equal(frame_verify_csums(frame_buf, b.len), 0);
		/* A flipped payload bit, the last byte included. */
		frame_buf[b.len - 1] ^= 0x10;
		assert_int_equal(frame_verify_csums(frame_buf, b.len), -EBADMSG);
		frame_buf[b.len - 1] ^= 0x10;
		/* A changed address (covered only by the pseudo-header). */
		frame_buf[b.l3_off + (kinds[k].ipv == 4 ? 19 : 39)] ^= 1;
		if (kinds[k].ipv == 4) {
			/* Keep the IPv4 header checksum right: the address
			 * change is then caught by the L4 checksum alone. */
			uint8_t *ip = frame_buf + b.l3_off;

			net_put_be16(ip + IPV4_OFF_CSUM, 0);
			net_put_be16(ip + IPV4_OFF_CSUM,
				     (uint16_t)~ref_fold(ref_add(ip, 20, 0)));
		}
		assert_int_equal(frame_verify_csums(frame_buf, b.len), -EBADMSG);
	}
}

static void test_verify_ipv4_header_checksum(void **state)
{
	struct build o = { .ipv = 4, .proto = NET_PROTO_TCP, .payload_len = 3 };
	struct built b = build_frame(frame_buf, &o);
	(void)state;
	frame_buf[b.l3_off + 8]--;	/* TTL, as a router would, no fix-up */
	assert_int_equal(frame_verify_csums(frame_buf, b.len), -EBADMSG);
}

static void test_verify_udp_zero_checksum(void **state)
{
	struct build o = { .ipv = 4, .proto = NET_PROTO_UDP, .payload_len = 12 };
	struct built b = build_frame(frame_buf, &o);
	(void)state;
	/* RFC 768: no checksum, over IPv4 only. */
	frame_buf[b.csum_off] = 0;
	frame_buf[b.csum_off + 1] = 0;
	assert_int_equal(frame_verify_csums(frame_buf, b.len), 0);
	o.ipv = 6;
	b = build_frame(frame_buf, &o);
	frame_buf[b.csum_off] = 0;
	frame_buf[b.csum_off + 1] = 0;
	assert_int_equal(frame_verify_csums(frame_buf, b.len), -EBADMSG);
}

/* ---- Hostile input ------------------------------------------------------ */

/* Random header bytes: whatever the parser accepts stays inside the
 * frame, and nothing reads or writes past it (checked by ASan). */
static void test_random_headers_stay_in_bounds(void **state)
{
	static const struct build kinds[] = {
		{ .ipv = 4, .proto = NET_PROTO_TCP, .payload_len = 20 },
		{ .ipv = 4, .proto = NET_PROTO_UDP, .payload_len = 20,
		  .ip_opts = ip_opts_ra_rr, .ip_opt_len = 12 },
		{ .ipv = 6, .proto = NET_PROTO_TCP, .payload_len = 20,
		  .vlan = true },
		{ .ipv = 6, .proto = NET_PROTO_UDP, .payload_len = 20 },
	};
	uint32_t x = 12345;
	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		const struct build *o = &kinds[iter % 4];
		struct built b = build_frame(frame_buf, o);
		struct frame_l34 l;
		uint32_t len;
		uint8_t *f;
		int r;

		for (int k = 0; k < 3; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			frame_buf[(x >> 8) % b.payload_off] = (uint8_t)x;
		}
		len = b.len - (x >> 24) % 8;
		f = dup_exact(frame_buf, len);
		r = frame_parse(f, len, &l);
		if (r == 0) {
			assert_true(l.l3_off < l.l4_off);
			assert_true(l.l4_off < l.payload_off);
			assert_true(l.payload_off <= l.l4_end);
			assert_true(l.l4_end <= l.ip_end);
			assert_true(l.ip_end <= len);
		} else {
			assert_true(r == -EINVAL || r == -EPROTONOSUPPORT);
		}
		(void)frame_verify_csums(f, len);
		(void)csum_complete_partial(f, len, (uint16_t)(x & 0x7f),
					    (uint16_t)(x >> 7 & 0x3f));
		free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_odd_length),
		cmocka_unit_test(test_all_ones),
		cmocka_unit_test(test_matches_reference),
		cmocka_unit_test(test_pseudo_headers),
		cmocka_unit_test(test_complete_tcpv4),
		cmocka_unit_test(test_complete_udpv4),
		cmocka_unit_test(test_complete_tcpv6),
		cmocka_unit_test(test_complete_udpv6),
		cmocka_unit_test(test_complete_tcpv4_offsets_from_spec),
		cmocka_unit_test(test_complete_refuses_bad_offsets),
		cmocka_unit_test(test_complete_udp_zero_becomes_ffff),
		cmocka_unit_test(test_complete_tcp_zero_stays_zero),
		cmocka_unit_test(test_parse_offsets),
		cmocka_unit_test(test_parse_ignores_link_padding),
		cmocka_unit_test(test_parse_refuses_malformed),
		cmocka_unit_test(test_parse_refuses_every_truncation),
		cmocka_unit_test(test_parse_null),
		cmocka_unit_test(test_verify_detects_corruption),
		cmocka_unit_test(test_verify_ipv4_header_checksum),
		cmocka_unit_test(test_verify_udp_zero_checksum),
		cmocka_unit_test(test_random_headers_stay_in_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
