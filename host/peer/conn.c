// SPDX-License-Identifier: MIT
/*
 * conn.c - one peer connection from connect/accept to link: our hello,
 * the peer's hello checked, the one-link rule, READY, and the messages
 * of a live link.
 *
 * A connection ("conn") goes through these states:
 *
 *   HELLO     connected, our hello (with our fresh TX ring and doorbell)
 *             sent, waiting for the peer's
 *   DEFERRED  the peer's hello checked and its ring attached; not chosen
 *             yet (it may lose the duplicate rule to a connection still
 *             in handshake)
 *   CHOSEN    we sent READY: this is our link, waiting for the peer's
 *             READY
 *   UP        both READY: the link
 *
 * At most one conn is CHOSEN or UP (l->link).  settle() takes every
 * decision about DEFERRED connections, after each event, so the one-link
 * rule lives in one place.
 *
 * Re-entrancy (see link_priv.h): code after a callback checks `stopped`
 * and the conn's serial before it goes on.
 */
#include "host/peer/link_priv.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

/* Messages handled per socket event before yielding to other fds (the
 * level-triggered loop comes back for the rest). */
#define MSGS_PER_EVENT 16
/* Attempts at a fresh ring name when a generation is taken (leftovers of
 * an owner whose node we did not find stale). */
#define RING_NAME_TRIES 16

/* Did a callback stop the link or end this connection? */
static bool conn_gone(const struct peer_link *l, const struct peer_conn *c,
		      uint64_t serial)
{
	return l->stopped || c->serial != serial;
}

void peer_link_set_error(struct peer_link *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->last_error, sizeof(l->last_error), fmt, ap);
	va_end(ap);
}

/* ---- connection slots -------------------------------------------------- */

void peer_conn_release(struct peer_conn *c)
{
	struct peer_link *l = c->link;

	if (c->state == CONN_FREE)
		return;
	ev_timer_cancel(l->ev, c->hs_timer);
	ev_del(l->ev, &c->sock_h);
	if (c->sock >= 0)
		close(c->sock);
	for (unsigned k = 0; k < PEER_MAX_RING_PAIRS; k++) {
		struct peer_ring_pair *rp = &c->rp[k];

		ev_del(rp->bell_ev ? rp->bell_ev : l->ev, &rp->bell_h);
		rp->bell_ev = NULL;
		if (rp->bell >= 0)
			close(rp->bell);
		if (rp->peer_bell >= 0)
			close(rp->peer_bell);
		if (rp->tx_ok)
			peer_ring_prod_destroy(&rp->tx, true);
		if (rp->rx_ok)
			peer_ring_cons_detach(&rp->rx);
		rp->bell = rp->peer_bell = -1;
		rp->tx_ok = rp->rx_ok = false;
	}
	if (l->link == c) {
		peer_link_watch_stop(l);
		l->link = NULL;
	}
	c->state = CONN_FREE;
	c->peer_moving_ms = 0;
	c->serial = ++l->serial_seq;
}

void peer_conn_send_bye(struct peer_conn *c, const char *why)
{
	struct peer_bye bye;

	peer_bye_build(&bye, why);
	(void)peer_msg_send(c->sock, &bye, sizeof(bye), NULL, 0);
}

const char *peer_conn_label(const struct peer_conn *c)
{
	return c->peer_label[0] ? c->peer_label : "an unidentified peer";
}

/* Refuses a connection that is not the link: logged (the other side can
 * trigger this at will, hence rate-limited), told to the peer, closed. */
static void conn_refuse(struct peer_conn *c, const char *why)
{
	struct peer_link *l = c->link;

	log_rl(LOG_WARN, "%s/%s: refusing peer connection from %s: %s",
	       l->system, l->name, peer_conn_label(c), why);
	peer_link_set_error(l, "refused %s: %s", peer_conn_label(c), why);
	l->stats.refused++;
	peer_conn_send_bye(c, why);
	peer_conn_release(c);
}

/* ---- link up / down ---------------------------------------------------------- */

