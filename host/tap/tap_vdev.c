// SPDX-License-Identifier: MIT
/*
 * tap_vdev.c - a tap vdev's life: the TAP and its configuration with
 * libnl-3, the peer link and its state mirrored onto the interface (see
 * tap_vdev.h).  The data path is in tap_dp.c, moving to another process
 * in tap_move.c.
 *
 * Order of configuration: the TAP is created where vnet-host runs (so
 * /dev/net/tun is ours), then moved into its namespace; everything else
 * (MAC, MTU, bridge, VXLAN, addresses, up) is done there, where the
 * bridge and the underlay live.  The TAP's fd keeps working across the
 * move.  Any failure undoes what was done and names the step, with
 * libnl's message.
 */
#include "host/tap/tap_vdev.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/netlink.h"
#include "common/tun.h"
#include "host/peer/link.h"

#define ERRLEN 512

static void set_carrier(struct tap_vdev *t, bool on)
{
	char err[ERRLEN];

	if (t->carrier_ioctl && tun_set_carrier(t->fd, on) == 0)
		return;
	/* Without TUNSETCARRIER the administrative state stands in. */
	if (vnl_link_set_up(t->nl, t->ifname, on, err, sizeof(err)) < 0)
		log_rl(LOG_WARN, "%s: %s", t->name, err);
}

void tap_vdev_update_offloads(struct tap_vdev *t)
{
	const struct vdev_opts *o = t->opts;
	uint64_t peer = 0;
	unsigned want;
	char a[64], b[64];
	int rc;

	if (!o->peerfeats_auto)
		peer = o->peerfeats;
	else if (t->peer_known)
		peer = t->peer_features;
	/* else unknown: the kernel does everything itself */
	want = tun_offloads_for_receiver(peer);
	if (want == t->offloads)
		return;
	rc = tun_set_offload(t->fd, want);
	if (rc < 0) {
		log_rl(LOG_WARN, "%s: TUNSETOFFLOAD %s on %s: %s; keeping %s", t->name,
		       tun_offloads_format(want, a, sizeof(a)), t->ifname, strerror(-rc),
		       tun_offloads_format(t->offloads, b, sizeof(b)));
		return;
	}
	log_info("%s: %s offloads %s (peer features 0x%" PRIx64 ")", t->name, t->ifname,
		 tun_offloads_format(want, a, sizeof(a)), peer);
	t->offloads = want;
	t->stats.offload_changes++;
}

/* ---- peer link callbacks ---------------------------------------------- */

static void link_up(void *arg)
{
	struct tap_vdev *t = arg;

	if (t->moving)
		return;		/* the new process has the TAP's frames */
	log_info("%s: link up with %s", t->name, peer_link_peer_name(t->link));
	t->peer_known = peer_link_peer_features(t->link, &t->peer_features);
	tap_vdev_update_offloads(t);
	set_carrier(t, true);
	tap_dp_peer_event(t);
	tap_dp_pause_tap(t, false);
	tap_dp_from_tap(t);
}

static void link_down(void *arg, const char *why)
{
	struct tap_vdev *t = arg;

	if (t->moving)
		return;
	log_info("%s: link down: %s", t->name, why);
	tap_dp_stop(t);
	set_carrier(t, false);
	t->peer_known = false;
	t->peer_features = 0;
	tap_vdev_update_offloads(t);
	/* Poll again, to drop what the kernel still had queued. */
	tap_dp_pause_tap(t, false);
}

static void link_rx(void *arg)
{
	struct tap_vdev *t = arg;

	/* Handing over: what the peer sends waits in its ring, held for the
	 * new process. */
	if (!t->moving)
		tap_dp_peer_event(t);
}

static void link_features(void *arg, bool known, uint64_t f)
{
	struct tap_vdev *t = arg;

	if (known)
		log_info("%s: peer's guest negotiated offloads 0x%" PRIx64, t->name, f);
	else
		log_info("%s: peer has no live driver; offloads unknown", t->name);
	/* Unlike a guest's features, the TAP's offloads may change at any
	 * time; this may run before up(), when the hello carried them. */
	t->peer_known = known;
	t->peer_features = known ? f : 0;
	tap_vdev_update_offloads(t);
}

static void tap_event(struct ev_handler *h, uint32_t events)
{
	struct tap_vdev *t = container_of(h, struct tap_vdev, tap_h);

	(void)events;
	tap_dp_from_tap(t);
}

/* ---- configuration ------------------------------------------------------ */

void tap_vxlan_name(const struct vdev_opts *o, char *buf, size_t len)
{
	if (o->has_vxlan)
		snprintf(buf, len, "vxlan%" PRIu32, o->vxlan_id);
	else if (len)
		buf[0] = 0;
}

#define TRY(call)                                                         \
	do {                                                              \
		rc = (call);                                              \
		if (rc < 0) {                                             \
			fprintf(stderr, "vnet-host: vdev %s (%s): %s\n", t->name, \
				o->origin, err);                          \
			return rc;                                        \
		}                                                         \
	} while (0)

