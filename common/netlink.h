/* SPDX-License-Identifier: MIT */
/*
 * netlink.h - link configuration over rtnetlink with libnl-3
 * (libnl-route-3), for the TAP endpoints of a vnet link (docs/ARCHITECTURE.md "Real
 * peers"): find an interface, set it up or down, its MTU, MAC and
 * addresses, move it into a network namespace, put it in a bridge, and
 * create bridges and VXLAN links.
 *
 * A struct vnl is one route socket bound to one network namespace: the
 * current one, or a named one (/run/netns/NAME, as `ip netns` makes
 * them).  The socket is created inside the namespace (setns there and
 * back on the calling thread), so every later call acts inside it while
 * the process stays where it was.
 *
 * Errors: every call returns 0 (or a positive ifindex) or -errno, and
 * writes what failed into err (when err and errlen are given): the
 * interface, the step and libnl's own message (nl_geterror), e.g.
 * "vnet0: set MTU 70000: Invalid input data or parameter".
 *
 * Not for the data path: each call is a netlink round trip.
 */
#ifndef VNET_NETLINK_H
#define VNET_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vnl;

#define VNL_NETNS_DIR "/run/netns"

/* Opens a route socket in the namespace named netns (NULL or "": the
 * calling thread's own).  -ENOENT when there is no /run/netns/NAME,
 * -EPERM without CAP_SYS_ADMIN for another namespace. */
int vnl_open(struct vnl **out, const char *netns, char *err, size_t errlen);
/* Runs fn in network namespace netns (ip netns's name; NULL or "": ours)
 * on this thread, and comes back: what fn opens (a socket, /dev/net/tun)
 * belongs to that namespace.  fn's result, or -errno with err filled
 * when the namespace cannot be entered or left. */
int vnl_in_netns(const char *netns, int (*fn)(void *arg, char *err, size_t errlen), void *arg,
		 char *err, size_t errlen);
void vnl_close(struct vnl *nl);
/* "" for the current namespace, else its name. */
const char *vnl_netns(const struct vnl *nl);

/* The interface's index (> 0), or -ENODEV. */
int vnl_ifindex(struct vnl *nl, const char *ifname, char *err, size_t errlen);
/* Administrative state (IFF_UP). */
int vnl_link_set_up(struct vnl *nl, const char *ifname, bool up, char *err,
		    size_t errlen);
int vnl_link_set_mtu(struct vnl *nl, const char *ifname, unsigned mtu,
		     char *err, size_t errlen);
int vnl_link_set_mac(struct vnl *nl, const char *ifname, const uint8_t mac[6],
		     char *err, size_t errlen);
/* Adds "198.18.0.1/24" or "fd00::1/64" (IPv6 without duplicate address
 * detection, so the address is usable at once). */
int vnl_addr_add(struct vnl *nl, const char *ifname, const char *cidr,
		 char *err, size_t errlen);
/* Moves the interface into the namespace named netns.  It then
 * disappears from nl's namespace (open another vnl there to go on). */
int vnl_link_move_netns(struct vnl *nl, const char *ifname, const char *netns,
			char *err, size_t errlen);
/* Makes ifname a port of the bridge master (NULL: leaves its bridge). */
int vnl_link_set_master(struct vnl *nl, const char *ifname, const char *master,
			char *err, size_t errlen);
int vnl_link_delete(struct vnl *nl, const char *ifname, char *err, size_t errlen);

/* Creates a Linux bridge (down). */
int vnl_bridge_create(struct vnl *nl, const char *name, char *err, size_t errlen);

/* What an interface is, as the kernel says: its kind (IFLA_INFO_KIND:
 * "bridge", "vxlan", "tun", "veth"...; "" for a device without one) and
 * the master it is a port of ("" for none). */
#define VNL_IFNAME_MAX 16	/* IFNAMSIZ */
struct vnl_link_info {
	char kind[32];
	char master[VNL_IFNAME_MAX];
};

/* 0 with out filled, or -errno (-ENODEV: no such interface). */
int vnl_link_info(struct vnl *nl, const char *ifname, struct vnl_link_info *out, char *err,
		  size_t errlen);

/* The UDP port of the VXLAN links we make (IANA, RFC 7348 section 5). */
#define VNL_VXLAN_PORT 4789

struct vnl_vxlan {
	const char *name;	/* the new interface */
	uint32_t id;		/* VNI, 0..2^24-1 */
	const char *local;	/* our underlay address (optional) */
	const char *remote;	/* the other end's underlay address (unicast) */
	uint16_t dstport;	/* UDP port; 0: VNL_VXLAN_PORT */
	const char *dev;	/* underlay interface (optional) */
};

/* Creates a unicast VXLAN link (down), addresses IPv4 or IPv6. */
int vnl_vxlan_create(struct vnl *nl, const struct vnl_vxlan *cfg, char *err,
		     size_t errlen);

/* An existing VXLAN link as the kernel has it. */
struct vnl_vxlan_info {
	uint32_t id;		/* VNI */
	uint16_t dstport;	/* UDP port */
	char remote[48];	/* unicast remote (inet_ntop form); "" for none */
};

/* 0 with out filled; -ENODEV when there is no ifname, -EMEDIUMTYPE when
 * it is not a VXLAN link; -errno with err filled. */
int vnl_vxlan_info(struct vnl *nl, const char *ifname, struct vnl_vxlan_info *out,
		   char *err, size_t errlen);

/* Checks that s is an address with prefix, "A/P" (IPv4 /0..32, IPv6
 * /0..128).  0, or -EINVAL with why (may be NULL) filled; *family (may
 * be NULL) gets AF_INET or AF_INET6. */
int vnl_parse_cidr(const char *s, int *family, char *why, size_t whylen);
/* Is s a name `ip netns` could have made: 1..63 of [A-Za-z0-9_.-], not
 * "." or "..". */
bool vnl_valid_netns_name(const char *s);
/* Is s a valid interface name: 1..15 bytes, no '/', ':' or blanks, not
 * "." or "..". */
bool vnl_valid_ifname(const char *s);

#endif /* VNET_NETLINK_H */
