// SPDX-License-Identifier: MIT
/* The harness: world setup and teardown, the after-every-step checks, and op descriptions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "world.h"

int h_fail(struct sgt_harness *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->why, sizeof(h->why), fmt, ap);
	va_end(ap);
	return SGT_H_MISMATCH;
}

const char *sgt_harness_why(const struct sgt_harness *h)
{
	return h->why;
}

uint8_t h_pattern(uint32_t seed, uint64_t i)
{
	return (uint8_t)((seed * 2654435761u) ^ (uint32_t)(i * 40503u) ^ (uint32_t)(i >> 7));
}

bool h_device_reads(uint8_t dir)
{
	return dir == SGT_DMA_TO_DEVICE || dir == SGT_DMA_BIDIRECTIONAL;
}

bool h_device_writes(uint8_t dir)
{
	return dir == SGT_DMA_FROM_DEVICE || dir == SGT_DMA_BIDIRECTIONAL;
}

static uint64_t s_shadow_index(const struct sgt_harness *h, uint64_t addr)
{
	return addr - (h->base << H_SHIFT);
}

void h_shadow_write(struct sgt_harness *h, uint64_t addr, uint8_t v)
{
	uint64_t i = s_shadow_index(h, addr);

	h->shadow[i] = v;
	h->shadow_touched[i >> H_SHIFT] = 1;
}

uint8_t h_shadow_read(const struct sgt_harness *h, uint64_t addr)
{
	return h->shadow[s_shadow_index(h, addr)];
}

const uint8_t *h_shadow_at(const struct sgt_harness *h, uint64_t addr)
{
	return &h->shadow[s_shadow_index(h, addr)];
}

uint64_t h_first_diff(const uint8_t *a, const uint8_t *b, uint64_t n)
{
	uint64_t k;

	if (!memcmp(a, b, n))
		return n;
	for (k = 0; a[k] == b[k]; k++)
		;
	return k;
}

uint64_t h_armed_nth(const struct sgt_harness *h)
{
	return h->alloc.fail_at > h->alloc.num_attempts ? h->alloc.fail_at - h->alloc.num_attempts
							: 0;
}

/*
 * Table bytes [at, at + n) in the shadow, one model entry's run at a time (the model's entries
 * say where each byte lives; m_byte_run() walks them). @fn is given each run.
 */
static uint64_t s_table_runs(struct sgt_harness *h, const struct m_table *mt, uint64_t at,
			     uint64_t n,
			     uint64_t (*fn)(struct sgt_harness *h, uint64_t addr, uint64_t done,
					    uint64_t run, void *arg),
			     void *arg)
{
	uint64_t done = 0, addr, run, stop;

	while (done < n) {
		run = m_byte_run(mt, at + done, H_SHIFT, &addr);
		if (!run)
			break; /* past the table: the callers never ask for it */
		run = run < n - done ? run : n - done;
		stop = fn(h, addr, done, run, arg);
		if (stop < run)
			return done + stop;
		done += run;
	}
	return done;
}

static uint64_t s_read_run(struct sgt_harness *h, uint64_t addr, uint64_t done, uint64_t run,
			   void *arg)
{
	memcpy((uint8_t *)arg + done, h_shadow_at(h, addr), run);
	return run;
}

static uint64_t s_write_run(struct sgt_harness *h, uint64_t addr, uint64_t done, uint64_t run,
			    void *arg)
{
	uint64_t i = s_shadow_index(h, addr), p;

	memcpy(&h->shadow[i], (const uint8_t *)arg + done, run);
	for (p = i >> H_SHIFT; p <= (i + run - 1) >> H_SHIFT; p++)
		h->shadow_touched[p] = 1;
	return run;
}

static uint64_t s_diff_run(struct sgt_harness *h, uint64_t addr, uint64_t done, uint64_t run,
			   void *arg)
{
	return h_first_diff((const uint8_t *)arg + done, h_shadow_at(h, addr), run);
}

void h_table_read(struct sgt_harness *h, const struct m_table *mt, uint64_t at, uint8_t *buf,
		  uint64_t n)
{
	s_table_runs(h, mt, at, n, s_read_run, buf);
}

