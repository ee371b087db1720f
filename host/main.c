// SPDX-License-Identifier: MIT
/*
 * vnet-host - one process per virtual machine, serving its virtio-net
 * devices to guests over vfio-user and linking them to peers.
 *
 *   vnet-host [--system NAME] [--run-dir DIR] [--config FILE] [-v]
 *             vdev virtio-net [intr INTR] [legacy] [loc ADDR] [mac MAC]
 *                             [name NAME] [peer PATH] [peerfeats MASK] ...
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

#include "common/log.h"
#include "common/opts.h"
#include "host/evloop.h"
#include "host/vdev.h"
#include "host/vdev_stats.h"

struct host {
	struct host_opts *opts;
	struct evloop *ev;
	struct vdev *vdevs[OPTS_MAX_VDEVS];
	unsigned n;
	char sys_dir[PATH_MAX];
	int sigfd;
	struct ev_handler sig_h;
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

static void teardown(struct host *h)
{
	for (unsigned i = h->n; i-- > 0;)
		vdev_destroy(h->vdevs[i]);
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

	printf("vdev %s: %s mac %s %s %s", vd->name, vd->t->ops->name,
	       opts_format_mac(v->mac, mac), v->has_vhost_user ? "vhost-user" : "vfio-user",
	       vd->vfio_path);
	printf(" node %s/%s/%s", o->run_dir, o->system, vd->name);
	if (v->has_peer)
		printf(" peer %s", v->peer);
	if (v->peerfeats_auto)
		printf(" peerfeats auto");
	else
		printf(" peerfeats 0x%llx", (unsigned long long)v->peerfeats);
	printf(" features 0x%llx\n", (unsigned long long)vd->device_features);
}

int main(int argc, char **argv)
{
	static struct host_opts opts;
	static struct host host = { .sigfd = -1 };
	struct host *h = &host;
	char err[1024], prefix[OPTS_NAME_MAX + 16];
	int rc;

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
	for (unsigned i = 0; rc == 0 && i < opts.n_vdevs; i++) {
		rc = vdev_create(&h->vdevs[i], h->ev, opts.run_dir, opts.system,
				 &opts.vdevs[i]);
		if (rc < 0) {
			fprintf(stderr, "vnet-host: vdev %s (%s): %s; nothing started\n",
				opts.vdevs[i].name, opts.vdevs[i].origin, strerror(-rc));
			break;
		}
		h->n++;
	}
	if (rc < 0) {
		teardown(h);
		return 1;
	}
	for (unsigned i = 0; i < h->n; i++)
		print_vdev(&opts, h->vdevs[i]);
	printf("vnet-host: system %s ready with %u vdev%s (pid %d)\n", opts.system, h->n,
	       h->n == 1 ? "" : "s", (int)getpid());
	rc = evloop_run(h->ev);
	if (rc < 0)
		log_err("event loop failed: %s", strerror(-rc));
	log_all_stats(h);
	teardown(h);
	return rc < 0 ? 1 : 0;
}
