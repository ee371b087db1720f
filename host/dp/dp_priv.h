/* SPDX-License-Identifier: MIT */
/*
 * dp_priv.h - what the data path's files share: the three queue passes
 * (tx.c, rx.c, ctrl.c) and the helpers below them (chain.c).  Not for
 * use outside host/dp/.
 */
#ifndef VNET_HOST_DP_PRIV_H
#define VNET_HOST_DP_PRIV_H

#include <string.h>

#include "host/dp/dp.h"

/* For the branches a frame almost never takes (a capture is on), and
 * the one it almost always does. */
#define unlikely(x) __builtin_expect(!!(x), 0)
#define likely(x) __builtin_expect(!!(x), 1)

/* One pass over a queue (budgeted; reschedules itself): a pair's
 * transmitq, or every receiveq in use. */
void dp_tx_process(struct vdev *vd, unsigned pair);
void dp_rx_process(struct vdev *vd);
/* Answers every command the driver made available on the control queue:
 * RX modes, MAC table, MAC address, announce acknowledgement (5.1.6.5). */
void dp_ctrl_process(struct vdev *vd);

/* Runs fn(arg) from the event loop soon (a zero timer, its id in *slot):
 * a pass that used its budget yields to the process's other vdevs.
 * False when no timer could be armed: the caller goes on in place. */
bool dp_later(struct vdev *vd, long *slot, void (*fn)(void *arg), void *arg);

/* The frame behind a hdr_len-byte header when one readable buffer holds
 * all of it (with the header, or after a header buffer of its own): true
 * with *frame and *len set. */
bool chain_frame_view(const struct vq_chain *ch, uint32_t hdr_len, const uint8_t **frame,
		      uint32_t *len);
/* The buffer loops of chain_gather(_from) and chain_scatter (chain.c),
 * from byte off of the readable / writable buffers. */
void chain_gather_bufs(const struct vq_chain *ch, uint32_t off, uint8_t *dst, uint32_t len);
uint32_t chain_scatter_bufs(const struct vq_chain *ch, uint32_t off, const uint8_t *src,
			    uint32_t len);

/* Copies the first len bytes of a chain's readable buffers to dst.
 * Inline for the common case, a driver putting header and frame in one
 * buffer (ANY_LAYOUT, 5.1.6.6): one copy, no loop and no call. */
static inline void chain_gather(const struct vq_chain *ch, uint8_t *dst, uint32_t len)
{
	if (ch->n_out > 0 && ch->bufs[0].len >= len) {
		memcpy(dst, ch->bufs[0].ptr, len);
		return;
	}
	chain_gather_bufs(ch, 0, dst, len);
}

/* The same from byte off of the readable buffers on (a HASH_REPORT
 * guest's frame behind its 20-byte header). */
static inline void chain_gather_from(const struct vq_chain *ch, uint32_t off, uint8_t *dst,
				     uint32_t len)
{
	if (ch->n_out > 0 && off <= ch->bufs[0].len && ch->bufs[0].len - off >= len) {
		memcpy(dst, ch->bufs[0].ptr + off, len);
		return;
	}
	chain_gather_bufs(ch, off, dst, len);
}

/* Copies len bytes from src into the chain's writable buffers starting at
 * byte offset off; returns bytes written (less when the chain is short).
 * A running dirty-page log learns the pages when the chain is pushed with
 * its written length (vq_dev_push).  Inline for the common case: it all
 * fits the first writable buffer. */
static inline uint32_t chain_scatter(const struct vq_chain *ch, uint32_t off,
				     const uint8_t *src, uint32_t len)
{
	const struct vq_buf *b = &ch->bufs[ch->n_out];

	if (ch->n_in > 0 && off <= b->len && len <= b->len - off) {
		memcpy(b->ptr + off, src, len);
		return len;
	}
	return chain_scatter_bufs(ch, off, src, len);
}

/* Publishes the used elements of queue q (used: how many since the last
 * flush) and interrupts the driver if it asked, at once or when its
 * coalescing says (notify.c); counts delivered, suppressed and held
 * interrupts. */
void dp_flush_used(struct vdev *vd, unsigned q, unsigned used);
/* Interrupt coalescing of a receiveq or transmitq (5.1.6.5.6): 0, or
 * -EINVAL for another queue.  An interrupt held under the old setting is
 * sent. */
