// SPDX-License-Identifier: MIT
/*
 * sigbus_guard.c - zero pages instead of a dead process when a shared
 * file shrinks under its mapping (see sigbus_guard.h).
 */
#include "common/sigbus_guard.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"

/* One slot per live mapping.  The SIGBUS handler reads the table without
 * a lock: a slot's range is written before `start` is published (release)
 * and `start` is cleared before the range is unmapped. */
#define GUARD_SLOTS 256

struct guard {
	uintptr_t start;	/* 0: free */
	size_t len;
	int notify_fd;		/* -1: none */
	volatile sig_atomic_t hit;
};

static struct guard guards[GUARD_SLOTS];
static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction guard_old;

static void guard_sigbus(int sig, siginfo_t *si, void *uctx)
{
	uintptr_t a = (uintptr_t)si->si_addr;

	for (unsigned i = 0; i < GUARD_SLOTS; i++) {
		uintptr_t start = __atomic_load_n(&guards[i].start, __ATOMIC_ACQUIRE);

		if (!start || a < start || a - start >= guards[i].len)
			continue;
		/* The file shrank under this mapping: put zero pages in its
		 * place, so the access completes; the owner learns of it
		 * (hit, and its eventfd) and stops using the memory.  mmap
		 * and write are plain syscalls here, safe in a handler. */
		if (mmap((void *)start, guards[i].len, PROT_READ | PROT_WRITE,
			 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			 -1, 0) != MAP_FAILED) {
			uint64_t one = 1;

			guards[i].hit = 1;
			if (guards[i].notify_fd >= 0 &&
			    write(guards[i].notify_fd, &one, sizeof(one)) < 0) {
				/* A full eventfd already says it. */
			}
			return;
		}
		break;
	}
	/* Not ours: whatever was there before decides. */
	if (guard_old.sa_flags & SA_SIGINFO) {
		guard_old.sa_sigaction(sig, si, uctx);
		return;
	}
	if (guard_old.sa_handler != SIG_DFL && guard_old.sa_handler != SIG_IGN) {
		guard_old.sa_handler(sig);
		return;
	}
	/* Default: returning re-runs the access, which now kills us with
	 * SIGBUS as it would have without the guard. */
	signal(SIGBUS, SIG_DFL);
}

int sigbus_guard_add(void *map, size_t len, int notify_fd)
{
	int slot = 0;

	struct sigaction cur;
	bool installed;

	pthread_mutex_lock(&guard_lock);
	/* Checked every time: somebody (a test harness) may have replaced
	 * our handler since; we then chain to theirs. */
	installed = sigaction(SIGBUS, NULL, &cur) == 0 &&
		    (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == guard_sigbus;
	if (!installed) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = guard_sigbus;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		installed = sigaction(SIGBUS, &sa, &guard_old) == 0;
	}
	for (unsigned i = 0; installed && i < GUARD_SLOTS; i++) {
		if (guards[i].start)
			continue;
		guards[i].len = len;
		guards[i].notify_fd = notify_fd;
		guards[i].hit = 0;
		__atomic_store_n(&guards[i].start, (uintptr_t)map, __ATOMIC_RELEASE);
		slot = (int)i + 1;
		break;
	}
	pthread_mutex_unlock(&guard_lock);
	if (!slot)
		log_rl(LOG_WARN, "no SIGBUS guard for a shared mapping (%s): a truncation of its file would kill the process",
		       installed ? "table full" : "cannot install the SIGBUS handler");
	return slot;
}

void sigbus_guard_del(int *slot)
{
	if (*slot <= 0 || *slot > GUARD_SLOTS)
		return;
	__atomic_store_n(&guards[*slot - 1].start, 0, __ATOMIC_RELEASE);
	*slot = 0;
}

bool sigbus_guard_hit(int slot)
{
	return slot > 0 && slot <= GUARD_SLOTS && guards[slot - 1].hit;
}

void sigbus_guard_rearm(int slot)
{
	if (slot > 0 && slot <= GUARD_SLOTS)
		guards[slot - 1].hit = 0;
}
