// SPDX-License-Identifier: MIT
/*
 * mmio.c - virtio-mmio transport (virtio 1.2, 4.2): the register window
 * of version 2 (4.2.2) or of the legacy version 1 (4.2.4), and the one
 * interrupt line with its InterruptStatus, on top of the
 * transport-independent device model (host/dev/).  Served over vfio-user as
 * a platform device (see mmio.h).
 */
#include "host/transport/mmio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "host/dev/state_fmt.h"
#include "host/transport/legacy_vring.h"
#include "host/dev/vdev.h"

#define NUM_REGIONS   1
#define NUM_IRQS      1
#define DEFAULT_PAGE  4096u	/* GuestPageSize / QueueAlign until written */

struct mmio {
	struct transport t;
	unsigned version;		/* 2, or 1 for legacy */
	/* registers the transport keeps */
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
	uint32_t int_status;		/* InterruptStatus (4.2.2.1) */
	/* version 1 only (4.2.4) */
	uint32_t guest_page_size;
	uint32_t queue_align[VDEV_MAX_QUEUES];
	uint32_t queue_pfn[VDEV_MAX_QUEUES];
};

static struct mmio *to_mmio(struct transport *t)
{
	return container_of(t, struct mmio, t);
}

/* ---- the interrupt line ---------------------------------------------- */

/* The line is a level (asserted while InterruptStatus is non-zero) and
 * its eventfd an edge, hence AUTOMASKED: each delivery masks it until the
 * client's SET_IRQS UNMASK, and an unmask that finds InterruptStatus
 * still set delivers again.  True when an interrupt was delivered. */
static bool line_update(struct mmio *m)
{
	if (!m->int_status)
		return false;
	if (!transport_fire(&m->t, MMIO_IRQ_LINE, 0))
		return false;
	m->t.irqs.masked[MMIO_IRQ_LINE][0] = true;
	return true;
}

/* ---- registers ------------------------------------------------------- */

#define REG_R  0x1	/* readable */
#define REG_W  0x2	/* writable */
#define REG_V1 0x4	/* exists in version 1 */
#define REG_V2 0x8	/* exists in version 2 */

struct mmio_reg {
	uint16_t off;
	uint8_t flags;
};

/* 4.2.2 (version 2) and 4.2.4 (version 1).  Registers of the other
 * version read as 0 and ignore writes, as do reads of write-only and
 * writes of read-only registers; an offset not in this table is refused. */
static const struct mmio_reg mmio_regs[] = {
	{ MMIO_MAGIC_VALUE, REG_R | REG_V1 | REG_V2 },
	{ MMIO_VERSION, REG_R | REG_V1 | REG_V2 },
	{ MMIO_DEVICE_ID, REG_R | REG_V1 | REG_V2 },
	{ MMIO_VENDOR, REG_R | REG_V1 | REG_V2 },
	{ MMIO_DEVICE_FEATURES, REG_R | REG_V1 | REG_V2 },
	{ MMIO_DEVICE_FEATURES_SEL, REG_W | REG_V1 | REG_V2 },
	{ MMIO_DRIVER_FEATURES, REG_W | REG_V1 | REG_V2 },
	{ MMIO_DRIVER_FEATURES_SEL, REG_W | REG_V1 | REG_V2 },
	{ MMIO_GUEST_PAGE_SIZE, REG_W | REG_V1 },
	{ MMIO_QUEUE_SEL, REG_W | REG_V1 | REG_V2 },
	{ MMIO_QUEUE_NUM_MAX, REG_R | REG_V1 | REG_V2 },
	{ MMIO_QUEUE_NUM, REG_R | REG_W | REG_V1 | REG_V2 },
	{ MMIO_QUEUE_ALIGN, REG_W | REG_V1 },
	{ MMIO_QUEUE_PFN, REG_R | REG_W | REG_V1 },
	{ MMIO_QUEUE_READY, REG_R | REG_W | REG_V2 },
	{ MMIO_QUEUE_NOTIFY, REG_W | REG_V1 | REG_V2 },
	{ MMIO_INTERRUPT_STATUS, REG_R | REG_V1 | REG_V2 },
	{ MMIO_INTERRUPT_ACK, REG_W | REG_V1 | REG_V2 },
	{ MMIO_STATUS, REG_R | REG_W | REG_V1 | REG_V2 },
	{ MMIO_QUEUE_DESC_LOW, REG_W | REG_V2 },
	{ MMIO_QUEUE_DESC_HIGH, REG_W | REG_V2 },
	{ MMIO_QUEUE_DRIVER_LOW, REG_W | REG_V2 },
	{ MMIO_QUEUE_DRIVER_HIGH, REG_W | REG_V2 },
	{ MMIO_QUEUE_DEVICE_LOW, REG_W | REG_V2 },
	{ MMIO_QUEUE_DEVICE_HIGH, REG_W | REG_V2 },
	{ MMIO_SHM_SEL, REG_W | REG_V2 },
	{ MMIO_SHM_LEN_LOW, REG_R | REG_V2 },
	{ MMIO_SHM_LEN_HIGH, REG_R | REG_V2 },
	{ MMIO_SHM_BASE_LOW, REG_R | REG_V2 },
	{ MMIO_SHM_BASE_HIGH, REG_R | REG_V2 },
	{ MMIO_QUEUE_RESET, REG_R | REG_W | REG_V2 },
	{ MMIO_CONFIG_GENERATION, REG_R | REG_V2 },
};

