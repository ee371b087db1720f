// SPDX-License-Identifier: MIT
/*
 * fuzz_guest_dev - the guest driver library, through its public API
 * (guest/virtio_net.h), against a device that lies.
 *
 * The device is real: four vdevs as vnet-host makes them (attach_vdev),
 * one per transport (PCI modern, PCI legacy, virtio-mmio v2 and v1),
 * offering every offload (peerfeats auto, no peer yet), on one event loop.
 * Between the library and the vdev's vfio-user socket sits a
 * man-in-the-middle, the "hostile device": vnet_dev_open is given the
 * proxy's socket, and a device thread (the only one that touches the
 * vdevs and their event loop) forwards each message of the library, with
 * its fds, to the vdev and each reply back, one request, one reply, in
 * order.  On the way back it tampers as the input says:
 *
 *   - XOR bytes into reply k's payload (REGION_READ data: PCI config
 *     space, common config, ISR, device config, MMIO registers; VERSION's
 *     JSON; GET_INFO, REGION_INFO, IRQ_INFO, IO_FDS fields) or its header
 *     (msg_id, command, flags other than the type, error);
 *   - replace reply k with an error reply, cut it short or make it longer,
 *     drop its fds or add one;
 *   - send a server-to-client command (DMA_READ, DMA_WRITE, junk) first;
 *   - act as the device just before reply k goes: write bytes anywhere in
 *     guest RAM (ring parts of a queue, the buffer behind a descriptor:
 *     used ids and lengths, control-queue acks, RX headers), deliver RX
 *     frames, raise interrupts, change the link, latch NEEDS_RESET.
 *
 * With the no_iofds bit the proxy answers GET_REGION_IO_FDS with an error
 * itself, so every kick travels as a REGION_WRITE through it (the vdev
 * handles a notify write synchronously): RAM tampering then lands right
 * after the device processed a kick, deterministically.  Otherwise kicks
 * are the vdev's ioeventfds and the device runs on its own while the
 * library works, as in vnet-host; after each call the main thread lets the
 * device catch up (a barrier through the device thread) so a run replays
 * the same way.
 *
 * The main thread is the library's user: vnet_dev_open with parameters
 * from the input (transport, packed, offloads, polling, INTx, deferred
 * kicks, queue size, declined features, 4-32 MiB of RAM, queue pairs,
 * RSS, HASH_REPORT), then a script
 * of calls: TX and RX bursts, tx_drain(0), wait(0) (and wait_fd), the
 * caller-loop protocol, control commands (RSS_CONFIG and HASH_CONFIG
 * through vnet_ctrl_rss too), reset, info, and the device's
 * own actions between calls (RX frames, RAM writes, interrupts, link);
 * then vnet_dev_close.  An empty tamper list is a well-behaved device: a
 * seed without tampering reaches DRIVER_OK and the data path at once.
 *
 * Checked, as a user of the library relies on it: every call returns 0, a
 * documented count or a documented -errno; every frame vnet_rx_burst
 * hands out is readable (and writable) for its whole length, lies inside
 * the library's guest RAM or outside it altogether (the reassembly buffer,
 * where ASan watches), is at least an Ethernet header and at most
 * max_rx_frame long, and its header passes the header rule
 * (common/net_hdr.h) for the features negotiated; vnet_dev_info stays
 * sane (negotiated features within what was offered and wanted, MTU and
 * frame limits, queue sizes, nqueues <= 3, counters matching what the
 * user saw); after vnet_dev_close no fd is left open.  While the device
 * is honest (no tampering; its own acts only frames as they are,
 * interrupts and link changes) the library never finds a reason to give
 * up on it: no call leaves it needing a reset, no control command times
 * out.  Nothing may hang
 * (run.sh runs with -timeout=10): every wait is 0, the proxy always
 * answers, and the script stops once an input spent SLOW_MS (a control
 * command the device never acks costs VNET_CTRL_TIMEOUT_MS).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>

#include "common/net_hdr.h"
#include "common/vfio_user/codec.h"
#include "guest/virtio_net.h"
#include "tests/fuzz/harness.h"

#define N_DEVS		4	/* pci-modern, pci-legacy, mmio-v2, mmio-v1 */
#define MAX_IN		8192
#define MAX_TAMPER	16
#define MAX_OPS		48
#define MAX_TX		8	/* frames per burst */
#define TX_HEAD		64	/* frame bytes from the input, the rest 0 */
#define REST_MS		1000	/* the rest of a message that started */
#define SEND_MS		1000
#define SLOW_MS		1000	/* an input past this stops its script */

/* ---- what the device does (between calls, or before a reply) ---------- */

enum {
	ACT_RX,			/* deliver a frame on receiveq */
	ACT_RAM,		/* write bytes into guest RAM */
	ACT_IRQ,		/* raise an interrupt */
	ACT_LINK,		/* link up/down (and ask to be announced) */
	ACT_NEEDS_RESET,	/* latch DEVICE_NEEDS_RESET */
	ACT_N
};

/* ACT_RX flags */
#define RX_LIE_LEN	0x01	/* report `off` as every used length */
#define RX_LIE_NBUF	0x02	/* num_buffers from the input, not the count */
#define RX_PARTIAL	0x04	/* too few buffers: deliver what fits anyway */
#define RX_HASH		0x08	/* HASH_REPORT's 8 header bytes from the input */

struct dev_act {
	uint8_t op;
	uint8_t flags;
	uint8_t area;		/* ACT_RAM: ram_at()'s selector */
	uint8_t n;		/* ACT_RAM: bytes */
	uint16_t idx;		/* ACT_RAM: descriptor; ACT_RX: num_buffers */
	uint32_t off;		/* ACT_RAM: offset; ACT_RX: the used length */
	uint16_t len;		/* ACT_RX: frame bytes after the header */
	uint8_t bytes[20];	/* ACT_RAM: data; ACT_RX: the net header (12,
				 * and with RX_HASH the hash fields) */
};

