// SPDX-License-Identifier: MIT
/*
 * vq.c - the public virtqueue API: argument checks, the broken latch, and
 * one call per operation into the ring layout's operations table (split.c
 * 2.7, packed.c 2.8).  What both layouts need lives here once: placing
 * and checking ring parts, reading a chain's buffers, the driver's free
 * list and per-chain state.
 */
#include "common/ring/vq.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/ring/vq_priv.h"

/* The one place a layout is selected. */
static const struct {
	const struct vq_dev_ops *dev;
	const struct vq_drv_ops *drv;
} layouts[] = {
	[VQ_SPLIT] = { &vq_split_dev_ops, &vq_split_drv_ops },
	[VQ_PACKED] = { &vq_packed_dev_ops, &vq_packed_drv_ops },
};

static bool layout_known(enum vq_layout layout)
{
	return (unsigned)layout < sizeof(layouts) / sizeof(layouts[0]) &&
	       layouts[layout].dev;
}

static void __attribute__((format(printf, 2, 0)))
set_reason(char *reason, const char *fmt, va_list ap)
{
	vsnprintf(reason, VQ_REASON_LEN, fmt, ap);
}

/* ======================= device side ================================= */

void vq_dev_set_broken(struct vq_dev *vq, const char *fmt, ...)
{
	va_list ap;

	/* The first reason is the one that explains the failure; later
	 * ones are usually consequences of it. */
	if (vq->broken)
		return;
	va_start(ap, fmt);
	set_reason(vq->reason, fmt, ap);
	va_end(ap);
	vq->broken = true;
	log_rl(LOG_WARN, "virtqueue (device side, size %u) broken: %s",
	       vq->size, vq->reason);
}

int vq_dev_init(struct vq_dev *vq, enum vq_layout layout, uint16_t size,
		uint32_t flags, const struct vq_addrs *a, const struct gmem *gm)
{
	bool keep;
	int rc;

	if (!vq)
		return -EINVAL;
	/* Re-initialising a live queue of the same shape (the guest memory
	 * map changed under it) keeps its indices and its broken latch: only
	 * the ring translations are redone.  Anything else starts afresh. */
	keep = vq->ready && vq->layout == layout && vq->size == size;
	if (!keep) {
		vq_inflight_free(vq);
		memset(vq, 0, sizeof(*vq));
		vq->layout = layout;
		vq->size = size;
	}
	vq->flags = flags;
	vq->gm = gm;
	/* A hint of another map, or of this one before it changed, must not
	 * match by a chance equal generation. */
	memset(&vq->gm_hint, 0, sizeof(vq->gm_hint));
	vq->ready = false;

	if (!a || !gm) {
		vq_dev_set_broken(vq, "queue setup without ring addresses or guest memory");
		return -EINVAL;
	}
	if (!layout_known(layout)) {
		vq_dev_set_broken(vq, "unknown ring layout %d", (int)layout);
		return -EINVAL;
	}
	vq->ops = layouts[layout].dev;
	rc = vq->ops->init(vq, a, keep);
	if (rc)
		return rc;
	vq->ready = true;
	return 0;
}

int vq_dev_set_base(struct vq_dev *vq, uint32_t base)
{
	if (!vq->ready)
		return -EINVAL;
	return vq->ops->set_base(vq, base);
}

/* A queue never set up (or reset) is at position 0. */
uint32_t vq_dev_get_base(const struct vq_dev *vq)
{
	return vq->ops ? vq->ops->get_base(vq) : 0;
}

void vq_dev_reset(struct vq_dev *vq)
{
	if (!vq)
		return;
	vq_inflight_free(vq);
	memset(vq, 0, sizeof(*vq));
}

int vq_dev_pop(struct vq_dev *vq, struct vq_chain *ch, enum vq_chain_kind kind)
{
	if (vq->broken)
		return -EIO;
	if (!vq->ready)
		return 0;	/* a queue not set up has nothing available */
	if (!ch || (ch->cap && !ch->bufs))
		return -EINVAL;
	if (__builtin_expect(vq->inflight != NULL, 0))
		return vq_inflight_pop(vq, ch, kind);
	return vq->ops->pop(vq, ch, kind);
}

