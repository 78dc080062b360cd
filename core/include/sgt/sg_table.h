/* SPDX-License-Identifier: MIT */
#ifndef SGT_SG_TABLE_H
#define SGT_SG_TABLE_H

#include "sgt/types.h"

#include "sgt/error.h"
#include "sgt/memory.h"

struct sgt_device;

/**
 * DOC: Notes on the raw table representation
 *
 * A raw table (&struct sgt_sg_table, the analogue of Linux ``struct sg_table``) is a list of
 * entries, each naming ``len`` bytes that start ``offset`` bytes into page frame ``pfn`` and run
 * on through the following frames. Entries live in chained chunks (&struct sgt_chunk), so a table
 * of a million entries needs no single large allocation. The handles of ``sgt/table.h`` wrap a raw
 * table; code that owns a raw table built some other way (by hand, by another subsystem) can lend
 * it to sgt through sgt_borrowed_init().
 *
 * The invariants, all checked by sgt_sg_table_check() (no allocation; one walk over the chunks):
 *
 * 1. ``mem`` is non-NULL with ``page_shift`` in SGT_PAGE_SHIFT_MIN..SGT_PAGE_SHIFT_MAX, except in
 *    an empty table from SGT_TABLE_INIT(), which takes its domain when it first grows.
 * 2. ``head``, ``tail`` and ``num_cpu_ents`` are all NULL/0 (the empty table) or all
 * non-NULL/non-0.
 * 3. Following ``next`` from ``head`` reaches ``tail`` and then NULL. Every chunk has
 *    ``1 <= num_ents <= capacity`` and non-NULL ``ents``, and every chunk before ``tail`` is
 *    full (``num_ents == capacity``), so entry *i* is found by skipping whole chunks. The
 *    entries counted along the chain add up to ``num_cpu_ents``.
 * 4. Every entry has ``len >= 1`` and ``offset < page size``, and its last byte lies below
 *    2^64 (``pfn < sgt_memory_max_pfn()`` and the bytes it spans do not run past it).
 * 5. ``total_len`` is the exact sum of the entries' ``len`` (which therefore fits 64 bits).
 * 6. DMA side: ``num_dma_ents <= num_cpu_ents``. Entries ``[0, num_dma_ents)`` have
 *    ``dma_len >= 1`` and ``dma_addr + dma_len`` does not wrap; the rest have ``dma_addr == 0`` and
 *    ``dma_len == 0``. A mapped table (``num_dma_ents > 0``) has DMA lengths that add up to
 *    ``total_len``: a mapping covers every CPU byte exactly once. An unmapped table has
 *    ``num_dma_ents == 0``, all DMA fields zero and no ``dma_dev``, ``dma_priv`` or ``dma_dir``.
 * (Linux keeps ``orig_nents`` and ``nents`` the same way: the DMA layer may merge entries, so the
 * DMA count can be smaller.)
 * 7. Reserved fields are zero.
 *
 * Raw tables are not locked: whoever mutates one must exclude readers. Handles never mutate a
 * borrowed raw table.
 */

/**
 * struct sgt_entry - one scatter-gather entry
 * @pfn:      first page frame of the segment, in the table's memory domain.
 * @offset:   byte offset into page @pfn, below the page size.
 * @len:      bytes in the segment, at least 1; the segment continues through frames @pfn+1, ...
 * @dma_len:  bytes of the DMA segment stored in this slot (0 when the slot holds none).
 * @dma_addr: device address of the DMA segment stored in this slot.
 * @reserved: must be zero.
 *
 * As in Linux, the CPU side and the DMA side share the slots but not the meaning: after mapping,
 * slot *i* holds CPU segment *i* and DMA segment *i*, and there may be fewer DMA segments.
 */
struct sgt_entry {
	uint64_t pfn;
	uint32_t offset;
	uint32_t len;
	uint64_t dma_addr;
	uint32_t dma_len;
	uint32_t reserved;
};

/**
 * struct sgt_chunk - a block of consecutive entries
 * @next:     the following chunk, NULL for the last.
 * @num_ents: entries in use, from the start of @ents.
 * @capacity: slots in @ents.
 * @ents:     the entries, usually right after the header (sgt_chunk_init()).
 *
 * A chunk made by sgt_chunk_init() occupies sgt_chunk_size(*capacity*) bytes, its entries
 * included. The header holds a pointer rather than the entries themselves so that it can live
 * elsewhere: an owned table keeps its first chunk's header in its handle, so that the first
 * chunk is an array of entries and nothing else (a one-entry table allocates 32 bytes, as
 * Linux's does).
 */
struct sgt_chunk {
	struct sgt_chunk *next;
	uint32_t num_ents;
	uint32_t capacity;
	struct sgt_entry *ents;
};

