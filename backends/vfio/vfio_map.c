// SPDX-License-Identifier: MIT
/*
 * map_sg and unmap_sg of the VFIO backend, in its two ways (per table, and through registered
 * memory), registration, and tables over process memory. type1 on x86 is cache-coherent: there
 * are no sync ops (the core then treats syncs as done).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "sgt/iommu_layout.h"
#include "sgt/platform.h"
#include "vfio_internal.h"

/* One VFIO_IOMMU_MAP_DMA of a per-table mapping. */
struct s_run {
	uint64_t iova;
	uint64_t size;
};

/* A per-table mapping: the core's priv. */
struct s_tmap {
	uint64_t base, len;
	uint32_t num_runs;
	struct s_run runs[];
};

static struct sgt_vfio_device *s_dev(struct sgt_device *dev)
{
	return dev->impl;
}

static enum sgt_vfio_mode s_mode(const struct sgt_device *dev)
{
	return dev->ops == &vfio_ops[SGT_VFIO_REGISTERED] ? SGT_VFIO_REGISTERED
							  : SGT_VFIO_PER_TABLE;
}

/* The errors users of VFIO meet, each with its cause and fix. */
int vfio_map_errno(struct sgt_vfio_container *c, int err, uint64_t iova, uint64_t size)
{
	struct rlimit rl = { 0 };

	switch (err) {
	case -ENOMEM:
		(void)getrlimit(RLIMIT_MEMLOCK, &rl);
		vfio_msg(c,
			 "VFIO_IOMMU_MAP_DMA of %llu bytes: the locked-memory limit is exceeded "
			 "(RLIMIT_MEMLOCK %llu bytes): raise it (ulimit -l, limits.conf), or run "
			 "with "
			 "CAP_IPC_LOCK",
			 (unsigned long long)size, (unsigned long long)rl.rlim_cur);
		return -SGT_ENOMEM;
	case -ENOSPC:
		vfio_msg(
			c,
			"VFIO_IOMMU_MAP_DMA: the type1 mapping budget is used up: raise the module "
			"parameter (vfio_iommu_type1 dma_entry_limit), or map fewer, larger runs "
			"(registered memory)");
		return -SGT_ENOSPC;
	case -EEXIST:
		vfio_msg(c,
			 "VFIO_IOMMU_MAP_DMA: IOVA 0x%llx+0x%llx overlaps a mapping sgt did not "
			 "make: "
			 "is another user mapping in this container?",
			 (unsigned long long)iova, (unsigned long long)size);
		return -SGT_EBUSY;
	case -EINVAL:
		vfio_msg(c,
			 "VFIO_IOMMU_MAP_DMA: IOVA 0x%llx+0x%llx refused: outside the IOMMU's "
			 "usable "
			 "ranges, or not aligned to its page size",
			 (unsigned long long)iova, (unsigned long long)size);
		return -SGT_ERANGE;
	case -EFAULT:
		vfio_msg(c, "VFIO_IOMMU_MAP_DMA: the buffer is not mapped in this process");
		return -SGT_EFAULT;
	default:
		vfio_msg(c, "VFIO_IOMMU_MAP_DMA failed: %s", strerror(-err));
		return -SGT_EIO;
	}
}

static uint32_t s_flags(enum sgt_dma_dir dir)
{
	switch (dir) {
	case SGT_DMA_TO_DEVICE:
		return VFIO_DMA_MAP_FLAG_READ;
	case SGT_DMA_FROM_DEVICE:
		return VFIO_DMA_MAP_FLAG_WRITE;
	default:
		return VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	}
}

/* Unmap one run; exactly what was mapped must go. False when the kernel removed anything else. */
static bool s_unmap_run(struct sgt_vfio_container *c, const struct s_run *r)
{
	struct vfio_iommu_type1_dma_unmap um = { .argsz = sizeof(um),
						 .iova = r->iova,
						 .size = r->size };
	int err = vfio_ioctl(c, c->fd, VFIO_IOMMU_UNMAP_DMA, &um);

	if (!err && um.size == r->size)
		return true;
	vfio_msg(c, "VFIO_IOMMU_UNMAP_DMA 0x%llx+0x%llx removed 0x%llx bytes (%s)",
		 (unsigned long long)r->iova, (unsigned long long)r->size,
		 (unsigned long long)um.size, err ? strerror(-err) : "size differs");
	return false;
}

/*
 * Give back an IOVA range this container allocated, under its lock. That fails only if the
 * allocator is broken, which sgt_iova_check() would name; there is nothing better to do here.
 */
