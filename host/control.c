// SPDX-License-Identifier: MIT
/*
 * control.c - the control socket (control.h).  It is a node like a
 * vdev's (host/peer/node.c: SOCK_SEQPACKET, 0600, stale ones replaced),
 * so one request is one message and one reply is one message.
 */
#include "host/control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "host/dev/capture.h"
#include "host/opts.h"
#include "host/peer/node.h"

struct control_conn {
	struct control *c;
	struct ev_handler h;
	long timer;
};

struct control {
	struct evloop *ev;
	struct peer_node node;
	struct ev_handler listen_h;
	struct control_ops ops;
	void *arg;
	struct control_conn conns[CONTROL_MAX_CONNS];
	char reply[CONTROL_REPLY_MAX];
};

static void conn_close(struct control_conn *cc)
{
	if (cc->h.fd < 0)
		return;
	ev_del(cc->c->ev, &cc->h);
	ev_timer_cancel(cc->c->ev, cc->timer);
	close(cc->h.fd);
	cc->h.fd = -1;
}

static void conn_timeout(void *arg)
{
	struct control_conn *cc = arg;

	cc->timer = 0;
	log_rl(LOG_WARN, "control: a client sent no request within %u ms", CONTROL_TIMEOUT_MS);
	conn_close(cc);
}

