/* SPDX-License-Identifier: MIT */
#ifndef SGT_VFIO_H
#define SGT_VFIO_H

/*
 * The VFIO backend: user-space drivers on a real IOMMU through VFIO's type1 interface (Linux
 * only). A container is an IOMMU domain; devices opened in it share its IOVA space, which sgt
 * manages with its IOVA allocator inside the ranges that the kernel reports. Tables are over the
 * process's own memory (an identity memory domain: frame = virtual address >> 12).
 *
 * IOVA 0 is never handed out (as in Linux's iommu-dma): to many devices and drivers 0 means "no
 * address".
 *
 * Two ways to map, each an sgt device of the same VFIO device:
 * - SGT_VFIO_PER_TABLE: each map allocates an IOVA range, laid out as Linux's iommu-dma lays out
 *   a table (sgt/iommu_layout.h), and maps it with VFIO_IOMMU_MAP_DMA (the kernel pins the
 *   pages); unmap removes exactly that.
 * - SGT_VFIO_REGISTERED: the DPDK/SPDK pattern. Buffers are registered once with
 *   sgt_vfio_register() (pinned and mapped once); a map is then a translation, no system call.
 *
 * Errors: every function returns an sgt error code; the ones that talk to the kernel also leave a
 * message naming the cause and the fix, read with sgt_vfio_last_error().
 */
#include "sgt/types.h"

#include <stddef.h>
#include <sys/types.h>

#include "sgt/alloc.h"
#include "sgt/dma.h"
#include "sgt/table.h"

/**
 * struct sgt_vfio_sys - the system calls the backend makes (a seam for tests of error paths)
 * @open, @close, @ioctl, @readlink, @pread, @pwrite, @mmap, @munmap: as the libc functions, but
 *     returning a negative errno on failure instead of setting ``errno``.
 * @ctx: passed to each.
 *
 * NULL in &struct sgt_vfio_params means the real ones. Tests replace them to fail any call at
 * any step; the VM tests use the real ones.
 */
struct sgt_vfio_sys {
	int (*open)(void *ctx, const char *path, int flags);
	int (*close)(void *ctx, int fd);
	int (*ioctl)(void *ctx, int fd, unsigned long req, void *arg);
	ssize_t (*readlink)(void *ctx, const char *path, char *buf, size_t len);
	ssize_t (*pread)(void *ctx, int fd, void *buf, size_t len, off_t off);
	ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t len, off_t off);
	int (*mmap)(void *ctx, int fd, size_t len, off_t off, void **out);
	int (*munmap)(void *ctx, void *addr, size_t len);
	void *ctx;
};

/**
 * struct sgt_vfio_params - how to open a container
 * @sys:     the system calls; NULL for the real ones.
 * @alloc:   allocator for the backend's bookkeeping; NULL for the platform's.
 * @sysfs:   where PCI devices are, NULL for "/sys/bus/pci/devices" (tests point it elsewhere).
 * @dev_dir: where VFIO's nodes are, NULL for "/dev/vfio".
 */
struct sgt_vfio_params {
	const struct sgt_vfio_sys *sys;
	const struct sgt_allocator *alloc;
	const char *sysfs;
	const char *dev_dir;
};

/** enum sgt_vfio_mode - the two ways to map, see the DOC above */
enum sgt_vfio_mode {
	SGT_VFIO_PER_TABLE = 0,
	SGT_VFIO_REGISTERED = 1,
};

struct sgt_vfio_container;
struct sgt_vfio_device;

