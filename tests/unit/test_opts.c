// SPDX-License-Identifier: MIT
/*
 * test_opts.c - vnet-host's command line and config file: every class of
 * bad input is refused with a message naming the word and where it was,
 * and good input lands in the struct with the documented defaults.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/mac.h"
#include "common/virtio.h"
#include "host/opts.h"

#define MAX_ARGS 256

static struct host_opts opts;
static char err[1024];
static char tmpdir[64];

/* ---- helpers ----------------------------------------------------------- */

/* Parses "vnet-host " + line, split at single spaces. */
static int run(const char *line)
{
	static char buf[8192];
	char *argv[MAX_ARGS + 1];
	int argc = 0;

	argv[argc++] = "vnet-host";
	assert_true(strlen(line) < sizeof(buf));
	strcpy(buf, line);
	for (char *s = strtok(buf, " "); s; s = strtok(NULL, " ")) {
		assert_true(argc < MAX_ARGS);
		argv[argc++] = s;
	}
	argv[argc] = NULL;
	err[0] = '\0';
	return opts_parse_cmdline(&opts, argc, argv, err, sizeof(err));
}

/* Parses "vnet-host vdev virtio-net OPTION VALUE" with VALUE as one word,
 * whatever it holds (spaces, empty, control characters). */
static int run_value(const char *option, const char *value)
{
	char *argv[] = { "vnet-host", "vdev", "virtio-net", (char *)option,
			 (char *)value, NULL };

	err[0] = '\0';
	return opts_parse_cmdline(&opts, 5, argv, err, sizeof(err));
}

static int run_text(const char *text)
{
	memset(&opts, 0, sizeof(opts));
	err[0] = '\0';
	return opts_parse_config_text(&opts, text, "vnet.conf", err, sizeof(err));
}

#define assert_refused(rc, ...) assert_refused_(rc, __VA_ARGS__, NULL)
static void assert_refused_(int rc, ...)
{
	va_list ap;
	const char *want;

	if (rc != -EINVAL)
		fail_msg("expected -EINVAL, got %d (err '%s')", rc, err);
	va_start(ap, rc);
	while ((want = va_arg(ap, const char *)))
		if (!strstr(err, want))
			fail_msg("message '%s' lacks '%s'", err, want);
	va_end(ap);
}

static void assert_ok(int rc)
{
	if (rc != 0)
		fail_msg("expected success, got %d: %s", rc, err);
}

/* Writes len bytes to a fresh file under tmpdir; returns its path. */
static const char *write_file(const char *name, const void *data, size_t len)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static const char *write_text(const char *name, const char *text)
{
	return write_file(name, text, strlen(text));
}

static int run_with_config(const char *path, const char *rest)
{
	char line[4096];

	snprintf(line, sizeof(line), "--config %s%s%s", path, rest[0] ? " " : "", rest);
	return run(line);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_opts.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	setenv("VNET_RUN_DIR", "/tmp/vnet-test-run", 1);
	memset(&opts, 0xa5, sizeof(opts));	/* parse must not rely on zeroes */
	return 0;
}

/* ---- good command lines ------------------------------------------------- */

static void test_full_mmio_line(void **state)
{
	const struct vdev_opts *v = &opts.vdevs[0];

	(void)state;
	assert_ok(run("--system vm1 --run-dir /tmp/r -v vdev virtio-net intr gic:40 "
		      "loc 0x1c0b0000 mac 52:54:00:12:34:56 name a peer /run/vnet/vm2/a "
		      "peerfeats 0x19c3 legacy"));
	assert_string_equal(opts.system, "vm1");
	assert_string_equal(opts.run_dir, "/tmp/r");
	assert_true(opts.run_dir_given);
	assert_int_equal(opts.verbose, 1);
	assert_string_equal(opts.config, "");
	assert_int_equal(opts.n_vdevs, 1);
	assert_string_equal(v->origin, "command line");
	assert_true(v->has_intr);
	assert_string_equal(v->intr, "gic:40");
	assert_true(v->has_loc);
	assert_int_equal(v->loc, 0x1c0b0000);
	assert_true(v->has_mac);
	assert_memory_equal(v->mac, ((uint8_t[]){ 0x52, 0x54, 0, 0x12, 0x34, 0x56 }), 6);
	assert_true(v->has_name);
	assert_string_equal(v->name, "a");
	assert_true(v->has_peer);
	assert_string_equal(v->peer, "/run/vnet/vm2/a");
	assert_int_equal(v->peerfeats, 0x19c3);
	assert_false(v->peerfeats_auto);
	assert_true(v->legacy);
	assert_false(v->has_vhost_user);
}

static void test_minimal_line_gets_defaults(void **state)
{
	const struct vdev_opts *v = &opts.vdevs[0];
	uint8_t mac[6];

	(void)state;
	assert_ok(run("vdev virtio-net"));
	assert_string_equal(opts.system, "default");
	assert_string_equal(opts.run_dir, "/tmp/vnet-test-run");
	assert_false(opts.run_dir_given);
	assert_int_equal(opts.verbose, 0);
	assert_int_equal(opts.n_vdevs, 1);
	assert_false(v->has_name);
	assert_string_equal(v->name, "net0");
	assert_false(v->has_mac);
	opts_default_mac("default", "net0", mac);
	assert_memory_equal(v->mac, mac, 6);
	assert_false(v->has_loc || v->has_intr || v->has_peer || v->has_vhost_user);
	assert_false(v->legacy || v->peerfeats_auto);
	assert_int_equal(v->peerfeats, 0);
}

static void test_default_names_skip_taken(void **state)
{
	(void)state;
	assert_ok(run("vdev virtio-net vdev virtio-net name net0 vdev virtio-net "
		      "vdev virtio-net name net2"));
	assert_int_equal(opts.n_vdevs, 4);
	assert_string_equal(opts.vdevs[0].name, "net1");
	assert_string_equal(opts.vdevs[1].name, "net0");
	assert_string_equal(opts.vdevs[2].name, "net3");
	assert_string_equal(opts.vdevs[3].name, "net2");
}

static void test_default_macs_differ_and_follow_system(void **state)
{
	uint8_t m0[6], m1[6];

	(void)state;
	assert_ok(run("--system vm7 vdev virtio-net vdev virtio-net"));
	opts_default_mac("vm7", "net0", m0);
	opts_default_mac("vm7", "net1", m1);
	assert_memory_equal(opts.vdevs[0].mac, m0, 6);
	assert_memory_equal(opts.vdevs[1].mac, m1, 6);
	assert_memory_not_equal(m0, m1, 6);
}

