// SPDX-License-Identifier: MIT
/*
 * capture.c - packet capture into pcap through libpcap (capture.h).
 *
 * libpcap writes the format: a "dead" handle (DLT_EN10MB) gives the
 * dumpers their link type and snap length, pcap_dump() writes each
 * record.  The file sink is a plain pcap_dump_open'ed file.  The live
 * sink is a dumper on a stdio stream of our own (fopencookie) whose
 * writes land in a private ring buffer; the event loop sends the buffer
 * to the client's socket without ever waiting for it.  A record goes in
 * whole or not at all: room is checked first, so a full buffer drops the
 * frame (counted) and never cuts one in half.
 */
#include "host/dev/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "host/dev/vdev.h"

/* More than libpcap's per-record header (16 bytes in the file). */
#define CAP_REC_SLACK 64

struct cap_live {
	struct vdev_capture *cap;
	struct ev_handler h;		/* h.fd < 0: no live capture */
	FILE *f;			/* writes into buf (fopencookie) */
	pcap_dumper_t *d;
	uint8_t *buf;			/* ring of CAPTURE_LIVE_BUF bytes */
	size_t head, len;
	long flush_timer;		/* 0: none pending */
	bool flush_asked;		/* vdev_capture_frame asked for one */
	bool out_armed;			/* waiting for EPOLLOUT */
};

/* Frames come from every data-path thread of the process (host/dp/
 * threads.c); the main loop touches the sinks only while those are
 * parked. */
static pthread_mutex_t cap_lock = PTHREAD_MUTEX_INITIALIZER;

struct vdev_capture {
	struct vdev *vd;
	pcap_t *pcap;			/* dead handle: link type, snap length */
	pcap_dumper_t *file;		/* `capture FILE`, or NULL */
	struct cap_live live;
};

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static struct vdev_capture *cap_get(struct vdev *vd)
{
	struct vdev_capture *c = vd->capture;

	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->pcap = pcap_open_dead(DLT_EN10MB, CAPTURE_SNAPLEN);
	if (!c->pcap) {
		free(c);
		return NULL;
	}
	c->vd = vd;
	c->live.cap = c;
	c->live.h.fd = -1;
	vd->capture = c;
	return c;
}

/* Frees the capture when neither sink is left: the data path's branch
 * then sees NULL again. */
static void cap_put(struct vdev *vd)
{
	struct vdev_capture *c = vd->capture;

	if (!c || c->file || c->live.h.fd >= 0)
		return;
	pcap_close(c->pcap);
	free(c);
	vd->capture = NULL;
}

int vdev_capture_file(struct vdev *vd, const char *path, char *err, size_t errlen)
{
	struct vdev_capture *c;
	FILE *f;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fail(err, errlen, -errno, "capture '%s': cannot create it", path);
	f = fdopen(fd, "wb");
	if (!f) {
		close(fd);
		return fail(err, errlen, -ENOMEM, "capture '%s': out of memory", path);
	}
	c = cap_get(vd);
	if (!c) {
		fclose(f);
		return fail(err, errlen, -ENOMEM, "capture '%s': out of memory", path);
	}
	c->file = pcap_dump_fopen(c->pcap, f);
	if (!c->file) {
		snprintf(err, errlen, "capture '%s': %s", path, pcap_geterr(c->pcap));
		fclose(f);
		cap_put(vd);
		return -EIO;
	}
	return 0;
}

/* ---- the live sink ---------------------------------------------------- */

/* The cookie stream's write: append to the ring (room was checked). */
static ssize_t live_write(void *cookie, const char *data, size_t n)
{
	struct cap_live *l = cookie;
	size_t tail, first;

	if (n > CAPTURE_LIVE_BUF - l->len)
		return 0;	/* never: vdev_capture_frame checked */
	tail = (l->head + l->len) % CAPTURE_LIVE_BUF;
	first = CAPTURE_LIVE_BUF - tail < n ? CAPTURE_LIVE_BUF - tail : n;
	memcpy(l->buf + tail, data, first);
	memcpy(l->buf, data + first, n - first);
	l->len += n;
	return (ssize_t)n;
}

static void live_end(struct cap_live *l, const char *why)
{
	struct vdev *vd = l->cap->vd;

	if (l->h.fd < 0)
		return;
	log_info("%s: live capture ended: %s", vd->name, why);
	ev_del(vd->ev, &l->h);
	ev_timer_cancel(vd->ev, l->flush_timer);
	l->flush_timer = 0;
	if (l->d)
		pcap_dump_close(l->d);	/* closes l->f; writes nothing more */
	else if (l->f)
		fclose(l->f);
	l->d = NULL;
	l->f = NULL;
	close(l->h.fd);
	l->h.fd = -1;
	free(l->buf);
	l->buf = NULL;
	l->head = l->len = 0;
	l->out_armed = false;
	cap_put(vd);
}

