// SPDX-License-Identifier: MIT
/*
 * link.c - a vdev's peer link as a whole (link.h): the node we listen
 * on, connecting to the peer and retrying, and the public API.  One
 * connection's handshake and the one-link rule are in conn.c.
 *
 * Re-entrancy: callbacks may call peer_link_drop or peer_link_stop.
 * Every entry from the evloop, and every API call that may run a
 * callback, brackets its work with peer_link_enter()/peer_link_leave();
 * peer_link_stop inside a callback tears everything down at once but
 * frees the struct only in the outermost leave.
 */
#include "host/peer/link_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/virtio.h"

/* ---- reconnecting -------------------------------------------------------- */

static void retry_fire(void *arg);

void peer_link_schedule_retry(struct peer_link *l, unsigned ms)
{
	long id;

	if (!l->peer_path[0] || l->link || l->stopped || l->retry_timer > 0)
		return;
	if (ms < peer_link_backoff_left(l))
		ms = peer_link_backoff_left(l);
	id = ev_timer(l->ev, ms, retry_fire, l);
	if (id > 0)
		l->retry_timer = id;
	else
		log_rl(LOG_WARN, "%s/%s: cannot arm the peer retry timer: %s",
		       l->system, l->name, strerror((int)-id));
}

static bool uid_ok(struct peer_link *l, int fd, const char *what)
{
	long uid = peer_sock_uid(fd);

	if (uid == (long)geteuid())
		return true;
	log_rl(LOG_WARN, "%s/%s: refusing %s: peer uid %ld is not ours (%u)",
	       l->system, l->name, what, uid, (unsigned)geteuid());
	peer_link_set_error(l, "refused %s: peer uid %ld is not ours", what, uid);
	l->stats.refused++;
	return false;
}

/* While backing off after a peer broke a rule, a connection is refused
 * before it costs a ring: a BYE says why and for how long. */
static bool backoff_ok(struct peer_link *l, int fd)
{
	unsigned left = peer_link_backoff_left(l);
	struct peer_bye bye;
	char why[PEER_WHY_MAX];

	if (!left)
		return true;
	snprintf(why, sizeof(why), "backing off after a broken link: %u ms left", left);
	log_rl(LOG_WARN, "%s/%s: refusing an incoming connection: %s", l->system, l->name, why);
	peer_link_set_error(l, "refused a connection: %s", why);
	l->stats.refused++;
	peer_bye_build(&bye, why);
	(void)peer_msg_send(fd, &bye, sizeof(bye), NULL, 0);
	return false;
}

void peer_link_accept_pending(struct peer_link *l)
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
		if (!uid_ok(l, fd, "an incoming connection") || !backoff_ok(l, fd)) {
			close(fd);
			continue;
		}
		peer_conn_open(l, fd, false);
	}
}

static void listen_event(struct ev_handler *h, uint32_t events)
{
	struct peer_link *l = container_of(h, struct peer_link, listen_h);

	(void)events;
	peer_link_enter(l);
	peer_link_accept_pending(l);
	peer_link_leave(l);
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
	int fd = -1, ret = peer_node_connect(l->peer_path, &fd);

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
	peer_conn_open(l, fd, true);
}

static void retry_fire(void *arg)
{
	struct peer_link *l = arg;

	l->retry_timer = 0;
	peer_link_enter(l);
	if (!l->link && !outgoing_in_progress(l))
		try_connect(l);
	peer_link_settle(l);
	/* Keep trying while not linked; a handshake in progress is left
	 * alone by the next round. */
	peer_link_schedule_retry(l, PEER_RETRY_MS);
	peer_link_leave(l);
}

/* ---- watchdog ---------------------------------------------------------------------- */

static void watch_fire(void *arg);

static void watch_arm(struct peer_link *l)
{
	long id = ev_timer(l->ev, PEER_WATCH_MS, watch_fire, l);

	if (id > 0)
		l->watch_timer = id;
	else
		log_rl(LOG_WARN, "%s/%s: cannot arm the link watchdog: %s", l->system,
		       l->name, strerror((int)-id));
}

