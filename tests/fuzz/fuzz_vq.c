// SPDX-License-Identifier: MIT
/*
 * fuzz_vq - the device side of a virtqueue (common/ring/vq.h), split and
 * packed, over guest memory the input fills and keeps rewriting, as a
 * hostile driver would.
 *
 * Input: a setup block (layout, EVENT_IDX, INDIRECT, chain kind, queue
 * size, the three ring addresses, an optional vq_dev_set_base), the
 * length of an op script and the script, then the bytes of guest RAM.
 * The device runs vq_dev_init and then, op by op, vq_dev_pop / unpop /
 * push / flush / set_notify / has_avail, with the driver's writes to RAM
 * interleaved, and the read-only window unmapped and mapped again (the
 * queue re-initialised, as the device does).  Like the device's callers,
 * the harness touches every byte of every buffer a pop hands out (reads
 * the readable ones, writes the writable ones: ASan sees any byte outside
 * guest RAM), pushes chains in pop order with at most their writable
 * length, and gives back only chains popped since its last push, newest
 * first.
 */
#include <errno.h>

#include "common/gmem.h"
#include "common/ring/vq.h"
#include "tests/fuzz/harness.h"

#define RAM_GPA		0x10000ull
#define RAM_SIZE	(64u * 1024u)
#define RO_GPA		0x100000ull	/* a read-only window (DMA_MAP without WRITE) */
#define RO_SIZE		4096u
#define MAX_OPS		512
#define MAX_HELD	8
#define BUF_CAP		64

static uint8_t *ram, *ro;
static struct gmem gm;
static bool ro_mapped;	/* the read-only window is in gm now */

struct held {
	struct vq_chain ch;
	struct vq_buf bufs[BUF_CAP];
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	ram = fuzz_guest_ram(RAM_SIZE);
	ro = fuzz_guest_ram(RO_SIZE);
	gmem_init(&gm);
	if (gmem_add(&gm, RAM_GPA, RAM_SIZE, ram, true) ||
	    gmem_add(&gm, RO_GPA, RO_SIZE, ro, false))
		abort();
	ro_mapped = true;
	return 0;
}

/* A ring address: mostly near guest RAM, sometimes anywhere. */
static uint64_t pick_addr(struct fuzz_in *in)
{
	uint16_t v = fin_u16(in);

	if (v == 0xffff)
		return fin_u64(in);
	return RAM_GPA - 0x100 + v;
}

static uint16_t pick_size(struct fuzz_in *in)
{
	uint8_t s = fin_u8(in);

	if (s & 0x80)
		return fin_u16(in);		/* any value: init must judge it */
	return (uint16_t)(1u << (s % 9));	/* 1 .. 256 */
}

static bool in_window(const uint8_t *p, uint32_t len, const uint8_t *base, size_t size)
{
	return p >= base && len <= size && (size_t)(p - base) <= size - len;
}

/* The read-only window goes away (DMA_UNMAP) or comes back: a buffer the
 * queue hands out after that must not be in it, whatever the queue
 * remembers of its last translation (gmem_translate_hinted). */
static void toggle_ro(void)
{
	if (ro_mapped ? gmem_remove(&gm, RO_GPA, RO_SIZE) : gmem_add(&gm, RO_GPA, RO_SIZE, ro, false))
		abort();
	ro_mapped = !ro_mapped;
}

/* What the device's callers do with a chain: read the readable buffers
 * and fill the writable ones.  A writable buffer must lie in writable
 * guest memory, and every buffer in a window mapped now. */
