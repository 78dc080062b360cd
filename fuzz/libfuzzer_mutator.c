// SPDX-License-Identifier: MIT
/*
 * libFuzzer's hooks for the record-level mutator (sgt_mutator.h), linked into every harness
 * target. LLVMFuzzerMutate, the engine's own byte mutator, is used inside single records; it is
 * weak so that an engine without it (AFL++'s driver) still links.
 */
#include "fuzz_common.h"
#include "sgt_mutator.h"

#include <string.h>

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size) __attribute__((weak));
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
				 size_t size2, uint8_t *out, size_t max_out_size,
				 unsigned int seed);

/* libFuzzer hands the mutator one input: splices come from the one before it. */
static uint8_t s_last[SGT_FUZZ_MAX_LEN];
static size_t s_last_size;

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	uint64_t rng = seed;
	size_t n = size < sizeof(s_last) ? size : sizeof(s_last);
	uint8_t other[SGT_FUZZ_MAX_LEN];
	size_t other_size = s_last_size;

	memcpy(other, s_last, other_size);
	memcpy(s_last, data, n);
	s_last_size = n;
	return sgt_mutate(data, size, max_size, &rng, other, other_size,
			  LLVMFuzzerMutate ? LLVMFuzzerMutate : NULL, NULL);
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
				 size_t size2, uint8_t *out, size_t max_out_size, unsigned int seed)
{
	uint64_t rng = seed;

	return sgt_crossover(data1, size1, data2, size2, out, max_out_size, &rng);
}
