// SPDX-License-Identifier: MIT
/*
 * cli.c - vnet-guest's command line: the usage text, the options (global
 * ones into struct vnet_dev_params, per-command ones checked against
 * what the command allows) and the command table.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/netlink.h"
#include "common/mac.h"
#include "guest/frame.h"
/* --ram takes guest RAM's own size syntax and limits, checked before the
 * device is opened: guest_mem.h is private to the library, and the only
 * private header the tool includes. */
#include "guest/guest_mem.h"
#include "guest/tool/tool.h"

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
		"  ping [--count N] [--size B] [--timeout S] [--interval-us U] [--window W]\n"
		"       [--flows F] MAC\n"
		"                                echo requests (default 10 of 60 bytes, up to\n"
		"                                W=16 in flight); checks every reply\n"
		"  send [--count N] [--size B] [--seconds S] [--timeout S] [--reset-after N]\n"
		"       [--first-seq N] [--flows F] MAC\n"
		"                                a checkable stream (default 1000 x 1514 bytes)\n"
		"                                --flows F: frames are IPv4/UDP datagrams of F\n"
		"                                flows (source ports), so multiqueue spreads\n"
		"                                them (default 4 per queue pair with --queues)\n"
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
		"  --hugepages        guest RAM on huge pages (whole ones; refused when\n"
		"                     too few are free: see /proc/sys/vm/nr_hugepages)\n"
		"  --queue-size N     ring size (power of two; default device max, at most 256)\n"
		"  --queues N         use N receive/transmit queue pairs (VIRTIO_NET_F_MQ;\n"
		"                     1..8, at most what the device has; flows spread over\n"
		"                     them by their addresses and ports)\n"
		"  --rss              with --queues, steer received flows by RSS\n"
		"                     (VIRTIO_NET_F_RSS: the default key, every IP flow\n"
		"                     type, a table over the pairs)\n"
		"  --rss-table Q,...  --rss with this indirection table: queue pairs from 0,\n"
		"                     a power of two of them (frames without a flow go to\n"
		"                     the first entry's)\n"
		"  --hash-report      the device reports each received frame's RSS hash\n"
		"                     (VIRTIO_NET_F_HASH_REPORT; every IP type, the default\n"
		"                     key); recv counts frames per reported type and\n"
		"                     checks each hash against the library's own\n"
		"  --hash-types T,... --hash-report with these types: ipv4, tcpv4, udpv4,\n"
		"                     ipv6, tcpv6, udpv6, or none\n"
		"  --offloads         accept checksum/TSO offloads the device offers\n"
		"  --no-packed        decline packed rings (accepted by default)\n"
		"  --no-event-idx     decline VIRTIO_F_RING_EVENT_IDX\n"
		"  --no-indirect      decline VIRTIO_F_RING_INDIRECT_DESC\n"
		"  --no-in-order      decline VIRTIO_F_IN_ORDER\n"
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
		"  --coalesce-rx FRAMES,USECS, --coalesce-tx FRAMES,USECS\n"
		"                     the device holds a receive / transmit interrupt until\n"
		"                     FRAMES were used or USECS passed (NOTF_COAL; 0 = off)\n"
		"  --reset-after N    send/recv: reset the device after N frames and go on\n"
		"  --move-to SOCKET, --move-after N\n"
		"                     send/recv: after N frames, move the device to the\n"
		"                     vnet-host serving SOCKET (started with --incoming) and\n"
		"                     go on; the driver does not reset\n"
		"  --busy-poll US     spin this long before sleeping on interrupts\n"
		"  --json             print one JSON object\n"
		"  -v                 debug logging\n"
		"  --version          print \"vnet-guest VERSION\" (alone on the line)\n"
		"\n"
		"exit status: 0 ok, 1 test failed (loss, corruption, link down),\n"
		"             2 usage or setup error\n");
}

static bool parse_u64(const char *s, uint64_t *v, int base)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*v = strtoull(s, &end, base);
	return errno == 0 && *end == '\0';
}

