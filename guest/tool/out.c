// SPDX-License-Identifier: MIT
/*
 * out.c - vnet-guest's results as "key: value" lines or one JSON object
 * built with json-c (out.h).
 */
#include <inttypes.h>
#include <stdio.h>

#include "common/jsonout.h"
#include "guest/tool/out.h"
#include "guest/virtio_net.h"

void out_begin(struct out *o, bool json)
{
	o->json = json;
	o->root = json ? json_object_new_object() : NULL;
}

void out_key(struct out *o, const char *key)
{
	if (!o->json)
		printf("%s: ", key);
}

void out_eol(const struct out *o)
{
	if (!o->json)
		putchar('\n');
}

void out_json(struct out *o, const char *key, json_object *v)
{
	if (o->root)
		json_object_object_add(o->root, key, v);
	else
		json_object_put(v);
}

void out_u64(struct out *o, const char *key, uint64_t v)
{
	if (o->json)
		out_json(o, key, json_object_new_uint64(v));
	else
		printf("%s: %" PRIu64 "\n", key, v);
}

void out_str(struct out *o, const char *key, const char *s)
{
	if (o->json)
		out_json(o, key, json_object_new_string(s));
	else
		printf("%s: %s\n", key, s);
}

void out_bool(struct out *o, const char *key, bool v)
{
	if (o->json)
		out_json(o, key, json_object_new_boolean(v));
	else
		printf("%s: %s\n", key, v ? "true" : "false");
}

void out_f(struct out *o, const char *key, double v, int prec)
{
	if (o->json)
		out_json(o, key, jsonout_double(v, prec));
	else
		printf("%s: %.*f\n", key, prec, v);
}

void out_end(struct out *o)
{
	if (o->root) {
		puts(json_object_to_json_string_ext(o->root, JSONOUT_SPACED));
		json_object_put(o->root);
		o->root = NULL;
	}
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