static void s_iova_put(struct sgt_vfio_container *c, uint64_t addr, uint64_t len)
{
	int err = sgt_iova_release(c->iova, addr, len);

	(void)err;
}

/* ---- per table ---- */

/*
 * VFIO maps the process's addresses: a frame must be its page's address >> page shift, which
 * the domain itself confirms (the platform's identity domain does; a test arena can).
 */
static bool s_is_process_memory(const struct sgt_memory *mem, uint64_t pfn)
{
	void *va = mem->map_page(mem->ctx, pfn);
	bool ok = va && (uintptr_t)va == (uintptr_t)(pfn << mem->page_shift);

	if (va && mem->unmap_page)
		mem->unmap_page(mem->ctx, pfn, va);
	return ok;
}

static int s_collect(struct sgt_vfio_container *c, const struct sgt_sg_table *sgt,
		     struct sgt_iommu_seg *segs)
{
	const struct sgt_entry *e;
	struct sgt_pos pos;
	uint32_t i;

	if (sgt->mem->page_shift != c->page_shift)
		return -SGT_EINVAL;
	for (i = 0, e = sgt_sg_first(sgt, &pos); e && i < sgt->num_cpu_ents;
	     i++, e = sgt_sg_next(&pos)) {
		if (!s_is_process_memory(sgt->mem, e->pfn)) {
			vfio_msg(
				c,
				"entry %u: frame 0x%llx is not process memory (its domain does not "
				"map frames to their addresses)",
				i, (unsigned long long)e->pfn);
			return -SGT_EINVAL;
		}
		segs[i] = (struct sgt_iommu_seg){ .cpu_pfn = e->pfn,
						  .cpu_off = e->offset,
						  .len = e->len };
	}
	return 0;
}

/* Runs: entries whose pages follow each other in both the process and IOVA space map at once. */
static uint32_t s_runs(struct sgt_vfio_container *c, const struct sgt_iommu_seg *segs, uint32_t n,
		       uint64_t base, struct s_run *runs, uint64_t *vaddrs)
{
	uint64_t ps = UINT64_C(1) << c->page_shift;
	uint32_t i, k = 0;

	for (i = 0; i < n; i++) {
		uint64_t va = segs[i].cpu_pfn << c->page_shift, iova = base + segs[i].dma;
		uint64_t size = (segs[i].cpu_off + segs[i].len + ps - 1) & ~(ps - 1);

		if (k && vaddrs[k - 1] + runs[k - 1].size == va &&
		    runs[k - 1].iova + runs[k - 1].size == iova) {
			runs[k - 1].size += size;
			continue;
		}
		vaddrs[k] = va;
		runs[k++] = (struct s_run){ iova, size };
	}
	return k;
}

static int s_map_runs(struct sgt_vfio_container *c, struct s_tmap *m, const uint64_t *vaddrs,
		      enum sgt_dma_dir dir)
{
	uint32_t k;
	int err = 0;

	for (k = 0; k < m->num_runs && !err; k++) {
		struct vfio_iommu_type1_dma_map dm = { .argsz = sizeof(dm),
						       .flags = s_flags(dir),
						       .vaddr = vaddrs[k],
						       .iova = m->runs[k].iova,
						       .size = m->runs[k].size };

		err = vfio_ioctl(c, c->fd, VFIO_IOMMU_MAP_DMA, &dm);
		if (err)
			err = vfio_map_errno(c, err, dm.iova, dm.size);
	}
	/* Half way: unmap what was mapped, so that the table is usable again. */
	if (err)
		while (--k > 0)
			(void)s_unmap_run(c, &m->runs[k - 1]);
	return err;
}

static size_t s_tmap_size(uint32_t n)
{
	return sizeof(struct s_tmap) +
	       n * (sizeof(struct s_run) + sizeof(uint64_t) + sizeof(struct sgt_iommu_seg));
}

