// SPDX-License-Identifier: MIT
/*
 * guest.c - scenarios on a vnet-host vdev, with the bench as the guest
 * driver (guest/virtio_net.h, waits and kicks through io_uring):
 *
 *   tx    one hop, guest TX: the bench sends; it is also the vdev's peer
 *         (a peer link node of its own) and consumes what the device puts
 *         on the link, so the device does all of its TX work (pop, copy
 *         into the link ring, push, interrupt decision) and nothing else;
 *   rx    one hop, guest RX: the bench produces frames into the link ring
 *         as the peer, the device copies them into the bench's RX buffers;
 *   send / recv   end to end: guest A -> host A -> host B -> guest B
 *         (two bench processes, two vnet-host processes);
 *   ping / pong   round trips end to end, one frame in flight;
 *   sink / source only the peer (no guest driver): the far end of a vdev
 *         that another frontend drives, DPDK's virtio-user through the
 *         vhost-user face; it counts what the vdev puts on the link, or
 *         keeps the link full of frames for the vdev to deliver.  It runs
 *         until --seconds pass or SIGTERM / SIGINT, then prints.
 *
 * One thread does the guest side and the peer side of tx/rx, like DPDK's
 * testpmd pair (two processes, one per side of the device): the bench
 * process and the vnet-host process.  Both sides sleep only after arming
 * and re-checking: the guest via vnet_wait_arm (2.7.7), the peer side via
 * need_wakeup; then one io_uring_enter submits the queued kicks and
 * sleeps.  --poll spins up to poll_us first.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "common/barrier.h"
#include "common/log.h"
#include "common/peer_ring.h"
#include "guest/virtio_net.h"
#include "host/evloop.h"
#include "host/peer/link.h"

#define SLEEP_US	2000u	/* one sleep: re-check the clock this often */
#define LINK_WAIT_MS	10000u
#define MAX_SAMPLES	2000000u

struct gctx {
	const struct bench_opts *o;
	struct vnet_dev *dev;
	struct bu u;
	int irq_fds[BENCH_MAX_FDS];
	unsigned n_irq;
	/* the bench's own peer side (tx/rx one hop) */
	struct evloop *ev;
	struct peer_link *pl;
	int bell;
	uint64_t bells_recv;
	uint8_t mac[6];
	struct bench_result r;
};

static void fired(void *arg, int fd, uint64_t cnt)
{
	struct gctx *g = arg;

	if (fd == g->bell)
		g->bells_recv++;
	else
		vnet_wait_end(g->dev, fd, cnt);
}

static void kicks(struct gctx *g)
{
	int fds[2];
	unsigned n = vnet_kicks_take(g->dev, fds, 2);

	for (unsigned i = 0; i < n; i++)
		bu_kick(&g->u, fds[i]);
	bu_flush(&g->u);
}

/* ---- the bench as the vdev's peer -------------------------------------- */

static void pl_up(void *arg)
{
	evloop_stop(((struct gctx *)arg)->ev);
}

static void pl_timeout(void *arg)
{
	evloop_stop(((struct gctx *)arg)->ev);
}

static int peer_start(struct gctx *g)
{
	const struct bench_opts *o = g->o;
	struct peer_link_cfg cfg = {
		.run_dir = o->peer_dir, .system = o->peer_system, .name = o->peer_name,
		.mac = { 0x02, 0x42, 0, 0, 0, 0x99 },
	};
	struct peer_link_cbs cbs = { .arg = g, .up = pl_up };
	int rc;

	g->ev = evloop_new();
	if (!g->ev)
		return -ENOMEM;
	rc = peer_link_start(&g->pl, g->ev, &cfg, &cbs);
	if (rc < 0)
		return rc;
	ev_timer(g->ev, LINK_WAIT_MS, pl_timeout, g);
	evloop_run(g->ev);
	if (!peer_link_is_up(g->pl)) {
		log_err("the vdev did not link to %s/%s/%s within %u ms", o->peer_dir,
			o->peer_system, o->peer_name, LINK_WAIT_MS);
		return -ETIMEDOUT;
	}
	g->bell = peer_link_bell_fd(g->pl, 0);
	return bu_watch(&g->u, g->bell) < 0 ? -EINVAL : 0;
}

