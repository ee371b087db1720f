// SPDX-License-Identifier: MIT
/*
 * frames.c - the frames the benchmark sends.
 *
 * Plain frames are built by guest/frame.h (EtherType 0x88B5, "VNT1",
 * seq at 22, timestamp at 30), built once: throughput runs copy the
 * frame as a real sender would and only rewrite the sequence number and
 * timestamp per frame, without resealing frame.h's header check (the
 * receiver checks the sequence for loss and order, not the payload).
 *
 * TSO frames are one TCPv4 segment train up to 64 KiB with a partial
 * checksum and a GSO header (5.1.6.2: NEEDS_CSUM, csum_start at the TCP
 * header, csum_offset 16, GSO_TCPV4, gso_size 1448, hdr_len 54), the
 * sequence number in the first payload bytes.
 */
#include <errno.h>
#include <string.h>

#include "bench/bench.h"
#include "common/csum.h"
#include "guest/frame.h"

#define ETH	14u
#define IP4	20u
#define TCP	20u
#define MSS	1448u
#define OFF_SEQ		22u
#define OFF_TS		30u
#define TSO_OFF_SEQ	(ETH + IP4 + TCP)
#define TSO_OFF_TS	(TSO_OFF_SEQ + 8u)

int bench_frame(uint8_t *f, uint32_t len, const uint8_t dst[6],
		const uint8_t src[6], bool tso, struct virtio_net_hdr_v1 *hdr)
{
	if (hdr)
		memset(hdr, 0, sizeof(*hdr));
	if (!tso) {
		int n = frame_build(f, len, dst, src, FRAME_DATA, 0);

		return n;
	}
	if (len < ETH + IP4 + TCP + 16 || len > ETH + 65535u || !hdr)
		return -EINVAL;
	{
		uint32_t tcp_len = len - ETH - IP4, l4 = ETH + IP4;
		uint32_t sum;

		memset(f, 0, len);
		memcpy(f, dst, 6);
		memcpy(f + 6, src, 6);
		f[12] = 0x08;
		f[13] = 0x00;
		f[ETH] = 0x45;
		net_put_be16(f + ETH + 2, (uint16_t)(IP4 + tcp_len));
		f[ETH + 8] = 64;
		f[ETH + 9] = 6;
		f[ETH + 12] = 10; f[ETH + 15] = 1;	/* 10.0.0.1 -> 10.0.0.2 */
		f[ETH + 16] = 10; f[ETH + 19] = 2;
		net_put_be16(f + ETH + 10, csum_fold(csum_partial(f + ETH, IP4, 0)));
		net_put_be16(f + l4, 40000);
		net_put_be16(f + l4 + 2, 5201);
		f[l4 + 12] = 5 << 4;
		f[l4 + 13] = 0x18;	/* PSH|ACK */
		net_put_be16(f + l4 + 14, 65535);
		for (uint32_t i = l4 + TCP; i < len; i++)
			f[i] = (uint8_t)(i * 7u);
		sum = csum_pseudo_ipv4(f + ETH + 12, 6, tcp_len);
		/* Partial checksum: the folded pseudo-header sum, as a driver
		 * leaves it for NEEDS_CSUM (5.1.6.2). */
		net_put_be16(f + l4 + 16, (uint16_t)~csum_fold(sum));
		hdr->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		hdr->csum_start = (uint16_t)l4;
		hdr->csum_offset = 16;
		if (tcp_len - TCP > MSS) {
			hdr->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
			hdr->gso_size = MSS;
			hdr->hdr_len = (uint16_t)(l4 + TCP);
		}
	}
	return (int)len;
}

void bench_frame_seq(uint8_t *f, bool tso, uint64_t seq)
{
	memcpy(f + (tso ? TSO_OFF_SEQ : OFF_SEQ), &seq, sizeof(seq));
}

uint64_t bench_frame_get_seq(const uint8_t *f, uint32_t len, bool tso, bool *ok)
{
	uint32_t off = tso ? TSO_OFF_SEQ : OFF_SEQ;
	uint64_t seq = 0;

	*ok = len >= off + 16;
	if (*ok)
		memcpy(&seq, f + off, sizeof(seq));
	return seq;
}

void bench_frame_ts(uint8_t *f, bool tso, uint64_t ts)
{
	memcpy(f + (tso ? TSO_OFF_TS : OFF_TS), &ts, sizeof(ts));
}

uint64_t bench_frame_get_ts(const uint8_t *f, bool tso)
{
	uint64_t ts;

	memcpy(&ts, f + (tso ? TSO_OFF_TS : OFF_TS), sizeof(ts));
	return ts;
}
