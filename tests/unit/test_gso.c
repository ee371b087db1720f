// SPDX-License-Identifier: MIT
/*
 * test_gso.c - software TSO and UFO: frames of many sizes cut into
 * segments that each verify, carry contiguous sequence numbers, rising
 * IPv4 ids and the right TCP flags, and put back together give the
 * original payload byte for byte; UFO fragments that reassemble into the
 * original datagram with a valid UDP checksum; and every malformed frame
 * or header refused without touching memory outside the buffers.
 *
 * Frames come from the builder test_csum.c shares (support/frames.c).
 * Inputs, outputs
 * and segment arrays live in heap buffers of exactly the size passed, so
 * the sanitizer build catches any access past them.
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
#include "common/gso.h"
#include "common/virtio.h"
#include "tests/unit/support/frames.h"

static uint8_t frame_buf[FRAME_CAP];

static const uint8_t ip_opts_ra_rr[12] = {
	0x94, 0x04, 0x00, 0x00,			/* Router Alert, copied */
	0x07, 0x07, 0x04, 0, 0, 0, 0,		/* Record Route, not copied */
	0x00,					/* EOL */
};
static const uint8_t tcp_opts_ts[12] = {
	0x01, 0x01, 0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2,	/* NOP NOP TS */
};

/* A GSO header as a driver with HOST_TSO/UFO fills it (5.1.6.2). */
static struct virtio_net_hdr_v1 gso_hdr(uint8_t type, uint16_t mss,
					const struct built *b)
{
	struct virtio_net_hdr_v1 h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = type,
		.hdr_len = (uint16_t)b->payload_off,
		.gso_size = mss,
		.csum_start = (uint16_t)b->l4_off,
		.csum_offset = (uint16_t)(b->csum_off - b->l4_off),
	};
	return h;
}

/* Output buffers of exactly the requested size. */
struct outbufs {
	uint8_t *out;
	uint32_t cap;
	struct gso_seg *segs;
	unsigned max;
};

static struct outbufs outbufs_alloc(uint32_t cap, unsigned max)
{
	struct outbufs ob = { .cap = cap, .max = max };

	ob.out = malloc(cap ? cap : 1);
	ob.segs = malloc((max ? max : 1) * sizeof(*ob.segs));
	assert_non_null(ob.out);
	assert_non_null(ob.segs);
	memset(ob.out, 0x5a, cap);
	return ob;
}

static void outbufs_free(struct outbufs *ob)
{
	free(ob->out);
	free(ob->segs);
}

static int run_gso(const uint8_t *frame, uint32_t len,
		   const struct virtio_net_hdr_v1 *h, struct outbufs *ob)
{
	uint8_t *f = dup_exact(frame, len);
	int r = gso_segment(f, len, h, ob->out, ob->cap, ob->segs, ob->max);

	free(f);
	return r;
}

static uint32_t div_up(uint32_t a, uint32_t b)
{
	return (a + b - 1) / b;
}

/* ---- TSO ----------------------------------------------------------------- */

/* Cuts the frame o describes with the given MSS and checks every segment
 * against the original; returns the number of segments. */
