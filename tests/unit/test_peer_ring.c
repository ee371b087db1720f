// SPDX-License-Identifier: MIT
/*
 * test_peer_ring.c - the peer link's shared-memory frame ring: round trips,
 * wrap of the indices and of the data area, full ring, the need_wakeup
 * handshake both ways, and one test per kind of hostile ring content,
 * each of which must end in `broken` with a reason, never a crash.
 *
 * The consumer maps the file through its own mmap (a different address
 * from the producer's), as the other process would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/peer_ring.h"

struct pair {
	struct peer_ring_prod p;
	struct peer_ring_cons c;
	char name[64];
	int fd;
};

static unsigned name_seq;

static void unique_name(char *buf, size_t len)
{
	snprintf(buf, len, "/vnet-test-ring-%d-%u", (int)getpid(), name_seq++);
}

static int pair_open_at(struct pair *t, uint32_t desc_count, uint32_t data_size,
			uint32_t start)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->p.fd = -1;
	unique_name(t->name, sizeof(t->name));
	ret = peer_ring_create_at(&t->p, t->name, desc_count, data_size, start,
				  &t->fd);
	if (ret)
		return ret;
	return peer_ring_cons_attach(&t->c, t->fd, desc_count, data_size);
}

static int setup_pair(void **state)
{
	struct pair *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	t->p.fd = -1;
	*state = t;
	return 0;
}

static int teardown_pair(void **state)
{
	struct pair *t = *state;

	peer_ring_cons_detach(&t->c);
	peer_ring_prod_destroy(&t->p, true);
	free(t);
	return 0;
}

/* Record contents: a sequence number in the first 4 bytes, then bytes
 * derived from it, so a record in the wrong place or order shows. */
static void fill_rec(uint8_t *r, uint32_t len, uint32_t seq)
{
	memcpy(r, &seq, sizeof(seq));
	for (uint32_t i = 4; i < len; i++)
		r[i] = (uint8_t)(seq * 31 + i);
}

static void check_rec(const uint8_t *r, uint32_t len, uint32_t want_len,
		      uint32_t seq)
{
	uint32_t got;

	assert_int_equal(len, want_len);
	memcpy(&got, r, sizeof(got));
	assert_int_equal(got, seq);
	for (uint32_t i = 4; i < len; i++)
		if (r[i] != (uint8_t)(seq * 31 + i))
			fail_msg("record %u byte %u: %u", seq, i, r[i]);
}

static bool push(struct peer_ring_prod *p, uint32_t len, uint32_t seq)
{
	uint8_t *r = peer_ring_reserve(p, len);

	if (!r)
		return false;
	fill_rec(r, len, seq);
	peer_ring_commit(p, len);
	return true;
}

static void pop_check(struct peer_ring_cons *c, uint32_t len, uint32_t seq)
{
	const uint8_t *r;
	uint32_t l;

	assert_int_equal(peer_ring_peek(c, &r, &l), 1);
	check_rec(r, l, len, seq);
	peer_ring_consume(c);
}

/* Deterministic sizes spanning the whole legal range. */
static uint32_t size_for(uint32_t seq)
{
	static const uint32_t fixed[] = { PEER_RING_REC_MIN, 60, 64, 65, 1526,
					  9000, 65536, PEER_RING_REC_MAX };
	uint32_t x = seq * 2654435761u;

	if (seq % 3 == 0)
		return fixed[(seq / 3) % 8];
	return PEER_RING_REC_MIN + x % (PEER_RING_REC_MAX - PEER_RING_REC_MIN + 1);
}

