// SPDX-License-Identifier: MIT
/*
 * A downstream driver's test, as it would use an installed sgt: a table over real memory, mapped
 * through the simulated IOMMU with the DMA-API debug layer on, read by the device, dropped.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sgt/sgt.h>
#include <sgt/simiommu.h>

static int fail(const char *what, int err)
{
	fprintf(stderr, "consumer_sim: %s: %s\n", what, sgt_strerror(err));
	return 1;
}

int main(void)
{
	enum { LEN = 2 * 4096 };
	unsigned char *buf = aligned_alloc(4096, LEN), seen[LEN];
	uint64_t pfns[2] = { (uint64_t)(uintptr_t)buf >> 12, ((uint64_t)(uintptr_t)buf >> 12) + 1 };
	struct sgt_simiommu_params p = { .mode = SGT_SIMIOMMU_IOMMU, .mem = sgt_platform_memory() };
	struct sgt_simiommu *sim;
	struct sgt_pages pages;
	struct sgt_mapping m;
	struct sgt_dma_iter it;
	struct sgt_table t;
	size_t at = 0;
	int err, i;

	for (i = 0; i < LEN; i++)
		buf[i] = (unsigned char)(i * 7);
	err = sgt_simiommu_new(&p, &sim);
	if (err)
		return fail("simiommu_new", err);
	err = sgt_dma_debug_enable(sgt_simiommu_device(sim), NULL);
	if (err)
		return fail("debug_enable", err);
	sgt_pages_from_array(&pages, pfns, 2);
	err = sgt_table_init_from_pages(&t, NULL, &pages, 0, LEN, 4096, SGT_MAY_SLEEP);
	if (!err)
		err = sgt_table_map(&t, sgt_simiommu_device(sim), SGT_DMA_TO_DEVICE, 0, &m,
				    SGT_MAY_SLEEP);
	if (err)
		return fail("build and map", err);
	err = sgt_dma_iter_init(&it, &m.dma);
	while (!err && sgt_dma_iter_next(&it)) {
		err = sgt_simiommu_dma_read(sim, it.dma_addr, seen + at, it.dma_len);
		at += it.dma_len;
	}
	sgt_mapping_cleanup(&m);
	if (err || at != LEN || memcmp(seen, buf, LEN) ||
	    sgt_dma_debug_num_reports(sgt_simiommu_device(sim)) || sgt_simiommu_free(sim))
		return fail("the device did not read the table's bytes cleanly", err);
	free(buf);
	printf("consumer_sim: ok, the device read %zu bytes\n", at);
	return 0;
}
