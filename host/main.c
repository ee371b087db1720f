// SPDX-License-Identifier: MIT
/*
 * vnet-host - one process per virtual machine, serving its virtio-net
 * devices to guests over vfio-user and linking them to peers.
 *
 *   vnet-host [--system NAME] [--run-dir DIR] [--config FILE] [-v]
 *             vdev virtio-net [intr INTR] [legacy] [loc ADDR] [mac MAC]
 *                             [name NAME] [peer PATH] [peerfeats MASK] ...
 *             vdev tap ifname IFNAME [mac MAC] [name NAME] [peer PATH] ...
 *
 * A `vdev tap` joins its peer link to a TAP interface of the host, so the
 * host's own network stack is the peer (host/tap_vdev.h).
 *
 *   vnet-host stats [--system NAME] [--run-dir DIR] [--json]
 *             prints a running system's counters (host/control.h)
 *
 * SIGTERM/SIGINT stop it cleanly (sockets and shared-memory files are
 * removed); SIGUSR1 logs every vdev's counters.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "common/mac.h"
#include "common/version.h"
#include "host/opts.h"
#include "host/control.h"
#include "host/evloop.h"
#include "host/tap/tap_vdev.h"
#include "host/dev/vdev.h"
#include "host/face/attach.h"
#include "host/dev/stats.h"

struct host {
	struct host_opts *opts;
	struct evloop *ev;
	struct vdev *vdevs[OPTS_MAX_VDEVS];
	unsigned n;
	struct tap_vdev *taps[OPTS_MAX_VDEVS];
	unsigned n_taps;
	char sys_dir[PATH_MAX];
	int sigfd;
	struct ev_handler sig_h;
	struct control *ctl;
};

/* Creates dir (mode 0700) unless it exists; an existing one must be a
 * directory we own, so another user cannot plant our sockets. */
static int ensure_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid())
		return -EPERM;
	return 0;
}

static int make_run_dirs(struct host *h)
{
	const struct host_opts *o = h->opts;
	char parent[PATH_MAX];
	int rc;

	/* The run dir's parent (e.g. /run) must exist; the run dir itself is
	 * ours to create. */
	snprintf(parent, sizeof(parent), "%s", o->run_dir);
	rc = ensure_dir(parent);
	if (rc < 0) {
		fprintf(stderr, "vnet-host: run directory %s: %s\n", o->run_dir, strerror(-rc));
		return rc;
	}
	rc = snprintf(h->sys_dir, sizeof(h->sys_dir), "%s/%s", o->run_dir, o->system);
	if (rc < 0 || (size_t)rc >= sizeof(h->sys_dir))
		return -ENAMETOOLONG;
	rc = ensure_dir(h->sys_dir);
	if (rc < 0) {
		fprintf(stderr, "vnet-host: system directory %s: %s\n", h->sys_dir,
			strerror(-rc));
		return rc;
	}
	return 0;
}

static void log_all_stats(struct host *h)
{
	for (unsigned i = 0; i < h->n; i++)
		vdev_stats_log(h->vdevs[i]);
	for (unsigned i = 0; i < h->n_taps; i++)
		tap_vdev_stats_log(h->taps[i]);
}

static void signal_event(struct ev_handler *hd, uint32_t events)
{
	struct host *h = container_of(hd, struct host, sig_h);
	struct signalfd_siginfo si;

	(void)events;
	while (read(hd->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			log_all_stats(h);
			continue;
		}
		log_info("signal %u: stopping", si.ssi_signo);
		evloop_stop(h->ev);
	}
}

static int setup_signals(struct host *h)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);	/* a vanished peer is an EPIPE, not a death */
	h->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (h->sigfd < 0)
		return -errno;
	return ev_add(h->ev, &h->sig_h, h->sigfd, EPOLLIN, signal_event);
}

