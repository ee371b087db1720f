// SPDX-License-Identifier: MIT
/*
 * test_guest_mem.c - the guest RAM file: size parsing, creation leaves no
 * name in /dev/shm, the bump allocator's alignment, zeroing, exhaustion
 * and guest-physical addresses.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest/guest_mem.h"

static void test_parse_size(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(guest_mem_parse_size("65536", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(guest_mem_parse_size("64M", &v), 0);
	assert_int_equal(v, UINT64_C(64) << 20);
	assert_int_equal(guest_mem_parse_size("512k", &v), 0);
	assert_int_equal(v, UINT64_C(512) << 10);
	assert_int_equal(guest_mem_parse_size("2G", &v), 0);
	assert_int_equal(v, UINT64_C(2) << 30);
	assert_int_equal(guest_mem_parse_size("1GiB", &v), 0);
	assert_int_equal(v, UINT64_C(1) << 30);
	assert_int_equal(guest_mem_parse_size("8MB", &v), 0);
	assert_int_equal(v, UINT64_C(8) << 20);
	assert_int_equal(guest_mem_parse_size("", &v), -EINVAL);
	assert_int_equal(guest_mem_parse_size("M", &v), -EINVAL);
	assert_int_equal(guest_mem_parse_size("-1M", &v), -EINVAL);
	assert_int_equal(guest_mem_parse_size(" 1M", &v), -EINVAL);
	assert_int_equal(guest_mem_parse_size("1T", &v), -EINVAL);
	assert_int_equal(guest_mem_parse_size("1Mx", &v), -EINVAL);
	assert_int_equal(guest_mem_parse_size("0x10", &v), -EINVAL);
	assert_int_equal(guest_mem_parse_size("99999999999999999999", &v), -EINVAL);
	assert_int_equal(guest_mem_parse_size("17179869184G", &v), -EINVAL);
}

/* No file named after this process is left in /dev/shm. */
static int our_shm_files(void)
{
	char prefix[64];
	struct dirent *e;
	DIR *d = opendir("/dev/shm");
	int n = 0;

	if (!d)
		return 0;
	snprintf(prefix, sizeof(prefix), "vnet-guest-%ld-", (long)getpid());
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static void test_create_leaves_no_name(void **state)
{
	struct guest_mem m;
	struct stat st;

	(void)state;
	assert_int_equal(guest_mem_create(&m, GUEST_MEM_MIN_SIZE), 0);
	assert_int_equal(our_shm_files(), 0);
	assert_true(m.fd >= 0);
	assert_int_equal(fstat(m.fd, &st), 0);
	assert_int_equal((uint64_t)st.st_size, GUEST_MEM_MIN_SIZE);
	assert_int_equal(st.st_mode & 0777, 0600);
	guest_mem_destroy(&m);
	assert_int_equal(m.fd, -1);
	guest_mem_destroy(&m);	/* twice is harmless */
}

static void test_create_refuses_bad_sizes(void **state)
{
	struct guest_mem m;

	(void)state;
	assert_int_equal(guest_mem_create(&m, 0), -EINVAL);
	assert_int_equal(guest_mem_create(&m, GUEST_MEM_MIN_SIZE + 1), -EINVAL);
	assert_int_equal(guest_mem_create(&m, GUEST_MEM_MIN_SIZE - 4096), -EINVAL);
	assert_int_equal(guest_mem_create(&m, GUEST_MEM_MAX_SIZE + 4096), -EINVAL);
	guest_mem_destroy(&m);
}

static void test_alloc_align_gpa_zero_exhaust(void **state)
{
	struct guest_mem m;
	uint64_t gpa, total = 0;
	void *p, *q;

	(void)state;
	assert_int_equal(guest_mem_create(&m, GUEST_MEM_MIN_SIZE), 0);
	assert_int_equal(guest_mem_alloc(&m, 10, 1, &p, &gpa), 0);
	assert_ptr_equal(p, m.base);
	assert_int_equal(gpa, 0);
	memset(p, 0xab, 10);
	assert_int_equal(guest_mem_alloc(&m, 100, 4096, &q, &gpa), 0);
	assert_int_equal(gpa, 4096);
	assert_ptr_equal(q, m.base + 4096);
	assert_int_equal(((uint8_t *)q)[0], 0);
	assert_int_equal(guest_mem_alloc(&m, 8, 64, &q, &gpa), 0);
	assert_int_equal(gpa % 64, 0);
	assert_int_equal(gpa, 4096 + 128);
	/* The gmem window translates back to the same memory. */
	assert_ptr_equal(gmem_translate(&m.gm, gpa, 8, true), q);
	/* Bad arguments. */
	assert_int_equal(guest_mem_alloc(&m, 0, 8, &q, &gpa), -EINVAL);
	assert_int_equal(guest_mem_alloc(&m, 8, 3, &q, &gpa), -EINVAL);
	assert_int_equal(guest_mem_alloc(&m, 8, 0, &q, &gpa), -EINVAL);
	/* Exhaustion: more than is left, then exactly what is left. */
	assert_int_equal(guest_mem_alloc(&m, (size_t)guest_mem_free_bytes(&m) + 1, 1, &q, NULL),
			 -ENOMEM);
	assert_int_equal(guest_mem_alloc(&m, SIZE_MAX, 1, &q, NULL), -ENOMEM);
	total = guest_mem_free_bytes(&m);
	assert_int_equal(guest_mem_alloc(&m, (size_t)total, 1, &q, &gpa), 0);
	assert_int_equal(gpa + total, GUEST_MEM_MIN_SIZE);
	assert_int_equal(guest_mem_free_bytes(&m), 0);
	assert_int_equal(guest_mem_alloc(&m, 1, 1, &q, NULL), -ENOMEM);
	/* A huge alignment cannot wrap the bump pointer. */
	assert_int_equal(guest_mem_alloc(&m, 1, (size_t)1 << 62, &q, NULL), -ENOMEM);
	guest_mem_destroy(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_create_leaves_no_name),
		cmocka_unit_test(test_create_refuses_bad_sizes),
		cmocka_unit_test(test_alloc_align_gpa_zero_exhaust),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
