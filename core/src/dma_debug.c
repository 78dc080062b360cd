// SPDX-License-Identifier: MIT
/*
 * The DMA-API debug layer, in the spirit of Linux kernel/dma/debug.c, for every backend: a
 * per-device record of each live mapping, kept in the layer's own memory so that a driver that
 * corrupts its table cannot also corrupt the evidence, and checks of every unmap and sync against
 * it. Findings are counted, kept as messages and passed to a callback.
 */
#include "avl.h"
#include "internal.h"

#define S_HISTORY                                                                                  \
	64 /* recently unmapped tables, to tell a double unmap from a never-mapped one             \
	    */
#define S_MSG_LEN 160

struct s_seg {
	uint64_t addr;
	uint32_t len;
};

/* A live mapping as the device was given it. Keyed by the table's first entry (see s_key()). */
struct sgt__dbg_map {
	struct sgt__avl_node node;
	const struct sgt_sg_table *sgt;
	uint32_t dir;
	uint32_t num_cpu_ents;
	uint32_t num_dma_ents;
	uint32_t capacity; /* segs[] slots: the CPU entry count at map time */
	struct s_seg segs[];
};

struct sgt__dma_debug {
	struct sgt_allocator alloc;
	void *lock;
	void (*on_report)(void *ctx, const struct sgt_device *dev, enum sgt_dma_report_kind kind,
			  const char *msg);
	void *ctx;
	struct sgt__avl_node *maps;
	uint64_t live;
	uintptr_t history[S_HISTORY];
	uint32_t history_next;
	uint64_t count[SGT_REPORT_NUM_KINDS];
	uint64_t num_reports;
	char msg[SGT_DMA_DEBUG_KEEP][S_MSG_LEN];
};

static const char *const s_names[SGT_REPORT_NUM_KINDS] = {
	[SGT_REPORT_UNMAP_NOT_MAPPED] = "unmap-not-mapped",
	[SGT_REPORT_DOUBLE_UNMAP] = "double-unmap",
	[SGT_REPORT_UNMAP_WRONG_DIR] = "unmap-wrong-direction",
	[SGT_REPORT_UNMAP_WRONG_NENTS] = "unmap-wrong-nents",
	[SGT_REPORT_UNMAP_MAPPED_NENTS] = "unmap-mapped-nents",
	[SGT_REPORT_SYNC_NOT_MAPPED] = "sync-not-mapped",
	[SGT_REPORT_SYNC_WRONG_DIR] = "sync-wrong-direction",
	[SGT_REPORT_SYNC_WRONG_NENTS] = "sync-wrong-nents",
	[SGT_REPORT_SEGMENT_TOO_LONG] = "segment-too-long",
	[SGT_REPORT_SEGMENT_CROSSES_BOUNDARY] = "segment-crosses-boundary",
	[SGT_REPORT_SEGMENT_MISALIGNED] = "segment-misaligned",
	[SGT_REPORT_SEGMENT_BEYOND_MASK] = "segment-beyond-mask",
	[SGT_REPORT_TOO_MANY_SEGMENTS] = "too-many-segments",
	[SGT_REPORT_BAD_MAPPING] = "bad-mapping",
	[SGT_REPORT_SEGMENTS_CHANGED] = "segments-changed",
	[SGT_REPORT_LEAK_AT_TEARDOWN] = "leak-at-teardown",
	[SGT_REPORT_FREED_WHILE_MAPPED] = "freed-while-mapped",
};

const char *sgt_dma_report_name(enum sgt_dma_report_kind kind)
{
	return (unsigned int)kind < SGT_REPORT_NUM_KINDS ? s_names[kind] : "unknown";
}

/*
 * A mapping's identity: the table's first entry. Not the table's own address, because a handle
 * transition moves the table struct (sgt_table_map() moves it into the mapping handle), nor its
 * first chunk's header, which an owned table keeps in its handle; the entries never move. A
 * mapped table always has one; a table without chunks has key 0, which no record has.
 */
static uint64_t s_key(const struct sgt_sg_table *sgt)
{
	return sgt->head ? (uint64_t)(uintptr_t)sgt->head->ents : 0;
}

static size_t s_rec_size(uint32_t capacity)
{
	return sizeof(struct sgt__dbg_map) + (size_t)capacity * sizeof(struct s_seg);
}

/* Called with the lock held. */
static void s_vreport(struct sgt_device *dev, enum sgt_dma_report_kind kind, const char *fmt,
		      __builtin_va_list ap)
{
	struct sgt__dma_debug *d = dev->sgt__debug;
	char scratch[S_MSG_LEN];
	char *msg = d->num_reports < SGT_DMA_DEBUG_KEEP ? d->msg[d->num_reports] : scratch;
	size_t n = sgt__format(msg, S_MSG_LEN, "%s: %s: ", dev->name ? dev->name : "device",
			       sgt_dma_report_name(kind));

	sgt__vformat(msg + n, S_MSG_LEN - n, fmt, ap);
	d->count[kind]++;
	d->num_reports++;
	if (d->on_report)
		d->on_report(d->ctx, dev, kind, msg);
}

