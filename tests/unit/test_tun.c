// SPDX-License-Identifier: MIT
/*
 * test_tun.c - the TAP helpers that need no root: the offload mapping
 * (which direction a virtio feature turns into which TUN_F_ flag, with
 * the kernel's prerequisites), the header check applied before a frame
 * is written to a TAP, and the address and name checks of netlink.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_tun.h>

#include <cmocka.h>

#include "common/netlink.h"
#include "common/tun.h"


static void test_offloads_receiver(void **state)
{
	(void)state;
	assert_int_equal(tun_offloads_for_receiver(0), 0);
	/* Transmit bits of the receiver mean nothing for what it receives. */
	assert_int_equal(tun_offloads_for_receiver(VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_TSO4)), 0);
	assert_int_equal(tun_offloads_for_receiver(VIRTIO_NET_F(GUEST_CSUM)), TUN_F_CSUM);
	assert_int_equal(tun_offloads_for_receiver(VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_TSO4) | VIRTIO_NET_F(GUEST_TSO6)),
			 TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
	/* The kernel refuses TSO without CSUM and ECN without TSO. */
	assert_int_equal(tun_offloads_for_receiver(VIRTIO_NET_F(GUEST_TSO4) | VIRTIO_NET_F(GUEST_UFO)), 0);
	assert_int_equal(tun_offloads_for_receiver(VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_ECN)), TUN_F_CSUM);
	assert_int_equal(tun_offloads_for_receiver(0x7fc3),
			 TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO);
	/* QNX's 0x19c3: CSUM, GUEST_CSUM, GSO, GUEST_TSO4/6, HOST_TSO4/6. */
	assert_int_equal(tun_offloads_for_receiver(0x19c3), TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
}

static void test_offloads_sender(void **state)
{
	(void)state;
	assert_int_equal(tun_offloads_for_sender(VIRTIO_NET_F(GUEST_CSUM) | VIRTIO_NET_F(GUEST_TSO4)), 0);
	assert_int_equal(tun_offloads_for_sender(VIRTIO_NET_F(CSUM)), TUN_F_CSUM);
	assert_int_equal(tun_offloads_for_sender(VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_TSO6) | VIRTIO_NET_F(HOST_ECN)),
			 TUN_F_CSUM | TUN_F_TSO6 | TUN_F_TSO_ECN);
	assert_int_equal(tun_offloads_for_sender(VIRTIO_NET_F(HOST_TSO4)), 0);
	assert_int_equal(tun_offloads_for_sender(VIRTIO_NET_F(CSUM) | VIRTIO_NET_F(HOST_UFO)), TUN_F_CSUM | TUN_F_UFO);
}

static void test_offloads_format(void **state)
{
	char buf[64], tiny[6];

	(void)state;
	assert_string_equal(tun_offloads_format(0, buf, sizeof(buf)), "none");
	assert_string_equal(tun_offloads_format(TUN_F_CSUM | TUN_F_TSO4, buf, sizeof(buf)),
			    "CSUM|TSO4");
	/* Cut, never overrun. */
	tun_offloads_format(TUN_F_CSUM | TUN_F_TSO4, tiny, sizeof(tiny));
	assert_true(strlen(tiny) < sizeof(tiny));
}

static struct virtio_net_hdr_v1 hdr(uint8_t flags, uint8_t gso, uint16_t gso_size,
				    uint16_t hdr_len, uint16_t cs, uint16_t co)
{
	struct virtio_net_hdr_v1 h = { .flags = flags, .gso_type = gso, .gso_size = gso_size,
				       .hdr_len = hdr_len, .csum_start = cs, .csum_offset = co,
				       .num_buffers = 7 };
	return h;
}