/* Consumes what the device put on the link (one hop TX). */
static unsigned sink_pass(struct gctx *g)
{
	struct peer_ring_cons *c = peer_link_rx(g->pl, 0);
	struct peer_ring_rec recs[BENCH_BATCH];
	unsigned n = 0;
	int got;

	if (!c)
		return 0;
	/* A burst at a time, as the device's receive path reads. */
	while (n < 4 * BENCH_BATCH && (got = peer_ring_peek_burst(c, recs, BENCH_BATCH)) > 0) {
		for (int i = 0; i < got; i++) {
			/* Counted, not copied: testpmd's rxonly frees its
			 * mbufs unread, and the device already made its
			 * copy. */
			g->r.bytes += recs[i].len - (uint32_t)sizeof(struct virtio_net_hdr_v1);
			peer_ring_consume_rec(c, &recs[i]);
		}
		g->r.frames += (unsigned)got;
		n += (unsigned)got;
	}
	if (n && peer_link_rx_publish(g->pl, 0))
		g->r.bells_sent++;
	return n;
}

/* Produces frames onto the link (one hop RX). */
static unsigned source_pass(struct gctx *g, uint8_t *frame, uint32_t flen,
			    const struct virtio_net_hdr_v1 *h, uint64_t *seq)
{
	struct peer_ring_prod *p = peer_link_tx(g->pl, 0);
	uint32_t lens[BENCH_BATCH];
	uint8_t *recs[BENCH_BATCH];
	unsigned n;

	if (!p)
		return 0;
	/* A burst of records at once, as the device's transmit path puts
	 * them (peer_ring_put_burst); each filled before the publish. */
	for (unsigned i = 0; i < BENCH_BATCH; i++)
		lens[i] = flen + (uint32_t)sizeof(*h);
	n = peer_ring_put_burst(p, lens, BENCH_BATCH, recs);
	assert(n <= BENCH_BATCH);
	for (unsigned i = 0; i < n; i++) {
		memcpy(recs[i], h, sizeof(*h));
		bench_frame_seq(frame, g->o->tso, (*seq)++);
		memcpy(recs[i] + sizeof(*h), frame, flen);
	}
	if (n && peer_link_tx_publish(g->pl, 0))
		g->r.bells_sent++;
	return n;
}

/* ---- setup ------------------------------------------------------------- */

static int open_dev(struct gctx *g)
{
	const struct bench_opts *o = g->o;
	struct vnet_dev_params p = {
		.socket_path = o->socket,
		.ram_size = o->tso ? 512ull << 20 : 64ull << 20,
		.hugepages = o->hugepages,
		.want_packed = o->packed,
		.want_offloads = o->tso,
		/* 64 KiB frames: whole-frame receive buffers ("big packets",
		 * 5.1.6.3) instead of 33 merged 2 KiB ones and a reassembly
		 * copy in the driver. */
		.decline_features = o->tso ? VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) : 0,
		.defer_kicks = true,
		.queue_size = 1024,
		.mmio_intr = -1,
	};
	int rc = vnet_dev_open(&g->dev, &p);

	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < LINK_WAIT_MS / 50 && !vnet_link_up(g->dev); i++)
		vnet_wait(g->dev, 50);
	if (!vnet_link_up(g->dev)) {
		log_err("link did not come up");
		return -ENOLINK;
	}
	vnet_mac(g->dev, g->mac);
	g->n_irq = vnet_irq_fds(g->dev, g->irq_fds, BENCH_MAX_FDS - 1);
	for (unsigned i = 0; i < g->n_irq; i++)
		bu_watch(&g->u, g->irq_fds[i]);
	kicks(g);
	return 0;
}

