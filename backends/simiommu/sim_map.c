// SPDX-License-Identifier: MIT
/*
 * map_sg, unmap_sg and the syncs of the simulated IOMMU, for its three modes, with the DMA-API
 * debug checks. Every op validates everything before it changes anything, so a refused call
 * leaves the table and the device as they were.
 */
#include <string.h>

#include "sim_internal.h"

static uint64_t s_boundary(const struct sgt_simiommu *s)
{
	return s->dev.params.seg_boundary_mask ? s->dev.params.seg_boundary_mask : UINT64_MAX;
}

static uint64_t s_max_seg(const struct sgt_simiommu *s)
{
	return s->dev.params.max_segment_size ? s->dev.params.max_segment_size
					      : SGT_DMA_DEFAULT_MAX_SEGMENT;
}

static bool s_device_reads(enum sgt_dma_dir dir)
{
	return dir == SGT_DMA_TO_DEVICE || dir == SGT_DMA_BIDIRECTIONAL;
}

static bool s_device_writes(enum sgt_dma_dir dir)
{
	return dir == SGT_DMA_FROM_DEVICE || dir == SGT_DMA_BIDIRECTIONAL;
}

/* Grant (delta +1) or revoke (-1) the device's access to @num pages from DMA page @page. */
static void s_ptes(struct sgt_simiommu *s, uint64_t page, uint64_t num, uint64_t pfn,
		   enum sgt_dma_dir dir, int delta)
{
	uint64_t k;

	for (k = 0; k < num; k++) {
		struct sim_pte *pte = sim_pt_lookup(s, page + k);

		if (delta > 0 && pfn != UINT64_MAX)
			pte->pfn = pfn + k;
		if (s_device_reads(dir))
			pte->readers += (uint32_t)delta;
		if (s_device_writes(dir))
			pte->writers += (uint32_t)delta;
	}
}

static uint64_t s_pages(uint64_t first_byte, uint64_t len, unsigned int shift)
{
	return ((first_byte + len - 1) >> shift) - (first_byte >> shift) + 1;
}

static bool s_inject_fail(struct sgt_simiommu *s)
{
	s->maps_since_inject++;
	if (s->inj.fail_map_at && s->maps_since_inject == s->inj.fail_map_at)
		return true;
	if (!s->inj.fail_permille)
		return false;
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng % 1000 < s->inj.fail_permille;
}

/*
 * Give back a range this device allocated. That cannot fail unless the allocator is broken, which
 * sgt_iova_check() would name; there is nothing better to do with the error here.
 */
static void s_iova_put(struct sgt_iova *iova, uint64_t addr, uint64_t len)
{
	int err = sgt_iova_release(iova, addr, len);

	(void)err;
}

/* ---- bounce copies ---- */

static int s_bounce_copy(struct sgt_simiommu *s, const struct sim_seg *g, bool to_bounce)
{
	const struct sgt_memory *mem = s->p.mem;
	uint64_t ps = UINT64_C(1) << mem->page_shift, done = 0;
	uint8_t *slot = s->pool + (g->dma - s->window.start);

	while (done < g->len) {
		uint64_t abs = g->cpu_off + done;
		uint64_t pfn = g->cpu_pfn + (abs >> mem->page_shift), off = abs & (ps - 1);
		uint64_t n = ps - off < g->len - done ? ps - off : g->len - done;
		uint8_t *page = mem->map_page(mem->ctx, pfn);

		if (!page)
			return -SGT_EFAULT;
		if (to_bounce)
			memcpy(slot + done, page + off, (size_t)n);
		else
			memcpy(page + off, slot + done, (size_t)n);
		if (mem->unmap_page)
			mem->unmap_page(mem->ctx, pfn, page);
		done += n;
	}
	return 0;
}

static int s_bounce_all(struct sgt_simiommu *s, const struct sim_map *m, uint32_t num,
			bool to_bounce)
{
	uint32_t i;
	int err = 0;

	for (i = 0; i < num && !err; i++)
		err = s_bounce_copy(s, &m->segs[i], to_bounce);
	return err;
}