int vq_dev_pop_burst(struct vq_dev *vq, struct vq_chain *ch, unsigned n,
		     struct vq_buf *pool, unsigned pool_cap, enum vq_chain_kind kind)
{
	if (vq->broken)
		return -EIO;
	if (!vq->ready || n == 0)
		return 0;
	if (!ch || !pool || pool_cap == 0)
		return -EINVAL;
	/* An inflight log (vhost-user INFLIGHT_SHMFD): one branch a burst
	 * when there is none. */
	if (__builtin_expect(vq->inflight != NULL, 0))
		return vq_inflight_pop_burst(vq, ch, n, pool, pool_cap, kind);
	return vq->ops->pop_burst(vq, ch, n, pool, pool_cap, kind);
}

/* A dirty-page log learns the bytes a used element says the device wrote
 * (2.7.8.2: len is what was written into the chain's writable buffers),
 * so whoever filled the chain need not know about logs.  Only while a
 * log runs: the check is one load per push otherwise. */
static void log_chain_written(const struct vq_dev *vq, const struct vq_chain *ch,
			      uint32_t written)
{
	for (unsigned i = ch->n_out; i < (unsigned)ch->n_out + ch->n_in && written; i++) {
		uint32_t n = ch->bufs[i].len < written ? ch->bufs[i].len : written;

		gmem_log_write(vq->gm, ch->bufs[i].ptr, n);
		written -= n;
	}
}

void vq_dev_push_burst(struct vq_dev *vq, const struct vq_chain *ch, unsigned n,
		       const uint32_t *written)
{
	if (vq->broken || !vq->ready || !ch)
		return;
	if (__builtin_expect(vq->gm->log != NULL, 0) && written)
		for (unsigned k = 0; k < n; k++)
			log_chain_written(vq, &ch[k], written[k]);
	vq->ops->push_burst(vq, ch, n, written);
	if (__builtin_expect(vq->inflight != NULL, 0))
		vq_inflight_pushed(vq, ch, n);
}

void vq_dev_unpop(struct vq_dev *vq, const struct vq_chain *ch)
{
	if (vq->broken || !vq->ready)
		return;
	if (__builtin_expect(vq->inflight != NULL, 0))
		vq_inflight_unpop(vq, ch);
	else
		vq->ops->unpop(vq, ch);
}

void vq_dev_push(struct vq_dev *vq, const struct vq_chain *ch, uint32_t written)
{
	if (vq->broken || !vq->ready || !ch)
		return;
	if (__builtin_expect(vq->gm->log != NULL, 0) && written)
		log_chain_written(vq, ch, written);
	vq->ops->push(vq, ch, written);
	if (__builtin_expect(vq->inflight != NULL, 0))
		vq_inflight_pushed(vq, ch, 1);
}

/* A dirty-page log learns every ring part the device writes; coarse (the
 * whole part), and only while a log runs. */
static void log_dev_parts(const struct vq_dev *vq)
{
	if (__builtin_expect(vq->gm->log != NULL, 0))
		for (unsigned i = 0; i < 2; i++)
			gmem_log_write(vq->gm, vq->dev_part[i], vq->dev_part_len[i]);
}

bool vq_dev_flush(struct vq_dev *vq)
{
	bool need;

	if (vq->broken || !vq->ready)
		return false;
	need = vq->ops->flush(vq);
	/* After the used index is out: vhost-user.rst's order. */
	if (__builtin_expect(vq->inflight != NULL, 0))
		vq_inflight_flushed(vq);
	log_dev_parts(vq);
	return need;
}

/* A broken queue has nothing to offer: callers look at vq->broken. */
bool vq_dev_has_avail(struct vq_dev *vq)
{
	if (vq->broken || !vq->ready)
		return false;
	return vq->ops->has_avail(vq);
}

bool vq_dev_set_notify(struct vq_dev *vq, bool enable)
{
	bool late;

	if (vq->broken || !vq->ready)
		return false;
	late = vq->ops->set_notify(vq, enable);
	log_dev_parts(vq);
	return late;
}

