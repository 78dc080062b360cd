// SPDX-License-Identifier: MIT
// Shrunk property-test sequences and fuzz crashes kept as unit tests: each was printed by
// RapidCheck or by `sgt_decode --test` (tools/fuzz.sh writes one next to every crash file) when a
// bug was planted or found (see docs/props.md, docs/fuzzing.md), and each must pass on correct
// code and fail on that bug.
#include <gtest/gtest.h>

#include <vector>

#include "sgt_harness.h"

namespace {

sgt_op from_pages(uint8_t slot, uint8_t layout, uint16_t first, uint16_t pages, uint32_t off,
		  uint64_t size, uint32_t max_seg)
{
	sgt_op op{};
	op.kind = SGT_OP_FROM_PAGES;
	op.slot = slot;
	op.layout = layout;
	op.first_page = first;
	op.num_pages = pages;
	op.offset = off;
	op.size = size;
	op.max_seg = max_seg;
	return op;
}

// @seed: the harness seed (device constraints); fuzz inputs carry theirs (sgt_decode --test).
void replay(std::vector<sgt_op> ops, uint32_t seed = 0)
{
	sgt_harness *h = sgt_harness_new(seed);
	ASSERT_NE(nullptr, h);
	for (auto &op : ops) {
		char buf[256];
		int r = sgt_harness_apply(h, &op);
		sgt_op_describe(&op, buf, sizeof(buf));
		EXPECT_EQ(SGT_H_OK, r) << buf << ": " << sgt_harness_why(h);
	}
	EXPECT_EQ(SGT_H_OK, sgt_harness_finish(h)) << sgt_harness_why(h);
	sgt_harness_free(h);
}

// Planted bug: pages merged when the next frame is not the following one.
TEST(Regressions, ReversedPagesStaySeparate)
{
	replay({ from_pages(1, SGT_LAYOUT_REVERSED, 0, 3, 0, 513, 1536) });
}

// Planted bug: append merged into the last entry past max_segment.
TEST(Regressions, AppendMergeRespectsMaxSegment)
{
	sgt_op append = from_pages(0, SGT_LAYOUT_CONTINUE, 0, 1, 0, 512, 512);
	append.kind = SGT_OP_APPEND;
	replay({ from_pages(0, SGT_LAYOUT_CONTIGUOUS, 122, 2, 0, 1024, 512), append });
}

} // namespace
