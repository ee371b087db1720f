// SPDX-License-Identifier: MIT
/*
 * vhost_user.c - the vhost-user backend of a vdev (QEMU
 * docs/interop/vhost-user.rst).  One frontend connection at a time;
 * every message is checked by vhost_user_msg.c before it reaches the
 * handlers here, which check what only they can: ring indices, sizes,
 * addresses against the memory table.
 *
 * Rings are "started" (vhost-user.rst "Starting and stopping rings") when
 * the frontend has given size, addresses and a kick fd and enabled them
 * (at once without VHOST_USER_F_PROTOCOL_FEATURES, by SET_VRING_ENABLE
 * with it).  When the first pair's rings (receiveq1, transmitq1) are
 * started we play the driver's part of the virtio status sequence (3.1.1)
 * on the vdev, so the device model, its feature checks and its data path
 * are exactly those of a vfio-user guest.  GET_VRING_BASE stops the
 * rings: the positions are saved, the vdev reset.
 *
 * Multiqueue (vhost-user.rst "Multiple queue support", VIRTIO_NET_F_MQ):
 * with `queues N` we offer VHOST_USER_PROTOCOL_F_MQ and serve rings
 * 0..2N-1, pair k being rings 2k and 2k+1.  The frontend runs the
 * control queue itself (QEMU's virtio-net, DPDK's virtio-user: ring 2N
 * never reaches a backend), answers VQ_PAIRS_SET there and tells us the
 * pairs in use by enabling and disabling their rings.  A pair's rings
 * join the running vdev once both are started; the pairs in use, as the
 * model steers received frames over them, are the first pairs whose rings
 * are all enabled (vdev_set_pairs_in_use).  A pair disabled while the
 * others run keeps its ring positions, so enabling it again resumes it.
 */
#include "host/face/vhost_user.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/ring/inflight.h"
#include "host/dev/vdev.h"
#include "host/face/vhost_user_msg.h"

/* Rings a backend may serve: every receiveq and transmitq of VDEV_MAX_PAIRS
 * pairs (the controlq is the frontend's); a vdev serves nrings() of them. */
#define VHU_MAX_RINGS (2 * VDEV_MAX_PAIRS)

struct vhu_ring {
	uint16_t num;
	bool num_set;
	bool addr_set;
	struct vhu_vring_addr uaddr;	/* frontend user addresses */
	uint32_t base;
	bool base_set;
	bool enabled;
	int kick_fd;			/* owned by the vdev once handed over */
	bool kick_set;
	int call_fd;
	int err_fd;
};

struct vhost_user {
	struct vdev *vd;
	struct evloop *ev;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	struct ev_handler listen_h;
	int conn_fd;
	struct ev_handler conn_h;
	/* per connection */
	uint64_t features;		/* acked by SET_FEATURES */
	bool features_set;
	uint64_t protocol_features;
	struct vhu_region regions[VHU_MAX_REGIONS];
	unsigned nregions;
	struct vhu_ring ring[VHU_MAX_RINGS];
	/* The inflight area (INFLIGHT_SHMFD): the one we made for
	 * GET_INFLIGHT_FD, or the one SET_INFLIGHT_FD handed back, mapped;
	 * num_queues regions of `region` bytes for rings of queue_size.
	 * Only the sizes are ours to trust; the contents are read once, by
	 * vq_dev_set_inflight, when a ring starts. */
	struct {
		uint8_t *map;
		size_t len;
		size_t region;
		uint16_t num_queues;
		uint16_t queue_size;
	} inflight;
	bool running;			/* the vdev saw DRIVER_OK from us */
	uint64_t connections;
};

/* The rings of this vdev: two per queue pair, no controlq. */
static unsigned nrings(const struct vhost_user *vu)
{
	return 2 * vu->vd->max_pairs;
}

/* MQ only with more than one pair: a frontend that sees it asks
 * GET_QUEUE_NUM, and one pair is the same backend with or without it. */
static uint64_t protocol_offer(const struct vhost_user *vu)
{
	/* INFLIGHT_SHMFD: split rings only (common/ring/inflight.h); with a
	 * packed ring GET_INFLIGHT_FD answers with no area (h_get_inflight). */
	uint64_t f = (UINT64_C(1) << VHU_PROTOCOL_F_REPLY_ACK) |
		     (UINT64_C(1) << VHU_PROTOCOL_F_NET_MTU) |
		     (UINT64_C(1) << VHU_PROTOCOL_F_CONFIG) |
		     (UINT64_C(1) << VHU_PROTOCOL_F_INFLIGHT_SHMFD) |
		     (UINT64_C(1) << VHU_PROTOCOL_F_RESET_DEVICE);

	if (vu->vd->max_pairs > 1)
		f |= UINT64_C(1) << VHU_PROTOCOL_F_MQ;
	return f;
}

uint64_t vhost_user_offer(uint64_t f)
{
	/* The frontend implements the control queue (QEMU's virtio-net and
	 * DPDK's virtio-user both do), and with it RX filtering and
	 * announcements: those never reach a vhost-user backend. */
	f &= ~(VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) |
	       VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) |
	       VIRTIO_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |
	       VIRTIO_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) |
	       VIRTIO_BIT(VIRTIO_NET_F_NOTF_COAL) |
	       VIRTIO_BIT(VIRTIO_NET_F_VQ_NOTF_COAL));
	return f | (UINT64_C(1) << VHU_F_PROTOCOL_FEATURES);
}

/* ---- what the model calls ------------------------------------------ */

