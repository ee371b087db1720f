/* SPDX-License-Identifier: MIT */
/*
 * tool.h - what the files of vnet-guest share: the parsed command line,
 * the command table entry, exit codes, and the device chores several
 * commands do (wait for the link, send a whole batch, reset mid-stream).
 *
 *   main.c     signals, open the device, run the command, close
 *   cli.c      usage, option parsing, the command table
 *   out.c      output: "key: value" lines or one JSON object
 *   device.c   the shared device chores
 *   hist.c     ping's latency histogram
 *   hash.c     the RSS / hash-report configuration, recv's hash check
 *   info.c, pong.c, ping.c, send.c, recv.c, tap_bridge.c: one command each
 *
 * The commands reach the device only through the driver's public header,
 * guest/virtio_net.h.
 */
#ifndef VNET_GUEST_TOOL_H
#define VNET_GUEST_TOOL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "guest/tool/tap_bridge.h"
#include "guest/virtio_net.h"

#define EXIT_OK	   0
#define EXIT_FAIL  1
#define EXIT_SETUP 2

#define BURST	   32
#define DRAIN_MS   1000

/* Set by SIGINT / SIGTERM (main.c); every command's loop checks it. */
extern volatile sig_atomic_t stop_requested;

/* Options that only some commands take (struct command.allowed). */
enum opt_bit {
	O_COUNT = 1 << 0, O_SIZE = 1 << 1, O_TIMEOUT = 1 << 2,
	O_INTERVAL = 1 << 3, O_SECONDS = 1 << 4, O_WINDOW = 1 << 5,
	O_RESET = 1 << 6, O_FIRSTSEQ = 1 << 7, O_NETNS = 1 << 8, O_ADDR = 1 << 9,
	O_FLOWS = 1 << 10, O_MOVE = 1 << 11,
};

enum rx_mode_req { RXM_DEFAULT = 0, RXM_PROMISC, RXM_FILTER };

struct command;

struct cli {
	const char *socket;
	const char *cmd;
	const struct command *command;
	const char *mac_arg;
	uint8_t dst[6];			/* mac_arg, checked before connecting */
	const char *ifname;		/* tap */
	struct tap_bridge_cfg tap;
	bool json;
	unsigned given;			/* enum opt_bit */
	uint64_t count;
	uint32_t size;
	double timeout_s;
	double seconds;
	uint64_t interval_us;
	unsigned window;
	uint64_t reset_after;		/* send/recv: reset the device after N frames */
	const char *move_to;		/* send/recv: move the device there ... */
	uint64_t move_after;		/* ... after this many frames */
	uint64_t first_seq;		/* send: sequence number of the first frame */
	unsigned flows;			/* send/ping: --flows (0: plain frames) */
	unsigned rss_table_len;		/* --rss-table: its entries (0: not given) */
	uint16_t rss_table[VNET_RSS_TABLE_MAX];
	bool hash_types_given;		/* --hash-types */
	uint32_t hash_types;
	struct vnet_rss rss;		/* what hash_configure set */
	enum rx_mode_req rx_mode;
	struct {
		bool given;
		uint32_t max_packets, max_usecs;
	} coal[2];			/* --coalesce-rx / --coalesce-tx */
	struct vnet_dev_params dp;
};

struct command {
	const char *name;
	unsigned allowed;		/* enum opt_bit */
	bool needs_mac;
	bool needs_ifname;
	int (*run)(struct cli *c, struct vnet_dev *d);
};

/* One per command file; cli.c's table lists them. */
extern const struct command command_info, command_pong, command_ping,
	command_send, command_recv, command_tap;

#define PING_SLOTS 1024u		/* ping: max requests in flight (--window) */
/* Flows without --flows: enough to spread over every pair when there
 * are several, none (plain frames) with one. */
#define DEFAULT_FLOWS_PER_PAIR 4u

/* The flow of frame seq (frame_build_flow), -1 for a plain frame. */
static inline int tool_flow_of(const struct cli *c, uint64_t seq)
{
	unsigned flows = (c->given & O_FLOWS) ? c->flows
			 : c->dp.queue_pairs > 1 ? DEFAULT_FLOWS_PER_PAIR * c->dp.queue_pairs : 0;

	return flows ? (int)(seq % flows) : -1;
}

/* cli.c: fills c from argv.  0, or an exit status after printing why
 * (--help prints the usage and exits). */
int parse_cli(struct cli *c, int argc, char **argv);

/* A usage error: the message, a pointer to --help, exit status 2.  A
 * macro (fmt must be a literal) so the format is checked at each call. */
#define bad_usage(...)                                                   \
	(fprintf(stderr, "vnet-guest: " __VA_ARGS__),                    \
	 fputs(" (see vnet-guest --help)\n", stderr), EXIT_SETUP)

static inline uint64_t secs_to_ns(double s)
{
	return s <= 0 ? UINT64_MAX : (uint64_t)(s * 1e9);
}

static inline bool mac_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 6) == 0;
}

/* hash.c: with --rss-table or --hash-report, sets c->rss on the device
 * (every IP type or --hash-types, the default key, --rss-table or the
 * pairs in turn); EXIT_OK, or EXIT_SETUP after saying why. */
int hash_configure(struct cli *c, struct vnet_dev *d);
/* "ipv4,tcpv4,..." (or "none") into hash type bits; 0 or -1. */
int hash_types_parse(const char *s, uint32_t *types);
/* recv --hash-report: frames per reported type, and those whose reported
 * hash or type differs from vnet_rss_hash's under c->rss. */
#define HASH_REPORT_TYPES 7	/* NONE .. UDPv6 */
struct hash_tally {
	uint64_t frames;
	uint64_t per_type[HASH_REPORT_TYPES];
	uint64_t mismatches;
};
void hash_tally_frame(struct hash_tally *t, const struct cli *c, const struct vnet_dev *d,
		      const struct vnet_frame *f);
struct out;
void hash_tally_out(const struct hash_tally *t, struct out *o);

/* device.c */
/* vnet_wait, but a signal is no error (0): every loop checks
 * stop_requested itself.  VNET_EV_* or 0, or -errno from the device. */
int wait_work(struct vnet_dev *d, int timeout_ms);
/* The receive loops' pause after a burst of n frames: none after frames;
 * after none, give up once idle for idle_ns (UINT64_MAX: never), else
 * wait (100 ms at most).  1 go on, 0 idle too long, -errno device failed. */
int rx_pause(struct vnet_dev *d, int n, uint64_t *last, uint64_t idle_ns);
/* Waits for the link (bounded by timeout_s); EXIT_OK, or EXIT_FAIL after
 * saying why. */
int link_or_fail(struct vnet_dev *d, double timeout_s);
/* Queues all n frames, waiting for TX room as needed; a frame the device
 * cannot take (too long) is skipped.  Returns frames queued or -errno. */
int send_all(struct vnet_dev *d, const struct vnet_frame *f, unsigned n,
	     double timeout_s);
/* Says what failed ("what: device failed ..."); returns EXIT_FAIL. */
int device_error(const char *what, int rc);
/* --move-to: moves the device (vnet_dev_move); 0 or -errno, said on
 * stderr either way. */
int move_device(struct cli *c, struct vnet_dev *d, const char *who);
/* --reset-after: resets the device (2.4) and waits for the link again.
 * 0, or -errno after saying why. */
int reset_device(struct cli *c, struct vnet_dev *d, const char *who);

#endif /* VNET_GUEST_TOOL_H */
