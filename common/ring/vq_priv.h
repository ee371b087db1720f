/* SPDX-License-Identifier: MIT */
/*
 * vq_priv.h - what the public vq_* functions (vq.c) and the ring layouts
 * (split.c, packed.c) share.  vq.c checks the arguments and the broken
 * latch, then calls the layout through one operations table per side,
 * chosen once at init (as Linux's virtio_ring.c dispatches split and
 * packed).  The layout files only do ring work, on a queue that is known
 * ready, not broken and well formed; what both layouts need (placing ring
 * parts, reading a chain's buffers, the driver's free list, counting
 * notifications, the broken latch) lives once, in vq.c.
 *
 * Adding a ring layout takes one new file defining its two tables
 * (struct vq_dev_ops and struct vq_drv_ops), one value in enum vq_layout
 * (vq.h), and one line in vq.c's layouts[] selecting them.
 */
#ifndef VNET_RING_VQ_PRIV_H
#define VNET_RING_VQ_PRIV_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ring/vq.h"

/* Where a layout's rules are in the spec, and what it calls a position in
 * its ring: the reasons a broken queue gives cite them. */
struct vq_spec_refs {
	const char *slot;	/* "descriptor" (split) or "ring slot" (packed) */
	const char *part_align;	/* ring part alignment */
	const char *chain_order; /* device-readable before device-writable */
	const char *chain_len;	/* no chain longer than the queue */
	const char *indirect;	/* what an indirect descriptor may be */
};

/* ======================= device side ================================= */

struct vq_dev_ops {
	const struct vq_spec_refs *refs;
	/* Checks the queue size, translates the ring parts and, unless
	 * keep, starts the layout's indices afresh. */
	int (*init)(struct vq_dev *vq, const struct vq_addrs *a, bool keep);
	int (*pop)(struct vq_dev *vq, struct vq_chain *ch, enum vq_chain_kind kind);
	/* The chain at head (< size), taken again without the available
	 * ring (an inflight log's resubmission): 1, -ENOBUFS, -EIO.  NULL
	 * for a layout without inflight logs. */
	int (*pop_head)(struct vq_dev *vq, uint16_t head, struct vq_chain *ch,
			enum vq_chain_kind kind);
	int (*pop_burst)(struct vq_dev *vq, struct vq_chain *ch, unsigned n,
			 struct vq_buf *pool, unsigned pool_cap,
			 enum vq_chain_kind kind);
	void (*unpop)(struct vq_dev *vq, const struct vq_chain *ch);
	void (*push)(struct vq_dev *vq, const struct vq_chain *ch, uint32_t written);
	void (*push_burst)(struct vq_dev *vq, const struct vq_chain *ch, unsigned n,
			   const uint32_t *written);
	bool (*flush)(struct vq_dev *vq);
	bool (*has_avail)(struct vq_dev *vq);
	bool (*set_notify)(struct vq_dev *vq, bool enable);
	int (*set_base)(struct vq_dev *vq, uint32_t base);
	uint32_t (*get_base)(const struct vq_dev *vq);
};

extern const struct vq_dev_ops vq_split_dev_ops;
extern const struct vq_dev_ops vq_packed_dev_ops;

/* The inflight log's side of pop, pop_burst, unpop, push and flush
 * (inflight.c), called by vq.c instead of (pop) or after (the others) the
 * layout when vq->inflight is set. */
int vq_inflight_pop(struct vq_dev *vq, struct vq_chain *ch, enum vq_chain_kind kind);
int vq_inflight_pop_burst(struct vq_dev *vq, struct vq_chain *ch, unsigned n,
			  struct vq_buf *pool, unsigned pool_cap, enum vq_chain_kind kind);
void vq_inflight_unpop(struct vq_dev *vq, const struct vq_chain *ch);
void vq_inflight_pushed(struct vq_dev *vq, const struct vq_chain *ch, unsigned n);
void vq_inflight_flushed(struct vq_dev *vq);
void vq_inflight_free(struct vq_dev *vq);

/* Translates one ring part after checking its alignment on both the
 * guest address and the local mapping; NULL (and broken) otherwise. */
void *vq_dev_ring_part(struct vq_dev *vq, const char *name, uint64_t gpa,
		       size_t align, size_t bytes, bool write);

