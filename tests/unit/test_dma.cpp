// SPDX-License-Identifier: MIT
// The DMA side: mapped handles, the raw DMA API, the core's DMA-API debug layer and result
// checks, and the simulated IOMMU's modes, faults and fault injection.
#include "helpers.hpp"

#include <atomic>
#include <functional>
#include <thread>

#include "sgt/simiommu.h"

using namespace sgt_test;

namespace {

const char *mode_name(sgt_simiommu_mode m)
{
	return m == SGT_SIMIOMMU_IOMMU ? "iommu" : m == SGT_SIMIOMMU_DIRECT ? "direct" : "bounce";
}

class Dma : public SgtTest {
    protected:
	sgt_simiommu *sim_ = nullptr;
	sgt_device *dev_ = nullptr;

	void make(sgt_simiommu_mode mode, sgt_device_params dp = {}, uint64_t max_mappings = 0,
		  sgt_dma_window window = {})
	{
		if (sim_) {
			EXPECT_EQ(0u, sgt_simiommu_free(sim_));
		}
		sgt_simiommu_params p{};
		p.mode = mode;
		p.mem = &mem_.mem;
		p.device = dp;
		p.iova_window = window;
		p.reserve_msi = true;
		p.max_mappings = max_mappings;
		ASSERT_EQ(0, sgt_simiommu_new(&p, &sim_));
		dev_ = sgt_simiommu_device(sim_);
		sgt_dma_debug_params dbg{};
		dbg.on_report = on_report;
		dbg.ctx = &seen_;
		ASSERT_EQ(0, sgt_dma_debug_enable(dev_, &dbg));
	}
	// Every report the debug layer passed to its callback, kind and message, in order; kept
	// here so that reports made while a device is torn down can still be read.
	std::vector<std::pair<sgt_dma_report_kind, std::string>> seen_;
	static void on_report(void *ctx, const sgt_device *, sgt_dma_report_kind kind,
			      const char *msg)
	{
		static_cast<decltype(seen_) *>(ctx)->push_back({ kind, msg });
	}
	void TearDown() override
	{
		if (sim_) {
			EXPECT_EQ(0u, sgt_simiommu_free(sim_)) << "mappings leaked";
		}
		SgtTest::TearDown();
	}
	uint64_t reports() { return sgt_dma_debug_num_reports(dev_); }
	void expect_consistent()
	{
		const char *why = nullptr;
		EXPECT_EQ(0, sgt_simiommu_check(sim_, &why)) << why;
	}
	uint64_t count(sgt_dma_report_kind k) { return sgt_dma_debug_count(dev_, k); }
	std::string first_report()
	{
		const char *m = sgt_dma_debug_msg(dev_, 0);
		return m ? m : "(none)";
	}

	// Everything the device sees through the DMA segments, in order.
	std::vector<uint8_t> device_read_all(const sgt_dma *d)
	{
		std::vector<uint8_t> out;
		sgt_dma_iter it;
		EXPECT_EQ(0, sgt_dma_iter_init(&it, d));
		while (sgt_dma_iter_next(&it)) {
			std::vector<uint8_t> seg(it.dma_len);
			EXPECT_EQ(0, sgt_simiommu_dma_read(sim_, it.dma_addr, seg.data(), seg.size()))
				<< std::hex << it.dma_addr;
			out.insert(out.end(), seg.begin(), seg.end());
		}
		return out;
	}
	void device_write_all(const sgt_dma *d, const std::vector<uint8_t> &data)
	{
		sgt_dma_iter it;
		size_t at = 0;
		ASSERT_EQ(0, sgt_dma_iter_init(&it, d));
		while (sgt_dma_iter_next(&it)) {
			ASSERT_EQ(0, sgt_simiommu_dma_write(sim_, it.dma_addr, data.data() + at,
							     it.dma_len));
			at += it.dma_len;
		}
		ASSERT_EQ(data.size(), at);
	}
	std::vector<uint8_t> cpu_bytes(const sgt_cpu *c)
	{
		uint64_t total = 0;
		EXPECT_EQ(0, sgt_cpu_info(c, nullptr, &total));
		std::vector<uint8_t> out(total);
		size_t n;
		EXPECT_EQ(0, sgt_copy_to_buffer(c, 0, out.data(), out.size(), &n));
		return out;
	}
	static std::vector<uint8_t> pattern(size_t n, uint8_t seed)
	{
		std::vector<uint8_t> v(n);
		for (size_t i = 0; i < n; i++)
			v[i] = (uint8_t)(seed + i * 7 + (i >> 8));
		return v;
	}
	// Scattered pages, odd first offset, short last page, entries within 64 KiB.
	void build(sgt_table *t)
	{
		ASSERT_EQ(0, from_pages(t, { 0x1010, 0x1011, 0x1020, 0x1030, 0x1031, 0x1032, 0x1040 },
					100, 7 * kPs - 100 - 33, 65536));
	}
};

class DmaModes : public Dma, public ::testing::WithParamInterface<sgt_simiommu_mode> {
};

TEST_P(DmaModes, RoundTripThroughTheDevice)
{
	make(GetParam());
	sgt_table t;
	build(&t);
	auto cpu_in = pattern(7 * kPs - 133, 1);
	size_t n;
	ASSERT_EQ(0, sgt_copy_from_buffer(&t.cpu, 0, cpu_in.data(), cpu_in.size(), &n));
	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_BIDIRECTIONAL, 0, &m, SGT_MAY_SLEEP));
	ASSERT_EQ(0, sgt_dma_sync_for_device(&m.dma));
	const sgt_sg_table *raw;
	ASSERT_EQ(0, sgt_cpu_sg_table(&m.dma.cpu, &raw));
	const char *why = nullptr;
	EXPECT_EQ(0, sgt_dma_check_segments(raw, &dev_->params, &why)) << why;
	EXPECT_EQ(cpu_in, device_read_all(&m.dma)) << "device reads the CPU bytes";

	auto dev_out = pattern(cpu_in.size(), 99);
	device_write_all(&m.dma, dev_out);
	ASSERT_EQ(0, sgt_dma_sync_for_cpu(&m.dma));
	EXPECT_EQ(dev_out, cpu_bytes(&m.dma.cpu)) << "CPU sees the device's bytes";

	ASSERT_EQ(0, sgt_mapping_unmap(&m, &t));
	EXPECT_EQ(dev_out, cpu_bytes(&t.cpu));
	EXPECT_EQ(0u, reports()) << first_report();
	EXPECT_EQ(0u, sgt_simiommu_num_faults(sim_));
	expect_consistent();
	sgt_table_cleanup(&t);
}

TEST_P(DmaModes, DropUnmapsAndFrees)
{
	make(GetParam());
	sgt_table t;
	build(&t);
	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	EXPECT_EQ(1u, sgt_simiommu_live_mappings(sim_));
	uint64_t first = 0;
	sgt_dma_iter it;
	ASSERT_EQ(0, sgt_dma_iter_init(&it, &m.dma));
	ASSERT_TRUE(sgt_dma_iter_next(&it));
	first = it.dma_addr;
	sgt_mapping_cleanup(&m);
	EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim_));
	uint8_t b;
	EXPECT_EQ(-SGT_EFAULT, sgt_simiommu_dma_read(sim_, first, &b, 1))
		<< "the device lost access when the mapping was dropped";
	sgt_mapping_cleanup(&m); // twice: a no-op
	EXPECT_EQ(0u, reports()) << first_report();
}

INSTANTIATE_TEST_SUITE_P(AllModes, DmaModes,
			 ::testing::Values(SGT_SIMIOMMU_IOMMU, SGT_SIMIOMMU_DIRECT,
					   SGT_SIMIOMMU_BOUNCE),
			 [](const auto &p) { return std::string(mode_name(p.param)); });

// ---- iommu layout: the Linux merge rules ----

std::vector<std::pair<uint64_t, uint32_t>> segments(const sgt_dma *d)
{
	std::vector<std::pair<uint64_t, uint32_t>> out;
	sgt_dma_iter it;
	EXPECT_EQ(0, sgt_dma_iter_init(&it, d));
	while (sgt_dma_iter_next(&it))
		out.push_back({ it.dma_addr, it.dma_len });
	return out;
}

TEST_F(Dma, IommuMergesEntriesThatBecomeContiguous)
{
	make(SGT_SIMIOMMU_IOMMU);
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1000, 0x1005, 0x1009 }, 100, 3 * kPs - 100));
	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	auto s = segments(&m.dma);
	ASSERT_EQ(1u, s.size()) << "three scattered pages, one IOVA range, one DMA segment";
	EXPECT_EQ(3 * kPs - 100, s[0].second);
	EXPECT_EQ(100u, s[0].first % kPs) << "the in-page offset is kept";
	uint32_t n;
	ASSERT_EQ(0, sgt_dma_info(&m.dma, &n));
	EXPECT_EQ(1u, n);
	sgt_mapping_cleanup(&m);
}

