// SPDX-License-Identifier: MIT
/*
 * peerfeats.c - which offloads may cross a peer link (docs/ARCHITECTURE.md
 * "peerfeats"), the feature dependency rules of virtio 1.2 section
 * 5.1.3.1, and feature bit names for logs and `vnet-guest info`.
 */
#include "common/peerfeats.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/virtio.h"

#define B(bit) VIRTIO_BIT(VIRTIO_NET_F_##bit)

/* Bit names, spec spelling without the prefix.  Net bits from 5.1.3,
 * transport bits from 6; 41/42 are read as the legacy net GUEST_RSC4/6
 * (see reference/virtio-facts.md section 2 on that spec wrinkle). */
static const char *const feature_names[64] = {
	[0] = "CSUM",
	[1] = "GUEST_CSUM",
	[2] = "CTRL_GUEST_OFFLOADS",
	[3] = "MTU",
	[5] = "MAC",
	[6] = "GSO",
	[7] = "GUEST_TSO4",
	[8] = "GUEST_TSO6",
	[9] = "GUEST_ECN",
	[10] = "GUEST_UFO",
	[11] = "HOST_TSO4",
	[12] = "HOST_TSO6",
	[13] = "HOST_ECN",
	[14] = "HOST_UFO",
	[15] = "MRG_RXBUF",
	[16] = "STATUS",
	[17] = "CTRL_VQ",
	[18] = "CTRL_RX",
	[19] = "CTRL_VLAN",
	[20] = "CTRL_RX_EXTRA",
	[21] = "GUEST_ANNOUNCE",
	[22] = "MQ",
	[23] = "CTRL_MAC_ADDR",
	[24] = "NOTIFY_ON_EMPTY",
	[27] = "ANY_LAYOUT",
	[28] = "RING_INDIRECT_DESC",
	[29] = "RING_EVENT_IDX",
	[32] = "VERSION_1",
	[33] = "ACCESS_PLATFORM",
	[34] = "RING_PACKED",
	[35] = "IN_ORDER",
	[36] = "ORDER_PLATFORM",
	[37] = "SR_IOV",
	[38] = "NOTIFICATION_DATA",
	[39] = "NOTIF_CONFIG_DATA",
	[40] = "RING_RESET",
	[41] = "GUEST_RSC4",
	[42] = "GUEST_RSC6",
	[50] = "DEVICE_STATS",
	[51] = "HASH_TUNNEL",
	[52] = "VQ_NOTF_COAL",
	[53] = "NOTF_COAL",
	[54] = "GUEST_USO4",
	[55] = "GUEST_USO6",
	[56] = "HOST_USO",
	[57] = "HASH_REPORT",
	[59] = "GUEST_HDRLEN",
	[60] = "RSS",
	[61] = "RSC_EXT",
	[62] = "STANDBY",
	[63] = "SPEED_DUPLEX",
};

const char *virtio_net_feature_name(unsigned bit)
{
	if (bit >= 64)
		return NULL;
	return feature_names[bit];
}

/* 5.1.3.1: a feature may only be offered or accepted together with at
 * least one of the features in needs_any.  Only the rules among the offload
 * bits a peer link carries are here (the control-queue rules concern bits
 * a peerfeats mask cannot hold). */
static const struct feature_dep {
	unsigned bit;
	uint64_t needs_any;
} offload_deps[] = {
	{ VIRTIO_NET_F_GUEST_TSO4, B(GUEST_CSUM) },
	{ VIRTIO_NET_F_GUEST_TSO6, B(GUEST_CSUM) },
	{ VIRTIO_NET_F_GUEST_UFO, B(GUEST_CSUM) },
	{ VIRTIO_NET_F_GUEST_ECN, B(GUEST_TSO4) | B(GUEST_TSO6) },
	{ VIRTIO_NET_F_HOST_TSO4, B(CSUM) },
	{ VIRTIO_NET_F_HOST_TSO6, B(CSUM) },
	{ VIRTIO_NET_F_HOST_UFO, B(CSUM) },
	{ VIRTIO_NET_F_HOST_ECN, B(HOST_TSO4) | B(HOST_TSO6) },
};

#define N_DEPS (sizeof(offload_deps) / sizeof(offload_deps[0]))

/* A message lists this many stray bits, then counts the rest. */
#define STRAY_BITS_SHOWN 6

/*
 * What the device offers its guest, given the peer driver's features.
 * Frames cross the link unchanged, so one side's transmit offload is the
 * other side's receive offload:
 *
 *   peer driver has    device offers     because
 *   ---------------    -------------     -------
 *   GUEST_CSUM         CSUM              our guest may send partial csums
 *   GUEST_TSO4         HOST_TSO4         our guest may send TSOv4
 *   GUEST_TSO6         HOST_TSO6         our guest may send TSOv6
 *   GUEST_UFO          HOST_UFO          our guest may send UFO
 *   GUEST_ECN          HOST_ECN          our guest may send TSO with ECN
 *   CSUM               GUEST_CSUM        the peer may send partial csums
 *   HOST_TSO4          GUEST_TSO4        the peer may send TSOv4
 *   HOST_TSO6          GUEST_TSO6        the peer may send TSOv6
 *   HOST_UFO           GUEST_UFO         the peer may send UFO
 *   HOST_ECN           GUEST_ECN         the peer may send TSO with ECN
 *   GSO                GSO               legacy "any GSO" (5.1.3.2), both ways
 */
