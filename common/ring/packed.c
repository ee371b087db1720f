// SPDX-License-Identifier: MIT
/*
 * packed.c - packed virtqueues (virtio 1.2, 2.8), device side and driver
 * side, behind common/ring/vq.h as vq_packed_dev_ops and
 * vq_packed_drv_ops.  vq.c has already checked the arguments and the
 * broken latch before any function here runs; what split rings do the
 * same way (ring part checks, buffer checks, the driver's free list) is
 * in vq.c.
 *
 * One descriptor ring is written by both sides.  Whose turn a slot is
 * shows in two flag bits compared with each side's wrap counter (2.8.1):
 * available when AVAIL == the driver's counter and USED != it, used when
 * AVAIL == USED == the device's counter.  A position in the ring is a slot
 * (0 .. size-1) plus a wrap counter; size need not be a power of two
 * (2.8), so positions advance with an explicit wrap, never with a mask.
 *
 * Device side: the ring is written by a guest that may be hostile.  A
 * descriptor's flags are read once (acquire for the first of a chain,
 * 2.8.21.1.1), the rest of it once, and only those copies are used.  A
 * chain walk is bounded by the queue size and an indirect table by its
 * entry count; every guest address goes through gmem_translate with its
 * length.
 *
 * Driver side: nothing the driver wrote is read back; what a chain needs
 * later (ring slots taken, writable bytes, token) is kept per buffer id in
 * private memory (vq->extra, vq->next_free is the free list of ids).
 * From the device we read the used descriptor at last_used (flags with
 * acquire, then id and len, each checked) and the device event structure.
 *
 * Publication is batched on both sides the same way (2.8.6, 2.8.9): every
 * descriptor of a batch is written at once except the flags of the first
 * one, which kick_prepare (driver) or flush (device) stores last with
 * release.  The other side polls only the slot after the last one it
 * processed (2.8.2), so it sees the batch whole or not at all.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "common/barrier.h"
#include "common/ring/vq.h"
#include "common/ring/vq_priv.h"

static_assert(sizeof(struct virtq_packed_desc) == 16,
	      "packed ring and indirect tables hold 16-byte entries (2.8.13)");
static_assert(sizeof(struct virtq_packed_event) == 4,
	      "event suppression structure is 4 bytes (2.8.14)");
static_assert(VIRTQ_MAX_SIZE <= 0x8000, "event offsets are 15 bits (2.8.14)");

#define PACKED_DESC_ALIGN  16	/* 2.8.10.1 */
#define PACKED_EVENT_ALIGN 4
#define EVENT_WRAP_SHIFT   15	/* 2.8.14: desc_event_wrap is bit 15 */
#define EVENT_OFF_MASK	   0x7fffu

/* AVAIL and USED bits as the driver writes them for wrap counter w
 * (2.8.1): AVAIL = w, USED = !w. */
static uint16_t avail_bits(bool w)
{
	return w ? VIRTQ_PACKED_DESC_F_AVAIL : VIRTQ_PACKED_DESC_F_USED;
}

/* ... and as the device writes them: AVAIL = USED = w. */
static uint16_t used_bits(bool w)
{
	return w ? (VIRTQ_PACKED_DESC_F_AVAIL | VIRTQ_PACKED_DESC_F_USED) : 0;
}

static bool is_avail(uint16_t flags, bool w)
{
	return !!(flags & VIRTQ_PACKED_DESC_F_AVAIL) == w &&
	       !!(flags & VIRTQ_PACKED_DESC_F_USED) != w;
}

/* Used needs both bits equal to w: a slot may also hold an available
 * descriptor of the previous lap (the non-first slots of a list are never
 * overwritten by a used one), whose USED bit alone would match. */
static bool is_used(uint16_t flags, bool w)
{
	return !!(flags & VIRTQ_PACKED_DESC_F_AVAIL) == w &&
	       !!(flags & VIRTQ_PACKED_DESC_F_USED) == w;
}

/* Advances a ring position by n slots (n <= size), flipping the wrap
 * counter when it passes the end (2.8.1). */
static void advance(uint16_t size, uint16_t *slot, bool *wrap, uint16_t n)
{
	uint32_t s = (uint32_t)*slot + n;

	if (s >= size) {
		s -= size;
		*wrap = !*wrap;
	}
	*slot = (uint16_t)s;
}

