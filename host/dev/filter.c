// SPDX-License-Identifier: MIT
#include "host/dev/filter.h"

#include <string.h>

void net_filter_reset(struct net_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->promisc = true;
}

static bool in_table(const uint8_t (*t)[6], unsigned n, const uint8_t dst[6])
{
	for (unsigned i = 0; i < n; i++)
		if (!memcmp(t[i], dst, 6))
			return true;
	return false;
}

static bool is_broadcast(const uint8_t d[6])
{
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	return !memcmp(d, bc, 6);
}

bool net_filter_accept_addr(const struct net_filter *f, const uint8_t mac[6],
			    const uint8_t dst[6])
{
	if (is_broadcast(dst))
		return !f->nobcast;
	if (dst[0] & 1) {		/* group address */
		if (f->nomulti)
			return false;
		return f->allmulti || f->multi_overflow ||
		       in_table(f->multi, f->n_multi, dst);
	}
	if (f->nouni)
		return false;
	return f->alluni || f->uni_overflow || !memcmp(dst, mac, 6) ||
	       in_table(f->uni, f->n_uni, dst);
}
