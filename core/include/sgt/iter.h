/* SPDX-License-Identifier: MIT */
#ifndef SGT_ITER_H
#define SGT_ITER_H

#include "sgt/types.h"

#include "sgt/error.h"
#include "sgt/table.h"

/**
 * DOC: CPU-side iterators
 *
 * Three iterators walk a table from the CPU side, in every state (they take &struct sgt_cpu):
 *
 * - the entry iterator yields each entry (``for_each_sgtable_sg``);
 * - the page iterator yields every page that an entry touches, with the part of the page the
 *   entry covers (``for_each_sgtable_page`` / ``sg_page_iter``), optionally starting some pages in;
 * - the mapping iterator (``sg_miter``) gives byte access, one page-bounded piece at a time,
 *   through the table's memory domain, starting at any byte offset.
 *
 * Each is a caller-owned struct: ``*_init()`` (checked), then ``*_next()`` until it returns false.
 * An iterator borrows the handle: it is valid until the handle's next transition or cleanup, and
 * the table must not change while it is in use. Fields prefixed ``sgt__`` are private.
 */

/**
 * struct sgt_ent_iter - entry iterator
 * @ent:   the current entry, after sgt_ent_iter_next() returned true.
 * @index: its index in the table.
 */
struct sgt_ent_iter {
	const struct sgt_entry *ent;
	uint32_t index;
	struct sgt_pos sgt__pos;
	const struct sgt_sg_table *sgt__sgt;
	const struct sgt_entry *sgt__chunk_end;
	bool sgt__started;
};

/**
 * struct sgt_page_iter - page iterator
 * @pfn:        the current page.
 * @offset:     first byte of the entry's data in this page.
 * @len:        bytes of the entry's data in this page (at least 1).
 * @ent_index:  index of the entry the page belongs to.
 * @page_index: index of this page in the whole walk (counting pages skipped at the start); a page
 *              shared by two entries counts once per entry, as in Linux.
 */
struct sgt_page_iter {
	uint64_t pfn;
	uint32_t offset;
	uint32_t len;
	uint32_t ent_index;
	uint64_t page_index;
	struct sgt_pos sgt__pos;
	const struct sgt_entry *sgt__ent;
	unsigned int sgt__shift;
	uint32_t sgt__ent_index;
	uint64_t sgt__page_in_ent;
	uint64_t sgt__next_page_index;
	uint64_t sgt__ent_pages;
};

/**
 * struct sgt_miter - mapping iterator: byte access chunk by chunk
 * @addr:     address of the current piece, after sgt_miter_next() returned true.
 * @len:      bytes at @addr; never crosses a page or entry boundary.
 * @consumed: how many of @len the caller used; set to @len by sgt_miter_next(). A caller that
 *            sets it lower makes the next call resume right after the used bytes.
 */
struct sgt_miter {
	void *addr;
	size_t len;
	size_t consumed;
	const struct sgt_sg_table *sgt__sgt;
	struct sgt_pos sgt__pos;
	const struct sgt_entry *sgt__ent;
	uint64_t sgt__ent_off;
	uint64_t sgt__mapped_pfn;
	void *sgt__mapped;
	int sgt__err;
};

