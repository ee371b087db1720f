/* SPDX-License-Identifier: MIT */
/*
 * state_fmt.h - the container of a device state (vfio-user migration,
 * MIG_DATA_READ/WRITE): a versioned, self-describing blob.
 *
 *   header (24 bytes): magic "VNETDEV\0", le32 version, le32 length of
 *   the whole blob, le32 CRC-32 (zlib's) of everything after the header,
 *   le32 record count;
 *   records: le16 type, le16 reserved (0), le32 length, then length
 *   bytes, padded with zeros to a multiple of 8.
 *
 * A blob is hostile input (a client hands it to the destination): the
 * parser checks the framing only, and each record's reader checks what
 * its record says.  Nothing here knows what a record means.
 */
#ifndef VNET_HOST_STATE_FMT_H
#define VNET_HOST_STATE_FMT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_MAGIC	 "VNETDEV"	/* 8 bytes with its NUL */
#define STATE_VERSION	 1u
#define STATE_MAX_SIZE	 (256u * 1024u)	/* far above any device's state */
#define STATE_MAX_RECORDS 256u

struct state_hdr {
	char magic[8];
	uint32_t version;
	uint32_t length;
	uint32_t crc;
	uint32_t records;
};
static_assert(sizeof(struct state_hdr) == 24, "state header layout");

struct state_rec_hdr {
	uint16_t type;
	uint16_t reserved;
	uint32_t length;
};
static_assert(sizeof(struct state_rec_hdr) == 8, "state record header layout");

/* Record types.  The model's (host/dev/state.c) and the transport's. */
enum state_rec_type {
	STATE_REC_IDENTITY = 1,	/* which device this is, and its options */
	STATE_REC_VIRTIO = 2,	/* features, status, config generation */
	STATE_REC_QUEUE = 3,	/* one queue's configuration and position */
	STATE_REC_CTRL = 4,	/* one control command to replay (5.1.6.5) */
	STATE_REC_TRANSPORT = 5, /* the transport's registers, its own layout */
	STATE_REC_MAX
};

/* A blob being written; err latches the first failure (-ENOMEM, -E2BIG). */
struct state_out {
	uint8_t *buf;
	size_t len, cap;
	uint32_t records;
	int err;
};

void state_out_init(struct state_out *o);
void state_out_free(struct state_out *o);
void state_put(struct state_out *o, uint16_t type, const void *data, uint32_t len);
/* Fills the header in; 0 or the latched error. */
int state_finish(struct state_out *o);

/* A record as parsed: data points into the blob. */
struct state_rec {
	uint16_t type;
	uint32_t len;
	const uint8_t *data;
};

/* A state refused: why filled from fmt, -EINVAL returned (what every
 * reader of a state answers). */
__attribute__((format(printf, 3, 4)))
int state_refuse(char *why, size_t whylen, const char *fmt, ...);

/* Checks the framing (magic, version, lengths, CRC, record bounds) and
 * lists the records, at most max.  0, or -EINVAL with why naming what
 * was wrong. */
int state_parse(const uint8_t *blob, size_t len, struct state_rec *recs, unsigned max,
		unsigned *n, char *why, size_t whylen);

#endif /* VNET_HOST_STATE_FMT_H */
