// SPDX-License-Identifier: MIT
/*
 * vfio_server.c - serves one vdev over vfio-user (QEMU
 * docs/interop/vfio-user.rst; reference/vfio-user.md).  The connection
 * plumbing lives here; what each command does is in face/vfio_cmds.c.
 *
 * The event loop is never blocked for long: the client socket is read only
 * when epoll reports it readable, a message that has started must finish
 * within SERVER_REST_MS, and a reply must be taken by the client within
 * SERVER_SEND_MS; a client that stalls is dropped.
 */
#include "host/face/vfio_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/gmem.h"
#include "common/log.h"
#include "common/vfio_user/codec.h"
#include "host/evloop.h"
#include "host/transport/transport.h"
#include "host/face/vfio_server_priv.h"

/* A refused second client has this long to send the VERSION we answer
 * with EBUSY. */
#define SERVER_REJECT_MS 2000
/* Messages handled per wakeup, so one client cannot starve the loop. */
#define SERVER_BATCH 16
/* Pause before accepting again when out of fds or memory. */
#define SERVER_ACCEPT_PAUSE_MS 100

static void client_event(struct ev_handler *h, uint32_t events);

static void close_irq_fds(struct transport *t)
{
	for (unsigned i = 0; i < TRANSPORT_MAX_IRQ_INDEX; i++)
		for (unsigned v = 0; v < TRANSPORT_MAX_VECTORS; v++)
			if (t->irqs.fd[i][v] >= 0)
				close(t->irqs.fd[i][v]);
	transport_irqs_init(&t->irqs);
}

/* vfio-user.rst "Client Disconnection": unmap all client memory, close
 * the client's irq fds.  We also reset the device (the queues point into
 * memory that is gone; the driver starts over when it comes back). */
void vfs_drop_client(struct vfio_server *s, const char *why)
{
	bool was_attached = s->negotiated, moved;

	if (s->client_fd < 0)
		return;
	ev_del(s->ev, &s->client_h);
	close(s->client_fd);
	s->client_fd = -1;
	s->negotiated = false;
	if (!was_attached) {
		log_debug("vfio-user %s: connection closed before VERSION: %s",
			  s->path, why);
		return;
	}
	log_info("vfio-user %s: client detached: %s", s->path, why);
	/* A client that read the whole state and left moved the device to
	 * another process: it lets go of what the new one takes over. */
	moved = vfs_mig_end(s);
	if (moved && s->cbs.moved_out)
		s->cbs.moved_out(s->cbs.arg);
	if (s->cbs.detached)
		s->cbs.detached(s->cbs.arg);
	gmem_clear(s->gm);
	close_irq_fds(s->t);
	if (s->t->ops->reset)
		s->t->ops->reset(s->t);	/* also ends a pause (vdev_reset) */
}

static void client_event(struct ev_handler *h, uint32_t events)
{
	struct vfio_server *s = container_of(h, struct vfio_server, client_h);

	(void)events;
	for (int i = 0; i < SERVER_BATCH && s->client_fd >= 0; i++) {
		struct vfio_user_msg m;
		int rc = vfio_user_recv(s->client_fd, &m, s->buf, SERVER_BUF_SIZE,
					0, SERVER_REST_MS);

		if (rc == -EAGAIN)
			return;
		if (rc < 0) {
			vfs_drop_client(s, rc == -ECONNRESET ? "connection closed"
					   : rc == -EPROTO    ? "message framing lost"
					   : rc == -ETIMEDOUT ? "message stalled half-way"
							      : strerror(-rc));
			return;
		}
		rc = vfs_handle_message(s, &m);
		vfio_user_msg_close_fds(&m);
		if (rc < 0) {
			vfs_drop_client(s, "protocol error");
			return;
		}
	}
}

/* ---- the refused second client ---------------------------------------- */

static void reject_close(struct vfio_server *s)
{
	if (s->reject_fd < 0)
		return;
	ev_del(s->ev, &s->reject_h);
	close(s->reject_fd);
	s->reject_fd = -1;
	ev_timer_cancel(s->ev, s->reject_timer);
	s->reject_timer = 0;
}

