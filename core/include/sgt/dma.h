/* SPDX-License-Identifier: MIT */
#ifndef SGT_DMA_H
#define SGT_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sgt/error.h"
#include "sgt/sg_table.h"
#include "sgt/table.h"

/**
 * DOC: DMA mapping: devices, backends and the mapped states
 *
 * A &struct sgt_device is a device as the DMA layer sees it: its constraints (DMA mask, maximum
 * segment size, segment boundary, alignment, maximum segments; Linux ``dma_parms``) and the
 * backend that maps for it (&struct sgt_dma_ops plus the backend's own state). The core contains
 * no backend code: backends live in ``backends/<name>/`` and fill in an ops table.
 *
 * Two layers use a device:
 *
 * - the **raw DMA API** (sgt_dma_map_sg() and friends) works on raw tables, like Linux
 *   ``dma_map_sg``: the caller passes counts and directions and can get them wrong; backends that
 *   check (the simulated IOMMU) report such misuse;
 * - the **mapped handles** are correct by construction: &struct sgt_mapping is an owned table in
 *   the ManagedMapping state, created by sgt_table_map(), which consumes the &struct sgt_table;
 *   sgt_mapping_unmap() gives it back; sgt_mapping_cleanup() unmaps *first* and then frees the
 *   entries. &struct sgt_borrowed_mapping wraps a table that someone else mapped: DMA iteration and
 *   sync only, never unmapped or freed by sgt.
 *
 * Both mapped handles embed &struct sgt_dma (which embeds &struct sgt_cpu). The DMA iterators and
 * syncs take ``const struct sgt_dma *``; an unmapped handle has none, so passing one does not
 * compile.
 */

/** enum sgt_dma_dir - direction of a mapping (the Linux ``enum dma_data_direction`` values) */
enum sgt_dma_dir {
	SGT_DMA_BIDIRECTIONAL = 0,
	SGT_DMA_TO_DEVICE = 1,
	SGT_DMA_FROM_DEVICE = 2,
	SGT_DMA_NONE = 3,
};

/** SGT_DMA_DEFAULT_MAX_SEGMENT - what Linux assumes when a device sets no maximum: 64 KiB */
#define SGT_DMA_DEFAULT_MAX_SEGMENT (64u * 1024u)

/**
 * struct sgt_device_params - what a device can address (Linux ``dma_parms`` and masks)
 * @dma_mask:          highest DMA address the device can reach, as a mask (e.g. 2^32 - 1).
 *                     0 means all 64 bits.
 * @max_segment_size:  largest DMA segment; 0 means SGT_DMA_DEFAULT_MAX_SEGMENT.
 * @seg_boundary_mask: a DMA segment must not cross a multiple of (mask + 1); 0 means none.
 * @alignment:         every DMA segment starts at a multiple of this (a power of 2); 0 means 1.
 * @max_segments:      most DMA segments one mapping may have; 0 means no limit.
 */
struct sgt_device_params {
	uint64_t dma_mask;
	uint32_t max_segment_size;
	uint64_t seg_boundary_mask;
	uint32_t alignment;
	uint32_t max_segments;
};

struct sgt_device;

/**
 * struct sgt_dma_window - a range of DMA addresses a backend can hand out
 * @start: first address
 * @last:  last address (inclusive, so a window can end at 2^64 - 1)
 */
struct sgt_dma_window {
	uint64_t start;
	uint64_t last;
};

/** SGT_DMA_MAX_WINDOWS - windows a backend reports at most */
#define SGT_DMA_MAX_WINDOWS 8

/**
 * struct sgt_dma_caps - what a backend can do for a device
 * @num_windows:  entries used in @windows.
 * @windows:      the valid DMA (IOVA) windows, reserved ranges already cut out.
 * @page_sizes:   bitmap of supported mapping page sizes (bit n = 2^n bytes).
 * @max_mappings: how many mappings may be live at once; 0 means no limit.
 */
struct sgt_dma_caps {
	uint32_t num_windows;
	struct sgt_dma_window windows[SGT_DMA_MAX_WINDOWS];
	uint64_t page_sizes;
	uint64_t max_mappings;
};