#ifdef __cplusplus
extern "C" {
#endif

/**
 * sgt_vfio_container_open() - open a new VFIO container
 * @params: see &struct sgt_vfio_params; NULL for all defaults
 * @out:    receives the container
 *
 * The IOMMU type is set when the first device is opened in it (type1v2, else type1).
 * Context: process, may sleep.
 * Return: 0; -SGT_EINVAL for NULL @out; -SGT_EOPNOTSUPP without VFIO (no /dev/vfio/vfio, no
 * type1) and -SGT_EFAULT for no permission on it, each with a message; -SGT_ENOMEM.
 * Notes: on failure nothing is left open; *@out is not written.
 */
SGT_API SGT_MUST_CHECK int sgt_vfio_container_open(const struct sgt_vfio_params *params,
						   struct sgt_vfio_container **out);

/**
 * sgt_vfio_container_adopt() - use a container the caller already has
 * @params: as for sgt_vfio_container_open()
 * @fd:     an open container (``/dev/vfio/vfio``), with or without groups and IOMMU type set;
 *          still the caller's: sgt never closes it
 * @out:    receives the container
 *
 * When the container's IOMMU is already set (another user opened devices in it), sgt reads its
 * IOVA ranges and manages IOVAs from them; the caller must not map in them itself.
 * Context: process.
 * Return: as for sgt_vfio_container_open(), -SGT_EINVAL for a bad @fd.
 * Notes: on failure nothing is allocated and *@out is not written; @fd stays open either way.
 */
SGT_API SGT_MUST_CHECK int sgt_vfio_container_adopt(const struct sgt_vfio_params *params, int fd,
						    struct sgt_vfio_container **out);

/**
 * sgt_vfio_container_close() - close a container with no device and no registration left
 * @c: the container, or NULL
 *
 * Frees @c and closes its fd if sgt opened it (an adopted fd stays the caller's).
 * Return: 0; -SGT_EBUSY (nothing closed, @c still usable) while devices are open or buffers
 * registered.
 */
SGT_API SGT_MUST_CHECK int sgt_vfio_container_close(struct sgt_vfio_container *c);

/**
 * sgt_vfio_last_error() - the message of the container's last failure, "" if none
 * @c: the container (NULL gives the message of the last failed open in this thread)
 *
 * Return: a string owned by @c (or by the thread), valid until the next failure that writes a
 * message there, or until @c is closed. Never NULL.
 */
SGT_API const char *sgt_vfio_last_error(const struct sgt_vfio_container *c);

/**
 * struct sgt_vfio_info - what the container's IOMMU reported
 * @num_ranges:  usable IOVA ranges (any number; read them with sgt_vfio_range())
 * @page_sizes:  the IOMMU page sizes (``iova_pgsizes``), a bitmap
 * @dma_avail:   mappings the type1 driver still allows (``DMA_AVAIL``), or UINT32_MAX when the
 *               kernel does not say
 * @type:        the IOMMU type set (VFIO_TYPE1v2_IOMMU or VFIO_TYPE1_IOMMU), 0 before any device
 */
struct sgt_vfio_info {
	uint32_t num_ranges;
	uint64_t page_sizes;
	uint32_t dma_avail;
	uint32_t type;
};

/**
 * sgt_vfio_get_info() - the container's IOMMU capabilities
 * @c: the container; @out: receives them
 * Reads the kernel again for @dma_avail (UINT32_MAX when that read fails).
 * Return: 0; -SGT_EINVAL for NULL arguments, and then @out is not written.
 */
SGT_API SGT_MUST_CHECK int sgt_vfio_get_info(struct sgt_vfio_container *c,
					     struct sgt_vfio_info *out);

/**
 * sgt_vfio_range() - usable IOVA range @index, inclusive
 * Return: 0; -SGT_EINVAL for NULL arguments or an index past the ranges, and then @out is not
 * written.
 */
SGT_API SGT_MUST_CHECK int sgt_vfio_range(const struct sgt_vfio_container *c, uint32_t index,
					  struct sgt_dma_window *out);

/**
 * sgt_vfio_device_open() - open a PCI device (``0000:00:03.0``) bound to vfio-pci
 * @c:        the container; the device's IOMMU group joins it
 * @pci_addr: the device's address, as in /sys/bus/pci/devices
 * @params:   the device's DMA constraints (NULL: a 64-bit mask, Linux's defaults)
 * @out:      receives the device
 *
 * Finds the group in sysfs, opens it, checks that it is viable, attaches it to the container,
 * sets the IOMMU (on the first group), reads its capabilities and gets the device's fd.
 * Context: process, may sleep.
 * Return: 0; -SGT_EINVAL for NULL arguments; -SGT_EOPNOTSUPP when the device has no IOMMU group,
 * its group is not viable, or the IOMMU type cannot be set (type1 missing, no interrupt
 * remapping); -SGT_EFAULT without permission on the group; -SGT_ENOMEM. Each with a message
 * naming the cause and the fix.
 * Notes: on failure nothing stays open or attached; *@out is not written.
 */
SGT_API SGT_MUST_CHECK int sgt_vfio_device_open(struct sgt_vfio_container *c, const char *pci_addr,
						const struct sgt_device_params *params,
						struct sgt_vfio_device **out);

/**
 * sgt_vfio_device_close() - close the device
 * @d: the device, or NULL
 *
 * Closes the device fd, releases the group (the container's IOMMU goes with the last one) and
 * frees @d. Every mapping made through it must have been unmapped, and every BAR mapping
 * undone, first.
 * Return: the mappings still live through it: the caller's leak. They stay mapped in the IOMMU,
 * and their handles must not be used again, since their device is gone. 0 when all is well.
 */
SGT_API uint64_t sgt_vfio_device_close(struct sgt_vfio_device *d);

/**
 * sgt_vfio_dev() - the sgt device that maps for @d in @mode
 * Return: the device; NULL for a NULL @d or a bad mode.
 */
SGT_API struct sgt_device *sgt_vfio_dev(struct sgt_vfio_device *d, enum sgt_vfio_mode mode);

/**
 * sgt_vfio_device_fd() - the VFIO device fd (regions, interrupts, reset)
 *
 * Return: the fd, owned by sgt (closed by sgt_vfio_device_close()); -1 for a NULL @d.
 */
SGT_API int sgt_vfio_device_fd(const struct sgt_vfio_device *d);

/**
 * sgt_vfio_region_map() - mmap a region of the device (a BAR)
 * @d: the device; @index: VFIO_PCI_BAR0_REGION_INDEX...; @out: receives the mapping;
 * @out_len: receives its length
 * Return: 0; -SGT_EINVAL for NULL arguments, a bad index or a region that cannot be mmapped;
 * -SGT_ENOMEM when mmap is out of memory.
 * Notes: on failure *@out and *@out_len are not written. The mapping is the caller's: undo it
 * with sgt_vfio_region_unmap() before closing the device.
 */
SGT_API SGT_MUST_CHECK int sgt_vfio_region_map(struct sgt_vfio_device *d, uint32_t index,
					       void **out, size_t *out_len);

/**
 * sgt_vfio_region_unmap() - undo sgt_vfio_region_map()
 * @d: the device; @addr, @len: what sgt_vfio_region_map() gave. NULL @d or @addr does nothing.
 */
SGT_API void sgt_vfio_region_unmap(struct sgt_vfio_device *d, void *addr, size_t len);

/**
 * sgt_vfio_enable_bus_master() - set PCI_COMMAND_MASTER in the config space (VFIO leaves it off)
 * @d: the device
 *
 * Reads the command register and writes it back with the bit set.
 * Return: 0; -SGT_EINVAL for a NULL @d; -SGT_EIO when the config space cannot be read or
 * written (a failed read changes nothing).
 */
SGT_API SGT_MUST_CHECK int sgt_vfio_enable_bus_master(struct sgt_vfio_device *d);

/**
 * sgt_vfio_register() - pin and map a buffer once, for SGT_VFIO_REGISTERED maps
 * @c:        the container
 * @addr:     the buffer, page-aligned
 * @len:      its length, a page multiple
 * @dma_mask: the highest IOVA the devices that will use it can reach (their DMA mask);
 *            UINT64_MAX for any
 * @out_iova: receives the IOVA it is mapped at (may be NULL)
 *
 * The buffer is mapped readable and writable for every device of the container.
 * Context: process, may sleep (the kernel pins the pages).
 * Return: 0; -SGT_EINVAL for bad arguments, a container without an IOMMU yet (no device
 * opened), or an overlap with a registered buffer; -SGT_ENOSPC when no IOVA range under
 * @dma_mask fits; -SGT_ENOMEM; the mapping errors of the kernel, as for a map (with a message).
 * Notes: on failure nothing is mapped, pinned or allocated. The buffer stays the caller's and
 * must stay mapped in the process until sgt_vfio_unregister().
 */
SGT_API SGT_MUST_CHECK int sgt_vfio_register(struct sgt_vfio_container *c, void *addr, size_t len,
					     uint64_t dma_mask, uint64_t *out_iova);

/**
 * sgt_vfio_unregister() - unmap and unpin a registered buffer
 * @c: the container; @addr: the address it was registered with
 *
 * An unmap that the kernel does not do exactly is recorded (sgt_vfio_last_error()) and its IOVA
 * range is never handed out again; the buffer is unregistered either way.
 * Return: 0; -SGT_EINVAL when @addr is not registered; -SGT_EBUSY (nothing changed) while live
 * registered-mode mappings use the buffer: unmap them first.
 */
SGT_API SGT_MUST_CHECK int sgt_vfio_unregister(struct sgt_vfio_container *c, void *addr);

/**
 * sgt_vfio_table_from_buffer() - an owned table over process memory
 * @t:    caller storage
 * @addr: the buffer (any alignment; anonymous, file-backed or hugepage memory)
 * @len:  its length, at least 1
 * @max_segment: as for sgt_table_init_from_pages()
 * @actx: allocation context
 *
 * The table's domain is the platform's identity domain (frame = address >> 12); consecutive
 * pages merge into one entry, as virtual addresses are what VFIO maps. The buffer stays the
 * caller's and must outlive the table.
 * Return: as for sgt_table_init_from_pages(); -SGT_EINVAL for a NULL @t or @addr, a zero @len or
 * a range that wraps.
 * Notes: on failure @t is not written and nothing is allocated.
 */
SGT_API SGT_MUST_CHECK int sgt_vfio_table_from_buffer(struct sgt_table *t, void *addr, size_t len,
						      uint32_t max_segment,
						      enum sgt_alloc_ctx actx);

#ifdef __cplusplus
}
#endif

#endif /* SGT_VFIO_H */