static void test_hdr_sanitize(void **state)
{
	struct virtio_net_hdr_v1 h;
	char why[128];

	(void)state;
	h = hdr(0, 0, 0, 0, 0, 0);
	assert_true(tun_hdr_sanitize(&h, 60, false, why, sizeof(why)));
	assert_int_equal(h.num_buffers, 0);
	/* A partial checksum inside the frame: fine; beyond it: refused. */
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 16);
	assert_true(tun_hdr_sanitize(&h, 60, false, why, sizeof(why)));
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 50, 16);
	assert_false(tun_hdr_sanitize(&h, 60, false, why, sizeof(why)));
	assert_non_null(strstr(why, "checksum position past the frame"));
	/* DATA_VALID only where a device vouches for it. */
	h = hdr(VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0);
	assert_true(tun_hdr_sanitize(&h, 60, false, why, sizeof(why)));
	assert_int_equal(h.flags, 0);
	h = hdr(VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0);
	assert_true(tun_hdr_sanitize(&h, 60, true, why, sizeof(why)));
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	/* Unknown flags and GSO types, ECN alone, GSO without a size. */
	h = hdr(0x80, 0, 0, 0, 0, 0);
	assert_false(tun_hdr_sanitize(&h, 60, false, why, sizeof(why)));
	h = hdr(0, 9, 1448, 54, 0, 0);
	assert_false(tun_hdr_sanitize(&h, 3000, false, why, sizeof(why)));
	h = hdr(0, VIRTIO_NET_HDR_GSO_ECN, 0, 0, 0, 0);
	assert_false(tun_hdr_sanitize(&h, 60, false, why, sizeof(why)));
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 0, 54, 34, 16);
	assert_false(tun_hdr_sanitize(&h, 3000, false, why, sizeof(why)));
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
		1448, 54, 34, 16);
	assert_true(tun_hdr_sanitize(&h, 3000, false, why, sizeof(why)));
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP | VIRTIO_NET_HDR_GSO_ECN,
		1448, 42, 34, 6);
	assert_false(tun_hdr_sanitize(&h, 3000, false, why, sizeof(why)));
	/* Header length beyond the frame; frames too short or too long. */
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 1428, 4000, 54, 16);
	assert_false(tun_hdr_sanitize(&h, 3000, false, why, sizeof(why)));
	h = hdr(0, 0, 0, 0, 0, 0);
	assert_false(tun_hdr_sanitize(&h, 13, false, why, sizeof(why)));
	assert_false(tun_hdr_sanitize(&h, VNET_MAX_GSO_FRAME + 1, false, why, sizeof(why)));
}

static void test_cidr(void **state)
{
	char why[128];
	int fam = 0;

	(void)state;
	assert_int_equal(vnl_parse_cidr("198.18.0.1/24", &fam, why, sizeof(why)), 0);
	assert_int_equal(fam, AF_INET);
	assert_int_equal(vnl_parse_cidr("fd00::1/64", &fam, why, sizeof(why)), 0);
	assert_int_equal(fam, AF_INET6);
	assert_int_equal(vnl_parse_cidr("0.0.0.0/0", NULL, why, sizeof(why)), 0);
	assert_int_equal(vnl_parse_cidr("::/128", NULL, why, sizeof(why)), 0);
	assert_int_equal(vnl_parse_cidr("10.0.0.1", NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(vnl_parse_cidr("10.0.0.1/", NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(vnl_parse_cidr("10.0.0.1/33", NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(vnl_parse_cidr("10.0.0.1/08", NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(vnl_parse_cidr("10.0.0.1/-1", NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(vnl_parse_cidr("10.0.0.1/8x", NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(vnl_parse_cidr("fd00::1/129", NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(vnl_parse_cidr("host/24", NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(vnl_parse_cidr("/24", NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(vnl_parse_cidr("", NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(vnl_parse_cidr(NULL, NULL, why, sizeof(why)), -EINVAL);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(vnl_valid_ifname("vp0"));
	assert_true(vnl_valid_ifname("abcdefghijklmno"));	/* 15 */
	assert_false(vnl_valid_ifname("abcdefghijklmnop"));	/* 16 */
	assert_false(vnl_valid_ifname(""));
	assert_false(vnl_valid_ifname("a/b"));
	assert_false(vnl_valid_ifname("a:b"));
	assert_false(vnl_valid_ifname("a b"));
	assert_false(vnl_valid_ifname(".."));
	assert_false(vnl_valid_ifname(NULL));
	assert_true(vnl_valid_netns_name("ns-1_a.b"));
	assert_false(vnl_valid_netns_name("../etc"));
	assert_false(vnl_valid_netns_name("a/b"));
	assert_false(vnl_valid_netns_name("."));
	assert_false(vnl_valid_netns_name(""));
}

static void test_open_bad_netns(void **state)
{
	struct vnl *nl = (struct vnl *)1;
	char err[256];

	(void)state;
	/* Refused before any system call: no root needed. */
	assert_int_equal(vnl_open(&nl, "../x", err, sizeof(err)), -EINVAL);
	assert_null(nl);
	assert_non_null(strstr(err, "not a valid namespace name"));
	assert_int_equal(vnl_open(&nl, "vnet-no-such-ns-ever", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "ip netns add"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offloads_receiver),
		cmocka_unit_test(test_offloads_sender),
		cmocka_unit_test(test_offloads_format),
		cmocka_unit_test(test_hdr_sanitize),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_open_bad_netns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
