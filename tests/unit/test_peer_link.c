// SPDX-License-Identifier: MIT
/*
 * test_peer_link.c - two (or three) vdevs' peer links in one process on
 * one evloop, in a private run directory: link up in either direction,
 * frames both ways, both sides naming each other, restarts, stale and
 * live nodes, hostile hellos from a raw client, the uid check, features,
 * and cleanup (no node or ring file left behind).
 *
 * The test drives the evloop itself: run_until() runs it in 5 ms slices
 * until a condition holds or a deadline passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/peer_ring.h"
#include "host/evloop.h"
#include "host/peer/hello.h"
#include "host/peer/link.h"
#include "host/peer/node.h"
#include "host/peer/shm_names.h"

#define T_DESC 256
#define T_DATA (1024 * 1024)

struct side {
	struct peer_link *l;
	const char *name;
	int ups, downs, rx, feature_calls, rss_calls;
	unsigned moving_ms;	/* the last hold the peer's MOVING asked for */
	uint64_t feats;
	struct rss_cfg rss;	/* the last the peer told */
	char down_why[PEER_WHY_MAX];
	bool stop_in_down;	/* re-entrancy: stop the link from its own callback */
};

struct env {
	char run_dir[64];
	char system[32];
	struct evloop *ev;
	struct side s[3];
};

static unsigned sys_seq;
static unsigned t_stall_ms;	/* side_start's stall timeout (0: default) */
static unsigned t_ring_pairs;	/* side_start's ring pairs (0: one) */

static void cb_up(void *arg) { ((struct side *)arg)->ups++; }

static void cb_down(void *arg, const char *why)
{
	struct side *s = arg;

	s->downs++;
	snprintf(s->down_why, sizeof(s->down_why), "%s", why);
	if (s->stop_in_down) {
		peer_link_stop(s->l);
		s->l = NULL;
	}
}

static void cb_rx(void *arg) { ((struct side *)arg)->rx++; }
static void cb_moving(void *arg, unsigned ms) { ((struct side *)arg)->moving_ms = ms; }

static void cb_rss(void *arg, const struct rss_cfg *c)
{
	struct side *s = arg;

	s->rss_calls++;
	s->rss = *c;
}

static void cb_features(void *arg, bool known, uint64_t f)
{
	struct side *s = arg;

	if (!known)
		return;
	s->feature_calls++;
	s->feats = f;
}

static void node_of(const struct env *e, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/%s", e->run_dir, e->system, name);
}

static int side_start(struct env *e, struct side *s, const char *name,
		      const char *peer_name)
{
	char peer[PEER_PATH_MAX];
	struct peer_link_cfg cfg = {
		.run_dir = e->run_dir, .system = e->system, .name = name,
		.mac = { 0x52, 0x54, 0, 0, 0, (uint8_t)name[0] },
		.desc_count = T_DESC, .data_size = T_DATA,
		.stall_timeout_ms = t_stall_ms,
		.ring_pairs = t_ring_pairs,
	};
	struct peer_link_cbs cbs = {
		.arg = s, .up = cb_up, .down = cb_down, .rx = cb_rx,
		.features = cb_features, .rss = cb_rss, .moving = cb_moving,
	};

	if (peer_name) {
		node_of(e, peer_name, peer, sizeof(peer));
		cfg.peer_path = peer;
	}
	s->name = name;
	return peer_link_start(&s->l, e->ev, &cfg, &cbs);
}

static void side_stop(struct side *s)
{
	peer_link_stop(s->l);
	s->l = NULL;
}

static void stop_loop(void *arg) { evloop_stop(arg); }

static bool run_until(struct env *e, bool (*cond)(struct env *), unsigned ms)
{
	uint64_t end = now_ms() + ms;

	while (!cond || !cond(e)) {
		long id;

		if (now_ms() >= end)
			return cond == NULL;
		id = ev_timer(e->ev, 5, stop_loop, e->ev);
		evloop_run(e->ev);
		ev_timer_cancel(e->ev, id);
	}
	return true;
}

static void run_for(struct env *e, unsigned ms) { run_until(e, NULL, ms); }

static bool both_up(struct env *e)
{
	return peer_link_is_up(e->s[0].l) && peer_link_is_up(e->s[1].l);
}

static bool a_up(struct env *e) { return peer_link_is_up(e->s[0].l); }
static bool a_down(struct env *e) { return !peer_link_is_up(e->s[0].l); }
static bool b_down(struct env *e) { return !peer_link_is_up(e->s[1].l); }

/* ---- fixture ------------------------------------------------------------ */

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	if (!e)
		return -1;
	snprintf(e->run_dir, sizeof(e->run_dir), "/tmp/vnet-plink-XXXXXX");
	snprintf(e->system, sizeof(e->system), "t%dx%u", (int)getpid(), sys_seq++);
	e->ev = evloop_new();
	if (!e->ev || !mkdtemp(e->run_dir)) {
		evloop_free(e->ev);
		free(e);
		return -1;
	}
	*state = e;
	return 0;
}

/* Ring files of this test's system still in /dev/shm. */
static int count_shm(const struct env *e, bool remove)
{
	char prefix[64];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/dev/shm");

	snprintf(prefix, sizeof(prefix), "vnet-%s:", e->system);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		n++;
		if (remove) {
			char name[300];

			snprintf(name, sizeof(name), "/%s", de->d_name);
			shm_unlink(name);
		}
	}
	closedir(d);
	return n;
}

/* Entries left in the run directory (the system directory itself aside). */
static int count_run_dir(const struct env *e, bool remove)
{
	char dir[128];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", e->run_dir, e->system);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[400];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		if (remove) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	}
	closedir(d);
	return n;
}