void h_table_write(struct sgt_harness *h, const struct m_table *mt, uint64_t at, const uint8_t *buf,
		   uint64_t n)
{
	s_table_runs(h, mt, at, n, s_write_run, (void *)(uintptr_t)buf);
}

uint64_t h_table_diff(struct sgt_harness *h, const struct m_table *mt, uint64_t at,
		      const uint8_t *buf, uint64_t n)
{
	return s_table_runs(h, mt, at, n, s_diff_run, (void *)(uintptr_t)buf);
}

const struct sgt_cpu *h_cpu(struct h_slot *s)
{
	switch (s->kind) {
	case H_OWNED:
		return &s->t->cpu;
	case H_BORROWED:
		return &s->b.cpu;
	case H_MAPPED:
		return &s->m.dma.cpu;
	case H_BMAPPED:
		return &s->bm.dma.cpu;
	case H_EMPTY:
	default:
		return NULL;
	}
}

const struct sgt_dma *h_dma(struct h_slot *s)
{
	return s->kind == H_MAPPED ? &s->m.dma : s->kind == H_BMAPPED ? &s->bm.dma : NULL;
}

/* The slot that holds the mapping a mapped or borrowed-mapping slot shows. */
struct h_slot *h_mapping_of(struct sgt_harness *h, struct h_slot *s)
{
	return s->kind == H_BMAPPED ? &h->s[s->src] : s;
}

struct sgt_simiommu *h_sim(struct sgt_harness *h, int dev)
{
	return h->sim[dev];
}

bool h_plugged(const struct sgt_harness *h, int dev)
{
	return dev == 0 && h->plug;
}

struct sgt_device *h_device(struct sgt_harness *h, int dev)
{
	return h_plugged(h, dev) ? h->plug_dev : sgt_simiommu_device(h->sim[dev]);
}

int h_dma_read(struct sgt_harness *h, int dev, uint64_t addr, void *buf, size_t n)
{
	if (h_plugged(h, dev))
		return h->plug->dma_read(h->plug->ctx, addr, buf, n);
	return sgt_simiommu_dma_read(h->sim[dev], addr, buf, n);
}

int h_dma_write(struct sgt_harness *h, int dev, uint64_t addr, const void *buf, size_t n)
{
	if (h_plugged(h, dev))
		return h->plug->dma_write(h->plug->ctx, addr, buf, n);
	return sgt_simiommu_dma_write(h->sim[dev], addr, buf, n);
}

/* Device constraints drawn from the seed: always satisfiable by some table. */
static void s_device_params(struct sgt_harness *h, uint32_t seed)
{
	/* In pages, so that a 4 KiB harness draws the same shapes as a 512-byte one. */
	/* Two and a half pages: a maximum that is not a page multiple (merging must respect it). */
	static const uint32_t max_segs[] = { 2 * H_PS, 4 * H_PS, 16 * H_PS, 0, 5 * H_PS / 2 };
	static const uint64_t bounds[] = { 0, 8 * H_PS - 1, 64 * H_PS - 1 };

	/* The direct device's mask, when drawn, reaches only the lower half of the arena. */
	const uint64_t half = ((h->base + H_PAGES / 2) << H_SHIFT) - 1;
	int d;

	h->small_iova = seed % 4 == 0 && !h->plug;
	for (d = 0; d < SGT_H_DEVS; d++) {
		uint32_t r = seed * 2654435761u + (uint32_t)d * 40503u;

		h->dp[d] = (struct sgt_device_params){
			.max_segment_size = max_segs[(r >> 3) % 5],
			.seg_boundary_mask = bounds[(r >> 7) % 3],
			.dma_mask = d == 0 ? UINT32_MAX : 0,
			/*
			 * At most 4 segments, 1 in 4 times: tables of more are refused. Not for a
			 * real device: a backend that does not guarantee the count (VFIO maps per
			 * table) has the core refuse by entries instead, a rule the model does
			 * not draw for.
			 */
			.max_segments = (r >> 11) % 4 == 0 && !h_plugged(h, d) ? 4 : 0,
		};
		if (d == SGT_SIMIOMMU_DIRECT && (r >> 13) % 2)
			h->dp[d].dma_mask = half;
		/* The small IOVA window reaches past the mask, half the time: allocations must
		 * stay under it (the IOVA allocator's limit). */
		if (d == SGT_SIMIOMMU_IOMMU && h->small_iova && (r >> 13) % 2)
			h->dp[d].dma_mask = H_SMALL_IOVA + H_SMALL_IOVA_LEN / 2 - 1;
	}
}

