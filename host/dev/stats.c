// SPDX-License-Identifier: MIT
/*
 * stats.c - a vdev's counters as one text line (logs, SIGUSR1, the
 * demo) or one JSON object (`vnet-host stats --json`, built with json-c).
 *
 * Both come from the same table, so a counter added here shows in both
 * with the same name: groups of (name, value) pairs, text "group: name N
 * name N; ...", JSON {"group": {"name": N, ...}, ...}.
 */
#include "host/dev/stats.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "host/peer/link.h"

struct counter {
	const char *name;
	uint64_t v;
};

#define MAX_COUNTERS 12

struct group {
	const char *name;
	unsigned n;
	struct counter c[MAX_COUNTERS];
};

enum { G_TX, G_RX, G_DROPS, G_OFFLOAD, G_LINK, G_DEVICE, G_CAPTURE, N_GROUPS };

static void queue_group(struct group *g, const char *name,
			const struct vdev_queue_stats *q)
{
	*g = (struct group){ name, 6, {
		{ "frames", q->frames }, { "bytes", q->bytes },
		{ "kicks", q->kicks }, { "irqs", q->irqs },
		{ "irqs_suppressed", q->irqs_suppressed },
		{ "irqs_coalesced", q->irqs_coalesced } } };
}

/* The transmitqs' (odd) or receiveqs' (even) counters, summed over the
 * pairs. */
static struct vdev_queue_stats sum_queues(const struct vdev *vd, unsigned first)
{
	struct vdev_queue_stats t = { 0 };

	for (unsigned q = first; q < 2 * vd->max_pairs; q += 2) {
		const struct vdev_queue_stats *s = &vd->q[q].stats;

		t.frames += s->frames;
		t.bytes += s->bytes;
		t.kicks += s->kicks;
		t.irqs += s->irqs;
		t.irqs_suppressed += s->irqs_suppressed;
		t.irqs_coalesced += s->irqs_coalesced;
	}
	return t;
}

static void collect(const struct vdev *vd, struct group g[N_GROUPS])
{
	const struct vdev_stats *s = &vd->stats;
	static const struct peer_link_stats none;
	const struct peer_link_stats *l = vd->link ? peer_link_stats(vd->link) : &none;
	struct vdev_queue_stats tx = sum_queues(vd, VNET_TXQ), rx = sum_queues(vd, VNET_RXQ);

	queue_group(&g[G_TX], "tx", &tx);
	queue_group(&g[G_RX], "rx", &rx);
	g[G_DROPS] = (struct group){ "drops", 6, {
		{ "link_down", s->drop_link_down }, { "bad_frame", s->drop_bad_frame },
		{ "no_driver", s->drop_no_driver }, { "rx_too_small", s->drop_rx_too_small },
		{ "filtered", s->drop_filtered }, { "no_rx_buffer", s->drop_no_rx_buffer } } };
	g[G_OFFLOAD] = (struct group){ "offload", 3, {
		{ "csum_completed", s->csum_completed },
		{ "frames_segmented", s->frames_segmented },
		{ "segments_made", s->segments_made } } };
	g[G_LINK] = (struct group){ "link", 12, {
		{ "doorbells_sent", l->doorbells_sent },
		{ "doorbells_suppressed", l->doorbells_suppressed },
		{ "doorbells_received", l->doorbells_received },
		{ "ups", l->links_up }, { "flaps", l->links_down },
		{ "refused", l->refused }, { "features_updates", l->features_updates },
		{ "dropped_stalled", l->drops_stalled }, { "dropped_flood", l->drops_flood },
		{ "dropped_broken", l->drops_broken },
		/* Frames held for a peer that moved to another process. */
		{ "moved_held", l->moved_held }, { "moved_lost", l->moved_lost } } };
	g[G_DEVICE] = (struct group){ "device", 2, { { "needs_reset", s->needs_reset },
						      { "mem_faults", s->mem_faults } } };
	g[G_CAPTURE] = (struct group){ "capture", 2, {
		{ "frames", s->capture_frames }, { "dropped", s->capture_dropped } } };
}

/* snprintf into buf at *off, never past len. */
__attribute__((format(printf, 4, 5)))
static void put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
}

static size_t finish(char *buf, size_t len, size_t off)
{
	if (len == 0)
		return 0;
	return off < len ? off : len - 1;
}

