// SPDX-License-Identifier: MIT
// IOVA allocator: unit cases, and random alloc/free sequences against a simple reference that
// knows which granules are live, quarantined or reserved.
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <thread>
#include <map>
#include <random>

#include "sgt/iova.h"
#include "sgt_testkit.h"

namespace
{

constexpr unsigned kShift = 12;
constexpr uint64_t kG = 1u << kShift;

struct Iova {
	sgt_iova *v = nullptr;
	~Iova()
	{
		sgt_iova_free(v);
	}
};

void expect_valid(const sgt_iova *v)
{
	const char *why = nullptr;
	EXPECT_EQ(0, sgt_iova_check(v, &why)) << why;
}

TEST(Iova, AllocationsAreSizeAlignedAndAvoidReservedRanges)
{
	const sgt_dma_window win = { 0xfe000000, 0xffffffff }; // 32 MiB below 4 GiB
	const sgt_dma_window msi = { 0xfee00000, 0xfeefffff };
	sgt_iova_params p = { kShift, &win, 1, &msi, 1, 0, 0, nullptr, false };
	Iova a;
	ASSERT_EQ(0, sgt_iova_new(&p, &a.v));
	sgt_iova_stats st;
	sgt_iova_get_stats(a.v, &st);
	EXPECT_EQ((32u << 20) / kG - (1u << 20) / kG, st.free_granules) << "MSI window cut out";
	for (uint64_t len :
	     std::initializer_list<uint64_t>{ 1, kG, kG + 1, 3 * kG, 64 * kG, 1000 * kG }) {
		uint64_t addr;
		ASSERT_EQ(0, sgt_iova_alloc(a.v, len, UINT64_MAX, &addr)) << len;
		uint64_t g = (len + kG - 1) / kG, pow2 = 1;
		while (pow2 < g)
			pow2 <<= 1;
		EXPECT_EQ(0u, addr % (pow2 * kG)) << "size-aligned: len " << len;
		EXPECT_GE(addr, win.start);
		EXPECT_LE(addr + pow2 * kG - 1, win.last);
		EXPECT_TRUE(addr + pow2 * kG - 1 < msi.start || addr > msi.last)
			<< std::hex << addr;
		EXPECT_TRUE(sgt_iova_is_live(a.v, addr + len - 1));
		expect_valid(a.v);
	}
}

// Allocate one granule at a time until the space runs out; every granule must lie in a window
// and outside every reserved range. Returns how many there were.
uint64_t drain(sgt_iova *v, const std::vector<sgt_dma_window> &wins,
	       const std::vector<sgt_dma_window> &reserved, uint64_t limit = UINT64_MAX)
{
	uint64_t n = 0, addr;
	while (sgt_iova_alloc(v, kG, limit, &addr) == 0) {
		n++;
		bool in_window = false;
		for (const auto &w : wins)
			in_window |= addr >= w.start && addr + kG - 1 <= w.last;
		EXPECT_TRUE(in_window) << std::hex << addr;
		for (const auto &r : reserved)
			EXPECT_TRUE(addr + kG - 1 < r.start || addr > r.last) << std::hex << addr;
		EXPECT_LE(addr + kG - 1, limit);
	}
	expect_valid(v);
	return n;
}

// A reserved range at the start, the end, the middle, over a whole window, or outside all of
// them; and windows whose bounds are not granule-aligned.
TEST(Iova, ReservedRangesAndUnalignedWindowsInEveryPosition)
{
	const uint64_t b = 0x100000, e = 0x1fffff; // 256 granules
	struct Case {
		const char *what;
		std::vector<sgt_dma_window> wins, res;
		uint64_t usable;
	} cases[] = {
		{ "at the start", { { b, e } }, { { 0, b + 4 * kG - 1 } }, 252 },
		{ "at the end", { { b, e } }, { { e - 4 * kG + 1, e + kG } }, 252 },
		{ "in the middle", { { b, e } }, { { b + 10 * kG + 5, b + 11 * kG } }, 254 },
		{ "over one window of two",
		  { { b, e }, { 0x300000, 0x300000 + 8 * kG - 1 } },
		  { { 0x2f0000, 0x310000 } },
		  256 },
		{ "outside every window", { { b, e } }, { { 0x800000, 0x900000 } }, 256 },
		{ "unaligned bounds", { { b + 1, e - 1 } }, {}, 254 },
		{ "a window below one granule is dropped",
		  { { b, e }, { 0x400000, 0x400000 + kG - 2 } },
		  {},
		  256 },
	};
	for (const auto &c : cases) {
		SCOPED_TRACE(c.what);
		sgt_iova_params p = { kShift,
				      c.wins.data(),
				      (uint32_t)c.wins.size(),
				      c.res.data(),
				      (uint32_t)c.res.size(),
				      0,
				      0,
				      nullptr,
				      false };
		Iova a;
		ASSERT_EQ(0, sgt_iova_new(&p, &a.v));
		EXPECT_EQ(c.usable, drain(a.v, c.wins, c.res));
	}
	// Reserved ranges that leave nothing, or split the windows into more pieces than it keeps.
	const sgt_dma_window all = { b, e }, everything = { 0, UINT64_MAX };
	sgt_iova_params p = { kShift, &all, 1, &everything, 1, 0, 0, nullptr, false };
	sgt_iova *v = nullptr;
	EXPECT_EQ(-SGT_EINVAL, sgt_iova_new(&p, &v)) << "no usable space";
	std::vector<sgt_dma_window> holes;
	for (int i = 0; i < 16; i++)
		holes.push_back({ b + (2 * i + 1) * kG, b + (2 * i + 1) * kG });
	p = { kShift, &all, 1, holes.data(), (uint32_t)holes.size(), 0, 0, nullptr, false };
	Iova most;
	ASSERT_EQ(0, sgt_iova_new(&p, &most.v)) << "the most reserved ranges, all splitting";
	EXPECT_EQ(256u - 16u, drain(most.v, { all }, holes));
	EXPECT_EQ(nullptr, v);
}

// The top of the 64-bit space, and limits that do not end on a granule.
TEST(Iova, TheTopOfTheAddressSpaceAndUnalignedLimits)
{
	const std::vector<sgt_dma_window> top = { { UINT64_MAX - 16 * kG + 1, UINT64_MAX } };
	sgt_iova_params p = { kShift, top.data(), 1, nullptr, 0, 0, 0, nullptr, false };
	Iova a;
	ASSERT_EQ(0, sgt_iova_new(&p, &a.v));
	EXPECT_EQ(16u, drain(a.v, top, {}));
	const std::vector<sgt_dma_window> low = { { 0, 64 * kG - 1 } };
	p = { kShift, low.data(), 1, nullptr, 0, 0, 0, nullptr, false };
	Iova c;
	ASSERT_EQ(0, sgt_iova_new(&p, &c.v));
	EXPECT_EQ(9u, drain(c.v, low, {}, 10 * kG - 2)) << "a limit inside a granule excludes it";
	uint64_t addr;
	Iova d;
	ASSERT_EQ(0, sgt_iova_new(&p, &d.v));
	EXPECT_EQ(-SGT_ENOSPC, sgt_iova_alloc(d.v, kG, kG - 2, &addr))
		<< "no whole granule under it";
}

// Freeing everything coalesces the buddies back, returning the bookkeeping nodes it no longer
// needs (beyond what it keeps spare) to the allocator.
TEST(Iova, FreeingEverythingCoalescesAndGivesNodesBack)
{
	sgt_test_alloc ta;
	sgt_test_alloc_init(&ta);
	const sgt_dma_window win = { 0, 4096 * kG - 1 };
	sgt_iova_params p = { kShift, &win, 1, nullptr, 0, 0, 0, &ta.alloc, false };
	Iova a;
	ASSERT_EQ(0, sgt_iova_new(&p, &a.v));
	sgt_iova_stats st0;
	sgt_iova_get_stats(a.v, &st0);
	std::vector<uint64_t> addrs(4096);
	for (auto &x : addrs)
		ASSERT_EQ(0, sgt_iova_alloc(a.v, kG, UINT64_MAX, &x));
	uint64_t peak = sgt_test_alloc_live(&ta);
	for (auto x : addrs)
		ASSERT_EQ(0, sgt_iova_release(a.v, x, kG));
	expect_valid(a.v);
	sgt_iova_stats st;
	sgt_iova_get_stats(a.v, &st);
	EXPECT_EQ(st0.free_granules, st.free_granules);
	EXPECT_LT(sgt_test_alloc_live(&ta), peak) << "nodes given back";
	uint64_t addr;
	EXPECT_EQ(0, sgt_iova_alloc(a.v, 4096 * kG, UINT64_MAX, &addr)) << "one block again";
	ASSERT_EQ(0, sgt_iova_release(a.v, addr, 4096 * kG));
}

TEST(Iova, LimitIsHonoured)
{
	const sgt_dma_window wins[2] = { { 0x10000, 0x1ffff }, { 1ull << 32, (1ull << 33) - 1 } };
	sgt_iova_params p = { kShift, wins, 2, nullptr, 0, 0, 0, nullptr, false };
	Iova a;
	ASSERT_EQ(0, sgt_iova_new(&p, &a.v));
	uint64_t addr;
	ASSERT_EQ(0, sgt_iova_alloc(a.v, 16 * kG, UINT32_MAX, &addr));
	EXPECT_EQ(0x10000u, addr) << "the only room below 4 GiB";
	EXPECT_EQ(-SGT_ENOSPC, sgt_iova_alloc(a.v, kG, UINT32_MAX, &addr)) << "low window full";
	ASSERT_EQ(0, sgt_iova_alloc(a.v, kG, UINT64_MAX, &addr));
	EXPECT_GE(addr, 1ull << 32);
	EXPECT_EQ(-SGT_ENOSPC, sgt_iova_alloc(a.v, kG, 0xffe, &addr)) << "limit below a granule";
	expect_valid(a.v);
}

TEST(Iova, MagazineReusesTheLastFreedBlock)
{
	const sgt_dma_window win = { 0, (1ull << 30) - 1 };
	sgt_iova_params p = { kShift, &win, 1, nullptr, 0, 0, 4, nullptr, false };
	Iova a;
	ASSERT_EQ(0, sgt_iova_new(&p, &a.v));
	uint64_t x, y, z;
	ASSERT_EQ(0, sgt_iova_alloc(a.v, 8 * kG, UINT64_MAX, &x));
	ASSERT_EQ(0, sgt_iova_alloc(a.v, 8 * kG, UINT64_MAX, &y));
	ASSERT_EQ(0, sgt_iova_release(a.v, x, 8 * kG));
	ASSERT_EQ(0, sgt_iova_alloc(a.v, 5 * kG, UINT64_MAX, &z));
	EXPECT_EQ(x, z) << "same order: served from the magazine";
	sgt_iova_stats st;
	sgt_iova_get_stats(a.v, &st);
	EXPECT_EQ(1u, st.magazine_hits);
	expect_valid(a.v);
}

TEST(Iova, QuarantineDelaysReuse)
{
	const sgt_dma_window win = { 0, 8 * kG - 1 }; // room for exactly 8 one-granule ranges
	sgt_iova_params p = { kShift, &win, 1, nullptr, 0, 2, 0, nullptr, false };
	Iova a;
	ASSERT_EQ(0, sgt_iova_new(&p, &a.v));
	uint64_t r[8], x;
	for (auto &addr : r)
		ASSERT_EQ(0, sgt_iova_alloc(a.v, kG, UINT64_MAX, &addr));
	ASSERT_EQ(0, sgt_iova_release(a.v, r[0], kG));
	ASSERT_EQ(0, sgt_iova_release(a.v, r[1], kG));
	EXPECT_FALSE(sgt_iova_is_live(a.v, r[0]));
	EXPECT_EQ(-SGT_ENOSPC, sgt_iova_alloc(a.v, kG, UINT64_MAX, &x))
		<< "both freed ranges are still in quarantine";
	ASSERT_EQ(0, sgt_iova_release(a.v, r[2], kG)); // pushes r[0] out
	ASSERT_EQ(0, sgt_iova_alloc(a.v, kG, UINT64_MAX, &x));
	EXPECT_EQ(r[0], x) << "the oldest quarantined range is the first back";
	expect_valid(a.v);
}

TEST(Iova, BadReleasesChangeNothing)
{
	const sgt_dma_window win = { 0, (1ull << 24) - 1 };
	sgt_iova_params p = { kShift, &win, 1, nullptr, 0, 0, 0, nullptr, false };
	Iova a;
	ASSERT_EQ(0, sgt_iova_new(&p, &a.v));
	uint64_t x;
	ASSERT_EQ(0, sgt_iova_alloc(a.v, 3 * kG, UINT64_MAX, &x));
	sgt_iova_stats before, after;
	sgt_iova_get_stats(a.v, &before);
	EXPECT_EQ(-SGT_EINVAL, sgt_iova_release(a.v, x, 2 * kG)) << "wrong length";
	EXPECT_EQ(-SGT_EINVAL, sgt_iova_release(a.v, x + kG, 2 * kG)) << "not the start";
	EXPECT_EQ(-SGT_EINVAL, sgt_iova_release(a.v, x + 1, 3 * kG)) << "unaligned";
	EXPECT_EQ(-SGT_EINVAL, sgt_iova_release(a.v, x + (1 << 20), 3 * kG)) << "never allocated";
	sgt_iova_get_stats(a.v, &after);
	EXPECT_EQ(before.live_ranges, after.live_ranges);
	EXPECT_EQ(before.free_granules, after.free_granules);
	ASSERT_EQ(0, sgt_iova_release(a.v, x, 3 * kG));
	EXPECT_EQ(-SGT_EINVAL, sgt_iova_release(a.v, x, 3 * kG)) << "double free";
	EXPECT_EQ(-SGT_EINVAL, sgt_iova_alloc(a.v, 0, UINT64_MAX, &x));
	expect_valid(a.v);
}

TEST(Iova, BadParameters)
{
	sgt_iova *v = nullptr;
	const sgt_dma_window two[2] = { { 0, 0xffff }, { 0x8000, 0x1ffff } };
	const sgt_dma_window back = { 0x2000, 0x1000 };
	const sgt_dma_window tiny = { 1, 0xffe }; // no whole granule inside
	sgt_iova_params p = { kShift, two, 2, nullptr, 0, 0, 0, nullptr, false };
	EXPECT_EQ(-SGT_EINVAL, sgt_iova_new(&p, &v)) << "overlapping windows";
	p = { kShift, &back, 1, nullptr, 0, 0, 0, nullptr, false };
	EXPECT_EQ(-SGT_EINVAL, sgt_iova_new(&p, &v)) << "start after last";
	p = { kShift, &tiny, 1, nullptr, 0, 0, 0, nullptr, false };
	EXPECT_EQ(-SGT_EINVAL, sgt_iova_new(&p, &v)) << "no usable granule";
	p = { 8, two, 1, nullptr, 0, 0, 0, nullptr, false };
	EXPECT_EQ(-SGT_EINVAL, sgt_iova_new(&p, &v)) << "granule too small";
	p = { kShift, two, 0, nullptr, 0, 0, 0, nullptr, false };
	EXPECT_EQ(-SGT_EINVAL, sgt_iova_new(&p, &v));
	EXPECT_EQ(-SGT_EINVAL, sgt_iova_new(nullptr, &v));
	EXPECT_EQ(nullptr, v);
}

TEST(Iova, AllocationFailuresChangeNothing)
{
	sgt_test_alloc ta;
	sgt_test_alloc_init(&ta);
	const sgt_dma_window win = { 0, (1ull << 40) - 1 };
	sgt_iova_params p = { kShift, &win, 1, nullptr, 0, 0, 0, &ta.alloc, false };
	sgt_iova *v = nullptr;
	int n;
	for (n = 1; n < 100; n++) {
		ta.fail_at = ta.num_attempts + n;
		int err = sgt_iova_new(&p, &v);
		if (!err)
			break;
		EXPECT_EQ(-SGT_ENOMEM, err);
		EXPECT_EQ(0u, sgt_test_alloc_live(&ta)) << "failure " << n;
	}
	EXPECT_GT(n, 2) << "construction allocates more than once";
	ta.fail_at = 0;
	// Drain the spare nodes with splits until an allocation must top them up, then fail that.
	uint64_t addr;
	int failures = 0;
	for (int i = 0; i < 200 && failures == 0; i++) {
		ta.fail_at = ta.num_attempts + 1;
		sgt_iova_stats before, after;
		sgt_iova_get_stats(v, &before);
		int err = sgt_iova_alloc(v, kG, UINT64_MAX, &addr);
		ta.fail_at = 0;
		if (err) {
			EXPECT_EQ(-SGT_ENOMEM, err);
			sgt_iova_get_stats(v, &after);
			EXPECT_EQ(before.live_ranges, after.live_ranges);
			EXPECT_EQ(before.free_granules, after.free_granules);
			failures++;
		}
		expect_valid(v);
	}
	EXPECT_EQ(1, failures) << "a top-up failure was reached and reported";
	sgt_iova_free(v);
	EXPECT_EQ(0u, sgt_test_alloc_live(&ta));
}

// ---- random sequences against a reference ----

struct Reference {
	uint64_t first_g, num_g; // the window, in granules
	std::vector<bool> reserved, busy; // busy: live or quarantined
	std::map<uint64_t, std::pair<uint64_t, uint64_t>> live; // addr -> (len, granules)
	std::deque<std::pair<uint64_t, uint64_t>> quarantine; // (first granule, granules)
	size_t q_len;

