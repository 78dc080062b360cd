/* SPDX-License-Identifier: MIT */
#ifndef SGT_SIM_INTERNAL_H
#define SGT_SIM_INTERNAL_H

#include <pthread.h>

#include "sgt/iommu_layout.h"
#include "sgt/iova.h"
#include "sgt/simiommu.h"

#define SIM_KEEP 256 /* faults kept with their messages */
#define SIM_PT_BITS 9
#define SIM_PT_LEVELS 4
#define SIM_PT_FANOUT (1u << SIM_PT_BITS)
#define SIM_BOUNCE_BASE UINT64_C(0x1000000)

/*
 * A page-table entry, for every mode: the device may read a page while readers > 0 and write it
 * while writers > 0. Counts rather than bits, because in direct mode two mappings may cover the
 * same page.
 */
struct sim_pte {
	uint64_t pfn;
	uint32_t readers;
	uint32_t writers;
};

/*
 * A live mapping: the backend state that map_sg hands the core (``dma_priv``) and gets back on
 * unmap and sync, and a link in the device's list of live mappings (for teardown and the check).
 */
struct sim_map {
	struct sim_map *prev;
	struct sim_map *next;
	enum sgt_dma_dir dir;
	uint32_t num_cpu_ents;
	uint32_t num_dma_ents;
	uint64_t iova; /* iommu: the allocated range */
	uint64_t iova_len; /* iommu: its length as allocated */
	struct sgt_iommu_seg segs[]; /* dma: iommu: the entry's IOVA pages; direct: the address; bounce: the slot */
};

struct sgt_simiommu {
	struct sgt_device dev;
	struct sgt_simiommu_params p;
	struct sgt_allocator alloc;
	pthread_mutex_t lock;
	uint64_t mask; /* the DMA mask, 0 read as all ones */
	struct sgt_iova *iova; /* iommu: IOVA space; bounce: pool slots */
	struct sgt_dma_window window; /* iommu: usable IOVA window; bounce: the pool */
	uint8_t *pool; /* bounce: the pool's bytes */
	void *pt_root;
	enum sgt_alloc_ctx actx; /* the running map's context, for the page-table nodes it adds */
	struct sim_map *maps;
	uint64_t live;
	uint64_t changes; /* map attempts and unmaps (sgt_simiommu_changes()) */
	struct sgt_simiommu_inject inj;
	uint64_t maps_since_inject;
	uint64_t rng;
	uint64_t num_faults;
	struct sgt_simiommu_fault faults[SIM_KEEP];
};

/* page table (sim_pt.c) */
int sim_pt_prepare(struct sgt_simiommu *s, uint64_t first_page, uint64_t num_pages);
struct sim_pte *sim_pt_lookup(struct sgt_simiommu *s, uint64_t page);
void sim_pt_free(struct sgt_simiommu *s);
uint64_t sim_pt_max_page(void);

/* faults (sim_core.c) */
void sim_fault(struct sgt_simiommu *s, uint64_t addr, uint64_t len,
	       enum sgt_simiommu_fault_kind kind);

/* the ops (sim_map.c) */
int sim_map_sg(struct sgt_device *dev, struct sgt_sg_table *sgt, enum sgt_dma_dir dir,
	       unsigned long attrs, void **out_priv, uint32_t *out_num_dma_ents,
	       enum sgt_alloc_ctx actx);
void sim_unmap_sg(struct sgt_device *dev, struct sgt_sg_table *sgt, void *priv,
		  enum sgt_dma_dir dir, unsigned long attrs);
int sim_sync_for_cpu(struct sgt_device *dev, const struct sgt_sg_table *sgt, void *priv,
		     enum sgt_dma_dir dir);
int sim_sync_for_device(struct sgt_device *dev, const struct sgt_sg_table *sgt, void *priv,
			enum sgt_dma_dir dir);
void sim_release_map(struct sgt_simiommu *s, struct sim_map *m);

static inline struct sgt_simiommu *sim_of(struct sgt_device *dev)
{
	return (struct sgt_simiommu *)dev->impl;
}

static inline unsigned int sim_shift(const struct sgt_simiommu *s)
{
	return s->p.mem->page_shift;
}

#endif /* SGT_SIM_INTERNAL_H */