static const struct mmio_reg *mmio_reg_at(uint64_t off)
{
	for (size_t i = 0; i < sizeof(mmio_regs) / sizeof(mmio_regs[0]); i++)
		if (mmio_regs[i].off == off)
			return &mmio_regs[i];
	return NULL;
}

static bool queue_selected(const struct mmio *m)
{
	return m->queue_sel < m->t.vdev->num_queues;
}

/* Driver-visible state a reset clears (4.2.2.1: InterruptStatus and the
 * queues; the vdev does the queues).  GuestPageSize stays: a version 1
 * driver writes it once, at probe (4.2.4). */
static void transport_reset_state(struct mmio *m)
{
	m->device_features_sel = 0;
	m->driver_features_sel = 0;
	m->queue_sel = 0;
	m->int_status = 0;
	for (unsigned i = 0; i < VDEV_MAX_QUEUES; i++) {
		m->queue_align[i] = DEFAULT_PAGE;
		m->queue_pfn[i] = 0;
	}
}

/* 4.2.4: QueuePFN = the ring's guest address / GuestPageSize, the ring
 * laid out as in 2.7.2 for QueueNum with the used ring aligned to
 * QueueAlign; 0 means "stop using the queue". */
static void queue_set_pfn(struct mmio *m, unsigned q, uint32_t pfn)
{
	struct vdev *vd = m->t.vdev;
	struct vdev_queue *vq = &vd->q[q];
	struct legacy_vring r;
	char why[128];

	if (pfn == 0) {
		/* No per-queue stop in the vdev; drivers write 0 after a
		 * device reset (Linux vm_del_vq), when the queue is stopped. */
		if (vq->enabled)
			log_rl(LOG_WARN, "%s: queue %u: QueuePFN 0 on a live queue ignored (reset the device to stop it)",
			       vd->name, q);
		return;
	}
	if (vq->enabled) {
		log_rl(LOG_WARN, "%s: queue %u: QueuePFN written while the queue is live; ignored",
		       vd->name, q);
		return;
	}
	if (!m->guest_page_size || (m->guest_page_size & (m->guest_page_size - 1)) ||
	    !legacy_vring_layout((uint64_t)pfn * m->guest_page_size, vq->size,
				 m->queue_align[q], &r)) {
		snprintf(why, sizeof(why),
			 "queue %u: no legacy ring at PFN 0x%x (GuestPageSize %u, QueueAlign %u)",
			 q, pfn, m->guest_page_size, m->queue_align[q]);
		vdev_set_needs_reset(vd, why);
		return;
	}
	vdev_queue_set_addr(vd, q, 0, r.desc);
	vdev_queue_set_addr(vd, q, 1, r.avail);
	vdev_queue_set_addr(vd, q, 2, r.used);
	vdev_queue_enable(vd, q);	/* bad size or memory: NEEDS_RESET */
	if (vq->enabled)
		m->queue_pfn[q] = pfn;
}