static void test_round_trip(void **state)
{
	struct pair *t = *state;
	const uint8_t *r;
	uint32_t l;

	assert_int_equal(pair_open_at(t, PEER_RING_DEF_DESC, PEER_RING_DEF_DATA, 0), 0);
	assert_int_equal(peer_ring_peek(&t->c, &r, &l), 0);
	for (uint32_t i = 0; i < 10; i++)
		assert_true(push(&t->p, size_for(i), i));
	/* Nothing is visible before publish. */
	assert_int_equal(peer_ring_peek(&t->c, &r, &l), 0);
	peer_ring_publish(&t->p);
	for (uint32_t i = 0; i < 10; i++) {
		/* A second peek returns the same record. */
		assert_int_equal(peer_ring_peek(&t->c, &r, &l), 1);
		pop_check(&t->c, size_for(i), i);
	}
	assert_int_equal(peer_ring_peek(&t->c, &r, &l), 0);
	peer_ring_cons_publish(&t->c);
	assert_int_equal(peer_ring_free_slots(&t->p), PEER_RING_DEF_DESC);
	assert_int_equal(t->p.stats.records, 10);
	assert_int_equal(t->c.stats.records, 10);
	assert_int_equal(t->p.stats.bytes, t->c.stats.bytes);
	assert_false(t->p.broken);
	assert_false(t->c.broken);
	/* Out-of-range lengths are refused at reserve. */
	assert_null(peer_ring_reserve(&t->p, PEER_RING_REC_MIN - 1));
	assert_null(peer_ring_reserve(&t->p, PEER_RING_REC_MAX + 1));
	/* Commit may shorten a reservation. */
	r = peer_ring_reserve(&t->p, 2000);
	assert_non_null(r);
	fill_rec((uint8_t *)r, 100, 77);
	peer_ring_commit(&t->p, 100);
	peer_ring_publish(&t->p);
	pop_check(&t->c, 100, 77);
}

/* A reservation given up (the TAP read found no frame) queues nothing:
 * the next record lands as if it never happened, over many laps. */
static void test_cancel(void **state)
{
	struct pair *t = *state;
	const uint8_t *r;
	uint32_t l;

	assert_int_equal(pair_open_at(t, 8, PEER_RING_MIN_DATA, 0), 0);
	for (uint32_t i = 0; i < 100; i++) {
		uint32_t before;

		assert_non_null(peer_ring_reserve(&t->p, PEER_RING_REC_MAX));
		before = peer_ring_in_flight(&t->p);
		peer_ring_cancel(&t->p);
		assert_int_equal(peer_ring_in_flight(&t->p), before);
		assert_true(push(&t->p, size_for(i), i));
		peer_ring_publish(&t->p);
		pop_check(&t->c, size_for(i), i);
		assert_int_equal(peer_ring_peek(&t->c, &r, &l), 0);
		peer_ring_cons_publish(&t->c);
	}
	assert_int_equal(t->p.stats.records, 100);
	assert_false(t->p.broken);
	assert_false(t->c.broken);
}

/* Producer and consumer interleave over many laps of the data area and
 * across the u32 index wrap, with every size from 12 bytes to a maximal
 * GSO frame; the consumer drains in uneven batches. */
static void test_wrap_mixed_sizes(void **state)
{
	struct pair *t = *state;
	uint32_t sent = 0, got = 0;
	uint64_t bytes = 0;

	assert_int_equal(pair_open_at(t, 64, PEER_RING_MIN_DATA, UINT32_MAX - 100), 0);
	while (got < 3000) {
		while (sent - got < 64 && push(&t->p, size_for(sent), sent))
			bytes += size_for(sent++);
		peer_ring_publish(&t->p);
		for (uint32_t n = 1 + got % 5; n && got < sent; n--, got++)
			pop_check(&t->c, size_for(got), got);
		peer_ring_cons_publish(&t->c);
	}
	assert_false(t->p.broken);
	assert_false(t->c.broken);
	/* Many laps of a 320 KiB area, and the indices wrapped. */
	assert_true(bytes > 50ull * PEER_RING_MIN_DATA);
	assert_true(t->c.cons < 10000);
}

