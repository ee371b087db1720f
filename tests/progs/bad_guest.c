// SPDX-License-Identifier: MIT
/*
 * bad_guest - a hostile guest for integration tests.  It attaches to a
 * vnet-host vdev over vfio-user like a real driver (RAM by DMA_MAP,
 * features, two queues, DRIVER_OK), then writes one kind of malformed
 * transmit chain and kicks.  The device must answer with
 * DEVICE_NEEDS_RESET (and log why) instead of trusting the ring; after a
 * reset it must work again.
 *
 *   bad_guest --socket PATH --case NAME [--after-reset]
 *   bad_guest --socket PATH --bad-headers --dst MAC
 *   bad_guest --socket PATH --shrink CASE [--after-reset]
 *
 * Exit 0 when the device latched NEEDS_RESET within 3 s (and, with
 * --after-reset, came back to a clean status 0 after reset), 1 when it
 * did not, 2 on a setup error.
 *
 * --bad-headers: the chains are well formed but the virtio-net headers
 * are not (common/net_hdr.h names the rules): each malformed header is
 * sent between good test frames (guest/frame.h, kind DATA, seq 0, 1, ...,
 * the stream `vnet-guest recv` checks).  The device must drop each bad
 * one itself, never forward it (which would break the peer's ring).
 * Offloads are accepted where offered, so the headers are refused for
 * their structure, not for a missing feature.  Prints good and bad
 * counts; exit 0 when the device used every chain and stayed healthy.
 *
 * --shrink CASE: the guest truncates its own RAM file (the fd it gave
 * with DMA_MAP) under the running device, as a hostile guest can:
 *   ram-to-zero  to 0 bytes after DRIVER_OK, then a kick
 *   tx-buffer    the page under a posted TX buffer, then a kick
 *   rx-buffers   the pages under posted RX buffers (the test makes the
 *                peer send meanwhile)
 *   unmap-live   DMA_UNMAP of the RAM under enabled queues, then
 *                DRIVER_OK and a kick (the device must not use the
 *                pointers it translated at queue enable)
 *   unmap-running DMA_UNMAP of the RAM under a running device, then a kick
 * The device must latch NEEDS_RESET within 3 s and vnet-host live on.
 * With --after-reset the guest puts its memory back, resets the device,
 * sets it up again and sends a frame: "after_reset: works" when the
 * device used it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/virtio.h"
#include "guest/frame.h"
#include "guest/vfio_client.h"
#include "common/mac.h"
#include "host/transport/pci_modern.h"

#define RAM_SIZE (4u << 20)
#define QSIZE 8
#define BAR0 0
#define COMMON(f) (PCI_MODERN_COMMON_OFF + offsetof(struct virtio_pci_common_cfg, f))

static const uint64_t ring_gpa[2][3] = {
	{ 0x1000, 0x2000, 0x3000 },	/* receiveq: desc, avail, used */
	{ 0x4000, 0x5000, 0x6000 },	/* transmitq */
};
#define BUF_GPA	  0x10000u
#define TABLE_GPA 0x20000u

struct bad {
	struct vfc_device dev;
	uint8_t *ram;
	int ram_fd;
	bool unmapped;		/* --shrink unmap-*: the DMA window is gone */
};

static int set_status(struct bad *b, uint8_t s)
{
	return vfc_write8(&b->dev, BAR0, COMMON(device_status), s);
}

static uint8_t get_status(struct bad *b)
{
	uint8_t s = 0xff;

	vfc_read8(&b->dev, BAR0, COMMON(device_status), &s);
	return s;
}

static int bring_up_to(struct bad *b, uint64_t feats, bool driver_ok);

static int bring_up(struct bad *b, uint64_t feats)
{
	return bring_up_to(b, feats, true);
}