bool vhost_user_raise(void *ctx, int q)
{
	struct vhost_user *vu = ctx;
	uint64_t one = 1;

	/* No backend channel: a config change cannot be signalled (the
	 * frontend owns the config space; vhost-user.rst CONFIG).  Queue q
	 * is ring q (5.1.2 and vhost-user share the numbering), so each
	 * queue interrupts through its own ring's call fd. */
	if (q < 0 || (unsigned)q >= nrings(vu) || vu->ring[q].call_fd < 0)
		return false;
	return write(vu->ring[q].call_fd, &one, sizeof(one)) == sizeof(one);
}

static void conn_close(struct vhost_user *vu, const char *why);

void vhost_user_mem_fault(void *ctx, const char *why)
{
	struct vhost_user *vu = ctx;

	if (vu->conn_fd >= 0)
		conn_close(vu, why);
}

void vhost_user_destroy(void *ctx)
{
	struct vhost_user *vu = ctx;

	/* Stop listening before the frontend sees the connection close: a
	 * QEMU with reconnect=1 redials at once, and must not reach this
	 * dying process (it would be dropped mid-handshake, which QEMU 7.2
	 * does not always recover from), but the next backend. */
	if (vu->listen_fd >= 0) {
		ev_del(vu->ev, &vu->listen_h);
		close(vu->listen_fd);
		unlink(vu->path);
	}
	if (vu->conn_fd >= 0)
		conn_close(vu, NULL);
	free(vu);
}

/* ---- rings ---------------------------------------------------------- */

