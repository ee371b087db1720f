// SPDX-License-Identifier: MIT
/*
 * tx.c - transmitq -> peer ring.
 *
 * Each chain the guest makes available on the transmitq is one frame: a
 * virtio-net header followed by the Ethernet frame (5.1.6.2), spread over
 * device-readable buffers.  We copy it into a record of our transmit ring
 * (canonical 12-byte header, then the frame), give the chain back, and
 * publish the ring once per pass, ringing the peer's doorbell only when
 * its consumer asked for a wakeup.
 *
 * Guest notifications are disabled while a pass runs and re-enabled (with
 * a re-check) only when the queue is empty (2.7.10).  When the peer ring
 * is full the chain stays in the guest's ring and we wait for the peer's
 * doorbell: flow control instead of loss.
 *
 * With multiqueue (MQ) each transmitq has its own pass and its own
 * waiting state, and transmitq K feeds the link's ring K (modulo the ring
 * pairs the link has, when the peer has fewer), so the peer's device
 * delivers it to its receiveq K.  When the peer's driver configured RSS
 * (5.1.6.5.7.1), its device told us, and each frame goes instead on the
 * ring of the receive queue that configuration gives it: the receiving
 * side reads each ring into one queue and hashes nothing.
 */
#include <sched.h>
#include <string.h>

#include "common/log.h"
#include "common/net_hdr.h"
#include "common/peer_ring.h"
#include "common/rss.h"
#include "host/dev/capture.h"
#include "host/dp/dp_priv.h"
#include "host/dp/offload.h"
#include "host/peer/link.h"

/* Why tx_frame_ok refused a chain, logged.  Out of line and cold: the
 * check itself runs for every frame. */
static void __attribute__((cold, noinline))
tx_frame_refuse(const struct vdev *vd, const struct vq_chain *ch, uint32_t hdr_len)
{
	if (ch->out_len < hdr_len + VNET_ETH_HLEN)
		log_rl(LOG_WARN, "%s: transmit chain of %u bytes is shorter than header + Ethernet header",
		       vd->name, ch->out_len);
	else
		log_rl(LOG_WARN, "%s: transmit frame of %u bytes exceeds %u", vd->name,
		       ch->out_len - hdr_len, VNET_MAX_GSO_FRAME);
}

/* Is the frame in a chain one we may put on the link: at least an
 * Ethernet header, at most a 64 KiB GSO frame? */
static inline bool tx_frame_ok(const struct vdev *vd, const struct vq_chain *ch,
			       uint32_t hdr_len)
{
	if (likely(ch->out_len >= hdr_len + VNET_ETH_HLEN &&
		   ch->out_len - hdr_len <= VNET_MAX_GSO_FRAME))
		return true;
	tx_frame_refuse(vd, ch, hdr_len);
	return false;
}

/* Why tx_hdr_ok refused a header: the same two rules again, with their
 * reasons, logged.  Out of line and cold. */
static void __attribute__((cold, noinline))
tx_hdr_refuse(const struct vdev *vd, const struct virtio_net_hdr_v1 *h, uint32_t flen)
{
	char why[200] = "?";

	if (net_hdr_check(h, flen, why, sizeof(why)) == 0)
		(void)net_hdr_allowed(h, vd->driver_features, NET_HDR_TO_DEVICE, why, sizeof(why));
	log_rl(LOG_WARN, "%s: guest sent a frame the device refuses: %s; dropped", vd->name, why);
}

/* May our guest send a frame with this header?  The one rule
 * (common/net_hdr.h): well formed, and asking only for offloads the
 * guest negotiated, since the peer was promised nothing else.  A header
 * refused here never reaches the link, where it would break the peer's
 * ring. */
static inline bool tx_hdr_ok(const struct vdev *vd, const struct virtio_net_hdr_v1 *h,
			     uint32_t flen)
{
	if (likely(net_hdr_check(h, flen, NULL, 0) == 0 &&
		   net_hdr_allowed(h, vd->driver_features, NET_HDR_TO_DEVICE, NULL, 0) == 0))
		return true;
	tx_hdr_refuse(vd, h, flen);
	return false;
}