static void *s_recycler_alloc(void *ctx, size_t len, enum sgt_alloc_ctx actx)
{
	struct h_recycler *r = ctx;
	void *p;

	(void)actx;
	if (r->block && r->len == len) {
		p = r->block;
		r->block = NULL;
		return p;
	}
	return malloc(len);
}

static void s_recycler_free(void *ctx, void *p, size_t len)
{
	struct h_recycler *r = ctx;

	if (p && len >= H_RECYCLE_MIN && !r->block) {
		r->block = p;
		r->len = len;
		return;
	}
	free(p);
}

static int s_new_devices(struct sgt_harness *h)
{
	int d;

	for (d = 0; d < SGT_H_DEVS; d++) {
		if (h_plugged(h, d)) {
			h->plug_dev = h->plug->open(h->plug->ctx, &h->dp[d]);
			if (!h->plug_dev || sgt_dma_debug_enable(h->plug_dev, NULL))
				return -1;
			continue;
		}
		struct sgt_simiommu_params p = {
			.mode = (enum sgt_simiommu_mode)d,
			.mem = &h->mem.mem,
			.device = h->dp[d],
			.reserve_msi = true,
			.quarantine_len = H_QUARANTINE,
			.bounce_pool = 256u << 10,
			.alloc = &h->recycler.alloc,
		};

		if (d == SGT_SIMIOMMU_IOMMU && h->small_iova)
			p.iova_window =
				(struct sgt_dma_window){ H_SMALL_IOVA,
							 H_SMALL_IOVA + H_SMALL_IOVA_LEN - 1 };

		if (sgt_simiommu_new(&p, &h->sim[d]))
			return -1;
		/* The core's DMA-API debug layer watches every device (its records come from the
		 * platform allocator, so the harness's own allocation counts stay exact). */
		if (sgt_dma_debug_enable(sgt_simiommu_device(h->sim[d]), NULL))
			return -1;
	}
	return 0;
}

/* The raw table: three full pages on frames a driver owns, in a chunk it allocated itself. */
static int s_new_raw(struct sgt_harness *h)
{
	static const uint64_t frames[3] = { H_RAW_FIRST, H_RAW_FIRST + 4, H_RAW_FIRST + 8 };
	struct h_raw *r = &h->raw;
	int i;

	r->chunk = calloc(1, sgt_chunk_size(4));
	if (!r->chunk)
		return -1;
	sgt_chunk_init(r->chunk, 4);
	for (i = 0; i < 3; i++) {
		r->chunk->ents[i] = (struct sgt_entry){ .pfn = h->base + frames[i], .len = H_PS };
		if (!m_push(&r->mt, h->base + frames[i], 0, H_PS))
			return -1;
	}
	r->chunk->num_ents = 3;
	r->sgt = (struct sgt_sg_table){ .head = r->chunk,
					.tail = r->chunk,
					.mem = &h->mem.mem,
					.total_len = 3 * H_PS,
					.num_cpu_ents = 3 };
	for (i = (int)H_RAW_FIRST; i < (int)H_PAGES; i++)
		h->mem.page_used[i] = 1; /* never handed out by alloc_pages */
	return 0;
}

static void s_free_slot_model(struct h_slot *s);

