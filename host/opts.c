// SPDX-License-Identifier: MIT
/*
 * opts.c - vnet-host's command line and --config file (docs/ARCHITECTURE.md
 * "Command line").
 *
 * Both sources are untrusted text.  Every word is checked before it is
 * stored, every message says where the word was (argument number or
 * FILE:LINE), quotes it (escaped and shortened, so a hostile word cannot
 * drive the terminal or flood the log) and says what was expected.
 * Nothing here exits, aborts or keeps half a result: the caller refuses to
 * start on any error.
 */
#include "common/mac.h"
#include "common/virtio.h"
#include "host/opts.h"

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/netlink.h"
#include "common/peerfeats.h"
#include "common/virtio.h"

#define CONFIG_MAX_BYTES   (1024 * 1024)
#define CONFIG_LINE_MAX	   4096
/* "vdev virtio-net legacy" plus seven options with values is 17 words;
 * "vdev tap" with every option and four addresses is 30. */
#define CONFIG_LINE_WORDS  40
#define VERBOSE_MAX	   9
#define LOC_ALIGN	   UINT64_C(4096)
#define LOC_LIMIT	   (UINT64_C(1) << 48)	/* guest physical addresses */
#define QUOTE_MAX	   96	/* bytes of an escaped word in a message */
#define VFIO_SUFFIX	   ".vfio"

/* ---- Messages --------------------------------------------------------- */

/* Copies w into out with every byte outside printable ASCII (and '\')
 * written as \xNN, cut with "..." when it does not fit.  outlen >= 4. */
static const char *show(char *out, size_t outlen, const char *w)
{
	size_t o = 0;

	for (; *w; w++) {
		unsigned char c = (unsigned char)*w;
		char piece[8];
		size_t n = 1;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			piece[0] = (char)c;
		else
			n = (size_t)snprintf(piece, sizeof(piece), "\\x%02x", c);
		if (o + n + 4 > outlen) {
			memcpy(out + o, "...", 4);
			return out;
		}
		memcpy(out + o, piece, n);
		o += n;
	}
	out[o] = '\0';
	return out;
}

/* A word quoted for a message; the buffer lives until the end of the
 * enclosing block, which covers the call it is an argument of. */
#define Q(w) show((char[QUOTE_MAX]){ 0 }, QUOTE_MAX, (w))