	void mark(uint64_t g, uint64_t n, bool v)
	{
		for (uint64_t i = 0; i < n; i++)
			busy[g - first_g + i] = v;
	}
	// Is there a fully free, usable, aligned slot of n granules ending at or below lim_g?
	bool slot_exists(uint64_t n, uint64_t lim_g) const
	{
		for (uint64_t g = (first_g + n - 1) / n * n; g + n - 1 < first_g + num_g; g += n) {
			if (g + n - 1 > lim_g)
				break;
			bool ok = true;
			for (uint64_t i = 0; i < n && ok; i++)
				ok = !busy[g - first_g + i] && !reserved[g - first_g + i];
			if (ok)
				return true;
		}
		return false;
	}
};

// With @caches per-thread caches, each step goes through one of them or the allocator itself.
void random_run(uint32_t seed, uint32_t q_len, uint32_t mag, int caches = 0,
		bool caller_locks = false)
{
	SCOPED_TRACE("seed " + std::to_string(seed) + " quarantine " + std::to_string(q_len) +
		     " magazine " + std::to_string(mag) + " caches " + std::to_string(caches));
	std::mt19937 rng(seed);
	const uint64_t first_g = 16, num_g = 1000; // unaligned window ends on purpose
	const sgt_dma_window win = { first_g * kG, (first_g + num_g) * kG - 1 };
	const sgt_dma_window res[2] = { { 300 * kG + 5, 310 * kG }, { 700 * kG, 700 * kG } };
	sgt_iova_params p = { kShift, &win, 1, res, 2, q_len, mag, nullptr, caller_locks };
	Iova a;
	ASSERT_EQ(0, sgt_iova_new(&p, &a.v));
	Reference ref{ first_g, num_g, std::vector<bool>(num_g), std::vector<bool>(num_g), {},
		       {},	q_len };
	for (uint64_t g = 300; g <= 310; g++)
		ref.reserved[g - first_g] = true;
	ref.reserved[700 - first_g] = true;
	std::vector<sgt_iova_cache *> cache((size_t)caches);
	for (auto &c : cache)
		ASSERT_EQ(0, sgt_iova_cache_new(a.v, &c));
	// nullptr: the allocator itself
	auto pick = [&]() { return caches && rng() % 3 ? cache[rng() % cache.size()] : nullptr; };
	auto alloc = [&](sgt_iova_cache *c, uint64_t len, uint64_t lim, uint64_t *addr) {
		return c ? sgt_iova_cache_alloc(c, len, lim, addr)
			 : sgt_iova_alloc(a.v, len, lim, addr);
	};

	for (int step = 0; step < 1500; step++) {
		bool do_alloc = ref.live.empty() || rng() % 100 < 55;
		if (do_alloc) {
			uint64_t len = 1 + rng() % (rng() % 8 == 0 ? 64 * kG : 4 * kG);
			uint64_t lim =
				rng() % 4 == 0 ? (first_g + rng() % num_g) * kG - 1 : UINT64_MAX;
			uint64_t g = (len + kG - 1) / kG, n = 1, addr = 0;
			while (n < g)
				n <<= 1;
			uint64_t lim_g = lim == UINT64_MAX ? UINT64_MAX : (lim + 1) / kG - 1;
			bool expect = ref.slot_exists(n, lim_g);
			sgt_iova_cache *c = pick();
			int err = alloc(c, len, lim, &addr);
			if (err == -SGT_ENOSPC && expect) {
				// The room may be in the caches, which are their threads' to give
				// back.
				for (auto *k : cache)
					sgt_iova_cache_drain(k);
				err = alloc(c, len, lim, &addr);
			}
			ASSERT_EQ(expect ? 0 : -SGT_ENOSPC, err)
				<< "step " << step << " len " << len << " limit " << lim;
			if (!err) {
				uint64_t ag = addr / kG;
				ASSERT_EQ(0u, ag % n) << "size-aligned";
				ASSERT_LE(ag + n - 1, lim_g);
				ASSERT_GE(ag, first_g);
				ASSERT_LT(ag + n - 1, first_g + num_g);
				for (uint64_t i = 0; i < n; i++) {
					ASSERT_FALSE(ref.busy[ag - first_g + i]) << "overlap";
					ASSERT_FALSE(ref.reserved[ag - first_g + i]) << "reserved";
				}
				ref.mark(ag, n, true);
				ref.live[addr] = { len, n };
			}
		} else {
			auto it = ref.live.begin();
			std::advance(it, rng() % ref.live.size());
			sgt_iova_cache *c = pick();
			ASSERT_EQ(-SGT_EINVAL,
				  c ? sgt_iova_cache_release(c, it->first, it->second.first + kG)
				    : sgt_iova_release(a.v, it->first, it->second.first + kG))
				<< "a wrong length";
			ASSERT_EQ(0, c ? sgt_iova_cache_release(c, it->first, it->second.first)
				       : sgt_iova_release(a.v, it->first, it->second.first));
			ASSERT_EQ(-SGT_EINVAL,
				  c ? sgt_iova_cache_release(c, it->first, it->second.first)
				    : sgt_iova_release(a.v, it->first, it->second.first))
				<< "a double free";
			ref.quarantine.push_back({ it->first / kG, it->second.second });
			ref.live.erase(it);
			if (ref.quarantine.size() > ref.q_len) {
				ref.mark(ref.quarantine.front().first,
					 ref.quarantine.front().second, false);
				ref.quarantine.pop_front();
			}
		}
		const char *why = nullptr;
		ASSERT_EQ(0, sgt_iova_check(a.v, &why)) << "step " << step << ": " << why;
		// Liveness of granules, against the reference's live ranges (their whole blocks).
		for (int probe = 0; probe < 16; probe++) {
			uint64_t g = first_g + rng() % num_g;
			bool live = false;
			for (const auto &r : ref.live)
				live |= g >= r.first / kG && g < r.first / kG + r.second.second;
			ASSERT_EQ(live, sgt_iova_is_live(a.v, g * kG + rng() % kG))
				<< "step " << step << " granule " << g;
		}
	}
	sgt_iova_stats before, after;
	sgt_iova_get_stats(a.v, &before);
	for (auto *c : cache)
		sgt_iova_cache_free(c);
	sgt_iova_get_stats(a.v, &after);
	EXPECT_EQ(before.free_granules, after.free_granules) << "a freed cache's blocks stay free";
	EXPECT_EQ(before.live_ranges, after.live_ranges);
	const char *why = nullptr;
	ASSERT_EQ(0, sgt_iova_check(a.v, &why)) << why;
}

TEST(Iova, RandomSequencesMatchTheReference)
{
	for (uint32_t seed = 1; seed <= 6; seed++)
		random_run(seed, 0, 0);
}

TEST(Iova, RandomSequencesWithMagazinesAndQuarantine)
{
	for (uint32_t seed = 1; seed <= 6; seed++) {
		random_run(seed, 0, 8);
		random_run(seed, 5, 8);
		random_run(seed, 3, 0);
	}
}

TEST(Iova, RandomSequencesThroughPerThreadCaches)
{
	for (uint32_t seed = 1; seed <= 6; seed++) {
		random_run(seed, 0, 0, 1);
		random_run(seed, 0, 8, 2);
		random_run(seed, 4, 8, 2);
		random_run(seed, 0, 8, 2, true); // the caller serialises: no lock of its own
	}
}

// Cached steps take no lock, so ranges hop between threads: every thread allocates through its
// own cache and releases ranges that others allocated, and two threads race to free each range
// twice. Exactly one free of each range succeeds, and the allocator adds up afterwards (run
// under ThreadSanitizer by the tsan preset).
TEST(Iova, ThreadsShareTheAllocatorThroughTheirCaches)
{
	const sgt_dma_window win = { 0, (1ull << 32) - 1 };
	sgt_iova_params p = { kShift, &win, 1, nullptr, 0, 0, 8, nullptr, false };
	Iova a;
	ASSERT_EQ(0, sgt_iova_new(&p, &a.v));
	constexpr int kThreads = 4, kRounds = 3000;
	std::vector<std::atomic<uint64_t>> inbox(kThreads * 64);
	std::atomic<int> freed{ 0 }, refused{ 0 }, allocated{ 0 };
	auto work = [&](int t) {
		sgt_iova_cache *c;
		if (sgt_iova_cache_new(a.v, &c))
			return;
		std::mt19937 rng((uint32_t)t);
		for (int r = 0; r < kRounds; r++) {
			uint64_t addr, len = kG * (1 + rng() % 4);
			if (sgt_iova_cache_alloc(c, len, UINT64_MAX, &addr) == 0) {
				allocated++;
				// Publish it (address and length in one word) for anyone to free.
				uint64_t old =
					inbox[rng() % inbox.size()].exchange(addr | (len / kG));
				if (old) {
					// Free what was there, twice, racing whoever else took it.
					for (int k = 0; k < 2; k++) {
						int err = sgt_iova_cache_release(
							c, old & ~(kG - 1), (old & (kG - 1)) * kG);
						(err ? refused : freed)++;
					}
				}
			}
		}
		sgt_iova_cache_free(c);
	};
	std::vector<std::thread> th;
	for (int t = 0; t < kThreads; t++)
		th.emplace_back(work, t);
	for (auto &x : th)
		x.join();
	int left = 0;
	for (auto &slot : inbox) {
		uint64_t v = slot.load();
		if (v) {
			left++;
			EXPECT_EQ(0, sgt_iova_release(a.v, v & ~(kG - 1), (v & (kG - 1)) * kG));
		}
	}
	EXPECT_EQ(allocated.load(), freed.load() + left) << "each range freed exactly once";
	EXPECT_EQ(freed.load(), refused.load()) << "every second free refused";
	sgt_iova_stats st;
	sgt_iova_get_stats(a.v, &st);
	EXPECT_EQ(0u, st.live_ranges);
	const char *why = nullptr;
	EXPECT_EQ(0, sgt_iova_check(a.v, &why)) << why;
}

} // namespace