/* Ends the link (UP: with the down callback) or the chosen connection
 * that had not come up yet (quietly: nobody saw it up). */
void peer_link_down(struct peer_link *l, const char *why, bool tell_peer)
{
	struct peer_conn *c = l->link;
	uint32_t hold_ms;

	if (!c)
		return;
	if (c->state != CONN_UP) {
		log_debug("%s/%s: chosen connection with %s closed before ready: %s",
			  l->system, l->name, peer_conn_label(c), why);
		peer_link_set_error(l, "%s: %s", peer_conn_label(c), why);
		if (tell_peer)
			peer_conn_send_bye(c, why);
		peer_conn_release(c);
		peer_link_schedule_retry(l, PEER_RETRY_MS);
		return;
	}
	log_info("%s/%s: peer link with %s down: %s", l->system, l->name,
		 peer_conn_label(c), why);
	peer_link_set_error(l, "link with %s down: %s", peer_conn_label(c), why);
	if (tell_peer)
		peer_conn_send_bye(c, why);
	/* The peer's vdev moves on: what it did not take waits for its new
	 * process, and so does what our guest sends meanwhile. */
	hold_ms = c->peer_moving_ms;
	if (hold_ms)
		peer_carry_take(l, c);
	peer_conn_release(c);
	l->stats.links_down++;
	if (hold_ms && l->cbs.moving)
		l->cbs.moving(l->cbs.arg, hold_ms);
	if (l->cbs.down)
		l->cbs.down(l->cbs.arg, why);
	if (!l->stopped)
		peer_link_schedule_retry(l, PEER_RETRY_MS);
}

unsigned peer_link_backoff_left(const struct peer_link *l)
{
	uint64_t now = now_ms();

	return l->backoff_until_ms > now ? (unsigned)(l->backoff_until_ms - now) : 0;
}

void peer_link_fault(struct peer_link *l, uint64_t *counter, const char *rule)
{
	struct peer_conn *c = l->link;
	char why[PEER_WHY_MAX], bye[PEER_WHY_MAX];
	uint64_t now = now_ms();

	if (!c || c->state != CONN_UP)
		return;
	(*counter)++;
	/* Doubling from the first retry, back to it after a healthy link. */
	if (!l->backoff_ms || now - l->up_since_ms >= PEER_HEALTHY_MS)
		l->backoff_ms = PEER_RETRY_MS;
	else
		l->backoff_ms = l->backoff_ms * 2 > PEER_BACKOFF_MAX_MS ? PEER_BACKOFF_MAX_MS
									: l->backoff_ms * 2;
	l->backoff_until_ms = now + l->backoff_ms;
	log_rl(LOG_WARN, "%s/%s: peer %s broke a rule: %s; dropping the link, next one in %u ms",
	       l->system, l->name, c->peer_label, rule, l->backoff_ms);
	/* The peer reads it as "peer closed it: <bye>": its own fault. */
	snprintf(bye, sizeof(bye), "you broke a rule: %s", rule);
	peer_conn_send_bye(c, bye);
	snprintf(why, sizeof(why), "peer broke a rule: %s", rule);
	peer_link_down(l, why, false);
}

static void bell_event(struct ev_handler *h, uint32_t events);

