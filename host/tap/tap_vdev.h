/* SPDX-License-Identifier: MIT */
/*
 * tap_vdev.h - `vdev tap`: the host's own network stack as one end of a
 * peer link (docs/ARCHITECTURE.md "Real peers"; QNX's host peer interface vp0).
 *
 * A tap vdev is a peer-link endpoint exactly like a virtio-net vdev (node
 * <run-dir>/<system>/<name>, `peer`, hello, peerfeats), but instead of a
 * guest it has a Linux TAP interface opened with IFF_VNET_HDR: a frame
 * the kernel transmits on the TAP is read, with its virtio-net header,
 * straight into a record of our transmit ring, and a record of the
 * peer's ring is written to the TAP, header and frame, so the kernel
 * receives it.  Both directions keep the 12-byte header, so offloads
 * cross unchanged:
 *
 *  - what the kernel may hand us (TUNSETOFFLOAD) follows what the far
 *    guest can receive: the peerfeats mask, or with `auto` what the
 *    peer's guest negotiated (common/tun.h, tun_offloads_for_receiver);
 *  - the kernel takes every offload on frames we write (partial
 *    checksums, TSO, UFO), so the features we announce to the peer are
 *    all receive offloads, plus the transmit offloads it may then see.
 *
 * The interface's carrier follows the peer link (TUNSETCARRIER); its
 * MAC, MTU, addresses, namespace and bridge are set with libnl-3
 * (common/netlink.h).  A TAP we created disappears when we close it;
 * a bridge or VXLAN port we created is deleted at exit, unless it moved
 * to another process with the TAP (tap_move.c).
 */
#ifndef VNET_HOST_TAP_VDEV_H
#define VNET_HOST_TAP_VDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "host/opts.h"
#include "host/evloop.h"

struct peer_link;
struct vnl;

#define TAP_BUDGET 256		/* frames per pass and direction */

/* The offloads a Linux TAP takes on frames written to it, and the ones it
 * may send once the peer's guest can receive them (see above). */
#define TAP_LOCAL_FEATURES                                                 \
	(VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6) | \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_UFO) | \
	 VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) | \
	 VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN) | VIRTIO_BIT(VIRTIO_NET_F_HOST_UFO))

struct tap_stats {
	uint64_t to_peer_frames, to_peer_bytes;		/* TAP -> link */
	uint64_t from_peer_frames, from_peer_bytes;	/* link -> TAP */
	uint64_t to_peer_gso, from_peer_gso;		/* of them GSO frames */
	uint64_t drop_link_down;	/* the kernel sent while the link was down */
	uint64_t drop_truncated;	/* a TAP frame larger than a record */
	uint64_t drop_bad_frame;	/* a peer frame we would not write */
	uint64_t drop_tap_error;	/* the kernel refused a frame we wrote */
	uint64_t ring_full;		/* TAP reads paused: peer ring full */
	uint64_t offload_changes;
};

struct tap_vdev {
	const struct vdev_opts *opts;
	char name[OPTS_NAME_MAX];
	char ifname[OPTS_IFNAME_MAX];
	struct evloop *ev;
	struct peer_link *link;

	int fd;				/* the TAP */
	struct ev_handler tap_h;
	bool tap_paused;		/* not polled: waiting for ring space */
	bool tap_gone;			/* the interface was deleted under us */
	struct vnl *nl;			/* route socket in the TAP's namespace */
	bool carrier_ioctl;		/* TUNSETCARRIER works (else IFF_UP) */
	bool made_bridge, made_vxlan;	/* ours to delete (or handed over) */
	char vxlan_name[OPTS_IFNAME_MAX];
	unsigned offloads;		/* TUN_F_* now set */
	bool peer_known;		/* the peer's guest features, as the */
	uint64_t peer_features;		/* link last reported them */

	long rx_resched;		/* timer: budget-exhausted link -> TAP pass */
	long retry_timer;		/* timer: the TAP refused a write for now */
	struct tap_stats stats;

