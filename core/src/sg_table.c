// SPDX-License-Identifier: MIT
/*
 * The raw table: its invariant check and navigation. The numbers in the messages refer to the
 * invariants listed in sgt/sg_table.h.
 */
#include "internal.h"

int sgt_memory_check(const struct sgt_memory *mem)
{
	if (!mem || !mem->map_page)
		return -SGT_EINVAL;
	if (mem->page_shift < SGT_PAGE_SHIFT_MIN || mem->page_shift > SGT_PAGE_SHIFT_MAX)
		return -SGT_EINVAL;
	if (mem->alloc_pages && !mem->free_pages)
		return -SGT_EINVAL;
	return 0;
}

struct s_sums {
	uint64_t cpu;
	uint64_t dma;
};

static const char *s_check_entry(const struct sgt_sg_table *sgt, const struct sgt_entry *e,
				 uint64_t index, struct s_sums *sums)
{
	unsigned int shift = sgt->mem->page_shift;

	if (e->len == 0)
		return "(4) entry with zero length";
	if (e->offset >= sgt_memory_page_size(sgt->mem))
		return "(4) entry offset not below the page size";
	/* offset and len are 32-bit, so their sum cannot wrap 64 bits */
	if (e->pfn >= sgt_memory_max_pfn(sgt->mem) ||
	    ((uint64_t)e->offset + e->len - 1) >> shift >= sgt_memory_max_pfn(sgt->mem) - e->pfn)
		return "(4) entry runs past the last frame of the memory domain";
	/*
	 * No overflow check: the chain check stops the walk after num_cpu_ents (< 2^32) entries of
	 * under 2^32 bytes each, whose sum fits 64 bits.
	 */
	sums->cpu += e->len;
	if (e->reserved)
		return "(7) reserved entry field is not zero";
	if (index < sgt->num_dma_ents) {
		if (e->dma_len == 0)
			return "(6) mapped slot with zero DMA length";
		if (e->dma_addr > UINT64_MAX - (e->dma_len - 1))
			return "(6) DMA segment wraps past 2^64";
		sums->dma += e->dma_len;
	} else if (e->dma_len || e->dma_addr) {
		return "(6) DMA fields set past num_dma_ents";
	}
	return NULL;
}

static const char *s_check_empty(const struct sgt_sg_table *sgt)
{
	if (sgt->head || sgt->tail || sgt->num_cpu_ents)
		return "(2) head, tail and num_cpu_ents disagree about emptiness";
	if (sgt->total_len || sgt->num_dma_ents || sgt->dma_dev || sgt->dma_priv || sgt->dma_dir)
		return "(5) empty table with a length or DMA state";
	return NULL;
}

static const char *s_check_chunk(const struct sgt_sg_table *sgt, const struct sgt_chunk *c,
				 uint64_t seen)
{
	if (c->capacity == 0 || c->num_ents == 0 || c->num_ents > c->capacity)
		return "(3) chunk with no entries or more entries than slots";
	if (!c->ents)
		return "(3) chunk without its entries";
	if (c != sgt->tail && c->num_ents != c->capacity)
		return "(3) chunk before the tail is not full";
	if (c == sgt->tail && c->next)
		return "(3) tail chunk has a successor";
	/* Also bounds the walk: every chunk adds an entry, so a cycle ends up here. */
	if (seen + c->num_ents > sgt->num_cpu_ents)
		return "(3) chunks hold more entries than num_cpu_ents";
	return NULL;
}

static const char *s_check(const struct sgt_sg_table *sgt)
{
	const struct sgt_chunk *c, *mark = NULL;
	struct s_sums sums = { 0, 0 };
	uint64_t seen = 0, walked = 0, next_mark = 1;
	const char *why;
	uint32_t i;

	if (!sgt)
		return "table is NULL";
	/* An empty table from SGT_TABLE_INIT() has no domain until it first grows. */
	if (!sgt->mem && !sgt->head && !sgt->tail && !sgt->num_cpu_ents)
		return s_check_empty(sgt);
	if (sgt_memory_check(sgt->mem))
		return "(1) memory domain missing, without map_page, or page shift out of range";
	if (!sgt->head || !sgt->tail || !sgt->num_cpu_ents)
		return s_check_empty(sgt);
	if (sgt->num_dma_ents > sgt->num_cpu_ents)
		return "(6) more DMA entries than CPU entries";
	if (!sgt->num_dma_ents && (sgt->dma_dev || sgt->dma_priv || sgt->dma_dir))
		return "(6) unmapped table with a mapping device, backend state or direction";
	for (c = sgt->head; c; c = c->next) {
		/*
		 * Brent's cycle detection: a chain that loops back is named after at most twice
		 * its length in steps, however many entries num_cpu_ents claims.
		 */
		if (c == mark)
			return "(3) the chunk chain is a cycle";
		if (++walked == next_mark) {
			mark = c;
			next_mark <<= 1;
		}
		why = s_check_chunk(sgt, c, seen);
		if (why)
			return why;
		for (i = 0; i < c->num_ents; i++) {
			why = s_check_entry(sgt, &c->ents[i], seen + i, &sums);
			if (why)
				return why;
		}
		seen += c->num_ents;
	}
	if (seen != sgt->num_cpu_ents)
		return "(3) the chain holds fewer entries than num_cpu_ents, or tail is not on it";
	if (sums.cpu != sgt->total_len)
		return "(5) total_len is not the sum of the entry lengths";
	if (sgt->num_dma_ents && sums.dma != sgt->total_len)
		return "(6) DMA lengths do not add up to total_len";
	return NULL;
}

int sgt_sg_table_check(const struct sgt_sg_table *sgt, const char **out_why)
{
	const char *why = s_check(sgt);

	if (out_why)
		*out_why = why;
	return why ? -SGT_EINVAL : 0;
}

bool sgt_sg_table_is_valid(const struct sgt_sg_table *sgt)
{
	return s_check(sgt) == NULL;
}

const struct sgt_entry *sgt_sg_first(const struct sgt_sg_table *sgt, struct sgt_pos *pos)
{
	if (!pos)
		return NULL;
	pos->chunk = sgt ? sgt->head : NULL;
	pos->index = 0;
	return pos->chunk ? &pos->chunk->ents[0] : NULL;
}

const struct sgt_entry *sgt_sg_next(struct sgt_pos *pos)
{
	if (!pos || !pos->chunk)
		return NULL;
	if (++pos->index >= pos->chunk->num_ents) {
		pos->chunk = pos->chunk->next;
		pos->index = 0;
	}
	return pos->chunk ? &pos->chunk->ents[pos->index] : NULL;
}

const struct sgt_entry *sgt_sg_last(const struct sgt_sg_table *sgt)
{
	return sgt && sgt->tail && sgt->tail->num_ents ? &sgt->tail->ents[sgt->tail->num_ents - 1]
						       : NULL;
}
