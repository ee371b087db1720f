// SPDX-License-Identifier: MIT
/*
 * fuzz_opts_cmdline - vnet-host's argv into opts_parse_cmdline
 * (host/opts.c), the input split on NUL bytes into argv[0..argc) with
 * argv[argc] = NULL, as execve guarantees.  A valid config file waits
 * at CONF (so `--config CONF` reaches read_config, and a seed can name
 * it), and VNET_RUN_DIR points beside it (so opts_default_run_dir looks
 * at nothing else).
 */
#include <errno.h>
#include <sys/stat.h>

#include "host/opts.h"
#include "tests/fuzz/harness.h"

#define MAX_ARGS 256
#define DIR	 "/tmp/vnet-fuzz-opts"
#define CONF	 DIR "/vnet.conf"

static struct host_opts opts;

/* At exit (the end of a timed run) the directory goes, file and all:
 * its path is fixed, since seeds name the file. */
static void remove_dir(void)
{
	(void)unlink(CONF);
	(void)rmdir(DIR);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char conf[] =
		"# two devices\n"
		"vdev virtio-net name a mac 52:54:00:00:00:01 peer /tmp/x/b\n"
		"vdev tap ifname vt0 name t0 mtu 1500 addr 10.0.0.1/24\n";
	FILE *f;

	fuzz_quiet();
	if (mkdir(DIR, 0700) != 0 && errno != EEXIST)
		abort();
	atexit(remove_dir);
	f = fopen(CONF, "w");
	if (!f || fputs(conf, f) < 0 || fclose(f) != 0)
		abort();
	setenv("VNET_RUN_DIR", DIR, 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 1];
	char err[512];
	char *buf;
	int argc = 0, rc;

	if (size > 16 * 1024)
		return -1;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i <= size && argc < MAX_ARGS;) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;
	rc = opts_parse_cmdline(&opts, argc, argv, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == OPTS_HELP || rc == -EINVAL || rc == -ENOMEM);
	if (rc < 0)
		FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)));
	if (rc == 0) {
		FUZZ_CHECK(opts.run_dir[0] != '\0');
		FUZZ_CHECK(opts_valid_name(opts.system));
		for (unsigned i = 0; i < opts.n_vdevs; i++)
			FUZZ_CHECK(opts_valid_name(opts.vdevs[i].name));
	}
	free(buf);
	return 0;
}
