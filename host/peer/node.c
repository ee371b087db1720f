// SPDX-License-Identifier: MIT
/*
 * node.c - listening on a vdev's node and connecting to a peer's (node.h).
 */
#include "host/peer/node.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define NODE_BACKLOG 8

static int sockaddr_for(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

int peer_mkdir_p(const char *dir, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = saved;
		if (!saved)
			break;
	}
	return 0;
}

static int parent_dirs(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len;

	if (!slash || slash == path)
		return 0;
	len = (size_t)(slash - path);
	if (len >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, len);
	dir[len] = '\0';
	return peer_mkdir_p(dir, 0700);
}

int peer_node_connect(const char *path, int *fd_out)
{
	struct sockaddr_un sa;
	int fd, ret;

	ret = sockaddr_for(path, &sa);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(fd);
		return ret == -EWOULDBLOCK ? -EAGAIN : ret;
	}
	*fd_out = fd;
	return 0;
}

/* Is somebody listening on the node at path?  1 when a process listens
 * (*pid: its pid, from SO_PEERCRED, or 0 when unknown), 0 when the node
 * is stale, -ENOENT when it is gone (its owner let go of it since the
 * caller saw it), another -errno when we cannot tell (and so must not
 * touch it). */
static int node_alive(const char *path, long *pid)
{
	int fd = -1, ret = peer_node_connect(path, &fd);

	*pid = 0;
	if (ret == 0) {
		struct ucred cr;
		socklen_t len = sizeof(cr);

		if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0)
			*pid = cr.pid;
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (ret == -EAGAIN)	/* backlog full: very much alive */
		return 1;
	if (ret == -ECONNREFUSED)
		return 0;
	return ret;
}

static int __attribute__((format(printf, 4, 5)))
fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

int peer_node_listen(struct peer_node *n, const char *path, bool *was_stale,
		     char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, ret;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	*was_stale = false;
	ret = sockaddr_for(path, &sa);
	if (ret)
		return fail(err, errlen, ret, "node path %s is too long for a socket", path);
	ret = parent_dirs(path);
	if (ret)
		return fail(err, errlen, ret, "cannot create the directories of %s: %s",
			    path, strerror(-ret));

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return fail(err, errlen, -EEXIST, "%s exists and is not a socket", path);
		ret = node_alive(path, &n->holder_pid);
		if (ret > 0 && n->holder_pid > 0)
			return fail(err, errlen, -EADDRINUSE,
				    "%s is in use by a running process (pid %ld): name taken",
				    path, n->holder_pid);
		if (ret > 0)
			return fail(err, errlen, -EADDRINUSE,
				    "%s is in use by a running process: name taken", path);
		if (ret < 0 && ret != -ENOENT)
			return fail(err, errlen, ret, "cannot probe existing node %s: %s",
				    path, strerror(-ret));
		/* -ENOENT: its owner removed it between our lstat and our
		 * probe (a vdev moving to this process lets go of it just
		 * then): the name is free, nothing is stale.  Else stale:
		 * its listener died without cleaning up. */
		if (ret == 0 && unlink(path) < 0 && errno != ENOENT)
			return fail(err, errlen, -errno, "cannot remove stale node %s: %s",
				    path, strerror(errno));
		*was_stale = ret == 0;
	}

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, -errno, "socket: %s", strerror(errno));
	/* Linux creates the node with the socket inode's mode minus the
	 * umask: setting 0600 first leaves no window where the node is open
	 * to others; the chmod after bind makes it hold on other kernels. */
	if (fchmod(fd, 0600) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(fd);
		return fail(err, errlen, ret, "cannot bind %s: %s", path, strerror(-ret));
	}
	if (chmod(path, 0600) < 0 || lstat(path, &st) < 0 ||
	    listen(fd, NODE_BACKLOG) < 0) {
		ret = -errno;
		unlink(path);
		close(fd);
		return fail(err, errlen, ret, "cannot listen on %s: %s", path,
			    strerror(-ret));
	}
	n->fd = fd;
	n->dev = st.st_dev;
	n->ino = st.st_ino;
	snprintf(n->path, sizeof(n->path), "%s", path);
	return 0;
}

void peer_node_close(struct peer_node *n)
{
	struct stat st;

	if (n->fd < 0)
		return;
	/* Removed while we still listen: a process that wants the name
	 * finds the node alive until it is gone, so it cannot have found it
	 * stale and bound its own in its place, which we would remove. */
	if (lstat(n->path, &st) == 0 && st.st_dev == n->dev && st.st_ino == n->ino)
		unlink(n->path);
	close(n->fd);
	n->fd = -1;
}

long peer_sock_uid(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -errno;
	if (len != sizeof(cr))
		return -EPROTO;
	return (long)cr.uid;
}
