// SPDX-License-Identifier: MIT
/*
 * AFL++'s custom-mutator library for the harness targets: the record-level mutator
 * (sgt_mutator.h), loaded with AFL_CUSTOM_MUTATOR_LIBRARY=libsgt_afl_mutator.so (tools/fuzz.sh
 * does it). AFL++ still runs its own havoc stage besides, so byte-level finds are not lost.
 */
#include <stdlib.h>
#include <string.h>

#include "sgt_mutator.h"
#include "sgt_record.h"

struct s_state {
	uint64_t rng;
	uint8_t *buf;
	size_t cap;
};

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
		       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
void afl_custom_deinit(void *data);

void *afl_custom_init(void *afl, unsigned int seed)
{
	struct s_state *st = calloc(1, sizeof(*st));

	(void)afl;
	if (st)
		st->rng = seed;
	return st;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
		       uint8_t *add_buf, size_t add_buf_size, size_t max_size)
{
	struct s_state *st = data;
	size_t size = buf_size < max_size ? buf_size : max_size;

	if (max_size > st->cap) {
		uint8_t *p = realloc(st->buf, max_size);

		if (!p) {
			*out_buf = buf; /* no room: the input unchanged */
			return buf_size;
		}
		st->buf = p;
		st->cap = max_size;
	}
	memcpy(st->buf, buf, size);
	*out_buf = st->buf;
	return sgt_mutate(st->buf, size, max_size, &st->rng, add_buf, add_buf_size, NULL, NULL);
}

void afl_custom_deinit(void *data)
{
	struct s_state *st = data;

	if (st)
		free(st->buf);
	free(st);
}
