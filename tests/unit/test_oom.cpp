// SPDX-License-Identifier: MIT
// Allocation failure sweep: fail the 1st, 2nd, ... allocation of each constructor until it
// succeeds. Every failure must return -SGT_ENOMEM, leave the table (or output handle) exactly as
// it was, and leak nothing.
#include "helpers.hpp"

#include <functional>

#include "sgt/simiommu.h"

using namespace sgt_test;

namespace {

class Oom : public SgtTest {
    protected:
	void SetUp() override { setup(12, 2); }

	// Runs @op with the Nth allocation (counted from now) failing, N = 1, 2, ... until @op
	// succeeds; @check runs after each failure. Returns how many failures it saw.
	int sweep(uint64_t *attempts, uint64_t *fail_at, const std::function<int()> &op,
		  const std::function<void()> &check)
	{
		for (int n = 1; n < 1000; n++) {
			*fail_at = *attempts + (uint64_t)n;
			int err = op();
			*fail_at = 0;
			if (err == 0)
				return n - 1;
			EXPECT_EQ(-SGT_ENOMEM, err) << "failure " << n;
			check();
			if (::testing::Test::HasFailure())
				return -1;
		}
		ADD_FAILURE() << "never succeeded";
		return -1;
	}
	int sweep_chunks(const std::function<int()> &op, const std::function<void()> &check)
	{
		return sweep(&alloc_.num_attempts, &alloc_.fail_at, op, check);
	}
	const std::vector<uint64_t> scattered_ = { 0x1000, 0x1002, 0x1004, 0x1006, 0x1008,
						   0x100a, 0x100c, 0x100e, 0x1010 };
};

TEST_F(Oom, FromPages)
{
	sgt_table t{};
	int failures = sweep_chunks(
		[&] { return from_pages(&t, scattered_, 0, 9 * kPs); },
		[&] {
			EXPECT_EQ(0u, t.cpu.sgt__state) << "output handle untouched";
			EXPECT_EQ(0u, alloc_.live_bytes);
		});
	EXPECT_EQ(4, failures) << "9 entries in chunks of 2, the first of 3: four allocations";
	EXPECT_EQ(9u, entries(&t.cpu).size());
	sgt_table_cleanup(&t);
}

TEST_F(Oom, AppendThatMergesAndChains)
{
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1000, 0x1001, 0x1003 }, 0, 3 * kPs));
	ASSERT_EQ(0, append(&t, { 0x1020 }, 0, kPs)); // tail: 1 of 2 slots used
	Snapshot before = snapshot(&t.cpu);
	uint64_t live = alloc_.live_bytes;
	// 0x1021 merges into the last entry; then 5 entries: 1 in the tail, 4 in two new chunks.
	std::vector<uint64_t> more = { 0x1021, 0x1030, 0x1032, 0x1034, 0x1036, 0x1038 };
	int failures = sweep_chunks([&] { return append(&t, more, 0, 6 * kPs); },
				    [&] {
					    EXPECT_EQ(before, snapshot(&t.cpu));
					    EXPECT_EQ(live, alloc_.live_bytes);
					    EXPECT_EQ(0, sgt_cpu_check(&t.cpu));
				    });
	EXPECT_EQ(2, failures);
	auto e = entries(&t.cpu);
	ASSERT_EQ(8u, e.size());
	EXPECT_EQ(8192u, e[2].len) << "the merge happened exactly once";
	sgt_table_cleanup(&t);
}

TEST_F(Oom, AllocOrderChunksAndPages)
{
	sgt_table t{};
	auto op = [&] { return sgt_table_init_alloc_order(&t, &params_, 5 * kPs, 0, SGT_MAY_SLEEP); };
	auto check = [&] {
		EXPECT_EQ(0u, t.cpu.sgt__state);
		EXPECT_EQ(0u, alloc_.live_bytes);
		EXPECT_EQ(0u, mem_.live_page_allocs) << "pages allocated before the failure freed";
	};
	EXPECT_EQ(2, sweep_chunks(op, check)) << "five entries in chunks of 3 and 2";
	sgt_table_cleanup(&t);
	t = {};
	EXPECT_EQ(5, sweep(&mem_.page_alloc_attempts, &mem_.fail_page_alloc_at, op, check))
		<< "every page allocation can fail";
	EXPECT_EQ(5u, mem_.live_page_allocs);
	sgt_table_cleanup(&t);
}

