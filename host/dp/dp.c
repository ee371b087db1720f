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

int dp_init(struct vdev *vd)
{
	struct vdev_dp *dp = &vd->dp;

	dp->rx_resched = -1;
	dp->await_link = -1;
	for (unsigned k = 0; k < VDEV_MAX_PAIRS; k++)
		dp->txq[k].resched = -1;
	for (unsigned q = 0; q < 2 * VDEV_MAX_PAIRS; q++)
		dp->coal[q].timer = -1;
	dp->chain_bufs = calloc(VDEV_QUEUE_LIMIT * 2u, sizeof(*dp->chain_bufs));
	dp->mrg_chains = calloc(VDEV_QUEUE_LIMIT, sizeof(*dp->mrg_chains));
	dp->offload = calloc(1, sizeof(*dp->offload));
	if (!dp->chain_bufs || !dp->mrg_chains || !dp->offload ||
	    net_offload_init(dp->offload) < 0) {
		dp_free(vd);
		return -ENOMEM;
	}
	return 0;
}

void dp_free(struct vdev *vd)
{
	struct vdev_dp *dp = &vd->dp;

	free(dp->chain_bufs);
	free(dp->mrg_chains);
	if (dp->offload)
		net_offload_free(dp->offload);
	free(dp->offload);
	dp->chain_bufs = NULL;
	dp->mrg_chains = NULL;
	dp->offload = NULL;
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
		ev_timer_cancel(vd->ev, vd->dp.txq[k].resched);
		vd->dp.txq[k].resched = -1;
		vd->dp.txq[k].waiting_space = false;
		vd->dp.rxr[k].waiting_buffers = false;
	}
	ev_timer_cancel(vd->ev, vd->dp.rx_resched);
	vd->dp.rx_resched = -1;
	ev_timer_cancel(vd->ev, vd->dp.await_link);
	vd->dp.await_link = -1;
	/* 5.1.6.5.6: a reset sets every queue's coalescing back to none. */
	dp_coal_reset(vd);
}

bool dp_later(struct vdev *vd, long *slot, void (*fn)(void *arg), void *arg)
{
	long id = ev_timer(vd->ev, 0, fn, arg);

	*slot = id > 0 ? id : -1;
	return id > 0;
}

void dp_kick(struct vdev *vd, unsigned q)
{
	if (q == vdev_ctrlq(vd))
		dp_ctrl_process(vd);
	else if (q >= 2 * vdev_pairs_negotiated(vd))
		return;		/* a queue of a layout not negotiated */
	else if (q % 2)
		dp_tx_process(vd, q / 2);
	else
		dp_rx_process(vd);
}

void dp_peer_event(struct vdev *vd)
{
	dp_rx_process(vd);
	tx_all(vd, true);
}

static void await_link_over(void *arg)
{
	struct vdev *vd = arg;

	vd->dp.await_link = -1;
	if (!vd->dp.link_pairs)
		log_info("%s: moved in, but no peer link in time: transmit drops frames until it comes",
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

void dp_link_up(struct vdev *vd, struct peer_link *link)
{
	unsigned n = peer_link_ring_pairs(link);

	ev_timer_cancel(vd->ev, vd->dp.await_link);
	vd->dp.await_link = -1;

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
