// SPDX-License-Identifier: MIT
// DMA-side benchmarks: map+unmap cost per entry through the simulated IOMMU (1..4096 entries,
// each mode, with the core's DMA-API debug layer off as in production and on as in tests), IOVA
// alloc+free at 10% and 90% occupancy, and the churn case with 300k live one-page ranges (free a
// random one, allocate one): through a per-thread cache (the fast path) against the allocator's
// own locked path (the in-run baseline), with medians of batches of pairs and every operation
// timed for the percentiles and the worst case.
// A benchmark, not a test: it asserts nothing about speed.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "median_reporter.hpp"
#include "sgt/iova.h"
#include "sgt/simiommu.h"
#include "sgt_testkit.h"

namespace
{

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
		if (sgt_table_map(&t, sgt_simiommu_device(sim), SGT_DMA_BIDIRECTIONAL, 0, &m,
				  SGT_MAY_SLEEP))
			abort();
		if (sgt_dma_info(&m.dma, &dma_ents) || sgt_mapping_unmap(&m, &t))
			abort();
	}
	sgt_table_cleanup(&t);
	sgt_simiommu_free(sim);
	sgt_test_mem_cleanup(&mem);
	state.SetLabel(std::string(kModeName[mode]) + (debug ? "+debug" : ""));
	state.counters["dma_segments"] = dma_ents;
	state.counters["ns_per_entry"] =
		benchmark::Counter((double)n, benchmark::Counter::kIsIterationInvariantRate |
						      benchmark::Counter::kInvert);
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
		sgt_iova_params p = { 12, &win, 1, nullptr, 0, 0, magazine, nullptr, false };
		if (sgt_iova_new(&p, &v))
			abort();
	}
	~Space()
	{
		sgt_iova_free(v);
	}
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
			alloc_ns.push_back(
				(double)std::chrono::duration_cast<std::chrono::nanoseconds>(t1 -
											     t0)
					.count());
	}
	std::sort(alloc_ns.begin(), alloc_ns.end());
	auto pct = [&](double q) { return alloc_ns[(size_t)(q * (double)(alloc_ns.size() - 1))]; };
	state.counters["alloc_p50_ns"] = pct(0.5);
	state.counters["alloc_p99_ns"] = pct(0.99);
	state.counters["alloc_max_ns"] = alloc_ns.back();
	state.SetLabel(state.range(0) ? "magazines on" : "magazines off");
}

// Cycle-counter timing for single operations of tens of nanoseconds (steady_clock costs about as
// much as what it would measure); calibrated against steady_clock once.
#if defined(__x86_64__)
#include <x86intrin.h>
uint64_t ticks()
{
	return __rdtsc();
}
#else
uint64_t ticks()
{
	return (uint64_t)std::chrono::steady_clock::now().time_since_epoch().count();
}
#endif

double ns_per_tick()
{
	static double r = [] {
		auto t0 = std::chrono::steady_clock::now();
		uint64_t c0 = ticks();
		while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(20))
			;
		uint64_t c1 = ticks();
		auto t1 = std::chrono::steady_clock::now();
		return (double)std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0)
			       .count() /
		       (double)(c1 - c0);
	}();
	return r;
}

// @batches batch means of @fn run kBatch times, in ns.
constexpr int kBatch = 512;
template <class Fn> std::vector<double> batch_means(int batches, Fn &&fn)
{
	std::vector<double> out;
	for (int b = 0; b < batches; b++) {
		auto t0 = std::chrono::steady_clock::now();
		for (int i = 0; i < kBatch; i++)
			fn();
		auto t1 = std::chrono::steady_clock::now();
		out.push_back((double)std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0)
				      .count() /
			      kBatch);
	}
	return out;
}

double pct(std::vector<double> v, double q)
{
	std::sort(v.begin(), v.end());
	return v[(size_t)(q * (double)(v.size() - 1))];
}

