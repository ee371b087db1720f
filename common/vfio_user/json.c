// SPDX-License-Identifier: MIT
/*
 * json.c - the VERSION message's capabilities object (vfio-user.rst
 * "VFIO_USER_VERSION"), read and written with json-c.
 *
 * The text comes from the other side and is not trusted: it is bounded
 * (VFIO_USER_JSON_MAX), its nesting is bounded (JSON_MAX_DEPTH, json-c's
 * tokener refuses deeper text), json-c parses it in strict mode, and the
 * few keys we use must have the right type and range; every other key is
 * skipped.  json-c's strict mode still takes a few things RFC 8259 does
 * not (raw control characters in strings, "1.", NaN and Infinity);
 * rfc8259_extra() refuses those first.
 */
#include "common/vfio_user/codec.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#define JSON_MAX_DEPTH 8

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* What json-c's strict mode lets through and RFC 8259 does not; NULL when
 * none of it is in the text. */
static const char *rfc8259_extra(const char *s, size_t n)
{
	static const char *const words[] = { "true", "false", "null" };
	bool in_string = false;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool word_ok = false;

		if (in_string) {
			if ((unsigned char)c < 0x20)
				return "control character in a string";
			if (c == '\\')
				i++;	/* json-c judges the escape itself */
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '.' && (i + 1 == n || !is_digit(s[i + 1]))) {
			return "bad number fraction";
		} else if (is_alpha(c) && (i == 0 || (!is_digit(s[i - 1]) && !is_alpha(s[i - 1])))) {
			/* a bare word (an exponent's e follows a digit) */
			for (size_t k = 0; k < 3 && !word_ok; k++) {
				size_t wl = strlen(words[k]);

				word_ok = n - i >= wl && memcmp(s + i, words[k], wl) == 0 &&
					  (n - i == wl || !is_alpha(s[i + wl]));
			}
			if (!word_ok)
				return "bad literal";
		}
	}
	return NULL;
}

/* A plain non-negative integer of at most max.  json-c saturates
 * integers beyond 64 bits at UINT64_MAX, so that value is refused too:
 * it cannot be told from an overflow. */
static const char *get_uint(json_object *v, uint64_t max, uint64_t *out)
{
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return "capability value is not an integer in range";
	*out = json_object_get_uint64(v);
	if (*out > max || *out == UINT64_MAX)
		return "capability value is not an integer in range";
	return NULL;
}

static const char *get_u32(json_object *v, uint32_t *out)
{
	uint64_t x;
	const char *why = get_uint(v, UINT32_MAX, &x);

	if (!why)
		*out = (uint32_t)x;
	return why;
}

static const char *get_bool(json_object *v, bool *out)
{
	if (!json_object_is_type(v, json_type_boolean))
		return "expected true or false";
	*out = json_object_get_boolean(v);
	return NULL;
}

static const char *twin_socket(json_object *o, struct vfio_user_caps *c)
{
	const char *why = NULL;

	if (!json_object_is_type(o, json_type_object))
		return "twin_socket is not an object";
	json_object_object_foreach(o, key, v) {
		if (strcmp(key, "supported") == 0) {
			why = get_bool(v, &c->twin_socket);
		} else if (strcmp(key, "fd_index") == 0) {
			c->has_twin_fd_index = true;
			why = get_u32(v, &c->twin_fd_index);
		}
		if (why)
			return why;
	}
	return NULL;
}

static const char *capabilities(json_object *o, struct vfio_user_caps *c)
{
	const char *why = NULL;
	uint64_t pgsizes;

	if (!json_object_is_type(o, json_type_object))
		return "capabilities is not an object";
	json_object_object_foreach(o, key, v) {
		if (strcmp(key, "max_msg_fds") == 0) {
			why = get_u32(v, &c->max_msg_fds);
		} else if (strcmp(key, "max_data_xfer_size") == 0) {
			why = get_u32(v, &c->max_data_xfer_size);
		} else if (strcmp(key, "max_dma_maps") == 0) {
			why = get_u32(v, &c->max_dma_maps);
		} else if (strcmp(key, "pgsizes") == 0) {
			why = get_uint(v, UINT64_MAX, &pgsizes);
			if (!why)
				c->pgsizes = pgsizes;
		} else if (strcmp(key, "write_multiple") == 0) {
			why = get_bool(v, &c->write_multiple);
		} else if (strcmp(key, "twin_socket") == 0) {
			why = twin_socket(v, c);
		}
		/* "migration" and anything newer: not ours to interpret. */
		if (why)
			return why;
	}
	return NULL;
}

void vfio_user_caps_default(struct vfio_user_caps *c)
{
	memset(c, 0, sizeof(*c));
	c->max_msg_fds = VFIO_USER_DEFAULT_MAX_FDS;
	c->max_data_xfer_size = VFIO_USER_DEFAULT_MAX_XFER;
	c->max_dma_maps = VFIO_USER_DEFAULT_MAX_DMA_MAPS;
	c->pgsizes = VFIO_USER_DEFAULT_PGSIZES;
}

/* Parses the whole text into *root; the reason when it is not JSON. */
static const char *parse_text(const char *json, size_t len, json_object **root)
{
	struct json_tokener *tok;
	enum json_tokener_error e;
	const char *why;

	*root = NULL;
	if (len > VFIO_USER_JSON_MAX)
		return "capabilities text too long";
	why = rfc8259_extra(json, len);
	if (why)
		return why;
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok)
		return "out of memory";
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	*root = json_tokener_parse_ex(tok, json, (int)len);
	e = json_tokener_get_error(tok);
	if (!*root)
		why = e == json_tokener_continue ? "unterminated JSON text" :
		      e == json_tokener_success ? "not a JSON object" : json_tokener_error_desc(e);
	else if (json_tokener_get_parse_end(tok) != len)
		why = "text after the JSON object";
	else if (!json_object_is_type(*root, json_type_object))
		why = "expected an object";
	json_tokener_free(tok);
	return why;
}

int vfio_user_caps_parse(const char *json, size_t len,
			 struct vfio_user_caps *c, const char **why)
{
	json_object *root, *caps;
	const char *w = parse_text(json, len, &root);

	if (!w && json_object_object_get_ex(root, "capabilities", &caps))
		w = capabilities(caps, c);
	json_object_put(root);
	if (why)
		*why = w;
	return w ? -EINVAL : 0;
}

int vfio_user_caps_format(const struct vfio_user_caps *c, char *buf,
			  size_t size)
{
	json_object *root = json_object_new_object(), *caps = json_object_new_object();
	const char *text;
	int n = -ENOMEM;

	if (root && caps) {
		json_object_object_add(caps, "max_msg_fds", json_object_new_int64(c->max_msg_fds));
		json_object_object_add(caps, "max_data_xfer_size",
				       json_object_new_int64(c->max_data_xfer_size));
		json_object_object_add(caps, "max_dma_maps", json_object_new_int64(c->max_dma_maps));
		json_object_object_add(caps, "pgsizes", json_object_new_uint64(c->pgsizes));
		json_object_object_add(root, "capabilities", caps);
		caps = NULL;
		text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
		n = text ? (int)strlen(text) : -ENOMEM;
		if (n >= 0 && (size_t)n >= size)
			n = -ENOSPC;
		else if (n >= 0)
			memcpy(buf, text, (size_t)n + 1);
	}
	json_object_put(caps);
	json_object_put(root);
	return n;
}
