// SPDX-License-Identifier: MIT
/*
 * inflight.c - the device side's inflight log of a split virtqueue
 * (inflight.h; vhost-user.rst "Inflight I/O tracking"): reading a log a
 * previous process left, once and through checks, into the chains to
 * resubmit; and the four steps that keep the log true as chains are
 * popped, pushed, flushed and unpopped.  vq.c calls these only when a log
 * is attached (vq->inflight), so a queue without one pays one branch per
 * call.
 *
 * The device uses chains in the order it popped them and gives back only
 * the newest (host/dev/features.c, IN_ORDER): the chains to resubmit are
 * popped first, before any from the available ring, and so are the first
 * to be pushed.  That is what lets a resubmitted chain given back (unpop)
 * go back to the list, and the list end once all of it was pushed.
 */
#include "common/ring/inflight.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/barrier.h"
#include "common/log.h"
#include "common/ring/vq.h"
#include "common/ring/vq_priv.h"

struct vq_inflight {
	struct vq_inflight_region *log;	/* shared: written, read only at attach */
	uint64_t counter;		/* the next chain's */
	/* Heads pushed since the last flush: the batch whose flags the
	 * flush clears (private, so the shared list is never walked). */
	uint16_t batch_n;
	uint16_t last_batch_head;	/* what we last wrote there */
	/* Chains to resubmit, oldest counter first; resub_pos of them
	 * taken, resub_pushed of them used; from_avail chains taken from
	 * the available ring since and not given back.  The list ends
	 * (resub_num 0) when all of it was pushed. */
	uint16_t resub_num, resub_pos, resub_pushed, from_avail;
	uint16_t *batch;		/* [queue size] */
	uint16_t *resub;		/* [queue size] */
};

void vq_inflight_free(struct vq_dev *vq)
{
	free(vq->inflight);
	vq->inflight = NULL;
}

/* ---- reading a log at attach ---------------------------------------- */

struct resub_entry {
	uint64_t counter;
	uint16_t head;
};

static int by_counter(const void *a, const void *b)
{
	const struct resub_entry *x = a, *y = b;

	return x->counter < y->counter ? -1 : x->counter > y->counter;
}

/* The step a process may have died in: the used index published, the
 * batch's inflight flags not yet cleared (vhost-user.rst "When
 * reconnecting", 1).  The batch is the (used - log used_idx) heads
 * listed from last_batch_head.  0, or -EINVAL with why. */
static int finish_last_batch(struct vq_inflight_region *log, uint16_t size, uint16_t used,
			     char *why, size_t why_len)
{
	uint16_t n = (uint16_t)(used - READ_ONCE(log->used_idx));
	uint16_t head = READ_ONCE(log->last_batch_head);

	if (n == 0)
		return 0;
	if (n > size) {
		snprintf(why, why_len, "its used_idx %u is %u behind the used ring's %u (queue size %u)",
			 READ_ONCE(log->used_idx), n, used, size);
		return -EINVAL;
	}
	for (uint16_t i = 0; i < n; i++) {
		if (head >= size) {
			snprintf(why, why_len, "its last batch lists descriptor %u (queue size %u)",
				 head, size);
			return -EINVAL;
		}
		WRITE_ONCE(log->desc[head].inflight, 0);
		head = READ_ONCE(log->desc[head].next);
	}
	smp_wmb();
	WRITE_ONCE(log->used_idx, used);
	return 0;
}

/* Collects the heads still inflight into list (sorted by counter).  Their
 * number, or -EINVAL with why. */
static int collect(const struct vq_inflight_region *log, uint16_t size,
		   struct resub_entry *list, char *why, size_t why_len)
{
	int n = 0;

	for (uint16_t i = 0; i < size; i++) {
		struct vq_inflight_desc d;

		/* One copy, then only the copy is looked at. */
		memcpy(&d, &log->desc[i], sizeof(d));
		atomic_signal_fence(memory_order_seq_cst);
		if (d.inflight == 0)
			continue;
		if (d.inflight != 1) {
			snprintf(why, why_len, "descriptor %u's inflight is %u (0 or 1)", i,
				 d.inflight);
			return -EINVAL;
		}
		list[n].counter = d.counter;
		list[n].head = i;
		n++;
	}
	qsort(list, (size_t)n, sizeof(*list), by_counter);
	for (int k = 1; k < n; k++)
		if (list[k].counter == list[k - 1].counter) {
			snprintf(why, why_len, "descriptors %u and %u share the counter %" PRIu64,
				 list[k - 1].head, list[k].head, list[k].counter);
			return -EINVAL;
		}
	return n;
}

