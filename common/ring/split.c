// SPDX-License-Identifier: MIT
/*
 * split.c - split virtqueues (virtio 1.2, 2.7), device side and driver
 * side, behind common/ring/vq.h.  vq.c has already checked the arguments
 * and the broken latch before any function here runs.
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
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/barrier.h"
#include "common/ring/vq.h"
#include "common/ring/vq_priv.h"

/* The two event words sit right after the rings (2.7.7, 2.7.10). */
static_assert(offsetof(struct virtq_avail, ring) == 4, "avail ring offset");
static_assert(offsetof(struct virtq_used, ring) == 4, "used ring offset");
static_assert(sizeof(struct virtq_desc) == 16, "indirect tables hold 16-byte entries");

/* ======================= device side ================================= */

/* A zero-length buffer still gets a valid pointer, so a caller's
 * memcpy(ptr, src, 0) is well defined; nothing is ever read or written
 * through it. */
static uint8_t empty_buffer[1];

/* Translates one ring part after checking its alignment (2.7, table
 * "Virtqueue Part") on both the guest address and the local mapping. */
static void *ring_part(struct vq_dev *vq, const char *name, uint64_t gpa,
		       size_t align, size_t bytes, bool write)
{
	void *p;

	if (gpa & (align - 1)) {
		vq_dev_set_broken(vq, "%s at 0x%" PRIx64 " is not %zu-byte aligned (2.7)",
				  name, gpa, align);
		return NULL;
	}
	p = gmem_translate(vq->gm, gpa, bytes, write);
	if (!p) {
		if (write && gmem_translate(vq->gm, gpa, bytes, false))
			vq_dev_set_broken(vq, "%s at 0x%" PRIx64 " (%zu bytes) is in guest memory the device may not write",
					  name, gpa, bytes);
		else
			vq_dev_set_broken(vq, "%s at 0x%" PRIx64 " (%zu bytes) is outside guest memory",
					  name, gpa, bytes);
		return NULL;
	}
	if ((uintptr_t)p & (align - 1)) {
		vq_dev_set_broken(vq, "%s at 0x%" PRIx64 " maps to a misaligned local address",
				  name, gpa);
		return NULL;
	}
	return p;
}

