/* SPDX-License-Identifier: MIT */
#ifndef SGT_SIMIOMMU_H
#define SGT_SIMIOMMU_H

#include "sgt/types.h"

#include "sgt/dma.h"
#include "sgt/error.h"
#include "sgt/memory.h"

/**
 * DOC: The simulated IOMMU backend
 *
 * A user-space model of an IOMMU and of the DMA layer above it, strict enough to catch driver
 * bugs. One &struct sgt_simiommu is one device with its own IOMMU domain. Modes:
 *
 * - ``SGT_SIMIOMMU_IOMMU``: like Linux ``iommu_dma_map_sg``: the whole list goes into one
 *   contiguous, size-aligned IOVA range (from the sgt_iova allocator, below the DMA mask), padded
 *   so no segment crosses the segment boundary; entries that become contiguous merge into one DMA
 *   segment up to the maximum segment size. A 4-level page table maps IOVA pages to CPU frames
 *   with the direction's permissions (to-device: device may only read; from-device: only write).
 * - ``SGT_SIMIOMMU_DIRECT``: DMA address = CPU address (frame << page shift + offset), one DMA
 *   segment per entry; a map fails cleanly (-SGT_ERANGE) when an address exceeds the DMA mask.
 * - ``SGT_SIMIOMMU_BOUNCE``: like swiotlb: every entry gets a slot in a bounce pool; map copies
 *   CPU to bounce (all directions, as Linux does since the info-leak fix), unmap and
 *   sync-for-cpu copy bounce to CPU (from-device, bidirectional), sync-for-device copies CPU to
 *   bounce (to-device, bidirectional). A driver that forgets a sync sees stale data.
 *
 * A DMA segment occupies one table slot, so one CPU entry can never become two DMA segments: an
 * entry longer than the device's maximum segment size (or whose span must cross its segment
 * boundary) cannot be mapped. The map then fails with -SGT_EINVAL; drivers build tables with
 * ``max_segment`` at most the device's limit, as on Linux. The simulator guarantees every
 * constraint of &struct sgt_device_params this way (its caps say SGT_DMA_GUARANTEES_ALL).
 *
 * The device side: sgt_simiommu_dma_read() and sgt_simiommu_dma_write() are what the device
 * does. An access to an address that is not mapped, against the mapping's direction, or above the
 * DMA mask moves no data, returns -SGT_EFAULT and records a fault. Nothing a driver does wrong
 * crashes the process.
 *
 * DMA-API misuse (double unmap, wrong counts or directions, ...) is the core's to catch: turn its
 * debug layer on with sgt_dma_debug_enable() on sgt_simiommu_device(). The simulator records only
 * what the device itself sees: faults, and bounce copies that could not reach a CPU page.
 *
 * Thread-safe: one mutex per device serialises map, unmap, sync and device access.
 */

enum sgt_simiommu_mode {
	SGT_SIMIOMMU_IOMMU = 0,
	SGT_SIMIOMMU_DIRECT = 1,
	SGT_SIMIOMMU_BOUNCE = 2,
};

/** enum sgt_simiommu_fault_kind - why a device access failed */
enum sgt_simiommu_fault_kind {
	SGT_FAULT_UNMAPPED = 0, /* no live mapping covers the address */
	SGT_FAULT_READ_ONLY = 1, /* device write into a to-device mapping */
	SGT_FAULT_WRITE_ONLY = 2, /* device read from a from-device mapping */
	SGT_FAULT_ABOVE_MASK = 3, /* the device cannot emit this address */
	SGT_FAULT_CPU_UNREACHABLE = 4, /* bounce copy-back on unmap: CPU page not reachable */
	SGT_FAULT_NUM_KINDS
};

