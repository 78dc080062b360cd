// SPDX-License-Identifier: MIT
// Shared fixture and helpers for the unit tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "sgt/sgt.h"
#include "sgt_testkit.h"

namespace sgt_test {

struct Ent {
	uint64_t pfn;
	uint32_t offset;
	uint32_t len;
	bool operator==(const Ent &o) const
	{
		return pfn == o.pfn && offset == o.offset && len == o.len;
	}
};

inline std::ostream &operator<<(std::ostream &os, const Ent &e)
{
	return os << "{pfn " << e.pfn << ", off " << e.offset << ", len " << e.len << "}";
}

// The CPU entries of any handle, through the public entry iterator.
inline std::vector<Ent> entries(const sgt_cpu *t)
{
	std::vector<Ent> out;
	sgt_ent_iter it;
	EXPECT_EQ(0, sgt_ent_iter_init(&it, t));
	uint32_t i = 0;
	while (sgt_ent_iter_next(&it)) {
		EXPECT_EQ(i++, it.index);
		out.push_back({ it.ent->pfn, it.ent->offset, it.ent->len });
	}
	return out;
}

// Chunk fill levels of a raw table, head to tail.
inline std::vector<uint32_t> chunk_fill(const sgt_cpu *t)
{
	const sgt_sg_table *sgt = nullptr;
	std::vector<uint32_t> out;
	EXPECT_EQ(0, sgt_cpu_sg_table(t, &sgt));
	for (const sgt_chunk *c = sgt ? sgt->head : nullptr; c; c = c->next)
		out.push_back(c->num_ents);
	return out;
}

// A snapshot of everything observable about a table, to prove a failed call changed nothing.
struct Snapshot {
	std::vector<Ent> ents;
	std::vector<uint32_t> chunks;
	uint64_t total_len = 0;
	bool operator==(const Snapshot &o) const
	{
		return ents == o.ents && chunks == o.chunks && total_len == o.total_len;
	}
};

inline Snapshot snapshot(const sgt_cpu *t)
{
	Snapshot s;
	s.ents = entries(t);
	s.chunks = chunk_fill(t);
	EXPECT_EQ(0, sgt_cpu_info(t, nullptr, &s.total_len));
	return s;
}

// Page size 4 KiB unless a test says otherwise; frames 0x1000.. index the arena.
class SgtTest : public ::testing::Test {
    protected:
	static constexpr uint64_t kBase = 0x1000;
	static constexpr uint64_t kPages = 512;
	static constexpr uint64_t kPs = 4096;

	sgt_test_alloc alloc_{};
	sgt_test_mem mem_{};
	sgt_table_params params_{};

	void SetUp() override { setup(12, 0); }

	// SetUp() calls it with the defaults; a test may call it again for another geometry.
	void setup(unsigned shift, uint32_t chunk_capacity)
	{
		ASSERT_EQ(0u, sgt_test_alloc_live(&alloc_)) << "re-setup with tables alive";
		sgt_test_mem_cleanup(&mem_);
		sgt_test_alloc_init(&alloc_);
		ASSERT_EQ(0, sgt_test_mem_init(&mem_, shift, kBase, kPages));
		params_ = { &alloc_.alloc, &mem_.mem, chunk_capacity };
	}

	void TearDown() override
	{
		EXPECT_EQ(0u, sgt_test_alloc_live(&alloc_)) << "leaked chunks";
		EXPECT_EQ(0u, alloc_.live_bytes);
		EXPECT_FALSE(alloc_.size_mismatch) << "free with a size other than allocated";
		EXPECT_FALSE(alloc_.bad_ctx) << "an allocation context that is neither";
		EXPECT_EQ(0, mem_.mapped) << "unbalanced map_page/unmap_page";
		EXPECT_EQ(0u, mem_.live_page_allocs) << "leaked pages";
		sgt_test_mem_cleanup(&mem_);
	}

	int from_pages(sgt_table *t, const std::vector<uint64_t> &pfns, uint32_t offset,
		       uint64_t size, uint32_t max_seg = SGT_MAX_SEGMENT_UNLIMITED)
	{
		sgt_pages p;
		sgt_pages_from_array(&p, pfns.data(), pfns.size());
		return sgt_table_init_from_pages(t, &params_, &p, offset, size, max_seg, SGT_MAY_SLEEP);
	}

	int append(sgt_table *t, const std::vector<uint64_t> &pfns, uint32_t offset,
		   uint64_t size, uint32_t max_seg = SGT_MAX_SEGMENT_UNLIMITED)
	{
		sgt_pages p;
		sgt_pages_from_array(&p, pfns.data(), pfns.size());
		return sgt_table_append_pages(t, &p, offset, size, max_seg, SGT_MAY_SLEEP);
	}

	static std::vector<uint64_t> run(uint64_t first, uint64_t n)
	{
		std::vector<uint64_t> v;
		for (uint64_t i = 0; i < n; i++)
			v.push_back(first + i);
		return v;
	}
};

} // namespace sgt_test
