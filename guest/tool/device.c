// SPDX-License-Identifier: MIT
/*
 * device.c - what several vnet-guest commands do with the device besides
 * their own loop: wait for the link, queue a whole batch, report a
 * failure, reset mid-stream (tool.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "guest/tool/tool.h"

int wait_work(struct vnet_dev *d, int timeout_ms)
{
	int rc = vnet_wait(d, timeout_ms);

	return rc == -EINTR ? 0 : rc;
}

int rx_pause(struct vnet_dev *d, int n, uint64_t *last, uint64_t idle_ns)
{
	int rc;

	if (n > 0) {
		*last = now_ns();
		return 1;
	}
	if (idle_ns != UINT64_MAX && now_ns() - *last >= idle_ns)
		return 0;
	rc = wait_work(d, 100);
	return rc < 0 ? rc : 1;
}

/* One wait of a bounded loop: -EINTR once a signal asked to stop,
 * -ETIMEDOUT past the deadline, else wait_work (100 ms at most). */
static int wait_before(struct vnet_dev *d, uint64_t deadline)
{
	if (stop_requested)
		return -EINTR;
	if (now_ns() >= deadline)
		return -ETIMEDOUT;
	return wait_work(d, 100);
}

/* Waits for VIRTIO_NET_S_LINK_UP, bounded by the timeout; frames that
 * arrive meanwhile are dropped so the wait does not spin on them. */
static int wait_link(struct vnet_dev *d, double timeout_s)
{
	uint64_t deadline = now_ns() + secs_to_ns(timeout_s);
	struct vnet_frame f[BURST];

	if (secs_to_ns(timeout_s) == UINT64_MAX)
		deadline = UINT64_MAX;
	while (!vnet_link_up(d)) {
		int rc = wait_before(d, deadline);

		if (rc < 0)
			return rc;
		if ((rc & VNET_EV_RX) && vnet_rx_burst(d, f, BURST) < 0)
			return -EIO;
	}
	return 0;
}

int link_or_fail(struct vnet_dev *d, double timeout_s)
{
	int rc = wait_link(d, timeout_s);

	if (rc == -ETIMEDOUT) {
		printf("link: down\n");
		fprintf(stderr, "vnet-guest: link down: no link after %.1f s (is the peer up?)\n",
			timeout_s);
		return EXIT_FAIL;
	}
	if (rc == -EINTR)
		return EXIT_FAIL;
	if (rc < 0) {
		fprintf(stderr, "vnet-guest: device failed while waiting for link: %s\n",
			strerror(-rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}


int send_all(struct vnet_dev *d, const struct vnet_frame *f, unsigned n,
		    double timeout_s)
{
	uint64_t deadline = now_ns() + secs_to_ns(timeout_s > 0 ? timeout_s : 10);
	unsigned done = 0, queued = 0;

	while (done < n) {
		int rc = vnet_tx_burst(d, f + done, n - done);

		if (rc == -EMSGSIZE || rc == -EINVAL) {
			done++;
			continue;
		}
		if (rc < 0)
			return rc;
		done += (unsigned)rc;
		queued += (unsigned)rc;
		if (done == n)
			break;
		rc = wait_before(d, deadline);
		if (rc < 0)
			return rc;
	}
	return (int)queued;
}

int device_error(const char *what, int rc)
{
	fprintf(stderr, "vnet-guest: %s: %s\n", what,
		rc == -EIO ? "device failed (needs reset or broken ring, see log)"
		: rc == -ENOTCONN ? "device disconnected" : strerror(-rc));
	return EXIT_FAIL;
}

/* --move-to: the device moves to another vnet-host mid-stream (vfio-user
 * migration); the driver goes on without a reset. */
int move_device(struct cli *c, struct vnet_dev *d, const char *who)
{
	uint64_t t0 = now_ns();
	int rc = vnet_dev_move(d, c->move_to);

	if (rc < 0) {
		fprintf(stderr, "vnet-guest: %s: moving the device to %s failed: %s\n", who,
			c->move_to, strerror(-rc));
		return rc;
	}
	fprintf(stderr, "vnet-guest: %s: device moved to %s in %.1f ms\n", who, c->move_to,
		(double)(now_ns() - t0) / 1e6);
	return 0;
}

/* --reset-after: the device is reset mid-stream (2.4) and brought back;
 * the stream goes on once the link is up again. */
int reset_device(struct cli *c, struct vnet_dev *d, const char *who)
{
	int rc = vnet_dev_reset(d);

	if (rc < 0) {
		fprintf(stderr, "vnet-guest: %s: device reset failed: %s\n", who,
			strerror(-rc));
		return rc;
	}
	return link_or_fail(d, c->timeout_s) == EXIT_OK ? 0 : -ENOLINK;
}
