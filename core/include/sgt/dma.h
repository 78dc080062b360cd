/* SPDX-License-Identifier: MIT */
#ifndef SGT_DMA_H
#define SGT_DMA_H

#include "sgt/types.h"

#include "sgt/error.h"
#include "sgt/sg_table.h"
#include "sgt/table.h"

/**
 * DOC: DMA mapping: devices, backends, the debug layer and the mapped states
 *
 * A &struct sgt_device is a device as the DMA layer sees it: its constraints (DMA mask, maximum
 * segment size, segment boundary, alignment, maximum segments; Linux ``dma_parms``) and the
 * backend that maps for it (&struct sgt_dma_ops plus the backend's own state). The core contains
 * no backend code: backends live in ``backends/<name>/``, fill in an ops table and set their
 * devices up with sgt_device_init().
 *
 * The generic layer owns the bookkeeping, as Linux ``kernel/dma/mapping.c`` does over
 * ``dma_map_ops``: a mapped raw table records its device, direction and the backend's
 * per-mapping state (``dma_dev``, ``dma_dir``, ``dma_priv``), the core checks every backend
 * result against the device's constraints, and an unmap of a mapping that sgt made always
 * completes. Misuse of the raw API is refused or reported, never half done.
 *
 * The **DMA-API debug layer** (Linux ``CONFIG_DMA_API_DEBUG``) is opt-in per device
 * (sgt_dma_debug_enable()): it records every mapping the device makes (table, direction, CPU
 * entry count, the DMA segments) in its own memory, independent of the table's fields, and checks
 * every unmap and sync against that record, every mapping against the device's constraints, and
 * the live mappings when the device is torn down. Each finding is counted by kind, kept as a
 * readable message and passed to a callback. It is the same for every backend.
 *
 * Two layers use a device:
 *
 * - the **raw DMA API** (sgt_dma_map_sg() and friends) works on raw tables, like Linux
 *   ``dma_map_sg``: the caller passes counts and directions and can get them wrong;
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

/**
 * sgt_device_max_segment() - a device's maximum DMA segment, its default applied
 * @p: the device's constraints
 *
 * Context: any.
 * Return: @p->max_segment_size, or SGT_DMA_DEFAULT_MAX_SEGMENT when it is 0.
 */
static inline uint64_t sgt_device_max_segment(const struct sgt_device_params *p)
{
	return p->max_segment_size ? p->max_segment_size : SGT_DMA_DEFAULT_MAX_SEGMENT;
}

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

/*
 * The constraints a backend can guarantee (&struct sgt_dma_caps.guarantees). A guaranteed
 * constraint is one the backend's map_sg never breaks: it refuses a table it cannot map within it.
 */
#define SGT_DMA_GUARANTEES_MASK (1u << 0) /* every segment within dma_mask */
#define SGT_DMA_GUARANTEES_MAX_SEGMENT_SIZE (1u << 1) /* no segment longer than the maximum */
#define SGT_DMA_GUARANTEES_SEG_BOUNDARY (1u << 2) /* no segment across the boundary */
#define SGT_DMA_GUARANTEES_ALIGNMENT (1u << 3) /* every segment aligned */
#define SGT_DMA_GUARANTEES_MAX_SEGMENTS (1u << 4) /* at most max_segments segments */
#define SGT_DMA_GUARANTEES_ALL 0x1fu

/**
 * struct sgt_dma_caps - what a backend can do for a device
 * @num_windows:  entries used in @windows.
 * @windows:      the valid DMA (IOVA) windows, reserved ranges already cut out.
 * @page_sizes:   bitmap of supported mapping page sizes (bit n = 2^n bytes).
 * @max_mappings: how many mappings may be live at once; 0 means no limit.
 * @guarantees:   the SGT_DMA_GUARANTEES_* constraints map_sg honours by itself. For the others
 *                sgt_device_init() arranges what it can: the core refuses entries longer than the
 *                maximum segment size and tables with more entries than max_segments before it
 *                calls map_sg (no backend splits an entry, so that is exact for the first and safe
 *                for the second); a device that sets a mask, boundary or alignment its backend does
 *                not guarantee is refused (-SGT_EOPNOTSUPP), because nothing before the map can
 *                honour those.
 */
struct sgt_dma_caps {
	uint32_t num_windows;
	struct sgt_dma_window windows[SGT_DMA_MAX_WINDOWS];
	uint64_t page_sizes;
	uint64_t max_mappings;
	uint32_t guarantees;
};

