// SPDX-License-Identifier: MIT
/*
 * Fuzz target "copy": copy to and from buffers and zeroing at arbitrary offsets and lengths; the
 * model applies the same bytes to a flat shadow of memory, and every byte is compared.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sgt_fuzz_run_target("copy", data, size, sgt_fuzz_verbose);
	return 0;
}
