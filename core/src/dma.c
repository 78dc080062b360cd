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
	return dev && dev->sgt__magic == SGT__DEVICE_MAGIC && dev->ops;
}

static bool s_guarantees(const struct sgt_device *dev, uint32_t what)
{
	return (dev->sgt__guarantees & what) == what;
}

/* O(n) checks of the caller's table run in debug builds and with the debug layer on. */
static bool s_full_checks(const struct sgt_device *dev)
{
	return SGT__DEBUG_BUILD || dev->sgt__debug;
}

/* ---- devices ---- */

static bool s_ops_valid(const struct sgt_dma_ops *ops)
{
	return ops && ops->abi_version == SGT_DMA_OPS_ABI && ops->map_sg && ops->unmap_sg;
}

/* The constraints only a backend can honour: set without its guarantee, the device is refused. */
static uint32_t s_needs(const struct sgt_device_params *p)
{
	uint32_t need = 0;

	if (p->dma_mask && p->dma_mask != UINT64_MAX)
		need |= SGT_DMA_GUARANTEES_MASK;
	if (p->seg_boundary_mask && p->seg_boundary_mask != UINT64_MAX)
		need |= SGT_DMA_GUARANTEES_SEG_BOUNDARY;
	if (p->alignment > 1)
		need |= SGT_DMA_GUARANTEES_ALIGNMENT;
	return need;
}

int sgt_device_init(struct sgt_device *dev, const struct sgt_dma_ops *ops, void *impl,
		    const struct sgt_device_params *params, const char *name)
{
	struct sgt_device d = { .ops = ops, .impl = impl, .name = name };
	struct sgt_dma_caps caps = { 0 };
	int err;

	if (!dev || !s_ops_valid(ops))
		return -SGT_EINVAL;
	if (params)
		d.params = *params;
	if (d.params.alignment & (d.params.alignment - 1))
		return -SGT_EINVAL;
	if (!d.name)
		d.name = ops->name;
	if (ops->caps) {
		err = ops->caps(&d, &caps);
		if (err)
			return err;
	}
	if (s_needs(&d.params) & ~caps.guarantees)
		return -SGT_EOPNOTSUPP;
	d.sgt__guarantees = caps.guarantees & SGT_DMA_GUARANTEES_ALL;
	d.sgt__magic = SGT__DEVICE_MAGIC;
	*dev = d;
	return 0;
}

int sgt_device_caps(struct sgt_device *dev, struct sgt_dma_caps *out)
{
	if (!s_dev_valid(dev) || !out)
		return -SGT_EINVAL;
	if (!dev->ops->caps)
		return -SGT_EOPNOTSUPP;
	return dev->ops->caps(dev, out);
}

/* ---- checking segments ---- */

/* The first rule a DMA segment breaks, as a report kind and a reason; false when none. */
static bool s_segment_breaks(uint64_t addr, uint64_t len, const struct sgt_device_params *p,
			     enum sgt_dma_report_kind *out_kind, const char **out_why)
{
	uint64_t mask = p->dma_mask ? p->dma_mask : UINT64_MAX;
	uint64_t last = addr + (len - 1);

	*out_why = NULL;
	if (last > mask) {
		*out_kind = SGT_REPORT_SEGMENT_BEYOND_MASK;
		*out_why = "DMA segment beyond the device's DMA mask";
	} else if (len > sgt_device_max_segment(p)) {
		*out_kind = SGT_REPORT_SEGMENT_TOO_LONG;
		*out_why = "DMA segment longer than the device's maximum segment size";
	} else if (p->seg_boundary_mask &&
		   (addr & ~p->seg_boundary_mask) != (last & ~p->seg_boundary_mask)) {
		*out_kind = SGT_REPORT_SEGMENT_CROSSES_BOUNDARY;
		*out_why = "DMA segment crosses the device's segment boundary";
	} else if (p->alignment && (addr & (p->alignment - 1))) {
		*out_kind = SGT_REPORT_SEGMENT_MISALIGNED;
		*out_why = "DMA segment not aligned as the device requires";
	}
	return *out_why != NULL;
}

int sgt_dma_check_segments(const struct sgt_sg_table *sgt, const struct sgt_device_params *params,
			   const char **out_why)
{
	enum sgt_dma_report_kind kind;
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
		(void)s_segment_breaks(e->dma_addr, e->dma_len, params, &kind, &why);
	if (out_why)
		*out_why = why;
	return why ? -SGT_EINVAL : 0;
}

