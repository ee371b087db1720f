/* SPDX-License-Identifier: MIT */
/*
 * vq.h - one virtqueue API, driver side and device side, with the ring
 * layouts (split 2.7, packed 2.8) behind it.
 *
 * Rules every implementation keeps (docs/ARCHITECTURE.md "Folders and the rules", Linux virtio_ring.c):
 *  - Trusted state lives in this struct (private memory).  Whatever the
 *    other side can write (descriptors, indices, ids, lengths, flags) is
 *    read once into a local, checked, and never re-read.
 *  - Malformed ring contents latch the queue "broken" with a reason; every
 *    later call fails fast with -EIO.  Nothing aborts, nothing loops without
 *    bound, nothing is read or written outside the translated ring parts
 *    and buffers.
 *  - Indices are 16-bit and wrap; comparisons use wrapping arithmetic.
 *  - One queue is used by one thread at a time (callers serialise).
 */
#ifndef VNET_RING_VQ_H
#define VNET_RING_VQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../gmem.h"
#include "../virtio.h"

enum vq_layout { VQ_SPLIT = 0, VQ_PACKED = 1 };

/* Negotiated ring features (subset of the virtio feature bits). */
#define VQ_F_EVENT_IDX	0x1u	/* VIRTIO_F_RING_EVENT_IDX */
#define VQ_F_INDIRECT	0x2u	/* VIRTIO_F_RING_INDIRECT_DESC */
#define VQ_F_IN_ORDER	0x4u	/* VIRTIO_F_IN_ORDER: buffers are used in
				 * the order they were made available
				 * (2.7.9 split, 2.8.8 packed) */

#define VQ_REASON_LEN 160

/* Guest-physical addresses of the three ring parts (2.6): for split the
 * descriptor table, available ring and used ring; for packed the
 * descriptor ring, driver event and device event structures. */
struct vq_addrs {
	uint64_t desc;
	uint64_t driver;
	uint64_t device;
};

/* Counters kept by both sides; the two-process test and the device's
 * statistics read them. */
struct vq_stats {
	uint64_t notify_needed;		/* kick_prepare/flush said "signal" */
	uint64_t notify_suppressed;	/* ...and said "no need" */
};

/* ======================= device side ================================= */

/* One guest buffer of a chain, translated and bounds-checked. */
struct vq_buf {
	uint8_t *ptr;
	uint32_t len;
};

/* What a chain is allowed to contain (2.7.4: device-readable elements
 * come before device-writable ones in every chain). */
enum vq_chain_kind {
	VQ_CHAIN_ANY = 0,
	VQ_CHAIN_READ_ONLY,	/* e.g. net TX: a writable buffer is an error */
	VQ_CHAIN_WRITE_ONLY,	/* e.g. net RX: a readable buffer is an error */
};

struct vq_chain {
	uint16_t id;		/* head id / buffer id, for vq_dev_push */
	uint16_t ndesc;		/* ring slots the chain took (packed) */
	uint16_t n_out;		/* bufs[0 .. n_out) are device-readable */
	uint16_t n_in;		/* bufs[n_out .. n_out+n_in) device-writable */
	uint32_t out_len;	/* sum of readable lengths */
	uint32_t in_len;	/* sum of writable lengths */
	struct vq_buf *bufs;	/* caller-provided storage ... */
	uint16_t cap;		/* ... of this many entries */
};

struct vq_dev_ops;
struct vq_drv_ops;
struct vq_inflight;

