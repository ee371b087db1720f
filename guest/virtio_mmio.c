// SPDX-License-Identifier: MIT
/*
 * virtio_mmio.c - the virtio-mmio transport, driver side (virtio 1.2,
 * 4.2): version 2, or version 1 ("legacy", 4.2.4).
 *
 * The device is a vfio-user *platform* device (our extension, see
 * shared/reference/vfio-user.md 12 and host/transport/mmio.h): region 0
 * is the register window, control registers at 0x000-0x0fc and the device
 * configuration from 0x100; irq index 0 is the interrupt line, one
 * eventfd, automasked (the driver unmasks it after acknowledging
 * InterruptStatus).  All control registers are 32-bit accesses
 * (4.2.2.2); the configuration takes natural widths.  The base address
 * and interrupt number (`loc`, `intr`) are not on the wire: virtio-mmio
 * has no discovery (4.2.1), the driver is told them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/virtio.h"
#include "guest/virtio_transport.h"

#define MMIO_MAGIC		 0x74726976u	/* "virt" */
#define MMIO_MAGIC_VALUE	 0x000
#define MMIO_VERSION		 0x004
#define MMIO_DEVICE_ID		 0x008
#define MMIO_VENDOR_ID		 0x00c
#define MMIO_DEVICE_FEATURES	 0x010
#define MMIO_DEVICE_FEATURES_SEL 0x014
#define MMIO_DRIVER_FEATURES	 0x020
#define MMIO_DRIVER_FEATURES_SEL 0x024
#define MMIO_GUEST_PAGE_SIZE	 0x028	/* v1 */
#define MMIO_QUEUE_SEL		 0x030
#define MMIO_QUEUE_NUM_MAX	 0x034
#define MMIO_QUEUE_NUM		 0x038
#define MMIO_QUEUE_ALIGN	 0x03c	/* v1 */
#define MMIO_QUEUE_PFN		 0x040	/* v1 */
#define MMIO_QUEUE_READY	 0x044	/* v2 */
#define MMIO_QUEUE_NOTIFY	 0x050
#define MMIO_INTERRUPT_STATUS	 0x060
#define MMIO_INTERRUPT_ACK	 0x064
#define MMIO_STATUS		 0x070
#define MMIO_QUEUE_DESC_LOW	 0x080	/* v2, as the five below */
#define MMIO_QUEUE_DESC_HIGH	 0x084
#define MMIO_QUEUE_DRIVER_LOW	 0x090
#define MMIO_QUEUE_DRIVER_HIGH	 0x094
#define MMIO_QUEUE_DEVICE_LOW	 0x0a0
#define MMIO_QUEUE_DEVICE_HIGH	 0x0a4
#define MMIO_CONFIG_GENERATION	 0x0fc	/* v2 */
#define MMIO_CONFIG		 0x100
#define MMIO_PAGE_SIZE		 4096u	/* GuestPageSize and QueueAlign (v1) */
#define REGS			 VFC_PLATFORM_REGS_REGION

struct mmio {
	struct vtransport t;
	uint32_t version;
	uint64_t size;			/* of the register window */
	bool line_bound;
	int n_iofds;
	struct vfc_iofd iofds[VFC_MAX_IOFDS];
	bool q_ready[VT_MAX_QUEUES];
	int q_fd[VT_MAX_QUEUES];
};

#define to_mmio(tp) ((struct mmio *)((char *)(tp) - offsetof(struct mmio, t)))

static int rd(struct vtransport *t, uint32_t off, uint32_t *v)
{
	return vfc_read32(t->vfc, REGS, off, v);
}

static int wr(struct vtransport *t, uint32_t off, uint32_t v)
{
	return vfc_write32(t->vfc, REGS, off, v);
}

static bool is_v1(const struct vtransport *t) { return t->flags & VT_F_LEGACY; }

/* 4.2.2: a 32-bit window chosen by the select register; v1 has bits 0-31
 * only (4.2.4). */
