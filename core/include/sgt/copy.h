/* SPDX-License-Identifier: MIT */
#ifndef SGT_COPY_H
#define SGT_COPY_H

#include "sgt/types.h"

#include "sgt/error.h"
#include "sgt/table.h"

/**
 * DOC: Copy helpers
 *
 * Copy between a table's bytes and a flat buffer, or zero a range of them, starting @skip bytes
 * into the table (``sg_pcopy_to_buffer``, ``sg_pcopy_from_buffer``, ``sg_zero_buffer``). They go
 * through the mapping iterator, so they reach the pages through the table's memory domain.
 *
 * A table shorter than asked is not an error: the helpers copy what there is and report the count,
 * as Linux does; a @skip at or past the end copies nothing. They work in every state, including on
 * a borrowed table (they change page contents, never the table).
 */

#ifdef __cplusplus
extern "C" {
#endif

/**
 * sgt_copy_to_buffer() - copy table bytes out to a buffer
 * @t:          any handle's CPU view
 * @skip:       bytes of the table to skip first
 * @buf:        destination; may be NULL only when @len is 0
 * @len:        bytes wanted
 * @out_copied: receives the bytes copied: min(@len, table length - @skip), less if a page could
 *              not be mapped; may be NULL
 *
 * Context: any; allocates nothing; reaches each page through the memory domain, one page at a time
 * (kmap_local_page() in a kernel).
 * Return: 0; -SGT_EFAULT when the memory domain refused a page (bytes before it were copied and
 * counted); -SGT_ESTALE; -SGT_EINVAL for NULL arguments (nothing copied, *@out_copied = 0).
 */
SGT_API SGT_MUST_CHECK int sgt_copy_to_buffer(const struct sgt_cpu *t, uint64_t skip, void *buf,
					      size_t len, size_t *out_copied);

/**
 * sgt_copy_from_buffer() - copy a buffer into table bytes
 * @t:          any handle's CPU view
 * @skip:       bytes of the table to skip first
 * @buf:        source; may be NULL only when @len is 0
 * @len:        bytes to copy
 * @out_copied: as for sgt_copy_to_buffer()
 *
 * Context: as for sgt_copy_to_buffer().
 * Return: as for sgt_copy_to_buffer().
 */
SGT_API SGT_MUST_CHECK int sgt_copy_from_buffer(const struct sgt_cpu *t, uint64_t skip,
						const void *buf, size_t len, size_t *out_copied);

/**
 * sgt_zero() - zero a range of table bytes
 * @t:          any handle's CPU view
 * @skip:       bytes of the table to skip first
 * @len:        bytes to zero
 * @out_zeroed: receives the bytes zeroed, as for sgt_copy_to_buffer(); may be NULL
 *
 * Context: as for sgt_copy_to_buffer().
 * Return: as for sgt_copy_to_buffer().
 */
SGT_API SGT_MUST_CHECK int sgt_zero(const struct sgt_cpu *t, uint64_t skip, size_t len,
				    size_t *out_zeroed);

#ifdef __cplusplus
}
#endif

#endif /* SGT_COPY_H */
