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
 *
 * Exit 0 when the device latched NEEDS_RESET within 3 s (and, with
 * --after-reset, came back to a clean status 0 after reset), 1 when it
 * did not, 2 on a setup error.
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
#include "guest/vfio_client.h"
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

static int bring_up(struct bad *b, uint64_t feats)
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
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL, *cs = NULL;
	bool after_reset = false;
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
		else
			return 2;
	}
	if (!sock || !cs) {
		fprintf(stderr, "usage: bad_guest --socket PATH --case NAME [--after-reset]\n");
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
	if (rc < 0 || bring_up(&b, feats) < 0) {
		fprintf(stderr, "bad_guest: setup failed: %s\n", strerror(rc < 0 ? -rc : EIO));
		return 2;
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