static uint32_t reg_read(struct mmio *m, uint16_t off)
{
	struct vdev *vd = m->t.vdev;
	const struct vdev_queue *q = queue_selected(m) ? &vd->q[m->queue_sel] : NULL;

	switch (off) {
	case MMIO_MAGIC_VALUE:
		return MMIO_MAGIC;
	case MMIO_VERSION:
		return m->version;
	case MMIO_DEVICE_ID:
		return VIRTIO_ID_NET;
	case MMIO_VENDOR:
		return MMIO_VENDOR_ID;
	case MMIO_DEVICE_FEATURES:
		return vdev_device_features_window(vd, m->device_features_sel);
	case MMIO_QUEUE_NUM_MAX:
		return q ? VDEV_QUEUE_MAX : 0;	/* 0: queue not available */
	case MMIO_QUEUE_NUM:
		return q ? q->size : 0;
	case MMIO_QUEUE_PFN:
		return q && q->enabled ? m->queue_pfn[m->queue_sel] : 0;
	case MMIO_QUEUE_READY:
		return q ? q->enabled : 0;
	case MMIO_INTERRUPT_STATUS:
		return m->int_status;
	case MMIO_STATUS:
		return vd->status;
	case MMIO_SHM_LEN_LOW:
	case MMIO_SHM_LEN_HIGH:
	case MMIO_SHM_BASE_LOW:
	case MMIO_SHM_BASE_HIGH:
		return 0xffffffffu;	/* 4.2.2: length and base -1, no region */
	case MMIO_CONFIG_GENERATION:
		return vd->config_generation;
	default:
		return 0;	/* QueueReset (RING_RESET is not offered) */
	}
}

/* A 64-bit queue address written as two 32-bit halves (4.2.2). */
static void queue_addr_write(struct vdev *vd, unsigned q, uint16_t off, uint32_t v)
{
	unsigned which = (off - MMIO_QUEUE_DESC_LOW) / 0x10u;	/* 0 desc, 1 driver, 2 device */
	const struct vq_addrs *a = &vd->q[q].addrs;
	uint64_t old = which == 0 ? a->desc : which == 1 ? a->driver : a->device;

	if (off & 4)
		old = (old & 0xffffffffu) | ((uint64_t)v << 32);
	else
		old = (old & ~UINT64_C(0xffffffff)) | v;
	vdev_queue_set_addr(vd, q, which, old);	/* ignored once ready */
}

