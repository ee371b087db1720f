// SPDX-License-Identifier: MIT
/*
 * fuzz_peer_hello - one message from a peer, as host/peer/conn.c takes
 * it: peer_msg_recv on a SOCK_SEQPACKET socket (the input's bytes, sent
 * with peer_msg_send along with the fds the input picks), then by type
 * peer_hello_check, and when it passes peer_hello_check_fds and
 * peer_ring_cons_attach on the ring fd; peer_features_check;
 * peer_bye_reason; peer_moving_check.
 *
 * Input: the number of fds, their kinds, the first bytes of the ring
 * file, the ring file's size (a mode byte and a u32), then the message.
 * The fds are real: a memfd (read-write, or reopened read-only) whose
 * size the input picks, an eventfd, a pipe, /dev/null.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "common/peer_ring.h"
#include "host/peer/hello.h"
#include "tests/fuzz/harness.h"

static int sock[2] = { -1, -1 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sock))
		abort();
	return 0;
}

/* The ring file's size: what the message's geometry implies (when it
 * is a geometry at all), off by a little, or anything. */
static uint64_t ring_size(uint8_t mode, uint32_t arg, const uint8_t *msg, size_t len)
{
	uint64_t want = 4096;
	struct peer_hello h;

	if (len >= sizeof(h)) {
		memcpy(&h, msg, sizeof(h));
		if (peer_ring_geom_check(h.desc_count, h.data_size, NULL, 0) == 0)
			want = peer_ring_file_size(h.desc_count, h.data_size);
	}
	switch (mode % 3) {
	case 0:
		return want;
	case 1:
		return want + (uint64_t)(int64_t)(int8_t)arg;
	default:
		return arg;
	}
}

static int make_fd(unsigned kind, int ring)
{
	int p[2], fd;
	char path[64];

	switch (kind % 5) {
	case 0:
		return dup(ring);
	case 1:
		return eventfd(0, EFD_CLOEXEC);
	case 2:	/* the ring, read-only */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", ring);
		return open(path, O_RDONLY | O_CLOEXEC);
	case 3:
		if (pipe2(p, O_CLOEXEC))
			return -1;
		close(p[1]);
		return p[0];
	default:
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		return fd;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t shape, head[256];
	uint16_t kinds;
	int send_fds[4], fds[PEER_MSG_MAX_FDS], nsend, nfds = 0, ring, rc;
	const uint8_t *msg;
	size_t msg_len;
	struct fuzz_in in;
	union peer_msg m;
	char why[PEER_WHY_MAX + 64];
	uint64_t rsize;
	uint8_t head_len, mode;
	uint32_t arg;

	if (size > 1024)
		return -1;
	fin_init(&in, data, size);
	shape = fin_u8(&in);
	nsend = shape % 5;	/* 0..4 fds ... */
	kinds = fin_u16(&in);	/* ... of these kinds, 3 bits each */
	head_len = fin_u8(&in);
	fin_bytes(&in, head, head_len % sizeof(head));
	mode = fin_u8(&in);
	arg = fin_u32(&in);
	msg = in.p;	/* the rest */
	msg_len = in.left;
	rsize = ring_size(mode, arg, msg, msg_len);
	ring = fuzz_memfd("vnet-fuzz-ring", rsize, head, head_len % sizeof(head));
	if (ring < 0)
		return 0;
	for (int i = 0; i < nsend; i++) {
		send_fds[i] = make_fd((kinds >> (i * 3)) & 7, ring);
		if (send_fds[i] < 0)
			send_fds[i] = eventfd(0, EFD_CLOEXEC);
	}
	rc = peer_msg_send(sock[0], msg, msg_len, send_fds, nsend);
	for (int i = 0; i < nsend; i++)
		close(send_fds[i]);
	close(ring);
	if (rc)
		return 0;

	why[0] = '\0';
	rc = peer_msg_recv(sock[1], &m, fds, &nfds, why, sizeof(why));
	FUZZ_TRACE("recv: %d %s\n", rc, why);
	FUZZ_CHECK(rc == PEER_MSG_HELLO || rc == PEER_MSG_FEATURES ||
		   rc == PEER_MSG_BYE || rc == PEER_MSG_READY || rc == PEER_MSG_RSS ||
		   rc == PEER_MSG_MOVING || rc == 0 ||
		   rc == -EPROTO || rc == -EAGAIN);
	if (rc == -EPROTO)
		FUZZ_CHECK(why[0] != '\0');
	if (rc <= 0)
		goto out;
	FUZZ_CHECK(nfds >= 0 && nfds <= PEER_MSG_MAX_FDS);
	if (rc == PEER_MSG_HELLO) {
		struct peer_ring_cons c;

		if (peer_hello_check(&m.hello, why, sizeof(why)) ||
		    peer_hello_check_fds(&m.hello, fds, nfds, why, sizeof(why))) {
			FUZZ_TRACE("hello: %s\n", why);
			goto out;
		}
		memset(&c, 0, sizeof(c));
		rc = peer_ring_cons_attach(&c, fds[PEER_HELLO_FD_RING(0)],
					   m.hello.desc_count, m.hello.data_size);
		FUZZ_TRACE("attach: %d %s\n", rc, c.reason);
		if (rc == 0)
			peer_ring_cons_detach(&c);
	} else if (rc == PEER_MSG_FEATURES) {
		(void)peer_features_check(&m.features, why, sizeof(why));
	} else if (rc == PEER_MSG_RSS) {
		struct rss_cfg cfg;

		/* What passes the rule steers frames: every queue it names
		 * must be a ring pair a link may have. */
		if (peer_rss_check(&m.rss, &cfg, why, sizeof(why)) == 0 && cfg.on) {
			FUZZ_CHECK(rss_cfg_queues(&cfg) <= PEER_MAX_RING_PAIRS);
			FUZZ_CHECK(cfg.table_len && !(cfg.table_len & (cfg.table_len - 1)));
		}
	} else if (rc == PEER_MSG_MOVING) {
		/* What passes is a hold the link arms a timer for. */
		if (peer_moving_check(&m.moving, why, sizeof(why)) == 0)
			FUZZ_CHECK(m.moving.hold_ms >= 1 && m.moving.hold_ms <= PEER_MOVE_HOLD_MAX_MS);
	} else if (rc == PEER_MSG_BYE) {
		char reason[128];

		peer_bye_reason(&m.bye, reason, sizeof(reason));
		FUZZ_CHECK(memchr(reason, '\0', sizeof(reason)));
	}
out:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	/* Nothing may stay queued for the next input. */
	while (recv(sock[1], head, sizeof(head), MSG_DONTWAIT) > 0)
		;
	return 0;
}