static int tso_check(const struct build *o, uint16_t mss, uint8_t type_flags)
{
	static uint8_t payload[FRAME_CAP];
	struct built b = build_frame(frame_buf, o);
	const uint8_t type = (o->ipv == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
			      VIRTIO_NET_HDR_GSO_TCPV6) | type_flags;
	const uint32_t hdrs = b.payload_off;
	const uint32_t n = div_up(o->payload_len, mss);
	const uint32_t need = n * hdrs + o->payload_len;
	const uint8_t *tcp0 = frame_buf + b.l4_off;
	const uint8_t flags0 = tcp0[TCP_OFF_FLAGS];
	const uint32_t seq0 = net_get_be32(tcp0 + TCP_OFF_SEQ);
	const uint16_t id0 = net_get_be16(frame_buf + b.l3_off + IPV4_OFF_ID);
	struct virtio_net_hdr_v1 h;
	struct outbufs ob;
	uint32_t got = 0, pos = 0;
	int r;

	/* The input carries a pseudo-header seed, as with NEEDS_CSUM. */
	seed_pseudo(frame_buf, &b, o->ipv, o->proto);
	h = gso_hdr(type, mss, &b);

	/* One byte or one segment short: refused, nothing written. */
	ob = outbufs_alloc(need - 1, n);
	assert_int_equal(run_gso(frame_buf, b.len, &h, &ob), -ENOSPC);
	for (uint32_t i = 0; i < ob.cap; i++)
		assert_int_equal(ob.out[i], 0x5a);
	outbufs_free(&ob);
	if (n > 1) {
		ob = outbufs_alloc(need, n - 1);
		assert_int_equal(run_gso(frame_buf, b.len, &h, &ob), -ENOSPC);
		outbufs_free(&ob);
	}

	ob = outbufs_alloc(need, n);
	r = run_gso(frame_buf, b.len, &h, &ob);
	assert_int_equal(r, (int)n);

	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *s = ob.out + ob.segs[i].offset;
		const uint32_t slen = ob.segs[i].len;
		const uint8_t *ip = s + b.l3_off;
		const uint8_t *tcp = s + b.l4_off;
		const uint32_t plen = slen - hdrs;
		uint8_t want = flags0;
		struct frame_l34 l;

		/* Back to back, each no longer than headers + MSS. */
		assert_int_equal(ob.segs[i].offset, pos);
		pos += slen;
		assert_true(slen > hdrs);
		assert_true(slen <= hdrs + mss);
		assert_true(i + 1 == n || plen == mss);

		assert_int_equal(frame_verify_csums(s, slen), 0);
		assert_int_equal(frame_parse(s, slen, &l), 0);
		assert_int_equal(l.ip_end, slen);
		assert_int_equal(l.payload_off, hdrs);

		/* Unchanged: Ethernet (+ tag), addresses, ports, ack,
		 * window, options. */
		assert_memory_equal(s, frame_buf, b.l3_off);
		if (o->ipv == 4) {
			assert_memory_equal(ip + 12, frame_buf + b.l3_off + 12,
					    b.l4_off - b.l3_off - 12);
			assert_int_equal(net_get_be16(ip + IPV4_OFF_TOT_LEN),
					 slen - b.l3_off);
			assert_int_equal(net_get_be16(ip + IPV4_OFF_ID),
					 (uint16_t)(id0 + i));
			assert_int_equal(ip[IPV4_OFF_FRAG], 0x40);	/* DF */
		} else {
			assert_memory_equal(ip, frame_buf + b.l3_off, 4);
			assert_memory_equal(ip + 6, frame_buf + b.l3_off + 6, 34);
			assert_int_equal(net_get_be16(ip + IPV6_OFF_PAYLOAD_LEN),
					 slen - b.l4_off);
		}
		assert_memory_equal(tcp, tcp0, 4);
		assert_memory_equal(tcp + 8, tcp0 + 8, 5);	/* ack, doff */
		assert_memory_equal(tcp + 14, tcp0 + 14, 2);	/* window */
		assert_memory_equal(tcp + 20, tcp0 + 20, b.payload_off - b.l4_off - 20);

		/* Sequence numbers follow the payload (RFC 9293 3.4). */
		assert_int_equal(net_get_be32(tcp + TCP_OFF_SEQ), seq0 + got);

		if (i > 0)
			want &= (uint8_t)~TCPHDR_CWR;
		if (i + 1 < n)
			want &= (uint8_t)~(TCPHDR_FIN | TCPHDR_PSH);
		if (!(flags0 & TCPHDR_URG))
			assert_int_equal(tcp[TCP_OFF_FLAGS], want);

		memcpy(payload + got, s + hdrs, plen);
		got += plen;
	}
	assert_int_equal(pos, need);
	assert_int_equal(got, o->payload_len);
	assert_memory_equal(payload, frame_buf + b.payload_off, got);
	outbufs_free(&ob);
	return r;
}

static void tso_sizes(int ipv, bool options)
{
	/* Largest payload that fits the 16-bit IP length field. */
	const uint32_t opt = options ? 12 : 0;
	const uint32_t max_payload = ipv == 4 ? 65535 - 40 - 2 * opt :
						 65535 - 20 - opt;
	static const struct {
		uint16_t mss;
		uint32_t payload;	/* 0: the largest */
		uint32_t segs;
	} cases[] = {
		{ 1448, 1449, 2 },	/* one byte over the MSS */
		{ 1448, 3 * 1448, 3 },	/* exact multiple */
		{ 1448, 1448, 1 },	/* exactly one */
		{ 1448, 1, 1 },		/* less than one */
		{ 536, 5000, 10 },
		{ 9000, 20000, 3 },
		{ 1, 100, 100 },	/* one byte per segment */
		{ 1448, 0, 0 },		/* 64 KiB */
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct build o = {
			.ipv = ipv, .proto = NET_PROTO_TCP,
			.payload_len = cases[c].payload ? cases[c].payload : max_payload,
			.seed = (uint32_t)c, .vlan = options,
			.tcp_flags = TCPHDR_ACK | TCPHDR_PSH,
		};
		uint32_t want = cases[c].segs ? cases[c].segs :
			div_up(max_payload, cases[c].mss);

		if (options) {
			o.tcp_opts = tcp_opts_ts;
			o.tcp_opt_len = 12;
			if (ipv == 4) {
				o.ip_opts = ip_opts_ra_rr;
				o.ip_opt_len = 12;
			}
		}
		assert_int_equal(tso_check(&o, cases[c].mss, 0), (int)want);
	}
}

static void test_tso_v4_sizes(void **state)
{
	(void)state;
	tso_sizes(4, false);
}

