// SPDX-License-Identifier: MIT
/*
 * Fuzz target "simiommu": mapping in every mode, the device's reads and writes, syncs, faults and
 * the DMA-API debug checks (each misuse must cause exactly its report).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t s_kinds[] = {
	SGT_OP_FROM_PAGES, SGT_OP_MAP,	     SGT_OP_MAP,       SGT_OP_WRAP_MAPPED,
	SGT_OP_UNMAP,	   SGT_OP_DEV_WRITE, SGT_OP_DEV_READ,  SGT_OP_SYNC_CPU,
	SGT_OP_SYNC_DEV,   SGT_OP_DROP,	     SGT_OP_RAW_MAP,   SGT_OP_RAW_UNMAP,
	SGT_OP_RAW_MISUSE, SGT_OP_FAIL_MAP,  SGT_OP_COPY_FROM,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sgt_fuzz_run(data, size, s_kinds, sizeof(s_kinds), sgt_fuzz_verbose);
	return 0;
}
