// SPDX-License-Identifier: MIT
/*
 * frame.c - build and check vnet test frames (layout in frame.h).
 */
#include "guest/frame.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"

/* Offsets in a plain frame; a flow frame's header fields sit
 * FRAME_FLOW_OFF further (base below). */
#define OFF_TYPE    12
#define OFF_MAGIC   14
#define OFF_KIND    18
#define OFF_SEQ	    22
#define OFF_TS	    30
#define OFF_PLEN    38
#define OFF_CHECK   42
#define CHECKED_LEN (OFF_CHECK - OFF_MAGIC)
#define ETH_P_IPV4  0x0800
#define IP_PROTO_UDP 17

static const uint8_t frame_magic[4] = { 'V', 'N', 'T', '1' };

/* Nibble-at-a-time CRC-32: a 16-entry table is enough for 28-byte
 * headers and needs no initialisation. */
static const uint32_t crc_nibble[16] = {
	0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC,
	0x76DC4190, 0x6B6B51F4, 0x4DB26158, 0x5005713C,
	0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C,
	0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
};

uint32_t frame_crc32(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = 0xFFFFFFFFu;

	for (size_t i = 0; i < len; i++) {
		c ^= p[i];
		c = (c >> 4) ^ crc_nibble[c & 15];
		c = (c >> 4) ^ crc_nibble[c & 15];
	}
	return ~c;
}

