// SPDX-License-Identifier: MIT
/*
 * fuzz_opts_config - a --config file's text into opts_parse_config_text
 * (host/opts.c), as read_config hands it over: NUL-terminated, no NUL
 * inside (read_config refuses those), at most 1 MiB (we stop at 64 KiB:
 * longer inputs only repeat lines).  Checks the documented contract:
 * 0 or -EINVAL, an error message on failure, valid names on success.
 */
#include <errno.h>

#include "host/opts.h"
#include "tests/fuzz/harness.h"

static struct host_opts opts;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	char *text;
	int rc;

	if (size > 64 * 1024 || memchr(data, '\0', size))
		return -1;	/* not a config read_config would pass on */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&opts, 0, sizeof(opts));
	rc = opts_parse_config_text(&opts, text, "fuzz.conf", err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc) {
		FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)));
	} else {
		FUZZ_CHECK(opts.n_vdevs <= OPTS_MAX_VDEVS);
		for (unsigned i = 0; i < opts.n_vdevs; i++) {
			const struct vdev_opts *v = &opts.vdevs[i];

			FUZZ_CHECK(!v->has_name || opts_valid_name(v->name));
			FUZZ_CHECK(memchr(v->peer, '\0', sizeof(v->peer)));
			FUZZ_CHECK(memchr(v->vhost_user, '\0', sizeof(v->vhost_user)));
			FUZZ_CHECK(memchr(v->origin, '\0', sizeof(v->origin)));
			FUZZ_CHECK(v->n_addrs <= OPTS_TAP_ADDRS);
		}
	}
	free(text);
	return 0;
}
