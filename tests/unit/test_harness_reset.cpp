// SPDX-License-Identifier: MIT
// sgt_harness_reset(): a world reused after a sequence must be the world sgt_harness_new() makes
// for the next seed. The outcome trace test (tests/trace) shows the same steps run the same way;
// this one compares the state itself: memory, shadow, page ownership, counters, devices, slots.
#include <gtest/gtest.h>

#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_common.h"
extern "C" {
#include "world.h"
}

namespace
{

std::vector<std::vector<uint8_t>> trace_inputs()
{
	std::vector<std::vector<uint8_t>> v;
	std::string dir = std::string(SGT_SOURCE_DIR) + "/tests/trace/inputs";
	DIR *d = opendir(dir.c_str());
	if (!d)
		return v;
	while (dirent *e = readdir(d)) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, "seq-", 4))
			continue;
		std::ifstream f(dir + "/" + e->d_name, std::ios::binary);
		v.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
	}
	closedir(d);
	return v;
}

void expect_same_world(sgt_harness *a, sgt_harness *b, size_t input)
{
	SCOPED_TRACE("after input " + std::to_string(input));
	EXPECT_EQ(0, memcmp(a->mem.arena, b->mem.arena, H_PAGES * H_PS)) << "memory";
	EXPECT_EQ(0, memcmp(a->shadow, b->shadow, H_PAGES * H_PS)) << "shadow";
	EXPECT_EQ(0, memcmp(a->mem.page_used, b->mem.page_used, H_PAGES)) << "page ownership";
	EXPECT_EQ(0, memcmp(a->mem.block_order, b->mem.block_order, H_PAGES)) << "page blocks";
	EXPECT_EQ(a->mem.bad_frees, 0u);
	EXPECT_EQ(a->mem.live_page_allocs + a->mem.page_alloc_attempts + a->mem.num_maps +
			  (uint64_t)a->mem.mapped,
		  0u);
	EXPECT_EQ(a->alloc.num_attempts + a->alloc.num_allocs + a->alloc.live_bytes, 0u);
	EXPECT_EQ(a->small_iova, b->small_iova);
	// Field by field: the struct has padding, which an assignment need not clear.
	for (int d = 0; d < SGT_H_DEVS; d++) {
		EXPECT_EQ(a->dp[d].dma_mask, b->dp[d].dma_mask) << "device " << d;
		EXPECT_EQ(a->dp[d].max_segment_size, b->dp[d].max_segment_size) << "device " << d;
		EXPECT_EQ(a->dp[d].seg_boundary_mask, b->dp[d].seg_boundary_mask) << "device " << d;
		EXPECT_EQ(a->dp[d].alignment, b->dp[d].alignment) << "device " << d;
		EXPECT_EQ(a->dp[d].max_segments, b->dp[d].max_segments) << "device " << d;
	}
	EXPECT_EQ(0, memcmp(a->expect_reports, b->expect_reports, sizeof(a->expect_reports)));
	EXPECT_EQ(0, memcmp(a->expect_kind, b->expect_kind, sizeof(a->expect_kind)));
	EXPECT_EQ(0, memcmp(a->expect_faults, b->expect_faults, sizeof(a->expect_faults)));
	EXPECT_EQ(a->quarantine.n, 0u);
	EXPECT_EQ(a->fail_alloc_next, 0u);
	for (int d = 0; d < SGT_H_DEVS; d++) {
		EXPECT_FALSE(a->fail_map_pending[d]);
		ASSERT_NE(a->sim[d], nullptr);
		EXPECT_EQ(sgt_simiommu_live_mappings(a->sim[d]), 0u);
		EXPECT_EQ(sgt_simiommu_num_faults(a->sim[d]), 0u);
		EXPECT_EQ(sgt_dma_debug_num_reports(sgt_simiommu_device(a->sim[d])), 0u);
	}
	for (int i = 0; i < SGT_H_SLOTS; i++) {
		EXPECT_EQ(a->s[i].kind, H_EMPTY) << "slot " << i;
		EXPECT_EQ(a->s[i].mt.n, 0u) << "slot " << i;
		EXPECT_EQ(a->s[i].users, 0) << "slot " << i;
	}
	ASSERT_EQ(a->raw.mt.n, b->raw.mt.n);
	EXPECT_EQ(0, memcmp(a->raw.mt.e, b->raw.mt.e, a->raw.mt.n * sizeof(m_ent)));
	EXPECT_FALSE(a->raw.mapped);
}

TEST(HarnessReset, AReusedWorldIsANewWorld)
{
	auto inputs = trace_inputs();
	ASSERT_GE(inputs.size(), 50u) << "tests/trace/inputs not found";
	sgt_harness *h = nullptr;
	size_t dirty_resets = 0;
	for (size_t k = 0; k < inputs.size(); k++) {
		uint32_t seed = 0;
		sgt_op ops[SGT_FUZZ_MAX_OPS];
		size_t n = sgt_fuzz_decode(inputs[k].data(), inputs[k].size(), &seed, ops,
					   SGT_FUZZ_MAX_OPS);
		if (!h) {
			h = sgt_harness_new(seed);
		} else {
			ASSERT_EQ(0, sgt_harness_reset(h, seed));
			sgt_harness *fresh = sgt_harness_new(seed);
			ASSERT_NE(fresh, nullptr);
			expect_same_world(h, fresh, k);
			sgt_harness_free(fresh);
		}
		ASSERT_NE(h, nullptr);
		for (size_t i = 0; i < n; i++)
			ASSERT_NE(sgt_harness_apply(h, &ops[i]), SGT_H_MISMATCH)
				<< sgt_harness_why(h);
		ASSERT_EQ(sgt_harness_finish(h), SGT_H_OK) << sgt_harness_why(h);
		for (uint32_t p = 0; p < H_PAGES; p++)
			if (h->dirty[p] &&
			    memcmp(h->mem.arena + p * H_PS, h->pristine + p * H_PS, H_PS)) {
				dirty_resets++; // this reset really has memory to restore
				break;
			}
	}
	EXPECT_GT(dirty_resets, inputs.size() / 4) << "the sequences barely changed memory";
	ASSERT_EQ(0, sgt_harness_reset(h, 1));
	EXPECT_EQ(-1, sgt_harness_reset(h, 2)) << "a world that has not finished cannot be reset";
	sgt_harness_free(h);
}

} // namespace