/** SGT_DMA_OPS_ABI - the &struct sgt_dma_ops layout this header describes */
#define SGT_DMA_OPS_ABI 1u

/**
 * struct sgt_dma_ops - a DMA backend (append-only: new ops go at the end, abi_version grows)
 * @abi_version: SGT_DMA_OPS_ABI the backend was built against.
 * @name:        short name for messages ("simiommu", "vfio", "linux").
 * @map_sg:      map the CPU entries of @sgt (which has ``num_dma_ents == 0``) for @dev. Writes
 *               ``dma_addr``/``dma_len`` of the first *n* slots, leaves the rest zero, and stores
 *               *n* (>= 1) in @out_num_dma_ents. The DMA segments must cover the CPU bytes in
 *               order and respect every constraint in @dev->params. On failure returns a negative
 *               code and leaves every DMA field zero and nothing mapped.
 * @unmap_sg:    undo @map_sg. @num_cpu_ents is the CPU entry count the caller claims (Linux
 *               requires the original count, not the mapped one); @dir must be the mapping's.
 *               Returns 0, or a negative code when the backend detects misuse (then it changes
 *               nothing). Does not clear the table's DMA fields: the caller does.
 * @sync_sg_for_cpu:    make device writes visible to the CPU (bounce buffers copy in).
 * @sync_sg_for_device: make CPU writes visible to the device (bounce buffers copy out).
 *               Both take the mapping's CPU entry count and direction; 0 or a negative code.
 * @caps:        fill @out with the backend's capabilities for @dev; 0 or a negative code.
 *
 * Context: ops may be called from several threads at once for the same device; a backend that
 * is not thread-safe must say so.
 */
struct sgt_dma_ops {
	uint32_t abi_version;
	const char *name;
	int (*map_sg)(struct sgt_device *dev, struct sgt_sg_table *sgt, enum sgt_dma_dir dir,
		      unsigned long attrs, uint32_t *out_num_dma_ents);
	int (*unmap_sg)(struct sgt_device *dev, const struct sgt_sg_table *sgt,
			uint32_t num_cpu_ents, enum sgt_dma_dir dir, unsigned long attrs);
	int (*sync_sg_for_cpu)(struct sgt_device *dev, const struct sgt_sg_table *sgt,
			       uint32_t num_cpu_ents, enum sgt_dma_dir dir);
	int (*sync_sg_for_device)(struct sgt_device *dev, const struct sgt_sg_table *sgt,
				  uint32_t num_cpu_ents, enum sgt_dma_dir dir);
	int (*caps)(struct sgt_device *dev, struct sgt_dma_caps *out);
};

/**
 * struct sgt_device - a device and the backend that maps for it
 * @ops:    the backend.
 * @impl:   the backend's per-device state.
 * @params: the device's constraints.
 * @name:   for messages.
 *
 * Backends initialise devices (e.g. sgt_simiommu_device_init()); sgt only reads them. A device
 * must outlive every mapping made for it.
 */
struct sgt_device {
	const struct sgt_dma_ops *ops;
	void *impl;
	struct sgt_device_params params;
	const char *name;
};

/**
 * struct sgt_dma - the part of a mapped handle that the DMA-side operations use
 * @cpu:      the CPU-side view; CPU operations work on mapped tables too.
 * @sgt__dev: private: the device the table is mapped for.
 * @sgt__dir: private: the mapping's direction.
 */
struct sgt_dma {
	struct sgt_cpu cpu;
	struct sgt_device *sgt__dev;
	enum sgt_dma_dir sgt__dir;
};

/**
 * struct sgt_mapping - an owned table in the ManagedMapping state
 * @dma:         the DMA-side view (``&m.dma``) and, inside it, the CPU-side view (``&m.dma.cpu``).
 * @sgt__owner:  private: the owned table, moved in by sgt_table_map().
 * @sgt__attrs:  private: the attributes it was mapped with.
 */
