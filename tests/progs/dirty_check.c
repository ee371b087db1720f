// SPDX-License-Identifier: MIT
/*
 * dirty_check - is the device's dirty-page log (DMA_LOGGING, what a VMM
 * migrating a running guest copies again) complete?  A receiving guest
 * posts its buffers, starts the log over all of its RAM and takes a copy
 * of the RAM; then it keeps its own hands off while the peer streams
 * frames in, so every byte that changes is the device's (RX buffers,
 * used ring, event indexes).  Once the RAM stops changing it asks for
 * the log and compares it with a diff of the RAM: every changed page
 * must be in the log; pages the log has beyond them are counted (the
 * device wrote the same bytes again, or a part of a page a write covered).
 *
 *   dirty_check --socket PATH [--packed]
 *
 * Prints "ready" once the peer may send, then diff_pages, reported_pages,
 * missing and extra.  Exit 0 when the RAM changed and nothing is
 * missing, 1 when pages are missing (or nothing arrived), 2 on a setup
 * error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guest/virtio_net_priv.h"

#define PAGE	      4096u
#define SETTLE_CHECKS 3		/* unchanged this many times in a row ... */
#define SETTLE_MS     200	/* ... this far apart */
#define WAIT_MS	      10000

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static uint64_t changed_pages(const uint8_t *before, const uint8_t *now, uint64_t size)
{
	uint64_t n = 0;

	for (uint64_t off = 0; off < size; off += PAGE)
		n += memcmp(before + off, now + off, PAGE) != 0;
	return n;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "packed", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct vnet_dev_params p = { 0 };
	uint64_t page = PAGE, diff = 0, reported = 0, missing = 0, extra = 0, last = 0;
	unsigned stable = 0, waited = 0;
	struct vnet_dev *d;
	uint64_t *bits;
	uint8_t *before;
	size_t words;
	int o, rc;

	while ((o = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		if (o == 's')
			p.socket_path = optarg;
		else if (o == 'p')
			p.want_packed = true;
		else
			return 2;
	}
	if (!p.socket_path) {
		fprintf(stderr, "usage: dirty_check --socket PATH [--packed]\n");
		return 2;
	}
	if (vnet_dev_open(&d, &p) < 0)
		return 2;
	for (int i = 0; i < 50 && !vnet_link_up(d); i++)
		sleep_ms(100);
	words = (size_t)(d->ram.size / PAGE + 63) / 64;
	before = malloc(d->ram.size);
	bits = calloc(words, sizeof(*bits));
	if (!before || !bits || !vnet_link_up(d))
		return 2;
	/* The log first, then the copy: a write between them is only extra. */
	rc = vfc_dma_logging_start(&d->vfc, &page);
	if (rc < 0 || page != PAGE) {
		fprintf(stderr, "dirty_check: DMA_LOGGING_START: %s (page %llu)\n", strerror(-rc),
			(unsigned long long)page);
		return 2;
	}
	memcpy(before, d->ram.base, d->ram.size);
	printf("ready\n");
	fflush(stdout);
	/* Hands off: wait until the device has stopped writing. */
	while (stable < SETTLE_CHECKS && waited < WAIT_MS) {
		uint64_t n;

		sleep_ms(SETTLE_MS);
		waited += SETTLE_MS;
		n = changed_pages(before, d->ram.base, d->ram.size);
		stable = n && n == last ? stable + 1 : 0;
		last = n;
	}
	rc = vfc_dma_logging_report(&d->vfc, 0, d->ram.size, PAGE, bits, words);
	if (rc < 0) {
		fprintf(stderr, "dirty_check: DMA_LOGGING_REPORT: %s\n", strerror(-rc));
		return 2;
	}
	for (uint64_t pg = 0; pg < d->ram.size / PAGE; pg++) {
		bool changed = memcmp(before + pg * PAGE, d->ram.base + pg * PAGE, PAGE) != 0;
		bool logged = bits[pg / 64] >> (pg % 64) & 1;

		diff += changed;
		reported += logged;
		missing += changed && !logged;
		extra += logged && !changed;
	}
	printf("diff_pages: %llu\nreported_pages: %llu\nmissing: %llu\nextra: %llu\n",
	       (unsigned long long)diff, (unsigned long long)reported,
	       (unsigned long long)missing, (unsigned long long)extra);
	vfc_dma_logging_stop(&d->vfc);
	vnet_dev_close(d);
	free(before);
	free(bits);
	return diff && !missing ? 0 : 1;
}