static void read_act(struct fuzz_in *in, struct dev_act *a)
{
	memset(a, 0, sizeof(*a));
	a->op = fin_u8(in) % ACT_N;
	a->flags = fin_u8(in);
	switch (a->op) {
	case ACT_RX:
		a->len = fin_u16(in);
		fin_bytes(in, a->bytes, (a->flags & RX_HASH) ? 20 : 12);
		if (a->flags & RX_LIE_LEN)
			a->off = fin_u32(in);
		if (a->flags & RX_LIE_NBUF)
			a->idx = fin_u16(in);
		break;
	case ACT_RAM:
		a->area = fin_u8(in);
		a->idx = fin_u16(in);
		a->off = fin_u32(in);
		a->n = (uint8_t)(1 + a->flags % 8);
		fin_bytes(in, a->bytes, a->n);
		break;
	default:
		break;
	}
}

/* ---- tampering with reply k ---------------------------------------- */

enum {
	TAMP_XOR,		/* XOR bytes into the payload */
	TAMP_ERROR,		/* an error reply instead */
	TAMP_HDR,		/* XOR into a header field */
	TAMP_LEN,		/* cut the payload short, or add bytes */
	TAMP_FDS,		/* drop the reply's fds, or add one */
	TAMP_SRV_CMD,		/* a server-to-client command first */
	TAMP_ACT,		/* the device acts first */
	TAMP_N
};

struct tamper {
	uint8_t kind;
	uint16_t k;		/* which reply (0: VERSION's) */
	uint8_t a;
	uint16_t off;
	uint8_t n;
	uint8_t bytes[8];
	struct dev_act act;
};

static void read_tamper(struct fuzz_in *in, struct tamper *t)
{
	memset(t, 0, sizeof(*t));
	t->kind = fin_u8(in) % TAMP_N;
	t->k = fin_u16(in);
	switch (t->kind) {
	case TAMP_XOR:
		t->off = fin_u16(in);
		t->n = (uint8_t)(1 + fin_u8(in) % 8);
		fin_bytes(in, t->bytes, t->n);
		break;
	case TAMP_HDR:
		t->a = fin_u8(in);
		t->off = fin_u16(in);	/* the value XORed in */
		break;
	case TAMP_ACT:
		read_act(in, &t->act);
		break;
	default:
		t->a = fin_u8(in);
		break;
	}
}

/* ---- the device thread's state ---------------------------------------- */

enum { REQ_ACT, REQ_BARRIER, REQ_QUIT };

struct proxy {
	struct vdev *vd;
	bool no_iofds;
	struct tamper t[MAX_TAMPER];
	unsigned nt;
	unsigned nreplies;
	int cs, ss;			/* client side, server side; -1 closed */
	struct ev_handler lh, ch, sh, rh;
	int req_fd, done_fd;		/* main -> device thread -> main */
	int req;
	struct dev_act act;
	bool quitting;
	/* The library's mapping of its guest RAM, found when its DMA_MAP
	 * passes (before the vdev maps the same file). */
	uintptr_t ram_lo, ram_hi;
};

static struct evloop *ev;
static struct vdev *devs[N_DEVS];
static struct vdev_opts dev_opts[N_DEVS];
static uint16_t link0[N_DEVS];
static char proxy_path[108];
static int listen_fd = -1;
static int user_fd = -1;	/* vnet_wait_fd's other source */
static struct proxy P;
/* One message each way (plus room to lengthen a reply). */
static uint8_t cbuf[VFIO_USER_MAX_MSG], sbuf[VFIO_USER_MAX_MSG + 256];

/* Guest RAM at [gpa, gpa + n) by the device's own map, where area says:
 * low nibble 0 raw gpa, 1-3 queue (high nibble) descriptor/driver/device
 * area + off, 4 the buffer behind descriptor idx (low byte; an indirect
 * table's entry idx >> 8 when it is one) + off.  NULL when not mapped. */
static uint8_t *ram_at(struct vdev *vd, uint8_t area, uint16_t idx, uint32_t off,
		       uint32_t n)
{
	const struct vdev_queue *q = &vd->q[(area >> 4) % vd->num_queues];
	bool packed = vd->driver_features & VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	uint64_t gpa, addr;
	uint8_t *d;

	switch ((area & 0xf) % 5) {
	case 0:
		gpa = off;
		break;
	case 1:
		gpa = q->addrs.desc + off % 65536;
		break;
	case 2:
		gpa = q->addrs.driver + off % 65536;
		break;
	case 3:
		gpa = q->addrs.device + off % 65536;
		break;
	default:
		/* Split and packed descriptors both start with addr; their
		 * flags are at byte 12 (split) or 14 (packed). */
		d = gmem_translate(&vd->gm,
				   q->addrs.desc + 16u * ((idx & 0xff) % (q->size ? q->size : 1)),
				   16, false);
		if (!d)
			return NULL;
		memcpy(&addr, d, 8);
		if (d[packed ? 14 : 12] & VIRTQ_DESC_F_INDIRECT) {
			d = gmem_translate(&vd->gm, addr + 16u * (idx >> 8), 16, false);
			if (!d)
				return NULL;
			memcpy(&addr, d, 8);
		}
		gpa = addr + off % 65536;
		break;
	}
	return gmem_translate(&vd->gm, gpa, n, true);
}

/* Copies len bytes of src into the chain's writable buffers. */
static uint32_t scatter(const struct vq_chain *ch, const uint8_t *src, uint32_t len)
{
	uint32_t done = 0;

	for (unsigned i = ch->n_out; i < ch->n_out + ch->n_in && done < len; i++) {
		uint32_t take = ch->bufs[i].len < len - done ? ch->bufs[i].len : len - done;

		memcpy(ch->bufs[i].ptr, src + done, take);
		done += take;
	}
	return done;
}

/* A frame on receiveq through the vdev's own queue (its data path never
 * touches receiveq here: the vdev has no peer).  A well-behaved device
 * takes as many buffers as the frame needs (MRG_RXBUF) and writes their
 * count into num_buffers; this one may lie about the lengths and the
 * count, or deliver a frame cut short. */