/* Sends what the socket takes now; waits for EPOLLOUT when it is full. */
static void live_flush(struct cap_live *l)
{
	struct vdev *vd = l->cap->vd;

	while (l->len) {
		size_t n = CAPTURE_LIVE_BUF - l->head;
		ssize_t r;

		if (n > l->len)
			n = l->len;
		if (n > CAPTURE_MSG_MAX)
			n = CAPTURE_MSG_MAX;
		r = send(l->h.fd, l->buf + l->head, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!l->out_armed && ev_mod(vd->ev, &l->h, EPOLLIN | EPOLLOUT) == 0)
				l->out_armed = true;
			return;
		}
		if (r <= 0) {
			live_end(l, r < 0 ? strerror(errno) : "connection closed");
			return;
		}
		l->head = (l->head + (size_t)r) % CAPTURE_LIVE_BUF;
		l->len -= (size_t)r;
	}
	if (l->out_armed && ev_mod(vd->ev, &l->h, EPOLLIN) == 0)
		l->out_armed = false;
}

static void live_flush_timer(void *arg)
{
	struct cap_live *l = arg;

	l->flush_timer = 0;
	live_flush(l);
}

static void live_event(struct ev_handler *h, uint32_t events)
{
	struct cap_live *l = container_of(h, struct cap_live, h);
	char junk[64];

	if (events & (EPOLLHUP | EPOLLERR)) {
		live_end(l, "the reader went away");
		return;
	}
	if (events & EPOLLIN) {
		/* The client says nothing after its request: any message, or
		 * its end, ends the capture. */
		ssize_t r = recv(h->fd, junk, sizeof(junk), MSG_DONTWAIT);

		if (r >= 0 || (errno != EAGAIN && errno != EINTR)) {
			live_end(l, "the reader went away");
			return;
		}
	}
	if (events & EPOLLOUT)
		live_flush(l);
}

int vdev_capture_live(struct vdev *vd, int fd, char *err, size_t errlen)
{
	static const cookie_io_functions_t io = { .write = live_write };
	struct vdev_capture *c;
	struct cap_live *l;

	if (vd->capture && vd->capture->live.h.fd >= 0)
		return fail(err, errlen, -EBUSY, "vdev %s: a live capture is already running",
			    vd->name);
	c = cap_get(vd);
	if (!c)
		return fail(err, errlen, -ENOMEM, "vdev %s: out of memory", vd->name);
	l = &c->live;
	l->buf = malloc(CAPTURE_LIVE_BUF);
	l->f = l->buf ? fopencookie(l, "w", io) : NULL;
	if (l->f)
		setvbuf(l->f, NULL, _IONBF, 0);	/* each write straight to the ring */
	if (l->f)
		l->d = pcap_dump_fopen(c->pcap, l->f);	/* writes the file header */
	if (!l->d || ev_add(vd->ev, &l->h, fd, EPOLLIN, live_event) < 0) {
		if (l->d)
			pcap_dump_close(l->d);
		else if (l->f)
			fclose(l->f);
		free(l->buf);
		*l = (struct cap_live){ .cap = c, .h.fd = -1 };
		cap_put(vd);
		return fail(err, errlen, -ENOMEM, "vdev %s: cannot start a capture", vd->name);
	}
	log_info("%s: live capture started", vd->name);
	live_flush(l);
	return 0;
}

/* ---- per frame --------------------------------------------------------- */

bool vdev_capture_frame(struct vdev *vd, const uint8_t *frame, uint32_t len)
{
	struct vdev_capture *c = vd->capture;
	struct cap_live *l = &c->live;
	struct pcap_pkthdr ph;
	struct timespec ts;
	bool ask = false;

	clock_gettime(CLOCK_REALTIME, &ts);
	ph.ts.tv_sec = ts.tv_sec;
	ph.ts.tv_usec = ts.tv_nsec / 1000;
	ph.len = len;
	ph.caplen = len < CAPTURE_SNAPLEN ? len : CAPTURE_SNAPLEN;
	pthread_mutex_lock(&cap_lock);
	vd->stats.capture_frames++;
	if (c->file)
		pcap_dump((u_char *)c->file, &ph, frame);
	if (l->h.fd < 0)
		goto out;
	if (CAPTURE_LIVE_BUF - l->len < ph.caplen + CAP_REC_SLACK) {
		vd->stats.capture_dropped++;
		goto out;
	}
	pcap_dump((u_char *)l->d, &ph, frame);
	/* Sent from the event loop once this pass is over (the caller sees
	 * to it: vdev_capture_flush_soon); while the reader is slow,
	 * EPOLLOUT sends the rest. */
	if (!l->out_armed && !l->flush_timer && !l->flush_asked)
		ask = l->flush_asked = true;
out:
	pthread_mutex_unlock(&cap_lock);
	return ask;
}

void vdev_capture_flush_soon(struct vdev *vd)
{
	struct cap_live *l;

	if (!vd->capture)
		return;
	l = &vd->capture->live;
	l->flush_asked = false;
	if (l->h.fd >= 0 && !l->out_armed && !l->flush_timer) {
		long id = ev_timer(vd->ev, 0, live_flush_timer, l);

		l->flush_timer = id > 0 ? id : 0;
	}
}

void vdev_capture_stop(struct vdev *vd)
{
	struct vdev_capture *c = vd->capture;

	if (!c)
		return;
	if (c->live.h.fd >= 0)
		live_end(&c->live, "vdev stopped");
	if (c->file) {
		pcap_dump_close(c->file);
		c->file = NULL;
	}
	cap_put(vd);
}
