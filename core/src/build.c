// SPDX-License-Identifier: MIT
/*
 * Building tables from pages (sg_alloc_table_from_pages_segment, sg_alloc_append_table_from_pages)
 * and from freshly allocated pages (sgl_alloc_order).
 *
 * One walk (s_walk) decides the layout, with one rule (s_follows). It runs twice: first to count
 * the entries so that all memory is reserved up front, then to write them. The merge rules
 * therefore live in exactly one place, and the second run cannot fail for lack of memory. Both
 * runs are compiled from the same inline function, so the counting one does no writing; and an
 * array provider's frames are read directly (bench/: build against a floor loop).
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

/*
 * Frames are read a block at a time: straight from the array of a provider made by
 * sgt_pages_from_array() (the common case, read as an inline loop would), or through the
 * provider's callback into a small buffer. The walk itself only ever reads arrays.
 */
#define S_FRAME_BLOCK 64

struct s_frames {
	const struct sgt_pages *pages;
	const uint64_t *array;
	uint64_t buf[S_FRAME_BLOCK];
};

/* Frames from page @i on, at least one and at most up to page @end; their count in *@n. */
static const uint64_t *s_frames_at(struct s_frames *f, uint64_t i, uint64_t end, uint64_t *n)
{
	uint64_t k;

	if (f->array) {
		*n = end - i;
		return f->array + i;
	}
	*n = SGT__MIN(end - i, (uint64_t)S_FRAME_BLOCK);
	for (k = 0; k < *n; k++)
		f->buf[k] = f->pages->pfn(f->pages->ctx, i + k);
	return f->buf;
}

/*
 * The merge run continues the table's last entry @last when it can take pages: @offset is 0,
 * @last ends exactly at a page boundary, and at least one more page keeps it within max_seg
 * (Linux checks length + PAGE_SIZE against max_segment, also for a partial last page). Gives
 * the frame after @last in *@first and the pages it can take in *@cap.
 */
static bool s_merge_run(const struct s_layout *l, const struct sgt_entry *last, uint64_t *first,
			uint64_t *cap)
{
	unsigned int shift = l->mem->page_shift;
	uint64_t end = (uint64_t)last->offset + last->len;

	if (l->offset || (end & ((UINT64_C(1) << shift) - 1)) || last->len >= l->max_seg)
		return false;
	/* 32-bit arithmetic: no 64-bit division for a 32-bit freestanding build */
	*cap = (uint32_t)(l->max_seg - last->len) >> shift;
	*first = last->pfn + (end >> shift);
	return *cap != 0;
}

/* Where the write walk puts entries: the reserved slots of one chunk, [begin, end). */
struct s_cursor {
	struct sgt__resv *w;
	struct sgt_entry *e, *begin, *end;
};

/* Hand the slots written back to the reservation and take the next ones; false if none. */
static bool s_next_slots(struct s_cursor *c)
{
	uint32_t room;

	if (c->begin)
		sgt__resv_filled(c->w, (uint32_t)(c->e - c->begin), 0);
	c->e = c->begin = sgt__resv_slots(c->w, &room);
	c->end = c->e ? c->e + room : NULL;
	return c->e != NULL;
}

/*
 * Write an entry at the cursor; false when every reserved slot is taken (a provider that
 * answered differently the second time).
 */
static inline bool s_write(struct s_cursor *c, uint64_t pfn, uint32_t offset, uint64_t len)
{
	if (c->e == c->end && !s_next_slots(c))
		return false;
	*c->e++ = (struct sgt_entry){ .pfn = pfn, .offset = offset, .len = (uint32_t)len };
	return true;
}

/*
 * The layout rule, page by page: frame @pfn goes on the run that ends with frame @prev and has
 * @run of its at most @cap pages when it is the next frame and there is room; otherwise it
 * starts a new entry. Both walks apply it and nothing else decides the layout.
 */
static inline bool s_follows(uint64_t pfn, uint64_t prev, uint64_t run, uint64_t cap)
{
	return pfn == prev + 1 && run < cap;
}

/*
 * Lay out the pages: merge into @last (NULL for none), then one entry per run of consecutive
 * frames of at most max_seg / page size pages. With @w NULL it only counts; otherwise it puts.
 * Fails with -SGT_EOVERFLOW when any page's frame lies past the memory domain.
 *
 * Inlined into each of its two callers below, so that the counting walk is compiled without the
 * writing. Every entry but the last covers its pages whole (but for the first one's offset) and
 * the last takes what is left, so lengths need no clamping. The state lives in locals: entries
 * are written through pointers that, as far as the compiler knows, could change any field read
 * through a pointer.
 */