// One allocator with @live one-page ranges in a 2^20-page space, used through a per-thread cache
// (or, without one, through the allocator itself, magazines of 8: its own fast path before
// caches existed, and the baseline).
struct PathSpace {
	Space s{ 1u << 20, 8 };
	sgt_iova_cache *c = nullptr;
	std::vector<uint32_t> pick;
	size_t at = 0;
	PathSpace(bool cached, uint32_t live)
	{
		if (cached && sgt_iova_cache_new(s.v, &c))
			abort();
		uint64_t a;
		for (uint32_t i = 0; i < live; i++) {
			if (sgt_iova_alloc(s.v, 4096, UINT64_MAX, &a))
				abort();
			s.live.push_back(a);
		}
		std::mt19937_64 rng(3);
		pick.resize(1 << 20);
		for (auto &k : pick)
			k = (uint32_t)(rng() % s.live.size());
	}
	~PathSpace()
	{
		sgt_iova_cache_free(c);
	}
	PathSpace(const PathSpace &) = delete;
	// The next range to free. The array of live ranges (300k addresses, 2.4 MiB) is the
	// benchmark's bookkeeping, not the allocator's: its slots are prefetched a few picks ahead
	// so that its cache misses are not counted as the allocator's (perf put them at over half
	// of a pair's time). The allocator's own accesses are not prefetched.
	uint32_t next()
	{
		__builtin_prefetch(&s.live[pick[(at + 8) & (pick.size() - 1)]], 1);
		return pick[at++ & (pick.size() - 1)];
	}
	int alloc(uint64_t *a)
	{
		return c ? sgt_iova_cache_alloc(c, 4096, UINT64_MAX, a)
			 : sgt_iova_alloc(s.v, 4096, UINT64_MAX, a);
	}
	int release(uint64_t a)
	{
		return c ? sgt_iova_cache_release(c, a, 4096) : sgt_iova_release(s.v, a, 4096);
	}
};

// Every single operation of one fixed sequence, timed by the cycle counter, in a fresh allocator
// each time: bursts of 1 to 300 frees of random live ranges, each followed by as many allocations
// (bursts past a cache's depth make it flush to the allocator and refill from it, its slowest
// operations). @reps replays; each operation keeps its fastest time. An operation's time in one
// replay includes whatever the shared machine did to it (preemption, interrupts, a neighbour's
// cache traffic); the same operation hit in every replay is unlikely, so the per-operation
// minimum is the operation's own cost, and its max over the sequence is the worst case of the
// allocator's own work (the same sequence each replay: the same refills and flushes).
struct SingleOps {
	std::vector<double> free_ns, alloc_ns, any_ns, one_pass_max_ns;
};
SingleOps single_ops(bool cached, uint32_t live, int bursts, int reps)
{
	std::vector<uint64_t> best;
	std::vector<bool> is_free;
	SingleOps r;
	for (int rep = 0; rep < reps; rep++) {
		PathSpace p(cached, live);
		std::mt19937_64 rng(5);
		std::vector<uint32_t> order(live);
		for (uint32_t i = 0; i < live; i++)
			order[i] = i;
		uint64_t worst = 0;
		size_t op = 0;
		auto timed = [&](bool is_release, uint32_t k) {
			uint64_t c0 = ticks();
			int err = is_release ? p.release(p.s.live[k]) : p.alloc(&p.s.live[k]);
			uint64_t c1 = ticks();
			if (err)
				abort();
			if (rep == 0) {
				best.push_back(c1 - c0);
				is_free.push_back(is_release);
			}
			best[op] = std::min(best[op], c1 - c0);
			worst = std::max(worst, c1 - c0);
			op++;
		};
		for (int b = 0; b < bursts; b++) {
			uint32_t n = 1 + (uint32_t)(rng() % 300);
			// n distinct live ranges: a partial shuffle of the slots.
			for (uint32_t i = 0; i < n; i++)
				std::swap(order[i], order[i + rng() % (live - i)]);
			for (uint32_t i = 0; i < n; i++)
				timed(true, order[i]);
			for (uint32_t i = 0; i < n; i++)
				timed(false, order[i]);
		}
		r.one_pass_max_ns.push_back((double)worst * ns_per_tick());
	}
	for (size_t i = 0; i < best.size(); i++) {
		double ns = (double)best[i] * ns_per_tick();
		(is_free[i] ? r.free_ns : r.alloc_ns).push_back(ns);
		r.any_ns.push_back(ns);
	}
	return r;
}

