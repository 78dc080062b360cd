/* SPDX-License-Identifier: MIT */
#ifndef SGT_EDU_TEST_H
#define SGT_EDU_TEST_H

#include <linux/atomic.h>
#include <linux/pci.h>

#include "sgt/kernel.h"
#include "sgt/sgt.h"

#define EDU_BUF_ADDR 0x40000ull
#define EDU_BUF_SIZE 4096u
#define EDU_XFER_MAX 2048u /* see edu_dma(); each transfer also costs 100 ms of the VM's time */
#define EDU_DMA_MASK DMA_BIT_MASK(28)
#define EDU_POOL_ORDER 6u /* 64 pages, aligned to 256 KiB: fidelity_cases.h's pool */
#define EDU_POOL_PAGES_MAX 8u /* pages of one run */

/* The counting allocator: every table, mapping and debug record of the tests goes through it. */
struct edu_alloc {
	struct sgt_allocator alloc;
	atomic_long_t live;
	unsigned long attempts;
	unsigned long fail_at; /* fail this attempt (1-based); 0: never */
};

struct edu_test {
	struct pci_dev *pdev;
	struct device *dev;
	void __iomem *bar;
	const char *mode;
	bool iommu, bounce, skip_sync_for_cpu;
	unsigned int orig_max_seg;
	unsigned long orig_boundary;
	struct edu_alloc a;
	struct page *pool;
	unsigned int pass, fail, transfers;
	unsigned long leaked_maps;
	u8 edu_buf[EDU_BUF_SIZE]; /* what edu's buffer holds, as far as the test has written it */
};

__printf(4, 5) void edu_check(struct edu_test *t, bool ok, const char *test, const char *fmt, ...);
int edu_dma(struct edu_test *t, u64 dma, u32 buf_off, u32 len, bool to_ram);

/* A table over pool pages: runs of (first page, offset, len), appended in order. */
struct edu_run {
	u32 page, offset, len;
};
int edu_table(struct edu_test *t, struct sgt_table *out, const struct edu_run *runs, unsigned int n,
	      u32 max_segment);
/* The same with @chunk_capacity entries per chunk (0: the default), to force chaining. */
int edu_table_cap(struct edu_test *t, struct sgt_table *out, const struct edu_run *runs,
		  unsigned int n, u32 max_segment, u32 chunk_capacity);
/* Set the kernel device's constraints (the test restores them at the end). */
void edu_constrain(struct edu_test *t, unsigned int max_seg, unsigned long boundary);

/* An sgt device for the edu device with its current constraints, on the counting allocator. */
int edu_device(struct edu_test *t, struct sgt_kernel_device *kd);
/* Give the device back; counts mappings it still had. */
void edu_device_done(struct edu_test *t, struct sgt_kernel_device *kd);

void edu_test_roundtrips(struct edu_test *t);
void edu_test_borrowed(struct edu_test *t);
void edu_test_after_unmap(struct edu_test *t);
void edu_test_shapes(struct edu_test *t);
void edu_test_misuse(struct edu_test *t);
void edu_test_alloc_failures(struct edu_test *t);
void edu_test_fidelity(struct edu_test *t);

#endif /* SGT_EDU_TEST_H */
