/* SPDX-License-Identifier: MIT */
/*
 * virtio.h - virtio 1.2 layouts and numbers shared by the device (host/)
 * and the driver (guest/).  Every structure that lives in memory shared
 * with the other side is pinned with static_assert: the other side is a
 * different program, possibly a different compiler, so the layout is a
 * wire format, not an implementation detail.
 *
 * All multi-byte fields are little-endian (virtio 1.x, section 2.4 "Basic
 * Facilities"); we only build for little-endian hosts (asserted below).
 */
#ifndef VNET_VIRTIO_H
#define VNET_VIRTIO_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	      "vnet assumes a little-endian host (virtio 1.x is LE)");

/* ---- 2.1 Device status field ---------------------------------------- */
#define VIRTIO_STATUS_ACKNOWLEDGE	 0x01
#define VIRTIO_STATUS_DRIVER		 0x02
#define VIRTIO_STATUS_DRIVER_OK		 0x04
#define VIRTIO_STATUS_FEATURES_OK	 0x08
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED		 0x80

/* ---- 6 Reserved feature bits (transport / ring) ---------------------- */
#define VIRTIO_F_NOTIFY_ON_EMPTY	24
#define VIRTIO_F_ANY_LAYOUT		27
#define VIRTIO_F_RING_INDIRECT_DESC	28
#define VIRTIO_F_RING_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32
#define VIRTIO_F_ACCESS_PLATFORM	33
#define VIRTIO_F_RING_PACKED		34
#define VIRTIO_F_IN_ORDER		35
#define VIRTIO_F_ORDER_PLATFORM		36

/* ---- 5.1.3 virtio-net feature bits ----------------------------------- */
#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU		3
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GSO		6
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_ECN		9
#define VIRTIO_NET_F_GUEST_UFO		10
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_ECN		13
#define VIRTIO_NET_F_HOST_UFO		14
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_NET_F_CTRL_VQ		17
#define VIRTIO_NET_F_CTRL_RX		18
#define VIRTIO_NET_F_CTRL_VLAN		19
#define VIRTIO_NET_F_CTRL_RX_EXTRA	20
#define VIRTIO_NET_F_GUEST_ANNOUNCE	21
#define VIRTIO_NET_F_MQ			22
#define VIRTIO_NET_F_HASH_REPORT	57
#define VIRTIO_NET_F_RSS		60
#define VIRTIO_NET_F_CTRL_MAC_ADDR	23
#define VIRTIO_NET_F_VQ_NOTF_COAL	52
#define VIRTIO_NET_F_NOTF_COAL		53
#define VIRTIO_NET_F_SPEED_DUPLEX	63

#define VIRTIO_BIT(b) (UINT64_C(1) << (b))
/* A virtio-net feature by its short name: VIRTIO_NET_F(CSUM). */
#define VIRTIO_NET_F(name) VIRTIO_BIT(VIRTIO_NET_F_##name)

/* The offload bits a peer link can carry (docs/ARCHITECTURE.md "peerfeats"). */
#define VNET_PEERFEATS_MAX UINT64_C(0x7fc3)

/* ---- 5.1.4 Device configuration layout ------------------------------- */
#define VIRTIO_NET_S_LINK_UP	1
#define VIRTIO_NET_S_ANNOUNCE	2
/* speed and duplex (with SPEED_DUPLEX): Mbit/s up to 0x7fffffff, or
 * unknown; duplex half, full, or unknown. */
#define VIRTIO_NET_SPEED_UNKNOWN	0xffffffffu
#define VIRTIO_NET_SPEED_MAX		0x7fffffffu
#define VIRTIO_NET_DUPLEX_HALF		0x00
#define VIRTIO_NET_DUPLEX_FULL		0x01
#define VIRTIO_NET_DUPLEX_UNKNOWN	0xff

struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
	uint32_t speed;
	uint8_t duplex;
	/* RSS (or HASH_REPORT) */
	uint8_t rss_max_key_size;
	uint16_t rss_max_indirection_table_length;
	uint32_t supported_hash_types;
} __attribute__((packed));
static_assert(sizeof(struct virtio_net_config) == 24, "net config");
static_assert(offsetof(struct virtio_net_config, rss_max_key_size) == 17, "rss key size");
static_assert(offsetof(struct virtio_net_config, rss_max_indirection_table_length) == 18,
	      "rss table length");
static_assert(offsetof(struct virtio_net_config, supported_hash_types) == 20, "hash types");
static_assert(offsetof(struct virtio_net_config, status) == 6, "status");
static_assert(offsetof(struct virtio_net_config, mtu) == 10, "mtu");
static_assert(offsetof(struct virtio_net_config, speed) == 12, "speed");
static_assert(offsetof(struct virtio_net_config, duplex) == 16, "duplex");

/* ---- 5.1.6 Network device header ------------------------------------- */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM	1
#define VIRTIO_NET_HDR_F_DATA_VALID	2
#define VIRTIO_NET_HDR_F_RSC_INFO	4

#define VIRTIO_NET_HDR_GSO_NONE		0
#define VIRTIO_NET_HDR_GSO_TCPV4	1
#define VIRTIO_NET_HDR_GSO_UDP		3
#define VIRTIO_NET_HDR_GSO_TCPV6	4
#define VIRTIO_NET_HDR_GSO_UDP_L4	5
#define VIRTIO_NET_HDR_GSO_ECN		0x80

/* The 1.x header (12 bytes). Legacy without MRG_RXBUF drops num_buffers
 * (10 bytes, 5.1.6.1). The peer link always carries this layout. */
struct virtio_net_hdr_v1 {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));
static_assert(sizeof(struct virtio_net_hdr_v1) == 12, "net hdr v1");
static_assert(offsetof(struct virtio_net_hdr_v1, num_buffers) == 10, "num_buffers");
#define VIRTIO_NET_HDR_LEGACY_LEN 10

/* With VIRTIO_NET_F_HASH_REPORT the header grows to 20 bytes in both
 * directions (5.1.6: "all the fields inclusive up to padding_reserved");
 * the device fills hash_value and hash_report on receive (5.1.6.4.4).
 * The peer link keeps the 12-byte layout: the receiving device computes
 * the hash (host/dp/rx.c). */
struct virtio_net_hdr_v1_hash {
	struct virtio_net_hdr_v1 hdr;
	uint32_t hash_value;
	uint16_t hash_report;		/* VIRTIO_NET_HASH_REPORT_* */
	uint16_t padding_reserved;
} __attribute__((packed));
static_assert(sizeof(struct virtio_net_hdr_v1_hash) == 20, "net hdr v1 hash");
static_assert(offsetof(struct virtio_net_hdr_v1_hash, hash_value) == 12, "hash_value");
static_assert(offsetof(struct virtio_net_hdr_v1_hash, hash_report) == 16, "hash_report");
static_assert(offsetof(struct virtio_net_hdr_v1_hash, padding_reserved) == 18,
	      "padding_reserved");

/* 5.1.6.3: without MRG_RXBUF a receive buffer holds a whole 1514-byte frame
 * plus the header. */
#define VNET_ETH_MAX_FRAME	1514
#define VNET_ETH_HLEN		14
/* Largest frame on the link: a 64 KiB GSO frame plus its Ethernet header. */
#define VNET_MAX_GSO_FRAME	(65535 + VNET_ETH_HLEN)

/* ---- 5.1.2 Virtqueues ------------------------------------------------ */
/* One pair (no VIRTIO_NET_F_MQ): receiveq1, transmitq1, controlq. */
#define VNET_RXQ 0
#define VNET_TXQ 1
#define VNET_CTRLQ 2

