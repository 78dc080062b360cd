// SPDX-License-Identifier: MIT
// Navigation and the three CPU-side iterators.
#include "helpers.hpp"

using namespace sgt_test;

namespace {

struct Page {
	uint64_t pfn;
	uint32_t offset, len, ent_index;
	uint64_t page_index;
	bool operator==(const Page &o) const
	{
		return pfn == o.pfn && offset == o.offset && len == o.len &&
		       ent_index == o.ent_index && page_index == o.page_index;
	}
};

std::ostream &operator<<(std::ostream &os, const Page &p)
{
	return os << "{pfn " << p.pfn << " off " << p.offset << " len " << p.len << " ent "
		  << p.ent_index << " #" << p.page_index << "}";
}

class Iter : public SgtTest {
    protected:
	sgt_table t_{};
	void SetUp() override
	{
		setup(12, 2); // capacity 2: every walk crosses chunk boundaries
		// Entries: {0x1000,100,8092} {0x1003,0,4096} {0x1007,0,100} {0x1009,0,4096}
		ASSERT_EQ(0, sgt_table_init(&t_, &params_));
		ASSERT_EQ(0, append(&t_, { 0x1000, 0x1001 }, 100, 8092));
		ASSERT_EQ(0, append(&t_, { 0x1003 }, 0, 4096));
		ASSERT_EQ(0, append(&t_, { 0x1007 }, 0, 100));
		ASSERT_EQ(0, append(&t_, { 0x1009 }, 0, 4096));
		ASSERT_EQ(4u, entries(&t_.cpu).size());
	}
	void TearDown() override
	{
		sgt_table_cleanup(&t_);
		SgtTest::TearDown();
	}
	std::vector<Page> pages(uint64_t start)
	{
		std::vector<Page> out;
		sgt_page_iter it;
		EXPECT_EQ(0, sgt_page_iter_init(&it, &t_.cpu, start));
		while (sgt_page_iter_next(&it))
			out.push_back({ it.pfn, it.offset, it.len, it.ent_index, it.page_index });
		return out;
	}
};

TEST_F(Iter, NavigationFirstNextLast)
{
	const sgt_sg_table *sgt;
	ASSERT_EQ(0, sgt_cpu_sg_table(&t_.cpu, &sgt));
	sgt_pos pos;
	const sgt_entry *e = sgt_sg_first(sgt, &pos);
	std::vector<uint64_t> pfns;
	for (; e; e = sgt_sg_next(&pos))
		pfns.push_back(e->pfn);
	EXPECT_EQ((std::vector<uint64_t>{ 0x1000, 0x1003, 0x1007, 0x1009 }), pfns);
	EXPECT_EQ(nullptr, sgt_sg_next(&pos)) << "stays at the end";
	EXPECT_EQ(0x1009u, sgt_sg_last(sgt)->pfn);

	sgt_sg_table empty{};
	empty.mem = &mem_.mem;
	EXPECT_EQ(nullptr, sgt_sg_first(&empty, &pos));
	EXPECT_EQ(nullptr, sgt_sg_last(&empty));
}

TEST_F(Iter, NentsForLenAtEveryBoundary)
{
	uint32_t n = 0;
	const std::pair<uint64_t, uint32_t> cases[] = {
		{ 1, 1 },	  { 8092, 1 },	   { 8093, 2 },	    { 12188, 2 },
		{ 12189, 3 },	  { 12288, 3 },	   { 12289, 4 },    { 16384, 4 },
	};
	for (auto [len, want] : cases) {
		ASSERT_EQ(0, sgt_nents_for_len(&t_.cpu, len, &n)) << len;
		EXPECT_EQ(want, n) << "len " << len;
	}
	EXPECT_EQ(-SGT_ERANGE, sgt_nents_for_len(&t_.cpu, 16385, &n));
	EXPECT_EQ(-SGT_EINVAL, sgt_nents_for_len(&t_.cpu, 0, &n));
	EXPECT_EQ(-SGT_EINVAL, sgt_nents_for_len(&t_.cpu, 1, nullptr));
}

TEST_F(Iter, PageIteratorVisitsEveryPageOfEveryEntry)
{
	std::vector<Page> want = {
		{ 0x1000, 100, 3996, 0, 0 }, { 0x1001, 0, 4096, 0, 1 }, { 0x1003, 0, 4096, 1, 2 },
		{ 0x1007, 0, 100, 2, 3 },    { 0x1009, 0, 4096, 3, 4 },
	};
	EXPECT_EQ(want, pages(0));
	for (uint64_t start = 1; start <= want.size() + 1; start++) {
		std::vector<Page> tail(want.begin() + std::min<size_t>(start, want.size()),
				       want.end());
		EXPECT_EQ(tail, pages(start)) << "start_page " << start;
	}
}

TEST_F(Iter, PageIteratorSplitsAnEntryThatCrossesAPage)
{
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1010, 0x1011, 0x1012 }, 4000, 4200));
	sgt_page_iter it;
	ASSERT_EQ(0, sgt_page_iter_init(&it, &t.cpu, 0));
	std::vector<std::pair<uint32_t, uint32_t>> got;
	while (sgt_page_iter_next(&it))
		got.push_back({ it.offset, it.len });
	// 4000 + 4200 = 8200: 96 bytes in the first page, 4096 in the second, 8 in the third.
	EXPECT_EQ((std::vector<std::pair<uint32_t, uint32_t>>{ { 4000, 96 }, { 0, 4096 }, { 0, 8 } }),
		  got);
	sgt_table_cleanup(&t);
}

