// SPDX-License-Identifier: MIT
/*
 * send.c - `vnet-guest send MAC`: a stream of checkable test frames, by
 * count or for --seconds, optionally resetting the device every
 * --reset-after frames; reports the rate the device took them at.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/mac.h"
#include "guest/frame.h"
#include "guest/tool/out.h"
#include "guest/tool/tool.h"

static int cmd_send(struct cli *c, struct vnet_dev *d)
{
	bool by_time = c->given & O_SECONDS;
	uint64_t count = (c->given & O_COUNT) ? c->count : by_time ? UINT64_MAX : 1000;
	uint32_t size = (c->given & O_SIZE) ? c->size : VNET_ETH_MAX_FRAME;
	uint64_t sent = 0, bytes = 0, start, end, stop_at, stall;
	uint64_t next_reset = c->reset_after ? c->reset_after : UINT64_MAX;
	uint64_t move_at = c->move_to ? c->move_after : UINT64_MAX;
	bool move_failed = false;
	uint8_t (*buf)[FRAME_MAX_LEN];
	struct vnet_frame tx[BURST];
	uint8_t me[6], dst[6];
	unsigned have = 0, first = 0;
	struct out o;
	int rc = 0, ret;

	if (size < FRAME_MIN_LEN)
		size = FRAME_MIN_LEN;
	memcpy(dst, c->dst, sizeof(dst));
	if (size > vnet_max_tx_frame(d))
		return bad_usage("--size %u exceeds the link's largest frame (%u bytes)",
				 size, vnet_max_tx_frame(d));
	buf = malloc((size_t)BURST * FRAME_MAX_LEN);
	if (!buf)
		return EXIT_SETUP;
	vnet_mac(d, me);
	ret = link_or_fail(d, c->timeout_s);
	if (ret != EXIT_OK) {
		free(buf);
		return ret;
	}
	start = now_ns();
	stop_at = by_time ? start + secs_to_ns(c->seconds) : UINT64_MAX;
	stall = start;
	while (!stop_requested && (sent < count || have > first)) {
		uint64_t now;

		/* Refill the staging burst once it has all been queued. */
		if (first == have) {
			first = have = 0;
			while (have < BURST && sent + have < count) {
				uint64_t seq = c->first_seq + sent + have;
				int len = frame_build_flow(buf[have], size, dst, me, FRAME_DATA, seq,
							   now_ns(), tool_flow_of(c, seq));

				tx[have] = (struct vnet_frame){ buf[have], (uint32_t)len, NULL };
				have++;
			}
		}
		rc = vnet_tx_burst(d, tx + first, have - first);
		if (rc < 0)
			break;
		for (int i = 0; i < rc; i++)
			bytes += tx[first + (unsigned)i].len;
		first += (unsigned)rc;
		sent += (unsigned)rc;
		rc = 0;
		if (sent >= next_reset && sent < count) {
			/* Let the device take what is queued first, so the
			 * reset loses nothing (3.3: nothing in flight after). */
			rc = vnet_tx_drain(d, DRAIN_MS);
			if (rc == 0)
				rc = reset_device(c, d, "send");
			if (rc < 0)
				break;
			next_reset += c->reset_after;
			stall = now_ns();
		}
		if (sent >= move_at) {
			/* Frames still queued move with the device; a move
			 * that fails leaves it running where it was. */
			move_failed = move_device(c, d, "send") < 0;
			move_at = UINT64_MAX;
			stall = now_ns();
		}
		now = now_ns();
		if (now >= stop_at) {
			count = sent;	/* time is up: drop the staged rest */
			break;
		}
		if (first < have) {
			if (now - stall > secs_to_ns(c->timeout_s > 0 ? c->timeout_s : 10)) {
				rc = -ETIMEDOUT;
				break;
			}
			rc = wait_work(d, 100);
			if (rc < 0)
				break;
			rc = 0;
		} else {
			stall = now;
		}
	}
	/* The rate counts frames the device has taken, not just queued. */
	if (rc == 0)
		rc = vnet_tx_drain(d, DRAIN_MS);
	end = now_ns();
	out_begin(&o, c->json);
	out_rate(&o, sent, bytes, (double)(end - start) / 1e9);
	out_u64(&o, "size", size);
	out_counters(&o, d);
	out_end(&o);
	free(buf);
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "vnet-guest: send: transmit stalled (the device takes no frames)\n");
		return EXIT_FAIL;
	}
	if (rc < 0 && rc != -EINTR)
		return device_error("send", rc);
	return stop_requested || sent < count || move_failed ? EXIT_FAIL : EXIT_OK;
}

const struct command command_send = { "send", O_COUNT | O_SIZE | O_SECONDS | O_TIMEOUT | O_RESET | O_MOVE |
					O_FIRSTSEQ | O_FLOWS, true, false, cmd_send };
