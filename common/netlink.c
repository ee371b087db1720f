// SPDX-License-Identifier: MIT
/*
 * netlink.c - link configuration with libnl-route-3 (see netlink.h).
 *
 * Every request is one libnl call on a route socket; libnl's negative
 * NLE_* codes are turned into -errno for our callers and its message
 * (nl_geterror) goes into the caller's err buffer, prefixed with the
 * interface and the step, so a failure reads the same wherever it is
 * printed.  Names from the command line were checked by opts.c; they are
 * checked again here because this is a library.
 */
#include "common/netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/vxlan.h>

#define NETNS_NAME_MAX 64	/* incl. NUL */

struct vnl {
	struct nl_sock *sk;
	char netns[NETNS_NAME_MAX];
};

__attribute__((format(printf, 3, 4)))
static void put_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* libnl's NLE_* (positive here) as the errno a caller can act on. */
static int nle_to_errno(int e)
{
	switch (e < 0 ? -e : e) {
	case NLE_NOMEM: return ENOMEM;
	case NLE_EXIST: return EEXIST;
	case NLE_INVAL: case NLE_RANGE: case NLE_MISSING_ATTR: return EINVAL;
	case NLE_OPNOTSUPP: case NLE_AF_NOSUPPORT: return EOPNOTSUPP;
	case NLE_OBJ_NOTFOUND: case NLE_NODEV: return ENODEV;
	case NLE_BUSY: return EBUSY;
	case NLE_NOACCESS: return EACCES;
	case NLE_PERM: return EPERM;
	case NLE_NOADDR: return EADDRNOTAVAIL;
	case NLE_AGAIN: return EAGAIN;
	case NLE_INTR: return EINTR;
	default: return EIO;
	}
}

/* Fills err with "what: libnl message" and returns -errno. */
static int nl_fail(int nle, char *err, size_t errlen, const char *what)
{
	put_err(err, errlen, "%s: %s", what, nl_geterror(nle));
	return -nle_to_errno(nle);
}

/* ---- names and addresses --------------------------------------------- */

bool vnl_valid_ifname(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strnlen(s, IFNAMSIZ);
	if (n == 0 || n >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	/* The kernel's dev_valid_name(), plus control characters. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '/' || c == ':' || c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

bool vnl_valid_netns_name(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strnlen(s, NETNS_NAME_MAX);
	if (n == 0 || n >= NETNS_NAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int vnl_parse_cidr(const char *s, int *family, char *why, size_t whylen)
{
	char host[INET6_ADDRSTRLEN + 1];
	unsigned char bin[sizeof(struct in6_addr)];
	const char *slash;
	unsigned long plen = 0;
	size_t n;
	int fam;

	if (!s || !*s) {
		put_err(why, whylen, "is empty; expected ADDRESS/PREFIX like 198.18.0.1/24");
		return -EINVAL;
	}
	slash = strchr(s, '/');
	if (!slash) {
		put_err(why, whylen, "has no /PREFIX; expected ADDRESS/PREFIX like 198.18.0.1/24 or fd00::1/64");
		return -EINVAL;
	}
	n = (size_t)(slash - s);
	if (n == 0 || n >= sizeof(host)) {
		put_err(why, whylen, "has no address before '/'");
		return -EINVAL;
	}
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, bin) == 1) {
		fam = AF_INET;
	} else if (inet_pton(AF_INET6, host, bin) == 1) {
		fam = AF_INET6;
	} else {
		put_err(why, whylen, "is not an IPv4 or IPv6 address before '/'");
		return -EINVAL;
	}
	/* 1..3 decimal digits, no sign, no leading zero. */
	slash++;
	n = strlen(slash);
	if (n == 0 || n > 3 || (slash[0] == '0' && n > 1)) {
		put_err(why, whylen, "has a bad prefix length (expected 0..%d)",
			fam == AF_INET ? 32 : 128);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (slash[i] < '0' || slash[i] > '9') {
			put_err(why, whylen, "has a bad prefix length (expected 0..%d)",
				fam == AF_INET ? 32 : 128);
			return -EINVAL;
		}
		plen = plen * 10 + (unsigned long)(slash[i] - '0');
	}
	if (plen > (fam == AF_INET ? 32u : 128u)) {
		put_err(why, whylen, "has prefix length %lu, more than %d for %s", plen,
			fam == AF_INET ? 32 : 128, fam == AF_INET ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	if (family)
		*family = fam;
	return 0;
}

/* ---- sockets ----------------------------------------------------------- */

static int open_netns_fd(const char *netns, char *err, size_t errlen)
{
	char path[sizeof(VNL_NETNS_DIR) + NETNS_NAME_MAX + 1];
	int fd;

	if (!vnl_valid_netns_name(netns)) {
		put_err(err, errlen, "netns '%.*s': not a valid namespace name", 64, netns);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/%s", VNL_NETNS_DIR, netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		put_err(err, errlen, "netns %s: cannot open %s: %s%s", netns, path, strerror(e),
			e == ENOENT ? " (create it with 'ip netns add')" : "");
		return -e;
	}
	return fd;
}

int vnl_in_netns(const char *netns, int (*fn)(void *arg, char *err, size_t errlen), void *arg,
		 char *err, size_t errlen)
{
	int nsfd, self, rc;

	if (!netns || !*netns)
		return fn(arg, err, errlen);
	nsfd = open_netns_fd(netns, err, errlen);
	if (nsfd < 0)
		return nsfd;
	/* thread-self: setns moves only this thread, so come back to this
	 * thread's namespace, not the process leader's. */
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
		rc = -errno;
		put_err(err, errlen, "netns %s: cannot enter it: %s", netns, strerror(-rc));
		if (self >= 0)
			close(self);
		close(nsfd);
		return rc;
	}
	rc = fn(arg, err, errlen);
	if (setns(self, CLONE_NEWNET) < 0) {
		/* Stuck in the other namespace: nothing we do later would
		 * act where the caller thinks.  Report it loudly. */
		rc = -errno;
		put_err(err, errlen, "netns %s: cannot return to our own namespace: %s", netns,
			strerror(-rc));
	}
	close(self);
	close(nsfd);
	return rc;
}

static int connect_route(void *arg, char *err, size_t errlen)
{
	struct vnl *nl = arg;
	int rc;

	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		put_err(err, errlen, "netlink: out of memory");
		return -ENOMEM;
	}
	rc = nl_connect(nl->sk, NETLINK_ROUTE);
	return rc < 0 ? nl_fail(rc, err, errlen, "netlink: cannot open a route socket") : 0;
}