static int configure(struct tap_vdev *t)
{
	const struct vdev_opts *o = t->opts;
	char err[ERRLEN] = "";
	int rc;

	TRY(vnl_open(&t->nl, NULL, err, sizeof(err)));
	if (o->has_netns) {
		TRY(vnl_link_move_netns(t->nl, t->ifname, o->netns, err, sizeof(err)));
		vnl_close(t->nl);
		t->nl = NULL;
		TRY(vnl_open(&t->nl, o->netns, err, sizeof(err)));
	}
	TRY(vnl_link_set_mac(t->nl, t->ifname, o->mac, err, sizeof(err)));
	if (o->has_mtu)
		TRY(vnl_link_set_mtu(t->nl, t->ifname, o->mtu, err, sizeof(err)));
	if (o->has_bridge) {
		if (vnl_ifindex(t->nl, o->bridge, NULL, 0) == -ENODEV) {
			TRY(vnl_bridge_create(t->nl, o->bridge, err, sizeof(err)));
			t->made_bridge = true;
		}
		TRY(vnl_link_set_up(t->nl, o->bridge, true, err, sizeof(err)));
		TRY(vnl_link_set_master(t->nl, t->ifname, o->bridge, err, sizeof(err)));
	}
	if (o->has_vxlan) {
		struct vnl_vxlan vx = { .name = t->vxlan_name, .id = o->vxlan_id,
					.remote = o->vxlan_remote };

		TRY(vnl_vxlan_create(t->nl, &vx, err, sizeof(err)));
		t->made_vxlan = true;
		TRY(vnl_link_set_master(t->nl, t->vxlan_name, o->bridge, err, sizeof(err)));
		TRY(vnl_link_set_up(t->nl, t->vxlan_name, true, err, sizeof(err)));
	}
	for (unsigned i = 0; i < o->n_addrs; i++)
		TRY(vnl_addr_add(t->nl, t->ifname, o->addrs[i], err, sizeof(err)));
	/* Administratively up at once; the carrier says whether the peer is
	 * there.  Without TUNSETCARRIER the link comes up with the peer. */
	t->carrier_ioctl = tun_set_carrier(t->fd, false) == 0;
	if (t->carrier_ioctl)
		TRY(vnl_link_set_up(t->nl, t->ifname, true, err, sizeof(err)));
	return 0;
}

int tap_vdev_create(struct tap_vdev **out, struct evloop *ev, const char *run_dir,
		    const char *system, const struct vdev_opts *opts, bool incoming)
{
	struct tap_vdev *t = calloc(1, sizeof(*t));
	char err[ERRLEN];
	int rc;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->opts = opts;
	t->ev = ev;
	t->fd = t->handover_fd = -1;
	t->rx_resched = t->retry_timer = t->drain_timer = -1;
	snprintf(t->name, sizeof(t->name), "%s", opts->name);
	snprintf(t->ifname, sizeof(t->ifname), "%s", opts->ifname);
	tap_vxlan_name(opts, t->vxlan_name, sizeof(t->vxlan_name));

	if (incoming) {
		rc = tap_move_take_over(t, run_dir, system);
		if (rc < 0)
			goto fail;
	} else {
		t->fd = tun_open_tap(t->ifname, err, sizeof(err));
		if (t->fd < 0) {
			rc = t->fd;
			fprintf(stderr, "vnet-host: vdev %s (%s): %s\n", t->name, opts->origin, err);
			goto fail;
		}
		rc = configure(t);
		if (rc < 0)
			goto fail;
	}
	rc = ev_add(ev, &t->tap_h, t->fd, EPOLLIN, tap_event);
	if (rc < 0)
		goto fail;
	{
		struct peer_link_cfg cfg;
		struct peer_link_cbs cbs = {
			.arg = t,
			.up = link_up,
			.down = link_down,
			.rx = link_rx,
			.features = link_features,
		};

		peer_link_cfg_init(&cfg, run_dir, system, t->name,
				   opts->has_peer ? opts->peer : NULL, opts->mac);
		rc = peer_link_start(&t->link, ev, &cfg, &cbs);
		if (rc < 0) {
			fprintf(stderr, "vnet-host: vdev %s (%s): cannot start the peer link: %s\n",
				t->name, opts->origin, strerror(-rc));
			goto fail;
		}
	}
	/* The kernel is a driver that is always live. */
	peer_link_set_local_features(t->link, TAP_LOCAL_FEATURES);
	*out = t;
	return 0;
fail:
	tap_vdev_destroy(t);
	return rc;
}

void tap_vdev_destroy(struct tap_vdev *t)
{
	char err[ERRLEN];

	if (!t)
		return;
	ev_timer_cancel(t->ev, t->drain_timer);
	if (t->handover_fd >= 0)
		close(t->handover_fd);
	tap_dp_stop(t);
	if (t->link)
		peer_link_stop(t->link);
	if (t->tap_h.registered)
		ev_del(t->ev, &t->tap_h);
	if (t->fd >= 0)
		close(t->fd);	/* a TAP we created goes with its last fd */
	if (t->nl) {
		if (t->made_vxlan && vnl_link_delete(t->nl, t->vxlan_name, err, sizeof(err)) < 0)
			log_warn("%s: %s", t->name, err);
		if (t->made_bridge && vnl_link_delete(t->nl, t->opts->bridge, err, sizeof(err)) < 0)
			log_warn("%s: %s", t->name, err);
		vnl_close(t->nl);
	}
	free(t);
}

void tap_vdev_stats_log(const struct tap_vdev *t)
{
	const struct tap_stats *s = &t->stats;
	char off[64];

	log_info("stats %s: link %s; tap %s offloads %s; to peer %" PRIu64 " frames %" PRIu64
		 " bytes (%" PRIu64 " gso); from peer %" PRIu64 " frames %" PRIu64 " bytes (%" PRIu64
		 " gso); drops: link down %" PRIu64
		 " truncated %" PRIu64 " bad frame %" PRIu64 " tap refused %" PRIu64
		 "; ring full %" PRIu64,
		 t->name, t->link && peer_link_is_up(t->link) ? "up" : "down", t->ifname,
		 tun_offloads_format(t->offloads, off, sizeof(off)), s->to_peer_frames,
		 s->to_peer_bytes, s->to_peer_gso, s->from_peer_frames, s->from_peer_bytes,
		 s->from_peer_gso, s->drop_link_down,
		 s->drop_truncated, s->drop_bad_frame, s->drop_tap_error, s->ring_full);
}
