// SPDX-License-Identifier: MIT
/*
 * The tests that need no data transfer: tables of many shapes mapped under varied device
 * constraints and checked byte for byte against the kernel's own translation, misuse and stale
 * handles, and an allocation-failure sweep.
 */
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "edu_test.h"

/* ---- the test's own view of a mapping: none of sgt's checks are reused ---- */

static const struct sgt_entry *s_ent(const struct sgt_sg_table *raw, u32 i)
{
	const struct sgt_chunk *c = raw->head;

	while (c && i >= c->num_ents) {
		i -= c->num_ents;
		c = c->next;
	}
	return c ? &c->ents[i] : NULL;
}

static bool s_crosses(u64 addr, u64 len, u64 mask)
{
	return (addr & ~mask) != ((addr + len - 1) & ~mask);
}

static u64 s_phys(const struct sgt_entry *e)
{
	return ((u64)e->pfn << PAGE_SHIFT) + e->offset;
}

/* Does any entry break the caller's contract (so that sgt must refuse the table)? */
static bool s_table_breaks_contract(const struct sgt_sg_table *raw, u32 max_seg, u64 boundary)
{
	u32 i;

	for (i = 0; i < raw->num_cpu_ents; i++) {
		const struct sgt_entry *e = s_ent(raw, i);

		if (e->len > max_seg || s_crosses(s_phys(e), e->len, boundary))
			return true;
	}
	return false;
}

/* Where the device's address @dma lands in physical memory; ~0 when nowhere. */
static u64 s_translate(struct edu_test *t, u64 dma)
{
	struct iommu_domain *dom;
	phys_addr_t p;

	if (!t->iommu)
		return dma; /* dma-direct on x86: bus address == physical address */
	dom = iommu_get_domain_for_dev(t->dev);
	p = dom ? iommu_iova_to_phys(dom, dma) : 0;
	return p ? p : ~0ull;
}

/*
 * The DMA segments against the device's constraints and the CPU entries: every segment within
 * the mask, the maximum and the boundary; the lengths add up; and (without bouncing) the device
 * reaches each CPU byte, in order, at the address the segments say, as the kernel translates it.
 */
static const char *s_check_mapping(struct edu_test *t, const struct sgt_sg_table *raw, u32 max_seg,
				   u64 boundary)
{
	u64 sum = 0, cpu_off = 0, dma_off = 0;
	u32 i, ci = 0, di = 0;

	if (!raw->num_dma_ents || raw->num_dma_ents > raw->num_cpu_ents)
		return "segment count";
	for (i = 0; i < raw->num_dma_ents; i++) {
		const struct sgt_entry *e = s_ent(raw, i);

		if (!e->dma_len || e->dma_len > max_seg)
			return "segment length";
		if (e->dma_addr + e->dma_len - 1 > EDU_DMA_MASK)
			return "segment beyond the mask";
		if (s_crosses(e->dma_addr, e->dma_len, boundary))
			return "segment crosses the boundary";
		sum += e->dma_len;
	}
	if (sum != raw->total_len)
		return "segments do not add up to the table";
	if (t->bounce)
		return NULL; /* the device sees swiotlb's slots, not the pages */
	while (ci < raw->num_cpu_ents && di < raw->num_dma_ents) {
		const struct sgt_entry *c = s_ent(raw, ci), *d = s_ent(raw, di);
		u64 cpu = s_phys(c) + cpu_off, dma = d->dma_addr + dma_off;
		u64 step = min3(c->len - cpu_off, d->dma_len - dma_off,
				PAGE_SIZE - (cpu & (PAGE_SIZE - 1)));

		step = min_t(u64, step, PAGE_SIZE - (dma & (PAGE_SIZE - 1)));
		if (s_translate(t, dma) != cpu)
			return "a DMA address that does not reach its CPU byte";
		cpu_off += step;
		dma_off += step;
		if (cpu_off == c->len) {
			ci++;
			cpu_off = 0;
		}
		if (dma_off == d->dma_len) {
			di++;
			dma_off = 0;
		}
	}
	return ci == raw->num_cpu_ents && di == raw->num_dma_ents ? NULL : "walks end apart";
}

/* ---- shapes ---- */

struct s_shape {
	const char *name;
	struct edu_run runs[24];
	unsigned int n;
	u32 chunk_capacity;
	u64 order_len; /* non-zero: a table from alloc_order instead */
};