int dp_coal_set(struct vdev *vd, unsigned q, uint32_t max_packets, uint32_t max_usecs);
/* A queue's ring turned out malformed: NEEDS_RESET with its reason
 * (from a data-path thread: by the main loop, soon; the queue is latched
 * broken meanwhile). */
void dp_queue_broken(struct vdev *vd, unsigned q);
/* A link ring broke the rules: the link goes (peer_link_ring_broken),
 * from a data-path thread by the main loop. */
void dp_link_broken(struct vdev *vd);
/* Adds to a counter of the whole vdev (vd->stats): several data-path
 * threads may count at once. */
static inline void dp_count(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}
/* Records a frame in the vdev's capture (only while vd->capture is
 * set); the live sink's bytes go from the main loop. */
void dp_capture(struct vdev *vd, const uint8_t *frame, uint32_t len);
/* Interrupts the driver for queue q (dp_raise: under the vdev's
 * interrupt lock when on a data-path thread). */
bool dp_raise(struct vdev *vd, unsigned q);

/* ---- data-path threads (threads.c) ----------------------------------- */

/* What a thread leaves to the main loop (vd->dp.deferred). */
#define DP_DEFER_QUEUE(q)  (1u << (q))	/* queue q broke: NEEDS_RESET */
#define DP_DEFER_RING	   (1u << 20)	/* a link ring broke: drop the link */
#define DP_DEFER_CAPTURE   (1u << 21)	/* a live capture has bytes to send */
#define DP_DEFER_CTRLQ	   (1u << 22)	/* the controlq was kicked */
static_assert(VDEV_MAX_QUEUES <= 20, "a deferred bit per queue");

void dp_defer(struct vdev *vd, uint32_t bits);
/* Is this a data-path thread (not the main loop)? */
bool dp_on_thread(void);
/* The loop, scratch buffers and receive-reschedule slot of whatever runs
 * the pass now: the main loop's, or the data-path thread's own. */
struct evloop *dp_cur_loop(struct vdev *vd);
struct dp_scratch *dp_scratch(struct vdev *vd);
long *dp_rx_slot(struct vdev *vd);
/* The thread that receives from link ring `ring` (0 without threads),
 * and whether the caller is it; the same for a pair's transmitq. */
unsigned dp_rx_owner(const struct vdev *vd, unsigned ring);
bool dp_rx_mine(const struct vdev *vd, unsigned ring);
bool dp_tx_mine(const struct vdev *vd, unsigned pair);
/* Makes thread idx run a round of its passes (not when it is the
 * caller). */
void dp_nudge(struct vdev *vd, unsigned idx);
/* Do the frames of link ring j go to several receiveqs?  Only over a
 * one-ring link with more than one pair in use (rx.c's rx_pair_of). */
static inline bool dp_rx_spreads(const struct vdev *vd)
{
	return vd->curr_pairs > 1 && vd->dp.link_pairs <= 1;
}
/* The pair whose receiveq link ring j feeds when the ring does not
 * spread: the sender put transmitq K's frames on ring K (or steered by
 * our RSS), and only pairs in use take frames (5.1.6.5.5). */
static inline unsigned dp_rx_ring_pair(const struct vdev *vd, unsigned j)
{
	return vd->curr_pairs <= 1 ? 0 : j % vd->curr_pairs;
}
/* Does link ring j feed receiveq `pair`? */
static inline bool dp_rx_ring_feeds(const struct vdev *vd, unsigned j, unsigned pair)
{
	return dp_rx_spreads(vd) || dp_rx_ring_pair(vd, j) == pair;
}
/* Does transmitq t wait for space in link ring `ring`?  Read by other
 * threads (a doorbell's, another transmitq's), so atomic; tx.c writes it
 * (txq_set_waiting). */
static inline bool dp_txq_waits_on(const struct dp_txq *t, unsigned ring)
{
	return __atomic_load_n(&t->waiting_space, __ATOMIC_ACQUIRE) &&
	       __atomic_load_n(&t->wait_ring, __ATOMIC_RELAXED) == ring;
}
/* Timers the threads' passes armed, cancelled (dp_stop). */
void dp_threads_cancel(struct vdev *vd);
/* Scratch buffers (dp.c). */
int dp_scratch_init(struct dp_scratch *s);
void dp_scratch_free(struct dp_scratch *s);

#endif /* VNET_HOST_DP_PRIV_H */
