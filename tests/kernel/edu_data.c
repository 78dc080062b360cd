// SPDX-License-Identifier: MIT
/*
 * The tests that move data through edu's DMA engine: round trips in every direction with the
 * syncs, a BorrowedMapping over a table the kernel mapped for someone else, and a DMA after the
 * unmap. Each transfer costs 100 ms of the VM's time: the shapes here are few and small.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "edu_test.h"

int edu_table(struct edu_test *t, struct sgt_table *out, const struct edu_run *runs, unsigned int n,
	      u32 max_segment)
{
	return edu_table_cap(t, out, runs, n, max_segment, 0);
}

void edu_constrain(struct edu_test *t, unsigned int max_seg, unsigned long boundary)
{
	dma_set_max_seg_size(t->dev, max_seg);
	dma_set_seg_boundary(t->dev, boundary);
}

int edu_table_cap(struct edu_test *t, struct sgt_table *out, const struct edu_run *runs,
		  unsigned int n, u32 max_segment, u32 chunk_capacity)
{
	struct sgt_table_params tp = { .alloc = &t->a.alloc,
				       .mem = sgt_platform_memory(),
				       .chunk_capacity = chunk_capacity };
	u64 pfns[EDU_POOL_PAGES_MAX];
	unsigned int i, k;
	int err = sgt_table_init(out, &tp);

	for (i = 0; i < n && !err; i++) {
		u32 pages = DIV_ROUND_UP(runs[i].offset + runs[i].len, PAGE_SIZE);
		struct sgt_pages pg;

		if (runs[i].page + pages > (1u << EDU_POOL_ORDER) || pages > EDU_POOL_PAGES_MAX) {
			err = -EINVAL;
			break;
		}
		for (k = 0; k < pages; k++)
			pfns[k] = page_to_pfn(t->pool) + runs[i].page + k;
		sgt_pages_from_array(&pg, pfns, pages);
		/* 0: no limit of the test's own */
		err = sgt_table_append_pages(out, &pg, runs[i].offset, runs[i].len,
					     max_segment ? max_segment : SGT_MAX_SEGMENT_UNLIMITED,
					     SGT_MAY_SLEEP);
	}
	if (err)
		sgt_table_cleanup(out);
	return err;
}

int edu_device(struct edu_test *t, struct sgt_kernel_device *kd)
{
	return sgt_kernel_device_init(kd, t->dev, &t->a.alloc, NULL);
}

void edu_device_done(struct edu_test *t, struct sgt_kernel_device *kd)
{
	t->leaked_maps += sgt_kernel_device_cleanup(kd);
}

/* Move every DMA segment of @d between host memory and edu's buffer from @buf_off on. */
static int s_dma_all(struct edu_test *t, const struct sgt_dma *d, u32 buf_off, bool to_ram)
{
	struct sgt_dma_iter it;
	int err = sgt_dma_iter_init(&it, d);

	while (!err && sgt_dma_iter_next(&it)) {
		u32 done = 0;

		while (!err && done < it.dma_len) {
			u32 n = min_t(u32, it.dma_len - done, EDU_XFER_MAX);

			err = edu_dma(t, it.dma_addr + done, buf_off, n, to_ram);
			buf_off += n;
			done += n;
		}
	}
	return err;
}

static void s_fill(u8 *buf, size_t len, u8 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (u8)(seed + i * 7 + (i >> 8));
}

/* Table -> edu (to-device): returns the bytes sent, which edu's buffer now holds. */
static int s_send(struct edu_test *t, struct sgt_kernel_device *kd, struct sgt_table *tbl,
		  enum sgt_dma_dir dir, const u8 *data, size_t len, const char *name)
{
	struct sgt_mapping m;
	int err = sgt_copy_from_buffer(&tbl->cpu, 0, data, len, NULL);

	if (!err)
		err = sgt_table_map(tbl, sgt_kernel_dev(kd), dir, 0, &m, SGT_MAY_SLEEP);
	if (err) {
		edu_check(t, false, name, "send map: %d", err);
		return err;
	}
	err = s_dma_all(t, &m.dma, 0, false);
	edu_check(t, !err, name, "send dma: %d", err);
	if (!err)
		memcpy(t->edu_buf, data, len);
	err = sgt_mapping_unmap(&m, tbl);
	edu_check(t, !err, name, "send unmap: %d", err);
	return err;
}

