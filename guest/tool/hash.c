// SPDX-License-Identifier: MIT
/*
 * hash.c - vnet-guest's RSS and hash-report configuration (--rss-table,
 * --hash-report, --hash-types) and recv's check of every reported hash.
 *
 * The tool sets the configuration itself, so it knows exactly what the
 * device hashes with: the reported hash of each received frame (HASH_REPORT,
 * 5.1.6.4.4; vnet_rx_hash) is compared with the library's own hash of the
 * frame under that configuration (vnet_rss_hash).  A user checks a device
 * the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/rss.h"
#include "guest/tool/out.h"
#include "guest/tool/tool.h"

/* VIRTIO_NET_HASH_REPORT_* by value, as the output names them. */
static const char *const report_names[HASH_REPORT_TYPES] = {
	"none", "ipv4", "tcpv4", "udpv4", "ipv6", "tcpv6", "udpv6",
};

static_assert(HASH_REPORT_TYPES == VIRTIO_NET_HASH_REPORT_UDPv6 + 1,
	      "a count per report type the library hands out");

int hash_types_parse(const char *s, uint32_t *types)
{
	/* The hash type bits, 5.1.6.4.3.1: IPv4, TCPv4, UDPv4, IPv6, TCPv6,
	 * UDPv6 are 1 << (report - 1). */
	char buf[16];

	*types = 0;
	if (strcmp(s, "none") == 0)
		return 0;
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		unsigned r;

		if (n == 0 || n >= sizeof(buf))
			return -1;
		memcpy(buf, s, n);
		buf[n] = '\0';
		for (r = 1; r < HASH_REPORT_TYPES; r++)
			if (strcmp(buf, report_names[r]) == 0)
				break;
		if (r == HASH_REPORT_TYPES)
			return -1;
		*types |= 1u << (r - 1);
		s += n + (comma ? 1 : 0);
		if (comma && !*s)
			return -1;
	}
	return 0;
}

int hash_configure(struct cli *c, struct vnet_dev *d)
{
	struct vnet_rss *r = &c->rss;
	struct vnet_info info;
	int rc;

	if (!c->rss_table_len && !c->dp.want_hash_report)
		return EXIT_OK;
	vnet_dev_info(d, &info);
	if (c->dp.want_hash_report && !info.hash_report) {
		fprintf(stderr, "vnet-guest: --hash-report: the device does not offer VIRTIO_NET_F_HASH_REPORT\n");
		return EXIT_SETUP;
	}
	memset(r, 0, sizeof(*r));
	r->hash_types = c->hash_types_given ? c->hash_types : RSS_HASH_TYPES_SUPPORTED;
	r->key_len = RSS_KEY_MAX;
	memcpy(r->key, rss_default_key, RSS_KEY_MAX);
	if (c->rss_table_len) {
		r->table_len = (uint16_t)c->rss_table_len;
		memcpy(r->table, c->rss_table, c->rss_table_len * sizeof(r->table[0]));
		r->unclassified = c->rss_table[0];
	} else {
		/* The pairs in turn, over the library's default table size
		 * (1 without RSS: HASH_CONFIG has no table). */
		r->table_len = info.rss ? info.rss_table_len : 1;
		for (unsigned i = 0; i < r->table_len; i++)
			r->table[i] = (uint16_t)(i % info.queue_pairs);
	}
	rc = vnet_ctrl_rss(d, r);
	if (rc < 0) {
		fprintf(stderr, "vnet-guest: cannot set the %s: %s%s\n",
			c->rss_table_len ? "RSS table" : "hash configuration", strerror(-rc),
			rc == -ENOTSUP ? " (RSS needs --queues above 1 and a device that offers it)"
				       : "");
		return EXIT_SETUP;
	}
	return EXIT_OK;
}

void hash_tally_frame(struct hash_tally *t, const struct cli *c, const struct vnet_dev *d,
		      const struct vnet_frame *f)
{
	uint32_t got = 0, want = 0;
	int rg = vnet_rx_hash(d, f, &got);
	int rw = vnet_rss_hash(&c->rss, f->data, f->len, &want);

	t->frames++;
	if (rg >= 0 && rg < HASH_REPORT_TYPES)
		t->per_type[rg]++;
	if (rg == rw && got == want)
		return;
	t->mismatches++;
	/* Printed, a few: enough to see the pattern of a wrong hash. */
	if (t->mismatches <= 8)
		fprintf(stderr,
			"vnet-guest: recv: frame %llu (%u bytes): the device reported hash 0x%08x type %s, the library computes 0x%08x type %s\n",
			(unsigned long long)t->frames, f->len, got,
			rg >= 0 && rg < HASH_REPORT_TYPES ? report_names[rg] : "(error)", want,
			rw >= 0 && rw < HASH_REPORT_TYPES ? report_names[rw] : "(error)");
}

void hash_tally_out(const struct hash_tally *t, struct out *o)
{
	char key[24];

	for (unsigned r = 0; r < HASH_REPORT_TYPES; r++) {
		snprintf(key, sizeof(key), "hash_%s", report_names[r]);
		out_u64(o, key, t->per_type[r]);
	}
	out_u64(o, "hash_mismatches", t->mismatches);
}
