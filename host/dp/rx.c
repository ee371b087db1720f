// SPDX-License-Identifier: MIT
/*
 * rx.c - peer ring -> receiveq.
 *
 * Each record of the peer's ring is one frame with the canonical 12-byte
 * header.  The header is copied into private memory and checked before
 * anything else (the peer may change shared memory under us, and is not
 * trusted); the frame is then copied into one receive chain of the guest
 * (5.1.6.3/5.1.6.4) with the header rewritten for the guest.
 *
 * Without a receive buffer the frame stays in the peer ring (the peer's
 * transmit path then waits) and we ask the guest to notify us when it
 * adds buffers.  Frames that reach a device whose driver is not live are
 * dropped and counted, so a stopped guest never blocks its peer.
 *
 * With more than one pair in use (MQ, 5.1.6.5.5) the link has a ring
 * pair per queue pair both sides have: link ring K carries what the
 * peer's guest sent on its transmitq K and goes to receiveq K.  When the
 * link has one ring (the peer has one pair), each frame goes to the
 * receiveq its flow hashes to (Toeplitz over addresses and ports with
 * the default key, common/rss.c), a frame without a flow (not IP) to the
 * first.  Rings are read in turn; one waiting for buffers of its
 * receiveq does not hold up the others.
 *
 * With VIRTIO_NET_F_HASH_REPORT the guest's header is 20 bytes and carries
 * the hash of the frame and its type (5.1.6.4.4).  This device computes
 * it, at delivery, with its own driver's configuration (vd->hash; the one
 * hash rule, rss_hash_frame in common/rss.c), rather than taking a hash
 * from the link: the link's record stays the 12-byte header (the peer
 * ring, TAP and older peers unchanged), the sender needs to know only the
 * RSS configuration it already steers by (not HASH_CONFIG), and a hostile
 * peer cannot make our guest report a hash we never computed.  The cost
 * is a second Toeplitz pass when the sender already hashed to steer; a
 * guest without HASH_REPORT pays one branch per frame.  The frame is
 * hashed where it lies in the peer's ring, as the steering hash is: the
 * parser checks every offset against our private length, so a peer
 * changing the bytes meanwhile only changes the hash of its own frame.
 */
#include <string.h>

#include "common/log.h"
#include "common/net_hdr.h"
#include "common/peer_ring.h"
#include "common/rss.h"
#include "host/dev/capture.h"
#include "host/dp/dp_priv.h"
#include "host/dp/offload.h"
#include "host/peer/link.h"

/* On the loop that armed it: the main loop's, or a data-path thread's
 * (whose own slot dp_rx_slot gives). */
static void rx_resched_fn(void *arg)
{
	struct vdev *vd = arg;

	*dp_rx_slot(vd) = -1;
	dp_rx_process(vd);
}

void dp_schedule_rx(struct vdev *vd)
{
	/* With threads, the round each runs when the main loop is done
	 * receives. */
	if (!vd->dp.n_threads && vd->dp.rx_resched < 0)
		dp_later(vd, &vd->dp.rx_resched, rx_resched_fn, vd);
}

enum rx_stop { RX_EMPTY, RX_BUDGET, RX_NO_BUFFER, RX_SHORT, RX_QUEUE_BROKEN,
	       RX_RING_BROKEN };

/* Drops every record (the driver is not live). */
static enum rx_stop rx_drain(struct vdev *vd, struct peer_ring_cons *ring,
			     unsigned *consumed)
{
	const uint8_t *rec;
	uint32_t len;

	for (unsigned n = 0; n < VDEV_BUDGET; n++) {
		int r = peer_ring_peek(ring, &rec, &len);

		if (r < 0)
			return RX_RING_BROKEN;
		if (r == 0)
			return RX_EMPTY;
		dp_count(&vd->stats.drop_no_driver, 1);
		peer_ring_consume(ring);
		(*consumed)++;
	}
	return RX_BUDGET;
}

/* Outcome of delivering one frame. */
enum rx_deliver {
	RX_DELIVERED,		/* in the guest's buffers, chains pushed */
	RX_DROPPED,		/* not delivered, nothing pushed */
	RX_DROPPED_PUSHED,	/* not delivered, an empty chain went back */
	RX_WAIT_BUFFER,		/* guest has no buffer now: retry later */
	RX_WAIT_MORE,		/* it has some, too few for this frame (MRG_RXBUF) */
	RX_BROKEN,		/* the receive queue is malformed */
};

