// SPDX-License-Identifier: MIT
/*
 * recv.c - `vnet-guest recv`: receives a send stream and counts loss,
 * duplicates, reordering and corruption.  Frames of flows (send --flows,
 * spread over queue pairs) keep their order only within their flow, so
 * reordering is counted per flow for them.  With --hash-report, every
 * frame's reported hash is checked (hash.c).
 */
#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "guest/frame.h"
#include "guest/tool/out.h"
#include "guest/tool/tool.h"

#define SEQ_WINDOW	4096u	/* duplicates detected this far back */

/* Sequence accounting: next = highest seq seen + 1; a bitmap remembers
 * the last SEQ_WINDOW seqs so a late frame is told from a duplicate. */
struct seqtrack {
	uint64_t next;
	uint64_t bits[SEQ_WINDOW / 64];
	uint64_t gaps, dups, late;
};

static bool seq_test_set(struct seqtrack *t, uint64_t seq)
{
	uint64_t *w = &t->bits[(seq % SEQ_WINDOW) / 64], m = UINT64_C(1) << (seq % 64);
	bool was = *w & m;

	*w |= m;
	return was;
}

static void seq_clear(struct seqtrack *t, uint64_t seq)
{
	t->bits[(seq % SEQ_WINDOW) / 64] &= ~(UINT64_C(1) << (seq % 64));
}

/* Returns true for a frame seen for the first time. */
static bool seq_account(struct seqtrack *t, uint64_t seq)
{
	if (seq >= t->next) {
		uint64_t gap = seq - t->next;

		t->gaps += gap;
		if (gap >= SEQ_WINDOW)
			memset(t->bits, 0, sizeof(t->bits));
		else
			for (uint64_t s = t->next; s < seq; s++)
				seq_clear(t, s);
		seq_clear(t, seq);
		seq_test_set(t, seq);
		t->next = seq + 1;
		return true;
	}
	if (t->next - seq <= SEQ_WINDOW && seq_test_set(t, seq)) {
		t->dups++;
		return false;
	}
	/* Late: it was counted as a gap when later seqs arrived. */
	t->late++;
	if (t->gaps)
		t->gaps--;
	return true;
}

/* Per-flow order: the highest seq + 1 seen in each flow. */
struct flowtrack {
	uint64_t next[FRAME_FLOWS_MAX];
	unsigned seen;		/* flows with a frame */
	uint64_t late;		/* frames behind a later one of their flow */
};

static void flow_account(struct flowtrack *f, int flow, uint64_t seq)
{
	uint64_t *n = &f->next[flow];

	if (*n == 0)
		f->seen++;
	if (seq + 1 > *n)
		*n = seq + 1;
	else
		f->late++;
}

static int cmd_recv(struct cli *c, struct vnet_dev *d)
{
	bool want_count = c->given & O_COUNT;
	uint64_t idle = secs_to_ns(c->timeout_s), last = now_ns(), first_ns = 0, last_ns = 0;
	uint64_t frames = 0, bytes = 0, errors = 0, other = 0, lost;
	uint64_t next_reset = c->reset_after ? c->reset_after : UINT64_MAX;
	uint64_t move_at = c->move_to ? c->move_after : UINT64_MAX;
	bool move_failed = false;
	uint64_t resets = 0, after_reset = 0, dups;
	struct seqtrack *t = calloc(1, sizeof(*t));
	struct flowtrack *ft = calloc(1, sizeof(*ft));
	struct vnet_frame rx[BURST];
	struct hash_tally ht = { 0 };
	struct out o;
	int rc = 0;

	if (!t || !ft) {
		free(t);
		free(ft);
		return EXIT_SETUP;
	}
	while (!stop_requested && !(want_count && frames >= c->count)) {
		int n = vnet_rx_burst(d, rx, BURST);

		if (n < 0) {
			rc = n;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct frame_info fi;
			int fr = frame_check(rx[i].data, rx[i].len, &fi);

			if (c->dp.want_hash_report)
				hash_tally_frame(&ht, c, d, &rx[i]);
			if (fr == FRAME_E_TYPE || (fr == FRAME_OK && fi.kind != FRAME_DATA)) {
				other++;
				continue;
			}
			if (fr != FRAME_OK) {
				errors++;
				continue;
			}
			if (!seq_account(t, fi.seq))
				continue;
			if (fi.flow >= 0)
				flow_account(ft, fi.flow, fi.seq);
			frames++;
			after_reset += resets > 0;
			bytes += rx[i].len;
			last_ns = now_ns();
			if (!first_ns)
				first_ns = last_ns;
		}
		if (frames >= next_reset) {
			/* Frames handed out above are invalid after this. */
			rc = reset_device(c, d, "recv");
			if (rc < 0)
				break;
			resets++;
			next_reset += c->reset_after;
			last = now_ns();
			continue;
		}
		if (frames >= move_at) {
			/* Frames handed out above stay valid: guest RAM and
			 * the rings do not change.  A move that fails leaves
			 * the device running where it was. */
			move_failed = move_device(c, d, "recv") < 0;
			move_at = UINT64_MAX;
			last = now_ns();
		}
		rc = rx_pause(d, n, &last, idle);
		if (rc <= 0)
			break;
		rc = 0;
	}
	lost = t->gaps;
	if (want_count && t->next < c->count)
		lost += c->count - t->next;	/* the tail never came */
	out_begin(&o, c->json);
	out_rate(&o, frames, bytes, first_ns ? (double)(last_ns - first_ns) / 1e9 : 0);
	out_u64(&o, "lost", lost);
	out_u64(&o, "duplicates", t->dups);
	out_u64(&o, "out_of_order", ft->seen ? ft->late : t->late);
	if (ft->seen) {
		out_u64(&o, "flows", ft->seen);
		out_u64(&o, "across_flows_reordered", t->late);
	}
	out_u64(&o, "content_errors", errors);
	out_u64(&o, "other_frames", other);
	if (c->reset_after)
		out_u64(&o, "frames_after_reset", after_reset);
	if (c->dp.want_hash_report)
		hash_tally_out(&ht, &o);
	out_counters(&o, d);
	out_end(&o);
	dups = t->dups;
	free(t);
	free(ft);
	if (rc < 0)
		return device_error("recv", rc);
	if (errors || dups || move_failed || ht.mismatches)
		return EXIT_FAIL;
	/* A reset drops what arrived while the device was down (counted in
	 * lost): success is the stream coming back, intact. */
	if (c->reset_after)
		return resets > 0 && after_reset > 0 ? EXIT_OK : EXIT_FAIL;
	/* Loss is a failure (README: exit 1), with or without --count. */
	if (want_count)
		return frames >= c->count && lost == 0 ? EXIT_OK : EXIT_FAIL;
	return frames > 0 && lost == 0 ? EXIT_OK : EXIT_FAIL;
}

const struct command command_recv = { "recv", O_COUNT | O_TIMEOUT | O_RESET | O_MOVE, false, false,
				      cmd_recv };