static void ring_init(struct vhu_ring *r)
{
	memset(r, 0, sizeof(*r));
	r->kick_fd = r->call_fd = r->err_fd = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Frontend user address -> guest physical, through the memory table
 * (vhost-user.rst: ring addresses are in the frontend's address space). */
static int uaddr_to_gpa(const struct vhost_user *vu, uint64_t ua, uint64_t *gpa)
{
	for (unsigned i = 0; i < vu->nregions; i++) {
		const struct vhu_region *r = &vu->regions[i];

		if (ua >= r->uaddr && ua - r->uaddr < r->size) {
			*gpa = r->gpa + (ua - r->uaddr);
			return 0;
		}
	}
	return -EFAULT;
}

/* The rings stop (GET_VRING_BASE, a reset, the frontend leaving): keep
 * their positions for GET_VRING_BASE and reset the device. */
static void rings_stop(struct vhost_user *vu)
{
	struct vdev *vd = vu->vd;

	if (!vu->running)
		return;
	/* Only the rings the vdev ran have moved; the others keep what
	 * SET_VRING_BASE said. */
	for (unsigned q = 0; q < nrings(vu); q++) {
		if (!vdev_queue_enabled(vd, q))
			continue;
		vu->ring[q].base = vdev_queue_get_base(vd, q);
		vu->ring[q].base_set = true;
	}
	vu->running = false;
	vdev_reset(vd);
	vdev_set_legacy(vd, false);	/* the full offer for the next frontend */
	log_info("%s: vhost-user rings stopped", vd->name);
}

static bool ring_ready(const struct vhu_ring *r)
{
	return r->num_set && r->addr_set && r->kick_set && r->enabled;
}

static bool pair_ready(const struct vhost_user *vu, unsigned k)
{
	return ring_ready(&vu->ring[vnet_rxq(k)]) && ring_ready(&vu->ring[vnet_txq(k)]);
}

static bool packed_negotiated(const struct vhost_user *vu)
{
	return vu->features_set && (vu->features & VIRTIO_BIT(VIRTIO_F_RING_PACKED));
}

/* Ring q's region of the inflight area to the vdev's queue, which reads
 * what a previous backend left there (vhost-user.rst "Inflight I/O
 * tracking": the chains still inflight are resubmitted first).  0, or -1
 * with the vdev in NEEDS_RESET. */
static int ring_inflight(struct vhost_user *vu, unsigned q)
{
	struct vdev *vd = vu->vd;
	unsigned resubmit;
	char why[128];

	if (packed_negotiated(vu)) {
		log_rl(LOG_WARN, "%s: vhost-user ring %u: inflight tracking is for split rings only; this packed ring runs without it",
		       vd->name, q);
		return 0;
	}
	if (vu->ring[q].num != vu->inflight.queue_size) {
		snprintf(why, sizeof(why),
			 "vhost-user ring %u has %u entries but its inflight region was made for %u",
			 q, vu->ring[q].num, vu->inflight.queue_size);
		vdev_set_needs_reset(vd, why);
		return -1;
	}
	if (vdev_queue_set_inflight(vd, q, vu->inflight.map + (size_t)q * vu->inflight.region,
				    vu->inflight.region, &resubmit) < 0)
		return -1;
	if (resubmit)
		log_info("%s: vhost-user ring %u: %u chains the previous backend left in flight are taken again first",
			 vd->name, q, resubmit);
	return 0;
}

/* Hands ring q to the vdev (translated, enabled, at its base).  0, or
 * -1 with the vdev in NEEDS_RESET (the reason logged by the caller). */
static int ring_start(struct vhost_user *vu, unsigned q)
{
	struct vdev *vd = vu->vd;
	struct vhu_ring *r = &vu->ring[q];
	uint64_t desc, avail, used;
	char why[96];

	if (uaddr_to_gpa(vu, r->uaddr.desc, &desc) < 0 ||
	    uaddr_to_gpa(vu, r->uaddr.avail, &avail) < 0 ||
	    uaddr_to_gpa(vu, r->uaddr.used, &used) < 0) {
		snprintf(why, sizeof(why),
			 "vhost-user ring %u: an address is outside the memory table", q);
		vdev_set_needs_reset(vd, why);
		return -1;
	}
	vdev_queue_set_size(vd, q, r->num);
	vdev_queue_set_addr(vd, q, 0, desc);
	vdev_queue_set_addr(vd, q, 1, avail);
	vdev_queue_set_addr(vd, q, 2, used);
	vdev_queue_enable(vd, q);
	if (!vdev_queue_enabled(vd, q))
		return -1;
	if (r->base_set && vdev_queue_set_base(vd, q, r->base) < 0) {
		snprintf(why, sizeof(why), "vhost-user ring %u: bad base 0x%x", q, r->base);
		vdev_set_needs_reset(vd, why);
		return -1;
	}
	if (vu->inflight.map && q < vu->inflight.num_queues)
		return ring_inflight(vu, q);
	return 0;
}

static void start_refused(struct vhost_user *vu)
{
	struct vdev *vd = vu->vd;

	log_rl(LOG_WARN, "%s: vhost-user: cannot start the rings: %s", vd->name,
	       vd->needs_reset_reason[0] ? vd->needs_reset_reason : "features refused");
	vdev_reset(vd);
	vdev_set_legacy(vd, false);
}

/* With the vdev running: hands it every further pair whose rings are
 * started (pairs of the negotiated layout only: without MQ, queue 2 is
 * the controlq), then tells the model which pairs are in use: the first
 * ones whose rings are all enabled, so a frame is only ever steered to an
 * enabled receive ring.  A failing ring stops everything (rings_stop). */
static void pairs_update(struct vhost_user *vu)
{
	struct vdev *vd = vu->vd;
	const unsigned np = vdev_pairs_negotiated(vd);
	unsigned in_use = 1;

	for (unsigned k = 1; k < np; k++) {
		if (!pair_ready(vu, k) || vdev_queue_enabled(vd, vnet_rxq(k)))
			continue;
		if (ring_start(vu, vnet_rxq(k)) < 0 || ring_start(vu, vnet_txq(k)) < 0) {
			/* This pair never ran: its positions stay the frontend's. */
			struct vhu_ring rx = vu->ring[vnet_rxq(k)], tx = vu->ring[vnet_txq(k)];

			log_rl(LOG_WARN, "%s: vhost-user: cannot start queue pair %u: %s; rings stopped",
			       vd->name, k + 1, vd->needs_reset_reason);
			rings_stop(vu);
			vu->ring[vnet_rxq(k)] = rx;
			vu->ring[vnet_txq(k)] = tx;
			return;
		}
		/* As DRIVER_OK does for the first pair: what the frontend
		 * queued and kicked before the pair ran is sent now. */
		vdev_kick(vd, vnet_txq(k));
	}
	while (in_use < np && vu->ring[vnet_rxq(in_use)].enabled &&
	       vu->ring[vnet_txq(in_use)].enabled && vdev_queue_enabled(vd, vnet_rxq(in_use)))
		in_use++;
	for (unsigned k = in_use + 1; k < np; k++)
		if (vdev_queue_enabled(vd, vnet_rxq(k)) && vu->ring[vnet_rxq(k)].enabled)
			log_rl(LOG_WARN, "%s: vhost-user: queue pair %u is enabled but pair %u is not; it gets no frames",
			       vd->name, k + 1, in_use + 1);
	if (in_use != vd->curr_pairs)
		vdev_set_pairs_in_use(vd, in_use);	/* every queue below in_use runs */
}

/* Plays the driver's side of 3.1.1 on the vdev with what the frontend
 * gave us, once the first pair's rings are started; further pairs join
 * as theirs are (pairs_update).  Failures land the vdev in NEEDS_RESET
 * (logged). */
static void rings_try_start(struct vhost_user *vu)
{
	struct vdev *vd = vu->vd;
	uint64_t f = vu->features & ~(UINT64_C(1) << VHU_F_PROTOCOL_FEATURES);
	const uint8_t s0 = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	if (vu->running) {
		pairs_update(vu);
		return;
	}
	if (!vu->features_set || vu->nregions == 0 || !pair_ready(vu, 0))
		return;

	vdev_reset(vd);
	/* 5.1.6.1 (legacy interface): without VERSION_1 the header is 10
	 * bytes unless MRG_RXBUF; the vdev's legacy path does exactly that. */
	vdev_set_legacy(vd, !(f & VIRTIO_BIT(VIRTIO_F_VERSION_1)));
	vdev_set_status(vd, s0);
	vdev_set_driver_features_window(vd, 0, (uint32_t)f);
	vdev_set_driver_features_window(vd, 1, (uint32_t)(f >> 32));
	if (!vd->legacy) {
		vdev_set_status(vd, s0 | VIRTIO_STATUS_FEATURES_OK);
		if (!(vd->status & VIRTIO_STATUS_FEATURES_OK)) {
			start_refused(vu);
			return;
		}
	}
	if (ring_start(vu, vnet_rxq(0)) < 0 || ring_start(vu, vnet_txq(0)) < 0) {
		start_refused(vu);
		return;
	}
	vu->running = true;
	vdev_set_status(vd, (uint8_t)(vd->status | s0 | VIRTIO_STATUS_FEATURES_OK |
				      VIRTIO_STATUS_DRIVER_OK));
	if (!vdev_running(vd)) {
		vu->running = false;
		start_refused(vu);
		return;
	}
	log_info("%s: vhost-user rings started (%s%s, %u/%u entries)", vd->name,
		 (f & VIRTIO_BIT(VIRTIO_F_RING_PACKED)) ? "packed" : "split",
		 (f & VIRTIO_BIT(VIRTIO_F_IN_ORDER)) ? ", in order" : "",
		 vu->ring[0].num, vu->ring[1].num);
	pairs_update(vu);
}

/* ---- handlers --------------------------------------------------------- */

/* Each returns 0, or -errno for a request that failed (answered with a
 * nonzero REPLY_ACK when asked).  The context's out/out_len hold a reply
 * for requests that have one. */
struct vhu_ctx {
	struct vhost_user *vu;
	struct vhu_msg *m;
	union vhu_payload out;
	uint32_t out_len;
	bool has_reply;
	int out_fd;			/* sent with the reply, then closed */
};

/* The one check of a ring index, for every per-ring message: rings
 * 0..2N-1 of N pairs.  Ring 2N would be the controlq (5.1.2 with MQ; 2
 * without), which the frontend keeps. */
static int ring_index(struct vhu_ctx *c, uint32_t idx)
{
	const unsigned n = nrings(c->vu);

	if (idx < n)
		return (int)idx;
	if (idx == n)
		log_rl(LOG_WARN, "%s: vhost-user %s: ring %u would be the control queue, which the frontend runs itself; this backend serves rings 0..%u",
		       c->vu->vd->name, vhu_request_name(c->m->hdr.request), idx, n - 1);
	else
		log_rl(LOG_WARN, "%s: vhost-user %s: ring %u does not exist; this backend serves rings 0..%u (%u queue pairs)",
		       c->vu->vd->name, vhu_request_name(c->m->hdr.request), idx, n - 1,
		       c->vu->vd->max_pairs);
	return -EINVAL;
}

/* Ring q is about to change: if the running vdev has it, every ring
 * stops first (as for GET_VRING_BASE); a ring the vdev does not run yet
 * (a pair not started) changes alone. */
static void ring_touch(struct vhost_user *vu, unsigned q)
{
	if (vu->running && vdev_queue_enabled(vu->vd, q))
		rings_stop(vu);
}

static void reply_u64(struct vhu_ctx *c, uint64_t v)
{
	c->out.u64 = v;
	c->out_len = sizeof(uint64_t);
	c->has_reply = true;
}

static int h_set_features(struct vhu_ctx *c)
{
	struct vhost_user *vu = c->vu;
	uint64_t f = c->m->p.u64, offer = vhost_user_offer(vu->vd->device_features);

	if (f & ~offer) {
		log_rl(LOG_WARN, "%s: vhost-user SET_FEATURES 0x%" PRIx64
		       " has bits we did not offer (0x%" PRIx64 ")",
		       vu->vd->name, f, f & ~offer);
		return -EINVAL;
	}
	if (vu->running && f != vu->features) {
		log_rl(LOG_WARN, "%s: vhost-user SET_FEATURES while the rings run; refused",
		       vu->vd->name);
		return -EBUSY;
	}
	vu->features = f;
	vu->features_set = true;
	/* vhost-user.rst: without PROTOCOL_FEATURES rings start enabled. */
	if (!(f & (UINT64_C(1) << VHU_F_PROTOCOL_FEATURES)))
		for (unsigned q = 0; q < nrings(vu); q++)
			vu->ring[q].enabled = true;
	rings_try_start(vu);
	return 0;
}

/* Touching a page past the end of a mapped file is SIGBUS: a region must
 * lie inside its file as it is now (memfd and hugetlbfs files are
 * regular files). */
static int check_region_fd(int fd, const struct vhu_region *r)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < 0 ||
	    r->mmap_offset > (uint64_t)st.st_size ||
	    r->size > (uint64_t)st.st_size - r->mmap_offset)
		return -EINVAL;
	return 0;
}

