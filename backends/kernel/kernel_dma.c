// SPDX-License-Identifier: MIT
/*
 * The kernel DMA backend. A mapping copies the sgt entries into a kernel scatterlist, hands it to
 * dma_map_sgtable() and copies the kernel's DMA segments back; the scatterlist is the mapping's
 * priv, kept until the unmap, because the kernel's unmap and syncs need the very table it mapped
 * (swiotlb finds its bounce slots through it, iommu-dma its IOVA range).
 *
 * Built by Kbuild only, with core/platform/kernel/.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>

#include "sgt/kernel.h"
#include "sgt/platform.h"
#include "sgt/sg_table.h"

/* The priv of a mapping sgt made: its first member is what the syncs take for every priv. */
struct s_kmap {
	struct sg_table lsgt;
	size_t size;
	struct scatterlist sgl[];
};

static struct sgt_kernel_device *s_kd(struct sgt_device *dev)
{
	return dev->impl;
}

static int s_errno(int kernel_err)
{
	switch (kernel_err) {
	case -ENOMEM:
		return -SGT_ENOMEM;
	case -EINVAL:
		return -SGT_EINVAL;
	default: /* -EIO, and -EREMOTEIO for peer-to-peer pages sgt never makes */
		return -SGT_EIO;
	}
}

/*
 * The caller's side of the DMA API contract, which dma-direct and swiotlb do not enforce: every
 * entry is a valid run of kernel frames, no longer than the maximum segment, and its physical
 * range does not cross the segment boundary.
 */
static int s_entry_ok(const struct sgt_entry *e, const struct sgt_device_params *p)
{
	uint64_t last_pfn = e->pfn + ((uint64_t)e->offset + e->len - 1) / PAGE_SIZE;
	uint64_t first, last;

	if (!pfn_valid(e->pfn) || !pfn_valid(last_pfn))
		return -SGT_EINVAL;
	if (e->len > sgt_device_max_segment(p))
		return -SGT_EINVAL;
	first = ((uint64_t)e->pfn << PAGE_SHIFT) + e->offset;
	last = first + e->len - 1;
	if ((first & ~p->seg_boundary_mask) != (last & ~p->seg_boundary_mask))
		return -SGT_EINVAL;
	return 0;
}

static struct s_kmap *s_kmap_new(struct sgt_kernel_device *kd, const struct sgt_sg_table *sgt,
				 enum sgt_alloc_ctx actx)
{
	size_t size = struct_size((struct s_kmap *)NULL, sgl, sgt->num_cpu_ents);
	struct s_kmap *km = kd->alloc->alloc(kd->alloc->ctx, size, actx);

	if (!km)
		return NULL;
	km->size = size;
	sg_init_table(km->sgl, sgt->num_cpu_ents);
	km->lsgt.sgl = km->sgl;
	km->lsgt.orig_nents = sgt->num_cpu_ents;
	km->lsgt.nents = 0;
	return km;
}

static void s_kmap_free(struct sgt_kernel_device *kd, struct s_kmap *km)
{
	kd->alloc->free(kd->alloc->ctx, km, km->size);
}

static int s_fill(struct sgt_kernel_device *kd, const struct sgt_sg_table *sgt, struct s_kmap *km)
{
	struct scatterlist *sg = km->sgl;
	const struct sgt_entry *e;
	struct sgt_pos pos;
	uint32_t i;
	int err;

	for (i = 0, e = sgt_sg_first(sgt, &pos); e && i < sgt->num_cpu_ents;
	     i++, e = sgt_sg_next(&pos), sg = sg_next(sg)) {
		err = s_entry_ok(e, &kd->dev.params);
		if (err)
			return err;
		sg_set_page(sg, pfn_to_page(e->pfn), e->len, e->offset);
	}
	return 0;
}

/* Copy the kernel's DMA segments into the sgt slots; the core checks them. */
static void s_copy_segments(struct sgt_sg_table *sgt, struct sg_table *lsgt)
{
	struct scatterlist *sg;
	struct sgt_entry *e;
	struct sgt_pos pos;
	unsigned int i;

	e = (struct sgt_entry *)sgt_sg_first(sgt, &pos);
	for_each_sgtable_dma_sg(lsgt, sg, i)
	{
		e->dma_addr = sg_dma_address(sg);
		e->dma_len = sg_dma_len(sg);
		e = (struct sgt_entry *)sgt_sg_next(&pos);
	}
}