static int reg_write(struct mmio *m, uint16_t off, uint32_t v)
{
	struct vdev *vd = m->t.vdev;
	unsigned qs = m->queue_sel;

	switch (off) {
	case MMIO_DEVICE_FEATURES_SEL:
		m->device_features_sel = v;
		return 0;
	case MMIO_DRIVER_FEATURES:
		vdev_set_driver_features_window(vd, m->driver_features_sel, v);
		return 0;
	case MMIO_DRIVER_FEATURES_SEL:
		m->driver_features_sel = v;
		return 0;
	case MMIO_GUEST_PAGE_SIZE:
		m->guest_page_size = v;	/* checked when a QueuePFN uses it */
		return 0;
	case MMIO_QUEUE_SEL:
		m->queue_sel = v;
		return 0;
	case MMIO_QUEUE_NOTIFY:
		/* 4.2.3.3 / 2.9: the value is the queue index
		 * (NOTIFICATION_DATA is not offered). */
		if (v >= vd->num_queues) {
			log_rl(LOG_WARN, "%s: QueueNotify of queue %u: no such queue", vd->name, v);
			return -EINVAL;
		}
		vdev_kick(vd, v);
		return 0;
	case MMIO_INTERRUPT_ACK:
		/* 4.2.2.1: bits stay set until the driver acknowledges them. */
		m->int_status &= ~v;
		return 0;
	case MMIO_STATUS:
		if (v > 0xff) {
			log_rl(LOG_WARN, "%s: Status 0x%x has bits above the 8-bit status; ignored",
			       vd->name, v);
			return 0;
		}
		if (v == 0)	/* 4.2.2.1: reset clears InterruptStatus too */
			transport_reset_state(m);
		vdev_set_status(vd, (uint8_t)v);
		return 0;
	default:
		break;
	}
	if (!queue_selected(m))
		return 0;	/* writes to an absent queue are ignored */
	switch (off) {
	case MMIO_QUEUE_NUM:
		/* Checked (power of two, <= QueueNumMax) when the queue is
		 * made ready; a value that does not fit 16 bits cannot pass. */
		vdev_queue_set_size(vd, qs, v > 0xffff ? 0xffff : (uint16_t)v);
		return 0;
	case MMIO_QUEUE_ALIGN:
		if (!vd->q[qs].enabled)
			m->queue_align[qs] = v;	/* checked at QueuePFN */
		return 0;
	case MMIO_QUEUE_PFN:
		queue_set_pfn(m, qs, v);
		return 0;
	case MMIO_QUEUE_READY:
		if (v == 1) {
			vdev_queue_enable(vd, qs);
		} else if (v == 0 && vd->q[qs].enabled) {
			/* 4.2.2.2 has the driver stop a queue this way; the
			 * vdev can only stop all of them (Status 0). */
			log_rl(LOG_WARN, "%s: queue %u: QueueReady 0 on a live queue ignored (reset the device to stop it)",
			       vd->name, qs);
		}
		return 0;
	case MMIO_QUEUE_DESC_LOW:
	case MMIO_QUEUE_DESC_HIGH:
	case MMIO_QUEUE_DRIVER_LOW:
	case MMIO_QUEUE_DRIVER_HIGH:
	case MMIO_QUEUE_DEVICE_LOW:
	case MMIO_QUEUE_DEVICE_HIGH:
		queue_addr_write(vd, qs, off, v);
		return 0;
	default:
		return 0;	/* SHMSel, QueueReset: nothing behind them */
	}
}

static int control_access(struct mmio *m, uint64_t off, void *buf, uint32_t len,
			  bool write)
{
	struct vdev *vd = m->t.vdev;
	const struct mmio_reg *r;
	uint8_t present = m->version == 1 ? REG_V1 : REG_V2;
	uint32_t v = 0;

	/* 4.2.2.2: control registers take 32-bit aligned accesses only. */
	r = len == 4 && !(off & 3) ? mmio_reg_at(off) : NULL;
	if (!r) {
		log_rl(LOG_WARN, "%s: mmio %s of %u bytes at 0x%llx: no such register",
		       vd->name, write ? "write" : "read", len, (unsigned long long)off);
		return -EINVAL;
	}
	if (write) {
		memcpy(&v, buf, sizeof(v));
		if (!(r->flags & REG_W) || !(r->flags & present))
			return 0;
		return reg_write(m, r->off, v);
	}
	if ((r->flags & REG_R) && (r->flags & present))
		v = reg_read(m, r->off);
	memcpy(buf, &v, sizeof(v));
	return 0;
}

static int config_access(struct mmio *m, uint64_t off, void *buf, uint32_t len,
			 bool write)
{
	struct vdev *vd = m->t.vdev;
	uint32_t coff = (uint32_t)(off - MMIO_CONFIG_OFF);

	/* 4.2.2.2: 8-, 16- and 32-bit accesses, naturally aligned. */
	if ((len != 1 && len != 2 && len != 4) || coff % len) {
		log_rl(LOG_WARN, "%s: device config %s of %u bytes at %u: bad width or alignment",
		       vd->name, write ? "write" : "read", len, coff);
		return -EINVAL;
	}
	if (write) {
		/* 5.1.4.2: the driver must not write the net config. */
		log_rl(LOG_WARN, "%s: driver wrote device config at %u; ignored", vd->name, coff);
		return 0;
	}
	return vdev_config_read(vd, coff, buf, len);
}