static void test_tso_v6_sizes(void **state)
{
	(void)state;
	tso_sizes(6, false);
}

static void test_tso_v4_vlan_and_options(void **state)
{
	(void)state;
	tso_sizes(4, true);
}

static void test_tso_v6_vlan_and_options(void **state)
{
	(void)state;
	tso_sizes(6, true);
}

static void test_tso_flags(void **state)
{
	static const uint8_t flag_sets[] = {
		TCPHDR_ACK,
		TCPHDR_ACK | TCPHDR_PSH,
		TCPHDR_ACK | TCPHDR_PSH | TCPHDR_FIN,
		TCPHDR_ACK | TCPHDR_CWR | TCPHDR_ECE | TCPHDR_PSH | TCPHDR_FIN,
	};
	(void)state;
	for (int ipv = 4; ipv <= 6; ipv += 2) {
		for (size_t k = 0; k < sizeof(flag_sets); k++) {
			struct build o = { .ipv = ipv, .proto = NET_PROTO_TCP,
					   .payload_len = 4000,
					   .tcp_flags = flag_sets[k] };
			uint8_t ecn = flag_sets[k] & TCPHDR_CWR ?
				VIRTIO_NET_HDR_GSO_ECN : 0;

			/* With and without the ECN bit in gso_type: CWR is
			 * only ever on the first segment. */
			assert_int_equal(tso_check(&o, 1000, ecn), 4);
			assert_int_equal(tso_check(&o, 1000, 0), 4);
		}
	}
}

static void test_tso_ipv4_id_wraps(void **state)
{
	struct build o = { .ipv = 4, .proto = NET_PROTO_TCP, .payload_len = 3000 };
	struct built b = build_frame(frame_buf, &o);
	struct virtio_net_hdr_v1 h = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1000, &b);
	struct outbufs ob = outbufs_alloc(3 * b.payload_off + 3000, 3);
	(void)state;
	net_put_be16(frame_buf + b.l3_off + IPV4_OFF_ID, 0xfffe);
	assert_int_equal(run_gso(frame_buf, b.len, &h, &ob), 3);
	for (unsigned i = 0; i < 3; i++) {
		const uint8_t *s = ob.out + ob.segs[i].offset;

		assert_int_equal(net_get_be16(s + b.l3_off + IPV4_OFF_ID),
				 (uint16_t)(0xfffe + i));
		assert_int_equal(frame_verify_csums(s, ob.segs[i].len), 0);
	}
	outbufs_free(&ob);
}

static void test_tso_seq_wraps(void **state)
{
	struct build o = { .ipv = 6, .proto = NET_PROTO_TCP, .payload_len = 3000 };
	struct built b = build_frame(frame_buf, &o);
	struct virtio_net_hdr_v1 h = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV6, 1000, &b);
	struct outbufs ob = outbufs_alloc(3 * b.payload_off + 3000, 3);
	(void)state;
	net_put_be32(frame_buf + b.l4_off + TCP_OFF_SEQ, 0xfffffc00u);
	assert_int_equal(run_gso(frame_buf, b.len, &h, &ob), 3);
	for (unsigned i = 0; i < 3; i++) {
		const uint8_t *s = ob.out + ob.segs[i].offset;

		assert_int_equal(net_get_be32(s + b.l4_off + TCP_OFF_SEQ),
				 (uint32_t)(0xfffffc00u + 1000 * i));
		assert_int_equal(frame_verify_csums(s, ob.segs[i].len), 0);
	}
	outbufs_free(&ob);
}

static void test_tso_urgent_pointer(void **state)
{
	/* Urgent data ends 100 bytes in (RFC 9293 3.8.5): segment 1 points
	 * 36 bytes in; segments 2 and 3 are past it. */
	struct build o = { .ipv = 4, .proto = NET_PROTO_TCP, .payload_len = 250,
			   .tcp_flags = TCPHDR_ACK | TCPHDR_URG };
	struct built b = build_frame(frame_buf, &o);
	struct virtio_net_hdr_v1 h = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 64, &b);
	struct outbufs ob = outbufs_alloc(4 * b.payload_off + 250, 4);
	static const uint16_t want_urg[4] = { 100, 36, 0, 0 };
	(void)state;
	net_put_be16(frame_buf + b.l4_off + TCP_OFF_URG, 100);
	assert_int_equal(run_gso(frame_buf, b.len, &h, &ob), 4);
	for (unsigned i = 0; i < 4; i++) {
		const uint8_t *tcp = ob.out + ob.segs[i].offset + b.l4_off;

		assert_int_equal(net_get_be16(tcp + TCP_OFF_URG), want_urg[i]);
		assert_int_equal(!!(tcp[TCP_OFF_FLAGS] & TCPHDR_URG), i < 2);
		assert_true(tcp[TCP_OFF_FLAGS] & TCPHDR_ACK);
		assert_int_equal(frame_verify_csums(ob.out + ob.segs[i].offset,
						    ob.segs[i].len), 0);
	}
	outbufs_free(&ob);
}

