/* SPDX-License-Identifier: MIT */
#ifndef SGT_ALLOC_H
#define SGT_ALLOC_H

#include "sgt/types.h"

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
 * enum sgt_alloc_ctx - what an allocating call may do while it waits for memory
 * @SGT_MAY_SLEEP: process context: the allocator may block (``GFP_KERNEL``).
 * @SGT_ATOMIC:    atomic context (a spinlock held, an interrupt): it must not (``GFP_ATOMIC``).
 *
 * Every sgt call that allocates takes one as its last argument and hands it to the allocator,
 * the memory domain's page allocator and the backend's map. A table built in process context
 * may be appended to in an atomic one: the context belongs to the call, not to the table.
 */
enum sgt_alloc_ctx {
	SGT_MAY_SLEEP = 0,
	SGT_ATOMIC = 1,
};

/**
 * struct sgt_allocator - a fallible, sized allocator
 * @alloc: returns @len bytes aligned for any object, or NULL on failure. @len is never 0. @actx
 *         says whether it may sleep.
 * @free:  releases a block from @alloc; @len is the size that was asked for. Never called with
 * NULL.
 * @ctx:   passed to both callbacks unchanged.
 *
 * Context: called from the context of the sgt call that allocates, which passes it as @actx.
 */
struct sgt_allocator {
	void *(*alloc)(void *ctx, size_t len, enum sgt_alloc_ctx actx);
	void (*free)(void *ctx, void *ptr, size_t len);
	void *ctx;
};

#endif /* SGT_ALLOC_H */
