/* SPDX-License-Identifier: MIT */
#ifndef SGT_MUTATOR_H
#define SGT_MUTATOR_H

/*
 * The structure-aware mutator of harness inputs (sgt_record.h): it edits whole operation
 * records, so that an inserted or deleted operation does not shift every later record into
 * garbage, and it lets inputs grow into sequences of tens of operations. libFuzzer reaches it
 * through LLVMFuzzerCustomMutator/CustomCrossOver (libfuzzer_mutator.c), AFL++ through its
 * custom-mutator library (afl_mutator.c, AFL_CUSTOM_MUTATOR_LIBRARY).
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** enum sgt_mutation - what one mutation step does to the records */
enum sgt_mutation {
	SGT_MUT_INSERT, /* a new record with random fields */
	SGT_MUT_DELETE,
	SGT_MUT_DUPLICATE, /* a copy of a record, placed anywhere */
	SGT_MUT_SWAP,
	SGT_MUT_MOVE,
	SGT_MUT_FIELD, /* one field of one record: random, nudged or a boundary value */
	SGT_MUT_SPLICE, /* a run of records from another input */
	SGT_MUT_SEED, /* the harness seed (the devices' constraints) */
	SGT_MUT_BYTES, /* byte-level mutation inside one record (the engine's own) */
	SGT_MUT_NUM
};

/*
 * An engine's byte-level mutator (libFuzzer's LLVMFuzzerMutate), used inside one record for
 * SGT_MUT_BYTES; NULL for the mutator's own bit flips.
 */
typedef size_t (*sgt_byte_mutator)(uint8_t *data, size_t size, size_t max_size);

/**
 * sgt_mutate() - mutate a harness input at the record level
 * @data:       the input, in a buffer of @max_size bytes
 * @size:       its length (any: a short seed header is padded, a partial record dropped)
 * @max_size:   the most the result may hold; at most SGT_FUZZ_MAX_OPS records are kept
 * @rng:        the random state (any value; updated)
 * @other:      another input to splice records from, or NULL
 * @other_size: its length
 * @bytes:      the engine's byte mutator, or NULL
 * @out_kind:   if not NULL, receives the last mutation applied (for tests)
 *
 * Applies one to three mutations. Inserting is favoured while the input is short and deleting
 * when it is near its cap, so inputs settle at tens of operations.
 *
 * Return: the new length: a 4-byte seed and whole records, never over @max_size. @data is left
 * as it was when @max_size cannot hold the seed.
 */
size_t sgt_mutate(uint8_t *data, size_t size, size_t max_size, uint64_t *rng, const uint8_t *other,
		  size_t other_size, sgt_byte_mutator bytes, enum sgt_mutation *out_kind);

/**
 * sgt_crossover() - one input from two: @a's seed, a prefix of @a's records and a suffix of @b's
 * Return: the length written to @out (at most @max_out); 0 when @max_out cannot hold a seed.
 */
size_t sgt_crossover(const uint8_t *a, size_t a_size, const uint8_t *b, size_t b_size, uint8_t *out,
		     size_t max_out, uint64_t *rng);

#ifdef __cplusplus
}
#endif

#endif /* SGT_MUTATOR_H */