static void test_vhost_user_and_auto(void **state)
{
	const struct vdev_opts *v = &opts.vdevs[0];

	(void)state;
	assert_ok(run("vdev virtio-net vhost-user /tmp/vu.sock peerfeats auto peer ../b"));
	assert_true(v->has_vhost_user);
	assert_string_equal(v->vhost_user, "/tmp/vu.sock");
	assert_true(v->peerfeats_auto);
	assert_int_equal(v->peerfeats, 0);
	assert_string_equal(v->peer, "../b");
}

static void test_capture(void **state)
{
	char path[OPTS_CAPTURE_MAX + 1];

	(void)state;
	assert_ok(run("vdev virtio-net name a capture /tmp/a.pcap vdev virtio-net name b"));
	assert_true(opts.vdevs[0].has_capture);
	assert_string_equal(opts.vdevs[0].capture, "/tmp/a.pcap");
	assert_false(opts.vdevs[1].has_capture);
	assert_refused(run("vdev virtio-net capture /tmp/x.pcap vdev virtio-net capture /tmp/x.pcap"),
		       "capture '/tmp/x.pcap' used by two vdevs");
	assert_refused(run("vdev virtio-net capture /tmp/x capture /tmp/y"), "capture");
	assert_refused(run("vdev tap ifname vp0 capture /tmp/x.pcap"), "option 'capture' is for vdev virtio-net, not vdev tap");
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_refused(run_value("capture", path), "capture '", "longer than 255 bytes");
	assert_refused(run_value("capture", ""), "capture ''", "is empty");
	assert_refused(run_value("capture", "/tmp/a\tb"), "control character \\x09");
}

/* SPEED_DUPLEX (5.1.4): what the device reports; unknown unless given. */
static void test_speed_duplex(void **state)
{
	(void)state;
	assert_ok(run("vdev virtio-net name a speed 25000 duplex full vdev virtio-net name b duplex half"));
	assert_true(opts.vdevs[0].has_speed);
	assert_int_equal(opts.vdevs[0].speed, 25000);
	assert_true(opts.vdevs[0].has_duplex);
	assert_int_equal(opts.vdevs[0].duplex, VIRTIO_NET_DUPLEX_FULL);
	assert_false(opts.vdevs[1].has_speed);
	assert_int_equal(opts.vdevs[1].duplex, VIRTIO_NET_DUPLEX_HALF);
	assert_ok(run("vdev virtio-net speed 0x7fffffff"));
	assert_int_equal(opts.vdevs[0].speed, 0x7fffffffu);
	assert_refused(run("vdev virtio-net speed 0"), "speed '0' is out of range", "1..2147483647");
	assert_refused(run("vdev virtio-net speed 4294967295"), "out of range");
	assert_refused(run("vdev virtio-net speed fast"), "speed 'fast'");
	assert_refused(run("vdev virtio-net duplex both"), "duplex 'both' is neither 'full' nor 'half'");
	assert_refused(run("vdev virtio-net speed 10 speed 100"), "given twice");
}

/* queues N (our extension, VIRTIO_NET_F_MQ): 1 unless given, 1..8. */
static void test_queues(void **state)
{
	(void)state;
	assert_ok(run("vdev virtio-net name a queues 4 vdev virtio-net name b"));
	assert_int_equal(opts.vdevs[0].queues, 4);
	assert_int_equal(opts.vdevs[1].queues, 1);
	assert_ok(run("vdev virtio-net queues 8 loc 0x10000 intr 5"));
	assert_int_equal(opts.vdevs[0].queues, 8);
	assert_refused(run("vdev virtio-net queues 0"), "queues '0' is out of range", "1..8");
	assert_refused(run("vdev virtio-net queues 9"), "queues '9' is out of range");
	assert_refused(run("vdev virtio-net queues many"), "queues 'many'");
	assert_refused(run("vdev virtio-net queues 2 queues 2"), "given twice");
	/* vhost-user serves every pair (VHOST_USER_PROTOCOL_F_MQ). */
	assert_ok(run("vdev virtio-net vhost-user /tmp/x.sock queues 2"));
	assert_int_equal(opts.vdevs[0].queues, 2);
	assert_true(opts.vdevs[0].has_vhost_user);
	assert_refused(run("vdev tap ifname vp0 queues 2"), "option 'queues' is for vdev virtio-net, not vdev tap");
}

/* --incoming: vfio-user and tap vdevs (with their bridge and VXLAN
 * port) move in; vhost-user reconnects instead. */
static void test_incoming(void **state)
{
	(void)state;
	assert_ok(run("vdev virtio-net name a"));
	assert_false(opts.incoming);
	assert_ok(run("--incoming vdev virtio-net name a vdev tap ifname vp0 name t"));
	assert_true(opts.incoming);
	assert_refused(run("--incoming --incoming vdev virtio-net"), "'--incoming' given twice");
	assert_refused(run("--incoming vdev virtio-net vhost-user /tmp/x.sock"),
		       "is vhost-user", "reconnected by its frontend");
	assert_ok(run("--incoming vdev tap ifname vp0 bridge br0 vxlan 42@192.0.2.7"));
	assert_true(opts.incoming && opts.vdevs[0].has_bridge && opts.vdevs[0].has_vxlan);
}

static void test_numbers_decimal_and_hex(void **state)
{
	(void)state;
	assert_ok(run("vdev virtio-net peerfeats 6595 loc 4096 intr 41"));
	assert_int_equal(opts.vdevs[0].peerfeats, 0x19c3);
	assert_int_equal(opts.vdevs[0].loc, 4096);
	assert_ok(run("vdev virtio-net peerfeats 0X7FC3 loc 0XFFFFFFFFF000 intr 5"));
	assert_int_equal(opts.vdevs[0].peerfeats, 0x7fc3);
	assert_int_equal(opts.vdevs[0].loc, 0xfffffffff000ull);
	assert_ok(run("vdev virtio-net peerfeats 0"));
	assert_ok(run("vdev virtio-net peerfeats 0x0"));
}

static void test_mac_forms(void **state)
{
	(void)state;
	assert_ok(run("vdev virtio-net mac 02-AB-cd-EF-00-01"));
	assert_memory_equal(opts.vdevs[0].mac, ((uint8_t[]){ 2, 0xab, 0xcd, 0xef, 0, 1 }), 6);
}