size_t vdev_stats_format(const struct vdev *vd, char *buf, size_t len)
{
	struct group g[N_GROUPS];
	size_t off = 0;

	if (len)
		buf[0] = 0;
	collect(vd, g);
	put(buf, len, &off, "%s: link %s", vd->name,
	    (vd->cfg.status & VIRTIO_NET_S_LINK_UP) ? "up" : "down");
	for (unsigned i = 0; i < N_GROUPS; i++) {
		put(buf, len, &off, "; %s:", g[i].name);
		for (unsigned k = 0; k < g[i].n; k++)
			put(buf, len, &off, " %s %llu", g[i].c[k].name,
			    (unsigned long long)g[i].c[k].v);
	}
	/* With several pairs, how the frames spread over them (the "rx"
	 * and "tx" groups are their sums), as the JSON's "pairs" has it. */
	if (vd->max_pairs > 1) {
		put(buf, len, &off, "; pairs: in_use %u rx_frames", vd->curr_pairs);
		for (unsigned k = 0; k < vd->max_pairs; k++)
			put(buf, len, &off, " %llu",
			    (unsigned long long)vd->q[vnet_rxq(k)].stats.frames);
		put(buf, len, &off, " tx_frames");
		for (unsigned k = 0; k < vd->max_pairs; k++)
			put(buf, len, &off, " %llu",
			    (unsigned long long)vd->q[vnet_txq(k)].stats.frames);
	}
	return finish(buf, len, off);
}

/* Each pair's frames and interrupts, as the "tx" and "rx" groups sum
 * them: how the flows spread. */
static json_object *pairs_json(const struct vdev *vd)
{
	json_object *a = json_object_new_array();

	for (unsigned k = 0; k < vd->max_pairs; k++) {
		const struct vdev_queue_stats *rx = &vd->q[vnet_rxq(k)].stats;
		const struct vdev_queue_stats *tx = &vd->q[vnet_txq(k)].stats;
		json_object *p = json_object_new_object();

		json_object_object_add(p, "rx_frames", json_object_new_uint64(rx->frames));
		json_object_object_add(p, "rx_irqs", json_object_new_uint64(rx->irqs));
		json_object_object_add(p, "tx_frames", json_object_new_uint64(tx->frames));
		json_object_object_add(p, "tx_irqs", json_object_new_uint64(tx->irqs));
		/* The data-path thread its transmitq runs on (-1: the main
		 * loop); its receiveq's frames come from the thread of the
		 * link ring that feeds it. */
		json_object_object_add(p, "thread",
				       json_object_new_int(vd->dp.n_threads
								   ? (int)(k % vd->dp.n_threads)
								   : -1));
		json_object_array_add(a, p);
	}
	return a;
}

json_object *vdev_stats_json(const struct vdev *vd)
{
	json_object *o = json_object_new_object();
	struct group g[N_GROUPS];
	char feat[24];

	collect(vd, g);
	snprintf(feat, sizeof(feat), "0x%llx", (unsigned long long)vd->driver_features);
	json_object_object_add(o, "name", json_object_new_string(vd->name));
	json_object_object_add(o, "transport",
			       json_object_new_string(vd->face.name ? vd->face.name : "none"));
	json_object_object_add(o, "link_up",
			       json_object_new_boolean(vd->cfg.status & VIRTIO_NET_S_LINK_UP));
	json_object_object_add(o, "driver_features", json_object_new_string(feat));
	json_object_object_add(o, "queue_pairs", json_object_new_int((int)vd->max_pairs));
	json_object_object_add(o, "queue_pairs_in_use", json_object_new_int((int)vd->curr_pairs));
	json_object_object_add(o, "threads", json_object_new_int((int)vd->dp.n_threads));
	json_object_object_add(o, "pairs", pairs_json(vd));
	for (unsigned i = 0; i < N_GROUPS; i++) {
		json_object *grp = json_object_new_object();

		for (unsigned k = 0; k < g[i].n; k++)
			json_object_object_add(grp, g[i].c[k].name,
					       json_object_new_uint64(g[i].c[k].v));
		json_object_object_add(o, g[i].name, grp);
	}
	return o;
}

void vdev_stats_log(const struct vdev *vd)
{
	char line[VDEV_STATS_MAX];

	vdev_stats_format(vd, line, sizeof(line));
	log_info("stats %s", line);
}
