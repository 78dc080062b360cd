// SPDX-License-Identifier: MIT
// Construction: from_pages merge rules, appends, chunking, alloc_order, and bad input.
// Expected entries below are worked out by hand from the rules in sgt/table.h (4 KiB pages).
#include "helpers.hpp"

#include <algorithm>
#include <random>

#include "sgt/user.h"

using namespace sgt_test;
using V = std::vector<Ent>;

namespace
{

class Build : public SgtTest
{
      protected:
	sgt_table t_{};
	void TearDown() override
	{
		sgt_table_cleanup(&t_);
		SgtTest::TearDown();
	}
};

TEST_F(Build, ContiguousPagesMergeIntoOneEntry)
{
	ASSERT_EQ(0, from_pages(&t_, { 0x1000, 0x1001, 0x1002, 0x1003 }, 0, 4 * kPs));
	EXPECT_EQ((V{ { 0x1000, 0, 16384 } }), entries(&t_.cpu));
	EXPECT_EQ(0, sgt_cpu_check(&t_.cpu));
}

TEST_F(Build, ReversedPagesDoNotMerge)
{
	ASSERT_EQ(0, from_pages(&t_, { 0x1003, 0x1002, 0x1001, 0x1000 }, 0, 4 * kPs));
	EXPECT_EQ((V{ { 0x1003, 0, 4096 },
		      { 0x1002, 0, 4096 },
		      { 0x1001, 0, 4096 },
		      { 0x1000, 0, 4096 } }),
		  entries(&t_.cpu));
}

TEST_F(Build, GapsStartNewEntries)
{
	ASSERT_EQ(0,
		  from_pages(&t_, { 0x1000, 0x1001, 0x1005, 0x1006, 0x1007, 0x1010 }, 0, 6 * kPs));
	EXPECT_EQ((V{ { 0x1000, 0, 8192 }, { 0x1005, 0, 12288 }, { 0x1010, 0, 4096 } }),
		  entries(&t_.cpu));
}

TEST_F(Build, SamePageTwiceIsNotContiguous)
{
	ASSERT_EQ(0, from_pages(&t_, { 0x1000, 0x1000 }, 0, 2 * kPs));
	EXPECT_EQ((V{ { 0x1000, 0, 4096 }, { 0x1000, 0, 4096 } }), entries(&t_.cpu));
}

TEST_F(Build, MaxSegmentSplitsRuns)
{
	ASSERT_EQ(0, from_pages(&t_, run(0x1000, 5), 0, 5 * kPs, 8192));
	EXPECT_EQ((V{ { 0x1000, 0, 8192 }, { 0x1002, 0, 8192 }, { 0x1004, 0, 4096 } }),
		  entries(&t_.cpu));
}

TEST_F(Build, MaxSegmentIsRoundedDownToPages)
{
	ASSERT_EQ(0, from_pages(&t_, run(0x1000, 5), 0, 5 * kPs, 12287));
	EXPECT_EQ((V{ { 0x1000, 0, 8192 }, { 0x1002, 0, 8192 }, { 0x1004, 0, 4096 } }),
		  entries(&t_.cpu));
}

TEST_F(Build, MaxSegmentOfOnePageGivesOneEntryPerPage)
{
	ASSERT_EQ(0, from_pages(&t_, run(0x1000, 3), 0, 3 * kPs, 4096));
	EXPECT_EQ(3u, entries(&t_.cpu).size());
}

TEST_F(Build, OffsetAndShortSizeTrimFirstAndLastEntry)
{
	// Runs of two pages: 8192 - 100 = 8092 bytes, then 16384 - 150 - 8092 = 8142.
	ASSERT_EQ(0, from_pages(&t_, run(0x1000, 4), 100, 4 * kPs - 150, 8192));
	EXPECT_EQ((V{ { 0x1000, 100, 8092 }, { 0x1002, 0, 8142 } }), entries(&t_.cpu));
}

TEST_F(Build, PagesPastSizeAreNotUsed)
{
	ASSERT_EQ(0, from_pages(&t_, { 0x1000, 0x1001, 0x1200 }, 0, 5000));
	EXPECT_EQ((V{ { 0x1000, 0, 5000 } }), entries(&t_.cpu));
}

TEST_F(Build, OffsetPushesSizeIntoAnExtraPage)
{
	ASSERT_EQ(0, from_pages(&t_, { 0x1000, 0x1001 }, 4000, 200));
	EXPECT_EQ((V{ { 0x1000, 4000, 200 } }), entries(&t_.cpu));
	sgt_table_cleanup(&t_);
	ASSERT_EQ(-SGT_ERANGE, from_pages(&t_, { 0x1000 }, 4000, 200));
}

TEST_F(Build, AppendMergesContiguousPages)
{
	ASSERT_EQ(0, from_pages(&t_, { 0x1000, 0x1001 }, 0, 2 * kPs));
	ASSERT_EQ(0, append(&t_, { 0x1002, 0x1003 }, 0, 2 * kPs));
	EXPECT_EQ((V{ { 0x1000, 0, 16384 } }), entries(&t_.cpu));
	ASSERT_EQ(0, append(&t_, { 0x1100 }, 0, kPs));
	EXPECT_EQ((V{ { 0x1000, 0, 16384 }, { 0x1100, 0, 4096 } }), entries(&t_.cpu));
	EXPECT_EQ(0, sgt_cpu_check(&t_.cpu));
}

TEST_F(Build, AppendMergeStopsAtMaxSegment)
{
	ASSERT_EQ(0, from_pages(&t_, { 0x1000, 0x1001 }, 0, 2 * kPs));
	ASSERT_EQ(0, append(&t_, { 0x1002, 0x1003 }, 0, 2 * kPs, 12288));
	EXPECT_EQ((V{ { 0x1000, 0, 12288 }, { 0x1003, 0, 4096 } }), entries(&t_.cpu));
}

TEST_F(Build, AppendDoesNotMergeIntoEntryEndingMidPage)
{
	ASSERT_EQ(0, from_pages(&t_, { 0x1000 }, 0, 1000));
	ASSERT_EQ(0, append(&t_, { 0x1001 }, 0, kPs));
	EXPECT_EQ((V{ { 0x1000, 0, 1000 }, { 0x1001, 0, 4096 } }), entries(&t_.cpu));
}

TEST_F(Build, AppendWithOffsetDoesNotMerge)
{
	ASSERT_EQ(0, from_pages(&t_, { 0x1000 }, 0, kPs));
	ASSERT_EQ(0, append(&t_, { 0x1001 }, 10, 100));
	EXPECT_EQ((V{ { 0x1000, 0, 4096 }, { 0x1001, 10, 100 } }), entries(&t_.cpu));
}

TEST_F(Build, AppendMergesPartialLastPage)
{
	ASSERT_EQ(0, from_pages(&t_, { 0x1000 }, 0, kPs));
	uint64_t allocs = alloc_.num_allocs;
	ASSERT_EQ(0, append(&t_, { 0x1001, 0x1002 }, 0, 5000));
	EXPECT_EQ((V{ { 0x1000, 0, 9096 } }), entries(&t_.cpu));
	EXPECT_EQ(allocs, alloc_.num_allocs) << "a merge-only append needs no chunk";
	uint64_t total = 0;
	ASSERT_EQ(0, sgt_cpu_info(&t_.cpu, nullptr, &total));
	EXPECT_EQ(9096u, total);
}

TEST_F(Build, AppendToEmptyTableBehavesLikeFromPages)
{
	ASSERT_EQ(0, sgt_table_init(&t_, &params_));
	EXPECT_TRUE(entries(&t_.cpu).empty());
	ASSERT_EQ(0, append(&t_, { 0x1000, 0x1001, 0x1003 }, 8, 3 * kPs - 8));
	EXPECT_EQ((V{ { 0x1000, 8, 8184 }, { 0x1003, 0, 4096 } }), entries(&t_.cpu));
}

TEST_F(Build, EntriesFromOneCallFillExactChunks)
{
	setup(12, 3);
	// Eight non-contiguous pages with capacity 3: chunks of 4 (the first: its header is in the
	// handle, so it holds one more and its allocation is only entries), 3, then 1, sized to
	// fit.
	ASSERT_EQ(0, from_pages(&t_,
				{ 0x1000, 0x1002, 0x1004, 0x1006, 0x1008, 0x100a, 0x100c, 0x100e },
				0, 8 * kPs));
	EXPECT_EQ((std::vector<uint32_t>{ 4, 3, 1 }), chunk_fill(&t_.cpu));
	EXPECT_EQ(8u, entries(&t_.cpu).size());
	EXPECT_EQ(3u, alloc_.num_allocs);
	EXPECT_EQ(alloc_.live_bytes, 4 * sizeof(sgt_entry) + sgt_chunk_size(3) + sgt_chunk_size(1));
}

TEST_F(Build, AppendsFillTheTailThenChain)
{
	setup(12, 2);
	ASSERT_EQ(0, sgt_table_init(&t_, &params_));
	for (uint64_t i = 0; i < 5; i++) {
		ASSERT_EQ(0, append(&t_, { 0x1000 + 2 * i }, 0, kPs));
		ASSERT_EQ(0, sgt_cpu_check(&t_.cpu));
	}
	// Chunks as large as the table already is, up to the capacity: 1, 1, 2, then 2.
	EXPECT_EQ((std::vector<uint32_t>{ 1, 1, 2, 1 }), chunk_fill(&t_.cpu));
	EXPECT_EQ(4u, alloc_.num_allocs) << "appends fill the tail before they allocate";
	const sgt_sg_table *sgt;
	ASSERT_EQ(0, sgt_cpu_sg_table(&t_.cpu, &sgt));
	EXPECT_EQ(0x1008u, sgt_sg_last(sgt)->pfn);
}

// Memory: a table that grows by appends pays for what it holds, not for a full chunk, and a
// large one pays one chunk header per full chunk.
TEST_F(Build, AppendedTablesGrowTheirChunksWithTheTable)
{
	setup(12, 0);
	ASSERT_EQ(0, sgt_table_init(&t_, &params_));
	ASSERT_EQ(0, append(&t_, { 0x1000 }, 0, kPs));
	EXPECT_EQ(sizeof(sgt_entry), alloc_.live_bytes)
		<< "a one-entry table: 32 bytes, as Linux's";
	for (uint64_t i = 1; i < 200; i++)
		ASSERT_EQ(0, append(&t_, { 0x1000 + 2 * i }, 0, kPs));
	// 1, 1, 2, 4, ..., 64, then full chunks: at most the slack of the last chunk and a header
	// per chunk after the first above 32 bytes an entry.
	std::vector<uint32_t> fill = chunk_fill(&t_.cpu);
	EXPECT_EQ((std::vector<uint32_t>{ 1, 1, 2, 4, 8, 16, 32, 64, 72 }), fill);
	EXPECT_LE(alloc_.live_bytes, 200 * sizeof(sgt_entry) + 8 * sizeof(sgt_chunk) +
					     (SGT_DEFAULT_CHUNK_CAPACITY - 72) * sizeof(sgt_entry));
}

TEST_F(Build, ChunkCapacityOneChainsEveryEntryAfterTheFirstTwo)
{
	setup(12, 1);
	ASSERT_EQ(0, from_pages(&t_, { 0x1003, 0x1002, 0x1001 }, 0, 3 * kPs));
	EXPECT_EQ((std::vector<uint32_t>{ 2, 1 }), chunk_fill(&t_.cpu));
	ASSERT_EQ(0, append(&t_, { 0x1000, 0x1005 }, 0, 2 * kPs));
	EXPECT_EQ((std::vector<uint32_t>{ 2, 1, 1, 1 }), chunk_fill(&t_.cpu));
}

// Memory against Linux's sg_alloc_table() sizing (SG_MAX_SINGLE_ALLOC = 128 slots a page, one of
// them a chain link while more follow): never more, for any size up to a few thousand entries.
TEST_F(Build, OneShotTablesTakeNoMoreMemoryThanLinux)
{
	setup(12, 0);
	auto linux_bytes = [](uint64_t n) {
		uint64_t bytes = 0;
		for (; n > 128; n -= 127)
			bytes += 128 * 32;
		return bytes + n * 32;
	};
	for (uint64_t n :
	     { 1, 2, 3, 64, 127, 128, 129, 130, 254, 255, 256, 381, 382, 383, 1000, 4096 }) {
		std::vector<uint64_t> frames;
		for (uint64_t i = 0; i < n; i++)
			frames.push_back(0x1000 + 2 * i);
		ASSERT_EQ(0, from_pages(&t_, frames, 0, n * kPs)) << n;
		EXPECT_LE(alloc_.live_bytes, linux_bytes(n)) << n << " entries";
		sgt_table_cleanup(&t_);
		EXPECT_EQ(0u, alloc_.live_bytes);
	}
}

TEST_F(Build, DefaultChunkFillsAPage)
{
	// The most entries whose chunk still fits 4 KiB, like Linux's SG_MAX_SINGLE_ALLOC.
	EXPECT_LE(sgt_chunk_size(SGT_DEFAULT_CHUNK_CAPACITY), 4096u);
	EXPECT_GT(sgt_chunk_size(SGT_DEFAULT_CHUNK_CAPACITY + 1), 4096u);
}

TEST_F(Build, AllocOrderOwnsAndFreesItsPages)
{
	// order 1 = 8 KiB blocks: 20000 bytes -> 8192, 8192, 3616.
	ASSERT_EQ(0, sgt_table_init_alloc_order(&t_, &params_, 20000, 1, SGT_MAY_SLEEP));
	auto e = entries(&t_.cpu);
	ASSERT_EQ(3u, e.size());
	EXPECT_EQ(8192u, e[0].len);
	EXPECT_EQ(8192u, e[1].len);
	EXPECT_EQ(3616u, e[2].len);
	for (auto &x : e) {
		EXPECT_EQ(0u, x.offset);
		EXPECT_EQ(0u, (x.pfn - kBase) % 2) << "order-1 blocks are 2-page aligned";
	}
	EXPECT_EQ(3u, mem_.live_page_allocs);
	EXPECT_EQ(-SGT_EINVAL, append(&t_, { 0x1100 }, 0, kPs))
		<< "a table that owns its pages takes no provider pages";
	sgt_table_cleanup(&t_);
	EXPECT_EQ(0u, mem_.live_page_allocs);
}

TEST_F(Build, AllocOrderRejectsBadArguments)
{
	EXPECT_EQ(-SGT_EINVAL, sgt_table_init_alloc_order(&t_, &params_, 0, 0, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_EINVAL, sgt_table_init_alloc_order(&t_, &params_, 1, 20, SGT_MAY_SLEEP))
		<< "4 KiB << 20 does not fit a 32-bit entry length";
	EXPECT_EQ(-SGT_EINVAL, sgt_table_init_alloc_order(nullptr, &params_, 1, 0, SGT_MAY_SLEEP));
	sgt_memory no_alloc = mem_.mem;
	no_alloc.alloc_pages = nullptr;
	no_alloc.free_pages = nullptr;
	sgt_table_params p = params_;
	p.mem = &no_alloc;
	EXPECT_EQ(-SGT_EOPNOTSUPP, sgt_table_init_alloc_order(&t_, &p, 1, 0, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_ENOMEM,
		  sgt_table_init_alloc_order(&t_, &params_, (kPages + 1) * kPs, 0, SGT_MAY_SLEEP))
		<< "the arena runs out of pages";
	EXPECT_EQ(0u, alloc_.live_bytes);
}

TEST_F(Build, PlatformDefaultsWorkWithRealMemory)
{
	std::vector<uint8_t> buf(3 * kPs);
	uintptr_t a = reinterpret_cast<uintptr_t>(buf.data());
	uint64_t first = a >> 12, off = a & (kPs - 1);
	std::vector<uint64_t> pfns = { first, first + 1, first + 2, first + 3 };
	sgt_pages p;
	sgt_pages_from_array(&p, pfns.data(), pfns.size());
	ASSERT_EQ(0, sgt_table_init_from_pages(&t_, nullptr, &p, (uint32_t)off, buf.size(),
					       SGT_MAX_SEGMENT_UNLIMITED, SGT_MAY_SLEEP));
	EXPECT_EQ((V{ { first, (uint32_t)off, (uint32_t)buf.size() } }), entries(&t_.cpu));
	std::vector<uint8_t> in(buf.size());
	for (size_t i = 0; i < in.size(); i++)
		in[i] = (uint8_t)(i * 7);
	size_t n = 0;
	ASSERT_EQ(0, sgt_copy_from_buffer(&t_.cpu, 0, in.data(), in.size(), &n));
	EXPECT_EQ(in.size(), n);
	EXPECT_EQ(in, buf);
}

// ---- bad input: each class gets its code and leaves the table as it was ----

class BadInput : public Build
{
      protected:
	Snapshot before_;
	uint64_t allocs_ = 0;
	uint64_t live_ = 0;
	void SetUp() override
	{
		Build::SetUp();
		ASSERT_EQ(0, from_pages(&t_, { 0x1000, 0x1001, 0x1005 }, 0, 3 * kPs));
		before_ = snapshot(&t_.cpu);
		allocs_ = alloc_.num_allocs;
		live_ = alloc_.live_bytes;
	}
	int from_pages_with(sgt_table *t, const sgt_table_params &p)
	{
		uint64_t pfn = 0x1002;
		sgt_pages pages;
		sgt_pages_from_array(&pages, &pfn, 1);
		return sgt_table_init_from_pages(t, &p, &pages, 0, kPs, 8192, SGT_MAY_SLEEP);
	}
	void expect_unchanged()
	{
		EXPECT_EQ(before_, snapshot(&t_.cpu));
		EXPECT_EQ(live_, alloc_.live_bytes);
		EXPECT_EQ(0, sgt_cpu_check(&t_.cpu));
	}
};

TEST_F(BadInput, NullArguments)
{
	sgt_pages p;
	uint64_t pfn = 0x1002;
	sgt_pages_from_array(&p, &pfn, 1);
	EXPECT_EQ(-SGT_EINVAL, sgt_table_append_pages(nullptr, &p, 0, kPs, 8192, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_EINVAL, sgt_table_append_pages(&t_, nullptr, 0, kPs, 8192, SGT_MAY_SLEEP));
	sgt_pages no_fn = p;
	no_fn.pfn = nullptr;
	EXPECT_EQ(-SGT_EINVAL, sgt_table_append_pages(&t_, &no_fn, 0, kPs, 8192, SGT_MAY_SLEEP));
	sgt_table other;
	EXPECT_EQ(-SGT_EINVAL,
		  sgt_table_init_from_pages(nullptr, &params_, &p, 0, 1, 8192, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_EINVAL,
		  sgt_table_init_from_pages(&other, &params_, nullptr, 0, 1, 8192, SGT_MAY_SLEEP));
	EXPECT_EQ(-SGT_EINVAL, sgt_table_init(nullptr, &params_));
	expect_unchanged();
}

TEST_F(BadInput, ZeroPagesZeroSize)
{
	EXPECT_EQ(-SGT_EINVAL, append(&t_, {}, 0, kPs));
	EXPECT_EQ(-SGT_EINVAL, append(&t_, { 0x1002 }, 0, 0));
	expect_unchanged();
}

TEST_F(BadInput, OffsetPastFirstPage)
{
	EXPECT_EQ(-SGT_EINVAL, append(&t_, { 0x1002, 0x1003 }, 4096, 10));
	EXPECT_EQ(-SGT_EINVAL, append(&t_, { 0x1002, 0x1003 }, UINT32_MAX, 10));
	expect_unchanged();
}

TEST_F(BadInput, MaxSegmentUnderOnePage)
{
	EXPECT_EQ(-SGT_EINVAL, append(&t_, { 0x1002 }, 0, 10, 4095));
	EXPECT_EQ(-SGT_EINVAL, append(&t_, { 0x1002 }, 0, 10, 0));
	expect_unchanged();
}

TEST_F(BadInput, SizeLargerThanThePagesProvide)
{
	EXPECT_EQ(-SGT_ERANGE, append(&t_, { 0x1002, 0x1003 }, 0, 2 * kPs + 1));
	EXPECT_EQ(-SGT_ERANGE, append(&t_, { 0x1002, 0x1003 }, 1, 2 * kPs));
	expect_unchanged();
}

TEST_F(BadInput, LengthsThatOverflow)
{
	EXPECT_EQ(-SGT_EOVERFLOW, append(&t_, { 0x1002 }, 1, UINT64_MAX));
	EXPECT_EQ(-SGT_EOVERFLOW, append(&t_, { 0x1002 }, 0, UINT64_MAX))
		<< "table length plus size does not fit 64 bits";
	expect_unchanged();
}

TEST_F(BadInput, FrameNumbersPastTheDomain)
{
	uint64_t max_pfn = sgt_memory_max_pfn(&mem_.mem);
	EXPECT_EQ(-SGT_EOVERFLOW, append(&t_, { max_pfn }, 0, kPs));
	EXPECT_EQ(-SGT_EOVERFLOW, append(&t_, { max_pfn - 1, max_pfn }, 0, 2 * kPs));
	EXPECT_EQ(-SGT_EOVERFLOW, append(&t_, { 0x1002, UINT64_MAX }, 0, 2 * kPs));
	expect_unchanged();
}

TEST_F(BadInput, BadParams)
{
	sgt_table other;
	sgt_table_params p = params_;
	p.chunk_capacity = SGT_CHUNK_CAPACITY_MAX + 1;
	EXPECT_EQ(-SGT_EINVAL, from_pages_with(&other, p));
	sgt_allocator no_free = alloc_.alloc;
	no_free.free = nullptr;
	p = params_;
	p.alloc = &no_free;
	EXPECT_EQ(-SGT_EINVAL, from_pages_with(&other, p));
	for (unsigned shift : { 8u, 31u }) {
		sgt_memory bad = mem_.mem;
		bad.page_shift = shift;
		p = params_;
		p.mem = &bad;
		EXPECT_EQ(-SGT_EINVAL, from_pages_with(&other, p)) << "page shift " << shift;
	}
	sgt_memory no_map = mem_.mem;
	no_map.map_page = nullptr;
	p = params_;
	p.mem = &no_map;
	EXPECT_EQ(-SGT_EINVAL, from_pages_with(&other, p));
	expect_unchanged();
}

// A provider whose answer changes between sgt's two walks must not corrupt the table.
struct FlipProvider {
	uint64_t num_pages;
	bool seen_last = false; // the first walk has reached the last page
	bool second_walk = false; // a walk started again from page 0 after that
	uint64_t calls = 0;
	bool fewer = false; // the second walk gives fewer entries than the first
};

uint64_t flip_pfn(const void *ctx, uint64_t index)
{
	auto *f = const_cast<FlipProvider *>(static_cast<const FlipProvider *>(ctx));
	f->calls++;
	if (index == 0 && f->seen_last)
		f->second_walk = true;
	if (index + 1 == f->num_pages)
		f->seen_last = true;
	// Contiguous while counting, scattered while filling: more entries than reserved. With
	// fewer, the other way round: scattered while counting, contiguous while filling.
	if (f->fewer)
		return f->second_walk ? 0x1002 + index : 0x1002 + 2 * index;
	return f->second_walk ? 0x1002 + 2 * index : 0x1002 + index;
}

TEST_F(BadInput, ProviderThatChangesItsAnswer)
{
	FlipProvider f{ 4 };
	sgt_pages p{ 4, flip_pfn, &f };
	EXPECT_EQ(-SGT_EINVAL, sgt_table_append_pages(&t_, &p, 0, 4 * kPs, 8192, SGT_MAY_SLEEP));
	EXPECT_TRUE(f.second_walk);
	expect_unchanged();
}

// Fewer entries on the second walk: the reservation would be committed with slots never filled
// (garbage entries in a live table) if the walks were not compared.
TEST_F(Build, ProviderThatChangesItsAnswerCannotLeaveReservedSlotsUnfilled)
{
	ASSERT_EQ(0, from_pages(&t_, { 0x1100 }, 0, kPs));
	Snapshot before = snapshot(&t_.cpu);
	FlipProvider f{ 4 };
	f.fewer = true;
	sgt_pages p{ 4, flip_pfn, &f };
	EXPECT_EQ(-SGT_EINVAL, sgt_table_append_pages(&t_, &p, 0, 4 * kPs, 8192, SGT_MAY_SLEEP));
	EXPECT_TRUE(f.second_walk);
	EXPECT_EQ(before, snapshot(&t_.cpu));
	EXPECT_EQ(0, sgt_cpu_check(&t_.cpu));
	sgt_table_cleanup(&t_);
}

TEST_F(Build, ProviderThatChangesItsAnswerCannotOverrunTheReservation)
{
	// Capacity 1: the reservation is exactly two one-slot chunks, so a third put has nowhere
	// to go but past them.
	setup(12, 1);
	ASSERT_EQ(0, from_pages(&t_, { 0x1100 }, 0, kPs));
	Snapshot before = snapshot(&t_.cpu);
	FlipProvider f{ 4 };
	sgt_pages p{ 4, flip_pfn, &f };
	EXPECT_EQ(-SGT_EINVAL, sgt_table_append_pages(&t_, &p, 0, 4 * kPs, 8192, SGT_MAY_SLEEP));
	EXPECT_EQ(before, snapshot(&t_.cpu));
	EXPECT_EQ(1u, sgt_test_alloc_live(&alloc_));
}

// The layout rules applied page by page, the simplest way they can be written: the reference
// for the library's block-wise walk (which reads array providers inline and calls every other
// provider a block of frames at a time).
constexpr uint64_t kPs = 4096;

V reference_append(V table, const std::vector<uint64_t> &pfns, uint32_t offset, uint64_t size,
		   uint32_t max_seg)
{
	uint64_t seg = max_seg & ~(kPs - 1), left = size, take;
	size_t pages = (size_t)((offset + size + kPs - 1) / kPs), i = 0, run = 0;
	// Whole pages into the entry the call finds last, by bytes, while they follow it.
	while (offset == 0 && !table.empty() && i < pages) {
		Ent &last = table.back();
		uint64_t end = last.offset + last.len;
		if (end % kPs || pfns[i] != last.pfn + end / kPs || last.len + kPs > seg)
			break;
		take = std::min<uint64_t>(kPs, left);
		last.len += (uint32_t)take;
		left -= take;
		i++;
	}
	// New entries: runs of consecutive frames of at most seg / kPs pages.
	for (; i < pages; i++, left -= take) {
		take = std::min<uint64_t>(kPs - (i ? 0 : offset), left);
		if (run && run < seg / kPs && pfns[i] == pfns[i - 1] + 1) {
			table.back().len += (uint32_t)take;
			run++;
		} else {
			table.push_back(Ent{ pfns[i], i ? 0u : offset, (uint32_t)take });
			run = 1;
		}
	}
	return table;
}

uint64_t callback_pfn(const void *ctx, uint64_t index)
{
	return static_cast<const uint64_t *>(ctx)[index];
}

TEST_F(Build, ArrayAndCallbackProvidersAgreeWithAPerPageReference)
{
	std::mt19937_64 rng(11);
	for (int round = 0; round < 400; round++) {
		sgt_table a, c;
		ASSERT_EQ(0, sgt_table_init(&a, &params_));
		ASSERT_EQ(0, sgt_table_init(&c, &params_));
		V want;
		uint64_t next = 0x1000 + rng() % 64;
		for (int call = 0, calls = 1 + (int)(rng() % 3); call < calls; call++) {
			// Up to 300 pages: several of the callback path's 64-frame blocks.
			size_t n = 1 + rng() % 300;
			std::vector<uint64_t> pfns(n);
			int layout = (int)(rng() % 4);
			for (auto &f : pfns) {
				f = next;
				next += layout == 0 ? 1 : layout == 1 ? 2 : 1 + rng() % 2;
				if (layout == 3 && rng() % 8 == 0)
					next -= 1 + rng() % 3; // a frame again, or a step back
			}
			uint32_t offset = call == 0 || rng() % 3 == 0 ? (uint32_t)(rng() % kPs) : 0;
			// Ends at the end of the last page (so that the next call can merge), or
			// anywhere in it (at least one byte past the offset).
			uint64_t size = n * kPs - offset;
			if (rng() % 2)
				size -= rng() % (kPs - (n == 1 ? offset : 0));
			uint32_t max_seg =
				rng() % 4 == 0
					? SGT_MAX_SEGMENT_UNLIMITED
					: (uint32_t)(kPs * (1 + rng() % (rng() % 2 ? 8 : 80)) +
						     rng() % kPs);
			size_t pages = (size_t)((offset + size + kPs - 1) / kPs);
			sgt_pages pa, pc{ n, callback_pfn, pfns.data() };
			sgt_pages_from_array(&pa, pfns.data(), n);
			ASSERT_EQ(0, sgt_table_append_pages(&a, &pa, offset, size, max_seg,
							    SGT_MAY_SLEEP));
			ASSERT_EQ(0, sgt_table_append_pages(&c, &pc, offset, size, max_seg,
							    SGT_MAY_SLEEP));
			want = reference_append(
				want, std::vector<uint64_t>(pfns.begin(), pfns.begin() + pages),
				offset, size, max_seg);
			ASSERT_EQ(want, entries(&a.cpu)) << "round " << round << " call " << call;
			ASSERT_EQ(want, entries(&c.cpu)) << "round " << round << " call " << call;
		}
		sgt_table_cleanup(&a);
		sgt_table_cleanup(&c);
	}
}

} // namespace

// The context belongs to the call: a table built where it may sleep is appended in atomic
// context, and every allocation that append makes says so; so do alloc_order's pages and split.
TEST_F(Build, TheAllocationContextOfEachCallReachesTheAllocators)
{
	setup(12, 1); // one entry per chunk: every new entry allocates
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1000, 0x1005 }, 0, 2 * kPs));
	EXPECT_EQ(0u, alloc_.num_atomic) << "built with SGT_MAY_SLEEP";
	uint64_t pfns[] = { 0x1010, 0x1020 };
	sgt_pages p;
	sgt_pages_from_array(&p, pfns, 2);
	uint64_t attempts = alloc_.num_attempts;
	ASSERT_EQ(0, sgt_table_append_pages(&t, &p, 0, 2 * kPs, SGT_MAX_SEGMENT_UNLIMITED,
					    SGT_ATOMIC));
	EXPECT_GT(alloc_.num_attempts, attempts);
	EXPECT_EQ(alloc_.num_attempts - attempts, alloc_.num_atomic) << "all of them atomic";
	sgt_table parts[2];
	const uint64_t lens[] = { kPs, 3 * kPs };
	uint64_t before = alloc_.num_atomic;
	ASSERT_EQ(0, sgt_split(&t.cpu, 0, 2, lens, &params_, parts, SGT_ATOMIC));
	EXPECT_GT(alloc_.num_atomic, before);
	sgt_table_cleanup(&parts[0]);
	sgt_table_cleanup(&parts[1]);
	sgt_table_cleanup(&t);
	ASSERT_EQ(0, sgt_table_init_alloc_order(&t, &params_, 3 * kPs, 0, SGT_ATOMIC));
	EXPECT_EQ(3u, mem_.page_allocs_atomic);
	sgt_table_cleanup(&t);
	EXPECT_EQ(-SGT_EINVAL, sgt_table_append_pages(nullptr, &p, 0, kPs, 0, SGT_ATOMIC));
}

// The user platform's identity domain: frames are addresses, and it can allocate pages.
TEST(Platform, IdentityDomainAllocatesAndMapsRealMemory)
{
	sgt_memory mem;
	ASSERT_EQ(0, sgt_memory_identity_init(&mem, 16)); // 64 KiB pages
	EXPECT_EQ(0, sgt_memory_check(&mem));
	sgt_table_params p{ nullptr, &mem, 0 };
	sgt_table t;
	ASSERT_EQ(0, sgt_table_init_alloc_order(&t, &p, 3 * 65536 + 10, 1, SGT_MAY_SLEEP));
	std::vector<uint8_t> in(3 * 65536 + 10, 0x5a), out(in.size());
	size_t n;
	ASSERT_EQ(0, sgt_copy_from_buffer(&t.cpu, 0, in.data(), in.size(), &n));
	ASSERT_EQ(0, sgt_copy_to_buffer(&t.cpu, 0, out.data(), out.size(), &n));
	EXPECT_EQ(in, out);
	uint32_t ents;
	ASSERT_EQ(0, sgt_cpu_info(&t.cpu, &ents, nullptr));
	EXPECT_EQ(2u, ents) << "two blocks of two 64 KiB pages";
	sgt_table_cleanup(&t); // frees the pages through the domain
}

TEST(PlatformDeathTest, AFailedAssertionStopsInUserSpace)
{
	EXPECT_DEATH(sgt_platform_assert_fail("x == y", "file.c", 7), "assertion failed: x == y");
}
