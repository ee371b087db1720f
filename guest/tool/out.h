/* SPDX-License-Identifier: MIT */
/*
 * out.h - vnet-guest's results: "key: value" lines, or with --json one
 * JSON object on one line (built with json-c, printed by out_end), built
 * key by key by the same calls.
 */
#ifndef VNET_GUEST_TOOL_OUT_H
#define VNET_GUEST_TOOL_OUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

struct vnet_dev;

struct out {
	bool json;
	json_object *root;	/* with json: the object out_end prints */
};

void out_begin(struct out *o, bool json);
/* Text only: starts a line with "key: " (out_eol ends it). */
void out_key(struct out *o, const char *key);
void out_eol(const struct out *o);
/* JSON only: adds key with value v (which the object owns from now on;
 * NULL is JSON's null). */
void out_json(struct out *o, const char *key, json_object *v);
void out_u64(struct out *o, const char *key, uint64_t v);
void out_str(struct out *o, const char *key, const char *s);
void out_bool(struct out *o, const char *key, bool v);
void out_f(struct out *o, const char *key, double v, int prec);
void out_hex(struct out *o, const char *key, uint64_t v);
void out_end(struct out *o);

/* frames, bytes, seconds and the rates (send, recv). */
void out_rate(struct out *o, uint64_t frames, uint64_t bytes, double secs);
/* Doorbells and interrupts: how well notification suppression worked. */
void out_counters(struct out *o, struct vnet_dev *d);

#endif /* VNET_GUEST_TOOL_OUT_H */
