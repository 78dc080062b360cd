/* SPDX-License-Identifier: MIT */
#ifndef SGT_TABLE_H
#define SGT_TABLE_H

#include "sgt/types.h"

#include "sgt/alloc.h"
#include "sgt/error.h"
#include "sgt/memory.h"
#include "sgt/sg_table.h"

/**
 * DOC: Table handles: ownership and state as C types
 *
 * A table is used through a *handle*, a small caller-owned struct whose C type says who owns the
 * entries and what the table may do:
 *
 * - &struct sgt_table: an **owned**, **unmapped** table. sgt allocated its entries from the
 *   table's allocator and frees them in sgt_table_cleanup(). Its pages come from a pages provider
 *   (&struct sgt_pages) that must keep them pinned for as long as the table lives, or were
 *   allocated by sgt_table_init_alloc_order() and are freed with the table.
 * - &struct sgt_borrowed: a **borrowed**, **unmapped** view of a raw table that someone else owns
 *   and frees. Creating one is the single "unsafe" step of the API: see sgt_borrowed_init().
 *
 * The mapped states (ManagedMapping, BorrowedMapping) are further handle types declared in
 * ``sgt/dma.h``; they embed &struct sgt_dma, which in turn embeds &struct sgt_cpu.
 *
 * Every handle embeds a &struct sgt_cpu as member ``cpu``: the CPU-side operations (iterators,
 * copy helpers, split, sgt_nents_for_len()) take ``const struct sgt_cpu *``, so they work in every
 * state (pass ``&t.cpu``). DMA-side operations take ``const struct sgt_dma *``, which only mapped
 * handles contain, so calling them with an unmapped handle does not compile.
 *
 * A transition (map, unmap) *moves* the table from one handle into another and leaves the old
 * handle **stale**; sgt_table_cleanup() leaves it stale too. A stale handle still occupies the
 * caller's memory, so every later call with it returns -SGT_ESTALE without touching freed
 * memory. A handle must not be copied by value: the copy would be a second owner. Handle fields
 * prefixed ``sgt__`` are private.
 */

/** SGT_DEFAULT_CHUNK_CAPACITY - entries per chunk by default: one chunk fills a 4 KiB page */
#define SGT_DEFAULT_CHUNK_CAPACITY                                                                 \
	((uint32_t)((4096 - sizeof(struct sgt_chunk)) / sizeof(struct sgt_entry)))
/** SGT_CHUNK_CAPACITY_MAX - the largest chunk capacity a table accepts */
#define SGT_CHUNK_CAPACITY_MAX (1u << 20)
/** SGT_MAX_SEGMENT_UNLIMITED - max_segment for "no limit" (Linux passes UINT_MAX) */
#define SGT_MAX_SEGMENT_UNLIMITED UINT32_MAX

/**
 * struct sgt_cpu - the part of every handle that the CPU-side operations use
 * @sgt__state: private: which handle type this is, live or stale.
 * @sgt__sgt:   private: the raw table; read-only through this view (owned handles mutate their own
 *              copy, so a borrowed table is never written).
 */
struct sgt_cpu {
	uint32_t sgt__state;
	const struct sgt_sg_table *sgt__sgt;
};

/*
 * Private: handle states. Distinct magic values rather than small integers, so that a handle that
 * was never initialised (garbage or zero) is told apart from a live one or a stale one.
 */
#define SGT__STATE_OWNED 0x5347a001u
#define SGT__STATE_BORROWED 0x5347a002u
#define SGT__STATE_MANAGED 0x5347a003u
#define SGT__STATE_BORROWED_MAPPING 0x5347a004u
#define SGT__STATE_STALE 0x5347deadu