/**
 * struct sgt_sg_table - a raw scatter-gather table
 * @head:         first chunk, NULL when empty.
 * @tail:         last chunk, NULL when empty; appends go here.
 * @mem:          the memory domain that gives @pfn its meaning; outlives the table.
 * @total_len:    sum of the entries' lengths.
 * @num_cpu_ents: CPU entries (Linux ``orig_nents``).
 * @num_dma_ents: DMA segments, 0 when unmapped (Linux ``nents`` after mapping).
 * @dma_dir:      the direction it was mapped with (&enum sgt_dma_dir), when sgt mapped it.
 * @dma_dev:      the device sgt mapped it for, NULL when sgt did not map it (unmapped, or mapped
 *                by someone else and only wrapped).
 * @dma_priv:     the backend's state for this mapping, from its map_sg op; handed back on unmap
 *                and sync. Owned by the backend; NULL when @dma_dev is.
 *
 * See the invariants in the DOC block above. The struct is public so that other code can build
 * one and lend it; handles treat its fields as theirs to maintain.
 */
struct sgt_sg_table {
	struct sgt_chunk *head;
	struct sgt_chunk *tail;
	const struct sgt_memory *mem;
	uint64_t total_len;
	uint32_t num_cpu_ents;
	uint32_t num_dma_ents;
	uint32_t dma_dir;
	struct sgt_device *dma_dev;
	void *dma_priv;
};

/**
 * struct sgt_pos - a position in a raw table, for walking it entry by entry
 * @chunk: the chunk holding the current entry, NULL past the end.
 * @index: the entry's slot in @chunk.
 */
struct sgt_pos {
	const struct sgt_chunk *chunk;
	uint32_t index;
};

#ifdef __cplusplus
extern "C" {
#endif

/**
 * sgt_chunk_size() - bytes a chunk of @capacity entries occupies
 * @capacity: slots, at least 1
 */
static inline size_t sgt_chunk_size(uint32_t capacity)
{
	return sizeof(struct sgt_chunk) + (size_t)capacity * sizeof(struct sgt_entry);
}

/**
 * sgt_chunk_init() - make an empty chunk whose entries follow its header
 * @mem:      at least sgt_chunk_size(@capacity) bytes, aligned for &struct sgt_chunk; the
 *            caller's, and freed by the caller (by whoever allocated it).
 * @capacity: slots, at least 1
 *
 * For code that builds a raw table by hand. Returns @mem as a chunk with no successor, no
 * entries in use and @capacity slots, which are left as they are: the caller writes every entry
 * it puts in use, reserved and DMA fields included (zeroed memory does).
 */
static inline struct sgt_chunk *sgt_chunk_init(void *mem, uint32_t capacity)
{
	struct sgt_chunk *c = (struct sgt_chunk *)mem;

	c->next = NULL;
	c->num_ents = 0;
	c->capacity = capacity;
	c->ents = (struct sgt_entry *)(c + 1);
	return c;
}

/**
 * sgt_sg_table_check() - check every representation invariant of a raw table
 * @sgt:     the table; NULL fails the check
 * @out_why: if non-NULL, receives a static description of the first broken invariant, or NULL
 *
 * Context: any; no allocation; O(number of entries). Never writes to @sgt.
 * Return: 0 if the table satisfies the invariants in the DOC block, -SGT_EINVAL otherwise.
 */
SGT_API SGT_MUST_CHECK int sgt_sg_table_check(const struct sgt_sg_table *sgt, const char **out_why);

/**
 * sgt_sg_table_is_valid() - sgt_sg_table_check() as a predicate
 * @sgt: the table
 *
 * Context: any; allocates nothing; O(entries).
 * Return: true when every invariant holds.
 */
SGT_API bool sgt_sg_table_is_valid(const struct sgt_sg_table *sgt);

/**
 * sgt_sg_first() - the first entry of a raw table
 * @sgt: a valid raw table
 * @pos: receives the position of the first entry (or the end position when empty)
 *
 * Context: any; O(1).
 * Return: the first entry, or NULL for an empty or NULL table (or a NULL @pos). Entries returned by
 * the navigation functions point into the table's chunks: the table owns them, and they are valid
 * until the table changes or is dropped.
 */
SGT_API const struct sgt_entry *sgt_sg_first(const struct sgt_sg_table *sgt, struct sgt_pos *pos);

/**
 * sgt_sg_next() - step to the following entry (Linux ``sg_next``)
 * @pos: a position from sgt_sg_first() or sgt_sg_next()
 *
 * Context: any; O(1).
 * Return: the next entry, or NULL (and @pos at the end) after the last one or for a NULL @pos.
 */
SGT_API const struct sgt_entry *sgt_sg_next(struct sgt_pos *pos);

/**
 * sgt_sg_last() - the last entry of a raw table (Linux ``sg_last``), in O(1)
 * @sgt: a valid raw table
 *
 * Context: any; O(1).
 * Return: the last entry, or NULL for an empty or NULL table.
 */
SGT_API const struct sgt_entry *sgt_sg_last(const struct sgt_sg_table *sgt);

#ifdef __cplusplus
}
#endif

#endif /* SGT_SG_TABLE_H */