static uint16_t event_off_wrap(uint16_t slot, bool wrap)
{
	return (uint16_t)(slot | (wrap ? 1u << EVENT_WRAP_SHIFT : 0));
}

/* The 4-byte event suppression structure as one atomic access, so the
 * other side never sees a new flags word with a stale offset. */
static struct virtq_packed_event load_event(struct virtq_packed_event *e)
{
	struct virtq_packed_event v;

	__atomic_load(e, &v, __ATOMIC_RELAXED);
	return v;
}

static void store_event(struct virtq_packed_event *e, struct virtq_packed_event v)
{
	__atomic_store(e, &v, __ATOMIC_RELAXED);
}

/* 2.8.10 / 2.8.14: a notification is due for the descriptor at event
 * (offset + wrap bit) if this side's position moved past it, going from
 * (old, old_wrap) to (new, new_wrap).  Positions are made linear relative
 * to the current lap (a slot of the previous lap counts size less), then
 * the split ring's wrapping test applies (virtq_need_event).  At most one
 * lap passes between two checks, since neither side can move further
 * than the other has released.  The one-bit wrap cannot tell the next lap
 * from the previous one; taking it as the previous one errs towards an
 * extra notification, never a lost one. */
static bool packed_need_event(uint16_t size, uint16_t event, uint16_t old,
			      bool old_wrap, uint16_t new, bool new_wrap)
{
	int32_t o = old, e = event & EVENT_OFF_MASK;

	if (old_wrap != new_wrap)
		o -= size;
	if (!!(event >> EVENT_WRAP_SHIFT) != new_wrap)
		e -= size;
	return virtq_need_event((uint16_t)e, new, (uint16_t)o);
}

/* Reads the other side's event suppression structure and decides.  DESC
 * without EVENT_IDX, and the reserved value 3, are not valid (2.8.14);
 * they get a notification, which is always safe. */
static bool want_notify(struct virtq_packed_event *ev, bool event_idx,
			uint16_t size, uint16_t old, bool old_wrap,
			uint16_t new, bool new_wrap)
{
	struct virtq_packed_event e = load_event(ev);

	switch (e.flags & 3u) {
	case VIRTQ_PACKED_EVENT_F_DISABLE:
		return false;
	case VIRTQ_PACKED_EVENT_F_DESC:
		if (event_idx)
			return packed_need_event(size, e.off_wrap, old, old_wrap,
						 new, new_wrap);
		return true;
	default:
		return true;
	}
}

/* ======================= device side ================================= */

/* The packed ring's rules that vq.c checks for it: ring part alignment
 * (2.8.10.1), device-readable before device-writable and no list longer
 * than the queue size (2.8.17), no nested table and no INDIRECT with NEXT
 * (2.8.19). */
static const struct vq_spec_refs packed_refs = {
	.slot = "ring slot",
	.part_align = "2.8.10.1",
	.chain_order = "2.8.17",
	.chain_len = "2.8.17",
	.indirect = "2.8.19",
};

static int packed_dev_init(struct vq_dev *vq, const struct vq_addrs *a, bool keep)
{
	struct virtq_packed_desc *desc;
	struct virtq_packed_event *drv_ev, *dev_ev;

	/* 2.8: up to 2^15 entries, any number (no power of 2). */
	if (vq->size == 0 || vq->size > VIRTQ_MAX_SIZE) {
		vq_dev_set_broken(vq, "bad queue size %u (need 1..%u for a packed ring)",
				  vq->size, VIRTQ_MAX_SIZE);
		return -EINVAL;
	}
	/* The device writes used descriptors into the descriptor ring. */
	desc = vq_dev_ring_part(vq, "descriptor ring", a->desc, PACKED_DESC_ALIGN,
				(size_t)vq->size * sizeof(*desc), true);
	if (!desc)
		return -EINVAL;
	drv_ev = vq_dev_ring_part(vq, "driver event suppression structure", a->driver,
				  PACKED_EVENT_ALIGN, sizeof(*drv_ev), false);
	if (!drv_ev)
		return -EINVAL;
	dev_ev = vq_dev_ring_part(vq, "device event suppression structure", a->device,
				  PACKED_EVENT_ALIGN, sizeof(*dev_ev), true);
	if (!dev_ev)
		return -EINVAL;

	vq->packed.desc = desc;
	vq->packed.driver = drv_ev;
	vq->packed.device = dev_ev;
	vq->dev_part[0] = desc;
	vq->dev_part_len[0] = (uint32_t)((size_t)vq->size * sizeof(*desc));
	vq->dev_part[1] = dev_ev;
	vq->dev_part_len[1] = sizeof(*dev_ev);
	if (!keep) {
		/* 2.8.1: both wrap counters start at 1; the driver zeroes
		 * the ring (2.8.13) and the event structures, so ENABLE. */
		vq->packed.last_avail = 0;
		vq->packed.avail_wrap = true;
		vq->packed.used_idx = 0;
		vq->packed.used_wrap = true;
		vq->packed.signalled_used = 0;
		vq->packed.signalled_wrap = true;
		vq->packed.notify_enabled = true;
		vq->packed.batch_pending = false;
		/* Matches no valid flags value: the first set_notify
		 * writes whatever the guest left there. */
		vq->packed.event_flags_shadow = 0xffff;
	}
	return 0;
}

