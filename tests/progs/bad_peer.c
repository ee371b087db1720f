// SPDX-License-Identifier: MIT
/*
 * bad_peer - a hostile peer for the integration tests.  It connects to a
 * vdev's node like a real vdev (the project's own peer-link code, so the
 * handshake is right), and once the link is up breaks one rule of the
 * shared ring or of the socket protocol.  The victim must drop the link
 * with a logged reason and go on serving; bad_peer waits for that drop.
 *
 *   bad_peer --run-dir DIR --system SYS --name NAME --peer NODE
 *            --attack KIND [--timeout S] [--repeat N]
 *
 * --repeat N: after each drop, link again (the project's peer-link code
 * retries every 200 ms, ignoring any back-off) and attack again, N times
 * in all; prints "up_ms: T1 T2 ..." (when each link came up, ms after the
 * first), from which the test reads the victim's back-off.
 *
 * KIND, on our TX ring (the one the victim consumes):
 *   prod-past     producer index further ahead than the ring has slots
 *   prod-back     producer index moving backwards
 *   len-past-slot a record running past the end of the data area
 *   len-huge      a record longer than 64 KiB + header
 *   len-short     a record shorter than the net header
 *   off-misalign  a record offset that is not 64-byte aligned
 *   hdr-gso       a net header with an unknown gso_type
 *   hdr-csum      a checksum request pointing past the frame
 *   bell-flood    the victim's doorbell written without end
 * on the victim's TX ring (the one we consume):
 *   never-consume never consume, so the victim's ring stays full
 *   cons-past     consumer index ahead of what was produced
 * on the socket, instead of a real link:
 *   hello-version a hello of protocol version 99
 *   hello-size    a hello one byte short
 *   hello-geom    a hello announcing a ring of 3 descriptors
 *   hello-plain   an unaltered hello (without its fds): for the uid test,
 *                 where the victim must refuse before reading anything
 *
 * Exit 0 when the victim dropped the link (or refused the hello) within
 * the timeout, 1 when it did not, 2 on a setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/barrier.h"
#include "common/log.h"
#include "common/peer_ring.h"
#include "host/evloop.h"
#include "host/peer/hello.h"
#include "host/peer/link.h"
#include "host/peer/node.h"

struct ctx {
	struct evloop *ev;
	struct peer_link *l;
	const char *attack;
	bool up, attacked, dropped;
	unsigned repeat, rounds;	/* --repeat: attacks wanted / done */
	uint64_t first_up_ms;
	char up_ms[1024];		/* "T1 T2 ..." */
	char why[256];
	long flood_timer;
	uint64_t bells;
};

static void bell_peer_flood(void *arg)
{
	struct ctx *c = arg;

	c->flood_timer = 0;
	if (c->dropped)
		return;
	for (int i = 0; i < 20000; i++, c->bells++)
		peer_link_ring_peer(c->l, 0);
	c->flood_timer = ev_timer(c->ev, 1, bell_peer_flood, c);
}

/* One well-formed record, then the attack's edit of the shared header
 * or descriptor, published with a doorbell. */
