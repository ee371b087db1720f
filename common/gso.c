// SPDX-License-Identifier: MIT
/*
 * gso.c - software TSO (TCP over IPv4/IPv6) and UFO (IPv4 fragmentation
 * of a UDP datagram) for frames whose receiver cannot take them whole.
 *
 * The frame may sit in memory a peer can still write.  Every offset and
 * length used here comes from one frame_parse() into private memory, and
 * the output is patched in `out`, never re-parsed from the input; a peer
 * racing us can make the output wrong, never make us leave the buffers.
 */
#include "common/gso.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common/csum.h"

/* IPv4 options with this type bit are copied into every fragment
 * (RFC 791 3.1, "copied flag"). */
#define IPV4_OPT_COPIED	0x80
#define IPV4_OPT_EOL	0
#define IPV4_OPT_NOP	1

/* UFO fragment payloads are multiples of the 8-byte fragment unit. */
#define IPV4_FRAG_UNIT	8

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Is the gso_type one we segment, and does it describe this frame? */
static int gso_type_check(uint8_t gso_type, const struct frame_l34 *l)
{
	bool ecn = gso_type & VIRTIO_NET_HDR_GSO_ECN;

	switch (gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return l->ip_version == 4 && l->l4_proto == NET_PROTO_TCP ?
			0 : -EINVAL;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return l->ip_version == 6 && l->l4_proto == NET_PROTO_TCP ?
			0 : -EINVAL;
	case VIRTIO_NET_HDR_GSO_UDP:
		/* ECN (CWR, RFC 3168) is a TCP matter. */
		if (ecn || l->l4_proto != NET_PROTO_UDP)
			return -EINVAL;
		/* IPv6 fragmentation needs a Fragment header and a fresh
		 * identification (RFC 8200 4.5): not done here. */
		return l->ip_version == 4 ? 0 : -EOPNOTSUPP;
	default:
		return -EINVAL;
	}
}

/* RFC 791 3.1: a fresh IPv4 header checksum over the whole header. */
static void ipv4_set_csum(uint8_t *ip, uint32_t ihl)
{
	net_put_be16(ip + IPV4_OFF_CSUM, 0);
	net_put_be16(ip + IPV4_OFF_CSUM, csum_fold(csum_partial(ip, ihl, 0)));
}

/*
 * Walks IPv4 options (RFC 791 3.1): EOL ends the list, NOP is one byte,
 * any other option is type, length (>= 2, counting type and length) and
 * data.  With strip set, options without the copied flag are overwritten
 * with NOPs (in place), which keeps the header length of later fragments
 * equal to the first's.  -EINVAL for an option that overruns the header.
 */
