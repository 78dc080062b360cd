// SPDX-License-Identifier: MIT
/*
 * The VFIO system test, run as root inside tools/vmtest.sh's "vfio" VM (emulated Intel IOMMU,
 * QEMU's edu device bound to vfio-pci). It is also the example of docs/vfio.md: a small
 * user-space driver that hands sgt tables to a device through VFIO.
 *
 * Prints SGT-TEST ok|FAIL <test> <detail> and SGT-RESULT pass=<n> fail=<n>. The timings are
 * bench/bench_vfio.c's.
 * usage: sgt_vfio_vmtest [PCI address]     (default: the first 1234:11e8 device)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "sgt/sgt.h"
#include "sgt/vfio.h"
#include "sgt_harness.h"

#define PS 4096u
#define EDU_BUF 0x40000u
#define EDU_XFER_MAX 2048u
#define EDU_MASK ((UINT64_C(1) << 28) - 1)

static unsigned s_pass, s_fail;

static void check(bool ok, const char *test, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		s_pass++;
		return;
	}
	s_fail++;
	printf("SGT-TEST FAIL %s ", test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void ok_line(const char *test, unsigned fails_before, const char *detail)
{
	if (s_fail == fails_before)
		printf("SGT-TEST ok %s %s\n", test, detail);
	fflush(stdout);
}

/* ---- the device: edu's DMA engine through BAR0 ---- */

struct edu {
	struct sgt_vfio_container *c;
	struct sgt_vfio_device *d;
	volatile uint8_t *bar;
	size_t bar_len;
	uint8_t buf[4096]; /* what edu's buffer holds, as far as the test wrote it */
	unsigned transfers;
};

static uint64_t rd64(struct edu *e, unsigned off)
{
	return *(volatile uint64_t *)(e->bar + off);
}

static void wr64(struct edu *e, unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(e->bar + off) = v;
}

/* One transfer between @iova and edu's buffer at @off; waits for the engine. */
static int edu_dma(struct edu *e, uint64_t iova, uint32_t off, uint32_t len, bool to_ram)
{
	struct timespec ts = { 0, 2000000 };
	int i;

	if (!len || len > EDU_XFER_MAX || off + len >= sizeof(e->buf))
		return -EINVAL;
	wr64(e, 0x80, to_ram ? EDU_BUF + off : iova);
	wr64(e, 0x88, to_ram ? iova : EDU_BUF + off);
	wr64(e, 0x90, len);
	wr64(e, 0x98, 1 | (to_ram ? 2 : 0));
	for (i = 0; i < 1500 && (rd64(e, 0x98) & 1); i++)
		nanosleep(&ts, NULL);
	e->transfers++;
	return rd64(e, 0x98) & 1 ? -ETIMEDOUT : 0;
}

/* Every DMA segment of @d, in order, to or from edu's buffer from offset 0. */
static int edu_dma_all(struct edu *e, const struct sgt_dma *d, bool to_ram)
{
	struct sgt_dma_iter it;
	uint32_t off = 0;
	int err = sgt_dma_iter_init(&it, d);

	while (!err && sgt_dma_iter_next(&it))
		for (uint32_t done = 0; !err && done < it.dma_len;) {
			uint32_t n =
				it.dma_len - done < EDU_XFER_MAX ? it.dma_len - done : EDU_XFER_MAX;

			err = edu_dma(e, it.dma_addr + done, off, n, to_ram);
			off += n;
			done += n;
		}
	return err;
}

static char *find_edu(void)
{
	static char addr[256];
	DIR *dir = opendir("/sys/bus/pci/devices");
	struct dirent *de;

	while (dir && (de = readdir(dir))) {
		char path[512], id[32] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", de->d_name);
		f = fopen(path, "r");
		if (f && fgets(id, sizeof(id), f) && !strncmp(id, "0x11e8", 6)) {
			memcpy(addr, de->d_name, sizeof(addr) - 1);
			fclose(f);
			closedir(dir);
			return addr;
		}
		if (f)
			fclose(f);
	}
	if (dir)
		closedir(dir);
	return NULL;
}

