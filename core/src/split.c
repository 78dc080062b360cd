// SPDX-License-Identifier: MIT
/* sg_split: cut a byte range of a table into new owned tables with the same segmentation. */
#include "internal.h"

/* A walk over the source entries that knows the byte offset where the current entry starts. */
struct s_cursor {
	struct sgt_pos pos;
	const struct sgt_entry *ent;
	uint64_t ent_start;
};

static void s_cursor_seek(struct s_cursor *c, uint64_t byte)
{
	while (c->ent && c->ent_start + c->ent->len <= byte) {
		c->ent_start += c->ent->len;
		c->ent = sgt_sg_next(&c->pos);
	}
}

/*
 * Count (@w NULL) or put the pieces of the entries covering [@start, @end); @c must be seeked to
 * @start and is left on it, so the same cursor serves both passes.
 */
static int s_piece_walk(struct s_cursor c, const struct sgt_memory *mem, uint64_t start,
			uint64_t end, struct sgt__resv *w, uint64_t *out_num)
{
	unsigned int shift = mem->page_shift;
	uint64_t from, to, abs;
	int err = 0;

	*out_num = 0;
	for (; !err && c.ent && c.ent_start < end;
	     c.ent_start += c.ent->len, c.ent = sgt_sg_next(&c.pos)) {
		from = SGT__MIN(c.ent->len, start > c.ent_start ? start - c.ent_start : 0);
		to = SGT__MIN((uint64_t)c.ent->len, end - c.ent_start);
		abs = c.ent->offset + from;
		if (w)
			err = sgt__resv_put(w, c.ent->pfn + (abs >> shift),
					    (uint32_t)(abs & ((UINT64_C(1) << shift) - 1)),
					    (uint32_t)(to - from));
		(*out_num)++;
	}
	return err;
}

static int s_make_piece(struct sgt_table *out, const struct sgt__params *p, struct s_cursor *c,
			uint64_t start, uint64_t len, enum sgt_alloc_ctx actx)
{
	struct sgt__resv r;
	uint64_t num, done;
	int err;

	s_cursor_seek(c, start);
	sgt__table_init(out, p);
	(void)s_piece_walk(*c, p->mem, start, start + len, NULL, &num);
	err = sgt__resv_init(&r, out, num, false, actx);
	if (!err) {
		err = s_piece_walk(*c, p->mem, start, start + len, &r, &done);
		if (!err)
			err = sgt__resv_commit(&r, 0);
		if (err)
			sgt__resv_abort(&r);
	}
	if (err)
		sgt_table_cleanup(out); /* empty: frees nothing, leaves it stale */
	return err;
}

static int s_check_ranges(const struct sgt_sg_table *in, uint64_t skip, size_t num_splits,
			  const uint64_t *split_lens)
{
	uint64_t end = skip;
	size_t k;

	for (k = 0; k < num_splits; k++) {
		if (split_lens[k] == 0)
			return -SGT_EINVAL;
		if (split_lens[k] > UINT64_MAX - end)
			return -SGT_EOVERFLOW;
		end += split_lens[k];
	}
	return end > in->total_len ? -SGT_ERANGE : 0;
}

/*
 * Would writing @out overwrite @in or the table it views? (A handle split into itself, or a
 * borrowed view of one of the outputs, would lose the source's chunks.)
 */
static bool s_out_aliases(const struct sgt_cpu *in, const struct sgt_table *out, size_t num)
{
	uintptr_t lo = (uintptr_t)out, hi;

	if (num > (UINTPTR_MAX - lo) / sizeof(*out))
		return true;
	hi = lo + num * sizeof(*out);
	return ((uintptr_t)in + sizeof(*in) > lo && (uintptr_t)in < hi) ||
	       ((uintptr_t)in->sgt__sgt + sizeof(*in->sgt__sgt) > lo &&
		(uintptr_t)in->sgt__sgt < hi);
}

int sgt_split(const struct sgt_cpu *in, uint64_t skip, size_t num_splits,
	      const uint64_t *split_lens, const struct sgt_table_params *params,
	      struct sgt_table *out, enum sgt_alloc_ctx actx)
{
	struct sgt_table_params own = params ? *params : (struct sgt_table_params){ 0 };
	struct s_cursor c = { { 0 }, NULL, 0 };
	struct sgt__params p;
	size_t k;
	int err = sgt__cpu_live(in);

	if (err)
		return err;
	if (!split_lens || !out || num_splits == 0)
		return -SGT_EINVAL;
	if (s_out_aliases(in, out, num_splits))
		return -SGT_EINVAL;
	if (own.mem && own.mem != in->sgt__sgt->mem)
		return -SGT_EINVAL;
	own.mem = in->sgt__sgt->mem;
	err = sgt__params_resolve(&own, &p);
	if (!err)
		err = s_check_ranges(in->sgt__sgt, skip, num_splits, split_lens);
	if (err)
		return err;
	c.ent = sgt_sg_first(in->sgt__sgt, &c.pos);
	for (k = 0; k < num_splits; k++) {
		err = s_make_piece(&out[k], &p, &c, skip, split_lens[k], actx);
		if (err)
			break;
		skip += split_lens[k];
	}
	if (!err)
		return 0;
	while (k--)
		sgt_table_cleanup(&out[k]);
	return err;
}
