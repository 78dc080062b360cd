// SPDX-License-Identifier: MIT
// The DMA side: mapped handles, the raw DMA API, and the simulated IOMMU's modes, faults, debug
// checks and fault injection.
#include "helpers.hpp"

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
	}
	void TearDown() override
	{
		if (sim_) {
			EXPECT_EQ(0u, sgt_simiommu_free(sim_)) << "mappings leaked";
		}
		SgtTest::TearDown();
	}
	uint64_t reports() { return sgt_simiommu_num_reports(sim_); }
	void expect_consistent()
	{
		const char *why = nullptr;
		EXPECT_EQ(0, sgt_simiommu_check(sim_, &why)) << why;
	}
	uint64_t count(sgt_simiommu_report_kind k) { return sgt_simiommu_report_count(sim_, k); }
	std::string first_report()
	{
		const char *m = sgt_simiommu_report_msg(sim_, 0);
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
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_BIDIRECTIONAL, 0, &m));
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
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m));
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
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m));
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
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m));
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
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_BIDIRECTIONAL, 0, &m));
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
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m));
	auto s = segments(&m.dma);
	ASSERT_EQ(4u, s.size()) << "one segment per entry";
	EXPECT_EQ((0x1010u << 12) + 100, s[0].first);
	sgt_mapping_cleanup(&m);

	sgt_device_params narrow{};
	narrow.dma_mask = 0xffffff; // 16 MiB: the arena (frame 0x1000 = 16 MiB) is above it
	make(SGT_SIMIOMMU_DIRECT, narrow);
	build(&t);
	Snapshot before = snapshot(&t.cpu);
	EXPECT_EQ(-SGT_ERANGE, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m));
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
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_BIDIRECTIONAL, 0, &m));
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
	ASSERT_EQ(0, sgt_table_map(&t1, dev_, SGT_DMA_TO_DEVICE, 0, &to_dev));
	ASSERT_EQ(0, sgt_table_map(&t2, dev_, SGT_DMA_FROM_DEVICE, 0, &from_dev));
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
	void map()
	{
		uint32_t n;
		ASSERT_EQ(0, sgt_dma_map_sg(dev_, raw_, SGT_DMA_TO_DEVICE, 0, &n));
		ASSERT_EQ(1u, n);
	}
	void expect_only(sgt_simiommu_report_kind k)
	{
		expect_consistent();
		EXPECT_EQ(1u, count(k)) << sgt_simiommu_report_name(k);
		EXPECT_EQ(1u, reports()) << "only that check fired: " << first_report();
		EXPECT_NE(std::string::npos, first_report().find(sgt_simiommu_report_name(k)));
	}
};

TEST_F(DebugChecks, CorrectUseIsSilent)
{
	map();
	ASSERT_EQ(0, sgt_dma_sync_sg_for_cpu(dev_, raw_, 3, SGT_DMA_TO_DEVICE));
	ASSERT_EQ(0, sgt_dma_sync_sg_for_device(dev_, raw_, 2, SGT_DMA_TO_DEVICE)) << "partial sync";
	ASSERT_EQ(0, sgt_dma_unmap_sg(dev_, raw_, 3, SGT_DMA_TO_DEVICE, 0));
	map(); // map again after unmap: not a double anything
	EXPECT_EQ(0u, reports()) << first_report();
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
	EXPECT_EQ(1u, raw_->num_dma_ents) << "refused: still mapped";
}

TEST_F(DebugChecks, UnmapWithTheMappedCountInsteadOfTheOriginal)
{
	map();
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_unmap_sg(dev_, raw_, 1, SGT_DMA_TO_DEVICE, 0));
	expect_only(SGT_REPORT_UNMAP_MAPPED_NENTS);
}

TEST_F(DebugChecks, UnmapWithAnotherCount)
{
	map();
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_unmap_sg(dev_, raw_, 2, SGT_DMA_TO_DEVICE, 0));
	expect_only(SGT_REPORT_UNMAP_WRONG_NENTS);
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

TEST_F(DebugChecks, SyncBeyondTheMappedRange)
{
	map();
	EXPECT_EQ(-SGT_EINVAL, sgt_dma_sync_sg_for_cpu(dev_, raw_, 4, SGT_DMA_TO_DEVICE));
	expect_only(SGT_REPORT_SYNC_BEYOND_RANGE);
}