static void tx_resched_fn(void *arg)
{
	struct vdev_queue *q = arg;
	struct vdev *vd = q->vd;
	unsigned pair = (unsigned)(q - vd->q) / 2;

	vd->dp.txq[pair].resched = -1;
	dp_tx_process(vd, pair);
}

/* Outcome of one pass over the transmitq.  TX_BUSY: another thread's
 * pass held a second ring this pass wanted. */
enum tx_stop { TX_EMPTY, TX_BUDGET, TX_RING_FULL, TX_BUSY, TX_BROKEN };

/* Chains taken from the transmitq per call into the ring: one call
 * through the ring's operations table, and one push call, per burst. */
#define TX_BURST 32u

/* What a pass did: chains pushed, link rings committed to (bit k: ring
 * k), and, when a ring was full, which one and the bytes wanted. */
struct tx_state {
	int fixed_ring;		/* every frame's ring, or -1: chosen per frame */
	unsigned pushed;
	unsigned committed;
	unsigned full_ring;
	uint32_t need;
	/* With several data-path threads, the link rings whose producer
	 * end this pass holds (bit k: ring k), and whether it stopped
	 * because another pass held one. */
	unsigned held;
	bool busy;
	/* Frames and bytes sent, added to the queue's counters once per
	 * pass. */
	uint64_t frames, bytes;
};

/* The link ring transmitq `pair` feeds. */
static unsigned tx_ring_of(const struct vdev *vd, unsigned pair)
{
	return vd->dp.link_pairs ? pair % vd->dp.link_pairs : 0;
}

/* The ring a frame goes on: with the peer's device steering by its
 * driver's RSS configuration, the ring of the receive queue the frame
 * belongs to there; else transmitq K's ring K.  The hash reads the frame
 * where the guest put it when one buffer holds it (the parser checks
 * every offset against the length it was given, so a guest changing the
 * bytes meanwhile only moves its own frame); a frame spread over several
 * buffers keeps transmitq K's ring. */
static unsigned tx_ring_for(const struct vdev *vd, unsigned pair, const struct vq_chain *ch,
			    uint32_t hdr_len)
{
	const uint8_t *frame;
	uint32_t flen;

	if (!chain_frame_view(ch, hdr_len, &frame, &flen))
		return tx_ring_of(vd, pair);
	return rss_queue_of(&vd->dp.peer_rss, frame, flen) % vd->dp.link_pairs;
}

/* Several data-path threads may feed one link ring (fewer rings than
 * pairs, or the peer's RSS spreading each pass's frames): a pass holds
 * the producer end of each ring it writes, from its first record to its
 * publish.  The first ring it waits for; a further one it only tries, so
 * two passes never wait for each other (each sent a frame by then). */
static bool ring_try(struct vdev *vd, unsigned k)
{
	return !__atomic_test_and_set(&vd->dp.tx_ring_busy[k], __ATOMIC_ACQUIRE);
}

static bool tx_ring_hold(struct vdev *vd, struct tx_state *st, unsigned k)
{
	if (likely(vd->dp.n_threads <= 1) || (st->held & (1u << k)))
		return true;
	if (st->held) {
		if (!ring_try(vd, k))
			return false;
	} else {
		for (unsigned spins = 0; !ring_try(vd, k); spins++)
			if (spins % 64 == 63)
				sched_yield();	/* its holder may have no CPU */
	}
	st->held |= 1u << k;
	return true;
}

static void tx_rings_release(struct vdev *vd, struct tx_state *st)
{
	for (unsigned k = 0; st->held; k++)
		if (st->held & (1u << k)) {
			__atomic_clear(&vd->dp.tx_ring_busy[k], __ATOMIC_RELEASE);
			st->held &= ~(1u << k);
		}
}

/* The checks a chain passes before its frame goes on the link: its
 * length, then the guest's header, copied into *gh (a legacy guest's 10
 * bytes zero-extended; a HASH_REPORT guest's hash fields, which only the
 * receiving device fills, not read) and judged there.  False: the frame
 * is dropped (the caller counts it, once the chain is used). */
