// SPDX-License-Identifier: MIT
/*
 * tap_dp.c - the tap vdev's data path (see tap_vdev.h).
 *
 * TAP -> link: each read() of the TAP returns one frame with its 10-byte
 * virtio-net header in front (the kernel skips the last two bytes of our
 * 12-byte header, num_buffers, which we clear: it is 0 on a link, 5.1.6.2).
 * We read straight into a record of our transmit ring reserved at full
 * size, so a frame crosses with no copy of ours.  When the ring is full
 * the TAP is no longer polled: the kernel queues (and past txqueuelen
 * drops) as a NIC's full TX ring would, and the peer's doorbell resumes
 * us.  One publish per pass.
 *
 * Link -> TAP: each record's header is copied into private memory and
 * checked (tun_hdr_sanitize: the peer is not trusted, and the kernel
 * would refuse a bad header anyway); the frame is written from the ring
 * with writev, header first.  The kernel completes partial checksums and
 * segments GSO frames itself as needed, so every offload is taken.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/barrier.h"
#include "common/log.h"
#include "common/peer_ring.h"
#include "common/tun.h"
#include "host/peer/link.h"
#include "host/tap/tap_vdev.h"

#define RETRY_MS 1	/* the kernel refused a write for now (-EAGAIN/-ENOBUFS) */

void tap_dp_pause_tap(struct tap_vdev *t, bool pause)
{
	if (t->tap_paused == pause || !t->tap_h.registered || t->tap_gone)
		return;
	if (ev_mod(t->ev, &t->tap_h, pause ? 0 : EPOLLIN) == 0)
		t->tap_paused = pause;
}

/* A ring broke a rule: drop the link (it re-forms after a back-off). */
static void drop_link(struct tap_vdev *t)
{
	peer_link_ring_broken(t->link);
}

void tap_dp_tap_gone(struct tap_vdev *t, int err)
{
	/* Someone deleted the interface under us (`ip link del`): the fd
	 * only fails now, and polling it would spin.  Frames from the peer
	 * are dropped and counted from here on. */
	log_err("%s: TAP %s is gone (%s); no longer reading it", t->name, t->ifname,
		strerror(err));
	t->tap_gone = true;
	if (t->tap_h.registered)
		ev_del(t->ev, &t->tap_h);
	t->tap_paused = true;
}

/* The link is down: frames the kernel still sends are dropped (counted),
 * as on an unplugged cable. */
static void drain_tap(struct tap_vdev *t)
{
	static uint8_t sink[PEER_RING_REC_MAX];

	for (unsigned n = 0; n < TAP_BUDGET; n++) {
		ssize_t r = read(t->fd, sink, sizeof(sink));

		if (r < 0 && (errno == EBADFD || errno == EIO || errno == ENODEV))
			tap_dp_tap_gone(t, errno);
		if (r <= 0)
			return;
		t->stats.drop_link_down++;
	}
}

void tap_dp_from_tap(struct tap_vdev *t)
{
	struct peer_ring_prod *ring = peer_link_tx(t->link, 0);
	unsigned committed = 0;

	if (!ring) {
		drain_tap(t);
		return;
	}
	for (unsigned n = 0; n < TAP_BUDGET; n++) {
		uint8_t *rec = peer_ring_reserve(ring, PEER_RING_REC_MAX);
		ssize_t r;

		if (!rec) {
			if (ring->broken)
				break;
			/* Sleep on the peer's doorbell unless room appeared. */
			if (peer_ring_prod_wait_prepare(ring, PEER_RING_REC_MAX)) {
				t->stats.ring_full++;
				tap_dp_pause_tap(t, true);
				break;
			}
			continue;
		}
		r = read(t->fd, rec, PEER_RING_REC_MAX);
		if (r < 0) {
			int e = errno;

			peer_ring_cancel(ring);
			if (e == EBADFD || e == EIO || e == ENODEV)
				tap_dp_tap_gone(t, e);
			else if (e != EAGAIN && e != EINTR)
				log_rl(LOG_WARN, "%s: read from TAP %s: %s", t->name, t->ifname,
				       strerror(e));
			break;
		}
		if ((uint32_t)r < TUN_HDR_LEN + VNET_ETH_HLEN || (uint32_t)r > PEER_RING_REC_MAX) {
			/* The kernel reports a frame's full length even when it
			 * copied only what fitted. */
			peer_ring_cancel(ring);
			t->stats.drop_truncated++;
			log_rl(LOG_WARN, "%s: TAP %s gave a %zd-byte frame; dropped", t->name,
			       t->ifname, r);
			continue;
		}
		/* The header the kernel wrote is read back for a counter only
		 * (the peer could change it, and would only skew the count). */
		t->stats.to_peer_gso += READ_ONCE(((struct virtio_net_hdr_v1 *)(void *)rec)->gso_type) !=
					VIRTIO_NET_HDR_GSO_NONE;
		((struct virtio_net_hdr_v1 *)(void *)rec)->num_buffers = 0;
		peer_ring_commit(ring, (uint32_t)r);
		committed++;
		t->stats.to_peer_frames++;
		t->stats.to_peer_bytes += (uint64_t)r - TUN_HDR_LEN;
	}
	if (committed)
		peer_link_tx_publish(t->link, 0);
	if (ring->broken)
		drop_link(t);
}

