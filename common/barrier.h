/* SPDX-License-Identifier: MIT */
/*
 * barrier.h - named acquire/release accessors for memory shared with
 * another process.  No bare volatile, no full fences unless a protocol
 * needs store->load ordering (the "publish then check the other side's
 * flag" pattern of notification suppression), where smp_mb() is used and
 * the call site says why.
 *
 * VIRTIO_F_ORDER_PLATFORM is never offered: both sides are software on
 * SMP CPUs, so these SMP barriers suffice (virtio 1.2, 6).
 */
#ifndef VNET_BARRIER_H
#define VNET_BARRIER_H

#include <stdatomic.h>
#include <stdint.h>

#define READ_ONCE(x)	  __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)  __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define load_acquire(p)	  __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

static inline void smp_mb(void) { atomic_thread_fence(memory_order_seq_cst); }
static inline void smp_rmb(void) { atomic_thread_fence(memory_order_acquire); }
static inline void smp_wmb(void) { atomic_thread_fence(memory_order_release); }

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

#endif /* VNET_BARRIER_H */
