// SPDX-License-Identifier: MIT
/*
 * dp.c - the data path's entry points (dp.h): its buffers, starting and
 * stopping, which pass a kick or a doorbell runs, and the link's ends.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "host/dp/dp_priv.h"
#include "host/dp/offload.h"
#include "host/peer/link.h"

/* The link rings a pass committed to are bits of an unsigned (tx.c);
 * more ring pairs than the peer link takes are refused at its start. */
static_assert(VDEV_MAX_PAIRS <= 32, "ring pairs fit the commit mask");

int dp_scratch_init(struct dp_scratch *s)
{
	s->chain_bufs = calloc(VDEV_QUEUE_LIMIT * 2u, sizeof(*s->chain_bufs));
	s->mrg_chains = calloc(VDEV_QUEUE_LIMIT, sizeof(*s->mrg_chains));
	s->offload = calloc(1, sizeof(*s->offload));
	if (!s->chain_bufs || !s->mrg_chains || !s->offload || net_offload_init(s->offload) < 0) {
		dp_scratch_free(s);
		return -ENOMEM;
	}
	return 0;
}

void dp_scratch_free(struct dp_scratch *s)
{
	free(s->chain_bufs);
	free(s->mrg_chains);
	if (s->offload)
		net_offload_free(s->offload);
	free(s->offload);
	*s = (struct dp_scratch){ 0 };
}

int dp_init(struct vdev *vd)
{
	struct vdev_dp *dp = &vd->dp;
	int rc;

	dp->rx_resched = -1;
	dp->await_link = -1;
	dp->defer_fd = -1;
	for (unsigned k = 0; k < VDEV_MAX_PAIRS; k++)
		dp->txq[k].resched = -1;
	for (unsigned q = 0; q < 2 * VDEV_MAX_PAIRS; q++)
		dp->coal[q].timer = -1;
	rc = dp_scratch_init(&dp->scratch);
	if (rc == 0)
		rc = dp_threads_start(vd);
	if (rc < 0)
		dp_free(vd);
	return rc;
}

void dp_free(struct vdev *vd)
{
	dp_threads_stop(vd);
	dp_scratch_free(&vd->dp.scratch);
}

/* Every transmitq of a negotiated pair (MQ: the driver may use any
 * enabled one). */
static void tx_all(struct vdev *vd, bool only_waiting)
{
	for (unsigned k = 0; k < vdev_pairs_negotiated(vd); k++)
		if (!only_waiting || vd->dp.txq[k].waiting_space)
			dp_tx_process(vd, k);
}

void dp_start(struct vdev *vd)
{
	for (unsigned k = 0; k < VDEV_MAX_PAIRS; k++) {
		vd->dp.txq[k].waiting_space = false;
		vd->dp.rxr[k].waiting_buffers = false;
	}
	/* Receive kicks are wanted only while we wait for buffers. */
	for (unsigned k = 0; k < vdev_pairs_negotiated(vd); k++)
		if (vd->q[vnet_rxq(k)].enabled)
			vq_dev_set_notify(&vd->q[vnet_rxq(k)].vq, false);
	dp_rx_process(vd);
	tx_all(vd, false);
}

void dp_stop(struct vdev *vd)
{
	for (unsigned k = 0; k < VDEV_MAX_PAIRS; k++) {
		/* Armed by the pass, on the loop of the thread that runs it. */
		if (k < vd->max_pairs)
			ev_timer_cancel(dp_queue_loop(vd, vnet_txq(k)), vd->dp.txq[k].resched);
		vd->dp.txq[k].resched = -1;
		vd->dp.txq[k].waiting_space = false;
		vd->dp.rxr[k].waiting_buffers = false;
	}
	ev_timer_cancel(vd->ev, vd->dp.rx_resched);
	vd->dp.rx_resched = -1;
	dp_threads_cancel(vd);
	ev_timer_cancel(vd->ev, vd->dp.await_link);
	vd->dp.await_link = -1;
	/* 5.1.6.5.6: a reset sets every queue's coalescing back to none. */
	dp_coal_reset(vd);
}

bool dp_later(struct vdev *vd, long *slot, void (*fn)(void *arg), void *arg)
{
	long id = ev_timer(dp_cur_loop(vd), 0, fn, arg);

	*slot = id > 0 ? id : -1;
	return id > 0;
}

/* Receiveq `pair` has buffers again: receive from the rings that feed
 * it; with threads, a ring another thread owns is that thread's to
 * read. */