/* "FRAMES,USECS", each a 32-bit count. */
static bool parse_coalesce(const char *s, uint32_t *frames, uint32_t *usecs)
{
	const char *comma = strchr(s, ',');
	char first[24];
	uint64_t f, u;

	if (!comma || (size_t)(comma - s) >= sizeof(first))
		return false;
	memcpy(first, s, (size_t)(comma - s));
	first[comma - s] = '\0';
	if (!parse_u64(first, &f, 10) || !parse_u64(comma + 1, &u, 10) ||
	    f > UINT32_MAX || u > UINT32_MAX)
		return false;
	*frames = (uint32_t)f;
	*usecs = (uint32_t)u;
	return true;
}

/* "Q[,Q...]": queue pairs 0..VNET_MAX_PAIRS-1, a power of two of them
 * up to VNET_RSS_TABLE_MAX (an RSS indirection table, 5.1.6.5.7.1). */
static bool parse_rss_table(const char *s, uint16_t *table, unsigned *len)
{
	char buf[8];

	*len = 0;
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		uint64_t q;

		if (n == 0 || n >= sizeof(buf) || *len == VNET_RSS_TABLE_MAX)
			return false;
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (!parse_u64(buf, &q, 10) || q >= VNET_MAX_PAIRS)
			return false;
		table[(*len)++] = (uint16_t)q;
		s += n + (comma ? 1 : 0);
		if (comma && !*s)
			return false;
	}
	return *len && !(*len & (*len - 1));
}

static bool parse_secs(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno == 0 && *end == '\0' && end != s && *v >= 0 && *v < 1e9;
}