static void test_full_ring(void **state)
{
	struct pair *t = *state;
	uint32_t n = 0;

	/* Descriptor-bound: 8 slots of small records. */
	assert_int_equal(pair_open_at(t, 8, PEER_RING_MIN_DATA, 0), 0);
	while (push(&t->p, 60, n))
		n++;
	assert_int_equal(n, 8);
	assert_int_equal(peer_ring_free_slots(&t->p), 0);
	assert_true(t->p.stats.full >= 1);
	peer_ring_publish(&t->p);
	pop_check(&t->c, 60, 0);
	/* Not published by the consumer yet: still full. */
	assert_false(push(&t->p, 60, 8));
	peer_ring_cons_publish(&t->c);
	assert_true(push(&t->p, 60, 8));
	peer_ring_publish(&t->p);
	for (uint32_t i = 1; i <= 8; i++)
		pop_check(&t->c, 60, i);
	peer_ring_cons_publish(&t->c);

	/* Byte-bound: maximum-size records fill the data area first. */
	n = 0;
	while (push(&t->p, PEER_RING_REC_MAX, 100 + n))
		n++;
	/* 4 x 65600 bytes in 320 KiB; the short tail still takes a small one. */
	assert_int_equal(n, 4);
	assert_true(peer_ring_free_slots(&t->p) > 0);
	assert_true(push(&t->p, PEER_RING_REC_MIN, 200));
	peer_ring_publish(&t->p);
	for (uint32_t i = 0; i < n; i++)
		pop_check(&t->c, PEER_RING_REC_MAX, 100 + i);
	pop_check(&t->c, PEER_RING_REC_MIN, 200);
	peer_ring_cons_publish(&t->c);
	assert_true(push(&t->p, PEER_RING_REC_MAX, 300));
	assert_false(t->p.broken);
}

static void test_need_wakeup_consumer(void **state)
{
	struct pair *t = *state;
	const uint8_t *r;
	uint32_t l;

	assert_int_equal(pair_open_at(t, 16, PEER_RING_MIN_DATA, 0), 0);
	/* Nothing published: no doorbell even though the consumer sleeps. */
	assert_false(peer_ring_publish(&t->p));
	/* The consumer starts asleep: the first batch asks for a doorbell. */
	assert_true(push(&t->p, 64, 0));
	assert_true(peer_ring_publish(&t->p));
	/* Awake consumer: batches go without doorbells. */
	peer_ring_cons_awake(&t->c);
	assert_true(push(&t->p, 64, 1));
	assert_false(peer_ring_publish(&t->p));
	/* Sleep refused while records wait; the flag is cleared again. */
	assert_false(peer_ring_cons_sleep_prepare(&t->c));
	assert_true(push(&t->p, 64, 2));
	assert_false(peer_ring_publish(&t->p));
	for (uint32_t i = 0; i < 3; i++)
		pop_check(&t->c, 64, i);
	assert_int_equal(peer_ring_peek(&t->c, &r, &l), 0);
	peer_ring_cons_publish(&t->c);
	/* Drained: may sleep, and the next publish asks for a doorbell. */
	assert_true(peer_ring_cons_sleep_prepare(&t->c));
	assert_true(push(&t->p, 64, 3));
	assert_true(peer_ring_publish(&t->p));
	assert_int_equal(t->p.stats.wakeups_requested, 2);
}

static void test_need_wakeup_producer(void **state)
{
	struct pair *t = *state;
	uint32_t n = 0;

	assert_int_equal(pair_open_at(t, 8, PEER_RING_MIN_DATA, 0), 0);
	while (push(&t->p, 100, n))
		n++;
	peer_ring_publish(&t->p);
	/* Room exists for nothing: the producer may sleep. */
	assert_true(peer_ring_prod_wait_prepare(&t->p, 100));
	assert_int_equal(t->p.hdr->prod_need_wakeup, 1);
	/* Consuming and publishing tells the consumer to ring us. */
	pop_check(&t->c, 100, 0);
	assert_true(peer_ring_cons_publish(&t->c));
	/* Nothing new consumed: no second doorbell. */
	assert_false(peer_ring_cons_publish(&t->c));
	peer_ring_prod_awake(&t->p);
	assert_int_equal(t->p.hdr->prod_need_wakeup, 0);
	pop_check(&t->c, 100, 1);
	assert_false(peer_ring_cons_publish(&t->c));
	/* Space exists: wait_prepare refuses to sleep and clears the flag. */
	assert_false(peer_ring_prod_wait_prepare(&t->p, 100));
	assert_int_equal(t->p.hdr->prod_need_wakeup, 0);
	assert_int_equal(t->c.stats.wakeups_requested, 1);
}

