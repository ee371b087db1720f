// SPDX-License-Identifier: MIT
/*
 * ring2proc - a virtqueue (split, or packed with --packed) across two
 * processes, in the manner of
 * Linux's tools/virtio/vringh_test: the parent is the driver, a forked
 * child is the device.  A memfd holds the ring and the buffers; the child
 * maps it a second time (so at a different virtual address from the
 * parent's mapping, which it then unmaps) and reaches it only through a
 * gmem window at a guest-physical base unlike either local address, so a
 * translation bug faults or fails the content check instead of passing.
 * Doorbells are eventfds both ways (kick and interrupt); each side sleeps
 * only after re-enabling notifications and re-checking the ring.
 *
 * Every frame is a request/response chain: a 16-byte header and a payload
 * the device may only read, one buffer the device writes its reply into.
 * The device checks sequence numbers arrive in order and every payload
 * byte; the driver checks every reply byte and the used length.
 *
 *   ring2proc [--frames N] [--packed] [--event-idx|--no-event-idx]
 *             [--indirect] [--size BYTES] [--qsize N] [--spin N]
 *             [--timeout SEC]
 *
 * --packed uses the packed ring (2.8): the queue size need not be a power
 * of two there, and suppression goes through the event structures (DESC
 * mode with EVENT_IDX, ENABLE/DISABLE without).
 *
 * Exit 0 only when every frame came back with correct content.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/barrier.h"
#include "common/gmem.h"
#include "common/log.h"
#include "common/ring/vq.h"

#define GPA_BASE	0x200000000ull	/* guest RAM starts at 8 GiB */
#define CTL_BYTES	4096u		/* results page, not guest RAM */
#define HDR_BYTES	16u
#define REQ_MAGIC	0x52455131u	/* "REQ1" */
#define REP_MAGIC	0x52455031u	/* "REP1" */
#define KICK_BATCH	32u
#define FLUSH_BATCH	32u
#define WAIT_MS		1000		/* one sleep; far above any honest delay */
#define MAX_RAM		(1ull << 30)

struct frame_hdr {
	uint64_t seq;
	uint32_t len;
	uint32_t magic;
};
static_assert(sizeof(struct frame_hdr) == HDR_BYTES, "frame header is shared");

/* Written by the child at the end, read by the parent after waitpid. */
struct results {
	uint64_t served;
	uint64_t content_errors;
	uint64_t kicks_received;
	uint64_t interrupts_sent;
	uint64_t stalls;
	int32_t status;
	char reason[VQ_REASON_LEN + 32];	/* room for a prefix */
};
static_assert(sizeof(struct results) <= CTL_BYTES, "results fit the control page");

struct config {
	uint64_t frames;
	bool packed;
	bool event_idx;
	bool indirect;
	uint32_t size;		/* payload bytes per frame */
	uint16_t qsize;
	uint32_t spin;
	uint32_t timeout_s;
};

/* Where everything sits in the memfd (offsets from its start). */
struct layout {
	size_t ring;		/* ring block, guest RAM starts here */
	size_t ring_bytes;
	size_t bufs;
	size_t slot_bytes;	/* header + payload + reply, per slot */
	size_t total;
};

struct side {
	int kick_fd;		/* driver -> device */
	int irq_fd;		/* device -> driver */
	int memfd;
	uint8_t *map;		/* this process's mapping of the memfd */
	struct layout l;
	struct config c;
	struct vq_addrs addrs;	/* the driver's ring, as the guest would program it */
	uint64_t deadline_ms;
};

/* ---- content patterns --------------------------------------------------- */

/* 8 bytes at a time: a different pattern for every (seq, direction, word). */
static uint64_t pattern_word(uint64_t seed, size_t i)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + i * 0xbf58476d1ce4e5b9ull;

	return x ^ (x >> 29);
}

