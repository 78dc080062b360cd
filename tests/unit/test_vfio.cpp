// SPDX-License-Identifier: MIT
// The VFIO backend's error paths, on the host where there is no IOMMU: a fake VFIO behind the
// backend's system-call seam (&struct sgt_vfio_sys). The fake follows type1's rules that the
// backend relies on (overlap, ranges, the budget, exact unmaps); it can fail any call. The real
// thing is tested in tools/vmtest.sh's vfio VM.
#include <gtest/gtest.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sgt/sgt.h"
#include "sgt/vfio.h"
#include "sgt_testkit.h"

namespace
{

constexpr uint64_t kPs = 4096;
constexpr const char *kAddr = "0000:00:03.0"; // the fake's one device

struct FakeVfio {
	std::mutex lock;
	// failure injection: the Nth call (1-based, counted over every call) fails with fail_errno
	uint64_t calls = 0, fail_at = 0;
	int fail_errno = -EIO;
	// ... or every call of one ioctl fails with its own errno
	std::map<unsigned long, int> ioctl_errno;
	int readlink_errno = 0, group_open_errno = 0;
	bool viable = true;
	bool type1 = true;
	bool iommu_set = false; // GET_INFO answers only once an IOMMU type is set
	uint32_t dma_avail = 65535;
	bool short_unmap = false; // UNMAP_DMA removes less than asked
	std::set<int> open_fds;
	int next_fd = 100;
	std::map<uint64_t, uint64_t> maps; // iova -> size
	uint16_t command = 0;
	std::map<void *, size_t> mmaps;
	std::vector<std::pair<uint64_t, uint64_t>> ranges{ { 0, 0xfedfffff },
							   { 0xfef00000, 0x7fffffffff } };

	sgt_vfio_sys sys{};

	FakeVfio()
	{
		sys.open = [](void *ctx, const char *path, int) { return self(ctx)->open(path); };
		sys.close = [](void *ctx, int fd) { return self(ctx)->close(fd); };
		sys.ioctl = [](void *ctx, int fd, unsigned long req, void *arg) {
			return self(ctx)->ioctl(fd, req, arg);
		};
		sys.readlink = [](void *ctx, const char *path, char *buf, size_t len) {
			return self(ctx)->readlink(path, buf, len);
		};
		sys.pread = [](void *ctx, int, void *buf, size_t len, off_t off) -> ssize_t {
			auto *f = self(ctx);
			std::lock_guard<std::mutex> g(f->lock);
			if (f->fail())
				return f->fail_errno;
			if (off != PCI_COMMAND || len != 2)
				return -EINVAL;
			memcpy(buf, &f->command, 2);
			return 2;
		};
		sys.pwrite = [](void *ctx, int, const void *buf, size_t len, off_t off) -> ssize_t {
			auto *f = self(ctx);
			std::lock_guard<std::mutex> g(f->lock);
			if (f->fail())
				return f->fail_errno;
			if (off != PCI_COMMAND || len != 2)
				return -EINVAL;
			memcpy(&f->command, buf, 2);
			return 2;
		};
		sys.mmap = [](void *ctx, int, size_t len, off_t, void **out) {
			auto *f = self(ctx);
			std::lock_guard<std::mutex> g(f->lock);
			if (f->fail())
				return f->fail_errno;
			*out = calloc(1, len);
			f->mmaps[*out] = len;
			return 0;
		};
		sys.munmap = [](void *ctx, void *addr, size_t len) {
			auto *f = self(ctx);
			std::lock_guard<std::mutex> g(f->lock);
			EXPECT_EQ(len, f->mmaps[addr]);
			f->mmaps.erase(addr);
			free(addr);
			return 0;
		};
		sys.ctx = this;
	}
	static FakeVfio *self(void *ctx)
	{
		return static_cast<FakeVfio *>(ctx);
	}

	bool fail()
	{
		return fail_at && ++calls == fail_at;
	}

	int open(const std::string &path)
	{
		std::lock_guard<std::mutex> g(lock);
		if (fail())
			return fail_errno;
		if (path == "/fake/dev/7" && group_open_errno)
			return group_open_errno;
		if (path != "/fake/dev/vfio" && path != "/fake/dev/7")
			return -ENOENT;
		open_fds.insert(next_fd);
		return next_fd++;
	}
	int close(int fd)
	{
		std::lock_guard<std::mutex> g(lock);
		EXPECT_TRUE(open_fds.count(fd)) << "closing fd " << fd << " twice or never opened";
		open_fds.erase(fd);
		return 0;
	}
	ssize_t readlink(const std::string &path, char *buf, size_t len)
	{
		std::lock_guard<std::mutex> g(lock);
		if (fail())
			return fail_errno;
		if (readlink_errno)
			return readlink_errno;
		if (path != "/fake/sys/0000:00:03.0/iommu_group")
			return -ENOENT;
		std::string link = "../../../kernel/iommu_groups/7";
		size_t n = std::min(len, link.size());
		memcpy(buf, link.data(), n);
		return (ssize_t)n;
	}