TEST_F(Oom, Split)
{
	sgt_table src;
	ASSERT_EQ(0, from_pages(&src, scattered_, 0, 9 * kPs));
	sgt_table out[3]{};
	const uint64_t lens[] = { 3 * kPs, 3 * kPs, 3 * kPs };
	uint64_t live = alloc_.live_bytes;
	int failures = sweep_chunks([&] { return sgt_split(&src.cpu, 0, 3, lens, &params_, out, SGT_MAY_SLEEP); },
				    [&] {
					    EXPECT_EQ(live, alloc_.live_bytes);
					    for (auto &o : out)
						    EXPECT_NE(0, sgt_cpu_check(&o.cpu))
							    << "no live output after a failure";
				    });
	EXPECT_EQ(3, failures) << "three pieces of three entries, each in its first chunk (of three)";
	for (auto &o : out) {
		EXPECT_EQ(3u, entries(&o.cpu).size());
		sgt_table_cleanup(&o);
	}
	sgt_table_cleanup(&src);
}

// The simulated IOMMU and the debug layer on the same sweep: a device whose creation fails
// leaves nothing behind, and a map that fails anywhere (its bookkeeping, a page-table node, an
// IOVA tree node, a bounce slot, the debug record) leaves the table unmapped and usable, the
// device consistent and nothing allocated.
class OomDevice : public Oom, public ::testing::WithParamInterface<sgt_simiommu_mode> {
    protected:
	sgt_test_alloc dev_alloc_{}; // the device's own allocations, failed one by one
	void SetUp() override
	{
		Oom::SetUp();
		sgt_test_alloc_init(&dev_alloc_);
	}
	sgt_simiommu_params params_for(sgt_simiommu_mode mode)
	{
		sgt_simiommu_params p{};
		p.mode = mode;
		p.mem = &mem_.mem;
		p.alloc = &dev_alloc_.alloc;
		p.bounce_pool = 1u << 20;
		return p;
	}
};

TEST_P(OomDevice, CreationAndMapSurviveEveryAllocationFailure)
{
	sgt_simiommu_params p = params_for(GetParam());
	sgt_simiommu *sim = nullptr;
	int failures = sweep(&dev_alloc_.num_attempts, &dev_alloc_.fail_at,
			     [&] { return sgt_simiommu_new(&p, &sim); },
			     [&] { EXPECT_EQ(0u, sgt_test_alloc_live(&dev_alloc_)) << "creation leaked"; });
	EXPECT_GT(failures, 0);
	sgt_device *dev = sgt_simiommu_device(sim);
	sgt_dma_debug_params dbg{};
	dbg.alloc = &dev_alloc_.alloc;
	uint64_t before_debug = sgt_test_alloc_live(&dev_alloc_);
	EXPECT_EQ(1, sweep(&dev_alloc_.num_attempts, &dev_alloc_.fail_at,
			   [&] { return sgt_dma_debug_enable(dev, &dbg); },
			   [&] { EXPECT_EQ(before_debug, sgt_test_alloc_live(&dev_alloc_)); }));
	// Frames far apart, so that the page table needs nodes the device has not made yet.
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1000, 0x1003, 0x1006 }, 100, 3 * kPs - 200));
	Snapshot snap = snapshot(&t.cpu);
	sgt_mapping m;
	failures = sweep(&dev_alloc_.num_attempts, &dev_alloc_.fail_at,
			 [&] {
				 return sgt_table_map(&t, dev, SGT_DMA_BIDIRECTIONAL, 0, &m,
						      SGT_MAY_SLEEP);
			 },
			 [&] {
				 EXPECT_EQ(snap, snapshot(&t.cpu)) << "the table is as it was";
				 EXPECT_EQ(0, sgt_cpu_check(&t.cpu));
				 // No allocation count here: page-table nodes made before the failure
				 // stay with the device, as a real IOMMU's do. IOVA ranges may not
				 // (sgt_simiommu_check() below compares them with the mappings), and
				 // anything else left behind shows at teardown, where nothing may stay.
				 EXPECT_EQ(0u, sgt_simiommu_live_mappings(sim));
				 EXPECT_EQ(0u, sgt_dma_debug_live(dev));
				 const char *why = nullptr;
				 EXPECT_EQ(0, sgt_simiommu_check(sim, &why)) << why;
			 });
	EXPECT_GE(failures, 2) << "at least the debug record and the device's bookkeeping";
	sgt_mapping_cleanup(&m);
	EXPECT_EQ(0u, sgt_dma_debug_num_reports(dev)) << sgt_dma_debug_msg(dev, 0);
	EXPECT_EQ(0u, sgt_simiommu_free(sim));
	EXPECT_EQ(0u, sgt_test_alloc_live(&dev_alloc_));
	EXPECT_FALSE(dev_alloc_.size_mismatch);
}

INSTANTIATE_TEST_SUITE_P(AllModes, OomDevice,
			 ::testing::Values(SGT_SIMIOMMU_IOMMU, SGT_SIMIOMMU_DIRECT,
					   SGT_SIMIOMMU_BOUNCE),
			 [](const auto &p) {
				 return std::string(p.param == SGT_SIMIOMMU_IOMMU    ? "iommu"
						    : p.param == SGT_SIMIOMMU_DIRECT ? "direct"
										     : "bounce");
			 });

} // namespace
