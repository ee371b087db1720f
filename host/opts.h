/* SPDX-License-Identifier: MIT */
/*
 * opts.h - vnet-host's command line and --config file (docs/ARCHITECTURE.md
 * "Command line").  The device options are the hypervisor's own words:
 *
 *   vnet-host [--system NAME] [--run-dir DIR] [--config FILE] [-v] \
 *             vdev virtio-net [intr INTR] [legacy] [loc ADDR] [mac MAC] \
 *                             [name NAME] [peer PATH] [peerfeats MASK] \
 *                             [vhost-user PATH] [capture FILE] \
 *                             [speed MBPS] [duplex full|half] [queues N] \
 *                             [threads N] [cpus LIST] \
 *                             [vdev ...]
 *
 * and our extension, a vdev that joins its peer link to a TAP interface
 * of the host (docs/ARCHITECTURE.md "Real peers"; host/tap/tap_vdev.c):
 *
 *             vdev tap ifname IFNAME [mac MAC] [name NAME] [peer PATH] \
 *                      [peerfeats MASK|auto] [mtu N] [addr A/P]... \
 *                      [netns NS] [bridge BR] [vxlan VNI@REMOTE]
 *
 * Parsing is all-or-nothing: on any error nothing is kept, and the
 * message names the word, where it was (command line argument number or
 * file:line) and what was expected.
 */
#ifndef VNET_HOST_OPTS_H
#define VNET_HOST_OPTS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OPTS_MAX_VDEVS	 32
#define OPTS_INCOMING_SUFFIX ".incoming"
#define OPTS_NAME_MAX	 48	/* system and vdev names, incl. NUL */
#define OPTS_INTR_MAX	 32
#define OPTS_PATH_MAX	 108	/* sun_path: every path here is a socket */
#define OPTS_ORIGIN_MAX	 (PATH_MAX + 32)
#define OPTS_IFNAME_MAX	 16	/* IFNAMSIZ */
#define OPTS_NETNS_MAX	 64
#define OPTS_ADDR_MAX	 64	/* "IPv6/128" */
#define OPTS_TAP_ADDRS	 4	/* addr may be given this often */
#define OPTS_MTU_MIN	 68	/* RFC 791 */
#define OPTS_MTU_MAX	 65535
#define OPTS_MTU_MIN_V6	 1280	/* RFC 8200 */
#define OPTS_CAPTURE_MAX 256	/* capture FILE, incl. NUL */
#define OPTS_MAX_QUEUE_PAIRS 8	/* queues N (VDEV_MAX_PAIRS) */

enum vdev_type {
	VDEV_VIRTIO_NET = 0,	/* a virtio-net device served to a guest */
	VDEV_TAP,		/* the peer link joined to a host TAP */
};

struct vdev_opts {
	char origin[OPTS_ORIGIN_MAX];	/* "command line" or "FILE:LINE" */
	bool legacy;
	bool has_loc;
	uint64_t loc;			/* MMIO base address (page aligned) */
	bool has_intr;
	char intr[OPTS_INTR_MAX];	/* e.g. "41" or "gic:40" */
	bool has_mac;
	uint8_t mac[6];			/* unicast; generated when !has_mac */
	bool has_name;
	char name[OPTS_NAME_MAX];	/* "net<index>" when not given */
	bool has_peer;
	char peer[OPTS_PATH_MAX];
	uint64_t peerfeats;		/* subset of VNET_PEERFEATS_MAX */
	bool peerfeats_auto;
	bool has_vhost_user;
	char vhost_user[OPTS_PATH_MAX];
	bool has_capture;		/* our extension: a pcap of every frame */
	char capture[OPTS_CAPTURE_MAX];
	bool has_speed;			/* SPEED_DUPLEX (5.1.4): what the */
	uint32_t speed;			/* device reports, Mbit/s 1..0x7fffffff */
	bool has_duplex;
	uint8_t duplex;			/* VIRTIO_NET_DUPLEX_HALF / _FULL */
	unsigned queues;		/* queue pairs, 1..OPTS_MAX_QUEUE_PAIRS */
	unsigned threads;		/* data-path threads, 0 (the main loop)..queues */
	unsigned n_cpus;		/* `cpus`: thread i on cpus[i % n_cpus] */
	unsigned cpus[OPTS_MAX_QUEUE_PAIRS];

