/* SPDX-License-Identifier: MIT */
/*
 * inflight.h - the device side's log of the chains it has taken and not
 * yet given back, in memory shared with a vhost-user frontend, so that a
 * device process that restarts (crash, kill, upgrade) can resubmit them
 * (QEMU docs/interop/vhost-user.rst, "Inflight I/O tracking";
 * VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD).  Split virtqueues only.
 *
 * The log is written by us and survives us; the frontend keeps it and
 * hands it back (SET_INFLIGHT_FD) to the next device process, which reads
 * it once, through checks, when the queue starts (vq_dev_set_inflight).
 * Whatever it says is hostile input: the frontend, or the dead process's
 * last half-written step, may have left anything in it.  Our trusted state
 * (the counter, the batch being used, the chains to resubmit) is private.
 *
 * Protocol (the spec's, per chain):
 *  - popped: desc[head].counter = next counter, then desc[head].inflight = 1;
 *  - pushed: desc[head].next = last_batch_head, last_batch_head = head;
 *  - flushed (the used index published): desc[head].inflight = 0 for the
 *    batch, then used_idx = the used index;
 *  - unpopped (given back unused): desc[head].inflight = 0.
 * A process killed between any two steps leaves a log the next one reads
 * right: a chain whose used entry was not published is still inflight and
 * is resubmitted; a batch whose used index was published but whose
 * inflight flags were not cleared is found (used_idx behind the ring's)
 * and cleared by following last_batch_head.
 *
 * What this guarantees: every chain the driver made available is either
 * used or taken again after a restart, none is lost.  A chain that was
 * processed (a frame already handed to the peer) but not yet used when
 * the process died is processed again: at least once, not exactly once.
 */
#ifndef VNET_RING_INFLIGHT_H
#define VNET_RING_INFLIGHT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* vhost-user.rst DescStateSplit: one per descriptor of the table. */
struct vq_inflight_desc {
	uint8_t inflight;	/* 1: taken and not used (head descriptors) */
	uint8_t padding[5];
	uint16_t next;		/* the last batch's list, towards older heads */
	uint64_t counter;	/* the order chains were taken in */
};

/* vhost-user.rst QueueRegionSplit: one per queue, back to back. */
struct vq_inflight_region {
	uint64_t features;	/* 0 */
	uint16_t version;	/* VQ_INFLIGHT_VERSION; 0: never used */
	uint16_t desc_num;	/* the queue size */
	uint16_t last_batch_head;
	uint16_t used_idx;	/* the used index when the batch was cleared */
	struct vq_inflight_desc desc[];
};

static_assert(sizeof(struct vq_inflight_desc) == 16, "DescStateSplit is 16 bytes");
static_assert(offsetof(struct vq_inflight_desc, next) == 6, "DescStateSplit.next");
static_assert(offsetof(struct vq_inflight_desc, counter) == 8, "DescStateSplit.counter");
static_assert(sizeof(struct vq_inflight_region) == 16, "QueueRegionSplit header");
static_assert(offsetof(struct vq_inflight_region, used_idx) == 14, "QueueRegionSplit.used_idx");

#define VQ_INFLIGHT_VERSION 1
/* Each queue's region starts 64-byte aligned (DPDK's and libvhost-user's
 * INFLIGHT_ALIGNMENT), so a frontend can hand the area from either back. */
#define VQ_INFLIGHT_ALIGN 64

/* Bytes of one queue's region for a queue of queue_size descriptors. */
static inline size_t vq_inflight_region_size(uint16_t queue_size)
{
	size_t n = sizeof(struct vq_inflight_region) +
		   (size_t)queue_size * sizeof(struct vq_inflight_desc);

	return (n + VQ_INFLIGHT_ALIGN - 1) & ~(size_t)(VQ_INFLIGHT_ALIGN - 1);
}

#endif /* VNET_RING_INFLIGHT_H */
