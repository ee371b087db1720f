// SPDX-License-Identifier: MIT
/*
 * vnet-guest - a userspace virtio-net guest driver as a command-line tool.
 *
 *   vnet-guest --socket PATH info [--json]
 *   vnet-guest --socket PATH pong [--count N] [--timeout S]
 *   vnet-guest --socket PATH ping [--count N] [--size B] [--timeout S]
 *                                 [--interval-us U] [--window W] MAC
 *   vnet-guest --socket PATH send [--count N] [--size B] [--seconds S] MAC
 *   vnet-guest --socket PATH recv [--count N] [--timeout S]
 *   vnet-guest --socket PATH tap IFNAME [--netns NS] [--addr A/P]...
 *                                [--seconds S]
 *
 * Each command is a short loop over the library (guest/virtio_net.h):
 * vnet_rx_burst / vnet_tx_burst / vnet_wait.  Results are printed as
 * "key: value" lines (or one JSON object with --json).  Exit codes: 0 ok,
 * 1 the test failed (loss, corruption, link down), 2 usage or setup error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/netlink.h"
#include "common/opts.h"
#include "common/peerfeats.h"
#include "guest/frame.h"
#include "guest/guest_mem.h"
#include "guest/tool/tap_bridge.h"
#include "guest/virtio_net.h"

#define EXIT_OK	   0
#define EXIT_FAIL  1
#define EXIT_SETUP 2

#define BURST		   32
#define PING_SLOTS	   1024u	/* max requests in flight */
#define PING_REPLY_NS	   UINT64_C(1000000000)	/* a reply later than 1 s is lost */
#define SEQ_WINDOW	   4096u	/* recv: duplicates detected this far back */
#define DRAIN_MS	   1000

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* ---- command line ---------------------------------------------------- */

enum opt_bit {
	O_COUNT = 1 << 0, O_SIZE = 1 << 1, O_TIMEOUT = 1 << 2,
	O_INTERVAL = 1 << 3, O_SECONDS = 1 << 4, O_WINDOW = 1 << 5,
	O_RESET = 1 << 6, O_FIRSTSEQ = 1 << 7, O_NETNS = 1 << 8, O_ADDR = 1 << 9,
};

enum rx_mode_req { RXM_DEFAULT = 0, RXM_PROMISC, RXM_FILTER };

struct command;

struct cli {
	const char *socket;
	const char *cmd;
	const struct command *command;
	const char *mac_arg;
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
	uint64_t first_seq;		/* send: sequence number of the first frame */
	enum rx_mode_req rx_mode;
	struct vnet_dev_params dp;
};

struct command {
	const char *name;
	unsigned allowed;		/* enum opt_bit */
	bool needs_mac;
	bool needs_ifname;
	int (*run)(struct cli *c, struct vnet_dev *d);
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vnet-guest --socket PATH [global options] COMMAND [options]\n"
		"\n"
		"commands:\n"
		"  info [--json]                 transport, features, queues, MAC, link, MTU\n"
		"  pong [--count N] [--timeout S]\n"
		"                                answer echo requests (default timeout 10 s\n"
		"                                without traffic, 0 = until SIGINT/SIGTERM)\n"
		"  ping [--count N] [--size B] [--timeout S] [--interval-us U] [--window W] MAC\n"
		"                                echo requests (default 10 of 60 bytes, up to\n"
		"                                W=16 in flight); checks every reply\n"
		"  send [--count N] [--size B] [--seconds S] [--timeout S] [--reset-after N]\n"
		"       [--first-seq N] MAC\n"
		"                                a checkable stream (default 1000 x 1514 bytes)\n"
		"  recv [--count N] [--timeout S] [--reset-after N]\n"
		"                                receive a stream, count loss and corruption\n"
		"  tap IFNAME [--netns NS] [--addr A/P]... [--seconds S]\n"
		"                                hand the device to TAP interface IFNAME (with\n"
		"                                the device's MAC, MTU and offloads; moved into\n"
		"                                namespace NS; addresses like 10.0.0.1/24) so\n"
		"                                a Linux stack runs on it, until SIGINT/SIGTERM\n"
		"\n"
		"global options:\n"
		"  --socket PATH      the vdev's vfio-user socket (<run-dir>/<system>/<name>.vfio)\n"
		"  --ram SIZE         guest RAM (default 64M; K/M/G suffixes)\n"
		"  --queue-size N     ring size (power of two; default device max, at most 256)\n"
		"  --offloads         accept checksum/TSO offloads the device offers\n"
		"  --no-packed        decline packed rings (accepted by default)\n"
		"  --no-event-idx     decline VIRTIO_F_RING_EVENT_IDX\n"
		"  --no-indirect      decline VIRTIO_F_RING_INDIRECT_DESC\n"
		"  --no-mrg-rxbuf     decline VIRTIO_NET_F_MRG_RXBUF\n"
		"  --decline MASK     never accept these feature bits (hex)\n"
		"  --intx             the interrupt line (PCI INTx) instead of MSI-X\n"
		"  --no-irq           poll instead of using interrupts\n"
		"  --loc ADDR, --intr INTR\n"
		"                     where a virtio-mmio device sits and its interrupt\n"
		"                     (virtio-mmio has no discovery: as from a device tree;\n"
		"                     shown by info)\n"
		"  --promisc, --no-promisc\n"
		"                     set the device's RX mode through the control queue\n"
		"                     (--no-promisc: only frames for our MAC, broadcast and\n"
		"                     multicast are delivered)\n"
		"  --reset-after N    send/recv: reset the device after N frames and go on\n"
		"  --busy-poll US     spin this long before sleeping on interrupts\n"
		"  --json             print one JSON object\n"
		"  -v                 debug logging\n"
		"\n"
		"exit status: 0 ok, 1 test failed (loss, corruption, link down),\n"
		"             2 usage or setup error\n");
}

/* A usage error: the message, a pointer to --help, exit status 2.  A
 * macro (fmt must be a literal) so the format is checked at each call. */