static const struct s_shape s_shapes[] = {
	{ "one-page", { { 20, 0, PAGE_SIZE } }, 1 },
	{ "contiguous", { { 20, 0, 8 * PAGE_SIZE } }, 1 },
	{ "scattered",
	  { { 20, 0, PAGE_SIZE },
	    { 22, 0, PAGE_SIZE },
	    { 25, 0, PAGE_SIZE },
	    { 27, 0, PAGE_SIZE } },
	  4 },
	{ "mid-page", { { 30, 0x100, 0x1e00 }, { 33, 0x80, 0x100 }, { 35, 0xf00, 0x300 } }, 3 },
	{ "many-chunks",
	  { { 36, 0, 0x800 },
	    { 37, 0, PAGE_SIZE },
	    { 39, 0x800, 0x800 },
	    { 41, 0, PAGE_SIZE },
	    { 43, 0, PAGE_SIZE },
	    { 45, 0x10, 0x7f0 },
	    { 47, 0, PAGE_SIZE },
	    { 49, 0, PAGE_SIZE },
	    { 51, 0, 3 * PAGE_SIZE },
	    { 55, 0, PAGE_SIZE },
	    { 57, 0x200, 0x200 },
	    { 59, 0, PAGE_SIZE },
	    { 61, 0, 2 * PAGE_SIZE } },
	  13,
	  2 },
	{ "alloc-order", { { 0 } }, 0, 0, 40000 },
};

struct s_constraint {
	unsigned int max_seg;
	unsigned long boundary;
};

static const struct s_constraint s_constraints[] = {
	{ 65536, 0xffffffff }, { 4096, 0xffffffff }, { 16384, 0x3fff },
	{ 8192, 0xffff },      { 1u << 20, 0x7fff },
};

static int s_shape_table(struct edu_test *t, const struct s_shape *sh, u32 max_seg,
			 struct sgt_table *out)
{
	struct sgt_table_params tp = { .alloc = &t->a.alloc, .mem = sgt_platform_memory() };

	if (sh->order_len)
		return sgt_table_init_alloc_order(out, &tp, sh->order_len, 1, SGT_MAY_SLEEP);
	return edu_table_cap(t, out, sh->runs, sh->n, max_seg, sh->chunk_capacity);
}

static void s_map_one(struct edu_test *t, struct sgt_kernel_device *kd, const struct s_shape *sh,
		      const struct s_constraint *c, enum sgt_dma_dir dir)
{
	const struct sgt_sg_table *raw;
	struct sgt_table tbl;
	struct sgt_mapping m;
	const char *why;
	bool refuse;
	int err = s_shape_table(t, sh, c->max_seg, &tbl);

	if (!err)
		err = sgt_cpu_sg_table(&tbl.cpu, &raw);
	if (err) {
		edu_check(t, false, "shapes", "%s: build %d", sh->name, err);
		return;
	}
	refuse = s_table_breaks_contract(raw, c->max_seg, c->boundary);
	err = sgt_table_map(&tbl, sgt_kernel_dev(kd), dir, 0, &m, SGT_MAY_SLEEP);
	if (refuse) {
		edu_check(t, err == -EINVAL && !sgt_cpu_check(&tbl.cpu), "shapes",
			  "%s max_seg %u boundary %lx dir %d: %d, not a refusal", sh->name,
			  c->max_seg, c->boundary, dir, err);
		sgt_table_cleanup(&tbl);
		return;
	}
	if (err) {
		edu_check(t, false, "shapes", "%s max_seg %u boundary %lx dir %d: map %d", sh->name,
			  c->max_seg, c->boundary, dir, err);
		sgt_table_cleanup(&tbl);
		return;
	}
	why = s_check_mapping(t, m.dma.cpu.sgt__sgt, c->max_seg, c->boundary);
	edu_check(t, !why, "shapes", "%s max_seg %u boundary %lx dir %d: %s", sh->name, c->max_seg,
		  c->boundary, dir, why);
	sgt_mapping_cleanup(&m);
}

void edu_test_shapes(struct edu_test *t)
{
	unsigned int ci, si, before = t->fail, checks = t->pass + t->fail;
	enum sgt_dma_dir dir;

	for (ci = 0; ci < ARRAY_SIZE(s_constraints); ci++) {
		const struct s_constraint *c = &s_constraints[ci];
		struct sgt_kernel_device kd;

		edu_constrain(t, c->max_seg, c->boundary);
		if (edu_device(t, &kd)) {
			edu_check(t, false, "shapes", "device for max_seg %u", c->max_seg);
			continue;
		}
		for (si = 0; si < ARRAY_SIZE(s_shapes); si++)
			for (dir = SGT_DMA_BIDIRECTIONAL; dir <= SGT_DMA_FROM_DEVICE; dir++)
				s_map_one(t, &kd, &s_shapes[si], c, dir);
		edu_device_done(t, &kd);
	}
	edu_constrain(t, t->orig_max_seg, t->orig_boundary);
	if (t->fail == before)
		pr_info("SGT-TEST ok shapes %u mappings\n", t->pass + t->fail - checks);
}