/* 5.1.2: max_virtqueue_pairs counts when MQ or RSS is negotiated (N is
 * then max_virtqueue_pairs, else 1).  receiveqK is 2(K-1), transmitqK
 * 2(K-1)+1 (pairs counted from 0 here), and the controlq comes after the
 * N pairs: queue 2 without either feature, whatever the device could
 * offer. */
static inline bool vnet_has_pairs(uint64_t features)
{
	return features & (VIRTIO_BIT(VIRTIO_NET_F_MQ) | VIRTIO_BIT(VIRTIO_NET_F_RSS));
}
static inline unsigned vnet_rxq(unsigned pair) { return 2u * pair; }
static inline unsigned vnet_txq(unsigned pair) { return 2u * pair + 1u; }
static inline unsigned vnet_ctrlq(unsigned max_pairs, uint64_t features)
{
	return vnet_has_pairs(features) ? 2u * max_pairs : VNET_CTRLQ;
}

/* ---- 5.1.6.5 Control virtqueue --------------------------------------- */
/* A command: {u8 class, u8 command}, data, then one device-writable ack. */
#define VIRTIO_NET_OK			0
#define VIRTIO_NET_ERR			1
#define VIRTIO_NET_CTRL_RX		0	/* 5.1.6.5.1 */
#define VIRTIO_NET_CTRL_RX_PROMISC	0
#define VIRTIO_NET_CTRL_RX_ALLMULTI	1
#define VIRTIO_NET_CTRL_RX_ALLUNI	2	/* CTRL_RX_EXTRA from here */
#define VIRTIO_NET_CTRL_RX_NOMULTI	3
#define VIRTIO_NET_CTRL_RX_NOUNI	4
#define VIRTIO_NET_CTRL_RX_NOBCAST	5
#define VIRTIO_NET_CTRL_MAC		1	/* 5.1.6.5.2 */
#define VIRTIO_NET_CTRL_MAC_TABLE_SET	0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET	1
#define VIRTIO_NET_CTRL_ANNOUNCE	3	/* 5.1.6.5.4 */
#define VIRTIO_NET_CTRL_ANNOUNCE_ACK	0
/* 5.1.6.5.5 Automatic receive steering in multiqueue mode (MQ): le16
 * virtqueue_pairs, 1..max_virtqueue_pairs. */
#define VIRTIO_NET_CTRL_MQ		4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET	0
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN	1
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX	0x8000
/* 5.1.6.5.7.1 (RSS): this head, le16 indirection_table[mask + 1] (receive
 * queue numbers, 0 for receiveq1), le16 max_tx_vq, u8 hash_key_length,
 * then the key. */
#define VIRTIO_NET_CTRL_MQ_RSS_CONFIG	1
struct virtio_net_rss_config_head {
	uint32_t hash_types;
	uint16_t indirection_table_mask;
	uint16_t unclassified_queue;
} __attribute__((packed));
static_assert(sizeof(struct virtio_net_rss_config_head) == 8, "rss config head");
#define VIRTIO_NET_RSS_TAIL_LEN	3	/* max_tx_vq, hash_key_length */
/* 5.1.6.5.5 "Hash calculation" (HASH_REPORT without RSS): this head, then the key of
 * hash_key_length bytes.  reserved must be zero; the layout matches the
 * RSS command's head and tail. */
#define VIRTIO_NET_CTRL_MQ_HASH_CONFIG	2
struct virtio_net_hash_config_head {
	uint32_t hash_types;
	uint16_t reserved[4];
	uint8_t hash_key_length;
} __attribute__((packed));
static_assert(sizeof(struct virtio_net_hash_config_head) == 13, "hash config head");
static_assert(offsetof(struct virtio_net_hash_config_head, hash_key_length) == 12,
	      "hash config key length");
/* 5.1.6.5.6 Notifications coalescing: a command may have a
 * device-writable result after the ack (VQ_GET). */