void peer_link_watch_start(struct peer_link *l)
{
	struct peer_conn *c = l->link;

	peer_link_watch_stop(l);
	for (unsigned k = 0; k < c->n_used; k++) {
		c->rp[k].watch_cons = c->rp[k].tx.cons;
		c->rp[k].stalled_ms = 0;
	}
	c->bell_writes = 0;
	watch_arm(l);
}

void peer_link_watch_stop(struct peer_link *l)
{
	ev_timer_cancel(l->ev, l->watch_timer);
	l->watch_timer = 0;
}

/* Which ring broke which rule, from our side: the peer writes its ring's
 * records and our ring's consumer index.  NULL when none did. */
static const char *ring_fault(const struct peer_conn *c, char *why, size_t len)
{
	for (unsigned k = 0; k < c->n_used; k++) {
		const struct peer_ring_pair *rp = &c->rp[k];
		/* One pair: the names of a link without multiqueue. */
		char pair[24] = "";

		if (c->n_used > 1)
			snprintf(pair, sizeof(pair), " %u", k);
		if (rp->rx.broken) {
			snprintf(why, len, "%s's transmit ring%s: %s", c->peer_label, pair,
				 rp->rx.reason);
			return why;
		}
		if (rp->tx.broken) {
			snprintf(why, len, "%s's consumer index on our ring%s: %s", c->peer_label,
				 pair, rp->tx.reason);
			return why;
		}
	}
	return NULL;
}

/* Has ring pair k's consumer (the peer) stalled?  Why, or NULL. */
static const char *ring_stalled(struct peer_link *l, struct peer_ring_pair *rp, char *why,
				size_t len)
{
	uint32_t waiting = rp->tx.prod_pub - rp->tx.cons;

	if (waiting == 0 || rp->tx.cons != rp->watch_cons) {
		rp->watch_cons = rp->tx.cons;
		rp->stalled_ms = 0;
		return NULL;
	}
	rp->stalled_ms += PEER_WATCH_MS;
	if (rp->stalled_ms < l->stall_ms)
		return NULL;
	snprintf(why, len, "peer consumed nothing for %u ms with %u records waiting",
		 rp->stalled_ms, waiting);
	return why;
}

/* Why the link should go, or NULL, with the counter it is counted in.
 * why is the buffer for the text. */
static const char *watch_check(struct peer_link *l, struct peer_conn *c,
			       char *why, size_t len, uint64_t **counter)
{
	uint64_t limit = (uint64_t)l->bell_flood * PEER_WATCH_MS / 1000;

	for (unsigned k = 0; k < c->n_used; k++) {
		peer_ring_cons_check_truncated(&c->rp[k].rx);
		/* Rereads and validates the peer's consumer index on our ring. */
		(void)peer_ring_free_slots(&c->rp[k].tx);
	}
	if (ring_fault(c, why, len)) {
		*counter = &l->stats.drops_broken;
		return why;
	}
	if (c->bell_writes > limit) {
		*counter = &l->stats.drops_flood;
		snprintf(why, len, "doorbell flood: %llu writes in %u ms (limit %u per second)",
			 (unsigned long long)c->bell_writes, PEER_WATCH_MS, l->bell_flood);
		return why;
	}
	c->bell_writes = 0;
	for (unsigned k = 0; k < c->n_used; k++) {
		if (ring_stalled(l, &c->rp[k], why, len)) {
			*counter = &l->stats.drops_stalled;
			return why;
		}
	}
	return NULL;
}

static void watch_fire(void *arg)
{
	struct peer_link *l = arg;
	struct peer_conn *c = l->link;
	char buf[PEER_WHY_MAX + PEER_RING_REASON_LEN];
	const char *why;
	uint64_t *counter = NULL;

	l->watch_timer = 0;
	if (!c || c->state != CONN_UP)
		return;
	peer_link_enter(l);
	why = watch_check(l, c, buf, sizeof(buf), &counter);
	if (why) {
		peer_link_fault(l, counter, why);
	} else {
		watch_arm(l);
	}
	peer_link_leave(l);
}

/* ---- public API ------------------------------------------------------------------------ */

