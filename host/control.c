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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
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
	control_stats_fn fn;
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
		len = c->fn(c->arg, req[5] != 0, c->reply, sizeof(c->reply));
		reply(cc, c->reply, len);
	} else {
		static const char e[] = "error: unknown request; expected 'stats' or 'stats json'\n";

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
		  control_stats_fn fn, void *arg)
{
	struct control *c = calloc(1, sizeof(*c));
	char path[sizeof(c->node.path)], err[256];
	bool stale = false;
	int rc;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->ev = ev;
	c->fn = fn;
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
	if (rc == -EADDRINUSE && c->node.holder_pid > 0)
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

int control_query(const char *dir, const char *request)
{
	char path[108];
	struct pollfd pfd;
	char *buf;
	ssize_t n;
	int fd, rc;

	rc = snprintf(path, sizeof(path), "%s/%s", dir, CONTROL_NAME);
	if (rc < 0 || (size_t)rc >= sizeof(path))
		return -ENAMETOOLONG;
	rc = peer_node_connect(path, &fd);
	if (rc < 0) {
		fprintf(stderr, "vnet-host stats: %s: %s%s\n", path, strerror(-rc),
			rc == -ENOENT || rc == -ECONNREFUSED ?
			" (is a vnet-host of that system running?)" : "");
		return rc;
	}
	buf = malloc(CONTROL_REPLY_MAX);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	rc = 0;
	if (send(fd, request, strlen(request), MSG_NOSIGNAL) < 0) {
		rc = -errno;
	} else {
		pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
		n = poll(&pfd, 1, CONTROL_TIMEOUT_MS * 2);
		if (n <= 0)
			rc = n == 0 ? -ETIMEDOUT : -errno;
		else if ((n = recv(fd, buf, CONTROL_REPLY_MAX, 0)) <= 0)
			rc = n == 0 ? -ECONNRESET : -errno;
		else if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			rc = -EIO;
		else if (n >= 6 && memcmp(buf, "error:", 6) == 0)
			rc = -EINVAL;
	}
	if (rc < 0 && rc != -EINVAL)
		fprintf(stderr, "vnet-host stats: %s: %s\n", path, strerror(-rc));
	free(buf);
	close(fd);
	return rc;
}