static int edu_open(struct edu *e, const char *addr)
{
	struct sgt_device_params p = { .dma_mask = EDU_MASK };
	void *bar;
	int err = sgt_vfio_container_open(NULL, &e->c);

	if (err) {
		printf("SGT-TEST FAIL open container: %s\n", sgt_vfio_last_error(NULL));
		return err;
	}
	err = sgt_vfio_device_open(e->c, addr, &p, &e->d);
	if (!err)
		err = sgt_vfio_region_map(e->d, VFIO_PCI_BAR0_REGION_INDEX, &bar, &e->bar_len);
	if (!err)
		err = sgt_vfio_enable_bus_master(e->d);
	if (err) {
		printf("SGT-TEST FAIL open %s: %d %s\n", addr, err, sgt_vfio_last_error(e->c));
		return err;
	}
	e->bar = bar;
	return 0;
}

static void edu_close(struct edu *e)
{
	sgt_vfio_region_unmap(e->d, (void *)(uintptr_t)e->bar, e->bar_len);
	check(sgt_vfio_device_close(e->d) == 0, "close", "mappings left on the device");
	check(sgt_vfio_container_close(e->c) == 0, "close", "the container is still busy");
}

/* ---- checks of the test's own ---- */

/* Every DMA segment inside one usable IOVA range, within the mask, lengths adding up. */
static const char *check_segments(struct edu *e, const struct sgt_dma *d, uint64_t total,
				  uint64_t max_seg, uint64_t boundary)
{
	struct sgt_dma_iter it;
	uint64_t sum = 0;

	if (sgt_dma_iter_init(&it, d))
		return "iterator";
	while (sgt_dma_iter_next(&it)) {
		uint64_t last = it.dma_addr + it.dma_len - 1;
		bool inside = false;
		struct sgt_dma_window w;

		for (uint32_t r = 0; !sgt_vfio_range(e->c, r, &w); r++)
			inside |= it.dma_addr >= w.start && last <= w.last;
		if (!inside)
			return "a segment outside the usable IOVA ranges";
		if (last > EDU_MASK || it.dma_len > max_seg)
			return "a segment beyond the mask or the maximum";
		if ((it.dma_addr & ~boundary) != (last & ~boundary))
			return "a segment across the boundary";
		sum += it.dma_len;
	}
	return sum == total ? NULL : "segments do not add up";
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13 + (i >> 9));
}

/* A table of pieces of @base: (page, offset, len) runs, appended in order. */
struct run {
	uint32_t page, off, len;
};

static int table_of(struct sgt_table *t, uint8_t *base, const struct run *r, unsigned n,
		    uint32_t max_seg)
{
	int err = sgt_table_init(t, NULL);

	for (unsigned i = 0; i < n && !err; i++) {
		uint64_t pfns[16];
		uint32_t pages = (r[i].off + r[i].len + PS - 1) / PS;
		struct sgt_pages pg;

		for (uint32_t k = 0; k < pages; k++)
			pfns[k] = ((uintptr_t)base >> 12) + r[i].page + k;
		sgt_pages_from_array(&pg, pfns, pages);
		err = sgt_table_append_pages(t, &pg, r[i].off, r[i].len, max_seg, SGT_MAY_SLEEP);
	}
	if (err)
		sgt_table_cleanup(t);
	return err;
}

/* ---- tests ---- */

