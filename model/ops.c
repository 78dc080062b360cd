// SPDX-License-Identifier: MIT
/*
 * The operations: for each, its precondition (SGT_H_SKIPPED when it does not hold), what the
 * model predicts, the call into the library, and the comparison. The whole-world checks run
 * afterwards in sgt_harness_apply().
 */
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sgt_record.h"
#include "world.h"

#define SKIP SGT_H_SKIPPED

static const char *const s_dev_names[SGT_H_DEVS] = { "iommu", "direct", "bounce" };
static const char *const s_dir_names[3] = { "bidirectional", "to-device", "from-device" };

/* ---- normalising and describing ---- */

static bool s_is_max_seg(uint32_t v)
{
	size_t i;

	for (i = 0; i < SGT_OP_NUM_MAX_SEGS; i++) {
		if (sgt_op_max_segs[i] == v)
			return true;
	}
	return false;
}

void sgt_op_normalise(struct sgt_op *op)
{
	uint64_t cap;

	op->kind %= SGT_OP_NUM_KINDS;
	op->slot %= SGT_H_SLOTS;
	op->slot2 %= SGT_H_SLOTS;
	op->dev %= SGT_H_DEVS;
	op->dir %= 3;
	op->variant %= SGT_MISUSE_NUM;
	op->layout %= SGT_LAYOUT_NUM;
	op->chunk_cap %= 5;
	/* Idempotent, so that an operation describes the same after it ran as before. */
	if (op->num_pages == 0 || op->num_pages > H_MAX_RUN)
		op->num_pages = (uint16_t)(1 + op->num_pages % H_MAX_RUN);
	op->first_page = (uint16_t)(op->first_page % (H_RAW_FIRST - 2 * H_MAX_RUN));
	op->offset %= H_PS;
	if (!s_is_max_seg(op->max_seg))
		op->max_seg = sgt_op_max_segs[op->max_seg % SGT_OP_NUM_MAX_SEGS];
	switch (op->kind) {
	case SGT_OP_FROM_PAGES:
	case SGT_OP_APPEND:
		/* 0 and one byte too many are in range on purpose: -EINVAL and -ERANGE. */
		cap = op->num_pages * H_PS - op->offset;
		op->size = op->size == SGT_OP_WHOLE_PAGES ? cap : op->size % (cap + 2);
		break;
	case SGT_OP_ALLOC_ORDER:
		op->n %= 3;
		op->size %= 8 * H_PS;
		break;
	case SGT_OP_SPLIT:
		if (op->n == 0 || op->n > 3)
			op->n = 1 + op->n % 3;
		break;
	case SGT_OP_FAIL_ALLOC:
		if (op->n == 0 || op->n > 8)
			op->n = 1 + op->n % 8;
		break;
	case SGT_OP_BAD_CALL:
		op->n %= SGT_BAD_NUM;
		break;

	default:
		break;
	}
	op->skip %= 24 * H_PS;
	op->len %= 24 * H_PS;
}

static const char *s_layout_name(uint8_t l)
{
	static const char *const names[] = { "contiguous", "reversed", "scattered", "random",
					     "continuing" };

	return names[l % SGT_LAYOUT_NUM];
}

void sgt_op_describe(const struct sgt_op *op, char *buf, size_t len)
{
	struct sgt_op o = *op;
	int k;

	sgt_op_normalise(&o);
	k = o.kind;
	switch (k) {
	case SGT_OP_FROM_PAGES:
	case SGT_OP_APPEND:
		snprintf(buf, len,
			 "%s slot %u: %u %s pages from frame +%u (seed %u), offset %u, size %llu, "
			 "max_segment %u, chunk capacity %u",
			 k == SGT_OP_APPEND ? "append to" : "from_pages into", o.slot, o.num_pages,
			 s_layout_name(o.layout), o.first_page, o.seed, o.offset,
			 (unsigned long long)o.size, o.max_seg, o.chunk_cap);
		break;
	case SGT_OP_ALLOC_ORDER:
		snprintf(buf, len, "alloc_order into slot %u: %llu bytes, order %u", o.slot,
			 (unsigned long long)o.size, o.n);
		break;
	case SGT_OP_SPLIT:
		snprintf(buf, len, "split slot %u into %u tables from slot %u: skip %llu, seed %u",
			 o.slot, o.n, o.slot2, (unsigned long long)o.skip, o.seed);
		break;
	case SGT_OP_BORROW:
		snprintf(buf, len, "borrow slot %u's table as slot %u", o.slot, o.slot2);
		break;
	case SGT_OP_MAP:
		snprintf(buf, len, "map slot %u on %s, %s", o.slot, s_dev_names[o.dev],
			 s_dir_names[o.dir]);
		break;
	case SGT_OP_WRAP_MAPPED:
		snprintf(buf, len, "wrap slot %u's mapping as borrowed mapping slot %u", o.slot,
			 o.slot2);
		break;
	case SGT_OP_RAW_MAP:
		snprintf(buf, len, "raw map of the driver's table on %s, %s", s_dev_names[o.dev],
			 s_dir_names[o.dir]);
		break;
	case SGT_OP_RAW_MISUSE:
		snprintf(buf, len, "raw misuse %u on %s", o.variant, s_dev_names[o.dev]);
		break;
	case SGT_OP_FAIL_ALLOC:
		snprintf(buf, len, "fail allocation %u of the next operation", o.n);
		break;
	case SGT_OP_FAIL_MAP:
		snprintf(buf, len, "fail the next map on %s", s_dev_names[o.dev]);
		break;
	case SGT_OP_HUGE: {
		struct h_huge_params hp = h_huge_draw(&o);

		snprintf(buf, len,
			 "huge table: %u pages of 16 MiB (%s), offset %u, size %llu, max_segment "
			 "%u; nents_for_len %llu; split at %llu; map with max segment %u",
			 hp.pages, hp.runs ? "runs" : "contiguous", hp.offset,
			 (unsigned long long)hp.size, hp.max_seg, (unsigned long long)hp.nents_len,
			 (unsigned long long)hp.split_skip, hp.dev_max_seg);
		break;
	}
	case SGT_OP_BAD_CALL:
		snprintf(buf, len, "bad call %u (slot %u, %s, len %llu, seed %u)", o.n, o.slot,
			 s_dev_names[o.dev], (unsigned long long)o.len, o.seed);
		break;
	default: {
		static const char *const names[] = {
			[SGT_OP_UNMAP] = "unmap",
			[SGT_OP_ITERATE] = "iterate",
			[SGT_OP_COPY_TO] = "copy_to",
			[SGT_OP_COPY_FROM] = "copy_from",
			[SGT_OP_ZERO] = "zero",
			[SGT_OP_DEV_WRITE] = "device write",
			[SGT_OP_DEV_READ] = "device read",
			[SGT_OP_SYNC_CPU] = "sync for cpu",
			[SGT_OP_SYNC_DEV] = "sync for device",
			[SGT_OP_DROP] = "drop",
			[SGT_OP_STALE_USE] = "use the stale handle of",
			[SGT_OP_RAW_UNMAP] = "raw unmap",
		};
		snprintf(buf, len, "%s slot %u (skip %llu, len %llu, seed %u)", names[k], o.slot,
			 (unsigned long long)o.skip, (unsigned long long)o.len, o.seed);
		break;
	}
	}
}

/* ---- helpers ---- */

/* @cont: for SGT_LAYOUT_CONTINUE, the table the pages continue (NULL: contiguous). */
static void s_pfns(const struct sgt_harness *h, const struct sgt_op *op, const struct m_table *cont,
		   uint64_t *out)
{
	uint32_t x = op->seed | 1u, i;
	uint64_t next = 0;

	if (op->layout == SGT_LAYOUT_CONTINUE && cont && cont->n) {
		const struct m_ent *e = &cont->e[cont->n - 1];

		next = e->pfn + (e->off + (uint64_t)e->len + H_PS - 1) / H_PS;
		if (next + op->num_pages > h->base + H_RAW_FIRST)
			next = 0; /* would reach the raw table's frames */
	}
	for (i = 0; i < op->num_pages; i++) {
		switch (op->layout) {
		case SGT_LAYOUT_CONTINUE:
			out[i] = next ? next + i : h->base + op->first_page + i;
			break;
		case SGT_LAYOUT_CONTIGUOUS:
			out[i] = h->base + op->first_page + i;
			break;
		case SGT_LAYOUT_REVERSED:
			out[i] = h->base + op->first_page + (op->num_pages - 1 - i);
			break;
		case SGT_LAYOUT_SCATTERED:
			out[i] = h->base + op->first_page + 2 * i;
			break;
		default:
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			out[i] = h->base + x % H_RAW_FIRST;
			break;
		}
	}
}

