/* SPDX-License-Identifier: MIT */
/*
 * tap_bridge.h - `vnet-guest tap`: a Linux network stack on top of the
 * userspace driver (docs/ARCHITECTURE.md "Real peers").
 *
 * The driver's virtio-net device is handed to a TAP interface opened
 * with IFF_VNET_HDR: what the kernel transmits on the TAP goes out on the
 * device's transmitq with its virtio-net header, and what the device
 * receives is written to the TAP with its header, so the kernel's
 * offloads and the device's are the same thing.  TUNSETOFFLOAD lets the
 * kernel hand us only what the device negotiated for sending (CSUM,
 * HOST_TSO4/6, HOST_ECN, HOST_UFO: common/tun.h); the kernel takes any
 * offload the device delivers.  The TAP gets the device's MAC (so the
 * device's receive filter passes its frames) and MTU, and its carrier
 * follows the device's link status.
 */
#ifndef VNET_GUEST_TAP_BRIDGE_H
#define VNET_GUEST_TAP_BRIDGE_H

#include <signal.h>
#include <stdint.h>

#include "common/mac.h"

struct vnet_dev;

/* `--addr` may be given this often (vnet-host's `vdev tap addr` too). */
#define TAP_BRIDGE_MAX_ADDRS 4

struct tap_bridge_cfg {
	const char *ifname;
	const char *netns;		/* NULL: stay in ours */
	unsigned n_addrs;
	const char *addrs[TAP_BRIDGE_MAX_ADDRS];
	double seconds;			/* run this long; 0: until a signal */
};

struct tap_bridge_stats {
	uint64_t to_dev_frames, to_dev_bytes;		/* TAP -> transmitq */
	uint64_t from_dev_frames, from_dev_bytes;	/* receiveq -> TAP */
	/* Of them, frames carrying an offload: GSO (TSO/UFO), and a partial
	 * checksum (NEEDS_CSUM): shows that the offloads are in use. */
	uint64_t to_dev_gso, to_dev_csum, from_dev_gso, from_dev_csum;
	uint64_t drop_bad;		/* frames one side would not take */
	uint64_t drop_tap_error;	/* the kernel refused a frame */
	uint64_t link_changes;
};

/* Sets up the TAP and moves frames until *stop is set (or cfg->seconds
 * pass, or the device fails).  Prints its counters.  Exit status: 0
 * stopped cleanly, 1 the device failed, 2 setup failed (reason printed). */
int tap_bridge_run(struct vnet_dev *d, const struct tap_bridge_cfg *cfg,
		   volatile sig_atomic_t *stop);

#endif /* VNET_GUEST_TAP_BRIDGE_H */