/** SGT_DMA_OPS_ABI - the &struct sgt_dma_ops layout this header describes */
#define SGT_DMA_OPS_ABI 2u

/**
 * struct sgt_dma_ops - a DMA backend (append-only: new ops go at the end, abi_version grows)
 * @abi_version: SGT_DMA_OPS_ABI the backend was built against.
 * @name:        short name for messages ("simiommu", "vfio", "linux").
 * @map_sg:      map the CPU entries of @sgt (unmapped: ``num_dma_ents == 0``, every DMA field
 *               zero) for @dev in allocation context @actx. On success writes ``dma_addr`` and
 *               ``dma_len`` of the first *n* slots (1 <= *n* <= ``num_cpu_ents``), leaves the rest
 *               zero, stores *n* in @out_num_dma_ents and its per-mapping state (or NULL) in
 *               @out_priv; the DMA segments cover the CPU bytes in order and honour the
 *               constraints the backend guarantees. It must not set ``num_dma_ents`` or the
 *               table's ``dma_*`` fields: the core does, once it has checked the result. On
 *               failure returns a negative code with every DMA field zero, nothing mapped and
 *               nothing allocated.
 * @unmap_sg:    undo a successful @map_sg. Gets back @priv and the direction of the map. Cannot
 *               fail: whatever goes wrong (a bounce page it cannot copy back) is the backend's to
 *               record; the device loses access to every byte and @priv is freed. Does not clear
 *               the table's DMA fields: the core does.
 * @sync_sg_for_cpu:    make device writes visible to the CPU (bounce buffers copy in).
 * @sync_sg_for_device: make CPU writes visible to the device (bounce buffers copy out).
 *               Both get the mapping's @priv and direction (the core has checked the caller's
 *               against them); for a table sgt did not map (a BorrowedMapping over a foreign
 *               table) @priv is the @foreign pointer given to
 *               sgt_borrowed_mapping_init_foreign(), NULL by default, and the backend syncs
 *               from it, or from the table alone, or refuses with
 *               -SGT_EOPNOTSUPP. 0 or a negative code; NULL ops mean a coherent device.
 * @caps:        fill @out with the backend's capabilities for @dev; 0 or a negative code.
 *               Optional: a backend without it guarantees nothing.
 *
 * Context: ops may be called from several threads at once for the same device; a backend that
 * is not thread-safe must say so. @map_sg in %SGT_ATOMIC context must not sleep.
 */
struct sgt_dma_ops {
	uint32_t abi_version;
	const char *name;
	int (*map_sg)(struct sgt_device *dev, struct sgt_sg_table *sgt, enum sgt_dma_dir dir,
		      unsigned long attrs, void **out_priv, uint32_t *out_num_dma_ents,
		      enum sgt_alloc_ctx actx);
	void (*unmap_sg)(struct sgt_device *dev, struct sgt_sg_table *sgt, void *priv,
			 enum sgt_dma_dir dir, unsigned long attrs);
	int (*sync_sg_for_cpu)(struct sgt_device *dev, const struct sgt_sg_table *sgt, void *priv,
			       enum sgt_dma_dir dir);
	int (*sync_sg_for_device)(struct sgt_device *dev, const struct sgt_sg_table *sgt,
				  void *priv, enum sgt_dma_dir dir);
	int (*caps)(struct sgt_device *dev, struct sgt_dma_caps *out);
};

/**
 * enum sgt_dma_report_kind - the DMA-API misuse and backend faults the debug layer names
 */
