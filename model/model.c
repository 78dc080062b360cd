// SPDX-License-Identifier: MIT
/* The reference model. See model.h: every function here is a direct reading of a documented rule.
 */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "sgt/error.h"
#include "sgt/table.h"

void m_free(struct m_table *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

bool m_push(struct m_table *t, uint64_t pfn, uint32_t off, uint32_t len)
{
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? 2 * t->cap : 8;
		struct m_ent *e = realloc(t->e, cap * sizeof(*e));

		if (!e)
			return false;
		t->e = e;
		t->cap = cap;
	}
	t->e[t->n++] = (struct m_ent){ pfn, off, len };
	t->total += len;
	return true;
}

bool m_copy(struct m_table *dst, const struct m_table *src)
{
	uint32_t i;

	memset(dst, 0, sizeof(*dst));
	for (i = 0; i < src->n; i++) {
		if (!m_push(dst, src->e[i].pfn, src->e[i].off, src->e[i].len)) {
			m_free(dst);
			return false;
		}
	}
	return true;
}

bool m_equal(const struct m_table *a, const struct m_table *b)
{
	return a->n == b->n && a->total == b->total &&
	       (a->n == 0 || memcmp(a->e, b->e, a->n * sizeof(*a->e)) == 0);
}

/* Pages an entry spans, counted from its first frame. */
static uint64_t s_pages(const struct m_ent *e, unsigned int shift)
{
	uint64_t ps = UINT64_C(1) << shift;

	return (e->off + (uint64_t)e->len + ps - 1) / ps;
}

int m_append(struct m_table *t, const uint64_t *pfns, uint64_t num_pages, uint32_t offset,
	     uint64_t size, uint32_t max_segment, unsigned int shift)
{
	uint64_t ps = UINT64_C(1) << shift, max_seg = max_segment / ps * ps;
	uint64_t needed, i, remaining = size;
	bool merging, in_new = false;

	if (num_pages == 0 || size == 0 || offset >= ps || max_segment < ps)
		return -SGT_EINVAL;
	needed = (offset + size + ps - 1) / ps;
	if (needed > num_pages)
		return -SGT_ERANGE;
	/* Merging into the existing last entry is possible only at the very start. */
	merging = t->n > 0 && offset == 0 &&
		  (t->e[t->n - 1].off + (uint64_t)t->e[t->n - 1].len) % ps == 0;
	for (i = 0; i < needed; i++) {
		uint32_t off = i == 0 ? offset : 0;
		uint64_t take = ps - off < remaining ? ps - off : remaining;
		struct m_ent *last = t->n ? &t->e[t->n - 1] : NULL;

		if (merging) {
			uint64_t next = last->pfn + (last->off + (uint64_t)last->len) / ps;

			/* The merge rule: the next frame, and the entry plus one page within
			 * max_seg. */
			if (pfns[i] == next && last->len + ps <= max_seg) {
				last->len += (uint32_t)take;
				t->total += take;
				remaining -= take;
				continue;
			}
			merging = false;
		}
		/* New entries: a run of consecutive frames of at most max_seg / ps pages. */
		if (in_new && pfns[i] == last->pfn + s_pages(last, shift) &&
		    s_pages(last, shift) < max_seg / ps) {
			last->len += (uint32_t)take;
			t->total += take;
		} else if (!m_push(t, pfns[i], off, (uint32_t)take)) {
			return -SGT_ENOMEM;
		}
		in_new = true;
		remaining -= take;
	}
	return 0;
}

uint64_t m_byte_addr(const struct m_table *t, uint64_t i, unsigned int shift)
{
	uint32_t k;

	for (k = 0; k < t->n && i >= t->e[k].len; k++)
		i -= t->e[k].len;
	return (t->e[k].pfn << shift) + t->e[k].off + i;
}

uint64_t m_byte_run(const struct m_table *t, uint64_t i, unsigned int shift, uint64_t *out_addr)
{
	uint32_t k;

	for (k = 0; k < t->n && i >= t->e[k].len; k++)
		i -= t->e[k].len;
	if (k == t->n)
		return 0;
	*out_addr = (t->e[k].pfn << shift) + t->e[k].off + i;
	return t->e[k].len - i;
}

uint32_t m_entries_for(const struct m_table *t, uint64_t len)
{
	uint64_t sum = 0;
	uint32_t k = 0;

	while (k < t->n && sum < len)
		sum += t->e[k++].len;
	return k;
}

bool m_slice(struct m_table *dst, const struct m_table *src, uint64_t skip, uint64_t len,
	     unsigned int shift)
{
	uint64_t start = 0, ps = UINT64_C(1) << shift;
	uint32_t k;

	memset(dst, 0, sizeof(*dst));
	for (k = 0; k < src->n; start += src->e[k].len, k++) {
		uint64_t from = skip > start ? skip - start : 0;
		uint64_t end = skip + len - start;
		uint64_t to = end < src->e[k].len ? end : src->e[k].len;
		uint64_t abs;

		if (start + src->e[k].len <= skip || start >= skip + len)
			continue;
		abs = src->e[k].off + from;
		if (!m_push(dst, src->e[k].pfn + abs / ps, (uint32_t)(abs % ps),
			    (uint32_t)(to - from))) {
			m_free(dst);
			return false;
		}
	}
	return true;
}

uint32_t m_iommu_segments(const struct m_table *t, unsigned int shift, uint64_t max_seg,
			  uint64_t boundary_mask, uint32_t *out_lens)
{
	uint64_t ps = UINT64_C(1) << shift, window = boundary_mask + 1, iova = 0;
	uint64_t prev_end = 0, seg_len = 0;
	uint32_t k, n = 0;

	for (k = 0; k < t->n; k++) {
		const struct m_ent *e = &t->e[k];
		uint64_t span = (e->off + (uint64_t)e->len + ps - 1) / ps * ps, start;

		/* Would this span run across a boundary? Then it starts at the next one. */
		if (window && iova / window != (iova + span - 1) / window)
			iova = (iova / window + 1) * window;
		start = iova + e->off;
		if (n && start == prev_end && !(window && iova % window == 0) &&
		    seg_len + e->len <= max_seg) {
			seg_len += e->len;
		} else {
			n++;
			seg_len = e->len;
		}
		out_lens[n - 1] = (uint32_t)seg_len;
		prev_end = start + e->len;
		iova += span;
	}
	return n;
}

uint64_t m_chunk_allocs(uint32_t cap, uint64_t have, uint32_t *tail_room, uint64_t add,
			bool appends)
{
	uint64_t from_tail = add < *tail_room ? add : *tail_room, need = add - from_tail;
	uint64_t allocs = 0;

	*tail_room -= (uint32_t)from_tail;
	if (!cap)
		cap = SGT_DEFAULT_CHUNK_CAPACITY;
	while (need) {
		/* The first chunk of a table without entries holds one more. */
		uint64_t room = cap + (have == 0 && allocs == 0);
		uint64_t want = appends && have > need ? have : need;
		uint64_t slots = want < room ? want : room;
		uint64_t put = slots < need ? slots : need;

		need -= put;
		allocs++;
		*tail_room = (uint32_t)(slots - put);
	}
	return allocs;
}