/* Walks the indirect table that ring descriptor d points at (2.8.7).
 * Entries are consecutive, len / 16 of them; only WRITE is a valid flag
 * in them (2.8.19), NEXT is ignored as the device must, INDIRECT (a
 * nested table) is refused. */
static int pwalk_indirect(struct vq_dev *vq, struct vq_walk *w,
			  const struct virtq_packed_desc *d, enum vq_chain_kind kind,
			  struct vq_chain *ch)
{
	const uint8_t *table;
	uint32_t entries;

	/* 2.8.19: an indirect descriptor is never part of a NEXT list.
	 * (Checked after what vq_dev_enter_indirect reports first, so a
	 * descriptor wrong in several ways names the same fault as ever.) */
	if (w->pos != w->head && !(d->flags & VIRTQ_DESC_F_NEXT) &&
	    (vq->flags & VQ_F_INDIRECT)) {
		vq_dev_set_broken(vq, "ring slot %u is INDIRECT inside the NEXT list from slot %u (2.8.19)",
				  w->pos, w->head);
		return -EIO;
	}
	table = vq_dev_enter_indirect(vq, w, d->addr, d->len, d->flags, &entries);
	if (!table)
		return -EIO;
	for (; w->entry < entries; w->entry++) {
		struct virtq_packed_desc e;
		int rc;

		/* Any alignment: memcpy, then a compiler barrier so the copy
		 * is the only read (a rewrite meanwhile cannot split the
		 * value we check from the value we use). */
		memcpy(&e, table + (size_t)w->entry * sizeof(e), sizeof(e));
		atomic_signal_fence(memory_order_seq_cst);
		if ((e.flags & VIRTQ_DESC_F_INDIRECT) &&
		    !vq_dev_enter_indirect(vq, w, e.addr, e.len, e.flags, &entries))
			return -EIO;	/* nested: always refused */
		rc = vq_dev_take_buffer(vq, w, e.addr, e.len,
					e.flags & VIRTQ_DESC_F_WRITE, kind, ch);
		if (rc)
			return rc;
	}
	return 0;
}

/* Reads the chain at last_avail (2.8.6, 2.8.7).  1: *ch filled and
 * consumed; 0: the slot is not available; -ENOBUFS; -EIO. */
/* always_inline for the burst loop (vq_pop_burst_with); packed_dev_pop is
 * the table's single pop. */