__attribute__((format(printf, 3, 0)))
static void vput(char *buf, size_t len, const char *fmt, va_list ap)
{
	if (buf && len)
		vsnprintf(buf, len, fmt, ap);
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Where the words being parsed come from. */
struct parser {
	struct host_opts *o;
	char *err;
	size_t errlen;
	const char *file;	/* NULL: the command line */
	unsigned long line;	/* file: line number, from 1 */
	int argbase;		/* command line: argv index of words[0] */
};

/* "argument N: ..." or "FILE:LINE: ..." for the word at words[idx]. */
__attribute__((format(printf, 3, 4)))
static int perr(const struct parser *p, int idx, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->errlen)
		return -EINVAL;
	if (p->file) {
		char fname[256];

		n = snprintf(p->err, p->errlen, "%s:%lu: ",
			     show(fname, sizeof(fname), p->file), p->line);
	} else {
		n = snprintf(p->err, p->errlen, "argument %d: ", p->argbase + idx);
	}
	if (n < 0 || (size_t)n >= p->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vput(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Checkers below write what is wrong into why (when non-NULL). */
__attribute__((format(printf, 3, 4)))
static bool bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput(why, whylen, fmt, ap);
	va_end(ap);
	return false;
}

/* ---- Values ----------------------------------------------------------- */

static int digit_value(char c, unsigned base)
{
	int d;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	else
		return -1;
	return (unsigned)d < base ? d : -1;
}

/* Hex "0x..." or decimal, nothing else: no sign, no spaces, no trailing
 * junk, and no leading 0 on a decimal, because C would read "010" as
 * octal 8 and a hypervisor configuration may have been written that way. */
static bool parse_number(const char *s, uint64_t *out, char *why, size_t whylen)
{
	const char *p = s;
	unsigned base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		p += 2;
		if (!*p)
			return bad(why, whylen, "has no hex digits after 0x");
	} else if (digit_value(s[0], 10) < 0) {
		return bad(why, whylen,
			   "is not a number (expected hex like 0x1000 or decimal)");
	} else if (s[0] == '0' && s[1]) {
		return bad(why, whylen,
			   "has a leading 0; octal is not accepted (write hex as 0x...)");
	}
	for (; *p; p++) {
		int d = digit_value(*p, base);

		if (d < 0)
			return bad(why, whylen, "has '%s' after the number, which is not a %s digit",
				   Q(p), base == 16 ? "hex" : "decimal");
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return bad(why, whylen, "does not fit in 64 bits");
		v = v * base + (uint64_t)d;
	}
	*out = v;
	return true;
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static bool check_name(const char *s, char *why, size_t whylen)
{
	size_t n = strnlen(s, OPTS_NAME_MAX);

	if (n == 0)
		return bad(why, whylen, "is empty");
	if (n >= OPTS_NAME_MAX)
		return bad(why, whylen, "is longer than %d characters", OPTS_NAME_MAX - 1);
	if (s[0] == '.' || s[0] == '-')
		return bad(why, whylen, "starts with '%c'; a name starts with a letter, digit or '_'",
			   s[0]);
	for (size_t i = 0; i < n; i++) {
		if (!name_char_ok(s[i])) {
			char one[2] = { s[i], '\0' };

			return bad(why, whylen,
				   "contains '%s'; allowed are letters, digits, '_', '.' and '-'",
				   Q(one));
		}
	}
	return true;
}

bool opts_valid_name(const char *s)
{
	return s && check_name(s, NULL, 0);
}

static bool intr_char_ok(char c)
{
	return name_char_ok(c) || c == ':';
}

static bool check_intr(const char *s, char *why, size_t whylen)
{
	size_t n = strnlen(s, OPTS_INTR_MAX);

	if (n == 0)
		return bad(why, whylen, "is empty");
	if (n >= OPTS_INTR_MAX)
		return bad(why, whylen, "is longer than %d characters", OPTS_INTR_MAX - 1);
	for (size_t i = 0; i < n; i++) {
		if (!intr_char_ok(s[i])) {
			char one[2] = { s[i], '\0' };

			return bad(why, whylen,
				   "contains '%s'; expected a line number like 41 or PIC:LINE like gic:40",
				   Q(one));
		}
	}
	return true;
}

/* Control characters are legal in Linux file names but only ever appear
 * in one by mistake or malice; they would also garble every log line. */
static bool check_path(const char *s, size_t max, char *why, size_t whylen)
{
	size_t n = strnlen(s, max);

	if (n == 0)
		return bad(why, whylen, "is empty");
	if (n >= max)
		return bad(why, whylen, "is longer than %zu bytes", max - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return bad(why, whylen, "contains control character \\x%02x",
				   (unsigned char)s[i]);
	return true;
}

static bool check_mac(const char *s, uint8_t mac[6], char *why, size_t whylen)
{
	return mac_parse(s, mac, why, whylen) == 0;
}

/* FNV-1a (64 bit): small, stable across builds and hosts, good enough to
 * spread names over 32 bits of MAC. */
static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

void opts_default_mac(const char *system, const char *name, uint8_t mac[6])
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	h = fnv1a(h, system ? system : "");
	h = fnv1a(h, "/");
	h = fnv1a(h, name ? name : "");
	/* 52:54 is QEMU's prefix: 0x52 has the locally administered bit set
	 * and the multicast bit clear, and admins already recognise it. */
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = (uint8_t)(h >> 24);
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* ---- Run directory ---------------------------------------------------- */

static bool is_writable_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	       faccessat(AT_FDCWD, path, W_OK | X_OK, AT_EACCESS) == 0;
}

__attribute__((format(printf, 3, 4)))
static int put_path(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, outlen, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= outlen) {
		out[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

int opts_default_run_dir(char *out, size_t outlen)
{
	const char *env = getenv("VNET_RUN_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (!out || !outlen)
		return -EINVAL;
	if (env && *env)
		return put_path(out, outlen, "%s", env);
	/* /run/vnet as it is, or created by the host under a writable /run. */
	if (is_writable_dir("/run/vnet") ||
	    (stat("/run/vnet", &st) != 0 && errno == ENOENT && is_writable_dir("/run")))
		return put_path(out, outlen, "/run/vnet");
	/* The XDG spec says to ignore a relative XDG_RUNTIME_DIR. */
	if (xdg && xdg[0] == '/')
		return put_path(out, outlen, "%s/vnet", xdg);
	return put_path(out, outlen, "/tmp/vnet-%u", (unsigned)geteuid());
}

/* ---- Device options --------------------------------------------------- */

typedef int (*apply_fn)(const struct parser *p, int idx, struct vdev_opts *v,
			const char *val);

static int apply_intr(const struct parser *p, int idx, struct vdev_opts *v,
		      const char *val)
{
	char why[160];

	if (!check_intr(val, why, sizeof(why)))
		return perr(p, idx, "intr '%s' %s", Q(val), why);
	memcpy(v->intr, val, strlen(val) + 1);
	v->has_intr = true;
	return 0;
}

static int apply_legacy(const struct parser *p, int idx, struct vdev_opts *v,
			const char *val)
{
	(void)p, (void)idx, (void)val;
	v->legacy = true;
	return 0;
}

static int apply_loc(const struct parser *p, int idx, struct vdev_opts *v,
		     const char *val)
{
	char why[160];
	uint64_t a = 0;

	if (!parse_number(val, &a, why, sizeof(why)))
		return perr(p, idx, "loc '%s' %s", Q(val), why);
	if (a == 0)
		return perr(p, idx, "loc '%s' is zero; expected the device's register base address",
			    Q(val));
	if (a % LOC_ALIGN)
		return perr(p, idx, "loc '%s' is not 4 KiB aligned (expected a multiple of 0x1000)",
			    Q(val));
	if (a >= LOC_LIMIT)
		return perr(p, idx, "loc '%s' is beyond the 48-bit guest physical address space",
			    Q(val));
	v->loc = a;
	v->has_loc = true;
	return 0;
}

static int apply_mac(const struct parser *p, int idx, struct vdev_opts *v,
		     const char *val)
{
	char why[160];

	if (!check_mac(val, v->mac, why, sizeof(why)))
		return perr(p, idx, "mac '%s' %s", Q(val), why);
	v->has_mac = true;
	return 0;
}

static int apply_name(const struct parser *p, int idx, struct vdev_opts *v,
		      const char *val)
{
	char why[160];

	if (!check_name(val, why, sizeof(why)))
		return perr(p, idx, "name '%s' %s", Q(val), why);
	memcpy(v->name, val, strlen(val) + 1);
	v->has_name = true;
	return 0;
}

/* A path option's value, checked, into dst (max bytes with the NUL);
 * what says what the path is for. */
static int take_path(const struct parser *p, int idx, const char *word, const char *what,
		     const char *val, char *dst, size_t max, bool *has)
{
	char why[160];

	if (!check_path(val, max, why, sizeof(why)))
		return perr(p, idx, "%s '%s' %s (%s)", word, Q(val), why, what);
	memcpy(dst, val, strlen(val) + 1);
	*has = true;
	return 0;
}

static int apply_peer(const struct parser *p, int idx, struct vdev_opts *v,
		      const char *val)
{
	return take_path(p, idx, "peer", "a UNIX socket path", val, v->peer, OPTS_PATH_MAX,
			 &v->has_peer);
}

static int apply_peerfeats(const struct parser *p, int idx, struct vdev_opts *v,
			   const char *val)
{
	char why[256];
	uint64_t mask = 0;

	if (strcmp(val, "auto") == 0) {
		v->peerfeats_auto = true;
		v->peerfeats = 0;
		return 0;
	}
	if (!parse_number(val, &mask, why, sizeof(why)))
		return perr(p, idx, "peerfeats '%s' %s, or 'auto'", Q(val), why);
	if (peerfeats_validate(mask, why, sizeof(why)) < 0)
		return perr(p, idx, "%s", why);
	v->peerfeats = mask;
	return 0;
}

static int apply_vhost_user(const struct parser *p, int idx, struct vdev_opts *v,
			    const char *val)
{
	return take_path(p, idx, "vhost-user", "a UNIX socket path", val, v->vhost_user,
			 OPTS_PATH_MAX, &v->has_vhost_user);
}

static int apply_capture(const struct parser *p, int idx, struct vdev_opts *v,
			 const char *val)
{
	return take_path(p, idx, "capture", "a file for the pcap", val, v->capture,
			 OPTS_CAPTURE_MAX, &v->has_capture);
}

static int apply_ifname(const struct parser *p, int idx, struct vdev_opts *v,
			const char *val)
{
	if (!vnl_valid_ifname(val))
		return perr(p, idx, "ifname '%s' is not an interface name (1..%d bytes, no '/', ':' or blanks)",
			    Q(val), OPTS_IFNAME_MAX - 1);
	memcpy(v->ifname, val, strlen(val) + 1);
	return 0;
}

static int apply_speed(const struct parser *p, int idx, struct vdev_opts *v,
		       const char *val)
{
	char why[160];
	uint64_t mbps = 0;

	if (!parse_number(val, &mbps, why, sizeof(why)))
		return perr(p, idx, "speed '%s' %s", Q(val), why);
	if (mbps < 1 || mbps > VIRTIO_NET_SPEED_MAX)
		return perr(p, idx, "speed '%s' is out of range; expected 1..%u Mbit/s (5.1.4)",
			    Q(val), VIRTIO_NET_SPEED_MAX);
	v->speed = (uint32_t)mbps;
	v->has_speed = true;
	return 0;
}

/* Our extension: max_virtqueue_pairs (VIRTIO_NET_F_MQ, 5.1.4). */
static int apply_queues(const struct parser *p, int idx, struct vdev_opts *v,
			const char *val)
{
	char why[160];
	uint64_t n = 0;

	if (!parse_number(val, &n, why, sizeof(why)))
		return perr(p, idx, "queues '%s' %s", Q(val), why);
	if (n < 1 || n > OPTS_MAX_QUEUE_PAIRS)
		return perr(p, idx, "queues '%s' is out of range; expected 1..%u queue pairs",
			    Q(val), OPTS_MAX_QUEUE_PAIRS);
	v->queues = (unsigned)n;
	return 0;
}

/* Our extension: data-path threads (host/dp/threads.c); pair K runs on
 * thread K mod N.  At most queues (checked in check_vdev). */
static int apply_threads(const struct parser *p, int idx, struct vdev_opts *v,
			 const char *val)
{
	char why[160];
	uint64_t n = 0;

	if (!parse_number(val, &n, why, sizeof(why)))
		return perr(p, idx, "threads '%s' %s", Q(val), why);
	if (n < 1 || n > OPTS_MAX_QUEUE_PAIRS)
		return perr(p, idx, "threads '%s' is out of range; expected 1..%u data-path threads",
			    Q(val), OPTS_MAX_QUEUE_PAIRS);
	v->threads = (unsigned)n;
	return 0;
}

/* Our extension: the CPUs the data-path threads are pinned to, "0,1". */
static int apply_cpus(const struct parser *p, int idx, struct vdev_opts *v, const char *val)
{
	char list[64], *save = NULL;

	if (strnlen(val, sizeof(list)) >= sizeof(list))
		return perr(p, idx, "cpus '%s' is too long; expected up to %u CPU numbers like 0,1",
			    Q(val), OPTS_MAX_QUEUE_PAIRS);
	memcpy(list, val, strlen(val) + 1);
	v->n_cpus = 0;
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char why[160];
		uint64_t cpu = 0;

		if (v->n_cpus == OPTS_MAX_QUEUE_PAIRS)
			return perr(p, idx, "cpus '%s' names more than %u CPUs (one per thread at most)",
				    Q(val), OPTS_MAX_QUEUE_PAIRS);
		if (!parse_number(t, &cpu, why, sizeof(why)))
			return perr(p, idx, "cpus '%s': '%s' %s", Q(val), Q(t), why);
		if (cpu >= CPU_SETSIZE)
			return perr(p, idx, "cpus '%s': CPU %s is out of range; expected 0..%d",
				    Q(val), Q(t), CPU_SETSIZE - 1);
		v->cpus[v->n_cpus++] = (unsigned)cpu;
	}
	if (!v->n_cpus)
		return perr(p, idx, "cpus '%s' names no CPU; expected CPU numbers like 0,1", Q(val));
	return 0;
}

static int apply_duplex(const struct parser *p, int idx, struct vdev_opts *v,
			const char *val)
{
	if (strcmp(val, "full") == 0)
		v->duplex = VIRTIO_NET_DUPLEX_FULL;
	else if (strcmp(val, "half") == 0)
		v->duplex = VIRTIO_NET_DUPLEX_HALF;
	else
		return perr(p, idx, "duplex '%s' is neither 'full' nor 'half'", Q(val));
	v->has_duplex = true;
	return 0;
}

static int apply_mtu(const struct parser *p, int idx, struct vdev_opts *v,
		     const char *val)
{
	char why[160];
	uint64_t mtu = 0;

	if (!parse_number(val, &mtu, why, sizeof(why)))
		return perr(p, idx, "mtu '%s' %s", Q(val), why);
	if (mtu < OPTS_MTU_MIN || mtu > OPTS_MTU_MAX)
		return perr(p, idx, "mtu '%s' is out of range; expected %d..%d bytes", Q(val),
			    OPTS_MTU_MIN, OPTS_MTU_MAX);
	v->mtu = (unsigned)mtu;
	v->has_mtu = true;
	return 0;
}

static int apply_addr(const struct parser *p, int idx, struct vdev_opts *v,
		      const char *val)
{
	char why[160];

	if (v->n_addrs >= OPTS_TAP_ADDRS)
		return perr(p, idx, "more than %d addr options in one vdev", OPTS_TAP_ADDRS);
	if (strnlen(val, OPTS_ADDR_MAX) >= OPTS_ADDR_MAX ||
	    vnl_parse_cidr(val, NULL, why, sizeof(why)) < 0)
		return perr(p, idx, "addr '%s' %s", Q(val),
			    strnlen(val, OPTS_ADDR_MAX) >= OPTS_ADDR_MAX ? "is too long" : why);
	memcpy(v->addrs[v->n_addrs++], val, strlen(val) + 1);
	return 0;
}

static int apply_netns(const struct parser *p, int idx, struct vdev_opts *v,
		       const char *val)
{
	if (!vnl_valid_netns_name(val))
		return perr(p, idx, "netns '%s' is not a namespace name (1..%d of letters, digits, '_', '.', '-'; as 'ip netns add' makes them in %s)",
			    Q(val), OPTS_NETNS_MAX - 1, VNL_NETNS_DIR);
	memcpy(v->netns, val, strlen(val) + 1);
	v->has_netns = true;
	return 0;
}

static int apply_bridge(const struct parser *p, int idx, struct vdev_opts *v,
			const char *val)
{
	if (!vnl_valid_ifname(val))
		return perr(p, idx, "bridge '%s' is not an interface name (1..%d bytes, no '/', ':' or blanks)",
			    Q(val), OPTS_IFNAME_MAX - 1);
	memcpy(v->bridge, val, strlen(val) + 1);
	v->has_bridge = true;
	return 0;
}

/* "VNI@REMOTE": 42@192.0.2.7 or 42@2001:db8::7. */
static int apply_vxlan(const struct parser *p, int idx, struct vdev_opts *v,
		       const char *val)
{
	char why[160], vni[16];
	const char *at = strchr(val, '@');
	unsigned char bin[16];
	uint64_t id = 0;
	size_t n;

	if (!at)
		return perr(p, idx, "vxlan '%s' has no '@'; expected VNI@REMOTE like 42@192.0.2.7",
			    Q(val));
	n = (size_t)(at - val);
	if (n == 0 || n >= sizeof(vni))
		return perr(p, idx, "vxlan '%s' has no VNI before '@'; expected VNI@REMOTE like 42@192.0.2.7",
			    Q(val));
	memcpy(vni, val, n);
	vni[n] = '\0';
	if (!parse_number(vni, &id, why, sizeof(why)))
		return perr(p, idx, "vxlan VNI '%s' %s", Q(vni), why);
	if (id >= (UINT64_C(1) << 24))
		return perr(p, idx, "vxlan VNI '%s' is beyond 24 bits (at most 16777215)", Q(vni));
	at++;
	if (strnlen(at, OPTS_ADDR_MAX) >= OPTS_ADDR_MAX ||
	    (inet_pton(AF_INET, at, bin) != 1 && inet_pton(AF_INET6, at, bin) != 1))
		return perr(p, idx, "vxlan remote '%s' is not an IPv4 or IPv6 address", Q(at));
	v->vxlan_id = (uint32_t)id;
	memcpy(v->vxlan_remote, at, strlen(at) + 1);
	v->has_vxlan = true;
	return 0;
}

enum dev_opt { D_INTR, D_LEGACY, D_LOC, D_MAC, D_NAME, D_PEER, D_PEERFEATS,
	       D_VHOST_USER, D_CAPTURE, D_SPEED, D_DUPLEX, D_QUEUES, D_THREADS, D_CPUS, D_IFNAME, D_MTU, D_ADDR, D_NETNS,
	       D_BRIDGE, D_VXLAN, D_COUNT };

#define T_NET (1u << VDEV_VIRTIO_NET)
#define T_TAP (1u << VDEV_TAP)

static const struct dev_option {
	const char *word;
	const char *hint;	/* what the value looks like; NULL: a flag */
	apply_fn apply;
	unsigned types;		/* T_NET / T_TAP: the vdev types that take it */
	bool repeatable;
} dev_options[D_COUNT] = {
	[D_INTR] = { "intr", "interrupt like 41 or gic:40", apply_intr, T_NET, false },
	[D_LEGACY] = { "legacy", NULL, apply_legacy, T_NET, false },
	[D_LOC] = { "loc", "register base address like 0x1c0b0000", apply_loc, T_NET, false },
	[D_MAC] = { "mac", "MAC address like 52:54:00:12:34:56", apply_mac, T_NET | T_TAP,
		    false },
	[D_NAME] = { "name", "name like net0", apply_name, T_NET | T_TAP, false },
	[D_PEER] = { "peer", "path of the peer vdev's node, like /run/vnet/vm2/net0",
		     apply_peer, T_NET | T_TAP, false },
	[D_PEERFEATS] = { "peerfeats", "feature mask like 0x19c3, or auto",
			  apply_peerfeats, T_NET | T_TAP, false },
	[D_VHOST_USER] = { "vhost-user", "socket path for the VMM", apply_vhost_user, T_NET,
			   false },
	[D_CAPTURE] = { "capture", "file to record every frame into (pcap)", apply_capture,
			T_NET, false },
	[D_SPEED] = { "speed", "Mbit/s like 10000", apply_speed, T_NET, false },
	[D_DUPLEX] = { "duplex", "full or half", apply_duplex, T_NET, false },
	[D_QUEUES] = { "queues", "queue pairs like 4", apply_queues, T_NET, false },
	[D_THREADS] = { "threads", "data-path threads like 2", apply_threads, T_NET, false },
	[D_CPUS] = { "cpus", "CPUs for the data-path threads like 0,1", apply_cpus, T_NET,
		     false },
	[D_IFNAME] = { "ifname", "interface name like vp0", apply_ifname, T_TAP, false },
	[D_MTU] = { "mtu", "bytes like 1500", apply_mtu, T_TAP, false },
	[D_ADDR] = { "addr", "address with prefix like 198.18.0.1/24 or fd00::1/64",
		     apply_addr, T_TAP, true },
	[D_NETNS] = { "netns", "network namespace name like ns1", apply_netns, T_TAP, false },
	[D_BRIDGE] = { "bridge", "bridge interface like br0", apply_bridge, T_TAP, false },
	[D_VXLAN] = { "vxlan", "VNI@REMOTE like 42@192.0.2.7", apply_vxlan, T_TAP, false },
};

static const char *const type_words[] = {
	[VDEV_VIRTIO_NET] = "virtio-net",
	[VDEV_TAP] = "tap",
};

static bool is_help(const char *w)
{
	return strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0;
}

/* "-v", "-vv", "-vvv"...: returns how many v's, 0 if w is not that. */
static int verbose_count(const char *w)
{
	int n = 0;

	if (strcmp(w, "--verbose") == 0)
		return 1;
	if (w[0] != '-' || w[1] != 'v')
		return 0;
	for (w++; *w; w++, n++)
		if (*w != 'v')
			return 0;
	return n;
}

static const char *const global_words[] = { "--system", "--run-dir", "--config" };

/* Which global option w is (also as --opt=value), or -1. */
static int global_index(const char *w, const char **inline_val)
{
	for (size_t i = 0; i < sizeof(global_words) / sizeof(global_words[0]); i++) {
		size_t n = strlen(global_words[i]);

		if (strncmp(w, global_words[i], n) != 0)
			continue;
		if (w[n] == '\0') {
			*inline_val = NULL;
			return (int)i;
		}
		if (w[n] == '=') {
			*inline_val = w + n + 1;
			return (int)i;
		}
	}
	return -1;
}

static bool is_global_word(const char *w)
{
	const char *unused;

	return is_help(w) || verbose_count(w) > 0 || global_index(w, &unused) >= 0;
}

static int unknown_dev_option(const struct parser *p, int idx, const char *w,
			      enum vdev_type t)
{
	if (is_global_word(w)) {
		if (p->file)
			return perr(p, idx, "global option '%s' is not allowed in a config file; give it on the command line",
				    Q(w));
		return perr(p, idx, "global option '%s' must come before the first 'vdev'",
			    Q(w));
	}
	if (t == VDEV_TAP)
		return perr(p, idx, "unknown option '%s' for vdev tap; expected ifname, mac, name, peer, peerfeats, mtu, addr, netns, bridge or vxlan%s",
			    Q(w), p->file ? "" : ", or 'vdev' to start the next device");
	return perr(p, idx, "unknown option '%s' for vdev virtio-net; expected intr, legacy, loc, mac, name, peer, peerfeats, vhost-user, capture, speed, duplex, queues, threads or cpus%s",
		    Q(w), p->file ? "" : ", or 'vdev' to start the next device");
}

static const struct dev_option *find_dev_option(const char *w)
{
	for (size_t i = 0; i < D_COUNT; i++)
		if (strcmp(w, dev_options[i].word) == 0)
			return &dev_options[i];
	return NULL;
}

/* Rules between one vdev's options; at[] holds each option's word index
 * plus one (0: not given), so the message points at the word. */
static int check_tap(const struct parser *p, int at_type, const struct vdev_opts *v,
		     const int at[D_COUNT])
{
	if (!v->ifname[0])
		return perr(p, at_type, "vdev tap needs 'ifname IFNAME' (the host interface, like vp0)");
	if (v->has_vxlan && !v->has_bridge)
		return perr(p, at[D_VXLAN] - 1,
			    "vxlan needs bridge: the VXLAN port and the TAP meet in a bridge");
	if (v->has_bridge && v->n_addrs)
		return perr(p, at[D_ADDR] - 1,
			    "addr with bridge: a bridge port's own addresses are not used (frames go to the bridge); give the address to bridge %s",
			    Q(v->bridge));
	if (v->has_bridge && strcmp(v->bridge, v->ifname) == 0)
		return perr(p, at[D_BRIDGE] - 1, "bridge '%s' is the TAP itself", Q(v->bridge));
	if (v->has_mtu && v->mtu < OPTS_MTU_MIN_V6) {
		for (unsigned i = 0; i < v->n_addrs; i++)
			if (strchr(v->addrs[i], ':'))
				return perr(p, at[D_MTU] - 1,
					    "mtu %u is below %d, the least IPv6 needs (RFC 8200), and addr '%s' is IPv6",
					    v->mtu, OPTS_MTU_MIN_V6, Q(v->addrs[i]));
	}
	return 0;
}

static int check_vdev(const struct parser *p, int at_type, const struct vdev_opts *v,
		      const int at[D_COUNT])
{
	if (v->type == VDEV_TAP)
		return check_tap(p, at_type, v, at);
	if (v->has_vhost_user) {
		static const enum dev_opt transport_opts[] = { D_LOC, D_INTR, D_LEGACY };

		for (size_t i = 0; i < 3; i++) {
			enum dev_opt d = transport_opts[i];

			if (at[d])
				return perr(p, at[d] - 1,
					    "%s cannot be combined with vhost-user: the vhost-user frontend (the VMM) owns the transport",
					    dev_options[d].word);
		}
	}
	if (v->threads > v->queues)
		return perr(p, at[D_THREADS] - 1,
			    "threads %u is more than the %u queue pair%s: a thread runs whole pairs",
			    v->threads, v->queues, v->queues == 1 ? "" : "s");
	if (at[D_CPUS] && !v->threads)
		return perr(p, at[D_CPUS] - 1, "cpus needs threads (it pins the data-path threads)");
	if (v->has_loc && !v->has_intr)
		return perr(p, at[D_LOC] - 1, "loc needs intr (virtio-mmio needs both)");
	if (v->has_intr && !v->has_loc)
		return perr(p, at[D_INTR] - 1,
			    "intr without loc: intr is for virtio-mmio (give loc too); PCI devices use MSI-X");
	return 0;
}

static void set_origin(const struct parser *p, struct vdev_opts *v)
{
	char fname[OPTS_ORIGIN_MAX - 24];

	if (!p->file) {
		snprintf(v->origin, sizeof(v->origin), "command line");
		return;
	}
	snprintf(v->origin, sizeof(v->origin), "%s:%lu",
		 show(fname, sizeof(fname), p->file), p->line);
}

/*
 * Parses "vdev virtio-net OPTION..." starting at words[at] == "vdev", up to
 * the next "vdev" or the end, and appends the device to p->o.  *next is
 * the index after the last word used.  0, OPTS_HELP, or -EINVAL.
 */
static int parse_vdev(const struct parser *p, char **words, int n, int at, int *next)
{
	struct host_opts *o = p->o;
	int seen[D_COUNT] = { 0 };
	struct vdev_opts *v;
	enum vdev_type type;
	int i = at + 1;

	if (i >= n)
		return perr(p, at, "'vdev' needs a device type; expected 'vdev virtio-net' or 'vdev tap'");
	if (strcmp(words[i], type_words[VDEV_VIRTIO_NET]) == 0)
		type = VDEV_VIRTIO_NET;
	else if (strcmp(words[i], type_words[VDEV_TAP]) == 0)
		type = VDEV_TAP;
	else
		return perr(p, i, "vdev type '%s' not supported; expected virtio-net or tap",
			    Q(words[i]));
	if (o->n_vdevs >= OPTS_MAX_VDEVS)
		return perr(p, at,
			    "too many vdevs: one vnet-host serves at most %d (OPTS_MAX_VDEVS); run another vnet-host with another --system for more",
			    OPTS_MAX_VDEVS);
	v = &o->vdevs[o->n_vdevs];
	memset(v, 0, sizeof(*v));
	v->type = type;
	v->queues = 1;
	set_origin(p, v);

	for (i++; i < n && strcmp(words[i], "vdev") != 0; i++) {
		const char *w = words[i];
		const struct dev_option *d = find_dev_option(w);
		const char *val = NULL;
		int rc;

		if (!d || !(d->types & (1u << type))) {
			if (!p->file && is_help(w))
				return OPTS_HELP;
			if (d)
				return perr(p, i, "option '%s' is for vdev %s, not vdev %s", d->word,
					    type == VDEV_TAP ? "virtio-net" : "tap", type_words[type]);
			return unknown_dev_option(p, i, w, type);
		}
		if (seen[d - dev_options] && !d->repeatable)
			return perr(p, i, "option '%s' given twice in one vdev", d->word);
		seen[d - dev_options] = i + 1;
		if (d->hint) {
			/* "vdev" is never a sensible value: the value was
			 * forgotten, and the next device starts here. */
			if (i + 1 >= n || strcmp(words[i + 1], "vdev") == 0)
				return perr(p, i, "option '%s' needs a value (%s)", d->word,
					    d->hint);
			val = words[++i];
		}
		rc = d->apply(p, i, v, val);
		if (rc)
			return rc;
	}
	*next = i;
	if (check_vdev(p, at + 1, v, seen))
		return -EINVAL;
	o->n_vdevs++;
	return 0;
}

/* ---- Across vdevs ----------------------------------------------------- */

/* Names and MACs must be unique among o's vdevs.  Before defaults are
 * filled (final == false) only MACs given explicitly are compared. */
static int check_unique(const struct host_opts *o, bool final, char *err, size_t errlen)
{
	for (unsigned i = 0; i < o->n_vdevs; i++) {
		const struct vdev_opts *a = &o->vdevs[i];

		for (unsigned j = i + 1; j < o->n_vdevs; j++) {
			const struct vdev_opts *b = &o->vdevs[j];

			if (a->type == VDEV_TAP && b->type == VDEV_TAP &&
			    strcmp(a->ifname, b->ifname) == 0 && strcmp(a->netns, b->netns) == 0)
				return fail(err, errlen,
					    "ifname '%s' used by two tap vdevs: %s and %s (vdevs #%u and #%u)",
					    a->ifname, a->origin, b->origin, i + 1, j + 1);
			if (a->has_capture && b->has_capture && strcmp(a->capture, b->capture) == 0)
				return fail(err, errlen,
					    "capture '%s' used by two vdevs: %s and %s (vdevs #%u and #%u)",
					    a->capture, a->origin, b->origin, i + 1, j + 1);
			if (a->name[0] && strcmp(a->name, b->name) == 0)
				return fail(err, errlen,
					    "name '%s' used by two vdevs: %s and %s (vdevs #%u and #%u)",
					    a->name, a->origin, b->origin, i + 1, j + 1);
			if ((final || (a->has_mac && b->has_mac)) &&
			    memcmp(a->mac, b->mac, 6) == 0) {
				char m[18];

				return fail(err, errlen,
					    "mac %s used by two vdevs: %s and %s (vdevs #%u '%s' and #%u '%s')%s",
					    mac_format(a->mac, m), a->origin, b->origin,
					    i + 1, a->name, j + 1, b->name,
					    a->has_mac && b->has_mac ? "" : "; give one a mac");
			}
		}
	}
	return 0;
}

static bool name_taken(const struct host_opts *o, const char *name)
{
	for (unsigned i = 0; i < o->n_vdevs; i++)
		if (strcmp(o->vdevs[i].name, name) == 0)
			return true;
	return false;
}

/* "net0", "net1"... in order, skipping any a vdev already has. */
static void default_names(struct host_opts *o)
{
	unsigned k = 0;

	for (unsigned i = 0; i < o->n_vdevs; i++) {
		struct vdev_opts *v = &o->vdevs[i];
		char cand[OPTS_NAME_MAX];

		if (v->name[0])
			continue;
		do
			snprintf(cand, sizeof(cand), "net%u", k++);
		while (name_taken(o, cand));
		memcpy(v->name, cand, sizeof(cand));
	}
}

/* Every node and socket is a UNIX socket path, and sun_path is short:
 * refuse here rather than fail at bind() after other devices started. */
/* Is v's peer path its own node, <run_dir>/<system>/<name>?  (A link
 * with itself would be refused at every retry, forever.) */
static bool peer_is_own_node(const struct host_opts *o, const struct vdev_opts *v)
{
	char node[PATH_MAX + 2 * OPTS_NAME_MAX];

	snprintf(node, sizeof(node), "%s/%s/%s", o->run_dir, o->system, v->name);
	return strcmp(node, v->peer) == 0;
}

static int check_socket_paths(const struct host_opts *o, char *err, size_t errlen)
{
	for (unsigned i = 0; i < o->n_vdevs; i++) {
		const struct vdev_opts *v = &o->vdevs[i];
		/* Moving in, the vdev listens on NAME.vfio.incoming first. */
		const char *suffix = o->incoming ? VFIO_SUFFIX OPTS_INCOMING_SUFFIX : VFIO_SUFFIX;
		size_t len = strlen(o->run_dir) + 1 + strlen(o->system) + 1 +
			     strlen(v->name) + strlen(suffix);

		if (len >= OPTS_PATH_MAX)
			return fail(err, errlen,
				    "socket path %s/%s/%s%s of vdev '%s' (%s) would be %zu bytes; a UNIX socket path holds at most %d (use a shorter --run-dir, --system or name)",
				    Q(o->run_dir), o->system, v->name, suffix, v->name,
				    v->origin, len, OPTS_PATH_MAX - 1);
		if (o->incoming && v->has_vhost_user)
			return fail(err, errlen,
				    "vdev '%s' (%s) is vhost-user: --incoming moves vfio-user and tap vdevs (a restarted vhost-user backend is reconnected by its frontend)",
				    v->name, v->origin);
		if (v->has_peer && peer_is_own_node(o, v))
			return fail(err, errlen,
				    "vdev '%s' (%s): peer %s is its own node; name the other side's node (<run-dir>/<system>/<name>)",
				    v->name, v->origin, Q(v->peer));
	}
	return 0;
}

static int finish(struct host_opts *o, char *err, size_t errlen)
{
	int rc;

	if (o->n_vdevs == 0)
		return fail(err, errlen, "no vdev given; expected 'vdev virtio-net ...'");
	if (!o->system[0])
		snprintf(o->system, sizeof(o->system), "default");
	if (!o->run_dir_given) {
		char why[160];

		rc = opts_default_run_dir(o->run_dir, sizeof(o->run_dir));
		if (rc < 0)
			return fail(err, errlen,
				    "cannot choose a run directory (%s; is $VNET_RUN_DIR too long?); give --run-dir",
				    strerror(-rc));
		if (!check_path(o->run_dir, sizeof(o->run_dir), why, sizeof(why)))
			return fail(err, errlen, "run directory '%s' (from $VNET_RUN_DIR) %s",
				    Q(o->run_dir), why);
	}
	default_names(o);
	for (unsigned i = 0; i < o->n_vdevs; i++)
		if (!o->vdevs[i].has_mac)
			opts_default_mac(o->system, o->vdevs[i].name, o->vdevs[i].mac);
	rc = check_unique(o, true, err, errlen);
	if (rc)
		return rc;
	return check_socket_paths(o, err, errlen);
}

/* ---- Config file ------------------------------------------------------ */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* One line of a config file, already cut at its newline (and modified in
 * place: the comment is cut off and words are NUL-terminated). */
static int parse_config_line(const struct parser *p, char *line)
{
	char *words[CONFIG_LINE_WORDS];
	char *hash = strchr(line, '#');
	int n = 0, next = 0, rc;

	if (hash)
		*hash = '\0';
	for (char *s = line; *s;) {
		while (is_blank(*s))
			*s++ = '\0';
		if (!*s)
			break;
		if (n == CONFIG_LINE_WORDS)
			return perr(p, 0, "more than %d words on one line; one line holds one 'vdev virtio-net ...'",
				    CONFIG_LINE_WORDS);
		words[n++] = s;
		while (*s && !is_blank(*s))
			s++;
	}
	if (n == 0)
		return 0;
	if (strcmp(words[0], "vdev") != 0) {
		if (is_global_word(words[0]))
			return perr(p, 0, "global option '%s' is not allowed in a config file; give it on the command line",
				    Q(words[0]));
		return perr(p, 0, "expected 'vdev virtio-net ...' at the start of the line, got '%s'",
			    Q(words[0]));
	}
	rc = parse_vdev(p, words, n, 0, &next);
	if (rc)
		return rc;
	if (next < n)
		return perr(p, next, "one vdev per line: start a new line for the next 'vdev'");
	return 0;
}

int opts_parse_config_text(struct host_opts *o, const char *text,
			   const char *fname, char *err, size_t errlen)
{
	struct parser p = { .o = o, .err = err, .errlen = errlen,
			    .file = fname ? fname : "config" };
	char line[CONFIG_LINE_MAX + 1];
	const char *s = text;

	if (!o || !text)
		return fail(err, errlen, "no config to parse");
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		int rc;

		p.line++;
		if (len > CONFIG_LINE_MAX)
			return perr(&p, 0, "line is longer than %d bytes", CONFIG_LINE_MAX);
		memcpy(line, s, len);
		line[len] = '\0';
		rc = parse_config_line(&p, line);
		if (rc)
			return rc;
		if (!nl)
			break;
		s = nl + 1;
	}
	return check_unique(o, false, err, errlen);
}

/* What a path is, for an error that names it. */
static const char *file_kind(const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		return "a directory";
	if (S_ISFIFO(st->st_mode))
		return "a FIFO";
	if (S_ISSOCK(st->st_mode))
		return "a socket";
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		return "a device";
	return "not a regular file";
}

/* Reads the whole file (bounded: /dev/zero cannot make us read forever)
 * and refuses what is not a small regular text file. */
static int read_config(struct parser *p, int idx, const char *path)
{
	char *buf;
	size_t len = 0;
	const char *nul;
	struct stat st = { 0 };
	int fd, rc;

	/* O_NONBLOCK: opening a FIFO with no writer must not wait; only a
	 * regular file is read at all. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return perr(p, idx, "cannot open config '%s': %s", Q(path), strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return perr(p, idx, "config '%s' is %s; expected a regular file", Q(path),
			    file_kind(&st));
	}
	buf = malloc(CONFIG_MAX_BYTES + 1);
	if (!buf) {
		close(fd);
		perr(p, idx, "cannot read config '%s': out of memory", Q(path));
		return -ENOMEM;
	}
	while (len <= CONFIG_MAX_BYTES) {
		ssize_t r = read(fd, buf + len, CONFIG_MAX_BYTES + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = perr(p, idx, "cannot read config '%s': %s", Q(path), strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > CONFIG_MAX_BYTES) {
		rc = perr(p, idx, "config '%s' is larger than %d bytes; expected a short text file",
			  Q(path), CONFIG_MAX_BYTES);
		goto out;
	}
	nul = memchr(buf, '\0', len);
	if (nul) {
		struct parser at = *p;

		at.file = path;
		at.line = 1;
		for (const char *c = buf; c < nul; c++)
			at.line += *c == '\n';
		rc = perr(&at, 0, "NUL byte in the file; a config file is text");
		goto out;
	}
	buf[len] = '\0';
	rc = opts_parse_config_text(p->o, buf, path, p->err, p->errlen);
out:
	free(buf);
	close(fd);
	return rc;
}

/* ---- Command line ----------------------------------------------------- */

static const char *const global_hints[] = {
	"a name like vm1",
	"a directory for nodes and sockets",
	"a file of 'vdev virtio-net ...' lines",
};

static int apply_global(struct parser *p, int idx, int g, const char *val)
{
	struct host_opts *o = p->o;
	char why[160];

	switch (g) {
	case 0:
		if (!check_name(val, why, sizeof(why)))
			return perr(p, idx, "--system '%s' %s", Q(val), why);
		memcpy(o->system, val, strlen(val) + 1);
		return 0;
	case 1:
		if (!check_path(val, sizeof(o->run_dir), why, sizeof(why)))
			return perr(p, idx, "--run-dir '%s' %s", Q(val), why);
		memcpy(o->run_dir, val, strlen(val) + 1);
		o->run_dir_given = true;
		return 0;
	default:
		if (!check_path(val, sizeof(o->config), why, sizeof(why)))
			return perr(p, idx, "--config '%s' %s", Q(val), why);
		memcpy(o->config, val, strlen(val) + 1);
		return 0;
	}
}

int opts_parse_cmdline(struct host_opts *o, int argc, char **argv, char *err,
		       size_t errlen)
{
	struct parser p = { .o = o, .err = err, .errlen = errlen };
	bool seen[3] = { false };
	int config_idx = 0;
	int i = 1, rc;

	if (err && errlen)
		err[0] = '\0';
	if (!o || argc < 0 || (argc > 0 && !argv))
		return fail(err, errlen, "no command line to parse");
	memset(o, 0, sizeof(*o));
	/* argv[argc] is NULL by contract; do not read past a NULL anyway. */
	for (int k = 0; k < argc; k++)
		if (!argv[k]) {
			argc = k;
			break;
		}

	/* Global options, up to the first vdev. */
	while (i < argc && strcmp(argv[i], "vdev") != 0) {
		const char *w = argv[i], *val = NULL;
		int g, v = verbose_count(w);

		if (is_help(w))
			return OPTS_HELP;
		if (v) {
			o->verbose = o->verbose + v > VERBOSE_MAX ? VERBOSE_MAX : o->verbose + v;
			i++;
			continue;
		}
		if (strcmp(w, "--incoming") == 0) {
			if (o->incoming)
				return perr(&p, i, "option '--incoming' given twice");
			o->incoming = true;
			i++;
			continue;
		}
		g = global_index(w, &val);
		if (g < 0) {
			if (w[0] == '-')
				return perr(&p, i, "unknown option '%s'; expected --system, --run-dir, --config, --incoming, -v or --help before the first 'vdev'",
					    Q(w));
			if (find_dev_option(w))
				return perr(&p, i, "device option '%s' before any vdev; device options follow 'vdev virtio-net'",
					    Q(w));
			return perr(&p, i, "unexpected '%s'; expected a global option or 'vdev virtio-net ...'",
				    Q(w));
		}
		if (seen[g])
			return perr(&p, i, "option '%s' given twice", global_words[g]);
		seen[g] = true;
		if (!val) {
			if (i + 1 >= argc || strcmp(argv[i + 1], "vdev") == 0)
				return perr(&p, i, "option '%s' needs a value (%s)", global_words[g],
					    global_hints[g]);
			val = argv[++i];
		}
		rc = apply_global(&p, i, g, val);
		if (rc)
			return rc;
		if (g == 2)
			config_idx = i;
		i++;
	}

	/* The file's vdevs come first, so its lines keep their order. */
	if (o->config[0]) {
		rc = read_config(&p, config_idx, o->config);
		if (rc)
			return rc;
	}

	while (i < argc) {
		rc = parse_vdev(&p, argv, argc, i, &i);
		if (rc)
			return rc;
	}
	return finish(o, err, errlen);
}

/* ---- Usage ------------------------------------------------------------ */

void opts_usage(FILE *f)
{
	fputs("Usage: vnet-host [--system NAME] [--run-dir DIR] [--config FILE] [--incoming] [-v]\n"
	      "                 vdev virtio-net|tap [OPTION...] [vdev ...]...\n"
	      "       vnet-host stats [--system NAME] [--run-dir DIR] [--json] [--interval S]\n"
	      "                 a running system's counters (its .control socket);\n"
	      "                 with --interval, rates every S seconds until ^C\n"
	      "       vnet-host capture [--system NAME] [--run-dir DIR] NAME [-w FILE|-]\n"
	      "                 records vdev NAME's frames (pcap) until ^C; '-' is stdout\n"
	      "\n"
	      "Serves virtio-net devices (vdevs) to guests over vfio-user and links\n"
	      "them to peer vdevs, in this or another vnet-host.\n", f);
	fprintf(f, "One process serves at most %d vdevs (virtio-net and tap together).\n",
		OPTS_MAX_VDEVS);
	fputs("\n"
	      "Global options (before the first vdev):\n"
	      "  --system NAME    this virtual machine's name (default \"default\")\n"
	      "  --run-dir DIR    where nodes and sockets live (default $VNET_RUN_DIR,\n"
	      "                   else /run/vnet, $XDG_RUNTIME_DIR/vnet or /tmp/vnet-$UID)\n"
	      "  --config FILE    more 'vdev virtio-net ...' lines, one device per line,\n"
	      "                   '#' starts a comment; they come before the command line's\n"
	      "  --incoming       take the vdevs over from the vnet-host that serves them\n"
	      "                   now: each listens on NAME.vfio.incoming until a client\n"
	      "                   moves it in (vfio-user migration, `vnet-guest ... --move-to`),\n"
	      "                   then serves NAME.vfio and its peer link; a tap vdev is\n"
	      "                   taken over at once, with its bridge and VXLAN port\n"
	      "                   (checked against its options); not for vhost-user\n"
	      "  -v, -vv          more log output (repeatable)\n"
	      "  -h, --help       this text\n"
	      "  --version        print \"vnet-host VERSION\" (alone on the line)\n"
	      "\n"
	      "Device options (after 'vdev virtio-net', each at most once):\n"
	      "  intr INTR        interrupt the guest sees (like 41 or gic:40); for MMIO,\n"
	      "                   with loc (PCI uses MSI-X vectors, INTx as fallback)\n"
	      "  legacy           legacy (0.9.5) interface instead of virtio 1.x\n"
	      "  loc ADDR         base address of the device registers (4 KiB aligned);\n"
	      "                   with it the device is virtio-mmio, without it virtio-pci\n"
	      "  mac MAC          Ethernet address the guest sees (default: generated,\n"
	      "                   stable for the system and name)\n"
	      "  name NAME        names this side of a peer link; its node is\n"
	      "                   RUN-DIR/SYSTEM/NAME and the guest's socket\n"
	      "                   RUN-DIR/SYSTEM/NAME.vfio (default net0, net1, ...)\n"
	      "  peer PATH        connect to the peer vdev's node (the other side's\n"
	      "                   RUN-DIR/SYSTEM/NAME)\n"
	      "  peerfeats MASK   virtio-net feature bits the peer supports (default 0x0,\n"
	      "                   at most 0x7fc3; a QNX TCP stack takes 0x19c3); 'auto'\n"
	      "                   uses what the peer's guest negotiated\n"
	      "  vhost-user PATH  serve the vdev to a VMM as a vhost-user backend on PATH\n"
	      "                   instead of over vfio-user (not with loc, intr or legacy)\n"
	      "  capture FILE     our extension: record every frame the vdev passes, both\n"
	      "                   directions, into FILE (pcap), from start to exit\n"
	      "  speed MBPS       the link speed the device reports (SPEED_DUPLEX), in\n"
	      "                   Mbit/s (1..2147483647; default unknown)\n"
	      "  duplex full|half the duplex it reports (default unknown)\n"
	      "  queues N         our extension: N receive/transmit queue pairs\n"
	      "                   (VIRTIO_NET_F_MQ; 1..8, default 1)\n"
	      "  threads N        our extension: N data-path threads (1..queues); pair K\n"
	      "                   runs on thread K mod N (default: on the main loop)\n"
	      "  cpus LIST        pin data-path thread I to the I-th CPU of LIST (0,1)\n"
	      "\n"
	      "vdev tap: the host's own network stack as a peer (a TAP interface with\n"
	      "virtio-net headers; its offloads follow the peer's features, its carrier\n"
	      "the peer link).  Takes mac, name, peer, peerfeats as above, and:\n"
	      "  ifname IFNAME    the TAP interface (required; created, or a persistent one)\n"
	      "  mtu N            the interface's MTU (68..65535)\n"
	      "  addr A/P         an address for it, like 198.18.0.1/24 (up to 4 times)\n"
	      "  netns NS         move it into network namespace NS (/run/netns/NS)\n"
	      "  bridge BR        make it a port of bridge BR (created when missing)\n"
	      "  vxlan VNI@REMOTE also put VXLAN port vxlan<VNI> to REMOTE into BR\n"
	      "\n"
	      "Example: two VMs whose devices are each other's peer\n"
	      "  vnet-host --system vm1 vdev virtio-net name net0 \\\n"
	      "            peer /run/vnet/vm2/net0 peerfeats 0x19c3 &\n"
	      "  vnet-host --system vm2 vdev virtio-net name net0 \\\n"
	      "            peer /run/vnet/vm1/net0 peerfeats 0x19c3 &\n"
	      "Example: the host's interface vp0 as the peer of vm1's net0\n"
	      "  vnet-host --system host vdev tap ifname vp0 name vp0 \\\n"
	      "            peer /run/vnet/vm1/net0 peerfeats auto addr 198.18.0.1/24 &\n",
	      f);
}