static void test_tso_ignores_hdr_len(void **state)
{
	/* hdr_len is only a hint (5.1.6.2): a lying one changes nothing. */
	static const uint16_t lies[] = { 0, 1, 14, 54, 0xffff };
	struct build o = { .ipv = 4, .proto = NET_PROTO_TCP, .payload_len = 3000 };
	struct built b = build_frame(frame_buf, &o);
	const uint32_t need = 3 * b.payload_off + 3000;
	struct outbufs ref = outbufs_alloc(need, 3);
	struct virtio_net_hdr_v1 h = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1000, &b);
	(void)state;
	assert_int_equal(run_gso(frame_buf, b.len, &h, &ref), 3);
	for (size_t k = 0; k < sizeof(lies) / sizeof(lies[0]); k++) {
		struct outbufs ob = outbufs_alloc(need, 3);

		h.hdr_len = lies[k];
		assert_int_equal(run_gso(frame_buf, b.len, &h, &ob), 3);
		assert_memory_equal(ob.out, ref.out, need);
		outbufs_free(&ob);
	}
	outbufs_free(&ref);
}

static void test_tso_ignores_link_padding(void **state)
{
	struct build o = { .ipv = 4, .proto = NET_PROTO_TCP, .payload_len = 20 };
	struct built b = build_frame(frame_buf, &o);
	struct virtio_net_hdr_v1 h = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 8, &b);
	struct outbufs ob = outbufs_alloc(3 * b.payload_off + 20, 3);
	(void)state;
	memset(frame_buf + b.len, 0xee, 30);
	assert_int_equal(run_gso(frame_buf, b.len + 30, &h, &ob), 3);
	assert_int_equal(ob.segs[2].len, b.payload_off + 4);
	outbufs_free(&ob);
}

/* ---- UFO ----------------------------------------------------------------- */

/* Fragments a UDPv4 datagram and checks the fragments, then reassembles
 * them (RFC 791 3.2) and verifies the whole datagram. */
static int ufo_check(const struct build *o, uint16_t gso_size)
{
	static uint8_t re[FRAME_CAP];
	struct built b = build_frame(frame_buf, o);
	const uint32_t hdrs = b.l4_off;
	const uint32_t ihl = b.l4_off - b.l3_off;
	const uint32_t ulen = b.len - b.l4_off;
	const uint32_t frag = ulen <= gso_size ? ulen : gso_size & ~7u;
	const uint32_t n = div_up(ulen, frag);
	const uint32_t need = n * hdrs + ulen;
	const uint16_t id0 = net_get_be16(frame_buf + b.l3_off + IPV4_OFF_ID);
	const uint16_t want_csum = net_get_be16(frame_buf + b.csum_off);
	struct virtio_net_hdr_v1 h;
	struct outbufs ob;
	uint32_t got = 0;
	int r;

	seed_pseudo(frame_buf, &b, o->ipv, o->proto);
	h = gso_hdr(VIRTIO_NET_HDR_GSO_UDP, gso_size, &b);

	ob = outbufs_alloc(need - 1, n);
	assert_int_equal(run_gso(frame_buf, b.len, &h, &ob), -ENOSPC);
	outbufs_free(&ob);

	ob = outbufs_alloc(need, n);
	r = run_gso(frame_buf, b.len, &h, &ob);
	assert_int_equal(r, (int)n);
	memcpy(re, ob.out, hdrs);	/* headers of the first fragment */
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *s = ob.out + ob.segs[i].offset;
		const uint8_t *ip = s + b.l3_off;
		const uint32_t plen = ob.segs[i].len - hdrs;
		const uint16_t ff = net_get_be16(ip + IPV4_OFF_FRAG);

		assert_true(plen <= frag);
		assert_true(i + 1 == n || plen == frag);
		assert_true(plen % 8 == 0 || i + 1 == n);
		assert_int_equal(ref_fold(ref_add(ip, ihl, 0)), 0xffff);
		assert_int_equal(net_get_be16(ip + IPV4_OFF_TOT_LEN), ihl + plen);
		assert_int_equal(net_get_be16(ip + IPV4_OFF_ID), id0);
		assert_int_equal((ff & IPV4_FRAG_OFF_MASK) * 8, got);
		assert_int_equal(!!(ff & IPV4_FRAG_MF), i + 1 < n);
		assert_true(ff & 0x4000);	/* DF kept as sent */
		assert_memory_equal(s, frame_buf, b.l3_off);
		assert_memory_equal(ip + 12, frame_buf + b.l3_off + 12, 8);
		if (i == 0)
			assert_memory_equal(ip + 20, frame_buf + b.l3_off + 20,
					    ihl - 20);
		memcpy(re + hdrs + got, s + hdrs, plen);
		got += plen;
	}
	assert_int_equal(got, ulen);
	if (n == 1)
		assert_int_equal(frame_verify_csums(ob.out, ob.segs[0].len), 0);

	/* Reassemble: the first fragment's headers, whole length, no MF. */
	net_put_be16(re + b.l3_off + IPV4_OFF_TOT_LEN, (uint16_t)(ihl + ulen));
	net_put_be16(re + b.l3_off + IPV4_OFF_FRAG, 0x4000);
	net_put_be16(re + b.l3_off + IPV4_OFF_CSUM, 0);
	net_put_be16(re + b.l3_off + IPV4_OFF_CSUM,
		     (uint16_t)~ref_fold(ref_add(re + b.l3_off, ihl, 0)));
	assert_int_equal(frame_verify_csums(re, b.len), 0);
	/* The UDP header and data are the original's, checksum included. */
	assert_int_equal(net_get_be16(re + b.csum_off), want_csum);
	assert_memory_equal(re + b.l4_off, frame_buf + b.l4_off, 6);
	assert_memory_equal(re + b.payload_off, frame_buf + b.payload_off,
			    o->payload_len);
	outbufs_free(&ob);
	return r;
}

