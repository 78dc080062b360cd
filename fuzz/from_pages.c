// SPDX-License-Identifier: MIT
/* Fuzz target "from_pages": construction, append, split and drop against the model's merge rules.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t s_kinds[] = { SGT_OP_FROM_PAGES, SGT_OP_APPEND,	 SGT_OP_APPEND,
				   SGT_OP_SPLIT,      SGT_OP_ITERATE,	 SGT_OP_DROP,
				   SGT_OP_FAIL_ALLOC, SGT_OP_ALLOC_ORDER };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sgt_fuzz_run(data, size, s_kinds, sizeof(s_kinds), sgt_fuzz_verbose);
	return 0;
}
