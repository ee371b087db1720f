// SPDX-License-Identifier: MIT
/*
 * json.c - the VERSION message's capabilities object (vfio-user.rst
 * "VFIO_USER_VERSION"): a small strict JSON reader that knows the few keys
 * we use and skips the rest, and the writer for our own capabilities.
 *
 * The reader follows RFC 8259's grammar but is deliberately limited: the
 * text is bounded (VFIO_USER_JSON_MAX), nesting is bounded (JSON_MAX_DEPTH)
 * so a hostile peer cannot recurse us off the stack, and keys are compared
 * byte for byte (a key written with \u escapes counts as unknown).
 */
#include "common/vfio_user/codec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define JSON_MAX_DEPTH 8

struct json {
	const char *p;
	const char *end;
	unsigned depth;
	const char *why;
};

static int json_fail(struct json *j, const char *why)
{
	if (!j->why)
		j->why = why;
	return -EINVAL;
}

static void skip_ws(struct json *j)
{
	while (j->p < j->end &&
	       (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* Consumes c (after whitespace) if it is next. */
static bool take(struct json *j, char c)
{
	skip_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	return false;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* A string; [*s, *s + *n) is its raw text between the quotes. */
static int parse_string(struct json *j, const char **s, size_t *n)
{
	if (!take(j, '"'))
		return json_fail(j, "expected a string");
	*s = j->p;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p;

		if (c == '"') {
			*n = (size_t)(j->p - *s);
			j->p++;
			return 0;
		}
		if (c < 0x20)
			return json_fail(j, "control character in a string");
		if (c == '\\') {
			if (j->end - j->p < 2)
				break;
			j->p++;
			switch (*j->p) {
			case '"': case '\\': case '/': case 'b':
			case 'f': case 'n': case 'r': case 't':
				j->p++;
				break;
			case 'u':
				if (j->end - j->p < 5 || !is_hex(j->p[1]) ||
				    !is_hex(j->p[2]) || !is_hex(j->p[3]) ||
				    !is_hex(j->p[4]))
					return json_fail(j, "bad \\u escape");
				j->p += 5;
				break;
			default:
				return json_fail(j, "bad escape in a string");
			}
			continue;
		}
		j->p++;
	}
	return json_fail(j, "unterminated string");
}

/*
 * A number per the JSON grammar.  *is_uint is set when it is a plain
 * non-negative integer that fits 64 bits; its value is then in *val.
 */
static int parse_number(struct json *j, bool *is_uint, uint64_t *val)
{
	bool overflow = false, neg = false, frac = false;
	uint64_t v = 0;

	skip_ws(j);
	if (j->p < j->end && *j->p == '-') {
		neg = true;
		j->p++;
	}
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return json_fail(j, "bad number");
	if (*j->p == '0') {
		j->p++;
	} else {
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
			unsigned d = (unsigned)(*j->p - '0');

			if (v > (UINT64_MAX - d) / 10)
				overflow = true;
			else
				v = v * 10 + d;
			j->p++;
		}
	}
	if (j->p < j->end && *j->p == '.') {
		frac = true;
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return json_fail(j, "bad number fraction");
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		frac = true;
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return json_fail(j, "bad number exponent");
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	*is_uint = !neg && !frac && !overflow;
	*val = v;
	return 0;
}

static int parse_literal(struct json *j, const char *word)
{
	size_t n = strlen(word);

	skip_ws(j);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return json_fail(j, "bad literal");
	j->p += n;
	return 0;
}

static int parse_bool(struct json *j, bool *out)
{
	skip_ws(j);
	if (j->p < j->end && *j->p == 't') {
		*out = true;
		return parse_literal(j, "true");
	}
	if (j->p < j->end && *j->p == 'f') {
		*out = false;
		return parse_literal(j, "false");
	}
	return json_fail(j, "expected true or false");
}

typedef int (*member_fn)(struct json *j, const char *key, size_t klen,
			 void *ctx);

static int skip_value(struct json *j);

/* An object; member() is called after each "key": and must consume the
 * value. */
static int parse_object(struct json *j, member_fn member, void *ctx)
{
	int rc;

	if (!take(j, '{'))
		return json_fail(j, "expected an object");
	if (++j->depth > JSON_MAX_DEPTH)
		return json_fail(j, "nested too deeply");
	if (take(j, '}')) {
		j->depth--;
		return 0;
	}
	for (;;) {
		const char *key;
		size_t klen;

		rc = parse_string(j, &key, &klen);
		if (rc)
			return rc;
		if (!take(j, ':'))
			return json_fail(j, "expected ':' after a key");
		rc = member(j, key, klen, ctx);
		if (rc)
			return rc;
		if (take(j, ','))
			continue;
		if (take(j, '}'))
			break;
		return json_fail(j, "expected ',' or '}' in an object");
	}
	j->depth--;
	return 0;
}

static int skip_member(struct json *j, const char *key, size_t klen, void *ctx)
{
	(void)key;
	(void)klen;
	(void)ctx;
	return skip_value(j);
}

static int skip_array(struct json *j)
{
	int rc;

	if (!take(j, '['))
		return json_fail(j, "expected an array");
	if (++j->depth > JSON_MAX_DEPTH)
		return json_fail(j, "nested too deeply");
	if (take(j, ']')) {
		j->depth--;
		return 0;
	}
	for (;;) {
		rc = skip_value(j);
		if (rc)
			return rc;
		if (take(j, ','))
			continue;
		if (take(j, ']'))
			break;
		return json_fail(j, "expected ',' or ']' in an array");
	}
	j->depth--;
	return 0;
}

static int skip_value(struct json *j)
{
	const char *s;
	size_t n;
	bool b;
	uint64_t v;

	skip_ws(j);
	if (j->p >= j->end)
		return json_fail(j, "value missing");
	switch (*j->p) {
	case '{':
		return parse_object(j, skip_member, NULL);
	case '[':
		return skip_array(j);
	case '"':
		return parse_string(j, &s, &n);
	case 't':
	case 'f':
		return parse_bool(j, &b);
	case 'n':
		return parse_literal(j, "null");
	default:
		return parse_number(j, &b, &v);
	}
}

static bool key_is(const char *key, size_t klen, const char *name)
{
	return strlen(name) == klen && memcmp(key, name, klen) == 0;
}

static int parse_uint(struct json *j, uint64_t max, uint64_t *out)
{
	bool is_uint;
	int rc = parse_number(j, &is_uint, out);

	if (rc)
		return rc;
	if (!is_uint || *out > max)
		return json_fail(j, "capability value is not an integer in range");
	return 0;
}

static int parse_u32(struct json *j, uint32_t *out)
{
	uint64_t v;
	int rc = parse_uint(j, UINT32_MAX, &v);

	if (!rc)
		*out = (uint32_t)v;
	return rc;
}

static int twin_member(struct json *j, const char *key, size_t klen, void *ctx)
{
	struct vfio_user_caps *c = ctx;

	if (key_is(key, klen, "supported"))
		return parse_bool(j, &c->twin_socket);
	if (key_is(key, klen, "fd_index")) {
		c->has_twin_fd_index = true;
		return parse_u32(j, &c->twin_fd_index);
	}
	return skip_value(j);
}

static int caps_member(struct json *j, const char *key, size_t klen, void *ctx)
{
	struct vfio_user_caps *c = ctx;

	if (key_is(key, klen, "max_msg_fds"))
		return parse_u32(j, &c->max_msg_fds);
	if (key_is(key, klen, "max_data_xfer_size"))
		return parse_u32(j, &c->max_data_xfer_size);
	if (key_is(key, klen, "max_dma_maps"))
		return parse_u32(j, &c->max_dma_maps);
	if (key_is(key, klen, "pgsizes"))
		return parse_uint(j, UINT64_MAX, &c->pgsizes);
	if (key_is(key, klen, "write_multiple"))
		return parse_bool(j, &c->write_multiple);
	if (key_is(key, klen, "twin_socket"))
		return parse_object(j, twin_member, c);
	/* "migration" and anything newer: not ours to interpret. */
	return skip_value(j);
}

static int top_member(struct json *j, const char *key, size_t klen, void *ctx)
{
	if (key_is(key, klen, "capabilities"))
		return parse_object(j, caps_member, ctx);
	return skip_value(j);
}

void vfio_user_caps_default(struct vfio_user_caps *c)
{
	memset(c, 0, sizeof(*c));
	c->max_msg_fds = VFIO_USER_DEFAULT_MAX_FDS;
	c->max_data_xfer_size = VFIO_USER_DEFAULT_MAX_XFER;
	c->max_dma_maps = VFIO_USER_DEFAULT_MAX_DMA_MAPS;
	c->pgsizes = VFIO_USER_DEFAULT_PGSIZES;
}

int vfio_user_caps_parse(const char *json, size_t len,
			 struct vfio_user_caps *c, const char **why)
{
	struct json j = { .p = json, .end = json + len };
	int rc;

	if (len > VFIO_USER_JSON_MAX) {
		rc = json_fail(&j, "capabilities text too long");
	} else {
		rc = parse_object(&j, top_member, c);
		skip_ws(&j);
		if (!rc && j.p != j.end)
			rc = json_fail(&j, "text after the JSON object");
	}
	if (why)
		*why = rc ? j.why : NULL;
	return rc;
}

int vfio_user_caps_format(const struct vfio_user_caps *c, char *buf,
			  size_t size)
{
	int n = snprintf(buf, size,
			 "{\"capabilities\":{\"max_msg_fds\":%" PRIu32
			 ",\"max_data_xfer_size\":%" PRIu32
			 ",\"max_dma_maps\":%" PRIu32 ",\"pgsizes\":%" PRIu64 "}}",
			 c->max_msg_fds, c->max_data_xfer_size,
			 c->max_dma_maps, c->pgsizes);

	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}
