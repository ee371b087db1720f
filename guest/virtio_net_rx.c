// SPDX-License-Identifier: MIT
/*
 * virtio_net_rx.c - the receive path (5.1.6.3 buffers, 5.1.6.4 frames).
 *
 * Each RX buffer is one descriptor holding header then frame, or two
 * (header, frame) for a legacy driver without ANY_LAYOUT (5.1.6.6.1).
 * The header the device wrote is copied once into private memory and
 * checked there (num_buffers, then the header rule of common/net_hdr.h);
 * the caller gets that copy, in the 1.x layout whatever the device used
 * (a 10-byte legacy header gains num_buffers = 1).  The copy is always a
 * 20-byte hash header: with HASH_REPORT the device's hash and type
 * (5.1.6.4.4), else zeros (NONE), for vnet_rx_hash.
 *
 * With several pairs, a burst takes from each receiveq in turn, starting
 * one further each time, so none starves.
 *
 * Buffers go to the ring and come back in bursts (vq_drv_add_burst,
 * vq_drv_get_burst, up to VN_BURST at a time).  A burst takes no more
 * used buffers than can be frames of this call (each frame has at least
 * one), and a merged frame's missing buffers exactly, so none is taken
 * and then left unread.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/log.h"
#include "common/net_hdr.h"
#include "common/rss.h"
#include "guest/virtio_net_priv.h"

/* Posts the RX buffers in q->idx (all at start, the ones handed out by
 * the last vnet_rx_burst later), last first, in bursts.  No kick here:
 * the caller decides. */
unsigned vn_rx_post(struct vnet_dev *d, struct vnet_queue *q)
{
	bool split = d->hdr_separate && !d->mrg_rxbuf;
	unsigned nb = split ? 2 : 1, added = 0;
	struct vq_sg sg[2 * VN_BURST];
	void *tok[VN_BURST];

	while (q->nidx > 0) {
		unsigned m = q->nidx < VN_BURST ? q->nidx : VN_BURST;
		int rc;

		for (unsigned k = 0; k < m; k++) {
			uint16_t i = q->idx[q->nidx - 1 - k];
			uint64_t gpa = q->bufs_gpa + (uint64_t)i * q->buf_size;

			if (split) {
				sg[2 * k] = (struct vq_sg){ gpa, d->hdr_len };
				sg[2 * k + 1] = (struct vq_sg){ gpa + d->hdr_len,
								q->buf_size - d->hdr_len };
			} else {
				sg[k] = (struct vq_sg){ gpa, q->buf_size };
			}
			tok[k] = vn_token(i);
		}
		rc = vq_drv_add_burst(&q->vq, sg, 0, nb, tok, m);
		if (rc <= 0)
			break;
		q->nidx -= (unsigned)rc;
		added += (unsigned)rc;
		if ((unsigned)rc < m)
			break;
	}
	return added;
}

static void rx_error(struct vnet_dev *d, const struct vnet_queue *q, const char *what,
		     uint32_t v)
{
	d->st.rx_errors++;
	log_rl(LOG_WARN, "%s: dropped a frame: %s (%u)", q->name, what, v);
}

/* Used buffers taken in a burst and not yet read. */
struct rx_used {
	void *tok[VN_BURST];
	uint32_t len[VN_BURST];
	unsigned n, pos;
};

/* Takes the next used RX buffer, from u or, when u is read, from a new
 * burst of up to want (at least 1); remembers it for reposting.  Inline:
 * it runs for every frame (a call and its frame were 9 instructions of
 * it, bench/insns.sh, INSNS_SIDE=guest). */
static inline __attribute__((always_inline)) uint8_t *rx_take(struct vnet_queue *q, struct rx_used *u, unsigned want, uint32_t *len)
{
	uint16_t i;

	do {
		if (u->pos == u->n) {
			int got = vq_drv_get_burst(&q->vq, u->tok, u->len,
						   want < VN_BURST ? want : VN_BURST);

			u->pos = 0;
			u->n = got > 0 ? (unsigned)got : 0;
			if (u->n == 0)
				return NULL;
		}
		*len = u->len[u->pos];
	} while (!vn_token_idx(q, u->tok[u->pos++], &i) || q->nidx >= q->size);
	q->idx[q->nidx++] = i;
	return q->bufs + (size_t)i * q->buf_size;
}

