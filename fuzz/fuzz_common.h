/* SPDX-License-Identifier: MIT */
#ifndef SGT_FUZZ_COMMON_H
#define SGT_FUZZ_COMMON_H

/*
 * What the fuzz targets share: the runner that decodes an input into harness operations (the
 * same operations the property tests generate; the format is in sgt_record.h), applies them and
 * aborts on a mismatch, and the targets' operation subsets.
 */

#include <stddef.h>
#include <stdint.h>

#include "sgt_harness.h"
#include "sgt_record.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Run an input: operation kinds are mapped into @kinds (a target's subset; NULL for all). Prints
 * the failing step and the harness's explanation and calls abort() on a mismatch. With @verbose,
 * prints every step. Returns the number of steps that applied.
 */
size_t sgt_fuzz_run(const uint8_t *data, size_t size, const uint8_t *kinds, size_t num_kinds,
		    int verbose);

/* A harness target's operation subset ("ops": all, *@out_kinds NULL); -1 for another name. */
int sgt_fuzz_target_kinds(const char *target, const uint8_t **out_kinds, size_t *out_num);

/* Map decoded operations into a subset, as the target does (@kinds NULL: unchanged). */
void sgt_fuzz_map_kinds(const uint8_t *kinds, size_t num_kinds, struct sgt_op *ops, size_t n);

/* sgt_fuzz_run() with the named target's subset. */
size_t sgt_fuzz_run_target(const char *target, const uint8_t *data, size_t size, int verbose);

/* Set by the replay main from -v, read by the targets. */
extern int sgt_fuzz_verbose;

#ifdef __cplusplus
}
#endif

#endif /* SGT_FUZZ_COMMON_H */
