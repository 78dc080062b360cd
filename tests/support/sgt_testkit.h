/* SPDX-License-Identifier: MIT */
#ifndef SGT_TESTKIT_H
#define SGT_TESTKIT_H

/**
 * DOC: Test kit
 *
 * Shared by the unit tests, property tests and fuzzers (plain C so all of them can link it):
 *
 * - &struct sgt_test_alloc: a counting allocator that can fail its Nth allocation, so every
 *   allocation failure point can be swept, and leaks show as live blocks;
 * - &struct sgt_test_mem: simulated physical memory. Frames ``base_pfn .. base_pfn + num_pages``
 *   index an arena, so tests can make any page layout (reversed, scattered, contiguous) without
 *   real addresses, and frames outside it are refused like an unmapped page. It allocates pages
 *   for sgt_table_init_alloc_order() and counts mappings so that an unbalanced map/unmap shows.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sgt/sgt.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sgt_test_alloc {
	struct sgt_allocator alloc; /* pass &this->alloc to sgt */
	uint64_t num_allocs; /* successful allocations */
	uint64_t num_frees;
	uint64_t num_attempts; /* calls, failed ones included */
	uint64_t live_bytes;
	uint64_t fail_at; /* fail the attempt with this number (1-based); 0 = never */
	bool size_mismatch; /* a free gave a size other than the allocation's */
	uint64_t num_atomic; /* attempts made in SGT_ATOMIC context */
	bool bad_ctx; /* an attempt with a context that is neither */
};

void sgt_test_alloc_init(struct sgt_test_alloc *a);
/* Allocations minus frees: what is leaked if the test is over. */
uint64_t sgt_test_alloc_live(const struct sgt_test_alloc *a);

struct sgt_test_mem {
	struct sgt_memory mem; /* pass &this->mem to sgt */
	uint8_t *arena;
	uint64_t base_pfn;
	uint64_t num_pages;
	uint8_t *page_used; /* one byte per page: allocated by alloc_pages */
	uint64_t live_page_allocs;
	uint64_t page_alloc_attempts;
	uint64_t fail_page_alloc_at; /* 1-based attempt to fail; 0 = never */
	uint64_t page_allocs_atomic; /* alloc_pages attempts in SGT_ATOMIC context */
	int64_t mapped; /* map_page minus unmap_page calls */
	uint64_t num_maps;
	/*
	 * One byte per page, set when map_page or alloc_pages hands the page out: the pages that
	 * can have changed since their owner last cleared it (a harness compares only those).
	 */
	uint8_t *page_touched;
	/*
	 * Page blocks by order: block_order[i] is 1 + the order of the block that starts at page i
	 * (0: no block starts there). free_pages() of a frame that starts no block, or with
	 * another order than the block was allocated with, counts in bad_frees and frees nothing.
	 */
	uint8_t *block_order;
	uint64_t bad_frees;
};

/* Returns 0 or -SGT_ENOMEM; page_shift as in &struct sgt_memory. */
int sgt_test_mem_init(struct sgt_test_mem *m, unsigned int page_shift, uint64_t base_pfn,
		      uint64_t num_pages);
/* The same over an arena whose frames are its addresses (frame = address >> @page_shift), for
 * backends that map the process's own memory (VFIO). */
int sgt_test_mem_init_identity(struct sgt_test_mem *m, unsigned int page_shift, uint64_t num_pages);
void sgt_test_mem_cleanup(struct sgt_test_mem *m);
/* Address of byte @byte of frame @pfn in the arena, or NULL outside it. */
uint8_t *sgt_test_mem_byte(const struct sgt_test_mem *m, uint64_t pfn, uint64_t byte);
/* Fill the arena with a pseudo-random byte pattern derived from @seed. */
void sgt_test_mem_fill(struct sgt_test_mem *m, uint32_t seed);

#ifdef __cplusplus
}
#endif

#endif /* SGT_TESTKIT_H */