static void reply(struct control_conn *cc, const char *msg, size_t len)
{
	if (send(cc->h.fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_rl(LOG_WARN, "control: reply failed: %s", strerror(errno));
}

/* The requests that name a vdev. */
enum vdev_req { REQ_CAPTURE, REQ_HANDOVER, REQ_HANDOVER_CHECK };

static bool vdev_req_served(const struct control *c, enum vdev_req r)
{
	return r == REQ_CAPTURE ? c->ops.capture != NULL :
	       r == REQ_HANDOVER ? c->ops.handover != NULL : c->ops.handover_check != NULL;
}

/* "capture NAME", "handover NAME ADOPTS": on success the connection
 * leaves our slots and is the vdev's (its capture stream, or where it
 * says it has handed over), 0.  "handover-check NAME ADOPTS" is answered
 * "ok" at once, 1.  Otherwise the error is the reply, -errno. */
static int conn_give(struct control_conn *cc, const char *verb, enum vdev_req r,
		     const char *name, const char *adopts)
{
	struct control *c = cc->c;
	bool served = vdev_req_served(c, r);
	char err[256];
	int fd = cc->h.fd, rc;

	if (!opts_valid_name(name)) {
		snprintf(c->reply, sizeof(c->reply),
			 "error: %s: not a vdev name (1-%d characters of A-Z a-z 0-9 _ . -)\n", verb,
			 OPTS_NAME_MAX - 1);
		log_rl(LOG_WARN, "control: %s of a malformed name refused", verb);
		reply(cc, c->reply, strlen(c->reply));
		return -EINVAL;
	}
	if (!served) {
		rc = -ENOTSUP;
		snprintf(err, sizeof(err), "not served here");
	} else if (r == REQ_HANDOVER_CHECK) {
		rc = c->ops.handover_check(c->arg, name, adopts, err, sizeof(err));
		if (rc == 0) {
			reply(cc, "ok\n", 3);
			return 1;
		}
	} else {
		ev_del(c->ev, &cc->h);
		ev_timer_cancel(c->ev, cc->timer);
		cc->timer = 0;
		rc = r == REQ_HANDOVER ? c->ops.handover(c->arg, name, adopts, fd, err, sizeof(err)) :
					 c->ops.capture(c->arg, name, fd, err, sizeof(err));
		if (rc == 0) {
			cc->h.fd = -1;	/* the slot is free again */
			return 0;
		}
	}
	snprintf(c->reply, sizeof(c->reply), "error: %s: %s\n", verb, err);
	log_rl(LOG_WARN, "control: %s of '%s' refused: %s", verb, name, err);
	reply(cc, c->reply, strlen(c->reply));
	/* conn_close: ev_del of a handler off the loop already is harmless */
	return rc;
}

/* "VERB NAME ADOPTS": splits NAME from what the taker adopts with it. */
static int conn_handover(struct control_conn *cc, const char *verb, enum vdev_req r,
			 char *name)
{
	char *adopts = strchr(name, ' ');

	if (adopts)
		*adopts++ = 0;
	return conn_give(cc, verb, r, name, adopts ? adopts : "");
}

static void conn_event(struct ev_handler *h, uint32_t events)
{
	struct control_conn *cc = container_of(h, struct control_conn, h);
	struct control *c = cc->c;
	char req[CONTROL_REQ_MAX + 1];
	ssize_t n = recv(h->fd, req, CONTROL_REQ_MAX + 1, MSG_DONTWAIT | MSG_TRUNC);
	size_t len;

	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(cc);
		return;
	}
	if (n > CONTROL_REQ_MAX) {
		static const char e[] = "error: request too long\n";

		log_rl(LOG_WARN, "control: request of %zd bytes refused (at most %u)", n,
		       CONTROL_REQ_MAX);
		reply(cc, e, sizeof(e) - 1);
		conn_close(cc);
		return;
	}
	req[n] = 0;
	if (n > 0 && req[n - 1] == '\n')
		req[--n] = 0;
	if (strcmp(req, "stats") == 0 || strcmp(req, "stats json") == 0) {
		len = c->ops.stats(c->arg, req[5] != 0, c->reply, sizeof(c->reply));
		reply(cc, c->reply, len);
	} else if (strncmp(req, "capture ", 8) == 0) {
		if (conn_give(cc, "capture", REQ_CAPTURE, req + 8, NULL) == 0)
			return;		/* the connection is the capture's now */
	} else if (strncmp(req, "handover ", 9) == 0) {
		if (conn_handover(cc, "handover", REQ_HANDOVER, req + 9) == 0)
			return;		/* answered once the vdev has let go */
	} else if (strncmp(req, "handover-check ", 15) == 0) {
		conn_handover(cc, "handover-check", REQ_HANDOVER_CHECK, req + 15);
	} else {
		static const char e[] = "error: unknown request; expected 'stats', 'stats json', 'capture NAME', 'handover NAME ...' or 'handover-check NAME ...'\n";

		log_rl(LOG_WARN, "control: unknown request refused");
		reply(cc, e, sizeof(e) - 1);
	}
	conn_close(cc);
}

static void listen_event(struct ev_handler *h, uint32_t events)
{
	struct control *c = container_of(h, struct control, listen_h);
	struct control_conn *cc = NULL;
	long uid;
	int fd;

	(void)events;
	fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	uid = peer_sock_uid(fd);
	if (uid < 0 || (uid_t)uid != geteuid()) {
		log_rl(LOG_WARN, "control: connection of uid %ld refused (we run as %u)",
		       uid, (unsigned)geteuid());
		close(fd);
		return;
	}
	for (unsigned i = 0; i < CONTROL_MAX_CONNS && !cc; i++)
		if (c->conns[i].h.fd < 0)
			cc = &c->conns[i];
	if (!cc) {
		log_rl(LOG_WARN, "control: %u requests already open; one refused",
		       CONTROL_MAX_CONNS);
		close(fd);
		return;
	}
	cc->c = c;
	if (ev_add(c->ev, &cc->h, fd, EPOLLIN, conn_event) < 0) {
		close(fd);
		return;
	}
	cc->timer = ev_timer(c->ev, CONTROL_TIMEOUT_MS, conn_timeout, cc);
}

int control_start(struct control **out, struct evloop *ev, const char *dir,
		  const struct control_ops *ops, void *arg, bool quiet_if_held)
{
	struct control *c = calloc(1, sizeof(*c));
	char path[sizeof(c->node.path)], err[256];
	bool stale = false;
	int rc;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->ev = ev;
	c->ops = *ops;
	c->arg = arg;
	c->node.fd = -1;
	for (unsigned i = 0; i < CONTROL_MAX_CONNS; i++)
		c->conns[i].h.fd = -1;
	rc = snprintf(path, sizeof(path), "%s/%s", dir, CONTROL_NAME);
	if (rc < 0 || (size_t)rc >= sizeof(path)) {
		free(c);
		return -ENAMETOOLONG;
	}
	rc = peer_node_listen(&c->node, path, &stale, err, sizeof(err));
	if (rc == -EADDRINUSE && quiet_if_held)
		log_debug("system %s still held by pid %ld", dir, c->node.holder_pid);
	else if (rc == -EADDRINUSE && c->node.holder_pid > 0)
		log_err("system %s is held by a running vnet-host (pid %ld); choose another --system or stop that one",
			dir, c->node.holder_pid);
	else if (rc < 0)
		log_err("control socket %s: %s", path, err);
	if (rc < 0) {
		free(c);
		return rc;
	}
	rc = ev_add(ev, &c->listen_h, c->node.fd, EPOLLIN, listen_event);
	if (rc < 0) {
		peer_node_close(&c->node);
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void control_stop(struct control *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < CONTROL_MAX_CONNS; i++)
		conn_close(&c->conns[i]);
	ev_del(c->ev, &c->listen_h);
	peer_node_close(&c->node);
	free(c);
}

/* Connects to dir/.control; the fd, or -errno with a message. */
static int client_connect(const char *who, const char *dir, char *path, size_t plen)
{
	int fd, rc = snprintf(path, plen, "%s/%s", dir, CONTROL_NAME);

	if (rc < 0 || (size_t)rc >= plen) {
		fprintf(stderr, "%s: %s/%s: path too long\n", who, dir, CONTROL_NAME);
		return -ENAMETOOLONG;
	}
	rc = peer_node_connect(path, &fd);
	if (rc < 0) {
		fprintf(stderr, "%s: %s: %s%s\n", who, path, strerror(-rc),
			rc == -ENOENT || rc == -ECONNREFUSED ?
			" (is a vnet-host of that system running?)" : "");
		return rc;
	}
	return fd;
}

/* Waits up to ms for one message into buf (NUL-terminated); its length
 * or -errno. */
static ssize_t client_recv(int fd, char *buf, size_t cap, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n = poll(&pfd, 1, ms);
	ssize_t r;

	if (n <= 0)
		return n == 0 ? -ETIMEDOUT : -errno;
	r = recv(fd, buf, cap - 1, 0);
	if (r <= 0)
		return r == 0 ? -ECONNRESET : -errno;
	buf[r] = 0;
	return r;
}

ssize_t control_request(const char *who, const char *dir, const char *request,
			char *buf, size_t cap)
{
	char path[108];
	ssize_t n;
	int fd = client_connect(who, dir, path, sizeof(path));

	if (fd < 0)
		return fd;
	if (send(fd, request, strlen(request), MSG_NOSIGNAL) < 0)
		n = -errno;
	else
		n = client_recv(fd, buf, cap, CONTROL_TIMEOUT_MS * 2);
	if (n < 0)
		fprintf(stderr, "%s: %s: %s\n", who, path, strerror((int)-n));
	close(fd);
	return n;
}

int control_query(const char *dir, const char *request)
{
	char *buf = malloc(CONTROL_REPLY_MAX + 1);
	ssize_t n;
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	n = control_request("vnet-host stats", dir, request, buf, CONTROL_REPLY_MAX + 1);
	if (n < 0)
		rc = (int)n;
	else if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
		rc = -EIO;
	else if (n >= 6 && memcmp(buf, "error:", 6) == 0)
		rc = -EINVAL;
	free(buf);
	return rc;
}

static volatile sig_atomic_t capture_stop;

static void capture_signal(int sig)
{
	(void)sig;
	capture_stop = 1;
}

/* Writes all of buf to out; false when the reader went away or a signal
 * asked us to stop. */
static bool write_all(int out, const char *buf, size_t n)
{
	while (n && !capture_stop) {
		ssize_t w = write(out, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		buf += w;
		n -= (size_t)w;
	}
	return !capture_stop;
}

int control_capture(const char *dir, const char *name, int out)
{
	static const char who[] = "vnet-host capture";
	struct sigaction sa = { .sa_handler = capture_signal };	/* no SA_RESTART */
	char path[108], req[CONTROL_REQ_MAX + 1];
	unsigned long long total = 0;
	const char *end = "stopped";
	char *buf;
	ssize_t n;
	int fd, rc = 0;

	if ((size_t)snprintf(req, sizeof(req), "capture %s", name) >= sizeof(req))
		return -ENAMETOOLONG;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a reader that went away is EPIPE */
	fd = client_connect(who, dir, path, sizeof(path));
	if (fd < 0)
		return fd;
	buf = malloc(CAPTURE_MSG_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		rc = -errno;
		fprintf(stderr, "%s: %s: %s\n", who, path, strerror(-rc));
		goto out;
	}
	/* The first message is the pcap file header, or an error. */
	n = client_recv(fd, buf, CAPTURE_MSG_MAX + 1, CONTROL_TIMEOUT_MS * 2);
	if (n < 0) {
		rc = (int)n;
		fprintf(stderr, "%s: %s: %s\n", who, path, strerror(-rc));
		goto out;
	}
	if (n >= 6 && memcmp(buf, "error:", 6) == 0) {
		fprintf(stderr, "%s: %s", who, buf);
		rc = -EINVAL;
		goto out;
	}
	for (;;) {
		struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN }, { .fd = out } };

		if (!write_all(out, buf, (size_t)n)) {
			end = capture_stop ? "stopped" : "the reader went away";
			break;
		}
		total += (unsigned long long)n;
		if (poll(pfd, 2, -1) < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (capture_stop)
			break;
		if (pfd[1].revents & (POLLERR | POLLHUP)) {
			end = "the reader went away";
			break;
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = 0;
			continue;
		}
		n = recv(fd, buf, CAPTURE_MSG_MAX, 0);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			end = "vnet-host ended the capture";
			break;
		}
	}
	fprintf(stderr, "%s: %s; %llu bytes written (vnet-host stats counts the frames and drops)\n",
		who, end, total);
out:
	free(buf);
	close(fd);
	return rc;
}