/* What a world starts with besides its memory: counters, slots, devices, the raw table. */
static int s_start(struct sgt_harness *h, uint32_t seed)
{
	sgt_test_alloc_init(&h->alloc);
	for (int i = 0; i < SGT_H_SLOTS; i++)
		h->s[i].t = &h->tables[i];
	h->params = (struct sgt_table_params){ .alloc = &h->alloc.alloc, .mem = &h->mem.mem };
	s_device_params(h, seed);
	return s_new_devices(h) || s_new_raw(h) ? -1 : 0;
}

/*
 * The world after a sequence, back to its start: sgt_harness_finish() has dropped everything,
 * checked every page against the shadow and freed the devices, so memory differs from its
 * start only on the pages the model wrote or the memory handed out (h->dirty).
 */
int sgt_harness_reset(struct sgt_harness *h, uint32_t seed)
{
	uint32_t p, i;

	if (!h->pristine || !h->finished)
		return -1;
	for (p = 0; p < H_PAGES; p++) {
		if (!h->dirty[p])
			continue;
		memcpy(h->mem.arena + (uint64_t)p * H_PS, h->pristine + (uint64_t)p * H_PS, H_PS);
		memcpy(h->shadow + (uint64_t)p * H_PS, h->pristine + (uint64_t)p * H_PS, H_PS);
	}
	memset(h->dirty, 0, sizeof(h->dirty));
	memset(h->mem.page_used, 0, H_PAGES);
	memset(h->mem.block_order, 0, H_PAGES);
	h->mem.bad_frees = 0;
	h->mem.live_page_allocs = h->mem.page_alloc_attempts = h->mem.fail_page_alloc_at = 0;
	h->mem.page_allocs_atomic = h->mem.num_maps = 0;
	h->mem.mapped = 0;
	for (i = 0; i < SGT_H_SLOTS; i++) {
		s_free_slot_model(&h->s[i]);
		memset(&h->s[i], 0, sizeof(h->s[i]));
	}
	memset(h->tables, 0, sizeof(h->tables));
	m_free(&h->raw.mt);
	free(h->raw.chunk);
	free(h->raw.bounce);
	memset(&h->raw, 0, sizeof(h->raw));
	memset(h->fail_map_pending, 0, sizeof(h->fail_map_pending));
	memset(h->expect_reports, 0, sizeof(h->expect_reports));
	memset(h->expect_kind, 0, sizeof(h->expect_kind));
	memset(&h->quarantine, 0, sizeof(h->quarantine));
	memset(h->expect_faults, 0, sizeof(h->expect_faults));
	memset(h->checked_changes, 0, sizeof(h->checked_changes));
	h->fail_alloc_next = 0;
	h->why[0] = 0;
	h->finished = false;
	return s_start(h, seed);
}

struct sgt_harness *sgt_harness_new(uint32_t seed)
{
	return sgt_harness_new_with(seed, NULL);
}

struct sgt_harness *sgt_harness_new_with(uint32_t seed, const struct sgt_harness_device *plug)
{
	struct sgt_harness *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->plug = plug;
	h->recycler.alloc =
		(struct sgt_allocator){ s_recycler_alloc, s_recycler_free, &h->recycler };
	if (plug ? sgt_test_mem_init_identity(&h->mem, H_SHIFT, H_PAGES)
		 : sgt_test_mem_init(&h->mem, H_SHIFT, H_FIXED_BASE, H_PAGES))
		goto fail;
	h->base = h->mem.base_pfn;
	/*
	 * Every simulated world starts with the same bytes (the seed draws the devices), so that a
	 * reset restores only the pages an input changed; with a real device, the seed's.
	 */
	sgt_test_mem_fill(&h->mem, plug ? seed : H_ARENA_PATTERN);
	h->shadow = malloc(H_PAGES * H_PS);
	h->pristine = plug ? NULL : malloc(H_PAGES * H_PS);
	if (!h->shadow || (!plug && !h->pristine))
		goto fail;
	memcpy(h->shadow, h->mem.arena, H_PAGES * H_PS);
	if (h->pristine)
		memcpy(h->pristine, h->mem.arena, H_PAGES * H_PS);
	if (s_start(h, seed))
		goto fail;
	return h;
fail:
	sgt_harness_free(h);
	return NULL;
}

