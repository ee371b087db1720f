/* SPDX-License-Identifier: MIT */
/*
 * hello.h - the messages two vdevs exchange on a peer link's socket.
 *
 * The socket is a UNIX SOCK_SEQPACKET connection: each message arrives
 * whole or not at all, with its SCM_RIGHTS fds attached to exactly that
 * message, and an over-long message shows up as MSG_TRUNC, so there is no
 * framing to get wrong.  Messages:
 *
 *   HELLO     both sides, first, unprompted: who we are, our guest's
 *             offload features, how many ring pairs we have (one per
 *             queue pair of our device, multiqueue) and our TX rings'
 *             geometry; fds: our TX rings (the /dev/shm files), then one
 *             doorbell eventfd per ring pair (the peer writes doorbell K
 *             to wake us for ring pair K).  The link uses the first
 *             min(ours, the peer's) ring pairs.
 *   READY     we checked the peer's hello and chose this connection for
 *             the link.  A side is up once it has sent READY and received
 *             the peer's, so a connection the other side refuses never
 *             shows as up (no flap).
 *   FEATURES  later, when our guest renegotiated (peerfeats auto).
 *   RSS       when the link comes up and when it changes: our driver's
 *             RSS configuration (or off), so that the peer's device puts
 *             each frame on the ring pair of the receive queue it
 *             belongs to.
 *   MOVING    our vdev moves to another process (vfio-user migration),
 *             which links within hold_ms: what we did not consume stays
 *             the peer's to hand to that process, and the peer holds
 *             what its guest sends meanwhile.  A BYE follows.
 *   BYE       before we close a connection on purpose: why.
 *
 * The peer is not trusted: peer_msg_recv reads a message once into local
 * memory and checks the header; peer_hello_check and
 * peer_hello_check_fds check every field and fd before anything is used.
 * Every failure names the field in `why`.
 */
#ifndef VNET_HOST_PEER_HELLO_H
#define VNET_HOST_PEER_HELLO_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rss.h"

#define PEER_MSG_MAGIC		0x4c504e56u	/* "VNPL" in wire order */
#define PEER_PROTO_VERSION	1u

enum peer_msg_type {
	PEER_MSG_HELLO = 1,
	PEER_MSG_FEATURES = 2,
	PEER_MSG_BYE = 3,
	PEER_MSG_READY = 4,
	PEER_MSG_RSS = 5,
	PEER_MSG_MOVING = 6,
};

/* The longest a peer holds frames for a vdev that moves (MOVING). */
#define PEER_MOVE_HOLD_MAX_MS 10000

#define PEER_NAME_MAX	48	/* system and vdev names incl. NUL (= OPTS_NAME_MAX) */
#define PEER_PATH_MAX	108	/* sun_path incl. NUL */
#define PEER_WHY_MAX	160

/* flags */
#define PEER_F_FEATURES_KNOWN	1u	/* our guest has negotiated features */
#define PEER_F_ALL		PEER_F_FEATURES_KNOWN

/* Wire layouts: little-endian, fixed size, reserved bytes zero. */
struct peer_msg_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t size;		/* of the whole message */
	uint32_t reserved;
};
static_assert(sizeof(struct peer_msg_hdr) == 16, "msg hdr");

struct peer_hello {
	struct peer_msg_hdr hdr;
	uint32_t flags;
	uint32_t desc_count;	/* the sender's TX ring geometry */
	uint32_t data_size;
	uint8_t mac[6];
	uint16_t ring_pairs;	/* 1..PEER_MAX_RING_PAIRS; 0 (older senders): 1 */
	uint8_t reserved0[4];
	uint64_t features;	/* offload bits, subset of VNET_PEERFEATS_MAX */
	char system[PEER_NAME_MAX];
	char name[PEER_NAME_MAX];
	char node[PEER_PATH_MAX];	/* the sender's node path */
	uint8_t reserved1[4];
};
static_assert(offsetof(struct peer_hello, flags) == 16, "hello flags");
static_assert(offsetof(struct peer_hello, mac) == 28, "hello mac");
static_assert(offsetof(struct peer_hello, ring_pairs) == 34, "hello ring pairs");
static_assert(offsetof(struct peer_hello, features) == 40, "hello features");
static_assert(offsetof(struct peer_hello, system) == 48, "hello system");
static_assert(offsetof(struct peer_hello, node) == 144, "hello node");
static_assert(sizeof(struct peer_hello) == 256, "hello size");

struct peer_features_msg {
	struct peer_msg_hdr hdr;
	uint32_t flags;
	uint32_t reserved;
	uint64_t features;
};
static_assert(sizeof(struct peer_features_msg) == 32, "features msg");

struct peer_bye {
	struct peer_msg_hdr hdr;
	char reason[112];
};
static_assert(sizeof(struct peer_bye) == 128, "bye msg");

struct peer_ready {
	struct peer_msg_hdr hdr;
};
static_assert(sizeof(struct peer_ready) == 16, "ready msg");

struct peer_moving {
	struct peer_msg_hdr hdr;
	uint32_t hold_ms;	/* 1..PEER_MOVE_HOLD_MAX_MS */
	uint32_t reserved;
};
static_assert(sizeof(struct peer_moving) == 24, "moving msg");

#define PEER_RSS_ON 1u
/* A receiver's RSS configuration (common/rss.h), fixed size; entries
 * past table_len and key bytes past key_len are zero. */