static const struct command *const commands[] = {
	&command_info, &command_pong, &command_ping, &command_send, &command_recv,
	&command_tap,
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

int parse_cli(struct cli *c, int argc, char **argv)
{
	enum { L_SOCKET = 256, L_RAM, L_QSIZE, L_QUEUES, L_RSS, L_RSSTABLE, L_COUNT, L_SIZE, L_TIMEOUT,
	       L_INTERVAL, L_SECONDS, L_WINDOW, L_BUSY, L_DECLINE, L_OFFLOADS,
	       L_PACKED, L_NOIRQ, L_JSON, L_NOPACKED, L_NOEVIDX, L_NOINDIRECT, L_NOINORDER,
	       L_NOMRG, L_INTX, L_LOC, L_INTR, L_PROMISC, L_NOPROMISC, L_COAL_RX, L_COAL_TX,
	       L_RESET, L_MOVE_TO, L_MOVE_AFTER,
	       L_FIRSTSEQ, L_FLOWS, L_NETNS, L_ADDR, L_HUGE, L_HASH, L_HASHTYPES };
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, L_SOCKET },
		{ "ram", required_argument, NULL, L_RAM },
		{ "hugepages", no_argument, NULL, L_HUGE },
		{ "queue-size", required_argument, NULL, L_QSIZE },
		{ "queues", required_argument, NULL, L_QUEUES },
		{ "rss", no_argument, NULL, L_RSS },
		{ "rss-table", required_argument, NULL, L_RSSTABLE },
		{ "hash-report", no_argument, NULL, L_HASH },
		{ "hash-types", required_argument, NULL, L_HASHTYPES },
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
		{ "no-in-order", no_argument, NULL, L_NOINORDER },
		{ "no-mrg-rxbuf", no_argument, NULL, L_NOMRG },
		{ "intx", no_argument, NULL, L_INTX },
		{ "loc", required_argument, NULL, L_LOC },
		{ "intr", required_argument, NULL, L_INTR },
		{ "promisc", no_argument, NULL, L_PROMISC },
		{ "no-promisc", no_argument, NULL, L_NOPROMISC },
		{ "coalesce-rx", required_argument, NULL, L_COAL_RX },
		{ "coalesce-tx", required_argument, NULL, L_COAL_TX },
		{ "reset-after", required_argument, NULL, L_RESET },
		{ "move-to", required_argument, NULL, L_MOVE_TO },
		{ "move-after", required_argument, NULL, L_MOVE_AFTER },
		{ "first-seq", required_argument, NULL, L_FIRSTSEQ },
		{ "flows", required_argument, NULL, L_FLOWS },
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
		case L_HUGE: c->dp.hugepages = true; break;
		case L_RSS: c->dp.want_rss = true; break;
		case L_RSSTABLE:
			if (!parse_rss_table(optarg, c->rss_table, &c->rss_table_len))
				return bad_usage("--rss-table %s: expected queue pairs 0..%u, comma-separated, a power of two of them up to %u",
						 optarg, VNET_MAX_PAIRS - 1, VNET_RSS_TABLE_MAX);
			c->dp.want_rss = true;
			break;
		case L_HASH: c->dp.want_hash_report = true; break;
		case L_HASHTYPES:
			if (hash_types_parse(optarg, &c->hash_types) < 0)
				return bad_usage("--hash-types %s: expected ipv4, tcpv4, udpv4, ipv6, tcpv6, udpv6 comma-separated, or none",
						 optarg);
			c->hash_types_given = true;
			c->dp.want_hash_report = true;
			break;
		case L_QSIZE:
			if (!parse_u64(optarg, &v, 10) || v == 0 || v > 32768)
				return bad_usage("--queue-size %s: expected 1..32768", optarg);
			c->dp.queue_size = (unsigned)v;
			break;
		case L_QUEUES:
			if (!parse_u64(optarg, &v, 10) || v == 0 || v > VNET_MAX_PAIRS)
				return bad_usage("--queues %s: expected 1..%u queue pairs", optarg,
						 VNET_MAX_PAIRS);
			c->dp.queue_pairs = (unsigned)v;
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
		case L_NOINORDER:
			c->dp.decline_features |= VIRTIO_BIT(VIRTIO_F_IN_ORDER);
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
		case L_COAL_RX:
		case L_COAL_TX: {
			unsigned dir = o == L_COAL_TX ? VNET_TX : VNET_RX;

			if (!parse_coalesce(optarg, &c->coal[dir].max_packets,
					    &c->coal[dir].max_usecs))
				return bad_usage("--coalesce-%s %s: expected FRAMES,USECS (like 32,50)",
						 dir == VNET_TX ? "tx" : "rx", optarg);
			c->coal[dir].given = true;
			break;
		}
		case L_MOVE_TO:
			c->move_to = optarg;
			c->given |= O_MOVE;
			break;
		case L_MOVE_AFTER:
			if (!parse_u64(optarg, &c->move_after, 10) || c->move_after == 0)
				return bad_usage("--move-after %s: expected a positive frame count",
						 optarg);
			c->given |= O_MOVE;
			break;
		case L_RESET:
			if (!parse_u64(optarg, &c->reset_after, 10) || c->reset_after == 0)
				return bad_usage("--reset-after %s: expected a positive frame count",
						 optarg);
			c->given |= O_RESET;
			break;
		case L_FLOWS:
			if (!parse_u64(optarg, &v, 10) || v > FRAME_FLOWS_MAX)
				return bad_usage("--flows %s: expected 0..%u (0: plain frames)", optarg,
						 FRAME_FLOWS_MAX);
			c->flows = (unsigned)v;
			c->given |= O_FLOWS;
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

			if (c->tap.n_addrs >= TAP_BRIDGE_MAX_ADDRS)
				return bad_usage("--addr: at most %d addresses", TAP_BRIDGE_MAX_ADDRS);
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
		char why[160];

		if (optind >= argc)
			return bad_usage("%s needs the destination MAC", c->cmd);
		c->mac_arg = argv[optind++];
		/* A usage error is told before the device is even reached. */
		if (mac_parse(c->mac_arg, c->dst, why, sizeof(why)) < 0)
			return bad_usage("%s: '%s' %s", c->cmd, c->mac_arg, why);
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
			"--first-seq", "--netns", "--addr", "--flows", "--move-to" };
		unsigned bad = c->given & ~cmd->allowed;

		return bad_usage("%s does not apply to %s",
				 names[__builtin_ctz(bad)], c->cmd);
	}
	if ((c->given & O_MOVE) && (!c->move_to || !c->move_after))
		return bad_usage("--move-to SOCKET and --move-after N go together");
	if (!c->socket)
		return bad_usage("--socket PATH is required");
	c->dp.socket_path = c->socket;
	return 0;
}