#define VIRTIO_NET_CTRL_NOTF_COAL	6
#define VIRTIO_NET_CTRL_NOTF_COAL_TX_SET 0	/* NOTF_COAL */
#define VIRTIO_NET_CTRL_NOTF_COAL_RX_SET 1
#define VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET 2	/* VQ_NOTF_COAL */
#define VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET 3

struct virtio_net_ctrl_coal {		/* TX_SET, RX_SET data; VQ_GET result */
	uint32_t max_packets;
	uint32_t max_usecs;
};
static_assert(sizeof(struct virtio_net_ctrl_coal) == 8, "ctrl coal");

struct virtio_net_ctrl_coal_vq {	/* VQ_SET data (VQ_GET: vqn, reserved) */
	uint16_t vqn;
	uint16_t reserved;
	struct virtio_net_ctrl_coal coal;
};
static_assert(sizeof(struct virtio_net_ctrl_coal_vq) == 12, "ctrl coal vq");
static_assert(offsetof(struct virtio_net_ctrl_coal_vq, coal) == 4, "ctrl coal vq");

/* ---- 5.1.6.4.3 Hash calculation for incoming packets ------------------ */
/* Hash types (VIRTIO_NET_F_RSS, HASH_REPORT), bits of hash_types. */
#define VIRTIO_NET_RSS_HASH_TYPE_IPv4	(1u << 0)
#define VIRTIO_NET_RSS_HASH_TYPE_TCPv4	(1u << 1)
#define VIRTIO_NET_RSS_HASH_TYPE_UDPv4	(1u << 2)
#define VIRTIO_NET_RSS_HASH_TYPE_IPv6	(1u << 3)
#define VIRTIO_NET_RSS_HASH_TYPE_TCPv6	(1u << 4)
#define VIRTIO_NET_RSS_HASH_TYPE_UDPv6	(1u << 5)
/* What a receive header's hash_report says the hash covered. */
#define VIRTIO_NET_HASH_REPORT_NONE	0
#define VIRTIO_NET_HASH_REPORT_IPv4	1
#define VIRTIO_NET_HASH_REPORT_TCPv4	2
#define VIRTIO_NET_HASH_REPORT_UDPv4	3
#define VIRTIO_NET_HASH_REPORT_IPv6	4
#define VIRTIO_NET_HASH_REPORT_TCPv6	5
#define VIRTIO_NET_HASH_REPORT_UDPv6	6

/* ---- 2.7 Split virtqueues -------------------------------------------- */
#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	   1

#define VIRTQ_MAX_SIZE 32768

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
static_assert(sizeof(struct virtq_desc) == 16, "split desc");

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
	/* uint16_t used_event follows ring[size] (EVENT_IDX) */
};
static_assert(sizeof(struct virtq_avail) == 4, "avail header");

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};
static_assert(sizeof(struct virtq_used_elem) == 8, "used elem");

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
	/* uint16_t avail_event follows ring[size] (EVENT_IDX) */
};
static_assert(sizeof(struct virtq_used) == 4, "used header");

/* Table "Virtqueue Part" in 2.7: sizes and alignments. */
#define VIRTQ_DESC_ALIGN  16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN  4
static inline size_t virtq_desc_bytes(unsigned qsz) { return 16u * qsz; }
static inline size_t virtq_avail_bytes(unsigned qsz) { return 6u + 2u * qsz; }
static inline size_t virtq_used_bytes(unsigned qsz) { return 6u + 8u * qsz; }

/* Appendix "virtio_queue.h": should the other side be notified, given it
 * asked for a notification at index event_idx, and the index moved from
 * old to new?  All arithmetic wraps at 2^16 (2.7.7, 2.7.10). */
static inline int virtq_need_event(uint16_t event_idx, uint16_t new_idx,
				   uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

/* ---- 2.8 Packed virtqueues (used from the next issue on) ------------- */
#define VIRTQ_PACKED_DESC_F_AVAIL (1u << 7)
#define VIRTQ_PACKED_DESC_F_USED  (1u << 15)

struct virtq_packed_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};
static_assert(sizeof(struct virtq_packed_desc) == 16, "packed desc");