/* ---- misuse and stale handles ---- */

static void s_misuse_handles(struct edu_test *t, struct sgt_kernel_device *kd)
{
	static const struct edu_run run = { 2, 0, PAGE_SIZE };
	struct sgt_table tbl, out;
	struct sgt_mapping m;
	struct sgt_dma_iter it;
	int err = edu_table(t, &tbl, &run, 1, 0);

	if (err) {
		edu_check(t, false, "misuse", "build %d", err);
		return;
	}
	err = sgt_table_map(&tbl, sgt_kernel_dev(kd), SGT_DMA_NONE, 0, &m, SGT_MAY_SLEEP);
	edu_check(t, err == -EINVAL && !sgt_cpu_check(&tbl.cpu), "misuse", "DMA_NONE: %d", err);
	err = sgt_table_map(&tbl, sgt_kernel_dev(kd), SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP);
	edu_check(t, !err, "misuse", "map %d", err);
	if (err) {
		sgt_table_cleanup(&tbl);
		return;
	}
	edu_check(t, sgt_cpu_check(&tbl.cpu) == -ESTALE, "misuse", "the mapped table's old handle");
	err = sgt_mapping_unmap(&m, &out);
	edu_check(t, !err, "misuse", "unmap %d", err);
	edu_check(t, sgt_mapping_unmap(&m, &out) == -ESTALE, "misuse", "second unmap");
	edu_check(t, sgt_dma_iter_init(&it, &m.dma) == -ESTALE, "misuse", "iterating an unmapped");
	edu_check(t, sgt_dma_sync_for_cpu(&m.dma) == -ESTALE, "misuse", "syncing an unmapped");
	sgt_mapping_cleanup(&m); /* stale: does nothing */
	sgt_table_cleanup(&out);
	edu_check(t, sgt_cpu_check(&out.cpu) == -ESTALE, "misuse", "a freed table");
}

/* The raw API with the debug layer on: misuse is refused and reported inside the kernel too. */
static void s_misuse_raw(struct edu_test *t, struct sgt_kernel_device *kd)
{
	static const struct edu_run runs[] = { { 2, 0, PAGE_SIZE }, { 5, 0, PAGE_SIZE } };
	struct sgt_dma_debug_params dp = { .alloc = &t->a.alloc };
	struct sgt_device *dev = sgt_kernel_dev(kd);
	struct sgt_table tbl;
	u32 n = 0;
	int err = edu_table(t, &tbl, runs, 2, 0);

	if (!err)
		err = sgt_dma_debug_enable(dev, &dp);
	if (!err)
		err = sgt_dma_map_sg(dev, &tbl.sgt__own, SGT_DMA_FROM_DEVICE, 0, &n, SGT_MAY_SLEEP);
	edu_check(t, !err && n >= 1, "misuse-raw", "map %d", err);
	if (err)
		goto out;
	err = sgt_dma_sync_sg_for_cpu(dev, &tbl.sgt__own, 1, SGT_DMA_FROM_DEVICE);
	edu_check(t, err == -EINVAL && sgt_dma_debug_count(dev, SGT_REPORT_SYNC_WRONG_NENTS) == 1,
		  "misuse-raw", "partial sync: %d", err);
	err = sgt_dma_map_sg(dev, &tbl.sgt__own, SGT_DMA_FROM_DEVICE, 0, &n, SGT_MAY_SLEEP);
	edu_check(t, err == -EINVAL, "misuse-raw", "mapping a mapped table: %d", err);
	err = sgt_dma_unmap_sg(dev, &tbl.sgt__own, 2, SGT_DMA_TO_DEVICE, 0);
	edu_check(t,
		  err == -EINVAL && !tbl.sgt__own.num_dma_ents &&
			  sgt_dma_debug_count(dev, SGT_REPORT_UNMAP_WRONG_DIR) == 1,
		  "misuse-raw", "unmap with the wrong direction: %d, still unmapped", err);
	err = sgt_dma_unmap_sg(dev, &tbl.sgt__own, 2, SGT_DMA_FROM_DEVICE, 0);
	edu_check(t, err == -EINVAL && sgt_dma_debug_count(dev, SGT_REPORT_DOUBLE_UNMAP) == 1,
		  "misuse-raw", "double unmap: %d", err);
	edu_check(t, sgt_dma_debug_live(dev) == 0, "misuse-raw", "live records");
out:
	sgt_table_cleanup(&tbl);
}

