// SPDX-License-Identifier: MIT
/*
 * offload_test - a TCP byte stream with virtio-net offloads, for the
 * peerfeats integration test.
 *
 *   offload_test --socket PATH send --dst MAC --mode plain|csum|tso4|tso6
 *                [--bytes N] [--mss M]
 *   offload_test --socket PATH recv --bytes N [--offloads] [--timeout S]
 *
 * The sender uses the offload it asked for only when its device offered
 * and it negotiated it (CSUM for partial checksums, HOST_TSO4/6 for GSO),
 * as a real stack does, and says which it used.  The receiver negotiates
 * the receive offloads with --offloads (GUEST_CSUM, GUEST_TSO4/6) or
 * none; frames that still carry NEEDS_CSUM or GSO (its device passed them
 * on because it negotiated them) are completed or segmented here, then
 * every frame's IP and TCP checksums are verified and its payload checked
 * against the stream pattern at its sequence number.  Exit 0 when exactly
 * the expected bytes arrived, each checksum valid and each byte right.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/csum.h"
#include "common/gso.h"
#include "common/log.h"
#include "common/mac.h"
#include "guest/virtio_net.h"

#define ETH 14
#define IP4 20
#define IP6 40
#define TCP 20
#define MAX_FRAME 65549
#define BURST 32

static uint8_t stream_byte(uint32_t off) { return (uint8_t)(off * 7u + 3u + (off >> 9)); }

struct tx_ctx {
	struct vnet_dev *dev;
	uint8_t src[6], dst[6];
	bool v6;
	uint32_t seq;
};

/* Builds one TCP segment (a GSO frame when payload > mss) at offset seq of
 * the stream.  The checksum is either complete or the pseudo-header seed
 * a driver leaves for NEEDS_CSUM (5.1.6.2). */
static uint32_t build(struct tx_ctx *c, uint8_t *f, uint32_t payload, bool partial)
{
	uint32_t l3 = c->v6 ? IP6 : IP4, l4 = ETH + l3, len = l4 + TCP + payload;
	uint32_t tcp_len = TCP + payload;
	uint32_t sum;
	uint16_t v;

	memset(f, 0, l4 + TCP);
	memcpy(f, c->dst, 6);
	memcpy(f + 6, c->src, 6);
	if (c->v6) {
		f[12] = 0x86; f[13] = 0xdd;
		f[ETH] = 0x60;
		v = htons((uint16_t)tcp_len); memcpy(f + ETH + 4, &v, 2);
		f[ETH + 6] = 6; f[ETH + 7] = 64;
		f[ETH + 8] = 0xfd; f[ETH + 23] = 1;	/* fd00::1 -> fd00::2 */
		f[ETH + 24] = 0xfd; f[ETH + 39] = 2;
	} else {
		f[12] = 0x08; f[13] = 0x00;
		f[ETH] = 0x45;
		v = htons((uint16_t)(IP4 + tcp_len)); memcpy(f + ETH + 2, &v, 2);
		f[ETH + 8] = 64; f[ETH + 9] = 6;
		f[ETH + 12] = 10; f[ETH + 15] = 1;	/* 10.0.0.1 -> 10.0.0.2 */
		f[ETH + 16] = 10; f[ETH + 19] = 2;
		/* csum_fold gives the field's value; it is stored big-endian. */
		net_put_be16(f + ETH + 10, csum_fold(csum_partial(f + ETH, IP4, 0)));
	}
	v = htons(40000); memcpy(f + l4, &v, 2);
	v = htons(5001); memcpy(f + l4 + 2, &v, 2);
	{ uint32_t s = htonl(c->seq); memcpy(f + l4 + 4, &s, 4); }
	f[l4 + 12] = 5 << 4;
	f[l4 + 13] = 0x18;	/* PSH|ACK */
	v = htons(65535); memcpy(f + l4 + 14, &v, 2);
	for (uint32_t i = 0; i < payload; i++)
		f[l4 + TCP + i] = stream_byte(c->seq + i);
	sum = c->v6 ? csum_pseudo_ipv6(f + ETH + 8, 6, tcp_len)
		    : csum_pseudo_ipv4(f + ETH + 12, 6, tcp_len);
	/* Partial: the folded pseudo-header sum, not inverted, in the field
	 * (what a driver leaves for NEEDS_CSUM); else the full checksum. */
	net_put_be16(f + l4 + 16, partial ? (uint16_t)~csum_fold(sum)
					  : csum_fold(csum_partial(f + l4, tcp_len, sum)));
	c->seq += payload;
	return len;
}