#define VIRTQ_PACKED_EVENT_F_ENABLE  0
#define VIRTQ_PACKED_EVENT_F_DISABLE 1
#define VIRTQ_PACKED_EVENT_F_DESC    2
struct virtq_packed_event {
	uint16_t off_wrap;
	uint16_t flags;
};
static_assert(sizeof(struct virtq_packed_event) == 4, "packed event");

/* ---- 4.1 virtio over PCI --------------------------------------------- */
#define VIRTIO_PCI_VENDOR_ID		0x1af4
#define VIRTIO_PCI_DEVICE_ID_NET_MODERN	0x1041	/* 0x1040 + type 1 */
#define VIRTIO_PCI_DEVICE_ID_NET_TRANS	0x1000	/* transitional */
#define VIRTIO_ID_NET			1

#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11

#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG	  3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG	  5

#define VIRTIO_MSI_NO_VECTOR 0xffff

struct virtio_pci_cap {
	uint8_t cap_vndr;
	uint8_t cap_next;
	uint8_t cap_len;
	uint8_t cfg_type;
	uint8_t bar;
	uint8_t id;
	uint8_t padding[2];
	uint32_t offset;
	uint32_t length;
};
static_assert(sizeof(struct virtio_pci_cap) == 16, "virtio pci cap");

struct virtio_pci_notify_cap {
	struct virtio_pci_cap cap;
	uint32_t notify_off_multiplier;
};
static_assert(sizeof(struct virtio_pci_notify_cap) == 20, "notify cap");

/* 4.1.4.3 Common configuration structure layout */
struct virtio_pci_common_cfg {
	uint32_t device_feature_select;
	uint32_t device_feature;
	uint32_t driver_feature_select;
	uint32_t driver_feature;
	uint16_t config_msix_vector;
	uint16_t num_queues;
	uint8_t device_status;
	uint8_t config_generation;
	uint16_t queue_select;
	uint16_t queue_size;
	uint16_t queue_msix_vector;
	uint16_t queue_enable;
	uint16_t queue_notify_off;
	uint64_t queue_desc;
	uint64_t queue_driver;
	uint64_t queue_device;
	uint16_t queue_notify_data;
	uint16_t queue_reset;
} __attribute__((packed));
static_assert(sizeof(struct virtio_pci_common_cfg) == 60, "common cfg");
static_assert(offsetof(struct virtio_pci_common_cfg, device_status) == 20, "status");
static_assert(offsetof(struct virtio_pci_common_cfg, queue_select) == 22, "qsel");
static_assert(offsetof(struct virtio_pci_common_cfg, queue_desc) == 32, "qdesc");
static_assert(offsetof(struct virtio_pci_common_cfg, queue_device) == 48, "qdev");

/* ISR status bits (4.1.4.5) */
#define VIRTIO_PCI_ISR_QUEUE  1
#define VIRTIO_PCI_ISR_CONFIG 2

/* Standard PCI configuration header offsets we use. */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_STATUS_CAP_LIST	0x10
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_BASE_ADDRESS_0	0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_PIN	0x3d
#define PCI_CFG_SPACE_SIZE	256
#define PCI_COMMAND_INTX_DISABLE 0x400

/* MSI-X capability (PCI Local Bus 3.0 6.8.2) */
#define PCI_MSIX_FLAGS		2	/* message control, offset in cap */
#define PCI_MSIX_FLAGS_ENABLE	0x8000
#define PCI_MSIX_FLAGS_MASKALL	0x4000
#define PCI_MSIX_TABLE		4
#define PCI_MSIX_PBA		8
#define PCI_MSIX_ENTRY_SIZE	16

#endif /* VNET_VIRTIO_H */