TEST_F(DebugChecks, SegmentLongerThanTheDeviceTakes)
{
	sgt_table big;
	ASSERT_EQ(0, from_pages(&big, run(0x1100, 20), 0, 20 * kPs)); // one 80 KiB entry
	sgt_mapping m;
	EXPECT_EQ(-SGT_EINVAL, sgt_table_map(&big, dev_, SGT_DMA_TO_DEVICE, 0, &m));
	expect_only(SGT_REPORT_SEGMENT_TOO_LONG);
	EXPECT_EQ(0, sgt_cpu_check(&big.cpu)) << "the table is unmapped and usable";
	sgt_table_cleanup(&big);
}

TEST_F(DebugChecks, SegmentAcrossTheBoundary)
{
	sgt_device_params dp{};
	dp.seg_boundary_mask = 0xfff;
	make(SGT_SIMIOMMU_DIRECT, dp);
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1100, 0x1101 }, 100, 4096)); // crosses a 4 KiB line
	sgt_mapping m;
	EXPECT_EQ(-SGT_EINVAL, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m));
	expect_only(SGT_REPORT_SEGMENT_CROSSES_BOUNDARY);
	sgt_table_cleanup(&t);
}

TEST_F(DebugChecks, MisalignedSegment)
{
	sgt_device_params dp{};
	dp.alignment = 512;
	make(SGT_SIMIOMMU_IOMMU, dp);
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1100 }, 100, 200));
	sgt_mapping m;
	EXPECT_EQ(-SGT_EINVAL, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m));
	expect_only(SGT_REPORT_SEGMENT_MISALIGNED);
	EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim_)) << "undone: no IOVA or PTE left behind";
	expect_consistent();
	sgt_table_cleanup(&t);
}

TEST_F(DebugChecks, TooManySegments)
{
	sgt_device_params dp{};
	dp.max_segments = 1;
	make(SGT_SIMIOMMU_IOMMU, dp);
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1100, 0x1105 }, 0, kPs + 10)); // partial page: no merge
	ASSERT_EQ(0, append(&t, { 0x1200 }, 0, 10));
	sgt_mapping m;
	EXPECT_EQ(-SGT_EINVAL, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m));
	expect_only(SGT_REPORT_TOO_MANY_SEGMENTS);
	sgt_table_cleanup(&t);
}

TEST_F(DebugChecks, MappingsLiveAtTeardownAreReportedAsLeaks)
{
	map();
	EXPECT_EQ(1u, sgt_simiommu_free(sim_));
	sim_ = nullptr; // freed above; the report went with it
	raw_->num_dma_ents = 0; // the device is gone; forget its addresses for the owner's cleanup
	for (sgt_chunk *c = raw_->head; c; c = c->next)
		for (uint32_t i = 0; i < c->num_ents; i++)
			c->ents[i].dma_addr = c->ents[i].dma_len = 0;
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
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m));
	ASSERT_EQ(0, sgt_mapping_unmap(&m, &t));
	EXPECT_EQ(-SGT_ENOMEM, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m)) << "the 2nd map";
	EXPECT_EQ(0, sgt_cpu_check(&t.cpu));
	expect_consistent();
	EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim_));
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m)) << "the 3rd works";
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
			int err = sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m);
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
	ASSERT_EQ(0, sgt_table_map(&a, dev_, SGT_DMA_TO_DEVICE, 0, &ma));
	EXPECT_EQ(-SGT_ENOSPC, sgt_table_map(&b, dev_, SGT_DMA_TO_DEVICE, 0, &mb));
	EXPECT_EQ(0, sgt_cpu_check(&b.cpu));
	expect_consistent();
	sgt_mapping_cleanup(&ma);
	ASSERT_EQ(0, sgt_table_map(&b, dev_, SGT_DMA_TO_DEVICE, 0, &mb)) << "space came back";
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
	ASSERT_EQ(0, sgt_table_map(&a, dev_, SGT_DMA_TO_DEVICE, 0, &ma));
	EXPECT_EQ(-SGT_ENOSPC, sgt_table_map(&b, dev_, SGT_DMA_TO_DEVICE, 0, &mb));
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
	ASSERT_EQ(0, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &m));
	uint32_t n;
	EXPECT_EQ(-SGT_ESTALE, sgt_cpu_check(&t.cpu)) << "map consumed the unmapped handle";
	EXPECT_EQ(-SGT_ESTALE, sgt_table_map(&t, dev_, SGT_DMA_TO_DEVICE, 0, &again));
	EXPECT_EQ(-SGT_ESTALE, append(&t, { 0x1100 }, 0, kPs));
	ASSERT_EQ(0, sgt_mapping_unmap(&m, &back));
	EXPECT_EQ(-SGT_ESTALE, sgt_dma_info(&m.dma, &n)) << "unmap consumed the mapping";
	EXPECT_EQ(-SGT_ESTALE, sgt_dma_sync_for_cpu(&m.dma));
	EXPECT_EQ(-SGT_ESTALE, sgt_mapping_unmap(&m, &t));
	sgt_dma_iter it;
	EXPECT_EQ(-SGT_ESTALE, sgt_dma_iter_init(&it, &m.dma));
	ASSERT_EQ(0, sgt_table_map(&back, dev_, SGT_DMA_TO_DEVICE, 0, &m));
	sgt_mapping_cleanup(&m);
	EXPECT_EQ(-SGT_ESTALE, sgt_dma_sync_for_device(&m.dma)) << "dropped";
	EXPECT_EQ(-SGT_ESTALE, sgt_cpu_check(&m.dma.cpu));
	EXPECT_EQ(0u, reports()) << "the typed path never trips a debug check";
}

