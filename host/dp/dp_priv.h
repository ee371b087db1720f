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
/* A queue's ring turned out malformed: NEEDS_RESET with its reason. */
void dp_queue_broken(struct vdev *vd, unsigned q);

#endif /* VNET_HOST_DP_PRIV_H */