static void test_verbose_forms(void **state)
{
	(void)state;
	assert_ok(run("-v -vv --verbose vdev virtio-net"));
	assert_int_equal(opts.verbose, 4);
	assert_ok(run("-vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv vdev virtio-net"));
	assert_true(opts.verbose >= 4 && opts.verbose < 100);
}

static void test_inline_global_values(void **state)
{
	(void)state;
	assert_ok(run("--system=vm2 --run-dir=rel/dir vdev virtio-net"));
	assert_string_equal(opts.system, "vm2");
	assert_string_equal(opts.run_dir, "rel/dir");
}

static void test_help(void **state)
{
	(void)state;
	assert_int_equal(run("--help"), OPTS_HELP);
	assert_int_equal(run("-v -h vdev virtio-net"), OPTS_HELP);
	assert_int_equal(run("vdev virtio-net name a --help"), OPTS_HELP);
	/* Help wins over errors later on the line. */
	assert_int_equal(run("--help vdev nonsense"), OPTS_HELP);
}

static void test_name_limits(void **state)
{
	char name[OPTS_NAME_MAX];

	(void)state;
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_ok(run_value("name", name));
	assert_string_equal(opts.vdevs[0].name, name);
	assert_ok(run_value("name", "_a.b-c9"));
}

static void test_peer_path_limits(void **state)
{
	char path[OPTS_PATH_MAX];

	(void)state;
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_ok(run_value("peer", path));
	assert_string_equal(opts.vdevs[0].peer, path);
	assert_ok(run_value("vhost-user", path));
}

static void test_max_vdevs_accepted(void **state)
{
	char line[4096] = "";

	(void)state;
	for (int i = 0; i < OPTS_MAX_VDEVS; i++)
		strcat(line, "vdev virtio-net ");
	assert_ok(run(line));
	assert_int_equal(opts.n_vdevs, OPTS_MAX_VDEVS);
	assert_string_equal(opts.vdevs[31].name, "net31");
}

/* ---- bad command lines --------------------------------------------------- */

static void test_no_vdev(void **state)
{
	char *argv[] = { "vnet-host", NULL };

	(void)state;
	assert_refused(run(""), "no vdev given; expected 'vdev virtio-net ...'");
	assert_refused(run("--system vm1 -v"), "no vdev given");
	assert_refused(opts_parse_cmdline(&opts, 1, argv, err, sizeof(err)), "no vdev");
	assert_refused(opts_parse_cmdline(&opts, 0, NULL, err, sizeof(err)), "no vdev");
}

static void test_unknown_device_option(void **state)
{
	(void)state;
	assert_refused(run("vdev virtio-net name a rate 10"), "argument 5",
		       "unknown option 'rate'", "expected intr, legacy");
}

static void test_unknown_global_option(void **state)
{
	(void)state;
	assert_refused(run("--sytem vm1 vdev virtio-net"), "argument 1",
		       "unknown option '--sytem'");
	assert_refused(run("name a vdev virtio-net"), "argument 1",
		       "device option 'name' before any vdev");
	assert_refused(run("vm1 vdev virtio-net"), "argument 1", "unexpected 'vm1'");
	assert_refused(run("-x vdev virtio-net"), "unknown option '-x'");
	assert_refused(run("-vx vdev virtio-net"), "unknown option '-vx'");
}

static void test_global_option_after_vdev(void **state)
{
	(void)state;
	assert_refused(run("vdev virtio-net --system vm1"), "argument 3",
		       "global option '--system' must come before the first 'vdev'");
	assert_refused(run("vdev virtio-net -v"), "global option '-v'");
}

static void test_global_option_twice(void **state)
{
	(void)state;
	assert_refused(run("--system a --system=b vdev virtio-net"), "argument 3",
		       "'--system' given twice");
	assert_refused(run("--run-dir /a --run-dir /b vdev virtio-net"), "given twice");
}

static void test_missing_value_at_end(void **state)
{
	(void)state;
	assert_refused(run("vdev virtio-net mac"), "argument 3",
		       "option 'mac' needs a value (MAC address like 52:54:00:12:34:56)");
	assert_refused(run("vdev virtio-net legacy loc"), "argument 4", "'loc' needs a value");
	assert_refused(run("vdev virtio-net peerfeats"), "'peerfeats' needs a value");
	assert_refused(run("--system"), "argument 1", "'--system' needs a value");
	assert_refused(run("--config"), "'--config' needs a value");
}

static void test_missing_value_before_next_vdev(void **state)
{
	(void)state;
	assert_refused(run("vdev virtio-net name vdev virtio-net"), "argument 3",
		       "'name' needs a value");
	assert_refused(run("--run-dir vdev virtio-net"), "'--run-dir' needs a value");
}

static void test_duplicate_option_in_vdev(void **state)
{
	(void)state;
	assert_refused(run("vdev virtio-net mac 52:54:00:00:00:01 name a mac 52:54:00:00:00:02"),
		       "argument 7", "option 'mac' given twice in one vdev");
	assert_refused(run("vdev virtio-net legacy legacy"), "argument 4", "'legacy' given twice");
	/* The same option in two vdevs is fine. */
	assert_ok(run("vdev virtio-net legacy vdev virtio-net legacy"));
}

static void test_unknown_vdev_type(void **state)
{
	(void)state;
	assert_refused(run("vdev virtio-blk"), "argument 2",
		       "vdev type 'virtio-blk' not supported; expected virtio-net");
	assert_refused(run("vdev virtio-net vdev"), "argument 3", "'vdev' needs a device type");
	assert_refused(run("vdev"), "argument 1", "needs a device type");
}

static void test_bad_mac_forms(void **state)
{
	static const char *const bad[] = {
		"", "52:54:00:12:34", "52:54:00:12:34:5", "52:54:00:12:34:567",
		"52:54:00:12:34:5g", "52-54:00:12:34:56", "52:54:00:12:34-56",
		"525400123456", "5254.0012.3456", "52:54:00:12:34:56:", " 2:54:00:12:34:56",
		"52::54:00:12:34:56", "0x:54:00:12:34:56", "+2:54:00:12:34:56",
		"52:54:00:12:34:56 ",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_refused(run_value("mac", bad[i]), "argument 4", "mac '",
			       "expected six hex pairs");
	}
	assert_int_equal(mac_parse("52:54:00:12:34", (uint8_t[6]){ 0 }, NULL, 0), -EINVAL);
}