int split_dev_init(struct vq_dev *vq, const struct vq_addrs *a, bool keep)
{
	size_t q = vq->size;
	bool ev = vq->flags & VQ_F_EVENT_IDX;
	/* The event words are part of the extent only when negotiated. */
	size_t extra = ev ? sizeof(uint16_t) : 0;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;

	desc = ring_part(vq, "descriptor table", a->desc, VIRTQ_DESC_ALIGN,
			 virtq_desc_bytes(q), false);
	if (!desc)
		return -EINVAL;
	avail = ring_part(vq, "available ring", a->driver, VIRTQ_AVAIL_ALIGN,
			  sizeof(*avail) + 2 * q + extra, false);
	if (!avail)
		return -EINVAL;
	used = ring_part(vq, "used ring", a->device, VIRTQ_USED_ALIGN,
			 sizeof(*used) + sizeof(struct virtq_used_elem) * q + extra, true);
	if (!used)
		return -EINVAL;

	vq->split.desc = desc;
	vq->split.avail = avail;
	vq->split.used = used;
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

/* Where the chain walk is, for the reasons it gives. */
struct walk {
	const uint8_t *table;
	uint32_t entries;	/* entries in table */
	uint32_t i;		/* current entry */
	uint16_t via;		/* direct descriptor walked or pointing at table */
	bool indirect;
};

static const char *desc_name(char *buf, size_t n, const struct walk *w)
{
	if (w->indirect)
		snprintf(buf, n, "indirect entry %u of descriptor %u", w->i, w->via);
	else
		snprintf(buf, n, "descriptor %u", w->i);
	return buf;
}

/* Switches the walk into the indirect table that d points at (2.7.5.3). */
static int enter_indirect(struct vq_dev *vq, struct walk *w,
			  const struct virtq_desc *d)
{
	const uint8_t *table;

	if (!(vq->flags & VQ_F_INDIRECT)) {
		vq_dev_set_broken(vq, "descriptor %u is INDIRECT but VIRTIO_F_RING_INDIRECT_DESC was not negotiated",
				  w->i);
		return -EIO;
	}
	/* 2.7.5.3.1: no INDIRECT inside a table, no INDIRECT with NEXT. */
	if (w->indirect) {
		vq_dev_set_broken(vq, "nested indirect: entry %u of descriptor %u's table is INDIRECT",
				  w->i, w->via);
		return -EIO;
	}
	if (d->flags & VIRTQ_DESC_F_NEXT) {
		vq_dev_set_broken(vq, "descriptor %u has both INDIRECT and NEXT set (2.7.5.3.1)",
				  w->i);
		return -EIO;
	}
	if (d->len == 0 || d->len % sizeof(struct virtq_desc)) {
		vq_dev_set_broken(vq, "descriptor %u: indirect table length %u is not a non-zero multiple of 16",
				  w->i, d->len);
		return -EIO;
	}
	table = gmem_translate(vq->gm, d->addr, d->len, false);
	if (!table) {
		vq_dev_set_broken(vq, "descriptor %u: indirect table 0x%" PRIx64 " (%u bytes) is outside guest memory",
				  w->i, d->addr, d->len);
		return -EIO;
	}
	w->table = table;
	w->entries = d->len / sizeof(struct virtq_desc);
	w->via = (uint16_t)w->i;
	w->i = 0;
	w->indirect = true;
	return 0;
}

/* Checks direction (2.7.4 and the caller's chain kind) and translates
 * one buffer descriptor. */
static int take_buffer(struct vq_dev *vq, const struct walk *w,
		       const struct virtq_desc *d, enum vq_chain_kind kind,
		       uint16_t n_in, struct vq_buf *out)
{
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	char name[64];
	void *p;

	if (!writable && n_in) {
		vq_dev_set_broken(vq, "%s: device-readable buffer after a device-writable one (2.7.4)",
				  desc_name(name, sizeof(name), w));
		return -EIO;
	}
	if (writable && kind == VQ_CHAIN_READ_ONLY) {
		vq_dev_set_broken(vq, "%s is device-writable in a chain the device may only read",
				  desc_name(name, sizeof(name), w));
		return -EIO;
	}
	if (!writable && kind == VQ_CHAIN_WRITE_ONLY) {
		vq_dev_set_broken(vq, "%s is device-readable in a chain the device may only write",
				  desc_name(name, sizeof(name), w));
		return -EIO;
	}
	if (d->len == 0) {
		out->ptr = empty_buffer;
		out->len = 0;
		return 0;
	}
	if (d->addr + d->len < d->addr) {
		vq_dev_set_broken(vq, "%s: address 0x%" PRIx64 " + length %u overflows",
				  desc_name(name, sizeof(name), w), d->addr, d->len);
		return -EIO;
	}
	p = gmem_translate(vq->gm, d->addr, d->len, writable);
	if (!p) {
		if (writable && gmem_translate(vq->gm, d->addr, d->len, false))
			vq_dev_set_broken(vq, "%s: buffer 0x%" PRIx64 " (%u bytes) is in guest memory the device may not write",
					  desc_name(name, sizeof(name), w), d->addr, d->len);
		else
			vq_dev_set_broken(vq, "%s: buffer 0x%" PRIx64 " (%u bytes) is outside guest memory",
					  desc_name(name, sizeof(name), w), d->addr, d->len);
		return -EIO;
	}
	out->ptr = p;
	out->len = d->len;
	return 0;
}

/* Walks the chain starting at head (2.7.5), filling ch.  Bounded: at most
 * size descriptors in the descriptor table, at most `entries` in an
 * indirect table, at most size buffers in all. */
static int walk_chain(struct vq_dev *vq, uint16_t head, struct vq_chain *ch,
		      enum vq_chain_kind kind)
{
	struct walk w = {
		.table = (const uint8_t *)vq->split.desc,
		.entries = vq->size,
		.i = head,
		.via = head,
	};
	uint32_t direct = 0, in_table = 0, nbufs = 0;
	uint64_t out_len = 0, in_len = 0;
	uint16_t n_out = 0, n_in = 0;
	char name[64];

	for (;;) {
		struct virtq_desc d;
		struct vq_buf buf;
		int rc;

		read_desc(w.table, w.i, &d);
		/* Only size distinct descriptors exist, so visiting more
		 * than that means the next links go round in a circle
		 * (loops are forbidden, 2.7.5.2). */
		if (!w.indirect && ++direct > vq->size) {
			vq_dev_set_broken(vq, "descriptor chain from head %u loops (more than %u descriptors)",
					  head, vq->size);
			return -EIO;
		}
		if (w.indirect && ++in_table > w.entries) {
			vq_dev_set_broken(vq, "indirect table of descriptor %u loops (more than %u entries)",
					  w.via, w.entries);
			return -EIO;
		}
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			rc = enter_indirect(vq, &w, &d);
			if (rc)
				return rc;
			continue;
		}
		/* 2.7.5.3.1: no chain longer than the queue size. */
		if (++nbufs > vq->size) {
			vq_dev_set_broken(vq, "descriptor chain from head %u is longer than the queue size %u",
					  head, vq->size);
			return -EIO;
		}
		rc = take_buffer(vq, &w, &d, kind, n_in, &buf);
		if (rc)
			return rc;
		if (d.flags & VIRTQ_DESC_F_WRITE) {
			n_in++;
			in_len += d.len;
		} else {
			n_out++;
			out_len += d.len;
		}
		if (in_len > UINT32_MAX || out_len > UINT32_MAX) {
			vq_dev_set_broken(vq, "descriptor chain from head %u: total length overflows 32 bits",
					  head);
			return -EIO;
		}
		if (nbufs <= ch->cap)
			ch->bufs[nbufs - 1] = buf;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= w.entries) {
			vq_dev_set_broken(vq, "%s: next %u is beyond the %s (%u entries)",
					  desc_name(name, sizeof(name), &w), d.next,
					  w.indirect ? "indirect table" : "descriptor table",
					  w.entries);
			return -EIO;
		}
		w.i = d.next;
	}
	/* A well-formed chain the caller has no room for stays available. */
	if (nbufs > ch->cap)
		return -ENOBUFS;
	ch->id = head;
	ch->ndesc = (uint16_t)direct;
	ch->n_out = n_out;
	ch->n_in = n_in;
	ch->out_len = (uint32_t)out_len;
	ch->in_len = (uint32_t)in_len;
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