static void fill_pattern(uint8_t *p, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t w = pattern_word(seed, i / 8);

		memcpy(p + i, &w, 8);
	}
	if (i < len) {
		uint64_t w = pattern_word(seed, i / 8);

		memcpy(p + i, &w, len - i);
	}
}

static bool check_pattern(const uint8_t *p, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t w = pattern_word(seed, i / 8), got;

		memcpy(&got, p + i, 8);
		if (got != w)
			return false;
	}
	if (i < len) {
		uint64_t w = pattern_word(seed, i / 8);

		return memcmp(p + i, &w, len - i) == 0;
	}
	return true;
}

static uint64_t req_seed(uint64_t seq) { return seq * 2; }
static uint64_t rep_seed(uint64_t seq) { return seq * 2 + 1; }

/* ---- doorbells --------------------------------------------------------- */

static void ring_bell(int fd)
{
	uint64_t one = 1;

	/* An eventfd write only fails on counter overflow, which needs
	 * 2^64 - 1 unread kicks: nothing to do but go on. */
	if (write(fd, &one, sizeof(one)) != sizeof(one))
		log_rl(LOG_WARN, "doorbell write: %s", strerror(errno));
}

/* Sleeps until the bell rings or WAIT_MS pass; true when it rang. */
static bool wait_bell(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t v;
	int rc;

	do
		rc = poll(&pfd, 1, WAIT_MS);
	while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return false;
	/* Non-blocking: drains whatever count has piled up. */
	return read(fd, &v, sizeof(v)) == sizeof(v);
}

/* ---- device (child) ---------------------------------------------------- */

static uint64_t dev_serve(const struct config *c, struct vq_chain *ch,
			  uint64_t expect, uint32_t *written)
{
	struct frame_hdr h;
	uint8_t *reply;

	*written = 0;
	if (ch->n_out != 2 || ch->n_in != 1 || ch->bufs[0].len != HDR_BYTES ||
	    ch->bufs[1].len != c->size || ch->bufs[2].len != HDR_BYTES + c->size)
		return 1;
	memcpy(&h, ch->bufs[0].ptr, sizeof(h));
	if (h.seq != expect || h.len != c->size || h.magic != REQ_MAGIC ||
	    !check_pattern(ch->bufs[1].ptr, c->size, req_seed(h.seq)))
		return 1;
	reply = ch->bufs[2].ptr;
	h.magic = REP_MAGIC;
	memcpy(reply, &h, sizeof(h));
	fill_pattern(reply + HDR_BYTES, c->size, rep_seed(h.seq));
	*written = HDR_BYTES + c->size;
	return 0;
}

static int device_run(struct side *s, struct results *r, struct vq_dev *vq)
{
	struct vq_buf bufs[4];
	struct vq_chain ch = { .bufs = bufs, .cap = 4 };
	uint64_t expect = 0;

	vq_dev_set_notify(vq, false);
	while (expect < s->c.frames) {
		unsigned n = 0;
		int rc;

		if (now_ms() > s->deadline_ms) {
			snprintf(r->reason, sizeof(r->reason), "device timed out after %" PRIu64 " frames", expect);
			return -ETIMEDOUT;
		}
		while ((rc = vq_dev_pop(vq, &ch, VQ_CHAIN_ANY)) == 1) {
			uint32_t written;

			r->content_errors += dev_serve(&s->c, &ch, expect, &written);
			vq_dev_push(vq, &ch, written);
			expect++;
			if (++n % FLUSH_BATCH == 0 && vq_dev_flush(vq))
				ring_bell(s->irq_fd);
		}
		if (rc < 0) {
			snprintf(r->reason, sizeof(r->reason), "device: %s",
				 vq->broken ? vq->reason : strerror(-rc));
			return rc;
		}
		if (vq_dev_flush(vq))
			ring_bell(s->irq_fd);
		if (n)
			continue;
		/* Idle: a short bounded poll, then sleep with kicks enabled. */
		for (uint32_t i = 0; i < s->c.spin && !vq_dev_has_avail(vq); i++)
			cpu_relax();
		if (vq_dev_has_avail(vq))
			continue;
		if (vq_dev_set_notify(vq, true)) {
			vq_dev_set_notify(vq, false);
			continue;
		}
		if (wait_bell(s->kick_fd))
			r->kicks_received++;
		else if (vq_dev_has_avail(vq))
			r->stalls++;	/* work waited a whole second unannounced */
		vq_dev_set_notify(vq, false);
	}
	r->served = expect;
	return 0;
}