TEST_F(Dma, IommuMergeStopsAtMaxSegmentAndAtPartialPages)
{
	sgt_device_params dp{};
	dp.max_segment_size = 8192;
	make(SGT_SIMIOMMU_IOMMU, dp);
	sgt_table t;
	ASSERT_EQ(0, sgt_table_init(&t, &params_));
	ASSERT_EQ(0, append(&t, { 0x1000 }, 0, kPs));
	ASSERT_EQ(0, append(&t, { 0x1005 }, 0, kPs));
	ASSERT_EQ(0, append(&t, { 0x1009 }, 0, kPs));
	ASSERT_EQ(0, append(&t, { 0x1010 }, 0, 1000)); // ends mid-page: nothing can follow it
	ASSERT_EQ(0, append(&t, { 0x1020 }, 0, kPs));
	ASSERT_EQ(0, append(&t, { 0x1030 }, 100, 200)); // starts mid-page: cannot continue one
	sgt_test_mem_fill(&mem_, 5);
	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	auto s = segments(&m.dma);
	ASSERT_EQ(4u, s.size());
	EXPECT_EQ(8192u, s[0].second) << "two pages, then max_segment";
	EXPECT_EQ(4096u + 1000, s[1].second);
	EXPECT_EQ(4096u, s[2].second) << "a partial page ends a segment";
	EXPECT_EQ(200u, s[3].second) << "a segment starting mid-page starts a new one";
	EXPECT_EQ(100u, s[3].first % kPs);
	EXPECT_EQ(cpu_bytes(&m.dma.cpu), device_read_all(&m.dma)) << "no gap inside a segment";
	sgt_mapping_cleanup(&m);
}

TEST_F(Dma, IommuPadsSoNoSegmentCrossesTheBoundary)
{
	sgt_device_params dp{};
	dp.seg_boundary_mask = 0x3fff; // 16 KiB
	dp.max_segment_size = 16384;
	make(SGT_SIMIOMMU_IOMMU, dp);
	sgt_table t;
	ASSERT_EQ(0, sgt_table_init(&t, &params_));
	// Three-page spans: the second would run across the 16 KiB line, so it is padded past it.
	for (uint64_t pfn : { 0x1000, 0x1004, 0x1008, 0x100c, 0x1010 })
		ASSERT_EQ(0, append(&t, { pfn, pfn + 1, pfn + 2 }, 0, 2 * kPs + 5));
	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_BIDIRECTIONAL, 0, &m, SGT_MAY_SLEEP));
	const sgt_sg_table *raw;
	ASSERT_EQ(0, sgt_cpu_sg_table(&m.dma.cpu, &raw));
	const char *why = nullptr;
	EXPECT_EQ(0, sgt_dma_check_segments(raw, &dev_->params, &why)) << why;
	EXPECT_EQ(0u, reports()) << first_report();
	sgt_mapping_cleanup(&m);
}

// ---- direct and bounce specifics ----

TEST_F(Dma, DirectAddressesAreCpuAddressesAndTheMaskIsEnforced)
{
	make(SGT_SIMIOMMU_DIRECT);
	sgt_table t;
	build(&t);
	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	auto s = segments(&m.dma);
	ASSERT_EQ(4u, s.size()) << "one segment per entry";
	EXPECT_EQ((0x1010u << 12) + 100, s[0].first);
	sgt_mapping_cleanup(&m);

	sgt_device_params narrow{};
	narrow.dma_mask = 0xffffff; // 16 MiB: the arena (frame 0x1000 = 16 MiB) is above it
	make(SGT_SIMIOMMU_DIRECT, narrow);
	build(&t);
	Snapshot before = snapshot(&t.cpu);
	EXPECT_EQ(-SGT_ERANGE, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	EXPECT_EQ(before, snapshot(&t.cpu)) << "failed map: table unmapped and usable";
	EXPECT_EQ(0, sgt_cpu_check(&t.cpu));
	EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim_));
	sgt_table_cleanup(&t);
}

TEST_F(Dma, BounceMakesAMissingSyncObservable)
{
	make(SGT_SIMIOMMU_BOUNCE);
	sgt_table t;
	build(&t);
	size_t total = 7 * kPs - 133, n;
	auto a = pattern(total, 1), b = pattern(total, 2), c = pattern(total, 3);
	ASSERT_EQ(0, sgt_copy_from_buffer(&t.cpu, 0, a.data(), total, &n));
	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_BIDIRECTIONAL, 0, &m, SGT_MAY_SLEEP));
	ASSERT_EQ(0, sgt_copy_from_buffer(&m.dma.cpu, 0, b.data(), total, &n));
	EXPECT_EQ(a, device_read_all(&m.dma)) << "no sync for the device: it still sees the old bytes";
	ASSERT_EQ(0, sgt_dma_sync_for_device(&m.dma));
	EXPECT_EQ(b, device_read_all(&m.dma));
	device_write_all(&m.dma, c);
	EXPECT_EQ(b, cpu_bytes(&m.dma.cpu)) << "no sync for the CPU: it still sees its own bytes";
	ASSERT_EQ(0, sgt_dma_sync_for_cpu(&m.dma));
	EXPECT_EQ(c, cpu_bytes(&m.dma.cpu));
	sgt_mapping_cleanup(&m);
}

// ---- faults: recorded, no data moved, never a crash ----

TEST_F(Dma, EveryFaultKindIsRecordedAndMovesNoData)
{
	sgt_device_params dp{};
	dp.dma_mask = UINT32_MAX;
	make(SGT_SIMIOMMU_IOMMU, dp);
	sgt_table t1, t2;
	ASSERT_EQ(0, from_pages(&t1, { 0x1000 }, 0, kPs));
	ASSERT_EQ(0, from_pages(&t2, { 0x1001 }, 0, kPs));
	sgt_mapping to_dev, from_dev;
	ASSERT_EQ(0, sgt_table_map(&t1, dev_, SGT_DMA_TO_DEVICE, 0, &to_dev, SGT_MAY_SLEEP));
	ASSERT_EQ(0, sgt_table_map(&t2, dev_, SGT_DMA_FROM_DEVICE, 0, &from_dev, SGT_MAY_SLEEP));
	uint64_t a_to = segments(&to_dev.dma)[0].first, a_from = segments(&from_dev.dma)[0].first;
	uint8_t buf[16];
	memset(buf, 0xcc, sizeof(buf));
	const uint8_t junk[16] = { 1, 2, 3 };

	struct {
		int err;
		sgt_simiommu_fault_kind kind;
	} cases[] = {
		{ sgt_simiommu_dma_read(sim_, 0x7000000, buf, 16), SGT_FAULT_UNMAPPED },
		{ sgt_simiommu_dma_write(sim_, a_to, junk, 16), SGT_FAULT_READ_ONLY },
		{ sgt_simiommu_dma_read(sim_, a_from, buf, 16), SGT_FAULT_WRITE_ONLY },
		{ sgt_simiommu_dma_read(sim_, 1ull << 33, buf, 16), SGT_FAULT_ABOVE_MASK },
		{ sgt_simiommu_dma_write(sim_, a_from + kPs - 8, junk, 16), SGT_FAULT_UNMAPPED },
	};
	ASSERT_EQ(5u, sgt_simiommu_num_faults(sim_));
	for (size_t i = 0; i < 5; i++) {
		EXPECT_EQ(-SGT_EFAULT, cases[i].err) << i;
		sgt_simiommu_fault f;
		ASSERT_EQ(0, sgt_simiommu_fault_at(sim_, i, &f));
		EXPECT_EQ(cases[i].kind, f.kind) << f.msg;
		EXPECT_NE(nullptr, strstr(f.msg, "DMA fault at 0x")) << f.msg;
	}
	for (uint8_t x : buf)
		EXPECT_EQ(0xcc, x) << "a faulting read moves no data";
	EXPECT_EQ(0, *sgt_test_mem_byte(&mem_, 0x1000, 0)) << "a faulting write moves no data";
	EXPECT_EQ(0, *sgt_test_mem_byte(&mem_, 0x1001, kPs - 8)) << "not even the allowed part";
	EXPECT_EQ(0, sgt_simiommu_dma_read(sim_, a_to, buf, 16)) << "allowed access still works";
	sgt_mapping_cleanup(&to_dev);
	sgt_mapping_cleanup(&from_dev);
	EXPECT_EQ(-SGT_EFAULT, sgt_simiommu_dma_read(sim_, a_to, buf, 1)) << "DMA after unmap";
	EXPECT_EQ(0u, reports());
}

// ---- the raw API and the DMA-API debug checks: each fires on its bug, once ----

class DebugChecks : public Dma {
    protected:
	sgt_table owner_{};
	sgt_sg_table *raw_ = nullptr; // the owner's table, used through the raw API as a driver would
	void SetUp() override
	{
		Dma::SetUp();
		make(SGT_SIMIOMMU_IOMMU);
		// Three full pages, scattered: the IOMMU merges them into one DMA segment.
		ASSERT_EQ(0, from_pages(&owner_, { 0x1000, 0x1005, 0x1009 }, 0, 3 * kPs));
		raw_ = &owner_.sgt__own;
	}
	void TearDown() override
	{
		if (raw_->num_dma_ents) {
			EXPECT_EQ(0, sgt_dma_unmap_sg(dev_, raw_, 3, SGT_DMA_TO_DEVICE, 0));
		}
		sgt_table_cleanup(&owner_);
		Dma::TearDown();
	}
	void map(sgt_dma_dir dir = SGT_DMA_TO_DEVICE)
	{
		uint32_t n;
		ASSERT_EQ(0, sgt_dma_map_sg(dev_, raw_, dir, 0, &n, SGT_MAY_SLEEP));
		ASSERT_EQ(1u, n);
	}
	void expect_only(sgt_dma_report_kind k)
	{
		expect_consistent();
		EXPECT_EQ(1u, count(k)) << sgt_dma_report_name(k);
		EXPECT_EQ(1u, reports()) << "only that check fired: " << first_report();
		EXPECT_NE(std::string::npos, first_report().find(sgt_dma_report_name(k)));
		ASSERT_EQ(1u, seen_.size()) << "and the callback saw it";
		EXPECT_EQ(k, seen_[0].first);
		EXPECT_EQ(first_report(), seen_[0].second);
	}
	// A wrong unmap is reported, and the unmap still happens: nothing stays mapped behind it.
	void expect_unmapped_anyway()
	{
		EXPECT_EQ(0u, raw_->num_dma_ents);
		EXPECT_EQ(nullptr, raw_->dma_dev);
		EXPECT_EQ(0, sgt_sg_table_check(raw_, nullptr));
		EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim_));
		EXPECT_EQ(0u, sgt_dma_debug_live(dev_));
	}
};

