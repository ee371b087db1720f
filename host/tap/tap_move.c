// SPDX-License-Identifier: MIT
/*
 * tap_move.c - a tap vdev moving between vnet-host processes (live
 * upgrade, see tap_vdev.h): the departing side lets go of the TAP and
 * the peer link when a `vnet-host --incoming` asks over the control
 * socket ("handover NAME ...", host/control.h), and the incoming side
 * takes the TAP over as it was left.
 *
 * A TAP that is a port of a bridge (`bridge`), maybe beside a VXLAN port
 * (`vxlan`), moves with them: they stay as they are, with the bridge's
 * addresses and ports, and the traffic through them pauses only while
 * no process holds the TAP.  Before it takes any vdev, the incoming side
 * checks each against its own options (tap_move_check: check_ports), and
 * asks whether the departing side would hand it over ("handover-check"),
 * which it does only to a process that names the same bridge and VXLAN
 * port (adopts_words); either refusal leaves the departing process
 * serving every vdev.  What the departing process made it would delete
 * at exit: its "ok" names those (ok_words), and they are the taker's
 * from then on.
 */
#include "host/tap/tap_vdev.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
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

/* ---- the words both sides use ----------------------------------------- */

/* "bridge BR vxlan IF", and the longest request,
 * "handover-check NAME bridge BR vxlan IF", fits. */
#define ADOPTS_MAX (sizeof("bridge  vxlan ") + 2 * (OPTS_IFNAME_MAX - 1))
static_assert(sizeof("handover-check  ") - 1 + (OPTS_NAME_MAX - 1) + ADOPTS_MAX - 1 <=
		      CONTROL_REQ_MAX, "a handover request fits CONTROL_REQ_MAX");

/* What a tap vdev has with its TAP, as a handover request names it:
 * "bridge BR vxlan IF", "bridge BR" or "" (vxlan needs bridge). */
static void adopts_words(const struct vdev_opts *o, char *buf, size_t len)
{
	char vx[OPTS_IFNAME_MAX];

	tap_vxlan_name(o, vx, sizeof(vx));
	snprintf(buf, len, "%s%s%s%s", o->has_bridge ? "bridge " : "",
		 o->has_bridge ? o->bridge : "", o->has_vxlan ? " vxlan " : "",
		 o->has_vxlan ? vx : "");
}

/* The reply of a handover done: "ok", and what the departing vdev had
 * created, which the taker deletes from now on. */
static void ok_words(bool bridge, bool vxlan, char *buf, size_t len)
{
	snprintf(buf, len, "ok%s%s%s\n", bridge || vxlan ? " made" : "", bridge ? " bridge" : "",
		 vxlan ? " vxlan" : "");
}

/* ---- checking what a takeover adopts ------------------------------------ */