/* 3.1.1 up to queue enable, and DRIVER_OK when driver_ok. */
static int bring_up_to(struct bad *b, uint64_t feats, bool driver_ok)
{
	uint8_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	if (set_status(b, 0) || set_status(b, VIRTIO_STATUS_ACKNOWLEDGE) || set_status(b, st))
		return -EIO;
	vfc_write32(&b->dev, BAR0, COMMON(driver_feature_select), 0);
	vfc_write32(&b->dev, BAR0, COMMON(driver_feature), (uint32_t)feats);
	vfc_write32(&b->dev, BAR0, COMMON(driver_feature_select), 1);
	vfc_write32(&b->dev, BAR0, COMMON(driver_feature), (uint32_t)(feats >> 32));
	st |= VIRTIO_STATUS_FEATURES_OK;
	set_status(b, st);
	if (!(get_status(b) & VIRTIO_STATUS_FEATURES_OK)) {
		fprintf(stderr, "bad_guest: device refused features 0x%llx\n",
			(unsigned long long)feats);
		return -EIO;
	}
	memset(b->ram, 0, 0x8000);
	for (uint16_t q = 0; q < 2; q++) {
		vfc_write16(&b->dev, BAR0, COMMON(queue_select), q);
		vfc_write16(&b->dev, BAR0, COMMON(queue_size), QSIZE);
		for (unsigned i = 0; i < 3; i++) {
			uint64_t off = COMMON(queue_desc) + 8u * i;

			vfc_write32(&b->dev, BAR0, off, (uint32_t)ring_gpa[q][i]);
			vfc_write32(&b->dev, BAR0, off + 4, (uint32_t)(ring_gpa[q][i] >> 32));
		}
		vfc_write16(&b->dev, BAR0, COMMON(queue_enable), 1);
	}
	if (!driver_ok)
		return 0;
	st |= VIRTIO_STATUS_DRIVER_OK;
	return set_status(b, st);
}

static struct virtq_desc *desc(struct bad *b, unsigned i)
{
	return (struct virtq_desc *)(b->ram + ring_gpa[VNET_TXQ][0]) + i;
}

/* Makes head available on the transmit queue with avail idx = idx. */
static void publish(struct bad *b, uint16_t head, uint16_t idx)
{
	struct virtq_avail *av = (struct virtq_avail *)(b->ram + ring_gpa[VNET_TXQ][1]);

	av->ring[0] = head;
	__atomic_store_n(&av->idx, idx, __ATOMIC_RELEASE);
}

/* Writes the malformed chain; returns the features the case needs. */
static int write_case(struct bad *b, const char *c)
{
	struct virtq_desc ok = { .addr = BUF_GPA, .len = 64, .flags = 0 };

	if (!strcmp(c, "oob-addr")) {
		*desc(b, 0) = (struct virtq_desc){ .addr = 0x7fff00000000ull, .len = 100 };
	} else if (!strcmp(c, "addr-overflow")) {
		*desc(b, 0) = (struct virtq_desc){ .addr = UINT64_MAX - 8, .len = 100 };
	} else if (!strcmp(c, "len-past-ram")) {
		*desc(b, 0) = (struct virtq_desc){ .addr = RAM_SIZE - 16, .len = 4096 };
	} else if (!strcmp(c, "loop")) {
		*desc(b, 0) = ok;
		desc(b, 0)->flags = VIRTQ_DESC_F_NEXT;
		desc(b, 0)->next = 1;
		*desc(b, 1) = ok;
		desc(b, 1)->flags = VIRTQ_DESC_F_NEXT;
		desc(b, 1)->next = 0;
	} else if (!strcmp(c, "bad-next")) {
		*desc(b, 0) = ok;
		desc(b, 0)->flags = VIRTQ_DESC_F_NEXT;
		desc(b, 0)->next = 200;
	} else if (!strcmp(c, "bad-head")) {
		publish(b, 200, 1);
		return 0;
	} else if (!strcmp(c, "avail-jump")) {
		*desc(b, 0) = ok;
		publish(b, 0, 1000);
		return 0;
	} else if (!strcmp(c, "writable-tx")) {
		*desc(b, 0) = ok;
		desc(b, 0)->flags = VIRTQ_DESC_F_WRITE;
	} else if (!strcmp(c, "nested-indirect")) {
		struct virtq_desc *t = (struct virtq_desc *)(b->ram + TABLE_GPA);

		t[0] = (struct virtq_desc){ .addr = TABLE_GPA, .len = 32,
					    .flags = VIRTQ_DESC_F_INDIRECT };
		t[1] = ok;
		*desc(b, 0) = (struct virtq_desc){ .addr = TABLE_GPA, .len = 32,
						   .flags = VIRTQ_DESC_F_INDIRECT };
	} else {
		fprintf(stderr, "bad_guest: unknown case '%s'\n", c);
		return -EINVAL;
	}
	publish(b, 0, 1);
	return 0;
}

