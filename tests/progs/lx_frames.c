// SPDX-License-Identifier: MIT
/*
 * lx_frames - our ping/pong test frames (guest/frame.h) on a Linux network
 * interface, through an AF_PACKET socket.  It runs inside a Linux guest
 * (QEMU, in the vhost-user tests' initramfs, linked statically), so that
 * the Linux virtio-net driver and our vnet-guest on the far side of a
 * peer link exchange frames whose every byte is checked.
 *
 *   lx_frames IFACE ping DSTMAC COUNT   PINGs, each waiting for its PONG
 *   lx_frames IFACE pong COUNT          answers COUNT PINGs
 *
 * Prints "lx_frames: sent N received N corrupted N" (ping) or
 * "lx_frames: answered N corrupted N" (pong); exit 0 when all went well.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/frame.h"

#define WAIT_MS	    2000	/* per PING: a lost frame costs this */
#define IDLE_MS	    30000	/* pong: give up after this much silence */
#define FRAME_SIZE  256

static int open_if(const char *ifname, uint8_t mac[6])
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(FRAME_ETHERTYPE) };
	struct ifreq ifr;
	int s = socket(AF_PACKET, SOCK_RAW, htons(FRAME_ETHERTYPE));

	if (s < 0) {
		perror("lx_frames: socket");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
		perror("lx_frames: SIOCGIFHWADDR");
		close(s);
		return -1;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (sll.sll_ifindex == 0 || bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("lx_frames: bind");
		close(s);
		return -1;
	}
	return s;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

/* Next frame of ours, or 0 after ms of nothing; -1 on error. */
static ssize_t recv_frame(int s, uint8_t *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	int rc = poll(&p, 1, ms);

	if (rc <= 0)
		return rc;
	return recv(s, buf, len, 0);
}

static int do_ping(int s, const uint8_t me[6], const uint8_t dst[6], unsigned long count)
{
	uint8_t tx[FRAME_SIZE], rx[2048];
	unsigned long sent = 0, got = 0, bad = 0;

	for (unsigned long seq = 0; seq < count; seq++) {
		int n = frame_build(tx, sizeof(tx), dst, me, FRAME_PING, seq);
		uint64_t t0 = now_ns();

		if (n < 0 || send(s, tx, (size_t)n, 0) != n) {
			perror("lx_frames: send");
			break;
		}
		sent++;
		while ((now_ns() - t0) / 1000000 < WAIT_MS) {
			struct frame_info fi;
			ssize_t r = recv_frame(s, rx, sizeof(rx), WAIT_MS);
			int fr;

			if (r <= 0)
				break;
			fr = frame_check(rx, (size_t)r, &fi);
			if (fr == FRAME_OK && fi.kind == FRAME_PING)
				continue;	/* our own, looped by the stack */
			if (fr != FRAME_OK || fi.kind != FRAME_PONG || fi.seq != seq ||
			    memcmp(fi.dst, me, 6) != 0) {
				bad++;
				continue;
			}
			got++;
			break;
		}
	}
	printf("lx_frames: sent %lu received %lu corrupted %lu\n", sent, got, bad);
	return got == count && bad == 0 ? 0 : 1;
}

static int do_pong(int s, const uint8_t me[6], unsigned long count)
{
	uint8_t rx[2048];
	unsigned long answered = 0, bad = 0;

	while (answered < count) {
		struct frame_info fi;
		ssize_t r = recv_frame(s, rx, sizeof(rx), IDLE_MS);
		int fr;

		if (r <= 0)
			break;
		fr = frame_check(rx, (size_t)r, &fi);
		if (fr == FRAME_OK && fi.kind == FRAME_PONG)
			continue;	/* our own answers, looped back */
		if (fr != FRAME_OK || fi.kind != FRAME_PING) {
			bad++;
			continue;
		}
		frame_make_reply(rx, me);
		if (send(s, rx, (size_t)r, 0) != r) {
			perror("lx_frames: send");
			break;
		}
		answered++;
	}
	printf("lx_frames: answered %lu corrupted %lu\n", answered, bad);
	return answered == count && bad == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	uint8_t me[6], dst[6];
	int s;

	if (argc < 4) {
		fprintf(stderr, "usage: lx_frames IFACE ping DSTMAC COUNT | IFACE pong COUNT\n");
		return 2;
	}
	s = open_if(argv[1], me);
	if (s < 0)
		return 2;
	if (strcmp(argv[2], "ping") == 0 && argc == 5 && parse_mac(argv[3], dst) == 0)
		return do_ping(s, me, dst, strtoul(argv[4], NULL, 0));
	if (strcmp(argv[2], "pong") == 0 && argc == 4)
		return do_pong(s, me, strtoul(argv[3], NULL, 0));
	fprintf(stderr, "lx_frames: bad arguments\n");
	return 2;
}
