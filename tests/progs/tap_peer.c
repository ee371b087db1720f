// SPDX-License-Identifier: MIT
/*
 * tap_peer - a scripted peer for a `vdev tap`: it joins the tap vdev's
 * peer link like another vdev would, sends COUNT records of one kind and
 * leaves.  The kinds are what a hostile or buggy peer could send:
 *
 *   good      Ethernet broadcast frames (ethertype 0x88b5, local
 *             experimental): the kernel must receive every one
 *   runt      a record the link allows but a TAP cannot take (a 10-byte
 *             frame, shorter than an Ethernet header): dropped and
 *             counted, link stays up
 *   bad-flags a header no sender may write (flags 0x80): the ring check
 *             latches the ring broken and the link is dropped
 *
 *   tap_peer --run-dir DIR --system S --name N --peer PATH
 *            --kind good|runt|bad-flags [--count N] [--timeout SEC]
 *
 * Exit 0 when the link came up and every record was published (what the
 * tap vdev made of them is for the test to check), 1 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/peer_ring.h"
#include "host/evloop.h"
#include "host/peer/link.h"

enum kind { K_GOOD, K_RUNT, K_BAD_FLAGS };

struct tp {
	struct evloop *ev;
	struct peer_link *link;
	enum kind kind;
	unsigned count, sent;
	bool up, done;
};

#define FRAME_LEN 60
#define RUNT_LEN  10

static uint32_t frame_len(const struct tp *p)
{
	return p->kind == K_RUNT ? RUNT_LEN : FRAME_LEN;
}

static void fill(struct tp *p, uint8_t *rec, unsigned seq)
{
	struct virtio_net_hdr_v1 h = { 0 };
	uint8_t *f = rec + sizeof(h);

	if (p->kind == K_BAD_FLAGS) {
		h.flags = 0x80;
	}
	memcpy(rec, &h, sizeof(h));
	memset(f, 0xff, 6);					/* broadcast */
	if (p->kind == K_RUNT)
		return;
	memcpy(f + 6, (const uint8_t[]){ 0x02, 0, 0, 0x7a, 0x70, 0x01 }, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (unsigned i = 14; i < frame_len(p); i++)
		f[i] = (uint8_t)(seq + i);
}

static void finish(void *arg)
{
	struct tp *p = arg;

	evloop_stop(p->ev);
}

static void send_some(struct tp *p)
{
	struct peer_ring_prod *r = peer_link_tx(p->link, 0);

	if (!r)
		return;
	while (p->sent < p->count) {
		uint32_t len = (uint32_t)sizeof(struct virtio_net_hdr_v1) + frame_len(p);
		uint8_t *rec = peer_ring_reserve(r, len);

		if (!rec)
			break;	/* full: the peer's doorbell brings us back */
		fill(p, rec, p->sent);
		peer_ring_commit(r, len);
		p->sent++;
	}
	peer_link_tx_publish(p->link, 0);
	if (p->sent == p->count && !p->done) {
		p->done = true;
		/* Let the tap vdev consume before we leave. */
		ev_timer(p->ev, 300, finish, p);
	}
}

static void on_up(void *arg)
{
	struct tp *p = arg;

	p->up = true;
	send_some(p);
}

static void on_down(void *arg, const char *why)
{
	struct tp *p = arg;

	printf("link down: %s\n", why);
	if (p->done)
		evloop_stop(p->ev);
}

static void on_rx(void *arg)
{
	struct tp *p = arg;
	struct peer_ring_cons *c = peer_link_rx(p->link, 0);
	const uint8_t *rec;
	uint32_t len;

	/* Drop whatever the host's stack sends us (IPv6 chatter). */
	while (c && peer_ring_peek(c, &rec, &len) > 0)
		peer_ring_consume(c);
	if (c)
		peer_link_rx_publish(p->link, 0);
	send_some(p);
}

static void on_features(void *arg, bool known, uint64_t f)
{
	(void)arg, (void)known, (void)f;
}

static void on_timeout(void *arg)
{
	struct tp *p = arg;

	fprintf(stderr, "tap_peer: timed out (link %s, %u of %u sent)\n",
		p->up ? "up" : "never up", p->sent, p->count);
	evloop_stop(p->ev);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "run-dir", required_argument, NULL, 'r' },
		{ "system", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "peer", required_argument, NULL, 'p' },
		{ "kind", required_argument, NULL, 'k' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct peer_link_cfg cfg = { .mac = { 0x02, 0, 0, 0x7a, 0x70, 0x01 } };
	struct tp p = { .count = 1 };
	struct peer_link_cbs cbs = { .arg = &p, .up = on_up, .down = on_down, .rx = on_rx,
				     .features = on_features };
	unsigned timeout = 10;
	int o;

	log_set_prefix("tap_peer");
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'r': cfg.run_dir = optarg; break;
		case 's': cfg.system = optarg; break;
		case 'n': cfg.name = optarg; break;
		case 'p': cfg.peer_path = optarg; break;
		case 'k':
			if (!strcmp(optarg, "good"))
				p.kind = K_GOOD;
			else if (!strcmp(optarg, "runt"))
				p.kind = K_RUNT;
			else if (!strcmp(optarg, "bad-flags"))
				p.kind = K_BAD_FLAGS;
			else
				return fprintf(stderr, "tap_peer: unknown kind %s\n", optarg), 2;
			break;
		case 'c': p.count = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': timeout = (unsigned)strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (!cfg.run_dir || !cfg.system || !cfg.name || !cfg.peer_path || !p.count ||
	    !timeout) {
		fprintf(stderr, "usage: tap_peer --run-dir DIR --system S --name N --peer PATH --kind K [--count N] [--timeout S]\n");
		return 2;
	}
	p.ev = evloop_new();
	if (!p.ev || peer_link_start(&p.link, p.ev, &cfg, &cbs) < 0)
		return 1;
	ev_timer(p.ev, timeout * 1000u, on_timeout, &p);
	evloop_run(p.ev);
	printf("sent: %u\n", p.sent);
	peer_link_stop(p.link);
	evloop_free(p.ev);
	return p.up && p.sent == p.count ? 0 : 1;
}