static int h_set_mem_table(struct vhu_ctx *c)
{
	struct vhost_user *vu = c->vu;
	struct vdev *vd = vu->vd;
	const struct vhu_memory *mem = &c->m->p.mem;
	int rc = 0;

	/* Check the whole table before dropping the old one. */
	for (unsigned i = 0; i < mem->nregions; i++) {
		const struct vhu_region *r = &mem->regions[i];

		if (r->size == 0 || r->gpa + r->size < r->gpa ||
		    r->uaddr + r->size < r->uaddr || r->mmap_offset + r->size < r->mmap_offset ||
		    (r->mmap_offset & 4095) || check_region_fd(c->m->fds[i], r) < 0) {
			log_rl(LOG_WARN, "%s: vhost-user SET_MEM_TABLE region %u: bad range "
			       "(gpa 0x%" PRIx64 " size 0x%" PRIx64 " offset 0x%" PRIx64
			       ", or not inside its file)",
			       vd->name, i, r->gpa, r->size, r->mmap_offset);
			return -EINVAL;
		}
	}
	vdev_mem_clear(vd);
	vu->nregions = 0;
	for (unsigned i = 0; i < mem->nregions; i++) {
		const struct vhu_region *r = &mem->regions[i];

		rc = vdev_mem_map_fd(vd, r->gpa, r->size, c->m->fds[i], r->mmap_offset, true);
		if (rc < 0) {
			log_rl(LOG_WARN, "%s: vhost-user SET_MEM_TABLE region %u "
			       "(gpa 0x%" PRIx64 " size 0x%" PRIx64 "): %s",
			       vd->name, i, r->gpa, r->size, strerror(-rc));
			vdev_mem_clear(vd);
			vu->nregions = 0;
			break;
		}
		vu->regions[vu->nregions++] = *r;
	}
	/* The rings' translations point into the old mappings. */
	if (vu->running && (rc < 0 || vdev_mem_changed(vd) < 0)) {
		rc = -EINVAL;
		rings_stop(vu);
	}
	log_info("%s: vhost-user memory table: %u regions", vd->name, vu->nregions);
	rings_try_start(vu);
	return rc;
}

static int h_vring_num(struct vhu_ctx *c)
{
	int q = ring_index(c, c->m->p.state.index);
	uint32_t n = c->m->p.state.num;

	if (q < 0)
		return q;
	if (n == 0 || n > VDEV_QUEUE_LIMIT) {
		log_rl(LOG_WARN, "%s: vhost-user SET_VRING_NUM %u for ring %d (1..%u)",
		       c->vu->vd->name, n, q, VDEV_QUEUE_LIMIT);
		return -EINVAL;
	}
	ring_touch(c->vu, (unsigned)q);
	c->vu->ring[q].num = (uint16_t)n;
	c->vu->ring[q].num_set = true;
	/* A pair the running vdev has not taken yet may be complete now. */
	if (c->vu->running)
		pairs_update(c->vu);
	return 0;
}

