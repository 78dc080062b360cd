/* SPDX-License-Identifier: MIT */
#ifndef SGT_FIDELITY_CASES_H
#define SGT_FIDELITY_CASES_H

/*
 * The cases that compare the simulated IOMMU with the real kernel: deterministic table shapes and
 * device constraints, generated identically by the VM's test module and by the host's comparison
 * (this is input, not a check: the two sides check nothing in common). Shapes are given in pages
 * of a pool of SGT_FID_POOL_PAGES physically contiguous pages aligned to the pool size, so that
 * physical contiguity and boundary crossings are the same on both sides.
 */
#include "sgt/types.h"

#define SGT_FID_POOL_ORDER 6u
#define SGT_FID_POOL_PAGES (1u << SGT_FID_POOL_ORDER)
#define SGT_FID_MAX_RUNS 8u
#define SGT_FID_NUM_CASES 300u
/* The edu device's DMA mask: the VM's devices and the simulator's use it. */
#define SGT_FID_DMA_MASK ((UINT64_C(1) << 28) - 1)

/* One run of bytes appended to the table: @len bytes from @offset into pool page @first_page. */
struct sgt_fid_run {
	uint32_t first_page;
	uint32_t offset;
	uint32_t len;
};

struct sgt_fid_case {
	uint32_t id;
	uint32_t num_runs;
	struct sgt_fid_run runs[SGT_FID_MAX_RUNS];
	uint32_t max_segment; /* dma_set_max_seg_size(); also the runs' max_segment */
	uint64_t seg_boundary; /* dma_set_seg_boundary() */
	uint32_t dir; /* enum sgt_dma_dir */
};

#ifdef __cplusplus
extern "C" {
#endif

/* Case @id of SGT_FID_NUM_CASES, for a page size of 1 << @page_shift. */
void sgt_fid_case_get(uint32_t id, unsigned int page_shift, struct sgt_fid_case *out);

#ifdef __cplusplus
}
#endif

#endif /* SGT_FIDELITY_CASES_H */
