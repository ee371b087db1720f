// SPDX-License-Identifier: MIT
/*
 * split.c - split virtqueues (virtio 1.2, 2.7), device side and driver
 * side, behind common/ring/vq.h as vq_split_dev_ops and vq_split_drv_ops.
 * vq.c has already checked the arguments and the broken latch before any
 * function here runs; what packed rings do the same way (ring part
 * checks, buffer checks, the driver's free list) is in vq.c.
 *
 * Device side: everything in the ring is written by a guest that may be
 * hostile.  Each index, head, descriptor and used-event word is copied
 * into a local once, checked, and only the local is used.  Every walk is
 * bounded by the queue size (or the indirect table's entry count), and
 * every guest address goes through gmem_translate with its length.
 *
 * Driver side: the descriptor table and avail ring are ours but the
 * device maps them, so nothing is ever read back from them; what we need
 * later (chain length, last descriptor, writable bytes, token) is kept in
 * private memory (vq->extra, vq->next_free).  From the device's parts we
 * read only used->idx, the used elements, used->flags and avail_event,
 * and the used elements are checked before use.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "common/barrier.h"
#include "common/ring/vq.h"
#include "common/ring/vq_priv.h"

/* The two event words sit right after the rings (2.7.7, 2.7.10). */
static_assert(offsetof(struct virtq_avail, ring) == 4, "avail ring offset");
static_assert(offsetof(struct virtq_used, ring) == 4, "used ring offset");
static_assert(sizeof(struct virtq_desc) == 16, "indirect tables hold 16-byte entries");

/* ======================= device side ================================= */

/* The split ring's rules that vq.c checks for it: ring part alignment
 * (2.7, table "Virtqueue Part"), device-readable buffers before
 * device-writable ones (2.7.4), no chain longer than the queue size and
 * no INDIRECT inside a table or together with NEXT (2.7.5.3.1). */
static const struct vq_spec_refs split_refs = {
	.slot = "descriptor",
	.part_align = "2.7",
	.chain_order = "2.7.4",
	.chain_len = "2.7.5.3.1",
	.indirect = "2.7.5.3.1",
};

static int split_dev_init(struct vq_dev *vq, const struct vq_addrs *a, bool keep)
{
	size_t q = vq->size;
	bool ev = vq->flags & VQ_F_EVENT_IDX;
	/* The event words are part of the extent only when negotiated. */
	size_t extra = ev ? sizeof(uint16_t) : 0;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;

	/* 2.7: Queue Size is a power of 2, at most 32768. */
	if (!q || (q & (q - 1)) || q > VIRTQ_MAX_SIZE) {
		vq_dev_set_broken(vq, "bad queue size %zu (need a power of 2 in 1..%u)",
				  q, VIRTQ_MAX_SIZE);
		return -EINVAL;
	}
	desc = vq_dev_ring_part(vq, "descriptor table", a->desc, VIRTQ_DESC_ALIGN,
				virtq_desc_bytes(q), false);
	if (!desc)
		return -EINVAL;
	avail = vq_dev_ring_part(vq, "available ring", a->driver, VIRTQ_AVAIL_ALIGN,
				 sizeof(*avail) + 2 * q + extra, false);
	if (!avail)
		return -EINVAL;
	used = vq_dev_ring_part(vq, "used ring", a->device, VIRTQ_USED_ALIGN,
				sizeof(*used) + sizeof(struct virtq_used_elem) * q + extra, true);
	if (!used)
		return -EINVAL;

	vq->split.desc = desc;
	vq->split.avail = avail;
	vq->split.used = used;
	vq->dev_part[0] = used;
	vq->dev_part_len[0] = (uint32_t)(sizeof(*used) + sizeof(struct virtq_used_elem) * q + extra);
	vq->split.used_event = ev ? &avail->ring[q] : NULL;
	vq->split.avail_event = ev ? (uint16_t *)(void *)&used->ring[q] : NULL;
	if (!keep) {
		vq->split.last_avail = 0;
		vq->split.avail_idx_shadow = 0;
		vq->split.used_idx = 0;
		vq->split.signalled_used = 0;
		/* A fresh ring is zeroed by the driver: used->flags 0 and
		 * avail_event 0 mean "notify me". */
		vq->split.notify_enabled = true;
	}
	return 0;
}

/* One descriptor copied out of shared memory.  The table may be an
 * indirect one at any alignment, hence memcpy; the compiler barrier makes
 * sure the copy is the only read, so a guest rewriting the descriptor
 * meanwhile cannot make us check one value and use another. */