	int get_info(vfio_iommu_type1_info *info)
	{
		size_t need = sizeof(*info) + sizeof(vfio_iommu_type1_info_cap_iova_range) +
			      ranges.size() * sizeof(vfio_iova_range) +
			      sizeof(vfio_iommu_type1_info_dma_avail);
		uint32_t given = info->argsz;
		info->argsz = (uint32_t)need;
		info->flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
		info->iova_pgsizes = 0x40201000;
		if (given < need) {
			info->cap_offset = 0;
			return 0;
		}
		info->cap_offset = sizeof(*info);
		auto *r = reinterpret_cast<vfio_iommu_type1_info_cap_iova_range *>(info + 1);
		r->header = { VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1, 0 };
		r->nr_iovas = (uint32_t)ranges.size();
		for (size_t i = 0; i < ranges.size(); i++)
			r->iova_ranges[i] = { ranges[i].first, ranges[i].second };
		uint32_t avail_off = (uint32_t)(sizeof(*info) + sizeof(*r) +
						ranges.size() * sizeof(vfio_iova_range));
		r->header.next = avail_off;
		auto *a = reinterpret_cast<vfio_iommu_type1_info_dma_avail *>(
			reinterpret_cast<char *>(info) + avail_off);
		a->header = { VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 1, 0 };
		a->avail = dma_avail;
		return 0;
	}

	bool in_ranges(uint64_t iova, uint64_t size)
	{
		for (auto &r : ranges)
			if (iova >= r.first && iova + size - 1 <= r.second)
				return true;
		return false;
	}

	int map(vfio_iommu_type1_dma_map *m)
	{
		if (!m->size || (m->iova | m->size | m->vaddr) & (kPs - 1) ||
		    !in_ranges(m->iova, m->size))
			return -EINVAL;
		if (!(m->flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)))
			return -EINVAL;
		for (auto &[iova, size] : maps)
			if (m->iova < iova + size && iova < m->iova + m->size)
				return -EEXIST;
		if (!dma_avail)
			return -ENOSPC;
		dma_avail--;
		maps[m->iova] = m->size;
		return 0;
	}

	int unmap(vfio_iommu_type1_dma_unmap *u)
	{
		uint64_t removed = 0;
		for (auto it = maps.begin(); it != maps.end();) {
			if (it->first >= u->iova && it->first + it->second <= u->iova + u->size) {
				removed += it->second;
				dma_avail++;
				it = maps.erase(it);
			} else {
				++it;
			}
		}
		u->size = short_unmap && removed ? removed - kPs : removed;
		return 0;
	}

	int ioctl(int fd, unsigned long req, void *arg)
	{
		std::lock_guard<std::mutex> g(lock);
		// The undo calls cannot report a failure (an unmap cannot fail): they are tested on
		// their own (an inexact unmap), not in the sweep. CHECK_EXTENSION, and GET_INFO
		// before an IOMMU is set, are probes whose failure is an answer: type1v2 falls back
		// to type1, and a container without an IOMMU is one to set up.
		bool undo = req == VFIO_IOMMU_UNMAP_DMA || req == VFIO_GROUP_UNSET_CONTAINER;
		bool probe =
			req == VFIO_CHECK_EXTENSION || (req == VFIO_IOMMU_GET_INFO && !iommu_set);
		if (!undo && !probe && fail())
			return fail_errno;
		if (!open_fds.count(fd))
			return -EBADF;
		auto e = ioctl_errno.find(req);
		if (e != ioctl_errno.end())
			return e->second;
		switch (req) {
		case VFIO_GET_API_VERSION:
			return VFIO_API_VERSION;
		case VFIO_CHECK_EXTENSION:
			return type1 ? 1 : 0;
		case VFIO_GROUP_GET_STATUS:
			static_cast<vfio_group_status *>(arg)->flags =
				viable ? VFIO_GROUP_FLAGS_VIABLE : 0;
			return 0;
		case VFIO_GROUP_SET_CONTAINER:
			return 0;
		case VFIO_GROUP_UNSET_CONTAINER: // the one group leaves: the IOMMU goes with it
			iommu_set = false;
			return 0;
		case VFIO_SET_IOMMU:
			iommu_set = true;
			return 0;
		case VFIO_GROUP_GET_DEVICE_FD:
			open_fds.insert(next_fd);
			return next_fd++;
		case VFIO_IOMMU_GET_INFO:
			if (!iommu_set)
				return -EINVAL;
			return get_info(static_cast<vfio_iommu_type1_info *>(arg));
		case VFIO_IOMMU_MAP_DMA:
			return map(static_cast<vfio_iommu_type1_dma_map *>(arg));
		case VFIO_IOMMU_UNMAP_DMA:
			return unmap(static_cast<vfio_iommu_type1_dma_unmap *>(arg));
		case VFIO_DEVICE_GET_REGION_INFO: {
			auto *ri = static_cast<vfio_region_info *>(arg);
			ri->flags = VFIO_REGION_INFO_FLAG_MMAP;
			ri->size = ri->index == VFIO_PCI_CONFIG_REGION_INDEX ? 256 : 4096;
			ri->offset = 0;
			return 0;
		}
		default:
			return -ENOTTY;
		}
	}
};