static int mm_read_features(struct vtransport *t, uint32_t sel, uint32_t win,
			    uint64_t *f)
{
	uint32_t lo = 0, hi = 0;
	int rc;

	if ((rc = wr(t, sel, 0)) || (rc = rd(t, win, &lo)))
		return rc;
	if (!is_v1(t) && ((rc = wr(t, sel, 1)) || (rc = rd(t, win, &hi))))
		return rc;
	*f = (uint64_t)hi << 32 | lo;
	return 0;
}

static int mm_get_device_features(struct vtransport *t, uint64_t *f)
{
	return mm_read_features(t, MMIO_DEVICE_FEATURES_SEL, MMIO_DEVICE_FEATURES, f);
}

/* DriverFeatures is write-only (4.2.2): report what we wrote. */
static int mm_get_driver_features(struct vtransport *t, uint64_t *f)
{
	(void)t;
	(void)f;
	return -ENOTSUP;
}

static int mm_set_driver_features(struct vtransport *t, uint64_t f)
{
	int rc;

	if (is_v1(t) && (f >> 32))
		return -EINVAL;
	if ((rc = wr(t, MMIO_DRIVER_FEATURES_SEL, 0)) ||
	    (rc = wr(t, MMIO_DRIVER_FEATURES, (uint32_t)f)))
		return rc;
	if (!is_v1(t) && ((rc = wr(t, MMIO_DRIVER_FEATURES_SEL, 1)) ||
			  (rc = wr(t, MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32)))))
		return rc;
	return 0;
}

static int mm_get_status(struct vtransport *t, uint8_t *s)
{
	uint32_t v;
	int rc = rd(t, MMIO_STATUS, &v);

	if (rc == 0)
		*s = (uint8_t)v;
	return rc;
}

static int mm_set_status(struct vtransport *t, uint8_t s)
{
	return wr(t, MMIO_STATUS, s);
}

/* 4.2.2.2 / 2.4: write 0, wait until Status reads 0 (bounded). */
static int mm_reset(struct vtransport *t)
{
	struct mmio *m = to_mmio(t);
	uint8_t s = 0xff;
	int rc = mm_set_status(t, 0);

	for (unsigned ms = 0; rc == 0 && ms < VT_RESET_WAIT_MS; ms++) {
		rc = mm_get_status(t, &s);
		if (rc == 0 && s == 0)
			break;
		usleep(1000);
	}
	if (rc == 0 && s != 0) {
		log_err("%s: device status still 0x%02x %u ms after reset", t->name, s,
			VT_RESET_WAIT_MS);
		rc = -ETIMEDOUT;
	}
	if (rc == 0)
		memset(m->q_ready, 0, sizeof(m->q_ready));
	return rc;
}

static int mm_config_generation(struct vtransport *t, uint32_t *gen)
{
	if (is_v1(t)) {
		*gen = 0;	/* 4.2.4: no ConfigGeneration in v1 */
		return 0;
	}
	return rd(t, MMIO_CONFIG_GENERATION, gen);
}

static int mm_read_config(struct vtransport *t, uint32_t off, void *dst,
			  unsigned width)
{
	struct mmio *m = to_mmio(t);
	uint64_t at = (uint64_t)MMIO_CONFIG + off;

	if (width != 1 && width != 2 && width != 4)
		return -EINVAL;
	if (off % width || at + width > m->size)
		return -ERANGE;
	return vt_region_read_field(t->vfc, REGS, at, dst, width);
}

static int mm_queue_max(struct vtransport *t, uint16_t q, uint16_t *max)
{
	uint32_t v = 0;
	int rc;

	if ((rc = wr(t, MMIO_QUEUE_SEL, q)) || (rc = rd(t, MMIO_QUEUE_NUM_MAX, &v)))
		return rc;
	/* Sizes are at most 32768 (2.7, 2.8); anything above is nonsense. */
	*max = v > VIRTQ_MAX_SIZE ? VIRTQ_MAX_SIZE : (uint16_t)v;
	return 0;
}