static int ipv4_opts_walk(uint8_t *opt, uint32_t len, bool strip)
{
	uint32_t i = 0;

	while (i < len) {
		uint8_t type = opt[i];
		uint32_t olen;

		if (type == IPV4_OPT_EOL)
			break;
		if (type == IPV4_OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			return -EINVAL;
		olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			return -EINVAL;
		if (strip && !(type & IPV4_OPT_COPIED))
			memset(opt + i, IPV4_OPT_NOP, olen);
		i += olen;
	}
	return 0;
}

/* Sets the IP length field of an output frame whose L4 part is l4_len
 * bytes (the IPv4 checksum is left to the caller). */
static void ip_set_lengths(uint8_t *seg, const struct frame_l34 *l,
			   uint32_t l4_len)
{
	uint8_t *ip = seg + l->l3_off;

	if (l->ip_version == 4)
		net_put_be16(ip + IPV4_OFF_TOT_LEN,
			     (uint16_t)(l->l3_hdr_len + l4_len));
	else
		net_put_be16(ip + IPV6_OFF_PAYLOAD_LEN, (uint16_t)l4_len);
}

static uint32_t l4_pseudo_sum(const uint8_t *seg, const struct frame_l34 *l,
			      uint32_t l4_len)
{
	const uint8_t *ip = seg + l->l3_off;

	if (l->ip_version == 4)
		return csum_pseudo_ipv4(ip + IPV4_OFF_SADDR, l->l4_proto, l4_len);
	return csum_pseudo_ipv6(ip + IPV6_OFF_SADDR, l->l4_proto, l4_len);
}

/* Refuses before anything is written when the output cannot hold n
 * frames of total bytes. */
static int gso_fits(uint32_t n, uint64_t total, uint32_t out_cap,
		    unsigned max_segs)
{
	return n > max_segs || total > out_cap ? -ENOSPC : 0;
}

/* ---- TSO: RFC 9293 segments ------------------------------------------- */

/* The TCP flags of segment i of n (RFC 9293 3.1): FIN and PSH belong to
 * the end of the data, so only the last segment keeps them; CWR marks the
 * first segment after a window reduction (RFC 3168 6.1.2), so only the
 * first keeps it. */
static uint8_t tcp_seg_flags(uint8_t flags, uint32_t i, uint32_t n)
{
	if (i > 0)
		flags &= (uint8_t)~TCPHDR_CWR;
	if (i + 1 < n)
		flags &= (uint8_t)~(TCPHDR_FIN | TCPHDR_PSH);
	return flags;
}

static int gso_tcp(const uint8_t *frame, const struct frame_l34 *l,
		   uint32_t mss, uint8_t *out, uint32_t out_cap,
		   struct gso_seg *segs, unsigned max_segs)
{
	const uint8_t *tcp = frame + l->l4_off;
	const uint8_t flags = tcp[TCP_OFF_FLAGS];
	const uint32_t seq0 = net_get_be32(tcp + TCP_OFF_SEQ);
	const uint32_t urg0 = net_get_be16(tcp + TCP_OFF_URG);
	const uint32_t hdrs = l->payload_off;
	const uint32_t n = (l->payload_len + mss - 1) / mss;
	uint16_t id0 = 0;
	uint32_t pos = 0;
	int r;

	/* SYN takes a sequence number of its own (RFC 9293 3.4): split, the
	 * later segments' numbers would be off by one.  RST with a 64 KiB
	 * payload is nothing a stack sends. */
	if (flags & (TCPHDR_SYN | TCPHDR_RST))
		return -EINVAL;
	r = gso_fits(n, (uint64_t)n * hdrs + l->payload_len, out_cap, max_segs);
	if (r < 0)
		return r;
	if (l->ip_version == 4)
		id0 = net_get_be16(frame + l->l3_off + IPV4_OFF_ID);

	for (uint32_t i = 0; i < n; i++) {
		const uint32_t off = i * mss;
		const uint32_t plen = min_u32(mss, l->payload_len - off);
		const uint32_t l4_len = l->l4_hdr_len + plen;
		uint8_t *seg = out + pos;
		uint8_t *stcp = seg + l->l4_off;
		uint8_t f = tcp_seg_flags(flags, i, n);
		uint32_t sum;

		memcpy(seg, frame, hdrs);
		memcpy(seg + hdrs, frame + l->payload_off + off, plen);

		net_put_be32(stcp + TCP_OFF_SEQ, seq0 + off);
		/* The urgent pointer counts from this segment's sequence
		 * number (RFC 9293 3.8.5); once the urgent data is behind
		 * us, the later segments are not urgent. */
		if (i > 0 && (flags & TCPHDR_URG)) {
			if (urg0 > off) {
				net_put_be16(stcp + TCP_OFF_URG,
					     (uint16_t)(urg0 - off));
			} else {
				f &= (uint8_t)~TCPHDR_URG;
				net_put_be16(stcp + TCP_OFF_URG, 0);
			}
		}
		stcp[TCP_OFF_FLAGS] = f;

		ip_set_lengths(seg, l, l4_len);
		if (l->ip_version == 4) {
			uint8_t *sip = seg + l->l3_off;

			net_put_be16(sip + IPV4_OFF_ID, (uint16_t)(id0 + i));
			ipv4_set_csum(sip, l->l3_hdr_len);
		}
		/* A full checksum, not a pseudo-header seed: the receiver
		 * did not negotiate GUEST_CSUM. */
		net_put_be16(stcp + TCP_OFF_CSUM, 0);
		sum = l4_pseudo_sum(seg, l, l4_len);
		net_put_be16(stcp + TCP_OFF_CSUM,
			     csum_fold(csum_partial(stcp, l4_len, sum)));

		segs[i].offset = pos;
		segs[i].len = hdrs + plen;
		pos += hdrs + plen;
	}
	return (int)n;
}

/* ---- UFO: RFC 791 fragments of one UDP datagram ------------------------ */

/* The full RFC 768 checksum of the datagram at frame + l->l4_off, with
 * the checksum field taken as zero; 0 goes on the wire as 0xffff. */
static uint16_t udp4_full_csum(const uint8_t *frame, const struct frame_l34 *l)
{
	const uint8_t *udp = frame + l->l4_off;
	const uint32_t ulen = l->l4_end - l->l4_off;
	uint32_t sum = l4_pseudo_sum(frame, l, ulen);
	uint16_t csum;

	sum = csum_partial(udp, UDP_OFF_CSUM, sum);
	sum = csum_partial(udp + UDP_HDR_LEN, ulen - UDP_HDR_LEN, sum);
	csum = csum_fold(sum);
	return csum ? csum : 0xffff;
}

static int gso_udp4(const uint8_t *frame, const struct frame_l34 *l,
		    uint32_t gso_size, uint8_t *out, uint32_t out_cap,
		    struct gso_seg *segs, unsigned max_segs)
{
	const uint32_t ulen = l->l4_end - l->l4_off;
	const uint32_t hdrs = l->l4_off;	/* Ethernet + IPv4 */
	const uint32_t opt_len = l->l3_hdr_len - IPV4_HDR_MIN;
	uint8_t opts[60 - IPV4_HDR_MIN];	/* IHL is at most 15 words */
	uint32_t frag, n, pos = 0;
	uint16_t frag_flags, csum;
	int r;

	if (gso_size < IPV4_FRAG_UNIT)
		return -EINVAL;
	/* Trailing bytes after the datagram would be lost or misplaced. */
	if (l->l4_end != l->ip_end)
		return -EINVAL;
	memcpy(opts, frame + l->l3_off + IPV4_HDR_MIN, opt_len);
	r = ipv4_opts_walk(opts, opt_len, false);
	if (r < 0)
		return r;
	if (ulen <= gso_size) {
		frag = ulen;
	} else {
		/* Offsets are in 8-byte units, so every fragment but the
		 * last carries a multiple of 8 bytes (RFC 791 3.2). */
		frag = gso_size & ~(uint32_t)(IPV4_FRAG_UNIT - 1);
	}
	n = (ulen + frag - 1) / frag;
	r = gso_fits(n, (uint64_t)n * hdrs + ulen, out_cap, max_segs);
	if (r < 0)
		return r;

	/* The checksum covers the whole datagram, so it is computed before
	 * splitting and travels in the first fragment's UDP header. */
	csum = udp4_full_csum(frame, l);
	/* Keep DF and the reserved bit as sent; parse refused fragments, so
	 * MF and the offset start at zero. */
	frag_flags = net_get_be16(frame + l->l3_off + IPV4_OFF_FRAG) &
		     (uint16_t)~(IPV4_FRAG_MF | IPV4_FRAG_OFF_MASK);

	for (uint32_t i = 0; i < n; i++) {
		const uint32_t off = i * frag;
		const uint32_t plen = min_u32(frag, ulen - off);
		uint8_t *seg = out + pos;
		uint8_t *sip = seg + l->l3_off;
		uint16_t ff = frag_flags | (uint16_t)(off / IPV4_FRAG_UNIT);

		memcpy(seg, frame, hdrs);
		memcpy(seg + hdrs, frame + l->l4_off + off, plen);
		if (i == 0) {
			/* frag >= 8: the whole UDP header is here. */
			net_put_be16(seg + hdrs + UDP_OFF_CSUM, csum);
		} else {
			memcpy(sip + IPV4_HDR_MIN, opts, opt_len);
			(void)ipv4_opts_walk(sip + IPV4_HDR_MIN, opt_len, true);
		}
		if (i + 1 < n)
			ff |= IPV4_FRAG_MF;
		net_put_be16(sip + IPV4_OFF_FRAG, ff);
		ip_set_lengths(seg, l, plen);
		ipv4_set_csum(sip, l->l3_hdr_len);

		segs[i].offset = pos;
		segs[i].len = hdrs + plen;
		pos += hdrs + plen;
	}
	return (int)n;
}

int gso_segment(const uint8_t *frame, uint32_t len,
		const struct virtio_net_hdr_v1 *hdr, uint8_t *out,
		uint32_t out_cap, struct gso_seg *segs, unsigned max_segs)
{
	struct frame_l34 l;
	uint8_t type;
	uint16_t gso_size;
	int r;

	if (!frame || !hdr || !out || !segs)
		return -EINVAL;
	/* Copy the header fields once: hdr may be in shared memory. */
	type = hdr->gso_type;
	gso_size = hdr->gso_size;
	if ((type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_UDP_L4)
		return -EOPNOTSUPP;
	if (gso_size == 0)
		return -EINVAL;
	r = frame_parse(frame, len, &l);
	if (r < 0)
		return r;
	r = gso_type_check(type, &l);
	if (r < 0)
		return r;
	if (l.payload_len == 0)
		return -EINVAL;
	if (l.l4_proto == NET_PROTO_TCP)
		return gso_tcp(frame, &l, gso_size, out, out_cap, segs, max_segs);
	return gso_udp4(frame, &l, gso_size, out, out_cap, segs, max_segs);
}
