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
 *   vnet-host stats [--system NAME] [--run-dir DIR] [--json] [--interval S]
 *             prints a running system's counters (host/control.h), or
 *             with --interval their rates every S seconds (host/rates.c)
 *   vnet-host capture [--system NAME] [--run-dir DIR] NAME [-w FILE|-]
 *             records vdev NAME's frames as pcap (host/dev/capture.h)
 *
 * SIGTERM/SIGINT stop it cleanly (sockets and shared-memory files are
 * removed); SIGUSR1 logs every vdev's counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "common/jsonout.h"
#include "common/log.h"
#include "common/mac.h"
#include "common/version.h"
#include "host/opts.h"
#include "host/control.h"
#include "host/dp/dp.h"
#include "host/evloop.h"
#include "host/tap/tap_vdev.h"
#include "host/dev/vdev.h"
#include "host/face/attach.h"
#include "host/dev/stats.h"
#include "host/dev/capture.h"
#include "host/rates.h"

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
	/* Moves between processes (--incoming; attach.h's events, and tap
	 * vdevs handed over through the control socket). */
	unsigned moved_out, moved_in, taps_out;
	long ctl_timer;			/* retrying the control socket */
	unsigned ctl_tries;
};

/* The old process lets go of the control socket when its last vdev has
 * moved: the new one retries this often, this many times. */
#define CTL_RETRY_MS	50
#define CTL_RETRY_TIMES 100

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
		json_object *root = json_object_new_object(), *vdevs = json_object_new_array();

		json_object_object_add(root, "system", json_object_new_string(h->opts->system));
		json_object_object_add(root, "pid", json_object_new_int(getpid()));
		for (unsigned i = 0; i < h->n; i++)
			json_object_array_add(vdevs, vdev_stats_json(h->vdevs[i]));
		json_object_object_add(root, "vdevs", vdevs);
		n = snprintf(buf, len, "%s\n", json_object_to_json_string_ext(root, JSONOUT_SPACED));
		json_object_put(root);
		return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
	}
	for (unsigned i = 0; i < h->n && off + VDEV_STATS_MAX + 8 < len; i++) {
		off += vdev_stats_format(h->vdevs[i], buf + off, len - off);
		buf[off++] = '\n';
	}
	buf[off < len ? off : len - 1] = 0;
	return off < len ? off : len - 1;
}

/* A live capture of vdev name for the control socket (host/dev/capture.h). */
static int capture_start(void *arg, const char *name, int fd, char *err, size_t errlen)
{
	struct host *h = arg;

	for (unsigned i = 0; i < h->n; i++)
		if (strcmp(h->vdevs[i]->name, name) == 0)
			return vdev_capture_live(h->vdevs[i], fd, err, errlen);
	for (unsigned i = 0; i < h->n_taps; i++)
		if (strcmp(h->taps[i]->name, name) == 0) {
			snprintf(err, errlen, "vdev %s is a tap vdev; capture records virtio-net vdevs (tcpdump -i %s sees its frames)",
				 name, h->taps[i]->ifname);
			return -ENOTSUP;
		}
	snprintf(err, errlen, "no vdev '%s' in system %s", name, h->opts->system);
	return -ENOENT;
}

/* What the client subcommands (stats, capture) share: --system and
 * --run-dir, and the system's directory they name. */
struct client_args {
	const char *who;		/* "vnet-host stats" */
	const char *system, *run_dir;
	char dir[PATH_MAX];
};

/* Takes argv[*i] (and its value) if it is --system or --run-dir. */
static bool client_option(struct client_args *c, int argc, char **argv, int *i)
{
	if (strcmp(argv[*i], "--system") == 0 && *i + 1 < argc) {
		c->system = argv[++*i];
		return true;
	}
	if (strcmp(argv[*i], "--run-dir") == 0 && *i + 1 < argc) {
		c->run_dir = argv[++*i];
		return true;
	}
	return false;
}

/* Checks --system and fills c->dir; 0, or 2 (usage) with a message. */
static int client_dir(struct client_args *c)
{
	char def[PATH_MAX];
	int rc;

	if (!opts_valid_name(c->system)) {
		fprintf(stderr, "%s: --system '%s' is not a valid name\n", c->who, c->system);
		return 2;
	}
	if (!c->run_dir) {
		if (opts_default_run_dir(def, sizeof(def)) < 0) {
			fprintf(stderr, "%s: no run directory (give --run-dir)\n", c->who);
			return 2;
		}
		c->run_dir = def;
	}
	rc = snprintf(c->dir, sizeof(c->dir), "%s/%s", c->run_dir, c->system);
	c->run_dir = NULL;	/* def goes out of scope */
	if (rc < 0 || (size_t)rc >= sizeof(c->dir)) {
		fprintf(stderr, "%s: run directory too long\n", c->who);
		return 2;
	}
	return 0;
}

/* "--interval S": whole seconds, 1..3600. */
static bool parse_interval(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '1' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 3600)
		return false;
	*out = (unsigned)v;
	return true;
}