static void s_free_slot_model(struct h_slot *s)
{
	m_free(&s->mt);
	free(s->bounce);
	free(s->seg_lens);
	s->bounce = NULL;
	s->seg_lens = NULL;
}

void sgt_harness_free(struct sgt_harness *h)
{
	int i;

	if (!h)
		return;
	for (i = 0; i < SGT_H_SLOTS; i++)
		s_free_slot_model(&h->s[i]);
	for (i = 0; i < SGT_H_DEVS; i++)
		sgt_simiommu_free(h->sim[i]);
	if (h->plug_dev)
		h->plug->close(h->plug->ctx, h->plug_dev);
	m_free(&h->raw.mt);
	free(h->raw.chunk);
	free(h->raw.bounce);
	free(h->shadow);
	free(h->pristine);
	free(h->recycler.block);
	sgt_test_mem_cleanup(&h->mem);
	free(h);
}

/* ---- the checks after every step ---- */

int h_check_entries(struct sgt_harness *h, int i, const struct sgt_cpu *c, const struct m_table *mt)
{
	struct sgt_ent_iter it;
	uint64_t total = 0;
	uint32_t k = 0, n = 0;
	const char *why = NULL;
	const struct sgt_sg_table *sgt;

	if (sgt_cpu_check(c) || sgt_cpu_sg_table(c, &sgt))
		return h_fail(h, "slot %d: handle not live or table invalid", i);
	if (sgt_sg_table_check(sgt, &why))
		return h_fail(h, "slot %d: invariant broken: %s", i, why);
	if (sgt_cpu_info(c, &n, &total) || n != mt->n || total != mt->total)
		return h_fail(h, "slot %d: %u entries / %llu bytes, model %u / %llu", i, n,
			      (unsigned long long)total, mt->n, (unsigned long long)mt->total);
	if (sgt_ent_iter_init(&it, c))
		return h_fail(h, "slot %d: entry iterator refused", i);
	for (; sgt_ent_iter_next(&it); k++) {
		const struct m_ent *e = &mt->e[k];

		if (it.ent->pfn != e->pfn || it.ent->offset != e->off || it.ent->len != e->len)
			return h_fail(
				h,
				"slot %d entry %u: {pfn %#llx off %u len %u}, model {pfn %#llx "
				"off %u len %u}",
				i, k, (unsigned long long)it.ent->pfn, it.ent->offset, it.ent->len,
				(unsigned long long)e->pfn, e->off, e->len);
	}
	return 0;
}

/*
 * The harness's own reading of a mapped raw table against the device's constraints. It shares
 * nothing with the library: the core accepts a backend's mapping with sgt_dma_check_segments(),
 * so a bug there would hide in both if the harness called it too. Walks the chunks directly.
 */
const char *h_segments_break(const struct sgt_sg_table *sgt, const struct sgt_device_params *p)
{
	uint64_t mask = p->dma_mask ? p->dma_mask : UINT64_MAX;
	uint64_t max = p->max_segment_size ? p->max_segment_size : SGT_DMA_DEFAULT_MAX_SEGMENT;
	uint64_t b = p->seg_boundary_mask ? p->seg_boundary_mask : UINT64_MAX, sum = 0;
	const struct sgt_chunk *c = sgt->head;
	uint32_t seen = 0, k = 0;

	if (!sgt->num_dma_ents || sgt->num_dma_ents > sgt->num_cpu_ents)
		return "a DMA segment count of 0 or above the entry count";
	if (p->max_segments && sgt->num_dma_ents > p->max_segments)
		return "more DMA segments than the device's maximum";
	for (; c && seen < sgt->num_dma_ents; c = c->next) {
		for (k = 0; k < c->num_ents && seen < sgt->num_dma_ents; k++, seen++) {
			uint64_t a = c->ents[k].dma_addr, len = c->ents[k].dma_len;

			if (!len || a + (len - 1) < a)
				return "an empty or wrapping DMA segment";
			if (a + (len - 1) > mask)
				return "a DMA segment beyond the mask";
			if (len > max)
				return "a DMA segment over the maximum segment size";
			if (b != UINT64_MAX && a / (b + 1) != (a + len - 1) / (b + 1))
				return "a DMA segment across the boundary";
			if (p->alignment && a % p->alignment)
				return "a misaligned DMA segment";
			sum += len;
		}
	}
	if (seen != sgt->num_dma_ents)
		return "fewer DMA segments in the chunks than counted";
	return sum == sgt->total_len ? NULL : "DMA segments that do not add up to the table";
}

