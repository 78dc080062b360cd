/* SPDX-License-Identifier: MIT */
#ifndef SGT_PLATFORM_H
#define SGT_PLATFORM_H

#include "sgt/alloc.h"
#include "sgt/memory.h"

/**
 * DOC: The platform interface
 *
 * The core needs three things from the environment it is linked into, and nothing else (it uses
 * only ``<stddef.h>``, ``<stdint.h>`` and ``<stdbool.h>``, plus the compiler's ``memcpy`` and
 * ``memset``, which every C environment provides). A platform file implements them; CMake picks
 * one with ``SGT_PLATFORM``:
 *
 * - ``user`` (``core/platform/user/``): malloc allocator, identity memory domain with 4 KiB
 *   pages, assertion failures print and abort.
 * - ``none`` (``core/platform/none/``): the freestanding build. No default allocator or memory
 *   domain (callers pass their own), assertion failures trap.
 *
 * A kernel platform maps the same three onto kmalloc, ``kmap_local_page`` and ``BUG()``.
 */

#ifdef __cplusplus
extern "C" {
#endif

/**
 * sgt_platform_allocator() - the allocator used when a caller passes none
 *
 * Return: a static allocator, or NULL when the platform has none.
 */
const struct sgt_allocator *sgt_platform_allocator(void);

/**
 * sgt_platform_memory() - the memory domain used when a caller passes none
 *
 * Return: a static domain, or NULL when the platform has none.
 */
const struct sgt_memory *sgt_platform_memory(void);

/**
 * sgt_platform_assert_fail() - report a failed debug assertion and stop
 * @expr: the expression text
 * @file: source file
 * @line: source line
 *
 * Only debug builds (``SGT_DEBUG_CHECKS``) call it. Does not return.
 */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn))
#endif
void sgt_platform_assert_fail(const char *expr, const char *file, int line);

#ifdef __cplusplus
}
#endif

#endif /* SGT_PLATFORM_H */
