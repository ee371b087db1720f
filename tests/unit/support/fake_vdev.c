// SPDX-License-Identifier: MIT
/*
 * fake_vdev.c - a model-only vdev for the transport tests (fake_vdev.h).
 */
#include "tests/unit/support/fake_vdev.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/transport/transport.h"

void fake_vdev_init(struct fake_vdev *f, struct evloop *ev, bool legacy,
		    uint64_t device_features, uint64_t ram_gpa, uint64_t ram_size)
{
	fake_vdev_init_pairs(f, ev, legacy, device_features, ram_gpa, ram_size, 1);
}

void fake_vdev_init_pairs(struct fake_vdev *f, struct evloop *ev, bool legacy,
			  uint64_t device_features, uint64_t ram_gpa, uint64_t ram_size,
			  unsigned pairs)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->opts.name, sizeof(f->opts.name), "t");
	memcpy(f->opts.mac, "\x52\x54\x00\x01\x02\x03", 6);
	f->opts.legacy = legacy;
	f->opts.queues = pairs;
	assert_int_equal(vdev_new(&f->vd, ev, "s", &f->opts), 0);
	f->vd->device_features = device_features;
	for (unsigned q = 0; q < f->vd->num_queues; q++) {
		int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

		assert_true(fd >= 0);
		assert_int_equal(vdev_queue_set_kick_fd(f->vd, q, fd), 0);
	}
	if (ram_size) {
		int mfd = memfd_create("fake-vdev-ram", MFD_CLOEXEC);

		assert_true(mfd >= 0);
		assert_int_equal(ftruncate(mfd, (off_t)ram_size), 0);
		assert_int_equal(vdev_mem_map_fd(f->vd, ram_gpa, ram_size, mfd, 0, true), 0);
		close(mfd);
	}
}

void fake_vdev_fini(struct fake_vdev *f)
{
	vdev_free(f->vd);
	f->vd = NULL;
}

void fake_transport_free(struct transport *t)
{
	for (unsigned i = 0; i < TRANSPORT_MAX_IRQ_INDEX; i++)
		for (unsigned v = 0; v < TRANSPORT_MAX_VECTORS; v++)
			if (t->irqs.fd[i][v] >= 0)
				close(t->irqs.fd[i][v]);
	t->ops->destroy(t);
}
