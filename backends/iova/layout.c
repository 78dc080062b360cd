// SPDX-License-Identifier: MIT
/*
 * Linux iommu-dma's IOVA layout of a table, for every backend that lays out its own IOMMU
 * domain: the simulated IOMMU and VFIO. See sgt/iommu_layout.h.
 */
#include "sgt/iommu_layout.h"

int sgt_iommu_layout(struct sgt_iommu_seg *segs, uint32_t num, unsigned int page_shift,
		     uint64_t max_seg, uint64_t boundary, uint64_t *out_len)
{
	uint64_t ps = UINT64_C(1) << page_shift, len = 0, pad;
	uint32_t i;

	for (i = 0; i < num; i++) {
		struct sgt_iommu_seg *g = &segs[i];

		g->span = (g->cpu_off + g->len + ps - 1) & ~(ps - 1);
		if (g->len > max_seg || g->span - 1 > boundary)
			return -SGT_EINVAL; /* one entry, one segment: it cannot fit the device */
		/* Pad to the next boundary rather than let this segment cross it. */
		pad = (boundary - len + 1) & boundary;
		if (i && pad && pad < g->span) {
			segs[i - 1].span += pad;
			len += pad;
		}
		g->dma = len;
		len += g->span;
	}
	*out_len = len;
	return 0;
}

uint32_t sgt_iommu_finalise(const struct sgt_iommu_seg *segs, uint32_t num, uint64_t max_seg,
			    uint64_t boundary, struct sgt_sg_table *sgt)
{
	uint64_t cur_len = 0;
	struct sgt_pos pos;
	struct sgt_entry *cur = (struct sgt_entry *)(uintptr_t)sgt_sg_first(sgt, &pos);
	uint32_t i, count = 0;

	for (i = 0; i < num && cur; i++) {
		const struct sgt_iommu_seg *g = &segs[i];

		if (cur_len && !g->cpu_off && (g->dma & boundary) && max_seg - cur_len >= g->len) {
			cur_len += g->len;
		} else {
			if (count)
				cur = (struct sgt_entry *)(uintptr_t)sgt_sg_next(&pos);
			cur_len = g->len;
			count++;
			cur->dma_addr = g->dma + g->cpu_off;
		}
		cur->dma_len = (uint32_t)cur_len;
		/* Only a segment that fills its IOVA pages can be continued. */
		if (g->cpu_off + g->len < g->span)
			cur_len = 0;
	}
	return count;
}