/* v1 (4.2.4): one contiguous ring at QueuePFN * GuestPageSize, used ring
 * at the next QueueAlign boundary (2.7.2): vt_legacy_layout_ok. */
static int setup_v1(struct vtransport *t, const struct vt_queue_cfg *qc)
{
	uint32_t pfn = 1;
	int rc;

	if (!vt_legacy_layout_ok(qc, MMIO_PAGE_SIZE)) {
		log_err("%s: queue %u: ring not in the legacy layout (2.7.2)", t->name,
			qc->index);
		return -EINVAL;
	}
	/* 4.2.4: GuestPageSize before any queue (written each time: a reset
	 * may have forgotten it). */
	if ((rc = wr(t, MMIO_GUEST_PAGE_SIZE, MMIO_PAGE_SIZE)) ||
	    (rc = wr(t, MMIO_QUEUE_SEL, qc->index)) ||
	    (rc = rd(t, MMIO_QUEUE_PFN, &pfn)))
		return rc;
	if (pfn != 0) {
		log_err("%s: queue %u already in use (QueuePFN 0x%x)", t->name,
			qc->index, pfn);
		return -EBUSY;
	}
	if ((rc = wr(t, MMIO_QUEUE_NUM, qc->size)) ||
	    (rc = wr(t, MMIO_QUEUE_ALIGN, MMIO_PAGE_SIZE)))
		return rc;
	return wr(t, MMIO_QUEUE_PFN, (uint32_t)(qc->addrs.desc / MMIO_PAGE_SIZE));
}

/* 4.2.3.2: select, check not in use, size, the three addresses, ready. */
static int setup_v2(struct vtransport *t, const struct vt_queue_cfg *qc)
{
	const struct vq_addrs *a = &qc->addrs;
	uint32_t ready = 1;
	int rc;

	if ((rc = wr(t, MMIO_QUEUE_SEL, qc->index)) ||
	    (rc = rd(t, MMIO_QUEUE_READY, &ready)))
		return rc;
	if (ready != 0) {
		log_err("%s: queue %u already in use (QueueReady %u)", t->name,
			qc->index, ready);
		return -EBUSY;
	}
	if ((rc = wr(t, MMIO_QUEUE_NUM, qc->size)) ||
	    (rc = wr(t, MMIO_QUEUE_DESC_LOW, (uint32_t)a->desc)) ||
	    (rc = wr(t, MMIO_QUEUE_DESC_HIGH, (uint32_t)(a->desc >> 32))) ||
	    (rc = wr(t, MMIO_QUEUE_DRIVER_LOW, (uint32_t)a->driver)) ||
	    (rc = wr(t, MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(a->driver >> 32))) ||
	    (rc = wr(t, MMIO_QUEUE_DEVICE_LOW, (uint32_t)a->device)) ||
	    (rc = wr(t, MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(a->device >> 32))))
		return rc;
	return wr(t, MMIO_QUEUE_READY, 1);
}

static int mm_queue_setup(struct vtransport *t, const struct vt_queue_cfg *qc,
			  uint16_t *vector_out)
{
	struct mmio *m = to_mmio(t);
	uint16_t max = 0;
	int rc;

	if (qc->index >= VT_MAX_QUEUES || qc->size == 0)
		return -EINVAL;
	rc = mm_queue_max(t, qc->index, &max);
	if (rc)
		return rc;
	if (qc->size > max) {
		log_err("%s: queue %u: size %u above QueueNumMax %u", t->name, qc->index,
			qc->size, max);
		return -EINVAL;
	}
	rc = is_v1(t) ? setup_v1(t, qc) : setup_v2(t, qc);
	if (rc)
		return rc;
	/* QueueNotify is shared by all queues: only a datamatch ioeventfd
	 * for this queue's index stands for its kick. */
	m->q_fd[qc->index] = vt_find_iofd(m->iofds, m->n_iofds, MMIO_QUEUE_NOTIFY, 4,
					  qc->index);
	m->q_ready[qc->index] = true;
	*vector_out = VIRTIO_MSI_NO_VECTOR;	/* one line, no vectors */
	return 0;
}