/* Why guest range [addr, addr+len) did not translate: memory the device
 * may only read, for a write, or none at all. */
static void set_unmapped(struct vq_dev *vq, const char *name, const char *sep, uint64_t addr,
			 uint64_t len, bool write)
{
	if (write && gmem_translate(vq->gm, addr, len, false))
		vq_dev_set_broken(vq, "%s%s 0x%" PRIx64 " (%" PRIu64 " bytes) is in guest memory the device may not write",
				  name, sep, addr, len);
	else
		vq_dev_set_broken(vq, "%s%s 0x%" PRIx64 " (%" PRIu64 " bytes) is outside guest memory",
				  name, sep, addr, len);
}

/* ---- what both layouts' device sides share -------------------------- */

/* Alignment (split 2.7 table "Virtqueue Part", packed 2.8.10.1) on both
 * the guest address and the local mapping, then the whole extent inside
 * guest memory, writable where the device writes. */
void *vq_dev_ring_part(struct vq_dev *vq, const char *name, uint64_t gpa,
		       size_t align, size_t bytes, bool write)
{
	void *p;

	if (gpa & (align - 1)) {
		vq_dev_set_broken(vq, "%s at 0x%" PRIx64 " is not %zu-byte aligned (%s)",
				  name, gpa, align, vq->ops->refs->part_align);
		return NULL;
	}
	p = gmem_translate(vq->gm, gpa, bytes, write);
	if (!p) {
		set_unmapped(vq, name, " at", gpa, bytes, write);
		return NULL;
	}
	if ((uintptr_t)p & (align - 1)) {
		vq_dev_set_broken(vq, "%s at 0x%" PRIx64 " maps to a misaligned local address",
				  name, gpa);
		return NULL;
	}
	return p;
}

const char *vq_walk_name(const struct vq_dev *vq, const struct vq_walk *w,
			 char *buf, size_t n)
{
	const char *slot = vq->ops->refs->slot;

	if (w->indirect)
		snprintf(buf, n, "indirect entry %u of %s %u", w->entry, slot, w->pos);
	else
		snprintf(buf, n, "%s %u", slot, w->pos);
	return buf;
}

void vq_dev_buffer_broken(struct vq_dev *vq, const struct vq_walk *w,
			  enum vq_buf_fault fault, uint64_t addr, uint32_t len,
			  bool writable)
{
	char name[64];

	vq_walk_name(vq, w, name, sizeof(name));
	switch (fault) {
	case VQ_BUF_OK:
		break;
	case VQ_BUF_ORDER:
		vq_dev_set_broken(vq, "%s: device-readable buffer after a device-writable one (%s)",
				  name, vq->ops->refs->chain_order);
		break;
	case VQ_BUF_NOT_READABLE:
		vq_dev_set_broken(vq, "%s is device-writable in a chain the device may only read",
				  name);
		break;
	case VQ_BUF_NOT_WRITABLE:
		vq_dev_set_broken(vq, "%s is device-readable in a chain the device may only write",
				  name);
		break;
	case VQ_BUF_OVERFLOW:
		vq_dev_set_broken(vq, "%s: address 0x%" PRIx64 " + length %u overflows",
				  name, addr, len);
		break;
	case VQ_BUF_UNMAPPED:
		set_unmapped(vq, name, ": buffer", addr, len, writable);
		break;
	}
}

/* A zero-length buffer still gets a valid pointer, so a caller's
 * memcpy(ptr, src, 0) is well defined; nothing is ever read or written
 * through it. */
uint8_t vq_empty_buffer[1];

/* An indirect descriptor points at a table of 16-byte entries (split
 * 2.7.5.3, packed 2.8.7); the checks are the same for both layouts, only
 * the section each reason cites differs (ops->refs). */