int vq_dev_set_inflight(struct vq_dev *vq, void *region, size_t len, unsigned *resubmit)
{
	struct vq_inflight_region *log = region;
	const uint16_t size = vq->size;
	struct vq_inflight *inf;
	struct resub_entry *list;
	char why[128] = "";
	uint16_t used, base;
	int n;

	*resubmit = 0;
	if (!vq->ready || vq->broken)
		return -EINVAL;
	if (vq->layout != VQ_SPLIT)
		/* vhost-user.rst's packed layout is not built: the face never
		 * hands one over (GET_INFLIGHT_FD answers "no area" for a
		 * packed ring and logs it; README, vhost-user). */
		return -ENOTSUP;
	if (!region || len < vq_inflight_region_size(size))
		return -EINVAL;
	vq_inflight_free(vq);
	inf = calloc(1, sizeof(*inf) + 2 * sizeof(uint16_t) * size);
	list = calloc(size, sizeof(*list));
	if (!inf || !list) {
		free(inf);
		free(list);
		return -ENOMEM;
	}
	inf->log = log;
	inf->batch = (uint16_t *)(inf + 1);
	inf->resub = inf->batch + size;

	/* The used index is the guest's memory: read once. */
	used = load_acquire(&vq->split.used->idx);
	base = vq->split.last_avail;
	if (READ_ONCE(log->version) == 0) {
		/* Never used: start the log, every flag clear (whatever the
		 * frontend left in it, the next process reads only ours). */
		memset(log->desc, 0, (size_t)size * sizeof(log->desc[0]));
		WRITE_ONCE(log->features, 0);
		WRITE_ONCE(log->desc_num, size);
		WRITE_ONCE(log->last_batch_head, 0);
		WRITE_ONCE(log->used_idx, vq->split.used_idx);
		smp_wmb();
		WRITE_ONCE(log->version, VQ_INFLIGHT_VERSION);
		free(list);
		vq->inflight = inf;
		return 0;
	}
	if (READ_ONCE(log->version) != VQ_INFLIGHT_VERSION) {
		snprintf(why, sizeof(why), "version %u (we know %u)", READ_ONCE(log->version),
			 VQ_INFLIGHT_VERSION);
		n = -EINVAL;
	} else if (READ_ONCE(log->desc_num) != size) {
		snprintf(why, sizeof(why), "desc_num %u but the queue has %u descriptors",
			 READ_ONCE(log->desc_num), size);
		n = -EINVAL;
	} else {
		n = finish_last_batch(log, size, used, why, sizeof(why));
		if (n == 0)
			n = collect(log, size, list, why, sizeof(why));
	}
	if (n < 0) {
		vq_dev_set_broken(vq, "inflight log refused: %s", why);
		free(list);
		free(inf);
		return n;
	}
	/* vhost-user.rst "When reconnecting", 2: resubmit in counter order,
	 * before anything new.  The available ring was consumed up to the
	 * used chains and the inflight ones, whatever base the frontend
	 * sent (after a crash it cannot know ours). */
	for (int k = 0; k < n; k++)
		inf->resub[k] = list[k].head;
	inf->resub_num = (uint16_t)n;
	inf->counter = n ? list[n - 1].counter + 1 : 0;
	inf->last_batch_head = READ_ONCE(log->last_batch_head);
	free(list);
	if (base != used && base != (uint16_t)(used + n))
		log_info("inflight log: the frontend's ring base %u is replaced by the log's: used %u, %d inflight",
			 base, used, n);
	vq->split.last_avail = (uint16_t)(used + n);
	vq->split.avail_idx_shadow = vq->split.last_avail;
	vq->split.used_idx = used;
	vq->split.signalled_used = used;
	vq->inflight = inf;
	*resubmit = (unsigned)n;
	return 0;
}

/* ---- the four steps --------------------------------------------------- */

/* Popped: counter first, then the flag, so a log with the flag set has
 * the chain's counter. */
static void mark(struct vq_inflight *inf, uint16_t head)
{
	struct vq_inflight_desc *d = &inf->log->desc[head];

	WRITE_ONCE(d->counter, inf->counter++);
	smp_wmb();
	WRITE_ONCE(d->inflight, 1);
}

/* Takes the next chain to resubmit into ch: 1, or what the layout said
 * (-ENOBUFS: it stays next; -EIO: broken). */