/* ---- hostile producer (consumer-side checks) --------------------------- */

static void expect_cons_broken(struct pair *t, const char *words)
{
	const uint8_t *r;
	uint32_t l;

	assert_int_equal(peer_ring_peek(&t->c, &r, &l), -EIO);
	assert_true(t->c.broken);
	if (!strstr(t->c.reason, words))
		fail_msg("reason \"%s\" lacks \"%s\"", t->c.reason, words);
	/* Latched: later calls fail fast too. */
	assert_int_equal(peer_ring_peek(&t->c, &r, &l), -EIO);
	assert_false(peer_ring_cons_publish(&t->c));
	assert_false(peer_ring_cons_sleep_prepare(&t->c));
}

static void test_hostile_prod_too_far(void **state)
{
	struct pair *t = *state;

	assert_int_equal(pair_open_at(t, 16, PEER_RING_MIN_DATA, 0), 0);
	t->p.hdr->prod = 17;
	expect_cons_broken(t, "ahead");
}

static void test_hostile_prod_backwards(void **state)
{
	struct pair *t = *state;

	assert_int_equal(pair_open_at(t, 16, PEER_RING_MIN_DATA, 5), 0);
	for (uint32_t i = 0; i < 3; i++)
		assert_true(push(&t->p, 64, i));
	peer_ring_publish(&t->p);
	for (uint32_t i = 0; i < 3; i++)
		pop_check(&t->c, 64, i);
	t->p.hdr->prod = 6;
	expect_cons_broken(t, "backwards");
}

static void hostile_desc(struct pair *t, uint32_t off, uint32_t len)
{
	assert_int_equal(pair_open_at(t, 16, PEER_RING_MIN_DATA, 0), 0);
	assert_true(push(&t->p, 64, 0));
	t->p.desc[0].off = off;
	t->p.desc[0].len = len;
	peer_ring_publish(&t->p);
}

static void test_hostile_len_short(void **state)
{
	hostile_desc(*state, 0, PEER_RING_REC_MIN - 1);
	expect_cons_broken(*state, "length");
}

static void test_hostile_len_long(void **state)
{
	hostile_desc(*state, 0, PEER_RING_REC_MAX + 1);
	expect_cons_broken(*state, "length");
}

static void test_hostile_len_huge(void **state)
{
	hostile_desc(*state, 64, UINT32_MAX);
	expect_cons_broken(*state, "length");
}

static void test_hostile_past_data(void **state)
{
	hostile_desc(*state, PEER_RING_MIN_DATA - 64, 100);
	expect_cons_broken(*state, "past the data area");
}

static void test_hostile_off_huge(void **state)
{
	hostile_desc(*state, UINT32_MAX - 63, 100);
	expect_cons_broken(*state, "past the data area");
}

static void test_hostile_misaligned(void **state)
{
	hostile_desc(*state, 8, 100);
	expect_cons_broken(*state, "aligned");
}

/* ---- hostile consumer (producer-side checks) --------------------------- */

static void test_hostile_cons_backwards(void **state)
{
	struct pair *t = *state;

	assert_int_equal(pair_open_at(t, 8, PEER_RING_MIN_DATA, 0), 0);
	for (uint32_t i = 0; i < 4; i++)
		assert_true(push(&t->p, 64, i));
	peer_ring_publish(&t->p);
	pop_check(&t->c, 64, 0);
	pop_check(&t->c, 64, 1);
	peer_ring_cons_publish(&t->c);
	assert_int_equal(peer_ring_free_slots(&t->p), 6);
	t->p.hdr->cons = 1;
	assert_int_equal(peer_ring_free_slots(&t->p), 0);
	assert_true(t->p.broken);
	assert_non_null(strstr(t->p.reason, "backwards"));
	assert_null(peer_ring_reserve(&t->p, 64));
	assert_false(peer_ring_publish(&t->p));
	assert_false(peer_ring_prod_wait_prepare(&t->p, 64));
}