static inline __attribute__((always_inline)) bool
tx_check(struct vdev *vd, const struct vq_chain *ch, struct virtio_net_hdr_v1 *gh)
{
	const uint32_t hdr_len = vd->hdr_len;

	memset(gh, 0, sizeof(*gh));
	if (!tx_frame_ok(vd, ch, hdr_len))
		return false;
	/* A constant length makes the usual 12-byte header's copy two
	 * moves instead of a call. */
	if (hdr_len >= sizeof(*gh))
		chain_gather(ch, (uint8_t *)gh, sizeof(*gh));
	else
		chain_gather(ch, (uint8_t *)gh, hdr_len);
	return tx_hdr_ok(vd, gh, ch->out_len - hdr_len);
}

/* Writes a checked chain's frame into its link record: the frame after
 * the link's 12-byte header, and the header tx_check judged in place of
 * whatever the guest may have changed since.  num_buffers is
 * receive-only: 0 on the link (5.1.6.2). */
static inline __attribute__((always_inline)) void
tx_fill(struct vdev *vd, const struct vq_chain *ch, uint8_t *rec, struct virtio_net_hdr_v1 *gh)
{
	const uint32_t hdr_len = vd->hdr_len;
	const uint32_t link_hdr = sizeof(*gh);

	/* Only a HASH_REPORT guest's header (20 bytes, 5.1.6) is longer
	 * than the link's 12. */
	if (likely(hdr_len <= link_hdr))
		chain_gather(ch, rec + link_hdr - hdr_len, ch->out_len);
	else
		chain_gather_from(ch, hdr_len, rec + link_hdr, ch->out_len - hdr_len);
	gh->num_buffers = 0;
	memcpy(rec, gh, sizeof(*gh));
	/* Recorded as it crosses: an offloaded frame is one large frame,
	 * its checksum partial (capture.h). */
	if (unlikely(vd->capture))
		dp_capture(vd, rec + link_hdr, ch->out_len - hdr_len);
}

/* One chain onto its link ring.  False when the ring has no room for it
 * (st: which ring, the bytes it wants); the chain is then not used. */
static bool tx_one(struct vdev *vd, struct vdev_queue *q, unsigned pair,
		   const struct vq_chain *ch, struct tx_state *st)
{
	const uint32_t link_hdr = sizeof(struct virtio_net_hdr_v1);
	struct virtio_net_hdr_v1 gh;
	struct peer_ring_prod *ring;
	uint32_t rec_len;
	unsigned k;
	uint8_t *rec;

	if (!vd->dp.link_pairs) {
		dp_count(&vd->stats.drop_link_down, 1);
		return true;
	}
	if (!tx_check(vd, ch, &gh)) {
		dp_count(&vd->stats.drop_bad_frame, 1);
		return true;
	}
	/* A pass whose frames share a ring holds it from its start
	 * (dp_tx_process); one that steers each frame takes each ring as it
	 * comes. */
	if (st->fixed_ring >= 0) {
		k = (unsigned)st->fixed_ring;
	} else {
		k = tx_ring_for(vd, pair, ch, vd->hdr_len);
		if (unlikely(!tx_ring_hold(vd, st, k))) {
			st->busy = true;
			return false;
		}
	}
	ring = vd->dp.tx_ring[k];
	rec_len = ch->out_len - vd->hdr_len + link_hdr;
	rec = peer_ring_reserve(ring, rec_len);
	if (!rec) {
		st->full_ring = k;
		st->need = rec_len;
		return false;
	}
	tx_fill(vd, ch, rec, &gh);
	peer_ring_commit(ring, rec_len);
	st->committed |= 1u << k;
	st->frames++;
	st->bytes += rec_len - link_hdr;
	return true;
}

static_assert(TX_BURST <= 32, "tx_burst_fixed keeps a bit per chain in a u32");

/* A burst of n chains whose frames all go on one link ring
 * (st->fixed_ring, held): every chain checked first, then the good
 * frames' records queued in one call (peer_ring_put_burst), then filled.
 * How many chains, in order, are used (sent or dropped): n, or fewer
 * when the ring filled (st: which ring, the bytes wanted), as tx_one
 * would have stopped. */
static unsigned tx_burst_fixed(struct vdev *vd, const struct vq_chain *ch, unsigned n,
			       struct tx_state *st)
{
	const uint32_t link_hdr = sizeof(struct virtio_net_hdr_v1);
	const unsigned k = (unsigned)st->fixed_ring;
	struct virtio_net_hdr_v1 gh[TX_BURST];
	uint32_t lens[TX_BURST];
	uint8_t *recs[TX_BURST];
	uint8_t at[TX_BURST];	/* the chain of each good frame */
	uint32_t bad = 0;	/* bit i: chain i was refused */
	unsigned m = 0, put, used;