static int mmio_access(struct transport *t, uint32_t index, uint64_t off,
		       void *buf, uint32_t len, bool write)
{
	struct mmio *m = to_mmio(t);

	if (index != 0 || len == 0 || off >= MMIO_REGION_SIZE || len > MMIO_REGION_SIZE - off)
		return -EINVAL;
	if (off < MMIO_CONFIG_OFF) {
		if (len > MMIO_CONFIG_OFF - off)
			return -EINVAL;	/* straddles registers and config */
		return control_access(m, off, buf, len, write);
	}
	return config_access(m, off, buf, len, write);
}

/* ---- transport ops --------------------------------------------------- */

static int mmio_region_info(struct transport *t, uint32_t index, uint64_t *size,
			    uint32_t *flags)
{
	(void)t;
	if (index >= NUM_REGIONS)
		return -EINVAL;
	*size = MMIO_REGION_SIZE;
	*flags = TRANSPORT_REGION_READ | TRANSPORT_REGION_WRITE;
	return 0;
}

static int mmio_region_read(struct transport *t, uint32_t index, uint64_t off,
			    void *buf, uint32_t len)
{
	return mmio_access(t, index, off, buf, len, false);
}

static int mmio_region_write(struct transport *t, uint32_t index, uint64_t off,
			     const void *buf, uint32_t len)
{
	uint8_t tmp[4];

	/* Nothing in the window takes more than 4 bytes. */
	if (len > sizeof(tmp)) {
		log_rl(LOG_WARN, "%s: mmio write of %u bytes at 0x%llx: too wide",
		       t->vdev->name, len, (unsigned long long)off);
		return -EINVAL;
	}
	memcpy(tmp, buf, len);
	return mmio_access(t, index, off, tmp, len, true);
}

static int mmio_irq_info(struct transport *t, uint32_t index, uint32_t *count,
			 uint32_t *flags)
{
	(void)t;
	if (index >= NUM_IRQS)
		return -EINVAL;
	*count = 1;
	*flags = TRANSPORT_IRQ_EVENTFD | TRANSPORT_IRQ_MASKABLE | TRANSPORT_IRQ_AUTOMASKED;
	return 0;
}

/* One QueueNotify register for all queues: each doorbell matches its
 * queue index (a KVM-style DATAMATCH ioeventfd). */
static unsigned mmio_notify_areas(struct transport *t, uint32_t region,
				  struct transport_notify_area *out, unsigned max)
{
	unsigned n = 0;

	if (region != 0)
		return 0;
	for (unsigned q = 0; q < t->vdev->num_queues && n < max; q++, n++) {
		out[n].region = 0;
		out[n].offset = MMIO_QUEUE_NOTIFY;
		out[n].size = 4;
		out[n].has_datamatch = true;
		out[n].datamatch = q;
		out[n].fd = vdev_queue_kick_fd(t->vdev, q);
	}
	return n;
}

/* DEVICE_RESET or the client went away: the machine is reset, so the
 * version 1 GuestPageSize goes back to its default as well. */
static void mmio_reset(struct transport *t)
{
	struct mmio *m = to_mmio(t);

	transport_reset_state(m);
	m->guest_page_size = DEFAULT_PAGE;
	vdev_reset(t->vdev);
}

static void mmio_irqs_changed(struct transport *t, uint32_t index)
{
	if (index == MMIO_IRQ_LINE)
		line_update(to_mmio(t));
}

static bool mmio_raise(void *ctx, int q)
{
	struct mmio *m = to_mmio((struct transport *)ctx);

	if (q == VDEV_CONFIG_IRQ)
		m->int_status |= MMIO_INT_CONFIG;
	else if (q >= 0 && (unsigned)q < m->t.vdev->num_queues)
		m->int_status |= MMIO_INT_VRING;
	else
		return false;
	return line_update(m);
}

/* ---- migration ------------------------------------------------------- */