struct vq_dev {
	enum vq_layout layout;
	const struct vq_dev_ops *ops;	/* the layout's, chosen by vq_dev_init */
	uint16_t size;
	uint32_t flags;			/* VQ_F_* */
	const struct gmem *gm;
	/* The window the last buffer was in (vq_buffer_check): private,
	 * revalidated against gm's generation, cleared by vq_dev_init. */
	struct gmem_hint gm_hint;
	bool ready;
	bool broken;
	char reason[VQ_REASON_LEN];
	struct vq_stats stats;
	/* The ring parts the device writes (split: the used ring; packed:
	 * the descriptor ring and the device event structure), for a dirty-
	 * page log (gmem_log_write) on flush and set_notify. */
	void *dev_part[2];
	uint32_t dev_part_len[2];
	/* The inflight log (inflight.h, vhost-user INFLIGHT_SHMFD) and our
	 * private state for it; NULL without one, which is all the pops,
	 * pushes and flushes look at. */
	struct vq_inflight *inflight;
	union {
		struct {
			struct virtq_desc *desc;
			struct virtq_avail *avail;
			struct virtq_used *used;
			uint16_t *used_event;	/* avail->ring[size] */
			uint16_t *avail_event;	/* used->ring[size] */
			uint16_t last_avail;	/* next avail slot to read */
			uint16_t avail_idx_shadow; /* last avail->idx read, checked */
			uint16_t used_idx;	/* next used slot to fill (private) */
			uint16_t signalled_used; /* used idx at last flush */
			bool notify_enabled;
		} split;
		struct {
			struct virtq_packed_desc *desc;
			struct virtq_packed_event *driver; /* written by driver */
			struct virtq_packed_event *device; /* written by us */
			uint16_t last_avail;	/* next ring slot to read */
			bool avail_wrap;	/* our avail wrap counter (2.8.1) */
			uint16_t used_idx;	/* next ring slot to write used */
			bool used_wrap;		/* Device Ring Wrap Counter */
			uint16_t signalled_used; /* used position at last flush */
			bool signalled_wrap;
			bool notify_enabled;
			/* Pushed but unpublished used descriptors start at
			 * batch_head; its flags are stored last, by flush. */
			bool batch_pending;
			uint16_t batch_head;
			uint16_t batch_flags;
			uint16_t event_flags_shadow; /* last device->flags written */
			/* IN_ORDER: every chain pushed since batch_head was
			 * used with length 0, so the batch is one used
			 * descriptor at batch_head carrying the last id. */
			bool batch_collapsed;
		} packed;
	};
};

/* Translates and checks the ring parts (alignment 2.7 table / 2.8.10.1,
 * whole extent inside guest memory, size a power of two for split and
 * <= VIRTQ_MAX_SIZE).  On failure returns -EINVAL and fills vq->reason.
 * May be called again after the guest memory map changed. */
int vq_dev_init(struct vq_dev *vq, enum vq_layout layout, uint16_t size,
		uint32_t flags, const struct vq_addrs *a, const struct gmem *gm);
/* Forget the queue (device reset). */
void vq_dev_reset(struct vq_dev *vq);

/* Takes the next available chain.  1: *ch filled; 0: nothing available;
 * -EIO: the ring is malformed (now or before), see vq->reason.  A chain
 * with more buffers than ch->cap is malformed only if it is also longer
 * than the queue; otherwise -ENOBUFS and the chain stays available. */
int vq_dev_pop(struct vq_dev *vq, struct vq_chain *ch, enum vq_chain_kind kind);
/* Takes up to n available chains into ch[0..n) with one call into the
 * ring layout; their buffers are laid out one chain after another in
 * pool (pool_cap entries).  Returns how many chains were taken: 0 when
 * none was available; -EIO when the ring is malformed (now or before);
 * -ENOBUFS when the first chain alone does not fit the pool (as
 * vq_dev_pop).  A later chain that is malformed or does not fit what is
 * left of the pool ends the burst there: a malformed one latches the
 * queue broken (the next call says -EIO), one that does not fit stays
 * available.  ch[k].bufs and ch[k].cap are set here. */
int vq_dev_pop_burst(struct vq_dev *vq, struct vq_chain *ch, unsigned n,
		     struct vq_buf *pool, unsigned pool_cap, enum vq_chain_kind kind);
/* vq_dev_push of ch[0..n) in order, with written[k] bytes each (all 0
 * when written is NULL), in one call into the ring layout. */
void vq_dev_push_burst(struct vq_dev *vq, const struct vq_chain *ch, unsigned n,
		       const uint32_t *written);
/* Gives back the most recently popped chains (in reverse pop order), e.g.
 * when a frame did not fit; they will be popped again. */
void vq_dev_unpop(struct vq_dev *vq, const struct vq_chain *ch);
/* Records a used element (not yet visible to the driver). */
void vq_dev_push(struct vq_dev *vq, const struct vq_chain *ch, uint32_t written);
/* Publishes the pushed elements (release) and says whether the driver
 * asked to be interrupted for them (EVENT_IDX / NO_INTERRUPT, 2.7.7;
 * packed 2.8.10).  Counts into stats. */
bool vq_dev_flush(struct vq_dev *vq);
/* Does the driver have a chain waiting? */
bool vq_dev_has_avail(struct vq_dev *vq);
/* Enables or disables driver->device notifications (2.7.10).  After
 * enabling, returns true if a chain arrived meanwhile (poll again). */
bool vq_dev_set_notify(struct vq_dev *vq, bool enable);

