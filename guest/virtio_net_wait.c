// SPDX-License-Identifier: MIT
/*
 * virtio_net_wait.c - interrupts and waiting.
 *
 * Three ways to be woken: MSI-X vectors (config, receiveq, transmitq,
 * each an eventfd), the interrupt line (PCI INTx or the MMIO interrupt:
 * one eventfd, automasked, its cause read from ISR / InterruptStatus
 * and acknowledged, 4.1.4.5, 4.2.2), or none (polling in short slices).
 * Callbacks are armed only around a sleep (2.7.7 / 2.8.10), so a busy
 * driver takes no interrupts at all.
 *
 * Config changes are noticed here (an interrupt, or a poll without one),
 * so the control-queue work they ask for is done here too: a request to
 * announce ourselves (5.1.6.5.4) is answered on entry and after each
 * wake-up, not on every burst of the data path.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/barrier.h"
#include "common/log.h"
#include "guest/virtio_net_priv.h"

#define CONFIG_POLL_NS	(100u * 1000000u)
#define POLLED_SLICE_NS	(50u * 1000u)

/* TX room means room on every transmitq: a burst that stopped on a
 * full one can go on. */
unsigned vn_pending(struct vnet_dev *d, bool want_tx)
{
	unsigned ev = 0;

	for (unsigned k = 0; k < d->npairs; k++)
		if (vq_drv_has_used(&d->rxq[k].vq))
			ev |= VNET_EV_RX;
	if (want_tx) {
		vn_tx_reclaim(d);
		if (vn_tx_free_min(d) > 0)
			ev |= VNET_EV_TX;
	}
	if (d->link_event) {
		d->link_event = false;
		ev |= VNET_EV_LINK;
	}
	if (d->extra_active && d->extra_ready)
		ev |= VNET_EV_FD;
	return ev;
}

static uint64_t read_count(int fd)
{
	uint64_t cnt = 0;

	if (fd < 0 || read(fd, &cnt, sizeof(cnt)) != (ssize_t)sizeof(cnt))
		return 0;
	return cnt;
}

/* The line fired cnt times: read and clear the cause, unmask. */
static void line_irq(struct vnet_dev *d, uint64_t cnt)
{
	uint8_t cause = 0;

	if (cnt == 0)
		return;
	d->st.irqs_line += cnt;
	if (d->t->ops->line_ack(d->t, &cause) < 0) {
		log_rl(LOG_WARN, "cannot acknowledge the %s interrupt", d->t->line_name);
		return;
	}
	if (cause & VT_CAUSE_CONFIG) {
		d->st.irqs_config++;
		vn_config_changed(d);
	}
}

static void vector_irq(struct vnet_dev *d, unsigned v, uint64_t cnt)
{
	if (cnt == 0)
		return;
	if (v == d->cfg_vector)
		d->st.irqs_config += cnt;
	/* A vector shared by several queues counts once for each kind. */
	for (unsigned k = 0; k < d->npairs; k++) {
		if (v == d->rxq[k].vector) {
			d->st.irqs_rx += cnt;
			break;
		}
	}
	for (unsigned k = 0; k < d->npairs; k++) {
		if (v == d->txq[k].vector) {
			d->st.irqs_tx += cnt;
			break;
		}
	}
	if (v == d->cfg_vector)
		vn_config_changed(d);
}

/* Interrupt source v (an index into irq_fd) fired cnt times (its
 * eventfd was read by whoever slept on it). */
void vn_irq_count(struct vnet_dev *d, unsigned v, uint64_t cnt)
{
	if (d->irq_mode == IRQ_LINE && v == 0)
		line_irq(d, cnt);
	else if (d->irq_mode == IRQ_MSIX && v < d->nvec)
		vector_irq(d, v, cnt);
}

void vn_drain_irqs(struct vnet_dev *d)
{
	if (d->irq_mode == IRQ_LINE)
		line_irq(d, read_count(d->irq_fd[0]));
	else if (d->irq_mode == IRQ_MSIX)
		for (unsigned v = 0; v < d->nvec; v++)
			vector_irq(d, v, read_count(d->irq_fd[v]));
}

/* Arms the callbacks we need; false if work arrived meanwhile. */
bool vn_arm(struct vnet_dev *d, bool want_tx)
{
	bool idle = true;

	for (unsigned k = 0; k < d->npairs; k++) {
		idle = vq_drv_enable_cb(&d->rxq[k].vq) && idle;
		if (want_tx)
			idle = vq_drv_enable_cb(&d->txq[k].vq) && idle;
	}
	return idle;
}

void vn_disarm(struct vnet_dev *d)
{
	for (unsigned k = 0; k < d->npairs; k++) {
		vq_drv_disable_cb(&d->rxq[k].vq);
		vq_drv_disable_cb(&d->txq[k].vq);
	}
}

/* Is some queue we wait for without an interrupt (polled)? */
static bool some_polled(const struct vnet_dev *d, bool want_tx)
{
	for (unsigned k = 0; k < d->npairs; k++)
		if (!vn_queue_irq(d, &d->rxq[k]) || (want_tx && !vn_queue_irq(d, &d->txq[k])))
			return true;
	return false;
}

/* Sleeps in ppoll on the interrupt eventfds and the control socket (to
 * see the device go away).  Sources without an interrupt are polled in
 * short slices; the config is polled every CONFIG_POLL_NS without one. */
