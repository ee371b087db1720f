/* SPDX-License-Identifier: MIT */
/*
 * vq_priv.h - what the public vq_* functions (vq.c) and the ring layouts
 * (split.c, packed.c) share.  vq.c checks the arguments and the
 * broken latch, then dispatches on the layout; the layout files only do
 * ring work, on a queue that is known ready, not broken and well formed.
 */
#ifndef VNET_RING_VQ_PRIV_H
#define VNET_RING_VQ_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ring/vq.h"

/* Driver-side counterpart of vq_dev_set_broken (the driver struct has no
 * public one: only vq_drv_get can find the device misbehaving). */
void vq_drv_set_broken(struct vq_drv *vq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sentinel ending the driver's private free list (sizes are <= 32768). */
#define VQ_FREE_END 0xffffu

/* ---- split ring, device side (split.c) ---- */
int split_dev_init(struct vq_dev *vq, const struct vq_addrs *a, bool keep);
int split_dev_pop(struct vq_dev *vq, struct vq_chain *ch,
		  enum vq_chain_kind kind);
void split_dev_unpop(struct vq_dev *vq);
void split_dev_push(struct vq_dev *vq, uint16_t id, uint32_t written);
bool split_dev_flush(struct vq_dev *vq);
bool split_dev_has_avail(struct vq_dev *vq);
bool split_dev_set_notify(struct vq_dev *vq, bool enable);

/* ---- split ring, driver side (split.c) ---- */
size_t split_drv_mem_size(const struct vq_drv_cfg *cfg);
int split_drv_init(struct vq_drv *vq, uint8_t *mem, uint64_t mem_gpa);
/* Zeroes the ring parts and forgets every index (after a device reset). */
void split_drv_reset_ring(struct vq_drv *vq);
int split_drv_add(struct vq_drv *vq, const struct vq_sg *sg, unsigned n_out,
		  unsigned n_in, void *token);
bool split_drv_kick_prepare(struct vq_drv *vq);
void *split_drv_get(struct vq_drv *vq, uint32_t *len);
void split_drv_disable_cb(struct vq_drv *vq);
bool split_drv_enable_cb(struct vq_drv *vq);
bool split_drv_has_used(struct vq_drv *vq);
/* Puts the descriptors of in-flight chain `head` back on the free list. */
void split_drv_release(struct vq_drv *vq, uint16_t head);

/* ---- packed ring, device side (packed.c) ---- */
int packed_dev_init(struct vq_dev *vq, const struct vq_addrs *a, bool keep);
int packed_dev_pop(struct vq_dev *vq, struct vq_chain *ch,
		   enum vq_chain_kind kind);
/* ndesc: the chain's ring slots, 1..size (checked by vq.c). */
void packed_dev_unpop(struct vq_dev *vq, uint16_t ndesc);
void packed_dev_push(struct vq_dev *vq, uint16_t id, uint16_t ndesc,
		     uint32_t written);
bool packed_dev_flush(struct vq_dev *vq);
bool packed_dev_has_avail(struct vq_dev *vq);
bool packed_dev_set_notify(struct vq_dev *vq, bool enable);

/* ---- packed ring, driver side (packed.c) ---- */
size_t packed_drv_mem_size(const struct vq_drv_cfg *cfg);
int packed_drv_init(struct vq_drv *vq, uint8_t *mem, uint64_t mem_gpa);
void packed_drv_reset_ring(struct vq_drv *vq);
int packed_drv_add(struct vq_drv *vq, const struct vq_sg *sg, unsigned n_out,
		   unsigned n_in, void *token);
bool packed_drv_kick_prepare(struct vq_drv *vq);
void *packed_drv_get(struct vq_drv *vq, uint32_t *len);
void packed_drv_disable_cb(struct vq_drv *vq);
bool packed_drv_enable_cb(struct vq_drv *vq);
bool packed_drv_has_used(struct vq_drv *vq);
/* Puts in-flight buffer id back on the free list with its ring slots. */
void packed_drv_release(struct vq_drv *vq, uint16_t id);

#endif /* VNET_RING_VQ_PRIV_H */