static void go_up(struct peer_link *l, struct peer_conn *c)
{
	uint64_t serial = c->serial;
	int ret;

	/* Level-triggered: doorbells the peer rang before we got here fire
	 * right away. */
	for (unsigned k = 0; k < c->n_used; k++) {
		struct peer_ring_pair *rp = &c->rp[k];

		rp->idx = k;
		rp->bell_ev = l->cbs.bell_loop ? l->cbs.bell_loop(l->cbs.arg, k) : l->ev;
		ret = ev_add(rp->bell_ev, &rp->bell_h, rp->bell, EPOLLIN, bell_event);
		if (ret) {
			peer_link_down(l, "cannot watch the doorbell", true);
			return;
		}
	}
	ev_timer_cancel(l->ev, c->hs_timer);
	c->hs_timer = 0;
	c->state = CONN_UP;
	l->stats.links_up++;
	l->up_since_ms = now_ms();
	peer_link_watch_start(l);
	log_info("%s/%s: peer link up with %s (%s connection, %u ring pair%s)", l->system,
		 l->name, c->peer_label, c->outgoing ? "our" : "its", c->n_used,
		 c->n_used == 1 ? "" : "s");
	/* Frames held while the peer's vdev moved go first. */
	peer_carry_give(l, c);
	/* Our driver's RSS configuration, for the peer's device to steer by
	 * (off is news too: a previous link's may linger on the other side). */
	ret = peer_link_send_rss(l, c);
	if (ret)
		log_rl(LOG_WARN, "%s/%s: cannot send the RSS configuration: %s", l->system,
		       l->name, strerror(-ret));
	if (l->cbs.rss) {
		l->cbs.rss(l->cbs.arg, &c->peer_rss);
		if (conn_gone(l, c, serial))
			return;
	}
	if (l->cbs.features) {
		l->cbs.features(l->cbs.arg, c->peer.flags & PEER_F_FEATURES_KNOWN,
				c->peer.features);
		if (conn_gone(l, c, serial))
			return;
	}
	if (l->cbs.up)
		l->cbs.up(l->cbs.arg);
}

static void handshake_timeout(void *arg);
static void conn_lost(struct peer_conn *c, const char *why);

/* Chooses c for the link: READY to the peer; up once the peer's READY is
 * here too. */
static void take(struct peer_link *l, struct peer_conn *c)
{
	struct peer_ready rdy;
	int ret;

	peer_ready_build(&rdy);
	ret = peer_msg_send(c->sock, &rdy, sizeof(rdy), NULL, 0);
	if (ret) {
		char why[96];

		snprintf(why, sizeof(why), "cannot send ready: %s", strerror(-ret));
		conn_lost(c, why);
		return;
	}
	c->state = CONN_CHOSEN;
	l->link = c;
	ev_timer_cancel(l->ev, l->retry_timer);
	l->retry_timer = 0;
	l->last_connect_err = 0;
	if (c->peer_ready) {
		go_up(l, c);
		return;
	}
	c->hs_timer = ev_timer(l->ev, l->hs_timeout_ms, handshake_timeout, c);
	if (c->hs_timer < 0) {
		c->hs_timer = 0;
		peer_link_down(l, "cannot arm the handshake timer", true);
	}
}

/* ---- the one-link rule --------------------------------------------------------- */

/* A connection is preferred when the side that initiated it has the
 * smaller node path.  Both ends compute this from the same two strings
 * (ours, and the node path in the peer's hello), so they agree. */
static bool conn_preferred(const struct peer_link *l, const struct peer_conn *c)
{
	const char *initiator = c->outgoing ? l->node.path : c->peer.node;
	const char *acceptor = c->outgoing ? c->peer.node : l->node.path;

	return strcmp(initiator, acceptor) < 0;
}

static bool same_peer(const struct peer_conn *a, const struct peer_conn *b)
{
	return strcmp(a->peer.node, b->peer.node) == 0;
}

/* Could another connection still turn out to be the preferred duplicate
 * of c?  Only one in handshake going the other way. */
static bool duplicate_may_come(const struct peer_link *l,
			       const struct peer_conn *c)
{
	for (unsigned i = 0; i < PEER_MAX_CONNS; i++) {
		const struct peer_conn *o = &l->conns[i];

		if (o != c && o->state == CONN_HELLO && o->outgoing != c->outgoing)
			return true;
	}
	return false;
}

/* Has the peer of the current link hung up (its EOF maybe not yet
 * handled)?  Then a new connection from the restarted peer should not
 * be refused as a second link. */