static inline __attribute__((always_inline)) int
packed_pop(struct vq_dev *vq, struct vq_chain *ch, enum vq_chain_kind kind)
{
	uint16_t slot = vq->packed.last_avail;
	bool wrap = vq->packed.avail_wrap;
	struct vq_walk w = { .pos = slot, .head = slot };
	uint32_t ndesc = 0;
	uint16_t flags, id;

	/* 2.8.15, 2.8.21.1.1: the first descriptor's flags, with acquire:
	 * everything the driver wrote before them (the descriptor, the rest
	 * of the list, the buffers) is visible after. */
	flags = load_acquire(&vq->packed.desc[slot].flags);
	if (!is_avail(flags, wrap))
		return 0;
	for (;;) {
		struct virtq_packed_desc d;
		int rc;

		/* The ring has size slots: a list reaching further never
		 * ends (2.8.17: no list longer than the queue size). */
		if (++ndesc > vq->size) {
			vq_dev_set_broken(vq, "chain from ring slot %u never ends: NEXT set on all %u descriptors (2.8.17)",
					  w.head, vq->size);
			return -EIO;
		}
		w.pos = slot;
		if (ndesc > 1) {
			flags = READ_ONCE(vq->packed.desc[slot].flags);
			/* 2.8.6: every descriptor of a list carries the
			 * AVAIL/USED bits, not just the first. */
			if (!is_avail(flags, wrap)) {
				vq_dev_set_broken(vq, "ring slot %u continues the chain from slot %u but is not available (flags 0x%04x, 2.8.6)",
						  slot, w.head, flags);
				return -EIO;
			}
		}
		d.addr = READ_ONCE(vq->packed.desc[slot].addr);
		d.len = READ_ONCE(vq->packed.desc[slot].len);
		d.id = READ_ONCE(vq->packed.desc[slot].id);
		d.flags = flags;
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			rc = pwalk_indirect(vq, &w, &d, kind, ch);
			if (rc)
				return rc;
			id = d.id;
			break;
		}
		rc = vq_dev_take_buffer(vq, &w, d.addr, d.len,
					flags & VIRTQ_DESC_F_WRITE, kind, ch);
		if (rc)
			return rc;
		if (!(flags & VIRTQ_DESC_F_NEXT)) {
			/* 2.8.6: the buffer id is in the last descriptor. */
			id = d.id;
			break;
		}
		advance(vq->size, &slot, &wrap, 1);
	}
	/* A well-formed chain the caller has no room for stays available. */
	if (w.nbufs > ch->cap)
		return -ENOBUFS;
	ch->id = id;
	ch->ndesc = (uint16_t)ndesc;
	vq_walk_fill_chain(&w, ch);
	advance(vq->size, &vq->packed.last_avail, &vq->packed.avail_wrap,
		(uint16_t)ndesc);
	return 1;
}

static int packed_dev_pop(struct vq_dev *vq, struct vq_chain *ch, enum vq_chain_kind kind)
{
	return packed_pop(vq, ch, kind);
}

/* A ring position counts slots, so giving a chain back or returning it
 * used needs its slot count (ch->ndesc).  A chain that cannot have come
 * from pop is ignored. */
static bool chain_from_pop(const struct vq_dev *vq, const struct vq_chain *ch)
{
	return ch && ch->ndesc >= 1 && ch->ndesc <= vq->size;
}

/* Moves back over a chain's ndesc slots. */
static void packed_dev_unpop(struct vq_dev *vq, const struct vq_chain *ch)
{
	uint16_t slot = vq->packed.last_avail;
	uint16_t ndesc;

	if (!chain_from_pop(vq, ch))
		return;
	ndesc = ch->ndesc;

	if (slot >= ndesc) {
		vq->packed.last_avail = (uint16_t)(slot - ndesc);
	} else {
		vq->packed.last_avail = (uint16_t)(slot + vq->size - ndesc);
		vq->packed.avail_wrap = !vq->packed.avail_wrap;
	}
}

/* Writes one used descriptor at used_idx (2.8.6, 2.8.9, 2.8.22): buffer
 * id, length, AVAIL = USED = our wrap counter, WRITE when something was
 * written (2.8.3; the length is only meaningful then, 2.8.4).  Used
 * descriptors go in the order of completion, one per chain, each skipping
 * the slots of the chain it returns; the driver skips the same count,
 * which it keeps per buffer id.  The first of a batch keeps its flags
 * back for flush. */
