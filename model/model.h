/* SPDX-License-Identifier: MIT */
#ifndef SGT_HARNESS_MODEL_H
#define SGT_HARNESS_MODEL_H

/*
 * The reference model: plain arrays, no chunking, no cleverness. Each rule is written the way
 * the documentation states it, page by page or byte by byte, so that it can be checked by eye.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct m_ent {
	uint64_t pfn;
	uint32_t off;
	uint32_t len;
};

struct m_table {
	struct m_ent *e;
	uint32_t n;
	uint32_t cap;
	uint64_t total;
};

void m_free(struct m_table *t);
/* Deep copy; false on allocation failure. */
bool m_copy(struct m_table *dst, const struct m_table *src);
/* Append one entry; false on allocation failure. */
bool m_push(struct m_table *t, uint64_t pfn, uint32_t off, uint32_t len);
bool m_equal(const struct m_table *a, const struct m_table *b);

/*
 * sgt_table_append_pages() as documented: which error it returns for these arguments (0 if
 * none), and on success the entries it adds to @t. @pfns has @num_pages frames.
 */
int m_append(struct m_table *t, const uint64_t *pfns, uint64_t num_pages, uint32_t offset,
	     uint64_t size, uint32_t max_segment, unsigned int shift);

/* The CPU address of byte @i of the table (frame << shift + offset within the frames). */
uint64_t m_byte_addr(const struct m_table *t, uint64_t i, unsigned int shift);

/*
 * The same for a run: the address of byte @i in *@out_addr, and how many bytes from it lie in
 * the same entry (contiguous in memory); 0 past the end.
 */
uint64_t m_byte_run(const struct m_table *t, uint64_t i, unsigned int shift, uint64_t *out_addr);

/* The fewest leading entries of @t that cover @len bytes. */
uint32_t m_entries_for(const struct m_table *t, uint64_t len);

/*
 * How many chunk allocations an owned table makes to grow by @add entries, as sgt/table.h
 * documents it (struct sgt_table_params): @cap the table's chunk capacity (0: the default),
 * @have its entries so far, *@tail_room its tail chunk's free slots (used first; updated to the
 * tail's free slots after), @appends whether it grows by an append (chunks at least as large as
 * the table) or a one-shot constructor (chunks sized to fit).
 */
uint64_t m_chunk_allocs(uint32_t cap, uint64_t have, uint32_t *tail_room, uint64_t add,
			bool appends);

/* The entries of the byte range [skip, skip + len) of @src, cut at the range's ends. */
bool m_slice(struct m_table *dst, const struct m_table *src, uint64_t skip, uint64_t len,
	     unsigned int shift);

/*
 * The DMA segment lengths an IOMMU mapping must produce, from the semantics rather than the
 * backend's algorithm: entries are laid out page-aligned in one IOVA range (padded to the next
 * boundary if they would otherwise cross it); two consecutive entries share a DMA segment when
 * their bytes are contiguous in IOVA space, the second does not start on a boundary, and the
 * segment stays within max_seg. Writes up to @t->n lengths; returns the count.
 */
uint32_t m_iommu_segments(const struct m_table *t, unsigned int shift, uint64_t max_seg,
			  uint64_t boundary_mask, uint32_t *out_lens);

#endif /* SGT_HARNESS_MODEL_H */