static int check_cfg(const struct peer_link_cfg *cfg, char *err, size_t errlen)
{
	struct stat st;
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
	/* A peer that is not running yet has no node: fine, we retry.  A
	 * path that is something else will never be a node. */
	if (cfg->peer_path && stat(cfg->peer_path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "peer \"%s\" exists and is %s, not a vdev's node (a socket)",
			 cfg->peer_path, S_ISDIR(st.st_mode) ? "a directory" :
					 S_ISREG(st.st_mode) ? "a regular file" : "no socket");
		return -ENOTSOCK;
	}
	if (peer_ring_geom_check(dc, ds, geom, sizeof(geom))) {
		snprintf(err, errlen, "ring geometry: %s", geom);
		return -EINVAL;
	}
	if (cfg->ring_pairs > PEER_MAX_RING_PAIRS) {
		snprintf(err, errlen, "%u ring pairs, at most %u", cfg->ring_pairs,
			 PEER_MAX_RING_PAIRS);
		return -EINVAL;
	}
	return 0;
}

void peer_link_cfg_init(struct peer_link_cfg *cfg, const char *run_dir, const char *system,
			const char *name, const char *peer_path, const uint8_t mac[6])
{
	*cfg = (struct peer_link_cfg){
		.run_dir = run_dir, .system = system, .name = name, .peer_path = peer_path,
	};
	memcpy(cfg->mac, mac, sizeof(cfg->mac));
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
	l->carry.timer = -1;
	if (cbs)
		l->cbs = *cbs;
	snprintf(l->run_dir, sizeof(l->run_dir), "%s", cfg->run_dir);
	snprintf(l->system, sizeof(l->system), "%s", cfg->system);
	snprintf(l->name, sizeof(l->name), "%s", cfg->name);
	if (cfg->peer_path)
		snprintf(l->peer_path, sizeof(l->peer_path), "%s", cfg->peer_path);
	memcpy(l->mac, cfg->mac, sizeof(l->mac));
	l->ring_pairs = cfg->ring_pairs ? cfg->ring_pairs : 1;
	l->desc_count = cfg->desc_count ? cfg->desc_count : PEER_RING_DEF_DESC;
	l->data_size = cfg->data_size ? cfg->data_size : PEER_RING_DEF_DATA;
	l->hs_timeout_ms = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms
						     : PEER_HELLO_TIMEOUT_MS;
	l->stall_ms = cfg->stall_timeout_ms ? cfg->stall_timeout_ms : PEER_STALL_MS;
	l->bell_flood = cfg->bell_flood_per_s ? cfg->bell_flood_per_s : PEER_BELL_FLOOD;
	ret = peer_shm_prefix(l->shm_prefix, sizeof(l->shm_prefix), l->run_dir,
			      l->system, l->name);
	if (ret) {
		free(l);
		return ret;
	}

	ret = peer_node_listen(&l->node, path, &stale, err, sizeof(err));
	if (ret == -EADDRINUSE && cfg->quiet_if_taken) {
		log_debug("peer link %s/%s: %s", cfg->system, cfg->name, err);
		free(l);
		return ret;
	}
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
	peer_link_schedule_retry(l, 0);
	log_info("%s/%s: peer node %s%s%s, rings /dev/shm/%s*", l->system, l->name,
		 l->node.path, l->peer_path[0] ? ", peer " : "", l->peer_path,
		 l->shm_prefix);
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
		peer_conn_send_bye(c, "peer vdev stopping");
		peer_conn_release(c);
	}
	ev_timer_cancel(l->ev, l->retry_timer);
	l->retry_timer = 0;
	peer_carry_drop(l, "the link stops");
	peer_link_watch_stop(l);
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

/* Ring pair k of the link that is up, else NULL. */
static struct peer_ring_pair *up_pair(const struct peer_link *l, unsigned k)
{
	struct peer_conn *c = up_conn(l);

	return c && k < c->n_used ? &c->rp[k] : NULL;
}

unsigned peer_link_ring_pairs(const struct peer_link *l)
{
	const struct peer_conn *c = up_conn(l);

	return c ? c->n_used : 0;
}

unsigned peer_link_tx_in_flight(struct peer_link *l)
{
	struct peer_conn *c = up_conn(l);
	unsigned n = 0;

	for (unsigned k = 0; c && k < c->n_used; k++) {
		struct peer_ring_prod *p = &c->rp[k].tx;

		/* Rereads (and checks) the consumer's index. */
		n += p->desc_count - peer_ring_free_slots(p);
	}
	return n;
}

