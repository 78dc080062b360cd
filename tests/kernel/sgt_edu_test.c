// SPDX-License-Identifier: MIT
/*
 * The kernel system test: a pci_driver for QEMU's edu device (1234:11e8) that runs sgt's
 * self-test on probe, over the real DMA API, with edu's DMA engine moving the data. Results are
 * machine-readable lines in the kernel log:
 *   SGT-TEST ok|FAIL <test> <detail>     one per check that matters
 *   SGT-FID <mode> <case> ...            the segment list of a fidelity case (see fidelity.c)
 *   SGT-RESULT pass=<n> fail=<n>         at the end of probe
 *   SGT-UNLOAD ok|FAIL ...               on remove: no allocation and no mapping left
 * The VM's init script turns them into a verdict (tools/vmtest.sh).
 *
 * Built twice: linked against sgt.ko, and with the core compiled in through
 * backends/kernel/sgt.kbuild (SGT_EDU_FLAVOUR says which).
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>

#include "sgt/kernel.h"
#include "sgt/platform.h"
#include "sgt/sgt.h"

#include "edu_test.h"

static char *mode = "iommu";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "what the VM is: iommu, direct, swiotlb, or negative (the control)");

static struct edu_test *s_test;

/* ---- checks ---- */

void edu_check(struct edu_test *t, bool ok, const char *test, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	if (ok) {
		t->pass++;
	} else {
		t->fail++;
		pr_info("SGT-TEST FAIL %s %pV\n", test, &vaf);
	}
	va_end(args);
}

/* ---- a counting allocator that fails on request ---- */

static void *s_cnt_alloc(void *ctx, size_t len, enum sgt_alloc_ctx actx)
{
	struct edu_alloc *a = ctx;
	const struct sgt_allocator *p = sgt_platform_allocator();
	void *ptr;

	a->attempts++;
	if (a->fail_at && a->attempts == a->fail_at)
		return NULL;
	ptr = p->alloc(p->ctx, len, actx);
	if (ptr)
		atomic_long_inc(&a->live);
	return ptr;
}

static void s_cnt_free(void *ctx, void *ptr, size_t len)
{
	struct edu_alloc *a = ctx;
	const struct sgt_allocator *p = sgt_platform_allocator();

	if (!ptr)
		return;
	atomic_long_dec(&a->live);
	p->free(p->ctx, ptr, len);
}

static void s_alloc_init(struct edu_alloc *a)
{
	a->alloc = (struct sgt_allocator){ .alloc = s_cnt_alloc, .free = s_cnt_free, .ctx = a };
	atomic_long_set(&a->live, 0);
	a->attempts = 0;
	a->fail_at = 0;
}

/* ---- the edu DMA engine ---- */

#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_RUN 0x1
#define EDU_DMA_TO_RAM 0x2

/* One transfer between host memory at @dma and edu's buffer at @buf_off; waits for the end. */
int edu_dma(struct edu_test *t, u64 dma, u32 buf_off, u32 len, bool to_ram)
{
	unsigned long deadline = jiffies + 3 * HZ;
	u64 buf = EDU_BUF_ADDR + buf_off;

	/* QEMU 7.2 aborts the VM on a transfer that ends at the buffer's last byte. */
	if (!len || len > EDU_XFER_MAX || buf_off + len >= EDU_BUF_SIZE)
		return -EINVAL;
	writeq(to_ram ? buf : dma, t->bar + EDU_DMA_SRC);
	writeq(to_ram ? dma : buf, t->bar + EDU_DMA_DST);
	writeq(len, t->bar + EDU_DMA_CNT);
	writeq(EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0), t->bar + EDU_DMA_CMD);
	while (readq(t->bar + EDU_DMA_CMD) & EDU_DMA_RUN) {
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
		usleep_range(2000, 4000);
	}
	t->transfers++;
	return 0;
}

/* ---- probe: every test, then the verdict lines ---- */

