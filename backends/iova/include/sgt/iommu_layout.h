/* SPDX-License-Identifier: MIT */
#ifndef SGT_IOMMU_LAYOUT_H
#define SGT_IOMMU_LAYOUT_H

/*
 * Linux iommu-dma's layout of a scatter-gather table in IOVA space (iommu_dma_map_sg() and
 * __finalise_sg()): one piece of code for every backend that manages an IOMMU domain itself (the
 * simulated IOMMU's iommu mode, VFIO's per-table mappings). Checked against the real kernel by
 * tools/vmtest.sh's fidelity comparison.
 */
#include "sgt/types.h"

#include "sgt/error.h"
#include "sgt/sg_table.h"

/**
 * struct sgt_iommu_seg - one CPU entry being laid out
 * @cpu_pfn: the entry's first frame; not used by the layout, kept for the backend.
 * @cpu_off: the entry's offset in its first IOMMU page.
 * @len:     the entry's length.
 * @dma:     after sgt_iommu_layout(): the start of the entry's IOVA pages relative to the
 *           mapping's start; the backend adds the base it allocated before finalising.
 * @span:    after sgt_iommu_layout(): IOVA bytes the entry occupies, padding included.
 */
struct sgt_iommu_seg {
	uint64_t cpu_pfn;
	uint32_t cpu_off;
	uint32_t len;
	uint64_t dma;
	uint64_t span;
};

#ifdef __cplusplus
extern "C" {
#endif

/**
 * sgt_iommu_layout() - place entries in IOVA space as iommu_dma_map_sg() does
 * @segs:       the entries, with @cpu_off and @len set
 * @num:        how many
 * @page_shift: the IOMMU page size
 * @max_seg:    the device's maximum segment size
 * @boundary:   the device's segment boundary mask (all ones for none)
 * @out_len:    receives the IOVA bytes needed in all: allocate them size-aligned, as Linux does,
 *              for the boundary padding to hold
 *
 * Each entry occupies whole pages; an entry that would cross a boundary starts at the next one
 * (the previous entry is padded).
 * Context: any; allocates nothing.
 * Return: 0; -SGT_EINVAL when an entry is longer than @max_seg or spans more than a boundary.
 * Notes: on failure the @dma and @span of the entries before the refused one are written and
 * meaningless, and *@out_len is not written; nothing else changes.
 */
SGT_API SGT_MUST_CHECK int sgt_iommu_layout(struct sgt_iommu_seg *segs, uint32_t num,
					    unsigned int page_shift, uint64_t max_seg,
					    uint64_t boundary, uint64_t *out_len);

/**
 * sgt_iommu_finalise() - merge laid-out entries into DMA segments as __finalise_sg() does
 * @segs:     the entries, with @dma made absolute
 * @num:      how many; @sgt has exactly as many entries
 * @max_seg:  the device's maximum segment size
 * @boundary: the device's segment boundary mask
 * @sgt:      the table whose DMA fields receive the segments
 *
 * An entry joins the current segment when it starts a page, the previous one filled its last
 * page, its address is not at a boundary and the result stays within @max_seg.
 * Context: any; allocates nothing.
 * Return: the number of DMA segments written.
 */
SGT_API uint32_t sgt_iommu_finalise(const struct sgt_iommu_seg *segs, uint32_t num,
				    uint64_t max_seg, uint64_t boundary, struct sgt_sg_table *sgt);

#ifdef __cplusplus
}
#endif

#endif /* SGT_IOMMU_LAYOUT_H */