const uint8_t *vq_dev_enter_indirect(struct vq_dev *vq, struct vq_walk *w,
				     uint64_t addr, uint32_t len, uint16_t flags,
				     uint32_t *entries)
{
	const struct vq_spec_refs *refs = vq->ops->refs;
	const uint8_t *table;

	if (!(vq->flags & VQ_F_INDIRECT)) {
		vq_dev_set_broken(vq, "%s %u is INDIRECT but VIRTIO_F_RING_INDIRECT_DESC was not negotiated",
				  refs->slot, w->pos);
		return NULL;
	}
	if (w->indirect) {
		vq_dev_set_broken(vq, "nested indirect: entry %u of %s %u's table is INDIRECT (%s)",
				  w->entry, refs->slot, w->pos, refs->indirect);
		return NULL;
	}
	if (flags & VIRTQ_DESC_F_NEXT) {
		vq_dev_set_broken(vq, "%s %u has both INDIRECT and NEXT set (%s)",
				  refs->slot, w->pos, refs->indirect);
		return NULL;
	}
	if (len == 0 || len % sizeof(struct virtq_desc)) {
		vq_dev_set_broken(vq, "%s %u: indirect table length %u is not a non-zero multiple of 16",
				  refs->slot, w->pos, len);
		return NULL;
	}
	if (addr + len < addr) {
		vq_dev_set_broken(vq, "%s %u: indirect table 0x%" PRIx64 " + length %u overflows",
				  refs->slot, w->pos, addr, len);
		return NULL;
	}
	table = gmem_translate(vq->gm, addr, len, false);
	if (!table) {
		vq_dev_set_broken(vq, "%s %u: indirect table 0x%" PRIx64 " (%u bytes) is outside guest memory",
				  refs->slot, w->pos, addr, len);
		return NULL;
	}
	*entries = len / sizeof(struct virtq_desc);
	w->indirect = true;
	w->entry = 0;
	return table;
}

/* ======================= driver side ================================= */

void vq_drv_set_broken(struct vq_drv *vq, const char *fmt, ...)
{
	va_list ap;

	if (vq->broken)
		return;
	va_start(ap, fmt);
	set_reason(vq->reason, fmt, ap);
	va_end(ap);
	vq->broken = true;
	log_rl(LOG_WARN, "virtqueue (driver side, size %u) broken: %s",
	       vq->cfg.size, vq->reason);
}

/* The layout's table for cfg, NULL for a configuration no layout takes
 * (2.7, 2.8: sizes up to 2^15; the layout adds its own rules). */
static const struct vq_drv_ops *drv_ops_for(const struct vq_drv_cfg *cfg)
{
	const struct vq_drv_ops *ops;

	if (!cfg || cfg->size == 0 || cfg->size > VIRTQ_MAX_SIZE ||
	    !layout_known(cfg->layout))
		return NULL;
	ops = layouts[cfg->layout].drv;
	return !ops->cfg_ok || ops->cfg_ok(cfg) ? ops : NULL;
}

/* Bytes of the indirect tables: indirect_max 16-byte entries per chain. */
static size_t indirect_bytes(const struct vq_drv_cfg *cfg)
{
	if (!(cfg->flags & VQ_F_INDIRECT) || !cfg->indirect_max)
		return 0;
	return (size_t)cfg->size * cfg->indirect_max * sizeof(struct virtq_desc);
}

/* Our indirect tables follow the ring parts, 16-aligned. */
static size_t indirect_offset(const struct vq_drv_place *pl)
{
	return vq_align_up(pl->end, VIRTQ_DESC_ALIGN);
}

static size_t block_bytes(const struct vq_drv_cfg *cfg, const struct vq_drv_place *pl)
{
	size_t ind = indirect_bytes(cfg);

	return ind ? indirect_offset(pl) + ind : pl->end;
}

size_t vq_drv_mem_size(const struct vq_drv_cfg *cfg)
{
	const struct vq_drv_ops *ops = drv_ops_for(cfg);
	struct vq_drv_place pl;

	if (!ops)
		return 0;
	ops->place(cfg, &pl);
	return block_bytes(cfg, &pl);
}

/* Zeroes the block and puts every descriptor (split) / buffer id
 * (packed) on the free list: the queue as vq_drv_init leaves it. */