/* Nothing to do: spin (poll mode), then arm and sleep.  sleep_tx: wait
 * for TX room; peer_sleep: the peer side's need_wakeup is to be set by
 * prep (returns false when work came in meanwhile). */
typedef bool (*peer_prep_fn)(struct gctx *g);
typedef bool (*ready_fn)(struct gctx *g);

static void idle(struct gctx *g, bool sleep_tx, ready_fn ready, peer_prep_fn prep,
		 void (*awake)(struct gctx *g))
{
	int ev;

	if (g->o->poll) {
		uint64_t until = now_ns() + g->o->poll_us * 1000ull;

		do {
			if (ready(g))
				return;
			cpu_relax();
		} while (now_ns() < until);
	}
	ev = vnet_wait_arm(g->dev, sleep_tx);
	if (ev != 0)
		return;		/* work, or an error the next burst reports */
	if (prep && !prep(g)) {
		vnet_wait_end(g->dev, -1, 0);
		return;
	}
	bu_sleep(&g->u, SLEEP_US, fired, g);
	vnet_wait_end(g->dev, -1, 0);
	if (awake)
		awake(g);
}

static bool sink_prep(struct gctx *g)
{
	struct peer_ring_cons *c = peer_link_rx(g->pl, 0);

	return c && peer_ring_cons_sleep_prepare(c);
}

static void sink_awake(struct gctx *g)
{
	struct peer_ring_cons *c = peer_link_rx(g->pl, 0);

	if (c)
		peer_ring_cons_awake(c);
}

static uint32_t g_rec_len;

static bool source_prep(struct gctx *g)
{
	struct peer_ring_prod *p = peer_link_tx(g->pl, 0);

	return p && peer_ring_prod_wait_prepare(p, g_rec_len);
}

static void source_awake(struct gctx *g)
{
	struct peer_ring_prod *p = peer_link_tx(g->pl, 0);

	if (p)
		peer_ring_prod_awake(p);
}

static bool tx_ready(struct gctx *g)
{
	const uint8_t *rec;
	uint32_t len;
	struct peer_ring_cons *c = g->pl ? peer_link_rx(g->pl, 0) : NULL;

	/* Room for a whole burst, not one slot: refilling one frame at a time
	 * as the device frees them would turn every kick decision and used
	 * ring read into a per-frame cost (DPDK waits for tx_free_thresh). */
	return vnet_tx_space(g->dev) >= BENCH_BATCH ||
	       (c && peer_ring_peek(c, &rec, &len) == 1);
}

static struct vnet_frame g_rx[VNET_RX_BURST_MAX];
static int g_rx_n;

static bool rx_ready(struct gctx *g)
{
	struct peer_ring_prod *p = g->pl ? peer_link_tx(g->pl, 0) : NULL;

	if (p && bench_ring_room(p, g_rec_len))
		return true;
	g_rx_n = vnet_rx_burst(g->dev, g_rx, VNET_RX_BURST_MAX);
	return g_rx_n != 0;
}

/* ---- scenarios ---------------------------------------------------------- */

static uint8_t *alloc_frames(struct gctx *g, struct vnet_frame *fr, unsigned n,
			     struct virtio_net_hdr_v1 *hdr, const uint8_t dst[6])
{
	uint8_t *bufs = malloc((size_t)n * g->o->size);

	if (!bufs)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *b = bufs + (size_t)i * g->o->size;

		if (bench_frame(b, g->o->size, dst, g->mac, g->o->tso, hdr) < 0) {
			free(bufs);
			return NULL;
		}
		fr[i] = (struct vnet_frame){ .data = b, .len = g->o->size,
					     .hdr = g->o->tso ? hdr : NULL };
	}
	return bufs;
}