TEST_F(Iter, MiterPiecesNeverCrossPagesOrEntries)
{
	struct Piece {
		uint64_t pfn;
		size_t off, len;
	};
	std::vector<Piece> got;
	sgt_miter m;
	ASSERT_EQ(0, sgt_miter_start(&m, &t_.cpu, 0));
	while (sgt_miter_next(&m)) {
		uint64_t rel = (uint64_t)((uint8_t *)m.addr - mem_.arena);
		got.push_back({ kBase + (rel >> 12), (size_t)(rel & 4095), m.len });
		EXPECT_EQ(1, mem_.mapped) << "exactly the current page is mapped";
	}
	EXPECT_EQ(0, sgt_miter_error(&m));
	sgt_miter_stop(&m);
	EXPECT_EQ(0, mem_.mapped);
	ASSERT_EQ(5u, got.size());
	EXPECT_EQ(0x1000u, got[0].pfn);
	EXPECT_EQ(100u, got[0].off);
	EXPECT_EQ(3996u, got[0].len);
	EXPECT_EQ(0x1001u, got[1].pfn);
	EXPECT_EQ(4096u, got[1].len);
	EXPECT_EQ(0x1007u, got[3].pfn);
	EXPECT_EQ(100u, got[3].len);
}

TEST_F(Iter, MiterSkipAndPartialConsumption)
{
	sgt_miter m;
	// Skip into the second page of the first entry: table byte 5000 = page 0x1001 offset 1004.
	ASSERT_EQ(0, sgt_miter_start(&m, &t_.cpu, 5000));
	ASSERT_TRUE(sgt_miter_next(&m));
	EXPECT_EQ(sgt_test_mem_byte(&mem_, 0x1001, 1004), m.addr);
	EXPECT_EQ(4096u - 1004, m.len);
	m.consumed = 10; // resume 10 bytes later, same page
	ASSERT_TRUE(sgt_miter_next(&m));
	EXPECT_EQ(sgt_test_mem_byte(&mem_, 0x1001, 1014), m.addr);
	EXPECT_EQ(4096u - 1014, m.len);
	ASSERT_TRUE(sgt_miter_next(&m));
	EXPECT_EQ(sgt_test_mem_byte(&mem_, 0x1003, 0), m.addr);
	sgt_miter_stop(&m);
	sgt_miter_stop(&m); // twice is harmless
	EXPECT_EQ(0, mem_.mapped);

	ASSERT_EQ(0, sgt_miter_start(&m, &t_.cpu, 16384)); // at the end: empty walk
	EXPECT_FALSE(sgt_miter_next(&m));
	EXPECT_EQ(0, sgt_miter_error(&m));
	sgt_miter_stop(&m);
}

TEST_F(Iter, MiterReportsAPageTheDomainRefuses)
{
	sgt_table t;
	// Frame 0x1000 + kPages is one past the arena: the domain returns NULL for it.
	ASSERT_EQ(0, from_pages(&t, { 0x1000 + kPages - 1, 0x1000 + kPages }, 0, 2 * kPs));
	sgt_miter m;
	ASSERT_EQ(0, sgt_miter_start(&m, &t.cpu, 0));
	EXPECT_TRUE(sgt_miter_next(&m));
	EXPECT_FALSE(sgt_miter_next(&m));
	EXPECT_EQ(-SGT_EFAULT, sgt_miter_error(&m));
	EXPECT_FALSE(sgt_miter_next(&m)) << "stays ended";
	sgt_miter_stop(&m);
	sgt_table_cleanup(&t);
}

TEST_F(Iter, EmptyTableIteratesNothing)
{
	sgt_table t;
	ASSERT_EQ(0, sgt_table_init(&t, &params_));
	sgt_ent_iter ei;
	sgt_page_iter pi;
	sgt_miter m;
	ASSERT_EQ(0, sgt_ent_iter_init(&ei, &t.cpu));
	EXPECT_FALSE(sgt_ent_iter_next(&ei));
	ASSERT_EQ(0, sgt_page_iter_init(&pi, &t.cpu, 0));
	EXPECT_FALSE(sgt_page_iter_next(&pi));
	ASSERT_EQ(0, sgt_miter_start(&m, &t.cpu, 0));
	EXPECT_FALSE(sgt_miter_next(&m));
	sgt_miter_stop(&m);
	sgt_table_cleanup(&t);
}

} // namespace