static void drv_reset_ring(struct vq_drv *vq)
{
	uint16_t q = vq->cfg.size;

	memset(vq->mem, 0, vq_drv_mem_size(&vq->cfg));
	for (uint32_t i = 0; i < q; i++)
		vq->next_free[i] = (uint16_t)(i + 1 < q ? i + 1 : VQ_FREE_END);
	memset(vq->extra, 0, q * sizeof(*vq->extra));
	vq->free_head = 0;
	vq->free_tail = (uint16_t)(q - 1);
	vq->num_free = q;
	vq->detach_pos = 0;
	vq->in_order_oldest = 0;
	vq->batch = false;
	vq->ops->reset(vq);
}

int vq_drv_init(struct vq_drv *vq, const struct vq_drv_cfg *cfg, void *mem,
		uint64_t mem_gpa)
{
	const struct vq_drv_ops *ops = drv_ops_for(cfg);
	struct vq_drv_place pl;
	size_t bytes;

	if (!vq || !ops || !mem)
		return -EINVAL;
	ops->place(cfg, &pl);
	bytes = block_bytes(cfg, &pl);
	/* The used ring's alignment is a guest-physical property (legacy
	 * devices recompute it from the PFN), the descriptor table's 16 too
	 * (2.7, 2.8.10.1; the packed event structures follow the ring at a
	 * multiple of 16); locally we need 16 for aligned atomic access. */
	if ((mem_gpa & (pl.gpa_align - 1)) || ((uintptr_t)mem & (VIRTQ_DESC_ALIGN - 1)) ||
	    mem_gpa + bytes < mem_gpa)
		return -EINVAL;

	memset(vq, 0, sizeof(*vq));
	vq->cfg = *cfg;
	vq->ops = ops;
	vq->next_free = calloc(cfg->size, sizeof(*vq->next_free));
	vq->extra = calloc(cfg->size, sizeof(*vq->extra));
	if (!vq->next_free || !vq->extra) {
		vq_drv_free(vq);
		return -ENOMEM;
	}
	vq->mem = mem;
	vq->mem_gpa = mem_gpa;
	vq->addrs.desc = mem_gpa;
	vq->addrs.driver = mem_gpa + pl.driver;
	vq->addrs.device = mem_gpa + pl.device;
	if (indirect_bytes(cfg)) {
		vq->indirect = vq->mem + indirect_offset(&pl);
		vq->indirect_gpa = mem_gpa + indirect_offset(&pl);
	}
	ops->attach(vq, &pl);
	drv_reset_ring(vq);
	return 0;
}

void vq_drv_free(struct vq_drv *vq)
{
	if (!vq)
		return;
	free(vq->next_free);
	free(vq->extra);
	vq->next_free = NULL;
	vq->extra = NULL;
}

int vq_drv_add(struct vq_drv *vq, const struct vq_sg *sg, unsigned n_out,
	       unsigned n_in, void *token)
{
	struct vq_add a = { .sg = sg };
	uint16_t head;

	if (vq->broken)
		return -EIO;
	/* A NULL token could not be told apart from "nothing used". */
	if (!sg || !token || !vq_drv_shape(vq, n_out, n_in, &a) || !vq_drv_sg_ok(&a))
		return -EINVAL;
	/* Packed takes one buffer id per chain off the free list, and at
	 * least one slot: an id is always there when slots are. */
	if (vq->num_free < a.need)
		return -ENOSPC;
	head = vq->free_head;
	vq_drv_added(vq, &a, head, vq->ops->add(vq, &a), token);
	return 0;
}

int vq_drv_add_burst(struct vq_drv *vq, const struct vq_sg *sg, unsigned n_out,
		     unsigned n_in, void *const *tokens, unsigned n)
{
	struct vq_add a = { .sg = sg };

	if (vq->broken)
		return -EIO;
	if (n == 0)
		return 0;
	if (!sg || !tokens || !vq_drv_shape(vq, n_out, n_in, &a))
		return -EINVAL;
	return vq->ops->add_burst(vq, &a, tokens, n);
}