static void read_desc(const uint8_t *table, uint32_t i, struct virtq_desc *d)
{
	memcpy(d, table + (size_t)i * sizeof(*d), sizeof(*d));
	atomic_signal_fence(memory_order_seq_cst);
}

/* Walks the chain starting at head (2.7.5), whose first descriptor the
 * caller read into d, filling ch.  Bounded: at most size descriptors in
 * the descriptor table, at most `entries` in an indirect table, at most
 * size buffers in all (vq_dev_take_buffer).  Out of line: split_dev_pop
 * without it needs no stack frame for a one-descriptor chain. */
static int __attribute__((noinline))
walk_chain(struct vq_dev *vq, uint16_t head, struct virtq_desc d,
		      struct vq_chain *ch, enum vq_chain_kind kind)
{
	struct vq_walk w = { .pos = head, .head = head };
	const uint8_t *table = (const uint8_t *)vq->split.desc;
	uint32_t entries = vq->size, i;
	uint32_t direct = 0, in_table = 0;
	char name[64];

	for (;;) {
		int rc;

		/* Only size distinct descriptors exist, so visiting more
		 * than that means the next links go round in a circle
		 * (loops are forbidden, 2.7.5.2). */
		if (!w.indirect && ++direct > vq->size) {
			vq_dev_set_broken(vq, "descriptor chain from head %u loops (more than %u descriptors)",
					  head, vq->size);
			return -EIO;
		}
		if (w.indirect && ++in_table > entries) {
			vq_dev_set_broken(vq, "indirect table of descriptor %u loops (more than %u entries)",
					  w.pos, entries);
			return -EIO;
		}
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/* 2.7.5.3: the chain goes on in the table d points at. */
			table = vq_dev_enter_indirect(vq, &w, d.addr, d.len, d.flags,
						      &entries);
			if (!table)
				return -EIO;
			read_desc(table, 0, &d);
			continue;
		}
		rc = vq_dev_take_buffer(vq, &w, d.addr, d.len,
					d.flags & VIRTQ_DESC_F_WRITE, kind, ch);
		if (rc)
			return rc;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= entries) {
			vq_dev_set_broken(vq, "%s: next %u is beyond the %s (%u entries)",
					  vq_walk_name(vq, &w, name, sizeof(name)), d.next,
					  w.indirect ? "indirect table" : "descriptor table",
					  entries);
			return -EIO;
		}
		i = d.next;
		if (w.indirect)
			w.entry = i;
		else
			w.pos = i;
		read_desc(table, i, &d);
	}
	/* A well-formed chain the caller has no room for stays available. */
	if (w.nbufs > ch->cap)
		return -ENOBUFS;
	ch->id = head;
	ch->ndesc = (uint16_t)direct;
	vq_walk_fill_chain(&w, ch);
	return 0;
}

/* Reads avail->idx (acquire: the ring entries and descriptors the driver
 * wrote before it are visible after it, 2.7.13) and checks it: the driver
 * can never have more than size chains outstanding, and never moves the
 * index back (2.7.6.1), which shows up here as a huge distance. */
static int refresh_avail_idx(struct vq_dev *vq)
{
	uint16_t idx = load_acquire(&vq->split.avail->idx);

	if ((uint16_t)(idx - vq->split.last_avail) > vq->size) {
		vq_dev_set_broken(vq, "avail index jumped from %u to %u (queue size %u)",
				  vq->split.last_avail, idx, vq->size);
		return -EIO;
	}
	vq->split.avail_idx_shadow = idx;
	return 0;
}

/* The chain at head (< size) into ch: 0, -ENOBUFS or -EIO.  always_inline
 * for split_pop. */
static inline __attribute__((always_inline)) int
split_take(struct vq_dev *vq, uint16_t head, struct vq_chain *ch, enum vq_chain_kind kind)
{
	struct virtq_desc d;
	int rc;

	read_desc((const uint8_t *)vq->split.desc, head, &d);
	/* Most chains are one direct descriptor (a frame in one buffer,
	 * 5.1.6.6): take it without the walk, whose loop, length and total
	 * checks cannot fail for one buffer.  Its buffer gets the same
	 * checks as any (vq_dev_take_single). */
	if (!(d.flags & (VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_INDIRECT)) && ch->cap) {
		rc = vq_dev_take_single(vq, head, d.addr, d.len,
					d.flags & VIRTQ_DESC_F_WRITE, kind, ch);
		ch->id = head;
		ch->ndesc = 1;
	} else {
		rc = walk_chain(vq, head, d, ch, kind);
	}
	return rc;
}

