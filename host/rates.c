// SPDX-License-Identifier: MIT
/*
 * rates.c - per-second rates from two samples of every vdev's counters
 * (rates.h).  The samples are the control socket's JSON, read with
 * json-c; a vdev is matched between samples by name.
 */
#include "host/rates.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/control.h"
#include "host/opts.h"

struct sample {
	char name[OPTS_NAME_MAX];
	uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes, drops, irqs;
};

static uint64_t member_u64(json_object *o, const char *group, const char *key)
{
	json_object *g, *v;

	if (!json_object_object_get_ex(o, group, &g) || !json_object_object_get_ex(g, key, &v))
		return 0;
	return json_object_get_uint64(v);
}

/* Every drop reason summed, whatever they are. */
static uint64_t drops_total(json_object *o)
{
	json_object *g;
	uint64_t sum = 0;

	if (!json_object_object_get_ex(o, "drops", &g) || !json_object_is_type(g, json_type_object))
		return 0;
	json_object_object_foreach(g, key, val) {
		(void)key;
		sum += json_object_get_uint64(val);
	}
	return sum;
}

/* One sample of up to OPTS_MAX_VDEVS vdevs; their count, or -errno. */
static int take_sample(const char *who, const char *dir, char *buf, struct sample *s)
{
	json_object *root, *vdevs;
	ssize_t len = control_request(who, dir, "stats json", buf, CONTROL_REPLY_MAX + 1);
	int n = 0;

	if (len < 0)
		return (int)len;
	root = json_tokener_parse(buf);
	if (!root || !json_object_object_get_ex(root, "vdevs", &vdevs) ||
	    !json_object_is_type(vdevs, json_type_array)) {
		fprintf(stderr, "%s: %s: not the counters expected: %.80s\n", who, dir, buf);
		json_object_put(root);
		return -EPROTO;
	}
	for (size_t i = 0; i < json_object_array_length(vdevs) && n < OPTS_MAX_VDEVS; i++) {
		json_object *v = json_object_array_get_idx(vdevs, i), *name;

		if (!json_object_object_get_ex(v, "name", &name))
			continue;
		snprintf(s[n].name, sizeof(s[n].name), "%s", json_object_get_string(name));
		s[n].tx_frames = member_u64(v, "tx", "frames");
		s[n].tx_bytes = member_u64(v, "tx", "bytes");
		s[n].rx_frames = member_u64(v, "rx", "frames");
		s[n].rx_bytes = member_u64(v, "rx", "bytes");
		s[n].irqs = member_u64(v, "tx", "irqs") + member_u64(v, "rx", "irqs");
		s[n].drops = drops_total(v);
		n++;
	}
	json_object_put(root);
	return n;
}

/* A counter's growth; 0 if it went back (a restarted vnet-host). */
static double grew(uint64_t now, uint64_t then)
{
	return now >= then ? (double)(now - then) : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_rates(const struct sample *c, const struct sample *p, double dt)
{
	double txf = grew(c->tx_frames, p->tx_frames), rxf = grew(c->rx_frames, p->rx_frames);
	double frames = txf + rxf;

	printf("%s: tx %.0f frames/s %.3f Mbit/s, rx %.0f frames/s %.3f Mbit/s, drops %.0f/s, irqs/frame %.3f\n",
	       c->name, txf / dt, grew(c->tx_bytes, p->tx_bytes) * 8 / dt / 1e6, rxf / dt,
	       grew(c->rx_bytes, p->rx_bytes) * 8 / dt / 1e6, grew(c->drops, p->drops) / dt,
	       frames > 0 ? grew(c->irqs, p->irqs) / frames : 0.0);
}

int stats_rates(const char *who, const char *dir, unsigned interval)
{
	static struct sample prev[OPTS_MAX_VDEVS], cur[OPTS_MAX_VDEVS];
	char *buf = malloc(CONTROL_REPLY_MAX + 1);
	struct timespec due;
	int np, nc, rc;
	double t0, t1;

	if (!buf)
		return -ENOMEM;
	/* Samples on a fixed beat from the start (line k after k*S seconds,
	 * however long a request takes); rates over the time really passed. */
	clock_gettime(CLOCK_MONOTONIC, &due);
	np = take_sample(who, dir, buf, prev);
	t0 = now_s();
	while (np >= 0) {
		due.tv_sec += interval;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
			;
		nc = take_sample(who, dir, buf, cur);
		t1 = now_s();
		if (nc < 0) {
			np = nc;
			break;
		}
		for (int i = 0; i < nc; i++)
			for (int k = 0; k < np; k++)
				if (strcmp(cur[i].name, prev[k].name) == 0)
					print_rates(&cur[i], &prev[k], t1 - t0);
		fflush(stdout);
		memcpy(prev, cur, sizeof(cur[0]) * (size_t)nc);
		np = nc;
		t0 = t1;
	}
	rc = np;
	free(buf);
	return rc;
}