/* vnet-host stats [--system NAME] [--run-dir DIR] [--json] [--interval S] */
static int stats_main(int argc, char **argv)
{
	struct client_args c = { .who = "vnet-host stats", .system = "default" };
	unsigned interval = 0;
	bool json = false;
	int rc;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
			if (!parse_interval(argv[++i], &interval)) {
				fprintf(stderr, "vnet-host stats: --interval '%s': expected whole seconds, 1 to 3600\n",
					argv[i]);
				return 2;
			}
		} else if (!client_option(&c, argc, argv, &i)) {
			fprintf(stderr, "vnet-host stats: unexpected '%s'; usage: vnet-host stats [--system NAME] [--run-dir DIR] [--json] [--interval S]\n",
				argv[i]);
			return 2;
		}
	}
	if (json && interval) {
		fprintf(stderr, "vnet-host stats: --interval prints rates as text; not with --json\n");
		return 2;
	}
	rc = client_dir(&c);
	if (rc)
		return rc;
	if (interval)
		return stats_rates(c.who, c.dir, interval) < 0 ? 1 : 0;
	return control_query(c.dir, json ? "stats json" : "stats") < 0 ? 1 : 0;
}

/* vnet-host capture [--system NAME] [--run-dir DIR] NAME [-w FILE|-] */
static int capture_main(int argc, char **argv)
{
	static const char usage[] = "usage: vnet-host capture [--system NAME] [--run-dir DIR] NAME [-w FILE|-]";
	struct client_args c = { .who = "vnet-host capture", .system = "default" };
	const char *name = NULL, *file = "-";
	int out = STDOUT_FILENO, rc;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) {
			file = argv[++i];
		} else if (client_option(&c, argc, argv, &i)) {
			continue;
		} else if (!name && argv[i][0] != '-') {
			name = argv[i];
		} else {
			fprintf(stderr, "vnet-host capture: unexpected '%s'; %s\n", argv[i], usage);
			return 2;
		}
	}
	if (!name) {
		fprintf(stderr, "vnet-host capture: which vdev? %s\n", usage);
		return 2;
	}
	if (!opts_valid_name(name)) {
		fprintf(stderr, "vnet-host capture: '%s' is not a vdev name (1-%d characters of A-Z a-z 0-9 _ . -, not starting with . or -)\n",
			name, OPTS_NAME_MAX - 1);
		return 2;
	}
	rc = client_dir(&c);
	if (rc)
		return rc;
	if (strcmp(file, "-") == 0) {
		if (isatty(STDOUT_FILENO)) {
			fprintf(stderr, "vnet-host capture: not writing pcap to a terminal; pipe it (| tcpdump -n -r -) or give -w FILE\n");
			return 2;
		}
	} else {
		for (const char *p = file; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				fprintf(stderr, "vnet-host capture: -w: the file name contains control character \\x%02x\n",
					(unsigned char)*p);
				return 2;
			}
		if (!file[0] || strlen(file) >= PATH_MAX) {
			fprintf(stderr, "vnet-host capture: -w: expected a file name (or - for stdout)\n");
			return 2;
		}
		out = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (out < 0) {
			fprintf(stderr, "vnet-host capture: -w %s: %s\n", file, strerror(errno));
			return 1;
		}
	}
	rc = control_capture(c.dir, name, out);
	if (out != STDOUT_FILENO && close(out) < 0 && rc == 0) {
		fprintf(stderr, "vnet-host capture: -w %s: %s\n", file, strerror(errno));
		rc = -EIO;
	}
	return rc < 0 ? 1 : 0;
}

static int tap_handover(void *arg, const char *name, const char *adopts, int fd, char *err,
			size_t errlen);
static int tap_handover_check(void *arg, const char *name, const char *adopts, char *err,
			      size_t errlen);

static int start_control(struct host *h)
{
	/* Moving in, the old process holds the socket until it ends: the
	 * retries are expected. */
	return control_start(&h->ctl, h->ev, h->sys_dir,
			     &(struct control_ops){ .stats = stats_reply,
						    .capture = capture_start,
						    .handover = tap_handover,
						    .handover_check = tap_handover_check },
			     h, h->opts && h->opts->incoming);
}