/* A chain being read: where the walk is, for the reasons, and the
 * running totals of the buffers taken so far. */
struct vq_walk {
	uint32_t pos;		/* descriptor / ring slot read, or holding the table */
	uint32_t entry;		/* entry in the indirect table */
	bool indirect;		/* reading an indirect table */
	uint16_t head;		/* where the chain starts */
	uint32_t nbufs;
	uint64_t out_len, in_len;
	uint16_t n_out, n_in;
};

/* "descriptor 3", "indirect entry 1 of ring slot 5". */
const char *vq_walk_name(const struct vq_dev *vq, const struct vq_walk *w,
			 char *buf, size_t n);

/* Where a zero-length buffer points (never read or written). */
extern uint8_t vq_empty_buffer[1];

/* The burst loops, once for both layouts: each layout instantiates them
 * with its own pop and push, so a burst costs one call through the
 * operations table.  The layout's pop is inlined into the loop (it is
 * always_inline; its single pop in the table is an out-of-line copy),
 * once per chain kind, so that the kind's direction checks are constants
 * there: about 40 instructions less a chain, receive and transmit
 * (bench/insns.sh, 64 B: rx 438 -> 396, tx 355 -> 316 a frame). */
typedef int vq_pop_fn(struct vq_dev *vq, struct vq_chain *ch, enum vq_chain_kind kind);
typedef void vq_push_fn(struct vq_dev *vq, const struct vq_chain *ch, uint32_t written);

static inline __attribute__((always_inline)) int
vq_pop_burst_loop(vq_pop_fn *pop, struct vq_dev *vq, struct vq_chain *ch,
		  unsigned n, struct vq_buf *pool, unsigned pool_cap,
		  enum vq_chain_kind kind)
{
	uint16_t cap = pool_cap > UINT16_MAX ? UINT16_MAX : (uint16_t)pool_cap;
	unsigned k = 0;

	for (; k < n; k++) {
		int rc;

		ch[k].bufs = pool;
		ch[k].cap = cap;
		rc = pop(vq, &ch[k], kind);
		if (rc <= 0)
			return k ? (int)k : rc;
		/* A popped chain fit: n_out + n_in <= cap. */
		uint16_t used = (uint16_t)(ch[k].n_out + ch[k].n_in);

		pool += used;
		cap = (uint16_t)(cap - used);
	}
	return (int)k;
}

static inline __attribute__((always_inline)) int
vq_pop_burst_with(vq_pop_fn *pop, struct vq_dev *vq, struct vq_chain *ch,
		  unsigned n, struct vq_buf *pool, unsigned pool_cap,
		  enum vq_chain_kind kind)
{
	switch (kind) {
	case VQ_CHAIN_WRITE_ONLY:
		return vq_pop_burst_loop(pop, vq, ch, n, pool, pool_cap, VQ_CHAIN_WRITE_ONLY);
	case VQ_CHAIN_READ_ONLY:
		return vq_pop_burst_loop(pop, vq, ch, n, pool, pool_cap, VQ_CHAIN_READ_ONLY);
	case VQ_CHAIN_ANY:
		break;
	}
	return vq_pop_burst_loop(pop, vq, ch, n, pool, pool_cap, kind);
}

static inline __attribute__((always_inline)) void
vq_push_burst_with(vq_push_fn *push, struct vq_dev *vq, const struct vq_chain *ch,
		   unsigned n, const uint32_t *written)
{
	for (unsigned k = 0; k < n; k++)
		push(vq, &ch[k], written ? written[k] : 0);
}

/* What is wrong with a buffer (vq_buffer_check), for vq_dev_buffer_broken. */
enum vq_buf_fault {
	VQ_BUF_OK = 0,
	VQ_BUF_ORDER,		/* readable after a writable one */
	VQ_BUF_NOT_READABLE,	/* writable in a chain the device may only read */
	VQ_BUF_NOT_WRITABLE,	/* readable in a chain the device may only write */
	VQ_BUF_OVERFLOW,	/* address + length wraps */
	VQ_BUF_UNMAPPED,	/* not in guest memory (the device may write) */
};

/* Latches the queue broken for a buffer vq_buffer_check refused, naming
 * where the walk is.  Out of line and cold: the reasons' text and
 * formatting cost the checks a stack frame when they were inline. */