static void act_rx(struct vdev *vd, const struct dev_act *a)
{
	/* The largest header (HASH_REPORT's 20 bytes) and a u16 length. */
	static uint8_t frame[sizeof(struct virtio_net_hdr_v1_hash) + UINT16_MAX];
	static struct vq_buf bufs[16][4];
	struct vq_chain ch[16];
	struct vq_dev *vq = &vd->q[0].vq;
	bool mrg = vd->driver_features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);
	uint32_t hlen = vd->hdr_len, total = hlen + a->len, room = 0, done = 0;
	unsigned n = 0;
	uint16_t nb;

	if (!vdev_running(vd) || !vd->q[0].enabled || !vq->ready || vq->broken)
		return;
	while (room < total && n < 16) {
		ch[n] = (struct vq_chain){ .bufs = bufs[n], .cap = 4 };
		if (vq_dev_pop(vq, &ch[n], VQ_CHAIN_WRITE_ONLY) != 1)
			break;
		room += ch[n++].in_len;
		if (!mrg)
			break;
	}
	if (n == 0)
		return;
	if (room < total && mrg && !(a->flags & RX_PARTIAL)) {
		/* As the vdev does: wait for more buffers. */
		while (n > 0)
			vq_dev_unpop(vq, &ch[--n]);
		return;
	}
	memcpy(frame, a->bytes, hlen);
	nb = (a->flags & RX_LIE_NBUF) ? a->idx : (uint16_t)n;
	if (mrg)
		memcpy(frame + 10, &nb, 2);
	for (uint32_t i = hlen; i < total; i++)
		frame[i] = (uint8_t)(i * 7 + a->flags);
	for (unsigned i = 0; i < n; i++) {
		uint32_t w = scatter(&ch[i], frame + done, total - done);

		done += w;
		vq_dev_push(vq, &ch[i], (a->flags & RX_LIE_LEN) ? a->off : w);
	}
	if (vq_dev_flush(vq))
		vdev_raise(vd, 0);
}

static void device_act(struct vdev *vd, const struct dev_act *a)
{
	uint8_t *p;

	FUZZ_TRACE("  device: act %u flags 0x%x\n", a->op, a->flags);
	switch (a->op) {
	case ACT_RX:
		act_rx(vd, a);
		break;
	case ACT_RAM:
		p = ram_at(vd, a->area, a->idx, a->off, a->n);
		if (p)
			memcpy(p, a->bytes, a->n);
		break;
	case ACT_IRQ:
		/* A queue or the config: maybe for nothing at all. */
		vdev_raise(vd, (int)(a->flags % (vd->num_queues + 1)) - 1);
		break;
	case ACT_LINK:
		/* As link.c does on a new peer (5.1.6.5.4). */
		if ((a->flags & 2) && (vd->driver_features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE)))
			vd->cfg.status |= VIRTIO_NET_S_ANNOUNCE;
		vdev_set_link_status(vd, a->flags & 1);
		if (a->flags & 2)
			vdev_raise(vd, VDEV_CONFIG_IRQ);
		break;
	case ACT_NEEDS_RESET:
		vdev_set_needs_reset(vd, "fuzz: the device gave up");
		break;
	}
}

/* ---- the man in the middle ---------------------------------------------- */

/* The library's DMA_MAP fd: find the library's own mapping of that file
 * (the only one yet: the vdev maps it when the message arrives there). */
static void note_ram(struct proxy *p, int fd)
{
	struct stat st;
	char line[512];
	FILE *f;

	if (fstat(fd, &st) != 0 || !(f = fopen("/proc/self/maps", "r")))
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, ino;

		if (sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &ino) == 3 &&
		    ino == (unsigned long)st.st_ino) {
			p->ram_lo = lo;
			p->ram_hi = hi;
			FUZZ_TRACE("  guest RAM at %#lx-%#lx\n", lo, hi);
			break;
		}
	}
	fclose(f);
}

static void finish(struct proxy *p)
{
	if (p->ss >= 0) {
		ev_del(ev, &p->sh);
		close(p->ss);
		p->ss = -1;
	}
	evloop_stop(ev);
}

/* The library hung up (vnet_dev_close, or a failed open): so does the
 * proxy towards the vdev, which then resets the device. */
static void client_gone(struct proxy *p)
{
	if (p->cs >= 0) {
		ev_del(ev, &p->ch);
		close(p->cs);
		p->cs = -1;
	}
	if (p->ss >= 0) {
		ev_del(ev, &p->sh);
		close(p->ss);
		p->ss = -1;
	}
	if (p->quitting)
		finish(p);
}

/* A server-to-client command (which our client must refuse): DMA_READ or
 * DMA_WRITE of an address, or a command no one knows. */
static void send_server_cmd(struct proxy *p, uint8_t a)
{
	static const uint16_t cmds[] = { VFIO_USER_DMA_READ, VFIO_USER_DMA_WRITE,
					 VFIO_USER_VERSION, 99 };
	struct vfio_user_header h = {
		.msg_id = 0x8000 | a,
		.command = cmds[a % 4],
		.flags = VFIO_USER_F_TYPE_COMMAND | ((a & 4) ? VFIO_USER_F_NO_REPLY : 0),
	};
	uint8_t body[16 + 8] = { 0 };
	struct iovec iov = { .iov_base = body,
			     .iov_len = h.command == VFIO_USER_DMA_WRITE ? 24 : 16 };

	body[8] = (a & 8) ? 8 : 0;	/* count */
	(void)vfio_user_send(p->cs, &h, &iov, 1, NULL, 0, SEND_MS);
}

/* Reply number k on its way to the library: tampered with as the input
 * says, then sent.  Owns fds. */
