/* SPDX-License-Identifier: MIT */
/*
 * link.h - the peer link of one vdev (docs/ARCHITECTURE.md "Peer links").
 *
 * A vdev with a name listens on its node <run_dir>/<system>/<name>; with
 * `peer PATH` it also connects to PATH, every 200 ms while not linked, so
 * start order does not matter and a restarted peer is found again within
 * a second.  On each connection both sides send a HELLO (host/peer/
 * hello.h) with their TX ring and doorbell fds, then READY once they
 * chose that connection; a side is up when both READYs crossed, so a
 * connection one side refuses never shows as up on the other.  At most
 * one link is up:
 *
 *  - when both sides name each other and both connections get through,
 *    the one initiated by the side whose node path sorts first is kept,
 *    on both sides (a side holds back on the losing connection while the
 *    other is still in handshake; if it chose the loser before the winner
 *    appeared, it moves over);
 *  - any other connection while a link is up is refused (with a BYE that
 *    says why).
 *
 * Why SOCK_SEQPACKET: each message and its fds arrive as one unit, so
 * there is no framing to parse and no partial hello to hold; EOF still
 * means the peer is gone.
 *
 * Each link formation makes fresh rings and doorbells; link down unmaps
 * and unlinks them.  Frames in flight at link down may be lost, never
 * corrupted or duplicated: the rings are never reused.
 *
 * Data path: the vdev produces into peer_link_tx(l, k) and consumes from
 * peer_link_rx(l, k) (common/peer_ring.h) for each ring pair k below
 * peer_link_ring_pairs(l), then calls peer_link_tx_publish /
 * peer_link_rx_publish for that pair, which write the peer's doorbell k
 * only when the peer asked for one.  When one of our doorbells fires,
 * cbs->rx runs: records to consume, or TX space freed.
 *
 * Ring pairs (multiqueue): each side makes cfg.ring_pairs TX rings and
 * doorbells and says so in its hello; the link uses the first
 * min(ours, the peer's), so a 4-pair vdev linked to a 1-pair one uses
 * one.
 *
 * Callbacks run on the evloop thread.  They may call any function here,
 * including peer_link_drop and peer_link_stop.
 */
#ifndef VNET_HOST_PEER_LINK_H
#define VNET_HOST_PEER_LINK_H

#include <stdbool.h>
#include <stdint.h>

struct evloop;
struct peer_link;
struct rss_cfg;
struct peer_ring_prod;
struct peer_ring_cons;

#define PEER_RETRY_MS		200
#define PEER_HELLO_TIMEOUT_MS	2000
#define PEER_MAX_CONNS		4	/* the link plus connections in handshake */
/* While up, a watchdog looks at the link every PEER_WATCH_MS: a ring
 * broken or truncated, a peer that consumed none of our published
 * records for the stall timeout, or one that wrote our doorbell more than
 * the flood limit per second, drops the link with that reason. */
#define PEER_WATCH_MS		250
#define PEER_STALL_MS		3000
#define PEER_BELL_FLOOD		200000	/* doorbell writes per second */
/* A link dropped because the peer broke a rule (a broken ring or message,
 * a stall, a doorbell flood) re-forms only after a back-off: PEER_RETRY_MS
 * the first time, doubling on each such drop up to PEER_BACKOFF_MAX_MS,
 * and back to the first after a link that stayed up PEER_HEALTHY_MS.
 * The side that dropped enforces it: its own retries wait, and it refuses
 * incoming connections until the back-off ends, so a peer that ignores
 * it costs one refused connect per try, not a link. */
#define PEER_BACKOFF_MAX_MS	5000
#define PEER_HEALTHY_MS		10000

struct peer_link_cbs {
	void *arg;
	void (*up)(void *arg);
	void (*down)(void *arg, const char *why);
	/* Our doorbell rang: records to consume, or TX space freed. */
	void (*rx)(void *arg);
	/* Optional: the loop that serves ring pair k's doorbell (a
	 * data-path thread's), where it calls ring_rx(arg, k) instead of
	 * rx.  There it may consume, produce and publish on ring k's ends
	 * and nothing else of the link; the link's own loop changes the
	 * link only while that loop is parked (host/dp/threads.c). */
	struct evloop *(*bell_loop)(void *arg, unsigned ring);
	void (*ring_rx)(void *arg, unsigned ring);
	/* The peer's guest negotiated these offload bits (peerfeats auto).
	 * Called before up() when the hello carried them, and again on
	 * every update while up. */
	/* The peer's guest negotiated these offloads (known), or has no
	 * live driver now (!known, peer_features 0). */
	void (*features)(void *arg, bool known, uint64_t peer_features);
	/* The peer's driver's RSS configuration (checked: its queues are
	 * below PEER_MAX_RING_PAIRS), or off.  Called before up() and on
	 * every update while up; NULL: not wanted. */
	void (*rss)(void *arg, const struct rss_cfg *c);
	/* The peer's vdev moves to another process, which links within
	 * hold_ms: frames our guest sends meanwhile should wait for that
	 * link.  Called before down().  NULL: not wanted. */
	void (*moving)(void *arg, unsigned hold_ms);
};

struct peer_link_cfg {
	const char *run_dir;
	const char *system;
	const char *name;
	const char *peer_path;		/* NULL: only accept */
	uint8_t mac[6];
	unsigned ring_pairs;		/* 1..PEER_MAX_RING_PAIRS (our queue
					 * pairs); 0: 1 */
	uint32_t desc_count;		/* our TX ring; 0: PEER_RING_DEF_DESC */
	uint32_t data_size;		/* 0: PEER_RING_DEF_DATA */
	unsigned handshake_timeout_ms;	/* hello, then READY; 0: PEER_HELLO_TIMEOUT_MS */
	unsigned stall_timeout_ms;	/* 0: PEER_STALL_MS */
	unsigned bell_flood_per_s;	/* 0: PEER_BELL_FLOOD */
	/* Our node may still be held by a process that is ending (a vdev
	 * moving in): -EADDRINUSE is then expected and not logged. */
	bool quiet_if_taken;
};