static void expect_clean(struct env *e)
{
	for (unsigned i = 0; i < 3; i++)
		side_stop(&e->s[i]);
	assert_int_equal(count_run_dir(e, false), 0);
	assert_int_equal(count_shm(e, false), 0);
}

static int teardown(void **state)
{
	struct env *e = *state;
	char dir[128];

	for (unsigned i = 0; i < 3; i++)
		side_stop(&e->s[i]);
	count_run_dir(e, true);
	count_shm(e, true);
	snprintf(dir, sizeof(dir), "%s/%s", e->run_dir, e->system);
	rmdir(dir);
	rmdir(e->run_dir);
	evloop_free(e->ev);
	free(e);
	return 0;
}

/* ---- frames ---------------------------------------------------------------- */

/* Records are frames: a plain net header (the link checks headers), the
 * sequence number, then bytes derived from it. */
#define SEQ_OFF 12

static uint32_t frame_len(uint32_t seq)
{
	static const uint32_t sizes[] = { 16, 60, 1526, 9000, PEER_RING_REC_MAX, 333 };

	return sizes[seq % 6];
}

static void fill(uint8_t *r, uint32_t len, uint32_t seq)
{
	memset(r, 0, SEQ_OFF);
	memcpy(r + SEQ_OFF, &seq, sizeof(seq));
	for (uint32_t i = SEQ_OFF + 4; i < len; i++)
		r[i] = (uint8_t)(seq + i * 7);
}

static void check(const uint8_t *r, uint32_t len, uint32_t seq)
{
	uint32_t got;

	assert_int_equal(len, frame_len(seq));
	memcpy(&got, r + SEQ_OFF, sizeof(got));
	assert_int_equal(got, seq);
	for (uint32_t i = SEQ_OFF + 4; i < len; i++)
		if (r[i] != (uint8_t)(seq + i * 7))
			fail_msg("frame %u byte %u", seq, i);
}

struct xfer_ctx {
	struct side *from, *to;
	int to_rx0, from_rx0;
};
static struct xfer_ctx xc;

static bool to_rang(struct env *e) { (void)e; return xc.to->rx > xc.to_rx0; }
static bool from_rang(struct env *e) { (void)e; return xc.from->rx > xc.from_rx0; }

/* Moves count frames from one side to the other through the real rings
 * and doorbells: the consumer sleeps whenever it is empty, so every
 * batch needs a doorbell to arrive; the producer waits for space when
 * the big frames fill its ring, so the consumer's doorbell is used too. */
static void xfer_on(struct env *e, struct side *from, struct side *to, unsigned k,
		    uint32_t count)
{
	uint32_t sent = 0, got = 0;
	bool prod_waits = false;

	xc.from = from;
	xc.to = to;
	while (got < count) {
		struct peer_ring_prod *p = peer_link_tx(from->l, k);
		struct peer_ring_cons *c = peer_link_rx(to->l, k);
		const uint8_t *r;
		uint32_t len;
		int ret;

		assert_non_null(p);
		assert_non_null(c);
		while (sent < count) {
			uint8_t *w = peer_ring_reserve(p, frame_len(sent));

			if (!w) {
				prod_waits = peer_ring_prod_wait_prepare(p, frame_len(sent));
				break;
			}
			fill(w, frame_len(sent), sent);
			peer_ring_commit(p, frame_len(sent));
			sent++;
		}
		xc.to_rx0 = to->rx;
		xc.from_rx0 = from->rx;
		if (peer_link_tx_publish(from->l, k))
			assert_true(run_until(e, to_rang, 1000));
		peer_ring_cons_awake(c);
		while ((ret = peer_ring_peek(c, &r, &len)) == 1) {
			check(r, len, got++);
			peer_ring_consume(c);
		}
		assert_int_equal(ret, 0);
		if (peer_link_rx_publish(to->l, k)) {
			assert_true(prod_waits);
			assert_true(run_until(e, from_rang, 1000));
		}
		if (prod_waits) {
			peer_ring_prod_awake(p);
			prod_waits = false;
		}
		assert_true(peer_ring_cons_sleep_prepare(c) || got < sent);
	}
	assert_false(peer_link_tx(from->l, k)->broken);
	assert_false(peer_link_rx(to->l, k)->broken);
}

static void xfer(struct env *e, struct side *from, struct side *to, uint32_t count)
{
	xfer_on(e, from, to, 0, count);
}

/* ---- tests -------------------------------------------------------------------- */