static void attack_tx(struct ctx *c)
{
	struct peer_ring_prod *p = peer_link_tx(c->l, 0);
	struct peer_ring_hdr *h;
	uint32_t prod;
	uint8_t *rec;

	if (!p)
		return;
	h = p->hdr;
	rec = peer_ring_reserve(p, 12 + 60);
	if (!rec)
		return;
	memset(rec, 0, 12 + 60);
	memset(rec + 12, 0xff, 6);		/* broadcast */
	rec[12 + 12] = 0x88;
	rec[12 + 13] = 0xb5;
	peer_ring_commit(p, 12 + 60);
	prod = p->prod;
	if (!strcmp(c->attack, "prod-back")) {
		peer_link_tx_publish(c->l, 0);
		sleep(1);		/* the victim consumes it */
		store_release(&h->prod, prod - 1);
	} else if (!strcmp(c->attack, "prod-past")) {
		store_release(&h->prod, prod + p->desc_count + 5);
	} else {
		struct peer_ring_desc *d = &p->desc[(prod - 1) & p->mask];
		uint8_t *hdr = p->data + d->off;

		if (!strcmp(c->attack, "len-past-slot")) {
			d->off = p->data_size - PEER_RING_ALIGN;
			d->len = 4096;
		} else if (!strcmp(c->attack, "len-huge")) {
			d->len = PEER_RING_REC_MAX + 1;
		} else if (!strcmp(c->attack, "len-short")) {
			d->len = 4;
		} else if (!strcmp(c->attack, "off-misalign")) {
			d->off += 3;
		} else if (!strcmp(c->attack, "hdr-gso")) {
			hdr[1] = 0x7;			/* gso_type */
		} else if (!strcmp(c->attack, "hdr-csum")) {
			hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			hdr[6] = 200;			/* csum_start past 60 bytes */
		}
		store_release(&h->prod, prod);
	}
	peer_link_ring_peer(c->l, 0);
}

static void attack_rx(struct ctx *c)
{
	struct peer_ring_cons *r = peer_link_rx(c->l, 0);

	if (r && !strcmp(c->attack, "cons-past")) {
		store_release(&r->hdr->cons, load_acquire(&r->hdr->prod) + 100);
		peer_link_ring_peer(c->l, 0);
	}
	/* never-consume: nothing to do; the victim's watchdog must act. */
}

static void do_attack(void *arg)
{
	struct ctx *c = arg;

	if (c->attacked || !c->up)
		return;
	c->attacked = true;
	fprintf(stderr, "bad_peer: link up, attacking: %s\n", c->attack);
	if (!strcmp(c->attack, "bell-flood"))
		bell_peer_flood(c);
	else if (!strcmp(c->attack, "never-consume") || !strcmp(c->attack, "cons-past"))
		attack_rx(c);
	else
		attack_tx(c);
}

static void on_up(void *arg)
{
	struct ctx *c = arg;

	if (c->attacked) {
		/* The victim let a new hello start over: that is what it
		 * should do; we are done. */
		evloop_stop(c->ev);
		return;
	}
	c->up = true;
	if (!c->first_up_ms)
		c->first_up_ms = now_ms();
	if (c->repeat) {
		size_t n = strlen(c->up_ms);

		snprintf(c->up_ms + n, sizeof(c->up_ms) - n, "%s%llu", n ? " " : "",
			 (unsigned long long)(now_ms() - c->first_up_ms));
	}
	ev_timer(c->ev, 100, do_attack, c);
}

static void on_down(void *arg, const char *why)
{
	struct ctx *c = arg;

	if (!c->attacked)
		return;
	c->dropped = true;
	snprintf(c->why, sizeof(c->why), "%s", why);
	if (++c->rounds < c->repeat) {
		/* Again: the next link is attacked like the first. */
		c->attacked = false;
		return;
	}
	evloop_stop(c->ev);
}

static void on_rx(void *arg) { (void)arg; }

static void on_timeout(void *arg) { evloop_stop(((struct ctx *)arg)->ev); }

/* A raw hello on a fresh connection, no fds: the victim must refuse it
 * (close the connection) and stay up. */