static void packed_dev_push(struct vq_dev *vq, const struct vq_chain *ch,
			    uint32_t written)
{
	uint16_t slot = vq->packed.used_idx;
	struct virtq_packed_desc *d = &vq->packed.desc[slot];
	uint16_t flags = used_bits(vq->packed.used_wrap) |
			 (written ? VIRTQ_DESC_F_WRITE : 0);

	if (!chain_from_pop(vq, ch))
		return;
	/* 2.8.8: with IN_ORDER, chains used without a length (a transmit
	 * pass) share one used descriptor, the batch's first, which carries
	 * the last chain's id; the driver frees every chain up to it and
	 * skips their slots.  Only while that first descriptor is still
	 * unpublished (its flags wait for flush) may its id change. */
	if ((vq->flags & VQ_F_IN_ORDER) && !written && vq->packed.batch_pending &&
	    vq->packed.batch_collapsed) {
		WRITE_ONCE(vq->packed.desc[vq->packed.batch_head].id, ch->id);
		advance(vq->size, &vq->packed.used_idx, &vq->packed.used_wrap, ch->ndesc);
		return;
	}
	WRITE_ONCE(d->id, ch->id);
	WRITE_ONCE(d->len, written);
	if (vq->packed.batch_pending) {
		WRITE_ONCE(d->flags, flags);
		vq->packed.batch_collapsed = false;
	} else {
		vq->packed.batch_pending = true;
		vq->packed.batch_head = slot;
		vq->packed.batch_flags = flags;
		vq->packed.batch_collapsed = !written;
	}
	advance(vq->size, &vq->packed.used_idx, &vq->packed.used_wrap, ch->ndesc);
}

static bool packed_dev_flush(struct vq_dev *vq)
{
	bool need;

	if (!vq->packed.batch_pending)
		return false;
	/* 2.8.9, 2.8.22: the batch's first flags last, with release. */
	store_release(&vq->packed.desc[vq->packed.batch_head].flags,
		      vq->packed.batch_flags);
	vq->packed.batch_pending = false;
	/* Store->load: the driver re-enables used buffer notifications and
	 * then re-reads the used descriptor before it sleeps; we publish and
	 * then read its event structure.  A full barrier on both sides
	 * makes at least one of us see the other's store. */
	smp_mb();
	need = want_notify(vq->packed.driver, vq->flags & VQ_F_EVENT_IDX, vq->size,
			   vq->packed.signalled_used, vq->packed.signalled_wrap,
			   vq->packed.used_idx, vq->packed.used_wrap);
	vq->packed.signalled_used = vq->packed.used_idx;
	vq->packed.signalled_wrap = vq->packed.used_wrap;
	return vq_count_notify(&vq->stats, need);
}

static bool packed_dev_has_avail(struct vq_dev *vq)
{
	uint16_t flags = load_acquire(&vq->packed.desc[vq->packed.last_avail].flags);

	return is_avail(flags, vq->packed.avail_wrap);
}

/* 2.8.10, 2.8.14: the device event structure tells the driver whether to
 * send available buffer notifications; with EVENT_IDX, "from the
 * descriptor at last_avail on". */
static bool packed_dev_set_notify(struct vq_dev *vq, bool enable)
{
	struct virtq_packed_event ev = { 0, VIRTQ_PACKED_EVENT_F_DISABLE };

	vq->packed.notify_enabled = enable;
	if (enable && (vq->flags & VQ_F_EVENT_IDX)) {
		ev.off_wrap = event_off_wrap(vq->packed.last_avail,
					     vq->packed.avail_wrap);
		ev.flags = VIRTQ_PACKED_EVENT_F_DESC;
	} else if (enable) {
		ev.flags = VIRTQ_PACKED_EVENT_F_ENABLE;
	}
	/* DESC moves with last_avail: always written.  ENABLE / DISABLE
	 * only when they change, to keep the line clean under load. */
	if (ev.flags == VIRTQ_PACKED_EVENT_F_DESC ||
	    ev.flags != vq->packed.event_flags_shadow) {
		store_event(vq->packed.device, ev);
		vq->packed.event_flags_shadow = ev.flags;
	}
	if (!enable)
		return false;
	/* Store->load: our request must be visible before we look at the
	 * ring again, or a chain made available just before the driver read
	 * our old state would get neither a notification nor a poll. */
	smp_mb();
	return packed_dev_has_avail(vq);
}

/* vhost-user's ring position (vq.h): bits 0-14 the next avail slot, bit
 * 15 its wrap counter, bits 16-30 the next used slot, bit 31 its wrap
 * counter; an upper half of 0 means "same as avail". */
