// SPDX-License-Identifier: MIT
/*
 * pong.c - `vnet-guest pong`: answers echo requests (test frames of kind
 * PING addressed to us) by turning each into its PONG in place.
 */
#include <errno.h>

#include "common/log.h"
#include "common/mac.h"
#include "guest/frame.h"
#include "guest/tool/out.h"
#include "guest/tool/tool.h"

static int cmd_pong(struct cli *c, struct vnet_dev *d)
{
	uint64_t answered = 0, ignored = 0, bad = 0, idle = secs_to_ns(c->timeout_s);
	uint64_t last = now_ns();
	struct vnet_frame rx[BURST], tx[BURST];
	uint8_t me[6];
	char mac[18];
	struct out o;
	int rc = 0;

	vnet_mac(d, me);
	if (!c->json) {
		printf("mac: %s\n", mac_format(me, mac));
		fflush(stdout);
	}
	while (!stop_requested && !((c->given & O_COUNT) && answered >= c->count)) {
		int n = vnet_rx_burst(d, rx, BURST);
		unsigned m = 0;

		if (n < 0) {
			rc = n;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct frame_info fi;
			int fr = frame_check(rx[i].data, rx[i].len, &fi);

			/* A PING whose payload is damaged is still echoed: the
			 * pinger then sees (and counts) the corruption. */
			if (fr != FRAME_OK && fr != FRAME_E_CONTENT) {
				if (fr == FRAME_E_TYPE)
					ignored++;
				else
					bad++;
				continue;
			}
			if (fr == FRAME_E_CONTENT)
				bad++;
			if (fi.kind != FRAME_PING || !mac_eq(fi.dst, me) ||
			    ((c->given & O_COUNT) && answered + m >= c->count)) {
				ignored++;
				continue;
			}
			frame_make_reply(rx[i].data, me);
			tx[m++] = (struct vnet_frame){ rx[i].data, rx[i].len, NULL };
		}
		if (m) {
			rc = send_all(d, tx, m, c->timeout_s);
			if (rc < 0)
				break;
			answered += (unsigned)rc;
		}
		rc = rx_pause(d, n, &last, idle);
		if (rc <= 0)
			break;
		rc = 0;
	}
	vnet_tx_drain(d, DRAIN_MS);
	out_begin(&o, c->json);
	if (c->json)
		out_str(&o, "mac", mac_format(me, mac));
	out_u64(&o, "answered", answered);
	out_u64(&o, "ignored", ignored);
	out_u64(&o, "corrupted", bad);
	out_counters(&o, d);
	out_end(&o);
	if (rc < 0)
		return device_error("pong", rc);
	return (c->given & O_COUNT) && answered < c->count ? EXIT_FAIL : EXIT_OK;
}

const struct command command_pong = { "pong", O_COUNT | O_TIMEOUT, false, false, cmd_pong };
