/* SPDX-License-Identifier: MIT */
/*
 * peer_ring.h - the single-producer single-consumer frame ring that
 * carries one direction of a peer link (docs/ARCHITECTURE.md "Peer links").
 *
 * The producer creates the ring as a file in /dev/shm and hands its fd to
 * the consumer (host/peer/ does that over the link socket).  The file is:
 *
 *   offset 0      header page: immutable geometry (written once at
 *                 creation), then the producer's line (prod,
 *                 prod_need_wakeup), then the consumer's line (cons,
 *                 cons_need_wakeup), each 128 bytes apart so that neither
 *                 side's writes bounce the other's cache line (128, not
 *                 64: x86's adjacent-line prefetcher pairs lines)
 *   desc_off      desc_count descriptors {u32 off; u32 len;}
 *   data_off      data_size bytes of records
 *
 * A record is one whole frame: the 12-byte struct virtio_net_hdr_v1 and
 * the Ethernet frame after it, at a 64-byte aligned offset in the data
 * area, never wrapping past its end.  Indices are free-running u32s; slot
 * = index & (desc_count - 1).
 *
 * Trust: each side trusts only its private state.  The producer keeps a
 * shadow of every in-flight record and reads nothing from the file but
 * `cons` and `cons_need_wakeup`; the consumer copies the geometry once at
 * attach and reads each descriptor once.  Every index and descriptor read
 * is checked; a bad one latches `broken` with a reason and every later
 * call fails fast.  Record *contents* stay writable by the producer while
 * the consumer reads them: copy a record out before parsing it.
 *
 * Wakeups follow AF_XDP's need_wakeup: a side sets its flag before it
 * sleeps, the other side checks it after publishing (with a full barrier
 * in between on both sides), so no doorbell is written while the other
 * side is awake.
 *
 * Truncation: the other side holds an fd of the file and could shrink it
 * under our mapping, which would make our next access a SIGBUS.  Every
 * mapping is registered with a SIGBUS guard (installed once per process,
 * chaining to any earlier handler): a fault inside a ring replaces the
 * whole mapping with private zero pages, so the access completes, and the
 * ring is latched broken ("file truncated") at its next check.  The data
 * path never pays for this.
 *
 * Serialization: one thread drives a producer, one thread (possibly in
 * another process) drives the consumer; nothing here takes a lock,
 * allocates or makes a syscall on the data path.
 */
#ifndef VNET_PEER_RING_H
#define VNET_PEER_RING_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/barrier.h"
#include "common/virtio.h"

#define PEER_RING_MAGIC		0x52504e56u	/* "VNPR" in file order */
#define PEER_RING_VERSION	1u
#define PEER_RING_HDR_SIZE	4096u
#define PEER_RING_ALIGN		64u		/* record offset alignment */

/* A record: the v1 net header plus up to a 64 KiB GSO frame. */
#define PEER_RING_REC_MIN	((uint32_t)sizeof(struct virtio_net_hdr_v1))
#define PEER_RING_REC_MAX	(PEER_RING_REC_MIN + VNET_MAX_GSO_FRAME)

/* Geometry limits, enforced at create and at attach.  The data area holds
 * at least four maximum-size records; the upper bounds keep a hostile
 * hello from making us map gigabytes. */
#define PEER_RING_MIN_DESC	8u
#define PEER_RING_MAX_DESC	32768u
#define PEER_RING_MIN_DATA	(320u * 1024u)
#define PEER_RING_MAX_DATA	(256u * 1024u * 1024u)
#define PEER_RING_DATA_GRAIN	4096u		/* data_size is a multiple */

#define PEER_RING_DEF_DESC	1024u
#define PEER_RING_DEF_DATA	(8u * 1024u * 1024u)

static_assert(4 * ((PEER_RING_REC_MAX + PEER_RING_ALIGN - 1) / PEER_RING_ALIGN *
		   PEER_RING_ALIGN) <= PEER_RING_MIN_DATA,
	      "the smallest data area must hold four maximum-size records");
static_assert(PEER_RING_MIN_DATA % PEER_RING_DATA_GRAIN == 0, "data grain");

/* ---- shared layout (a wire format: pinned by static_assert) ----------- */

struct peer_ring_geom {
	uint32_t magic;
	uint32_t version;
	uint32_t desc_count;	/* power of two */
	uint32_t data_size;
	uint32_t desc_off;
	uint32_t data_off;
	uint64_t file_size;
	uint32_t start_idx;	/* first prod/cons value (0 on real links) */
	uint32_t reserved;
};
static_assert(sizeof(struct peer_ring_geom) == 40, "geom");