void vq_dev_buffer_broken(struct vq_dev *vq, const struct vq_walk *w,
			  enum vq_buf_fault fault, uint64_t addr, uint32_t len,
			  bool writable) __attribute__((cold, noinline));

/* The rules for one buffer: direction (readable before writable,
 * after_writable saying whether the chain had a writable one yet, and
 * the caller's chain kind) and a translation of all of it.  *out is set
 * for VQ_BUF_OK.  Inline: it runs for every buffer of every chain. */
static inline enum vq_buf_fault
vq_buffer_check(struct vq_dev *vq, bool after_writable, uint64_t addr,
		uint32_t len, bool writable, enum vq_chain_kind kind, struct vq_buf *out)
{
	void *p;

	if (!writable && after_writable)
		return VQ_BUF_ORDER;
	if (writable && kind == VQ_CHAIN_READ_ONLY)
		return VQ_BUF_NOT_READABLE;
	if (!writable && kind == VQ_CHAIN_WRITE_ONLY)
		return VQ_BUF_NOT_WRITABLE;
	if (len == 0) {
		out->ptr = vq_empty_buffer;
		out->len = 0;
		return VQ_BUF_OK;
	}
	if (addr + len < addr)
		return VQ_BUF_OVERFLOW;
	p = gmem_translate_hinted(vq->gm, &vq->gm_hint, addr, len, writable);
	if (__builtin_expect(p == NULL, 0))
		return VQ_BUF_UNMAPPED;
	out->ptr = p;
	out->len = len;
	return VQ_BUF_OK;
}

/* vq_buffer_check at the walk's position: 0, or -EIO and broken. */
static inline int
vq_translate_buffer(struct vq_dev *vq, const struct vq_walk *w, uint64_t addr,
		    uint32_t len, bool writable, enum vq_chain_kind kind,
		    struct vq_buf *out)
{
	enum vq_buf_fault fault = vq_buffer_check(vq, w->n_in != 0, addr, len, writable,
						  kind, out);

	if (__builtin_expect(fault != VQ_BUF_OK, 0)) {
		vq_dev_buffer_broken(vq, w, fault, addr, len, writable);
		return -EIO;
	}
	return 0;
}

/* Checks one buffer descriptor (chain length, direction against the
 * chain so far and the caller's kind), translates it and records it in
 * ch (when ch has room) and the walk's totals.  0 or -EIO (broken). */
static inline int
vq_dev_take_buffer(struct vq_dev *vq, struct vq_walk *w, uint64_t addr,
		   uint32_t len, bool writable, enum vq_chain_kind kind,
		   struct vq_chain *ch)
{
	struct vq_buf buf;
	int rc;

	if (++w->nbufs > vq->size) {
		vq_dev_set_broken(vq, "chain from %s %u is longer than the queue size %u (%s)",
				  vq->ops->refs->slot, w->head, vq->size,
				  vq->ops->refs->chain_len);
		return -EIO;
	}
	rc = vq_translate_buffer(vq, w, addr, len, writable, kind, &buf);
	if (rc)
		return rc;
	if (writable) {
		w->n_in++;
		w->in_len += len;
	} else {
		w->n_out++;
		w->out_len += len;
	}
	if (w->in_len > UINT32_MAX || w->out_len > UINT32_MAX) {
		vq_dev_set_broken(vq, "chain from %s %u: total length overflows 32 bits",
				  vq->ops->refs->slot, w->head);
		return -EIO;
	}
	if (w->nbufs <= ch->cap)
		ch->bufs[w->nbufs - 1] = buf;
	return 0;
}

/* A chain of one buffer, the descriptor (addr, len, flags) at pos that
 * ends it, into ch (cap >= 1): the rules every buffer gets
 * (vq_buffer_check).  What vq_dev_take_buffer adds cannot fail for a
 * first buffer (chain length 1 <= size, totals within 32 bits).  0 or
 * -EIO (broken). */
