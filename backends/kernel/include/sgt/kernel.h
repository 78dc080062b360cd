/* SPDX-License-Identifier: MIT */
#ifndef SGT_KERNEL_H
#define SGT_KERNEL_H

/*
 * The Linux kernel DMA backend: sgt tables mapped through the kernel's own DMA API
 * (dma_map_sgtable() and friends), so that the IOMMU's merging, dma-direct and swiotlb bouncing
 * are the kernel's, not sgt's. Kernel code only: built by Kbuild with core/platform/kernel/.
 */
#include "sgt/types.h"

#include <linux/atomic.h>

#include "sgt/alloc.h"
#include "sgt/dma.h"

struct device;
struct sg_table;

/**
 * struct sgt_kernel_device - an sgt device over a kernel ``struct device``
 * @dev:       the sgt device; pass sgt_kernel_dev() to sgt_table_map() and the raw DMA API.
 * @kdev:      the kernel device the mappings are made for.
 * @alloc:     allocator for the backend's own per-mapping memory (the kernel scatterlist).
 * @live:      mappings made through this device and not yet unmapped.
 *
 * Caller storage; set up by sgt_kernel_device_init(), torn down by sgt_kernel_device_cleanup().
 */
struct sgt_kernel_device {
	struct sgt_device dev;
	struct device *kdev;
	const struct sgt_allocator *alloc;
	atomic_long_t live;
};

/**
 * struct sgt_kernel_borrowed - a BorrowedMapping over a ``struct sg_table`` someone else mapped
 * @bm:         the handle: DMA iteration (sgt_dma_iter_init(&@bm.dma)) and syncs, which go to
 *              the kernel through the borrowed ``struct sg_table``.
 * @sgt__shadow: private: sgt's copy of the kernel table's CPU entries and DMA segments.
 * @sgt__alloc:  private: the allocator the copy came from.
 */
struct sgt_kernel_borrowed {
	struct sgt_borrowed_mapping bm;
	struct sgt_sg_table sgt__shadow;
	const struct sgt_allocator *sgt__alloc;
};

#ifdef __cplusplus
extern "C" {
#endif

/**
 * sgt_kernel_device_init() - make an sgt device for a kernel device
 * @kd:    caller storage
 * @kdev:  the kernel device; its DMA mask, maximum segment size and segment boundary are read
 *         now (dma_get_mask(), dma_get_max_seg_size(), dma_get_seg_boundary()): set them first
 * @alloc: allocator for per-mapping memory; NULL for the platform's (kmalloc/kvmalloc)
 * @name:  for messages; NULL for the kernel device's name
 *
 * The backend guarantees the mask (the kernel refuses or bounces what the device cannot reach),
 * the maximum segment size and the segment boundary: it refuses a table with an entry that is
 * longer than the maximum segment or whose physical range crosses the boundary, which is the
 * contract the kernel's DMA API puts on its callers (the block layer splits requests the same
 * way), because dma-direct and swiotlb hand such entries to the device as they are.
 * Context: process or atomic; allocates nothing.
 * Return: 0; -SGT_EINVAL for NULL @kd or @kdev, or a device without a DMA mask.
 * Notes: on failure @kd is not written.
 */
SGT_API SGT_MUST_CHECK int sgt_kernel_device_init(struct sgt_kernel_device *kd, struct device *kdev,
						  const struct sgt_allocator *alloc,
						  const char *name);

/**
 * sgt_kernel_device_cleanup() - tear the device down
 * @kd: the device, or NULL
 *
 * Every mapping must have been unmapped: mappings still live are the caller's leak; they are
 * counted, reported by the debug layer when it is on, and left mapped for good: their handles
 * must not be used again, since their device is gone. @kd is left torn down (a second call
 * returns 0); the caller owns its storage.
 * Context: process or atomic.
 * Return: the number of mappings still live (0 when all is well).
 */
SGT_API uint64_t sgt_kernel_device_cleanup(struct sgt_kernel_device *kd);

/**
 * sgt_kernel_dev() - the sgt device of a kernel device
 * @kd: an initialised device
 */
static inline struct sgt_device *sgt_kernel_dev(struct sgt_kernel_device *kd)
{
	return &kd->dev;
}

/**
 * sgt_kernel_borrow_sgtable() - wrap a kernel table that someone else mapped
 * @kb:   caller storage for the wrapper
 * @kd:   the sgt device of the kernel device @lsgt is mapped for
 * @lsgt: the kernel table, mapped with dma_map_sgtable() (``nents`` DMA segments over
 *        ``orig_nents`` entries) by its owner, who also unmaps and frees it
 * @dir:  the direction it is mapped with
 * @actx: allocation context for sgt's copy of the entries
 *
 * The "unsafe" step: the caller promises that @lsgt stays mapped and unchanged until
 * sgt_kernel_borrowed_cleanup(). sgt copies the entries and DMA segments (so its iterators and
 * checks run over sgt's own representation) and syncs through @lsgt itself; it never unmaps or
 * frees @lsgt.
 * Context: as @actx says.
 * Return: 0; -SGT_EINVAL for NULL arguments, a bad direction or context, an unmapped or empty
 * table, or entries sgt cannot represent (an entry of length 0, a DMA segment count above
 * ``orig_nents``); -SGT_ENOMEM.
 * Notes: on failure @kb is not written and nothing is allocated.
 */
SGT_API SGT_MUST_CHECK int sgt_kernel_borrow_sgtable(struct sgt_kernel_borrowed *kb,
						     struct sgt_kernel_device *kd,
						     struct sg_table *lsgt, enum sgt_dma_dir dir,
						     enum sgt_alloc_ctx actx);

/**
 * sgt_kernel_borrowed_cleanup() - end the borrow: frees sgt's copy, leaves @lsgt alone
 * @kb: the wrapper, or NULL; a second call does nothing
 *
 * Context: any.
 */
SGT_API void sgt_kernel_borrowed_cleanup(struct sgt_kernel_borrowed *kb);

#ifdef __cplusplus
}
#endif

#endif /* SGT_KERNEL_H */