/**
 * struct sgt_simiommu_params - how to build the simulated device
 * @mode:           SGT_SIMIOMMU_IOMMU, _DIRECT or _BOUNCE.
 * @mem:            the CPU memory domain the device reaches (the tables' domain); required.
 * @device:         the device's constraints.
 * @iova_window:    iommu mode: the IOVA window, the IOMMU's aperture (clipped to 48 bits of
 *                  page-table reach); a zero window means [1 MiB, DMA mask]. A window that
 *                  reaches past the DMA mask is allowed: as in Linux's iommu-dma, each
 *                  allocation is limited to the mask (the IOVA allocator's limit), and
 *                  sgt_device_caps() reports the windows clipped to it.
 * @reserve_msi:    iommu mode: keep the x86 MSI window 0xfee00000-0xfeefffff out of the IOVA space.
 * @quarantine_len: iommu mode: freed IOVA ranges held back before reuse.
 * @bounce_pool:    bounce mode: pool size in bytes (0: 4 MiB); the pool sits at DMA address
 *                  0x1000000 (16 MiB) and must fit under the DMA mask.
 * @max_mappings:   live mappings allowed at once (the mapping budget); 0 for no limit.
 * @alloc:          allocator for the bookkeeping, the page table and the pool; NULL: default.
 */
struct sgt_simiommu_params {
	enum sgt_simiommu_mode mode;
	const struct sgt_memory *mem;
	struct sgt_device_params device;
	struct sgt_dma_window iova_window;
	bool reserve_msi;
	uint32_t quarantine_len;
	uint64_t bounce_pool;
	uint64_t max_mappings;
	const struct sgt_allocator *alloc;
};

/**
 * struct sgt_simiommu_inject - deterministic fault injection
 * @fail_map_at:     fail the map with this 1-based number (counting from the call that set it);
 *                   0 for never.
 * @fail_permille:   fail each map with this probability out of 1000, drawn from @seed.
 * @seed:            seeds the draws, so a run can be replayed.
 */
struct sgt_simiommu_inject {
	uint64_t fail_map_at;
	uint32_t fail_permille;
	uint64_t seed;
};

/**
 * struct sgt_simiommu_fault - one recorded device-access fault
 * @addr: the first address that faulted.
 * @len:  length of the access.
 * @kind: why.
 * @msg:  a readable message.
 */
struct sgt_simiommu_fault {
	uint64_t addr;
	uint64_t len;
	enum sgt_simiommu_fault_kind kind;
	char msg[128];
};

struct sgt_simiommu;

