/* SPDX-License-Identifier: MIT */
#ifndef SGT_ALLOC_H
#define SGT_ALLOC_H

#include <stddef.h>

/**
 * DOC: Allocators
 *
 * All memory that sgt allocates for a table (its entry chunks) comes from a fallible allocator
 * that the caller passes in and that the table stores by value. An allocator that returns NULL
 * makes the operation fail with ``-SGT_ENOMEM`` and roll back; sgt never aborts on allocation
 * failure. The free callback gets the size that was allocated, as kernel ``kfree``-less slab
 * interfaces and sized allocators want.
 *
 * The default allocator is the platform's (libc ``malloc`` in user space; a freestanding build has
 * none, so callers there must pass one).
 */

/**
 * struct sgt_allocator - a fallible, sized allocator
 * @alloc: returns @len bytes aligned for any object, or NULL on failure. @len is never 0.
 * @free:  releases a block from @alloc; @len is the size that was asked for. Never called with
 * NULL.
 * @ctx:   passed to both callbacks unchanged.
 *
 * Context: called from whatever context the sgt call that allocates runs in.
 */
struct sgt_allocator {
	void *(*alloc)(void *ctx, size_t len);
	void (*free)(void *ctx, void *ptr, size_t len);
	void *ctx;
};

#endif /* SGT_ALLOC_H */
