// SPDX-License-Identifier: MIT
/*
 * state_fmt.c - writing and parsing the device state's container
 * (state_fmt.h).  The CRC catches a blob damaged on its way; it is no
 * defence against a hostile one, which every record reader checks.
 */
#include "host/dev/state_fmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PAD8(n) (((n) + 7u) & ~(size_t)7u)

void state_out_init(struct state_out *o)
{
	memset(o, 0, sizeof(*o));
	state_put(o, 0, NULL, 0);	/* room for the header */
}

void state_out_free(struct state_out *o)
{
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

static void reserve(struct state_out *o, size_t more)
{
	size_t cap = o->cap ? o->cap : 1024;
	uint8_t *nb;

	if (o->err)
		return;
	if (o->len + more > STATE_MAX_SIZE) {
		o->err = -E2BIG;
		return;
	}
	while (cap < o->len + more)
		cap *= 2;
	if (cap == o->cap)
		return;
	nb = realloc(o->buf, cap);
	if (!nb) {
		o->err = -ENOMEM;
		return;
	}
	memset(nb + o->len, 0, cap - o->len);
	o->buf = nb;
	o->cap = cap;
}

void state_put(struct state_out *o, uint16_t type, const void *data, uint32_t len)
{
	struct state_rec_hdr h = { .type = type, .length = len };

	if (o->len == 0 && type == 0) {		/* the header's place */
		reserve(o, sizeof(struct state_hdr));
		if (!o->err)
			o->len = sizeof(struct state_hdr);
		return;
	}
	reserve(o, sizeof(h) + PAD8(len));
	if (o->err)
		return;
	if (o->records >= STATE_MAX_RECORDS) {
		o->err = -E2BIG;
		return;
	}
	memcpy(o->buf + o->len, &h, sizeof(h));
	if (len)
		memcpy(o->buf + o->len + sizeof(h), data, len);
	o->len += sizeof(h) + PAD8(len);
	o->records++;
}

int state_finish(struct state_out *o)
{
	struct state_hdr h = { .magic = STATE_MAGIC, .version = STATE_VERSION };

	if (o->err)
		return o->err;
	h.length = (uint32_t)o->len;
	h.records = o->records;
	h.crc = (uint32_t)crc32(0L, o->buf + sizeof(h), (uInt)(o->len - sizeof(h)));
	memcpy(o->buf, &h, sizeof(h));
	return 0;
}

int state_refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

#define refuse state_refuse

int state_parse(const uint8_t *blob, size_t len, struct state_rec *recs, unsigned max,
		unsigned *n, char *why, size_t whylen)
{
	struct state_hdr h;
	size_t off = sizeof(h);
	uint32_t crc;

	*n = 0;
	if (len < sizeof(h))
		return refuse(why, whylen, "state of %zu bytes is shorter than its %zu-byte header",
			      len, sizeof(h));
	memcpy(&h, blob, sizeof(h));
	if (memcmp(h.magic, STATE_MAGIC, sizeof(h.magic)) != 0)
		return refuse(why, whylen, "not a vnet device state (bad magic)");
	if (h.version != STATE_VERSION)
		return refuse(why, whylen, "state format version %u; this vnet-host reads version %u",
			      h.version, STATE_VERSION);
	if (h.length != len)
		return refuse(why, whylen, "state says %u bytes but %zu arrived (truncated or padded)",
			      h.length, len);
	crc = (uint32_t)crc32(0L, blob + sizeof(h), (uInt)(len - sizeof(h)));
	if (crc != h.crc)
		return refuse(why, whylen, "state checksum 0x%08x does not match its content (0x%08x): corrupted",
			      h.crc, crc);
	if (h.records > max)
		return refuse(why, whylen, "state has %u records; at most %u", h.records, max);
	for (uint32_t i = 0; i < h.records; i++) {
		struct state_rec_hdr rh;

		if (len - off < sizeof(rh))
			return refuse(why, whylen, "record %u of %u starts past the end", i + 1,
				      h.records);
		memcpy(&rh, blob + off, sizeof(rh));
		off += sizeof(rh);
		if (rh.reserved != 0)
			return refuse(why, whylen, "record %u (type %u): reserved field is 0x%x",
				      i + 1, rh.type, rh.reserved);
		if (rh.type == 0 || rh.type >= STATE_REC_MAX)
			return refuse(why, whylen, "record %u: type %u is unknown to this version",
				      i + 1, rh.type);
		if (rh.length > len - off || PAD8(rh.length) > len - off)
			return refuse(why, whylen, "record %u (type %u) of %u bytes runs past the end",
				      i + 1, rh.type, rh.length);
		recs[i] = (struct state_rec){ .type = rh.type, .len = rh.length, .data = blob + off };
		off += PAD8(rh.length);
	}
	if (off != len)
		return refuse(why, whylen, "%zu bytes after the last record", len - off);
	*n = h.records;
	return 0;
}