static void test_ufo_fragments(void **state)
{
	static const struct {
		uint32_t payload;
		uint16_t gso_size;
		int frags;
	} cases[] = {
		{ 4000, 1480, 3 },	/* 4008 = 1480 + 1480 + 1048 */
		{ 1472, 1480, 1 },	/* exactly fits: not fragmented */
		{ 1473, 1480, 2 },	/* one byte over */
		{ 3000, 1001, 4 },	/* rounded down to 1000 */
		{ 100, 8, 14 },		/* the smallest fragment: 8 bytes */
		{ 65507, 1480, 45 },	/* largest UDPv4 datagram */
	};
	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct build o = { .ipv = 4, .proto = NET_PROTO_UDP,
				   .payload_len = cases[c].payload,
				   .seed = (uint32_t)c, .vlan = c & 1 };

		assert_int_equal(ufo_check(&o, cases[c].gso_size), cases[c].frags);
	}
}

static void test_ufo_options_copied_flag(void **state)
{
	/* Router Alert (copied) stays in every fragment; Record Route (not
	 * copied) only in the first, NOPs in its place after (RFC 791 3.1). */
	static const uint8_t later[12] = {
		0x94, 0x04, 0x00, 0x00, 1, 1, 1, 1, 1, 1, 1, 0x00,
	};
	struct build o = { .ipv = 4, .proto = NET_PROTO_UDP, .payload_len = 3000,
			   .ip_opts = ip_opts_ra_rr, .ip_opt_len = 12 };
	struct built b = build_frame(frame_buf, &o);
	struct virtio_net_hdr_v1 h = gso_hdr(VIRTIO_NET_HDR_GSO_UDP, 1200, &b);
	struct outbufs ob = outbufs_alloc(3 * b.l4_off + 3008, 3);
	(void)state;
	assert_int_equal(ufo_check(&o, 1200), 3);
	assert_int_equal(run_gso(frame_buf, b.len, &h, &ob), 3);
	assert_memory_equal(ob.out + b.l3_off + 20, ip_opts_ra_rr, 12);
	for (unsigned i = 1; i < 3; i++)
		assert_memory_equal(ob.out + ob.segs[i].offset + b.l3_off + 20,
				    later, 12);
	outbufs_free(&ob);
}

static void test_ufo_zero_checksum_becomes_ffff(void **state)
{
	/* Payload chosen so the UDP checksum comes out 0 (sent as ffff,
	 * RFC 768). */
	struct build o = { .ipv = 4, .proto = NET_PROTO_UDP, .payload_len = 2000 };
	struct built b = build_frame(frame_buf, &o);
	struct virtio_net_hdr_v1 h = gso_hdr(VIRTIO_NET_HDR_GSO_UDP, 1000, &b);
	struct outbufs ob = outbufs_alloc(3 * b.l4_off + 2008, 3);
	uint32_t acc;
	uint16_t w;
	(void)state;
	frame_buf[b.payload_off] = 0;
	frame_buf[b.payload_off + 1] = 0;
	acc = ref_pseudo(frame_buf, &b, 4, NET_PROTO_UDP, b.len - b.l4_off);
	acc = ref_add(frame_buf + b.l4_off, 6, acc);
	acc = ref_add(frame_buf + b.l4_off + 8, b.len - b.l4_off - 8, acc);
	w = (uint16_t)(0xffff - ref_fold(acc));
	net_put_be16(frame_buf + b.payload_off, w);
	assert_int_equal(ref_l4_csum(frame_buf, &b, 4, NET_PROTO_UDP), 0);
	assert_int_equal(run_gso(frame_buf, b.len, &h, &ob), 3);
	assert_int_equal(net_get_be16(ob.out + b.csum_off), 0xffff);
	outbufs_free(&ob);
}