static void to_client(struct proxy *p, struct vfio_user_header *h, uint8_t *pl,
		      uint32_t len, int *fds, unsigned nfds)
{
	unsigned k = p->nreplies++;
	struct iovec iov;
	int extra = -1;

	if (fuzz_verbose) {
		struct vfio_user_region_access ra = { 0 };

		if (len >= sizeof(ra) && (h->command == VFIO_USER_REGION_READ ||
					  h->command == VFIO_USER_REGION_WRITE))
			memcpy(&ra, pl, sizeof(ra));
		FUZZ_TRACE("  reply %u: %s%s region %u offset %#" PRIx64 " count %u\n", k,
			   vfio_user_command_name(h->command),
			   (h->flags & VFIO_USER_F_ERROR) ? " (error)" : "", ra.region,
			   ra.offset, ra.count);
	}

	for (unsigned i = 0; i < p->nt; i++) {
		const struct tamper *t = &p->t[i];

		if (t->k != k)
			continue;
		FUZZ_TRACE("  tamper reply %u (%s): kind %u\n", k,
			   vfio_user_command_name(h->command), t->kind);
		switch (t->kind) {
		case TAMP_XOR:
			for (unsigned j = 0; len && j < t->n; j++)
				pl[(t->off + j) % len] ^= t->bytes[j];
			break;
		case TAMP_ERROR:
			h->flags = VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR;
			h->error = t->a;
			len = 0;
			break;
		case TAMP_HDR:
			/* Never the type: a "reply" that is a command would leave
			 * the library waiting for one that does not come. */
			switch (t->a % 4) {
			case 0: h->msg_id ^= t->off; break;
			case 1: h->command ^= t->off; break;
			case 2: h->flags ^= t->off & ~VFIO_USER_F_TYPE_MASK; break;
			default: h->error ^= t->off; break;
			}
			break;
		case TAMP_LEN:
			if (t->a & 0x80) {
				uint32_t add = t->a & 0x7f;

				if (len + add <= sizeof(sbuf)) {
					memset(pl + len, 0xa5, add);
					len += add;
				}
			} else if (t->a < len) {
				len = t->a;
			}
			break;
		case TAMP_FDS:
			if (t->a & 1) {
				for (unsigned j = 0; j < nfds; j++)
					close(fds[j]);
				nfds = 0;
			} else if (extra < 0 && nfds < VFIO_USER_MAX_FDS) {
				extra = eventfd(0, EFD_CLOEXEC);
				if (extra >= 0)
					fds[nfds++] = extra;
			}
			break;
		case TAMP_SRV_CMD:
			send_server_cmd(p, t->a);
			break;
		default:
			device_act(p->vd, &t->act);
			break;
		}
	}
	iov = (struct iovec){ .iov_base = pl, .iov_len = len };
	if (vfio_user_send(p->cs, h, &iov, 1, fds, nfds, SEND_MS) < 0)
		FUZZ_TRACE("  reply %u not delivered\n", k);
	for (unsigned j = 0; j < nfds; j++)
		close(fds[j]);
}

static void server_event(struct ev_handler *hd, uint32_t events)
{
	struct proxy *p = container_of(hd, struct proxy, sh);
	struct vfio_user_msg m;
	int rc = vfio_user_recv(p->ss, &m, sbuf, VFIO_USER_MAX_MSG - VFIO_USER_HDR_SIZE, 0,
				REST_MS);

	if (rc == -EAGAIN)
		return;
	if (rc < 0) {
		/* The vdev hung up: the library sees its socket close. */
		client_gone(p);
		return;
	}
	to_client(p, &m.hdr, m.payload ? m.payload : sbuf, m.len, m.fds, m.nfds);
}