static int device_main(struct side *s)
{
	struct results *r;
	struct gmem gm;
	struct vq_dev vq;
	uint8_t *ctl;
	int rc;

	/* The RAM gets its own, second mapping while the parent's inherited
	 * one still exists, so the two addresses differ; then the inherited
	 * one goes, so any pointer that escaped translation faults. */
	gmem_init(&gm);
	rc = gmem_map_fd(&gm, GPA_BASE, s->l.total - s->l.ring, s->memfd, s->l.ring, true);
	ctl = mmap(NULL, CTL_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, s->memfd, 0);
	if (rc || ctl == MAP_FAILED)
		return 2;
	if (gm.win[0].hva == s->map + s->l.ring)
		return 3;
	munmap(s->map, s->l.total);
	r = (struct results *)(void *)ctl;

	memset(&vq, 0, sizeof(vq));
	rc = vq_dev_init(&vq, s->c.packed ? VQ_PACKED : VQ_SPLIT, s->c.qsize,
			 (s->c.event_idx ? VQ_F_EVENT_IDX : 0) |
			 (s->c.indirect ? VQ_F_INDIRECT : 0), &s->addrs, &gm);
	if (rc) {
		snprintf(r->reason, sizeof(r->reason), "device init: %s", vq.reason);
	} else {
		rc = device_run(s, r, &vq);
		r->interrupts_sent = vq.stats.notify_needed;
	}
	rc = rc ? 1 : (r->content_errors ? 1 : 0);
	r->status = rc;
	gmem_clear(&gm);
	munmap(ctl, CTL_BYTES);
	return rc;
}

/* ---- driver (parent) ---------------------------------------------------- */

struct drv_state {
	struct side *s;
	struct vq_drv vq;
	uint64_t *slot_seq;	/* seq carried by each slot in flight */
	uint16_t *free_slots;
	unsigned n_free;
	uint64_t sent, done;
	uint64_t kicks, irqs_received, stalls, content_errors;
};

static uint8_t *slot_ptr(struct drv_state *d, unsigned slot)
{
	return d->s->map + d->s->l.bufs + (size_t)slot * d->s->l.slot_bytes;
}

static uint64_t slot_gpa(struct drv_state *d, unsigned slot)
{
	return GPA_BASE + (d->s->l.bufs - d->s->l.ring) + (uint64_t)slot * d->s->l.slot_bytes;
}

static void drv_kick(struct drv_state *d)
{
	if (vq_drv_kick_prepare(&d->vq)) {
		ring_bell(d->s->kick_fd);
		d->kicks++;
	}
}

/* Adds one frame; false when the ring (or the slot pool) is full. */
static bool drv_send_one(struct drv_state *d)
{
	uint32_t size = d->s->c.size;
	struct frame_hdr h = { .seq = d->sent, .len = size, .magic = REQ_MAGIC };
	struct vq_sg sg[3];
	unsigned slot;
	uint8_t *p;
	int rc;

	if (!d->n_free)
		return false;
	slot = d->free_slots[d->n_free - 1];
	p = slot_ptr(d, slot);
	memcpy(p, &h, sizeof(h));
	fill_pattern(p + HDR_BYTES, size, req_seed(d->sent));
	memset(p + HDR_BYTES + size, 0, HDR_BYTES);	/* stale reply header */
	sg[0] = (struct vq_sg){ slot_gpa(d, slot), HDR_BYTES };
	sg[1] = (struct vq_sg){ slot_gpa(d, slot) + HDR_BYTES, size };
	sg[2] = (struct vq_sg){ slot_gpa(d, slot) + HDR_BYTES + size, HDR_BYTES + size };
	rc = vq_drv_add(&d->vq, sg, 2, 1, (void *)(uintptr_t)(slot + 1));
	if (rc == -ENOSPC)
		return false;
	if (rc) {
		log_err("vq_drv_add: %s", strerror(-rc));
		return false;
	}
	d->n_free--;
	d->slot_seq[slot] = d->sent++;
	return true;
}