int split_dev_pop(struct vq_dev *vq, struct vq_chain *ch, enum vq_chain_kind kind)
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
	rc = walk_chain(vq, head, ch, kind);
	if (rc)
		return rc;
	vq->split.last_avail++;
	return 1;
}

void split_dev_unpop(struct vq_dev *vq)
{
	vq->split.last_avail--;
}

void split_dev_push(struct vq_dev *vq, uint16_t id, uint32_t written)
{
	struct virtq_used_elem *e =
		&vq->split.used->ring[vq->split.used_idx & (vq->size - 1)];

	WRITE_ONCE(e->id, id);
	WRITE_ONCE(e->len, written);
	vq->split.used_idx++;
}

bool split_dev_flush(struct vq_dev *vq)
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
	if (need)
		vq->stats.notify_needed++;
	else
		vq->stats.notify_suppressed++;
	return need;
}

bool split_dev_has_avail(struct vq_dev *vq)
{
	if (vq->split.last_avail != vq->split.avail_idx_shadow)
		return true;
	if (refresh_avail_idx(vq))
		return false;
	return vq->split.last_avail != vq->split.avail_idx_shadow;
}

bool split_dev_set_notify(struct vq_dev *vq, bool enable)
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

/* ======================= driver side ================================= */

struct split_layout {
	size_t avail;		/* offsets from the start of the block */
	size_t used;
	size_t indirect;
	size_t indirect_bytes;
	size_t total;
};

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* The legacy layout (2.7.2) for any used_align: descriptor table at 0,
 * avail ring (with used_event) right after it, used ring (with
 * avail_event) at the next used_align boundary.  Our indirect tables
 * follow, 16-aligned. */
static void split_layout(const struct vq_drv_cfg *cfg, struct split_layout *l)
{
	size_t q = cfg->size;
	bool indirect = (cfg->flags & VQ_F_INDIRECT) && cfg->indirect_max;

	l->avail = virtq_desc_bytes(q);
	l->used = align_up(l->avail + virtq_avail_bytes(q), cfg->used_align);
	l->indirect = align_up(l->used + virtq_used_bytes(q), VIRTQ_DESC_ALIGN);
	l->indirect_bytes = indirect ? q * cfg->indirect_max * sizeof(struct virtq_desc) : 0;
	l->total = l->indirect + l->indirect_bytes;
}

size_t split_drv_mem_size(const struct vq_drv_cfg *cfg)
{
	struct split_layout l;

	split_layout(cfg, &l);
	return l.total;
}

static void reset_free_list(struct vq_drv *vq)
{
	uint16_t q = vq->cfg.size;

	for (uint32_t i = 0; i < q; i++)
		vq->next_free[i] = (uint16_t)(i + 1 < q ? i + 1 : VQ_FREE_END);
	memset(vq->extra, 0, q * sizeof(*vq->extra));
	vq->free_head = 0;
	vq->num_free = q;
	vq->detach_pos = 0;
}

int split_drv_init(struct vq_drv *vq, uint8_t *mem, uint64_t mem_gpa)
{
	struct split_layout l;
	size_t q = vq->cfg.size;

	split_layout(&vq->cfg, &l);
	vq->mem = mem;
	vq->mem_gpa = mem_gpa;
	vq->addrs.desc = mem_gpa;
	vq->addrs.driver = mem_gpa + l.avail;
	vq->addrs.device = mem_gpa + l.used;
	vq->split.desc = (struct virtq_desc *)(void *)mem;
	vq->split.avail = (struct virtq_avail *)(void *)(mem + l.avail);
	vq->split.used = (struct virtq_used *)(void *)(mem + l.used);
	vq->split.used_event = &vq->split.avail->ring[q];
	vq->split.avail_event = (uint16_t *)(void *)&vq->split.used->ring[q];
	if (l.indirect_bytes) {
		vq->indirect = mem + l.indirect;
		vq->indirect_gpa = mem_gpa + l.indirect;
	}
	split_drv_reset_ring(vq);
	return 0;
}