static int do_send(struct vnet_dev *dev, const uint8_t dst[6], const char *mode,
		   uint64_t bytes, uint32_t mss)
{
	struct vnet_info info;
	struct tx_ctx c = { .dev = dev, .v6 = !strcmp(mode, "tso6") };
	static uint8_t bufs[BURST][MAX_FRAME];
	struct virtio_net_hdr_v1 hdrs[BURST];
	uint64_t sent = 0;
	bool csum, tso;
	const char *used;

	vnet_dev_info(dev, &info);
	csum = (info.driver_features & VIRTIO_BIT(VIRTIO_NET_F_CSUM)) && strcmp(mode, "plain");
	tso = csum && (info.driver_features & VIRTIO_BIT(c.v6 ? VIRTIO_NET_F_HOST_TSO6
							       : VIRTIO_NET_F_HOST_TSO4)) &&
	      strncmp(mode, "tso", 3) == 0;
	used = tso ? (c.v6 ? "tso6" : "tso4") : csum ? "csum" : "plain";
	vnet_mac(dev, c.src);
	memcpy(c.dst, dst, 6);
	for (int wait = 0; !vnet_link_up(dev) && wait < 100; wait++)
		vnet_wait(dev, 50);
	while (sent < bytes) {
		struct vnet_frame fr[BURST];
		unsigned n = 0;
		int q;

		while (n < BURST && sent < bytes) {
			/* One segment fits the MTU (1500) with its headers. */
			uint32_t seg = mss < 1500 - TCP - (c.v6 ? IP6 : IP4) ? mss
				       : 1500 - TCP - (c.v6 ? IP6 : IP4);
			uint32_t chunk = tso ? 16 * seg : seg;

			if (chunk > bytes - sent)
				chunk = (uint32_t)(bytes - sent);
			memset(&hdrs[n], 0, sizeof(hdrs[n]));
			fr[n].data = bufs[n];
			fr[n].len = build(&c, bufs[n], chunk, csum);
			fr[n].hdr = &hdrs[n];
			if (csum) {
				hdrs[n].flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
				hdrs[n].csum_start = (uint16_t)(ETH + (c.v6 ? IP6 : IP4));
				hdrs[n].csum_offset = 16;
			}
			if (tso && chunk > seg) {
				hdrs[n].gso_type = c.v6 ? VIRTIO_NET_HDR_GSO_TCPV6
							: VIRTIO_NET_HDR_GSO_TCPV4;
				hdrs[n].gso_size = (uint16_t)seg;
				hdrs[n].hdr_len = (uint16_t)(ETH + (c.v6 ? IP6 : IP4) + TCP);
			}
			sent += chunk;
			n++;
		}
		for (unsigned done = 0; done < n;) {
			q = vnet_tx_burst(dev, fr + done, n - done);
			if (q < 0) {
				fprintf(stderr, "offload_test: send: %s\n", strerror(-q));
				return 1;
			}
			done += (unsigned)q;
			if (done < n && vnet_wait(dev, 1000) < 0)
				return 1;
		}
	}
	vnet_tx_drain(dev, 5000);
	printf("mode: %s\nbytes: %llu\n", used, (unsigned long long)sent);
	return 0;
}

struct rx_ctx {
	uint64_t bytes, frames, csum_errors, content_errors, fixed_here;
	uint8_t seg_out[MAX_FRAME + 64 * 140];
	struct gso_seg segs[64];
};

