/* SPDX-License-Identifier: MIT */
/*
 * tun.h - a Linux TAP interface as a virtio-net endpoint (docs/ARCHITECTURE.md "Real
 * peers"): the host's TAP vdev (host/tap/tap_vdev.c) and the guest's TAP
 * bridge (guest/tool/tap_bridge.c) both open one here.
 *
 * The TAP is opened with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR and a 12-byte
 * header (TUNSETVNETHDRSZ), little-endian (TUNSETVNETLE): every frame read
 * or written is a struct virtio_net_hdr_v1 followed by the Ethernet frame,
 * the same record a peer link carries, so frames cross between the two
 * without conversion.  (The kernel writes only the first 10 bytes of the
 * header; num_buffers is ours to clear.)
 *
 * TUNSETOFFLOAD states which offloads the kernel may use on the frames it
 * hands *us*; it accepts every offload on frames we write.  So the mask
 * follows whoever receives what we read: see tun_offloads_for_*.
 */
#ifndef VNET_TUN_H
#define VNET_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/virtio.h"

#define TUN_HDR_LEN ((uint32_t)sizeof(struct virtio_net_hdr_v1))

/* Creates the TAP ifname (or attaches to a persistent one of that name)
 * and returns its fd: non-blocking, close-on-exec, carrier off, offloads
 * off.  -errno with err filled ("vnet0: TUNSETIFF: Device or resource
 * busy (another process has it open)"). */
int tun_open_tap(const char *ifname, char *err, size_t errlen);

/* TUN_F_* for a TAP whose frames go to a receiver whose driver has the
 * features f: GUEST_CSUM -> TUN_F_CSUM, GUEST_TSO4/6 -> TSO4/6, GUEST_ECN
 * -> TSO_ECN, GUEST_UFO -> UFO (host TAP vdev: the peer's features). */
unsigned tun_offloads_for_receiver(uint64_t f);
/* TUN_F_* for a TAP whose frames a driver with features f transmits on
 * its device: CSUM -> TUN_F_CSUM, HOST_TSO4/6 -> TSO4/6, HOST_ECN ->
 * TSO_ECN, HOST_UFO -> UFO (guest TAP bridge: the negotiated features). */
unsigned tun_offloads_for_sender(uint64_t f);
/* TUNSETOFFLOAD.  Returns 0 or -errno. */
int tun_set_offload(int fd, unsigned flags);
/* The interface's carrier (TUNSETCARRIER, Linux 5.0+): 0, or -ENOTTY /
 * -EINVAL when the kernel lacks it (the caller then sets the link down). */
int tun_set_carrier(int fd, bool on);
/* TUNSETPERSIST: the interface outlives its last fd (on), or goes with
 * it (off).  0 or -errno. */
int tun_set_persist(int fd, bool on);
/* "CSUM|TSO4|..." or "none" into buf. */
const char *tun_offloads_format(unsigned flags, char *buf, size_t len);

/* A frame about to be written to the TAP: header h (a private copy) and
 * flen bytes of Ethernet frame.  Normalises what a TAP must not see
 * (num_buffers cleared; DATA_VALID kept only when data_valid_ok: a
 * device's receive path may vouch for a checksum, a transmitting driver
 * may not, 5.1.6.2), then applies the header rule (net_hdr_check,
 * common/net_hdr.h) and the frame-size bounds, so the kernel never has to
 * judge a bad header.  True when h may be written, else false with why
 * filled. */
bool tun_hdr_sanitize(struct virtio_net_hdr_v1 *h, uint32_t flen, bool data_valid_ok,
		      char *why, size_t whylen);

#endif /* VNET_TUN_H */