TEST_F(DebugChecks, CorrectUseIsSilent)
{
	map();
	EXPECT_EQ(1u, sgt_dma_debug_live(dev_));
	ASSERT_EQ(0, sgt_dma_sync_sg_for_cpu(dev_, raw_, 3, SGT_DMA_TO_DEVICE));
	ASSERT_EQ(0, sgt_dma_sync_sg_for_device(dev_, raw_, 3, SGT_DMA_TO_DEVICE));
	ASSERT_EQ(0, sgt_dma_unmap_sg(dev_, raw_, 3, SGT_DMA_TO_DEVICE, 0));
	EXPECT_EQ(0u, sgt_dma_debug_live(dev_));
	map(); // map again after unmap: not a double anything
	EXPECT_EQ(0u, reports()) << first_report();
	EXPECT_TRUE(seen_.empty());
}

TEST_F(DebugChecks, UnmapOfATableNeverMapped)
{
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_unmap_sg(dev_, raw_, 3, SGT_DMA_TO_DEVICE, 0));
	expect_only(SGT_REPORT_UNMAP_NOT_MAPPED);
}

TEST_F(DebugChecks, DoubleUnmap)
{
	map();
	ASSERT_EQ(0, sgt_dma_unmap_sg(dev_, raw_, 3, SGT_DMA_TO_DEVICE, 0));
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_unmap_sg(dev_, raw_, 3, SGT_DMA_TO_DEVICE, 0));
	expect_only(SGT_REPORT_DOUBLE_UNMAP);
}

TEST_F(DebugChecks, UnmapWithAnotherDirection)
{
	map();
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_unmap_sg(dev_, raw_, 3, SGT_DMA_FROM_DEVICE, 0));
	expect_only(SGT_REPORT_UNMAP_WRONG_DIR);
	expect_unmapped_anyway();
}

TEST_F(DebugChecks, UnmapWithTheMappedCountInsteadOfTheOriginal)
{
	map();
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_unmap_sg(dev_, raw_, 1, SGT_DMA_TO_DEVICE, 0));
	expect_only(SGT_REPORT_UNMAP_MAPPED_NENTS);
	expect_unmapped_anyway();
}

TEST_F(DebugChecks, UnmapWithAnotherCount)
{
	map();
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_unmap_sg(dev_, raw_, 2, SGT_DMA_TO_DEVICE, 0));
	expect_only(SGT_REPORT_UNMAP_WRONG_NENTS);
	expect_unmapped_anyway();
}

TEST_F(DebugChecks, UnmapOnAnotherDeviceUnmapsNothing)
{
	map();
	sgt_simiommu_params p{};
	p.mode = SGT_SIMIOMMU_IOMMU;
	p.mem = &mem_.mem;
	sgt_simiommu *other = nullptr;
	ASSERT_EQ(0, sgt_simiommu_new(&p, &other));
	ASSERT_EQ(0, sgt_dma_debug_enable(sgt_simiommu_device(other), nullptr));
	EXPECT_EQ(-SGT_EINVAL,
		  sgt_dma_unmap_sg(sgt_simiommu_device(other), raw_, 3, SGT_DMA_TO_DEVICE, 0));
	EXPECT_EQ(1u, sgt_dma_debug_count(sgt_simiommu_device(other), SGT_REPORT_UNMAP_NOT_MAPPED));
	EXPECT_EQ(1u, raw_->num_dma_ents) << "still mapped for its own device";
	EXPECT_EQ(1u, sgt_simiommu_live_mappings(sim_));
	EXPECT_EQ(0u, sgt_simiommu_free(other));
	EXPECT_EQ(0u, reports()) << first_report();
}

TEST_F(DebugChecks, SyncOfATableNotMapped)
{
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_sync_sg_for_cpu(dev_, raw_, 3, SGT_DMA_TO_DEVICE));
	expect_only(SGT_REPORT_SYNC_NOT_MAPPED);
}

TEST_F(DebugChecks, SyncWithAnotherDirection)
{
	map();
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_sync_sg_for_device(dev_, raw_, 3, SGT_DMA_BIDIRECTIONAL));
	expect_only(SGT_REPORT_SYNC_WRONG_DIR);
}

TEST_F(DebugChecks, SyncOfMoreEntriesThanMapped)
{
	map();
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_sync_sg_for_cpu(dev_, raw_, 4, SGT_DMA_TO_DEVICE));
	expect_only(SGT_REPORT_SYNC_WRONG_NENTS);
}

// Linux's rule (dma-debug's check_sync): a sync passes the same count as the map, not a part.
TEST_F(DebugChecks, SyncOfFewerEntriesThanMapped)
{
	map();
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_sync_sg_for_device(dev_, raw_, 2, SGT_DMA_TO_DEVICE));
	expect_only(SGT_REPORT_SYNC_WRONG_NENTS);
}

TEST_F(DebugChecks, SyncWithTheMappedCount)
{
	map();
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_sync_sg_for_cpu(dev_, raw_, 1, SGT_DMA_TO_DEVICE));
	expect_only(SGT_REPORT_SYNC_WRONG_NENTS);
}

TEST_F(DebugChecks, SegmentsChangedBehindTheLayersBack)
{
	map();
	raw_->head->ents[0].dma_addr += 0x1000; // a driver scribbles over its mapped table
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_sync_sg_for_cpu(dev_, raw_, 3, SGT_DMA_TO_DEVICE));
	expect_only(SGT_REPORT_SEGMENTS_CHANGED);
	raw_->head->ents[0].dma_addr -= 0x1000;
}

TEST_F(DebugChecks, TableFreedWhileMappedIsNamedWhenItsMemoryIsReused)
{
	map();
	// The driver forgets the unmap and frees the table; the next table gets the same chunk.
	sgt_chunk *chunk = raw_->head;
	sgt_sg_table ghost = *raw_;
	*raw_ = {};
	raw_->mem = ghost.mem;
	sgt_sg_table next = ghost;
	next.num_dma_ents = next.dma_dir = 0;
	next.dma_dev = nullptr;
	next.dma_priv = nullptr;
	for (uint32_t i = 0; i < chunk->num_ents; i++)
		chunk->ents[i].dma_addr = chunk->ents[i].dma_len = 0;
	uint32_t n;
	ASSERT_EQ(0, sgt_dma_map_sg(dev_, &next, SGT_DMA_TO_DEVICE, 0, &n, SGT_MAY_SLEEP));
	expect_only(SGT_REPORT_FREED_WHILE_MAPPED);
	EXPECT_EQ(1u, sgt_dma_debug_live(dev_)) << "the new mapping replaced the lost one";
	ASSERT_EQ(0, sgt_dma_unmap_sg(dev_, &next, 3, SGT_DMA_TO_DEVICE, 0));
	// The lost mapping is still live in the device: give it back so the fixture ends clean.
	ghost.dma_dev->ops->unmap_sg(ghost.dma_dev, &ghost, ghost.dma_priv, SGT_DMA_TO_DEVICE, 0);
	*raw_ = next;
}

TEST_F(DebugChecks, SegmentsChangedInCountAddressOrLength)
{
	map();
	struct Change {
		const char *what;
		std::function<void(sgt_sg_table *)> apply, undo;
	} changes[] = {
		{ "CPU entry count", [](sgt_sg_table *r) { r->num_cpu_ents = 2; },
		  [](sgt_sg_table *r) { r->num_cpu_ents = 3; } },
		{ "length", [](sgt_sg_table *r) { r->head->ents[0].dma_len--; },
		  [](sgt_sg_table *r) { r->head->ents[0].dma_len++; } },
	};
	for (auto &c : changes) {
		SCOPED_TRACE(c.what);
		sgt_dma_debug_clear(dev_);
		c.apply(raw_);
		EXPECT_EQ(-SGT_EINVAL, sgt_dma_sync_sg_for_cpu(dev_, raw_, 3, SGT_DMA_TO_DEVICE));
		EXPECT_EQ(1u, count(SGT_REPORT_SEGMENTS_CHANGED)) << first_report();
		c.undo(raw_);
	}
}