/* The control socket's answer: every vdev's counters. */
static size_t stats_reply(void *arg, bool json, char *buf, size_t len)
{
	struct host *h = arg;
	size_t off = 0;
	int n;

	if (json) {
		n = snprintf(buf, len, "{\"system\": \"%s\", \"pid\": %d, \"vdevs\": [",
			     h->opts->system, (int)getpid());
		off = n > 0 ? (size_t)n : 0;
	}
	for (unsigned i = 0; i < h->n && off + VDEV_STATS_MAX + 8 < len; i++) {
		if (json) {
			if (i)
				buf[off++] = ',';
			off += vdev_stats_json(h->vdevs[i], buf + off, len - off);
		} else {
			off += vdev_stats_format(h->vdevs[i], buf + off, len - off);
			buf[off++] = '\n';
		}
	}
	if (json && off + 4 < len) {
		memcpy(buf + off, "]}\n", 3);
		off += 3;
	}
	buf[off < len ? off : len - 1] = 0;
	return off < len ? off : len - 1;
}

/* vnet-host stats [--system NAME] [--run-dir DIR] [--json] */
static int stats_main(int argc, char **argv)
{
	const char *system = "default", *run_dir = NULL;
	char dir[PATH_MAX], def[PATH_MAX];
	bool json = false;
	int rc;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--system") == 0 && i + 1 < argc) {
			system = argv[++i];
		} else if (strcmp(argv[i], "--run-dir") == 0 && i + 1 < argc) {
			run_dir = argv[++i];
		} else {
			fprintf(stderr, "vnet-host stats: unexpected '%s'; usage: vnet-host stats [--system NAME] [--run-dir DIR] [--json]\n",
				argv[i]);
			return 2;
		}
	}
	if (!opts_valid_name(system)) {
		fprintf(stderr, "vnet-host stats: --system '%s' is not a valid name\n", system);
		return 2;
	}
	if (!run_dir) {
		if (opts_default_run_dir(def, sizeof(def)) < 0) {
			fprintf(stderr, "vnet-host stats: no run directory (give --run-dir)\n");
			return 2;
		}
		run_dir = def;
	}
	rc = snprintf(dir, sizeof(dir), "%s/%s", run_dir, system);
	if (rc < 0 || (size_t)rc >= sizeof(dir)) {
		fprintf(stderr, "vnet-host stats: run directory too long\n");
		return 2;
	}
	return control_query(dir, json ? "stats json" : "stats") < 0 ? 1 : 0;
}

static void teardown(struct host *h)
{
	control_stop(h->ctl);
	h->ctl = NULL;
	for (unsigned i = h->n_taps; i-- > 0;)
		tap_vdev_destroy(h->taps[i]);
	h->n_taps = 0;
	for (unsigned i = h->n; i-- > 0;)
		vdev_free(h->vdevs[i]);
	h->n = 0;
	if (h->sys_dir[0])
		rmdir(h->sys_dir);	/* only succeeds when empty: fine */
	if (h->sigfd >= 0)
		close(h->sigfd);
	evloop_free(h->ev);
}

static void print_vdev(const struct host_opts *o, const struct vdev *vd)
{
	const struct vdev_opts *v = vd->opts;
	char mac[18];

	printf("vdev %s: %s mac %s %s %s", vd->name, vd->face.name,
	       mac_format(v->mac, mac), v->has_vhost_user ? "vhost-user" : "vfio-user",
	       vd->socket_path);
	printf(" node %s/%s/%s", o->run_dir, o->system, vd->name);
	if (v->has_peer)
		printf(" peer %s", v->peer);
	if (v->peerfeats_auto)
		printf(" peerfeats auto");
	else
		printf(" peerfeats 0x%llx", (unsigned long long)v->peerfeats);
	printf(" features 0x%llx\n", (unsigned long long)vd->device_features);
}

