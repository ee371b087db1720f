// SPDX-License-Identifier: MIT
/*
 * link.c - a vdev's peer link: connections, handshake, the one-link rule,
 * link up/down and reconnection (link.h).
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
 * Re-entrancy: callbacks may call peer_link_drop or peer_link_stop.
 * Every entry from the evloop brackets its work with enter()/leave();
 * peer_link_stop inside a callback tears everything down at once but
 * frees the struct only in the outermost leave(), and code after a
 * callback checks `stopped` (and the conn's serial) before going on.
 */
#include "host/peer/link.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/peer_ring.h"
#include "common/virtio.h"
#include "host/evloop.h"
#include "host/peer/hello.h"
#include "host/peer/node.h"
#include "host/peer/shm_names.h"

/* Messages handled per socket event before yielding to other fds (the
 * level-triggered loop comes back for the rest). */
#define MSGS_PER_EVENT 16
/* Attempts at a fresh ring name when a generation is taken (leftovers of
 * an owner whose node we did not find stale). */
#define RING_NAME_TRIES 16

enum conn_state { CONN_FREE = 0, CONN_HELLO, CONN_DEFERRED, CONN_CHOSEN, CONN_UP };

struct peer_conn {
	struct peer_link *link;
	uint64_t serial;	/* changes whenever the slot is released */
	long hs_timer;		/* handshake deadline (hello, then READY) */
	struct ev_handler sock_h;
	struct ev_handler bell_h;
	struct peer_ring_prod tx;	/* ours, created for this conn */
	struct peer_ring_cons rx;	/* the peer's, attached from its hello */
	struct peer_hello peer;		/* the peer's checked hello */

	enum conn_state state;
	int sock;
	int bell;		/* our doorbell: the peer writes, we wait */
	int peer_bell;		/* the peer's doorbell: we write */
	bool outgoing;		/* we initiated it */
	bool peer_ready;	/* the peer chose this connection */
	bool tx_ok;
	bool rx_ok;
	char peer_label[2 * PEER_NAME_MAX];	/* "system/name" */
};

struct peer_link {
	struct evloop *ev;
	struct peer_link_cbs cbs;
	char run_dir[4096];
	char system[PEER_NAME_MAX];
	char name[PEER_NAME_MAX];
	char peer_path[PEER_PATH_MAX];	/* "" when none */
	uint8_t mac[6];
	uint32_t desc_count, data_size;
	char shm_prefix[PEER_SHM_PREFIX_MAX];
	uint32_t ring_gen;
	uint64_t serial_seq;

	struct peer_node node;
	struct ev_handler listen_h;
	struct peer_conn conns[PEER_MAX_CONNS];
	struct peer_conn *link;		/* the CHOSEN or UP conn */
	long retry_timer;
	int last_connect_err;	/* to log "waiting for peer" once per cause */

	bool local_known;
	uint64_t local_features;

	struct peer_link_stats stats;
	char last_error[PEER_WHY_MAX];

	int depth;		/* nesting of evloop entries and API calls */
	bool stopped;
};

/* ---- re-entrancy ------------------------------------------------------ */

static void enter(struct peer_link *l) { l->depth++; }

/* After this, l may be freed: the caller touches nothing. */
static void leave(struct peer_link *l)
{
	if (--l->depth == 0 && l->stopped)
		free(l);
}

static bool conn_gone(const struct peer_link *l, const struct peer_conn *c,
		      uint64_t serial)
{
	return l->stopped || c->serial != serial;
}

static void __attribute__((format(printf, 2, 3)))
set_error(struct peer_link *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->last_error, sizeof(l->last_error), fmt, ap);
	va_end(ap);
}

/* ---- connection slots -------------------------------------------------- */

static void conn_release(struct peer_conn *c)
{
	struct peer_link *l = c->link;

	if (c->state == CONN_FREE)
		return;
	ev_timer_cancel(l->ev, c->hs_timer);
	ev_del(l->ev, &c->sock_h);
	ev_del(l->ev, &c->bell_h);
	if (c->sock >= 0)
		close(c->sock);
	if (c->bell >= 0)
		close(c->bell);
	if (c->peer_bell >= 0)
		close(c->peer_bell);
	if (c->tx_ok)
		peer_ring_prod_destroy(&c->tx, true);
	if (c->rx_ok)
		peer_ring_cons_detach(&c->rx);
	if (l->link == c)
		l->link = NULL;
	c->state = CONN_FREE;
	c->serial = ++l->serial_seq;
}