static void test_multicast_mac(void **state)
{
	(void)state;
	assert_refused(run_value("mac", "01:00:5e:00:00:01"), "mac '01:00:5e:00:00:01'",
		       "multicast");
	assert_refused(run_value("mac", "ff:ff:ff:ff:ff:ff"), "multicast");
	assert_refused(run_value("mac", "53:54:00:12:34:56"), "multicast");
	assert_int_equal(mac_parse("33:33:00:00:00:01", (uint8_t[6]){ 0 }, NULL, 0), -EINVAL);
}

static void test_zero_mac(void **state)
{
	(void)state;
	assert_refused(run_value("mac", "00:00:00:00:00:00"), "all zeros");
	assert_refused(run_value("mac", "00-00-00-00-00-00"), "all zeros");
}

static void test_bad_loc(void **state)
{
	static const struct {
		const char *value, *why;
	} bad[] = {
		{ "0x1001", "not 4 KiB aligned" },
		{ "4097", "not 4 KiB aligned" },
		{ "0x800", "not 4 KiB aligned" },
		{ "0", "is zero" },
		{ "0x0", "is zero" },
		{ "0x1000000000000", "48-bit" },
		{ "0xfffffffffffff000", "48-bit" },
		{ "0x10000000000000000", "does not fit in 64 bits" },
		{ "99999999999999999999999", "does not fit in 64 bits" },
		{ "abc", "is not a number" },
		{ "", "is not a number" },
		{ "-4096", "is not a number" },
		{ "+4096", "is not a number" },
		{ " 4096", "is not a number" },
		{ "0x", "no hex digits" },
		{ "0x1000zz", "'zz' after the number" },
		{ "4096k", "'k' after the number" },
		{ "4096 ", "after the number" },
		{ "0x10.0", "after the number" },
		{ "010000", "leading 0" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "vnet-host", "vdev", "virtio-net", "intr", "5", "loc",
				 (char *)bad[i].value, NULL };

		assert_refused(opts_parse_cmdline(&opts, 7, argv, err, sizeof(err)),
			       "argument 6", "loc '", bad[i].why);
	}
}

static void test_bad_intr(void **state)
{
	static const char *const bad[] = { "", "gic 40", "gic/40", "41;rm", "$(x)", "4\n1",
					   "0123456789012345678901234567890123" };
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "vnet-host", "vdev", "virtio-net", "loc", "0x1000", "intr",
				 (char *)bad[i], NULL };

		assert_refused(opts_parse_cmdline(&opts, 7, argv, err, sizeof(err)),
			       "argument 6", "intr '");
	}
	assert_refused(run("vdev virtio-net loc 0x1000 intr 0123456789012345678901234567890x"),
		       "longer than 31");
}