static void print_tap(const struct host_opts *o, const struct tap_vdev *t)
{
	const struct vdev_opts *v = t->opts;
	char mac[18];

	printf("vdev %s: tap %s", t->name, t->ifname);
	if (v->has_netns)
		printf(" netns %s", v->netns);
	if (v->has_bridge)
		printf(" bridge %s", v->bridge);
	if (v->has_vxlan)
		printf(" vxlan %s to %s", t->vxlan_name, v->vxlan_remote);
	printf(" mac %s node %s/%s/%s", mac_format(v->mac, mac), o->run_dir, o->system,
	       t->name);
	if (v->has_peer)
		printf(" peer %s", v->peer);
	if (v->peerfeats_auto)
		printf(" peerfeats auto\n");
	else
		printf(" peerfeats 0x%llx\n", (unsigned long long)v->peerfeats);
}

/* Creates vdev i of either type. */
static int create_one(struct host *h, const struct host_opts *o, const struct vdev_opts *v)
{
	int rc;

	if (v->type == VDEV_TAP) {
		/* tap_vdev_create printed why it failed. */
		rc = tap_vdev_create(&h->taps[h->n_taps], h->ev, o->run_dir, o->system, v);
		if (rc == 0)
			h->n_taps++;
		else
			fprintf(stderr, "vnet-host: vdev %s: nothing started\n", v->name);
		return rc;
	}
	rc = attach_vdev(&h->vdevs[h->n], h->ev, o->run_dir, o->system, v);
	if (rc < 0) {
		fprintf(stderr, "vnet-host: vdev %s (%s): %s; nothing started\n", v->name,
			v->origin, strerror(-rc));
		return rc;
	}
	h->n++;
	return 0;
}

int main(int argc, char **argv)
{
	static struct host_opts opts;
	static struct host host = { .sigfd = -1 };
	struct host *h = &host;
	char err[1024], prefix[OPTS_NAME_MAX + 16];
	int rc;

	if (vnet_print_version(argc, argv, "vnet-host"))
		return 0;
	if (argc >= 2 && strcmp(argv[1], "stats") == 0)
		return stats_main(argc, argv);
	rc = opts_parse_cmdline(&opts, argc, argv, err, sizeof(err));
	if (rc == 1) {
		opts_usage(stdout);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "vnet-host: %s\n", err);
		fprintf(stderr, "vnet-host: nothing started; see 'vnet-host --help'\n");
		return 2;
	}
	h->opts = &opts;
	snprintf(prefix, sizeof(prefix), "vnet-host[%s]", opts.system);
	log_set_prefix(prefix);
	log_set_level(opts.verbose >= 1 ? LOG_DEBUG : LOG_INFO);
	setvbuf(stdout, NULL, _IOLBF, 0);

	h->ev = evloop_new();
	if (!h->ev) {
		fprintf(stderr, "vnet-host: cannot create the event loop\n");
		return 1;
	}
	rc = setup_signals(h);
	if (rc == 0)
		rc = make_run_dirs(h);
	/* The control socket first: it claims the system, so a second
	 * process with the same --system stops before making anything. */
	if (rc == 0)
		rc = control_start(&h->ctl, h->ev, h->sys_dir, stats_reply, h);
	for (unsigned i = 0; rc == 0 && i < opts.n_vdevs; i++)
		rc = create_one(h, &opts, &opts.vdevs[i]);
	if (rc < 0) {
		teardown(h);
		return 1;
	}
	for (unsigned i = 0; i < h->n; i++)
		print_vdev(&opts, h->vdevs[i]);
	for (unsigned i = 0; i < h->n_taps; i++)
		print_tap(&opts, h->taps[i]);
	printf("vnet-host: system %s ready with %u vdev%s (pid %d)\n", opts.system,
	       h->n + h->n_taps, h->n + h->n_taps == 1 ? "" : "s", (int)getpid());
	/* Under systemd (Type=notify, vnet-host@.service): every vdev is
	 * serving; without $NOTIFY_SOCKET these do nothing. */
	sd_notify(0, "READY=1");
	rc = evloop_run(h->ev);
	sd_notify(0, "STOPPING=1");
	if (rc < 0)
		log_err("event loop failed: %s", strerror(-rc));
	log_all_stats(h);
	teardown(h);
	return rc < 0 ? 1 : 0;
}