static void s_set_model(struct h_slot *s, struct m_table *nt)
{
	m_free(&s->mt);
	s->mt = *nt;
	memset(nt, 0, sizeof(*nt));
}

static int s_expect(struct sgt_harness *h, const char *what, int got, int want)
{
	if (got == want)
		return SGT_H_OK;
	return h_fail(h, "%s returned %s, the model expects %s", what, sgt_errname(got),
		      sgt_errname(want));
}

/* ---- construction ---- */

/*
 * A pages provider that is not sgt_pages_from_array()'s: the library reads array providers
 * inline and calls every other one page by page, so the harness hands it both kinds.
 */
static uint64_t s_callback_pfn(const void *ctx, uint64_t index)
{
	return ((const uint64_t *)ctx)[index];
}

static void s_pages(struct sgt_pages *pages, const struct sgt_op *op, const uint64_t *pfns)
{
	sgt_pages_from_array(pages, pfns, op->num_pages);
	/* Both kinds for every layout: the choice depends on two independent fields. */
	if ((op->size ^ op->num_pages) & 1)
		pages->pfn = s_callback_pfn;
}

static int s_build(struct sgt_harness *h, const struct sgt_op *op, bool append)
{
	struct h_slot *s = &h->s[op->slot];
	struct sgt_table_params p = h->params;
	struct m_table nt = { 0 };
	uint64_t pfns[H_MAX_RUN] = { 0 }, have;
	struct sgt_pages pages;
	uint32_t cap, room;
	int want, got;

	if (append ? (s->kind != H_OWNED || s->users || s->owns_pages) : s->kind != H_EMPTY)
		return SKIP;
	s_pfns(h, op, append ? &s->mt : NULL, pfns);
	s_pages(&pages, op, pfns);
	if (append && !m_copy(&nt, &s->mt))
		return h_fail(h, "out of memory in the model");
	want = m_append(&nt, pfns, op->num_pages, op->offset, op->size, op->max_seg, H_SHIFT);
	cap = append ? s->chunk_cap : op->chunk_cap;
	room = append ? s->tail_room : 0;
	have = append ? s->mt.n : 0;
	/* An armed allocation failure that the growth reaches: the table stays as it was. */
	if (!want &&
	    h_reaches_armed(h_armed_nth(h), m_chunk_allocs(cap, have, &room, nt.n - have, append)))
		want = -SGT_ENOMEM;
	p.chunk_capacity = op->chunk_cap;
	got = append ? sgt_table_append_pages(s->t, &pages, op->offset, op->size, op->max_seg,
					      SGT_MAY_SLEEP)
		     : sgt_table_init_from_pages(s->t, &p, &pages, op->offset, op->size,
						 op->max_seg, SGT_MAY_SLEEP);
	if (got || want) {
		m_free(&nt);
		return s_expect(h, append ? "append" : "from_pages", got, want);
	}
	s->chunk_cap = cap;
	s->tail_room = room;
	s_set_model(s, &nt);
	s->kind = H_OWNED;
	s->owns_pages = false;
	if (s->stale == H_STALE_TABLE)
		s->stale = H_STALE_NONE;
	return SGT_H_OK;
}

/* First-fit blocks of 2^order pages free in the arena, as the test memory hands them out. */
static uint64_t s_free_blocks(const struct sgt_harness *h, unsigned int order)
{
	uint64_t n = UINT64_C(1) << order, i, j, count = 0;

	for (i = 0; i + n <= H_PAGES; i += n) {
		for (j = 0; j < n && !h->mem.page_used[i + j]; j++)
			;
		count += j == n;
	}
	return count;
}

static int s_alloc_order(struct sgt_harness *h, const struct sgt_op *op)
{
	struct h_slot *s = &h->s[op->slot];
	uint64_t block = H_PS << op->n, blocks, k, b;
	struct m_table nt = { 0 };
	struct sgt_ent_iter it;
	uint32_t room = 0;
	int want = 0, got;

	if (s->kind != H_EMPTY)
		return SKIP;
	blocks = op->size ? (op->size + block - 1) / block : 0;
	if (op->size == 0)
		want = -SGT_EINVAL;
	else if (s_free_blocks(h, op->n) < blocks ||
		 h_reaches_armed(h_armed_nth(h),
				 m_chunk_allocs(h->params.chunk_capacity, 0, &room, blocks, false)))
		want = -SGT_ENOMEM;
	got = sgt_table_init_alloc_order(s->t, &h->params, op->size, op->n, SGT_MAY_SLEEP);
	if (got || want)
		return s_expect(h, "alloc_order", got, want);
	if (sgt_ent_iter_init(&it, &s->t->cpu))
		return h_fail(h, "alloc_order: entry iterator refused");
	for (k = 0; sgt_ent_iter_next(&it); k++) {
		uint64_t want_len = k + 1 < blocks ? block : op->size - k * block;

		if (it.ent->offset || it.ent->len != want_len ||
		    (it.ent->pfn - h->base) % (block / H_PS))
			return h_fail(h,
				      "alloc_order entry %llu: pfn %#llx len %u, model wants an "
				      "aligned block of %llu bytes",
				      (unsigned long long)k, (unsigned long long)it.ent->pfn,
				      it.ent->len, (unsigned long long)want_len);
		if (!m_push(&nt, it.ent->pfn, 0, it.ent->len))
			return h_fail(h, "out of memory in the model");
		for (b = 0; b < block; b++) /* fresh pages are zeroed */
			h_shadow_write(h, (it.ent->pfn << H_SHIFT) + b, 0);
	}
	if (k != blocks)
		return h_fail(h, "alloc_order made %llu entries, model %llu", (unsigned long long)k,
			      (unsigned long long)blocks);
	s_set_model(s, &nt);
	s->chunk_cap = h->params.chunk_capacity;
	s->tail_room = room;
	s->kind = H_OWNED;
	s->owns_pages = true;
	if (s->stale == H_STALE_TABLE)
		s->stale = H_STALE_NONE;
	return SGT_H_OK;
}

static int s_split(struct sgt_harness *h, const struct sgt_op *op)
{
	struct h_slot *s = &h->s[op->slot];
	uint64_t lens[3], total = s->mt.total, skip, end, allocs = 0;
	struct m_table nt[3] = { { 0 } };
	uint32_t room[3] = { 0 };
	int want = 0, got;
	uint32_t k;

	if (s->kind == H_EMPTY || s->owns_pages || total == 0 || op->slot2 + op->n > SGT_H_SLOTS)
		return SKIP;
	for (k = 0; k < op->n; k++) {
		if (h->s[op->slot2 + k].kind != H_EMPTY || op->slot2 + k == op->slot)
			return SKIP;
	}
	skip = op->skip % total;
	end = skip;
	for (k = 0; k < op->n; k++) {
		lens[k] = 1 + h_pattern(op->seed, k) * 37u % (total - skip);
		end += lens[k];
	}
	if (end > total)
		want = -SGT_ERANGE;
	/* The pieces, made one after another, each allocating its own chunks. */
	for (k = 0, end = skip; !want && k < op->n; end += lens[k], k++) {
		if (!m_slice(&nt[k], &s->mt, end, lens[k], H_SHIFT))
			return h_fail(h, "out of memory in the model");
		allocs += m_chunk_allocs(h->params.chunk_capacity, 0, &room[k], nt[k].n, false);
	}
	if (!want && h_reaches_armed(h_armed_nth(h), allocs))
		want = -SGT_ENOMEM;
	got = sgt_split(h_cpu(s), skip, op->n, lens, &h->params, &h->tables[op->slot2],
			SGT_MAY_SLEEP);
	if (got || want) {
		for (k = 0; k < op->n; k++)
			m_free(&nt[k]);
		return s_expect(h, "split", got, want);
	}
	for (k = 0; k < op->n; k++) {
		struct h_slot *o = &h->s[op->slot2 + k];

		s_set_model(o, &nt[k]);
		o->chunk_cap = h->params.chunk_capacity;
		o->tail_room = room[k];
		o->kind = H_OWNED;
		o->owns_pages = false;
		if (o->stale == H_STALE_TABLE)
			o->stale = H_STALE_NONE;
	}
	return SGT_H_OK;
}