static inline int
vq_dev_take_single(struct vq_dev *vq, uint16_t pos, uint64_t addr, uint32_t len,
		   bool writable, enum vq_chain_kind kind, struct vq_chain *ch)
{
	enum vq_buf_fault fault = vq_buffer_check(vq, false, addr, len, writable, kind,
						  &ch->bufs[0]);

	if (__builtin_expect(fault != VQ_BUF_OK, 0)) {
		const struct vq_walk w = { .pos = pos, .head = pos };

		vq_dev_buffer_broken(vq, &w, fault, addr, len, writable);
		return -EIO;
	}
	ch->n_out = !writable;
	ch->n_in = writable;
	ch->out_len = writable ? 0 : len;
	ch->in_len = writable ? len : 0;
	return 0;
}

/* Checks the descriptor (addr, len, flags) at the walk's position that
 * says INDIRECT, and translates the table it points at: *entries
 * 16-byte entries.  The walk moves into the table (entry 0).  NULL and
 * broken for a table the spec forbids. */
const uint8_t *vq_dev_enter_indirect(struct vq_dev *vq, struct vq_walk *w,
				     uint64_t addr, uint32_t len, uint16_t flags,
				     uint32_t *entries);

/* The walk's totals into ch, once the chain is known to fit in it. */
static inline void vq_walk_fill_chain(const struct vq_walk *w, struct vq_chain *ch)
{
	ch->n_out = w->n_out;
	ch->n_in = w->n_in;
	ch->out_len = (uint32_t)w->out_len;
	ch->in_len = (uint32_t)w->in_len;
}

/* ======================= driver side ================================= */

/* Where the ring parts go in the driver's block (offsets from its start). */
struct vq_drv_place {
	size_t driver;		/* avail ring / driver event structure */
	size_t device;		/* used ring / device event structure */
	size_t end;		/* bytes the ring parts take */
	uint32_t gpa_align;	/* alignment the block's guest address needs */
};

/* A chain vq.c checked and found room for, handed to the layout. */
struct vq_add {
	const struct vq_sg *sg;
	unsigned n_out;
	unsigned n;		/* n_out + n_in */
	uint32_t in_len;	/* device-writable bytes */
	bool indirect;		/* one descriptor pointing at a table */
	uint16_t need;		/* descriptors (split) / ring slots (packed) */
};

/* What a chain of n buffers takes (vq_drv_chain_slots): one descriptor
 * pointing at an indirect table when negotiated and the chain fits one
 * (2.7.5.3, 2.8.7), else one per buffer. */
static inline bool vq_drv_use_indirect(const struct vq_drv *vq, unsigned n)
{
	return vq->indirect && n > 1 && n <= vq->cfg.indirect_max;
}

/* vq_drv_add's rules on a chain's shape, into a (all but sg and
 * in_len): at least one buffer, none more than the queue holds.  false
 * for a shape no chain may have. */
static inline bool vq_drv_shape(const struct vq_drv *vq, unsigned n_out, unsigned n_in,
				struct vq_add *a)
{
	unsigned size = vq->cfg.size;

	a->n_out = n_out;
	a->n = n_out + n_in;
	if (n_out > size || n_in > size || a->n == 0 || a->n > size)
		return false;
	a->indirect = vq_drv_use_indirect(vq, a->n);
	a->need = (uint16_t)(a->indirect ? 1 : a->n);
	return true;
}

/* ...and on its buffers, at a->sg: no address + length wraps, and the
 * writable bytes fit the 32-bit used length (into a->in_len). */
static inline bool vq_drv_sg_ok(struct vq_add *a)
{
	const struct vq_sg *sg = a->sg;
	unsigned n = a->n, n_out = a->n_out;
	uint64_t in_len = 0;

	for (unsigned k = 0; k < n; k++) {
		if (sg[k].gpa + sg[k].len < sg[k].gpa)
			return false;
		if (k >= n_out)
			in_len += sg[k].len;
	}
	if (in_len > UINT32_MAX)
		return false;
	a->in_len = (uint32_t)in_len;
	return true;
}

/* The layout wrote chain a from head (the free list's head) to free-list
 * entry last: unlink them and record the chain. */
static inline void vq_drv_added(struct vq_drv *vq, const struct vq_add *a, uint16_t head,
				uint16_t last, void *token)
{
	struct vq_drv_extra *x = &vq->extra[head];

	vq->free_head = vq->next_free[last];
	vq->num_free = (uint16_t)(vq->num_free - a->need);
	x->token = token;
	x->ndesc = a->need;
	x->last = last;
	x->indirect = a->indirect;
	x->in_len = a->in_len;
}