struct Vfio : ::testing::Test {
	FakeVfio fake;
	sgt_test_alloc alloc;
	sgt_vfio_params params{};
	alignas(4096) static inline uint8_t buf[64 * 4096];
	alignas(4096) static inline uint8_t other_buf[4 * 4096];

	void SetUp() override
	{
		sgt_test_alloc_init(&alloc);
		params.sys = &fake.sys;
		params.alloc = &alloc.alloc;
		params.sysfs = "/fake/sys";
		params.dev_dir = "/fake/dev";
	}

	// Nothing open, nothing mapped, nothing allocated.
	void expect_clean()
	{
		EXPECT_TRUE(fake.open_fds.empty()) << fake.open_fds.size() << " fds left open";
		EXPECT_TRUE(fake.maps.empty()) << fake.maps.size() << " IOVA ranges left mapped";
		EXPECT_TRUE(fake.mmaps.empty());
		EXPECT_EQ(0u, sgt_test_alloc_live(&alloc)) << "allocations leaked";
		EXPECT_EQ(65535u, fake.dma_avail);
	}

	// A container with the device open in it (the fake's one group).
	void open_both(sgt_vfio_container **c, sgt_vfio_device **d,
		       const sgt_device_params *dp = nullptr)
	{
		ASSERT_EQ(0, sgt_vfio_container_open(&params, c));
		ASSERT_EQ(0, sgt_vfio_device_open(*c, kAddr, dp, d));
	}

	void close_both(sgt_vfio_container *c, sgt_vfio_device *d)
	{
		EXPECT_EQ(0u, sgt_vfio_device_close(d));
		EXPECT_EQ(0, sgt_vfio_container_close(c));
	}

	/*
	 * The life cycle the sweeps fail at every step: open, register, map a 4-run table per
	 * table and drop it, map BAR0, enable bus mastering; then tear down what succeeded.
	 * Returns the first error.
	 */
	int life_cycle()
	{
		sgt_vfio_container *c = nullptr;
		sgt_vfio_device *d = nullptr;
		int err = sgt_vfio_container_open(&params, &c);
		if (!err)
			err = sgt_vfio_device_open(c, kAddr, nullptr, &d);
		bool registered =
			!err && !(err = sgt_vfio_register(c, buf, 16 * kPs, UINT64_MAX, nullptr));
		sgt_table t;
		if (!err && !(err = scattered(&t, 4, 20))) {
			sgt_mapping m;
			err = sgt_table_map(&t, sgt_vfio_dev(d, SGT_VFIO_PER_TABLE),
					    SGT_DMA_BIDIRECTIONAL, 0, &m, SGT_MAY_SLEEP);
			if (!err)
				sgt_mapping_cleanup(&m);
			else
				sgt_table_cleanup(&t);
		}
		void *bar = nullptr;
		size_t len = 0;
		if (!err &&
		    !(err = sgt_vfio_region_map(d, VFIO_PCI_BAR0_REGION_INDEX, &bar, &len))) {
			sgt_vfio_region_unmap(d, bar, len);
			err = sgt_vfio_enable_bus_master(d);
		}
		if (registered) {
			EXPECT_EQ(0, sgt_vfio_unregister(c, buf));
		}
		EXPECT_EQ(0u, sgt_vfio_device_close(d));
		EXPECT_EQ(0, sgt_vfio_container_close(c));
		return err;
	}

	// Map @t to the device per table, to-device: the mapping most tests make.
	static int map_to_device(sgt_table *t, sgt_vfio_device *d, sgt_mapping *m)
	{
		return sgt_table_map(t, sgt_vfio_dev(d, SGT_VFIO_PER_TABLE), SGT_DMA_TO_DEVICE, 0,
				     m, SGT_MAY_SLEEP);
	}