	enum vdev_type type;
	/* vdev tap only */
	char ifname[OPTS_IFNAME_MAX];	/* the TAP interface (required) */
	bool has_mtu;
	unsigned mtu;			/* OPTS_MTU_MIN..OPTS_MTU_MAX */
	unsigned n_addrs;
	char addrs[OPTS_TAP_ADDRS][OPTS_ADDR_MAX];	/* "A/P", checked */
	bool has_netns;
	char netns[OPTS_NETNS_MAX];	/* /run/netns/<netns> */
	bool has_bridge;
	char bridge[OPTS_IFNAME_MAX];	/* master the TAP joins (made if missing) */
	bool has_vxlan;			/* a VXLAN port "vxlan<ID>" in bridge */
	uint32_t vxlan_id;		/* VNI, below 2^24 */
	char vxlan_remote[OPTS_ADDR_MAX];	/* the far end's underlay address */
};

struct host_opts {
	char system[OPTS_NAME_MAX];	/* default "default" */
	char run_dir[PATH_MAX];		/* resolved (never empty after parse) */
	bool run_dir_given;
	char config[PATH_MAX];
	int verbose;			/* count of -v */
	/* --incoming: every vdev is the destination of a move from another
	 * vnet-host that still serves it (vfio-user migration); it listens
	 * on NAME.vfio OPTS_INCOMING_SUFFIX until moved in. */
	bool incoming;
	unsigned n_vdevs;
	struct vdev_opts vdevs[OPTS_MAX_VDEVS];
};

/* opts_parse_cmdline's result when --help or -h was given: the caller
 * prints opts_usage() and exits 0; nothing else was parsed. */
#define OPTS_HELP 1

/* Parses argv (argv[0] is the program).  Reads --config FILE if given
 * (its vdevs come before the command line's).  Fills defaults: system
 * "default", run dir per opts_default_run_dir, names "net<i>", MACs per
 * opts_default_mac.  Validates across vdevs: names unique, no two vdevs
 * with the same MAC.  0 on success; OPTS_HELP when help was asked;
 * -EINVAL with err filled otherwise (-ENOMEM if the config file could not
 * be buffered).  Never exits the process. */
int opts_parse_cmdline(struct host_opts *o, int argc, char **argv, char *err,
		       size_t errlen);
/* Parses config text (the same `vdev virtio-net ...` / `vdev tap ...` lines, one vdev per
 * line, '#' starts a comment, blank lines ignored, lines at most 4096
 * bytes, no global options) as if read from a file named fname, appending
 * vdevs to o with origin "FILE:LINE".  Checks names and explicit MACs are
 * unique among o's vdevs; fills no defaults.  0 or -EINVAL with err
 * filled.  For tests and opts_parse_cmdline (which also refuses files over
 * 1 MiB or holding NUL bytes). */
int opts_parse_config_text(struct host_opts *o, const char *text,
			   const char *fname, char *err, size_t errlen);

/* $VNET_RUN_DIR, else /run/vnet when writable (or creatable), else
 * $XDG_RUNTIME_DIR/vnet, else /tmp/vnet-$UID. */
int opts_default_run_dir(char *out, size_t outlen);
/* A locally administered unicast MAC, stable for (system, name). */
void opts_default_mac(const char *system, const char *name, uint8_t mac[6]);
/* Is s a valid system or vdev name: 1..OPTS_NAME_MAX-1 characters of
 * [A-Za-z0-9_.-], not starting with '.' or '-'. */
bool opts_valid_name(const char *s);
/* Usage text for vnet-host. */
void opts_usage(FILE *f);

#endif /* VNET_HOST_OPTS_H */