/* Report through the debug layer, when it is on. */
#define S_REPORT(dev, ...)                                                                         \
	do {                                                                                       \
		if ((dev)->sgt__debug)                                                             \
			sgt__dbg_report(dev, __VA_ARGS__);                                         \
	} while (0)

/*
 * What the core honours for a backend that does not guarantee it, before the backend sees the
 * table: no backend splits an entry, so an entry longer than the maximum segment can only become
 * a segment that is too long, and a table with no more entries than max_segments never maps to
 * more segments. The walk happens only for a backend that does not check lengths itself.
 */
static int s_honour(struct sgt_device *dev, const struct sgt_sg_table *sgt)
{
	const struct sgt_device_params *p = &dev->params;
	const struct sgt_entry *e;
	struct sgt_pos pos;
	uint32_t i;

	if (!s_guarantees(dev, SGT_DMA_GUARANTEES_MAX_SEGMENTS) && p->max_segments &&
	    sgt->num_cpu_ents > p->max_segments)
		return -SGT_EINVAL;
	if (s_guarantees(dev, SGT_DMA_GUARANTEES_MAX_SEGMENT_SIZE))
		return 0;
	for (i = 0, e = sgt_sg_first(sgt, &pos); e && i < sgt->num_cpu_ents;
	     i++, e = sgt_sg_next(&pos)) {
		if (e->len > sgt_device_max_segment(p))
			return -SGT_EINVAL;
	}
	return 0;
}

/*
 * A backend's result is checked in every build, in one walk over its segments: a broken backend
 * must not hand out a mapping that breaks the invariants or the device's limits. Violations are
 * -SGT_EIO (the backend broke its contract) and are reported.
 */
static int s_accept(struct sgt_device *dev, struct sgt_sg_table *sgt, uint32_t n)
{
	const struct sgt_device_params *p = &dev->params;
	enum sgt_dma_report_kind kind = SGT_REPORT_BAD_MAPPING;
	const char *why = NULL;
	const struct sgt_entry *e;
	uint64_t sum = 0;
	struct sgt_pos pos;
	uint32_t i;

	if (n == 0 || n > sgt->num_cpu_ents)
		why = "the backend returned no segment or more segments than entries";
	else if (p->max_segments && n > p->max_segments) {
		why = "more DMA segments than the device allows";
		kind = SGT_REPORT_TOO_MANY_SEGMENTS;
	}
	for (i = 0, e = why ? NULL : sgt_sg_first(sgt, &pos); !why && i < n;
	     i++, e = sgt_sg_next(&pos)) {
		if (!e || !e->dma_len || e->dma_addr > UINT64_MAX - (e->dma_len - 1))
			why = "a DMA segment that is empty, wraps, or is missing";
		else if (!s_segment_breaks(e->dma_addr, e->dma_len, p, &kind, &why))
			sum += e->dma_len;
	}
	if (!why && sum != sgt->total_len)
		why = "DMA segments do not cover the table's bytes exactly";
	if (!why && s_full_checks(dev)) {
		sgt->num_dma_ents = n;
		if (sgt_sg_table_check(sgt, &why))
			kind = SGT_REPORT_BAD_MAPPING;
		sgt->num_dma_ents = 0;
	}
	if (!why)
		return 0;
	S_REPORT(dev, kind, "backend %s, table %p, %u segments: %s", dev->ops->name,
		 (const void *)sgt, n, why);
	return -SGT_EIO;
}

static void s_clear_dma(struct sgt_sg_table *sgt)
{
	struct sgt_chunk *c;
	uint32_t i, left = sgt->num_cpu_ents;

	/* Bounded by the entry count, so a corrupt chain cannot make this loop forever. */
	for (c = sgt->head; c && left; c = c->next) {
		for (i = 0; i < c->num_ents && left; i++, left--) {
			c->ents[i].dma_addr = 0;
			c->ents[i].dma_len = 0;
		}
	}
	sgt->num_dma_ents = 0;
	sgt->dma_dir = 0;
	sgt->dma_dev = NULL;
	sgt->dma_priv = NULL;
}

/* ---- the raw DMA API ---- */

static int s_map_checks(struct sgt_device *dev, const struct sgt_sg_table *sgt,
			enum sgt_dma_dir dir, const uint32_t *out_n, enum sgt_alloc_ctx actx)
{
	if (!s_dev_valid(dev) || !sgt || !out_n || !s_dir_valid(dir))
		return -SGT_EINVAL;
	if (!sgt__actx_valid(actx))
		return -SGT_EINVAL;
	if (!sgt->num_cpu_ents || !sgt->head || sgt->num_dma_ents || sgt->dma_dev)
		return -SGT_EINVAL;
	if (s_full_checks(dev) && sgt_sg_table_check(sgt, NULL))
		return -SGT_EINVAL;
	return s_honour(dev, sgt);
}

