// SPDX-License-Identifier: MIT
/*
 * tap_move.c - a tap vdev moving between vnet-host processes (live
 * upgrade, see tap_vdev.h): the departing side lets go of the TAP and
 * the peer link when a `vnet-host --incoming` asks over the control
 * socket ("handover NAME", host/control.h), and the incoming side takes
 * the TAP over as it was left.
 */
#include "host/tap/tap_vdev.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/netlink.h"
#include "common/tun.h"
#include "host/control.h"
#include "host/peer/link.h"

#define ERRLEN 512

/* Handing over, the peer is given this long to take our ring's frames,
 * and then holds what it sent us this long for the new process. */
#define DRAIN_TICK_MS  10
#define DRAIN_TICKS    100
#define MOVE_HOLD_MS   5000

/* ---- taking over ------------------------------------------------------- */

/* Taking over: the TAP lives in its namespace already, so it is opened
 * there (TUNSETIFF finds an interface by name in the opener's
 * namespace). */
static int open_tap_here(void *arg, char *err, size_t errlen)
{
	struct tap_vdev *t = arg;

	t->fd = tun_open_tap(t->ifname, err, errlen);
	return t->fd < 0 ? t->fd : 0;
}

int tap_move_take_over(struct tap_vdev *t, const char *run_dir, const char *system)
{
	const struct vdev_opts *o = t->opts;
	const char *ns = o->has_netns ? o->netns : NULL;
	char dir[PATH_MAX], req[16 + OPTS_NAME_MAX], reply[256], err[ERRLEN] = "";
	ssize_t n;
	int rc;

	snprintf(dir, sizeof(dir), "%s/%s", run_dir, system);
	snprintf(req, sizeof(req), "handover %s", t->name);
	n = control_request("vnet-host --incoming", dir, req, reply, sizeof(reply));
	if (n < 0)
		return (int)n;
	if (strcmp(reply, "ok\n") != 0) {
		fprintf(stderr, "vnet-host: vdev %s (%s): the running vnet-host did not hand it over: %s",
			t->name, o->origin, reply);
		return -EBUSY;
	}
	rc = vnl_in_netns(ns, open_tap_here, t, err, sizeof(err));
	if (rc == 0)
		rc = tun_set_persist(t->fd, false);
	if (rc == 0)
		rc = vnl_open(&t->nl, ns, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "vnet-host: vdev %s (%s): taking over %s: %s\n", t->name, o->origin,
			t->ifname, err[0] ? err : strerror(-rc));
		return rc;
	}
	/* The carrier follows our link from here. */
	t->carrier_ioctl = tun_set_carrier(t->fd, false) == 0;
	log_info("%s: took over %s from the vnet-host that served it", t->name, t->ifname);
	return 0;
}

/* ---- handing over ------------------------------------------------------ */

static void handover_done(struct tap_vdev *t)
{
	static const char ok[] = "ok\n";
	unsigned left = t->link ? peer_link_tx_in_flight(t->link) : 0;

	if (left)
		log_warn("%s: the peer did not take %u frames in time; they are lost", t->name, left);
	if (t->link) {
		if (peer_link_send_moving(t->link, MOVE_HOLD_MS) < 0)
			log_info("%s: could not tell the peer that the vdev moves", t->name);
		peer_link_stop(t->link);
		t->link = NULL;
	}
	if (t->tap_h.registered)
		ev_del(t->ev, &t->tap_h);
	close(t->fd);		/* persistent: the interface stays */
	t->fd = -1;
	log_info("%s: handed %s and the peer link over to another process", t->name, t->ifname);
	if (send(t->handover_fd, ok, sizeof(ok) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_warn("%s: cannot tell the new process: %s", t->name, strerror(errno));
	close(t->handover_fd);
	t->handover_fd = -1;
	if (t->moved)
		t->moved(t->moved_arg, t);
}

static void drain_tick(void *arg)
{
	struct tap_vdev *t = arg;

	t->drain_timer = -1;
	if (t->link && peer_link_tx_in_flight(t->link) && ++t->drain_ticks < DRAIN_TICKS) {
		long id = ev_timer(t->ev, DRAIN_TICK_MS, drain_tick, t);

		if (id > 0) {
			t->drain_timer = id;
			return;
		}
	}
	handover_done(t);
}

int tap_vdev_handover(struct tap_vdev *t, int fd, char *err, size_t errlen)
{
	int rc;

	if (t->moving) {
		snprintf(err, errlen, "vdev %s is being handed over already", t->name);
		return -EBUSY;
	}
	if (t->made_bridge || t->made_vxlan) {
		snprintf(err, errlen, "vdev %s made its bridge or VXLAN port itself; those cannot move",
			 t->name);
		return -ENOTSUP;
	}
	if (t->fd < 0 || t->tap_gone) {
		snprintf(err, errlen, "vdev %s has no TAP any more", t->name);
		return -ENODEV;
	}
	rc = tun_set_persist(t->fd, true);
	if (rc < 0) {
		snprintf(err, errlen, "%s: TUNSETPERSIST: %s", t->ifname, strerror(-rc));
		return rc;
	}
	log_info("%s: handing %s over to another process", t->name, t->ifname);
	t->moving = true;
	t->handover_fd = fd;
	tap_dp_pause_tap(t, true);
	tap_dp_stop(t);
	t->drain_ticks = 0;
	drain_tick(t);
	return 0;
}