#define bad_usage(...)                                                   \
	(fprintf(stderr, "vnet-guest: " __VA_ARGS__),                    \
	 fputs(" (see vnet-guest --help)\n", stderr), EXIT_SETUP)

static bool parse_u64(const char *s, uint64_t *v, int base)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*v = strtoull(s, &end, base);
	return errno == 0 && *end == '\0';
}

static bool parse_secs(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno == 0 && *end == '\0' && end != s && *v >= 0 && *v < 1e9;
}

static const struct command *find_command(const char *name);

static int parse_cli(struct cli *c, int argc, char **argv)
{
	enum { L_SOCKET = 256, L_RAM, L_QSIZE, L_COUNT, L_SIZE, L_TIMEOUT,
	       L_INTERVAL, L_SECONDS, L_WINDOW, L_BUSY, L_DECLINE, L_OFFLOADS,
	       L_PACKED, L_NOIRQ, L_JSON, L_NOPACKED, L_NOEVIDX, L_NOINDIRECT,
	       L_NOMRG, L_INTX, L_LOC, L_INTR, L_PROMISC, L_NOPROMISC, L_RESET,
	       L_FIRSTSEQ, L_NETNS, L_ADDR };
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, L_SOCKET },
		{ "ram", required_argument, NULL, L_RAM },
		{ "queue-size", required_argument, NULL, L_QSIZE },
		{ "count", required_argument, NULL, L_COUNT },
		{ "size", required_argument, NULL, L_SIZE },
		{ "timeout", required_argument, NULL, L_TIMEOUT },
		{ "interval-us", required_argument, NULL, L_INTERVAL },
		{ "seconds", required_argument, NULL, L_SECONDS },
		{ "window", required_argument, NULL, L_WINDOW },
		{ "busy-poll", required_argument, NULL, L_BUSY },
		{ "decline", required_argument, NULL, L_DECLINE },
		{ "offloads", no_argument, NULL, L_OFFLOADS },
		{ "packed", no_argument, NULL, L_PACKED },
		{ "no-irq", no_argument, NULL, L_NOIRQ },
		{ "no-packed", no_argument, NULL, L_NOPACKED },
		{ "no-event-idx", no_argument, NULL, L_NOEVIDX },
		{ "no-indirect", no_argument, NULL, L_NOINDIRECT },
		{ "no-mrg-rxbuf", no_argument, NULL, L_NOMRG },
		{ "intx", no_argument, NULL, L_INTX },
		{ "loc", required_argument, NULL, L_LOC },
		{ "intr", required_argument, NULL, L_INTR },
		{ "promisc", no_argument, NULL, L_PROMISC },
		{ "no-promisc", no_argument, NULL, L_NOPROMISC },
		{ "reset-after", required_argument, NULL, L_RESET },
		{ "first-seq", required_argument, NULL, L_FIRSTSEQ },
		{ "json", no_argument, NULL, L_JSON },
		{ "netns", required_argument, NULL, L_NETNS },
		{ "addr", required_argument, NULL, L_ADDR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *cmd;
	uint64_t v;
	int o;

	c->timeout_s = 10;
	c->window = 16;
	c->dp.want_packed = true;
	c->dp.mmio_intr = -1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "vh", lopts, NULL)) != -1) {
		switch (o) {
		case L_SOCKET: c->socket = optarg; break;
		case L_RAM:
			if (guest_mem_parse_size(optarg, &c->dp.ram_size) < 0 ||
			    c->dp.ram_size < GUEST_MEM_MIN_SIZE ||
			    c->dp.ram_size > GUEST_MEM_MAX_SIZE || (c->dp.ram_size & 4095))
				return bad_usage("--ram %s: expected a size such as 64M (1M..64G, whole pages)",
						 optarg);
			break;
		case L_QSIZE:
			if (!parse_u64(optarg, &v, 10) || v == 0 || v > 32768)
				return bad_usage("--queue-size %s: expected 1..32768", optarg);
			c->dp.queue_size = (unsigned)v;
			break;
		case L_COUNT:
			if (!parse_u64(optarg, &c->count, 10) || c->count == 0)
				return bad_usage("--count %s: expected a positive number", optarg);
			c->given |= O_COUNT;
			break;
		case L_SIZE:
			if (!parse_u64(optarg, &v, 10) || v > FRAME_MAX_LEN)
				return bad_usage("--size %s: expected bytes up to %u", optarg,
						 FRAME_MAX_LEN);
			c->size = (uint32_t)v;
			c->given |= O_SIZE;
			break;
		case L_TIMEOUT:
			if (!parse_secs(optarg, &c->timeout_s))
				return bad_usage("--timeout %s: expected seconds (0 = forever)", optarg);
			c->given |= O_TIMEOUT;
			break;
		case L_INTERVAL:
			if (!parse_u64(optarg, &c->interval_us, 10) || c->interval_us > 60000000)
				return bad_usage("--interval-us %s: expected microseconds", optarg);
			c->given |= O_INTERVAL;
			break;
		case L_SECONDS:
			if (!parse_secs(optarg, &c->seconds) || c->seconds == 0)
				return bad_usage("--seconds %s: expected a positive duration", optarg);
			c->given |= O_SECONDS;
			break;
		case L_WINDOW:
			if (!parse_u64(optarg, &v, 10) || v == 0 || v > PING_SLOTS)
				return bad_usage("--window %s: expected 1..%u", optarg, PING_SLOTS);
			c->window = (unsigned)v;
			c->given |= O_WINDOW;
			break;
		case L_BUSY:
			if (!parse_u64(optarg, &v, 10) || v > 1000000)
				return bad_usage("--busy-poll %s: expected microseconds", optarg);
			c->dp.busy_poll_us = (unsigned)v;
			break;
		case L_DECLINE:
			if (!parse_u64(optarg, &c->dp.decline_features, 16))
				return bad_usage("--decline %s: expected a hex feature mask", optarg);
			break;
		case L_OFFLOADS: c->dp.want_offloads = true; break;
		case L_PACKED: c->dp.want_packed = true; break;
		case L_NOIRQ: c->dp.no_interrupts = true; break;
		case L_NOPACKED: c->dp.want_packed = false; break;
		case L_NOEVIDX:
			c->dp.decline_features |= VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX);
			break;
		case L_NOINDIRECT:
			c->dp.decline_features |= VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC);
			break;
		case L_NOMRG:
			c->dp.decline_features |= VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);
			break;
		case L_INTX: c->dp.use_intx = true; break;
		case L_LOC: {
			uint64_t loc;

			if (!parse_u64(optarg, &loc, 0) || (loc & 0xfff))
				return bad_usage("--loc %s: expected a page-aligned address such as 0x1c0c0000",
						 optarg);
			c->dp.mmio_loc = optarg;
			break;
		}
		case L_INTR:
			if (!parse_u64(optarg, &v, 10) || v > 1023)
				return bad_usage("--intr %s: expected an interrupt number 0..1023",
						 optarg);
			c->dp.mmio_intr = (long)v;
			break;
		case L_PROMISC: c->rx_mode = RXM_PROMISC; break;
		case L_NOPROMISC: c->rx_mode = RXM_FILTER; break;
		case L_RESET:
			if (!parse_u64(optarg, &c->reset_after, 10) || c->reset_after == 0)
				return bad_usage("--reset-after %s: expected a positive frame count",
						 optarg);
			c->given |= O_RESET;
			break;
		case L_FIRSTSEQ:
			if (!parse_u64(optarg, &c->first_seq, 10) || c->first_seq > (UINT64_C(1) << 62))
				return bad_usage("--first-seq %s: expected a sequence number", optarg);
			c->given |= O_FIRSTSEQ;
			break;
		case L_JSON: c->json = true; break;
		case L_NETNS:
			if (!vnl_valid_netns_name(optarg))
				return bad_usage("--netns %s: expected a namespace name as 'ip netns add' makes them",
						 optarg);
			c->tap.netns = optarg;
			c->given |= O_NETNS;
			break;
		case L_ADDR: {
			char why[160];

			if (c->tap.n_addrs >= OPTS_TAP_ADDRS)
				return bad_usage("--addr: at most %d addresses", OPTS_TAP_ADDRS);
			if (vnl_parse_cidr(optarg, NULL, why, sizeof(why)) < 0)
				return bad_usage("--addr %s: %s", optarg, why);
			c->tap.addrs[c->tap.n_addrs++] = optarg;
			c->given |= O_ADDR;
			break;
		}
		case 'v': log_set_level(LOG_DEBUG); break;
		case 'h': usage(stdout); exit(EXIT_OK);
		default:
			return bad_usage("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return bad_usage("no command given");
	c->cmd = argv[optind++];
	cmd = find_command(c->cmd);
	if (!cmd)
		return bad_usage("unknown command '%s'", c->cmd);
	c->command = cmd;
	if (cmd->needs_mac) {
		if (optind >= argc)
			return bad_usage("%s needs the destination MAC", c->cmd);
		c->mac_arg = argv[optind++];
	}
	if (cmd->needs_ifname) {
		if (optind >= argc)
			return bad_usage("%s needs the interface name", c->cmd);
		if (!vnl_valid_ifname(argv[optind]))
			return bad_usage("%s: '%s' is not an interface name (1..15 bytes, no '/', ':' or blanks)",
					 c->cmd, argv[optind]);
		c->ifname = argv[optind++];
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	if (c->given & ~cmd->allowed) {
		static const char *const names[] = { "--count", "--size", "--timeout",
			"--interval-us", "--seconds", "--window", "--reset-after",
			"--first-seq", "--netns", "--addr" };
		unsigned bad = c->given & ~cmd->allowed;

		return bad_usage("%s does not apply to %s",
				 names[__builtin_ctz(bad)], c->cmd);
	}
	if (!c->socket)
		return bad_usage("--socket PATH is required");
	c->dp.socket_path = c->socket;
	return 0;
}

/* ---- output: "key: value" lines or one JSON object ------------------- */

struct out {
	bool json;
	bool first;
};

static void out_begin(struct out *o, bool json)
{
	o->json = json;
	o->first = true;
	if (json)
		fputs("{", stdout);
}

static void out_key(struct out *o, const char *key)
{
	if (o->json)
		printf("%s\"%s\": ", o->first ? "" : ", ", key);
	else
		printf("%s: ", key);
	o->first = false;
}

static void out_eol(const struct out *o)
{
	if (!o->json)
		putchar('\n');
}

static void out_u64(struct out *o, const char *key, uint64_t v)
{
	out_key(o, key);
	printf("%" PRIu64, v);
	out_eol(o);
}

static void out_str(struct out *o, const char *key, const char *s)
{
	out_key(o, key);
	/* Our strings never need escaping: names, hex, MACs. */
	printf(o->json ? "\"%s\"" : "%s", s);
	out_eol(o);
}

static void out_bool(struct out *o, const char *key, bool v)
{
	out_key(o, key);
	fputs(v ? "true" : "false", stdout);
	out_eol(o);
}

static void out_f(struct out *o, const char *key, double v, int prec)
{
	out_key(o, key);
	printf("%.*f", prec, v);
	out_eol(o);
}

static void out_end(struct out *o)
{
	if (o->json)
		puts("}");
	fflush(stdout);
}

/* ---- shared helpers -------------------------------------------------- */

/* Doorbells and interrupts: how well notification suppression worked. */
static void out_counters(struct out *o, struct vnet_dev *d)
{
	struct vnet_info in;

	vnet_dev_info(d, &in);
	out_u64(o, "kicks_sent", in.stats.kicks_sent);
	out_u64(o, "kicks_suppressed", in.stats.kicks_suppressed);
	out_u64(o, "interrupts", in.stats.irqs_config + in.stats.irqs_rx + in.stats.irqs_tx +
				 in.stats.irqs_line);
	out_u64(o, "rx_errors", in.stats.rx_errors);
	if (in.stats.resets) {
		out_u64(o, "resets", in.stats.resets);
		out_u64(o, "tx_lost_reset", in.stats.tx_lost_reset);
		out_u64(o, "rx_lost_reset", in.stats.rx_lost_reset);
	}
}

static uint64_t secs_to_ns(double s)
{
	return s <= 0 ? UINT64_MAX : (uint64_t)(s * 1e9);
}

static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 6) == 0;
}