/* always_inline for the burst loop (vq_pop_burst_with); split_dev_pop is
 * the table's single pop. */
static inline __attribute__((always_inline)) int
split_pop(struct vq_dev *vq, struct vq_chain *ch, enum vq_chain_kind kind)
{
	uint16_t slot, head;
	int rc;

	if (vq->split.last_avail == vq->split.avail_idx_shadow) {
		rc = refresh_avail_idx(vq);
		if (rc)
			return rc;
		if (vq->split.last_avail == vq->split.avail_idx_shadow)
			return 0;
	}
	slot = vq->split.last_avail & (vq->size - 1);
	head = READ_ONCE(vq->split.avail->ring[slot]);
	if (head >= vq->size) {
		vq_dev_set_broken(vq, "avail ring slot %u: head id %u >= queue size %u",
				  slot, head, vq->size);
		return -EIO;
	}
	rc = split_take(vq, head, ch, kind);
	if (rc)
		return rc;
	vq->split.last_avail++;
	return 1;
}

/* An inflight log's resubmission: the head comes from the log (checked
 * < size when it was read), the chain from the table as for any pop. */
static int split_dev_pop_head(struct vq_dev *vq, uint16_t head, struct vq_chain *ch,
			      enum vq_chain_kind kind)
{
	int rc = split_take(vq, head, ch, kind);

	return rc ? rc : 1;
}

static int split_dev_pop(struct vq_dev *vq, struct vq_chain *ch, enum vq_chain_kind kind)
{
	return split_pop(vq, ch, kind);
}

/* One avail entry back; the chain itself needs no counting. */
static void split_dev_unpop(struct vq_dev *vq, const struct vq_chain *ch)
{
	(void)ch;
	vq->split.last_avail--;
}

static void split_dev_push(struct vq_dev *vq, const struct vq_chain *ch,
			   uint32_t written)
{
	struct virtq_used_elem *e =
		&vq->split.used->ring[vq->split.used_idx & (vq->size - 1)];

	WRITE_ONCE(e->id, ch->id);
	WRITE_ONCE(e->len, written);
	vq->split.used_idx++;
}