static int hello_attack(const char *peer, const char *attack, int timeout_s)
{
	struct peer_hello h;
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0xba, 0xad, 1 };
	size_t len = sizeof(h);
	char buf[512];
	int fd, rc = peer_node_connect(peer, &fd);
	struct timeval tv = { timeout_s, 0 };

	if (rc < 0) {
		fprintf(stderr, "bad_peer: connect %s: %s\n", peer, strerror(-rc));
		return 2;
	}
	peer_hello_build(&h, "bad", "peer", "/nonexistent", mac, false, 0, 1, 1024,
			 8u << 20);
	if (!strcmp(attack, "hello-version"))
		h.hdr.version = 99;
	else if (!strcmp(attack, "hello-size"))
		len--;
	else if (!strcmp(attack, "hello-geom"))
		h.desc_count = 3;
	/* peer_node_connect gives a non-blocking socket; wait for real. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send(fd, &h, len, MSG_NOSIGNAL) < 0) {
		/* The victim may close before we get to say anything (the
		 * uid check comes first): that is a refusal too. */
		if (errno == EPIPE || errno == ECONNRESET) {
			printf("refused: connection closed by the victim before the hello\n");
			close(fd);
			return 0;
		}
		fprintf(stderr, "bad_peer: send: %s\n", strerror(errno));
		close(fd);
		return 2;
	}
	/* The victim sends its own hello first (unprompted), maybe a BYE,
	 * then closes: read until EOF. */
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n == 0) {
			printf("refused: connection closed by the victim\n");
			close(fd);
			return 0;
		}
		if (n < 0) {
			if (errno == ECONNRESET) {
				printf("refused: connection reset by the victim\n");
				close(fd);
				return 0;
			}
			printf("not refused: %s\n", strerror(errno));
			close(fd);
			return 1;
		}
		if ((size_t)n >= sizeof(struct peer_msg_hdr) &&
		    ((struct peer_msg_hdr *)buf)->type == PEER_MSG_READY) {
			printf("not refused: the victim said READY\n");
			close(fd);
			return 1;
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "run-dir", required_argument, NULL, 'r' },
		{ "system", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "peer", required_argument, NULL, 'p' },
		{ "attack", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "repeat", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0xba, 0xad, 2 };
	struct peer_link_cfg cfg = { 0 };
	struct peer_link_cbs cbs = { 0 };
	struct ctx c = { 0 };
	int timeout = 10, o, rc;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'r': cfg.run_dir = optarg; break;
		case 's': cfg.system = optarg; break;
		case 'n': cfg.name = optarg; break;
		case 'p': cfg.peer_path = optarg; break;
		case 'a': c.attack = optarg; break;
		case 't': timeout = atoi(optarg); break;
		case 'R': c.repeat = (unsigned)atoi(optarg); break;
		default: return 2;
		}
	}
	if (!cfg.run_dir || !cfg.system || !cfg.name || !cfg.peer_path || !c.attack ||
	    timeout <= 0) {
		fprintf(stderr, "usage: bad_peer --run-dir D --system S --name N --peer NODE --attack KIND\n");
		return 2;
	}
	log_set_prefix("bad_peer");
	if (!strncmp(c.attack, "hello-", 6))
		return hello_attack(cfg.peer_path, c.attack, timeout);
	memcpy(cfg.mac, mac, 6);
	cbs.arg = &c;
	cbs.up = on_up;
	cbs.down = on_down;
	cbs.rx = on_rx;
	c.ev = evloop_new();
	if (!c.ev)
		return 2;
	rc = peer_link_start(&c.l, c.ev, &cfg, &cbs);
	if (rc < 0) {
		fprintf(stderr, "bad_peer: cannot start the link: %s\n", strerror(-rc));
		evloop_free(c.ev);
		return 2;
	}
	ev_timer(c.ev, (unsigned)timeout * 1000u, on_timeout, &c);
	evloop_run(c.ev);
	if (c.repeat) {
		printf("rounds: %u\nup_ms: %s\n", c.rounds, c.up_ms);
		c.dropped = c.rounds >= c.repeat;
	}
	if (c.dropped)
		printf("dropped: %s\n", c.why);
	else
		printf("not dropped (%s)\n", c.attacked ? "attacked" : "link never came up");
	if (c.bells)
		printf("doorbells: %llu\n", (unsigned long long)c.bells);
	peer_link_stop(c.l);
	evloop_free(c.ev);
	return c.dropped ? 0 : 1;
}