static int s_borrow(struct sgt_harness *h, const struct sgt_op *op, bool mapped)
{
	struct h_slot *s = &h->s[op->slot], *v = &h->s[op->slot2];
	const struct sgt_sg_table *raw;
	int got;

	if (v->kind != H_EMPTY || op->slot == op->slot2 ||
	    (mapped ? s->kind != H_MAPPED : s->kind != H_OWNED))
		return SKIP;
	if (sgt_cpu_sg_table(h_cpu(s), &raw))
		return h_fail(h, "no raw table behind slot %u", op->slot);
	got = mapped ? sgt_borrowed_mapping_init(&v->bm, raw, h_device(h, s->dev),
						 (enum sgt_dma_dir)s->dir)
		     : sgt_borrowed_init(&v->b, raw);
	if (got)
		return s_expect(h, mapped ? "wrap_mapped" : "borrow", got, 0);
	if (!m_copy(&v->mt, &s->mt))
		return h_fail(h, "out of memory in the model");
	v->kind = mapped ? H_BMAPPED : H_BORROWED;
	v->src = op->slot;
	s->users++;
	if (v->stale == (mapped ? H_STALE_BMAPPING : H_STALE_BORROWED))
		v->stale = H_STALE_NONE;
	return SGT_H_OK;
}

/* ---- mapping ---- */

/*
 * What the simulated device makes of a table: an injected failure first, then -EINVAL for an
 * entry it cannot lay out within its constraints (too long, or its span across the boundary).
 * The device refuses those itself, so no debug report is filed.
 */
static uint32_t *s_model_segments(struct sgt_harness *h, int dev, const struct m_table *mt,
				  uint32_t *out_n);

/*
 * What the model expects of a map: @err, and whether the device finds it only after it has
 * allocated the IOVA range (an IOMMU mapping of more merged segments than the device takes).
 */
struct s_map_prediction {
	int err;
	bool after_iova;
};

static int s_predict_refusal(struct sgt_harness *h, int dev, const struct m_table *mt)
{
	const struct sgt_device_params *p = &h->dp[dev];
	uint64_t max_seg = p->max_segment_size ? p->max_segment_size : SGT_DMA_DEFAULT_MAX_SEGMENT;
	uint64_t b = p->seg_boundary_mask ? p->seg_boundary_mask : UINT64_MAX;
	uint32_t k;

	uint64_t mask = p->dma_mask ? p->dma_mask : UINT64_MAX;

	/* Without merging, every entry is a segment: too many are refused before anything else,
	 * even before an injected failure, which then stays armed for the next map. */
	if (dev != SGT_SIMIOMMU_IOMMU && p->max_segments && mt->n > p->max_segments)
		return -SGT_EINVAL;
	if (h->fail_map_pending[dev]) {
		h->fail_map_pending[dev] = false;
		return -SGT_ENOMEM;
	}
	for (k = 0; k < mt->n; k++) {
		const struct m_ent *e = &mt->e[k];
		uint64_t start = 0, span, slot = 1;

		/* A device without an IOMMU cannot reach memory above its mask. */
		if (dev == SGT_SIMIOMMU_DIRECT &&
		    (e->pfn << H_SHIFT) + e->off + (uint64_t)e->len - 1 > mask)
			return -SGT_ERANGE;
		if (e->len > max_seg)
			return -SGT_EINVAL;
		if (dev == SGT_SIMIOMMU_IOMMU) {
			span = (e->off + (uint64_t)e->len + H_PS - 1) / H_PS * H_PS;
		} else if (dev == SGT_SIMIOMMU_DIRECT) {
			start = (e->pfn << H_SHIFT) + e->off;
			span = e->len;
		} else {
			while (slot * H_PS < e->len)
				slot <<= 1;
			span = slot * H_PS;
		}
		if ((start & ~b) != ((start + span - 1) & ~b))
			return -SGT_EINVAL;
	}
	return 0;
}

static struct s_map_prediction s_predict_map(struct sgt_harness *h, int dev,
					     const struct m_table *mt)
{
	const struct sgt_device_params *p = &h->dp[dev];
	struct s_map_prediction want = { s_predict_refusal(h, dev, mt), false };
	uint32_t *lens, n;

	/* Merged IOMMU segments are counted after the layout. */
	if (want.err || dev != SGT_SIMIOMMU_IOMMU || !p->max_segments)
		return want;
	lens = s_model_segments(h, dev, mt, &n);
	if (!lens)
		return (struct s_map_prediction){ INT_MIN, false }; /* the harness ran out */
	free(lens);
	if (n > p->max_segments)
		want = (struct s_map_prediction){ -SGT_EINVAL, true };
	return want;
}

static uint32_t *s_model_segments(struct sgt_harness *h, int dev, const struct m_table *mt,
				  uint32_t *out_n)
{
	const struct sgt_device_params *p = &h->dp[dev];
	uint32_t *lens = malloc((mt->n ? mt->n : 1) * sizeof(*lens)), k;

	if (!lens)
		return NULL;
	if (dev == SGT_SIMIOMMU_IOMMU) {
		*out_n = m_iommu_segments(
			mt, H_SHIFT,
			p->max_segment_size ? p->max_segment_size : SGT_DMA_DEFAULT_MAX_SEGMENT,
			p->seg_boundary_mask ? p->seg_boundary_mask : UINT64_MAX, lens);
		return lens;
	}
	for (k = 0; k < mt->n; k++)
		lens[k] = mt->e[k].len;
	*out_n = mt->n;
	return lens;
}

/* The model's bounce buffer, filled from the CPU bytes (a bounce map copies in every direction). */
static uint8_t *s_bounce_from_cpu(struct sgt_harness *h, const struct m_table *mt, uint8_t *bb)
{
	if (!bb)
		bb = malloc(mt->total ? mt->total : 1);
	if (bb)
		h_table_read(h, mt, 0, bb, mt->total);
	return bb;
}

static void s_bounce_to_cpu(struct sgt_harness *h, const struct m_table *mt, const uint8_t *bb)
{
	h_table_write(h, mt, 0, bb, mt->total);
}

/* ---- the IOMMU device's quarantine ---- */

/*
 * The span of a mapped raw table's DMA segments, read from its chunks. Segments lie inside the
 * IOVA range the device allocated, so two spans that overlap mean two allocations that do.
 */
static void s_iova_span(const struct sgt_sg_table *sgt, uint64_t *lo, uint64_t *hi)
{
	const struct sgt_chunk *c;
	uint32_t k, seen = 0;

	*lo = UINT64_MAX;
	*hi = 0;
	for (c = sgt->head; c && seen < sgt->num_dma_ents; c = c->next)
		for (k = 0; k < c->num_ents && seen < sgt->num_dma_ents; k++, seen++) {
			const struct sgt_entry *e = &c->ents[k];

			*lo = e->dma_addr < *lo ? e->dma_addr : *lo;
			*hi = e->dma_addr + e->dma_len > *hi ? e->dma_addr + e->dma_len : *hi;
		}
}

static bool s_quarantined(const struct sgt_harness *h, int dev)
{
	return dev == SGT_SIMIOMMU_IOMMU && !h_plugged(h, dev);
}

/* A new mapping on the IOMMU device must not reuse the IOVAs of the last H_QUARANTINE unmaps. */
static int s_quarantine_check(struct sgt_harness *h, int dev, const struct sgt_sg_table *sgt,
			      uint64_t *lo, uint64_t *hi)
{
	const struct h_quarantine *q = &h->quarantine;
	uint32_t k;

	s_iova_span(sgt, lo, hi);
	if (!s_quarantined(h, dev))
		return SGT_H_OK;
	for (k = 0; k < q->n; k++)
		if (*lo < q->hi[k] && q->lo[k] < *hi)
			return h_fail(
				h,
				"IOVA %#llx-%#llx reused while in quarantine (unmapped %u unmaps "
				"ago)",
				(unsigned long long)*lo, (unsigned long long)*hi, q->n - k);
	return SGT_H_OK;
}

static void s_quarantine_push(struct sgt_harness *h, int dev, uint64_t lo, uint64_t hi)
{
	struct h_quarantine *q = &h->quarantine;

	if (!s_quarantined(h, dev))
		return;
	if (q->n == H_QUARANTINE) {
		memmove(q->lo, q->lo + 1, (H_QUARANTINE - 1) * sizeof(q->lo[0]));
		memmove(q->hi, q->hi + 1, (H_QUARANTINE - 1) * sizeof(q->hi[0]));
		q->n--;
	}
	q->lo[q->n] = lo;
	q->hi[q->n++] = hi;
}

