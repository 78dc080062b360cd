/* SPDX-License-Identifier: MIT */
#ifndef SGT_USER_H
#define SGT_USER_H

#include "sgt/error.h"
#include "sgt/memory.h"

/**
 * DOC: User-space platform extras
 *
 * Only the ``user`` platform provides these (a freestanding build does not link them).
 */

#ifdef __cplusplus
extern "C" {
#endif

/**
 * sgt_memory_identity_init() - a user-space memory domain with a chosen page size
 * @mem:        caller storage for the domain
 * @page_shift: SGT_PAGE_SHIFT_MIN..SGT_PAGE_SHIFT_MAX
 *
 * Frame = virtual address >> @page_shift; byte access is the address itself. Page allocation uses
 * ``aligned_alloc`` and zeroes the pages.
 *
 * Context: any; allocates nothing.
 * Return: 0; -SGT_EINVAL for NULL or a page shift out of range (then @mem is not written).
 */
SGT_API SGT_MUST_CHECK int sgt_memory_identity_init(struct sgt_memory *mem,
						    unsigned int page_shift);

#ifdef __cplusplus
}
#endif

#endif /* SGT_USER_H */
