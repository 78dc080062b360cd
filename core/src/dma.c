// SPDX-License-Identifier: MIT
/*
 * The DMA side of the core: the raw DMA API over a device's backend, the mapped handles built on
 * it, and the DMA-side iterators. No backend code lives here.
 */
#include "internal.h"

static bool s_dir_valid(enum sgt_dma_dir dir)
{
	/* DMA_NONE is not a direction to map with (Linux valid_dma_direction()). */
	return dir == SGT_DMA_BIDIRECTIONAL || dir == SGT_DMA_TO_DEVICE ||
	       dir == SGT_DMA_FROM_DEVICE;
}

static bool s_dev_valid(const struct sgt_device *dev)
{
	return dev && dev->ops && dev->ops->abi_version >= 1 && dev->ops->map_sg &&
	       dev->ops->unmap_sg;
}

static void s_clear_dma(struct sgt_sg_table *sgt)
{
	struct sgt_chunk *c;
	uint32_t i;

	for (c = sgt->head; c; c = c->next) {
		for (i = 0; i < c->num_ents; i++) {
			c->ents[i].dma_addr = 0;
			c->ents[i].dma_len = 0;
		}
	}
	sgt->num_dma_ents = 0;
}

static const char *s_check_segment(uint64_t addr, uint64_t len, const struct sgt_device_params *p)
{
	uint64_t mask = p->dma_mask ? p->dma_mask : UINT64_MAX;
	uint64_t max_seg = p->max_segment_size ? p->max_segment_size : SGT_DMA_DEFAULT_MAX_SEGMENT;
	uint64_t last = addr + (len - 1);

	if (last > mask)
		return "DMA segment beyond the device's DMA mask";
	if (len > max_seg)
		return "DMA segment longer than the device's maximum segment size";
	if (p->seg_boundary_mask &&
	    (addr & ~p->seg_boundary_mask) != (last & ~p->seg_boundary_mask))
		return "DMA segment crosses the device's segment boundary";
	if (p->alignment && (addr & (p->alignment - 1)))
		return "DMA segment not aligned as the device requires";
	return NULL;
}

int sgt_dma_check_segments(const struct sgt_sg_table *sgt, const struct sgt_device_params *params,
			   const char **out_why)
{
	const struct sgt_entry *e;
	const char *why = NULL;
	struct sgt_pos pos;
	uint32_t i;

	if (!sgt || !params)
		why = "NULL table or device parameters";
	else if (params->max_segments && sgt->num_dma_ents > params->max_segments)
		why = "more DMA segments than the device allows";
	for (i = 0, e = why ? NULL : sgt_sg_first(sgt, &pos); e && i < sgt->num_dma_ents && !why;
	     i++, e = sgt_sg_next(&pos))
		why = s_check_segment(e->dma_addr, e->dma_len, params);
	if (out_why)
		*out_why = why;
	return why ? -SGT_EINVAL : 0;
}

/*
 * A backend's result is checked in every build, not only in debug ones: map is O(n) anyway, and a
 * broken backend must not hand out a table that breaks the invariants or the device's limits.
 */
static int s_accept_mapping(struct sgt_device *dev, struct sgt_sg_table *sgt, uint32_t n)
{
	if (n == 0 || n > sgt->num_cpu_ents)
		return -SGT_EIO;
	sgt->num_dma_ents = n;
	if (sgt_sg_table_check(sgt, NULL) || sgt_dma_check_segments(sgt, &dev->params, NULL))
		return -SGT_EIO;
	return 0;
}

int sgt_dma_map_sg(struct sgt_device *dev, struct sgt_sg_table *sgt, enum sgt_dma_dir dir,
		   unsigned long attrs, uint32_t *out_num_dma_ents)
{
	uint32_t n = 0;
	int err;

	if (!s_dev_valid(dev) || !sgt || !out_num_dma_ents || !s_dir_valid(dir))
		return -SGT_EINVAL;
	if (sgt->num_cpu_ents == 0 || sgt->num_dma_ents || sgt_sg_table_check(sgt, NULL))
		return -SGT_EINVAL;
	err = dev->ops->map_sg(dev, sgt, dir, attrs, &n);
	if (!err) {
		err = s_accept_mapping(dev, sgt, n);
		if (err)
			(void)dev->ops->unmap_sg(dev, sgt, sgt->num_cpu_ents, dir, attrs);
	}
	if (err) {
		s_clear_dma(sgt);
		return err;
	}
	*out_num_dma_ents = n;
	return 0;
}

int sgt_dma_unmap_sg(struct sgt_device *dev, struct sgt_sg_table *sgt, uint32_t num_cpu_ents,
		     enum sgt_dma_dir dir, unsigned long attrs)
{
	int err;