/* ---- releasing a mapping: the same for undoing a failed map and for unmap ---- */

static void s_release_segs(struct sgt_simiommu *s, struct sim_map *m, uint32_t num)
{
	unsigned int shift = sim_shift(s);
	uint32_t i;

	for (i = 0; i < num; i++) {
		struct sim_seg *g = &m->segs[i];

		if (s->p.mode == SGT_SIMIOMMU_IOMMU) {
			s_ptes(s, g->dma >> shift, s_pages(g->cpu_off, g->len, shift), 0, m->dir,
			       -1);
		} else {
			s_ptes(s, g->dma >> shift, s_pages(g->dma, g->span, shift), 0, m->dir, -1);
			if (s->p.mode == SGT_SIMIOMMU_BOUNCE)
				s_iova_put(s->iova, g->dma, g->span);
		}
	}
	if (s->p.mode == SGT_SIMIOMMU_IOMMU && m->iova_len)
		s_iova_put(s->iova, m->iova, m->iova_len);
}

void sim_release_map(struct sgt_simiommu *s, struct sim_map *m)
{
	s_release_segs(s, m, m->num_cpu_ents);
	s->alloc.free(s->alloc.ctx, m,
		      sizeof(*m) + (size_t)m->num_cpu_ents * sizeof(struct sim_seg));
}

/* ---- checks every mode shares ---- */

/* After a backend laid the DMA segments out: anything the device cannot take is reported. */
static int s_check_result(struct sgt_simiommu *s, const struct sgt_sg_table *sgt)
{
	const struct sgt_device_params *p = &s->dev.params;
	const struct sgt_entry *e;
	struct sgt_pos pos;
	uint32_t i;

	if (p->max_segments && sgt->num_dma_ents > p->max_segments) {
		sim_report(s, SGT_REPORT_TOO_MANY_SEGMENTS, "%u DMA segments, the device takes %u",
			   sgt->num_dma_ents, p->max_segments);
		return -SGT_EINVAL;
	}
	for (i = 0, e = sgt_sg_first(sgt, &pos); e && i < sgt->num_dma_ents;
	     i++, e = sgt_sg_next(&pos)) {
		if (p->alignment && (e->dma_addr & (p->alignment - 1))) {
			sim_report(s, SGT_REPORT_SEGMENT_MISALIGNED,
				   "DMA segment %u at %#llx, the device needs %u-byte alignment", i,
				   (unsigned long long)e->dma_addr, p->alignment);
			return -SGT_EINVAL;
		}
	}
	return 0;
}

static int s_check_entry(struct sgt_simiommu *s, uint32_t i, const struct sgt_entry *e)
{
	if (e->len > s_max_seg(s)) {
		sim_report(s, SGT_REPORT_SEGMENT_TOO_LONG,
			   "entry %u is %u bytes, the device's maximum segment is %llu", i, e->len,
			   (unsigned long long)s_max_seg(s));
		return -SGT_EINVAL;
	}
	return 0;
}

static int s_crosses(struct sgt_simiommu *s, uint32_t i, uint64_t start, uint64_t span)
{
	uint64_t b = s_boundary(s);

	if ((start & ~b) == ((start + span - 1) & ~b))
		return 0;
	sim_report(s, SGT_REPORT_SEGMENT_CROSSES_BOUNDARY,
		   "entry %u needs %llu bytes at %#llx, across the device's %#llx boundary", i,
		   (unsigned long long)span, (unsigned long long)start, (unsigned long long)b);
	return -SGT_EINVAL;
}

/* ---- iommu mode ---- */