/**
 * struct sgt_table - an owned, unmapped table
 * @cpu: the CPU-side view; pass ``&t.cpu`` to iterators, copy helpers and split.
 * @sgt__own: private: the raw table this handle owns.
 * @sgt__alloc: private: the allocator its chunks come from.
 * @sgt__chunk_capacity: private: capacity of new chunks (the first holds one more).
 * @sgt__page_order: private: order of the pages it allocated, if @sgt__owns_pages.
 * @sgt__owns_pages: private: the table allocated its pages and frees them with itself.
 * @sgt__first: private: the header of the first chunk, whose entries are a separate
 *              allocation of exactly their own size (when ``sgt__own.head`` points here); it
 *              moves with the handle, which is one more reason a handle is not copied by value.
 */
struct sgt_table {
	struct sgt_cpu cpu;
	struct sgt_sg_table sgt__own;
	struct sgt_allocator sgt__alloc;
	uint32_t sgt__chunk_capacity;
	uint8_t sgt__page_order;
	bool sgt__owns_pages;
	struct sgt_chunk sgt__first;
};

/**
 * struct sgt_borrowed - a borrowed, unmapped view of someone else's raw table
 * @cpu: the CPU-side view.
 */
struct sgt_borrowed {
	struct sgt_cpu cpu;
};

/**
 * struct sgt_table_params - how a new owned table allocates
 * @alloc:          allocator for the entry chunks, copied into the table; NULL for the
 *                  platform default (a freestanding build has none: -SGT_EINVAL).
 * @mem:            memory domain of the pages; NULL for the platform default. Must outlive the
 *                  table.
 * @chunk_capacity: entries per chunk, 1..SGT_CHUNK_CAPACITY_MAX; 0 for
 *                  SGT_DEFAULT_CHUNK_CAPACITY. The first chunk holds one entry more: its
 *                  header lives in the handle, so in a page it fits the entry a header would
 *                  take (128 entries for the default, as in Linux's first chunk). Tests use 1
 *                  or 2 to force chaining.
 *
 * How a table allocates (one allocation per chunk; this is what its memory use and an injected
 * allocation failure follow): new entries fill the tail chunk's free slots first. Then each new
 * chunk gets as many slots as are still needed, capped by the capacity (plus one for a table's
 * first chunk), except that an append (sgt_table_append_pages()) makes each new chunk at least as
 * large as the table already is: appended tables grow geometrically, one-shot ones are sized to
 * fit. The chunks are all allocated before any entry is written.
 *
 * A NULL params pointer means all defaults.
 */
struct sgt_table_params {
	const struct sgt_allocator *alloc;
	const struct sgt_memory *mem;
	uint32_t chunk_capacity;
};

/**
 * struct sgt_pages - a pages provider (the Rust ``SGTablePages`` analogue)
 * @num_pages: how many pages the provider has.
 * @pfn:       frame of page @index, for 0 <= @index < @num_pages. Must give the same answer
 *             every time it is asked (sgt asks twice: once to plan, once to fill).
 * @ctx:       passed to @pfn unchanged.
 *
 * The provider's pages must stay pinned while any table built from them lives; sgt does not keep
 * a pointer to the provider itself.
 */
struct sgt_pages {
	uint64_t num_pages;
	uint64_t (*pfn)(const void *ctx, uint64_t index);
	const void *ctx;
};