static int s_map_sg(struct sgt_device *dev, struct sgt_sg_table *sgt, enum sgt_dma_dir dir,
		    unsigned long attrs, void **out_priv, uint32_t *out_n, enum sgt_alloc_ctx actx)
{
	struct sgt_kernel_device *kd = s_kd(dev);
	struct s_kmap *km;
	int err;

	/* Frames must be the kernel's: only the platform's memory domain says so. */
	if (sgt->mem != sgt_platform_memory())
		return -SGT_EINVAL;
	km = s_kmap_new(kd, sgt, actx);
	if (!km)
		return -SGT_ENOMEM;
	err = s_fill(kd, sgt, km);
	if (!err)
		err = dma_map_sgtable(kd->kdev, &km->lsgt, (enum dma_data_direction)dir, attrs);
	if (err) {
		s_kmap_free(kd, km);
		return s_errno(err); /* in the kernel, sgt's codes are the kernel's */
	}
	s_copy_segments(sgt, &km->lsgt);
	atomic_long_inc(&kd->live);
	*out_priv = km;
	*out_n = km->lsgt.nents;
	return 0;
}

static void s_unmap_sg(struct sgt_device *dev, struct sgt_sg_table *sgt, void *priv,
		       enum sgt_dma_dir dir, unsigned long attrs)
{
	struct sgt_kernel_device *kd = s_kd(dev);
	struct s_kmap *km = priv;

	(void)sgt;
	dma_unmap_sgtable(kd->kdev, &km->lsgt, (enum dma_data_direction)dir, attrs);
	s_kmap_free(kd, km);
	atomic_long_dec(&kd->live);
}

/* priv is sgt's own s_kmap or a borrowed kernel table: both start with a struct sg_table. */
static int s_sync(struct sgt_device *dev, void *priv, enum sgt_dma_dir dir, bool for_cpu)
{
	struct device *kdev = s_kd(dev)->kdev;

	if (!priv)
		return -SGT_EOPNOTSUPP;
	if (for_cpu)
		dma_sync_sgtable_for_cpu(kdev, priv, (enum dma_data_direction)dir);
	else
		dma_sync_sgtable_for_device(kdev, priv, (enum dma_data_direction)dir);
	return 0;
}

static int s_sync_for_cpu(struct sgt_device *dev, const struct sgt_sg_table *sgt, void *priv,
			  enum sgt_dma_dir dir)
{
	(void)sgt;
	return s_sync(dev, priv, dir, true);
}

static int s_sync_for_device(struct sgt_device *dev, const struct sgt_sg_table *sgt, void *priv,
			     enum sgt_dma_dir dir)
{
	(void)sgt;
	return s_sync(dev, priv, dir, false);
}

static int s_caps(struct sgt_device *dev, struct sgt_dma_caps *out)
{
	*out = (struct sgt_dma_caps){
		.page_sizes = PAGE_SIZE,
		.guarantees = SGT_DMA_GUARANTEES_MASK | SGT_DMA_GUARANTEES_MAX_SEGMENT_SIZE |
			      SGT_DMA_GUARANTEES_SEG_BOUNDARY,
	};
	(void)dev;
	return 0;
}

static const struct sgt_dma_ops s_ops = {
	.abi_version = SGT_DMA_OPS_ABI,
	.name = "kernel",
	.map_sg = s_map_sg,
	.unmap_sg = s_unmap_sg,
	.sync_sg_for_cpu = s_sync_for_cpu,
	.sync_sg_for_device = s_sync_for_device,
	.caps = s_caps,
};

int sgt_kernel_device_init(struct sgt_kernel_device *kd, struct device *kdev,
			   const struct sgt_allocator *alloc, const char *name)
{
	struct sgt_device_params p = { 0 };
	struct sgt_device dev;
	int err;

	if (!kd || !kdev || !dma_get_mask(kdev))
		return -SGT_EINVAL;
	p.dma_mask = dma_get_mask(kdev);
	p.max_segment_size = dma_get_max_seg_size(kdev);
	p.seg_boundary_mask = dma_get_seg_boundary(kdev);
	/* Made aside, so that @kd is written only on success; it points at @kd for the ops. */
	err = sgt_device_init(&dev, &s_ops, kd, &p, name ? name : dev_name(kdev));
	if (err)
		return err;
	kd->dev = dev;
	kd->kdev = kdev;
	kd->alloc = alloc ? alloc : sgt_platform_allocator();
	atomic_long_set(&kd->live, 0);
	return 0;
}