/* ---- Refusals ------------------------------------------------------------ */

static int gso_edited(const struct build *o, uint8_t type, uint16_t mss,
		      void (*edit)(uint8_t *, const struct built *))
{
	struct built b = build_frame(frame_buf, o);
	struct virtio_net_hdr_v1 h = gso_hdr(type, mss, &b);
	struct outbufs ob = outbufs_alloc(2 * FRAME_CAP, 70000);
	int r;

	if (edit)
		edit(frame_buf, &b);
	r = run_gso(frame_buf, b.len, &h, &ob);
	outbufs_free(&ob);
	return r;
}

static void edit_tot_len_inside_ip_hdr(uint8_t *f, const struct built *b)
{
	net_put_be16(f + b->l3_off + IPV4_OFF_TOT_LEN, 10);
}

/* The frame ends inside its IP header. */
static int gso_truncated_ip(const struct build *o, uint8_t type)
{
	struct built b = build_frame(frame_buf, o);
	struct virtio_net_hdr_v1 h = gso_hdr(type, 1000, &b);
	struct outbufs ob = outbufs_alloc(2 * FRAME_CAP, 100);
	int r = run_gso(frame_buf, b.l3_off + 10, &h, &ob);

	outbufs_free(&ob);
	return r;
}

static void edit_ihl_4(uint8_t *f, const struct built *b)
{
	f[b->l3_off] = 0x44;
}

static void edit_tot_len_past_frame(uint8_t *f, const struct built *b)
{
	net_put_be16(f + b->l3_off + IPV4_OFF_TOT_LEN,
		     (uint16_t)(b->len - b->l3_off + 1));
}

/* Past the end of the segment when it has fewer than 60 bytes. */
static void edit_tcp_doff_past_frame(uint8_t *f, const struct built *b)
{
	f[b->l4_off + TCP_OFF_DOFF] = 0xf0;
}

static void edit_syn(uint8_t *f, const struct built *b)
{
	f[b->l4_off + TCP_OFF_FLAGS] |= TCPHDR_SYN;
}

static void edit_rst(uint8_t *f, const struct built *b)
{
	f[b->l4_off + TCP_OFF_FLAGS] |= TCPHDR_RST;
}

static void edit_ipv4_mf(uint8_t *f, const struct built *b)
{
	f[b->l3_off + IPV4_OFF_FRAG] |= 0x20;
}

static void edit_udp_len_short(uint8_t *f, const struct built *b)
{
	net_put_be16(f + b->l4_off + UDP_OFF_LEN,
		     (uint16_t)(net_get_be16(f + b->l4_off + UDP_OFF_LEN) - 1));
}

static void edit_bad_ip_option(uint8_t *f, const struct built *b)
{
	f[b->l3_off + 20 + 5] = 9;	/* Record Route length past the header */
}

static void edit_ip_option_len_1(uint8_t *f, const struct built *b)
{
	f[b->l3_off + 20 + 5] = 1;
}