static int h_vring_addr(struct vhu_ctx *c)
{
	const struct vhu_vring_addr *a = &c->m->p.addr;
	int q = ring_index(c, a->index);

	if (q < 0)
		return q;
	if (a->flags & VHU_VRING_F_LOG) {
		/* We offer no VHOST_F_LOG_ALL: no dirty log to keep. */
		log_rl(LOG_WARN, "%s: vhost-user ring %d asks for used-ring logging, which was not negotiated",
		       c->vu->vd->name, q);
		return -EINVAL;
	}
	ring_touch(c->vu, (unsigned)q);
	c->vu->ring[q].uaddr = *a;
	c->vu->ring[q].addr_set = true;
	rings_try_start(c->vu);
	return 0;
}

static int h_vring_base(struct vhu_ctx *c)
{
	int q = ring_index(c, c->m->p.state.index);

	if (q < 0)
		return q;
	ring_touch(c->vu, (unsigned)q);
	c->vu->ring[q].base = c->m->p.state.num;
	c->vu->ring[q].base_set = true;
	return 0;
}

static int h_get_vring_base(struct vhu_ctx *c)
{
	struct vhost_user *vu = c->vu;
	int q = ring_index(c, c->m->p.state.index);
	struct vhu_ring *r;

	if (q < 0)
		return q;
	rings_stop(vu);
	r = &vu->ring[q];
	c->out.state.index = (uint32_t)q;
	c->out.state.num = r->base_set ? r->base : 0;
	c->out_len = sizeof(c->out.state);
	c->has_reply = true;
	/* The ring is stopped: it starts again only with a new kick fd
	 * (vhost-user.rst "Starting and stopping rings"). */
	r->kick_set = false;
	vdev_queue_set_kick_fd(vu->vd, (unsigned)q, -1);
	r->kick_fd = -1;
	return 0;
}

static int h_vring_fd(struct vhu_ctx *c)
{
	struct vhost_user *vu = c->vu;
	uint64_t v = c->m->p.u64;
	int q, fd = -1;

	if (v & ~(uint64_t)(VHU_VRING_IDX_MASK | VHU_VRING_NOFD)) {
		log_rl(LOG_WARN, "%s: vhost-user %s: unknown bits 0x%" PRIx64,
		       vu->vd->name, vhu_request_name(c->m->hdr.request), v);
		return -EINVAL;
	}
	q = ring_index(c, (uint32_t)(v & VHU_VRING_IDX_MASK));
	if (q < 0)
		return q;
	if (!(v & VHU_VRING_NOFD)) {
		int fl;

		fd = c->m->fds[0];
		c->m->fds[0] = -1;	/* taken */
		/* We never block on the frontend's fds, whatever they are. */
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			close(fd);
			return -EBADF;
		}
	}
	switch (c->m->hdr.request) {
	case VHU_SET_VRING_KICK:
		ring_touch(vu, (unsigned)q);
		/* Without a kick fd the ring would be polled; we need one. */
		if (vdev_queue_set_kick_fd(vu->vd, (unsigned)q, fd) < 0)
			fd = -1;	/* closed by the vdev */
		vu->ring[q].kick_fd = fd;
		vu->ring[q].kick_set = fd >= 0;
		if (fd < 0)
			return -EBADF;
		rings_try_start(vu);
		break;
	case VHU_SET_VRING_CALL:
		close_fd(&vu->ring[q].call_fd);
		vu->ring[q].call_fd = fd;
		break;
	default:
		close_fd(&vu->ring[q].err_fd);
		vu->ring[q].err_fd = fd;
		break;
	}
	return 0;
}

static int h_vring_enable(struct vhu_ctx *c)
{
	struct vhost_user *vu = c->vu;
	int q = ring_index(c, c->m->p.state.index);
	bool on = c->m->p.state.num != 0;

	if (q < 0)
		return q;
	if (!(vu->features & (UINT64_C(1) << VHU_F_PROTOCOL_FEATURES)) && vu->features_set) {
		log_rl(LOG_WARN, "%s: vhost-user SET_VRING_ENABLE without PROTOCOL_FEATURES",
		       vu->vd->name);
		return -EINVAL;
	}
	/* The first pair's rings carry the device: disabling one stops
	 * them all.  Another pair's leave the pairs in use (pairs_update)
	 * and keep their positions for when they come back. */
	if (!on && vu->running && q < 2)
		rings_stop(vu);
	vu->ring[q].enabled = on;
	rings_try_start(vu);
	return 0;
}

/* ---- inflight area (vhost-user.rst "Inflight I/O tracking") ---------- */

static void inflight_unmap(struct vhost_user *vu)
{
	if (vu->inflight.map)
		munmap(vu->inflight.map, vu->inflight.len);
	memset(&vu->inflight, 0, sizeof(vu->inflight));
}

/* The one check of an inflight description's geometry, for GET and SET:
 * ring count and ring size within what we serve (a split ring's size is a
 * power of two, 2.7).  0, or -EINVAL logged. */
