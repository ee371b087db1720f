// SPDX-License-Identifier: MIT
/*
 * fuzz_peer_ring - the consumer of a peer link's ring (common/peer_ring.h)
 * against a producer that writes anything into the shared file.
 *
 * The file is made by the real producer (peer_ring_create, once) so its
 * geometry header is what a well-behaved peer writes; each input first
 * restores it, may overwrite the geometry (a lying peer), then attaches a
 * consumer the way host/peer/conn.c does (peer_ring_cons_attach with the
 * geometry the hello announced, check_hdr on) and runs an op script:
 * peek (and read every byte of the record, as rx.c copies it),
 * consume, cons_publish, sleep_prepare, awake, interleaved with the
 * producer's writes to its index, descriptors and record bytes.
 */
#include <errno.h>
#include <fcntl.h>

#include "common/net_hdr.h"
#include "common/peer_ring.h"
#include "tests/fuzz/harness.h"

#define DESC	16u
#define DATA	PEER_RING_MIN_DATA
#define MAX_OPS 256

static struct peer_ring_prod prod;
static int ring_fd = -1;
static struct peer_ring_geom geom0;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char name[64];

	fuzz_quiet();
	snprintf(name, sizeof(name), "/vnet-fuzz-ring-%d", (int)getpid());
	if (peer_ring_create(&prod, name, DESC, DATA, &ring_fd) != 0)
		abort();
	geom0 = prod.hdr->geom;
	/* The file lives on through the fd. */
	shm_unlink(name);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peer_ring_hdr *h = prod.hdr;
	struct peer_ring_cons c;
	struct fuzz_in in;
	uint8_t mode, ops[MAX_OPS];
	unsigned n_ops;
	bool peeked = false;
	uint32_t start;
	/* Record bytes this input wrote, zeroed again at the end so that
	 * every run starts from the same file. */
	static struct { uint32_t off, n; } dirty[MAX_OPS];
	unsigned n_dirty = 0;

	if (size > 8192)
		return -1;
	fin_init(&in, data, size);
	/* The producer's fresh ring, started at an index the input picks. */
	memset(h, 0, PEER_RING_HDR_SIZE);
	h->geom = geom0;
	memset(prod.desc, 0, DESC * sizeof(struct peer_ring_desc));
	mode = fin_u8(&in);
	start = (mode & 1) ? fin_u32(&in) : 0;
	h->geom.start_idx = start;
	h->prod = start;
	h->cons = start;
	if (mode & 2)	/* a peer whose header lies about the geometry */
		fin_bytes(&in, &h->geom, sizeof(h->geom));
	n_ops = fin_u8(&in);
	fin_bytes(&in, ops, n_ops);

	memset(&c, 0, sizeof(c));
	if (peer_ring_cons_attach(&c, ring_fd, DESC, DATA) != 0) {
		FUZZ_TRACE("attach: %s\n", c.reason);
		FUZZ_CHECK(c.reason[0] != '\0');
		return 0;
	}
	c.check_hdr = true;

	for (unsigned i = 0; i < n_ops; i++) {
		const uint8_t *rec;
		uint32_t len, v;
		int r;

		switch (ops[i] % 10) {
		case 0: {
			volatile uint8_t sink = 0;

			r = peer_ring_peek(&c, &rec, &len);
			FUZZ_TRACE("peek: %d\n", r);
			FUZZ_CHECK(r == 1 || r == 0 || r == -EIO);
			FUZZ_CHECK((r == -EIO) == c.broken);
			if (r == 1) {
				FUZZ_CHECK(len >= PEER_RING_REC_MIN && len <= PEER_RING_REC_MAX);
				FUZZ_CHECK(rec >= c.data && rec + len <= c.data + c.data_size);
				for (uint32_t k = 0; k < len; k++)
					sink ^= rec[k];
				peeked = true;
			}
			(void)sink;
			break;
		}
		case 1:	/* rx.c consumes only a record it peeked */
			if (peeked)
				peer_ring_consume(&c);
			peeked = false;
			break;
		case 2:
			(void)peer_ring_cons_publish(&c);
			break;
		case 3:
			(void)peer_ring_cons_sleep_prepare(&c);
			break;
		case 4:
			peer_ring_cons_awake(&c);
			break;
		case 5:	/* the producer moves its index */
			v = fin_u8(&in);
			__atomic_store_n(&h->prod, v == 0xff ? fin_u32(&in) : h->prod + v % 32,
					 __ATOMIC_RELEASE);
			break;
		case 6: {	/* the producer writes a descriptor */
			struct peer_ring_desc d;

			v = fin_u8(&in);
			d.off = fin_u32(&in);
			d.len = fin_u32(&in);
			memcpy(&prod.desc[v % DESC], &d, sizeof(d));
			break;
		}
		case 7: {	/* the producer writes record bytes (a header, say) */
			uint32_t off = fin_u32(&in) % DATA;
			uint32_t n = fin_u8(&in);

			n = n < DATA - off ? n : DATA - off;
			fin_bytes(&in, prod.data + off, n);
			dirty[n_dirty].off = off;
			dirty[n_dirty++].n = n;
			break;
		}
		case 8:	/* the producer scribbles on the header page */
			v = fin_u16(&in) % PEER_RING_HDR_SIZE;
			((uint8_t *)h)[v] = fin_u8(&in);
			break;
		case 9: {	/* rx.c's way: a burst, then some of it consumed */
			struct peer_ring_rec recs[40];
			unsigned max = fin_u8(&in) % 41u;
			volatile uint8_t sink = 0;

			r = peer_ring_peek_burst(&c, recs, max);
			FUZZ_TRACE("peek_burst %u: %d\n", max, r);
			FUZZ_CHECK(r == -EIO ? c.broken : r >= 0 && (unsigned)r <= max);
			for (int k = 0; k < r; k++) {
				FUZZ_CHECK(recs[k].len >= PEER_RING_REC_MIN &&
					   recs[k].len <= PEER_RING_REC_MAX);
				FUZZ_CHECK(recs[k].rec >= c.data &&
					   recs[k].rec + recs[k].len <= c.data + c.data_size);
				/* The copy handed out is the checked one. */
				FUZZ_CHECK(net_hdr_check(&recs[k].hdr,
							 recs[k].len - PEER_RING_REC_MIN, NULL, 0) == 0);
				for (uint32_t b = 0; b < recs[k].len; b++)
					sink ^= recs[k].rec[b];
			}
			(void)sink;
			v = r > 0 ? fin_u8(&in) % ((unsigned)r + 1) : 0;
			for (unsigned k = 0; k < v; k++)
				peer_ring_consume_rec(&c, &recs[k]);
			peeked = false;
			break;
		}
		}
	}
	if (c.broken)
		FUZZ_TRACE("broken: %s\n", c.reason);
	peer_ring_cons_detach(&c);
	for (unsigned i = 0; i < n_dirty; i++)
		memset(prod.data + dirty[i].off, 0, dirty[i].n);
	return 0;
}
