// SPDX-License-Identifier: MIT
/*
 * vq.c - the public virtqueue API: argument checks, the broken latch, and
 * one dispatch per call on the ring layout.  The ring work itself lives in
 * split.c (2.7) and packed.c (2.8).
 */
#include "common/ring/vq.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/ring/vq_priv.h"

/* ======================= device side ================================= */

static void __attribute__((format(printf, 2, 0)))
set_reason(char *reason, const char *fmt, va_list ap)
{
	vsnprintf(reason, VQ_REASON_LEN, fmt, ap);
}

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

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
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
		memset(vq, 0, sizeof(*vq));
		vq->layout = layout;
		vq->size = size;
	}
	vq->flags = flags;
	vq->gm = gm;
	vq->ready = false;

	if (!a || !gm) {
		vq_dev_set_broken(vq, "queue setup without ring addresses or guest memory");
		return -EINVAL;
	}
	switch (layout) {
	case VQ_SPLIT:
		/* 2.7: Queue Size is a power of 2, at most 32768. */
		if (!is_pow2(size) || size > VIRTQ_MAX_SIZE) {
			vq_dev_set_broken(vq, "bad queue size %u (need a power of 2 in 1..%u)",
					  size, VIRTQ_MAX_SIZE);
			return -EINVAL;
		}
		rc = split_dev_init(vq, a, keep);
		break;
	case VQ_PACKED:
		/* 2.8: up to 2^15 entries, any number (no power of 2). */
		if (size == 0 || size > VIRTQ_MAX_SIZE) {
			vq_dev_set_broken(vq, "bad queue size %u (need 1..%u for a packed ring)",
					  size, VIRTQ_MAX_SIZE);
			return -EINVAL;
		}
		rc = packed_dev_init(vq, a, keep);
		break;
	default:
		vq_dev_set_broken(vq, "unknown ring layout %d", (int)layout);
		return -EINVAL;
	}
	if (rc)
		return rc;
	vq->ready = true;
	return 0;
}

