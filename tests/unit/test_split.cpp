// SPDX-License-Identifier: MIT
// sgt_split: pieces keep the source's segmentation and cover exactly the bytes asked for.
#include "helpers.hpp"

using namespace sgt_test;
using V = std::vector<Ent>;

namespace {

class Split : public SgtTest {
    protected:
	sgt_table src_{};
	sgt_table out_[3]{};
	void SetUp() override
	{
		setup(12, 2);
		// {0x1000,100,8092} {0x1005,0,4096} {0x1009,0,4096}: 16284 bytes
		ASSERT_EQ(0, from_pages(&src_, { 0x1000, 0x1001, 0x1005, 0x1009 }, 100,
					4 * kPs - 100));
	}
	void TearDown() override
	{
		for (auto &t : out_)
			sgt_table_cleanup(&t);
		sgt_table_cleanup(&src_);
		SgtTest::TearDown();
	}
};

TEST_F(Split, PiecesCutEntriesAtTheirEnds)
{
	const uint64_t lens[] = { 5000, 4000, 7284 };
	ASSERT_EQ(0, sgt_split(&src_.cpu, 0, 3, lens, &params_, out_, SGT_MAY_SLEEP));
	// Piece 0: bytes 0..5000 of entry 0. Piece 1: entry 0 from byte 5000 (page 0x1001, offset
	// (100 + 5000) - 4096 = 1004) for 3092 bytes, then 908 bytes of entry 1.
	EXPECT_EQ((V{ { 0x1000, 100, 5000 } }), entries(&out_[0].cpu));
	EXPECT_EQ((V{ { 0x1001, 1004, 3092 }, { 0x1005, 0, 908 } }), entries(&out_[1].cpu));
	EXPECT_EQ((V{ { 0x1005, 908, 3188 }, { 0x1009, 0, 4096 } }), entries(&out_[2].cpu));
	for (auto &t : out_)
		EXPECT_EQ(0, sgt_cpu_check(&t.cpu));
}

TEST_F(Split, SkipAndBytesMatchTheSource)
{
	sgt_test_mem_fill(&mem_, 3);
	const uint64_t lens[] = { 1, 8191, 3 };
	const uint64_t skip = 4095;
	ASSERT_EQ(0, sgt_split(&src_.cpu, skip, 3, lens, &params_, out_, SGT_MAY_SLEEP));
	std::vector<uint8_t> whole(16284), piece;
	size_t n;
	ASSERT_EQ(0, sgt_copy_to_buffer(&src_.cpu, 0, whole.data(), whole.size(), &n));
	uint64_t at = skip;
	for (int k = 0; k < 3; k++) {
		piece.assign(lens[k] + 1, 0);
		ASSERT_EQ(0, sgt_copy_to_buffer(&out_[k].cpu, 0, piece.data(), piece.size(), &n));
		ASSERT_EQ(lens[k], n) << "piece " << k << " has exactly its length";
		EXPECT_EQ(0, memcmp(whole.data() + at, piece.data(), lens[k])) << "piece " << k;
		at += lens[k];
	}
}

TEST_F(Split, WholeTableIsACopyOfTheSegmentation)
{
	const uint64_t len = 16284;
	ASSERT_EQ(0, sgt_split(&src_.cpu, 0, 1, &len, &params_, out_, SGT_MAY_SLEEP));
	EXPECT_EQ(entries(&src_.cpu), entries(&out_[0].cpu));
}

TEST_F(Split, BadInputWritesNothing)
{
	const uint64_t zero[] = { 10, 0 };
	const uint64_t too_long[] = { 16284, 1 };
	const uint64_t huge[] = { UINT64_MAX, 2 };
	const uint64_t ok[] = { 10 };
	EXPECT_EQ(-SGT_EINVAL, sgt_split(&src_.cpu, 0, 2, zero, &params_, out_, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_ERANGE, sgt_split(&src_.cpu, 0, 2, too_long, &params_, out_, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_ERANGE, sgt_split(&src_.cpu, 16284, 1, ok, &params_, out_, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_EOVERFLOW, sgt_split(&src_.cpu, 0, 2, huge, &params_, out_, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_EINVAL, sgt_split(&src_.cpu, 0, 0, ok, &params_, out_, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_EINVAL, sgt_split(&src_.cpu, 0, 1, nullptr, &params_, out_, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_EINVAL, sgt_split(&src_.cpu, 0, 1, ok, &params_, nullptr, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_EINVAL, sgt_split(nullptr, 0, 1, ok, &params_, out_, SGT_MAY_SLEEP));
	sgt_test_mem other;
	ASSERT_EQ(0, sgt_test_mem_init(&other, 12, 0, 1));
	sgt_table_params p = params_;
	p.mem = &other.mem;
	EXPECT_EQ(-SGT_EINVAL, sgt_split(&src_.cpu, 0, 1, ok, &p, out_, SGT_MAY_SLEEP))
		<< "pieces live in the source's memory domain";
	sgt_test_mem_cleanup(&other);
	for (auto &t : out_)
		EXPECT_EQ(0u, t.cpu.sgt__state) << "untouched";
}

TEST_F(Split, SplitOfAnAllocOrderTableBorrowsItsPages)
{
	sgt_table owner;
	ASSERT_EQ(0, sgt_table_init_alloc_order(&owner, &params_, 3 * kPs, 0, SGT_MAY_SLEEP));
	const uint64_t len = 2 * kPs;
	ASSERT_EQ(0, sgt_split(&owner.cpu, kPs, 1, &len, &params_, out_, SGT_MAY_SLEEP));
	sgt_table_cleanup(&out_[0]);
	EXPECT_EQ(3u, mem_.live_page_allocs) << "the piece frees no pages";
	sgt_table_cleanup(&owner);
}

} // namespace