static int s_map_table(struct sgt_device *dev, struct sgt_sg_table *sgt, enum sgt_dma_dir dir,
		       void **out_priv, uint32_t *out_n, enum sgt_alloc_ctx actx)
{
	struct sgt_vfio_device *d = s_dev(dev);
	struct sgt_vfio_container *c = d->c;
	uint64_t max_seg = sgt_device_max_segment(&dev->params);
	uint64_t b = dev->params.seg_boundary_mask ? dev->params.seg_boundary_mask : UINT64_MAX;
	uint64_t mask = dev->params.dma_mask ? dev->params.dma_mask : UINT64_MAX;
	uint32_t n = sgt->num_cpu_ents;
	/* One allocation: the mapping, its runs, and scratch for the vaddrs and the layout. */
	struct s_tmap *m = c->alloc.alloc(c->alloc.ctx, s_tmap_size(n), actx);
	uint64_t *vaddrs = m ? (uint64_t *)&m->runs[n] : NULL;
	struct sgt_iommu_seg *segs = m ? (struct sgt_iommu_seg *)&vaddrs[n] : NULL;
	int err = m ? s_collect(c, sgt, segs) : -SGT_ENOMEM;

	if (!err)
		err = sgt_iommu_layout(segs, n, c->page_shift, max_seg, b, &m->len);
	if (!err) {
		pthread_mutex_lock(&c->lock);
		err = sgt_iova_alloc(c->iova, m->len, mask, &m->base);
		pthread_mutex_unlock(&c->lock);
	}
	if (!err) {
		m->num_runs = s_runs(c, segs, n, m->base, m->runs, vaddrs);
		err = s_map_runs(c, m, vaddrs, dir);
		if (err) {
			pthread_mutex_lock(&c->lock);
			s_iova_put(c, m->base, m->len);
			pthread_mutex_unlock(&c->lock);
		}
	}
	if (err) {
		if (m)
			c->alloc.free(c->alloc.ctx, m, s_tmap_size(n));
		return err;
	}
	for (uint32_t i = 0; i < n; i++)
		segs[i].dma += m->base;
	*out_n = sgt_iommu_finalise(segs, n, max_seg, b, sgt);
	*out_priv = m;
	return 0;
}

static void s_unmap_table(struct sgt_device *dev, struct sgt_sg_table *sgt, struct s_tmap *m)
{
	struct sgt_vfio_container *c = s_dev(dev)->c;
	bool exact = true;
	uint32_t k;

	for (k = 0; k < m->num_runs; k++)
		exact &= s_unmap_run(c, &m->runs[k]);
	pthread_mutex_lock(&c->lock);
	/* An IOVA whose unmap went wrong stays allocated: never hand it out again. */
	if (exact)
		s_iova_put(c, m->base, m->len);
	pthread_mutex_unlock(&c->lock);
	c->alloc.free(c->alloc.ctx, m, s_tmap_size(sgt->num_cpu_ents));
}

/* ---- registered memory ---- */

static struct vfio_region *s_region_of(const struct sgt_vfio_container *c, uint64_t va,
				       uint64_t len)
{
	struct vfio_region *r;

	for (r = c->regions; r; r = r->next)
		if (va >= r->addr && va - r->addr <= r->len && len <= r->len - (va - r->addr))
			return r;
	return NULL;
}

/*
 * Count a registered-mode mapping's entries in their buffers (@delta +1 on map, -1 on unmap),
 * under the container's lock: a buffer in use cannot be unregistered, or its IOVAs could go to
 * another buffer while the device still has them.
 */
static void s_registered_users(struct sgt_vfio_container *c, const struct sgt_sg_table *sgt,
			       int64_t delta)
{
	const struct sgt_entry *e;
	struct sgt_pos pos;
	uint32_t i;

	for (i = 0, e = sgt_sg_first(sgt, &pos); e && i < sgt->num_cpu_ents;
	     i++, e = sgt_sg_next(&pos)) {
		struct vfio_region *r =
			s_region_of(c, (e->pfn << sgt->mem->page_shift) + e->offset, e->len);

		if (r)
			r->users += (uint64_t)delta;
	}
}

