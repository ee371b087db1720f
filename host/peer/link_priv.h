/* SPDX-License-Identifier: MIT */
/*
 * link_priv.h - what link.c (lifecycle, reconnection, public API) and
 * conn.c (one connection's handshake and messages, the one-link rule)
 * share.  Not for use outside host/peer/.
 */
#ifndef VNET_HOST_PEER_LINK_PRIV_H
#define VNET_HOST_PEER_LINK_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/peer_ring.h"
#include "host/evloop.h"
#include "host/peer/hello.h"
#include "host/peer/link.h"
#include "host/peer/node.h"
#include "host/peer/shm_names.h"

enum conn_state { CONN_FREE = 0, CONN_HELLO, CONN_DEFERRED, CONN_CHOSEN, CONN_UP };

struct peer_conn;

/* Ring pair k of a connection: our TX ring k and the peer's, doorbell k
 * each way. */
struct peer_ring_pair {
	struct peer_conn *conn;
	struct ev_handler bell_h;
	struct evloop *bell_ev;		/* where bell_h is served (cbs.bell_loop) */
	unsigned idx;			/* k */
	struct peer_ring_prod tx;	/* ours, created for this conn */
	struct peer_ring_cons rx;	/* the peer's, attached from its hello */
	bool tx_ok;
	bool rx_ok;
	int bell;		/* our doorbell: the peer writes, we wait */
	int peer_bell;		/* the peer's doorbell: we write */
	/* watchdog, while up */
	uint32_t watch_cons;	/* the peer's validated consumer index last tick */
	unsigned stalled_ms;	/* how long it has not moved with records waiting */
};

struct peer_conn {
	struct peer_link *link;
	uint64_t serial;	/* changes whenever the slot is released */
	long hs_timer;		/* handshake deadline (hello, then READY) */
	struct ev_handler sock_h;
	/* Ring pairs: we made n_ours (the link's ring_pairs); the link uses
	 * the first n_used = min(ours, the peer's hello's). */
	struct peer_ring_pair rp[PEER_MAX_RING_PAIRS];
	unsigned n_ours, n_used;
	struct peer_hello peer;		/* the peer's checked hello */
	struct rss_cfg peer_rss;	/* its last checked RSS message (or off) */

	enum conn_state state;
	int sock;
	bool outgoing;		/* we initiated it */
	bool peer_ready;	/* the peer chose this connection */
	char peer_label[2 * PEER_NAME_MAX];	/* "system/name" */

	/* Doorbell writes (eventfd counts) since last tick; added to by
	 * every loop that serves a doorbell (atomic). */
	uint64_t bell_writes;
	uint32_t peer_moving_ms;	/* the peer's vdev moves (MOVING): hold this long */
};

/* Frames held for a peer whose vdev moves to another process (carry.c):
 * the records it had not consumed from our rings when its old process
 * left, handed to its new process's link before anything newer. */
struct peer_carry {
	uint8_t *buf;		/* records: struct carry_rec, then the bytes */
	size_t len, cap;
	unsigned records;
	char peer_label[2 * PEER_NAME_MAX];	/* whose they are */
	long timer;		/* the hold's end: they are dropped */
};

struct peer_link {
	struct evloop *ev;
	struct peer_link_cbs cbs;
	char run_dir[4096];
	char system[PEER_NAME_MAX];
	char name[PEER_NAME_MAX];
	char peer_path[PEER_PATH_MAX];	/* "" when none */
	uint8_t mac[6];
	unsigned ring_pairs;		/* ring pairs we offer (our queue pairs) */
	uint32_t desc_count, data_size;
	unsigned hs_timeout_ms;
	unsigned stall_ms;
	unsigned bell_flood;
	long watch_timer;
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
	struct rss_cfg local_rss;	/* our driver's, sent at link up and on change */

	/* back-off after the peer broke a rule (PEER_BACKOFF_MAX_MS) */
	uint64_t up_since_ms;		/* when the current link came up */
	unsigned backoff_ms;		/* the last back-off; 0: none yet */
	uint64_t backoff_until_ms;	/* no link forms before this */

	struct peer_link_stats stats;
	char last_error[PEER_WHY_MAX];
	struct peer_carry carry;

	int depth;		/* nesting of evloop entries and API calls */
	bool stopped;
};

/* ---- re-entrancy: every entry from the evloop, and every API call that
 * may run a callback, is bracketed by enter()/leave() ---------------- */

static inline void peer_link_enter(struct peer_link *l) { l->depth++; }

/* After this, l may be freed: the caller touches nothing. */
static inline void peer_link_leave(struct peer_link *l)
{
	if (--l->depth == 0 && l->stopped)
		free(l);
}

/* conn.c */
void peer_link_set_error(struct peer_link *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *peer_conn_label(const struct peer_conn *c);
void peer_conn_send_bye(struct peer_conn *c, const char *why);
/* Closes everything of a connection and frees its slot. */
void peer_conn_release(struct peer_conn *c);
/* Takes a connected socket (consumed either way): fresh ring and
 * doorbell, our hello sent.  0 or -errno. */
int peer_conn_open(struct peer_link *l, int fd, bool outgoing);
/* Ends the link (down callback if it was up) and schedules a retry. */
void peer_link_down(struct peer_link *l, const char *why, bool tell_peer);
/* Applies the one-link rule to every connection whose hello is checked. */
void peer_link_settle(struct peer_link *l);
/* The peer broke a rule of the link: drop it (counted in *counter; rule
 * logged here as the peer's fault, and sent to the peer as its own) and
 * arm the back-off.  No-op when no link is up. */
void peer_link_fault(struct peer_link *l, uint64_t *counter, const char *rule);
/* Milliseconds of back-off left (0: none). */
unsigned peer_link_backoff_left(const struct peer_link *l);

/* carry.c: the link c of a peer that said MOVING ends: hold what it had
 * not consumed; a link comes up: hand what is held to it (the same peer)
 * before anything newer; drop what is held (logged and counted). */
void peer_carry_take(struct peer_link *l, struct peer_conn *c);
void peer_carry_give(struct peer_link *l, struct peer_conn *c);
void peer_carry_drop(struct peer_link *l, const char *why);

/* link.c */
void peer_link_schedule_retry(struct peer_link *l, unsigned ms);
/* Sends our RSS configuration on c (the link); -errno when it could not. */
int peer_link_send_rss(struct peer_link *l, struct peer_conn *c);
/* Starts (up) and stops (down) the watchdog of the link's connection. */
void peer_link_watch_start(struct peer_link *l);
void peer_link_watch_stop(struct peer_link *l);
void peer_link_accept_pending(struct peer_link *l);

#endif /* VNET_HOST_PEER_LINK_PRIV_H */
