/* SPDX-License-Identifier: MIT */
#ifndef SGT_PLATFORM_H
#define SGT_PLATFORM_H

#include "sgt/alloc.h"
#include "sgt/memory.h"

/**
 * DOC: The platform interface
 *
 * The core needs four things from the environment it is linked into, and nothing else (its types
 * come from ``sgt/types.h``, plus the compiler's ``memcpy`` and ``memset`` and ``__builtin_va_*``,
 * which every C environment provides): a default allocator, a default memory domain, a lock (for
 * the DMA debug layer) and a way to report a failed debug assertion. A platform file implements
 * them; CMake picks one with ``SGT_PLATFORM``:
 *
 * - ``user`` (``core/platform/user/``): malloc allocator, identity memory domain with 4 KiB
 *   pages, pthread mutexes, assertion failures print and abort.
 * - ``none`` (``core/platform/none/``): the freestanding build. No default allocator or memory
 *   domain (callers pass their own), no threads (the lock is a no-op, so callers serialise calls
 *   for one device), assertion failures trap.
 *
 * - ``kernel`` (``core/platform/kernel/``, built by Kbuild through ``tools/kbuild.sh``): kmalloc
 *   (kvmalloc where sleeping is allowed) under the call's allocation context, a domain over
 *   ``pfn_to_page`` and ``kmap_local_page`` with the kernel's page size, ``alloc_pages``, an
 *   irq-saving spinlock, and ``WARN()``: there sgt_platform_assert_fail() returns and the failed
 *   operation is refused (it fails closed). ``module.c`` makes ``sgt.ko``, exporting the API.
 */

#ifdef __cplusplus
extern "C" {
#endif

/**
 * sgt_platform_allocator() - the allocator used when a caller passes none
 *
 * Context: any; allocates nothing.
 * Return: a static allocator, or NULL when the platform has none.
 */
SGT_API const struct sgt_allocator *sgt_platform_allocator(void);

/**
 * sgt_platform_memory() - the memory domain used when a caller passes none
 *
 * Context: any; allocates nothing.
 * Return: a static domain, or NULL when the platform has none.
 */
SGT_API const struct sgt_memory *sgt_platform_memory(void);

/**
 * sgt_platform_lock_new() - a lock for one device's debug layer
 *
 * Context: may sleep (allocates).
 * Return: the lock, owned by the caller, who frees it with sgt_platform_lock_free(); NULL when
 * out of memory.
 */
SGT_API void *sgt_platform_lock_new(void);

/**
 * sgt_platform_lock_free() - free a lock from sgt_platform_lock_new()
 * @lock: the lock, not held; NULL is a no-op
 *
 * Context: may sleep.
 */
SGT_API void sgt_platform_lock_free(void *lock);

/**
 * sgt_platform_lock() - take a lock; sgt holds it briefly and never sleeps under it
 * @lock: the lock; NULL is a no-op
 *
 * Context: any; may spin or block until the lock is free; the holder never sleeps.
 */
SGT_API void sgt_platform_lock(void *lock);

/**
 * sgt_platform_unlock() - release a lock taken with sgt_platform_lock()
 * @lock: the lock; NULL is a no-op
 *
 * Context: any.
 */
SGT_API void sgt_platform_unlock(void *lock);

/**
 * sgt_platform_assert_fail() - report a failed debug assertion
 * @expr: the expression text
 * @file: source file
 * @line: source line
 *
 * Only debug builds (``SGT_DEBUG_CHECKS``) call it. In user space and freestanding it does not
 * return (abort, trap). A platform where stopping is worse than going on (a kernel: WARN, not
 * BUG) may return: every caller then fails the operation closed (-SGT_EIO, nothing changed).
 * Context: any.
 */
SGT_API void sgt_platform_assert_fail(const char *expr, const char *file, int line);

#ifdef __cplusplus
}
#endif

#endif /* SGT_PLATFORM_H */