/* Waits for VIRTIO_NET_S_LINK_UP, bounded by the timeout; frames that
 * arrive meanwhile are dropped so the wait does not spin on them. */
static int wait_link(struct vnet_dev *d, double timeout_s)
{
	uint64_t deadline = now_ns() + secs_to_ns(timeout_s);
	struct vnet_frame f[BURST];

	if (secs_to_ns(timeout_s) == UINT64_MAX)
		deadline = UINT64_MAX;
	while (!vnet_link_up(d)) {
		int rc;

		if (stop_requested)
			return -EINTR;
		if (now_ns() >= deadline)
			return -ETIMEDOUT;
		rc = vnet_wait(d, 100);
		if (rc < 0 && rc != -EINTR)
			return rc;
		if (rc > 0 && (rc & VNET_EV_RX) && vnet_rx_burst(d, f, BURST) < 0)
			return -EIO;
	}
	return 0;
}

static int link_or_fail(struct vnet_dev *d, double timeout_s)
{
	int rc = wait_link(d, timeout_s);

	if (rc == -ETIMEDOUT) {
		printf("link: down\n");
		fprintf(stderr, "vnet-guest: link down: no link after %.1f s (is the peer up?)\n",
			timeout_s);
		return EXIT_FAIL;
	}
	if (rc == -EINTR)
		return EXIT_FAIL;
	if (rc < 0) {
		fprintf(stderr, "vnet-guest: device failed while waiting for link: %s\n",
			strerror(-rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* Queues all n frames, waiting for TX room as needed; a frame the device
 * cannot take (too long) is skipped.  Returns frames queued or -errno. */
static int send_all(struct vnet_dev *d, const struct vnet_frame *f, unsigned n,
		    double timeout_s)
{
	uint64_t deadline = now_ns() + secs_to_ns(timeout_s > 0 ? timeout_s : 10);
	unsigned done = 0, queued = 0;

	while (done < n) {
		int rc = vnet_tx_burst(d, f + done, n - done);

		if (rc == -EMSGSIZE || rc == -EINVAL) {
			done++;
			continue;
		}
		if (rc < 0)
			return rc;
		done += (unsigned)rc;
		queued += (unsigned)rc;
		if (done == n)
			break;
		if (stop_requested)
			return -EINTR;
		if (now_ns() >= deadline)
			return -ETIMEDOUT;
		rc = vnet_wait(d, 100);
		if (rc < 0 && rc != -EINTR)
			return rc;
	}
	return (int)queued;
}

static int device_error(const char *what, int rc)
{
	fprintf(stderr, "vnet-guest: %s: %s\n", what,
		rc == -EIO ? "device failed (needs reset or broken ring, see log)"
		: rc == -ENOTCONN ? "device disconnected" : strerror(-rc));
	return EXIT_FAIL;
}

/* ---- latency histogram (log-linear, ~1.6% buckets) ------------------- */

#define HIST_SUB_BITS 6
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_BUCKETS  (2 * HIST_SUB + (63 - HIST_SUB_BITS - 1) * HIST_SUB)

struct hist {
	uint64_t n, min, max;
	uint64_t b[HIST_BUCKETS];
};

static unsigned hist_index(uint64_t v)
{
	unsigned msb, shift;

	if (v < 2 * HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	return 2 * HIST_SUB + (shift - 1) * HIST_SUB + (unsigned)((v >> shift) - HIST_SUB);
}

static uint64_t hist_value(unsigned i)
{
	unsigned shift;

	if (i < 2 * HIST_SUB)
		return i;
	shift = (i - 2 * HIST_SUB) / HIST_SUB + 1;
	return (((uint64_t)(i % HIST_SUB) + HIST_SUB) << shift) + (UINT64_C(1) << shift) / 2;
}

static void hist_add(struct hist *h, uint64_t v)
{
	if (h->n == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->n++;
	h->b[hist_index(v)]++;
}

static uint64_t hist_pct(const struct hist *h, double p)
{
	uint64_t rank = (uint64_t)ceil(p * (double)h->n), seen = 0;

	if (rank == 0)
		rank = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t v = hist_value(i);

			return v < h->min ? h->min : v > h->max ? h->max : v;
		}
	}
	return h->max;
}

static void out_rtt(struct out *o, const struct hist *h)
{
	double us[4];

	out_key(o, "rtt_us");
	if (h->n == 0) {
		fputs(o->json ? "null" : "none", stdout);
		out_eol(o);
		return;
	}
	us[0] = (double)h->min / 1e3;
	us[1] = (double)hist_pct(h, 0.50) / 1e3;
	us[2] = (double)hist_pct(h, 0.99) / 1e3;
	us[3] = (double)h->max / 1e3;
	if (o->json)
		printf("{\"min\": %.1f, \"p50\": %.1f, \"p99\": %.1f, \"max\": %.1f}",
		       us[0], us[1], us[2], us[3]);
	else
		printf("min %.1f p50 %.1f p99 %.1f max %.1f", us[0], us[1], us[2], us[3]);
	out_eol(o);
}

/* ---- info ------------------------------------------------------------ */

static void out_feature_names(struct out *o, const char *key, uint64_t f)
{
	bool first = true;

	out_key(o, key);
	if (o->json)
		putchar('[');
	for (unsigned bit = 0; bit < 64; bit++) {
		const char *name = virtio_net_feature_name(bit);
		char unnamed[8];

		if (!(f & (UINT64_C(1) << bit)))
			continue;
		if (!name) {
			snprintf(unnamed, sizeof(unnamed), "bit%u", bit);
			name = unnamed;
		}
		if (o->json)
			printf("%s\"%s\"", first ? "" : ", ", name);
		else
			printf("%s%s", first ? "" : " ", name);
		first = false;
	}
	if (o->json)
		putchar(']');
	out_eol(o);
}

static void out_hex(struct out *o, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
	out_str(o, key, buf);
}

static void out_queues(struct out *o, const struct vnet_info *in)
{
	if (o->json) {
		out_key(o, "queues");
		putchar('[');
		for (unsigned i = 0; i < in->nqueues; i++) {
			const struct vnet_queue_info *q = &in->queues[i];

			printf("%s{\"name\": \"%s\", \"index\": %u, \"size\": %u, \"max_size\": %u, "
			       "\"msix_vector\": %d, \"kick\": \"%s\", \"buffer_size\": %u}",
			       i ? ", " : "", q->name, q->index, q->size, q->max_size,
			       q->vector == 0xffff ? -1 : (int)q->vector, q->kick, q->buf_size);
		}
		putchar(']');
		return;
	}
	out_u64(o, "queues", in->nqueues);
	for (unsigned i = 0; i < in->nqueues; i++) {
		const struct vnet_queue_info *q = &in->queues[i];

		out_key(o, q->name);
		printf("index %u size %u max %u vector ", q->index, q->size, q->max_size);
		if (q->vector == 0xffff)
			printf("none");
		else
			printf("%u", q->vector);
		printf(" kick %s buffer %u\n", q->kick, q->buf_size);
	}
}

static int cmd_info(struct cli *c, struct vnet_dev *d)
{
	struct vnet_info in;
	struct out o;
	char mac[18];

	vnet_dev_info(d, &in);
	out_begin(&o, c->json);
	out_str(&o, "transport", in.transport);
	if (in.mmio_loc)
		out_str(&o, "loc", in.mmio_loc);
	if (in.mmio_intr >= 0)
		out_u64(&o, "intr", (uint64_t)in.mmio_intr);
	out_str(&o, "ring", in.ring);
	out_hex(&o, "device_features", in.device_features);
	out_feature_names(&o, "device_feature_names", in.device_features);
	out_hex(&o, "driver_features", in.driver_features);
	out_feature_names(&o, "driver_feature_names", in.driver_features);
	out_queues(&o, &in);
	out_u64(&o, "device_queues", in.device_queues);
	out_u64(&o, "queue_size", in.queues[0].size);
	out_str(&o, "mac", opts_format_mac(in.mac, mac));
	out_str(&o, "mac_source", in.mac_from_device ? "device" : "random");
	if (o.json)
		out_bool(&o, "link_up", in.link_up);
	else
		out_str(&o, "link", in.link_up ? "up" : "down");
	out_str(&o, "link_source", in.link_reported ? "device" : "assumed");
	out_u64(&o, "mtu", in.mtu);
	out_str(&o, "mtu_source", in.mtu_from_device ? "device" : "default");
	out_u64(&o, "max_frame", in.max_tx_frame);
	out_str(&o, "interrupts", in.interrupts);
	out_u64(&o, "msix_vectors", in.msix_vectors);
	out_u64(&o, "net_header_bytes", in.hdr_len);
	out_bool(&o, "control_queue", in.has_ctrl);
	out_u64(&o, "ram_bytes", in.ram_size);
	out_u64(&o, "ram_used", in.ram_used);
	out_bool(&o, "needs_reset", in.needs_reset);
	out_end(&o);
	return EXIT_OK;
}

/* ---- pong ------------------------------------------------------------ */

static int cmd_pong(struct cli *c, struct vnet_dev *d)
{
	uint64_t answered = 0, ignored = 0, bad = 0, idle = secs_to_ns(c->timeout_s);
	uint64_t last = now_ns();
	struct vnet_frame rx[BURST], tx[BURST];
	uint8_t me[6];
	char mac[18];
	struct out o;
	int rc = 0;

	vnet_mac(d, me);
	if (!c->json) {
		printf("mac: %s\n", opts_format_mac(me, mac));
		fflush(stdout);
	}
	while (!stop_requested && !((c->given & O_COUNT) && answered >= c->count)) {
		int n = vnet_rx_burst(d, rx, BURST);
		unsigned m = 0;

		if (n < 0) {
			rc = n;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct frame_info fi;
			int fr = frame_check(rx[i].data, rx[i].len, &fi);

			/* A PING whose payload is damaged is still echoed: the
			 * pinger then sees (and counts) the corruption. */
			if (fr != FRAME_OK && fr != FRAME_E_CONTENT) {
				if (fr == FRAME_E_TYPE)
					ignored++;
				else
					bad++;
				continue;
			}
			if (fr == FRAME_E_CONTENT)
				bad++;
			if (fi.kind != FRAME_PING || !mac_eq(fi.dst, me) ||
			    ((c->given & O_COUNT) && answered + m >= c->count)) {
				ignored++;
				continue;
			}
			frame_make_reply(rx[i].data, me);
			tx[m++] = (struct vnet_frame){ rx[i].data, rx[i].len, NULL };
		}
		if (m) {
			rc = send_all(d, tx, m, c->timeout_s);
			if (rc < 0)
				break;
			answered += (unsigned)rc;
			rc = 0;
		}
		if (n > 0) {
			last = now_ns();
			continue;
		}
		if (idle != UINT64_MAX && now_ns() - last >= idle)
			break;
		rc = vnet_wait(d, 100);
		if (rc < 0 && rc != -EINTR)
			break;
		rc = 0;
	}
	vnet_tx_drain(d, DRAIN_MS);
	out_begin(&o, c->json);
	if (c->json)
		out_str(&o, "mac", opts_format_mac(me, mac));
	out_u64(&o, "answered", answered);
	out_u64(&o, "ignored", ignored);
	out_u64(&o, "corrupted", bad);
	out_counters(&o, d);
	out_end(&o);
	if (rc < 0)
		return device_error("pong", rc);
	return (c->given & O_COUNT) && answered < c->count ? EXIT_FAIL : EXIT_OK;
}

/* ---- ping ------------------------------------------------------------ */

struct ping_slot {
	uint64_t seq;
	uint64_t sent_ns;
	bool busy;
};

struct ping_state {
	struct ping_slot slot[PING_SLOTS];
	uint64_t sent, received, lost, corrupted, unexpected;
	uint64_t oldest;		/* lowest seq possibly still in flight */
	unsigned inflight;
	struct hist rtt;
};

/* Requests older than the reply deadline are lost; they are expired in
 * sequence order, so the window slides past them. */
static void ping_expire(struct ping_state *s, uint64_t now, bool all)
{
	while (s->oldest < s->sent) {
		struct ping_slot *sl = &s->slot[s->oldest % PING_SLOTS];

		if (sl->busy && sl->seq == s->oldest) {
			if (!all && now - sl->sent_ns < PING_REPLY_NS)
				break;
			sl->busy = false;
			s->inflight--;
			s->lost++;
		}
		s->oldest++;
	}
}

static void ping_reply(struct ping_state *s, const struct vnet_frame *f,
		       const uint8_t me[6])
{
	struct frame_info fi;
	int rc = frame_check(f->data, f->len, &fi);
	struct ping_slot *sl;

	if (rc == FRAME_E_TYPE)
		return;			/* not a test frame */
	if (rc != FRAME_OK && rc != FRAME_E_CONTENT) {
		s->corrupted++;		/* cannot even tell which request */
		return;
	}
	if (fi.kind != FRAME_PONG || !mac_eq(fi.dst, me))
		return;
	sl = &s->slot[fi.seq % PING_SLOTS];
	if (!sl->busy || sl->seq != fi.seq || fi.seq >= s->sent) {
		s->unexpected++;	/* duplicate, or after its deadline */
		return;
	}
	sl->busy = false;
	s->inflight--;
	s->received++;
	if (rc == FRAME_E_CONTENT)
		s->corrupted++;
	else
		hist_add(&s->rtt, now_ns() - sl->sent_ns);
}

static int cmd_ping(struct cli *c, struct vnet_dev *d)
{
	uint64_t count = (c->given & O_COUNT) ? c->count : 10;
	uint32_t size = (c->given & O_SIZE) ? c->size : FRAME_MIN_LEN;
	uint64_t idle = secs_to_ns(c->timeout_s), interval = c->interval_us * 1000u;
	uint64_t next_send, last_progress;
	struct ping_state *s = calloc(1, sizeof(*s));
	uint8_t (*buf)[FRAME_MAX_LEN] = NULL;
	struct vnet_frame rx[BURST], tx[BURST];
	uint8_t me[6], dst[6];
	struct out o;
	int rc = 0, ret;

	if (size < FRAME_MIN_LEN)
		size = FRAME_MIN_LEN;
	if (!s || opts_parse_mac(c->mac_arg, dst) < 0) {
		free(s);
		return bad_usage("ping: '%s' is not a unicast MAC address", c->mac_arg);
	}
	if (size > vnet_max_tx_frame(d)) {
		free(s);
		return bad_usage("--size %u exceeds the link's largest frame (%u bytes)",
				 size, vnet_max_tx_frame(d));
	}
	buf = malloc((size_t)BURST * FRAME_MAX_LEN);
	if (!buf) {
		free(s);
		return EXIT_SETUP;
	}
	vnet_mac(d, me);
	ret = link_or_fail(d, c->timeout_s);
	if (ret != EXIT_OK)
		goto out;
	next_send = last_progress = now_ns();
	while (!stop_requested && (s->sent < count || s->inflight > 0)) {
		uint64_t now = now_ns();
		unsigned m = 0;
		int n;

		/* Send what the window and the pacing allow, as one burst. */
		while (s->sent + m < count && s->inflight + m < c->window && m < BURST &&
		       now >= next_send) {
			uint64_t seq = s->sent + m;
			int len = frame_build_ts(buf[m], size, dst, me, FRAME_PING, seq, now);

			tx[m] = (struct vnet_frame){ buf[m], (uint32_t)len, NULL };
			m++;
			if (interval) {
				next_send = now + interval;
				break;
			}
		}
		if (m) {
			rc = vnet_tx_burst(d, tx, m);
			if (rc < 0)
				break;
			for (int i = 0; i < rc; i++) {
				struct ping_slot *sl = &s->slot[s->sent % PING_SLOTS];

				*sl = (struct ping_slot){ s->sent, now, true };
				s->sent++;
				s->inflight++;
			}
			rc = 0;
		}
		n = vnet_rx_burst(d, rx, BURST);
		if (n < 0) {
			rc = n;
			break;
		}
		for (int i = 0; i < n; i++)
			ping_reply(s, &rx[i], me);
		now = now_ns();
		if (n > 0)
			last_progress = now;
		ping_expire(s, now, false);
		if (idle != UINT64_MAX && now - last_progress >= idle)
			break;
		if (n == 0 && (s->inflight >= c->window || s->sent >= count || now < next_send)) {
			int ms = 10;

			if (s->sent < count && s->inflight < c->window && next_send > now)
				ms = (int)((next_send - now) / 1000000u);
			rc = vnet_wait(d, ms);
			if (rc < 0 && rc != -EINTR)
				break;
			rc = 0;
		}
	}
	ping_expire(s, now_ns(), true);
	out_begin(&o, c->json);
	out_u64(&o, "sent", s->sent);
	out_u64(&o, "received", s->received);
	out_u64(&o, "lost", s->lost);
	out_u64(&o, "corrupted", s->corrupted);
	out_u64(&o, "unexpected", s->unexpected);
	out_u64(&o, "size", size);
	out_u64(&o, "window", c->window);
	out_rtt(&o, &s->rtt);
	out_counters(&o, d);
	out_end(&o);
	if (rc < 0)
		ret = device_error("ping", rc);
	else
		ret = s->lost || s->corrupted || s->sent < count ? EXIT_FAIL : EXIT_OK;
out:
	free(buf);
	free(s);
	return ret;
}

/* ---- send ------------------------------------------------------------ */

static void out_rate(struct out *o, uint64_t frames, uint64_t bytes, double secs)
{
	out_u64(o, "frames", frames);
	out_u64(o, "bytes", bytes);
	out_f(o, "seconds", secs, 6);
	out_f(o, "mframes_per_s", secs > 0 ? (double)frames / secs / 1e6 : 0, 3);
	out_f(o, "gbit_per_s", secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0, 3);
}

/* --reset-after: the device is reset mid-stream (2.4) and brought back;
 * the stream goes on once the link is up again. */
static int reset_device(struct cli *c, struct vnet_dev *d, const char *who)
{
	int rc = vnet_dev_reset(d);

	if (rc < 0) {
		fprintf(stderr, "vnet-guest: %s: device reset failed: %s\n", who,
			strerror(-rc));
		return rc;
	}
	return link_or_fail(d, c->timeout_s) == EXIT_OK ? 0 : -ENOLINK;
}

static int cmd_send(struct cli *c, struct vnet_dev *d)
{
	bool by_time = c->given & O_SECONDS;
	uint64_t count = (c->given & O_COUNT) ? c->count : by_time ? UINT64_MAX : 1000;
	uint32_t size = (c->given & O_SIZE) ? c->size : VNET_ETH_MAX_FRAME;
	uint64_t sent = 0, bytes = 0, start, end, stop_at, stall;
	uint64_t next_reset = c->reset_after ? c->reset_after : UINT64_MAX;
	uint8_t (*buf)[FRAME_MAX_LEN];
	struct vnet_frame tx[BURST];
	uint8_t me[6], dst[6];
	unsigned have = 0, first = 0;
	struct out o;
	int rc = 0, ret;

	if (size < FRAME_MIN_LEN)
		size = FRAME_MIN_LEN;
	if (opts_parse_mac(c->mac_arg, dst) < 0)
		return bad_usage("send: '%s' is not a unicast MAC address", c->mac_arg);
	if (size > vnet_max_tx_frame(d))
		return bad_usage("--size %u exceeds the link's largest frame (%u bytes)",
				 size, vnet_max_tx_frame(d));
	buf = malloc((size_t)BURST * FRAME_MAX_LEN);
	if (!buf)
		return EXIT_SETUP;
	vnet_mac(d, me);
	ret = link_or_fail(d, c->timeout_s);
	if (ret != EXIT_OK) {
		free(buf);
		return ret;
	}
	start = now_ns();
	stop_at = by_time ? start + secs_to_ns(c->seconds) : UINT64_MAX;
	stall = start;
	while (!stop_requested && (sent < count || have > first)) {
		uint64_t now;

		/* Refill the staging burst once it has all been queued. */
		if (first == have) {
			first = have = 0;
			while (have < BURST && sent + have < count) {
				int len = frame_build(buf[have], size, dst, me, FRAME_DATA,
						      c->first_seq + sent + have);

				tx[have] = (struct vnet_frame){ buf[have], (uint32_t)len, NULL };
				have++;
			}
		}
		rc = vnet_tx_burst(d, tx + first, have - first);
		if (rc < 0)
			break;
		for (int i = 0; i < rc; i++)
			bytes += tx[first + (unsigned)i].len;
		first += (unsigned)rc;
		sent += (unsigned)rc;
		rc = 0;
		if (sent >= next_reset && sent < count) {
			/* Let the device take what is queued first, so the
			 * reset loses nothing (3.3: nothing in flight after). */
			rc = vnet_tx_drain(d, DRAIN_MS);
			if (rc == 0)
				rc = reset_device(c, d, "send");
			if (rc < 0)
				break;
			next_reset += c->reset_after;
			stall = now_ns();
		}
		now = now_ns();
		if (now >= stop_at) {
			count = sent;	/* time is up: drop the staged rest */
			break;
		}
		if (first < have) {
			if (now - stall > secs_to_ns(c->timeout_s > 0 ? c->timeout_s : 10)) {
				rc = -ETIMEDOUT;
				break;
			}
			rc = vnet_wait(d, 100);
			if (rc < 0 && rc != -EINTR)
				break;
			rc = 0;
		} else {
			stall = now;
		}
	}
	/* The rate counts frames the device has taken, not just queued. */
	if (rc == 0)
		rc = vnet_tx_drain(d, DRAIN_MS);
	end = now_ns();
	out_begin(&o, c->json);
	out_rate(&o, sent, bytes, (double)(end - start) / 1e9);
	out_u64(&o, "size", size);
	out_counters(&o, d);
	out_end(&o);
	free(buf);
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "vnet-guest: send: transmit stalled (the device takes no frames)\n");
		return EXIT_FAIL;
	}
	if (rc < 0 && rc != -EINTR)
		return device_error("send", rc);
	return stop_requested || sent < count ? EXIT_FAIL : EXIT_OK;
}

/* ---- recv ------------------------------------------------------------ */

/* Sequence accounting: next = highest seq seen + 1; a bitmap remembers
 * the last SEQ_WINDOW seqs so a late frame is told from a duplicate. */
struct seqtrack {
	uint64_t next;
	uint64_t bits[SEQ_WINDOW / 64];
	uint64_t gaps, dups, late;
};

static bool seq_test_set(struct seqtrack *t, uint64_t seq)
{
	uint64_t *w = &t->bits[(seq % SEQ_WINDOW) / 64], m = UINT64_C(1) << (seq % 64);
	bool was = *w & m;

	*w |= m;
	return was;
}

static void seq_clear(struct seqtrack *t, uint64_t seq)
{
	t->bits[(seq % SEQ_WINDOW) / 64] &= ~(UINT64_C(1) << (seq % 64));
}

/* Returns true for a frame seen for the first time. */
static bool seq_account(struct seqtrack *t, uint64_t seq)
{
	if (seq >= t->next) {
		uint64_t gap = seq - t->next;

		t->gaps += gap;
		if (gap >= SEQ_WINDOW)
			memset(t->bits, 0, sizeof(t->bits));
		else
			for (uint64_t s = t->next; s < seq; s++)
				seq_clear(t, s);
		seq_clear(t, seq);
		seq_test_set(t, seq);
		t->next = seq + 1;
		return true;
	}
	if (t->next - seq <= SEQ_WINDOW && seq_test_set(t, seq)) {
		t->dups++;
		return false;
	}
	/* Late: it was counted as a gap when later seqs arrived. */
	t->late++;
	if (t->gaps)
		t->gaps--;
	return true;
}

static int cmd_recv(struct cli *c, struct vnet_dev *d)
{
	bool want_count = c->given & O_COUNT;
	uint64_t idle = secs_to_ns(c->timeout_s), last = now_ns(), first_ns = 0, last_ns = 0;
	uint64_t frames = 0, bytes = 0, errors = 0, other = 0, lost;
	uint64_t next_reset = c->reset_after ? c->reset_after : UINT64_MAX;
	uint64_t resets = 0, after_reset = 0, dups;
	struct seqtrack *t = calloc(1, sizeof(*t));
	struct vnet_frame rx[BURST];
	struct out o;
	int rc = 0;

	if (!t)
		return EXIT_SETUP;
	while (!stop_requested && !(want_count && frames >= c->count)) {
		int n = vnet_rx_burst(d, rx, BURST);

		if (n < 0) {
			rc = n;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct frame_info fi;
			int fr = frame_check(rx[i].data, rx[i].len, &fi);

			if (fr == FRAME_E_TYPE || (fr == FRAME_OK && fi.kind != FRAME_DATA)) {
				other++;
				continue;
			}
			if (fr != FRAME_OK) {
				errors++;
				continue;
			}
			if (!seq_account(t, fi.seq))
				continue;
			frames++;
			after_reset += resets > 0;
			bytes += rx[i].len;
			last_ns = now_ns();
			if (!first_ns)
				first_ns = last_ns;
		}
		if (frames >= next_reset) {
			/* Frames handed out above are invalid after this. */
			rc = reset_device(c, d, "recv");
			if (rc < 0)
				break;
			resets++;
			next_reset += c->reset_after;
			last = now_ns();
			continue;
		}
		if (n > 0) {
			last = now_ns();
			continue;
		}
		if (idle != UINT64_MAX && now_ns() - last >= idle)
			break;
		rc = vnet_wait(d, 100);
		if (rc < 0 && rc != -EINTR)
			break;
		rc = 0;
	}
	lost = t->gaps;
	if (want_count && t->next < c->count)
		lost += c->count - t->next;	/* the tail never came */
	out_begin(&o, c->json);
	out_rate(&o, frames, bytes, first_ns ? (double)(last_ns - first_ns) / 1e9 : 0);
	out_u64(&o, "lost", lost);
	out_u64(&o, "duplicates", t->dups);
	out_u64(&o, "out_of_order", t->late);
	out_u64(&o, "content_errors", errors);
	out_u64(&o, "other_frames", other);
	if (c->reset_after)
		out_u64(&o, "frames_after_reset", after_reset);
	out_counters(&o, d);
	out_end(&o);
	dups = t->dups;
	free(t);
	if (rc < 0)
		return device_error("recv", rc);
	if (errors || dups)
		return EXIT_FAIL;
	/* A reset drops what arrived while the device was down (counted in
	 * lost): success is the stream coming back, intact. */
	if (c->reset_after)
		return resets > 0 && after_reset > 0 ? EXIT_OK : EXIT_FAIL;
	if (want_count)
		return frames >= c->count ? EXIT_OK : EXIT_FAIL;
	return frames > 0 && lost == 0 ? EXIT_OK : EXIT_FAIL;
}

/* ---- tap --------------------------------------------------------------- */

static int cmd_tap(struct cli *c, struct vnet_dev *d)
{
	c->tap.ifname = c->ifname;
	c->tap.seconds = (c->given & O_SECONDS) ? c->seconds : 0;
	return tap_bridge_run(d, &c->tap, &stop_requested);
}

/* ---- main ------------------------------------------------------------ */

static const struct command commands[] = {
	{ "info", 0, false, false, cmd_info },
	{ "pong", O_COUNT | O_TIMEOUT, false, false, cmd_pong },
	{ "ping", O_COUNT | O_SIZE | O_TIMEOUT | O_INTERVAL | O_WINDOW, true, false, cmd_ping },
	{ "send", O_COUNT | O_SIZE | O_SECONDS | O_TIMEOUT | O_RESET | O_FIRSTSEQ, true, false,
	  cmd_send },
	{ "recv", O_COUNT | O_TIMEOUT | O_RESET, false, false, cmd_recv },
	{ "tap", O_NETNS | O_ADDR | O_SECONDS, false, true, cmd_tap },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct vnet_dev *d;
	struct cli c = { 0 };
	int rc;

	log_set_prefix("vnet-guest");
	rc = parse_cli(&c, argc, argv);
	if (rc || !c.command)
		return rc ? rc : EXIT_SETUP;
	/* No SA_RESTART: a signal ends the ppoll in vnet_wait at once. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (vnet_dev_open(&d, &c.dp) < 0)
		return EXIT_SETUP;	/* the library said why */
	if (c.rx_mode != RXM_DEFAULT) {
		rc = vnet_ctrl_rx_mode(d, VNET_RX_PROMISC, c.rx_mode == RXM_PROMISC);
		if (rc < 0) {
			fprintf(stderr, "vnet-guest: cannot set the RX mode: %s%s\n",
				strerror(-rc), rc == -ENOTSUP ?
				" (the device offers no CTRL_VQ/CTRL_RX)" : "");
			vnet_dev_close(d);
			return EXIT_SETUP;
		}
	}
	rc = c.command->run(&c, d);
	vnet_dev_close(d);	/* resets the device: the vdev is free again */
	return rc;
}