// The issue-11 case: 300k live one-page ranges (arg 1; 3000 shows the same code with every
// range's mark in the cache), a random one freed and one allocated, through a cache (arg 0 = 1)
// or the allocator itself (0). Also a same-size alloc+free, and every single operation timed for
// p50, p99 and the worst case.
void BM_IovaPaths(benchmark::State &state)
{
	const bool cached = state.range(0) != 0;
	const uint32_t live = (uint32_t)state.range(1);
	std::vector<double> pair_ns, loop_ns, same_ns;
	SingleOps ops;
	for (auto _ : state) {
		PathSpace p(cached, live);
		uint64_t a;
		// The loop's own work, without the allocator: pick a range, read and write its slot
		// in the array of live ranges (prefetched, as in the pairs).
		loop_ns = batch_means(400, [&] {
			uint32_t k = p.next();
			benchmark::DoNotOptimize(p.s.live[k]);
			p.s.live[k] ^= 0;
		});
		pair_ns = batch_means(400, [&] { // free+alloc pairs
			uint32_t k = p.next();
			if (p.release(p.s.live[k]) || p.alloc(&p.s.live[k]))
				abort();
		});
		same_ns = batch_means(400, [&] { // same-size alloc+free
			if (p.alloc(&a) || p.release(a))
				abort();
		});
		ops = single_ops(cached, live, 700, 3);
	}
	// The machine's own worst case: the same timer around nothing, as often, in one pass.
	std::vector<double> empty_ns;
	for (int i = 0; i < 200000; i++) {
		uint64_t c0 = ticks();
		uint64_t c1 = ticks();
		empty_ns.push_back((double)(c1 - c0) * ns_per_tick());
	}
	state.counters["empty_max_ns"] = pct(empty_ns, 1.0);
	state.counters["pair_p50_ns"] = pct(pair_ns, 0.5);
	state.counters["loop_p50_ns"] = pct(loop_ns, 0.5);
	state.counters["same_p50_ns"] = pct(same_ns, 0.5);
	state.counters["free_p50_ns"] = pct(ops.free_ns, 0.5);
	state.counters["alloc_p50_ns"] = pct(ops.alloc_ns, 0.5);
	state.counters["op_p99_ns"] = pct(ops.any_ns, 0.99);
	state.counters["op_max_ns"] = pct(ops.any_ns, 1.0);
	state.counters["free_max_ns"] = pct(ops.free_ns, 1.0);
	state.counters["alloc_max_ns"] = pct(ops.alloc_ns, 1.0);
	state.counters["one_pass_max_ns"] = pct(ops.one_pass_max_ns, 0.5);
	state.SetLabel(std::string(cached ? "per-thread cache" : "allocator (locked)") + ", " +
		       std::to_string(live / 1000) + "k live");
}

BENCHMARK(BM_MapUnmap)->Apply(map_args)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IovaAllocFree)->Arg(10)->Arg(90)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_IovaChurn300k)->Arg(8)->Arg(0)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_IovaPaths)
	->ArgsProduct({ { 0, 1 }, { 300000, 3000 } })
	->Iterations(1)
	->Unit(benchmark::kMillisecond);

class DmaSummary : public MedianReporter
{
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
				       counter(name, "alloc_p99_ns"),
				       counter(name, "alloc_max_ns"));
			printf("\n");
		}
		printf("(IOVA ns/op: alloc+free for the occupancy rows; free+alloc for churn.)\n");
		printf("\n%-30s %9s %8s %9s %9s %9s %8s %9s %9s %9s\n", "IOVA paths", "pair p50",
		       "(loop)", "same p50", "free p50", "alloc p50", "op p99", "op max", "1-pass",
		       "(no-op)");
		for (uint32_t live : { 300000u, 3000u }) {
			double base = 0;
			for (int cached = 0; cached < 2; cached++) {
				std::string name = "BM_IovaPaths/" + std::to_string(cached) + "/" +
						   std::to_string(live);
				if (!median.count(name))
					continue;
				const Row &r = median.at(name);
				printf("%-30s %9.1f %8.1f %9.1f %9.1f %9.1f %8.1f %9.1f %9.1f "
				       "%9.1f\n",
				       r.label.c_str(), counter(name, "pair_p50_ns"),
				       counter(name, "loop_p50_ns"), counter(name, "same_p50_ns"),
				       counter(name, "free_p50_ns"), counter(name, "alloc_p50_ns"),
				       counter(name, "op_p99_ns"), counter(name, "op_max_ns"),
				       counter(name, "one_pass_max_ns"),
				       counter(name, "empty_max_ns"));
				if (!cached)
					base = counter(name, "pair_p50_ns");
				else if (base > 0)
					printf("%-30s %8.2fx  (free+alloc pair, cache over the "
					       "allocator's path)\n",
					       "", counter(name, "pair_p50_ns") / base);
			}
		}
		printf("(ns. pair and same-size: medians of batch means of 512; (loop): the same "
		       "loop without the allocator\n (the benchmark's array of live ranges is "
		       "prefetched a few pairs ahead in both: its misses are not the allocator's). "
		       "Single operations (free p50 .. op max) by cycle counter, "
		       "each\n the fastest of 3 replays of one fixed sequence (700 bursts of 1-300 "
		       "frees, "
		       "then as many allocations) in a fresh allocator:\n the operation's own "
		       "cost, "
		       "without what the machine did to one replay; 1-pass: the median over "
		       "replays "
		       "of one replay's max;\n (no-op): the timer around "
		       "nothing, its max.\n 3k live: the same code with every range's mark in the "
		       "cache. Goals at 300k: pair <= 50, same-size <= 30, no operation over "
		       "10000)\n");
	}
};

} // namespace

int main(int argc, char **argv)
{
	return run_benchmarks<DmaSummary>(argc, argv);
}
