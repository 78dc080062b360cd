// SPDX-License-Identifier: MIT
// Copy and zero helpers at every offset/length edge, against a flat model: the table's bytes are
// a list of arena addresses, and each helper must act on exactly the addresses it names.
#include "helpers.hpp"

#include <algorithm>
#include <set>

using namespace sgt_test;

namespace {

class Copy : public SgtTest {
    protected:
	static constexpr uint64_t kP = 512; // small pages: many page crossings in few bytes
	sgt_table t_{};
	std::vector<uint8_t *> flat_;	 // table byte i lives at flat_[i]
	std::vector<uint64_t> points_; // skips and ends worth testing

	void SetUp() override
	{
		setup(9, 3);
		sgt_test_mem_fill(&mem_, 7);
		ASSERT_EQ(0, sgt_table_init(&t_, &params_));
		add({ kBase + 0, kBase + 1 }, 17, 700);
		add({ kBase + 5 }, 0, 1);
		add({ kBase + 7, kBase + 8, kBase + 9 }, 511, 1025);
		add({ kBase + 3 }, 200, 312);
		add({ kBase + 4 }, 0, 512); // merges into the previous entry
		add({ kBase + 20 }, 0, 300);
		ASSERT_EQ(5u, entries(&t_.cpu).size());
		collect_points();
	}
	void TearDown() override
	{
		sgt_table_cleanup(&t_);
		SgtTest::TearDown();
	}
	void add(const std::vector<uint64_t> &pfns, uint32_t off, uint64_t size)
	{
		ASSERT_EQ(0, append(&t_, pfns, off, size));
		uint64_t page = 0, o = off;
		for (uint64_t i = 0; i < size; i++, o++) {
			if (o == kP) {
				o = 0;
				page++;
			}
			flat_.push_back(sgt_test_mem_byte(&mem_, pfns[page], o));
		}
	}
	// Every entry start and page crossing, one byte either side, and the ends.
	void collect_points()
	{
		std::set<uint64_t> pts = { 0, 1, flat_.size(), flat_.size() + 1 };
		for (size_t i = 1; i < flat_.size(); i++) {
			if (flat_[i] != flat_[i - 1] + 1 || ((flat_[i] - mem_.arena) % kP) == 0)
				for (uint64_t d : { i - 1, i, i + 1 })
					pts.insert(d);
		}
		points_.assign(pts.begin(), pts.end());
	}
	std::vector<size_t> lens_from(uint64_t skip)
	{
		std::vector<size_t> lens = { 0, 1, SIZE_MAX };
		for (uint64_t p : points_)
			if (p > skip)
				lens.push_back(p - skip);
		return lens;
	}
	size_t avail(uint64_t skip, size_t len)
	{
		return skip >= flat_.size() ? 0 : std::min<uint64_t>(len, flat_.size() - skip);
	}
};

TEST_F(Copy, ToBufferAtEveryEdge)
{
	std::vector<uint8_t> buf(flat_.size() + 8);
	for (uint64_t skip : points_) {
		for (size_t len : lens_from(skip)) {
			size_t want = avail(skip, len), got = 12345;
			std::fill(buf.begin(), buf.end(), 0xee);
			ASSERT_EQ(0, sgt_copy_to_buffer(&t_.cpu, skip, buf.data(), len, &got));
			ASSERT_EQ(want, got) << "skip " << skip << " len " << len;
			for (size_t i = 0; i < want; i++)
				ASSERT_EQ(*flat_[skip + i], buf[i]) << "skip " << skip << " byte " << i;
			for (size_t i = want; i < buf.size(); i++)
				ASSERT_EQ(0xee, buf[i]) << "wrote past the copied count";
		}
	}
}

TEST_F(Copy, FromBufferAndZeroTouchExactlyTheirRange)
{
	std::vector<uint8_t> src(flat_.size() + 8);
	for (size_t i = 0; i < src.size(); i++)
		src[i] = (uint8_t)(0x80 | i);
	size_t arena_len = kPages * kP;
	for (int zero = 0; zero < 2; zero++) {
		for (uint64_t skip : points_) {
			for (size_t len : lens_from(skip)) {
				sgt_test_mem_fill(&mem_, (uint32_t)(skip * 31 + len));
				std::vector<uint8_t> want(mem_.arena, mem_.arena + arena_len);
				size_t n = avail(skip, len), got = 12345;
				for (size_t i = 0; i < n; i++)
					want[flat_[skip + i] - mem_.arena] = zero ? 0 : src[i];
				int err = zero ? sgt_zero(&t_.cpu, skip, len, &got)
					       : sgt_copy_from_buffer(&t_.cpu, skip, src.data(),
								      len, &got);
				ASSERT_EQ(0, err);
				ASSERT_EQ(n, got) << "skip " << skip << " len " << len;
				ASSERT_EQ(0, memcmp(want.data(), mem_.arena, arena_len))
					<< (zero ? "zero" : "copy_from") << " skip " << skip
					<< " len " << len;
			}
		}
	}
}

TEST_F(Copy, RoundTripThroughTheTable)
{
	std::vector<uint8_t> in(flat_.size()), out(flat_.size());
	for (size_t i = 0; i < in.size(); i++)
		in[i] = (uint8_t)(i * 13 + 5);
	size_t n;
	ASSERT_EQ(0, sgt_copy_from_buffer(&t_.cpu, 0, in.data(), in.size(), &n));
	ASSERT_EQ(0, sgt_copy_to_buffer(&t_.cpu, 0, out.data(), out.size(), &n));
	EXPECT_EQ(in, out);
}

TEST_F(Copy, NullBufferAndOutCount)
{
	size_t n = 99;
	EXPECT_EQ(-SGT_EINVAL, sgt_copy_to_buffer(&t_.cpu, 0, nullptr, 1, &n));
	EXPECT_EQ(0u, n);
	EXPECT_EQ(-SGT_EINVAL, sgt_copy_from_buffer(&t_.cpu, 0, nullptr, 1, &n));
	EXPECT_EQ(0, sgt_copy_to_buffer(&t_.cpu, 0, nullptr, 0, &n)) << "len 0 needs no buffer";
	EXPECT_EQ(0, sgt_zero(&t_.cpu, 0, 1, nullptr)) << "the count is optional";
	EXPECT_EQ(-SGT_EINVAL, sgt_zero(nullptr, 0, 1, &n));
}

TEST_F(Copy, RefusedPageStopsWithTheCountSoFar)
{
	sgt_table t;
	// Second page is one past the arena.
	ASSERT_EQ(0, from_pages(&t, { kBase + kPages - 1, kBase + kPages }, 0, 2 * kP));
	std::vector<uint8_t> buf(2 * kP);
	size_t n = 0;
	EXPECT_EQ(-SGT_EFAULT, sgt_copy_to_buffer(&t.cpu, 0, buf.data(), buf.size(), &n));
	EXPECT_EQ(kP, n);
	EXPECT_EQ(-SGT_EFAULT, sgt_zero(&t.cpu, 100, buf.size(), &n));
	EXPECT_EQ(kP - 100, n);
	sgt_table_cleanup(&t);
}

} // namespace
