/* SPDX-License-Identifier: MIT */
#ifndef SGT_MEMORY_H
#define SGT_MEMORY_H

#include "sgt/alloc.h"
#include "sgt/error.h"
#include "sgt/types.h"

/**
 * DOC: Memory domains
 *
 * sgt names memory the way a kernel does: by page frame number (pfn) in a page size of
 * ``1 << page_shift`` bytes. A memory domain says what the frames mean and how to reach their
 * bytes:
 *
 * - user space (the platform default): frame = virtual address >> 12, byte access is the address
 *   itself (sgt_memory_identity_init() builds one with another page size);
 * - a kernel: frame = pfn, byte access through ``kmap_local_page()``;
 * - tests and fuzzers: a simulated physical memory whose frames index an arena, so arbitrary
 *   frame numbers are safe to generate.
 *
 * Every table stores a pointer to its domain; the domain must outlive every table that uses it.
 * The DMA backends reach CPU pages through the same domain.
 */

/** SGT_PAGE_SHIFT_MIN, SGT_PAGE_SHIFT_MAX - the page sizes sgt supports: 512 B to 1 GiB */
#define SGT_PAGE_SHIFT_MIN 9u
#define SGT_PAGE_SHIFT_MAX 30u

/**
 * struct sgt_memory - how frames map to bytes
 * @page_shift:  log2 of the page size, SGT_PAGE_SHIFT_MIN..SGT_PAGE_SHIFT_MAX.
 * @map_page:    gives byte access to the whole page @pfn, or NULL if the frame is not accessible
 *               (copy helpers then fail with -SGT_EFAULT). Mappings nest: sgt unmaps in reverse
 *               order of mapping and holds at most one page per iterator.
 * @unmap_page:  ends the access that @map_page gave; may be NULL when unmapping is a no-op.
 * @alloc_pages: optional: allocates ``1 << order`` contiguous, zeroed pages and stores the first
 *               frame in @out_pfn, in allocation context @actx; returns 0 or a negative SGT_E*
 * code. NULL means the domain cannot allocate (sgt_table_init_alloc_order() then returns
 * -SGT_EOPNOTSUPP).
 * @free_pages:  releases pages from @alloc_pages; required when @alloc_pages is set.
 * @ctx:         passed to every callback unchanged.
 */
struct sgt_memory {
	unsigned int page_shift;
	void *(*map_page)(void *ctx, uint64_t pfn);
	void (*unmap_page)(void *ctx, uint64_t pfn, void *addr);
	int (*alloc_pages)(void *ctx, unsigned int order, uint64_t *out_pfn,
			   enum sgt_alloc_ctx actx);
	void (*free_pages)(void *ctx, uint64_t pfn, unsigned int order);
	void *ctx;
};

#ifdef __cplusplus
extern "C" {
#endif

/**
 * sgt_memory_check() - whether a memory domain is usable by sgt
 * @mem: the domain
 *
 * The rules every table and backend applies to a domain: a page shift from SGT_PAGE_SHIFT_MIN to
 * SGT_PAGE_SHIFT_MAX, a map_page callback, and free_pages whenever alloc_pages is given.
 * Context: any; allocates nothing.
 * Return: 0; -SGT_EINVAL for NULL or a domain that breaks a rule.
 */
SGT_API SGT_MUST_CHECK int sgt_memory_check(const struct sgt_memory *mem);

#ifdef __cplusplus
}
#endif

/**
 * sgt_memory_page_size() - bytes in one page of @mem
 * @mem: a memory domain with a valid page_shift
 */
static inline uint64_t sgt_memory_page_size(const struct sgt_memory *mem)
{
	return (uint64_t)1 << mem->page_shift;
}

/**
 * sgt_memory_max_pfn() - one past the last frame number @mem can name
 * @mem: a memory domain with a valid page_shift
 *
 * Frames at or above this value would put the page's last byte past 2^64.
 */
static inline uint64_t sgt_memory_max_pfn(const struct sgt_memory *mem)
{
	return (uint64_t)1 << (64u - mem->page_shift);
}

#endif /* SGT_MEMORY_H */