	if (!s_dev_valid(dev) || !sgt || !s_dir_valid(dir))
		return -SGT_EINVAL;
	err = dev->ops->unmap_sg(dev, sgt, num_cpu_ents, dir, attrs);
	if (!err)
		s_clear_dma(sgt);
	return err;
}

static int s_sync(struct sgt_device *dev, const struct sgt_sg_table *sgt, uint32_t num_cpu_ents,
		  enum sgt_dma_dir dir, bool for_cpu)
{
	int (*op)(struct sgt_device *, const struct sgt_sg_table *, uint32_t, enum sgt_dma_dir);

	if (!s_dev_valid(dev) || !sgt || !s_dir_valid(dir))
		return -SGT_EINVAL;
	op = for_cpu ? dev->ops->sync_sg_for_cpu : dev->ops->sync_sg_for_device;
	/* A coherent backend has nothing to do on sync and may leave the ops out. */
	return op ? op(dev, sgt, num_cpu_ents, dir) : 0;
}

int sgt_dma_sync_sg_for_cpu(struct sgt_device *dev, const struct sgt_sg_table *sgt,
			    uint32_t num_cpu_ents, enum sgt_dma_dir dir)
{
	return s_sync(dev, sgt, num_cpu_ents, dir, true);
}

int sgt_dma_sync_sg_for_device(struct sgt_device *dev, const struct sgt_sg_table *sgt,
			       uint32_t num_cpu_ents, enum sgt_dma_dir dir)
{
	return s_sync(dev, sgt, num_cpu_ents, dir, false);
}

int sgt_device_caps(struct sgt_device *dev, struct sgt_dma_caps *out)
{
	if (!s_dev_valid(dev) || !out)
		return -SGT_EINVAL;
	if (!dev->ops->caps)
		return -SGT_EOPNOTSUPP;
	return dev->ops->caps(dev, out);
}

/* ---- mapped handles ---- */

static int s_dma_live(const struct sgt_dma *d)
{
	int err = d ? sgt__cpu_live(&d->cpu) : -SGT_EINVAL;

	if (err)
		return err;
	if (d->cpu.sgt__state != SGT__STATE_MANAGED &&
	    d->cpu.sgt__state != SGT__STATE_BORROWED_MAPPING)
		return -SGT_EINVAL;
	return 0;
}

static int s_mapping_live(const struct sgt_mapping *m)
{
	int err = m ? s_dma_live(&m->dma) : -SGT_EINVAL;

	if (!err && m->dma.cpu.sgt__state != SGT__STATE_MANAGED)
		err = -SGT_EINVAL;
	return err;
}

int sgt_table_map(struct sgt_table *t, struct sgt_device *dev, enum sgt_dma_dir dir,
		  unsigned long attrs, struct sgt_mapping *out)
{
	uint32_t n;
	int err = t ? sgt__cpu_live(&t->cpu) : -SGT_EINVAL;

	if (err)
		return err;
	if (t->cpu.sgt__state != SGT__STATE_OWNED || !out)
		return -SGT_EINVAL;
	err = sgt_dma_map_sg(dev, &t->sgt__own, dir, attrs, &n);
	if (err)
		return err;
	*out = (struct sgt_mapping){ .dma = { .sgt__dev = dev, .sgt__dir = dir },
				     .sgt__attrs = attrs };
	sgt__table_move(&out->sgt__owner, t);
	/* The inner table is reachable only through the mapping now. */
	out->sgt__owner.cpu.sgt__state = SGT__STATE_STALE;
	out->dma.cpu.sgt__sgt = &out->sgt__owner.sgt__own;
	out->dma.cpu.sgt__state = SGT__STATE_MANAGED;
	return 0;
}

int sgt_mapping_unmap(struct sgt_mapping *m, struct sgt_table *out)
{
	int err = s_mapping_live(m);

	if (err)
		return err;
	if (!out)
		return -SGT_EINVAL;
	err = sgt_dma_unmap_sg(m->dma.sgt__dev, &m->sgt__owner.sgt__own,
			       m->sgt__owner.sgt__own.num_cpu_ents, m->dma.sgt__dir, m->sgt__attrs);
	if (err)
		return err;
	sgt__table_move(out, &m->sgt__owner);
	m->dma = (struct sgt_dma){ .cpu = { .sgt__state = SGT__STATE_STALE } };
	return 0;
}

void sgt_mapping_cleanup(struct sgt_mapping *m)
{
	if (s_mapping_live(m))
		return;
	/* Unmap before freeing: the device must lose access before the memory can be reused. */
	if (sgt_dma_unmap_sg(m->dma.sgt__dev, &m->sgt__owner.sgt__own,
			     m->sgt__owner.sgt__own.num_cpu_ents, m->dma.sgt__dir, m->sgt__attrs))
		s_clear_dma(&m->sgt__owner.sgt__own);
	sgt__table_release(&m->sgt__owner);
	m->sgt__owner.cpu = (struct sgt_cpu){ .sgt__state = SGT__STATE_STALE };
	m->dma = (struct sgt_dma){ .cpu = { .sgt__state = SGT__STATE_STALE } };
}

