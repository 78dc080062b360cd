// SPDX-License-Identifier: MIT
/*
 * Building tables from pages (sg_alloc_table_from_pages_segment, sg_alloc_append_table_from_pages)
 * and from freshly allocated pages (sgl_alloc_order).
 *
 * One walk (s_walk) decides the layout. It runs twice: first to count the entries so that all
 * memory is reserved up front, then to write them. The merge rules therefore live in exactly one
 * place, and the second run cannot fail for lack of memory.
 */
#include "internal.h"

/* A validated request to lay out pages. */
struct s_layout {
	const struct sgt_pages *pages;
	const struct sgt_memory *mem;
	uint64_t num_pages; /* pages actually used: ceil((offset + size) / page size) */
	uint64_t size;
	uint32_t offset;
	uint32_t max_seg; /* rounded down to a page multiple */
};

struct s_walk_out {
	uint64_t num_new;
	uint32_t merge_len;
};

static int s_pfn(const struct s_layout *l, uint64_t index, uint64_t *out_pfn)
{
	uint64_t pfn = l->pages->pfn(l->pages->ctx, index);

	if (pfn >= sgt_memory_max_pfn(l->mem))
		return -SGT_EOVERFLOW;
	*out_pfn = pfn;
	return 0;
}

/* The frame right after @last's final byte, if @last ends exactly at a page boundary. */
static bool s_next_pfn_after(const struct sgt_entry *last, unsigned int shift, uint64_t *out_pfn)
{
	uint64_t end = (uint64_t)last->offset + last->len;

	if (end & ((UINT64_C(1) << shift) - 1))
		return false;
	*out_pfn = last->pfn + (end >> shift);
	return true;
}

/*
 * Merge leading pages into @last: each page must be the next frame and leave @last within
 * max_seg (Linux checks length + PAGE_SIZE against max_segment, also for a partial last page).
 * Advances *@i past the merged pages and *@remaining past their bytes.
 */
static int s_walk_merge(const struct s_layout *l, const struct sgt_entry *last, uint64_t *i,
			uint64_t *remaining, uint32_t *out_merge_len)
{
	uint64_t ps = sgt_memory_page_size(l->mem);
	uint64_t len = last->len, next, pfn;
	int err;

	*out_merge_len = 0;
	if (l->offset || !s_next_pfn_after(last, l->mem->page_shift, &next))
		return 0;
	while (*i < l->num_pages && len + ps <= l->max_seg) {
		err = s_pfn(l, *i, &pfn);
		if (err)
			return err;
		if (pfn != next)
			break;
		len += SGT__MIN(ps, *remaining);
		*remaining -= SGT__MIN(ps, *remaining);
		next++;
		(*i)++;
	}
	*out_merge_len = (uint32_t)(len - last->len);
	return 0;
}

/*
 * Lay out the pages: merge into @last (NULL for none), then one entry per run of consecutive
 * frames of at most max_seg / page size pages. With @w NULL it only counts; otherwise it puts.
 */
static int s_walk(const struct s_layout *l, const struct sgt_entry *last, struct sgt__resv *w,
		  struct s_walk_out *out)
{
	unsigned int shift = l->mem->page_shift;
	uint64_t max_pages = l->max_seg >> shift;
	uint64_t remaining = l->size, i = 0, first, prev, pfn, n;
	uint32_t offset = l->offset, len;
	int err = 0;

	*out = (struct s_walk_out){ 0 };
	if (last)
		err = s_walk_merge(l, last, &i, &remaining, &out->merge_len);
	while (!err && i < l->num_pages) {
		err = s_pfn(l, i, &first);
		for (prev = first, n = 1, i++; !err && i < l->num_pages && n < max_pages;
		     i++, n++) {
			err = s_pfn(l, i, &pfn);
			if (err || pfn != prev + 1)
				break;
			prev = pfn;
		}
		if (err)
			break;
		len = (uint32_t)SGT__MIN((n << shift) - offset, remaining);
		if (w)
			err = sgt__resv_put(w, first, offset, len);
		remaining -= len;
		offset = 0;
		out->num_new++;
	}
	return err;
}

static int s_layout_init(struct s_layout *l, const struct sgt_table *t,
			 const struct sgt_pages *pages, uint32_t offset, uint64_t size,
			 uint32_t max_segment)
{
	const struct sgt_memory *mem = t->sgt__own.mem;
	uint64_t ps = sgt_memory_page_size(mem), end;

	if (!pages || !pages->pfn || pages->num_pages == 0 || size == 0 || offset >= ps)
		return -SGT_EINVAL;
	if (max_segment < ps)
		return -SGT_EINVAL;
	if (size > UINT64_MAX - offset || size > UINT64_MAX - t->sgt__own.total_len)
		return -SGT_EOVERFLOW;
	end = offset + size;
	*l = (struct s_layout){
		.pages = pages,
		.mem = mem,
		.num_pages = (end >> mem->page_shift) + ((end & (ps - 1)) != 0),
		.size = size,
		.offset = offset,
		.max_seg = (uint32_t)(max_segment & ~(ps - 1)),
	};
	return l->num_pages > pages->num_pages ? -SGT_ERANGE : 0;
}

/* Append to a live owned table; expect_growth picks chunk sizing (see sgt__resv_init). */
static int s_append(struct sgt_table *t, const struct sgt_pages *pages, uint32_t offset,
		    uint64_t size, uint32_t max_segment, bool expect_growth,
		    enum sgt_alloc_ctx actx)
{
	const struct sgt_entry *last = sgt_sg_last(&t->sgt__own);
	struct s_walk_out plan, done;
	struct sgt__resv r;
	struct s_layout l;
	int err;