static void conn_send_bye(struct peer_conn *c, const char *why)
{
	struct peer_bye bye;

	peer_bye_build(&bye, why);
	(void)peer_msg_send(c->sock, &bye, sizeof(bye), NULL, 0);
}

static const char *conn_label(const struct peer_conn *c)
{
	return c->peer_label[0] ? c->peer_label : "an unidentified peer";
}

/* Refuses a connection that is not the link: logged (the other side can
 * trigger this at will, hence rate-limited), told to the peer, closed. */
static void conn_refuse(struct peer_conn *c, const char *why)
{
	struct peer_link *l = c->link;

	log_rl(LOG_WARN, "%s/%s: refusing peer connection from %s: %s",
	       l->system, l->name, conn_label(c), why);
	set_error(l, "refused %s: %s", conn_label(c), why);
	l->stats.refused++;
	conn_send_bye(c, why);
	conn_release(c);
}

/* ---- reconnecting -------------------------------------------------------- */

static void retry_fire(void *arg);

static void schedule_retry(struct peer_link *l, unsigned ms)
{
	long id;

	if (!l->peer_path[0] || l->link || l->stopped || l->retry_timer > 0)
		return;
	id = ev_timer(l->ev, ms, retry_fire, l);
	if (id > 0)
		l->retry_timer = id;
	else
		log_rl(LOG_WARN, "%s/%s: cannot arm the peer retry timer: %s",
		       l->system, l->name, strerror((int)-id));
}

/* ---- link up / down ---------------------------------------------------------- */

/* Ends the link (UP: with the down callback) or the chosen connection
 * that had not come up yet (quietly: nobody saw it up). */
static void link_down(struct peer_link *l, const char *why, bool tell_peer)
{
	struct peer_conn *c = l->link;

	if (!c)
		return;
	if (c->state != CONN_UP) {
		log_debug("%s/%s: chosen connection with %s closed before ready: %s",
			  l->system, l->name, conn_label(c), why);
		set_error(l, "%s: %s", conn_label(c), why);
		if (tell_peer)
			conn_send_bye(c, why);
		conn_release(c);
		schedule_retry(l, PEER_RETRY_MS);
		return;
	}
	log_info("%s/%s: peer link with %s down: %s", l->system, l->name,
		 conn_label(c), why);
	set_error(l, "link with %s down: %s", conn_label(c), why);
	if (tell_peer)
		conn_send_bye(c, why);
	conn_release(c);
	l->stats.links_down++;
	if (l->cbs.down)
		l->cbs.down(l->cbs.arg, why);
	if (!l->stopped)
		schedule_retry(l, PEER_RETRY_MS);
}

static void bell_event(struct ev_handler *h, uint32_t events);