TEST_F(DebugChecks, SegmentsChangedBeforeAnUnmap)
{
	map();
	raw_->head->ents[0].dma_len -= 1; // still mapped, but not as the device was told
	raw_->head->ents[1].dma_len = 1;
	raw_->num_dma_ents = 2;
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_unmap_sg(dev_, raw_, 3, SGT_DMA_TO_DEVICE, 0));
	expect_only(SGT_REPORT_SEGMENTS_CHANGED);
	expect_unmapped_anyway();
}

TEST_F(Dma, CheckSegmentsCountsSegmentsAgainstTheDevice)
{
	make(SGT_SIMIOMMU_DIRECT);
	sgt_table t;
	build(&t);
	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	const sgt_sg_table *raw;
	ASSERT_EQ(0, sgt_cpu_sg_table(&m.dma.cpu, &raw));
	sgt_device_params p = dev_->params;
	p.max_segments = raw->num_dma_ents - 1;
	const char *why = nullptr;
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_check_segments(raw, &p, &why));
	EXPECT_STREQ("more DMA segments than the device allows", why);
	p.max_segments = raw->num_dma_ents;
	EXPECT_EQ(0, sgt_dma_check_segments(raw, &p, &why));
	EXPECT_EQ(nullptr, why);
	sgt_mapping_cleanup(&m);
}

TEST_F(Dma, SimulatorCorners)
{
	sgt_device_params dp{};
	dp.dma_mask = 0x3fffffff; // 1 GiB
	make(SGT_SIMIOMMU_IOMMU, dp, 0, { 0x100000, UINT64_MAX }); // a window past the mask
	sgt_dma_caps caps;
	ASSERT_EQ(0, sgt_device_caps(dev_, &caps));
	EXPECT_EQ(0x3fffffffu, caps.windows[caps.num_windows - 1].last) << "clipped to the mask";
	uint8_t b;
	EXPECT_EQ(0, sgt_simiommu_dma_read(sim_, 0x100000, &b, 0)) << "an empty access is no access";
	EXPECT_EQ(-SGT_EFAULT, sgt_simiommu_dma_read(sim_, 0x100000, &b, 1));
	EXPECT_EQ(1u, sgt_simiommu_num_faults(sim_));
	sgt_simiommu_clear_faults(sim_);
	EXPECT_EQ(0u, sgt_simiommu_num_faults(sim_));
	// A BorrowedMapping over a table the simulator did not map: it has no bounce slots of it.
	sgt_table owner;
	ASSERT_EQ(0, from_pages(&owner, { 0x1000 }, 0, kPs));
	owner.sgt__own.head->ents[0].dma_addr = 0x100000;
	owner.sgt__own.head->ents[0].dma_len = kPs;
	owner.sgt__own.num_dma_ents = 1;
	sgt_borrowed_mapping bm;
	ASSERT_EQ(0, sgt_borrowed_mapping_init(&bm, &owner.sgt__own, dev_, SGT_DMA_TO_DEVICE));
	EXPECT_EQ(-SGT_EOPNOTSUPP, sgt_dma_sync_for_device(&bm.dma));
	sgt_borrowed_mapping_cleanup(&bm);
	owner.sgt__own.head->ents[0].dma_addr = owner.sgt__own.head->ents[0].dma_len = 0;
	owner.sgt__own.num_dma_ents = 0;
	sgt_table_cleanup(&owner);
	// A direct-mode device whose mask is below 1 MiB: there is no IOVA window to misapply.
	sgt_device_params low{};
	low.dma_mask = 0xfffff;
	make(SGT_SIMIOMMU_DIRECT, low);
}

TEST_F(DebugChecks, MappingsLiveAtTeardownAreReportedAsLeaks)
{
	map();
	EXPECT_EQ(1u, sgt_simiommu_free(sim_));
	sim_ = nullptr;
	ASSERT_EQ(1u, seen_.size()) << "reported through the callback before the device went";
	EXPECT_EQ(SGT_REPORT_LEAK_AT_TEARDOWN, seen_[0].first);
	EXPECT_NE(std::string::npos, seen_[0].second.find("still mapped")) << seen_[0].second;
	// The device is gone; forget its mapping so the owner can be dropped.
	for (sgt_chunk *c = raw_->head; c; c = c->next)
		for (uint32_t i = 0; i < c->num_ents; i++)
			c->ents[i].dma_addr = c->ents[i].dma_len = 0;
	raw_->num_dma_ents = raw_->dma_dir = 0;
	raw_->dma_dev = nullptr;
	raw_->dma_priv = nullptr;
}

// Without the debug layer the same misuse is still refused or undone, only not named.
TEST_F(Dma, RawMisuseWithoutTheDebugLayer)
{
	sgt_simiommu_params p{};
	p.mode = SGT_SIMIOMMU_BOUNCE;
	p.mem = &mem_.mem;
	sgt_simiommu *sim = nullptr;
	ASSERT_EQ(0, sgt_simiommu_new(&p, &sim));
	sgt_device *dev = sgt_simiommu_device(sim);
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1000, 0x1005 }, 0, 2 * kPs));
	uint32_t n;
	sgt_sg_table *raw = &t.sgt__own;
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_unmap_sg(dev, raw, 2, SGT_DMA_TO_DEVICE, 0)) << "not mapped";
	ASSERT_EQ(0, sgt_dma_map_sg(dev, raw, SGT_DMA_FROM_DEVICE, 0, &n, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_sync_sg_for_cpu(dev, raw, 1, SGT_DMA_FROM_DEVICE));
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_sync_sg_for_cpu(dev, raw, 2, SGT_DMA_TO_DEVICE));
	std::vector<uint8_t> dev_bytes(2 * kPs, 0x5a);
	ASSERT_EQ(0, sgt_simiommu_dma_write(sim, raw->head->ents[0].dma_addr, dev_bytes.data(), kPs));
	ASSERT_EQ(0, sgt_simiommu_dma_write(sim, raw->head->ents[1].dma_addr, dev_bytes.data(), kPs));
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_unmap_sg(dev, raw, 2, SGT_DMA_TO_DEVICE, 0))
		<< "wrong direction: misuse";
	EXPECT_EQ(0u, raw->num_dma_ents) << "and unmapped anyway";
	EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim));
	EXPECT_EQ(dev_bytes, cpu_bytes(&t.cpu))
		<< "with the mapping's own direction: the device's bytes were copied back";
	EXPECT_EQ(0u, sgt_dma_debug_num_reports(dev)) << "the layer is off";
	sgt_table_cleanup(&t);
	EXPECT_EQ(0u, sgt_simiommu_free(sim));
}

// ---- the device refuses what it cannot take; the simulator guarantees every constraint ----

TEST_F(Dma, EntryLongerThanTheDeviceTakesIsRefused)
{
	make(SGT_SIMIOMMU_IOMMU);
	sgt_table big;
	ASSERT_EQ(0, from_pages(&big, run(0x1100, 20), 0, 20 * kPs)); // one 80 KiB entry
	sgt_mapping m;
	EXPECT_EQ(-SGT_EINVAL, sgt_table_map(&big, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	EXPECT_EQ(0, sgt_cpu_check(&big.cpu)) << "the table is unmapped and usable";
	EXPECT_EQ(0u, reports()) << "a refusal is not misuse: " << first_report();
	expect_consistent();
	sgt_table_cleanup(&big);
}

TEST_F(Dma, EntryAcrossTheBoundaryIsRefused)
{
	sgt_device_params dp{};
	dp.seg_boundary_mask = 0xfff;
	make(SGT_SIMIOMMU_DIRECT, dp);
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1100, 0x1101 }, 100, 4096)); // crosses a 4 KiB line
	sgt_mapping m;
	EXPECT_EQ(-SGT_EINVAL, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim_));
	EXPECT_EQ(0u, reports()) << first_report();
	sgt_table_cleanup(&t);
}

TEST_F(Dma, MisalignedSegmentIsRefusedAndUndone)
{
	sgt_device_params dp{};
	dp.alignment = 512;
	make(SGT_SIMIOMMU_IOMMU, dp);
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1100 }, 100, 200));
	sgt_mapping m;
	EXPECT_EQ(-SGT_EINVAL, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim_)) << "undone: no IOVA or PTE left behind";
	EXPECT_EQ(0, sgt_cpu_check(&t.cpu));
	expect_consistent();
	EXPECT_EQ(0u, reports()) << first_report();
	sgt_table_cleanup(&t);
}

TEST_F(Dma, TooManySegmentsAreRefused)
{
	sgt_device_params dp{};
	dp.max_segments = 1;
	make(SGT_SIMIOMMU_IOMMU, dp);
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1100, 0x1105 }, 0, kPs + 10)); // partial page: no merge
	ASSERT_EQ(0, append(&t, { 0x1200 }, 0, 10));
	sgt_mapping m;
	EXPECT_EQ(-SGT_EINVAL, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim_));
	expect_consistent();
	sgt_table_cleanup(&t);
}

// ---- fault injection and exhaustion: the table stays unmapped and usable ----

TEST_F(Dma, InjectedMapFailureLeavesTheTableUsable)
{
	make(SGT_SIMIOMMU_IOMMU);
	sgt_table t;
	build(&t);
	sgt_simiommu_inject inj{ 2, 0, 0 };
	sgt_simiommu_set_inject(sim_, &inj);
	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	ASSERT_EQ(0, sgt_mapping_unmap(&m, &t));
	EXPECT_EQ(-SGT_ENOMEM, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP)) << "the 2nd map";
	EXPECT_EQ(0, sgt_cpu_check(&t.cpu));
	expect_consistent();
	EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim_));
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP)) << "the 3rd works";
	sgt_mapping_cleanup(&m);
}