static bool split_dev_flush(struct vq_dev *vq)
{
	uint16_t old = vq->split.signalled_used;
	uint16_t new = vq->split.used_idx;
	bool need;

	if (new == old)
		return false;
	/* 2.7.8: the used elements before the index. */
	store_release(&vq->split.used->idx, new);
	/* Store->load ordering: the driver re-enables interrupts (writes
	 * used_event or clears NO_INTERRUPT) and then re-reads used->idx
	 * before it sleeps.  We do the mirror image.  Without a full barrier
	 * our load below could be satisfied before our used->idx store is
	 * visible, so the driver sees the old index while we see its old
	 * "no interrupt" state, and both wait for each other. */
	smp_mb();
	if (vq->flags & VQ_F_EVENT_IDX)	/* 2.7.7.2 */
		need = virtq_need_event(READ_ONCE(*vq->split.used_event), new, old);
	else
		need = !(READ_ONCE(vq->split.avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	vq->split.signalled_used = new;
	return vq_count_notify(&vq->stats, need);
}

static bool split_dev_has_avail(struct vq_dev *vq)
{
	if (vq->split.last_avail != vq->split.avail_idx_shadow)
		return true;
	if (refresh_avail_idx(vq))
		return false;
	return vq->split.last_avail != vq->split.avail_idx_shadow;
}

static bool split_dev_set_notify(struct vq_dev *vq, bool enable)
{
	vq->split.notify_enabled = enable;
	if (vq->flags & VQ_F_EVENT_IDX) {
		/* 2.7.10: "kick me once you make entry last_avail available".
		 * Disabling needs no write: the old avail_event stays behind
		 * the driver's index, so it stops kicking by itself. */
		if (enable)
			WRITE_ONCE(*vq->split.avail_event, vq->split.last_avail);
	} else {
		WRITE_ONCE(vq->split.used->flags,
			   enable ? 0 : VIRTQ_USED_F_NO_NOTIFY);
	}
	if (!enable)
		return false;
	/* Store->load: our "notify me" must be visible before we look at
	 * avail->idx again, or a chain the driver published just before
	 * reading our old state would get neither a kick nor a poll
	 * (the mirror of vq_drv_kick_prepare's barrier). */
	smp_mb();
	return split_dev_has_avail(vq);
}

/* Free-running index (2.7.6); bits 16-31 are reserved.  Nothing is in
 * flight between stop and start, so the used index is the same. */
static int split_dev_set_base(struct vq_dev *vq, uint32_t base)
{
	uint16_t idx = (uint16_t)base;

	vq->split.last_avail = idx;
	vq->split.avail_idx_shadow = idx;
	vq->split.used_idx = idx;
	vq->split.signalled_used = idx;
	return 0;
}

static uint32_t split_dev_get_base(const struct vq_dev *vq)
{
	return vq->split.last_avail;
}

static int split_dev_pop_burst(struct vq_dev *vq, struct vq_chain *ch, unsigned n,
			       struct vq_buf *pool, unsigned pool_cap,
			       enum vq_chain_kind kind)
{
	return vq_pop_burst_with(split_pop, vq, ch, n, pool, pool_cap, kind);
}

static void split_dev_push_burst(struct vq_dev *vq, const struct vq_chain *ch,
				unsigned n, const uint32_t *written)
{
	vq_push_burst_with(split_dev_push, vq, ch, n, written);
}

const struct vq_dev_ops vq_split_dev_ops = {
	.refs = &split_refs,
	.init = split_dev_init,
	.pop = split_dev_pop,
	.pop_head = split_dev_pop_head,
	.pop_burst = split_dev_pop_burst,
	.unpop = split_dev_unpop,
	.push = split_dev_push,
	.push_burst = split_dev_push_burst,
	.flush = split_dev_flush,
	.has_avail = split_dev_has_avail,
	.set_notify = split_dev_set_notify,
	.set_base = split_dev_set_base,
	.get_base = split_dev_get_base,
};

/* ======================= driver side ================================= */

/* Split: a power-of-two size (2.7); used_align 4 for 1.x, legacy passes
 * 4096 (2.7.2), and any power of two from 4 to 64 KiB lays out the same
 * way. */
static bool split_drv_cfg_ok(const struct vq_drv_cfg *cfg)
{
	uint32_t q = cfg->size, ua = cfg->used_align;

	return !(q & (q - 1)) && ua && !(ua & (ua - 1)) &&
	       ua >= VIRTQ_USED_ALIGN && ua <= 65536;
}

/* The legacy layout (2.7.2) for any used_align: descriptor table at 0,
 * avail ring (with used_event) right after it, used ring (with
 * avail_event) at the next used_align boundary.  The block has always
 * been rounded to 16 after the used ring, so vq_drv_mem_size keeps that. */
static void split_drv_place(const struct vq_drv_cfg *cfg, struct vq_drv_place *pl)
{
	size_t q = cfg->size;

	pl->driver = virtq_desc_bytes(q);
	pl->device = vq_align_up(pl->driver + virtq_avail_bytes(q), cfg->used_align);
	pl->end = vq_align_up(pl->device + virtq_used_bytes(q), VIRTQ_DESC_ALIGN);
	/* Legacy devices find the used ring from the PFN (2.7.2). */
	pl->gpa_align = cfg->used_align > VIRTQ_DESC_ALIGN ? cfg->used_align
							  : VIRTQ_DESC_ALIGN;
}

static void split_drv_attach(struct vq_drv *vq, const struct vq_drv_place *pl)
{
	size_t q = vq->cfg.size;

	vq->split.desc = (struct virtq_desc *)(void *)vq->mem;
	vq->split.avail = (struct virtq_avail *)(void *)(vq->mem + pl->driver);
	vq->split.used = (struct virtq_used *)(void *)(vq->mem + pl->device);
	vq->split.used_event = &vq->split.avail->ring[q];
	vq->split.avail_event = (uint16_t *)(void *)&vq->split.used->ring[q];
}

static void split_drv_reset(struct vq_drv *vq)
{
	vq->split.avail_idx_shadow = 0;
	vq->split.avail_flags_shadow = 0;
	vq->split.kicked_avail = 0;
	vq->split.last_used = 0;
	vq->split.used_idx_shadow = 0;
}

static void fill_desc(struct virtq_desc *d, const struct vq_sg *sg, bool writable)
{
	d->addr = sg->gpa;
	d->len = sg->len;
	d->flags = writable ? VIRTQ_DESC_F_WRITE : 0;
	d->next = 0;
}

/* One descriptor in the ring pointing at head's own indirect table
 * (2.7.5.3), which holds the whole chain. */
static uint16_t add_indirect(struct vq_drv *vq, uint16_t head,
			     const struct vq_sg *sg, unsigned n_out, unsigned n)
{
	size_t off = (size_t)head * vq->cfg.indirect_max * sizeof(struct virtq_desc);
	struct virtq_desc *table = (struct virtq_desc *)(void *)(vq->indirect + off);
	struct virtq_desc *d = &vq->split.desc[head];

	for (unsigned k = 0; k < n; k++) {
		fill_desc(&table[k], &sg[k], k >= n_out);
		if (k + 1 < n) {
			table[k].flags |= VIRTQ_DESC_F_NEXT;
			table[k].next = (uint16_t)(k + 1);
		}
	}
	d->addr = vq->indirect_gpa + off;
	d->len = (uint32_t)(n * sizeof(struct virtq_desc));
	d->flags = VIRTQ_DESC_F_INDIRECT;
	d->next = 0;
	return head;
}

/* n descriptors taken off the free list, linked in free-list order.
 * Inline: most chains are one descriptor. */
static inline __attribute__((always_inline)) uint16_t add_direct(struct vq_drv *vq, uint16_t head,
			   const struct vq_sg *sg, unsigned n_out, unsigned n)
{
	uint16_t i = head, last = head;

	for (unsigned k = 0; k < n; k++) {
		struct virtq_desc *d = &vq->split.desc[i];

		fill_desc(d, &sg[k], k >= n_out);
		if (k + 1 < n) {
			d->flags |= VIRTQ_DESC_F_NEXT;
			d->next = vq->next_free[i];
		}
		last = i;
		i = vq->next_free[i];
	}
	return last;
}

/* Chain head is vq->free_head; vq.c found room and records it.
 * always_inline for the burst loop (vq_drv_add_burst_with);
 * split_drv_add is the table's single add. */
static inline __attribute__((always_inline)) uint16_t
split_add(struct vq_drv *vq, const struct vq_add *a)
{
	uint16_t head = vq->free_head, last;

	if (a->indirect)
		last = add_indirect(vq, head, a->sg, a->n_out, a->n);
	else
		last = add_direct(vq, head, a->sg, a->n_out, a->n);
	/* 2.7.13.2: the head goes into the next ring slot; the index that
	 * publishes it is written by kick_prepare. */
	WRITE_ONCE(vq->split.avail->ring[vq->split.avail_idx_shadow & (vq->cfg.size - 1)],
		   head);
	vq->split.avail_idx_shadow++;
	return last;
}

static uint16_t split_drv_add(struct vq_drv *vq, const struct vq_add *a)
{
	return split_add(vq, a);
}

static int split_drv_add_burst(struct vq_drv *vq, const struct vq_add *a, void *const *tokens,
			       unsigned n)
{
	return vq_drv_add_burst_with(split_add, vq, a, tokens, n);
}

static bool split_drv_kick_prepare(struct vq_drv *vq)
{
	uint16_t old = vq->split.kicked_avail;
	uint16_t new = vq->split.avail_idx_shadow;
	bool need;

	if (new == old)
		return false;
	/* 2.7.13.3: descriptors and ring entries before the index. */
	store_release(&vq->split.avail->idx, new);
	/* Store->load: the device re-enables notifications and then
	 * re-reads avail->idx before it sleeps; we publish avail->idx and
	 * then read its notification state.  A full barrier on both sides
	 * guarantees at least one of us sees the other's store. */
	smp_mb();
	if (vq->cfg.flags & VQ_F_EVENT_IDX)	/* 2.7.10.1 */
		need = virtq_need_event(READ_ONCE(*vq->split.avail_event), new, old);
	else
		need = !(READ_ONCE(vq->split.used->flags) & VIRTQ_USED_F_NO_NOTIFY);
	vq->split.kicked_avail = new;
	return vq_count_notify(&vq->stats, need);
}

/* Reads used->idx (acquire: the used elements the device wrote before
 * it are visible after it, 2.7.8) and checks it: the device can never
 * have used more than size chains we have not taken back.  0 or -EIO
 * (broken). */
static int refresh_used_idx(struct vq_drv *vq)
{
	uint16_t size = vq->cfg.size;
	uint16_t used_idx = load_acquire(&vq->split.used->idx);

	if ((uint16_t)(used_idx - vq->split.last_used) > size) {
		vq_drv_set_broken(vq, "used index jumped from %u to %u (queue size %u)",
				  vq->split.last_used, used_idx, size);
		return -EIO;
	}
	vq->split.used_idx_shadow = used_idx;
	return 0;
}

/* The used element at last_used, which the used index read last says
 * is there (last_used != used_idx_shadow).  always_inline for the burst
 * loop (vq_drv_get_burst_with). */
static inline __attribute__((always_inline)) void *
split_get_one(struct vq_drv *vq, uint32_t *len)
{
	uint16_t slot = vq->split.last_used & (vq->cfg.size - 1);
	const struct virtq_used_elem *e;
	uint32_t id, written;
	uint16_t ndesc;
	void *token;

	/* An IN_ORDER batch's other buffers have no used element of their
	 * own; the device moved the used index past them all (2.7.9). */
	if (vq->batch) {
		token = vq_drv_batch_next(vq, len, &ndesc);
		vq->split.last_used++;
		return token;
	}
	e = &vq->split.used->ring[slot];
	id = READ_ONCE(e->id);
	written = READ_ONCE(e->len);
	token = vq_drv_complete(vq, id, slot, written, len, &ndesc,
				(uint16_t)(vq->split.used_idx_shadow - vq->split.last_used));
	if (token)
		vq->split.last_used++;
	return token;
}

/* The used index is read again only once what it said is taken. */
static void *split_drv_get(struct vq_drv *vq, uint32_t *len)
{
	if (vq->split.last_used == vq->split.used_idx_shadow &&
	    (refresh_used_idx(vq) || vq->split.last_used == vq->split.used_idx_shadow))
		return NULL;
	return split_get_one(vq, len);
}

/* One read of the used index for the burst: at most what it says.  (A
 * pending IN_ORDER batch is inside it: the batch was checked against the
 * used index when it began.) */
static int split_drv_get_burst(struct vq_drv *vq, void **tokens, uint32_t *lens, unsigned n)
{
	uint16_t ready;

	if (refresh_used_idx(vq))
		return -EIO;
	ready = (uint16_t)(vq->split.used_idx_shadow - vq->split.last_used);
	return vq_drv_get_burst_with(split_get_one, vq, tokens, lens, n < ready ? n : ready);
}

static void split_drv_disable_cb(struct vq_drv *vq)
{
	if (vq->split.avail_flags_shadow & VIRTQ_AVAIL_F_NO_INTERRUPT)
		return;
	vq->split.avail_flags_shadow |= VIRTQ_AVAIL_F_NO_INTERRUPT;
	/* With EVENT_IDX the driver must leave avail->flags 0 (2.7.7.1):
	 * park used_event just behind what we consumed instead, which the
	 * device's used index (never behind ours) will not cross for
	 * another 65535 entries. */
	if (vq->cfg.flags & VQ_F_EVENT_IDX)
		WRITE_ONCE(*vq->split.used_event, (uint16_t)(vq->split.last_used - 1));
	else
		WRITE_ONCE(vq->split.avail->flags, vq->split.avail_flags_shadow);
}

static bool split_drv_has_used(struct vq_drv *vq)
{
	return load_acquire(&vq->split.used->idx) != vq->split.last_used;
}

static bool split_drv_enable_cb(struct vq_drv *vq)
{
	vq->split.avail_flags_shadow &= (uint16_t)~VIRTQ_AVAIL_F_NO_INTERRUPT;
	/* 2.7.7.1: "interrupt me once entry last_used is used". */
	if (vq->cfg.flags & VQ_F_EVENT_IDX)
		WRITE_ONCE(*vq->split.used_event, vq->split.last_used);
	else
		WRITE_ONCE(vq->split.avail->flags, vq->split.avail_flags_shadow);
	/* Store->load, mirror of the device's flush: our request must be
	 * visible before we re-read used->idx, or a buffer used just before
	 * the device read our old state would raise no interrupt and we
	 * would sleep on it. */
	smp_mb();
	return !split_drv_has_used(vq);
}

const struct vq_drv_ops vq_split_drv_ops = {
	.cfg_ok = split_drv_cfg_ok,
	.place = split_drv_place,
	.attach = split_drv_attach,
	.reset = split_drv_reset,
	.add = split_drv_add,
	.add_burst = split_drv_add_burst,
	.kick_prepare = split_drv_kick_prepare,
	.get = split_drv_get,
	.get_burst = split_drv_get_burst,
	.disable_cb = split_drv_disable_cb,
	.enable_cb = split_drv_enable_cb,
	.has_used = split_drv_has_used,
};