/*
 * The code a map must return, given what the library returned: the model's prediction, except
 * that running out of IOVA space is not predicted (that would mean modelling the buddy
 * allocator, its quarantine and magazines). With the small window, -ENOSPC from an iommu map
 * is accepted wherever the allocation comes before the refusal; the world checks that follow
 * still require that nothing changed. A refusal after the allocation gives the range back
 * through the quarantine: nothing there to protect, but it pushes the oldest range out.
 */
static int s_expected_map(struct sgt_harness *h, int dev, struct s_map_prediction want, int got)
{
	if ((!want.err || want.after_iova) && got == -SGT_ENOSPC && dev == SGT_SIMIOMMU_IOMMU &&
	    h->small_iova)
		return got;
	if (want.after_iova && got == want.err)
		s_quarantine_push(h, dev, 0, 0);
	return want.err;
}

static int s_map(struct sgt_harness *h, const struct sgt_op *op)
{
	struct h_slot *s = &h->s[op->slot];
	struct s_map_prediction pred;
	int want, got;

	if (s->kind != H_OWNED || s->users)
		return SKIP;
	pred = s_predict_map(h, op->dev, &s->mt);
	got = sgt_table_map(s->t, h_device(h, op->dev), (enum sgt_dma_dir)op->dir, 0, &s->m,
			    SGT_MAY_SLEEP);
	want = s_expected_map(h, op->dev, pred, got);
	if (got || want) {
		if (!got)
			sgt_mapping_cleanup(
				&s->m); /* mapped against the model: undo, then report */
		return s_expect(h, "map", got, want);
	}
	s->seg_lens = s_model_segments(h, op->dev, &s->mt, &s->num_segs);
	s->bounce = op->dev == SGT_SIMIOMMU_BOUNCE ? s_bounce_from_cpu(h, &s->mt, NULL) : NULL;
	s->dev = op->dev;
	if (s_quarantine_check(h, op->dev, s->m.dma.cpu.sgt__sgt, &s->iova_lo, &s->iova_hi)) {
		s->kind = H_MAPPED;
		s->dir = op->dir;
		return SGT_H_MISMATCH;
	}
	if (!s->seg_lens || (op->dev == SGT_SIMIOMMU_BOUNCE && !s->bounce))
		return h_fail(h, "out of memory in the model");
	s->kind = H_MAPPED;
	s->dev = op->dev;
	s->dir = op->dir;
	s->stale = H_STALE_TABLE;
	return SGT_H_OK;
}

/* What unmapping does to the bytes: a bounce mapping the device may write copies back. */
static void s_unmap_model(struct sgt_harness *h, struct h_slot *s)
{
	s_quarantine_push(h, s->dev, s->iova_lo, s->iova_hi);
	if (s->bounce && h_device_writes(s->dir))
		s_bounce_to_cpu(h, &s->mt, s->bounce);
	free(s->bounce);
	free(s->seg_lens);
	s->bounce = NULL;
	s->seg_lens = NULL;
	s->num_segs = 0;
}

static int s_unmap(struct sgt_harness *h, const struct sgt_op *op)
{
	struct h_slot *s = &h->s[op->slot];
	int got;

	if (s->kind != H_MAPPED || s->users)
		return SKIP;
	got = sgt_mapping_unmap(&s->m, s->t);
	if (got)
		return s_expect(h, "unmap", got, 0);
	s_unmap_model(h, s);
	s->kind = H_OWNED;
	s->stale = H_STALE_MAPPING;
	return SGT_H_OK;
}

static int s_drop(struct sgt_harness *h, const struct sgt_op *op)
{
	struct h_slot *s = &h->s[op->slot];

	if (s->kind == H_EMPTY || s->users)
		return SKIP;
	switch (s->kind) {
	case H_OWNED:
		sgt_table_cleanup(s->t);
		s->stale = H_STALE_TABLE;
		break;
	case H_BORROWED:
		sgt_borrowed_cleanup(&s->b);
		h->s[s->src].users--;
		s->stale = H_STALE_BORROWED;
		break;
	case H_MAPPED:
		sgt_mapping_cleanup(&s->m);
		s_unmap_model(h, s);
		s->stale = H_STALE_MAPPING;
		break;
	case H_BMAPPED:
	default:
		sgt_borrowed_mapping_cleanup(&s->bm);
		h->s[s->src].users--;
		s->stale = H_STALE_BMAPPING;
		break;
	}
	m_free(&s->mt);
	s->kind = H_EMPTY;
	s->owns_pages = false;
	return SGT_H_OK;
}

/* ---- bytes: CPU side ---- */

static int s_copy(struct sgt_harness *h, const struct sgt_op *op)
{
	struct h_slot *s = &h->s[op->slot];
	uint64_t total = s->mt.total, i;
	size_t want, got_n = 0;
	uint8_t *buf;
	int got;

	if (s->kind == H_EMPTY)
		return SKIP;
	want = op->skip >= total
		       ? 0
		       : (size_t)(op->len < total - op->skip ? op->len : total - op->skip);
	buf = malloc(op->len + 1);
	if (!buf)
		return h_fail(h, "out of memory in the harness");
	for (i = 0; i < op->len; i++)
		buf[i] = h_pattern(op->seed, i);
	if (op->kind == SGT_OP_COPY_TO)
		got = sgt_copy_to_buffer(h_cpu(s), op->skip, buf, op->len, &got_n);
	else if (op->kind == SGT_OP_COPY_FROM)
		got = sgt_copy_from_buffer(h_cpu(s), op->skip, buf, op->len, &got_n);
	else
		got = sgt_zero(h_cpu(s), op->skip, op->len, &got_n);
	if (got || got_n != want) {
		free(buf);
		return h_fail(h, "copy/zero returned %s after %zu bytes, the model expects %zu",
			      sgt_errname(got), got_n, want);
	}
	if (op->kind == SGT_OP_COPY_TO) {
		i = h_table_diff(h, &s->mt, op->skip, buf, want);
		if (i < want) {
			uint8_t model =
				h_shadow_read(h, m_byte_addr(&s->mt, op->skip + i, H_SHIFT));
			uint8_t got_byte = buf[i];

			free(buf);
			return h_fail(h, "copy_to byte %llu is %#x, model %#x",
				      (unsigned long long)i, got_byte, model);
		}
	} else {
		if (op->kind == SGT_OP_ZERO)
			memset(buf, 0, want);
		h_table_write(h, &s->mt, op->skip, buf, want);
	}
	free(buf);
	return SGT_H_OK;
}

/* ---- iteration ---- */

/*
 * A page walk that starts at page @start must be the full walk's pages from @start on: @pages
 * holds the full walk (already checked against the model), @n of them.
 */
static int s_started_walk(struct sgt_harness *h, const struct sgt_cpu *c,
			  const struct sgt_page_iter *pages, uint64_t n, uint64_t start)
{
	struct sgt_page_iter pi;
	uint64_t j = start;

	if (sgt_page_iter_init(&pi, c, start))
		return h_fail(h, "page iterator refused a start at page %llu",
			      (unsigned long long)start);
	for (; sgt_page_iter_next(&pi); j++) {
		const struct sgt_page_iter *w = j < n ? &pages[j] : NULL;

		if (!w || pi.page_index != j || pi.pfn != w->pfn || pi.offset != w->offset ||
		    pi.len != w->len || pi.ent_index != w->ent_index)
			return h_fail(
				h,
				"page walk from page %llu: page %llu (pfn %#llx off %u len %u) "
				"is not the full walk's",
				(unsigned long long)start, (unsigned long long)j,
				(unsigned long long)pi.pfn, pi.offset, pi.len);
	}
	if (j < n)
		return h_fail(h, "page walk from page %llu ended at %llu of %llu pages",
			      (unsigned long long)start, (unsigned long long)j,
			      (unsigned long long)n);
	return SGT_H_OK;
}

/* Pages the model's table spans, at most: the bound of a page walk. */
static uint64_t s_max_pages(const struct m_table *mt)
{
	uint64_t n = 0;
	uint32_t k;

	for (k = 0; k < mt->n; k++)
		n += (mt->e[k].off % H_PS + mt->e[k].len + H_PS - 1) / H_PS;
	return n;
}