/* Ring position handover (vhost-user SET/GET_VRING_BASE): for split the
 * next avail index (used index = the same, nothing is in flight between
 * stop and start); for packed bits 0-14 the next avail slot, bit 15 its
 * wrap counter, bits 16-30 the next used slot, bit 31 its wrap counter
 * (upper half 0 means "same as avail").  Only on a ready, unused queue;
 * -EINVAL for a position outside the ring. */
int vq_dev_set_base(struct vq_dev *vq, uint32_t base);
uint32_t vq_dev_get_base(const struct vq_dev *vq);

/* Attaches an inflight log region (common/ring/inflight.h) of len bytes
 * to a ready split queue, after its base was set.  A region never used
 * (version 0) is started at the queue's position.  One a previous device
 * process left is read once, through checks: its last batch finished,
 * the chains still inflight become the next ones popped, in counter order
 * (*resubmit of them), and the ring position becomes the used index plus
 * those.  From then on every pop, push, unpop and flush keeps the log
 * true.  0; -ENOTSUP for a packed queue; -EINVAL for a log refused (the
 * queue latched broken with the reason) or a region too small; -ENOMEM.
 * vq_dev_reset (and a new vq_dev_init) detaches it. */
int vq_dev_set_inflight(struct vq_dev *vq, void *region, size_t len, unsigned *resubmit);

/* Latch the queue broken with a reason (also used by callers that find a
 * chain semantically bad, e.g. a TX chain shorter than the net header). */
