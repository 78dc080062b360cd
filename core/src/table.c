// SPDX-License-Identifier: MIT
/* Handles: lifetime of owned and borrowed tables, and the queries every handle answers. */
#include "internal.h"

/*
 * Where an owning handle's table must be, relative to its CPU view: inside the handle itself. A
 * handle copied by value keeps pointing at the original's table, so its view is elsewhere.
 */
static bool s_owns_its_table(const struct sgt_cpu *t, size_t table_off)
{
	return (uintptr_t)t->sgt__sgt == (uintptr_t)t + table_off;
}

int sgt__cpu_live(const struct sgt_cpu *t)
{
	if (!t)
		return -SGT_EINVAL;
	switch (t->sgt__state) {
	case SGT__STATE_OWNED:
		return s_owns_its_table(t, offsetof(struct sgt_table, sgt__own) -
						   offsetof(struct sgt_table, cpu))
			       ? 0
			       : -SGT_EINVAL;
	case SGT__STATE_MANAGED:
		return s_owns_its_table(t, offsetof(struct sgt_mapping, sgt__owner) +
						   offsetof(struct sgt_table, sgt__own) -
						   offsetof(struct sgt_mapping, dma) -
						   offsetof(struct sgt_dma, cpu))
			       ? 0
			       : -SGT_EINVAL;
	case SGT__STATE_BORROWED:
	case SGT__STATE_BORROWED_MAPPING:
		/* A view: a copy of it is as good as the original, and owns nothing. */
		return t->sgt__sgt ? 0 : -SGT_EINVAL;
	case SGT__STATE_STALE:
		return -SGT_ESTALE;
	default:
		return -SGT_EINVAL;
	}
}

int sgt__params_resolve(const struct sgt_table_params *params, struct sgt__params *out)
{
	const struct sgt_allocator *alloc = params ? params->alloc : NULL;
	const struct sgt_memory *mem = params ? params->mem : NULL;
	uint32_t cap = params ? params->chunk_capacity : 0;

	if (!alloc)
		alloc = sgt_platform_allocator();
	if (!mem)
		mem = sgt_platform_memory();
	if (!alloc || !alloc->alloc || !alloc->free || sgt_memory_check(mem))
		return -SGT_EINVAL;
	if (cap == 0)
		cap = SGT_DEFAULT_CHUNK_CAPACITY;
	if (cap > SGT_CHUNK_CAPACITY_MAX)
		return -SGT_EINVAL;
	out->alloc = *alloc;
	out->mem = mem;
	out->chunk_capacity = cap;
	return 0;
}

void sgt__table_init(struct sgt_table *t, const struct sgt__params *p)
{
	*t = (struct sgt_table){
		.cpu = { .sgt__state = SGT__STATE_OWNED, .sgt__sgt = &t->sgt__own },
		.sgt__own = { .mem = p->mem },
		.sgt__alloc = p->alloc,
		.sgt__chunk_capacity = p->chunk_capacity,
	};
}

void sgt__table_move(struct sgt_table *dst, struct sgt_table *src)
{
	*dst = *src;
	dst->cpu.sgt__state = SGT__STATE_OWNED;
	dst->cpu.sgt__sgt = &dst->sgt__own;
	/* The first chunk's header moves with the handle (resv.c). */
	if (dst->sgt__own.head == &src->sgt__first)
		dst->sgt__own.head = &dst->sgt__first;
	if (dst->sgt__own.tail == &src->sgt__first)
		dst->sgt__own.tail = &dst->sgt__first;
	*src = (struct sgt_table){ .cpu = { .sgt__state = SGT__STATE_STALE } };
}

void sgt__table_release(struct sgt_table *t)
{
	struct sgt_sg_table *sgt = &t->sgt__own;
	const struct sgt_memory *mem = sgt->mem;
	struct sgt_chunk *c = sgt->head;
	uint32_t i;

	while (c) {
		struct sgt_chunk *next = c->next;

		for (i = 0; t->sgt__owns_pages && i < c->num_ents; i++)
			mem->free_pages(mem->ctx, c->ents[i].pfn, t->sgt__page_order);
		sgt__chunk_free(t, c);
		c = next;
	}
	*sgt = (struct sgt_sg_table){ .mem = mem };
}