static int run_tx(struct gctx *g, bool sink)
{
	struct vnet_frame fr[BENCH_BATCH];
	struct virtio_net_hdr_v1 hdr;
	uint64_t seq = 0, sent = 0, t0, deadline;
	uint8_t *bufs = alloc_frames(g, fr, BENCH_BATCH, &hdr, g->o->dst);

	if (!bufs)
		return -EINVAL;
	t0 = now_ns();
	deadline = t0 + (uint64_t)(g->o->seconds * 1e9);
	while (now_ns() < deadline) {
		unsigned got = 0;
		int n;

		for (unsigned i = 0; i < BENCH_BATCH; i++)
			bench_frame_seq(fr[i].data, g->o->tso, seq + i);
		n = vnet_tx_burst(g->dev, fr, BENCH_BATCH);
		if (n < 0) {
			log_err("tx: %s", strerror(-n));
			free(bufs);
			return n;
		}
		seq += (unsigned)n;
		sent += (unsigned)n;
		kicks(g);
		if (sink)
			got = sink_pass(g);
		bu_reap(&g->u, fired, g);
		if (n == 0 && got == 0)
			idle(g, true, tx_ready, sink ? sink_prep : NULL,
			     sink ? sink_awake : NULL);
	}
	g->r.seconds = (double)(now_ns() - t0) / 1e9;
	if (!sink) {
		g->r.frames = sent;
		g->r.bytes = sent * g->o->size;
	}
	vnet_tx_drain(g->dev, 1000);
	free(bufs);
	return 0;
}

static void count_rx(struct gctx *g, const struct vnet_frame *f, int n, uint64_t *expect)
{
	for (int i = 0; i < n; i++) {
		bool ok;
		uint64_t seq = bench_frame_get_seq(f[i].data, f[i].len, g->o->tso, &ok);

		if (!ok)
			continue;
		if (seq > *expect)
			g->r.lost += seq - *expect;
		else if (seq < *expect)
			g->r.reordered++;
		*expect = seq + 1;
		g->r.frames++;
		g->r.bytes += f[i].len;
	}
}

