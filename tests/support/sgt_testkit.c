// SPDX-License-Identifier: MIT
#include "sgt_testkit.h"

#include <stdlib.h>
#include <string.h>

/* Each block carries its size in front, so a free with the wrong size is caught. */
struct s_hdr {
	size_t len;
	size_t pad; /* keeps the payload 16-byte aligned */
};

static void *s_alloc(void *ctx, size_t len, enum sgt_alloc_ctx actx)
{
	struct sgt_test_alloc *a = ctx;
	struct s_hdr *h;

	a->num_attempts++;
	if (actx == SGT_ATOMIC)
		a->num_atomic++;
	else if (actx != SGT_MAY_SLEEP)
		a->bad_ctx = true;
	if (a->fail_at && a->num_attempts == a->fail_at)
		return NULL;
	h = malloc(sizeof(*h) + len);
	if (!h)
		return NULL;
	h->len = len;
	a->num_allocs++;
	a->live_bytes += len;
	return h + 1;
}

static void s_free(void *ctx, void *ptr, size_t len)
{
	struct sgt_test_alloc *a = ctx;
	struct s_hdr *h = (struct s_hdr *)ptr - 1;

	if (h->len != len)
		a->size_mismatch = true;
	a->num_frees++;
	a->live_bytes -= h->len;
	free(h);
}

void sgt_test_alloc_init(struct sgt_test_alloc *a)
{
	memset(a, 0, sizeof(*a));
	a->alloc.alloc = s_alloc;
	a->alloc.free = s_free;
	a->alloc.ctx = a;
}

uint64_t sgt_test_alloc_live(const struct sgt_test_alloc *a)
{
	return a->num_allocs - a->num_frees;
}

uint8_t *sgt_test_mem_byte(const struct sgt_test_mem *m, uint64_t pfn, uint64_t byte)
{
	if (pfn < m->base_pfn || pfn - m->base_pfn >= m->num_pages)
		return NULL;
	return m->arena + ((pfn - m->base_pfn) << m->mem.page_shift) + byte;
}

static void *s_map(void *ctx, uint64_t pfn)
{
	struct sgt_test_mem *m = ctx;
	uint8_t *p = sgt_test_mem_byte(m, pfn, 0);

	if (p) {
		m->mapped++;
		m->num_maps++;
		m->page_touched[pfn - m->base_pfn] = 1;
	}
	return p;
}

static void s_unmap(void *ctx, uint64_t pfn, void *addr)
{
	struct sgt_test_mem *m = ctx;

	(void)pfn;
	(void)addr;
	m->mapped--;
}

/* First-fit over naturally aligned blocks: simple, and enough for tests. */
static int s_alloc_pages(void *ctx, unsigned int order, uint64_t *out_pfn, enum sgt_alloc_ctx actx)
{
	struct sgt_test_mem *m = ctx;
	uint64_t n = UINT64_C(1) << order, i, j;

	m->page_alloc_attempts++;
	if (actx == SGT_ATOMIC)
		m->page_allocs_atomic++;
	if (m->fail_page_alloc_at && m->page_alloc_attempts == m->fail_page_alloc_at)
		return -SGT_ENOMEM;
	for (i = 0; i + n <= m->num_pages; i += n) {
		for (j = 0; j < n && !m->page_used[i + j]; j++)
			;
		if (j < n)
			continue;
		memset(m->page_used + i, 1, n);
		memset(m->page_touched + i, 1, n);
		m->block_order[i] = (uint8_t)(order + 1);
		memset(m->arena + (i << m->mem.page_shift), 0, n << m->mem.page_shift);
		m->live_page_allocs++;
		*out_pfn = m->base_pfn + i;
		return 0;
	}
	return -SGT_ENOMEM;
}

static void s_free_pages(void *ctx, uint64_t pfn, unsigned int order)
{
	struct sgt_test_mem *m = ctx;
	uint64_t i = pfn - m->base_pfn;

	/* Like the kernel's free_pages(), the order must be the allocation's: count a mismatch. */
	if (pfn < m->base_pfn || i >= m->num_pages || m->block_order[i] != order + 1) {
		m->bad_frees++;
		return;
	}
	m->block_order[i] = 0;
	memset(m->page_used + i, 0, (size_t)1 << order);
	m->live_page_allocs--;
}

int sgt_test_mem_init(struct sgt_test_mem *m, unsigned int page_shift, uint64_t base_pfn,
		      uint64_t num_pages)
{
	memset(m, 0, sizeof(*m));
	m->arena = calloc(num_pages, (size_t)1 << page_shift);
	m->page_used = calloc(num_pages, 1);
	m->page_touched = calloc(num_pages, 1);
	m->block_order = calloc(num_pages, 1);
	if (!m->arena || !m->page_used || !m->page_touched || !m->block_order) {
		free(m->arena);
		free(m->page_used);
		free(m->page_touched);
		free(m->block_order);
		return -SGT_ENOMEM;
	}
	m->base_pfn = base_pfn;
	m->num_pages = num_pages;
	m->mem.page_shift = page_shift;
	m->mem.map_page = s_map;
	m->mem.unmap_page = s_unmap;
	m->mem.alloc_pages = s_alloc_pages;
	m->mem.free_pages = s_free_pages;
	m->mem.ctx = m;
	return 0;
}

int sgt_test_mem_init_identity(struct sgt_test_mem *m, unsigned int page_shift, uint64_t num_pages)
{
	size_t ps = (size_t)1 << page_shift;
	void *arena = aligned_alloc(ps, num_pages * ps);
	int err;

	if (!arena)
		return -SGT_ENOMEM;
	err = sgt_test_mem_init(m, page_shift, (uintptr_t)arena >> page_shift, num_pages);
	if (err) {
		free(arena);
		return err;
	}
	free(m->arena);
	memset(arena, 0, num_pages * ps);
	m->arena = arena;
	return 0;
}

void sgt_test_mem_cleanup(struct sgt_test_mem *m)
{
	free(m->arena);
	free(m->page_used);
	free(m->page_touched);
	free(m->block_order);
	memset(m, 0, sizeof(*m));
}

void sgt_test_mem_fill(struct sgt_test_mem *m, uint32_t seed)
{
	uint64_t len = m->num_pages << m->mem.page_shift, i, x = seed | 1u;

	/* Eight bytes a step (the arena is page-sized, so a multiple of 8): fuzzers fill one per
	 * input. */
	for (i = 0; i < len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(&m->arena[i], &x, 8);
	}
}