static int s_iterate(struct sgt_harness *h, const struct sgt_op *op)
{
	struct h_slot *s = &h->s[op->slot];
	const struct sgt_cpu *c = h_cpu(s);
	struct sgt_page_iter pi;
	struct sgt_miter mi;
	uint64_t at = 0, k = 0, e = 0, in_ent = 0;

	struct sgt_page_iter *walk;
	int err;

	if (s->kind == H_EMPTY)
		return SKIP;
	walk = malloc((s_max_pages(&s->mt) + 1) * sizeof(*walk));
	if (!walk)
		return h_fail(h, "out of memory in the harness");
	/* Pages: each entry's pages in order, with the bytes of the entry in each. */
	if (sgt_page_iter_init(&pi, c, 0)) {
		free(walk);
		return h_fail(h, "page iterator refused");
	}
	while (sgt_page_iter_next(&pi)) {
		const struct m_ent *m;
		uint64_t first;

		while (e < s->mt.n && in_ent >= s->mt.e[e].len) {
			e++;
			in_ent = 0;
		}
		m = e < s->mt.n ? &s->mt.e[e] : NULL;
		first = m ? m->off + in_ent : 0;
		if (!m || k > s_max_pages(&s->mt) || pi.pfn != m->pfn + first / H_PS ||
		    pi.offset != first % H_PS ||
		    pi.len != (m->len - in_ent < H_PS - first % H_PS ? m->len - in_ent
								     : H_PS - first % H_PS)) {
			free(walk);
			return h_fail(h,
				      "page %llu: pfn %#llx off %u len %u disagrees with entry "
				      "%llu of the model",
				      (unsigned long long)pi.page_index, (unsigned long long)pi.pfn,
				      pi.offset, pi.len, (unsigned long long)e);
		}
		walk[k] = pi;
		in_ent += pi.len;
		k++;
	}
	/* The same walk from a page drawn from the operation (one past the end: an empty walk). */
	err = s_started_walk(h, c, walk, k, op->skip % (k + 2));
	free(walk);
	if (err)
		return err;
	/* The mapping iterator: page-bounded pieces whose bytes are the model's. */
	if (sgt_miter_start(&mi, c, 0))
		return h_fail(h, "mapping iterator refused");
	while (sgt_miter_next(&mi)) {
		uint64_t i;

		/* Page offsets count from the arena, which malloc placed anywhere. */
		if ((uint64_t)((uint8_t *)mi.addr - h->mem.arena) % H_PS + mi.len > H_PS) {
			sgt_miter_stop(&mi);
			return h_fail(h, "mapping iterator piece crosses a page");
		}
		i = at + mi.len <= s->mt.total ? h_table_diff(h, &s->mt, at, mi.addr, mi.len) : 0;
		if (i < mi.len) {
			sgt_miter_stop(&mi);
			return h_fail(h, "mapping iterator byte %llu differs from the model",
				      (unsigned long long)(at + i));
		}
		at += mi.len;
	}
	sgt_miter_stop(&mi);
	if (at != s->mt.total)
		return h_fail(h, "mapping iterator gave %llu bytes, model %llu",
			      (unsigned long long)at, (unsigned long long)s->mt.total);
	if (h_dma(s)) {
		struct sgt_dma_page_iter dp;
		uint64_t sum = 0;

		if (sgt_dma_page_iter_init(&dp, h_dma(s)))
			return h_fail(h, "DMA page iterator refused");
		while (sgt_dma_page_iter_next(&dp)) {
			if ((dp.dma_addr & (H_PS - 1)) + dp.len > H_PS)
				return h_fail(h, "DMA page piece crosses a page");
			sum += dp.len;
		}
		if (sum != s->mt.total)
			return h_fail(h, "DMA pages cover %llu bytes, model %llu",
				      (unsigned long long)sum, (unsigned long long)s->mt.total);
	}
	return SGT_H_OK;
}

/* ---- the device's side ---- */

/* Does any live mapping of @mt on the direct device grant @write or read access to @page? */
static bool s_table_grants(const struct m_table *mt, uint8_t dir, uint64_t page, bool write)
{
	uint32_t k;

	if (write ? !h_device_writes(dir) : !h_device_reads(dir))
		return false;
	for (k = 0; k < mt->n; k++) {
		uint64_t first = ((mt->e[k].pfn << H_SHIFT) + mt->e[k].off) >> H_SHIFT;
		uint64_t last =
			((mt->e[k].pfn << H_SHIFT) + mt->e[k].off + mt->e[k].len - 1) >> H_SHIFT;

		if (page >= first && page <= last)
			return true;
	}
	return false;
}

/*
 * In direct mode the DMA address is the CPU address, so protection is per physical page and
 * shared by every live mapping of that page: the device may write a page through any address
 * that reaches it if one mapping lets it. (iommu and bounce mappings each have their own pages.)
 */
static bool s_access_allowed(struct sgt_harness *h, const struct h_slot *owner, uint64_t addr,
			     size_t n, bool write)
{
	uint64_t page;
	int i;

	if (owner->dev != SGT_SIMIOMMU_DIRECT)
		return write ? h_device_writes(owner->dir) : h_device_reads(owner->dir);
	for (page = addr >> H_SHIFT; page <= (addr + n - 1) >> H_SHIFT; page++) {
		bool ok = h->raw.mapped && h->raw.dev == SGT_SIMIOMMU_DIRECT &&
			  s_table_grants(&h->raw.mt, h->raw.dir, page, write);

		for (i = 0; i < SGT_H_SLOTS && !ok; i++)
			ok = h->s[i].kind == H_MAPPED && h->s[i].dev == SGT_SIMIOMMU_DIRECT &&
			     s_table_grants(&h->s[i].mt, h->s[i].dir, page, write);
		if (!ok)
			return false;
	}
	return true;
}

/* Split table bytes [skip, skip + len) into pieces within DMA segments; access each. */
static int s_dev_access(struct sgt_harness *h, const struct sgt_op *op, bool write)
{
	struct h_slot *s = &h->s[op->slot], *owner;
	struct sgt_dma_iter it;
	uint64_t seg_start = 0, end, i;
	bool allowed;
	int err = SGT_H_OK;

	if (s->kind != H_MAPPED && s->kind != H_BMAPPED)
		return SKIP;
	owner = h_mapping_of(h, s);
	end = op->skip + op->len < s->mt.total ? op->skip + op->len : s->mt.total;
	if (sgt_dma_iter_init(&it, h_dma(s)))
		return h_fail(h, "DMA iterator refused");
	while (err == SGT_H_OK && sgt_dma_iter_next(&it)) {
		uint64_t from = op->skip > seg_start ? op->skip : seg_start;
		uint64_t to = end < seg_start + it.dma_len ? end : seg_start + it.dma_len;
		uint8_t buf[4096];

		for (; from < to && err == SGT_H_OK; from += sizeof(buf)) {
			size_t n = (size_t)(to - from < sizeof(buf) ? to - from : sizeof(buf));
			uint64_t addr = it.dma_addr + (from - seg_start);
			int got;

			for (i = 0; write && i < n; i++)
				buf[i] = h_pattern(op->seed, from + i);
			allowed = s_access_allowed(h, owner, addr, n, write);
			/* A real device's faults cannot be counted here: the access is not made. */
			if (!allowed && h_plugged(h, owner->dev))
				continue;
			got = write ? h_dma_write(h, owner->dev, addr, buf, n)
				    : h_dma_read(h, owner->dev, addr, buf, n);
			if (!allowed) {
				h->expect_faults[owner->dev]++;
				err = s_expect(h, write ? "device write" : "device read", got,
					       -SGT_EFAULT);
				continue;
			}
			if (got)
				return s_expect(h, write ? "device write" : "device read", got, 0);
			/* Where the device's bytes live: the bounce buffer, or the CPU's. */
			if (write && owner->bounce) {
				memcpy(owner->bounce + from, buf, n);
				continue;
			}
			if (write) {
				h_table_write(h, &s->mt, from, buf, n);
				continue;
			}
			i = owner->bounce ? h_first_diff(owner->bounce + from, buf, n)
					  : h_table_diff(h, &s->mt, from, buf, n);
			if (i < n) {
				uint8_t model =
					owner->bounce
						? owner->bounce[from + i]
						: h_shadow_read(h, m_byte_addr(&s->mt, from + i,
									       H_SHIFT));

				return h_fail(h, "device read of table byte %llu: %#x, model %#x",
					      (unsigned long long)(from + i), buf[i], model);
			}
		}
		seg_start += it.dma_len;
	}
	return err;
}

