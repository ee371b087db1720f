// SPDX-License-Identifier: MIT
/*
 * send_count - the smallest program on the installed vnet-guest library:
 * opens a vdev by its vfio-user socket, waits for the link, sends N
 * Ethernet frames to a MAC and prints what the library counted.
 *
 *   cc send_count.c -o send_count $(pkg-config --cflags --libs vnet-guest)
 *   ./send_count /run/vnet/vm1/net0.vfio 52:54:00:00:00:0b 1000
 *
 * The frames carry EtherType 0x88B6 (IEEE 802 local experimental 2), so a
 * `vnet-guest recv` on the other side counts them as other_frames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/virtio_net.h>

#define BURST 32
#define FRAME_LEN 64

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char end;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct vnet_dev_params p = { .want_packed = true, .mmio_intr = -1 };
	uint8_t frame[FRAME_LEN] = { 0 };
	struct vnet_frame burst[BURST];
	struct vnet_info info;
	struct vnet_dev *dev;
	unsigned long n = 1000, sent = 0;
	int waited = 0;

	if (argc < 3 || argc > 4 || parse_mac(argv[2], frame) < 0 ||
	    (argc == 4 && (n = strtoul(argv[3], NULL, 10)) == 0)) {
		fprintf(stderr, "usage: send_count SOCKET DST-MAC [N]\n");
		return 2;
	}
	p.socket_path = argv[1];
	if (vnet_dev_open(&dev, &p) < 0)
		return 2;	/* the library said why */
	while (!vnet_link_up(dev) && waited++ < 50)
		vnet_wait(dev, 100);

	/* dst (parsed above), src: our MAC, EtherType, a little payload. */
	vnet_mac(dev, frame + 6);
	frame[12] = 0x88;
	frame[13] = 0xb6;
	memcpy(frame + 14, "hello from send_count", 21);
	for (int i = 0; i < BURST; i++)
		burst[i] = (struct vnet_frame){ .data = frame, .len = FRAME_LEN };

	while (sent < n) {
		unsigned want = n - sent < BURST ? (unsigned)(n - sent) : BURST;
		int rc = vnet_tx_burst(dev, burst, want);

		if (rc < 0)
			break;
		sent += (unsigned)rc;
		if (rc == 0 && vnet_wait(dev, 1000) < 0)
			break;	/* ring full: wait for room */
	}
	vnet_tx_drain(dev, 2000);

	vnet_dev_info(dev, &info);
	printf("link_up: %s\n", info.link_up ? "yes" : "no");
	printf("tx_frames: %llu\n", (unsigned long long)info.stats.tx_frames);
	printf("tx_bytes: %llu\n", (unsigned long long)info.stats.tx_bytes);
	printf("tx_ring_full: %llu\n", (unsigned long long)info.stats.tx_ring_full);
	printf("kicks_sent: %llu\n", (unsigned long long)info.stats.kicks_sent);
	printf("kicks_suppressed: %llu\n", (unsigned long long)info.stats.kicks_suppressed);
	vnet_dev_close(dev);
	return sent == n ? 0 : 1;
}