/* Lay the entries out in IOVA space relative to 0, padded as iommu_dma_map_sg() pads them. */
static int s_iommu_layout(struct sgt_simiommu *s, struct sim_map *m, uint64_t *out_len)
{
	uint64_t ps = UINT64_C(1) << sim_shift(s), b = s_boundary(s), len = 0, pad;
	uint32_t i;

	for (i = 0; i < m->num_cpu_ents; i++) {
		struct sim_seg *g = &m->segs[i];

		g->span = (g->cpu_off + g->len + ps - 1) & ~(ps - 1);
		if (g->span - 1 > b)
			return s_crosses(s, i, 0, g->span);
		/* Pad to the next boundary rather than let this segment cross it. */
		pad = (b - len + 1) & b;
		if (i && pad && pad < g->span) {
			m->segs[i - 1].span += pad;
			len += pad;
		}
		g->dma = len;
		len += g->span;
	}
	*out_len = len;
	return 0;
}

/* Merge into DMA segments as __finalise_sg() does; returns the count. */
static uint32_t s_iommu_finalise(struct sgt_simiommu *s, const struct sim_map *m,
				 struct sgt_sg_table *sgt)
{
	uint64_t b = s_boundary(s), max_len = s_max_seg(s), cur_len = 0;
	struct sgt_pos pos;
	struct sgt_entry *cur = (struct sgt_entry *)(uintptr_t)sgt_sg_first(sgt, &pos);
	uint32_t i, count = 0;

	for (i = 0; i < m->num_cpu_ents; i++) {
		const struct sim_seg *g = &m->segs[i];

		if (cur_len && !g->cpu_off && (g->dma & b) && max_len - cur_len >= g->len) {
			cur_len += g->len;
		} else {
			if (count)
				cur = (struct sgt_entry *)(uintptr_t)sgt_sg_next(&pos);
			cur_len = g->len;
			count++;
			cur->dma_addr = g->dma + g->cpu_off;
		}
		cur->dma_len = (uint32_t)cur_len;
		/* Only a segment that fills its IOVA pages can be continued. */
		if (g->cpu_off + g->len < g->span)
			cur_len = 0;
	}
	return count;
}

static int s_map_iommu(struct sgt_simiommu *s, struct sim_map *m, struct sgt_sg_table *sgt,
		       uint32_t *out_n)
{
	unsigned int shift = sim_shift(s);
	uint64_t len = 0, base;
	uint32_t i;
	int err = s_iommu_layout(s, m, &len);

	if (!err)
		err = sgt_iova_alloc(s->iova, len, s->mask, &base);
	if (err)
		return err;
	err = sim_pt_prepare(s, base >> shift, len >> shift);
	if (err) {
		s_iova_put(s->iova, base, len);
		return err;
	}
	m->iova = base;
	m->iova_len = len;
	for (i = 0; i < m->num_cpu_ents; i++) {
		struct sim_seg *g = &m->segs[i];

		g->dma += base;
		s_ptes(s, g->dma >> shift, s_pages(g->cpu_off, g->len, shift), g->cpu_pfn, m->dir,
		       1);
	}
	*out_n = s_iommu_finalise(s, m, sgt);
	return 0;
}

/* ---- direct mode ---- */

static int s_map_direct(struct sgt_simiommu *s, struct sim_map *m, struct sgt_sg_table *sgt,
			uint32_t *out_n)
{
	unsigned int shift = sim_shift(s);
	struct sgt_pos pos;
	struct sgt_entry *e;
	uint32_t i;
	int err = 0;

	for (i = 0; i < m->num_cpu_ents && !err; i++) {
		struct sim_seg *g = &m->segs[i];

		g->dma = (g->cpu_pfn << shift) + g->cpu_off;
		g->span = g->len;
		if (g->dma + (g->len - 1) > s->mask)
			return -SGT_ERANGE; /* the device cannot reach this memory */
		err = s_crosses(s, i, g->dma, g->len);
		if (!err)
			err = sim_pt_prepare(s, g->dma >> shift, s_pages(g->dma, g->len, shift));
	}
	if (err)
		return err;
	e = (struct sgt_entry *)(uintptr_t)sgt_sg_first(sgt, &pos);
	for (i = 0; i < m->num_cpu_ents;
	     i++, e = (struct sgt_entry *)(uintptr_t)sgt_sg_next(&pos)) {
		struct sim_seg *g = &m->segs[i];

		s_ptes(s, g->dma >> shift, s_pages(g->dma, g->len, shift), g->dma >> shift, m->dir,
		       1);
		e->dma_addr = g->dma;
		e->dma_len = g->len;
	}
	*out_n = m->num_cpu_ents;
	return 0;
}