static int run_rx(struct gctx *g, bool source)
{
	struct virtio_net_hdr_v1 hdr;
	uint8_t *frame = malloc(g->o->size);
	uint64_t seq = 0, expect = 0, t0, first = 0, last = 0, deadline;
	uint64_t idle_after = (uint64_t)(g->o->seconds * 1e9) + 3000000000ull;

	if (!frame || bench_frame(frame, g->o->size, g->mac, (const uint8_t[6]){ 2, 0x42, 0, 0, 0, 0x99 },
				  g->o->tso, &hdr) < 0) {
		free(frame);
		return -EINVAL;
	}
	g_rec_len = g->o->size + (uint32_t)sizeof(hdr);
	t0 = now_ns();
	/* A source stops after --seconds; a receiver end to end stops 0.5 s
	 * after the last frame (or when nothing came at all). */
	deadline = t0 + (uint64_t)(g->o->seconds * 1e9);
	for (;;) {
		unsigned made = 0;
		uint64_t now = now_ns();
		int n;

		if (source && now >= deadline)
			break;
		if (!source && ((last && now - last > 500000000ull) || now - t0 > idle_after))
			break;
		if (source)
			made = source_pass(g, frame, g->o->size, &hdr, &seq);
		n = g_rx_n > 0 ? g_rx_n : vnet_rx_burst(g->dev, g_rx, VNET_RX_BURST_MAX);
		g_rx_n = 0;
		if (n < 0) {
			log_err("rx: %s", strerror(-n));
			free(frame);
			return n;
		}
		if (n > 0) {
			if (!first)
				first = now_ns();
			count_rx(g, g_rx, n, &expect);
			last = now_ns();
		}
		kicks(g);
		bu_reap(&g->u, fired, g);
		if (n == 0 && made == 0)
			idle(g, false, rx_ready, source ? source_prep : NULL,
			     source ? source_awake : NULL);
	}
	g->r.seconds = source ? (double)(now_ns() - t0) / 1e9
			      : last > first ? (double)(last - first) / 1e9 : 0;
	free(frame);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(const uint64_t *s, uint64_t n, double p)
{
	uint64_t i = (uint64_t)(p * (double)(n - 1) + 0.5);

	return (double)s[i < n ? i : n - 1] / 1000.0;
}

#define STOP_SEQ UINT64_MAX

static int run_ping(struct gctx *g)
{
	struct vnet_frame fr;
	uint64_t *samples = calloc(MAX_SAMPLES, sizeof(uint64_t)), n = 0, lost = 0;
	uint8_t *buf = alloc_frames(g, &fr, 1, NULL, g->o->dst);
	uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)(g->o->seconds * 1e9);

	if (!samples || !buf) {
		free(samples);
		free(buf);
		return -ENOMEM;
	}
	for (uint64_t seq = 0; n < MAX_SAMPLES && now_ns() < deadline &&
			       (!g->o->count || seq < g->o->count); seq++) {
		uint64_t sent = now_ns(), give_up = sent + 1000000000ull;
		bool back = false;

		bench_frame_seq(buf, false, seq);
		bench_frame_ts(buf, false, sent);
		while (vnet_tx_burst(g->dev, &fr, 1) == 0)
			idle(g, true, tx_ready, NULL, NULL);
		kicks(g);
		while (!back && now_ns() < give_up) {
			int k = g_rx_n > 0 ? g_rx_n : vnet_rx_burst(g->dev, g_rx, VNET_RX_BURST_MAX);

			g_rx_n = 0;
			if (k < 0) {
				free(samples);
				free(buf);
				return k;
			}
			for (int i = 0; i < k; i++) {
				bool ok;

				if (bench_frame_get_seq(g_rx[i].data, g_rx[i].len, false, &ok) == seq && ok) {
					samples[n++] = now_ns() - bench_frame_get_ts(g_rx[i].data, false);
					back = true;
				}
			}
			kicks(g);
			if (!back)
				idle(g, false, rx_ready, NULL, NULL);
		}
		if (!back)
			lost++;
	}
	g->r.seconds = (double)(now_ns() - t0) / 1e9;
	/* Tell the pong side we are done. */
	bench_frame_seq(buf, false, STOP_SEQ);
	if (vnet_tx_burst(g->dev, &fr, 1) > 0)
		kicks(g);
	vnet_tx_drain(g->dev, 500);
	qsort(samples, n, sizeof(*samples), cmp_u64);
	g->r.samples = n;
	g->r.frames = n;
	g->r.bytes = n * g->o->size;
	g->r.lost = lost;
	if (n) {
		g->r.rtt_min_us = (double)samples[0] / 1000.0;
		g->r.rtt_max_us = (double)samples[n - 1] / 1000.0;
		g->r.rtt_p50_us = pct(samples, n, 0.50);
		g->r.rtt_p99_us = pct(samples, n, 0.99);
		g->r.rtt_p999_us = pct(samples, n, 0.999);
	}
	free(samples);
	free(buf);
	return n ? 0 : -EIO;
}

static int run_pong(struct gctx *g)
{
	uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)(g->o->seconds * 1e9);

	while (now_ns() < deadline) {
		int k = g_rx_n > 0 ? g_rx_n : vnet_rx_burst(g->dev, g_rx, VNET_RX_BURST_MAX);
		bool stop = false;

		g_rx_n = 0;
		if (k < 0)
			return k;
		for (int i = 0; i < k; i++) {
			bool ok;
			uint8_t *d = g_rx[i].data;

			if (bench_frame_get_seq(d, g_rx[i].len, false, &ok) == STOP_SEQ)
				stop = true;
			memcpy(d, d + 6, 6);
			memcpy(d + 6, g->mac, 6);
			g_rx[i].hdr = NULL;
		}
		if (k > 0 && !stop) {
			for (int done = 0; done < k;) {
				int s = vnet_tx_burst(g->dev, g_rx + done, (unsigned)(k - done));

				if (s < 0)
					return s;
				done += s;
				kicks(g);
				if (s == 0)
					idle(g, true, tx_ready, NULL, NULL);
			}
			g->r.frames += (unsigned)k;
		}
		if (stop)
			break;
		if (k == 0)
			idle(g, false, rx_ready, NULL, NULL);
	}
	g->r.seconds = (double)(now_ns() - t0) / 1e9;
	return 0;
}