/* ---- --bad-headers ---------------------------------------------------- */

/* The transmit offloads the device offers (what peerfeats allows). */
static uint64_t offered_tx_offloads(struct bad *b)
{
	const uint64_t want = VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) |
			      VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) | VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN) |
			      VIRTIO_BIT(VIRTIO_NET_F_HOST_UFO);
	uint32_t lo = 0;

	vfc_write32(&b->dev, BAR0, COMMON(device_feature_select), 0);
	vfc_read32(&b->dev, BAR0, COMMON(device_feature), &lo);
	return lo & want;
}

#define HDR_LEN   12u		/* VERSION_1 header (5.1.6.1) */
#define SLOT_SIZE 2048u
#define FRAME_LEN 128u

static const struct {
	const char *what;
	struct virtio_net_hdr_v1 h;
} bad_hdrs[] = {
	{ "TCPv4 GSO with gso_size 0",
	  { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
	    .csum_start = 34, .csum_offset = 16 } },
	{ "checksum position past the frame",
	  { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 120, .csum_offset = 16 } },
	{ "TCPv6 GSO with gso_size 0", { .gso_type = VIRTIO_NET_HDR_GSO_TCPV6 } },
	{ "ECN without GSO", { .gso_type = VIRTIO_NET_HDR_GSO_ECN } },
	{ "unknown gso_type", { .gso_type = 0x42, .gso_size = 100 } },
	{ "GSO UDP_L4", { .gso_type = VIRTIO_NET_HDR_GSO_UDP_L4, .gso_size = 100 } },
	{ "unknown flags", { .flags = 0x40 } },
	{ "GSO hdr_len past the frame",
	  { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 100, .hdr_len = 4000 } },
};
#define N_BAD (sizeof(bad_hdrs) / sizeof(bad_hdrs[0]))

static uint16_t used_idx(struct bad *b)
{
	const struct virtq_used *u = (const struct virtq_used *)(b->ram + ring_gpa[VNET_TXQ][2]);

	return __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE);
}

/* Puts frame i (header h, then frame bytes) into its own slot and makes it
 * available, waiting for a slot when the ring is full. */
static int send_one(struct bad *b, unsigned i, const struct virtio_net_hdr_v1 *h,
		    const uint8_t *frame, uint32_t flen)
{
	unsigned slot = i % QSIZE;
	uint64_t gpa = BUF_GPA + (uint64_t)slot * SLOT_SIZE;
	struct virtq_avail *av = (struct virtq_avail *)(b->ram + ring_gpa[VNET_TXQ][1]);

	for (int t = 0; i >= QSIZE && (uint16_t)(used_idx(b) + QSIZE) <= (uint16_t)i; t++) {
		if (t > 300)
			return -ETIMEDOUT;
		usleep(10000);
	}
	memcpy(b->ram + gpa, h, HDR_LEN);
	memcpy(b->ram + gpa + HDR_LEN, frame, flen);
	*desc(b, slot) = (struct virtq_desc){ .addr = gpa, .len = HDR_LEN + flen };
	av->ring[slot] = (uint16_t)slot;
	__atomic_store_n(&av->idx, (uint16_t)(i + 1), __ATOMIC_RELEASE);
	return vfc_write16(&b->dev, BAR0,
			   PCI_MODERN_NOTIFY_OFF + VNET_TXQ * PCI_MODERN_NOTIFY_MULT, VNET_TXQ);
}

static int run_bad_headers(struct bad *b, const uint8_t dst[6])
{
	static const uint8_t src[6] = { 0x52, 0x54, 0x00, 0xba, 0xd0, 0x01 };
	const struct virtio_net_hdr_v1 plain = { 0 };
	uint8_t frame[FRAME_LEN];
	unsigned n = 0, good = 0;

	for (unsigned k = 0; k <= N_BAD; k++) {
		if (frame_build(frame, FRAME_LEN, dst, src, FRAME_DATA, good) < 0 ||
		    send_one(b, n++, &plain, frame, FRAME_LEN) < 0)
			return -EIO;
		good++;
		if (k == N_BAD)
			break;
		/* A bad frame carries a seq the receiver never expects. */
		if (frame_build(frame, FRAME_LEN, dst, src, FRAME_DATA, 1000000 + k) < 0 ||
		    send_one(b, n++, &bad_hdrs[k].h, frame, FRAME_LEN) < 0)
			return -EIO;
		printf("bad: %s\n", bad_hdrs[k].what);
	}
	for (int t = 0; used_idx(b) != (uint16_t)n; t++) {
		if (t > 300) {
			fprintf(stderr, "bad_guest: device used %u of %u chains\n", used_idx(b), n);
			return -ETIMEDOUT;
		}
		usleep(10000);
	}
	printf("good_sent: %u\nbad_sent: %zu\n", good, N_BAD);
	return 0;
}