static void check_frame(struct rx_ctx *r, const uint8_t *f, uint32_t len)
{
	struct frame_l34 l;
	uint32_t seq;

	if (frame_parse(f, len, &l) < 0 || l.l4_proto != 6) {
		r->content_errors++;
		return;
	}
	if (frame_verify_csums(f, len) < 0)
		r->csum_errors++;
	memcpy(&seq, f + l.l4_off + 4, 4);
	seq = ntohl(seq);
	for (uint32_t i = 0; i < l.payload_len; i++)
		if (f[l.payload_off + i] != stream_byte(seq + i)) {
			r->content_errors++;
			break;
		}
	r->bytes += l.payload_len;
	r->frames++;
}

static void take(struct rx_ctx *r, const struct vnet_frame *fr)
{
	static uint8_t copy[MAX_FRAME];
	struct virtio_net_hdr_v1 h = fr->hdr ? *fr->hdr : (struct virtio_net_hdr_v1){ 0 };
	uint32_t len = fr->len < MAX_FRAME ? fr->len : MAX_FRAME;

	memcpy(copy, fr->data, len);
	if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		int n = gso_segment(copy, len, &h, r->seg_out, sizeof(r->seg_out), r->segs, 64);

		r->fixed_here++;
		if (n < 0) {
			r->content_errors++;
			return;
		}
		for (int i = 0; i < n; i++)
			check_frame(r, r->seg_out + r->segs[i].offset, r->segs[i].len);
		return;
	}
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		r->fixed_here++;
		if (csum_complete_partial(copy, len, h.csum_start, h.csum_offset) < 0) {
			r->content_errors++;
			return;
		}
	}
	check_frame(r, copy, len);
}

static int do_recv(struct vnet_dev *dev, uint64_t bytes, int timeout_s)
{
	static struct rx_ctx r;
	int idle = 0;

	while (r.bytes < bytes && idle < timeout_s * 10) {
		struct vnet_frame fr[BURST];
		int n = vnet_rx_burst(dev, fr, BURST);

		if (n < 0)
			return 1;
		for (int i = 0; i < n; i++)
			take(&r, &fr[i]);
		if (n == 0) {
			int w = vnet_wait(dev, 100);

			if (w < 0 && w != -EINTR)
				return 1;
			if (w == 0)
				idle++;
		} else {
			idle = 0;
		}
	}
	printf("bytes: %llu\nframes: %llu\nchecksum_errors: %llu\ncontent_errors: %llu\nfixed_by_receiver: %llu\n",
	       (unsigned long long)r.bytes, (unsigned long long)r.frames,
	       (unsigned long long)r.csum_errors, (unsigned long long)r.content_errors,
	       (unsigned long long)r.fixed_here);
	return r.bytes == bytes && !r.csum_errors && !r.content_errors ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "mode", required_argument, NULL, 'm' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "mss", required_argument, NULL, 'M' },
		{ "offloads", no_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct vnet_dev_params p = { .ram_size = 64u << 20 };
	const char *mode = "plain";
	uint8_t dst[6] = { 0 };
	uint64_t bytes = 1u << 20;
	uint32_t mss = 1448;
	int timeout = 10, opt, rc;
	struct vnet_dev *dev;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 's': p.socket_path = optarg; break;
		case 'd':
			if (mac_parse(optarg, dst, NULL, 0) < 0)
				return 2;
			break;
		case 'm': mode = optarg; break;
		case 'b': bytes = strtoull(optarg, NULL, 0); break;
		case 'M': mss = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'o': p.want_offloads = true; break;
		case 't': timeout = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!p.socket_path || optind != argc - 1 || mss < 64 || mss > 9000) {
		fprintf(stderr, "usage: offload_test --socket PATH send|recv ...\n");
		return 2;
	}
	if (!strcmp(argv[optind], "send"))
		p.want_offloads = true;	/* a sender uses what it may */
	rc = vnet_dev_open(&dev, &p);
	if (rc < 0) {
		fprintf(stderr, "offload_test: %s: %s\n", p.socket_path, strerror(-rc));
		return 2;
	}
	rc = !strcmp(argv[optind], "send") ? do_send(dev, dst, mode, bytes, mss)
					   : do_recv(dev, bytes, timeout);
	vnet_dev_close(dev);
	return rc;
}