/* Everything a mapped slot promises: segments the device takes, the model's merge, the bytes. */
static int s_check_dma(struct sgt_harness *h, int i, struct h_slot *s)
{
	struct h_slot *owner = h_mapping_of(h, s);
	const struct sgt_sg_table *sgt;
	struct sgt_dma_iter it;
	const char *why = NULL;
	uint64_t at = 0, j, run;
	uint8_t *buf;
	int err = 0;

	if (sgt_cpu_sg_table(h_cpu(s), &sgt))
		return h_fail(h, "slot %d: no raw table", i);
	why = h_segments_break(sgt, &h->dp[owner->dev]);
	if (why)
		return h_fail(h, "slot %d: DMA segments break the device's limits: %s", i, why);
	if (sgt->num_dma_ents != owner->num_segs)
		return h_fail(h, "slot %d: %u DMA segments, model %u", i, sgt->num_dma_ents,
			      owner->num_segs);
	if (sgt_dma_iter_init(&it, h_dma(s)))
		return h_fail(h, "slot %d: DMA iterator refused", i);
	buf = malloc(sgt->total_len ? sgt->total_len : 1);
	if (!buf)
		return h_fail(h, "out of memory in the checker");
	while (!err && sgt_dma_iter_next(&it)) {
		if (it.dma_len != owner->seg_lens[it.index]) {
			err = h_fail(h, "slot %d: DMA segment %u is %u bytes, model %u", i,
				     it.index, it.dma_len, owner->seg_lens[it.index]);
			break;
		}
		/* A real device reads in the DEV_READ operations: each access is a DMA transfer. */
		if (!h_device_reads(owner->dir) || h_plugged(h, owner->dev)) {
			at += it.dma_len;
			continue;
		}
		if (sgt_simiommu_dma_read(h->sim[owner->dev], it.dma_addr, buf, it.dma_len)) {
			err = h_fail(h, "slot %d: the device cannot read DMA segment %u", i,
				     it.index);
			break;
		}
		/* Compared in runs: the bounce buffer's, or one model entry's bytes at a time. */
		for (j = 0; j < it.dma_len && !err; j += run, at += run) {
			const uint8_t *want;
			uint64_t addr, k;

			if (owner->bounce) {
				want = owner->bounce + at;
				run = it.dma_len - j;
			} else {
				run = m_byte_run(&s->mt, at, H_SHIFT, &addr);
				if (!run) {
					err = h_fail(h, "slot %d: DMA past the model's %llu bytes",
						     i, (unsigned long long)s->mt.total);
					break;
				}
				run = run < it.dma_len - j ? run : it.dma_len - j;
				want = h_shadow_at(h, addr);
			}
			k = h_first_diff(buf + j, want, run);
			if (k == run)
				continue;
			err = h_fail(
				h,
				"slot %d: the device reads %#x at table byte %llu (DMA segment "
				"%u), model %#x",
				i, buf[j + k], (unsigned long long)(at + k), it.index, want[k]);
		}
	}
	free(buf);
	return err;
}

/*
 * The simulated device's own consistency check (its mapping list, IOVA allocator and counts):
 * a walk of all its structures, so after a step only if the step mapped or unmapped on it (the
 * only calls that change them), and always with @full (at the end of a sequence).
 */
static int s_check_bookkeeping(struct sgt_harness *h, int d, bool full)
{
	uint64_t changes = sgt_simiommu_changes(h->sim[d]) + 1;
	const char *why = NULL;

	if (!full && changes == h->checked_changes[d])
		return 0;
	h->checked_changes[d] = changes;
	if (sgt_simiommu_check(h->sim[d], &why))
		return h_fail(h, "device %d bookkeeping: %s", d, why);
	return 0;
}