struct peer_ring_hdr {
	struct peer_ring_geom geom;
	uint8_t pad0[128 - sizeof(struct peer_ring_geom)];
	/* written by the producer only */
	uint32_t prod;
	uint32_t prod_need_wakeup;	/* producer found the ring full and sleeps */
	uint8_t pad1[120];
	/* written by the consumer only */
	uint32_t cons;
	uint32_t cons_need_wakeup;	/* consumer sleeps: ring its doorbell */
	uint8_t pad2[PEER_RING_HDR_SIZE - 264];
};
static_assert(offsetof(struct peer_ring_hdr, prod) == 128, "prod line");
static_assert(offsetof(struct peer_ring_hdr, prod_need_wakeup) == 132, "prod flag");
static_assert(offsetof(struct peer_ring_hdr, cons) == 256, "cons line");
static_assert(offsetof(struct peer_ring_hdr, cons_need_wakeup) == 260, "cons flag");
static_assert(sizeof(struct peer_ring_hdr) == PEER_RING_HDR_SIZE, "header page");

struct peer_ring_desc {
	uint32_t off;	/* from the start of the data area, PEER_RING_ALIGN aligned */
	uint32_t len;	/* PEER_RING_REC_MIN..PEER_RING_REC_MAX */
};
static_assert(sizeof(struct peer_ring_desc) == 8, "desc");

/* ---- private state ------------------------------------------------------ */

#define PEER_RING_REASON_LEN 160
#define PEER_RING_NAME_LEN   256

struct peer_ring_stats {
	uint64_t records;
	uint64_t bytes;
	uint64_t wakeups_requested;	/* publish found the other side asleep */
	uint64_t full;			/* producer: reserve found no room */
};

/* What the producer remembers of each in-flight record: the running
 * total of data bytes charged (each record's skipped tail and aligned
 * length) up to and including it.  When the consumer passes it, all that
 * is free again, so releasing any number of records is one lookup. */
struct peer_ring_shadow {
	uint32_t charged_end;
};

struct peer_ring_prod {
	struct peer_ring_hdr *hdr;	/* the whole mapping starts here */
	size_t map_size;
	struct peer_ring_desc *desc;
	uint8_t *data;
	struct peer_ring_shadow *shadow;
	uint32_t desc_count, mask, data_size;

	uint32_t prod;		/* next index to fill */
	uint32_t prod_pub;	/* last index published */
	uint32_t cons;		/* last validated consumer index */
	uint32_t head;		/* data offset where the next record may start */
	/* Running totals of data bytes (mod 2^32): charged to records
	 * queued, and given back by the consumer.  Held by records in
	 * flight: charged - released (peer_ring_cursor_used). */
	uint32_t charged;
	uint32_t released;

	bool reserved;		/* a reserve() awaits its commit() */
	uint32_t res_off, res_skip, res_len;
	bool waiting;		/* prod_need_wakeup is set */

	int fd;
	char shm_name[PEER_RING_NAME_LEN];

	int guard;		/* truncation guard slot + 1; 0 none */
	bool broken;
	char reason[PEER_RING_REASON_LEN];
	struct peer_ring_stats stats;
};

struct peer_ring_cons {
	struct peer_ring_hdr *hdr;
	size_t map_size;
	const struct peer_ring_desc *desc;
	const uint8_t *data;
	uint32_t desc_count, mask, data_size;

	uint32_t cons;		/* next index to read */
	uint32_t cons_pub;	/* last index published */
	uint32_t prod;		/* last validated producer index */

	bool have_cur;		/* the record at cons was read and checked */
	uint32_t cur_off, cur_len;
	bool sleeping;		/* cons_need_wakeup is set */
	/* Check each record's net header (net_hdr_check, common/net_hdr.h) in peek: set
	 * by peer links, whose records are frames; off for raw rings. */
	bool check_hdr;

	int guard;		/* truncation guard slot + 1; 0 none */
	bool broken;
	char reason[PEER_RING_REASON_LEN];
	struct peer_ring_stats stats;
};

/* ---- geometry -------------------------------------------------------------- */

/* 0 if (desc_count, data_size) is within the limits above, else -EINVAL
 * with why (may be NULL) filled. */