static inline __attribute__((__always_inline__)) int s_walk(const struct s_layout *l,
							    const struct sgt_entry *last,
							    struct sgt__resv *w,
							    struct s_walk_out *out)
{
	const unsigned int shift = l->mem->page_shift;
	const uint64_t max_pages = l->max_seg >> shift, max_pfn = sgt_memory_max_pfn(l->mem);
	struct s_frames fr = { .pages = l->pages, .array = sgt__pages_array(l->pages) };
	uint64_t i = 0, j, lim, start, cnt, expect = 0, prev, run = 0, cap = 0, first = 0, laid = 0;
	uint64_t num_new = 0, len;
	uint32_t offset = l->offset, first_off = 0, merge_len = 0;
	struct s_cursor c = { .w = w };
	bool merging = true;
	const uint64_t *f;

	/*
	 * The walk starts in the merge run, which is empty and takes no page (cap 0) unless @last
	 * can take some. prev is the last frame before the pages: @last's, or 0 (any valid frame).
	 */
	prev = last && s_merge_run(l, last, &expect, &cap) ? expect - 1 : 0;
	while (i < l->num_pages) {
		f = s_frames_at(&fr, i, l->num_pages, &cnt);
		i += cnt;
		for (j = 0; j < cnt; prev = f[j++]) {
			if (s_follows(f[j], prev, run, cap)) {
				/*
				 * The run goes on. A long run takes the pages that follow in one
				 * tight loop (the same rule, with the room left as a bound).
				 */
				lim = j + SGT__MIN(cnt - j, cap - run);
				for (start = j++; j < lim && f[j] == f[start] + (j - start); j++)
					;
				run += j - start;
				prev = f[--j]; /* the loop's step reads it again */
				continue;
			}
			/*
			 * Close the run that ends at prev: the merge, or an entry. Its frames are
			 * consecutive, so its last one is the one to check against the domain
			 * (before the first page, prev is 0 or the last entry's last frame).
			 */
			if (prev >= max_pfn)
				return -SGT_EOVERFLOW;
			if (merging) {
				merge_len = (uint32_t)(run << shift);
				laid = merge_len;
				merging = false;
				cap = max_pages;
			} else if (w) {
				len = (run << shift) - first_off;
				if (!s_write(&c, first, first_off, len))
					return -SGT_EINVAL;
				laid += len;
			}
			num_new++;
			first = f[j];
			first_off = offset;
			offset = 0;
			run = 1;
		}
	}
	/* The last run takes what is left. */
	if (prev >= max_pfn)
		return -SGT_EOVERFLOW;
	if (merging) {
		merge_len = (uint32_t)l->size;
	} else if (w && !s_write(&c, first, first_off, l->size - laid)) {
		return -SGT_EINVAL;
	}
	if (w)
		sgt__resv_filled(w, c.begin ? (uint32_t)(c.e - c.begin) : 0, l->size - merge_len);
	*out = (struct s_walk_out){ .num_new = num_new, .merge_len = merge_len };
	return 0;
}

/* The two walks, each a function of its own so that each gets the registers to itself. */
static __attribute__((__noinline__)) int
s_count(const struct s_layout *l, const struct sgt_entry *last, struct s_walk_out *out)
{
	return s_walk(l, last, NULL, out);
}

static __attribute__((__noinline__)) int s_put(const struct s_layout *l,
					       const struct sgt_entry *last, struct sgt__resv *w,
					       struct s_walk_out *out)
{
	return s_walk(l, last, w, out);
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
	struct s_walk_out plan = { 0 }, done;
	struct sgt__resv r;
	struct s_layout l;
	bool one_walk;
	int err;

	err = s_layout_init(&l, t, pages, offset, size, max_segment);
	if (err)
		return err;
	/*
	 * There is at most one entry per page. When the tail chunk has room for that many, nothing
	 * is allocated, so the entries need not be counted first: one walk puts them, and the
	 * reservation is trimmed to what it put.
	 */
	one_walk = l.num_pages <= sgt__tail_room(&t->sgt__own);
	if (!one_walk)
		err = s_count(&l, last, &plan);
	if (!err)
		err = sgt__resv_init(&r, t, one_walk ? l.num_pages : plan.num_new, expect_growth,
				     actx);
	if (err)
		return err;
	err = s_put(&l, last, &r, &done);
	if (!err && one_walk)
		sgt__resv_trim(&r);
	else if (!err && (done.num_new != plan.num_new || done.merge_len != plan.merge_len))
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