static void test_caps(struct edu *e)
{
	struct sgt_vfio_info info;
	struct sgt_dma_window w;
	unsigned before = s_fail;
	bool msi_out = true;
	int err = sgt_vfio_get_info(e->c, &info);

	check(!err && info.num_ranges >= 1, "caps", "ranges: %d %u", err, info.num_ranges);
	check(info.page_sizes & PS, "caps", "page sizes 0x%llx",
	      (unsigned long long)info.page_sizes);
	check(info.dma_avail > 0 && info.dma_avail != UINT32_MAX, "caps", "DMA_AVAIL %u",
	      info.dma_avail);
	check(info.type == VFIO_TYPE1v2_IOMMU, "caps", "type %u", info.type);
	for (uint32_t r = 0; !sgt_vfio_range(e->c, r, &w); r++) {
		msi_out &= !(w.start <= 0xfee00000 && 0xfee00000 <= w.last);
		printf("SGT-INFO range %u 0x%llx-0x%llx\n", r, (unsigned long long)w.start,
		       (unsigned long long)w.last);
	}
	check(msi_out, "caps", "a usable range includes the MSI window");
	printf("SGT-INFO page_sizes 0x%llx dma_avail %u\n", (unsigned long long)info.page_sizes,
	       info.dma_avail);
	ok_line("caps", before, "");
}

/* Round trips through edu: out of one way of mapping, back through the other. */
static void test_roundtrip(struct edu *e, uint8_t *mem, bool out_registered)
{
	static const struct run shape[] = { { 1, 0xe00, 0x400 },
					    { 4, 0, 0x300 },
					    { 6, 0x100, 0x500 } };
	const uint32_t len = 0xc00;
	struct sgt_device *out_dev =
		sgt_vfio_dev(e->d, out_registered ? SGT_VFIO_REGISTERED : SGT_VFIO_PER_TABLE);
	struct sgt_device *in_dev =
		sgt_vfio_dev(e->d, out_registered ? SGT_VFIO_PER_TABLE : SGT_VFIO_REGISTERED);
	const char *name = out_registered ? "roundtrip-registered-out" : "roundtrip-per-table-out";
	uint8_t data[0xc00], got[0xc00];
	struct sgt_table a, b;
	struct sgt_mapping m;
	const char *why;
	int err;

	fill(data, len, out_registered ? 0x31 : 0x97);
	err = table_of(&a, mem, shape, 3, SGT_MAX_SEGMENT_UNLIMITED);
	if (!err)
		err = sgt_copy_from_buffer(&a.cpu, 0, data, len, NULL);
	if (!err)
		err = sgt_table_map(&a, out_dev, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP);
	check(!err, name, "map out: %d %s", err, sgt_vfio_last_error(e->c));
	if (err)
		return;
	why = check_segments(e, &m.dma, len, 65536, 0xffffffff);
	check(!why, name, "out: %s", why);
	err = edu_dma_all(e, &m.dma, false);
	check(!err, name, "dma out: %d", err);
	if (!err)
		memcpy(e->buf, data, len);
	sgt_mapping_cleanup(&m);

	/* back into other pages, mapped the other way */
	static const struct run back[] = { { 9, 0x800, 0x800 }, { 11, 0, 0x400 } };
	memset(mem + 9 * PS, 0, 3 * PS);
	err = table_of(&b, mem, back, 2, SGT_MAX_SEGMENT_UNLIMITED);
	if (!err)
		err = sgt_table_map(&b, in_dev, SGT_DMA_FROM_DEVICE, 0, &m, SGT_MAY_SLEEP);
	check(!err, name, "map back: %d %s", err, sgt_vfio_last_error(e->c));
	if (err)
		return;
	err = edu_dma_all(e, &m.dma, true);
	if (!err)
		err = sgt_dma_sync_for_cpu(&m.dma);
	if (!err)
		err = sgt_copy_to_buffer(&m.dma.cpu, 0, got, len, NULL);
	check(!err && !memcmp(got, e->buf, len), "roundtrip-data", "%s: %d", name, err);
	sgt_mapping_cleanup(&m);
}