/* ---- --shrink ------------------------------------------------------------ */

#define CUT_AT	  0x100000u	/* rings and BUF_GPA below, buffers above */
#define HIGH_BUF  0x200000u

static void post_rx_high(struct bad *b)
{
	struct virtq_desc *d = (struct virtq_desc *)(b->ram + ring_gpa[VNET_RXQ][0]);
	struct virtq_avail *av = (struct virtq_avail *)(b->ram + ring_gpa[VNET_RXQ][1]);

	for (uint16_t i = 0; i < QSIZE; i++) {
		d[i] = (struct virtq_desc){ .addr = HIGH_BUF + 2048u * i, .len = 2048,
					    .flags = VIRTQ_DESC_F_WRITE };
		av->ring[i] = i;
	}
	__atomic_store_n(&av->idx, (uint16_t)QSIZE, __ATOMIC_RELEASE);
}

static int kick_tx(struct bad *b)
{
	return vfc_write16(&b->dev, BAR0, PCI_MODERN_NOTIFY_OFF + VNET_TXQ * PCI_MODERN_NOTIFY_MULT,
			   VNET_TXQ);
}

/* Prepares the case in memory we still own, then cuts the file. */
static int shrink(struct bad *b, const char *c, uint64_t feats)
{
	if (!strcmp(c, "unmap-live") || !strcmp(c, "unmap-running")) {
		bool running = !strcmp(c, "unmap-running");
		int rc;

		/* The device is set up again: bring_up ran already. */
		if (set_status(b, 0) < 0 || bring_up_to(b, feats, running) < 0)
			return -EIO;
		*desc(b, 0) = (struct virtq_desc){ .addr = BUF_GPA, .len = 80 };
		publish(b, 0, 1);
		rc = vfc_dma_unmap(&b->dev, 0, RAM_SIZE);
		if (rc < 0)
			return rc;
		b->unmapped = true;
		if (!running)
			set_status(b, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					      VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
		return kick_tx(b);
	}
	if (!strcmp(c, "ram-to-zero")) {
		*desc(b, 0) = (struct virtq_desc){ .addr = BUF_GPA, .len = 80 };
		publish(b, 0, 1);
		if (ftruncate(b->ram_fd, 0) < 0)
			return -errno;
		return kick_tx(b);
	}
	if (!strcmp(c, "tx-buffer")) {
		*desc(b, 0) = (struct virtq_desc){ .addr = HIGH_BUF, .len = 80 };
		publish(b, 0, 1);
		if (ftruncate(b->ram_fd, CUT_AT) < 0)
			return -errno;
		return kick_tx(b);
	}
	if (!strcmp(c, "rx-buffers")) {
		post_rx_high(b);
		if (ftruncate(b->ram_fd, CUT_AT) < 0)
			return -errno;
		return vfc_write16(&b->dev, BAR0,
				   PCI_MODERN_NOTIFY_OFF + VNET_RXQ * PCI_MODERN_NOTIFY_MULT, VNET_RXQ);
	}
	fprintf(stderr, "bad_guest: unknown --shrink case '%s'\n", c);
	return -EINVAL;
}

/* Memory back, device reset and set up again, one good frame sent: does
 * the device use it? */
static int works_again(struct bad *b, uint64_t feats)
{
	if (ftruncate(b->ram_fd, RAM_SIZE) < 0 || set_status(b, 0) < 0 || get_status(b) != 0)
		return -EIO;
	/* After an unmap case the memory is mapped again, as a guest would. */
	if (b->unmapped && vfc_dma_map(&b->dev, 0, RAM_SIZE, b->ram_fd, 0, true) < 0)
		return -EIO;
	if (bring_up(b, feats) < 0)
		return -EIO;
	*desc(b, 0) = (struct virtq_desc){ .addr = BUF_GPA, .len = 80 };
	publish(b, 0, 1);
	kick_tx(b);
	for (int t = 0; t < 300; t++) {
		if (used_idx(b) == 1 && !(get_status(b) & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

static int wait_needs_reset(struct bad *b)
{
	for (int i = 0; i < 300; i++) {
		uint8_t s = get_status(b);

		if (s != 0xff && (s & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "case", required_argument, NULL, 'c' },
		{ "after-reset", no_argument, NULL, 'r' },
		{ "bad-headers", no_argument, NULL, 'h' },
		{ "dst", required_argument, NULL, 'd' },
		{ "shrink", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL, *cs = NULL, *cut = NULL;
	bool after_reset = false, bad_headers = false;
	uint8_t dst[6] = { 0 };
	struct bad b = { .ram_fd = -1 };
	uint64_t feats = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC);
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (opt == 's')
			sock = optarg;
		else if (opt == 'c')
			cs = optarg;
		else if (opt == 'r')
			after_reset = true;
		else if (opt == 'h')
			bad_headers = true;
		else if (opt == 'S')
			cut = optarg;
		else if (opt == 'd' && mac_parse(optarg, dst, NULL, 0) < 0) {
			fprintf(stderr, "bad_guest: --dst '%s': not a MAC address\n", optarg);
			return 2;
		} else if (opt != 'd')
			return 2;
	}
	if (!sock || (!cs && !bad_headers && !cut)) {
		fprintf(stderr, "usage: bad_guest --socket PATH --case NAME [--after-reset]\n"
				"       bad_guest --socket PATH --bad-headers --dst MAC\n"
				"       bad_guest --socket PATH --shrink CASE [--after-reset]\n");
		return 2;
	}
	rc = vfc_open(&b.dev, sock);
	if (rc < 0) {
		fprintf(stderr, "bad_guest: %s: %s\n", sock, strerror(-rc));
		return 2;
	}
	b.ram_fd = memfd_create("bad_guest_ram", MFD_CLOEXEC);
	if (b.ram_fd < 0 || ftruncate(b.ram_fd, RAM_SIZE) < 0)
		return 2;
	b.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, b.ram_fd, 0);
	if (b.ram == MAP_FAILED)
		return 2;
	rc = vfc_dma_map(&b.dev, 0, RAM_SIZE, b.ram_fd, 0, true);
	if (rc == 0 && bad_headers)
		feats |= offered_tx_offloads(&b);
	if (rc < 0 || bring_up(&b, feats) < 0) {
		fprintf(stderr, "bad_guest: setup failed: %s\n", strerror(rc < 0 ? -rc : EIO));
		return 2;
	}
	if (bad_headers) {
		rc = run_bad_headers(&b, dst);
		if (rc == 0 && (get_status(&b) & VIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
			fprintf(stderr, "bad_guest: the device latched NEEDS_RESET for a header\n");
			rc = -EIO;
		}
		printf("features: 0x%llx\n", (unsigned long long)feats);
		vfc_close(&b.dev);
		return rc == 0 ? 0 : 1;
	}
	if (cut) {
		if (shrink(&b, cut, feats) < 0)
			return 2;
		rc = wait_needs_reset(&b);
		printf("case: shrink %s\nneeds_reset: %s\n", cut, rc == 0 ? "yes" : "no");
		if (rc == 0 && after_reset) {
			rc = works_again(&b, feats);
			printf("after_reset: %s\n", rc == 0 ? "works" : "still broken");
		}
		vfc_close(&b.dev);
		return rc == 0 ? 0 : 1;
	}
	if (write_case(&b, cs) < 0)
		return 2;
	/* Kick the transmit queue through the notify register (4.1.5.2). */
	vfc_write16(&b.dev, BAR0, PCI_MODERN_NOTIFY_OFF + VNET_TXQ * PCI_MODERN_NOTIFY_MULT, VNET_TXQ);
	rc = wait_needs_reset(&b);
	printf("case: %s\nneeds_reset: %s\n", cs, rc == 0 ? "yes" : "no");
	if (rc == 0 && after_reset) {
		set_status(&b, 0);
		rc = get_status(&b) == 0 ? 0 : -EIO;
		printf("after_reset: %s\n", rc == 0 ? "clean" : "still broken");
	}
	vfc_close(&b.dev);
	return rc == 0 ? 0 : 1;
}