int peer_ring_geom_check(uint32_t desc_count, uint32_t data_size, char *why,
			 size_t whylen);
/* Size of the file for a valid geometry. */
uint64_t peer_ring_file_size(uint32_t desc_count, uint32_t data_size);

/* ---- producer ---------------------------------------------------------------- */

/* Creates the ring as shm_name ("/name", O_CREAT|O_EXCL, mode 0600) and
 * maps it.  p keeps the fd (closed by destroy); *fd_out (if not NULL)
 * receives it for handing to the consumer.  -errno: -EINVAL (geometry or
 * name), -EEXIST, -ENOMEM, ... */
int peer_ring_create(struct peer_ring_prod *p, const char *shm_name,
		     uint32_t desc_count, uint32_t data_size, int *fd_out);
/* The same with the first index given: tests use it to cross the u32
 * wrap. */
int peer_ring_create_at(struct peer_ring_prod *p, const char *shm_name,
			uint32_t desc_count, uint32_t data_size,
			uint32_t start_idx, int *fd_out);
/* Unmaps and closes; unlinks the file too when asked.  Safe on a zeroed
 * or already destroyed p. */
void peer_ring_prod_destroy(struct peer_ring_prod *p, bool unlink);

/* Reserve and commit are inline: they run for every frame, and the
 * calls and their stack frames were a third of their cost.  What they
 * share with peer_ring.c is below; nothing else uses it. */

/* THE record length rule, both ends: the header, and at most a 64 KiB
 * GSO frame after it (one unsigned compare). */
static inline bool peer_ring_rec_len_ok(uint32_t len)
{
	return len - PEER_RING_REC_MIN <= PEER_RING_REC_MAX - PEER_RING_REC_MIN;
}

/* Where the producer fills next: a copy of p->prod, charged, released
 * and head that a burst keeps in registers (its stores into the
 * descriptors could alias *p, so fields of *p would be reloaded after
 * each). */
struct peer_ring_cursor {
	uint32_t prod, charged, released, head;
};

/* Data bytes held by records in flight, as the cursor sees them. */
static inline uint32_t peer_ring_cursor_used(const struct peer_ring_cursor *c)
{
	return c->charged - c->released;
}

/* THE placement rule.  Where a record of len bytes would go: at head, or
 * at 0 when the tail of the area is too short (records never wrap; the
 * skipped tail is charged to the record).  True if a descriptor slot is
 * free and the record fits in the free space, as far as our last look at
 * the consumer's index says. */
static inline bool peer_ring_cursor_room(const struct peer_ring_prod *p,
					 struct peer_ring_cursor *c, uint32_t len,
					 uint32_t *off, uint32_t *skip)
{
	uint32_t need = (len + PEER_RING_ALIGN - 1) & ~(PEER_RING_ALIGN - 1);
	uint32_t used = peer_ring_cursor_used(c);

	if (c->prod - p->cons >= p->desc_count)
		return false;
	if (used == 0)
		c->head = 0;	/* empty: start over, nothing to skip */
	if (need <= p->data_size - c->head) {
		*off = c->head;
		*skip = 0;
	} else {
		*off = 0;
		*skip = p->data_size - c->head;
	}
	return (uint64_t)*skip + need <= p->data_size - used;
}

/* p's cursor, and back into p. */
static inline struct peer_ring_cursor peer_ring_cursor_of(const struct peer_ring_prod *p)
{
	return (struct peer_ring_cursor){ p->prod, p->charged, p->released, p->head };
}
static inline void peer_ring_cursor_store(struct peer_ring_prod *p,
					  const struct peer_ring_cursor *c)
{
	p->prod = c->prod;
	p->charged = c->charged;
	p->head = c->head;
}

/* Data bytes held by p's records in flight. */
static inline uint32_t peer_ring_prod_used(const struct peer_ring_prod *p)
{
	struct peer_ring_cursor c = peer_ring_cursor_of(p);

	return peer_ring_cursor_used(&c);
}

/* The same on p's own cursor. */
static inline bool peer_ring_prod_room(struct peer_ring_prod *p, uint32_t len,
				       uint32_t *off, uint32_t *skip)
{
	struct peer_ring_cursor c = peer_ring_cursor_of(p);
	bool room = peer_ring_cursor_room(p, &c, len, off, skip);

	peer_ring_cursor_store(p, &c);
	return room;
}

