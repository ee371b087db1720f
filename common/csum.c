// SPDX-License-Identifier: MIT
/*
 * csum.c - RFC 1071 Internet checksum, NEEDS_CSUM completion (virtio 1.2
 * 5.1.6.2) and the bounds-checked Ethernet/IP/TCP-UDP header parser.
 */
#include "common/csum.h"

#include <errno.h>
#include <string.h>

#include "common/virtio.h"

/* ---- RFC 1071 ---------------------------------------------------------- */

/* Folds a wide ones' complement sum into 16 bits (end-around carry). */
static uint32_t fold16(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t acc = 0;
	uint32_t w32;
	uint16_t w16;
	uint32_t s;

	/*
	 * RFC 1071 2(B) and 2(C): the sum does not depend on byte order (sum
	 * native words, swap the folded result) and may be taken over wider
	 * words whose halves are folded together at the end.  So add
	 * unaligned 32-bit native loads into a 64-bit accumulator, which
	 * cannot overflow for any buffer that fits in memory.
	 */
	while (len >= 8) {
		memcpy(&w32, p, 4);
		acc += w32;
		memcpy(&w32, p + 4, 4);
		acc += w32;
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(&w32, p, 4);
		acc += w32;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		acc += w16;
		p += 2;
		len -= 2;
	}
	/* A lone last byte is the first (high) byte of a zero-padded
	 * big-endian word; in a little-endian load that is the low byte
	 * (virtio.h asserts a little-endian host). */
	if (len)
		acc += *p;

	s = fold16(acc);
	s = (uint16_t)(s << 8 | s >> 8);	/* native -> network order */
	return fold16((uint64_t)sum + s);
}

uint16_t csum_fold(uint32_t sum)
{
	return (uint16_t)~fold16(sum);
}

uint32_t csum_pseudo_ipv4(const uint8_t *saddr, uint8_t proto, uint32_t l4_len)
{
	/* RFC 9293 3.1: src, dst, zero, PTCL, TCP length (16 bits). */
	uint32_t sum = csum_partial(saddr, 8, 0);

	return sum + proto + (l4_len & 0xffff);
}

uint32_t csum_pseudo_ipv6(const uint8_t *saddr, uint8_t proto, uint32_t l4_len)
{
	/* RFC 8200 8.1: src, dst, 32-bit upper-layer length, 24 zero bits,
	 * next header. */
	uint32_t sum = csum_partial(saddr, 32, 0);

	return sum + proto + (l4_len >> 16) + (l4_len & 0xffff);
}

int csum_complete_partial(uint8_t *frame, uint32_t len, uint16_t csum_start,
			  uint16_t csum_offset)
{
	/* Both are 16-bit, so this cannot wrap in 32 bits. */
	uint32_t field = (uint32_t)csum_start + csum_offset;
	uint16_t csum;

	if (!frame || csum_start >= len || field > len || len - field < 2)
		return -EINVAL;
	/* 5.1.6.2: the seeded pseudo-header sum is part of what is summed,
	 * from csum_start to the end of the frame. */
	csum = csum_fold(csum_partial(frame + csum_start, len - csum_start, 0));
	if (csum == 0 && csum_offset == UDP_OFF_CSUM)
		csum = 0xffff;	/* RFC 768: 0 would mean "not computed" */
	net_put_be16(frame + field, csum);
	return 0;
}

/* ---- Header parsing ---------------------------------------------------- */

/* IPv4 (RFC 791 3.1).  On success sets l4_off, ip_end and l4_proto. */
static int parse_ipv4(const uint8_t *frame, uint32_t len, struct frame_l34 *l)
{
	const uint8_t *ip = frame + l->l3_off;
	uint32_t ihl, tot;

	if (len - l->l3_off < IPV4_HDR_MIN)
		return -EINVAL;
	if (ip[0] >> 4 != 4)
		return -EINVAL;
	ihl = (ip[0] & 0x0fu) * 4;
	tot = net_get_be16(ip + IPV4_OFF_TOT_LEN);
	if (ihl < IPV4_HDR_MIN || tot < ihl || tot > len - l->l3_off)
		return -EINVAL;
	/* A fragment has no complete L4 header or payload to checksum. */
	l->fragment = net_get_be16(ip + IPV4_OFF_FRAG) & (IPV4_FRAG_MF | IPV4_FRAG_OFF_MASK);
	l->l4_off = l->l3_off + ihl;
	l->ip_end = l->l3_off + tot;
	l->l4_proto = ip[IPV4_OFF_PROTO];
	return 0;
}