static void test_refuses_malformed(void **state)
{
	static const struct build v4tcp = { .ipv = 4, .proto = NET_PROTO_TCP,
					    .payload_len = 3000 };
	static const struct build v6tcp = { .ipv = 6, .proto = NET_PROTO_TCP,
					    .payload_len = 3000 };
	static const struct build v4udp = { .ipv = 4, .proto = NET_PROTO_UDP,
					    .payload_len = 3000 };
	static const struct build v6udp = { .ipv = 6, .proto = NET_PROTO_UDP,
					    .payload_len = 3000 };
	static const struct build v4opt = { .ipv = 4, .proto = NET_PROTO_UDP,
					    .payload_len = 3000,
					    .ip_opts = ip_opts_ra_rr,
					    .ip_opt_len = 12 };
	static const struct build v4small = { .ipv = 4, .proto = NET_PROTO_TCP,
					      .payload_len = 39 };
	static const struct build v6small = { .ipv = 6, .proto = NET_PROTO_TCP,
					      .payload_len = 39 };
	static const struct build v4empty = { .ipv = 4, .proto = NET_PROTO_TCP };
	static const struct build v6empty = { .ipv = 6, .proto = NET_PROTO_TCP };
	static const struct build udp_empty = { .ipv = 4, .proto = NET_PROTO_UDP };
	const uint8_t T4 = VIRTIO_NET_HDR_GSO_TCPV4, T6 = VIRTIO_NET_HDR_GSO_TCPV6;
	const uint8_t U = VIRTIO_NET_HDR_GSO_UDP, ECN = VIRTIO_NET_HDR_GSO_ECN;
	(void)state;

	/* Sanity: the unedited frames pass. */
	assert_int_equal(gso_edited(&v4tcp, T4, 1000, NULL), 3);
	assert_int_equal(gso_edited(&v6tcp, T6 | ECN, 1000, NULL), 3);
	assert_int_equal(gso_edited(&v4udp, U, 1480, NULL), 3);

	/* Headers that do not fit or lie about lengths. */
	assert_int_equal(gso_truncated_ip(&v4tcp, T4), -EINVAL);
	assert_int_equal(gso_truncated_ip(&v6tcp, T6), -EINVAL);
	assert_int_equal(gso_truncated_ip(&v4udp, U), -EINVAL);
	assert_int_equal(gso_edited(&v4tcp, T4, 1000, edit_tot_len_inside_ip_hdr), -EINVAL);
	assert_int_equal(gso_edited(&v4tcp, T4, 1000, edit_ihl_4), -EINVAL);
	assert_int_equal(gso_edited(&v4tcp, T4, 1000, edit_tot_len_past_frame), -EINVAL);
	/* Data offset 15 (60 bytes) with 20 + 39 bytes of segment. */
	assert_int_equal(gso_edited(&v4small, T4, 10, NULL), 4);
	assert_int_equal(gso_edited(&v4small, T4, 10, edit_tcp_doff_past_frame), -EINVAL);
	assert_int_equal(gso_edited(&v6small, T6, 10, edit_tcp_doff_past_frame), -EINVAL);
	assert_int_equal(gso_edited(&v4empty, T4, 10, edit_tcp_doff_past_frame), -EINVAL);
	assert_int_equal(gso_edited(&v4udp, U, 1480, edit_udp_len_short), -EINVAL);
	assert_int_equal(gso_edited(&v4opt, U, 1480, edit_bad_ip_option), -EINVAL);
	assert_int_equal(gso_edited(&v4opt, U, 1480, edit_ip_option_len_1), -EINVAL);

	/* gso_type that does not describe the frame. */
	assert_int_equal(gso_edited(&v6tcp, T4, 1000, NULL), -EINVAL);
	assert_int_equal(gso_edited(&v4tcp, T6, 1000, NULL), -EINVAL);
	assert_int_equal(gso_edited(&v4udp, T4, 1000, NULL), -EINVAL);
	assert_int_equal(gso_edited(&v4tcp, U, 1000, NULL), -EINVAL);
	assert_int_equal(gso_edited(&v4udp, U | ECN, 1480, NULL), -EINVAL);
	assert_int_equal(gso_edited(&v4tcp, VIRTIO_NET_HDR_GSO_NONE, 1000, NULL), -EINVAL);
	assert_int_equal(gso_edited(&v4tcp, 2, 1000, NULL), -EINVAL);
	assert_int_equal(gso_edited(&v4tcp, 0x7f, 1000, NULL), -EINVAL);
	assert_int_equal(gso_edited(&v4udp, VIRTIO_NET_HDR_GSO_UDP_L4, 1000, NULL),
			 -EOPNOTSUPP);
	assert_int_equal(gso_edited(&v6udp, U, 1232, NULL), -EOPNOTSUPP);

	/* Sizes. */
	assert_int_equal(gso_edited(&v4tcp, T4, 0, NULL), -EINVAL);
	assert_int_equal(gso_edited(&v6tcp, T6, 0, NULL), -EINVAL);
	assert_int_equal(gso_edited(&v4udp, U, 0, NULL), -EINVAL);
	assert_int_equal(gso_edited(&v4udp, U, 7, NULL), -EINVAL);
	assert_int_equal(gso_edited(&v4empty, T4, 1000, NULL), -EINVAL);
	assert_int_equal(gso_edited(&v6empty, T6, 1000, NULL), -EINVAL);
	assert_int_equal(gso_edited(&udp_empty, U, 1000, NULL), -EINVAL);

	/* What TCP cannot split, and inputs that are fragments already. */
	assert_int_equal(gso_edited(&v4tcp, T4, 1000, edit_syn), -EINVAL);
	assert_int_equal(gso_edited(&v6tcp, T6, 1000, edit_rst), -EINVAL);
	assert_int_equal(gso_edited(&v4udp, U, 1480, edit_ipv4_mf), -EPROTONOSUPPORT);
}

static void test_refuses_null(void **state)
{
	struct build o = { .ipv = 4, .proto = NET_PROTO_TCP, .payload_len = 300 };
	struct built b = build_frame(frame_buf, &o);
	struct virtio_net_hdr_v1 h = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 100, &b);
	static uint8_t out[4096];
	struct gso_seg segs[8];
	(void)state;
	assert_int_equal(gso_segment(NULL, b.len, &h, out, sizeof(out), segs, 8), -EINVAL);
	assert_int_equal(gso_segment(frame_buf, b.len, NULL, out, sizeof(out), segs, 8), -EINVAL);
	assert_int_equal(gso_segment(frame_buf, b.len, &h, NULL, sizeof(out), segs, 8), -EINVAL);
	assert_int_equal(gso_segment(frame_buf, b.len, &h, out, sizeof(out), NULL, 8), -EINVAL);
	assert_int_equal(gso_segment(frame_buf, b.len, &h, out, sizeof(out), segs, 0), -ENOSPC);
	assert_int_equal(gso_segment(frame_buf, b.len, &h, out, 0, segs, 8), -ENOSPC);
	assert_int_equal(gso_segment(frame_buf, b.len, &h, out, sizeof(out), segs, 8), 3);
}