#ifdef __cplusplus
extern "C" {
#endif

/**
 * SGT_TABLE_INIT() - initialise an empty owned table in its definition, without a call
 * @var: the table being defined (its own name: the handle points into itself, as Linux's
 *       ``LIST_HEAD_INIT(name)`` does)
 *
 * ``struct sgt_table t = SGT_TABLE_INIT(t);`` (also for a static or global table) is an empty
 * owned table, as after sgt_table_init(&t, NULL), except that the platform's allocator and memory
 * domain are taken at its first growth (sgt_table_append_pages(), which then fails with
 * -SGT_EINVAL on a platform without defaults, leaving the table empty and usable).
 *
 * Zero-filled storage is not a table: every call refuses it with -SGT_EINVAL, because zero is
 * also what a handle that was never initialised often holds. Use this macro or sgt_table_init().
 */
/* Every member spelled out: C++ with -Wextra warns about any that a designated list omits. */
#define SGT_TABLE_INIT(var)                                                                        \
	{                                                                                          \
		.cpu = { .sgt__state = SGT__STATE_OWNED, .sgt__sgt = &(var).sgt__own },            \
		.sgt__own = { NULL, NULL, NULL, 0, 0, 0, 0, NULL, NULL },                          \
		.sgt__alloc = { NULL, NULL, NULL }, .sgt__chunk_capacity = 0,                      \
		.sgt__page_order = 0, .sgt__owns_pages = false,                                    \
		.sgt__first = { NULL, 0, 0, NULL }                                                 \
	}

/**
 * sgt_pages_from_array() - a pages provider over an array of frame numbers
 * @pages:     receives the provider; NULL is a no-op
 * @pfns:      the frames; must outlive every use of @pages
 * @num_pages: entries in @pfns
 *
 * The common provider, and the fast one: sgt recognises it and reads @pfns directly, as an
 * inline loop would, where any other provider costs a call per page. Its fields must be left as
 * this function sets them.
 *
 * Context: any; allocates nothing.
 */
SGT_API void sgt_pages_from_array(struct sgt_pages *pages, const uint64_t *pfns,
				  uint64_t num_pages);

/**
 * sgt_table_init() - create an empty owned table, ready for appends
 * @t:      caller storage for the handle
 * @params: allocation parameters, or NULL for defaults
 *
 * Context: no allocation.
 * Return: 0; -SGT_EINVAL for a NULL @t or bad @params.
 * Notes: on failure @t is not written. On success @t must be released with sgt_table_cleanup().
 */
SGT_API SGT_MUST_CHECK int sgt_table_init(struct sgt_table *t,
					  const struct sgt_table_params *params);

/**
 * sgt_table_init_from_pages() - build an owned table over pages
 * (``sg_alloc_table_from_pages_segment``)
 * @t:           caller storage for the handle
 * @params:      allocation parameters, or NULL for defaults
 * @pages:       the pages provider; must keep the pages pinned while the table lives
 * @offset:      where the data starts in the first page; below the page size
 * @size:        bytes of data, at least 1; needs ceil((@offset + @size) / page size) pages, and
 *               pages past those are not used
 * @max_segment: largest entry in bytes; rounded down to a page multiple; under one page is invalid
 * @actx:        allocation context
 *
 * Adjacent pages whose frames are consecutive merge into one entry while the entry spans at most
 * @max_segment / page size pages; the first entry starts at @offset and the last one ends where
 * @size runs out.
 *
 * Context: as @actx says; allocates the entry chunks from the table's allocator; calls
 * @pages->pfn twice per page.
 * Return: 0; -SGT_EINVAL for NULL arguments, zero pages, zero @size, @offset past the first page,
 * a @max_segment under one page or bad @params; -SGT_ERANGE when @size needs more pages than the
 * provider has; -SGT_EOVERFLOW when @offset + @size or a frame number does not fit; -SGT_E2BIG
 * past 2^32 - 1 entries; -SGT_ENOMEM.
 * Notes: on failure @t is not written and nothing is allocated.
 */
SGT_API SGT_MUST_CHECK int sgt_table_init_from_pages(struct sgt_table *t,
						     const struct sgt_table_params *params,
						     const struct sgt_pages *pages, uint32_t offset,
						     uint64_t size, uint32_t max_segment,
						     enum sgt_alloc_ctx actx);

/**
 * sgt_table_append_pages() - append pages to an owned table (``sg_alloc_append_table_from_pages``)
 * @t:           a live owned table, not one from sgt_table_init_alloc_order()
 * @pages:       the pages provider; same contract as for sgt_table_init_from_pages()
 * @offset:      where the new data starts in its first page; below the page size
 * @size:        bytes to append, at least 1
 * @max_segment: as for sgt_table_init_from_pages(); applies to the new pages and to the merge
 * @actx:        allocation context (a table built where it may sleep can be appended in atomic
 *               context)
 *
 * The first new pages merge into the table's last entry when @offset is 0, the last entry ends
 * exactly at a page boundary, the first new frame follows the last entry's last frame, and the
 * last entry plus one more page is at most @max_segment; merging goes on page by page under the
 * same rule. (Linux merges on the frame alone, even when the last entry ends mid-page; sgt
 * merges only bytes that really are contiguous.) The rest is laid out as by
 * sgt_table_init_from_pages().
 *
 * Context: as @actx says.
 * Return: as for sgt_table_init_from_pages(), plus -SGT_ESTALE for a stale handle and
 * -SGT_EINVAL for a table that owns its pages.
 * Notes: on failure the table is exactly as before: same entries, same last entry length, no
 * chunk added, nothing leaked.
 */
SGT_API SGT_MUST_CHECK int sgt_table_append_pages(struct sgt_table *t,
						  const struct sgt_pages *pages, uint32_t offset,
						  uint64_t size, uint32_t max_segment,
						  enum sgt_alloc_ctx actx);

/**
 * sgt_table_init_alloc_order() - a table over freshly allocated pages (``sgl_alloc_order``)
 * @t:      caller storage for the handle
 * @params: allocation parameters, or NULL for defaults; @params->mem must allocate pages
 * @length: bytes, at least 1
 * @order:  each entry is one block of ``page size << order`` bytes (the last may be shorter);
 *          the block must fit in 2^31 bytes
 * @actx:   allocation context, for the chunks and the pages
 *
 * The table owns the pages: sgt_table_cleanup() frees them with the entries. The memory
 * domain's allocator zeroes them.
 *
 * Context: as @actx says.
 * Return: 0; -SGT_EINVAL for NULL arguments, zero @length, too large an @order, bad @params;
 * -SGT_EOPNOTSUPP when the domain cannot allocate pages; -SGT_E2BIG; -SGT_ENOMEM (or the domain's
 * own error) when chunks or pages run out.
 * Notes: on failure @t is not written and every page and chunk allocated so far is freed.
 */
SGT_API SGT_MUST_CHECK int sgt_table_init_alloc_order(struct sgt_table *t,
						      const struct sgt_table_params *params,
						      uint64_t length, unsigned int order,
						      enum sgt_alloc_ctx actx);

/**
 * sgt_table_cleanup() - drop an owned, unmapped table
 * @t: the handle, or NULL
 *
 * Frees the entry chunks, and the pages if the table allocated them; never touches pages from a
 * provider. Leaves @t stale. NULL, a stale or an uninitialised-but-zeroed handle is a no-op, so
 * dropping twice is safe.
 * Context: whatever the allocator's free and the domain's free_pages allow; allocates nothing.
 */
SGT_API void sgt_table_cleanup(struct sgt_table *t);

/**
 * sgt_borrowed_init() - wrap a raw table that someone else owns (the "unsafe" constructor)
 * @b:   caller storage for the handle
 * @sgt: the raw table to borrow
 *
 * The caller promises, and sgt cannot check: @sgt stays alive and unchanged (entries, counts,
 * pages, memory domain) until sgt_borrowed_cleanup(@b); its pages stay pinned for as long. sgt
 * never writes to @sgt or frees any part of it.
 *
 * Context: no allocation; checks @sgt with sgt_sg_table_check(), O(entries).
 * Return: 0; -SGT_EINVAL for NULL arguments or a raw table that breaks an invariant.
 * Notes: on failure @b is not written.
 */
SGT_API SGT_MUST_CHECK int sgt_borrowed_init(struct sgt_borrowed *b,
					     const struct sgt_sg_table *sgt);

/**
 * sgt_borrowed_cleanup() - end a borrow
 * @b: the handle, or NULL
 *
 * Frees nothing; the owner keeps the raw table. Leaves @b stale; a no-op when already stale.
 * Context: any; allocates nothing.
 */
SGT_API void sgt_borrowed_cleanup(struct sgt_borrowed *b);

/**
 * sgt_cpu_check() - check a handle and the invariants of its table
 * @t: any handle's CPU view
 *
 * Context: no allocation; O(entries). Debug builds run this before and after every call that
 * mutates a table; fuzzers and property tests run it after every step.
 * Return: 0; -SGT_ESTALE for a stale handle; -SGT_EINVAL for NULL, an uninitialised handle or a
 * broken invariant.
 * Notes: reads only.
 */
SGT_API SGT_MUST_CHECK int sgt_cpu_check(const struct sgt_cpu *t);

/**
 * sgt_cpu_sg_table() - the raw table behind a handle, to lend it to other code
 * @t:       any handle's CPU view
 * @out_sgt: receives the raw table; valid until the handle's next transition or cleanup
 *
 * Context: any; allocates nothing.
 * Return: 0; -SGT_ESTALE; -SGT_EINVAL for NULL arguments.
 * Notes: reads only; the out parameters are written only on success.
 */
SGT_API SGT_MUST_CHECK int sgt_cpu_sg_table(const struct sgt_cpu *t,
					    const struct sgt_sg_table **out_sgt);

/**
 * sgt_cpu_info() - entry count and byte length of a table
 * @t:             any handle's CPU view
 * @out_num_ents:  receives the CPU entry count; may be NULL
 * @out_total_len: receives the total length in bytes; may be NULL
 *
 * Context: any; allocates nothing.
 * Return: 0; -SGT_ESTALE; -SGT_EINVAL for a NULL or uninitialised handle.
 * Notes: reads only; the out parameters are written only on success.
 */
SGT_API SGT_MUST_CHECK int sgt_cpu_info(const struct sgt_cpu *t, uint32_t *out_num_ents,
					uint64_t *out_total_len);

/**
 * sgt_nents_for_len() - entries needed to cover the first @len bytes (``sg_nents_for_len``)
 * @t:       any handle's CPU view
 * @len:     bytes, at least 1
 * @out_num: receives the count
 *
 * Context: any; allocates nothing; O(entries).
 * Return: 0; -SGT_ERANGE when the table is shorter than @len; -SGT_EINVAL for NULL or zero @len;
 * -SGT_ESTALE.
 * Notes: reads only; the out parameters are written only on success.
 */
SGT_API SGT_MUST_CHECK int sgt_nents_for_len(const struct sgt_cpu *t, uint64_t len,
					     uint32_t *out_num);

/**
 * sgt_split() - split a byte range of a table into new owned tables (``sg_split``)
 * @in:         any handle's CPU view
 * @skip:       bytes to skip at the start of @in
 * @num_splits: how many tables to make, at least 1
 * @split_lens: length in bytes of each new table, each at least 1
 * @params:     allocation parameters for the new tables; @params->mem must be NULL or @in's domain
 * @out:        array of @num_splits caller-owned handles to initialise
 * @actx:       allocation context
 *
 * Table *k* covers the @split_lens[k] bytes that follow table *k-1*'s. Each entry of @in that the
 * range touches gives one entry (cut at the range's ends; no re-merging), so the new tables have
 * the same segmentation as @in. The new tables own their entries but not their pages: the pages
 * belong to @in's owner and must outlive them (a split of a sgt_table_init_alloc_order() table
 * must be dropped before it).
 *
 * Context: as @actx says.
 * Return: 0; -SGT_EINVAL for NULL arguments, zero @num_splits or a zero length, a different
 * memory domain; -SGT_ERANGE when @skip plus the lengths run past the end of @in;
 * -SGT_EOVERFLOW when they do not fit 64 bits; -SGT_ESTALE; -SGT_ENOMEM.
 * Notes: argument errors are found before anything is written. A later failure (-SGT_ENOMEM)
 * frees everything made so far and leaves the elements of @out it reached stale (not live;
 * sgt_table_cleanup() on them is a no-op); nothing stays allocated.
 */
SGT_API SGT_MUST_CHECK int sgt_split(const struct sgt_cpu *in, uint64_t skip, size_t num_splits,
				     const uint64_t *split_lens,
				     const struct sgt_table_params *params, struct sgt_table *out,
				     enum sgt_alloc_ctx actx);

#ifdef __cplusplus
}
#endif

#endif /* SGT_TABLE_H */