/* Opens the reservation of len bytes at off (skip: the tail it skips). */
static inline void *peer_ring_prod_take(struct peer_ring_prod *p, uint32_t len,
					uint32_t off, uint32_t skip)
{
	p->reserved = true;
	p->res_off = off;
	p->res_skip = skip;
	p->res_len = len;
	return p->data + off;
}

/* peer_ring_reserve when our view of the ring says full: rereads the
 * consumer's index and tries again (peer_ring.c). */
void *peer_ring_reserve_full(struct peer_ring_prod *p, uint32_t len);

/* Room for a record of len bytes (REC_MIN..REC_MAX): a pointer to fill,
 * or NULL when the ring is full (or broken, or len is out of range).
 * Never blocks.  At most one reservation is open at a time. */
static inline void *peer_ring_reserve(struct peer_ring_prod *p, uint32_t len)
{
	uint32_t off, skip;

	assert(!p->reserved);
	if (p->broken || !peer_ring_rec_len_ok(len))
		return NULL;
	if (!peer_ring_prod_room(p, len, &off, &skip))
		return peer_ring_reserve_full(p, len);
	return peer_ring_prod_take(p, len, off, skip);
}

/* THE queueing of a record: len bytes at off (skip: the tail it skips),
 * as peer_ring_cursor_room placed it; its descriptor, and what it holds
 * in our shadow.  Private: the consumer sees it after peer_ring_publish. */
static inline void peer_ring_cursor_queue(struct peer_ring_prod *p, struct peer_ring_cursor *c,
					  uint32_t off, uint32_t skip, uint32_t len)
{
	uint32_t slot = c->prod & p->mask;
	uint32_t aligned = (len + PEER_RING_ALIGN - 1) & ~(PEER_RING_ALIGN - 1);

	/* Relaxed stores: the release store of prod in publish orders them. */
	WRITE_ONCE(p->desc[slot].off, off);
	WRITE_ONCE(p->desc[slot].len, len);
	c->charged += skip + aligned;
	p->shadow[slot].charged_end = c->charged;
	c->head = off + aligned;
	c->prod++;
}

/* Queues the reserved record with its final length (REC_MIN..reserved
 * length).  Private: the consumer sees it after peer_ring_publish. */
static inline void peer_ring_commit(struct peer_ring_prod *p, uint32_t len)
{
	struct peer_ring_cursor c = peer_ring_cursor_of(p);

	assert(p->reserved && len >= PEER_RING_REC_MIN && len <= p->res_len);
	p->reserved = false;
	peer_ring_cursor_queue(p, &c, p->res_off, p->res_skip, len);
	peer_ring_cursor_store(p, &c);
	p->stats.records++;
	p->stats.bytes += len;
}

/* Reserve and commit for a burst: room for up to n records of lens[i]
 * bytes each (REC_MIN..REC_MAX), queued in order at once.  How many were
 * (0..n: fewer when the ring fills, or is broken, or a length is out of
 * range), with recs[i] where record i's bytes go.  The caller writes
 * every byte of each before peer_ring_publish, which shows them; nothing
 * queued can be taken back, so check what goes in first.  No
 * reservation may be open.  One call a burst, where reserve and commit
 * cost their bookkeeping a record (bench/insns.sh tx). */
unsigned peer_ring_put_burst(struct peer_ring_prod *p, const uint32_t *lens, unsigned n,
			     uint8_t **recs);
/* Gives up the open reservation: nothing is queued (a reader that had
 * nothing to put in it, e.g. a TAP read that found no frame). */
void peer_ring_cancel(struct peer_ring_prod *p);
/* Makes every committed record visible.  Returns true when the consumer
 * asked for a wakeup: the caller then writes the consumer's doorbell. */
bool peer_ring_publish(struct peer_ring_prod *p);
/* The ring had no room for len bytes: sets prod_need_wakeup and checks
 * again.  True: still no room, sleep until the doorbell.  False: room
 * appeared (flag cleared), or the ring is broken. */
bool peer_ring_prod_wait_prepare(struct peer_ring_prod *p, uint32_t len);
/* After the doorbell: stop asking the consumer for wakeups. */
void peer_ring_prod_awake(struct peer_ring_prod *p);
/* Checks that the consumer's file was not truncated under us (the
 * publish and wait paths check too): true and broken latched if it was. */