static int packed_dev_set_base(struct vq_dev *vq, uint32_t base)
{
	uint16_t avail = base & 0x7fff, used = (base >> 16) & 0x7fff;
	bool awrap = base & 0x8000, uwrap = base & 0x80000000u;

	if ((base >> 16) == 0) {
		used = avail;
		uwrap = awrap;
	}
	/* 2.8: slot indices are below the queue size. */
	if (avail >= vq->size || used >= vq->size)
		return -EINVAL;
	vq->packed.last_avail = avail;
	vq->packed.avail_wrap = awrap;
	vq->packed.used_idx = used;
	vq->packed.used_wrap = uwrap;
	vq->packed.signalled_used = used;
	vq->packed.signalled_wrap = uwrap;
	return 0;
}

static uint32_t packed_dev_get_base(const struct vq_dev *vq)
{
	return (uint32_t)vq->packed.last_avail | (vq->packed.avail_wrap ? 0x8000u : 0) |
	       ((uint32_t)vq->packed.used_idx << 16) | (vq->packed.used_wrap ? 0x80000000u : 0);
}

static int packed_dev_pop_burst(struct vq_dev *vq, struct vq_chain *ch, unsigned n,
			       struct vq_buf *pool, unsigned pool_cap,
			       enum vq_chain_kind kind)
{
	return vq_pop_burst_with(packed_pop, vq, ch, n, pool, pool_cap, kind);
}

static void packed_dev_push_burst(struct vq_dev *vq, const struct vq_chain *ch,
				unsigned n, const uint32_t *written)
{
	vq_push_burst_with(packed_dev_push, vq, ch, n, written);
}

const struct vq_dev_ops vq_packed_dev_ops = {
	.refs = &packed_refs,
	.init = packed_dev_init,
	.pop = packed_dev_pop,
	.pop_burst = packed_dev_pop_burst,
	.unpop = packed_dev_unpop,
	.push = packed_dev_push,
	.push_burst = packed_dev_push_burst,
	.flush = packed_dev_flush,
	.has_avail = packed_dev_has_avail,
	.set_notify = packed_dev_set_notify,
	.set_base = packed_dev_set_base,
	.get_base = packed_dev_get_base,
};

/* ======================= driver side ================================= */

/* Descriptor ring at 0 (16-aligned), then the driver and the device event
 * structures (4-aligned, 2.8.10.1); vq.c puts our indirect tables after
 * them, 16-aligned. */
static void packed_drv_place(const struct vq_drv_cfg *cfg, struct vq_drv_place *pl)
{
	pl->driver = (size_t)cfg->size * sizeof(struct virtq_packed_desc);
	pl->device = pl->driver + sizeof(struct virtq_packed_event);
	pl->end = pl->device + sizeof(struct virtq_packed_event);
	pl->gpa_align = PACKED_DESC_ALIGN;
}

static void packed_drv_attach(struct vq_drv *vq, const struct vq_drv_place *pl)
{
	vq->packed.desc = (struct virtq_packed_desc *)(void *)vq->mem;
	vq->packed.driver = (struct virtq_packed_event *)(void *)(vq->mem + pl->driver);
	vq->packed.device = (struct virtq_packed_event *)(void *)(vq->mem + pl->device);
}

/* 2.8.13: the descriptor ring starts zeroed (vq.c did); so do the event
 * structures (flags ENABLE). */
static void packed_drv_reset(struct vq_drv *vq)
{
	vq->packed.next_avail = 0;
	vq->packed.avail_wrap = true;	/* 2.8.1 */
	vq->packed.last_used = 0;
	vq->packed.used_wrap = true;
	vq->packed.kicked_next = 0;
	vq->packed.kicked_wrap = true;
	vq->packed.pending = false;
	vq->packed.event_shadow = (struct virtq_packed_event){ 0, VIRTQ_PACKED_EVENT_F_ENABLE };
}

static void put_desc(struct virtq_packed_desc *d, uint64_t addr, uint32_t len,
		     uint16_t id)
{
	WRITE_ONCE(d->addr, addr);
	WRITE_ONCE(d->len, len);
	WRITE_ONCE(d->id, id);
}

/* Writes the flags of a descriptor that is not the first of the batch;
 * the first one's are kept back for kick_prepare. */
static void put_flags(struct vq_drv *vq, uint16_t slot, uint16_t flags)
{
	if (vq->packed.pending) {
		WRITE_ONCE(vq->packed.desc[slot].flags, flags);
	} else {
		vq->packed.pending = true;
		vq->packed.pending_head = slot;
		vq->packed.pending_flags = flags;
	}
}