static void client_event(struct ev_handler *hd, uint32_t events)
{
	struct proxy *p = container_of(hd, struct proxy, ch);
	struct vfio_user_msg m;
	struct iovec iov;
	int rc = vfio_user_recv(p->cs, &m, cbuf, VFIO_USER_MAX_MSG - VFIO_USER_HDR_SIZE, 0,
				REST_MS);

	if (rc == -EAGAIN)
		return;
	if (rc < 0) {
		client_gone(p);
		return;
	}
	if ((m.hdr.flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_COMMAND) {
		/* The library's answer to a command we sent it. */
		vfio_user_msg_close_fds(&m);
		return;
	}
	if (m.hdr.command == VFIO_USER_DMA_MAP && m.nfds)
		note_ram(p, m.fds[0]);
	if (p->no_iofds && m.hdr.command == VFIO_USER_DEVICE_GET_REGION_IO_FDS) {
		struct vfio_user_header h = {
			.msg_id = m.hdr.msg_id,
			.command = m.hdr.command,
			.flags = VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR,
			.error = ENOTSUP,
		};
		int none[VFIO_USER_MAX_FDS];

		vfio_user_msg_close_fds(&m);
		to_client(p, &h, sbuf, 0, none, 0);
		return;
	}
	iov = (struct iovec){ .iov_base = cbuf, .iov_len = m.len };
	rc = vfio_user_send(p->ss, &m.hdr, &iov, 1, m.fds, m.nfds, SEND_MS);
	vfio_user_msg_close_fds(&m);
	if (rc < 0)
		client_gone(p);
}

static void listen_event(struct ev_handler *hd, uint32_t events)
{
	struct proxy *p = container_of(hd, struct proxy, lh);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int c = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (c < 0)
		return;
	if (p->cs >= 0) {	/* the library connects once */
		close(c);
		return;
	}
	p->cs = c;
	p->ss = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	memcpy(sa.sun_path, p->vd->socket_path, strlen(p->vd->socket_path) + 1);
	/* A UNIX stream connect completes at once (the backlog holds it
	 * until the vdev's loop, this one, accepts). */
	if (p->ss < 0 || connect(p->ss, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    ev_add(ev, &p->ch, p->cs, EPOLLIN, client_event) != 0 ||
	    ev_add(ev, &p->sh, p->ss, EPOLLIN, server_event) != 0)
		abort();
}

static void req_done(void *arg)
{
	struct proxy *p = arg;
	uint64_t one = 1;

	if (p->req == REQ_ACT)
		device_act(p->vd, &p->act);
	if (write(p->done_fd, &one, sizeof(one)) != sizeof(one))
		abort();
}

static void req_event(struct ev_handler *hd, uint32_t events)
{
	struct proxy *p = container_of(hd, struct proxy, rh);
	uint64_t v;

	if (read(p->req_fd, &v, sizeof(v)) != sizeof(v))
		return;
	if (p->req == REQ_QUIT) {
		p->quitting = true;
		if (p->cs < 0)
			finish(p);	/* else when the hang-up is read */
		return;
	}
	/* After this pass: the kicks the library wrote before asking are
	 * ready in the same epoll batch, so the vdev has handled them. */
	if (ev_timer(ev, 0, req_done, p) < 0)
		abort();
}

static void *device_thread(void *arg)
{
	struct proxy *p = arg;

	if (ev_add(ev, &p->lh, listen_fd, EPOLLIN, listen_event) != 0 ||
	    ev_add(ev, &p->rh, p->req_fd, EPOLLIN, req_event) != 0 || evloop_run(ev) < 0)
		abort();
	ev_del(ev, &p->lh);
	ev_del(ev, &p->rh);
	fuzz_pump(ev, 2);	/* the vdev sees the hang-up and resets */
	return NULL;
}

/* The main thread asks the device thread and waits for it. */
static void device_request(int req, const struct dev_act *a)
{
	uint64_t one = 1, v;

	ssize_t n;

	P.req = req;
	if (a)
		P.act = *a;
	/* libFuzzer's once-a-second timer signal interrupts these (EINTR):
	 * that is no failure, ask again. */
	do
		n = write(P.req_fd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(one))
		abort();
	if (req == REQ_QUIT)
		return;
	do
		n = read(P.done_fd, &v, sizeof(v));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(v))
		abort();
}

/* ---- the library's user ------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const names[N_DEVS] = { "pm", "pl", "m2", "m1" };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *dir;
	cpu_set_t cpu;

	fuzz_quiet();
	/* The library's thread and the device thread take turns (one
	 * request, one reply): on one CPU a turn is a context switch, across
	 * two an inter-processor wake-up, several times dearer on a VM.  The
	 * device thread inherits this. */
	CPU_ZERO(&cpu);
	CPU_SET(sched_getcpu(), &cpu);
	(void)sched_setaffinity(0, sizeof(cpu), &cpu);
	dir = fuzz_make_run_dir("guestdev");
	ev = evloop_new();
	if (!ev)
		abort();
	for (unsigned i = 0; i < N_DEVS; i++) {
		struct vdev_opts *vo = &dev_opts[i];

		snprintf(vo->origin, sizeof(vo->origin), "fuzz");
		vo->has_name = true;
		snprintf(vo->name, sizeof(vo->name), "%s", names[i]);
		vo->has_mac = true;
		memcpy(vo->mac, "\x52\x54\x00\x00\x07\x10", 6);
		vo->mac[5] = (uint8_t)(0x10 + i);
		/* Every offload offered: no peer has said what it takes. */
		vo->peerfeats_auto = true;
		vo->legacy = i == 1 || i == 3;
		/* Multiqueue on two of them: the driver's MQ negotiation,
		 * max_virtqueue_pairs and VQ_PAIRS_SET under fire too. */
		vo->queues = i == 0 ? 2 : i == 2 ? 3 : 1;
		if (i >= 2) {
			vo->has_loc = true;
			vo->loc = 0x10000000;
			vo->has_intr = true;
			snprintf(vo->intr, sizeof(vo->intr), "5");
		}
		devs[i] = fuzz_attach_vdev(ev, vo);
		link0[i] = devs[i]->cfg.status & VIRTIO_NET_S_LINK_UP;
	}
	snprintf(proxy_path, sizeof(proxy_path), "%s/proxy.sock", dir);
	memcpy(sa.sun_path, proxy_path, strlen(proxy_path) + 1);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	P.req_fd = eventfd(0, EFD_CLOEXEC);
	P.done_fd = eventfd(0, EFD_CLOEXEC);
	user_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(listen_fd, 4) != 0 || P.req_fd < 0 || P.done_fd < 0 || user_fd < 0)
		abort();
	return 0;
}

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	if (!d)
		abort();
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* What one input's user saw, to compare with the library's counters. */
struct seen {
	/* No tampering, and the device's own acts are ones an honest device
	 * does (frames as they are, interrupts, link changes): then the
	 * library must never see a reason to give up on it. */
	bool honest;
	uint64_t rx_frames, tx_frames;
	struct vnet_dev_params p;
	uint64_t want;		/* features the library may accept */
};

static bool is_errno(int rc, const int *ok, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (rc == -ok[i])
			return true;
	return false;
}

#define CHECK_RC(rc, ...)                                                      \
	do {                                                                   \
		static const int ok_[] = { __VA_ARGS__ };                      \
		FUZZ_CHECK((rc) >= 0 ||                                        \
			   is_errno((rc), ok_, sizeof(ok_) / sizeof(ok_[0]))); \
	} while (0)

static bool pow2(unsigned v) { return v && !(v & (v - 1)); }

