// SPDX-License-Identifier: MIT
/* CPU-side iterators: entries, pages, and byte access through the memory domain. */
#include "internal.h"

int sgt_ent_iter_init(struct sgt_ent_iter *it, const struct sgt_cpu *t)
{
	int err = sgt__cpu_live(t);

	if (err)
		return err;
	if (!it)
		return -SGT_EINVAL;
	*it = (struct sgt_ent_iter){ .sgt__sgt = t->sgt__sgt };
	return 0;
}

/* The first step, steps into the next chunk, and the end (sgt_ent_iter_next() is inline). */
bool sgt__ent_iter_step(struct sgt_ent_iter *it)
{
	if (!it)
		return false;
	if (!it->sgt__started) {
		it->sgt__started = true;
		it->ent = sgt_sg_first(it->sgt__sgt, &it->sgt__pos);
		it->index = 0;
	} else if (it->ent) {
		/* The inline steps moved @ent along the chunk without the position. */
		it->sgt__pos.index = (uint32_t)(it->ent - it->sgt__pos.chunk->ents);
		it->ent = sgt_sg_next(&it->sgt__pos);
		it->index++;
	}
	it->sgt__chunk_end =
		it->ent ? &it->sgt__pos.chunk->ents[it->sgt__pos.chunk->num_ents] : NULL;
	return it->ent != NULL;
}

int sgt_page_iter_init(struct sgt_page_iter *it, const struct sgt_cpu *t, uint64_t start_page)
{
	unsigned int shift;
	uint64_t n;
	int err = sgt__cpu_live(t);

	if (err)
		return err;
	if (!it)
		return -SGT_EINVAL;
	/* No domain yet (SGT_TABLE_INIT) means no entries: any shift walks nothing. */
	shift = t->sgt__sgt->mem ? t->sgt__sgt->mem->page_shift : SGT_PAGE_SHIFT_MIN;
	*it = (struct sgt_page_iter){ .sgt__shift = shift };
	it->sgt__ent = sgt_sg_first(t->sgt__sgt, &it->sgt__pos);
	/* Skip whole entries first, so a large start_page costs O(entries), not O(pages). */
	while (it->sgt__ent && start_page >= (n = sgt__ent_page_count(it->sgt__ent, shift))) {
		start_page -= n;
		it->sgt__next_page_index += n;
		it->sgt__ent = sgt_sg_next(&it->sgt__pos);
		it->sgt__ent_index++;
	}
	it->sgt__page_in_ent = start_page;
	it->sgt__next_page_index += it->sgt__ent ? start_page : 0;
	it->sgt__ent_pages = it->sgt__ent ? sgt__ent_page_count(it->sgt__ent, shift) : 0;
	return 0;
}

/*
 * The steps sgt_page_iter_next() leaves out of line: into the next chunk (skipping entries, as
 * from a start page), and the end. It only moves to the entry that has the next page; the
 * inline step then yields that page, so the page's fields are worked out in one place.
 */
bool sgt__page_iter_step(struct sgt_page_iter *it)
{
	const struct sgt_entry *e;

	if (!it)
		return false;
	e = it->sgt__ent;
	while (e && it->sgt__page_in_ent >= sgt__ent_page_count(e, it->sgt__shift)) {
		e = it->sgt__ent = sgt_sg_next(&it->sgt__pos);
		it->sgt__ent_index++;
		it->sgt__page_in_ent = 0;
	}
	if (!e)
		return false;
	/* page_in_ent < ent_pages now, so the inline step yields the page and does not return here
	 */
	it->sgt__ent_pages = sgt__ent_page_count(e, it->sgt__shift);
	return sgt_page_iter_next(it);
}

int sgt_miter_start(struct sgt_miter *m, const struct sgt_cpu *t, uint64_t skip)
{
	const struct sgt_entry *e;
	struct sgt_pos pos;
	int err = sgt__cpu_live(t);

	if (err)
		return err;
	if (!m)
		return -SGT_EINVAL;
	for (e = sgt_sg_first(t->sgt__sgt, &pos); e && skip >= e->len; e = sgt_sg_next(&pos))
		skip -= e->len;
	*m = (struct sgt_miter){
		.sgt__sgt = t->sgt__sgt,
		.sgt__pos = pos,
		.sgt__ent = e,
		.sgt__ent_off = e ? skip : 0,
	};
	return 0;
}

static void s_miter_unmap(struct sgt_miter *m)
{
	const struct sgt_memory *mem = m->sgt__sgt->mem;

	if (m->sgt__mapped && mem->unmap_page)
		mem->unmap_page(mem->ctx, m->sgt__mapped_pfn, m->sgt__mapped);
	m->sgt__mapped = NULL;
	m->addr = NULL;
	m->len = 0;
}

bool sgt_miter_next(struct sgt_miter *m)
{
	const struct sgt_memory *mem;
	uint64_t ps, abs, pg_off;

	if (!m || !m->sgt__sgt)
		return false;
	mem = m->sgt__sgt->mem;
	if (!mem) /* an empty table from SGT_TABLE_INIT(): nothing to map */
		return false;
	ps = sgt_memory_page_size(mem);
	m->sgt__ent_off += SGT__MIN(m->consumed, m->len);
	m->consumed = 0;
	s_miter_unmap(m);
	if (m->sgt__err)
		return false;
	while (m->sgt__ent && m->sgt__ent_off >= m->sgt__ent->len) {
		m->sgt__ent = sgt_sg_next(&m->sgt__pos);
		m->sgt__ent_off = 0;
	}
	if (!m->sgt__ent)
		return false;
	abs = m->sgt__ent->offset + m->sgt__ent_off;
	pg_off = abs & (ps - 1);
	m->sgt__mapped_pfn = m->sgt__ent->pfn + (abs >> mem->page_shift);
	m->sgt__mapped = mem->map_page(mem->ctx, m->sgt__mapped_pfn);
	if (!m->sgt__mapped) {
		m->sgt__err = -SGT_EFAULT;
		return false;
	}
	m->addr = (char *)m->sgt__mapped + pg_off;
	m->len = (size_t)SGT__MIN(m->sgt__ent->len - m->sgt__ent_off, ps - pg_off);
	m->consumed = m->len;
	return true;
}

void sgt_miter_stop(struct sgt_miter *m)
{
	if (!m)
		return;
	s_miter_unmap(m);
	m->sgt__ent = NULL;
}

int sgt_miter_error(const struct sgt_miter *m)
{
	return m ? m->sgt__err : -SGT_EINVAL;
}
