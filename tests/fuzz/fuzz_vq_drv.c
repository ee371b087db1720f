// SPDX-License-Identifier: MIT
/*
 * fuzz_vq_drv - the driver side of a virtqueue (common/ring/vq.h, what
 * the guest library's rx, tx and control paths sit on) against a device
 * that writes anything into the shared ring memory.
 *
 * Input: the queue's configuration (layout, size, EVENT_IDX, INDIRECT,
 * IN_ORDER, legacy used-ring alignment), then an op script: vq_drv_add (chains of
 * 1..6 buffers, readable then writable), kick_prepare, get, enable_cb,
 * disable_cb, has_used, and the device's 16- and 32-bit writes anywhere
 * in the ring memory; at the end vq_drv_detach_unused (as after a device
 * reset).  Checks what the guest relies on: every token vq_drv_get or
 * detach_unused hands back is one that was added and is still in flight
 * (never twice, never invented), a used length never exceeds the chain's
 * writable bytes, and a broken queue has a reason.
 */
#include <errno.h>

#include "common/ring/vq.h"
#include "tests/fuzz/harness.h"

#define MEM_GPA		0x100000ull
#define BUF_GPA		0x10000000ull
#define MAX_OPS		512
#define MAX_TOKENS	4096

static bool in_flight[MAX_TOKENS + 1];
static uint32_t in_len[MAX_TOKENS + 1];

static void check_token(void *tok, uint32_t len, bool has_len)
{
	uintptr_t t = (uintptr_t)tok;

	FUZZ_CHECK(t >= 1 && t <= MAX_TOKENS);
	FUZZ_CHECK(in_flight[t]);
	if (has_len)
		FUZZ_CHECK(len <= in_len[t]);
	in_flight[t] = false;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vq_drv_cfg cfg = { 0 };
	struct vq_drv vq;
	struct fuzz_in in;
	uint8_t mode, ops[MAX_OPS];
	unsigned n_ops, next_tok = 1;
	size_t mem_size;
	uint8_t *mem;
	void *tok;

	if (size > 4096)
		return -1;
	fin_init(&in, data, size);
	mode = fin_u8(&in);
	cfg.layout = (mode & 1) ? VQ_PACKED : VQ_SPLIT;
	if (mode & 2)
		cfg.flags |= VQ_F_EVENT_IDX;
	if (mode & 4) {
		cfg.flags |= VQ_F_INDIRECT;
		cfg.indirect_max = 4;
	}
	cfg.used_align = (mode & 8) ? 4096 : 4;
	if (mode & 0x10)	/* a used id further on stands for a batch */
		cfg.flags |= VQ_F_IN_ORDER;
	cfg.size = (uint16_t)(1u << (fin_u8(&in) % 9));	/* 1 .. 256 */
	n_ops = fin_u8(&in) * 2u;
	fin_bytes(&in, ops, n_ops);

	mem_size = vq_drv_mem_size(&cfg);
	if (!mem_size)
		return 0;
	mem = fuzz_guest_ram((mem_size + 4095) & ~(size_t)4095);
	memset(&vq, 0, sizeof(vq));
	if (vq_drv_init(&vq, &cfg, mem, MEM_GPA) != 0) {
		free(mem);
		return 0;
	}
	memset(in_flight, 0, sizeof(in_flight));

	for (unsigned i = 0; i + 1 < n_ops; i += 2) {
		uint8_t arg = ops[i + 1];
		uint32_t len;
		int r;

		switch (ops[i] % 8) {
		case 0: {	/* add a chain of n_out readable, n_in writable buffers */
			struct vq_sg sg[6];
			unsigned n_out = arg % 4, n_in = (arg / 4) % 4;
			uint32_t wlen = 0;

			if (n_out + n_in == 0 || next_tok > MAX_TOKENS)
				break;
			for (unsigned k = 0; k < n_out + n_in; k++) {
				sg[k].gpa = BUF_GPA + 0x10000ull * k;
				sg[k].len = 64u << (k % 6);
				if (k >= n_out)
					wlen += sg[k].len;
			}
			r = vq_drv_add(&vq, sg, n_out, n_in, (void *)(uintptr_t)next_tok);
			FUZZ_CHECK(r == 0 || r == -ENOSPC || r == -EIO || r == -EINVAL);
			if (r == 0) {
				in_flight[next_tok] = true;
				in_len[next_tok] = wlen;
				next_tok++;
			}
			break;
		}
		case 1:
			(void)vq_drv_kick_prepare(&vq);
			break;
		case 2:
			len = 0;
			tok = vq_drv_get(&vq, &len);
			FUZZ_TRACE("get: %p len %u%s%s\n", tok, len, vq.broken ? " broken: " : "",
				   vq.broken ? vq.reason : "");
			if (tok)
				check_token(tok, len, true);
			break;
		case 3:
			(void)vq_drv_enable_cb(&vq);
			break;
		case 4:
			vq_drv_disable_cb(&vq);
			break;
		case 5:
			(void)vq_drv_has_used(&vq);
			break;
		case 6: {	/* the device writes 16 bits */
			size_t off = (fin_u16(&in) % mem_size) & ~(size_t)1;
			uint16_t v = fin_u16(&in);

			if (off + sizeof(v) <= mem_size)
				memcpy(mem + off, &v, sizeof(v));
			break;
		}
		case 7: {	/* ... or 32 */
			size_t off = (fin_u16(&in) % mem_size) & ~(size_t)3;
			uint32_t v = fin_u32(&in);

			if (off + sizeof(v) <= mem_size)
				memcpy(mem + off, &v, sizeof(v));
			break;
		}
		}
		if (vq.broken)
			FUZZ_CHECK(vq.reason[0] != '\0');
		FUZZ_CHECK(vq_drv_num_free(&vq) <= cfg.size);
	}
	/* The device was reset: every chain still in flight comes back once. */
	while ((tok = vq_drv_detach_unused(&vq)))
		check_token(tok, 0, false);
	for (unsigned t = 1; t < next_tok; t++)
		FUZZ_CHECK(!in_flight[t]);
	vq_drv_free(&vq);
	free(mem);
	return 0;
}