static int pop_resubmitted(struct vq_dev *vq, struct vq_chain *ch, enum vq_chain_kind kind)
{
	struct vq_inflight *inf = vq->inflight;
	int rc = vq->ops->pop_head(vq, inf->resub[inf->resub_pos], ch, kind);

	if (rc == 1)
		inf->resub_pos++;	/* still marked: the log keeps its counter */
	return rc;
}

/* Chains taken from the available ring: marked, and counted while a
 * resubmit list runs. */
static void popped_from_avail(struct vq_inflight *inf, const struct vq_chain *ch, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		mark(inf, ch[k].id);
	if (inf->resub_num)
		inf->from_avail = (uint16_t)(inf->from_avail + n);
}

int vq_inflight_pop(struct vq_dev *vq, struct vq_chain *ch, enum vq_chain_kind kind)
{
	struct vq_inflight *inf = vq->inflight;
	int rc;

	if (inf->resub_pos < inf->resub_num)
		return pop_resubmitted(vq, ch, kind);
	rc = vq->ops->pop(vq, ch, kind);
	if (rc == 1)
		popped_from_avail(inf, ch, 1);
	return rc;
}

int vq_inflight_pop_burst(struct vq_dev *vq, struct vq_chain *ch, unsigned n,
			  struct vq_buf *pool, unsigned pool_cap, enum vq_chain_kind kind)
{
	struct vq_inflight *inf = vq->inflight;
	unsigned k = 0;
	int rc;

	for (; k < n && inf->resub_pos < inf->resub_num; k++) {
		ch[k].bufs = pool;
		ch[k].cap = pool_cap > UINT16_MAX ? UINT16_MAX : (uint16_t)pool_cap;
		rc = pop_resubmitted(vq, &ch[k], kind);
		if (rc < 0)
			return k ? (int)k : rc;
		pool += ch[k].n_out + ch[k].n_in;
		pool_cap -= ch[k].n_out + ch[k].n_in;
	}
	if (k == n || pool_cap == 0)
		return (int)k;
	rc = vq->ops->pop_burst(vq, ch + k, n - k, pool, pool_cap, kind);
	if (rc <= 0)
		return k ? (int)k : rc;
	popped_from_avail(inf, ch + k, (unsigned)rc);
	return (int)k + rc;
}

void vq_inflight_unpop(struct vq_dev *vq, const struct vq_chain *ch)
{
	struct vq_inflight *inf = vq->inflight;

	/* Unpop gives back the newest chain: one from the available ring
	 * unless none was taken since the resubmitted ones. */
	if (inf->resub_num && inf->from_avail == 0) {
		if (inf->resub_pos > inf->resub_pushed)
			inf->resub_pos--;	/* back to the list, still marked */
		return;
	}
	if (inf->resub_num)
		inf->from_avail--;
	WRITE_ONCE(inf->log->desc[ch->id].inflight, 0);
	vq->ops->unpop(vq, ch);
}

/* Pushed: listed in the log's last batch and in our private one. */
void vq_inflight_pushed(struct vq_dev *vq, const struct vq_chain *ch, unsigned n)
{
	struct vq_inflight *inf = vq->inflight;
	struct vq_inflight_region *log = inf->log;

	for (unsigned k = 0; k < n; k++) {
		uint16_t head = ch[k].id;

		/* At most size chains are out, each pushed once before a
		 * flush; a caller pushing more is a bug, not the guest's. */
		if (inf->batch_n == vq->size) {
			vq_dev_set_broken(vq, "inflight log: more than %u chains used between flushes",
					  vq->size);
			return;
		}
		WRITE_ONCE(log->desc[head].next, inf->last_batch_head);
		WRITE_ONCE(log->last_batch_head, head);
		inf->last_batch_head = head;
		inf->batch[inf->batch_n++] = head;
		if (inf->resub_num && ++inf->resub_pushed == inf->resub_num)
			inf->resub_num = inf->resub_pos = inf->resub_pushed = inf->from_avail = 0;
	}
}

/* Flushed (the used index is published): the batch is no longer in
 * flight, and the log's used_idx catches up last. */
void vq_inflight_flushed(struct vq_dev *vq)
{
	struct vq_inflight *inf = vq->inflight;

	if (!inf->batch_n)
		return;
	smp_wmb();
	for (uint16_t k = 0; k < inf->batch_n; k++)
		WRITE_ONCE(inf->log->desc[inf->batch[k]].inflight, 0);
	smp_wmb();
	WRITE_ONCE(inf->log->used_idx, vq->split.used_idx);
	inf->batch_n = 0;
}