static void check_info(struct vnet_dev *d, const struct seen *s)
{
	struct vnet_info in;

	vnet_dev_info(d, &in);
	FUZZ_CHECK(in.transport && in.ring && in.interrupts);
	FUZZ_CHECK(!strcmp(in.ring, "split") || !strcmp(in.ring, "packed"));
	FUZZ_CHECK(!strcmp(in.ring, "split") || s->p.want_packed);
	FUZZ_CHECK((in.driver_features & ~in.device_features) == 0);
	FUZZ_CHECK((in.driver_features & ~s->want) == 0);
	FUZZ_CHECK(in.mtu_from_device ? in.mtu >= 68 : in.mtu == 1500);
	FUZZ_CHECK(in.max_tx_frame == (uint32_t)in.mtu + VNET_ETH_HLEN);
	FUZZ_CHECK(in.max_rx_frame >= VNET_ETH_HLEN && in.max_rx_frame <= VNET_MAX_GSO_FRAME);
	/* 5.1.6: 20 bytes exactly when HASH_REPORT was negotiated. */
	FUZZ_CHECK((in.hdr_len == 20) == !!(in.driver_features & VIRTIO_BIT(VIRTIO_NET_F_HASH_REPORT)));
	FUZZ_CHECK(in.hdr_len == 12 || in.hdr_len == 10 || in.hdr_len == 20);
	FUZZ_CHECK(in.hash_report == !!(in.driver_features & VIRTIO_BIT(VIRTIO_NET_F_HASH_REPORT)));
	FUZZ_CHECK(in.queue_pairs >= 1 && in.queue_pairs <= in.max_queue_pairs);
	FUZZ_CHECK(in.queue_pairs <= (s->p.queue_pairs > 1 ? s->p.queue_pairs : 1u));
	FUZZ_CHECK(in.nqueues == 2 * in.queue_pairs + in.has_ctrl);
	FUZZ_CHECK(in.device_queues >= in.nqueues);
	FUZZ_CHECK(in.msix_vectors <= 1 + 2 * VNET_MAX_PAIRS);
	for (unsigned i = 0; i < in.nqueues; i++) {
		const struct vnet_queue_info *q = &in.queues[i];
		/* 5.1.2: the pairs in order, the controlq after the device's
		 * max_virtqueue_pairs pairs with MQ or RSS, else at 2. */
		unsigned want = i < 2 * in.queue_pairs ? i
				: vnet_ctrlq(in.max_queue_pairs, in.driver_features);

		FUZZ_CHECK(q->name && q->kick && q->index == want);
		FUZZ_CHECK(q->size >= 1 && q->size <= 32768 && q->size <= q->max_size);
		FUZZ_CHECK(!strcmp(in.ring, "packed") || pow2(q->size));
	}
	if (!in.link_reported)
		FUZZ_CHECK(in.link_up);
	FUZZ_CHECK(in.ram_size == s->p.ram_size && in.ram_used <= in.ram_size);
	FUZZ_CHECK(in.stats.rx_frames == s->rx_frames);
	FUZZ_CHECK(in.stats.tx_frames >= s->tx_frames);
	FUZZ_CHECK(in.stats.ctrl_errors <= in.stats.ctrl_cmds);
}

/* A frame the library handed out: inside its guest RAM or not in it at
 * all (then it is the reassembly buffer, whose bounds ASan knows), every
 * byte readable and writable, length and header as promised. */
static void check_frame(struct vnet_dev *d, const struct vnet_frame *f, uint32_t max_rx,
			uint64_t features)
{
	uintptr_t lo = (uintptr_t)f->data, hi = lo + f->len;
	volatile uint8_t sum = 0;

	FUZZ_CHECK(f->data && f->hdr);
	FUZZ_CHECK(f->len >= VNET_ETH_HLEN && f->len <= max_rx);
	if (lo < P.ram_hi && hi > P.ram_lo)
		FUZZ_CHECK(lo >= P.ram_lo && hi <= P.ram_hi);
	for (uint32_t i = 0; i < f->len; i++)
		sum += f->data[i];
	f->data[0] = sum;	/* "the caller may modify the bytes in place" */
	f->data[f->len - 1] ^= 1;
	FUZZ_CHECK(net_hdr_check(f->hdr, f->len, NULL, 0) == 0);
	FUZZ_CHECK(net_hdr_allowed(f->hdr, features, NET_HDR_TO_DRIVER, NULL, 0) == 0);
	/* The reported hash: a type the library knows, whatever the device
	 * wrote; none without HASH_REPORT; only for frames it handed out. */
	{
		struct vnet_frame other = { .data = f->data, .len = f->len, .hdr = f->hdr + 1 };
		uint32_t hash;
		int rc = vnet_rx_hash(d, f, &hash);

		if (features & VIRTIO_BIT(VIRTIO_NET_F_HASH_REPORT))
			FUZZ_CHECK(rc >= VIRTIO_NET_HASH_REPORT_NONE &&
				   rc <= VIRTIO_NET_HASH_REPORT_UDPv6);
		else
			FUZZ_CHECK(rc == -ENOTSUP);
		FUZZ_CHECK(vnet_rx_hash(d, &other, &hash) == -EINVAL);
	}
}

enum {
	OP_TX, OP_RX, OP_DRAIN, OP_WAIT, OP_WAIT_FD, OP_CTRL_RX, OP_CTRL_TABLE,
	OP_CTRL_MAC, OP_RESET, OP_INFO, OP_MISC, OP_ARM, OP_KICKS, OP_DEVICE, OP_CTRL_RSS, OP_N
};

static const char *const op_names[OP_N] = {
	"tx", "rx", "drain", "wait", "wait_fd", "ctrl_rx", "ctrl_table", "ctrl_mac",
	"reset", "info", "misc", "arm", "kicks", "device", "ctrl_rss",
};