/* ---- bounce mode ---- */

static int s_bounce_slot(struct sgt_simiommu *s, struct sim_map *m, uint32_t i)
{
	unsigned int shift = sim_shift(s);
	struct sim_seg *g = &m->segs[i];
	uint64_t need = g->len > s->dev.params.alignment ? g->len : s->dev.params.alignment;
	uint64_t granules = (need + (UINT64_C(1) << shift) - 1) >> shift, span = 1;
	int err;

	while (span < granules)
		span <<= 1;
	err = s_crosses(s, i, 0, span << shift); /* a slot is aligned to its own size */
	if (!err)
		err = sgt_iova_alloc(s->iova, need, s->mask, &g->dma);
	if (err)
		return err;
	g->span = need;
	err = sim_pt_prepare(s, g->dma >> shift, s_pages(g->dma, need, shift));
	if (err) {
		s_iova_put(s->iova, g->dma, need);
		return err;
	}
	s_ptes(s, g->dma >> shift, s_pages(g->dma, need, shift), UINT64_MAX, m->dir, 1);
	return 0;
}

static int s_map_bounce(struct sgt_simiommu *s, struct sim_map *m, struct sgt_sg_table *sgt,
			uint32_t *out_n)
{
	struct sgt_pos pos;
	struct sgt_entry *e;
	uint32_t i;
	int err = 0;

	for (i = 0; i < m->num_cpu_ents && !err; i++)
		err = s_bounce_slot(s, m, i);
	/* swiotlb copies on map in every direction, so stale pool bytes never leak out. */
	if (!err)
		err = s_bounce_all(s, m, m->num_cpu_ents, true);
	if (err) {
		s_release_segs(s, m, err == -SGT_EFAULT ? m->num_cpu_ents : i - 1);
		return err;
	}
	e = (struct sgt_entry *)(uintptr_t)sgt_sg_first(sgt, &pos);
	for (i = 0; i < m->num_cpu_ents;
	     i++, e = (struct sgt_entry *)(uintptr_t)sgt_sg_next(&pos)) {
		e->dma_addr = m->segs[i].dma;
		e->dma_len = m->segs[i].len;
	}
	*out_n = m->num_cpu_ents;
	return 0;
}

/* ---- the ops ---- */

/*
 * A mapping's identity: the table's first chunk. Not the table's own address, because a handle
 * transition moves the table struct (sgt_table_map() moves it into the mapping handle), while
 * its chunks never move.
 */
static uintptr_t s_key(const struct sgt_sg_table *sgt)
{
	return (uintptr_t)sgt->head;
}

static struct sim_map *s_new_map(struct sgt_simiommu *s, const struct sgt_sg_table *sgt,
				 enum sgt_dma_dir dir)
{
	size_t len = sizeof(struct sim_map) + (size_t)sgt->num_cpu_ents * sizeof(struct sim_seg);
	struct sim_map *m = s->alloc.alloc(s->alloc.ctx, len);
	const struct sgt_entry *e;
	struct sgt_pos pos;
	uint32_t i;

	if (!m)
		return NULL;
	memset(m, 0, len);
	m->node.key = s_key(sgt);
	m->dir = dir;
	m->num_cpu_ents = sgt->num_cpu_ents;
	for (i = 0, e = sgt_sg_first(sgt, &pos); e; i++, e = sgt_sg_next(&pos))
		m->segs[i] =
			(struct sim_seg){ .cpu_pfn = e->pfn, .cpu_off = e->offset, .len = e->len };
	return m;
}

static void s_history_forget(struct sgt_simiommu *s, uintptr_t key)
{
	uint32_t i;

	for (i = 0; i < SIM_HISTORY; i++) {
		if (s->history[i] == key)
			s->history[i] = 0;
	}
}