int sgt_dma_map_sg(struct sgt_device *dev, struct sgt_sg_table *sgt, enum sgt_dma_dir dir,
		   unsigned long attrs, uint32_t *out_num_dma_ents, enum sgt_alloc_ctx actx)
{
	struct sgt__dbg_map *rec = NULL;
	void *priv = NULL;
	uint32_t n = 0;
	int err = s_map_checks(dev, sgt, dir, out_num_dma_ents, actx);

	if (!err && dev->sgt__debug)
		err = sgt__dbg_map_prepare(dev, sgt, actx, &rec);
	if (err)
		return err;
	err = dev->ops->map_sg(dev, sgt, dir, attrs, &priv, &n, actx);
	if (!err) {
		err = s_accept(dev, sgt, n);
		if (err)
			dev->ops->unmap_sg(dev, sgt, priv, dir, attrs);
	}
	if (err) {
		s_clear_dma(sgt);
		if (rec)
			sgt__dbg_map_abort(dev, rec);
		return err;
	}
	sgt->num_dma_ents = n;
	sgt->dma_dir = (uint32_t)dir;
	sgt->dma_dev = dev;
	sgt->dma_priv = priv;
	if (rec)
		sgt__dbg_map_commit(dev, rec, sgt, dir);
	*out_num_dma_ents = n;
	return 0;
}

static bool s_mapped_for(const struct sgt_sg_table *sgt, const struct sgt_device *dev)
{
	return sgt->num_dma_ents && sgt->dma_dev == dev;
}

/* Unmap with what was recorded at map time: this cannot fail. */
static void s_unmap(struct sgt_sg_table *sgt, unsigned long attrs)
{
	struct sgt_device *dev = sgt->dma_dev;

	dev->ops->unmap_sg(dev, sgt, sgt->dma_priv, (enum sgt_dma_dir)sgt->dma_dir, attrs);
	s_clear_dma(sgt);
}

int sgt_dma_unmap_sg(struct sgt_device *dev, struct sgt_sg_table *sgt, uint32_t num_cpu_ents,
		     enum sgt_dma_dir dir, unsigned long attrs)
{
	bool mapped;
	int misuse = 0;

	if (!s_dev_valid(dev) || !sgt || !s_dir_valid(dir))
		return -SGT_EINVAL;
	mapped = s_mapped_for(sgt, dev);
	if (dev->sgt__debug)
		misuse = sgt__dbg_unmap(dev, sgt, num_cpu_ents, dir, mapped);
	if (!mapped)
		return -SGT_EINVAL;
	if (num_cpu_ents != sgt->num_cpu_ents || (uint32_t)dir != sgt->dma_dir)
		misuse = -SGT_EINVAL;
	s_unmap(sgt, attrs);
	return misuse;
}

static int s_sync_op(struct sgt_device *dev, const struct sgt_sg_table *sgt, void *priv,
		     enum sgt_dma_dir dir, bool for_cpu)
{
	int (*op)(struct sgt_device *, const struct sgt_sg_table *, void *, enum sgt_dma_dir);

	op = for_cpu ? dev->ops->sync_sg_for_cpu : dev->ops->sync_sg_for_device;
	/* A coherent backend has nothing to do on sync and may leave the ops out. */
	return op ? op(dev, sgt, priv, dir) : 0;
}

