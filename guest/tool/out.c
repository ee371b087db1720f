// SPDX-License-Identifier: MIT
/*
 * out.c - vnet-guest's results as "key: value" lines or one JSON object
 * (out.h).
 */
#include <inttypes.h>
#include <stdio.h>

#include "guest/tool/out.h"
#include "guest/virtio_net.h"

void out_begin(struct out *o, bool json)
{
	o->json = json;
	o->first = true;
	if (json)
		fputs("{", stdout);
}

void out_key(struct out *o, const char *key)
{
	if (o->json)
		printf("%s\"%s\": ", o->first ? "" : ", ", key);
	else
		printf("%s: ", key);
	o->first = false;
}

void out_eol(const struct out *o)
{
	if (!o->json)
		putchar('\n');
}

void out_u64(struct out *o, const char *key, uint64_t v)
{
	out_key(o, key);
	printf("%" PRIu64, v);
	out_eol(o);
}

void out_str(struct out *o, const char *key, const char *s)
{
	out_key(o, key);
	/* Our strings never need escaping: names, hex, MACs. */
	printf(o->json ? "\"%s\"" : "%s", s);
	out_eol(o);
}

void out_bool(struct out *o, const char *key, bool v)
{
	out_key(o, key);
	fputs(v ? "true" : "false", stdout);
	out_eol(o);
}

void out_f(struct out *o, const char *key, double v, int prec)
{
	out_key(o, key);
	printf("%.*f", prec, v);
	out_eol(o);
}

void out_end(struct out *o)
{
	if (o->json)
		puts("}");
	fflush(stdout);
}

void out_hex(struct out *o, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
	out_str(o, key, buf);
}

void out_rate(struct out *o, uint64_t frames, uint64_t bytes, double secs)
{
	out_u64(o, "frames", frames);
	out_u64(o, "bytes", bytes);
	out_f(o, "seconds", secs, 6);
	out_f(o, "mframes_per_s", secs > 0 ? (double)frames / secs / 1e6 : 0, 3);
	out_f(o, "gbit_per_s", secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0, 3);
}

/* Doorbells and interrupts: how well notification suppression worked. */
void out_counters(struct out *o, struct vnet_dev *d)
{
	struct vnet_info in;

	vnet_dev_info(d, &in);
	out_u64(o, "kicks_sent", in.stats.kicks_sent);
	out_u64(o, "kicks_suppressed", in.stats.kicks_suppressed);
	out_u64(o, "interrupts", in.stats.irqs_config + in.stats.irqs_rx + in.stats.irqs_tx +
				 in.stats.irqs_line);
	out_u64(o, "rx_errors", in.stats.rx_errors);
	if (in.stats.resets) {
		out_u64(o, "resets", in.stats.resets);
		out_u64(o, "tx_lost_reset", in.stats.tx_lost_reset);
		out_u64(o, "rx_lost_reset", in.stats.rx_lost_reset);
	}
}
