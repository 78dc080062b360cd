// SPDX-License-Identifier: MIT
/*
 * Compile-fail tests for the typestate: each CASE uses a handle in a state where the operation is
 * not available, and must not compile with -Werror. CASE 0 is the control: the same calls on the
 * right handle types, which must compile, so a failure of the others means the types refused them.
 */
#include <sgt/sgt.h>

int typestate_probe(struct sgt_table *t, struct sgt_borrowed *b, struct sgt_mapping *m,
		    struct sgt_borrowed_mapping *bm, struct sgt_device *dev);

int typestate_probe(struct sgt_table *t, struct sgt_borrowed *b, struct sgt_mapping *m,
		    struct sgt_borrowed_mapping *bm, struct sgt_device *dev)
{
	struct sgt_dma_iter it;
	struct sgt_dma_page_iter pit;
	struct sgt_table back;
	struct sgt_mapping again;
	uint32_t n;
	int err = 0;

	(void)t, (void)b, (void)m, (void)bm, (void)dev, (void)back, (void)again, (void)n;
#if CASE == 0
	err |= sgt_dma_iter_init(&it, &m->dma);
	err |= sgt_dma_page_iter_init(&pit, &bm->dma);
	err |= sgt_dma_sync_for_cpu(&m->dma);
	err |= sgt_dma_sync_for_device(&bm->dma);
	err |= sgt_dma_info(&m->dma, &n);
	err |= sgt_mapping_unmap(m, &back);
	err |= sgt_table_map(t, dev, SGT_DMA_TO_DEVICE, 0, &again, SGT_MAY_SLEEP);
#elif CASE == 1 /* DMA segment iterator on an owned, unmapped table */
	err |= sgt_dma_iter_init(&it, t);
#elif CASE == 2 /* ... nor on its CPU view */
	err |= sgt_dma_iter_init(&it, &t->cpu);
#elif CASE == 3 /* DMA page iterator on an unmapped table */
	err |= sgt_dma_page_iter_init(&pit, &t->cpu);
#elif CASE == 4 /* sync for the CPU on an unmapped table */
	err |= sgt_dma_sync_for_cpu(t);
#elif CASE == 5 /* sync for the device on an unmapped table */
	err |= sgt_dma_sync_for_device(&t->cpu);
#elif CASE == 6 /* DMA iterator on a borrowed, unmapped table */
	err |= sgt_dma_iter_init(&it, &b->cpu);
#elif CASE == 7 /* DMA segment count of an unmapped table */
	err |= sgt_dma_info(&b->cpu, &n);
#elif CASE == 8 /* unmap of a table that is not a managed mapping */
	err |= sgt_mapping_unmap(t, &back);
#elif CASE == 9 /* unmap of a borrowed mapping: never ours to unmap */
	err |= sgt_mapping_unmap(bm, &back);
#elif CASE == 10 /* map a table that is already mapped */
	err |= sgt_table_map(m, dev, SGT_DMA_TO_DEVICE, 0, &again, SGT_MAY_SLEEP);
#elif CASE == 11 /* append to a mapped table */
	err |= sgt_table_append_pages(m, NULL, 0, 1, 4096, SGT_MAY_SLEEP);
#else
#error "unknown CASE"
#endif
	return err;
}