	for (unsigned i = 0; i < n; i++) {
		if (!tx_check(vd, &ch[i], &gh[m])) {
			bad |= 1u << i;
			continue;
		}
		lens[m] = ch[i].out_len - vd->hdr_len + link_hdr;
		at[m++] = (uint8_t)i;
	}
	put = peer_ring_put_burst(vd->dp.tx_ring[k], lens, m, recs);
	assert(put <= m);
	for (unsigned j = 0; j < put; j++) {
		tx_fill(vd, &ch[at[j]], recs[j], &gh[j]);
		st->bytes += lens[j] - link_hdr;
	}
	st->frames += put;
	if (put)
		st->committed |= 1u << k;
	used = n;
	if (put < m) {
		used = at[put];
		st->full_ring = k;
		st->need = lens[put];
	}
	/* Refused chains count once they are used: those after the first
	 * that found no room go back to the guest's ring and come again. */
	bad &= used >= 32 ? ~0u : (1u << used) - 1;
	if (unlikely(bad))
		dp_count(&vd->stats.drop_bad_frame, (uint64_t)__builtin_popcount(bad));
	return used;
}

static enum tx_stop tx_pass(struct vdev *vd, struct vdev_queue *q, unsigned pair,
			    struct tx_state *st)
{
	struct vq_chain ch[TX_BURST];
	struct vq_buf *bufs = dp_scratch(vd)->chain_bufs;

	for (unsigned n = 0; n < VDEV_BUDGET;) {
		unsigned want = VDEV_BUDGET - n < TX_BURST ? VDEV_BUDGET - n : TX_BURST;
		int r = vq_dev_pop_burst(&q->vq, ch, want, bufs, VDEV_QUEUE_LIMIT * 2u,
					 VQ_CHAIN_READ_ONLY);
		unsigned k = 0;

		if (r == 0)
			return TX_EMPTY;
		if (r < 0)
			return TX_BROKEN;
		/* Every chain is used, sent or dropped (a transmit chain's
		 * used length is 0), except those left when a link ring
		 * fills: they go back to the guest's ring, newest first. */
		if (st->fixed_ring >= 0 && vd->dp.link_pairs)
			k = tx_burst_fixed(vd, ch, (unsigned)r, st);
		else
			while (k < (unsigned)r && tx_one(vd, q, pair, &ch[k], st))
				k++;
		vq_dev_push_burst(&q->vq, ch, k, NULL);
		st->pushed += k;
		n += k;
		if (k < (unsigned)r) {
			for (unsigned i = (unsigned)r; i > k; i--)
				vq_dev_unpop(&q->vq, &ch[i - 1]);
			return st->busy ? TX_BUSY : TX_RING_FULL;
		}
	}
	return TX_BUDGET;
}

/* Does another transmitq wait for space in the same link ring?  The ring
 * has one need-wakeup flag for them all: only the last one to stop
 * waiting may clear it.  (With several threads, under the ring's
 * producer end, which every waiter held when it started waiting.) */
static bool other_txq_waiting(const struct vdev *vd, unsigned pair, unsigned ring)
{
	for (unsigned k = 0; k < VDEV_MAX_PAIRS; k++)
		if (k != pair && dp_txq_waits_on(&vd->dp.txq[k], ring))
			return true;
	return false;
}

/* Waiting for space in link ring `ring` (or, ring < 0, not), as other
 * threads' doorbells read it. */
static void txq_set_waiting(struct dp_txq *t, int ring)
{
	if (ring >= 0)
		__atomic_store_n(&t->wait_ring, (unsigned)ring, __ATOMIC_RELAXED);
	__atomic_store_n(&t->waiting_space, ring >= 0, __ATOMIC_RELEASE);
}

/* This transmitq stops waiting for space: the ring's need-wakeup flag
 * goes if no other transmitq still waits on it. */
