// SPDX-License-Identifier: MIT
/*
 * SGT_OP_HUGE: tables past 4 GiB, where 32-bit lengths and sums wrap. The harness's arena is
 * 128 KiB, so these tables live in a memory of their own: 16 MiB pages with no bytes behind
 * them (map_page refuses every page), 4 to 16 GiB per table. One operation builds a table, checks
 * its entries against the model, counts entries for a length, tries its bytes (refused: -EFAULT),
 * splits a range past 4 GiB, maps it through an IOMMU device of that memory and checks the DMA
 * segments, then drops it all: nothing of it outlives the step.
 */
#include <stdlib.h>
#include <string.h>

#include "world.h"

#define S_PS (UINT64_C(1) << H_HUGE_SHIFT)
#define S_FIRST_PFN UINT64_C(0x1000) /* 64 GiB up: every address needs more than 32 bits */

static void *s_no_bytes(void *ctx, uint64_t pfn)
{
	(void)ctx;
	(void)pfn;
	return NULL;
}

static uint64_t s_scale(uint64_t total, uint64_t v)
{
	return total / 1000 * (v % 1000); /* a point in [0, total), spread by v */
}

struct h_huge_params h_huge_draw(const struct sgt_op *op)
{
	struct h_huge_params p;

	p.pages = H_HUGE_MIN_PAGES + op->first_page % (H_HUGE_MAX_PAGES - H_HUGE_MIN_PAGES + 1);
	p.runs = op->layout % 2;
	p.offset = (uint32_t)(op->offset * 32749u % S_PS);
	p.size = p.pages * S_PS - p.offset - (op->size == SGT_OP_WHOLE_PAGES ? 0 : op->size);
	p.max_seg = op->chunk_cap % 2 ? UINT32_MAX : UINT32_C(3) << 30;
	p.nents_len = 1 + s_scale(p.size, op->len);
	p.split_skip = s_scale(p.size, op->skip);
	p.split_len = p.size - p.split_skip;
	p.dev_max_seg = op->dir == 0 ? UINT32_MAX : op->dir == 1 ? UINT32_C(1) << 31 : 0;
	p.seed = op->seed;
	return p;
}

static void s_frames(const struct h_huge_params *p, uint64_t *pfns)
{
	uint32_t i;

	pfns[0] = S_FIRST_PFN;
	for (i = 1; i < p->pages; i++)
		pfns[i] = pfns[i - 1] + 1 + (p->runs && h_pattern(p->seed, i) % 64 == 0);
}

/*
 * Byte access to a memory that refuses every page: a copy stops at once with -EFAULT and counts
 * nothing, and a mapping walk ends before its first piece with -EFAULT.
 */
static int s_refused_bytes(struct sgt_harness *h, const struct sgt_cpu *c,
			   const struct h_huge_params *p)
{
	uint8_t buf[16];
	size_t copied = 1;
	struct sgt_miter mi;
	bool any;
	int got = sgt_copy_to_buffer(c, p->split_skip, buf, sizeof(buf), &copied);

	if (got != -SGT_EFAULT || copied)
		return h_fail(h, "copy from refused memory: %s after %zu bytes, want -EFAULT, 0",
			      sgt_errname(got), copied);
	if (sgt_miter_start(&mi, c, p->split_skip))
		return h_fail(h, "mapping iterator refused a huge table");
	any = sgt_miter_next(&mi);
	got = sgt_miter_error(&mi);
	sgt_miter_stop(&mi);
	if (any || got != -SGT_EFAULT)
		return h_fail(h, "mapping walk over refused memory: %s, error %s",
			      any ? "a piece" : "no piece", sgt_errname(got));
	return SGT_H_OK;
}

/*
 * The split piece against the model's slice of the same range. @armed: which of the split's
 * allocations an armed failure hits (1: its first), 0 for none.
 */
static int s_split(struct sgt_harness *h, const struct sgt_cpu *c, const struct m_table *mt,
		   const struct sgt_table_params *tp, const struct h_huge_params *p, uint64_t armed)
{
	struct m_table ms = { 0 };
	struct sgt_table piece;
	uint32_t room = 0;
	int err, want;

	if (!p->split_len)
		return SGT_H_OK;
	if (!m_slice(&ms, mt, p->split_skip, p->split_len, H_HUGE_SHIFT))
		return h_fail(h, "out of memory in the model");
	want = h_reaches_armed(armed, m_chunk_allocs(tp->chunk_capacity, 0, &room, ms.n, false))
		       ? -SGT_ENOMEM
		       : 0;
	err = sgt_split(c, p->split_skip, 1, &p->split_len, tp, &piece, SGT_MAY_SLEEP);
	if (err || want) {
		m_free(&ms);
		if (!err)
			sgt_table_cleanup(&piece);
		return err == want
			       ? SGT_H_OK
			       : h_fail(h, "huge split at %llu returned %s, the model expects %s",
					(unsigned long long)p->split_skip, sgt_errname(err),
					sgt_errname(want));
	}
	err = h_check_entries(h, -1, &piece.cpu, &ms);
	sgt_table_cleanup(&piece);
	m_free(&ms);
	return err;
}

