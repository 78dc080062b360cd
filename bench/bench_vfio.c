// SPDX-License-Identifier: MIT
/*
 * map+unmap of one table through the VFIO backend, per table and through registered memory,
 * for tables of 1, 16 and 256 entries (single pages two pages apart: no two entries merge), with
 * the floor measured in the same run: the same pages mapped and unmapped by bare
 * VFIO_IOMMU_MAP_DMA/UNMAP_DMA ioctls, one per page, as a driver without sgt would.
 *
 * Runs in tools/vmtest.sh's vfio VM, as root, after the test (TCG: absolute figures are slow,
 * the ratios are what to read). Prints SGT-BENCH lines with medians of 31 rounds.
 * usage: sgt_bench_vfio PCI_ADDRESS
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "sgt/sgt.h"
#include "sgt/vfio.h"

#define PS 4096u
#define ROUNDS 31
#define MASK ((UINT64_C(1) << 28) - 1)
#define RAW_IOVA UINT64_C(0x4000000000) /* far above what sgt hands out under the mask */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *ns)
{
	qsort(ns, ROUNDS, sizeof(ns[0]), cmp_u64);
	return ns[ROUNDS / 2];
}

static int table(struct sgt_table *t, uint8_t *mem, unsigned n)
{
	int err = sgt_table_init(t, NULL);

	for (unsigned k = 0; k < n && !err; k++) {
		uint64_t pfn = ((uintptr_t)mem >> 12) + 2 * k;
		struct sgt_pages pg;

		sgt_pages_from_array(&pg, &pfn, 1);
		err = sgt_table_append_pages(t, &pg, 0, PS, PS, SGT_MAY_SLEEP);
	}
	return err;
}

static int bench_sgt(struct sgt_device *dev, uint8_t *mem, unsigned n, uint64_t *out)
{
	uint64_t ns[ROUNDS];
	struct sgt_table t;
	int err = table(&t, mem, n);

	for (unsigned r = 0; r < ROUNDS && !err; r++) {
		struct sgt_mapping m;
		uint64_t t0 = now_ns();

		err = sgt_table_map(&t, dev, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP);
		if (!err)
			err = sgt_mapping_unmap(&m, &t);
		ns[r] = now_ns() - t0;
	}
	sgt_table_cleanup(&t);
	*out = err ? 0 : median(ns);
	return err;
}

static int bench_raw(int fd, uint8_t *mem, unsigned n, uint64_t *out)
{
	uint64_t ns[ROUNDS];

	for (unsigned r = 0; r < ROUNDS; r++) {
		uint64_t t0 = now_ns();

		for (unsigned k = 0; k < n; k++) {
			struct vfio_iommu_type1_dma_map dm = { .argsz = sizeof(dm),
							       .flags = VFIO_DMA_MAP_FLAG_READ,
							       .vaddr = (uintptr_t)mem + 2 * k * PS,
							       .iova = RAW_IOVA + k * PS,
							       .size = PS };
			if (ioctl(fd, VFIO_IOMMU_MAP_DMA, &dm))
				return -1;
		}
		for (unsigned k = 0; k < n; k++) {
			struct vfio_iommu_type1_dma_unmap um = { .argsz = sizeof(um),
								 .iova = RAW_IOVA + k * PS,
								 .size = PS };
			if (ioctl(fd, VFIO_IOMMU_UNMAP_DMA, &um) || um.size != PS)
				return -1;
		}
		ns[r] = now_ns() - t0;
	}
	*out = median(ns);
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned sizes[] = { 1, 16, 256 };
	struct sgt_device_params p = { .dma_mask = MASK };
	struct sgt_vfio_container *c;
	struct sgt_vfio_device *d;
	size_t len = 512 * PS;
	uint8_t *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* The container's fd is the bench's own, adopted by sgt, so the floor uses the same one. */
	int fd = open("/dev/vfio/vfio", O_RDWR), status = 0;

	if (argc < 2 || mem == MAP_FAILED || fd < 0 || sgt_vfio_container_adopt(NULL, fd, &c) ||
	    sgt_vfio_device_open(c, argv[1], &p, &d) ||
	    sgt_vfio_register(c, mem, len, MASK, NULL)) {
		printf("SGT-BENCH FAIL setup: %s\n", sgt_vfio_last_error(NULL));
		return 1;
	}
	for (unsigned i = 0; i < 3; i++) {
		uint64_t raw, per_table, registered;

		if (bench_raw(fd, mem, sizes[i], &raw) ||
		    bench_sgt(sgt_vfio_dev(d, SGT_VFIO_PER_TABLE), mem, sizes[i], &per_table) ||
		    bench_sgt(sgt_vfio_dev(d, SGT_VFIO_REGISTERED), mem, sizes[i], &registered)) {
			printf("SGT-BENCH FAIL %u entries: %s\n", sizes[i], sgt_vfio_last_error(c));
			status = 1;
			continue;
		}
		printf("SGT-BENCH map+unmap entries=%u raw_ioctls_ns=%llu per_table_ns=%llu "
		       "(%.2fx raw) registered_ns=%llu (%.4fx raw)\n",
		       sizes[i], (unsigned long long)raw, (unsigned long long)per_table,
		       (double)per_table / (double)raw, (unsigned long long)registered,
		       (double)registered / (double)raw);
	}
	if (sgt_vfio_unregister(c, mem) || sgt_vfio_device_close(d) || sgt_vfio_container_close(c))
		status = 1;
	close(fd);
	return status;
}