static void s_report(struct sgt_device *dev, enum sgt_dma_report_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void s_report(struct sgt_device *dev, enum sgt_dma_report_kind kind, const char *fmt, ...)
{
	__builtin_va_list ap;

	__builtin_va_start(ap, fmt);
	s_vreport(dev, kind, fmt, ap);
	__builtin_va_end(ap);
}

void sgt__dbg_report(struct sgt_device *dev, enum sgt_dma_report_kind kind, const char *fmt, ...)
{
	__builtin_va_list ap;

	sgt_platform_lock(dev->sgt__debug->lock);
	__builtin_va_start(ap, fmt);
	s_vreport(dev, kind, fmt, ap);
	__builtin_va_end(ap);
	sgt_platform_unlock(dev->sgt__debug->lock);
}

int sgt_dma_debug_enable(struct sgt_device *dev, const struct sgt_dma_debug_params *params)
{
	const struct sgt_allocator *a =
		params && params->alloc ? params->alloc : sgt_platform_allocator();
	struct sgt__dma_debug *d;

	if (!dev || dev->sgt__magic != SGT__DEVICE_MAGIC || !a || !a->alloc || !a->free)
		return -SGT_EINVAL;
	if (dev->sgt__debug)
		return -SGT_EBUSY;
	d = a->alloc(a->ctx, sizeof(*d), SGT_MAY_SLEEP);
	if (!d)
		return -SGT_ENOMEM;
	__builtin_memset(d, 0, sizeof(*d));
	d->lock = sgt_platform_lock_new();
	if (!d->lock) {
		a->free(a->ctx, d, sizeof(*d));
		return -SGT_ENOMEM;
	}
	d->alloc = *a;
	d->on_report = params ? params->on_report : NULL;
	d->ctx = params ? params->ctx : NULL;
	dev->sgt__debug = d;
	return 0;
}

static void s_free_records(struct sgt_device *dev, struct sgt__avl_node *n, uint64_t *leaks)
{
	struct sgt__dma_debug *d = dev->sgt__debug;
	struct sgt__dbg_map *m;

	if (!n)
		return;
	s_free_records(dev, n->left, leaks);
	s_free_records(dev, n->right, leaks);
	m = sgt__avl_entry(n, struct sgt__dbg_map, node);
	s_report(dev, SGT_REPORT_LEAK_AT_TEARDOWN,
		 "table %p still mapped (%u entries, %u DMA segments, first at %#llx)",
		 (const void *)m->sgt, m->num_cpu_ents, m->num_dma_ents,
		 (unsigned long long)(m->num_dma_ents ? m->segs[0].addr : 0));
	(*leaks)++;
	d->alloc.free(d->alloc.ctx, m, s_rec_size(m->capacity));
}

uint64_t sgt_device_cleanup(struct sgt_device *dev)
{
	struct sgt__dma_debug *d = dev ? dev->sgt__debug : NULL;
	uint64_t leaks = 0;

	if (!d)
		return 0;
	sgt_platform_lock(d->lock);
	s_free_records(dev, d->maps, &leaks);
	d->maps = NULL;
	sgt_platform_unlock(d->lock);
	sgt_platform_lock_free(d->lock);
	dev->sgt__debug = NULL;
	d->alloc.free(d->alloc.ctx, d, sizeof(*d));
	return leaks;
}

/* ---- queries ---- */

static uint64_t s_read(const struct sgt_device *dev, const uint64_t *field)
{
	uint64_t v;

	sgt_platform_lock(dev->sgt__debug->lock);
	v = *field;
	sgt_platform_unlock(dev->sgt__debug->lock);
	return v;
}

uint64_t sgt_dma_debug_count(const struct sgt_device *dev, enum sgt_dma_report_kind kind)
{
	if (!dev || !dev->sgt__debug || (unsigned int)kind >= SGT_REPORT_NUM_KINDS)
		return 0;
	return s_read(dev, &dev->sgt__debug->count[kind]);
}

uint64_t sgt_dma_debug_num_reports(const struct sgt_device *dev)
{
	return dev && dev->sgt__debug ? s_read(dev, &dev->sgt__debug->num_reports) : 0;
}

uint64_t sgt_dma_debug_live(const struct sgt_device *dev)
{
	return dev && dev->sgt__debug ? s_read(dev, &dev->sgt__debug->live) : 0;
}

const char *sgt_dma_debug_msg(const struct sgt_device *dev, uint64_t index)
{
	uint64_t n = sgt_dma_debug_num_reports(dev);

	return index < n && index < SGT_DMA_DEBUG_KEEP ? dev->sgt__debug->msg[index] : NULL;
}

void sgt_dma_debug_clear(struct sgt_device *dev)
{
	struct sgt__dma_debug *d = dev ? dev->sgt__debug : NULL;

	if (!d)
		return;
	sgt_platform_lock(d->lock);
	__builtin_memset(d->count, 0, sizeof(d->count));
	d->num_reports = 0;
	sgt_platform_unlock(d->lock);
}

/* ---- map ---- */

int sgt__dbg_map_prepare(struct sgt_device *dev, const struct sgt_sg_table *sgt,
			 enum sgt_alloc_ctx actx, struct sgt__dbg_map **out)
{
	struct sgt__dma_debug *d = dev->sgt__debug;
	struct sgt__dbg_map *m = d->alloc.alloc(d->alloc.ctx, s_rec_size(sgt->num_cpu_ents), actx);

	if (!m)
		return -SGT_ENOMEM;
	__builtin_memset(m, 0, s_rec_size(sgt->num_cpu_ents));
	m->capacity = sgt->num_cpu_ents;
	*out = m;
	return 0;
}

void sgt__dbg_map_abort(struct sgt_device *dev, struct sgt__dbg_map *rec)
{
	struct sgt__dma_debug *d = dev->sgt__debug;

	if (rec)
		d->alloc.free(d->alloc.ctx, rec, s_rec_size(rec->capacity));
}

static void s_history_forget(struct sgt__dma_debug *d, uintptr_t key)
{
	uint32_t i;

	for (i = 0; i < S_HISTORY; i++) {
		if (d->history[i] == key)
			d->history[i] = 0;
	}
}

static bool s_history_has(const struct sgt__dma_debug *d, uintptr_t key)
{
	uint32_t i;

	/* Empty slots are 0, and so is the key of a table without chunks (never mapped). */
	for (i = 0; key && i < S_HISTORY; i++) {
		if (d->history[i] == key)
			return true;
	}
	return false;
}

/* Called with the lock held. */
static void s_drop_stale(struct sgt_device *dev, uint64_t key, const struct sgt_sg_table *sgt)
{
	struct sgt__dma_debug *d = dev->sgt__debug;
	struct sgt__avl_node *gone = NULL;
	struct sgt__dbg_map *old;

	d->maps = sgt__avl_remove(d->maps, key, &gone);
	if (!gone)
		return;
	old = sgt__avl_entry(gone, struct sgt__dbg_map, node);
	s_report(dev, SGT_REPORT_FREED_WHILE_MAPPED,
		 "table %p maps memory of table %p, which was freed while still mapped",
		 (const void *)sgt, (const void *)old->sgt);
	d->live--;
	d->alloc.free(d->alloc.ctx, old, s_rec_size(old->capacity));
}

void sgt__dbg_map_commit(struct sgt_device *dev, struct sgt__dbg_map *rec,
			 const struct sgt_sg_table *sgt, enum sgt_dma_dir dir)
{
	struct sgt__dma_debug *d = dev->sgt__debug;
	const struct sgt_entry *e;
	struct sgt_pos pos;
	uint32_t i;

	rec->node.key = s_key(sgt);
	rec->sgt = sgt;
	rec->dir = dir;
	rec->num_cpu_ents = sgt->num_cpu_ents;
	rec->num_dma_ents = sgt->num_dma_ents;
	for (i = 0, e = sgt_sg_first(sgt, &pos); e && i < rec->num_dma_ents;
	     i++, e = sgt_sg_next(&pos))
		rec->segs[i] = (struct s_seg){ e->dma_addr, e->dma_len };
	sgt_platform_lock(d->lock);
	/*
	 * The core refuses a mapped table, so a live record with this key belongs to a table that
	 * was freed while mapped, its entries' memory now reused: the old mapping leaked.
	 */
	s_drop_stale(dev, rec->node.key, sgt);
	d->maps = sgt__avl_insert(d->maps, &rec->node);
	d->live++;
	s_history_forget(d, (uintptr_t)rec->node.key);
	sgt_platform_unlock(d->lock);
}

/* ---- unmap and sync ---- */

/* Has the table's DMA side changed since the map? Bounded by the record, whatever the table. */
static bool s_changed(const struct sgt__dbg_map *m, const struct sgt_sg_table *sgt)
{
	const struct sgt_entry *e;
	struct sgt_pos pos;
	uint32_t i;

	if (sgt->num_dma_ents != m->num_dma_ents || sgt->num_cpu_ents != m->num_cpu_ents)
		return true;
	for (i = 0, e = sgt_sg_first(sgt, &pos); i < m->num_dma_ents; i++, e = sgt_sg_next(&pos)) {
		if (!e || e->dma_addr != m->segs[i].addr || e->dma_len != m->segs[i].len)
			return true;
	}
	return false;
}

static struct sgt__dbg_map *s_find(struct sgt__dma_debug *d, const struct sgt_sg_table *sgt)
{
	uint64_t key = s_key(sgt);
	struct sgt__avl_node *n = key ? sgt__avl_find(d->maps, key) : NULL;

	return n ? sgt__avl_entry(n, struct sgt__dbg_map, node) : NULL;
}

/* One report per call, the first misuse found, as Linux's check_unmap() does. */
static int s_check_unmap(struct sgt_device *dev, const struct sgt__dbg_map *m,
			 const struct sgt_sg_table *sgt, uint32_t nents, enum sgt_dma_dir dir)
{
	if (dir != m->dir)
		s_report(dev, SGT_REPORT_UNMAP_WRONG_DIR,
			 "table %p mapped with direction %u, unmapped with %u", (const void *)sgt,
			 m->dir, (unsigned int)dir);
	else if (nents != m->num_cpu_ents && nents == m->num_dma_ents)
		s_report(dev, SGT_REPORT_UNMAP_MAPPED_NENTS,
			 "unmap with %u, the mapped count; dma_unmap_sg() takes the original %u",
			 nents, m->num_cpu_ents);
	else if (nents != m->num_cpu_ents)
		s_report(dev, SGT_REPORT_UNMAP_WRONG_NENTS,
			 "table %p mapped %u entries, unmap with %u", (const void *)sgt,
			 m->num_cpu_ents, nents);
	else if (s_changed(m, sgt))
		s_report(dev, SGT_REPORT_SEGMENTS_CHANGED,
			 "table %p: its DMA segments changed between map and unmap",
			 (const void *)sgt);
	else
		return 0;
	return -SGT_EINVAL;
}

int sgt__dbg_unmap(struct sgt_device *dev, const struct sgt_sg_table *sgt, uint32_t nents,
		   enum sgt_dma_dir dir, bool will_unmap)
{
	struct sgt__dma_debug *d = dev->sgt__debug;
	struct sgt__avl_node *gone;
	struct sgt__dbg_map *m;
	int err = -SGT_EINVAL;

	sgt_platform_lock(d->lock);
	m = s_find(d, sgt);
	if (!m && s_history_has(d, (uintptr_t)s_key(sgt)))
		s_report(dev, SGT_REPORT_DOUBLE_UNMAP, "table %p was already unmapped",
			 (const void *)sgt);
	else if (!m)
		s_report(dev, SGT_REPORT_UNMAP_NOT_MAPPED,
			 "table %p was never mapped by this device", (const void *)sgt);
	else
		err = s_check_unmap(dev, m, sgt, nents, dir);
	if (m && will_unmap) {
		d->maps = sgt__avl_remove(d->maps, m->node.key, &gone);
		d->live--;
		d->history[d->history_next++ % S_HISTORY] = (uintptr_t)m->node.key;
		d->alloc.free(d->alloc.ctx, m, s_rec_size(m->capacity));
	}
	sgt_platform_unlock(d->lock);
	return err;
}

int sgt__dbg_sync(struct sgt_device *dev, const struct sgt_sg_table *sgt, uint32_t nents,
		  enum sgt_dma_dir dir)
{
	struct sgt__dma_debug *d = dev->sgt__debug;
	struct sgt__dbg_map *m;
	int err = -SGT_EINVAL;

	sgt_platform_lock(d->lock);
	m = s_find(d, sgt);
	if (!m)
		s_report(dev, SGT_REPORT_SYNC_NOT_MAPPED, "table %p is not mapped by this device",
			 (const void *)sgt);
	else if (dir != m->dir)
		s_report(dev, SGT_REPORT_SYNC_WRONG_DIR,
			 "table %p mapped with direction %u, synced with %u", (const void *)sgt,
			 m->dir, (unsigned int)dir);
	else if (nents != m->num_cpu_ents)
		s_report(dev, SGT_REPORT_SYNC_WRONG_NENTS,
			 "table %p: sync of %u entries, the map had %u (Linux: the same count)",
			 (const void *)sgt, nents, m->num_cpu_ents);
	else if (s_changed(m, sgt))
		s_report(dev, SGT_REPORT_SEGMENTS_CHANGED,
			 "table %p: its DMA segments changed since the map", (const void *)sgt);
	else
		err = 0;
	sgt_platform_unlock(d->lock);
	return err;
}