static void txq_stop_waiting(struct vdev *vd, unsigned pair, struct dp_txq *t)
{
	struct tx_state st = { .fixed_ring = -1 };
	unsigned ring = t->wait_ring;

	if (!t->waiting_space)
		return;
	if (ring < vd->dp.link_pairs) {
		(void)tx_ring_hold(vd, &st, ring);	/* the first: always held */
		if (!other_txq_waiting(vd, pair, ring))
			peer_ring_prod_awake(vd->dp.tx_ring[ring]);
		txq_set_waiting(t, -1);
		tx_rings_release(vd, &st);
		return;
	}
	txq_set_waiting(t, -1);
}

/* Ring `ring` had room after all, and peer_ring_prod_wait_prepare
 * cleared its need-wakeup flag: another transmitq waiting on it would
 * wait for a doorbell that no longer comes, so it runs soon instead. */
static void wake_ring_waiters(struct vdev *vd, unsigned pair, unsigned ring)
{
	for (unsigned k = 0; k < vdev_pairs_negotiated(vd); k++) {
		struct dp_txq *o = &vd->dp.txq[k];

		if (k == pair || !dp_txq_waits_on(o, ring))
			continue;
		if (!dp_tx_mine(vd, k))
			dp_nudge(vd, k % vd->dp.n_threads);
		else if (o->resched < 0)
			(void)dp_later(vd, &o->resched, tx_resched_fn, &vd->q[vnet_txq(k)]);
	}
}

void dp_tx_process(struct vdev *vd, unsigned pair)
{
	const unsigned qi = vnet_txq(pair);
	struct vdev_queue *q = &vd->q[qi];
	struct dp_txq *t = &vd->dp.txq[pair];

	/* With threads, a pair's passes run on its own thread only. */
	if (unlikely(!dp_tx_mine(vd, pair))) {
		if (dp_on_thread())
			dp_nudge(vd, pair % vd->dp.n_threads);
		return;
	}
	if (!vdev_running(vd) || !q->enabled || t->resched >= 0)
		return;
	/* Moved in, the link not taken over yet: the frames wait. */
	if (unlikely(vd->dp.await_link >= 0))
		return;
	txq_stop_waiting(vd, pair, t);
	vq_dev_set_notify(&q->vq, false);
	for (;;) {
		/* Without the peer's RSS the pass's frames share one ring. */
		struct tx_state st = {
			.fixed_ring = vd->dp.peer_rss.on && vd->dp.link_pairs > 1
					      ? -1
					      : (int)tx_ring_of(vd, pair),
		};
		enum tx_stop why;
		struct peer_ring_prod *full;
		bool waiting = false, broken = false;

		if (st.fixed_ring >= 0 && vd->dp.link_pairs)
			(void)tx_ring_hold(vd, &st, (unsigned)st.fixed_ring);	/* the first */
		why = tx_pass(vd, q, pair, &st);

		q->stats.frames += st.frames;
		q->stats.bytes += st.bytes;
		for (unsigned k = 0; k < vd->dp.link_pairs; k++)
			if (st.committed & (1u << k))
				peer_link_tx_publish(vd->link, k);
		if (why == TX_RING_FULL) {
			full = vd->dp.tx_ring[st.full_ring];
			broken = full->broken;
			/* Sleep until the peer frees space, unless it already
			 * did (the re-check inside closes the race).  Marked
			 * waiting first: a doorbell the need-wakeup flag brings
			 * (on another thread, dp_ring_event) then finds it. */
			if (!broken) {
				txq_set_waiting(t, (int)st.full_ring);
				waiting = peer_ring_prod_wait_prepare(full, st.need);
				if (!waiting) {
					txq_set_waiting(t, -1);
					wake_ring_waiters(vd, pair, st.full_ring);
				}
			}
		}
		tx_rings_release(vd, &st);
		if (st.pushed)
			dp_flush_used(vd, qi, st.pushed);
		switch (why) {
		case TX_BROKEN:
			dp_queue_broken(vd, qi);
			return;
		case TX_BUDGET:
		case TX_BUSY:
			if (dp_later(vd, &t->resched, tx_resched_fn, q))
				return;
			continue;	/* no timer slot: keep going */
		case TX_RING_FULL:
			if (broken) {
				dp_link_broken(vd);
				return;
			}
			if (waiting)
				return;
			continue;
		case TX_EMPTY:
			if (vq_dev_set_notify(&q->vq, true)) {
				vq_dev_set_notify(&q->vq, false);
				continue;
			}
			return;
		}
	}
}