static bool drv_check_reply(struct drv_state *d, unsigned slot, uint32_t len)
{
	uint32_t size = d->s->c.size;
	const uint8_t *reply = slot_ptr(d, slot) + HDR_BYTES + size;
	struct frame_hdr h;

	if (len != HDR_BYTES + size)
		return false;
	memcpy(&h, reply, sizeof(h));
	return h.seq == d->slot_seq[slot] && h.len == size && h.magic == REP_MAGIC &&
	       check_pattern(reply + HDR_BYTES, size, rep_seed(h.seq));
}

static unsigned drv_reap(struct drv_state *d)
{
	unsigned got = 0;
	uint32_t len;
	void *tok;

	while ((tok = vq_drv_get(&d->vq, &len)) != NULL) {
		unsigned slot = (unsigned)((uintptr_t)tok - 1);

		if (!drv_check_reply(d, slot, len))
			d->content_errors++;
		d->free_slots[d->n_free++] = (uint16_t)slot;
		d->done++;
		got++;
	}
	return got;
}

static int driver_run(struct drv_state *d)
{
	const struct config *c = &d->s->c;

	vq_drv_disable_cb(&d->vq);
	while (d->done < c->frames) {
		unsigned added = 0;

		if (now_ms() > d->s->deadline_ms) {
			log_err("driver timed out: %" PRIu64 " of %" PRIu64 " frames back",
				d->done, c->frames);
			return -ETIMEDOUT;
		}
		while (d->sent < c->frames && drv_send_one(d))
			if (++added % KICK_BATCH == 0)
				drv_kick(d);
		if (added)
			drv_kick(d);
		if (drv_reap(d) || added)
			continue;
		if (d->vq.broken) {
			log_err("driver: %s", d->vq.reason);
			return -EIO;
		}
		/* Idle: a short bounded poll, then sleep with interrupts on. */
		for (uint32_t i = 0; i < c->spin && !vq_drv_has_used(&d->vq); i++)
			cpu_relax();
		if (vq_drv_has_used(&d->vq))
			continue;
		if (!vq_drv_enable_cb(&d->vq)) {
			vq_drv_disable_cb(&d->vq);
			continue;
		}
		if (wait_bell(d->s->irq_fd))
			d->irqs_received++;
		else if (vq_drv_has_used(&d->vq))
			d->stalls++;
		vq_drv_disable_cb(&d->vq);
	}
	return 0;
}

/* ---- setup ---------------------------------------------------------------- */

static int parse_u64(const char *opt, const char *v, uint64_t min, uint64_t max,
		     uint64_t *out)
{
	char *end;
	unsigned long long x;

	if (!v) {
		fprintf(stderr, "ring2proc: %s needs a value\n", opt);
		return -1;
	}
	errno = 0;
	x = strtoull(v, &end, 0);
	if (errno || end == v || *end || v[0] == '-' || x < min || x > max) {
		fprintf(stderr, "ring2proc: %s \"%s\": expected a number in %" PRIu64 "..%" PRIu64 "\n",
			opt, v, min, max);
		return -1;
	}
	*out = x;
	return 0;
}