static bool s_history_has(const struct sgt_simiommu *s, uintptr_t key)
{
	uint32_t i;

	/* Empty history slots are 0, and so is the key of a table without chunks (never mapped). */
	if (!key)
		return false;

	for (i = 0; i < SIM_HISTORY; i++) {
		if (s->history[i] == key)
			return true;
	}
	return false;
}

static int s_map_checks(struct sgt_simiommu *s, const struct sgt_sg_table *sgt)
{
	const struct sgt_entry *e;
	struct sgt_pos pos;
	uint32_t i;
	int err = 0;

	/* The device reaches CPU pages through its own domain: the page sizes must agree. */
	if (s->p.mem->page_shift != sgt->mem->page_shift)
		return -SGT_EINVAL;
	if (sgt_avl_find(s->maps, s_key(sgt)))
		return -SGT_EBUSY;
	if (s->p.max_mappings && s->live >= s->p.max_mappings)
		return -SGT_ENOSPC;
	for (i = 0, e = sgt_sg_first(sgt, &pos); e && !err; i++, e = sgt_sg_next(&pos))
		err = s_check_entry(s, i, e);
	if (!err && s->p.mode != SGT_SIMIOMMU_IOMMU && s->dev.params.max_segments &&
	    sgt->num_cpu_ents > s->dev.params.max_segments) {
		sim_report(s, SGT_REPORT_TOO_MANY_SEGMENTS, "%u entries, the device takes %u",
			   sgt->num_cpu_ents, s->dev.params.max_segments);
		err = -SGT_EINVAL;
	}
	if (!err && s_inject_fail(s))
		err = -SGT_ENOMEM;
	return err;
}

static int s_map_locked(struct sgt_simiommu *s, struct sgt_sg_table *sgt, enum sgt_dma_dir dir,
			uint32_t *out_n)
{
	struct sim_map *m;
	int err = s_map_checks(s, sgt);

	if (err)
		return err;
	m = s_new_map(s, sgt, dir);
	if (!m)
		return -SGT_ENOMEM;
	switch (s->p.mode) {
	case SGT_SIMIOMMU_DIRECT:
		err = s_map_direct(s, m, sgt, out_n);
		break;
	case SGT_SIMIOMMU_BOUNCE:
		err = s_map_bounce(s, m, sgt, out_n);
		break;
	case SGT_SIMIOMMU_IOMMU:
	default:
		err = s_map_iommu(s, m, sgt, out_n);
		break;
	}
	if (!err) {
		sgt->num_dma_ents = *out_n;
		err = s_check_result(s, sgt);
		sgt->num_dma_ents = 0; /* the core sets it when it accepts the mapping */
		if (err)
			s_release_segs(s, m, m->num_cpu_ents);
	}
	if (err) {
		s->alloc.free(s->alloc.ctx, m,
			      sizeof(*m) + (size_t)m->num_cpu_ents * sizeof(struct sim_seg));
		return err;
	}
	m->num_dma_ents = *out_n;
	s->maps = sgt_avl_insert(s->maps, &m->node);
	s->live++;
	s_history_forget(s, s_key(sgt));
	return 0;
}