static void test_hostile_cons_past_prod(void **state)
{
	struct pair *t = *state;
	uint32_t n = 0;

	assert_int_equal(pair_open_at(t, 8, PEER_RING_MIN_DATA, 0), 0);
	for (uint32_t i = 0; i < 2; i++)
		assert_true(push(&t->p, 64, i));
	peer_ring_publish(&t->p);
	/* Committed but unpublished records cannot have been consumed. */
	assert_true(push(&t->p, 64, 2));
	t->p.hdr->cons = 3;
	while (push(&t->p, 64, 3 + n))
		n++;
	assert_true(t->p.broken);
	assert_non_null(strstr(t->p.reason, "past the published"));
	assert_true(n <= 5);
}

/* ---- attach ------------------------------------------------------------- */

static void test_attach_wrong_size(void **state)
{
	struct pair *t = *state;

	assert_int_equal(pair_open_at(t, 16, PEER_RING_MIN_DATA, 0), 0);
	peer_ring_cons_detach(&t->c);
	assert_int_equal(ftruncate(t->fd, (off_t)t->p.map_size - 4096), 0);
	assert_int_equal(peer_ring_cons_attach(&t->c, t->fd, 16, PEER_RING_MIN_DATA),
			 -EINVAL);
	assert_non_null(strstr(t->c.reason, "size"));
	assert_null(t->c.hdr);
	/* The producer's mapping is now longer than the file: restore it
	 * before teardown unmaps (nothing touches the cut page). */
	assert_int_equal(ftruncate(t->fd, (off_t)t->p.map_size), 0);
}

static void test_attach_bad_magic(void **state)
{
	struct pair *t = *state;

	assert_int_equal(pair_open_at(t, 16, PEER_RING_MIN_DATA, 0), 0);
	peer_ring_cons_detach(&t->c);
	t->p.hdr->geom.magic ^= 1;
	assert_int_equal(peer_ring_cons_attach(&t->c, t->fd, 16, PEER_RING_MIN_DATA),
			 -EINVAL);
	assert_non_null(strstr(t->c.reason, "magic"));
	t->p.hdr->geom.magic ^= 1;
	t->p.hdr->geom.version = 2;
	assert_int_equal(peer_ring_cons_attach(&t->c, t->fd, 16, PEER_RING_MIN_DATA),
			 -EINVAL);
	assert_non_null(strstr(t->c.reason, "version"));
}

static void test_attach_geometry_mismatch(void **state)
{
	struct pair *t = *state;
	uint32_t data_size = PEER_RING_MIN_DATA + 4096;

	/* Same file size (the descriptor area rounds up to a page), other
	 * geometry: only the header can tell. */
	assert_int_equal(pair_open_at(t, 16, data_size, 0), 0);
	peer_ring_cons_detach(&t->c);
	assert_int_equal(peer_ring_cons_attach(&t->c, t->fd, 32, data_size), -EINVAL);
	assert_non_null(strstr(t->c.reason, "geometry"));
	t->p.hdr->geom.data_off += 64;
	assert_int_equal(peer_ring_cons_attach(&t->c, t->fd, 16, data_size), -EINVAL);
	assert_non_null(strstr(t->c.reason, "geometry"));
	t->p.hdr->geom.data_off -= 64;
	/* Announced geometry outside the limits is refused before mapping. */
	assert_int_equal(peer_ring_cons_attach(&t->c, t->fd, 24, data_size), -EINVAL);
	assert_non_null(strstr(t->c.reason, "power of two"));
	assert_int_equal(peer_ring_cons_attach(&t->c, t->fd, 16, 4096), -EINVAL);
	assert_non_null(strstr(t->c.reason, "data_size"));
	assert_int_equal(peer_ring_cons_attach(&t->c, t->fd, 16, data_size), 0);
}

static void test_attach_not_regular(void **state)
{
	struct pair *t = *state;
	int pfd[2];

	(void)t;
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(peer_ring_cons_attach(&t->c, pfd[0], 16, PEER_RING_MIN_DATA),
			 -EINVAL);
	close(pfd[0]);
	close(pfd[1]);
	assert_non_null(strstr(t->c.reason, "regular"));
}