static int parse_args(int argc, char **argv, struct config *c)
{
	*c = (struct config){ .frames = 1000000, .event_idx = true, .size = 64,
			      .qsize = 256, .spin = 2000, .timeout_s = 120 };
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t x;

		if (!strcmp(o, "--packed")) {
			c->packed = true;
		} else if (!strcmp(o, "--event-idx")) {
			c->event_idx = true;
		} else if (!strcmp(o, "--no-event-idx")) {
			c->event_idx = false;
		} else if (!strcmp(o, "--indirect")) {
			c->indirect = true;
		} else if (!strcmp(o, "--frames")) {
			if (parse_u64(o, v, 1, UINT64_MAX / 4, &x))
				return -1;
			c->frames = x;
			i++;
		} else if (!strcmp(o, "--size")) {
			if (parse_u64(o, v, 0, 65536, &x))
				return -1;
			c->size = (uint32_t)x;
			i++;
		} else if (!strcmp(o, "--qsize")) {
			if (parse_u64(o, v, 4, VIRTQ_MAX_SIZE, &x))
				return -1;
			c->qsize = (uint16_t)x;
			i++;
		} else if (!strcmp(o, "--spin")) {
			if (parse_u64(o, v, 0, 100000000, &x))
				return -1;
			c->spin = (uint32_t)x;
			i++;
		} else if (!strcmp(o, "--timeout")) {
			if (parse_u64(o, v, 1, 3600, &x))
				return -1;
			c->timeout_s = (uint32_t)x;
			i++;
		} else {
			fprintf(stderr, "ring2proc: unknown option \"%s\"\n"
				"usage: ring2proc [--frames N] [--packed] [--event-idx|--no-event-idx]\n"
				"                 [--indirect] [--size BYTES] [--qsize N] [--spin N]\n"
				"                 [--timeout SEC]\n", o);
			return -1;
		}
	}
	/* 2.7: split rings are a power of two; packed need not be (2.8). */
	if (!c->packed && (c->qsize & (c->qsize - 1))) {
		fprintf(stderr, "ring2proc: --qsize %u: a split ring must be a power of 2\n",
			c->qsize);
		return -1;
	}
	return 0;
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int plan_layout(const struct config *c, const struct vq_drv_cfg *cfg,
		       struct layout *l)
{
	l->ring = CTL_BYTES;
	l->ring_bytes = vq_drv_mem_size(cfg);
	if (!l->ring_bytes)
		return -EINVAL;
	l->bufs = align_up(l->ring + l->ring_bytes, 4096);
	l->slot_bytes = align_up(2 * (HDR_BYTES + (size_t)c->size), 64);
	l->total = align_up(l->bufs + (size_t)c->qsize * l->slot_bytes, 4096);
	return l->total - l->ring <= MAX_RAM ? 0 : -E2BIG;
}

/* Waits for the child a bounded time, then kills it; returns its exit
 * status, or -1 when it did not exit cleanly. */