int peer_link_send_moving(struct peer_link *l, unsigned hold_ms)
{
	struct peer_conn *c = up_conn(l);
	struct peer_moving m;

	if (!c)
		return -ENOTCONN;
	peer_moving_build(&m, hold_ms > PEER_MOVE_HOLD_MAX_MS ? PEER_MOVE_HOLD_MAX_MS : hold_ms);
	return peer_msg_send(c->sock, &m, sizeof(m), NULL, 0);
}

int peer_link_bell_fd(const struct peer_link *l, unsigned k)
{
	const struct peer_ring_pair *rp = up_pair(l, k);

	return rp ? rp->bell : -1;
}

struct peer_ring_prod *peer_link_tx(struct peer_link *l, unsigned k)
{
	struct peer_ring_pair *rp = up_pair(l, k);

	return rp ? &rp->tx : NULL;
}

struct peer_ring_cons *peer_link_rx(struct peer_link *l, unsigned k)
{
	struct peer_ring_pair *rp = up_pair(l, k);

	return rp ? &rp->rx : NULL;
}

void peer_link_ring_peer(struct peer_link *l, unsigned k)
{
	struct peer_ring_pair *rp = up_pair(l, k);
	uint64_t one = 1;

	if (!rp)
		return;
	/* EAGAIN means the counter is saturated: the peer will wake anyway. */
	if (write(rp->peer_bell, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_rl(LOG_WARN, "%s/%s: doorbell write: %s", l->system, l->name,
		       strerror(errno));
	__atomic_fetch_add(&l->stats.doorbells_sent, 1, __ATOMIC_RELAXED);
}

bool peer_link_tx_publish(struct peer_link *l, unsigned k)
{
	struct peer_ring_prod *p = peer_link_tx(l, k);
	uint32_t before;

	if (!p)
		return false;
	before = p->prod_pub;
	if (peer_ring_publish(p)) {
		peer_link_ring_peer(l, k);
		return true;
	}
	if (p->prod_pub != before)
		__atomic_fetch_add(&l->stats.doorbells_suppressed, 1, __ATOMIC_RELAXED);
	return false;
}

bool peer_link_rx_publish(struct peer_link *l, unsigned k)
{
	struct peer_ring_cons *c = peer_link_rx(l, k);
	uint32_t before;

	if (!c)
		return false;
	before = c->cons_pub;
	if (peer_ring_cons_publish(c)) {
		peer_link_ring_peer(l, k);
		return true;
	}
	if (c->cons_pub != before)
		__atomic_fetch_add(&l->stats.doorbells_suppressed, 1, __ATOMIC_RELAXED);
	return false;
}

void peer_link_drop(struct peer_link *l, const char *why)
{
	if (!up_conn(l))
		return;
	peer_link_enter(l);
	log_rl(LOG_WARN, "%s/%s: dropping the peer link with %s: %s", l->system,
	       l->name, l->link->peer_label, why);
	peer_link_down(l, why, true);
	peer_link_leave(l);
}

void peer_link_ring_broken(struct peer_link *l)
{
	struct peer_conn *c = up_conn(l);
	char why[PEER_WHY_MAX];

	if (!c)
		return;
	peer_link_enter(l);
	if (!ring_fault(c, why, sizeof(why)))
		snprintf(why, sizeof(why), "a ring of the link broke a rule");
	peer_link_fault(l, &l->stats.drops_broken, why);
	peer_link_leave(l);
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
			       l->system, l->name, peer_conn_label(c), strerror(-ret));
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

int peer_link_send_rss(struct peer_link *l, struct peer_conn *c)
{
	struct peer_rss_msg m;

	peer_rss_build(&m, &l->local_rss);
	return peer_msg_send(c->sock, &m, sizeof(m), NULL, 0);
}

void peer_link_set_local_rss(struct peer_link *l, const struct rss_cfg *c)
{
	struct peer_conn *up = up_conn(l);
	int ret;

	l->local_rss = *c;
	if (!c->on)
		memset(&l->local_rss, 0, sizeof(l->local_rss));
	if (!up)
		return;		/* sent when a link comes up */
	ret = peer_link_send_rss(l, up);
	if (ret)
		log_rl(LOG_WARN, "%s/%s: cannot send the RSS configuration: %s", l->system,
		       l->name, strerror(-ret));
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

