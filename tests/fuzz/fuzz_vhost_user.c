// SPDX-License-Identifier: MIT
/*
 * fuzz_vhost_user - a vhost-user frontend's messages into the backend of
 * a live vdev (host/face/vhost_user.c, vhost_user_msg.c), as vnet-host
 * serves it: the vdev is made once by attach_vdev in a temporary run
 * directory, and its event loop is pumped in this thread after every
 * message.  Each input is one frontend connection: it connects to the
 * real socket, sends its messages, reads whatever comes back, and hangs
 * up (the backend then resets the device, ready for the next input).
 *
 * A message in the input: a control byte (which fds ride along, the
 * header's flags), the request, the payload's size and bytes.  The
 * stream stays framed (the payload sent is as long as the header says,
 * zero-filled past the input); a frontend that stalls mid-message is
 * test_vhost_user's.  The fds are real: SET_MEM_TABLE gets one memfd per
 * region the payload asks for, sized as the region asks (first bytes from
 * the input: guest RAM), SET_VRING_KICK/CALL/ERR an eventfd.  A control
 * byte with bit 7 set is not sent: it kicks a ring instead (writes the
 * kick eventfd the frontend passed), so the data path runs on the rings
 * and RAM the input described.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>

#include "host/face/vhost_user_msg.h"
#include "tests/fuzz/harness.h"

#define MAX_MSGS	64
#define MAX_REGION	(16u << 20)	/* a bigger region gets a file this size */
#define NKICK		2

static struct evloop *ev;
static struct vdev *vd;
static int kick[NKICK] = { -1, -1 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	vd = fuzz_live_vdev("vhu", true, &ev);
	return 0;
}

/* The fds a well-behaved frontend sends with this request. */
static unsigned natural_fds(struct fuzz_in *in, const struct vhu_hdr *h,
			    const union vhu_payload *p, int *fds)
{
	unsigned n = 0;

	switch (h->request) {
	case VHU_SET_MEM_TABLE:
		for (unsigned i = 0; i < p->mem.nregions && i < VHU_MAX_REGIONS; i++) {
			const struct vhu_region *r = &p->mem.regions[i];
			uint64_t want = r->mmap_offset + r->size;
			uint8_t ram[4096];
			uint16_t fill = fin_u16(in) % sizeof(ram);

			fin_bytes(in, ram, fill);
			if (want < r->size || want > MAX_REGION)
				want = MAX_REGION;
			fds[n] = fuzz_memfd("vnet-fuzz-ram", want, ram, fill);
			if (fds[n] < 0)
				break;
			n++;
		}
		return n;
	case VHU_SET_VRING_KICK:
	case VHU_SET_VRING_CALL:
	case VHU_SET_VRING_ERR:
		if (p->u64 & VHU_VRING_NOFD)
			return 0;
		fds[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fds[0] < 0)
			return 0;
		if (h->request == VHU_SET_VRING_KICK) {
			unsigned q = (p->u64 & VHU_VRING_IDX_MASK) % NKICK;

			if (kick[q] >= 0)
				close(kick[q]);
			kick[q] = dup(fds[0]);
		}
		return 1;
	default:
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct {
		struct vhu_hdr h;
		union vhu_payload p;
	} msg;
	static uint8_t wire[sizeof(struct vhu_hdr) + sizeof(union vhu_payload)];
	struct fuzz_in in;
	int s;

	if (size > 16384)
		return -1;
	fin_init(&in, data, size);
	s = fuzz_connect(ev, vd->socket_path);
	for (unsigned i = 0; i < MAX_MSGS && in.left; i++) {
		int fds[FUZZ_MAX_SEND_FDS];
		unsigned nfds;
		uint8_t ctl = fin_u8(&in);
		uint32_t len;

		if (ctl & 0x80) {	/* kick a ring */
			uint64_t one = 1;

			if (kick[ctl & 1] >= 0 && write(kick[ctl & 1], &one, sizeof(one)) < 0)
				abort();
			fuzz_pump(ev, 2);
			continue;
		}
		memset(&msg, 0, sizeof(msg));
		msg.h.request = fin_u8(&in);
		msg.h.flags = (ctl & 0x08) ? fin_u32(&in) :
			      VHU_VERSION | ((ctl & 0x04) ? VHU_FLAG_NEED_REPLY : 0);
		msg.h.size = (ctl & 0x10) ? fin_u32(&in) : fin_u16(&in) % 512;
		len = msg.h.size < sizeof(msg.p) ? msg.h.size : 0;
		fin_bytes(&in, &msg.p, len);
		nfds = (ctl & 0x3) == 1 ? 0 : natural_fds(&in, &msg.h, &msg.p, fds);
		memcpy(wire, &msg.h, sizeof(msg.h));
		memcpy(wire + sizeof(msg.h), &msg.p, len);
		fuzz_exchange(ev, &s, vd->socket_path, wire, sizeof(msg.h) + len, fds, nfds,
			      (ctl & 0x3) >= 2);
	}
	close(s);
	fuzz_pump(ev, 2);	/* the backend sees the hang-up and resets */
	for (unsigned q = 0; q < NKICK; q++) {
		if (kick[q] >= 0)
			close(kick[q]);
		kick[q] = -1;
	}
	return 0;
}