/* edu -> a fresh table of pages from alloc_order; checks the bytes against edu's buffer. */
static void s_receive_check(struct edu_test *t, struct sgt_kernel_device *kd, size_t len,
			    const char *name)
{
	struct sgt_table_params tp = { .alloc = &t->a.alloc, .mem = sgt_platform_memory() };
	struct sgt_table tbl;
	struct sgt_mapping m;
	u8 *got = kzalloc(len, GFP_KERNEL);
	int err = got ? 0 : -ENOMEM;

	if (!err)
		err = sgt_table_init_alloc_order(&tbl, &tp, len, 0, SGT_MAY_SLEEP);
	if (!err) {
		err = sgt_table_map(&tbl, sgt_kernel_dev(kd), SGT_DMA_FROM_DEVICE, 0, &m,
				    SGT_MAY_SLEEP);
		if (err)
			sgt_table_cleanup(&tbl);
	}
	if (err) {
		edu_check(t, false, name, "receive setup: %d", err);
		kfree(got);
		return;
	}
	err = s_dma_all(t, &m.dma, 0, true);
	/* The sync the negative control leaves out: under swiotlb=force the data is in the bounce
	 * buffer until it. */
	if (!err && !t->skip_sync_for_cpu)
		err = sgt_dma_sync_for_cpu(&m.dma);
	if (!err)
		err = sgt_copy_to_buffer(&m.dma.cpu, 0, got, len, NULL);
	edu_check(t, !err, name, "receive: %d", err);
	edu_check(t, !err && !memcmp(got, t->edu_buf, len), "roundtrip-data",
		  "%s: %zu bytes differ from what was sent", name, len);
	sgt_mapping_cleanup(&m);
	kfree(got);
}

/* Scattered entries, page-crossing and mid-page; then a pair the IOMMU merges. */
static const struct edu_run s_shape_x[] = { { 1, 0xe00, 0x400 },
					    { 4, 0, 0x300 },
					    { 6, 0x100, 0x500 } };
static const struct edu_run s_shape_y[] = { { 8, 0x800, 0x800 }, { 10, 0, 0x400 } };
#define S_SHAPE_LEN 0xc00u

void edu_test_roundtrips(struct edu_test *t)
{
	struct sgt_kernel_device kd;
	struct sgt_mapping m;
	struct sgt_table x, y;
	u8 *data = kmalloc(S_SHAPE_LEN, GFP_KERNEL);
	u8 *got = kmalloc(S_SHAPE_LEN, GFP_KERNEL);
	int err = data && got ? edu_device(t, &kd) : -ENOMEM;

	if (err) {
		edu_check(t, false, "roundtrip", "setup: %d", err);
		goto out;
	}
	/* to-device out of a scattered table, from-device into pages of alloc_order */
	s_fill(data, S_SHAPE_LEN, 0x11);
	err = edu_table(t, &x, s_shape_x, ARRAY_SIZE(s_shape_x), 0);
	edu_check(t, !err, "roundtrip-to", "build: %d", err);
	if (!err && !s_send(t, &kd, &x, SGT_DMA_TO_DEVICE, data, S_SHAPE_LEN, "roundtrip-to"))
		s_receive_check(t, &kd, S_SHAPE_LEN, "roundtrip-from");
	if (!err)
		sgt_table_cleanup(&x);

	/* bidirectional: the device writes, the CPU reads and rewrites, the device reads */
	err = edu_table(t, &y, s_shape_y, ARRAY_SIZE(s_shape_y), 0);
	if (!err)
		err = sgt_table_map(&y, sgt_kernel_dev(&kd), SGT_DMA_BIDIRECTIONAL, 0, &m,
				    SGT_MAY_SLEEP);
	edu_check(t, !err, "roundtrip-bidi", "map: %d", err);
	if (err)
		goto done;
	err = s_dma_all(t, &m.dma, 0, true);
	if (!err && !t->skip_sync_for_cpu)
		err = sgt_dma_sync_for_cpu(&m.dma);
	if (!err)
		err = sgt_copy_to_buffer(&m.dma.cpu, 0, got, S_SHAPE_LEN, NULL);
	edu_check(t, !err && !memcmp(got, t->edu_buf, S_SHAPE_LEN), "roundtrip-data",
		  "bidirectional, device to CPU: %d", err);
	s_fill(data, S_SHAPE_LEN, 0x77);
	err = sgt_copy_from_buffer(&m.dma.cpu, 0, data, S_SHAPE_LEN, NULL);
	if (!err)
		err = sgt_dma_sync_for_device(&m.dma);
	if (!err)
		err = s_dma_all(t, &m.dma, 0, false);
	edu_check(t, !err, "roundtrip-bidi", "CPU to device: %d", err);
	if (!err)
		memcpy(t->edu_buf, data, S_SHAPE_LEN);
	sgt_mapping_cleanup(&m);
	s_receive_check(t, &kd, S_SHAPE_LEN, "roundtrip-bidi-back");
done:
	edu_device_done(t, &kd);
out:
	kfree(data);
	kfree(got);
}

