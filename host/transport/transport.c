// SPDX-License-Identifier: MIT
/*
 * transport.c - the interrupt half every transport shares: the eventfds the
 * vfio-user client bound with SET_IRQS (vfio-user.rst
 * "VFIO_USER_DEVICE_SET_IRQS": "The server may trigger the IRQ by writing 1
 * to the eventfd").
 */
#include "host/transport/transport.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

void transport_irqs_init(struct transport_irqs *irqs)
{
	for (unsigned i = 0; i < TRANSPORT_MAX_IRQ_INDEX; i++) {
		for (unsigned v = 0; v < TRANSPORT_MAX_VECTORS; v++) {
			irqs->fd[i][v] = -1;
			irqs->masked[i][v] = false;
		}
	}
}

bool transport_fire(struct transport *t, uint32_t index, uint32_t vector)
{
	const uint64_t one = 1;
	int fd;

	if (index >= TRANSPORT_MAX_IRQ_INDEX || vector >= TRANSPORT_MAX_VECTORS)
		return false;
	fd = t->irqs.fd[index][vector];
	if (fd < 0 || t->irqs.masked[index][vector])
		return false;
	for (;;) {
		ssize_t n = write(fd, &one, sizeof(one));

		if (n == (ssize_t)sizeof(one))
			return true;
		if (n < 0 && errno == EINTR)
			continue;
		/* EAGAIN: the counter is saturated, so the driver has an
		 * interrupt pending already; nothing is lost. */
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		log_rl(LOG_WARN, "irq %u vector %u: eventfd write failed: %s",
		       index, vector, n < 0 ? strerror(errno) : "short write");
		return false;
	}
}