static int reap_child(pid_t pid, uint32_t grace_s)
{
	uint64_t until = now_ms() + grace_s * 1000ull;
	int st;

	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (w < 0 && errno != EINTR)
			return -1;
		if (now_ms() > until)
			break;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

int main(int argc, char **argv)
{
	struct side s = { .kick_fd = -1, .irq_fd = -1, .memfd = -1 };
	struct drv_state d = { .s = &s };
	struct vq_drv_cfg cfg;
	struct results *r;
	uint64_t t0, t1;
	int rc, child_rc, status = 1;
	pid_t pid;

	log_set_prefix("ring2proc");
	if (parse_args(argc, argv, &s.c))
		return 2;
	cfg = (struct vq_drv_cfg){
		.layout = s.c.packed ? VQ_PACKED : VQ_SPLIT, .size = s.c.qsize,
		.used_align = 4,
		.flags = (s.c.event_idx ? VQ_F_EVENT_IDX : 0) | (s.c.indirect ? VQ_F_INDIRECT : 0),
		.indirect_max = s.c.indirect ? 4 : 0,
	};
	if (plan_layout(&s.c, &cfg, &s.l)) {
		fprintf(stderr, "ring2proc: queue of %u with %u-byte frames needs more than %llu MiB\n",
			s.c.qsize, s.c.size, MAX_RAM >> 20);
		return 2;
	}
	s.memfd = memfd_create("ring2proc", MFD_CLOEXEC);
	s.kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s.irq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s.memfd < 0 || s.kick_fd < 0 || s.irq_fd < 0 ||
	    ftruncate(s.memfd, (off_t)s.l.total)) {
		perror("ring2proc: setup");
		goto out;
	}
	s.map = mmap(NULL, s.l.total, PROT_READ | PROT_WRITE, MAP_SHARED, s.memfd, 0);
	if (s.map == MAP_FAILED) {
		perror("ring2proc: mmap");
		s.map = NULL;
		goto out;
	}
	rc = vq_drv_init(&d.vq, &cfg, s.map + s.l.ring, GPA_BASE);
	d.slot_seq = calloc(s.c.qsize, sizeof(*d.slot_seq));
	d.free_slots = calloc(s.c.qsize, sizeof(*d.free_slots));
	if (rc || !d.slot_seq || !d.free_slots) {
		fprintf(stderr, "ring2proc: driver init failed\n");
		goto out;
	}
	for (unsigned i = 0; i < s.c.qsize; i++)
		d.free_slots[d.n_free++] = (uint16_t)(s.c.qsize - 1 - i);
	r = (struct results *)(void *)s.map;
	s.addrs = d.vq.addrs;

	t0 = now_ms();
	s.deadline_ms = t0 + s.c.timeout_s * 1000ull;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("ring2proc: fork");
		goto out;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(device_main(&s));
	}
	rc = driver_run(&d);
	t1 = now_ms();
	child_rc = reap_child(pid, rc ? 0 : 10);

	{
		double secs = (double)(t1 - t0) / 1000.0;
		double f = (double)(d.done ? d.done : 1);

		r->reason[sizeof(r->reason) - 1] = '\0';
		printf("ring2proc: %s, %s, %s, qsize %u, %u-byte frames\n",
		       s.c.packed ? "packed" : "split",
		       s.c.event_idx ? "event-idx" : "no-event-idx",
		       s.c.indirect ? "indirect" : "direct", s.c.qsize, s.c.size);
		printf("frames %" PRIu64 " seconds %.3f Mframes/s %.3f kicks/frame %.5f interrupts/frame %.5f notifications/frame %.5f\n",
		       d.done, secs, secs > 0 ? (double)d.done / secs / 1e6 : 0.0,
		       (double)d.kicks / f, (double)r->interrupts_sent / f,
		       (double)(d.kicks + r->interrupts_sent) / f);
		printf("kick_prepare needed %" PRIu64 " suppressed %" PRIu64
		       "; kicks received %" PRIu64 "; interrupts sent %" PRIu64 " received %" PRIu64 "\n",
		       d.vq.stats.notify_needed, d.vq.stats.notify_suppressed,
		       r->kicks_received, r->interrupts_sent, d.irqs_received);
		printf("content errors %" PRIu64 " (driver) %" PRIu64 " (device); stalls %" PRIu64 "; device exit %d%s%s\n",
		       d.content_errors, r->content_errors, d.stalls + r->stalls, child_rc,
		       r->reason[0] ? ": " : "", r->reason);
	}
	if (rc == 0 && child_rc == 0 && d.done == s.c.frames && r->served == s.c.frames &&
	    !d.content_errors && !r->content_errors && !d.stalls && !r->stalls)
		status = 0;
	printf("%s\n", status ? "FAIL" : "PASS");
out:
	vq_drv_free(&d.vq);
	free(d.slot_seq);
	free(d.free_slots);
	if (s.map)
		munmap(s.map, s.l.total);
	if (s.memfd >= 0)
		close(s.memfd);
	if (s.kick_fd >= 0)
		close(s.kick_fd);
	if (s.irq_fd >= 0)
		close(s.irq_fd);
	return status;
}