void vq_dev_set_broken(struct vq_dev *vq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ======================= driver side ================================= */

/* A buffer the driver offers, by guest-physical address. */
struct vq_sg {
	uint64_t gpa;
	uint32_t len;
};

struct vq_drv_cfg {
	enum vq_layout layout;
	uint16_t size;
	uint32_t flags;		/* VQ_F_* as negotiated */
	uint32_t used_align;	/* split: 4 (1.x) or 4096 (legacy) */
	uint16_t indirect_max;	/* entries per indirect table, 0 = none */
};

struct vq_drv_extra {		/* private per-head (split) / per-buffer-id
				 * (packed) state, like Linux's desc_extra */
	void *token;
	uint16_t ndesc;		/* descriptors (packed: ring slots) taken */
	uint16_t last;		/* last free-list entry the chain took */
	bool indirect;
	uint32_t in_len;	/* device-writable bytes: bounds the used len */
};

struct vq_drv {
	struct vq_drv_cfg cfg;
	const struct vq_drv_ops *ops;	/* the layout's, chosen by vq_drv_init */
	uint8_t *mem;		/* ring memory (local) */
	uint64_t mem_gpa;
	struct vq_addrs addrs;
	bool broken;
	char reason[VQ_REASON_LEN];
	struct vq_stats stats;
	uint16_t num_free;
	uint16_t free_head;
	uint16_t *next_free;	/* free list of descriptors (split) or buffer ids (packed) */
	struct vq_drv_extra *extra;
	uint8_t *indirect;	/* size * indirect_max descriptors */
	uint64_t indirect_gpa;
	uint32_t detach_pos;	/* vq_drv_detach_unused's scan position */
	/* IN_ORDER (VQ_F_IN_ORDER): chains are made available in ring order
	 * (the free list is a FIFO: freed entries go to its tail) and used
	 * in that order, so one used element may stand for a batch of the
	 * oldest chains (2.7.9, 2.8.8).  in_order_oldest is the oldest
	 * chain in flight; while batch is set, the chains up to batch_end
	 * are used and come out of vq_drv_get one per call, the last with
	 * batch_len. */
	uint16_t free_tail;
	uint16_t in_order_oldest;
	bool batch;
	uint16_t batch_end;
	uint32_t batch_len;
	union {
		struct {
			struct virtq_desc *desc;
			struct virtq_avail *avail;
			struct virtq_used *used;
			uint16_t *used_event;
			uint16_t *avail_event;
			uint16_t avail_idx_shadow;	/* what we published */
			uint16_t avail_flags_shadow;
			uint16_t kicked_avail;		/* avail idx at last kick_prepare */
			uint16_t last_used;
			uint16_t used_idx_shadow;	/* last used->idx read, checked */
		} split;
		struct {
			struct virtq_packed_desc *desc;
			struct virtq_packed_event *driver; /* written by us */
			struct virtq_packed_event *device; /* written by device */
			uint16_t next_avail;	/* next ring slot to fill */
			bool avail_wrap;	/* Driver Ring Wrap Counter */
			uint16_t last_used;	/* next ring slot to read used */
			bool used_wrap;		/* our used wrap counter (2.8.1) */
			uint16_t kicked_next;	/* published position at last */
			bool kicked_wrap;	/* ... kick_prepare */
			/* Added but unpublished chains start at pending_head;
			 * its flags are stored last, by kick_prepare. */
			bool pending;
			uint16_t pending_head;
			uint16_t pending_flags;
			struct virtq_packed_event event_shadow; /* driver area as written */
		} packed;
	};
};

/* Bytes of guest memory the queue needs (ring parts plus indirect
 * tables), and the alignment the block must have. */
size_t vq_drv_mem_size(const struct vq_drv_cfg *cfg);
#define VQ_DRV_MEM_ALIGN 4096
/* Lays the queue out in mem (local address) = mem_gpa (guest address),
 * zeroing it.  Allocates private state with malloc; vq_drv_free frees it. */
int vq_drv_init(struct vq_drv *vq, const struct vq_drv_cfg *cfg, void *mem,
		uint64_t mem_gpa);
void vq_drv_free(struct vq_drv *vq);

/* Makes a chain of n_out readable then n_in writable buffers available
 * (not yet published).  Uses an indirect table when negotiated and
 * n_out + n_in > 1.  0, -ENOSPC (ring full), -EINVAL, -EIO (broken). */
int vq_drv_add(struct vq_drv *vq, const struct vq_sg *sg, unsigned n_out,
	       unsigned n_in, void *token);
/* vq_drv_add of n chains of one shape, n_out readable then n_in writable
 * buffers each: chain k is sg[k * (n_out + n_in) ...], its token
 * tokens[k].  One call into the ring layout for the burst.  As with
 * vq_drv_add nothing is visible yet: vq_drv_kick_prepare publishes the
 * whole burst with one store (split: the available index; packed: the
 * burst's first descriptor flags, written last, 2.8.21), one barrier and
 * one notification decision.  Adds chains in order while they fit and
 * returns how many (0 when the ring is full); -EIO when broken; -EINVAL
 * when the shape or chain 0 is refused as vq_drv_add would (a later
 * chain it would refuse ends the burst there). */
int vq_drv_add_burst(struct vq_drv *vq, const struct vq_sg *sg, unsigned n_out,
		     unsigned n_in, void *const *tokens, unsigned n);
/* Descriptors (split) / ring slots (packed) a chain of nbufs buffers
 * takes of vq_drv_num_free: 1 in an indirect table, else nbufs. */
unsigned vq_drv_chain_slots(const struct vq_drv *vq, unsigned nbufs);
/* Publishes what was added (release) and says whether the device wants a
 * notification (EVENT_IDX / NO_NOTIFY, 2.7.10).  Counts into stats. */
bool vq_drv_kick_prepare(struct vq_drv *vq);
/* Next used buffer: its token, and *len the length the device wrote.
 * NULL when none.  A used id that is out of range or not in flight, or a
 * length larger than the chain's writable size, latches broken.  With
 * IN_ORDER a used id further on than the oldest chain in flight stands
 * for a batch (2.7.9, 2.8.8): the chains before it come out first, one
 * per call, with length 0. */
void *vq_drv_get(struct vq_drv *vq, uint32_t *len);
/* vq_drv_get up to n times, with one call into the ring layout and (split)
 * one read of the used index: tokens[k], lens[k] (lens may be NULL), in
 * the order vq_drv_get would give them.  Returns how many (0: none used);
 * -EIO when the queue is broken (now or before) and none was taken: a
 * used element vq_drv_get would refuse ends the burst with those before
 * it and latches broken. */
int vq_drv_get_burst(struct vq_drv *vq, void **tokens, uint32_t *lens, unsigned n);
/* Ask for / stop asking for used-buffer interrupts (2.7.7).
 * vq_drv_enable_cb returns false if used buffers are already pending
 * (so the caller must not sleep). */
void vq_drv_disable_cb(struct vq_drv *vq);
bool vq_drv_enable_cb(struct vq_drv *vq);
/* Is a used buffer pending? */
bool vq_drv_has_used(struct vq_drv *vq);
/* Number of free descriptors. */
unsigned vq_drv_num_free(const struct vq_drv *vq);
/* After a device reset: hands back the tokens of chains still in flight,
 * one per call, NULL when none remain. */
void *vq_drv_detach_unused(struct vq_drv *vq);

#endif /* VNET_RING_VQ_H */