static int s_sync(struct sgt_harness *h, const struct sgt_op *op, bool for_cpu)
{
	struct h_slot *s = &h->s[op->slot], *owner;
	int got;

	if (s->kind != H_MAPPED && s->kind != H_BMAPPED)
		return SKIP;
	owner = h_mapping_of(h, s);
	got = for_cpu ? sgt_dma_sync_for_cpu(h_dma(s)) : sgt_dma_sync_for_device(h_dma(s));
	if (got)
		return s_expect(h, "sync", got, 0);
	if (owner->bounce && for_cpu && h_device_writes(owner->dir))
		s_bounce_to_cpu(h, &owner->mt, owner->bounce);
	if (owner->bounce && !for_cpu && h_device_reads(owner->dir))
		s_bounce_from_cpu(h, &owner->mt, owner->bounce);
	return SGT_H_OK;
}

/* ---- misuse: stale handles ---- */

static int s_stale_cpu(struct sgt_harness *h, const struct sgt_cpu *c)
{
	struct sgt_ent_iter ei;
	struct sgt_page_iter pi;
	struct sgt_miter mi;
	const struct sgt_sg_table *raw;
	struct sgt_table out;
	uint64_t len = 1, total;
	uint32_t n;
	size_t done;
	uint8_t b = 0;
	int r[] = {
		sgt_cpu_check(c),
		sgt_cpu_info(c, &n, &total),
		sgt_cpu_sg_table(c, &raw),
		sgt_nents_for_len(c, 1, &n),
		sgt_ent_iter_init(&ei, c),
		sgt_page_iter_init(&pi, c, 0),
		sgt_miter_start(&mi, c, 0),
		sgt_copy_to_buffer(c, 0, &b, 1, &done),
		sgt_copy_from_buffer(c, 0, &b, 1, &done),
		sgt_zero(c, 0, 1, &done),
		sgt_split(c, 0, 1, &len, &h->params, &out, SGT_MAY_SLEEP),
	};
	size_t k;

	for (k = 0; k < sizeof(r) / sizeof(r[0]); k++) {
		if (r[k] != -SGT_ESTALE)
			return h_fail(h, "stale handle: CPU call %zu returned %s, not -ESTALE", k,
				      sgt_errname(r[k]));
	}
	return SGT_H_OK;
}

static int s_stale_dma(struct sgt_harness *h, const struct sgt_dma *d)
{
	struct sgt_dma_iter it;
	struct sgt_dma_page_iter pit;
	uint32_t n;
	int r[] = { sgt_dma_info(d, &n), sgt_dma_sync_for_cpu(d), sgt_dma_sync_for_device(d),
		    sgt_dma_iter_init(&it, d), sgt_dma_page_iter_init(&pit, d) };
	size_t k;

	for (k = 0; k < sizeof(r) / sizeof(r[0]); k++) {
		if (r[k] != -SGT_ESTALE)
			return h_fail(h, "stale handle: DMA call %zu returned %s, not -ESTALE", k,
				      sgt_errname(r[k]));
	}
	return s_stale_cpu(h, &d->cpu);
}

static int s_stale_use(struct sgt_harness *h, const struct sgt_op *op)
{
	struct h_slot *s = &h->s[op->slot];
	struct sgt_table tmp;
	struct sgt_mapping m;
	uint64_t pfn = h->base;
	struct sgt_pages pages;
	int err;

	switch (s->stale) {
	case H_STALE_TABLE:
		sgt_pages_from_array(&pages, &pfn, 1);
		err = s_stale_cpu(h, &s->t->cpu);
		if (!err && (sgt_table_append_pages(s->t, &pages, 0, 1, H_PS, SGT_MAY_SLEEP) !=
				     -SGT_ESTALE ||
			     sgt_table_map(s->t, h_device(h, 0), SGT_DMA_TO_DEVICE, 0, &m,
					   SGT_MAY_SLEEP) != -SGT_ESTALE))
			err = h_fail(h, "stale table: append or map did not return -ESTALE");
		sgt_table_cleanup(s->t); /* a no-op on a stale handle */
		return err;
	case H_STALE_BORROWED:
		sgt_borrowed_cleanup(&s->b);
		return s_stale_cpu(h, &s->b.cpu);
	case H_STALE_MAPPING:
		err = s_stale_dma(h, &s->m.dma);
		if (!err && sgt_mapping_unmap(&s->m, &tmp) != -SGT_ESTALE)
			err = h_fail(h, "stale mapping: unmap did not return -ESTALE");
		sgt_mapping_cleanup(&s->m);
		return err;
	case H_STALE_BMAPPING:
		sgt_borrowed_mapping_cleanup(&s->bm);
		return s_stale_dma(h, &s->bm.dma);
	case H_STALE_NONE:
	default:
		return SKIP;
	}
}

/* ---- the raw table, through the raw DMA API, as a driver uses it ---- */

static struct sgt_device *s_dev(struct sgt_harness *h, int d)
{
	return h_device(h, d);
}

static int s_raw_map(struct sgt_harness *h, const struct sgt_op *op)
{
	struct h_raw *r = &h->raw;
	struct s_map_prediction pred;
	int want, got;
	uint32_t n = 0;

	if (r->mapped)
		return SKIP;
	pred = s_predict_map(h, op->dev, &r->mt);
	got = sgt_dma_map_sg(s_dev(h, op->dev), &r->sgt, (enum sgt_dma_dir)op->dir, 0, &n,
			     SGT_MAY_SLEEP);
	want = s_expected_map(h, op->dev, pred, got);
	if (got || want)
		return s_expect(h, "raw map", got, want);
	free(s_model_segments(h, op->dev, &r->mt, &r->num_segs));
	r->mapped = true;
	r->dev = op->dev;
	if (s_quarantine_check(h, op->dev, &r->sgt, &r->iova_lo, &r->iova_hi))
		return SGT_H_MISMATCH;
	r->dir = op->dir;
	r->unmapped_on[op->dev] = false;
	r->bounce = op->dev == SGT_SIMIOMMU_BOUNCE ? s_bounce_from_cpu(h, &r->mt, NULL) : NULL;
	return SGT_H_OK;
}

/* What an unmap of the raw table does, correct or not: the mapping's own direction decides. */
static void s_raw_unmap_model(struct sgt_harness *h)
{
	struct h_raw *r = &h->raw;

	s_quarantine_push(h, r->dev, r->iova_lo, r->iova_hi);
	if (r->bounce && h_device_writes(r->dir))
		s_bounce_to_cpu(h, &r->mt, r->bounce);
	free(r->bounce);
	r->bounce = NULL;
	r->mapped = false;
	r->unmapped_on[r->dev] = true;
}

static int s_raw_unmap(struct sgt_harness *h)
{
	struct h_raw *r = &h->raw;
	int got;

	if (!r->mapped)
		return SKIP;
	got = sgt_dma_unmap_sg(s_dev(h, r->dev), &r->sgt, 3, (enum sgt_dma_dir)r->dir, 0);
	if (got)
		return s_expect(h, "raw unmap", got, 0);
	s_raw_unmap_model(h);
	return SGT_H_OK;
}

/*
 * Each misuse: its precondition, the call, and the one report it must cause. An unmap with a
 * wrong count or direction still unmaps (an unmap cannot fail), so the model unmaps too.
 */
/* The one report each misuse must cause: the model's own reading of the DMA API's rules. */
static enum sgt_dma_report_kind s_misuse_report(uint8_t variant)
{
	switch (variant) {
	case SGT_MISUSE_DOUBLE_UNMAP:
		return SGT_REPORT_DOUBLE_UNMAP;
	case SGT_MISUSE_NEVER_MAPPED:
		return SGT_REPORT_UNMAP_NOT_MAPPED;
	case SGT_MISUSE_SYNC_UNMAPPED:
		return SGT_REPORT_SYNC_NOT_MAPPED;
	case SGT_MISUSE_WRONG_DIR:
		return SGT_REPORT_UNMAP_WRONG_DIR;
	case SGT_MISUSE_WRONG_NENTS:
		return SGT_REPORT_UNMAP_WRONG_NENTS;
	case SGT_MISUSE_MAPPED_NENTS:
		return SGT_REPORT_UNMAP_MAPPED_NENTS;
	case SGT_MISUSE_SYNC_WRONG_DIR:
		return SGT_REPORT_SYNC_WRONG_DIR;
	case SGT_MISUSE_SEGMENTS_CHANGED:
		return SGT_REPORT_SEGMENTS_CHANGED;
	case SGT_MISUSE_SYNC_BEYOND:
	default:
		return SGT_REPORT_SYNC_WRONG_NENTS; /* a sync with another count than the map's */
	}
}