unsigned vq_drv_chain_slots(const struct vq_drv *vq, unsigned nbufs)
{
	return vq_drv_use_indirect(vq, nbufs) ? 1 : nbufs;
}

/* IN_ORDER: how many chains, oldest first, up to and including id (which
 * is in flight); 0 if the walk does not reach it within max. */
static uint32_t in_order_batch_size(const struct vq_drv *vq, uint16_t id, uint32_t max)
{
	uint16_t cur = vq->in_order_oldest;
	uint32_t n = 1;

	/* In flight chains sit one after another in ring order: each
	 * starts right after the last entry of the one before. */
	while (cur != id) {
		if (n >= max || n >= vq->cfg.size || !vq->extra[cur].token)
			return 0;
		cur = vq_drv_ring_next(vq, vq->extra[cur].last);
		n++;
	}
	return n;
}

void *vq_drv_batch_next(struct vq_drv *vq, uint32_t *len, uint16_t *ndesc)
{
	uint16_t id = vq->in_order_oldest;
	bool last = id == vq->batch_end;

	if (last)
		vq->batch = false;
	/* 2.7.9: only the batch's last buffer has a used element, and with
	 * it a length; the others were used without one. */
	return vq_drv_take(vq, id, last ? vq->batch_len : 0, len, ndesc);
}

void *vq_drv_batch_begin(struct vq_drv *vq, uint16_t id, uint16_t slot, uint32_t written,
			 uint32_t *len, uint16_t *ndesc, uint32_t max_batch)
{
	/* A batch may not claim more buffers than the device said it used
	 * (2.7.9, 2.8.8). */
	if (!in_order_batch_size(vq, id, max_batch)) {
		vq_drv_set_broken(vq, "used id %u at ring slot %u: an in-order batch from id %u longer than the %u buffers the device used",
				  id, slot, vq->in_order_oldest, max_batch);
		return NULL;
	}
	vq->batch = true;
	vq->batch_end = id;
	vq->batch_len = written;
	return vq_drv_batch_next(vq, len, ndesc);
}

bool vq_drv_kick_prepare(struct vq_drv *vq)
{
	if (vq->broken)
		return false;
	return vq->ops->kick_prepare(vq);
}

void *vq_drv_get(struct vq_drv *vq, uint32_t *len)
{
	if (vq->broken)
		return NULL;
	return vq->ops->get(vq, len);
}

int vq_drv_get_burst(struct vq_drv *vq, void **tokens, uint32_t *lens, unsigned n)
{
	if (vq->broken)
		return -EIO;
	if (n == 0)
		return 0;
	if (!tokens)
		return -EINVAL;
	return vq->ops->get_burst(vq, tokens, lens, n);
}

void vq_drv_disable_cb(struct vq_drv *vq)
{
	if (vq->broken)
		return;
	vq->ops->disable_cb(vq);
}

/* A broken queue has nothing pending; callers look at vq->broken. */
bool vq_drv_enable_cb(struct vq_drv *vq)
{
	if (vq->broken)
		return true;
	/* The rest of an IN_ORDER batch is pending too. */
	return vq->ops->enable_cb(vq) && !vq->batch;
}

bool vq_drv_has_used(struct vq_drv *vq)
{
	if (vq->broken)
		return false;
	return vq->batch || vq->ops->has_used(vq);
}

unsigned vq_drv_num_free(const struct vq_drv *vq)
{
	return vq->num_free;
}

/* Works on a broken queue too: that is exactly when a driver resets the
 * device and needs its buffers back. */
void *vq_drv_detach_unused(struct vq_drv *vq)
{
	if (!vq->extra)
		return NULL;
	/* extra[] is indexed by split head / packed buffer id. */
	for (; vq->detach_pos < vq->cfg.size; vq->detach_pos++) {
		void *token = vq->extra[vq->detach_pos].token;

		if (!token)
			continue;
		vq_drv_release(vq, (uint16_t)vq->detach_pos);
		vq->detach_pos++;
		return token;
	}
	/* Nothing left in flight: the queue is as vq_drv_init left it, ready
	 * to be handed to the (reset) device again. */
	drv_reset_ring(vq);
	return NULL;
}