	err = s_layout_init(&l, t, pages, offset, size, max_segment);
	if (!err)
		err = s_walk(&l, last, NULL, &plan);
	if (!err)
		err = sgt__resv_init(&r, t, plan.num_new, expect_growth, actx);
	if (err)
		return err;
	err = s_walk(&l, last, &r, &done);
	if (!err && (done.num_new != plan.num_new || done.merge_len != plan.merge_len))
		err = -SGT_EINVAL; /* the provider changed its answer between the two walks */
	if (!err)
		err = sgt__resv_commit(&r, done.merge_len);
	if (err)
		sgt__resv_abort(&r);
	return err;
}

/* A table from SGT_TABLE_INIT() takes the platform's defaults when it first grows. */
static int s_take_defaults(struct sgt_table *t)
{
	struct sgt__params p;
	int err;

	if (t->sgt__own.mem)
		return 0;
	err = sgt__params_resolve(NULL, &p);
	if (err)
		return err;
	t->sgt__own.mem = p.mem;
	t->sgt__alloc = p.alloc;
	t->sgt__chunk_capacity = p.chunk_capacity;
	return 0;
}

int sgt_table_append_pages(struct sgt_table *t, const struct sgt_pages *pages, uint32_t offset,
			   uint64_t size, uint32_t max_segment, enum sgt_alloc_ctx actx)
{
	int err = t ? sgt__cpu_live(&t->cpu) : -SGT_EINVAL;

	if (err)
		return err;
	if (t->cpu.sgt__state != SGT__STATE_OWNED || t->sgt__owns_pages)
		return -SGT_EINVAL;
	err = s_take_defaults(t);
	if (err)
		return err;
	return s_append(t, pages, offset, size, max_segment, true, actx);
}

int sgt_table_init_from_pages(struct sgt_table *t, const struct sgt_table_params *params,
			      const struct sgt_pages *pages, uint32_t offset, uint64_t size,
			      uint32_t max_segment, enum sgt_alloc_ctx actx)
{
	struct sgt_table tmp;
	int err;

	if (!t)
		return -SGT_EINVAL;
	err = sgt_table_init(&tmp, params);
	if (err)
		return err;
	err = s_append(&tmp, pages, offset, size, max_segment, false, actx);
	if (err)
		return err;
	sgt__table_move(t, &tmp);
	return 0;
}

/*
 * Free the pages of the entries put so far. The table was empty, so they sit at the start of the
 * reservation's new chunks, which are not counted in yet (their num_ents is still 0).
 */
static void s_free_put_pages(const struct sgt__resv *r, const struct sgt_memory *mem,
			     unsigned int order)
{
	uint64_t left = r->num_put;
	const struct sgt_chunk *c;
	uint32_t i;

	for (c = r->new_head; c && left; c = c->next) {
		for (i = 0; i < c->capacity && left; i++, left--)
			mem->free_pages(mem->ctx, c->ents[i].pfn, order);
	}
}

/* Allocate one block per reserved entry; on failure free the blocks already allocated. */
static int s_fill_alloc_order(struct sgt__resv *r, const struct sgt_memory *mem, uint64_t length,
			      unsigned int order, enum sgt_alloc_ctx actx)
{
	uint64_t block = sgt_memory_page_size(mem) << order, pfn, i;
	int err = 0;

	for (i = 0; i < r->num_new && !err; i++) {
		err = mem->alloc_pages(mem->ctx, order, &pfn, actx);
		if (!err)
			err = sgt__resv_put(r, pfn, 0,
					    (uint32_t)SGT__MIN(block, length - i * block));
	}
	if (err)
		s_free_put_pages(r, mem, order);
	return err;
}

int sgt_table_init_alloc_order(struct sgt_table *t, const struct sgt_table_params *params,
			       uint64_t length, unsigned int order, enum sgt_alloc_ctx actx)
{
	struct sgt_table tmp;
	const struct sgt_memory *mem;
	struct sgt__resv r;
	uint64_t block;
	unsigned int shift;
	int err;

	if (!t || length == 0)
		return -SGT_EINVAL;
	err = sgt_table_init(&tmp, params);
	if (err)
		return err;
	mem = tmp.sgt__own.mem;
	/* a block must fit an entry's 32-bit length: at most 2^31 bytes */
	if (order > 31 - mem->page_shift)
		return -SGT_EINVAL;
	if (!mem->alloc_pages)
		return -SGT_EOPNOTSUPP;
	/* block is a power of two: shift, so a 32-bit build needs no libgcc 64-bit division */
	shift = mem->page_shift + order;
	block = UINT64_C(1) << shift;
	err = sgt__resv_init(&r, &tmp, (length >> shift) + ((length & (block - 1)) != 0), false,
			     actx);
	if (err)
		return err;
	err = s_fill_alloc_order(&r, mem, length, order, actx);
	if (!err) {
		err = sgt__resv_commit(&r, 0);
		if (err)
			s_free_put_pages(&r, mem, order);
	}
	if (err) {
		sgt__resv_abort(&r);
		return err;
	}
	tmp.sgt__owns_pages = true;
	tmp.sgt__page_order = (uint8_t)order;
	sgt__table_move(t, &tmp);
	return 0;
}