#ifdef __cplusplus
extern "C" {
#endif

/**
 * sgt_simiommu_new() - create a simulated device
 * @params: the mode, memory domain, device constraints and policies
 * @out:    receives the device; destroy it with sgt_simiommu_free()
 *
 * The device starts with the core's debug layer off.
 * Context: may sleep.
 * Return: 0; -SGT_EINVAL for bad parameters (no memory domain, an empty window, a pool above
 * the mask, an alignment that is not a power of two); -SGT_ENOMEM. On failure *@out is not
 * written.
 */
SGT_API SGT_MUST_CHECK int sgt_simiommu_new(const struct sgt_simiommu_params *params,
					    struct sgt_simiommu **out);

/**
 * sgt_simiommu_free() - tear the device down
 * @sim: the device, or NULL
 *
 * Mappings still live are leaks. With the debug layer on, sgt_device_cleanup() reports each
 * (SGT_REPORT_LEAK_AT_TEARDOWN, through the layer's callback) before everything is freed.
 * Context: may sleep.
 * Return: the number of mappings that were still live.
 */
SGT_API uint64_t sgt_simiommu_free(struct sgt_simiommu *sim);

/**
 * sgt_simiommu_device() - the &struct sgt_device to map through
 * @sim: the simulated device
 *
 * Context: any; allocates nothing.
 * Return: a device owned by @sim, valid until sgt_simiommu_free(); NULL for a NULL @sim.
 */
SGT_API struct sgt_device *sgt_simiommu_device(struct sgt_simiommu *sim);

/**
 * sgt_simiommu_dma_read() - the device reads memory at a DMA address
 * @sim:  the device
 * @addr: DMA address
 * @buf:  where the bytes go
 * @len:  how many
 *
 * Context: any thread; takes the device lock; allocates nothing.
 * Return: 0 with @len bytes in @buf; -SGT_EFAULT (a fault recorded, @buf untouched) when any byte
 * is unmapped, not readable by the device or above its DMA mask; -SGT_EINVAL for NULL.
 */
SGT_API SGT_MUST_CHECK int sgt_simiommu_dma_read(struct sgt_simiommu *sim, uint64_t addr, void *buf,
						 size_t len);

/**
 * sgt_simiommu_dma_write() - the device writes memory at a DMA address
 * @sim:  the device
 * @addr: DMA address
 * @buf:  the bytes
 * @len:  how many
 *
 * Context: as for sgt_simiommu_dma_read().
 * Return: 0; -SGT_EFAULT (a fault recorded, no byte written) as for sgt_simiommu_dma_read().
 */
SGT_API SGT_MUST_CHECK int sgt_simiommu_dma_write(struct sgt_simiommu *sim, uint64_t addr,
						  const void *buf, size_t len);

/**
 * sgt_simiommu_set_inject() - set fault injection (replaces the previous setting)
 * @sim: the device
 * @inj: what to fail; NULL turns injection off
 *
 * Context: any thread; takes the device lock.
 */
SGT_API void sgt_simiommu_set_inject(struct sgt_simiommu *sim,
				     const struct sgt_simiommu_inject *inj);

/**
 * sgt_simiommu_num_faults() - faults recorded so far (all kinds)
 *
 * Context: any thread; takes the device lock.
 */
SGT_API uint64_t sgt_simiommu_num_faults(const struct sgt_simiommu *sim);

/**
 * sgt_simiommu_fault_at() - one recorded fault
 * @sim:   the device
 * @index: 0-based, oldest first; the first 256 faults are kept
 * @out:   receives it
 *
 * Context: any thread; allocates nothing.
 * Return: 0; -SGT_EINVAL for NULL @sim or @out; -SGT_ERANGE past the kept faults.
 */
SGT_API SGT_MUST_CHECK int sgt_simiommu_fault_at(const struct sgt_simiommu *sim, uint64_t index,
						 struct sgt_simiommu_fault *out);

/**
 * sgt_simiommu_clear_faults() - forget the recorded faults; NULL is a no-op
 *
 * Context: any thread; takes the device lock.
 */
SGT_API void sgt_simiommu_clear_faults(struct sgt_simiommu *sim);

/**
 * sgt_simiommu_live_mappings() - mappings made and not yet unmapped
 *
 * Context: any thread; takes the device lock.
 */
SGT_API uint64_t sgt_simiommu_live_mappings(const struct sgt_simiommu *sim);

/**
 * sgt_simiommu_changes() - how many times the device's mappings may have changed
 *
 * Counts every map attempt (whether it succeeded or not) and every unmap: the only calls that
 * change the mappings, the IOVA allocator and the page table. A harness that checks the
 * bookkeeping after every step (sgt_simiommu_check()) needs to do it only when this moved.
 *
 * Context: any thread; takes the device lock.
 * Return: the count; 0 for a NULL @sim.
 */
SGT_API uint64_t sgt_simiommu_changes(const struct sgt_simiommu *sim);

/**
 * sgt_simiommu_check() - check the device's bookkeeping
 * @sim:     the device
 * @out_why: receives a static description of the first inconsistency, or NULL
 *
 * Runs the IOVA allocator's invariant check and verifies that the IOVA (or bounce-slot) ranges
 * in use are exactly those of the live mappings: nothing leaked by a failed or refused call.
 * Context: O(live mappings + free blocks); allocates nothing. For tests and fuzzers.
 * Return: 0 or -SGT_EINVAL (also for a NULL @sim).
 */
SGT_API SGT_MUST_CHECK int sgt_simiommu_check(struct sgt_simiommu *sim, const char **out_why);

#ifdef __cplusplus
}
#endif

#endif /* SGT_SIMIOMMU_H */