int vq_dev_set_base(struct vq_dev *vq, uint32_t base)
{
	if (!vq->ready)
		return -EINVAL;
	if (vq->layout == VQ_SPLIT) {
		uint16_t idx = (uint16_t)base;

		/* Free-running index (2.7.6); bits 16-31 are reserved. */
		vq->split.last_avail = idx;
		vq->split.avail_idx_shadow = idx;
		vq->split.used_idx = idx;
		vq->split.signalled_used = idx;
		return 0;
	} else {
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
}

uint32_t vq_dev_get_base(const struct vq_dev *vq)
{
	if (vq->layout == VQ_SPLIT)
		return vq->split.last_avail;
	return (uint32_t)vq->packed.last_avail | (vq->packed.avail_wrap ? 0x8000u : 0) |
	       ((uint32_t)vq->packed.used_idx << 16) | (vq->packed.used_wrap ? 0x80000000u : 0);
}

void vq_dev_reset(struct vq_dev *vq)
{
	if (vq)
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
	switch (vq->layout) {
	case VQ_SPLIT:
		return split_dev_pop(vq, ch, kind);
	case VQ_PACKED:
		return packed_dev_pop(vq, ch, kind);
	}
	return -ENOTSUP;
}

/* A ring position counts slots in a packed ring, so giving a chain back
 * needs its slot count (ch->ndesc); split rings give back one avail
 * entry.  A chain that cannot have come from pop is ignored. */
static bool chain_from_pop(const struct vq_dev *vq, const struct vq_chain *ch)
{
	return ch && ch->ndesc >= 1 && ch->ndesc <= vq->size;
}

void vq_dev_unpop(struct vq_dev *vq, const struct vq_chain *ch)
{
	if (vq->broken || !vq->ready)
		return;
	switch (vq->layout) {
	case VQ_SPLIT:
		split_dev_unpop(vq);
		return;
	case VQ_PACKED:
		if (chain_from_pop(vq, ch))
			packed_dev_unpop(vq, ch->ndesc);
		return;
	}
}

void vq_dev_push(struct vq_dev *vq, const struct vq_chain *ch, uint32_t written)
{
	if (vq->broken || !vq->ready || !ch)
		return;
	switch (vq->layout) {
	case VQ_SPLIT:
		split_dev_push(vq, ch->id, written);
		return;
	case VQ_PACKED:
		if (chain_from_pop(vq, ch))
			packed_dev_push(vq, ch->id, ch->ndesc, written);
		return;
	}
}

bool vq_dev_flush(struct vq_dev *vq)
{
	if (vq->broken || !vq->ready)
		return false;
	switch (vq->layout) {
	case VQ_SPLIT:
		return split_dev_flush(vq);
	case VQ_PACKED:
		return packed_dev_flush(vq);
	}
	return false;
}

/* A broken queue has nothing to offer: callers look at vq->broken. */
bool vq_dev_has_avail(struct vq_dev *vq)
{
	if (vq->broken || !vq->ready)
		return false;
	switch (vq->layout) {
	case VQ_SPLIT:
		return split_dev_has_avail(vq);
	case VQ_PACKED:
		return packed_dev_has_avail(vq);
	}
	return false;
}

bool vq_dev_set_notify(struct vq_dev *vq, bool enable)
{
	if (vq->broken || !vq->ready)
		return false;
	switch (vq->layout) {
	case VQ_SPLIT:
		return split_dev_set_notify(vq, enable);
	case VQ_PACKED:
		return packed_dev_set_notify(vq, enable);
	}
	return false;
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

/* Split: a power-of-two size (2.7); used_align 4 for 1.x, legacy passes
 * 4096 (2.7.2), and any power of two from 4 to 64 KiB lays out the same
 * way.  Packed: any size up to 2^15 (2.8); used_align does not apply. */
static bool drv_cfg_ok(const struct vq_drv_cfg *cfg)
{
	if (!cfg || cfg->size == 0 || cfg->size > VIRTQ_MAX_SIZE)
		return false;
	switch (cfg->layout) {
	case VQ_SPLIT:
		return is_pow2(cfg->size) && is_pow2(cfg->used_align) &&
		       cfg->used_align >= VIRTQ_USED_ALIGN &&
		       cfg->used_align <= 65536;
	case VQ_PACKED:
		return true;
	}
	return false;
}

size_t vq_drv_mem_size(const struct vq_drv_cfg *cfg)
{
	if (!drv_cfg_ok(cfg))
		return 0;
	switch (cfg->layout) {
	case VQ_SPLIT:
		return split_drv_mem_size(cfg);
	case VQ_PACKED:
		return packed_drv_mem_size(cfg);
	}
	return 0;
}

int vq_drv_init(struct vq_drv *vq, const struct vq_drv_cfg *cfg, void *mem,
		uint64_t mem_gpa)
{
	size_t bytes;
	uint32_t gpa_align;
	int rc;

	if (!vq || !drv_cfg_ok(cfg) || !mem)
		return -EINVAL;
	bytes = vq_drv_mem_size(cfg);
	/* The used ring's alignment is a guest-physical property (legacy
	 * devices recompute it from the PFN), the descriptor table's 16 too
	 * (2.7, 2.8.10.1; the packed event structures follow the ring at a
	 * multiple of 16); locally we need 16 for aligned atomic access. */
	gpa_align = cfg->layout == VQ_SPLIT && cfg->used_align > VIRTQ_DESC_ALIGN ?
		    cfg->used_align : VIRTQ_DESC_ALIGN;
	if ((mem_gpa & (gpa_align - 1)) || ((uintptr_t)mem & (VIRTQ_DESC_ALIGN - 1)) ||
	    mem_gpa + bytes < mem_gpa)
		return -EINVAL;

	memset(vq, 0, sizeof(*vq));
	vq->cfg = *cfg;
	vq->next_free = calloc(cfg->size, sizeof(*vq->next_free));
	vq->extra = calloc(cfg->size, sizeof(*vq->extra));
	if (!vq->next_free || !vq->extra) {
		vq_drv_free(vq);
		return -ENOMEM;
	}
	rc = cfg->layout == VQ_PACKED ? packed_drv_init(vq, mem, mem_gpa)
				      : split_drv_init(vq, mem, mem_gpa);
	if (rc)
		vq_drv_free(vq);
	return rc;
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
	if (vq->broken)
		return -EIO;
	/* A NULL token could not be told apart from "nothing used". */
	if (!sg || !token || n_out > vq->cfg.size || n_in > vq->cfg.size ||
	    n_out + n_in == 0 || n_out + n_in > vq->cfg.size)
		return -EINVAL;
	switch (vq->cfg.layout) {
	case VQ_SPLIT:
		return split_drv_add(vq, sg, n_out, n_in, token);
	case VQ_PACKED:
		return packed_drv_add(vq, sg, n_out, n_in, token);
	}
	return -ENOTSUP;
}

bool vq_drv_kick_prepare(struct vq_drv *vq)
{
	if (vq->broken)
		return false;
	switch (vq->cfg.layout) {
	case VQ_SPLIT:
		return split_drv_kick_prepare(vq);
	case VQ_PACKED:
		return packed_drv_kick_prepare(vq);
	}
	return false;
}

void *vq_drv_get(struct vq_drv *vq, uint32_t *len)
{
	if (vq->broken)
		return NULL;
	switch (vq->cfg.layout) {
	case VQ_SPLIT:
		return split_drv_get(vq, len);
	case VQ_PACKED:
		return packed_drv_get(vq, len);
	}
	return NULL;
}

void vq_drv_disable_cb(struct vq_drv *vq)
{
	if (vq->broken)
		return;
	switch (vq->cfg.layout) {
	case VQ_SPLIT:
		split_drv_disable_cb(vq);
		return;
	case VQ_PACKED:
		packed_drv_disable_cb(vq);
		return;
	}
}

/* A broken queue has nothing pending; callers look at vq->broken. */
bool vq_drv_enable_cb(struct vq_drv *vq)
{
	if (vq->broken)
		return true;
	switch (vq->cfg.layout) {
	case VQ_SPLIT:
		return split_drv_enable_cb(vq);
	case VQ_PACKED:
		return packed_drv_enable_cb(vq);
	}
	return true;
}

bool vq_drv_has_used(struct vq_drv *vq)
{
	if (vq->broken)
		return false;
	switch (vq->cfg.layout) {
	case VQ_SPLIT:
		return split_drv_has_used(vq);
	case VQ_PACKED:
		return packed_drv_has_used(vq);
	}
	return false;
}

unsigned vq_drv_num_free(const struct vq_drv *vq)
{
	return vq->num_free;
}

/* Works on a broken queue too: that is exactly when a driver resets the
 * device and needs its buffers back. */
void *vq_drv_detach_unused(struct vq_drv *vq)
{
	bool packed = vq->cfg.layout == VQ_PACKED;

	if (!vq->extra)
		return NULL;
	/* extra[] is indexed by split head / packed buffer id. */
	for (; vq->detach_pos < vq->cfg.size; vq->detach_pos++) {
		struct vq_drv_extra *x = &vq->extra[vq->detach_pos];
		void *token = x->token;

		if (!token)
			continue;
		if (packed)
			packed_drv_release(vq, (uint16_t)vq->detach_pos);
		else
			split_drv_release(vq, (uint16_t)vq->detach_pos);
		vq->detach_pos++;
		return token;
	}
	/* Nothing left in flight: the queue is as vq_drv_init left it, ready
	 * to be handed to the (reset) device again. */
	if (packed)
		packed_drv_reset_ring(vq);
	else
		split_drv_reset_ring(vq);
	return NULL;
}
