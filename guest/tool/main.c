// SPDX-License-Identifier: MIT
/*
 * vnet-guest - a userspace virtio-net guest driver as a command-line tool.
 *
 *   vnet-guest --socket PATH info [--json]
 *   vnet-guest --socket PATH pong [--count N] [--timeout S]
 *   vnet-guest --socket PATH ping [--count N] [--size B] [--timeout S]
 *                                 [--interval-us U] [--window W] MAC
 *   vnet-guest --socket PATH send [--count N] [--size B] [--seconds S] MAC
 *   vnet-guest --socket PATH recv [--count N] [--timeout S]
 *   vnet-guest --socket PATH tap IFNAME [--netns NS] [--addr A/P]...
 *                                [--seconds S]
 *
 * Each command is a short loop over the library (guest/virtio_net.h):
 * vnet_rx_burst / vnet_tx_burst / vnet_wait.  Results are printed as
 * "key: value" lines (or one JSON object with --json).  Exit codes: 0 ok,
 * 1 the test failed (loss, corruption, link down), 2 usage or setup error.
 *
 * This file opens the device and runs the command; the commands are one
 * file each (info.c, pong.c, ping.c, send.c, recv.c, tap_bridge.c), the
 * command line is cli.c and the output out.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/version.h"
#include "guest/tool/tool.h"

volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct vnet_dev *d;
	struct cli c = { 0 };
	int rc;

	if (vnet_print_version(argc, argv, "vnet-guest"))
		return 0;
	log_set_prefix("vnet-guest");
	rc = parse_cli(&c, argc, argv);
	if (rc || !c.command)
		return rc ? rc : EXIT_SETUP;
	/* No SA_RESTART: a signal ends the ppoll in vnet_wait at once. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (vnet_dev_open(&d, &c.dp) < 0)
		return EXIT_SETUP;	/* the library said why */
	if (c.rx_mode != RXM_DEFAULT) {
		rc = vnet_ctrl_rx_mode(d, VNET_RX_PROMISC, c.rx_mode == RXM_PROMISC);
		if (rc < 0) {
			fprintf(stderr, "vnet-guest: cannot set the RX mode: %s%s\n",
				strerror(-rc), rc == -ENOTSUP ?
				" (the device offers no CTRL_VQ/CTRL_RX)" : "");
			vnet_dev_close(d);
			return EXIT_SETUP;
		}
	}
	for (unsigned dir = VNET_RX; dir <= VNET_TX; dir++) {
		if (!c.coal[dir].given)
			continue;
		rc = vnet_ctrl_coalesce(d, (enum vnet_queue_dir)dir, c.coal[dir].max_packets,
					c.coal[dir].max_usecs);
		if (rc < 0) {
			fprintf(stderr, "vnet-guest: cannot set %s interrupt coalescing: %s%s\n",
				dir == VNET_TX ? "transmit" : "receive", strerror(-rc),
				rc == -ENOTSUP ? " (the device offers no NOTF_COAL)" : "");
			vnet_dev_close(d);
			return EXIT_SETUP;
		}
	}
	rc = hash_configure(&c, d);
	if (rc != EXIT_OK) {
		vnet_dev_close(d);
		return rc;
	}
	rc = c.command->run(&c, d);
	vnet_dev_close(d);	/* resets the device: the vdev is free again */
	return rc;
}