static int s_check_devices(struct sgt_harness *h)
{
	int d;

	for (d = 0; d < SGT_H_DEVS; d++) {
		const struct sgt_device *dev = h_device(h, d);
		uint64_t r = sgt_dma_debug_num_reports(dev);
		const char *first = sgt_dma_debug_msg(dev, 0);

		if (r != h->expect_reports[d])
			return h_fail(h, "device %d: %llu debug reports, model %llu (first: %s)", d,
				      (unsigned long long)r,
				      (unsigned long long)h->expect_reports[d],
				      first ? first : "none");
		for (int k = 0; k < SGT_REPORT_NUM_KINDS; k++) {
			uint64_t got = sgt_dma_debug_count(dev, (enum sgt_dma_report_kind)k);

			if (got != h->expect_kind[d][k])
				return h_fail(h,
					      "device %d: %llu %s reports, model %llu (first: %s)",
					      d, (unsigned long long)got,
					      sgt_dma_report_name((enum sgt_dma_report_kind)k),
					      (unsigned long long)h->expect_kind[d][k],
					      first ? first : "none");
		}
		if (h_plugged(h, d))
			continue; /* a real device has no count of its own to compare */
		/* Two bookkeepings that share no code: the core's records and the device's own. */
		if (sgt_dma_debug_live(dev) != sgt_simiommu_live_mappings(h->sim[d]))
			return h_fail(h,
				      "device %d: the debug layer knows %llu live mappings, the "
				      "device %llu",
				      d, (unsigned long long)sgt_dma_debug_live(dev),
				      (unsigned long long)sgt_simiommu_live_mappings(h->sim[d]));
		if (sgt_simiommu_num_faults(h->sim[d]) != h->expect_faults[d])
			return h_fail(h, "device %d: %llu faults, model %llu", d,
				      (unsigned long long)sgt_simiommu_num_faults(h->sim[d]),
				      (unsigned long long)h->expect_faults[d]);
		if (s_check_bookkeeping(h, d, false))
			return SGT_H_MISMATCH;
	}
	return 0;
}

/* Was page @p, or one next to it, handed out by the memory or written by the model? */
static bool s_near_touched(const struct sgt_harness *h, uint32_t p)
{
	uint32_t q, lo = p ? p - 1 : 0, hi = p + 1 < H_PAGES ? p + 1 : p;

	for (q = lo; q <= hi; q++) {
		if (h->mem.page_touched[q] || h->shadow_touched[q])
			return true;
	}
	return false;
}

/*
 * Memory against the model's shadow. After a step, only the pages that can have changed (the
 * library and the simulated devices reach memory only through map_page and alloc_pages, the
 * model only through h_shadow_write()) and their neighbours, so that a write running past a
 * page's end is still caught at once; with @full (the end of a sequence; a real device, which
 * writes memory without asking), every page.
 */
static int s_compare_memory(struct sgt_harness *h, bool full)
{
	uint32_t p;
	uint64_t k;

	for (p = 0; p < H_PAGES; p++) {
		const uint8_t *a = h->mem.arena + (uint64_t)p * H_PS,
			      *b = h->shadow + (uint64_t)p * H_PS;

		if (!full && !s_near_touched(h, p))
			continue;
		k = h_first_diff(a, b, H_PS);
		if (k == H_PS)
			continue;
		return h_fail(h,
			      "memory differs from the model at frame %#llx byte %llu: %#x, model "
			      "%#x",
			      (unsigned long long)(h->base + p), (unsigned long long)k, a[k], b[k]);
	}
	for (p = 0; p < H_PAGES; p++)
		h->dirty[p] |= h->mem.page_touched[p] | h->shadow_touched[p];
	memset(h->mem.page_touched, 0, H_PAGES);
	memset(h->shadow_touched, 0, H_PAGES);
	return 0;
}