/* A translation: one segment per entry, refused when it breaks the device's constraints. */
static int s_map_registered(struct sgt_device *dev, struct sgt_sg_table *sgt, uint32_t *out_n)
{
	struct sgt_vfio_container *c = s_dev(dev)->c;
	const struct sgt_device_params *p = &dev->params;
	uint64_t b = p->seg_boundary_mask ? p->seg_boundary_mask : UINT64_MAX;
	uint64_t mask = p->dma_mask ? p->dma_mask : UINT64_MAX;
	struct sgt_entry *e;
	struct sgt_pos pos;
	uint32_t i;
	int err = 0;

	pthread_mutex_lock(&c->lock);
	for (i = 0, e = (struct sgt_entry *)(uintptr_t)sgt_sg_first(sgt, &pos);
	     e && i < sgt->num_cpu_ents && !err;
	     i++, e = (struct sgt_entry *)(uintptr_t)sgt_sg_next(&pos)) {
		uint64_t va = (e->pfn << sgt->mem->page_shift) + e->offset, a, last;
		const struct vfio_region *r = s_region_of(c, va, e->len);

		if (!s_is_process_memory(sgt->mem, e->pfn)) {
			vfio_msg(c, "entry %u: frame 0x%llx is not process memory", i,
				 (unsigned long long)e->pfn);
			err = -SGT_EINVAL;
			break;
		}
		if (!r) {
			vfio_msg(c,
				 "entry %u (0x%llx+0x%x) is not in a registered buffer: register "
				 "it first (sgt_vfio_register), or map per table",
				 i, (unsigned long long)va, e->len);
			err = -SGT_EINVAL;
			break;
		}
		a = r->iova + (va - r->addr);
		last = a + e->len - 1;
		if (last > mask) {
			vfio_msg(c,
				 "entry %u is registered at IOVA 0x%llx, beyond the device's DMA "
				 "mask 0x%llx: register it with that mask",
				 i, (unsigned long long)a, (unsigned long long)mask);
			err = -SGT_ERANGE;
		} else if (e->len > sgt_device_max_segment(p) || (a & ~b) != (last & ~b) ||
			   (p->alignment && (a & (p->alignment - 1))))
			err = -SGT_EINVAL;
		e->dma_addr = a;
		e->dma_len = e->len;
	}
	if (!err && p->max_segments && sgt->num_cpu_ents > p->max_segments)
		err = -SGT_EINVAL;
	if (!err)
		s_registered_users(c, sgt, 1);
	pthread_mutex_unlock(&c->lock);
	*out_n = sgt->num_cpu_ents;
	return err;
}

/* ---- the ops ---- */

static int s_map_sg(struct sgt_device *dev, struct sgt_sg_table *sgt, enum sgt_dma_dir dir,
		    unsigned long attrs, void **out_priv, uint32_t *out_n, enum sgt_alloc_ctx actx)
{
	struct sgt_vfio_device *d = s_dev(dev);
	int err;

	(void)attrs;
	err = s_mode(dev) == SGT_VFIO_REGISTERED
		      ? s_map_registered(dev, sgt, out_n)
		      : s_map_table(dev, sgt, dir, out_priv, out_n, actx);
	if (!err) {
		pthread_mutex_lock(&d->c->lock);
		d->live++;
		pthread_mutex_unlock(&d->c->lock);
	}
	return err;
}

static void s_unmap_sg(struct sgt_device *dev, struct sgt_sg_table *sgt, void *priv,
		       enum sgt_dma_dir dir, unsigned long attrs)
{
	struct sgt_vfio_device *d = s_dev(dev);

	(void)dir;
	(void)attrs;
	if (s_mode(dev) == SGT_VFIO_PER_TABLE)
		s_unmap_table(dev, sgt, priv);
	pthread_mutex_lock(&d->c->lock);
	if (s_mode(dev) == SGT_VFIO_REGISTERED)
		s_registered_users(d->c, sgt, -1);
	d->live--;
	pthread_mutex_unlock(&d->c->lock);
}

static int s_caps(struct sgt_device *dev, struct sgt_dma_caps *out)
{
	struct sgt_vfio_container *c = s_dev(dev)->c;
	uint32_t i;

	*out = (struct sgt_dma_caps){
		.page_sizes = c->page_sizes,
		.guarantees = SGT_DMA_GUARANTEES_MASK | SGT_DMA_GUARANTEES_MAX_SEGMENT_SIZE |
			      SGT_DMA_GUARANTEES_SEG_BOUNDARY,
	};
	/* A translation refuses every segment that breaks a constraint. */
	if (s_mode(dev) == SGT_VFIO_REGISTERED)
		out->guarantees = SGT_DMA_GUARANTEES_ALL;
	out->num_windows =
		c->num_ranges < SGT_DMA_MAX_WINDOWS ? c->num_ranges : SGT_DMA_MAX_WINDOWS;
	for (i = 0; i < out->num_windows; i++)
		out->windows[i] = c->ranges[i];
	return 0;
}

/* One ops table per way to map, so that a device's mode is its ops. */
const struct sgt_dma_ops vfio_ops[2] = {
	[SGT_VFIO_PER_TABLE] = { .abi_version = SGT_DMA_OPS_ABI,
				 .name = "vfio",
				 .map_sg = s_map_sg,
				 .unmap_sg = s_unmap_sg,
				 .caps = s_caps },
	[SGT_VFIO_REGISTERED] = { .abi_version = SGT_DMA_OPS_ABI,
				  .name = "vfio-registered",
				  .map_sg = s_map_sg,
				  .unmap_sg = s_unmap_sg,
				  .caps = s_caps },
};

