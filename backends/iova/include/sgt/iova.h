/* SPDX-License-Identifier: MIT */
#ifndef SGT_IOVA_H
#define SGT_IOVA_H

#include "sgt/types.h"

#include "sgt/alloc.h"
#include "sgt/dma.h"
#include "sgt/error.h"

/**
 * DOC: IOVA allocator
 *
 * Hands out ranges of I/O virtual addresses from a set of windows, as an IOMMU driver must. Used
 * by the simulated IOMMU and, later, the VFIO backend.
 *
 * - **Size-aligned**: a range of *n* granules starts at a multiple of the next power of two of
 *   *n* (Linux ``alloc_iova(..., size_aligned=true)``). It is a buddy allocator, so the range
 *   occupies that whole power of two: up to half of an allocation's IOVA space can be padding.
 * - **Windows and reserved ranges**: only addresses inside a window and outside every reserved
 *   range (such as the x86 MSI window 0xfee00000-0xfeefffff) are ever returned; a @limit (the
 *   device's DMA mask) bounds each allocation.
 * - **Worst case O(log W * log n)** for alloc and free, W the window size in granules and n the
 *   number of free blocks: one AVL tree of free blocks per order, so splitting, buddy lookup and
 *   "lowest block under the limit" are tree operations, never a walk over all ranges (Linux's
 *   allocator walks its rbtree linearly under fragmentation).
 * - **Live ranges** are found by their first granule in a radix tree (one byte a granule in
 *   leaves of 4 KiB, inner nodes of 512 pointers), so a release checks its address and length in
 *   O(1): a double free, a wrong number of granules or an address never handed out is refused.
 * - **Magazines**: a freed block goes into a small per-order magazine (LIFO) and is reused from
 *   there in O(1) by the next allocation of its order. Magazines are flushed into the trees when
 *   an allocation cannot be satisfied otherwise.
 * - **Per-thread caches** (&struct sgt_iova_cache, Linux's per-CPU rcache): each thread that
 *   allocates often makes its own; allocations of up to 32 granules and their releases then take
 *   no lock, a free+alloc pair costs tens of nanoseconds (bench/), and the allocator's lock is
 *   taken once per 16 blocks to refill or flush a cache.
 * - **Quarantine**: optionally, freed ranges wait in a FIFO of fixed length before they can be
 *   reused, so a device that DMAs after unmap hits a hole rather than someone else's buffer.
 *
 * Safe to share between threads (unless made with @caller_locks): the allocator takes its own
 * lock (the platform's), and live ranges are updated with atomic operations, so a range may be
 * released by another thread, or through another cache, than the one that allocated it. A cache
 * is used by one thread at a time.
 * Blocks that sit in a cache (at most 128 of each order from 1 to 32 granules) are free but
 * reserved for that cache's allocations until it releases them with sgt_iova_cache_drain() or
 * sgt_iova_cache_free().
 */

/**
 * struct sgt_iova_params - how to set up an allocator
 * @granule_shift:  log2 of the IOVA page size (12 for 4 KiB), 9..30.
 * @windows:        ranges addresses may come from (inclusive ends); at least one.
 * @num_windows:    entries in @windows, 1..SGT_DMA_MAX_WINDOWS.
 * @reserved:       ranges never to hand out; may be NULL when @num_reserved is 0.
 * @num_reserved:   entries in @reserved.
 * @quarantine_len: freed ranges held back before reuse; 0 for none.
 * @magazine_size:  freed blocks cached per order; 0 for none.
 * @alloc:          allocator for the bookkeeping; NULL for the platform default.
 * @caller_locks:   true when the caller serialises every call on this allocator and its caches
 *                  under a lock of its own (the simulated IOMMU and the VFIO backend do): the
 *                  allocator then takes none, which saves two atomic operations a call.
 */
struct sgt_iova_params {
	unsigned int granule_shift;
	const struct sgt_dma_window *windows;
	uint32_t num_windows;
	const struct sgt_dma_window *reserved;
	uint32_t num_reserved;
	uint32_t quarantine_len;
	uint32_t magazine_size;
	const struct sgt_allocator *alloc;
	bool caller_locks;
};