enum sgt_dma_report_kind {
	SGT_REPORT_UNMAP_NOT_MAPPED = 0, /* unmap of a table this device never mapped */
	SGT_REPORT_DOUBLE_UNMAP, /* unmap of a table already unmapped */
	SGT_REPORT_UNMAP_WRONG_DIR, /* unmap with another direction than the map */
	SGT_REPORT_UNMAP_WRONG_NENTS, /* unmap with another entry count than the map */
	SGT_REPORT_UNMAP_MAPPED_NENTS, /* unmap with the mapped (DMA) count, not the original */
	SGT_REPORT_SYNC_NOT_MAPPED, /* sync of a table this device has not mapped */
	SGT_REPORT_SYNC_WRONG_DIR, /* sync with another direction than the map */
	SGT_REPORT_SYNC_WRONG_NENTS, /* sync with another entry count than the map */
	SGT_REPORT_SEGMENT_TOO_LONG, /* a DMA segment exceeds the max segment size */
	SGT_REPORT_SEGMENT_CROSSES_BOUNDARY, /* a DMA segment crosses the boundary */
	SGT_REPORT_SEGMENT_MISALIGNED, /* a DMA segment breaks the alignment */
	SGT_REPORT_SEGMENT_BEYOND_MASK, /* a DMA segment ends above the DMA mask */
	SGT_REPORT_TOO_MANY_SEGMENTS, /* more DMA segments than the device allows */
	SGT_REPORT_BAD_MAPPING, /* a backend's result that breaks the table invariants */
	SGT_REPORT_SEGMENTS_CHANGED, /* a mapped table's DMA fields differ from what was mapped */
	SGT_REPORT_LEAK_AT_TEARDOWN, /* a mapping still live when the device goes away */
	SGT_REPORT_FREED_WHILE_MAPPED, /* a new map reuses the memory of a table never unmapped */
	SGT_REPORT_NUM_KINDS
};

/**
 * struct sgt_dma_debug_params - how to run the debug layer for a device
 * @alloc:     allocator for the records; NULL: the platform's. Records are allocated on map, in
 *             the map's allocation context.
 * @on_report: called for every finding, with its kind and message (also kept, see
 *             sgt_dma_debug_msg()); may be NULL. Called with the layer's lock held: it must not
 *             call back into sgt for the same device.
 * @ctx:       passed to @on_report.
 */
struct sgt_dma_debug_params {
	const struct sgt_allocator *alloc;
	void (*on_report)(void *ctx, const struct sgt_device *dev, enum sgt_dma_report_kind kind,
			  const char *msg);
	void *ctx;
};

struct sgt__dma_debug;

/**
 * struct sgt_device - a device and the backend that maps for it
 * @ops:    the backend.
 * @impl:   the backend's per-device state.
 * @params: the device's constraints.
 * @name:   for messages.
 * @sgt__guarantees: private: the backend's SGT_DMA_GUARANTEES_* for this device.
 * @sgt__magic:      private: set by sgt_device_init().
 * @sgt__debug:      private: the debug layer's state, NULL when it is off.
 *
 * Backends set devices up with sgt_device_init() and tear them down with sgt_device_cleanup();
 * sgt only reads the public fields. A device must outlive every mapping made for it.
 */
struct sgt_device {
	const struct sgt_dma_ops *ops;
	void *impl;
	struct sgt_device_params params;
	const char *name;
	uint32_t sgt__guarantees;
	uint32_t sgt__magic;
	struct sgt__dma_debug *sgt__debug;
};

/**
 * struct sgt_dma - the part of a mapped handle that the DMA-side operations use
 * @cpu:      the CPU-side view; CPU operations work on mapped tables too.
 * @sgt__dev: private: the device the table is mapped for.
 * @sgt__dir: private: the mapping's direction.
 * @sgt__foreign: private: for a BorrowedMapping over a foreign table, the owner's description of
 *                its mapping, handed to the backend's syncs; NULL otherwise.
 */