/* A queue the device already runs (it moved here with its state): its
 * doorbell only. */
static int mm_queue_adopt(struct vtransport *t, uint16_t q)
{
	struct mmio *m = to_mmio(t);

	if (q >= VT_MAX_QUEUES)
		return -EINVAL;
	m->q_fd[q] = vt_find_iofd(m->iofds, m->n_iofds, MMIO_QUEUE_NOTIFY, 4, q);
	m->q_ready[q] = true;
	return 0;
}

static int mm_notify(struct vtransport *t, uint16_t q)
{
	struct mmio *m = to_mmio(t);

	if (q >= VT_MAX_QUEUES || !m->q_ready[q])
		return -EINVAL;
	if (m->q_fd[q] >= 0) {
		uint64_t one = 1;

		if (write(m->q_fd[q], &one, sizeof(one)) == (ssize_t)sizeof(one))
			return 0;
	}
	return wr(t, MMIO_QUEUE_NOTIFY, q);	/* 4.2.3.3: the queue index */
}

static const char *mm_notify_kind(struct vtransport *t, uint16_t q)
{
	struct mmio *m = to_mmio(t);

	if (q >= VT_MAX_QUEUES || !m->q_ready[q])
		return "none";
	return m->q_fd[q] >= 0 ? "eventfd" : "region-write";
}

static int mm_irq_setup(struct vtransport *t, const int *fds, unsigned n)
{
	(void)t;
	(void)fds;
	(void)n;
	return 0;	/* no message interrupts on MMIO */
}

static int mm_set_config_vector(struct vtransport *t, uint16_t vec,
				uint16_t *vector_out)
{
	(void)t;
	(void)vec;
	*vector_out = VIRTIO_MSI_NO_VECTOR;
	return 0;
}

static int mm_line_setup(struct vtransport *t, int fd)
{
	struct mmio *m = to_mmio(t);
	int rc;

	if (t->vfc->num_irqs <= VFC_PLATFORM_IRQ ||
	    t->vfc->irq_count[VFC_PLATFORM_IRQ] == 0)
		return -ENOTSUP;
	rc = vfc_set_irq_eventfds(t->vfc, VFC_PLATFORM_IRQ, 0, 1, &fd);
	if (rc < 0)
		return rc;
	m->line_bound = true;
	vfc_unmask_irq(t->vfc, VFC_PLATFORM_IRQ, 0);
	return 0;
}

/* 4.2.2: InterruptStatus says why; writing the handled bits to
 * InterruptACK clears them; then the automasked line is unmasked, so an
 * interrupt raised since is delivered again. */
static int mm_line_ack(struct vtransport *t, uint8_t *cause)
{
	struct mmio *m = to_mmio(t);
	uint32_t st = 0;
	int rc = rd(t, MMIO_INTERRUPT_STATUS, &st);

	*cause = 0;
	if (rc)
		return rc;
	st &= VT_CAUSE_QUEUE | VT_CAUSE_CONFIG;
	if (st && (rc = wr(t, MMIO_INTERRUPT_ACK, st)))
		return rc;
	*cause = (uint8_t)st;
	return m->line_bound ? vfc_unmask_irq(t->vfc, VFC_PLATFORM_IRQ, 0) : 0;
}

static void mm_irq_teardown(struct vtransport *t)
{
	struct mmio *m = to_mmio(t);

	if (m->line_bound)
		vfc_disable_irqs(t->vfc, VFC_PLATFORM_IRQ);
	m->line_bound = false;
}

static void mm_destroy(struct vtransport *t)
{
	struct mmio *m;

	if (!t)
		return;
	m = to_mmio(t);
	if (m->n_iofds > 0)
		vfc_close_iofds(m->iofds, (unsigned)m->n_iofds);
	free(m);
}