// A backend that, on unmap, reads every entry of the table and notes whether the table's chunks
// were still allocated: dropping a mapping must unmap before it frees.
struct OrderProbe {
	sgt_test_alloc *alloc;
	bool unmapped = false;
	uint64_t live_at_unmap = 0;
	uint64_t sum = 0;
};

int probe_map(sgt_device *dev, sgt_sg_table *sgt, sgt_dma_dir, unsigned long, uint32_t *out)
{
	(void)dev;
	uint64_t addr = 0x10000;
	for (sgt_chunk *c = sgt->head; c; c = c->next)
		for (uint32_t i = 0; i < c->num_ents; i++) {
			c->ents[i].dma_addr = addr;
			c->ents[i].dma_len = c->ents[i].len;
			addr += c->ents[i].len;
		}
	*out = sgt->num_cpu_ents;
	return 0;
}

int probe_unmap(sgt_device *dev, const sgt_sg_table *sgt, uint32_t, sgt_dma_dir, unsigned long)
{
	auto *p = static_cast<OrderProbe *>(dev->impl);
	p->unmapped = true;
	p->live_at_unmap = sgt_test_alloc_live(p->alloc);
	for (const sgt_chunk *c = sgt->head; c; c = c->next) // a use-after-free under ASan if freed
		for (uint32_t i = 0; i < c->num_ents; i++)
			p->sum += c->ents[i].dma_addr;
	return 0;
}

TEST_F(Dma, DropUnmapsBeforeFreeingTheEntries)
{
	setup(12, 1); // one chunk per entry: several allocations to free
	OrderProbe probe{ &alloc_ };
	const sgt_dma_ops ops = { SGT_DMA_OPS_ABI, "order-probe", probe_map, probe_unmap,
				  nullptr, nullptr, nullptr };
	sgt_device dev{ &ops, &probe, {}, "probe" };
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1000, 0x1002, 0x1004 }, 0, 3 * kPs));
	sgt_mapping m;
	ASSERT_EQ(0, sgt_table_map(&t, &dev, SGT_DMA_TO_DEVICE, 0, &m));
	ASSERT_EQ(0, sgt_dma_sync_for_cpu(&m.dma)) << "a backend without sync ops is coherent";
	sgt_mapping_cleanup(&m);
	EXPECT_TRUE(probe.unmapped);
	EXPECT_EQ(3u, probe.live_at_unmap) << "all three chunks were still allocated at unmap";
	EXPECT_EQ(0u, sgt_test_alloc_live(&alloc_));
	sgt_dma_caps caps;
	EXPECT_EQ(-SGT_EOPNOTSUPP, sgt_device_caps(&dev, &caps)) << "the probe has no caps op";
}

TEST_F(Dma, BorrowedMappingIteratesAndSyncsButNeverUnmaps)
{
	make(SGT_SIMIOMMU_IOMMU);
	sgt_table owner;
	ASSERT_EQ(0, from_pages(&owner, { 0x1000, 0x1005 }, 0, 2 * kPs));
	sgt_sg_table *raw = &owner.sgt__own;
	uint32_t n;
	ASSERT_EQ(0, sgt_dma_map_sg(dev_, raw, SGT_DMA_BIDIRECTIONAL, 0, &n));
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
	for (int i = 0; i < kThreads; i++) {
		threads.emplace_back([&, i] {
			for (int r = 0; r < kRounds; r++) {
				sgt_mapping m;
				uint8_t b;
				if (sgt_table_map(&tables[i], dev_, SGT_DMA_TO_DEVICE, 0, &m)) {
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
	for (int i = 0; i < kThreads; i++) {
		EXPECT_EQ(0, failures[i]) << "thread " << i;
		sgt_table_cleanup(&tables[i]);
	}
	EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim_));
	EXPECT_EQ(0u, reports()) << first_report();
}

} // namespace