/* MRG_RXBUF: the frame continues in nbufs - 1 more buffers (no header in
 * those, 5.1.6.4); gather it into a reassembly slot.  All its buffers are
 * consumed even when the frame is dropped, so the next buffer starts a
 * frame.  Returns the frame length, or 0 after counting an error. */
static uint32_t rx_gather(struct vnet_dev *d, struct vnet_queue *q, struct rx_used *u,
			  uint8_t *dst, const uint8_t *first, uint32_t first_len, uint16_t nbufs)
{
	uint32_t total = first_len;
	bool fits = first_len <= d->max_rx_frame;

	if (fits)
		memcpy(dst, first, first_len);
	for (uint16_t k = 1; k < nbufs; k++) {
		uint32_t len;
		uint8_t *b = rx_take(q, u, nbufs - k, &len);

		if (!b) {
			/* The device publishes all buffers of a frame at once
			 * (2.7.8): missing ones are a device error. */
			rx_error(d, q, "num_buffers larger than the buffers used", nbufs);
			return 0;
		}
		if (!fits)
			continue;
		if (len > q->buf_size || len > d->max_rx_frame - total) {
			fits = false;
			continue;
		}
		memcpy(dst + total, b, len);
		total += len;
	}
	if (!fits) {
		rx_error(d, q, "merged frame longer than the maximum", nbufs);
		return 0;
	}
	return total;
}

/* Frames of one receiveq into frames[*n ..max), reassembly slots from
 * *slots on. */
static void rx_queue(struct vnet_dev *d, struct vnet_queue *q, struct vnet_frame *frames,
		     unsigned max, unsigned *n, unsigned *slots)
{
	const uint32_t hlen = d->hdr_len;
	struct rx_used u = { .n = 0 };

	while (*n < max && (!d->mrg_rxbuf || *slots < REASM_SLOTS)) {
		struct virtio_net_hdr_v1_hash *hh = &d->rx_hdr[*n];
		struct virtio_net_hdr_v1 *hdr = &hh->hdr;
		/* Each buffer of a burst starts a frame or belongs to one
		 * started in it, and every frame takes a frame slot (and a
		 * merged one a reassembly slot) only once: a burst of this
		 * many is read whole before the loop can stop. */
		unsigned want = d->mrg_rxbuf && REASM_SLOTS - *slots < max - *n
					? REASM_SLOTS - *slots : max - *n;
		char why[192];
		uint32_t len, flen;
		uint8_t *buf = rx_take(q, &u, want, &len), *data;

		if (!buf)
			break;
		if (len < hlen || len > q->buf_size) {
			rx_error(d, q, "used length outside the buffer", len);
			continue;
		}
		/* Read once: the device wrote it.  hlen is at most the
		 * hash header's 20 (net_hdr_len). */
		memset(hh, 0, sizeof(*hh));
		/* The usual 12 bytes as a constant length: moves, not a call
		 * (bench/insns.sh, INSNS_SIDE=guest). */
		if (__builtin_expect(hlen == sizeof(hh->hdr), 1))
			memcpy(&hh->hdr, buf, sizeof(hh->hdr));
		else
			memcpy(hh, buf, hlen);
		/* A report type we do not know is no hash we can use: NONE,
		 * as the spec has the driver ignore what it does not know. */
		if (hh->hash_report > VIRTIO_NET_HASH_REPORT_UDPv6) {
			hh->hash_report = VIRTIO_NET_HASH_REPORT_NONE;
			hh->hash_value = 0;
		}
		hh->padding_reserved = 0;
		if (!d->mrg_rxbuf)
			hdr->num_buffers = 1;
		data = buf + hlen;
		flen = len - hlen;
		if (hdr->num_buffers != 1) {
			uint16_t nbufs = hdr->num_buffers;

			if (nbufs == 0 || nbufs > q->size) {
				rx_error(d, q, "bad num_buffers", nbufs);
				continue;
			}
			data = d->reasm + (size_t)*slots * d->max_rx_frame;
			flen = rx_gather(d, q, &u, data, buf + hlen, flen, nbufs);
			if (flen == 0)
				continue;
			(*slots)++;
		}
		if (flen < VNET_ETH_HLEN || flen > d->max_rx_frame) {
			rx_error(d, q, "bad frame length", flen);
			continue;
		}
		/* 5.1.6.4.2: flag bits we do not know are ignored, so they
		 * go from our copy; what is left must pass the header rule
		 * for this frame and the features we took (5.1.6.4.1: no
		 * offload that was not negotiated, the checksum inside the
		 * frame), so the caller can act on the header as it is. */
		hdr->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
		if (net_hdr_check(hdr, flen, why, sizeof(why)) < 0 ||
		    net_hdr_allowed(hdr, d->drv_features, NET_HDR_TO_DRIVER, why,
				    sizeof(why)) < 0) {
			d->st.rx_errors++;
			log_rl(LOG_WARN, "%s: dropped a frame: %s", q->name, why);
			continue;
		}
		frames[*n].data = data;
		frames[*n].len = flen;
		frames[*n].hdr = hdr;
		(*n)++;
		d->st.rx_frames++;
		d->st.rx_bytes += flen;
	}
}