struct peer_link_stats {
	uint64_t links_up;		/* link formations */
	uint64_t links_down;		/* flaps */
	uint64_t refused;		/* connections refused (cred, busy, bad hello) */
	uint64_t doorbells_sent;
	uint64_t doorbells_suppressed;	/* a publish found the peer awake */
	uint64_t doorbells_received;	/* wakeups by the peer's doorbell */
	uint64_t features_updates;	/* received while up */
	uint64_t drops_stalled;		/* links dropped: peer stopped consuming */
	uint64_t drops_flood;		/* links dropped: doorbell flood */
	uint64_t drops_broken;		/* links dropped: a ring or message broke a rule */
	uint64_t moved_held;		/* frames held for a peer that moved, handed on */
	uint64_t moved_lost;		/* ... and those its new process never took */
};

/* The usual cfg of a vdev's link: its node <run_dir>/<system>/<name>,
 * the peer's node (NULL: only accept) and its MAC; defaults elsewhere. */
void peer_link_cfg_init(struct peer_link_cfg *cfg, const char *run_dir, const char *system,
			const char *name, const char *peer_path, const uint8_t mac[6]);

/* Validates cfg, creates the node (replacing a stale one and the dead
 * owner's ring files), and starts connecting to peer_path.  -EINVAL bad
 * names or geometry, -ENAMETOOLONG, -EADDRINUSE node in use by a live
 * process, -EEXIST node path is not a socket; the reason is logged. */
int peer_link_start(struct peer_link **out, struct evloop *ev,
		    const struct peer_link_cfg *cfg,
		    const struct peer_link_cbs *cbs);
/* Closes everything, unlinks our node and ring files (SIGTERM path).
 * No callbacks.  NULL is fine. */
void peer_link_stop(struct peer_link *l);

bool peer_link_is_up(const struct peer_link *l);
/* Ring pairs the link that is up uses (0 when down). */
unsigned peer_link_ring_pairs(const struct peer_link *l);
/* Records in our TX rings the peer has not consumed yet (0 when down). */
unsigned peer_link_tx_in_flight(struct peer_link *l);
/* Our vdev moves to another process, which links within hold_ms: tells
 * the peer (MOVING), before the link is stopped.  0 or -errno (no link
 * up, or the message could not be sent). */
int peer_link_send_moving(struct peer_link *l, unsigned hold_ms);
/* The rings of pair k of the link that is up; NULL when down or k is
 * not below peer_link_ring_pairs. */
struct peer_ring_prod *peer_link_tx(struct peer_link *l, unsigned k);
struct peer_ring_cons *peer_link_rx(struct peer_link *l, unsigned k);

/* Our doorbell eventfd of pair k of the link that is up (-1 when down),
 * for a caller that waits in its own loop instead of the evloop (bench/):
 * it reads the eventfd itself, and cbs->rx does not run for what it read. */
int peer_link_bell_fd(const struct peer_link *l, unsigned k);

/* Writes the peer's doorbell of pair k (no-op when down). */
void peer_link_ring_peer(struct peer_link *l, unsigned k);
/* peer_ring_publish on our TX ring k, ringing the peer if it sleeps.
 * Returns true when a doorbell was written. */
bool peer_link_tx_publish(struct peer_link *l, unsigned k);
/* peer_ring_cons_publish on our RX ring k, ringing the peer if it waits
 * for space.  Returns true when a doorbell was written. */
bool peer_link_rx_publish(struct peer_link *l, unsigned k);

/* Something other than a peer's fault is wrong with the link: drop it
 * with why (logged, rate-limited, and sent to the peer); it re-forms
 * later.  down() runs.  No-op when down. */
void peer_link_drop(struct peer_link *l, const char *why);
/* A ring of the link latched broken (the data path found the peer's
 * records or consumer index breaking a rule): drop the link with the
 * ring's reason, counted in drops_broken, logged here as the peer's
 * fault and told to the peer as its own, and back off before the next
 * link.  down() runs.  No-op when down. */
void peer_link_ring_broken(struct peer_link *l);

/* Our guest negotiated these offload bits (masked to VNET_PEERFEATS_MAX);
 * sent to the peer now if connected, and in every later hello. */
void peer_link_set_local_features(struct peer_link *l, uint64_t f);
/* Our guest reset: its features are unknown again. */
void peer_link_forget_local_features(struct peer_link *l);
/* Our driver's RSS configuration (or off): sent to the peer when the
 * link comes up and at once when it changes while connected. */
void peer_link_set_local_rss(struct peer_link *l, const struct rss_cfg *c);
/* The peer guest's features: true with *f set when known (link up). */
bool peer_link_peer_features(const struct peer_link *l, uint64_t *f);

/* "system/name" of the peer while up, else NULL. */
const char *peer_link_peer_name(const struct peer_link *l);
/* Our node's path. */
const char *peer_link_node(const struct peer_link *l);
/* Why the last link went down or the last connection was refused ("" if
 * never). */
const char *peer_link_last_error(const struct peer_link *l);
const struct peer_link_stats *peer_link_stats(const struct peer_link *l);

#endif /* VNET_HOST_PEER_LINK_H */