/* 2.8.21.1: the list's descriptors at next_avail on, each with the AVAIL
 * and USED bits of the wrap counter at its own slot (a list may cross the
 * end of the ring), the buffer id in every one (2.8.6 needs it in the
 * last), and the first one's flags written after the rest. */
static inline __attribute__((always_inline)) uint16_t
packed_add(struct vq_drv *vq, const struct vq_add *a)
{
	const struct vq_sg *sg = a->sg;
	unsigned n = a->n, n_out = a->n_out;
	uint16_t size = vq->cfg.size;
	uint16_t id, head, head_flags, slot;
	bool wrap;

	/* Ids come off their own free list (vq.c's): one per chain,
	 * unrelated to the slots it takes. */
	id = vq->free_head;
	head = slot = vq->packed.next_avail;
	wrap = vq->packed.avail_wrap;
	if (a->indirect) {
		size_t off = (size_t)id * vq->cfg.indirect_max *
			     sizeof(struct virtq_packed_desc);
		struct virtq_packed_desc *table =
			(struct virtq_packed_desc *)(void *)(vq->indirect + off);

		/* 2.8.7: consecutive entries, WRITE the only flag (2.8.19). */
		for (unsigned k = 0; k < n; k++) {
			table[k].addr = sg[k].gpa;
			table[k].len = sg[k].len;
			table[k].id = 0;
			table[k].flags = k >= n_out ? VIRTQ_DESC_F_WRITE : 0;
		}
		put_desc(&vq->packed.desc[slot], vq->indirect_gpa + off,
			 (uint32_t)(n * sizeof(struct virtq_packed_desc)), id);
		head_flags = VIRTQ_DESC_F_INDIRECT | avail_bits(wrap);
		advance(size, &slot, &wrap, 1);
	} else {
		head_flags = 0;
		for (unsigned k = 0; k < n; k++) {
			uint16_t f = avail_bits(wrap) |
				     (k >= n_out ? VIRTQ_DESC_F_WRITE : 0) |
				     (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0);

			put_desc(&vq->packed.desc[slot], sg[k].gpa, sg[k].len, id);
			if (k == 0)
				head_flags = f;
			else
				WRITE_ONCE(vq->packed.desc[slot].flags, f);
			advance(size, &slot, &wrap, 1);
		}
	}
	/* The head last: as the first of the batch it waits for
	 * kick_prepare; otherwise the batch's first flags still hide it,
	 * and the release there orders it with the rest. */
	put_flags(vq, head, head_flags);
	vq->packed.next_avail = slot;
	vq->packed.avail_wrap = wrap;
	return id;	/* the free-list entry the chain took */
}

/* The table's single add; the burst loop (vq_drv_add_burst_with) has
 * packed_add inlined.  A burst's chains after the first are exposed by
 * their own flags right away: the first chain's flags, held back by
 * put_flags until kick_prepare, still hide them all (2.8.21). */
static uint16_t packed_drv_add(struct vq_drv *vq, const struct vq_add *a)
{
	return packed_add(vq, a);
}

static int packed_drv_add_burst(struct vq_drv *vq, const struct vq_add *a, void *const *tokens,
				unsigned n)
{
	return vq_drv_add_burst_with(packed_add, vq, a, tokens, n);
}

static bool packed_drv_kick_prepare(struct vq_drv *vq)
{
	bool need;

	if (!vq->packed.pending)
		return false;
	/* 2.8.21.1.1: a barrier before the first flags expose the batch. */
	store_release(&vq->packed.desc[vq->packed.pending_head].flags,
		      vq->packed.pending_flags);
	vq->packed.pending = false;
	/* 2.8.21.3.1: store->load before reading the device event
	 * structure, the mirror of packed_dev_set_notify's barrier. */
	smp_mb();
	need = want_notify(vq->packed.device, vq->cfg.flags & VQ_F_EVENT_IDX,
			   vq->cfg.size, vq->packed.kicked_next,
			   vq->packed.kicked_wrap, vq->packed.next_avail,
			   vq->packed.avail_wrap);
	vq->packed.kicked_next = vq->packed.next_avail;
	vq->packed.kicked_wrap = vq->packed.avail_wrap;
	return vq_count_notify(&vq->stats, need);
}