int h_check_world(struct sgt_harness *h)
{
	int i, err;

	for (i = 0; i < SGT_H_SLOTS; i++) {
		struct h_slot *s = &h->s[i];

		if (s->kind == H_EMPTY)
			continue;
		err = h_check_entries(h, i, h_cpu(s), &s->mt);
		if (!err && (s->kind == H_MAPPED || s->kind == H_BMAPPED))
			err = s_check_dma(h, i, s);
		if (err)
			return err;
	}
	if (sgt_sg_table_check(&h->raw.sgt, NULL) ||
	    h->raw.sgt.num_dma_ents != (h->raw.mapped ? h->raw.num_segs : 0))
		return h_fail(h, "raw table: invalid or %u DMA segments, model %u",
			      h->raw.sgt.num_dma_ents, h->raw.mapped ? h->raw.num_segs : 0);
	if (h->mem.bad_frees)
		return h_fail(h,
			      "%llu page blocks freed with another order than allocated, or "
			      "never allocated",
			      (unsigned long long)h->mem.bad_frees);
	if (s_compare_memory(h, h_plugged(h, 0)))
		return SGT_H_MISMATCH;
	return s_check_devices(h);
}

int sgt_harness_apply(struct sgt_harness *h, struct sgt_op *op)
{
	int r;

	h->why[0] = 0;
	sgt_op_normalise(op);
	r = h_do_op(h, op);
	if (r == SGT_H_OK)
		r = h_check_world(h);
	return r;
}

/* Drop views before what they view, then the rest; then nothing may be left anywhere. */
int sgt_harness_finish(struct sgt_harness *h)
{
	struct sgt_op drop = { .kind = SGT_OP_DROP };
	struct sgt_op unmap = { .kind = SGT_OP_RAW_UNMAP };
	int pass, i, r;
	uint64_t leaks;

	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < SGT_H_SLOTS; i++) {
			if (h->s[i].kind == H_EMPTY || h->s[i].users)
				continue;
			drop.slot = (uint8_t)i;
			r = sgt_harness_apply(h, &drop);
			if (r == SGT_H_MISMATCH)
				return r;
		}
	}
	if (h->raw.mapped && sgt_harness_apply(h, &unmap) == SGT_H_MISMATCH)
		return SGT_H_MISMATCH;
	for (i = 0; i < SGT_H_SLOTS; i++) {
		if (h->s[i].kind != H_EMPTY)
			return h_fail(h, "slot %d could not be dropped", i);
	}
	if (sgt_test_alloc_live(&h->alloc) || h->alloc.size_mismatch)
		return h_fail(h, "%llu allocations outstanding after every table was dropped",
			      (unsigned long long)sgt_test_alloc_live(&h->alloc));
	if (h->mem.live_page_allocs || h->mem.mapped)
		return h_fail(h, "%llu page blocks allocated, %lld pages mapped at the end",
			      (unsigned long long)h->mem.live_page_allocs,
			      (long long)h->mem.mapped);
	for (i = 0; i < SGT_H_DEVS; i++) {
		if (h_plugged(h, i) ? sgt_dma_debug_live(h->plug_dev)
				    : sgt_simiommu_live_mappings(h->sim[i]))
			return h_fail(h, "device %d: mappings live at the end", i);
	}
	r = s_compare_memory(h, true);
	if (r == SGT_H_OK)
		r = s_check_devices(h);
	for (i = 0; i < SGT_H_DEVS && r == SGT_H_OK; i++) {
		if (!h_plugged(h, i))
			r = s_check_bookkeeping(h, i, true);
	}
	for (i = 0; i < SGT_H_DEVS && r == SGT_H_OK; i++) {
		if (h_plugged(h, i)) {
			leaks = h->plug->close(h->plug->ctx, h->plug_dev);
			h->plug_dev = NULL;
		} else {
			leaks = sgt_simiommu_free(h->sim[i]);
		}
		h->sim[i] = NULL;
		if (leaks)
			r = h_fail(h, "device %d: %llu leaked mappings", i,
				   (unsigned long long)leaks);
	}
	h->finished = r == SGT_H_OK && !h->plug;
	return r;
}