static void test_bad_name(void **state)
{
	static const struct {
		const char *value, *why;
	} bad[] = {
		{ "", "is empty" },
		{ "a b", "contains ' '" },
		{ "a/b", "contains '/'" },
		{ "..", "starts with '.'" },
		{ ".hidden", "starts with '.'" },
		{ "-x", "starts with '-'" },
		{ "caf\xc3\xa9", "contains '\\xc3'" },
		{ "tab\there", "contains '\\x09'" },
		{ "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", "longer than 47" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(run_value("name", bad[i].value), "argument 4", "name '",
			       bad[i].why);
}

static void test_bad_system(void **state)
{
	(void)state;
	assert_refused(run("--system ../etc vdev virtio-net"), "argument 2",
		       "--system '../etc'", "starts with '.'");
	assert_refused(run("--system=vm/1 vdev virtio-net"), "argument 1", "contains '/'");
	assert_refused(run("--system= vdev virtio-net"), "is empty");
}

static void test_bad_paths(void **state)
{
	char path[OPTS_PATH_MAX + 1];

	(void)state;
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_refused(run_value("peer", path), "argument 4", "peer '",
		       "longer than 107 bytes");
	assert_refused(run_value("vhost-user", path), "vhost-user '", "longer than 107");
	assert_refused(run_value("peer", ""), "peer ''", "is empty");
	assert_refused(run_value("peer", "/tmp/a\nb"), "control character \\x0a");
	assert_refused(run_value("vhost-user", "\x7f"), "control character \\x7f");
}

static void test_bad_run_dir(void **state)
{
	(void)state;
	assert_refused(run("--run-dir= vdev virtio-net"), "--run-dir ''", "is empty");
	setenv("VNET_RUN_DIR", "/tmp/\x1b[2J", 1);
	assert_refused(run("vdev virtio-net"), "VNET_RUN_DIR", "\\x1b");
}

static void test_socket_path_too_long(void **state)
{
	char line[512];

	(void)state;
	snprintf(line, sizeof(line),
		 "--run-dir /tmp/%s vdev virtio-net name nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
		 "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr");
	assert_refused(run(line), "socket path", "at most 107");
}

static void test_loc_needs_intr(void **state)
{
	(void)state;
	assert_refused(run("vdev virtio-net name a loc 0x10000"), "argument 5",
		       "loc needs intr (virtio-mmio needs both)");
}

static void test_intr_needs_loc(void **state)
{
	(void)state;
	assert_refused(run("vdev virtio-net intr 41 name a"), "argument 3",
		       "intr without loc: intr is for virtio-mmio (give loc too); PCI devices use MSI-X");
}

static void test_vhost_user_refuses_transport_options(void **state)
{
	(void)state;
	assert_refused(run("vdev virtio-net vhost-user /tmp/s loc 0x1000 intr 5"), "argument 5",
		       "loc cannot be combined with vhost-user", "owns the transport");
	assert_refused(run("vdev virtio-net legacy vhost-user /tmp/s"), "argument 3",
		       "legacy cannot be combined with vhost-user");
	assert_refused(run("vdev virtio-net vhost-user /tmp/s intr 5"),
		       "intr cannot be combined with vhost-user");
}

static void test_bad_peerfeats(void **state)
{
	(void)state;
	assert_refused(run("vdev virtio-net peerfeats 0x8000"), "argument 4",
		       "bit 15 (MRG_RXBUF) is not an offload a peer link carries");
	assert_refused(run("vdev virtio-net peerfeats 0xffff"), "bits 2 (CTRL_GUEST_OFFLOADS), 3 (MTU), 4, 5 (MAC), 15 (MRG_RXBUF)");
	assert_refused(run("vdev virtio-net peerfeats 0x800"), "argument 4",
		       "peerfeats 0x800: HOST_TSO4 (bit 11) needs CSUM (bit 0)");
	assert_refused(run("vdev virtio-net peerfeats 0x203"),
		       "GUEST_ECN (bit 9) needs GUEST_TSO4 (bit 7) or GUEST_TSO6 (bit 8)");
	assert_refused(run("vdev virtio-net peerfeats fast"), "peerfeats 'fast'",
		       "is not a number", "or 'auto'");
	assert_refused(run("vdev virtio-net peerfeats 0x7fc3k"), "'k' after the number");
	assert_refused(run("vdev virtio-net peerfeats -1"), "is not a number");
	assert_refused(run("vdev virtio-net peerfeats 0x1ffffffffffffffff"), "64 bits");
	assert_refused(run("vdev virtio-net peerfeats AUTO"), "is not a number");
}

static void test_duplicate_names(void **state)
{
	(void)state;
	assert_refused(run("vdev virtio-net name a vdev virtio-net name a"),
		       "name 'a' used by two vdevs: command line and command line",
		       "#1 and #2");
	/* An explicit name equal to a would-be default is not a clash. */
	assert_ok(run("vdev virtio-net vdev virtio-net name net0"));
}

static void test_duplicate_macs(void **state)
{
	(void)state;
	assert_refused(run("vdev virtio-net mac 52:54:00:00:00:01 "
			   "vdev virtio-net mac 52:54:00:00:00:01"),
		       "mac 52:54:00:00:00:01 used by two vdevs");
	assert_refused(run("vdev virtio-net mac 52:54:00:00:00:01 "
			   "vdev virtio-net mac 52-54-00-00-00-01"),
		       "used by two vdevs");
}

static void test_duplicate_mac_with_generated(void **state)
{
	uint8_t m[6];
	char line[256], s[18];

	(void)state;
	opts_default_mac("default", "net1", m);
	snprintf(line, sizeof(line), "vdev virtio-net mac %s vdev virtio-net",
		 mac_format(m, s));
	assert_refused(run(line), "used by two vdevs", "give one a mac");
}

static void test_too_many_vdevs(void **state)
{
	char line[4096] = "";

	(void)state;
	for (int i = 0; i <= OPTS_MAX_VDEVS; i++)
		strcat(line, "vdev virtio-net ");
	assert_refused(run(line), "argument 65", "too many vdevs", "at most 32", "another --system");
}

static void test_hostile_words_are_escaped_and_bounded(void **state)
{
	char *huge = malloc(100001);
	char *argv[] = { "vnet-host", "vdev", "virtio-net", huge, NULL };

	(void)state;
	assert_non_null(huge);
	memset(huge, 'A', 100000);
	huge[100000] = '\0';
	assert_refused(opts_parse_cmdline(&opts, 4, argv, err, sizeof(err)), "argument 3",
		       "unknown option 'AAAA", "...'");
	assert_true(strlen(err) < 400);
	free(huge);

	assert_refused(run_value("mac", "\x1b[31mred"), "\\x1b[31mred");
	assert_null(strchr(err, '\x1b'));
	assert_refused(run("vdev virtio-net \x01\x02"), "'\\x01\\x02'");
}

static void test_small_err_buffer(void **state)
{
	char small[16];
	char *argv[] = { "vnet-host", "vdev", "virtio-net", "mac", "zz", NULL };

	(void)state;
	memset(small, 'x', sizeof(small));
	assert_int_equal(opts_parse_cmdline(&opts, 5, argv, small, sizeof(small)), -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(opts_parse_cmdline(&opts, 5, argv, NULL, 0), -EINVAL);
}

static void test_null_inputs(void **state)
{
	char *argv[] = { "vnet-host", "vdev", "virtio-net", NULL };

	(void)state;
	assert_int_equal(opts_parse_cmdline(NULL, 3, argv, err, sizeof(err)), -EINVAL);
	assert_int_equal(opts_parse_cmdline(&opts, 3, NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(opts_parse_cmdline(&opts, -1, argv, err, sizeof(err)), -EINVAL);
	/* argc larger than the NULL-terminated argv: stop at the NULL. */
	assert_ok(opts_parse_cmdline(&opts, 10, argv, err, sizeof(err)));
	assert_int_equal(opts_parse_config_text(&opts, NULL, "f", err, sizeof(err)), -EINVAL);
	assert_int_equal(mac_parse(NULL, (uint8_t[6]){ 0 }, NULL, 0), -EINVAL);
	assert_false(opts_valid_name(NULL));
}

/* ---- config text ---------------------------------------------------------- */

static void test_config_text_comments_and_blanks(void **state)
{
	(void)state;
	assert_ok(run_text("# a comment line\n"
			   "\n"
			   "   \t  \n"
			   "vdev virtio-net name a   # mac nonsense here\n"
			   "# vdev virtio-net bogus\n"
			   "\tvdev\tvirtio-net\tname b#no space before the comment\r\n"
			   "vdev virtio-net name c"));
	assert_int_equal(opts.n_vdevs, 3);
	assert_string_equal(opts.vdevs[0].name, "a");
	assert_string_equal(opts.vdevs[0].origin, "vnet.conf:4");
	assert_string_equal(opts.vdevs[1].name, "b");
	assert_string_equal(opts.vdevs[1].origin, "vnet.conf:6");
	assert_string_equal(opts.vdevs[2].origin, "vnet.conf:7");
}

static void test_config_text_empty(void **state)
{
	(void)state;
	assert_ok(run_text(""));
	assert_int_equal(opts.n_vdevs, 0);
	assert_ok(run_text("\n\n# only comments\n"));
	assert_int_equal(opts.n_vdevs, 0);
}

static void test_config_text_error_names_line_and_word(void **state)
{
	(void)state;
	assert_refused(run_text("vdev virtio-net name a\n\n# x\nvdev virtio-net mac zz\n"),
		       "vnet.conf:4: ", "mac 'zz'");
	assert_refused(run_text("vdev virtio-net frobnicate\n"), "vnet.conf:1: ",
		       "unknown option 'frobnicate'");
	assert_refused(run_text("vdev virtio-net mac\n"), "vnet.conf:1: ",
		       "option 'mac' needs a value");
	assert_refused(run_text("vdev virtio-net loc 0x1000\n"), "vnet.conf:1: ",
		       "loc needs intr");
}

static void test_config_text_global_option(void **state)
{
	(void)state;
	assert_refused(run_text("--system vm1\n"), "vnet.conf:1: ",
		       "global option '--system' is not allowed in a config file");
	assert_refused(run_text("vdev virtio-net name a -v\n"), "vnet.conf:1: ",
		       "global option '-v' is not allowed in a config file");
	assert_refused(run_text("vdev virtio-net --help\n"), "not allowed in a config file");
}

static void test_config_text_line_must_start_with_vdev(void **state)
{
	(void)state;
	assert_refused(run_text("\nvirtio-net name a\n"), "vnet.conf:2: ",
		       "expected 'vdev virtio-net ...'", "got 'virtio-net'");
	assert_refused(run_text("name a\n"), "got 'name'");
}

static void test_config_text_one_vdev_per_line(void **state)
{
	(void)state;
	assert_refused(run_text("vdev virtio-net name a vdev virtio-net name b\n"),
		       "vnet.conf:1: ", "one vdev per line");
}

static void test_config_text_overlong_line(void **state)
{
	char *text = malloc(10000);

	(void)state;
	assert_non_null(text);
	strcpy(text, "vdev virtio-net\nvdev virtio-net name ");
	memset(text + strlen(text), 'a', 5000);
	text[37 + 5000] = '\0';
	assert_refused(run_text(text), "vnet.conf:2: ", "line is longer than 4096 bytes");
	free(text);
}

static void test_config_text_too_many_words(void **state)
{
	char text[512] = "vdev virtio-net";

	(void)state;
	for (int i = 0; i < 50; i++)
		strcat(text, " legacy");
	assert_refused(run_text(text), "vnet.conf:1: ", "more than 40 words");
}

/* ---- vdev tap ----------------------------------------------------------- */

static void test_tap_full(void **state)
{
	const struct vdev_opts *v;

	(void)state;
	assert_ok(run("--system h vdev tap ifname vp0 name side mac 02:00:00:00:00:05 "
		      "peer /run/vnet/vm1/a peerfeats auto mtu 9000 addr 198.18.0.1/24 "
		      "addr fd00::1/64 netns ns-1"));
	assert_int_equal(opts.n_vdevs, 1);
	v = &opts.vdevs[0];
	assert_int_equal(v->type, VDEV_TAP);
	assert_string_equal(v->ifname, "vp0");
	assert_string_equal(v->name, "side");
	assert_true(v->peerfeats_auto);
	assert_true(v->has_mtu);
	assert_int_equal(v->mtu, 9000);
	assert_int_equal(v->n_addrs, 2);
	assert_string_equal(v->addrs[0], "198.18.0.1/24");
	assert_string_equal(v->addrs[1], "fd00::1/64");
	assert_true(v->has_netns);
	assert_string_equal(v->netns, "ns-1");
	assert_ok(run("vdev tap ifname vp0 bridge br0 vxlan 42@192.0.2.7"));
	v = &opts.vdevs[0];
	assert_string_equal(v->bridge, "br0");
	assert_true(v->has_vxlan);
	assert_int_equal(v->vxlan_id, 42);
	assert_string_equal(v->vxlan_remote, "192.0.2.7");
}

static void test_tap_mixed_with_virtio_net(void **state)
{
	(void)state;
	assert_ok(run("vdev virtio-net name a peer /r/s/b vdev tap ifname t0 name b peer /r/s/a "
		      "peerfeats 0x19c3"));
	assert_int_equal(opts.n_vdevs, 2);
	assert_int_equal(opts.vdevs[0].type, VDEV_VIRTIO_NET);
	assert_int_equal(opts.vdevs[1].type, VDEV_TAP);
	assert_int_equal(opts.vdevs[1].peerfeats, 0x19c3);
	assert_int_equal(run_text("vdev tap ifname vp0 addr 10.0.0.1/8 # host side\n"), 0);
	assert_int_equal(opts.vdevs[0].type, VDEV_TAP);
}

static void test_tap_refused(void **state)
{
	(void)state;
	assert_refused(run("vdev tap name a"), "argument 2", "vdev tap needs 'ifname IFNAME'");
	assert_refused(run("vdev tap ifname vp0 legacy"), "argument 5",
		       "option 'legacy' is for vdev virtio-net, not vdev tap");
	assert_refused(run("vdev virtio-net ifname vp0"), "argument 3",
		       "option 'ifname' is for vdev tap, not vdev virtio-net");
	assert_refused(run("vdev tap ifname a/b"), "ifname 'a/b' is not an interface name");
	assert_refused(run("vdev tap ifname abcdefghijklmnop"), "is not an interface name");
	assert_refused(run("vdev tap ifname vp0 mtu 67"), "mtu '67' is out of range");
	assert_refused(run("vdev tap ifname vp0 mtu 65536"), "out of range");
	assert_refused(run("vdev tap ifname vp0 mtu 010"), "leading 0");
	assert_refused(run("vdev tap ifname vp0 mtu 1000 addr fd00::1/64"),
		       "mtu 1000 is below 1280", "IPv6");
	assert_refused(run("vdev tap ifname vp0 addr 10.0.0.1"), "addr '10.0.0.1'", "no /PREFIX");
	assert_refused(run("vdev tap ifname vp0 addr 10.0.0.1/33"), "prefix length 33");
	assert_refused(run("vdev tap ifname vp0 addr 10.0.0.300/8"), "not an IPv4 or IPv6");
	assert_refused(run("vdev tap ifname vp0 addr fd00::1/129"), "more than 128");
	assert_refused(run("vdev tap ifname vp0 addr 1.1.1.1/8 addr 1.1.1.2/8 addr 1.1.1.3/8 "
			   "addr 1.1.1.4/8 addr 1.1.1.5/8"),
		       "more than 4 addr options");
	assert_refused(run("vdev tap ifname vp0 netns ../x"), "netns '../x' is not a namespace name");
	assert_refused(run("vdev tap ifname vp0 vxlan 42@192.0.2.7"), "vxlan needs bridge");
	assert_refused(run("vdev tap ifname vp0 bridge vp0"), "is the TAP itself");
	assert_refused(run("vdev tap ifname vp0 addr 10.0.0.1/8 bridge br0"), "argument 5",
		       "addr with bridge", "give the address to bridge br0");
	assert_refused(run("vdev tap ifname vp0 bridge br0 vxlan 42"), "has no '@'");
	assert_refused(run("vdev tap ifname vp0 bridge br0 vxlan 16777216@1.2.3.4"),
		       "beyond 24 bits");
	assert_refused(run("vdev tap ifname vp0 bridge br0 vxlan 5@nowhere"),
		       "vxlan remote 'nowhere' is not an IPv4 or IPv6 address");
	assert_refused(run("vdev tap ifname vp0 rate 10"), "unknown option 'rate' for vdev tap",
		       "expected ifname");
	assert_refused(run("vdev tap ifname vp0 speed 10"),
		       "option 'speed' is for vdev virtio-net, not vdev tap");
	assert_refused(run("vdev tap ifname vp0 mtu 1500 mtu 1500"), "given twice");
	assert_refused(run("vdev tap ifname vp0 name a vdev tap ifname vp0 name b"),
		       "ifname 'vp0' used by two tap vdevs");
	/* The same name in two namespaces is two interfaces. */
	assert_ok(run("vdev tap ifname vp0 name a netns x vdev tap ifname vp0 name b netns y"));
}

static void test_config_text_duplicate_names(void **state)
{
	(void)state;
	assert_refused(run_text("vdev virtio-net name a\nvdev virtio-net name b\n"
				"vdev virtio-net name a\n"),
		       "name 'a' used by two vdevs: vnet.conf:1 and vnet.conf:3");
}

static void test_config_text_appends(void **state)
{
	(void)state;
	assert_ok(run_text("vdev virtio-net name a\n"));
	assert_ok(opts_parse_config_text(&opts, "vdev virtio-net name b\n", "second.conf", err,
					 sizeof(err)));
	assert_int_equal(opts.n_vdevs, 2);
	assert_string_equal(opts.vdevs[1].origin, "second.conf:1");
	assert_refused(opts_parse_config_text(&opts, "vdev virtio-net name a\n", "third.conf",
					      err, sizeof(err)),
		       "vnet.conf:1 and third.conf:1");
}

/* ---- config files ---------------------------------------------------------- */

static void test_config_then_command_line(void **state)
{
	const char *path = write_text("order.conf", "# two devices\n"
				       "vdev virtio-net name a peer /run/vnet/vm2/a\n"
				       "vdev virtio-net name b mac 52:54:00:00:00:0b\n");
	char origin[256];

	(void)state;
	assert_ok(run_with_config(path, "vdev virtio-net name c"));
	assert_string_equal(opts.config, path);
	assert_int_equal(opts.n_vdevs, 3);
	assert_string_equal(opts.vdevs[0].name, "a");
	assert_string_equal(opts.vdevs[1].name, "b");
	assert_string_equal(opts.vdevs[2].name, "c");
	snprintf(origin, sizeof(origin), "%s:2", path);
	assert_string_equal(opts.vdevs[0].origin, origin);
	assert_string_equal(opts.vdevs[2].origin, "command line");
}

static void test_config_alone_is_enough(void **state)
{
	const char *path = write_text("alone.conf", "vdev virtio-net\n");

	(void)state;
	assert_ok(run_with_config(path, ""));
	assert_int_equal(opts.n_vdevs, 1);
	assert_string_equal(opts.vdevs[0].name, "net0");
}

static void test_config_duplicate_name_with_command_line(void **state)
{
	const char *path = write_text("dup.conf", "\n\nvdev virtio-net name a\n");
	char want[256];

	(void)state;
	snprintf(want, sizeof(want), "name 'a' used by two vdevs: %s:3 and command line", path);
	assert_refused(run_with_config(path, "vdev virtio-net name a"), want);
}

static void test_config_file_error_names_file_and_line(void **state)
{
	const char *path = write_text("bad.conf", "vdev virtio-net\nvdev virtio-net loc 0x1001 intr 4\n");
	char want[256];

	(void)state;
	snprintf(want, sizeof(want), "%s:2: loc '0x1001' is not 4 KiB aligned", path);
	assert_refused(run_with_config(path, ""), want);
}

static void test_config_file_with_nul(void **state)
{
	static const char data[] = "vdev virtio-net\nvdev virtio-net na\0me a\n";
	const char *path = write_file("nul.conf", data, sizeof(data) - 1);

	(void)state;
	assert_refused(run_with_config(path, ""), "nul.conf:2: ", "NUL byte");
}

static void test_config_file_too_big(void **state)
{
	size_t len = 1024 * 1024 + 1;
	char *data = malloc(len);
	const char *path;

	(void)state;
	assert_non_null(data);
	memset(data, '\n', len);
	path = write_file("big.conf", data, len);
	free(data);
	assert_refused(run_with_config(path, ""), "argument 2", "big.conf",
		       "larger than 1048576 bytes");
	/* Exactly 1 MiB of blank lines is fine (and has no vdev). */
	data = malloc(len - 1);
	assert_non_null(data);
	memset(data, '\n', len - 1);
	path = write_file("big.conf", data, len - 1);
	free(data);
	assert_refused(run_with_config(path, ""), "no vdev given");
}

static void test_config_file_overlong_line(void **state)
{
	char *data = malloc(20000);
	const char *path;

	(void)state;
	assert_non_null(data);
	memset(data, 'x', 20000);
	path = write_file("long.conf", data, 20000);
	free(data);
	assert_refused(run_with_config(path, ""), "long.conf:1: ", "longer than 4096");
}

static void test_config_file_unreadable(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/does-not-exist.conf", tmpdir);
	assert_refused(run_with_config(path, "vdev virtio-net"), "argument 2",
		       "cannot open config", "does-not-exist.conf", "No such file or directory");
	/* Only a regular file is read: a directory (or a FIFO, which would
	 * block) is refused by what it is. */
	assert_refused(run_with_config(tmpdir, ""), "is a directory; expected a regular file");
}

static void test_config_given_twice(void **state)
{
	const char *path = write_text("twice.conf", "vdev virtio-net\n");
	char line[512];

	(void)state;
	snprintf(line, sizeof(line), "--config %s --config=%s", path, path);
	assert_refused(run(line), "argument 3", "'--config' given twice");
}

static void test_config_plus_command_line_too_many(void **state)
{
	char text[4096] = "";
	char line[4096] = "";
	const char *path;

	(void)state;
	for (int i = 0; i < 20; i++)
		strcat(text, "vdev virtio-net\n");
	path = write_text("many.conf", text);
	for (int i = 0; i < 13; i++)
		strcat(line, "vdev virtio-net ");
	assert_refused(run_with_config(path, line), "too many vdevs", "at most 32");
}

/* ---- helpers of the API ------------------------------------------------------ */

static void test_valid_name(void **state)
{
	(void)state;
	assert_true(opts_valid_name("vm1"));
	assert_true(opts_valid_name("a"));
	assert_true(opts_valid_name("_x"));
	assert_true(opts_valid_name("9lives.v2-b"));
	assert_false(opts_valid_name(""));
	assert_false(opts_valid_name("."));
	assert_false(opts_valid_name("-a"));
	assert_false(opts_valid_name("a:b"));
	assert_false(opts_valid_name("nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"));
	assert_true(opts_valid_name("nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"));
}

static void test_parse_and_format_mac(void **state)
{
	uint8_t mac[6] = { 0 };
	char s[18];

	(void)state;
	assert_int_equal(mac_parse("52:54:00:AB:cd:0f", mac, NULL, 0), 0);
	assert_string_equal(mac_format(mac, s), "52:54:00:ab:cd:0f");
	memset(mac, 0x11, sizeof(mac));
	assert_int_equal(mac_parse("01:00:00:00:00:00", mac, NULL, 0), -EINVAL);
	/* A refused address leaves the output alone. */
	assert_memory_equal(mac, ((uint8_t[]){ 0x11, 0x11, 0x11, 0x11, 0x11, 0x11 }), 6);
}

static void test_default_mac_properties(void **state)
{
	uint8_t a[6], b[6], c[6], d[6];

	(void)state;
	opts_default_mac("vm1", "net0", a);
	opts_default_mac("vm1", "net0", b);
	opts_default_mac("vm2", "net0", c);
	opts_default_mac("vm1", "net1", d);
	assert_memory_equal(a, b, 6);
	assert_memory_not_equal(a, c, 6);
	assert_memory_not_equal(a, d, 6);
	assert_int_equal(a[0] & 1, 0);	/* unicast */
	assert_int_equal(a[0] & 2, 2);	/* locally administered */
	assert_int_equal(mac_parse(mac_format(a, (char[18]){ 0 }), b, NULL, 0), 0);
	/* The '/' separator keeps ("a", "b/c") and ("a/b", "c") apart only
	 * if names cannot hold '/', which opts_valid_name guarantees. */
	assert_false(opts_valid_name("b/c"));
}

static void test_default_run_dir(void **state)
{
	char dir[PATH_MAX];
	char want[64];

	(void)state;
	setenv("VNET_RUN_DIR", "/srv/vnet", 1);
	assert_int_equal(opts_default_run_dir(dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/srv/vnet");

	assert_int_equal(opts_default_run_dir(dir, 4), -ENAMETOOLONG);
	assert_int_equal(opts_default_run_dir(NULL, 0), -EINVAL);

	/* Empty means unset; the answer then depends on this machine. */
	setenv("VNET_RUN_DIR", "", 1);
	setenv("XDG_RUNTIME_DIR", "/nonexistent-xdg", 1);
	assert_int_equal(opts_default_run_dir(dir, sizeof(dir)), 0);
	snprintf(want, sizeof(want), "/tmp/vnet-%u", (unsigned)geteuid());
	if (access("/run", W_OK) == 0 || access("/run/vnet", W_OK) == 0)
		assert_string_equal(dir, "/run/vnet");
	else
		assert_string_equal(dir, "/nonexistent-xdg/vnet");

	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("VNET_RUN_DIR");
	assert_int_equal(opts_default_run_dir(dir, sizeof(dir)), 0);
	assert_true(strcmp(dir, "/run/vnet") == 0 || strcmp(dir, want) == 0);
}

static void test_usage_mentions_every_option(void **state)
{
	static const char *const words[] = {
		"--system", "--run-dir", "--config", "-v", "--help", "vdev virtio-net",
		"intr INTR", "legacy", "loc ADDR", "mac MAC", "name NAME", "peer PATH",
		"peerfeats MASK", "vhost-user PATH", "0x7fc3", "0x19c3",
		"peer /run/vnet/vm2/net0", "peer /run/vnet/vm1/net0",
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	opts_usage(f);
	assert_int_equal(fclose(f), 0);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strstr(text, words[i]))
			fail_msg("usage lacks '%s'", words[i]);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup(fn, setup)
		T(test_full_mmio_line),
		T(test_minimal_line_gets_defaults),
		T(test_default_names_skip_taken),
		T(test_default_macs_differ_and_follow_system),
		T(test_vhost_user_and_auto),
		T(test_numbers_decimal_and_hex),
		T(test_mac_forms),
		T(test_verbose_forms),
		T(test_inline_global_values),
		T(test_help),
		T(test_name_limits),
		T(test_peer_path_limits),
		T(test_max_vdevs_accepted),
		T(test_no_vdev),
		T(test_unknown_device_option),
		T(test_speed_duplex),
		T(test_queues),
		T(test_incoming),
		T(test_unknown_global_option),
		T(test_global_option_after_vdev),
		T(test_global_option_twice),
		T(test_missing_value_at_end),
		T(test_missing_value_before_next_vdev),
		T(test_duplicate_option_in_vdev),
		T(test_unknown_vdev_type),
		T(test_bad_mac_forms),
		T(test_multicast_mac),
		T(test_zero_mac),
		T(test_bad_loc),
		T(test_bad_intr),
		T(test_bad_name),
		T(test_bad_system),
		T(test_bad_paths),
		T(test_capture),
		T(test_bad_run_dir),
		T(test_socket_path_too_long),
		T(test_loc_needs_intr),
		T(test_intr_needs_loc),
		T(test_vhost_user_refuses_transport_options),
		T(test_bad_peerfeats),
		T(test_duplicate_names),
		T(test_duplicate_macs),
		T(test_duplicate_mac_with_generated),
		T(test_too_many_vdevs),
		T(test_hostile_words_are_escaped_and_bounded),
		T(test_small_err_buffer),
		T(test_null_inputs),
		T(test_config_text_comments_and_blanks),
		T(test_config_text_empty),
		T(test_config_text_error_names_line_and_word),
		T(test_config_text_global_option),
		T(test_config_text_line_must_start_with_vdev),
		T(test_config_text_one_vdev_per_line),
		T(test_config_text_overlong_line),
		T(test_config_text_too_many_words),
		T(test_config_text_duplicate_names),
		T(test_tap_full),
		T(test_tap_mixed_with_virtio_net),
		T(test_tap_refused),
		T(test_config_text_appends),
		T(test_config_then_command_line),
		T(test_config_alone_is_enough),
		T(test_config_duplicate_name_with_command_line),
		T(test_config_file_error_names_file_and_line),
		T(test_config_file_with_nul),
		T(test_config_file_too_big),
		T(test_config_file_overlong_line),
		T(test_config_file_unreadable),
		T(test_config_given_twice),
		T(test_config_plus_command_line_too_many),
		T(test_valid_name),
		T(test_parse_and_format_mac),
		T(test_default_mac_properties),
		T(test_default_run_dir),
		T(test_usage_mentions_every_option),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