TEST_F(Dma, RandomInjectionIsDeterministicFromItsSeed)
{
	make(SGT_SIMIOMMU_IOMMU);
	sgt_table t;
	build(&t);
	auto pattern_of = [&](uint64_t seed) {
		sgt_simiommu_inject inj{ 0, 300, seed };
		sgt_simiommu_set_inject(sim_, &inj);
		std::string s;
		for (int i = 0; i < 40; i++) {
			sgt_mapping m;
			int err = sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP);
			s += err ? 'x' : '.';
			if (!err) {
				EXPECT_EQ(0, sgt_mapping_unmap(&m, &t));
			}
		}
		return s;
	};
	std::string a = pattern_of(7), b = pattern_of(7), c = pattern_of(8);
	EXPECT_EQ(a, b);
	EXPECT_NE(a, c);
	EXPECT_NE(std::string::npos, a.find('x'));
	EXPECT_NE(std::string::npos, a.find('.'));
	sgt_table_cleanup(&t);
}

TEST_F(Dma, IovaExhaustionFailsCleanly)
{
	make(SGT_SIMIOMMU_IOMMU, {}, 0, { 0x100000, 0x100000 + 8 * kPs - 1 }); // 8 pages of IOVA
	sgt_table a, b;
	ASSERT_EQ(0, from_pages(&a, run(0x1000, 8), 0, 8 * kPs));
	ASSERT_EQ(0, from_pages(&b, { 0x1100 }, 0, kPs));
	sgt_mapping ma, mb;
	ASSERT_EQ(0, sgt_table_map(&a, dev_, SGT_DMA_TO_DEVICE, 0, &ma, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_ENOSPC, sgt_table_map(&b, dev_, SGT_DMA_TO_DEVICE, 0, &mb, SGT_MAY_SLEEP));
	EXPECT_EQ(0, sgt_cpu_check(&b.cpu));
	expect_consistent();
	sgt_mapping_cleanup(&ma);
	ASSERT_EQ(0, sgt_table_map(&b, dev_, SGT_DMA_TO_DEVICE, 0, &mb, SGT_MAY_SLEEP)) << "space came back";
	sgt_mapping_cleanup(&mb);
	EXPECT_EQ(0u, reports());
}

TEST_F(Dma, MappingBudget)
{
	make(SGT_SIMIOMMU_IOMMU, {}, 1);
	sgt_table a, b;
	ASSERT_EQ(0, from_pages(&a, { 0x1000 }, 0, kPs));
	ASSERT_EQ(0, from_pages(&b, { 0x1001 }, 0, kPs));
	sgt_mapping ma, mb;
	ASSERT_EQ(0, sgt_table_map(&a, dev_, SGT_DMA_TO_DEVICE, 0, &ma, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_ENOSPC, sgt_table_map(&b, dev_, SGT_DMA_TO_DEVICE, 0, &mb, SGT_MAY_SLEEP));
	sgt_dma_caps caps;
	ASSERT_EQ(0, sgt_device_caps(dev_, &caps));
	EXPECT_EQ(1u, caps.max_mappings);
	EXPECT_EQ(2u, caps.num_windows) << "the MSI window splits the IOVA space";
	EXPECT_EQ(4096u, caps.page_sizes);
	sgt_mapping_cleanup(&ma);
	sgt_table_cleanup(&b);
}

// ---- handles: stale after a transition, and the drop order ----

TEST_F(Dma, ConsumedAndDroppedHandlesAreStale)
{
	make(SGT_SIMIOMMU_IOMMU);
	sgt_table t, back;
	build(&t);
	sgt_mapping m, again;
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	uint32_t n;
	EXPECT_EQ(-SGT_ESTALE, sgt_cpu_check(&t.cpu)) << "map consumed the unmapped handle";
	EXPECT_EQ(-SGT_ESTALE, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &again, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_ESTALE, append(&t, { 0x1100 }, 0, kPs));
	ASSERT_EQ(0, sgt_mapping_unmap(&m, &back));
	EXPECT_EQ(-SGT_ESTALE, sgt_dma_info(&m.dma, &n)) << "unmap consumed the mapping";
	EXPECT_EQ(-SGT_ESTALE, sgt_dma_sync_for_cpu(&m.dma));
	EXPECT_EQ(-SGT_ESTALE, sgt_mapping_unmap(&m, &t));
	sgt_dma_iter it;
	EXPECT_EQ(-SGT_ESTALE, sgt_dma_iter_init(&it, &m.dma));
	ASSERT_EQ(0, sgt_table_map(&back, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	sgt_mapping_cleanup(&m);
	EXPECT_EQ(-SGT_ESTALE, sgt_dma_sync_for_device(&m.dma)) << "dropped";
	EXPECT_EQ(-SGT_ESTALE, sgt_cpu_check(&m.dma.cpu));
	EXPECT_EQ(0u, reports()) << "the typed path never trips a debug check";
}

// ---- a scripted backend: what the core does with a backend's results ----

// A test backend that lays each entry out as one segment from a base address, then breaks the
// result as told, so that each of the core's result checks can be made to fire. It also records
// what the core hands it: the context, its per-mapping state, and whether the table's chunks were
// still allocated at unmap (dropping a mapping must unmap before it frees).
struct Scripted {
	enum Break {
		NONE,
		BEYOND_MASK,
		TOO_LONG,
		CROSSES,
		MISALIGNED,
		TOO_MANY,
		SHORT,
		ZERO,
		EXTRA,
		EMPTY, // a segment of length 0
		STALE, // merged into fewer segments, leaving DMA fields behind the last one
	};
	int caps_error = 0;
	Break brk = NONE;
	uint32_t guarantees = 0;
	bool has_caps = true;
	sgt_test_alloc *alloc = nullptr;
	int maps = 0, unmaps = 0, syncs = 0;
	sgt_alloc_ctx last_ctx = SGT_MAY_SLEEP;
	void *last_priv = nullptr;
	void *sync_priv = reinterpret_cast<void *>(1);
	uint64_t live_at_unmap = 0;
	uint64_t sum = 0;
	int token = 0; // its address is the per-mapping state
};

int scripted_map(sgt_device *dev, sgt_sg_table *sgt, sgt_dma_dir, unsigned long, void **priv,
		 uint32_t *out, sgt_alloc_ctx actx)
{
	auto *b = static_cast<Scripted *>(dev->impl);
	uint64_t addr = 0x10000;
	b->maps++;
	b->last_ctx = actx;
	for (sgt_chunk *c = sgt->head; c; c = c->next)
		for (uint32_t i = 0; i < c->num_ents; i++) {
			c->ents[i].dma_addr = addr;
			c->ents[i].dma_len = c->ents[i].len;
			addr += (c->ents[i].len + 0xfff) & ~0xfffull;
		}
	sgt_entry *e0 = &sgt->head->ents[0];
	*out = sgt->num_cpu_ents;
	switch (b->brk) {
	case Scripted::BEYOND_MASK:
		e0->dma_addr = 1ull << 40;
		break;
	case Scripted::TOO_LONG:
	case Scripted::SHORT: // one segment claims less than the entry holds
		e0->dma_len = b->brk == Scripted::TOO_LONG ? 128 * 1024 : e0->dma_len - 1;
		break;
	case Scripted::CROSSES:
		e0->dma_addr = 0x10000 - 8;
		break;
	case Scripted::MISALIGNED:
		e0->dma_addr += 4;
		break;
	case Scripted::ZERO:
		*out = 0;
		break;
	case Scripted::EXTRA:
		*out = sgt->num_cpu_ents + 1;
		break;
	case Scripted::EMPTY:
		sgt->head->ents[1].dma_len = 0;
		break;
	case Scripted::STALE: // only the full invariant check can tell: the sums are right
		e0->dma_len += sgt->head->ents[1].len;
		*out = sgt->num_cpu_ents - 1;
		break;
	case Scripted::TOO_MANY:
	case Scripted::NONE:
		break;
	}
	*priv = &b->token;
	return 0;
}

void scripted_unmap(sgt_device *dev, sgt_sg_table *sgt, void *priv, sgt_dma_dir, unsigned long)
{
	auto *b = static_cast<Scripted *>(dev->impl);
	b->unmaps++;
	b->last_priv = priv;
	b->live_at_unmap = b->alloc ? sgt_test_alloc_live(b->alloc) : 0;
	for (const sgt_chunk *c = sgt->head; c; c = c->next) // a use-after-free under ASan if freed
		for (uint32_t i = 0; i < c->num_ents; i++)
			b->sum += c->ents[i].dma_addr;
}

int scripted_sync(sgt_device *dev, const sgt_sg_table *, void *priv, sgt_dma_dir)
{
	auto *b = static_cast<Scripted *>(dev->impl);
	b->syncs++;
	b->sync_priv = priv;
	return 0;
}

int scripted_caps(sgt_device *dev, sgt_dma_caps *out)
{
	auto *b = static_cast<Scripted *>(dev->impl);
	*out = {};
	out->guarantees = b->guarantees;
	return b->caps_error;
}

class Core : public Dma {
    protected:
	Scripted b_;
	sgt_dma_ops ops_{ SGT_DMA_OPS_ABI, "scripted", scripted_map,  scripted_unmap,
			  scripted_sync,   scripted_sync, scripted_caps };
	sgt_device dev_s_{};
	int init(const sgt_device_params &dp = {})
	{
		ops_.caps = b_.has_caps ? scripted_caps : nullptr;
		int err = sgt_device_init(&dev_s_, &ops_, &b_, &dp, nullptr);
		if (!err) {
			dev_ = &dev_s_; // reports(), count() and first_report() read this device
			seen_.clear();
			sgt_dma_debug_params dbg{};
			dbg.on_report = on_report;
			dbg.ctx = &seen_;
			EXPECT_EQ(0, sgt_dma_debug_enable(&dev_s_, &dbg));
		}
		return err;
	}
	void TearDown() override
	{
		EXPECT_EQ(0u, sgt_device_cleanup(&dev_s_)) << "no mapping left behind";
		Dma::TearDown();
	}
};

TEST_F(Core, DropUnmapsBeforeFreeingTheEntriesAndHandsBackTheState)
{
	setup(12, 1); // one chunk per entry after the first two: several allocations to free
	b_.alloc = &alloc_;
	ASSERT_EQ(0, init());
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1000, 0x1002, 0x1004, 0x1006 }, 0, 4 * kPs));
	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&t, &dev_s_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	ASSERT_EQ(0, sgt_dma_sync_for_cpu(&m.dma));
	EXPECT_EQ(&b_.token, b_.sync_priv) << "the sync got the mapping's state";
	sgt_mapping_cleanup(&m);
	EXPECT_EQ(1, b_.unmaps);
	EXPECT_EQ(&b_.token, b_.last_priv) << "the unmap got the mapping's state";
	EXPECT_EQ(3u, b_.live_at_unmap) << "all three chunks were still allocated at unmap";
	EXPECT_EQ(0u, sgt_test_alloc_live(&alloc_));
	EXPECT_EQ(0u, reports());
}

TEST_F(Core, CorrectResultsAreAccepted)
{
	sgt_device_params dp{};
	dp.dma_mask = UINT32_MAX;
	dp.seg_boundary_mask = 0xffff;
	dp.alignment = 512;
	dp.max_segments = 3;
	b_.guarantees = SGT_DMA_GUARANTEES_ALL;
	ASSERT_EQ(0, init(dp));
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1000, 0x1002, 0x1004 }, 0, 3 * kPs));
	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&t, &dev_s_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	EXPECT_EQ(1u, sgt_dma_debug_live(&dev_s_));
	sgt_mapping_cleanup(&m);
	EXPECT_EQ(0u, reports()) << first_report();
	EXPECT_EQ(0u, sgt_dma_debug_live(&dev_s_));
}