/**
 * struct sgt_iova_stats - counters, for tests and benchmarks
 * @live_ranges:    allocations not yet freed.
 * @live_granules:  granules those occupy (powers of two).
 * @free_granules:  granules available (in trees, magazines, caches; not in quarantine).
 * @quarantined:    ranges in quarantine.
 * @magazine_hits:  allocations served from a magazine or a cache.
 * @flushes:        times the magazines were flushed to satisfy an allocation.
 */
struct sgt_iova_stats {
	uint64_t live_ranges;
	uint64_t live_granules;
	uint64_t free_granules;
	uint64_t quarantined;
	uint64_t magazine_hits;
	uint64_t flushes;
};

struct sgt_iova;
struct sgt_iova_cache;

#ifdef __cplusplus
extern "C" {
#endif

/**
 * sgt_iova_new() - create an allocator
 * @params: the windows, reserved ranges and policies
 * @out:    receives the allocator; free it with sgt_iova_free()
 *
 * Context: may sleep (allocates with SGT_MAY_SLEEP).
 * Return: 0; -SGT_EINVAL for bad parameters or windows that leave no usable granule;
 * -SGT_ENOMEM. On failure *@out is not written.
 */
SGT_API SGT_MUST_CHECK int sgt_iova_new(const struct sgt_iova_params *params,
					struct sgt_iova **out);

/**
 * sgt_iova_free() - destroy an allocator and its bookkeeping
 * @iova: the allocator, or NULL. Live ranges are simply forgotten; its caches are freed too (their
 *        threads must be done with them).
 *
 * Context: may sleep (frees).
 */
SGT_API void sgt_iova_free(struct sgt_iova *iova);

/**
 * sgt_iova_alloc() - allocate a size-aligned range
 * @iova:     the allocator
 * @len:      bytes, at least 1; rounded up to whole granules
 * @limit:    highest address the range may include (a DMA mask); UINT64_MAX for none
 * @out_addr: receives the first address
 *
 * Context: bookkeeping nodes are allocated with %SGT_ATOMIC (as Linux's alloc_iova_fast() does),
 * so a map path that must not sleep can call it; takes the allocator's lock (the platform's:
 * a spinlock in a kernel, a mutex in user space) unless it was made with @caller_locks.
 * Return: 0; -SGT_EINVAL for a NULL @iova or @out_addr or a zero @len; -SGT_ENOSPC when no free
 * range of that size lies under @limit; -SGT_ENOMEM when bookkeeping could not be allocated. On
 * failure nothing changes and *@out_addr is not written. The range is the caller's until it
 * releases it.
 */
SGT_API SGT_MUST_CHECK int sgt_iova_alloc(struct sgt_iova *iova, uint64_t len, uint64_t limit,
					  uint64_t *out_addr);

/**
 * sgt_iova_release() - free a range
 * @iova: the allocator
 * @addr: an address sgt_iova_alloc() or sgt_iova_cache_alloc() returned
 * @len:  the length that was asked for, or any length that needs as many granules (the allocator
 *        keeps granules, not bytes: one byte a granule is what keeps a release's lookup cheap)
 *
 * The range goes to quarantine (if any), then to its order's magazine or back into the trees.
 * Context: never allocates; takes the allocator's lock (unless made with @caller_locks).
 * Return: 0; -SGT_EINVAL when @addr is not the start of a live range of that many granules (a
 * double free, a wrong length, an address never allocated); then nothing changes. Of two
 * releases of one range that race, one succeeds.
 */
SGT_API SGT_MUST_CHECK int sgt_iova_release(struct sgt_iova *iova, uint64_t addr, uint64_t len);

/**
 * sgt_iova_cache_new() - a cache of free blocks for one thread's allocations
 * @iova: the allocator
 * @out:  receives the cache; free it with sgt_iova_cache_free() (or it goes with sgt_iova_free())
 *
 * The cache is the caller's to use from one thread at a time, without a lock: the fast path.
 * Context: may sleep (allocates with SGT_MAY_SLEEP).
 * Return: 0; -SGT_EINVAL for a NULL argument; -SGT_ENOMEM. On failure *@out is not written.
 */
SGT_API SGT_MUST_CHECK int sgt_iova_cache_new(struct sgt_iova *iova, struct sgt_iova_cache **out);

/**
 * sgt_iova_cache_alloc() - sgt_iova_alloc() through a cache
 * @cache:    the thread's cache
 * @len:      as for sgt_iova_alloc()
 * @limit:    as for sgt_iova_alloc()
 * @out_addr: receives the first address
 *
 * Up to 32 granules: the most recently released block of the order when it lies under @limit,
 * without a lock; an empty cache first takes up to 16 blocks from the allocator, under its lock.
 * Otherwise, and for larger ranges, it is sgt_iova_alloc().
 * Context: as for sgt_iova_alloc().
 * Return: as for sgt_iova_alloc(); -SGT_EINVAL also for a NULL @cache. On failure nothing
 * changes, but for blocks the cache may have taken from the allocator.
 */
SGT_API SGT_MUST_CHECK int sgt_iova_cache_alloc(struct sgt_iova_cache *cache, uint64_t len,
						uint64_t limit, uint64_t *out_addr);

/**
 * sgt_iova_cache_release() - sgt_iova_release() through a cache
 * @cache: the thread's cache
 * @addr:  an address sgt_iova_alloc() or sgt_iova_cache_alloc() returned, through any cache
 * @len:   as for sgt_iova_release()
 *
 * Up to 32 granules the block goes into @cache, without a lock (a full cache first hands its 16
 * oldest blocks back to the allocator); larger ranges, and every range when the allocator has a
 * quarantine, go as by sgt_iova_release().
 * Context: never allocates.
 * Return: 0; -SGT_EINVAL as for sgt_iova_release(), and for a NULL @cache; then nothing changes.
 */
SGT_API SGT_MUST_CHECK int sgt_iova_cache_release(struct sgt_iova_cache *cache, uint64_t addr,
						  uint64_t len);

/**
 * sgt_iova_cache_drain() - give every block a cache holds back to its allocator
 * @cache: the cache, or NULL (a no-op)
 *
 * For an allocation that failed with -SGT_ENOSPC while caches held free blocks (the allocator
 * cannot take them itself: the caches belong to their threads), and before checks that count.
 * Context: takes the allocator's lock; never allocates.
 */
SGT_API void sgt_iova_cache_drain(struct sgt_iova_cache *cache);

/**
 * sgt_iova_cache_free() - drain and free a cache
 * @cache: the cache, or NULL (a no-op); not used again
 *
 * Context: takes the allocator's lock; frees.
 */
SGT_API void sgt_iova_cache_free(struct sgt_iova_cache *cache);

/**
 * sgt_iova_is_live() - whether @addr lies in a live (allocated, not freed) range
 * @iova: the allocator
 * @addr: any address
 *
 * Context: allocates nothing; a walk down the radix tree of live ranges, under the allocator's
 * lock (for large ranges' records).
 * Return: the answer; false for a NULL @iova.
 */
SGT_API bool sgt_iova_is_live(const struct sgt_iova *iova, uint64_t addr);

/**
 * sgt_iova_get_stats() - the counters
 * @iova: the allocator
 * @out:  receives them; nothing happens when either is NULL
 *
 * Context: allocates nothing; takes the allocator's lock. The caches' counters are read as they
 * are: exact when their threads are not allocating or releasing.
 */
SGT_API void sgt_iova_get_stats(const struct sgt_iova *iova, struct sgt_iova_stats *out);

/**
 * sgt_iova_check() - check the allocator's internal invariants (trees balanced and ordered,
 * blocks aligned, inside the windows, disjoint, nothing reserved handed out, counts agree)
 * @iova:    the allocator
 * @out_why: receives a static description of the first broken invariant, or NULL
 *
 * Also that every live range and cached block has its spare node (release never allocates).
 * Context: O(blocks and radix nodes), allocates nothing, takes the allocator's lock; the caches
 * must be quiet. For tests and fuzzers.
 * Return: 0 or -SGT_EINVAL (also for a NULL @iova).
 */
SGT_API SGT_MUST_CHECK int sgt_iova_check(const struct sgt_iova *iova, const char **out_why);

#ifdef __cplusplus
}
#endif

#endif /* SGT_IOVA_H */