struct sgt_mapping {
	struct sgt_dma dma;
	struct sgt_table sgt__owner;
	unsigned long sgt__attrs;
};

/**
 * struct sgt_borrowed_mapping - a table someone else mapped (BorrowedMapping)
 * @dma: the DMA-side view.
 */
struct sgt_borrowed_mapping {
	struct sgt_dma dma;
};

/**
 * struct sgt_dma_iter - DMA segment iterator (``for_each_sgtable_dma_sg``)
 * @dma_addr: the current segment's device address.
 * @dma_len:  its length.
 * @index:    its index.
 */
struct sgt_dma_iter {
	uint64_t dma_addr;
	uint32_t dma_len;
	uint32_t index;
	struct sgt_pos sgt__pos;
	const struct sgt_entry *sgt__ent;
	uint32_t sgt__left;
	bool sgt__started;
};

/**
 * struct sgt_dma_page_iter - DMA page iterator (``for_each_sgtable_dma_page``)
 * @dma_addr: device address of the current page-sized piece.
 * @len:      bytes in it: up to the page size, less at a segment's end or when the segment
 *            starts mid-page.
 * @seg_index: the DMA segment it belongs to.
 *
 * The pieces are cut at page boundaries of the table's memory domain page size.
 */
struct sgt_dma_page_iter {
	uint64_t dma_addr;
	uint32_t len;
	uint32_t seg_index;
	struct sgt_dma_iter sgt__seg;
	uint64_t sgt__off;
	unsigned int sgt__shift;
	bool sgt__have_seg;
};