static bool peer_hung_up(const struct peer_conn *c)
{
	struct pollfd pfd = { .fd = c->sock, .events = POLLRDHUP };

	return poll(&pfd, 1, 0) > 0 &&
	       (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

/* Decides one DEFERRED connection.  Returns true if it acted. */
static bool settle_one(struct peer_link *l, struct peer_conn *c)
{
	if (l->link && peer_hung_up(l->link)) {
		peer_link_down(l, "peer closed the connection", false);
		if (l->stopped)
			return true;
	}
	if (l->link) {
		if (!(same_peer(l->link, c) && conn_preferred(l, c) &&
		      !conn_preferred(l, l->link))) {
			char why[PEER_WHY_MAX];

			snprintf(why, sizeof(why), "already linked with %s",
				 l->link->peer_label);
			conn_refuse(c, why);
			return true;
		}
		/* We took the losing duplicate before the winner showed up:
		 * move over (the peer does the same). */
		peer_link_down(l, "replaced by the preferred duplicate connection", true);
		if (l->stopped)
			return true;
	} else if (!conn_preferred(l, c)) {
		/* Connections still in the listen backlog count too. */
		peer_link_accept_pending(l);
		if (duplicate_may_come(l, c))
			return false;
	}
	take(l, c);
	return true;
}

/* Runs after every event: each action moves one DEFERRED connection on,
 * so the loop ends. */
void peer_link_settle(struct peer_link *l)
{
	bool acted = true;

	while (acted && !l->stopped) {
		acted = false;
		for (unsigned i = 0; i < PEER_MAX_CONNS && !acted; i++) {
			struct peer_conn *c = &l->conns[i];

			if (c->state == CONN_DEFERRED)
				acted = settle_one(l, c);
		}
	}
}

/* ---- messages -------------------------------------------------------------------- */

static void close_fds(int *fds, int nfds)
{
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

/* The connection misbehaved: a link is dropped (and the peer told why),
 * a handshake refused. */
static void conn_fail(struct peer_conn *c, const char *why)
{
	struct peer_link *l = c->link;

	if (c == l->link && c->state == CONN_UP) {
		peer_link_fault(l, &l->stats.drops_broken, why);
	} else if (c == l->link) {
		log_rl(LOG_WARN, "%s/%s: peer %s: %s", l->system, l->name,
		       c->peer_label, why);
		peer_link_down(l, why, true);
	} else {
		conn_refuse(c, why);
	}
}

/* The connection ended without a protocol error. */
static void conn_lost(struct peer_conn *c, const char *why)
{
	struct peer_link *l = c->link;

	if (c == l->link) {
		peer_link_down(l, why, false);
		return;
	}
	log_debug("%s/%s: connection with %s closed in handshake: %s",
		  l->system, l->name, peer_conn_label(c), why);
	if (c->state == CONN_DEFERRED)
		peer_link_set_error(l, "%s: %s", peer_conn_label(c), why);
	peer_conn_release(c);
	peer_link_schedule_retry(l, PEER_RETRY_MS);
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Is fd one of the rings we gave the peer? */
static bool is_our_ring(const struct peer_conn *c, int fd)
{
	for (unsigned k = 0; k < c->n_ours; k++)
		if (same_file(fd, c->rp[k].tx.fd))
			return true;
	return false;
}

static void handle_hello(struct peer_conn *c, const struct peer_hello *h,
			 int *fds, int nfds)
{
	struct peer_link *l = c->link;
	char why[PEER_RING_REASON_LEN + 16];
	unsigned n;

	if (peer_hello_check(h, why, sizeof(why)) ||
	    peer_hello_check_fds(h, fds, nfds, why, sizeof(why))) {
		close_fds(fds, nfds);
		conn_refuse(c, why);
		return;
	}
	snprintf(c->peer_label, sizeof(c->peer_label), "%s/%s", h->system,
		 h->name);
	if (strcmp(h->node, l->node.path) == 0) {
		close_fds(fds, nfds);
		conn_refuse(c, "the peer is this vdev itself (peer path names our own node)");
		return;
	}
	n = peer_hello_ring_pairs(h);
	for (unsigned k = 0; k < n; k++) {
		if (is_our_ring(c, fds[PEER_HELLO_FD_RING(k)])) {
			close_fds(fds, nfds);
			conn_refuse(c, "the peer's ring is one we gave it");
			return;
		}
	}
	/* The link uses the ring pairs both sides have. */
	c->n_used = n < c->n_ours ? n : c->n_ours;
	for (unsigned k = 0; k < c->n_used; k++) {
		struct peer_ring_pair *rp = &c->rp[k];

		if (peer_ring_cons_attach(&rp->rx, fds[PEER_HELLO_FD_RING(k)], h->desc_count,
					  h->data_size)) {
			snprintf(why, sizeof(why), "ring %u: %s", k, rp->rx.reason);
			close_fds(fds, nfds);
			conn_refuse(c, why);
			return;
		}
		rp->rx_ok = true;
		/* Records are frames: a header no correct sender writes
		 * breaks the ring (and drops the link) like a bad index does.
		 * The receive path (host/dp/rx.c) acts on the header copy
		 * that check judged, and checks it no more. */
		rp->rx.check_hdr = true;
	}
	/* The mappings keep the files: the ring fds are not needed any
	 * more, nor the doorbells of pairs the link does not use. */
	for (unsigned k = 0; k < n; k++) {
		close(fds[PEER_HELLO_FD_RING(k)]);
		if (k < c->n_used)
			c->rp[k].peer_bell = fds[PEER_HELLO_FD_BELL(n, k)];
		else
			close(fds[PEER_HELLO_FD_BELL(n, k)]);
	}
	c->peer = *h;
	ev_timer_cancel(l->ev, c->hs_timer);
	c->hs_timer = 0;
	c->state = CONN_DEFERRED;	/* peer_link_settle() decides */
}

static void handle_features(struct peer_conn *c,
			    const struct peer_features_msg *m)
{
	struct peer_link *l = c->link;
	char why[PEER_WHY_MAX];

	if (c->state == CONN_HELLO) {
		conn_fail(c, "features update before hello");
		return;
	}
	if (peer_features_check(m, why, sizeof(why))) {
		conn_fail(c, why);
		return;
	}
	c->peer.flags = m->flags;
	c->peer.features = m->features;
	if (c->state != CONN_UP)
		return;
	l->stats.features_updates++;
	log_info("%s/%s: peer %s features now %s0x%llx", l->system, l->name,
		 c->peer_label, (m->flags & PEER_F_FEATURES_KNOWN) ? "" : "unknown, ",
		 (unsigned long long)m->features);
	if (l->cbs.features)
		l->cbs.features(l->cbs.arg, m->flags & PEER_F_FEATURES_KNOWN, m->features);
}

static void handle_rss(struct peer_conn *c, const struct peer_rss_msg *m)
{
	struct peer_link *l = c->link;
	char why[PEER_WHY_MAX];

	if (c->state == CONN_HELLO) {
		conn_fail(c, "rss configuration before hello");
		return;
	}
	if (peer_rss_check(m, &c->peer_rss, why, sizeof(why))) {
		conn_fail(c, why);
		return;
	}
	if (c->state == CONN_UP && l->cbs.rss)
		l->cbs.rss(l->cbs.arg, &c->peer_rss);
}

static void handle_msg(struct peer_conn *c, int type, const union peer_msg *m,
		       int *fds, int nfds)
{
	char why[PEER_WHY_MAX], reason[sizeof(m->bye.reason)];

	if (type == PEER_MSG_HELLO) {
		if (c->state != CONN_HELLO) {
			close_fds(fds, nfds);
			conn_fail(c, "second hello on one connection");
			return;
		}
		handle_hello(c, &m->hello, fds, nfds);
		return;
	}
	if (nfds) {
		close_fds(fds, nfds);
		snprintf(why, sizeof(why), "message type %d carries %d fds", type, nfds);
		conn_fail(c, why);
		return;
	}
	if (type == PEER_MSG_FEATURES) {
		handle_features(c, &m->features);
		return;
	}
	if (type == PEER_MSG_RSS) {
		handle_rss(c, &m->rss);
		return;
	}
	if (type == PEER_MSG_MOVING) {
		if (c != c->link->link || c->state != CONN_UP) {
			conn_fail(c, "moving on a connection that is not the link");
			return;
		}
		if (peer_moving_check(&m->moving, why, sizeof(why))) {
			conn_fail(c, why);
			return;
		}
		c->peer_moving_ms = m->moving.hold_ms;
		return;
	}
	if (type == PEER_MSG_READY) {
		if (c->state == CONN_HELLO || c->peer_ready) {
			conn_fail(c, c->peer_ready ? "second ready" : "ready before hello");
			return;
		}
		c->peer_ready = true;
		if (c->state == CONN_CHOSEN)
			go_up(c->link, c);
		return;
	}
	/* BYE */
	peer_bye_reason(&m->bye, reason, sizeof(reason));
	snprintf(why, sizeof(why), "peer closed it: %s", reason);
	conn_lost(c, why);
}

static void sock_event(struct ev_handler *h, uint32_t events)
{
	struct peer_conn *c = container_of(h, struct peer_conn, sock_h);
	struct peer_link *l = c->link;
	uint64_t serial = c->serial;
	char why[PEER_WHY_MAX];

	peer_link_enter(l);
	for (unsigned i = 0; i < MSGS_PER_EVENT; i++) {
		union peer_msg m;
		int fds[PEER_MSG_MAX_FDS], nfds;
		int ret = peer_msg_recv(c->sock, &m, fds, &nfds, why, sizeof(why));

		if (ret == -EAGAIN) {
			if (events & (EPOLLHUP | EPOLLERR))
				conn_lost(c, "peer hung up");
			break;
		}
		if (ret == 0) {
			conn_lost(c, "peer closed the connection");
			break;
		}
		if (ret == -EPROTO) {
			conn_fail(c, why);
			break;
		}
		if (ret < 0) {
			snprintf(why, sizeof(why), "socket error: %s", strerror(-ret));
			conn_lost(c, why);
			break;
		}
		/* A DEFERRED conn reads on too: a BYE or READY behind the
		 * hello is known before peer_link_settle() decides. */
		handle_msg(c, ret, &m, fds, nfds);
		if (conn_gone(l, c, serial))
			break;
	}
	if (!l->stopped)
		peer_link_settle(l);
	peer_link_leave(l);
}

static void bell_event(struct ev_handler *h, uint32_t events)
{
	struct peer_ring_pair *rp = container_of(h, struct peer_ring_pair, bell_h);
	struct peer_conn *c = rp->conn;
	struct peer_link *l = c->link;
	uint64_t v;

	(void)events;
	/* Drain: one callback covers every ring since the last one. */
	if (read(rp->bell, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return;
	__atomic_fetch_add(&l->stats.doorbells_received, 1, __ATOMIC_RELAXED);
	/* v counts the peer's writes since the last read (the watchdog
	 * judges floods by it). */
	__atomic_fetch_add(&c->bell_writes, v, __ATOMIC_RELAXED);
	if (rp->bell_ev != l->ev) {
		/* A data-path thread's loop: the link stays as it is while
		 * this runs (its own loop is parked), so no enter/leave. */
		l->cbs.ring_rx(l->cbs.arg, rp->idx);
		return;
	}
	peer_link_enter(l);
	if (l->cbs.rx)
		l->cbs.rx(l->cbs.arg);
	peer_link_leave(l);
}

/* ---- opening connections ------------------------------------------------------------ */

static void handshake_timeout(void *arg)
{
	struct peer_conn *c = arg;
	struct peer_link *l = c->link;
	char why[64];

	c->hs_timer = 0;
	peer_link_enter(l);
	snprintf(why, sizeof(why), "no %s within %u ms",
		 c->state == CONN_HELLO ? "hello" : "ready", l->hs_timeout_ms);
	if (c->state == CONN_HELLO || c->state == CONN_CHOSEN) {
		conn_fail(c, why);
		peer_link_settle(l);
	}
	peer_link_leave(l);
}

static struct peer_conn *conn_alloc(struct peer_link *l)
{
	for (unsigned i = 0; i < PEER_MAX_CONNS; i++)
		if (l->conns[i].state == CONN_FREE)
			return &l->conns[i];
	return NULL;
}

/* Creates a fresh TX ring under a new generation name. */
static int conn_make_ring(struct peer_link *l, struct peer_ring_prod *tx, int *ring_fd)
{
	char name[PEER_RING_NAME_LEN];
	int ret = -EEXIST;

	for (unsigned t = 0; t < RING_NAME_TRIES && ret == -EEXIST; t++) {
		ret = peer_shm_name(name, sizeof(name), l->shm_prefix, ++l->ring_gen);
		if (ret)
			return ret;
		ret = peer_ring_create(tx, name, l->desc_count, l->data_size, ring_fd);
	}
	return ret;
}

/* Our ring pairs of a new connection: a TX ring and a doorbell each,
 * their fds in the hello's order. */
static int conn_make_pairs(struct peer_link *l, struct peer_conn *c, int *fds)
{
	c->n_ours = l->ring_pairs;
	for (unsigned k = 0; k < c->n_ours; k++) {
		struct peer_ring_pair *rp = &c->rp[k];
		int ret;

		rp->bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (rp->bell < 0)
			return -errno;
		ret = conn_make_ring(l, &rp->tx, &fds[PEER_HELLO_FD_RING(k)]);
		if (ret)
			return ret;
		rp->tx_ok = true;
		fds[PEER_HELLO_FD_BELL(c->n_ours, k)] = rp->bell;
	}
	return 0;
}

/* Takes a connected socket: makes this connection's rings and doorbells
 * and sends our hello.  The fd is consumed either way. */
int peer_conn_open(struct peer_link *l, int fd, bool outgoing)
{
	struct peer_conn *c = conn_alloc(l);
	struct peer_hello hello;
	int ret, fds[PEER_MSG_MAX_FDS];

	if (!c) {
		log_rl(LOG_WARN, "%s/%s: refusing peer connection: %d handshakes already open",
		       l->system, l->name, PEER_MAX_CONNS);
		peer_link_set_error(l, "refused a connection: too many open");
		l->stats.refused++;
		close(fd);
		return -EBUSY;
	}
	memset(c, 0, sizeof(*c));
	c->link = l;
	c->serial = ++l->serial_seq;
	c->state = CONN_HELLO;
	c->outgoing = outgoing;
	c->sock = fd;
	for (unsigned k = 0; k < PEER_MAX_RING_PAIRS; k++) {
		c->rp[k].conn = c;
		c->rp[k].bell = -1;
		c->rp[k].peer_bell = -1;
	}
	ret = conn_make_pairs(l, c, fds);
	if (ret)
		goto fail;

	peer_hello_build(&hello, l->system, l->name, l->node.path, l->mac,
			 l->local_known, l->local_features, l->ring_pairs, l->desc_count,
			 l->data_size);
	ret = peer_msg_send(fd, &hello, sizeof(hello), fds, (int)PEER_HELLO_NFDS(c->n_ours));
	if (ret)
		goto fail;
	ret = ev_add(l->ev, &c->sock_h, fd, EPOLLIN | EPOLLRDHUP, sock_event);
	if (ret)
		goto fail;
	c->hs_timer = ev_timer(l->ev, l->hs_timeout_ms, handshake_timeout, c);
	if (c->hs_timer < 0) {
		ret = (int)c->hs_timer;
		c->hs_timer = 0;
		goto fail;
	}
	return 0;

fail:
	/* A connection that closed at once (e.g. another vdev probing
	 * whether our node is alive) is no news. */
	if (ret == -EPIPE || ret == -ECONNRESET)
		log_debug("%s/%s: peer connection closed before our hello",
			  l->system, l->name);
	else
		log_rl(LOG_WARN, "%s/%s: cannot open a peer connection: %s",
		       l->system, l->name, strerror(-ret));
	peer_link_set_error(l, "cannot open a connection: %s", strerror(-ret));
	peer_conn_release(c);
	return ret;
}