// Each broken result: refused with -EIO, undone through the backend's unmap, reported once.
TEST_F(Core, EveryBrokenResultIsUndoneAndReported)
{
	sgt_device_params dp{};
	dp.dma_mask = UINT32_MAX;
	dp.seg_boundary_mask = 0xffff;
	dp.alignment = 512;
	dp.max_segments = 2;
	b_.guarantees = SGT_DMA_GUARANTEES_ALL;
	ASSERT_EQ(0, init(dp));
	const std::pair<Scripted::Break, sgt_dma_report_kind> cases[] = {
		{ Scripted::BEYOND_MASK, SGT_REPORT_SEGMENT_BEYOND_MASK },
		{ Scripted::TOO_LONG, SGT_REPORT_SEGMENT_TOO_LONG },
		{ Scripted::CROSSES, SGT_REPORT_SEGMENT_CROSSES_BOUNDARY },
		{ Scripted::MISALIGNED, SGT_REPORT_SEGMENT_MISALIGNED },
		{ Scripted::TOO_MANY, SGT_REPORT_TOO_MANY_SEGMENTS },
		{ Scripted::SHORT, SGT_REPORT_BAD_MAPPING },
		{ Scripted::ZERO, SGT_REPORT_BAD_MAPPING },
		{ Scripted::EXTRA, SGT_REPORT_BAD_MAPPING },
		{ Scripted::EMPTY, SGT_REPORT_BAD_MAPPING },
		{ Scripted::STALE, SGT_REPORT_BAD_MAPPING },
	};
	int k = 0;
	for (auto [brk, kind] : cases) {
		SCOPED_TRACE(sgt_dma_report_name(kind));
		b_.brk = brk;
		sgt_table t;
		std::vector<uint64_t> pfns = { 0x1000, 0x1002 };
		if (brk == Scripted::TOO_MANY)
			pfns.push_back(0x1004);
		ASSERT_EQ(0, from_pages(&t, pfns, 0, pfns.size() * kPs));
		Snapshot before = snapshot(&t.cpu);
		sgt_dma_debug_clear(&dev_s_);
		sgt_mapping m;
		EXPECT_EQ(-SGT_EIO, sgt_table_map(&t, &dev_s_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
		EXPECT_EQ(++k, b_.unmaps) << "undone through the backend";
		EXPECT_EQ(before, snapshot(&t.cpu)) << "the table is as it was";
		EXPECT_EQ(0, sgt_cpu_check(&t.cpu));
		EXPECT_EQ(1u, count(kind));
		EXPECT_EQ(1u, reports()) << "that check alone: " << first_report();
		EXPECT_EQ(0u, sgt_dma_debug_live(&dev_s_));
		sgt_table_cleanup(&t);
	}
}

TEST_F(Core, ConstraintsTheBackendCannotHonourAreRefusedUpFront)
{
	sgt_device_params dp{};
	dp.alignment = 512;
	EXPECT_EQ(-SGT_EOPNOTSUPP, init(dp)) << "no backend guarantee, nothing the core can do";
	dp = {};
	dp.seg_boundary_mask = 0xffff;
	EXPECT_EQ(-SGT_EOPNOTSUPP, init(dp));
	dp = {};
	dp.dma_mask = UINT32_MAX;
	EXPECT_EQ(-SGT_EOPNOTSUPP, init(dp));
	b_.has_caps = false;
	EXPECT_EQ(-SGT_EOPNOTSUPP, init(dp)) << "no caps op: no guarantees";
	dp.alignment = 3;
	EXPECT_EQ(-SGT_EINVAL, init(dp)) << "not a power of two";
	b_.has_caps = true;
	b_.caps_error = -SGT_EIO;
	EXPECT_EQ(-SGT_EIO, init()) << "the caps op's error";
	b_.caps_error = 0;
	b_.guarantees = SGT_DMA_GUARANTEES_MASK;
	dp = {};
	dp.dma_mask = UINT32_MAX;
	EXPECT_EQ(0, init(dp));
	sgt_dma_ops bad = ops_;
	bad.abi_version = 1;
	sgt_device d2;
	EXPECT_EQ(-SGT_EINVAL, sgt_device_init(&d2, &bad, &b_, nullptr, nullptr)) << "old ABI";
}

// What the core honours for a backend: entry lengths and counts, before the backend is called.
TEST_F(Core, TheCoreHonoursSegmentSizeAndCountBeforeMapping)
{
	sgt_device_params dp{};
	dp.max_segment_size = 8192;
	dp.max_segments = 2;
	ASSERT_EQ(0, init(dp));
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, run(0x1000, 3), 0, 3 * kPs)); // one 12 KiB entry
	sgt_mapping m;
	EXPECT_EQ(-SGT_EINVAL, sgt_table_map(&t, &dev_s_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	sgt_table_cleanup(&t);
	ASSERT_EQ(0, from_pages(&t, { 0x1000, 0x1002, 0x1004 }, 0, 3 * kPs)); // three entries
	EXPECT_EQ(-SGT_EINVAL, sgt_table_map(&t, &dev_s_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	EXPECT_EQ(0, b_.maps) << "refused before the backend saw either";
	sgt_table_cleanup(&t);
	ASSERT_EQ(0, from_pages(&t, { 0x1000, 0x1002 }, 0, 2 * kPs, 8192));
	ASSERT_EQ(0, sgt_table_map(&t, &dev_s_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	sgt_mapping_cleanup(&m);
	EXPECT_EQ(0u, reports()) << first_report();
}

TEST_F(Core, TheAllocationContextReachesTheBackendAndTheDebugLayer)
{
	ASSERT_EQ(0, init());
	sgt_device_cleanup(&dev_s_); // again, with the records from the test allocator
	sgt_dma_debug_params dbg{};
	dbg.alloc = &alloc_.alloc;
	ASSERT_EQ(0, sgt_dma_debug_enable(&dev_s_, &dbg));
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1000 }, 0, kPs));
	uint64_t atomic_before = alloc_.num_atomic;
	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&t, &dev_s_, SGT_DMA_TO_DEVICE, 0, &m, SGT_ATOMIC));
	EXPECT_EQ(SGT_ATOMIC, b_.last_ctx);
	EXPECT_EQ(atomic_before + 1, alloc_.num_atomic) << "the debug record, allocated atomically";
	ASSERT_EQ(0, sgt_mapping_unmap(&m, &t));
	ASSERT_EQ(0, sgt_table_map(&t, &dev_s_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	EXPECT_EQ(SGT_MAY_SLEEP, b_.last_ctx);
	sgt_mapping_cleanup(&m);
	ASSERT_EQ(0, from_pages(&t, { 0x1000 }, 0, kPs));
	int maps = b_.maps;
	EXPECT_EQ(-SGT_EINVAL,
		  sgt_table_map(&t, &dev_s_, SGT_DMA_TO_DEVICE, 0, &m, static_cast<sgt_alloc_ctx>(7)))
		<< "a context that is neither";
	EXPECT_EQ(maps, b_.maps) << "refused before the backend";
	sgt_table_cleanup(&t);
	EXPECT_FALSE(alloc_.bad_ctx);
}

TEST_F(Core, DebugRecordAllocationFailureMapsNothing)
{
	ASSERT_EQ(0, init());
	sgt_device_cleanup(&dev_s_);
	sgt_dma_debug_params dbg{};
	dbg.alloc = &alloc_.alloc;
	ASSERT_EQ(0, sgt_dma_debug_enable(&dev_s_, &dbg));
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1000 }, 0, kPs));
	alloc_.fail_at = alloc_.num_attempts + 1;
	sgt_mapping m;
	EXPECT_EQ(-SGT_ENOMEM, sgt_table_map(&t, &dev_s_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	EXPECT_EQ(0, b_.maps) << "the record comes first: the backend never mapped";
	EXPECT_EQ(0, sgt_cpu_check(&t.cpu));
	sgt_table_cleanup(&t);
}

// Issue 13: a device name of 141 characters or more used to write past the report slot and into
// the counters. Reports are now formatted with a bound, whatever the name.
TEST_F(Core, AVeryLongDeviceNameCannotOverrunAReport)
{
	std::string name(400, 'n');
	ASSERT_EQ(0, sgt_device_init(&dev_s_, &ops_, &b_, nullptr, name.c_str()));
	dev_ = &dev_s_;
	ASSERT_EQ(0, sgt_dma_debug_enable(&dev_s_, nullptr));
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1000 }, 0, kPs));
	for (int i = 0; i < 300; i++) // past the kept messages, too
		EXPECT_EQ(-SGT_EINVAL, sgt_dma_unmap_sg(&dev_s_, &t.sgt__own, 1, SGT_DMA_TO_DEVICE, 0));
	EXPECT_EQ(300u, reports()) << "the counters are intact";
	EXPECT_EQ(300u, count(SGT_REPORT_UNMAP_NOT_MAPPED));
	for (uint64_t k = 0; k < SGT_DMA_DEBUG_KEEP; k++)
		EXPECT_EQ(159u, strlen(sgt_dma_debug_msg(&dev_s_, k))) << "cut at the slot's end";
	EXPECT_EQ(nullptr, sgt_dma_debug_msg(&dev_s_, SGT_DMA_DEBUG_KEEP));
	sgt_table_cleanup(&t);
}