/* Receive chains are taken from a receiveq up to RX_BURST at a time
 * (vq_dev_pop_burst), ahead of the frames that fill them, and given back
 * used together (vq_dev_push_burst): one call into the ring layout each
 * way per burst, where a chain per frame cost a call through vq.c and
 * the operations table each way (bench/insns.sh rx).  A burst is never
 * larger than the frames the link ring holds and the pass may still
 * take, so chains are seldom taken for nothing; what was taken and not
 * filled goes back to the ring (vq_dev_unpop, newest first) before the
 * pass ends or takes chains one by one (deliver_merged), so those and the
 * next pass find the ring as if it had never been taken. */
#define RX_BURST 32u

struct rx_take {
	struct vdev_queue *q;	/* whose chains are held; NULL: none */
	unsigned n;		/* chains taken */
	unsigned used;		/* of them, filled (or given back empty) */
	/* How many to take: the frames the link ring holds (ring), up to
	 * the pass's budget (its consumer index cons_end), and `extra`
	 * more (the rest of a frame cut in software, deliver_fixed); at
	 * most `burst`.  One when a frame took more than one chain
	 * (MRG_RXBUF, small buffers), for the rest of the pass, since a
	 * burst would mostly go back unfilled; one too when the ring's
	 * frames spread over several receiveqs, as a burst for one queue
	 * would go back whenever the next frame goes elsewhere. */
	const struct peer_ring_cons *ring;
	uint32_t cons_end;
	unsigned extra;
	unsigned burst;
	struct vq_chain ch[RX_BURST];
	uint32_t written[RX_BURST];	/* bytes written into ch[i] */
};

/* Gives back the chains held: the filled ones used, with the bytes
 * written into each (vq_dev_push_burst marks them in a running dirty-page
 * log), the others unused. */
static void rx_take_end(struct rx_take *t)
{
	if (!t->q)
		return;
	vq_dev_push_burst(&t->q->vq, t->ch, t->used, t->written);
	for (unsigned i = t->n; i > t->used; i--)
		vq_dev_unpop(&t->q->vq, &t->ch[i - 1]);
	t->q = NULL;
	t->n = t->used = 0;
}

/* Gives back what is held and takes a new burst from q: how many it
 * took, 0 when the guest has none, < 0 when the ring is malformed. */
static int __attribute__((noinline)) rx_take_more(struct vdev *vd, struct vdev_queue *q,
						  struct rx_take *t)
{
	uint32_t want = peer_ring_cons_pending(t->ring);
	int r;

	if (want > t->cons_end - t->ring->cons)
		want = t->cons_end - t->ring->cons;
	want += t->extra;
	if (want > t->burst)
		want = t->burst;
	rx_take_end(t);
	r = vq_dev_pop_burst(&q->vq, t->ch, want, dp_scratch(vd)->chain_bufs, VDEV_QUEUE_LIMIT * 2u,
			     VQ_CHAIN_WRITE_ONLY);
	if (r <= 0)
		return r;
	t->q = q;
	t->n = (unsigned)r;
	return r;
}

/* The next chain of q to fill: 1 with *ch set, 0 when the guest has
 * none, < 0 when the ring is malformed.  Inline for a chain held. */
static inline int rx_take_chain(struct vdev *vd, struct vdev_queue *q, struct rx_take *t,
				struct vq_chain **ch)
{
	if (unlikely(t->used == t->n || t->q != q)) {
		int r = rx_take_more(vd, q, t);

		if (r <= 0)
			return r;
	}
	*ch = &t->ch[t->used];
	return 1;
}

/* With MRG_RXBUF: the frame fills as many chains as it needs and the
 * first header's num_buffers says how many (5.1.6.4).  If the guest has
 * too few buffers right now, every chain taken is given back and we wait. */