static void reject_expired(void *arg)
{
	struct vfio_server *s = arg;

	s->reject_timer = 0;
	log_rl(LOG_WARN, "vfio-user %s: refused client sent nothing; closed", s->path);
	reject_close(s);
}

/* Answers the refused client's first message (its VERSION) with EBUSY, so
 * its user learns why, then closes. */
static void reject_event(struct ev_handler *h, uint32_t events)
{
	struct vfio_server *s = container_of(h, struct vfio_server, reject_h);
	struct vfio_user_msg m;
	int rc;

	(void)events;
	rc = vfio_user_recv_hdr(s->reject_fd, &m, VFIO_USER_MAX_MSG, 0,
				SERVER_REST_MS);
	if (rc == -EAGAIN)
		return;
	if (rc == 0) {
		rc = vfio_user_skip_payload(s->reject_fd, &m, SERVER_REST_MS);
		vfio_user_msg_close_fds(&m);
		if (rc == 0)
			vfio_user_reply_error(s->reject_fd, &m.hdr, EBUSY,
					      SERVER_SEND_MS);
	}
	log_rl(LOG_WARN, "vfio-user %s: refused a second client (device busy)",
	       s->path);
	reject_close(s);
}

/* ---- accepting --------------------------------------------------------- */

static void listen_event(struct ev_handler *h, uint32_t events);

static void accept_resume(void *arg)
{
	struct vfio_server *s = arg;

	s->accept_timer = 0;
	if (ev_add(s->ev, &s->listen_h, s->listen_fd, EPOLLIN, listen_event) < 0)
		log_err("vfio-user %s: cannot watch the socket again", s->path);
}

static bool peer_is_our_user(int fd, const char *path)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ||
	    len != sizeof(cr)) {
		log_rl(LOG_WARN, "vfio-user %s: cannot read the client's credentials; refused",
		       path);
		return false;
	}
	if (cr.uid != geteuid()) {
		log_rl(LOG_WARN, "vfio-user %s: refused client pid %d of uid %u (we are uid %u)",
		       path, (int)cr.pid, (unsigned)cr.uid, (unsigned)geteuid());
		return false;
	}
	return true;
}

static void take_client(struct vfio_server *s, int fd)
{
	int rc = ev_add(s->ev, &s->client_h, fd, EPOLLIN, client_event);

	if (rc < 0) {
		log_err("vfio-user %s: cannot watch the client: %s", s->path,
			strerror(-rc));
		close(fd);
		return;
	}
	s->client_fd = fd;
	s->negotiated = false;
	vfio_user_caps_default(&s->client_caps);
	log_debug("vfio-user %s: client connected", s->path);
}

static void take_reject(struct vfio_server *s, int fd)
{
	long id;

	if (s->reject_fd >= 0 ||
	    ev_add(s->ev, &s->reject_h, fd, EPOLLIN, reject_event) < 0) {
		/* Already answering one: this one just gets closed. */
		log_rl(LOG_WARN, "vfio-user %s: refused another client (device busy)",
		       s->path);
		close(fd);
		return;
	}
	s->reject_fd = fd;
	id = ev_timer(s->ev, SERVER_REJECT_MS, reject_expired, s);
	s->reject_timer = id > 0 ? id : 0;
	if (id <= 0)
		reject_close(s);
}

static void listen_event(struct ev_handler *h, uint32_t events)
{
	struct vfio_server *s = container_of(h, struct vfio_server, listen_h);
	int fd;

	(void)events;
	fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		long id;

		if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == ECONNABORTED)
			return;
		log_rl(LOG_WARN, "vfio-user %s: accept: %s", s->path, strerror(e));
		if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM)
			return;
		/* The listener stays readable: stop watching it for a moment
		 * rather than spinning. */
		id = ev_timer(s->ev, SERVER_ACCEPT_PAUSE_MS, accept_resume, s);
		if (id > 0) {
			ev_del(s->ev, &s->listen_h);
			s->accept_timer = id;
		}
		return;
	}
	if (!peer_is_our_user(fd, s->path)) {
		close(fd);
		return;
	}
	if (s->client_fd >= 0)
		take_reject(s, fd);
	else
		take_client(s, fd);
}

/* ---- the listening socket ---------------------------------------------- */