// A BorrowedMapping over a table sgt did not map: the backend syncs it from the table alone.
TEST_F(Core, ForeignBorrowedMappingSyncsWithoutState)
{
	ASSERT_EQ(0, init());
	sgt_table owner;
	ASSERT_EQ(0, from_pages(&owner, { 0x1000 }, 0, kPs));
	sgt_sg_table *raw = &owner.sgt__own;
	raw->head->ents[0].dma_addr = 0x777000; // mapped by someone else, by hand
	raw->head->ents[0].dma_len = kPs;
	raw->num_dma_ents = 1;
	sgt_borrowed_mapping bm;
	ASSERT_EQ(0, sgt_borrowed_mapping_init(&bm, raw, &dev_s_, SGT_DMA_TO_DEVICE));
	ASSERT_EQ(0, sgt_dma_sync_for_device(&bm.dma));
	EXPECT_EQ(nullptr, b_.sync_priv);
	EXPECT_EQ(0u, reports()) << "not this layer's mapping: nothing to check it against";
	sgt_borrowed_mapping_cleanup(&bm);
	raw->head->ents[0].dma_addr = 0;
	raw->head->ents[0].dma_len = 0;
	raw->num_dma_ents = 0;
	sgt_table_cleanup(&owner);
}

// The owner's description of its mapping (the kernel backend's mapped struct sg_table) reaches
// the backend's syncs in both directions, and only for a table sgt did not map.
TEST_F(Core, ForeignBorrowedMappingHandsTheOwnersMappingToSyncs)
{
	ASSERT_EQ(0, init());
	sgt_table owner;
	ASSERT_EQ(0, from_pages(&owner, { 0x1000 }, 0, kPs));
	sgt_sg_table *raw = &owner.sgt__own;
	raw->head->ents[0].dma_addr = 0x777000;
	raw->head->ents[0].dma_len = kPs;
	raw->num_dma_ents = 1;
	int foreign = 0;
	sgt_borrowed_mapping bm;
	ASSERT_EQ(0, sgt_borrowed_mapping_init_foreign(&bm, raw, &dev_s_, SGT_DMA_FROM_DEVICE,
						       &foreign));
	b_.sync_priv = nullptr;
	ASSERT_EQ(0, sgt_dma_sync_for_cpu(&bm.dma));
	EXPECT_EQ(&foreign, b_.sync_priv);
	b_.sync_priv = nullptr;
	ASSERT_EQ(0, sgt_dma_sync_for_device(&bm.dma));
	EXPECT_EQ(&foreign, b_.sync_priv);
	sgt_borrowed_mapping_cleanup(&bm);
	raw->head->ents[0].dma_addr = 0;
	raw->head->ents[0].dma_len = 0;
	raw->num_dma_ents = 0;

	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&owner, &dev_s_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_EINVAL, sgt_borrowed_mapping_init_foreign(&bm, &m.sgt__owner.sgt__own,
								 &dev_s_, SGT_DMA_TO_DEVICE,
								 &foreign))
		<< "sgt's own mapping already has its priv";
	sgt_mapping_cleanup(&m);
}

// Issue 8, item 2: a bounce unmap that cannot copy a page back used to be refused, and the drop
// then freed entries that were still mapped; a later table reusing the chunk got -EBUSY.
struct PoisonMem {
	sgt_memory mem;
	sgt_test_mem *real;
	uint64_t poisoned;
	static void *map(void *ctx, uint64_t pfn)
	{
		auto *p = static_cast<PoisonMem *>(ctx);
		return pfn == p->poisoned ? nullptr : p->real->mem.map_page(p->real->mem.ctx, pfn);
	}
	static void unmap(void *ctx, uint64_t pfn, void *addr)
	{
		auto *p = static_cast<PoisonMem *>(ctx);
		if (p->real->mem.unmap_page)
			p->real->mem.unmap_page(p->real->mem.ctx, pfn, addr);
	}
};

// A CPU page the memory domain stops reaching, at every moment it is needed: a bounce map (the
// map fails), a bounce sync (it fails, the mapping stays), a device access through the IOMMU
// (a fault, no data moved).
TEST_F(Dma, UnreachableCpuPagesAreRefusedOrFaultedNeverTouched)
{
	PoisonMem pm{ {}, &mem_, 0x1005 };
	pm.mem = mem_.mem;
	pm.mem.map_page = PoisonMem::map;
	pm.mem.unmap_page = PoisonMem::unmap;
	pm.mem.ctx = &pm;
	for (auto mode : { SGT_SIMIOMMU_BOUNCE, SGT_SIMIOMMU_IOMMU }) {
		sgt_simiommu_params p{};
		p.mode = mode;
		p.mem = &pm.mem;
		sgt_simiommu *sim;
		ASSERT_EQ(0, sgt_simiommu_new(&p, &sim));
		sgt_table t;
		ASSERT_EQ(0, from_pages(&t, { 0x1000, 0x1005 }, 0, 2 * kPs));
		sgt_mapping m;
		pm.poisoned = 0x1005;
		int err = sgt_table_map(&t, sgt_simiommu_device(sim), SGT_DMA_BIDIRECTIONAL, 0, &m,
					SGT_MAY_SLEEP);
		if (mode == SGT_SIMIOMMU_BOUNCE) {
			EXPECT_EQ(-SGT_EFAULT, err) << "the map cannot fill the bounce slot";
			EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim));
			pm.poisoned = UINT64_MAX;
			ASSERT_EQ(0, sgt_table_map(&t, sgt_simiommu_device(sim), SGT_DMA_BIDIRECTIONAL,
						   0, &m, SGT_MAY_SLEEP));
			pm.poisoned = 0x1005;
			EXPECT_EQ(-SGT_EFAULT, sgt_dma_sync_for_device(&m.dma));
			EXPECT_EQ(-SGT_EFAULT, sgt_dma_sync_for_cpu(&m.dma));
			EXPECT_EQ(1u, sgt_simiommu_live_mappings(sim)) << "the mapping stays";
			pm.poisoned = UINT64_MAX;
		} else {
			ASSERT_EQ(0, err) << "an IOMMU map does not touch the bytes";
			std::vector<uint8_t> buf(2 * kPs, 0xcc);
			EXPECT_EQ(-SGT_EFAULT,
				  sgt_simiommu_dma_read(sim, segments(&m.dma)[0].first, buf.data(),
							buf.size()));
			EXPECT_EQ(1u, sgt_simiommu_num_faults(sim));
		}
		sgt_mapping_cleanup(&m);
		const char *why = nullptr;
		EXPECT_EQ(0, sgt_simiommu_check(sim, &why)) << why;
		EXPECT_EQ(0u, sgt_simiommu_free(sim));
	}
}