static void test_create_refuses(void **state)
{
	struct pair *t = *state;
	struct peer_ring_prod q;

	assert_int_equal(pair_open_at(t, 16, PEER_RING_MIN_DATA, 0), 0);
	/* The name exists: O_EXCL. */
	assert_int_equal(peer_ring_create(&q, t->name, 16, PEER_RING_MIN_DATA, NULL),
			 -EEXIST);
	assert_int_equal(peer_ring_create(&q, "no-slash", 16, PEER_RING_MIN_DATA, NULL),
			 -EINVAL);
	assert_int_equal(peer_ring_create(&q, "/vnet-test-x", 12, PEER_RING_MIN_DATA, NULL),
			 -EINVAL);
	assert_int_equal(peer_ring_create(&q, "/vnet-test-x", 16, PEER_RING_MAX_DATA + 4096,
					  NULL), -EINVAL);
}

/* The producer shrinks the file under the consumer's mapping: the next
 * access would be a SIGBUS; the guard turns it into a broken ring. */
static void test_truncated_by_producer(void **state)
{
	struct pair *t = *state;
	const uint8_t *r;
	uint32_t l;

	assert_int_equal(pair_open_at(t, 16, PEER_RING_MIN_DATA, 0), 0);
	assert_true(push(&t->p, 64, 0));
	peer_ring_publish(&t->p);
	pop_check(&t->c, 64, 0);
	assert_int_equal(ftruncate(t->fd, 0), 0);
	assert_int_equal(peer_ring_peek(&t->c, &r, &l), -EIO);
	if (!strstr(t->c.reason, "truncated"))
		fail_msg("reason \"%s\"", t->c.reason);
	/* Our side of the mapping is private zeros now: writes are harmless. */
	assert_false(peer_ring_cons_publish(&t->c));
	assert_false(peer_ring_cons_sleep_prepare(&t->c));
}

/* The consumer shrinks the producer's file: the producer's next publish
 * (after writing records into the lost pages) latches broken. */
static void test_truncated_by_consumer(void **state)
{
	struct pair *t = *state;

	assert_int_equal(pair_open_at(t, 16, PEER_RING_MIN_DATA, 0), 0);
	assert_int_equal(ftruncate(t->fd, 4096), 0);
	assert_true(push(&t->p, 1500, 0));
	assert_false(peer_ring_publish(&t->p));
	assert_true(t->p.broken);
	if (!strstr(t->p.reason, "truncated"))
		fail_msg("reason \"%s\"", t->p.reason);
	assert_null(peer_ring_reserve(&t->p, 64));
}

/* A record whose net header no correct sender writes breaks the ring
 * when the consumer checks headers (peer links do). */
static void hostile_hdr(struct pair *t, const struct virtio_net_hdr_v1 *h,
			uint32_t len, const char *words)
{
	uint8_t *r;

	assert_int_equal(pair_open_at(t, 16, PEER_RING_MIN_DATA, 0), 0);
	t->c.check_hdr = true;
	r = peer_ring_reserve(&t->p, len);
	assert_non_null(r);
	memset(r, 0, len);
	memcpy(r, h, sizeof(*h));
	peer_ring_commit(&t->p, len);
	peer_ring_publish(&t->p);
	expect_cons_broken(t, words);
}

static void test_hostile_hdr_flags(void **state)
{
	struct virtio_net_hdr_v1 h = { .flags = 0x80 };

	hostile_hdr(*state, &h, 76, "flags");
}

static void test_hostile_hdr_gso(void **state)
{
	struct virtio_net_hdr_v1 h = { .gso_type = 0x42, .gso_size = 1000 };

	hostile_hdr(*state, &h, 76, "gso_type");
}

static void test_hostile_hdr_csum(void **state)
{
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				       .csum_start = 60, .csum_offset = 6 };

	hostile_hdr(*state, &h, 12 + 64, "checksum");
}

