// SPDX-License-Identifier: MIT
/*
 * info.c - `vnet-guest info [--json]`: what the device and the driver
 * agreed on (transport, features, queues, MAC, link, MTU, interrupts).
 */
#include <stdio.h>

#include "common/mac.h"
#include "common/peerfeats.h"
#include "guest/tool/out.h"
#include "guest/tool/tool.h"

static void out_feature_names(struct out *o, const char *key, uint64_t f)
{
	json_object *names = o->json ? json_object_new_array() : NULL;
	bool first = true;

	out_key(o, key);
	for (unsigned bit = 0; bit < 64; bit++) {
		const char *name = virtio_net_feature_name(bit);
		char unnamed[8];

		if (!(f & (UINT64_C(1) << bit)))
			continue;
		if (!name) {
			snprintf(unnamed, sizeof(unnamed), "bit%u", bit);
			name = unnamed;
		}
		if (o->json)
			json_object_array_add(names, json_object_new_string(name));
		else
			printf("%s%s", first ? "" : " ", name);
		first = false;
	}
	out_json(o, key, names);
	out_eol(o);
}

static void out_queues(struct out *o, const struct vnet_info *in)
{
	if (o->json) {
		json_object *qs = json_object_new_array();

		for (unsigned i = 0; i < in->nqueues; i++) {
			const struct vnet_queue_info *q = &in->queues[i];
			json_object *j = json_object_new_object();

			json_object_object_add(j, "name", json_object_new_string(q->name));
			json_object_object_add(j, "index", json_object_new_int64(q->index));
			json_object_object_add(j, "size", json_object_new_int64(q->size));
			json_object_object_add(j, "max_size", json_object_new_int64(q->max_size));
			json_object_object_add(j, "msix_vector",
					       json_object_new_int64(q->vector == 0xffff ? -1 : q->vector));
			json_object_object_add(j, "kick", json_object_new_string(q->kick));
			json_object_object_add(j, "buffer_size", json_object_new_int64(q->buf_size));
			json_object_array_add(qs, j);
		}
		out_json(o, "queues", qs);
		return;
	}
	out_u64(o, "queues", in->nqueues);
	for (unsigned i = 0; i < in->nqueues; i++) {
		const struct vnet_queue_info *q = &in->queues[i];

		out_key(o, q->name);
		printf("index %u size %u max %u vector ", q->index, q->size, q->max_size);
		if (q->vector == 0xffff)
			printf("none");
		else
			printf("%u", q->vector);
		printf(" kick %s buffer %u\n", q->kick, q->buf_size);
	}
}

static int cmd_info(struct cli *c, struct vnet_dev *d)
{
	struct vnet_info in;
	struct out o;
	char mac[18];
	uint32_t speed;
	uint8_t duplex;

	vnet_dev_info(d, &in);
	out_begin(&o, c->json);
	out_str(&o, "transport", in.transport);
	if (in.mmio_loc)
		out_str(&o, "loc", in.mmio_loc);
	if (in.mmio_intr >= 0)
		out_u64(&o, "intr", (uint64_t)in.mmio_intr);
	out_str(&o, "ring", in.ring);
	out_hex(&o, "device_features", in.device_features);
	out_feature_names(&o, "device_feature_names", in.device_features);
	out_hex(&o, "driver_features", in.driver_features);
	out_feature_names(&o, "driver_feature_names", in.driver_features);
	out_queues(&o, &in);
	out_u64(&o, "device_queues", in.device_queues);
	out_u64(&o, "queue_pairs", in.queue_pairs);
	out_u64(&o, "max_queue_pairs", in.max_queue_pairs);
	out_str(&o, "rss", in.rss ? "on" : "off");
	if (in.rss)
		out_u64(&o, "rss_table", in.rss_table_len);
	out_str(&o, "hash_report", in.hash_report ? "on" : "off");
	out_u64(&o, "queue_size", in.queues[0].size);
	out_str(&o, "mac", mac_format(in.mac, mac));
	out_str(&o, "mac_source", in.mac_from_device ? "device" : "random");
	if (o.json)
		out_bool(&o, "link_up", in.link_up);
	else
		out_str(&o, "link", in.link_up ? "up" : "down");
	out_str(&o, "link_source", in.link_reported ? "device" : "assumed");
	out_u64(&o, "mtu", in.mtu);
	out_str(&o, "mtu_source", in.mtu_from_device ? "device" : "default");
	if (vnet_link_speed(d, &speed, &duplex) && speed != VIRTIO_NET_SPEED_UNKNOWN)
		out_u64(&o, "speed_mbps", speed);
	else
		out_str(&o, "speed_mbps", "unknown");
	out_str(&o, "duplex", duplex == VIRTIO_NET_DUPLEX_FULL ? "full" :
			      duplex == VIRTIO_NET_DUPLEX_HALF ? "half" : "unknown");
	/* The device's own word on interrupt coalescing (VQ_NOTF_COAL). */
	for (unsigned dir = VNET_RX; dir <= VNET_TX; dir++) {
		uint32_t frames, usecs;

		if (vnet_ctrl_coalesce_get(d, (enum vnet_queue_dir)dir, &frames, &usecs) < 0)
			continue;
		out_u64(&o, dir == VNET_RX ? "coalesce_rx_frames" : "coalesce_tx_frames", frames);
		out_u64(&o, dir == VNET_RX ? "coalesce_rx_usecs" : "coalesce_tx_usecs", usecs);
	}
	out_u64(&o, "max_frame", in.max_tx_frame);
	out_str(&o, "interrupts", in.interrupts);
	out_u64(&o, "msix_vectors", in.msix_vectors);
	out_u64(&o, "net_header_bytes", in.hdr_len);
	out_bool(&o, "control_queue", in.has_ctrl);
	out_u64(&o, "ram_bytes", in.ram_size);
	out_str(&o, "ram_pages", in.ram_huge ? "huge" : "4k");
	out_u64(&o, "ram_used", in.ram_used);
	out_bool(&o, "needs_reset", in.needs_reset);
	out_end(&o);
	return EXIT_OK;
}

const struct command command_info = { "info", 0, false, false, cmd_info };