// The simulator's page table reaches 48 bits of DMA address. A direct-mode device cannot map
// memory above that (-ERANGE, nothing left behind), and a device access there is a fault.
TEST_F(Dma, DirectModeBeyondThePageTablesReach)
{
	make(SGT_SIMIOMMU_DIRECT);
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { UINT64_C(1) << 40 }, 0, kPs)); // 2^52: past 48 bits
	sgt_mapping m;
	EXPECT_EQ(-SGT_ERANGE, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim_));
	expect_consistent();
	uint8_t b;
	EXPECT_EQ(-SGT_EFAULT, sgt_simiommu_dma_read(sim_, UINT64_C(1) << 52, &b, 1));
	EXPECT_EQ(1u, sgt_simiommu_num_faults(sim_));
	sgt_table_cleanup(&t);
}

// Without merging, every entry is a segment: direct and bounce devices refuse more entries than
// the device takes. And a device reaches CPU pages through its own domain: the page sizes must
// agree with the table's.
TEST_F(Dma, NonMergingModesAndForeignPageSizesAreRefused)
{
	sgt_device_params dp{};
	dp.max_segments = 1;
	for (auto mode : { SGT_SIMIOMMU_DIRECT, SGT_SIMIOMMU_BOUNCE }) {
		make(mode, dp);
		sgt_table t;
		ASSERT_EQ(0, from_pages(&t, { 0x1100, 0x1105 }, 0, 2 * kPs));
		sgt_mapping m;
		EXPECT_EQ(-SGT_EINVAL,
			  sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
		EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim_));
		sgt_table_cleanup(&t);
	}
	sgt_memory big = mem_.mem;
	big.page_shift = 13;
	sgt_simiommu_params p{};
	p.mode = SGT_SIMIOMMU_IOMMU;
	p.mem = &big;
	sgt_simiommu *other;
	ASSERT_EQ(0, sgt_simiommu_new(&p, &other));
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1100 }, 0, kPs));
	sgt_mapping m;
	EXPECT_EQ(-SGT_EINVAL, sgt_table_map(&t, sgt_simiommu_device(other), SGT_DMA_TO_DEVICE, 0,
					     &m, SGT_MAY_SLEEP));
	sgt_table_cleanup(&t);
	EXPECT_EQ(0u, sgt_simiommu_free(other));
}

TEST_F(Dma, IommuRefusesAnEntryItCannotPadAroundTheBoundary)
{
	sgt_device_params dp{};
	dp.seg_boundary_mask = 0xfff;
	make(SGT_SIMIOMMU_IOMMU, dp);
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1100, 0x1101 }, 100, 4000)); // spans two IOVA pages
	sgt_mapping m;
	EXPECT_EQ(-SGT_EINVAL, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim_));
	sgt_table_cleanup(&t);
}

TEST_F(Dma, BounceSlotsHonourTheAlignment)
{
	sgt_device_params dp{};
	dp.alignment = 8192;
	make(SGT_SIMIOMMU_BOUNCE, dp);
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1100, 0x1105 }, 100, 2 * kPs - 100));
	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
	for (auto [addr, len] : segments(&m.dma))
		EXPECT_EQ(0u, addr % 8192) << std::hex << addr;
	sgt_mapping_cleanup(&m);
}

TEST_F(Dma, BounceUnmapThatCannotCopyBackStillUnmaps)
{
	PoisonMem pm{ {}, &mem_, UINT64_MAX };
	pm.mem = mem_.mem;
	pm.mem.map_page = PoisonMem::map;
	pm.mem.unmap_page = PoisonMem::unmap;
	pm.mem.ctx = &pm;
	sgt_simiommu_params p{};
	p.mode = SGT_SIMIOMMU_BOUNCE;
	p.mem = &pm.mem;
	ASSERT_EQ(0, sgt_simiommu_new(&p, &sim_));
	dev_ = sgt_simiommu_device(sim_);
	ASSERT_EQ(0, sgt_dma_debug_enable(dev_, nullptr));
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1000, 0x1005 }, 0, 2 * kPs));
	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_BIDIRECTIONAL, 0, &m, SGT_MAY_SLEEP));
	pm.poisoned = 0x1005; // the page becomes unreachable while mapped
	sgt_mapping_cleanup(&m);
	EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim_)) << "the unmap completed";
	EXPECT_EQ(0u, sgt_dma_debug_live(dev_));
	ASSERT_EQ(1u, sgt_simiommu_num_faults(sim_));
	sgt_simiommu_fault f;
	ASSERT_EQ(0, sgt_simiommu_fault_at(sim_, 0, &f));
	EXPECT_EQ(SGT_FAULT_CPU_UNREACHABLE, f.kind) << f.msg;
	expect_consistent();
	// The freed chunk is reused by the allocator for the next table: that map must work.
	pm.poisoned = UINT64_MAX;
	ASSERT_EQ(0, from_pages(&t, { 0x1010, 0x1015 }, 0, 2 * kPs));
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_BIDIRECTIONAL, 0, &m, SGT_MAY_SLEEP));
	sgt_mapping_cleanup(&m);
	EXPECT_EQ(0u, sgt_dma_debug_num_reports(dev_)) << sgt_dma_debug_msg(dev_, 0);
}

TEST_F(Dma, BorrowedMappingIteratesAndSyncsButNeverUnmaps)
{
	make(SGT_SIMIOMMU_IOMMU);
	sgt_table owner;
	ASSERT_EQ(0, from_pages(&owner, { 0x1000, 0x1005 }, 0, 2 * kPs));
	sgt_sg_table *raw = &owner.sgt__own;
	uint32_t n;
	ASSERT_EQ(0, sgt_dma_map_sg(dev_, raw, SGT_DMA_BIDIRECTIONAL, 0, &n, SGT_MAY_SLEEP));
	sgt_borrowed_mapping bm;
	ASSERT_EQ(0, sgt_borrowed_mapping_init(&bm, raw, dev_, SGT_DMA_BIDIRECTIONAL));
	EXPECT_EQ(1u, segments(&bm.dma).size());
	EXPECT_EQ(0, sgt_dma_sync_for_cpu(&bm.dma));
	sgt_dma_page_iter pit;
	ASSERT_EQ(0, sgt_dma_page_iter_init(&pit, &bm.dma));
	int pages = 0;
	while (sgt_dma_page_iter_next(&pit)) {
		EXPECT_EQ(4096u, pit.len);
		pages++;
	}
	EXPECT_EQ(2, pages);
	sgt_borrowed_mapping_cleanup(&bm);
	EXPECT_EQ(1u, sgt_simiommu_live_mappings(sim_)) << "the borrow ended; the mapping did not";
	EXPECT_EQ(-SGT_ESTALE, sgt_dma_sync_for_cpu(&bm.dma));
	ASSERT_EQ(0, sgt_dma_unmap_sg(dev_, raw, 2, SGT_DMA_BIDIRECTIONAL, 0));
	sgt_borrowed_mapping bad;
	EXPECT_EQ(-SGT_EINVAL, sgt_borrowed_mapping_init(&bad, raw, dev_, SGT_DMA_TO_DEVICE))
		<< "an unmapped table cannot be a borrowed mapping";
	sgt_table_cleanup(&owner);
}

// ---- several threads mapping through one device ----

TEST_F(Dma, ConcurrentMapAndUnmapOnOneDevice)
{
	make(SGT_SIMIOMMU_IOMMU);
	constexpr int kThreads = 4, kRounds = 200;
	std::vector<sgt_table> tables(kThreads);
	for (int i = 0; i < kThreads; i++)
		ASSERT_EQ(0, from_pages(&tables[i], { 0x1000u + 16u * i, 0x1002u + 16u * i }, 0,
					2 * kPs));
	std::vector<std::thread> threads;
	std::vector<int> failures(kThreads, 0);
	// The statistics getters run while the others map: under TSan (tsan preset) an unlocked
	// read of the device's counters is a reported race.
	std::atomic<bool> done{ false };
	std::thread reader([&] {
		uint64_t seen = 0;
		while (!done)
			seen += sgt_simiommu_live_mappings(sim_) + sgt_simiommu_num_faults(sim_) +
				sgt_dma_debug_live(dev_) + sgt_dma_debug_num_reports(dev_);
		EXPECT_LT(seen, UINT64_MAX);
	});
	for (int i = 0; i < kThreads; i++) {
		threads.emplace_back([&, i] {
			for (int r = 0; r < kRounds; r++) {
				sgt_mapping m;
				uint8_t b;
				if (sgt_table_map(&tables[i], dev_, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP)) {
					failures[i]++;
					continue;
				}
				sgt_dma_iter it;
				if (sgt_dma_iter_init(&it, &m.dma) || !sgt_dma_iter_next(&it) ||
				    sgt_simiommu_dma_read(sim_, it.dma_addr, &b, 1))
					failures[i]++;
				if (sgt_mapping_unmap(&m, &tables[i]))
					failures[i]++;
			}
		});
	}
	for (auto &th : threads)
		th.join();
	done = true;
	reader.join();
	for (int i = 0; i < kThreads; i++) {
		EXPECT_EQ(0, failures[i]) << "thread " << i;
		sgt_table_cleanup(&tables[i]);
	}
	EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim_));
	EXPECT_EQ(0u, reports()) << first_report();
}

} // namespace