/* ---- only the peer: sink / source ---------------------------------------- */

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
	(void)sig;
	g_stop = 1;
}

static bool peer_ready(struct gctx *g, bool sink)
{
	const uint8_t *rec;
	uint32_t len;

	if (sink) {
		struct peer_ring_cons *c = peer_link_rx(g->pl, 0);

		return c && peer_ring_peek(c, &rec, &len) == 1;
	} else {
		struct peer_ring_prod *p = peer_link_tx(g->pl, 0);

		return p && bench_ring_room(p, g_rec_len);
	}
}

/* Nothing to do: spin (--poll), then ask the device for a doorbell and
 * sleep on it; the clock is looked at again after SLEEP_US at most, so a
 * signal or the end of the run is seen in time. */
static void peer_idle(struct gctx *g, bool sink)
{
	bool armed;

	if (g->o->poll) {
		uint64_t until = now_ns() + g->o->poll_us * 1000ull;

		do {
			if (peer_ready(g, sink))
				return;
			cpu_relax();
		} while (now_ns() < until);
	}
	armed = sink ? sink_prep(g) : source_prep(g);
	if (!armed && peer_ready(g, sink))
		return;		/* work came in while arming */
	bu_sleep(&g->u, SLEEP_US, fired, g);
	if (!armed)
		return;
	if (sink)
		sink_awake(g);
	else
		source_awake(g);
}

/* The rate is taken from the first frame to the last: the frontend
 * starts and stops on its own time (seconds for testpmd), which must not
 * count. */
static int run_peer(struct gctx *g, bool sink)
{
	struct virtio_net_hdr_v1 hdr;
	uint8_t *frame = NULL;
	uint64_t seq = 0, first = 0, last = 0, made = 0;
	uint64_t deadline = now_ns() + (uint64_t)(g->o->seconds * 1e9);
	struct sigaction sa = { .sa_handler = on_stop };

	/* No SA_RESTART: a sleep in io_uring_enter ends with EINTR. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (!sink) {
		frame = malloc(g->o->size);
		if (!frame || bench_frame(frame, g->o->size, g->o->dst,
					  (const uint8_t[6]){ 2, 0x42, 0, 0, 0, 0x99 },
					  g->o->tso, &hdr) < 0) {
			free(frame);
			return -EINVAL;
		}
		g_rec_len = g->o->size + (uint32_t)sizeof(hdr);
	}
	while (!g_stop && now_ns() < deadline) {
		unsigned n = sink ? sink_pass(g) : source_pass(g, frame, g->o->size, &hdr, &seq);

		bu_reap(&g->u, fired, g);
		if (n) {
			last = now_ns();
			if (!first)
				first = last;
			made += n;
			continue;
		}
		peer_idle(g, sink);
	}
	g->r.seconds = last > first ? (double)(last - first) / 1e9 : 0;
	if (!sink) {
		struct peer_ring_prod *p = peer_link_tx(g->pl, 0);
		uint64_t give_up = now_ns() + 1000000000ull;

		g->r.frames = made;
		g->r.bytes = made * g->o->size;
		/* What is still on the link when we leave is lost with it: let
		 * the device take it first (at most a second), so that every
		 * frame counted here reached it. */
		while (p && now_ns() < give_up) {
			(void)peer_ring_free_slots(p);	/* rereads the device's index */
			if (!peer_ring_in_flight(p))
				break;
			usleep(1000);
		}
	}
	free(frame);
	return 0;
}