static int inflight_geometry(struct vhu_ctx *c, const struct vhu_inflight *in)
{
	struct vhost_user *vu = c->vu;
	const char *req = vhu_request_name(c->m->hdr.request);

	if (!(vu->protocol_features & (UINT64_C(1) << VHU_PROTOCOL_F_INFLIGHT_SHMFD))) {
		log_rl(LOG_WARN, "%s: vhost-user %s without PROTOCOL_F_INFLIGHT_SHMFD negotiated",
		       vu->vd->name, req);
		return -EINVAL;
	}
	if (vu->running) {
		log_rl(LOG_WARN, "%s: vhost-user %s while the rings run; refused", vu->vd->name, req);
		return -EBUSY;
	}
	if (in->num_queues == 0 || in->num_queues > nrings(vu)) {
		log_rl(LOG_WARN, "%s: vhost-user %s: %u queues (this backend serves 1..%u rings)",
		       vu->vd->name, req, in->num_queues, nrings(vu));
		return -EINVAL;
	}
	if (in->queue_size == 0 || in->queue_size > VDEV_QUEUE_LIMIT ||
	    (in->queue_size & (in->queue_size - 1))) {
		log_rl(LOG_WARN, "%s: vhost-user %s: queue size %u (a power of 2 in 1..%u)",
		       vu->vd->name, req, in->queue_size, VDEV_QUEUE_LIMIT);
		return -EINVAL;
	}
	return 0;
}

/* GET_INFLIGHT_FD: a zeroed area in a memfd of our own, sealed so that it
 * can neither shrink under a later backend that maps it (SIGBUS) nor
 * grow. */
static int h_get_inflight(struct vhu_ctx *c)
{
	struct vhost_user *vu = c->vu;
	const struct vhu_inflight *in = &c->m->p.inflight;
	const unsigned seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	size_t region, len;
	uint8_t *map;
	int fd, rc;

	/* The reply is the description, refused or not: a size of 0 is
	 * "no area" (its payload size must still be the description's). */
	c->out.inflight = (struct vhu_inflight){ .num_queues = in->num_queues,
						 .queue_size = in->queue_size };
	c->out_len = sizeof(c->out.inflight);
	c->has_reply = true;
	rc = inflight_geometry(c, in);
	if (rc < 0)
		return rc;
	if (packed_negotiated(vu)) {
		/* vhost-user.rst gives no packed layout we implement: a size
		 * of 0 tells the frontend there is no area (QEMU's
		 * vhost_user_get_inflight_fd takes it so). */
		log_rl(LOG_WARN, "%s: vhost-user GET_INFLIGHT_FD: inflight tracking is for split rings only; answered with no area for this packed ring",
		       vu->vd->name);
		return 0;
	}
	region = vq_inflight_region_size(in->queue_size);
	len = region * in->num_queues;
	fd = memfd_create("vnet-inflight", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len) < 0 || fcntl(fd, F_ADD_SEALS, seals) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		rc = -errno;
		close(fd);
		return rc;
	}
	inflight_unmap(vu);
	vu->inflight.map = map;
	vu->inflight.len = len;
	vu->inflight.region = region;
	vu->inflight.num_queues = in->num_queues;
	vu->inflight.queue_size = in->queue_size;
	c->out.inflight.mmap_size = len;
	c->out_fd = fd;
	log_info("%s: vhost-user inflight area: %u rings of %u entries, %zu bytes", vu->vd->name,
		 in->num_queues, in->queue_size, len);
	return 0;
}

/* SET_INFLIGHT_FD: the area handed back (after a restart, made by a
 * backend before us).  Its description is checked against its geometry
 * and its file before it is mapped; its contents when a ring starts. */
static int h_set_inflight(struct vhu_ctx *c)
{
	struct vhost_user *vu = c->vu;
	const struct vhu_inflight *in = &c->m->p.inflight;
	const int fd = c->m->fds[0];
	size_t region;
	struct stat st;
	uint8_t *map;
	int seals, rc = inflight_geometry(c, in);

	if (rc < 0)
		return rc;
	region = vq_inflight_region_size(in->queue_size);
	if (in->mmap_size != (uint64_t)region * in->num_queues) {
		log_rl(LOG_WARN, "%s: vhost-user SET_INFLIGHT_FD: mmap_size %" PRIu64
		       " but %u rings of %u entries take %zu",
		       vu->vd->name, in->mmap_size, in->num_queues, in->queue_size,
		       region * in->num_queues);
		return -EINVAL;
	}
	if ((in->mmap_offset & 4095) || in->mmap_offset > UINT64_MAX - in->mmap_size ||
	    fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    in->mmap_offset + in->mmap_size > (uint64_t)st.st_size) {
		log_rl(LOG_WARN, "%s: vhost-user SET_INFLIGHT_FD: offset 0x%" PRIx64 " size %" PRIu64
		       " is not page-aligned or not inside its file",
		       vu->vd->name, in->mmap_offset, in->mmap_size);
		return -EINVAL;
	}
	/* A file that could shrink would fault us (SIGBUS) on the data
	 * path; ours (GET_INFLIGHT_FD) are sealed against it. */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
		log_rl(LOG_WARN, "%s: vhost-user SET_INFLIGHT_FD: the file is not sealed against shrinking (F_SEAL_SHRINK); refused",
		       vu->vd->name);
		return -EINVAL;
	}
	map = mmap(NULL, in->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   (off_t)in->mmap_offset);
	if (map == MAP_FAILED)
		return -errno;
	inflight_unmap(vu);
	vu->inflight.map = map;
	vu->inflight.len = in->mmap_size;
	vu->inflight.region = region;
	vu->inflight.num_queues = in->num_queues;
	vu->inflight.queue_size = in->queue_size;
	log_info("%s: vhost-user inflight area handed back: %u rings of %u entries", vu->vd->name,
		 in->num_queues, in->queue_size);
	return 0;
}

static int h_get_config(struct vhu_ctx *c)
{
	const struct vhu_config *in = &c->m->p.config;

	/* Size already bounded by the codec; reads past the device's config
	 * return zeros, as for a register read. */
	memset(&c->out.config, 0, sizeof(c->out.config));
	c->out.config.offset = in->offset;
	c->out.config.size = in->size;
	c->out.config.flags = in->flags;
	if (in->size)
		vdev_config_read(c->vu->vd, in->offset, c->out.config.data, in->size);
	c->out_len = (uint32_t)offsetof(struct vhu_config, data) + in->size;
	c->has_reply = true;
	return 0;
}