	// A table of @n single pages two pages apart: no two runs merge.
	int scattered(sgt_table *t, unsigned n, unsigned first = 0)
	{
		int err = sgt_table_init(t, nullptr);
		for (unsigned k = 0; k < n && !err; k++) {
			uint64_t pfn = (reinterpret_cast<uintptr_t>(buf) >> 12) + first + 2 * k;
			sgt_pages pg;
			sgt_pages_from_array(&pg, &pfn, 1);
			err = sgt_table_append_pages(t, &pg, 0, kPs, kPs, SGT_MAY_SLEEP);
		}
		return err;
	}
};

TEST_F(Vfio, OpensReadsTheRangesAndClosesClean)
{
	sgt_vfio_container *c;
	sgt_vfio_device *d;
	open_both(&c, &d);
	if (HasFatalFailure())
		return;
	sgt_vfio_info info;
	ASSERT_EQ(0, sgt_vfio_get_info(c, &info));
	EXPECT_EQ(2u, info.num_ranges);
	EXPECT_EQ(65535u, info.dma_avail);
	EXPECT_EQ((uint32_t)VFIO_TYPE1v2_IOMMU, info.type);
	sgt_dma_window w;
	ASSERT_EQ(0, sgt_vfio_range(c, 0, &w));
	EXPECT_EQ(0x1000u, w.start) << "IOVA 0 is never handed out";
	ASSERT_EQ(0, sgt_vfio_range(c, 1, &w));
	EXPECT_EQ(0xfef00000u, w.start);
	EXPECT_EQ(-SGT_EINVAL, sgt_vfio_range(c, 2, &w));
	ASSERT_EQ(0, sgt_vfio_enable_bus_master(d));
	EXPECT_TRUE(fake.command & PCI_COMMAND_MASTER);
	EXPECT_EQ(-SGT_EBUSY, sgt_vfio_container_close(c)) << "a device is open";
	close_both(c, d);
	expect_clean();
}

// Per table: one IOVA range laid out as iommu-dma lays it out, one MAP_DMA per run, and unmap
// removes exactly that; registered: a translation with no system call.
TEST_F(Vfio, MapsPerTableAndThroughRegisteredMemory)
{
	sgt_vfio_container *c;
	sgt_vfio_device *d;
	open_both(&c, &d);
	if (HasFatalFailure())
		return;
	sgt_table t;
	ASSERT_EQ(0, scattered(&t, 4));
	sgt_mapping m;
	ASSERT_EQ(0, map_to_device(&t, d, &m));
	EXPECT_EQ(4u, fake.maps.size()) << "four runs";
	uint32_t n;
	ASSERT_EQ(0, sgt_dma_info(&m.dma, &n));
	EXPECT_EQ(1u, n) << "whole pages, laid out back to back: the IOMMU merges them";
	ASSERT_EQ(0, sgt_mapping_unmap(&m, &t));
	EXPECT_TRUE(fake.maps.empty());

	uint64_t iova;
	ASSERT_EQ(0, sgt_vfio_register(c, buf, sizeof(buf), UINT64_MAX, &iova));
	size_t maps_before = fake.maps.size();
	uint64_t calls_before = fake.calls;
	ASSERT_EQ(0, sgt_table_map(&t, sgt_vfio_dev(d, SGT_VFIO_REGISTERED), SGT_DMA_TO_DEVICE, 0,
				   &m, SGT_MAY_SLEEP));
	EXPECT_EQ(maps_before, fake.maps.size());
	EXPECT_EQ(calls_before, fake.calls) << "a translation: no system call";
	sgt_dma_iter it;
	ASSERT_EQ(0, sgt_dma_iter_init(&it, &m.dma));
	ASSERT_TRUE(sgt_dma_iter_next(&it));
	EXPECT_EQ(iova, it.dma_addr);
	sgt_mapping_cleanup(&m);
	EXPECT_EQ(-SGT_EBUSY, sgt_vfio_container_close(c)) << "a buffer is registered";
	ASSERT_EQ(0, sgt_vfio_unregister(c, buf));
	EXPECT_EQ(-SGT_EINVAL, sgt_vfio_unregister(c, buf));
	close_both(c, d);
	expect_clean();
}

