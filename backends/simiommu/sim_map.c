// SPDX-License-Identifier: MIT
/*
 * map_sg, unmap_sg and the syncs of the simulated IOMMU, for its three modes. The map validates
 * everything before it changes anything, so a refused map leaves the table and the device as
 * they were; the unmap cannot fail. Misuse of the DMA API is the core's to catch (its debug
 * layer); the simulator checks only what the device itself imposes (its constraints, which it
 * guarantees) and records what only a device can see (faults, bounce copies that failed).
 */
#include <string.h>

#include "sim_internal.h"

static uint64_t s_boundary(const struct sgt_simiommu *s)
{
	return s->dev.params.seg_boundary_mask ? s->dev.params.seg_boundary_mask : UINT64_MAX;
}

static uint64_t s_max_seg(const struct sgt_simiommu *s)
{
	return sgt_device_max_segment(&s->dev.params);
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

/*
 * Copy one entry between its CPU pages and its bounce slot. A CPU page the memory domain cannot
 * reach fails the copy with -SGT_EFAULT, or, with @best_effort (an unmap, which cannot fail), is
 * recorded as a fault and skipped so the rest still arrives.
 */
static int s_bounce_copy(struct sgt_simiommu *s, const struct sgt_iommu_seg *g, bool to_bounce,
			 bool best_effort)
{
	const struct sgt_memory *mem = s->p.mem;
	uint64_t ps = UINT64_C(1) << mem->page_shift, done = 0;
	uint8_t *slot = s->pool + (g->dma - s->window.start);
	int err = 0;

	while (done < g->len) {
		uint64_t abs = g->cpu_off + done;
		uint64_t pfn = g->cpu_pfn + (abs >> mem->page_shift), off = abs & (ps - 1);
		uint64_t n = ps - off < g->len - done ? ps - off : g->len - done;
		uint8_t *page = mem->map_page(mem->ctx, pfn);

		if (!page && !best_effort)
			return -SGT_EFAULT;
		if (!page) {
			sim_fault(s, (pfn << mem->page_shift) + off, n, SGT_FAULT_CPU_UNREACHABLE);
			err = -SGT_EFAULT;
			done += n;
			continue;
		}
		if (to_bounce)
			memcpy(slot + done, page + off, (size_t)n);
		else
			memcpy(page + off, slot + done, (size_t)n);
		if (mem->unmap_page)
			mem->unmap_page(mem->ctx, pfn, page);
		done += n;
	}
	return err;
}

static int s_bounce_all(struct sgt_simiommu *s, const struct sim_map *m, bool to_bounce,
			bool best_effort)
{
	uint32_t i;
	int err = 0, e;

	for (i = 0; i < m->num_cpu_ents && (!err || best_effort); i++) {
		e = s_bounce_copy(s, &m->segs[i], to_bounce, best_effort);
		err = err ? err : e;
	}
	return err;
}

/* ---- releasing a mapping: the same for undoing a failed map and for unmap ---- */

static void s_release_segs(struct sgt_simiommu *s, struct sim_map *m, uint32_t num)
{
	unsigned int shift = sim_shift(s);
	uint32_t i;

	for (i = 0; i < num; i++) {
		struct sgt_iommu_seg *g = &m->segs[i];

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

static size_t s_map_size(uint32_t num_cpu_ents)
{
	return sizeof(struct sim_map) + (size_t)num_cpu_ents * sizeof(struct sgt_iommu_seg);
}

/* Take a live mapping off the device's list, revoke its access, free it. */
void sim_release_map(struct sgt_simiommu *s, struct sim_map *m)
{
	if (m->prev)
		m->prev->next = m->next;
	else
		s->maps = m->next;
	if (m->next)
		m->next->prev = m->prev;
	s->live--;
	s_release_segs(s, m, m->num_cpu_ents);
	s->alloc.free(s->alloc.ctx, m, s_map_size(m->num_cpu_ents));
}

/* ---- the device's constraints, which the simulator guarantees by refusing ---- */

/* After the layout: a mapping the device cannot take (too many or misaligned segments). */
static int s_check_result(struct sgt_simiommu *s, const struct sgt_sg_table *sgt, uint32_t n)
{
	const struct sgt_device_params *p = &s->dev.params;
	const struct sgt_entry *e;
	struct sgt_pos pos;
	uint32_t i;

	if (p->max_segments && n > p->max_segments)
		return -SGT_EINVAL;
	if (!p->alignment || s->p.mode == SGT_SIMIOMMU_BOUNCE) /* slots are aligned by design */
		return 0;
	for (i = 0, e = sgt_sg_first(sgt, &pos); e && i < n; i++, e = sgt_sg_next(&pos)) {
		if (e->dma_addr & (p->alignment - 1))
			return -SGT_EINVAL;
	}
	return 0;
}

/* Would a span of @span bytes at @start cross the segment boundary? */
static int s_crosses(struct sgt_simiommu *s, uint64_t start, uint64_t span)
{
	uint64_t b = s_boundary(s);

	return (start & ~b) == ((start + span - 1) & ~b) ? 0 : -SGT_EINVAL;
}

/* ---- iommu mode ---- */

static int s_map_iommu(struct sgt_simiommu *s, struct sim_map *m, struct sgt_sg_table *sgt,
		       uint32_t *out_n)
{
	unsigned int shift = sim_shift(s);
	uint64_t len = 0, base;
	uint32_t i;
	int err = sgt_iommu_layout(m->segs, m->num_cpu_ents, shift, s_max_seg(s), s_boundary(s),
				   &len);

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
		struct sgt_iommu_seg *g = &m->segs[i];

		g->dma += base;
		s_ptes(s, g->dma >> shift, s_pages(g->cpu_off, g->len, shift), g->cpu_pfn, m->dir,
		       1);
	}
	*out_n = sgt_iommu_finalise(m->segs, m->num_cpu_ents, s_max_seg(s), s_boundary(s), sgt);
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
		struct sgt_iommu_seg *g = &m->segs[i];

		g->dma = (g->cpu_pfn << shift) + g->cpu_off;
		g->span = g->len;
		if (g->dma + (g->len - 1) > s->mask)
			return -SGT_ERANGE; /* the device cannot reach this memory */
		err = g->len > s_max_seg(s) ? -SGT_EINVAL : s_crosses(s, g->dma, g->len);
		if (!err)
			err = sim_pt_prepare(s, g->dma >> shift, s_pages(g->dma, g->len, shift));
	}
	if (err)
		return err;
	e = (struct sgt_entry *)(uintptr_t)sgt_sg_first(sgt, &pos);
	for (i = 0; i < m->num_cpu_ents;
	     i++, e = (struct sgt_entry *)(uintptr_t)sgt_sg_next(&pos)) {
		struct sgt_iommu_seg *g = &m->segs[i];

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
	struct sgt_iommu_seg *g = &m->segs[i];
	uint64_t need = g->len > s->dev.params.alignment ? g->len : s->dev.params.alignment;
	uint64_t granules = (need + (UINT64_C(1) << shift) - 1) >> shift, span = 1;
	int err;

	while (span < granules)
		span <<= 1;
	/* a slot is aligned to its own size */
	err = g->len > s_max_seg(s) ? -SGT_EINVAL : s_crosses(s, 0, span << shift);
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
		err = s_bounce_all(s, m, true, false);
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

static struct sim_map *s_new_map(struct sgt_simiommu *s, const struct sgt_sg_table *sgt,
				 enum sgt_dma_dir dir)
{
	size_t len = s_map_size(sgt->num_cpu_ents);
	struct sim_map *m = s->alloc.alloc(s->alloc.ctx, len, s->actx);
	const struct sgt_entry *e;
	struct sgt_pos pos;
	uint32_t i;

	if (!m)
		return NULL;
	memset(m, 0, len);
	m->dir = dir;
	m->num_cpu_ents = sgt->num_cpu_ents;
	for (i = 0, e = sgt_sg_first(sgt, &pos); e && i < m->num_cpu_ents;
	     i++, e = sgt_sg_next(&pos))
		m->segs[i] = (struct sgt_iommu_seg){ .cpu_pfn = e->pfn,
						     .cpu_off = e->offset,
						     .len = e->len };
	return m;
}

static int s_map_checks(struct sgt_simiommu *s, const struct sgt_sg_table *sgt)
{
	/* The device reaches CPU pages through its own domain: the page sizes must agree. */
	if (s->p.mem->page_shift != sgt->mem->page_shift)
		return -SGT_EINVAL;
	if (s->p.max_mappings && s->live >= s->p.max_mappings)
		return -SGT_ENOSPC;
	/* Without merging, every entry is a segment: too many cannot be laid out. */
	if (s->p.mode != SGT_SIMIOMMU_IOMMU && s->dev.params.max_segments &&
	    sgt->num_cpu_ents > s->dev.params.max_segments)
		return -SGT_EINVAL;
	return s_inject_fail(s) ? -SGT_ENOMEM : 0;
}

static int s_map_mode(struct sgt_simiommu *s, struct sim_map *m, struct sgt_sg_table *sgt,
		      uint32_t *out_n)
{
	switch (s->p.mode) {
	case SGT_SIMIOMMU_DIRECT:
		return s_map_direct(s, m, sgt, out_n);
	case SGT_SIMIOMMU_BOUNCE:
		return s_map_bounce(s, m, sgt, out_n);
	case SGT_SIMIOMMU_IOMMU:
	default:
		return s_map_iommu(s, m, sgt, out_n);
	}
}

static void s_clear_dma_fields(struct sgt_sg_table *sgt, uint32_t n)
{
	struct sgt_entry *e;
	struct sgt_pos pos;
	uint32_t i;

	for (i = 0, e = (struct sgt_entry *)(uintptr_t)sgt_sg_first(sgt, &pos); e && i < n;
	     i++, e = (struct sgt_entry *)(uintptr_t)sgt_sg_next(&pos))
		e->dma_addr = e->dma_len = 0;
}

static int s_map_locked(struct sgt_simiommu *s, struct sgt_sg_table *sgt, enum sgt_dma_dir dir,
			struct sim_map **out_m, uint32_t *out_n)
{
	struct sim_map *m;
	int err = s_map_checks(s, sgt);

	if (err)
		return err;
	m = s_new_map(s, sgt, dir);
	if (!m)
		return -SGT_ENOMEM;
	err = s_map_mode(s, m, sgt, out_n);
	if (!err) {
		err = s_check_result(s, sgt, *out_n);
		if (err) {
			s_release_segs(s, m, m->num_cpu_ents);
			s_clear_dma_fields(sgt, *out_n);
		}
	}
	if (err) {
		s->alloc.free(s->alloc.ctx, m, s_map_size(m->num_cpu_ents));
		return err;
	}
	m->num_dma_ents = *out_n;
	m->next = s->maps;
	if (s->maps)
		s->maps->prev = m;
	s->maps = m;
	s->live++;
	*out_m = m;
	return 0;
}

int sim_map_sg(struct sgt_device *dev, struct sgt_sg_table *sgt, enum sgt_dma_dir dir,
	       unsigned long attrs, void **out_priv, uint32_t *out_num_dma_ents,
	       enum sgt_alloc_ctx actx)
{
	struct sgt_simiommu *s = sim_of(dev);
	struct sim_map *m = NULL;
	int err;

	(void)attrs;
	pthread_mutex_lock(&s->lock);
	s->actx = actx;
	s->changes++;
	err = s_map_locked(s, sgt, dir, &m, out_num_dma_ents);
	s->actx = SGT_MAY_SLEEP;
	pthread_mutex_unlock(&s->lock);
	if (!err)
		*out_priv = m;
	return err;
}

void sim_unmap_sg(struct sgt_device *dev, struct sgt_sg_table *sgt, void *priv,
		  enum sgt_dma_dir dir, unsigned long attrs)
{
	struct sgt_simiommu *s = sim_of(dev);
	struct sim_map *m = priv;

	(void)sgt;
	(void)dir; /* the core passes the map's; the mapping keeps its own anyway */
	(void)attrs;
	pthread_mutex_lock(&s->lock);
	s->changes++;
	/* Copy back what can be copied; a page that cannot is a recorded fault, not a refusal. */
	if (s->p.mode == SGT_SIMIOMMU_BOUNCE && s_device_writes(m->dir))
		(void)s_bounce_all(s, m, false, true);
	sim_release_map(s, m);
	pthread_mutex_unlock(&s->lock);
}

static int s_sync(struct sgt_device *dev, void *priv, bool for_cpu)
{
	struct sgt_simiommu *s = sim_of(dev);
	struct sim_map *m = priv;
	int err = 0;

	/* A mapping the simulator did not make has no bounce slots it knows of. */
	if (!m)
		return -SGT_EOPNOTSUPP;
	pthread_mutex_lock(&s->lock);
	if (s->p.mode == SGT_SIMIOMMU_BOUNCE && for_cpu && s_device_writes(m->dir))
		err = s_bounce_all(s, m, false, false);
	else if (s->p.mode == SGT_SIMIOMMU_BOUNCE && !for_cpu && s_device_reads(m->dir))
		err = s_bounce_all(s, m, true, false);
	pthread_mutex_unlock(&s->lock);
	return err;
}

int sim_sync_for_cpu(struct sgt_device *dev, const struct sgt_sg_table *sgt, void *priv,
		     enum sgt_dma_dir dir)
{
	(void)sgt;
	(void)dir;
	return s_sync(dev, priv, true);
}

int sim_sync_for_device(struct sgt_device *dev, const struct sgt_sg_table *sgt, void *priv,
			enum sgt_dma_dir dir)
{
	(void)sgt;
	(void)dir;
	return s_sync(dev, priv, false);
}