struct vq_drv_ops {
	/* The layout's own rules on cfg (vq.c checked size 1..32768);
	 * NULL when it has none. */
	bool (*cfg_ok)(const struct vq_drv_cfg *cfg);
	void (*place)(const struct vq_drv_cfg *cfg, struct vq_drv_place *pl);
	/* Points the layout's ring pointers into vq->mem as placed. */
	void (*attach)(struct vq_drv *vq, const struct vq_drv_place *pl);
	/* Forgets the layout's indices (vq.c zeroed the ring and the free
	 * list). */
	void (*reset)(struct vq_drv *vq);
	/* Writes the chain, taking its head / buffer id at vq->free_head,
	 * and returns the last free-list entry it used (vq.c unlinks them
	 * and records the chain in vq->extra). */
	uint16_t (*add)(struct vq_drv *vq, const struct vq_add *a);
	/* vq_drv_add_burst: chains of a's shape, the first at a->sg
	 * (vq_drv_add_burst_with). */
	int (*add_burst)(struct vq_drv *vq, const struct vq_add *a, void *const *tokens,
			 unsigned n);
	bool (*kick_prepare)(struct vq_drv *vq);
	void *(*get)(struct vq_drv *vq, uint32_t *len);
	int (*get_burst)(struct vq_drv *vq, void **tokens, uint32_t *lens, unsigned n);
	void (*disable_cb)(struct vq_drv *vq);
	bool (*enable_cb)(struct vq_drv *vq);
	bool (*has_used)(struct vq_drv *vq);
};

extern const struct vq_drv_ops vq_split_drv_ops;
extern const struct vq_drv_ops vq_packed_drv_ops;

/* Driver-side counterpart of vq_dev_set_broken (the driver struct has no
 * public one: only vq_drv_get can find the device misbehaving).  Cold:
 * the inline checks that call it stay small. */
void vq_drv_set_broken(struct vq_drv *vq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), cold));

/* Sentinel ending the driver's private free list (sizes are <= 32768). */
#define VQ_FREE_END 0xffffu

/* The free-list entry after i in ring order (sizes need not be powers of
 * two: packed). */
static inline uint16_t vq_drv_ring_next(const struct vq_drv *vq, uint16_t i)
{
	return (uint16_t)(i + 1u == vq->cfg.size ? 0 : i + 1u);
}

/* Puts in-flight chain id (split head / packed buffer id) back on the
 * free list, with the descriptors or ring slots it took.  Without
 * IN_ORDER at the head (the entries just used are the warmest); with it
 * at the tail, so the list stays in ring order: IN_ORDER chains are only
 * ever freed oldest first, so the entries freed are always the ones right
 * after the tail (2.7.9: descriptors in ring order, next = x + 1). */
static inline void vq_drv_release(struct vq_drv *vq, uint16_t id)
{
	struct vq_drv_extra *x = &vq->extra[id];

	if (vq->cfg.flags & VQ_F_IN_ORDER) {
		vq->next_free[x->last] = VQ_FREE_END;
		if (vq->free_head == VQ_FREE_END)
			vq->free_head = id;
		else
			vq->next_free[vq->free_tail] = id;
		vq->free_tail = x->last;
		vq->in_order_oldest = vq_drv_ring_next(vq, x->last);
	} else {
		vq->next_free[x->last] = vq->free_head;
		vq->free_head = id;
	}
	vq->num_free = (uint16_t)(vq->num_free + x->ndesc);
	x->token = NULL;
}

/* Frees chain id and hands back its token, *ndesc and *len (if len). */
static inline void *vq_drv_take(struct vq_drv *vq, uint16_t id, uint32_t written,
				uint32_t *len, uint16_t *ndesc)
{
	void *token = vq->extra[id].token;

	*ndesc = vq->extra[id].ndesc;
	vq_drv_release(vq, id);
	if (len)
		*len = written;
	return token;
}

/* The next chain of a pending IN_ORDER batch (vq->batch): freed, its
 * token returned; the batch ends with its last chain. */
void *vq_drv_batch_next(struct vq_drv *vq, uint32_t *len, uint16_t *ndesc);
/* IN_ORDER: used id (in flight, not the oldest) stands for a batch from
 * the oldest chain to id (2.7.9, 2.8.8), which may not claim more than
 * max_batch chains: the batch's first chain (vq_drv_batch_next), or NULL
 * and broken. */