/* Shapes x constraints x directions, both ways, checked by the test's own code. */
static void test_shapes(struct edu *e, uint8_t *mem, uint8_t *huge, size_t huge_len)
{
	static const struct run shapes[][6] = {
		{ { 20, 0, PS } },
		{ { 20, 0, 8 * PS } },
		{ { 20, 0, PS }, { 22, 0, PS }, { 25, 0, PS }, { 27, 0, PS } },
		{ { 30, 0x100, 0x1e00 }, { 33, 0x80, 0x100 }, { 35, 0xf00, 0x300 } },
		{ { 36, 0x800, 0x800 },
		  { 38, 0, 3 * PS },
		  { 42, 0, 0x10 },
		  { 44, 0, PS },
		  { 46, 0, PS },
		  { 48, 0x200, 0x200 } },
	};
	static const unsigned counts[] = { 1, 1, 4, 3, 6 };
	static const struct {
		uint32_t max_seg;
		uint64_t boundary;
	} cons[] = { { 65536, 0xffffffff }, { 4096, 0xffffffff }, { 16384, 0x3fff } };
	unsigned before = s_fail, maps = 0;

	for (unsigned ci = 0; ci < 3; ci++) {
		struct sgt_device_params p = { .dma_mask = EDU_MASK,
					       .max_segment_size = cons[ci].max_seg,
					       .seg_boundary_mask = cons[ci].boundary };
		struct sgt_vfio_device *d;
		/* a second handle on the same device, with other constraints */
		int err = sgt_vfio_device_open(e->c, getenv("SGT_EDU"), &p, &d);
		check(!err, "shapes", "device %u: %d %s", ci, err, sgt_vfio_last_error(e->c));
		if (err)
			continue;
		for (unsigned si = 0; si < 6; si++)
			for (int mode = 0; mode < 2; mode++)
				for (int dir = 0; dir < 3; dir++) {
					struct sgt_table t;
					struct sgt_mapping m;
					uint64_t total = 0;
					const char *why;

					err = si < 5 ? table_of(&t, mem, shapes[si], counts[si],
								cons[ci].max_seg)
						     : sgt_vfio_table_from_buffer(
							       &t, huge, huge_len, cons[ci].max_seg,
							       SGT_MAY_SLEEP);
					if (err) {
						check(false, "shapes", "build %u: %d", si, err);
						continue;
					}
					if (sgt_cpu_info(&t.cpu, NULL, &total))
						check(false, "shapes", "info");
					err = sgt_table_map(
						&t, sgt_vfio_dev(d, (enum sgt_vfio_mode)mode),
						(enum sgt_dma_dir)dir, 0, &m, SGT_MAY_SLEEP);
					if (err) {
						/* only a layout that cannot honour the boundary */
						check(err == -SGT_EINVAL &&
							      cons[ci].boundary == 0x3fff,
						      "shapes",
						      "shape %u mode %d dir %d cons %u: %d %s", si,
						      mode, dir, ci, err,
						      sgt_vfio_last_error(e->c));
						sgt_table_cleanup(&t);
						continue;
					}
					maps++;
					why = check_segments(e, &m.dma, total, cons[ci].max_seg,
							     cons[ci].boundary);
					check(!why, "shapes", "shape %u mode %d dir %d cons %u: %s",
					      si, mode, dir, ci, why);
					sgt_mapping_cleanup(&m);
				}
		check(sgt_vfio_device_close(d) == 0, "shapes", "mappings left");
	}
	char detail[64];
	snprintf(detail, sizeof(detail), "%u mappings", maps);
	ok_line("shapes", before, detail);
}

