// SPDX-License-Identifier: MIT
/*
 * tap_bridge.c - the device under a Linux network stack (see
 * tap_bridge.h).
 *
 * One thread, one loop: receive a burst from the device and write each
 * frame to the TAP; read frames from the TAP into a batch and hand it to
 * vnet_tx_burst; when neither side had anything, sleep in vnet_wait_fd on
 * the device's interrupts and the TAP together.  While the transmitq is
 * full the batch is held and the TAP is not read, so the kernel queues
 * (and past txqueuelen drops) exactly as for a NIC with a full ring.
 */
#include "guest/tool/tap_bridge.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "common/netlink.h"
#include "common/tun.h"
#include "guest/tool/tool.h"
#include "guest/virtio_net.h"

#define TX_BATCH  32
#define RX_BURST  64
#define FRAME_CAP (TUN_HDR_LEN + VNET_MAX_GSO_FRAME)
#define WAIT_MS   200

struct bridge {
	struct vnet_dev *d;
	int fd;
	bool carrier_ioctl;
	struct vnl *nl;
	const char *ifname;
	/* TAP -> device batch: frames read but not yet queued */
	uint8_t *buf;			/* TX_BATCH x FRAME_CAP */
	struct virtio_net_hdr_v1 hdr[TX_BATCH];
	struct vnet_frame f[TX_BATCH];
	unsigned n, sent;		/* frames in the batch; of them queued */
	struct tap_bridge_stats st;
};

static void set_carrier(struct bridge *b, bool up)
{
	char err[256];

	if (b->carrier_ioctl && tun_set_carrier(b->fd, up) == 0)
		return;
	if (vnl_link_set_up(b->nl, b->ifname, up, err, sizeof(err)) < 0)
		log_rl(LOG_WARN, "%s", err);
}