static const struct offer_rule {
	unsigned peer_bit;
	unsigned offer_bit;
} offer_map[] = {
	{ VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_CSUM },
	{ VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_HOST_TSO4 },
	{ VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_HOST_TSO6 },
	{ VIRTIO_NET_F_GUEST_UFO, VIRTIO_NET_F_HOST_UFO },
	{ VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_HOST_ECN },
	{ VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM },
	{ VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_GUEST_TSO4 },
	{ VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_GUEST_TSO6 },
	{ VIRTIO_NET_F_HOST_UFO, VIRTIO_NET_F_GUEST_UFO },
	{ VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_GUEST_ECN },
	{ VIRTIO_NET_F_GSO, VIRTIO_NET_F_GSO },
};

/* Drops every feature whose dependency is missing, until nothing changes:
 * dropping a TSO bit can orphan an ECN bit, so one pass is not enough. */
static uint64_t close_under_deps(uint64_t f)
{
	bool changed;

	do {
		changed = false;
		for (size_t i = 0; i < N_DEPS; i++) {
			const struct feature_dep *d = &offload_deps[i];

			if ((f & VIRTIO_BIT(d->bit)) && !(f & d->needs_any)) {
				f &= ~VIRTIO_BIT(d->bit);
				changed = true;
			}
		}
	} while (changed);
	return f;
}

uint64_t peerfeats_offer(uint64_t peer_mask)
{
	uint64_t offer = 0;

	peer_mask &= VNET_PEERFEATS_MAX;
	for (size_t i = 0; i < sizeof(offer_map) / sizeof(offer_map[0]); i++)
		if (peer_mask & VIRTIO_BIT(offer_map[i].peer_bit))
			offer |= VIRTIO_BIT(offer_map[i].offer_bit);
	return close_under_deps(offer);
}

/* Appends to a fixed buffer, remembering whether anything was cut off, so
 * callers can build a message piece by piece without length arithmetic. */
struct text {
	char *buf;
	size_t len;
	size_t pos;
	bool cut;
};

__attribute__((format(printf, 2, 0)))
static void text_vadd(struct text *t, const char *fmt, va_list ap)
{
	int n;

	if (t->cut || t->len == 0)
		return;
	n = vsnprintf(t->buf + t->pos, t->len - t->pos, fmt, ap);
	if (n < 0 || (size_t)n >= t->len - t->pos) {
		t->cut = true;
		t->pos = t->len - 1;
		return;
	}
	t->pos += (size_t)n;
}

__attribute__((format(printf, 2, 3)))
static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	text_vadd(t, fmt, ap);
	va_end(ap);
}

static void text_add_bit(struct text *t, unsigned bit)
{
	const char *name = virtio_net_feature_name(bit);

	if (name)
		text_add(t, "%s (bit %u)", name, bit);
	else
		text_add(t, "bit %u", bit);
}

static int count_bits(uint64_t f)
{
	return __builtin_popcountll(f);
}

int peerfeats_validate(uint64_t mask, char *err, size_t errlen)
{
	struct text t = { .buf = err, .len = err ? errlen : 0 };
	uint64_t stray = mask & ~VNET_PEERFEATS_MAX;

	if (t.len)
		err[0] = '\0';
	if (stray) {
		int shown = 0, total = count_bits(stray);

		text_add(&t, "peerfeats 0x%llx: %s ", (unsigned long long)mask,
			 total == 1 ? "bit" : "bits");
		for (unsigned b = 0; b < 64 && shown < STRAY_BITS_SHOWN; b++) {
			const char *name = virtio_net_feature_name(b);

			if (!(stray & VIRTIO_BIT(b)))
				continue;
			text_add(&t, "%s%u", shown ? ", " : "", b);
			if (name)
				text_add(&t, " (%s)", name);
			shown++;
		}
		if (shown < total)
			text_add(&t, " and %d more", total - shown);
		text_add(&t, " %s (the offload bits are 0x%llx)",
			 total == 1
				 ? "is not an offload a peer link carries"
				 : "are not offloads a peer link carries",
			 (unsigned long long)VNET_PEERFEATS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < N_DEPS; i++) {
		const struct feature_dep *d = &offload_deps[i];
		bool first = true;

		if (!(mask & VIRTIO_BIT(d->bit)) || (mask & d->needs_any))
			continue;
		text_add(&t, "peerfeats 0x%llx: ", (unsigned long long)mask);
		text_add_bit(&t, d->bit);
		text_add(&t, " needs ");
		for (unsigned b = 0; b < 64; b++) {
			if (!(d->needs_any & VIRTIO_BIT(b)))
				continue;
			if (!first)
				text_add(&t, " or ");
			text_add_bit(&t, b);
			first = false;
		}
		text_add(&t, " (virtio 5.1.3.1)");
		return -EINVAL;
	}
	return 0;
}

int virtio_features_format(uint64_t f, char *buf, size_t len)
{
	struct text t = { .buf = buf, .len = len };
	bool first = true;

	if (!buf || len == 0)
		return -EINVAL;
	buf[0] = '\0';
	if (f == 0)
		text_add(&t, "none");
	for (unsigned b = 0; b < 64; b++) {
		const char *name = virtio_net_feature_name(b);

		if (!(f & VIRTIO_BIT(b)))
			continue;
		if (!first)
			text_add(&t, "|");
		if (name)
			text_add(&t, "%s", name);
		else
			text_add(&t, "bit%u", b);
		first = false;
	}
	if (t.cut) {
		/* Say it was cut rather than show a misleading short list. */
		if (len >= 4)
			memcpy(buf + len - 4, "...", 4);
		return -ENOSPC;
	}
	return (int)t.pos;
}
