/* SPDX-License-Identifier: MIT */
#ifndef SGT_FUZZ_COMMON_H
#define SGT_FUZZ_COMMON_H

/*
 * What the fuzz targets share: the byte decoder into harness operations (the same operations the
 * property tests generate) and the runner that applies them and aborts on a mismatch.
 *
 * Input format: a 4-byte little-endian harness seed (device constraints), then records of
 * SGT_FUZZ_RECORD bytes, one operation each; a short tail is ignored, and at most
 * SGT_FUZZ_MAX_OPS operations run. Every byte value decodes to something: the harness reduces
 * values into range and resolves slot numbers to slots the operation can use.
 */

#include <stddef.h>
#include <stdint.h>

#include "sgt_harness.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SGT_FUZZ_RECORD 22
#define SGT_FUZZ_MAX_OPS 256

/* Decode; returns the number of operations written to @ops (at most @max_ops). */
size_t sgt_fuzz_decode(const uint8_t *data, size_t size, uint32_t *out_seed, struct sgt_op *ops,
		       size_t max_ops);

/* Encode one operation into SGT_FUZZ_RECORD bytes (for seed corpora and tests). */
void sgt_fuzz_encode(const struct sgt_op *op, uint8_t *out);

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