static void teardown(struct host *h)
{
	ev_timer_cancel(h->ev, h->ctl_timer);
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

static void control_retry(void *arg)
{
	struct host *h = arg;
	int rc;

	h->ctl_timer = -1;
	rc = start_control(h);
	if (rc == -EADDRINUSE && ++h->ctl_tries < CTL_RETRY_TIMES) {
		long id = ev_timer(h->ev, CTL_RETRY_MS, control_retry, h);

		h->ctl_timer = id > 0 ? id : -1;
	} else if (rc < 0) {
		log_err("every vdev moved in, but the control socket cannot start: %s",
			strerror(-rc));
	}
}

/* A vdev moved to another process, or in from one.  A process whose
 * every vdev moved out has nothing left to serve and ends; one whose
 * every vdev moved in takes the system's control socket. */
static void all_moved_out(struct host *h)
{
	if (h->moved_out == h->n && h->taps_out == h->n_taps) {
		log_info("every vdev moved to another process: stopping");
		evloop_stop(h->ev);
	}
}

static void tap_moved(void *arg, struct tap_vdev *t)
{
	struct host *h = arg;

	(void)t;
	h->taps_out++;
	all_moved_out(h);
}

/* Tap vdev name, or NULL with err and *rc saying why not. */
static struct tap_vdev *tap_named(struct host *h, const char *name, char *err, size_t errlen,
				  int *rc)
{
	for (unsigned i = 0; i < h->n_taps; i++)
		if (strcmp(h->taps[i]->name, name) == 0)
			return h->taps[i];
	for (unsigned i = 0; i < h->n; i++)
		if (strcmp(h->vdevs[i]->name, name) == 0) {
			snprintf(err, errlen, "vdev '%s' is virtio-net: it moves with its vfio-user client",
				 name);
			*rc = -EINVAL;
			return NULL;
		}
	snprintf(err, errlen, "no vdev '%s' in system %s", name, h->opts->system);
	*rc = -ENOENT;
	return NULL;
}

/* "handover NAME ..." on the control socket: a vnet-host --incoming
 * takes tap vdev NAME over, with what adopts names. */
static int tap_handover(void *arg, const char *name, const char *adopts, int fd, char *err,
			size_t errlen)
{
	int rc = 0;
	struct tap_vdev *t = tap_named(arg, name, err, errlen, &rc);

	return t ? tap_vdev_handover(t, adopts, fd, err, errlen) : rc;
}

/* "handover-check NAME ...": would we? */
static int tap_handover_check(void *arg, const char *name, const char *adopts, char *err,
			      size_t errlen)
{
	int rc = 0;
	const struct tap_vdev *t = tap_named(arg, name, err, errlen, &rc);

	return t ? tap_vdev_handover_check(t, adopts, err, errlen) : rc;
}

static void vdev_moved(void *arg, struct vdev *vd, bool in)
{
	struct host *h = arg;

	(void)vd;
	if (!in) {
		h->moved_out++;
		all_moved_out(h);
	}
	if (in && ++h->moved_in == h->n && !h->ctl) {
		log_info("every vdev moved in");
		h->ctl_tries = 0;
		control_retry(h);
	}
}

/* Creates vdev i of either type. */
static int create_one(struct host *h, const struct host_opts *o, const struct vdev_opts *v)
{
	int rc;

	if (v->type == VDEV_TAP) {
		/* tap_vdev_create printed why it failed. */
		rc = tap_vdev_create(&h->taps[h->n_taps], h->ev, o->run_dir, o->system, v,
				     o->incoming);
		if (rc == 0) {
			h->taps[h->n_taps]->moved = tap_moved;
			h->taps[h->n_taps]->moved_arg = h;
			h->n_taps++;
		}
		else
			fprintf(stderr, "vnet-host: vdev %s: nothing started\n", v->name);
		return rc;
	}
	rc = attach_vdev(&h->vdevs[h->n], h->ev, o->run_dir, o->system, v, o->incoming,
			 &(struct attach_events){ .moved = vdev_moved, .arg = h });
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
	static struct host host = { .sigfd = -1, .ctl_timer = -1 };
	struct host *h = &host;
	char err[1024], prefix[OPTS_NAME_MAX + 16];
	int rc;

	if (vnet_print_version(argc, argv, "vnet-host"))
		return 0;
	if (argc >= 2 && strcmp(argv[1], "stats") == 0)
		return stats_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "capture") == 0)
		return capture_main(argc, argv);
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
	/* The control plane runs alone: vdevs with `threads` park theirs
	 * while the main loop works. */
	evloop_set_hooks(h->ev, dp_threads_park_all, dp_threads_unpark_all, NULL);
	rc = setup_signals(h);
	if (rc == 0)
		rc = make_run_dirs(h);
	/* The control socket first: it claims the system, so a second
	 * process with the same --system stops before making anything.
	 * Moving in, the old process holds it until its vdevs have moved. */
	if (rc == 0 && !opts.incoming)
		rc = start_control(h);
	/* Moving in: every tap vdev must be able to move before any does,
	 * so that a refusal leaves the running process serving them all. */
	for (unsigned i = 0; rc == 0 && opts.incoming && i < opts.n_vdevs; i++)
		if (opts.vdevs[i].type == VDEV_TAP)
			rc = tap_move_check(opts.run_dir, opts.system, &opts.vdevs[i]);
	for (unsigned i = 0; rc == 0 && i < opts.n_vdevs; i++)
		rc = create_one(h, &opts, &opts.vdevs[i]);
	if (rc < 0) {
		teardown(h);
		return 1;
	}
	/* Moving in only tap vdevs: they were taken over as they were made. */
	if (opts.incoming && h->n == 0)
		control_retry(h);
	for (unsigned i = 0; i < h->n; i++)
		print_vdev(&opts, h->vdevs[i]);
	for (unsigned i = 0; i < h->n_taps; i++)
		print_tap(&opts, h->taps[i]);
	printf("vnet-host: system %s ready with %u vdev%s (pid %d)%s\n", opts.system,
	       h->n + h->n_taps, h->n + h->n_taps == 1 ? "" : "s", (int)getpid(),
	       opts.incoming ? "; waiting for them to move in" : "");
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