/* A DMA by the device to an IOVA just unmapped moves no data. */
static void test_after_unmap(struct edu *e, uint8_t *mem)
{
	static const struct run one = { 50, 0, PS };
	struct sgt_device *dev = sgt_vfio_dev(e->d, SGT_VFIO_PER_TABLE);
	struct sgt_dma_iter it;
	struct sgt_table t;
	struct sgt_mapping m;
	uint64_t iova = 0;
	unsigned before = s_fail;
	bool same = true;
	int err;

	memset(mem + 50 * PS, 0x5a, PS);
	err = table_of(&t, mem, &one, 1, SGT_MAX_SEGMENT_UNLIMITED);
	if (!err)
		err = sgt_table_map(&t, dev, SGT_DMA_FROM_DEVICE, 0, &m, SGT_MAY_SLEEP);
	if (!err && !sgt_dma_iter_init(&it, &m.dma) && sgt_dma_iter_next(&it))
		iova = it.dma_addr;
	if (!err)
		sgt_mapping_cleanup(&m);
	check(!err && iova, "after-unmap", "map %d", err);
	err = edu_dma(e, iova, 0, 256, true);
	for (unsigned i = 0; i < PS; i++)
		same &= mem[50 * PS + i] == 0x5a;
	check(same, "after-unmap", "a DMA to 0x%llx after its unmap changed the page (%d)",
	      (unsigned long long)iova, err);
	ok_line("after-unmap", before, "");
}

