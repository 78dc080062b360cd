// SPDX-License-Identifier: MIT
// The record-level mutator of fuzz inputs: its results are always well-formed inputs within the
// engine's limit, it keeps records whole (unlike a byte mutator), every mutation kind happens,
// inputs grow into sequences, and splices and crossovers really take records from the other input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

#include "sgt_mutator.h"
#include "sgt_record.h"

namespace
{

constexpr size_t kSeed = SGT_FUZZ_SEED_BYTES;
constexpr size_t kRec = SGT_FUZZ_RECORD;

// An input whose records are all different: record i is filled with (tag + i).
std::vector<uint8_t> tagged(size_t records, uint8_t tag)
{
	std::vector<uint8_t> v(kSeed + records * kRec, 0xee);
	for (size_t i = 0; i < records; i++)
		memset(&v[kSeed + i * kRec], tag + (int)i, kRec);
	return v;
}

std::vector<std::vector<uint8_t>> records_of(const uint8_t *d, size_t size)
{
	std::vector<std::vector<uint8_t>> r;
	for (size_t at = kSeed; at + kRec <= size; at += kRec)
		r.emplace_back(d + at, d + at + kRec);
	return r;
}

TEST(Mutator, ResultsAreWholeRecordsWithinTheLimit)
{
	uint64_t rng = 1, draw = 1;
	std::vector<uint8_t> buf(4096);
	size_t long_inputs = 0;
	for (int i = 0; i < 20000; i++) {
		draw = draw * 6364136223846793005u + 1442695040888963407u; // the test's own draws
		size_t size = (draw >> 20) % 1600, max = (draw >> 40) % 1700;
		size = std::min(size, max);
		for (size_t k = 0; k < size; k++)
			buf[k] = (uint8_t)(draw >> (k % 56));
		size_t out = sgt_mutate(buf.data(), size, max, &rng, nullptr, 0, nullptr, nullptr);
		ASSERT_LE(out, max) << "input " << size << " bytes, limit " << max;
		if (max >= kSeed) {
			ASSERT_GE(out, kSeed);
			ASSERT_EQ((out - kSeed) % kRec, 0u) << "a partial record";
			ASSERT_LE((out - kSeed) / kRec, (size_t)SGT_FUZZ_MAX_OPS);
			long_inputs += out > kSeed + 10 * kRec;
		}
	}
	EXPECT_GT(long_inputs, 1000u) << "the sizes tried were not varied";
}

TEST(Mutator, EveryMutationKindHappens)
{
	uint64_t rng = 7;
	std::set<int> seen;
	auto other = tagged(5, 0x80);
	for (int i = 0; i < 5000; i++) {
		auto in = tagged(1 + i % 20, 0x10);
		in.resize(SGT_FUZZ_MAX_LEN);
		sgt_mutation kind;
		sgt_mutate(in.data(), kSeed + (1 + i % 20) * kRec, in.size(), &rng, other.data(),
			   other.size(), nullptr, &kind);
		seen.insert(kind);
	}
	EXPECT_EQ(seen.size(), (size_t)SGT_MUT_NUM);
}

// A byte-level insert or delete would shift every later record; these mutations keep them.
TEST(Mutator, KeepsRecordsWhole)
{
	uint64_t rng = 3;
	for (int i = 0; i < 3000; i++) {
		auto in = tagged(20, 0x10);
		auto orig = records_of(in.data(), in.size());
		in.resize(SGT_FUZZ_MAX_LEN);
		size_t out = sgt_mutate(in.data(), kSeed + 20 * kRec, in.size(), &rng, nullptr, 0,
					nullptr, nullptr);
		auto now = records_of(in.data(), out);
		size_t intact = 0;
		for (auto &r : orig)
			intact += std::find(now.begin(), now.end(), r) != now.end();
		// At most three mutations, each touching at most one original record.
		ASSERT_GE(intact, orig.size() - 3) << "iteration " << i;
	}
}

TEST(Mutator, InputsGrowIntoSequences)
{
	uint64_t rng = 11;
	double total = 0;
	const int chains = 50;
	for (int c = 0; c < chains; c++) {
		std::vector<uint8_t> in(SGT_FUZZ_MAX_LEN, 0);
		size_t size = kSeed;
		for (int step = 0; step < 200; step++)
			size = sgt_mutate(in.data(), size, in.size(), &rng, nullptr, 0, nullptr,
					  nullptr);
		total += (double)(size - kSeed) / kRec;
	}
	double mean = total / chains;
	EXPECT_GE(mean, 10.0) << "inputs stay short";
	EXPECT_LE(mean, (double)SGT_FUZZ_MAX_OPS);
}

TEST(Mutator, SpliceTakesRecordsFromTheOtherInput)
{
	uint64_t rng = 5;
	auto other = tagged(6, 0x80);
	int spliced = 0;
	for (int i = 0; i < 2000; i++) {
		auto in = tagged(3, 0x10);
		in.resize(SGT_FUZZ_MAX_LEN);
		sgt_mutation kind;
		size_t out = sgt_mutate(in.data(), kSeed + 3 * kRec, in.size(), &rng, other.data(),
					other.size(), nullptr, &kind);
		if (kind != SGT_MUT_SPLICE)
			continue;
		for (auto &r : records_of(in.data(), out))
			if (r[0] >= 0x80 && r[0] < 0x86 && r == std::vector<uint8_t>(kRec, r[0])) {
				spliced++;
				break;
			}
	}
	EXPECT_GT(spliced, 50);
}

TEST(Mutator, CrossoverJoinsAPrefixOfOneAndASuffixOfTheOther)
{
	uint64_t rng = 9;
	auto a = tagged(10, 0x10), b = tagged(10, 0x40);
	a[0] = 0xab;
	std::vector<uint8_t> out(SGT_FUZZ_MAX_LEN);
	for (int i = 0; i < 500; i++) {
		size_t n = sgt_crossover(a.data(), a.size(), b.data(), b.size(), out.data(),
					 out.size(), &rng);
		ASSERT_GE(n, kSeed);
		ASSERT_EQ(out[0], 0xab) << "the seed comes from the first input";
		auto r = records_of(out.data(), n);
		size_t k = 0;
		for (; k < r.size() && r[k][0] < 0x40; k++)
			ASSERT_EQ(r[k][0], 0x10 + k) << "not a prefix of the first input";
		for (size_t j = k; j < r.size(); j++)
			ASSERT_EQ(r[j][0], r[k][0] + (j - k)) << "not a run of the second input";
	}
	EXPECT_EQ(sgt_crossover(a.data(), a.size(), b.data(), b.size(), out.data(), 3, &rng), 0u);
}

} // namespace