TEST_F(Vfio, RegisteredMapsRefuseWhatIsNotRegisteredOrNotReachable)
{
	sgt_vfio_container *c;
	sgt_vfio_device *d;
	sgt_device_params p{};
	p.dma_mask = 0xffffff;
	ASSERT_EQ(0, sgt_vfio_container_open(&params, &c));
	ASSERT_EQ(0, sgt_vfio_device_open(c, kAddr, &p, &d));
	sgt_table t;
	ASSERT_EQ(0, scattered(&t, 2));
	sgt_mapping m;
	EXPECT_EQ(-SGT_EINVAL, sgt_table_map(&t, sgt_vfio_dev(d, SGT_VFIO_REGISTERED),
					     SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	EXPECT_NE(nullptr, strstr(sgt_vfio_last_error(c), "not in a registered buffer"));
	// registered above the device's mask: refused with the fix in the message
	fake.ranges = { { 0x10000000, 0x7fffffffff } };
	sgt_vfio_container *c2;
	sgt_vfio_device *d2;
	ASSERT_EQ(0, sgt_vfio_device_close(d));
	ASSERT_EQ(0, sgt_vfio_container_close(c));
	ASSERT_EQ(0, sgt_vfio_container_open(&params, &c2));
	ASSERT_EQ(0, sgt_vfio_device_open(c2, kAddr, &p, &d2));
	ASSERT_EQ(0, sgt_vfio_register(c2, buf, sizeof(buf), UINT64_MAX, nullptr));
	EXPECT_EQ(-SGT_ERANGE, sgt_table_map(&t, sgt_vfio_dev(d2, SGT_VFIO_REGISTERED),
					     SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	EXPECT_NE(nullptr, strstr(sgt_vfio_last_error(c2), "DMA mask"));
	EXPECT_EQ(0, sgt_cpu_check(&t.cpu)) << "the table is as it was";
	EXPECT_EQ(-SGT_ENOSPC, sgt_vfio_register(c2, other_buf, kPs, 0xffffff, nullptr))
		<< "no range under that mask";
	EXPECT_EQ(-SGT_EINVAL, sgt_vfio_register(c2, buf, kPs, UINT64_MAX, nullptr)) << "overlap";
	EXPECT_EQ(-SGT_EINVAL, sgt_vfio_register(c2, buf + 1, kPs, UINT64_MAX, nullptr));
	ASSERT_EQ(0, sgt_vfio_unregister(c2, buf));
	sgt_table_cleanup(&t);
	EXPECT_EQ(0u, sgt_vfio_device_close(d2));
	EXPECT_EQ(0, sgt_vfio_container_close(c2));
	fake.dma_avail = 65535;
	expect_clean();
}

// The errors users of VFIO meet: each a clear code and a message naming the cause and the fix.
struct OpenCase {
	const char *name;
	void (*setup)(FakeVfio &);
	int err;
	const char *msg;
};

TEST_F(Vfio, EachWayOpeningFailsIsExplained)
{
	const OpenCase cases[] = {
		{ "no IOMMU group", [](FakeVfio &f) { f.readlink_errno = -ENOENT; },
		  -SGT_EOPNOTSUPP, "intel_iommu=on" },
		{ "group not viable", [](FakeVfio &f) { f.viable = false; }, -SGT_EOPNOTSUPP,
		  "not viable" },
		{ "no permission on the group", [](FakeVfio &f) { f.group_open_errno = -EACCES; },
		  -SGT_EFAULT, "permission" },
		{ "not bound to vfio-pci", [](FakeVfio &f) { f.group_open_errno = -ENOENT; },
		  -SGT_EOPNOTSUPP, "vfio-pci" },
		{ "no interrupt remapping",
		  [](FakeVfio &f) { f.ioctl_errno[VFIO_SET_IOMMU] = -EPERM; }, -SGT_EOPNOTSUPP,
		  "allow_unsafe_interrupts" },
	};
	for (const OpenCase &oc : cases) {
		FakeVfio f;
		params.sys = &f.sys;
		oc.setup(f);
		sgt_vfio_container *c;
		sgt_vfio_device *d = nullptr;
		ASSERT_EQ(0, sgt_vfio_container_open(&params, &c)) << oc.name;
		EXPECT_EQ(oc.err, sgt_vfio_device_open(c, kAddr, nullptr, &d)) << oc.name;
		EXPECT_NE(nullptr, strstr(sgt_vfio_last_error(c), oc.msg))
			<< oc.name << ": " << sgt_vfio_last_error(c);
		EXPECT_EQ(nullptr, d);
		EXPECT_EQ(0, sgt_vfio_container_close(c));
		EXPECT_TRUE(f.open_fds.empty()) << oc.name;
	}
	FakeVfio f;
	f.type1 = false;
	params.sys = &f.sys;
	sgt_vfio_container *c;
	EXPECT_EQ(-SGT_EOPNOTSUPP, sgt_vfio_container_open(&params, &c));
	EXPECT_NE(nullptr, strstr(sgt_vfio_last_error(nullptr), "vfio_iommu_type1"));
	params.dev_dir = "/nonexistent";
	EXPECT_EQ(-SGT_EOPNOTSUPP, sgt_vfio_container_open(&params, &c));
	EXPECT_NE(nullptr, strstr(sgt_vfio_last_error(nullptr), "modprobe vfio-pci"));
	EXPECT_TRUE(f.open_fds.empty());
	EXPECT_EQ(0u, sgt_test_alloc_live(&alloc));
}

struct MapCase {
	int kernel_errno;
	int err;
	const char *msg;
};

// A map that fails half way (the third of four runs): what was mapped is unmapped, the IOVA is
// free again, the table is usable, and the message names the cause.
TEST_F(Vfio, AMapThatFailsHalfWayLeavesNothingAndSaysWhy)
{
	const MapCase cases[] = { { -ENOMEM, -SGT_ENOMEM, "ulimit -l" },
				  { -ENOSPC, -SGT_ENOSPC, "dma_entry_limit" },
				  { -EEXIST, -SGT_EBUSY, "overlaps" },
				  { -EINVAL, -SGT_ERANGE, "usable ranges" },
				  { -EFAULT, -SGT_EFAULT, "not mapped in this process" } };
	sgt_vfio_container *c;
	sgt_vfio_device *d;
	open_both(&c, &d);
	if (HasFatalFailure())
		return;
	for (const MapCase &mc : cases) {
		sgt_table t;
		ASSERT_EQ(0, scattered(&t, 4));
		fake.fail_errno = mc.kernel_errno;
		fake.calls = 0;
		fake.fail_at = 3; // the third MAP_DMA: the map makes no other call before it
		sgt_mapping m;
		EXPECT_EQ(mc.err, map_to_device(&t, d, &m));
		fake.fail_at = 0;
		EXPECT_NE(nullptr, strstr(sgt_vfio_last_error(c), mc.msg))
			<< sgt_vfio_last_error(c);
		EXPECT_TRUE(fake.maps.empty()) << "the two runs mapped before were unmapped";
		EXPECT_EQ(0, sgt_cpu_check(&t.cpu));
		ASSERT_EQ(0, map_to_device(&t, d, &m)) << "usable again";
		sgt_mapping_cleanup(&m);
	}
	close_both(c, d);
	expect_clean();
}

// An unmap that removes something else than was mapped is reported, and that IOVA range is
// never handed out again (it may still be mapped in the kernel).
TEST_F(Vfio, AnInexactUnmapIsReportedAndItsIovaNotReused)
{
	sgt_vfio_container *c;
	sgt_vfio_device *d;
	open_both(&c, &d);
	if (HasFatalFailure())
		return;
	sgt_table t;
	ASSERT_EQ(0, scattered(&t, 1));
	sgt_mapping m;
	ASSERT_EQ(0, map_to_device(&t, d, &m));
	sgt_dma_iter it;
	ASSERT_EQ(0, sgt_dma_iter_init(&it, &m.dma));
	ASSERT_TRUE(sgt_dma_iter_next(&it));
	uint64_t first = it.dma_addr;
	fake.short_unmap = true;
	ASSERT_EQ(0, sgt_mapping_unmap(&m, &t));
	fake.short_unmap = false;
	EXPECT_NE(nullptr, strstr(sgt_vfio_last_error(c), "UNMAP_DMA"));
	ASSERT_EQ(0, map_to_device(&t, d, &m));
	ASSERT_EQ(0, sgt_dma_iter_init(&it, &m.dma));
	ASSERT_TRUE(sgt_dma_iter_next(&it));
	EXPECT_NE(first, it.dma_addr);
	sgt_mapping_cleanup(&m);
	close_both(c, d);
}

// Every system call of a whole life cycle fails once in turn: each failure is an error, and
// after the cleanup of what succeeded nothing is open, mapped or allocated.
TEST_F(Vfio, EverySystemCallFailingAtEveryStepLeaksNothing)
{
	uint64_t points = 0;
	for (uint64_t n = 1; n < 500; n++) {
		FakeVfio f;
		params.sys = &f.sys;
		f.fail_at = n;
		int err = life_cycle();
		bool failed = f.calls >= n;
		EXPECT_TRUE(f.open_fds.empty()) << "call " << n;
		EXPECT_TRUE(f.maps.empty()) << "call " << n;
		EXPECT_TRUE(f.mmaps.empty()) << "call " << n;
		EXPECT_EQ(0u, sgt_test_alloc_live(&alloc)) << "call " << n;
		if (!failed) {
			EXPECT_EQ(0, err);
			break;
		}
		EXPECT_NE(0, err) << "call " << n << " failed, and nobody said so";
		points++;
	}
	EXPECT_GT(points, 12u) << "the life cycle makes that many system calls";
	RecordProperty("failure_points", (int)points);
}

// Every allocation of the same life cycle fails once in turn.
TEST_F(Vfio, EveryAllocationFailingLeaksNothing)
{
	uint64_t points = 0;
	for (uint64_t n = 1; n < 200; n++) {
		sgt_test_alloc_init(&alloc);
		alloc.fail_at = n;
		int err = life_cycle();
		bool failed = alloc.num_attempts >= n;
		alloc.fail_at = 0;
		EXPECT_EQ(0u, sgt_test_alloc_live(&alloc)) << "allocation " << n;
		EXPECT_TRUE(fake.open_fds.empty()) << "allocation " << n;
		EXPECT_TRUE(fake.maps.empty()) << "allocation " << n;
		if (!failed) {
			EXPECT_EQ(0, err);
			break;
		}
		EXPECT_EQ(-SGT_ENOMEM, err) << "allocation " << n;
		points++;
	}
	EXPECT_GT(points, 5u);
	RecordProperty("failure_points", (int)points);
}

// A registered buffer whose IOVAs a live mapping still uses cannot go: its IOVAs could be handed
// to another buffer while the device still has them.
TEST_F(Vfio, ARegisteredBufferInUseCannotBeUnregistered)
{
	sgt_vfio_container *c;
	sgt_vfio_device *d;
	open_both(&c, &d);
	if (HasFatalFailure())
		return;
	ASSERT_EQ(0, sgt_vfio_register(c, buf, sizeof(buf), UINT64_MAX, nullptr));
	sgt_table t;
	ASSERT_EQ(0, scattered(&t, 3));
	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&t, sgt_vfio_dev(d, SGT_VFIO_REGISTERED), SGT_DMA_TO_DEVICE, 0,
				   &m, SGT_MAY_SLEEP));
	size_t maps = fake.maps.size();
	EXPECT_EQ(-SGT_EBUSY, sgt_vfio_unregister(c, buf));
	EXPECT_NE(nullptr, strstr(sgt_vfio_last_error(c), "unmap them first"));
	EXPECT_EQ(maps, fake.maps.size()) << "still mapped";
	ASSERT_EQ(0, sgt_mapping_unmap(&m, &t));
	EXPECT_EQ(0, sgt_vfio_unregister(c, buf)) << "free once the mapping is gone";
	sgt_table_cleanup(&t);
	close_both(c, d);
	expect_clean();
}

// A container someone else opened: before its IOMMU is set, sgt sets it with the first device;
// after, sgt takes over the IOVA ranges. sgt never closes the caller's fd.
TEST_F(Vfio, AdoptsAContainerWithOrWithoutItsIommuSet)
{
	int fd = fake.open("/fake/dev/vfio");
	sgt_vfio_container *c;
	sgt_vfio_device *d;
	sgt_vfio_info info;
	ASSERT_EQ(0, sgt_vfio_container_adopt(&params, fd, &c));
	ASSERT_EQ(0, sgt_vfio_get_info(c, &info));
	EXPECT_EQ(0u, info.num_ranges) << "no IOMMU yet";
	EXPECT_EQ(-SGT_EINVAL, sgt_vfio_register(c, buf, kPs, UINT64_MAX, nullptr));
	ASSERT_EQ(0, sgt_vfio_device_open(c, kAddr, nullptr, &d));
	ASSERT_EQ(0, sgt_vfio_get_info(c, &info));
	EXPECT_EQ(2u, info.num_ranges);

	sgt_vfio_container *c2;
	ASSERT_EQ(0, sgt_vfio_container_adopt(&params, fd, &c2)) << "its IOMMU is set now";
	ASSERT_EQ(0, sgt_vfio_get_info(c2, &info));
	EXPECT_EQ(2u, info.num_ranges);
	EXPECT_EQ(0u, info.type) << "the type is the owner's, which VFIO does not tell";
	uint64_t iova;
	ASSERT_EQ(0, sgt_vfio_register(c2, buf, kPs, UINT64_MAX, &iova));
	EXPECT_GE(iova, 0x1000u);
	ASSERT_EQ(0, sgt_vfio_unregister(c2, buf));
	EXPECT_EQ(0, sgt_vfio_container_close(c2));
	close_both(c, d);
	EXPECT_EQ(1u, fake.open_fds.count(fd)) << "the caller's fd stays open";
	fake.close(fd);
	expect_clean();
}

// Several threads mapping and unmapping on one container: the IOVA allocator is shared, and
// the fake refuses overlapping mappings, so a race would show as -SGT_EBUSY.
TEST_F(Vfio, ThreadsMapOnOneContainerAtOnce)
{
	params.alloc = nullptr; // the counting allocator is not for threads
	sgt_vfio_container *c;
	sgt_vfio_device *d;
	open_both(&c, &d);
	if (HasFatalFailure())
		return;
	std::atomic<int> failures{ 0 };
	std::vector<std::thread> threads;
	for (int k = 0; k < 4; k++)
		threads.emplace_back([&, k] {
			for (int i = 0; i < 200; i++) {
				sgt_table t;
				sgt_mapping m;
				if (scattered(&t, 1 + (unsigned)(i % 5), (unsigned)k) ||
				    map_to_device(&t, d, &m)) {
					failures++;
					continue;
				}
				sgt_mapping_cleanup(&m);
			}
		});
	for (auto &th : threads)
		th.join();
	EXPECT_EQ(0, failures.load());
	EXPECT_TRUE(fake.maps.empty());
	EXPECT_EQ(0u, sgt_vfio_device_close(d));
	EXPECT_EQ(0, sgt_vfio_container_close(c));
}

TEST_F(Vfio, BadArgumentsAreRefused)
{
	sgt_vfio_container *c;
	sgt_vfio_device *d;
	EXPECT_EQ(-SGT_EINVAL, sgt_vfio_container_open(&params, nullptr));
	EXPECT_EQ(-SGT_EINVAL, sgt_vfio_container_adopt(&params, -1, &c));
	ASSERT_EQ(0, sgt_vfio_container_open(&params, &c));
	EXPECT_EQ(-SGT_EINVAL, sgt_vfio_device_open(c, nullptr, nullptr, &d));
	EXPECT_EQ(-SGT_EINVAL, sgt_vfio_device_open(nullptr, kAddr, nullptr, &d));
	EXPECT_EQ(nullptr, sgt_vfio_dev(nullptr, SGT_VFIO_PER_TABLE));
	EXPECT_EQ(-SGT_EINVAL, sgt_vfio_get_info(nullptr, nullptr));
	EXPECT_EQ(-SGT_EINVAL, sgt_vfio_register(c, buf, kPs, UINT64_MAX, nullptr))
		<< "no IOMMU set yet: no device opened";
	ASSERT_EQ(0, sgt_vfio_device_open(c, kAddr, nullptr, &d));
	EXPECT_EQ(nullptr, sgt_vfio_dev(d, (sgt_vfio_mode)2));
	EXPECT_EQ(-SGT_EINVAL, sgt_vfio_register(c, nullptr, kPs, UINT64_MAX, nullptr));
	EXPECT_EQ(-SGT_EINVAL, sgt_vfio_register(c, buf, 0, UINT64_MAX, nullptr));
	EXPECT_EQ(-SGT_EINVAL, sgt_vfio_unregister(nullptr, buf));
	sgt_table t;
	EXPECT_EQ(-SGT_EINVAL, sgt_vfio_table_from_buffer(&t, nullptr, 1, kPs, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_EINVAL, sgt_vfio_table_from_buffer(&t, buf, 0, kPs, SGT_MAY_SLEEP));
	ASSERT_EQ(0, sgt_vfio_table_from_buffer(&t, buf + 100, 3 * kPs, 64 * 1024, SGT_MAY_SLEEP));
	uint32_t n;
	uint64_t total;
	ASSERT_EQ(0, sgt_cpu_info(&t.cpu, &n, &total));
	EXPECT_EQ(1u, n) << "virtually contiguous pages merge";
	EXPECT_EQ(3 * kPs, total);
	// a table from another memory domain: frames are not virtual addresses
	sgt_test_mem mem;
	ASSERT_EQ(0, sgt_test_mem_init(&mem, 12, 0x1000, 4));
	sgt_table_params tp{};
	tp.mem = &mem.mem;
	sgt_table other;
	uint64_t pfn = 0x1000;
	sgt_pages pg;
	sgt_pages_from_array(&pg, &pfn, 1);
	ASSERT_EQ(0, sgt_table_init_from_pages(&other, &tp, &pg, 0, kPs, kPs, SGT_MAY_SLEEP));
	sgt_mapping m;
	for (int mode = 0; mode < 2; mode++)
		EXPECT_EQ(-SGT_EINVAL, sgt_table_map(&other, sgt_vfio_dev(d, (sgt_vfio_mode)mode),
						     SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	sgt_table_cleanup(&other);
	sgt_test_mem_cleanup(&mem);
	sgt_table_cleanup(&t);
	close_both(c, d);
	expect_clean();
}

} // namespace
