/* SPDX-License-Identifier: MIT */
/*
 * csum.h - the Internet checksum (RFC 1071), the NEEDS_CSUM completion a
 * device owes a guest that did not negotiate GUEST_CSUM (virtio 1.2
 * 5.1.6.2), and the Ethernet/IP/TCP/UDP header parser both need.
 *
 * Frames come from an untrusted peer.  Every length and offset read from
 * a frame is checked against the frame length before it is used; a frame
 * that fails a check is refused with -EINVAL (or -EPROTONOSUPPORT for a
 * well-formed frame we do not parse), and nothing is read or written
 * outside [frame, frame + len).  Nothing here allocates.
 *
 * Byte order: sums are over 16-bit big-endian words (network order), as
 * RFC 1071 defines them.  A returned checksum is a host integer holding
 * that big-endian value; store it with net_put_be16().
 */
#ifndef VNET_CSUM_H
#define VNET_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Network byte order accessors (no alignment assumed) ------------- */

static inline uint16_t net_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t net_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void net_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void net_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- Header layouts we touch ----------------------------------------- */

#define NET_ETHTYPE_OFF		12	/* after dst[6] src[6] */
#define NET_ETHTYPE_IPV4	0x0800
#define NET_ETHTYPE_IPV6	0x86dd
#define NET_ETHTYPE_VLAN	0x8100	/* IEEE 802.1Q: 4-byte tag */
#define NET_VLAN_TAG_LEN	4

#define NET_PROTO_TCP		6
#define NET_PROTO_UDP		17

/* RFC 791 3.1 */
#define IPV4_HDR_MIN		20
#define IPV4_OFF_TOT_LEN	2
#define IPV4_OFF_ID		4
#define IPV4_OFF_FRAG		6	/* flags (3 bits) + offset (13 bits) */
#define IPV4_OFF_PROTO		9
#define IPV4_OFF_CSUM		10
#define IPV4_OFF_SADDR		12	/* then daddr at 16 */
#define IPV4_FRAG_MF		0x2000
#define IPV4_FRAG_OFF_MASK	0x1fff	/* in 8-byte units */

/* RFC 8200 3 */
#define IPV6_HDR_LEN		40
#define IPV6_OFF_PAYLOAD_LEN	4
#define IPV6_OFF_NEXT_HDR	6
#define IPV6_OFF_SADDR		8	/* then daddr at 24 */

/* RFC 9293 3.1 */
#define TCP_HDR_MIN		20
#define TCP_OFF_SEQ		4
#define TCP_OFF_DOFF		12	/* data offset in the high nibble */
#define TCP_OFF_FLAGS		13
#define TCP_OFF_CSUM		16
#define TCP_OFF_URG		18
#define TCPHDR_FIN		0x01
#define TCPHDR_SYN		0x02
#define TCPHDR_RST		0x04
#define TCPHDR_PSH		0x08
#define TCPHDR_ACK		0x10
#define TCPHDR_URG		0x20
#define TCPHDR_ECE		0x40
#define TCPHDR_CWR		0x80

/* RFC 768 */
#define UDP_HDR_LEN		8
#define UDP_OFF_LEN		4
#define UDP_OFF_CSUM		6

/* ---- RFC 1071 Internet checksum -------------------------------------- */

/* Adds the 16-bit big-endian words of buf to sum and returns the new
 * (unfolded) sum.  An odd trailing byte is the high byte of a word padded
 * with zero (RFC 1071 4.1), so when a buffer is summed in pieces, every
 * piece but the last must have an even length.  sum = 0 to start. */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);

/* Folds the carries of sum into 16 bits and returns its ones' complement:
 * the value for a checksum field.  A region that includes a correct
 * checksum field folds to 0. */
uint16_t csum_fold(uint32_t sum);