__attribute__((format(printf, 3, 4)))
static int differs(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ifname ("TAP vp0", "VXLAN port vxlan42") must be a port of bridge br. */
static int check_port(struct vnl *nl, const char *br, const char *what, const char *ifname,
		      char *err, size_t errlen)
{
	struct vnl_link_info li;
	int rc = vnl_link_info(nl, ifname, &li, err, errlen);

	if (rc < 0)
		return rc;
	if (strcmp(li.master, br) == 0)
		return 0;
	if (!li.master[0])
		return differs(err, errlen, "%s %s is in no bridge; the options say bridge %s", what,
			       ifname, br);
	return differs(err, errlen, "%s %s is a port of %s; the options say bridge %s", what,
		       ifname, li.master, br);
}

/* The VXLAN port must be what the options would have made: VNI, UDP
 * port, remote, in the bridge. */
static int check_vxlan(struct vnl *nl, const struct vdev_opts *o, char *err, size_t errlen)
{
	struct vnl_vxlan_info have;
	unsigned char bin[sizeof(struct in6_addr)];
	char vx[OPTS_IFNAME_MAX], want[OPTS_ADDR_MAX];
	int fam = strchr(o->vxlan_remote, ':') ? AF_INET6 : AF_INET;
	int rc;

	tap_vxlan_name(o, vx, sizeof(vx));
	rc = vnl_vxlan_info(nl, vx, &have, err, errlen);
	if (rc < 0)
		return rc;
	if (have.id != o->vxlan_id)
		return differs(err, errlen, "%s has VNI %u; the options say %u", vx, have.id,
			       o->vxlan_id);
	if (have.dstport != VNL_VXLAN_PORT)
		return differs(err, errlen, "%s uses UDP port %u; vnet-host's VXLAN ports use %u", vx,
			       have.dstport, VNL_VXLAN_PORT);
	/* The kernel's form of the option's address (opts.c checked it). */
	if (inet_pton(fam, o->vxlan_remote, bin) != 1 || !inet_ntop(fam, bin, want, sizeof(want)))
		snprintf(want, sizeof(want), "%s", o->vxlan_remote);
	if (strcmp(have.remote, want) != 0)
		return differs(err, errlen, "%s's remote is %s; the options say %s", vx,
			       have.remote[0] ? have.remote : "none", want);
	return check_port(nl, o->bridge, "VXLAN port", vx, err, errlen);
}

/* What o would adopt, as the kernel has it: the bridge is a bridge with
 * the TAP in it, the VXLAN port as above.  0, or -errno with err naming
 * the difference. */
static int check_ports(struct vnl *nl, const struct vdev_opts *o, char *err, size_t errlen)
{
	struct vnl_link_info li;
	int rc;

	if (!o->has_bridge)
		return 0;
	rc = vnl_link_info(nl, o->bridge, &li, err, errlen);
	if (rc < 0)
		return rc;
	if (strcmp(li.kind, "bridge") != 0)
		return differs(err, errlen, "%s is %s%s, not a bridge", o->bridge,
			       li.kind[0] ? "a " : "a device without a kind", li.kind);
	rc = check_port(nl, o->bridge, "TAP", o->ifname, err, errlen);
	if (rc == 0 && o->has_vxlan)
		rc = check_vxlan(nl, o, err, errlen);
	return rc;
}

/* Asks the running vnet-host "VERB NAME ADOPTS" for vdev o; the reply's
 * length, or -errno with a message on stderr. */
static ssize_t ask(const char *run_dir, const char *system, const char *verb,
		   const struct vdev_opts *o, char *reply, size_t len)
{
	char dir[PATH_MAX], req[CONTROL_REQ_MAX + 1], adopts[ADOPTS_MAX];

	adopts_words(o, adopts, sizeof(adopts));
	snprintf(dir, sizeof(dir), "%s/%s", run_dir, system);
	snprintf(req, sizeof(req), "%s %s%s%s", verb, o->name, adopts[0] ? " " : "", adopts);
	return control_request("vnet-host --incoming", dir, req, reply, len);
}

int tap_move_check(const char *run_dir, const char *system, const struct vdev_opts *o)
{
	char reply[512], err[ERRLEN] = "";
	struct vnl *nl = NULL;
	ssize_t n;
	int rc;

	rc = vnl_open(&nl, o->has_netns ? o->netns : NULL, err, sizeof(err));
	if (rc == 0)
		rc = check_ports(nl, o, err, sizeof(err));
	vnl_close(nl);
	if (rc < 0) {
		fprintf(stderr, "vnet-host: vdev %s (%s): not taking over %s: %s\n", o->name,
			o->origin, o->ifname, err[0] ? err : strerror(-rc));
		return rc;
	}
	n = ask(run_dir, system, "handover-check", o, reply, sizeof(reply));
	if (n < 0)
		return (int)n;
	if (strcmp(reply, "ok\n") != 0) {
		fprintf(stderr, "vnet-host: vdev %s (%s): the running vnet-host would not hand it over: %s",
			o->name, o->origin, reply);
		return -EBUSY;
	}
	return 0;
}

/* ---- taking over ------------------------------------------------------- */

/* The departing process's "ok": which of what we adopt it had made,
 * ours to delete now.  Only what we adopt can be ours; anything else is
 * refused. */
static bool parse_ok(struct tap_vdev *t, const char *reply)
{
	char ok[32];

	for (unsigned i = 0; i < 4; i++) {
		bool b = i & 1, v = i & 2;

		if ((b && !t->opts->has_bridge) || (v && !t->opts->has_vxlan))
			continue;
		ok_words(b, v, ok, sizeof(ok));
		if (strcmp(reply, ok) == 0) {
			t->made_bridge = b;
			t->made_vxlan = v;
			return true;
		}
	}
	return false;
}

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
	char adopts[ADOPTS_MAX], reply[512], err[ERRLEN] = "";
	ssize_t n;
	int rc;

	n = ask(run_dir, system, "handover", o, reply, sizeof(reply));
	if (n < 0)
		return (int)n;
	if (!parse_ok(t, reply)) {
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
	adopts_words(o, adopts, sizeof(adopts));
	log_info("%s: took over %s%s%s from the vnet-host that served it%s%s%s%s", t->name,
		 t->ifname, adopts[0] ? " with " : "", adopts,
		 t->made_bridge || t->made_vxlan ? "; ours to delete now:" : "",
		 t->made_bridge ? " the bridge" : "", t->made_bridge && t->made_vxlan ? " and" : "",
		 t->made_vxlan ? " the VXLAN port" : "");
	return 0;
}

/* ---- handing over ------------------------------------------------------ */

static void handover_done(struct tap_vdev *t)
{
	char ok[32];
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
	ok_words(t->made_bridge, t->made_vxlan, ok, sizeof(ok));
	if (send(t->handover_fd, ok, strlen(ok), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* Nobody took them: what we made goes with us after all. */
		log_warn("%s: cannot tell the new process: %s", t->name, strerror(errno));
	} else if (t->made_bridge || t->made_vxlan) {
		log_info("%s: what we made (%s%s%s) is the new process's now", t->name,
			 t->made_bridge ? t->opts->bridge : "",
			 t->made_bridge && t->made_vxlan ? ", " : "",
			 t->made_vxlan ? t->vxlan_name : "");
		t->made_bridge = t->made_vxlan = false;
	}
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

int tap_vdev_handover_check(const struct tap_vdev *t, const char *adopts, char *err,
			    size_t errlen)
{
	char mine[ADOPTS_MAX];

	if (t->moving) {
		snprintf(err, errlen, "vdev %s is being handed over already", t->name);
		return -EBUSY;
	}
	/* The taker must adopt exactly what the TAP has with it: anything
	 * else would be left without an owner, or deleted under it. */
	adopts_words(t->opts, mine, sizeof(mine));
	if (strcmp(adopts, mine) != 0) {
		snprintf(err, errlen, "vdev %s has %s; the incoming vnet-host names %s", t->name,
			 mine[0] ? mine : "no bridge", adopts[0] ? adopts : "no bridge");
		return -EINVAL;
	}
	if (t->fd < 0 || t->tap_gone) {
		snprintf(err, errlen, "vdev %s has no TAP any more", t->name);
		return -ENODEV;
	}
	return 0;
}

int tap_vdev_handover(struct tap_vdev *t, const char *adopts, int fd, char *err,
		      size_t errlen)
{
	int rc = tap_vdev_handover_check(t, adopts, err, errlen);

	if (rc < 0)
		return rc;
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