/*
 * A table the kernel mapped for its owner (as a dma-buf exporter does): sgt iterates its DMA
 * segments, syncs it through the kernel, and leaves it mapped for the owner to unmap.
 */
void edu_test_borrowed(struct edu_test *t)
{
	/* two entries; the second starts a page, so an IOMMU merges them */
	struct page *pages[2] = { nth_page(t->pool, 14), nth_page(t->pool, 17) };
	const size_t len = 0xa00, off = 0xc00;
	struct sgt_kernel_borrowed kb;
	struct sgt_kernel_device kd;
	struct scatterlist *sg;
	struct sgt_dma_iter it;
	struct sg_table lt;
	unsigned int i, nents;
	bool same = true;
	u8 *got = kmalloc(len, GFP_KERNEL);
	int err = got ? edu_device(t, &kd) : -ENOMEM;

	if (!err)
		err = sg_alloc_table_from_pages(&lt, pages, 2, off, len, GFP_KERNEL);
	if (!err) {
		err = dma_map_sgtable(t->dev, &lt, DMA_FROM_DEVICE, 0);
		if (err)
			sg_free_table(&lt);
	}
	if (err) {
		edu_check(t, false, "borrowed", "setup: %d", err);
		goto out;
	}
	nents = lt.nents;
	err = sgt_kernel_borrow_sgtable(&kb, &kd, &lt, SGT_DMA_FROM_DEVICE, SGT_MAY_SLEEP);
	edu_check(t, !err, "borrowed", "borrow: %d", err);
	if (!err) {
		/* sgt's DMA segments are the kernel's, one for one */
		err = sgt_dma_iter_init(&it, &kb.bm.dma);
		for_each_sgtable_dma_sg(&lt, sg, i)
		{
			same = same && !err && sgt_dma_iter_next(&it) &&
			       it.dma_addr == sg_dma_address(sg) && it.dma_len == sg_dma_len(sg);
		}
		same = same && !sgt_dma_iter_next(&it);
		edu_check(t, same, "borrowed", "DMA segments differ from the kernel's (%u)", nents);
		err = s_dma_all(t, &kb.bm.dma, 0, true);
		if (!err)
			err = sgt_dma_sync_for_cpu(&kb.bm.dma);
		if (!err)
			err = sgt_copy_to_buffer(&kb.bm.dma.cpu, 0, got, len, NULL);
		edu_check(t, !err && !memcmp(got, t->edu_buf, len), "borrowed",
			  "data through the borrowed sync: %d", err);
		sgt_kernel_borrowed_cleanup(&kb);
		sgt_kernel_borrowed_cleanup(&kb); /* a second call does nothing */
	}
	edu_check(t, lt.nents == nents && lt.orig_nents == 2, "borrowed",
		  "the owner's table changed: %u/%u", lt.nents, lt.orig_nents);
	dma_unmap_sgtable(t->dev, &lt, DMA_FROM_DEVICE, 0);
	sg_free_table(&lt);
	edu_device_done(t, &kd);
out:
	kfree(got);
}

/* With an IOMMU, the device loses access at unmap: a DMA to the old address moves nothing. */
void edu_test_after_unmap(struct edu_test *t)
{
	static const struct edu_run run = { 12, 0, PAGE_SIZE };
	struct sgt_kernel_device kd;
	struct sgt_mapping m;
	struct sgt_table tbl;
	u64 addr = 0;
	u8 *page = page_address(nth_page(t->pool, 12));
	bool untouched;
	int err;

	if (!t->iommu)
		return;
	err = edu_device(t, &kd);
	if (err) {
		edu_check(t, false, "after-unmap", "device: %d", err);
		return;
	}
	memset(page, 0x5a, PAGE_SIZE);
	err = edu_table(t, &tbl, &run, 1, 0);
	if (!err)
		err = sgt_table_map(&tbl, sgt_kernel_dev(&kd), SGT_DMA_FROM_DEVICE, 0, &m,
				    SGT_MAY_SLEEP);
	if (!err) {
		struct sgt_dma_iter it;

		err = sgt_dma_iter_init(&it, &m.dma);
		if (!err && sgt_dma_iter_next(&it))
			addr = it.dma_addr;
		sgt_mapping_cleanup(&m);
	}
	edu_check(t, !err && addr, "after-unmap", "map: %d", err);
	/* Debian's kernel flushes the IOTLB lazily, within 10 ms: past that, the address is dead.
	 */
	msleep(20);
	if (!err && addr)
		err = edu_dma(t, addr, 0, 256, true);
	untouched = memchr_inv(page, 0x5a, PAGE_SIZE) == NULL;
	edu_check(t, !err && untouched, "after-unmap",
		  "a DMA to %llx after its unmap changed the page (%d)", addr, err);
	edu_device_done(t, &kd);
}
