// SPDX-License-Identifier: MIT
/*
 * fuzz_vfio_user - a vfio-user client's messages into the server's whole
 * command handling (host/face/vfio_server.c, vfio_cmds.c) with a live
 * virtio-net vdev behind it on the PCI modern transport, as vnet-host
 * serves it: the vdev is made once by attach_vdev in a temporary run
 * directory, and its event loop is pumped in this thread after every
 * message.  Each input is one client connection: it connects to the
 * vdev's real socket, sends its messages, reads the replies, and hangs
 * up (the server then resets the device and unmaps the guest's memory).
 *
 * A message in the input: a control byte (extra or missing fds, a lying
 * size field), the command, the header flags, the payload's size and
 * bytes; the header's size field is the message's real size, so the
 * stream stays framed (a client that stalls mid-message is
 * test_vfio_server's).  The fds are real: DMA_MAP gets a memfd as large as
 * the map asks (its first bytes from the input: guest RAM), SET_IRQS
 * with DATA_EVENTFD one eventfd per interrupt it sets.  Region writes
 * reach the device's registers and notify area, so a whole driver's
 * bring-up, queue set-up and kick can be spelled out by the input.
 */
#include <errno.h>
#include <sys/eventfd.h>

#include "common/vfio_user/proto.h"
#include "tests/fuzz/harness.h"

#define MAX_MSGS	64
#define MAX_PAYLOAD	1024
#define MAX_MAP		(16u << 20)	/* a bigger map gets a file this size */

static struct evloop *ev;
static struct vdev *vd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	vd = fuzz_live_vdev("vfio", false, &ev);
	return 0;
}

/* The fds a well-behaved client sends with this command. */
static unsigned natural_fds(struct fuzz_in *in, uint16_t cmd, const uint8_t *p,
			    uint32_t len, int *fds)
{
	if (cmd == VFIO_USER_DMA_MAP && len >= sizeof(struct vfio_user_dma_map)) {
		struct vfio_user_dma_map m;
		uint64_t want;
		uint8_t ram[4096];
		uint16_t fill = fin_u16(in) % sizeof(ram);

		memcpy(&m, p, sizeof(m));
		want = m.offset + m.size;
		if (want < m.size || want > MAX_MAP)
			want = MAX_MAP;
		fin_bytes(in, ram, fill);
		fds[0] = fuzz_memfd("vnet-fuzz-ram", want, ram, fill);
		return fds[0] >= 0;
	}
	if (cmd == VFIO_USER_DEVICE_SET_IRQS && len >= sizeof(struct vfio_user_irq_set)) {
		struct vfio_user_irq_set s;
		unsigned n = 0;

		memcpy(&s, p, sizeof(s));
		if (!(s.flags & VFIO_USER_IRQ_SET_DATA_EVENTFD))
			return 0;
		while (n < s.count && n < FUZZ_MAX_SEND_FDS) {
			fds[n] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (fds[n] < 0)
				break;
			n++;
		}
		return n;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t wire[VFIO_USER_HDR_SIZE + MAX_PAYLOAD];
	struct fuzz_in in;
	int s;

	if (size > 16384)
		return -1;
	fin_init(&in, data, size);
	s = fuzz_connect(ev, vd->socket_path);
	for (unsigned i = 0; i < MAX_MSGS && in.left; i++) {
		struct vfio_user_header h = { 0 };
		int fds[FUZZ_MAX_SEND_FDS];
		uint8_t ctl = fin_u8(&in);
		uint8_t *p = wire + VFIO_USER_HDR_SIZE;
		unsigned nfds;
		uint32_t len;

		h.msg_id = (uint16_t)i;
		h.command = fin_u8(&in);
		h.flags = (ctl & 0x08) ? fin_u32(&in) : VFIO_USER_F_TYPE_COMMAND;
		len = fin_u16(&in) % MAX_PAYLOAD;
		fin_bytes(&in, p, len);
		/* A size field below the header's: the server must refuse it.
		 * (Any other lie leaves a message unfinished: a stall.) */
		h.size = (ctl & 0x10) ? fin_u8(&in) % VFIO_USER_HDR_SIZE :
			 VFIO_USER_HDR_SIZE + len;
		memcpy(wire, &h, sizeof(h));
		nfds = (ctl & 0x3) == 1 ? 0 : natural_fds(&in, h.command, p, len, fds);
		fuzz_exchange(ev, &s, vd->socket_path, wire, VFIO_USER_HDR_SIZE + len, fds,
			      nfds, (ctl & 0x3) >= 2);
	}
	close(s);
	fuzz_pump(ev, 2);	/* the server sees the hang-up and resets */
	return 0;
}