#ifdef __cplusplus
extern "C" {
#endif

/**
 * sgt_ent_iter_init() - start an entry walk
 * @it: caller storage for the iterator
 * @t:  any handle's CPU view
 *
 * Context: any; allocates nothing.
 * Return: 0; -SGT_ESTALE; -SGT_EINVAL for NULL or an uninitialised handle. On failure @it is not
 * written.
 */
SGT_API SGT_MUST_CHECK int sgt_ent_iter_init(struct sgt_ent_iter *it, const struct sgt_cpu *t);

/* The iterators' steps that leave a chunk, start or end a walk: out of line, not to be called. */
SGT_API bool sgt__ent_iter_step(struct sgt_ent_iter *it);
SGT_API bool sgt__page_iter_step(struct sgt_page_iter *it);

/* Pages an entry touches (Linux sg_page_count), for the iterators. */
static inline uint64_t sgt__ent_page_count(const struct sgt_entry *e, unsigned int shift)
{
	uint64_t end = (uint64_t)e->offset + e->len;

	return (end >> shift) + ((end & ((UINT64_C(1) << shift) - 1)) != 0);
}

/**
 * sgt_ent_iter_next() - advance to the next entry
 * @it: an iterator from sgt_ent_iter_init()
 *
 * Inline: the step to the next entry of the same chunk is as cheap as a loop over an array (see
 * bench/); the rest is sgt__ent_iter_step().
 * Context: any; allocates nothing.
 * Return: true with @it->ent set; false at the end or for a NULL @it.
 */
static inline bool sgt_ent_iter_next(struct sgt_ent_iter *it)
{
	/* sgt__pos.index is left behind here; the step works it out from @ent. */
	if (it && it->ent && it->ent + 1 < it->sgt__chunk_end) {
		it->ent++;
		it->index++;
		return true;
	}
	return sgt__ent_iter_step(it);
}

/**
 * sgt_page_iter_init() - start a page walk
 * @it:         caller storage for the iterator
 * @t:          any handle's CPU view
 * @start_page: pages to skip first, counted as in &struct sgt_page_iter.page_index
 *
 * Context: any; allocates nothing.
 * Return: 0; -SGT_ESTALE; -SGT_EINVAL. A @start_page past the end gives an empty walk.
 * Notes: on failure @it is not written.
 */
SGT_API SGT_MUST_CHECK int sgt_page_iter_init(struct sgt_page_iter *it, const struct sgt_cpu *t,
					      uint64_t start_page);

/**
 * sgt_page_iter_next() - advance to the next page
 * @it: an iterator from sgt_page_iter_init()
 *
 * Inline: the next page of the same entry, or the first page of the next entry in the same chunk,
 * costs what a loop over an array of entries would (see bench/); the rest is
 * sgt__page_iter_step().
 * Context: any; allocates nothing.
 * Return: true with the public fields set; false at the end or for a NULL @it.
 */
static inline bool sgt_page_iter_next(struct sgt_page_iter *it)
{
	const struct sgt_entry *e = it ? it->sgt__ent : NULL;
	uint64_t k, ps, left;

	if (!e)
		return sgt__page_iter_step(it);
	if (it->sgt__page_in_ent >= it->sgt__ent_pages) {
		if (it->sgt__pos.index + 1 >= it->sgt__pos.chunk->num_ents)
			return sgt__page_iter_step(it);
		it->sgt__pos.index++;
		e = ++it->sgt__ent;
		it->sgt__ent_index++;
		it->sgt__page_in_ent = 0;
		it->sgt__ent_pages = sgt__ent_page_count(e, it->sgt__shift);
	}
	k = it->sgt__page_in_ent++;
	ps = UINT64_C(1) << it->sgt__shift;
	/* bytes of the entry from this page's start on */
	left = (uint64_t)e->offset + e->len - (k << it->sgt__shift);
	it->pfn = e->pfn + k;
	it->offset = k ? 0 : e->offset;
	it->len = (uint32_t)((left < ps ? left : ps) - it->offset);
	it->ent_index = it->sgt__ent_index;
	it->page_index = it->sgt__next_page_index++;
	return true;
}

/**
 * sgt_miter_start() - start a mapping walk
 * @m:    caller storage for the iterator
 * @t:    any handle's CPU view
 * @skip: bytes to skip from the start of the table; past the end gives an empty walk
 *
 * Context: any; allocates nothing; holds at most one page mapped through the memory domain until
 * the next call or sgt_miter_stop() (in a kernel, a kmap_local_page() mapping: no sleeping in
 * between). Return: 0; -SGT_ESTALE; -SGT_EINVAL. On failure @m is not written. After a successful
 * start the caller must call sgt_miter_stop().
 */
SGT_API SGT_MUST_CHECK int sgt_miter_start(struct sgt_miter *m, const struct sgt_cpu *t,
					   uint64_t skip);

/**
 * sgt_miter_next() - map the next piece
 * @m: a started iterator
 *
 * Ends the access to the previous piece's page (if any), then maps the next piece's page.
 * Context: as for sgt_miter_start().
 * Return: true with @m->addr and @m->len set; false at the end, for a NULL @m, or when the memory
 * domain refused a page (sgt_miter_error() then says -SGT_EFAULT).
 */
SGT_API bool sgt_miter_next(struct sgt_miter *m);

/**
 * sgt_miter_stop() - end the walk and the access to the current page
 * @m: a started iterator; stopping twice is harmless, and NULL is a no-op
 *
 * Context: any; allocates nothing.
 */
SGT_API void sgt_miter_stop(struct sgt_miter *m);

/**
 * sgt_miter_error() - why a mapping walk ended early
 * @m: a started iterator
 *
 * Context: any; allocates nothing.
 * Return: 0 if it ended at the end of the table (or has not ended), -SGT_EFAULT if a page could
 * not be mapped, -SGT_EINVAL for a NULL @m.
 */
SGT_API int sgt_miter_error(const struct sgt_miter *m);

#ifdef __cplusplus
}
#endif

#endif /* SGT_ITER_H */