static enum rx_deliver deliver_merged(struct vdev *vd, struct vdev_queue *q,
				      struct virtio_net_hdr_v1_hash *h, const uint8_t *frame,
				      uint32_t flen)
{
	/* 12 bytes, or 20 with HASH_REPORT: only the first buffer has it
	 * (5.1.6.4), and 5.1.6.3.1 has every buffer hold that much. */
	const uint32_t hdr_len = vd->hdr_len;
	struct vq_chain *chains = dp_scratch(vd)->mrg_chains;
	uint32_t written[VDEV_QUEUE_LIMIT];
	uint32_t done = 0;
	unsigned n = 0;

	while (n == 0 || done < flen) {
		struct vq_chain *ch = &chains[n];
		uint32_t off = n == 0 ? hdr_len : 0, room;
		int r;

		if (n == q->vq.size || n == VDEV_QUEUE_LIMIT) {
			/* Even a full queue of these buffers cannot hold it. */
			while (n > 0)
				vq_dev_unpop(&q->vq, &chains[--n]);
			dp_count(&vd->stats.drop_rx_too_small, 1);
			return RX_DROPPED;
		}
		/* The first chain's buffers stay valid for num_buffers below;
		 * later chains are written at once and may share storage. */
		ch->bufs = dp_scratch(vd)->chain_bufs + (n == 0 ? 0 : VDEV_QUEUE_LIMIT);
		ch->cap = VDEV_QUEUE_LIMIT;
		r = vq_dev_pop(&q->vq, ch, VQ_CHAIN_WRITE_ONLY);
		if (r < 0)
			return RX_BROKEN;
		if (r == 0) {
			bool some = n > 0;

			while (n > 0)
				vq_dev_unpop(&q->vq, &chains[--n]);
			return some ? RX_WAIT_MORE : RX_WAIT_BUFFER;
		}
		if (n == 0 && ch->in_len < hdr_len) {
			/* 5.1.6.3.1: every buffer must hold at least a header. */
			dp_count(&vd->stats.drop_rx_too_small, 1);
			vq_dev_push(&q->vq, ch, 0);
			return RX_DROPPED_PUSHED;
		}
		room = ch->in_len - off;
		if (room > flen - done)
			room = flen - done;
		chain_scatter(ch, off, frame + done, room);
		written[n++] = off + room;
		done += room;
	}
	h->hdr.num_buffers = (uint16_t)n;
	/* A constant length makes the usual 12-byte header's copy two
	 * moves instead of a call. */
	if (hdr_len == sizeof(h->hdr))
		chain_scatter(&chains[0], 0, (const uint8_t *)h, sizeof(h->hdr));
	else
		chain_scatter(&chains[0], 0, (const uint8_t *)h, hdr_len);
	for (unsigned i = 0; i < n; i++)
		vq_dev_push(&q->vq, &chains[i], written[i]);
	return RX_DELIVERED;
}

/* 5.1.6.4.4: the hash of the frame under the driver's configuration and
 * its type; NONE and 0 when no enabled type applies (or none is, as after
 * a reset).  Out of line, so that deliver() stays small enough to be
 * inlined into the receive pass: the guest without HASH_REPORT pays the
 * branch and nothing else (bench/insns.sh rx). */
static __attribute__((noinline)) void rx_hash_report(const struct vdev *vd,
						     struct virtio_net_hdr_v1_hash *h,
						     const uint8_t *frame, uint32_t flen)
{
	const struct rss_hash_cfg *c = &vd->hash;
	uint8_t report;

	h->hash_value = rss_hash_frame(c->key, c->key_len, c->hash_types, frame, flen, &report);
	h->hash_report = report;
	h->padding_reserved = 0;
}

/* h: the link's 12-byte header in h->hdr; the hash fields are filled here
 * when the guest has them (HASH_REPORT), and only then read.  Inlined
 * into its callers, as before the hash branch tipped the compiler's
 * choice (30 instructions a frame of call overhead, bench/insns.sh rx). */
static inline __attribute__((always_inline)) enum rx_deliver
deliver(struct vdev *vd, struct vdev_queue *q, struct rx_take *t,
	struct virtio_net_hdr_v1_hash *h, const uint8_t *frame, uint32_t flen)
{
	const uint32_t hdr_len = vd->hdr_len;	/* what the guest sees */
	struct vq_chain *ch;
	int r;