struct peer_rss_msg {
	struct peer_msg_hdr hdr;
	uint32_t flags;		/* PEER_RSS_ON, else everything zero */
	uint32_t hash_types;
	uint16_t table_len;
	uint16_t unclassified;
	uint8_t key_len;
	uint8_t reserved[3];
	uint8_t key[RSS_KEY_MAX];
	uint16_t table[RSS_TABLE_MAX];
};
static_assert(offsetof(struct peer_rss_msg, key) == 32, "rss key");
static_assert(offsetof(struct peer_rss_msg, table) == 72, "rss table");
static_assert(sizeof(struct peer_rss_msg) == 328, "rss msg");

union peer_msg {
	struct peer_msg_hdr hdr;
	struct peer_ready ready;
	struct peer_hello hello;
	struct peer_features_msg features;
	struct peer_bye bye;
	struct peer_rss_msg rss;
	struct peer_moving moving;
};

/* Ring pairs a link may have (a vdev's queue pairs, OPTS_MAX_QUEUE_PAIRS). */
#define PEER_MAX_RING_PAIRS	8
/* A HELLO of n ring pairs carries 2n fds: ring k at PEER_HELLO_FD_RING(k),
 * doorbell k at PEER_HELLO_FD_BELL(n, k).  With one pair: ring, doorbell. */
#define PEER_HELLO_FD_RING(k)	 (k)
#define PEER_HELLO_FD_BELL(n, k) ((n) + (k))
#define PEER_HELLO_NFDS(n)	 (2 * (n))
/* Room for more than a HELLO's fds, so that extra fds are seen (and
 * closed) rather than silently truncated. */
#define PEER_MSG_MAX_FDS	(2 * PEER_MAX_RING_PAIRS + 2)

/* Fills a HELLO. Strings must fit (checked by the caller). */
void peer_hello_build(struct peer_hello *h, const char *system,
		      const char *name, const char *node, const uint8_t mac[6],
		      bool features_known, uint64_t features, unsigned ring_pairs,
		      uint32_t desc_count, uint32_t data_size);
/* The ring pairs a checked hello announces (0 from an older sender: 1). */
static inline unsigned peer_hello_ring_pairs(const struct peer_hello *h)
{
	return h->ring_pairs ? h->ring_pairs : 1;
}
void peer_features_build(struct peer_features_msg *m, bool known,
			 uint64_t features);
void peer_bye_build(struct peer_bye *m, const char *reason);
void peer_moving_build(struct peer_moving *m, uint32_t hold_ms);
void peer_ready_build(struct peer_ready *m);
void peer_rss_build(struct peer_rss_msg *m, const struct rss_cfg *c);
/* Checks an RSS message (rss_cfg_check, queues below
 * PEER_MAX_RING_PAIRS; off means every field zero) into out.  0 or
 * -EPROTO with why. */
int peer_rss_check(const struct peer_rss_msg *m, struct rss_cfg *out, char *why,
		   size_t whylen);

/* Sends one message with nfds fds (0..PEER_MSG_MAX_FDS) without blocking.
 * 0 or -errno (-EAGAIN when the socket buffer is full). */
int peer_msg_send(int sock, const void *msg, size_t len, const int *fds,
		  int nfds);

/* Receives one message without blocking.  Returns its type (> 0) after
 * checking magic, version, type, size and reserved fields, with the fds
 * it carried in fds[0..*nfds) (the caller owns them; close-on-exec);
 * 0 on end of file; -EAGAIN when nothing is queued; -EPROTO with why
 * filled (and any fds closed) on a bad message; other -errno on a socket
 * error. */
int peer_msg_recv(int sock, union peer_msg *m, int fds[PEER_MSG_MAX_FDS],
		  int *nfds, char *why, size_t whylen);

/* Checks every field of a received HELLO: strings terminated, non-empty
 * and printable, names valid, flags known, features within
 * VNET_PEERFEATS_MAX (0 unless known), MAC unicast, ring pairs at most
 * PEER_MAX_RING_PAIRS, ring geometry within peer_ring limits, reserved
 * bytes zero.  0 or -EPROTO with why. */
int peer_hello_check(const struct peer_hello *h, char *why, size_t whylen);
/* Checks a HELLO's fds: exactly two per ring pair; each ring a regular
 * file of the size the geometry implies, owned by us; each doorbell an
 * eventfd we may write.  Makes the doorbells non-blocking (a full counter
 * must not block us).  0 or -EPROTO with why; the fds stay the caller's
 * either way. */
int peer_hello_check_fds(const struct peer_hello *h, const int *fds, int nfds,
			 char *why, size_t whylen);
/* Checks a FEATURES message's fields.  0 or -EPROTO with why. */
int peer_features_check(const struct peer_features_msg *m, char *why,
			size_t whylen);
/* Copies a BYE's reason into out, cut at the first NUL and with anything
 * unprintable replaced, safe to log. */
void peer_bye_reason(const struct peer_bye *m, char *out, size_t outlen);
/* A MOVING message: hold_ms within 1..PEER_MOVE_HOLD_MAX_MS, reserved
 * zero.  0 or -EPROTO with why. */
int peer_moving_check(const struct peer_moving *m, char *why, size_t whylen);

/* [A-Za-z0-9_.-], 1..PEER_NAME_MAX-1 characters, not starting with '.'
 * or '-' (the rule opts_valid_name applies to the command line). */
bool peer_name_valid(const char *s);

#endif /* VNET_HOST_PEER_HELLO_H */
