// SPDX-License-Identifier: MIT
/* Fuzz target "ops": every operation the harness knows, checked step by step against the model. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sgt_fuzz_run_target("ops", data, size, sgt_fuzz_verbose);
	return 0;
}