static void go_up(struct peer_link *l, struct peer_conn *c)
{
	uint64_t serial = c->serial;
	int ret;

	/* Level-triggered: doorbells the peer rang before we got here fire
	 * right away. */
	ret = ev_add(l->ev, &c->bell_h, c->bell, EPOLLIN, bell_event);
	if (ret) {
		link_down(l, "cannot watch the doorbell", true);
		return;
	}
	ev_timer_cancel(l->ev, c->hs_timer);
	c->hs_timer = 0;
	c->state = CONN_UP;
	l->stats.links_up++;
	log_info("%s/%s: peer link up with %s (%s connection)", l->system,
		 l->name, c->peer_label, c->outgoing ? "our" : "its");
	if (l->cbs.features && (c->peer.flags & PEER_F_FEATURES_KNOWN)) {
		l->cbs.features(l->cbs.arg, c->peer.features);
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
	c->hs_timer = ev_timer(l->ev, PEER_HELLO_TIMEOUT_MS, handshake_timeout, c);
	if (c->hs_timer < 0) {
		c->hs_timer = 0;
		link_down(l, "cannot arm the handshake timer", true);
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

static void accept_pending(struct peer_link *l);

/* Decides one DEFERRED connection.  Returns true if it acted. */
static bool settle_one(struct peer_link *l, struct peer_conn *c)
{
	if (l->link && peer_hung_up(l->link)) {
		link_down(l, "peer closed the connection", false);
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
		link_down(l, "replaced by the preferred duplicate connection", true);
		if (l->stopped)
			return true;
	} else if (!conn_preferred(l, c)) {
		/* Connections still in the listen backlog count too. */
		accept_pending(l);
		if (duplicate_may_come(l, c))
			return false;
	}
	take(l, c);
	return true;
}

/* Runs after every event: each action moves one DEFERRED connection on,
 * so the loop ends. */
static void settle(struct peer_link *l)
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

	if (c == l->link) {
		log_rl(LOG_WARN, "%s/%s: peer %s: %s", l->system, l->name,
		       c->peer_label, why);
		link_down(l, why, true);
	} else {
		conn_refuse(c, why);
	}
}

/* The connection ended without a protocol error. */
static void conn_lost(struct peer_conn *c, const char *why)
{
	struct peer_link *l = c->link;

	if (c == l->link) {
		link_down(l, why, false);
		return;
	}
	log_debug("%s/%s: connection with %s closed in handshake: %s",
		  l->system, l->name, conn_label(c), why);
	if (c->state == CONN_DEFERRED)
		set_error(l, "%s: %s", conn_label(c), why);
	conn_release(c);
	schedule_retry(l, PEER_RETRY_MS);
}

static void handle_hello(struct peer_conn *c, const struct peer_hello *h,
			 int *fds, int nfds)
{
	struct peer_link *l = c->link;
	char why[PEER_RING_REASON_LEN + 8];

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
	if (peer_ring_cons_attach(&c->rx, fds[PEER_HELLO_FD_RING],
				  h->desc_count, h->data_size)) {
		snprintf(why, sizeof(why), "ring: %s", c->rx.reason);
		close_fds(fds, nfds);
		conn_refuse(c, why);
		return;
	}
	/* The mapping keeps the file; the fd is not needed any more. */
	close(fds[PEER_HELLO_FD_RING]);
	c->rx_ok = true;
	c->peer_bell = fds[PEER_HELLO_FD_BELL];
	c->peer = *h;
	ev_timer_cancel(l->ev, c->hs_timer);
	c->hs_timer = 0;
	c->state = CONN_DEFERRED;	/* settle() decides */
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
	if (l->cbs.features && (m->flags & PEER_F_FEATURES_KNOWN))
		l->cbs.features(l->cbs.arg, m->features);
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

	enter(l);
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
		 * hello is known before settle() decides. */
		handle_msg(c, ret, &m, fds, nfds);
		if (conn_gone(l, c, serial))
			break;
	}
	if (!l->stopped)
		settle(l);
	leave(l);
}

static void bell_event(struct ev_handler *h, uint32_t events)
{
	struct peer_conn *c = container_of(h, struct peer_conn, bell_h);
	struct peer_link *l = c->link;
	uint64_t v;

	(void)events;
	/* Drain: one callback covers every ring since the last one. */
	if (read(c->bell, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return;
	l->stats.doorbells_received++;
	enter(l);
	if (l->cbs.rx)
		l->cbs.rx(l->cbs.arg);
	leave(l);
}

/* ---- opening connections ------------------------------------------------------------ */

static void handshake_timeout(void *arg)
{
	struct peer_conn *c = arg;
	struct peer_link *l = c->link;
	char why[64];

	c->hs_timer = 0;
	enter(l);
	snprintf(why, sizeof(why), "no %s within %d ms",
		 c->state == CONN_HELLO ? "hello" : "ready", PEER_HELLO_TIMEOUT_MS);
	if (c->state == CONN_HELLO || c->state == CONN_CHOSEN) {
		conn_fail(c, why);
		settle(l);
	}
	leave(l);
}

static struct peer_conn *conn_alloc(struct peer_link *l)
{
	for (unsigned i = 0; i < PEER_MAX_CONNS; i++)
		if (l->conns[i].state == CONN_FREE)
			return &l->conns[i];
	return NULL;
}

/* Creates a fresh TX ring under a new generation name. */
static int conn_make_ring(struct peer_link *l, struct peer_conn *c, int *ring_fd)
{
	char name[PEER_RING_NAME_LEN];
	int ret = -EEXIST;

	for (unsigned t = 0; t < RING_NAME_TRIES && ret == -EEXIST; t++) {
		ret = peer_shm_name(name, sizeof(name), l->shm_prefix, ++l->ring_gen);
		if (ret)
			return ret;
		ret = peer_ring_create(&c->tx, name, l->desc_count, l->data_size,
				       ring_fd);
	}
	return ret;
}

/* Takes a connected socket: makes this connection's ring and doorbell and
 * sends our hello.  The fd is consumed either way. */
static int conn_open(struct peer_link *l, int fd, bool outgoing)
{
	struct peer_conn *c = conn_alloc(l);
	struct peer_hello hello;
	int ret, ring_fd = -1, fds[PEER_HELLO_NFDS];

	if (!c) {
		log_rl(LOG_WARN, "%s/%s: refusing peer connection: %d handshakes already open",
		       l->system, l->name, PEER_MAX_CONNS);
		set_error(l, "refused a connection: too many open");
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
	c->bell = -1;
	c->peer_bell = -1;

	c->bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->bell < 0) {
		ret = -errno;
		goto fail;
	}
	ret = conn_make_ring(l, c, &ring_fd);
	if (ret)
		goto fail;
	c->tx_ok = true;

	peer_hello_build(&hello, l->system, l->name, l->node.path, l->mac,
			 l->local_known, l->local_features, l->desc_count,
			 l->data_size);
	fds[PEER_HELLO_FD_RING] = ring_fd;
	fds[PEER_HELLO_FD_BELL] = c->bell;
	ret = peer_msg_send(fd, &hello, sizeof(hello), fds, PEER_HELLO_NFDS);
	if (ret)
		goto fail;
	ret = ev_add(l->ev, &c->sock_h, fd, EPOLLIN | EPOLLRDHUP, sock_event);
	if (ret)
		goto fail;
	c->hs_timer = ev_timer(l->ev, PEER_HELLO_TIMEOUT_MS, handshake_timeout, c);
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
	set_error(l, "cannot open a connection: %s", strerror(-ret));
	conn_release(c);
	return ret;
}

static bool uid_ok(struct peer_link *l, int fd, const char *what)
{
	long uid = peer_sock_uid(fd);

	if (uid == (long)geteuid())
		return true;
	log_rl(LOG_WARN, "%s/%s: refusing %s: peer uid %ld is not ours (%u)",
	       l->system, l->name, what, uid, (unsigned)geteuid());
	set_error(l, "refused %s: peer uid %ld is not ours", what, uid);
	l->stats.refused++;
	return false;
}

static void accept_pending(struct peer_link *l)
{
	for (;;) {
		int fd = accept4(l->node.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_rl(LOG_WARN, "%s/%s: accept on %s: %s", l->system,
				       l->name, l->node.path, strerror(errno));
			return;
		}
		if (!uid_ok(l, fd, "an incoming connection")) {
			close(fd);
			continue;
		}
		conn_open(l, fd, false);
	}
}

static void listen_event(struct ev_handler *h, uint32_t events)
{
	struct peer_link *l = container_of(h, struct peer_link, listen_h);

	(void)events;
	enter(l);
	accept_pending(l);
	leave(l);
}

static bool outgoing_in_progress(const struct peer_link *l)
{
	for (unsigned i = 0; i < PEER_MAX_CONNS; i++)
		if (l->conns[i].state != CONN_FREE && l->conns[i].outgoing)
			return true;
	return false;
}

static void try_connect(struct peer_link *l)
{
	int fd, ret = peer_node_connect(l->peer_path, &fd);

	if (ret) {
		/* Expected while the peer is not running: say so once. */
		if (ret != l->last_connect_err)
			log_info("%s/%s: waiting for peer at %s (%s)", l->system,
				 l->name, l->peer_path, strerror(-ret));
		l->last_connect_err = ret;
		return;
	}
	if (!uid_ok(l, fd, "the peer's node")) {
		close(fd);
		return;
	}
	conn_open(l, fd, true);
}

static void retry_fire(void *arg)
{
	struct peer_link *l = arg;

	l->retry_timer = 0;
	enter(l);
	if (!l->link && !outgoing_in_progress(l))
		try_connect(l);
	settle(l);
	/* Keep trying while not linked; a handshake in progress is left
	 * alone by the next round. */
	schedule_retry(l, PEER_RETRY_MS);
	leave(l);
}

/* ---- public API ------------------------------------------------------------------------ */

static int check_cfg(const struct peer_link_cfg *cfg, char *err, size_t errlen)
{
	uint32_t dc = cfg->desc_count ? cfg->desc_count : PEER_RING_DEF_DESC;
	uint32_t ds = cfg->data_size ? cfg->data_size : PEER_RING_DEF_DATA;
	char geom[128];

	if (!cfg->run_dir || !cfg->run_dir[0] || !cfg->system || !cfg->name) {
		snprintf(err, errlen, "run directory, system and name are required");
		return -EINVAL;
	}
	if (!peer_name_valid(cfg->system) || !peer_name_valid(cfg->name)) {
		snprintf(err, errlen, "invalid system or vdev name \"%s/%s\"",
			 cfg->system, cfg->name);
		return -EINVAL;
	}
	if (cfg->peer_path && (!cfg->peer_path[0] ||
			       strlen(cfg->peer_path) >= PEER_PATH_MAX)) {
		snprintf(err, errlen, "peer path \"%s\" is empty or too long",
			 cfg->peer_path);
		return -ENAMETOOLONG;
	}
	if (cfg->mac[0] & 1) {
		snprintf(err, errlen, "MAC is multicast");
		return -EINVAL;
	}
	if (peer_ring_geom_check(dc, ds, geom, sizeof(geom))) {
		snprintf(err, errlen, "ring geometry: %s", geom);
		return -EINVAL;
	}
	return 0;
}

int peer_link_start(struct peer_link **out, struct evloop *ev,
		    const struct peer_link_cfg *cfg,
		    const struct peer_link_cbs *cbs)
{
	char err[PEER_WHY_MAX + PEER_PATH_MAX], path[PEER_PATH_MAX + 1];
	struct peer_link *l;
	bool stale;
	int n, ret;

	*out = NULL;
	ret = check_cfg(cfg, err, sizeof(err));
	if (ret) {
		log_err("peer link: %s", err);
		return ret;
	}
	n = snprintf(path, sizeof(path), "%s/%s/%s", cfg->run_dir, cfg->system,
		     cfg->name);
	if (n < 0 || n >= PEER_PATH_MAX || strlen(cfg->run_dir) >= sizeof(l->run_dir)) {
		log_err("peer link %s/%s: node path %s/%s/%s is longer than a socket path allows (%d)",
			cfg->system, cfg->name, cfg->run_dir, cfg->system,
			cfg->name, PEER_PATH_MAX - 1);
		return -ENAMETOOLONG;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->ev = ev;
	if (cbs)
		l->cbs = *cbs;
	snprintf(l->run_dir, sizeof(l->run_dir), "%s", cfg->run_dir);
	snprintf(l->system, sizeof(l->system), "%s", cfg->system);
	snprintf(l->name, sizeof(l->name), "%s", cfg->name);
	if (cfg->peer_path)
		snprintf(l->peer_path, sizeof(l->peer_path), "%s", cfg->peer_path);
	memcpy(l->mac, cfg->mac, sizeof(l->mac));
	l->desc_count = cfg->desc_count ? cfg->desc_count : PEER_RING_DEF_DESC;
	l->data_size = cfg->data_size ? cfg->data_size : PEER_RING_DEF_DATA;
	ret = peer_shm_prefix(l->shm_prefix, sizeof(l->shm_prefix), l->run_dir,
			      l->system, l->name);
	if (ret) {
		free(l);
		return ret;
	}

	ret = peer_node_listen(&l->node, path, &stale, err, sizeof(err));
	if (ret) {
		log_err("peer link %s/%s: %s", cfg->system, cfg->name, err);
		free(l);
		return ret;
	}
	/* Our node was stale, so its owner is dead: its rings are litter. */
	if (stale)
		peer_shm_remove_stale(l->shm_prefix);
	ret = ev_add(ev, &l->listen_h, l->node.fd, EPOLLIN, listen_event);
	if (ret) {
		peer_node_close(&l->node);
		free(l);
		return ret;
	}
	/* First attempt from the loop, so that vdevs started together all
	 * have their nodes before anyone connects. */
	schedule_retry(l, 0);
	log_info("%s/%s: peer node %s%s%s", l->system, l->name, l->node.path,
		 l->peer_path[0] ? ", peer " : "", l->peer_path);
	*out = l;
	return 0;
}

void peer_link_stop(struct peer_link *l)
{
	if (!l || l->stopped)
		return;
	l->stopped = true;
	for (unsigned i = 0; i < PEER_MAX_CONNS; i++) {
		struct peer_conn *c = &l->conns[i];

		if (c->state == CONN_FREE)
			continue;
		conn_send_bye(c, "peer vdev stopping");
		conn_release(c);
	}
	ev_timer_cancel(l->ev, l->retry_timer);
	l->retry_timer = 0;
	ev_del(l->ev, &l->listen_h);
	peer_node_close(&l->node);
	if (l->depth == 0)
		free(l);
}

/* The conn carrying the link when it is up, else NULL. */
static struct peer_conn *up_conn(const struct peer_link *l)
{
	return l && l->link && l->link->state == CONN_UP ? l->link : NULL;
}

bool peer_link_is_up(const struct peer_link *l)
{
	return up_conn(l) != NULL;
}

struct peer_ring_prod *peer_link_tx(struct peer_link *l)
{
	struct peer_conn *c = up_conn(l);

	return c ? &c->tx : NULL;
}

struct peer_ring_cons *peer_link_rx(struct peer_link *l)
{
	struct peer_conn *c = up_conn(l);

	return c ? &c->rx : NULL;
}

void peer_link_ring_peer(struct peer_link *l)
{
	struct peer_conn *c = up_conn(l);
	uint64_t one = 1;

	if (!c)
		return;
	/* EAGAIN means the counter is saturated: the peer will wake anyway. */
	if (write(c->peer_bell, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_rl(LOG_WARN, "%s/%s: doorbell write: %s", l->system, l->name,
		       strerror(errno));
	l->stats.doorbells_sent++;
}

bool peer_link_tx_publish(struct peer_link *l)
{
	struct peer_ring_prod *p = peer_link_tx(l);
	uint32_t before;

	if (!p)
		return false;
	before = p->prod_pub;
	if (peer_ring_publish(p)) {
		peer_link_ring_peer(l);
		return true;
	}
	if (p->prod_pub != before)
		l->stats.doorbells_suppressed++;
	return false;
}

bool peer_link_rx_publish(struct peer_link *l)
{
	struct peer_ring_cons *c = peer_link_rx(l);
	uint32_t before;

	if (!c)
		return false;
	before = c->cons_pub;
	if (peer_ring_cons_publish(c)) {
		peer_link_ring_peer(l);
		return true;
	}
	if (c->cons_pub != before)
		l->stats.doorbells_suppressed++;
	return false;
}

void peer_link_drop(struct peer_link *l, const char *why)
{
	if (!up_conn(l))
		return;
	enter(l);
	log_rl(LOG_WARN, "%s/%s: dropping the peer link with %s: %s", l->system,
	       l->name, l->link->peer_label, why);
	link_down(l, why, true);
	leave(l);
}

static void send_features(struct peer_link *l)
{
	struct peer_features_msg m;

	peer_features_build(&m, l->local_known, l->local_features);
	/* Every connection past its hello send learns it: one in handshake
	 * may become the link. */
	for (unsigned i = 0; i < PEER_MAX_CONNS; i++) {
		struct peer_conn *c = &l->conns[i];
		int ret;

		if (c->state == CONN_FREE)
			continue;
		ret = peer_msg_send(c->sock, &m, sizeof(m), NULL, 0);
		if (ret)
			log_rl(LOG_WARN, "%s/%s: cannot send a features update to %s: %s",
			       l->system, l->name, conn_label(c), strerror(-ret));
	}
}

void peer_link_set_local_features(struct peer_link *l, uint64_t f)
{
	f &= VNET_PEERFEATS_MAX;
	if (l->local_known && l->local_features == f)
		return;
	l->local_known = true;
	l->local_features = f;
	send_features(l);
}

void peer_link_forget_local_features(struct peer_link *l)
{
	if (!l->local_known)
		return;
	l->local_known = false;
	l->local_features = 0;
	send_features(l);
}

bool peer_link_peer_features(const struct peer_link *l, uint64_t *f)
{
	const struct peer_conn *c = up_conn(l);

	if (!c || !(c->peer.flags & PEER_F_FEATURES_KNOWN))
		return false;
	*f = c->peer.features;
	return true;
}

const char *peer_link_peer_name(const struct peer_link *l)
{
	const struct peer_conn *c = up_conn(l);

	return c ? c->peer_label : NULL;
}

const char *peer_link_node(const struct peer_link *l)
{
	return l->node.path;
}

const char *peer_link_last_error(const struct peer_link *l)
{
	return l->last_error;
}

const struct peer_link_stats *peer_link_stats(const struct peer_link *l)
{
	return &l->stats;
}
