// SPDX-License-Identifier: MIT
/*
 * The kernel platform: kmalloc (kvmalloc where sleeping is allowed) under the caller's allocation
 * context, a memory domain over pfn_to_page() and kmap_local_page() with the kernel's page size,
 * page allocation for sgt_table_init_alloc_order(), an irq-safe spinlock for the DMA debug layer,
 * and debug assertions that WARN and let the operation fail closed instead of BUG()ing.
 *
 * Built by Kbuild only (tools/kbuild.sh); the core's sources compile unchanged beside it.
 */
#include <linux/bug.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "sgt/platform.h"

static gfp_t s_gfp(enum sgt_alloc_ctx actx)
{
	return actx == SGT_ATOMIC ? GFP_ATOMIC : GFP_KERNEL;
}

/* Chunks are at most a few KiB; kvmalloc's vmalloc fallback may sleep, so only when allowed. */
static void *s_alloc(void *ctx, size_t len, enum sgt_alloc_ctx actx)
{
	(void)ctx;
	return actx == SGT_ATOMIC ? kmalloc(len, GFP_ATOMIC) : kvmalloc(len, GFP_KERNEL);
}

static void s_free(void *ctx, void *ptr, size_t len)
{
	(void)ctx;
	(void)len;
	kvfree(ptr);
}

static const struct sgt_allocator s_allocator = { .alloc = s_alloc, .free = s_free };

/* Frames are the kernel's pfns; a pfn without a struct page is not reachable. */
static void *s_map_page(void *ctx, uint64_t pfn)
{
	(void)ctx;
	return pfn_valid(pfn) ? kmap_local_page(pfn_to_page(pfn)) : NULL;
}

static void s_unmap_page(void *ctx, uint64_t pfn, void *addr)
{
	(void)ctx;
	(void)pfn;
	kunmap_local(addr);
}

static int s_alloc_pages(void *ctx, unsigned int order, uint64_t *out_pfn, enum sgt_alloc_ctx actx)
{
	struct page *page = alloc_pages(s_gfp(actx) | __GFP_ZERO, order);

	(void)ctx;
	if (!page)
		return -SGT_ENOMEM;
	*out_pfn = page_to_pfn(page);
	return 0;
}

static void s_free_pages(void *ctx, uint64_t pfn, unsigned int order)
{
	(void)ctx;
	__free_pages(pfn_to_page(pfn), order);
}

static const struct sgt_memory s_memory = {
	.page_shift = PAGE_SHIFT,
	.map_page = s_map_page,
	.unmap_page = s_unmap_page,
	.alloc_pages = s_alloc_pages,
	.free_pages = s_free_pages,
};

const struct sgt_allocator *sgt_platform_allocator(void)
{
	return &s_allocator;
}

const struct sgt_memory *sgt_platform_memory(void)
{
	return &s_memory;
}

/* The debug layer is called from any context, interrupts included: an irq-saving spinlock. */
struct s_lock {
	spinlock_t lock;
	unsigned long flags;
};

void *sgt_platform_lock_new(void)
{
	struct s_lock *l = kmalloc(sizeof(*l), GFP_KERNEL);

	if (l)
		spin_lock_init(&l->lock);
	return l;
}

void sgt_platform_lock_free(void *lock)
{
	kfree(lock);
}

void sgt_platform_lock(void *lock)
{
	struct s_lock *l = lock;
	unsigned long flags;

	if (!l)
		return;
	spin_lock_irqsave(&l->lock, flags);
	l->flags = flags;
}

void sgt_platform_unlock(void *lock)
{
	struct s_lock *l = lock;

	if (l)
		spin_unlock_irqrestore(&l->lock, l->flags);
}

/* WARN, not BUG: the caller refuses the operation (-SGT_EIO, nothing committed) and goes on. */
void sgt_platform_assert_fail(const char *expr, const char *file, int line)
{
	WARN(1, "sgt: debug check failed: %s at %s:%d\n", expr, file, line);
}