uint64_t sgt_kernel_device_cleanup(struct sgt_kernel_device *kd)
{
	uint64_t live;

	if (!kd || !kd->kdev)
		return 0;
	live = atomic_long_read(&kd->live);
	(void)sgt_device_cleanup(&kd->dev);
	kd->kdev = NULL;
	return live;
}

/* ---- BorrowedMapping over a kernel table someone else mapped ---- */

static bool s_borrow_args_ok(struct sgt_kernel_borrowed *kb, struct sgt_kernel_device *kd,
			     struct sg_table *lsgt, enum sgt_dma_dir dir)
{
	if (!kb || !kd || !kd->kdev || !lsgt || !lsgt->sgl)
		return false;
	if (dir != SGT_DMA_BIDIRECTIONAL && dir != SGT_DMA_TO_DEVICE && dir != SGT_DMA_FROM_DEVICE)
		return false;
	return lsgt->orig_nents && lsgt->nents && lsgt->nents <= lsgt->orig_nents;
}

/* One chunk with the kernel's entries, normalised to an offset below the page size. */
static int s_shadow_fill(struct sgt_sg_table *sh, struct sgt_chunk *c, struct sg_table *lsgt)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_sg (lsgt, sg, i) {
		struct sgt_entry *e = &c->ents[i];

		if (!sg->length)
			return -SGT_EINVAL;
		e->pfn = page_to_pfn(sg_page(sg)) + sg->offset / PAGE_SIZE;
		e->offset = sg->offset % PAGE_SIZE;
		e->len = sg->length;
		sh->total_len += sg->length;
	}
	for_each_sgtable_dma_sg(lsgt, sg, i)
	{
		c->ents[i].dma_addr = sg_dma_address(sg);
		c->ents[i].dma_len = sg_dma_len(sg);
	}
	return 0;
}

int sgt_kernel_borrow_sgtable(struct sgt_kernel_borrowed *kb, struct sgt_kernel_device *kd,
			      struct sg_table *lsgt, enum sgt_dma_dir dir, enum sgt_alloc_ctx actx)
{
	const struct sgt_allocator *a;
	struct sgt_sg_table sh = { 0 };
	struct sgt_borrowed_mapping bm;
	struct sgt_chunk *c;
	size_t size;
	int err;

	if (!s_borrow_args_ok(kb, kd, lsgt, dir) || (actx != SGT_MAY_SLEEP && actx != SGT_ATOMIC))
		return -SGT_EINVAL;
	a = kd->alloc;
	size = sgt_chunk_size(lsgt->orig_nents);
	c = a->alloc(a->ctx, size, actx);
	if (!c)
		return -SGT_ENOMEM;
	memset(c, 0, size);
	sgt_chunk_init(c, lsgt->orig_nents);
	c->num_ents = lsgt->orig_nents;
	sh = (struct sgt_sg_table){ .head = c,
				    .tail = c,
				    .mem = sgt_platform_memory(),
				    .num_cpu_ents = lsgt->orig_nents,
				    .num_dma_ents = lsgt->nents };
	err = s_shadow_fill(&sh, c, lsgt);
	if (!err)
		err = sgt_borrowed_mapping_init_foreign(&bm, &sh, &kd->dev, dir, lsgt);
	if (err) {
		a->free(a->ctx, c, size);
		return err;
	}
	/* Checked on the stack so that kb is written only on success; the handle moves with it. */
	bm.dma.cpu.sgt__sgt = &kb->sgt__shadow;
	kb->sgt__shadow = sh;
	kb->sgt__alloc = a;
	kb->bm = bm;
	return 0;
}

void sgt_kernel_borrowed_cleanup(struct sgt_kernel_borrowed *kb)
{
	struct sgt_chunk *c;

	if (!kb || !kb->sgt__alloc)
		return;
	sgt_borrowed_mapping_cleanup(&kb->bm);
	c = kb->sgt__shadow.head;
	kb->sgt__alloc->free(kb->sgt__alloc->ctx, c, sgt_chunk_size(c->capacity));
	kb->sgt__shadow = (struct sgt_sg_table){ 0 };
	kb->sgt__alloc = NULL;
}