struct sgt_dma {
	struct sgt_cpu cpu;
	struct sgt_device *sgt__dev;
	enum sgt_dma_dir sgt__dir;
	void *sgt__foreign;
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

/* ---- devices: for backends ---- */

/**
 * sgt_device_init() - set a device up for a backend
 * @dev:    caller storage (usually inside the backend's device state)
 * @ops:    the backend; outlives @dev
 * @impl:   the backend's per-device state, reachable as @dev->impl
 * @params: the device's constraints (copied); NULL for none
 * @name:   for messages; outlives @dev; NULL for the backend's name
 *
 * Reads the backend's guarantees through its caps op and arranges the rest (see
 * &struct sgt_dma_caps). The debug layer starts off.
 * Context: may call the backend's caps op; allocates nothing.
 * Return: 0; -SGT_EINVAL for NULL @dev or @ops, an ops table without map_sg or unmap_sg or with
 * another ABI, or an alignment that is not a power of two; -SGT_EOPNOTSUPP when @params sets a
 * DMA mask, segment boundary or alignment that the backend does not guarantee; the caps op's
 * error. On failure @dev is not written.
 */
SGT_API SGT_MUST_CHECK int sgt_device_init(struct sgt_device *dev, const struct sgt_dma_ops *ops,
					   void *impl, const struct sgt_device_params *params,
					   const char *name);

/**
 * sgt_device_cleanup() - end a device's life in the DMA layer (the backend calls it on teardown)
 * @dev: the device, or NULL
 *
 * With the debug layer on, every mapping still live is reported (leak-at-teardown, with its table
 * and first DMA address) and the layer's memory is freed. The backend then releases what its own
 * mappings hold; sgt never touches the leaked tables.
 * Context: may sleep (frees memory; calls the report callback).
 * Return: the number of live mappings reported; 0 when the debug layer was off.
 */
SGT_API uint64_t sgt_device_cleanup(struct sgt_device *dev);

/* ---- the DMA-API debug layer ---- */

/**
 * sgt_dma_debug_enable() - turn the debug layer on for a device
 * @dev:    an initialised device with no live mapping
 * @params: allocator and report callback; NULL for the defaults
 *
 * Context: may sleep (allocates).
 * Return: 0; -SGT_EINVAL for a NULL or uninitialised device or a platform without an allocator
 * when @params gives none; -SGT_EBUSY when the layer is already on; -SGT_ENOMEM.
 * Notes: enable it before the device's first map: a mapping made before is unknown to the layer,
 * and its unmap is reported as not mapped (and still done). On failure the layer stays off.
 */
SGT_API SGT_MUST_CHECK int sgt_dma_debug_enable(struct sgt_device *dev,
						const struct sgt_dma_debug_params *params);

/**
 * sgt_dma_debug_count() - how often the debug check @kind fired on @dev
 * @dev:  the device
 * @kind: the check
 *
 * Context: any; takes the layer's lock.
 * Return: the count; 0 when the layer is off, @dev is NULL or @kind is out of range.
 */
SGT_API uint64_t sgt_dma_debug_count(const struct sgt_device *dev, enum sgt_dma_report_kind kind);

/**
 * sgt_dma_debug_num_reports() - findings of every kind on @dev so far
 * @dev: the device
 *
 * Context: any; takes the layer's lock.
 * Return: the count; 0 when the layer is off or @dev is NULL.
 */
SGT_API uint64_t sgt_dma_debug_num_reports(const struct sgt_device *dev);

/**
 * sgt_dma_debug_msg() - the message of one finding
 * @dev:   the device
 * @index: 0-based, oldest first; the first SGT_DMA_DEBUG_KEEP are kept
 *
 * Context: any; the text is stable until sgt_dma_debug_clear() or teardown.
 * Return: the message, owned by the layer; NULL past the kept ones or when the layer is off.
 */
SGT_API const char *sgt_dma_debug_msg(const struct sgt_device *dev, uint64_t index);

/** SGT_DMA_DEBUG_KEEP - findings whose messages are kept per device */
#define SGT_DMA_DEBUG_KEEP 64u

/**
 * sgt_dma_debug_clear() - forget the findings so far (counts and messages), not the mappings
 * @dev: the device; nothing happens when it is NULL or the layer is off
 *
 * Context: any; takes the layer's lock.
 */
SGT_API void sgt_dma_debug_clear(struct sgt_device *dev);

/**
 * sgt_dma_debug_live() - mappings the debug layer knows to be live on @dev
 * @dev: the device
 *
 * Context: any; takes the layer's lock.
 * Return: the count; 0 when the layer is off or @dev is NULL.
 */
SGT_API uint64_t sgt_dma_debug_live(const struct sgt_device *dev);

/**
 * sgt_dma_report_name() - short name of a report kind, e.g. "double-unmap"
 * @kind: the kind
 *
 * Context: any.
 * Return: a static string; "unknown" out of range.
 */
SGT_API const char *sgt_dma_report_name(enum sgt_dma_report_kind kind);

/* ---- raw DMA API: Linux-like, on raw tables; misuse is possible and is refused or reported ----
 */

/**
 * sgt_dma_map_sg() - map a raw table's CPU entries for a device (``dma_map_sgtable``)
 * @dev:              the device
 * @sgt:              an unmapped raw table with at least one entry; its DMA fields are written
 * @dir:              the direction
 * @attrs:            backend attributes (0 for none)
 * @out_num_dma_ents: receives the DMA segment count (also stored in @sgt->num_dma_ents)
 * @actx:             allocation context (the backend and the debug layer may allocate)
 *
 * On success @sgt also records @dev, @dir and the backend's state (``dma_dev``, ``dma_dir``,
 * ``dma_priv``), which the unmap and the syncs use.
 * Context: as @actx says.
 * Return: 0; -SGT_EINVAL for NULL arguments, an empty or mapped table (or, in debug builds and
 * with the debug layer on, an invalid one), a bad direction, an uninitialised device, or an entry
 * or entry count the device cannot take and its backend does not check; -SGT_EIO when the
 * backend returned a mapping that breaks the table's invariants or the device's constraints (it
 * is undone and reported); -SGT_ENOMEM; otherwise the backend's error (-SGT_ENOSPC when DMA
 * space runs out, -SGT_ERANGE when an address exceeds the DMA mask, ...).
 * Notes: on failure the table is unchanged (DMA fields zero, ``num_dma_ents == 0``) and nothing
 * is mapped.
 */
SGT_API SGT_MUST_CHECK int sgt_dma_map_sg(struct sgt_device *dev, struct sgt_sg_table *sgt,
					  enum sgt_dma_dir dir, unsigned long attrs,
					  uint32_t *out_num_dma_ents, enum sgt_alloc_ctx actx);

/**
 * sgt_dma_unmap_sg() - unmap a raw table (``dma_unmap_sg``)
 * @dev:          the device it was mapped for
 * @sgt:          the mapped table
 * @num_cpu_ents: the CPU entry count, as passed to ``dma_unmap_sg`` (must be the original count)
 * @dir:          the direction it was mapped with
 * @attrs:        backend attributes
 *
 * Like Linux's, an unmap cannot fail: whenever @sgt is mapped for @dev, it is unmapped with the
 * direction and state recorded at map time, whatever the caller passed, and its DMA fields are
 * cleared. A wrong count or direction is misuse: it is reported (debug layer) and returned.
 * Context: any; allocates nothing.
 * Return: 0; -SGT_EINVAL for NULL arguments, a bad direction, a table that is not mapped for
 * @dev (then nothing happens), or a count or direction that differs from the map's (the unmap
 * was still done).
 */
SGT_API SGT_MUST_CHECK int sgt_dma_unmap_sg(struct sgt_device *dev, struct sgt_sg_table *sgt,
					    uint32_t num_cpu_ents, enum sgt_dma_dir dir,
					    unsigned long attrs);

/**
 * sgt_dma_sync_sg_for_cpu() - hand a mapped raw table's bytes to the CPU
 * @dev:          the device
 * @sgt:          the mapped table
 * @num_cpu_ents: its CPU entry count: the original count, as for the map (Linux's rule)
 * @dir:          the mapping's direction
 *
 * Context: any; allocates nothing.
 * Return: 0; -SGT_EINVAL for NULL arguments, a bad direction, a table not mapped for @dev, or a
 * count or direction that differs from the map's (misuse, reported by the debug layer); the
 * backend's error.
 * Notes: a refused call copies nothing. A backend that fails part-way through (a page it cannot
 * reach) may have synced the entries before it; syncing again is safe. The table is never changed.
 */
SGT_API SGT_MUST_CHECK int sgt_dma_sync_sg_for_cpu(struct sgt_device *dev,
						   const struct sgt_sg_table *sgt,
						   uint32_t num_cpu_ents, enum sgt_dma_dir dir);

/**
 * sgt_dma_sync_sg_for_device() - hand a mapped raw table's bytes to the device
 * @dev:          the device
 * @sgt:          the mapped table
 * @num_cpu_ents: its original CPU entry count
 * @dir:          the mapping's direction
 *
 * Context: any; allocates nothing.
 * Return: as for sgt_dma_sync_sg_for_cpu().
 * Notes: as for sgt_dma_sync_sg_for_cpu().
 */
SGT_API SGT_MUST_CHECK int sgt_dma_sync_sg_for_device(struct sgt_device *dev,
						      const struct sgt_sg_table *sgt,
						      uint32_t num_cpu_ents, enum sgt_dma_dir dir);

/**
 * sgt_device_caps() - a backend's capabilities for a device
 * @dev: the device
 * @out: receives them
 *
 * Context: whatever the backend's caps op needs; the simulator's takes no lock.
 * Return: 0; -SGT_EINVAL for NULL arguments; -SGT_EOPNOTSUPP when the backend has no caps op.
 * Notes: reads only; on the core's own errors @out is not written (a backend's caps op may
 * have filled it before failing).
 */
SGT_API SGT_MUST_CHECK int sgt_device_caps(struct sgt_device *dev, struct sgt_dma_caps *out);

/**
 * sgt_dma_check_segments() - check a mapped raw table's DMA segments against a device
 * @sgt:     a raw table
 * @params:  the device's constraints (defaults applied as documented in
 *           &struct sgt_device_params)
 * @out_why: if non-NULL, receives a static description of the first violation, or NULL
 *
 * Checks every DMA segment: within the DMA mask, at most the maximum segment size, not crossing
 * the segment boundary, aligned, and at most max_segments of them. The core runs the same rules
 * on every backend result.
 * Context: any; no allocation; O(DMA segments).
 * Return: 0 when all hold (trivially for an unmapped table); -SGT_EINVAL otherwise.
 */
SGT_API SGT_MUST_CHECK int sgt_dma_check_segments(const struct sgt_sg_table *sgt,
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
 * @actx:  allocation context
 *
 * Context: as @actx says.
 * Return: 0, with @t stale and @out live; -SGT_ESTALE for a stale @t; -SGT_EINVAL as for
 * sgt_dma_map_sg(); the backend's error.
 * Notes: on failure @t is untouched and still usable, and @out is not written.
 */
SGT_API SGT_MUST_CHECK int sgt_table_map(struct sgt_table *t, struct sgt_device *dev,
					 enum sgt_dma_dir dir, unsigned long attrs,
					 struct sgt_mapping *out, enum sgt_alloc_ctx actx);

/**
 * sgt_mapping_unmap() - unmap: ManagedMapping -> Unmapped
 * @m:   a live mapping; consumed on success
 * @out: caller storage for the owned, unmapped table
 *
 * Context: whatever the backend's unmap allows (never sleeps in the simulator; a kernel backend's
 * dma_unmap_sgtable() is atomic-safe); allocates nothing.
 * The unmap cannot fail: the backend's unmap_sg always completes.
 * Return: 0, with @m stale and @out live (unmapped: DMA fields cleared); -SGT_ESTALE; -SGT_EINVAL
 * for a NULL or non-mapping @m or a NULL @out (then @m is still live and mapped, @out not
 * written).
 */
SGT_API SGT_MUST_CHECK int sgt_mapping_unmap(struct sgt_mapping *m, struct sgt_table *out);

/**
 * sgt_mapping_cleanup() - drop a mapped table: unmap first, then free the entries
 * @m: the mapping, or NULL
 *
 * The order matters: the device must lose access before the memory can be reused, and since an
 * unmap cannot fail, no path frees entries that a device can still reach (a backend that hits a
 * problem while unmapping, such as a bounce page it cannot copy back, records it and still
 * unmaps). Leaves @m stale; a no-op when already stale.
 * Context: as for sgt_mapping_unmap(), plus the allocator's free for the entries.
 */
SGT_API void sgt_mapping_cleanup(struct sgt_mapping *m);

/**
 * sgt_borrowed_mapping_init() - wrap a table that someone else mapped (the "unsafe" step)
 * @bm:  caller storage for the handle
 * @sgt: the raw table; mapped (``num_dma_ents >= 1``) and valid
 * @dev: the device it is mapped for, used for syncs
 * @dir: the direction it is mapped with
 *
 * The caller promises that @sgt stays alive, mapped and unchanged until
 * sgt_borrowed_mapping_cleanup(); sgt never unmaps or frees it.
 * Context: any; allocates nothing; O(entries) (checks the table).
 * Return: 0; -SGT_EINVAL for NULL arguments, an unmapped or invalid table or a bad direction.
 * Notes: on failure @bm is not written.
 */
SGT_API SGT_MUST_CHECK int sgt_borrowed_mapping_init(struct sgt_borrowed_mapping *bm,
						     const struct sgt_sg_table *sgt,
						     struct sgt_device *dev, enum sgt_dma_dir dir);

/**
 * sgt_borrowed_mapping_init_foreign() - wrap a foreign mapped table, with the owner's mapping
 * @bm:      caller storage for the handle
 * @sgt:     the raw table; mapped (``num_dma_ents >= 1``), valid, and not mapped by sgt
 *           (``dma_dev`` NULL)
 * @dev:     the device it is mapped for, used for syncs
 * @dir:     the direction it is mapped with
 * @foreign: what the backend of @dev needs to sync the owner's mapping (for the kernel backend:
 *           the mapped ``struct sg_table``); handed to its sync ops as ``priv``. Not owned.
 *
 * As sgt_borrowed_mapping_init(), for backends whose syncs need more than the DMA segments: a
 * kernel ``struct sg_table`` mapped by a dma-buf exporter is synced through that table, since the
 * kernel may have bounced or merged its entries.
 * Context: any; allocates nothing; O(entries) (checks the table).
 * Return: 0; -SGT_EINVAL as for sgt_borrowed_mapping_init(), and for a table sgt mapped or a NULL
 * @foreign.
 * Notes: on failure @bm is not written. The caller promises that @foreign stays valid as long as
 * @sgt does.
 */
SGT_API SGT_MUST_CHECK int sgt_borrowed_mapping_init_foreign(struct sgt_borrowed_mapping *bm,
							     const struct sgt_sg_table *sgt,
							     struct sgt_device *dev,
							     enum sgt_dma_dir dir, void *foreign);

/**
 * sgt_borrowed_mapping_cleanup() - end the borrow; unmaps and frees nothing
 * @bm: the handle, or NULL; leaves it stale
 *
 * Context: any; allocates nothing.
 */
SGT_API void sgt_borrowed_mapping_cleanup(struct sgt_borrowed_mapping *bm);

/**
 * sgt_dma_info() - DMA segment count of a mapped table
 * @d:                a mapped handle's DMA view
 * @out_num_dma_ents: receives the count
 *
 * Context: any; allocates nothing.
 * Return: 0; -SGT_ESTALE; -SGT_EINVAL.
 * Notes: reads only; the out parameters are written only on success.
 */
SGT_API SGT_MUST_CHECK int sgt_dma_info(const struct sgt_dma *d, uint32_t *out_num_dma_ents);

/**
 * sgt_dma_sync_for_cpu() - sync a mapped table for the CPU (``dma_sync_sgtable_for_cpu``)
 * @d: a mapped handle's DMA view
 *
 * Context: any; allocates nothing; the backend's sync runs (it may take a lock).
 * Return: 0; -SGT_ESTALE; -SGT_EINVAL; the backend's error.
 * Notes: as for sgt_dma_sync_sg_for_cpu(); the handle stays live either way.
 */
SGT_API SGT_MUST_CHECK int sgt_dma_sync_for_cpu(const struct sgt_dma *d);

/**
 * sgt_dma_sync_for_device() - sync a mapped table for the device
 * @d: a mapped handle's DMA view
 *
 * Context: as for sgt_dma_sync_for_cpu().
 * Return: as for sgt_dma_sync_for_cpu().
 * Notes: as for sgt_dma_sync_sg_for_cpu(); the handle stays live either way.
 */
SGT_API SGT_MUST_CHECK int sgt_dma_sync_for_device(const struct sgt_dma *d);

/**
 * sgt_dma_iter_init() - start a walk over the DMA segments
 * @it: caller storage for the iterator
 * @d:  a mapped handle's DMA view
 *
 * Context: any; allocates nothing.
 * Return: 0; -SGT_ESTALE; -SGT_EINVAL. On failure @it is not written.
 */
SGT_API SGT_MUST_CHECK int sgt_dma_iter_init(struct sgt_dma_iter *it, const struct sgt_dma *d);

/**
 * sgt_dma_iter_next() - advance to the next DMA segment
 * @it: an iterator from sgt_dma_iter_init()
 *
 * Context: any; allocates nothing.
 * Return: true with the public fields set; false at the end or for a NULL @it.
 */
SGT_API bool sgt_dma_iter_next(struct sgt_dma_iter *it);

/**
 * sgt_dma_page_iter_init() - start a walk over the DMA segments in page-sized pieces
 * @it: caller storage for the iterator
 * @d:  a mapped handle's DMA view
 *
 * Context: any; allocates nothing.
 * Return: 0; -SGT_ESTALE; -SGT_EINVAL. On failure @it is not written.
 */
SGT_API SGT_MUST_CHECK int sgt_dma_page_iter_init(struct sgt_dma_page_iter *it,
						  const struct sgt_dma *d);

/**
 * sgt_dma_page_iter_next() - advance to the next piece
 * @it: an iterator from sgt_dma_page_iter_init()
 *
 * Context: any; allocates nothing.
 * Return: true with the public fields set; false at the end or for a NULL @it.
 */
SGT_API bool sgt_dma_page_iter_next(struct sgt_dma_page_iter *it);

#ifdef __cplusplus
}
#endif

#endif /* SGT_DMA_H */