void split_drv_reset_ring(struct vq_drv *vq)
{
	memset(vq->mem, 0, split_drv_mem_size(&vq->cfg));
	reset_free_list(vq);
	vq->split.avail_idx_shadow = 0;
	vq->split.avail_flags_shadow = 0;
	vq->split.kicked_avail = 0;
	vq->split.last_used = 0;
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

/* n descriptors taken off the free list, linked in free-list order. */
static uint16_t add_direct(struct vq_drv *vq, uint16_t head,
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

int split_drv_add(struct vq_drv *vq, const struct vq_sg *sg, unsigned n_out,
		  unsigned n_in, void *token)
{
	unsigned n = n_out + n_in;
	uint64_t in_len = 0;
	bool indirect;
	uint16_t head, last, need;
	struct vq_drv_extra *x;

	for (unsigned k = 0; k < n; k++) {
		if (sg[k].gpa + sg[k].len < sg[k].gpa)
			return -EINVAL;
		if (k >= n_out)
			in_len += sg[k].len;
	}
	if (in_len > UINT32_MAX)	/* the used length is 32 bits */
		return -EINVAL;
	indirect = vq->indirect && n > 1 && n <= vq->cfg.indirect_max;
	need = (uint16_t)(indirect ? 1 : n);
	if (vq->num_free < need)
		return -ENOSPC;

	head = vq->free_head;
	if (indirect)
		last = add_indirect(vq, head, sg, n_out, n);
	else
		last = add_direct(vq, head, sg, n_out, n);
	vq->free_head = vq->next_free[last];
	vq->num_free -= need;
	x = &vq->extra[head];
	x->token = token;
	x->ndesc = need;
	x->last = last;
	x->indirect = indirect;
	x->in_len = (uint32_t)in_len;

	/* 2.7.13.2: the head goes into the next ring slot; the index that
	 * publishes it is written by kick_prepare. */
	WRITE_ONCE(vq->split.avail->ring[vq->split.avail_idx_shadow & (vq->cfg.size - 1)],
		   head);
	vq->split.avail_idx_shadow++;
	return 0;
}

bool split_drv_kick_prepare(struct vq_drv *vq)
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
	if (need)
		vq->stats.notify_needed++;
	else
		vq->stats.notify_suppressed++;
	return need;
}

void split_drv_release(struct vq_drv *vq, uint16_t head)
{
	struct vq_drv_extra *x = &vq->extra[head];

	vq->next_free[x->last] = vq->free_head;
	vq->free_head = head;
	vq->num_free += x->ndesc;
	x->token = NULL;
}

void *split_drv_get(struct vq_drv *vq, uint32_t *len)
{
	uint16_t size = vq->cfg.size;
	uint16_t used_idx = load_acquire(&vq->split.used->idx);
	const struct virtq_used_elem *e;
	struct vq_drv_extra *x;
	uint32_t id, written;
	void *token;

	if ((uint16_t)(used_idx - vq->split.last_used) > size) {
		vq_drv_set_broken(vq, "used index jumped from %u to %u (queue size %u)",
				  vq->split.last_used, used_idx, size);
		return NULL;
	}
	if (used_idx == vq->split.last_used)
		return NULL;
	e = &vq->split.used->ring[vq->split.last_used & (size - 1)];
	id = READ_ONCE(e->id);
	written = READ_ONCE(e->len);
	if (id >= size) {
		vq_drv_set_broken(vq, "used id %u out of range (queue size %u)", id, size);
		return NULL;
	}
	x = &vq->extra[id];
	if (!x->token) {
		vq_drv_set_broken(vq, "used id %u is not in flight", id);
		return NULL;
	}
	if (written > x->in_len) {
		vq_drv_set_broken(vq, "used len %u for id %u is larger than its %u writable bytes",
				  written, id, x->in_len);
		return NULL;
	}
	token = x->token;
	split_drv_release(vq, (uint16_t)id);
	vq->split.last_used++;
	if (len)
		*len = written;
	return token;
}

void split_drv_disable_cb(struct vq_drv *vq)
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

bool split_drv_enable_cb(struct vq_drv *vq)
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

bool split_drv_has_used(struct vq_drv *vq)
{
	return load_acquire(&vq->split.used->idx) != vq->split.last_used;
}