static int s_setup(struct pci_dev *pdev, struct edu_test *t)
{
	int err = pcim_enable_device(pdev);

	if (!err)
		err = pcim_iomap_regions(pdev, BIT(0), "sgt_edu");
	if (err)
		return err;
	t->bar = pcim_iomap_table(pdev)[0];
	pci_set_master(pdev);
	/* edu's engine keeps 28 address bits (QEMU's default dma_mask property). */
	err = dma_set_mask_and_coherent(&pdev->dev, EDU_DMA_MASK);
	if (err)
		return err;
	t->pdev = pdev;
	t->dev = &pdev->dev;
	t->orig_max_seg = dma_get_max_seg_size(t->dev);
	t->orig_boundary = dma_get_seg_boundary(t->dev);
	s_alloc_init(&t->a);
	t->pool = alloc_pages(GFP_KERNEL | __GFP_ZERO, EDU_POOL_ORDER);
	return t->pool ? 0 : -ENOMEM;
}

/* The mode the rig asked for must be the mode the kernel is in, or the VM tests nothing. */
static void s_check_mode(struct edu_test *t)
{
	bool iommu = device_iommu_mapped(t->dev);
	bool bounce = is_swiotlb_force_bounce(t->dev);

	t->mode = mode;
	t->iommu = iommu;
	t->bounce = bounce;
	if (!strcmp(mode, "iommu"))
		edu_check(t, iommu && !bounce, "mode", "iommu=%d bounce=%d", iommu, bounce);
	else if (!strcmp(mode, "direct"))
		edu_check(t, !iommu && !bounce, "mode", "iommu=%d bounce=%d", iommu, bounce);
	else if (!strcmp(mode, "swiotlb") || !strcmp(mode, "negative"))
		edu_check(t, !iommu && bounce, "mode", "iommu=%d bounce=%d", iommu, bounce);
	else
		edu_check(t, false, "mode", "unknown mode '%s'", mode);
}

static void s_run(struct edu_test *t)
{
	bool negative = !strcmp(t->mode, "negative");

	if (negative) {
		/* The control: only the round trips, with the sync for the CPU skipped. */
		t->skip_sync_for_cpu = true;
		edu_test_roundtrips(t);
		return;
	}
	edu_test_roundtrips(t);
	edu_test_borrowed(t);
	edu_test_after_unmap(t);
	edu_test_shapes(t);
	edu_test_misuse(t);
	edu_test_alloc_failures(t);
	edu_test_fidelity(t);
}

static int sgt_edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu_test *t = devm_kzalloc(&pdev->dev, sizeof(*t), GFP_KERNEL);
	int err;

	(void)id;
	if (!t)
		return -ENOMEM;
	err = s_setup(pdev, t);
	if (err) {
		pr_info("SGT-TEST FAIL setup %d\n", err);
		pr_info("SGT-RESULT pass=0 fail=1\n");
		return err;
	}
	pr_info("SGT-START flavour=%s mode=%s\n", SGT_EDU_FLAVOUR, mode);
	s_check_mode(t);
	s_run(t);
	dma_set_max_seg_size(t->dev, t->orig_max_seg);
	dma_set_seg_boundary(t->dev, t->orig_boundary);
	pr_info("SGT-RESULT pass=%u fail=%u transfers=%u\n", t->pass, t->fail, t->transfers);
	s_test = t;
	return 0;
}

static void sgt_edu_remove(struct pci_dev *pdev)
{
	struct edu_test *t = s_test;
	long live;

	(void)pdev;
	if (!t)
		return;
	__free_pages(t->pool, EDU_POOL_ORDER);
	live = atomic_long_read(&t->a.live);
	if (live || t->leaked_maps)
		pr_info("SGT-UNLOAD FAIL allocations=%ld mappings=%lu\n", live, t->leaked_maps);
	else
		pr_info("SGT-UNLOAD ok allocations=0 mappings=0\n");
	s_test = NULL;
}

static const struct pci_device_id sgt_edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ 0 },
};
MODULE_DEVICE_TABLE(pci, sgt_edu_ids);

static struct pci_driver sgt_edu_driver = {
	.name = "sgt_edu_" SGT_EDU_FLAVOUR,
	.id_table = sgt_edu_ids,
	.probe = sgt_edu_probe,
	.remove = sgt_edu_remove,
};
module_pci_driver(sgt_edu_driver);

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("sgt system test over QEMU's edu device");
