// SPDX-License-Identifier: MIT
/*
 * Fuzz target "copy": copy to and from buffers and zeroing at arbitrary offsets and lengths; the
 * model applies the same bytes to a flat shadow of memory, and every byte is compared.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t s_kinds[] = { SGT_OP_FROM_PAGES, SGT_OP_ALLOC_ORDER, SGT_OP_SPLIT,
				   SGT_OP_BORROW,     SGT_OP_COPY_TO,	  SGT_OP_COPY_FROM,
				   SGT_OP_ZERO,	      SGT_OP_ITERATE,	  SGT_OP_DROP };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sgt_fuzz_run(data, size, s_kinds, sizeof(s_kinds), sgt_fuzz_verbose);
	return 0;
}