static int s_raw_misuse(struct sgt_harness *h, const struct sgt_op *op)
{
	struct h_raw *r = &h->raw;
	int d = r->mapped ? r->dev : op->dev, got;
	enum sgt_dma_dir other = (enum sgt_dma_dir)((r->dir + 1) % 3);
	bool mapped_here = r->mapped && r->dev == op->dev;

	switch (op->variant) {
	case SGT_MISUSE_DOUBLE_UNMAP:
	case SGT_MISUSE_NEVER_MAPPED:
		if (mapped_here ||
		    r->unmapped_on[op->dev] != (op->variant == SGT_MISUSE_DOUBLE_UNMAP))
			return SKIP;
		d = op->dev;
		got = sgt_dma_unmap_sg(s_dev(h, d), &r->sgt, 3, SGT_DMA_TO_DEVICE, 0);
		break;
	case SGT_MISUSE_SYNC_UNMAPPED:
		if (mapped_here)
			return SKIP;
		d = op->dev;
		got = sgt_dma_sync_sg_for_cpu(s_dev(h, d), &r->sgt, 3, SGT_DMA_TO_DEVICE);
		break;
	case SGT_MISUSE_WRONG_DIR:
	case SGT_MISUSE_WRONG_NENTS:
	case SGT_MISUSE_MAPPED_NENTS:
		if (!r->mapped || (op->variant == SGT_MISUSE_MAPPED_NENTS && r->num_segs == 3))
			return SKIP;
		got = sgt_dma_unmap_sg(
			s_dev(h, d), &r->sgt,
			op->variant == SGT_MISUSE_WRONG_NENTS	 ? 5
			: op->variant == SGT_MISUSE_MAPPED_NENTS ? r->num_segs
								 : 3,
			op->variant == SGT_MISUSE_WRONG_DIR ? other : (enum sgt_dma_dir)r->dir, 0);
		s_raw_unmap_model(h);
		break;
	case SGT_MISUSE_SEGMENTS_CHANGED:
		/* A driver that writes its mapped table's DMA fields (restored afterwards). */
		if (!r->mapped)
			return SKIP;
		r->chunk->ents[0].dma_addr ^= H_PS;
		got = sgt_dma_sync_sg_for_device(s_dev(h, d), &r->sgt, 3, (enum sgt_dma_dir)r->dir);
		r->chunk->ents[0].dma_addr ^= H_PS;
		break;
	case SGT_MISUSE_SYNC_WRONG_DIR:
	case SGT_MISUSE_SYNC_BEYOND:
	default:
		if (!r->mapped)
			return SKIP;
		got = sgt_dma_sync_sg_for_device(
			s_dev(h, d), &r->sgt, op->variant == SGT_MISUSE_SYNC_BEYOND ? 4 : 3,
			op->variant == SGT_MISUSE_SYNC_BEYOND ? (enum sgt_dma_dir)r->dir : other);
		break;
	}
	h->expect_reports[d]++;
	h->expect_kind[d][s_misuse_report(op->variant)]++;
	return s_expect(h, "raw misuse", got, -SGT_EINVAL);
}

/* ---- faults ---- */

static int s_fail_map(struct sgt_harness *h, const struct sgt_op *op)
{
	struct sgt_simiommu_inject inj = { .fail_map_at = 1 };

	if (h->fail_map_pending[op->dev] || h_plugged(h, op->dev))
		return SKIP; /* a real device's maps cannot be made to fail */
	sgt_simiommu_set_inject(h->sim[op->dev], &inj);
	h->fail_map_pending[op->dev] = true;
	return SGT_H_OK;
}

/* ---- bad input: what only unit tests tried ---- */

/* Nothing allocated, nothing freed: a refused call changes nothing. */
static int s_expect_untouched(struct sgt_harness *h, const char *what, int got, int want,
			      uint64_t allocs, uint64_t blocks)
{
	if (h->alloc.num_allocs - h->alloc.num_frees != allocs || h->mem.live_page_allocs != blocks)
		return h_fail(h, "%s: a refused call left allocations behind", what);
	return s_expect(h, what, got, want);
}

/* Constraints for the differential check: the owner device's, one of them tightened. */
static struct sgt_device_params s_drawn_params(const struct sgt_harness *h,
					       const struct h_slot *owner, uint32_t seed)
{
	struct sgt_device_params p = h->dp[owner->dev];

	switch (seed % 5) {
	case 0:
		p.max_segment_size = (uint32_t)(H_PS / 2 + seed % (4 * H_PS));
		break;
	case 1:
		p.seg_boundary_mask = (UINT64_C(1) << (H_SHIFT + seed / 5 % 4)) - 1;
		break;
	case 2:
		p.alignment = UINT64_C(1) << (seed / 5 % (H_SHIFT + 2));
		break;
	case 3:
		p.max_segments = 1 + seed / 5 % 4;
		break;
	default:
		p.dma_mask = (owner->iova_lo + (owner->iova_hi - owner->iova_lo) / 2) | 0xff;
		break;
	}
	return p;
}

static int s_bad_split(struct sgt_harness *h, const struct sgt_op *op, const char *what,
		       uint64_t skip, size_t num, const uint64_t *lens, int want)
{
	struct sgt_table out[2];
	uint64_t allocs = h->alloc.num_allocs - h->alloc.num_frees;

	return s_expect_untouched(
		h, what,
		sgt_split(h_cpu(&h->s[op->slot]), skip, num, lens, &h->params, out, SGT_MAY_SLEEP),
		want, allocs, h->mem.live_page_allocs);
}

static int s_bad_caps(struct sgt_harness *h, const struct sgt_op *op)
{
	struct sgt_dma_caps caps;
	uint64_t mask = h->dp[op->dev].dma_mask ? h->dp[op->dev].dma_mask : UINT64_MAX;
	uint32_t k;
	int got = sgt_device_caps(h_device(h, op->dev), &caps);

	if (got)
		return s_expect(h, "device caps", got, 0);
	if (caps.page_sizes != H_PS || !caps.num_windows || caps.num_windows > SGT_DMA_MAX_WINDOWS)
		return h_fail(h, "device %u caps: page sizes %#llx, %u windows", op->dev,
			      (unsigned long long)caps.page_sizes, caps.num_windows);
	for (k = 0; k < caps.num_windows; k++) {
		if (caps.windows[k].start > caps.windows[k].last || caps.windows[k].last > mask)
			return h_fail(h, "device %u caps: window %u is empty or beyond the mask",
				      op->dev, k);
	}
	return s_expect(h, "device caps of NULL", sgt_device_caps(h_device(h, op->dev), NULL),
			-SGT_EINVAL);
}