static void put16be(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint16_t get16be(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
/* virtio.h asserts a little-endian host: memcpy is the LE encoding. */
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* The payload stream: xorshift64 (Marsaglia) from a seq-derived seed.
 * The multiply spreads consecutive seqs; the stream must never start at
 * 0 (xorshift's fixed point). */
static uint64_t pattern_seed(uint64_t seq)
{
	uint64_t x = (seq + 1) * UINT64_C(0x9E3779B97F4A7C15);

	return x ? x : UINT64_C(0x6A09E667F3BCC909);
}

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static void pattern_fill(uint8_t *p, size_t len, uint64_t seq)
{
	uint64_t s = pattern_seed(seq);
	size_t i = 0;

	for (; i + 8 <= len; i += 8)
		put64(p + i, xorshift64(&s));
	if (i < len) {
		uint64_t w = xorshift64(&s);

		memcpy(p + i, &w, len - i);
	}
}

/* Index of the first of n (<= 8) bytes of p that differ from word w. */
static size_t first_diff(const uint8_t *p, uint64_t w, size_t n)
{
	uint8_t ref[8];
	size_t j = 0;

	memcpy(ref, &w, sizeof(ref));
	while (j < n && p[j] == ref[j])
		j++;
	return j;
}

/* Returns the offset of the first byte that differs, or len. */
static size_t pattern_verify(const uint8_t *p, size_t len, uint64_t seq)
{
	uint64_t s = pattern_seed(seq);
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w = xorshift64(&s);

		if (get64(p + i) != w)
			return i + first_diff(p + i, w, 8);
	}
	if (i < len)
		return i + first_diff(p + i, xorshift64(&s), len - i);
	return len;
}

/* Where the test header's fields start relative to a plain frame: 0, or
 * FRAME_FLOW_OFF for a flow frame (what its EtherType says; the IPv4
 * and UDP headers are checked before it counts as ours). */
static size_t header_base(const uint8_t *p, size_t len)
{
	if (len >= OFF_MAGIC && get16be(p + OFF_TYPE) == ETH_P_IPV4)
		return FRAME_FLOW_OFF;
	return 0;
}

void frame_reseal(void *buf)
{
	uint8_t *p = buf;
	size_t b = header_base(p, OFF_MAGIC);

	put32(p + b + OFF_CHECK, frame_crc32(p + b + OFF_MAGIC, CHECKED_LEN));
}

/* RFC 791 header checksum over the 20-byte header. */
static uint16_t ipv4_csum(const uint8_t *h)
{
	uint32_t s = 0;

	for (unsigned i = 0; i < 20; i += 2)
		s += get16be(h + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* IPv4 198.18.0.1 -> 198.18.0.2, UDP from the flow's port; checksum 0
 * (none, RFC 768). */
static void put_flow_headers(uint8_t *p, size_t len, int flow)
{
	uint8_t *ip = p + OFF_MAGIC, *udp = ip + 20;
	static const uint8_t addrs[8] = { 198, 18, 0, 1, 198, 18, 0, 2 };

	put16be(p + OFF_TYPE, ETH_P_IPV4);
	memset(ip, 0, 20);
	ip[0] = 0x45;			/* version 4, 5 words */
	put16be(ip + 2, (uint16_t)(len - OFF_MAGIC));
	put16be(ip + 6, 0x4000);	/* DF */
	ip[8] = 64;			/* TTL */
	ip[9] = IP_PROTO_UDP;
	memcpy(ip + 12, addrs, sizeof(addrs));
	put16be(ip + 10, ipv4_csum(ip));
	put16be(udp, (uint16_t)(FRAME_FLOW_PORT_BASE + flow));
	put16be(udp + 2, FRAME_UDP_PORT);
	put16be(udp + 4, (uint16_t)(len - OFF_MAGIC - 20));
	put16be(udp + 6, 0);
}

int frame_build_flow(void *buf, size_t len, const uint8_t dst[6], const uint8_t src[6],
		     uint8_t kind, uint64_t seq, uint64_t ts_ns, int flow)
{
	uint8_t *p = buf;
	size_t b = flow < 0 ? 0 : FRAME_FLOW_OFF, plen;

	if (len > FRAME_MAX_LEN || kind < FRAME_PING || kind > FRAME_DATA ||
	    flow >= FRAME_FLOWS_MAX)
		return -EINVAL;
	if (len < FRAME_MIN_LEN + b)
		len = FRAME_MIN_LEN + b;
	plen = len - FRAME_HDR_LEN - b;
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	if (flow < 0)
		put16be(p + OFF_TYPE, FRAME_ETHERTYPE);
	else
		put_flow_headers(p, len, flow);
	memcpy(p + b + OFF_MAGIC, frame_magic, sizeof(frame_magic));
	p[b + OFF_KIND] = kind;
	memset(p + b + OFF_KIND + 1, 0, 3);
	put64(p + b + OFF_SEQ, seq);
	put64(p + b + OFF_TS, ts_ns);
	put32(p + b + OFF_PLEN, (uint32_t)plen);
	frame_reseal(p);
	pattern_fill(p + b + FRAME_HDR_LEN, plen, seq);
	return (int)len;
}

int frame_build_ts(void *buf, size_t len, const uint8_t dst[6],
		   const uint8_t src[6], uint8_t kind, uint64_t seq,
		   uint64_t ts_ns)
{
	return frame_build_flow(buf, len, dst, src, kind, seq, ts_ns, -1);
}

int frame_build(void *buf, size_t len, const uint8_t dst[6],
		const uint8_t src[6], uint8_t kind, uint64_t seq)
{
	return frame_build_ts(buf, len, dst, src, kind, seq, now_ns());
}

/* A flow frame's IPv4 and UDP headers are ours: *flow set. */
static bool flow_headers_ok(const uint8_t *p, size_t len, int *flow)
{
	const uint8_t *ip = p + OFF_MAGIC, *udp = ip + 20;
	uint16_t sport;

	if (ip[0] != 0x45 || ip[9] != IP_PROTO_UDP || get16be(udp + 2) != FRAME_UDP_PORT ||
	    get16be(ip + 2) != len - OFF_MAGIC || ipv4_csum(ip) != 0)
		return false;
	sport = get16be(udp);
	if (sport < FRAME_FLOW_PORT_BASE || sport >= FRAME_FLOW_PORT_BASE + FRAME_FLOWS_MAX)
		return false;
	*flow = sport - FRAME_FLOW_PORT_BASE;
	return true;
}

int frame_check_header(const void *buf, size_t len, struct frame_info *info)
{
	const uint8_t *p = buf;
	struct frame_info tmp;
	size_t b;

	if (!info)
		info = &tmp;
	memset(info, 0, sizeof(*info));
	info->flow = -1;
	if (len < OFF_MAGIC)
		return FRAME_E_SHORT;
	memcpy(info->dst, p, 6);
	memcpy(info->src, p + 6, 6);
	b = header_base(p, len);
	if (b) {
		/* Any IPv4 frame: ours only with our IPv4 and UDP headers. */
		if (len < OFF_MAGIC + FRAME_FLOW_OFF || !flow_headers_ok(p, len, &info->flow))
			return FRAME_E_TYPE;
	} else if (get16be(p + OFF_TYPE) != FRAME_ETHERTYPE) {
		return FRAME_E_TYPE;
	}
	if (len < b + FRAME_HDR_LEN)
		return FRAME_E_SHORT;
	if (memcmp(p + b + OFF_MAGIC, frame_magic, sizeof(frame_magic)) != 0)
		return FRAME_E_MAGIC;
	if (get32(p + b + OFF_CHECK) != frame_crc32(p + b + OFF_MAGIC, CHECKED_LEN))
		return FRAME_E_HDR;
	/* From here on the header is what the sender wrote. */
	info->kind = p[b + OFF_KIND];
	info->seq = get64(p + b + OFF_SEQ);
	info->ts_ns = get64(p + b + OFF_TS);
	info->payload_len = get32(p + b + OFF_PLEN);
	if (len < FRAME_MIN_LEN + b)
		return FRAME_E_SHORT;
	if (info->payload_len != len - FRAME_HDR_LEN - b)
		return FRAME_E_LEN;
	if (info->kind < FRAME_PING || info->kind > FRAME_DATA)
		return FRAME_E_KIND;
	return FRAME_OK;
}

int frame_check(const void *buf, size_t len, struct frame_info *info)
{
	const uint8_t *p = buf;
	struct frame_info tmp;
	size_t bad, b;
	int rc;

	if (!info)
		info = &tmp;
	rc = frame_check_header(buf, len, info);
	if (rc != FRAME_OK)
		return rc;
	b = info->flow < 0 ? 0 : FRAME_FLOW_OFF;
	bad = pattern_verify(p + b + FRAME_HDR_LEN, info->payload_len, info->seq);
	if (bad != info->payload_len) {
		info->bad_offset = (uint32_t)(b + FRAME_HDR_LEN + bad);
		return FRAME_E_CONTENT;
	}
	return FRAME_OK;
}

void frame_make_reply(void *buf, const uint8_t my_mac[6])
{
	uint8_t *p = buf;
	size_t b = header_base(p, OFF_MAGIC);

	memmove(p, p + 6, 6);
	memcpy(p + 6, my_mac, 6);
	if (b) {
		/* Back along the flow: the addresses swap (the IPv4 checksum
		 * does not change, the sum is the same). */
		uint8_t a[4];

		memcpy(a, p + OFF_MAGIC + 12, 4);
		memmove(p + OFF_MAGIC + 12, p + OFF_MAGIC + 16, 4);
		memcpy(p + OFF_MAGIC + 16, a, 4);
	}
	p[b + OFF_KIND] = FRAME_PONG;
	frame_reseal(p);
}

const char *frame_strerror(int err)
{
	switch (err) {
	case FRAME_OK: return "ok";
	case FRAME_E_SHORT: return "frame too short";
	case FRAME_E_TYPE: return "not a vnet test frame (EtherType)";
	case FRAME_E_MAGIC: return "wrong magic";
	case FRAME_E_HDR: return "header check mismatch";
	case FRAME_E_LEN: return "bad payload length";
	case FRAME_E_KIND: return "unknown kind";
	case FRAME_E_CONTENT: return "payload content mismatch";
	default: return "unknown error";
	}
}
