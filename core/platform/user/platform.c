// SPDX-License-Identifier: MIT
/*
 * The user-space platform: libc malloc, an identity memory domain (frame = address >> shift),
 * pthread mutexes and assertion failures that print and abort.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgt/platform.h"
#include "sgt/user.h"

/* User space has no atomic context to honour: malloc never sleeps in the kernel's sense. */
static void *s_malloc(void *ctx, size_t len, enum sgt_alloc_ctx actx)
{
	(void)ctx;
	(void)actx;
	return malloc(len);
}

static void s_free(void *ctx, void *ptr, size_t len)
{
	(void)ctx;
	(void)len;
	free(ptr);
}

static const struct sgt_allocator s_allocator = { .alloc = s_malloc, .free = s_free };

/* The page shift travels in ctx, so one set of callbacks serves every identity domain. */
static unsigned int s_shift(void *ctx)
{
	return (unsigned int)(uintptr_t)ctx;
}

static void *s_identity_map(void *ctx, uint64_t pfn)
{
	return (void *)(uintptr_t)(pfn << s_shift(ctx));
}

static int s_identity_alloc(void *ctx, unsigned int order, uint64_t *out_pfn,
			    enum sgt_alloc_ctx actx)
{
	(void)actx;
	size_t len = (size_t)1 << (s_shift(ctx) + order);
	void *p = aligned_alloc((size_t)1 << s_shift(ctx), len);

	if (!p)
		return -SGT_ENOMEM;
	memset(p, 0, len);
	*out_pfn = (uint64_t)(uintptr_t)p >> s_shift(ctx);
	return 0;
}

static void s_identity_free(void *ctx, uint64_t pfn, unsigned int order)
{
	(void)order;
	free((void *)(uintptr_t)(pfn << s_shift(ctx)));
}

int sgt_memory_identity_init(struct sgt_memory *mem, unsigned int page_shift)
{
	if (!mem || page_shift < SGT_PAGE_SHIFT_MIN || page_shift > SGT_PAGE_SHIFT_MAX)
		return -SGT_EINVAL;
	*mem = (struct sgt_memory){
		.page_shift = page_shift,
		.map_page = s_identity_map,
		.alloc_pages = s_identity_alloc,
		.free_pages = s_identity_free,
		.ctx = (void *)(uintptr_t)page_shift,
	};
	return 0;
}

static const struct sgt_memory s_memory = {
	.page_shift = 12,
	.map_page = s_identity_map,
	.alloc_pages = s_identity_alloc,
	.free_pages = s_identity_free,
	.ctx = (void *)(uintptr_t)12,
};

const struct sgt_allocator *sgt_platform_allocator(void)
{
	return &s_allocator;
}

const struct sgt_memory *sgt_platform_memory(void)
{
	return &s_memory;
}

void *sgt_platform_lock_new(void)
{
	pthread_mutex_t *m = malloc(sizeof(*m));

	if (m && pthread_mutex_init(m, NULL)) {
		free(m);
		m = NULL;
	}
	return m;
}

void sgt_platform_lock_free(void *lock)
{
	if (!lock)
		return;
	pthread_mutex_destroy(lock);
	free(lock);
}

void sgt_platform_lock(void *lock)
{
	if (lock)
		pthread_mutex_lock(lock);
}

void sgt_platform_unlock(void *lock)
{
	if (lock)
		pthread_mutex_unlock(lock);
}

void sgt_platform_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "sgt: assertion failed: %s at %s:%d\n", expr, file, line);
	abort();
}