struct mmio_state {
	uint32_t version;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
	uint32_t int_status;
	uint32_t guest_page_size;
	uint32_t queue_align[VDEV_MAX_QUEUES];
	uint32_t queue_pfn[VDEV_MAX_QUEUES];
};
static_assert(sizeof(struct mmio_state) == 24 + 8 * VDEV_MAX_QUEUES, "MMIO state layout");

static void mmio_state_save(struct transport *t, struct state_out *o)
{
	const struct mmio *m = to_mmio(t);
	struct mmio_state s = {
		.version = m->version,
		.device_features_sel = m->device_features_sel,
		.driver_features_sel = m->driver_features_sel,
		.queue_sel = m->queue_sel,
		.int_status = m->int_status,
		.guest_page_size = m->guest_page_size,
	};

	memcpy(s.queue_align, m->queue_align, sizeof(s.queue_align));
	memcpy(s.queue_pfn, m->queue_pfn, sizeof(s.queue_pfn));
	state_put(o, STATE_REC_TRANSPORT, &s, sizeof(s));
}

/* The selectors and the version 1 read-back registers are plain values
 * (the queues' addresses are the model's); InterruptStatus has two bits
 * (4.2.2.1), and GuestPageSize is what queue_set_pfn checks anyway. */
static int mmio_state_load(struct transport *t, const uint8_t *data, uint32_t len, char *why,
			   size_t whylen)
{
	struct mmio *m = to_mmio(t);
	struct mmio_state s;

	if (len != sizeof(s)) {
		snprintf(why, whylen, "MMIO transport record of %u bytes; this version's is %zu", len,
			 sizeof(s));
		return -EINVAL;
	}
	memcpy(&s, data, sizeof(s));
	if (s.version != m->version) {
		snprintf(why, whylen, "MMIO transport record of version %u, this device is version %u",
			 s.version, m->version);
		return -EINVAL;
	}
	if (s.int_status & ~(uint32_t)(MMIO_INT_VRING | MMIO_INT_CONFIG)) {
		snprintf(why, whylen, "MMIO transport record: InterruptStatus 0x%x has undefined bits",
			 s.int_status);
		return -EINVAL;
	}
	m->device_features_sel = s.device_features_sel;
	m->driver_features_sel = s.driver_features_sel;
	m->queue_sel = s.queue_sel;
	m->int_status = s.int_status;
	m->guest_page_size = s.guest_page_size;
	memcpy(m->queue_align, s.queue_align, sizeof(m->queue_align));
	memcpy(m->queue_pfn, s.queue_pfn, sizeof(m->queue_pfn));
	return 0;
}

static void mmio_destroy(struct transport *t)
{
	free(to_mmio(t));
}

#define MMIO_OPS(opsname) {						\
	.name = opsname,						\
	.device_flags = TRANSPORT_DEV_PLATFORM | TRANSPORT_DEV_RESET,	\
	.num_regions = NUM_REGIONS,					\
	.num_irqs = NUM_IRQS,						\
	.region_info = mmio_region_info,				\
	.region_read = mmio_region_read,				\
	.region_write = mmio_region_write,				\
	.irq_info = mmio_irq_info,					\
	.notify_areas = mmio_notify_areas,				\
	.reset = mmio_reset,						\
	.irqs_changed = mmio_irqs_changed,				\
	.destroy = mmio_destroy,					\
	.state_save = mmio_state_save,					\
	.state_load = mmio_state_load,					\
}

static const struct transport_ops mmio_v2_ops = MMIO_OPS("mmio-v2");
static const struct transport_ops mmio_v1_ops = MMIO_OPS("mmio-v1");

int mmio_create(struct transport **out, struct vdev *vd)
{
	struct mmio *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->version = vd->legacy ? 1 : 2;
	m->t.ops = vd->legacy ? &mmio_v1_ops : &mmio_v2_ops;
	m->t.vdev = vd;
	m->t.irq = (struct vdev_irq){ mmio_raise, &m->t };
	transport_irqs_init(&m->t.irqs);
	transport_reset_state(m);
	m->guest_page_size = DEFAULT_PAGE;
	*out = &m->t;
	return 0;
}