/* ---- registration ---- */

int sgt_vfio_register(struct sgt_vfio_container *c, void *addr, size_t len, uint64_t dma_mask,
		      uint64_t *out_iova)
{
	uint64_t ps, va = (uintptr_t)addr;
	struct vfio_region *r;
	int err;

	if (!c || !addr || !len || !c->iova)
		return -SGT_EINVAL;
	ps = UINT64_C(1) << c->page_shift;
	if ((va | len) & (ps - 1))
		return -SGT_EINVAL;
	r = c->alloc.alloc(c->alloc.ctx, sizeof(*r), SGT_MAY_SLEEP);
	if (!r)
		return -SGT_ENOMEM;
	*r = (struct vfio_region){ .addr = va, .len = len };
	pthread_mutex_lock(&c->lock);
	for (struct vfio_region *o = c->regions; o; o = o->next)
		if (va < o->addr + o->len && o->addr < va + len) {
			vfio_msg(c, "0x%llx+0x%zx overlaps a registered buffer",
				 (unsigned long long)va, len);
			err = -SGT_EINVAL;
			goto fail;
		}
	err = sgt_iova_alloc(c->iova, len, dma_mask, &r->iova);
	if (err) {
		vfio_msg(c, "no free IOVA range of 0x%zx bytes under 0x%llx", len,
			 (unsigned long long)dma_mask);
		goto fail;
	}
	struct vfio_iommu_type1_dma_map dm = { .argsz = sizeof(dm),
					       .flags = VFIO_DMA_MAP_FLAG_READ |
							VFIO_DMA_MAP_FLAG_WRITE,
					       .vaddr = va,
					       .iova = r->iova,
					       .size = len };
	err = vfio_ioctl(c, c->fd, VFIO_IOMMU_MAP_DMA, &dm);
	if (err) {
		err = vfio_map_errno(c, err, dm.iova, dm.size);
		s_iova_put(c, r->iova, len);
		goto fail;
	}
	r->next = c->regions;
	c->regions = r;
	pthread_mutex_unlock(&c->lock);
	if (out_iova)
		*out_iova = r->iova;
	return 0;
fail:
	pthread_mutex_unlock(&c->lock);
	c->alloc.free(c->alloc.ctx, r, sizeof(*r));
	return err;
}

int sgt_vfio_unregister(struct sgt_vfio_container *c, void *addr)
{
	struct vfio_region **pp, *r;
	bool exact;

	if (!c)
		return -SGT_EINVAL;
	pthread_mutex_lock(&c->lock);
	for (pp = &c->regions; *pp && (*pp)->addr != (uintptr_t)addr; pp = &(*pp)->next)
		;
	r = *pp;
	if (!r || r->users) {
		if (r)
			vfio_msg(c,
				 "0x%llx is still in use by %llu entries of live mappings: unmap "
				 "them first",
				 (unsigned long long)r->addr, (unsigned long long)r->users);
		pthread_mutex_unlock(&c->lock);
		return r ? -SGT_EBUSY : -SGT_EINVAL;
	}
	*pp = r->next;
	exact = s_unmap_run(c, &(struct s_run){ r->iova, r->len });
	if (exact)
		s_iova_put(c, r->iova, r->len);
	pthread_mutex_unlock(&c->lock);
	c->alloc.free(c->alloc.ctx, r, sizeof(*r));
	return 0;
}

/* ---- tables over process memory ---- */

static uint64_t s_buffer_pfn(const void *ctx, uint64_t index)
{
	return (uint64_t)(uintptr_t)ctx + index;
}

int sgt_vfio_table_from_buffer(struct sgt_table *t, void *addr, size_t len, uint32_t max_segment,
			       enum sgt_alloc_ctx actx)
{
	const struct sgt_memory *mem = sgt_platform_memory();
	uint64_t ps = UINT64_C(1) << mem->page_shift, va = (uintptr_t)addr;
	struct sgt_table_params tp = { .mem = mem };
	struct sgt_pages pages;

	if (!t || !addr || !len || va + len < va)
		return -SGT_EINVAL;
	pages = (struct sgt_pages){
		.num_pages = ((va & (ps - 1)) + len + ps - 1) >> mem->page_shift,
		.pfn = s_buffer_pfn,
		.ctx = (const void *)(uintptr_t)(va >> mem->page_shift),
	};
	return sgt_table_init_from_pages(t, &tp, &pages, (uint32_t)(va & (ps - 1)), len,
					 max_segment, actx);
}