	if (unlikely(vd->driver_features & VIRTIO_BIT(VIRTIO_NET_F_HASH_REPORT)))
		rx_hash_report(vd, h, frame, flen);
	r = rx_take_chain(vd, q, t, &ch);
	if (r < 0)
		return RX_BROKEN;
	if (r == 0)
		return RX_WAIT_BUFFER;
	if (ch->in_len >= hdr_len + flen) {
		/* The usual case, with MRG_RXBUF or without: one chain holds
		 * header and frame, so num_buffers is 1 (5.1.6.4; a legacy
		 * guest's 10-byte header simply ends before it).  Usually
		 * its first buffer holds them (ANY_LAYOUT, 5.1.6.6; a
		 * write-only chain's buffers are all writable): two copies,
		 * the usual 12-byte header's a constant length, so two moves
		 * instead of a call. */
		const struct vq_buf *b = &ch->bufs[0];

		h->hdr.num_buffers = 1;
		if (likely(hdr_len == sizeof(h->hdr) && b->len >= hdr_len + flen)) {
			memcpy(b->ptr, h, sizeof(h->hdr));
			memcpy(b->ptr + sizeof(h->hdr), frame, flen);
		} else {
			chain_scatter(ch, 0, (const uint8_t *)h, hdr_len);
			chain_scatter(ch, hdr_len, frame, flen);
		}
		t->written[t->used++] = hdr_len + flen;
		return RX_DELIVERED;
	}
	if (!(vd->driver_features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF))) {
		/* 5.1.6.3: without MRG_RXBUF one chain must hold the whole
		 * frame; this one cannot, so it goes back empty and the
		 * frame is dropped. */
		dp_count(&vd->stats.drop_rx_too_small, 1);
		t->written[t->used++] = 0;
		return RX_DROPPED_PUSHED;
	}
	/* The frame needs more than this chain: chain by chain, from this
	 * one on, and so for the rest of the pass. */
	rx_take_end(t);
	t->burst = 1;
	return deliver_merged(vd, q, h, frame, flen);
}

static void count_rx(struct vdev_queue *q, uint32_t flen)
{
	q->stats.frames++;
	q->stats.bytes += flen;
}

/* The pair whose receiveq takes a frame from link ring j (5.1.6.5.5:
 * only pairs in use): ring K's frames go to receiveq K; over a one-ring
 * link our driver's RSS configuration chooses, or without one the flow's
 * hash under the default key. */
static unsigned rx_pair_of(const struct vdev *vd, unsigned j, const uint8_t *frame,
			   uint32_t flen)
{
	/* The sender steered: by our driver's RSS when it is on (we told
	 * it), else its transmitq K to ring K. */
	if (!dp_rx_spreads(vd))
		return dp_rx_ring_pair(vd, j);
	if (vd->rss.on)
		return rss_queue_of(&vd->rss, frame, flen) % vd->curr_pairs;
	return rss_flow_queue(frame, flen, vd->curr_pairs);
}

/* A frame our guest cannot take as it is: fixed in software, then its
 * frames delivered one by one.  If buffers run out after the first one,
 * the rest is dropped (counted): lost, never duplicated. */
static enum rx_deliver deliver_fixed(struct vdev *vd, struct vdev_queue *q, struct rx_take *t,
				     const struct virtio_net_hdr_v1 *h, const uint8_t *frame,
				     uint32_t flen, unsigned *pushed)
{
	const uint8_t *base;
	struct virtio_net_hdr_v1 fixed = *h;
	int n = net_offload_fixup(vd, dp_scratch(vd)->offload, &fixed, frame, flen, &base);
	bool some = false;

	if (n < 0) {
		dp_count(&vd->stats.drop_bad_frame, 1);
		return RX_DROPPED;
	}
	for (int i = 0; i < n; i++) {
		const struct gso_seg *sg = &dp_scratch(vd)->offload->segs[i];
		struct virtio_net_hdr_v1_hash sh = { .hdr = fixed };
		enum rx_deliver d;

		t->extra = (unsigned)(n - 1 - i);
		d = deliver(vd, q, t, &sh, base + sg->offset, sg->len);
		t->extra = 0;

		if (d == RX_BROKEN)
			return d;
		if (d == RX_WAIT_BUFFER || d == RX_WAIT_MORE) {
			if (i == 0)
				return d;	/* nothing delivered: retry later */
			dp_count(&vd->stats.drop_no_rx_buffer, (uint64_t)(n - i));
			break;
		}
		if (d == RX_DELIVERED) {
			count_rx(q, sg->len);
			some = true;
		}
		if (d != RX_DROPPED)
			(*pushed)++;
	}
	/* Captured as it crossed the link, before the fix (capture.h). */
	if (unlikely(vd->capture) && some)
		dp_capture(vd, frame, flen);
	return RX_DROPPED;	/* consumed; counted and pushed above */
}