/* Mapped through an IOMMU of the huge memory: the model's segment lengths, the device's limits. */
static int s_map(struct sgt_harness *h, struct sgt_table *t, const struct m_table *mt,
		 const struct sgt_memory *mem, const struct h_huge_params *p)
{
	struct sgt_simiommu_params sp = {
		.mode = SGT_SIMIOMMU_IOMMU,
		.mem = mem,
		.device = { .max_segment_size = p->dev_max_seg },
	};
	uint64_t max = sgt_device_max_segment(&sp.device);
	struct sgt_simiommu *sim = NULL;
	const struct sgt_sg_table *sgt;
	struct sgt_dma_iter it;
	struct sgt_mapping m;
	uint32_t *lens = malloc(mt->n * sizeof(*lens)), n, k;

	int want = 0, err = SGT_H_OK, got;
	const char *why;

	if (!lens || sgt_simiommu_new(&sp, &sim)) {
		free(lens);
		return h_fail(h, "out of memory in the harness");
	}
	for (k = 0; k < mt->n; k++)
		want = mt->e[k].len > max ? -SGT_EINVAL : want;
	n = m_iommu_segments(mt, H_HUGE_SHIFT, max, UINT64_MAX, lens);
	got = sgt_table_map(t, sgt_simiommu_device(sim), SGT_DMA_BIDIRECTIONAL, 0, &m,
			    SGT_MAY_SLEEP);
	if (got || want) {
		if (!got)
			sgt_mapping_cleanup(&m);
		else
			sgt_table_cleanup(t);
		/* The device allocates with its own allocator: an armed failure is not its. */
		err = got == want ? SGT_H_OK
				  : h_fail(h, "huge map returned %s, the model expects %s",
					   sgt_errname(got), sgt_errname(want));
		goto out;
	}
	why = sgt_cpu_sg_table(&m.dma.cpu, &sgt) ? "no raw table"
						 : h_segments_break(sgt, &sp.device);
	if (why)
		err = h_fail(h, "huge mapping: %s", why);
	else if (sgt->num_dma_ents != n)
		err = h_fail(h, "huge mapping: %u DMA segments, model %u", sgt->num_dma_ents, n);
	if (!err && sgt_dma_iter_init(&it, &m.dma))
		err = h_fail(h, "huge mapping: DMA iterator refused");
	while (!err && sgt_dma_iter_next(&it)) {
		if (it.dma_len != lens[it.index])
			err = h_fail(h, "huge DMA segment %u is %u bytes, model %u", it.index,
				     it.dma_len, lens[it.index]);
	}
	sgt_mapping_cleanup(&m);
out:
	if (sgt_simiommu_free(sim) && !err)
		err = h_fail(h, "huge mapping left behind on its device");
	free(lens);
	return err;
}

int h_huge(struct sgt_harness *h, const struct sgt_op *op)
{
	const struct sgt_memory mem = { .page_shift = H_HUGE_SHIFT, .map_page = s_no_bytes };
	const struct h_huge_params p = h_huge_draw(op);
	struct sgt_table_params tp = { .alloc = &h->alloc.alloc, .mem = &mem };
	uint64_t live = sgt_test_alloc_live(&h->alloc), pfns[H_HUGE_MAX_PAGES];
	struct m_table mt = { 0 };
	struct sgt_pages pages;
	struct sgt_table t;
	uint64_t armed = h_armed_nth(h), allocs;
	uint32_t num = 0, room = 0;
	int want, got, err;

	s_frames(&p, pfns);
	sgt_pages_from_array(&pages, pfns, p.pages);
	want = m_append(&mt, pfns, p.pages, p.offset, p.size, p.max_seg, H_HUGE_SHIFT);
	allocs = want ? 0 : m_chunk_allocs(tp.chunk_capacity, 0, &room, mt.n, false);
	if (h_reaches_armed(armed, allocs))
		want = -SGT_ENOMEM;
	got = sgt_table_init_from_pages(&t, &tp, &pages, p.offset, p.size, p.max_seg,
					SGT_MAY_SLEEP);
	if (got || want) {
		m_free(&mt);
		return got == want ? SGT_H_OK
				   : h_fail(h, "huge from_pages returned %s, the model expects %s",
					    sgt_errname(got), sgt_errname(want));
	}
	err = h_check_entries(h, -1, &t.cpu, &mt);
	if (!err && (sgt_nents_for_len(&t.cpu, p.nents_len, &num) ||
		     num != m_entries_for(&mt, p.nents_len)))
		err = h_fail(h, "huge nents_for_len(%llu) is %u, model %u",
			     (unsigned long long)p.nents_len, num, m_entries_for(&mt, p.nents_len));
	if (!err)
		err = s_refused_bytes(h, &t.cpu, &p);
	if (!err)
		err = s_split(h, &t.cpu, &mt, &tp, &p, armed > allocs ? armed - allocs : 0);
	if (!err)
		err = s_map(h, &t, &mt, &mem, &p); /* consumes the table */
	else
		sgt_table_cleanup(&t);
	m_free(&mt);
	if (!err && sgt_test_alloc_live(&h->alloc) != live)
		err = h_fail(h, "a huge table left %lld allocations behind",
			     (long long)(sgt_test_alloc_live(&h->alloc) - live));
	return err;
}
