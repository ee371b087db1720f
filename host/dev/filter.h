/* SPDX-License-Identifier: MIT */
/*
 * filter.h - the receive filter a driver programs through the control
 * virtqueue (virtio 1.2, 5.1.6.5.1 RX modes, 5.1.6.5.2 MAC table): which
 * destination addresses the device delivers to its guest.
 */
#ifndef VNET_HOST_NET_FILTER_H
#define VNET_HOST_NET_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#define NET_FILTER_MAX_MACS 64	/* per table; more means "accept that class" */

struct net_filter {
	bool promisc;
	bool allmulti;
	bool alluni;
	bool nomulti;
	bool nouni;
	bool nobcast;
	bool uni_overflow;	/* table was too long: accept all unicast */
	bool multi_overflow;	/* ... all multicast */
	unsigned n_uni;
	unsigned n_multi;
	uint8_t uni[NET_FILTER_MAX_MACS][6];
	uint8_t multi[NET_FILTER_MAX_MACS][6];
};

/* Device reset state: promiscuous (as QEMU does, so a driver that never
 * programs the filter still receives), nothing else. */
void net_filter_reset(struct net_filter *f);
/* The rules after promiscuous mode (net_filter_accept). */
bool net_filter_accept_addr(const struct net_filter *f, const uint8_t mac[6],
			    const uint8_t dst[6]);
/* Should a frame with destination dst reach a guest whose MAC is mac?
 * Inline for promiscuous mode, the reset state: every received frame
 * asks. */
static inline bool net_filter_accept(const struct net_filter *f, const uint8_t mac[6],
				     const uint8_t dst[6])
{
	return f->promisc || net_filter_accept_addr(f, mac, dst);
}

#endif /* VNET_HOST_NET_FILTER_H */
