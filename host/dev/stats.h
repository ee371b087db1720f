/* SPDX-License-Identifier: MIT */
/*
 * stats.h - a vdev's counters as text (logs, the demo) and JSON
 * (`vnet-host stats --json`).
 */
#ifndef VNET_HOST_VDEV_STATS_H
#define VNET_HOST_VDEV_STATS_H

#include <json-c/json.h>
#include <stddef.h>

#include "host/dev/vdev.h"

#define VDEV_STATS_MAX 2048	/* enough for the text line */

/* One line per vdev into buf (always NUL-terminated); returns length. */
size_t vdev_stats_format(const struct vdev *vd, char *buf, size_t len);
/* The same counters as one JSON object (the caller's to put). */
json_object *vdev_stats_json(const struct vdev *vd);
void vdev_stats_log(const struct vdev *vd);

#endif /* VNET_HOST_VDEV_STATS_H */
