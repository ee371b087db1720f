// SPDX-License-Identifier: MIT
/*
 * ping.c - `vnet-guest ping MAC`: echo requests, up to --window in
 * flight, paced by --interval-us; every reply is checked and timed.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/mac.h"
#include "guest/frame.h"
#include "guest/tool/hist.h"
#include "common/jsonout.h"
#include "guest/tool/out.h"
#include "guest/tool/tool.h"

#define PING_REPLY_NS	UINT64_C(1000000000)	/* a reply later than 1 s is lost */

struct ping_slot {
	uint64_t seq;
	uint64_t sent_ns;
	bool busy;
};

struct ping_state {
	struct ping_slot slot[PING_SLOTS];
	uint64_t sent, received, lost, corrupted, unexpected;
	uint64_t oldest;		/* lowest seq possibly still in flight */
	unsigned inflight;
	struct hist rtt;
};

/* Requests older than the reply deadline are lost; they are expired in
 * sequence order, so the window slides past them. */
static void ping_expire(struct ping_state *s, uint64_t now, bool all)
{
	while (s->oldest < s->sent) {
		struct ping_slot *sl = &s->slot[s->oldest % PING_SLOTS];

		if (sl->busy && sl->seq == s->oldest) {
			if (!all && now - sl->sent_ns < PING_REPLY_NS)
				break;
			sl->busy = false;
			s->inflight--;
			s->lost++;
		}
		s->oldest++;
	}
}

static void ping_reply(struct ping_state *s, const struct vnet_frame *f,
		       const uint8_t me[6])
{
	struct frame_info fi;
	int rc = frame_check(f->data, f->len, &fi);
	struct ping_slot *sl;

	if (rc == FRAME_E_TYPE)
		return;			/* not a test frame */
	if (rc != FRAME_OK && rc != FRAME_E_CONTENT) {
		s->corrupted++;		/* cannot even tell which request */
		return;
	}
	if (fi.kind != FRAME_PONG || !mac_eq(fi.dst, me))
		return;
	sl = &s->slot[fi.seq % PING_SLOTS];
	if (!sl->busy || sl->seq != fi.seq || fi.seq >= s->sent) {
		s->unexpected++;	/* duplicate, or after its deadline */
		return;
	}
	sl->busy = false;
	s->inflight--;
	s->received++;
	if (rc == FRAME_E_CONTENT)
		s->corrupted++;
	else
		hist_add(&s->rtt, now_ns() - sl->sent_ns);
}

static void out_rtt(struct out *o, const struct hist *h)
{
	json_object *j;
	double us[4];

	if (h->n == 0) {
		if (o->json)
			out_json(o, "rtt_us", NULL);
		else
			printf("rtt_us: none\n");
		return;
	}
	us[0] = (double)h->min / 1e3;
	us[1] = (double)hist_pct(h, 0.50) / 1e3;
	us[2] = (double)hist_pct(h, 0.99) / 1e3;
	us[3] = (double)h->max / 1e3;
	if (!o->json) {
		printf("rtt_us: min %.1f p50 %.1f p99 %.1f max %.1f\n", us[0], us[1], us[2], us[3]);
		return;
	}
	j = json_object_new_object();
	json_object_object_add(j, "min", jsonout_double(us[0], 1));
	json_object_object_add(j, "p50", jsonout_double(us[1], 1));
	json_object_object_add(j, "p99", jsonout_double(us[2], 1));
	json_object_object_add(j, "max", jsonout_double(us[3], 1));
	out_json(o, "rtt_us", j);
}

static int cmd_ping(struct cli *c, struct vnet_dev *d)
{
	uint64_t count = (c->given & O_COUNT) ? c->count : 10;
	uint32_t size = (c->given & O_SIZE) ? c->size : FRAME_MIN_LEN;
	uint64_t idle = secs_to_ns(c->timeout_s), interval = c->interval_us * 1000u;
	uint64_t next_send, last_progress;
	struct ping_state *s = calloc(1, sizeof(*s));
	uint8_t (*buf)[FRAME_MAX_LEN] = NULL;
	struct vnet_frame rx[BURST], tx[BURST];
	uint8_t me[6], dst[6];
	struct out o;
	int rc = 0, ret;

	if (size < FRAME_MIN_LEN)
		size = FRAME_MIN_LEN;
	if (!s)
		return device_error("ping", -ENOMEM);
	memcpy(dst, c->dst, sizeof(dst));
	if (size > vnet_max_tx_frame(d)) {
		free(s);
		return bad_usage("--size %u exceeds the link's largest frame (%u bytes)",
				 size, vnet_max_tx_frame(d));
	}
	buf = malloc((size_t)BURST * FRAME_MAX_LEN);
	if (!buf) {
		free(s);
		return EXIT_SETUP;
	}
	vnet_mac(d, me);
	ret = link_or_fail(d, c->timeout_s);
	if (ret != EXIT_OK)
		goto out;
	next_send = last_progress = now_ns();
	while (!stop_requested && (s->sent < count || s->inflight > 0)) {
		uint64_t now = now_ns();
		unsigned m = 0;
		int n;

		/* Send what the window and the pacing allow, as one burst. */
		while (s->sent + m < count && s->inflight + m < c->window && m < BURST &&
		       now >= next_send) {
			uint64_t seq = s->sent + m;
			int len = frame_build_flow(buf[m], size, dst, me, FRAME_PING, seq, now,
						   tool_flow_of(c, seq));

			tx[m] = (struct vnet_frame){ buf[m], (uint32_t)len, NULL };
			m++;
			if (interval) {
				next_send = now + interval;
				break;
			}
		}
		if (m) {
			rc = vnet_tx_burst(d, tx, m);
			if (rc < 0)
				break;
			for (int i = 0; i < rc; i++) {
				struct ping_slot *sl = &s->slot[s->sent % PING_SLOTS];

				*sl = (struct ping_slot){ s->sent, now, true };
				s->sent++;
				s->inflight++;
			}
			rc = 0;
		}
		n = vnet_rx_burst(d, rx, BURST);
		if (n < 0) {
			rc = n;
			break;
		}
		for (int i = 0; i < n; i++)
			ping_reply(s, &rx[i], me);
		now = now_ns();
		if (n > 0)
			last_progress = now;
		ping_expire(s, now, false);
		if (idle != UINT64_MAX && now - last_progress >= idle)
			break;
		if (n == 0 && (s->inflight >= c->window || s->sent >= count || now < next_send)) {
			int ms = 10;

			if (s->sent < count && s->inflight < c->window && next_send > now)
				ms = (int)((next_send - now) / 1000000u);
			rc = wait_work(d, ms);
			if (rc < 0)
				break;
			rc = 0;
		}
	}
	ping_expire(s, now_ns(), true);
	out_begin(&o, c->json);
	out_u64(&o, "sent", s->sent);
	out_u64(&o, "received", s->received);
	out_u64(&o, "lost", s->lost);
	out_u64(&o, "corrupted", s->corrupted);
	out_u64(&o, "unexpected", s->unexpected);
	out_u64(&o, "size", size);
	out_u64(&o, "window", c->window);
	out_rtt(&o, &s->rtt);
	out_counters(&o, d);
	out_end(&o);
	if (rc < 0)
		ret = device_error("ping", rc);
	else
		ret = s->lost || s->corrupted || s->sent < count ? EXIT_FAIL : EXIT_OK;
out:
	free(buf);
	free(s);
	return ret;
}

const struct command command_ping = { "ping", O_COUNT | O_SIZE | O_TIMEOUT | O_INTERVAL | O_WINDOW |
					O_FLOWS,
					true, false, cmd_ping };