/* receiveq -> TAP.  Returns frames handled, or -errno from the device. */
static int dev_to_tap(struct bridge *b)
{
	struct vnet_frame f[RX_BURST];
	int n = vnet_rx_burst(b->d, f, RX_BURST);

	for (int i = 0; i < n; i++) {
		struct virtio_net_hdr_v1 h = { 0 };
		struct iovec iov[2];
		char why[128];

		if (f[i].hdr)
			h = *f[i].hdr;
		/* The device may vouch for a checksum (DATA_VALID, 5.1.6.4). */
		if (!tun_hdr_sanitize(&h, f[i].len, true, why, sizeof(why))) {
			b->st.drop_bad++;
			log_rl(LOG_WARN, "dropped a received frame: %s", why);
			continue;
		}
		iov[0] = (struct iovec){ .iov_base = &h, .iov_len = sizeof(h) };
		iov[1] = (struct iovec){ .iov_base = f[i].data, .iov_len = f[i].len };
		if (writev(b->fd, iov, 2) < 0) {
			b->st.drop_tap_error++;
			log_rl(LOG_WARN, "TAP %s refused a %u-byte frame (flags 0x%x gso 0x%x): %s",
			       b->ifname, f[i].len, h.flags, h.gso_type, strerror(errno));
			continue;
		}
		b->st.from_dev_frames++;
		b->st.from_dev_bytes += f[i].len;
		b->st.from_dev_gso += h.gso_type != VIRTIO_NET_HDR_GSO_NONE;
		b->st.from_dev_csum += (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
	}
	return n;
}

/* Fills the batch from the TAP (only when it is empty).  Returns frames
 * read, or -ENODEV when the interface was deleted under us. */
static int read_tap(struct bridge *b)
{
	if (b->sent < b->n)
		return 0;
	b->n = b->sent = 0;
	while (b->n < TX_BATCH) {
		uint8_t *p = b->buf + (size_t)b->n * FRAME_CAP;
		ssize_t r = read(b->fd, p, FRAME_CAP);
		char why[128];
		uint32_t flen;

		if (r < 0) {
			if (errno == EBADFD || errno == EIO || errno == ENODEV) {
				log_err("TAP %s is gone: %s", b->ifname, strerror(errno));
				return -ENODEV;
			}
			if (errno != EAGAIN && errno != EINTR)
				log_rl(LOG_WARN, "read from TAP %s: %s", b->ifname, strerror(errno));
			break;
		}
		if ((size_t)r < TUN_HDR_LEN + VNET_ETH_HLEN || (size_t)r > FRAME_CAP) {
			b->st.drop_bad++;
			continue;
		}
		flen = (uint32_t)r - TUN_HDR_LEN;
		memcpy(&b->hdr[b->n], p, sizeof(b->hdr[0]));
		/* A driver never sends DATA_VALID (5.1.6.2); num_buffers 0. */
		if (!tun_hdr_sanitize(&b->hdr[b->n], flen, false, why, sizeof(why))) {
			b->st.drop_bad++;
			log_rl(LOG_WARN, "dropped a frame from TAP %s: %s", b->ifname, why);
			continue;
		}
		b->f[b->n] = (struct vnet_frame){ .data = p + TUN_HDR_LEN, .len = flen,
						  .hdr = &b->hdr[b->n] };
		b->n++;
	}
	return (int)b->n;
}

/* The batch -> transmitq.  Returns frames queued, or -errno. */
static int tap_to_dev(struct bridge *b)
{
	int queued = 0;

	while (b->sent < b->n) {
		int rc = vnet_tx_burst(b->d, &b->f[b->sent], b->n - b->sent);

		if (rc == -EMSGSIZE || rc == -EINVAL) {
			/* Should not happen with TUNSETOFFLOAD and the MTU set
			 * from the device; never let one frame stall the rest. */
			b->st.drop_bad++;
			log_rl(LOG_WARN, "device refused a %u-byte frame from TAP %s: %s",
			       b->f[b->sent].len, b->ifname, strerror(-rc));
			b->sent++;
			continue;
		}
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;	/* ring full: keep the rest for later */
		for (int i = 0; i < rc; i++) {
			const struct vnet_frame *f = &b->f[b->sent + (unsigned)i];

			b->st.to_dev_bytes += f->len;
			b->st.to_dev_gso += f->hdr->gso_type != VIRTIO_NET_HDR_GSO_NONE;
			b->st.to_dev_csum += (f->hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
		}
		b->st.to_dev_frames += (uint64_t)rc;
		b->sent += (unsigned)rc;
		queued += rc;
	}
	return queued;
}

#define TRY(call)                                               \
	do {                                                    \
		if ((call) < 0) {                               \
			fprintf(stderr, "vnet-guest: tap: %s\n", err); \
			return -1;                              \
		}                                               \
	} while (0)

static int setup(struct bridge *b, const struct tap_bridge_cfg *cfg)
{
	struct vnet_info in;
	char err[512] = "", offs[64];
	unsigned off;

	vnet_dev_info(b->d, &in);
	b->fd = tun_open_tap(cfg->ifname, err, sizeof(err));
	TRY(b->fd);
	off = tun_offloads_for_sender(in.driver_features);
	if (tun_set_offload(b->fd, off) < 0) {
		fprintf(stderr, "vnet-guest: tap: %s: TUNSETOFFLOAD %s: %s\n", cfg->ifname,
			tun_offloads_format(off, offs, sizeof(offs)), strerror(errno));
		return -1;
	}
	TRY(vnl_open(&b->nl, NULL, err, sizeof(err)));
	if (cfg->netns) {
		TRY(vnl_link_move_netns(b->nl, cfg->ifname, cfg->netns, err, sizeof(err)));
		vnl_close(b->nl);
		b->nl = NULL;
		TRY(vnl_open(&b->nl, cfg->netns, err, sizeof(err)));
	}
	/* The device's receive filter passes the device's MAC: the stack
	 * on top must use it. */
	TRY(vnl_link_set_mac(b->nl, cfg->ifname, in.mac, err, sizeof(err)));
	TRY(vnl_link_set_mtu(b->nl, cfg->ifname, in.mtu, err, sizeof(err)));
	for (unsigned i = 0; i < cfg->n_addrs; i++)
		TRY(vnl_addr_add(b->nl, cfg->ifname, cfg->addrs[i], err, sizeof(err)));
	b->carrier_ioctl = tun_set_carrier(b->fd, vnet_link_up(b->d)) == 0;
	if (b->carrier_ioctl)
		TRY(vnl_link_set_up(b->nl, cfg->ifname, true, err, sizeof(err)));
	else
		set_carrier(b, vnet_link_up(b->d));
	printf("tap: %s%s%s mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u offloads %s link %s\n",
	       cfg->ifname, cfg->netns ? " netns " : "", cfg->netns ? cfg->netns : "",
	       in.mac[0], in.mac[1], in.mac[2], in.mac[3], in.mac[4], in.mac[5], in.mtu,
	       tun_offloads_format(off, offs, sizeof(offs)), vnet_link_up(b->d) ? "up" : "down");
	fflush(stdout);
	return 0;
}

static void print_stats(const struct bridge *b)
{
	const struct tap_bridge_stats *s = &b->st;

	printf("to_device_frames: %" PRIu64 "\nto_device_bytes: %" PRIu64
	       "\nto_device_gso: %" PRIu64 "\nto_device_csum: %" PRIu64
	       "\nfrom_device_frames: %" PRIu64 "\nfrom_device_bytes: %" PRIu64
	       "\nfrom_device_gso: %" PRIu64 "\nfrom_device_csum: %" PRIu64
	       "\ndropped_bad: %" PRIu64 "\ndropped_tap_refused: %" PRIu64
	       "\nlink_changes: %" PRIu64 "\n",
	       s->to_dev_frames, s->to_dev_bytes, s->to_dev_gso, s->to_dev_csum,
	       s->from_dev_frames, s->from_dev_bytes, s->from_dev_gso, s->from_dev_csum,
	       s->drop_bad, s->drop_tap_error, s->link_changes);
}

static int loop(struct bridge *b, const struct tap_bridge_cfg *cfg,
		volatile sig_atomic_t *stop)
{
	uint64_t end = cfg->seconds > 0 ? now_ns() + (uint64_t)(cfg->seconds * 1e9) : UINT64_MAX;
	bool link = vnet_link_up(b->d);

	while (!*stop && now_ns() < end) {
		int rx, tx, ev;

		rx = dev_to_tap(b);
		if (rx < 0)
			return rx;
		if (read_tap(b) < 0)
			return -ENODEV;
		tx = tap_to_dev(b);
		if (tx < 0)
			return tx;
		if (link != vnet_link_up(b->d)) {
			link = !link;
			b->st.link_changes++;
			set_carrier(b, link);
		}
		if (rx > 0 || tx > 0)
			continue;
		/* Idle: sleep on the device, and on the TAP unless a batch
		 * is waiting for transmitq room. */
		ev = vnet_wait_fd(b->d, WAIT_MS, b->sent < b->n ? -1 : b->fd);
		if (ev < 0 && ev != -EINTR)
			return ev;
	}
	return 0;
}

int tap_bridge_run(struct vnet_dev *d, const struct tap_bridge_cfg *cfg,
		   volatile sig_atomic_t *stop)
{
	struct bridge b = { .d = d, .fd = -1, .ifname = cfg->ifname };
	int rc, status;

	b.buf = malloc((size_t)TX_BATCH * FRAME_CAP);
	if (!b.buf) {
		fprintf(stderr, "vnet-guest: tap: out of memory\n");
		return 2;
	}
	if (setup(&b, cfg) < 0) {
		status = 2;
	} else {
		rc = loop(&b, cfg, stop);
		status = rc < 0 ? 1 : 0;
		if (rc < 0)
			fprintf(stderr, "vnet-guest: tap: stopped: %s\n",
				rc == -EIO ? "needs reset or broken ring (see log)"
				: rc == -ENOTCONN ? "device disconnected"
				: rc == -ENODEV ? "the TAP interface was deleted" : strerror(-rc));
		/* Let what is queued leave before the reset drops it. */
		vnet_tx_drain(d, 500);
		print_stats(&b);
	}
	if (b.fd >= 0)
		close(b.fd);	/* the TAP goes with it */
	vnl_close(b.nl);
	free(b.buf);
	return status;
}

/* ---- the command ----------------------------------------------------- */

static int cmd_tap(struct cli *c, struct vnet_dev *d)
{
	c->tap.ifname = c->ifname;
	c->tap.seconds = (c->given & O_SECONDS) ? c->seconds : 0;
	return tap_bridge_run(d, &c->tap, &stop_requested);
}

const struct command command_tap = { "tap", O_NETNS | O_ADDR | O_SECONDS, false, true, cmd_tap };
