// SPDX-License-Identifier: MIT
/*
 * tun.c - TAP interfaces with virtio-net headers (see tun.h).
 *
 * The offload mapping, in one place because it is easy to get backwards.
 * TUNSETOFFLOAD tells the kernel what *we* accept in frames it gives us
 * (drivers/net/tun.c set_offload(): TUN_F_CSUM enables NETIF_F_HW_CSUM,
 * TSO4/TSO6/TSO_ECN enable NETIF_F_TSO/TSO6/TSO_ECN and need CSUM, UFO
 * needs CSUM).  Whatever we read goes on unchanged to someone else:
 *
 *   reader of our frames           may take            so we set
 *   --------------------           ---------           ---------
 *   a peer link's far guest        GUEST_CSUM          TUN_F_CSUM
 *   (host TAP vdev: its driver's   GUEST_TSO4/6        TUN_F_TSO4/6
 *    receive features)             GUEST_ECN           TUN_F_TSO_ECN
 *                                  GUEST_UFO           TUN_F_UFO
 *   our own device's transmitq     CSUM                TUN_F_CSUM
 *   (guest TAP bridge: what the    HOST_TSO4/6         TUN_F_TSO4/6
 *    driver may send, 5.1.6.2)     HOST_ECN            TUN_F_TSO_ECN
 *                                  HOST_UFO            TUN_F_UFO
 *
 * Each flag is set only with its prerequisites (TSO and UFO need CSUM,
 * ECN needs TSO), as the kernel refuses anything else with EINVAL.  Since
 * Linux 4.14 the kernel never builds UFO frames, so TUN_F_UFO is accepted
 * and has no effect; frames we write with GSO_UDP are still taken.
 */
#include "common/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/net_hdr.h"


static unsigned offloads(bool csum, bool tso4, bool tso6, bool ecn, bool ufo)
{
	unsigned t = 0;

	if (!csum)
		return 0;
	t |= TUN_F_CSUM;
	if (tso4)
		t |= TUN_F_TSO4;
	if (tso6)
		t |= TUN_F_TSO6;
	if (ecn && (tso4 || tso6))
		t |= TUN_F_TSO_ECN;
	if (ufo)
		t |= TUN_F_UFO;
	return t;
}

unsigned tun_offloads_for_receiver(uint64_t f)
{
	return offloads(f & VIRTIO_NET_F(GUEST_CSUM), f & VIRTIO_NET_F(GUEST_TSO4), f & VIRTIO_NET_F(GUEST_TSO6),
			f & VIRTIO_NET_F(GUEST_ECN), f & VIRTIO_NET_F(GUEST_UFO));
}

unsigned tun_offloads_for_sender(uint64_t f)
{
	return offloads(f & VIRTIO_NET_F(CSUM), f & VIRTIO_NET_F(HOST_TSO4), f & VIRTIO_NET_F(HOST_TSO6),
			f & VIRTIO_NET_F(HOST_ECN), f & VIRTIO_NET_F(HOST_UFO));
}

int tun_set_offload(int fd, unsigned flags)
{
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags) < 0 ? -errno : 0;
}

int tun_set_carrier(int fd, bool on)
{
	int v = on;

	return ioctl(fd, TUNSETCARRIER, &v) < 0 ? -errno : 0;
}

const char *tun_offloads_format(unsigned flags, char *buf, size_t len)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ TUN_F_CSUM, "CSUM" }, { TUN_F_TSO4, "TSO4" }, { TUN_F_TSO6, "TSO6" },
		{ TUN_F_TSO_ECN, "TSO_ECN" }, { TUN_F_UFO, "UFO" },
	};
	size_t o = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if (!(flags & names[i].bit))
			continue;
		n = snprintf(buf + o, len - o, "%s%s", o ? "|" : "", names[i].name);
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
	if (!o)
		snprintf(buf, len, "none");
	return buf;
}

int tun_open_tap(const char *ifname, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd, rc, hdr = (int)TUN_HDR_LEN, le = 1;

	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ) {
		snprintf(err, errlen, "'%.*s': not a valid interface name", IFNAMSIZ,
			 ifname ? ifname : "");
		return -EINVAL;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open /dev/net/tun: %s%s", ifname, strerror(-rc),
			 rc == -EPERM || rc == -EACCES ? " (needs CAP_NET_ADMIN)" : "");
		return rc;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: TUNSETIFF: %s%s", ifname, strerror(-rc),
			 rc == -EBUSY ? " (another process has this TAP open)"
			 : rc == -EINVAL ? " (an interface of that name exists and is not a TAP with a virtio-net header)"
			 : rc == -EPERM ? " (needs CAP_NET_ADMIN, or the TAP's owner)" : "");
		goto fail;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: TUNSETVNETHDRSZ %d: %s", ifname, hdr, strerror(-rc));
		goto fail;
	}
	/* virtio 1.x headers are little-endian; on a little-endian CPU the
	 * kernel may lack the ioctl (no CONFIG_TUN_VNET_CROSS_LE), which is
	 * fine: native order is then the right one. */
	if (ioctl(fd, TUNSETVNETLE, &le) < 0 && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__) {
		rc = -errno;
		snprintf(err, errlen, "%s: TUNSETVNETLE: %s", ifname, strerror(-rc));
		goto fail;
	}
	rc = tun_set_offload(fd, 0);
	if (rc < 0) {
		snprintf(err, errlen, "%s: TUNSETOFFLOAD: %s", ifname, strerror(-rc));
		goto fail;
	}
	/* No carrier until there is someone to talk to.  Old kernels lack
	 * the ioctl; callers then fall back to the link's IFF_UP. */
	(void)tun_set_carrier(fd, false);
	return fd;
fail:
	close(fd);
	return rc;
}

bool tun_hdr_sanitize(struct virtio_net_hdr_v1 *h, uint32_t flen, bool data_valid_ok,
		      char *why, size_t whylen)
{
	h->num_buffers = 0;
	if (!data_valid_ok)
		h->flags &= (uint8_t)~VIRTIO_NET_HDR_F_DATA_VALID;
	if (flen < VNET_ETH_HLEN || flen > VNET_MAX_GSO_FRAME) {
		snprintf(why, whylen, "frame of %u bytes", flen);
		return false;
	}
	return net_hdr_check(h, flen, why, whylen) == 0;
}

int tun_set_persist(int fd, bool on)
{
	return ioctl(fd, TUNSETPERSIST, on ? 1 : 0) < 0 ? -errno : 0;
}