bool peer_ring_prod_check_truncated(struct peer_ring_prod *p);
/* Free descriptor slots, after rereading the consumer's index. */
uint32_t peer_ring_free_slots(struct peer_ring_prod *p);
/* Records committed but not yet consumed (published or not). */
static inline uint32_t peer_ring_in_flight(const struct peer_ring_prod *p)
{
	return p->prod - p->cons;
}

/* The records committed and not yet consumed, oldest first, read back
 * through the consumer's checks (peer_ring_peek: the consumer mapped
 * the ring writable and may have written anything into it): fn(arg,
 * record, length) for each; check_hdr as a consumer's.  The ring is not
 * changed.  The count handed out, or -EIO when a record fails a check
 * (those before it were handed out; p->reason unchanged). */
int peer_ring_prod_unconsumed(struct peer_ring_prod *p, bool check_hdr,
			      void (*fn)(void *arg, const uint8_t *rec, uint32_t len), void *arg);

/* ---- consumer ------------------------------------------------------------------ */

/* Maps the producer's ring from fd (not consumed: the caller closes it)
 * after checking it against the geometry the peer announced: a regular
 * file of exactly the expected size whose header repeats that geometry.
 * -EINVAL with c->reason filled on any mismatch; -errno on mmap failure. */
int peer_ring_cons_attach(struct peer_ring_cons *c, int fd,
			  uint32_t desc_count, uint32_t data_size);
/* Unmaps.  Safe on a zeroed or already detached c. */
void peer_ring_cons_detach(struct peer_ring_cons *c);
/* As peer_ring_prod_check_truncated, for the consumer's mapping. */
bool peer_ring_cons_check_truncated(struct peer_ring_cons *c);

/* The next record: 1 with *rec and *len set (len already checked), 0 when
 * empty, -EIO when the ring is broken (c->reason says why).  Peeking
 * again without consume returns the same record without rereading it. */
int peer_ring_peek(struct peer_ring_cons *c, const uint8_t **rec,
		   uint32_t *len);
/* A record as peer_ring_peek_burst read and checked it. */
struct peer_ring_rec {
	/* The record's header, copied out and (with check_hdr) checked on
	 * this copy: act on it, never on the ring's, which the producer
	 * may still change. */
	struct virtio_net_hdr_v1 hdr;
	uint32_t len;		/* the record's length, header included, checked */
	const uint8_t *rec;	/* the record in the ring (its frame at rec + 12) */
};
/* Up to max records from the one to consume next, each read once and
 * checked as peer_ring_peek checks one: how many (the ring is not
 * changed: consume them with peer_ring_consume_rec, in order), 0 when
 * empty, -EIO when the ring is broken.  A record that fails its check
 * ends the burst before it, and breaks the ring (c->reason) for the next
 * call.  One call and one look at the producer's index per burst, where
 * peer_ring_peek costs a call per record (bench/insns.sh rx). */
int peer_ring_peek_burst(struct peer_ring_cons *c, struct peer_ring_rec *out, unsigned max);
/* Done with the next record of a burst, r. */
static inline void peer_ring_consume_rec(struct peer_ring_cons *c, const struct peer_ring_rec *r)
{
	c->cons++;
	c->stats.records++;
	c->stats.bytes += r->len;
}
/* Done with the peeked record (its bytes may be reused once published).
 * Inline: the receive path calls it for every frame. */
static inline void peer_ring_consume(struct peer_ring_cons *c)
{
	assert(c->have_cur);
	c->have_cur = false;
	c->cons++;
	c->stats.records++;
	c->stats.bytes += c->cur_len;
}
/* Records the producer had published when we last read its (checked)
 * index, from the one to peek next: a hint of what is coming, each still
 * to pass peer_ring_peek's checks.  At least 1 after a peek returned 1. */
static inline uint32_t peer_ring_cons_pending(const struct peer_ring_cons *c)
{
	return c->prod - c->cons;
}
/* Hands consumed space back to the producer.  True when the producer
 * waits for space: the caller then writes the producer's doorbell. */
bool peer_ring_cons_publish(struct peer_ring_cons *c);
/* Before sleeping (after peer_ring_cons_publish): sets cons_need_wakeup
 * and checks again.  True: nothing to read, sleep until the doorbell.
 * False: records arrived (flag cleared) or the ring is broken. */
bool peer_ring_cons_sleep_prepare(struct peer_ring_cons *c);
/* After waking: the producer need not ring while we drain. */
void peer_ring_cons_awake(struct peer_ring_cons *c);

#endif /* VNET_PEER_RING_H */
