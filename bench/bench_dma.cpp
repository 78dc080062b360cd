// SPDX-License-Identifier: MIT
// DMA-side benchmarks: map+unmap cost per entry through the simulated IOMMU (1..4096 entries,
// each mode, with the core's DMA-API debug layer off as in production and on as in tests), IOVA alloc+free at 10% and 90% occupancy, and the churn case with 300k live
// one-page ranges (free a random one, allocate one), with per-allocation percentiles.
// A benchmark, not a test: it asserts nothing about speed.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "median_reporter.hpp"
#include "sgt/iova.h"
#include "sgt/simiommu.h"
#include "sgt_testkit.h"

namespace {

constexpr uint64_t kArenaPages = 2 * 4096 + 16;
const char *const kModeName[] = { "iommu", "direct", "bounce" };

// N one-page entries on every other frame, so the CPU side never merges.
void BM_MapUnmap(benchmark::State &state)
{
	auto mode = (sgt_simiommu_mode)state.range(0);
	uint64_t n = (uint64_t)state.range(1);
	bool debug = state.range(2) != 0;
	sgt_test_mem mem;
	if (sgt_test_mem_init(&mem, 12, 0x1000, kArenaPages))
		abort();
	std::vector<uint64_t> pfns(n);
	for (uint64_t i = 0; i < n; i++)
		pfns[i] = 0x1000 + 2 * i;
	sgt_simiommu_params p{};
	p.mode = mode;
	p.mem = &mem.mem;
	p.reserve_msi = true;
	p.bounce_pool = 64u << 20;
	sgt_simiommu *sim;
	if (sgt_simiommu_new(&p, &sim))
		abort();
	if (debug && sgt_dma_debug_enable(sgt_simiommu_device(sim), nullptr))
		abort();
	sgt_pages pages;
	sgt_pages_from_array(&pages, pfns.data(), n);
	sgt_table_params tp{ nullptr, &mem.mem, 0 };
	sgt_table t;
	if (sgt_table_init_from_pages(&t, &tp, &pages, 0, n * 4096, 4096, SGT_MAY_SLEEP))
		abort();
	uint32_t dma_ents = 0;
	for (auto _ : state) {
		sgt_mapping m;
		if (sgt_table_map(&t, sgt_simiommu_device(sim), SGT_DMA_BIDIRECTIONAL, 0, &m, SGT_MAY_SLEEP))
			abort();
		if (sgt_dma_info(&m.dma, &dma_ents) || sgt_mapping_unmap(&m, &t))
			abort();
	}
	sgt_table_cleanup(&t);
	sgt_simiommu_free(sim);
	sgt_test_mem_cleanup(&mem);
	state.SetLabel(std::string(kModeName[mode]) + (debug ? "+debug" : ""));
	state.counters["dma_segments"] = dma_ents;
	state.counters["ns_per_entry"] = benchmark::Counter(
		(double)n, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void map_args(benchmark::internal::Benchmark *b)
{
	for (int debug : { 0, 1 })
		for (int mode : { 0, 1, 2 })
			for (int64_t n : { 1, 16, 256, 4096 })
				b->Args({ mode, n, debug });
}

struct Space {
	sgt_iova *v = nullptr;
	std::vector<uint64_t> live;
	Space(uint64_t granules, uint32_t magazine)
	{
		const sgt_dma_window win = { 0, granules * 4096 - 1 };
		sgt_iova_params p = { 12, &win, 1, nullptr, 0, 0, magazine, nullptr };
		if (sgt_iova_new(&p, &v))
			abort();
	}
	~Space() { sgt_iova_free(v); }
	// Fill with one-page ranges, then free random ones down to @occupancy: a fragmented space.
	void fill(double occupancy, std::mt19937_64 &rng, uint64_t granules)
	{
		uint64_t a;
		while (sgt_iova_alloc(v, 4096, UINT64_MAX, &a) == 0)
			live.push_back(a);
		std::shuffle(live.begin(), live.end(), rng);
		while (live.size() > (size_t)(occupancy * (double)granules)) {
			if (sgt_iova_release(v, live.back(), 4096))
				abort();
			live.pop_back();
		}
	}
};

// alloc + free of one page at a given occupancy of a fragmented 2^20-page (4 GiB) space.
void BM_IovaAllocFree(benchmark::State &state)
{
	const uint64_t granules = 1u << 20;
	std::mt19937_64 rng(1);
	Space s(granules, 8);
	s.fill((double)state.range(0) / 100.0, rng, granules);
	for (auto _ : state) {
		uint64_t a;
		if (sgt_iova_alloc(s.v, 4096, UINT64_MAX, &a) || sgt_iova_release(s.v, a, 4096))
			abort();
	}
	state.SetLabel(std::to_string(state.range(0)) + "% occupied");
}

// 300k live one-page ranges in a 2^20-page space: free a random one, allocate one. Timed per
// allocation, so the summary can give percentiles and the worst case.
void BM_IovaChurn300k(benchmark::State &state)
{
	const uint64_t granules = 1u << 20;
	std::mt19937_64 rng(2);
	Space s(granules, (uint32_t)state.range(0));
	uint64_t a;
	for (int i = 0; i < 300000; i++) {
		if (sgt_iova_alloc(s.v, 4096, UINT64_MAX, &a))
			abort();
		s.live.push_back(a);
	}
	std::vector<double> alloc_ns;
	alloc_ns.reserve(1 << 20);
	for (auto _ : state) {
		size_t k = rng() % s.live.size();
		if (sgt_iova_release(s.v, s.live[k], 4096))
			abort();
		auto t0 = std::chrono::steady_clock::now();
		int err = sgt_iova_alloc(s.v, 4096, UINT64_MAX, &s.live[k]);
		auto t1 = std::chrono::steady_clock::now();
		if (err)
			abort();
		if (alloc_ns.size() < alloc_ns.capacity())
			alloc_ns.push_back((double)std::chrono::duration_cast<std::chrono::nanoseconds>(
						   t1 - t0)
						   .count());
	}
	std::sort(alloc_ns.begin(), alloc_ns.end());
	auto pct = [&](double q) { return alloc_ns[(size_t)(q * (double)(alloc_ns.size() - 1))]; };
	state.counters["alloc_p50_ns"] = pct(0.5);
	state.counters["alloc_p99_ns"] = pct(0.99);
	state.counters["alloc_max_ns"] = alloc_ns.back();
	state.SetLabel(state.range(0) ? "magazines on" : "magazines off");
}

BENCHMARK(BM_MapUnmap)->Apply(map_args)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IovaAllocFree)->Arg(10)->Arg(90)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_IovaChurn300k)->Arg(8)->Arg(0)->Unit(benchmark::kNanosecond);

class DmaSummary : public MedianReporter {
    public:
	void summary() const
	{
		printf("\n=== sgt DMA benchmark summary (medians) ===\n");
		printf("%-24s %-14s %8s %12s %14s\n", "map+unmap", "mode", "entries", "DMA segs",
		       "ns/entry");
		for (const auto &name : order) {
			if (name.rfind("BM_MapUnmap/", 0) != 0)
				continue;
			const Row &r = median.at(name);
			// BM_MapUnmap/<mode>/<entries>/<debug>
			size_t a = name.find('/', name.find('/') + 1) + 1;
			double n = (double)std::stoll(name.substr(a, name.find('/', a) - a));
			printf("%-24s %-14s %8.0f %12.0f %14.1f\n", "", r.label.c_str(), n,
			       counter(name, "dma_segments"), r.real_ns / n);
		}
		printf("\n%-34s %-16s %12s %10s %10s %10s\n", "IOVA", "case", "ns/op", "p50 ns",
		       "p99 ns", "max ns");
		for (const auto &name : order) {
			if (name.rfind("BM_Iova", 0) != 0)
				continue;
			const Row &r = median.at(name);
			bool churn = name.find("Churn") != std::string::npos;
			printf("%-34s %-16s %12.1f", name.c_str(), r.label.c_str(), r.real_ns);
			if (churn)
				printf(" %10.0f %10.0f %10.0f", counter(name, "alloc_p50_ns"),
				       counter(name, "alloc_p99_ns"), counter(name, "alloc_max_ns"));
			printf("\n");
		}
		printf("(IOVA ns/op: alloc+free for the occupancy rows; free+alloc for churn.)\n");
	}
};

} // namespace

int main(int argc, char **argv)
{
	return run_benchmarks<DmaSummary>(argc, argv);
}