int vn_sleep_once(struct vnet_dev *d, uint64_t deadline, bool want_tx)
{
	struct pollfd pfd[VT_MAX_VECTORS + 2];
	unsigned n = 0;
	uint64_t now = now_ns(), slice = deadline > now ? deadline - now : 0;
	bool cfg_irq = d->irq_mode == IRQ_LINE ||
		       (d->irq_mode == IRQ_MSIX && d->cfg_vector != VIRTIO_MSI_NO_VECTOR);
	struct timespec ts;
	int rc;

	if (d->irq_mode == IRQ_LINE)
		pfd[n++] = (struct pollfd){ .fd = d->irq_fd[0], .events = POLLIN };
	else if (d->irq_mode == IRQ_MSIX)
		for (unsigned v = 0; v < d->nvec; v++)
			pfd[n++] = (struct pollfd){ .fd = d->irq_fd[v], .events = POLLIN };
	if (d->extra_active)
		pfd[n++] = (struct pollfd){ .fd = d->extra_fd, .events = POLLIN };
	/* The socket stays last: its revents mean the device went away. */
	pfd[n++] = (struct pollfd){ .fd = d->vfc.sock, .events = POLLRDHUP };
	if (some_polled(d, want_tx))
		slice = slice < POLLED_SLICE_NS ? slice : POLLED_SLICE_NS;
	if (!cfg_irq) {
		uint64_t due = d->last_config_poll + CONFIG_POLL_NS;

		if (now >= due) {
			vn_config_changed(d);
			if (d->link_event || d->needs_reset)
				return 0;
		} else if (due - now < slice) {
			slice = due - now;
		}
	}
	ts.tv_sec = (time_t)(slice / 1000000000u);
	ts.tv_nsec = (long)(slice % 1000000000u);
	d->st.wait_sleeps++;
	rc = ppoll(pfd, n, deadline == UINT64_MAX && slice == deadline - now ? NULL : &ts,
		   NULL);
	if (rc < 0)
		return -errno;
	if (rc > 0 && d->extra_active && pfd[n - 2].revents)
		d->extra_ready = true;
	if (rc > 0 && pfd[n - 1].revents) {
		d->gone = true;
		log_err("the device closed its socket");
		return -ENOTCONN;
	}
	if (rc > 0)
		vn_drain_irqs(d);
	return 0;
}

int vnet_wait(struct vnet_dev *d, int timeout_ms)
{
	uint64_t start = now_ns(), deadline;
	bool want_tx;
	unsigned ev;
	int rc = vn_health(d);

	if (rc < 0)
		return rc;
	vn_answer_announce(d);
	d->st.waits++;
	deadline = timeout_ms < 0 ? UINT64_MAX : start + (uint64_t)timeout_ms * 1000000u;
	vn_tx_reclaim(d);
	want_tx = vn_tx_free_min(d) == 0;
	ev = vn_pending(d, want_tx);
	if (ev)
		return (int)ev;
	/* Busy-poll first: an eventfd wake-up costs tens of microseconds. */
	if (d->params.busy_poll_us) {
		uint64_t until = start + (uint64_t)d->params.busy_poll_us * 1000u;

		while (!(ev = vn_pending(d, want_tx)) && now_ns() < until)
			cpu_relax();
		if (ev)
			return (int)ev;
	}
	for (;;) {
		if (!vn_arm(d, want_tx)) {
			ev = vn_pending(d, want_tx);
			if (ev)
				break;
		}
		rc = vn_sleep_once(d, deadline, want_tx);
		vn_disarm(d);
		if (rc < 0)
			return rc;
		if ((rc = vn_health(d)) < 0)
			return rc;
		vn_answer_announce(d);	/* asked for by the config change just seen */
		ev = vn_pending(d, want_tx);
		if (ev || now_ns() >= deadline)
			break;
	}
	vn_disarm(d);
	return (int)ev;
}

int vnet_wait_fd(struct vnet_dev *d, int timeout_ms, int fd)
{
	int rc;

	if (fd < 0)
		return vnet_wait(d, timeout_ms);
	d->extra_active = true;
	d->extra_ready = false;
	d->extra_fd = fd;
	rc = vnet_wait(d, timeout_ms);
	d->extra_active = false;
	d->extra_ready = false;
	return rc;
}

int vnet_tx_drain(struct vnet_dev *d, int timeout_ms)
{
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX
			    : now_ns() + (uint64_t)timeout_ms * 1000000u;
	int rc;

	for (;;) {
		if ((rc = vn_health(d)) < 0)
			return rc;
		vn_answer_announce(d);
		bool idle = true, drained = true;

		vn_tx_reclaim(d);
		for (unsigned k = 0; k < d->npairs; k++)
			drained = drained && d->txq[k].nidx == d->txq[k].size;
		if (drained)
			return 0;
		if (now_ns() >= deadline)
			return -ETIMEDOUT;
		rc = 0;
		/* Ask for TX interrupts only while waiting here (2.7.7). */
		for (unsigned k = 0; k < d->npairs; k++)
			if (d->txq[k].nidx < d->txq[k].size)
				idle = vq_drv_enable_cb(&d->txq[k].vq) && idle;
		if (idle)
			rc = vn_sleep_once(d, deadline, true);
		vn_disarm(d);
		if (rc < 0)
			return rc;
	}
}
