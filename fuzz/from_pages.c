// SPDX-License-Identifier: MIT
/* Fuzz target "from_pages": construction, append, split and drop against the model's merge rules.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sgt_fuzz_run_target("from_pages", data, size, sgt_fuzz_verbose);
	return 0;
}