static void test_link_up_and_frames(void **state)
{
	struct env *e = *state;
	const struct peer_link_stats *sa, *sb;
	char node[PEER_PATH_MAX];
	struct stat st;

	assert_int_equal(side_start(e, &e->s[0], "a", NULL), 0);
	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	/* Node mode 0600, directories 0700. */
	node_of(e, "a", node, sizeof(node));
	assert_int_equal(lstat(node, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	*strrchr(node, '/') = '\0';
	assert_int_equal(stat(node, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	assert_true(run_until(e, both_up, 2000));
	assert_int_equal(e->s[0].ups, 1);
	assert_int_equal(e->s[1].ups, 1);
	/* Each side's ring is in /dev/shm while up. */
	assert_int_equal(count_shm(e, false), 2);

	xfer(e, &e->s[1], &e->s[0], 2000);
	xfer(e, &e->s[0], &e->s[1], 2000);
	sa = peer_link_stats(e->s[0].l);
	sb = peer_link_stats(e->s[1].l);
	assert_true(sa->doorbells_received > 0 && sb->doorbells_received > 0);
	assert_true(sa->doorbells_sent > 0 && sb->doorbells_sent > 0);
	assert_int_equal(sa->links_down + sb->links_down, 0);
	expect_clean(e);
}

/* peer_link_peer_name says "system/name". */
static void test_peer_name_format(void **state)
{
	struct env *e = *state;
	char want[64];

	assert_int_equal(side_start(e, &e->s[0], "a", NULL), 0);
	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	assert_true(run_until(e, both_up, 2000));
	snprintf(want, sizeof(want), "%s/b", e->system);
	assert_string_equal(peer_link_peer_name(e->s[0].l), want);
	snprintf(want, sizeof(want), "%s/a", e->system);
	assert_string_equal(peer_link_peer_name(e->s[1].l), want);
	expect_clean(e);
}

/* Both sides name each other and both connect in the same loop round:
 * exactly one link, no flap, the same on both sides, whichever name
 * sorts first and whichever side starts first. */
static void mutual(struct env *e, const char *n0, const char *n1)
{
	assert_int_equal(side_start(e, &e->s[0], n0, n1), 0);
	assert_int_equal(side_start(e, &e->s[1], n1, n0), 0);
	assert_true(run_until(e, both_up, 2000));
	run_for(e, 3 * PEER_RETRY_MS);
	assert_true(both_up(e));
	for (unsigned i = 0; i < 2; i++) {
		const struct peer_link_stats *st = peer_link_stats(e->s[i].l);

		assert_int_equal(e->s[i].ups, 1);
		assert_int_equal(e->s[i].downs, 0);
		assert_int_equal(st->links_up, 1);
	}
	/* The two ends are the same link. */
	xfer(e, &e->s[0], &e->s[1], 50);
	xfer(e, &e->s[1], &e->s[0], 50);
	expect_clean(e);
	memset(e->s, 0, sizeof(e->s));
}

static void test_mutual_peers(void **state)
{
	mutual(*state, "a", "b");
	mutual(*state, "z", "b");
}

/* Started one after the other with loop rounds in between. */
static void test_mutual_staggered(void **state)
{
	struct env *e = *state;

	assert_int_equal(side_start(e, &e->s[0], "a", "b"), 0);
	run_for(e, 250);
	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	assert_true(run_until(e, both_up, 2000));
	run_for(e, 3 * PEER_RETRY_MS);
	assert_int_equal(e->s[0].ups + e->s[1].ups, 2);
	assert_int_equal(e->s[0].downs + e->s[1].downs, 0);
	xfer(e, &e->s[0], &e->s[1], 20);
	expect_clean(e);
}

/* The connecting side stops and comes back; then the accepting side. */
static void test_restart(void **state)
{
	struct env *e = *state;
	uint64_t t0;

	assert_int_equal(side_start(e, &e->s[0], "a", NULL), 0);
	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	assert_true(run_until(e, both_up, 2000));

	side_stop(&e->s[1]);
	assert_true(run_until(e, a_down, 1000));
	assert_int_equal(e->s[0].downs, 1);
	assert_non_null(strstr(e->s[0].down_why, "stopping"));
	/* Its ring file went with the link. */
	assert_int_equal(count_shm(e, false), 0);

	t0 = now_ms();
	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	assert_true(run_until(e, both_up, 1000));
	assert_true(now_ms() - t0 < 1000);
	xfer(e, &e->s[1], &e->s[0], 20);

	/* Now the accepting side restarts: the other keeps retrying. */
	side_stop(&e->s[0]);
	assert_true(run_until(e, b_down, 1000));
	t0 = now_ms();
	assert_int_equal(side_start(e, &e->s[0], "a", NULL), 0);
	assert_true(run_until(e, both_up, 1000));
	assert_true(now_ms() - t0 < 1000);
	xfer(e, &e->s[0], &e->s[1], 20);
	assert_int_equal(peer_link_stats(e->s[1].l)->links_down, 1);
	expect_clean(e);
}

/* The peer's vdev moves to another process (MOVING, then it stops): the
 * frames it had not taken from our ring are held and handed, in order
 * and whole, to the link its new process makes; our side was told to
 * hold its guest's frames meanwhile. */
static void test_moving_peer_gets_held_frames(void **state)
{
	struct env *e = *state;
	struct peer_ring_prod *p;
	struct peer_ring_cons *c;
	const uint8_t *r;
	uint32_t len, got = 0;
	int ret;

	assert_int_equal(side_start(e, &e->s[0], "a", NULL), 0);
	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	assert_true(run_until(e, both_up, 2000));
	xfer(e, &e->s[0], &e->s[1], 10);	/* taken: not held later */
	p = peer_link_tx(e->s[0].l, 0);
	for (uint32_t seq = 0; seq < 40; seq++) {
		uint8_t *w = peer_ring_reserve(p, frame_len(seq));

		assert_non_null(w);
		fill(w, frame_len(seq), seq);
		peer_ring_commit(p, frame_len(seq));
	}
	peer_link_tx_publish(e->s[0].l, 0);
	assert_int_equal(peer_link_tx_in_flight(e->s[0].l), 40);
	assert_int_equal(peer_link_send_moving(e->s[1].l, 2000), 0);
	run_for(e, 50);
	side_stop(&e->s[1]);
	assert_true(run_until(e, a_down, 1000));
	assert_int_equal(e->s[0].moving_ms, 2000);
	/* Its new process links: the 40 come first, in order. */
	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	assert_true(run_until(e, both_up, 2000));
	c = peer_link_rx(e->s[1].l, 0);
	assert_non_null(c);
	while ((ret = peer_ring_peek(c, &r, &len)) == 1) {
		check(r, len, got++);
		peer_ring_consume(c);
	}
	assert_int_equal(ret, 0);
	assert_int_equal(got, 40);
	assert_int_equal(peer_link_stats(e->s[0].l)->moved_held, 40);
	assert_int_equal(peer_link_stats(e->s[0].l)->moved_lost, 0);
	/* A link that ends without MOVING holds nothing. */
	peer_link_rx_publish(e->s[1].l, 0);
	side_stop(&e->s[1]);
	assert_true(run_until(e, a_down, 1000));
	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	assert_true(run_until(e, both_up, 2000));
	assert_int_equal(peer_ring_peek(peer_link_rx(e->s[1].l, 0), &r, &len), 0);
	assert_int_equal(peer_link_stats(e->s[0].l)->moved_held, 40);
	expect_clean(e);
}

/* MOVING's one rule: a hold of 1..PEER_MOVE_HOLD_MAX_MS, reserved 0. */
static void test_moving_message_checked(void **state)
{
	struct peer_moving m;
	char why[PEER_WHY_MAX];

	(void)state;
	peer_moving_build(&m, 5000);
	assert_int_equal(peer_moving_check(&m, why, sizeof(why)), 0);
	m.hold_ms = 0;
	assert_int_equal(peer_moving_check(&m, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "hold of 0 ms"));
	m.hold_ms = PEER_MOVE_HOLD_MAX_MS + 1;
	assert_int_equal(peer_moving_check(&m, why, sizeof(why)), -EPROTO);
	peer_moving_build(&m, 100);
	m.reserved = 1;
	assert_int_equal(peer_moving_check(&m, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "reserved"));
}

/* A node and a ring left by a dead owner are replaced and removed; a
 * ring of another name is left alone. */
static void test_stale_node(void **state)
{
	struct env *e = *state;
	char node[PEER_PATH_MAX], dir[PEER_PATH_MAX], prefix[PEER_SHM_PREFIX_MAX];
	char mine[PEER_RING_NAME_LEN], other[PEER_RING_NAME_LEN];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(dir, sizeof(dir), "%s/%s", e->run_dir, e->system);
	assert_int_equal(peer_mkdir_p(dir, 0700), 0);
	node_of(e, "a", node, sizeof(node));
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	memcpy(sa.sun_path, node, strlen(node) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);	/* the node stays, nobody listens: stale */

	assert_int_equal(peer_shm_prefix(prefix, sizeof(prefix), e->run_dir,
					 e->system, "a"), 0);
	assert_int_equal(peer_shm_name(mine, sizeof(mine), prefix, 7), 0);
	assert_int_equal(peer_shm_prefix(prefix, sizeof(prefix), e->run_dir,
					 e->system, "a-x"), 0);
	assert_int_equal(peer_shm_name(other, sizeof(other), prefix, 7), 0);
	fd = shm_open(mine, O_CREAT | O_EXCL | O_RDWR, 0600);
	assert_true(fd >= 0);
	close(fd);
	fd = shm_open(other, O_CREAT | O_EXCL | O_RDWR, 0600);
	assert_true(fd >= 0);
	close(fd);

	assert_int_equal(side_start(e, &e->s[0], "a", NULL), 0);
	assert_int_equal(shm_open(mine, O_RDWR, 0), -1);
	fd = shm_open(other, O_RDWR, 0);
	assert_true(fd >= 0);
	close(fd);
	shm_unlink(other);

	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	assert_true(run_until(e, both_up, 2000));
	expect_clean(e);
}

static void test_live_node_refused(void **state)
{
	struct env *e = *state;
	char path[PEER_PATH_MAX];
	int fd;

	assert_int_equal(side_start(e, &e->s[0], "a", NULL), 0);
	assert_int_equal(side_start(e, &e->s[1], "a", NULL), -EADDRINUSE);
	assert_null(e->s[1].l);
	/* The live node is untouched and still works. */
	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	assert_true(run_until(e, both_up, 2000));
	/* A node path that is not a socket is not ours to replace. */
	node_of(e, "f", path, sizeof(path));
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(side_start(e, &e->s[2], "f", NULL), -EEXIST);
	unlink(path);
	/* Bad names never reach the file system. */
	assert_int_equal(side_start(e, &e->s[2], "../x", NULL), -EINVAL);
	assert_int_equal(side_start(e, &e->s[2], "x:y", NULL), -EINVAL);
	expect_clean(e);
}

/* Rounds of the node handed from one process to another, as from the old
 * to the new vnet-host of a moving vdev (host/face/attach.c): the new
 * one retries the name while the old one lets go.  Racing the holder's
 * close, the taker may see the node, then find it gone when it probes
 * (that name is free: it must take it, not fail), or find it stale
 * before it is removed (the holder must then not remove the taker's
 * node).  Timing-dependent: without both rules, a few rounds in a
 * thousand fail here. */
#define HANDOVER_ROUNDS 1000

/* The taker (a child process): each round, told "go", it retries the
 * name until it is not taken (2 s at most), told "closed", it checks the
 * node is still its own, answers one letter (k ok, E gone, S removed
 * under it, O other) and lets go. */
static void handover_taker(const char *node, int go, int res)
{
	char c, r;

	while (read(go, &c, 1) == 1) {
		struct peer_node n;
		struct stat st;
		bool stale, told = false;
		uint64_t end = now_ms() + 2000;
		int ret;

		do {
			ret = peer_node_listen(&n, node, &stale, NULL, 0);
			/* Probing: the holder may close now. */
			if (!told && write(res, "p", 1) != 1)
				_exit(2);
			told = true;
		} while (ret == -EADDRINUSE && now_ms() < end);
		if (read(go, &c, 1) != 1)
			_exit(2);
		if (ret == -ENOENT)
			r = 'E';
		else if (ret)
			r = 'O';
		else if (lstat(node, &st) || st.st_ino != n.ino)
			r = 'S';
		else
			r = 'k';
		peer_node_close(&n);
		if (write(res, &r, 1) != 1)
			_exit(2);
	}
	_exit(0);
}

static void test_node_handover(void **state)
{
	struct env *e = *state;
	char node[PEER_PATH_MAX], r = 0;
	int go[2], res[2], st;
	unsigned ok = 0;
	pid_t pid;

	node_of(e, "a", node, sizeof(node));
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(res), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		close(res[0]);
		handover_taker(node, go[0], res[1]);
	}
	close(go[0]);
	close(res[1]);
	for (unsigned i = 0; i < HANDOVER_ROUNDS; i++) {
		struct peer_node n;
		bool stale;

		assert_int_equal(peer_node_listen(&n, node, &stale, NULL, 0), 0);
		assert_int_equal(write(go[1], "g", 1), 1);
		assert_int_equal(read(res[0], &r, 1), 1);	/* probing */
		/* Let go a little later each round: the taker's probe and
		 * our close meet at varying points. */
		for (volatile unsigned k = 0; k < (i % 50) * 200; k++)
			;
		peer_node_close(&n);
		assert_int_equal(write(go[1], "c", 1), 1);
		assert_int_equal(read(res[0], &r, 1), 1);
		if (r != 'k')
			break;
		ok++;
	}
	close(go[1]);
	close(res[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (ok < HANDOVER_ROUNDS)
		fail_msg("round %u: the taker %s", ok,
			 r == 'E' ? "found the node gone and failed" :
			 r == 'S' ? "had its node removed by the old holder" :
				    "could not take the name");
	expect_clean(e);
}

/* ---- a raw client sending hostile hellos ---------------------------------------- */

struct raw {
	int sock;
	struct peer_ring_prod ring;
	int ring_fd;
	int bell;
	struct peer_hello h;
};

static unsigned raw_seq;

static void raw_open(struct env *e, struct raw *r, const char *to)
{
	char node[PEER_PATH_MAX], mynode[PEER_PATH_MAX], name[64];
	uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 0x99 };

	node_of(e, to, node, sizeof(node));
	node_of(e, "raw", mynode, sizeof(mynode));
	assert_int_equal(peer_node_connect(node, &r->sock), 0);
	snprintf(name, sizeof(name), "/vnet-%s:raw-%u", e->system, raw_seq++);
	assert_int_equal(peer_ring_create(&r->ring, name, 16, PEER_RING_MIN_DATA,
					  &r->ring_fd), 0);
	r->bell = eventfd(0, EFD_CLOEXEC);
	assert_true(r->bell >= 0);
	peer_hello_build(&r->h, e->system, "raw", mynode, mac, false, 0, 1, 16,
			 PEER_RING_MIN_DATA);
}

static void raw_close(struct raw *r)
{
	close(r->sock);
	close(r->bell);
	peer_ring_prod_destroy(&r->ring, true);
}

static uint64_t refused0;
static bool refused_more(struct env *e)
{
	return peer_link_stats(e->s[0].l)->refused > refused0;
}

/* Sends the raw client's (spoiled) hello with the given fds and expects
 * A to refuse it with a reason containing `word`. */
static void expect_refused(struct env *e, struct raw *r, size_t len,
			   const int *fds, int nfds, const char *word)
{
	union peer_msg m;
	int got[PEER_MSG_MAX_FDS], ngot, type;
	char why[PEER_WHY_MAX];
	bool bye = false;

	refused0 = peer_link_stats(e->s[0].l)->refused;
	assert_int_equal(peer_msg_send(r->sock, &r->h, len, fds, nfds), 0);
	assert_true(run_until(e, refused_more, 1000));
	assert_false(peer_link_is_up(e->s[0].l));
	if (!strstr(peer_link_last_error(e->s[0].l), word))
		fail_msg("reason \"%s\" lacks \"%s\"", peer_link_last_error(e->s[0].l), word);
	/* The client got A's hello, then a BYE naming the problem. */
	while ((type = peer_msg_recv(r->sock, &m, got, &ngot, why, sizeof(why))) > 0) {
		for (int i = 0; i < ngot; i++)
			close(got[i]);
		if (type == PEER_MSG_BYE) {
			char reason[128];

			peer_bye_reason(&m.bye, reason, sizeof(reason));
			assert_non_null(strstr(reason, word));
			bye = true;
		}
	}
	assert_true(bye);
}

static void test_bad_hellos(void **state)
{
	struct env *e = *state;
	struct raw r;
	int fds[2], pfd[2];

	assert_int_equal(side_start(e, &e->s[0], "a", NULL), 0);
	struct {
		const char *word;
		void (*spoil)(struct peer_hello *h);
	} cases[] = {
		{ "magic", NULL }, { "version", NULL }, { "size field", NULL },
		{ "length", NULL }, { "fds", NULL }, { "eventfd", NULL },
		{ "file is", NULL }, { "geometry", NULL }, { "system name", NULL },
		{ "features", NULL }, { "reserved", NULL }, { "itself", NULL },
		{ "ring header", NULL },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *w = cases[i].word;
		size_t len = sizeof(r.h);
		int nfds = 2;

		raw_open(e, &r, "a");
		fds[0] = r.ring_fd;
		fds[1] = r.bell;
		if (!strcmp(w, "magic"))
			r.h.hdr.magic ^= 0x100;
		else if (!strcmp(w, "version"))
			r.h.hdr.version = 2;
		else if (!strcmp(w, "size field"))
			r.h.hdr.size = 200;
		else if (!strcmp(w, "length"))
			len = 100;
		else if (!strcmp(w, "fds"))
			nfds = 0;
		else if (!strcmp(w, "eventfd")) {
			assert_int_equal(pipe(pfd), 0);
			fds[1] = pfd[1];
		} else if (!strcmp(w, "file is"))
			r.h.desc_count = 4096;	/* file is for 16: wrong size */
		else if (!strcmp(w, "geometry"))
			r.h.desc_count = 17;
		else if (!strcmp(w, "system name"))
			strcpy(r.h.system, "a/b");
		else if (!strcmp(w, "features"))
			r.h.features = 1ull << 40;
		else if (!strcmp(w, "reserved"))
			r.h.reserved1[0] = 1;
		else if (!strcmp(w, "itself")) {
			memset(r.h.node, 0, sizeof(r.h.node));
			node_of(e, "a", r.h.node, sizeof(r.h.node));
		}
		else if (!strcmp(w, "ring header"))
			r.ring.hdr->geom.magic = 0;
		expect_refused(e, &r, len, fds, nfds, w);
		if (!strcmp(w, "eventfd")) {
			close(pfd[0]);
			close(pfd[1]);
		}
		raw_close(&r);
	}
	/* More fds than a hello carries. */
	raw_open(e, &r, "a");
	{
		int many[3] = { r.ring_fd, r.bell, r.bell };

		expect_refused(e, &r, sizeof(r.h), many, 3, "fds");
	}
	raw_close(&r);
	/* Two ring pairs announced, one pair's fds sent; too many pairs. */
	raw_open(e, &r, "a");
	r.h.ring_pairs = 2;
	fds[0] = r.ring_fd;
	fds[1] = r.bell;
	expect_refused(e, &r, sizeof(r.h), fds, 2, "expected 4 (2 rings, then 2 doorbells)");
	raw_close(&r);
	raw_open(e, &r, "a");
	r.h.ring_pairs = PEER_MAX_RING_PAIRS + 1;
	expect_refused(e, &r, sizeof(r.h), fds, 2, "ring pairs, at most");
	raw_close(&r);


	/* A connection that closes at once (like a liveness probe). */
	raw_open(e, &r, "a");
	raw_close(&r);

	/* After all that, a good peer links. */
	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	assert_true(run_until(e, both_up, 2000));
	xfer(e, &e->s[1], &e->s[0], 20);
	expect_clean(e);
}

/* A raw client that links properly, then misbehaves on the live link. */
static void test_bad_message_while_up(void **state)
{
	struct env *e = *state;
	struct peer_features_msg fm;
	struct peer_ready rdy;
	struct raw r;
	int fds[2];

	assert_int_equal(side_start(e, &e->s[0], "a", NULL), 0);
	raw_open(e, &r, "a");
	fds[0] = r.ring_fd;
	fds[1] = r.bell;
	assert_int_equal(peer_msg_send(r.sock, &r.h, sizeof(r.h), fds, 2), 0);
	/* Not up before our READY. */
	run_for(e, 50);
	assert_false(peer_link_is_up(e->s[0].l));
	peer_ready_build(&rdy);
	assert_int_equal(peer_msg_send(r.sock, &rdy, sizeof(rdy), NULL, 0), 0);
	assert_true(run_until(e, a_up, 1000));
	/* A features update with unknown flags drops the link. */
	peer_features_build(&fm, true, 0x3);
	fm.flags |= 0x80;
	assert_int_equal(peer_msg_send(r.sock, &fm, sizeof(fm), NULL, 0), 0);
	assert_true(run_until(e, a_down, 1000));
	assert_non_null(strstr(e->s[0].down_why, "flags"));
	raw_close(&r);
	expect_clean(e);
}

static bool a_no_hello(struct env *e)
{
	return strstr(peer_link_last_error(e->s[0].l), "no hello") != NULL;
}

static bool a_no_ready(struct env *e)
{
	return strstr(peer_link_last_error(e->s[0].l), "no ready") != NULL;
}

/* Silent peers: no hello, or a hello but no READY, end at the handshake
 * deadline (shortened here), and a good peer links afterwards. */
static void test_handshake_timeouts(void **state)
{
	struct env *e = *state;
	struct peer_link_cfg cfg = {
		.run_dir = e->run_dir, .system = e->system, .name = "a",
		.mac = { 0x52, 0x54, 0, 0, 0, 1 }, .desc_count = T_DESC,
		.data_size = T_DATA, .handshake_timeout_ms = 100,
	};
	struct peer_link_cbs cbs = { .arg = &e->s[0], .up = cb_up, .down = cb_down };
	struct raw r;
	int fds[2];

	assert_int_equal(peer_link_start(&e->s[0].l, e->ev, &cfg, &cbs), 0);
	raw_open(e, &r, "a");
	assert_true(run_until(e, a_no_hello, 1000));
	assert_non_null(strstr(peer_link_last_error(e->s[0].l), "no hello within 100 ms"));
	raw_close(&r);

	raw_open(e, &r, "a");
	fds[0] = r.ring_fd;
	fds[1] = r.bell;
	assert_int_equal(peer_msg_send(r.sock, &r.h, sizeof(r.h), fds, 2), 0);
	assert_true(run_until(e, a_no_ready, 1000));
	assert_false(peer_link_is_up(e->s[0].l));
	assert_int_equal(e->s[0].ups + e->s[0].downs, 0);
	raw_close(&r);

	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	assert_true(run_until(e, both_up, 2000));
	expect_clean(e);
}

static bool c_refused(struct env *e)
{
	return strstr(peer_link_last_error(e->s[2].l), "already linked") != NULL;
}

static void test_second_link_refused(void **state)
{
	struct env *e = *state;

	assert_int_equal(side_start(e, &e->s[0], "a", NULL), 0);
	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	assert_true(run_until(e, both_up, 2000));
	assert_int_equal(side_start(e, &e->s[2], "c", "a"), 0);
	assert_true(run_until(e, c_refused, 2000));
	assert_false(peer_link_is_up(e->s[2].l));
	assert_true(both_up(e));
	assert_int_equal(e->s[0].downs, 0);
	assert_true(peer_link_stats(e->s[0].l)->refused >= 1);
	/* When b goes, c gets its turn. */
	side_stop(&e->s[1]);
	e->s[1] = e->s[2];
	memset(&e->s[2], 0, sizeof(e->s[2]));
	/* cbs.arg still points at s[2]: watch the link, not the counters. */
	for (uint64_t end = now_ms() + 1500; now_ms() < end;) {
		run_for(e, 20);
		if (peer_link_is_up(e->s[0].l) && peer_link_is_up(e->s[1].l))
			break;
	}
	assert_true(peer_link_is_up(e->s[1].l));
	assert_string_equal(strrchr(peer_link_peer_name(e->s[0].l), '/'), "/c");
	expect_clean(e);
}

static bool a_has_features(struct env *e) { return e->s[0].feature_calls >= 2; }

static void test_features(void **state)
{
	struct env *e = *state;
	uint64_t f;

	assert_int_equal(side_start(e, &e->s[0], "a", NULL), 0);
	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	/* b's guest negotiated before the link formed: carried in the hello,
	 * reported before up; a's are unknown. */
	peer_link_set_local_features(e->s[1].l, 0x19c3 | (1ull << 40));
	assert_true(run_until(e, both_up, 2000));
	assert_int_equal(e->s[0].feature_calls, 1);
	assert_int_equal(e->s[0].feats, 0x19c3);
	assert_true(peer_link_peer_features(e->s[0].l, &f));
	assert_int_equal(f, 0x19c3);
	assert_int_equal(e->s[1].feature_calls, 0);
	assert_false(peer_link_peer_features(e->s[1].l, &f));
	/* b's guest renegotiates. */
	peer_link_set_local_features(e->s[1].l, 0x7fc3);
	assert_true(run_until(e, a_has_features, 1000));
	assert_int_equal(e->s[0].feats, 0x7fc3);
	assert_int_equal(peer_link_stats(e->s[0].l)->features_updates, 1);
	/* b's guest resets: unknown again, no callback. */
	peer_link_forget_local_features(e->s[1].l);
	run_for(e, 50);
	assert_int_equal(e->s[0].feature_calls, 2);
	assert_false(peer_link_peer_features(e->s[0].l, &f));
	assert_true(both_up(e));
	expect_clean(e);
}

static bool both_up_twice(struct env *e)
{
	return both_up(e) && e->s[0].ups == 2 && e->s[1].ups == 2;
}

/* The vdev drops a link (broken ring): both sides go down with the reason
 * and the link re-forms; stopping a link from its own down callback is
 * safe. */
static void test_drop_and_reentrancy(void **state)
{
	struct env *e = *state;

	assert_int_equal(side_start(e, &e->s[0], "a", NULL), 0);
	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	assert_true(run_until(e, both_up, 2000));
	peer_link_drop(e->s[0].l, "test: ring broken");
	assert_false(peer_link_is_up(e->s[0].l));
	assert_string_equal(e->s[0].down_why, "test: ring broken");
	assert_true(run_until(e, b_down, 1000));
	assert_non_null(strstr(e->s[1].down_why, "test: ring broken"));
	assert_true(run_until(e, both_up_twice, 1000));

	e->s[0].stop_in_down = true;
	side_stop(&e->s[1]);
	assert_true(run_until(e, a_down, 1000));
	assert_null(e->s[0].l);
	expect_clean(e);
}

/* A connection from another uid is refused (SO_PEERCRED), even when the
 * file permissions would let it in.  Needs root to become another uid. */
static void test_other_uid_refused(void **state)
{
	struct env *e = *state;
	char node[PEER_PATH_MAX], dir[PEER_PATH_MAX];
	pid_t pid;
	int st;

	if (geteuid() != 0)
		skip();
	assert_int_equal(side_start(e, &e->s[0], "a", NULL), 0);
	node_of(e, "a", node, sizeof(node));
	snprintf(dir, sizeof(dir), "%s/%s", e->run_dir, e->system);
	assert_int_equal(chmod(e->run_dir, 0711), 0);
	assert_int_equal(chmod(dir, 0711), 0);
	assert_int_equal(chmod(node, 0666), 0);
	refused0 = 0;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;
		char b;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(2);
		if (peer_node_connect(node, &fd))
			_exit(3);
		/* Wait for A to close us (reads our hello-less EOF). */
		while (read(fd, &b, 1) > 0)
			;
		_exit(0);
	}
	assert_true(run_until(e, refused_more, 2000));
	assert_non_null(strstr(peer_link_last_error(e->s[0].l), "uid"));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	chmod(e->run_dir, 0700);
	expect_clean(e);
}

/* A peer that stops consuming our published records is dropped by the
 * watchdog after the stall timeout; one that consumes (slowly) is not. */
static void test_stalled_peer_dropped(void **state)
{
	struct env *e = *state;
	struct peer_ring_prod *p;
	struct peer_ring_cons *c;
	const uint8_t *r;
	uint32_t len;

	t_stall_ms = 600;
	assert_int_equal(side_start(e, &e->s[0], "a", NULL), 0);
	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	t_stall_ms = 0;
	assert_true(run_until(e, both_up, 2000));
	/* Slow but alive: one record per 200 ms, consumed each time. */
	for (uint32_t i = 0; i < 6; i++) {
		p = peer_link_tx(e->s[0].l, 0);
		c = peer_link_rx(e->s[1].l, 0);
		fill(peer_ring_reserve(p, 60), 60, i);
		peer_ring_commit(p, 60);
		peer_link_tx_publish(e->s[0].l, 0);
		run_for(e, 200);
		assert_int_equal(peer_ring_peek(c, &r, &len), 1);
		peer_ring_consume(c);
		peer_link_rx_publish(e->s[1].l, 0);
	}
	assert_int_equal(e->s[0].downs, 0);
	/* Now b takes nothing. */
	p = peer_link_tx(e->s[0].l, 0);
	fill(peer_ring_reserve(p, 60), 60, 99);
	peer_ring_commit(p, 60);
	peer_link_tx_publish(e->s[0].l, 0);
	assert_true(run_until(e, a_down, 2000));
	assert_non_null(strstr(e->s[0].down_why, "consumed nothing"));
	assert_int_equal(peer_link_stats(e->s[0].l)->drops_stalled, 1);
	/* b hears why, and the link re-forms with fresh rings. */
	assert_true(run_until(e, both_up_twice, 2000));
	assert_non_null(strstr(e->s[1].down_why, "consumed nothing"));
	expect_clean(e);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* Multiqueue: a side with 4 ring pairs and one with 2 link with the 2
 * both have; each pair carries frames both ways with its own doorbells;
 * the third pair does not exist; everything goes away at stop. */
static void test_ring_pairs_negotiated(void **state)
{
	struct env *e = *state;

	t_ring_pairs = 4;
	assert_int_equal(side_start(e, &e->s[0], "a", NULL), 0);
	t_ring_pairs = 2;
	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	t_ring_pairs = 0;
	assert_true(run_until(e, both_up, 2000));
	assert_int_equal(peer_link_ring_pairs(e->s[0].l), 2);
	assert_int_equal(peer_link_ring_pairs(e->s[1].l), 2);
	assert_null(peer_link_tx(e->s[0].l, 2));
	assert_null(peer_link_rx(e->s[1].l, 2));
	assert_true(peer_link_bell_fd(e->s[0].l, 1) >= 0);
	assert_true(peer_link_bell_fd(e->s[0].l, 1) != peer_link_bell_fd(e->s[0].l, 0));
	for (unsigned k = 0; k < 2; k++) {
		xfer_on(e, &e->s[1], &e->s[0], k, 50);
		xfer_on(e, &e->s[0], &e->s[1], k, 50);
	}
	/* Ring 0 saw nothing of ring 1's frames. */
	assert_int_equal(peer_link_rx(e->s[0].l, 0)->stats.records, 50);
	assert_int_equal(peer_link_rx(e->s[0].l, 1)->stats.records, 50);
	side_stop(&e->s[1]);
	side_stop(&e->s[0]);
	expect_clean(e);
}

static bool a_rss_on(struct env *e) { return e->s[0].rss.on; }
static bool a_rss_off(struct env *e) { return !e->s[0].rss.on; }

/* A receiver's RSS configuration reaches the other side when the link
 * comes up and whenever it changes; one that breaks the rule (a queue
 * past the ring pairs) drops the link, naming it. */
static void test_rss_told_to_peer(void **state)
{
	struct env *e = *state;
	struct rss_cfg c = { .on = true, .hash_types = 0x3f, .table_len = 4, .key_len = 40,
			     .table = { 0, 1, 2, 3 } };
	struct peer_rss_msg m;

	memcpy(c.key, rss_default_key, sizeof(c.key));
	assert_int_equal(side_start(e, &e->s[0], "a", NULL), 0);
	assert_int_equal(side_start(e, &e->s[1], "b", "a"), 0);
	peer_link_set_local_rss(e->s[1].l, &c);		/* before the link */
	assert_true(run_until(e, both_up, 2000));
	assert_true(run_until(e, a_rss_on, 1000));
	assert_int_equal(e->s[0].rss.table_len, 4);
	assert_int_equal(e->s[0].rss.table[3], 3);
	assert_memory_equal(e->s[0].rss.key, rss_default_key, 40);
	assert_false(e->s[1].rss.on);			/* a told it "off" */
	c.on = false;
	peer_link_set_local_rss(e->s[1].l, &c);
	assert_true(run_until(e, a_rss_off, 1000));
	/* A message off with fields set, and one naming queue 8 (past the
	 * ring pairs a link may have), each break the rule. */
	c = (struct rss_cfg){ .on = true, .hash_types = 0x3f, .table_len = 2, .table = { 0, 8 } };
	peer_rss_build(&m, &c);
	{
		struct rss_cfg out;
		char why[160];

		assert_int_equal(peer_rss_check(&m, &out, why, sizeof(why)), -EPROTO);
		assert_non_null(strstr(why, "names queue 8"));
		m.flags = 0;
		assert_int_equal(peer_rss_check(&m, &out, why, sizeof(why)), -EPROTO);
		assert_non_null(strstr(why, "off but fields set"));
		m.table[1] = 1;
		m.flags = PEER_RSS_ON;
		m.reserved[0] = 1;
		assert_int_equal(peer_rss_check(&m, &out, why, sizeof(why)), -EPROTO);
	}
	expect_clean(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_link_up_and_frames),
		T(test_peer_name_format),
		T(test_mutual_peers),
		T(test_mutual_staggered),
		T(test_restart),
		T(test_stale_node),
		T(test_live_node_refused),
		T(test_node_handover),
		T(test_bad_hellos),
		T(test_ring_pairs_negotiated),
		T(test_rss_told_to_peer),
		T(test_bad_message_while_up),
		T(test_handshake_timeouts),
		T(test_second_link_refused),
		T(test_features),
		T(test_drop_and_reentrancy),
		T(test_other_uid_refused),
		T(test_stalled_peer_dropped),
		T(test_moving_peer_gets_held_frames),
		T(test_moving_message_checked),
	};

	signal(SIGPIPE, SIG_IGN);
	if (getenv("VNET_TEST_VERBOSE"))
		log_set_level(LOG_DEBUG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