void *vq_drv_batch_begin(struct vq_drv *vq, uint16_t id, uint16_t slot, uint32_t written,
			 uint32_t *len, uint16_t *ndesc, uint32_t max_batch);

/* A used element read from the ring at `slot`: checks that id is in
 * range and in flight and that written fits its writable bytes, then
 * frees it.  Its token, or NULL (and broken).  *ndesc: the descriptors /
 * ring slots it had taken; *len (if len) = written.
 *
 * With IN_ORDER, an id other than the oldest in flight starts a batch
 * that ends at id: the oldest chain is freed and returned instead (length
 * 0), and the layout takes the rest from vq_drv_batch_next without
 * reading its ring.  max_batch bounds the chains one element may stand
 * for (split: how far the device's used index moved, 2.7.9).
 *
 * Inline: it runs for every used buffer, in the layouts' get loops. */
static inline __attribute__((always_inline)) void *
vq_drv_complete(struct vq_drv *vq, uint32_t id, uint16_t slot,
		uint32_t written, uint32_t *len, uint16_t *ndesc,
		uint32_t max_batch)
{
	struct vq_drv_extra *x;

	if (__builtin_expect(id >= vq->cfg.size, 0)) {
		vq_drv_set_broken(vq, "used id %u at ring slot %u out of range (queue size %u)",
				  id, slot, vq->cfg.size);
		return NULL;
	}
	x = &vq->extra[id];
	if (__builtin_expect(!x->token, 0)) {
		vq_drv_set_broken(vq, "used id %u at ring slot %u is not in flight", id, slot);
		return NULL;
	}
	if (__builtin_expect(written > x->in_len, 0)) {
		vq_drv_set_broken(vq, "used len %u for id %u is larger than its %u writable bytes",
				  written, id, x->in_len);
		return NULL;
	}
	if ((vq->cfg.flags & VQ_F_IN_ORDER) && id != vq->in_order_oldest)
		return vq_drv_batch_begin(vq, (uint16_t)id, slot, written, len, ndesc,
					  max_batch);
	return vq_drv_take(vq, (uint16_t)id, written, len, ndesc);
}

/* The driver's burst loops, once for both layouts, as the device's
 * above: each layout instantiates them with its own add and get, inlined,
 * so that a burst costs one call through the operations table. */
typedef uint16_t vq_add_fn(struct vq_drv *vq, const struct vq_add *a);
typedef void *vq_get_fn(struct vq_drv *vq, uint32_t *len);

static inline __attribute__((always_inline)) int
vq_drv_add_burst_with(vq_add_fn *add, struct vq_drv *vq, const struct vq_add *a,
		      void *const *tokens, unsigned n)
{
	struct vq_add c = *a;	/* in registers, whatever the ring stores alias */
	unsigned k = 0;

	for (; k < n; k++, c.sg += c.n) {
		uint16_t head = vq->free_head;

		if (!tokens[k] || !vq_drv_sg_ok(&c))
			return k ? (int)k : -EINVAL;
		/* Packed takes one buffer id per chain off the free list,
		 * and at least one slot: an id is always there when slots
		 * are. */
		if (vq->num_free < c.need)
			break;
		vq_drv_added(vq, &c, head, add(vq, &c), tokens[k]);
	}
	return (int)k;
}

/* get stops at the first chain not used (NULL); a refused one has
 * latched the queue broken. */
static inline __attribute__((always_inline)) int
vq_drv_get_burst_with(vq_get_fn *get, struct vq_drv *vq, void **tokens,
		      uint32_t *lens, unsigned n)
{
	unsigned k = 0;

	for (; k < n; k++) {
		void *token = get(vq, lens ? &lens[k] : NULL);

		if (!token)
			break;
		tokens[k] = token;
	}
	return k || !vq->broken ? (int)k : -EIO;
}

/* ======================= both sides ================================== */

/* Counts a "signal the other side?" answer into stats, and returns it. */
static inline bool vq_count_notify(struct vq_stats *s, bool need)
{
	if (need)
		s->notify_needed++;
	else
		s->notify_suppressed++;
	return need;
}

static inline size_t vq_align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

#endif /* VNET_RING_VQ_PRIV_H */