static const struct vtransport_ops mmio_ops = {
	.destroy = mm_destroy,
	.get_device_features = mm_get_device_features,
	.get_driver_features = mm_get_driver_features,
	.set_driver_features = mm_set_driver_features,
	.get_status = mm_get_status,
	.set_status = mm_set_status,
	.reset = mm_reset,
	.config_generation = mm_config_generation,
	.read_config = mm_read_config,
	.num_queues = vt_count_queues,	/* 4.2.3.2: no count register */
	.queue_max = mm_queue_max,
	.queue_setup = mm_queue_setup,
	.queue_adopt = mm_queue_adopt,
	.notify = mm_notify,
	.notify_kind = mm_notify_kind,
	.irq_setup = mm_irq_setup,
	.irq_teardown = mm_irq_teardown,
	.set_config_vector = mm_set_config_vector,
	.line_setup = mm_line_setup,
	.line_ack = mm_line_ack,
};

int vt_mmio_probe(struct vfc_device *vfc, struct vtransport **out)
{
	uint32_t magic = 0, version = 0, devid = 0, vendor = 0;
	struct mmio *m;
	int rc;

	if (!(vfc->flags & VFC_DEVICE_FLAGS_PLATFORM) || vfc->num_regions <= REGS ||
	    vfc->regions[REGS].size < MMIO_CONFIG + sizeof(struct virtio_net_config)) {
		log_err("virtio-mmio: not a platform device with a register window of at least 0x%zx bytes",
			MMIO_CONFIG + sizeof(struct virtio_net_config));
		return -ENODEV;
	}
	/* 4.2.3.1.1: magic, version, device id before anything else. */
	if ((rc = vfc_read32(vfc, REGS, MMIO_MAGIC_VALUE, &magic)) ||
	    (rc = vfc_read32(vfc, REGS, MMIO_VERSION, &version)) ||
	    (rc = vfc_read32(vfc, REGS, MMIO_DEVICE_ID, &devid)) ||
	    (rc = vfc_read32(vfc, REGS, MMIO_VENDOR_ID, &vendor))) {
		log_err("virtio-mmio: cannot read the identification registers: %s",
			strerror(-rc));
		return rc;
	}
	if (magic != MMIO_MAGIC) {
		log_err("virtio-mmio: MagicValue 0x%08x, expected 0x%08x (\"virt\")", magic,
			MMIO_MAGIC);
		return -ENODEV;
	}
	if (version != 1 && version != 2) {
		log_err("virtio-mmio: Version %u not supported (1 legacy, 2)", version);
		return -ENODEV;
	}
	if (devid != VIRTIO_ID_NET) {
		/* 0 is a placeholder the driver must ignore (4.2.3.1.1). */
		log_err("virtio-mmio: DeviceID %u is not a network device (%u)%s", devid,
			VIRTIO_ID_NET, devid == 0 ? ": placeholder, no device" : "");
		return -ENODEV;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->t.ops = &mmio_ops;
	m->t.vfc = vfc;
	m->t.line_name = "line";
	m->version = version;
	m->size = vfc->regions[REGS].size;
	if (version == 1) {
		m->t.name = "mmio-v1";
		m->t.flags = VT_F_LEGACY;
		m->t.used_align = MMIO_PAGE_SIZE;
		m->t.packed_ok = false;
	} else {
		m->t.name = "mmio-v2";
		m->t.used_align = VIRTQ_USED_ALIGN;
		m->t.packed_ok = true;
	}
	for (unsigned q = 0; q < VT_MAX_QUEUES; q++)
		m->q_fd[q] = -1;
	log_debug("%s: vendor 0x%08x, window 0x%llx bytes", m->t.name, vendor,
		  (unsigned long long)m->size);
	m->n_iofds = vfc_get_region_io_fds(vfc, REGS, m->iofds, VFC_MAX_IOFDS);
	if (m->n_iofds < 0) {
		log_debug("%s: no ioeventfds (%s): kicks are register writes", m->t.name,
			  strerror(-m->n_iofds));
		m->n_iofds = 0;
	} else if (m->n_iofds > VFC_MAX_IOFDS) {
		m->n_iofds = VFC_MAX_IOFDS;
	}
	*out = &m->t;
	return 0;
}