/* peer_ring_put_burst places records exactly where reserve and commit
 * would, one by one: two rings fed the same lengths (the whole legal
 * range, so the data area's tail is skipped again and again), one each
 * way, and drained alike, end with the same offsets, stats and free
 * space; the records come out intact and in order.  One ring's running
 * byte totals wrap on the way. */
static void test_put_burst_as_single(void **state)
{
	struct pair *t = *state;
	struct pair *u = calloc(1, sizeof(*u));
	uint32_t seq = 0, got = 0;

	assert_non_null(u);
	assert_int_equal(pair_open_at(t, 64, PEER_RING_MIN_DATA, 0), 0);
	assert_int_equal(pair_open_at(u, 64, PEER_RING_MIN_DATA, 0), 0);
	/* u's running byte totals start just short of 2^32 and wrap early
	 * in the run: the space in use must not notice. */
	u->p.charged = u->p.released = UINT32_MAX - 100000;
	for (unsigned round = 0; round < 200; round++) {
		uint32_t lens[8];
		uint8_t *recs[8];
		unsigned n = 1 + round % 8, put, one = 0;

		for (unsigned i = 0; i < n; i++)
			lens[i] = size_for(seq + i);
		put = peer_ring_put_burst(&t->p, lens, n, recs);
		assert(put <= n);	/* for the analyzer: the contract */
		for (unsigned i = 0; i < put; i++)
			fill_rec(recs[i], lens[i], seq + i);
		while (one < n && push(&u->p, lens[one], seq + one))
			one++;
		assert_int_equal(put, one);
		assert_int_equal(t->p.prod, u->p.prod);
		assert_int_equal(t->p.head, u->p.head);
		assert_int_equal(peer_ring_prod_used(&t->p), peer_ring_prod_used(&u->p));
		seq += put;
		peer_ring_publish(&t->p);
		peer_ring_publish(&u->p);
		/* Drain every other round, so that some bursts find it full. */
		if (round % 2)
			continue;
		for (; got < seq; got++) {
			const uint8_t *ra, *rb;
			uint32_t la, lb;

			assert_int_equal(peer_ring_peek(&t->c, &ra, &la), 1);
			assert_int_equal(peer_ring_peek(&u->c, &rb, &lb), 1);
			assert_int_equal(ra - t->c.data, rb - u->c.data);
			check_rec(ra, la, size_for(got), got);
			peer_ring_consume(&t->c);
			peer_ring_consume(&u->c);
		}
		peer_ring_cons_publish(&t->c);
		peer_ring_cons_publish(&u->c);
	}
	assert_true(seq > 200);
	assert_true(u->p.charged < UINT32_MAX - 100000);	/* it wrapped */
	assert_true(t->p.stats.full > 0);
	assert_int_equal(t->p.stats.records, u->p.stats.records);
	assert_int_equal(t->p.stats.bytes, u->p.stats.bytes);
	assert_int_equal(t->p.stats.full, u->p.stats.full);
	assert_int_equal(peer_ring_free_slots(&t->p), peer_ring_free_slots(&u->p));
	/* A length out of range ends a burst there. */
	{
		uint32_t lens[3] = { 64, PEER_RING_REC_MAX + 1, 64 };
		uint8_t *recs[3];

		assert_int_equal(peer_ring_put_burst(&t->p, lens, 3, recs), 1);
	}
	assert_false(t->p.broken);
	teardown_pair((void **)&u);
}

/* peer_ring_peek_burst hands out what was published, at most max at a
 * time, each with its header copied out; consuming them in order frees
 * the ring as peek and consume do. */