	/* Handing over to another process (tap_vdev_handover). */
	bool moving;			/* no more frames either way */
	int handover_fd;		/* where "ok" goes once done */
	long drain_timer;		/* waiting for the peer to take our ring */
	unsigned drain_ticks;
	void (*moved)(void *arg, struct tap_vdev *t);	/* told when done */
	void *moved_arg;
};

/* Opens the TAP, configures it (netns, MAC, MTU, bridge, VXLAN,
 * addresses, up) and starts the peer link.  -errno with the reason
 * printed on stderr; nothing is left behind on failure.
 *
 * incoming (`vnet-host --incoming`): the vnet-host serving this tap vdev
 * now hands it over first (control socket "handover NAME" in sys_dir);
 * then the TAP, which it kept with its addresses, MAC, MTU and
 * namespace, is taken as it is, with its bridge and VXLAN port (the
 * caller ran tap_move_check for every tap vdev first). */
int tap_vdev_create(struct tap_vdev **out, struct evloop *ev, const char *run_dir,
		    const char *system, const struct vdev_opts *opts, bool incoming);
/* Lets go of the TAP (kept, TUNSETPERSIST) and the peer link for a
 * process taking them over, which adopts what adopts names ("bridge BR
 * vxlan IF", as its options give it): reads no more from the TAP or the
 * link, lets the peer take what is in our ring (at most 1 s), tells it
 * that the vdev moves (the peer holds what we did not take), leaves the
 * link, closes the TAP, then writes "ok" to fd (naming the bridge and
 * VXLAN port we made, which are the taker's then) and closes it, and
 * calls moved.  0 (fd is ours), or -errno with err (adopts is not what
 * the TAP has with it, or a move is under way). */
int tap_vdev_handover(struct tap_vdev *t, const char *adopts, int fd, char *err,
		      size_t errlen);
/* Would tap_vdev_handover accept?  0, or -errno with err. */
int tap_vdev_handover_check(const struct tap_vdev *t, const char *adopts, char *err,
			    size_t errlen);
/* Stops the link, closes the TAP, deletes what we created. */
void tap_vdev_destroy(struct tap_vdev *t);
void tap_vdev_stats_log(const struct tap_vdev *t);
/* The offloads for the peer's features (known) or none (unknown). */
void tap_vdev_update_offloads(struct tap_vdev *t);

/* VXLAN port o would make, "vxlan<VNI>" ("" without vxlan). */
void tap_vxlan_name(const struct vdev_opts *o, char *buf, size_t len);

/* ---- moving (tap_move.c) --------------------------------------------- */
/* Before a vnet-host --incoming takes any vdev: would tap vdev o move?
 * What it adopts with its TAP (bridge, VXLAN port) is checked against o
 * in the kernel, and the running vnet-host asked whether it would hand
 * it over ("handover-check").  0, or -errno with the difference on
 * stderr; nothing changes either way. */
int tap_move_check(const char *run_dir, const char *system, const struct vdev_opts *o);
/* tap_vdev_create's incoming half: the vnet-host serving the tap vdev
 * now lets go of it; then the TAP is taken as it was left (addresses,
 * MAC, MTU, namespace, up), and it goes with our last fd again.  0, or
 * -errno with the reason on stderr. */
int tap_move_take_over(struct tap_vdev *t, const char *run_dir, const char *system);

/* ---- data path (tap_dp.c) ------------------------------------------- */
/* The TAP is readable: kernel frames -> our transmit ring. */
void tap_dp_from_tap(struct tap_vdev *t);
/* Our doorbell rang or the link came up: peer frames -> the TAP, and
 * resume TAP reads if we waited for ring space. */
void tap_dp_peer_event(struct tap_vdev *t);
/* Stops polling / resumes polling the TAP. */
void tap_dp_pause_tap(struct tap_vdev *t, bool pause);
void tap_dp_stop(struct tap_vdev *t);
/* The TAP's fd failed for good (EBADFD: interface deleted): stop polling. */
void tap_dp_tap_gone(struct tap_vdev *t, int err);

#endif /* VNET_HOST_TAP_VDEV_H */