static int s_bad_call(struct sgt_harness *h, const struct sgt_op *op)
{
	uint64_t allocs = h->alloc.num_allocs - h->alloc.num_frees,
		 blocks = h->mem.live_page_allocs;
	struct h_slot *s = &h->s[op->slot];
	uint64_t pfns[1] = { h->base }, lens[2] = { 1, 0 };
	struct sgt_table t;
	struct sgt_pages pages;
	uint32_t num = 0;
	size_t copied = 1;
	int got, want;

	switch (op->n) {
	case SGT_BAD_OFFSET_ONE_PAGE:
	case SGT_BAD_ZERO_PAGES:
		sgt_pages_from_array(&pages, pfns, op->n == SGT_BAD_ZERO_PAGES ? 0 : 1);
		got = sgt_table_init_from_pages(&t, &h->params, &pages,
						op->n == SGT_BAD_ZERO_PAGES ? 0 : H_PS, 1, H_PS,
						SGT_MAY_SLEEP);
		return s_expect_untouched(h, "from_pages", got, -SGT_EINVAL, allocs, blocks);
	case SGT_BAD_ORDER_TOO_LARGE:
		got = sgt_table_init_alloc_order(&t, &h->params, H_PS, 32 - H_SHIFT, SGT_MAY_SLEEP);
		return s_expect_untouched(h, "alloc_order", got, -SGT_EINVAL, allocs, blocks);
	case SGT_BAD_NENTS_FOR_LEN: {
		uint64_t len = op->len % (s->mt.total + 2);

		want = len == 0 ? -SGT_EINVAL : len > s->mt.total ? -SGT_ERANGE : 0;
		got = sgt_nents_for_len(h_cpu(s), len, &num);
		if (got || want)
			return s_expect_untouched(h, "nents_for_len", got, want, allocs, blocks);
		if (num != m_entries_for(&s->mt, len))
			return h_fail(h, "nents_for_len(%llu) is %u, model %u",
				      (unsigned long long)len, num, m_entries_for(&s->mt, len));
		return SGT_H_OK;
	}
	case SGT_BAD_SPLIT_PAST_END:
		return s_bad_split(h, op, "split past the end", s->mt.total, 1, lens, -SGT_ERANGE);
	case SGT_BAD_SPLIT_ZERO_LEN:
		return s_bad_split(h, op, "split with a zero length", 0, 2, lens, -SGT_EINVAL);
	case SGT_BAD_SPLIT_NONE:
		return s_bad_split(h, op, "split into no table", 0, 0, lens, -SGT_EINVAL);
	case SGT_BAD_COPY_NULL:
		got = sgt_copy_to_buffer(h_cpu(s), 0, NULL, 1, &copied);
		if (copied)
			return h_fail(h, "copy to NULL counted %zu bytes", copied);
		return s_expect_untouched(h, "copy to NULL", got, -SGT_EINVAL, allocs, blocks);
	case SGT_BAD_CHECK_SEGMENTS: {
		const struct sgt_sg_table *sgt;
		struct sgt_device_params p = s_drawn_params(h, h_mapping_of(h, s), op->seed);
		const char *why = NULL;

		if (sgt_cpu_sg_table(h_cpu(s), &sgt))
			return h_fail(h, "slot %u: no raw table", op->slot);
		got = sgt_dma_check_segments(sgt, &p, &why);
		want = h_segments_break(sgt, &p) ? -SGT_EINVAL : 0;
		if (got != want)
			return h_fail(
				h, "check_segments says %s (%s), the harness's own checker %s (%s)",
				sgt_errname(got), why ? why : "-", sgt_errname(want),
				h_segments_break(sgt, &p) ? h_segments_break(sgt, &p) : "-");
		return SGT_H_OK;
	}
	case SGT_BAD_ARG: {
		const char *what = NULL;

		if (!h_bad_arg(h, s, op->seed, &what, &got, &want))
			return SKIP;
		return s_expect_untouched(h, what, got, want, allocs, blocks);
	}
	case SGT_BAD_CAPS:
	default:
		if (h_plugged(h, op->dev))
			return SKIP; /* a real device's windows are its own */
		return s_bad_caps(h, op);
	}
}

/* Which slot a bad call needs, if any: the first that qualifies from the hint on. */
static bool s_resolve_bad_call(const struct sgt_harness *h, struct sgt_op *op)
{
	bool mapped = op->n == SGT_BAD_CHECK_SEGMENTS;
	int k, i;

	if (op->n <= SGT_BAD_ORDER_TOO_LARGE || op->n == SGT_BAD_CAPS)
		return true;
	for (k = 0; k < SGT_H_SLOTS; k++) {
		i = (op->slot + k) % SGT_H_SLOTS;
		if (mapped ? h->s[i].kind == H_MAPPED || h->s[i].kind == H_BMAPPED
			   : h->s[i].kind != H_EMPTY) {
			op->slot = (uint8_t)i;
			return true;
		}
	}
	return false;
}

/* ---- resolving slots: an operation's slots are hints ---- */

static bool s_slot_ok(const struct sgt_harness *h, int kind, int i)
{
	const struct h_slot *s = &h->s[i];

	switch (kind) {
	case SGT_OP_FROM_PAGES:
	case SGT_OP_ALLOC_ORDER:
		return s->kind == H_EMPTY;
	case SGT_OP_APPEND:
		return s->kind == H_OWNED && !s->users && !s->owns_pages;
	case SGT_OP_SPLIT:
		return s->kind != H_EMPTY && !s->owns_pages;
	case SGT_OP_BORROW:
		return s->kind == H_OWNED;
	case SGT_OP_MAP:
		return s->kind == H_OWNED && !s->users;
	case SGT_OP_WRAP_MAPPED:
		return s->kind == H_MAPPED;
	case SGT_OP_UNMAP:
		return s->kind == H_MAPPED && !s->users;
	case SGT_OP_DEV_WRITE:
	case SGT_OP_DEV_READ:
	case SGT_OP_SYNC_CPU:
	case SGT_OP_SYNC_DEV:
		return s->kind == H_MAPPED || s->kind == H_BMAPPED;
	case SGT_OP_DROP:
		return s->kind != H_EMPTY && !s->users;
	case SGT_OP_STALE_USE:
		return s->stale != H_STALE_NONE;
	default:
		return s->kind != H_EMPTY;
	}
}

static bool s_targets_free(const struct sgt_harness *h, const struct sgt_op *op, int first)
{
	uint32_t k, n = op->kind == SGT_OP_SPLIT ? op->n : 1;

	if (first + (int)n > SGT_H_SLOTS)
		return false;
	for (k = 0; k < n; k++) {
		if (h->s[first + k].kind != H_EMPTY || first + (int)k == op->slot)
			return false;
	}
	return true;
}

/*
 * The first slot from the hint on (wrapping) that the operation can use, written back into the
 * operation, so that any value means something and a sequence still replays exactly.
 * Returns false when no slot qualifies.
 */
static bool s_resolve(const struct sgt_harness *h, struct sgt_op *op)
{
	bool two = op->kind == SGT_OP_SPLIT || op->kind == SGT_OP_BORROW ||
		   op->kind == SGT_OP_WRAP_MAPPED;
	int k, i;

	if (op->kind == SGT_OP_BAD_CALL)
		return s_resolve_bad_call(h, op);
	if (op->kind >= SGT_OP_RAW_MAP)
		return true; /* no slot */
	for (k = 0; k < SGT_H_SLOTS; k++) {
		i = (op->slot + k) % SGT_H_SLOTS;
		if (s_slot_ok(h, op->kind, i))
			break;
	}
	if (k == SGT_H_SLOTS)
		return false;
	op->slot = (uint8_t)i;
	for (k = 0; two && k < SGT_H_SLOTS; k++) {
		i = (op->slot2 + k) % SGT_H_SLOTS;
		if (s_targets_free(h, op, i)) {
			op->slot2 = (uint8_t)i;
			return true;
		}
	}
	return !two;
}

/* ---- dispatch ---- */

static int s_dispatch(struct sgt_harness *h, const struct sgt_op *op)
{
	switch (op->kind) {
	case SGT_OP_FROM_PAGES:
		return s_build(h, op, false);
	case SGT_OP_APPEND:
		return s_build(h, op, true);
	case SGT_OP_ALLOC_ORDER:
		return s_alloc_order(h, op);
	case SGT_OP_SPLIT:
		return s_split(h, op);
	case SGT_OP_BORROW:
		return s_borrow(h, op, false);
	case SGT_OP_MAP:
		return s_map(h, op);
	case SGT_OP_WRAP_MAPPED:
		return s_borrow(h, op, true);
	case SGT_OP_UNMAP:
		return s_unmap(h, op);
	case SGT_OP_ITERATE:
		return s_iterate(h, op);
	case SGT_OP_COPY_TO:
	case SGT_OP_COPY_FROM:
	case SGT_OP_ZERO:
		return s_copy(h, op);
	case SGT_OP_DEV_WRITE:
		return s_dev_access(h, op, true);
	case SGT_OP_DEV_READ:
		return s_dev_access(h, op, false);
	case SGT_OP_SYNC_CPU:
		return s_sync(h, op, true);
	case SGT_OP_SYNC_DEV:
		return s_sync(h, op, false);
	case SGT_OP_DROP:
		return s_drop(h, op);
	case SGT_OP_STALE_USE:
		return s_stale_use(h, op);
	case SGT_OP_RAW_MAP:
		return s_raw_map(h, op);
	case SGT_OP_RAW_UNMAP:
		return s_raw_unmap(h);
	case SGT_OP_RAW_MISUSE:
		return s_raw_misuse(h, op);
	case SGT_OP_FAIL_ALLOC:
		h->fail_alloc_next = op->n;
		return SGT_H_OK;
	case SGT_OP_BAD_CALL:
		return s_bad_call(h, op);
	case SGT_OP_HUGE:
		return h_huge(h, op);
	case SGT_OP_FAIL_MAP:
	default:
		return s_fail_map(h, op);
	}
}

/* An armed allocation failure applies to exactly one operation, the next one. */
int h_do_op(struct sgt_harness *h, struct sgt_op *op)
{
	int r;

	if (!s_resolve(h, op))
		return SKIP;
	if (op->kind != SGT_OP_FAIL_ALLOC && h->fail_alloc_next) {
		h->alloc.fail_at = h->alloc.num_attempts + h->fail_alloc_next;
		h->fail_alloc_next = 0;
	}
	r = s_dispatch(h, op);
	h->alloc.fail_at = 0;
	return r;
}