int bench_guest(const struct bench_opts *o)
{
	static struct gctx g;
	const char *c = o->cmd;
	bool one_hop = !strcmp(c, "tx") || !strcmp(c, "rx");
	bool sink = !strcmp(c, "sink"), peer_only = sink || !strcmp(c, "source");
	double u0, s0, u1, s1, other0[4] = { 0 };
	struct vnet_info info;
	int rc;

	g.o = o;
	g.bell = -1;
	g.r.scenario = o->label ? o->label : c;
	g.r.side = c;
	if ((rc = bu_init(&g.u)) < 0) {
		fprintf(stderr, "vnet-bench: io_uring: %s\n", strerror(-rc));
		return 1;
	}
	if ((one_hop || peer_only) && (!o->peer_dir || !o->peer_system || !o->peer_name)) {
		fprintf(stderr, "vnet-bench: %s needs --peer-node DIR SYSTEM NAME\n", c);
		return 2;
	}
	if (!sink && peer_only && !o->have_dst) {
		fprintf(stderr, "vnet-bench: source needs --dst MAC (the vdev's)\n");
		return 2;
	}
	if ((one_hop || peer_only) && peer_start(&g) < 0)
		return 1;
	if (!peer_only && (rc = open_dev(&g)) < 0) {
		fprintf(stderr, "vnet-bench: cannot use the device at %s: %s\n", o->socket,
			strerror(-rc));
		return 1;
	}
	if (!strcmp(c, "tx") || !strcmp(c, "send") || !strcmp(c, "ping")) {
		if (!strcmp(c, "tx") && !o->have_dst)
			memcpy((uint8_t *)o->dst, (const uint8_t[6]){ 2, 0x42, 0, 0, 0, 0x99 }, 6);
		else if (!o->have_dst) {
			fprintf(stderr, "vnet-bench: %s needs --dst MAC\n", c);
			return 2;
		}
	}
	for (unsigned i = 0; i < o->n_cpu_pids; i++)
		other0[i] = bench_cpu_pid(o->cpu_pids[i]);
	bench_cpu_self(&u0, &s0);
	if (peer_only)
		rc = run_peer(&g, sink);
	else if (!strcmp(c, "tx") || !strcmp(c, "send"))
		rc = run_tx(&g, one_hop);
	else if (!strcmp(c, "rx") || !strcmp(c, "recv"))
		rc = run_rx(&g, one_hop);
	else if (!strcmp(c, "ping"))
		rc = run_ping(&g);
	else
		rc = run_pong(&g);
	bench_cpu_self(&u1, &s1);
	g.r.cpu_user = u1 - u0;
	g.r.cpu_sys = s1 - s0;
	g.r.n_other = o->n_cpu_pids;
	for (unsigned i = 0; i < o->n_cpu_pids; i++)
		g.r.other_cpu[i] = bench_cpu_pid(o->cpu_pids[i]) - other0[i];
	if (g.dev) {
		vnet_dev_info(g.dev, &info);
		g.r.kicks = info.stats.kicks_sent;
		g.r.irqs = info.stats.irqs_rx + info.stats.irqs_tx + info.stats.irqs_line;
	}
	g.r.bells_recv = g.bells_recv;
	g.r.sleeps = g.u.sleeps;
	g.r.wakeups = g.u.wakeups;
	g.r.submits = g.u.submits;
	if (rc == 0 && strcmp(c, "pong"))
		bench_print(o, &g.r);
	if (g.dev)
		vnet_dev_close(g.dev);
	if (g.pl)
		peer_link_stop(g.pl);
	evloop_free(g.ev);
	bu_exit(&g.u);
	return rc < 0 ? 1 : 0;
}