/*
 * Under @max_seg and @boundary, a table of one 8 KiB entry that crosses a 16 KiB boundary must be
 * refused with -EINVAL and left as it was: the caller's side of the DMA API contract, which the
 * kernel backend enforces itself.
 */
static void s_expect_contract_refusal(struct edu_test *t, unsigned int max_seg,
				      unsigned long boundary, const char *what)
{
	static const struct edu_run crossing = { 3, 0, 2 * PAGE_SIZE };
	struct sgt_kernel_device kd;
	struct sgt_table tbl;
	struct sgt_mapping m;
	int err;

	edu_constrain(t, max_seg, boundary);
	err = edu_device(t, &kd);
	if (!err)
		err = edu_table(t, &tbl, &crossing, 1, 0);
	if (err) {
		edu_check(t, false, "misuse", "%s: setup %d", what, err);
		goto out;
	}
	err = sgt_table_map(&tbl, sgt_kernel_dev(&kd), SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP);
	edu_check(t, err == -EINVAL && !sgt_cpu_check(&tbl.cpu), "misuse", "%s: %d", what, err);
	if (!err)
		sgt_mapping_cleanup(&m); /* mapped against the contract: undo */
	else
		sgt_table_cleanup(&tbl);
	edu_device_done(t, &kd);
out:
	edu_constrain(t, t->orig_max_seg, t->orig_boundary);
}

/* What the kernel backend itself refuses, and bad arguments to its own functions. */
static void s_misuse_contract(struct edu_test *t)
{
	struct sgt_table_params tp = { .alloc = &t->a.alloc };
	struct sgt_memory other = *sgt_platform_memory();
	struct sgt_kernel_device kd;
	struct sgt_kernel_borrowed kb;
	struct sgt_table tbl;
	struct sgt_mapping m;
	struct sg_table lt = { 0 };
	u64 pfn = page_to_pfn(t->pool);
	struct sgt_pages pg;
	int err;

	edu_check(t, sgt_kernel_device_init(NULL, t->dev, NULL, NULL) == -EINVAL, "misuse",
		  "NULL device storage");
	edu_check(t, sgt_kernel_device_init(&kd, NULL, NULL, NULL) == -EINVAL, "misuse",
		  "NULL kernel device");
	edu_check(t, sgt_kernel_device_cleanup(NULL) == 0, "misuse", "cleanup of NULL");
	s_expect_contract_refusal(t, 4096, 0x3fff, "an entry over the maximum segment");
	s_expect_contract_refusal(t, 65536, 0x3fff, "an entry across the boundary");
	if (edu_device(t, &kd)) {
		edu_check(t, false, "misuse", "device");
		return;
	}
	/* frames of another memory domain are not the kernel's */
	tp.mem = &other;
	sgt_pages_from_array(&pg, &pfn, 1);
	err = sgt_table_init_from_pages(&tbl, &tp, &pg, 0, PAGE_SIZE, PAGE_SIZE, SGT_MAY_SLEEP);
	if (!err) {
		err = sgt_table_map(&tbl, sgt_kernel_dev(&kd), SGT_DMA_TO_DEVICE, 0, &m,
				    SGT_MAY_SLEEP);
		edu_check(t, err == -EINVAL, "misuse", "a foreign memory domain: %d", err);
		if (!err)
			sgt_mapping_cleanup(&m);
		else
			sgt_table_cleanup(&tbl);
	}
	/* borrowing what is not a mapped kernel table */
	edu_check(t,
		  sgt_kernel_borrow_sgtable(&kb, &kd, NULL, SGT_DMA_TO_DEVICE, SGT_MAY_SLEEP) ==
			  -EINVAL,
		  "misuse", "borrowing NULL");
	edu_check(t,
		  sgt_kernel_borrow_sgtable(&kb, &kd, &lt, SGT_DMA_TO_DEVICE, SGT_MAY_SLEEP) ==
			  -EINVAL,
		  "misuse", "borrowing an empty table");
	if (!sg_alloc_table(&lt, 1, GFP_KERNEL)) {
		sg_set_page(lt.sgl, t->pool, PAGE_SIZE, 0);
		edu_check(t,
			  sgt_kernel_borrow_sgtable(&kb, &kd, &lt, SGT_DMA_TO_DEVICE,
						    SGT_MAY_SLEEP) == -EINVAL,
			  "misuse", "borrowing an unmapped table");
		lt.nents = 1; /* "mapped", but with a bad direction and context */
		edu_check(t,
			  sgt_kernel_borrow_sgtable(&kb, &kd, &lt, SGT_DMA_NONE, SGT_MAY_SLEEP) ==
				  -EINVAL,
			  "misuse", "borrowing with DMA_NONE");
		edu_check(t,
			  sgt_kernel_borrow_sgtable(&kb, &kd, &lt, SGT_DMA_TO_DEVICE,
						    (enum sgt_alloc_ctx)7) == -EINVAL,
			  "misuse", "borrowing with a bad context");
		sg_free_table(&lt);
	}
	edu_device_done(t, &kd);
}