static void rx_resched_fn(void *arg)
{
	struct tap_vdev *t = arg;

	t->rx_resched = -1;
	tap_dp_peer_event(t);
}

static void retry_fn(void *arg)
{
	struct tap_vdev *t = arg;

	t->retry_timer = -1;
	tap_dp_peer_event(t);
}

enum wr { WR_DONE, WR_DROPPED, WR_LATER };

/* Writes one record to the TAP. */
static enum wr write_record(struct tap_vdev *t, const uint8_t *rec, uint32_t len)
{
	struct virtio_net_hdr_v1 h;
	uint32_t flen = len - TUN_HDR_LEN;
	struct iovec iov[2];
	char why[128];
	ssize_t r;

	/* The ring guarantees len >= 12; decide on a private copy. */
	memcpy(&h, rec, sizeof(h));
	if (!tun_hdr_sanitize(&h, flen, false, why, sizeof(why))) {
		t->stats.drop_bad_frame++;
		log_rl(LOG_WARN, "%s: dropped a frame from the peer: %s", t->name, why);
		return WR_DROPPED;
	}
	iov[0] = (struct iovec){ .iov_base = &h, .iov_len = sizeof(h) };
	iov[1] = (struct iovec){ .iov_base = (void *)(uintptr_t)(rec + TUN_HDR_LEN),
				 .iov_len = flen };
	r = writev(t->fd, iov, 2);
	if (r < 0 && (errno == EAGAIN || errno == ENOBUFS))
		return WR_LATER;
	if (r < 0) {
		/* EINVAL: a frame the kernel's own checks refused; EIO: the
		 * interface is down.  Either way this frame is lost. */
		t->stats.drop_tap_error++;
		log_rl(LOG_WARN, "%s: TAP %s refused a %u-byte frame (flags 0x%x gso 0x%x): %s",
		       t->name, t->ifname, flen, h.flags, h.gso_type, strerror(errno));
		return WR_DROPPED;
	}
	t->stats.from_peer_frames++;
	t->stats.from_peer_bytes += flen;
	t->stats.from_peer_gso += h.gso_type != VIRTIO_NET_HDR_GSO_NONE;
	return WR_DONE;
}

/* Link -> TAP until the ring is empty (then we sleep on the doorbell,
 * with the re-check of cons_sleep_prepare), the kernel asks us to come
 * back later (a 1 ms timer), or a budget is used up (a zero timer, so the
 * process's other vdevs get their turn). */
static void to_tap(struct tap_vdev *t, struct peer_ring_cons *ring)
{
	if (t->rx_resched >= 0 || t->retry_timer >= 0)
		return;
	peer_ring_cons_awake(ring);
	for (;;) {
		unsigned consumed = 0;
		bool later = false, empty = false;

		for (unsigned n = 0; n < TAP_BUDGET; n++) {
			const uint8_t *rec;
			uint32_t len;
			int r = peer_ring_peek(ring, &rec, &len);

			if (r < 0) {
				if (consumed)
					peer_link_rx_publish(t->link, 0);
				drop_link(t);
				return;
			}
			if (r == 0) {
				empty = true;
				break;
			}
			if (write_record(t, rec, len) == WR_LATER) {
				later = true;
				break;
			}
			peer_ring_consume(ring);
			consumed++;
		}
		if (consumed)
			peer_link_rx_publish(t->link, 0);
		if (later) {
			long id = ev_timer(t->ev, RETRY_MS, retry_fn, t);

			t->retry_timer = id > 0 ? id : -1;
			return;
		}
		if (!empty) {
			long id = ev_timer(t->ev, 0, rx_resched_fn, t);

			t->rx_resched = id > 0 ? id : -1;
			if (id > 0)
				return;
			continue;
		}
		if (peer_ring_cons_sleep_prepare(ring))
			return;
		peer_ring_cons_awake(ring);
	}
}

void tap_dp_peer_event(struct tap_vdev *t)
{
	struct peer_ring_cons *rx = peer_link_rx(t->link, 0);
	struct peer_ring_prod *tx;

	if (rx)
		to_tap(t, rx);
	/* The doorbell may also mean the peer freed space in our ring.
	 * Asked only now: to_tap may have dropped the link (and unmapped
	 * its rings). */
	tx = peer_link_tx(t->link, 0);
	if (tx && t->tap_paused && !t->tap_gone) {
		peer_ring_prod_awake(tx);
		tap_dp_pause_tap(t, false);
		tap_dp_from_tap(t);
	}
}

void tap_dp_stop(struct tap_vdev *t)
{
	if (t->rx_resched >= 0)
		ev_timer_cancel(t->ev, t->rx_resched);
	if (t->retry_timer >= 0)
		ev_timer_cancel(t->ev, t->retry_timer);
	t->rx_resched = t->retry_timer = -1;
}
