/* SPDX-License-Identifier: MIT */
/*
 * frame.h - the test frame that ping/pong/send/recv (and the benchmarks)
 * put on the link, built so that the receiver can prove what arrived is
 * exactly what was sent.
 *
 *   0  Ethernet: dst[6] src[6] type 0x88B5 (IEEE 802 local experimental)
 *  14  magic "VNT1"
 *  18  kind u8 (PING 1, PONG 2, DATA 3), reserved u8, reserved u16 (0)
 *  22  seq u64
 *  30  send timestamp, ns u64 (CLOCK_MONOTONIC of the sender)
 *  38  payload length u32 (bytes after the header)
 *  42  header check u32: CRC-32 of bytes 14..41 (magic to payload length)
 *  46  payload: xorshift64 stream seeded from seq, little-endian words
 *
 * A frame of a flow (frame_build_flow: multiqueue spreads flows by their
 * addresses and ports, 5.1.6.4.3) is an IPv4/UDP datagram instead:
 * Ethernet type 0x0800, IPv4 198.18.0.1 -> 198.18.0.2 (RFC 2544's
 * benchmarking range), UDP from port FRAME_FLOW_PORT_BASE + flow to
 * FRAME_UDP_PORT, then the header above from "VNT1" on, so every offset
 * from 14 moves by FRAME_FLOW_OFF (28) bytes.
 *
 * All fields little-endian except the EtherType.  The payload depends
 * only on seq (not on kind), so a PONG echoes a PING's payload unchanged;
 * any flipped or missing byte is found because the receiver regenerates
 * the stream.  Frames are at least 60 bytes (Ethernet minimum without
 * FCS): shorter requests are padded with more payload.
 */
#ifndef VNET_GUEST_FRAME_H
#define VNET_GUEST_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "common/virtio.h"

#define FRAME_ETHERTYPE 0x88B5
#define FRAME_HDR_LEN	46
#define FRAME_MIN_LEN	60
#define FRAME_MAX_LEN	VNET_MAX_GSO_FRAME
#define FRAME_FLOW_OFF	28		/* IPv4 + UDP headers of a flow frame */
#define FRAME_UDP_PORT	0x88B5		/* flow frames' destination port */
#define FRAME_FLOW_PORT_BASE 40000	/* source port of flow 0 */
#define FRAME_FLOWS_MAX	16384

enum frame_kind { FRAME_PING = 1, FRAME_PONG = 2, FRAME_DATA = 3 };

/* frame_check results (negative, distinct per corruption class). */
enum frame_err {
	FRAME_OK = 0,
	FRAME_E_SHORT = -1,	/* shorter than the header or the minimum */
	FRAME_E_TYPE = -2,	/* not our EtherType: someone else's frame */
	FRAME_E_MAGIC = -3,	/* our EtherType but no "VNT1" */
	FRAME_E_HDR = -4,	/* header check (CRC-32) mismatch */
	FRAME_E_LEN = -5,	/* payload length disagrees with the frame */
	FRAME_E_KIND = -6,	/* unknown kind */
	FRAME_E_CONTENT = -7,	/* payload differs from the pattern */
};

struct frame_info {
	uint8_t dst[6];
	uint8_t src[6];
	uint8_t kind;
	uint64_t seq;
	uint64_t ts_ns;
	uint32_t payload_len;
	uint32_t bad_offset;	/* FRAME_E_CONTENT: first differing byte */
	int flow;		/* a flow frame's flow, else -1 */
};

/* Builds a frame of max(len, FRAME_MIN_LEN) bytes into buf (which must
 * hold that many), stamped with now_ns().  Returns the frame length, or
 * -EINVAL when len > FRAME_MAX_LEN or kind is unknown. */
int frame_build(void *buf, size_t len, const uint8_t dst[6],
		const uint8_t src[6], uint8_t kind, uint64_t seq);
/* Same with an explicit timestamp. */
int frame_build_ts(void *buf, size_t len, const uint8_t dst[6],
		   const uint8_t src[6], uint8_t kind, uint64_t seq,
		   uint64_t ts_ns);
/* A frame of flow 0..FRAME_FLOWS_MAX-1 (IPv4/UDP, above), at least
 * FRAME_MIN_LEN + FRAME_FLOW_OFF bytes; flow < 0 is frame_build_ts. */
int frame_build_flow(void *buf, size_t len, const uint8_t dst[6], const uint8_t src[6],
		     uint8_t kind, uint64_t seq, uint64_t ts_ns, int flow);

/* Checks a received frame of len bytes.  FRAME_OK (0) or a frame_err; info
 * (optional) is filled as far as the frame could be parsed. */
int frame_check(const void *buf, size_t len, struct frame_info *info);
/* Only the header (type, magic, check, length, kind): cheap triage. */
int frame_check_header(const void *buf, size_t len, struct frame_info *info);
const char *frame_strerror(int err);

/* Turns a checked PING into its PONG in place: destination = the PING's
 * source, source = my_mac, kind PONG, same seq, timestamp and payload. */
void frame_make_reply(void *buf, const uint8_t my_mac[6]);
/* Recomputes the header check after editing header fields (tests). */
void frame_reseal(void *buf);

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320), exposed for tests. */
uint32_t frame_crc32(const void *buf, size_t len);

#endif /* VNET_GUEST_FRAME_H */