/*
 * A socket file left at path: if something accepts connections there it
 * is live (-EADDRINUSE); if connecting is refused it is stale and removed.
 * Anything that is not a socket is left alone (-EEXIST).
 */
static int clear_stale_socket(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("vfio-user: %s exists and is not a socket", sa->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	rc = rc == 0 ? 0 : errno;
	close(fd);
	if (rc == 0 || rc == EAGAIN || rc == EINPROGRESS) {
		log_err("vfio-user: %s is served by a running process", sa->sun_path);
		return -EADDRINUSE;
	}
	if (rc != ECONNREFUSED && rc != ENOENT)
		return -rc;
	log_info("vfio-user: removing stale socket %s", sa->sun_path);
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int open_listener(struct vfio_server *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(s->path);
	struct stat st;
	mode_t old_mask;
	int fd, rc;

	if (len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, s->path, len + 1);
	rc = clear_stale_socket(&sa);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Create the node 0600 from the start, and chmod in case the umask
	 * could not take it all away; SO_PEERCRED is checked again on
	 * every connection. */
	old_mask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	rc = rc < 0 ? -errno : 0;
	umask(old_mask);
	if (rc < 0)
		goto fail;
	if (chmod(s->path, 0600) < 0 || lstat(s->path, &st) < 0 ||
	    listen(fd, 4) < 0) {
		rc = -errno;
		unlink(s->path);
		goto fail;
	}
	s->sock_dev = st.st_dev;
	s->sock_ino = st.st_ino;
	s->listen_fd = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

int vfio_server_new(struct vfio_server **out, struct evloop *ev,
		    const char *path, struct transport *t, struct gmem *gm,
		    const struct vfio_server_cbs *cbs)
{
	struct vfio_server *s;
	int rc;

	if (!out || !ev || !path || !t || !t->ops || !gm)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ev = ev;
	s->t = t;
	s->gm = gm;
	if (cbs)
		s->cbs = *cbs;
	s->listen_fd = s->client_fd = s->reject_fd = -1;
	s->mig.state = VFIO_MIG_RUNNING;
	s->path = strdup(path);
	s->buf = malloc(SERVER_BUF_SIZE);
	if (!s->path || !s->buf) {
		rc = -ENOMEM;
		goto fail;
	}
	/* The server owns the irq fds from here on (transport.h). */
	transport_irqs_init(&t->irqs);
	rc = open_listener(s);
	if (rc < 0)
		goto fail;
	rc = ev_add(ev, &s->listen_h, s->listen_fd, EPOLLIN, listen_event);
	if (rc < 0) {
		close(s->listen_fd);
		unlink(s->path);
		goto fail;
	}
	log_info("vfio-user: serving %s on %s", t->ops->name ? t->ops->name : "device",
		 s->path);
	*out = s;
	return 0;
fail:
	free(s->buf);
	free(s->path);
	free(s);
	return rc;
}

int vfio_server_rename(struct vfio_server *s, const char *path)
{
	char *np = strdup(path);

	if (!np)
		return -ENOMEM;
	/* rename(2) replaces what is at path in one step: a client always
	 * finds a listener there, the old process's or ours. */
	if (rename(s->path, np) < 0) {
		int rc = -errno;

		log_err("vfio-user: cannot move %s to %s: %s", s->path, np, strerror(errno));
		free(np);
		return rc;
	}
	log_info("vfio-user: %s now served on %s", s->path, np);
	free(s->path);
	s->path = np;
	return 0;
}

void vfio_server_free(struct vfio_server *s)
{
	struct stat st;

	if (!s)
		return;
	vfs_drop_client(s, "server shutting down");
	reject_close(s);
	ev_timer_cancel(s->ev, s->accept_timer);
	ev_del(s->ev, &s->listen_h);
	close(s->listen_fd);
	/* Unlink only our own node, not one another process put there. */
	if (lstat(s->path, &st) == 0 && st.st_dev == s->sock_dev &&
	    st.st_ino == s->sock_ino)
		unlink(s->path);
	free(s->buf);
	free(s->path);
	free(s);
}

bool vfio_server_has_client(const struct vfio_server *s)
{
	return s && s->client_fd >= 0;
}