static void test_burst_round_trip(void **state)
{
	struct pair *t = *state;
	struct peer_ring_rec recs[8];
	uint32_t seq = 0;

	assert_int_equal(pair_open_at(t, 64, PEER_RING_MIN_DATA, 0), 0);
	t->c.check_hdr = true;
	assert_int_equal(peer_ring_peek_burst(&t->c, recs, 8), 0);
	for (uint32_t i = 0; i < 20; i++) {
		uint8_t *r = peer_ring_reserve(&t->p, 12 + 60 + i);
		struct virtio_net_hdr_v1 h = { .num_buffers = (uint16_t)(1000 + i) };

		assert_non_null(r);
		memset(r, (int)i, 12 + 60 + i);
		memcpy(r, &h, sizeof(h));
		peer_ring_commit(&t->p, 12 + 60 + i);
	}
	/* Nothing before publish. */
	assert_int_equal(peer_ring_peek_burst(&t->c, recs, 8), 0);
	peer_ring_publish(&t->p);
	for (int want = 8; seq < 20; want = 20 - (int)seq < 8 ? 20 - (int)seq : 8) {
		int n = peer_ring_peek_burst(&t->c, recs, 8);

		assert_int_equal(n, want);
		/* Peeking again without consuming gives the same records. */
		assert_int_equal(peer_ring_peek_burst(&t->c, recs, 8), n);
		for (int i = 0; i < n; i++, seq++) {
			assert_int_equal(recs[i].len, 12 + 60 + seq);
			assert_int_equal(recs[i].hdr.num_buffers, 1000 + seq);
			assert_int_equal(recs[i].rec[12], (uint8_t)seq);
			assert_int_equal(recs[i].rec[recs[i].len - 1], (uint8_t)seq);
			peer_ring_consume_rec(&t->c, &recs[i]);
		}
	}
	assert_int_equal(peer_ring_peek_burst(&t->c, recs, 8), 0);
	peer_ring_cons_publish(&t->c);
	assert_int_equal(peer_ring_free_slots(&t->p), 64);
	assert_int_equal(t->c.stats.records, 20);
	assert_int_equal(t->c.stats.bytes, t->p.stats.bytes);
}

/* A bad record in a burst: the good ones before it are handed out, and
 * the next call finds the ring broken, naming the record and the rule. */
static void test_burst_stops_before_bad(void **state)
{
	struct pair *t = *state;
	struct peer_ring_rec recs[8];
	struct virtio_net_hdr_v1 bad = { .flags = 0x80 };
	uint8_t *r;

	assert_int_equal(pair_open_at(t, 16, PEER_RING_MIN_DATA, 0), 0);
	t->c.check_hdr = true;
	for (uint32_t i = 0; i < 4; i++) {
		r = peer_ring_reserve(&t->p, 76);
		assert_non_null(r);
		memset(r, 0, 76);
		if (i == 3)
			memcpy(r, &bad, sizeof(bad));
		peer_ring_commit(&t->p, 76);
	}
	peer_ring_publish(&t->p);
	assert_int_equal(peer_ring_peek_burst(&t->c, recs, 8), 3);
	for (int i = 0; i < 3; i++)
		peer_ring_consume_rec(&t->c, &recs[i]);
	assert_int_equal(peer_ring_peek_burst(&t->c, recs, 8), -EIO);
	assert_true(t->c.broken);
	if (!strstr(t->c.reason, "record 3") || !strstr(t->c.reason, "flags"))
		fail_msg("reason \"%s\"", t->c.reason);
	expect_cons_broken(t, "flags");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_pair, teardown_pair)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_round_trip),
		T(test_burst_round_trip),
		T(test_put_burst_as_single),
		T(test_burst_stops_before_bad),
		T(test_cancel),
		T(test_wrap_mixed_sizes),
		T(test_full_ring),
		T(test_need_wakeup_consumer),
		T(test_need_wakeup_producer),
		T(test_hostile_prod_too_far),
		T(test_hostile_prod_backwards),
		T(test_hostile_len_short),
		T(test_hostile_len_long),
		T(test_hostile_len_huge),
		T(test_hostile_past_data),
		T(test_hostile_off_huge),
		T(test_hostile_misaligned),
		T(test_hostile_cons_backwards),
		T(test_hostile_cons_past_prod),
		T(test_attach_wrong_size),
		T(test_attach_bad_magic),
		T(test_attach_geometry_mismatch),
		T(test_attach_not_regular),
		T(test_create_refuses),
		T(test_truncated_by_producer),
		T(test_truncated_by_consumer),
		T(test_hostile_hdr_flags),
		T(test_hostile_hdr_gso),
		T(test_hostile_hdr_csum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