int sgt_table_init(struct sgt_table *t, const struct sgt_table_params *params)
{
	struct sgt__params p;
	int err;

	if (!t)
		return -SGT_EINVAL;
	err = sgt__params_resolve(params, &p);
	if (err)
		return err;
	sgt__table_init(t, &p);
	return 0;
}

void sgt_table_cleanup(struct sgt_table *t)
{
	/* Not a copy made by value either: only the handle that owns the chunks frees them. */
	if (!t || t->cpu.sgt__state != SGT__STATE_OWNED || sgt__cpu_live(&t->cpu))
		return;
	/* A corrupt chain is leaked rather than walked and freed (where the assertion returns). */
	if (!SGT__CHECK_VALID(&t->sgt__own))
		return;
	sgt__table_release(t);
	t->cpu = (struct sgt_cpu){ .sgt__state = SGT__STATE_STALE };
}

int sgt_borrowed_init(struct sgt_borrowed *b, const struct sgt_sg_table *sgt)
{
	if (!b || sgt_sg_table_check(sgt, NULL))
		return -SGT_EINVAL;
	b->cpu.sgt__sgt = sgt;
	b->cpu.sgt__state = SGT__STATE_BORROWED;
	return 0;
}

void sgt_borrowed_cleanup(struct sgt_borrowed *b)
{
	if (!b || b->cpu.sgt__state != SGT__STATE_BORROWED)
		return;
	b->cpu = (struct sgt_cpu){ .sgt__state = SGT__STATE_STALE };
}

int sgt_cpu_check(const struct sgt_cpu *t)
{
	int err = sgt__cpu_live(t);

	if (err)
		return err;
	return sgt_sg_table_check(t->sgt__sgt, NULL);
}

int sgt_cpu_sg_table(const struct sgt_cpu *t, const struct sgt_sg_table **out_sgt)
{
	int err = sgt__cpu_live(t);

	if (err)
		return err;
	if (!out_sgt)
		return -SGT_EINVAL;
	*out_sgt = t->sgt__sgt;
	return 0;
}

int sgt_cpu_info(const struct sgt_cpu *t, uint32_t *out_num_ents, uint64_t *out_total_len)
{
	int err = sgt__cpu_live(t);

	if (err)
		return err;
	if (out_num_ents)
		*out_num_ents = t->sgt__sgt->num_cpu_ents;
	if (out_total_len)
		*out_total_len = t->sgt__sgt->total_len;
	return 0;
}

int sgt_nents_for_len(const struct sgt_cpu *t, uint64_t len, uint32_t *out_num)
{
	const struct sgt_entry *e;
	struct sgt_pos pos;
	uint64_t covered = 0;
	uint32_t n = 0;
	int err = sgt__cpu_live(t);

	if (err)
		return err;
	if (!out_num || len == 0)
		return -SGT_EINVAL;
	if (len > t->sgt__sgt->total_len)
		return -SGT_ERANGE;
	for (e = sgt_sg_first(t->sgt__sgt, &pos); covered < len; e = sgt_sg_next(&pos)) {
		covered += e->len;
		n++;
	}
	*out_num = n;
	return 0;
}

static uint64_t s_array_pfn(const void *ctx, uint64_t index)
{
	return ((const uint64_t *)ctx)[index];
}

const uint64_t *sgt__pages_array(const struct sgt_pages *pages)
{
	return pages->pfn == s_array_pfn ? (const uint64_t *)pages->ctx : NULL;
}

void sgt_pages_from_array(struct sgt_pages *pages, const uint64_t *pfns, uint64_t num_pages)
{
	if (!pages)
		return;
	pages->num_pages = num_pages;
	pages->pfn = s_array_pfn;
	pages->ctx = pfns;
}