/* Pseudo-header sums (unfolded) for TCP and UDP: RFC 9293 3.1 / RFC 768
 * for IPv4 (addresses at saddr, daddr = saddr + 4), RFC 8200 8.1 for IPv6
 * (daddr = saddr + 16).  l4_len is the TCP segment / UDP datagram length
 * including its header. */
uint32_t csum_pseudo_ipv4(const uint8_t *saddr, uint8_t proto, uint32_t l4_len);
uint32_t csum_pseudo_ipv6(const uint8_t *saddr, uint8_t proto, uint32_t l4_len);

/* NEEDS_CSUM completion (virtio 1.2 5.1.6.2): the checksum field at
 * csum_start + csum_offset holds the pseudo-header sum the driver seeded;
 * sums frame[csum_start, len) and stores the checksum in that field.  It
 * needs no parsing, so it serves TCP and UDP over IPv4 and IPv6 alike.
 * A UDP checksum (csum_offset 6, the only hint the header gives) that
 * comes out 0 is sent as 0xffff, since 0 means "no checksum" (RFC 768).
 * Returns 0, or -EINVAL when csum_start >= len or the field does not end
 * inside the frame (csum_start + csum_offset + 2 > len); the frame is
 * then untouched. */
int csum_complete_partial(uint8_t *frame, uint32_t len, uint16_t csum_start,
			  uint16_t csum_offset);

/* ---- Ethernet / IP / TCP-UDP parsing --------------------------------- */

/* Where the headers of one frame are.  Offsets are from the frame start;
 * bytes from ip_end to the frame length are link padding. */
struct frame_l34 {
	uint32_t l3_off;	/* IP header: 14, or 18 after an 802.1Q tag */
	uint32_t l4_off;	/* TCP/UDP header */
	uint32_t payload_off;	/* first byte after the TCP/UDP header */
	uint32_t l4_end;	/* end of the TCP segment / UDP datagram */
	uint32_t ip_end;	/* end of the IP packet (IP length field) */
	uint32_t l3_hdr_len;	/* l4_off - l3_off */
	uint32_t l4_hdr_len;	/* payload_off - l4_off */
	uint32_t payload_len;	/* l4_end - payload_off */
	uint8_t ip_version;	/* 4 or 6 */
	uint8_t l4_proto;	/* NET_PROTO_TCP or NET_PROTO_UDP */
	bool vlan;		/* one 802.1Q tag precedes the EtherType */
	bool fragment;		/* an IPv4 fragment (frame_parse_l3 only) */
};

/* Parses Ethernet (with at most one 802.1Q tag), IPv4 (options allowed)
 * or IPv6 (no extension headers), and TCP or UDP.  Checks: IPv4 version
 * and IHL >= 5, IP header and IP length inside the frame, IPv4 total
 * length >= IHL, TCP data offset >= 5 and inside the segment, UDP length
 * >= 8 and inside the IP packet.  Returns 0; -EINVAL for a malformed
 * frame; -EPROTONOSUPPORT for another EtherType or L4 protocol, an IPv6
 * extension header (including Jumbo payloads, RFC 2675) or an IPv4
 * fragment (its L4 header is absent or incomplete). */
int frame_parse(const uint8_t *frame, uint32_t len, struct frame_l34 *out);
/* Its first half: Ethernet and IP only, with the same checks.  Fills
 * l3_off, l4_off, ip_end, ip_version, vlan, fragment and l4_proto (the
 * next protocol, any); a fragment or an L4 protocol frame_parse refuses
 * is fine here. */
int frame_parse_l3(const uint8_t *frame, uint32_t len, struct frame_l34 *out);

/* Verifies the IPv4 header checksum and the TCP/UDP checksum with its
 * pseudo-header.  A UDP checksum of 0 means "none" over IPv4 (RFC 768)
 * and is accepted; over IPv6 it is invalid (RFC 8200 8.1).  Returns 0,
 * -EBADMSG for a wrong checksum, or frame_parse's error. */
int frame_verify_csums(const uint8_t *frame, uint32_t len);

#endif /* VNET_CSUM_H */