/* Locked memory of this process (VmLck), where type1 accounts what it pins. */
static uint64_t locked_bytes(void)
{
	char line[256];
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

/*
 * RLIMIT_MEMLOCK too low, in the middle of a table: the first runs are pinned, a later one is
 * refused; a clear error, nothing left mapped, and the table maps once the limit is raised.
 */
static void test_memlock(struct edu *e, uint8_t *mem)
{
	static const struct run runs[] = {
		{ 64, 0, 4 * PS }, { 70, 0, 4 * PS }, { 76, 0, 4 * PS }, { 82, 0, 4 * PS }
	};
	struct rlimit high = { RLIM_INFINITY, RLIM_INFINITY };
	struct sgt_device *dev = sgt_vfio_dev(e->d, SGT_VFIO_PER_TABLE);
	struct sgt_vfio_info before_info, after;
	uint64_t locked = locked_bytes();
	unsigned before = s_fail;
	struct sgt_table t;
	struct sgt_mapping m;
	int err = table_of(&t, mem, runs, 4, SGT_MAX_SEGMENT_UNLIMITED);

	if (err || sgt_vfio_get_info(e->c, &before_info)) {
		check(false, "memlock", "setup %d", err);
		return;
	}
	/* room for two runs of four pages, not four */
	struct rlimit low = { locked + 9 * PS, RLIM_INFINITY };
	setrlimit(RLIMIT_MEMLOCK, &low);
	err = sgt_table_map(&t, dev, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP);
	check(err == -SGT_ENOMEM && strstr(sgt_vfio_last_error(e->c), "ulimit -l"), "memlock",
	      "over the limit: %d '%s'", err, sgt_vfio_last_error(e->c));
	printf("SGT-INFO memlock message: %s\n", sgt_vfio_last_error(e->c));
	check(!sgt_vfio_get_info(e->c, &after) && after.dma_avail == before_info.dma_avail,
	      "memlock", "mappings left: DMA_AVAIL %u, was %u", after.dma_avail,
	      before_info.dma_avail);
	check(locked_bytes() == locked, "memlock", "pages left pinned: %llu bytes, were %llu",
	      (unsigned long long)locked_bytes(), (unsigned long long)locked);
	check(!sgt_cpu_check(&t.cpu), "memlock", "the table is not usable");
	setrlimit(RLIMIT_MEMLOCK, &high);
	err = sgt_table_map(&t, dev, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP);
	check(!err, "memlock", "after raising it: %d %s", err, sgt_vfio_last_error(e->c));
	if (!err)
		sgt_mapping_cleanup(&m);
	else
		sgt_table_cleanup(&t);
	ok_line("memlock", before, "");
}

static int write_param(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");
	int ok = f && fputs(value, f) >= 0;

	if (f)
		ok &= fclose(f) == 0;
	return ok ? 0 : -1;
}

/* The type1 budget: a container opened under dma_entry_limit=4 refuses the fifth run. */
static void test_budget(struct edu *e, const char *addr, uint8_t *mem)
{
	static const char *param = "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit";
	static const struct run scattered[] = { { 20, 0, PS }, { 22, 0, PS }, { 24, 0, PS },
						{ 26, 0, PS }, { 28, 0, PS }, { 30, 0, PS } };
	unsigned before = s_fail;
	struct sgt_vfio_info info;
	struct sgt_table t;
	struct sgt_mapping m;
	int err;

	edu_close(e);
	if (write_param(param, "4")) {
		check(false, "budget", "cannot set %s", param);
		return;
	}
	err = edu_open(e, addr);
	write_param(param, "65535");
	if (err)
		return;
	err = table_of(&t, mem, scattered, 6, SGT_MAX_SEGMENT_UNLIMITED);
	if (!err)
		err = sgt_table_map(&t, sgt_vfio_dev(e->d, SGT_VFIO_PER_TABLE), SGT_DMA_TO_DEVICE,
				    0, &m, SGT_MAY_SLEEP);
	check(err == -SGT_ENOSPC && strstr(sgt_vfio_last_error(e->c), "dma_entry_limit"), "budget",
	      "six runs under a budget of four: %d '%s'", err, sgt_vfio_last_error(e->c));
	printf("SGT-INFO budget message: %s\n", sgt_vfio_last_error(e->c));
	check(!sgt_vfio_get_info(e->c, &info) && info.dma_avail == 4, "budget",
	      "DMA_AVAIL %u after the failure, 4 expected", info.dma_avail);
	if (!err)
		sgt_mapping_cleanup(&m);
	else
		sgt_table_cleanup(&t);
	edu_close(e);
	err = edu_open(e, addr);
	check(!err, "budget", "reopen: %d", err);
	ok_line("budget", before, "");
}

/* ---- the property tests' operation sequences, with edu behind VFIO as device 0 ---- */

/*
 * The harness's device 0 (the simulated IOMMU in the property tests) becomes this VFIO device;
 * the device's reads and writes are edu's DMA, through a registered staging page: a read is
 * table -> edu's buffer -> staging, a write staging -> edu's buffer -> table. The same reference
 * model checks every step.
 */
struct plug {
	struct edu *e;
	unsigned reads, writes; /* device accesses made through edu */
	const char *addr;
	struct sgt_vfio_device *d;
	uint8_t *stage;
	uint64_t stage_iova;
};

static struct sgt_device *plug_open(void *ctx, const struct sgt_device_params *params)
{
	struct plug *p = ctx;
	struct sgt_device_params dp = *params;

	/* edu emits 28 address bits, whatever the harness drew */
	dp.dma_mask = dp.dma_mask && dp.dma_mask < EDU_MASK ? dp.dma_mask : EDU_MASK;
	if (sgt_vfio_device_open(p->e->c, p->addr, &dp, &p->d))
		return NULL;
	return sgt_vfio_dev(p->d, SGT_VFIO_PER_TABLE);
}

static uint64_t plug_close(void *ctx, struct sgt_device *dev)
{
	struct plug *p = ctx;
	uint64_t live = sgt_vfio_device_close(p->d);

	(void)dev;
	p->d = NULL;
	return live;
}

static int plug_access(void *ctx, uint64_t addr, void *buf, size_t n, bool write)
{
	struct plug *p = ctx;

	if (write)
		p->writes++;
	else
		p->reads++;
	for (size_t off = 0; off < n; off += EDU_XFER_MAX) {
		uint32_t k = (uint32_t)(n - off < EDU_XFER_MAX ? n - off : EDU_XFER_MAX);
		int err;

		if (write) {
			memcpy(p->stage, (uint8_t *)buf + off, k);
			err = edu_dma(p->e, p->stage_iova, 0, k, false);
			if (!err)
				err = edu_dma(p->e, addr + off, 0, k, true);
		} else {
			err = edu_dma(p->e, addr + off, 0, k, false);
			if (!err)
				err = edu_dma(p->e, p->stage_iova, 0, k, true);
			if (!err)
				memcpy((uint8_t *)buf + off, p->stage, k);
		}
		if (err)
			return -SGT_EIO;
	}
	return 0;
}

static int plug_read(void *ctx, uint64_t addr, void *buf, size_t n)
{
	return plug_access(ctx, addr, buf, n, false);
}

static int plug_write(void *ctx, uint64_t addr, const void *buf, size_t n)
{
	return plug_access(ctx, addr, (void *)(uintptr_t)buf, n, true);
}

/*
 * The shape of each sequence: a table, mapped on the VFIO device, written and read by the device
 * around the syncs and CPU writes, wrapped, unmapped; then the raw table through the raw DMA API
 * with a misuse. Everything else (sizes, layouts, offsets, directions, the device's constraints)
 * comes from the seeded bytes, decoded as the fuzzers decode them.
 */
static const uint8_t s_script[] = { SGT_OP_FROM_PAGES, SGT_OP_MAP,	SGT_OP_DEV_WRITE,
				    SGT_OP_SYNC_CPU,   SGT_OP_ITERATE,	SGT_OP_COPY_FROM,
				    SGT_OP_SYNC_DEV,   SGT_OP_DEV_READ, SGT_OP_WRAP_MAPPED,
				    SGT_OP_UNMAP,      SGT_OP_RAW_MAP,	SGT_OP_RAW_MISUSE,
				    SGT_OP_RAW_UNMAP,  SGT_OP_DROP };
#define S_SCRIPT_LEN (sizeof(s_script) / sizeof(s_script[0]))

static void test_props(struct edu *e, const char *addr, uint8_t *stage, uint64_t stage_iova,
		       unsigned budget)
{
	struct plug p = { .e = e, .addr = addr, .stage = stage, .stage_iova = stage_iova };
	struct sgt_harness_device dev = { .open = plug_open,
					  .close = plug_close,
					  .dma_read = plug_read,
					  .dma_write = plug_write,
					  .ctx = &p };
	unsigned start = e->transfers, before = s_fail, seqs = 0, applied = 0;
	uint64_t x = 0x5eed5eedu;

	for (seqs = 0; seqs < 200 && e->transfers - start < budget; seqs++) {
		uint8_t bytes[4 + S_SCRIPT_LEN * SGT_FUZZ_RECORD];
		struct sgt_op ops[S_SCRIPT_LEN];
		uint32_t seed;
		size_t n;

		for (size_t i = 0; i < sizeof(bytes); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			bytes[i] = (uint8_t)x;
		}
		n = sgt_fuzz_decode(bytes, sizeof(bytes), &seed, ops, S_SCRIPT_LEN);
		struct sgt_harness *h = sgt_harness_new_with(seed, &dev);

		if (!h) {
			check(false, "props", "sequence %u: no harness", seqs);
			break;
		}
		for (size_t i = 0; i < n; i++) {
			char desc[256];
			int r;

			ops[i].kind = s_script[i];
			ops[i].slot = 0;
			ops[i].dev = 0;
			if (ops[i].len > 256)
				ops[i].len = 256;
			ops[i].skip %= 2048; /* within the table, most of the time */
			r = sgt_harness_apply(h, &ops[i]);
			applied += r == SGT_H_OK;
			if (r == SGT_H_MISMATCH) {
				sgt_op_describe(&ops[i], desc, sizeof(desc));
				check(false, "props", "sequence %u step %zu (%s): %s", seqs, i,
				      desc, sgt_harness_why(h));
				break;
			}
		}
		if (sgt_harness_finish(h) == SGT_H_MISMATCH)
			check(false, "props", "sequence %u at the end: %s", seqs,
			      sgt_harness_why(h));
		else
			s_pass++;
		sgt_harness_free(h);
	}
	printf("SGT-INFO props: %u sequences, %u operations applied, %u device writes and %u reads "
	       "through edu (%u transfers)\n",
	       seqs, applied, p.writes, p.reads, e->transfers - start);
	check(seqs >= 4 && p.writes > 4 && p.reads > 4, "props",
	      "too little ran: %u sequences, %u device writes, %u reads", seqs, p.writes, p.reads);
	char detail[64];
	snprintf(detail, sizeof(detail), "%u sequences", seqs);
	ok_line("props", before, detail);
}

int main(int argc, char **argv)
{
	size_t mem_len = 256 * PS, huge_len = 2u << 20;
	struct rlimit high = { RLIM_INFINITY, RLIM_INFINITY };
	struct edu e = { 0 };
	const char *addr = argc > 1 ? argv[1] : find_edu();
	uint8_t *mem, *huge;
	uint64_t iova;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!addr) {
		printf("SGT-TEST FAIL setup no edu device\nSGT-RESULT pass=0 fail=1\n");
		return 1;
	}
	setenv("SGT_EDU", addr, 1);
	setrlimit(RLIMIT_MEMLOCK, &high);
	/* Without CAP_IPC_LOCK, as a user-space driver runs: the locked-memory limit applies. */
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct caps[2];
	if (!syscall(SYS_capget, &h, caps)) {
		caps[0].effective &= ~(1u << CAP_IPC_LOCK);
		caps[0].permitted &= ~(1u << CAP_IPC_LOCK);
		check(!syscall(SYS_capset, &h, caps), "setup", "cannot drop CAP_IPC_LOCK");
	}
	mem = mmap(NULL, mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	huge = mmap(NULL, huge_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (huge == MAP_FAILED) {
		printf("SGT-INFO no hugepages (%s): the hugepage shape uses normal pages\n",
		       strerror(errno));
		huge = mmap(NULL, huge_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			    0);
	}
	if (mem == MAP_FAILED || huge == MAP_FAILED || edu_open(&e, addr)) {
		printf("SGT-RESULT pass=%u fail=%u\n", s_pass, s_fail + 1);
		return 1;
	}
	memset(mem, 0, mem_len);
	memset(huge, 0x11, huge_len);
	test_caps(&e);
	/* registered memory: the round trips' pages, then the shapes' pages and the hugepages */
	check(!sgt_vfio_register(e.c, mem, 16 * PS, EDU_MASK, &iova), "register", "%s",
	      sgt_vfio_last_error(e.c));
	test_roundtrip(&e, mem, false);
	test_roundtrip(&e, mem, true);
	test_after_unmap(&e, mem);
	check(!sgt_vfio_register(e.c, mem + 16 * PS, 48 * PS, EDU_MASK, NULL), "register", "%s",
	      sgt_vfio_last_error(e.c));
	check(!sgt_vfio_register(e.c, huge, huge_len, EDU_MASK, NULL), "register", "%s",
	      sgt_vfio_last_error(e.c));
	test_shapes(&e, mem, huge, huge_len);
	check(!sgt_vfio_unregister(e.c, huge), "unregister", "");
	check(!sgt_vfio_unregister(e.c, mem + 16 * PS), "unregister", "");
	test_memlock(&e, mem);
	/* the property sequences' staging page: registered at page 15 of the round trips' region */
	test_props(&e, addr, mem + 15 * PS, iova + 15 * PS, 60);
	check(!sgt_vfio_unregister(e.c, mem), "unregister", "");
	test_budget(&e, addr, mem);
	edu_close(&e);
	printf("SGT-RESULT pass=%u fail=%u transfers=%u\n", s_pass, s_fail, e.transfers);
	return s_fail ? 1 : 0;
}