/* IPv6 (RFC 8200 3), fixed header only. */
static int parse_ipv6(const uint8_t *frame, uint32_t len, struct frame_l34 *l)
{
	const uint8_t *ip = frame + l->l3_off;
	uint32_t plen;

	if (len - l->l3_off < IPV6_HDR_LEN)
		return -EINVAL;
	if (ip[0] >> 4 != 6)
		return -EINVAL;
	plen = net_get_be16(ip + IPV6_OFF_PAYLOAD_LEN);
	if (plen > len - l->l3_off - IPV6_HDR_LEN)
		return -EINVAL;
	l->l4_off = l->l3_off + IPV6_HDR_LEN;
	l->ip_end = l->l4_off + plen;
	/* Extension headers (hop-by-hop, routing, fragment, ...) would have
	 * to be walked to find the L4 header; peers do not send them with
	 * offloads, so they are refused rather than misread. */
	l->l4_proto = ip[IPV6_OFF_NEXT_HDR];
	return 0;
}

static int parse_l4(const uint8_t *frame, struct frame_l34 *l)
{
	const uint8_t *l4 = frame + l->l4_off;
	uint32_t avail = l->ip_end - l->l4_off;
	uint32_t hlen, ulen;

	switch (l->l4_proto) {
	case NET_PROTO_TCP:
		if (avail < TCP_HDR_MIN)
			return -EINVAL;
		hlen = (uint32_t)(l4[TCP_OFF_DOFF] >> 4) * 4;
		if (hlen < TCP_HDR_MIN || hlen > avail)
			return -EINVAL;
		l->l4_end = l->ip_end;
		break;
	case NET_PROTO_UDP:
		if (avail < UDP_HDR_LEN)
			return -EINVAL;
		hlen = UDP_HDR_LEN;
		/* RFC 768: the length covers header and data. */
		ulen = net_get_be16(l4 + UDP_OFF_LEN);
		if (ulen < UDP_HDR_LEN || ulen > avail)
			return -EINVAL;
		l->l4_end = l->l4_off + ulen;
		break;
	default:
		return -EPROTONOSUPPORT;
	}
	l->payload_off = l->l4_off + hlen;
	return 0;
}

int frame_parse_l3(const uint8_t *frame, uint32_t len, struct frame_l34 *out)
{
	struct frame_l34 l = { .l3_off = VNET_ETH_HLEN };
	uint16_t type;
	int r;

	if (!frame || !out || len < VNET_ETH_HLEN)
		return -EINVAL;
	type = net_get_be16(frame + NET_ETHTYPE_OFF);
	if (type == NET_ETHTYPE_VLAN) {
		if (len < VNET_ETH_HLEN + NET_VLAN_TAG_LEN)
			return -EINVAL;
		l.vlan = true;
		l.l3_off += NET_VLAN_TAG_LEN;
		type = net_get_be16(frame + NET_ETHTYPE_OFF + NET_VLAN_TAG_LEN);
	}
	if (type == NET_ETHTYPE_IPV4) {
		l.ip_version = 4;
		r = parse_ipv4(frame, len, &l);
	} else if (type == NET_ETHTYPE_IPV6) {
		l.ip_version = 6;
		r = parse_ipv6(frame, len, &l);
	} else {
		return -EPROTONOSUPPORT;	/* incl. stacked (QinQ) tags */
	}
	if (r < 0)
		return r;
	*out = l;
	return 0;
}

int frame_parse(const uint8_t *frame, uint32_t len, struct frame_l34 *out)
{
	struct frame_l34 l;
	int r = frame_parse_l3(frame, len, &l);

	if (r < 0)
		return r;
	if (l.fragment)
		return -EPROTONOSUPPORT;
	r = parse_l4(frame, &l);
	if (r < 0)
		return r;
	l.l3_hdr_len = l.l4_off - l.l3_off;
	l.l4_hdr_len = l.payload_off - l.l4_off;
	l.payload_len = l.l4_end - l.payload_off;
	*out = l;
	return 0;
}

/* ---- Verification ------------------------------------------------------ */

int frame_verify_csums(const uint8_t *frame, uint32_t len)
{
	struct frame_l34 l;
	const uint8_t *ip, *l4;
	uint32_t l4_len, sum;
	int r = frame_parse(frame, len, &l);

	if (r < 0)
		return r;
	ip = frame + l.l3_off;
	l4 = frame + l.l4_off;
	l4_len = l.l4_end - l.l4_off;
	if (l.ip_version == 4) {
		/* RFC 791 3.1: a header with a correct checksum sums to 0. */
		if (csum_fold(csum_partial(ip, l.l3_hdr_len, 0)) != 0)
			return -EBADMSG;
		if (l.l4_proto == NET_PROTO_UDP &&
		    net_get_be16(l4 + UDP_OFF_CSUM) == 0)
			return 0;
		sum = csum_pseudo_ipv4(ip + IPV4_OFF_SADDR, l.l4_proto, l4_len);
	} else {
		if (l.l4_proto == NET_PROTO_UDP &&
		    net_get_be16(l4 + UDP_OFF_CSUM) == 0)
			return -EBADMSG;
		sum = csum_pseudo_ipv6(ip + IPV6_OFF_SADDR, l.l4_proto, l4_len);
	}
	if (csum_fold(csum_partial(l4, l4_len, sum)) != 0)
		return -EBADMSG;
	return 0;
}
