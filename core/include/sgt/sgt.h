/* SPDX-License-Identifier: MIT */
#ifndef SGT_SGT_H
#define SGT_SGT_H

/**
 * DOC: sgt, a portable scatter-gather table library
 *
 * Include this header for the whole public API. The pieces, each documented in its own header:
 *
 * - ``sgt/error.h``: return codes and sgt_strerror();
 * - ``sgt/alloc.h``, ``sgt/memory.h``: the injectable allocator and memory domain;
 * - ``sgt/sg_table.h``: the raw table representation and its invariants;
 * - ``sgt/table.h``: the handles (ownership and mapping state as C types), construction, split;
 * - ``sgt/iter.h``: entry, page and mapping iterators;
 * - ``sgt/copy.h``: copy and zero helpers;
 * - ``sgt/dma.h``: devices, DMA backends, the mapped states and DMA-side iterators;
 * - ``sgt/platform.h``: what a platform provides.
 */

#include "sgt/alloc.h"
#include "sgt/copy.h"
#include "sgt/dma.h"
#include "sgt/error.h"
#include "sgt/iter.h"
#include "sgt/memory.h"
#include "sgt/platform.h"
#include "sgt/sg_table.h"
#include "sgt/table.h"

#endif /* SGT_SGT_H */