static void touch(const struct vq_chain *ch)
{
	volatile uint8_t sink = 0;

	for (unsigned i = 0; i < ch->n_out + ch->n_in; i++) {
		const struct vq_buf *b = &ch->bufs[i];

		if (!b->len)	/* a valid pointer, never read or written */
			continue;
		FUZZ_CHECK(in_window(b->ptr, b->len, ram, RAM_SIZE) ||
			   (ro_mapped && i < ch->n_out && in_window(b->ptr, b->len, ro, RO_SIZE)));
		if (i < ch->n_out) {
			for (uint32_t k = 0; k < b->len; k++)
				sink ^= b->ptr[k];
		} else {
			memset(b->ptr, 0xa5, b->len);
		}
	}
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct held held[MAX_HELD];
	struct fuzz_in in;
	struct vq_dev vq;
	struct vq_addrs a;
	uint8_t mode, ops[MAX_OPS];
	unsigned n_ops, n_held = 0, since_push = 0;
	enum vq_layout layout;
	enum vq_chain_kind kind;
	uint32_t flags = 0, base = 0;
	uint16_t qsize;
	bool set_base;

	fin_init(&in, data, size);
	mode = fin_u8(&in);
	layout = (mode & 1) ? VQ_PACKED : VQ_SPLIT;
	if (mode & 2)
		flags |= VQ_F_EVENT_IDX;
	if (mode & 4)
		flags |= VQ_F_INDIRECT;
	kind = (enum vq_chain_kind)((mode >> 3) % 3);
	set_base = mode & 0x20;
	if (mode & 0x40)	/* packed: length-0 pushes share a descriptor */
		flags |= VQ_F_IN_ORDER;
	qsize = pick_size(&in);
	a.desc = pick_addr(&in);
	a.driver = pick_addr(&in);
	a.device = pick_addr(&in);
	if (set_base)
		base = fin_u32(&in);
	n_ops = fin_u8(&in) * 2u;
	fin_bytes(&in, ops, n_ops);
	/* The rest is guest RAM as the driver left it (zero past the input). */
	fin_bytes(&in, ram, RAM_SIZE);
	memset(ro, 0, RO_SIZE);
	if (in.left)
		return -1;	/* longer inputs add nothing */

	memset(&vq, 0, sizeof(vq));
	if (vq_dev_init(&vq, layout, qsize, flags, &a, &gm) != 0) {
		FUZZ_TRACE("init: %s\n", vq.reason);
		FUZZ_CHECK(vq.reason[0] != '\0');
		return 0;
	}
	if (set_base)
		(void)vq_dev_set_base(&vq, base);

	/* Each op is two bytes: what, and its argument. */
	for (unsigned i = 0; i + 1 < n_ops; i += 2) {
		uint8_t arg = ops[i + 1];
		int r;

		switch (ops[i] % 8) {
		case 0:	/* pop into storage of arg % BUF_CAP + 1 entries */
			if (n_held == MAX_HELD)
				break;
			held[n_held].ch = (struct vq_chain){
				.bufs = held[n_held].bufs,
				.cap = (uint16_t)(arg % BUF_CAP + 1),
			};
			r = vq_dev_pop(&vq, &held[n_held].ch, kind);
			FUZZ_TRACE("pop: %d (out %u in %u)\n", r, held[n_held].ch.n_out,
				   held[n_held].ch.n_in);
			FUZZ_CHECK(r == 1 || r == 0 || r == -EIO || r == -ENOBUFS);
			FUZZ_CHECK((r == -EIO) == vq.broken);
			if (r == 1) {
				const struct vq_chain *ch = &held[n_held].ch;

				FUZZ_CHECK(ch->n_out + ch->n_in <= ch->cap);
				FUZZ_CHECK(kind != VQ_CHAIN_READ_ONLY || ch->n_in == 0);
				FUZZ_CHECK(kind != VQ_CHAIN_WRITE_ONLY || ch->n_out == 0);
				touch(ch);
				n_held++;
				since_push++;
			}
			break;
		case 1:	/* push the oldest held chain, arg says how much it wrote */
			if (!n_held)
				break;
			vq_dev_push(&vq, &held[0].ch,
				    arg == 0xff ? held[0].ch.in_len :
				    held[0].ch.in_len * arg / 255);
			memmove(&held[0], &held[1], (n_held - 1) * sizeof(held[0]));
			for (unsigned k = 0; k + 1 < n_held; k++)
				held[k].ch.bufs = held[k].bufs;
			n_held--;
			since_push = 0;
			break;
		case 2:	/* give back the newest chain popped since the last push */
			if (!since_push)
				break;
			vq_dev_unpop(&vq, &held[n_held - 1].ch);
			n_held--;
			since_push--;
			break;
		case 3:
			(void)vq_dev_flush(&vq);
			break;
		case 4:	/* arg bit 7: the read-only window unmapped or mapped again */
			if (arg & 0x80) {
				toggle_ro();
				/* As the device does on DMA_UNMAP (and MAP):
				 * its rings translated again (vdev_mem_changed). */
				if (vq_dev_init(&vq, layout, qsize, flags, &a, &gm) != 0)
					FUZZ_CHECK(vq.broken && vq.reason[0] != '\0');
			} else
				(void)vq_dev_set_notify(&vq, arg & 1);
			break;
		case 5:	/* arg bit 7: a burst of (arg & 7) + 1 pops, else has_avail */
			if (!(arg & 0x80)) {
				(void)vq_dev_has_avail(&vq);
				break;
			}
			{
				/* Up to (arg & 7) + 1 chains in one call, their
				 * buffers sharing a pool of (arg >> 3 & 15) * 4 + 1
				 * entries; each taken chain is then held as a
				 * single pop's would be. */
				struct vq_chain bch[8];
				struct vq_buf pool[BUF_CAP];
				unsigned want = (arg & 7u) + 1u, pcap = (arg >> 3 & 15u) * 4u + 1u;

				if (want > MAX_HELD - n_held)
					want = MAX_HELD - n_held;
				if (!want)
					break;
				r = vq_dev_pop_burst(&vq, bch, want, pool, pcap, kind);
				FUZZ_TRACE("pop burst of %u: %d\n", want, r);
				FUZZ_CHECK(r == -EIO || r == -ENOBUFS || (r >= 0 && (unsigned)r <= want));
				FUZZ_CHECK(r != -EIO || vq.broken);
				for (int k = 0; k < r; k++) {
					struct vq_chain *ch = &bch[k];
					unsigned nb = ch->n_out + ch->n_in;

					FUZZ_CHECK(ch->bufs >= pool && ch->bufs + nb <= pool + pcap);
					FUZZ_CHECK(kind != VQ_CHAIN_READ_ONLY || ch->n_in == 0);
					FUZZ_CHECK(kind != VQ_CHAIN_WRITE_ONLY || ch->n_out == 0);
					touch(ch);
					held[n_held].ch = *ch;
					memcpy(held[n_held].bufs, ch->bufs, nb * sizeof(*ch->bufs));
					held[n_held].ch.bufs = held[n_held].bufs;
					n_held++;
					since_push++;
				}
			}
			break;
		case 6:	/* the driver rewrites a 16-bit word of its RAM */
		case 7: {
			unsigned off = ((unsigned)ops[i] / 8u * 256u + arg) * 2u % RAM_SIZE;
			uint16_t v = (uint16_t)(ops[i] << 8 | arg);	/* the op pair itself */

			memcpy(ram + off, &v, sizeof(v));
			break;
		}
		}
		if (vq.broken)
			FUZZ_CHECK(vq.reason[0] != '\0');
	}
	if (vq.broken)
		FUZZ_TRACE("broken: %s\n", vq.reason);
	vq_dev_reset(&vq);
	if (!ro_mapped)
		toggle_ro();	/* as it was for the next input */
	return 0;
}