int sgt_borrowed_mapping_init(struct sgt_borrowed_mapping *bm, const struct sgt_sg_table *sgt,
			      struct sgt_device *dev, enum sgt_dma_dir dir)
{
	if (!bm || !sgt || !s_dev_valid(dev) || !s_dir_valid(dir))
		return -SGT_EINVAL;
	if (sgt->num_dma_ents == 0 || sgt_sg_table_check(sgt, NULL))
		return -SGT_EINVAL;
	*bm = (struct sgt_borrowed_mapping){
		.dma = { .cpu = { .sgt__state = SGT__STATE_BORROWED_MAPPING, .sgt__sgt = sgt },
			 .sgt__dev = dev,
			 .sgt__dir = dir },
	};
	return 0;
}

void sgt_borrowed_mapping_cleanup(struct sgt_borrowed_mapping *bm)
{
	if (!bm || bm->dma.cpu.sgt__state != SGT__STATE_BORROWED_MAPPING)
		return;
	bm->dma = (struct sgt_dma){ .cpu = { .sgt__state = SGT__STATE_STALE } };
}

int sgt_dma_info(const struct sgt_dma *d, uint32_t *out_num_dma_ents)
{
	int err = s_dma_live(d);

	if (err)
		return err;
	if (!out_num_dma_ents)
		return -SGT_EINVAL;
	*out_num_dma_ents = d->cpu.sgt__sgt->num_dma_ents;
	return 0;
}

int sgt_dma_sync_for_cpu(const struct sgt_dma *d)
{
	int err = s_dma_live(d);

	if (err)
		return err;
	return sgt_dma_sync_sg_for_cpu(d->sgt__dev, d->cpu.sgt__sgt, d->cpu.sgt__sgt->num_cpu_ents,
				       d->sgt__dir);
}

int sgt_dma_sync_for_device(const struct sgt_dma *d)
{
	int err = s_dma_live(d);

	if (err)
		return err;
	return sgt_dma_sync_sg_for_device(d->sgt__dev, d->cpu.sgt__sgt,
					  d->cpu.sgt__sgt->num_cpu_ents, d->sgt__dir);
}

/* ---- DMA-side iterators ---- */

int sgt_dma_iter_init(struct sgt_dma_iter *it, const struct sgt_dma *d)
{
	int err = s_dma_live(d);

	if (err)
		return err;
	if (!it)
		return -SGT_EINVAL;
	*it = (struct sgt_dma_iter){ .sgt__left = d->cpu.sgt__sgt->num_dma_ents };
	it->sgt__ent = sgt_sg_first(d->cpu.sgt__sgt, &it->sgt__pos);
	return 0;
}

bool sgt_dma_iter_next(struct sgt_dma_iter *it)
{
	if (it->sgt__started && it->sgt__left) {
		it->sgt__ent = sgt_sg_next(&it->sgt__pos);
		it->index++;
	}
	if (!it->sgt__left || !it->sgt__ent)
		return false;
	it->sgt__started = true;
	it->sgt__left--;
	it->dma_addr = it->sgt__ent->dma_addr;
	it->dma_len = it->sgt__ent->dma_len;
	return true;
}

int sgt_dma_page_iter_init(struct sgt_dma_page_iter *it, const struct sgt_dma *d)
{
	struct sgt_dma_iter seg;
	int err = sgt_dma_iter_init(&seg, d);

	if (err)
		return err;
	if (!it)
		return -SGT_EINVAL;
	*it = (struct sgt_dma_page_iter){ .sgt__seg = seg,
					  .sgt__shift = d->cpu.sgt__sgt->mem->page_shift };
	return 0;
}

bool sgt_dma_page_iter_next(struct sgt_dma_page_iter *it)
{
	uint64_t ps = UINT64_C(1) << it->sgt__shift, addr;

	if (!it->sgt__have_seg || it->sgt__off >= it->sgt__seg.dma_len) {
		if (!sgt_dma_iter_next(&it->sgt__seg))
			return false;
		it->sgt__have_seg = true;
		it->sgt__off = 0;
	}
	addr = it->sgt__seg.dma_addr + it->sgt__off;
	it->dma_addr = addr;
	it->len = (uint32_t)SGT__MIN(it->sgt__seg.dma_len - it->sgt__off, ps - (addr & (ps - 1)));
	it->seg_index = it->sgt__seg.index;
	it->sgt__off += it->len;
	return true;
}