/* One call; false when the user stops (a failed reset: "close it"). */
static bool run_op(struct vnet_dev *d, struct fuzz_in *in, struct seen *s)
{
	static uint8_t txbuf[MAX_TX][65535 + 32];
	static struct vnet_frame fr[300];
	static struct virtio_net_hdr_v1 th[MAX_TX];
	static uint8_t uni[VNET_MAC_TABLE_MAX + 1][6], multi[VNET_MAC_TABLE_MAX + 1][6];
	struct vnet_info info;
	struct dev_act a;
	uint8_t op = fin_u8(in) % OP_N, mac[6];
	int fds[4], rc;
	unsigned n, nu, nm;
	uint64_t cnt;

	FUZZ_TRACE("op %s\n", op_names[op]);
	switch (op) {
	case OP_TX:
		n = 1 + fin_u8(in) % MAX_TX;
		for (unsigned i = 0; i < n; i++) {
			uint8_t fl = fin_u8(in);

			uint32_t head;

			/* Mostly ordinary frames, some as long as GSO allows
			 * (and a little longer); the headers from the input,
			 * the rest zero. */
			fr[i].len = (fl & 0x80) ? fin_u16(in) + 32u : fin_u16(in) % 1600;
			fr[i].data = txbuf[i];
			head = fr[i].len < TX_HEAD ? fr[i].len : TX_HEAD;
			fin_bytes(in, txbuf[i], head);
			memset(txbuf[i] + head, 0, fr[i].len - head);
			fr[i].hdr = NULL;
			if (fl & 1) {
				fin_bytes(in, &th[i], sizeof(th[i]));
				fr[i].hdr = &th[i];
			}
		}
		rc = vnet_tx_burst(d, fr, n);
		FUZZ_TRACE("  -> %d\n", rc);
		CHECK_RC(rc, EMSGSIZE, EINVAL, EIO, ENOTCONN);
		FUZZ_CHECK(rc <= (int)n);
		if (rc > 0)
			s->tx_frames += (unsigned)rc;
		break;
	case OP_RX:
		n = fin_u16(in) % 300;
		rc = vnet_rx_burst(d, fr, n);
		FUZZ_TRACE("  -> %d\n", rc);
		CHECK_RC(rc, EIO, ENOTCONN);
		FUZZ_CHECK(rc <= (int)n && rc <= VNET_RX_BURST_MAX);
		if (rc > 0) {
			vnet_dev_info(d, &info);
			for (int i = 0; i < rc; i++)
				check_frame(d, &fr[i], info.max_rx_frame, info.driver_features);
			s->rx_frames += (unsigned)rc;
		}
		break;
	case OP_DRAIN:
		rc = vnet_tx_drain(d, 0);
		FUZZ_CHECK(rc == 0 || rc == -ETIMEDOUT || rc == -EINTR || rc == -EIO ||
			   rc == -ENOTCONN);
		break;
	case OP_WAIT:
	case OP_WAIT_FD:
		if (op == OP_WAIT_FD && (fin_u8(in) & 1)) {
			cnt = 1;
			if (write(user_fd, &cnt, sizeof(cnt)) != sizeof(cnt))
				abort();
		}
		rc = op == OP_WAIT ? vnet_wait(d, 0) : vnet_wait_fd(d, 0, user_fd);
		FUZZ_TRACE("  -> %d\n", rc);
		CHECK_RC(rc, EINTR, EIO, ENOTCONN);
		if (rc > 0)
			FUZZ_CHECK(!(rc & ~(VNET_EV_RX | VNET_EV_TX | VNET_EV_LINK |
					    (op == OP_WAIT_FD ? VNET_EV_FD : 0))));
		(void)read(user_fd, &cnt, sizeof(cnt));
		break;
	case OP_CTRL_RX:
		n = fin_u8(in);
		rc = vnet_ctrl_rx_mode(d, (enum vnet_rx_mode)(n % 7), n & 0x80);
		FUZZ_TRACE("  -> %d\n", rc);
		FUZZ_CHECK(!s->honest || rc != -ETIMEDOUT);
		CHECK_RC(rc, ENOTSUP, EINVAL, EREMOTEIO, ETIMEDOUT, EIO, ENOTCONN);
		FUZZ_CHECK(rc != -EINVAL || n % 7 == 6);
		break;
	case OP_CTRL_TABLE:
		n = fin_u8(in);
		/* 0-3 entries each, or one too many (4). */
		nu = (n & 7) % 5 == 4 ? VNET_MAC_TABLE_MAX + 1 : (n & 7) % 5;
		nm = ((n >> 3) & 7) % 5 == 4 ? VNET_MAC_TABLE_MAX + 1 : ((n >> 3) & 7) % 5;
		for (unsigned i = 0; i < nu; i++) {
			fin_bytes(in, uni[i], 6);
			if (!(n & 0x40))
				uni[i][0] &= 0xfe;
		}
		for (unsigned i = 0; i < nm; i++) {
			fin_bytes(in, multi[i], 6);
			if (!(n & 0x40))
				multi[i][0] |= 1;
		}
		rc = vnet_ctrl_mac_table(d, uni, nu, multi, nm);
		FUZZ_TRACE("  -> %d\n", rc);
		FUZZ_CHECK(!s->honest || rc != -ETIMEDOUT);
		CHECK_RC(rc, ENOTSUP, EINVAL, EREMOTEIO, ETIMEDOUT, EIO, ENOTCONN);
		break;
	case OP_CTRL_MAC:
		fin_bytes(in, mac, 6);
		rc = vnet_ctrl_mac_addr(d, mac);
		FUZZ_TRACE("  -> %d\n", rc);
		FUZZ_CHECK(!s->honest || rc != -ETIMEDOUT);
		CHECK_RC(rc, ENOTSUP, EINVAL, EREMOTEIO, ETIMEDOUT, EIO, ENOTCONN);
		if (rc == 0) {
			uint8_t got[6];

			vnet_mac(d, got);
			FUZZ_CHECK(!memcmp(got, mac, 6));
		}
		break;
	case OP_CTRL_RSS: {
		/* RSS (with want_rss and pairs) or, with HASH_REPORT alone,
		 * HASH_CONFIG: types beyond those supported, keys past 40,
		 * tables not a power of two or naming pairs not in use. */
		struct vnet_rss r = { 0 };

		n = fin_u8(in);
		r.hash_types = (n & 0x80) ? fin_u32(in) : fin_u8(in) & 0x3fu;
		r.key_len = (uint8_t)(fin_u8(in) % 48);
		fin_bytes(in, r.key, r.key_len < VNET_RSS_KEY_MAX ? r.key_len : VNET_RSS_KEY_MAX);
		r.table_len = (n & 0x40) ? 3 : (uint16_t)(1u << (n % 9));	/* 1..256 */
		for (unsigned i = 0; i < r.table_len && i < VNET_RSS_TABLE_MAX; i++)
			r.table[i] = (uint16_t)(fin_u8(in) % 5);
		r.unclassified = (uint16_t)(fin_u8(in) % 5);
		rc = vnet_ctrl_rss(d, &r);
		FUZZ_TRACE("  -> %d\n", rc);
		FUZZ_CHECK(!s->honest || rc != -ETIMEDOUT);
		/* The library checks by the device's rule (common/rss.c): an
		 * honest device takes what it sends. */
		FUZZ_CHECK(!s->honest || rc != -EREMOTEIO);
		CHECK_RC(rc, ENOTSUP, EINVAL, EREMOTEIO, ETIMEDOUT, EIO, ENOTCONN);
		break;
	}
	case OP_RESET:
		rc = vnet_dev_reset(d);
		FUZZ_TRACE("  -> %d\n", rc);
		FUZZ_CHECK(!s->honest || rc != -ETIMEDOUT);
		FUZZ_CHECK(rc <= 0);
		if (rc < 0)
			return false;
		break;
	case OP_INFO:
		check_info(d, s);
		break;
	case OP_MISC:
		vnet_dev_info(d, &info);
		FUZZ_CHECK(vnet_link_up(d) == info.link_up);
		FUZZ_CHECK(vnet_max_tx_frame(d) == info.max_tx_frame);
		(void)vnet_needs_reset(d);
		FUZZ_CHECK(vnet_tx_space(d) <= info.queues[1].size);
		n = vnet_irq_fds(d, fds, fin_u8(in) % 5);
		FUZZ_CHECK(n <= 4);
		for (unsigned i = 0; i < n; i++)
			FUZZ_CHECK(fds[i] >= 0);
		break;
	case OP_ARM:
		/* The caller-loop protocol of virtio_net.h. */
		rc = vnet_wait_arm(d, fin_u8(in) & 1);
		CHECK_RC(rc, EIO, ENOTCONN);
		if (rc == 0) {
			int fd = -1;

			cnt = 0;
			if (vnet_irq_fds(d, fds, 1) == 1 &&
			    read(fds[0], &cnt, sizeof(cnt)) == sizeof(cnt))
				fd = fds[0];
			rc = vnet_wait_end(d, fd, fd >= 0 ? cnt : 0);
			CHECK_RC(rc, EIO, ENOTCONN);
		}
		break;
	case OP_KICKS:
		/* defer_kicks: the caller writes the doorbells it is given. */
		n = vnet_kicks_take(d, fds, 1 + fin_u8(in) % 4);
		for (unsigned i = 0; i < n; i++) {
			cnt = 1;
			FUZZ_CHECK(fds[i] >= 0);
			if (write(fds[i], &cnt, sizeof(cnt)) != sizeof(cnt))
				abort();
		}
		break;
	default:
		read_act(in, &a);
		if (a.op == ACT_RAM || a.op == ACT_NEEDS_RESET ||
		    (a.op == ACT_RX && (a.flags & (RX_LIE_LEN | RX_LIE_NBUF | RX_PARTIAL))))
			s->honest = false;
		device_request(REQ_ACT, &a);
		return true;
	}
	/* Let the device catch up with the kicks of this call. */
	if (!P.no_iofds)
		device_request(REQ_BARRIER, NULL);
	if (s->honest)
		FUZZ_CHECK(!vnet_needs_reset(d));
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t rams[4] = { 4u << 20, 8u << 20, 16u << 20, 32u << 20 };
	struct vnet_dev_params prm = { .mmio_intr = -1 };
	struct seen s = { 0 };
	struct vnet_dev *d = NULL;
	struct fuzz_in in;
	uint8_t sel, pf, qs;
	uint64_t start = now_ms();
	unsigned fds_before, n_ops = 0;
	pthread_t th;
	int rc;

	if (size > MAX_IN)
		return -1;
	fin_init(&in, data, size);
	sel = fin_u8(&in);
	pf = fin_u8(&in);
	qs = fin_u8(&in);
	prm.socket_path = proxy_path;
	prm.want_packed = pf & 1;
	prm.want_offloads = pf & 2;
	prm.no_interrupts = pf & 4;
	prm.use_intx = pf & 8;
	prm.defer_kicks = pf & 0x10;
	if (pf & 0x20)
		prm.decline_features = fin_u64(&in);
	prm.ram_size = rams[pf >> 6];
	prm.queue_pairs = (sel >> 3) & 3;	/* 0..3; the device may have fewer */
	prm.want_hash_report = sel & 0x20;
	prm.want_rss = sel & 0x40;
	/* 0: the device's maximum capped at 256; a power of two; or (packed)
	 * any size up to 127. */
	prm.queue_size = qs & 0x80 ? qs & 0x7fu : qs ? 1u << ((qs - 1) % 16) : 0;
	if (sel & 2) {
		prm.mmio_loc = "0x10000000";
		prm.mmio_intr = 5;
	}

	memset(&P.t, 0, sizeof(P.t));
	P.vd = devs[sel % N_DEVS];
	P.no_iofds = sel & 4;
	P.nt = fin_u8(&in) % (MAX_TAMPER + 1);
	for (unsigned i = 0; i < P.nt; i++)
		read_tamper(&in, &P.t[i]);
	P.nreplies = 0;
	P.cs = P.ss = -1;
	P.quitting = false;
	P.ram_lo = P.ram_hi = 0;

	s.p = prm;
	s.honest = P.nt == 0;
	s.want = (VNET_DRIVER_FEATURES | (prm.want_offloads ? VNET_OFFLOAD_FEATURES : 0) |
		  (prm.want_packed ? VIRTIO_BIT(VIRTIO_F_RING_PACKED) : 0) |
		  (prm.queue_pairs > 1 ? VIRTIO_BIT(VIRTIO_NET_F_MQ) : 0) |
		  (prm.queue_pairs > 1 && prm.want_rss ? VIRTIO_BIT(VIRTIO_NET_F_RSS) : 0) |
		  (prm.want_hash_report ? VIRTIO_BIT(VIRTIO_NET_F_HASH_REPORT) : 0)) &
		 ~prm.decline_features;

	fds_before = count_fds();
	if (pthread_create(&th, NULL, device_thread, &P) != 0)
		abort();
	rc = vnet_dev_open(&d, &prm);
	FUZZ_TRACE("open: %d (%llu ms, %u replies)\n", rc,
		   (unsigned long long)(now_ms() - start), P.nreplies);
	FUZZ_CHECK(rc <= 0 && (rc == 0) == (d != NULL));
	if (rc == 0) {
		check_info(d, &s);
		while (in.left && n_ops++ < MAX_OPS && now_ms() - start < SLOW_MS &&
		       run_op(d, &in, &s))
			;
		check_info(d, &s);
	}
	vnet_dev_close(d);
	device_request(REQ_QUIT, NULL);
	if (pthread_join(th, NULL) != 0)
		abort();
	/* The vdev as it was for the next input (a reset keeps the link). */
	vdev_set_link_status(P.vd, link0[sel % N_DEVS]);
	FUZZ_CHECK(count_fds() == fds_before);
	FUZZ_TRACE("end: %llu ms\n", (unsigned long long)(now_ms() - start));
	return 0;
}