void edu_test_misuse(struct edu_test *t)
{
	struct sgt_kernel_device kd;
	unsigned int before = t->fail;

	if (edu_device(t, &kd)) {
		edu_check(t, false, "misuse", "device");
		return;
	}
	s_misuse_handles(t, &kd);
	s_misuse_raw(t, &kd);
	edu_device_done(t, &kd);
	s_misuse_contract(t);
	if (t->fail == before)
		pr_info("SGT-TEST ok misuse\n");
}

/* ---- allocation failures ---- */

/*
 * One pass of a life cycle with the debug layer on: build, map, iterate, unmap, map again and
 * drop. Every allocation goes through the counting allocator; the first error ends the pass.
 */
static int s_life(struct edu_test *t, bool *table_ok)
{
	static const struct edu_run runs[] = { { 20, 0, PAGE_SIZE },
					       { 22, 0x100, 0x300 },
					       { 25, 0, 2 * PAGE_SIZE },
					       { 29, 0, PAGE_SIZE },
					       { 31, 0x800, 0x100 } };
	struct sgt_dma_debug_params dp = { .alloc = &t->a.alloc };
	struct sgt_kernel_device kd;
	struct sgt_table tbl;
	struct sgt_mapping m;
	struct sgt_dma_iter it;
	int err = edu_device(t, &kd);

	*table_ok = true;
	if (err)
		return err;
	err = sgt_dma_debug_enable(sgt_kernel_dev(&kd), &dp);
	if (!err)
		err = edu_table_cap(t, &tbl, runs, ARRAY_SIZE(runs), 0, 2);
	if (err)
		goto dev;
	err = sgt_table_map(&tbl, sgt_kernel_dev(&kd), SGT_DMA_BIDIRECTIONAL, 0, &m, SGT_MAY_SLEEP);
	if (err) {
		*table_ok = !sgt_cpu_check(&tbl.cpu); /* a refused map changes nothing */
		goto table;
	}
	err = sgt_dma_iter_init(&it, &m.dma);
	while (!err && sgt_dma_iter_next(&it))
		;
	if (!err)
		err = sgt_mapping_unmap(&m, &tbl);
	if (err) {
		sgt_mapping_cleanup(&m);
		goto dev;
	}
	err = sgt_table_map(&tbl, sgt_kernel_dev(&kd), SGT_DMA_TO_DEVICE, 0, &m, SGT_ATOMIC);
	if (err) {
		*table_ok = !sgt_cpu_check(&tbl.cpu);
		goto table;
	}
	sgt_mapping_cleanup(&m);
	goto dev;
table:
	sgt_table_cleanup(&tbl);
dev:
	edu_device_done(t, &kd);
	return err;
}

void edu_test_alloc_failures(struct edu_test *t)
{
	unsigned long point, base;
	unsigned int before = t->fail;

	for (point = 1; point < 200; point++) {
		long live = atomic_long_read(&t->a.live);
		bool table_ok;
		int err;

		base = t->a.attempts;
		t->a.fail_at = base + point;
		err = s_life(t, &table_ok);
		t->a.fail_at = 0;
		if (t->a.attempts < base + point) { /* no allocation failed: every point is done */
			edu_check(t, !err, "alloc-sweep", "the pass without a failure: %d", err);
			break;
		}
		edu_check(t, err == -ENOMEM, "alloc-sweep", "point %lu: %d, not -ENOMEM", point,
			  err);
		edu_check(t, table_ok, "alloc-sweep", "point %lu: the table was changed", point);
		edu_check(t, atomic_long_read(&t->a.live) == live, "alloc-sweep",
			  "point %lu: %ld allocations leaked", point,
			  atomic_long_read(&t->a.live) - live);
	}
	edu_check(t, point > 3 && point < 200, "alloc-sweep", "%lu points", point);
	if (t->fail == before)
		pr_info("SGT-TEST ok alloc-sweep %lu failure points\n", point - 1);
}