static int s_sync(struct sgt_device *dev, const struct sgt_sg_table *sgt, uint32_t num_cpu_ents,
		  enum sgt_dma_dir dir, bool for_cpu)
{
	if (!s_dev_valid(dev) || !sgt || !s_dir_valid(dir))
		return -SGT_EINVAL;
	if (dev->sgt__debug && sgt__dbg_sync(dev, sgt, num_cpu_ents, dir))
		return -SGT_EINVAL;
	if (!s_mapped_for(sgt, dev) || num_cpu_ents != sgt->num_cpu_ents ||
	    (uint32_t)dir != sgt->dma_dir)
		return -SGT_EINVAL;
	return s_sync_op(dev, sgt, sgt->dma_priv, dir, for_cpu);
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
		  unsigned long attrs, struct sgt_mapping *out, enum sgt_alloc_ctx actx)
{
	uint32_t n;
	int err = t ? sgt__cpu_live(&t->cpu) : -SGT_EINVAL;

	if (err)
		return err;
	if (t->cpu.sgt__state != SGT__STATE_OWNED || !out)
		return -SGT_EINVAL;
	err = sgt_dma_map_sg(dev, &t->sgt__own, dir, attrs, &n, actx);
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

/*
 * The raw unmap with what the handle recorded: never misuse, and it always completes (a table
 * that someone else unmapped behind the handle's back is reported by the debug layer).
 */
static void s_mapping_unmap(struct sgt_mapping *m)
{
	struct sgt_sg_table *sgt = &m->sgt__owner.sgt__own;
	int err = sgt_dma_unmap_sg(m->dma.sgt__dev, sgt, sgt->num_cpu_ents, m->dma.sgt__dir,
				   m->sgt__attrs);

	(void)err; /* the unmap happened; any report is the debug layer's */
}

int sgt_mapping_unmap(struct sgt_mapping *m, struct sgt_table *out)
{
	int err = s_mapping_live(m);

	if (err)
		return err;
	if (!out)
		return -SGT_EINVAL;
	s_mapping_unmap(m);
	sgt__table_move(out, &m->sgt__owner);
	m->dma = (struct sgt_dma){ .cpu = { .sgt__state = SGT__STATE_STALE } };
	return 0;
}

void sgt_mapping_cleanup(struct sgt_mapping *m)
{
	if (s_mapping_live(m))
		return;
	/* Unmap before freeing: the device must lose access before the memory can be reused. */
	s_mapping_unmap(m);
	sgt__table_release(&m->sgt__owner);
	m->sgt__owner.cpu = (struct sgt_cpu){ .sgt__state = SGT__STATE_STALE };
	m->dma = (struct sgt_dma){ .cpu = { .sgt__state = SGT__STATE_STALE } };
}

static int s_borrow_mapping(struct sgt_borrowed_mapping *bm, const struct sgt_sg_table *sgt,
			    struct sgt_device *dev, enum sgt_dma_dir dir, void *foreign)
{
	if (!bm || !sgt || !s_dev_valid(dev) || !s_dir_valid(dir))
		return -SGT_EINVAL;
	if (sgt->num_dma_ents == 0 || sgt_sg_table_check(sgt, NULL))
		return -SGT_EINVAL;
	/* A table sgt mapped names its device and direction: the borrow must agree with them. */
	if (sgt->dma_dev && (sgt->dma_dev != dev || sgt->dma_dir != (uint32_t)dir))
		return -SGT_EINVAL;
	*bm = (struct sgt_borrowed_mapping){
		.dma = { .cpu = { .sgt__state = SGT__STATE_BORROWED_MAPPING, .sgt__sgt = sgt },
			 .sgt__dev = dev,
			 .sgt__dir = dir,
			 .sgt__foreign = foreign },
	};
	return 0;
}

int sgt_borrowed_mapping_init(struct sgt_borrowed_mapping *bm, const struct sgt_sg_table *sgt,
			      struct sgt_device *dev, enum sgt_dma_dir dir)
{
	return s_borrow_mapping(bm, sgt, dev, dir, NULL);
}

int sgt_borrowed_mapping_init_foreign(struct sgt_borrowed_mapping *bm,
				      const struct sgt_sg_table *sgt, struct sgt_device *dev,
				      enum sgt_dma_dir dir, void *foreign)
{
	/* sgt's own mapping already has its priv: a second one would be synced instead of it. */
	if (!foreign || (sgt && sgt->dma_dev))
		return -SGT_EINVAL;
	return s_borrow_mapping(bm, sgt, dev, dir, foreign);
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

/*
 * A handle's sync passes the recorded count and direction. A table that sgt did not map (a
 * foreign one behind a BorrowedMapping) has no recorded device, state or debug record: the
 * backend syncs it from the owner's description of the mapping, or from the table alone.
 */
static int s_handle_sync(const struct sgt_dma *d, bool for_cpu)
{
	const struct sgt_sg_table *sgt;
	int err = s_dma_live(d);

	if (err)
		return err;
	sgt = d->cpu.sgt__sgt;
	if (!sgt->dma_dev)
		return s_sync_op(d->sgt__dev, sgt, d->sgt__foreign, d->sgt__dir, for_cpu);
	return s_sync(d->sgt__dev, sgt, sgt->num_cpu_ents, d->sgt__dir, for_cpu);
}

int sgt_dma_sync_for_cpu(const struct sgt_dma *d)
{
	return s_handle_sync(d, true);
}

int sgt_dma_sync_for_device(const struct sgt_dma *d)
{
	return s_handle_sync(d, false);
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
	if (!it)
		return false;
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
	uint64_t ps, addr;

	if (!it)
		return false;
	ps = UINT64_C(1) << it->sgt__shift;
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