/* 2.8.22: the used descriptor at last_used, checked, then skip the slots
 * of the chain it returns.  always_inline for the burst loop
 * (vq_drv_get_burst_with): a packed ring has no used index, each used
 * descriptor is published by its own flags, read with acquire (on x86 a
 * plain load). */
static inline __attribute__((always_inline)) void *
packed_get(struct vq_drv *vq, uint32_t *len)
{
	uint16_t slot = vq->packed.last_used;
	struct virtq_packed_desc *d = &vq->packed.desc[slot];
	uint16_t flags, id, ndesc;
	uint32_t written;
	void *token;

	/* An IN_ORDER batch's other chains have no used descriptor of their
	 * own: the device skipped their slots (2.8.8). */
	if (vq->batch) {
		token = vq_drv_batch_next(vq, len, &ndesc);
		advance(vq->cfg.size, &vq->packed.last_used, &vq->packed.used_wrap, ndesc);
		return token;
	}
	/* 2.8.1, 2.8.22: flags first, with acquire: id and len after. */
	flags = load_acquire(&d->flags);
	if (!is_used(flags, vq->packed.used_wrap))
		return NULL;
	id = READ_ONCE(d->id);
	written = READ_ONCE(d->len);
	/* 2.8.4: the length means something only with WRITE. */
	if (!(flags & VIRTQ_DESC_F_WRITE))
		written = 0;
	/* One used descriptor may stand for every chain in flight. */
	token = vq_drv_complete(vq, id, slot, written, len, &ndesc, vq->cfg.size);
	if (token)
		advance(vq->cfg.size, &vq->packed.last_used, &vq->packed.used_wrap, ndesc);
	return token;
}

static void *packed_drv_get(struct vq_drv *vq, uint32_t *len)
{
	return packed_get(vq, len);
}

static int packed_drv_get_burst(struct vq_drv *vq, void **tokens, uint32_t *lens, unsigned n)
{
	return vq_drv_get_burst_with(packed_get, vq, tokens, lens, n);
}

static bool packed_drv_has_used(struct vq_drv *vq)
{
	uint16_t flags = load_acquire(&vq->packed.desc[vq->packed.last_used].flags);

	return is_used(flags, vq->packed.used_wrap);
}

static void drv_event(struct vq_drv *vq, struct virtq_packed_event ev)
{
	struct virtq_packed_event *s = &vq->packed.event_shadow;

	if (ev.flags == s->flags && ev.off_wrap == s->off_wrap)
		return;
	store_event(vq->packed.driver, ev);
	*s = ev;
}

/* 2.8.10: DISABLE is valid with or without EVENT_IDX. */
static void packed_drv_disable_cb(struct vq_drv *vq)
{
	drv_event(vq, (struct virtq_packed_event){
		vq->packed.event_shadow.off_wrap, VIRTQ_PACKED_EVENT_F_DISABLE });
}

static bool packed_drv_enable_cb(struct vq_drv *vq)
{
	if (vq->cfg.flags & VQ_F_EVENT_IDX)	/* "once slot last_used is used" */
		drv_event(vq, (struct virtq_packed_event){
			event_off_wrap(vq->packed.last_used, vq->packed.used_wrap),
			VIRTQ_PACKED_EVENT_F_DESC });
	else
		drv_event(vq, (struct virtq_packed_event){
			0, VIRTQ_PACKED_EVENT_F_ENABLE });
	/* Store->load, mirror of the device's flush: our request must be
	 * visible before we look for used descriptors again, or one used
	 * just before the device read our old state would raise no
	 * notification and we would sleep on it. */
	smp_mb();
	return !packed_drv_has_used(vq);
}

const struct vq_drv_ops vq_packed_drv_ops = {
	.place = packed_drv_place,
	.attach = packed_drv_attach,
	.reset = packed_drv_reset,
	.add = packed_drv_add,
	.add_burst = packed_drv_add_burst,
	.kick_prepare = packed_drv_kick_prepare,
	.get = packed_drv_get,
	.get_burst = packed_drv_get_burst,
	.disable_cb = packed_drv_disable_cb,
	.enable_cb = packed_drv_enable_cb,
	.has_used = packed_drv_has_used,
};