/* Where a pass stopped and what it did: records consumed, chains
 * pushed per pair (or filled and held in the take, pushed when it ends),
 * and the pair a stop for want of buffers (or a broken queue) refers to;
 * the link ring it reads. */
struct rx_pass {
	unsigned ring;
	unsigned consumed;
	unsigned pushed[VDEV_MAX_PAIRS];
	unsigned at;
};

/* Link records are read up to RX_PEEK at a time (peer_ring_peek_burst):
 * one call and one look at the peer's index per burst. */
#define RX_PEEK 32u

/* One frame of the link ring: where it goes, and what became of it. */
static enum rx_deliver rx_frame(struct vdev *vd, struct rx_pass *ps, struct rx_take *t,
				const struct peer_ring_rec *r)
{
	const uint32_t link_hdr = sizeof(struct virtio_net_hdr_v1);
	const uint8_t *frame = r->rec + link_hdr;
	const uint32_t flen = r->len - link_hdr;
	/* The header the ring's consumer checked (net_hdr_check), on its
	 * private copy: what we act on. */
	struct virtio_net_hdr_v1_hash hh = { .hdr = r->hdr };
	struct vdev_queue *q;
	uint8_t dst[6];
	enum rx_deliver d;

	ps->at = 0;
	if (flen < VNET_ETH_HLEN) {
		dp_count(&vd->stats.drop_bad_frame, 1);
		log_rl(LOG_WARN, "%s: dropped a %u-byte frame from the peer: shorter than an Ethernet header",
		       vd->name, flen);
		return RX_DROPPED;
	}
	memcpy(dst, frame, sizeof(dst));
	ps->at = rx_pair_of(vd, ps->ring, frame, flen);
	q = &vd->q[vnet_rxq(ps->at)];
	if (!net_filter_accept(&vd->filter, vd->cfg.mac, dst)) {
		dp_count(&vd->stats.drop_filtered, 1);
		return RX_DROPPED;
	}
	if (net_hdr_needs_fixup(vd, &hh.hdr))
		return deliver_fixed(vd, q, t, &hh.hdr, frame, flen, &ps->pushed[ps->at]);
	d = deliver(vd, q, t, &hh, frame, flen);
	if (d == RX_DELIVERED)
		count_rx(q, flen);
	/* The frame as the guest got it, an offloaded one whole
	 * (capture.h). */
	if (unlikely(vd->capture) && d == RX_DELIVERED)
		dp_capture(vd, frame, flen);
	return d;
}

static enum rx_stop rx_pass_frames(struct vdev *vd, struct peer_ring_cons *ring,
				   struct rx_pass *ps, struct rx_take *t)
{
	struct peer_ring_rec recs[RX_PEEK];
	unsigned left = VDEV_BUDGET;

	/* Every link ring checks each header on its copy (host/peer/conn.c),
	 * which is what rx_frame acts on. */
	assert(ring->check_hdr);

	while (left) {
		int got = peer_ring_peek_burst(ring, recs, left < RX_PEEK ? left : RX_PEEK);

		if (got < 0)
			return RX_RING_BROKEN;
		if (got == 0)
			return RX_EMPTY;
		for (int i = 0; i < got; i++) {
			enum rx_deliver d = rx_frame(vd, ps, t, &recs[i]);

			if (d == RX_BROKEN)
				return RX_QUEUE_BROKEN;
			if (d == RX_WAIT_BUFFER)
				return RX_NO_BUFFER;
			if (d == RX_WAIT_MORE)
				return RX_SHORT;
			if (d == RX_DELIVERED || d == RX_DROPPED_PUSHED)
				ps->pushed[ps->at]++;
			peer_ring_consume_rec(ring, &recs[i]);
			ps->consumed++;
		}
		left -= (unsigned)got;
	}
	return RX_BUDGET;
}

/* A pass, and then the chains its take holds go back (rx_take_end)
 * before anything flushes or waits. */