static void test_refuses_every_truncation(void **state)
{
	static const struct build kinds[] = {
		{ .ipv = 4, .proto = NET_PROTO_TCP, .payload_len = 40, .vlan = true,
		  .ip_opts = ip_opts_ra_rr, .ip_opt_len = 12,
		  .tcp_opts = tcp_opts_ts, .tcp_opt_len = 12 },
		{ .ipv = 6, .proto = NET_PROTO_TCP, .payload_len = 40 },
		{ .ipv = 4, .proto = NET_PROTO_UDP, .payload_len = 40 },
	};
	(void)state;
	for (size_t k = 0; k < 3; k++) {
		struct built b = build_frame(frame_buf, &kinds[k]);
		const uint8_t type = kinds[k].proto == NET_PROTO_UDP ?
			VIRTIO_NET_HDR_GSO_UDP : kinds[k].ipv == 4 ?
			VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
		struct virtio_net_hdr_v1 h = gso_hdr(type, 16, &b);
		struct outbufs ob = outbufs_alloc(1024, 16);

		for (uint32_t n = 0; n < b.len; n++)
			assert_int_equal(run_gso(frame_buf, n, &h, &ob), -EINVAL);
		assert_true(run_gso(frame_buf, b.len, &h, &ob) > 1);
		outbufs_free(&ob);
	}
}

/* Random header bytes, sizes and gso fields: whatever comes out lies
 * inside the output buffer, and (under ASan) nothing outside any buffer
 * is touched. */
static void test_random_input_stays_in_bounds(void **state)
{
	static const struct build kinds[] = {
		{ .ipv = 4, .proto = NET_PROTO_TCP, .payload_len = 600 },
		{ .ipv = 6, .proto = NET_PROTO_TCP, .payload_len = 600, .vlan = true },
		{ .ipv = 4, .proto = NET_PROTO_UDP, .payload_len = 600,
		  .ip_opts = ip_opts_ra_rr, .ip_opt_len = 12 },
	};
	static const uint8_t types[] = {
		VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6,
		VIRTIO_NET_HDR_GSO_UDP,
	};
	uint32_t x = 777;
	int ok = 0;
	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		const size_t k = (size_t)iter % 3;
		struct built b = build_frame(frame_buf, &kinds[k]);
		struct virtio_net_hdr_v1 h;
		struct outbufs ob;
		uint32_t cap;
		int r;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		h = gso_hdr(types[k] | (x & 1 ? VIRTIO_NET_HDR_GSO_ECN : 0),
			    (uint16_t)(x >> 1 & 0x1ff), &b);
		if (iter & 1)
			frame_buf[(x >> 10) % b.payload_off] = (uint8_t)(x >> 3);
		cap = (x >> 20) & 0x1fff;
		ob = outbufs_alloc(cap, (x >> 16) & 0x3f);
		r = run_gso(frame_buf, b.len, &h, &ob);
		if (r > 0) {
			ok++;
			assert_true((unsigned)r <= ob.max);
			for (int i = 0; i < r; i++)
				assert_true(ob.segs[i].offset + ob.segs[i].len <= cap);
		} else {
			assert_true(r == -EINVAL || r == -ENOSPC ||
				    r == -EOPNOTSUPP || r == -EPROTONOSUPPORT);
		}
		outbufs_free(&ob);
	}
	assert_true(ok > 100);	/* the valid paths were exercised too */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tso_v4_sizes),
		cmocka_unit_test(test_tso_v6_sizes),
		cmocka_unit_test(test_tso_v4_vlan_and_options),
		cmocka_unit_test(test_tso_v6_vlan_and_options),
		cmocka_unit_test(test_tso_flags),
		cmocka_unit_test(test_tso_ipv4_id_wraps),
		cmocka_unit_test(test_tso_seq_wraps),
		cmocka_unit_test(test_tso_urgent_pointer),
		cmocka_unit_test(test_tso_ignores_hdr_len),
		cmocka_unit_test(test_tso_ignores_link_padding),
		cmocka_unit_test(test_ufo_fragments),
		cmocka_unit_test(test_ufo_options_copied_flag),
		cmocka_unit_test(test_ufo_zero_checksum_becomes_ffff),
		cmocka_unit_test(test_refuses_malformed),
		cmocka_unit_test(test_refuses_null),
		cmocka_unit_test(test_refuses_every_truncation),
		cmocka_unit_test(test_random_input_stays_in_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
