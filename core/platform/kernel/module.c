// SPDX-License-Identifier: MIT
/*
 * sgt.ko: the module that carries the core and exports its public API to other modules. A
 * driver that compiles the core into its own module instead leaves this file out, so that two
 * such drivers do not export the same symbols. The list is every SGT_API function of the core's
 * headers (sgt/user.h is the user platform's) and of the kernel backend's sgt/kernel.h; the unit
 * tests fail when one is missing.
 */
#include <linux/export.h>
#include <linux/module.h>

#include "sgt/kernel.h"
#include "sgt/sgt.h"

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("sgt: portable scatter-gather tables");

EXPORT_SYMBOL(sgt_copy_to_buffer);
EXPORT_SYMBOL(sgt_copy_from_buffer);
EXPORT_SYMBOL(sgt_zero);
EXPORT_SYMBOL(sgt_device_init);
EXPORT_SYMBOL(sgt_device_cleanup);
EXPORT_SYMBOL(sgt_dma_debug_enable);
EXPORT_SYMBOL(sgt_dma_debug_count);
EXPORT_SYMBOL(sgt_dma_debug_num_reports);
EXPORT_SYMBOL(sgt_dma_debug_msg);
EXPORT_SYMBOL(sgt_dma_debug_clear);
EXPORT_SYMBOL(sgt_dma_debug_live);
EXPORT_SYMBOL(sgt_dma_report_name);
EXPORT_SYMBOL(sgt_dma_map_sg);
EXPORT_SYMBOL(sgt_dma_unmap_sg);
EXPORT_SYMBOL(sgt_dma_sync_sg_for_cpu);
EXPORT_SYMBOL(sgt_dma_sync_sg_for_device);
EXPORT_SYMBOL(sgt_device_caps);
EXPORT_SYMBOL(sgt_dma_check_segments);
EXPORT_SYMBOL(sgt_table_map);
EXPORT_SYMBOL(sgt_mapping_unmap);
EXPORT_SYMBOL(sgt_mapping_cleanup);
EXPORT_SYMBOL(sgt_borrowed_mapping_init);
EXPORT_SYMBOL(sgt_borrowed_mapping_init_foreign);
EXPORT_SYMBOL(sgt_borrowed_mapping_cleanup);
EXPORT_SYMBOL(sgt_dma_info);
EXPORT_SYMBOL(sgt_dma_sync_for_cpu);
EXPORT_SYMBOL(sgt_dma_sync_for_device);
EXPORT_SYMBOL(sgt_dma_iter_init);
EXPORT_SYMBOL(sgt_dma_iter_next);
EXPORT_SYMBOL(sgt_dma_page_iter_init);
EXPORT_SYMBOL(sgt_dma_page_iter_next);
EXPORT_SYMBOL(sgt_strerror);
EXPORT_SYMBOL(sgt_errname);
EXPORT_SYMBOL(sgt_ent_iter_init);
EXPORT_SYMBOL(sgt__ent_iter_step);
EXPORT_SYMBOL(sgt_page_iter_init);
EXPORT_SYMBOL(sgt__page_iter_step);
EXPORT_SYMBOL(sgt_miter_start);
EXPORT_SYMBOL(sgt_miter_next);
EXPORT_SYMBOL(sgt_miter_stop);
EXPORT_SYMBOL(sgt_miter_error);
EXPORT_SYMBOL(sgt_memory_check);
EXPORT_SYMBOL(sgt_platform_allocator);
EXPORT_SYMBOL(sgt_platform_memory);
EXPORT_SYMBOL(sgt_platform_lock_new);
EXPORT_SYMBOL(sgt_platform_lock_free);
EXPORT_SYMBOL(sgt_platform_lock);
EXPORT_SYMBOL(sgt_platform_unlock);
EXPORT_SYMBOL(sgt_platform_assert_fail);
EXPORT_SYMBOL(sgt_sg_table_check);
EXPORT_SYMBOL(sgt_sg_table_is_valid);
EXPORT_SYMBOL(sgt_sg_first);
EXPORT_SYMBOL(sgt_sg_next);
EXPORT_SYMBOL(sgt_sg_last);
EXPORT_SYMBOL(sgt_pages_from_array);
EXPORT_SYMBOL(sgt_table_init);
EXPORT_SYMBOL(sgt_table_init_from_pages);
EXPORT_SYMBOL(sgt_table_append_pages);
EXPORT_SYMBOL(sgt_table_init_alloc_order);
EXPORT_SYMBOL(sgt_table_cleanup);
EXPORT_SYMBOL(sgt_borrowed_init);
EXPORT_SYMBOL(sgt_borrowed_cleanup);
EXPORT_SYMBOL(sgt_cpu_check);
EXPORT_SYMBOL(sgt_cpu_sg_table);
EXPORT_SYMBOL(sgt_cpu_info);
EXPORT_SYMBOL(sgt_nents_for_len);
EXPORT_SYMBOL(sgt_split);
EXPORT_SYMBOL(sgt_kernel_device_init);
EXPORT_SYMBOL(sgt_kernel_device_cleanup);
EXPORT_SYMBOL(sgt_kernel_borrow_sgtable);
EXPORT_SYMBOL(sgt_kernel_borrowed_cleanup);