static enum rx_stop rx_pass(struct vdev *vd, struct peer_ring_cons *ring, struct rx_pass *ps)
{
	struct rx_take t;
	enum rx_stop why;

	t.q = NULL;
	t.n = t.used = 0;
	t.ring = ring;
	t.cons_end = ring->cons + VDEV_BUDGET;
	t.extra = 0;
	t.burst = dp_rx_spreads(vd) ? 1 : RX_BURST;
	why = rx_pass_frames(vd, ring, ps, &t);
	rx_take_end(&t);
	return why;
}

/* Every receiveq in use, enabled: a frame may go to any of them. */
static bool rx_queues_live(const struct vdev *vd)
{
	if (!vdev_running(vd))
		return false;
	for (unsigned k = 0; k < vd->curr_pairs; k++)
		if (!vd->q[vnet_rxq(k)].enabled)
			return false;
	return true;
}

/* How one link ring's passes ended. */
enum rx_ring_end {
	RXR_IDLE,	/* empty, or waiting for buffers: sleeping on kicks */
	RXR_LATER,	/* budget used, or buffers too few: run again soon */
	RXR_GONE,	/* the link or the device broke: stop */
};

static enum rx_ring_end rx_ring_process(struct vdev *vd, unsigned j, bool live)
{
	struct peer_ring_cons *ring = vd->dp.rx_ring[j];
	struct dp_rxr *w = &vd->dp.rxr[j];

	peer_ring_cons_awake(ring);
	if (live && w->waiting_buffers) {
		w->waiting_buffers = false;
		vq_dev_set_notify(&vd->q[vnet_rxq(w->wait_pair)].vq, false);
	}
	for (;;) {
		struct rx_pass ps = { .ring = j };
		enum rx_stop why = live ? rx_pass(vd, ring, &ps) : rx_drain(vd, ring, &ps.consumed);
		struct vdev_queue *q = &vd->q[vnet_rxq(ps.at)];

		if (ps.consumed)
			peer_link_rx_publish(vd->link, j);
		for (unsigned k = 0; k < vd->curr_pairs; k++)
			if (ps.pushed[k])
				dp_flush_used(vd, vnet_rxq(k), ps.pushed[k]);
		switch (why) {
		case RX_RING_BROKEN:
			dp_link_broken(vd);
			return RXR_GONE;
		case RX_QUEUE_BROKEN:
			dp_queue_broken(vd, vnet_rxq(ps.at));
			return RXR_GONE;
		case RX_BUDGET:
		case RX_SHORT:
			/* RX_SHORT: the guest has buffers, too few for this
			 * frame.  A notification cannot tell us when it adds
			 * more: with EVENT_IDX the driver kicks only when its
			 * index crosses avail_event, which the unconsumed
			 * chains already passed (2.7.10).  So poll from the
			 * event loop instead of in place, as after a used-up
			 * budget: the control socket (reset, detach) is still
			 * served while we wait. */
			return RXR_LATER;
		case RX_NO_BUFFER:
			/* Ask for a kick when buffers arrive; re-check first. */
			if (vq_dev_set_notify(&q->vq, true))
				continue;
			w->waiting_buffers = true;
			w->wait_pair = ps.at;
			return RXR_IDLE;
		case RX_EMPTY:
			if (peer_ring_cons_sleep_prepare(ring))
				return RXR_IDLE;
			peer_ring_cons_awake(ring);
			continue;
		}
	}
}

void dp_rx_process(struct vdev *vd)
{
	long *slot = dp_rx_slot(vd);
	bool live, later;

	/* Paused (a move to another process): frames wait in the link's
	 * rings, neither delivered nor dropped. */
	if (!vd->dp.link_pairs || *slot >= 0 || vd->paused)
		return;
	live = rx_queues_live(vd);
	do {
		later = false;
		/* Each ring in turn (of those this thread owns); a ring
		 * waiting for buffers of one receiveq does not hold up the
		 * others. */
		for (unsigned j = 0; j < vd->dp.link_pairs; j++) {
			enum rx_ring_end e;

			if (!dp_rx_mine(vd, j))
				continue;
			e = rx_ring_process(vd, j, live);

			if (e == RXR_GONE)
				return;
			later |= e == RXR_LATER;
		}
		/* No timer slot: go on in place. */
	} while (later && !dp_later(vd, slot, rx_resched_fn, vd));
}