static int h_set_mtu(struct vhu_ctx *c)
{
	uint64_t mtu = c->m->p.u64;

	/* 5.1.4.1: the MTU a driver may use; 68 is IPv4's minimum. */
	if (mtu < 68 || mtu > 65535) {
		log_rl(LOG_WARN, "%s: vhost-user NET_SET_MTU %" PRIu64 " out of range",
		       c->vu->vd->name, mtu);
		return -EINVAL;
	}
	vdev_set_mtu(c->vu->vd, (uint16_t)mtu);
	log_info("%s: vhost-user frontend set the MTU %u", c->vu->vd->name, (unsigned)mtu);
	return 0;
}

static int dispatch(struct vhu_ctx *c)
{
	struct vhost_user *vu = c->vu;

	switch (c->m->hdr.request) {
	case VHU_GET_FEATURES:
		reply_u64(c, vhost_user_offer(vu->vd->device_features));
		return 0;
	case VHU_SET_FEATURES:
		return h_set_features(c);
	case VHU_GET_PROTOCOL_FEATURES:
		reply_u64(c, protocol_offer(vu));
		return 0;
	case VHU_SET_PROTOCOL_FEATURES:
		if (c->m->p.u64 & ~protocol_offer(vu)) {
			log_rl(LOG_WARN, "%s: vhost-user protocol features 0x%" PRIx64
			       " were not offered", vu->vd->name, c->m->p.u64);
			return -EINVAL;
		}
		vu->protocol_features = c->m->p.u64;
		return 0;
	case VHU_SET_OWNER:
		return 0;
	case VHU_RESET_OWNER:
	case VHU_RESET_DEVICE:
		rings_stop(vu);
		vu->features_set = false;
		for (unsigned q = 0; q < nrings(vu); q++) {
			vdev_queue_set_kick_fd(vu->vd, q, -1);
			close_fd(&vu->ring[q].call_fd);
			close_fd(&vu->ring[q].err_fd);
			ring_init(&vu->ring[q]);
		}
		return 0;
	case VHU_SET_MEM_TABLE:
		return h_set_mem_table(c);
	case VHU_SET_VRING_NUM:
		return h_vring_num(c);
	case VHU_SET_VRING_ADDR:
		return h_vring_addr(c);
	case VHU_SET_VRING_BASE:
		return h_vring_base(c);
	case VHU_GET_VRING_BASE:
		return h_get_vring_base(c);
	case VHU_SET_VRING_KICK:
	case VHU_SET_VRING_CALL:
	case VHU_SET_VRING_ERR:
		return h_vring_fd(c);
	case VHU_SET_VRING_ENABLE:
		return h_vring_enable(c);
	case VHU_GET_QUEUE_NUM:
		/* vhost-user.rst: "the maximum number of queues the back-end
		 * supports".  For net, QEMU compares it with its netdev's
		 * queues=, which counts pairs (net/vhost-user.c
		 * vhost_user_start: "you are asking more queues than
		 * supported"), and DPDK's vhost library answers
		 * VHOST_MAX_QUEUE_PAIRS: queue pairs it is. */
		reply_u64(c, vu->vd->max_pairs);
		return 0;
	case VHU_GET_CONFIG:
		return h_get_config(c);
	case VHU_GET_INFLIGHT_FD:
		return h_get_inflight(c);
	case VHU_SET_INFLIGHT_FD:
		return h_set_inflight(c);
	case VHU_SET_CONFIG:
		/* The net config space is read-only for drivers (5.1.4). */
		return -EPERM;
	case VHU_NET_SET_MTU:
		return h_set_mtu(c);
	case VHU_SET_VRING_ENDIAN:
		/* Only for legacy cross-endian; we are little-endian only. */
		return c->m->p.state.num == 0 ? 0 : -ENOTSUP;
	case VHU_SEND_RARP:
		return -ENOTSUP;	/* not offered */
	default:
		return -ENOTSUP;
	}
}

/* Requests whose reply is their own answer (no REPLY_ACK on top). */
static bool has_own_reply(uint32_t req)
{
	return req == VHU_GET_FEATURES || req == VHU_GET_PROTOCOL_FEATURES ||
	       req == VHU_GET_VRING_BASE || req == VHU_GET_QUEUE_NUM ||
	       req == VHU_GET_CONFIG || req == VHU_GET_MAX_MEM_SLOTS ||
	       req == VHU_GET_STATUS || req == VHU_GET_INFLIGHT_FD;
}

/* ---- connection ------------------------------------------------------- */

static void conn_reset_state(struct vhost_user *vu)
{
	vu->features = 0;
	vu->features_set = false;
	vu->protocol_features = 0;
	vu->nregions = 0;
	for (unsigned q = 0; q < VHU_MAX_RINGS; q++)
		ring_init(&vu->ring[q]);
	inflight_unmap(vu);
}

static void conn_close(struct vhost_user *vu, const char *why)
{
	struct vdev *vd = vu->vd;

	if (why)
		log_info("%s: vhost-user frontend gone (%s); device reset, listening again",
			 vd->name, why);
	ev_del(vu->ev, &vu->conn_h);
	rings_stop(vu);
	vdev_reset(vd);
	vdev_set_legacy(vd, false);
	for (unsigned q = 0; q < nrings(vu); q++) {
		vdev_queue_set_kick_fd(vd, q, -1);
		close_fd(&vu->ring[q].call_fd);
		close_fd(&vu->ring[q].err_fd);
	}
	vdev_mem_clear(vd);
	/* Last: once the frontend sees the hang-up, the device has let go of
	 * its memory and fds, so it may unmap or reuse them at once. */
	close_fd(&vu->conn_fd);
	conn_reset_state(vu);
}

