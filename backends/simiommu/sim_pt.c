// SPDX-License-Identifier: MIT
/*
 * The device page table: 4 levels of 512 slots over DMA page numbers, as an x86 IOMMU has
 * (48 bits of address with 4 KiB pages). Interior levels hold pointers; the last holds PTEs.
 * Nodes are allocated before any entry is written, so a mapping that cannot get its nodes fails
 * without a half-written table; nodes are kept until the device is freed.
 */
#include "sim_internal.h"

uint64_t sim_pt_max_page(void)
{
	return UINT64_C(1) << (SIM_PT_BITS * SIM_PT_LEVELS);
}

static unsigned int s_index(uint64_t page, int level)
{
	return (unsigned int)(page >> (SIM_PT_BITS * (SIM_PT_LEVELS - 1 - level))) &
	       (SIM_PT_FANOUT - 1);
}

static size_t s_node_size(int level)
{
	return level == SIM_PT_LEVELS - 1 ? SIM_PT_FANOUT * sizeof(struct sim_pte)
					  : SIM_PT_FANOUT * sizeof(void *);
}

static void *s_zalloc(struct sgt_simiommu *s, size_t len)
{
	uint8_t *p = s->alloc.alloc(s->alloc.ctx, len, s->actx);
	size_t i;

	for (i = 0; p && i < len; i++)
		p[i] = 0;
	return p;
}

/* The slot at @level that leads to @page, allocating the nodes on the way if @create. */
static void **s_walk(struct sgt_simiommu *s, uint64_t page, bool create, int *out_err)
{
	void **slot = &s->pt_root;
	int level;

	for (level = 0; level < SIM_PT_LEVELS; level++) {
		if (!*slot) {
			if (!create)
				return NULL;
			*slot = s_zalloc(s, s_node_size(level));
			if (!*slot) {
				*out_err = -SGT_ENOMEM;
				return NULL;
			}
		}
		if (level == SIM_PT_LEVELS - 1)
			return slot;
		slot = &((void **)*slot)[s_index(page, level)];
	}
	return NULL;
}

int sim_pt_prepare(struct sgt_simiommu *s, uint64_t first_page, uint64_t num_pages)
{
	uint64_t page;
	int err = 0;

	if (num_pages == 0 || first_page >= sim_pt_max_page() ||
	    num_pages > sim_pt_max_page() - first_page)
		return -SGT_ERANGE;
	/* One walk per leaf node (512 pages) is enough to create everything on the path. */
	for (page = first_page; page < first_page + num_pages && !err;
	     page = (page | (SIM_PT_FANOUT - 1)) + 1)
		s_walk(s, page, true, &err);
	if (!err)
		s_walk(s, first_page + num_pages - 1, true, &err);
	return err;
}

struct sim_pte *sim_pt_lookup(struct sgt_simiommu *s, uint64_t page)
{
	void **leaf;
	int err = 0;

	if (page >= sim_pt_max_page())
		return NULL;
	leaf = s_walk(s, page, false, &err);
	return leaf ? &((struct sim_pte *)*leaf)[s_index(page, SIM_PT_LEVELS - 1)] : NULL;
}

static void s_free_node(struct sgt_simiommu *s, void *node, int level)
{
	unsigned int i;

	if (!node)
		return;
	for (i = 0; level < SIM_PT_LEVELS - 1 && i < SIM_PT_FANOUT; i++)
		s_free_node(s, ((void **)node)[i], level + 1);
	s->alloc.free(s->alloc.ctx, node, s_node_size(level));
}

void sim_pt_free(struct sgt_simiommu *s)
{
	s_free_node(s, s->pt_root, 0);
	s->pt_root = NULL;
}