#ifdef __cplusplus
extern "C" {
#endif

/* ---- raw DMA API: Linux-like, on raw tables; misuse is possible and backends may report it ----
 */

/**
 * sgt_dma_map_sg() - map a raw table's CPU entries for a device (``dma_map_sgtable``)
 * @dev:              the device
 * @sgt:              an unmapped raw table with at least one entry; its DMA fields are written
 * @dir:              the direction
 * @attrs:            backend attributes (0 for none)
 * @out_num_dma_ents: receives the DMA segment count (also stored in @sgt->num_dma_ents)
 *
 * Return: 0; -SGT_EINVAL for NULL arguments, an empty, mapped or invalid table, a bad direction
 * or a device without a usable backend; otherwise the backend's error (-SGT_ENOMEM,
 * -SGT_ENOSPC when DMA space runs out, -SGT_ERANGE when an address exceeds the DMA mask, ...).
 * Notes: on failure the table is unchanged (DMA fields zero, ``num_dma_ents == 0``).
 */
SGT_MUST_CHECK int sgt_dma_map_sg(struct sgt_device *dev, struct sgt_sg_table *sgt,
				  enum sgt_dma_dir dir, unsigned long attrs,
				  uint32_t *out_num_dma_ents);

/**
 * sgt_dma_unmap_sg() - unmap a raw table (``dma_unmap_sg``)
 * @dev:          the device it was mapped for
 * @sgt:          the mapped table
 * @num_cpu_ents: the CPU entry count, as passed to ``dma_unmap_sg`` (must be the original count)
 * @dir:          the direction it was mapped with
 * @attrs:        backend attributes
 *
 * Return: 0 with the table's DMA fields cleared; -SGT_EINVAL for NULL arguments or a bad
 * direction; otherwise the backend's report of misuse (then the table is unchanged).
 */
SGT_MUST_CHECK int sgt_dma_unmap_sg(struct sgt_device *dev, struct sgt_sg_table *sgt,
				    uint32_t num_cpu_ents, enum sgt_dma_dir dir,
				    unsigned long attrs);

/**
 * sgt_dma_sync_sg_for_cpu() - hand a mapped raw table's bytes to the CPU
 * @dev:          the device
 * @sgt:          the mapped table
 * @num_cpu_ents: its CPU entry count
 * @dir:          the mapping's direction
 *
 * Return: 0; -SGT_EINVAL for NULL arguments or a bad direction; the backend's error.
 * Notes: a refused call (bad arguments, misuse the backend detects) copies nothing. A backend
 * that fails part-way through (a page it cannot reach) may have synced the entries before it;
 * syncing again is safe. The table is never changed.
 */
SGT_MUST_CHECK int sgt_dma_sync_sg_for_cpu(struct sgt_device *dev, const struct sgt_sg_table *sgt,
					   uint32_t num_cpu_ents, enum sgt_dma_dir dir);

/**
 * sgt_dma_sync_sg_for_device() - hand a mapped raw table's bytes to the device
 * @dev:          the device
 * @sgt:          the mapped table
 * @num_cpu_ents: its CPU entry count
 * @dir:          the mapping's direction
 *
 * Return: as for sgt_dma_sync_sg_for_cpu().
 * Notes: as for sgt_dma_sync_sg_for_cpu().
 */
SGT_MUST_CHECK int sgt_dma_sync_sg_for_device(struct sgt_device *dev,
					      const struct sgt_sg_table *sgt, uint32_t num_cpu_ents,
					      enum sgt_dma_dir dir);

/**
 * sgt_device_caps() - a backend's capabilities for a device
 * @dev: the device
 * @out: receives them
 *
 * Return: 0; -SGT_EINVAL for NULL arguments; -SGT_EOPNOTSUPP when the backend has no caps op.
 * Notes: reads only; on the core's own errors @out is not written (a backend's caps op may
 * have filled it before failing).
 */
SGT_MUST_CHECK int sgt_device_caps(struct sgt_device *dev, struct sgt_dma_caps *out);

/**
 * sgt_dma_check_segments() - check a mapped raw table's DMA segments against a device
 * @sgt:     a raw table
 * @params:  the device's constraints (defaults applied as documented in
 *           &struct sgt_device_params)
 * @out_why: if non-NULL, receives a static description of the first violation, or NULL
 *
 * Checks every DMA segment: within the DMA mask, at most the maximum segment size, not crossing
 * the segment boundary, aligned, and at most max_segments of them. The core runs it after every
 * backend map; fuzzers and property tests run it after every step.
 * Context: no allocation; O(DMA segments).
 * Return: 0 when all hold (trivially for an unmapped table); -SGT_EINVAL otherwise.
 */
SGT_MUST_CHECK int sgt_dma_check_segments(const struct sgt_sg_table *sgt,
					  const struct sgt_device_params *params,
					  const char **out_why);

/* ---- mapped handles ---- */

/**
 * sgt_table_map() - map an owned table: Unmapped -> ManagedMapping
 * @t:     a live owned table with at least one entry; consumed on success
 * @dev:   the device; must outlive the mapping
 * @dir:   the direction
 * @attrs: backend attributes
 * @out:   caller storage for the mapping handle
 *
 * Return: 0, with @t stale and @out live; -SGT_ESTALE for a stale @t; -SGT_EINVAL as for
 * sgt_dma_map_sg(); the backend's error.
 * Notes: on failure @t is untouched and still usable, and @out is not written.
 */
SGT_MUST_CHECK int sgt_table_map(struct sgt_table *t, struct sgt_device *dev, enum sgt_dma_dir dir,
				 unsigned long attrs, struct sgt_mapping *out);

/**
 * sgt_mapping_unmap() - unmap: ManagedMapping -> Unmapped
 * @m:   a live mapping; consumed on success
 * @out: caller storage for the owned, unmapped table
 *
 * Return: 0, with @m stale and @out live; -SGT_ESTALE; -SGT_EINVAL for NULL; the backend's error
 * (then @m is still live and mapped, @out not written).
 */
SGT_MUST_CHECK int sgt_mapping_unmap(struct sgt_mapping *m, struct sgt_table *out);

/**
 * sgt_mapping_cleanup() - drop a mapped table: unmap first, then free the entries
 * @m: the mapping, or NULL
 *
 * The order matters: the device must lose access before the memory can be reused. Leaves @m
 * stale; a no-op when already stale. If the backend refuses the unmap (it cannot for a mapping
 * made through sgt_table_map()), the entries are still freed and the backend's report stands.
 */
void sgt_mapping_cleanup(struct sgt_mapping *m);

/**
 * sgt_borrowed_mapping_init() - wrap a table that someone else mapped (the "unsafe" step)
 * @bm:  caller storage for the handle
 * @sgt: the raw table; mapped (``num_dma_ents >= 1``) and valid
 * @dev: the device it is mapped for, used for syncs
 * @dir: the direction it is mapped with
 *
 * The caller promises that @sgt stays alive, mapped and unchanged until
 * sgt_borrowed_mapping_cleanup(); sgt never unmaps or frees it.
 * Return: 0; -SGT_EINVAL for NULL arguments, an unmapped or invalid table or a bad direction.
 * Notes: on failure @bm is not written.
 */
SGT_MUST_CHECK int sgt_borrowed_mapping_init(struct sgt_borrowed_mapping *bm,
					     const struct sgt_sg_table *sgt, struct sgt_device *dev,
					     enum sgt_dma_dir dir);

/**
 * sgt_borrowed_mapping_cleanup() - end the borrow; unmaps and frees nothing
 * @bm: the handle, or NULL; leaves it stale
 */
void sgt_borrowed_mapping_cleanup(struct sgt_borrowed_mapping *bm);

/**
 * sgt_dma_info() - DMA segment count of a mapped table
 * @d:                a mapped handle's DMA view
 * @out_num_dma_ents: receives the count
 *
 * Return: 0; -SGT_ESTALE; -SGT_EINVAL.
 * Notes: reads only; the out parameters are written only on success.
 */
SGT_MUST_CHECK int sgt_dma_info(const struct sgt_dma *d, uint32_t *out_num_dma_ents);

/**
 * sgt_dma_sync_for_cpu() - sync a mapped table for the CPU (``dma_sync_sgtable_for_cpu``)
 * @d: a mapped handle's DMA view
 *
 * Return: 0; -SGT_ESTALE; -SGT_EINVAL; the backend's error.
 * Notes: as for sgt_dma_sync_sg_for_cpu(); the handle stays live either way.
 */
SGT_MUST_CHECK int sgt_dma_sync_for_cpu(const struct sgt_dma *d);

/**
 * sgt_dma_sync_for_device() - sync a mapped table for the device
 * @d: a mapped handle's DMA view
 *
 * Return: as for sgt_dma_sync_for_cpu().
 * Notes: as for sgt_dma_sync_sg_for_cpu(); the handle stays live either way.
 */
SGT_MUST_CHECK int sgt_dma_sync_for_device(const struct sgt_dma *d);

/**
 * sgt_dma_iter_init() - start a walk over the DMA segments
 * @it: caller storage for the iterator
 * @d:  a mapped handle's DMA view
 *
 * Return: 0; -SGT_ESTALE; -SGT_EINVAL. On failure @it is not written.
 */
SGT_MUST_CHECK int sgt_dma_iter_init(struct sgt_dma_iter *it, const struct sgt_dma *d);

/**
 * sgt_dma_iter_next() - advance to the next DMA segment
 * @it: an iterator from sgt_dma_iter_init()
 *
 * Return: true with the public fields set, false at the end.
 */
bool sgt_dma_iter_next(struct sgt_dma_iter *it);

/**
 * sgt_dma_page_iter_init() - start a walk over the DMA segments in page-sized pieces
 * @it: caller storage for the iterator
 * @d:  a mapped handle's DMA view
 *
 * Return: 0; -SGT_ESTALE; -SGT_EINVAL. On failure @it is not written.
 */
SGT_MUST_CHECK int sgt_dma_page_iter_init(struct sgt_dma_page_iter *it, const struct sgt_dma *d);

/**
 * sgt_dma_page_iter_next() - advance to the next piece
 * @it: an iterator from sgt_dma_page_iter_init()
 *
 * Return: true with the public fields set, false at the end.
 */
bool sgt_dma_page_iter_next(struct sgt_dma_page_iter *it);

#ifdef __cplusplus
}
#endif

#endif /* SGT_DMA_H */