static const char *reply_failure(int rc)
{
	return rc == -ETIMEDOUT ? "it took none of our replies for a second (socket buffer full)"
				: "a reply could not be sent";
}

static void conn_event(struct ev_handler *h, uint32_t events)
{
	struct vhost_user *vu = container_of(h, struct vhost_user, conn_h);
	struct vhu_ctx c = { .vu = vu, .out_fd = -1 };
	struct vhu_msg *m;
	char why[160] = "";
	int rc;

	m = calloc(1, sizeof(*m));
	if (!m)
		return;
	c.m = m;
	rc = vhu_msg_recv(vu->conn_fd, m, why, sizeof(why));
	if (rc == -EAGAIN) {
		free(m);
		return;
	}
	if (rc <= 0) {
		if (rc < 0)
			log_rl(LOG_WARN, "%s: vhost-user: %s from the frontend: %s", vu->vd->name,
			       rc == -ETIMEDOUT ? "a stalled message" : "a bad message", why);
		conn_close(vu, rc == 0 ? "socket closed" :
			       rc == -ETIMEDOUT ? "stalled mid-message" : "protocol error");
		free(m);
		return;
	}
	rc = vhu_msg_check(m, why, sizeof(why));
	if (rc == -ENOTSUP) {
		log_rl(LOG_WARN, "%s: vhost-user: %s; answered with an error", vu->vd->name, why);
	} else if (rc < 0) {
		/* A frontend that cannot frame its messages is not one we can
		 * keep talking to: what else it sends cannot be trusted. */
		log_rl(LOG_WARN, "%s: vhost-user: malformed message: %s", vu->vd->name, why);
		vhu_msg_close_fds(m);
		conn_close(vu, "protocol error");
		free(m);
		return;
	} else {
		log_debug("%s: vhost-user %s", vu->vd->name, vhu_request_name(m->hdr.request));
		rc = dispatch(&c);
	}
	vhu_msg_close_fds(m);	/* whatever a handler did not take */
	if (!c.has_reply && has_own_reply(m->hdr.request)) {
		/* A GET_* we do not serve (its protocol feature was not
		 * offered): the frontend waits for an answer, so give a zero
		 * rather than leave it hanging. */
		c.out.u64 = 0;
		c.out_len = sizeof(uint64_t);
		c.has_reply = true;
	}
	if (c.has_reply) {
		rc = vhu_msg_reply_fd(vu->conn_fd, m, &c.out, c.out_len, c.out_fd);
		if (c.out_fd >= 0)
			close(c.out_fd);	/* the frontend has it; we keep the mapping */
		if (rc < 0) {
			conn_close(vu, reply_failure(rc));
			free(m);
			return;
		}
	} else if ((m->hdr.flags & VHU_FLAG_NEED_REPLY) &&
		   ((vu->protocol_features & (UINT64_C(1) << VHU_PROTOCOL_F_REPLY_ACK)) ||
		    rc < 0) && !has_own_reply(m->hdr.request)) {
		uint64_t status = rc < 0 ? 1 : 0;

		rc = vhu_msg_reply(vu->conn_fd, m, &status, sizeof(status));
		if (rc < 0)
			conn_close(vu, reply_failure(rc));
	}
	free(m);
}

static void listen_event(struct ev_handler *h, uint32_t events)
{
	struct vhost_user *vu = container_of(h, struct vhost_user, listen_h);
	/* Non-blocking: a frontend that stalls mid-message or stops reading
	 * replies costs the loop at most VHU_REST_MS / VHU_SEND_MS. */
	int fd = accept4(vu->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (vu->conn_fd >= 0) {
		log_rl(LOG_WARN, "%s: vhost-user: a second frontend tried to connect; refused",
		       vu->vd->name);
		close(fd);
		return;
	}
	vu->conn_fd = fd;
	if (ev_add(vu->ev, &vu->conn_h, fd, EPOLLIN, conn_event) < 0) {
		close_fd(&vu->conn_fd);
		return;
	}
	vu->connections++;
	log_info("%s: vhost-user frontend connected (connection %" PRIu64 ")", vu->vd->name,
		 vu->connections);
}

int vhost_user_create(struct vhost_user **out, struct vdev *vd)
{
	const char *path = vd->opts->vhost_user;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vhost_user *vu;
	struct stat st;
	int rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("%s: vhost-user socket path %s is too long", vd->name, path);
		return -ENAMETOOLONG;
	}
	vu = calloc(1, sizeof(*vu));
	if (!vu)
		return -ENOMEM;
	vu->vd = vd;
	vu->ev = vd->ev;
	vu->conn_fd = -1;
	conn_reset_state(vu);
	snprintf(vu->path, sizeof(vu->path), "%s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);

	vu->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (vu->listen_fd < 0) {
		rc = -errno;
		free(vu);
		return rc;
	}
	/* A socket left by a process that died is stale; one that someone
	 * still listens on, or anything else at that path, is not ours. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool live = probe >= 0 &&
			    connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;

		if (probe >= 0)
			close(probe);
		if (live) {
			log_err("%s: vhost-user socket %s is in use by a running backend",
				vd->name, path);
			close(vu->listen_fd);
			free(vu);
			return -EADDRINUSE;
		}
		unlink(path);
	}
	if (bind(vu->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(vu->listen_fd, 4) < 0) {
		rc = -errno;
		log_err("%s: cannot listen for vhost-user on %s: %s", vd->name, path,
			strerror(-rc));
		close(vu->listen_fd);
		free(vu);
		return rc;
	}
	rc = ev_add(vu->ev, &vu->listen_h, vu->listen_fd, EPOLLIN, listen_event);
	if (rc < 0) {
		close(vu->listen_fd);
		unlink(path);
		free(vu);
		return rc;
	}
	*out = vu;
	return 0;
}