int vnl_open(struct vnl **out, const char *netns, char *err, size_t errlen)
{
	struct vnl *nl;
	int rc;

	*out = NULL;
	nl = calloc(1, sizeof(*nl));
	if (!nl) {
		put_err(err, errlen, "netlink: out of memory");
		return -ENOMEM;
	}
	if (netns && *netns)
		snprintf(nl->netns, sizeof(nl->netns), "%s", netns);
	/* The route socket belongs to the namespace it was made in. */
	rc = vnl_in_netns(netns, connect_route, nl, err, errlen);
	if (rc < 0) {
		if (nl->sk)
			nl_socket_free(nl->sk);
		free(nl);
		return rc;
	}
	*out = nl;
	return 0;
}

void vnl_close(struct vnl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

const char *vnl_netns(const struct vnl *nl)
{
	return nl->netns;
}

/* ---- links ------------------------------------------------------------- */

/* "IFNAME: step" or "IFNAME (netns NS): step" for messages. */
static void what(char *buf, size_t len, const struct vnl *nl, const char *ifname,
		 const char *step)
{
	if (nl->netns[0])
		snprintf(buf, len, "%s (netns %s): %s", ifname, nl->netns, step);
	else
		snprintf(buf, len, "%s: %s", ifname, step);
}

static int get_link(struct vnl *nl, const char *ifname, struct rtnl_link **link,
		    char *err, size_t errlen)
{
	char w[160];
	int rc;

	*link = NULL;
	if (!vnl_valid_ifname(ifname)) {
		put_err(err, errlen, "'%.*s': not a valid interface name", IFNAMSIZ, ifname);
		return -EINVAL;
	}
	rc = rtnl_link_get_kernel(nl->sk, 0, ifname, link);
	if (rc < 0) {
		what(w, sizeof(w), nl, ifname, "no such interface");
		return nl_fail(rc, err, errlen, w);
	}
	return 0;
}

int vnl_ifindex(struct vnl *nl, const char *ifname, char *err, size_t errlen)
{
	struct rtnl_link *link;
	int rc = get_link(nl, ifname, &link, err, errlen);

	if (rc < 0)
		return rc;
	rc = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return rc > 0 ? rc : -ENODEV;
}

int vnl_link_info(struct vnl *nl, const char *ifname, struct vnl_link_info *out, char *err,
		  size_t errlen)
{
	struct rtnl_link *link, *master;
	const char *kind;
	char w[160];
	int rc = get_link(nl, ifname, &link, err, errlen);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	kind = rtnl_link_get_type(link);
	snprintf(out->kind, sizeof(out->kind), "%s", kind ? kind : "");
	rc = rtnl_link_get_master(link);
	rtnl_link_put(link);
	if (rc <= 0)
		return 0;
	rc = rtnl_link_get_kernel(nl->sk, rc, NULL, &master);
	if (rc < 0) {
		what(w, sizeof(w), nl, ifname, "its master");
		return nl_fail(rc, err, errlen, w);
	}
	snprintf(out->master, sizeof(out->master), "%s", rtnl_link_get_name(master));
	rtnl_link_put(master);
	return 0;
}

/* Applies the change chg to ifname; step names it in messages. */
static int change_link(struct vnl *nl, const char *ifname, struct rtnl_link *chg,
		       const char *step, char *err, size_t errlen)
{
	struct rtnl_link *link;
	char w[200];
	int rc = get_link(nl, ifname, &link, err, errlen);

	if (rc < 0)
		return rc;
	rc = rtnl_link_change(nl->sk, link, chg, 0);
	rtnl_link_put(link);
	if (rc < 0) {
		what(w, sizeof(w), nl, ifname, step);
		return nl_fail(rc, err, errlen, w);
	}
	return 0;
}

static struct rtnl_link *alloc_change(char *err, size_t errlen)
{
	struct rtnl_link *chg = rtnl_link_alloc();

	if (!chg)
		put_err(err, errlen, "netlink: out of memory");
	return chg;
}

int vnl_link_set_up(struct vnl *nl, const char *ifname, bool up, char *err,
		    size_t errlen)
{
	struct rtnl_link *chg = alloc_change(err, errlen);
	int rc;

	if (!chg)
		return -ENOMEM;
	if (up)
		rtnl_link_set_flags(chg, IFF_UP);
	else
		rtnl_link_unset_flags(chg, IFF_UP);
	rc = change_link(nl, ifname, chg, up ? "set up" : "set down", err, errlen);
	rtnl_link_put(chg);
	return rc;
}

int vnl_link_set_mtu(struct vnl *nl, const char *ifname, unsigned mtu,
		     char *err, size_t errlen)
{
	struct rtnl_link *chg = alloc_change(err, errlen);
	char step[32];
	int rc;

	if (!chg)
		return -ENOMEM;
	rtnl_link_set_mtu(chg, mtu);
	snprintf(step, sizeof(step), "set MTU %u", mtu);
	rc = change_link(nl, ifname, chg, step, err, errlen);
	rtnl_link_put(chg);
	return rc;
}

int vnl_link_set_mac(struct vnl *nl, const char *ifname, const uint8_t mac[6],
		     char *err, size_t errlen)
{
	struct rtnl_link *chg = alloc_change(err, errlen);
	struct nl_addr *a;
	int rc;

	if (!chg)
		return -ENOMEM;
	a = nl_addr_build(AF_LLC, mac, 6);
	if (!a) {
		rtnl_link_put(chg);
		put_err(err, errlen, "netlink: out of memory");
		return -ENOMEM;
	}
	rtnl_link_set_addr(chg, a);
	rc = change_link(nl, ifname, chg, "set MAC address", err, errlen);
	nl_addr_put(a);
	rtnl_link_put(chg);
	return rc;
}

int vnl_addr_add(struct vnl *nl, const char *ifname, const char *cidr,
		 char *err, size_t errlen)
{
	struct rtnl_addr *ra = NULL;
	struct nl_addr *local = NULL;
	char why[128], w[200];
	int fam = 0, idx, rc;

	if (vnl_parse_cidr(cidr, &fam, why, sizeof(why)) < 0) {
		put_err(err, errlen, "%s: address '%.*s' %s", ifname, 64, cidr, why);
		return -EINVAL;
	}
	idx = vnl_ifindex(nl, ifname, err, errlen);
	if (idx < 0)
		return idx;
	rc = nl_addr_parse(cidr, fam, &local);
	if (rc < 0) {
		what(w, sizeof(w), nl, ifname, "parse address");
		return nl_fail(rc, err, errlen, w);
	}
	ra = rtnl_addr_alloc();
	if (!ra) {
		nl_addr_put(local);
		put_err(err, errlen, "netlink: out of memory");
		return -ENOMEM;
	}
	rtnl_addr_set_ifindex(ra, idx);
	rtnl_addr_set_family(ra, fam);
	rc = rtnl_addr_set_local(ra, local);
	if (rc == 0) {
		rtnl_addr_set_prefixlen(ra, (int)nl_addr_get_prefixlen(local));
		/* DAD would keep an IPv6 address "tentative" (unusable) for
		 * a second or more; the link is ours, there is no one to
		 * collide with that the user did not configure. */
		if (fam == AF_INET6)
			rtnl_addr_set_flags(ra, IFA_F_NODAD);
		rc = rtnl_addr_add(nl->sk, ra, 0);
	}
	rtnl_addr_put(ra);
	nl_addr_put(local);
	if (rc < 0) {
		char step[96];

		snprintf(step, sizeof(step), "add address %s", cidr);
		what(w, sizeof(w), nl, ifname, step);
		return nl_fail(rc, err, errlen, w);
	}
	return 0;
}

int vnl_link_move_netns(struct vnl *nl, const char *ifname, const char *netns,
			char *err, size_t errlen)
{
	struct rtnl_link *chg;
	char step[96];
	int fd, rc;

	fd = open_netns_fd(netns, err, errlen);
	if (fd < 0)
		return fd;
	chg = alloc_change(err, errlen);
	if (!chg) {
		close(fd);
		return -ENOMEM;
	}
	rtnl_link_set_ns_fd(chg, fd);
	snprintf(step, sizeof(step), "move into netns %s", netns);
	rc = change_link(nl, ifname, chg, step, err, errlen);
	rtnl_link_put(chg);
	close(fd);
	return rc;
}

int vnl_link_set_master(struct vnl *nl, const char *ifname, const char *master,
			char *err, size_t errlen)
{
	char w[200], step[64];
	int idx, midx, rc;

	idx = vnl_ifindex(nl, ifname, err, errlen);
	if (idx < 0)
		return idx;
	if (!master) {
		rc = rtnl_link_release_ifindex(nl->sk, idx);
		snprintf(step, sizeof(step), "leave its bridge");
	} else {
		midx = vnl_ifindex(nl, master, err, errlen);
		if (midx < 0)
			return midx;
		rc = rtnl_link_enslave_ifindex(nl->sk, midx, idx);
		snprintf(step, sizeof(step), "join bridge %s", master);
	}
	if (rc < 0) {
		what(w, sizeof(w), nl, ifname, step);
		return nl_fail(rc, err, errlen, w);
	}
	return 0;
}

int vnl_link_delete(struct vnl *nl, const char *ifname, char *err, size_t errlen)
{
	struct rtnl_link *link;
	char w[200];
	int rc = get_link(nl, ifname, &link, err, errlen);

	if (rc < 0)
		return rc;
	rc = rtnl_link_delete(nl->sk, link);
	rtnl_link_put(link);
	if (rc < 0) {
		what(w, sizeof(w), nl, ifname, "delete");
		return nl_fail(rc, err, errlen, w);
	}
	return 0;
}

int vnl_bridge_create(struct vnl *nl, const char *name, char *err, size_t errlen)
{
	char w[200];
	int rc;

	if (!vnl_valid_ifname(name)) {
		put_err(err, errlen, "'%.*s': not a valid interface name", IFNAMSIZ, name);
		return -EINVAL;
	}
	rc = rtnl_link_bridge_add(nl->sk, name);
	if (rc < 0) {
		what(w, sizeof(w), nl, name, "create bridge");
		return nl_fail(rc, err, errlen, w);
	}
	return 0;
}

/* Parses a unicast underlay address for VXLAN. */
static int vx_addr(const char *s, const char *role, const char *name,
		   struct nl_addr **out, char *err, size_t errlen)
{
	unsigned char bin[sizeof(struct in6_addr)];
	int fam = strchr(s, ':') ? AF_INET6 : AF_INET;
	int rc;

	if (inet_pton(fam, s, bin) != 1) {
		put_err(err, errlen, "%s: vxlan %s '%.*s' is not an IPv4 or IPv6 address", name,
			role, 64, s);
		return -EINVAL;
	}
	rc = nl_addr_parse(s, fam, out);
	if (rc < 0) {
		char w[96];

		snprintf(w, sizeof(w), "%s: vxlan %s", name, role);
		return nl_fail(rc, err, errlen, w);
	}
	return fam;
}

int vnl_vxlan_create(struct vnl *nl, const struct vnl_vxlan *cfg, char *err,
		     size_t errlen)
{
	struct nl_addr *remote = NULL, *local = NULL;
	struct rtnl_link *l = NULL;
	char w[200];
	int rc, rfam, lfam;

	if (!vnl_valid_ifname(cfg->name)) {
		put_err(err, errlen, "'%.*s': not a valid interface name", IFNAMSIZ,
			cfg->name ? cfg->name : "");
		return -EINVAL;
	}
	if (cfg->id >= (1u << 24)) {
		put_err(err, errlen, "%s: vxlan id %u is beyond 24 bits", cfg->name, cfg->id);
		return -EINVAL;
	}
	if (!cfg->remote) {
		put_err(err, errlen, "%s: vxlan needs the remote end's address", cfg->name);
		return -EINVAL;
	}
	rfam = vx_addr(cfg->remote, "remote", cfg->name, &remote, err, errlen);
	if (rfam < 0)
		return rfam;
	if (cfg->local) {
		lfam = vx_addr(cfg->local, "local", cfg->name, &local, err, errlen);
		if (lfam < 0) {
			rc = lfam;
			goto out;
		}
		if (lfam != rfam) {
			put_err(err, errlen, "%s: vxlan local and remote are of different families",
				cfg->name);
			rc = -EINVAL;
			goto out;
		}
	}
	l = rtnl_link_vxlan_alloc();
	if (!l) {
		put_err(err, errlen, "netlink: out of memory");
		rc = -ENOMEM;
		goto out;
	}
	rtnl_link_set_name(l, cfg->name);
	rc = rtnl_link_vxlan_set_id(l, cfg->id);
	/* IFLA_VXLAN_GROUP(6) holds the remote when it is unicast: the
	 * default forwarding entry then points at it (iproute2's "remote"). */
	if (rc == 0)
		rc = rtnl_link_vxlan_set_group(l, remote);
	if (rc == 0 && local)
		rc = rtnl_link_vxlan_set_local(l, local);
	if (rc == 0)
		rc = rtnl_link_vxlan_set_port(l, cfg->dstport ? cfg->dstport : VNL_VXLAN_PORT);
	if (rc == 0 && cfg->dev) {
		int idx = vnl_ifindex(nl, cfg->dev, err, errlen);

		if (idx < 0) {
			rc = idx;
			goto out;
		}
		rc = rtnl_link_vxlan_set_link(l, (uint32_t)idx);
	}
	if (rc < 0) {
		what(w, sizeof(w), nl, cfg->name, "vxlan attributes");
		rc = nl_fail(rc, err, errlen, w);
		goto out;
	}
	rc = rtnl_link_add(nl->sk, l, NLM_F_CREATE | NLM_F_EXCL);
	if (rc < 0) {
		what(w, sizeof(w), nl, cfg->name, "create vxlan");
		rc = nl_fail(rc, err, errlen, w);
	}
out:
	if (l)
		rtnl_link_put(l);
	if (local)
		nl_addr_put(local);
	if (remote)
		nl_addr_put(remote);
	return rc;
}

int vnl_vxlan_info(struct vnl *nl, const char *ifname, struct vnl_vxlan_info *out,
		   char *err, size_t errlen)
{
	struct vnl_link_info li;
	struct rtnl_link *link;
	struct nl_addr *remote = NULL;
	uint32_t port = 0;
	char w[160];
	int rc = vnl_link_info(nl, ifname, &li, err, errlen);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	/* libnl's vxlan getters refuse (loudly) a link of another kind. */
	if (strcmp(li.kind, "vxlan") != 0) {
		put_err(err, errlen, "%s is %s%s, not a VXLAN link", ifname,
			li.kind[0] ? "a " : "a device without a kind", li.kind);
		return -EMEDIUMTYPE;
	}
	rc = get_link(nl, ifname, &link, err, errlen);
	if (rc < 0)
		return rc;
	rc = rtnl_link_vxlan_get_id(link, &out->id);
	if (rc == 0)
		rc = rtnl_link_vxlan_get_port(link, &port);
	out->dstport = (uint16_t)port;
	/* The unicast remote is the "group" (see vnl_vxlan_create); none is
	 * NLE_AGAIN. */
	if (rc == 0 && rtnl_link_vxlan_get_group(link, &remote) == 0) {
		if (!inet_ntop(nl_addr_get_family(remote), nl_addr_get_binary_addr(remote),
			       out->remote, sizeof(out->remote)))
			out->remote[0] = 0;
		nl_addr_put(remote);
	}
	rtnl_link_put(link);
	if (rc < 0) {
		what(w, sizeof(w), nl, ifname, "vxlan attributes");
		return nl_fail(rc, err, errlen, w);
	}
	return 0;
}