int sim_map_sg(struct sgt_device *dev, struct sgt_sg_table *sgt, enum sgt_dma_dir dir,
	       unsigned long attrs, uint32_t *out_num_dma_ents)
{
	struct sgt_simiommu *s = sim_of(dev);
	int err;

	(void)attrs;
	pthread_mutex_lock(&s->lock);
	err = s_map_locked(s, sgt, dir, out_num_dma_ents);
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* The live mapping of @sgt, or NULL after reporting why there is none. */
static struct sim_map *s_find(struct sgt_simiommu *s, const struct sgt_sg_table *sgt, bool unmap)
{
	struct sgt_avl_node *n = sgt_avl_find(s->maps, s_key(sgt));

	if (n)
		return sgt_avl_entry(n, struct sim_map, node);
	if (!unmap)
		sim_report(s, SGT_REPORT_SYNC_NOT_MAPPED, "table %p is not mapped",
			   (const void *)sgt);
	else if (s_history_has(s, s_key(sgt)))
		sim_report(s, SGT_REPORT_DOUBLE_UNMAP, "table %p was already unmapped",
			   (const void *)sgt);
	else
		sim_report(s, SGT_REPORT_UNMAP_NOT_MAPPED, "table %p was never mapped",
			   (const void *)sgt);
	return NULL;
}

static int s_unmap_checks(struct sgt_simiommu *s, const struct sim_map *m, uint32_t nents,
			  enum sgt_dma_dir dir)
{
	if (dir != m->dir) {
		sim_report(s, SGT_REPORT_UNMAP_WRONG_DIR,
			   "mapped with direction %d, unmapped with %d", m->dir, dir);
		return -SGT_EINVAL;
	}
	if (nents != m->num_cpu_ents && nents == m->num_dma_ents) {
		sim_report(s, SGT_REPORT_UNMAP_MAPPED_NENTS,
			   "unmap with %u, the mapped count; dma_unmap_sg() takes the original %u",
			   nents, m->num_cpu_ents);
		return -SGT_EINVAL;
	}
	if (nents != m->num_cpu_ents) {
		sim_report(s, SGT_REPORT_UNMAP_WRONG_NENTS, "mapped %u entries, unmap with %u",
			   m->num_cpu_ents, nents);
		return -SGT_EINVAL;
	}
	return 0;
}

int sim_unmap_sg(struct sgt_device *dev, const struct sgt_sg_table *sgt, uint32_t num_cpu_ents,
		 enum sgt_dma_dir dir, unsigned long attrs)
{
	struct sgt_simiommu *s = sim_of(dev);
	struct sim_map *m;
	struct sgt_avl_node *gone;
	int err = -SGT_EINVAL;

	(void)attrs;
	pthread_mutex_lock(&s->lock);
	m = s_find(s, sgt, true);
	if (m)
		err = s_unmap_checks(s, m, num_cpu_ents, dir);
	if (!err && s->p.mode == SGT_SIMIOMMU_BOUNCE && s_device_writes(dir))
		err = s_bounce_all(s, m, m->num_cpu_ents, false);
	if (!err) {
		s->maps = sgt_avl_remove(s->maps, m->node.key, &gone);
		sim_release_map(s, m);
		s->live--;
		s->history[s->history_next++ % SIM_HISTORY] = s_key(sgt);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int s_sync(struct sgt_device *dev, const struct sgt_sg_table *sgt, uint32_t nents,
		  enum sgt_dma_dir dir, bool for_cpu)
{
	struct sgt_simiommu *s = sim_of(dev);
	struct sim_map *m;
	int err = -SGT_EINVAL;

	pthread_mutex_lock(&s->lock);
	m = s_find(s, sgt, false);
	if (m && dir != m->dir) {
		sim_report(s, SGT_REPORT_SYNC_WRONG_DIR, "mapped with direction %d, synced with %d",
			   m->dir, dir);
	} else if (m && nents > m->num_cpu_ents) {
		sim_report(s, SGT_REPORT_SYNC_BEYOND_RANGE, "sync of %u entries, %u were mapped",
			   nents, m->num_cpu_ents);
	} else if (m) {
		err = 0;
		if (s->p.mode == SGT_SIMIOMMU_BOUNCE && for_cpu && s_device_writes(dir))
			err = s_bounce_all(s, m, nents, false);
		else if (s->p.mode == SGT_SIMIOMMU_BOUNCE && !for_cpu && s_device_reads(dir))
			err = s_bounce_all(s, m, nents, true);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

int sim_sync_for_cpu(struct sgt_device *dev, const struct sgt_sg_table *sgt, uint32_t nents,
		     enum sgt_dma_dir dir)
{
	return s_sync(dev, sgt, nents, dir, true);
}

int sim_sync_for_device(struct sgt_device *dev, const struct sgt_sg_table *sgt, uint32_t nents,
			enum sgt_dma_dir dir)
{
	return s_sync(dev, sgt, nents, dir, false);
}
