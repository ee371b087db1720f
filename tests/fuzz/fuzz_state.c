// SPDX-License-Identifier: MIT
/*
 * fuzz_state - a device state blob, as a vfio-user migration's
 * destination takes it (host/face/vfio_mig.c load_state): the device is
 * paused, state_parse checks the framing, vdev_state_load replays the
 * model's records and the transport's state_load takes its record; then
 * the device runs (its queues at whatever the state said, over guest
 * memory of zeros) and is reset for the next input.
 *
 * Input: a mode byte (bit 0: fix the header's length and CRC, so the
 * mutations reach the record readers; bits 1-2: the transport,
 * pci-modern, pci-legacy or mmio-v2), then the blob.
 *
 * Invariant: a refused state leaves the device reset (status 0).
 */
#include <zlib.h>

#include "host/dev/state_fmt.h"
#include "host/transport/mmio.h"
#include "host/transport/pci_legacy.h"
#include "host/transport/pci_modern.h"
#include "host/transport/transport.h"
#include "tests/fuzz/harness.h"

#define RAM (1u << 20)

struct dev {
	struct vdev_opts vo;
	struct vdev *vd;
	struct transport *t;
};

static struct evloop *ev;
static struct dev devs[3];

static void make_dev(struct dev *d, unsigned kind)
{
	int fd;

	snprintf(d->vo.name, sizeof(d->vo.name), "f");
	memcpy(d->vo.mac, "\x52\x54\x00\x00\x07\x01", 6);
	d->vo.queues = 2;
	d->vo.legacy = kind == 1;
	if (kind == 2) {
		d->vo.has_loc = true;
		d->vo.loc = 0x10000000;
	}
	if (vdev_new(&d->vd, ev, "s", &d->vo) < 0)
		abort();
	if ((kind == 0 ? pci_modern_create(&d->t, d->vd)
	     : kind == 1 ? pci_legacy_create(&d->t, d->vd)
			 : mmio_create(&d->t, d->vd)) < 0)
		abort();
	d->vd->irq = d->t->irq;
	fd = fuzz_memfd("state-ram", RAM, NULL, 0);
	if (fd < 0 || vdev_mem_map_fd(d->vd, 0, RAM, fd, 0, true) < 0)
		abort();
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	ev = evloop_new();
	if (!ev)
		abort();
	for (unsigned k = 0; k < 3; k++)
		make_dev(&devs[k], k);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_rec recs[STATE_MAX_RECORDS];
	const struct state_rec *tr = NULL;
	struct dev *d;
	uint8_t *blob;
	char why[256];
	unsigned n;
	int rc;

	if (size < 1 || size > STATE_MAX_SIZE)
		return 0;
	d = &devs[((data[0] >> 1) & 3) % 3];
	blob = malloc(size);
	if (!blob)
		abort();
	memcpy(blob, data + 1, size - 1);
	size--;
	if ((data[0] & 1) && size >= sizeof(struct state_hdr)) {
		struct state_hdr h;

		memcpy(&h, blob, sizeof(h));
		h.length = (uint32_t)size;
		h.crc = (uint32_t)crc32(0L, blob + sizeof(h), (uInt)(size - sizeof(h)));
		memcpy(blob, &h, sizeof(h));
	}
	vdev_pause(d->vd);
	rc = state_parse(blob, size, recs, STATE_MAX_RECORDS, &n, why, sizeof(why));
	for (unsigned i = 0; rc == 0 && i < n; i++)
		if (recs[i].type == STATE_REC_TRANSPORT)
			tr = &recs[i];
	if (rc == 0) {
		rc = vdev_state_load(d->vd, d->t->ops->name, recs, n, why, sizeof(why));
		if (rc < 0)
			FUZZ_CHECK(d->vd->status == 0);
	}
	if (rc == 0 && tr)
		rc = d->t->ops->state_load(d->t, tr->data, tr->len, why, sizeof(why));
	if (rc == 0) {
		/* Taken: the device runs from the state, then it is reset. */
		vdev_resume(d->vd);
		fuzz_pump(ev, 2);
	}
	d->t->ops->reset(d->t);
	free(blob);
	return 0;
}