static void rx_kick(struct vdev *vd, unsigned pair)
{
	dp_rx_process(vd);
	if (!vd->dp.n_threads || !dp_on_thread())
		return;
	for (unsigned j = 0; j < vd->dp.link_pairs; j++)
		if (!dp_rx_mine(vd, j) && dp_rx_ring_feeds(vd, j, pair))
			dp_nudge(vd, dp_rx_owner(vd, j));
}

void dp_kick(struct vdev *vd, unsigned q)
{
	if (q == vdev_ctrlq(vd)) {
		/* Control commands change what threads read: the main loop
		 * answers them, with every thread parked. */
		if (dp_on_thread())
			dp_defer(vd, DP_DEFER_CTRLQ);
		else
			dp_ctrl_process(vd);
	} else if (q >= 2 * vdev_pairs_negotiated(vd)) {
		return;		/* a queue of a layout not negotiated */
	} else if (q % 2) {
		dp_tx_process(vd, q / 2);
	} else {
		rx_kick(vd, q / 2);
	}
}

void dp_peer_event(struct vdev *vd)
{
	dp_rx_process(vd);
	tx_all(vd, true);
}

void dp_ring_event(struct vdev *vd, unsigned ring)
{
	if (!vd->dp.n_threads) {
		dp_peer_event(vd);
		return;
	}
	/* The peer took frames from our ring, or put some in its own. */
	if (dp_rx_mine(vd, ring))
		dp_rx_process(vd);
	else
		dp_nudge(vd, dp_rx_owner(vd, ring));
	for (unsigned k = 0; k < vdev_pairs_negotiated(vd); k++) {
		if (!dp_txq_waits_on(&vd->dp.txq[k], ring))
			continue;
		if (dp_tx_mine(vd, k))
			dp_tx_process(vd, k);
		else
			dp_nudge(vd, k % vd->dp.n_threads);
	}
}

static void await_link_over(void *arg)
{
	struct vdev *vd = arg;

	vd->dp.await_link = -1;
	if (!vd->dp.link_pairs)
		/* Either end moved: this vdev, or the peer's (MOVING). */
		log_info("%s: no peer link in time after a move: transmit drops frames until it comes",
			 vd->name);
	tx_all(vd, false);
}

void dp_await_link(struct vdev *vd, unsigned ms)
{
	long id;

	if (vd->dp.await_link >= 0)
		return;
	id = ev_timer(vd->ev, ms, await_link_over, vd);
	vd->dp.await_link = id > 0 ? id : -1;
}

/* Which thread receives from which ring follows the pairs in use and
 * the link's rings (dp_rx_owner): interrupts held for coalescing go out
 * now, so that no timer stays on a thread that no longer owns its
 * queue. */
static void owners_change(struct vdev *vd)
{
	if (vd->dp.n_threads)
		dp_coal_flush(vd);
}

void dp_pairs_changed(struct vdev *vd)
{
	owners_change(vd);
	dp_schedule_rx(vd);
}

void dp_link_up(struct vdev *vd, struct peer_link *link)
{
	unsigned n = peer_link_ring_pairs(link);

	ev_timer_cancel(vd->ev, vd->dp.await_link);
	vd->dp.await_link = -1;

	owners_change(vd);
	vd->dp.link_pairs = n < VDEV_MAX_PAIRS ? n : VDEV_MAX_PAIRS;
	for (unsigned k = 0; k < vd->dp.link_pairs; k++) {
		vd->dp.tx_ring[k] = peer_link_tx(link, k);
		vd->dp.rx_ring[k] = peer_link_rx(link, k);
		vd->dp.rxr[k].waiting_buffers = false;
	}
	dp_rx_process(vd);
	tx_all(vd, false);
}

void dp_set_peer_rss(struct vdev *vd, const struct rss_cfg *c)
{
	vd->dp.peer_rss = *c;
}

void dp_link_down(struct vdev *vd)
{
	owners_change(vd);
	vd->dp.link_pairs = 0;
	vd->dp.peer_rss.on = false;
	for (unsigned k = 0; k < VDEV_MAX_PAIRS; k++) {
		vd->dp.tx_ring[k] = NULL;
		vd->dp.rx_ring[k] = NULL;
		vd->dp.txq[k].waiting_space = false;
		vd->dp.rxr[k].waiting_buffers = false;
	}
	tx_all(vd, false);
}