int vnet_rx_burst(struct vnet_dev *d, struct vnet_frame *frames, unsigned max)
{
	const unsigned first = d->rx_next;
	unsigned n = 0, slots = 0;
	bool broken = false;
	int rc = vn_health(d);

	if (rc < 0)
		return rc;
	/* The buffers handed out last time come back now, one kick for all
	 * of each queue. */
	for (unsigned k = 0; k < d->npairs; k++)
		if (vn_rx_post(d, &d->rxq[k]))
			vn_kick(d, &d->rxq[k]);
	if (max > VNET_RX_BURST_MAX)
		max = VNET_RX_BURST_MAX;
	for (unsigned i = 0; i < d->npairs; i++)
		rx_queue(d, &d->rxq[(first + i) % d->npairs], frames, max, &n, &slots);
	d->rx_next = first + 1 < d->npairs ? first + 1 : 0;
	for (unsigned k = 0; n == 0 && k < d->npairs; k++)
		broken |= vn_queue_broken(&d->rxq[k]);
	return broken ? -EIO : (int)n;
}

int vnet_rx_hash(const struct vnet_dev *d, const struct vnet_frame *f, uint32_t *hash)
{
	const uintptr_t first = (uintptr_t)&d->rx_hdr[0].hdr;
	uintptr_t at;
	const struct virtio_net_hdr_v1_hash *hh;

	if (!f || !hash)
		return -EINVAL;
	at = (uintptr_t)f->hdr;
	/* Only a header vnet_rx_burst handed out has the hash behind it. */
	if (at < first || at - first >= sizeof(d->rx_hdr) || (at - first) % sizeof(d->rx_hdr[0]))
		return -EINVAL;
	if (!vn_has(d, VIRTIO_NET_F_HASH_REPORT))
		return -ENOTSUP;
	hh = &d->rx_hdr[(at - first) / sizeof(d->rx_hdr[0])];
	*hash = hh->hash_value;
	return hh->hash_report;
}

int vnet_rss_hash(const struct vnet_rss *r, const uint8_t *data, uint32_t len, uint32_t *hash)
{
	uint8_t report;

	if (!r || !data || !hash || r->key_len > VNET_RSS_KEY_MAX)
		return -EINVAL;
	*hash = rss_hash_frame(r->key, r->key_len, r->hash_types, data, len, &report);
	return report;
}
