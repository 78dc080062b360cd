/* SPDX-License-Identifier: MIT */
#ifndef SGT_RECORD_H
#define SGT_RECORD_H

/*
 * Operations as bytes: the format of fuzz inputs, seed corpora and exported property-test
 * sequences. An input is a 4-byte little-endian harness seed (device constraints), then records
 * of SGT_FUZZ_RECORD bytes, one operation each; a short tail is ignored, and at most
 * SGT_FUZZ_MAX_OPS operations run, so that one input costs milliseconds. Every byte value
 * decodes to something: the harness reduces values into range and resolves slot numbers to
 * slots the operation can use.
 */

#include <stddef.h>
#include <stdint.h>

#include "sgt_harness.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SGT_FUZZ_SEED_BYTES 4
#define SGT_FUZZ_RECORD 22
#define SGT_FUZZ_MAX_OPS 64
#define SGT_FUZZ_MAX_LEN (SGT_FUZZ_SEED_BYTES + SGT_FUZZ_MAX_OPS * SGT_FUZZ_RECORD)

/* A record's fields (byte offset and width), for structure-aware mutation. */
struct sgt_record_field {
	uint8_t at, width;
};
#define SGT_RECORD_NUM_FIELDS 17
#define SGT_RECORD_KIND_FIELD 0
extern const struct sgt_record_field sgt_record_fields[SGT_RECORD_NUM_FIELDS];

/*
 * The max_segment values of table-building operations: a decoded byte indexes them (modulo
 * their count), and sgt_op_normalise() reduces any other value to one of them.
 */
#define SGT_OP_NUM_MAX_SEGS 7
extern const uint32_t sgt_op_max_segs[SGT_OP_NUM_MAX_SEGS];

/* Decode; returns the number of operations written to @ops (at most @max_ops). */
size_t sgt_fuzz_decode(const uint8_t *data, size_t size, uint32_t *out_seed, struct sgt_op *ops,
		       size_t max_ops);

/* Encode one operation into SGT_FUZZ_RECORD bytes (for seed corpora and tests). */
void sgt_fuzz_encode(const struct sgt_op *op, uint8_t *out);

/* Encode the 4-byte harness seed. */
void sgt_fuzz_encode_seed(uint32_t seed, uint8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* SGT_RECORD_H */
