// SPDX-License-Identifier: MIT
/*
 * Fuzz target "simiommu": mapping in every mode, the device's reads and writes, syncs, faults and
 * the DMA-API debug checks (each misuse must cause exactly its report).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sgt_fuzz_run_target("simiommu", data, size, sgt_fuzz_verbose);
	return 0;
}
